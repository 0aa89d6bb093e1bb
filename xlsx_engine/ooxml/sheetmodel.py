"""The sheet model every template is made of: cells with roles, formulas and their Python twins.

A form's layout (``xlsx_engine/forms/<form>/layout.py``) subclasses :class:`SheetLayout`; the
builder renders it with openpyxl, the filler patches a copy of the rendered template with a
record's inputs and, for every formula cell, the value computed by the twin; the reader reads a
workbook back through it. This module knows nothing about any particular form.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable

from xlsx_engine.kernel.excel import verdict, verdict_formula
from xlsx_engine.kernel.resources import data_dir, load_yaml
from xlsx_engine.ooxml.cells import col_index, col_letters, split_ref

FORMS_DIR = data_dir("forms")

# Cell roles
LABEL, INPUT, FORMULA, CONST = "label", "input", "formula", "const"
#: The template identity: document properties, and named cells H1:H4 of the hidden dictionary sheet.
IDENTITY_KEYS = ("模板编号", "模板版本", "评分规则", "版式指纹")


@dataclass
class CellSpec:
    """One cell of the layout.

    ``style`` is a key of the builder's style table; ``value`` is the label or
    constant; ``formula`` starts with "="; ``twin`` computes the formula's value
    from the form's result and record.
    """

    ref: str
    role: str
    style: str
    value: Any = None
    formula: str | None = None
    twin: Callable[[Any, Any], Any] | None = None   #: (result, record) -> value
    kind: str = "text"     #: for inputs: "text" | "number" | "year"
    #: formulas: cells of one column with the same key in consecutive rows are stored as one shared formula
    #: (``<f t="shared">``): the first row's text, the others by offset. The layout promises that each is the
    #: first's formula moved down; the builder proves it with openpyxl's Translator (``builder.check_shared``).
    shared: str | None = None


@dataclass(frozen=True)
class SharedFormula:
    """One shared formula of a template: its index, its first cell (which holds the text) and its range."""

    si: int
    master: str
    range: str


@dataclass
class Validation:
    sqref: str
    type: str               #: "list" | "decimal" | "whole"
    formula1: str
    formula2: str | None = None
    operator: str | None = None
    title: str = ""
    error: str = ""


@dataclass
class FormSpec:
    form: str
    version: str
    title: str
    sheet: str
    dictionary_sheet: str
    indicator_rows: int
    goal_rows: int
    font: str
    title_font: str
    protection_password: str
    columns: list[dict]

    @property
    def col(self) -> dict[str, str]:
        return {c["key"]: col_letters(i) for i, c in enumerate(self.columns, 1)}


@functools.lru_cache(maxsize=8)
def load_form(name: str = "project") -> FormSpec:
    path = FORMS_DIR / f"{name}.yaml"
    data = load_yaml(path.read_text(encoding="utf-8"))
    return FormSpec(**{k: data[k] for k in FormSpec.__dataclass_fields__})


def rules_heading(name: str, source: str) -> str:
    """The first line of the rules printed under a form: the rule set's name and its sources, each said once
    (a source already in the name, such as "全国通用（财预〔2020〕10号）", is not repeated)."""
    parts = [part for part in source.split("；") if part and part not in name]
    return f"评分规则：{name}" + (f"。依据：{'；'.join(parts)}" if parts else "")


def _abs(ref: str) -> str:
    col = "".join(ch for ch in ref if ch.isalpha())
    row = ref[len(col):]
    return f"${col}${row}"


@dataclass
class SheetLayout:
    """Cells, names, merges and validations of one template (form × profile).

    Each form subclasses it (``forms/<form>/layout.py``) and supplies the record mapping:
    :meth:`input_values`, :meth:`record_from_cells` and :meth:`evaluate`.
    """

    form: FormSpec
    profile: Any                     #: the form's profile (has ``.id``)
    cells: dict[str, CellSpec] = field(default_factory=dict)
    merges: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)          #: name -> "'sheet'!$A$1:$A$3"
    dict_cells: dict[str, Any] = field(default_factory=dict)     #: dictionary sheet cells
    validations: list[Validation] = field(default_factory=list)
    row_heights: dict[int, float] = field(default_factory=dict)
    # positions the record mapping needs
    fund_rows: list[int] = field(default_factory=list)
    fund_total_row: int = 0
    goal_rows: list[int] = field(default_factory=list)
    indicator_rows: list[int] = field(default_factory=list)
    target_input: str | None = None
    header_rows: tuple[int, int] | None = (1, 2)   #: print titles (rows repeated on every page); None: none
    freeze: str = "A5"
    last_row: int = 0
    # printing (A4 landscape; see the builder)
    print_last_col: str = ""                 #: last printed column ("" = the form's last column)
    print_last_row: int = 0                  #: last printed row (0 = ``last_row``)
    print_extra: list = field(default_factory=list)   #: further printed row spans (first, last), each on its own page
    row_breaks: list[int] = field(default_factory=list)    #: a page ends after each of these rows
    one_page_rows: list[int] = field(default_factory=list)  #: rows the print scale keeps on one page
    #: (cells, condition): a label equal to the one above it, printed once per group (conditional format
    #: whose text and top border take the cell's fill colour); the condition is written for the first cell
    group_labels: list[tuple[str, str]] = field(default_factory=list)
    hidden_cols: list[str] = field(default_factory=list)     #: helper columns hidden in the template
    #: formula cells whose (long, wrapped) text decides their row's height in a filled copy, like input text
    fit_formulas: set[str] = field(default_factory=set)
    summary_lines: list[int] = field(default_factory=list)   #: rows of the live 综述's numbered lines
    report_info: dict[str, str] = field(default_factory=dict)   #: 报告信息 field -> its input cell
    report_info_span: tuple[int, int] = (0, -1)                #: first and last row of the 报告信息 area

    # ------------------------------------------------------------------ identity
    @property
    def template_id(self) -> str:
        return f"{self.form.form}-{self.profile.id}"

    @property
    def sheet(self) -> str:
        return self.form.sheet

    def fingerprint(self) -> str:
        """A hash of every formula and input position: changes when the layout changes."""
        h = hashlib.sha256()
        for ref in sorted(self.cells, key=_ref_key):
            c = self.cells[ref]
            if c.role in (FORMULA, INPUT, CONST):
                h.update(f"{ref}|{c.role}|{c.formula or ''}|{c.value if c.role == CONST else ''}\n".encode())
        return h.hexdigest()[:16]

    def meta(self) -> dict[str, str]:
        return {"模板编号": self.template_id, "模板版本": self.form.version, "评分规则": self.profile.id,
                "版式指纹": self.fingerprint()}

    # ------------------------------------------------------------------ building helpers
    def qname(self, ref: str, sheet: str | None = None) -> str:
        return f"'{sheet or self.sheet}'!{ref}"

    def label(self, ref: str, text: str, style: str = "label", merge: str | None = None) -> None:
        self.cells[ref] = CellSpec(ref, LABEL, style, text)
        if merge:
            self.merges.append(merge)

    def const(self, ref: str, value: Any, style: str = "const_num") -> None:
        self.cells[ref] = CellSpec(ref, CONST, style, value)

    def input(self, ref: str, style: str = "input_text", kind: str = "text", merge: str | None = None) -> None:
        self.cells[ref] = CellSpec(ref, INPUT, style, kind=kind)
        if merge:
            self.merges.append(merge)

    def formula(self, ref: str, formula: str, twin: Callable, style: str = "formula_num",
                merge: str | None = None, shared: str | None = None) -> None:
        self.cells[ref] = CellSpec(ref, FORMULA, style, formula=formula, twin=twin, shared=shared)
        if merge:
            self.merges.append(merge)

    def name(self, name: str, first: str, last: str | None = None, sheet: str | None = None) -> None:
        rng = _abs(first) if last is None or last == first else f"{_abs(first)}:{_abs(last)}"
        self.names[name] = self.qname(rng, sheet)

    def dictionary_lists(self, columns: dict[str, tuple[str, tuple, str]]) -> None:
        """Write dropdown lists on the hidden dictionary sheet: column -> (header, values, defined name)."""
        for col, (head, values, name) in columns.items():
            self.dict_cells[f"{col}1"] = head
            for k, value in enumerate(values, 2):
                self.dict_cells[f"{col}{k}"] = value
            self.name(name, f"{col}2", f"{col}{len(values) + 1}", sheet=self.form.dictionary_sheet)

    def identity_cells(self) -> None:
        """Keys in G1:G4 and named cells H1:H4 of the template identity (the builder writes the values,
        because the fingerprint needs the finished layout)."""
        for k, key in enumerate(IDENTITY_KEYS, 1):
            self.dict_cells[f"G{k}"] = key
            self.name(key, f"H{k}", sheet=self.form.dictionary_sheet)

    def self_check_block(self, row: int, checks: list[str], last_col: str) -> int:
        """The 校验结论 cell and one 校验提示 cell per check formula, from ``row`` down.

        The Python twins are the result's ``checks`` list (same order) and ``verdict(checks)``.

        Returns:
            The last row used.
        """
        c0, c1 = row + 1, row + len(checks)
        self.label(f"A{row}", "校验结论", "label_bold", f"A{row}:B{row}")
        self.formula(f"C{row}", verdict_formula(f"C{c0}:C{c1}"), lambda r, rec: verdict(r.checks), "verdict",
                     f"C{row}:{last_col}{row}")
        self.name("校验结论", f"C{row}")
        self.label(f"A{c0}", "校验提示", "label", f"A{c0}:B{c1}")
        for k, formula in enumerate(checks):
            self.formula(f"C{c0 + k}", formula, lambda r, rec, k=k: r.checks[k], "warn",
                         f"C{c0 + k}:{last_col}{c0 + k}")
        self.name("校验提示", f"C{c0}", f"C{c1}")
        return c1

    # ------------------------------------------------------------------ what each form supplies
    def input_values(self, record: Any) -> dict[str, Any]:
        """The value of every input cell for a record (None for empty)."""
        raise NotImplementedError

    def record_from_cells(self, get: Callable[[str], Any]) -> Any:
        """Rebuild a record from cell values (``get(ref)`` returns a cell's value or None)."""
        raise NotImplementedError

    def evaluate(self, record: Any) -> tuple[Any, Any]:
        """(the record as the template sees it, the Python twin's result)."""
        raise NotImplementedError

    @functools.cached_property
    def text_fit(self) -> dict[str, tuple[float, int]]:
        """Per input cell (and :attr:`fit_formulas` cell): its width (its merged range, or its column) and how many lines of text its row holds at
        the template's height — at least one (computed once per layout, so a fill only measures long texts)."""
        col_width = {col_letters(k): float(c["width"]) for k, c in enumerate(self.form.columns, 1)}
        spans = {}
        for rng in self.merges:
            first, _, last = rng.partition(":")
            k0, k1 = col_index(first.rstrip("0123456789")), col_index(last.rstrip("0123456789"))
            spans[first] = sum(col_width.get(col_letters(k), 8.43) for k in range(k0, k1 + 1))
        out = {}
        for ref, c in self.cells.items():
            if c.role == INPUT or ref in self.fit_formulas:
                width = spans.get(ref) or col_width.get(ref.rstrip("0123456789"), 8.43)
                height = self.row_heights.get(int(ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")), 15.0)
                out[ref] = (width, max(1, int((height - ROW_PADDING) // (TEXT_SIZE * LINE_SPACING))))
        return out

    def fitted_heights(self, values: dict[str, Any]) -> dict[int, float]:
        """Row heights (points) a filled copy needs so that no typed text is clipped: for every input cell
        holding text, the lines it wraps to across its (merged) width; only rows that must grow are listed."""
        fit = self.text_fit
        out: dict[int, float] = {}
        for ref, value in values.items():
            if not isinstance(value, str) or not value or ref not in fit:
                continue
            width, holds = fit[ref]
            lines = text_lines(value, width)
            if lines > holds:
                row = int(ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
                out[row] = max(out.get(row, 0.0), text_height(lines))
        return out

    def print_rows(self, record: Any) -> tuple[list[int], list[int]]:
        """(rows to hide, page breaks) of a filled copy; by default none hidden and the template's breaks."""
        return [], list(self.row_breaks)

    def repeats_header(self, breaks: list[int]) -> bool:
        """Whether a filled copy with these page breaks prints its header rows on every page (the template's
        print titles); by default always."""
        return True

    def formula_values(self, result: Any, record: Any) -> dict[str, Any]:
        """The Python twin's value of every formula cell."""
        return {ref: twin(result, record) for ref, twin in self.formula_twins}

    @functools.cached_property
    def shared_groups(self) -> dict[str, "SharedFormula"]:
        """ref -> its shared formula, for every cell stored as part of one (see :attr:`CellSpec.shared`).

        A group is a run of two or more consecutive rows of one column whose cells carry the same key; groups
        are numbered (``si``) in the order of their first cell, row by row.
        """
        runs: dict[tuple[str, int], list[tuple[int, str]]] = {}
        for ref, c in self.cells.items():
            if c.role == FORMULA and c.shared:
                row, col = split_ref(ref)
                runs.setdefault((c.shared, col), []).append((row, ref))
        groups: list[list[str]] = []
        for members in runs.values():
            members.sort()
            run = [members[0]]
            for row, ref in members[1:]:
                if row == run[-1][0] + 1:
                    run.append((row, ref))
                    continue
                groups.append([r for _, r in run])
                run = [(row, ref)]
            groups.append([r for _, r in run])
        groups = sorted((g for g in groups if len(g) > 1), key=lambda g: _ref_key(g[0]))
        out: dict[str, SharedFormula] = {}
        for si, refs in enumerate(groups):
            group = SharedFormula(si, refs[0], f"{refs[0]}:{refs[-1]}")
            out.update(dict.fromkeys(refs, group))
        return out

    def formula_values_at(self, result: Any, record: Any) -> dict[tuple[int, int], Any]:
        """:meth:`formula_values` keyed by (row, column): what the checks compare cell by cell."""
        return {rc: twin(result, record) for rc, twin in self._formula_twins_at}

    @functools.cached_property
    def _formula_twins_at(self) -> tuple[tuple[tuple[int, int], Callable[[Any, Any], Any]], ...]:
        return tuple((split_ref(ref), twin) for ref, twin in self.formula_twins)

    @functools.cached_property
    def formula_twins(self) -> tuple[tuple[str, Callable[[Any, Any], Any]], ...]:
        """(ref, Python twin) of every formula cell, in layout order (collected once: fill calls it per workbook)."""
        return tuple((ref, c.twin) for ref, c in self.cells.items() if c.role == FORMULA)


TEXT_SIZE = 10.0       #: pt of the forms' input text
#: line height as a multiple of the font size, for wrapped 10 pt text (宋体) in every printed workbook — the forms
#: (:func:`text_height`) and the bureau's tables (``bureau.summary.row_height``). Where 宋体 is missing (LibreOffice on
#: Linux, WPS without Windows fonts) the Chinese is set in a fallback font with a taller line, Noto Sans/Serif CJK
#: 1.448 em: printed by LibreOffice, 14.5 pt a line holds 12 lines whole, while 13 pt (the forms' figure before
#: 2026-12-02) cut the first and last line of a five-line 偏差原因; Excel with 宋体 keeps about a point a line spare.
LINE_SPACING = 1.45
ROW_PADDING = 3.0      #: points above and below the lines of a cell


#: how a spreadsheet keeps characters together on a line (as LibreOffice does, checked on its PDF): a line breaks
#: between two Chinese characters and after a space, "/", "\", "-" or an en dash ("0、10–12、13–15": four lines
#: in the 考核评分表's 12-wide column, not the three a run broken anywhere would take), not inside a run of other
#: characters (a word, a number, a file name) unless the run is longer than a line, not after an opening bracket or
#: quote and not before a closing one or a punctuation mark; a full-width mark (，；）) also holds on to a number or
#: word after it
_OPEN = "（“‘《〈【「『〔"
_CLOSE = "，。、；：？！）”’》〉】」』〕…"
_RUN = r"[^\u2e80-\U0010ffff\s/\\\-\u2013%s%s]+[\s/\\\-\u2013]?" % (_OPEN, _CLOSE)
_PIECE = re.compile(rf"[{_OPEN}]*(?:{_RUN}|[\u2e80-\U0010ffff{_OPEN}{_CLOSE}]|[\s/\\\-\u2013])"
                    rf"(?:[{_CLOSE}]+(?:{_RUN})?|[/\\\-\u2013,.:;!?)\]}}%]+)*")
#: widths of 10 pt characters in column-width units (the width of a "0" of Calibri 11, 7 pixels), each the widest of
#: its class in the fonts a missing 宋体 is replaced with (Noto Sans CJK for Chinese, 1 em; DejaVu Sans for the rest,
#: wider than 宋体's half-width Latin): Chinese and full-width characters, and the punctuation of ambiguous width
#: (“”—…) a Chinese font sets full width; M W m w and the wide symbols; capitals; narrow letters and punctuation;
#: anything else (digits, most lowercase letters). Text of another size is as much wider as its size.
_CJK, _WIDE, _CAPITAL, _NARROW, _OTHER = 1.92, 1.9, 1.5, 0.78, 1.22
_WIDE_CHARS = frozenset("MWmw%@#&+<=>^~")
_NARROW_CHARS = frozenset(" \t!'(),-./:;[\\]|fijlrt")
#: of a column's width, the part text may take: in LibreOffice 7·width + 3.5 of its 7·width + 5 pixels (measured), so
#: width + 0.3 keeps a pixel spare; Excel leaves 7·width but sets 宋体, Chinese 13 pixels and Latin half width
_ROOM = 0.3


def char_width(ch: str) -> float:
    """The width of a character of 10 pt text in column-width units, generously (see :data:`_CJK`)."""
    kind = unicodedata.east_asian_width(ch)
    if kind in "WF" or (kind == "A" and not ch.isascii()):
        return _CJK
    if not ch.isascii() or ch in _WIDE_CHARS:
        return _WIDE
    if ch in _NARROW_CHARS:
        return _NARROW
    return _CAPITAL if ch.isupper() else _OTHER


def text_width(text: str) -> float:
    """The width of a text of 10 pt characters in column-width units, generously (:func:`char_width`)."""
    return sum(char_width(ch) for ch in text)


#: piece -> (its width without trailing spaces, its width): most pieces are one Chinese character, met again and
#: again (a fill measures its long texts every time: this keeps it within its time)
_PIECE_WIDTHS: dict[str, tuple[float, float]] = {}


def _piece_width(piece: str) -> tuple[float, float]:
    if len(_PIECE_WIDTHS) > 50_000:
        _PIECE_WIDTHS.clear()
    w = _PIECE_WIDTHS[piece] = (text_width(piece.rstrip()), text_width(piece))
    return w


def text_lines(text: Any, width: float, size: float = TEXT_SIZE) -> int:
    """The lines a text of ``size`` pt takes when wrapped in a cell ``width`` units wide (its merged range, in the
    column widths' units; each of its own lines wrapped), as a spreadsheet wraps it (:data:`_PIECE`). The one count
    of wrapped lines: a filled form's rows (:meth:`SheetLayout.fitted_heights`) and the bureau's tables (汇总表,
    考核评分表) grow by it, each line :func:`text_height`. Checked against the lines LibreOffice prints of every text of
    a 汇总表 and a 考核评分表 (10 pt): never fewer, 2 % more in all."""
    text = str(text)
    room = max(2.0, (width + _ROOM) * TEXT_SIZE / size)          # in widths of 10 pt characters
    if len(text) * _CJK <= room and "\n" not in text:           # one line even of the widest characters
        return 1
    known = _PIECE_WIDTHS.get
    total = 0
    for part in text.split("\n"):
        lines, used = 1, 0.0
        for piece in _PIECE.findall(part):
            w, full = known(piece) or _piece_width(piece)
            if used and used + w > room:
                lines, used = lines + 1, 0.0
            if w > room:                       # longer than a line: broken between any two characters
                for ch in piece:
                    w = char_width(ch)
                    if used and used + w > room:
                        lines, used = lines + 1, 0.0
                    used += w
            else:
                used += full
        total += lines
    return total


def text_height(lines: int, size: float = TEXT_SIZE) -> float:
    """Points a row needs for ``lines`` lines of ``size`` pt text, with the cell's padding."""
    return round(lines * size * LINE_SPACING + ROW_PADDING, 1)


def _ref_key(ref: str) -> tuple[int, str]:
    col = "".join(ch for ch in ref if ch.isalpha())
    return int(ref[len(col):]), col.rjust(3)
