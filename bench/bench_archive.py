"""Archive benchmark (issue #15): ten years of a province's projects (50,000 submissions) in one SQLite archive;
how long the year-over-year report takes, beside the same project comparison done with pandas on the
汇总表 files that ``jxzp collect`` writes (the way a bureau without the archive would do it).

Usage::

    PYTHONPATH=. python3 bench/bench_archive.py                 # 10 years × 5,000 projects
    PYTHONPATH=. python3 bench/bench_archive.py --projects 1000 --years 3

Reports numbers only; no thresholds. pandas is optional (``pip install pandas``); without it the baseline is skipped.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from xlsx_engine.bureau.archive import (
    Archive,
    IndicatorSnap,
    Submission,
    year_over_year,
)
from xlsx_engine.bureau.collect import Collected, Collection
from xlsx_engine.bureau.compare_book import unit_totals
from xlsx_engine.bureau.summary import write_summary

INDICATORS = [("产出指标", "数量指标", "救助人次", "≥", 30), ("产出指标", "质量指标", "发放准确率", "≥", 20),
              ("产出指标", "成本指标", "人均成本", "≤", 0), ("效益指标", "社会效益指标", "负担减轻", "定性", 30),
              ("满意度指标", "服务对象满意度指标", "满意度", "≥", 10), ("产出指标", "时效指标", "及时率", "≥", 0)]


def generate(years: list[int], projects: int, seed: int = 7):
    rng = random.Random(seed)
    units = [f"单位{k:03d}" for k in range(max(1, projects // 25))]
    for year in years:
        subs = []
        for n in range(projects):
            if rng.random() < 0.03:
                subs.append(Submission(year, "未交回", unit=units[n % len(units)], code=f"P{n:06d}",
                                       project=f"{year}年项目{n}"))
                continue
            rate = rng.uniform(0.5, 1.0)
            total = round(rng.uniform(55, 100), 2)
            inds = []
            for l1, l2, name, op, w in INDICATORS:
                t = rng.choice([10.0, 90.0, 100.0, 500.0])
                inds.append(IndicatorSnap(l1, l2, name, op, None if op == "定性" else t, f"{op}{t:g}", "",
                                          None if op == "定性" else round(t * rng.uniform(0.7, 1.5), 2), w, w))
            subs.append(Submission(year, rng.choice(["已填报", "有错误", "已通过"]), unit=units[n % len(units)],
                                   code=f"P{n:06d}", project=f"{year}年项目{n}", profile="national", budget=100.0,
                                   spent=round(100 * rate, 2), rate=rate, total=total,
                                   grade="优" if total >= 90 else "良" if total >= 80 else "中" if total >= 60 else "差",
                                   file_hash=f"{year}-{n}", indicators=inds,
                                   findings=[("警告", rng.choice(["reason", "rate_low"]), "", "")] if rng.random() < .3 else []))
        yield year, subs


def summary_items(subs: list[Submission]) -> Collection:
    return Collection(rows=[Collected(path=s.file_hash, unit=s.unit, code=s.code, project=s.project, profile=s.profile,
                                      budget=s.budget, spent=s.spent, rate=s.rate, total=s.total, grade=s.grade,
                                      status=s.status) for s in subs])


def pandas_compare(now_file: Path, prev_file: Path):
    import pandas as pd
    kw = {"sheet_name": "汇总", "header": 2}
    try:
        now, prev = pd.read_excel(now_file, engine="calamine", **kw), pd.read_excel(prev_file, engine="calamine", **kw)
    except (ValueError, ImportError):
        now, prev = pd.read_excel(now_file, **kw), pd.read_excel(prev_file, **kw)
    now, prev = now[now["项目编码"].notna()], prev[prev["项目编码"].notna()]
    merged = now.merge(prev, on="项目编码", how="outer", suffixes=("", "_上年"), indicator=True)
    merged["增减"] = merged["总分"] - merged["总分_上年"]
    # a unit's 执行率 as the archive's comparison takes it (docs/rules.md 汇总口径): Σ执行数 ÷ Σ预算数, each year
    units = merged.groupby("单位").agg({"总分": "mean", "总分_上年": "mean", "全年预算数": "sum", "全年执行数": "sum",
                                      "全年预算数_上年": "sum", "全年执行数_上年": "sum"})
    units["执行率"] = units["全年执行数"] / units["全年预算数"]
    units["执行率_上年"] = units["全年执行数_上年"] / units["全年预算数_上年"]
    return len(merged), len(units)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--projects", type=int, default=5000)
    args = ap.parse_args()
    years = list(range(2025 - args.years, 2025))
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "档案.sqlite"
        t0 = time.perf_counter()
        files = {}
        with Archive(db) as a:
            for year, subs in generate(years, args.projects):
                a.record(year, "回收", subs)
                if year in years[-2:]:
                    files[year] = Path(tmp) / f"{year}汇总表.xlsx"
                    write_summary(summary_items(subs), files[year])
            count = a.count()
        build = time.perf_counter() - t0
        size = os.path.getsize(db) / 1e6
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            with Archive(db, readonly=True) as a:
                yoy = year_over_year(a, years[-1])
            units = unit_totals(yoy)              # each unit's totals, both years (as the 单位对比 sheet shows them)
            times.append(time.perf_counter() - t0)
        ours = min(times)
        print(f"档案：{count} 条记录（{args.years} 年 × {args.projects} 个项目），{size:.1f} MB，建立用时 {build:.1f} 秒")
        print(f"逐年对比（项目、单位、目标、重复问题、目标质量）：{ours:.3f} 秒；"
              f"对比项目 {len(yoy.projects)} 个，单位 {len(units) - 1} 个，目标提示 {len(yoy.targets)} 条，目标质量 {len(yoy.quality)} 处")
        try:
            import pandas  # noqa: F401
        except ImportError:
            print("pandas 未安装：跳过基线（pip install pandas）")
            return 0
        ptimes = []
        for _ in range(3):
            t0 = time.perf_counter()
            rows, units = pandas_compare(files[years[-1]], files[years[-2]])
            ptimes.append(time.perf_counter() - t0)
        base = min(ptimes)
        print(f"基线 pandas（读两年汇总表 + 按编码合并 + 按单位汇总，只含项目与单位对比）：{base:.3f} 秒，{rows} 行")
        print(f"比值 pandas / 档案 = {base / ours:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
