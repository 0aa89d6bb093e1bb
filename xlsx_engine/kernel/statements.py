"""Figures a report's text states (报告所列), compared with the figures the table computes.

Seed reports contradict their own tables (seed 004's text says 269 万元 where its table says 108; seed 001
states a share with the wrong denominator). A data file may carry the figures its report states under
``报告所列``; each is compared here with the computed value, and a stated rate whose denominator is 0 is
reported as not computable (never 100%).
"""

from __future__ import annotations

from typing import Any

from xlsx_engine.kernel.xlmath import is_number, xround, xtext

RATE_TOLERANCE = 0.00005     #: 0.005 percentage point
AMOUNT_TOLERANCE = 0.005     #: half a cent of 万元 / half a hundredth of a point


def stated_number(value: Any) -> tuple[float | None, bool]:
    """"9.78%" -> (0.0978, True); 86.26 -> (86.26, False); "108万元" -> (108.0, False); unreadable -> (None, False)."""
    if is_number(value):
        return float(value), False
    text = str(value).strip().replace("％", "%").replace(",", "")
    pct = text.endswith("%")
    try:
        number = float(text.rstrip("%").replace("万元", "").replace("分", ""))
    except ValueError:
        return None, False
    return (number / 100 if pct else number), pct


def pct_text(x: float) -> str:
    return f"{x * 100:.2f}%"


def compare(name: str, value: Any, actual: Any, kind: str, detail: str = "", table: str = "表中") -> str | None:
    """One stated figure against the computed one; the finding's text, or None when they agree.

    Args:
        name: what the figure is (全年预算数, 执行率...).
        value: the figure as the report states it.
        actual: the computed value ("—" when not computable).
        kind: "rate" (a ratio, stated as a percentage), "amount" (万元), "score" (points) or "text".
        detail: how the computed rate was obtained, e.g. "86.26÷968.28".
        table: how the table's figure is named in the message ("表中", "表中决算数").
    """
    if kind == "text":
        return None if str(value).strip() == str(actual) else f"报告所列{name}为“{value}”，表中为“{actual}”；"
    stated, _ = stated_number(value)
    if kind == "rate":
        if not is_number(actual):
            return f"报告所列{name}为{value}，但其分母为0，无法计算，不应写作{value}；"
        if stated is None or abs(stated - actual) > RATE_TOLERANCE:
            return f"报告所列{name}为{value}，按表中数据应为{pct_text(actual)}" + (f"（{detail}）" if detail else "") + "；"
        return None
    if stated is None or abs(stated - actual) > AMOUNT_TOLERANCE:
        unit = "万元" if kind == "amount" else "分"
        shown = value if str(value).endswith(unit) else f"{value}{unit}"
        return f"报告所列{name}为{shown}，{table}为{xtext(xround(actual, 2))}{unit}；"
    return None


#: Figures a project report may state: name -> (kind, how to get the computed value from a scoring.Result)
PROJECT_STATABLE = {
    "年初预算数": ("amount", lambda r: r.fund.initial),
    "全年预算数": ("amount", lambda r: r.fund.budget),
    "全年执行数": ("amount", lambda r: r.fund.spent),
    "执行率": ("rate", lambda r: r.fund.rate),
    "资金得分": ("score", lambda r: r.fund.score),
    "总分": ("score", lambda r: r.total),
    "评价等次": ("text", lambda r: r.grade),
}


def project_findings(stated: dict, result) -> list[str]:
    """Compare a project report's stated figures with the scorer's result."""
    out = []
    for name, value in stated.items():
        kind, get = PROJECT_STATABLE[name]
        detail = (f"{xtext(xround(result.fund.spent, 2))}÷{xtext(xround(result.fund.budget, 2))}"
                  if name == "执行率" and is_number(result.fund.rate) else "")
        text = compare(name, value, get(result), kind, detail)
        if text:
            out.append(text)
    return out
