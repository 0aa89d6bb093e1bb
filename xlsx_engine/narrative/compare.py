"""The year-over-year paragraph for the 回收汇总报告 (``jxzp compare``): every figure from the archive."""

from __future__ import annotations

from xlsx_engine.bureau.archive import YearOverYear
from xlsx_engine.bureau.compare_book import DEPT_RATE_RULE, RATE_RULE, both_years
from xlsx_engine.kernel.textfilters import num, pct


def compare_paragraph(yoy: YearOverYear) -> str:
    """A few sentences, in Chinese, that say what changed; no sentence for what has no data. The figures of the
    projects compared are those of the 项目对比 sheet's 合计 row (:func:`both_years`, the 汇总表's rule)."""
    y, p = yoy.year, yoy.prev
    lines = []
    matched, before, after = both_years(yoy)
    if matched:
        up = sum(1 for c in matched if c.total_delta and c.total_delta > 0)
        down = sum(1 for c in matched if c.total_delta and c.total_delta < 0)
        whole = after.dept.counted          # 部门整体 forms among them: averaged, not in the projects' 执行率
        what, each = (f"项目{len(matched)}个", "个") if not whole else \
            (f"自评表{len(matched)}份（其中部门整体自评表{whole}份）", "份")
        lines.append(f"{y}年与{p}年均有自评结果的{what}，平均总分由{num(before.average, fixed=True)}分"
                     f"变为{num(after.average, fixed=True)}分，其中提高{up}{each}、下降{down}{each}、"
                     f"持平{len(matched) - up - down}{each}。")
        if before.rate is not None and after.rate is not None:
            lines.append(f"{'这些项目' if not whole else '项目自评表'}的预算执行率（{RATE_RULE}）由"
                         f"{pct(before.rate, fixed=True)}变为{pct(after.rate, fixed=True)}。")
        if whole and before.dept.rate is not None and after.dept.rate is not None:
            lines.append(f"部门整体自评表的预算执行率（{DEPT_RATE_RULE}，为单位全部支出，不与项目相加）由"
                         f"{pct(before.dept.rate, fixed=True)}变为{pct(after.dept.rate, fixed=True)}。")
        worse = [c for c in matched if c.grade_prev and c.grade_now and c.grade_prev != c.grade_now
                 and "优良中差".find(c.grade_now[0]) > "优良中差".find(c.grade_prev[0])]
        if worse:
            names = "、".join(f"{c.unit}“{c.project}”（{c.grade_prev}→{c.grade_now}）" for c in worse[:5])
            lines.append(f"等次下降的项目{len(worse)}个：{names}{'等' if len(worse) > 5 else ''}。")
    low = [t for t in yoy.targets if t.kind == "目标低于上年实际"]
    if low:
        lines.append(f"有{len(low)}项指标本年目标低于上年实际完成值（如{low[0].unit}“{low[0].project}”的"
                     f"“{low[0].indicator}”：{low[0].prev}，{low[0].now}），目标设置偏低，应据实调整。")
    cut = [t for t in yoy.targets if t.kind != "目标低于上年实际"]
    if cut:
        lines.append(f"有{len(cut)}项指标较上年降低或取消。")
    if yoy.quality:
        kinds: dict[str, int] = {}
        for _u, _p, flag in yoy.quality:
            kinds[flag.kind] = kinds.get(flag.kind, 0) + 1
        lines.append(f"{y}年目标设置质量问题{len(yoy.quality)}处：" + "，".join(f"{k}{v}处" for k, v in kinds.items())
                     + "，见“目标质量”表。")
    if yoy.repeated:
        lines.append(f"{len(yoy.repeated)}个项目连续两年出现同类问题，应作为整改重点。")
    if yoy.missing_units:
        lines.append("连续两年未交回自评表的单位：" + "、".join(yoy.missing_units) + "。")
    if yoy.unmatched_now or yoy.unmatched_prev:
        lines.append(f"另有本年新增或无法与上年对应的项目{len(yoy.unmatched_now)}个，"
                     f"上年有而本年没有的项目{len(yoy.unmatched_prev)}个，见“未匹配”表。")
    return "\n".join(lines) if lines else f"{y}年与{p}年没有可对比的项目。"
