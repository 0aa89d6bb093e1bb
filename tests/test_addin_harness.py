"""Harness for testing the add-in's entry points on Linux, without Excel, through xlwings' remote engine.

* :func:`payload_from_xlsx` builds the JSON an xlwings client sends (``xw.Book(json=...)``): every
  sheet's values (from the file's cached values, e.g. after LibreOffice recalculated it) and the
  workbook's defined names, in the schema of ``xlwings/pro/_xlremote.py``.
* :func:`apply_actions` applies the actions the remote engine returns (``book.json()["actions"]``)
  to the .xlsx with openpyxl, the way Excel would: ``setValues`` parses strings as if typed
  ("=…" becomes a formula, "95%" a number, a leading apostrophe keeps text), ``setFormula``,
  ``addSheet``, fills, fonts, clears. The result is recalculated by LibreOffice to check the end state.
* :class:`ScriptedUI` answers the entry points' questions (folders, yes/no) in tests.

The remote engine is xlwings PRO (PolyForm Noncommercial): ``XLWINGS_LICENSE_KEY=noncommercial`` is
set by the ``remote`` fixture here, for the tests only; the product code never uses that engine.
The tests at the bottom check the harness itself.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from copy import copy
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from jxzp_addin.session import UI
from xlsx_engine.forms.registry import open_template
from xlsx_engine.ooxml.cells import col_letters, parse_name_ref, split_ref
from xlsx_engine.ooxml.recalc import CellError, read_values, recalc_files

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
EXAMPLES = ROOT / "examples"
M = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PR = "http://schemas.openxmlformats.org/package/2006/relationships"
_NUMBER = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$")
_PERCENT = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)\s*%\s*$")


# ============================================================================ payload

def _workbook_parts(path: Path) -> tuple[list[tuple[str, str, str]], list[tuple[str, str | None, str]]]:
    """[(sheet name, state, part)], [(defined name, localSheetId, text)] of an .xlsx."""
    with zipfile.ZipFile(path) as zf:
        wb = etree.fromstring(zf.read("xl/workbook.xml"))
        rels = etree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels.iter(f"{{{PR}}}Relationship")}
    sheets = [(s.get("name"), s.get("state") or "visible", targets.get(s.get(f"{{{R}}}id"), ""))
              for s in wb.iter(f"{{{M}}}sheet")]
    names = [(d.get("name"), d.get("localSheetId"), d.text or "") for d in wb.iter(f"{{{M}}}definedName")]
    return sheets, names


def payload_from_xlsx(path: str | Path, book_name: str | None = None) -> dict[str, Any]:
    """The JSON an xlwings client would send for this workbook (values as cached in the file)."""
    import xlwings as xw

    path = Path(path)
    values = read_values(path)
    sheet_list, defined = _workbook_parts(path)
    sheets = []
    for name, state, _part in sheet_list:
        cells = values.get(name, {})
        refs = [split_ref(ref) for ref in cells]
        rows = max((r for r, _ in refs), default=0)
        cols = max((c for _, c in refs), default=0)
        grid: list[list[Any]] = [["" for _ in range(cols)] for _ in range(rows)] or [[]]
        for ref, value in cells.items():
            r, c = split_ref(ref)
            grid[r - 1][c - 1] = str(value) if isinstance(value, CellError) else value
        sheets.append({"name": name, "values": grid, "visibility": "Visible" if state == "visible" else "Hidden",
                       "used_range_address": f"A1:{col_letters(cols)}{rows}" if rows and cols else None,
                       "pictures": [], "shapes": [], "charts": [], "notes": [], "tables": [], "print_area": None})
    order = [s[0] for s in sheet_list]
    names = []
    for name, local, text in defined:
        if local is not None or name.startswith("_xlnm"):
            continue
        ref = parse_name_ref(text)
        if ref is None or ref.sheet not in order:
            continue
        names.append({"name": name, "sheet_index": order.index(ref.sheet), "address": ref.a1, "book_scope": True,
                      "scope_sheet_name": None, "scope_sheet_index": None, "refers_to": "=" + text})
    return {"client": "Microsoft Excel", "version": xw.__version__,
            "book": {"name": book_name or path.name, "active_sheet_index": 0, "selection": "A1"},
            "sheets": sheets, "names": names}


def remote_book(path: str | Path, book_name: str | None = None):
    """``xw.Book(json=...)`` for the workbook at ``path`` (needs the ``remote`` fixture's licence key).

    ``book_name`` defaults to the file's absolute path: desktop Excel reports a saved workbook's
    ``fullname`` as its path, which the entry points use to find the file beside it.
    """
    import xlwings as xw
    return xw.Book(json=payload_from_xlsx(path, book_name or str(Path(path).resolve())))


def enable_remote_engine(monkeypatch) -> None:
    """Enable xlwings' remote engine (PRO, PolyForm Noncommercial) for one test.

    xlwings registers its PRO engines when it is first imported, and only if a licence key is set
    then. Other test modules import xlwings (through ``jxzp_addin.udfs``) at collection time without
    one, so the engine is registered here once the key is set.
    """
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    import xlwings as xw
    if "remote" not in [engine.name for engine in xw.engines]:
        from xlwings.pro import _xlremote
        xw.engines.add(xw.main.Engine(impl=_xlremote.engine))


@pytest.fixture
def remote_env(monkeypatch):
    enable_remote_engine(monkeypatch)


@pytest.fixture
def remote(monkeypatch):
    enable_remote_engine(monkeypatch)
    return remote_book


# ============================================================================ applying actions

def _hex(value: str | None) -> str | None:
    return None if value is None else value.lstrip("#").upper()[-6:]


def _typed(cell, value: Any) -> None:
    """Store a value the way Excel stores what ``range.values = ...`` (or typing) gives it."""
    if isinstance(value, str):
        if value.startswith("'"):
            cell.value = value[1:]
            cell.data_type = "s"
        elif value.startswith("=") and len(value) > 1:
            cell.value = value
        elif _PERCENT.match(value):
            cell.value = float(value.strip().rstrip("%")) / 100
        elif _NUMBER.match(value):
            cell.value = float(value)
        else:
            cell.value = value if value != "" else None
    else:
        cell.value = value


def apply_actions(src: str | Path, actions: list[dict], dst: str | Path) -> list[list[Any]]:
    """Apply remote-engine actions to a copy of ``src`` saved as ``dst``; returns the alerts' args."""
    from openpyxl import load_workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = load_workbook(src)
    alerts = []
    for a in actions:
        func, args = a["func"], a["args"]
        ws = wb.worksheets[a["sheet_position"]] if a.get("sheet_position") is not None else None
        r0, c0 = (a.get("start_row") or 0) + 1, (a.get("start_column") or 0) + 1
        nr, nc = a.get("row_count") or 1, a.get("column_count") or 1
        area = [(r0 + i, c0 + j) for i in range(nr) for j in range(nc)]
        if func == "addSheet":
            wb.create_sheet(args[1], args[0])
        elif func == "setValues":
            for i, row in enumerate(a["values"]):
                for j, value in enumerate(row):
                    _typed(ws.cell(r0 + i, c0 + j), value)
        elif func == "setFormula":
            for i, row in enumerate(a["values"]):
                for j, value in enumerate(row):
                    ws.cell(r0 + i, c0 + j).value = value
        elif func == "setRangeColor":
            color = _hex(args[0])
            for r, c in area:
                ws.cell(r, c).fill = PatternFill("solid", fgColor=color) if color else PatternFill(fill_type=None)
        elif func == "setFontProperty":
            prop, value = args
            for r, c in area:
                cell = ws.cell(r, c)
                font = copy(cell.font)
                setattr(font, prop, _hex(value) if prop == "color" else value)
                cell.font = font
        elif func == "setWrapText":
            for r, c in area:
                cell = ws.cell(r, c)
                cell.alignment = Alignment(wrap_text=bool(args[0]), horizontal=cell.alignment.horizontal,
                                           vertical=cell.alignment.vertical)
        elif func == "setColumnWidth":
            for c in range(c0, c0 + nc):
                ws.column_dimensions[col_letters(c)].width = args[0]
        elif func == "rangeClearContents":
            for r, c in area:
                ws.cell(r, c).value = None
        elif func in ("sheetClear", "sheetClearContents"):
            for row in ws.iter_rows():
                for cell in row:
                    cell.value = None
                    if func == "sheetClear":
                        cell.fill, cell.font = PatternFill(fill_type=None), Font()
        elif func == "alert":
            alerts.append(args)
        elif func in ("calculate", "activateSheet", "setAutofit"):
            pass
        else:
            raise AssertionError(f"the harness does not know the action {func!r}: {a}")
    wb.save(dst)
    return alerts


# ============================================================================ files

def fill_example(out: Path, example: str = "2023-城乡医疗救助补助资金", profile: str = "national") -> Path:
    """A filled 自评表 from one of the examples (real template, real data)."""
    from xlsx_engine.forms.project.record import load_data
    tpl = open_template(TEMPLATES / f"xmzc-{profile}.xlsx")
    tpl.fill_to(load_data(EXAMPLES / f"{example}.yaml", tpl.profile, max_rows=len(tpl.layout.indicator_rows)), out)
    return out


def overwrite_cells(src: Path, dst: Path, sheet: str, values: dict[str, Any]) -> Path:
    """What a unit does after lifting the protection: type constants over formula cells."""
    with zipfile.ZipFile(src) as zin:
        part = {s[0]: s[2] for s in _workbook_parts(src)[0]}[sheet]
        part = part.lstrip("/") if part.startswith("/") else "xl/" + part
        root = etree.fromstring(zin.read(part))
        for cell in root.iter(f"{{{M}}}c"):
            ref = cell.get("r")
            if ref in values:
                for child in list(cell):
                    cell.remove(child)
                value = values[ref]
                if isinstance(value, str):
                    cell.set("t", "inlineStr")
                    is_ = etree.SubElement(cell, f"{{{M}}}is")
                    etree.SubElement(is_, f"{{{M}}}t").text = value
                else:
                    cell.attrib.pop("t", None)
                    etree.SubElement(cell, f"{{{M}}}v").text = repr(float(value))
        data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
        with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                zout.writestr(info, data if info.filename == part else zin.read(info))
    return dst


def recalc(path: Path, soffice: str) -> Path:
    """The workbook recalculated by LibreOffice (cached values stripped first), next to it."""
    outdir = path.parent / f"{path.stem}-lo"
    result = recalc_files([path], outdir, soffice=soffice)[path]
    target = path.with_name(f"{path.stem}-lo.xlsx")
    shutil.move(str(result), target)
    shutil.rmtree(outdir, ignore_errors=True)
    return target


def formulas_from_xlsx(path: Path) -> dict[str, dict[tuple[int, int], str]]:
    """{sheet: {(row, col): formula or constant text}} as Excel's Range.Formula would show them."""
    from openpyxl import load_workbook
    wb = load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        cells = {}
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is not None:
                    cells[(cell.row, cell.column)] = cell.value if isinstance(cell.value, str) else repr(cell.value)
        out[ws.title] = cells
    return out


def serve_formulas(monkeypatch, path: Path) -> None:
    """Make the remote engine's ``Range.formula`` return the file's formulas, as desktop Excel does.

    The remote engine cannot read formulas synchronously (Office.js sends none); desktop Excel can.
    This lets a test exercise the entry points' desktop path (formulas read) on Linux.
    """
    from xlwings.pro import _xlremote

    formulas = formulas_from_xlsx(path)
    setter = _xlremote.Range.formula.fset

    def getter(self):
        cells = formulas.get(self.sheet.name, {})
        r0, c0 = self.arg1
        r1, c1 = self.arg2 or self.arg1
        return tuple(tuple(cells.get((r, c), "") for c in range(c0, c1 + 1)) for r in range(r0, r1 + 1))

    monkeypatch.setattr(_xlremote.Range, "formula", property(getter, setter))


class ScriptedUI(UI):
    """Messages go to the book (``App.alert`` → an ``alert`` action); questions get scripted answers."""

    def __init__(self, book, folders=(), answers=()):
        super().__init__(book)
        self.folders = list(folders)
        self.answers = list(answers)
        self.asked: list[str] = []
        self.opened: list[Path] = []

    def confirm(self, message, title="绩效自评"):
        self.asked.append(message)
        return self.answers.pop(0)

    def choose_folder(self, title, initial=None):
        self.asked.append(title)
        self.initial = initial
        return self.folders.pop(0)

    def open_workbook(self, path):
        self.opened.append(path)


def actions_of(book, func: str | None = None) -> list[dict]:
    actions = book.json()["actions"]
    return [a for a in actions if func is None or a["func"] == func]


# ============================================================================ tests of the harness

def test_payload_carries_values_names_and_hidden_sheets(tmp_path, remote):
    path = fill_example(tmp_path / "a.xlsx")
    book = remote(path)
    assert [s.name for s in book.sheets] == ["自评表", "字典"]
    assert book.sheets["字典"].visible is False
    assert book.names["总分"].refers_to == "='自评表'!$K$49"
    assert book.sheets["自评表"]["K49"].value == pytest.approx(94.71)
    assert book.sheets["自评表"].range("C3").value == "2023年城乡医疗救助补助资金"
    assert book.fullname == str(path.resolve())


def test_apply_actions_behaves_like_excel(tmp_path, remote):
    path = fill_example(tmp_path / "a.xlsx")
    book = remote(path)
    new = book.sheets.add("新表", after=book.sheets[1])
    new["A1"].value = [["=1+1", "'=文本", "95%", "12", "'12", "文字"]]
    book.sheets["自评表"]["K49"].formula = "=1+2"
    book.sheets["自评表"]["K49"].color = "#FFC7CE"
    book.app.alert("你好", title="标题")
    out = tmp_path / "out.xlsx"
    alerts = apply_actions(path, book.json()["actions"], out)
    assert alerts == [["你好", "标题", "ok", "", ""]]
    from openpyxl import load_workbook
    wb = load_workbook(out)
    assert wb.sheetnames == ["自评表", "字典", "新表"]
    row = [c.value for c in wb["新表"][1]]
    assert row == ["=1+1", "=文本", 0.95, 12.0, "12", "文字"]
    assert wb["新表"]["B1"].data_type == "s"
    assert wb["自评表"]["K49"].value == "=1+2"
    assert wb["自评表"]["K49"].fill.fgColor.rgb.endswith("FFC7CE")
    with pytest.raises(AssertionError, match="does not know"):
        apply_actions(path, [{"func": "somethingNew", "args": [None]}], tmp_path / "x.xlsx")

