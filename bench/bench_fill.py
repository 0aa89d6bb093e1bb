#!/usr/bin/env python3
"""Benchmark: filling one 项目支出绩效自评表 — our XML-patching filler vs openpyxl load-fill-save.

Run from the repository root:

    PYTHONPATH=. python3 bench/bench_fill.py                 # table (中文 + English)
    PYTHONPATH=. python3 bench/bench_fill.py --json          # JSON only, on stdout
    PYTHONPATH=. python3 bench/bench_fill.py --n 500 --n-baseline 50 --json-out /tmp/bench.json

What is timed (one sample = one finished workbook; see bench/README.md):

* ours/mem   ``Template.fill_bytes(record)``   pad + score + formula twins + sheet XML + zip, in memory
* ours/disk  ``Template.fill_to(record, path)`` the same, then the product's atomic write (tmp file + rename)
* base/mem   openpyxl ``load_workbook(template)`` → set every input cell → ``save(BytesIO)``
* base/disk  openpyxl ``load_workbook(template)`` → set every input cell → ``save(path)``
* floors     what no filler can avoid, for the same finished workbook: *raw zip* = deflate the filled
             worksheet XML and assemble the zip from the template's pre-compressed members; *string
             replace* = the same after joining the template's XML pieces with the finished cell strings
             (values known in advance: no scoring, no formatting)
* deflate    the filled worksheet alone with zlib level 6 / 1, zlib-ng and isal (what the filler's choice
             rests on; see ``xlsx_engine/ooxml/zipwriter.py``)

The template is opened once (``Template.open``) and is *not* part of the per-workbook time
of ours; openpyxl has no equivalent, so its load is part of every baseline sample.
Both sides start from the same validated ``ProjectRecord``; the baseline's
``layout.input_values(layout.padded(record))`` is computed inside its timed loop too.

This is a report, not a test: nothing here asserts on a time.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
import zipfile
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:           # allow running without PYTHONPATH=.
    sys.path.insert(0, str(ROOT))

import openpyxl  # noqa: E402

from xlsx_engine.forms.project.record import load_data  # noqa: E402
from xlsx_engine.forms.registry import open_template
from xlsx_engine.ooxml.filler import Template, _RowTag, _Scale  # noqa: E402
from xlsx_engine.ooxml.zipwriter import Member, build_zip  # noqa: E402

DEFAULT_TEMPLATE = ROOT / "templates" / "xmzc-national.xlsx"
DEFAULT_DATA = ROOT / "examples" / "2023-城乡医疗救助补助资金.yaml"


# --------------------------------------------------------------------------- timing
def run_timed(fn: Callable[[int], object], n: int, warmup: int, disable_gc: bool) -> list[float]:
    """Call ``fn(i)`` ``warmup`` times untimed, then ``n`` times; return each call's time in ms."""
    for i in range(warmup):
        fn(-1 - i)
    samples: list[float] = []
    gc.collect()
    gc_was_enabled = gc.isenabled()
    if disable_gc:
        gc.disable()
    try:
        clock = time.perf_counter
        for i in range(n):
            t0 = clock()
            fn(i)
            samples.append((clock() - t0) * 1000.0)
    finally:
        if gc_was_enabled:
            gc.enable()
        gc.collect()
    return samples


def summarize(samples: list[float]) -> dict:
    if not samples:
        return {"n": 0}
    if len(samples) >= 2:
        p90 = statistics.quantiles(samples, n=10, method="inclusive")[-1]
    else:
        p90 = samples[0]
    return {"n": len(samples), "median_ms": statistics.median(samples), "p90_ms": p90,
            "mean_ms": statistics.fmean(samples), "min_ms": min(samples), "max_ms": max(samples),
            "workbooks_per_s": 1000.0 / statistics.median(samples)}


# --------------------------------------------------------------------------- the two contenders
def make_ours(template: Template, record, out_path: Path):
    def mem(_i: int) -> bytes:
        data, _result = template.fill_bytes(record)
        return data

    def disk(_i: int) -> None:
        template.fill_to(record, out_path)

    return mem, disk


def make_baseline(template: Template, record, out_path: Path):
    layout = template.layout
    template_path = str(template.path)
    sheet_name = layout.sheet

    def filled_workbook():
        values = layout.input_values(layout.padded(record))
        wb = openpyxl.load_workbook(template_path)
        ws = wb[sheet_name]
        for ref, value in values.items():
            ws[ref] = value
        return wb

    def mem(_i: int) -> bytes:
        buf = io.BytesIO()
        filled_workbook().save(buf)
        return buf.getvalue()

    def disk(_i: int) -> None:
        filled_workbook().save(out_path)

    return mem, disk


def make_floors(template: Template, record):
    """The raw-zip and string-replace floors (see the module doc); they use the filler's private parts."""
    sheet, _ = template.sheet_xml(record)
    rec, result = template.evaluate(record)
    values = template.layout.input_values(rec)
    values.update(template.layout.formula_values(result, rec))
    cells = [template._cell_xml(slot, values.get(slot.ref)) for slot in template._slots]
    # the worksheet's static parts as bytes (row tags and print scale as in the template, no page breaks)
    parts = [p if isinstance(p, (bytes, int)) else p.original if isinstance(p, _RowTag)
             else str(p.value).encode() if isinstance(p, _Scale) else b"" for p in template._parts]
    name = template._sheet_member

    def zipped(xml: bytes) -> bytes:
        filled = Member.deflate_fast(name, xml)
        return build_zip([m if m is not None else filled for m in template._members])

    def raw_zip(_i: int) -> bytes:
        return zipped(sheet)

    def string_replace(_i: int) -> bytes:
        return zipped(b"".join(cells[p] if isinstance(p, int) else p for p in parts))

    return raw_zip, string_replace, sheet


def deflaters(sheet: bytes) -> dict[str, Callable[[int], bytes]]:
    """The worksheet deflated by each available library (raw deflate, as in a zip)."""
    import zlib
    libs = [("zlib level 6", zlib, 6), ("zlib level 1", zlib, 1)]
    for label, module, attr in (("zlib-ng level 1", "zlib_ng", "zlib_ng"), ("isal level 1", "isal", "isal_zlib")):
        try:
            libs.append((label, getattr(__import__(module, fromlist=[attr]), attr), 1))
        except ImportError:
            pass

    def make(lib, level):
        def run(_i: int) -> bytes:
            comp = lib.compressobj(level, lib.DEFLATED, -15)
            return comp.compress(sheet) + comp.flush()
        return run
    return {label: make(lib, level) for label, lib, level in libs}


# --------------------------------------------------------------------------- functional side-check (untimed)
def cached_value(xlsx: bytes, sheet: str, ref: str):
    """What a non-recalculating reader (python-calamine, as pandas uses) sees in ``sheet!ref``."""
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:
        return "(python-calamine not installed)"
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string
    col, row = coordinate_from_string(ref)
    rows = CalamineWorkbook.from_filelike(io.BytesIO(xlsx)).get_sheet_by_name(sheet).to_python()
    try:
        value = rows[row - 1][column_index_from_string(col) - 1]
    except IndexError:
        return None
    return None if value == "" else value


def side_check(template: Template, record, ours: bytes, base: bytes) -> dict:
    layout = template.layout
    _rec, result = template.evaluate(record)
    total_ref = layout.names["总分"].split("!")[-1].replace("$", "")     # "'自评表'!$K$40" -> "K40"
    out = {"total_cell": f"{layout.sheet}!{total_ref}", "scorer_total": result.total}
    for name, data in (("ours", ours), ("baseline", base)):
        try:
            ok = zipfile.ZipFile(io.BytesIO(data)).testzip() is None
        except zipfile.BadZipFile:
            ok = False
        out[name] = {"bytes": len(data), "zip_ok": ok,
                     "cached_total_seen_by_calamine": cached_value(data, layout.sheet, total_ref)}
    return out


# --------------------------------------------------------------------------- environment
def environment() -> dict:
    import lxml
    env = {"python": platform.python_version(), "implementation": platform.python_implementation(),
           "platform": platform.platform(), "cpu_count": os.cpu_count(), "openpyxl": openpyxl.__version__,
           "lxml": lxml.__version__}
    try:
        env["loadavg_at_start"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=5)
        if head.returncode == 0:
            env["git"] = head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return env


# --------------------------------------------------------------------------- report
def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell(text: str, width: int, left: bool = False) -> str:
    gap = " " * max(0, width - _width(text))
    return text + gap if left else gap + text


def print_table(report: dict) -> None:
    r = report["results"]
    p = report["params"]
    print()
    print(f"填表基准 Fill benchmark — {Path(p['template']).name} × {Path(p['data']).name}")
    print(f"  Python {report['env']['python']}, openpyxl {report['env']['openpyxl']}, "
          f"{report['env']['cpu_count']} CPU, load avg {report['env'].get('loadavg_at_start')}, "
          f"git {report['env'].get('git', '?')}")
    print(f"  计时 timing: time.perf_counter, 每个样本 = 一个完整工作簿 one sample = one workbook; "
          f"预热 warm-up {p['warmup']} (ours) / {p['warmup_baseline']} (baseline); "
          f"GC {'在计时循环中关闭 disabled during timed loops' if p['gc_disabled'] else '保持开启 left enabled'}")
    print(f"  Template.open（一次 once, 不计入下表 not in per-workbook times）: {report['template_open_ms']:.1f} ms")
    print()
    widths = (36, 8, 18, 10, 10, 12)
    heads = ("方案 variant", "样本 n", "中位数 median ms", "P90 ms", "最小 min", "个/秒 wb/s")
    line = "  " + "".join(_cell(h, w, i == 0) for i, (h, w) in enumerate(zip(heads, widths)))
    print(line)
    print("  " + "-" * (_width(line) - 2))
    labels = {"ours_mem": "本引擎 ours fill_bytes（内存 mem）",
              "ours_disk": "本引擎 ours fill_to（磁盘 disk）",
              "floor_raw_zip": "下限 floor: raw zip",
              "floor_string_replace": "下限 floor: string replace",
              "baseline_mem": "openpyxl 基线 baseline（内存 mem）",
              "baseline_disk": "openpyxl 基线 baseline（磁盘 disk）"}
    labels.update({key: f"压缩工作表 deflate: {key[8:]}" for key in r if key.startswith("deflate:")})
    for key, label in labels.items():
        s = r.get(key)
        if not s or not s.get("n"):
            continue
        cols = (label, str(s["n"]), f"{s['median_ms']:.2f}", f"{s['p90_ms']:.2f}", f"{s['min_ms']:.2f}",
                f"{s['workbooks_per_s']:.1f}")
        print("  " + "".join(_cell(c, w, i == 0) for i, (c, w) in enumerate(zip(cols, widths))))
    print()
    for key, label in (("mem", "内存 in-memory"), ("disk", "磁盘 to-disk")):
        ratio = report["ratio_baseline_over_ours"].get(key)
        if ratio is not None:
            print(f"  倍数 ratio baseline/ours ({label}, 中位数 median): {ratio:.1f}×")
    for key, label in (("raw_zip", "raw zip"), ("string_replace", "string replace")):
        ratio = report["ratio_ours_over_floor"].get(key)
        if ratio is not None:
            print(f"  倍数 ratio ours/floor ({label}, 中位数 median): {ratio:.2f}×")
    chk = report.get("side_check")
    if chk:
        print()
        print(f"  功能核对 functional check (untimed): {chk['total_cell']} 评分器总分 scorer total = "
              f"{chk['scorer_total']}")
        for name in ("ours", "baseline"):
            c = chk[name]
            print(f"    {name:<9} {c['bytes']:>7} bytes, zip ok={c['zip_ok']}, "
                  f"不重算的读取器看到 non-recalculating reader sees: {c['cached_total_seen_by_calamine']!r}")
    print()


def cprofile_ours(template: Template, record, n: int, top: int) -> None:
    import cProfile
    import pstats
    for _ in range(5):
        template.fill_bytes(record)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        template.fill_bytes(record)
    prof.disable()
    print(f"\ncProfile of {n} × Template.fill_bytes (profiler overhead inflates absolute times):", file=sys.stderr)
    stats = pstats.Stats(prof, stream=sys.stderr)
    stats.sort_stats("tottime").print_stats(top)


# --------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Benchmark Template.fill_bytes/fill_to against openpyxl "
                                             "load-fill-save of the same template (report only, never fails).")
    ap.add_argument("--n", type=int, default=200, help="timed workbooks for ours, per variant (default 200)")
    ap.add_argument("--n-baseline", type=int, default=30, help="timed workbooks for openpyxl, per variant (default 30)")
    ap.add_argument("--warmup", type=int, default=10, help="untimed warm-up calls for ours (default 10)")
    ap.add_argument("--warmup-baseline", type=int, default=2, help="untimed warm-up calls for openpyxl (default 2)")
    ap.add_argument("--template", default=str(DEFAULT_TEMPLATE), help="template .xlsx")
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="YAML/JSON data file")
    ap.add_argument("--tmpdir", default=None, help="where to-disk variants write (default: a fresh temp dir)")
    ap.add_argument("--keep-gc", action="store_true", help="leave the garbage collector on while timing")
    ap.add_argument("--no-disk", action="store_true", help="skip the to-disk variants")
    ap.add_argument("--no-baseline", action="store_true", help="skip openpyxl")
    ap.add_argument("--json", action="store_true", help="print the JSON report on stdout instead of the table")
    ap.add_argument("--json-out", default=None, help="also write the JSON report to this file")
    ap.add_argument("--cprofile", type=int, default=0, metavar="N",
                    help="afterwards, cProfile N fill_bytes calls and print the top functions to stderr")
    args = ap.parse_args(argv)

    def progress(msg: str) -> None:
        if not args.json:
            print(msg, file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    template = open_template(args.template)
    open_ms = (time.perf_counter() - t0) * 1000.0
    record = load_data(args.data, template.profile)
    disable_gc = not args.keep_gc

    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="jxzp-bench-", dir=args.tmpdir) as tmp:
        tmp = Path(tmp)
        ours_mem, ours_disk = make_ours(template, record, tmp / "ours.xlsx")
        base_mem, base_disk = make_baseline(template, record, tmp / "baseline.xlsx")

        progress(f"ours/mem ×{args.n} …")
        results["ours_mem"] = summarize(run_timed(ours_mem, args.n, args.warmup, disable_gc))
        raw_zip, string_replace, sheet = make_floors(template, record)
        progress(f"floors ×{args.n} …")
        results["floor_raw_zip"] = summarize(run_timed(raw_zip, args.n, args.warmup, disable_gc))
        results["floor_string_replace"] = summarize(run_timed(string_replace, args.n, args.warmup, disable_gc))
        for label, run in deflaters(sheet).items():
            results[f"deflate:{label}"] = summarize(run_timed(run, args.n, args.warmup, disable_gc))
        if not args.no_disk:
            progress(f"ours/disk ×{args.n} …")
            results["ours_disk"] = summarize(run_timed(ours_disk, args.n, args.warmup, disable_gc))
        if not args.no_baseline:
            progress(f"baseline/mem ×{args.n_baseline} …")
            results["baseline_mem"] = summarize(run_timed(base_mem, args.n_baseline, args.warmup_baseline,
                                                          disable_gc))
            if not args.no_disk:
                progress(f"baseline/disk ×{args.n_baseline} …")
                results["baseline_disk"] = summarize(run_timed(base_disk, args.n_baseline,
                                                               args.warmup_baseline, disable_gc))
        side = None
        if not args.no_baseline:
            try:
                side = side_check(template, record, ours_mem(0), base_mem(0))
            except Exception as exc:  # a report, never a failure
                side = {"error": repr(exc)}

    ratios = {}
    for key in ("mem", "disk"):
        o, b = results.get(f"ours_{key}"), results.get(f"baseline_{key}")
        if o and b and o.get("n") and b.get("n"):
            ratios[key] = b["median_ms"] / o["median_ms"]

    floors = {key: results["ours_mem"]["median_ms"] / results[f"floor_{key}"]["median_ms"]
              for key in ("raw_zip", "string_replace")}
    report = {
        "benchmark": "fill",
        "params": {"template": str(args.template), "data": str(args.data), "n": args.n,
                   "n_baseline": args.n_baseline, "warmup": args.warmup, "warmup_baseline": args.warmup_baseline,
                   "gc_disabled": disable_gc, "clock": "time.perf_counter", "unit": "ms per workbook",
                   "tmpdir": args.tmpdir or tempfile.gettempdir()},
        "env": environment(),
        "template_open_ms": open_ms,
        "results": results,
        "ratio_baseline_over_ours": ratios,
        "ratio_ours_over_floor": floors,
        "sheet_xml_bytes": len(sheet),
        "side_check": side,
    }
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        if side and "error" in side:
            print(f"(functional check failed: {side['error']})", file=sys.stderr)
            report["side_check"] = None
        print_table(report)
    if args.cprofile:
        cprofile_ours(template, record, args.cprofile, 25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
