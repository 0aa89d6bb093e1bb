"""The two independent spreadsheet engines the tests recalculate with, and how their values are compared.

LibreOffice and Gnumeric implement the spreadsheet functions independently; every generated workbook is
recalculated by both and each formula cell must equal the Python twin in both (the ``engine`` fixture of
``conftest.py`` runs a test once per engine). Excel and WPS cannot run here, so the agreement of two
independent engines is the proxy for them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict

#: A decimal number inside a text (a formula's ``"…"&number``).
_DECIMAL = re.compile(r"\d+\.\d+")


@dataclass(frozen=True)
class Engine:
    """An engine that recalculates workbooks: ``recalc(paths, outdir) -> {path: recalculated .xlsx}``."""
    name: str
    recalc: Callable[..., Dict[Path, Path]]


def spelled(text: str) -> str:
    """A text with every decimal number in it spelled with at most 15 significant digits.

    Excel, WPS and LibreOffice turn a number into text (``"相差"&ROUND(x,2)``) with 15 significant digits;
    Gnumeric 1.12 computes in long double and spells some such numbers with 20 (``50.369999999999999999``
    for 50.37, ``2.3699999999999999999`` for 2.37). The number is the same; only its spelling differs.
    """
    return _DECIMAL.sub(lambda m: f"{float(m.group(0)):.15g}", text)


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def half_rounded(python: str, engine: str) -> bool:
    """Texts equal but for numbers one unit apart in their last (second) decimal.

    Excel, WPS and LibreOffice ``ROUND`` the number's 15-digit decimal value, as the Python twin does: 70.276 −
    55.121 is 15.155000000000001, spelled 15.155, and rounds to 15.16. Gnumeric rounds the binary value itself
    (15.15499…) and gives 15.15. Only such half cases differ, and only in Gnumeric.
    """
    if _NUMBER.sub("#", python) != _NUMBER.sub("#", engine):
        return False
    pairs = list(zip(_NUMBER.findall(python), _NUMBER.findall(engine)))
    return all(a == b or (len(a.partition(".")[2]) == 2 and abs(float(a) - float(b)) < 0.0101)
               for a, b in pairs)


def same_cell(python, engine, engine_name: str = "") -> bool:
    """The Python twin's value equals the engine's: numbers within 0.005, texts up to :func:`spelled`
    numbers (and, for Gnumeric, :func:`half_rounded` numbers), blank and "" alike, booleans exactly."""
    if isinstance(python, bool) or isinstance(engine, bool):
        return python == engine
    if isinstance(python, (int, float)) and isinstance(engine, (int, float)):
        return abs(python - engine) < 0.005
    a, b = (python if python is not None else ""), (engine if engine is not None else "")
    if isinstance(a, str) and isinstance(b, str):
        return (a == b or spelled(a) == spelled(b)
                or (engine_name == "Gnumeric" and half_rounded(spelled(a), spelled(b))))
    return a == b
