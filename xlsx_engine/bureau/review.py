"""自评工作考核评分表: the finance bureau scores each unit's self-evaluation *work* (seed 001, 附件5).

The rubric is data (``templates/profiles/review/*.yaml``, see the comments at the top of
``review-yueyang.yaml``): groups (布置工作 / 实施评价 / 自评报告), items (自评通知 …) and the
parts that score them. Each part is either

* **automatic** — computed here from what the units returned: the working days a
  submission was late (the date from a 提交记录 table, else the files' modification time;
  weekends, configurable holidays and 调休 workdays honoured), which sections of the
  自评报告 and which attachments are present, whether each project table's level-1 weights
  follow the 规程 (pro-rata), whether every indicator row is broken down to level 3, and
  whether the problems / suggestions say nothing but 资金不足 / 加大资金投入 (the detection of
  :mod:`xlsx_engine.narrative.engine`); or
* **judgement** — entered by the reviewer in a yellow, unlocked cell whose data validation
  enforces the allowed values (是/否, a count, a range, or the rubric's bands, with a visible
  warning formula for values between the bands).

:func:`review` gathers the evidence of every unit, :func:`evaluate_row` is the Python twin of
the sheet's formulas (item scores, subtotals, 总分, 待评项数, 提示, 等次), and :func:`write_review`
authors the bureau's workbook with openpyxl: one row per unit, locked, macro-free,
workbook-scoped names, native formulas using only :data:`xlsx_engine.formulas.ALLOWED_FUNCTIONS`,
and each formula's cached value set to the Python result, so readers that never recalculate
show the same numbers as Excel/WPS/LibreOffice.

提交记录 (optional, .xlsx or .csv, first row = headers; only 单位名称 is required):
单位名称 · 提交日期 · 存在问题 · 改进建议 · 备注, plus any part name of the rubric (e.g. 印发自评通知,
通知缺少项数, 成立工作小组, 未自查单位数, 指标明确可衡量 …) to pre-fill the reviewer's cells, or an
automatic part's name (推迟工作日数, 正文缺少部分数, 附件缺少部分数, 问题仅资金不足 …) to override what
the program found (e.g. for a report submitted only on paper).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import math
import re
import shutil
import subprocess
import zipfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from xlsx_engine.forms.project.profile import load_profile
from xlsx_engine.forms.project.scoring import is_active
from xlsx_engine.kernel.errors import DataError, JxzpError, ProfileError, WorkbookError
from xlsx_engine.kernel.excel import n, q
from xlsx_engine.kernel.profiles import PROFILE_DIR
from xlsx_engine.kernel.textfilters import FilterError, to_date
from xlsx_engine.kernel.xlmath import is_number, xround
from xlsx_engine.narrative.engine import (
    FUNDS_ONLY_PROBLEM,
    FUNDS_ONLY_SUGGESTION,
    only_funding,
)
from xlsx_engine.ooxml.safezip import (
    MAX_UNCOMPRESSED,
    atomic_write_bytes,
    parse_xml,
    read_member,
)

REVIEW_DIR = PROFILE_DIR / "review"
DEFAULT_RUBRIC = "review-yueyang"
YES, NO = "是", "否"
NOT_FOUND = "未提供"          #: flag value when no problems/suggestions text was found
RULES = ("automatic", "judgement")
KINDS = ("yesno", "deduct", "ratio", "range", "bands")
SOURCES = ("late_working_days", "report_body", "report_attachments", "weights", "level3",
           "problems_funding_only", "suggestions_funding_only")
SHEET = "考核评分表"
FIRST_ROW = 7                 #: first unit row of the main sheet
PENDING, CHECK = "待评", "待核"
MAX_TEXT_FILE = 20 * 1024 * 1024
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NAME_OK = re.compile(r"^[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_.\u4e00-\u9fff]*$")
_CELLISH = re.compile(r"^[A-Za-z]{1,3}\d+$|^[RrCc]\d*$|^[Rr]\d+[Cc]\d+$")


# ============================================================================ the rubric

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
        reg_source = "考核规则文件"
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
                                   _regex(a["waived_by"], "waived_by", where) if a.get("waived_by") else None)
                        for a in report.get("attachments") or [])
    rubric = Rubric(id=str(data.get("id") or Path(where).stem), name=str(data.get("name", "")),
                    source=str(data.get("source", "")), total=total, digits=digits,
                    password=str(data.get("protection_password", "jxzp")), grades=tuple(grades), groups=tuple(groups),
                    holidays=_dates(cal.get("holidays"), "calendar.holidays", where),
                    workdays=_dates(cal.get("workdays"), "calendar.workdays", where),
                    regulation=regulation, regulation_source=reg_source, sections=sections,
                    attachments=attachments, path=where)
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
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError("找不到考核规则文件", where=str(path)) from None
    except yaml.YAMLError as exc:
        raise ProfileError(f"YAML 格式错误：{exc}", where=str(path)) from None
    return parse_rubric(data, str(path))


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
             Column("note", "自动评分说明", "自动评分说明", "note", "自动", 60)]
    return cols


def _N(v: Any) -> float:
    """Excel's N(): a number stays, anything else is 0."""
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


def part_formula(part: Part, ref: dict[str, str], digits: int = 2) -> str:
    """The Excel expression (no leading =) of one part's score."""
    p = n(part.points)
    if part.kind == "yesno":
        return f"IF({ref[part.key]}={q(YES)},{p},0)"
    if part.kind == "deduct":
        expr = f"MIN({p},MAX(0,{p}-{n(part.per)}*N({ref[part.key]})))"
        if part.rule == "judgement":
            expr = f"IF(LEN({ref[part.key]})=0,0,{expr})"
        return f"IF({ref[part.requires]}={q(YES)},{expr},0)" if part.requires else expr
    if part.kind == "ratio":
        ok, total = ref[f"{part.key}_ok"], ref[f"{part.key}_total"]
        return f"IF(N({total})>0,ROUND({p}*N({ok})/{total},{digits}),0)"
    expr = f"MIN({p},MAX(0,N({ref[part.key]})))"
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
    if part.kind == "deduct":
        cap = f",N({x})<={n(part.max_count)}" if part.max_count is not None else ""
        ok = f"AND(ISNUMBER({x}),N({x})>=0,ROUND(N({x}),0)=N({x}){cap})"
    elif part.kind == "range":
        ok = f"AND(ISNUMBER({x}),N({x})>=0,N({x})<={n(part.points)})"
    else:
        bands = ",".join(f"AND(N({x})>={n(b.min)},N({x})<={n(b.max)})" for b in part.bands)
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


# ============================================================================ working days

def is_workday(day: dt.date, holidays: frozenset = frozenset(), workdays: frozenset = frozenset()) -> bool:
    """Monday–Friday unless a holiday; a 调休 workday (Saturday/Sunday) counts."""
    return day in workdays or (day.weekday() < 5 and day not in holidays)


def working_days_late(deadline: dt.date, submitted: dt.date, holidays: Iterable[dt.date] = (),
                      workdays: Iterable[dt.date] = ()) -> int:
    """Working days after ``deadline`` up to and including ``submitted`` (0 when on time)."""
    hol, work = frozenset(holidays), frozenset(workdays)
    days = (deadline + dt.timedelta(days=k) for k in range(1, (submitted - deadline).days + 1))
    return sum(1 for day in days if is_workday(day, hol, work))


# ============================================================================ reading what the units returned

_LEVEL1_HEADING = re.compile(r"^\s*(#{1,2}\s+|第[一二三四五六七八九十]+部分|[一二三四五六七八九十]{1,3}\s*[、.．])")
_ANY_HEADING = re.compile(r"^\s*(#{1,6}\s+|第[一二三四五六七八九十]+部分|[一二三四五六七八九十]{1,3}\s*[、.．])")
_SUB_NUMBER = re.compile(r"^\s*([（(]|\d)")
_HEADING_STYLE = re.compile(r"^(heading|标题)\s*\d|^\d$", re.IGNORECASE)
_SPLIT = re.compile(r"[。；;\n]+")
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@dataclass
class Paragraph:
    """One paragraph of a report: its text, Word style id, and whether Word numbers it (level) or sets it all bold."""

    text: str
    style: str = ""
    numbered: int | None = None      #: list level (w:numPr/w:ilvl) when Word numbers the paragraph itself
    bold: bool = False

    @property
    def heading(self) -> bool:
        t = self.text.strip()
        if not t or len(t) > 40 or t.endswith(("。", "；", ";", "，", "：", ":")):
            return False
        return bool(_ANY_HEADING.match(t)) or bool(_HEADING_STYLE.match(self.style)) or \
            self.numbered is not None or self.bold

    @property
    def level1(self) -> bool:
        if not self.heading:
            return False
        if _LEVEL1_HEADING.match(self.text) or self.style.lower() in ("heading1", "heading 1", "1", "标题1", "标题 1"):
            return True
        if _ANY_HEADING.match(self.text) or _SUB_NUMBER.match(self.text):
            return False                  # "### …", "（一）…", "1．…": a sub-heading
        return self.numbered == 0 or (self.numbered is None and self.bold)


def read_docx_paragraphs(path: Path) -> list[Paragraph]:
    """Paragraphs (text, style id) of a .docx, read with bounded zip reading and an entity-free parser.

    Raises:
        WorkbookError: the file is not a readable .docx.
    """
    where = str(path)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise WorkbookError(f"不是有效的 .docx 文件（{exc}）", where=where) from None
    with zf:
        if sum(i.file_size for i in zf.infolist()) > MAX_UNCOMPRESSED:
            raise WorkbookError("解压后过大，拒绝读取", where=where)
        root = parse_xml(read_member(zf, "word/document.xml", where), where)
    out = []
    for p in root.iter(f"{_W}p"):
        text = "".join(t.text or "" for t in p.iter(f"{_W}t"))
        style = p.find(f"{_W}pPr/{_W}pStyle")
        num = p.find(f"{_W}pPr/{_W}numPr")
        level = None
        if num is not None:
            ilvl = num.find(f"{_W}ilvl")
            level = int(ilvl.get(f"{_W}val", "0")) if ilvl is not None and ilvl.get(f"{_W}val", "").isdigit() else 0
        runs = [r for r in p.iter(f"{_W}r") if "".join(t.text or "" for t in r.iter(f"{_W}t")).strip()]
        bold = bool(runs) and all(_is_bold(r) for r in runs)
        out.append(Paragraph(text, style.get(f"{_W}val", "") if style is not None else "", level, bold))
    return out


def _is_bold(run) -> bool:
    b = run.find(f"{_W}rPr/{_W}b")
    return b is not None and b.get(f"{_W}val", "true").lower() not in ("0", "false", "off")


def read_text_paragraphs(path: Path) -> list[Paragraph]:
    """Paragraphs of a text report: .txt/.md (UTF-8 or GB18030), .docx, or .pdf when ``pdftotext`` is installed.

    Raises:
        WorkbookError: unreadable or unsupported (e.g. old .doc).
    """
    suffix = path.suffix.lower()
    if suffix == ".docx":
        return read_docx_paragraphs(path)
    if suffix in (".txt", ".md"):
        if path.stat().st_size > MAX_TEXT_FILE:
            raise WorkbookError("文件过大，拒绝读取", where=str(path))
        raw = path.read_bytes()
        for enc in ("utf-8-sig", "gb18030"):
            try:
                return [Paragraph(line) for line in raw.decode(enc).splitlines()]
            except UnicodeDecodeError:
                continue
        raise WorkbookError("无法识别文本编码（请保存为 UTF-8）", where=str(path))
    if suffix == ".pdf":
        exe = shutil.which("pdftotext")
        if exe is None:
            raise WorkbookError("本机未安装 pdftotext，无法读取 PDF 报告", where=str(path),
                                hint="请提交 .docx 版本，或在提交记录中填写“正文缺少部分数”")
        try:
            run = subprocess.run([exe, "-enc", "UTF-8", str(path), "-"], capture_output=True, timeout=60, check=False)
        except subprocess.TimeoutExpired:
            raise WorkbookError("读取 PDF 超时", where=str(path)) from None
        if run.returncode != 0:
            raise WorkbookError("PDF 无法读取（可能已加密或为扫描件）", where=str(path))
        return [Paragraph(line) for line in run.stdout.decode("utf-8", "replace").splitlines()]
    raise WorkbookError("不支持的报告格式（请提交 .docx）", where=str(path))


@dataclass
class ReportRead:
    """What was found in a unit's 自评报告."""

    path: str
    found: list[str]                     #: body sections present
    missing: list[str]
    texts: dict[str, list[str]]          #: role (problems / suggestions) -> sentences under that heading
    full_text: str


def analyse_report(paragraphs: list[Paragraph], rubric: Rubric, path: str = "") -> ReportRead:
    """Which body sections a report has, and the sentences under its 问题 / 措施 headings."""
    found: set[str] = set()
    texts: dict[str, list[str]] = {}
    current_roles: list[str] = []
    for para in paragraphs:
        text = para.text.strip()
        if not text:
            continue
        if para.heading:
            matched = [s for s in rubric.sections if s.pattern.search(text)]
            if matched:
                found.update(s.name for s in matched)
                current_roles = [s.role for s in matched if s.role]
                for role in current_roles:
                    texts.setdefault(role, [])
                continue
            # an unmatched numbered/styled top heading ends the section; a line that is only bold or only
            # numbered by Word may be a list item inside it, so it stays content (never wrongly ends 问题)
            if para.level1 and (_ANY_HEADING.match(text) or _HEADING_STYLE.match(para.style)):
                current_roles = []
                continue
        for role in current_roles:
            texts[role].extend(s.strip() for s in _SPLIT.split(text.lstrip("#").strip()) if s.strip())
    full = "".join("".join(p.text.split()) for p in paragraphs)
    return ReportRead(path, [s.name for s in rubric.sections if s.name in found],
                      [s.name for s in rubric.sections if s.name not in found], texts, full)


def funding_flag(texts: list[str] | None, kind: str) -> str:
    """是 when the texts say only 资金不足 (kind "problems") / 加大资金投入 ("suggestions"); 否; or 未提供."""
    texts = [t for t in (texts or []) if str(t).strip()]
    if not texts:
        return NOT_FOUND
    pattern = FUNDS_ONLY_PROBLEM if kind == "problems" else FUNDS_ONLY_SUGGESTION
    return YES if only_funding(texts, pattern) else NO


@dataclass
class ProjectCheck:
    """One project workbook checked for the 绩效自评表 item."""

    path: str
    unit: str
    code: str
    project: str
    profile: str
    weights: list[tuple[str, float, float]] = field(default_factory=list)   #: (category, actual, expected)
    rows: int = 0
    rows_level3: int = 0
    incomplete: list[str] = field(default_factory=list)

    @property
    def ok_pairs(self) -> int:
        return sum(1 for _, a, e in self.weights if abs(a - e) < 1e-6)

    @property
    def mismatches(self) -> list[str]:
        return [f"{c} {a:g}（应为 {e:g}）" for c, a, e in self.weights if abs(a - e) >= 1e-6]


def _txt(v: Any) -> str:
    if v is None:
        return ""
    if is_number(v):
        return f"{float(v):g}"
    return str(v).strip()


def check_project(rb, rubric: Rubric, path: str, unit: str) -> ProjectCheck:
    """Weights per 规程 and level-3 breakdown of one project workbook read by :func:`reader.read_project`."""
    rec, profile = rb.record, rb.layout.profile
    meta = rb.workbook.meta
    chk = ProjectCheck(path, unit, str(meta.get("项目编码") or ""), _txt(rec.project) or Path(path).stem, profile.id)
    active = [(k, r) for k, r in enumerate(rec.indicators, 1) if is_active(r)]
    for category, expected in rubric.regulation:
        if category == "fund":
            try:
                actual = rb.workbook.name_value("资金分值")
            except KeyError:
                actual = None
            actual = float(actual) if is_number(actual) else profile.fund_weight
            chk.weights.append(("预算执行率", actual, expected))
        else:
            actual = sum(_N(r.weight) for _, r in active if _txt(r.level1) == category)
            chk.weights.append((category, xround(actual, 6), expected))
    for k, r in active:
        chk.rows += 1
        missing = [label for label, v in (("一级指标", r.level1), ("二级指标", r.level2), ("三级指标", r.name))
                   if not _txt(v)]
        if missing:
            chk.incomplete.append(f"{chk.project} 第{k}行缺{'、'.join(missing)}")
        else:
            chk.rows_level3 += 1
    return chk


@dataclass
class UnitFiles:
    """Everything found for one unit in the collection folder."""

    unit: str
    projects: list[ProjectCheck] = field(default_factory=list)
    department_workbooks: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)          #: candidate report files (.docx/.txt/.md/.pdf/.doc)
    others: list[str] = field(default_factory=list)         #: any other file (attachments by name)

    @property
    def all_files(self) -> list[str]:
        return [p.path for p in self.projects] + self.department_workbooks + self.texts + self.others


TEXT_SUFFIXES = {".docx", ".txt", ".md", ".pdf", ".doc", ".wps"}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith((".", "~$")))


@dataclass
class Scan:
    units: dict[str, UnitFiles]
    unreadable: list[tuple[str, str]]
    unassigned: list[str]


def scan_folder(folder: Path, rubric: Rubric, known_units: Iterable[str] = ()) -> Scan:
    """Read every file below ``folder`` and assign it to a unit.

    Workbooks made by this system name their unit in the document properties (单位名称) or the
    实施单位 cell; other files belong to the unit of their top-level subfolder, or — at the top
    level — to the unit whose name their file name contains.
    """
    from xlsx_engine.forms.registry import read_project
    from xlsx_engine.ooxml.reader import open_workbook
    units: dict[str, UnitFiles] = {}
    unreadable: list[tuple[str, str]] = []
    unassigned: list[str] = []
    top_units: dict[str, Counter] = {}
    rest: list[Path] = []

    def top(p: Path) -> str | None:
        rel = p.relative_to(folder)
        return rel.parts[0] if len(rel.parts) > 1 else None

    def unit_of(name: str) -> UnitFiles:
        return units.setdefault(name, UnitFiles(name))

    for path in _files(folder):
        if path.suffix.lower() not in XLSX_SUFFIXES:
            rest.append(path)
            continue
        try:
            wb = open_workbook(path)
        except JxzpError as err:
            unreadable.append((str(path), str(err)))
            continue
        meta = wb.meta
        if "考核规则" in meta:                      # our own output lying in the folder
            continue
        template = str(meta.get("模板编号") or "")
        if not template.startswith(("xmzc-", "bmzt-")) or "评分规则" not in meta:
            rest.append(path)          # other forms and hand-made tables count as attachments by file name
            continue
        unit = str(meta.get("单位名称") or "").strip()
        if template.startswith("xmzc"):
            try:
                rb = read_project(path)
            except JxzpError as err:
                unreadable.append((str(path), str(err)))
                continue
            unit = unit or _txt(rb.record.unit) or top(path) or ""
            if not unit:
                unassigned.append(str(path))
                continue
            unit_of(unit).projects.append(check_project(rb, rubric, str(path), unit))
        else:
            unit = unit or str(meta.get("部门名称") or "").strip() or top(path) or ""
            if not unit:
                unassigned.append(str(path))
                continue
            unit_of(unit).department_workbooks.append(str(path))
        if top(path):
            top_units.setdefault(top(path), Counter())[unit] += 1
    names = sorted(set(units) | {u for u in known_units if u}, key=len, reverse=True)
    for path in rest:
        t = top(path)
        if t is not None:
            unit = top_units[t].most_common(1)[0][0] if t in top_units else t
        else:
            unit = next((u for u in names if u in path.stem), None)
        if unit is None:
            unassigned.append(str(path))
            continue
        uf = unit_of(unit)
        (uf.texts if path.suffix.lower() in TEXT_SUFFIXES else uf.others).append(str(path))
    return Scan(units, unreadable, unassigned)


# ============================================================================ 提交记录 (submissions table)

SUBMISSION_FIXED = ("单位名称", "提交日期", "存在问题", "改进建议", "备注")
_YES_WORDS = {"是", "有", "√", "✓", "y", "yes", "true", "1", "已印发", "已成立"}
_NO_WORDS = {"否", "无", "×", "✗", "n", "no", "false", "0", "未印发", "未成立"}


@dataclass
class Submission:
    unit: str
    row: int
    date: dt.date | None = None
    problems: str = ""
    suggestions: str = ""
    note: str = ""
    values: dict[str, Any] = field(default_factory=dict)     #: part/flag key -> value


def _submission_columns(rubric: Rubric) -> dict[str, tuple[str, Part | Flag]]:
    cols: dict[str, tuple[str, Part | Flag]] = {}
    for p in rubric.parts:
        if p.kind != "ratio":
            cols[p.name] = (p.key, p)
            cols.setdefault(p.label, (p.key, p))
        if p.flag:
            cols[p.flag.name] = (p.flag.key, p.flag)
    return cols


def _yes_no(v: Any) -> str | None:
    t = _txt(v).lower()
    if t in _YES_WORDS:
        return YES
    if t in _NO_WORDS:
        return NO
    return None


def _read_rows(path: Path) -> list[list[Any]]:
    if path.suffix.lower() == ".csv":
        raw = path.read_bytes()
        for enc in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise DataError("无法识别文件编码（请保存为 UTF-8）", where=str(path))
        return [row for row in csv.reader(io.StringIO(text))]
    import python_calamine

    from xlsx_engine.ooxml.safezip import open_workbook_zip
    with open_workbook_zip(path):
        pass
    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        return book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception as exc:  # noqa: BLE001  (calamine raises its own error types)
        raise WorkbookError(f"无法读取提交记录：{exc}", where=str(path)) from None


def read_submissions(path: str | Path, rubric: Rubric) -> dict[str, Submission]:
    """Read a 提交记录 table (.xlsx first sheet, or .csv): one row per unit.

    Raises:
        DataError: listing every bad header or value with its row (“提交记录!第3行 提交日期：…”).
        WorkbookError: the file cannot be read.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("找不到提交记录文件", where=str(path))
    rows = _read_rows(path)
    if not rows:
        raise DataError("提交记录是空的（第一行应为表头）", where=str(path))
    known = _submission_columns(rubric)
    header = [_txt(h) for h in rows[0]]
    problems = []
    for k, h in enumerate(header, 1):
        if h and h not in SUBMISSION_FIXED and h not in known:
            problems.append(f"第1行第{k}列：未知列名“{h}”（可用：{'、'.join(SUBMISSION_FIXED + tuple(known))}）")
    if "单位名称" not in header:
        problems.append("缺少“单位名称”列")
    out: dict[str, Submission] = {}
    for r, row in enumerate(rows[1:], 2):
        cells = {h: row[k] if k < len(row) else None for k, h in enumerate(header) if h}
        unit = _txt(cells.get("单位名称"))
        if not unit:
            if any(not _blank(v) for v in cells.values()):
                problems.append(f"第{r}行：缺少单位名称")
            continue
        if unit in out:
            problems.append(f"第{r}行：单位“{unit}”重复（第{out[unit].row}行已有）")
            continue
        sub = Submission(unit, r, problems=_txt(cells.get("存在问题")), suggestions=_txt(cells.get("改进建议")),
                         note=_txt(cells.get("备注")))
        raw_date = cells.get("提交日期")
        if not _blank(raw_date):
            try:
                sub.date = _date_cell(raw_date)
            except FilterError:
                problems.append(f"第{r}行 提交日期：“{raw_date}”不是有效日期（可写作 2024-04-03）")
        for h, v in cells.items():
            if h not in known or _blank(v):
                continue
            key, spec = known[h]
            if isinstance(spec, Flag) or spec.kind == "yesno":
                yn = _yes_no(v)
                if yn is None:
                    problems.append(f"第{r}行 {h}：应填“是”或“否”，实际为“{v}”")
                else:
                    sub.values[key] = yn
                continue
            num = _number_cell(v)
            if num is None or _invalid(spec, num):
                problems.append(f"第{r}行 {h}：应为{spec.allowed_text()}，实际为“{v}”")
                continue
            sub.values[key] = num
        out[unit] = sub
    if problems:
        raise DataError(f"提交记录有 {len(problems)} 处问题，未生成考核评分表", where=str(path), problems=problems)
    return out


def _date_cell(v: Any) -> dt.date:
    if isinstance(v, (dt.date, dt.datetime)):
        return to_date(v)
    if is_number(v) and 20000 < float(v) < 80000:          # a date serial typed without a date format
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(v))
    return to_date(_txt(v))


def _number_cell(v: Any) -> float | None:
    if is_number(v):
        return float(v)
    try:
        return float(_txt(v))
    except ValueError:
        return None


# ============================================================================ the review

@dataclass
class UnitReview:
    """One unit's row: its cell values (automatic and pre-filled judgement), the Python results and the evidence."""

    unit: str
    values: dict[str, Any]
    result: dict[str, Any]
    submitted: dt.date | None
    submitted_source: str
    notes: dict[str, str]                      #: part/flag key -> how the automatic value was found
    files: UnitFiles
    report: ReportRead | None = None
    report_error: str = ""


@dataclass
class ReviewRun:
    rubric: Rubric
    deadline: dt.date
    units: list[UnitReview]
    unreadable: list[tuple[str, str]]
    unassigned: list[str]
    folder: str
    warnings: list[str] = field(default_factory=list)

    def unit(self, name: str) -> UnitReview:
        for u in self.units:
            if u.unit == name:
                return u
        raise KeyError(name)


def _mtime(path: str) -> dt.date:
    return dt.date.fromtimestamp(Path(path).stat().st_mtime)


def _pick_report(uf: UnitFiles, rubric: Rubric) -> tuple[ReportRead | None, str]:
    best: ReportRead | None = None
    errors = []
    for path in uf.texts:
        try:
            read = analyse_report(read_text_paragraphs(Path(path)), rubric, path)
        except (JxzpError, OSError) as err:
            if "报告" in Path(path).stem:
                errors.append(str(err))
            continue
        better = len(read.found) > len(best.found) if best is not None else \
            bool(read.found) or "报告" in Path(path).stem          # no section found: only a file called 报告
        if better:
            best = read
    return best, "；".join(errors)


def assess_unit(uf: UnitFiles, rubric: Rubric, deadline: dt.date, *, submission: Submission | None = None,
                holidays: Iterable[dt.date] = (), workdays: Iterable[dt.date] = (),
                judgements: dict[str, Any] | None = None) -> UnitReview:
    """Compute a unit's automatic values and pre-fill its judgement cells.

    Args:
        uf: the unit's files (see :func:`scan_folder`).
        submission: its row of the 提交记录, if any (date, texts, pre-filled or overriding values).
        judgements: extra cell values by part key or name (API use, not validated: the sheet shows warnings).
    """
    hol = rubric.holidays | frozenset(holidays)
    work = rubric.workdays | frozenset(workdays)
    values: dict[str, Any] = {"unit": uf.unit}
    notes: dict[str, str] = {}
    report, report_error = _pick_report(uf, rubric)

    # submission date
    if submission is not None and submission.date is not None:
        submitted, how = submission.date, "提交记录"
    elif report is not None:
        submitted, how = _mtime(report.path), "自评报告文件的修改时间"
    elif uf.all_files:
        submitted, how = max(_mtime(p) for p in uf.all_files), "所交文件中最晚的修改时间"
    else:
        submitted, how = None, ""
    values["submitted"] = submitted if submitted is not None else "未报送"

    texts = {"problems": None, "suggestions": None}
    text_source = {}
    for role, col in (("problems", "problems"), ("suggestions", "suggestions")):
        given = getattr(submission, col, "") if submission is not None else ""
        if given:
            texts[role] = [s.strip() for s in _SPLIT.split(given) if s.strip()]
            text_source[role] = "提交记录"
        elif report is not None and report.texts.get(role):
            texts[role] = report.texts[role]
            text_source[role] = "自评报告"

    for part in rubric.parts:
        if part.rule == "automatic":
            src = part.source
            if src == "late_working_days":
                if submitted is None:
                    cap = math.ceil(part.points / part.per)
                    values[part.key] = float(cap)
                    notes[part.key] = f"未找到报送的文件或提交日期，按未报送计（{cap} 个工作日）"
                else:
                    late = working_days_late(deadline, submitted, hol, work)
                    values[part.key] = float(late)
                    notes[part.key] = (f"提交日期 {submitted.isoformat()}（{how}），截止 {deadline.isoformat()}，"
                                       + (f"推迟 {late} 个工作日" if late else "按时报送"))
            elif src == "report_body":
                if report is None:
                    values[part.key] = float(len(rubric.sections))
                    notes[part.key] = "未找到自评报告（.docx/.txt/.md/.pdf）" + (f"：{report_error}" if report_error else "")
                else:
                    values[part.key] = float(len(report.missing))
                    notes[part.key] = (f"自评报告 {Path(report.path).name}：" +
                                       (f"缺少 {'、'.join(report.missing)}" if report.missing else "正文各部分齐全"))
            elif src == "report_attachments":
                missing, found = _attachments(uf, rubric, report)
                values[part.key] = float(len(missing))
                notes[part.key] = (f"缺少附件：{'、'.join(missing)}" if missing else "附件齐全") + \
                                  (f"（已有：{'；'.join(found)}）" if found else "")
            elif src == "weights":
                values[f"{part.key}_ok"] = float(sum(p.ok_pairs for p in uf.projects))
                values[f"{part.key}_total"] = float(sum(len(p.weights) for p in uf.projects))
                bad = [f"{p.code or Path(p.path).stem} {p.project}：{'，'.join(p.mismatches)}"
                       for p in uf.projects if p.mismatches]
                notes[part.key] = ("未找到项目支出绩效自评表" if not uf.projects else
                                   f"{len(uf.projects)} 张项目支出绩效自评表，" +
                                   ("权重均符合规程" if not bad else "权重不符：" + "；".join(bad)))
            elif src == "level3":
                values[f"{part.key}_ok"] = float(sum(p.rows_level3 for p in uf.projects))
                values[f"{part.key}_total"] = float(sum(p.rows for p in uf.projects))
                bad = [x for p in uf.projects for x in p.incomplete]
                notes[part.key] = ("未找到项目支出绩效自评表" if not uf.projects else
                                   "指标均已细化到三级" if not bad else "未细化到三级：" + "；".join(bad[:20]) +
                                   (f" 等 {len(bad)} 行" if len(bad) > 20 else ""))
        if part.flag:
            role = "problems" if part.flag.source == "problems_funding_only" else "suggestions"
            flag = funding_flag(texts[role], role)
            values[part.flag.key] = flag
            what = "存在问题" if role == "problems" else "改进建议"
            only = "资金不足" if role == "problems" else "加大资金投入"
            notes[part.flag.key] = {
                YES: f"{what}（取自{text_source.get(role)}）只提出“{only}”，本项0分",
                NO: f"{what}取自{text_source.get(role)}，由评审评分",
                NOT_FOUND: f"未找到{what}（自评报告中没有此部分，提交记录也未填写）"}[flag]
    if submission is not None:
        for key, v in submission.values.items():
            values[key] = v
            if key in notes:
                notes[key] = f"按提交记录：{v if not is_number(v) else f'{v:g}'}（程序核对：{notes[key]}）"
    for key, v in (judgements or {}).items():
        part_key = next((p.key for p in rubric.parts if key in (p.key, p.name)), None) or \
            next((p.flag.key for p in rubric.parts if p.flag and key in (p.flag.key, p.flag.name)), None)
        if part_key is None:
            raise JxzpError(f"考核规则中没有名为“{key}”的评分要素", where=uf.unit)
        values[part_key] = v
    result = evaluate_row(rubric, values)
    return UnitReview(uf.unit, values, result, submitted, how, notes, uf, report, report_error)


def _attachments(uf: UnitFiles, rubric: Rubric, report: ReportRead | None) -> tuple[list[str], list[str]]:
    candidates = [p for p in uf.others + uf.texts + uf.department_workbooks
                  if report is None or p != report.path]
    missing, found = [], []
    for att in rubric.attachments:
        how = ""
        if att.satisfied_by == "project_workbook" and uf.projects:
            how = f"{len(uf.projects)} 张项目支出绩效自评表"
        elif att.satisfied_by == "department_workbook" and uf.department_workbooks:
            how = "部门整体支出绩效自评表（本系统）"
        else:
            hit = next((p for p in candidates if att.pattern.search(Path(p).stem)), None)
            if hit:
                how = Path(hit).name
            elif att.waived_by and report is not None and att.waived_by.search(report.full_text):
                how = "报告写明无此类支出"
        if how:
            found.append(f"{att.name}：{how}")
        else:
            missing.append(att.name)
    return missing, found


def review(folder: str | Path, *, deadline: dt.date | str, submissions: str | Path | dict | None = None,
           rubric: Rubric | str | None = None, holidays: Iterable = (), workdays: Iterable = (),
           judgements: dict[str, dict[str, Any]] | None = None) -> ReviewRun:
    """Score every unit found in ``folder`` (and every unit of the 提交记录) on the rubric.

    Args:
        folder: the collection folder (units' returned workbooks, reports and attachments).
        deadline: the 报送截止日期.
        submissions: a 提交记录 file, or an already-read ``{unit: Submission}``.
        rubric: a :class:`Rubric`, a rubric id or a YAML path (default ``review-yueyang``).
        holidays, workdays: extra dates for the working-day calendar.
        judgements: ``{unit: {part key or name: value}}`` pre-filled into the reviewer's cells.

    Raises:
        JxzpError: no such folder, no unit found; DataError: bad 提交记录.
    """
    rub = rubric if isinstance(rubric, Rubric) else load_rubric(rubric or DEFAULT_RUBRIC)
    folder = Path(folder)
    if not folder.is_dir():
        raise JxzpError("找不到回收文件夹", where=str(folder))
    try:
        deadline = to_date(deadline)
    except FilterError as exc:
        raise JxzpError(str(exc), where="报送截止日期") from None
    extra_h = _parse_dates(holidays, "节假日")
    extra_w = _parse_dates(workdays, "调休上班日")
    subs = submissions if isinstance(submissions, dict) else \
        (read_submissions(submissions, rub) if submissions else {})
    scan = scan_folder(folder, rub, subs.keys())
    order = list(subs) + sorted(u for u in scan.units if u not in subs)
    if not order:
        raise JxzpError("回收文件夹中没有找到任何单位的文件", where=str(folder),
                        hint="请检查文件夹，或用 --submissions 提供提交记录（单位名称）")
    units = [assess_unit(scan.units.get(u) or UnitFiles(u), rub, deadline, submission=subs.get(u),
                         holidays=extra_h, workdays=extra_w, judgements=(judgements or {}).get(u))
             for u in order]
    run = ReviewRun(rub, deadline, units, scan.unreadable, scan.unassigned, str(folder))
    for u in units:
        if u.report_error:
            run.warnings.append(f"{u.unit}：{u.report_error}")
    for path in scan.unassigned:
        run.warnings.append(f"无法确定所属单位，未计入：{path}")
    return run


def _parse_dates(values: Iterable, what: str) -> frozenset:
    out = set()
    for v in values or ():
        try:
            out.add(to_date(v))
        except FilterError:
            raise JxzpError(f"{what}“{v}”不是有效日期（应写作 2024-04-04）") from None
    return frozenset(out)


# ============================================================================ the workbook

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
    from openpyxl import Workbook
    from openpyxl.packaging.custom import StringProperty
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.workbook.protection import WorkbookProtection
    from openpyxl.worksheet.datavalidation import DataValidation

    rub = run.rubric
    cols = columns(rub)
    letter = {c.key: get_column_letter(k) for k, c in enumerate(cols, 1)}
    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    font = Font(name="宋体", size=10)
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
    ws.cell(1, 1, rub.name).font = Font(name="黑体", size=16, bold=True)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last_col)
    ws.cell(1, 1).alignment = center
    ws.row_dimensions[1].height = 28
    ws.cell(2, 1, "报送截止日期").font = bold
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=2)
    dcell = ws.cell(2, 3, run.deadline)
    dcell.number_format = "yyyy-mm-dd"
    dcell.font = bold
    _put(ws, 2, 4, f"依据：{rub.source}。绿色列由程序根据回收的自评表、报告和附件计算（依据见“评分依据”表）；"
                   f"黄色列由评审人员填写；得分、小计、总分和等次由公式实时计算。")
    ws.merge_cells(start_row=2, start_column=4, end_row=2, end_column=last_col)
    ws.cell(2, 4).alignment = left
    ws.cell(2, 4).font = Font(name="宋体", size=9, color="595959")
    ws.row_dimensions[2].height = 30

    # header rows 3 (groups), 4 (items), 5 (columns), 6 (allowed values)
    def head(r1, c1, r2, c2, text):
        _put(ws, r1, c1, text)
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
    ws.row_dimensions[5].height = 54

    cached: dict[str, Any] = {}
    last_row = FIRST_ROW + len(run.units) - 1
    for i, u in enumerate(run.units):
        r = FIRST_ROW + i
        ref = {key: f"{col}{r}" for key, col in letter.items()}
        formulas = row_formulas(rub, ref)
        note = "；".join(v for v in u.notes.values() if v)
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
    ws.print_title_rows = "3:6"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A3
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True

    # defined names (workbook scope)
    quoted = f"'{SHEET}'"
    wb.defined_names["截止日期"] = DefinedName("截止日期", attr_text=f"{quoted}!$C$2")
    if run.units:
        for c in cols:
            if c.name:
                col = letter[c.key]
                wb.defined_names[c.name] = DefinedName(
                    c.name, attr_text=f"{quoted}!${col}${FIRST_ROW}:${col}${last_row}")

    _evidence_sheet(wb, run, bold, head_fill, border)
    _projects_sheet(wb, run, bold, head_fill)
    _rubric_sheet(wb, rub, bold, head_fill, border, left)
    _unreadable_sheet(wb, run, bold, head_fill)
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
                       ("生成程序", "jxzp review")):
        wb.custom_doc_props.append(StringProperty(name=key, value=value))
    buf = io.BytesIO()
    wb.save(buf)
    atomic_write_bytes(out, set_cached_values(buf.getvalue(), "xl/worksheets/sheet1.xml", cached))
    return cached


def set_cached_values(data: bytes, member: str, values: dict[str, Any]) -> bytes:
    """Give formula cells of one sheet their cached results (openpyxl writes none)."""
    from lxml import etree
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
    from openpyxl.utils import get_column_letter
    for k, (h, w) in enumerate(zip(headers, widths), 1):
        c = ws.cell(1, k, h)
        c.font, c.fill = bold, fill
        ws.column_dimensions[get_column_letter(k)].width = w
    ws.freeze_panes = "B2"


def _evidence_sheet(wb, run: ReviewRun, bold, fill, border) -> None:
    from openpyxl.styles import Alignment
    ws = wb.create_sheet("评分依据")
    auto = [(p.key, p.label) for p in run.rubric.parts if p.rule == "automatic"] + \
           [(p.flag.key, p.flag.label) for p in run.rubric.parts if p.flag]
    headers = ["单位名称", "提交日期", "日期来源", "自评报告", *[label for _, label in auto], "存在问题（摘录）",
               "改进建议（摘录）", "回收的文件"]
    _table_head(ws, headers, [24, 11, 18, 30] + [40] * len(auto) + [50, 50, 60], bold, fill)
    wrap = Alignment(vertical="top", wrap_text=True)
    for r, u in enumerate(run.units, 2):
        rep = u.report
        row = [u.unit, u.submitted.isoformat() if u.submitted else "未报送", u.submitted_source,
               Path(rep.path).name if rep else ("未找到" + (f"：{u.report_error}" if u.report_error else "")),
               *[u.notes.get(key, "") for key, _ in auto],
               "；".join((rep.texts.get("problems") or [])[:10]) if rep else "",
               "；".join((rep.texts.get("suggestions") or [])[:10]) if rep else "",
               "\n".join(str(Path(p).relative_to(run.folder)) if Path(p).is_relative_to(run.folder) else p
                         for p in u.files.all_files)]
        for k, v in enumerate(row, 1):
            _put(ws, r, k, v).alignment = wrap


def _projects_sheet(wb, run: ReviewRun, bold, fill) -> None:
    ws = wb.create_sheet("自评表核对")
    cats = [("预算执行率" if c == "fund" else c) for c, _ in run.rubric.regulation]
    headers = ["单位名称", "项目编码", "项目名称", "评分规则", *cats, "权重符合项数", "指标行数", "细化到三级的行数",
               "说明", "文件"]
    _table_head(ws, headers, [24, 10, 30, 16] + [10] * len(cats) + [10, 8, 10, 60, 50], bold, fill)
    _put(ws, 1, len(headers) + 1, "规程权重（" + run.rubric.regulation_source + "）：" + "、".join(
        f"{'预算执行率' if c == 'fund' else c} {w:g}" for c, w in run.rubric.regulation))
    r = 2
    for u in run.units:
        for p in u.files.projects:
            row = [u.unit, p.code, p.project, p.profile, *[a for _, a, _ in p.weights], p.ok_pairs, p.rows,
                   p.rows_level3, "；".join(p.mismatches + p.incomplete), p.path]
            for k, v in enumerate(row, 1):
                _put(ws, r, k, v)
            r += 1


def _rubric_sheet(wb, rub: Rubric, bold, fill, border, left) -> None:
    ws = wb.create_sheet("评分标准")
    _table_head(ws, ["一级指标", "二级指标", "评分标准", "所需佐证材料", "评分要素（方式）"], [14, 16, 80, 40, 50], bold, fill)
    r = 2
    for g in rub.groups:
        for item in g.items:
            parts = "；".join(f"{p.label} {p.points:g}分（{'程序计算' if p.rule == 'automatic' else '评审填写'}"
                             f"{'：' + p.allowed_text() if p.rule == 'judgement' else ''}）" for p in item.parts)
            for k, v in enumerate([f"{g.name}（{g.weight:g}分）", f"{item.name}（{item.weight:g}分）", item.criterion,
                                   item.evidence, parts], 1):
                cell = _put(ws, r, k, v)
                cell.alignment, cell.border = left, border
            r += 1
    _put(ws, r, 1, f"合计（{rub.total:g}分）").font = bold
    _put(ws, r + 1, 1, "等次：" + "；".join(f"{g.label} ≥{g.min:g}" for g in rub.grades[:-1]) +
         f"；其余为{rub.grades[-1].label}。评审项未填完时显示“{PENDING}”，填写的值不在允许范围内时显示“{CHECK}”。")


def _unreadable_sheet(wb, run: ReviewRun, bold, fill) -> None:
    ws = wb.create_sheet("无法读取")
    _table_head(ws, ["文件", "原因"], [60, 80], bold, fill)
    rows = list(run.unreadable) + [(p, "无法确定所属单位（请放入以单位名称命名的文件夹）") for p in run.unassigned]
    for r, (path, why) in enumerate(rows, 2):
        _put(ws, r, 1, path)
        _put(ws, r, 2, why)


__all__ = [
    "Group",
    "Item",
    "Part",
    "ReviewRun",
    "Rubric",
    "UnitReview",
    "analyse_report",
    "assess_unit",
    "check_project",
    "columns",
    "evaluate_row",
    "funding_flag",
    "is_workday",
    "load_rubric",
    "parse_rubric",
    "part_score",
    "read_submissions",
    "read_text_paragraphs",
    "review",
    "row_formulas",
    "scan_folder",
    "set_cached_values",
    "working_days_late",
    "write_review",
]
