"""The scoring rules of issue #2, each checked against a hand-computed value."""

from __future__ import annotations

from pathlib import Path

import pytest

from xlsx_engine.forms.project.layout import project_layout
from xlsx_engine.forms.project.profile import load_profile, parse_profile
from xlsx_engine.forms.project.record import (
    FundLine,
    IndicatorRow,
    ProjectRecord,
    load_data,
)
from xlsx_engine.forms.project.scoring import evaluate, fund_score, indicator_score
from xlsx_engine.kernel.errors import ProfileError
from xlsx_engine.kernel.excel import NA
from xlsx_engine.kernel.xlmath import xround, xtext

SEEDS = Path(__file__).parent / "data" / "seeds"
NAT = load_profile("national")
RATIO = load_profile("local-ratio")
PLATFORM = load_profile("national-platform")


def q(op, t, a, w=10.0, profile=NAT, reason="r"):
    return indicator_score(IndicatorRow("产出指标", "数量指标", "x", op, t, None, a, None, w, None, reason), profile)


@pytest.mark.parametrize("value,digits,expected", [
    (2.675, 2, 2.68), (0.285, 2, 0.29), (1.005, 2, 1.01), (-2.5, 0, -3.0), (19.98, 2, 19.98),
    (20 * 27.34 / 27.56, 2, 19.84), (0.125, 2, 0.13), (0, 2, 0.0)])
def test_xround_is_excel_round(value, digits, expected):
    assert xround(value, digits) == expected


def test_xtext_matches_spreadsheet_number_to_text():
    assert xtext(95.0) == "95" and xtext(95.5) == "95.5" and xtext(0.1 + 0.2) == "0.3"


def test_fund_score_is_capped_proportional():
    assert fund_score(40, 39.96, 20) == 19.98
    assert fund_score(27.56, 27.34, 20) == 19.84
    assert fund_score(100, 120, 10) == 10.0           # 执行率 > 100% is capped at the weight
    assert fund_score(0, 5, 10) == 0.0                # 全年预算数 = 0: no division, no score


def test_rate_not_computable_when_budget_zero():
    rec = ProjectRecord("national", funds=[FundLine("当年财政拨款", 0.0, 0.0, 0.0)])
    result = evaluate(rec, NAT)
    assert result.fund.rate == NA
    assert "全年预算数为0，执行率无法计算；" in result.problems


@pytest.mark.parametrize("op", ["≥", "＞"])
def test_positive_operators(op):
    assert q(op, 100.0, 100.0) == 10.0                # A = T
    assert q(op, 100.0, 150.0) == 10.0                # over-achievement capped at w
    assert q(op, 90.0, 85.0) == 9.44                  # round(85/90 × 10, 2)
    assert q(op, 100.0, 0.0) == 0.0                   # A = 0
    assert q(op, 100.0, -20.0) == 0.0                 # a negative actual counts as 0
    assert q(op, 0.0, 0.0) == 10.0                    # T = 0 never divides


def test_equal_operator():
    assert q("＝", 8.0, 8.0) == 10.0 and q("＝", 8.0, 9.0) == 10.0 and q("＝", 8.0, 6.0) == 7.5
    assert q("＝", 0.0, 0.0) == 10.0 and q("＝", 0.0, -1.0) == 10.0 and q("＝", 0.0, 0.5) == 0.0


@pytest.mark.parametrize("op", ["≤", "＜"])
def test_reverse_linear(op):
    assert q(op, 90.0, 90.0) == 10.0 and q(op, 90.0, 50.0) == 10.0
    assert q(op, 90.0, 99.0) == 9.0                   # (2 − 99/90) × 10
    assert q(op, 100.0, 150.0) == 5.0                 # 0.50w at A = 1.5T
    assert q(op, 90.0, 180.0) == 0.0                  # A = 2T
    assert q(op, 90.0, 500.0) == 0.0
    assert q(op, 0.0, 0.0) == 10.0 and q(op, 0.0, 3.0) == 0.0   # T = 0: no division


def test_reverse_ratio_variant():
    assert q("≤", 100.0, 150.0, profile=RATIO) == 6.67   # 0.667w at A = 1.5T
    assert q("≤", 100.0, 400.0, profile=RATIO) == 2.5
    assert q("≤", 0.0, 3.0, profile=RATIO) == 0.0


def test_qualitative_bands_and_defaults():
    def s(band, manual, w=10.0, profile=NAT):
        row = IndicatorRow("产出指标", "质量指标", "x", "定性", "及时", None, "及时", band, w, manual, "r")
        return indicator_score(row, profile)
    assert s("达成", None) == 10.0                    # 达成 without a score: full marks
    assert s("部分达成", None) == 0.0                 # other bands need the unit's score
    assert s("部分达成", 7.0) == 7.0 and s("达成", 12.0) == 10.0 and s(None, 9.0) == ""   # no band yet: 待填报
    assert NAT.in_band("达成", 10, 8.0) and not NAT.in_band("达成", 10, 7.99)
    assert NAT.in_band("部分达成", 10, 6.0) and not NAT.in_band("部分达成", 10, 8.0)
    assert NAT.in_band("未达成", 10, 5.99) and not NAT.in_band("未达成", 10, 6.0)
    assert RATIO.in_band("部分达成", 10, 5.0) and not NAT.in_band("部分达成", 10, 5.0)   # 80/50 bands


def test_over_achievement_penalty_and_reason():
    row = IndicatorRow("产出指标", "数量指标", "x", "≥", 450.0, None, 587.0, None, 20.0, None, None)
    assert indicator_score(row, PLATFORM) == 18.0    # −2 for A ≥ 1.3T
    assert indicator_score(row, NAT) == 20.0
    rec = ProjectRecord("national-platform", funds=[FundLine("当年财政拨款", 10.0, 10.0, 10.0)], indicators=[row])
    assert evaluate(rec, PLATFORM).indicators[0].flags == ["over"]      # reason needed, and why
    row.reason = "年中新增机构"
    assert evaluate(rec, PLATFORM).indicators[0].flags == []          # explained: no prompt
    row.actual = 584.9                               # just under 1.3 × 450 = 585
    assert indicator_score(row, PLATFORM) == 20.0


def test_rate_caps_total():
    rows = [IndicatorRow("产出指标", "数量指标", "a", "≥", 1.0, None, 1.0, None, 50.0, None, None),
            IndicatorRow("效益指标", "社会效益指标", "b", "≥", 1.0, None, 1.0, None, 30.0, None, None),
            IndicatorRow("满意度指标", "服务对象满意度指标", "c", "≥", 1.0, None, 1.0, None, 10.0, None, None)]
    rec = ProjectRecord("national-platform", funds=[FundLine("当年财政拨款", 100.0, 100.0, 76.0)], indicators=rows)
    result = evaluate(rec, PLATFORM)
    assert result.raw_total == 97.6 and result.total == 89.0 and result.grade == "良"
    rec.funds[0].spent = 45.0
    assert evaluate(rec, PLATFORM).total == 59.0


@pytest.mark.parametrize("score,grade", [(100, "优"), (90, "优"), (89.99, "良"), (80, "良"), (79.99, "中"),
                                         (60, "中"), (59.99, "差"), (0, "差")])
def test_grade_cut_points(score, grade):
    assert NAT.grade_for(score) == grade


def test_weight_checks_in_workbook_texts():
    rows = [IndicatorRow("产出指标", "数量指标", "a", "≥", 1.0, None, 1.0, None, 60.0, None, None),
            IndicatorRow("效益指标", "社会效益指标", "b", "≥", 1.0, None, 1.0, None, 40.0, None, None)]
    rec = ProjectRecord("national", funds=[FundLine("当年财政拨款", 1.0, 1.0, 1.0)], indicators=rows)
    problems = evaluate(rec, NAT).problems
    assert "分值合计为110，应为100，请调整各指标分值；" in problems
    assert "产出指标分值合计为60，应为50；" in problems and "满意度指标分值合计为0，应为10；" in problems


def test_row_messages_for_target_like_actual_and_missing_reason():
    row = IndicatorRow("满意度指标", "服务对象满意度指标", "x", "≥", 95.0, "%", "≥95%", None, 10.0, None, None)
    res = evaluate(ProjectRecord("national", indicators=[row]), NAT).indicators[0]
    assert res.score == 0.0
    assert res.message == "完成值写成了目标值，请填实际数；缺偏差原因分析及改进措施；"


def test_blank_rows_are_inert():
    layout = project_layout("national")
    rec, result = layout.evaluate(ProjectRecord("national"))
    assert len(rec.indicators) == 30
    assert all(r.score == "" and r.message == "" for r in result.indicators)


@pytest.mark.parametrize("name,profile,total,fund", [("seed003-p1", "hubei-wuhan", 90.98, 19.98),
                                                      ("seed003-p2", "hubei-wuhan", 92.84, 19.84),
                                                      ("seed004", "ningxia-jinfeng", 98.0, 10.0)])
def test_seeds_reproduce_published_scores(name, profile, total, fund):
    p = load_profile(profile)
    result = evaluate(load_data(SEEDS / f"{name}.yaml", p), p)
    assert (result.total, result.grade, result.fund.score) == (total, "优", fund)


def test_jinfeng_fund_is_outside_the_100():
    p = load_profile("ningxia-jinfeng")
    result = evaluate(load_data(SEEDS / "seed004.yaml", p), p)
    assert result.total_weight == 100.0 and result.score_sum == 98.0 and result.fund.score == 10.0


def test_profile_validation_and_extends(tmp_path):
    assert load_profile("hubei-wuhan").reverse == "linear"          # inherited from national
    with pytest.raises(ProfileError, match="total"):
        parse_profile({**NAT.raw, "total": 110}, "bad.yaml")
    (tmp_path / "p.yaml").write_text("extends: national\nid: p\nrules: {reverse: cubic}\n", encoding="utf-8")
    with pytest.raises(ProfileError, match="linear 或 ratio"):
        load_profile(str(tmp_path / "p.yaml"))
    with pytest.raises(ProfileError, match="没有名为"):
        load_profile("no-such-profile")


def test_report_figures_are_checked_against_the_table():
    """Seed 004's text says 269 万元 where its own table says 108; the printed 总分 98 agrees."""
    from xlsx_engine.kernel.statements import compare, project_findings
    p = load_profile("ningxia-jinfeng")
    rec = load_data(SEEDS / "seed004.yaml", p)
    assert rec.stated == {"全年预算数": 269, "全年执行数": 269, "总分": 98}
    assert project_findings(rec.stated, evaluate(rec, p)) == [
        "报告所列全年预算数为269万元，表中为108万元；", "报告所列全年执行数为269万元，表中为108万元；"]
    assert compare("执行率", "100%", NA, "rate") == "报告所列执行率为100%，但其分母为0，无法计算，不应写作100%；"
    assert compare("执行率", "99.9%", 39.96 / 40, "rate") is None


def _pct_row(op, t, a, unit="%", reason="r"):
    return IndicatorRow("产出指标", "质量指标", "合格率", op, t, unit, a, None, 20.0, None, reason)


@pytest.mark.parametrize("unit", ["%", "％", "百分比", "百分点"])
def test_percent_typed_as_fraction_scores_as_percent(unit):
    # Excel/WPS/LibreOffice store a typed "95%" as 0.95; a data file may give 0.972
    assert indicator_score(_pct_row("≥", 95.0, 0.95, unit), NAT) == 20.0
    assert indicator_score(_pct_row("≥", 100.0, 0.972, unit), NAT) == 19.44
    assert indicator_score(_pct_row("≥", 95.0, 0.95, unit="个"), NAT) == 0.2   # not a percent row: as written


def test_percent_ambiguous_cases_are_flagged_with_the_assumption():
    def flags(op, t, a):
        row = _pct_row(op, t, a)
        return evaluate(ProjectRecord("national", indicators=[row]), NAT).indicators[0].flags
    assert flags("≥", 95.0, 0.95) == [] and flags("≥", 95.0, 96.0) == []
    assert flags("≥", 100.0, 1.0) == []                       # 100% typed: 1 → 100, no doubt at a 100% target
    assert "pct_one" in flags("≥", 2.0, 1.0)                  # 1 against 2%: 100% assumed, said so
    assert "pct_scaled" in flags("≤", 3.0, 0.5)               # ≤3%, 0.5: read as 50%, said so
    assert "pct_as_written" in flags("≤", 1.0, 0.5)           # target itself ≤ 1: nothing converted, said so
    assert indicator_score(_pct_row("≤", 1.0, 0.5), NAT) == 20.0


def test_percent_strings_in_data_files_follow_the_rule():
    from xlsx_engine.forms.project.record import record_from_data
    ind = [{"一级指标": l1, "二级指标": l2, "三级指标": f"x{i}", "指标性质": op, "指标值": t,
            "度量单位": "%", "实际完成值": a, "分值": w} for i, (l1, l2, w, op, t, a) in enumerate(
        [("产出指标", "质量指标", 10, "≥", 95, "95%"), ("产出指标", "质量指标", 10, "≥", 100, 0.972),
         ("产出指标", "成本指标", 30, "≤", 3, "0.5%"), ("效益指标", "社会效益指标", 30, "≥", 90, "100%"),
         ("满意度指标", "服务对象满意度指标", 10, "≥", 90, "120%")])]
    rec = record_from_data({"绩效指标": ind}, NAT)
    scores = [indicator_score(r, NAT) for r in rec.indicators]
    assert scores == [10.0, 9.72, 30.0, 30.0, 10.0]
    assert [r.actual for r in rec.indicators] == [0.95, 0.972, 0.005, 100.0, 120.0]


def test_blank_is_pending_not_zero():
    rows = [IndicatorRow("产出指标", "数量指标", "a", "≥", 10.0, "个", None, None, 50.0, None, None),
            IndicatorRow("效益指标", "社会效益指标", "b", "定性", "明显", None, None, None, 30.0, None, None),
            IndicatorRow("满意度指标", "服务对象满意度指标", "c", "≥", 90.0, "%", None, None, 10.0, None, None)]
    rec = ProjectRecord("national", year=2024.0, project="p", funds=[FundLine("当年财政拨款")], indicators=rows)
    r = evaluate(rec, NAT)
    assert (r.fund.rate, r.fund.score, r.total, r.grade) == ("", "", "待填报", "待填报")
    assert [i.score for i in r.indicators] == ["", "", ""] and all(not i.flags for i in r.indicators)
    assert r.problems == [] and len(r.pending) == 2
    rows[0].actual = 8.0                                     # one actual typed: that row's warnings appear
    r = evaluate(rec, NAT)
    assert r.indicators[0].score == 40.0 and r.indicators[0].flags == ["no_reason"]
    rows[2].reason = "调查中"                                 # started without an actual: asked for it
    r = evaluate(rec, NAT)
    assert r.indicators[2].flags == ["no_actual"] and r.total == "待填报"
    assert "尚有2行指标未填实际完成值或完成等级，总分待填报；" in r.problems
    rec.funds = [FundLine("当年财政拨款", 10.0, 10.0, 9.0)]
    rows[1].band, rows[2].actual = "达成", 0.95
    r = evaluate(rec, NAT)
    assert r.pending == [] and r.total == 9.0 + 40.0 + 30.0 + 10.0 and r.grade == "良"
