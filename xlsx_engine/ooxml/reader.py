"""Read a filled workbook back: its identity, its defined names and the values behind them.

Values come from python-calamine (cached results, never recalculated); defined
names are read from ``xl/workbook.xml`` with an entity-free parser. A record is
rebuilt *by name*, so a unit that moved cells around is still read correctly,
and the Python scorer's results can be set beside the workbook's cached values.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import python_calamine

from xlsx_engine.kernel.errors import WorkbookError
from xlsx_engine.ooxml.cells import (
    NameRef,
    parse_name_ref,
    split_ref,
)
from xlsx_engine.ooxml.filler import NS, read_custom_properties
from xlsx_engine.ooxml.safezip import open_workbook_zip, parse_xml, read_member
from xlsx_engine.ooxml.sheetmodel import SheetLayout

MAX_GRID_CELLS = 2_000_000   #: a sheet's used area larger than this is refused (calamine reads it densely)
_CELL = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")


@dataclass
class Workbook:
    """The readable content of an .xlsx: identity, names, sheets and cached cell values."""

    path: Path
    meta: dict[str, str]
    sheet_names: list[str]
    names: dict[str, NameRef]
    raw_names: dict[str, str]
    members: list[str]
    _grids: dict[str, tuple[tuple[int, int], list[list[Any]]]] = field(default_factory=dict, repr=False)
    _book: Any = field(default=None, repr=False)

    def grid(self, sheet: str) -> tuple[tuple[int, int], list[list[Any]]]:
        if sheet not in self._grids:
            if sheet not in self.sheet_names:
                raise WorkbookError(f"没有名为“{sheet}”的工作表", where=str(self.path))
            try:
                ws = self._book.get_sheet_by_name(sheet)
                if (ws.height or 0) * (ws.width or 0) > MAX_GRID_CELLS:
                    raise WorkbookError(f"工作表“{sheet}”的使用区域过大（{ws.height}行×{ws.width}列），拒绝读取",
                                        where=str(self.path), hint="请删除远处的多余内容后另存，或使用原模板重新填报")
                self._grids[sheet] = (ws.start or (0, 0), ws.to_python(skip_empty_area=False))
            except WorkbookError:
                raise
            except Exception as exc:  # calamine raises its own error types
                raise WorkbookError(f"无法读取工作表“{sheet}”：{exc}", where=str(self.path)) from None
        return self._grids[sheet]

    def value(self, sheet: str, ref: str) -> Any:
        """A cell's cached value: float, str, bool, or None when empty."""
        (r0, c0), rows = self.grid(sheet)
        row, col = split_ref(ref)
        i, j = row - 1 - r0, col - 1 - c0
        if i < 0 or j < 0 or i >= len(rows) or j >= len(rows[i]):
            return None
        v = rows[i][j]
        if v == "":
            return None
        if isinstance(v, bool):
            return v
        if isinstance(v, int):
            return float(v)
        if hasattr(v, "isoformat"):
            return v.isoformat()
        return v

    def name_values(self, name: str) -> list[Any]:
        """The cached values of a defined name's cells, row by row.

        Raises:
            KeyError: no such name (or it points nowhere). WorkbookError: the range is absurdly large.
        """
        ref = self.names.get(name)
        if ref is None:
            raise KeyError(name)
        if ref.size > MAX_GRID_CELLS:
            raise WorkbookError(f"名称“{name}”指向的区域过大（{ref.a1}），拒绝读取", where=str(self.path),
                                hint="请使用原始模板重新填报")
        return [self.value(ref.sheet, cell) for cell in ref.cells]

    def name_value(self, name: str) -> Any:
        return self.name_values(name)[0]


def open_workbook(path: str | Path) -> Workbook:
    """Open any .xlsx safely and read its identity and defined names.

    Raises:
        WorkbookError: the file cannot be read (see :func:`~xlsx_engine.safezip.open_workbook_zip`).
    """
    path = Path(path)
    where = str(path)
    with open_workbook_zip(path) as zf:
        members = zf.namelist()
        meta = read_custom_properties(zf, where)
        wb_xml = parse_xml(read_member(zf, "xl/workbook.xml", where, 8 << 20), where)
        data = path.read_bytes()
    sheets = [s.get("name") for s in wb_xml.iterfind("m:sheets/m:sheet", NS)]
    raw_names: dict[str, str] = {}
    names: dict[str, NameRef] = {}
    for dn in wb_xml.iterfind("m:definedNames/m:definedName", NS):
        if dn.get("localSheetId") is not None:
            continue
        name, text = dn.get("name"), dn.text or ""
        raw_names[name] = text
        ref = parse_name_ref(text)
        if ref is not None:
            names[name] = ref
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:
        raise WorkbookError(f"无法读取工作簿内容：{exc}", where=where, hint="文件可能已损坏") from None
    return Workbook(path, meta, sheets, names, raw_names, members, _book=book)


@dataclass
class ReadBack:
    """A workbook of one of our forms read back: its layout, the record of its inputs and its cached results."""

    workbook: Workbook
    layout: SheetLayout
    record: Any
    cached: dict[str, Any]

    def evaluate(self) -> Any:
        return self.layout.evaluate(self.record)[1]


def cached_formula_values(wb: Workbook, layout: SheetLayout) -> dict[str, Any]:
    """Every single-cell defined name that holds a formula, mapped to the workbook's cached value."""
    cached = {}
    for name, text in layout.names.items():
        ref = parse_name_ref(text)
        cell = layout.cells.get(ref.a1.replace("$", "")) if ref and ref.first == ref.last else None
        if cell is not None and cell.formula and name in wb.names:
            cached[name] = wb.name_value(name)
    return cached


