"""The year-over-year workbook (``jxzp compare``): one sheet per question a leader asks, printable.

Sheets are :class:`~xlsx_engine.bureau.summary.PrintSheet` like the 汇总表's: A4 landscape, fitted to width, the
header row repeated on every page, text from units written as text (never a formula).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Sequence

from openpyxl import Workbook

from xlsx_engine.bureau.archive import YearOverYear
from xlsx_engine.bureau.kinds import meaning_of
from xlsx_engine.bureau.output import write_output
from xlsx_engine.bureau.summary import PrintSheet

PCT = "0.00%"


def _pct(value: float | None) -> Any:
    return value if value is not None else "—"


def _sheet(wb: Workbook, title: str, heading: str, headers: Sequence[str], rows: Sequence[Sequence[Any]],
           widths: Sequence[float], pct_cols: Sequence[int] = ()) -> None:
    """A sheet: the heading on row 1, the (repeated) header row 2, then ``rows`` (``pct_cols``: 1-based columns
    shown as percentages)."""
    sheet = PrintSheet(wb, title, heading, list(headers), list(widths), head_row=2)
    sheet.title(heading)
    sheet.row(list(headers), head=True)
    formats = {k - 1: PCT for k in pct_cols}
    for row in rows:
        sheet.row(list(row), formats=formats)
    if not rows:
        sheet.row(["（无）"])


def write_compare(yoy: YearOverYear, out: str | Path, paragraph: str) -> None:
    """Write the comparison workbook atomically (an unwritable place is a Chinese error, exit 2)."""
    wb = Workbook(write_only=True)
    y, p = yoy.year, yoy.prev
    _sheet(wb, "说明", f"{y} 年与 {p} 年绩效自评对比", ["说明"], [[line] for line in paragraph.split("\n") if line],
           [120])
    _sheet(wb, "项目对比", f"项目：{y} 年与 {p} 年对比",
           ["单位", "项目编码", "项目名称", "匹配方式", f"{p}状态", f"{y}状态", f"{p}执行率", f"{y}执行率",
            f"{p}总分", f"{y}总分", "增减", f"{p}等次", f"{y}等次"],
           [[c.unit, c.code, c.project, c.matched_by, c.status_prev, c.status_now, _pct(c.rate_prev), _pct(c.rate_now),
             c.total_prev, c.total_now, c.total_delta, c.grade_prev, c.grade_now] for c in yoy.projects],
           [16, 11, 28, 9, 10, 10, 12, 12, 10, 10, 7, 10, 10], pct_cols=(7, 8))
    _sheet(wb, "单位对比", f"单位：{y} 年与 {p} 年对比",
           ["单位", f"{p}项目数", f"{y}项目数", f"{p}平均总分", f"{y}平均总分", f"{p}平均执行率", f"{y}平均执行率"],
           [[u.unit, u.projects_prev, u.projects_now, u.avg_total_prev, u.avg_total_now, _pct(u.rate_prev),
             _pct(u.rate_now)] for u in yoy.units], [24, 12, 12, 14, 14, 16, 16], pct_cols=(6, 7))
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
