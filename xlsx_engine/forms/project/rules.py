"""The scoring rules of the project form, each as one :class:`~xlsx_engine.kernel.rules.RuleTwin`.

``scoring`` (Python), ``formulas`` (Excel) and ``layout.rules_in_words`` (the printed 评分规则) all read these;
see docs/rules.md#indicator-scoring. ``text`` may hold ``{placeholders}`` filled from the profile.
"""

from __future__ import annotations

from xlsx_engine.kernel.excel import num_formula, q
from xlsx_engine.kernel.rules import RuleTwin
from xlsx_engine.kernel.xlmath import is_number, xround

#: 资金得分 from the fund totals: value(A, B, 分值, digits); 0 when A ≤ 0; 执行率 above 100 % is capped.
FUND_SCORE = RuleTwin(
    "fund_score",
    value=lambda a, b, w, d: xround(min(max(b / a, 0.0), 1.0) * w, d) if a > 0 else 0.0,
    formula=lambda a, b, w, d: f"IF({num_formula(a)}>0,ROUND(MIN(MAX({num_formula(b)}/{a},0),1)*{w},{d}),0)",
    text="{fund_label}得分＝分值×MIN(全年执行数/{fund_base}，1)，保留两位小数",
    source="docs/rules.md#fund-score",
)

#: 定性: the unit's 自评分 kept within [0, 分值]; without one, the top band scores 分值 where the profile says so.
#: value(自评分, 完成等级, 分值, top band label, default full?) — formula takes the cells' references.
QUALITATIVE = RuleTwin(
    "qualitative",
    value=lambda manual, band, w, top, full: (min(max(manual, 0.0), w) if manual is not None
                                              else (w if band == top and full else 0.0)),
    formula=lambda manual, band, w, top, full: (
        f"IF(ISNUMBER({manual}),MIN(MAX({manual},0),{w}),{f'IF({band}={q(top)},{w},0)' if full else '0'})"),
    text="定性指标：选择完成等级并填写自评分，{bands}",
    source="docs/rules.md#qualitative",
)

POSITIVE = RuleTwin(
    "positive",
    value=lambda a, t, w, d: w if a >= t else xround(a / t * w, d),
    formula=lambda a, t, w, d: f"IF({a}>={t},{w},ROUND({a}/{t}*{w},{d}))",
    text="正向指标（≥、＞、＝）：完成值≥指标值得满分，否则得分＝分值×完成值/指标值（保留两位小数）",
    source="docs/rules.md#indicator-scoring",
)

EQUAL_ZERO = RuleTwin(
    "equal_zero",
    value=lambda a, t, w, d: w if a <= 0 else 0.0,
    formula=lambda a, t, w, d: f"IF({a}<=0,{w},0)",
    text="＝且指标值为0时，完成值≤0得满分",
    source="docs/rules.md#indicator-scoring",
)

#: 反向 (≤, ＜) by the profile's ``reverse`` setting.
REVERSE = {
    "linear": RuleTwin(
        "linear",
        value=lambda a, t, w, d: w if a <= t else (xround((2 - a / t) * w, d) if a < 2 * t else 0.0),
        formula=lambda a, t, w, d: f"IF({a}<={t},{w},IF({a}<2*{t},ROUND((2-{a}/{t})*{w},{d}),0))",
        text="反向指标（≤、＜）：完成值≤指标值得满分；超过时线性扣分，达到指标值2倍时为0",
        source="docs/rules.md#indicator-scoring",
    ),
    "ratio": RuleTwin(
        "ratio",
        value=lambda a, t, w, d: w if a <= t else (xround(t / a * w, d) if t > 0 else 0.0),
        formula=lambda a, t, w, d: f"IF({a}<={t},{w},IF({t}>0,ROUND({t}/{a}*{w},{d}),0))",
        text="反向指标（≤、＜）：完成值≤指标值得满分；超过时得分＝分值×指标值/完成值",
        source="docs/rules.md#reverse-ratio",
    ),
}

def deadline_rule(days_to_zero: float | None) -> RuleTwin:
    """时效 rows (度量单位 日期): A and T are date serials; on or before T full marks, late by the profile.

    ``days_to_zero`` None: late → 0 (the default); N: the score falls linearly with the days late, 0 at N days.
    """
    if not days_to_zero:
        return RuleTwin(
            "deadline",
            value=lambda a, t, w, d: w if a <= t else 0.0,
            formula=lambda a, t, w, d: f"IF({a}<={t},{w},0)",
            text="时效指标（度量单位为“日期”）：完成日期不晚于指标日期得满分，逾期得0分",
            source="docs/rules.md#deadline-scoring",
        )
    n = days_to_zero
    return RuleTwin(
        "deadline_linear",
        value=lambda a, t, w, d: w if a <= t else xround(max(0.0, 1 - (a - t) / n) * w, d),
        formula=lambda a, t, w, d: f"IF({a}<={t},{w},ROUND(MAX(0,1-({a}-{t})/{n:g})*{w},{d}))",
        text=f"时效指标（度量单位为“日期”）：完成日期不晚于指标日期得满分，逾期按天数扣分，逾期{n:g}天及以上得0分",
        source="docs/rules.md#deadline-scoring",
    )


#: An indicator row the 总分 still waits for (docs/rules.md#pending): weighted (a numeric 分值) and not scored yet,
#: its 实际完成值 (定量) or 完成等级 (定性) not entered, so 总分 and 等次 are 待填报.
#: ``value(分值, 得分)`` is the row predicate (:func:`scoring.is_waiting`); ``formula(分值 column, 得分 column)`` is how
#: the template counts such rows, in its 校验提示 and its live 综述: COUNT(分值)−COUNT(得分). The two agree because a
#: row's 得分 is a number only when its 分值 is (``formulas.score_formula``, ``scoring.indicator_score``), so the
#: scored rows are a subset of the weighted ones. ``text`` is the first half of rule 6 under the table.
WAITING = RuleTwin(
    "waiting",
    value=lambda weight, score: is_number(weight) and not is_number(score),
    formula=lambda weights, scores: f"(COUNT({weights})-COUNT({scores}))",
    text="实际完成值（定性指标为完成等级）未填的指标得分显示为空",
    source="docs/rules.md#pending",
)


#: 度量单位 spellings that mean "percent" (docs/rules.md#percent-actuals).
PERCENT_UNITS = ("%", "％", "百分比", "百分点", "个百分点")

#: An actual on a percent row typed as ``95%`` (a spreadsheet stores 0.95) or given as a fraction (0.972):
#: when the target is above 1 and the actual is in (0, 1], the actual is read as a fraction and × 100.
PERCENT_ACTUAL = RuleTwin(
    "percent_actual",
    value=lambda a, t, w=None, d=None: a * 100 if (t > 1 and 0 < a <= 1) else a,
    formula=lambda a, t, w=None, d=None: f"IF(AND({t}>1,{a}>0,{a}<=1),{a}*100,{a})",
    text="度量单位为%的指标：指标值大于1而完成值在0到1之间（含1）时，完成值按小数比例换算为百分数"
         "（0.95或输入的“95%”按95%计）",
    source="docs/rules.md#percent-actuals",
)
