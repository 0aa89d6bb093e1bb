"""The Python scorer: a project record and a profile in, every computed figure out.

Each function here is the twin of one formula emitted by :mod:`xlsx_engine.forms.project.formulas`
and follows spreadsheet semantics to the letter (blank cells, text in number cells,
ROUND half away from zero). The test-suite recalculates generated workbooks in
LibreOffice and proves that every formula cell equals the value computed here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xlsx_engine.forms.project.profile import Profile
from xlsx_engine.forms.project.record import IndicatorRow, ProjectRecord
from xlsx_engine.forms.project.rules import EQUAL_ZERO, POSITIVE, REVERSE
from xlsx_engine.kernel.datafile import Cell
from xlsx_engine.kernel.excel import NA, nonblank, num, ssum, verdict  # noqa: F401
from xlsx_engine.kernel.targets import (
    OP_EQ,
    OP_GE,
    OP_GT,
    OP_LE,
    OP_LT,
    OP_QUAL,
    OPERATORS,
    looks_like_target,
)
from xlsx_engine.kernel.xlmath import is_number, xround, xtext

QUANT_OPS = (OP_GE, OP_GT, OP_EQ, OP_LE, OP_LT)
OVER_ROUND = 6  #: digits used when comparing A with ratio × T, so 1.3 × 3 is exactly 3.9 everywhere


# ----------------------------------------------------------------------------- fund block

@dataclass
class FundResult:
    initial: float
    budget: float
    spent: float
    rate: float | str            #: B/A, or NA when A ≤ 0
    score: float
    source_rates: list[float | str]


def rate(budget: Cell, spent: Cell) -> float | str:
    """执行率 = B/A; NA when A is not a positive number."""
    a = num(budget)
    return num(spent) / a if a > 0 else NA


def fund_score(budget: float, spent: float, weight: float, digits: int = 2) -> float:
    """资金得分 = ROUND(MIN(MAX(B/A, 0), 1) × 分值, 2); 0 when A ≤ 0."""
    if budget <= 0:
        return 0.0
    return xround(min(max(spent / budget, 0.0), 1.0) * weight, digits)


def score_fund(record: ProjectRecord, profile: Profile) -> FundResult:
    initial = ssum(f.initial for f in record.funds)
    budget = ssum(f.budget for f in record.funds)
    spent = ssum(f.spent for f in record.funds)
    return FundResult(initial, budget, spent, rate(budget, spent),
                      fund_score(budget, spent, profile.fund_weight, profile.digits),
                      [rate(f.budget, f.spent) for f in record.funds])


# ----------------------------------------------------------------------------- indicators

def is_active(row: IndicatorRow) -> bool:
    """A row counts once it has a name, a weight, a target or an actual value."""
    return any(nonblank(v) for v in (row.name, row.weight, row.target, row.actual))


def is_over(row: IndicatorRow, profile: Profile) -> bool:
    """Over-achievement (positive ops only): A ≥ ratio × T with T > 0."""
    if profile.over_ratio is None or row.op not in (OP_GE, OP_GT, OP_EQ):
        return False
    if not (is_number(row.target) and is_number(row.actual)) or row.target <= 0:
        return False
    return max(row.actual, 0.0) >= xround(profile.over_ratio * row.target, OVER_ROUND)


def quantitative_score(op: str, target: float, actual: float, weight: float, profile: Profile) -> float:
    """Score of a 定量 indicator (docs/rules.md#indicator-scoring), before the over-achievement penalty."""
    a, t, w, d = max(actual, 0.0), target, weight, profile.digits
    if op in (OP_LE, OP_LT):
        return REVERSE[profile.reverse].value(a, t, w, d)
    if op == OP_EQ and t == 0:
        return EQUAL_ZERO.value(a, t, w, d)
    return POSITIVE.value(a, t, w, d)


def qualitative_score(row: IndicatorRow, weight: float, profile: Profile) -> float:
    if not nonblank(row.band):
        return 0.0
    if is_number(row.manual):
        return min(max(row.manual, 0.0), weight)
    top = profile.bands[0].label
    return weight if (row.band == top and profile.qualitative_default_full) else 0.0


def indicator_score(row: IndicatorRow, profile: Profile) -> float | str:
    """得分 of one row; "" for a blank row or a row without a numeric 分值."""
    if not is_active(row) or not is_number(row.weight):
        return ""
    w = float(row.weight)
    if row.op == OP_QUAL:
        return qualitative_score(row, w, profile)
    if row.op in QUANT_OPS and is_number(row.target) and is_number(row.actual):
        s = quantitative_score(row.op, float(row.target), float(row.actual), w, profile)
        if profile.over_penalty and is_over(row, profile):
            s = max(0.0, s - profile.over_penalty)
        return s
    return 0.0


def reason_required(row: IndicatorRow, score: float | str, profile: Profile) -> bool:
    if not is_number(score) or not is_number(row.weight):
        return False
    below = profile.reason_below_full and score < row.weight
    return below or (profile.over_reason_required and is_over(row, profile))


#: The row checks in the order the workbook's 提示 column concatenates them.
ROW_MESSAGES = {
    "no_name": "缺指标名称；",
    "no_weight": "缺分值；",
    "bad_level1": "一级指标不在本规则中；",
    "bad_level2": "二级指标与一级指标不匹配；",
    "bad_op": "指标性质应从下拉列表选择；",
    "bad_target": "指标值应为数字；",
    "no_actual": "缺实际完成值；",
    "actual_is_target": "完成值写成了目标值，请填实际数；",
    "actual_not_number": "实际完成值应为数字；",
    "bad_band": "请从下拉列表选择完成等级；",
    "out_of_band": "自评分不在所选完成等级的分数范围内；",
    "over": "完成值超过指标值{pct}%及以上，请填写偏差原因；",
    "no_reason": "缺偏差原因分析及改进措施；",
}


def row_messages(profile: Profile) -> dict[str, str]:
    """:data:`ROW_MESSAGES` with the profile's numbers filled in."""
    pct = xtext(xround(((profile.over_ratio or 1.3) - 1) * 100, 2))
    return {k: v.format(pct=pct) for k, v in ROW_MESSAGES.items()}


def row_flags(row: IndicatorRow, profile: Profile, score: float | str) -> list[str]:
    """The keys of :data:`ROW_MESSAGES` that apply to a row, in workbook order."""
    if not is_active(row):
        return []
    flags = []
    if not nonblank(row.name):
        flags.append("no_name")
    if not is_number(row.weight):
        flags.append("no_weight")
    if row.level1 not in profile.level1_names:
        flags.append("bad_level1")
    elif f"{row.level1}·{row.level2 if row.level2 is not None else ''}" not in profile.level_pairs:
        flags.append("bad_level2")
    if row.op not in OPERATORS:
        flags.append("bad_op")
    if row.op in QUANT_OPS and not is_number(row.target):
        flags.append("bad_target")
    if not nonblank(row.actual):
        flags.append("no_actual")
    elif looks_like_target(row.actual):
        flags.append("actual_is_target")
    elif row.op in QUANT_OPS and not is_number(row.actual):
        flags.append("actual_not_number")
    if row.op == OP_QUAL:
        if row.band not in [b.label for b in profile.bands]:
            flags.append("bad_band")
        elif is_number(row.manual) and is_number(row.weight) and not profile.in_band(
                row.band, float(row.weight), float(row.manual)):
            flags.append("out_of_band")
    if not nonblank(row.reason):
        if profile.over_reason_required and is_over(row, profile):
            flags.append("over")          # the specific reason why an explanation is needed
        elif reason_required(row, score, profile):
            flags.append("no_reason")
    return flags


@dataclass
class IndicatorResult:
    score: float | str
    flags: list[str]
    message: str          #: the text of the row's 提示 cell


# ----------------------------------------------------------------------------- totals and checks

@dataclass
class Result:
    """Every figure the template computes, in Python."""

    fund: FundResult
    target_score: float
    indicators: list[IndicatorResult]
    weight_sum: float               #: Σ 分值 of the indicator rows
    score_sum: float                #: Σ 得分 of the indicator rows
    level1_weights: dict[str, float]
    total_weight: float             #: the 总分 row's 分值 (blocks inside the total + Σ 分值)
    raw_total: float
    cap: float | None
    total: float
    grade: str
    checks: list[str] = field(default_factory=list)   #: one text per 校验提示 cell, "" when it passes

    @property
    def problems(self) -> list[str]:
        return [c for c in self.checks if c]

    @property
    def verdict(self) -> str:
        return verdict(self.checks)


def target_block_score(value: Cell, profile: Profile) -> float:
    return min(max(num(value), 0.0), profile.target_weight) if profile.has_target_block else 0.0


def rate_cap(fund_rate: float | str, profile: Profile) -> float | None:
    if not profile.rate_caps or not is_number(fund_rate):
        return None
    for cap in profile.rate_caps:  # ascending "below"
        if fund_rate < cap.below:
            return cap.cap
    return None


def check_texts(record: ProjectRecord, profile: Profile, fund: FundResult, weight_sum: float,
                total_weight: float, level1_weights: dict[str, float], flagged_rows: int) -> list[str]:
    """The texts of the workbook's 校验提示 cells, in order (see formulas.check_formulas)."""
    out = []
    tw = xround(total_weight, 2)
    out.append("" if xround(total_weight - profile.total, 2) == 0 else
               f"分值合计为{xtext(tw)}，应为{xtext(profile.total)}，请调整各指标分值；")
    for l1 in profile.level1:
        if l1.weight is None:
            continue
        got = xround(level1_weights[l1.name], 2)
        out.append("" if xround(level1_weights[l1.name] - l1.weight, 2) == 0 else
                   f"{l1.name}分值合计为{xtext(got)}，应为{xtext(l1.weight)}；")
    out.append("全年预算数为0或未填，执行率无法计算；" if fund.budget <= 0 else "")
    out.append("全年执行数大于全年预算数（执行率超过100%），请核实；"
               if fund.budget > 0 and fund.spent > fund.budget else "")
    if profile.rate_reason_below is not None:
        need = fund.budget > 0 and fund.spent / fund.budget < profile.rate_reason_below
        out.append(f"执行率低于{xtext(profile.rate_reason_below * 100)}%，请填写执行率说明；"
                   if need and not nonblank(record.rate_reason) else "")
    if profile.has_target_block:
        out.append("" if is_number(record.target_score) else f"请填写{profile.target_label}自评分；")
    out.append(f"有{flagged_rows}行指标存在问题，见“提示”列；" if flagged_rows > 0 else "")
    return out


def evaluate(record: ProjectRecord, profile: Profile) -> Result:
    """Score a project record under a profile.

    Args:
        record: the cell values of one project table.
        profile: the scoring rules.

    Returns:
        A :class:`Result` holding every figure the template's formulas compute.
    """
    fund = score_fund(record, profile)
    rows = []
    messages = row_messages(profile)
    for row in record.indicators:
        s = indicator_score(row, profile)
        flags = row_flags(row, profile, s)
        rows.append(IndicatorResult(s, flags, "".join(messages[f] for f in flags)))
    weight_sum = ssum(r.weight for r in record.indicators)
    score_sum = ssum(r.score for r in rows)
    level1_weights = {l1.name: ssum(r.weight for r in record.indicators if r.level1 == l1.name)
                      for l1 in profile.level1}
    target = target_block_score(record.target_score, profile)
    fund_in = profile.fund_weight if profile.fund_in_total else 0.0
    total_weight = fund_in + profile.target_weight + weight_sum
    raw = xround((fund.score if profile.fund_in_total else 0.0) + target + score_sum, profile.digits)
    cap = rate_cap(fund.rate, profile)
    total = min(raw, cap) if cap is not None else raw
    checks = check_texts(record, profile, fund, weight_sum, total_weight, level1_weights,
                         sum(1 for r in rows if r.flags))
    return Result(fund, target, rows, weight_sum, score_sum, level1_weights, total_weight, raw, cap, total,
                  profile.grade_for(total), checks)
