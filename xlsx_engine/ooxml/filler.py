"""Fill a template by patching its sheet XML inside the zip — never through openpyxl.

Loading a template (once) splits its worksheet XML into fixed text and one slot per
input or formula cell. Filling a record is then string assembly: each input slot
gets the record's value, each formula slot keeps its formula and gets the value the
Python scorer computed as its cached result, so readers that never recalculate
(previewers, python-calamine, pandas) see the right numbers. Everything else in
the package — styles, validations, names, protection — is copied byte for byte.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from lxml import etree

from xlsx_engine.kernel.errors import TemplateError
from xlsx_engine.ooxml.cells import col_index
from xlsx_engine.ooxml.pagesetup import DEFAULT_ROW_HEIGHT, page_scale
from xlsx_engine.ooxml.safezip import (
    atomic_write_bytes,
    open_workbook_zip,
    parse_xml,
    read_member,
)
from xlsx_engine.ooxml.sheetmodel import FORMULA, INPUT, SheetLayout
from xlsx_engine.ooxml.zipwriter import Member, build_zip

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
      "pr": "http://schemas.openxmlformats.org/package/2006/relationships",
      "cp": "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties",
      "vt": "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"}
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SLOT = "\x00SLOT{}\x00"
_BREAKS = "<!--jxzp:rowBreaks-->"
_ROW_START = re.compile(r'<row r="(\d+)"')
_ROW_TAG = re.compile(r'<row r="(\d+)"([^>]*)>')
_ROW_HEIGHT = re.compile(r' ht="[^"]*"')
_SCALE = re.compile(r'<pageSetup [^>]*?scale="(\d+)"')
_PRINT_TITLES = re.compile(r'<definedName name="_xlnm\.Print_Titles"[^>]*>[^<]*</definedName>')
MIN_SCALE = 55     #: % — below this a filled copy's text would be too small to read: the page breaks instead
#: worksheet children that precede <rowBreaks> (ECMA-376 CT_Worksheet order), last first
_BEFORE_BREAKS = ("headerFooter", "pageSetup", "pageMargins", "printOptions", "hyperlinks", "dataValidations",
                  "conditionalFormatting", "phoneticPr", "mergeCells", "sheetProtection", "sheetData")


def xml_escape(text: str) -> str:
    text = _ILLEGAL_XML.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def number_text(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def read_custom_properties(zf: zipfile.ZipFile, where: str = "") -> dict[str, str]:
    """The workbook's custom document properties (模板编号, 模板版本, 评分规则, 版式指纹)."""
    if "docProps/custom.xml" not in zf.namelist():
        return {}
    root = parse_xml(read_member(zf, "docProps/custom.xml", where, 1 << 20), where)
    out = {}
    for prop in root.findall("cp:property", NS):
        values = [child.text or "" for child in prop]
        out[prop.get("name")] = values[0] if values else ""
    return out


def custom_properties_xml(props: dict[str, str]) -> bytes:
    """docProps/custom.xml holding string properties (as Excel, WPS and LibreOffice write them)."""
    items = "".join(
        f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{pid}" name="{xml_escape(name)}">'
        f"<vt:lpwstr>{xml_escape(str(value))}</vt:lpwstr></property>"
        for pid, (name, value) in enumerate(props.items(), 2))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Properties xmlns="{NS["cp"]}" xmlns:vt="{NS["vt"]}">{items}</Properties>').encode("utf-8")


def sheet_paths(zf: zipfile.ZipFile, where: str = "") -> dict[str, str]:
    """Sheet name -> zip path of its XML, resolved through the workbook's relationships."""
    wb = parse_xml(read_member(zf, "xl/workbook.xml", where, 8 << 20), where)
    rels = parse_xml(read_member(zf, "xl/_rels/workbook.xml.rels", where, 1 << 20), where)
    targets = {}
    for rel in rels.findall("pr:Relationship", NS):
        target = rel.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else "xl/" + target
        targets[rel.get("Id")] = target
    out = {}
    for sheet in wb.iterfind("m:sheets/m:sheet", NS):
        rid = sheet.get(f"{{{NS['r']}}}id")
        if rid in targets:
            out[sheet.get("name")] = targets[rid]
    return out


@dataclass(frozen=True)
class _Slot:
    """One input or formula cell of the worksheet, its XML pre-built around the value.

    A blank value writes ``empty``; a number goes between ``number`` and ``number_end``, a text (escaped)
    between ``text`` and ``text_end``, a formula's boolean between ``boolean`` and ``number_end``.
    """

    ref: str
    role: str
    empty: str
    number: str
    number_end: str
    text: str
    text_end: str
    boolean: str = ""

    @classmethod
    def build(cls, ref: str, role: str, attrs: str, formula: str) -> "_Slot":
        """``attrs``: r="..." s="..." as in the template; ``formula``: escaped formula text."""
        if role == INPUT:
            return cls(ref, role, f"<c {attrs}/>", f"<c {attrs}><v>", "</v></c>",
                       f'<c {attrs} t="inlineStr"><is><t xml:space="preserve">', "</t></is></c>")
        f = f"<f>{formula}</f>"
        return cls(ref, role, f'<c {attrs} t="str">{f}<v></v></c>', f"<c {attrs}>{f}<v>", "</v></c>",
                   f'<c {attrs} t="str">{f}<v>', "</v></c>", f'<c {attrs} t="b">{f}<v>')


class Template:
    """A loaded template, ready to be filled many times.

    Use :meth:`open`; then :meth:`fill_bytes` or :meth:`fill_to`.
    """

    def __init__(self, path: Path, layout: SheetLayout, members: list[Member | None],
                 sheet_member: str, pieces: list[str], slots: list[_Slot], untitled: Member | None = None):
        self.path = path
        self.layout = layout
        self._members = members
        self._sheet_member = sheet_member
        self._pieces = pieces
        self._slots = slots
        self._meta: dict[str, str] = {}
        #: xl/workbook.xml without the print titles, for a copy whose form prints on one page: its header row is not
        #: repeated on the pages of its own that follow (报告信息, 综述)
        self._untitled = untitled

    @property
    def profile(self):
        return self.layout.profile

    @classmethod
    def open(cls, path: str | Path, layout_for_meta: Callable[[dict[str, str]], SheetLayout]) -> "Template":
        """Load and verify a template.

        Args:
            path: the template file.
            layout_for_meta: the layout a template's identity properties name (``forms.registry.layout_for_meta``;
                ``forms.registry.open_template`` passes it).

        Raises:
            WorkbookError: the file cannot be read.
            TemplateError: the file is not one of our templates, or its layout was altered.
        """
        path = Path(path)
        where = str(path)
        with open_workbook_zip(path) as zf:
            meta = read_custom_properties(zf, where)
            if "评分规则" not in meta:
                raise TemplateError("不是本系统生成的模板（缺少模板标识）", where=where,
                                    hint="请使用 templates/ 中的模板，或用 jxzp build 生成")
            layout = layout_for_meta(meta)
            if meta.get("版式指纹") != layout.fingerprint():
                raise TemplateError("模板的版式指纹与程序不一致，模板可能被改动或版本不匹配", where=where,
                                    hint="请用 jxzp build 重新生成模板")
            paths = sheet_paths(zf, where)
            if layout.sheet not in paths:
                raise TemplateError(f"找不到工作表“{layout.sheet}”", where=where)
            sheet_member = paths[layout.sheet]
            sheet_xml = zf.read(sheet_member)
            # every member but the worksheet is compressed once, here; None marks the worksheet's place
            members = [None if info.filename == sheet_member else Member.deflate(info.filename, zf.read(info.filename))
                       for info in zf.infolist()]
            book = zf.read("xl/workbook.xml").decode("utf-8")
        untitled = _PRINT_TITLES.sub("", book)
        pieces, slots = cls._split(sheet_xml, layout, where)
        template = cls(path, layout, members, sheet_member, pieces, slots,
                       Member.deflate("xl/workbook.xml", untitled.encode("utf-8")) if untitled != book else None)
        template._meta = meta
        return template

    @staticmethod
    def _split(sheet_xml: bytes, layout: SheetLayout, where: str) -> tuple[list[str], list[_Slot]]:
        root = parse_xml(sheet_xml, where)
        slots: list[_Slot] = []
        wanted = {ref: c for ref, c in layout.cells.items() if c.role in (INPUT, FORMULA)}
        found = set()
        for cell in root.iterfind("m:sheetData/m:row/m:c", NS):
            ref = cell.get("r")
            spec = wanted.get(ref)
            if spec is None:
                continue
            f = cell.find("m:f", NS)
            if spec.role == FORMULA:
                if f is None or "=" + (f.text or "") != spec.formula:
                    raise TemplateError(f"单元格 {layout.sheet}!{ref} 的公式与版式不一致", where=where,
                                        hint="模板被改动过，请使用原始模板")
            style = cell.get("s")
            attrs = f'r="{ref}"' + (f' s="{style}"' if style is not None else "")
            slots.append(_Slot.build(ref, spec.role, attrs, xml_escape(f.text or "") if f is not None else ""))
            marker = etree.Element(cell.tag)
            marker.tail = cell.tail
            parent = cell.getparent()
            parent.replace(cell, marker)
            marker.set("r", _SLOT.format(len(slots) - 1).replace("\x00", "@@"))
            found.add(ref)
        missing = set(wanted) - found
        if missing:
            raise TemplateError(f"模板缺少 {len(missing)} 个单元格（如 {sorted(missing)[0]}）", where=where)
        _mark_row_breaks(root, where)
        text = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True).decode("utf-8")
        parts = re.split(r'<c r="@@SLOT(\d+)@@"/>', text)
        pieces = parts[0::2]
        order = [int(i) for i in parts[1::2]]
        if order != list(range(len(slots))):
            raise TemplateError("模板工作表结构异常", where=where)
        return pieces, slots

    # ------------------------------------------------------------------ filling
    @staticmethod
    def _cell_xml(slot: _Slot, value: Any) -> str:
        if value is None or value == "":
            return slot.empty
        if isinstance(value, bool):
            if slot.role == INPUT:
                return slot.text + str(value) + slot.text_end
            return slot.boolean + str(int(value)) + slot.number_end
        if isinstance(value, (int, float)):
            return slot.number + number_text(value) + slot.number_end
        return slot.text + xml_escape(str(value)) + slot.text_end

    def evaluate(self, record: Any) -> tuple[Any, Any]:
        """Pad the record to the template's rows and score it."""
        return self.layout.evaluate(record)

    def sheet_xml(self, record: Any) -> tuple[bytes, Any]:
        sheet, result, _breaks = self._sheet(record)
        return sheet, result

    def _sheet(self, record: Any) -> tuple[bytes, Any, list[int]]:
        """(the worksheet XML, the scorer's result, the form's page breaks)."""
        rec, result = self.evaluate(record)
        inputs = self.layout.input_values(rec)
        values = {**inputs, **self.layout.formula_values(result, rec)}
        cell = self._cell_xml
        get = values.get
        out = [self._pieces[0]]
        for slot, piece in zip(self._slots, self._pieces[1:]):
            out.append(cell(slot, get(slot.ref)))
            out.append(piece)
        hidden, breaks = self.layout.print_rows(rec)
        fit = self.layout.fit_formulas
        heights = self.layout.fitted_heights({**inputs, **{ref: values[ref] for ref in fit}} if fit else inputs)
        sheet = _print_rows("".join(out), set(hidden), breaks, heights)
        if heights:
            sheet = self._rescale(sheet, set(hidden), heights)
        return sheet.encode("utf-8"), result, breaks

    def _rescale(self, sheet: str, hidden: set[int], heights: dict[int, float]) -> str:
        """Rows that grew for their text still print on the page they belong to: the print scale shrinks to fit
        (never below :data:`MIN_SCALE`; past that the page breaks as usual)."""
        L = self.layout
        rows = [r for r in L.one_page_rows if r not in hidden]
        if not rows or not any(r in heights for r in rows):
            return sheet
        last = col_index(L.print_last_col) if L.print_last_col else len(L.form.columns)
        widths = [float(c["width"]) for c in L.form.columns[:last]]
        need = page_scale(widths, [heights.get(r, L.row_heights.get(r, DEFAULT_ROW_HEIGHT)) for r in rows])
        m = _SCALE.search(sheet)
        if m is None or need >= int(m.group(1)):
            return sheet
        return sheet[:m.start(1)] + str(max(need, MIN_SCALE)) + sheet[m.end(1):]

    def fill_bytes(self, record: Any, *, identity: dict[str, str] | None = None) -> tuple[bytes, Any]:
        """Fill the template with a record. Thread-safe: the template is never modified.

        Args:
            record: the project's cell values.
            identity: extra document properties (e.g. 项目编码, 单位名称) that let a returned copy be
                matched to the master workbook; added to the template's 模板编号/版本/规则/指纹.

        Returns:
            (the .xlsx bytes, the scorer's result).
        """
        sheet, result, breaks = self._sheet(record)
        filled = Member.deflate_fast(self._sheet_member, sheet)
        untitled = self._untitled if not self.layout.repeats_header(breaks) else None
        members = [filled if m is None else untitled if untitled and m.name == "xl/workbook.xml" else m
                   for m in self._members]
        if identity:
            props = Member.deflate_fast("docProps/custom.xml", custom_properties_xml({**self._meta, **identity}))
            members = [props if m.name == "docProps/custom.xml" else m for m in members]
        return build_zip(members), result

    def fill_to(self, record: Any, out: str | Path, *, identity: dict[str, str] | None = None) -> Any:
        """Fill and write atomically to ``out`` (a temporary file, then a rename)."""
        data, result = self.fill_bytes(record, identity=identity)
        atomic_write_bytes(out, data)
        return result


def _mark_row_breaks(root: etree._Element, where: str) -> None:
    """Replace the template's manual page breaks by a marker where a filled copy's breaks go."""
    for old in root.findall("m:rowBreaks", NS):
        root.remove(old)
    marker = etree.Comment(_BREAKS[4:-3])
    for tag in _BEFORE_BREAKS:
        anchor = root.find(f"m:{tag}", NS)
        if anchor is not None:
            anchor.addnext(marker)
            return
    raise TemplateError("模板工作表结构异常（缺少 sheetData）", where=where)


def _print_rows(sheet: str, hidden: set[int], breaks: list[int], heights: dict[int, float] | None = None) -> str:
    """Hide rows (``<row hidden="1">``), give rows whose text would be clipped the height it needs, and write the
    manual page breaks of a filled copy.

    Cell text is escaped, so ``<row r=`` occurs only as a row's start tag.
    """
    heights = heights or {}
    if hidden or heights:
        def row_tag(m: re.Match) -> str:        # one pass over the rows for both changes
            row = int(m.group(1))
            if row not in hidden and row not in heights:
                return m.group(0)
            attrs, close = m.group(2), ""
            if attrs.endswith("/"):
                attrs, close = attrs[:-1], "/"
            flag = ' hidden="1"' if row in hidden else ""
            if row not in heights:
                return f'<row r="{row}"{flag}{attrs}{close}>'
            attrs = _ROW_HEIGHT.sub("", attrs).replace(' customHeight="1"', "")
            return f'<row r="{row}"{flag}{attrs} ht="{heights[row]:g}" customHeight="1"{close}>'
        sheet = _ROW_TAG.sub(row_tag, sheet)
    xml = ""
    if breaks:
        items = "".join(f'<brk id="{row}" max="16383" man="1"/>' for row in breaks)
        xml = f'<rowBreaks count="{len(breaks)}" manualBreakCount="{len(breaks)}">{items}</rowBreaks>'
    return sheet.replace(_BREAKS, xml, 1)
