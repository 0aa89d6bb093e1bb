"""Read 项目支出绩效自评表 that were not made from our templates, by finding their labels.

Units fill the national form (docs/rules.md#form-layout) in countless variants: the table starts in another column,
a blank row is inserted, labels carry weights ("产出指标(50分)") or line breaks ("年度\\n指标值"), level-1
and level-2 cells are merged down, targets combine operator, number and unit ("≥95%", "≤90万元",
"≥100百分比"), the fund block is a grid (年初预算数 | 全年预算数 | 全年执行数 | 分值 | 执行率 | 得分) or
label–value pairs (计划安排资金 | 28545.30 | 实际支出 | …). Nothing here depends on a fixed cell position:
each part is found by its label, and values are read relative to it.

The result, a :class:`Table`, keeps every printed value with its cell (so a check can compare printed
scores with recomputed ones and name the place), and converts to

* a :class:`~xlsx_engine.record.ProjectRecord` for the Python scorer (:func:`to_record`), and
* the data-file mapping ``jxzp fill`` takes (:func:`to_data`), with the printed scores under
  ``其他信息.原表``.

Files are read with :mod:`xlsx_engine.integrity.tamper`'s safe, sparse package reader; nothing is executed.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from xlsx_engine.forms.project.profile import Profile, load_profile
from xlsx_engine.forms.project.record import FundLine, Goal, IndicatorRow, ProjectRecord
from xlsx_engine.integrity.tamper import Package, SheetXML, a1, parse_ref
from xlsx_engine.kernel.targets import (
    DATE_UNIT,
    KIND_DEADLINE,
    OP_QUAL,
    Target,
    TargetSyntaxError,
    date_number,
    looks_like_target,
    normalize_op,
    normalize_unit,
    parse_deadline,
    parse_quantity,
    parse_target,
)
from xlsx_engine.kernel.xlmath import is_number, xnum, xround

MAX_TABLE_ROWS = 200      #: indicator rows read from one table
MAX_MERGE_AREA = 20000    #: merged ranges larger than this are treated as their top-left cell only

_WS = re.compile(r"\s+")


def norm(value: Any) -> str:
    """Label text for matching: NFKC (full-width → ASCII), no whitespace, no trailing colon."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    text = _WS.sub("", text).replace("\u3000", "")
    return text.rstrip(":：")


def _rx(pattern: str) -> re.Pattern:
    return re.compile(pattern)


# --------------------------------------------------------------------------- label patterns
PROJECT = _rx(r"^项目名称$")
DEPARTMENT = _rx(r"^主管部门(名称)?$")
UNIT = _rx(r"^(实施单位|项目单位|实施单位名称|实施)$")
YEAR_LABEL = _rx(r"^(评价年度|年度|自评年度)$")
YEAR_TEXT = _rx(r"(?<!\d)((?:19|20)\d{2})年度")

FUND_KEYS = {
    "initial": _rx(r"^年初预算(数)?"),
    "budget": _rx(r"^(全年预算数|全年预算|调整后预算数|预算数|计划安排资金|预算安排数|全年预算金额)"),
    "spent": _rx(r"^(全年执行数|执行数|实际支出|全年支出数|实际执行数|支出数|全年执行)"),
    "arrived": _rx(r"^实际到位资金"),
    "balance": _rx(r"^结余"),
    "weight": _rx(r"^分值(\(.*\))?$"),
    "rate": _rx(r"^(预算)?执行率(\(.*\))?$"),
    "score": _rx(r"^(得分|自评分|评分|自评得分)(\(.*\))?$"),
}
FUND_TOTAL = _rx(r"^(其中:)?(年度资金总额|年度财政资金总额|资金总额|项目资金总额|合计|总计)$")
FUND_BLOCK = _rx(r"^(项目资金|资金|资金情况|(?:项目)?预算执行情况)(\(万元\))?(\((\d+(?:\.\d+)?)分\))?")

GOAL_BLOCK = _rx(r"^(年度总体目标|项目绩效目标|项目绩效总目标|总体目标|年度绩效目标|项目绩效定性目标)")
GOAL_EXPECTED = _rx(r"^(预期目标|年初设定目标|年度目标|目标内容|预期目标内容)")
GOAL_ACTUAL = _rx(r"^(实际完成情况|全年实际完成情况|实际完成|完成情况|年度总体目标完成情况(综述)?)$")
GOAL_SCORE = _rx(r"^(自评分|得分|评分)$")

IND_KEYS = [   # order matters: the first pattern that matches a header cell wins
    ("manual", _rx(r"^自评分\(定性\)$")),
    ("band", _rx(r"^完成等级")),
    ("message", _rx(r"^提示")),
    ("level1", _rx(r"^一级指标$")),
    ("level2", _rx(r"^二级指标$")),
    ("name", _rx(r"^(三级指标|指标内容|指标名称|三级指标名称|绩效指标名称|三级指标内容)$")),
    ("op", _rx(r"^(指标性质|计算符号|比较符号)$")),
    ("target", _rx(r"^(年度指标值|指标值|年度目标值|目标值|指标\(目标\)值|预期指标值|年度预期指标值|绩效目标值|年度指标|"
                   r"年初目标值|年初指标值)(\([A-Z]\))?$")),
    ("unit", _rx(r"^(度量单位|计量单位|单位)$")),
    ("actual", _rx(r"^(实际完成值|全年完成值|完成值|全年实际完成值|实际值|全年实际值|实际完成情况|实际完成|实际完成指标值)"
                   r"(\([A-Z]\))?$")),
    ("weight", _rx(r"^(分值|权重|指标分值|权重分值|指标权重)(\(.*\))?$")),
    ("score", _rx(r"^(得分|自评分|评分|自评得分|实际得分|指标得分)(\(.*\))?$")),
    ("reason", _rx(r"^(偏差原因|未完成原因|偏差原因分析|原因分析|偏差分析)")),
]
IND_BLOCK = _rx(r"^(绩效指标|年度绩效指标|项目绩效定量目标)(.*\((\d+(?:\.\d+)?)分\))?")
TOTAL = _rx(r"^(总分|合计总分|总计|项目总分)(\(.*\))?$")
OVERALL = _rx(r"^(自评得分|综合得分|绩效自评综合得分|总得分|自评总分|评价得分|绩效自评得分)$")
GRADE = _rx(r"^(评价等次|自评等次|评价等级|自评等级|等次|等级|评价结果)$")
STOP = _rx(r"^(总分|合计|小计|说明|备注|填报人|评价人员|审核|[四五六七八九十]、|绩效自评综合得分|自评得分|综合得分|"
           r"评价等次|自评等次|校验结论|校验提示|评分规则)")
PLACEHOLDER = _rx(r"^指标\d*[.、]?$")
WEIGHT_IN_LABEL = _rx(r"^(.*?)\((\d+(?:\.\d+)?)分\)$")
SECTION = _rx(r"^(年度总体目标|项目绩效目标|项目绩效总目标|绩效指标|年度绩效指标|项目绩效定量目标|项目绩效定性目标|"
              r"一级指标|[一二三四五六七八九十]、)")

KNOWN_LABELS = [PROJECT, DEPARTMENT, UNIT, YEAR_LABEL, FUND_BLOCK, GOAL_BLOCK, GRADE, TOTAL, OVERALL] + \
    list(FUND_KEYS.values())


# --------------------------------------------------------------------------- printed cells

@dataclass
class PCell:
    """A printed value and where it is (``sheet!A1``)."""

    value: Any
    ref: str
    pct: bool = False        #: a number shown with a percent format (0.95 shown as 95%)
    format_places: int | None = None   #: decimals the number format shows (None: General)

    @property
    def text(self) -> str:
        if self.value is None:
            return ""
        if isinstance(self.value, float):
            v = self.value * 100 if self.pct else self.value
            s = f"{v:.{self.format_places}f}" if self.format_places is not None else f"{v:.10g}"
            return s + ("%" if self.pct else "")
        return str(self.value).strip()

    @property
    def blank(self) -> bool:
        return self.value is None or (isinstance(self.value, str) and not self.value.strip())


def number(pc: PCell | None) -> float | None:
    """A printed amount/score as a number: 108, "108", "1,200.5", "10分"; None for blanks, "—", text."""
    if pc is None or pc.blank:
        return None
    v = pc.value
    if isinstance(v, bool):
        return None
    if isinstance(v, float):
        return v
    text = norm(v).replace(",", "")
    text = re.sub(r"(分|万元|万|元)$", "", text)
    try:
        return float(text)
    except ValueError:
        return None


def places(pc: PCell | None) -> int:
    """The decimals a printed figure shows, in the units printed (percent points for "97.80%"): the number
    format's fixed decimals, else the digits written (General format, text)."""
    if pc is None or pc.blank:
        return 0
    if isinstance(pc.value, float) and pc.format_places is not None:
        return pc.format_places
    text = pc.text.rstrip("%")
    text = re.sub(r"(分|万元|万|元)$", "", norm(text).replace(",", ""))
    if "e" in text.lower():
        return 15
    return len(text.split(".", 1)[1]) if "." in text else 0


def agrees(printed: float, digits: int, value: float) -> bool:
    """The precision rule (README 校验级别): a figure printed with ``digits`` decimals agrees with a
    recomputed ``value`` when it equals the value rounded (Excel ROUND) to those decimals."""
    return xround(value, digits) == xround(printed, digits)


def rate_value(pc: PCell | None) -> tuple[float | None, str, int]:
    """A printed 执行率 as a fraction: (value, how it was written, decimals of the percentage).

    how: "pct" (with a % sign or a percent format: "97.80%" has 2 decimals), "fraction" (a plain number
    ≤ 1.5: "0.98" means 98% and has 0 decimals of a percentage — two fewer than written, never fewer than 0),
    "no_pct" (a plain number > 1.5 — "79.27" meaning 79.27%), "text" (not a number), "blank".
    """
    if pc is None or pc.blank:
        return None, "blank", 0
    v = pc.value
    n = places(pc)
    if isinstance(v, float) and not isinstance(v, bool):
        if pc.pct:
            return v, "pct", n
        return (v, "fraction", max(n - 2, 0)) if v <= 1.5 else (v / 100, "no_pct", n)
    text = norm(v).replace(",", "")
    if text.endswith("%"):
        try:
            x = float(text[:-1])
        except ValueError:
            return None, "text", 0
        return x / 100, "pct", n
    try:
        x = float(text)
    except ValueError:
        return None, "text", 0
    return (x, "fraction", max(n - 2, 0)) if x <= 1.5 else (x / 100, "no_pct", n)


# --------------------------------------------------------------------------- grid

class Grid:
    """A worksheet for label finding: sparse cells, merges resolved, normalised label text."""

    def __init__(self, sheet: SheetXML, formats: dict[int, tuple[bool, int | None]]):
        self.name = sheet.name
        self.cells = sheet.cells
        self.formats = formats      #: style index -> (percentage?, decimals shown)
        self.span: dict[tuple[int, int], tuple[int, int, int, int]] = {}
        area = 0
        for m in sheet.merges:
            a, _, b = m.replace("$", "").partition(":")
            ra, rb = parse_ref(a), parse_ref(b or a)
            if not ra or not rb:
                continue
            r0, c0, r1, c1 = min(ra[0], rb[0]), min(ra[1], rb[1]), max(ra[0], rb[0]), max(ra[1], rb[1])
            size = (r1 - r0 + 1) * (c1 - c0 + 1)
            if size > MAX_MERGE_AREA or area + size > 20 * MAX_MERGE_AREA:
                continue
            area += size
            for r in range(r0, r1 + 1):
                for c in range(c0, c1 + 1):
                    self.span[(r, c)] = (r0, c0, r1, c1)
        self.text: dict[tuple[int, int], str] = {}
        self.rows: dict[int, list[int]] = {}
        for (r, c), cell in self.cells.items():
            if cell.value is None or cell.value == "":
                continue
            self.rows.setdefault(r, []).append(c)
            if isinstance(cell.value, str):
                self.text[(r, c)] = norm(cell.value)
        for cols in self.rows.values():
            cols.sort()
        self.row_numbers = sorted(self.rows)

    def ref(self, r: int, c: int) -> str:
        return f"{self.name}!{a1(r, c)}"

    def raw(self, r: int, c: int) -> Any:
        cell = self.cells.get((r, c))
        if cell is None or cell.value == "":
            return None
        return cell.value

    def top_left(self, r: int, c: int) -> tuple[int, int]:
        s = self.span.get((r, c))
        return (s[0], s[1]) if s else (r, c)

    def bounds(self, r: int, c: int) -> tuple[int, int, int, int]:
        return self.span.get((r, c), (r, c, r, c))

    def pcell(self, r: int, c: int, *, merged: bool = True) -> PCell:
        """The printed cell at (r, c); inside a merged range, the range's value when ``merged``."""
        if merged:
            r, c = self.top_left(r, c)
        cell = self.cells.get((r, c))
        value = None if cell is None or cell.value == "" else cell.value
        pct, shown = self.formats.get(cell.style, (False, None)) if cell is not None else (False, None)
        number = isinstance(value, float)
        return PCell(value, self.ref(r, c), pct and number, shown if number else None)

    def label(self, r: int, c: int) -> str:
        return self.text.get((r, c), "")

    def find(self, pattern: re.Pattern, rows: tuple[int, int] | None = None) -> list[tuple[int, int]]:
        out = []
        for rc, text in self.text.items():
            if rows and not rows[0] <= rc[0] <= rows[1]:
                continue
            if pattern.search(text):
                out.append(rc)
        out.sort()
        return out

    def right(self, r: int, c: int, limit: int = 40) -> PCell | None:
        """The first non-empty cell right of (r, c)'s merged range, in the same row; None past a known label."""
        end = self.bounds(r, c)[3]
        for cc in self.rows.get(r, ()):
            if cc <= end:
                continue
            if cc > end + limit:
                break
            if self.top_left(r, cc) != (r, cc):
                continue
            text = self.label(r, cc)
            if text and any(p.search(text) for p in KNOWN_LABELS):
                return None
            return self.pcell(r, cc)
        return None

    def first_in(self, r: int, c0: int, c1: int) -> PCell:
        """The first non-empty cell of row r within columns c0..c1 (a header that spans several columns)."""
        for c in range(c0, c1 + 1):
            pc = self.pcell(r, c, merged=False)
            if not pc.blank:
                return pc
            tl = self.top_left(r, c)
            if tl != (r, c) and tl[0] == r:
                pc = self.pcell(r, c)
                if not pc.blank:
                    return pc
        return self.pcell(r, c0, merged=False)

    def row_texts(self, r: int) -> list[tuple[int, str]]:
        return [(c, self.text[(r, c)]) for c in self.rows.get(r, ()) if (r, c) in self.text]


# --------------------------------------------------------------------------- the table

@dataclass
class FundRow:
    """One fund line as printed (年度资金总额 or a source)."""

    label: str
    ref: str
    values: dict[str, PCell] = field(default_factory=dict)   #: initial, budget, spent, arrived, balance, weight,
                                                              #: rate, score

    def num(self, key: str) -> float | None:
        return number(self.values.get(key))

    @property
    def empty(self) -> bool:
        return all(number(v) is None for k, v in self.values.items() if k in ("initial", "budget", "spent",
                                                                             "arrived", "balance"))


@dataclass
class Row:
    """One indicator row as printed."""

    row: int
    cells: dict[str, PCell]
    level1: str = ""          #: normalised level-1 text (after merge fill / forward fill, weight stripped)
    level2: str = ""

    def get(self, key: str) -> PCell | None:
        return self.cells.get(key)


@dataclass
class Table:
    """A 项目支出绩效自评表 found in one worksheet."""

    file: str
    sheet: str
    year: PCell | None = None
    project: PCell | None = None
    department: PCell | None = None
    unit: PCell | None = None
    fund_form: str | None = None               #: "grid" | "pairs" | None
    fund_total: FundRow | None = None
    fund_sources: list[FundRow] = field(default_factory=list)
    fund_headers: dict[str, PCell] = field(default_factory=dict)
    fund_weight_label: tuple[float, str] | None = None
    goals: list[tuple[PCell, PCell]] = field(default_factory=list)
    goal_label: PCell | None = None
    target_weight_label: tuple[float, str] | None = None
    target_score: PCell | None = None
    header_row: int = 0
    columns: dict[str, tuple[int, int]] = field(default_factory=dict)   #: key -> (first col, last col)
    rows: list[Row] = field(default_factory=list)
    level1_weights: dict[str, tuple[float, str]] = field(default_factory=dict)
    indicator_weight_label: tuple[float, str] | None = None
    total_weight: PCell | None = None
    total: PCell | None = None
    overall: PCell | None = None               #: a separate "自评得分"/"综合得分" cell
    grade: PCell | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def has_weights(self) -> bool:
        return "weight" in self.columns

    @property
    def has_scores(self) -> bool:
        return "score" in self.columns

    def label_rows(self) -> dict[str, list[int]]:
        """The rows under each level-1 label that prints a weight ("产出指标(50分)"), by the label as printed."""
        out: dict[str, list[int]] = {name: [] for name in self.level1_weights}
        for i, row in enumerate(self.rows):
            key = _clean_level(row.level1)
            if key in out:
                out[key].append(i)
        return out

    @property
    def weights_printed(self) -> bool:
        """Some indicator row prints a number in a 分值 column."""
        return self.has_weights and any(number(r.cells.get("weight")) is not None for r in self.rows)

    def place(self, key: str, i: int) -> str:
        """Where field ``key`` of row ``i`` is printed."""
        row = self.rows[i]
        pc = row.cells.get(key)
        if pc is not None:
            return pc.ref
        cols = self.columns.get(key) or self.columns.get("name") or next(iter(self.columns.values()), (1, 1))
        return f"{self.sheet}!{a1(row.row, cols[0])}"


def read_tables(pkg: Package) -> list[Table]:
    """Every 项目支出绩效自评表 found in the workbook (one per worksheet at most)."""
    out = []
    for name, _state, path in pkg.sheets:
        if not path or path not in pkg.member_set:
            continue
        grid = Grid(pkg.sheet(name), pkg.style_formats)
        table = read_grid(grid, pkg.where)
        if table is not None:
            out.append(table)
    return out


def read_grid(g: Grid, file: str = "") -> Table | None:
    """Find a 项目支出绩效自评表 in a worksheet by its labels; None when there is none."""
    t = Table(file, g.name)
    ind_header = _indicator_header(g)
    fund_header = _fund_header(g, ind_header[0] if ind_header else None)
    if ind_header is None and fund_header is None:
        return None
    for pattern, attr in ((PROJECT, "project"), (DEPARTMENT, "department"), (UNIT, "unit")):
        for r, c in g.find(pattern):
            pc = g.right(r, c)
            if pc is not None:
                setattr(t, attr, pc)
                break
    t.year = _year(g)
    if fund_header is not None:
        _read_fund_grid(g, t, fund_header, ind_header[0] if ind_header else None)
    else:
        _read_fund_pairs(g, t, ind_header[0] if ind_header else None)
    _read_goals(g, t, ind_header[0] if ind_header else None, fund_header[0] if fund_header else None)
    if ind_header is not None:
        _read_indicators(g, t, *ind_header)
    _read_totals(g, t)
    return t


def _year(g: Grid) -> PCell | None:
    for r, c in g.find(YEAR_LABEL):
        pc = g.right(r, c)
        if pc is not None and number(pc) is not None:
            return pc
    for r, c in sorted(g.text, key=lambda rc: rc)[:400]:
        m = YEAR_TEXT.search(g.text[(r, c)])
        if m:
            return PCell(float(m.group(1)), g.ref(r, c))
    return None


def _header_columns(g: Grid, r: int, patterns) -> dict[str, tuple[int, int]]:
    cols: dict[str, tuple[int, int]] = {}
    for c, text in g.row_texts(r):
        for key, pattern in patterns:
            if key not in cols and pattern.search(text):
                b = g.bounds(r, c)
                cols[key] = (b[1], b[3])
                break
    return cols


def _indicator_header(g: Grid) -> tuple[int, dict[str, tuple[int, int]]] | None:
    for r in g.row_numbers:
        texts = [t for _c, t in g.row_texts(r)]
        if not any(IND_KEYS[3][1].search(t) for t in texts):     # 一级指标
            continue
        cols = _header_columns(g, r, IND_KEYS)
        if "level1" in cols and ("name" in cols or "level2" in cols) and ("target" in cols or "actual" in cols):
            return r, cols
    for r in g.row_numbers:     # no level columns (重庆部门整体表: 指标名称 | … | 全年完成值 | 指标权重 | 指标得分)
        cols = _header_columns(g, r, IND_KEYS)
        if "name" in cols and "target" in cols and "actual" in cols and ("weight" in cols or "score" in cols):
            return r, cols
    return None


def _fund_header(g: Grid, before: int | None) -> tuple[int, dict[str, tuple[int, int]]] | None:
    patterns = list(FUND_KEYS.items())
    for r in g.row_numbers:
        if before is not None and r >= before:
            break
        cols = _header_columns(g, r, patterns)
        if "budget" not in cols and "initial" in cols and "spent" in cols:
            cols["budget"] = cols.pop("initial")      # 年初预算数(A) | 全年执行数(B) | 执行率(B/A): the only budget
        if "budget" in cols and ("spent" in cols or "rate" in cols or "initial" in cols):
            right = g.right(r, cols["budget"][0])
            if right is not None and number(right) is not None:
                continue     # label–value pairs on one line (计划安排资金 | 28545.30 | 实际支出 | …), not a header
            return r, cols
    return None


def _section_rows(g: Grid, start: int, stop: int | None) -> list[int]:
    return [r for r in g.row_numbers if r > start and (stop is None or r < stop)]


def _read_fund_grid(g: Grid, t: Table, header: tuple[int, dict], stop: int | None) -> None:
    r0, cols = header
    t.fund_form = "grid"
    for key, (c0, _c1) in cols.items():
        t.fund_headers[key] = g.pcell(r0, c0)
    first_col = min(c0 for c0, _ in cols.values())
    for r in range(max(1, r0 - 3), r0 + 1):       # the block label: "项目资金（万元）", "项目资金(20分)"
        for c, text in g.row_texts(r):
            m = FUND_BLOCK.match(text)
            if m and c < first_col and m.group(4):
                t.fund_weight_label = (float(m.group(4)), g.ref(r, c))
    end = max(g.bounds(r0, c0)[2] for c0, _ in cols.values())
    read = 0
    for r in _section_rows(g, end, stop):
        texts = g.row_texts(r)
        if any(SECTION.match(text) or GOAL_EXPECTED.match(text) for c, text in texts if c < first_col) and read:
            break
        if any(SECTION.match(text) for _c, text in texts) and read:
            break
        labels = [(c, g.label(r, c)) for c in g.rows.get(r, ()) if c < first_col and g.label(r, c)
                  and g.top_left(r, c) == (r, c)]
        values = {key: g.first_in(r, c0, c1) for key, (c0, c1) in cols.items()}
        if not labels and all(v.blank for v in values.values()):
            continue
        if labels and (SECTION.match(labels[-1][1]) or GOAL_BLOCK.match(labels[-1][1])):
            break
        label = labels[-1][1] if labels else ""
        line = FundRow(_strip_qizhong(label), g.ref(r, labels[-1][0]) if labels else g.ref(r, first_col),
                       {k: v for k, v in values.items() if not v.blank})
        read += 1
        if FUND_TOTAL.match(label) and t.fund_total is None:
            t.fund_total = line
        else:
            t.fund_sources.append(line)
        if read > 20:
            break


def _strip_qizhong(label: str) -> str:
    return re.sub(r"^其中[:：]?", "", label).strip(":：")


def _read_fund_pairs(g: Grid, t: Table, stop: int | None) -> None:
    """计划安排资金（万元）| 28545.30 | 实际到位资金 | … with the sources listed under each label."""
    found: dict[str, tuple[int, int]] = {}
    for key in ("budget", "arrived", "spent", "balance", "initial"):
        for r, c in g.find(FUND_KEYS[key]):
            if stop is not None and r >= stop:
                continue
            pc = g.right(r, c)
            if pc is not None and number(pc) is not None:
                found[key] = (r, c)
                break
    if "budget" not in found and "spent" not in found:
        return
    t.fund_form = "pairs"
    lines: dict[str, FundRow] = {}
    order: list[str] = []
    total = FundRow("年度资金总额", g.ref(*found.get("budget", found.get("spent"))))
    for key, (r, c) in found.items():
        t.fund_headers[key] = g.pcell(r, c)
        total.values[key] = g.right(r, c)
        rr = g.bounds(r, c)[2]
        for r2 in [x for x in g.row_numbers if x > rr][:12]:
            label = g.label(r2, c)
            if not label or SECTION.match(label) or any(p.search(label) for p in FUND_KEYS.values()):
                break
            name = _strip_qizhong(label)
            line = lines.get(name)
            if line is None:
                line = lines[name] = FundRow(name, g.ref(r2, c))
                order.append(name)
            pc = g.right(r2, c)
            if pc is not None:
                line.values[key] = pc
    t.fund_total = total
    t.fund_sources = [lines[n] for n in order]


def _read_goals(g: Grid, t: Table, stop: int | None, fund_row: int | None = None) -> None:
    blocks = [rc for rc in g.find(GOAL_BLOCK) if stop is None or rc[0] < stop]
    if not blocks:
        return
    br, bc = blocks[0]
    if fund_row is not None and fund_row > br:      # the goals come first, then the fund block (济南历城式)
        stop = fund_row if stop is None else min(stop, fund_row)
    t.goal_label = g.pcell(br, bc)
    m = WEIGHT_IN_LABEL.match(g.label(br, bc))
    if m:
        t.target_weight_label = (float(m.group(2)), g.ref(br, bc))
    header = None
    for r in [x for x in g.row_numbers if x >= br][:3]:
        cols = {}
        for c, text in g.row_texts(r):
            b = g.bounds(r, c)
            if "expected" not in cols and GOAL_EXPECTED.match(text):
                cols["expected"] = (b[1], b[3])
            elif "actual" not in cols and GOAL_ACTUAL.match(text):
                cols["actual"] = (b[1], b[3])
            elif "score" not in cols and GOAL_SCORE.match(text) and "expected" in cols:
                cols["score"] = (b[1], b[3])
        if "expected" in cols:
            header = (r, cols)
            break
    if header is None:
        return
    hr, cols = header
    end = max(g.bounds(hr, c0)[2] for c0, _ in cols.values())
    for r in _section_rows(g, end, stop)[:20]:
        texts = g.row_texts(r)
        if any(SECTION.match(text) and not GOAL_BLOCK.match(text) for _c, text in texts) or \
                any(p.match(text) for _c, text in texts for p in (IND_BLOCK,)):
            break
        if any(IND_KEYS[3][1].search(text) for _c, text in texts):
            break
        exp = g.first_in(r, *cols["expected"])
        act = g.first_in(r, *cols["actual"]) if "actual" in cols else PCell(None, g.ref(r, cols["expected"][0]))
        if "score" in cols and t.target_score is None:
            sc = g.pcell(r, cols["score"][0])
            if number(sc) is not None:
                t.target_score = sc
        if exp.blank and act.blank:
            continue
        if exp.ref in {e.ref for e, _a in t.goals}:       # the same merged goal cell seen again
            continue
        t.goals.append((exp, act))


def _read_indicators(g: Grid, t: Table, hr: int, cols: dict[str, tuple[int, int]]) -> None:
    t.header_row = hr
    t.columns = cols
    for r in range(max(1, hr - 3), hr + 1):
        for c, text in g.row_texts(r):
            m = IND_BLOCK.match(text)
            if m and m.group(3):
                t.indicator_weight_label = (float(m.group(3)), g.ref(r, c))
            elif r == hr and GOAL_BLOCK.match(text) and WEIGHT_IN_LABEL.match(text):   # "年度绩效目标(80分)"
                t.indicator_weight_label = (float(WEIGHT_IN_LABEL.match(text).group(2)), g.ref(r, c))
    end = max(g.bounds(hr, c0)[2] for c0, _ in cols.values())
    l1_prev = l2_prev = ""
    name_col = cols.get("name", cols.get("level2"))[0]
    for r in _section_rows(g, end, None):
        texts = [(c, text) for c, text in g.row_texts(r) if g.top_left(r, c) == (r, c)]
        if texts and STOP.match(texts[0][1]) and texts[0][0] <= name_col:
            break
        if any(STOP.match(text) and c <= name_col for c, text in texts):
            break
        cells = {}
        for key, (c0, c1) in cols.items():
            if key in ("level1", "level2"):
                cells[key] = g.pcell(r, c0)
            else:
                cells[key] = g.first_in(r, c0, c1)
        has = {k for k, v in cells.items() if not v.blank and k not in ("level1", "level2", "message")}
        if not has:
            continue
        if has == {"name"} and PLACEHOLDER.match(norm(cells["name"].value)):
            continue
        l1_cell, l2_cell = cells.get("level1"), cells.get("level2")
        l1 = norm(l1_cell.value) if l1_cell is not None and not l1_cell.blank else ""
        l2 = norm(l2_cell.value) if l2_cell is not None and not l2_cell.blank else ""
        if l1:
            m = WEIGHT_IN_LABEL.match(l1)
            if m:
                l1 = m.group(1) or l1            # a label printing only its weight "(50分)" keeps that text as its key
                t.level1_weights.setdefault(_clean_level(l1), (float(m.group(2)), l1_cell.ref))
            if l1 != l1_prev and not l2:
                l2_prev = ""
        else:
            l1 = l1_prev
        if not l2:
            l2 = l2_prev
        else:
            m = WEIGHT_IN_LABEL.match(l2)
            if m:
                l2 = m.group(1)
        t.rows.append(Row(r, cells, l1, l2))
        l1_prev, l2_prev = l1, l2
        if len(t.rows) >= MAX_TABLE_ROWS:
            t.notes.append(f"指标表超过 {MAX_TABLE_ROWS} 行，只读取了前 {MAX_TABLE_ROWS} 行")
            break
    _name_weight_only_labels(t)


@functools.cache
def _national_level1_of_level2() -> dict[str, str]:
    return {l2: l1.name for l1 in load_profile("national").level1 for l2 in l1.level2}


def _name_weight_only_labels(t: Table) -> None:
    """A level-1 label that prints only its weight ("(50分)", the name lost in a vertical text): named after the
    level-2 names of its rows ("数量指标" → 产出指标) when they all belong to one national level-1 group."""
    for key in [k for k in t.level1_weights if WEIGHT_IN_LABEL.match(k)]:
        rows = [r for r in t.rows if r.level1 == key]
        of_level2 = _national_level1_of_level2()
        names = {of_level2.get(match_level(r.level2, tuple(of_level2))) for r in rows if r.level2} - {None}
        if len(names) != 1 or next(iter(names)) in t.level1_weights:
            continue
        name = names.pop()
        t.level1_weights[name] = t.level1_weights.pop(key)
        for r in rows:
            r.level1 = name


def _read_totals(g: Grid, t: Table) -> None:
    after = t.header_row
    for r, c in g.find(TOTAL):
        if r <= after:
            continue
        if "weight" in t.columns or "score" in t.columns:
            if "weight" in t.columns:
                pc = g.first_in(r, *t.columns["weight"])
                t.total_weight = pc if not pc.blank else None
            if "score" in t.columns:
                pc = g.first_in(r, *t.columns["score"])
                t.total = pc if not pc.blank else None
        if t.total is None:
            nums = []
            end = g.bounds(r, c)[3]
            for cc in g.rows.get(r, ()):
                if cc > end and g.top_left(r, cc) == (r, cc) and number(g.pcell(r, cc)) is not None:
                    nums.append(g.pcell(r, cc))
            if len(nums) >= 2:
                t.total_weight, t.total = nums[0], nums[1]
            elif nums:
                t.total = nums[0]
        break
    for r, c in g.find(OVERALL):
        pc = g.right(r, c)
        if pc is not None and number(pc) is not None:
            t.overall = pc
            break
    for r, c in g.find(GRADE):
        pc = g.right(r, c)
        if pc is not None and not pc.blank:
            t.grade = pc
            break


# --------------------------------------------------------------------------- conversion

def _clean_level(text: str) -> str:
    text = norm(text)
    m = WEIGHT_IN_LABEL.match(text)
    return m.group(1) if m and m.group(1) else text


def match_level(text: str, allowed: tuple[str, ...]) -> str:
    """Map a printed level name to the profile's: "项目产出指标" → "产出指标", "数量" → "数量指标"."""
    t = _clean_level(text)
    if not t:
        return ""
    if t in allowed:
        return t
    base = re.sub(r"^项目", "", t)
    for cand in (t + "指标", base, base + "指标", base.replace("指标", "") + "指标"):
        if cand in allowed:
            return cand
    if len(base) >= 2:
        for a in allowed:
            if a.startswith(base) or a.replace("指标", "") == base.replace("指标", ""):
                return a
    return t


_CATEGORY = [
    ("carry", re.compile(r"结转")),
    ("bond", re.compile(r"国债")),
    ("central", re.compile(r"中央")),
    ("fiscal", re.compile(r"(县|区级|本级|当年财政拨款|财政拨款|一般公共预算)")),
    ("province", re.compile(r"(省|自治区)")),
    ("city", re.compile(r"市")),
    ("other", re.compile(r"(其他|其它|单位资金|自有|自筹)")),
    ("fiscal", re.compile(r"财政")),
]


def _category(label: str) -> str:
    for cat, rx in _CATEGORY:
        if rx.search(label):
            return cat
    return "other"


def map_source(label: str, profile: Profile) -> str:
    """The profile's fund source a printed source line belongs to."""
    label = _strip_qizhong(norm(label))
    sources = profile.fund_sources
    if label in sources:
        return label
    for s in sources:
        if s.startswith(label) or label.startswith(s):
            return s
    cats = {s: _category(s) for s in sources}
    cat = _category(label)
    for s, c in cats.items():
        if c == cat:
            return s
    if cat in ("central", "province", "city", "bond", "fiscal"):
        return next((s for s, c in cats.items() if c == "fiscal"), sources[0])
    if cat == "carry":
        return next((s for s, c in cats.items() if c == "other"), sources[-1])
    return next((s for s, c in cats.items() if c == "other"), sources[-1])


def _cell_number(pc: PCell | None) -> float | None:
    if pc is None:
        return None
    v = number(pc)
    if v is not None and pc.pct:
        return xnum(v * 100)
    return v


_EMBEDDED = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(%|％|百分比|人次|万元|元|人|次|个|家|天|户|项)?")


def actual_value(pc: PCell | None, unit: str | None) -> float | str | None:
    """A printed 实际完成值 as the scorer takes it: a number (96% → 96), or the text when it is not one."""
    if pc is None or pc.blank:
        return None
    if isinstance(pc.value, float) and not isinstance(pc.value, bool):
        return xnum(pc.value * 100) if pc.pct else pc.value
    text = str(pc.value).strip()
    if looks_like_target(text):
        return text
    qty = parse_quantity(text)
    if qty is not None:
        return qty[0]
    found = _EMBEDDED.findall(unicodedata.normalize("NFKC", text))
    if len(found) == 1 and re.search(r"\d", text):
        return float(found[0][0])
    return text


@dataclass
class Converted:
    """One indicator row converted for the scorer, and the pieces the data file needs."""

    row: IndicatorRow
    target_text: Any          #: what to write as 指标值 in the data file
    op_text: Any = None       #: 指标性质 when the table has that column
    unit_text: Any = None
    shown_score: float | None = None


def _deadline(parsed: Target, year: Any) -> float | str:
    """A 时效 target as the yyyymmdd number the scorer compares; its text when the year is unknown."""
    try:
        return date_number(parsed.deadline.date(int(year) if is_number(year) else None))
    except ValueError:
        return parsed.text


def _date_actual(pc: PCell | None, year: Any) -> Any:
    if pc is None or pc.blank:
        return None
    if isinstance(pc.value, float):
        return pc.value
    d = parse_deadline(pc.text)
    if d is None:
        return pc.text
    try:
        return date_number(d.date(int(year) if is_number(year) else None))
    except ValueError:
        return pc.text


def convert_row(r: Row, profile: Profile, year: Any = None) -> Converted:
    c = r.cells
    level1 = match_level(r.level1, profile.level1_names)
    level2 = match_level(r.level2, profile.level2_names)
    name = c["name"].text if "name" in c and not c["name"].blank else None
    weight_pc = c.get("weight")
    weight: Any = number(weight_pc) if weight_pc is not None and not weight_pc.blank else None
    if weight is None and weight_pc is not None and not weight_pc.blank:
        weight = weight_pc.text
    shown = number(c.get("score"))
    target_pc, op_pc, unit_pc = c.get("target"), c.get("op"), c.get("unit")
    op = target = unit = None
    target_text: Any = None
    op_text = unit_text = None
    if op_pc is not None and not op_pc.blank and norm(op_pc.text) in ("定量", "定量指标"):
        op_pc = None            # 指标性质 giving the kind only (重庆: 定量指标/定性指标): the target carries its operator
    if op_pc is not None and not op_pc.blank:
        op_text = op_pc.text
        op = normalize_op(op_text) or op_text
        unit_text = unit_pc.text if unit_pc is not None and not unit_pc.blank else None
        unit = normalize_unit(unit_text) if unit_text else None
        if target_pc is not None and not target_pc.blank:
            tv = _cell_number(target_pc)
            if op == OP_QUAL:
                target = target_pc.text
            elif tv is not None:
                target = tv
                unit = unit or ("%" if target_pc.pct else None)
            else:
                try:
                    text = target_pc.text
                    parsed = parse_target(text if normalize_op(text[:1]) else f"{op}{text}")
                    target = parsed.value if parsed.value is not None else target_pc.text
                    unit = unit or (parsed.unit or None)
                    if parsed.kind == KIND_DEADLINE:
                        op, target, unit = parsed.op, _deadline(parsed, year), DATE_UNIT
                except TargetSyntaxError:
                    target = target_pc.text
            target_text = target_pc.text if not isinstance(target_pc.value, float) else target
    elif target_pc is not None and not target_pc.blank:
        tv = _cell_number(target_pc)
        if tv is not None and isinstance(target_pc.value, float):
            op, target, unit = "＝", tv, "%" if target_pc.pct else None
            target_text = f"{target:g}%" if target_pc.pct else target
        else:
            target_text = target_pc.text
            try:
                parsed = parse_target(target_pc.text)
                op = parsed.op
                target = parsed.value if parsed.value is not None else target_pc.text
                unit = parsed.unit or None
                if parsed.kind == KIND_DEADLINE:
                    target = _deadline(parsed, year)
            except TargetSyntaxError:
                target = target_pc.text
    actual = _date_actual(c.get("actual"), year) if unit == DATE_UNIT else actual_value(c.get("actual"), unit)
    band = manual = None
    if op == OP_QUAL:
        if shown is not None:
            manual = shown
            if isinstance(weight, float):
                band = next((b.label for b in profile.bands if profile.in_band(b.label, weight, shown)),
                            profile.bands[0].label)
    reason_pc = c.get("reason")
    reason = reason_pc.text if reason_pc is not None and not reason_pc.blank else None
    row = IndicatorRow(level1 or None, level2 or None, name, op, target, unit, actual, band, weight, manual, reason)
    return Converted(row, target_text, op_text, unit_text, shown)


def fund_lines(t: Table, profile: Profile) -> list[FundLine]:
    """The table's money by the profile's sources (sources it does not know are folded in, see :func:`map_source`)."""
    out = {s: FundLine(s) for s in profile.fund_sources}
    sources = [s for s in t.fund_sources if not s.empty]
    if not sources and t.fund_total is not None and not t.fund_total.empty:
        sources = [FundRow(profile.fund_sources[0], t.fund_total.ref, t.fund_total.values)]
    for line in sources:
        target = out[map_source(line.label, profile)]
        for key, attr in (("initial", "initial"), ("budget", "budget"), ("spent", "spent")):
            v = line.num(key)
            if v is not None:
                old = getattr(target, attr)
                setattr(target, attr, xnum((old or 0.0) + v))
    return [out[s] for s in profile.fund_sources]


def to_record(t: Table, profile: Profile) -> tuple[ProjectRecord, list[Converted]]:
    """The record the scorer sees for this table (lenient: odd cells are kept as typed and flagged by the scorer)."""
    rec = ProjectRecord(profile.id, year=number(t.year), project=_text(t.project), department=_text(t.department),
                        unit=_text(t.unit))
    rec.funds = fund_lines(t, profile)
    rec.goals = [Goal(_text(e), _text(a)) for e, a in t.goals]
    if profile.has_target_block:
        rec.target_score = number(t.target_score)
    conv = [convert_row(r, profile, rec.year) for r in t.rows]
    rec.indicators = [c.row for c in conv]
    return rec, conv


def _text(pc: PCell | None) -> Any:
    if pc is None or pc.blank:
        return None
    if isinstance(pc.value, float):
        return pc.value
    return pc.text


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value == int(value) and abs(value) < 1e15:
        return int(value)
    return value


def to_data(t: Table, profile: Profile) -> dict:
    """The data-file mapping (templates/forms/DATA.md) for ``jxzp fill``, with the printed scores kept."""
    rec, conv = to_record(t, profile)
    data: dict[str, Any] = {"评分规则": profile.id}
    if is_number(rec.year):
        data["年度"] = int(rec.year)
    for key, value in (("项目名称", rec.project), ("主管部门", rec.department), ("实施单位", rec.unit)):
        if value not in (None, ""):
            data[key] = _plain(value)
    funds = {}
    for line in rec.funds:
        entry = {k: _plain(getattr(line, a)) for k, a in (("年初预算数", "initial"), ("全年预算数", "budget"),
                                                           ("全年执行数", "spent")) if getattr(line, a) is not None}
        if entry:
            funds[line.source] = entry
    if funds:
        data["资金"] = funds
    goals = []
    for g in rec.goals:
        item = {"预期目标": _plain(g.expected)}
        if g.actual not in (None, ""):
            item["实际完成情况"] = _plain(g.actual)
        goals.append(item)
    if goals:
        data["年度总体目标"] = goals
    if profile.has_target_block and is_number(rec.target_score):
        data["目标自评分"] = _plain(rec.target_score)
    items = []
    for c in conv:
        row = c.row
        item: dict[str, Any] = {}
        for key, value in (("一级指标", row.level1), ("二级指标", row.level2), ("三级指标", row.name)):
            if value not in (None, ""):
                item[key] = _plain(value)
        if c.op_text is not None:
            item["指标性质"] = c.op_text
            if c.target_text is not None:
                item["指标值"] = _plain(c.target_text)
            if c.unit_text is not None:
                item["度量单位"] = c.unit_text
        elif c.target_text is not None:
            item["指标值"] = _plain(c.target_text)
        if row.actual not in (None, ""):
            item["实际完成值"] = _plain(row.actual)
        if row.weight not in (None, ""):
            item["分值"] = _plain(row.weight)
        if row.op == OP_QUAL:
            if row.band is not None:
                item["完成等级"] = row.band
            if row.manual is not None:
                item["自评分"] = _plain(row.manual)
        if row.reason not in (None, ""):
            item["偏差原因"] = row.reason
        items.append(item)
    if items:
        data["绩效指标"] = items
    original: dict[str, Any] = {"来源文件": t.file, "工作表": t.sheet}
    if t.fund_total is not None:
        for key, label in (("weight", "资金分值"), ("rate", "执行率"), ("score", "资金得分")):
            pc = t.fund_total.values.get(key)
            if pc is not None and not pc.blank:
                original[label] = _plain(number(pc)) if number(pc) is not None and key != "rate" else pc.text
    if t.target_score is not None:
        original["目标自评分"] = _plain(number(t.target_score))
    scores = [c.shown_score for c in conv]
    if any(s is not None for s in scores):
        original["指标得分"] = [_plain(s) for s in scores]
    for key, pc in (("总分分值", t.total_weight), ("总分", t.total), ("自评得分", t.overall), ("评价等次", t.grade)):
        if pc is not None and not pc.blank:
            original[key] = _plain(number(pc)) if number(pc) is not None else pc.text
    data["其他信息"] = {"原表": original}
    return data
