"""Proof that the templates' formulas and the Python scorer agree, in two independent engines.

Hundreds of generated projects (every profile, every indicator kind and edge) are
filled, their cached values removed, recalculated by LibreOffice headless in one
batch and by Gnumeric (``ssconvert --recalc``), and every formula cell each engine
computed is compared with the value the Python scorer wrote. Then the recalculated
files are read back by name and scored again.
"""

from __future__ import annotations

from pathlib import Path

import gen
import pytest
from engines import same_cell

from xlsx_engine.forms.project.layout import project_layout
from xlsx_engine.forms.project.profile import list_profiles
from xlsx_engine.forms.project.readback import RESULT_NAMES
from xlsx_engine.forms.project.record import load_data
from xlsx_engine.forms.registry import open_template, read_project
from xlsx_engine.ooxml.builder import TEMPLATE_DIR, template_filename
from xlsx_engine.ooxml.recalc import read_values
from xlsx_engine.ooxml.sheetmodel import FORMULA

pytestmark = pytest.mark.libreoffice

N_PROJECTS = 320
SEEDS = Path(__file__).parent / "data" / "seeds"


@pytest.fixture(scope="module")
def batch(engine, tmp_path_factory):
    """Fill N_PROJECTS generated projects plus the seeds, recalc them all with ``engine``."""
    src = tmp_path_factory.mktemp("filled")
    out = tmp_path_factory.mktemp("recalculated")
    templates = {pid: open_template(TEMPLATE_DIR / template_filename(project_layout(pid))) for pid in list_profiles()}
    items = []
    for seed in range(N_PROJECTS):
        rec = gen.project(seed)
        path = src / f"p{seed:04d}.xlsx"
        templates[rec.profile_id].fill_to(rec, path)
        items.append((path, templates[rec.profile_id], rec))
    for seed_file in sorted(SEEDS.glob("*.yaml")):
        pid = {"seed003-p1": "hubei-wuhan", "seed003-p2": "hubei-wuhan", "seed004": "ningxia-jinfeng"}[seed_file.stem]
        rec = load_data(seed_file, templates[pid].profile)
        path = src / f"{seed_file.stem}.xlsx"
        templates[pid].fill_to(rec, path)
        items.append((path, templates[pid], rec))
    mapping = engine.recalc([p for p, _, _ in items], out)
    return [(path, mapping[path], tpl, rec) for path, tpl, rec in items]


def test_batch_covers_every_profile_and_kind(batch):
    profiles = {tpl.profile.id for _, _, tpl, _ in batch}
    assert profiles == set(list_profiles())
    assert len(batch) >= 300
    ops = {row.op for *_, rec in batch for row in rec.indicators}
    assert {"≥", "＞", "＝", "≤", "＜", "定性", None} <= ops


def test_every_formula_cell_equals_python(batch, engine):
    mismatches = []
    checked = 0
    for filled, recalculated, tpl, rec in batch:
        calc = read_values(recalculated)[tpl.layout.sheet]
        padded, result = tpl.evaluate(rec)
        expected = tpl.layout.formula_values(result, padded)
        for ref, value in expected.items():
            checked += 1
            got = calc.get(ref)
            if not same_cell(value, got, engine.name):
                mismatches.append(f"{filled.name} {ref}: python={value!r} {engine.name}={got!r} "
                                  f"formula={tpl.layout.cells[ref].formula[:120]}")
    assert checked > 300 * 70
    assert not mismatches, f"{engine.name}: {len(mismatches)} of {checked} formula cells differ, first: " \
        + "\n".join(mismatches[:10])


def test_named_results_read_back_from_recalculated_files(batch):
    """Read each recalculated file by its names, rescore it, compare with the engine's values."""
    for filled, recalculated, tpl, rec in batch[::7]:
        rb = read_project(recalculated)
        result = rb.evaluate()
        for name, get in RESULT_NAMES.items():
            assert same_cell(get(result), rb.cached[name]), (filled.name, name, get(result), rb.cached[name])
        scores = [r.score for r in result.indicators]
        assert all(same_cell(a, b) for a, b in zip(scores, rb.cached["得分"])), filled.name


def test_seeds_recalculate_to_published_totals(batch):
    totals = {}
    for filled, recalculated, tpl, rec in batch:
        if filled.stem.startswith("seed"):
            rb = read_project(recalculated)
            totals[filled.stem] = (rb.cached["总分"], rb.cached["评价等次"], rb.cached["资金得分"])
    assert totals["seed003-p1"] == (90.98, "优", 19.98)
    assert totals["seed003-p2"] == (92.84, "优", 19.84)
    assert totals["seed004"] == (98, "优", 10)


def test_cached_values_match_the_engine_without_recalc(batch):
    """The values the filler wrote are the ones each engine computes (readers that never recalc)."""
    for filled, recalculated, tpl, rec in batch[::11]:
        ours = read_values(filled)[tpl.layout.sheet]
        calc = read_values(recalculated)[tpl.layout.sheet]
        for ref, cell in tpl.layout.cells.items():
            if cell.role == FORMULA:
                assert same_cell(ours.get(ref), calc.get(ref)), (filled.name, ref)
