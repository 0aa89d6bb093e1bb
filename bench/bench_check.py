#!/usr/bin/env python3
"""Benchmark: ``jxzp check`` on a folder of 1,000 filled workbooks (issue #4: ≤ 10 s on this machine).

Run from the repository root:

    PYTHONPATH=. python3 bench/bench_check.py                  # 1,000 workbooks, table (中文 + English)
    PYTHONPATH=. python3 bench/bench_check.py --n 200 --repeat 1
    PYTHONPATH=. python3 bench/bench_check.py --json           # JSON only, on stdout

What is measured (the workbooks are written once, untimed, into a temporary folder):

* cli      ``python -m xlsx_engine.cli.check check <folder> --json`` in a fresh process, wall clock:
           interpreter start, imports, finding the files, checking every one (2 worker processes),
           writing the JSON report. This is the number the issue's ≤ 10 s is about.
* api/2    ``checks.check_paths([folder])`` in this process (default: 2 worker processes).
* api/1    the same with ``workers=1`` (one process), for reference.

The workbooks are filled from the examples and the seed data files with varied figures (every profile,
some with rule findings, most clean), as units return them. This is a report, not a test: nothing here
asserts on a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from xlsx_engine.forms.project.record import record_from_data
from xlsx_engine.forms.registry import open_template
from xlsx_engine.integrity.checks import check_paths
from xlsx_engine.kernel.datafile import read_data_file
from xlsx_engine.kernel.findings import ERROR

SOURCES = [ROOT / "examples" / "2023-城乡医疗救助补助资金.yaml", ROOT / "examples" / "2023-医保基金监管专项.yaml",
           ROOT / "tests" / "data" / "seeds" / "seed003-p1.yaml", ROOT / "tests" / "data" / "seeds" / "seed004.yaml"]


def make_folder(folder: Path, n: int, seed: int = 4) -> dict[str, int]:
    """Write ``n`` filled workbooks into ``folder``; returns how many per profile."""
    rng = random.Random(seed)
    bases = []
    for src in SOURCES:
        data = read_data_file(src)
        tpl = open_template(ROOT / "templates" / f"xmzc-{data.get('评分规则', 'national')}.xlsx")
        bases.append((data, tpl))
    counts: dict[str, int] = {}
    for i in range(n):
        data, tpl = bases[i % len(bases)]
        rec = record_from_data(data, tpl.profile)
        rec.project = f"{rec.project}（单位{i:04d}）"
        for line in rec.funds:
            if isinstance(line.spent, float) and isinstance(line.budget, float):
                line.spent = round(line.budget * rng.uniform(0.6, 1.05), 2)
        for row in rec.indicators:
            if isinstance(row.actual, float) and rng.random() < 0.3:
                row.actual = round(row.actual * rng.uniform(0.8, 1.2), 2)
        sub = folder / f"单位{i // 100:02d}"
        sub.mkdir(exist_ok=True)
        tpl.fill_to(rec, sub / f"自评表{i:04d}.xlsx")
        counts[tpl.profile.id] = counts.get(tpl.profile.id, 0) + 1
    return counts


def time_cli(folder: Path) -> tuple[float, dict]:
    env = {k: v for k, v in os.environ.items() if k != "JXZP_DEBUG"}
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "xlsx_engine.cli.check", "check", str(folder), "--json"],
                          capture_output=True, env=env, timeout=600)
    elapsed = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"check failed ({proc.returncode}): {proc.stderr.decode('utf-8', 'replace')[-2000:]}")
    report = json.loads(proc.stdout.decode("utf-8"))
    return elapsed, report["汇总"]


def time_api(folder: Path, workers: int | None) -> tuple[float, int, int]:
    t0 = time.perf_counter()
    reports = check_paths([folder], workers=workers)
    elapsed = time.perf_counter() - t0
    return elapsed, len(reports), sum(1 for r in reports if r.count(ERROR))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000, help="workbooks in the folder (default 1000)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="timed runs of each variant (default 3; the median is reported)")
    ap.add_argument("--no-serial", action="store_true", help="skip the one-process variant")
    ap.add_argument("--json", action="store_true", help="print only JSON")
    ap.add_argument("--tmpdir", default=None, help="parent of the temporary folder")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="jxzp-bench-check-", dir=args.tmpdir) as tmp:
        folder = Path(tmp) / "returned"
        folder.mkdir()
        t0 = time.perf_counter()
        counts = make_folder(folder, args.n)
        make_s = time.perf_counter() - t0
        size_mb = sum(p.stat().st_size for p in folder.rglob("*.xlsx")) / 1e6
        cli_runs, api2_runs, api1_runs = [], [], []
        summary = None
        for _ in range(args.repeat):
            s, summary = time_cli(folder)
            cli_runs.append(s)
            s, files, with_errors = time_api(folder, None)
            api2_runs.append(s)
            if not args.no_serial:
                s, _f, _e = time_api(folder, 1)
                api1_runs.append(s)
    result = {
        "n": args.n, "profiles": counts, "folder_mb": round(size_mb, 1), "make_s": round(make_s, 2),
        "cli_s": {"median": round(statistics.median(cli_runs), 3), "runs": [round(x, 3) for x in cli_runs]},
        "api_2_workers_s": {"median": round(statistics.median(api2_runs), 3), "runs": [round(x, 3) for x in api2_runs]},
        "api_1_worker_s": ({"median": round(statistics.median(api1_runs), 3), "runs": [round(x, 3) for x in api1_runs]}
                           if api1_runs else None),
        "report": summary, "files_with_errors": with_errors,
        "env": {"python": platform.python_version(), "cpus": os.cpu_count(), "machine": platform.machine()},
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    per = lambda s: s / args.n * 1000  # noqa: E731
    print(f"jxzp check：{args.n} 个已填报的自评表（{size_mb:.1f} MB，规则 {counts}），生成用时 {make_s:.1f} s（不计时）")
    print(f"{'变体 variant':<34}{'中位数 median s':>16}{'ms/个':>10}   runs")
    rows = [("命令行 cli（新进程，含启动，2 进程）", cli_runs), ("API check_paths（2 进程）", api2_runs)]
    if api1_runs:
        rows.append(("API check_paths（1 进程）", api1_runs))
    for label, runs in rows:
        med = statistics.median(runs)
        print(f"{label:<34}{med:>16.2f}{per(med):>10.2f}   {', '.join(f'{x:.2f}' for x in runs)}")
    print(f"报告：{summary}；含错误的文件 {with_errors} 个（数据本身的问题，如缺偏差原因、未填完成值）")
    print(f"目标 target: ≤ 10 s for 1,000 workbooks → 命令行 {statistics.median(cli_runs):.2f} s")


if __name__ == "__main__":
    main()
