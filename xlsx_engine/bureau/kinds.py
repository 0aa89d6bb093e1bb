"""What each kind of finding means, as the bureau's outputs name it (the 回收汇总报告's §四, the 逐年对比's 重复问题):
a heading for a kind of problem, never the text of one instance (a row, a value)."""

from __future__ import annotations

from xlsx_engine.integrity.severity import SEVERITY

#: what a finding collect adds means (the kinds of the checks are in integrity.severity.SEVERITY, with their wording):
#: a heading for the report, naming the kind, never one instance
KINDS = {
    "changed_after_sent": "财政局下发的内容（项目信息、预算数、预期目标，指标名称、指标值、度量单位、分值）被改动",
    "profile_not_sent": "使用了与下发时不同的评分规则或模板",
    "not_sent": "交回的自评表不在下发清单中",
    "unreadable": "文件无法读取",
    "external_link": "工作簿含外部链接",
    "sheet_duplicate": "另有名称近似自评表的工作表",
    "external_formula": "公式调用外部程序或网络（DDE、WEBSERVICE 等）",
    "display_conditional": "自评表被加了或改了条件格式",
    "password_removed": "工作表保护没有模板的密码",
    "display_hidden": "自评表的行或列被隐藏",
    "display_format": "公式单元格的数字格式被改动",
    "display_font": "公式单元格的文字被设为白色",
    "validation_loosened": "输入区的数据有效性被改动",
}


def meaning_of(code: str) -> str:
    """What a finding code means: the kinds collect adds (:data:`KINDS`), then the checks' own
    (:data:`~xlsx_engine.integrity.severity.SEVERITY`); "" for a code neither knows."""
    return KINDS.get(code) or SEVERITY.get(code, (None, ""))[1]
