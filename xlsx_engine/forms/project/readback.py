"""Reading a filled 项目支出绩效自评表 back by its defined names (what ``jxzp score`` compares)."""

from __future__ import annotations

from typing import Any

from xlsx_engine.forms.project.layout import Layout
from xlsx_engine.forms.project.record import FundLine, Goal, IndicatorRow, ProjectRecord
from xlsx_engine.forms.project.report_info import report_info_by_names
from xlsx_engine.kernel.errors import TemplateError
from xlsx_engine.ooxml.cells import parse_name_ref
from xlsx_engine.ooxml.reader import ReadBack, Workbook

#: Named results compared by ``jxzp score``: name -> how to get the Python value.
RESULT_NAMES = {
    "年初预算数": lambda r: r.fund.initial,
    "全年预算数": lambda r: r.fund.budget,
    "全年执行数": lambda r: r.fund.spent,
    "执行率": lambda r: r.fund.rate,
    "资金得分": lambda r: r.fund.score,
    "指标分值合计": lambda r: r.weight_sum,
    "指标得分合计": lambda r: r.score_sum,
    "总分分值": lambda r: r.total_weight,
    "总分": lambda r: r.total,
    "评价等次": lambda r: r.grade,
    "校验结论": lambda r: r.verdict,
}


def record_by_names(wb: Workbook, layout: Layout) -> ProjectRecord:
    """Rebuild the record from the workbook's defined names.

    Raises:
        TemplateError: a required name is missing or points nowhere.
    """
    def values(name: str) -> list[Any]:
        try:
            got = wb.name_values(name)
        except KeyError:
            raise TemplateError(f"缺少名称“{name}”或其引用已失效（#REF!）", where=str(wb.path),
                                hint="名称被删除或所在行列被删除，请使用原始模板重新填报") from None
        expected = parse_name_ref(layout.names[name]) if name in layout.names else None
        if expected is not None and len(got) != expected.size:
            raise TemplateError(f"名称“{name}”指向 {len(got)} 个单元格，模板中应为 {expected.size} 个",
                                where=str(wb.path), hint="表格的行或列被插入或删除，请使用原始模板重新填报")
        return got

    def one(name: str) -> Any:
        return values(name)[0]

    p = layout.profile
    rec = ProjectRecord(p.id, year=one("年度"), project=one("项目名称"), department=one("主管部门"),
                        unit=one("实施单位"), rate_reason=one("执行率说明"))
    for source, a, b, c in zip(p.fund_sources, values("来源年初预算数"), values("来源全年预算数"),
                               values("来源全年执行数")):
        rec.funds.append(FundLine(source, a, b, c))
    rec.goals = [Goal(e, a) for e, a in zip(values("预期目标"), values("实际完成情况"))]
    if p.has_target_block:
        rec.target_score = one("目标自评分")
    cols = {spec["key"]: values(spec["name"]) for spec in layout.form.columns}
    keys = ("level1", "level2", "name", "op", "target", "unit", "actual", "band", "weight", "manual", "reason")
    for i in range(len(cols["name"])):
        rec.indicators.append(IndicatorRow(**{k: cols[k][i] for k in keys}))
    rec.extra = report_info_by_names(wb, layout)
    return rec


def read_by_names(wb: Workbook, layout: Layout) -> ReadBack:
    """A project workbook read through its defined names, with the cached results ``jxzp score`` compares."""
    record = record_by_names(wb, layout)
    cached: dict[str, Any] = {}
    for name in RESULT_NAMES:
        try:
            cached[name] = wb.name_value(name)
        except KeyError:
            cached[name] = None
    try:
        cached["得分"] = wb.name_values("得分")
    except KeyError:
        cached["得分"] = []
    return ReadBack(wb, layout, record, cached)
