"""The rubric as data: its model, parsing and loading, the main sheet's columns, and the grading.

A rubric (``templates/profiles/review/*.yaml``) is groups → items → parts; :func:`parse_rubric` validates
it and :func:`load_rubric` loads one by id or path. :func:`columns` derives the 考核评分表's columns from
it; :func:`evaluate_row` is the Python twin of the formulas :func:`row_formulas` writes (item scores,
subtotals, 总分, 待评项数, 提示, 等次).
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from xlsx_engine.forms.project.profile import load_profile
from xlsx_engine.kernel.errors import ProfileError
from xlsx_engine.kernel.excel import n, num_formula, q
from xlsx_engine.kernel.profiles import PROFILE_DIR
from xlsx_engine.kernel.resources import load_yaml
from xlsx_engine.kernel.textfilters import FilterError, to_date
from xlsx_engine.kernel.xlmath import is_number, xround

REVIEW_DIR = PROFILE_DIR / "review"
DEFAULT_RUBRIC = "review-yueyang"
YES, NO = "是", "否"
NOT_FOUND = "未提供"          #: flag value when no problems/suggestions text was found
RULES = ("automatic", "judgement")
KINDS = ("yesno", "deduct", "ratio", "range", "bands")
SOURCES = ("late_working_days", "report_body", "report_attachments", "weights", "level3",
           "problems_funding_only", "suggestions_funding_only")
PENDING, CHECK = "待评", "待核"
DEPARTMENT, PROJECT = "部门整体", "项目支出"     #: what a unit evaluated (decides its report outline and attachments)
UNIT_KINDS = (DEPARTMENT, PROJECT)
_NAME_OK = re.compile(r"^[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_.\u4e00-\u9fff]*$")
_CELLISH = re.compile(r"^[A-Za-z]{1,3}\d+$|^[RrCc]\d*$|^[Rr]\d+[Cc]\d+$")


# ============================================================================ the rubric

#: ``Rubric.regulation_source`` when the weights are listed in the rubric (they then apply to every project);
#: otherwise they come from a scoring profile and each project is held to its own profile's weights
REGULATION_IN_RUBRIC = "考核规则文件"

@dataclass(frozen=True)
class Band:
    label: str
    min: float
    max: float


@dataclass(frozen=True)
class Flag:
    """An automatic yes/no beside a bands part: when 是, the part scores 0 (只提出资金不足 …)."""

    key: str
    name: str
    label: str
    source: str


@dataclass(frozen=True)
class Part:
    """One scored element of an item (one or two input columns)."""

    key: str
    name: str                      #: workbook-scoped name of its (main) column; also a 提交记录 column
    label: str                     #: column header
    rule: str                      #: automatic | judgement
    kind: str                      #: yesno | deduct | ratio | range | bands
    points: float
    per: float = 1.0               #: deduct: points per counted item
    max_count: float | None = None  #: deduct: largest count allowed in the cell
    requires: str | None = None    #: deduct: key of a yesno part that must be 是, else 0
    source: str | None = None      #: automatic: what computes it (see SOURCES)
    bands: tuple[Band, ...] = ()
    flag: Flag | None = None
    checklist: tuple[str, ...] = ()
    note: str = ""
    ok_label: str = ""
    total_label: str = ""

    def allowed_text(self) -> str:
        """The allowed values, as printed in the sheet and in warnings."""
        if self.kind == "yesno":
            return "是/否"
        if self.kind == "deduct":
            return f"0–{self.max_count:g}的整数" if self.max_count is not None else "不小于0的整数"
        if self.kind == "range":
            return f"0–{self.points:g}"
        if self.kind == "bands":
            parts = [f"{b.min:g}" if b.min == b.max else f"{b.min:g}–{b.max:g}"
                     for b in sorted(self.bands, key=lambda b: b.min)]
            return "、".join(parts[:-1]) + "或" + parts[-1] if len(parts) > 1 else parts[0]
        return ""

    def in_bands(self, value: float) -> bool:
        return any(b.min <= value <= b.max for b in self.bands)


@dataclass(frozen=True)
class Item:
    key: str
    name: str
    weight: float
    criterion: str
    evidence: str
    parts: tuple[Part, ...]


@dataclass(frozen=True)
class Group:
    name: str
    weight: float
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Section:
    name: str
    pattern: re.Pattern
    role: str = ""


@dataclass(frozen=True)
class Attachment:
    name: str
    pattern: re.Pattern
    satisfied_by: str = ""
    waived_by: re.Pattern | None = None
    forms: tuple[str, ...] = ()          #: the unit kinds that must attach it (empty: every unit)


@dataclass(frozen=True)
class Grade:
    label: str
    min: float


@dataclass(frozen=True)
class Rubric:
    id: str
    name: str
    source: str
    total: float
    digits: int
    password: str
    grades: tuple[Grade, ...]
    groups: tuple[Group, ...]
    holidays: frozenset
    workdays: frozenset
    regulation: tuple[tuple[str, float], ...]   #: (category, weight); category "fund" = 预算执行率
    regulation_source: str
    sections: tuple[Section, ...]
    attachments: tuple[Attachment, ...]
    path: str = ""
    #: the regions (a profile's ``narrative.region``) whose 规程 this is; empty: written for none in particular
    regions: tuple[str, ...] = ()
    #: the body sections of a 项目支出 unit's report (empty: ``sections`` for every unit)
    project_sections: tuple[Section, ...] = ()
    #: a file name or report title that shows a unit evaluated 部门整体 spending
    department_evidence: re.Pattern | None = None

    def sections_for(self, kind: str) -> tuple[Section, ...]:
        """The report body sections required of a unit of this kind."""
        return self.project_sections if kind == PROJECT and self.project_sections else self.sections

    def attachments_for(self, kind: str) -> tuple[Attachment, ...]:
        """The attachments required of a unit of this kind (a 项目支出 unit is not asked for 部门整体 tables)."""
        return tuple(a for a in self.attachments if not a.forms or kind in a.forms)

    @property
    def items(self) -> list[Item]:
        return [i for g in self.groups for i in g.items]

    @property
    def parts(self) -> list[Part]:
        return [p for i in self.items for p in i.parts]

    def part(self, key: str) -> Part:
        for p in self.parts:
            if p.key == key:
                return p
        raise KeyError(key)

    def grade_for(self, score: float) -> str:
        for g in self.grades:
            if score >= g.min:
                return g.label
        return self.grades[-1].label


def _f(value: Any, what: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProfileError(f"{what} 应为数字，实际为 {value!r}", where=where)
    return float(value)


def _dates(values: Any, what: str, where: str) -> frozenset:
    out = set()
    for v in values or []:
        try:
            out.add(to_date(v))
        except FilterError:
            raise ProfileError(f"{what} 中的“{v}”不是有效日期（应写作 2024-04-04）", where=where) from None
    return frozenset(out)


def _regex(text: Any, what: str, where: str) -> re.Pattern:
    try:
        return re.compile(str(text))
    except re.error as exc:
        raise ProfileError(f"{what} 的正则表达式有误：{exc}", where=where) from None


def _unit_kinds(value: Any, what: str, where: str) -> tuple[str, ...]:
    kinds = value or []
    if not isinstance(kinds, list) or any(k not in UNIT_KINDS for k in kinds):
        raise ProfileError(f"{what} 应为列表，取值为 {'、'.join(UNIT_KINDS)}，实际为 {value!r}", where=where)
    return tuple(kinds)


def parse_rubric(data: dict, where: str = "<rubric>") -> Rubric:
    """Validate a rubric mapping and build a :class:`Rubric`.

    Raises:
        ProfileError: a field is missing or wrong, the points do not add up, or a name is not a valid Excel name.
    """
    if not isinstance(data, dict):
        raise ProfileError("考核规则文件应为键值结构", where=where)
    try:
        groups_raw = data["groups"]
        grades_raw = data["grades"]
    except KeyError as exc:
        raise ProfileError(f"缺少字段 {exc.args[0]}", where=where) from None
    digits = int(data.get("rounding", 2))
    groups = []
    seen_keys: set[str] = set()
    for gi, g in enumerate(groups_raw or [], 1):
        gw = _f(g.get("weight"), f"groups 第{gi}项 weight", where)
        items = []
        for ii, it in enumerate(g.get("items") or [], 1):
            iwhere = f"{g.get('name')}·{it.get('name')}"
            iw = _f(it.get("weight"), f"{iwhere} weight", where)
            parts = []
            for pi, p in enumerate(it.get("parts") or [], 1):
                pwhere = f"{iwhere} 第{pi}个要素"
                for key in ("key", "name", "rule", "kind", "points"):
                    if key not in p:
                        raise ProfileError(f"{pwhere} 缺少字段 {key}", where=where)
                if p["rule"] not in RULES:
                    raise ProfileError(f"{pwhere} 的 rule 应为 automatic 或 judgement，实际为 {p['rule']!r}", where=where)
                if p["kind"] not in KINDS:
                    raise ProfileError(f"{pwhere} 的 kind 应为 {'/'.join(KINDS)} 之一，实际为 {p['kind']!r}", where=where)
                source = p.get("source")
                if p["rule"] == "automatic" and source not in SOURCES:
                    raise ProfileError(f"{pwhere} 为 automatic，source 应为 {'/'.join(SOURCES)} 之一，实际为 {source!r}",
                                       where=where)
                if p["kind"] == "ratio" and p["rule"] != "automatic":
                    raise ProfileError(f"{pwhere}：ratio 只能由程序计算（rule: automatic）", where=where)
                if p["kind"] in ("yesno", "range", "bands") and p["rule"] != "judgement":
                    raise ProfileError(f"{pwhere}：{p['kind']} 由评审人员填写（rule: judgement）", where=where)
                bands = tuple(Band(str(b.get("label", "")), _f(b.get("min"), f"{pwhere} bands.min", where),
                                   _f(b.get("max"), f"{pwhere} bands.max", where)) for b in p.get("bands") or [])
                if p["kind"] == "bands":
                    if not bands:
                        raise ProfileError(f"{pwhere}：kind 为 bands 时须列出 bands", where=where)
                    for b in bands:
                        if not 0 <= b.min <= b.max <= float(p["points"]):
                            raise ProfileError(f"{pwhere}：档次“{b.label}”的范围应在 0–{p['points']} 之间且 min ≤ max",
                                               where=where)
                flag = None
                if p.get("zero_if"):
                    z = p["zero_if"]
                    if z.get("source") not in SOURCES:
                        raise ProfileError(f"{pwhere} zero_if.source 无效：{z.get('source')!r}", where=where)
                    flag = Flag(str(z["key"]), str(z["name"]), str(z.get("label", z["name"])), str(z["source"]))
                part = Part(key=str(p["key"]), name=str(p["name"]), label=str(p.get("label", p["name"])),
                            rule=p["rule"], kind=p["kind"], points=_f(p["points"], f"{pwhere} points", where),
                            per=_f(p.get("per", 1), f"{pwhere} per", where),
                            max_count=None if p.get("max_count") is None else _f(p["max_count"], "max_count", where),
                            requires=p.get("requires"), source=source, bands=bands, flag=flag,
                            checklist=tuple(str(c) for c in p.get("checklist") or []), note=str(p.get("note", "")),
                            ok_label=str(p.get("ok_label", f"{p.get('label', p['name'])}：符合项数")),
                            total_label=str(p.get("total_label", f"{p.get('label', p['name'])}：核对项数")))
                for key in (part.key, *( [flag.key] if flag else [])):
                    if key in seen_keys:
                        raise ProfileError(f"要素编号 {key} 重复", where=where)
                    seen_keys.add(key)
                parts.append(part)
            if not parts:
                raise ProfileError(f"{iwhere} 没有评分要素（parts）", where=where)
            if abs(sum(p.points for p in parts) - iw) > 1e-9:
                raise ProfileError(f"{iwhere} 各要素分值之和 {sum(p.points for p in parts):g} ≠ 分值 {iw:g}", where=where)
            items.append(Item(str(it.get("key", f"item{gi}_{ii}")), str(it["name"]), iw,
                              " ".join(str(it.get("criterion", "")).split()), str(it.get("evidence", "")),
                              tuple(parts)))
        if abs(sum(i.weight for i in items) - gw) > 1e-9:
            raise ProfileError(f"一级指标“{g.get('name')}”各二级指标分值之和 {sum(i.weight for i in items):g} ≠ {gw:g}",
                               where=where)
        groups.append(Group(str(g["name"]), gw, tuple(items)))
    total = _f(data.get("total"), "total", where)
    if not groups or abs(sum(g.weight for g in groups) - total) > 1e-9:
        raise ProfileError(f"一级指标分值之和 {sum(g.weight for g in groups):g} ≠ total {total:g}", where=where)
    for part in (p for g in groups for i in g.items for p in i.parts):
        if part.requires:
            req = next((p for g in groups for i in g.items for p in i.parts if p.key == part.requires), None)
            if req is None or req.kind != "yesno":
                raise ProfileError(f"要素 {part.key} 的 requires 应指向一个 yesno 要素", where=where)
    grades = sorted((Grade(str(g["label"]), float(g["min"])) for g in grades_raw), key=lambda g: -g.min)
    if not grades or grades[-1].min != 0:
        raise ProfileError("等次的最低一档 min 应为 0", where=where)
    cal = data.get("calendar") or {}
    reg = data.get("regulation") or {}
    if reg.get("weights"):
        regulation = tuple((str(k), _f(v, f"regulation.weights.{k}", where)) for k, v in reg["weights"].items())
        reg_source = REGULATION_IN_RUBRIC
    else:
        prof = load_profile(str(reg.get("profile", "national")))
        if any(l1.weight is None for l1 in prof.level1):
            raise ProfileError(f"评分规则“{prof.id}”的一级指标权重不固定，不能作为规程权重", where=where,
                               hint="请在 regulation.weights 中直接列出")
        regulation = (("fund", prof.fund_weight),) + tuple((l1.name, float(l1.weight)) for l1 in prof.level1)
        reg_source = f"评分规则 {prof.id}（{prof.name}）"
    report = data.get("report") or {}
    sections = tuple(Section(str(s["name"]), _regex(s["pattern"], f"report.body_sections {s['name']}", where),
                             str(s.get("role", ""))) for s in report.get("body_sections") or [])
    attachments = tuple(Attachment(str(a["name"]), _regex(a["pattern"], f"report.attachments {a['name']}", where),
                                   str(a.get("satisfied_by", "")),
                                   _regex(a["waived_by"], "waived_by", where) if a.get("waived_by") else None,
                                   _unit_kinds(a.get("forms"), f"report.attachments {a['name']} forms", where))
                        for a in report.get("attachments") or [])
    project_sections = tuple(Section(str(s["name"]), _regex(s["pattern"], f"report.project_sections {s['name']}",
                                                            where), str(s.get("role", "")))
                             for s in report.get("project_sections") or [])
    regions = data.get("regions") or []
    if not isinstance(regions, list) or not all(isinstance(r, str) for r in regions):
        raise ProfileError("regions 应为地区列表（如 [hunan]）", where=where)
    evidence = report.get("department_evidence")
    rubric = Rubric(id=str(data.get("id") or Path(where).stem), name=str(data.get("name", "")),
                    source=str(data.get("source", "")), total=total, digits=digits,
                    password=str(data.get("protection_password", "jxzp")), grades=tuple(grades), groups=tuple(groups),
                    holidays=_dates(cal.get("holidays"), "calendar.holidays", where),
                    workdays=_dates(cal.get("workdays"), "calendar.workdays", where),
                    regulation=regulation, regulation_source=reg_source, sections=sections,
                    attachments=attachments, path=where, regions=tuple(regions), project_sections=project_sections,
                    department_evidence=_regex(evidence, "report.department_evidence", where) if evidence else None)
    cols = columns(rubric)
    dup_keys = [k for k, v in Counter(c.key for c in cols).items() if v > 1]
    if dup_keys:
        raise ProfileError(f"列编号重复：{'、'.join(dup_keys)}（请修改要素的 key）", where=where)
    names = [c.name for c in cols if c.name]
    for name in names:
        if not _NAME_OK.match(name) or _CELLISH.match(name):
            raise ProfileError(f"“{name}”不能用作 Excel 名称（只能用汉字、字母、数字、下划线，且不能像单元格地址）", where=where)
    dup = [k for k, v in Counter(names).items() if v > 1]
    if dup:
        raise ProfileError(f"名称重复：{'、'.join(dup)}", where=where)
    return rubric


@functools.lru_cache(maxsize=16)
def load_rubric(name_or_path: str = DEFAULT_RUBRIC) -> Rubric:
    """Load a rubric by id (``review-yueyang``) from ``templates/profiles/review/`` or by file path.

    Raises:
        ProfileError: unknown id, unreadable file or invalid content.
    """
    path = Path(name_or_path)
    if path.suffix.lower() not in (".yaml", ".yml"):
        path = REVIEW_DIR / f"{name_or_path}.yaml"
        if not path.exists():
            known = "、".join(sorted(p.stem for p in REVIEW_DIR.glob("*.yaml")))
            raise ProfileError(f"没有名为“{name_or_path}”的考核规则", hint=f"可用的考核规则：{known}")
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError("找不到考核规则文件", where=str(path)) from None
    except yaml.YAMLError as exc:
        raise ProfileError(f"YAML 格式错误：{exc}", where=str(path)) from None
    return parse_rubric(data, str(path))


def installed_rubrics() -> list[Rubric]:
    """Every rubric shipped in ``templates/profiles/review/``."""
    return [load_rubric(p.stem) for p in sorted(REVIEW_DIR.glob("*.yaml"))]


def choose_rubric(regions: Counter) -> tuple[Rubric, str]:
    """The installed rubric written for the region most of the collected forms come from (``regions``: a profile's
    ``narrative.region`` -> forms), and a warning when none is written for it (then the default is used)."""
    installed = installed_rubrics()
    for region, _count in regions.most_common():
        hit = next((r for r in installed if region in r.regions), None)
        if hit is not None:
            return hit, ""
    default = load_rubric(DEFAULT_RUBRIC)
    if not regions:
        return default, ""
    names = "、".join(REGION_NAMES.get(r, r) for r, _ in regions.most_common())
    return default, (f"回收的自评表按{names}的评分规则填报，本程序没有适用的自评工作考核规则，已按“{default.name}”"
                     f"（{default.source}）评分")


#: what to do when the rubric used is not the local one, for who reads it (the command line, the workbook)
OTHER_RUBRIC_HINT = {"cli": "本地规程不同时，请用 --rubric 指定考核规则文件", "sheet": "本地规程不同时，请按本地的考核规则重新评分"}


#: a profile's ``narrative.region`` in Chinese
REGION_NAMES = {"national": "全国通用（未指明地区）", "hunan": "湖南", "hubei": "湖北", "ningxia": "宁夏"}


# ============================================================================ columns and the Python twin

@dataclass(frozen=True)
class Column:
    """One column of the main sheet."""

    key: str           #: value key (part key, flag key, "<part>_ok", "<item>_score", "group<i>", "total" …)
    name: str          #: workbook-scoped name ("" for none)
    header: str
    role: str          #: no | unit | date | auto | input | score | subtotal | total | pending | warnings | grade | note
    allowed: str = ""
    width: float = 9
    part: Part | None = None
    item: Item | None = None
    group: Group | None = None


def columns(rubric: Rubric) -> list[Column]:
    """The main sheet's columns, left to right (the layout is derived from the rubric)."""
    cols = [Column("no", "", "序号", "no", "", 5), Column("unit", "单位名称", "单位名称", "unit", "", 24),
            Column("submitted", "提交日期", "提交日期", "date", "自动", 11)]
    for gi, g in enumerate(rubric.groups):
        for item in g.items:
            for p in item.parts:
                if p.kind == "ratio":
                    cols.append(Column(f"{p.key}_ok", f"{p.name}符合数", p.ok_label, "auto", "自动", 10, p, item, g))
                    cols.append(Column(f"{p.key}_total", f"{p.name}核对数", p.total_label, "auto", "自动", 10, p, item,
                                       g))
                    continue
                if p.flag:
                    cols.append(Column(p.flag.key, p.flag.name, p.flag.label + "（是则本项0分）", "auto", "自动（是/否）",
                                       11, p, item, g))
                role = "auto" if p.rule == "automatic" else "input"
                cols.append(Column(p.key, p.name, p.label, role, "自动" if role == "auto" else p.allowed_text(),
                                   10 if p.kind != "bands" else 12, p, item, g))
            cols.append(Column(f"item:{item.key}", f"{item.name}得分", "得分", "score", "公式", 8, None, item, g))
        cols.append(Column(f"group:{gi}", f"{g.name}得分", f"{g.name}小计", "subtotal", "公式", 9, None, None, g))
    cols += [Column("total", "总分", "总分", "total", "公式", 8),
             Column("pending", "待评项数", "待评项数", "pending", "公式", 7),
             Column("warnings", "考核提示", "提示（评审填写）", "warnings", "公式", 30),
             Column("grade", "考核等次", "考核等次", "grade", "公式", 8),
             Column("note", "自动评分说明", "自动评分说明", "note", "自动", 100)]
    return cols


def _N(v: Any) -> float:
    """A number stays, anything else is 0 (twin of :func:`~xlsx_engine.kernel.excel.num_formula`)."""
    return float(v) if is_number(v) else 0.0


def _blank(v: Any) -> bool:
    return v is None or v == ""


def part_score(part: Part, values: dict, digits: int = 2) -> float:
    """Score of one part from the row's cell values (twin of :func:`part_formula`)."""
    p = part.points
    if part.kind == "yesno":
        return p if values.get(part.key) == YES else 0.0
    if part.kind == "deduct":
        if part.requires and values.get(part.requires) != YES:
            return 0.0
        if part.rule == "judgement" and _blank(values.get(part.key)):
            return 0.0                      # not reviewed yet: no points until the count is entered
        return min(p, max(0.0, p - part.per * _N(values.get(part.key))))
    if part.kind == "ratio":
        total = _N(values.get(f"{part.key}_total"))
        return xround(p * _N(values.get(f"{part.key}_ok")) / total, digits) if total > 0 else 0.0
    if part.kind == "bands" and part.flag and values.get(part.flag.key) == YES:
        return 0.0
    return min(p, max(0.0, _N(values.get(part.key))))


def full_deduction(part: Part) -> float:
    """The count that takes every point of a deduct part (10 working days late, 10 units …)."""
    return float(math.ceil(part.points / part.per))


def nothing_value(part: Part) -> Any:
    """The reviewer's value that scores a judgement part 0, for a unit that submitted nothing to judge it on: 否,
    0, or the count that takes every point; None when the part allows no such value (left to the reviewer)."""
    if part.kind == "yesno":
        return NO
    if part.kind == "deduct":
        count = full_deduction(part)
        return count if part.max_count is None or count <= part.max_count else None
    if part.kind == "range" or (part.kind == "bands" and part.in_bands(0.0)):
        return 0.0
    return None


def part_formula(part: Part, ref: dict[str, str], digits: int = 2) -> str:
    """The Excel expression (no leading =) of one part's score."""
    p = n(part.points)
    if part.kind == "yesno":
        return f"IF({ref[part.key]}={q(YES)},{p},0)"
    if part.kind == "deduct":
        expr = f"MIN({p},MAX(0,{p}-{n(part.per)}*{num_formula(ref[part.key])}))"
        if part.rule == "judgement":
            expr = f"IF(LEN({ref[part.key]})=0,0,{expr})"
        return f"IF({ref[part.requires]}={q(YES)},{expr},0)" if part.requires else expr
    if part.kind == "ratio":
        ok, total = ref[f"{part.key}_ok"], ref[f"{part.key}_total"]
        return f"IF({num_formula(total)}>0,ROUND({p}*{num_formula(ok)}/{total},{digits}),0)"
    expr = f"MIN({p},MAX(0,{num_formula(ref[part.key])}))"
    if part.kind == "bands" and part.flag:
        return f"IF({ref[part.flag.key]}={q(YES)},0,{expr})"
    return expr


def _invalid(part: Part, v: Any) -> bool:
    """A reviewer's value outside what the part allows (blank is not invalid, only pending)."""
    if _blank(v):
        return False
    if part.kind == "yesno":
        return v not in (YES, NO)
    if not is_number(v):
        return True
    v = float(v)
    if part.kind == "deduct":
        return not (v >= 0 and xround(v, 0) == v and (part.max_count is None or v <= part.max_count))
    if part.kind == "range":
        return not 0 <= v <= part.points
    return not part.in_bands(v)


def _invalid_formula(part: Part, x: str) -> str:
    if part.kind == "yesno":
        return f"AND(LEN({x})>0,{x}<>{q(YES)},{x}<>{q(NO)})"
    v = num_formula(x)
    if part.kind == "deduct":
        cap = f",{v}<={n(part.max_count)}" if part.max_count is not None else ""
        ok = f"AND(ISNUMBER({x}),{v}>=0,ROUND({v},0)={v}{cap})"
    elif part.kind == "range":
        ok = f"AND(ISNUMBER({x}),{v}>=0,{v}<={n(part.points)})"
    else:
        bands = ",".join(f"AND({v}>={n(b.min)},{v}<={n(b.max)})" for b in part.bands)
        ok = f"AND(ISNUMBER({x}),OR({bands}))"
    return f"AND(LEN({x})>0,NOT({ok}))"


def warning_text(part: Part) -> str:
    return f"{part.label}应为{part.allowed_text()}{'分' if part.kind in ('range', 'bands') else ''}；"


def _pending_part(part: Part, values: dict) -> bool:
    return (_blank(values.get(part.key))
            and not (part.requires and values.get(part.requires) != YES)      # not needed: no notice issued
            and not (part.flag and values.get(part.flag.key) == YES))         # scores 0 anyway


def _pending_formula(part: Part, ref: dict[str, str]) -> str:
    conds = [f"LEN({ref[part.key]})=0"]
    if part.requires:
        conds.append(f"{ref[part.requires]}={q(YES)}")
    if part.flag:
        conds.append(f"{ref[part.flag.key]}<>{q(YES)}")
    cond = conds[0] if len(conds) == 1 else f"AND({','.join(conds)})"
    return f"IF({cond},1,0)"


def evaluate_row(rubric: Rubric, values: dict) -> dict[str, Any]:
    """Every computed cell of one unit's row, from its input and automatic cells (twin of :func:`row_formulas`).

    Returns:
        ``{"<item>_score": …, "group<i>": …, "total": …, "pending": int, "warnings": str, "grade": str}``.
    """
    d = rubric.digits
    out: dict[str, Any] = {}
    group_scores = []
    for gi, g in enumerate(rubric.groups):
        item_scores = []
        for item in g.items:
            s = xround(sum(part_score(p, values, d) for p in item.parts), d)
            out[f"item:{item.key}"] = s
            item_scores.append(s)
        out[f"group:{gi}"] = xround(sum(item_scores), d)
        group_scores.append(out[f"group:{gi}"])
    out["total"] = xround(sum(group_scores), d)
    judged = [p for p in rubric.parts if p.rule == "judgement"]
    out["pending"] = float(sum(1 for p in judged if _pending_part(p, values)))
    out["warnings"] = "".join(warning_text(p) for p in judged if _invalid(p, values.get(p.key)))
    if out["pending"] > 0:
        out["grade"] = PENDING
    elif out["warnings"]:
        out["grade"] = CHECK
    else:
        out["grade"] = rubric.grade_for(out["total"])
    return out


def row_formulas(rubric: Rubric, ref: dict[str, str]) -> dict[str, str]:
    """The formulas (with the leading =) of one row's computed cells; ``ref`` maps value keys to cell references."""
    d = rubric.digits
    out: dict[str, str] = {}
    for gi, g in enumerate(rubric.groups):
        for item in g.items:
            out[f"item:{item.key}"] = f"=ROUND({'+'.join(part_formula(p, ref, d) for p in item.parts)},{d})"
        out[f"group:{gi}"] = f"=ROUND({'+'.join(ref[f'item:{i.key}'] for i in g.items)},{d})"
    out["total"] = f"=ROUND({'+'.join(ref[f'group:{gi}'] for gi in range(len(rubric.groups)))},{d})"
    judged = [p for p in rubric.parts if p.rule == "judgement"]
    out["pending"] = "=" + ("+".join(_pending_formula(p, ref) for p in judged) or "0")
    out["warnings"] = "=" + ("&".join(f"IF({_invalid_formula(p, ref[p.key])},{q(warning_text(p))},\"\")"
                                      for p in judged) or '""')
    grade = q(rubric.grades[-1].label)
    for g in reversed(rubric.grades[:-1]):
        grade = f"IF({ref['total']}>={n(g.min)},{q(g.label)},{grade})"
    out["grade"] = f"=IF({ref['pending']}>0,{q(PENDING)},IF(LEN({ref['warnings']})>0,{q(CHECK)},{grade}))"
    return out
