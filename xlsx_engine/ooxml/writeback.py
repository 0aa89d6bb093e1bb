"""Write the 评价报告综述 into the workbook's own 综述 sheet by patching the zip (never through openpyxl).

The first run adds a worksheet part, its content-type override, a workbook relationship and a
``<sheet>`` entry (appended last, so sheet indices in defined names do not move); later runs
replace the content of the existing 综述 sheet and touch nothing else. Every other member of
the package is copied byte for byte (content-wise), so the 自评表, its formulas, names, styles,
validations and protection are exactly as before; ``docProps/app.xml`` is updated only when it
lists the sheet titles. The new sheet is protected (``<sheetProtection sheet="1">``) with the
same password hash as the 自评表, and uses only cell styles that already exist in the workbook.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from xlsx_engine.kernel.errors import WorkbookError
from xlsx_engine.ooxml.filler import NS, xml_escape
from xlsx_engine.ooxml.safezip import (
    atomic_write_bytes,
    open_workbook_zip,
    parse_xml,
    read_member,
)
from xlsx_engine.ooxml.sheetmodel import text_height, text_lines
from xlsx_engine.ooxml.zipwriter import Member, build_zip

SHEET_NAME = "综述"
WORKSHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
WORKSHEET_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
EP_NS = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
COLUMN_WIDTH = 72           #: characters of the default font (fits A4 portrait)
DEFAULT_PASSWORD = "jxzp"   #: the templates' protection password (templates/forms/project.yaml)


def password_hash(password: str) -> str:
    """The legacy Excel sheet-protection hash (``password="CBAB"`` for ``jxzp``)."""
    h = 0
    for ch in reversed(password):
        h = ((h >> 14) & 0x01) | ((h << 1) & 0x7FFF)
        h ^= ord(ch)
    h = ((h >> 14) & 0x01) | ((h << 1) & 0x7FFF)
    h ^= len(password) ^ 0xCE4B
    return format(h, "X")


@dataclass
class Styles:
    """Indices of existing cell formats used for the 综述 sheet."""

    title: int = 0
    heading: int = 0
    body: int = 0


def choose_styles(styles_xml: bytes | None) -> Styles:
    """Pick existing ``cellXfs`` entries: a large bold title, a bold left-aligned heading, a wrapped body.

    Only formats already in ``xl/styles.xml`` are used, so that part stays untouched.
    """
    if not styles_xml:
        return Styles()
    root = parse_xml(styles_xml)
    m = NS["m"]
    fonts = []
    for font in root.iterfind(f"{{{m}}}fonts/{{{m}}}font"):
        sz = font.find(f"{{{m}}}sz")
        color = font.find(f"{{{m}}}color")
        fonts.append({"bold": font.find(f"{{{m}}}b") is not None and font.find(f"{{{m}}}b").get("val", "1") != "0",
                      "size": float(sz.get("val")) if sz is not None else 11.0,
                      "red": color is not None and (color.get("rgb") or "").upper().endswith("C00000")})
    xfs = []
    for i, xf in enumerate(root.iterfind(f"{{{m}}}cellXfs/{{{m}}}xf")):
        al = xf.find(f"{{{m}}}alignment")
        pr = xf.find(f"{{{m}}}protection")
        font = fonts[int(xf.get("fontId", 0))] if int(xf.get("fontId", 0)) < len(fonts) else fonts[0]
        xfs.append({"i": i, "font": font, "h": al.get("horizontal") if al is not None else None,
                    "wrap": al is not None and al.get("wrapText") in ("1", "true"),
                    "fill": xf.get("fillId", "0"), "border": xf.get("borderId", "0"),
                    "locked": pr is None or pr.get("locked") not in ("0", "false")})

    def best(cands, key):
        cands = [x for x in cands if x["locked"] and not x["font"]["red"]]
        return max(cands, key=key)["i"] if cands else 0

    title = best([x for x in xfs if x["font"]["bold"]], lambda x: (x["font"]["size"], x["fill"] == "0"))
    heading = best([x for x in xfs if x["font"]["bold"] and x["h"] in (None, "left", "general") and x["wrap"]],
                   lambda x: (x["font"]["size"] <= 12, x["font"]["size"]))
    body = best([x for x in xfs if not x["font"]["bold"] and x["h"] in ("left", "general", "justify") and x["wrap"]],
                lambda x: (x["fill"] == "0", x["border"] == "0", x["font"]["size"]))
    return Styles(title, heading, body)


def _height(text: str, size: float) -> float:
    """Points the row of a paragraph needs: the one count of wrapped lines and line height of every printout."""
    return text_height(text_lines(text, COLUMN_WIDTH, size), size)


def sheet_rows(blocks: list, title: str, subtitle: str = "") -> list[tuple[str, str]]:
    """(kind, text) rows of the 综述 sheet: title, subtitle, then headings and paragraphs."""
    rows = [("title", title)]
    if subtitle:
        rows.append(("body", subtitle))
    for b in blocks:
        if b.kind == "heading":
            rows.append(("heading", b.text))
        elif b.kind == "table":
            rows.extend(("body", "　".join(r)) for r in b.rows)
        else:
            rows.append(("body", "\u3000\u3000" + b.text))
    return rows


def sheet_xml(rows: list[tuple[str, str]], styles: Styles, password: str | None) -> bytes:
    """The worksheet XML of the 综述 sheet (inline strings, one column, protected)."""
    sizes = {"title": 16.0, "heading": 11.0, "body": 10.0}
    out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           f'<worksheet xmlns="{NS["m"]}" xmlns:r="{NS["r"]}">'
           '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
           f'<dimension ref="A1:A{max(1, len(rows))}"/>'
           '<sheetViews><sheetView workbookViewId="0" showGridLines="0"/></sheetViews>'
           '<sheetFormatPr defaultRowHeight="15"/>'
           f'<cols><col min="1" max="1" width="{COLUMN_WIDTH}" customWidth="1"/></cols><sheetData>']
    for r, (kind, text) in enumerate(rows, 1):
        style = getattr(styles, kind)
        ht = 30 if kind == "title" else _height(text, sizes[kind])
        out.append(f'<row r="{r}" ht="{ht:g}" customHeight="1"><c r="A{r}" s="{style}" t="inlineStr"><is>'
                   f'<t xml:space="preserve">{xml_escape(text)}</t></is></c></row>')
    out.append("</sheetData>")
    pw = f' password="{password}"' if password else ""
    out.append(f'<sheetProtection sheet="1" objects="1" scenarios="1" formatColumns="0" formatRows="0"{pw}/>')
    out.append('<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
               '<pageSetup paperSize="9" orientation="portrait" fitToWidth="1" fitToHeight="0"/></worksheet>')
    return "".join(out).encode("utf-8")


def _tostring(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _rel_targets(rels) -> dict[str, str]:
    out = {}
    for rel in rels.findall("pr:Relationship", NS):
        target = rel.get("Target", "")
        out[rel.get("Id")] = target.lstrip("/") if target.startswith("/") else "xl/" + target
    return out


def _main_password(zf: zipfile.ZipFile, sheet_path: str | None, where: str) -> str | None:
    if sheet_path and sheet_path in zf.namelist():
        m = re.search(rb"<sheetProtection\b[^>]*\bpassword=\"([0-9A-Fa-f]{1,4})\"", read_member(zf, sheet_path, where))
        if m:
            return m.group(1).decode()
    return None


def _update_app(app_xml: bytes) -> bytes | None:
    """Add the sheet title to docProps/app.xml when it lists titles (Excel-saved files); None: leave as is."""
    root = parse_xml(app_xml)
    titles = root.find(f"{{{EP_NS}}}TitlesOfParts/{{{VT_NS}}}vector")
    pairs = root.find(f"{{{EP_NS}}}HeadingPairs/{{{VT_NS}}}vector")
    if titles is None or pairs is None:
        return None
    variants = pairs.findall(f"{{{VT_NS}}}variant")
    idx = None
    for k in range(0, len(variants) - 1, 2):
        label = variants[k].find(f"{{{VT_NS}}}lpstr")
        if label is not None and label.text in ("工作表", "Worksheets"):
            idx = k
    if idx is None:
        return None
    count = variants[idx + 1].find(f"{{{VT_NS}}}i4")
    if count is None:
        return None
    before = sum(int(variants[k + 1].find(f"{{{VT_NS}}}i4").text) for k in range(0, idx, 2)
                 if variants[k + 1].find(f"{{{VT_NS}}}i4") is not None)
    position = before + int(count.text)
    count.text = str(int(count.text) + 1)
    item = etree.Element(f"{{{VT_NS}}}lpstr")
    item.text = SHEET_NAME
    titles.insert(position, item)
    titles.set("size", str(len(titles)))
    return _tostring(root)


def patch_workbook(path: str | Path, rows: list[tuple[str, str]]) -> bytes:
    """The bytes of ``path`` with the 综述 sheet added or replaced.

    Raises:
        WorkbookError: the file cannot be read or its package structure is broken.
    """
    where = str(path)
    with open_workbook_zip(path) as zf:
        names = zf.namelist()
        wb = parse_xml(read_member(zf, "xl/workbook.xml", where, 8 << 20), where)
        rels = parse_xml(read_member(zf, "xl/_rels/workbook.xml.rels", where, 1 << 20), where)
        targets = _rel_targets(rels)
        sheets_el = wb.find("m:sheets", NS)
        if sheets_el is None:
            raise WorkbookError("xl/workbook.xml 中没有工作表列表", where=where)
        sheets = sheets_el.findall("m:sheet", NS)
        by_name = {s.get("name"): targets.get(s.get(f"{{{NS['r']}}}id")) for s in sheets}
        first_sheet = by_name.get(sheets[0].get("name")) if sheets else None
        password = _main_password(zf, first_sheet, where) or password_hash(DEFAULT_PASSWORD)
        styles = choose_styles(read_member(zf, "xl/styles.xml", where, 8 << 20) if "xl/styles.xml" in names else None)
        content = sheet_xml(rows, styles, password)
        replaced: dict[str, bytes] = {}
        existing = by_name.get(SHEET_NAME)
        if existing:
            replaced[existing] = content
            added = None
        else:
            n = 1
            while f"xl/worksheets/sheet{n}.xml" in names:
                n += 1
            added = f"xl/worksheets/sheet{n}.xml"
            ids = {rel.get("Id") for rel in rels.findall("pr:Relationship", NS)}
            k = 1
            while f"rId{k}" in ids:
                k += 1
            rid = f"rId{k}"
            rel = etree.SubElement(rels, f"{{{NS['pr']}}}Relationship")
            rel.set("Type", WORKSHEET_REL)
            rel.set("Target", f"/{added}")
            rel.set("Id", rid)
            sheet_id = max([int(s.get("sheetId", 0)) for s in sheets] + [0]) + 1
            new = etree.SubElement(sheets_el, f"{{{NS['m']}}}sheet")
            new.set("name", SHEET_NAME)
            new.set("sheetId", str(sheet_id))
            new.set("state", "visible")
            new.set(f"{{{NS['r']}}}id", rid)
            ct = parse_xml(read_member(zf, "[Content_Types].xml", where, 1 << 20), where)
            override = etree.SubElement(ct, f"{{{CT_NS}}}Override")
            override.set("PartName", f"/{added}")
            override.set("ContentType", WORKSHEET_CT)
            replaced["xl/workbook.xml"] = _tostring(wb)
            replaced["xl/_rels/workbook.xml.rels"] = _tostring(rels)
            replaced["[Content_Types].xml"] = _tostring(ct)
            if "docProps/app.xml" in names:
                app = _update_app(read_member(zf, "docProps/app.xml", where, 1 << 20))
                if app is not None:
                    replaced["docProps/app.xml"] = app
        members = []
        for info in zf.infolist():
            data = replaced.get(info.filename)
            if data is None:
                data = read_member(zf, info.filename, where)
            members.append(Member.deflate(info.filename, data))
        if added:
            members.append(Member.deflate(added, content))
    return build_zip(members)


def write_back(path: str | Path, blocks: list, *, title: str = "评价报告综述（文字部分）",
               subtitle: str = "") -> None:
    """Write the 综述 into the workbook's 综述 sheet, atomically (temporary file, fsync, rename).

    Raises:
        WorkbookError: the workbook cannot be read.
    """
    atomic_write_bytes(path, patch_workbook(path, sheet_rows(blocks, title, subtitle)))
