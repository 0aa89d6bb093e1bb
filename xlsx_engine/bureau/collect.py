"""Collect returned workbooks into one summary workbook (汇总表).

Every file in a folder is read on the fast path (python-calamine, never modified),
identified (template, version, 项目编码, unit), checked, and rescored from its inputs.
The summary has one row per project, totals per unit and overall, a findings sheet,
native Excel charts, and a sheet of files that could not be read. Text from units
is always written as text: it can never become a formula in the summary.
"""

from __future__ import annotations

import io
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from xlsx_engine.forms.registry import read_project
from xlsx_engine.integrity.checks import check_file
from xlsx_engine.kernel.errors import JxzpError
from xlsx_engine.kernel.findings import Finding
from xlsx_engine.kernel.xlmath import is_number
from xlsx_engine.ooxml.safezip import atomic_write_bytes

SEVERITIES = ("错误", "警告", "提示")


@dataclass
class Collected:
    """What one returned file contributed to the summary."""

    path: str
    kind: str = ""
    unit: str = ""
    code: str = ""
    project: str = ""
    profile: str = ""
    template: str = ""
    budget: float | None = None
    spent: float | None = None
    rate: float | str | None = None
    total: float | None = None
    grade: str = ""
    findings: list[Finding] = field(default_factory=list)
    error: str = ""       #: set when the file could not be read at all

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)


def collect_one(path: str, profile: str | None = None) -> Collected:
    """Check, identify and rescore one returned file; never raises for a bad file (the error is recorded).

    Findings come from :func:`xlsx_engine.checks.check_file` (arithmetic, rules, tampering, untrusted
    input); the figures are recomputed from the inputs read by name, never taken from cached values.
    """
    item = Collected(path=path)
    report = check_file(path, profile)
    item.findings, item.kind = report.findings, report.kind
    if report.unreadable:
        reasons = "；".join(f.message + (f"（{f.hint}）" if f.hint else "") for f in report.findings
                           if f.severity == "错误") or "无法读取"
        item.error = f"{path}：{reasons}"
        return item
    meta = report.template or {}
    item.profile = report.profile or ""
    item.template = f"{meta.get('模板编号', '')} v{meta.get('模板版本', '')}".strip() if meta else report.kind
    try:
        rb = read_project(path)
    except JxzpError:
        # not a project workbook we can read by name (a table from elsewhere, or damaged names):
        # the checks' own recomputation is all there is
        summary = report.summary
        item.total = summary.get("总分") if is_number(summary.get("总分")) else None
        item.grade = str(summary.get("评价等次") or "")
        item.rate = summary.get("执行率")
        item.unit = str(meta.get("单位名称") or "")
        item.code = str(meta.get("项目编码") or "")
        item.project = str(meta.get("项目名称") or Path(path).stem)
        return item
    result = rb.evaluate()
    rec = rb.record
    meta = {**meta, **rb.workbook.meta}       # document properties: 项目编码 / 单位名称 written by bulk
    item.unit = str(meta.get("单位名称") or rec.unit or "")
    item.code = str(meta.get("项目编码") or "")
    item.project = str(rec.project or meta.get("项目名称") or "")
    item.budget, item.spent, item.rate = result.fund.budget, result.fund.spent, result.fund.rate
    item.total = result.total if is_number(result.total) else None   # 待填报: no total yet
    item.grade = result.grade
    return item


def iter_workbooks(folder: Path) -> list[Path]:
    """Every spreadsheet-looking file below ``folder`` (xlsx and the formats we must refuse)."""
    exts = {".xlsx", ".xlsm", ".xls", ".et", ".ods"}
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in exts
                  and not p.name.startswith((".", "~$")))


def collect(folder: str | Path, *, jobs: int = 1, profile: str | None = None,
            progress: Callable[[int], None] | None = None) -> list[Collected]:
    """Collect every workbook below ``folder``.

    Raises:
        JxzpError: the folder does not exist.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise JxzpError("找不到文件夹", where=str(folder))
    paths = [str(p) for p in iter_workbooks(folder)]
    out: list[Collected] = []
    if jobs > 1 and len(paths) > 8:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for item in pool.map(collect_one, paths, [profile] * len(paths), chunksize=16):
                out.append(item)
                if progress:
                    progress(1)
    else:
        for p in paths:
            out.append(collect_one(p, profile))
            if progress:
                progress(1)
    return out


# ----------------------------------------------------------------------------- summary workbook

def _text_safe(ws, row: int, col: int, value) -> None:
    """Write a value; strings are always stored as text (a unit's "=..." never becomes a formula)."""
    cell = ws.cell(row, col)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"


def write_summary(items: list[Collected], out: str | Path, *, title: str = "绩效自评汇总表") -> None:
    """Write the summary workbook (authored with openpyxl: it is our own output, not an official form)."""
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Alignment, Font, PatternFill

    bold = Font(name="宋体", bold=True)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    wb = Workbook()
    ws = wb.active
    ws.title = "汇总"
    good = [i for i in items if not i.error]
    bad = [i for i in items if i.error]
    headers = ["序号", "单位", "项目编码", "项目名称", "评分规则", "全年预算数", "全年执行数", "执行率", "总分", "等次",
               "错误数", "警告数", "模板", "文件"]
    ws.cell(1, 1, title).font = Font(name="黑体", size=14, bold=True)
    for k, h in enumerate(headers, 1):
        c = ws.cell(2, k, h)
        c.font, c.fill, c.alignment = bold, head_fill, Alignment(horizontal="center", wrap_text=True)
    good.sort(key=lambda i: (i.unit, i.code, i.project))
    for n, it in enumerate(good, 1):
        r = n + 2
        rate = it.rate if is_number(it.rate) else "—"
        for k, v in enumerate([n, it.unit, it.code, it.project, it.profile, it.budget, it.spent, rate, it.total,
                               it.grade, it.count("错误"), it.count("警告"), it.template, it.path], 1):
            _text_safe(ws, r, k, v)
        ws.cell(r, 8).number_format = "0.00%"
        for k in (6, 7, 9):
            ws.cell(r, k).number_format = "0.00"
    last = len(good) + 2
    total_row = last + 1
    _text_safe(ws, total_row, 2, "合计")
    if good:
        ws.cell(total_row, 6, f"=SUM(F3:F{last})").number_format = "0.00"
        ws.cell(total_row, 7, f"=SUM(G3:G{last})").number_format = "0.00"
        ws.cell(total_row, 8, f"=IF(F{total_row}>0,G{total_row}/F{total_row},\"—\")").number_format = "0.00%"
        ws.cell(total_row, 9, f"=ROUND(AVERAGE(I3:I{last}),2)")
        ws.cell(total_row, 11, f"=SUM(K3:K{last})")
        ws.cell(total_row, 12, f"=SUM(L3:L{last})")
    for k in range(1, len(headers) + 1):
        ws.cell(total_row, k).font = bold
    for col, width in zip("ABCDEFGHIJKLMN", (6, 22, 10, 34, 16, 11, 11, 9, 8, 6, 7, 7, 18, 50)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "C3"
    ws.auto_filter.ref = f"A2:N{last}"

    # per unit
    wu = wb.create_sheet("按单位")
    uh = ["单位", "项目数", "全年预算数", "全年执行数", "执行率", "平均总分", "优", "良", "中", "差", "错误数", "警告数"]
    for k, h in enumerate(uh, 1):
        c = wu.cell(1, k, h)
        c.font, c.fill = bold, head_fill
    units: dict[str, list[Collected]] = {}
    for it in good:
        units.setdefault(it.unit, []).append(it)
    for r, (unit, its) in enumerate(sorted(units.items()), 2):
        budget = sum(i.budget or 0 for i in its)
        spent = sum(i.spent or 0 for i in its)
        values = [unit, len(its), round(budget, 2), round(spent, 2), spent / budget if budget > 0 else "—",
                  round(sum(i.total or 0 for i in its) / len(its), 2)] + \
                 [sum(1 for i in its if i.grade == g) for g in ("优", "良", "中", "差")] + \
                 [sum(i.count("错误") for i in its), sum(i.count("警告") for i in its)]
        for k, v in enumerate(values, 1):
            _text_safe(wu, r, k, v)
        wu.cell(r, 5).number_format = "0.00%"
    n_units = len(units)
    ur = n_units + 2
    _text_safe(wu, ur, 1, "全部单位")
    if units:
        for k, col in ((2, "B"), (3, "C"), (4, "D"), (7, "G"), (8, "H"), (9, "I"), (10, "J"), (11, "K"), (12, "L")):
            wu.cell(ur, k, f"=SUM({col}2:{col}{ur - 1})")
        wu.cell(ur, 5, f"=IF(C{ur}>0,D{ur}/C{ur},\"—\")").number_format = "0.00%"
    wu.column_dimensions["A"].width = 24
    wu.freeze_panes = "B2"

    # findings
    wf = wb.create_sheet("问题清单")
    fh = ["文件", "单位", "项目", "严重程度", "位置", "说明", "处理建议"]
    for k, h in enumerate(fh, 1):
        c = wf.cell(1, k, h)
        c.font, c.fill = bold, head_fill
    r = 2
    order = {s: k for k, s in enumerate(SEVERITIES)}
    for it in good:
        for f in sorted(it.findings, key=lambda f: order.get(f.severity, 9)):
            for k, v in enumerate([it.path, it.unit, it.project, f.severity, f.place, f.message, f.hint], 1):
                _text_safe(wf, r, k, v)
            r += 1
    for col, width in zip("ABCDEFG", (50, 22, 30, 8, 16, 60, 40)):
        wf.column_dimensions[col].width = width
    wf.freeze_panes = "A2"

    # unreadable
    wx = wb.create_sheet("无法读取")
    for k, h in enumerate(["文件", "原因"], 1):
        c = wx.cell(1, k, h)
        c.font, c.fill = bold, head_fill
    for r, it in enumerate(bad, 2):
        _text_safe(wx, r, 1, it.path)
        _text_safe(wx, r, 2, it.error)
    wx.column_dimensions["A"].width, wx.column_dimensions["B"].width = 50, 80

    # chart data + native charts
    wc = wb.create_sheet("图表")
    _text_safe(wc, 1, 1, "等次")
    _text_safe(wc, 1, 2, "项目数")
    for r, g in enumerate(("优", "良", "中", "差"), 2):
        _text_safe(wc, r, 1, g)
        wc.cell(r, 2, sum(1 for i in good if i.grade == g))
    bins = [(0, 60), (60, 70), (70, 80), (80, 90), (90, 100.0001)]
    _text_safe(wc, 1, 4, "总分区间")
    _text_safe(wc, 1, 5, "项目数")
    for r, (lo, hi) in enumerate(bins, 2):
        _text_safe(wc, r, 4, f"{lo}–{min(hi, 100):g}")
        wc.cell(r, 5, sum(1 for i in good if i.total is not None and lo <= i.total < hi))
    _text_safe(wc, 1, 7, "单位")
    _text_safe(wc, 1, 8, "执行率")
    for r, (unit, its) in enumerate(sorted(units.items()), 2):
        budget = sum(i.budget or 0 for i in its)
        _text_safe(wc, r, 7, unit)
        wc.cell(r, 8, round(sum(i.spent or 0 for i in its) / budget, 4) if budget > 0 else 0).number_format = "0.00%"
    for (anchor, title_, cats, vals) in (
            ("J2", "等次分布", (1, 2, 5), (2, 1, 5)),
            ("J20", "总分分布", (4, 2, 6), (5, 1, 6)),
            ("J38", "各单位执行率", (7, 2, max(2, n_units + 1)), (8, 1, max(2, n_units + 1)))):
        chart = BarChart()
        chart.title = title_
        chart.add_data(Reference(wc, min_col=vals[0], min_row=vals[1], max_row=vals[2]), titles_from_data=True)
        chart.set_categories(Reference(wc, min_col=cats[0], min_row=cats[1], max_row=cats[2]))
        chart.height, chart.width = 8, 16 if title_ != "各单位执行率" else 28
        wc.add_chart(chart, anchor)
    buf = io.BytesIO()
    wb.save(buf)
    atomic_write_bytes(out, buf.getvalue())


def summarise(items: list[Collected]) -> dict:
    good = [i for i in items if not i.error]
    return {"文件数": len(items), "已读取": len(good), "无法读取": len(items) - len(good),
            "错误": sum(i.count("错误") for i in good), "警告": sum(i.count("警告") for i in good),
            "等次": {g: sum(1 for i in good if i.grade == g) for g in ("优", "良", "中", "差", "待填报")}}


def timed_collect(folder, **kw) -> tuple[list[Collected], float]:
    t = time.perf_counter()
    items = collect(folder, **kw)
    return items, time.perf_counter() - t


__all__ = ["Collected", "collect", "collect_one", "write_summary", "summarise", "iter_workbooks"]
