"""The layout of a template: every cell, its role, its formula and the formula's Python twin.

A layout is a pure function of the form spec (``templates/forms/*.yaml``) and a
profile. The builder renders it with openpyxl; the filler patches a copy of the
rendered template with a record's inputs and, for every formula cell, the value
computed by the Python twin; the reader reads a workbook back through it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from operator import attrgetter
from typing import Callable

from xlsx_engine.forms.project import formulas as fx
from xlsx_engine.forms.project.profile import Profile, load_profile
from xlsx_engine.forms.project.record import FundLine, Goal, IndicatorRow, ProjectRecord
from xlsx_engine.forms.project.rules import (
    EQUAL_ZERO,
    FUND_SCORE,
    PERCENT_ACTUAL,
    POSITIVE,
    QUALITATIVE,
    REVERSE,
    WAITING,
)
from xlsx_engine.forms.project.scoring import Result, evaluate
from xlsx_engine.forms.project.sentences import (
    TITLE as SUMMARY_TITLE,
)
from xlsx_engine.forms.report_info import (
    Field,
    add_report_info,
    report_info_from_cells,
    report_info_values,
    unused_report_info_rows,
)
from xlsx_engine.forms.project.sentences import (
    LiveSummary,
    SummaryRefs,
    line_formula,
    over_flag_formula,
    seq_formula,
    sentences,
    summary_refs,
)
from xlsx_engine.kernel.datafile import Cell
from xlsx_engine.kernel.excel import nonblank, q
from xlsx_engine.kernel.targets import OPERATORS
from xlsx_engine.kernel.xlmath import xnum
from xlsx_engine.ooxml.cells import col_letters
from xlsx_engine.ooxml.pagesetup import text_units
from xlsx_engine.ooxml.sheetmodel import (
    SheetLayout,
    Validation,
    load_form,
    rules_heading,
)


#: the attributes of an indicator row, in the order :class:`IndicatorRow` takes them (one column each)
ROW_ATTRS = tuple(IndicatorRow.__dataclass_fields__)
_attrs_of = attrgetter(*ROW_ATTRS)


@dataclass
class Layout(SheetLayout):
    """The 项目支出绩效自评表 layout: the generic sheet model plus the project record mapping."""

    # ------------------------------------------------------------------ record mapping
    def input_values(self, record: ProjectRecord) -> dict[str, Cell]:
        """The value of every input cell for a record (None for empty)."""
        c = self.form.col
        out: dict[str, Cell] = {"B2": record.year, "C3": record.project, "C4": record.department,
                                "I4": record.unit, f"K{self.fund_total_row}": record.rate_reason}
        for row, line in zip(self.fund_rows, record.funds):
            out[f"E{row}"], out[f"F{row}"], out[f"G{row}"] = line.initial, line.budget, line.spent
        for row, goal in zip(self.goal_rows, record.goals):
            out[f"C{row}"], out[f"H{row}"] = goal.expected, goal.actual
        if self.target_input:
            out[self.target_input] = record.target_score
        for row, ind in zip(self.indicator_rows, record.indicators):
            for key in ROW_ATTRS:
                out[f"{c[key]}{row}"] = getattr(ind, key)
        out.update(report_info_values(self, record.extra))
        return {ref: value for ref, value in out.items() if ref in self.cells}

    @functools.cached_property
    def indicator_cells(self) -> tuple[tuple[str, ...], ...]:
        """Per indicator row, the cell of each :class:`IndicatorRow` field (in field order)."""
        c = self.form.col
        return tuple(tuple(f"{c[k]}{row}" for k in ROW_ATTRS) for row in self.indicator_rows)

    def record_from_cells(self, get: Callable[[str], Cell]) -> ProjectRecord:
        """Rebuild a record from cell values (``get(ref)`` returns a cell's value or None)."""
        rec = ProjectRecord(self.profile.id, year=get("B2"), project=get("C3"), department=get("C4"),
                            unit=get("I4"), rate_reason=get(f"K{self.fund_total_row}"))
        for row, source in zip(self.fund_rows, self.profile.fund_sources):
            rec.funds.append(FundLine(source, get(f"E{row}"), get(f"F{row}"), get(f"G{row}")))
        for row in self.goal_rows:
            rec.goals.append(Goal(get(f"C{row}"), get(f"H{row}")))
        if self.target_input:
            rec.target_score = get(self.target_input)
        for refs in self.indicator_cells:
            rec.indicators.append(IndicatorRow(*map(get, refs)))
        rec.extra = report_info_from_cells(self, get)
        return rec

    def padded(self, record: ProjectRecord) -> ProjectRecord:
        """The record as the template sees it.

        Indicator and goal lists are padded to the template's rows, and every number is
        reduced to the 15 significant digits a spreadsheet cell keeps, so Python scores
        exactly the values Excel and LibreOffice will see.
        """
        rec = ProjectRecord(**{k: getattr(record, k) for k in record.__dataclass_fields__})
        rec.year, rec.target_score = xnum(rec.year), xnum(rec.target_score)
        given = {f.source: f for f in record.funds}
        rec.funds = [FundLine(src, *(xnum(getattr(given[src], k)) for k in ("initial", "budget", "spent")))
                     if src in given else FundLine(src) for src in self.profile.fund_sources]
        rec.indicators = [IndicatorRow(*[v if v is None or v.__class__ is str else xnum(v) for v in _attrs_of(r)])
                          for r in record.indicators]          # xnum passes texts and blanks through as they are
        rec.indicators += [IndicatorRow()] * (len(self.indicator_rows) - len(record.indicators))
        rec.goals = list(record.goals) + [Goal()] * (len(self.goal_rows) - len(record.goals))
        return rec

    def evaluate(self, record: ProjectRecord) -> tuple[ProjectRecord, Result]:
        rec = self.padded(record)
        return rec, evaluate(rec, self.profile)

    def print_rows(self, record: ProjectRecord) -> tuple[list[int], list[int]]:
        """A filled copy prints as many indicator and goal rows as it uses.

        Unused rows after the last used one are hidden (the unit can unhide them: row formatting is not
        locked); up to :data:`PAGE_ROWS` indicators print on one page with the totals and the signature
        line; more continue on the next page under the repeated header, with at least two indicators
        before the totals. A record without indicators (a blank form) keeps every row.
        """
        used = _used(record.indicators)
        # the 报告信息 page prints only when the unit wrote something in it
        info_rows = unused_report_info_rows(self, record.extra)
        if used == 0:
            return info_rows, list(self.row_breaks)
        goals = max(1, _used(record.goals))
        # the live 综述 never lists more indicators than the rows in use
        hidden = self.indicator_rows[used:] + self.goal_rows[goals:] + info_rows + self.summary_lines[used:]
        breaks = [self.indicator_rows[min(used - 2, PAGE_ROWS) - 1]] if used > PAGE_ROWS else []
        return hidden, breaks

    def repeats_header(self, breaks: list[int]) -> bool:
        """The indicator header repeats only when the form continues on a second page: a form on one page is
        followed by its 报告信息 and 综述 pages without a header that belongs to the table."""
        return bool(breaks)


#: the 报告信息 fields (docs/rules.md#report-outlines; seed 003: 项目背景/立项依据, 资金到位, 主要问题和改进措施;
#: seed 004: 资金到位/管理, 结果应用和公开; Hunan 附件3: 组织实施, 填报人/联系电话): (label, row height, longest text)
PROJECT_FIELDS: tuple[Field, ...] = (
    ("项目概况及立项依据", 60, 2000),
    ("资金到位与管理情况", 45, 2000),
    ("组织实施情况", 45, 2000),
    ("主要问题", 45, 2000),
    ("改进措施", 45, 2000),
    ("结果应用与公开情况", 30, 1000),
    ("自评时间", 18, 20),
    ("联系人", 18, 30),
    ("联系人电话", 18, 30),
)
#: indicator rows that print on the first page together with the totals and the signature line
PAGE_ROWS = 12
#: the signature line under the form (seed 000's 填报人（签名）/联系电话, and the usual 审核人, seal and date)
SIGNATURE = "填报人（签名）：　　　　　　　联系电话：　　　　　　　　　审核人（签名）：　　　　　　　　单位（盖章）　　　　　　　　日期：　　　　年　　月　　日"


def _used(rows: list) -> int:
    """How many rows are used: the position of the last row with a value in any cell."""
    return max((k + 1 for k, row in enumerate(rows) if any(nonblank(v) for v in vars(row).values())), default=0)


def header_text(text: str, width: float) -> str:
    """A header that is wider than its column breaks before its parenthesis, never inside it."""
    if text_units(text) > width - 1 and "（" in text[1:]:
        return text.replace("（", "\n（", 1)
    return text


@functools.lru_cache(maxsize=32)
def project_layout(profile_id: str, form_name: str = "project") -> Layout:
    """Lay out the 项目支出绩效自评表 for a profile.

    Raises:
        ProfileError: the profile cannot be loaded.
    """
    profile = load_profile(profile_id)
    form = load_form(form_name)
    L = Layout(form, profile)
    c = form.col
    last = col_letters(len(form.columns))
    plast = c["reason"]     # the last printed column: the 提示 column is for the screen only
    width = {c[spec["key"]]: spec["width"] for spec in form.columns}
    p = profile

    # --- title and project
    L.label("A1", form.title, "title", f"A1:{plast}1")
    L.row_heights[1] = 24
    L.label("A2", "评价年度", "label")
    L.input("B2", "input_year", "year")
    L.name("年度", "B2")
    L.label("C2", "年度　　黄色单元格为填报区，其余单元格自动计算并已锁定", "note", "C2:J2")
    L.label("K2", "单位：万元", "label_right", f"K2:{plast}2")
    L.label("A3", "项目名称", "label", "A3:B3")
    L.input("C3", merge=f"C3:{plast}3")
    L.name("项目名称", "C3")
    L.label("A4", "主管部门", "label", "A4:B4")
    L.input("C4", merge="C4:F4")
    L.name("主管部门", "C4")
    L.label("G4", "实施单位", "label", "G4:H4")
    L.input("I4", merge=f"I4:{plast}4")
    for row in (2, 3, 4):
        L.row_heights[row] = 15
    L.name("实施单位", "I4")

    # --- fund block
    r0 = 5
    n_src = len(p.fund_sources)
    total = r0 + 1
    L.fund_total_row = total
    L.fund_rows = list(range(total + 1, total + 1 + n_src))
    first, lastsrc = L.fund_rows[0], L.fund_rows[-1]
    block_label = "项目资金（万元）" if p.fund_in_total else "项目资金（万元）（资金得分单列，不计入总分）"
    L.label(f"A{r0}", block_label, "header", f"A{r0}:B{lastsrc}")
    L.label(f"C{r0}", "", "header", f"C{r0}:D{r0}")
    for col, text in (("E", "年初预算数"), ("F", f"{p.fund_base}（A）"), ("G", "全年执行数（B）"), ("H", "分值"),
                      ("I", "执行率（B/A）"), ("J", "得分")):
        L.label(f"{col}{r0}", header_text(text, width[col]), "header")
    L.label(f"K{r0}", "执行率偏差说明", "header", f"K{r0}:{plast}{r0}")
    L.row_heights[r0] = 28
    L.label(f"C{total}", "年度资金总额", "label_bold", f"C{total}:D{total}")
    for col in "EFG":
        L.formula(f"{col}{total}", f"=SUM({col}{first}:{col}{lastsrc})",
                  lambda r, rec, col=col: {"E": r.fund.initial, "F": r.fund.budget, "G": r.fund.spent}[col],
                  "formula_amount")
    L.const(f"H{total}", p.fund_weight)
    budgets, spents = f"F{first}:F{lastsrc}", f"G{first}:G{lastsrc}"
    L.formula(f"I{total}", fx.rate_formula(f"F{total}", f"G{total}", budgets, spents), lambda r, rec: r.fund.rate,
              "formula_pct")
    L.formula(f"J{total}", fx.fund_score_formula(f"F{total}", f"G{total}", f"H{total}", p, budgets, spents),
              lambda r, rec: r.fund.score)
    L.input(f"K{total}", "input_text", merge=f"K{total}:{plast}{lastsrc}")
    for row in range(total, lastsrc + 1):
        L.row_heights[row] = 15
    for i, (row, source) in enumerate(zip(L.fund_rows, p.fund_sources)):
        L.label(f"C{row}", ("其中：" if i == 0 else "") + source, "label_indent", f"C{row}:D{row}")
        for col in "EFG":
            L.input(f"{col}{row}", "input_amount", "number")
        L.label(f"H{row}", "—", "label_center")
        L.formula(f"I{row}", fx.rate_formula(f"F{row}", f"G{row}"),
                  lambda r, rec, i=i: r.fund.source_rates[i], "formula_pct")
        L.label(f"J{row}", "—", "label_center")
    L.name("年初预算数", f"E{total}")
    L.name("全年预算数", f"F{total}")
    L.name("全年执行数", f"G{total}")
    L.name("资金分值", f"H{total}")
    L.name("执行率", f"I{total}")
    L.name("资金得分", f"J{total}")
    L.name("执行率说明", f"K{total}")
    L.name("资金来源", f"C{first}", f"C{lastsrc}")
    L.name("来源年初预算数", f"E{first}", f"E{lastsrc}")
    L.name("来源全年预算数", f"F{first}", f"F{lastsrc}")
    L.name("来源全年执行数", f"G{first}", f"G{lastsrc}")
    L.name("来源执行率", f"I{first}", f"I{lastsrc}")

    # --- goals
    g0 = lastsrc + 1
    L.goal_rows = list(range(g0 + 1, g0 + 1 + form.goal_rows))
    gl = L.goal_rows[-1]
    L.label(f"A{g0}", "年度总体目标", "header", f"A{g0}:B{gl}")
    L.label(f"C{g0}", "预期目标", "header", f"C{g0}:G{g0}")
    actual_end = "J" if p.has_target_block else plast
    L.label(f"H{g0}", "实际完成情况", "header", f"H{g0}:{actual_end}{g0}")
    L.row_heights[g0] = 15
    if p.has_target_block:
        L.label(f"K{g0}", f"{p.target_label}分值", "header")
        L.label(f"L{g0}", f"{p.target_label}自评分", "header")
        L.row_heights[g0] = 28
    for row in L.goal_rows:
        L.row_heights[row] = 15
        L.input(f"C{row}", merge=f"C{row}:G{row}")
        L.input(f"H{row}", merge=f"H{row}:{actual_end}{row}")
    if p.has_target_block:
        L.const(f"K{L.goal_rows[0]}", p.target_weight)
        L.merges.append(f"K{L.goal_rows[0]}:K{gl}")
        L.target_input = f"L{L.goal_rows[0]}"
        L.input(L.target_input, "input_number", "number", merge=f"L{L.goal_rows[0]}:L{gl}")
        L.name("目标分值", f"K{L.goal_rows[0]}")
        L.name("目标自评分", L.target_input)
    L.name("预期目标", f"C{L.goal_rows[0]}", f"C{gl}")
    L.name("实际完成情况", f"H{L.goal_rows[0]}", f"H{gl}")

    # --- indicator table
    s0 = gl + 1
    L.label(f"A{s0}", f"绩效指标（{fx.n(p.indicator_weight)}分）", "section", f"A{s0}:{plast}{s0}")
    L.row_heights[s0] = 15
    h = s0 + 1
    for spec in form.columns:
        L.label(f"{c[spec['key']]}{h}", header_text(spec["header"], spec["width"]), "header")
    L.row_heights[h] = 28
    L.header_rows = (h, h)
    L.freeze = f"D{h + 1}"
    L.indicator_rows = list(range(h + 1, h + 1 + form.indicator_rows))
    i0, i1 = L.indicator_rows[0], L.indicator_rows[-1]
    lists = {"level1": "列表_一级指标", "pairs": "列表_指标对应", "ops": "列表_指标性质", "bands": "列表_完成等级"}
    input_styles = {"weight": ("input_number", "number"), "manual": ("input_number", "number"),
                    "target": ("input_center", "text"), "actual": ("input_center", "text"),
                    "op": ("input_center", "text"), "unit": ("input_center", "text"),
                    "band": ("input_center", "text")}
    for idx, row in enumerate(L.indicator_rows):
        L.row_heights[row] = 24
        refs = fx.RowRefs(**{k: f"{c[k]}{row}" for k in fx.RowRefs.__dataclass_fields__})
        for key in ROW_ATTRS:
            style, kind = input_styles.get(key, ("input_text", "text"))
            L.input(f"{c[key]}{row}", style, kind)
        L.formula(refs.score, fx.score_formula(refs, p), lambda r, rec, i=idx: r.indicators[i].score,
                  shared="score")
        L.formula(refs.message, fx.message_formula(refs, p, lists), lambda r, rec, i=idx: r.indicators[i].message,
                  "warn", shared="message")
        # hidden helpers of the live 综述: over-achievement flag, place among the listed rows, the row's line
        over, seq, line = f"{OVER_COL}{row}", f"{SEQ_COL}{row}", f"{LINE_COL}{row}"
        L.formula(over, over_flag_formula(refs, p), lambda r, rec, i=idx: _live(r, rec, p).over[i], "helper",
                  shared="over")
        above = None if row == i0 else f"{SEQ_COL}{i0}" if row == i0 + 1 else f"{SEQ_COL}{i0}:{SEQ_COL}{row - 1}"
        L.formula(seq, seq_formula(refs, f"{over}=1", above),
                  lambda r, rec, i=idx: _live(r, rec, p).seq[i], "helper")
        L.formula(line, line_formula(refs, p, seq, over), lambda r, rec, i=idx: _live(r, rec, p).lines[i], "helper",
                  shared="line")
    for spec in form.columns:
        L.name(spec["name"], f"{c[spec['key']]}{i0}", f"{c[spec['key']]}{i1}")
    # one page holds PAGE_ROWS indicators; 一级/二级指标 print once per group (not on the row after the break)
    brk = L.indicator_rows[PAGE_ROWS - 1]
    L.row_breaks = [brk]
    A, B = c["level1"], c["level2"]
    for top, bottom in ((i0 + 1, brk), (brk + 2, i1)):
        L.group_labels += [(f"{A}{top}:{A}{bottom}", f'AND({A}{top}<>"",{A}{top}={A}{top - 1})'),
                           (f"{B}{top}:{B}{bottom}", f'AND({B}{top}<>"",{B}{top}={B}{top - 1},{A}{top}={A}{top - 1})')]

    # --- totals
    t1 = i1 + 1
    L.label(f"A{t1}", "绩效指标合计", "label_bold", f"A{t1}:H{t1}")
    L.formula(f"I{t1}", f"=SUM(I{i0}:I{i1})", lambda r, rec: r.weight_sum, "formula_bold")
    L.label(f"J{t1}", "", "label")
    L.formula(f"K{t1}", f"=SUM(K{i0}:K{i1})", lambda r, rec: r.score_sum, "formula_bold")
    L.label(f"L{t1}", "", "label")
    L.name("指标分值合计", f"I{t1}")
    L.name("指标得分合计", f"K{t1}")
    t2 = t1 + 1
    parts = []
    if p.fund_in_total:
        parts.append(f"{p.fund_label}{fx.n(p.fund_weight)}分")
    if p.has_target_block:
        parts.append(f"{p.target_label}{fx.n(p.target_weight)}分")
    parts.append(f"绩效指标{fx.n(p.indicator_weight)}分")
    L.label(f"A{t2}", "总分（" + "＋".join(parts) + "）", "label_bold", f"A{t2}:H{t2}")
    pending = fx.pending_expr(budgets, spents, L.target_input, f"I{i0}:I{i1}", f"K{i0}:K{i1}", p)
    L.formula(f"I{t2}", fx.total_weight_formula(f"H{total}" if p.fund_in_total else None,
                                                f"K{L.goal_rows[0]}" if p.has_target_block else None, f"I{t1}"),
              lambda r, rec: r.total_weight, "formula_bold")
    L.label(f"J{t2}", "", "label")
    raw = fx.raw_total_expr(f"J{total}" if p.fund_in_total else None, L.target_input, f"K{t1}", p)
    if p.rate_caps:
        L.formula(f"K{t2}", fx.total_formula(raw, f"I{total}", p, pending), lambda r, rec: r.total, "formula_total")
        L.label(f"L{t2}", "执行率低于" + "、".join(f"{fx.n(cp.below * 100)}%" for cp in reversed(p.rate_caps))
                + "时总分分别不超过" + "、".join(fx.n(cp.cap) for cp in reversed(p.rate_caps)), "note")
    else:
        L.formula(f"K{t2}", fx.total_formula(raw, f"I{total}", p, pending), lambda r, rec: r.total, "formula_total")
        L.label(f"L{t2}", "", "label")
    L.name("总分分值", f"I{t2}")
    L.name("总分", f"K{t2}")
    t3 = t2 + 1
    grade_text = "；".join(f"{g.label}≥{fx.n(g.min)}" for g in p.grades[:-1]) + f"；其余为{p.grades[-1].label}"
    L.label(f"A{t3}", "评价等次", "label_bold", f"A{t3}:H{t3}")
    L.formula(f"I{t3}", fx.grade_formula(f"K{t2}", p), lambda r, rec: r.grade, "formula_total", f"I{t3}:K{t3}")
    L.label(f"L{t3}", grade_text, "note")
    L.name("评价等次", f"I{t3}")
    for row in (t1, t2, t3):
        L.row_heights[row] = 16
    if p.rate_caps:
        L.row_heights[t2] = 24    # room for the cap note on two lines
    sig = t3 + 1
    L.label(f"A{sig}", SIGNATURE, "signature", f"A{sig}:{plast}{sig}")
    L.row_heights[sig] = 24
    L.print_last_col, L.print_last_row = plast, sig
    L.one_page_rows = list(range(1, brk + 1)) + [t1, t2, t3, sig]

    # --- self-checks (on the screen, not printed)
    v = sig + 2
    checks = fx.check_formulas(fx.CheckRefs(
        total_weight=f"I{t2}", level1_col=f"$A${i0}:$A${i1}", weight_col=f"$I${i0}:$I${i1}",
        budget=f"F{total}", spent=f"G{total}", rate_reason=f"K{total}", target_input=L.target_input,
        message_col=f"$M${i0}:$M${i1}", budgets=f"$F${first}:$F${lastsrc}", spents=f"$G${first}:$G${lastsrc}",
        unit_inputs=",".join(f"${c[k]}${i0}:${c[k]}${i1}" for k in ("actual", "band", "manual", "reason")),
        score_col=f"$K${i0}:$K${i1}"), p)
    c1 = L.self_check_block(v, checks, last)

    # --- explanation of the rules, in words
    n0 = c1 + 2
    notes = rules_in_words(p)
    for k, text in enumerate(notes):
        L.label(f"A{n0 + k}", text, "note", f"A{n0 + k}:{last}{n0 + k}")
    L.last_row = n0 + len(notes) - 1
    add_report_info(L, L.last_row + 2, last, PROJECT_FIELDS)
    L.hidden_cols = [OVER_COL, SEQ_COL, LINE_COL]
    add_live_summary(L, L.last_row + 2, plast, SummaryRefs(
        budget=f"F{total}", spent=f"G{total}", rate=f"I{total}", fund_score=f"J{total}", reason=f"K{total}",
        budgets=budgets, spents=spents, total=f"K{t2}", total_weight=f"I{t2}", score_sum=f"K{t1}",
        weight_sum=f"I{t1}", grade=f"I{t3}", target_input=L.target_input, seq=f"${SEQ_COL}${i0}:${SEQ_COL}${i1}",
        weights=f"I{i0}:I{i1}", scores=f"K{i0}:K{i1}"))

    # --- dictionary sheet (hidden): dropdown lists, lookup pairs, template identity
    cols = {"A": ("一级指标", p.level1_names, "列表_一级指标"), "B": ("二级指标", p.level2_names, "列表_二级指标"),
            "C": ("一级·二级", p.level_pairs, "列表_指标对应"), "D": ("指标性质", OPERATORS, "列表_指标性质"),
            "E": ("完成等级", tuple(b.label for b in p.bands), "列表_完成等级")}
    L.dictionary_lists(cols)
    L.identity_cells()

    # --- data validation
    rows = f"{i0}:{i1}"
    def col_range(key: str) -> str:
        return f"{c[key]}{i0}:{c[key]}{i1}"
    amount_refs = " ".join(f"{col}{first}:{col}{lastsrc}" for col in "EFG")
    L.validations += [
        Validation("B2", "whole", "2000", "2100", "between", "评价年度", "请填写四位年份，如 2024"),
        Validation(amount_refs, "decimal", "0", None, "greaterThanOrEqual", "金额（万元）",
                   "金额应为大于或等于 0 的数字（单位：万元）"),
        Validation(col_range("weight"), "decimal", "0", fx.n(p.total), "between", "分值",
                   f"分值应为 0 到 {fx.n(p.total)} 之间的数字"),
        Validation(col_range("manual"), "decimal", "0", fx.n(p.total), "between", "定性指标自评分",
                   "自评分应为 0 到该指标分值之间的数字，并符合所选完成等级的分数范围"),
        Validation(col_range("level1"), "list", "列表_一级指标", title="一级指标", error="请从下拉列表选择一级指标"),
        Validation(col_range("level2"), "list", "列表_二级指标", title="二级指标", error="请从下拉列表选择二级指标"),
        Validation(col_range("op"), "list", "列表_指标性质", title="指标性质",
                   error="请从下拉列表选择：≥ ＞ ＝ 为正向，≤ ＜ 为反向，定性指标选“定性”"),
        Validation(col_range("band"), "list", "列表_完成等级", title="完成等级（仅定性指标）",
                   error="请从下拉列表选择完成等级"),
    ]
    if L.target_input:
        L.validations.append(Validation(L.target_input, "decimal", "0", fx.n(p.target_weight), "between",
                                        f"{p.target_label}自评分", f"自评分应为 0 到 {fx.n(p.target_weight)} 之间的数字"))
    del rows
    return L


#: hidden helper columns of the live 综述, right of the 提示 column
OVER_COL, SEQ_COL, LINE_COL = "N", "O", "P"
PARAGRAPH_HEIGHT = 29      #: points: two lines of the live 综述's paragraphs
LINE_HEIGHT = 29           #: points: two lines of an indicator's line


def _live(result: Result, record: ProjectRecord, profile: Profile) -> LiveSummary:
    return LiveSummary.of(record, result, profile)


def add_live_summary(L: Layout, first_row: int, last_col: str, c: SummaryRefs) -> int:
    """The live 综述 (docs/rules.md#live-summary): a title, the three headed paragraphs and one line per
    indicator row (the k-th line shows the k-th listed indicator), printed on a page of its own.

    Every cell is a formula of :mod:`~xlsx_engine.forms.project.sentences`; its twin is the same sentence rendered
    by Python, so the workbook's 综述 and the report cannot differ.
    """
    p = L.profile
    L.label(f"A{first_row}", SUMMARY_TITLE, "section", f"A{first_row}:{last_col}{first_row}")
    L.row_heights[first_row] = 18
    refs = summary_refs(c, p)
    row = first_row
    for k, para in enumerate(sentences(p).paragraphs):
        row += 1
        L.formula(f"A{row}", para.formula(refs), lambda r, rec, k=k: _live(r, rec, p).paragraphs[k], "paragraph",
                  f"A{row}:{last_col}{row}")
        L.row_heights[row] = PARAGRAPH_HEIGHT
        L.fit_formulas.add(f"A{row}")
    lines = c.seq.replace(f"${SEQ_COL}$", f"${LINE_COL}$")
    first_line = row + 1
    for k in range(1, len(L.indicator_rows) + 1):
        row += 1
        L.formula(f"A{row}", f"=IF({k}<=MAX({c.seq}),{q(f'（{k}）')}&INDEX({lines},MATCH({k},{c.seq},0)),\"\")",
                  lambda r, rec, k=k: _nth(_live(r, rec, p).listed, k), "paragraph", f"A{row}:{last_col}{row}")
        L.row_heights[row] = LINE_HEIGHT
        L.fit_formulas.add(f"A{row}")
    L.summary_lines = list(range(first_line, row + 1))
    L.name("综述", f"A{first_row + 1}", f"A{row}")
    L.last_row = row
    L.print_extra.append((first_row, row))
    return row


def _nth(items: list[str], k: int) -> str:
    return items[k - 1] if k <= len(items) else ""


def rules_in_words(p: Profile) -> list[str]:
    """The profile's rules as printed under the table, so an accountant can check the formulas by hand."""
    bands = "，".join(
        f"{b.label} {fx.n(b.lower * 100)}%{'（含）' if True else ''}–{fx.n(b.upper * 100)}%"
        + ("（含）" if b.upper >= 1 else "") for b in p.bands)
    rev = REVERSE[p.reverse].text
    lines = [
        rules_heading(p.name, p.source),
        "1. " + FUND_SCORE.text.format(fund_label=p.fund_label, fund_base=p.fund_base)
        + ("" if p.fund_in_total else "；资金得分单列，不计入总分") + "。",
        f"2. {POSITIVE.text}；{EQUAL_ZERO.text}。负数完成值按0计。",
        f"3. {rev}。",
        "4. " + QUALITATIVE.text.format(bands=bands)
        + ("；选“达成”未填自评分按满分计" if p.qualitative_default_full else "") + "。",
        f"5. {PERCENT_ACTUAL.text}；无法确定时照所填数值计算并在提示列说明。",
        f"6. {WAITING.text}；资金、各指标及目标自评分填齐前总分和等次显示“待填报”。",
    ]
    k = 7
    if p.over_ratio is not None:
        lines.append(f"{k}. 完成值超过指标值{fx.n((p.over_ratio - 1) * 100)}%及以上视为偏离"
                     + (f"，扣{fx.n(p.over_penalty)}分" if p.over_penalty else "") + "，须说明原因。")
        k += 1
    if p.reason_below_full:
        lines.append(f"{k}. 未得满分的指标须填写偏差原因分析及改进措施。")
        k += 1
    lines.append(f"{k}. 评价等次：" + "；".join(f"{g.label}≥{fx.n(g.min)}分" for g in p.grades[:-1])
                 + f"；低于{fx.n(p.grades[-2].min)}分为{p.grades[-1].label}。")
    return lines
