"""The target grammar: indicator targets and actual values as published tables write them.

A target cell in the official form holds operator, number and unit in one string
("≥95%", "≤90万元", "=8个", "100%"), a range ("90%-95%"), a deadline ("9月底前", "2023年12月")
or a phrase ("及时", "达成预期指标"). The template keeps them in three columns:
指标性质 | 指标值 | 度量单位. This module is the one reader of all of them, used by ``fill``,
``import``, ``check`` and the master; the grammar with examples is docs/rules.md#target-grammar.
It follows the national platform's 计算符号 codes: ≥ ＞ ＝ ＜ ≤ and 定性.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import functools
import re
import unicodedata
from dataclasses import dataclass

from xlsx_engine.kernel.textfilters import qty
from xlsx_engine.kernel.xlmath import is_number

#: Canonical operator symbols as they appear in the template's dropdown.
OP_GE, OP_GT, OP_EQ, OP_LT, OP_LE, OP_QUAL = "≥", "＞", "＝", "＜", "≤", "定性"
OPERATORS = (OP_GE, OP_GT, OP_EQ, OP_LE, OP_LT, OP_QUAL)
POSITIVE_OPS = (OP_GE, OP_GT)
REVERSE_OPS = (OP_LE, OP_LT)

#: Target kinds.
KIND_QUANT, KIND_RANGE, KIND_DEADLINE, KIND_QUAL = "定量", "区间", "时效", "定性"
#: The 度量单位 of a deadline row: target and actual are dates.
DATE_UNIT = "日期"

# After NFKC normalisation (and _PRE) "＞" is ">", "＝" "═" "﹦" are "=" and "～" is "~".
_OP_WORDS = [
    (">=", OP_GE), ("≥", OP_GE), ("≧", OP_GE), ("≮", OP_GE), ("不低于", OP_GE), ("不少于", OP_GE),
    ("大于等于", OP_GE), ("大于或等于", OP_GE), ("不小于", OP_GE), ("达到", OP_GE), ("至少", OP_GE),
    ("<=", OP_LE), ("≤", OP_LE), ("≦", OP_LE), ("≯", OP_LE), ("不高于", OP_LE), ("不超过", OP_LE),
    ("不多于", OP_LE), ("小于等于", OP_LE), ("小于或等于", OP_LE), ("不大于", OP_LE), ("控制在", OP_LE),
    ("最多", OP_LE),
    (">", OP_GT), ("大于", OP_GT), ("高于", OP_GT), ("超过", OP_GT),
    ("<", OP_LT), ("小于", OP_LT), ("低于", OP_LT),
    ("=", OP_EQ), ("等于", OP_EQ),
]
_OPS_LONGEST_FIRST = sorted(_OP_WORDS, key=lambda w: -len(w[0]))
_SUFFIX_OPS = {"以上": OP_GE, "及以上": OP_GE, "以下": OP_LE, "及以下": OP_LE, "以内": OP_LE, "之内": OP_LE,
               "内": OP_LE}
_UNIT_ALIASES = {"百分比": "%", "％": "%"}
#: Units longer than two characters must be listed here (or be made of such parts joined by / * ·);
#: shorter ones ("栋") are accepted as they are.
KNOWN_UNITS = frozenset(
    "% ‰ 百分比 百分点 个百分点 万元 亿元 千元 元 人次 万人次 万人 个月 小时 分钟 工作日 公里 千米 平方米 "
    "立方米 公顷 课时 学时 个工作日 万平方米 平方公里 万公里 万立方米 万千瓦 千瓦时 万千瓦时 元/人 元/次 万元/人 元/亩 "
    "人/次".split()
)
#: Characters mapped before NFKC: box-drawing double line "═" as published for "=", dashes and "至" in ranges.
_PRE = str.maketrans({"═": "=", "—": "-", "–": "-", "－": "-", "〜": "~", "（": "(", "）": ")"})
_NUMBER = r"[-+]?\d+(?:,\d{3})*(?:\.\d+)?"
_UNIT = r"[^\d\s≥≤<>=≧≦~]{0,6}?"
_SUFFIX = r"(?P<suffix>及以上|及以下|以上|以下|以内|之内|内)?"
_QUANT_RE = re.compile(r"^(?P<num>" + _NUMBER + r")\s*(?P<unit>" + _UNIT + r")\s*" + _SUFFIX + "$")
_RANGE_RE = re.compile(
    r"^(?P<lo>\d+(?:,\d{3})*(?:\.\d+)?)\s*(?P<u1>" + _UNIT + r")\s*(?:-|~|至|到)\s*"
    r"(?P<hi>\d+(?:,\d{3})*(?:\.\d+)?)\s*(?P<u2>" + _UNIT + r")\s*(?:之间|区间)?$")
_OP_CHARS = re.compile(r"[≥≤<>=≧≦≮≯]")

# --- deadlines
_DONE = r"(?:全部|全面|按时|按期)?(?:完成|完工|竣工|实施完毕|建成|到位|拨付|发放完毕|发放|支付|验收)?"
_BEFORE = r"(?P<before>之前|以前|前)?"
_DATE_RE = re.compile(
    r"^(?:(?P<year>\d{4})\s*年(?:度)?\s*)?"
    r"(?:(?P<month>\d{1,2})\s*月\s*(?:(?P<day>\d{1,2})\s*日|(?P<end>底|末|份)|(?P<half>上旬|中旬|下旬))?)"
    + _BEFORE + _DONE + r"(?:前)?$")
_YEAR_END_RE = re.compile(r"^(?:(?P<year>\d{4})\s*年(?:度)?)?\s*(?:年)?(?P<end>底|末|内|年内|年底|年末)"
                          + _BEFORE + _DONE + "$")
_ISO_DATE_RE = re.compile(r"^(?P<year>\d{4})[-/.](?P<month>\d{1,2})(?:[-/.](?P<day>\d{1,2}))?" + _BEFORE + _DONE + "$")


@dataclass(frozen=True)
class Deadline:
    """A 时效 target: complete on or before ``month``/``day`` of ``year`` (None: the evaluation year)."""

    year: int | None
    month: int
    day: int

    def date(self, year: int | None = None) -> _dt.date:
        """The deadline as a date; ``year`` is used when the target names none.

        Raises:
            ValueError: neither the target nor the caller gives a year.
        """
        y = self.year or year
        if y is None:
            raise ValueError("指标值没有写年份，需要评价年度")
        return _dt.date(y, self.month, min(self.day, calendar.monthrange(y, self.month)[1]))

    def text(self) -> str:
        return (f"{self.year}年" if self.year else "") + f"{self.month}月{self.day}日"


@dataclass(frozen=True)
class Target:
    """A parsed target.

    ``op``, ``value`` (None for 定性 and 时效) and ``unit``; ``kind`` is 定量, 区间 (``value`` the lower
    bound and ``upper`` the upper), 时效 (``deadline``; ``op`` ≤, ``unit`` 日期) or 定性; ``text`` the original.
    """

    op: str
    value: float | None
    unit: str
    text: str
    kind: str = KIND_QUANT
    upper: float | None = None
    deadline: Deadline | None = None

    @property
    def is_qualitative(self) -> bool:
        return self.op == OP_QUAL


class TargetSyntaxError(ValueError):
    """A target string has an operator or a number but cannot be read as one."""


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", str(text).translate(_PRE)).strip()


def normalize_op(op: str) -> str | None:
    """Map a user-written operator ("≥", ">=", "＞", "═", "定性", "大于等于"...) to the canonical symbol.

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
    if len(unit) <= 2 or unit in KNOWN_UNITS:
        return True
    parts = re.split(r"[/*·]", unit)
    return len(parts) > 1 and all(0 < len(p) <= 2 or p in KNOWN_UNITS for p in parts)


def _to_float(num: str) -> float:
    return float(num.replace(",", ""))


def parse_quantity(text: str) -> tuple[float, str] | None:
    """Read "96%", "3次", "108 万元", "1,200" as (number, unit); None when it is not a quantity."""
    m = _QUANT_RE.match(_norm(text))
    if not m or m.group("suffix") or not _is_unit(m.group("unit")):
        return None
    return _to_float(m.group("num")), normalize_unit(m.group("unit"))


def parse_deadline(text: object) -> Deadline | None:
    """Read a date or deadline ("9月底前", "2023年12月", "12月31日前完成", "2023-10-15", "年底前").

    "N月前" is before the first of month N (the last day of month N−1); "N月", "N月底前" and "N月份" the
    last day of month N; "N月D日前" day D (inclusive); 上/中/下旬 the 10th, 20th and last day.
    Returns None when the text is not a date.
    """
    if isinstance(text, _dt.datetime):
        text = text.date()
    if isinstance(text, _dt.date):
        return Deadline(text.year, text.month, text.day)
    s = _norm(str(text)).replace(" ", "")
    m = _YEAR_END_RE.match(s)
    if m:
        return Deadline(int(m.group("year")) if m.group("year") else None, 12, 31)
    return _month_day(s)


def _month_end(year: int | None, month: int) -> int:
    """The last day of a month; February of an unknown year is 29 (Deadline.date clamps it)."""
    return calendar.monthrange(year or 2000, month)[1]


def _month_day(s: str) -> Deadline | None:
    m = _DATE_RE.match(s) or _ISO_DATE_RE.match(s)
    if not m:
        return None
    year = int(m.group("year")) if m.group("year") else None
    month = int(m.group("month"))
    if not 1 <= month <= 12 or (year is not None and not 1900 <= year <= 2200):
        return None
    groups = m.groupdict()
    if groups.get("day"):
        day = int(groups["day"])
        if not 1 <= day <= 31:
            return None
        return Deadline(year, month, day)
    if groups.get("half") in ("上旬", "中旬"):
        return Deadline(year, month, 10 if groups["half"] == "上旬" else 20)
    if m.group("before") and not groups.get("end") and not groups.get("half"):
        if month == 1:            # "1月前": before the year starts (without a year: read as 1月1日)
            return Deadline(year - 1, 12, 31) if year else Deadline(None, 1, 1)
        return Deadline(year, month - 1, _month_end(year, month - 1))
    return Deadline(year, month, _month_end(year, month))


_EPOCH = _dt.date(1899, 12, 30)
#: A number at or above this in a date cell is written yyyymmdd (20231231), below it a spreadsheet date serial.
YYYYMMDD_FROM = 100000


def date_number(d: _dt.date) -> float:
    """A date as the yyyymmdd number written into a 时效 row's cells (20231231: readable in any engine)."""
    return float(d.year * 10000 + d.month * 100 + d.day)


def date_serial(value: float) -> float:
    """A date cell's value as a spreadsheet date serial: yyyymmdd numbers are converted like
    ``DATE(INT(v/10000),MOD(INT(v/100),100),MOD(v,100))`` (the formula twin), serials stay."""
    if value < YYYYMMDD_FROM:
        return value
    v = int(value)
    y, m, d = v // 10000, (v // 100) % 100, int(value % 100)
    y += (m - 1) // 12
    first = _dt.date(y, (m - 1) % 12 + 1, 1)
    return float((first - _EPOCH).days + d - 1)


def _deadline_target(s: str, raw: str, op: str | None) -> Target | None:
    if op not in (None, OP_LE, OP_LT):
        return None
    d = parse_deadline(s)
    if d is None:
        return None
    if op == OP_LT:   # "＜9月1日" is "≤8月31日"
        prev = _dt.date(d.year or 2001, d.month, min(d.day, calendar.monthrange(d.year or 2001, d.month)[1]))
        prev -= _dt.timedelta(days=1)
        d = Deadline(d.year and prev.year, prev.month, prev.day)
    return Target(OP_LE, None, DATE_UNIT, raw, KIND_DEADLINE, deadline=d)


def parse_target(text: object) -> Target:
    """Split a combined target string into operator, value and unit.

    Args:
        text: the target as written, e.g. "≥95%", "═100%", "不少于12 种", "90%-95%", "9月底前",
            "及时", or a number.

    Returns:
        A :class:`Target`. A bare number ("100%") is ＝, which the platform scores like ≥.
        A range is ≥ its lower bound (kind 区间). A date or deadline is kind 时效 (op ≤, unit 日期).
        A phrase without an operator sign ("及时", "按期完成", "不低于上年水平") is 定性.

    Raises:
        TargetSyntaxError: the text starts with an operator but no number and unit follow,
        e.g. "≥九成" or "≥".
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return Target(OP_EQ, float(text), "", str(text))
    if isinstance(text, (_dt.date, _dt.datetime)):
        return _deadline_target(text, str(text), None)  # type: ignore[return-value]
    raw = "" if text is None else str(text)
    return _parse_cached(raw) if len(raw) <= 64 else _parse_text(raw)


def _parse_text(raw: str) -> Target:
    s = _norm(raw)
    if not s:
        raise TargetSyntaxError("指标值为空")
    op = None
    for word, canon in _OPS_LONGEST_FIRST:
        if s.startswith(word):
            op, s = canon, s[len(word):].strip()
            break
    deadline = _deadline_target(s, raw, op)
    if deadline is not None:
        return deadline
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
    r = _RANGE_RE.match(s) if op is None else None
    if r and _is_unit(r.group("u1")) and _is_unit(r.group("u2")) and \
            (not r.group("u1") or not r.group("u2") or normalize_unit(r.group("u1")) == normalize_unit(r.group("u2"))):
        lo, hi = _to_float(r.group("lo")), _to_float(r.group("hi"))
        if lo < hi:
            unit = normalize_unit(r.group("u2") or r.group("u1"))
            return Target(OP_GE, lo, unit, raw, KIND_RANGE, upper=hi)
    if (op is not None and _OP_CHARS.match(_norm(raw))) or _OP_CHARS.search(s):
        raise TargetSyntaxError("有比较符号，但其后不是“数字+单位”")
    return Target(OP_QUAL, None, "", raw, KIND_QUAL)


#: :func:`parse_target` of a short text, cached: every copy of a form repeats the same few targets (a Target is
#: immutable; a refusal is not cached and is raised again; long texts are not kept)
_parse_cached = functools.lru_cache(maxsize=4096)(_parse_text)


def shown_target(op: str, value: object, unit: str = "") -> str | None:
    """A numeric 指标值 as printed: "≥2次", "100%", "≤90万元" (＝ prints the value alone, as the unit typed it);
    None when the target is not a number with a comparison (a 定性 target is shown as its text)."""
    if op in (OP_GE, OP_GT, OP_LE, OP_LT, OP_EQ) and is_number(value):
        return ("" if op == OP_EQ else op) + qty(value, unit or "")
    return None


def format_target(t: Target) -> str:
    """The canonical text of a parsed target ("≥95%", "90-95%", "2023年12月31日前"); parse_target reads it back."""
    if t.kind == KIND_QUAL:
        return t.text
    if t.kind == KIND_DEADLINE and t.deadline is not None:
        return t.deadline.text() + "前"
    num = f"{t.value:.15g}"
    if t.kind == KIND_RANGE:
        return f"{num}-{t.upper:.15g}{t.unit}"
    return ("" if t.op == OP_EQ else t.op) + num + t.unit


def looks_like_target(text: object) -> bool:
    """True when an actual value was written as a target ("≥95%") instead of a measurement."""
    if not isinstance(text, str):
        return False
    return bool(_OP_CHARS.search(_norm(text)))
