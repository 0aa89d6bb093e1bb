#!/usr/bin/env python3
"""Benchmark: how long a command takes to start, against a bare ``python -c pass``.

Run from the repository root:

    python3 bench/bench_startup.py              # table
    python3 bench/bench_startup.py --runs 30 --json

Each case is a fresh interpreter (as a console script or a ribbon click starts one), run ``--runs`` times,
interleaved with the other cases so that a busy moment on the machine hits all of them alike. Byte code is
compiled once beforehand into a private cache (``PYTHONPYCACHEPREFIX``), as an installed package has it.
Reported per case: the median wall time, its excess over bare Python (what the command itself costs)
and the ratio to bare Python, plus the median CPU time (user + system; less sensitive to other
processes on the machine). This is a report, not a test: nothing here asserts on a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CLI = "import sys; from xlsx_engine.cli.main import main; sys.exit(main())"   # what the jxzp script runs


def cases(workbook: Path) -> dict[str, list[str]]:
    py = sys.executable
    return {
        "python -c pass": [py, "-c", "pass"],
        "jxzp --help": [py, "-c", CLI, "--help"],
        "jxzp score 自评表.xlsx": [py, "-c", CLI, "score", str(workbook)],
        "加载项白名单 ribbon registry": [py, "-c", "import jxzp_addin.registry as r; r.entry_points()"],
    }


def _pad(text: str, width: int) -> str:
    """``text`` left-aligned in ``width`` terminal columns (CJK characters take two)."""
    return text + " " * max(0, width - sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text))


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) for one run."""
    before = os.times()
    t0 = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    after = os.times()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{argv[2:]} failed: {proc.stderr.decode(errors='replace')}")
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15, help="runs per case (default 15)")
    ap.add_argument("--json", action="store_true", help="print JSON instead of the table")
    args = ap.parse_args(argv)

    from xlsx_engine.forms.project.record import load_data
    from xlsx_engine.forms.registry import open_template

    with tempfile.TemporaryDirectory(prefix="jxzp-bench-startup-") as tmp:
        tmp = Path(tmp)
        workbook = tmp / "自评表.xlsx"
        tpl = open_template(ROOT / "templates" / "xmzc-national.xlsx")
        tpl.fill_to(load_data(ROOT / "examples" / "2023-城乡医疗救助补助资金.yaml", tpl.profile), workbook)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        todo = cases(workbook)
        for cmd in todo.values():          # compile byte code, warm the file cache
            timed(cmd, env)
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in todo}
        for _ in range(args.runs):
            for name, cmd in todo.items():
                samples[name].append(timed(cmd, env))

    bare = statistics.median(w for w, _ in samples["python -c pass"])
    bare_cpu = statistics.median(c for _, c in samples["python -c pass"])
    results = {}
    for name, runs in samples.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        results[name] = {"runs": len(runs), "median_s": wall, "above_bare_s": wall - bare,
                         "ratio_to_bare": wall / bare, "cpu_median_s": cpu, "cpu_above_bare_s": cpu - bare_cpu}
    report = {"benchmark": "startup", "python": platform.python_version(), "cpu_count": os.cpu_count(),
              "loadavg": [round(x, 2) for x in os.getloadavg()], "results": results}
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    print(f"\n启动基准 Start-up — Python {report['python']}, {report['cpu_count']} CPU, "
          f"load avg {report['loadavg']}, {args.runs} runs each (median)")
    print("  " + _pad("命令 command", 32) + "墙钟 wall s   多于裸 Python above bare s   倍数 ratio   CPU s   CPU above")
    for name, r in results.items():
        print("  " + _pad(name, 32) + f"{r['median_s']:>11.3f}{r['above_bare_s']:>29.3f}{r['ratio_to_bare']:>12.1f}×"
              f"{r['cpu_median_s']:>8.3f}{r['cpu_above_bare_s']:>12.3f}")
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
