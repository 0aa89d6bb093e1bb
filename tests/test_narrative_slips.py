"""The slip checker (narrative/slips.py): each slip class is caught — with the very sentences a reader
marked in our earlier reports (issue #14) — and ≥ 200 generated projects × every outline have none."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from xlsx_engine.forms.project.profile import list_profiles, load_profile
from xlsx_engine.narrative.engine import Narrator, from_data_file, from_record, multi_context, project_context
from xlsx_engine.narrative.slips import SLIP_KINDS, find_slips

from gen import project as generated_project

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "tests" / "data" / "seeds"
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def p1():
    """Seed 003 project 1: 执行率99.9%, 结余0.04万元 “已退回财政”, 总分90.98, 等次优."""
    return project_context(from_data_file(SEEDS / "seed003-p1.yaml"))[0]


def kinds(markup: str, contexts, **kw) -> list[str]:
    return [s.kind for s in find_slips(markup, contexts, **kw)]


# ----------------------------------------------------------------------------- each slip class is caught

def test_duplicate_subject(p1):
    bad = "项目由洪山区医疗保障局主管，洪山区医疗保障局负责实施，全年预算数40万元。\n"
    assert kinds(bad, [p1]) == ["duplicate_subject"]
    assert kinds("项目由洪山区医疗保障局主管并负责实施，全年预算数40万元。\n", [p1]) == []
    assert kinds("项目由洪山区卫健委主管，洪山区医疗保障局负责实施。\n", [p1]) == []


def test_numbering_collisions(p1):
    bad = ("#### 绩效目标实现情况分析\n（1）资金情况分析。\n（2）年度目标完成情况。\n（3）绩效指标完成情况分析。\n"
           "产出指标（分值45分，得分45分）：\n（1）法律顾问对咨询事务的受理率：得15分（满分）。\n")
    assert kinds(bad, [p1]) == ["numbering"]
    restart = "## 一、项目基本概况\n## 二、评价报告综述（文字部分）\n### 一、项目基本概况\n正文\n"
    assert kinds(restart, [p1]) == ["numbering"]
    skip = "# 一、甲\n# 三、乙\n"
    assert kinds(skip, [p1]) == ["numbering"]
    good = ("### 1. 项目甲\n#### 1-1、主要问题和改进措施\n主要问题：\n（1）甲。\n（2）乙。\n改进措施：\n（1）丙。\n"
            "#### 1-2、分析\n（1）资金情况分析。\n（2）绩效指标完成情况分析。\n产出指标：\n①甲\n②乙\n满意度指标：\n①丙\n"
            "### 2. 项目乙\n#### 2-1、基本情况\n")
    assert kinds(good, [p1]) == []


def test_measure_as_cause(p1):
    assert kinds("（1）“参保人员对医保服务的满意度”未得满分，扣1分。原因：提升医疗保障服务。\n", [p1]) == \
        ["measure_as_cause"]
    assert kinds("偏差原因：加大宣传力度。\n", [p1]) == ["measure_as_cause"]
    assert kinds("偏差原因：本局为今年新组建单位，未纳入双评议考核。改进措施：加大宣传力度。\n", [p1]) == []


def test_cause_as_measure(p1):
    bad = ("（1）针对“群众对部门工作的满意度”未得满分的问题，按偏差原因分析及改进措施"
           "（本局为今年新组建单位，未纳入双评议考核）落实整改，确保下一年度达到指标值。\n")
    assert kinds(bad, [p1]) == ["cause_as_measure"]
    assert kinds("改进措施：本局为今年新组建单位，未纳入双评议考核。\n", [p1]) == ["cause_as_measure"]
    assert kinds("改进措施：2024年完成与民政部门的数据对接。\n", [p1]) == []


def test_date_not_from_data(p1):
    assert kinds("洪山区医疗保障局　2026年12月1日\n", [p1]) == ["date_not_from_data"]
    assert kinds("洪山区医疗保障局　2020年5月20日\n", [p1], info={"report_date": "2020-05-20"}) == []


def test_placeholder_in_a_final_report(p1):
    text = "年末结余0.04万元，结余原因：（待补充结余原因）。\n报告日期：XX\n"
    assert kinds(text, [p1], final=True) == ["placeholder", "placeholder"]
    assert kinds(text, [p1]) == []


def test_sentence_contradicting_a_cell(p1):
    assert kinds("预算执行率98%。\n", [p1]) == ["contradiction"]
    assert kinds("本项目自评总分91分（满分100分），自评等级为“良”。\n", [p1]) == ["contradiction", "contradiction"]
    assert kinds("年末结余0.4万元。\n", [p1]) == ["contradiction"]
    returned = "（1）加强预算执行管理：按月跟踪支出进度，对结余资金0.04万元按规定及时清理、收回统筹使用。\n"
    assert kinds(returned, [p1]) == ["contradiction"]      # the unit wrote “结余资金年底已退回财政”
    assert kinds("预算执行率99.9%，年末结余0.04万元。本项目自评总分90.98分，自评等级为“优”。\n", [p1]) == []


def test_every_slip_kind_has_a_test():
    tested = {"duplicate_subject", "numbering", "measure_as_cause", "cause_as_measure", "date_not_from_data",
              "placeholder", "contradiction"}
    assert tested == set(SLIP_KINDS)


# ----------------------------------------------------------------------------- generated reports have none

REASONS = [None, "原因说明", "本单位为新组建单位，未纳入考核", "加大宣传力度", "提升服务质量",
           "受疫情影响活动延期，下一步将加快实施进度", "原因：资金到位晚；改进措施：提前做好资金申请",
           "部门间数据共享尚未全部实现；2024年完成与民政部门的数据对接。"]


def _inputs(n: int):
    profiles = list_profiles()
    for seed in range(n):
        rng = random.Random(seed)
        pid = profiles[seed % len(profiles)]
        rec = generated_project(seed, pid)
        if seed % 2:
            rec.department = rec.unit                   # 主管 and 实施 the same body
        for row in rec.indicators:
            row.reason = rng.choice(REASONS)
        rec.rate_reason = rng.choice([None, "部分经费年底未支付", "结余资金年底已退回财政"])
        yield from_record(rec, load_profile(pid), source=f"gen{seed}")


def _check(markup: str, contexts, info=None, totals=None):
    slips = find_slips(markup, contexts, info=info, totals=totals)
    assert not slips, "\n".join(map(str, slips[:5]))


def test_no_slips_in_200_generated_projects_times_every_outline():
    """200 projects (every profile) × 综述 (project, transfer) × report (the profile's region, Hunan) + 100
    two-project reports."""
    narrator = Narrator()
    inputs = list(_inputs(200))
    for inp in inputs:
        for family in ("project", "transfer"):
            s = narrator.summary(inp, family)
            _check(s.markup, [s.context])
            for region in (None, "hunan"):               # the profile's region, and Hunan's 附件3
                r = narrator.report(inp, family, region)
                _check(r.markup, [r.context], info=r.context["info"])
    for a, b in zip(inputs[::2], inputs[1::2]):          # multi-project reports, two projects each
        r = narrator.multi_report([a, b], {"报告日期": "2020-05-20"})
        _check(r.markup, r.context["projects"], info=r.context["info"], totals=r.context["totals"])


@pytest.mark.parametrize("names", [("seed003-p1",), ("seed003-p2",), ("seed004",), ("seed003-p1", "seed003-p2")])
def test_no_slips_in_the_seed_reports(names):
    narrator = Narrator()
    inputs = [from_data_file(SEEDS / f"{n}.yaml") for n in names]
    if len(inputs) > 1:
        r = narrator.multi_report(inputs, {"单位名称": "洪山区医疗保障局", "报告日期": "2020-05-20"})
        _check(r.markup, r.context["projects"], info=r.context["info"], totals=r.context["totals"])
        return
    for family in ("project", "transfer"):
        r = narrator.report(inputs[0], family)
        _check(r.markup, [r.context], info=r.context["info"])


def test_multi_context_totals_are_checked():
    ctx, _ = multi_context([from_data_file(SEEDS / "seed003-p1.yaml"), from_data_file(SEEDS / "seed003-p2.yaml")])
    assert kinds("涉及预算资金67.56万元，预算执行率99.62%。\n", ctx["projects"], totals=ctx["totals"]) == []
    assert kinds("涉及预算资金67.56万元，预算执行率99.7%。\n", ctx["projects"], totals=ctx["totals"]) == \
        ["contradiction"]
