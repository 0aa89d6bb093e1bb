"""One definition of an indicator that still waits (``scoring.is_waiting``, ``rules.WAITING``): weighted and not scored
yet (实际完成值 / 完成等级 not entered), so the 总分 is 待填报.

The places that used to compute the rule each their own way — the 总分's missing inputs (``pending_inputs``), the
校验提示, the live 综述 (``intro_values``), the Word report's 总分, 绩效指标合计 and group subtotals — are checked
against the predicate on the seeds, the examples and generated records (with rows left unfilled), and against the
template's own count, COUNT(分值)−COUNT(得分). On a half-filled form recalculated by LibreOffice, the workbook's
校验提示 and live 综述, the Python result and the Word report say the same count.
"""

from __future__ import annotations

import copy
import io
import re
from pathlib import Path

import docx
import gen
import pytest
from test_report_docx import PARTLY_FILLED, example

from xlsx_engine.forms.project.layout import project_layout
from xlsx_engine.forms.project.scoring import (
    PENDING,
    WAITING_CHECK,
    form_started,
    is_waiting,
    waiting_count,
)
from xlsx_engine.forms.project.sentences import intro_values
from xlsx_engine.forms.registry import open_template
from xlsx_engine.kernel.xlmath import is_number
from xlsx_engine.narrative.docx import report_docx
from xlsx_engine.narrative.engine import from_data_file, from_record, project_context
from xlsx_engine.ooxml.builder import TEMPLATE_DIR, template_filename
from xlsx_engine.ooxml.recalc import read_values, recalc_files

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "tests" / "data" / "seeds"
EXAMPLES = [ROOT / "examples" / name for name in ("2023-医保基金监管专项.yaml", "2023-城乡医疗救助补助资金.yaml")]


def _unfilled(seed: int):
    """A generated record with every third indicator's 实际完成值 and 完成等级 cleared (the rows that wait)."""
    rec = copy.deepcopy(gen.project(seed))
    for row in rec.indicators[::3]:
        row.actual = row.band = None
    return rec


def _inputs():
    out = [from_data_file(p) for p in sorted(SEEDS.glob("*.yaml"))] + [from_data_file(p) for p in EXAMPLES]
    for seed in range(12):
        for rec in (gen.project(seed), _unfilled(seed)):
            out.append(from_record(rec, project_layout(rec.profile_id).profile))
    return out


def test_every_place_that_counts_the_waiting_rows_agrees_with_the_predicate(tmp_path):
    inputs = _inputs() + [example(tmp_path, *PARTLY_FILLED)]
    seen = set()
    for inp in inputs:
        rec, r, p = inp.record, inp.result, inp.profile
        waits = [is_waiting(row, res.score) for row, res in zip(rec.indicators, r.indicators)]
        n = sum(waits)
        seen.add(n > 0)
        assert waiting_count(rec, r.indicators) == n
        # the template's count, COUNT(分值)-COUNT(得分), taken over the same cells
        assert sum(is_number(row.weight) for row in rec.indicators) - sum(is_number(x.score) for x in r.indicators) == n
        weighted = any(is_number(row.weight) for row in rec.indicators)
        assert (f"{n}行指标的实际完成值或完成等级" in r.pending) == (weighted and n > 0)
        assert (f"{WAITING_CHECK[0]}{n}{WAITING_CHECK[1]}" in r.checks) == (form_started(rec) and n > 0)
        if n:
            assert r.total == PENDING and r.grade == PENDING
        assert intro_values(rec, r, p)["waiting"] == n
        ctx, _ = project_context(inp)
        assert ctx["result"]["waiting"] == n
        assert (ctx["result"]["indicator_score"] == PENDING) == (n > 0)
        # each indicator as the report lists it (active rows); the report's old test: weighted, not scored
        active = [w for w, row in zip(waits, rec.indicators) if any(v not in (None, "") for v in
                                                                      (row.name, row.weight, row.target, row.actual))]
        assert [i["waiting"] for i in ctx["indicators"]] == active
        assert [i["waiting"] for i in ctx["indicators"]] == [i["weight"] is not None and i["score"] is None
                                                              for i in ctx["indicators"]]
        for g in ctx["groups"]:
            assert (g["score"] == PENDING) == any(i["waiting"] for i in g["indicators"]), g["name"]
    assert seen == {True, False}          # both kinds of form are in the sample


@pytest.mark.libreoffice
def test_half_filled_form_workbook_python_and_word_report_say_the_same_count(tmp_path, soffice):
    inp = example(tmp_path, *PARTLY_FILLED)       # the two 效益指标 without 实际完成值
    rec, r = inp.record, inp.result
    n = waiting_count(rec, r.indicators)
    assert n == 2 and r.total == PENDING
    waiting_groups = {row.level1 for row, res in zip(rec.indicators, r.indicators) if is_waiting(row, res.score)}
    assert waiting_groups == {"效益指标"}

    # the workbook, recalculated by LibreOffice from the typed inputs alone
    layout = project_layout(inp.profile.id)
    filled = tmp_path / "filled.xlsx"
    open_template(TEMPLATE_DIR / template_filename(layout)).fill_to(rec, filled)
    out = recalc_files([filled], tmp_path / "lo", strip_cached=True, soffice=soffice)[filled]
    texts = [v for v in read_values(out)[layout.sheet].values() if isinstance(v, str)]
    checks = [int(m.group(1)) for t in texts for m in [re.search(r"尚有(\d+)行指标未填实际完成值或完成等级，总分待填报", t)] if m]
    live = [int(m.group(1)) for t in texts for m in [re.search(r"尚有(\d+)个指标未填实际完成值或完成等级", t)] if m]
    assert checks == [n] and live == [n]
    assert "总分待填报（资金、绩效指标或目标自评分尚未填齐，填齐后自动计算）。" in "".join(texts)

    # the Word report: the count in words, the waiting group's subtotal, the 总分 and the 绩效指标合计
    d = docx.Document(io.BytesIO(report_docx(inp)[0]))
    text = "\n".join(p.text for p in d.paragraphs)
    assert "尚有两个指标未填实际完成值或完成等级，得分待填报" in text
    headings = [p.text for p in d.paragraphs if p.style.name.startswith("Heading")]
    groups = [h for h in headings if re.match(r"\d+\.(产出|效益|满意度)指标（", h)]
    assert {h.split(".")[1].split("（")[0] for h in groups if h.endswith("得分待填报）")} == waiting_groups
    assert "经自评，项目总分待填报" in text
    table = next(t for t in d.tables if t.rows[0].cells[0].text == "一级指标")
    total_row = next([c.text for c in row.cells] for row in table.rows if row.cells[0].text == "绩效指标合计")
    assert total_row[6] == PENDING
