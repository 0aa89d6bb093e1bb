"""The formula emitter: the same rules as :mod:`xlsx_engine.forms.project.scoring`, written as Excel formulas.

Every function takes cell references (strings such as ``"$F$6"`` or ``"I15"``) and the
profile, and returns a formula with the leading ``=``. Only functions shared by
Excel 2010, WPS, LibreOffice and Gnumeric are used; :data:`ALLOWED_FUNCTIONS` lists them and
:func:`functions_used` lets the tests check every formula of every template.
"""

from __future__ import annotations

from dataclasses import dataclass

from xlsx_engine.forms.project.profile import Profile
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
from xlsx_engine.forms.project.scoring import (
    OVER_ROUND,
    PCT_ONE_BELOW,
    PENDING,
    QUANT_OPS,
    WAITING_CHECK,
    row_messages,
)
from xlsx_engine.kernel import excel as kx
from xlsx_engine.kernel.excel import (
    NA,
    any_of,
    count_nonblank_formula,
    looks_like_target_expr,
    n,
    num_formula,
    q,
)
from xlsx_engine.kernel.targets import (
    DATE_UNIT,
    OP_EQ,
    OP_GE,
    OP_GT,
    OP_LE,
    OP_LT,
    OP_QUAL,
    YYYYMMDD_FROM,
)
from xlsx_engine.kernel.xlmath import xtext

# ----------------------------------------------------------------------------- fund block

def fund_entered_expr(budgets: str, spents: str) -> str:
    """Boolean: some 全年预算数 and some 全年执行数 are numbers (twin of FundResult.entered)."""
    return f"AND(COUNT({budgets})>0,COUNT({spents})>0)"


def rate_formula(budget: str, spent: str, budgets: str | None = None, spents: str | None = None) -> str:
    """执行率 = B/A, "—" when A is not positive, "" until A and B are entered (in ``budgets``/``spents``)."""
    entered = fund_entered_expr(budgets or budget, spents or spent)
    return f"=IF({entered},IF({num_formula(budget)}>0,{num_formula(spent)}/{budget},{q(NA)}),\"\")"


def fund_score_formula(budget: str, spent: str, weight: str, profile: Profile, budgets: str, spents: str) -> str:
    return f"=IF({fund_entered_expr(budgets, spents)},{FUND_SCORE.formula(budget, spent, weight, profile.digits)},\"\")"


# ----------------------------------------------------------------------------- indicators

@dataclass(frozen=True)
class RowRefs:
    """Cell references of one indicator row."""

    level1: str
    level2: str
    name: str
    op: str
    target: str
    unit: str
    actual: str
    band: str
    weight: str
    manual: str
    score: str
    reason: str
    message: str


def active_expr(r: RowRefs) -> str:
    return f"OR(LEN({r.name})>0,LEN({r.weight})>0,LEN({r.target})>0,LEN({r.actual})>0)"


def decided_expr(r: RowRefs) -> str:
    """Boolean: the input deciding the 得分 is entered (twin of scoring.is_decided)."""
    return f"IF({r.op}={q(OP_QUAL)},LEN({r.band})>0,LEN({r.actual})>0)"


def percent_expr(r: RowRefs) -> str:
    """Boolean: a 定量 row in percent with numeric target and actual (twin of scoring.is_percent)."""
    return (f"AND({any_of(r.unit, PERCENT_UNITS)},{any_of(r.op, QUANT_OPS)},ISNUMBER({r.target}),"
            f"ISNUMBER({r.actual}))")


def actual_expr(r: RowRefs) -> str:
    """The actual as scored (twin of scoring.actual_value); valid where the actual is a number."""
    return f"IF({percent_expr(r)},{PERCENT_ACTUAL.formula(r.actual, r.target)},{r.actual})"


def over_expr(r: RowRefs, profile: Profile) -> str:
    """Boolean: over-achievement (A ≥ ratio × T, T > 0, positive operator)."""
    if profile.over_ratio is None:
        return "FALSE"
    pos = f"AND({any_of(r.op, (OP_GE, OP_GT, OP_EQ))},{r.unit}<>{q(DATE_UNIT)})"
    return (f"IF(AND({pos},ISNUMBER({r.target}),ISNUMBER({r.actual})),"
            f"IF({r.target}>0,MAX({actual_expr(r)},0)>=ROUND({n(profile.over_ratio)}*{r.target},{OVER_ROUND}),FALSE),FALSE)")


def quantitative_expr(r: RowRefs, profile: Profile) -> str:
    a, t, w, d = f"MAX({actual_expr(r)},0)", r.target, r.weight, profile.digits
    reverse = REVERSE[profile.reverse].formula(a, t, w, d)
    positive = POSITIVE.formula(a, t, w, d)
    equal_zero = EQUAL_ZERO.formula(a, t, w, d)
    expr = (f"IF({any_of(r.op, (OP_LE, OP_LT))},{reverse},"
            f"IF(AND({r.op}={q(OP_EQ)},{t}=0),{equal_zero},{positive}))")
    if profile.over_penalty:
        expr = f"MAX(0,{expr}-IF({over_expr(r, profile)},{n(profile.over_penalty)},0))"
    return expr


def date_serial_expr(ref: str) -> str:
    """A date cell as a date serial (twin of targets.date_serial): yyyymmdd numbers converted, serials kept."""
    return (f"IF({ref}>={YYYYMMDD_FROM},DATE(INT({ref}/10000),MOD(INT({ref}/100),100),MOD({ref},100)),{ref})")


def deadline_expr(r: RowRefs, profile: Profile) -> str:
    return deadline_rule(profile.late_days_to_zero).formula(
        date_serial_expr(r.actual), date_serial_expr(r.target), r.weight, profile.digits)


def qualitative_expr(r: RowRefs, profile: Profile) -> str:
    return QUALITATIVE.formula(r.manual, r.band, r.weight, profile.bands[0].label, profile.qualitative_default_full)


def score_formula(r: RowRefs, profile: Profile) -> str:
    """得分 of one indicator row (twin of scoring.indicator_score)."""
    quant = (f"IF(AND({any_of(r.op, QUANT_OPS)},ISNUMBER({r.target}),ISNUMBER({r.actual})),"
             f"IF({r.unit}={q(DATE_UNIT)},{deadline_expr(r, profile)},{quantitative_expr(r, profile)}),0)")
    return (f"=IF(NOT({active_expr(r)}),\"\",IF(NOT(AND(ISNUMBER({r.weight}),{decided_expr(r)})),\"\","
            f"IF({r.op}={q(OP_QUAL)},{qualitative_expr(r, profile)},{quant})))")


def _band_violation(r: RowRefs, profile: Profile) -> str:
    parts = []
    d = profile.digits
    for b in profile.bands:
        low = f"ROUND({n(b.lower)}*{r.weight},{d})"
        if b.upper >= 1.0:
            bad = f"OR({r.manual}<{low},{r.manual}>{r.weight})"
        else:
            bad = f"OR({r.manual}<{low},{r.manual}>=ROUND({n(b.upper)}*{r.weight},{d}))"
        parts.append(f"IF({r.band}={q(b.label)},{bad},FALSE)")
    return "OR(" + ",".join(parts) + ")"


def form_started_expr(unit_inputs: str) -> str:
    """Boolean: an indicator input has been typed (twin of scoring.form_started)."""
    return f"COUNTA({unit_inputs})>0"


def started_expr(r: RowRefs) -> str:
    """Boolean: the unit has typed into the row (twin of scoring.is_started)."""
    return f"OR(LEN({r.actual})>0,LEN({r.band})>0,LEN({r.manual})>0,LEN({r.reason})>0)"


def message_formula(r: RowRefs, profile: Profile, names: dict[str, str]) -> str:
    """The row's 提示 text (twin of scoring.row_flags), "" when the row is fine or blank.

    Until the row is started (:func:`started_expr`) only its set-up (name, 分值, 指标) is checked.

    Args:
        names: defined names of the lookup lists: ``level1``, ``pairs``, ``ops``, ``bands``.
    """
    msg = row_messages(profile)
    parts = [
        (f"LEN({r.name})=0", "no_name"),
        (f"NOT(ISNUMBER({r.weight}))", "no_weight"),
    ]
    level1_bad = f"SUMPRODUCT(--({names['level1']}={r.level1}))=0"
    pair_bad = f"SUMPRODUCT(--({names['pairs']}={r.level1}&{q('·')}&{r.level2}))=0"
    pieces = [f"IF({cond},{q(msg[key])},\"\")" for cond, key in parts]
    pieces.append(f"IF({level1_bad},{q(msg['bad_level1'])},IF({pair_bad},{q(msg['bad_level2'])},\"\"))")
    pieces.append(f"IF(SUMPRODUCT(--({names['ops']}={r.op}))=0,{q(msg['bad_op'])},\"\")")
    pieces.append(f"IF(AND({any_of(r.op, QUANT_OPS)},NOT(ISNUMBER({r.target}))),{q(msg['bad_target'])},\"\")")
    structural = "&".join(pieces)
    pieces = []
    pct = (f"IF({percent_expr(r)},IF(AND({r.actual}>0,{r.actual}<=1),IF({r.target}<=1,{q(msg['pct_as_written'])},"
           f"IF(AND({r.actual}=1,{r.target}<{n(PCT_ONE_BELOW)}),{q(msg['pct_one'])},IF({any_of(r.op, (OP_LE, OP_LT))},{q(msg['pct_scaled'])},"
           f"\"\"))),\"\"),\"\")")
    pieces.append(
        f"IF(LEN({r.actual})=0,{q(msg['no_actual'])},IF({looks_like_target_expr(r.actual)},"
        f"{q(msg['actual_is_target'])},IF(AND({any_of(r.op, QUANT_OPS)},NOT(ISNUMBER({r.actual}))),"
        f"{q(msg['actual_not_number'])},{pct})))")
    pieces.append(
        f"IF({r.op}={q(OP_QUAL)},IF(SUMPRODUCT(--({names['bands']}={r.band}))=0,{q(msg['bad_band'])},"
        f"IF(AND(ISNUMBER({r.manual}),ISNUMBER({r.weight})),IF({_band_violation(r, profile)},"
        f"{q(msg['out_of_band'])},\"\"),\"\")),\"\")")
    below = (f"IF(AND(ISNUMBER({r.score}),ISNUMBER({r.weight})),IF({r.score}<{r.weight},{q(msg['no_reason'])},"
             f"\"\"),\"\")" if profile.reason_below_full else '""')
    if profile.over_reason_required:
        below = f"IF({over_expr(r, profile)},{q(msg['over'])},{below})"
    pieces.append(f"IF(LEN({r.reason})=0,{below},\"\")")
    return (f"=IF(NOT({active_expr(r)}),\"\",{structural}&IF({started_expr(r)},"
            + "&".join(pieces) + ",\"\"))")


# ----------------------------------------------------------------------------- totals

def total_weight_formula(fund_weight: str | None, target_weight: str | None, weight_sum: str) -> str:
    parts = [p for p in (fund_weight, target_weight) if p] + [weight_sum]
    return "=" + "+".join(parts)


def raw_total_expr(fund_score: str | None, target_score: str | None, score_sum: str, profile: Profile) -> str:
    parts = []
    if fund_score:
        parts.append(fund_score)
    if target_score:
        parts.append(f"MIN(MAX({num_formula(target_score)},0),{n(profile.target_weight)})")
    parts.append(score_sum)
    return f"ROUND({'+'.join(parts)},{profile.digits})"


def waiting_count_expr(weights: str, scores: str) -> str:
    """How many indicator rows wait, over the 分值 and 得分 columns (twin of scoring.waiting_count, each row of which
    is scoring.is_waiting; rules.WAITING)."""
    return WAITING.formula(weights, scores)


def pending_expr(budgets: str, spents: str, target_input: str | None, weights: str, scores: str,
                 profile: Profile) -> str:
    """Boolean: an input deciding the 总分 is missing (twin of scoring.pending_inputs). Its last part,
    ``COUNT(分值)>COUNT(得分)``, is :func:`waiting_count_expr` > 0 (a row waits: scoring.is_waiting) as issued
    templates spell it."""
    parts = []
    if profile.fund_in_total:
        parts.append(f"NOT({fund_entered_expr(budgets, spents)})")
    if profile.has_target_block:
        parts.append(f"NOT(ISNUMBER({target_input}))")
    parts.append(f"COUNT({weights})=0")
    parts.append(f"COUNT({weights})>COUNT({scores})")
    return "OR(" + ",".join(parts) + ")"


def cap_expr(fund_rate: str, profile: Profile) -> str:
    """The 总分 cap by 执行率 (twin of scoring.rate_cap); 100000 (no cap) above the highest threshold."""
    cap = "100000"
    for c in sorted(profile.rate_caps, key=lambda c: -c.below):
        cap = f"IF({fund_rate}<{n(c.below)},{n(c.cap)},{cap})"
    return cap


def total_formula(raw: str, fund_rate: str, profile: Profile, pending: str) -> str:
    """总分, with the platform's caps by 执行率 when the profile has them; 待填报 while ``pending``."""
    expr = raw
    if profile.rate_caps:
        expr = f"IF(ISNUMBER({fund_rate}),MIN({raw},{cap_expr(fund_rate, profile)}),{raw})"
    return f"=IF({pending},{q(PENDING)},{expr})"


def grade_formula(total: str, profile: Profile) -> str:
    return f"=IF(ISNUMBER({total}),{kx.grade_formula(total, profile.grades)[1:]},{q(PENDING)})"


def target_score_formula(target_input: str, profile: Profile) -> str:
    return f"=MIN(MAX({num_formula(target_input)},0),{n(profile.target_weight)})"


# ----------------------------------------------------------------------------- checks

@dataclass(frozen=True)
class CheckRefs:
    total_weight: str
    level1_col: str
    weight_col: str
    budget: str
    spent: str
    rate_reason: str
    target_input: str | None
    message_col: str
    budgets: str           #: the fund sources' 全年预算数 cells
    spents: str            #: the fund sources' 全年执行数 cells
    unit_inputs: str       #: the indicator columns the unit types into (实际完成值, 完成等级, 自评分, 偏差原因)
    score_col: str


def check_formulas(c: CheckRefs, profile: Profile) -> list[str]:
    """The 校验提示 cells (twins of scoring.check_texts), in the same order."""
    out = [f"=IF(ROUND({c.total_weight}-{n(profile.total)},2)<>0,{q('分值合计为')}&ROUND({c.total_weight},2)&"
           f"{q('，应为' + xtext(profile.total) + '，请调整各指标分值；')},\"\")"]
    for l1 in profile.level1:
        if l1.weight is None:
            continue
        s = f"SUMIF({c.level1_col},{q(l1.name)},{c.weight_col})"
        out.append(f"=IF(ROUND({s}-{n(l1.weight)},2)<>0,{q(l1.name + '分值合计为')}&ROUND({s},2)&"
                   f"{q('，应为' + xtext(l1.weight) + '；')},\"\")")
    out.append(f"=IF(AND(COUNT({c.budgets})>0,{num_formula(c.budget)}<=0),{q('全年预算数为0，执行率无法计算；')},\"\")")
    out.append(f"=IF(AND({num_formula(c.budget)}>0,{num_formula(c.spent)}>{num_formula(c.budget)}),"
               f"{q('全年执行数大于全年预算数（执行率超过100%），请核实；')},\"\")")
    if profile.rate_reason_below is not None:
        pct = xtext(profile.rate_reason_below * 100)
        out.append(f"=IF(AND({fund_entered_expr(c.budgets, c.spents)},{num_formula(c.budget)}>0,LEN({c.rate_reason})=0),IF({num_formula(c.spent)}/{c.budget}<"
                   f"{n(profile.rate_reason_below)},{q('执行率低于' + pct + '%，请填写执行率说明；')},\"\"),\"\")")
    started = form_started_expr(c.unit_inputs)
    if profile.has_target_block:
        out.append(f"=IF(OR(ISNUMBER({c.target_input}),NOT({started})),\"\","
                   f"{q('请填写' + profile.target_label + '自评分；')})")
    waiting = waiting_count_expr(c.weight_col, c.score_col)
    out.append(f"=IF(AND({started},{waiting}>0),{q(WAITING_CHECK[0])}&{waiting}&{q(WAITING_CHECK[1])},\"\")")
    count = count_nonblank_formula(c.message_col)
    out.append(f"=IF({count}>0,{q('有')}&{count}&{q('行指标存在问题，见“提示”列；')},\"\")")
    return out
