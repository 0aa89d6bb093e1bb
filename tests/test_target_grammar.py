"""The target grammar (docs/rules.md#target-grammar): real published targets and generated ones."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from xlsx_engine.kernel.targets import (
    KIND_DEADLINE,
    KIND_QUAL,
    KIND_RANGE,
    OP_EQ,
    OP_GE,
    OP_GT,
    OP_LE,
    OP_LT,
    Deadline,
    Target,
    format_target,
    parse_deadline,
    parse_target,
)

TABLE = yaml.safe_load((Path(__file__).parent / "data" / "real" / "targets_expected.yaml").read_text("utf-8"))


def shown(t: Target) -> str:
    """A parse as the table writes it."""
    if t.kind == KIND_QUAL:
        return "定性"
    if t.kind == KIND_DEADLINE:
        d = t.deadline
        return f"时效 {d.year or '?'}-{d.month:02d}-{d.day:02d}"
    if t.kind == KIND_RANGE:
        return f"区间 {t.value:g} {t.upper:g} {t.unit}".strip()
    return f"{t.op} {t.value:g} {t.unit}".strip()


def test_table_is_large_and_mostly_real():
    real = [row for row in TABLE if row["from"] != "语法样例"]
    assert len(real) >= 60 and len(TABLE) >= 140


@pytest.mark.parametrize("row", TABLE, ids=[row["text"] for row in TABLE])
def test_real_targets_parse_as_a_person_reads_them(row):
    assert shown(parse_target(row["text"])) == row["expect"]


def test_deadline_dates():
    assert parse_target("9月底前").deadline.date(2023) == dt.date(2023, 9, 30)
    assert parse_target("2月底前").deadline.date(2024) == dt.date(2024, 2, 29)
    assert parse_target("2023年10月").deadline.date(1999) == dt.date(2023, 10, 31)
    assert parse_deadline(dt.date(2023, 5, 6)) == Deadline(2023, 5, 6)
    assert parse_deadline("达成预期指标") is None and parse_deadline("13月") is None
    with pytest.raises(ValueError):
        parse_target("9月前").deadline.date()


# ----------------------------------------------------------------------------- generated targets

_OP_SPELLINGS = {
    OP_GE: ["≥", ">=", "＞＝", "≧", "不低于", "不少于", "大于等于"],
    OP_LE: ["≤", "<=", "＜＝", "≦", "不超过", "不高于", "小于等于"],
    OP_GT: [">", "＞", "大于", "高于"],
    OP_LT: ["<", "＜", "小于", "低于"],
    OP_EQ: ["", "=", "＝", "═", "﹦"],
}
_UNITS = ["", "%", "万元", "元", "人次", "个", "次", "亩", "元/人", "平方米", "公里", "天"]
_FULLWIDTH = str.maketrans("0123456789.,%", "０１２３４５６７８９．，％")


def _number_text(value: float, commas: bool) -> str:
    text = f"{value:,.2f}" if commas else f"{value:.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@st.composite
def written_targets(draw):
    op = draw(st.sampled_from(sorted(_OP_SPELLINGS)))
    spelling = draw(st.sampled_from(_OP_SPELLINGS[op]))
    cents = draw(st.integers(min_value=0, max_value=10**9))
    value = cents / 100
    unit = draw(st.sampled_from(_UNITS))
    number = _number_text(value, draw(st.booleans()))
    text = spelling + draw(st.sampled_from(["", " "])) + number + draw(st.sampled_from(["", " "])) + unit
    if draw(st.booleans()):
        text = text.translate(_FULLWIDTH)
    return text, Target(op, value, unit, text)


@settings(max_examples=300, deadline=None)
@given(written_targets())
def test_generated_targets_round_trip(case):
    text, want = case
    got = parse_target(text)
    assert (got.op, got.value, got.unit) == (want.op, round(want.value, 2), want.unit)
    again = parse_target(format_target(got))
    assert (again.op, again.value, again.unit, again.kind) == (got.op, got.value, got.unit, got.kind)


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31)),
       st.sampled_from(["{y}年{m}月{d}日前", "{y}年{m}月{d}日前完成", "{y}-{m:02d}-{d:02d}", "{y}/{m}/{d}",
                        "≤{y}年{m}月{d}日"]))
def test_generated_deadlines_round_trip(day, pattern):
    t = parse_target(pattern.format(y=day.year, m=day.month, d=day.day))
    assert t.kind == KIND_DEADLINE and t.deadline.date() == day
    assert parse_target(format_target(t)).deadline == t.deadline


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 9999), st.integers(1, 9999), st.sampled_from(["%", "人", ""]),
       st.sampled_from(["-", "～", "~", "至", "—"]))
def test_generated_ranges_round_trip(low, width, unit, sep):
    t = parse_target(f"{low}{unit}{sep}{low + width}{unit}")
    assert (t.kind, t.op, t.value, t.upper, t.unit) == (KIND_RANGE, OP_GE, low, low + width, unit)
    assert parse_target(format_target(t)) == Target(OP_GE, low, unit, format_target(t), KIND_RANGE, upper=low + width)
