#!/usr/bin/env python3
"""Benchmark: rendering the Word 自评报告 (and the 综述 text) of one project.

Run from the repository root:

    PYTHONPATH=. python3 bench/bench_narrative.py                # table
    PYTHONPATH=. python3 bench/bench_narrative.py --n 500 --json
    PYTHONPATH=. python3 bench/bench_narrative.py --data tests/data/seeds/seed004.yaml --workbook

What is timed (one sample = one finished report):

* docx/mem     ``report_docx(input)``: build the context from the scored record, render the 综述 text
               template, render the docxtpl Word template (cover, tables, 综述), save the .docx to memory
* docx/disk    the same, then the product's atomic write (temporary file, fsync, rename)
* summary/text ``Narrator.summary(input).text()``: the 综述 alone as plain text
* multi/docx   the multi-project report of ``--multi`` data files (default: seed 003's two projects)

The input is scored once before timing (``from_data_file``; with ``--workbook`` it is read back from a
workbook filled from the data file, as ``jxzp narrative x.xlsx`` does). Target: median ≤ 50 ms per
.docx report. This is a report, not a test: nothing here asserts on a time.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from xlsx_engine.forms.registry import open_template
from xlsx_engine.narrative.docx import multi_docx, report_docx, write_docx  # noqa: E402
from xlsx_engine.narrative.engine import Narrator, from_data_file, from_workbook  # noqa: E402

DEFAULT_DATA = ROOT / "examples" / "2023-城乡医疗救助补助资金.yaml"
SEEDS = ROOT / "tests" / "data" / "seeds"
DEFAULT_MULTI = [SEEDS / "seed003-p1.yaml", SEEDS / "seed003-p2.yaml"]
TARGET_MS = 50.0


def run_timed(fn: Callable[[int], object], n: int, warmup: int) -> list[float]:
    for i in range(warmup):
        fn(-1 - i)
    gc.collect()
    gc.disable()
    samples = []
    try:
        for i in range(n):
            t0 = time.perf_counter()
            fn(i)
            samples.append((time.perf_counter() - t0) * 1000.0)
    finally:
        gc.enable()
    return samples


def summarize(samples: list[float]) -> dict:
    s = sorted(samples)
    return {"n": len(s), "median_ms": statistics.median(s), "p90_ms": s[min(len(s) - 1, int(0.9 * len(s)))],
            "mean_ms": statistics.fmean(s), "min_ms": s[0], "max_ms": s[-1],
            "per_second": 1000.0 / statistics.median(s)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Render N Word 自评报告 and print the median time per report.")
    ap.add_argument("--n", type=int, default=100, help="timed reports per variant (default 100)")
    ap.add_argument("--warmup", type=int, default=5, help="untimed renders before each loop (default 5)")
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="data file of the single-project report")
    ap.add_argument("--multi", nargs="*", default=[str(p) for p in DEFAULT_MULTI],
                    help="data files of the multi-project report")
    ap.add_argument("--workbook", action="store_true", help="read the project back from a filled workbook first")
    ap.add_argument("--json", action="store_true", help="print JSON only")
    args = ap.parse_args(argv)

    extra = {"报告日期": "2024-03-31"}
    inp = from_data_file(args.data, extra=extra)
    with tempfile.TemporaryDirectory(prefix="jxzp-bench-") as tmp:
        if args.workbook:
            from xlsx_engine.forms.project.layout import project_layout
            from xlsx_engine.ooxml.builder import template_filename
            tpl = open_template(ROOT / "templates" / template_filename(project_layout(inp.profile.id)))
            path = Path(tmp) / "wb.xlsx"
            tpl.fill_to(inp.record, path)
            inp = from_workbook(path, extra=extra)
        multi_inputs = [from_data_file(p) for p in args.multi]
        narrator = Narrator()
        out = Path(tmp) / "report.docx"
        variants = {
            "docx/mem": lambda i: report_docx(inp, narrator=narrator),
            "docx/disk": lambda i: write_docx(out, report_docx(inp, narrator=narrator)[0]),
            "summary/text": lambda i: narrator.summary(inp).text(),
        }
        if len(multi_inputs) > 1:
            variants["multi/docx"] = lambda i: multi_docx(multi_inputs, narrator=narrator, info=extra)
        size = len(report_docx(inp, narrator=narrator)[0])
        results = {name: summarize(run_timed(fn, args.n, args.warmup)) for name, fn in variants.items()}

    report = {"project": inp.name, "docx_bytes": size, "target_ms": TARGET_MS, "results": results,
              "python": platform.python_version(), "machine": platform.machine(), "platform": platform.platform()}
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    print(f"项目 project: {inp.name}（.docx {size / 1024:.1f} KiB）  N={args.n}")
    print(f"{'variant':<14}{'median':>10}{'p90':>10}{'mean':>10}{'min':>10}{'max':>10}{'reports/s':>12}")
    for name, r in results.items():
        print(f"{name:<14}{r['median_ms']:>8.2f}ms{r['p90_ms']:>8.2f}ms{r['mean_ms']:>8.2f}ms"
              f"{r['min_ms']:>8.2f}ms{r['max_ms']:>8.2f}ms{r['per_second']:>12.1f}")
    med = results["docx/mem"]["median_ms"]
    print(f"中位数 median per .docx report: {med:.2f} ms（目标 target ≤ {TARGET_MS:.0f} ms："
          f"{'达到 met' if med <= TARGET_MS else '未达到 missed'}）")
    return 0


if __name__ == "__main__":
    sys.exit(main())
