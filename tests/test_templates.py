"""Tests of the shipped templates (templates/xmzc-*.xlsx).

Every shipped template is checked for: byte-for-byte reproducibility from its layout,
being macro-free, cell locking and sheet/workbook protection, the function allowlist,
defined names, data validation, identity properties, print setup and the inertness
of blank indicator rows.

openpyxl is used only to *inspect* the templates; raw XML is read with zipfile/lxml.
"""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from pathlib import Path

import openpyxl
import pytest
from lxml import etree
from openpyxl.utils import range_boundaries

from xlsx_engine.bureau.review.rubric import columns, load_rubric, row_formulas
from xlsx_engine.cli.main import main as cli_main
from xlsx_engine.forms.project.layout import project_layout
from xlsx_engine.forms.project.profile import list_profiles, load_profile
from xlsx_engine.forms.project.record import FundLine, ProjectRecord
from xlsx_engine.kernel import excel
from xlsx_engine.kernel.targets import OPERATORS
from xlsx_engine.ooxml import builder
from xlsx_engine.ooxml.sheetmodel import FORMULA, INPUT, LABEL

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_DIR = ROOT / "templates"
TEMPLATES = sorted(TEMPLATE_DIR.glob("xmzc-*.xlsx"))
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
      "pr": "http://schemas.openxmlformats.org/package/2006/relationships"}

REQUIRED_NAMES = ("项目名称", "主管部门", "实施单位", "全年预算数", "全年执行数", "执行率", "资金得分", "总分", "评价等次")
INDICATOR_NAMES = ("一级指标", "二级指标", "三级指标", "指标性质", "指标值", "度量单位", "实际完成值", "完成等级", "分值",
                   "定性自评分", "得分", "偏差原因", "指标提示")
FORBIDDEN_FUNCTIONS = ("IFS", "SWITCH", "XLOOKUP", "LET", "LAMBDA", "TEXTJOIN", "CONCAT", "MAXIFS", "MINIFS",
                       "FILTER", "UNIQUE", "SEQUENCE")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _profile_id(path: Path) -> str:
    stem = path.stem
    assert stem.startswith("xmzc-"), stem
    return stem[len("xmzc-"):]


def test_every_profile_has_a_shipped_template():
    shipped = {_profile_id(p) for p in TEMPLATES}
    assert shipped == set(list_profiles()), "templates/ and templates/profiles/ disagree; run jxzp build"
    assert len(TEMPLATES) >= 5


@pytest.fixture(scope="module", params=TEMPLATES, ids=lambda p: p.stem)
def tpl(request):
    """(path, profile id, layout, openpyxl workbook, zip member dict) of one shipped template."""
    path: Path = request.param
    pid = _profile_id(path)
    layout = project_layout(pid)
    wb = openpyxl.load_workbook(path)
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    return path, pid, layout, wb, members


@pytest.fixture(scope="module")
def cli_built(tmp_path_factory):
    """The templates written by ``jxzp build -o DIR``."""
    out = tmp_path_factory.mktemp("built")
    assert cli_main(["build", "-o", str(out)]) == 0
    return out


def _main_sheet_xml(members: dict[str, bytes], sheet_name: str) -> bytes:
    wbx = etree.fromstring(members["xl/workbook.xml"])
    rels = etree.fromstring(members["xl/_rels/workbook.xml.rels"])
    targets = {r.get("Id"): r.get("Target") for r in rels.findall("pr:Relationship", NS)}
    for sheet in wbx.iterfind("m:sheets/m:sheet", NS):
        if sheet.get("name") == sheet_name:
            target = targets[sheet.get(f"{{{NS['r']}}}id")]
            return members[target.lstrip("/") if target.startswith("/") else "xl/" + target]
    raise AssertionError(f"no sheet {sheet_name}")


def _sheet_xmls(members: dict[str, bytes]) -> list[bytes]:
    return [data for name, data in members.items() if name.startswith("xl/worksheets/") and name.endswith(".xml")]


def _resolve_name(wb, name: str) -> tuple[str, str]:
    """A workbook-scoped defined name -> (sheet title, "A1:B2")."""
    dn = wb.defined_names[name]
    dests = list(dn.destinations)
    assert len(dests) == 1, f"{name} points to {len(dests)} areas"
    sheet, ref = dests[0]
    return sheet, ref.replace("$", "")


def _range_values(wb, sheet: str, ref: str) -> list:
    ws = wb[sheet]
    cells = ws[ref]
    if not isinstance(cells, tuple):
        return [cells.value]
    out = []
    for row in cells:
        if isinstance(row, tuple):
            out.extend(c.value for c in row)
        else:
            out.append(row.value)
    return out


# ----------------------------------------------------------------------------- 1. reproducible

def test_render_reproduces_shipped_template(tpl):
    path, pid, layout, _wb, _m = tpl
    rendered = builder.render(layout)
    assert rendered == path.read_bytes(), (
        f"{path.name} differs from builder.render(project_layout({pid!r})); run jxzp build")


def test_render_is_deterministic(tpl):
    _path, _pid, layout, _wb, _m = tpl
    assert builder.render(layout) == builder.render(layout), "render() is not deterministic"


def test_cli_build_writes_identical_files(tpl, cli_built):
    path = tpl[0]
    built = cli_built / path.name
    assert built.exists(), f"jxzp build did not write {path.name}"
    assert built.read_bytes() == path.read_bytes(), f"{path.name}: jxzp build output differs; run jxzp build"


# ----------------------------------------------------------------------------- 2. macro-free

def test_macro_free(tpl):
    path, _pid, _layout, _wb, members = tpl
    assert path.suffix == ".xlsx"
    assert "xl/vbaProject.bin" not in members
    assert not any(name.lower().endswith(".bin") for name in members)
    ct = members["[Content_Types].xml"].decode("utf-8")
    assert "macroEnabled" not in ct
    assert "vbaProject" not in ct
    assert "spreadsheetml.sheet.main+xml" in ct


# ----------------------------------------------------------------------------- 3. locking

def test_formula_cells_locked_in_every_sheet(tpl):
    _path, _pid, layout, wb, _m = tpl
    n_formulas = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    n_formulas += 1
                    assert cell.protection.locked is True, f"{ws.title}!{cell.coordinate} formula is unlocked"
    expected = sum(1 for c in layout.cells.values() if c.role == FORMULA)
    assert n_formulas == expected > 60, "the template does not hold the layout's formula cells"


def test_input_cells_unlocked_and_filled(tpl):
    _path, _pid, layout, wb, _m = tpl
    ws = wb[layout.sheet]
    input_rgb = "00" + builder.INPUT_FILL
    inputs = [ref for ref, c in layout.cells.items() if c.role == INPUT]
    assert len(inputs) > 30 * 11
    for ref in inputs:
        cell = ws[ref]
        assert cell.protection.locked is False, f"input {ref} is locked"
        assert cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb == input_rgb, f"input {ref} lacks input fill"
    # The input colour marks inputs only: formulas and labels never carry it.
    for ref, c in layout.cells.items():
        if c.role in (FORMULA, LABEL):
            assert ws[ref].fill.fgColor.rgb != input_rgb, f"{ref} ({c.role}) has the input fill"


def test_labels_locked(tpl):
    _path, _pid, layout, wb, _m = tpl
    ws = wb[layout.sheet]
    labels = [ref for ref, c in layout.cells.items() if c.role == LABEL]
    assert labels
    for ref in labels:
        assert ws[ref].protection.locked is True, f"label {ref} is unlocked"


def test_sheet_protection(tpl):
    _path, _pid, layout, wb, members = tpl
    ws = wb[layout.sheet]
    assert ws.protection.sheet is True
    assert ws.protection.password, "sheet protection has no password hash"
    assert ws.protection.formatColumns is False, "column widths should remain adjustable"
    xml = _main_sheet_xml(members, layout.sheet)
    prot = etree.fromstring(xml).find("m:sheetProtection", NS)
    assert prot is not None and prot.get("sheet") == "1" and prot.get("password")
    assert prot.get("formatColumns") == "0"
    # dictionary sheet protected too
    assert wb[layout.form.dictionary_sheet].protection.sheet is True


def test_workbook_structure_locked(tpl):
    _path, _pid, _layout, _wb, members = tpl
    root = etree.fromstring(members["xl/workbook.xml"])
    prot = root.find("m:workbookProtection", NS)
    assert prot is not None, "no <workbookProtection>"
    assert prot.get("lockStructure") in ("1", "true")
    assert prot.get("workbookPassword") or prot.get("workbookHashValue")


# ----------------------------------------------------------------------------- 4. function allowlist

def _all_formulas(wb) -> list[tuple[str, str]]:
    return [(f"{ws.title}!{c.coordinate}", c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if isinstance(c.value, str) and c.value.startswith("=")]


def test_formulas_use_allowed_functions_only(tpl):
    _path, _pid, _layout, wb, _m = tpl
    found = _all_formulas(wb)
    assert found
    used_total: set[str] = set()
    for where, formula in found:
        used = excel.functions_used(formula)
        used_total |= used
        assert used <= excel.ALLOWED_FUNCTIONS, f"{where} uses {sorted(used - excel.ALLOWED_FUNCTIONS)}"
        assert not (used & set(FORBIDDEN_FUNCTIONS)), f"{where} uses {sorted(used & set(FORBIDDEN_FUNCTIONS))}"
    # the scan actually sees the functions (guards against a broken functions_used)
    assert {"IF", "ROUND", "SUM", "SUMPRODUCT"} <= used_total


def test_allowlist_is_what_the_formulas_use():
    """ALLOWED_FUNCTIONS names exactly the functions our formulas call: those of every shipped template (all
    forms, cells and data validations) and of the 考核评分表. A function no longer used leaves the list, so the
    list stays a true statement of what must work alike in Excel 2010, WPS, LibreOffice and Gnumeric."""
    used: set[str] = set()
    for path in sorted(TEMPLATE_DIR.glob("*.xlsx")):
        wb = openpyxl.load_workbook(path)
        texts = [f for _, f in _all_formulas(wb)]
        texts += [dv.formula1 or "" for ws in wb.worksheets for dv in ws.data_validations.dataValidation]
        used |= set().union(*(excel.functions_used(t) for t in texts))
    for rubric_file in sorted((ROOT / "templates" / "profiles" / "review").glob("*.yaml")):
        rubric = load_rubric(rubric_file.stem)
        ref = {c.key: f"X{k}" for k, c in enumerate(columns(rubric), 1)}
        used |= set().union(*(excel.functions_used(f) for f in row_formulas(rubric, ref).values()))
    assert used == excel.ALLOWED_FUNCTIONS, (f"unused: {sorted(excel.ALLOWED_FUNCTIONS - used)}, "
                                                f"not allowed: {sorted(used - excel.ALLOWED_FUNCTIONS)}")
    assert "N" not in used          # N() of a blank cell is #NUM! in Gnumeric: kernel.excel.num_formula instead


def test_functions_used_detects_forbidden():
    for fn in FORBIDDEN_FUNCTIONS:
        assert fn in excel.functions_used(f"={fn}(A1,B1)")
        assert fn not in excel.ALLOWED_FUNCTIONS
    assert excel.functions_used('=IF(A1="IFS(",1,0)') == {"IF"}


def test_no_xlfn_prefix_in_sheet_xml(tpl):
    _path, _pid, _layout, _wb, members = tpl
    for name, data in members.items():
        if name.endswith(".xml"):
            assert b"_xlfn." not in data, f"{name} has an _xlfn. function"
            assert b"_xlws." not in data, f"{name} has an _xlws. function"


# ----------------------------------------------------------------------------- 5. names

def _defined_names_xml(members) -> list[etree._Element]:
    root = etree.fromstring(members["xl/workbook.xml"])
    return list(root.iterfind("m:definedNames/m:definedName", NS))


def test_names_workbook_scoped_and_unique(tpl):
    _path, _pid, _layout, _wb, members = tpl
    dns = _defined_names_xml(members)
    for dn in dns:
        if dn.get("localSheetId") is not None:
            assert dn.get("name").startswith("_xlnm."), f"{dn.get('name')} is sheet-scoped"
    keys = Counter((dn.get("name"), dn.get("localSheetId")) for dn in dns)
    dup = [k for k, v in keys.items() if v > 1]
    assert not dup, f"duplicate names: {dup}"
    globals_ = [dn.get("name") for dn in dns if dn.get("localSheetId") is None]
    assert len(globals_) == len(set(globals_))


def test_required_names_present(tpl):
    _path, _pid, layout, _wb, members = tpl
    names = {dn.get("name"): dn.text for dn in _defined_names_xml(members) if dn.get("localSheetId") is None}
    for name in REQUIRED_NAMES + INDICATOR_NAMES:
        assert name in names, f"missing defined name {name}"
        assert names[name] == layout.names[name]
    # every name of the layout is in the workbook
    assert set(layout.names) <= set(names)


def test_names_point_to_existing_cells(tpl):
    _path, _pid, layout, wb, _m = tpl
    for name in layout.names:
        sheet, ref = _resolve_name(wb, name)
        assert sheet in wb.sheetnames, f"{name} -> unknown sheet {sheet}"
        ws = wb[sheet]
        min_col, min_row, max_col, max_row = range_boundaries(ref)
        assert max_row <= ws.max_row and max_col <= ws.max_column, f"{name} -> {ref} is outside the sheet"
        if sheet == layout.sheet:
            top_left = ref.split(":")[0]
            assert top_left in layout.cells, f"{name} -> {ref} is not a layout cell"
        else:
            assert all(v not in (None, "") for v in _range_values(wb, sheet, ref)), f"{name} -> empty cells"


def test_indicator_names_span_rows(tpl):
    _path, _pid, layout, wb, _m = tpl
    rows = None
    for name in INDICATOR_NAMES:
        sheet, ref = _resolve_name(wb, name)
        assert sheet == layout.sheet
        min_col, min_row, max_col, max_row = range_boundaries(ref)
        assert min_col == max_col, f"{name} should be one column"
        assert max_row - min_row + 1 >= 30, f"{name} spans only {max_row - min_row + 1} rows"
        assert rows in (None, (min_row, max_row)), f"{name} rows differ from the other indicator columns"
        rows = (min_row, max_row)
    assert list(range(rows[0], rows[1] + 1)) == layout.indicator_rows


def test_score_and_message_names_hold_formulas(tpl):
    _path, _pid, layout, wb, _m = tpl
    for name in ("得分", "指标提示", "总分", "评价等次", "资金得分", "执行率"):
        sheet, ref = _resolve_name(wb, name)
        for value in _range_values(wb, sheet, ref):
            assert isinstance(value, str) and value.startswith("="), f"{name} -> non-formula {value!r}"


# ----------------------------------------------------------------------------- 6. data validation

def _validations(ws):
    return list(ws.data_validations.dataValidation)


def _dv_for(ws, ref: str):
    """The validation covering cell ``ref``."""
    hits = [dv for dv in _validations(ws) if ref in dv.sqref]
    assert len(hits) == 1, f"{len(hits)} validations on {ref}"
    return hits[0]


def _check_dv_common(dv, where):
    assert dv.showErrorMessage is True, f"{where}: showErrorMessage off"
    assert dv.error and CHINESE.search(dv.error), f"{where}: no Chinese error text"
    assert dv.errorStyle in (None, "stop"), f"{where}: errorStyle {dv.errorStyle}"


def _list_source(wb, layout, dv) -> list:
    formula = dv.formula1.lstrip("=")
    if formula in wb.defined_names:
        sheet, ref = _resolve_name(wb, formula)
    else:
        sheet, _, ref = formula.rpartition("!")
        sheet, ref = sheet.strip("'"), ref.replace("$", "")
    assert sheet == layout.form.dictionary_sheet, f"list {formula} is not on the dictionary sheet"
    assert wb[sheet].sheet_state in ("hidden", "veryHidden")
    return _range_values(wb, sheet, ref)


def test_validation_amounts(tpl):
    _path, _pid, layout, wb, _m = tpl
    ws = wb[layout.sheet]
    for row in layout.fund_rows:
        for col in "EFG":
            dv = _dv_for(ws, f"{col}{row}")
            _check_dv_common(dv, f"{col}{row}")
            assert dv.type == "decimal"
            assert dv.operator == "greaterThanOrEqual" and float(dv.formula1) == 0


def test_validation_weight(tpl):
    _path, pid, layout, wb, _m = tpl
    ws = wb[layout.sheet]
    col = layout.form.col["weight"]
    dvs = {id(_dv_for(ws, f"{col}{row}")) for row in layout.indicator_rows}
    assert len(dvs) == 1
    dv = _dv_for(ws, f"{col}{layout.indicator_rows[0]}")
    _check_dv_common(dv, "分值")
    assert dv.type == "decimal" and dv.operator == "between"
    assert float(dv.formula1) == 0 and float(dv.formula2) == load_profile(pid).total


@pytest.mark.parametrize("key,expected", [
    ("level1", "level1"), ("level2", "level2"), ("op", "ops"), ("band", "bands")])
def test_validation_lists(tpl, key, expected):
    _path, pid, layout, wb, _m = tpl
    profile = load_profile(pid)
    ws = wb[layout.sheet]
    col = layout.form.col[key]
    dv = _dv_for(ws, f"{col}{layout.indicator_rows[0]}")
    for row in layout.indicator_rows:
        assert _dv_for(ws, f"{col}{row}") is dv, f"{col}{row} not covered by the same list"
    _check_dv_common(dv, key)
    assert dv.type == "list"
    values = _list_source(wb, layout, dv)
    want = {"level1": list(profile.level1_names), "level2": list(profile.level2_names),
            "ops": list(OPERATORS), "bands": [b.label for b in profile.bands]}[expected]
    assert values == want
    if expected == "ops":
        assert len(values) == 6 and set(values) == {"≥", "＞", "＝", "≤", "＜", "定性"}


def test_validation_level1_names_national():
    wb = openpyxl.load_workbook(TEMPLATE_DIR / "xmzc-national.xlsx")
    layout = project_layout("national")
    dv = _dv_for(wb[layout.sheet], f"A{layout.indicator_rows[0]}")
    assert _list_source(wb, layout, dv) == ["产出指标", "效益指标", "满意度指标"]


# ----------------------------------------------------------------------------- 7. identity

def test_custom_properties_match_layout(tpl):
    _path, pid, layout, wb, _m = tpl
    props = {p.name: p.value for p in wb.custom_doc_props.props}
    meta = layout.meta()
    for key in ("模板编号", "模板版本", "评分规则", "版式指纹"):
        assert props.get(key) == meta[key], f"{key}: {props.get(key)!r} != {meta[key]!r}"
    assert props["评分规则"] == pid
    assert props["模板编号"] == _path.stem
    assert re.fullmatch(r"[0-9a-f]{16}", props["版式指纹"])


def test_dictionary_sheet_hidden_and_carries_identity(tpl):
    _path, _pid, layout, wb, members = tpl
    dsheet = wb[layout.form.dictionary_sheet]
    assert dsheet.sheet_state in ("hidden", "veryHidden")
    root = etree.fromstring(members["xl/workbook.xml"])
    states = {s.get("name"): s.get("state") for s in root.iterfind("m:sheets/m:sheet", NS)}
    assert states[layout.form.dictionary_sheet] in ("hidden", "veryHidden")
    assert states[layout.sheet] in (None, "visible")
    meta = layout.meta()
    for key in meta:
        sheet, ref = _resolve_name(wb, key)
        assert sheet == dsheet.title
        assert dsheet[ref].value == meta[key]


def test_fingerprint_changes_with_layout():
    """The 版式指纹 must identify the layout: different profiles give different fingerprints."""
    fps = {project_layout(pid).fingerprint() for pid in list_profiles()}
    assert len(fps) == len(list_profiles())


# ----------------------------------------------------------------------------- 8. print setup

def test_print_setup(tpl):
    _path, _pid, layout, wb, _m = tpl
    ws = wb[layout.sheet]
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == 9
    # a fixed scale (Excel ignores manual page breaks under "fit to page")
    assert 60 <= int(ws.page_setup.scale) <= 100
    assert not (ws.sheet_properties.pageSetUpPr and ws.sheet_properties.pageSetUpPr.fitToPage)
    areas = ws.print_area.replace("$", "").split(",")
    assert areas[0].endswith(f"!A1:{layout.print_last_col}{layout.print_last_row}")
    # further areas (the project form's 报告信息) print on pages of their own
    assert [a.split("!")[1] for a in areas[1:]] == [f"A{a}:{layout.print_last_col}{b}" for a, b in layout.print_extra]
    assert ws.print_title_rows, "no print titles"
    h0, h1 = layout.header_rows
    assert ws.print_title_rows.replace("$", "") == f"{h0}:{h1}"
    assert ws.freeze_panes == layout.freeze and ws.freeze_panes not in (None, "A1")


def test_fonts_are_chinese(tpl):
    _path, _pid, layout, wb, _m = tpl
    ws = wb[layout.sheet]
    for ref in layout.cells:
        name = ws[ref].font.name
        assert name in ("宋体", "黑体"), f"{ref} uses font {name}"
    assert ws["A1"].font.name == "黑体"


# ----------------------------------------------------------------------------- 9. blank rows inert

def test_blank_rows_inert_python_twin(tpl):
    _path, pid, layout, _wb, _m = tpl
    rec, result = layout.evaluate(ProjectRecord(pid))
    assert len(result.indicators) == len(layout.indicator_rows) >= 30
    for i, row in enumerate(result.indicators, 1):
        assert row.score == "", f"blank row {i} scores {row.score!r}"
        assert row.message == "", f"blank row {i} says {row.message!r}"
    # the twins of the 得分 / 提示 cells (as the filler writes them) are blank too
    blank = ProjectRecord(pid, funds=[FundLine(src) for src in layout.profile.fund_sources])
    rec, result = layout.evaluate(blank)
    values = layout.formula_values(result, rec)
    c = layout.form.col
    for row in layout.indicator_rows:
        assert values[f"{c['score']}{row}"] == ""
        assert values[f"{c['message']}{row}"] == ""


def test_shipped_template_has_no_cached_results(tpl):
    """The shipped template carries no cached values in the indicator formula cells."""
    _path, _pid, layout, _wb, members = tpl
    root = etree.fromstring(_main_sheet_xml(members, layout.sheet))
    c = layout.form.col
    wanted = {f"{c[k]}{r}" for r in layout.indicator_rows for k in ("score", "message")}
    seen = 0
    for cell in root.iterfind("m:sheetData/m:row/m:c", NS):
        if cell.get("r") in wanted:
            seen += 1
            assert cell.find("m:f", NS) is not None
            v = cell.find("m:v", NS)
            assert v is None or not (v.text or ""), f"{cell.get('r')} has cached value {v.text!r}"
    assert seen == len(wanted)


def test_formula_values_of_bare_record():
    """A bare record (no fund lines) is padded to the template's fund sources."""
    layout = project_layout("national")
    rec, result = layout.evaluate(ProjectRecord("national"))
    values = layout.formula_values(result, rec)
    assert values[f"I{layout.fund_rows[0]}"] == ""            # nothing entered: empty, not "—"
    assert values[layout.names["总分"].split("!")[-1].replace("$", "")] == "待填报"
    c = layout.form.col
    assert all(values[f"{c['score']}{row}"] == "" for row in layout.indicator_rows)
