"""Layout of the 湖南财政支出项目绩效评价自评报告 (form ``hnxm``), with a Python twin for every formula.

One locked sheet in the order of seed 000: cover (评价类型 dropdown, 项目名称, 项目单位, 主管部门,
评价方式, 评价机构, 报告日期, "XX财政局（制）"), 一、项目基本概况 (负责人 … 起止时间; 计划安排 /
实际到位 / 实际支出 / 结余 by source with totals, rates), 二、项目支出明细 (支出合计 checked against
实际支出合计), 三、项目绩效自评情况 (定性目标, 定量指标 with a 提示 column, 综合得分 entered by the
unit, 评价等次 from the profile's cut-points), 四、评价人员, 五、评价报告综述 (text areas the
narrative layer fills), then 校验结论/校验提示 and the rules in words.

It is a :class:`~xlsx_engine.ooxml.sheetmodel.SheetLayout`, so the same builder renders it and the same filler
patches it; :func:`hunan_evaluate` is the Python twin the filler writes as cached values and the
LibreOffice test compares with a real recalculation, cell by cell.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable

from xlsx_engine.forms.hunan.model import (
    HnEvaluator,
    HnExpense,
    HnFund,
    HnGoal,
    HnIndicator,
    HunanProfile,
    HunanProjectRecord,
    RowCounts,
    load_hunan_profile,
)
from xlsx_engine.kernel import excel as fx
from xlsx_engine.kernel.excel import NA, nonblank, num, ssum, verdict
from xlsx_engine.kernel.phrases import cell_text
from xlsx_engine.kernel.resources import load_yaml
from xlsx_engine.kernel.xlmath import is_number, xnum, xround, xtext
from xlsx_engine.ooxml.sheetmodel import FORMS_DIR, Validation, load_form, rules_heading
from xlsx_engine.ooxml.sheetmodel import SheetLayout as Layout

NA_Q = fx.q(NA)
num_f = fx.num_formula
PENDING = "待填报"  #: 评价等次 until the 综合得分 is entered

MSG = {
    "no_name": "缺指标内容；",
    "no_level1": "缺一级指标；",
    "bad_level1": "一级指标应从下拉列表选择；",
    "no_level2": "缺二级指标；",
    "bad_level2": "二级指标不属于该一级指标；",
    "no_target": "缺指标（目标）值；",
    "no_actual": "缺实际完成值；",
    "actual_is_target": "实际完成值写成了指标值（如“≥95%”），请填写实际完成数；",
}
NOTE_NO_SCORES = ("说明：本表没有各指标的分值和得分栏，“绩效自评综合得分”由单位按评分办法填写。本表只能记录综合得分，"
                  "并按等次标准由综合得分确定评价等次，无法由各指标推算或核对得分；综合得分低于满分时请在“得分说明”中写明扣分原因。")


def sat_message(p: HunanProfile) -> str:
    return f"满意度指标应单列为一级指标“{p.satisfaction_level1}”；"


# ----------------------------------------------------------------------------- Python twins

def _member(value: Any, values) -> bool:
    """``SUMPRODUCT(--(list=cell))>0``: a text cell equal to one of the list's texts."""
    return isinstance(value, str) and value != "" and value in values


def _target_like(value: Any) -> bool:
    """``OR(ISNUMBER(FIND(c, cell)) …)`` over the target characters (≥ ≤ < > = …)."""
    text = cell_text(value)
    return any(ch in text for ch in fx.TARGET_CHARS)


def indicator_active(ind: HnIndicator) -> bool:
    return any(nonblank(v) for v in (ind.level1, ind.level2, ind.name, ind.target, ind.actual))


def satisfaction_misfiled(ind: HnIndicator, p: HunanProfile) -> bool:
    """A 满意度 level-2 under another (valid) level-1 — seed 000 files it under 项目效益指标."""
    return _member(ind.level1, p.other_level1) and _member(ind.level2, p.satisfaction_level2)


def row_message(ind: HnIndicator, p: HunanProfile, started: bool = True) -> str:
    """The 提示 of one 定量指标 row (twin of :func:`row_message_formula`).

    "缺实际完成值" appears once the unit has typed some 实际完成值 (``started``): an issued form is quiet.
    """
    if not indicator_active(ind):
        return ""
    out = MSG["no_name"] if not nonblank(ind.name) else ""
    if not nonblank(ind.level1):
        out += MSG["no_level1"]
    elif not _member(ind.level1, p.level1_names):
        out += MSG["bad_level1"]
    elif not nonblank(ind.level2):
        out += MSG["no_level2"]
    elif f"{cell_text(ind.level1)}·{cell_text(ind.level2)}" in p.level_pairs:
        pass
    elif p.satisfaction_level2 and _member(ind.level2, p.satisfaction_level2):
        out += sat_message(p)
    else:
        out += MSG["bad_level2"]
    if not nonblank(ind.target):
        out += MSG["no_target"]
    if not nonblank(ind.actual):
        out += MSG["no_actual"] if started else ""
    elif _target_like(ind.actual):
        out += MSG["actual_is_target"]
    return out


def type_display(value: Any, p: HunanProfile) -> str:
    """评价类型 as the printed form shows it: ☑ before the chosen box, □ before the others."""
    return "　".join(("☑" if isinstance(value, str) and value == t else "□") + t for t in p.eval_types)


def grade_of(score: Any, p: HunanProfile) -> str:
    if is_number(score) and 0 <= score <= p.total:
        return p.grade_for(score)
    return NA if is_number(score) else PENDING


def _ratio(numer: Any, denom: Any) -> float | str:
    """A source row's rate: "" until both figures are numbers, NA when the denominator is not positive."""
    if not (is_number(numer) and is_number(denom)):
        return ""
    d = num(denom)
    return num(numer) / d if d > 0 else NA


def _total_ratio(numers: list, denoms: list, numer: float, denom: float) -> float | str:
    """A total rate: "" until some numerator and some denominator are entered."""
    if not (any(is_number(v) for v in numers) and any(is_number(v) for v in denoms)):
        return ""
    return numer / denom if denom > 0 else NA


@dataclass
class HunanResult:
    """Every computed figure of the Hunan project form (values of its formula cells)."""

    type_display: str
    plan: float                       #: 计划安排资金合计
    arrived: float                    #: 实际到位资金合计
    spent: float                      #: 实际支出合计
    balance: float                    #: 结余合计 = 实际到位 − 实际支出
    arrival_rate: float | str         #: 实际到位 ÷ 计划安排
    spend_rate: float | str           #: 实际支出 ÷ 实际到位
    balances: list[float]
    arrival_rates: list[float | str]
    spend_rates: list[float | str]
    expense_total: float              #: 支出合计 (Σ 支出明细)
    expense_status: str
    row_messages: list[str]
    score: float | None               #: 综合得分 as entered (None when missing or not a number)
    grade: str
    checks: list[str]

    @property
    def problems(self) -> list[str]:
        return [c for c in self.checks if c]

    @property
    def verdict(self) -> str:
        return verdict(self.checks)

    @property
    def total(self) -> float | None:
        """The 综合得分 (what ``jxzp fill`` prints as 总分)."""
        return self.score


def expense_status(expense_total: float, spent: float) -> str:
    diff = xround(expense_total - spent, 2)
    if diff == 0:
        return "与实际支出合计一致"
    return f"与实际支出合计{xtext(xround(spent, 2))}万元不一致，相差{xtext(diff)}万元"


def check_texts(rec: HunanProjectRecord, p: HunanProfile, r: dict) -> list[str]:
    """The 校验提示 cells, in order (twins of the formulas built in :func:`hunan_layout`)."""
    out = []
    if not nonblank(rec.eval_type):
        out.append("评价类型未勾选（应选择" + "或".join(p.eval_types) + "）；")
    elif not _member(rec.eval_type, p.eval_types):
        out.append("评价类型应从下拉列表选择；")
    else:
        out.append("")
    missing = "".join(f"{label}、" for label, v in (("项目名称", rec.project), ("项目单位", rec.unit),
                                                   ("主管部门", rec.department)) if not nonblank(v))
    out.append(f"{missing[:-1]}未填写；" if missing else "")
    over = xround(r["spent"] - r["arrived"], 2)
    out.append(f"实际支出合计{xtext(xround(r['spent'], 2))}万元大于实际到位资金合计{xtext(xround(r['arrived'], 2))}万元；"
               if over > 0 else "")
    k = sum(1 for f in rec.funds if xround(num(f.spent) - num(f.arrived), 2) > 0)
    out.append(f"有{k}个资金来源实际支出大于实际到位资金；" if k else "")
    diff = xround(r["expense_total"] - r["spent"], 2)
    out.append("" if diff == 0 else
               f"支出明细合计{xtext(xround(r['expense_total'], 2))}万元≠实际支出合计{xtext(xround(r['spent'], 2))}万元，"
               f"相差{xtext(diff)}万元；")
    s = rec.score
    if not nonblank(s):
        out.append("绩效自评综合得分缺失；")
    elif not is_number(s):
        out.append("绩效自评综合得分应为数字；")
    elif s < 0 or s > p.total:
        out.append(f"绩效自评综合得分{xtext(s)}超出0–{xtext(p.total)}的范围；")
    else:
        out.append("")
    out.append(f"综合得分{xtext(s)}分低于满分{xtext(p.total)}分，未填写得分说明（本表无分值/得分栏，扣分无法由指标推算）；"
               if is_number(s) and not nonblank(rec.score_note) and 0 <= s < p.total else "")
    active = [i for i in rec.indicators if indicator_active(i)]
    out.append("" if active else "未填写定量指标；")
    n = sum(1 for i in active if not nonblank(i.target))
    out.append(f"有{n}项定量指标缺指标（目标）值；" if n else "")
    n = sum(1 for i in active if not nonblank(i.actual))
    out.append(f"有{n}项定量指标缺实际完成值；" if n else "")
    if p.satisfaction_level2:
        n = sum(1 for i in rec.indicators if satisfaction_misfiled(i, p))
        out.append(f"有{n}项服务对象满意度指标列在“{'”或“'.join(p.other_level1)}”下，"
                   f"应单列为一级指标“{p.satisfaction_level1}”；" if n else "")
    goals = [g for g in rec.goals if nonblank(g.expected)]
    missing_actual = sum(1 for g in goals if not nonblank(g.actual))
    out.append("未填写项目绩效定性目标；" if not goals else
               f"有{missing_actual}项定性目标未填写实际完成情况；" if missing_actual else "")
    rows = sum(1 for m in r["row_messages"] if m)
    out.append(f"有{rows}行定量指标存在问题，见“提示”列；" if rows else "")
    return out


def hunan_evaluate(rec: HunanProjectRecord, p: HunanProfile) -> HunanResult:
    """Compute every formula cell of the form from a (padded) record."""
    plan, arrived, spent = (ssum(getattr(f, a) for f in rec.funds) for a in ("plan", "arrived", "spent"))
    expense_total = ssum(e.amount for e in rec.expenses)
    started = any(nonblank(i.actual) for i in rec.indicators)
    messages = [row_message(i, p, started) for i in rec.indicators]
    r = {"spent": spent, "arrived": arrived, "expense_total": expense_total, "row_messages": messages}
    checks = check_texts(rec, p, r)
    return HunanResult(
        type_display=type_display(rec.eval_type, p), plan=plan, arrived=arrived, spent=spent,
        balance=arrived - spent,
        arrival_rate=_total_ratio([f.arrived for f in rec.funds], [f.plan for f in rec.funds], arrived, plan),
        spend_rate=_total_ratio([f.spent for f in rec.funds], [f.arrived for f in rec.funds], spent, arrived),
        balances=[num(f.arrived) - num(f.spent) for f in rec.funds],
        arrival_rates=[_ratio(f.arrived, f.plan) for f in rec.funds],
        spend_rates=[_ratio(f.spent, f.arrived) for f in rec.funds],
        expense_total=expense_total, expense_status=expense_status(expense_total, spent),
        row_messages=messages, score=float(rec.score) if is_number(rec.score) else None,
        grade=grade_of(rec.score, p), checks=checks)


# ----------------------------------------------------------------------------- the layout

class HunanLayout(Layout):
    """A layout whose record is a :class:`HunanProjectRecord` and whose result is a :class:`HunanResult`."""

    inputs: dict[str, Callable[[HunanProjectRecord], Any]]
    setters: dict[str, Callable[[HunanProjectRecord, Any], None]]
    row_counts: RowCounts
    summary_cells: dict[str, str]

    def input_values(self, record: HunanProjectRecord) -> dict[str, Any]:
        return {ref: get(record) for ref, get in self.inputs.items()}

    def padded(self, record: HunanProjectRecord) -> HunanProjectRecord:
        """The record as the template sees it: lists padded to the rows, numbers to 15 significant digits."""
        rec = HunanProjectRecord(**{k: getattr(record, k) for k in record.__dataclass_fields__})
        for k in ("eval_type", "year", "project", "unit", "department", "eval_method", "eval_agency", "report_date",
                  "bureau", "leader", "phone", "address", "postcode", "start", "end", "score", "score_note", "filler",
                  "filler_phone"):
            setattr(rec, k, xnum(getattr(record, k)))
        given = {f.source: f for f in record.funds}
        rec.funds = [HnFund(s, *(xnum(getattr(given[s], a)) for a in ("plan", "arrived", "spent")))
                     if s in given else HnFund(s) for s in self.profile.fund_sources]
        n = self.row_counts

        def pad(items, cls, count):
            rows = [cls(**{k: xnum(getattr(x, k)) for k in cls.__dataclass_fields__}) for x in items[:count]]
            return rows + [cls() for _ in range(count - len(rows))]
        rec.expenses = pad(record.expenses, HnExpense, n.expenses)
        rec.goals = pad(record.goals, HnGoal, n.goals)
        rec.indicators = pad(record.indicators, HnIndicator, n.indicators)
        rec.evaluators = pad(record.evaluators, HnEvaluator, n.evaluators)
        rec.summary = {s: xnum(record.summary.get(s)) for s in n.sections}
        return rec

    def evaluate(self, record: HunanProjectRecord) -> tuple[HunanProjectRecord, HunanResult]:
        rec = self.padded(record)
        return rec, hunan_evaluate(rec, self.profile)

    def record_from_cells(self, get: Callable[[str], Any]) -> HunanProjectRecord:
        """Rebuild a record from cell values (``get(ref)`` returns a cell's value or None)."""
        n = self.row_counts
        rec = HunanProjectRecord(self.profile.id)
        rec.funds = [HnFund(s) for s in self.profile.fund_sources]
        rec.expenses = [HnExpense() for _ in range(n.expenses)]
        rec.goals = [HnGoal() for _ in range(n.goals)]
        rec.indicators = [HnIndicator() for _ in range(n.indicators)]
        rec.evaluators = [HnEvaluator() for _ in range(n.evaluators)]
        for ref, setter in self.setters.items():
            setter(rec, get(ref))
        return rec


def _spec_counts() -> tuple[RowCounts, dict[str, float]]:
    raw = load_yaml((FORMS_DIR / "hunan-project.yaml").read_text(encoding="utf-8"))
    sections = raw.get("summary_sections", [])
    counts = RowCounts(int(raw["indicator_rows"]), int(raw["goal_rows"]), int(raw["expense_rows"]),
                       int(raw["evaluator_rows"]), tuple(str(s["name"]) for s in sections))
    return counts, {str(s["name"]): float(s.get("height", 120)) for s in sections}


def _list_formula(name: str, ref: str) -> str:
    return f"SUMPRODUCT(--({name}={ref}))"


@functools.lru_cache(maxsize=8)
def hunan_layout(profile_id: str) -> HunanLayout:
    """Lay out the Hunan project report form for a profile.

    Raises:
        ProfileError: the profile cannot be loaded.
    """
    p = load_hunan_profile(profile_id)
    form = load_form("hunan-project")
    counts, heights = _spec_counts()
    L = HunanLayout(form, p)
    L.inputs, L.setters, L.row_counts, L.summary_cells = {}, {}, counts, {}
    last = "H"

    def inp(ref: str, get, set_, style="input_text", kind="text", merge=None, name=None):
        L.input(ref, style, kind, merge)
        L.inputs[ref] = get
        L.setters[ref] = set_
        if name:
            L.name(name, ref)

    def attr(a: str):
        return (lambda rec: getattr(rec, a)), (lambda rec, v: setattr(rec, a, v))

    def item(lst: str, i: int, a: str):
        return (lambda rec: getattr(getattr(rec, lst)[i], a)), (lambda rec, v: setattr(getattr(rec, lst)[i], a, v))

    # --- cover
    L.label("A1", form.title, "title", f"A1:{last}1")
    L.row_heights[1] = 32
    L.label("A2", "黄色单元格为填报区，其余单元格自动计算并已锁定；评价报告综述可由 jxzp 根据本表数据生成", "note", "A2:F2")
    L.label("G2", "单位：万元", "label_right", f"G2:{last}2")
    L.label("A3", "评价类型", "label")
    inp("B3", *attr("eval_type"), "input_center", merge="B3:C3", name="评价类型")
    L.formula("D3", "=" + "&\"　\"&".join(f"IF(B3={fx.q(t)},\"☑\",\"□\")&{fx.q(t)}" for t in p.eval_types),
              lambda res, rec: res.type_display, "formula_bold", f"D3:{last}3")
    L.name("评价类型勾选", "D3")
    L.label("A4", "项目名称", "label")
    inp("B4", *attr("project"), merge="B4:E4", name="项目名称")
    L.label("F4", "评价年度", "label")
    inp("G4", *attr("year"), "input_year", "year", merge=f"G4:{last}4", name="年度")
    L.label("A5", "项目单位", "label")
    inp("B5", *attr("unit"), merge="B5:E5", name="项目单位")
    L.label("F5", "主管部门", "label")
    inp("G5", *attr("department"), merge=f"G5:{last}5", name="主管部门")
    L.label("A6", "评价方式", "label")
    inp("B6", *attr("eval_method"), merge="B6:E6", name="评价方式")
    L.label("F6", "评价机构", "label")
    inp("G6", *attr("eval_agency"), merge=f"G6:{last}6", name="评价机构")
    L.label("A7", "报告日期", "label")
    inp("B7", *attr("report_date"), "input_center", merge="B7:C7", name="报告日期")
    L.label("D7", "制表单位", "label")
    inp("E7", *attr("bureau"), "input_center", merge="E7:G7", name="制表单位")
    L.label("H7", "（制）", "label")
    for row in range(3, 8):
        L.row_heights[row] = 22

    # --- 一、项目基本概况
    L.label("A8", "一、项目基本概况", "section", f"A8:{last}8")
    L.label("A9", "项目负责人", "label")
    inp("B9", *attr("leader"), "input_center", merge="B9:C9", name="项目负责人")
    L.label("D9", "联系电话", "label")
    inp("E9", *attr("phone"), "input_center", merge="E9:F9", name="联系电话")
    L.label("G9", "邮编", "label")
    inp("H9", *attr("postcode"), "input_center", name="邮编")
    L.label("A10", "项目地址", "label")
    inp("B10", *attr("address"), merge=f"B10:{last}10", name="项目地址")
    L.label("A11", "项目起止时间", "label")
    inp("B11", *attr("start"), "input_center", merge="B11:C11", name="开始时间")
    L.label("D11", "起至", "label")
    inp("E11", *attr("end"), "input_center", merge="E11:F11", name="结束时间")
    L.label("G11", "止", "label")
    L.label("H11", "", "label")
    h = 12
    L.label(f"A{h}", "资金来源", "header", f"A{h}:B{h}")
    for col, text in zip("CDEFGH", ("计划安排资金", "实际到位资金", "实际支出", "结余（实际到位−实际支出）",
                                    "资金到位率（实际到位÷计划安排）", "支出率（实际支出÷实际到位）")):
        L.label(f"{col}{h}", text, "header")
    L.row_heights[h] = 30
    t = h + 1
    rows = list(range(t + 1, t + 1 + len(p.fund_sources)))
    f0, f1 = rows[0], rows[-1]
    L.label(f"A{t}", "合计", "label_bold", f"A{t}:B{t}")
    for col, key in zip("CDE", ("plan", "arrived", "spent")):
        L.formula(f"{col}{t}", f"=SUM({col}{f0}:{col}{f1})", lambda res, rec, k=key: getattr(res, k),
                  "formula_amount")
    L.formula(f"F{t}", f"=D{t}-E{t}", lambda res, rec: res.balance, "formula_amount")
    def entered(a: str, b: str) -> str:
        return f"AND(COUNT({a}{f0}:{a}{f1})>0,COUNT({b}{f0}:{b}{f1})>0)"
    L.formula(f"G{t}", f"=IF({entered('D', 'C')},IF(C{t}>0,D{t}/C{t},{NA_Q}),\"\")", lambda res, rec: res.arrival_rate,
              "formula_pct")
    L.formula(f"H{t}", f"=IF({entered('E', 'D')},IF(D{t}>0,E{t}/D{t},{NA_Q}),\"\")", lambda res, rec: res.spend_rate,
              "formula_pct")
    for name, col in (("计划安排资金", "C"), ("实际到位资金", "D"), ("实际支出", "E"), ("结余", "F"),
                      ("资金到位率", "G"), ("支出率", "H")):
        L.name(name, f"{col}{t}")
    for k, (row, src) in enumerate(zip(rows, p.fund_sources)):
        L.label(f"A{row}", ("其中：" if k == 0 else "") + src, "label_indent", f"A{row}:B{row}")
        for col, a in zip("CDE", ("plan", "arrived", "spent")):
            inp(f"{col}{row}", *item("funds", k, a), "input_amount", "number")
        L.formula(f"F{row}", f"={fx.num_formula(f'D{row}')}-{fx.num_formula(f'E{row}')}", lambda res, rec, k=k: res.balances[k], "formula_amount")
        L.formula(f"G{row}", f"=IF(COUNT(C{row},D{row})<2,\"\",IF(C{row}>0,D{row}/C{row},{NA_Q}))", lambda res, rec, k=k: res.arrival_rates[k],
                  "formula_pct")
        L.formula(f"H{row}", f"=IF(COUNT(D{row},E{row})<2,\"\",IF(D{row}>0,E{row}/D{row},{NA_Q}))", lambda res, rec, k=k: res.spend_rates[k],
                  "formula_pct")
    for name, col in (("资金来源", "A"), ("来源计划安排资金", "C"), ("来源实际到位资金", "D"), ("来源实际支出", "E"),
                      ("来源结余", "F")):
        L.name(name, f"{col}{f0}", f"{col}{f1}")

    # --- 二、项目支出明细情况
    s = f1 + 1
    L.label(f"A{s}", "二、项目支出明细情况", "section", f"A{s}:{last}{s}")
    hh = s + 1
    L.label(f"A{hh}", "支出内容", "header", f"A{hh}:C{hh}")
    L.label(f"D{hh}", "实际支出数", "header")
    L.label(f"E{hh}", "会计凭证号", "header", f"E{hh}:F{hh}")
    L.label(f"G{hh}", "备注", "header", f"G{hh}:{last}{hh}")
    e_rows = list(range(hh + 1, hh + 1 + counts.expenses))
    e0, e1 = e_rows[0], e_rows[-1]
    for k, row in enumerate(e_rows):
        inp(f"A{row}", *item("expenses", k, "item"), merge=f"A{row}:C{row}")
        inp(f"D{row}", *item("expenses", k, "amount"), "input_amount", "number")
        inp(f"E{row}", *item("expenses", k, "voucher"), "input_center", merge=f"E{row}:F{row}")
        inp(f"G{row}", *item("expenses", k, "note"), merge=f"G{row}:{last}{row}")
    et = e1 + 1
    L.label(f"A{et}", "支出合计", "label_bold", f"A{et}:C{et}")
    L.formula(f"D{et}", f"=SUM(D{e0}:D{e1})", lambda res, rec: res.expense_total, "formula_amount")
    L.formula(f"E{et}", f"=IF(ROUND(D{et}-E{t},2)=0,{fx.q('与实际支出合计一致')},{fx.q('与实际支出合计')}&ROUND(E{t},2)"
                        f"&{fx.q('万元不一致，相差')}&ROUND(D{et}-E{t},2)&{fx.q('万元')})",
              lambda res, rec: res.expense_status, "warn", f"E{et}:{last}{et}")
    for name, col in (("支出内容", "A"), ("实际支出数", "D"), ("会计凭证号", "E"), ("备注", "G")):
        L.name(name, f"{col}{e0}", f"{col}{e1}")
    L.name("支出合计", f"D{et}")
    L.name("支出合计核对", f"E{et}")

    # --- 三、项目绩效自评情况
    s = et + 1
    L.row_breaks.append(et)        # 三 starts a page
    L.label(f"A{s}", "三、项目绩效自评情况", "section", f"A{s}:{last}{s}")
    gh = s + 1
    g_rows = list(range(gh + 1, gh + 1 + counts.goals))
    g0, g1 = g_rows[0], g_rows[-1]
    L.label(f"A{gh}", "项目绩效定性目标及实施计划完成情况", "label_bold", f"A{gh}:B{g1}")
    L.label(f"C{gh}", "预期目标", "header", f"C{gh}:E{gh}")
    L.label(f"F{gh}", "实际完成", "header", f"F{gh}:{last}{gh}")
    for k, row in enumerate(g_rows):
        L.row_heights[row] = 45
        inp(f"C{row}", *item("goals", k, "expected"), merge=f"C{row}:E{row}")
        inp(f"F{row}", *item("goals", k, "actual"), merge=f"F{row}:{last}{row}")
    L.name("预期目标", f"C{g0}", f"C{g1}")
    L.name("实际完成", f"F{g0}", f"F{g1}")
    q0 = g1 + 1
    L.row_breaks.append(g1)        # the 定量指标 table prints whole on one page: no header to repeat
    L.label(f"A{q0}", "项目绩效定量目标（指标）及完成情况", "header", f"A{q0}:{last}{q0}")
    qh = q0 + 1
    for col, text, merge in (("A", "一级指标", None), ("B", "二级指标", None), ("C", "指标内容", f"C{qh}:D{qh}"),
                             ("E", "指标（目标）值", None), ("F", "实际完成值", None),
                             ("G", "提示（自动）", f"G{qh}:{last}{qh}")):
        L.label(f"{col}{qh}", text, "header", merge)
    L.header_rows = None
    i_rows = list(range(qh + 1, qh + 1 + counts.indicators))
    i0, i1 = i_rows[0], i_rows[-1]
    lists = {"level1": "列表_一级指标", "pairs": "列表_指标对应", "sat": "列表_满意度二级", "types": "列表_评价类型"}
    for k, row in enumerate(i_rows):
        L.row_heights[row] = 24
        inp(f"A{row}", *item("indicators", k, "level1"), "input_center")
        inp(f"B{row}", *item("indicators", k, "level2"), "input_center")
        inp(f"C{row}", *item("indicators", k, "name"), merge=f"C{row}:D{row}")
        inp(f"E{row}", *item("indicators", k, "target"), "input_center")
        inp(f"F{row}", *item("indicators", k, "actual"), "input_center")
        L.formula(f"G{row}", row_message_formula(row, p, lists, f"COUNTA($F${i_rows[0]}:$F${i_rows[-1]})>0"), lambda res, rec, k=k: res.row_messages[k], "warn",
                  f"G{row}:{last}{row}")
    for name, col in (("一级指标", "A"), ("二级指标", "B"), ("指标内容", "C"), ("指标值", "E"), ("实际完成值", "F"),
                      ("指标提示", "G")):
        L.name(name, f"{col}{i0}", f"{col}{i1}")
    sc = i1 + 1
    L.label(f"A{sc}", "绩效自评综合得分", "label_bold", f"A{sc}:B{sc}")
    inp(f"C{sc}", *attr("score"), "input_number", "number", name="综合得分")
    L.label(f"D{sc}", "得分说明（扣分原因）", "label")
    inp(f"E{sc}", *attr("score_note"), merge=f"E{sc}:{last}{sc}", name="得分说明")
    L.row_heights[sc] = 30
    gr = sc + 1
    L.label(f"A{gr}", "评价等次", "label_bold", f"A{gr}:B{gr}")
    grade_expr = fx.grade_formula(f"C{sc}", p.grades)[1:]
    L.formula(f"C{gr}", f"=IF(ISNUMBER(C{sc}),IF(AND(C{sc}>=0,C{sc}<={fx.n(p.total)}),{grade_expr},{NA_Q}),{fx.q(PENDING)})",
              lambda res, rec: res.grade, "formula_total")
    L.name("评价等次", f"C{gr}")
    L.label(f"D{gr}", "等次标准：" + "；".join(f"{g.label}≥{fx.n(g.min)}分" for g in p.grades[:-1])
            + f"；低于{fx.n(p.grades[-2].min)}分为{p.grades[-1].label}（由综合得分自动确定）", "note", f"D{gr}:{last}{gr}")
    nt = gr + 1
    L.label(f"A{nt}", NOTE_NO_SCORES, "note", f"A{nt}:{last}{nt}")
    L.row_heights[nt] = 30
    L.one_page_rows = list(range(q0, nt + 1))

    # --- 四、评价人员
    s = nt + 1
    L.label(f"A{s}", "四、评价人员", "section", f"A{s}:{last}{s}")
    ph = s + 1
    for col, text, merge in (("A", "姓名", f"A{ph}:B{ph}"), ("C", "职称/职务", f"C{ph}:D{ph}"),
                             ("E", "单位", f"E{ph}:F{ph}"), ("G", "签字", f"G{ph}:{last}{ph}")):
        L.label(f"{col}{ph}", text, "header", merge)
    p_rows = list(range(ph + 1, ph + 1 + counts.evaluators))
    for k, row in enumerate(p_rows):
        inp(f"A{row}", *item("evaluators", k, "name"), "input_center", merge=f"A{row}:B{row}")
        inp(f"C{row}", *item("evaluators", k, "title"), "input_center", merge=f"C{row}:D{row}")
        inp(f"E{row}", *item("evaluators", k, "unit"), "input_center", merge=f"E{row}:F{row}")
        L.label(f"G{row}", "", "label", f"G{row}:{last}{row}")
        L.row_heights[row] = 24
    L.name("评价人员姓名", f"A{p_rows[0]}", f"A{p_rows[-1]}")
    L.name("评价人员职称职务", f"C{p_rows[0]}", f"C{p_rows[-1]}")
    L.name("评价人员单位", f"E{p_rows[0]}", f"E{p_rows[-1]}")
    fr = p_rows[-1] + 1
    L.label(f"A{fr}", "填报人（签名）", "label", f"A{fr}:B{fr}")
    inp(f"C{fr}", *attr("filler"), "input_center", merge=f"C{fr}:D{fr}", name="填报人")
    L.label(f"E{fr}", "联系电话", "label")
    inp(f"F{fr}", *attr("filler_phone"), "input_center", merge=f"F{fr}:{last}{fr}", name="填报人电话")

    # --- 五、评价报告综述（文字部分）
    s = fr + 1
    L.label(f"A{s}", "五、评价报告综述（文字部分）", "section", f"A{s}:{last}{s}")
    row = s + 1
    for k, sec in enumerate(counts.sections, 1):
        L.label(f"A{row}", f"（{'一二三四五六七八九十'[k - 1]}）{sec}", "label_indent", f"A{row}:{last}{row}")
        ref = f"A{row + 1}"
        inp(ref, lambda rec, sec=sec: rec.summary.get(sec), lambda rec, v, sec=sec: rec.summary.__setitem__(sec, v),
            merge=f"A{row + 1}:{last}{row + 1}", name=f"综述_{sec.replace('、', '_')}")
        L.summary_cells[sec] = ref
        L.row_heights[row + 1] = heights.get(sec, 120)
        row += 2

    # --- checks
    v = row + 1
    ind_any = "+".join(fx.nonblank_array(f"{c}{i0}:{c}{i1}") for c in "ABCEF")
    active = f"(({ind_any})>0)"
    misfiled = "0"
    if p.satisfaction_level2:
        l1 = "+".join(f"($A${i0}:$A${i1}={fx.q(n)})" for n in p.other_level1)
        l2 = "+".join(f"($B${i0}:$B${i1}={fx.q(n)})" for n in p.satisfaction_level2)
        misfiled = f"SUMPRODUCT(({l1})*({l2}))"
    per_src = "+".join(f"(ROUND({num_f(f'E{r}')}-{num_f(f'D{r}')},2)>0)" for r in rows)
    missing = "&".join(f"IF(LEN({ref})=0,{fx.q(label + '、')},\"\")"
                       for label, ref in (("项目名称", "B4"), ("项目单位", "B5"), ("主管部门", "G5")))
    goals_n = fx.count_nonblank_formula(f"C{g0}:C{g1}")
    prompts = fx.count_nonblank_formula(f"G{i0}:G{i1}")
    goals_missing = f"SUMPRODUCT({fx.nonblank_array(f'C{g0}:C{g1}')}*{fx.blank_array(f'F{g0}:F{g1}')})"
    no_target, no_actual = fx.blank_array(f"E{i0}:E{i1}"), fx.blank_array(f"F{i0}:F{i1}")
    S, TOT = f"C{sc}", fx.n(p.total)
    checks = [
        f"=IF(LEN(B3)=0,{fx.q('评价类型未勾选（应选择' + '或'.join(p.eval_types) + '）；')},"
        f"IF({_list_formula(lists['types'], 'B3')}=0,{fx.q('评价类型应从下拉列表选择；')},\"\"))",
        f"=IF(LEN({missing})=0,\"\",LEFT({missing},LEN({missing})-1)&{fx.q('未填写；')})",
        f"=IF(ROUND(E{t}-D{t},2)>0,{fx.q('实际支出合计')}&ROUND(E{t},2)&{fx.q('万元大于实际到位资金合计')}&ROUND(D{t},2)"
        f"&{fx.q('万元；')},\"\")",
        f"=IF(({per_src})>0,{fx.q('有')}&({per_src})&{fx.q('个资金来源实际支出大于实际到位资金；')},\"\")",
        f"=IF(ROUND(D{et}-E{t},2)=0,\"\",{fx.q('支出明细合计')}&ROUND(D{et},2)&{fx.q('万元≠实际支出合计')}&ROUND(E{t},2)"
        f"&{fx.q('万元，相差')}&ROUND(D{et}-E{t},2)&{fx.q('万元；')})",
        f"=IF(LEN({S})=0,{fx.q('绩效自评综合得分缺失；')},IF(NOT(ISNUMBER({S})),{fx.q('绩效自评综合得分应为数字；')},"
        f"IF(OR({S}<0,{S}>{TOT}),{fx.q('绩效自评综合得分')}&{S}&{fx.q('超出0–' + TOT + '的范围；')},\"\")))",
        f"=IF(AND(ISNUMBER({S}),LEN(E{sc})=0),IF(AND({S}>=0,{S}<{TOT}),{fx.q('综合得分')}&{S}&"
        f"{fx.q('分低于满分' + TOT + '分，未填写得分说明（本表无分值/得分栏，扣分无法由指标推算）；')},\"\"),\"\")",
        f"=IF(SUMPRODUCT(--{active})=0,{fx.q('未填写定量指标；')},\"\")",
        f"=IF(SUMPRODUCT({active}*{no_target})>0,{fx.q('有')}&SUMPRODUCT({active}*{no_target})"
        f"&{fx.q('项定量指标缺指标（目标）值；')},\"\")",
        f"=IF(SUMPRODUCT({active}*{no_actual})>0,{fx.q('有')}&SUMPRODUCT({active}*{no_actual})"
        f"&{fx.q('项定量指标缺实际完成值；')},\"\")",
    ]
    if p.satisfaction_level2:
        checks.append(f"=IF({misfiled}>0,{fx.q('有')}&{misfiled}&{fx.q('项服务对象满意度指标列在“' + '”或“'.join(p.other_level1) + '”下，应单列为一级指标“' + p.satisfaction_level1 + '”；')},\"\")")
    checks += [
        f"=IF({goals_n}=0,{fx.q('未填写项目绩效定性目标；')},IF({goals_missing}>0,{fx.q('有')}&{goals_missing}"
        f"&{fx.q('项定性目标未填写实际完成情况；')},\"\"))",
        f"=IF({prompts}>0,{fx.q('有')}&{prompts}"
        f"&{fx.q('行定量指标存在问题，见“提示”列；')},\"\")",
    ]
    c1 = L.self_check_block(v, checks, last)

    # --- rules in words
    n0 = c1 + 2
    notes = [rules_heading(p.name, p.source),
             "1. 合计＝各资金来源之和；结余＝实际到位资金−实际支出；资金到位率＝实际到位÷计划安排，支出率＝实际支出÷实际到位，"
             "分母为0时显示“—”（无法计算）。",
             "2. 支出合计＝各项支出明细之和，应等于实际支出合计。",
             "3. " + NOTE_NO_SCORES.removeprefix("说明："),
             f"4. 服务对象满意度指标按财预〔2020〕10号单列为一级指标“{p.satisfaction_level1}”。"
             if p.satisfaction_level1 else "4. 一级、二级指标从下拉列表选择。"]
    for k, text in enumerate(notes):
        L.label(f"A{n0 + k}", text, "note", f"A{n0 + k}:{last}{n0 + k}")
        L.row_heights[n0 + k] = 28
    L.last_row = n0 + len(notes) - 1
    L.freeze = "A2"

    # --- dictionary sheet: dropdown lists and identity
    cols = {"A": ("评价类型", p.eval_types, lists["types"]), "B": ("一级指标", p.level1_names, lists["level1"]),
            "C": ("二级指标", p.level2_names, "列表_二级指标"), "D": ("一级·二级", p.level_pairs, lists["pairs"])}
    if p.satisfaction_level2:
        cols["E"] = ("满意度二级指标", p.satisfaction_level2, lists["sat"])
    L.dictionary_lists(cols)
    L.identity_cells()

    # --- data validation
    amounts = " ".join([f"C{f0}:E{f1}", f"D{e0}:D{e1}"])
    L.validations += [
        Validation("B3", "list", lists["types"], title="评价类型", error="请从下拉列表选择评价类型（二者选一）"),
        Validation("G4", "whole", "2000", "2100", "between", "评价年度", "请填写四位年份，如 2021"),
        Validation(amounts, "decimal", "0", None, "greaterThanOrEqual", "金额（万元）", "金额应为大于或等于 0 的数字（单位：万元）"),
        Validation(f"A{i0}:A{i1}", "list", lists["level1"], title="一级指标", error="请从下拉列表选择一级指标"),
        Validation(f"B{i0}:B{i1}", "list", "列表_二级指标", title="二级指标", error="请从下拉列表选择二级指标"),
        Validation(f"C{sc}", "decimal", "0", TOT, "between", "绩效自评综合得分", f"综合得分应为 0 到 {TOT} 之间的数字"),
    ]
    return L


def row_message_formula(row: int, p: HunanProfile, lists: dict[str, str], started: str) -> str:
    """The 提示 of a 定量指标 row (twin: :func:`row_message`); ``started``: some 实际完成值 is typed."""
    A, B, C, E, F = (f"{c}{row}" for c in "ABCEF")
    if p.satisfaction_level2:
        bad_pair = (f"IF({_list_formula(lists['sat'], B)}>0,{fx.q(sat_message(p))},{fx.q(MSG['bad_level2'])})")
    else:
        bad_pair = fx.q(MSG["bad_level2"])
    level = (f"IF(LEN({A})=0,{fx.q(MSG['no_level1'])},IF({_list_formula(lists['level1'], A)}=0,{fx.q(MSG['bad_level1'])},"
             f"IF(LEN({B})=0,{fx.q(MSG['no_level2'])},IF(SUMPRODUCT(--({lists['pairs']}={A}&{fx.q('·')}&{B}))>0,\"\","
             f"{bad_pair}))))")
    actual = (f"IF(LEN({F})=0,IF({started},{fx.q(MSG['no_actual'])},\"\"),IF({fx.looks_like_target_expr(F)},"
              f"{fx.q(MSG['actual_is_target'])},\"\"))")
    active = f"OR(LEN({A})>0,LEN({B})>0,LEN({C})>0,LEN({E})>0,LEN({F})>0)"
    return (f"=IF(NOT({active}),\"\",IF(LEN({C})=0,{fx.q(MSG['no_name'])},\"\")&{level}"
            f"&IF(LEN({E})=0,{fx.q(MSG['no_target'])},\"\")&{actual})")
