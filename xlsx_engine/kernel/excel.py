"""Spreadsheet semantics in Python and the formula-writing helpers every form shares.

Each pair here is one rule twin: :func:`num` is :func:`num_formula`, :func:`nonblank` is ``LEN(x)>0``
(and, over a range, :func:`count_nonblank_formula`), :func:`verdict` is :func:`verdict_formula`,
:func:`~xlsx_engine.kernel.profiles.grade_for` is :func:`grade_formula`. Forms build their own rules from these
(``xlsx_engine/forms/<form>/rules.py`` or ``scoring.py``/``formulas.py``).

Only functions and constructs that Excel 2010, WPS, LibreOffice and Gnumeric evaluate alike are
allowed in a template: :data:`ALLOWED_FUNCTIONS` lists the functions and the tests check every formula
of every template and recalculate generated workbooks in LibreOffice and in Gnumeric. Two constructs
that look portable are not (Gnumeric 1.12): ``N()`` of a blank cell is ``#NUM!`` there, and a function
of a range inside ``SUMPRODUCT`` (``SUMPRODUCT(--(LEN(A1:A9)>0))``) is not evaluated element by element
(``#VALUE!``); comparisons of a range (``A1:A9<>""``) are. Hence :func:`num_formula` and
:func:`nonblank_array`.
"""

from __future__ import annotations

import math
import re
from typing import Iterable, Sequence

from xlsx_engine.kernel.profiles import Grade
from xlsx_engine.kernel.xlmath import is_number, xtext

NA = "—"  #: shown where a ratio cannot be computed (denominator 0)

#: Functions the templates may use: present in Excel 2010, WPS, LibreOffice and Gnumeric alike, and
#: exactly those the formulas use (tests/test_templates.py checks both ways).
ALLOWED_FUNCTIONS = frozenset({
    "SUM", "ROUND", "IF", "AND", "OR", "NOT", "MIN", "MAX", "LEN", "ISNUMBER", "FIND", "SUMIF",
    "SUMPRODUCT", "COUNT", "COUNTA", "LEFT", "DATE", "INT", "MOD", "RIGHT", "TRIM", "INDEX", "MATCH",
})

# ----------------------------------------------------------------------------- Python side


def num(value) -> float:
    """:func:`num_formula`: numbers stay, everything else (blank, text, boolean) is 0."""
    return float(value) if is_number(value) else 0.0


def nonblank(value) -> bool:
    """``LEN(cell)>0``."""
    return value is not None and value != ""


def ssum(values: Iterable) -> float:
    """Spreadsheet ``SUM``: adds the numbers and ignores text and blanks."""
    numbers = [float(v) for v in values if is_number(v)]
    try:
        return math.fsum(numbers)
    except OverflowError:        # past the largest double: ±inf, a spreadsheet's #NUM! (never an internal error)
        return sum(numbers)


def verdict(checks: Sequence[str]) -> str:
    """The 校验结论 cell: twin of :func:`verdict_formula`."""
    return "未发现问题" if not "".join(checks) else "存在问题，请查看下方提示"


# ----------------------------------------------------------------------------- formula side


def q(text: str) -> str:
    """A string literal for a formula."""
    return '"' + text.replace('"', '""') + '"'


def n(value: float) -> str:
    """A number literal for a formula."""
    return xtext(value)


def any_of(ref: str, values) -> str:
    return "OR(" + ",".join(f"{ref}={q(v)}" for v in values) + ")"


_FUNC_RE = re.compile(r"([A-Z][A-Z0-9.]*)\(")
_STRING_RE = re.compile(r'"(?:[^"]|"")*"')


def functions_used(formula: str) -> set[str]:
    """The function names a formula calls (string literals are skipped)."""
    return set(_FUNC_RE.findall(_STRING_RE.sub('""', formula)))


def num_formula(ref: str) -> str:
    """The number in the cell ``ref``, else 0: twin of :func:`num` (``N()`` is not portable, see above)."""
    return f"IF(ISNUMBER({ref}),{ref},0)"


def nonblank_array(range_ref: str) -> str:
    """Array of :func:`nonblank` over a range, for ``SUMPRODUCT``: ``(range<>"")``, TRUE where a cell
    holds anything but blank or "" (the meaning of ``LEN(cell)>0``)."""
    return f'({range_ref}<>"")'


def blank_array(range_ref: str) -> str:
    """Array of ``not nonblank`` over a range, for ``SUMPRODUCT``: ``(range="")``."""
    return f'({range_ref}="")'


def count_nonblank_formula(range_ref: str) -> str:
    """How many cells of a range are :func:`nonblank`."""
    return f"SUMPRODUCT(--{nonblank_array(range_ref)})"


def verdict_formula(check_range: str) -> str:
    return f"=IF({count_nonblank_formula(check_range)}=0,{q('未发现问题')},{q('存在问题，请查看下方提示')})"


def grade_formula(total: str, grades: Sequence[Grade]) -> str:
    """等次 from a total: twin of :func:`xlsx_engine.kernel.profiles.grade_for`."""
    expr = q(grades[-1].label)
    for g in reversed(grades[:-1]):
        expr = f"IF({total}>={n(g.min)},{q(g.label)},{expr})"
    return "=" + expr


TARGET_CHARS = ("≥", "≤", "<", ">", "=", "≧", "≦", "＞", "＜", "＝")


def looks_like_target_expr(ref: str) -> str:
    """Boolean: the cell's text contains an operator sign (an actual written as a target)."""
    return "OR(" + ",".join(f"ISNUMBER(FIND({q(c)},{ref}))" for c in TARGET_CHARS) + ")"
