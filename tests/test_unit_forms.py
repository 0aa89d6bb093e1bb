"""Review 17b: one unit's 部门整体 form and one 湖南 project counted once — in the 汇总表 and in the archive."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from test_archive import TEMPLATE, record
from test_narrative_each import _department_forms
from xlsx_engine.bureau.archive import Archive
from xlsx_engine.bureau.collect import collect
from xlsx_engine.bureau.summary import totals_of
from xlsx_engine.cli.main import main
from xlsx_engine.forms.registry import open_template

ROOT = Path(__file__).resolve().parent.parent


def test_a_hunan_form_returned_again_under_another_name_is_counted_once(tmp_path):
    """project_code keys a 湖南 form by unit and item.project — but item.project is the file's stem (the form's
    typed 项目名称 is never read into it), so a resubmitted copy under another file name is a second project and
    its 计划安排/实际支出 are summed twice."""
    from xlsx_engine.forms.hunan.model import hnxm_record_from_data, load_hunan_profile
    from xlsx_engine.forms.registry import form_for
    from xlsx_engine.narrative.department import complete_record

    folder = tmp_path / "回收"
    folder.mkdir()
    profile = load_hunan_profile("hunan-project")
    layout = form_for("hnxm-hunan-project").layout("hunan-project")
    seed = yaml.safe_load((ROOT / "tests" / "data" / "hunan" / "seed000.yaml").read_text(encoding="utf-8"))
    rec = complete_record(hnxm_record_from_data(seed, profile, "seed000", layout.row_counts), profile)
    tpl = open_template(ROOT / "templates" / "hnxm-hunan-project.xlsx")
    tpl.fill_to(rec, folder / "戊单位_湖南.xlsx")
    tpl.fill_to(rec, folder / "戊单位_湖南_修改版.xlsx")
    os.utime(folder / "戊单位_湖南.xlsx", (1_700_000_000, 1_700_000_000))
    coll = collect(folder)
    assert [r.relpath for r in coll.rows] == ["戊单位_湖南_修改版.xlsx"], [(r.relpath, r.project) for r in coll.rows]
    assert totals_of(coll.rows).budget == 28545.30


def test_a_department_form_renamed_between_rounds_is_counted_once_in_the_archive(tmp_path):
    """README: 同一项目多次提交时，以最新批次、最新提交的为准. A unit's 部门整体 form recorded in round 回收 and
    again, renamed, in round 补报: Archive.latest keys it by (unit, name_key(project)), and its project is the file
    stem — both rows count, and compare's 部门整体预算数/决算数 (and the 份数 and 平均总分) double."""
    _department_forms(tmp_path / "r1", {"甲_部门整体.xlsx": ("甲单位", None)})
    _department_forms(tmp_path / "r2", {"甲_部门整体_修改版.xlsx": ("甲单位", None)})
    db = tmp_path / "档案.sqlite"
    for rnd, sub in (("回收", "r1"), ("补报", "r2")):
        assert main(["archive", "import", str(tmp_path / sub), "--round", rnd, "--db", str(db)]) == 0
    with Archive(db, readonly=True) as a:
        (year,) = a.years()
        rows = [r for r in a.latest(year).values() if r["whole"]]
    assert [r["project"] for r in rows] == ["甲_部门整体_修改版"], rows


def test_a_department_form_carrying_a_project_code_does_not_hide_that_project_in_the_archive(tmp_path):
    """collect keeps a 部门整体 form that carries a project's 项目编码 apart from that project's form (project_code,
    commit ad304b9) — both rows are counted and both recorded — but Archive.latest keys every row that has a code
    by the code alone: the newer of the two replaces the other, and the project drops out of compare."""
    folder = tmp_path / "回收"
    _department_forms(folder, {"甲_部门整体.xlsx": ("甲单位", {"项目编码": "P1", "单位名称": "甲单位"})})
    open_template(TEMPLATE).fill_to(record(2020, "甲单位", 1, target=500, actual=500, spent=95, name="项目一"),
                                    folder / "P1.xlsx", identity={"项目编码": "P1", "单位名称": "甲单位"})
    os.utime(folder / "P1.xlsx", (1_700_000_000, 1_700_000_000))
    assert len(collect(folder).counted) == 2
    db = tmp_path / "档案.sqlite"
    assert main(["archive", "import", str(folder), "--db", str(db)]) == 0
    with Archive(db, readonly=True) as a:
        (year,) = a.years()
        got = sorted((r["project"], r["whole"]) for r in a.latest(year).values())
    assert got == [("甲_部门整体", True), ("项目一", False)], got


def test_a_department_form_carrying_a_project_code_stands_apart_from_that_project_in_collect(tmp_path):
    """Guard (passes): commit ad304b9/4323030 say a 部门整体 form carrying a project's 项目编码 never supersedes
    that project's form, but no test returned both without a master — project_code returning item.code for such a
    form passed every test."""
    folder = tmp_path / "回收"
    _department_forms(folder, {"甲_部门整体.xlsx": ("甲单位", {"项目编码": "P1", "单位名称": "甲单位"})})
    open_template(TEMPLATE).fill_to(record(2020, "甲单位", 1, target=500, actual=500, spent=95, name="项目一"),
                                    folder / "P1.xlsx", identity={"项目编码": "P1", "单位名称": "甲单位"})
    os.utime(folder / "P1.xlsx", (1_700_000_000, 1_700_000_000))
    coll = collect(folder)
    assert sorted(r.relpath for r in coll.counted) == ["P1.xlsx", "甲_部门整体.xlsx"]
    assert not coll.unused


def test_a_department_form_is_matched_year_to_year_by_its_unit_as_collect_compares_units(tmp_path):
    """collect treats "甲单位(本级)" and "甲单位（本级）" as one unit (name_key), but year_over_year's by-unit match
    of 部门整体 forms (and _units' grouping) compares the stored strings: without a master (or with masters of
    two spellings) the unit's 部门整体 form is 未匹配 in both years."""
    from xlsx_engine.bureau.archive import year_over_year
    _department_forms(tmp_path / "y1", {"甲_部门整体_2020.xlsx": ("甲单位(本级)", None)})
    _department_forms(tmp_path / "y2", {"甲_部门整体_2021.xlsx": ("甲单位（本级）", None)})
    db = tmp_path / "档案.sqlite"
    for year, sub in ((2020, "y1"), (2021, "y2")):
        assert main(["archive", "import", str(tmp_path / sub), "--year", str(year), "--db", str(db)]) == 0
    with Archive(db, readonly=True) as a:
        yoy = year_over_year(a, 2021, 2020)
    assert [c.matched_by for c in yoy.projects] == ["单位"], (yoy.unmatched_now, yoy.unmatched_prev)
