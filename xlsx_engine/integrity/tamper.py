"""Template integrity: read any .xlsx package safely and find every alteration of one of our templates.

Two parts:

* **A safe, sparse package reader** (:class:`Package`, :class:`SheetXML`) used by every check and by the
  legacy import. Everything goes through :func:`~xlsx_engine.safezip.open_workbook_zip` (size, ratio,
  encryption, OLE) and :func:`~xlsx_engine.safezip.parse_xml` (no DTD, no entities); each zip member is
  read with its own size limit; cells are kept in a dict (a stray cell at XFD1048576 costs one entry, not a
  dense grid). Cached values are read from the XML exactly as stored; nothing is recalculated or executed.
* **Integrity checks** (:func:`check_template`) of a workbook that claims to come from one of our templates,
  against the :class:`~xlsx_engine.layout.Layout` that built it: identity (template/version/profile/
  fingerprint), sheets, protection, defined names, inserted/deleted rows and columns (inferred from where the
  names and the fixed labels went), every formula cell (typed-over or edited), every label and locked
  constant, the hidden dictionary sheet, merges, data validation, content outside the form, macros.

The findings model lives in :mod:`xlsx_engine.integrity.checks`; this module only adds findings to a collector.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from lxml import etree

from xlsx_engine.forms.registry import form_for
from xlsx_engine.kernel.errors import WorkbookError
from xlsx_engine.kernel.files import not_regular
from xlsx_engine.kernel.findings import ERROR, INFO, WARNING
from xlsx_engine.ooxml.cells import NameRef, col_index, col_letters, parse_name_ref
from xlsx_engine.ooxml.formulanorm import canonical_formula
from xlsx_engine.ooxml.safezip import (
    OLE_MAGIC,
    contains,
    open_workbook_zip,
    parse_xml,
    read_member,
)
from xlsx_engine.ooxml.sheetmodel import CONST, FORMULA, IDENTITY_KEYS, INPUT, LABEL
from xlsx_engine.ooxml.writeback import password_hash

M = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PR_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CP_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
_ROW, _C, _V, _F, _IS, _T, _RPH = (f"{{{M}}}{t}" for t in ("row", "c", "v", "f", "is", "t", "rPh"))
_SHEET_DATA = f"{{{M}}}sheetData"

MAX_SHEET_BYTES = 32 << 20      #: one worksheet's XML, expanded (a filled 自评表 is about 100 KB)
MAX_CELLS = 500_000             #: cells kept from one worksheet
MAX_PART_BYTES = 16 << 20       #: workbook.xml, styles, shared strings, rels, custom properties
MAX_ROW, MAX_COL = 1048576, 16384
#: Sheets the engine itself adds to a filled workbook: the 综述 (narrative write-back) and the add-in's 校验结果.
ENGINE_SHEETS = ("综述", "校验结果")
MACRO_SUFFIXES = (".xlsm", ".xltm", ".xlam")
LEGACY_SUFFIXES = (".xls", ".et", ".ett", ".xlt")

_REF = re.compile(r"^\$?([A-Z]{1,3})\$?([0-9]{1,7})$")


@functools.lru_cache(maxsize=65536)
def parse_ref(ref: str | None) -> tuple[int, int] | None:
    """"C3" → (3, 3); None for anything that is not a valid A1 reference inside the sheet limits.

    Cached: every copy of a form repeats the same few hundred references (a bounded cache, so a file with a
    million distinct ones costs no more memory than its own cells)."""
    if not ref or len(ref) > 16:
        return None
    m = _REF.match(ref)
    if not m:
        return None
    row, col = int(m.group(2)), col_index(m.group(1))
    if not (1 <= row <= MAX_ROW and 1 <= col <= MAX_COL):
        return None
    return row, col


def a1(row: int, col: int) -> str:
    return f"{col_letters(col)}{row}"


def span_text(ref: NameRef) -> str:
    """"C3" or "C3:C5" for a name's range (without enumerating its cells)."""
    first, last = a1(*ref.first), a1(*ref.last)
    return first if first == last else f"{first}:{last}"


# ============================================================================ file sniffing

def sniff(path: Path) -> tuple[str, str]:
    """What a file is, from its bytes: (kind, Chinese description).

    kind: "zip", "encrypted" (OLE with an EncryptedPackage stream: a password-protected .xlsx), "xls"
    (OLE with a Workbook/Book stream: .xls or WPS .et), "ole" (another OLE file, e.g. a Word .doc),
    "empty", "irregular" (a folder, pipe or device: never opened, a pipe would block), "other".
    """
    why = not_regular(path)
    if why:
        return "irregular", why
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
            if head.startswith(OLE_MAGIC):
                body = head + fh.read(32 << 20)
            else:
                body = head
    except OSError:
        return "other", "无法读取"
    if not head:
        return "empty", "空文件"
    if head.startswith(b"PK"):
        return "zip", "zip 压缩包"
    if head.startswith(OLE_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in body:
            return "encrypted", "设置了打开密码的加密工作簿"
        if "Workbook".encode("utf-16-le") in body or "Book".encode("utf-16-le") in body:
            return "xls", "旧版 Excel/WPS 工作簿（.xls/.et）"
        if "WordDocument".encode("utf-16-le") in body:
            return "ole", "Word 文档（.doc）"
        return "ole", "OLE 复合文档（旧版 Office 格式）"
    return "other", "非 Excel 文件"


# ============================================================================ sheet XML

@dataclass(slots=True)
class XCell:
    """One cell as stored: its cached value, its formula text (without "=") and its style index.

    A cell of a shared formula other than its first (``<f t="shared" si/>``) keeps the first cell's position and
    text in :attr:`shared`; its own text is worked out only when :attr:`formula` is read, because translating a
    long formula costs about a millisecond and an untouched copy's cells are compared by their group instead
    (:func:`compare_cells`).
    """

    row: int
    col: int
    value: Any = None        #: float | str | bool | None; errors are kept as their text ("#DIV/0!")
    text: str | None = None  #: the formula as stored; None: no formula, or a shared formula not yet expanded
    has_v: bool = False      #: a value or cached result is stored (False: a formula saved without result)
    style: int = 0
    error: bool = False
    shared: tuple[int, int, str] | None = None   #: (row, column, text) of the shared formula's first cell

    @property
    def formula(self) -> str | None:
        """The cell's formula text (without "="), a shared formula expanded to this cell; None: no formula."""
        if self.text is None and self.shared is not None:
            row, col, text = self.shared
            self.text = translate_formula(text, a1(row, col), self.ref)
        return self.text

    @property
    def has_formula(self) -> bool:
        return self.text is not None or self.shared is not None

    @property
    def source(self) -> str | None:
        """The formula as written in the file: a shared formula's first cell's text. Moving a formula changes
        only its references, so what it calls (DDE, WEBSERVICE) shows here without expanding it."""
        return self.shared[2] if self.text is None and self.shared is not None else self.text

    @property
    def ref(self) -> str:
        return a1(self.row, self.col)

    @property
    def empty(self) -> bool:
        return not self.has_formula and (self.value is None or self.value == "")


@dataclass
class SheetXML:
    """The parts of one worksheet the checks need."""

    name: str
    cells: dict[tuple[int, int], XCell] = field(default_factory=dict)
    protection: dict[str, str] | None = None
    merges: list[str] = field(default_factory=list)
    validations: list[tuple[str, str, str]] = field(default_factory=list)   #: (type, formula1, sqref)
    bad_refs: int = 0        #: cells whose reference was missing or invalid
    hidden_rows: set[int] = field(default_factory=set)
    hidden_cols: set[int] = field(default_factory=set)
    #: (sqref, rule formulas) of each conditional format, formulas upper-cased without spaces
    conditional: list[tuple[str, str]] = field(default_factory=list)
    #: every formula text the part stores, once (each cell's :attr:`XCell.source` but ""): what a screen of the
    #: formulas (:func:`~xlsx_engine.bureau.display.display_findings`) reads without walking the cells. None: a
    #: sheet not read from a worksheet part (a Word table, an .xls grid) — walk its cells
    sources: set[str] | None = None

    def get(self, ref: str) -> XCell | None:
        rc = parse_ref(ref)
        return self.cells.get(rc) if rc else None

    def value(self, ref: str) -> Any:
        return held(self.get(ref))


def held(cell: XCell | None) -> Any:
    """What a cell holds as an input: its value as stored; None for no cell or an empty text."""
    if cell is None:
        return None
    value = cell.value
    return None if value == "" else value


def _text_of(element) -> str:
    """Text of an <is> or <si>: every <t>, skipping phonetic runs (<rPh>)."""
    if len(element) == 1 and element[0].tag == _T:      # the usual plain string
        return element[0].text or ""
    parts = []
    for t in element.iter(_T):
        parent = t.getparent()
        if parent is not None and parent.tag == _RPH:
            continue
        parts.append(t.text or "")
    return "".join(parts)


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return value


def parse_sheet(data: bytes, name: str, shared: list[str], where: str) -> SheetXML:
    """Parse a worksheet's XML into a sparse :class:`SheetXML`.

    A shared formula's cells other than its first keep the group (:attr:`XCell.shared`) and are expanded when
    their formula is read. Cells with an invalid
    reference are placed after their row's previous cell, as Excel does for cells without ``r``.
    Empty (styled-only) cells are skipped. The XML goes through :func:`~xlsx_engine.safezip.parse_xml`,
    which refuses DTDs and entity declarations.

    Two readers, one reading: a sheet whose cells are all in the shapes spreadsheet programs write is scanned
    (:func:`_scanned`, in about two thirds of the time), any other is parsed into a tree and walked (:func:`_walked`);
    both give the same cells, compared in tests/test_tamper.py on every shipped sheet, odd and damaged ones.
    """
    lean = _without_empty_cells(data)
    sheet = SheetXML(name)
    root = facts = None
    if len(lean) <= _SCAN_BYTES and (lean is not data or _plain_markup(lean)):
        root, facts = _scanned(lean, sheet, shared, where) or (None, None)
    if root is None:
        root = _walked(data, lean, sheet, shared, where)
    protection, merges, validations, hidden_cols, conditional = facts or _sheet_facts(root)
    sheet.protection = dict(protection) if protection is not None else None
    sheet.merges, sheet.validations = list(merges), list(validations)
    sheet.hidden_cols, sheet.conditional = set(hidden_cols), list(conditional)
    for row in _X_HIDDEN_ROWS(root):
        if (row.get("r") or "").isdigit():
            sheet.hidden_rows.add(int(row.get("r")))
    return sheet


def _sheet_facts(root) -> tuple:
    """What a sheet holds besides its cells and rows, from the document's root: (protection's attributes, merges,
    validations, hidden columns, conditional formats), as tuples (:func:`_scanned` keeps them for the next copy)."""
    prot = root.find(f"{{{M}}}sheetProtection")
    validations = []
    for dv in root.iterfind(f"{{{M}}}dataValidations/{{{M}}}dataValidation"):
        f1 = dv.find(f"{{{M}}}formula1")
        formula1 = (f1.text or "") if f1 is not None else ""
        validations.append((dv.get("type") or "", formula1, dv.get("sqref") or ""))
    hidden_cols: set[int] = set()
    for col in _X_HIDDEN_COLS(root):
        hidden_cols.update(_span(col.get("min"), col.get("max")))
    conditional = []
    for cf in root.iter(f"{{{M}}}conditionalFormatting"):
        rules = "|".join(f"{r.get('type')}:{r.get('operator') or ''}:" + ";".join(
            _SPACE.sub("", (fm.text or "").upper()) for fm in r.iter(f"{{{M}}}formula"))
            for r in cf.iter(f"{{{M}}}cfRule"))
        conditional.append((cf.get("sqref") or "", rules))
    return (tuple(prot.attrib.items()) if prot is not None else None, tuple(ref for ref in _X_MERGES(root) if ref),
            tuple(validations), frozenset(hidden_cols), tuple(conditional))


def _walked(data: bytes, lean: bytes, sheet: SheetXML, shared: list[str], where: str):
    """The cells of ``lean`` (``data`` without its empty cells) read from the tree libxml2 builds, into ``sheet``;
    the document's root. Every shape of cell and sheet; :func:`_scanned` reads the usual ones quicker."""
    try:
        root = parse_xml(lean, where)
    except WorkbookError:
        if lean is data:
            raise
        root, lean = parse_xml(data, where), data    # the message names the line and column of the file's own text
    name = sheet.name
    masters: dict[str, tuple[int, int, str]] = {}
    children: list[tuple[XCell, str]] = []
    # the usual case: every cell has its reference; keep the cells with content, skip the styled empties
    picked, unplaced = _picked_cells(root, len(lean))
    refs = [c.get("r") for c in picked]
    placed = not unplaced and None not in refs
    if placed:
        located = zip(map(parse_ref, refs), picked)
    else:                           # a cell without ``r`` (any, even empty) moves the ones after it: walk them all
        if lean is not data:        # ... including the empty cells taken out before parsing
            root = parse_xml(data, where)
        located = _cells_by_position(root, sheet)
    cells = sheet.cells
    nshared = len(shared)
    # fewer picked cells than the limit cannot reach it (a cell walk without references may: count there)
    guard = not placed or len(picked) >= MAX_CELLS
    styles: dict[str | None, int] = {None: 0}     # the few style indexes of a sheet, converted once each
    sources = sheet.sources = set()
    for rc, c in located:
        if rc is None:
            sheet.bad_refs += 1
            continue
        n = len(c)
        if not n:                 # an empty (styled) cell: nothing to read
            continue
        if guard and len(cells) >= MAX_CELLS:
            raise WorkbookError(f"工作表“{name}”的单元格超过 {MAX_CELLS} 个，不像自评表，拒绝读取", where=where,
                                hint="请删除表格以外的内容后重新提交")
        # the hot loop of every check: the children (the last <v> and <f>, the first <is>), one XCell built with
        # all its fields; the usual shapes — one child, or <f> then <v> — without a loop
        v_el = f_el = is_el = None
        first = c[0]
        tag = first.tag
        if n == 1:
            if tag == _V:
                v_el = first
            elif tag == _IS:
                is_el = first
            elif tag == _F:
                f_el = first
        elif n == 2 and tag == _F and (second := c[1]).tag == _V:
            f_el, v_el = first, second
        else:
            for child in c:
                tag = child.tag
                if tag == _V:
                    v_el = child
                elif tag == _F:
                    f_el = child
                elif tag == _IS and is_el is None:
                    is_el = child
        s, t = c.get("s"), c.get("t")
        style = styles.get(s)
        if style is None:
            style = styles[s] = int(s) if s.isdigit() and len(s) < 7 else 0
        value, has_v, error = None, False, False
        if t == "inlineStr":
            if is_el is not None:
                value, has_v = (is_el[0].text or "") if len(is_el) == 1 and is_el[0].tag == _T \
                    else _text_of(is_el), True
            elif v_el is not None:
                value, has_v = v_el.text or "", True
        elif v_el is not None:
            text = v_el.text
            if t is None or t == "n":
                has_v = bool(text)    # <v></v> on a number: no result stored
                value = _number(text)
            elif t == "str":
                value, has_v = text or "", True
            elif t == "s":
                has_v = True
                idx = _number(text)
                value = shared[int(idx)] if idx is not None and idx == int(idx) and 0 <= idx < nshared else None
            elif t == "d":
                value, has_v = text or "", True
            elif t == "b":
                value, has_v = text in ("1", "true"), True
            elif t == "e":
                value, has_v, error = text or "#N/A", True, True
            else:
                value = _number(text)
                has_v = bool(text)
        if f_el is None:
            cells[rc] = XCell(rc[0], rc[1], value, None, has_v, style, error)
            continue
        ftext = f_el.text or ""
        if ftext:
            sources.add(ftext)
        if f_el.get("t") == "shared":
            si = f_el.get("si") or ""
            if ftext:
                masters[si] = (rc[0], rc[1], ftext)
                cells[rc] = XCell(rc[0], rc[1], value, ftext, has_v, style, error)
            else:
                cell = cells[rc] = XCell(rc[0], rc[1], value, None, has_v, style, error)
                children.append((cell, si))
        else:
            cells[rc] = XCell(rc[0], rc[1], value, ftext, has_v, style, error)
    _link_shared(children, masters)
    return root


def _link_shared(children: list[tuple[XCell, str]], masters: dict[str, tuple[int, int, str]]) -> None:
    """Each later cell of a shared formula gets its group's first cell (an empty formula when there is none)."""
    for cell, si in children:
        master = masters.get(si)
        if master:
            cell.shared = master
        else:
            cell.text = ""


#: an empty cell with its reference (``<c r="D3" s="8" t="n"/>`` or ``…></c>``, two thirds of a form's cells: the
#: borders of the blank area), directly followed by another cell or the end of its row
#: (possessive where Python has them, 3.11 on: a third cheaper, as the cells with content fail without backtracking;
#: the same matches either way, since letters, digits and the quote after them are disjoint)
_EMPTY_CELL = re.compile((rb'<c r="[A-Z]++[0-9]++"(?: s="[0-9]++")?+(?: t="[a-zA-Z]++")?+(?:/>|></c>)(?=<c |</row>)'
                          if sys.version_info >= (3, 11) else
                          rb'<c r="[A-Z]+[0-9]+"(?: s="[0-9]+")?(?: t="[a-zA-Z]+")?(?:/>|></c>)(?=<c |</row>)'))


def _without_empty_cells(data: bytes) -> bytes:
    """The worksheet's XML without the empty cells the reader skips anyway: a third less for libxml2 to build and
    free and for the reader to step over (8 % of reading a returned form, counted by bench/bench_instructions.py).

    What is read is the same, cell for cell (tests/test_tamper.py compares both readings): only inside the first
    ``<sheetData`` … last ``</sheetData>`` (so inside the document element), only when the part is UTF-8
    (:func:`_in_utf8`) and has no ``<!`` (comment, CDATA, DOCTYPE), no processing instruction but the declaration
    at its start, and no NUL byte (a UTF-16 part, where these bytes can be the halves of text characters) — so
    every ``<`` is a tag, and every match a real empty element with a reference, not text. Followed directly by ``<c `` it has a later sibling and no
    tail, so no parent's text or child count changes to nothing; followed by ``</row>`` its parent is the row. A
    removed complete element cannot make a malformed document well-formed. A cell without a reference anywhere
    makes :func:`parse_sheet` walk the unchanged text, where empty cells give the positions.
    """
    start = data.find(b"<sheetData")
    end = data.rfind(b"</sheetData>")
    if start < 0 or end <= start or not _plain_markup(data):
        return data
    body = _EMPTY_CELL.sub(b"", data[start:end])
    return data[:start] + body + data[end:] if len(body) != end - start else data


def _plain_markup(data: bytes) -> bool:
    """Whether every "<" of a part's bytes starts a tag: it is read as UTF-8 (:func:`_in_utf8`), has no NUL byte (a
    UTF-16 part, where these bytes can be the halves of text characters), no ``<!`` (comment, CDATA, DOCTYPE) and no
    processing instruction but the declaration at its start."""
    declared = data.startswith(b"<?xml ") or data.startswith(b"\xef\xbb\xbf<?xml ")
    if b"\x00" in data or contains(data, b"<!", b"!") or not _in_utf8(data, declared):
        return False
    # a "?" after the declaration (one memchr) is rare: only then are the "<?" counted
    return not (data.find(b"?", data.find(b"?>") + 2 if declared else 0) >= 0 and data.count(b"<?") > declared)


#: the encoding an XML declaration names
_DECLARED_ENCODING = re.compile(rb"""\sencoding\s*=\s*["']([^"']*)["']""")


def _in_utf8(data: bytes, declared: bool) -> bool:
    """Whether a part is read as UTF-8, where a byte "<" is a "<": no declaration (then it starts with "<", after a
    UTF-8 byte-order mark) or one that names UTF-8 or no encoding. In another encoding libxml2 decodes — UTF-7 above
    all, where "<![CDATA[" is "+ADwAIQ-[CDATA[" — markup can hide from the byte tests."""
    if not declared:
        return data.startswith(b"<") or data.startswith(b"\xef\xbb\xbf<")
    end = data.find(b"?>")
    if end < 0:
        return False
    m = _DECLARED_ENCODING.search(data, 0, end)
    return m is None or m.group(1).lower() in (b"utf-8", b"utf8")


# ----------------------------------------------------------------------------- the quick reading of usual sheets

#: the text of an element: characters and the five named or a numeric character reference (XML's own; any other
#: ``&`` makes the sheet's text unusual and it is read by libxml2, which refuses it)
_SCAN_TEXT = r"[^<&]*+(?:&(?:amp|lt|gt|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});[^<&]*+)*+"
#: row tags (open, close, empty) between two cells
_SCAN_ROWS = r"(?:</row>|<row(?:/|\s[^<>]*+)?>)*+"
#: one cell in the shapes Excel, WPS, LibreOffice and this program write, with the row tags before it. Groups:
#: 1 row tags, 2 reference, 3 style, 4 type, 5 formula, 6/7 a shared formula's group and text (its first cell),
#: 8 a shared formula's group (a later cell), 9 value, 10 inline string. A cell without children matches too.
_SCAN_CELL = re.compile(
    rf'({_SCAN_ROWS})<c r="([A-Z]{{1,3}}[0-9]{{1,7}})"(?: s="([0-9]{{1,6}})")?+(?: t="([a-zA-Z]{{1,9}})")?+'
    rf'(?:/>|>(?:<f(?: aca="false")?>({_SCAN_TEXT})</f>'
    rf'|<f t="shared" ref="[A-Z0-9:]{{2,21}}" si="([0-9]{{1,6}})">({_SCAN_TEXT})</f>'
    rf'|<f t="shared" si="([0-9]{{1,6}})"(?:/>|></f>))?+'
    rf'(?:<v>({_SCAN_TEXT})</v>|<is><t(?: xml:space="preserve")?>({_SCAN_TEXT})</t></is>)?+</c>)'
    if sys.version_info >= (3, 11) else "(?!)")          # possessive quantifiers: Python 3.11 on
_SCAN_TAIL = re.compile(_SCAN_ROWS if sys.version_info >= (3, 11) else "(?!)")
#: the control characters XML forbids in text, and "\r" (which libxml2 turns into "\n")
_SCAN_CONTROLS = bytes(range(0x09)) + b"\x0b\x0c" + bytes(range(0x0e, 0x20)) + b"\r"
#: a sheet up to this size is scanned when its shapes are the usual ones (a filled form: ~100 KB)
_SCAN_BYTES = 1 << 20 if sys.version_info >= (3, 11) else -1
_SCAN_REF = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);")
#: (the text before sheetData's cells, the text after them) -> :func:`_sheet_facts` of a sheet scanned before
_SCAN_FACTS: dict[tuple[bytes, bytes], tuple] = {}
_SCAN_FACTS_KEPT = 16
#: a numeric character reference as :data:`_SCAN_TEXT` reads one (a longer one makes the text unusual anyway)
_SCAN_NUMERIC = re.compile(r"&#(x[0-9a-fA-F]{1,6}|[0-9]{1,7});")
_SCAN_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


@functools.lru_cache(maxsize=4096)
def _unescaped(text: str) -> str:
    """An element's text with its character references replaced, as libxml2 gives it (cached: every copy of a form
    repeats the same formulas; a bounded cache, as for :func:`parse_ref`)."""
    if "&#" not in text:
        return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
                .replace("&amp;", "&"))
    return _SCAN_REF.sub(_referenced, text)


def _referenced(m: re.Match) -> str:
    """The character a reference names (every numeric one was checked by :func:`_allowed_reference` first)."""
    name = m.group(1)
    if name[0] != "#":
        return _SCAN_NAMED[name]
    return chr(int(name[2:], 16) if name[1] == "x" else int(name[1:]))


def _allowed_reference(ref: str) -> bool:
    """Whether a numeric character reference (``x41`` or ``65``) names a character XML allows."""
    code = int(ref[1:], 16) if ref[0] == "x" else int(ref)
    return code in (9, 10, 13) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF


def _depth_change(rows: str) -> int:
    """How many rows the row tags between two cells leave open (an empty ``<row …/>`` opens and closes one)."""
    return rows.count("<row") - rows.count("/>") - rows.count("</row>")


def _scanned(lean: bytes, sheet: SheetXML, shared: list[str], where: str):
    """The cells of a sheet whose cells are all in the usual shapes (:data:`_SCAN_CELL`), read by one regular
    expression instead of a tree, into ``sheet``; (the root of the rest of the document, which libxml2 parses: its
    rows without their cells, and the elements around sheetData unless their facts are known from an earlier copy
    with the same text there; :func:`_sheet_facts` of it). None, with ``sheet`` untouched: the text is unusual
    somewhere, and :func:`_walked` reads it.

    The same cells, values and formulas as :func:`_walked` (tests/test_tamper.py compares the two readings on every
    shipped sheet, odd, random and damaged ones; tests/fuzz/fuzz_sheet_scan.py generates hostile ones), in about two
    thirds of the time (a filled form's sheet: 840 against 1,330 µs). ``lean`` has only plain markup
    (:func:`_plain_markup`), so every "<" is a tag; the cells must follow each other without a gap, each directly
    inside a row of the one ``<sheetData>``, a child of the document element, with no namespace declared inside it;
    what XML forbids in text is looked for first, and any character reference must name a character XML allows.
    The row tags go to libxml2 with the rest, so a malformed row, a duplicate attribute or a misnested row is
    refused by it (the sheet is then read again by :func:`_walked`, which names the file's own line and column).
    """
    open_at = lean.find(b"<sheetData")         # the first, and the only one (below: none after it): <sheetData>
    end = lean.rfind(b"</sheetData>")
    start = open_at + 11
    if open_at < 0 or not lean.startswith(b"<sheetData>", open_at) or end < start or lean.find(b"<sheetData", end) >= 0:
        return None
    raw = lean[start:end]
    # what XML forbids in text (control characters, U+FFFE, U+FFFF, "]]>"), what libxml2 changes ("\r"), and a
    # namespace declared inside sheetData: each makes the text unusual
    if len(raw.translate(None, _SCAN_CONTROLS)) != len(raw) or contains(raw, b"]]>", b"]"):
        return None
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\ufffe" in body or "\uffff" in body or "xmlns" in body:
        return None
    # every character reference must name a character XML allows wherever it stands, also in a text the reading
    # never looks at (the cell of an invalid reference, the <is> of a cell that is not an inline string: found by
    # review), each distinct one tested once
    if "&#" in body and not all(map(_allowed_reference, set(_SCAN_NUMERIC.findall(body)))):
        return None
    cells: dict[tuple[int, int], XCell] = {}
    sources: set[str] = set()
    masters: dict[str, tuple[int, int, str]] = {}
    children: list[tuple[XCell, str]] = []
    skeleton: list[str] = []
    styles: dict[str | None, int] = {None: 0}
    nshared = len(shared)
    bad_refs = depth = 0
    if body.startswith("<c"):
        return None                             # a cell before any row: not inside a row
    m = None
    # each match starts where the last ended (the scanner's match is anchored there), up to the first that fails
    for m in iter(_SCAN_CELL.scanner(body).match, None):
        rows, ref, s, t, ftext, master_si, master_text, child_si, v, inline = m.groups()
        if rows:                            # the depth changes only here: each cell must be inside one row
            skeleton.append(rows)
            depth += _depth_change(rows)
            if depth != 1:
                return None
        rc = parse_ref(ref)
        if rc is None:
            if not (ftext is None and master_si is None and child_si is None and v is None and inline is None):
                bad_refs += 1               # (an empty cell is not read, whatever its reference)
            continue
        style = styles.get(s)
        if style is None:
            style = styles[s] = int(s)
        row, col = rc
        error = False
        if v is not None:
            if "&" in v:
                v = _unescaped(v)
            if t is None or t == "n":
                value, has_v = _number(v), bool(v)
            elif t == "str" or t == "d":
                value, has_v = v, True
            elif t == "inlineStr":
                value, has_v = (_unescaped(inline) if "&" in inline else inline) if inline is not None else v, True
            elif t == "s":
                has_v = True
                idx = _number(v)
                value = shared[int(idx)] if idx is not None and idx == int(idx) and 0 <= idx < nshared else None
            elif t == "b":
                value, has_v = v in ("1", "true"), True
            elif t == "e":
                value, has_v, error = v or "#N/A", True, True
            else:
                value, has_v = _number(v), bool(v)
        elif inline is not None and t == "inlineStr":
            value, has_v = _unescaped(inline) if "&" in inline else inline, True
        else:
            value, has_v = None, False
        if ftext is not None:
            if "&" in ftext:
                ftext = _unescaped(ftext)
            if ftext:
                sources.add(ftext)
            cells[rc] = XCell(row, col, value, ftext, has_v, style, error)
        elif master_text:
            if "&" in master_text:
                master_text = _unescaped(master_text)
            sources.add(master_text)
            masters[master_si] = (row, col, master_text)
            cells[rc] = XCell(row, col, value, master_text, has_v, style, error)
        elif master_si is not None or child_si is not None:
            cell = cells[rc] = XCell(row, col, value, None, has_v, style, error)
            children.append((cell, master_si if master_si is not None else child_si))
        elif v is not None or inline is not None:
            cells[rc] = XCell(row, col, value, None, has_v, style, error)
        # else: an empty (styled) cell, nothing to read
    tail = _SCAN_TAIL.match(body, m.end() if m is not None else 0)
    if tail.end() != len(body):
        return None
    rows = tail.group()
    if depth + _depth_change(rows) != 0:
        return None
    skeleton.append(rows)
    # the text before sheetData's cells and after them is the same in every copy of a template: what it holds (the
    # facts of :func:`_sheet_facts`) is kept by those bytes, and a copy with the same ones has only its rows parsed —
    # a document of the same text without the complete elements after sheetData, well-formed when the whole is
    head, tail = lean[:start], lean[end:]
    facts = _SCAN_FACTS.get((head, tail))
    try:
        if facts is None:
            root = parse_xml(head + "".join(skeleton).encode("utf-8") + tail, where)
        else:
            root = parse_xml(head + "".join(skeleton).encode("utf-8") + b"</sheetData>" + tail[tail.rfind(b"</"):],
                             where)
    except WorkbookError:
        return None
    # the one sheetData the walk reads (m:sheetData/m:row/m:c from the root) must be this one, the only plain one
    # (the cells inside rows checked above hold no other: a second, prefixed one is no match for the scan)
    found = root.findall(_SHEET_DATA)
    if len(found) != 1 or found[0].prefix is not None:
        return None
    if facts is None:
        facts = _sheet_facts(root)
        if len(_SCAN_FACTS) >= _SCAN_FACTS_KEPT:
            _SCAN_FACTS.clear()
        _SCAN_FACTS[head, tail] = facts
    _link_shared(children, masters)
    sheet.cells, sheet.sources, sheet.bad_refs = cells, sources, bad_refs
    return root, facts


def _span(lo: str | None, hi: str | None) -> range:
    """The columns of a <col min max> (bounded by the sheet's width)."""
    lo_n = int(lo) if lo and lo.isdigit() else 0
    hi_n = int(hi) if hi and hi.isdigit() else lo_n
    return range(lo_n, min(hi_n, MAX_COL) + 1) if lo_n else range(0)


def _picked_cells(root, size: int) -> tuple[list, bool]:
    """(the cells with content, whether an empty cell has no reference) of sheetData's rows, in order; an empty
    styled cell costs a length test (an XPath predicate over every cell cost more than walking them).

    A form's sheet (``size`` bytes of XML) has its cells gathered by one compiled XPath, a third of the cost of
    walking the rows in Python; a sheet past :data:`_LISTED_BYTES` (never a form) is walked one cell at a time,
    so a million empty cells never stand as a million Python objects at once. Both give every sheetData's rows'
    cells in document order (tests/test_tamper.py compares them)."""
    picked: list = []
    unplaced = False
    add = picked.append
    for c in _X_CELLS(root) if size <= _LISTED_BYTES else _row_cells(root):
        if len(c):
            add(c)
        elif not unplaced and c.get("r") is None:
            unplaced = True
    return picked, unplaced


_X_CELLS = etree.XPath("m:sheetData/m:row/m:c", namespaces={"m": M})
_LISTED_BYTES = 4 << 20       #: sheets up to this size have their cells listed at once (a filled form: ~100 KB)


def _row_cells(root) -> Iterator:
    """What :data:`_X_CELLS` lists, one at a time."""
    for data_el in root.iterchildren(_SHEET_DATA):      # one in a valid file; every one, as the XPath reads them
        for row_el in data_el.iterchildren(_ROW):
            yield from row_el.iterchildren(_C)


_X_MERGES = etree.XPath("m:mergeCells/m:mergeCell/@ref", namespaces={"m": M}, smart_strings=False)
_X_HIDDEN_ROWS = etree.XPath("m:sheetData/m:row[@hidden='1' or @hidden='true']", namespaces={"m": M})
_X_HIDDEN_COLS = etree.XPath("m:cols/m:col[@hidden='1' or @hidden='true']", namespaces={"m": M})
_SPACE = re.compile(r"\s+")


def _cells_by_position(root, sheet: SheetXML):
    """(position, element) of every cell, placing cells without a valid ``r`` after their row's previous cell."""
    data_el = root.find(f"{{{M}}}sheetData")
    last_row = 0
    for row_el in (data_el if data_el is not None else ()):
        if row_el.tag != _ROW:
            continue
        r_attr = row_el.get("r")
        row_no = int(r_attr) if r_attr and r_attr.isdigit() and 0 < int(r_attr) <= MAX_ROW else last_row + 1
        last_row = min(row_no, MAX_ROW)
        col_no = 0
        for c in row_el:
            if c.tag != _C:
                continue
            rc = parse_ref(c.get("r"))
            if rc is None:
                sheet.bad_refs += 1
                rc = (row_no, min(col_no + 1, MAX_COL))
            col_no = rc[1]
            yield rc, c


def translate_formula(formula: str, origin: str, dest: str) -> str:
    """A shared formula's text as seen from another cell: relative references (on any sheet) move by the
    offset from ``origin`` to ``dest``, as Excel expands ``<f t="shared">`` (openpyxl's Translator).
    A reference moved off the sheet gives ``#REF!``."""
    if not parse_ref(origin) or not parse_ref(dest):
        return formula
    # openpyxl (and numpy with it) only when a file has shared formulas, not at start-up
    from openpyxl.formula.tokenizer import TokenizerError
    from openpyxl.formula.translate import Translator, TranslatorError
    try:
        return Translator("=" + formula, origin=origin).translate_formula(dest)[1:]
    except TranslatorError:
        return "#REF!"
    except TokenizerError:
        return formula


_STRING = re.compile(r'"(?:[^"]|"")*"')
#: built-in number formats: id -> (shows a percentage, decimals shown; None for General/scientific)
_BUILTIN_FORMATS = {"1": (False, 0), "2": (False, 2), "3": (False, 0), "4": (False, 2), "9": (True, 0),
                    "10": (True, 2), "37": (False, 0), "38": (False, 0), "39": (False, 2), "40": (False, 2)}
_DIGITS = re.compile(r"[0#?][0#?,]*(?:\.([0#?]*))?")


def _format_of(code: str) -> tuple[bool, int | None]:
    """(percentage?, decimals shown) of a custom number format code (first section; quoted text removed)."""
    first = code.split(";", 1)[0]
    if "general" in first.lower() or "e+" in first.lower():
        return "%" in first, None
    m = _DIGITS.search(first)
    return "%" in first, (len(m.group(1) or "") if m else None)


_A1_IN_FORMULA = re.compile(r"(?<![A-Za-z0-9_.\u0080-\uffff!'])(\$?)([A-Z]{1,3})(\$?)([0-9]{1,7})"
                            r"(?![0-9A-Za-z_(\u0080-\uffff])")


def map_refs(formula: str, fn: Callable[[re.Match], str]) -> str:
    """Apply ``fn`` to every A1 reference outside string literals."""
    out, pos = [], 0
    for m in _STRING.finditer(formula):
        out.append(_A1_IN_FORMULA.sub(fn, formula[pos:m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(_A1_IN_FORMULA.sub(fn, formula[pos:]))
    return "".join(out)


def norm_formula(formula: str | None) -> str:
    """A formula compared by meaning: :func:`~xlsx_engine.ooxml.formulanorm.canonical_formula` (the same for
    every spelling Excel, WPS, LibreOffice or Gnumeric gives an unchanged formula when they save it)."""
    return canonical_formula(formula)


# ============================================================================ package

class Package:
    """An opened .xlsx package: workbook parts, defined names, sheets (parsed on demand).

    Raises:
        WorkbookError: the file cannot be read (see :func:`open_package`).
    """

    def __init__(self, path: Path, zf: zipfile.ZipFile):
        self.path = path
        self.where = str(path)
        self.zf = zf
        self.members = zf.namelist()
        self.member_set = set(self.members)
        rels_path = "xl/_rels/workbook.xml.rels"
        book = _workbook_parts(self.read("xl/workbook.xml"),
                               self.read(rels_path) if rels_path in self.member_set else None, self.where)
        #: (name, state, zip path or None)
        self.sheets: list[tuple[str, str, str | None]] = list(book.sheets)
        self.raw_names: dict[str, str] = dict(book.raw_names)
        self.local_names: list[str] = list(book.local_names)
        self.names: dict[str, NameRef] = dict(book.names)
        self.workbook_protection: dict[str, str] | None = \
            dict(book.protection) if book.protection is not None else None
        self._shared: list[str] | None = None
        self._sheets: dict[str, SheetXML] = {}
        self._custom: dict[str, str] | None = None
        self._styles: bytes | None = None

    # ------------------------------------------------------------------ members
    def read(self, name: str, limit: int = MAX_PART_BYTES) -> bytes:
        try:
            return read_member(self.zf, name, self.where, limit)
        except WorkbookError:
            raise
        except Exception as exc:   # zlib.error, NotImplementedError (compression method), ...: a damaged archive
            raise WorkbookError(f"{name} 已损坏，无法解压（{type(exc).__name__}）", where=self.where,
                                hint="文件可能已损坏，请重新保存后提交") from None

    def xml(self, name: str, limit: int = MAX_PART_BYTES):
        return parse_xml(self.read(name, limit), f"{self.where}:{name}")

    @property
    def custom_properties(self) -> dict[str, str]:
        if self._custom is None:
            out: dict[str, str] = {}
            if "docProps/custom.xml" in self.member_set:
                root = self.xml("docProps/custom.xml", 1 << 20)
                for prop in root.iter(f"{{{CP_NS}}}property"):
                    values = [child.text or "" for child in prop]
                    name = prop.get("name")
                    if name:
                        out[name] = values[0] if values else ""
            self._custom = out
        return self._custom

    @property
    def shared_strings(self) -> list[str]:
        if self._shared is None:
            out: list[str] = []
            path = next((m for m in self.members if m.lower() == "xl/sharedstrings.xml"), None)
            if path:
                root = self.xml(path, MAX_SHEET_BYTES)
                for si in root.iter(f"{{{M}}}si"):
                    out.append(_text_of(si))
            self._shared = out
        return self._shared

    @property
    def styles(self) -> bytes:
        """The bytes of ``xl/styles.xml`` (b"" when absent), read once; parsed results are cached by content
        (:func:`style_formats_of`), since the copies of one template share one styles part."""
        if self._styles is None:
            self._styles = self.read("xl/styles.xml") if "xl/styles.xml" in self.member_set else b""
        return self._styles

    @property
    def percent_styles(self) -> set[int]:
        """Indexes of cell styles whose number format shows a percentage."""
        return {i for i, (pct, _places) in self.style_formats.items() if pct}

    @property
    def date_styles(self) -> frozenset[int]:
        """Indexes of cell styles whose number format shows a date or time."""
        return date_styles_of(self.styles, f"{self.where}:xl/styles.xml")

    @property
    def style_formats(self) -> dict[int, tuple[bool, int | None]]:
        """Cell style index -> (its number format shows a percentage, the decimals it shows; None for General)."""
        return style_formats_of(self.styles, f"{self.where}:xl/styles.xml")

    def sheet(self, name: str) -> SheetXML:
        if name not in self._sheets:
            path = next((p for n, _s, p in self.sheets if n == name), None)
            if not path or path not in self.member_set:
                raise WorkbookError(f"工作表“{name}”的内容缺失", where=self.where)
            data = self.read(path, MAX_SHEET_BYTES)
            where = f"{self.where}:{path}"
            if len(data) <= SMALL_SHEET_BYTES and not self.shared_strings:
                self._sheets[name] = _parse_small_sheet(data, name, where)
            else:
                self._sheets[name] = parse_sheet(data, name, self.shared_strings, where)
        return self._sheets[name]

    @property
    def sheet_names(self) -> list[str]:
        return [n for n, _s, _p in self.sheets]

    def macro_parts(self) -> list[str]:
        """Members that carry macros (VBA project, Excel 4 macro sheets, ActiveX binaries)."""
        out = []
        for m in self.members:
            low = m.lower()
            if low.endswith("vbaproject.bin") or low.startswith("xl/macrosheets/") or \
                    (low.startswith("xl/activex/") and low.endswith(".bin")):
                out.append(m)
        if "[Content_Types].xml" in self.member_set and not out:
            ct = self.read("[Content_Types].xml", 1 << 20)
            if b"macroEnabled" in ct:
                out.append("[Content_Types].xml")
        return out

    def close(self) -> None:
        self.zf.close()

    def __enter__(self) -> "Package":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass(frozen=True)
class _Book:
    """What ``xl/workbook.xml`` and its relationships say: sheets, defined names, workbook protection."""

    sheets: tuple[tuple[str, str, str | None], ...]
    raw_names: dict[str, str]
    local_names: tuple[str, ...]
    names: dict[str, NameRef]
    protection: dict[str, str] | None


def _in_file(where: str, fn: Callable, *args):
    """Call a parser cached by content (its errors name the part only) and name the file in its errors."""
    try:
        return fn(*args)
    except WorkbookError as exc:
        raise WorkbookError(exc.message, where=f"{where}:{exc.where}" if exc.where else where,
                            hint=exc.hint) from None


def _workbook_parts(wb_xml: bytes, rels_xml: bytes | None, where: str) -> _Book:
    return _in_file(where, _book_of, wb_xml, rels_xml)


@functools.lru_cache(maxsize=64)
def _book_of(wb_xml: bytes, rels_xml: bytes | None) -> _Book:
    """The parsed workbook part, cached by content (every copy of a template has the same one); callers copy."""
    wb = parse_xml(wb_xml, "xl/workbook.xml")
    targets: dict[str, str] = {}
    if rels_xml is not None:
        rels = parse_xml(rels_xml, "xl/_rels/workbook.xml.rels")
        for rel in rels.iter(f"{{{PR_NS}}}Relationship"):
            target = rel.get("Target") or ""
            target = target.lstrip("/") if target.startswith("/") else "xl/" + target
            targets[rel.get("Id") or ""] = _normpath(target)
    sheets = tuple((s.get("name") or "", s.get("state") or "visible", targets.get(s.get(f"{{{R_NS}}}id") or ""))
                   for s in wb.iterfind(f"{{{M}}}sheets/{{{M}}}sheet"))
    raw_names: dict[str, str] = {}
    local_names: list[str] = []
    for dn in wb.iterfind(f"{{{M}}}definedNames/{{{M}}}definedName"):
        name = dn.get("name") or ""
        if dn.get("localSheetId") is not None or name.startswith("_xlnm."):
            local_names.append(name)
            continue
        raw_names[name] = dn.text or ""
    names: dict[str, NameRef] = {}
    for name, text in raw_names.items():
        ref = parse_name_ref(text)
        if ref is not None and 1 <= ref.first[0] <= ref.last[0] <= MAX_ROW \
                and 1 <= ref.first[1] <= ref.last[1] <= MAX_COL:
            names[name] = ref
    prot = wb.find(f"{{{M}}}workbookProtection")
    return _Book(sheets, raw_names, tuple(local_names), names, dict(prot.attrib) if prot is not None else None)


def style_formats_of(styles_xml: bytes, where: str = "") -> dict[int, tuple[bool, int | None]]:
    """Cell style index -> (percentage?, decimals shown) of a styles part, cached by content (read-only)."""
    return _in_file(where, _style_formats, styles_xml)


@functools.lru_cache(maxsize=64)
def _style_formats(styles_xml: bytes) -> dict[int, tuple[bool, int | None]]:
    formats: dict[int, tuple[bool, int | None]] = {}
    if styles_xml:
        root = parse_xml(styles_xml, "")
        custom = {nf.get("numFmtId"): _format_of(_STRING.sub("", nf.get("formatCode") or ""))
                  for nf in root.iterfind(f"{{{M}}}numFmts/{{{M}}}numFmt")}
        for i, xf in enumerate(root.iterfind(f"{{{M}}}cellXfs/{{{M}}}xf")):
            fid = xf.get("numFmtId") or "0"
            formats[i] = custom.get(fid) or _BUILTIN_FORMATS.get(fid, (False, None))
    return formats


#: built-in number formats that show a date or a time (ECMA-376 18.8.30)
_DATE_FORMAT_IDS = {"14", "15", "16", "17", "18", "19", "20", "21", "22", "45", "46", "47"}
_DATE_TOKENS = re.compile(r"[ymdhs]|上午|下午|年|月|日|时|秒", re.IGNORECASE)


def date_styles_of(styles_xml: bytes, where: str = "") -> frozenset[int]:
    """Indexes of the cell styles whose number format shows a number as a date or time (cached by content)."""
    return _in_file(where, _date_styles, styles_xml)


@functools.lru_cache(maxsize=64)
def _date_styles(styles_xml: bytes) -> frozenset[int]:
    if not styles_xml:
        return frozenset()
    root = parse_xml(styles_xml, "")
    dates = {nf.get("numFmtId") for nf in root.iterfind(f"{{{M}}}numFmts/{{{M}}}numFmt")
             if _DATE_TOKENS.search(_STRING.sub("", re.sub(r"\[[^]]*\]", "", nf.get("formatCode") or "")))}
    return frozenset(i for i, xf in enumerate(root.iterfind(f"{{{M}}}cellXfs/{{{M}}}xf"))
                     if (xf.get("numFmtId") or "0") in _DATE_FORMAT_IDS | dates)


SMALL_SHEET_BYTES = 64 << 10     #: sheets up to this size (the hidden 字典 sheet) are parsed once per content


def _parse_small_sheet(data: bytes, name: str, where: str) -> SheetXML:
    """:func:`parse_sheet` of a small sheet without shared strings, cached by content: the hidden dictionary
    sheet of every copy of a template is the same bytes. The result is shared: read-only."""
    return _in_file(where, _small_sheet, data, name)


@functools.lru_cache(maxsize=64)
def _small_sheet(data: bytes, name: str) -> SheetXML:
    return parse_sheet(data, name, [], "")


def _normpath(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/".join(parts)


def open_package(path: str | Path, sniffed: tuple[str, str] | None = None) -> Package:
    """Open a workbook package safely, with a precise Chinese message for everything unreadable.

    Raises:
        WorkbookError: not a file, empty, encrypted, legacy .xls/.et, another format, corrupt, too large,
        a zip bomb, XML with entity declarations.
    """
    path = Path(path)
    where = str(path)
    kind, desc = sniffed or sniff(path)
    if kind == "other" and not path.exists():
        raise WorkbookError("找不到文件", where=where)
    if kind == "empty":
        raise WorkbookError("文件是空的（0 字节）", where=where, hint="请重新保存后提交")
    if kind == "encrypted":
        raise WorkbookError("工作簿设置了打开密码（已加密），无法读取", where=where,
                            hint="请在 Excel/WPS 中取消“用密码加密”后另存为 .xlsx 再提交")
    if kind == "xls":
        raise WorkbookError(f"这是{desc}，无法核对模板、公式和保护", where=where,
                            hint="请使用下发的 .xlsx 模板填报，或在 Excel/WPS 中另存为“Excel 工作簿（.xlsx）”")
    if kind == "ole":
        raise WorkbookError(f"这是{desc}，不是 Excel 工作簿", where=where, hint="请提交 .xlsx 格式的自评表")
    if kind == "irregular":
        raise WorkbookError(desc, where=where)
    if kind != "zip":
        raise WorkbookError("不是 Excel 工作簿（.xlsx）文件", where=where, hint="请提交 .xlsx 格式的自评表")
    try:
        zf = open_workbook_zip(path, in_memory=True)
    except WorkbookError as exc:
        if "xl/workbook.xml" in exc.message:
            raise WorkbookError(_not_workbook_message(path), where=where, hint="请提交 .xlsx 格式的自评表") from None
        raise
    except Exception as exc:   # zipfile raises struct.error, NotImplementedError... on damaged directories
        raise WorkbookError(f"文件已损坏，无法解压（{type(exc).__name__}）", where=where,
                            hint="请重新保存或重新下发模板") from None
    try:
        return Package(path, zf)
    except BaseException:
        zf.close()
        raise


def _not_workbook_message(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except Exception:
        names = set()
    if "xl/workbook.bin" in names:
        return "这是 Excel 二进制工作簿（.xlsb），无法核对"
    if "content.xml" in names:
        return "这是 OpenDocument 表格（.ods），不是 .xlsx 工作簿"
    if "word/document.xml" in names:
        return "这是 Word 文档（.docx），不是 Excel 工作簿"
    return "压缩包中没有 xl/workbook.xml，不是 Excel 工作簿"


# ============================================================================ expected template content

@functools.lru_cache(maxsize=65536)
def norm_label(value: Any) -> str:
    """A label compared as people read it (NFKC, no outer spaces); cached: the labels repeat in every copy."""
    if value is None:
        return ""
    return unicodedata.normalize("NFKC", str(value)).strip()


@dataclass
class Expected:
    """What a layout puts where, precomputed once per profile."""

    layout: Any
    raw_formulas: dict[tuple[int, int], str]     #: (row, col) -> the template's formula ("=...")
    labels: dict[tuple[int, int], str]
    consts: dict[tuple[int, int], Any]
    inputs: set[tuple[int, int]]
    names_main: dict[str, NameRef]
    names_dict: dict[str, NameRef]
    anchors: dict[str, tuple[int, int]]      #: unique label text -> position
    dict_cells: dict[tuple[int, int], Any]
    merges: set[str]
    validation_cells: set[tuple[int, int]]
    name_of_cell: dict[tuple[int, int], str]
    last_row: int
    last_col: int
    password_hash: str
    fingerprint: str = ""
    raw_text: dict = field(default_factory=dict)   #: (row, col) -> formula text as stored (no "=")
    #: (row, col) -> the template's shared formula holding that cell (:attr:`SheetLayout.shared_groups`)
    shared_of: dict = field(default_factory=dict)
    _canonical: dict = field(default_factory=dict, repr=False)
    #: what the checks derive from the template alone, computed on the first file (key: what it is)
    derived: dict = field(default_factory=dict, repr=False, compare=False)

    @functools.cached_property
    def places(self) -> frozenset[tuple[int, int]]:
        """Every cell the form accounts for: formulas, labels, locked constants and inputs."""
        return frozenset(self.raw_formulas) | frozenset(self.labels) | frozenset(self.consts) | frozenset(self.inputs)

    def unchanged(self, cell: XCell, rc: tuple[int, int]) -> bool:
        """The workbook's cell at the template's place ``rc`` holds the template's formula, as stored.

        A shared formula's cell is compared through its group, without expanding it: its first cell holds the
        template's text for that place, and both places belong to one of the template's shared formulas (whose
        cells are each the first one's formula moved, which tests/test_shared_formulas.py proves), so the cell's
        formula is the template's. Otherwise its text is compared.
        """
        if cell.text is None and cell.shared is not None:
            row, col, text = cell.shared
            group = self.shared_of.get(rc)
            first = self.shared_of.get((row, col))    # one object per group: identity, then equality
            if group is not None and (first is group or first == group) and self.raw_text.get((row, col)) == text:
                return True
        return cell.formula == self.raw_text[rc]

    def canonical(self, rc: tuple[int, int]) -> str:
        """The template formula at ``rc`` compared by meaning (:func:`norm_formula`), computed when a workbook's
        formula is not the template's text: an untouched copy never loads the formula tokenizer."""
        got = self._canonical.get(rc)
        if got is None:
            got = self._canonical[rc] = norm_formula(self.raw_formulas[rc])
        return got


@functools.lru_cache(maxsize=32)
def expected_for(profile_id: str, template_id: str) -> Expected:
    """What a workbook made from a template must contain.

    Args:
        profile_id: the profile (评分规则).
        template_id: the 模板编号 (``<form>-<profile>``); it selects the form through the registry.
    """
    layout = form_for(template_id).layout(profile_id)
    raw, labels, consts, inputs = {}, {}, {}, set()
    for ref, spec in layout.cells.items():
        rc = parse_ref(ref)
        if spec.role == FORMULA:
            raw[rc] = spec.formula
        elif spec.role == LABEL:
            labels[rc] = norm_label(spec.value)
        elif spec.role == CONST:
            consts[rc] = spec.value
        elif spec.role == INPUT:
            inputs.add(rc)
    counts = Counter(v for v in labels.values() if len(v) >= 2)
    anchors = {text: rc for rc, text in labels.items() if counts.get(text) == 1}
    names_main, names_dict = {}, {}
    for name, text in layout.names.items():
        ref = parse_name_ref(text)
        (names_main if ref.sheet == layout.sheet else names_dict)[name] = ref
    meta = layout.meta()
    dict_cells = {parse_ref(k): v for k, v in layout.dict_cells.items()}
    for k, key in enumerate(IDENTITY_KEYS, 1):
        dict_cells[(k, 8)] = meta[key]
    validation_cells: set[tuple[int, int]] = set()
    for v in layout.validations:
        validation_cells |= _sqref_cells(v.sqref)
    name_of_cell = {}
    for name, ref in names_main.items():
        if ref.first == ref.last:
            name_of_cell[ref.first] = name
    return Expected(layout, raw, labels, consts, inputs, names_main, names_dict, anchors, dict_cells,
                    set(layout.merges), validation_cells, name_of_cell, layout.last_row,
                    len(layout.form.columns), password_hash(layout.form.protection_password).upper(),
                    layout.fingerprint(), {rc: f[1:] for rc, f in raw.items()},
                    {parse_ref(ref): group for ref, group in layout.shared_groups.items()})


@functools.lru_cache(maxsize=4096)
def _sqref_cells(sqref: str, limit: int = 20000) -> frozenset[tuple[int, int]]:
    return frozenset(_sqref_cell_set(sqref, limit))


def _sqref_cell_set(sqref: str, limit: int) -> set[tuple[int, int]]:
    out: set[tuple[int, int]] = set()
    for part in sqref.split():
        ends = part.split(":")
        a = parse_ref(ends[0])
        b = parse_ref(ends[-1])
        if not a or not b:
            continue
        for r in range(min(a[0], b[0]), min(max(a[0], b[0]), min(a[0], b[0]) + limit) + 1):
            for c in range(min(a[1], b[1]), max(a[1], b[1]) + 1):
                out.add((r, c))
                if len(out) > limit:
                    return out
    return out


# ============================================================================ row / column mapping

class AxisMap:
    """Where template rows (or columns) went: a step function built from names and fixed labels.

    Each point says "template index e is now at e + d". Inserting k rows between two points makes d step up
    by k; deleting makes it step down. Between two points with different deltas the position is unknown.
    """

    def __init__(self, votes: dict[int, Counter]):
        self.delta: dict[int, int] = {}
        prev = 0
        for e in sorted(votes):
            counter = votes[e]
            best = max(counter.values())
            tied = [d for d, n in counter.items() if n == best]
            d = prev if prev in tied else min(tied, key=abs)
            self.delta[e] = d
            prev = d
        self.keys = sorted(self.delta)

    def __call__(self, e: int) -> int | None:
        if not self.keys:
            return e
        if e in self.delta:
            return e + self.delta[e]
        import bisect
        i = bisect.bisect_left(self.keys, e)
        before = self.keys[i - 1] if i > 0 else None
        after = self.keys[i] if i < len(self.keys) else None
        if before is None:
            return e + self.delta[after] if self.delta[after] == 0 else None
        if after is None:
            return e + self.delta[before]
        if self.delta[before] == self.delta[after]:
            return e + self.delta[before]
        return None

    @property
    def shifted(self) -> bool:
        return any(self.delta.values())

    def events(self) -> list[tuple[int, int, int, int]]:
        """(template index before, template index after, change, actual index of the first moved one)."""
        out = []
        prev_e, prev_d = None, 0
        for e in self.keys:
            d = self.delta[e]
            if d != prev_d:
                out.append((prev_e if prev_e is not None else 0, e, d - prev_d, e + d))
            prev_e, prev_d = e, d
        return out


@dataclass
class Located:
    """Where the template's parts are in the workbook being checked."""

    sheet: SheetXML
    rows: AxisMap
    cols: AxisMap
    name_ok: dict[str, bool]
    main_name: str = ""
    dict_name: str | None = None
    replaced: set = field(default_factory=set)    #: template positions whose formula was typed over
    edited: set = field(default_factory=set)      #: template positions whose formula was changed

    def __post_init__(self) -> None:
        self.structural = self.rows.shifted or self.cols.shifted

    def where(self, rc: tuple[int, int]) -> tuple[int, int] | None:
        if not self.structural:
            return rc
        r, c = self.rows(rc[0]), self.cols(rc[1])
        if r is None or c is None or not (1 <= r <= MAX_ROW and 1 <= c <= MAX_COL):
            return None
        return r, c

    def ref(self, ref: str) -> str | None:
        rc = parse_ref(ref)
        got = self.where(rc) if rc else None
        return a1(*got) if got else None


# ============================================================================ integrity checks

def _fmt(value: Any) -> str:
    if value is None or value == "":
        return "（空）"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _short(formula: str) -> str:
    return formula if len(formula) <= 80 else formula[:77] + "…"


def find_main_sheet(pkg: Package, exp: Expected) -> tuple[str | None, str | None]:
    """(main sheet name, dictionary sheet name) in the workbook, following renames through the names."""
    layout = exp.layout
    names = pkg.sheet_names

    def by_names(expected: dict[str, NameRef], wanted: str) -> str | None:
        if wanted in names:
            return wanted
        votes = Counter(pkg.names[n].sheet for n in expected if n in pkg.names and pkg.names[n].sheet in names)
        return votes.most_common(1)[0][0] if votes else None

    main = by_names(exp.names_main, layout.sheet)
    dictionary = by_names(exp.names_dict, layout.form.dictionary_sheet)
    if main is None:
        visible = [n for n, state, _p in pkg.sheets if state == "visible" and n != dictionary]
        main = visible[0] if len(pkg.sheets) == 2 and visible else None
    if dictionary == main:
        dictionary = None
    return main, dictionary


def _anchor_hits(exp: Expected, sheet: SheetXML) -> Iterator[tuple[tuple[int, int], list[tuple[int, int]]]]:
    """(template place, places in the sheet) of each unique fixed label: its own place when it is still there,
    else wherever the sheet has that text."""
    cells, index = sheet.cells, None
    for text, rc in exp.anchors.items():
        cell = cells.get(rc)
        if cell is not None and isinstance(cell.value, str) and (cell.value == text or norm_label(cell.value) == text):
            yield rc, [rc]                 # the labels are stored normalised: equal text needs no normalising
            continue
        if index is None:
            index = _label_index(sheet)
        yield rc, index.get(text, [])


def _in_place(pkg: Package, exp: Expected, sheet: SheetXML, main_name: str) -> bool:
    """Every name of the main sheet spans its template cells and every fixed label that is found once is at its
    template place: each vote of :func:`_voted_maps` would be "moved by 0", whose maps are the identity."""
    names = pkg.names
    for name, eref in exp.names_main.items():
        aref = names.get(name)
        if aref is not None and aref.sheet == main_name and (aref.first != eref.first or aref.last != eref.last):
            return False
    return all(len(hits) != 1 or hits[0] == rc for rc, hits in _anchor_hits(exp, sheet))


def _voted_maps(pkg: Package, exp: Expected, sheet: SheetXML, main_name: str) -> tuple[AxisMap, AxisMap]:
    """Where template rows and columns went, voted by the names and the fixed labels."""
    row_votes: dict[int, Counter] = {}
    col_votes: dict[int, Counter] = {}

    def vote(axis: str, e: int, a: int) -> None:
        votes = (row_votes if axis == "r" else col_votes).setdefault(e, {})
        votes[a - e] = votes.get(a - e, 0) + 1

    for name, eref in exp.names_main.items():
        aref = pkg.names.get(name)
        if aref is None or aref.sheet != main_name:
            continue
        for axis, i in (("r", 0), ("c", 1)):
            vote(axis, eref.first[i], aref.first[i])
            vote(axis, eref.last[i], aref.last[i])
    for rc, hits in _anchor_hits(exp, sheet):
        if len(hits) == 1:
            vote("r", rc[0], hits[0][0])
            vote("c", rc[1], hits[0][1])
    rows, cols = AxisMap(row_votes), AxisMap(col_votes)
    if rows.events():
        rows = _refine_rows(row_votes, rows, cols, exp, sheet)
    return rows, cols


def locate(pkg: Package, exp: Expected, add: Callable[..., None]) -> Located | None:
    """Identify the template's sheets, check protection and names, and map template rows/columns.

    Args:
        pkg: the opened package.
        exp: :func:`expected_for` of the workbook's profile.
        add: ``add(severity, code, place, message, hint)`` of a findings collector.

    Returns:
        Where the template's parts are, or None when the main sheet is gone.
    """
    layout = exp.layout
    main_name, dict_name = find_main_sheet(pkg, exp)
    expected_sheets = (layout.sheet, layout.form.dictionary_sheet)

    # --- sheets
    if main_name is None:
        add(ERROR, "sheet_deleted", layout.sheet, f"模板的工作表“{layout.sheet}”已被删除或无法识别",
            "请使用原模板重新填报")
        return None
    if main_name != layout.sheet:
        add(ERROR, "sheet_renamed", main_name, f"工作表“{layout.sheet}”被改名为“{main_name}”",
            f"请改回“{layout.sheet}”，或使用原模板重新填报")
    if dict_name is None:
        add(ERROR, "sheet_deleted", layout.form.dictionary_sheet,
            f"隐藏的工作表“{layout.form.dictionary_sheet}”（下拉列表和模板标识）已被删除", "请使用原模板重新填报")
    elif dict_name != layout.form.dictionary_sheet:
        add(ERROR, "sheet_renamed", dict_name, f"工作表“{layout.form.dictionary_sheet}”被改名为“{dict_name}”",
            "请使用原模板重新填报")
    for name, state, _p in pkg.sheets:
        if name in ENGINE_SHEETS:   # written by jxzp narrative --write-back / the add-in's 校验
            continue
        if name not in (main_name, dict_name):
            add(WARNING, "sheet_added", name, f"新增了工作表“{name}”（模板只有“{'”“'.join(expected_sheets)}”）",
                "请删除新增的工作表，或核实其内容是否应报送")
        elif name == dict_name and state == "visible":
            add(INFO, "sheet_unhidden", name, f"隐藏的工作表“{name}”被取消隐藏", "")
    sheet = pkg.sheet(main_name)

    # --- protection
    prot = sheet.protection
    if prot is None or prot.get("sheet") not in ("1", "true"):
        add(ERROR, "protection_removed", main_name, f"工作表“{main_name}”的保护已被解除（公式和标签可被随意改动）",
            "请使用原模板重新填报；如确需修改版式，请联系财政局")
    elif prot.get("password") and prot["password"].upper() != exp.password_hash:
        add(WARNING, "password_changed", main_name, "工作表保护密码与模板不同（保护曾被解除后重新设置）",
            "请核实表中公式和标签是否被改动")
    if dict_name is not None:
        dprot = pkg.sheet(dict_name).protection
        if dprot is None or dprot.get("sheet") not in ("1", "true"):
            add(WARNING, "protection_removed", dict_name, f"工作表“{dict_name}”的保护已被解除", "")
    wprot = pkg.workbook_protection or {}
    if wprot.get("lockStructure") not in ("1", "true"):
        add(WARNING, "structure_unprotected", "工作簿",
            "工作簿结构保护已解除（可增删、改名工作表）",
            "用 LibreOffice 另存也会去掉结构保护；请核实工作表是否被增删或改名")

    # --- the row/column mapping, voted by the names and the fixed labels
    if _in_place(pkg, exp, sheet, main_name):     # every vote would say "not moved": the identity
        rows = cols = AxisMap({})
    else:
        rows, cols = _voted_maps(pkg, exp, sheet, main_name)

    # --- names
    name_ok: dict[str, bool] = {}
    for name, eref in {**exp.names_main, **exp.names_dict}.items():
        expected_sheet = main_name if name in exp.names_main else dict_name
        text = pkg.raw_names.get(name)
        place = f"名称“{name}”"
        name_ok[name] = False
        if text is None:
            add(ERROR, "name_deleted", place, f"名称“{name}”（{layout.names[name]}）已被删除",
                "请使用原模板重新填报")
            continue
        aref = pkg.names.get(name)
        if aref is None:
            add(ERROR, "name_broken", place, f"名称“{name}”的引用已失效（{_fmt(text)}），所指的行、列或工作表被删除",
                "请使用原模板重新填报")
            continue
        if aref.sheet != expected_sheet:
            add(ERROR, "name_moved", place, f"名称“{name}”应指向工作表“{expected_sheet}”，现指向“{aref.sheet}”",
                "请使用原模板重新填报")
            continue
        if name in exp.names_main:
            want = (rows(eref.first[0]), cols(eref.first[1]), rows(eref.last[0]), cols(eref.last[1]))
        else:
            want = (eref.first[0], eref.first[1], eref.last[0], eref.last[1])
        got = (aref.first[0], aref.first[1], aref.last[0], aref.last[1])
        if want == got:
            name_ok[name] = True
            continue
        if None in want:     # position unknown (between an insertion's bounds): trust a sane-sized name
            name_ok[name] = (aref.last[0] - aref.first[0]) < 5000 and (aref.last[1] - aref.first[1]) < 50
            continue
        add(ERROR, "name_moved", place,
            f"名称“{name}”原指向 {expected_sheet}!{span_text(eref)}，现指向 {aref.sheet}!{span_text(aref)}",
            "名称被改到了别处，程序按原位置读数；请使用原模板重新填报")
    for name in pkg.raw_names:
        if name not in layout.names and not name.startswith("_"):
            add(INFO, "name_added", f"名称“{name}”", f"新增了名称“{name}”（{_fmt(pkg.raw_names[name])}）", "")

    # --- inserted / deleted rows and columns
    for axis, amap, noun in (("r", rows, "行"), ("c", cols, "列")):
        fmt = (lambda i: f"第{i}行") if axis == "r" else (lambda i: f"{col_letters(max(i, 1))}列")
        for e_before, e_after, change, a_first in amap.events():
            if change > 0:
                first = max(a_first - change, 1)
                place = (f"{main_name}!{first}:{a_first - 1}" if axis == "r"
                         else f"{main_name}!{col_letters(first)}:{col_letters(max(a_first - 1, 1))}")
                add(ERROR, "rows_inserted" if axis == "r" else "cols_inserted", place,
                    f"在模板{fmt(e_before)}与{fmt(e_after)}之间插入了 {change} {noun}"
                    + (f"（现为{fmt(first)}）" if change == 1 else f"（现为{fmt(first)}至{fmt(a_first - 1)}）"),
                    f"模板的{noun}不得增删；请使用原模板重新填报")
            else:
                place = (f"{main_name}!{max(a_first - 1, 1)}:{a_first}" if axis == "r"
                         else f"{main_name}!{col_letters(max(a_first - 1, 1))}:{col_letters(a_first)}")
                add(ERROR, "rows_deleted" if axis == "r" else "cols_deleted", place,
                    f"模板{fmt(e_before)}与{fmt(e_after)}之间删除了 {-change} {noun}",
                    f"模板的{noun}不得增删；请使用原模板重新填报")
    return Located(sheet, rows, cols, name_ok, main_name, dict_name)


def compare_cells(pkg: Package, exp: Expected, loc: Located, add: Callable[..., None],
                  twins: dict[tuple[int, int], Any] | None = None) -> None:
    """Check every cell of the form where :func:`locate` says it now is.

    Formula cells must still hold the template's formula (typed-over and edited formulas are reported,
    with the recomputed value when ``twins`` gives it); labels and locked constants must be unchanged;
    nothing may be written outside the form. Fills ``loc.replaced`` and ``loc.edited``.
    """
    sheet, main_name, dict_name = loc.sheet, loc.main_name, loc.dict_name
    twins = twins or {}
    cells, structural, raw_text = sheet.cells, loc.structural, exp.raw_text
    # nothing moved (the usual case): every template place is where it was, so the places the form accounts for
    # are the template's own, and a formula stored as the template's text is unchanged without a method call
    accounted: set[tuple[int, int]] = set() if structural else set(exp.places)

    def moved(rc: tuple[int, int]) -> tuple[tuple[int, int] | None, XCell | None]:
        """(where a template place is now, the cell there), the place counted as the form's; (None, None) when
        it moved off the sheet."""
        at = loc.where(rc)
        if at is None:
            return None, None
        accounted.add(at)
        return at, cells.get(at)

    for rc in exp.raw_formulas:
        if not structural:
            at = rc
            cell = cells.get(rc)
            if cell is not None and (cell.text == raw_text[rc] if cell.text is not None
                                     else exp.unchanged(cell, rc)):
                continue
        else:
            at, cell = moved(rc)
            if at is None:
                continue
        place = f"{main_name}!{a1(*at)}"
        label = _cell_label(exp, rc)
        should = f"按规则重算应为 {_fmt(twins[rc])}；" if rc in twins else ""
        if cell is None or not cell.has_formula:
            value = cell.value if cell is not None else None
            loc.replaced.add(rc)
            add(ERROR, "formula_replaced", place,
                f"{label}的公式被替换为{'数值 ' + _fmt(value) if value not in (None, '') else '空白'}"
                f"（{should}原公式 ={_short(exp.raw_formulas[rc][1:])}）",
                "请使用原模板重新填报，不要在公式单元格中直接填写结果")
            continue
        want = exp.canonical(rc)
        if loc.structural:
            shifted = _shift_expected(exp.raw_formulas[rc], loc)
            if shifted is None:
                continue
            want = norm_formula(shifted)
        if norm_formula(cell.formula) != want:
            loc.edited.add(rc)
            add(ERROR, "formula_edited", place,
                f"{label}的公式被修改：现为 "
                + (f"={_short(cell.formula)}" if cell.formula else "空公式（共享公式找不到首格）")
                + f"，模板为 ={_short(exp.raw_formulas[rc][1:])}"
                + (f"（表中显示 {_fmt(cell.value)}，{should.rstrip('；')}）" if should else ""),
                "请使用原模板重新填报")
    for rc, text in exp.labels.items():
        if not structural:
            at = rc
            cell = cells.get(rc)
            if cell is not None and cell.value == text and cell.text is None and cell.shared is None:
                continue             # stored as the template's (normalised) text, no formula
        else:
            at, cell = moved(rc)
            if at is None:
                continue
        place = f"{main_name}!{a1(*at)}"
        if cell is not None and cell.has_formula:
            add(ERROR, "formula_added", place, f"固定文字单元格被写入公式 ={_short(cell.formula)}", "请使用原模板重新填报")
            continue
        got = norm_label(cell.value if cell is not None else None)
        if got != text:
            if text:
                add(ERROR, "label_changed", place, f"固定文字“{_fmt(text)}”被改为“{_fmt(got)}”",
                    "请使用原模板重新填报")
            else:
                add(WARNING, "extra_content", place, f"锁定的空白单元格被写入“{_fmt(got)}”", "请删除该内容")
    for rc, value in exp.consts.items():
        at, cell = moved(rc)
        if at is None:
            continue
        place = f"{main_name}!{a1(*at)}"
        got = cell.value if cell is not None else None
        if cell is not None and cell.has_formula:
            add(ERROR, "const_changed", place,
                f"锁定的{_const_name(exp, rc)}（{_fmt(float(value))}）被改为公式 ={_short(cell.formula)}",
                "请使用原模板重新填报")
        elif not isinstance(got, float) or abs(got - float(value)) > 1e-9:
            add(ERROR, "const_changed", place,
                f"锁定的{_const_name(exp, rc)}被改为 {_fmt(got)}（模板规定为 {_fmt(float(value))}）",
                "分值由评分规则确定，不得修改；请使用原模板重新填报")
    if structural:
        for rc in exp.inputs:
            moved(rc)

    # --- content outside the form
    last_row = loc.rows(exp.last_row) or exp.last_row
    last_col = loc.cols(exp.last_col) or exp.last_col
    extra = sorted((c for c in map(cells.__getitem__, cells.keys() - accounted) if not c.empty),
                   key=lambda c: (c.row, c.col))
    outside = [c for c in extra if c.row > last_row or c.col > last_col]
    inside = [c for c in extra if not (c.row > last_row or c.col > last_col)]
    if outside:
        add(WARNING, "content_outside", f"{main_name}!{outside[0].ref}",
            f"表格区域（A1:{col_letters(last_col)}{last_row}）外有 {len(outside)} 个单元格有内容"
            f"（如 {'、'.join(c.ref for c in outside[:5])}）",
            "请删除表格外的内容；自评数据只认模板中的单元格")
    if inside:
        add(WARNING, "extra_content", f"{main_name}!{inside[0].ref}",
            f"模板的锁定区域中有 {len(inside)} 个单元格被写入内容（如 {'、'.join(c.ref for c in inside[:5])}）",
            "请删除这些内容，或使用原模板重新填报")

    # --- merges and validation (only meaningful when nothing moved)
    if not loc.structural:
        got_merges = set(sheet.merges)
        if got_merges != exp.merges:       # the usual copy has the template's very merges: nothing to normalise
            got_merges = {m.replace("$", "") for m in sheet.merges}
        lost = sorted(exp.merges - got_merges, key=_ref_sort)
        added = sorted(got_merges - exp.merges, key=_ref_sort)
        if lost or added:
            parts = []
            if lost:
                parts.append(f"取消合并 {len(lost)} 处（如 {'、'.join(lost[:3])}）")
            if added:
                parts.append(f"新增合并 {len(added)} 处（如 {'、'.join(added[:3])}）")
            add(WARNING, "merges_changed", f"{main_name}!{(lost or added)[0]}", "合并单元格被改动：" + "，".join(parts),
                "请使用原模板重新填报")
        have: set[tuple[int, int]] = set()
        for _t, _f, sqref in sheet.validations[:200]:
            have |= _sqref_cells(sqref) & exp.validation_cells
        missing = exp.validation_cells - have
        if missing:
            first = min(missing)
            add(WARNING, "validation_removed", f"{main_name}!{a1(*first)}",
                f"{len(missing)} 个填报单元格的数据有效性（下拉列表、数值范围）被删除",
                "请使用原模板重新填报，下拉列表可防止填错指标性质和一级、二级指标")

    # --- the dictionary sheet: dropdown lists and the template's identity
    if dict_name is not None:
        dsheet = pkg.sheet(dict_name)
        changed = []
        for rc, value in exp.dict_cells.items():
            got = dsheet.value(a1(*rc))
            if norm_label(got) != norm_label(value):
                changed.append((rc, value, got))
        for rc, cell in dsheet.cells.items():
            if rc not in exp.dict_cells and not cell.empty:
                changed.append((rc, None, cell.value))
        changed.sort()
        for rc, value, got in changed[:10]:
            add(ERROR, "dict_changed", f"{dict_name}!{a1(*rc)}",
                f"下拉列表/模板标识单元格被改动：应为“{_fmt(value)}”，现为“{_fmt(got)}”", "请使用原模板重新填报")
        if len(changed) > 10:
            add(ERROR, "dict_changed", dict_name, f"另有 {len(changed) - 10} 处被改动", "")


def _refine_rows(votes: dict[int, Counter], rows: AxisMap, cols: AxisMap, exp: Expected, sheet: SheetXML) -> AxisMap:
    """Place inserted/deleted rows inside a stretch the names only bound (e.g. the 30 indicator rows).

    Every template row has a signature, the columns holding formulas; a row Excel inserts has none. Walking
    the template rows and the workbook's rows of the stretch side by side, rows whose signature does not
    match are the inserted ones (or, for a deletion, the missing template rows). Rows that all look alike
    are matched from the top.
    """
    template_sig: dict[int, set[int]] = {}
    for (r, c) in exp.raw_formulas:
        template_sig.setdefault(r, set()).add(c)
    actual_sig: dict[int, set[int]] = {}
    for (r, c), cell in sheet.cells.items():
        if cell.has_formula:
            actual_sig.setdefault(r, set()).add(c)
    refined = {e: Counter(v) for e, v in votes.items()}
    keys = rows.keys
    for e1, e2 in zip(keys, keys[1:]):
        d1, d2 = rows.delta[e1], rows.delta[e2]
        if d1 == d2 or e2 - e1 > 5000 or abs(d2 - d1) > 5000:
            continue
        template = list(range(e1 + 1, e2))
        actual = list(range(e1 + d1 + 1, e2 + d2))
        spare = len(actual) - len(template)

        def sig(e: int) -> set:
            return {cols(c) for c in template_sig.get(e, ())}

        i = j = 0
        while i < len(actual) and j < len(template):
            if spare == 0 or actual_sig.get(actual[i], set()) == sig(template[j]):
                refined[template[j]] = Counter({actual[i] - template[j]: 1})
                i += 1
                j += 1
            elif spare > 0:
                i += 1
                spare -= 1
            else:
                j += 1
                spare += 1
    return AxisMap(refined)


def _label_index(sheet: SheetXML) -> dict[str, list[tuple[int, int]]]:
    out: dict[str, list[tuple[int, int]]] = {}
    for rc, cell in sheet.cells.items():
        if isinstance(cell.value, str) and cell.value:
            out.setdefault(norm_label(cell.value), []).append(rc)
    return out


def _ref_sort(ref: str) -> tuple[int, int]:
    rc = parse_ref(ref.split(":")[0])
    return rc or (0, 0)


def _shift_expected(formula: str, loc: Located) -> str | None:
    bad = []

    def shift(m: re.Match) -> str:
        cabs, col, rabs, row = m.group(1), m.group(2), m.group(3), m.group(4)
        at = loc.where((int(row), col_index(col)))
        if at is None:
            bad.append(m.group(0))
            return m.group(0)
        return f"{cabs}{col_letters(at[1])}{rabs}{at[0]}"

    out = map_refs(formula, shift)
    return None if bad else out


def _cell_label(exp: Expected, rc: tuple[int, int]) -> str:
    """A readable name for a formula cell: its defined name, or the column header and row number."""
    name = exp.name_of_cell.get(rc)
    if name:
        return f"“{name}”"
    layout = exp.layout
    if rc[0] in layout.indicator_rows:
        i = layout.indicator_rows.index(rc[0]) + 1
        col = col_letters(rc[1])
        header = next((spec["header"] for spec, letter in zip(layout.form.columns, layout.form.col.values())
                       if letter == col), col)
        return f"第{i}行指标的“{header}”"
    if rc[0] in layout.fund_rows:
        src = layout.profile.fund_sources[layout.fund_rows.index(rc[0])]
        return f"“{src}”的执行率"
    return f"单元格 {a1(*rc)}"


def _const_name(exp: Expected, rc: tuple[int, int]) -> str:
    name = exp.name_of_cell.get(rc)
    return f"“{name}”" if name else "分值"
