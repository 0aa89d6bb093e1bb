"""The 定量 indicator rules of the project form, each as one :class:`~xlsx_engine.kernel.rules.RuleTwin`.

``scoring.quantitative_score`` (Python), ``formulas.quantitative_expr`` (Excel) and
``layout.rules_in_words`` (the printed 评分规则) all read these; see docs/rules.md#indicator-scoring.
"""

from __future__ import annotations

from xlsx_engine.kernel.rules import RuleTwin
from xlsx_engine.kernel.xlmath import xround

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
