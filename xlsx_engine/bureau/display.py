"""Display and link tampering of a returned project form: what a person sees or what the file reaches out to,
compared with the template the bureau sent.

The integrity checks (:mod:`xlsx_engine.integrity.tamper`) compare values, formulas, labels and names; a unit
can still make a form *show* something else without touching any of them. Each class below is a finding:

* ``display_hidden`` — rows or columns of the form hidden that the template shows, when a hidden row shows something
  (a typed input, or a formula with a non-empty result): the filler itself hides the rows a copy does not use;
* ``display_format`` — a result or warning cell whose number format differs from the template's (a format
  such as ``"100"`` or ``;;;`` prints a constant or nothing whatever the formula computes);
* ``display_font`` — a result or warning cell printed in white;
* ``display_conditional`` — conditional formatting added to the form or changed from the template's own (which
  prints each group label once): it can recolour or hide any cell;
* ``validation_loosened`` — a data validation of an input range changed (e.g. to “任何值”);
* ``password_removed`` — the sheet protected again without the template's password;
* ``external_formula`` / ``external_link`` — DDE, WEBSERVICE, FILTERXML, CALL or REGISTER in a formula, or an
  external-link part (a UNC path or URL the workbook would open);
* ``sheet_duplicate`` — a second sheet whose name only looks like the form's (spaces, full-width letters, case).

The template's side is read once per profile from the built template.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Iterable, Iterator

from xlsx_engine.forms.project.layout import project_layout
from xlsx_engine.integrity.tamper import a1, open_package, parse_ref
from xlsx_engine.kernel.errors import WorkbookError
from xlsx_engine.kernel.findings import ERROR, WARNING, Finding
from xlsx_engine.kernel.names import name_key
from xlsx_engine.ooxml.builder import TEMPLATE_DIR, template_filename
from xlsx_engine.ooxml.safezip import parse_xml
from xlsx_engine.ooxml.sheetmodel import FORMULA, INPUT

_M = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_BUILTIN_FORMATS = {"0": "General", "1": "0", "2": "0.00", "3": "#,##0", "4": "#,##0.00", "9": "0%", "10": "0.00%",
                    "49": "@"}
_EXTERNAL_CALL = re.compile(r"\b(?:WEBSERVICE|FILTERXML|CALL|REGISTER(?:\.ID)?|RTD)\s*\(", re.IGNORECASE)
_DDE = re.compile(r"[A-Za-z0-9_.]+\|'?[^'!|]*'?!")


@functools.lru_cache(maxsize=16384)
def reaches_out(formula: str) -> bool:
    """Whether a formula calls outside the workbook (DDE ``app|topic!item``, WEBSERVICE, CALL ...). Cached: the
    returned copies of one template repeat the same formula texts."""
    return ("|" in formula and _DDE.search(formula) is not None) or _EXTERNAL_CALL.search(formula) is not None
_WHITE = {"FFFFFF", "FFFFFFFF"}


@dataclass
class Display:
    """What decides how the form looks: per formula cell (number format, font colour), hidden rows/columns,
    conditional formats, data validations by range, and whether the sheet protection has a password."""

    looks: dict[tuple[int, int], tuple[str, str]] = field(default_factory=dict)
    hidden_rows: set[int] = field(default_factory=set)
    hidden_cols: set[int] = field(default_factory=set)
    conditional: list[tuple[str, str]] = field(default_factory=list)   #: (sqref, rule formulas) of each format
    validations: dict[str, tuple[str, str]] = field(default_factory=dict)
    password: bool = False
    last_row: int = 0
    last_col: int = 0


def _styles(pkg) -> tuple[tuple[str, str], ...]:
    """(number format code, font colour) of each cell style."""
    try:
        return _looks_of_styles(pkg.styles)
    except WorkbookError as exc:
        raise WorkbookError(exc.message, where=f"{pkg.where}:xl/styles.xml", hint=exc.hint) from None


@functools.lru_cache(maxsize=64)
def _looks_of_styles(styles_xml: bytes) -> tuple[tuple[str, str], ...]:
    """:func:`_styles` of a styles part, cached by content (every copy of a template has the same one)."""
    if not styles_xml:
        return ()
    root = parse_xml(styles_xml, "xl/styles.xml")
    codes = dict(_BUILTIN_FORMATS)
    for nf in root.iterfind(f"{_M}numFmts/{_M}numFmt"):
        codes[nf.get("numFmtId") or ""] = nf.get("formatCode") or ""
    fonts = []
    for font in root.iterfind(f"{_M}fonts/{_M}font"):
        color = font.find(f"{_M}color")
        fonts.append((color.get("rgb") or "").upper() if color is not None else "")
    out = []
    for xf in root.iterfind(f"{_M}cellXfs/{_M}xf"):
        fid = xf.get("fontId") or "0"
        font = fonts[int(fid)] if fid.isdigit() and int(fid) < len(fonts) else ""
        out.append((codes.get(xf.get("numFmtId") or "0", f"#{xf.get('numFmtId')}"), font))
    return tuple(out)


def _looks(cells: dict, places: Iterable[tuple[int, int]], styles: tuple[tuple[str, str], ...]
           ) -> Iterator[tuple[str, str]]:
    """(number format code, font colour) the cell at each of ``places`` shows with: its style's; none for a style
    the part lacks (one generator, not a call a cell: two hundred formula cells a file)."""
    count, blank = len(styles), ("", "")
    get = cells.get
    for rc in places:
        cell = get(rc)
        style = cell.style if cell is not None else 0
        yield styles[style] if style < count else blank


def read_display(pkg, sheet_name: str, cells: Iterable[tuple[int, int]] | None = None) -> Display:
    """The :class:`Display` of one sheet of an open package (``cells``: the formula cells whose looks to record;
    default: every formula cell of the sheet; ``()``: none), from the sheet the checks already parsed."""
    sheet = pkg.sheet(sheet_name)
    disp = Display(password=bool((sheet.protection or {}).get("password")))
    styles = _styles(pkg)
    if cells is None:
        cells = {rc for rc, c in sheet.cells.items() if c.has_formula}
    cells = list(cells)
    disp.looks.update(zip(cells, _looks(sheet.cells, cells, styles)))
    disp.validations = {sqref: (kind or "none", f1 or "") for kind, f1, sqref in sheet.validations}
    disp.last_row = max(sheet.cells, default=(0, 0))[0]
    disp.last_col = max(map(itemgetter(1), sheet.cells), default=0)
    disp.hidden_rows, disp.hidden_cols = set(sheet.hidden_rows), set(sheet.hidden_cols)
    disp.conditional = list(sheet.conditional)
    return disp


@functools.lru_cache(maxsize=32)
def template_display(profile_id: str) -> Display:
    """The :class:`Display` of the built template of a profile (read once)."""
    layout = project_layout(profile_id)
    with open_package(TEMPLATE_DIR / template_filename(layout)) as pkg:
        disp = read_display(pkg, layout.sheet)
    disp.looks = dict(sorted(disp.looks.items()))       # findings in the order of the cells
    return disp


@functools.lru_cache(maxsize=32)
def _shown_by_row(profile_id: str) -> dict[int, list[tuple[int, int]]]:
    """Row -> the input and formula cells of the template in it (what a hidden row could hide)."""
    out: dict[int, list[tuple[int, int]]] = {}
    for ref, spec in project_layout(profile_id).cells.items():
        if spec.role in (INPUT, FORMULA):
            rc = parse_ref(ref)
            out.setdefault(rc[0], []).append(rc)
    return out


def _shows(cell) -> bool:
    return cell is not None and cell.value not in (None, "")


#: findings that compare cell by cell at the template's positions: dropped when rows or columns moved
CELL_CODES = {"display_hidden", "display_format", "display_font", "validation_loosened"}
STRUCTURAL_CODES = {"rows_inserted", "rows_deleted"}


def display_findings(pkg, profile_id: str, file: str = "") -> list[Finding]:
    """Display and link tampering of a returned project form against its template (see the module doc).

    The cell-by-cell comparisons (:data:`CELL_CODES`) use the template's positions: when the checks report rows
    inserted or deleted (:data:`STRUCTURAL_CODES`) the caller drops them.
    """
    layout = project_layout(profile_id)
    main = layout.sheet
    out: list[Finding] = []

    def add(severity: str, code: str, place: str, message: str, hint: str) -> None:
        out.append(Finding(severity, code, place, message, hint, file))

    for member in pkg.members:
        if member.lower().startswith("xl/externallinks/"):
            add(ERROR, "external_link", member, "工作簿含外部链接（打开时会访问其他文件或网络位置）",
                "请删除外部链接后重新提交；模板中没有任何外部链接")
            break
    for name, _state, path in pkg.sheets:
        if name != main and name_key(name) == name_key(main):
            add(ERROR, "sheet_duplicate", name, f"另有一个名称近似“{main}”的工作表“{name}”，容易被误当作自评表",
                "请删除这个工作表，只保留下发的自评表")
        if not path:
            continue
        sheet = pkg.sheet(name)
        if sheet.sources is not None and not any(map(reaches_out, sheet.sources)):
            continue                     # no formula text of the sheet reaches out: no cell to name
        for rc, cell in sheet.cells.items():
            text = cell.text             # XCell.source, without two property calls for each of the sheet's cells
            if text is None:
                if cell.shared is None:
                    continue
                text = cell.shared[2]
            if reaches_out(text):
                add(ERROR, "external_formula", f"{name}!{a1(*rc)}",
                    f"公式“={cell.formula[:60]}”会调用外部程序或网络（DDE、WEBSERVICE 等）",
                    "请删除该公式；自评表中不应有访问外部的公式")
    if main not in pkg.sheet_names:
        return out
    tpl = template_display(profile_id)
    got = read_display(pkg, main, ())          # the looks are compared below, straight from the cells
    added = [sqref for sqref, rules in got.conditional if (sqref, rules) not in tpl.conditional]
    if added:
        add(ERROR, "display_conditional", f"{main}!{added[0].split()[0]}",
            f"自评表被加了或改了 {len(added)} 处条件格式（{'、'.join(added[:3])}），可改变或隐藏单元格显示的内容",
            "请删除条件格式，或使用下发的自评表重新填报")
    if tpl.password and not got.password and pkg.sheet(main).protection is not None:
        add(WARNING, "password_removed", main, "工作表保护没有模板的密码（保护曾被解除后重新设置）",
            "请核实表中公式、格式和标签是否被改动")
    bottom = max(tpl.last_row, 1)
    # the filler hides what a copy does not use (indicator and goal rows, an empty 报告信息 page): a hidden row is
    # tampering when it shows something — a typed input or a formula with a non-empty result
    cells = pkg.sheet(main).cells
    shown_by_row = _shown_by_row(profile_id)
    rows = [r for r in sorted(got.hidden_rows - tpl.hidden_rows)     # (map/any: fifty hidden rows in a copy)
            if r <= bottom and any(map(_shows, map(cells.get, shown_by_row.get(r, ()))))]
    cols = sorted(c for c in got.hidden_cols - tpl.hidden_cols if c <= max(tpl.last_col, 1))
    if rows:
        add(ERROR, "display_hidden", f"{main}!{rows[0]}:{rows[-1]}",
            f"自评表的第 {'、'.join(map(str, rows[:8]))}{' 等' if len(rows) > 8 else ''} 行被隐藏，打印和查看时看不到其中的内容",
            "请取消隐藏；自评表的每一行都应显示")
    if cols:
        add(ERROR, "display_hidden", f"{main}!{a1(1, cols[0])[:-1]}:{a1(1, cols[-1])[:-1]}",
            f"自评表有 {len(cols)} 列被隐藏，打印和查看时看不到其中的内容", "请取消隐藏；自评表的每一列都应显示")
    for (rc, look), now in zip(tpl.looks.items(), _looks(cells, tpl.looks, _styles(pkg))):
        if now == look:
            continue
        (code, color), (now_code, now_color) = look, now
        if now_code != code:
            add(ERROR, "display_format", f"{main}!{a1(*rc)}",
                f"公式单元格的数字格式被改为“{now_code[:40]}”（模板为“{code[:40]}”），显示的内容可能与计算结果不同",
                "请使用下发的自评表重新填报；公式单元格的格式不应修改")
        elif now_color in _WHITE and color not in _WHITE:
            add(ERROR, "display_font", f"{main}!{a1(*rc)}", "公式单元格的文字被设为白色，结果或提示在屏幕和打印件上都看不到",
                "请使用下发的自评表重新填报")
    for sqref, (kind, f1) in tpl.validations.items():
        now = got.validations.get(sqref)
        if now is not None and now != (kind, f1):
            add(WARNING, "validation_loosened", f"{main}!{sqref.split()[0]}",
                f"数据有效性被改动：模板为“{kind} {f1}”，现为“{now[0]} {now[1]}”", "请使用下发的自评表重新填报")
    return out
