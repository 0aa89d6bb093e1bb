#!/usr/bin/env python3
"""Report: in how many formula cells LibreOffice and Gnumeric disagree with the Python twins (issue #11).

Run from the repository root (needs ``soffice`` and ``ssconvert``; about 3 minutes on 2 cores):

    PYTHONPATH=.:tests python3 bench/engine_agreement.py              # both engines
    PYTHONPATH=.:tests python3 bench/engine_agreement.py gnumeric     # one engine

The workbooks are those the tests recalculate: 320 generated projects of every profile plus the three
seeds (tests/test_libreoffice.py), 60 generated 部门整体 forms plus seed 002 (tests/test_department.py),
48 generated 湖南项目 forms plus seed 000 (tests/test_hunan_project.py). Each is filled, its cached values
removed, recalculated by the engine, and every formula cell compared with the Python twin: numbers within
0.005, texts exactly (``raw``) and up to the spelling of numbers inside texts (``same``, as the tests do:
Gnumeric writes ``50.37`` as ``50.369999999999999999`` when it turns a number into text). The formula
shapes that differ most are listed. This is a report, not a test: nothing here asserts.
"""

from __future__ import annotations

import collections
import re
import sys
import tempfile
from pathlib import Path

import gen
import test_department as dept
import test_hunan_project as hunan
from engines import same_cell

from xlsx_engine.forms.project.layout import project_layout
from xlsx_engine.forms.project.profile import list_profiles
from xlsx_engine.forms.project.record import load_data
from xlsx_engine.forms.registry import open_template
from xlsx_engine.ooxml.builder import TEMPLATE_DIR, template_filename
from xlsx_engine.ooxml.recalc import read_values, recalc_files, recalc_files_gnumeric

ENGINES = {"libreoffice": recalc_files, "gnumeric": recalc_files_gnumeric}
SEED_PROFILES = {"seed003-p1": "hubei-wuhan", "seed003-p2": "hubei-wuhan", "seed004": "ningxia-jinfeng"}


def exact(python, engine) -> bool:
    if isinstance(python, bool) or isinstance(engine, bool):
        return python == engine
    if isinstance(python, (int, float)) and isinstance(engine, (int, float)):
        return abs(python - engine) < 0.005
    return (python if python is not None else "") == (engine if engine is not None else "")


def workbooks(folder: Path) -> list:
    """(path, template, record) of every workbook the engine tests recalculate."""
    items = []
    projects = {pid: open_template(TEMPLATE_DIR / template_filename(project_layout(pid))) for pid in list_profiles()}
    for seed in range(320):
        rec = gen.project(seed)
        items.append((folder / f"p{seed:04d}.xlsx", projects[rec.profile_id], rec))
    for seed_file in sorted((Path("tests") / "data" / "seeds").glob("*.yaml")):
        tpl = projects[SEED_PROFILES[seed_file.stem]]
        items.append((folder / f"{seed_file.stem}.xlsx", tpl, load_data(seed_file, tpl.profile)))
    tpl = open_template(dept.TEMPLATE)
    items += [(folder / f"d{seed:03d}.xlsx", tpl, dept.generated(seed)) for seed in range(60)]
    items.append((folder / "d-seed002.xlsx", tpl, dept.load_dept_data(dept.DATA / "seed002.yaml", dept.P)))
    tpl = open_template(hunan.TEMPLATE)
    items += [(folder / f"h{seed:03d}.xlsx", tpl, hunan.generated(seed)) for seed in range(48)]
    items.append((folder / "h-seed000.xlsx", tpl,
                  hunan.complete_record(hunan.load_hnxm_data(hunan.SEED, hunan.P), hunan.P)))
    for path, tpl, rec in items:
        tpl.fill_to(rec, path)
    return items


def main(names: list[str]) -> None:
    folder = Path(tempfile.mkdtemp(prefix="engine_agreement_"))
    items = workbooks(folder)
    for name in names or list(ENGINES):
        out = ENGINES[name]([p for p, _, _ in items], folder / name)
        total, raw, same = collections.Counter(), collections.Counter(), collections.Counter()
        shapes = collections.Counter()
        for path, tpl, rec in items:
            values = read_values(out[path])[tpl.layout.sheet]
            padded, result = tpl.evaluate(rec)
            form = tpl.layout.template_id
            for ref, want in tpl.layout.formula_values(result, padded).items():
                got = values.get(ref)
                total[form] += 1
                raw[form] += not exact(want, got)
                same[form] += not same_cell(want, got)
                if not exact(want, got):
                    shapes[re.sub(r"\$?[A-Z]{1,3}\$?\d+", "R", tpl.layout.cells[ref].formula)[:100]] += 1
        print(f"{name}: {sum(raw.values())} of {sum(total.values())} formula cells differ (raw), "
              f"{sum(same.values())} up to number spelling")
        for form in total:
            print(f"  {form:26s} raw {raw[form]:5d}  same {same[form]:5d}  of {total[form]}")
        for shape, n in shapes.most_common(10):
            print(f"  {n:5d}  {shape}")


if __name__ == "__main__":
    main(sys.argv[1:])
