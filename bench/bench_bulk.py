"""Bulk generation benchmark: throughput, jobs-2 speed-up, ratio to openpyxl, and peak memory as the count grows.

Usage::

    PYTHONPATH=. python3 bench/bench_bulk.py                  # 1,000 workbooks, jobs 1 and 2, memory at 1k/10k
    PYTHONPATH=. python3 bench/bench_bulk.py --collect-only   # collect of 1,000 (jobs 1, 2) beside its floor
    PYTHONPATH=. python3 bench/bench_bulk.py --collect-only --base b79a198   # ... and against a revision
    PYTHONPATH=. python3 bench/bench_bulk.py --n 1000 --repeat 3 --memory 1000 10000 --baseline 40

Printed ratios: ``--jobs 2`` against one process (median of ``--repeat`` alternating pairs, each pair's
ratio shown too; goal ≥ 1.8×) beside the machine's own ceiling (two pure-Python processes against one,
measured after each pair: a host that shares its cores gives less than 2.0 to any program), and peak memory of
bulk and of collect (with the master and the 汇总表) at the largest count against the smallest (goal ≤ 1.3×).

Peak memory is peak RSS from ``resource.getrusage``: the larger of ``ru_maxrss`` of the run's own process
(RUSAGE_SELF) and of its largest worker process (RUSAGE_CHILDREN), i.e. the most any one process of the
run held. Each measurement runs in a fresh subprocess so that figure belongs to that run alone; the masters
are also built in subprocesses, because Linux carries a parent's ru_maxrss into the children it forks.
The baseline is openpyxl load → write the same input cells → save of the same template, timed per workbook
on a sample and printed as a ratio. No thresholds: this script reports numbers, it does not pass or fail.
The machine is shared: run it when ``uptime`` shows a low load, and repeat.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples"))


def make_master(n: int, path: Path) -> None:
    """A master with ``n`` projects: the example master's projects repeated with new codes."""
    import make_master as mm

    from xlsx_engine.bureau.master import write_master
    base = mm.build()
    rows: dict[str, list[list]] = {k: [] for k in base}
    rows["单位"] = base["单位"]
    copies = -(-n // len(base["项目"]))
    count = 0
    for c in range(copies):
        for prow in base["项目"]:
            if count == n:
                break
            count += 1
            old, new = prow[0], f"B{count:06d}"
            rows["项目"].append([new, *prow[1:]])
            for sheet in ("资金", "指标", "目标"):
                rows[sheet] += [[new, *r[1:]] for r in base[sheet] if r[0] == old]
    write_master(path, rows)


def child(master: str, out: str, jobs: int) -> None:
    from xlsx_engine.bureau.bulk import bulk
    t = time.perf_counter()
    report = bulk(master, out, jobs=jobs)
    seconds = time.perf_counter() - t
    rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    print(json.dumps({"n": len(report.items), "written": report.count("written"), "errors": len(report.errors),
                      "seconds": seconds, "peak_rss_mb": rss / 1024}))


def _cpu() -> float:
    """User + system CPU seconds of this process and of its finished children (the collect workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def collect_child(folder: str, jobs: int, master: str, summary: str) -> None:
    """collect against the master, then write the 汇总表 (timed apart), with the run's peak memory and CPU time
    (on a shared machine CPU time is disturbed much less than wall time)."""
    from xlsx_engine.bureau.collect import collect
    from xlsx_engine.bureau.summary import write_summary
    cpu, t = _cpu(), time.perf_counter()
    coll = collect(folder, master=master, jobs=jobs)
    seconds, cpu = time.perf_counter() - t, _cpu() - cpu
    t = time.perf_counter()
    write_summary(coll, summary)
    rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    print(json.dumps({"n": len(coll.rows), "unreadable": len(coll.unreadable), "seconds": seconds, "cpu_seconds": cpu,
                      "summary_seconds": time.perf_counter() - t, "peak_rss_mb": rss / 1024}))


def collect_floor(folder: str) -> dict:
    """The floor for collect: open each file and read the cells its names point to, nothing else
    (zip + lxml of workbook.xml and the one sheet, one process)."""
    import zipfile

    from lxml import etree
    cpu, t = _cpu(), time.perf_counter()
    n = 0
    for path in sorted(Path(folder).rglob("*.xlsx")):
        with zipfile.ZipFile(path) as zf:
            book = etree.fromstring(zf.read("xl/workbook.xml"))
            names = {d.get("name"): d.text for d in book.iter("{*}definedName")}
            sheet = etree.fromstring(zf.read("xl/worksheets/sheet1.xml"))
            cells = {c.get("r"): c for c in sheet.iter("{*}c")}
            wanted = {ref.split("!")[-1].replace("$", "").split(":")[0] for ref in names.values() if ref}
            sum(1 for ref in wanted if ref in cells)
        n += 1
    return {"n": n, "seconds": time.perf_counter() - t, "cpu_seconds": _cpu() - cpu}


def _in_tree(tree: Path) -> dict:
    """The environment for running ``tree``'s own code (its folder first on the module path)."""
    return {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}


def run_collect(folder: Path, jobs: int, master: Path, summary: Path, tree: Path = ROOT) -> dict:
    res = subprocess.run([sys.executable, str(tree / "bench" / "bench_bulk.py"), "--collect-child", str(folder),
                          str(jobs), str(master), str(summary)], capture_output=True, text=True, check=True,
                         cwd=tree, env=_in_tree(tree))
    return json.loads(res.stdout.strip().splitlines()[-1])


#: pure Python arithmetic, no I/O and no shared memory: what two processes on this machine can gain at best
SPIN = "import time\nt = time.perf_counter()\nx = 0\nfor i in range({n}): x += i\nprint(time.perf_counter() - t)"


def spin_wall(copies: int, n: int = 15_000_000) -> float:
    """Wall time of ``copies`` processes each doing the same pure-Python loop at the same time."""
    procs = [subprocess.Popen([sys.executable, "-c", SPIN.format(n=n)], stdout=subprocess.PIPE, text=True)
             for _ in range(copies)]
    return max(float(p.communicate()[0]) for p in procs)


def machine_scaling() -> float:
    """How much faster two CPU-bound processes finish the work of two than one process does, on this machine
    now (2.0 on two free cores; less when the host shares them): the ceiling of any ``--jobs 2`` speed-up."""
    return 2 * spin_wall(1) / spin_wall(2)


def run_child(master: Path, out: Path, jobs: int) -> dict:
    res = subprocess.run([sys.executable, __file__, "--child", str(master), str(out), str(jobs)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(res.stdout.strip().splitlines()[-1])


def baseline_ms(master: Path, samples: int) -> float:
    """openpyxl load-fill-save of the same template, per workbook (median over ``samples``)."""
    import io

    from openpyxl import load_workbook

    from xlsx_engine.bureau.bulk import plan_paths
    from xlsx_engine.bureau.master import Master
    from xlsx_engine.forms.project.profile import load_profile
    from xlsx_engine.forms.project.record import record_from_data
    from xlsx_engine.forms.registry import open_template
    tpl = open_template(ROOT / "templates" / "xmzc-national.xlsx")
    projects = [p for p in plan_paths([p for p in Master(master).projects() if not isinstance(p, Exception)],
                                      "project") if p.profile == "national"][:samples]
    times = []
    for p in projects:
        record = record_from_data(p.data, load_profile("national"))
        t = time.perf_counter()
        wb = load_workbook(tpl.path)
        ws = wb[tpl.layout.sheet]
        for ref, value in tpl.layout.input_values(tpl.layout.padded(record)).items():
            ws[ref] = value
        wb.save(io.BytesIO())
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def collect_only(n: int, repeat: int, as_json: bool, base: str | None = None) -> None:
    """collect of ``n`` generated workbooks with 1 and 2 processes beside the floor, medians of ``repeat`` runs
    interleaved (so a busy moment on the machine hits all variants alike). ``base``: a revision measured in the
    same rounds (exported with ``git archive``; its own code makes its own master and copies), and the ratio of
    this tree's times to its times printed — the host's speed cancels out of that ratio."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        trees = {"this": ROOT}
        if base:
            trees["base"] = tmp / "base-tree"
            trees["base"].mkdir()
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", base],
                                     capture_output=True, check=True)
            subprocess.run(["tar", "-x", "-C", str(trees["base"])], input=archive.stdout, check=True)
        for name, tree in trees.items():
            (tmp / name).mkdir()
            script = str(tree / "bench" / "bench_bulk.py")
            subprocess.run([sys.executable, script, "--make-master", str(n), str(tmp / name / "master.xlsx")],
                           check=True, cwd=tree, env=_in_tree(tree))
            subprocess.run([sys.executable, script, "--child", str(tmp / name / "master.xlsx"), str(tmp / name / "out"),
                            "2"], check=True, cwd=tree, env=_in_tree(tree), capture_output=True)
        runs: dict = {f"{name} {jobs}": [] for name in trees for jobs in (1, 2)}
        runs["floor"] = []
        for k in range(repeat):
            for name in (list(trees) if k % 2 == 0 else list(trees)[::-1]):
                for jobs in (1, 2):
                    d = tmp / name
                    runs[f"{name} {jobs}"].append(run_collect(d / "out", jobs, d / "master.xlsx", d / f"s{jobs}.xlsx",
                                                              trees[name]))
            runs["floor"].append(collect_floor(str(tmp / "this" / "out")))
    med = {k: {m: statistics.median(r[m] for r in v) for m in ("seconds", "cpu_seconds")} for k, v in runs.items()}
    if as_json:
        print(json.dumps({"n": n, "repeat": repeat, "base": base, "median": med, "runs": runs}, ensure_ascii=False,
                         indent=2))
        return
    fl = med["floor"]
    print(f"回收 collect of {n} workbooks, median of {repeat} (wall / CPU user+sys incl. workers):")
    print(f"  下限 floor (open + read named cells, 1 process): {fl['seconds']:.2f} s / CPU {fl['cpu_seconds']:.2f} s")
    for jobs, goal in (("1", 4.0), ("2", 2.5)):
        r = med[f"this {jobs}"]
        print(f"  jobs={jobs}: {r['seconds']:.2f} s (goal ≤ {goal} s) → {r['seconds'] / fl['seconds']:.1f}× the floor; "
              f"CPU {r['cpu_seconds']:.2f} s → {r['cpu_seconds'] / fl['cpu_seconds']:.1f}× the floor's CPU")
        if base:
            b = med[f"base {jobs}"]
            pairs = [t["seconds"] / u["seconds"] for t, u in zip(runs[f"this {jobs}"], runs[f"base {jobs}"])]
            print(f"    {base}: {b['seconds']:.2f} s (CPU {b['cpu_seconds']:.2f} s) → this/base {r['seconds'] / b['seconds']:.3f}× "
                  f"(CPU {r['cpu_seconds'] / b['cpu_seconds']:.3f}×; rounds {', '.join(f'{x:.2f}' for x in pairs)})")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--collect-child":
        collect_child(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--make-master":
        make_master(int(sys.argv[2]), Path(sys.argv[3]))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000, help="workbooks for the throughput run (default 1000)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="alternating jobs 1 / jobs 2 pairs; with --collect-only, collect runs per variant (default 3)")
    ap.add_argument("--memory", type=int, nargs="*", default=[1000, 10000], help="counts for the memory runs")
    ap.add_argument("--baseline", type=int, default=40, help="openpyxl samples (default 40)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--collect-only", action="store_true",
                    help="only collect of --n workbooks (jobs 1 and 2) beside its floor, --repeat times (median)")
    ap.add_argument("--base", default=None, metavar="REV",
                    help="with --collect-only: also collect with revision REV in the same rounds, and print the ratio")
    args = ap.parse_args()
    if args.collect_only:
        collect_only(args.n, args.repeat, args.json, args.base)
        return
    report: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        sizes = sorted(set([args.n, *args.memory]))
        masters = {}
        for n in sizes:
            masters[n] = tmp / f"master{n}.xlsx"
            # in a subprocess: Linux keeps ru_maxrss across fork/exec, so this process must stay small
            subprocess.run([sys.executable, __file__, "--make-master", str(n), str(masters[n])], check=True, cwd=ROOT)
        pairs, scaling = [], []
        for k in range(max(1, args.repeat)):
            pairs.append({jobs: run_child(masters[args.n], tmp / f"out-{args.n}-{jobs}-{k}", jobs) for jobs in (1, 2)})
            scaling.append(machine_scaling())
        runs = {jobs: min((p[jobs] for p in pairs), key=lambda r: r["seconds"]) for jobs in (1, 2)}
        median = {jobs: statistics.median(p[jobs]["seconds"] for p in pairs) for jobs in (1, 2)}
        for k in range(1, len(pairs)):
            shutil.rmtree(tmp / f"out-{args.n}-1-{k}")
            shutil.rmtree(tmp / f"out-{args.n}-2-{k}")
        shutil.rmtree(tmp / f"out-{args.n}-1-0")
        mem = {n: run_child(masters[n], tmp / f"mem-{n}", 2) for n in args.memory}
        collected = {jobs: run_collect(tmp / f"out-{args.n}-2-0", jobs, masters[args.n], tmp / f"s{jobs}.xlsx")
                     for jobs in (1, 2)}
        floor = collect_floor(str(tmp / f"out-{args.n}-2-0"))
        collect_mem = {n: run_collect(tmp / f"mem-{n}", 2, masters[n], tmp / f"m{n}.xlsx") for n in args.memory}
        base = baseline_ms(masters[args.n], args.baseline)
        lo, hi = min(args.memory), max(args.memory)
        report = {"n": args.n, "runs": runs, "median_seconds": median,
                  "pairs": [{jobs: p[jobs]["seconds"] for jobs in (1, 2)} for p in pairs],
                  "jobs2_speedup": median[1] / median[2],
                  "machine_scaling": statistics.median(scaling), "machine_scaling_runs": scaling,
                  "memory": mem, "openpyxl_ms_per_workbook": base, "collect": collected,
                  "collect_floor": floor, "collect_memory": collect_mem,
                  "memory_ratio": {"bulk": mem[hi]["peak_rss_mb"] / mem[lo]["peak_rss_mb"],
                                   "collect": collect_mem[hi]["peak_rss_mb"] / collect_mem[lo]["peak_rss_mb"],
                                   "counts": [lo, hi]},
                  "load_average": os.getloadavg()}
    ours_ms = {j: r["seconds"] / r["n"] * 1000 for j, r in runs.items()}
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    print(f"批量生成 bulk of {args.n} workbooks (atomic writes, one flush to disk at the end, manifest), this machine "
          f"(load average at the end {', '.join(f'{x:.2f}' for x in report['load_average'])}):")
    for jobs, r in runs.items():
        print(f"  jobs={jobs}: best {r['seconds']:.2f} s, median {median[jobs]:.2f} s of {len(pairs)} "
              f"({ours_ms[jobs]:.2f} ms/个, {r['n'] / r['seconds']:.0f} 个/秒), errors {r['errors']}, "
              f"peak RSS {r['peak_rss_mb']:.0f} MB")
    print(f"  倍数 jobs=2 speed-up (median jobs=1 / median jobs=2): {report['jobs2_speedup']:.2f}× (goal ≥ 1.8×); "
          f"each pair: {', '.join(f'{p[1] / p[2]:.2f}×' for p in report['pairs'])}")
    print(f"  本机两进程上限 machine ceiling (two pure-Python processes vs one, median of {len(scaling)}): "
          f"{report['machine_scaling']:.2f}× ({', '.join(f'{x:.2f}×' for x in scaling)}) → bulk reaches "
          f"{report['jobs2_speedup'] / report['machine_scaling']:.0%} of it")
    print(f"  openpyxl load-fill-save baseline: {base:.1f} ms/个 (median of {args.baseline})")
    best = min(ours_ms.values())
    print(f"  倍数 ratio openpyxl/ours: {base / ours_ms[1]:.1f}× (jobs=1), {base / best:.1f}× (best)")
    lo, hi = report["memory_ratio"]["counts"]
    print("峰值内存 peak memory vs count (jobs=2; peak RSS = max ru_maxrss of the run's process and of its workers):")
    for n, r in mem.items():
        print(f"  {n:>6} workbooks: {r['seconds']:.1f} s, peak RSS {r['peak_rss_mb']:.0f} MB")
    print(f"  倍数 {hi}/{lo}: {report['memory_ratio']['bulk']:.2f}× (goal ≤ 1.3×)")
    fl = report["collect_floor"]
    for jobs, r in collected.items():
        print(f"回收 collect of {r['n']} workbooks: {r['seconds']:.2f} s (jobs={jobs}, "
              f"{r['seconds'] / max(1, r['n']) * 1000:.2f} ms/个; target ≤ {4 if jobs == 1 else 2.5} s per 1,000), "
              f"汇总表 {r['summary_seconds']:.2f} s; floor (open + read named cells, 1 process) {fl['seconds']:.2f} s "
              f"→ {r['seconds'] / fl['seconds']:.1f}× the floor")
    print("回收峰值内存 collect peak memory vs count (jobs=2, with master and 汇总表):")
    for n, r in report["collect_memory"].items():
        print(f"  {n:>6} workbooks: {r['seconds']:.1f} s + 汇总表 {r['summary_seconds']:.1f} s, peak RSS {r['peak_rss_mb']:.0f} MB")
    print(f"  倍数 {hi}/{lo}: {report['memory_ratio']['collect']:.2f}× (goal ≤ 1.3×)")
    rate = args.n / min(r["seconds"] for r in runs.values())
    print(f"省级规模估算 province scale: 50,000 projects ≈ {50000 / rate / 60:.1f} min at {rate:.0f} 个/秒 on this machine")


if __name__ == "__main__":
    main()
