"""The narrative layer: the 评价报告综述 and the 自评报告, generated from the scored table.

Every figure a template can print comes from the :class:`~xlsx_engine.scoring.Result`
that also fills the workbook (budget, 执行数, 执行率, 结余, scores, total, grade), so
the text can never contradict the table. What the table cannot know (背景, 组织实施,
问题, 建议, 评价机构 …) comes from the data file's ``其他信息`` mapping
(``record.extra``); it is optional — a workbook alone gives a complete report, and a
required explanation the unit has not given (偏差原因, 结余原因) is printed as a
visible placeholder such as ``（待补充偏差原因）`` and reported as a warning, never
invented.

Templates are Jinja2 files under ``templates/narrative/`` (one set per report
family, see its README.md), rendered by an :class:`jinja2.sandbox.ImmutableSandboxedEnvironment`
with :class:`jinja2.StrictUndefined`, so a finance bureau may edit them safely: a
mistake raises :class:`NarrativeError` naming the template file, the line and the
variable or tag at fault.

Rendered text is a small Markdown subset — ``#``/``##``/``###`` headings, paragraphs
(one per line) and ``|`` tables — parsed into :class:`Block` objects that the
Markdown/text writers, the Word report (:mod:`xlsx_engine.narrative.docx`) and the
workbook write-back (:mod:`xlsx_engine.ooxml.writeback`) share.
"""

from __future__ import annotations

import datetime as _dt
import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import jinja2
from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SecurityError

from xlsx_engine.forms.project.layout import project_layout
from xlsx_engine.forms.project.profile import Profile, load_profile
from xlsx_engine.forms.project.record import ProjectRecord, record_from_data
from xlsx_engine.forms.project.scoring import (
    ENTRY_FLAGS,
    PENDING,
    Result,
    actual_value,
    evaluate,
    is_active,
    is_over,
    is_waiting,
    row_messages,
    waiting_count,
    weight_checks,
)
from xlsx_engine.forms.project.sentences import (
    FUND_PENDING,
    fund_values,
    indicator_values,
    sentences,
    total_values,
)
from xlsx_engine.forms.registry import form_of_layout
from xlsx_engine.integrity.reading import Reading, read_form_file
from xlsx_engine.kernel.datafile import read_data_file
from xlsx_engine.kernel.errors import JxzpError, ProfileError, TemplateError
from xlsx_engine.kernel.files import not_regular
from xlsx_engine.kernel.messages import (
    FUNDS_ONLY_PROBLEM,
    FUNDS_ONLY_SUGGESTION,
    only_funding,
)
from xlsx_engine.kernel.resources import data_dir
from xlsx_engine.kernel.targets import (
    OP_LE,
    OP_LT,
    OP_QUAL,
    looks_like_target,
    shown_target,
)
from xlsx_engine.kernel.textfilters import FILTERS, FilterError, qty
from xlsx_engine.kernel.xlmath import is_number, xround
from xlsx_engine.narrative.sandbox import BoundedSandbox, check_printed, freeze_context
from xlsx_engine.narrative.wording import (
    BALANCE_MATERIAL_RATE,
    SMALL_LOSS_SHARE,
    balance_disposed,
    same_body,
    split_reason,
)

TEMPLATE_DIR = data_dir("narrative")

#: report family -> its 综述 template (single-project reports)
FAMILIES = {"project": "project/summary.j2", "transfer": "transfer/summary.j2"}
MULTI = "multi"
MULTI_PROJECT = "multi/project.j2"
REPORT_MD = "report.md.j2"                  #: the Hunan 附件3 report (cover “XX财政局（制）”, 五、评价报告综述)
NATIONAL_REPORT_MD = "national/report.md.j2"  #: every other region: cover, the 综述 itself, 附件 自评表
#: report region -> its name in Chinese (``narrative.region`` of a profile, 其他信息“报告地区”, ``--region``)
REGIONS = {"national": "全国", "hunan": "湖南", "hubei": "湖北", "ningxia": "宁夏"}
NARRATIVE_DEFAULTS = {"region": "national", "family": "project"}
MULTI_REPORT_MD = "multi/report.md.j2"


class NarrativeError(JxzpError):
    """A narrative template is missing or wrong, or an input cannot be turned into a report.

    Attributes:
        template: the template file at fault (path or name), if any.
        line: the line of that file, if known.
        detail: what is wrong (the variable, attribute or tag), in Chinese.
    """

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None,
                 template: str | None = None, line: int | None = None, detail: str | None = None):
        self.template, self.line, self.detail = template, line, detail
        super().__init__(message, where=where, hint=hint)


@dataclass
class Finding:
    """A warning about the narrative: something the unit should supply or fix."""

    code: str
    message: str
    project: str = ""

    def __str__(self) -> str:
        return f"{self.project}：{self.message}" if self.project else self.message


# ----------------------------------------------------------------------------- inputs

@dataclass
class ProjectInput:
    """One scored project: the record as the workbook sees it, its profile, result and extra information."""

    record: ProjectRecord
    profile: Profile
    result: Result
    extra: dict = field(default_factory=dict)
    source: str = ""
    path: Path | None = None          #: the workbook read, for write-back

    @property
    def name(self) -> str:
        return as_text(self.record.project) or Path(self.source).stem or "项目"


def _evaluate(record: ProjectRecord, profile: Profile) -> tuple[ProjectRecord, Result]:
    """Score as the template does (padded rows, 15 significant digits) when the profile is a shipped one."""
    try:
        layout = project_layout(profile.id)
    except (ProfileError, OSError):
        layout = None
    if layout is not None and layout.profile == profile:
        return layout.evaluate(record)
    return record, evaluate(record, profile)


def from_record(record: ProjectRecord, profile: Profile, *, extra: dict | None = None,
                source: str = "") -> ProjectInput:
    """A narrative input from a record and its profile (the API used with data files and tests)."""
    rec, result = _evaluate(record, profile)
    merged = dict(record.extra or {})
    merged.update(extra or {})
    return ProjectInput(rec, profile, result, merged, source or str(as_text(record.project) or ""))


class NotProjectForm(TemplateError):
    """One of our workbooks, but not of the 项目支出 form: its report is another one (:mod:`narrative.batch`)."""


def from_workbook(path: str | Path, *, extra: dict | None = None) -> ProjectInput:
    """A narrative input from a filled workbook (read as every command reads it, rescored in Python).

    Raises:
        WorkbookError, TemplateError: the file cannot be read or is not one of our workbooks.
        NotProjectForm: one of our workbooks of another form (部门整体, 湖南).
    """
    return from_reading(read_form_file(path), extra=extra)


def from_reading(rb: Reading, *, extra: dict | None = None) -> ProjectInput:
    """:func:`from_workbook` of a workbook already read; its form is the one the checker identified.

    Raises:
        NotProjectForm: one of our workbooks of another form (部门整体, 湖南).
    """
    form = form_of_layout(rb.layout)
    if not form.result_names:                    # 部门整体, 湖南项目自评报告表: reports of their own
        raise NotProjectForm(f"这是{form.title}，不是项目支出绩效自评表，不能按项目报告生成", where=str(rb.path),
                             hint="部门整体表用 jxzp narrative-dept，湖南项目自评报告表用 jxzp narrative-hnxm；"
                                  "或 jxzp narrative 表或文件夹 --each 报告文件夹（各表按其报告生成）")
    rec, result = rb.layout.evaluate(rb.record)
    merged = dict(rb.record.extra or {})          # the workbook's 报告信息 area
    merged.update(extra or {})
    return ProjectInput(rec, rb.layout.profile, result, merged, str(rb.path), rb.path)


def from_data_file(path: str | Path, *, extra: dict | None = None) -> ProjectInput:
    """A narrative input from a YAML/JSON data file (its ``评分规则``, default ``national``; ``其他信息`` → extra).

    Raises:
        DataError, ProfileError: invalid file or unknown profile.
    """
    data = read_data_file(path)
    profile = load_profile(str(data.get("评分规则") or "national"))
    record = record_from_data(data, profile, source=str(path))
    return from_record(record, profile, extra=extra, source=str(path))


def load_input(path: str | Path, *, extra: dict | None = None) -> ProjectInput:
    """A workbook (.xlsx) or a data file (.yaml/.yml/.json)."""
    suffix = Path(path).suffix.lower()
    if suffix in (".yaml", ".yml", ".json"):
        return from_data_file(path, extra=extra)
    return from_workbook(path, extra=extra)


# ----------------------------------------------------------------------------- other information (其他信息)

#: canonical key -> the 其他信息 keys accepted for it (first is the documented one)
INFO_KEYS: dict[str, tuple[str, ...]] = {
    "leader": ("项目负责人",), "phone": ("联系电话",), "address": ("项目地址",), "postcode": ("邮编", "邮政编码"),
    "period": ("项目起止时间", "起止时间"), "background": ("项目背景", "背景", "项目概况及立项依据"), "basis": ("立项依据",),
    "components": ("项目构成",), "fund_management": ("资金管理情况", "项目资金使用及管理情况", "资金到位与管理情况"),
    "implementation": ("组织实施情况", "项目组织实施情况"), "performance": ("主要绩效", "项目主要绩效情况分析"),
    "experience": ("经验做法", "主要经验及做法"), "problems": ("存在问题", "问题", "主要问题"),
    "suggestions": ("改进建议", "建议", "改进措施"), "eval_type": ("评价类型",), "eval_method": ("评价方式",),
    "eval_agency": ("评价机构",), "report_date": ("报告日期", "自评时间"), "bureau": ("财政局",), "evaluators": ("评价人员",),
    "filler": ("填报人", "联系人"), "filler_phone": ("填报人电话", "联系人电话"), "expenses": ("支出明细",),
    "application": ("结果应用", "绩效自评结果拟应用和公开情况", "结果应用与公开情况"), "other": ("其他说明", "其他需要说明的问题"),
    "title": ("报告标题",), "family": ("报告类型",), "unit_name": ("单位名称",), "work": ("自评工作开展情况",),
    "work_basis": ("自评依据",), "unit_budget": ("预算资金总额",), "region": ("报告地区",),
}
INFO_DEFAULTS = {"eval_type": "项目完成结果评价", "eval_method": "部门（单位）绩效自评",
                 "eval_agency": "部门（单位）评价组", "bureau": "XX财政局"}
EVAL_TYPES = ("项目实施过程评价", "项目完成结果评价")
_LIST_KEYS = ("problems", "suggestions", "work", "experience")


_EXCEL_EPOCH = _dt.date(1899, 12, 30)


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if is_number(value):
        return _num_text(value)
    return str(value).strip()


def _num_text(value: float) -> str:
    return qty(value)


def year_of(value: Any) -> int | str | None:
    """A 年度 cell as the text shows it: 2023.0 -> 2023; other text as typed; empty -> None."""
    if is_number(value) and float(value) == int(value):
        return int(value)
    return as_text(value) or None


def as_lines(value: Any) -> list[str]:
    """A text or a list of texts as a list of non-empty strings."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [t for t in (as_text(v) for v in value) if t]
    return [t.strip() for t in str(value).splitlines() if t.strip()]


def normalize_info(extra: dict | None, where: str = "") -> tuple[dict, list[Finding]]:
    """Map the ``其他信息`` mapping onto canonical keys, with defaults; unknown keys become warnings."""
    extra = dict(extra or {})
    lookup = {alias: key for key, aliases in INFO_KEYS.items() for alias in aliases}
    info: dict[str, Any] = {key: None for key in INFO_KEYS}
    findings = []
    for k, v in extra.items():
        key = lookup.get(str(k))
        if key is None:
            findings.append(Finding("unknown_info", f"其他信息中的“{k}”不是报告使用的字段，已忽略"
                                                    f"（可用字段见 templates/narrative/README.md）", where))
            continue
        info[key] = v
    for key in _LIST_KEYS:
        info[key] = as_lines(info[key])
    for key, value in INFO_DEFAULTS.items():
        if not as_text(info[key]):
            info[key] = value
    if info["eval_type"] not in EVAL_TYPES:
        findings.append(Finding("eval_type", f"评价类型应为“{'”或“'.join(EVAL_TYPES)}”，实际为“{info['eval_type']}”",
                                where))
    info["evaluators"] = [
        {"name": as_text(e.get("姓名")), "title": as_text(e.get("职称职务", e.get("职称/职务", e.get("职务")))),
         "unit": as_text(e.get("单位"))} for e in (info["evaluators"] or []) if isinstance(e, dict)]
    info["expenses"] = [
        {"item": as_text(e.get("支出内容")), "amount": e.get("实际支出数"), "voucher": as_text(e.get("会计凭证号")),
         "note": as_text(e.get("备注"))} for e in (info["expenses"] or []) if isinstance(e, dict)]
    comps = info["components"]
    if isinstance(comps, list):
        info["components"] = [
            {"name": as_text(c.get("名称", c.get("合并明细项目"))), "budget": c.get("预算数"),
             "adjust": c.get("调整数"), "total": c.get("合计", c.get("预算数"))} if isinstance(c, dict)
            else {"name": as_text(c), "budget": None, "adjust": None, "total": None} for c in comps]
    elif comps:
        info["components"] = [{"name": as_text(comps), "budget": None, "adjust": None, "total": None}]
    else:
        info["components"] = []
    if not as_text(info["report_date"]):      # never today's date: the report says it is missing
        info["report_date"] = None
    elif is_number(info["report_date"]):      # a date typed into the workbook: a spreadsheet serial
        info["report_date"] = _EXCEL_EPOCH + _dt.timedelta(days=int(float(info["report_date"])))
    for key in ("title", "unit_name", "leader", "phone", "address", "postcode", "period", "background", "basis",
                "fund_management", "implementation", "performance", "application", "other", "filler",
                "filler_phone", "work_basis", "family"):
        info[key] = as_text(info[key]) or None
    return info, findings


# ----------------------------------------------------------------------------- context



def warn_funds_only(info: dict, warn: Callable[[str, str], None], problem_hint: str) -> None:
    """Warn when the unit's own problems only say 资金不足, or its suggestions only 加大资金投入:
    the bureau's review rubric (seed 001 附件5) gives such a report 0 points for that item."""
    if only_funding(info["problems"], FUNDS_ONLY_PROBLEM):
        warn("funds_only_problem", "单位填写的存在问题只有“资金不足”：按自评工作考核评分表，问题仅为“资金不足”的得0分。"
             + problem_hint)
    if only_funding(info["suggestions"], FUNDS_ONLY_SUGGESTION):
        warn("funds_only_suggestion", "单位填写的改进建议只有“加大资金投入”：按自评工作考核评分表，建议仅为"
                                      "“加大资金投入”的得0分。请针对所列问题逐条提出改进措施")


def narrative_settings(profile: Profile) -> dict:
    """The profile's ``narrative:`` settings (region, default 综述 family), inherited through ``extends:``.

    Raises:
        ProfileError: an unknown region or family.
    """
    raw = profile.raw.get("narrative") or {}
    settings = dict(NARRATIVE_DEFAULTS, **{k: v for k, v in raw.items() if v is not None})
    if settings["region"] not in REGIONS:
        raise ProfileError(f"narrative.region 应为 {'、'.join(REGIONS)} 之一，实际为“{settings['region']}”",
                           where=profile.path)
    if settings["family"] not in FAMILIES:
        raise ProfileError(f"narrative.family 应为 {'、'.join(FAMILIES)} 之一，实际为“{settings['family']}”",
                           where=profile.path)
    return settings


def region_of(inp: ProjectInput, region: str | None = None) -> str:
    """The report's region: given, else 其他信息“报告地区”, else the profile's."""
    given = region or as_text(inp.extra.get("报告地区"))
    if not given:
        return narrative_settings(inp.profile)["region"]
    by_name = {v: k for k, v in REGIONS.items()}
    key = by_name.get(given.rstrip("省自治区回族"), given)
    if key not in REGIONS:
        raise NarrativeError(f"未知的报告地区“{given}”", hint="可用：" + "、".join(REGIONS.values()))
    return key


def hunan_family(inp: ProjectInput, region: str) -> str | None:
    """The Hunan 附件3 report nests the 综述 of its own outline (``project``) unless the data says otherwise."""
    return "project" if region == "hunan" and not as_text(inp.extra.get("报告类型")) else None


def _score(value: Any) -> float | None:
    return float(value) if is_number(value) else None


def target_text(row) -> str:
    """The 指标值 as printed: "≥2次", "100%", "≤90万元", "及时" (＝ prints the value alone)."""
    shown = shown_target(row.op, row.target, row.unit or "")
    return shown if shown is not None else as_text(row.target)


def fund_pending_text(base: str, budget: float | None, spent: float | None) -> str:
    """What the report says of funds the scorer cannot rate yet (FundResult.entered is false): only what is missing.
    Neither amount entered: the live 综述's own sentence (FUND_PENDING)."""
    if budget is not None:
        return f"{base}{FILTERS['wan'](budget)}，全年执行数待填报。"
    if spent is not None:
        return f"{base}待填报，全年执行数{FILTERS['wan'](spent)}。"
    return FUND_PENDING


def indicator_context(index: int, row, res, profile: Profile) -> dict:
    weight, score = _score(row.weight), _score(res.score)
    ratio = profile.over_ratio          # over-achievement is flagged only where the profile's rule says so
    over = is_over(row, profile)        # the scorer's rule: the actual as scored (a fraction on a percent row, …)
    actual_missing = row.actual is None or row.actual == ""
    actual_is_target = looks_like_target(row.actual)
    full = weight is not None and score is not None and score >= weight
    below = weight is not None and score is not None and score < weight
    reason = as_text(row.reason) or None
    cause, measure = split_reason(reason)
    lost = xround(weight - score, 2) if below else 0.0
    said = sentences(profile)
    values = indicator_values(row, res, profile, over)
    over_pct = xround(values["over_pct"], 2) if over else None
    return {
        # the sentences the workbook's live 综述 says too (forms/project/sentences.py)
        "facts": said.indicator.py(values), "over_text": said.over.py(values) if over else "",
        "no": index, "level1": as_text(row.level1), "level2": as_text(row.level2),
        "name": as_text(row.name) or f"第{index}项指标",
        "op": row.op, "qualitative": row.op == OP_QUAL,
        "kind": "定性" if row.op == OP_QUAL else ("反向" if row.op in (OP_LE, OP_LT) else "正向"),
        "target": row.target, "unit": as_text(row.unit), "target_text": target_text(row),
        # a number as scored (a fraction on a percent row is a percentage), as the sentences say it
        "actual": row.actual, "actual_text": qty(actual_value(row), row.unit or "") if is_number(row.actual)
        else as_text(row.actual),
        "actual_missing": actual_missing, "actual_is_target": actual_is_target,
        "band": as_text(row.band) or None, "weight": weight, "score": score, "full": full, "below": below,
        "waiting": is_waiting(row, res.score),
        "lost": lost, "small": below and lost <= xround(SMALL_LOSS_SHARE * weight, 2),
        "over": over, "over_pct": over_pct, "over_ratio_pct": xround((ratio - 1) * 100, 2) if ratio else None,
        "over_penalty": profile.over_penalty if over else 0.0,
        "reason": reason, "cause": cause, "measure": measure,
        "reason_needed": below or over, "reason_missing": (below or over) and reason is None,
        "message": res.message,
    }


def project_context(inp: ProjectInput) -> tuple[dict, list[Finding]]:
    """The template context of one project and the warnings found while building it.

    The context holds plain data (dicts, lists, strings, numbers). Numbers are raw
    (the templates format them with the filters of :mod:`xlsx_engine.kernel.textfilters`);
    every number is a figure of the :class:`~xlsx_engine.scoring.Result` or of the record.
    """
    rec, p, r = inp.record, inp.profile, inp.result
    name = inp.name
    info, findings = normalize_info(inp.extra, name)
    warn = lambda code, msg: findings.append(Finding(code, msg, name))  # noqa: E731

    # --- funds
    f = r.fund
    budget, spent = f.budget, f.spent
    # a total none of whose sources was entered is not 0 but not entered yet (None: the tables print 待填报, as the
    # 总分 of a pending form); once one source is entered, the total is the scorer's (blanks count as 0, as its
    # 执行率 and 资金得分 and the workbook's 合计 row). 结余 and 超支, like the scorer's 执行率, need both
    # (FundResult.entered).
    budget_entered = any(is_number(x.budget) for x in rec.funds)
    spent_entered = any(is_number(x.spent) for x in rec.funds)
    balance = xround(budget - spent, 2) if f.entered else None
    rate = f.rate if is_number(f.rate) else None
    sources = []
    for line, src_rate in zip(rec.funds, f.source_rates):
        vals = [line.initial, line.budget, line.spent]
        if not any(is_number(v) and v != 0 for v in vals):
            continue
        # an input the unit left blank stays blank (None): the tables print an empty cell, not 0.00; the
        # 结余, like the scorer's 执行率 of the source (source_rate), needs both amounts
        b, s = _score(line.budget), _score(line.spent)
        sources.append({"name": line.source, "initial": _score(line.initial), "budget": b, "spent": s,
                        "balance": xround(b - s, 2) if b is not None and s is not None else None,
                        "rate": src_rate if is_number(src_rate) else None})
    reason = as_text(rec.rate_reason) or None
    fund = {"label": p.fund_label, "base": p.fund_base, "weight": p.fund_weight, "in_total": p.fund_in_total,
            "initial": f.initial if any(is_number(x.initial) for x in rec.funds) else None,
            "budget": budget if budget_entered else None, "spent": spent if spent_entered else None,
            "balance": balance, "excess": xround(-balance, 2) if f.entered else None,
            "rate": rate, "score": f.score if is_number(f.score) else PENDING, "sources": sources, "reason": reason,
            "entered": f.entered, "na": budget <= 0,
            "under": f.entered and budget > 0 and spent < budget, "over": f.entered and budget > 0 and spent > budget,
            "reason_below": p.rate_reason_below,
            "material": f.entered and budget > 0 and spent < budget and rate is not None
            and rate < BALANCE_MATERIAL_RATE,
            "disposed": balance_disposed(reason)}
    said = sentences(p)
    fv = fund_values(rec, r)
    fund["execution"], fund["score_text"] = ((said.fund_execution.py(fv), said.fund_score.py(fv)) if f.entered
                                             else (fund_pending_text(p.fund_base, fund["budget"], fund["spent"]), ""))
    if fund["under"] and reason is None:
        warn("balance_reason", f"预算执行率{FILTERS['pct'](rate)}，结余{FILTERS['wan'](balance)}，"
                               "未填写执行率说明（结余原因），"
                               "报告中已标注“（待补充结余原因）”")
    if fund["over"] and reason is None:
        warn("excess_reason", f"执行数超过预算数{FILTERS['wan'](-balance)}，未填写原因，"
                              "报告中已标注“（待补充超支原因）”")
    if fund["na"]:
        warn("no_budget", "全年预算数为0或未填写，执行率无法计算")

    if info["expenses"] and spent_entered:
        total = xround(sum(float(e["amount"]) for e in info["expenses"] if is_number(e["amount"])), 2)
        if abs(total - xround(spent, 2)) >= 0.005:
            warn("expenses_total", f"其他信息“支出明细”合计{FILTERS['wan'](total)}，"
                                   f"与自评表全年执行数{FILTERS['wan'](spent)}不一致")

    # --- goals
    goals = [{"no": i, "expected": as_text(g.expected), "actual": as_text(g.actual) or None}
             for i, g in enumerate((g for g in rec.goals if as_text(g.expected) or as_text(g.actual)), 1)]
    for g in goals:
        if g["actual"] is None:
            warn("goal_actual", f"年度总体目标第{g['no']}项未填写实际完成情况，报告中已标注“（待补充实际完成情况）”")
    target_block = ({"label": p.target_label, "weight": p.target_weight, "score": r.target_score}
                    if p.has_target_block else None)

    # --- indicators
    inds = [indicator_context(i, row, res, p)
            for i, (row, res) in enumerate(((row, res) for row, res in zip(rec.indicators, r.indicators)
                                            if is_active(row)), 1)]
    for ind in inds:
        if ind["below"] and ind["reason_missing"] and not ind["over"]:
            warn("reason_missing", f"指标“{ind['name']}”未得满分（得{FILTERS['num'](ind['score'])}分，"
                                   f"分值{FILTERS['num'](ind['weight'])}分），未填写偏差原因，报告中已标注“（待补充偏差原因）”")
        if ind["over"] and ind["reason_missing"]:
            warn("over_reason_missing", f"指标“{ind['name']}”完成值超过指标值{FILTERS['num'](ind['over_pct'])}%，"
                                        "未说明原因，报告中已标注“（待补充超额完成原因）”")
        if ind["reason_needed"] and ind["reason"] and ind["cause"] is None:
            label = "超额完成原因" if ind["over"] else "偏差原因"
            warn("cause_missing", f"指标“{ind['name']}”的偏差原因分析及改进措施只写了改进措施（“{ind['measure']}”），"
                                  f"没有写原因，报告中已标注“（待补充{label}）”")
        if ind["below"] and not ind["over"] and not ind["small"] and ind["cause"] and ind["measure"] is None:
            warn("measure_missing", f"指标“{ind['name']}”的偏差原因分析及改进措施只写了原因，没有写改进措施，"
                                    "报告中已标注“（待补充改进措施）”")
        if ind["actual_missing"]:
            warn("actual_missing", f"指标“{ind['name']}”未填写实际完成值，报告中已标注“（待补充实际完成值）”")
        elif ind["actual_is_target"]:
            warn("actual_is_target", f"指标“{ind['name']}”的实际完成值“{ind['actual_text']}”是目标值写法，"
                                     "请填写实际测量值")
    groups = []
    known = set(p.level1_names)
    for l1 in list(p.level1_names) + (["其他指标"] if any(i["level1"] not in known for i in inds) else []):
        members = [i for i in inds if (i["level1"] == l1 or (l1 == "其他指标" and i["level1"] not in known))]
        if not members:
            continue
        # as the total: 待填报 while an indicator of the group waits (scoring.is_waiting)
        waiting = any(i["waiting"] for i in members)
        groups.append({"name": l1, "indicators": members,
                       "weight": xround(sum(i["weight"] or 0 for i in members), 2),
                       "score": PENDING if waiting else xround(sum(i["score"] or 0 for i in members), 2),
                       "below": [i for i in members if i["below"]]})
    below = [i for i in inds if i["below"]]
    overs = [i for i in inds if i["over"]]
    # the indicators the scorer still waits for (scoring.is_waiting): as the 校验提示 and the live 综述 count them
    waiting_rows = waiting_count(rec, r.indicators)
    gaps = [i for i in inds if i["actual_missing"] or i["actual_is_target"]]

    # --- problems and suggestions: from the shortfalls, then the unit's own
    problems: list[dict] = []
    if fund["na"]:
        problems.append({"kind": "no_budget"})
    elif fund["material"]:
        problems.append({"kind": "balance"})
    elif fund["over"]:
        problems.append({"kind": "excess"})
    problems += [{"kind": "shortfall", "ind": i} for i in below if not i["over"] and not i["small"]]
    problems += [{"kind": "over", "ind": i} for i in overs]
    if gaps:
        problems.append({"kind": "data_gap", "inds": gaps,
                         "missing": [i for i in gaps if i["actual_missing"]],
                         "as_target": [i for i in gaps if i["actual_is_target"] and not i["actual_missing"]],
                         "satisfaction": any("满意" in (i["level1"] + i["level2"] + i["name"]) for i in gaps)})
    missing_goals = [g for g in goals if g["actual"] is None]
    if missing_goals:
        problems.append({"kind": "goal_gap", "goals": missing_goals})
    # what the form's own checks found (校验提示, 提示 column): weights against the rules, entries against the lists
    weights = [t.rstrip("；").replace("，请调整各指标分值", "") for t in weight_checks(p, r.total_weight, r.level1_weights)
               if t]
    if weights:
        problems.append({"kind": "weights", "texts": weights, "total": p.total})
    messages = row_messages(p)
    entries = [{"name": i["name"], "texts": [messages[f].rstrip("；") for f in res.flags if f in ENTRY_FLAGS]}
               for i, res in zip(inds, (res for row, res in zip(rec.indicators, r.indicators) if is_active(row)))]
    entries = [e for e in entries if e["texts"]]
    if entries:
        problems.append({"kind": "entries", "rows": entries})
    suggestions = [dict(pr) for pr in problems]
    problems += [{"kind": "unit", "text": t} for t in info["problems"]]
    suggestions += [{"kind": "unit", "text": t} for t in info["suggestions"]]
    warn_funds_only(info, warn, "请结合指标偏差和管理环节具体分析原因（报告已列出由表中数据得出的问题）")
    for text in r.problems:
        warn("check", f"自评表校验：{text.rstrip('；')}")

    year = year_of(rec.year)
    ctx = {
        "project": {"name": name, "year": year, "department": as_text(rec.department) or None,
                    "unit": as_text(rec.unit) or None, "profile_id": p.id, "profile_name": p.name,
                    "same_body": same_body(as_text(rec.department), as_text(rec.unit))},
        "fund": fund,
        "goals": goals,
        "target_block": target_block,
        "indicators": inds,
        "groups": groups,
        "below": below,
        "overs": overs,
        "gaps": gaps,
        "full_count": sum(1 for i in inds if i["full"]),
        # a 待填报 project (inputs missing): its total and grade say 待填报 (PENDING) as the scorer's; the figures
        # entered so far are score_sum and partial_total. indicator_score is the indicators' 得分 as a table's
        # 合计 prints it: 待填报 while an indicator waits (as the 总分 and the groups' subtotals)
        "result": {"sentence": said.total.py(total_values(rec, r)),
                   "waiting": waiting_rows, "indicator_score": PENDING if waiting_rows else r.score_sum,
                   "total": r.total, "partial_total": r.partial_total, "raw_total": r.raw_total,
                   "pending": r.pending, "total_weight": r.total_weight, "cap": r.cap,
                   "capped": r.cap is not None and r.raw_total > r.cap, "grade": r.grade,
                   "score_sum": r.score_sum, "weight_sum": r.weight_sum, "verdict": r.verdict,
                   "grades": [{"label": g.label, "min": g.min} for g in p.grades]},
        "problems": problems,
        "suggestions": suggestions,
        "info": info,
        "expense_rows": info["expenses"] or [{"item": s["name"], "amount": s["spent"], "voucher": "", "note": ""}
                                             for s in sources if s["spent"] is not None],
        "evaluator_rows": info["evaluators"] or [{"name": "", "title": "", "unit": ""}] * 3,
        "warnings": [f.message for f in findings],
    }
    return ctx, findings


def multi_context(inputs: list[ProjectInput], info: dict | None = None) -> tuple[dict, list[Finding]]:
    """The context of a report covering several projects of one unit (seed 003 form)."""
    unit_info, findings = normalize_info(info, "")
    projects = []
    for inp in inputs:
        ctx, found = project_context(inp)
        findings += found
        projects.append(ctx)
    if only_funding(unit_info["problems"], FUNDS_ONLY_PROBLEM):
        findings.append(Finding("funds_only_problem", "报告填写的主要问题只有“资金不足”：按自评质量考核评分表，问题仅为"
                                                      "“资金不足”的得0分，请结合各项目偏差具体分析原因"))
    if only_funding(unit_info["suggestions"], FUNDS_ONLY_SUGGESTION):
        findings.append(Finding("funds_only_suggestion", "报告填写的建议只有“加大资金投入”："
                                                         "按自评质量考核评分表，建议仅为"
                                                         "“加大资金投入”的得0分，请针对问题逐条提出措施"))
    # a project's amount not entered yet (None) is not 0: the unit's total and 执行率 wait for it (待填报), and the
    # intro says how many projects are missing it
    budget_pending = sum(1 for c in projects if c["fund"]["budget"] is None)
    spent_pending = sum(1 for c in projects if c["fund"]["spent"] is None)
    budget = None if budget_pending else xround(sum(c["fund"]["budget"] for c in projects), 2)
    spent = None if spent_pending else xround(sum(c["fund"]["spent"] for c in projects), 2)
    units = [c["project"]["unit"] or c["project"]["department"] for c in projects]
    unit_name = unit_info["unit_name"] or (units[0] if units and all(u == units[0] for u in units) else None)
    years = {c["project"]["year"] for c in projects}
    unit_budget = unit_info["unit_budget"]
    coverage = (budget / float(unit_budget) if budget is not None and is_number(unit_budget)
                and float(unit_budget) > 0 else None)
    ctx = {
        "unit": {"name": unit_name, "year": years.pop() if len(years) == 1 else None},
        "projects": projects,
        "totals": {"count": len(projects), "budget": budget, "spent": spent,
                   "budget_pending": budget_pending, "spent_pending": spent_pending,
                   "rate": spent / budget if budget is not None and spent is not None and budget > 0 else None,
                   "coverage": coverage,
                   "below_count": sum(len(c["below"]) for c in projects)},
        "info": unit_info,
        "warnings": [str(f) for f in findings],
    }
    return ctx, findings


# ----------------------------------------------------------------------------- blocks (rendered text)

@dataclass
class Block:
    """A piece of rendered text: a heading (level 1–3), a paragraph, or a table (rows of cells)."""

    kind: str            #: "heading" | "para" | "table"
    text: str = ""
    level: int = 0
    rows: list[list[str]] = field(default_factory=list)
    align: str = ""      #: a paragraph's alignment set by its section's marker (:data:`MARKERS`), "" for the style's

    @property
    def heading(self) -> bool:
        return self.kind == "heading"


_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
#: a section marker of the markup: ``::: 左对齐`` on a line of its own opens a section whose paragraphs take the
#: alignment named (set by :func:`xlsx_engine.narrative.docx.official_docx`); a bare ``:::`` or the next heading
#: closes it. The marker names the section whatever its wording, so a bureau may reword the section freely; the
#: marker lines are not printed. A line ``:::`` followed by another name is printed as it stands (a typo shows).
MARKER = ":::"
ALIGN_LEFT = "left"
MARKERS = {"左对齐": ALIGN_LEFT}
_TABLE_RULE = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$")


def parse_blocks(markup: str) -> list[Block]:
    """Split rendered Markdown-subset text into blocks (each non-blank line is one paragraph).

    Table rows may be separated by blank lines (template loops leave them); a ``| --- |`` rule
    after a row starts a new table whose header is that row. The paragraphs of a section marked ``::: 左对齐``
    (:data:`MARKER`) carry its alignment.
    """
    blocks: list[Block] = []
    align = ""
    for raw in markup.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith(MARKER):
            name = line[len(MARKER):].strip()
            if not name or name in MARKERS:
                align = MARKERS.get(name, "")
                continue
        m = _HEADING.match(line)
        if m:
            align = ""
            blocks.append(Block("heading", m.group(2).strip(), len(m.group(1))))
        elif line.startswith("|"):
            last = blocks[-1] if blocks and blocks[-1].kind == "table" else None
            if _TABLE_RULE.match(line):
                if last is not None and len(last.rows) > 1:
                    blocks.append(Block("table", rows=[last.rows.pop()]))
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if last is not None:
                last.rows.append(cells)
            else:
                blocks.append(Block("table", rows=[cells]))
        else:
            blocks.append(Block("para", line, align=align))
    return blocks


def blocks_to_markdown(blocks: list[Block]) -> str:
    out = []
    for b in blocks:
        if b.kind == "heading":
            out.append("#" * b.level + " " + b.text)
        elif b.kind == "table":
            rows = ["| " + " | ".join(r) + " |" for r in b.rows]
            if rows:
                rows.insert(1, "|" + "|".join(" --- " for _ in b.rows[0]) + "|")
            out.append("\n".join(rows))
        else:
            out.append(b.text)
    return "\n\n".join(out) + "\n"


def blocks_to_text(blocks: list[Block]) -> str:
    """Plain text: headings on their own line after a blank line, paragraphs indented by two
    full-width spaces, table rows tab-separated."""
    out: list[str] = []
    for b in blocks:
        if b.kind == "heading":
            if out:
                out.append("")
            out.append(b.text)
        elif b.kind == "table":
            out.extend("\t".join(r) for r in b.rows)
        else:
            out.append("\u3000\u3000" + b.text)
    return "\n".join(out) + "\n"


@dataclass
class Rendered:
    """A rendered narrative: its Markdown-subset source, blocks, the context used and the warnings."""

    markup: str
    context: dict
    warnings: list[Finding]
    template: str = ""

    @functools.cached_property
    def blocks(self) -> list[Block]:
        return parse_blocks(self.markup)

    def markdown(self) -> str:
        return blocks_to_markdown(self.blocks)

    def text(self) -> str:
        return blocks_to_text(self.blocks)


# ----------------------------------------------------------------------------- environment and errors

_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def circled(value: Any) -> str:
    """The numbering below （1）: ① … ⑳, beyond that “21）”."""
    n = int(value)
    return _CIRCLED[n - 1] if 0 < n <= len(_CIRCLED) else f"{n}）"


_NUMBERING = (
    (re.compile(r"^([一二三四五六七八九十]+)、"), lambda m: f"（{m.group(1)}）"),
    (re.compile(r"^（([一二三四五六七八九十]+)）"), lambda m: f"{cn_to_int(m.group(1))}."),
    (re.compile(r"^(\d+)\.(?!\d)"), lambda m: f"（{m.group(1)}）"),
    (re.compile(r"^（(\d+)）"), lambda m: circled(m.group(1))),
)


def cn_to_int(text: str) -> int:
    """一 … 九十九 → 1 … 99."""
    digits = "一二三四五六七八九"
    if "十" not in text:
        return digits.index(text) + 1
    tens, _, ones = text.partition("十")
    return (digits.index(tens) + 1 if tens else 1) * 10 + (digits.index(ones) + 1 if ones else 0)


def nest(markup: Any, levels: int = 1) -> str:
    """A rendered text placed under a section of another: headings pushed down ``levels`` levels and every
    numbering (headings and paragraphs) moved one rank down — 一、→（一）→1.→（1）→① — so the nested
    text does not restart the outer numbering (“五、评价报告综述” followed by “一、项目基本概况”)."""
    out = []
    for line in str(markup or "").splitlines():
        m = re.match(r"^(#{1,5}) (.*)$", line)
        prefix, body = (("#" * (len(m.group(1)) + levels) + " "), m.group(2)) if m else ("", line)
        for rx, repl in _NUMBERING:
            if rx.match(body):
                body = rx.sub(repl, body, count=1)
                break
        out.append(prefix + body)
    return "\n".join(out) + ("\n" if str(markup or "").endswith("\n") else "")


def pending_num(value: Any, *args, **kwargs) -> str:
    """``num`` of the templates: a figure the scorer cannot compute yet (PENDING) prints as 待填报."""
    return PENDING if value == PENDING else FILTERS["num"](value, *args, **kwargs)


def points(value: Any, digits: int = 2) -> str:
    """A score with its unit, ``98`` → ``98分``; a pending one (PENDING) prints as 待填报."""
    return PENDING if value == PENDING else FILTERS["num"](value, digits) + "分"


def _finalize(value: Any) -> Any:
    """Printing a raw float would show binary noise (0.30000000000000004): format numbers by default."""
    if isinstance(value, float):
        return FILTERS["num"](value)
    check_printed(value)
    return value


class SafeEnvironment(BoundedSandbox):
    """The narrative's sandbox (:mod:`xlsx_engine.narrative.sandbox`) with the official-writing filters."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.add_filters(FILTERS)
        self.add_filters({"circled": circled, "nest": nest, "num": pending_num, "points": points})


class OneFileLoader(jinja2.BaseLoader):
    """Loads exactly one file, by its file name (a bureau's single custom template)."""

    def __init__(self, path: str | Path):
        self.path = Path(path).resolve()

    def get_source(self, environment, template):
        if template != self.path.name:
            raise jinja2.TemplateNotFound(template)
        try:
            source = self.path.read_text(encoding="utf-8")
            mtime = self.path.stat().st_mtime
        except OSError:
            raise jinja2.TemplateNotFound(template) from None

        def uptodate() -> bool:
            try:
                return self.path.stat().st_mtime == mtime
            except OSError:
                return False
        return source, str(self.path), uptodate


@functools.lru_cache(maxsize=32)
def make_env(search_path: tuple[str, ...], autoescape: bool = False, single: str | None = None) -> SafeEnvironment:
    """A sandboxed, strict Jinja2 environment with the official-writing filters.

    ``search_path`` lists template folders, first match wins (a bureau's folder before the built-in one);
    ``single`` is one custom template file, loadable by its file name, looked up before the folders.
    """
    loader = FileSystemLoader(list(search_path)) if search_path else None
    if single is not None:
        loader = jinja2.ChoiceLoader([OneFileLoader(single)] + ([loader] if loader else []))
    env = SafeEnvironment(
        loader=loader,
        undefined=StrictUndefined, autoescape=autoescape, trim_blocks=False, lstrip_blocks=True,
        keep_trailing_newline=True, finalize=_finalize, auto_reload=True)
    return env


_UNDEFINED_PATTERNS = (
    (re.compile(r"^'([^']*)' is undefined$"), "变量“{0}”未定义"),
    (re.compile(r"^'([^']*)' has no attribute '([^']*)'$"), "“{0}”没有属性“{1}”"),
    (re.compile(r"^'([^']*)' object has no attribute '([^']*)'$"), "“{0}”对象没有属性“{1}”"),
    (re.compile(r"^'([^']*)' has no element (.*)$"), "“{0}”没有元素 {1}"),
)
_READ_ONLY = re.compile(r"^'(?:tuple|[\w.]*ReadOnlyDict) object' has no attribute "
                        r"'(append|extend|insert|pop|remove|clear|update|setdefault|popitem|sort|reverse|add|discard)'$")
_SECURITY = re.compile(r"access to attribute '([^']*)' of '([^']*)' object is unsafe")


def _detail(exc: BaseException) -> str:
    msg = str(getattr(exc, "message", None) or exc)
    if isinstance(exc, SecurityError):
        m = _SECURITY.search(msg)
        if m:
            return (f"模板试图访问“{m.group(2)}”对象的属性“{m.group(1)}”，沙箱已禁止"
                    "（模板只能读取报告数据，不能调用内部属性或修改数据）")
        return f"沙箱已禁止该操作：{msg}"
    if isinstance(exc, jinja2.UndefinedError):
        m = _READ_ONLY.match(msg)
        if m:
            return f"沙箱已禁止修改报告数据（“{m.group(1)}”）：报告数据是只读的，模板只能读取"
        for rx, fmt in _UNDEFINED_PATTERNS:
            m = rx.match(msg)
            if m:
                return fmt.format(*m.groups()) + "（请检查拼写，可用变量见 templates/narrative/README.md）"
        return f"变量未定义：{msg}"
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return f"语法错误：{msg}"
    if isinstance(exc, FilterError):
        return str(exc)
    if isinstance(exc, RecursionError):
        return "模板递归过深（宏调用了自己），已中止"
    return f"{type(exc).__name__}：{msg}"


def _template_frame(exc: BaseException) -> tuple[str | None, int | None]:
    """The deepest traceback frame that belongs to a template file (Jinja rewrites them to template lines)."""
    found = (None, None)
    tb = exc.__traceback__
    while tb is not None:
        fname = tb.tb_frame.f_code.co_filename
        if fname and not fname.endswith(".py") and not fname.startswith("<") and os.path.isfile(fname):
            found = (fname, tb.tb_lineno)
        elif fname == "<template>":
            found = (fname, tb.tb_lineno)
        tb = tb.tb_next
    return found


def _source_line(filename: str | None, line: int | None, source: str | None = None) -> str:
    if not line:
        return ""
    try:
        text = source if source is not None else Path(filename).read_text(encoding="utf-8")
    except (OSError, TypeError):
        return ""
    lines = text.splitlines()
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def template_error(exc: BaseException, name: str) -> NarrativeError:
    """Turn a Jinja2 (or filter) exception into a :class:`NarrativeError` naming file, line and culprit."""
    if isinstance(exc, jinja2.TemplateNotFound):
        return NarrativeError(f"找不到模板“{exc.name}”", where=name, template=name, detail=str(exc.name),
                              hint="检查文件名，或用 --template 指定模板文件/文件夹")
    if isinstance(exc, jinja2.TemplateSyntaxError):
        filename, line = exc.filename or name, exc.lineno
    else:
        filename, line = _template_frame(exc)
        if line is None and getattr(exc, "lineno", None):      # the output limit names the line itself
            filename, line = exc.filename, exc.lineno
        filename = filename or name
    detail = _detail(exc)
    src = _source_line(filename, line)
    where = f"模板 {filename}" + (f" 第{line}行" if line else "")
    return NarrativeError(detail, where=where, hint=f"该行内容：{src}" if src else None, template=filename,
                          line=line, detail=detail)


# ----------------------------------------------------------------------------- the narrator

_PENDING = re.compile(r"（待补充([^（）]{1,20})）")


def pending_findings(markup: str, findings: list[Finding], project: str = "") -> list[Finding]:
    """A warning for each kind of “（待补充…）” placeholder in the text that no specific warning covers yet."""
    covered = " ".join(f.message for f in findings)
    out = []
    for label in dict.fromkeys(_PENDING.findall(markup)):
        if f"待补充{label}" not in covered:
            count = markup.count(f"（待补充{label}）")
            out.append(Finding("pending", f"报告中有{count}处“（待补充{label}）”，"
                                          "请在数据文件“其他信息”或自评表中补充后重新生成", project))
    return out


class Narrator:
    """Renders narratives from the built-in templates, optionally overridden by a bureau's own.

    Args:
        template: None (built-in set); a folder whose files override built-in ones of the same
            relative name (``project/summary.j2`` …); or one ``.j2`` file that replaces the 综述
            template of single-project reports and the per-project section of multi-project reports.
            A ``.docx`` is a Word template and is handled by :mod:`xlsx_engine.narrative.docx`.
        template_dir: the built-in folder (tests may point elsewhere).

    Raises:
        NarrativeError: the custom template does not exist.
    """

    def __init__(self, template: str | Path | None = None, *, template_dir: str | Path = TEMPLATE_DIR):
        self.template_dir = Path(template_dir)
        self.custom_file: str | None = None
        self.custom_path: Path | None = None
        self.docx_template: Path | None = None
        search = [str(self.template_dir)]
        if template is not None:
            path = Path(template)
            if not path.exists():
                raise NarrativeError("找不到模板文件", where=str(path))
            why = None if path.is_dir() else not_regular(path)
            if why:
                raise NarrativeError(why, where=str(path), hint="--template 应为模板文件（.j2、.docx）或模板文件夹")
            if path.is_dir():
                search.insert(0, str(path.resolve()))
            elif path.suffix.lower() == ".docx":
                self.docx_template = path
            else:
                self.custom_path = path.resolve()
                self.custom_file = path.name
        self.search_path = tuple(search)
        self.env = make_env(self.search_path, single=str(self.custom_path) if self.custom_path else None)

    # -- low level
    def render_template(self, name: str, context: dict) -> str:
        """Render one template by name with a context.

        Raises:
            NarrativeError: naming the template file, line and variable or tag at fault.
        """
        try:
            template = self.env.get_template(name)
        except jinja2.TemplateError as exc:
            raise template_error(exc, self.path_of(name)) from None
        try:
            return template.render(freeze_context(context))
        except NarrativeError:
            raise
        except Exception as exc:   # anything a template or a filter raises: report where it happened
            raise template_error(exc, template.filename or name) from None

    def path_of(self, name: str) -> str:
        if self.custom_path is not None and name == self.custom_file:
            return str(self.custom_path)
        for folder in self.search_path:
            candidate = Path(folder) / name
            if candidate.exists():
                return str(candidate)
        return name

    def family_of(self, inp: ProjectInput, family: str | None) -> str:
        fam = family or as_text(inp.extra.get("报告类型")) or narrative_settings(inp.profile)["family"]
        fam = {"项目": "project", "转移支付": "transfer"}.get(fam, fam)
        if fam not in FAMILIES:
            raise NarrativeError(f"未知的报告类型“{fam}”",
                                 hint="可用：" + "、".join(FAMILIES) + "（多个项目自动使用 multi）")
        return fam

    def summary_template(self, family: str) -> str:
        return self.custom_file or FAMILIES[family]

    # -- single project
    def summary(self, inp: ProjectInput, family: str | None = None) -> Rendered:
        """The 评价报告综述 of one project (what goes into the 综述 sheet and the report's 综述 section)."""
        fam = self.family_of(inp, family)
        ctx, findings = project_context(inp)
        name = self.summary_template(fam)
        markup = self.render_template(name, ctx)
        findings = findings + pending_findings(markup, findings, inp.name)
        return Rendered(markup, ctx, findings, self.path_of(name))

    def report(self, inp: ProjectInput, family: str | None = None, region: str | None = None) -> Rendered:
        """The complete 自评报告 of one project as Markdown, in its region's outline: Hunan's 附件3 (cover,
        tables, 五、评价报告综述) or, elsewhere, a cover, the 综述 itself and the 自评表 as 附件."""
        reg = region_of(inp, region)
        summary = self.summary(inp, family or hunan_family(inp, reg))
        ctx = dict(summary.context, summary=summary.markup, region=reg, region_name=REGIONS[reg])
        name = REPORT_MD if reg == "hunan" else NATIONAL_REPORT_MD
        markup = self.render_template(name, ctx)
        findings = summary.warnings + pending_findings(markup, summary.warnings, inp.name)
        return Rendered(markup, ctx, findings, self.path_of(name))

    # -- several projects
    def project_sections(self, inputs: list[ProjectInput], info: dict | None = None) -> tuple[dict, list[Finding]]:
        """The multi-project context with each project's rendered section (``projects[i].section``)."""
        ctx, findings = multi_context(inputs, info)
        name = self.custom_file or MULTI_PROJECT
        for i, pctx in enumerate(ctx["projects"], 1):
            pctx["index"] = i
            pctx["section"] = self.render_template(name, dict(pctx, index=i))
        ctx["intro"] = self.render_template("multi/intro.j2", ctx)
        ctx["closing"] = self.render_template("multi/closing.j2", ctx)
        return ctx, findings

    def multi_report(self, inputs: list[ProjectInput], info: dict | None = None) -> Rendered:
        """The report covering several projects of a unit (seed 003 form), as Markdown."""
        ctx, findings = self.project_sections(inputs, info)
        markup = self.render_template(MULTI_REPORT_MD, ctx)
        return Rendered(markup, ctx, findings + pending_findings(markup, findings), self.path_of(MULTI_REPORT_MD))


def render_summary(inp: ProjectInput, *, family: str | None = None, template: str | Path | None = None) -> Rendered:
    """Shortcut: the 综述 of one project with the built-in (or given) templates."""
    return Narrator(template).summary(inp, family)


def iter_warnings(findings: Iterable[Finding]) -> list[str]:
    return [str(f) for f in findings]
