"""The live 综述 of the project form (issue 14, item 2): assembled by formulas from the cells, word for word what
Python renders from the same sentence definitions, and the same sentences the Jinja report prints.

The engine tests fill generated projects, strip every cached value and recalculate in LibreOffice and in
Gnumeric, so each 综述 cell they read was computed by the engine's formulas from the typed inputs alone.
"""

from __future__ import annotations

import re
from pathlib import Path

import gen
import pytest
from engines import same_cell, spelled

from xlsx_engine.forms.project.formulas import RowRefs
from xlsx_engine.forms.project.layout import project_layout
from xlsx_engine.forms.project.profile import list_profiles, load_profile
from xlsx_engine.forms.project.record import IndicatorRow, ProjectRecord, load_data
from xlsx_engine.forms.project.scoring import IndicatorResult
from xlsx_engine.forms.project.sentences import (
    HEADINGS,
    SummaryRefs,
    fund_values,
    indicator_refs,
    indicator_values,
    intro_values,
    live_lines,
    sentences,
    summary_refs,
    summary_values,
    total_values,
)
from xlsx_engine.forms.registry import open_template
from xlsx_engine.kernel.excel import functions_used
from xlsx_engine.kernel.phrases import Clause, Lit, Pending, Text, cat, clause_text, when
from xlsx_engine.narrative.engine import Narrator, from_data_file
from xlsx_engine.ooxml.builder import TEMPLATE_DIR, template_filename
from xlsx_engine.ooxml.recalc import read_values

ROOT = Path(__file__).resolve().parents[1]
SEEDS = Path(__file__).parent / "data" / "seeds"
EXAMPLES = ROOT / "examples"
N_PROJECTS = 60


def _summary_cells(values: dict, layout) -> list[str]:
    """The 综述 area's paragraphs and lines as the workbook shows them, blanks left out."""
    first = layout.summary_lines[0] - len(HEADINGS)
    out = [values.get(f"A{row}") for row in range(first, layout.summary_lines[-1] + 1)]
    return [spelled(v) for v in out if v not in (None, "")]


def _blank_issue(seed: int) -> ProjectRecord:
    """A copy as a bureau distributes it: identity, budget and indicators set, nothing the unit types."""
    rec = gen.project(seed)
    for row in rec.indicators:
        row.actual = row.band = row.manual = row.reason = None
    for line in rec.funds:
        line.spent = None
    return rec


@pytest.fixture(scope="module")
def batch(engine, tmp_path_factory):
    src = tmp_path_factory.mktemp("live-filled")
    out = tmp_path_factory.mktemp("live-recalculated")
    templates = {pid: open_template(TEMPLATE_DIR / template_filename(project_layout(pid))) for pid in list_profiles()}
    records = [gen.project(seed) for seed in range(N_PROJECTS)] + [_blank_issue(seed) for seed in range(3)]
    for seed_file in sorted(SEEDS.glob("*.yaml")):
        pid = {"seed003-p1": "hubei-wuhan", "seed003-p2": "hubei-wuhan", "seed004": "ningxia-jinfeng"}[seed_file.stem]
        records.append(load_data(seed_file, templates[pid].profile))
    for example in ("2023-医保基金监管专项.yaml", "2023-城乡医疗救助补助资金.yaml"):
        records.append(from_data_file(EXAMPLES / example).record)
    items = []
    for k, rec in enumerate(records):
        path = src / f"live{k:03d}.xlsx"
        templates[rec.profile_id].fill_to(rec, path)
        items.append((path, templates[rec.profile_id], rec))
    mapping = engine.recalc([p for p, _, _ in items], out)
    return [(path, mapping[path], tpl, rec) for path, tpl, rec in items]


def test_formula_summary_equals_python_word_for_word(batch, engine):
    mismatches, listed = [], 0
    for filled, recalculated, tpl, rec in batch:
        layout = tpl.layout
        padded, result = tpl.evaluate(rec)
        expected = [spelled(t) for t in live_lines(padded, result, layout.profile)]
        got = _summary_cells(read_values(recalculated)[layout.sheet], layout)
        listed += len(expected) - len(HEADINGS)
        if len(got) != len(expected) or not all(same_cell(a, b, engine.name) for a, b in zip(expected, got)):
            first = next((k for k, (a, b) in enumerate(zip(got, expected)) if a != b), min(len(got), len(expected)))
            mismatches.append(f"{filled.name} line {first}: {engine.name}={got[first:first + 1]} "
                              f"python={expected[first:first + 1]}")
    assert listed > 200          # the batch explains hundreds of indicators, not only the headed paragraphs
    assert not mismatches, f"{engine.name}: {len(mismatches)} workbooks differ:\n" + "\n".join(mismatches[:5])


def test_batch_reaches_every_branch(batch):
    """The batch covers what the 综述 says: 结余, excess, 待填报, caps, over-achievement, missing reasons."""
    text = "\n".join(line for _, _, tpl, rec in batch for line in live_lines(*tpl.evaluate(rec), tpl.profile))
    for phrase in ("年末结余", "执行数超过预算数", "总分待填报", "按规则总分不超过", "完成值超过指标值",
                   "（待补充偏差原因分析及改进措施）", "实际完成值填写为", "完成等级为", "评价等次为",
                   "尚有", "单列，不计入总分", "全年预算数和全年执行数待填报"):
        assert phrase in text, phrase


# ----------------------------------------------------------------------------- one definition, two renderings

def test_report_prints_the_same_sentences():
    """The Jinja 综述 contains the shared sentences verbatim: fund execution, fund score, total and every
    indicator's facts (the report adds the cause and the measure after them)."""
    inp = from_data_file(EXAMPLES / "2023-城乡医疗救助补助资金.yaml")
    text = Narrator().summary(inp).text()
    rec, result, p = inp.record, inp.result, inp.profile
    s = sentences(p)
    fund = fund_values(rec, result)
    assert s.fund_execution.py(fund) in text and s.fund_score.py(fund) in text
    assert "经自评，项目" + s.total.py(total_values(rec, result)) in text
    facts = [s.indicator.py(indicator_values(row, res, p)) for row, res in zip(rec.indicators, result.indicators)
             if row.name]
    assert len(facts) >= 5 and all(f in text for f in facts)
    # the workbook's line of an indicator below full score starts with the same facts as the report's paragraph
    lines = live_lines(*project_layout(p.id).evaluate(rec), p)
    assert any(line.startswith("（1）") and line[3:].startswith(tuple(facts)) for line in lines)


def test_every_key_has_a_value_and_a_cell():
    for pid in list_profiles():
        p = load_profile(pid)
        layout = project_layout(pid)
        s = sentences(p)
        rec, result = layout.evaluate(gen.project(3, pid))
        keys = set().union(*(para.keys() for para in s.paragraphs))
        assert keys <= set(summary_values(rec, result, p))
        refs = summary_refs(_refs_of(layout), p)
        assert keys <= set(refs)
        assert s.line.keys() <= set(indicator_values(rec.indicators[0], result.indicators[0], p))
        assert s.line.keys() <= set(indicator_refs(_row_refs(layout), "P18"))


def _refs_of(layout):
    return SummaryRefs(*(["A1"] * 12), target_input=None, seq="O1:O2", weights="I1:I2", scores="K1:K2")


def _row_refs(layout):
    return RowRefs(*[f"{c}18" for c in "ABCDEFGHIJKLM"])


def test_formulas_stay_within_excel_2010_limits():
    """8,192 characters and 64 nested levels per formula; only the portable functions."""
    for pid in list_profiles():
        layout = project_layout(pid)
        for ref in [f"A{r}" for r in range(layout.summary_lines[0] - 3, layout.summary_lines[-1] + 1)] + \
                [f"{c}{r}" for c in "NOP" for r in layout.indicator_rows]:
            formula = layout.cells[ref].formula
            assert len(formula) <= 8192, (pid, ref, len(formula))
            depth = max_depth(re.sub(r'"(?:[^"]|"")*"', '""', formula))
            assert depth <= 64, (pid, ref, depth)
            assert functions_used(formula) <= {"IF", "AND", "OR", "NOT", "ROUND", "ISNUMBER", "LEN", "TRIM", "RIGHT",
                                               "LEFT", "FIND", "MAX", "MIN", "COUNT", "INDEX", "MATCH", "DATE",
                                               "INT", "MOD"}


def max_depth(text: str) -> int:
    depth = best = 0
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        best = max(best, depth)
    return best


# ----------------------------------------------------------------------------- the phrase algebra

def test_clause_and_pending_follow_excel_trim():
    assert clause_text("  加强  管理。 ") == "加强 管理"       # TRIM: ends cut, inner runs of spaces to one
    assert clause_text("已退回财政；") == "已退回财政" and clause_text("甲。。") == "甲。"   # one closing mark
    assert clause_text(3.5) == "3.5" and clause_text(None) == ""
    p = Pending("r", "偏差原因")
    assert p.py({"r": "   "}) == "（待补充偏差原因）" and p.py({"r": "因疫情影响。"}) == "因疫情影响"
    assert p.xl({"r": "L9"}).startswith("IF(LEN(TRIM(L9))>0,")


def test_cat_merges_literals_and_when_branches():
    phrase = cat("甲", "", "乙", Text("x"), when("c", "是", "否"))
    assert phrase.py({"x": 2.50, "c": True}) == "甲乙2.5是"
    assert phrase.xl({"x": "B2", "c": "C2>0"}) == '"甲乙"&B2&IF(C2>0,"是","否")'
    assert cat(Lit("只")).xl({}) == '"只"' and Text("x").xl({"x": "B2"}) == 'B2&""'
    assert Clause("x").keys() == {"x"} and phrase.keys() == {"x", "c"}


def test_unfilled_indicator_is_not_said_to_lack_a_weight():
    """A weighted row waiting for its actual is “尚未评分”, not “缺分值” (the old report said the latter)."""
    p = load_profile("national")
    row = IndicatorRow(level1="产出指标", level2="数量指标", name="培训人次", op="≥", target=100, unit="人次", weight=10)
    text = sentences(p).indicator.py(indicator_values(row, IndicatorResult("", [], ""), p))
    assert text == "培训人次：年度指标值≥100人次，实际完成值（待补充实际完成值），尚未评分。"
    assert intro_values(ProjectRecord("national"), _empty_result(p), p)["has_active"] is False


def _empty_result(p):
    layout = project_layout(p.id)
    return layout.evaluate(ProjectRecord(p.id))[1]
