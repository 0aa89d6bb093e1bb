"""Start-up: a command imports only what it needs (issue 16).

Every ribbon click of the add-in and every ``jxzp`` command starts a fresh Python; openpyxl (with numpy)
and jinja2 cost a quarter of a second there. Each case runs in a fresh interpreter and lists which of
those heavy packages ended up in ``sys.modules``. (Timings are in ``bench/bench_startup.py``, not here.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import gen
import pytest

from xlsx_engine.forms.registry import open_template

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("numpy", "openpyxl", "jinja2", "docx", "docxtpl", "xlwings", "importlib.metadata")

PROBE = """
import contextlib, io, json, sys
{body}
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)), file=sys.stderr)
"""


def loaded(body: str) -> tuple[list[str], str]:
    """(heavy modules in sys.modules after running ``body`` in a fresh interpreter, its stdout)."""
    proc = subprocess.run([sys.executable, "-c", PROBE.format(body=body, heavy=HEAVY)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stderr.strip().splitlines()[-1]), proc.stdout


def run_cli(*argv: str) -> str:
    return ("from xlsx_engine.cli.main import main\n"
            f"code = main({list(argv)!r})\n"
            "assert code in (0, 1), code\n")


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("startup") / "自评表.xlsx"
    open_template(ROOT / "templates" / "xmzc-national.xlsx").fill_to(gen.project(3, "national"), path)
    return path


def test_importing_the_cli_loads_nothing_heavy():
    mods, _ = loaded("import xlsx_engine.cli.main")
    assert mods == []


def test_help_loads_nothing_heavy_but_lists_every_command_and_the_addin():
    mods, out = loaded(run_cli("--help"))
    assert mods == ["importlib.metadata"]            # plugins are looked up to list them
    for command in ("score", "fill", "check", "narrative", "narrative-dept", "review", "bulk", "collect", "addin"):
        assert f"  {command} " in out, command


def test_score_loads_neither_openpyxl_numpy_nor_jinja2(filled):
    mods, out = loaded(run_cli("score", str(filled)))
    assert "总分" in out and "不一致" not in out
    assert mods == []


def test_an_addin_command_is_still_found(filled):
    mods, out = loaded(run_cli("addin", "list"))
    assert "重新计算" in out
    assert "importlib.metadata" in mods and "xlwings" not in mods


def test_the_ribbon_whitelist_loads_nothing_heavy():
    """What RunPython imports before xlwings itself: the registry and every entry point's module."""
    mods, _ = loaded("import jxzp_addin.registry as registry\nassert 'recalculate' in registry.entry_points()")
    assert mods == []


@pytest.mark.parametrize("module", ["xlsx_engine.integrity.tamper", "xlsx_engine.integrity.checks",
                                    "xlsx_engine.bureau.bulk", "xlsx_engine.bureau.master"])
def test_what_recalculate_check_and_bulk_import_loads_nothing_heavy(module):
    mods, _ = loaded(f"import {module}")
    assert mods == []
