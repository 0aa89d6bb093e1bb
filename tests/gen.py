"""Generate project records that exercise every rule and edge of every profile.

Records are built at the cell level (not through the data-file validator) so the
generator can also produce what a careless unit types: text in number cells,
targets written as actuals, blank or unknown operators, level mismatches.
"""

from __future__ import annotations

import random

from xlsx_engine.forms.project.profile import Profile, list_profiles, load_profile
from xlsx_engine.forms.project.record import FundLine, Goal, IndicatorRow, ProjectRecord
from xlsx_engine.kernel.targets import OP_EQ, OP_GE, OP_GT, OP_LE, OP_LT, OP_QUAL

TARGETS = [0.0, 1.0, 2.0, 3.0, 7.0, 10.0, 90.0, 95.0, 100.0, 108.0, 0.5, 37.5, 1234.56]


def _actual_for(rng: random.Random, t: float) -> float:
    choice = rng.randrange(12)
    return [0.0, t, 2 * t, 1.3 * t, t * 1.2999, 1.5 * t, 0.5 * t, t * 0.3337, t + 0.005, -5.0,
            rng.uniform(0, 3 * t + 1), round(rng.uniform(0, 2 * t + 1), 2)][choice]


def quantitative(rng: random.Random, p: Profile, weight: float) -> IndicatorRow:
    op = rng.choice([OP_GE, OP_GT, OP_EQ, OP_LE, OP_LT])
    t = rng.choice(TARGETS)
    l1 = rng.choice(p.level1)
    return IndicatorRow(l1.name, rng.choice(l1.level2), f"定量指标{op}{t:g}", op, t, rng.choice(["%", "次", "万元", None]),
                        _actual_for(rng, t), None, weight, None, rng.choice([None, "原因说明"]))


def qualitative(rng: random.Random, p: Profile, weight: float) -> IndicatorRow:
    band = rng.choice([b.label for b in p.bands] + [None])
    manual = None
    if band is not None and rng.random() < 0.85:
        low, high, incl = p.band_bounds(band, weight)
        manual = rng.choice([low, high, round(high - 0.01, 2), round((low + high) / 2, 2), weight + 1, -1.0,
                             round(rng.uniform(0, weight), 2)])
    l1 = rng.choice(p.level1)
    return IndicatorRow(l1.name, rng.choice(l1.level2), "定性指标", OP_QUAL, rng.choice(["及时", "达成预期指标", None]),
                        None, rng.choice(["已完成", "基本完成", None, "≥95%"]), band, weight, manual,
                        rng.choice([None, "原因"]))


def messy(rng: random.Random, p: Profile, weight: float) -> IndicatorRow:
    """What a careless unit types."""
    kind = rng.randrange(8)
    row = quantitative(rng, p, weight)
    if kind == 0:
        row.actual = "≥95%"
    elif kind == 1:
        row.actual = "完成"
    elif kind == 2:
        row.op = None
    elif kind == 3:
        row.op = "约"
    elif kind == 4:
        row.target = "较好"
    elif kind == 5:
        row.level2 = "不存在的二级"
    elif kind == 6:
        row.weight = None
    else:
        row.name = None
        row.level1 = "自定义一级"
    return row


def project(seed: int, profile_id: str | None = None, rows: int = 30) -> ProjectRecord:
    rng = random.Random(seed)
    pid = profile_id or list_profiles()[seed % len(list_profiles())]
    p = load_profile(pid)
    rec = ProjectRecord(pid, year=float(2019 + seed % 6), project=f"测试项目{seed}", department="测试主管部门",
                        unit="测试单位")
    for source in p.fund_sources:
        kind = rng.randrange(6)
        budget = [0.0, 100.0, 27.56, 40.0, None, 1e-3][kind]
        spent = None if budget is None else rng.choice([0.0, budget, budget * 1.1 if budget else 5.0,
                                                         round(budget * rng.random(), 2), 39.96])
        rec.funds.append(FundLine(source, budget, budget, spent))
    if seed % 17 == 0:               # 全年预算数 = 0
        rec.funds = [FundLine(s, 0.0, 0.0, 0.0) for s in p.fund_sources]
    rec.rate_reason = rng.choice([None, "结余原因"])
    rec.goals = [Goal("目标一", rng.choice([None, "完成"]))]
    if p.has_target_block:
        rec.target_score = rng.choice([None, 0.0, 18.0, p.target_weight, p.target_weight + 5])
    n = rng.choice([0, 1, 3, 5, 8, 12, rows - 1, rows])
    weights = _weights(rng, p, n)
    for i in range(n):
        make = rng.choices([quantitative, qualitative, messy], [6, 3, 1])[0]
        rec.indicators.append(make(rng, p, weights[i]))
    if n and rng.random() < 0.3:     # blank rows in between
        rec.indicators.insert(rng.randrange(len(rec.indicators)), IndicatorRow())
        rec.indicators = rec.indicators[:rows]
    return rec


def _weights(rng: random.Random, p: Profile, n: int) -> list[float]:
    if n == 0:
        return []
    if rng.random() < 0.7:           # weights that add up to the profile's indicator total
        base = [round(p.indicator_weight / n, 2)] * n
        base[-1] = round(p.indicator_weight - sum(base[:-1]), 2)
        return base
    return [rng.choice([5.0, 10.0, 15.0, 20.0, 7.5]) for _ in range(n)]
