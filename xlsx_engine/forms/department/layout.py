"""Layout of the 部门整体支出绩效自评表: every cell, formula and Python twin (see department.py).

It is a :class:`~xlsx_engine.ooxml.sheetmodel.SheetLayout`, so the same builder renders it and the same
filler patches it; only the record mapping differs.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any, Callable

from xlsx_engine.forms.department.model import (
    DETAIL_ROWS,
    INCOME,
    LINES,
    PENDING,
    RATIOS,
    SANGONG,
    SANGONG_COLS,
    DeptRecord,
    DeptResult,
    dept_evaluate,
    load_dept_profile,
)
from xlsx_engine.forms.report_info import (
    Field,
    add_report_info,
    report_info_from_cells,
    report_info_values,
    unused_report_info_rows,
)
from xlsx_engine.kernel import excel as fx
from xlsx_engine.kernel.xlmath import xnum
from xlsx_engine.ooxml.sheetmodel import SheetLayout as Layout
from xlsx_engine.ooxml.sheetmodel import Validation, load_form, rules_heading, text_height, text_lines

NA_Q = fx.q("—")
num = fx.num_formula


class DeptLayout(Layout):
    """A layout whose record is a :class:`DeptRecord` and whose result is a :class:`DeptResult`."""

    inputs: dict[str, Callable[[DeptRecord], Any]]
    setters: dict[str, Callable[[DeptRecord, Any], None]]

    def input_values(self, record: DeptRecord) -> dict[str, Any]:
        out = {ref: get(record) for ref, get in self.inputs.items()}
        out.update(report_info_values(self, record.extra))
        return out

    def padded(self, record: DeptRecord) -> DeptRecord:
        rec = DeptRecord(**{k: getattr(record, k) for k in record.__dataclass_fields__})
        rec.staff = {k: xnum(v) for k, v in record.staff.items()}
        rec.budget = {k: xnum(v) for k, v in record.budget.items()}
        rec.final = {k: xnum(v) for k, v in record.final.items()}
        rec.sangong = {k: {c: xnum(v) for c, v in row.items()} for k, row in record.sangong.items()}
        rec.detail = [(n, xnum(v)) for n, v in record.detail] + [(None, None)] * (DETAIL_ROWS - len(record.detail))
        rec.scores = {k: xnum(v) for k, v in record.scores.items()}
        rec.initial_budget, rec.adjustment, rec.key_projects = (xnum(record.initial_budget), xnum(record.adjustment),
                                                                xnum(record.key_projects))
        return rec

    def evaluate(self, record: DeptRecord) -> tuple[DeptRecord, DeptResult]:
        rec = self.padded(record)
        return rec, dept_evaluate(rec, self.profile)

    def record_from_cells(self, get: Callable[[str], Any]) -> DeptRecord:
        rec = DeptRecord(self.profile.id)
        rec.detail = [(None, None)] * DETAIL_ROWS
        for ref, setter in self.setters.items():
            setter(rec, get(ref))
        rec.extra = report_info_from_cells(self, get)
        return rec

    def print_rows(self, record: DeptRecord) -> tuple[list[int], list[int]]:
        """The 报告信息 page prints only when the unit wrote something in it."""
        return unused_report_info_rows(self, record.extra), list(self.row_breaks)


#: the 报告信息 fields of a 部门整体 report (Hunan 2024 outline, seed 001: 一、部门基本情况（职能、机构设置、重点工作）,
#: 七、存在的问题, 八、改进措施, 九、结果应用和公开, 十、其他需要说明的情况; 2020 outline, seed 002: 管理情况)
DEPARTMENT_FIELDS: tuple[Field, ...] = (
    ("主要职能", 45, 2000),
    ("机构设置", 30, 1000),
    ("重点工作", 45, 2000),
    ("管理情况", 45, 2000),
    ("存在问题", 45, 2000),
    ("改进措施", 45, 2000),
    ("自评结果拟应用和公开情况", 30, 1000),
    ("其他需要说明的情况", 30, 1000),
    ("自评时间", 18, 20),
    ("联系人", 18, 30),
    ("联系人电话", 18, 30),
)


def label_lines(text: str, width: float, size: float) -> int:
    """Lines a wrapped label of ``size``-point CJK characters takes in a column ``width`` characters wide: the
    template's own estimate for its indicator rows (``4 + 11`` pt a line), not the count a filled copy's rows grow by
    (:func:`~xlsx_engine.ooxml.sheetmodel.text_lines`). Kept as it is because the template's row heights are part of
    the template: that count gives 资产管理安全性 two lines and 在职人员控制率 one, so every row of the issued
    bmzt-dept-hunan.xlsx would change (its 版式指纹 would not: it covers formulas, inputs and constants). A name that
    wraps is the exception, sized by that count (:func:`department_layout`)."""
    per_line = max(1, int((width * 7 + 5) * 0.75 / size))
    return max(1, -(-len(text) // per_line))


@functools.lru_cache(maxsize=8)
def department_layout(profile_id: str) -> DeptLayout:
    """Lay out the department workbook for a department profile."""
    p = load_dept_profile(profile_id)
    form = load_form("department")
    L = DeptLayout(form, p)
    L.inputs, L.setters = {}, {}
    last = "I"
    width = dict(zip("ABCDEFGHI", (spec["width"] for spec in form.columns)))

    def inp(ref: str, get, set_, style="input_amount", kind="number", merge=None):
        L.input(ref, style, kind, merge)
        L.inputs[ref] = get
        L.setters[ref] = set_

    def setdict(attr, key):
        return lambda rec, v: getattr(rec, attr).__setitem__(key, v)

    L.label("A1", form.title, "title", f"A1:{last}1")
    L.row_heights[1] = 30
    L.label("A2", "评价年度", "label")
    inp("B2", lambda r: r.year, lambda r, v: setattr(r, "year", v), "input_year", "year")
    L.label("C2", "部门（单位）名称", "label")
    inp("D2", lambda r: r.department, lambda r, v: setattr(r, "department", v), "input_text", "text", "D2:F2")
    L.label("G2", "主管部门", "label")
    inp("H2", lambda r: r.supervisor, lambda r, v: setattr(r, "supervisor", v), "input_text", "text", "H2:I2")
    L.label("A3", "黄色单元格为填报区，其余单元格自动计算并已锁定", "note", "A3:G3")
    L.label("H3", "单位：万元", "label_right", "H3:I3")
    for name, ref in (("年度", "B2"), ("部门名称", "D2"), ("主管部门", "H2")):
        L.name(name, ref)

    r = 4
    L.label(f"A{r}", "一、基础数据表", "section", f"A{r}:{last}{r}")
    # staff
    r += 1
    L.label(f"A{r}", "人员（人）", "header", f"A{r}:A{r + 1}")
    for col, text in zip("BCDEFG", ("行政编制数", "事业编制数", "编制合计", "在职人数", "其他人员", "实有人数合计")):
        L.label(f"{col}{r}", text, "header")
    L.row_heights[r] = 28
    s = r + 1
    for col, key in zip("BCEF", ("行政编制数", "事业编制数", "在职人数", "其他人员")):
        inp(f"{col}{s}", lambda rec, k=key: rec.staff.get(k), setdict("staff", key), "input_number")
    L.formula(f"D{s}", f"=SUM(B{s}:C{s})", lambda res, rec: res.staff_total, "formula_num")
    L.formula(f"G{s}", f"=SUM(E{s}:F{s})", lambda res, rec: res.staff_actual, "formula_num")
    L.name("编制合计", f"D{s}")
    L.name("在职人数", f"E{s}")
    # income and expenditure
    r = s + 2
    L.label(f"A{r}", "收支项目", "header", f"A{r}:B{r}")
    L.label(f"C{r}", "预算数", "header")
    L.label(f"D{r}", "决算数", "header")
    L.label(f"E{r}", "预决算差异率＝(决算数−预算数)/预算数", "header", f"E{r}:F{r}")
    rows: dict[str, int] = {}
    order = list(INCOME) + ["收入合计", "人员经费", "公用经费", "基本支出", "项目支出", "支出合计", "年末结转结余"]
    for k, key in enumerate(order, r + 1):
        rows[key] = k
    for key, row in rows.items():
        label = {"收入合计": "收入合计", "基本支出": "基本支出小计", "支出合计": "支出合计"}.get(key, key)
        indent = key in ("人员经费", "公用经费")
        L.label(f"A{row}", ("　其中：" if key == "人员经费" else "　　　　" if indent else "") + label,
                "label_bold" if key in ("收入合计", "支出合计") else "label_indent", f"A{row}:B{row}")
        for col, attr, tkey in (("C", "budget", "预算"), ("D", "final", "决算")):
            if key in LINES:
                inp(f"{col}{row}", lambda rec, a=attr, k=key: getattr(rec, a).get(k), setdict(attr, key))
            elif key == "收入合计":
                L.formula(f"{col}{row}", f"=SUM({col}{rows['年初结转和结余']}:{col}{rows['其他收入']})",
                          lambda res, rec, t=tkey: res.totals[t]["收入合计"], "formula_amount")
            elif key == "基本支出":
                L.formula(f"{col}{row}", f"=SUM({col}{rows['人员经费']}:{col}{rows['公用经费']})",
                          lambda res, rec, t=tkey: res.totals[t]["基本支出"], "formula_amount")
            else:
                project = f"{col}{rows['项目支出']}"
                L.formula(f"{col}{row}", f"={col}{rows['基本支出']}+{num(project)}",
                          lambda res, rec, t=tkey: res.totals[t]["支出合计"], "formula_amount")
        L.formula(f"E{row}", f"=IF({num(f'C{row}')}>0,({num(f'D{row}')}-C{row})/C{row},{NA_Q})",
                  lambda res, rec, k=key: res.diffs[k], "formula_pct", f"E{row}:F{row}")
    for key in ("收入合计", "支出合计", "基本支出"):
        L.name(f"预算{key}", f"C{rows[key]}")
        L.name(f"决算{key}", f"D{rows[key]}")
    L.name("差异率", f"E{rows['年初结转和结余']}", f"E{rows['年末结转结余']}")
    r = rows["年末结转结余"] + 1
    extra_rows = {}
    for k, (label, attr) in enumerate((("年初预算数（支出）", "initial_budget"), ("预算调整（追加）数", "adjustment"),
                                       ("重点项目支出（决算）", "key_projects"))):
        row = r + k
        extra_rows[attr] = row
        L.label(f"A{row}", label, "label_indent", f"A{row}:B{row}")
        inp(f"C{row}", lambda rec, a=attr: getattr(rec, a), lambda rec, v, a=attr: setattr(rec, a, v))
    # 三公经费
    r = r + 4
    L.label(f"A{r}", "“三公”经费", "header", f"A{r}:B{r}")
    cols = dict(zip(SANGONG_COLS, "CDEF"))
    for c, col in cols.items():
        L.label(f"{col}{r}", c, "header")
    for k, item in enumerate(SANGONG, r + 1):
        L.label(f"A{k}", item, "label_indent", f"A{k}:B{k}")
        for c, col in cols.items():
            inp(f"{col}{k}", lambda rec, i=item, c=c: rec.sangong.get(i, {}).get(c),
                lambda rec, v, i=item, c=c: rec.sangong.setdefault(i, {}).__setitem__(c, v))
    sg_total = r + len(SANGONG) + 1
    L.label(f"A{sg_total}", "合计", "label_bold", f"A{sg_total}:B{sg_total}")
    for c, col in cols.items():
        L.formula(f"{col}{sg_total}", f"=SUM({col}{r + 1}:{col}{sg_total - 1})",
                  lambda res, rec, c=c: res.sangong_totals[c], "formula_amount")
        L.name(f"三公经费{c}", f"{col}{sg_total}")
    # 公用经费明细
    r = sg_total + 2
    L.row_breaks.append(r - 1)     # 基础数据表 prints on two pages, 公用经费明细 on the second
    L.label(f"A{r}", "公用经费明细（决算）", "header", f"A{r}:B{r}")
    L.label(f"C{r}", "金额", "header")
    L.label(f"D{r}", "占明细合计", "header")
    d0 = r + 1
    d_total = d0 + DETAIL_ROWS
    for k in range(DETAIL_ROWS):
        row = d0 + k
        inp(f"A{row}", lambda rec, k=k: rec.detail[k][0],
            lambda rec, v, k=k: rec.detail.__setitem__(k, (v, rec.detail[k][1])), "input_text", "text", f"A{row}:B{row}")
        inp(f"C{row}", lambda rec, k=k: rec.detail[k][1],
            lambda rec, v, k=k: rec.detail.__setitem__(k, (rec.detail[k][0], v)))
        L.formula(f"D{row}", f"=IF(OR(LEN(A{row})>0,LEN(C{row})>0),IF(C${d_total}>0,{num(f'C{row}')}/C${d_total},{NA_Q}),\"\")",
                  lambda res, rec, k=k: res.detail_shares[k], "formula_pct")
    L.label(f"A{d_total}", "合计", "label_bold", f"A{d_total}:B{d_total}")
    L.formula(f"C{d_total}", f"=SUM(C{d0}:C{d_total - 1})", lambda res, rec: res.detail_total, "formula_amount")
    L.name("公用经费明细合计", f"C{d_total}")

    # --- ratios
    r = d_total + 2
    L.row_breaks.append(r - 1)     # each section starts a page
    L.label(f"A{r}", "二、指标计算表", "section", f"A{r}:{last}{r}")
    r += 1
    for col, text, merge in (("A", "指标", f"A{r}:B{r}"), ("C", "计算方法（分子 ÷ 分母）", f"C{r}:E{r}"),
                             ("F", "分子", None), ("G", "分母", None), ("H", "数值", None)):
        L.label(f"{col}{r}", text, "header", merge)
    R = rows
    sg = {c: f"{col}{sg_total}" for c, col in cols.items()}
    base3 = p.bases.get("三公经费变动率", "决算")
    carry = p.bases.get("结转结余率", "支出预算数")
    staff_base = p.bases.get("人员经费占比", "基本支出")
    defs = {
        "预算执行率": ("支出决算合计 ÷ 支出预算合计", f"D{R['支出合计']}", f"C{R['支出合计']}"),
        "预算调整率": ("预算调整（追加）数 ÷ 年初预算数", num(f"C{extra_rows['adjustment']}"),
                  num(f"C{extra_rows['initial_budget']}")),
        "在职人员控制率": ("在职人数 ÷ 编制合计", num(f"E{s}"), f"D{s}"),
        "三公经费变动率": (("(本年决算−上年决算) ÷ 上年决算（按决算口径）", sg["本年决算"], sg["上年决算"])
                    if base3 == "决算" else
                    ("(本年预算−上年预算) ÷ 上年预算（按预算口径）", sg["本年预算"], sg["上年预算"])),
        "三公经费控制率": ("本年决算 ÷ 本年预算", sg["本年决算"], sg["本年预算"]),
        "结转结余率": (f"年末结转结余 ÷ {carry}", num(f"D{R['年末结转结余']}"),
                  f"C{R['支出合计']}" if carry == "支出预算数" else f"D{R['支出合计']}"),
        "公用经费控制率": ("公用经费决算 ÷ 公用经费预算", num(f"D{R['公用经费']}"), num(f"C{R['公用经费']}")),
        "人员经费占比": (f"人员经费决算 ÷ {staff_base}决算", num(f"D{R['人员经费']}"),
                   f"D{R['基本支出']}" if staff_base == "基本支出" else f"D{R['支出合计']}"),
        "基本支出占比": ("基本支出决算 ÷ 支出决算合计", f"D{R['基本支出']}", f"D{R['支出合计']}"),
        "项目支出占比": ("项目支出决算 ÷ 支出决算合计", num(f"D{R['项目支出']}"), f"D{R['支出合计']}"),
        "重点支出安排率": ("重点项目支出 ÷ 项目支出决算", num(f"C{extra_rows['key_projects']}"), num(f"D{R['项目支出']}")),
    }
    ratio_ref: dict[str, str] = {}
    for k, name in enumerate(RATIOS, r + 1):
        text, numer, denom = defs[name]
        L.label(f"A{k}", name, "label_indent", f"A{k}:B{k}")
        L.label(f"C{k}", text, "label_indent", f"C{k}:E{k}")
        L.formula(f"F{k}", f"={numer}", lambda res, rec, n=name: res.parts[n][0], "formula_amount")
        L.formula(f"G{k}", f"={denom}", lambda res, rec, n=name: res.parts[n][1], "formula_amount")
        if name == "三公经费变动率":
            value = f"=IF(G{k}>0,(F{k}-G{k})/G{k},IF(F{k}<=0,0,{NA_Q}))"
        else:
            value = f"=IF(G{k}>0,F{k}/G{k},{NA_Q})"
        L.formula(f"H{k}", value, lambda res, rec, n=name: res.ratios[n], "formula_pct")
        L.name(f"比率_{name}", f"H{k}")
        ratio_ref[name] = f"H{k}"

    # --- indicator table: a score shows once its deciding input is entered (model.dept_decided)
    final_entered = "COUNT(" + ",".join(f"D{rows[k]}" for k in LINES) + ")>0"
    r = r + len(RATIOS) + 2
    L.row_breaks.append(r - 1)
    s3 = r
    L.label(f"A{r}", f"三、整体自评表（{fx.n(p.total)}分）", "section", f"A{r}:{last}{r}")
    r += 1
    for col, text in zip("ABCDEFGHI", ("一级指标", "二级指标", "三级指标", "分值", "评价标准", "指标值", "评审评分",
                                       "得分", "扣分原因")):
        L.label(f"{col}{r}", text, "header")
    L.row_heights[r] = 28
    L.header_rows = (r, r)
    L.freeze = "A4"
    i0 = r + 1
    manual_cells = []
    for k, ind in enumerate(p.indicators):
        row = i0 + k
        lines = max(label_lines(ind.standard, width["E"], 9), label_lines(ind.name, width["C"], 10))
        # a name that wraps (社会公众或服务对象满意度) needs its lines of 10 pt by the one count of printed lines: the
        # template's estimate gave it 26 pt, half a line short of what LibreOffice prints (tests/test_print.py)
        name_lines = text_lines(ind.name, width["C"])
        L.row_heights[row] = max(18, 4 + 11 * lines, text_height(name_lines) if name_lines > 1 else 0)
        L.label(f"A{row}", ind.level1, "label")
        L.label(f"B{row}", ind.level2, "label")
        L.label(f"C{row}", ind.name, "label_indent_wrap")   # the row is as tall as its lines (社会公众或服务对象满意度: 2)
        L.const(f"D{row}", ind.weight)
        L.label(f"E{row}", ind.standard, "note")
        if ind.rule is None:
            L.label(f"F{row}", "—", "label_center")
            inp(f"G{row}", lambda rec, n=ind.name: rec.scores.get(n),
                lambda rec, v, n=ind.name: rec.scores.__setitem__(n, v), "input_number")
            L.formula(f"H{row}", f"=IF(ISNUMBER(G{row}),MIN(MAX(G{row},0),D{row}),\"\")",
                      lambda res, rec, k=k: res.shown_scores[k])
            manual_cells.append(f"G{row}")
            L.validations.append(Validation(f"G{row}", "decimal", "0", fx.n(ind.weight), "between", "评审评分",
                                            f"评分应为 0 到 {fx.n(ind.weight)} 之间的数字"))
        else:
            L.formula(f"F{row}", f"={ratio_ref[ind.ratio]}", lambda res, rec, n=ind.ratio: res.ratios[n], "formula_pct")
            L.label(f"G{row}", "—", "label_center")
            L.formula(f"H{row}", f"=IF({final_entered},{ind.rule.formula(f'F{row}', f'D{row}', p.digits)},\"\")",
                      lambda res, rec, k=k: res.shown_scores[k])
        inp(f"I{row}", lambda rec, n=ind.name: rec.reasons.get(n),
            lambda rec, v, n=ind.name: rec.reasons.__setitem__(n, v), "input_text", "text")
    i1 = i0 + len(p.indicators) - 1
    # 一级/二级指标 merged over their rows, as on the printed form
    for col, key in (("A", lambda i: (i.level1,)), ("B", lambda i: (i.level1, i.level2))):
        for _, run in itertools.groupby(enumerate(p.indicators), key=lambda k_i: key(k_i[1])):
            group = [i0 + k for k, _ in run]
            if len(group) > 1:
                L.merges.append(f"{col}{group[0]}:{col}{group[-1]}")
                for row in group[1:]:          # a merged range shows (and keeps) its first cell only
                    del L.cells[f"{col}{row}"]
    for name, col in (("整体_三级指标", "C"), ("整体_分值", "D"), ("整体_评审评分", "G"), ("整体_得分", "H"),
                      ("整体_扣分原因", "I")):
        L.name(name, f"{col}{i0}", f"{col}{i1}")
    t = i1 + 1
    L.label(f"A{t}", "总分", "label_bold", f"A{t}:C{t}")
    L.formula(f"D{t}", f"=SUM(D{i0}:D{i1})", lambda res, rec: float(sum(i.weight for i in p.indicators)), "formula_bold")
    L.label(f"E{t}", "", "label", f"E{t}:G{t}")
    L.formula(f"H{t}", f"=IF(COUNT(H{i0}:H{i1})<{len(p.indicators)},{fx.q(PENDING)},ROUND(SUM(H{i0}:H{i1}),{p.digits}))",
              lambda res, rec: res.total, "formula_total")
    L.label(f"I{t}", "", "label")
    L.name("总分", f"H{t}")
    g = t + 1
    L.label(f"A{g}", "评价等次", "label_bold", f"A{g}:G{g}")
    L.formula(f"H{g}", f"=IF(ISNUMBER(H{t}),{fx.grade_formula(f'H{t}', p.grades)[1:]},{fx.q(PENDING)})",
              lambda res, rec: res.grade, "formula_total")
    L.label(f"I{g}", "；".join(f"{x.label}≥{fx.n(x.min)}" for x in p.grades[:-1]), "note")
    L.name("评价等次", f"H{g}")
    # the 整体自评表 prints whole on its page; the checks and rules below it are for the screen
    L.print_last_row = g
    L.one_page_rows = list(range(s3, g + 1))

    # --- checks
    v = g + 2
    D = rows
    carry_over, public = num(f"D{D['年末结转结余']}"), num(f"D{D['公用经费']}")
    gap = f"ROUND(D{D['收入合计']}-D{D['支出合计']}-{carry_over},2)"
    zero = "+".join(f"({num(f'C{D[k]}')}<=0)*({num(f'D{D[k]}')}>0)" for k in LINES)
    pending = "+".join(f"(1-ISNUMBER({c}))" for c in manual_cells) or "0"
    used = list(dict.fromkeys(i.ratio for i in p.indicators if i.rule))
    na = "&".join(f"IF(ISNUMBER({ratio_ref[n]}),\"\",{fx.q(n + '、')})" for n in used) or '""'
    checks = [
        f"=IF({gap}<>0,{fx.q('决算收入合计减支出合计与年末结转结余相差')}&{gap}&{fx.q('万元，请核对收支数据；')},\"\")",
        f"=IF(OR(ROUND(C{d_total}-{public},2)=0,C{d_total}=0),\"\",{fx.q('公用经费明细合计')}&ROUND(C{d_total},2)"
        f"&{fx.q('万元与决算公用经费')}&ROUND({public},2)&{fx.q('万元不一致；')})",
        f"=IF(({zero})>0,{fx.q('有')}&({zero})&{fx.q('项预算数为0而决算数不为0，其差异率无法计算（不是100%），请在说明中解释；')},\"\")",
        f"=IF(({pending})>0,{fx.q('有')}&({pending})&{fx.q('项指标尚待评审评分；')},\"\")",
        f"=IF(OR(LEN({na})=0,NOT({final_entered})),\"\",LEFT({na},LEN({na})-1)"
        f"&{fx.q('的分母为0，无法计算，相应指标按0分计，请核实；')})",
    ]
    c1 = L.self_check_block(v, checks, last)
    n0 = c1 + 2
    notes = [rules_heading(p.name, p.source),
             "1. 比率的分母为0时显示“—”（无法计算），不显示为100%；三公经费上年、本年均为0时变动率按0计。",
             "2. 比率指标按“评价标准”列的规则由公式计分；其余指标由评审人在“评审评分”列打分。",
             "3. 评价等次：" + "；".join(f"{x.label}≥{fx.n(x.min)}分" for x in p.grades[:-1])
             + f"；低于{fx.n(p.grades[-2].min)}分为{p.grades[-1].label}。"]
    for k, text in enumerate(notes):
        L.label(f"A{n0 + k}", text, "note", f"A{n0 + k}:{last}{n0 + k}")
    L.last_row = n0 + len(notes) - 1
    add_report_info(L, L.last_row + 2, last, DEPARTMENT_FIELDS)
    L.identity_cells()
    return L

