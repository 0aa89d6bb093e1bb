"""部门整体支出绩效自评: profile, record, ratios and scoring rules (Python and Excel twins side by side).

The department form has three parts on one locked sheet: 基础数据表 (staff, income and
expenditure by budget and final accounts, 三公经费, 公用经费 detail), 指标计算表 (every
ratio of docs/rules.md#department-ratios with its numerator and denominator written out) and 整体自评表
(the profile's indicator system, ratio indicators scored live, judgement indicators
scored by the reviewer). Each rule type below returns both the Python value and the
Excel formula, so the template and the Python result cannot drift apart.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from pathlib import Path

from xlsx_engine.forms.base import any_typed, field_of
from xlsx_engine.kernel.datafile import (
    Cell,
    _amount,
    _number,
    _Problems,
    _text,
    read_data_file,
)
from xlsx_engine.kernel.errors import DataError, ProfileError
from xlsx_engine.kernel.excel import NA, nonblank, num
from xlsx_engine.kernel.profiles import (
    PROFILE_DIR,
    Grade,
    grade_for,
    parse_grades,
    read_profile_yaml,
)
from xlsx_engine.kernel.statements import compare, pct_text, stated_number
from xlsx_engine.kernel.xlmath import is_number, xround, xtext

DEPT_PROFILE_DIR = PROFILE_DIR / "department"

INCOME = ("年初结转和结余", "财政拨款", "其他收入")
SPENDING = ("人员经费", "公用经费", "项目支出")
SANGONG = ("因公出国（境）费", "公务用车购置及运行维护费", "公务接待费")
SANGONG_COLS = ("上年预算", "上年决算", "本年预算", "本年决算")
STAFF = ("行政编制数", "事业编制数", "在职人数", "其他人员")
DETAIL_ROWS = 24
RATIOS = ("预算执行率", "预算调整率", "在职人员控制率", "三公经费变动率", "三公经费控制率", "结转结余率",
          "公用经费控制率", "人员经费占比", "基本支出占比", "项目支出占比", "重点支出安排率")


# ----------------------------------------------------------------------------- rules

def _n(x: float) -> str:
    return xtext(x)


@dataclass(frozen=True)
class Rule:
    """A scoring rule for a ratio indicator. ``score`` and ``formula`` are twins."""

    type: str
    params: dict

    def score(self, x: float | str, w: float, digits: int = 2) -> float:
        if not is_number(x):
            return 0.0
        t, p = self.type, self.params
        if t == "proportional":
            return xround(min(max(x, 0.0), 1.0) * w, digits)
        if t == "inverse":
            return xround(max(0.0, 1 - x) * w, digits)
        if t == "deduct_over":
            per = p["per_pp"] if "per_pp" in p else p["per_pp_of_weight"] * w
            if x <= p["threshold"]:
                return w
            return xround(max(0.0, w - (x - p["threshold"]) * 100 * per), digits)
        if t == "bands_down":
            for upper, frac in p["bands"]:
                if x <= upper:
                    return xround(frac * w, digits)
            return 0.0
        if t == "bands_up":
            for lower, frac in p["bands"]:
                if x >= lower:
                    return xround(frac * w, digits)
            return 0.0
        raise ProfileError(f"未知的评分规则类型“{t}”")

    def formula(self, x: str, w: str, digits: int = 2) -> str:
        """The Excel expression (no leading "=") scoring ratio cell ``x`` with weight cell ``w``."""
        t, p = self.type, self.params
        if t == "proportional":
            body = f"ROUND(MIN(MAX({x},0),1)*{w},{digits})"
        elif t == "inverse":
            body = f"ROUND(MAX(0,1-{x})*{w},{digits})"
        elif t == "deduct_over":
            per = _n(p["per_pp"]) if "per_pp" in p else f"{_n(p['per_pp_of_weight'])}*{w}"
            th = _n(p["threshold"])
            body = f"IF({x}<={th},{w},ROUND(MAX(0,{w}-({x}-{th})*100*{per}),{digits}))"
        elif t in ("bands_down", "bands_up"):
            cmp = "<=" if t == "bands_down" else ">="
            body = "0"
            for bound, frac in reversed(p["bands"]):
                body = f"IF({x}{cmp}{_n(bound)},ROUND({_n(frac)}*{w},{digits}),{body})"
        else:
            raise ProfileError(f"未知的评分规则类型“{t}”")
        return f"IF(ISNUMBER({x}),{body},0)"


@dataclass(frozen=True)
class DeptIndicator:
    level1: str
    level2: str
    name: str
    weight: float
    rule: Rule | None          #: None: judged by the reviewer (manual)
    ratio: str | None
    standard: str


@dataclass(frozen=True)
class DeptProfile:
    id: str
    name: str
    source: str
    total: float
    digits: int
    bases: dict
    indicators: tuple[DeptIndicator, ...]
    grades: tuple[Grade, ...]
    path: str = ""

    def grade_for(self, score: float) -> str:
        return grade_for(self.grades, score)


@functools.lru_cache(maxsize=16)
def load_dept_profile(name_or_path: str) -> DeptProfile:
    """Load a department profile by id (``templates/profiles/department/<id>.yaml``) or path.

    Raises:
        ProfileError: unknown id, malformed file, unknown rule or ratio, weights not adding up.
    """
    data, where = read_profile_yaml(name_or_path, DEPT_PROFILE_DIR, "部门整体评分规则")
    inds = []
    for i, raw in enumerate(data.get("indicators", []), 1):
        rule_raw = raw.get("rule", "manual")
        rule = None
        if rule_raw != "manual":
            rtype = rule_raw if isinstance(rule_raw, str) else rule_raw.get("type")
            params = {} if isinstance(rule_raw, str) else {k: v for k, v in rule_raw.items() if k != "type"}
            if rtype not in ("proportional", "inverse", "deduct_over", "bands_down", "bands_up"):
                raise ProfileError(f"第{i}个指标的评分规则“{rtype}”未知", where=where)
            rule = Rule(rtype, params)
            if raw.get("ratio") not in RATIOS:
                raise ProfileError(f"第{i}个指标的比率“{raw.get('ratio')}”未知（可用：{'、'.join(RATIOS)}）", where=where)
        inds.append(DeptIndicator(str(raw["level1"]), str(raw["level2"]), str(raw["name"]), float(raw["weight"]),
                                  rule, raw.get("ratio") if rule else None, str(raw.get("standard", ""))))
    grades = parse_grades(data["grades"], where)
    prof = DeptProfile(str(data.get("id", Path(where).stem)), str(data.get("name", "")), str(data.get("source", "")),
                       float(data["total"]), int(data.get("rounding", 2)), dict(data.get("bases", {})), tuple(inds),
                       grades, where)
    if abs(sum(i.weight for i in inds) - prof.total) > 1e-9:
        raise ProfileError(f"指标分值之和 {sum(i.weight for i in inds):g} ≠ total {prof.total:g}", where=where)
    if len({i.name for i in inds}) != len(inds):
        raise ProfileError("指标名称不能重复", where=where)
    return prof


# ----------------------------------------------------------------------------- record

@dataclass
class DeptRecord:
    """The inputs of one 部门整体 workbook, as cell values."""

    profile_id: str
    year: Cell = None
    department: Cell = None
    supervisor: Cell = None
    staff: dict[str, Cell] = field(default_factory=dict)                 #: STAFF keys
    budget: dict[str, Cell] = field(default_factory=dict)                #: INCOME + SPENDING + 年末结转结余
    final: dict[str, Cell] = field(default_factory=dict)
    initial_budget: Cell = None                                          #: 年初预算数（支出）
    adjustment: Cell = None                                              #: 预算调整（追加）数
    key_projects: Cell = None                                            #: 重点项目支出（决算）
    sangong: dict[str, dict[str, Cell]] = field(default_factory=dict)    #: SANGONG -> SANGONG_COLS
    detail: list[tuple[Cell, Cell]] = field(default_factory=list)        #: 公用经费明细 (名称, 金额)
    scores: dict[str, Cell] = field(default_factory=dict)                #: reviewer scores of manual indicators
    reasons: dict[str, Cell] = field(default_factory=dict)               #: 扣分原因
    extra: dict = field(default_factory=dict)
    #: figures the report text states (报告所列), checked against the table: name -> number or "9.78%"
    stated: dict = field(default_factory=dict)


LINES = INCOME + SPENDING + ("年末结转结余",)
DEPT_FIELDS = {"类型", "评分规则", "年度", "部门名称", "主管部门", "人员", "收支", "年初预算数", "预算调整数", "重点项目支出",
               "三公经费", "公用经费明细", "评分", "扣分原因", "其他信息", "报告所列"}


def dept_record_from_data(data: dict, profile: DeptProfile, source: str = "数据文件") -> DeptRecord:
    """Validate a 部门整体 data mapping (documented in templates/forms/DATA-department.md).

    Raises:
        DataError: listing every problem with its field.
    """
    pr = _Problems()
    for key in data:
        if key not in DEPT_FIELDS:
            pr.add(f"字段“{key}”", f"未知字段（可用：{'、'.join(sorted(DEPT_FIELDS))}）")
    rec = DeptRecord(profile.id, year=_text(data.get("年度")), department=_text(data.get("部门名称")),
                     supervisor=_text(data.get("主管部门")))
    staff = data.get("人员") or {}
    for k, v in staff.items():
        if k not in STAFF:
            pr.add(f"人员.{k}", f"未知字段（可用：{'、'.join(STAFF)}）")
        else:
            rec.staff[k] = _number(v, f"人员.{k}", pr)
    flows = data.get("收支") or {}
    for col, target in (("预算", rec.budget), ("决算", rec.final)):
        for k, v in (flows.get(col) or {}).items():
            if k not in LINES:
                pr.add(f"收支.{col}.{k}", f"未知项目（可用：{'、'.join(LINES)}）")
            else:
                target[k] = _amount(v, f"收支.{col}.{k}", pr)
    for k in flows:
        if k not in ("预算", "决算"):
            pr.add(f"收支.{k}", "应为“预算”或“决算”")
    rec.initial_budget = _amount(data.get("年初预算数"), "年初预算数", pr)
    rec.adjustment = _amount(data.get("预算调整数"), "预算调整数", pr)
    rec.key_projects = _amount(data.get("重点项目支出"), "重点项目支出", pr)
    for k, row in (data.get("三公经费") or {}).items():
        if k not in SANGONG:
            pr.add(f"三公经费.{k}", f"未知项目（可用：{'、'.join(SANGONG)}）")
            continue
        rec.sangong[k] = {}
        for c, v in (row or {}).items():
            if c not in SANGONG_COLS:
                pr.add(f"三公经费.{k}.{c}", f"未知列（可用：{'、'.join(SANGONG_COLS)}）")
            else:
                rec.sangong[k][c] = _amount(v, f"三公经费.{k}.{c}", pr)
    detail = data.get("公用经费明细") or []
    if len(detail) > DETAIL_ROWS:
        pr.add("公用经费明细", f"最多 {DETAIL_ROWS} 行，实际 {len(detail)} 行")
    for i, item in enumerate(detail[:DETAIL_ROWS], 1):
        if not isinstance(item, dict) or set(item) - {"名称", "金额"}:
            pr.add(f"公用经费明细第{i}项", "应为 {名称, 金额}")
            continue
        rec.detail.append((_text(item.get("名称")), _amount(item.get("金额"), f"公用经费明细第{i}项 金额", pr)))
    names = {i.name: i for i in profile.indicators}
    for k, v in (data.get("评分") or {}).items():
        ind = names.get(k)
        if ind is None or ind.rule is not None:
            pr.add(f"评分.{k}", "不是需要评审打分的指标（比率指标由公式计分）" if ind else "未知指标")
            continue
        s = _number(v, f"评分.{k}", pr)
        if is_number(s) and s > ind.weight:
            pr.add(f"评分.{k}", f"不能超过分值 {ind.weight:g}")
        rec.scores[k] = s
    for k, v in (data.get("扣分原因") or {}).items():
        if k not in names:
            pr.add(f"扣分原因.{k}", "未知指标")
        rec.reasons[k] = _text(v)
    rec.extra = data.get("其他信息") or {}
    stated = data.get("报告所列") or {}
    if not isinstance(stated, dict):
        pr.add("报告所列", "应为“名称: 数值”的结构")
        stated = {}
    for k, v in stated.items():
        if k == "差异率":
            if not isinstance(v, dict) or set(v) - set(LINES) - {"收入合计", "基本支出", "支出合计"}:
                pr.add("报告所列.差异率", f"应为“收支项目: 百分比”，项目为：{'、'.join(LINES)}、收入合计、基本支出、支出合计")
        elif k not in STATABLE:
            pr.add(f"报告所列.{k}", f"不能核对的项目（可核对：{'、'.join(STATABLE)}、差异率）")
    rec.stated = stated
    if pr.items:
        raise DataError(f"数据文件有 {len(pr.items)} 处问题，未生成文件", where=source, problems=pr.items)
    return rec


def load_dept_data(path, profile: DeptProfile) -> DeptRecord:
    return dept_record_from_data(read_data_file(path), profile, str(path))


#: what the unit reports for the year (the rest — 年度, 部门名称, 主管部门, 编制数, the 预算 column, 年初预算数,
#: 预算调整数, 三公经费's 上年 and 本年预算 columns — a bureau may set when it sends the form)
UNIT_STAFF = ("在职人数", "其他人员")
UNIT_SANGONG = "本年决算"


def dept_unfilled(rec: DeptRecord, sent: tuple = ()) -> bool:
    """The 部门整体 form's 待填报 (:meth:`~xlsx_engine.forms.base.Form.unfilled`): none of what the unit reports
    for the year is typed — no 决算数, 三公经费本年决算, 公用经费明细 amount, 重点项目支出, 在职人数 or 其他人员, and
    no 评审评分. 扣分原因 and the 报告信息 texts do not count (as the project form's 偏差原因 does not); ``sent``
    is not used (no master sends these forms)."""
    return not any_typed((*rec.final.values(), *(row.get(UNIT_SANGONG) for row in rec.sangong.values()),
                          *(amount for _name, amount in rec.detail), rec.key_projects,
                          *(rec.staff.get(k) for k in UNIT_STAFF), *rec.scores.values()))


# ----------------------------------------------------------------------------- computation

def ratio(num_: float, den: float) -> float | str:
    return num_ / den if den > 0 else NA


def diff_rate(budget: float, final: float) -> float | str:
    """预决算差异率 = (决算 − 预算)/预算; not computable when 预算 = 0 (never shown as 100%)."""
    return (final - budget) / budget if budget > 0 else NA


def change_rate(prev: float, cur: float) -> float | str:
    """变动率 = (本年 − 上年)/上年; 0 when both are 0; not computable when only 上年 is 0."""
    if prev > 0:
        return (cur - prev) / prev
    return 0.0 if cur <= 0 else NA


@dataclass
class DeptResult:
    totals: dict[str, dict[str, float]]          #: 预算/决算 -> 收入合计, 基本支出, 支出合计
    diffs: dict[str, float | str]                #: line -> 差异率
    staff_total: float
    staff_actual: float
    sangong_totals: dict[str, float]
    detail_total: float
    detail_shares: list[float | str]
    ratios: dict[str, float | str]
    parts: dict[str, tuple[float, float]]        #: ratio -> (numerator, denominator)
    scores: list[float]                          #: per indicator, 0 while its deciding input is missing
    total: float | str                           #: PENDING until every score is decided (dept_decided)
    grade: str
    checks: list[str]
    shown_scores: list[float | str] = field(default_factory=list)   #: the 得分 cells: "" while undecided
    partial_total: float = 0.0                   #: Σ scores, missing ones as 0 (the narrative's 已计分合计)

    @property
    def problems(self) -> list[str]:
        return [c for c in self.checks if c]


def _fsum(values) -> float:
    return math.fsum(num(v) for v in values)


PENDING = "待填报"


def final_entered(rec: DeptRecord) -> bool:
    """Some 决算数 is entered: the ratio-scored indicators are decided by the 决算 figures."""
    return any(is_number(rec.final.get(k)) for k in LINES)


def dept_decided(rec: DeptRecord, ind: DeptIndicator) -> bool:
    """An indicator's 得分 is decided: its 评审评分 (manual) or the 决算 figures (ratio rules) are entered."""
    return is_number(rec.scores.get(ind.name)) if ind.rule is None else final_entered(rec)


def dept_figures(rec: DeptRecord | dict) -> tuple[float | None, float | None, float | None]:
    """The whole department's (预算数, 决算数, 执行率) as the archive keeps them (:meth:`~xlsx_engine.forms.base.Form.figures`):
    the 支出合计 of the 预算 and of the 决算 column (人员经费 + 公用经费 + 项目支出, as :func:`dept_evaluate`) and the
    form's 预算执行率, their ratio. The 决算数 is None until a 决算数 is entered (:func:`final_entered`), the 预算数
    while no 预算数 of spending is; the 执行率 then, and when the 预算数 is 0. ``rec``: a record or the archive's dict
    of its inputs."""
    budget_col, final_col = field_of(rec, "budget") or {}, field_of(rec, "final") or {}
    budget = _fsum(budget_col.get(k) for k in SPENDING) if any(is_number(budget_col.get(k)) for k in SPENDING) else None
    spent = _fsum(final_col.get(k) for k in SPENDING) if any(is_number(final_col.get(k)) for k in LINES) else None
    rate = ratio(spent, budget) if budget is not None and spent is not None else None
    return budget, spent, rate if is_number(rate) else None


def dept_evaluate(rec: DeptRecord, p: DeptProfile) -> DeptResult:
    """Compute every figure of the 部门整体 workbook."""
    totals = {}
    for col, d in (("预算", rec.budget), ("决算", rec.final)):
        basic = _fsum([d.get("人员经费"), d.get("公用经费")])
        totals[col] = {"收入合计": _fsum(d.get(k) for k in INCOME), "基本支出": basic,
                       "支出合计": basic + num(d.get("项目支出"))}
    diffs = {k: diff_rate(num(rec.budget.get(k)), num(rec.final.get(k))) for k in LINES}
    for k in ("收入合计", "基本支出", "支出合计"):
        diffs[k] = diff_rate(totals["预算"][k], totals["决算"][k])
    staff_total = _fsum([rec.staff.get("行政编制数"), rec.staff.get("事业编制数")])
    staff_actual = _fsum([rec.staff.get("在职人数"), rec.staff.get("其他人员")])
    sg = {c: _fsum(rec.sangong.get(k, {}).get(c) for k in SANGONG) for c in SANGONG_COLS}
    detail_total = _fsum(v for _, v in rec.detail)
    shares = [ratio(num(v), detail_total) if nonblank(v) or nonblank(n_) else "" for n_, v in rec.detail]
    b, f = totals["预算"], totals["决算"]
    base3 = p.bases.get("三公经费变动率", "决算")
    carry_den = b["支出合计"] if p.bases.get("结转结余率", "支出预算数") == "支出预算数" else f["支出合计"]
    staff_den = f["基本支出"] if p.bases.get("人员经费占比", "基本支出") == "基本支出" else f["支出合计"]
    parts = {
        "预算执行率": (f["支出合计"], b["支出合计"]),
        "预算调整率": (num(rec.adjustment), num(rec.initial_budget)),
        "在职人员控制率": (num(rec.staff.get("在职人数")), staff_total),
        "三公经费变动率": ((sg["本年决算"], sg["上年决算"]) if base3 == "决算" else (sg["本年预算"], sg["上年预算"])),
        "三公经费控制率": (sg["本年决算"], sg["本年预算"]),
        "结转结余率": (num(rec.final.get("年末结转结余")), carry_den),
        "公用经费控制率": (num(rec.final.get("公用经费")), num(rec.budget.get("公用经费"))),
        "人员经费占比": (num(rec.final.get("人员经费")), staff_den),
        "基本支出占比": (f["基本支出"], f["支出合计"]),
        "项目支出占比": (num(rec.final.get("项目支出")), f["支出合计"]),
        "重点支出安排率": (num(rec.key_projects), num(rec.final.get("项目支出"))),
    }
    ratios = {k: ratio(a, d) for k, (a, d) in parts.items()}
    ratios["三公经费变动率"] = change_rate(parts["三公经费变动率"][1], parts["三公经费变动率"][0])
    scores = []
    for ind in p.indicators:
        if ind.rule is None:
            scores.append(min(max(num(rec.scores.get(ind.name)), 0.0), ind.weight))
        else:
            scores.append(ind.rule.score(ratios[ind.ratio], ind.weight, p.digits))
    total = xround(math.fsum(scores), p.digits)
    checks = dept_check_texts(rec, p, totals, ratios, detail_total)
    decided = [dept_decided(rec, ind) for ind in p.indicators]
    shown = [s if d else "" for s, d in zip(scores, decided)]
    if not all(decided):
        return DeptResult(totals, diffs, staff_total, staff_actual, sg, detail_total, shares, ratios, parts, scores,
                          PENDING, PENDING, checks, shown, total)
    return DeptResult(totals, diffs, staff_total, staff_actual, sg, detail_total, shares, ratios, parts, scores,
                      total, p.grade_for(total), checks, shown, total)


def dept_check_texts(rec: DeptRecord, p: DeptProfile, totals, ratios, detail_total: float) -> list[str]:
    """The 校验提示 cells of the department sheet, in order (twins of department_layout.check_formulas)."""
    out = []
    f = totals["决算"]
    gap = xround(f["收入合计"] - f["支出合计"] - num(rec.final.get("年末结转结余")), 2)
    out.append("" if gap == 0 else
               f"决算收入合计减支出合计与年末结转结余相差{xtext(gap)}万元，请核对收支数据；")
    fee = num(rec.final.get("公用经费"))
    diff = xround(detail_total - fee, 2)
    out.append("" if diff == 0 or detail_total == 0 else
               f"公用经费明细合计{xtext(xround(detail_total, 2))}万元与决算公用经费{xtext(xround(fee, 2))}万元不一致；")
    zero = sum(1 for k in LINES if num(rec.budget.get(k)) <= 0 < num(rec.final.get(k)))
    out.append("" if zero == 0 else f"有{zero}项预算数为0而决算数不为0，其差异率无法计算（不是100%），请在说明中解释；")
    pending = sum(1 for ind in p.indicators if ind.rule is None and not is_number(rec.scores.get(ind.name)))
    out.append("" if pending == 0 else f"有{pending}项指标尚待评审评分；")
    na = [k for k in dict.fromkeys(i.ratio for i in p.indicators if i.rule) if not is_number(ratios[k])]
    out.append("" if not na or not final_entered(rec) else
               f"{'、'.join(na)}的分母为0，无法计算，相应指标按0分计，请核实；")
    return out


# ----------------------------------------------------------------------------- report text vs table

#: Figures a report's text may state, and how to get the table's value: ("ratio", name) or ("amount", getter).
STATABLE = {
    **{name: ("ratio", name) for name in RATIOS},
    "收入合计": ("amount", lambda res, rec: res.totals["决算"]["收入合计"]),
    "支出合计": ("amount", lambda res, rec: res.totals["决算"]["支出合计"]),
    "基本支出": ("amount", lambda res, rec: res.totals["决算"]["基本支出"]),
    "人员经费": ("amount", lambda res, rec: num(rec.final.get("人员经费"))),
    "公用经费": ("amount", lambda res, rec: num(rec.final.get("公用经费"))),
    "项目支出": ("amount", lambda res, rec: num(rec.final.get("项目支出"))),
    "年末结转结余": ("amount", lambda res, rec: num(rec.final.get("年末结转结余"))),
    "三公经费": ("amount", lambda res, rec: res.sangong_totals["本年决算"]),
}


def statement_findings(rec: DeptRecord, res: DeptResult) -> list[str]:
    """Compare the figures a report states (rec.stated) with the table's computed figures.

    Percentages agree within 0.01 percentage point, amounts within 0.005 万元. A stated rate where
    the table's denominator is 0 is reported as not computable (never 100%); stated shares of
    基本支出 and 项目支出 must add up to 100%.
    """
    out = []
    for name, value in rec.stated.items():
        if name == "差异率":
            for line, v in value.items():
                actual = res.diffs.get(line)
                if not is_number(actual):
                    out.append(f"报告所列{line}差异率为{v}，但其预算数为0，差异率无法计算，不应写作{v}；")
                else:
                    text = compare(f"{line}差异率", v, actual, "rate")
                    out += [text] if text else []
            continue
        kind, key = STATABLE[name]
        if kind == "ratio":
            num_, den = res.parts[key]
            text = compare(name, value, res.ratios[key], "rate", f"{xtext(xround(num_, 2))}÷{xtext(xround(den, 2))}")
        else:
            text = compare(name, value, key(res, rec), "amount", table="表中决算数")
        out += [text] if text else []
    shares = [rec.stated.get(k) for k in ("基本支出占比", "项目支出占比")]
    if all(v is not None for v in shares):
        total = sum(stated_number(v)[0] or 0 for v in shares)
        if abs(total - 1) > 0.0001:
            out.append(f"报告所列基本支出占比与项目支出占比之和为{pct_text(total)}，应为100%；")
    return out
