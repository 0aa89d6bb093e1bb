"""Narratives for the 部门整体支出 reports and the Hunan project form's 评价报告综述.

Two report families are added to the narrative layer without changing it: the 部门整体支出
绩效自评报告 in the Hunan outlines of docs/rules.md#report-outlines (``2024``: 一、部门(单位)基本情况 … 十、其他需要
说明的情况, seed 001; ``2020`` 邵阳: 一、部门概况 … 五、措施和建议, seed 002), and the 五、评价报告综述
of the Hunan project form (seed 000: 项目基本概况; 项目资金使用及管理情况; 项目组织实施情况;
综合评价情况及评价结论; 项目主要绩效情况分析; 主要经验及做法、存在问题和建议).

Every figure a template can print comes from :func:`xlsx_engine.department.dept_evaluate` (收支,
差异率 — "无法计算" where 预算 = 0, never 100% —, shares with the denominator the sheet uses,
三公, 公用经费, ratios, scores) or :func:`xlsx_engine.hunan_layout.hunan_evaluate` (totals, 结余,
rates, 支出合计, 综合得分 and 等次), i.e. the very values the workbook's formulas show. What a
table cannot know (职能, 机构, 管理情况, 问题, 建议 …) comes from the data file's ``其他信息``; a
required text the unit has not given is printed as a visible ``（待补充…）`` placeholder and
reported as a warning, never invented.

Templates live under ``templates/narrative/department/`` and ``templates/narrative/hnxm/`` and are
rendered by :class:`xlsx_engine.narrative.Narrator` — the same sandboxed, strict Jinja2
environment and filters as the project reports, so a bureau may override them the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlsx_engine.forms import department as department_form
from xlsx_engine.forms import hunan as hunan_form
from xlsx_engine.forms.base import Form
from xlsx_engine.forms.department.layout import department_layout
from xlsx_engine.forms.department.model import (
    INCOME,
    LINES,
    RATIOS,
    SANGONG,
    DeptProfile,
    DeptRecord,
    DeptResult,
    dept_evaluate,
    load_dept_data,
    load_dept_profile,
)
from xlsx_engine.forms.hunan.data import load_hnxm_data
from xlsx_engine.forms.hunan.layout import (
    hunan_layout,
    indicator_active,
    satisfaction_misfiled,
)
from xlsx_engine.forms.hunan.model import (
    HunanProfile,
    HunanProjectRecord,
    load_hunan_profile,
)
from xlsx_engine.forms.registry import form_of_layout
from xlsx_engine.integrity.reading import Reading, read_form_file
from xlsx_engine.kernel.datafile import read_data_file
from xlsx_engine.kernel.errors import JxzpError
from xlsx_engine.kernel.excel import NA, nonblank, num
from xlsx_engine.kernel.textfilters import FILTERS
from xlsx_engine.kernel.xlmath import is_number, xround
from xlsx_engine.narrative.engine import (
    Finding,
    NarrativeError,
    Narrator,
    Rendered,
    as_lines,
    as_text,
    normalize_info,
    pending_findings,
    warn_funds_only,
    year_of,
)

#: outline -> template (docs/rules.md#report-outlines)
DEPT_OUTLINES = {"2024": "department/hunan2024.j2", "2020": "department/hunan2020.j2"}
DEPT_DEFAULT_OUTLINE = "2024"
HNXM_SUMMARY = "hnxm/summary.j2"

_pct, _wan = FILTERS["pct"], FILTERS["wan"]


# ----------------------------------------------------------------------------- 其他信息 of a department report

#: canonical key -> the 其他信息 keys accepted for it (first is the documented one)
DEPT_INFO_KEYS: dict[str, tuple[str, ...]] = {
    "title": ("报告标题",), "unit_name": ("单位名称",), "basis": ("自评依据",), "intro": ("报告引言",),
    "functions": ("主要职能", "职能"), "organization": ("机构设置", "机构情况"), "staff_note": ("人员情况",),
    "key_work": ("重点工作",), "management": ("管理情况", "部门整体支出的管理情况"),
    "assets": ("资产管理情况",), "budget_management": ("预算管理",), "performance": ("提升绩效", "履职效益"),
    "purpose": ("评价目的", "绩效评价目的"), "process": ("评价过程", "绩效评价的主要过程"),
    "fund_gov": ("政府性基金预算支出",), "fund_soe": ("国有资本经营预算支出",), "fund_ss": ("社会保险基金预算支出",),
    "problems": ("存在问题", "问题"), "suggestions": ("改进建议", "建议", "改进措施"),
    "application": ("结果应用", "自评结果拟应用和公开情况"), "other": ("其他说明", "其他需要说明的情况"),
    "report_date": ("报告日期", "自评时间"), "contact": ("联系人",), "phone": ("联系人电话", "联系电话"),
}
_DEPT_LISTS = ("functions", "key_work", "problems", "suggestions")
DEFAULT_PURPOSE = ("严格落实《预算法》和预算绩效管理的有关规定，规范财政资金管理，强化支出责任和绩效理念，"
                   "提高财政资金使用效益")


def normalize_dept_info(extra: dict | None, where: str = "") -> tuple[dict, list[Finding]]:
    """Map a department report's ``其他信息`` onto canonical keys; unknown keys become warnings."""
    lookup = {alias: key for key, aliases in DEPT_INFO_KEYS.items() for alias in aliases}
    info: dict[str, Any] = {key: None for key in DEPT_INFO_KEYS}
    findings = []
    for k, v in (extra or {}).items():
        key = lookup.get(str(k))
        if key is None:
            findings.append(Finding("unknown_info", f"其他信息中的“{k}”不是部门整体报告使用的字段，已忽略"
                                                    "（可用字段见 templates/narrative/department/README.md）", where))
            continue
        info[key] = v
    for key in _DEPT_LISTS:
        info[key] = as_lines(info[key])
    for key in ("fund_gov", "fund_soe", "fund_ss"):
        v = info[key]
        info[key] = {"amount": float(v), "text": None} if is_number(v) else \
            {"amount": None, "text": as_text(v) or None} if v not in (None, "") else None
    for key in ("title", "unit_name", "basis", "intro", "organization", "staff_note", "management", "assets",
                "budget_management", "performance", "purpose", "process", "application", "other", "contact",
                "phone"):
        info[key] = as_text(info[key]) or None
    return info, findings


# ----------------------------------------------------------------------------- department inputs

@dataclass
class DeptInput:
    """One 部门整体 record as the workbook sees it, its profile, result and extra information."""

    record: DeptRecord
    profile: DeptProfile
    result: DeptResult
    extra: dict = field(default_factory=dict)
    source: str = ""
    path: Path | None = None

    @property
    def name(self) -> str:
        return as_text(self.record.department) or Path(self.source).stem or "部门"


def dept_from_record(record: DeptRecord, profile: DeptProfile, *, extra: dict | None = None,
                     source: str = "") -> DeptInput:
    """A department input scored exactly as the workbook scores it (15 significant digits, padded rows)."""
    try:
        layout = department_layout(profile.id)
    except (JxzpError, OSError):
        layout = None
    if layout is not None and layout.profile == profile:
        rec, result = layout.evaluate(record)
    else:
        rec, result = record, dept_evaluate(record, profile)
    merged = dict(record.extra or {})
    merged.update(extra or {})
    return DeptInput(rec, profile, result, merged, source or as_text(record.department))


def _of_form(wb: Reading, form: Form):
    """(layout, record) of a workbook read as every command reads it, when it is of ``form`` (as the checker
    identified it: the document properties, or their copy on the hidden 字典 sheet)."""
    got = form_of_layout(wb.layout)
    if got is not form:
        raise JxzpError(f"不是{form.title}（这是{got.title}）", where=str(wb.path),
                        hint="请使用本命令对应的表")
    return wb.layout, wb.record


def dept_input_of(wb: Reading, *, extra: dict | None = None) -> DeptInput:
    """The 部门整体 input of a workbook already read (:func:`load_dept_input`)."""
    layout, record = _of_form(wb, department_form.FORM)
    rec, result = layout.evaluate(record)
    merged = dict(record.extra or {})      # the workbook's 报告信息 area; a data file's 其他信息 may add to it
    merged.update(extra or {})
    return DeptInput(rec, layout.profile, result, merged, str(wb.path), wb.path)


def hnxm_input_of(wb: Reading, *, extra: dict | None = None) -> HnxmInput:
    """The Hunan project input of a workbook already read (:func:`load_hnxm_input`)."""
    layout, record = _of_form(wb, hunan_form.FORM)
    rec, result = layout.evaluate(record)
    return HnxmInput(rec, layout.profile, result, dict(extra or {}), str(wb.path), wb.path)


def load_dept_input(path: str | Path, *, extra: dict | None = None) -> DeptInput:
    """A department workbook (.xlsx, 模板编号 bmzt-…) or data file (.yaml/.json; its ``其他信息`` → extra).

    Raises:
        DataError, ProfileError, WorkbookError, TemplateError: the input cannot be read.
    """
    suffix = Path(path).suffix.lower()
    if suffix in (".yaml", ".yml", ".json"):
        data = read_data_file(path)
        profile = load_dept_profile(str(data.get("评分规则") or "dept-hunan"))
        record = load_dept_data(path, profile)
        return dept_from_record(record, profile, extra=extra, source=str(path))
    return dept_input_of(read_form_file(path), extra=extra)


# ----------------------------------------------------------------------------- department context

#: sub-totals of the 收支 table and the lines they add up
PARTS = {"收入合计": INCOME, "基本支出": ("人员经费", "公用经费"), "支出合计": ("人员经费", "公用经费", "项目支出")}

def ratio_texts(p: DeptProfile) -> dict[str, str]:
    """How each ratio is computed, in the words the 指标计算表 prints (denominators chosen by the profile)."""
    base3 = p.bases.get("三公经费变动率", "决算")
    carry = p.bases.get("结转结余率", "支出预算数")
    staff = p.bases.get("人员经费占比", "基本支出")
    return {
        "预算执行率": "支出决算合计÷支出预算合计",
        "预算调整率": "预算调整（追加）数÷年初预算数",
        "在职人员控制率": "在职人数÷编制合计",
        "三公经费变动率": ("(本年决算−上年决算)÷上年决算" if base3 == "决算" else "(本年预算−上年预算)÷上年预算"),
        "三公经费控制率": "“三公”经费本年决算÷本年预算",
        "结转结余率": f"年末结转结余÷{carry}",
        "公用经费控制率": "公用经费决算÷公用经费预算",
        "人员经费占比": f"人员经费决算÷{staff}决算",
        "基本支出占比": "基本支出决算÷支出决算合计",
        "项目支出占比": "项目支出决算÷支出决算合计",
        "重点支出安排率": "重点项目支出÷项目支出决算",
    }


def _v(x: Any) -> float | None:
    return float(x) if is_number(x) else None


def dept_context(inp: DeptInput) -> tuple[dict, list[Finding]]:
    """The template context of a department report and the warnings found while building it.

    Plain data only; numbers are raw (templates format them with the filters) and each one is a
    figure of the :class:`~xlsx_engine.department.DeptResult` or a value of the record.
    """
    rec, p, r = inp.record, inp.profile, inp.result
    name = inp.name
    info, findings = normalize_dept_info(inp.extra, name)
    warn = lambda code, msg: findings.append(Finding(code, msg, name))  # noqa: E731

    # --- 收支 (budget, final, 差异率)
    def flow(key: str, label: str | None = None) -> dict:
        if key in PARTS:
            b, f = r.totals["预算"][key], r.totals["决算"][key]
            given_b = any(is_number(rec.budget.get(k)) for k in PARTS[key])
            given_f = any(is_number(rec.final.get(k)) for k in PARTS[key])
        else:
            b, f = rec.budget.get(key), rec.final.get(key)
            given_b, given_f = is_number(b), is_number(f)
            b, f = num(b), num(f)
        diff = r.diffs[key]
        return {"key": key, "label": label or key, "budget": b if given_b else None, "final": f if given_f else None,
                "budget_value": b, "final_value": f, "diff": diff if is_number(diff) else None,
                "diff_na": not is_number(diff), "zero_budget": b <= 0 < f}
    income = [flow(k) for k in INCOME] + [flow("收入合计")]
    spending = [flow("人员经费"), flow("公用经费"), flow("基本支出", "基本支出小计"), flow("项目支出"),
                flow("支出合计"), flow("年末结转结余")]
    flows = {x["key"]: x for x in income + spending}
    has_budget = any(is_number(rec.budget.get(k)) for k in LINES)
    has_final = any(is_number(rec.final.get(k)) for k in LINES)
    zero_budget = [x for x in income + spending if x["zero_budget"] and x["key"] in LINES] if has_budget else []
    if not has_final:
        warn("no_final", "未填写决算数，报告中的收支情况无法反映")

    # --- ratios
    texts = ratio_texts(p)
    ratios = {}
    for key in RATIOS:
        value = r.ratios[key]
        numer, denom = r.parts[key]
        ratios[key] = {"name": key, "value": value if is_number(value) else None, "na": not is_number(value),
                       "numer": numer, "denom": denom, "formula": texts[key]}
    staff_base = p.bases.get("人员经费占比", "基本支出")
    staff_den = r.parts["人员经费占比"][1]
    public = num(rec.final.get("公用经费"))
    shares = {
        "basic": ratios["基本支出占比"], "project": ratios["项目支出占比"], "staff": ratios["人员经费占比"],
        "public": {"value": public / staff_den if staff_den > 0 else None, "na": not staff_den > 0,
                   "numer": public, "denom": staff_den},
        "staff_base": staff_base,
    }

    # --- staff
    staff_given = any(is_number(v) for v in rec.staff.values())
    staff = {"given": staff_given, "admin": _v(rec.staff.get("行政编制数")), "inst": _v(rec.staff.get("事业编制数")),
             "total": r.staff_total, "active": _v(rec.staff.get("在职人数")), "other": _v(rec.staff.get("其他人员")),
             "actual": r.staff_actual, "control": ratios["在职人员控制率"]}

    # --- 三公经费
    sg_items = []
    for item in SANGONG:
        row = rec.sangong.get(item, {})
        values = {c: _v(row.get(c)) for c in ("上年预算", "上年决算", "本年预算", "本年决算")}
        if any(v is not None for v in values.values()):
            sg_items.append({"name": item, "prev_budget": values["上年预算"], "prev_final": values["上年决算"],
                             "budget": values["本年预算"], "final": values["本年决算"]})
    sg_given = {c: any(is_number(rec.sangong.get(i, {}).get(c)) for i in SANGONG)
                for c in ("上年预算", "上年决算", "本年预算", "本年决算")}
    sangong = {"items": sg_items, "given": bool(sg_items),
               "prev_budget": r.sangong_totals["上年预算"] if sg_given["上年预算"] else None,
               "prev_final": r.sangong_totals["上年决算"] if sg_given["上年决算"] else None,
               "budget": r.sangong_totals["本年预算"] if sg_given["本年预算"] else None,
               "final": r.sangong_totals["本年决算"] if sg_given["本年决算"] else None,
               "change": ratios["三公经费变动率"], "control": ratios["三公经费控制率"],
               "change_base": p.bases.get("三公经费变动率", "决算")}

    # --- 公用经费明细
    detail_rows = [{"name": as_text(n_) or "（未填写名称）", "amount": _v(v), "share": s if is_number(s) else None}
                   for (n_, v), s in zip(rec.detail, r.detail_shares) if nonblank(n_) or nonblank(v)]
    detail = {"rows": detail_rows, "total": r.detail_total,
              "share_total": r.detail_total / r.detail_total if r.detail_total > 0 else None,
              "matches": xround(r.detail_total - public, 2) == 0, "public": public}

    # --- scores
    groups: list[dict] = []
    pending_names = []
    for ind, score in zip(p.indicators, r.scores):
        g = next((x for x in groups if x["name"] == ind.level1), None)
        if g is None:
            g = {"name": ind.level1, "weight": 0.0, "score": 0.0, "indicators": []}
            groups.append(g)
        manual = ind.rule is None
        pending = manual and not is_number(rec.scores.get(ind.name))
        if pending:
            pending_names.append(ind.name)
        ratio = ratios[ind.ratio] if ind.ratio else None
        g["indicators"].append({"name": ind.name, "level2": ind.level2, "weight": ind.weight, "score": score,
                                "manual": manual, "pending": pending, "ratio": ratio,
                                "full": score >= ind.weight, "lost": xround(ind.weight - score, 2),
                                "reason": as_text(rec.reasons.get(ind.name)) or None})
        g["weight"] = xround(g["weight"] + ind.weight, 2)
        g["score"] = xround(g["score"] + score, 2)
    na_ratios = [x for x in dict.fromkeys(i.ratio for i in p.indicators if i.rule) if not is_number(r.ratios[x])]
    scoring = {"groups": groups, "total": r.partial_total, "grade": r.grade, "total_weight": p.total,
               "pending": pending_names, "complete": not pending_names, "na_ratios": na_ratios,
               "grades": [{"label": g.label, "min": g.min} for g in p.grades],
               "below": [i for g in groups for i in g["indicators"] if not i["pending"] and not i["full"]]}
    if pending_names:
        warn("pending_scores", f"整体自评表有{len(pending_names)}项指标尚待评审评分，报告中的总分为已计分指标的合计，"
                               "评价等次待评分完成后确定")

    # --- problems and suggestions derived from the figures, then the unit's own
    problems: list[dict] = []
    spend = flows["支出合计"]
    execution = ratios["预算执行率"]
    if has_budget and not execution["na"] and execution["value"] < 1:
        problems.append({"kind": "execution"})
    if zero_budget:
        problems.append({"kind": "zero_budget", "lines": zero_budget})
    if has_budget and not spend["diff_na"] and spend["diff"] is not None and spend["diff"] > 0:
        problems.append({"kind": "over_budget"})
    if not detail["matches"] and detail["total"] != 0:
        problems.append({"kind": "detail_mismatch"})
    gap = xround(r.totals["决算"]["收入合计"] - r.totals["决算"]["支出合计"] - num(rec.final.get("年末结转结余")), 2)
    if gap != 0 and flows["收入合计"]["final"] is not None:
        problems.append({"kind": "gap", "gap": gap})
    for key, kind in (("在职人员控制率", "over_staff"), ("公用经费控制率", "over_public"),
                      ("三公经费控制率", "over_sangong")):
        x = ratios[key]
        if not x["na"] and x["value"] > 1:
            problems.append({"kind": kind, "ratio": x})
    if not sangong["change"]["na"] and sangong["change"]["value"] > 0:
        problems.append({"kind": "sangong_up"})
    if not has_budget:
        problems.append({"kind": "no_budget"})
    if pending_names:
        problems.append({"kind": "pending", "names": pending_names})
    if na_ratios:
        problems.append({"kind": "na_ratios", "names": na_ratios})
    suggestions = [dict(x) for x in problems]
    problems += [{"kind": "unit", "text": t} for t in info["problems"]]
    suggestions += [{"kind": "unit", "text": t} for t in info["suggestions"]]
    warn_funds_only(info, warn, "请从预算和预算绩效管理、履职效能、资金使用和管理、资产和财务管理、政府采购等方面分析")
    for text in r.problems:
        warn("check", f"部门整体自评表校验：{text.rstrip('；')}")

    year = year_of(rec.year)
    ctx = {
        "dept": {"name": name, "supervisor": as_text(rec.supervisor) or None, "year": year,
                 "profile_id": p.id, "profile_name": p.name},
        "has_budget": has_budget, "has_final": has_final,
        "income": income, "spending": spending, "flows": flows, "zero_budget": zero_budget,
        "ratios": ratios, "shares": shares, "staff": staff, "sangong": sangong, "detail": detail,
        "execution": execution, "adjustment": {"initial": _v(rec.initial_budget), "amount": _v(rec.adjustment),
                                               "ratio": ratios["预算调整率"]},
        "key_projects": {"amount": _v(rec.key_projects), "ratio": ratios["重点支出安排率"]},
        "scoring": scoring, "problems": problems, "suggestions": suggestions, "info": info,
        "checks": list(r.problems), "default_purpose": DEFAULT_PURPOSE,
    }
    return ctx, findings


def dept_outline(outline: str | None) -> str:
    key = str(outline or DEPT_DEFAULT_OUTLINE)
    key = {"2024年": "2024", "2020年": "2020", "邵阳": "2020", "岳阳": "2024"}.get(key, key)
    if key not in DEPT_OUTLINES:
        raise NarrativeError(f"未知的部门整体报告提纲“{outline}”", hint="可用：" + "、".join(DEPT_OUTLINES))
    return key


def render_dept_report(inp: DeptInput, outline: str | None = None, narrator: Narrator | None = None) -> Rendered:
    """The 部门整体支出绩效自评报告 of one department in a Hunan outline (``2024`` or ``2020``).

    Raises:
        NarrativeError: the template is missing or wrong (file, line, variable).
    """
    narrator = narrator or Narrator()
    name = narrator.custom_file or DEPT_OUTLINES[dept_outline(outline)]
    ctx, findings = dept_context(inp)
    ctx["outline"] = dept_outline(outline)
    markup = narrator.render_template(name, ctx)
    findings = findings + pending_findings(markup, findings, inp.name)
    return Rendered(markup, ctx, findings, narrator.path_of(name))


# ----------------------------------------------------------------------------- Hunan project form: 综述

@dataclass
class HnxmInput:
    """One Hunan project form: the padded record, its profile, the computed result and extra information."""

    record: HunanProjectRecord
    profile: HunanProfile
    result: Any
    extra: dict = field(default_factory=dict)
    source: str = ""
    path: Path | None = None

    @property
    def name(self) -> str:
        return as_text(self.record.project) or Path(self.source).stem or "项目"


def hnxm_from_record(record: HunanProjectRecord, profile: HunanProfile, *, extra: dict | None = None,
                     source: str = "") -> HnxmInput:
    rec, result = hunan_layout(profile.id).evaluate(record)
    merged = dict(record.extra or {})
    merged.update(extra or {})
    return HnxmInput(rec, profile, result, merged, source or as_text(record.project))


def load_hnxm_input(path: str | Path, *, extra: dict | None = None) -> HnxmInput:
    """A Hunan project workbook (.xlsx, 模板编号 hnxm-…) or data file (.yaml/.json)."""
    suffix = Path(path).suffix.lower()
    if suffix in (".yaml", ".yml", ".json"):
        data = read_data_file(path)
        profile = load_hunan_profile(str(data.get("评分规则") or "hunan-project"))
        record = load_hnxm_data(path, profile, summary=False)
        return hnxm_from_record(record, profile, extra=extra, source=str(path))
    return hnxm_input_of(read_form_file(path), extra=extra)


def hnxm_context(inp: HnxmInput) -> tuple[dict, list[Finding]]:
    """The context of the Hunan project 综述: every number is a figure of :class:`HunanResult` or the record."""
    rec, p, r = inp.record, inp.profile, inp.result
    name = inp.name
    info, findings = normalize_info(inp.extra, name)
    warn = lambda code, msg: findings.append(Finding(code, msg, name))  # noqa: E731
    sources = []
    for f, bal, ar, sr in zip(rec.funds, r.balances, r.arrival_rates, r.spend_rates):
        if not any(is_number(v) and v != 0 for v in (f.plan, f.arrived, f.spent)):
            continue
        sources.append({"name": f.source, "plan": num(f.plan), "arrived": num(f.arrived), "spent": num(f.spent),
                        "balance": bal, "arrival_rate": ar if is_number(ar) else None,
                        "spend_rate": sr if is_number(sr) else None})
    funds = {"plan": r.plan, "arrived": r.arrived, "spent": r.spent, "balance": r.balance,
             "arrival_rate": r.arrival_rate if is_number(r.arrival_rate) else None,
             "spend_rate": r.spend_rate if is_number(r.spend_rate) else None, "sources": sources,
             "over": xround(r.spent - r.arrived, 2) > 0, "balance_left": xround(r.balance, 2) > 0}
    expenses = [{"item": as_text(e.item) or "（未填写支出内容）", "amount": _v(e.amount), "voucher": as_text(e.voucher),
                 "note": as_text(e.note)} for e in rec.expenses if nonblank(e.item) or nonblank(e.amount)]
    expense = {"rows": expenses, "total": r.expense_total, "diff": xround(r.expense_total - r.spent, 2),
               "matches": xround(r.expense_total - r.spent, 2) == 0}
    goals = [{"expected": as_text(g.expected), "actual": as_text(g.actual) or None} for g in rec.goals
             if nonblank(g.expected) or nonblank(g.actual)]
    inds = []
    for ind, msg in zip(rec.indicators, r.row_messages):
        if not indicator_active(ind):
            continue
        inds.append({"level1": as_text(ind.level1), "level2": as_text(ind.level2), "name": as_text(ind.name) or "（未填写指标内容）",
                     "target": as_text(ind.target) or None, "actual": as_text(ind.actual) or None, "message": msg,
                     "misfiled": satisfaction_misfiled(ind, p)})
    groups = []
    for l1 in list(p.level1_names) + sorted({i["level1"] for i in inds} - set(p.level1_names)):
        members = [i for i in inds if i["level1"] == l1]
        if members:
            groups.append({"name": l1 or "（未填写一级指标）", "indicators": members})
    misfiled = [i for i in inds if i["misfiled"]]
    no_target = [i for i in inds if i["target"] is None]
    no_actual = [i for i in inds if i["actual"] is None]
    score = {"value": r.score, "grade": r.grade if is_number(r.score) and r.grade != NA else None, "total": p.total,
             "lost": xround(p.total - r.score, 2) if r.score is not None and 0 <= r.score <= p.total else None,
             "note": as_text(rec.score_note) or None,
             "grades": [{"label": g.label, "min": g.min} for g in p.grades]}
    if score["value"] is None:
        warn("no_score", "未填写绩效自评综合得分，报告中已标注“（待补充综合得分）”")
    elif score["lost"] and score["note"] is None:
        warn("score_note", f"综合得分{FILTERS['num'](r.score)}分低于满分，未填写得分说明，报告中已标注“（待补充扣分原因）”")
    problems: list[dict] = []
    if not expense["matches"]:
        problems.append({"kind": "expense"})
    if funds["over"]:
        problems.append({"kind": "over"})
    if no_target:
        problems.append({"kind": "no_target", "inds": no_target})
    if no_actual:
        problems.append({"kind": "no_actual", "inds": no_actual})
    if misfiled:
        problems.append({"kind": "misfiled", "inds": misfiled})
    if not nonblank(rec.eval_type):
        problems.append({"kind": "eval_type"})
    suggestions = [dict(x) for x in problems]
    problems += [{"kind": "unit", "text": t} for t in info["problems"]]
    suggestions += [{"kind": "unit", "text": t} for t in info["suggestions"]]
    warn_funds_only(info, warn, "请结合资金到位、支出和各项指标的完成情况具体分析原因")
    for text in r.problems:
        warn("check", f"自评报告表校验：{text.rstrip('；')}")
    year = year_of(rec.year)
    ctx = {
        "project": {"name": name, "year": year, "unit": as_text(rec.unit) or None,
                    "department": as_text(rec.department) or None, "leader": as_text(rec.leader) or None,
                    "start": as_text(rec.start) or None, "end": as_text(rec.end) or None,
                    "eval_type": as_text(rec.eval_type) or None},
        "funds": funds, "expense": expense, "goals": goals, "indicators": inds, "groups": groups,
        "misfiled": misfiled, "no_target": no_target, "no_actual": no_actual, "score": score,
        "satisfaction_level1": p.satisfaction_level1, "problems": problems, "suggestions": suggestions,
        "info": info, "checks": list(r.problems),
    }
    return ctx, findings


def render_hnxm_summary(inp: HnxmInput, narrator: Narrator | None = None) -> Rendered:
    """The 五、评价报告综述 of a Hunan project form (six sections, seed 000)."""
    narrator = narrator or Narrator()
    name = narrator.custom_file or HNXM_SUMMARY
    ctx, findings = hnxm_context(inp)
    markup = narrator.render_template(name, ctx)
    findings = findings + pending_findings(markup, findings, inp.name)
    return Rendered(markup, ctx, findings, narrator.path_of(name))


def summary_sections(rendered: Rendered, sections: tuple[str, ...]) -> dict[str, str]:
    """Split a rendered 综述 into the form's text areas: one ``#`` heading per section, paragraphs joined by
    line breaks (table rows by tabs).

    Raises:
        NarrativeError: the template produced a heading that is not one of the form's sections.
    """
    out: dict[str, list[str]] = {}
    current = None
    for b in rendered.blocks:
        if b.kind == "heading" and b.level == 1:
            title = b.text.strip()
            if title not in sections:
                raise NarrativeError(f"综述模板的一级标题“{title}”不是自评报告表的小节",
                                     where=rendered.template, hint="应为：" + "、".join(sections))
            current = title
            out.setdefault(current, [])
        elif current is not None:
            if b.kind == "table":
                out[current] += ["\t".join(row) for row in b.rows]
            elif b.kind == "heading":
                out[current].append(b.text)
            else:
                out[current].append("\u3000\u3000" + b.text)
    return {k: "\n".join(v) for k, v in out.items()}


def fill_hnxm_summary(record: HunanProjectRecord, profile: HunanProfile, narrator: Narrator | None = None
                      ) -> Rendered:
    """Write the generated 综述 into the record's sections the unit has not supplied (``record.summary``)."""
    sections = hunan_layout(profile.id).row_counts.sections
    rendered = render_hnxm_summary(hnxm_from_record(record, profile), narrator)
    texts = summary_sections(rendered, sections)
    for sec in sections:
        if sec not in record.summary:
            record.summary[sec] = texts.get(sec) or None
    return rendered


def complete_record(record, profile):
    """Fill what a form leaves to the narrative layer before the record is written to a workbook.

    The Hunan form's 五、评价报告综述 sections the unit did not write are generated from its figures;
    other records pass unchanged.
    """
    if isinstance(record, HunanProjectRecord):
        fill_hnxm_summary(record, profile)
    return record


# ----------------------------------------------------------------------------- Word output

def dept_title(rendered: Rendered) -> str:
    ctx = rendered.context
    if ctx["info"]["title"]:
        return ctx["info"]["title"]
    year = ctx["dept"]["year"]
    return (f"{year}年度" if year else "") + f"{ctx['dept']['name']}整体支出绩效自评报告"


__all__ = ["DEPT_OUTLINES", "DeptInput", "HnxmInput", "dept_context", "dept_from_record",
           "complete_record", "dept_title", "fill_hnxm_summary", "hnxm_context", "hnxm_from_record", "load_dept_input",
           "load_hnxm_input", "normalize_dept_info", "render_dept_report", "render_hnxm_summary", "summary_sections"]
