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

from xlsx_engine.forms.project.layout import Layout, layout_for_meta
from xlsx_engine.forms.project.record import FundLine, Goal, IndicatorRow, ProjectRecord
from xlsx_engine.forms.project.scoring import Result
from xlsx_engine.kernel.errors import TemplateError, WorkbookError
from xlsx_engine.ooxml.filler import NS, read_custom_properties
from xlsx_engine.ooxml.safezip import open_workbook_zip, parse_xml, read_member

MAX_GRID_CELLS = 2_000_000   #: a sheet's used area larger than this is refused (calamine reads it densely)
_CELL = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")


def col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def col_letters(index: int) -> str:
    out = ""
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def split_ref(ref: str) -> tuple[int, int]:
    """"$C$3" -> (row 3, column 3)."""
    m = _CELL.match(ref)
    if not m:
        raise ValueError(ref)
    return int(m.group(2)), col_index(m.group(1))


@dataclass(frozen=True)
class NameRef:
    """Where a defined name points: a sheet and a rectangular range (1-based, inclusive)."""

    sheet: str
    first: tuple[int, int]
    last: tuple[int, int]

    @property
    def cells(self) -> list[str]:
        return [f"{col_letters(c)}{r}" for r in range(self.first[0], self.last[0] + 1)
                for c in range(self.first[1], self.last[1] + 1)]

    @property
    def size(self) -> int:
        return (self.last[0] - self.first[0] + 1) * (self.last[1] - self.first[1] + 1)

    @property
    def a1(self) -> str:
        first = f"{col_letters(self.first[1])}{self.first[0]}"
        return first if self.first == self.last else f"{first}:{col_letters(self.last[1])}{self.last[0]}"


def parse_name_ref(text: str) -> NameRef | None:
    """Parse "'自评表'!$C$3:$C$5"; None for anything else (#REF!, formulas, several areas)."""
    text = text.strip()
    if "!" not in text:
        return None
    sheet, _, rng = text.rpartition("!")
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    parts = rng.split(":")
    try:
        first = split_ref(parts[0])
        last = split_ref(parts[1]) if len(parts) == 2 else first
    except ValueError:
        return None
    if len(parts) > 2:
        return None
    return NameRef(sheet, first, last)


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
    """A project workbook read back: its layout, the record of its inputs and its cached results."""

    workbook: Workbook
    layout: Layout
    record: ProjectRecord
    cached: dict[str, Any]

    def evaluate(self) -> Result:
        return self.layout.evaluate(self.record)[1]


#: Named results compared by ``jxzp score``: name -> how to get the Python value.
RESULT_NAMES = {
    "年初预算数": lambda r: r.fund.initial,
    "全年预算数": lambda r: r.fund.budget,
    "全年执行数": lambda r: r.fund.spent,
    "执行率": lambda r: r.fund.rate,
    "资金得分": lambda r: r.fund.score,
    "指标分值合计": lambda r: r.weight_sum,
    "指标得分合计": lambda r: r.score_sum,
    "总分分值": lambda r: r.total_weight,
    "总分": lambda r: r.total,
    "评价等次": lambda r: r.grade,
    "校验结论": lambda r: r.verdict,
}


def record_by_names(wb: Workbook, layout: Layout) -> ProjectRecord:
    """Rebuild the record from the workbook's defined names.

    Raises:
        TemplateError: a required name is missing or points nowhere.
    """
    def values(name: str) -> list[Any]:
        try:
            got = wb.name_values(name)
        except KeyError:
            raise TemplateError(f"缺少名称“{name}”或其引用已失效（#REF!）", where=str(wb.path),
                                hint="名称被删除或所在行列被删除，请使用原始模板重新填报") from None
        expected = parse_name_ref(layout.names[name]) if name in layout.names else None
        if expected is not None and len(got) != expected.size:
            raise TemplateError(f"名称“{name}”指向 {len(got)} 个单元格，模板中应为 {expected.size} 个",
                                where=str(wb.path), hint="表格的行或列被插入或删除，请使用原始模板重新填报")
        return got

    def one(name: str) -> Any:
        return values(name)[0]

    p = layout.profile
    rec = ProjectRecord(p.id, year=one("年度"), project=one("项目名称"), department=one("主管部门"),
                        unit=one("实施单位"), rate_reason=one("执行率说明"))
    for source, a, b, c in zip(p.fund_sources, values("来源年初预算数"), values("来源全年预算数"),
                               values("来源全年执行数")):
        rec.funds.append(FundLine(source, a, b, c))
    rec.goals = [Goal(e, a) for e, a in zip(values("预期目标"), values("实际完成情况"))]
    if p.has_target_block:
        rec.target_score = one("目标自评分")
    cols = {spec["key"]: values(spec["name"]) for spec in layout.form.columns}
    keys = ("level1", "level2", "name", "op", "target", "unit", "actual", "band", "weight", "manual", "reason")
    for i in range(len(cols["name"])):
        rec.indicators.append(IndicatorRow(**{k: cols[k][i] for k in keys}))
    return rec


def read_form(path: str | Path) -> ReadBack:
    """Read any workbook made from one of our templates (every form), cell by cell through its layout.

    ``cached`` maps every single-cell defined name that holds a formula to the workbook's cached value.

    Raises:
        WorkbookError: unreadable file. TemplateError: not one of our templates.
    """
    wb = open_workbook(path)
    if "评分规则" not in wb.meta:
        raise TemplateError("不是本系统模板生成的工作簿（缺少模板标识）", where=str(path),
                            hint="其他来源的自评表请先用 jxzp import 转换")
    layout = layout_for_meta(wb.meta)
    record = layout.record_from_cells(lambda ref: wb.value(layout.sheet, ref))
    cached = {}
    for name, text in layout.names.items():
        ref = parse_name_ref(text)
        cell = layout.cells.get(ref.a1.replace("$", "")) if ref and ref.first == ref.last else None
        if cell is not None and cell.formula and name in wb.names:
            cached[name] = wb.name_value(name)
    return ReadBack(wb, layout, record, cached)


def read_project(path: str | Path) -> ReadBack:
    """Read a filled project workbook made from one of our templates.

    Raises:
        WorkbookError: unreadable file. TemplateError: not one of our templates, or names missing.
    """
    wb = open_workbook(path)
    if "评分规则" not in wb.meta:
        raise TemplateError("不是本系统模板生成的工作簿（缺少模板标识）", where=str(path),
                            hint="其他来源的自评表请先用 jxzp import 转换")
    layout = layout_for_meta(wb.meta)
    record = record_by_names(wb, layout)
    cached = {}
    for name in RESULT_NAMES:
        try:
            cached[name] = wb.name_value(name)
        except KeyError:
            cached[name] = None
    try:
        cached["得分"] = wb.name_values("得分")
    except KeyError:
        cached["得分"] = []
    return ReadBack(wb, layout, record, cached)
