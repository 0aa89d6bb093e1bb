"""Jinja2 filters for Chinese official writing (公文): amounts, percentages, dates, lists, numerals.

Every filter is a pure function of its arguments, safe to expose in a sandboxed
environment, and rounds like the spreadsheet (:func:`~xlsx_engine.xlmath.xround`,
half away from zero), so a figure printed in the narrative is the figure the
workbook shows.

==============  ==========================================  =====================
filter          example                                     result
==============  ==========================================  =====================
``amount``      ``39.96|amount`` / ``40|amount(fixed=True)``  ``39.96`` / ``40.00``
``wan``         ``39.96|wan``                               ``39.96万元``
``pct``         ``0.999|pct`` / ``95|pct(ratio=False)``      ``99.9%`` / ``95%``
``num``         ``90.98|num`` / ``98.0|num``                 ``90.98`` / ``98``
``qty``         ``3|qty("次")``                              ``3次``
``cndate``      ``"2022-08-16"|cndate``                      ``2022年8月16日``
``enum``        ``["甲","乙","丙"]|enum``                    ``甲、乙和丙``
``cnnum``       ``12|cnnum``                                 ``十二``
``cncount``     ``2|cncount``                                ``两``（两个指标）
``section``     ``2|section`` / ``2|section(2)``             ``二、`` / ``（二）``
``rmb``         ``269|rmb``（万元）                          ``人民币贰佰陆拾玖万元整``
``pending``     ``none|pending("偏差原因")``                 ``（待补充偏差原因）``
``sentence``    ``"结余已退回；"|sentence``                  ``结余已退回。``
``clause``      ``"结余已退回。"|clause``                    ``结余已退回``
``unnumber``    ``"（1）由于……"|unnumber``                  ``由于……``
``quote``       ``"政策知晓率"|quote``                       ``“政策知晓率”``
``demote``      ``"# 一、概况"|demote``                      ``## 一、概况``
``cell``        ``"a|b"|cell``                               ``a｜b``（Markdown 表格单元格）
==============  ==========================================  =====================
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable

from xlsx_engine.kernel.xlmath import is_number, without_decimals, xround, xtext

DASH = "—"
_DIGITS = "零一二三四五六七八九"
_UPPER = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "十", "百", "千")
_UPPER_UNITS = ("", "拾", "佰", "仟")
_BIG_UNITS = ("", "万", "亿", "万亿")
_END_PUNCT = "。；;，,、.．:：!！?？ \u3000\t\r\n"


class FilterError(ValueError):
    """A filter got a value it cannot format; the message is Chinese and names the value."""


def _number(value: Any, what: str) -> float | None:
    """A number, or None for empty / "—"; text that is not a number is an error."""
    if value is None or value == "" or value == DASH:
        return None
    if is_number(value):
        return float(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.replace(",", "").strip())
        except ValueError:
            pass
    raise FilterError(f"{what}：“{value}”不是数字")


def _fixed(value: float, digits: int) -> str:
    """``value`` rounded like Excel and printed with exactly ``digits`` decimals."""
    if without_decimals(value):
        return xtext(value)      # no decimals at 15 significant digits ("1E+26"), "#NUM!" past the range
    rounded = xround(value, digits)
    dec = Decimal(f"{rounded:.15g}").quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    text = f"{dec:f}"
    return "0" + text[2:] if text.startswith("-0") and not dec else text


def _trimmed(value: float, digits: int) -> str:
    text = _fixed(value, digits)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _group_thousands(text: str) -> str:
    sign = "-" if text.startswith("-") else ""
    body = text.lstrip("-")
    whole, _, frac = body.partition(".")
    if not whole.isdigit():      # "1E+26", "#NUM!": nothing to group
        return text
    whole = f"{int(whole):,}"
    return sign + whole + ("." + frac if frac else "")


def amount(value: Any, digits: int = 2, fixed: bool = False, sep: bool = False, empty: str = DASH) -> str:
    """An amount (万元) as a number: rounded to ``digits``; trailing zeros dropped unless ``fixed``.

    Args:
        value: the amount; None/""/"—" gives ``empty``.
        digits: decimals kept (2 for 万元, i.e. to the hundred yuan).
        fixed: keep trailing zeros ("40.00"), as tables print them.
        sep: group thousands with commas.
    """
    v = _number(value, "金额")
    if v is None:
        return empty
    text = _fixed(v, digits) if fixed else _trimmed(v, digits)
    return _group_thousands(text) if sep else text


def wan(value: Any, digits: int = 2, fixed: bool = False, sep: bool = False, empty: str = DASH) -> str:
    """An amount with its unit: ``39.96万元``."""
    text = amount(value, digits, fixed, sep, empty="")
    return text + "万元" if text else empty


def pct(value: Any, digits: int = 2, fixed: bool = False, ratio: bool = True, empty: str = "无法计算") -> str:
    """A percentage: ``0.999`` → ``99.9%`` (``ratio=False`` when the value is already in %)."""
    v = _number(value, "百分比")
    if v is None:
        return empty
    if not math.isfinite(v):
        return xtext(v)
    if ratio:
        v = float(Decimal(f"{v:.15g}") * 100)
    return (_fixed(v, digits) if fixed else _trimmed(v, digits)) + "%"


def num(value: Any, digits: int = 2, fixed: bool = False, empty: str = DASH) -> str:
    """A score or count: rounded to ``digits``, ``98.0`` → ``98``."""
    v = _number(value, "数值")
    if v is None:
        return empty
    return _fixed(v, digits) if fixed else _trimmed(v, digits)


def qty(value: Any, unit: Any = "", empty: str = "") -> str:
    """A value as the unit typed it, with its unit (``3`` + ``次`` → ``3次``); text passes through."""
    if value is None or value == "":
        return empty
    if is_number(value):
        return xtext(float(f"{float(value):.15g}")) + (str(unit) if unit else "")
    return str(value)


_DATE_RES = (
    re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$"),
    re.compile(r"^\s*(\d{4})(\d{2})(\d{2})\s*$"),
)
_MONTH_RE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?\s*$")


def to_date(value: Any) -> _dt.date:
    """A date from a ``date``/``datetime`` or a text such as 2022-08-16, 2022/8/16, 2022年8月16日.

    Raises:
        FilterError: the text is not a valid date.
    """
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    text = str(value or "")
    for rx in _DATE_RES:
        m = rx.match(text)
        if m:
            try:
                return _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                break
    raise FilterError(f"日期：“{value}”不是有效日期（可写作 2022-08-16 或 2022年8月16日）")


def cndate(value: Any, fmt: str = "ymd") -> str:
    """A date in Chinese: ``2022年8月16日`` (``fmt="ym"``: ``2022年8月``; ``"y"``: ``2022年``)."""
    if fmt == "ym" and isinstance(value, str):
        m = _MONTH_RE.match(value)
        if m:
            return f"{int(m.group(1))}年{int(m.group(2))}月"
    d = to_date(value)
    if fmt == "y":
        return f"{d.year}年"
    if fmt == "ym":
        return f"{d.year}年{d.month}月"
    return f"{d.year}年{d.month}月{d.day}日"


def enum(items: Iterable[Any] | Any, last: str = "和", sep: str = "、") -> str:
    """Join items the official way: ``甲``, ``甲和乙``, ``甲、乙和丙`` (``last="或"`` for alternatives)."""
    if isinstance(items, str):
        items = [items]
    parts = [str(x).strip() for x in (items or []) if x is not None and str(x).strip()]
    if len(parts) <= 1:
        return "".join(parts)
    return sep.join(parts[:-1]) + last + parts[-1]


def _small(n: int, digits: str, units: tuple[str, ...]) -> str:
    """0 < n < 10000 in Chinese numerals, with inner zeros (一千零五)."""
    out, zero = "", False
    for power in (3, 2, 1, 0):
        d = n // 10 ** power % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out += digits[0]
            zero = False
        out += digits[d] + units[power]
    return out


def _integer(n: int, digits: str, units: tuple[str, ...]) -> str:
    if n == 0:
        return digits[0]
    groups = []
    while n:
        n, g = divmod(n, 10000)
        groups.append(g)
    out, pending_zero = "", False
    for k in range(len(groups) - 1, -1, -1):
        g = groups[k]
        if g == 0:
            pending_zero = bool(out)
            continue
        if out and (pending_zero or g < 1000):
            out += digits[0]
        out += _small(g, digits, units) + _BIG_UNITS[k]
        pending_zero = False
    return out


def cnnum(value: Any) -> str:
    """A whole number in lower-case Chinese numerals: 1 → 一, 10 → 十, 12 → 十二, 105 → 一百零五."""
    v = _number(value, "序号")
    if v is None or v != int(v) or v < 0:
        raise FilterError(f"序号：“{value}”不是非负整数")
    text = _integer(int(v), _DIGITS, _SMALL_UNITS)
    return text[1:] if text.startswith("一十") else text


def cncount(value: Any) -> str:
    """A count before a measure word: 2 → 两（两个指标）, otherwise as :func:`cnnum`."""
    return "两" if _number(value, "数量") == 2 else cnnum(value)


def section(value: Any, level: int = 1) -> str:
    """Section numerals of official documents: level 1 ``一、``, 2 ``（一）``, 3 ``1.``, 4 ``（1）``."""
    v = _number(value, "序号")
    if v is None or v != int(v) or v < 1:
        raise FilterError(f"序号：“{value}”应为正整数")
    n = int(v)
    if level == 1:
        return cnnum(n) + "、"
    if level == 2:
        return f"（{cnnum(n)}）"
    if level == 3:
        return f"{n}."
    if level == 4:
        return f"（{n}）"
    raise FilterError(f"序号层级应为 1–4，实际为 {level}")


def rmb(value: Any, unit: str = "万元", prefix: str = "人民币") -> str:
    """An amount in capital numerals (大写) as on financial forms: 269 万元 → 人民币贰佰陆拾玖万元整.

    Args:
        value: the amount, in ``unit`` (万元 by default; ``unit="元"`` for yuan).
        prefix: printed before the words ("" to omit).
    """
    v = _number(value, "金额")
    if v is None:
        raise FilterError("金额大写：金额为空")
    if unit not in ("万元", "元"):
        raise FilterError(f"金额大写：单位应为 万元 或 元，实际为 {unit}")
    if not math.isfinite(v) or abs(v) * (10000 if unit == "万元" else 1) >= 1e16:
        return f"{prefix}{amount(v)}{unit}"      # past 万亿 yuan no form writes it in words: the figure
    dec = Decimal(f"{v:.15g}") * (10000 if unit == "万元" else 1)
    sign = "负" if dec < 0 else ""
    fen_total = int(abs(dec).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) * 100)
    yuan, rest = divmod(fen_total, 100)
    jiao, fen = divmod(rest, 10)
    if yuan == 0 and rest == 0:
        return f"{prefix}零元整"
    text = ""
    if yuan:
        text = _integer(yuan, _UPPER, _UPPER_UNITS) + "元"
    if rest == 0:
        text += "整"
    else:
        if jiao:
            text += _UPPER[jiao] + "角"
        elif yuan:
            text += "零"
        if fen:
            text += _UPPER[fen] + "分"
    return prefix + sign + text


def clause(value: Any) -> str:
    """Unit-written text without its closing punctuation, to be embedded in a sentence."""
    return str(value or "").strip().rstrip(_END_PUNCT)


def sentence(value: Any) -> str:
    """Unit-written text ending with exactly one ``。``（“…退回财政。”stays, “…退回财政；”→“…退回财政。”）."""
    text = clause(value)
    return text + "。" if text else ""


def pending(value: Any, what: str = "说明") -> str:
    """The value, or a visible placeholder ``（待补充<what>）`` when it is empty — never an invented text."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return f"（待补充{what}）"
    if isinstance(value, (list, tuple)):
        return enum(value, "；", "；") or f"（待补充{what}）"
    return clause(value) if isinstance(value, str) else str(value)


_CN = "一二三四五六七八九十"
_LEADING_NO = re.compile(
    r"^\s*(?:目标\s*[0-9" + _CN + r"]+\s*[：:、.．]"      # 目标1：
    r"|[（(]\s*[0-9" + _CN + r"]+\s*[）)]"               # （1） (一)
    r"|[0-9]+\s*[.．、](?![0-9])"                       # 1. 1、 (not 3.5)
    r"|[" + _CN + r"]+\s*[、是]"                         # 一、 一是
    r"|[①②③④⑤⑥⑦⑧⑨⑩])\s*")


def unnumber(value: Any) -> str:
    """Unit-written text without its own leading number（“（1）由于……”→“由于……”）, before we number it."""
    return _LEADING_NO.sub("", str(value or ""), count=1).strip()


def quote(value: Any) -> str:
    """A name in Chinese quotation marks: ``“政策知晓率”``."""
    text = clause(value)
    return text if text.startswith("“") and text.endswith("”") else f"“{text}”"


def cell(value: Any) -> str:
    """Text safe inside a Markdown table cell: no line breaks, ``|`` → ``｜``."""
    return re.sub(r"\s*\n\s*", " ", str("" if value is None else value)).replace("|", "｜").strip()


def demote(markup: Any, levels: int = 1) -> str:
    """Push the Markdown headings of a rendered text down ``levels`` levels (to nest a 综述 in a report)."""
    return re.sub(r"(?m)^(#{1,5}) ", lambda m: "#" * (len(m.group(1)) + levels) + " ", str(markup or ""))


FILTERS = {
    "amount": amount, "wan": wan, "pct": pct, "num": num, "qty": qty, "cndate": cndate, "enum": enum,
    "cnnum": cnnum, "cncount": cncount, "section": section, "rmb": rmb, "clause": clause, "sentence": sentence,
    "pending": pending,
    "demote": demote, "unnumber": unnumber, "quote": quote, "cell": cell,
}
