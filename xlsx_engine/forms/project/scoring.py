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
from xlsx_engine.forms.project.rules import (
    EQUAL_ZERO,
    FUND_SCORE,
    PERCENT_ACTUAL,
    PERCENT_UNITS,
    POSITIVE,
    QUALITATIVE,
    REVERSE,
    WAITING,
    deadline_rule,
)
from xlsx_engine.kernel.datafile import Cell
from xlsx_engine.kernel.excel import NA, nonblank, num, ssum, verdict
from xlsx_engine.kernel.targets import (
    DATE_UNIT,
    OP_EQ,
    OP_GE,
    OP_GT,
    OP_LE,
    OP_LT,
    OP_QUAL,
    OPERATORS,
    date_serial,
    looks_like_target,
)
from xlsx_engine.kernel.xlmath import is_number, xround, xtext

QUANT_OPS = (OP_GE, OP_GT, OP_EQ, OP_LE, OP_LT)
OVER_ROUND = 6  #: digits used when comparing A with ratio × T, so 1.3 × 3 is exactly 3.9 everywhere
PCT_ONE_BELOW = 50  #: a percent actual of 1 against a target below this may mean 1% (warned), above it means 100%
PENDING = "待填报"  #: shown instead of a figure whose deciding inputs are not all entered yet


# ----------------------------------------------------------------------------- fund block

@dataclass
class FundResult:
    initial: float
    budget: float
    spent: float
    rate: float | str            #: B/A, NA when A ≤ 0, "" until both A and B are entered
    score: float | str           #: "" until A and B are entered
    source_rates: list[float | str]
    entered: bool = True         #: some 全年预算数 and some 全年执行数 are numbers


def rate(budget: Cell, spent: Cell) -> float | str:
    """执行率 = B/A; NA when A is not a positive number."""
    a = num(budget)
    return num(spent) / a if a > 0 else NA


def source_rate(budget: Cell, spent: Cell) -> float | str:
    """One fund source's 执行率: "" until both its A and B are numbers."""
    return rate(budget, spent) if is_number(budget) and is_number(spent) else ""


def fund_score(budget: float, spent: float, weight: float, digits: int = 2) -> float:
    """资金得分 = ROUND(MIN(MAX(B/A, 0), 1) × 分值, 2); 0 when A ≤ 0 (rules.FUND_SCORE)."""
    return FUND_SCORE.value(budget, spent, weight, digits)


def score_fund(record: ProjectRecord, profile: Profile) -> FundResult:
    initial = ssum(f.initial for f in record.funds)
    budget = ssum(f.budget for f in record.funds)
    spent = ssum(f.spent for f in record.funds)
    entered = any(is_number(f.budget) for f in record.funds) and any(is_number(f.spent) for f in record.funds)
    return FundResult(initial, budget, spent, rate(budget, spent) if entered else "",
                      fund_score(budget, spent, profile.fund_weight, profile.digits) if entered else "",
                      [source_rate(f.budget, f.spent) for f in record.funds], entered)


# ----------------------------------------------------------------------------- indicators

def is_active(row: IndicatorRow) -> bool:
    """A row counts once it has a name, a weight, a target or an actual value."""
    return nonblank(row.name) or nonblank(row.weight) or nonblank(row.target) or nonblank(row.actual)


def is_started(row: IndicatorRow) -> bool:
    """The unit has typed into the row (实际完成值, 完成等级, 自评分 or 偏差原因): its input warnings show."""
    return nonblank(row.actual) or nonblank(row.band) or nonblank(row.manual) or nonblank(row.reason)


def is_percent(row: IndicatorRow) -> bool:
    """A 定量 row measured in percent with a numeric target and actual (docs/rules.md#percent-actuals)."""
    return (row.unit in PERCENT_UNITS and row.op in QUANT_OPS and is_number(row.target)
            and is_number(row.actual))


def actual_value(row: IndicatorRow) -> float:
    """The actual as scored: a fraction on a percent row is read as a percentage (PERCENT_ACTUAL)."""
    a = float(row.actual)
    return PERCENT_ACTUAL.value(a, float(row.target)) if is_percent(row) else a


def percent_flag(row: IndicatorRow) -> str | None:
    """What was assumed about a percent actual whose intent cannot be known, or None."""
    if not is_percent(row) or not 0 < row.actual <= 1:
        return None
    if row.target <= 1:
        return "pct_as_written"
    if row.actual == 1 and row.target < PCT_ONE_BELOW:
        return "pct_one"
    return "pct_scaled" if row.op in (OP_LE, OP_LT) else None


def is_over(row: IndicatorRow, profile: Profile) -> bool:
    """Over-achievement (positive ops only): A ≥ ratio × T with T > 0."""
    if profile.over_ratio is None or row.op not in (OP_GE, OP_GT, OP_EQ) or row.unit == DATE_UNIT:
        return False
    if not (is_number(row.target) and is_number(row.actual)) or row.target <= 0:
        return False
    return max(actual_value(row), 0.0) >= xround(profile.over_ratio * row.target, OVER_ROUND)


def quantitative_score(op: str, target: float, actual: float, weight: float, profile: Profile) -> float:
    """Score of a 定量 indicator (docs/rules.md#indicator-scoring), before the over-achievement penalty."""
    a, t, w, d = max(actual, 0.0), target, weight, profile.digits
    if op in (OP_LE, OP_LT):
        return REVERSE[profile.reverse].value(a, t, w, d)
    if op == OP_EQ and t == 0:
        return EQUAL_ZERO.value(a, t, w, d)
    return POSITIVE.value(a, t, w, d)


def qualitative_score(row: IndicatorRow, weight: float, profile: Profile) -> float:
    """得分 of a 定性 row (rules.QUALITATIVE)."""
    return QUALITATIVE.value(float(row.manual) if is_number(row.manual) else None, row.band, weight,
                             profile.bands[0].label, profile.qualitative_default_full)


def is_decided(row: IndicatorRow) -> bool:
    """The input that decides the 得分 is entered: 完成等级 for 定性, 实际完成值 otherwise."""
    return nonblank(row.band) if row.op == OP_QUAL else nonblank(row.actual)


def is_waiting(row: IndicatorRow, score: float | str) -> bool:
    """The row is weighted (a numeric 分值) and not scored yet (``score``, its :func:`indicator_score`, is not a number:
    its 实际完成值 or 完成等级 is not entered), so the 总分 and 等次 wait for it (待填报; rules.WAITING).

    The one definition of an indicator that still waits: :func:`pending_inputs`, the 校验提示 (:func:`check_texts`),
    the live 综述 (``sentences.intro_values``) and the Word report's 总分 and group subtotals all read it. It is the
    twin of the template's count ``COUNT(分值)-COUNT(得分)`` (``formulas.waiting_count_expr``, in the 校验提示 and the
    live 综述, and ``COUNT(分值)>COUNT(得分)`` in the 总分's ``formulas.pending_expr``): :func:`waiting_count` of the
    record is that count, a row's 得分 being a number only when its 分值 is.
    """
    return WAITING.value(row.weight, score)


def waiting_count(record: ProjectRecord, rows: list[IndicatorResult]) -> int:
    """How many indicator rows wait (:func:`is_waiting`); ``rows``: the record's scored rows, in order."""
    return sum(1 for row, res in zip(record.indicators, rows) if is_waiting(row, res.score))


def indicator_score(row: IndicatorRow, profile: Profile) -> float | str:
    """得分 of one row; "" for a blank row, a row without a numeric 分值, or before its deciding input."""
    if not is_active(row) or not is_number(row.weight) or not is_decided(row):
        return ""
    w = float(row.weight)
    if row.op == OP_QUAL:
        return qualitative_score(row, w, profile)
    if row.op in QUANT_OPS and is_number(row.target) and is_number(row.actual) and row.unit == DATE_UNIT:
        return deadline_rule(profile.late_days_to_zero).value(
            date_serial(float(row.actual)), date_serial(float(row.target)), w, profile.digits)
    if row.op in QUANT_OPS and is_number(row.target) and is_number(row.actual):
        s = quantitative_score(row.op, float(row.target), actual_value(row), w, profile)
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
    "pct_as_written": "指标值不大于1，完成值未换算，按所填数值计（0.5即0.5%），请核对；",
    "pct_one": "完成值1按100%计，若为1%请输入“1%”；",
    "pct_scaled": "完成值按小数比例×100计（0.5按50%计），请核对；",
    "bad_band": "请从下拉列表选择完成等级；",
    "out_of_band": "自评分不在所选完成等级的分数范围内；",
    "over": "完成值超过指标值{pct}%及以上，请填写偏差原因；",
    "no_reason": "缺偏差原因分析及改进措施；",
}


def row_messages(profile: Profile) -> dict[str, str]:
    """:data:`ROW_MESSAGES` with the profile's numbers filled in."""
    pct = xtext(xround(((profile.over_ratio or 1.3) - 1) * 100, 2))
    return {k: v.format(pct=pct) for k, v in ROW_MESSAGES.items()}


def row_flags(row: IndicatorRow, profile: Profile, score: float | str, started: bool = True) -> list[str]:
    """The keys of :data:`ROW_MESSAGES` that apply to a row, in workbook order.

    The checks of what the unit types (完成值, 完成等级, 偏差原因) apply once the row is ``started``
    (:func:`is_started`), so an issued, untouched form shows no warnings and each row's warnings appear
    as the unit types into it; rows still waiting are counted in the 校验提示 once the form is started.
    """
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
    if not started:
        return flags
    if not nonblank(row.actual):
        flags.append("no_actual")
    elif looks_like_target(row.actual):
        flags.append("actual_is_target")
    elif row.op in QUANT_OPS and not is_number(row.actual):
        flags.append("actual_not_number")
    elif percent_flag(row):
        flags.append(percent_flag(row))
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
    total: float | str              #: PENDING until every input deciding it is entered (see :func:`pending_inputs`)
    grade: str                      #: PENDING like the total
    checks: list[str] = field(default_factory=list)   #: one text per 校验提示 cell, "" when it passes
    pending: list[str] = field(default_factory=list)  #: the inputs still missing for the total
    partial_total: float = 0.0      #: the total counting missing inputs as 0 (for checking printed tables)

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


def form_started(record: ProjectRecord) -> bool:
    """The unit has typed into an indicator row; until then no input is asked for.

    Fund figures do not count: a bureau may issue the form with the budget already filled in.
    """
    return any(is_started(r) for r in record.indicators)


def pending_inputs(record: ProjectRecord, profile: Profile, fund: FundResult, rows: list) -> list[str]:
    """What must still be entered before 总分 and 等次 are computed (docs/rules.md#pending).

    The total is decided by the fund figures (when the fund block counts), the 目标自评分 (when the
    profile has that block) and the 得分 of every row with a numeric 分值; a row's 得分 by its
    实际完成值 (定量) or 完成等级 (定性).
    """
    out = []
    if profile.fund_in_total and not fund.entered:
        out.append("全年预算数和全年执行数")
    if profile.has_target_block and not is_number(record.target_score):
        out.append(f"{profile.target_label}自评分")
    waiting = waiting_count(record, rows)
    if not any(is_number(r.weight) for r in record.indicators):
        out.append("绩效指标")
    elif waiting:
        out.append(f"{waiting}行指标的实际完成值或完成等级")
    return out


def weight_gaps(profile: Profile, total_weight: float, level1_weights: dict[str, float]
                ) -> tuple[float | None, dict[str, float]]:
    """Where the weights are off the rules, to the cent: the 总分 row's 分值 when it is not the profile's total
    (else None), and each weighted 一级指标 whose sum is not its weight (name -> the sum). The one test of the
    weights: the workbook's 校验提示 (:func:`weight_checks`) and ``jxzp check``'s findings both read it."""
    total = None if xround(total_weight - profile.total, 2) == 0 else xround(total_weight, 2)
    level1 = {}
    for l1 in profile.level1:
        got = level1_weights.get(l1.name, 0.0)
        if l1.weight is not None and xround(got - l1.weight, 2) != 0:
            level1[l1.name] = xround(got, 2)
    return total, level1


def weight_checks(profile: Profile, total_weight: float, level1_weights: dict[str, float]) -> list[str]:
    """The 校验提示 of the weights: the 总分 row's 分值 and each weighted 一级指标's sum ("" when right)."""
    total, level1 = weight_gaps(profile, total_weight, level1_weights)
    out = ["" if total is None else f"分值合计为{xtext(total)}，应为{xtext(profile.total)}，请调整各指标分值；"]
    for l1 in profile.level1:
        if l1.weight is not None:
            out.append(f"{l1.name}分值合计为{xtext(level1[l1.name])}，应为{xtext(l1.weight)}；" if l1.name in level1 else "")
    return out


#: the 校验提示 while indicator rows wait (:func:`is_waiting`), before and after their count (Python and formula)
WAITING_CHECK = ("尚有", "行指标未填实际完成值或完成等级，总分待填报；")

#: row flags that say the unit filled the form against its rules (a 主要问题 of the self-evaluation itself)
ENTRY_FLAGS = ("bad_level1", "bad_level2", "bad_op", "bad_target", "bad_band", "out_of_band")


def check_texts(record: ProjectRecord, profile: Profile, fund: FundResult, weight_sum: float,
                total_weight: float, level1_weights: dict[str, float], flagged_rows: int,
                waiting_rows: int = 0) -> list[str]:
    """The texts of the workbook's 校验提示 cells, in order (see formulas.check_formulas)."""
    started = form_started(record)
    out = weight_checks(profile, total_weight, level1_weights)
    out.append("全年预算数为0，执行率无法计算；"
               if fund.budget <= 0 and any(is_number(f.budget) for f in record.funds) else "")
    out.append("全年执行数大于全年预算数（执行率超过100%），请核实；"
               if fund.budget > 0 and fund.spent > fund.budget else "")
    if profile.rate_reason_below is not None:
        need = fund.entered and fund.budget > 0 and fund.spent / fund.budget < profile.rate_reason_below
        out.append(f"执行率低于{xtext(profile.rate_reason_below * 100)}%，请填写执行率说明；"
                   if need and not nonblank(record.rate_reason) else "")
    if profile.has_target_block:
        out.append("" if is_number(record.target_score) or not started else f"请填写{profile.target_label}自评分；")
    out.append(f"{WAITING_CHECK[0]}{waiting_rows}{WAITING_CHECK[1]}" if started and waiting_rows > 0 else "")
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
        flags = row_flags(row, profile, s, is_started(row))
        rows.append(IndicatorResult(s, flags, "".join(messages[f] for f in flags)))
    weight_sum = ssum(r.weight for r in record.indicators)
    score_sum = ssum(r.score for r in rows)
    level1_weights = {l1.name: ssum(r.weight for r in record.indicators if r.level1 == l1.name)
                      for l1 in profile.level1}
    target = target_block_score(record.target_score, profile)
    fund_in = profile.fund_weight if profile.fund_in_total else 0.0
    total_weight = fund_in + profile.target_weight + weight_sum
    raw = xround((num(fund.score) if profile.fund_in_total else 0.0) + target + score_sum, profile.digits)
    cap = rate_cap(fund.rate, profile)
    total = min(raw, cap) if cap is not None else raw
    checks = check_texts(record, profile, fund, weight_sum, total_weight, level1_weights,
                         sum(1 for r in rows if r.flags), waiting_count(record, rows))
    pending = pending_inputs(record, profile, fund, rows)
    if pending:
        return Result(fund, target, rows, weight_sum, score_sum, level1_weights, total_weight, raw, cap,
                      PENDING, PENDING, checks, pending, total)
    return Result(fund, target, rows, weight_sum, score_sum, level1_weights, total_weight, raw, cap, total,
                  profile.grade_for(total), checks, [], total)
