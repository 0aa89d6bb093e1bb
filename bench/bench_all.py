#!/usr/bin/env python3
"""Every performance figure of issue 16 in one run, each as a ratio against its floor or baseline.

    python3 bench/bench_all.py            # start-up and fill (about a minute)
    python3 bench/bench_all.py --bulk     # also bulk and collect at 1,000 / 10,000 projects (10-20 minutes)

Runs ``bench_startup.py``, ``bench_fill.py`` and (``--bulk``) ``bench_bulk.py`` with ``--json`` in fresh
processes and prints one table: the figure, what it is compared with, the ratio, and the goal it is
measured against. A report, not a test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent


def run(script: str, *args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, str(BENCH / script), *args, "--json"], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bulk", action="store_true", help="also run bench_bulk.py (1,000 and 10,000 projects)")
    ap.add_argument("--runs", type=int, default=15, help="start-up runs per command (default 15)")
    args = ap.parse_args(argv)

    rows: list[tuple[str, str, str, str, str]] = []   # figure, value, compared with, ratio, goal
    startup = run("bench_startup.py", "--runs", str(args.runs))["results"]
    bare = startup["python -c pass"]
    for name, r in startup.items():
        if name == "python -c pass":
            continue
        rows.append((f"启动 {name}", f"{r['median_s']:.3f} s（CPU {r['cpu_median_s']:.3f} s）",
                     f"裸 Python {bare['median_s']:.3f} s（CPU {bare['cpu_median_s']:.3f} s）",
                     f"{r['ratio_to_bare']:.1f}×，多 {r['above_bare_s']:.3f} s",
                     "多于裸 Python ≤ 0.2 s" if "help" in name else ""))
    fill = run("bench_fill.py", "--n", "300", "--n-baseline", "20", "--no-disk")
    res = fill["results"]
    ours = res["ours_mem"]["median_ms"]
    rows.append(("填表 fill（内存）", f"{ours:.2f} ms", f"下限 raw zip {res['floor_raw_zip']['median_ms']:.2f} ms",
                 f"{fill['ratio_ours_over_floor']['raw_zip']:.1f}×", "≤ 1.5 ms"))
    rows.append(("", "", f"下限 string replace {res['floor_string_replace']['median_ms']:.2f} ms",
                 f"{fill['ratio_ours_over_floor']['string_replace']:.1f}×", ""))
    rows.append(("", "", f"openpyxl {res['baseline_mem']['median_ms']:.1f} ms",
                 f"快 {fill['ratio_baseline_over_ours']['mem']:.0f}×", ""))
    if args.bulk:
        bulk = run("bench_bulk.py")
        runs, median = bulk["runs"], bulk["median_seconds"]
        one, two = median["1"], median["2"]
        rows.append((f"批量生成 bulk {bulk['n']} 个（中位数）", f"jobs=2 {two:.2f} s", f"jobs=1 {one:.2f} s",
                     f"{one / two:.2f}×", "≥ 1.8×"))
        per = runs["1"]["seconds"] / runs["1"]["n"] * 1000
        rows.append(("", f"{per:.2f} ms/个", f"openpyxl {bulk['openpyxl_ms_per_workbook']:.1f} ms/个",
                     f"快 {bulk['openpyxl_ms_per_workbook'] / per:.0f}×", ""))
        mem = bulk["memory"]
        sizes = sorted(mem, key=int)
        if len(sizes) >= 2:
            lo, hi = mem[sizes[0]]["peak_rss_mb"], mem[sizes[-1]]["peak_rss_mb"]
            rows.append((f"峰值 RSS bulk {sizes[-1]} 个", f"{hi:.0f} MB", f"{sizes[0]} 个 {lo:.0f} MB", f"{hi / lo:.2f}×",
                         "≤ 1.3×"))
        cmem = bulk["collect_memory"]
        if len(sizes) >= 2:
            lo, hi = cmem[sizes[0]]["peak_rss_mb"], cmem[sizes[-1]]["peak_rss_mb"]
            rows.append((f"峰值 RSS collect {sizes[-1]} 个（含汇总表）", f"{hi:.0f} MB", f"{sizes[0]} 个 {lo:.0f} MB",
                         f"{hi / lo:.2f}×", "≤ 1.3×"))
        col, floor = bulk["collect"], bulk["collect_floor"]
        fl = floor["seconds"]
        for jobs, goal in (("1", "≤ 4 s"), ("2", "≤ 2.5 s")):
            r = col[jobs]
            rows.append((f"回收 collect {r['n']} 个" if jobs == "1" else "",
                         f"jobs={jobs} {r['seconds']:.2f} s（CPU {r['cpu_seconds']:.2f} s）",
                         f"下限 只读命名单元格 {fl:.2f} s（CPU {floor['cpu_seconds']:.2f} s）",
                         f"{r['seconds'] / fl:.1f}×（CPU {r['cpu_seconds'] / floor['cpu_seconds']:.1f}×）", goal))

    print(f"\n性能汇总 Performance summary — {os.cpu_count()} CPU, load avg "
          f"{[round(x, 2) for x in os.getloadavg()]}, Python {sys.version.split()[0]}, openpyxl {openpyxl.__version__}")
    widths = (36, 34, 40, 22)
    print("  " + "".join(_pad(h, w) for h, w in zip(("项目 figure", "数值 value", "对照 floor / baseline",
                                                       "倍数 ratio"), widths)) + "目标 goal")
    for row in rows:
        print("  " + "".join(_pad(c, w) for c, w in zip(row[:4], widths)) + row[4])
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
