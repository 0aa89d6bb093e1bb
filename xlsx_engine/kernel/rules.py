"""The rule twin: one scoring rule's Python value, Excel formula and printed wording, defined together.

A form's rules are :class:`RuleTwin` objects (e.g. ``forms/project/rules.py``); the scorer calls
:attr:`RuleTwin.value`, the formula emitter :attr:`RuleTwin.formula` and the printed 评分规则 under
the table :attr:`RuleTwin.text`, so the three cannot drift apart. The tests recalculate the formulas in
spreadsheet engines and compare them with the values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class RuleTwin:
    """One rule in three forms.

    ``value(a, t, w, d)`` and ``formula(a, t, w, d)`` take the actual A, the target T, the weight w and
    the digits d — numbers for ``value``, cell expressions (strings) for ``formula``.
    """

    key: str
    value: Callable[..., float]
    formula: Callable[..., str]
    text: str
    source: str = ""          #: docs/rules.md anchor
