"""A sentence defined once and spoken twice: as Python text and as an Excel text formula.

The workbook's live 综述 is assembled by formulas from the cells as the unit types; the Jinja report is
rendered by Python from the scored record. Both must say the same words, so each sentence is written once
as a tree of :class:`Phrase` nodes and each node knows both of its forms:

* :meth:`Phrase.py` renders it from Python values (``values[key]``: numbers, texts, booleans);
* :meth:`Phrase.xl` writes it as a formula expression from cell expressions (``refs[key]``: a reference
  such as ``"F6"`` or a boolean/number expression).

Every node pairs a Python rule with the formula that computes the same text in Excel 2010, WPS,
LibreOffice and Gnumeric (only functions of :data:`~xlsx_engine.kernel.excel.ALLOWED_FUNCTIONS`):

============  ======================================  ==========================================
node          Python                                  formula
============  ======================================  ==========================================
``Lit``       the text                                ``"text"``
``Num``       ``xtext(xround(v, d)) + unit``           ``ROUND(x,d)&"unit"``
``Pct``       ``xtext(xround(v × 100, d)) + "%"``      ``ROUND(x*100,d)&"%"``
``Text``      the cell as text (numbers as Excel)     ``x&""``
``Clause``    trimmed, one closing mark dropped       ``TRIM``, ``RIGHT``, ``LEFT``
``Pending``   the clause, or ``（待补充…）``           ``IF(LEN(TRIM(x))>0,…,"（待补充…）")``
``When``      ``then`` if ``values[cond]``            ``IF(cond,then,else)``
``Cat``       the parts joined                        the parts joined with ``&``
============  ======================================  ==========================================

The tests recalculate generated workbooks in LibreOffice and Gnumeric and compare every formula with
:meth:`Phrase.py` word for word (``tests/test_live_summary.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from xlsx_engine.kernel.excel import q
from xlsx_engine.kernel.xlmath import is_number, xnum, xround, xtext

#: closing marks a :class:`Clause` drops (one of them, after trimming), so the sentence can end with its own
CLOSERS = ("。", "；", ";", "，", ",", "、", ".")
_SPACES = re.compile(" +")


def cell_text(value: Any) -> str:
    """A cell as ``cell&""`` gives it: blank is "", numbers with 15 significant digits, booleans TRUE/FALSE."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if is_number(value):
        return xtext(xnum(value))
    return str(value)


def xl_trim(text: str) -> str:
    """Excel's ``TRIM``: spaces (U+0020 only) removed at both ends and runs inside reduced to one."""
    return _SPACES.sub(" ", text).strip(" ")


def clause_text(value: Any) -> str:
    """:class:`Clause` in Python: the cell's text trimmed, without one closing mark."""
    text = xl_trim(cell_text(value))
    return text[:-1] if text.endswith(CLOSERS) else text


def _num(value: Any, digits: int) -> str:
    return xtext(xround(float(value), digits))


def _pct(value: Any, digits: int) -> str:
    return xtext(xround(float(value) * 100, digits)) + "%"


def _pending(value: Any, what: str) -> str:
    return clause_text(value) if xl_trim(cell_text(value)) else f"（待补充{what}）"


#: what a compiled phrase may call (and nothing else: no builtins)
_RUNTIME = {"__builtins__": {}, "_num": _num, "_pct": _pct, "_text": cell_text, "_clause": clause_text,
            "_pending": _pending}
_COMPILED: dict[int, tuple["Phrase", Any]] = {}


class Phrase:
    """A piece of a sentence; see the module's table.

    :meth:`py` runs the phrase compiled once into one Python expression (:meth:`src`), which renders a sentence
    several times faster than walking the tree: the filler renders the live 综述 of every workbook it writes.
    """

    def py(self, values: Mapping[str, Any]) -> str:
        fn = _COMPILED.get(id(self))
        if fn is None or fn[0] is not self:
            fn = _COMPILED[id(self)] = (self, eval(f"lambda v: {self.src()}", dict(_RUNTIME)))  # noqa: S307
        return fn[1](values)

    def src(self) -> str:
        """The phrase as a Python expression of ``v`` (the values) and the helpers of :data:`_RUNTIME`."""
        raise NotImplementedError

    def xl(self, refs: Mapping[str, str]) -> str:
        raise NotImplementedError

    def xl_part(self, refs: Mapping[str, str]) -> str:
        """The formula as one operand of ``&`` (which turns numbers into text itself)."""
        return self.xl(refs)

    def keys(self) -> set[str]:
        """The value keys the phrase reads (the Python values and the formula references must supply them)."""
        return set()

    def formula(self, refs: Mapping[str, str]) -> str:
        """The phrase as a cell formula (with the leading ``=``)."""
        return "=" + self.xl(refs)


@dataclass(frozen=True)
class Lit(Phrase):
    text: str

    def src(self):
        return repr(self.text)

    def xl(self, refs):
        return q(self.text)


@dataclass(frozen=True)
class Num(Phrase):
    """A number rounded to ``digits`` like ``ROUND`` and printed without trailing zeros, then ``unit``."""

    key: str
    digits: int = 2
    unit: str = ""

    def src(self):
        return f"_num(v[{self.key!r}], {self.digits}) + {self.unit!r}"

    def xl(self, refs):
        return f"ROUND({refs[self.key]},{self.digits})&{q(self.unit)}"

    def xl_part(self, refs):
        return self.xl(refs) if self.unit else f"ROUND({refs[self.key]},{self.digits})"

    def keys(self):
        return {self.key}


@dataclass(frozen=True)
class Pct(Phrase):
    """A ratio as a percentage: 0.9985 → ``99.85%``."""

    key: str
    digits: int = 2

    def src(self):
        return f"_pct(v[{self.key!r}], {self.digits})"

    def xl(self, refs):
        return f"ROUND({refs[self.key]}*100,{self.digits})&{q('%')}"

    def keys(self):
        return {self.key}


@dataclass(frozen=True)
class Text(Phrase):
    """A cell's content as text, as typed (a number as the spreadsheet spells it)."""

    key: str

    def src(self):
        return f"_text(v[{self.key!r}])"

    def xl(self, refs):
        return f"{refs[self.key]}&\"\""

    def xl_part(self, refs):
        return refs[self.key]

    def keys(self):
        return {self.key}


def _clause_xl(ref: str) -> str:
    t = f"TRIM({ref})"
    return f"IF(LEN({t})=0,\"\",IF(ISNUMBER(FIND(RIGHT({t},1),{q(''.join(CLOSERS))})),LEFT({t},LEN({t})-1),{t}))"


@dataclass(frozen=True)
class Clause(Phrase):
    """Unit-written text to embed in a sentence: trimmed, without its closing mark."""

    key: str

    def src(self):
        return f"_clause(v[{self.key!r}])"

    def xl(self, refs):
        return _clause_xl(refs[self.key])

    def keys(self):
        return {self.key}


@dataclass(frozen=True)
class Pending(Phrase):
    """Unit-written text, or the visible placeholder ``（待补充<what>）`` when the cell is blank — never invented."""

    key: str
    what: str

    def src(self):
        return f"_pending(v[{self.key!r}], {self.what!r})"

    def xl(self, refs):
        ref = refs[self.key]
        return f"IF(LEN(TRIM({ref}))>0,{_clause_xl(ref)},{q(f'（待补充{self.what}）')})"

    def keys(self):
        return {self.key}


@dataclass(frozen=True)
class When(Phrase):
    """``then`` where the condition ``values[cond]`` holds, else ``other``."""

    cond: str
    then: Phrase
    other: Phrase = Lit("")

    def src(self):
        return f"(({self.then.src()}) if v[{self.cond!r}] else ({self.other.src()}))"

    def xl(self, refs):
        return f"IF({refs[self.cond]},{self.then.xl(refs)},{self.other.xl(refs)})"

    def keys(self):
        return {self.cond} | self.then.keys() | self.other.keys()


@dataclass(frozen=True)
class Cat(Phrase):
    parts: tuple[Phrase, ...]

    def src(self):
        return "(" + " + ".join(p.src() for p in self.parts) + ")" if self.parts else "''"

    def xl(self, refs):
        if len(self.parts) == 1:
            return self.parts[0].xl(refs)
        return "&".join(p.xl_part(refs) for p in self.parts) if self.parts else '""'

    def keys(self):
        return set().union(*(p.keys() for p in self.parts))


def cat(*parts: Phrase | str) -> Phrase:
    """Join phrases; plain strings are literals, adjacent literals are merged and empty ones dropped."""
    out: list[Phrase] = []
    for part in parts:
        part = Lit(part) if isinstance(part, str) else part
        if isinstance(part, Cat):
            items = part.parts
        else:
            items = (part,)
        for item in items:
            if isinstance(item, Lit) and not item.text:
                continue
            if isinstance(item, Lit) and out and isinstance(out[-1], Lit):
                out[-1] = Lit(out[-1].text + item.text)
            else:
                out.append(item)
    if len(out) == 1:
        return out[0]
    return Cat(tuple(out))


def when(cond: str, then: Phrase | str, other: Phrase | str = "") -> When:
    return When(cond, cat(then), cat(other))
