"""Parse indicator targets and actual values as users write them.

A target cell in the official form holds operator, number and unit in one string
("≥95%", "≤90万元", "=8个", "100%") or a phrase ("及时", "达成预期指标"). The
template keeps them in three columns: 指标性质 | 指标值 | 度量单位. This module
splits one into the other, following the national platform's 计算符号 codes
(docs/rules.md#target-grammar): ≥ ＞ ＝ ＜ ≤ and 定性.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: Canonical operator symbols as they appear in the template's dropdown.
OP_GE, OP_GT, OP_EQ, OP_LT, OP_LE, OP_QUAL = "≥", "＞", "＝", "＜", "≤", "定性"
OPERATORS = (OP_GE, OP_GT, OP_EQ, OP_LE, OP_LT, OP_QUAL)
POSITIVE_OPS = (OP_GE, OP_GT)
REVERSE_OPS = (OP_LE, OP_LT)

# After NFKC normalisation "＞" is ">" and "＝" is "=".
_OP_WORDS = [
    (">=", OP_GE), ("≥", OP_GE), ("≧", OP_GE), ("不低于", OP_GE), ("不少于", OP_GE), ("大于等于", OP_GE),
    ("不小于", OP_GE), ("达到", OP_GE),
    ("<=", OP_LE), ("≤", OP_LE), ("≦", OP_LE), ("不高于", OP_LE), ("不超过", OP_LE), ("不多于", OP_LE),
    ("小于等于", OP_LE), ("不大于", OP_LE), ("控制在", OP_LE),
    (">", OP_GT), ("大于", OP_GT), ("高于", OP_GT), ("超过", OP_GT),
    ("<", OP_LT), ("小于", OP_LT), ("低于", OP_LT),
    ("=", OP_EQ), ("等于", OP_EQ),
]
_SUFFIX_OPS = {"以上": OP_GE, "及以上": OP_GE, "以下": OP_LE, "及以下": OP_LE, "以内": OP_LE}
_UNIT_ALIASES = {"百分比": "%", "％": "%"}
#: Units longer than two characters must be listed here; shorter ones ("栋") are accepted as they are.
KNOWN_UNITS = frozenset(
    "% ‰ 百分比 百分点 个百分点 万元 亿元 千元 元 人次 万人次 万人 个月 小时 分钟 工作日 公里 千米 平方米 "
    "立方米 公顷 课时 学时 元/人 元/次 万元/人 元/亩 人/次".split()
)
_NUMBER = r"[-+]?\d+(?:,\d{3})*(?:\.\d+)?"
_QUANT_RE = re.compile(
    r"^(?P<num>" + _NUMBER + r")\s*(?P<unit>[^\d\s≥≤<>=]{0,6}?)\s*(?P<suffix>及以上|及以下|以上|以下|以内)?$"
)
_OP_CHARS = re.compile(r"[≥≤<>=≧≦]")


@dataclass(frozen=True)
class Target:
    """A parsed target: operator, numeric value (None for 定性), unit and the original text."""

    op: str
    value: float | None
    unit: str
    text: str

    @property
    def is_qualitative(self) -> bool:
        return self.op == OP_QUAL


class TargetSyntaxError(ValueError):
    """A target string has an operator or a number but cannot be read as one."""


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", str(text)).strip()


def normalize_op(op: str) -> str | None:
    """Map a user-written operator ("≥", ">=", "＞", "定性", "大于等于"...) to the canonical symbol.

    Returns:
        One of :data:`OPERATORS`, or None when the text is not an operator.
    """
    text = _norm(op).replace(" ", "")
    if text in ("定性", "定性指标"):
        return OP_QUAL
    for word, canon in _OP_WORDS:
        if text == word:
            return canon
    return None


def normalize_unit(unit: str) -> str:
    unit = _norm(unit)
    return _UNIT_ALIASES.get(unit, unit)


def _is_unit(unit: str) -> bool:
    unit = unit.strip()
    return len(unit) <= 2 or unit in KNOWN_UNITS


def _to_float(num: str) -> float:
    return float(num.replace(",", ""))


def parse_quantity(text: str) -> tuple[float, str] | None:
    """Read "96%", "3次", "108 万元", "1,200" as (number, unit); None when it is not a quantity."""
    m = _QUANT_RE.match(_norm(text))
    if not m or m.group("suffix") or not _is_unit(m.group("unit")):
        return None
    return _to_float(m.group("num")), normalize_unit(m.group("unit"))


def parse_target(text: object) -> Target:
    """Split a combined target string into operator, value and unit.

    Args:
        text: the target as written, e.g. "≥95%", "≤90万元", "=8个", "100%", "及时", or a number.

    Returns:
        A :class:`Target`. A bare number ("100%") is ＝, which the platform scores like ≥.
        A phrase without an operator ("及时", "2022年底前完成") is 定性.

    Raises:
        TargetSyntaxError: the text starts with an operator but no number and unit follow,
        e.g. "≥九成" or "≥".
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return Target(OP_EQ, float(text), "", str(text))
    raw = "" if text is None else str(text)
    s = _norm(raw).replace("（", "(").replace("）", ")")
    if not s:
        raise TargetSyntaxError("指标值为空")
    op = None
    for word, canon in sorted(_OP_WORDS, key=lambda w: -len(w[0])):
        if s.startswith(word):
            op, s = canon, s[len(word):].strip()
            break
    m = _QUANT_RE.match(s)
    if m and not _is_unit(m.group("unit")):
        m = None
    if m:
        suffix = m.group("suffix")
        if suffix:
            if op is not None and op != _SUFFIX_OPS[suffix]:
                raise TargetSyntaxError(f"运算符与“{suffix}”矛盾")
            op = _SUFFIX_OPS[suffix]
        return Target(op or OP_EQ, _to_float(m.group("num")), normalize_unit(m.group("unit")), raw)
    if op is not None or _OP_CHARS.search(s):
        raise TargetSyntaxError("有比较符号，但其后不是“数字+单位”")
    return Target(OP_QUAL, None, "", raw)


def looks_like_target(text: object) -> bool:
    """True when an actual value was written as a target ("≥95%") instead of a measurement."""
    if not isinstance(text, str):
        return False
    return bool(_OP_CHARS.search(_norm(text)))
