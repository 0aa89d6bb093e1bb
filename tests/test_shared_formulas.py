"""Shared formulas (``<f t="shared">``) in the templates and in the checker.

The project form's per-indicator columns (得分 K, 提示 M and the live 综述's helpers N and P) repeat one formula
thirty times, moved down a row each time; stored in full they were 150 KB of the 250 KB worksheet that every
distributed and every returned copy carries. The templates store them as Excel does: the first cell holds the
text, the others only the group index. These tests prove the three promises that makes:

* each cell of a group *is* the first cell's formula moved (openpyxl's Translator, which expands shared formulas
  the way Excel does), for every form and profile, and the builder refuses a layout that breaks it;
* every reader sees the full formula in every cell (openpyxl, the filler's own check, the checker), and a filled
  copy recalculated by LibreOffice and Gnumeric gives the Python values (tests/test_libreoffice.py and
  tests/test_live_summary.py recalculate these same templates);
* the checker, which compares a group's cells without expanding them, still catches every change: a cell of the
  group overwritten, the group's text edited, a cell pointed at another group — and accepts the same formulas
  grouped differently (as another spreadsheet program may save them).
"""

from __future__ import annotations

import dataclasses
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
import yaml
from openpyxl.formula.translate import Translator
from test_tamper import read_members, write_members

from xlsx_engine.forms.project.layout import project_layout
from xlsx_engine.forms.project.record import record_from_data
from xlsx_engine.forms.registry import forms, open_template
from xlsx_engine.integrity.checks import check_file
from xlsx_engine.integrity.tamper import expected_for, parse_sheet
from xlsx_engine.ooxml import builder
from xlsx_engine.ooxml.sheetmodel import FORMULA

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
EXAMPLE = ROOT / "examples" / "2023-城乡医疗救助补助资金.yaml"
SHEET = "xl/worksheets/sheet1.xml"
LAYOUTS = [(form.prefix, pid) for form in forms() for pid in form.profile_ids()]


def _layout(prefix: str, pid: str):
    return next(f for f in forms() if f.prefix == prefix).layout(pid)


@pytest.mark.parametrize("prefix,pid", LAYOUTS)
def test_each_shared_cell_is_the_first_cell_moved(prefix, pid):
    layout = _layout(prefix, pid)
    for ref, group in layout.shared_groups.items():
        moved = Translator(layout.cells[group.master].formula, origin=group.master).translate_formula(ref)
        assert moved == layout.cells[ref].formula, (ref, group)
    if prefix == "xmzc":   # the project form shares its four per-indicator columns over the 30 indicator rows
        rows = layout.indicator_rows
        ranges = sorted({g.range for g in layout.shared_groups.values()})
        assert ranges == [f"{col}{rows[0]}:{col}{rows[-1]}" for col in "KMNP"] and len(rows) == 30


def test_builder_refuses_a_broken_promise():
    layout = project_layout("national")
    broken = dataclasses.replace(layout, cells=dict(layout.cells))
    broken.cells["K30"] = dataclasses.replace(layout.cells["K30"], formula="=1+1")
    with pytest.raises(ValueError, match="K30"):
        builder.render(broken)


@pytest.mark.parametrize("path", sorted(TEMPLATES.glob("xmzc-*.xlsx")), ids=lambda p: p.stem)
def test_templates_store_shared_formulas_and_every_reader_expands_them(path):
    layout = project_layout(path.stem.split("-", 1)[1])
    xml = zipfile.ZipFile(path).read(SHEET)
    for group in {g for g in layout.shared_groups.values()}:
        assert f'<f t="shared" ref="{group.range}" si="{group.si}">'.encode() in xml
    assert xml.count(b't="shared" si=') == len(layout.shared_groups) - len({g.master for g in
                                                                             layout.shared_groups.values()})
    assert len(xml) < 120_000          # was 250 KB with every formula in full
    ws = openpyxl.load_workbook(path)[layout.sheet]
    sheet = parse_sheet(xml, layout.sheet, [], str(path))
    for ref, spec in layout.cells.items():
        if spec.role == FORMULA:
            assert ws[ref].value == spec.formula, ref
            rc = (ws[ref].row, ws[ref].column)
            assert "=" + sheet.cells[rc].formula == spec.formula, ref


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> Path:
    tpl = open_template(TEMPLATES / "xmzc-national.xlsx")
    rec = record_from_data(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")), tpl.profile)
    path = tmp_path_factory.mktemp("shared") / "clean.xlsx"
    tpl.fill_to(rec, path)
    return path


def _edit(src: Path, dst: Path, edit) -> Path:
    members = read_members(src)
    text = members[SHEET].decode("utf-8")
    new = edit(text)
    assert new != text, "the edit did not apply"
    members[SHEET] = new.encode("utf-8")
    return write_members(dst, members)


def _f(ref: str) -> re.Pattern:
    return re.compile(rf'(<c r="{ref}"[^>]*>)(<f[^>]*/>|<f[^>]*>[^<]*</f>)')


def _edited(report) -> dict[str, str]:
    return {f.place.split("!")[-1]: f.message for f in report.findings if f.code == "formula_edited"}


def test_clean_copy_is_checked_without_expanding_the_groups(filled, monkeypatch):
    import xlsx_engine.integrity.tamper as tamper

    calls = []
    monkeypatch.setattr(tamper, "translate_formula", lambda *a: calls.append(a) or "")
    report = check_file(filled)
    assert report.findings == [] and calls == []


def test_a_cell_of_the_group_overwritten_is_caught(filled, tmp_path):
    bad = _edit(filled, tmp_path / "k25.xlsx", lambda x: _f("K25").sub(r"\1<f>I25</f>", x, 1))
    edited = _edited(check_file(bad))
    assert list(edited) == ["K25"] and "现为 =I25" in edited["K25"]


def test_the_groups_text_edited_changes_every_cell_of_it(filled, tmp_path):
    def edit(x: str) -> str:
        return re.sub(r'(<f t="shared" ref="K18:K47" si="\d+">)', r"\g<1>2*", x, count=1)

    edited = _edited(check_file(_edit(filled, tmp_path / "k18.xlsx", edit)))
    assert sorted(edited, key=lambda r: int(r[1:])) == [f"K{r}" for r in range(18, 48)]
    assert "现为 =2*IF(NOT(OR(LEN(C30)" in edited["K30"]     # the formula moved to K30 is shown


def test_a_cell_pointed_at_another_group_is_caught(filled, tmp_path):
    exp = expected_for("national", "xmzc-national")
    si_m = next(g.si for g in exp.shared_of.values() if g.range.startswith("M"))
    bad = _edit(filled, tmp_path / "k20.xlsx", lambda x: _f("K20").sub(rf'\1<f t="shared" si="{si_m}"/>', x, 1))
    assert list(_edited(check_file(bad))) == ["K20"]


def test_the_same_formulas_grouped_differently_are_not_a_change(filled, tmp_path):
    """K31:K47 made a group of their own, its first cell in full (as a program that regroups on save writes)."""
    layout = project_layout("national")
    text = layout.cells["K31"].formula[1:].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def edit(x: str) -> str:
        x = x.replace('ref="K18:K47"', 'ref="K18:K30"', 1)
        x = _f("K31").sub(lambda m: m.group(1) + f'<f t="shared" ref="K31:K47" si="99">{text}</f>', x, 1)
        for r in range(32, 48):
            x = _f(f"K{r}").sub(r'\1<f t="shared" si="99"/>', x, 1)
        return x

    report = check_file(_edit(filled, tmp_path / "regrouped.xlsx", edit))
    assert report.findings == [] and report.summary["总分"] == 94.71


def test_a_cell_whose_group_has_no_first_cell_is_caught(filled, tmp_path):
    bad = _edit(filled, tmp_path / "orphan.xlsx", lambda x: _f("K20").sub(r'\1<f t="shared" si="77"/>', x, 1))
    edited = _edited(check_file(bad))
    assert list(edited) == ["K20"] and "空公式（共享公式找不到首格）" in edited["K20"]
