"""The 考核评分表 workbook, authored with openpyxl: one locked row per unit, yellow reviewer cells with data
validation, workbook-scoped names, native formulas, and each formula's cached value set to the Python result
(:func:`set_cached_values`, since openpyxl writes none) so readers that never recalculate show the same numbers."""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
from pathlib import Path
from typing import Any

from lxml import etree
from openpyxl import Workbook
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation

from xlsx_engine.bureau.review.assess import ReviewRun
from xlsx_engine.bureau.summary import print_setup, profile_name, row_height
from xlsx_engine.bureau.review.rubric import (
    CHECK,
    NO,
    PENDING,
    YES,
    Rubric,
    columns,
    row_formulas,
)
from xlsx_engine.kernel.excel import n
from xlsx_engine.kernel.files import OUTPUT_PROPERTY
from xlsx_engine.ooxml.safezip import atomic_write_bytes, parse_xml
from xlsx_engine.ooxml.sheetmodel import text_lines, text_width

SHEET = "考核评分表"
FIRST_ROW = 7                 #: first unit row of the main sheet
#: row 2's first cell: the deadline, right of 序号 and 单位名称 (the columns every printed page repeats)
DEADLINE_COLUMN = 3
DEADLINE_LABEL = "报送截止日期："
#: the deadline's number format: its label, then the date (a label in a cell of its own printed alone on later pages)
DEADLINE_FORMAT = f'"{DEADLINE_LABEL}"yyyy-mm-dd'
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
#: the text of every sheet's table: the 10 pt text :func:`~xlsx_engine.bureau.summary.row_height` makes rows for
_BODY_FONT = Font(name="宋体", size=10)
#: column-width units across an A4 landscape page at 100 % (0.4" side margins), and the smallest scale a sheet is
#: printed at: a wider sheet is printed over more pages across (its first columns repeated) rather than smaller
_PAGE_UNITS = 149.0
_MIN_SCALE = 0.65


def pages_wide(widths: list[float], repeated: float = 0.0) -> int:
    """Pages across an A4 landscape page a table of these column widths is printed over (``repeated``: the width
    of the columns printed again on every page), so that its text is printed at no less than :data:`_MIN_SCALE`."""
    room = _PAGE_UNITS / _MIN_SCALE - repeated
    return max(1, math.ceil((sum(widths) - repeated) / room))


def first_page_columns(widths: list[float], across: int, repeated: int = 0) -> int:
    """How many columns the first page surely holds when the sheet is fitted ``across`` pages wide with its first
    ``repeated`` columns printed again on every page: those within the average page's share of the width. Pages
    are filled column by column, and the fitted page is at least as wide as the average share, so the first page
    holds at least these (it may hold more)."""
    share = (sum(widths) + (across - 1) * sum(widths[:repeated])) / across
    total, count = 0.0, 0
    for w in widths:
        total += w
        if total > share + 1e-9:
            break
        count += 1
    return count


def _clean(value: Any) -> Any:
    return _ILLEGAL_XML.sub("", value) if isinstance(value, str) else value


def _put(ws, row: int, col: int, value: Any):
    """Write a value; strings are always text (a unit's "=..." never becomes a formula)."""
    cell = ws.cell(row, col)
    cell.value = _clean(value)
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


def write_review(run: ReviewRun, out: str | Path) -> dict[str, Any]:
    """Write the 考核评分表 workbook for a review run.

    Returns:
        ``{"A1-style ref": Python value}`` of every formula cell of the main sheet (also written as cached values).
    """
    rub = run.rubric
    cols = columns(rub)
    letter = {c.key: get_column_letter(k) for k, c in enumerate(cols, 1)}
    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    font = _BODY_FONT
    bold = Font(name="宋体", size=10, bold=True)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    auto_fill = PatternFill("solid", fgColor="E2EFDA")
    input_fill = PatternFill("solid", fgColor="FFF2CC")
    total_fill = PatternFill("solid", fgColor="F2F2F2")
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    left = Alignment(horizontal="left", vertical="center", wrap_text=True)
    locked, unlocked = Protection(locked=True), Protection(locked=False)

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    last_col = len(cols)
    widths = [c.width for c in cols]
    across = pages_wide(widths, sum(widths[:2]))
    # the deadline spans as many columns as its text needs, bold (a little wider than 10 pt's measure); the note
    # follows it
    note_column, span = DEADLINE_COLUMN, 0.0
    while span < 1.15 * text_width(f"{DEADLINE_LABEL}{run.deadline:%Y-%m-%d}") + 1 and note_column < last_col:
        span += widths[note_column - 1]
        note_column += 1
    # the title and the note above the header are printed once, on the first page: merged across the columns that
    # page surely holds (not across the whole sheet, which centred the title on the second page and cut the note)
    first = max(note_column + 1, first_page_columns(widths, across, 2))
    ws.cell(1, 1, rub.name).font = Font(name="黑体", size=16, bold=True)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=first)
    ws.cell(1, 1).alignment = center
    ws.row_dimensions[1].height = 28
    # the deadline (named 截止日期: the formulas read it) shows its label through its number format, right of the
    # columns every page repeats (序号, 单位名称): a label in them printed alone on each later page, without the date
    dcell = ws.cell(2, DEADLINE_COLUMN, run.deadline)
    dcell.number_format = DEADLINE_FORMAT
    dcell.font = bold
    dcell.alignment = Alignment(horizontal="left", vertical="center")      # beside the note's lines
    ws.merge_cells(start_row=2, start_column=DEADLINE_COLUMN, end_row=2, end_column=note_column - 1)
    note = ws.cell(2, note_column)
    _put(ws, 2, note_column, f"依据：{rub.source}。绿色列由程序根据回收的自评表、报告和附件计算（依据见“评分依据”表）；"
                             f"黄色列由评审人员填写；得分、小计、总分和等次由公式实时计算。")
    ws.merge_cells(start_row=2, start_column=note_column, end_row=2, end_column=first)
    note.alignment = left
    note.font = Font(name="宋体", size=9, color="595959")
    if run.rubric_warning:                  # the rubric is another region's: said where the scores are read
        note.value = f"注意：{run.rubric_warning}。" + note.value
        note.font = Font(name="宋体", size=9, bold=True, color="C00000")
    ws.row_dimensions[2].height = row_height(text_lines(note.value, sum(widths[note_column - 1:first])) + 1)

    # header rows 3 (groups), 4 (items), 5 (columns), 6 (allowed values); each as tall as its text
    head_lines = {3: 1, 4: 1, 5: 1, 6: 1}

    def head(r1, c1, r2, c2, text):
        _put(ws, r1, c1, text)
        lines = text_lines(text, sum(cols[j - 1].width for j in range(c1, c2 + 1)))
        head_lines[r1] = max(head_lines[r1], math.ceil(lines / (r2 - r1 + 1)))
        for rr in range(r1, r2 + 1):
            for cc in range(c1, c2 + 1):
                cell = ws.cell(rr, cc)
                cell.font, cell.fill, cell.alignment, cell.border = bold, head_fill, center, border
        if (r1, c1) != (r2, c2):
            ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)

    k = 1
    while k <= last_col:
        c = cols[k - 1]
        if c.group is None:
            head(3, k, 5, k, c.header)
            k += 1
            continue
        g = c.group
        span = [j for j, x in enumerate(cols, 1) if x.group is g]
        head(3, span[0], 3, span[-1], f"{g.name}（{g.weight:g}分）")
        for item in g.items:
            ispan = [j for j, x in enumerate(cols, 1) if x.item is item]
            head(4, ispan[0], 4, ispan[-1], f"{item.name}（{item.weight:g}分）")
            for j in ispan:
                head(5, j, 5, j, cols[j - 1].header)
        sub = span[-1]
        head(4, sub, 5, sub, cols[sub - 1].header)
        k = span[-1] + 1
    for j, c in enumerate(cols, 1):
        cell = _put(ws, 6, j, c.allowed or ("—" if c.role in ("no", "unit") else ""))
        cell.font = Font(name="宋体", size=9, color="595959")
        cell.alignment, cell.border = center, border
        cell.fill = input_fill if c.role == "input" else auto_fill if c.role in ("auto", "date", "note") else total_fill
        ws.column_dimensions[get_column_letter(j)].width = c.width
        head_lines[6] = max(head_lines[6], text_lines(cell.value, c.width))
    for rr, lines in head_lines.items():
        ws.row_dimensions[rr].height = row_height(lines)

    cached: dict[str, Any] = {}
    last_row = FIRST_ROW + len(run.units) - 1
    for i, u in enumerate(run.units):
        r = FIRST_ROW + i
        ref = {key: f"{col}{r}" for key, col in letter.items()}
        formulas = row_formulas(rub, ref)
        note = "；".join(dict.fromkeys(v for v in u.notes.values() if v))      # each finding once
        texts = {"unit": u.unit, "warnings": u.result.get("warnings") or "", "note": note}
        ws.row_dimensions[r].height = row_height(max(text_lines(texts[c.role], c.width) for c in cols if c.role in texts))
        for j, c in enumerate(cols, 1):
            cell = ws.cell(r, j)
            if c.role == "no":
                cell.value = i + 1
            elif c.role == "note":
                _put(ws, r, j, note)
            elif c.key in formulas:
                cell.value = formulas[c.key]
                cached[cell.coordinate] = u.result[c.key]
            else:
                v = u.values.get(c.key)
                if isinstance(v, dt.date):
                    cell.value = v
                    cell.number_format = "yyyy-mm-dd"
                else:
                    _put(ws, r, j, v)
            cell.border = border
            cell.font = bold if c.role in ("total", "grade", "subtotal") else font
            cell.alignment = left if c.role in ("unit", "warnings", "note") else center
            if c.role == "input":
                cell.fill, cell.protection = input_fill, unlocked
            else:
                cell.protection = locked
                if c.role in ("auto", "date", "note"):
                    cell.fill = auto_fill
                elif c.role in ("subtotal", "total", "grade"):
                    cell.fill = total_fill
            if c.role in ("score", "subtotal", "total"):
                cell.number_format = "0.00"
            elif c.role == "auto" and c.part is not None and c.part.kind in ("deduct", "ratio"):
                cell.number_format = "0"
    for c in cols:
        if c.role != "input" or not run.units:
            continue
        p = c.part
        rng = f"{letter[c.key]}{FIRST_ROW}:{letter[c.key]}{last_row}"
        common = {"allow_blank": True, "showErrorMessage": True, "showInputMessage": True, "errorStyle": "stop",
                  "errorTitle": "输入无效", "promptTitle": p.label[:32]}
        extra = f"（{'、'.join(p.checklist)}）" if p.checklist else ""
        if p.kind == "yesno":
            dv = DataValidation(type="list", formula1=f'"{YES},{NO}"', error="请选择“是”或“否”",
                                prompt=f"请选择“是”或“否”（{p.points:g}分）"[:255], **common)
        elif p.kind == "deduct":
            if p.max_count is not None:
                dv = DataValidation(type="whole", operator="between", formula1="0", formula2=n(p.max_count),
                                    error=f"应为 0–{p.max_count:g} 的整数", **common,
                                    prompt=f"填写项数，每项扣{p.per:g}分{extra}"[:255])
            else:
                dv = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0",
                                    error="应为不小于 0 的整数", **common,
                                    prompt=f"填写单位数，每个扣{p.per:g}分，最多扣{p.points:g}分{extra}"[:255])
        else:
            dv = DataValidation(type="decimal", operator="between", formula1="0", formula2=n(p.points),
                                error=f"应为 {p.allowed_text()} 分", **common,
                                prompt=(f"允许的分数：{p.allowed_text()}" if p.kind == "bands" else
                                        f"0–{p.points:g} 分")[:255])
        dv.add(rng)
        ws.add_data_validation(dv)
    ws.freeze_panes = f"{letter['submitted']}{FIRST_ROW}"
    print_setup(ws, rub.name, SHEET, title_rows="3:6", title_cols="A:B", pages_wide=across)

    # defined names (workbook scope)
    quoted = f"'{SHEET}'"
    wb.defined_names["截止日期"] = DefinedName("截止日期", attr_text=f"{quoted}!${get_column_letter(DEADLINE_COLUMN)}$2")
    if run.units:
        for c in cols:
            if c.name:
                col = letter[c.key]
                wb.defined_names[c.name] = DefinedName(
                    c.name, attr_text=f"{quoted}!${col}${FIRST_ROW}:${col}${last_row}")

    _evidence_sheet(wb, run, bold, head_fill, border)
    _projects_sheet(wb, run, bold, head_fill, border)
    _rubric_sheet(wb, rub, bold, head_fill, border, left)
    _unreadable_sheet(wb, run, bold, head_fill, border)
    for sheet in wb.worksheets:
        sheet.protection.sheet = True
        sheet.protection.password = rub.password
        sheet.protection.formatColumns = False
        sheet.protection.formatRows = False
        sheet.protection.autoFilter = False
        sheet.protection.sort = False
    wb.security = WorkbookProtection(workbookPassword=rub.password, lockStructure=True)
    wb.calculation.fullCalcOnLoad = True
    wb.properties.creator = "jxzp 绩效自评 Excel 引擎"
    wb.properties.title = rub.name
    for key, value in (("考核规则", rub.id), ("报送截止日期", run.deadline.isoformat()),
                       ("生成程序", "jxzp review"), (OUTPUT_PROPERTY, "考核评分表")):
        wb.custom_doc_props.append(StringProperty(name=key, value=value))
    buf = io.BytesIO()
    wb.save(buf)
    atomic_write_bytes(out, set_cached_values(buf.getvalue(), "xl/worksheets/sheet1.xml", cached))
    return cached


def set_cached_values(data: bytes, member: str, values: dict[str, Any]) -> bytes:
    """Give formula cells of one sheet their cached results (openpyxl writes none)."""
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    src = zipfile.ZipFile(io.BytesIO(data))
    root = parse_xml(src.read(member), member)
    for c in root.iter(f"{main}c"):
        ref = c.get("r")
        if ref not in values or c.find(f"{main}f") is None:
            continue
        v = c.find(f"{main}v")
        if v is None:
            v = etree.SubElement(c, f"{main}v")
        value = values[ref]
        if isinstance(value, str):
            c.set("t", "str")
            v.text = value
        else:
            c.attrib.pop("t", None)
            v.text = repr(float(value)) if float(value) != int(value) else str(int(value))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True) \
                if info.filename == member else src.read(info.filename)
            dst.writestr(info, body, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _table_head(ws, headers, widths, bold, fill) -> None:
    for k, (h, w) in enumerate(zip(headers, widths), 1):
        c = ws.cell(1, k, h)
        c.font, c.fill = bold, fill
        ws.column_dimensions[get_column_letter(k)].width = w
    ws.freeze_panes = "B2"


def _finish(ws, report_title: str, widths: list[float], border, *, note: str = "") -> None:
    """Print one of the table sheets: every cell of the table wrapped and bordered, each row as tall as its
    text, ``note`` in a row of its own under the table across its width, and the page set up (the header row
    and, when the table is printed over more than one page across, its first column repeated)."""
    wrap = Alignment(vertical="top", wrap_text=True)
    head = Alignment(horizontal="center", vertical="center", wrap_text=True)
    if ws.max_row < 2:
        _put(ws, 2, 1, "（无）")
    for r in range(1, ws.max_row + 1):
        lines = 1
        for k, w in enumerate(widths, 1):
            cell = ws.cell(r, k)
            cell.border = border
            cell.alignment = head if r == 1 else wrap
            if r > 1 and not cell.font.b:        # not the workbook's default font (Calibri 11)
                cell.font = _BODY_FONT
            if isinstance(cell.value, str):
                lines = max(lines, text_lines(cell.value, w))
        ws.row_dimensions[r].height = row_height(lines)
    if note:
        r = ws.max_row + 1
        cell = _put(ws, r, 1, note)
        cell.font, cell.alignment = _BODY_FONT, Alignment(vertical="top", wrap_text=True)
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=len(widths))
        ws.row_dimensions[r].height = row_height(text_lines(note, sum(widths)))
    across = pages_wide(widths, widths[0])
    print_setup(ws, report_title, ws.title, title_rows="1:1", title_cols="A:A" if across > 1 else None,
                pages_wide=across)


def _relative(path: str, folder: str) -> str:
    """A returned file's path as shown: relative to the returned folder."""
    return str(Path(path).relative_to(folder)) if Path(path).is_relative_to(folder) else str(path)


def _evidence_sheet(wb, run: ReviewRun, bold, fill, border) -> None:
    ws = wb.create_sheet("评分依据")
    auto = [(p.key, p.label) for p in run.rubric.parts if p.rule == "automatic"] + \
           [(p.flag.key, p.flag.label) for p in run.rubric.parts if p.flag]
    headers = ["单位名称", "提交日期", "日期来源", "自评报告", *[label for _, label in auto], "存在问题（摘录）",
               "改进建议（摘录）", "回收的文件"]
    rows = []
    for u in run.units:
        reps = u.reports
        excerpt = lambda role: "\n".join(                                      # noqa: E731
            (f"{Path(r.path).name}：" if len(reps) > 1 else "") + "；".join((r.texts.get(role) or [])[:10])
            for r in reps if r.texts.get(role))
        row = [u.unit, u.submitted.isoformat() if u.submitted else "未报送", u.submitted_source,
               "\n".join(Path(r.path).name for r in reps) if reps else
               ("未找到" + (f"：{u.report_error}" if u.report_error else "")),
               *[u.notes.get(key, "") for key, _ in auto], excerpt("problems"), excerpt("suggestions"),
               "\n".join(_relative(p, run.folder) for p in u.files.all_files)]
        rows.append(row)
    # each column about as wide as its texts need for a few lines (a long text in a narrow column makes every
    # row of the table tall)
    widths = [max(10.0, math.ceil(text_width(h) / 2) + 2.0,
                  min(60.0, math.ceil(sum(text_width(str(row[k] or "")) for row in rows) / max(1, len(rows)) / 6) + 2.0))
              for k, h in enumerate(headers)]
    widths[:2] = [max(widths[0], 16.0), 11.0]
    _table_head(ws, headers, widths, bold, fill)
    for r, row in enumerate(rows, 2):
        for k, v in enumerate(row, 1):
            _put(ws, r, k, v)
    _finish(ws, run.rubric.name, widths, border)


def _projects_sheet(wb, run: ReviewRun, bold, fill, border) -> None:
    ws = wb.create_sheet("自评表核对")
    cats = [("预算执行率" if c == "fund" else c) for c, _ in run.rubric.regulation]
    headers = ["单位名称", "项目编码", "项目名称", "评分规则", *cats, "权重符合项数", "指标行数", "细化到三级的行数",
               "说明", "文件"]
    widths = [20, 10, 24, 20] + [9] * len(cats) + [8, 8, 10, 36, 30]
    _table_head(ws, headers, widths, bold, fill)
    r = 2
    for u in run.units:
        for p in u.files.projects:
            row = [u.unit, p.code, p.project, profile_name(p.profile) if p.profile else "",
                   *[a for _, a, _ in p.weights], p.ok_pairs, p.rows, p.level3_ok,
                   "；".join(p.shortfalls), _relative(p.path, run.folder)]
            for k, v in enumerate(row, 1):
                _put(ws, r, k, v)
            r += 1
    _finish(ws, run.rubric.name, widths, border,
            note="规程权重（" + run.rubric.regulation_source + "）：" + "、".join(
                f"{'预算执行率' if c == 'fund' else c} {w:g}" for c, w in run.rubric.regulation))


def _rubric_sheet(wb, rub: Rubric, bold, fill, border, left) -> None:
    ws = wb.create_sheet("评分标准")
    widths = [14, 16, 70, 36, 50]
    _table_head(ws, ["一级指标", "二级指标", "评分标准", "所需佐证材料", "评分要素（方式）"], widths, bold, fill)
    r = 2
    for g in rub.groups:
        for item in g.items:
            parts = "；".join(f"{p.label} {p.points:g}分（{'程序计算' if p.rule == 'automatic' else '评审填写'}"
                             f"{'：' + p.allowed_text() if p.rule == 'judgement' else ''}）" for p in item.parts)
            for k, v in enumerate([f"{g.name}（{g.weight:g}分）", f"{item.name}（{item.weight:g}分）", item.criterion,
                                   item.evidence, parts], 1):
                _put(ws, r, k, v)
            r += 1
    _put(ws, r, 1, f"合计（{rub.total:g}分）").font = bold
    _finish(ws, rub.name, widths, border,
            note="等次：" + "；".join(f"{g.label} ≥{g.min:g}" for g in rub.grades[:-1]) +
            f"；其余为{rub.grades[-1].label}。评审项未填完时显示“{PENDING}”，填写的值不在允许范围内时显示“{CHECK}”。")


def _unreadable_sheet(wb, run: ReviewRun, bold, fill, border) -> None:
    ws = wb.create_sheet("无法读取")
    widths = [60, 80]
    _table_head(ws, ["文件", "原因"], widths, bold, fill)
    rows = list(run.unreadable) + [(p, "无法确定所属单位（请放入以单位名称命名的文件夹）") for p in run.unassigned]
    for r, (path, why) in enumerate(rows, 2):
        _put(ws, r, 1, path)
        _put(ws, r, 2, why)
    _finish(ws, run.rubric.name, widths, border)
