"""Fill a template by patching its sheet XML inside the zip — never through openpyxl.

Loading a template (once) splits its worksheet XML into fixed text and one slot per
input or formula cell. Filling a record is then string assembly: each input slot
gets the record's value, each formula slot keeps its formula and gets the value the
Python scorer computed as its cached result, so readers that never recalculate
(previewers, python-calamine, pandas) see the right numbers. Everything else in
the package — styles, validations, names, protection — is copied byte for byte.
"""

from __future__ import annotations

import math
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
_ROW_HEIGHT = re.compile(r' ht="[^"]*"')
_ROW_HIDDEN = re.compile(r' hidden="[^"]*"')
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
    """One input or formula cell of the worksheet, its XML pre-built (UTF-8) around the value.

    A blank value writes ``empty``; a number goes between ``number`` and ``number_end``, a text (escaped)
    between ``text`` and ``text_end``, a formula's boolean between ``boolean`` and ``number_end``, a formula's
    number past the doubles' range (a sum of absurd amounts) as the error ``#NUM!`` between ``error`` and
    ``number_end``, as a spreadsheet computes it.
    """

    ref: str
    role: str
    empty: bytes
    number: bytes
    number_end: bytes
    text: bytes
    text_end: bytes
    boolean: bytes = b""
    error: bytes = b""

    @classmethod
    def build(cls, ref: str, role: str, attrs: str, f: str) -> "_Slot":
        """``attrs``: r="..." s="..." as in the template; ``f``: a formula cell's ``<f>`` element as in the template."""
        if role == INPUT:
            parts = (f"<c {attrs}/>", f"<c {attrs}><v>", "</v></c>",
                     f'<c {attrs} t="inlineStr"><is><t xml:space="preserve">', "</t></is></c>")
        else:
            parts = (f'<c {attrs} t="str">{f}<v></v></c>', f"<c {attrs}>{f}<v>", "</v></c>",
                     f'<c {attrs} t="str">{f}<v>', "</v></c>", f'<c {attrs} t="b">{f}<v>', f'<c {attrs} t="e">{f}<v>')
        return cls(ref, role, *(part.encode("utf-8") for part in parts))


def _formula_xml(f, group, formula: str) -> str | None:
    """The ``<f>`` element of a template's formula cell, rebuilt for the slot, or None when it is not the layout's
    formula (plain text; for a shared formula the group's index and range, the text on its first cell only)."""
    if f is None:
        return None
    text = f.text or ""
    if group is None:
        return f"<f>{xml_escape(text)}</f>" if f.get("t") is None and "=" + text == formula else None
    if f.get("t") != "shared" or f.get("si") != str(group.si):
        return None
    if f.get("ref") is None:
        return f'<f t="shared" si="{group.si}"/>' if not text else None
    if f.get("ref") != group.range or "=" + text != formula:
        return None
    return f'<f t="shared" ref="{group.range}" si="{group.si}">{xml_escape(text)}</f>'


@dataclass(frozen=True)
class _RowTag:
    """A ``<row>`` start tag of the worksheet, which a filled copy may hide or give a height."""

    row: int
    original: bytes
    attrs: str              #: the tag's attributes after r="…", without hidden
    unsized: str            #: the same without ht/customHeight
    close: str              #: "/" for an empty row
    was_hidden: bool = False    #: hidden in the template (a filled copy used as one): the new record decides


class _Scale:
    """The print scale of ``<pageSetup>`` (a filled copy whose rows grew may print smaller)."""

    def __init__(self, value: int):
        self.value = value


_BREAKS_PART = object()      #: where a filled copy's manual page breaks go
#: the dynamic places of the worksheet XML, found once when a template is opened
_TOKENS = re.compile(r'<c r="@@SLOT(?P<slot>\d+)@@"/>|<row r="(?P<row>\d+)"(?P<attrs>[^>]*)>|'
                     + re.escape(_BREAKS) + r'|(?P<scale><pageSetup [^>]*?scale=")(?P<pct>\d+)"')


class Template:
    """A loaded template, ready to be filled many times.

    Use :meth:`open`; then :meth:`fill_bytes` or :meth:`fill_to`.
    """

    def __init__(self, path: Path, layout: SheetLayout, members: list[Member | None],
                 sheet_member: str, parts: list, slots: list[_Slot], untitled: Member | None = None):
        self.path = path
        self.layout = layout
        self._members = members
        self._sheet_member = sheet_member
        self._parts = parts       #: static bytes, slot indices, _RowTag, _Scale and _BREAKS_PART, in order
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
        parts, slots = cls._split(sheet_xml, layout, where)
        template = cls(path, layout, members, sheet_member, parts, slots,
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
            f_xml = ""
            if spec.role == FORMULA:
                f_xml = _formula_xml(f, layout.shared_groups.get(ref), spec.formula)
                if f_xml is None:
                    raise TemplateError(f"单元格 {layout.sheet}!{ref} 的公式与版式不一致", where=where,
                                        hint="模板被改动过，请使用原始模板")
            style = cell.get("s")
            attrs = f'r="{ref}"' + (f' s="{style}"' if style is not None else "")
            slots.append(_Slot.build(ref, spec.role, attrs, f_xml))
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
        parts: list = []
        order, last = [], 0
        for m in _TOKENS.finditer(text):
            if m.start() > last:
                parts.append(text[last:m.start()].encode("utf-8"))
            if m.group("slot") is not None:
                order.append(int(m.group("slot")))
                parts.append(int(m.group("slot")))
            elif m.group("row") is not None:
                attrs, close = m.group("attrs"), ""
                if attrs.endswith("/"):
                    attrs, close = attrs[:-1], "/"
                shown = _ROW_HIDDEN.sub("", attrs)     # a filled copy used as a template has hidden rows already
                unsized = _ROW_HEIGHT.sub("", shown).replace(' customHeight="1"', "")
                parts.append(_RowTag(int(m.group("row")), m.group(0).encode("utf-8"), shown, unsized, close,
                                     shown != attrs))
            elif m.group("scale") is not None:
                parts += [m.group("scale").encode("utf-8"), _Scale(int(m.group("pct"))), b'"']
            else:
                parts.append(_BREAKS_PART)
            last = m.end()
        parts.append(text[last:].encode("utf-8"))
        if order != list(range(len(slots))) or parts.count(_BREAKS_PART) != 1:
            raise TemplateError("模板工作表结构异常", where=where)
        return parts, slots

    # ------------------------------------------------------------------ filling
    @staticmethod
    def _cell_xml(slot: _Slot, value: Any) -> bytes:
        if value is None or value == "":
            return slot.empty
        if isinstance(value, bool):
            if slot.role == INPUT:
                return slot.text + str(value).encode() + slot.text_end
            return slot.boolean + str(int(value)).encode() + slot.number_end
        if isinstance(value, (int, float)):
            if slot.error and not math.isfinite(value):
                return slot.error + b"#NUM!" + slot.number_end
            return slot.number + number_text(value).encode() + slot.number_end
        return slot.text + xml_escape(str(value)).encode("utf-8") + slot.text_end

    def evaluate(self, record: Any) -> tuple[Any, Any]:
        """Pad the record to the template's rows and score it."""
        return self.layout.evaluate(record)

    def sheet_xml(self, record: Any) -> tuple[bytes, Any]:
        sheet, result, _breaks = self._sheet(record)
        return sheet, result

    def _sheet(self, record: Any) -> tuple[bytes, Any, list[int]]:
        """(the worksheet XML, the scorer's result, the form's page breaks)."""
        L = self.layout
        rec, result = self.evaluate(record)
        inputs = L.input_values(rec)
        values = {**inputs, **L.formula_values(result, rec)}
        hidden, breaks = L.print_rows(rec)
        hidden = set(hidden)
        fit = L.fit_formulas
        heights = L.fitted_heights({**inputs, **{ref: values[ref] for ref in fit}} if fit else inputs)
        scale = self._scale(hidden, heights) if heights else None
        cell, get, slots = self._cell_xml, values.get, self._slots
        out = []
        append = out.append
        for part in self._parts:
            kind = part.__class__
            if kind is bytes:
                append(part)
            elif kind is int:
                slot = slots[part]
                append(cell(slot, get(slot.ref)))
            elif kind is _RowTag:
                append(_row_tag(part, hidden, heights))
            elif kind is _Scale:
                append(str(scale if scale is not None and scale < part.value else part.value).encode())
            else:
                append(_breaks_xml(breaks))
        return b"".join(out), result, breaks

    def _scale(self, hidden: set[int], heights: dict[int, float]) -> int | None:
        """Rows that grew for their text still print on the page they belong to: the print scale shrinks to fit
        (never below :data:`MIN_SCALE`; past that the page breaks as usual). None: the template's scale."""
        L = self.layout
        rows = [r for r in L.one_page_rows if r not in hidden]
        if not rows or not any(r in heights for r in rows):
            return None
        last = col_index(L.print_last_col) if L.print_last_col else len(L.form.columns)
        widths = [float(c["width"]) for c in L.form.columns[:last]]
        need = page_scale(widths, [heights.get(r, L.row_heights.get(r, DEFAULT_ROW_HEIGHT)) for r in rows])
        return max(need, MIN_SCALE)

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


def _row_tag(tag: _RowTag, hidden: set[int], heights: dict[int, float]) -> bytes:
    """A row's start tag in a filled copy: hidden (``hidden="1"``) and/or as high as its text needs."""
    row = tag.row
    if row not in hidden and row not in heights and not tag.was_hidden:
        return tag.original
    flag = ' hidden="1"' if row in hidden else ""
    if row not in heights:
        return f'<row r="{row}"{flag}{tag.attrs}{tag.close}>'.encode()
    return f'<row r="{row}"{flag}{tag.unsized} ht="{heights[row]:g}" customHeight="1"{tag.close}>'.encode()


def _breaks_xml(breaks: list[int]) -> bytes:
    """The manual page breaks of a filled copy."""
    if not breaks:
        return b""
    items = "".join(f'<brk id="{row}" max="16383" man="1"/>' for row in breaks)
    return f'<rowBreaks count="{len(breaks)}" manualBreakCount="{len(breaks)}">{items}</rowBreaks>'.encode()
