"""The custom functions give what the template's own formulas give (recalculated by LibreOffice and by Gnumeric)."""

from __future__ import annotations

import gen
import pytest
from test_addin_harness import fill_example, remote_book, remote_env  # noqa: F401

from jxzp_addin.udfs import JXZP_GRADE, JXZP_RATE, JXZP_SCORE, JXZP_SUMMARY, UDFS
from xlsx_engine.forms.project.layout import project_layout
from xlsx_engine.forms.project.profile import list_profiles
from xlsx_engine.forms.registry import open_template
from xlsx_engine.kernel.xlmath import is_number
from xlsx_engine.ooxml.builder import TEMPLATE_DIR, template_filename
from xlsx_engine.ooxml.recalc import read_values

SEEDS = range(20)


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory, engine):
    """Generated projects of every profile (every operator, blanks, text in number cells), via each engine."""
    d = tmp_path_factory.mktemp("udf")
    made = []
    for seed in SEEDS:
        rec = gen.project(seed)
        layout = project_layout(rec.profile_id)
        path = d / f"{seed}.xlsx"
        open_template(TEMPLATE_DIR / template_filename(layout)).fill_to(rec, path)
        made.append((layout, path))
    out = engine.recalc([p for _, p in made], d / "recalc")
    return [(layout, read_values(out[path])[layout.sheet]) for layout, path in made]


def _same(a, b) -> bool:
    if is_number(a) and is_number(b):
        return abs(a - b) < 1e-9
    return (a or "") == (b or "")


def test_score_equals_the_template_formula_for_every_row(recalculated):
    compared = 0
    for layout, cells in recalculated:
        c = layout.form.col
        for row in layout.indicator_rows:
            v = {key: cells.get(f"{c[key]}{row}")
                 for key in ("op", "target", "actual", "weight", "band", "manual", "unit")}
            got = JXZP_SCORE(v["op"], v["target"], v["actual"], v["weight"], layout.profile.id, v["band"], v["manual"],
                             v["unit"])
            if isinstance(got, str) and got.startswith("错误："):
                assert v["op"] not in (None, "") and "无法识别" in got     # an operator a unit typed
                continue
            assert _same(got, cells.get(f"{c['score']}{row}")), (layout.profile.id, row)
            compared += 1
    assert compared > 300


def test_rate_and_grade_equal_the_template_formulas(recalculated):
    for layout, cells in recalculated:
        total = layout.fund_total_row
        first, last = layout.fund_rows[0], layout.fund_rows[-1]
        for row in layout.fund_rows:
            assert _same(JXZP_RATE(cells.get(f"F{row}"), cells.get(f"G{row}")), cells.get(f"I{row}"))
        if any(cells.get(f"F{r}") not in (None, "") for r in range(first, last + 1)) and \
                any(cells.get(f"G{r}") not in (None, "") for r in range(first, last + 1)):
            assert _same(JXZP_RATE(cells.get(f"F{total}"), cells.get(f"G{total}")), cells.get(f"I{total}"))
        grade_ref = layout.names["评价等次"].split("!")[1].replace("$", "")
        total_ref = layout.names["总分"].split("!")[1].replace("$", "")
        assert JXZP_GRADE(cells.get(total_ref), layout.profile.id) == cells.get(grade_ref)


def test_functions_accept_what_people_type_and_explain_errors():
    assert JXZP_RATE(0, 5) == "—" and JXZP_RATE(None, None) == "" and JXZP_RATE(200, 50) == 0.25
    assert JXZP_SCORE(">=", 95, 90, 10) == pytest.approx(9.47)
    assert JXZP_SCORE("≥", 95, 90, 10, "national") == JXZP_SCORE(">=", 95, 90, 10)
    assert JXZP_SCORE("定性", "达成预期", "完成", 10, "national", "达成", 9) == 9
    assert JXZP_SCORE("≤", 100, 150, 10) == 5.0
    assert JXZP_SCORE("≥", 95, 90, None) == ""
    assert JXZP_SCORE("约", 95, 90, 10).startswith("错误：指标性质“约”无法识别")
    assert JXZP_SCORE("≥", 95, 90, 10, "no-such-rule").startswith("错误：")
    assert JXZP_GRADE(94.71) == "优" and JXZP_GRADE(89, "national") == "良" and JXZP_GRADE("九十") == "待填报"
    assert {f.__name__ for f in UDFS} == {"JXZP_RATE", "JXZP_SCORE", "JXZP_GRADE", "JXZP_SUMMARY"}
    assert set(list_profiles()) >= {"national"}


@pytest.mark.usefixtures("remote_env")
def test_summary_function_reads_the_calling_workbook(tmp_path):
    from xlsx_engine.narrative.engine import from_workbook, render_summary
    path = fill_example(tmp_path / "a.xlsx")
    book = remote_book(path)
    text = JXZP_SUMMARY(book.sheets["自评表"]["A1"], 94.71)
    assert text == render_summary(from_workbook(path)).text().strip()
    assert "94.71" in text
    master = remote_book(tmp_path / "a.xlsx", book_name="总表.xlsx")
    master.names["评分规则"].delete()
    assert JXZP_SUMMARY(master.sheets[0]["A1"]).startswith("错误：总表.xlsx：不是本系统模板生成的工作簿")
