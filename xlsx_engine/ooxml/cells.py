"""A1 references and defined-name targets: parsing and printing, shared by the OOXML layer."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_CELL = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")


def col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def col_letters(index: int) -> str:
    out = ""
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def split_ref(ref: str) -> tuple[int, int]:
    """"$C$3" -> (row 3, column 3)."""
    m = _CELL.match(ref)
    if not m:
        raise ValueError(ref)
    return int(m.group(2)), col_index(m.group(1))


def split_range(rng: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """"A1:C3" -> ((row 1, column 1), (row 3, column 3)); a single cell is a range of one."""
    first, _, last = rng.partition(":")
    return split_ref(first), split_ref(last or first)


@dataclass(frozen=True)
class NameRef:
    """Where a defined name points: a sheet and a rectangular range (1-based, inclusive)."""

    sheet: str
    first: tuple[int, int]
    last: tuple[int, int]

    @property
    def cells(self) -> list[str]:
        return [f"{col_letters(c)}{r}" for r in range(self.first[0], self.last[0] + 1)
                for c in range(self.first[1], self.last[1] + 1)]

    @property
    def size(self) -> int:
        return (self.last[0] - self.first[0] + 1) * (self.last[1] - self.first[1] + 1)

    @property
    def a1(self) -> str:
        first = f"{col_letters(self.first[1])}{self.first[0]}"
        return first if self.first == self.last else f"{first}:{col_letters(self.last[1])}{self.last[0]}"


@functools.lru_cache(maxsize=16384)
def parse_name_ref(text: str) -> NameRef | None:
    """Parse "'自评表'!$C$3:$C$5"; None for anything else (#REF!, formulas, several areas). Cached: the same
    names come back in every copy of a template."""
    text = text.strip()
    if "!" not in text:
        return None
    sheet, _, rng = text.rpartition("!")
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    parts = rng.split(":")
    try:
        first = split_ref(parts[0])
        last = split_ref(parts[1]) if len(parts) == 2 else first
    except ValueError:
        return None
    if len(parts) > 2:
        return None
    return NameRef(sheet, first, last)
