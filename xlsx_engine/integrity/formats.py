"""自评表 in other formats, read into plain grids for :func:`xlsx_engine.integrity.legacy.read_tables`.

* ``.xls`` (and a WPS ``.et`` that is a BIFF workbook) — python-calamine reads values and merged ranges.
* ``.et`` that calamine cannot read — converted to .xlsx by LibreOffice when it is installed.
* ``.docx`` 自评报告 — each Word table becomes a sheet (merged cells from python-docx's grid); the report's
  paragraphs are kept so the figures it states (执行率, 总分, 等次) can be compared with its own table.

These files carry no template identity, formulas or protection: only the printed figures are checked.
Limits: at most :data:`MAX_CELLS` cells per sheet and :data:`MAX_SHEETS` sheets are read.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import python_calamine

from xlsx_engine.integrity.tamper import SheetXML, XCell, a1
from xlsx_engine.kernel.errors import WorkbookError
from xlsx_engine.ooxml.recalc import RecalcError, convert_files, find_soffice
from xlsx_engine.ooxml.safezip import RESAVE_DOCX, open_office_zip

MAX_CELLS = 200_000         #: cells read from one sheet / table
MAX_SHEETS = 64
_NUMBER_TEXT = re.compile(r"^-?\d{1,15}(?:\.(\d{1,10}))?$")
_TEXT_STYLE = 1000          #: style index of a number read from text with n decimals: _TEXT_STYLE + n


class GridBook:
    """Worksheets as plain grids: the part of a workbook package :func:`legacy.read_tables` uses."""

    def __init__(self, where: str, sheets: list[SheetXML], paragraphs: list[str] | None = None):
        self.where = where
        self._sheets = {s.name: s for s in sheets}
        self.sheets = [(s.name, "visible", s.name) for s in sheets]
        self.member_set = set(self._sheets)
        #: numbers read from text keep the decimals they were written with ("9.50" shows 2)
        self.style_formats: dict[int, tuple[bool, int | None]] = {_TEXT_STYLE + n: (False, n) for n in range(11)}
        self.paragraphs = paragraphs or []     #: the text of a Word report outside its tables

    def sheet(self, name: str) -> SheetXML:
        return self._sheets[name]


def _put(sheet: SheetXML, r: int, c: int, value, *, text_numbers: bool = False) -> None:
    """One cell; with ``text_numbers`` a plain number written as text ("9.50") becomes the number, shown with
    the decimals written."""
    if value is None or value == "":
        return
    m = _NUMBER_TEXT.match(value) if text_numbers and isinstance(value, str) else None
    if m:
        sheet.cells[(r, c)] = XCell(r, c, float(value), None, True, _TEXT_STYLE + len(m.group(1) or ""))
        return
    if isinstance(value, bool):
        value = "TRUE" if value else "FALSE"
    elif isinstance(value, int):
        value = float(value)
    elif not isinstance(value, (float, str)):
        value = str(value)                     # dates, times: as printed text
    sheet.cells[(r, c)] = XCell(r, c, value, None, True)


def read_calamine(path: Path) -> GridBook:
    """An .xls (or BIFF .et) workbook's values and merged ranges.

    Raises:
        WorkbookError: calamine cannot read it.
    """
    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        sheets = []
        for name in book.sheet_names[:MAX_SHEETS]:
            cs = book.get_sheet_by_name(name)
            sheet = SheetXML(name)
            for r, row in enumerate(cs.iter_rows(), 1):
                if len(sheet.cells) > MAX_CELLS:
                    break
                for c, value in enumerate(row, 1):
                    _put(sheet, r, c, value)
            for (r0, c0), (r1, c1) in (cs.merged_cell_ranges or []):
                sheet.merges.append(f"{a1(r0 + 1, c0 + 1)}:{a1(r1 + 1, c1 + 1)}")
            sheets.append(sheet)
    except Exception as exc:  # calamine raises its own error types
        raise WorkbookError(f"旧版工作簿无法读取（{type(exc).__name__}）", where=str(path),
                            hint="请在 Excel/WPS 中另存为“Excel 工作簿（.xlsx）”后提交") from None
    return GridBook(str(path), sheets)


def has_libreoffice() -> bool:
    return find_soffice() is not None


def convert_with_libreoffice(path: Path, outdir: Path) -> Path:
    """A WPS .et (or another format LibreOffice reads) converted to .xlsx in ``outdir``.

    Raises:
        WorkbookError: LibreOffice could not convert the file.
    """
    try:
        return convert_files([path], outdir, "xlsx", timeout=120)[Path(path).resolve()]
    except (RecalcError, KeyError, OSError) as exc:
        raise WorkbookError(f"LibreOffice 无法转换此文件（{exc}）", where=str(path),
                            hint="请在 WPS 中另存为“Excel 工作簿（.xlsx）”后提交") from None


def temp_dir() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="jxzp-convert-")


def read_docx(path: Path) -> GridBook:
    """The tables of a Word 自评报告, one sheet each ("表1", "表2"…), with merged cells; and its paragraphs.

    Raises:
        WorkbookError: not a readable .docx.
    """
    with open_office_zip(path, "docx"):    # the bounds every untrusted file gets, before python-docx expands it
        pass
    try:
        import docx  # python-docx: only when a Word report is read (start-up of the other commands)

        document = docx.Document(str(path))
    except Exception as exc:  # noqa: BLE001 — python-docx on a damaged file: any of its errors means "damaged"
        raise WorkbookError(f"Word 文档已损坏，无法读取（{type(exc).__name__}）", where=str(path),
                            hint=RESAVE_DOCX) from None
    spans = [span.get(_W_VAL) for span in document.element.iter(_W_GRID_SPAN)]
    if any(not (v or "").isdigit() or int(v) > MAX_GRID_SPAN for v in spans):
        raise WorkbookError("Word 文档的表格结构异常（合并单元格的跨列数无效），无法读取", where=str(path),
                            hint=RESAVE_DOCX)
    try:
        sheets = [_table_sheet(table, k) for k, table in enumerate(document.tables[:MAX_SHEETS], 1)]
        paragraphs = [p.text.strip() for p in document.paragraphs if p.text.strip()]
    except (ValueError, IndexError, KeyError, AttributeError, TypeError) as exc:   # markup python-docx cannot walk
        raise WorkbookError(f"Word 文档的表格结构异常，无法读取（{type(exc).__name__}）", where=str(path),
                            hint=RESAVE_DOCX) from None
    return GridBook(str(path), sheets, paragraphs)


#: Word's own limit on a table's columns (63): a cell spanning more is not Word's, and python-docx would build a
#: tuple of that many cells for it before any bound applies
MAX_GRID_SPAN = 63
#: rows of a Word table read: a 自评表 has well under a hundred; python-docx resolves a vertically merged cell by
#: walking up the rows (three thousand chained rows took 28 s), so a longer table is read to here
MAX_TABLE_ROWS = 400
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_W_GRID_SPAN, _W_VAL = f"{_W}gridSpan", f"{_W}val"


def _table_sheet(table, k: int) -> SheetXML:
    """One Word table as a grid, with its merged cells (at most :data:`MAX_TABLE_ROWS` rows, :data:`MAX_CELLS`)."""
    sheet = SheetXML(f"表{k}")
    spans: dict = {}                       # the cell element (kept alive, so one node is one key) -> box
    count = 0
    for r, row in enumerate(table.rows[:MAX_TABLE_ROWS], 1):
        for c, cell in enumerate(row.cells, 1):
            count += 1
            if count > MAX_CELLS:
                break
            key = cell._tc
            box = spans.get(key)
            if box is None:
                spans[key] = [r, c, r, c]
                _put(sheet, r, c, cell.text.strip(), text_numbers=True)
            else:
                box[2], box[3] = max(box[2], r), max(box[3], c)
    sheet.merges = [f"{a1(r0, c0)}:{a1(r1, c1)}" for r0, c0, r1, c1 in spans.values() if (r0, c0) != (r1, c1)]
    return sheet
