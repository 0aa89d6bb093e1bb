"""Number semantics shared by the Python scorer and the spreadsheet formulas.

Excel, WPS and LibreOffice round half away from zero on the *decimal* value they
display (15 significant digits), not on the binary float. Python's ``round`` does
banker's rounding on the binary float. Every rounding in the scorer goes through
:func:`xround` so Python and the spreadsheets agree to the cent.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal


def without_decimals(value: float) -> bool:
    """Whether a spreadsheet shows a number without decimals whatever its format: from 1E+15 on its 15
    significant digits leave none, and past the doubles' range it is ``#NUM!`` — such a number is printed by
    :func:`xtext` and never rounded to decimals."""
    return not math.isfinite(value) or abs(value) >= 1e15


def xround(value: float, digits: int = 2) -> float:
    """Round like Excel's ``ROUND``: half away from zero on the 15-digit decimal value.

    Args:
        value: the number to round.
        digits: decimal places (may be 0).

    Returns:
        The rounded number as a float.
    """
    if value == 0:
        return 0.0
    if without_decimals(value):
        return xnum(value)       # no decimals left at 15 significant digits (and beyond 1e26 Decimal would refuse)
    dec = Decimal(f"{value:.15g}")
    quantum = Decimal(1).scaleb(-digits)
    rounded = dec.quantize(quantum, rounding=ROUND_HALF_UP)
    return float(rounded)


def xtext(value: float) -> str:
    """Convert a number to text as ``"..." & number`` does in Excel and LibreOffice.

    Integers print without a decimal point; other numbers use up to 15 significant digits.
    """
    value = float(value)
    if not math.isfinite(value):
        return "#NUM!"               # what a spreadsheet shows for a number out of its range
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    text = f"{value:.15g}"
    if "e" in text:
        return text.upper()
    return text


def xnum(value):
    """A cell value as a spreadsheet stores it: numbers keep 15 significant digits, others pass through."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        got = float(f"{value:.15g}")
        if math.isinf(got) and isinstance(value, float) and math.isfinite(value):
            return value             # the largest doubles round up past the range: keep them finite
        return got
    return value


def is_number(value: object) -> bool:
    """True for the values a spreadsheet's ``ISNUMBER`` accepts (not booleans, not text)."""
    return value.__class__ is float or isinstance(value, (int, float)) and not isinstance(value, bool)
