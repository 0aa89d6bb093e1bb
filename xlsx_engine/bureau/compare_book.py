"""The year-over-year workbook (``jxzp compare``): one sheet per question a leader asks, printable.

Sheets are :class:`~xlsx_engine.bureau.summary.PrintSheet` like the 汇总表's: A4 landscape, fitted to width, the
header row repeated on every page, text from units written as text (never a formula).

What a unit's projects, or the projects compared in both years, add up to — 计入项目数, 预算数, 执行数, 执行率,
平均总分 — is the 汇总表's one rule (:func:`~xlsx_engine.bureau.summary.totals_of`, docs/rules.md 汇总口径): the
执行率 of several projects is :data:`RATE_RULE`, never the average of their rates. The paragraph
(``narrative.compare``) takes its figures from :func:`both_years` too.
"""

from __future__ import annotations

import io
from dataclasses import asdict
from pathlib import Path
from typing import Any, Sequence

from openpyxl import Workbook

from xlsx_engine.bureau.archive import ProjectChange, YearOverYear
from xlsx_engine.bureau.collect import COUNTED_TEXT, Collected
from xlsx_engine.bureau.kinds import meaning_of
from xlsx_engine.bureau.output import write_output
from xlsx_engine.bureau.summary import PrintSheet, Totals, WholeTotals, totals_of

#: the cell format of each kind of figure (the 汇总表's): amounts in 万元 and scores with two decimals, rates as
#: percents with two decimals, a change of score with its sign, counts as integers
PCT = "0.00%"
MONEY = "#,##0.00"
SCORE = "0.00"
DELTA = "+0.00;-0.00;0.00"
COUNT = "0"
#: how the 执行率 of a unit, or of a set of projects, is computed (``summary.totals_of``), as users read it
RATE_RULE = "全年执行数合计÷全年预算数合计"
#: the 执行率 of a unit's 部门整体 form (its 预算执行率: 支出合计 of 决算 ÷ of 预算), as users read it
DEPT_RATE_RULE = "决算数÷预算数"


def _pct(value: float | None) -> Any:
    return value if value is not None else "—"


def _collected(unit: str, status: str, budget, spent, total, grade: str, whole: bool = False) -> Collected:
    return Collected(unit=unit, status=status, budget=budget, spent=spent, total=total, grade=grade or "",
                     whole=whole)


def _rows(unit: str, rows: list[dict]) -> list[Collected]:
    return [_collected(unit, r["status"], r["budget"], r["spent"], r["total"], r["grade"], r["whole"]) for r in rows]


def unit_totals(yoy: YearOverYear) -> list[tuple[str, Totals, Totals]]:
    """(unit, its totals the earlier year, this year) of every unit in either year, by unit name; then
    ("全部单位", the totals of all of them) as the 汇总表's 按单位 sheet ends."""
    out = [(u.unit, totals_of(_rows(u.unit, u.prev)), totals_of(_rows(u.unit, u.now))) for u in yoy.units]
    if out:
        out.append(("全部单位", totals_of([r for u in yoy.units for r in _rows(u.unit, u.prev)]),
                    totals_of([r for u in yoy.units for r in _rows(u.unit, u.now)])))
    return out


def _whole(before: WholeTotals, after: WholeTotals) -> list[Any]:
    """The 单位对比 sheet's 部门整体 columns: 预算数, 决算数, 执行率 and 总分 of each year; "—" for a year with no
    counted 部门整体 form."""
    def money(w: WholeTotals, value: float) -> Any:
        return round(value, 2) if w.counted else "—"
    return [money(before, before.budget), money(after, after.budget), money(before, before.spent),
            money(after, after.spent), _pct(before.rate), _pct(after.rate), _pct(before.average), _pct(after.average)]


def both_years(yoy: YearOverYear) -> tuple[list[ProjectChange], Totals, Totals]:
    """The matched projects counted in both years (a filled form whose 总分 is computed, each year) and their
    totals the earlier year and this year."""
    both = []
    for c in yoy.projects:
        p = _collected(c.unit, c.status_prev, c.budget_prev, c.spent_prev, c.total_prev, c.grade_prev, c.whole)
        n = _collected(c.unit, c.status_now, c.budget_now, c.spent_now, c.total_now, c.grade_now, c.whole)
        if p.counted and n.counted:
            both.append((c, p, n))
    return [c for c, _, _ in both], totals_of([p for _, p, _ in both]), totals_of([n for _, _, n in both])


def to_dict(yoy: YearOverYear) -> dict:
    """The comparison as data (``compare --json``): each unit with its totals of both years."""
    out = yoy.to_dict()
    out["units"] = [{"unit": unit, "prev": asdict(before), "now": asdict(after), "执行率口径": RATE_RULE}
                    for unit, before, after in unit_totals(yoy)]
    return out


def _sheet(wb: Workbook, title: str, heading: str, headers: Sequence[str], rows: Sequence[Sequence[Any]],
           widths: Sequence[float], formats: dict[int, str] | None = None, note: str = "",
           total_row: bool = False) -> PrintSheet:
    """A sheet: the heading on row 1 (and a note under it), the (repeated) header row, then ``rows`` (``formats``:
    1-based column -> the number format of its figures; ``total_row``: the last row is a total, in bold)."""
    sheet = PrintSheet(wb, title, heading, list(headers), list(widths), head_row=3 if note else 2)
    sheet.title(heading, note)
    sheet.row(list(headers), head=True)
    formats = {k - 1: f for k, f in (formats or {}).items()}
    for k, row in enumerate(rows, 1):
        sheet.row(list(row), formats=formats, bold=total_row and k == len(rows))
    if not rows:
        sheet.row(["（无）"])
    return sheet


def write_compare(yoy: YearOverYear, out: str | Path, paragraph: str) -> None:
    """Write the comparison workbook atomically (an unwritable place is a Chinese error, exit 2)."""
    wb = Workbook(write_only=True)
    y, p = yoy.year, yoy.prev
    _sheet(wb, "说明", f"{y} 年与 {p} 年绩效自评对比", ["说明"], [[line] for line in paragraph.split("\n") if line],
           [120])
    rows = [[c.unit, c.code, c.project, c.matched_by, c.status_prev, c.status_now, _pct(c.rate_prev),
             _pct(c.rate_now), c.total_prev, c.total_now, c.total_delta, c.grade_prev, c.grade_now]
            for c in yoy.projects]
    both, before, after = both_years(yoy)
    if both:
        delta = round(after.average - before.average, 2)
        what = f"{len(both)} 个项目" if not after.dept.counted else \
            f"{len(both)} 份自评表，其中部门整体 {after.dept.counted} 份不计入执行率"
        rows.append(["合计", "", f"两年均计入的 {what}（执行率＝{RATE_RULE}，总分为平均分）", "", "", "",
                     _pct(before.rate), _pct(after.rate), before.average, after.average, delta, "", ""])
    _sheet(wb, "项目对比", f"项目：{y} 年与 {p} 年对比",
           ["单位", "项目编码", "项目名称", "匹配方式", f"{p}状态", f"{y}状态", f"{p}执行率", f"{y}执行率",
            f"{p}总分（分）", f"{y}总分（分）", "增减（分）", f"{p}等次", f"{y}等次"],
           rows, [16, 11, 28, 9, 10, 10, 12, 12, 16, 16, 12, 10, 10],
           {7: PCT, 8: PCT, 9: SCORE, 10: SCORE, 11: DELTA}, total_row=bool(both))
    _sheet(wb, "单位对比", f"单位：{y} 年与 {p} 年对比",
           ["单位", f"{p}计入汇总（份）", f"{y}计入汇总（份）", f"{p}全年预算数（万元）", f"{y}全年预算数（万元）",
            f"{p}全年执行数（万元）", f"{y}全年执行数（万元）", f"{p}执行率（{RATE_RULE}）",
            f"{y}执行率（{RATE_RULE}）", f"{p}平均总分（分）", f"{y}平均总分（分）",
            f"{p}部门整体预算数（万元）", f"{y}部门整体预算数（万元）", f"{p}部门整体决算数（万元）",
            f"{y}部门整体决算数（万元）", f"{p}部门整体执行率（{DEPT_RATE_RULE}）", f"{y}部门整体执行率（{DEPT_RATE_RULE}）",
            f"{p}部门整体总分（分）", f"{y}部门整体总分（分）"],
           [[unit, a.counted, b.counted, round(a.budget, 2), round(b.budget, 2), round(a.spent, 2), round(b.spent, 2),
             _pct(a.rate), _pct(b.rate), _pct(a.average), _pct(b.average), *_whole(a.dept, b.dept)]
            for unit, a, b in unit_totals(yoy)],
           [20, 8, 8, 12, 12, 12, 12, 14, 14, 9, 9, 12, 12, 12, 12, 11, 11, 9, 9],
           {2: COUNT, 3: COUNT, 4: MONEY, 5: MONEY, 6: MONEY, 7: MONEY, 8: PCT, 9: PCT, 10: SCORE, 11: SCORE,
            12: MONEY, 13: MONEY, 14: MONEY, 15: MONEY, 16: PCT, 17: PCT, 18: SCORE, 19: SCORE},
           total_row=True,
           note=f"执行率＝{RATE_RULE}（与回收汇总表“按单位”同一口径，不是各项目执行率的平均）；计入汇总的份数、金额、执行率"
                f"和平均总分只计{COUNTED_TEXT}。部门整体自评表的预算数、决算数是单位的全部支出（已含其项目支出），"
                f"不计入全年预算数、全年执行数和执行率，单列在“部门整体”各列（执行率＝{DEPT_RATE_RULE}）；"
                "它与项目自评表一样计入份数、平均总分和等次；单位没有计入汇总的部门整体表时这些列为“—”。")
    _sheet(wb, "目标设置", "目标设置：低于上年实际、降低或取消的指标",
           ["单位", "项目名称", "指标", "情况", f"{p}", f"{y}"],
           [[t.unit, t.project, t.indicator, t.kind, t.prev, t.now] for t in yoy.targets], [18, 30, 30, 16, 18, 18])
    _sheet(wb, "目标质量", f"{y} 年目标设置质量（目标偏低、未细化、缺少效益或满意度指标、定性代替定量、分值不合规则）",
           ["单位", "项目名称", "指标", "问题", "说明"],
           [[u, pname, f.indicator, f.kind, f.detail] for u, pname, f in yoy.quality], [18, 30, 26, 14, 50])
    _sheet(wb, "重复问题", "连续两年出现的问题（错误、警告）", ["单位", "项目名称", "问题"],
           [[u, pname, "；".join(meaning_of(c) or c for c in codes)] for u, pname, codes in yoy.repeated], [20, 36, 70])
    _sheet(wb, "连续未交回", "连续两年未交回自评表的单位", ["单位"], [[u] for u in yoy.missing_units], [40])
    _sheet(wb, "未匹配", "未能与上年对应的项目", ["年度", "单位", "项目编码", "项目名称"],
           [[y, *r] for r in yoy.unmatched_now] + [[p, *r] for r in yoy.unmatched_prev], [8, 20, 16, 40])
    buf = io.BytesIO()
    wb.save(buf)
    write_output(out, buf.getvalue())
