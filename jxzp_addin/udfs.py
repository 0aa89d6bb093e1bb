"""Custom worksheet functions (UDFs) for power users — they need Python and the add-in.

The templates never use them: every template computes with native formulas and works without
Python. These functions give the same numbers as the templates (they call the same Python twin
of the formulas, :mod:`xlsx_engine.forms.project.scoring`) for use in one's own analysis sheets::

    =JXZP_RATE(全年预算数, 全年执行数)                      执行率（预算数为 0 或未填时为“—”）
    =JXZP_SCORE(指标性质, 指标值, 实际完成值, 分值, "national")  一个指标的得分
    =JXZP_SCORE("定性", , , 10, "national", "达成", 9)          定性指标：完成等级、自评分
    =JXZP_GRADE(总分, "national")                           评价等次
    =JXZP_SUMMARY(总分)                                      本工作簿的评价报告综述（文字）

Names are ASCII because the add-in's VBA wrappers (``macros/xlwings_udfs.bas``, generated from
this module by ``jxzp addin build --update-udfs``) must be. Errors come back as text starting
with “错误：” rather than as a Python traceback. UDFs run on Windows only (an xlwings limit).
"""

from __future__ import annotations

from typing import Any

import xlwings as xw

from xlsx_engine.forms.project.profile import load_profile
from xlsx_engine.forms.project.record import IndicatorRow
from xlsx_engine.forms.project.scoring import PENDING, indicator_score, source_rate
from xlsx_engine.kernel.errors import JxzpError
from xlsx_engine.kernel.targets import normalize_op
from xlsx_engine.kernel.xlmath import is_number, xnum

CATEGORY = "绩效自评"
DEFAULT_PROFILE = "national"
MAX_CELL_TEXT = 32767            #: the most characters an Excel cell holds


def _error(exc: Exception) -> str:
    return f"错误：{exc}"


def _profile(profile_id: Any):
    return load_profile(str(profile_id).strip() if profile_id not in (None, "") else DEFAULT_PROFILE)


def _cell(value: Any) -> Any:
    """An argument as a cell value: numbers to 15 significant digits, blanks to None."""
    if value == "":
        return None
    return xnum(value)


@xw.func(category=CATEGORY)
@xw.arg("budget", doc="全年预算数（A），单位万元")
@xw.arg("spent", doc="全年执行数（B），单位万元")
def JXZP_RATE(budget, spent):
    """执行率＝全年执行数/全年预算数（与模板公式相同）；两者未填齐时返回空，全年预算数为 0 时返回“—”。"""
    return source_rate(_cell(budget), _cell(spent))


@xw.func(category=CATEGORY)
@xw.arg("op", doc="指标性质：≥ ＞ ＝ ≤ ＜ 或 定性（也可写 >= <= 等）")
@xw.arg("target", doc="指标值（定量指标为数字）")
@xw.arg("actual", doc="实际完成值")
@xw.arg("weight", doc="分值")
@xw.arg("profile", doc="评分规则，如 national（默认）、hubei-wuhan")
@xw.arg("band", doc="完成等级（仅定性指标）")
@xw.arg("manual", doc="自评分（仅定性指标）")
@xw.arg("unit", doc="度量单位（%：0.95 按 95% 计；日期：按期限计分）")
def JXZP_SCORE(op, target, actual, weight, profile=DEFAULT_PROFILE, band=None, manual=None, unit=None):
    """一个绩效指标的得分，按所选评分规则计算（与模板“得分”列的公式相同）；分值或完成值未填时返回空。"""
    try:
        p = _profile(profile)
        canon = normalize_op(str(op)) if op not in (None, "") else None
        if op not in (None, "") and canon is None:
            return f"错误：指标性质“{op}”无法识别（应为 ≥ ＞ ＝ ≤ ＜ 或 定性）"
        row = IndicatorRow(op=canon, target=_cell(target), actual=_cell(actual), weight=_cell(weight),
                           band=_cell(band), manual=_cell(manual), unit=_cell(unit))
        return indicator_score(row, p)
    except JxzpError as exc:
        return _error(exc)


@xw.func(category=CATEGORY)
@xw.arg("total", doc="总分")
@xw.arg("profile", doc="评分规则，如 national（默认）")
def JXZP_GRADE(total, profile=DEFAULT_PROFILE):
    """评价等次（优、良、中、差……），按所选评分规则的分数线；总分不是数字时返回“待填报”。"""
    try:
        p = _profile(profile)
    except JxzpError as exc:
        return _error(exc)
    total = _cell(total)
    return p.grade_for(float(total)) if is_number(total) else PENDING


@xw.func(category=CATEGORY)
@xw.arg("trigger", doc="可选：填总分等单元格，它变化时综述随之重算")
def JXZP_SUMMARY(caller, trigger=None):
    """本工作簿（由本系统模板生成的自评表）的评价报告综述全文，由表中数据和评分结果生成。"""
    from xlsx_engine.narrative.engine import from_record, render_summary

    from .entry_points import project_layout_of
    from .session import Session
    try:
        session = Session(caller.sheet.book)
        layout = project_layout_of(session, "JXZP_SUMMARY")
        inp = from_record(session.record(layout), layout.profile, source=session.display_name)
        text = render_summary(inp).text().strip()
    except JxzpError as exc:
        return _error(exc)
    return text[:MAX_CELL_TEXT]


#: The custom functions, in the order their VBA wrappers are generated.
UDFS = (JXZP_GRADE, JXZP_RATE, JXZP_SCORE, JXZP_SUMMARY)
