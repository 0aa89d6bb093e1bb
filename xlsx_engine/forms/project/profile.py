"""Scoring profiles: the rules of one province or platform, as data.

A profile is a YAML file under ``templates/profiles/``. It may ``extends:`` another
profile and override parts of it (mappings merge key by key, lists are replaced).
The format is documented in ``templates/profiles/README.md``. Adding a province's
variant means adding a file there, not code.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from xlsx_engine.kernel.errors import ProfileError
from xlsx_engine.kernel.profiles import (
    PROFILE_DIR,
    Grade,
    _merge,
    grade_for,
    parse_grades,
)
from xlsx_engine.kernel.resources import load_yaml
from xlsx_engine.kernel.xlmath import xround


@dataclass(frozen=True)
class Level1:
    """A level-1 indicator group (产出指标...), its fixed weight (None: set by the unit) and level-2 names."""

    name: str
    weight: float | None
    level2: tuple[str, ...]


@dataclass(frozen=True)
class Band:
    """A 定性 band: the unit's score must lie in [lower × 分值, upper × 分值) (the top band includes 分值)."""

    label: str
    lower: float
    upper: float


@dataclass(frozen=True)
class RateCap:
    """Platform rule: when 执行率 < ``below``, 总分 may not exceed ``cap``."""

    below: float
    cap: float


@dataclass(frozen=True)
class Profile:
    """One scoring profile. See ``templates/profiles/README.md`` for every field."""

    id: str
    name: str
    source: str
    total: float
    fund_label: str
    fund_weight: float
    fund_in_total: bool
    fund_base: str
    fund_sources: tuple[str, ...]
    rate_reason_below: float | None
    target_label: str | None
    target_weight: float
    indicator_weight: float
    level1: tuple[Level1, ...]
    reverse: str
    bands: tuple[Band, ...]
    qualitative_default_full: bool
    over_ratio: float | None
    over_penalty: float
    over_reason_required: bool
    reason_below_full: bool
    rate_caps: tuple[RateCap, ...]
    grades: tuple[Grade, ...]
    late_days_to_zero: float | None = None   #: 时效 rows: None = late → 0; N = linear deduction reaching 0 at N days
    digits: int = 2
    path: str = ""
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def has_target_block(self) -> bool:
        return self.target_label is not None

    @property
    def level1_names(self) -> tuple[str, ...]:
        return tuple(l1.name for l1 in self.level1)

    @property
    def level2_names(self) -> tuple[str, ...]:
        seen: list[str] = []
        for l1 in self.level1:
            for name in l1.level2:
                if name not in seen:
                    seen.append(name)
        return tuple(seen)

    @functools.cached_property
    def level_pairs(self) -> tuple[str, ...]:
        """"一级·二级" strings of every allowed combination (the template's lookup list); built once per profile
        (every indicator row of every file is looked up in it)."""
        return tuple(f"{l1.name}·{l2}" for l1 in self.level1 for l2 in l1.level2)

    def band_bounds(self, band: str, weight: float) -> tuple[float, float, bool]:
        """The score range of a 定性 band for an indicator of ``weight``: (low, high, high_inclusive).

        Raises:
            KeyError: unknown band label.
        """
        for b in self.bands:
            if b.label == band:
                top = b.upper >= 1.0
                high = weight if top else xround(b.upper * weight, self.digits)
                return xround(b.lower * weight, self.digits), high, top
        raise KeyError(band)

    def in_band(self, band: str, weight: float, score: float) -> bool:
        low, high, inclusive = self.band_bounds(band, weight)
        return low <= score and (score <= high if inclusive else score < high)

    def grade_for(self, score: float) -> str:
        return grade_for(self.grades, score)


def _load_raw(path: Path, seen: tuple[str, ...] = ()) -> dict:
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError("找不到评分规则文件", where=str(path)) from None
    except yaml.YAMLError as exc:
        raise ProfileError(f"YAML 格式错误：{exc}", where=str(path)) from None
    if not isinstance(data, dict):
        raise ProfileError("评分规则文件应为键值结构", where=str(path))
    parent = data.pop("extends", None)
    if parent:
        if parent in seen:
            raise ProfileError(f"extends 循环引用：{' → '.join(seen + (parent,))}", where=str(path))
        parent_path = path.parent / f"{parent}.yaml"
        if not parent_path.exists():          # a bureau's own file may extend a shipped profile
            parent_path = PROFILE_DIR / f"{parent}.yaml"
        data = _merge(_load_raw(parent_path, seen + (parent,)), data)
    return data


def _num(data: dict, key: str, where: str, *, optional: bool = False, default: Any = None) -> float | None:
    value = data.get(key, default)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProfileError(f"字段 {key} 应为数字，实际为 {value!r}", where=where)
    return float(value)


def parse_profile(data: dict, where: str = "<profile>") -> Profile:
    """Validate a profile mapping (after ``extends`` merging) and build a :class:`Profile`.

    Raises:
        ProfileError: a field is missing or has the wrong type, or the weights do not add up.
    """
    try:
        fund = data["fund"]
        ind = data["indicators"]
        rules = data.get("rules", {}) or {}
        grades_raw = data["grades"]
    except KeyError as exc:
        raise ProfileError(f"缺少字段 {exc.args[0]}", where=where) from None
    target = data.get("target_block") or None
    level1 = []
    for i, item in enumerate(ind.get("level1", []), 1):
        if "name" not in item:
            raise ProfileError(f"indicators.level1 第{i}项缺少 name", where=where)
        w = item.get("weight")
        level1.append(Level1(str(item["name"]), None if w is None else float(w),
                             tuple(str(x) for x in item.get("level2", []))))
    if not level1:
        raise ProfileError("indicators.level1 不能为空", where=where)
    bands_raw = rules.get("qualitative_bands") or {"达成": 0.8, "部分达成": 0.6, "未达成": 0.0}
    ordered = sorted(((str(k), float(v)) for k, v in bands_raw.items()), key=lambda kv: -kv[1])
    bands, upper = [], 1.0
    for label, lower in ordered:
        if not 0 <= lower <= 1:
            raise ProfileError(f"定性档次 {label} 的下限应在 0–1 之间", where=where)
        bands.append(Band(label, lower, upper))
        upper = lower
    over = rules.get("over_achievement") or None
    grades = parse_grades(grades_raw, where)
    reverse = rules.get("reverse", "linear")
    if reverse not in ("linear", "ratio"):
        raise ProfileError(f"rules.reverse 只能是 linear 或 ratio，实际为 {reverse!r}", where=where)
    profile = Profile(
        id=str(data.get("id") or Path(where).stem),
        name=str(data.get("name", "")),
        source=str(data.get("source", "")),
        total=_num(data, "total", where),
        fund_label=str(fund.get("label", "预算执行率")),
        fund_weight=_num(fund, "weight", where),
        fund_in_total=bool(fund.get("in_total", True)),
        fund_base=str(fund.get("base", "全年预算数")),
        fund_sources=tuple(str(s) for s in fund.get("sources", ["当年财政拨款", "上年结转资金", "其他资金"])),
        rate_reason_below=_num(fund, "rate_reason_below", where, optional=True),
        target_label=str(target["label"]) if target else None,
        target_weight=float(target["weight"]) if target else 0.0,
        indicator_weight=_num(ind, "weight", where),
        level1=tuple(level1),
        reverse=reverse,
        bands=tuple(bands),
        qualitative_default_full=bool(rules.get("qualitative_default_full", True)),
        over_ratio=float(over["ratio"]) if over else None,
        over_penalty=float(over.get("penalty", 0)) if over else 0.0,
        over_reason_required=bool(over.get("reason_required", True)) if over else False,
        reason_below_full=bool(rules.get("reason_required_below_full", True)),
        rate_caps=tuple(sorted((RateCap(float(c["below"]), float(c["cap"])) for c in rules.get("rate_caps") or []),
                               key=lambda c: c.below)),
        grades=tuple(grades),
        late_days_to_zero=_num(rules, "late_days_to_zero", where, optional=True),
        digits=int(data.get("rounding", 2)),
        path=where,
        raw=data,
    )
    inside = (profile.fund_weight if profile.fund_in_total else 0) + profile.target_weight + profile.indicator_weight
    if abs(inside - profile.total) > 1e-9:
        raise ProfileError(
            f"各部分分值之和为 {inside:g}，与 total={profile.total:g} 不一致", where=where,
            hint="资金（in_total 为 true 时）+ 目标 + 绩效指标 应等于 total")
    fixed = [l1.weight for l1 in profile.level1]
    if all(w is not None for w in fixed) and abs(sum(fixed) - profile.indicator_weight) > 1e-9:
        raise ProfileError(f"一级指标分值之和 {sum(fixed):g} ≠ indicators.weight {profile.indicator_weight:g}",
                           where=where)
    if len(set(profile.fund_sources)) != len(profile.fund_sources) or not profile.fund_sources:
        raise ProfileError("fund.sources 不能为空且不能重复", where=where)
    return profile


@functools.lru_cache(maxsize=64)
def load_profile(name_or_path: str) -> Profile:
    """Load a profile by id (``national``) from ``templates/profiles/`` or by file path.

    Raises:
        ProfileError: unknown id, unreadable file or invalid content.
    """
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = PROFILE_DIR / f"{name_or_path}.yaml"
        if not path.exists():
            raise ProfileError(f"没有名为“{name_or_path}”的评分规则",
                               hint="可用的规则：" + "、".join(list_profiles()))
    return parse_profile(_load_raw(path), str(path))


def list_profiles() -> list[str]:
    """Ids of the profiles shipped in ``templates/profiles/`` (the folder is listed again when it changes)."""
    try:
        stamp = PROFILE_DIR.stat().st_mtime_ns
    except OSError:
        stamp = 0
    return list(_profile_ids(stamp))


@functools.lru_cache(maxsize=4)
def _profile_ids(_stamp: int) -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in PROFILE_DIR.glob("*.yaml")))
