"""The 汇总表 of a collection (our own output, authored with openpyxl in write-only mode so memory stays flat)
and the 催报清单 for mail merge (CSV, UTF-8 with BOM so Excel and WPS open it as Chinese text).

Every sheet prints on A4 landscape, fitted to the page width, with the header row repeated, the title in
the page header and page numbers in the footer. Text from units is always stored as text: it can never
become a formula, and characters a workbook cannot hold are dropped.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, Reference
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.properties import PageSetupProperties

from xlsx_engine.bureau.collect import (
    BLANK,
    COUNTED_TEXT,
    FAILED,
    GRADES,
    MISSING,
    SEVERITIES,
    STATUSES,
    Collected,
    Collection,
)
from xlsx_engine.bureau.output import write_output
from xlsx_engine.forms.project.profile import list_profiles, load_profile
from xlsx_engine.forms.registry import form_for
from xlsx_engine.kernel.errors import JxzpError
from xlsx_engine.kernel.files import OUTPUT_PROPERTY
from xlsx_engine.kernel.xlmath import is_number, xround
from xlsx_engine.ooxml.cells import col_letters
from xlsx_engine.ooxml.sheetmodel import text_height, text_lines

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FONT = Font(name="黑体", bold=True, size=10)
_BODY_FONT = Font(name="宋体", size=10)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_MISSING_FILL = PatternFill("solid", fgColor="F2F2F2")
_HEAD_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
_BODY_ALIGN = Alignment(vertical="center")
#: text wraps within its column and the row is made tall enough for it (:func:`row_height` of
#: :func:`~xlsx_engine.ooxml.sheetmodel.text_lines`, the count a filled form's rows grow by too: LibreOffice does not
#: grow a row of a written workbook by itself, and Excel is not relied on to), so nothing is cut or runs past the
#: table on the printed page; numbers keep one line in columns wide enough for them
_TEXT_ALIGN = Alignment(vertical="center", wrap_text=True)

ROW_HEIGHT = 15.0        #: the default row height, points: one line of 10 pt text fits


def row_height(lines: int) -> float:
    """The height (points) of a row whose tallest cell holds ``lines`` lines of wrapped 10 pt text
    (:func:`~xlsx_engine.ooxml.sheetmodel.text_lines`): the default height for one line. The one rule of every
    printed table the bureau gets (汇总表, 逐年对比, 考核评分表), so the same text makes a row as tall in each — and as
    in a filled form: the lines are counted and the line is measured as the forms' are
    (:func:`~xlsx_engine.ooxml.sheetmodel.text_lines`, :func:`~xlsx_engine.ooxml.sheetmodel.text_height`)."""
    return ROW_HEIGHT if lines <= 1 else text_height(lines)


def profile_name(pid: str) -> str:
    """The Chinese name of an installed profile (ids only; anything else is shown as it is, shortened)."""
    return load_profile(pid).name if pid in list_profiles() else str(pid)[:40]


def template_name(text: str) -> str:
    """"xmzc-national v1.0" -> "项目支出绩效自评表 v1.0"."""
    tid, _, version = str(text).partition(" ")
    try:
        return f"{form_for(tid).title} {version}".strip()
    except JxzpError:
        return str(text)[:60]


def print_setup(ws, report_title: str, title: str, *, title_rows: str, title_cols: str | None = None,
                pages_wide: int = 1) -> None:
    """A4 landscape, scaled to ``pages_wide`` pages wide (as many pages down as it takes), the ``title_rows``
    (and ``title_cols``) repeated on every page, the report and sheet title in the page header and the page
    numbers in the footer."""
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = 9            # A4
    ws.page_setup.fitToWidth = pages_wide
    ws.page_setup.fitToHeight = 0
    ws.page_setup.pageOrder = "overThenDown"      # a row's pages across are printed one after another
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.75
    ws.page_margins.header = ws.page_margins.footer = 0.3
    ws.oddHeader.center.text = f"{report_title}　{title}"
    ws.oddHeader.center.font = "黑体,常规"
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    ws.print_title_rows = title_rows
    if title_cols:
        ws.print_title_cols = title_cols


class PrintSheet:
    """A write-only sheet of a bureau's output (汇总表, 逐年对比): A4 landscape page setup, the header row
    repeated, page numbers, and text-safe cells (a unit's "=…" never becomes a formula)."""

    def __init__(self, wb: Workbook, title: str, report_title: str, headers: list[str], widths: list[float],
                 *, head_row: int = 1):
        self.ws = ws = wb.create_sheet(title)
        self.headers, self.widths = headers, widths
        self.n = 0                                  # rows written
        print_setup(ws, report_title, title, title_rows=f"{head_row}:{head_row}")
        for k, w in enumerate(widths, 1):
            ws.column_dimensions[col_letters(k)].width = w
        ws.freeze_panes = f"A{head_row + 1}"

    def _append(self, cells: list, lines: int = 1) -> None:
        self.n += 1
        if lines > 1:             # set before the row is written: a write-only sheet writes it at once
            self.ws.row_dimensions[self.n].height = row_height(lines)
        self.ws.append(cells)

    def row(self, values: list[Any], *, head: bool = False, bold: bool = False, fill=None,
            formats: dict[int, str] | None = None) -> None:
        cells = []
        for k, v in enumerate(values):
            cell = WriteOnlyCell(self.ws, value=_safe(v))
            if isinstance(cell.value, str):
                cell.data_type = "s"                    # never a formula
            cell.font = _HEAD_FONT if head else (Font(name="宋体", size=10, bold=True) if bold else _BODY_FONT)
            cell.border = _BORDER
            cell.alignment = _HEAD_ALIGN if head else _TEXT_ALIGN if isinstance(cell.value, str) else _BODY_ALIGN
            if head:
                cell.fill = _HEAD_FILL
            elif fill is not None:
                cell.fill = fill
            if formats and k in formats and is_number(v):
                cell.number_format = formats[k]
            cells.append(cell)
        self._append(cells, max((text_lines(c.value, self.widths[k]) for k, c in enumerate(cells)
                                 if k < len(self.widths) and isinstance(c.value, str)), default=1))

    def title(self, text: str, note: str = "") -> None:
        """The title row and a note under it, the note wrapped across the table's width (rows 1 and 2)."""
        cell = WriteOnlyCell(self.ws, value=_safe(text))
        cell.font = Font(name="黑体", size=14, bold=True)
        self._append([cell])
        if note:
            note_cell = WriteOnlyCell(self.ws, value=_safe(note))
            note_cell.font = _BODY_FONT
            note_cell.alignment = Alignment(vertical="top", wrap_text=True)
            self.ws.merged_cells.add(f"A{self.n + 1}:{col_letters(len(self.widths))}{self.n + 1}")
            self._append([note_cell], text_lines(note_cell.value, sum(self.widths)))


def _safe(v: Any) -> Any:
    if isinstance(v, str):
        return _ILLEGAL.sub("", v)[:32000]
    return v


@dataclass
class WholeTotals:
    """The counted 部门整体 forms among some rows (:attr:`Collected.whole`): a unit's whole spending, its projects'
    included, so added up apart — their 预算数 and 决算数 (支出合计), 执行率 (Σ决算数 ÷ Σ预算数) and average 总分."""

    counted: int = 0
    budget: float = 0.0
    spent: float = 0.0
    rate: float | None = None
    average: float | None = None


@dataclass
class Totals:
    """The figures of some projects (all of a collection, or one unit's): budgets, spending, rate, average and
    grades from the counted forms only (:attr:`Collected.counted`), statuses and findings from every row. The
    汇总表 and the 回收汇总报告 both take their totals from here.

    A counted 部门整体 form (:attr:`Collected.whole`) is counted, averaged and graded as any form, but its amounts
    — the unit's whole spending, its projects' included — never enter :attr:`budget`, :attr:`spent` and
    :attr:`rate`: they are added up apart, in :attr:`dept` (docs/rules.md 汇总口径)."""

    rows: int
    counted: int
    statuses: dict[str, int]
    budget: float
    spent: float
    rate: float | None                 #: None when the budget is 0
    average: float | None              #: rounded to 2 places (Excel's ROUND); None when nothing is counted
    grades: dict[str, int]
    errors: int
    warnings: int
    dept: WholeTotals = field(default_factory=WholeTotals)     #: the counted 部门整体 forms' own figures


def _average(rows: list[Collected]) -> float | None:
    return xround(math.fsum(r.total for r in rows) / len(rows), 2) if rows else None


def totals_of(rows: list[Collected]) -> Totals:
    counted = [r for r in rows if r.counted]
    projects = [r for r in counted if not r.whole]        # a 部门整体 form's amounts hold its projects': not again
    budget = math.fsum(r.budget or 0 for r in projects)
    spent = math.fsum(r.spent or 0 for r in projects)
    whole = [r for r in counted if r.whole]
    dept_budget = math.fsum(r.budget or 0 for r in whole)
    dept_spent = math.fsum(r.spent or 0 for r in whole)
    return Totals(len(rows), len(counted), {s: sum(1 for r in rows if r.status == s) for s in STATUSES},
                  budget, spent, spent / budget if budget > 0 else None, _average(counted),
                  {g: sum(1 for r in counted if r.grade == g) for g in GRADES},
                  sum(r.count("错误") for r in rows), sum(r.count("警告") for r in rows),
                  WholeTotals(len(whole), dept_budget, dept_spent, dept_spent / dept_budget if dept_budget > 0 else None,
                              _average(whole)))


def unit_totals(coll: Collection) -> list[tuple[str, Totals]]:
    """(unit, its totals) of every unit with a project in the collection, by unit name."""
    units: dict[str, list[Collected]] = {}
    for r in coll.rows:
        units.setdefault(r.unit, []).append(r)
    return [(unit, totals_of(units[unit])) for unit in sorted(units)]


def _shown(v: float | None) -> float | str:
    return "—" if v is None else v


def counts_text(coll: Collection) -> str:
    counts = coll.counts()
    return "，".join(f"{s} {counts[s]}" for s in STATUSES) + f"（共 {len(coll.rows)} 个项目）"


def follow_up(r: Collected) -> str:
    """Why a project is chased, in the 催报清单 column it goes to: "" when it is not. 未交回 and 待填报 go to
    their columns; a form with 错误, or filled in part (总分 待填报: not counted, see ``Collected.counted``),
    goes to 需更正项目 with the reason."""
    if r.status in (MISSING, BLANK):
        return r.status
    if r.error:                       # the file returned cannot be read: nothing in it is known
        return "文件无法读取，请重新提交"
    why = [f"有错误 {r.count('错误')} 项"] if r.status == FAILED else []
    if r.filled and not r.counted:
        why.append("未填完，总分待填报")
    return "；".join(why)


def reminders(coll: Collection) -> list[dict[str, str]]:
    """One row per unit with something to chase (:func:`follow_up`), with the unit's contact."""
    out: dict[str, dict[str, list[str]]] = {}
    for r in coll.rows:
        why = follow_up(r)
        if not why:
            continue
        lists = out.setdefault(r.unit, {MISSING: [], BLANK: [], FAILED: []})
        name = f"{r.code} {r.project}".strip()
        if why in (MISSING, BLANK):
            lists[why].append(name)
        else:
            lists[FAILED].append(f"{name}（{why}）")
    rows = []
    for unit in sorted(out):
        c = coll.contacts.get(unit, {})
        rows.append({"单位": unit, "联系人": c.get("联系人", ""), "联系电话": c.get("联系电话", ""),
                     "未交回项目": "；".join(out[unit][MISSING]), "待填报项目": "；".join(out[unit][BLANK]),
                     "需更正项目": "；".join(out[unit][FAILED]),
                     "项目数": str(sum(len(v) for v in out[unit].values()))})
    return rows


REMINDER_COLUMNS = ["单位", "联系人", "联系电话", "项目数", "未交回项目", "待填报项目", "需更正项目"]
REMINDER_WIDTHS = [22, 8, 14, 6, 36, 36, 40]


def reminders_csv(coll: Collection) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, REMINDER_COLUMNS, lineterminator="\r\n")
    w.writeheader()
    for row in reminders(coll):
        w.writerow({k: _safe(v) for k, v in row.items()})
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _mark(wb: Workbook, what: str) -> None:
    wb.custom_doc_props.append(StringProperty(name=OUTPUT_PROPERTY, value=what))


#: the 汇总表's word on the 部门整体 forms among its rows (docs/rules.md#whole-spending)
WHOLE_NOTE = ("部门整体自评表计入份数、平均分和等次；它的预算数、决算数是单位的全部支出（已含项目支出），不列入本表、"
              "不计入金额合计，存入年度档案（jxzp compare 单位对比单列）。")


def summary_bytes(coll: Collection, *, title: str = "绩效自评汇总表") -> bytes:
    """The 汇总表 workbook as bytes."""
    wb = Workbook(write_only=True)
    _mark(wb, "回收汇总表")
    money, pct = "#,##0.00", "0.00%"
    whole = totals_of(coll.rows)
    note = f"状态：{counts_text(coll)}。合计、平均分、等次和图表只计{COUNTED_TEXT}；总分待填报的列入催报清单。"
    if any(r.whole for r in coll.rows):
        note += WHOLE_NOTE

    ws = PrintSheet(wb, "汇总", title, ["序号", "单位", "项目编码", "项目名称", "状态", "评分规则", "全年预算数",
                                   "全年执行数", "执行率", "总分", "等次", "错误数", "警告数", "交回时间"],
                [5, 22, 9, 34, 7, 31, 12, 12, 10, 8, 7, 6, 6, 18], head_row=3)
    ws.title(title, note)
    ws.row(ws.headers, head=True)
    fmt = {6: money, 7: money, 8: pct, 9: "0.00"}
    for n, r in enumerate(coll.rows, 1):
        show = r.filled
        rate = r.rate if is_number(r.rate) else ("—" if show else "")
        ws.row([n, r.unit, r.code, r.project, r.status, profile_name(r.profile) if r.profile else "",
                r.budget if show else None, r.spent if show else None, rate if show else "",
                r.total if show else None, r.grade if show else "", r.count("错误") if r.path else None,
                r.count("警告") if r.path else None, r.submitted_text],
               fill=_MISSING_FILL if r.status == MISSING else None, formats=fmt)
    ws.row(["", f"合计（计入汇总 {whole.counted} 个）", "", "", "", "", round(whole.budget, 2), round(whole.spent, 2),
            _shown(whole.rate), _shown(whole.average), "", whole.errors, whole.warnings, ""], bold=True, formats=fmt)

    units = unit_totals(coll)
    wu = PrintSheet(wb, "按单位", title, ["单位", "联系人", "联系电话", "项目数", *STATUSES, "计入汇总", "全年预算数",
                                     "全年执行数", "执行率", "平均总分", *GRADES],
                [22, 8, 14, 6, 6, 6, 6, 6, 6, 9, 12, 12, 10, 8, 5, 5, 5, 5])
    wu.row(wu.headers, head=True)
    ufmt = {10: money, 11: money, 12: pct}
    for unit, t in [*units, ("全部单位", whole)]:
        c = coll.contacts.get(unit, {}) if t is not whole else {}
        wu.row([unit, c.get("联系人", ""), c.get("联系电话", ""), t.rows, *t.statuses.values(), t.counted,
                round(t.budget, 2), round(t.spent, 2), _shown(t.rate), _shown(t.average), *t.grades.values()],
               bold=t is whole, formats=ufmt)

    wr = PrintSheet(wb, "催报清单", title, REMINDER_COLUMNS, REMINDER_WIDTHS)
    wr.row(wr.headers, head=True)
    for row in reminders(coll):
        wr.row([row[k] if k != "项目数" else int(row[k]) for k in REMINDER_COLUMNS])

    wf = PrintSheet(wb, "问题清单", title, ["单位", "项目编码", "项目名称", "状态", "严重程度", "位置", "说明", "处理建议"],
                [22, 10, 30, 7, 9, 14, 50, 40])
    wf.row(wf.headers, head=True)
    order = {s: k for k, s in enumerate(SEVERITIES)}
    for r in coll.rows:
        for f in sorted(r.findings, key=lambda f: order.get(f.severity, 9)):
            wf.row([r.unit, r.code, r.project, r.status, f.severity, f.place, f.message, f.hint])

    wq = PrintSheet(wb, "目标质量", title, ["单位", "项目编码", "项目名称", "指标", "问题", "说明"], [22, 10, 34, 24, 10, 44])
    wq.row(wq.headers, head=True)
    for r in coll.rows:
        if r.filled:
            for indicator, kind, detail in r.quality:
                wq.row([r.unit, r.code, r.project, indicator, kind, detail])

    wx = PrintSheet(wb, "未采用文件", title, ["文件", "原因"], [60, 70])
    wx.row(wx.headers, head=True)
    for u in coll.unused:
        wx.row([u.path, u.error or u.note])

    wc = PrintSheet(wb, "图表", title, ["等次", "项目数", "", "总分区间", "项目数", "", "单位", "执行率"],
                [8, 8, 2, 10, 8, 2, 22, 10])
    bins = [(0, 60), (60, 70), (70, 80), (80, 90), (90, 100.0001)]
    unit_rates = [(unit, round(t.rate, 4) if t.rate is not None else 0) for unit, t in units if t.counted]
    counted = coll.counted
    wc.row(wc.headers, head=True)
    n_rows = max(len(GRADES), len(bins), len(unit_rates))
    for k in range(n_rows):
        g = GRADES[k] if k < len(GRADES) else None
        lo_hi = bins[k] if k < len(bins) else None
        ur = unit_rates[k] if k < len(unit_rates) else None
        wc.row([g, whole.grades[g] if g else None, None,
                f"{lo_hi[0]}–{min(lo_hi[1], 100):g}" if lo_hi else None,
                sum(1 for i in counted if lo_hi[0] <= i.total < lo_hi[1]) if lo_hi else None,
                None, ur[0] if ur else None, ur[1] if ur else None], formats={7: pct})
    n_units = max(1, len(unit_rates))
    for anchor, name, cats, vals, width in (
            ("J2", "等次分布（计入汇总）", (1, 2, 5), (2, 1, 5), 12),
            ("J18", "总分分布（计入汇总）", (4, 2, 6), (5, 1, 6), 12),
            ("Q2", "各单位执行率（计入汇总）", (7, 2, n_units + 1), (8, 1, n_units + 1), 14)):
        chart = BarChart()
        chart.title = name
        chart.legend = None
        chart.add_data(Reference(wc.ws, min_col=vals[0], min_row=vals[1], max_row=vals[2]), titles_from_data=True)
        chart.set_categories(Reference(wc.ws, min_col=cats[0], min_row=cats[1], max_row=cats[2]))
        chart.height, chart.width = 7.5, width
        wc.ws.add_chart(chart, anchor)

    wp = PrintSheet(wb, "文件", title, ["单位", "项目编码", "项目名称", "状态", "交回时间", "模板", "文件"],
                [22, 10, 34, 7, 18, 24, 70])
    wp.row(wp.headers, head=True)
    for r in coll.rows:
        if r.path:
            wp.row([r.unit, r.code, r.project, r.status, r.submitted_text, template_name(r.template), r.path])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_summary(coll: Collection, out: str | Path, *, title: str = "绩效自评汇总表") -> None:
    """Write the 汇总表 (atomically)."""
    write_output(out, summary_bytes(coll, title=title))


def write_reminders(coll: Collection, out: str | Path) -> None:
    """Write the 催报清单 for mail merge (.csv, or .xlsx with the same columns)."""
    out = Path(out)
    if out.suffix.lower() == ".xlsx":
        wb = Workbook(write_only=True)
        _mark(wb, "催报清单")
        sheet = PrintSheet(wb, "催报清单", "催报清单", REMINDER_COLUMNS, REMINDER_WIDTHS)
        sheet.row(REMINDER_COLUMNS, head=True)
        for row in reminders(coll):
            sheet.row([row[k] if k != "项目数" else int(row[k]) for k in REMINDER_COLUMNS])
        buf = io.BytesIO()
        wb.save(buf)
        write_output(out, buf.getvalue())
    else:
        write_output(out, reminders_csv(coll))
