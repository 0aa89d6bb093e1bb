"""The narrative layer: official-writing filters, the 综述 generated from the scored table,
sandboxed bureau-editable templates, the multi-project report, the 综述 sheet written back into
the workbook, and the ``jxzp narrative`` command.

The central property: every number in a generated text is a figure of the table (the scorer's
result or a value the unit typed), so the narrative can never contradict the 自评表 the way the
seeds' hand-written reports do (seed 000: 83 % vs 61.7 %; seed 004: 269 万元 vs 108).
"""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from xlsx_engine.forms.project.profile import load_profile
from xlsx_engine.forms.project.record import load_data
from xlsx_engine.forms.project.scoring import actual_value, is_active
from xlsx_engine.forms.registry import open_template, read_project
from xlsx_engine.kernel.errors import WorkbookError
from xlsx_engine.kernel.textfilters import (
    FilterError,
    amount,
    cncount,
    cndate,
    cnnum,
    enum,
    num,
    pct,
    pending,
    qty,
    rmb,
    section,
    sentence,
    unnumber,
    wan,
)
from xlsx_engine.kernel.xlmath import is_number, xround
from xlsx_engine.narrative.engine import (
    NarrativeError,
    Narrator,
    from_data_file,
    from_record,
    from_workbook,
    parse_blocks,
    project_context,
)
from xlsx_engine.narrative.slips import find_slips
from xlsx_engine.ooxml.recalc import convert_files
from xlsx_engine.ooxml.writeback import (
    password_hash,
    patch_workbook,
    sheet_rows,
    write_back,
)

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "tests" / "data" / "seeds"
EXAMPLES = ROOT / "examples"
TEMPLATES = ROOT / "templates"
SEED_FILES = ("seed003-p1", "seed003-p2", "seed004")
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


# ----------------------------------------------------------------------------- helpers

def seed_input(name: str, extra: dict | None = None):
    return from_data_file(SEEDS / f"{name}.yaml", extra=extra)


def _norm(value: float) -> str:
    text = f"{xround(float(value), 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_STRUCTURE = (re.compile(r"（\d+）"), re.compile(r"(?m)^(#+\s*)?\d+\.(?!\d)"), re.compile(r"\d+-\d+、"),
              re.compile(r"附件\d+"), re.compile(r"(?m)^\|\s*\d+\s*\|"))


def text_numbers(text: str) -> list[str]:
    """Every number in a text, after removing structural numbering (（1）, 1., 1-2、, 附件1, table 序号)."""
    for rx in _STRUCTURE:
        text = rx.sub(" ", text)
    return [_norm(float(m)) for m in _NUMBER.findall(text)]


def table_figures(inp, extra_texts: tuple[str, ...] = ()) -> set[str]:
    """Every figure of the table, computed here from the scorer's Result and the record (not from the
    narrative's context), plus the numbers the unit typed into text fields."""
    r, rec, p = inp.result, inp.record, inp.profile
    f = r.fund
    nums: list[float] = [f.initial, f.budget, f.spent, f.budget - f.spent, f.score, p.fund_weight]
    if is_number(f.rate):
        nums.append(f.rate * 100)
    for line, src_rate in zip(rec.funds, f.source_rates):
        vals = [v if is_number(v) else 0.0 for v in (line.initial, line.budget, line.spent)]
        nums += vals + [vals[1] - vals[2]]
        if is_number(src_rate):
            nums.append(src_rate * 100)
    groups: dict[str, list[float]] = {}
    for row, res in zip(rec.indicators, r.indicators):
        if not is_active(row):
            continue
        for v in (row.weight, res.score, row.target, row.actual):
            if is_number(v):
                nums.append(v)
        if is_number(row.actual):
            nums.append(actual_value(row))      # “72%” typed is 0.72 in the cell, scored and printed as 72%
        if is_number(row.weight) and is_number(res.score):
            nums.append(row.weight - res.score)
            g = groups.setdefault(str(row.level1), [0.0, 0.0])
            g[0] += row.weight
            g[1] += res.score
        if is_number(row.target) and is_number(row.actual) and row.target > 0:
            nums.append((row.actual / row.target - 1) * 100)
    for w, s in groups.values():
        nums += [w, s]
    nums += [r.total, r.raw_total, r.total_weight, r.score_sum, r.weight_sum, r.target_score, p.target_weight,
             ((p.over_ratio or 1.3) - 1) * 100, p.over_penalty]
    if r.cap is not None:
        nums.append(r.cap)
    if is_number(rec.year):
        nums.append(rec.year)
    texts = [rec.project, rec.department, rec.unit, rec.rate_reason, *extra_texts]
    texts += [g.expected for g in rec.goals] + [g.actual for g in rec.goals]
    texts += [v for row in rec.indicators for v in (row.name, row.reason, row.target, row.actual, row.level1,
                                                    row.level2)]
    texts += [str(v) for v in (inp.extra or {}).values()]
    figures = {_norm(x) for x in nums if is_number(x)}
    for t in texts:
        if isinstance(t, str):
            figures.update(_norm(float(m)) for m in _NUMBER.findall(t))
    return figures


def foreign_numbers(text: str, inp, extra_texts: tuple[str, ...] = ()) -> list[str]:
    allowed = table_figures(inp, extra_texts)
    return [n for n in text_numbers(text) if n not in allowed]


@pytest.fixture(scope="module")
def narrator():
    return Narrator()


# ----------------------------------------------------------------------------- 1. filters

def test_amounts_round_like_the_spreadsheet():
    assert amount(39.96) == "39.96" and amount(40) == "40" and amount(40, fixed=True) == "40.00"
    assert amount(2.675) == "2.68" and amount(1.005) == "1.01"          # half away from zero on the decimal value
    assert amount(1234567.5, sep=True) == "1,234,567.5" and amount(None) == "—"
    assert wan(27.34) == "27.34万元" and wan(0.04) == "0.04万元"
    with pytest.raises(FilterError, match="不是数字"):
        wan("一百")


def test_percentages_and_scores():
    assert pct(0.999) == "99.9%" and pct(1) == "100%" and pct(0.9920, fixed=True) == "99.20%"
    assert pct(95, ratio=False) == "95%" and pct(None) == "无法计算" and pct("—") == "无法计算"
    assert num(98.0) == "98" and num(19.984) == "19.98" and num(0.1 + 0.2) == "0.3"
    assert qty(3, "次") == "3次" and qty(93.5, "%") == "93.5%" and qty("优") == "优"


def test_chinese_dates():
    assert cndate("2022-08-16") == "2022年8月16日"
    assert cndate("2022/8/16") == cndate("2022年8月16日") == cndate("20220816") == "2022年8月16日"
    import datetime as dt
    assert cndate(dt.date(2021, 5, 6)) == "2021年5月6日" and cndate("2020-5", "ym") == "2020年5月"
    with pytest.raises(FilterError, match="不是有效日期"):
        cndate("2022-13-01")


def test_enumerations_numerals_and_sections():
    assert enum([]) == "" and enum(["甲"]) == "甲" and enum(["甲", "乙"]) == "甲和乙"
    assert enum(["甲", "乙", "丙"]) == "甲、乙和丙" and enum(["甲", "乙"], "或") == "甲或乙"
    assert [cnnum(n) for n in (1, 10, 11, 20, 21, 105, 110, 1010, 10005, 100000)] == \
        ["一", "十", "十一", "二十", "二十一", "一百零五", "一百一十", "一千零一十", "一万零五", "十万"]
    assert cncount(2) == "两" and cncount(12) == "十二"
    assert [section(3, level) for level in (1, 2, 3, 4)] == ["三、", "（三）", "3.", "（3）"]
    with pytest.raises(FilterError):
        section(0)


@pytest.mark.parametrize("wan_value,words", [
    (269, "人民币贰佰陆拾玖万元整"), (28545.3, "人民币贰亿捌仟伍佰肆拾伍万叁仟元整"),
    (0.10005, "人民币壹仟元伍角"), (10.000005, "人民币壹拾万元零伍分"), (10001, "人民币壹亿零壹万元整"),
    (100.0001, "人民币壹佰万零壹元整"), (0, "人民币零元整")])
def test_amounts_in_words(wan_value, words):
    assert rmb(wan_value) == words
    assert rmb(1005.5, unit="元", prefix="") == "壹仟零伍元伍角"


def test_text_helpers():
    assert pending(None, "偏差原因") == "（待补充偏差原因）" and pending("  ") == "（待补充说明）"
    assert pending("已退回财政。") == "已退回财政"
    assert sentence("结余已退回；") == "结余已退回。" and sentence("") == ""
    assert unnumber("（1）由于时间短") == "由于时间短" and unnumber("目标1：将符合条件") == "将符合条件"
    assert unnumber("10462人") == "10462人"


# ----------------------------------------------------------------------------- 2. every number equals the table

@pytest.mark.parametrize("seed", SEED_FILES)
@pytest.mark.parametrize("family", ["project", "transfer"])
def test_every_number_in_the_summary_is_a_table_figure(narrator, seed, family):
    inp = seed_input(seed)
    text = narrator.summary(inp, family).text()
    found = text_numbers(text)
    assert len(found) > 15
    assert foreign_numbers(text, inp) == []


@pytest.mark.parametrize("seed", SEED_FILES)
def test_every_number_in_the_full_report_is_a_table_figure(narrator, seed):
    extra = {"报告日期": "2021-05-06", "评价机构": "部门（单位）评价组"}
    inp = seed_input(seed, extra)
    md = narrator.report(inp).markdown()
    assert foreign_numbers(md, inp, ("2021-05-06",)) == []


def test_the_checker_catches_a_figure_that_is_not_in_the_table(narrator):
    """Seed 004's hand-written report says 269 万元 where its table says 108; seed 000 says 83 %."""
    inp = seed_input("seed004")
    text = narrator.summary(inp).text()
    assert "108万元" in text and "269" not in text
    assert foreign_numbers(text + "本年支出269万元，补偿比例83%。", inp) == ["269", "83"]


def test_seed003_sentences_state_the_scorers_figures(narrator):
    inp = seed_input("seed003-p1")
    text = narrator.summary(inp).text()
    r = inp.result
    assert (r.fund.score, r.total, r.grade) == (19.98, 90.98, "优")
    assert "全年预算数40万元，全年执行数39.96万元，预算执行率99.9%" in text
    assert "年末结余0.04万元，结余原因：医疗保障局开办费、党建工作经费及文明创建工作经费有结余" in text
    assert "项目资金得分19.98分（分值20分）" in text
    assert "项目总分90.98分（满分100分）" in text and "评价等次为“优”" in text
    # the one indicator below full marks is named with its 完成值, 指标值 and 偏差原因
    assert re.search(r"群众对部门工作的满意度：年度指标值“100%”，实际完成值（待补充实际完成值），完成等级为“未达成”，"
                     r"得8分（分值15分，扣7分）。偏差原因：本局为今年新组建单位，未纳入双评议考核。", text)


def test_seed004_fund_outside_the_total_and_grade(narrator):
    inp = seed_input("seed004")
    assert narrator.summary(inp).text().startswith("一、绩效目标分解下达情况\n")   # Ningxia: seed 004's outline
    text = narrator.summary(inp, "project").text()
    assert "项目总分98分（满分100分）" in text
    assert "预算执行率得分10分单列，不计入总分" in text
    assert "预算资金已全部执行，无结余" in text
    for name in ("参保人员对医保服务的满意度", "政策知晓率"):
        assert re.search(name + r"：年度指标值“≥95%”，实际完成值填写为“≥95%”（为指标值写法，待补充实际测量值）.*"
                         r"得9分（分值10分，扣1分）", text)


def test_under_spending_states_balance_and_reason(narrator):
    inp = from_data_file(EXAMPLES / "2023-城乡医疗救助补助资金.yaml")
    text = narrator.summary(inp).text()
    assert "年末结余11.6万元，结余原因：年末部分救助对象资格复核未完成" in text
    assert "当年财政拨款全年预算280万元、执行268.4万元（执行率95.86%）" in text
    assert "待补充" not in text        # every required reason was given, with its measure (“2024年完成……”)
    assert "偏差原因：部门间数据共享尚未全部实现。改进措施：2024年完成与民政、乡村振兴部门的数据对接。" in text
    assert foreign_numbers(text, inp) == []


def test_over_achievement_is_explained_and_the_platform_cap_stated(narrator):
    inp = from_data_file(EXAMPLES / "2023-医保基金监管专项.yaml")
    r = narrator.summary(inp)
    text = r.text()
    assert ("完成值超过指标值30.44%，超过评分规则规定的30%，按规则扣2分，原因：年中新增定点机构纳入检查，完成数超计划较大。"
            "改进措施：今后按机构增长情况合理设定目标。") in text
    assert "集中宣传活动次数：年度指标值≥2次，实际完成值3次" in text
    assert "完成值超过指标值50%，超过评分规则规定的30%，按规则扣2分，原因：（待补充超额完成原因）" in text
    assert "设定偏低" not in text
    assert "因预算执行率为76%，按规则总分不超过89分（各项得分合计为91.6分）" in text
    assert [f.code for f in r.warnings if f.code == "over_reason_missing"] == ["over_reason_missing"]
    assert foreign_numbers(text, inp) == []


# ----------------------------------------------------------------------------- 3. placeholders and warnings

def _without_reason(name: str, index: int):
    p = load_profile("hubei-wuhan")
    rec = load_data(SEEDS / f"{name}.yaml", p)
    rec.indicators[index].reason = None
    return from_record(rec, p, source=name)


def test_missing_reason_gives_visible_placeholder_and_warning(narrator):
    inp = _without_reason("seed003-p1", 3)
    r = narrator.summary(inp)
    text = r.text()
    assert "扣7分）。偏差原因：（待补充偏差原因）。" in text
    assert "原因：（待补充偏差原因）" in text and "（待补充改进措施）" in text
    warnings = [f for f in r.warnings if f.code == "reason_missing"]
    assert len(warnings) == 1 and "群众对部门工作的满意度" in warnings[0].message
    assert "待补充偏差原因" in warnings[0].message
    # with the reason present: neither placeholder nor warning
    full = narrator.summary(seed_input("seed003-p1"))
    assert "待补充偏差原因" not in full.text() and not [f for f in full.warnings if f.code == "reason_missing"]


def test_main_problems_come_from_the_forms_own_checks(narrator):
    """主要问题 names what the form's checks found — weights against the rules, entries against the lists — with a
    matching measure, instead of a stock sentence (issue 14, item 4)."""
    p = load_profile("hubei-wuhan")
    rec = load_data(SEEDS / "seed003-p1.yaml", p)
    rec.indicators[0].weight = float(rec.indicators[0].weight) - 5           # 分值合计 95
    rec.indicators[1].level2 = "不存在的二级指标"
    inp = from_record(rec, p, source="seed003-p1")
    rendered = narrator.summary(inp)
    text = rendered.text()
    problems = text[text.index("存在的问题"):text.index("改进措施和建议")]
    assert "绩效指标分值设置不符合评分规则：分值合计为95，应为100" in problems
    assert f"部分指标填报不规范：“{rec.indicators[1].name}”二级指标与一级指标不匹配" in problems
    measures = text[text.index("改进措施和建议"):]
    assert "按评分规则设置各指标分值，使分值合计为100分" in measures and "按模板下拉列表规范填写" in measures
    assert not find_slips(rendered.markup, [project_context(inp)[0]])
    clean = narrator.summary(seed_input("seed003-p1")).text()
    assert "分值设置不符合评分规则" not in clean and "填报不规范" not in clean


def test_missing_balance_reason_gives_placeholder_and_warning(narrator):
    p = load_profile("hubei-wuhan")
    rec = load_data(SEEDS / "seed003-p2.yaml", p)
    rec.rate_reason = None
    r = narrator.summary(from_record(rec, p))
    assert "年末结余0.22万元，结余原因：（待补充结余原因）。" in r.text()
    assert any(f.code == "balance_reason" and "0.22万元" in f.message for f in r.warnings)


@pytest.mark.parametrize("problems,suggestions,codes", [
    (["资金不足"], ["加大资金投入"], {"funds_only_problem", "funds_only_suggestion"}),
    ("（1）项目经费严重不足；", "建议进一步加大资金投入力度。", {"funds_only_problem", "funds_only_suggestion"}),
    (["资金不足", "部分救助对象信息更新不及时，存在漏救风险"], ["加强与民政部门数据比对"], set()),
])
def test_funding_only_problems_and_suggestions_warn(narrator, problems, suggestions, codes):
    inp = seed_input("seed003-p1", {"存在问题": problems, "改进建议": suggestions})
    r = narrator.summary(inp)
    got = {f.code for f in r.warnings} & {"funds_only_problem", "funds_only_suggestion"}
    assert got == codes
    text = r.text()
    # the unit's own items are kept, after the ones built from the shortfalls
    assert "“群众对部门工作的满意度”未得满分" in text.split("六、存在的问题及原因")[1]
    assert "针对“群众对部门工作的满意度”未得满分的问题" in text.split("七、改进措施和建议")[1]


def test_every_placeholder_kind_is_warned(narrator):
    r = narrator.summary(seed_input("seed004"), "transfer")
    text = r.text()
    assert "（待补充资金管理情况）" in text and "（待补充自评结果应用和公开情况）" in text
    pending = [f.message for f in r.warnings if f.code == "pending"]
    assert any("待补充资金管理情况" in m for m in pending)
    assert any("待补充自评结果应用和公开情况" in m for m in pending)
    # placeholders that already have a specific warning are not repeated
    assert not any("待补充实际完成值" in m for m in pending)
    extra = {"资金管理情况": "专款专用", "结果应用": "绩效目标已公开"}
    filled = narrator.summary(seed_input("seed004", extra), "transfer")
    assert not [f for f in filled.warnings if f.code == "pending"]


def test_unknown_information_key_warns(narrator):
    r = narrator.summary(seed_input("seed004", {"项目负债人": "张波"}))
    assert any(f.code == "unknown_info" and "项目负债人" in f.message for f in r.warnings)


def test_information_enriches_the_text(narrator):
    extra = {"项目背景": "为配合国家打击欺诈骗取医保基金专项行动", "组织实施情况": "成立专项工作组，分片包干。",
             "存在问题": ["（1）部分定点机构整改不到位；"], "改进建议": "建立定点机构约谈制度"}
    text = narrator.summary(seed_input("seed003-p2", extra)).text()
    assert "为配合国家打击欺诈骗取医保基金专项行动。" in text and "成立专项工作组，分片包干。" in text
    assert "部分定点机构整改不到位。" in text and "（1）部分定点" not in text
    assert "建立定点机构约谈制度。" in text


def test_context_from_workbook_equals_context_from_data(tmp_path):
    p = load_profile("ningxia-jinfeng")
    rec = load_data(SEEDS / "seed004.yaml", p)
    path = tmp_path / "s4.xlsx"
    open_template(TEMPLATES / "xmzc-ningxia-jinfeng.xlsx").fill_to(rec, path)
    a, _ = project_context(from_workbook(path))
    b, _ = project_context(from_record(rec, p))
    assert a["fund"] == b["fund"] and a["indicators"] == b["indicators"] and a["result"] == b["result"]


# ----------------------------------------------------------------------------- 4. templates: custom, sandbox, errors

def test_custom_template_renders(tmp_path):
    tpl = tmp_path / "我的综述.j2"
    tpl.write_text("# 一、总体情况\n{{ project.name }}总分{{ result.total | num }}分，等次{{ result.grade }}，"
                   "执行率{{ fund.rate | pct }}，资金{{ fund.budget | rmb }}。\n"
                   "{% for i in below %}{{ loop.index | section(4) }}{{ i.name }}："
                   "{{ i.reason | pending('偏差原因') }}\n"
                   "{% endfor %}", encoding="utf-8")
    r = Narrator(tpl).summary(seed_input("seed004"))
    assert r.blocks[0].kind == "heading" and r.blocks[0].text == "一、总体情况"
    assert "2020年城乡医疗保险个人补助资金总分98分，等次优，执行率100%，资金人民币壹佰零捌万元整。" in r.text()
    assert "（1）参保人员对医保服务的满意度：提升医疗保障服务" in r.text()


def test_custom_folder_overrides_one_builtin_file(tmp_path):
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "summary.j2").write_text(
        '{% import "_macros.j2" as m %}# 综述\n{{ m.fund_execution(fund) }}\n', encoding="utf-8")
    text = Narrator(tmp_path).summary(seed_input("seed003-p1")).text()
    assert text.startswith("综述\n") and "年末结余0.04万元" in text


def _error(tmp_path, body: str) -> NarrativeError:
    tpl = tmp_path / "bad.j2"
    tpl.write_text(body, encoding="utf-8")
    with pytest.raises(NarrativeError) as info:
        Narrator(tpl).summary(seed_input("seed004"))
    return info.value


@pytest.mark.parametrize("attack", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ project.__class__ }}",
    "{{ cycler.__init__.__globals__ }}",
])
def test_sandbox_escape_fails_with_a_clear_error(tmp_path, attack):
    err = _error(tmp_path, "第一行正常：{{ project.name }}\n" + attack + "\n")
    assert err.line == 2 and err.template.endswith("bad.j2")
    text = str(err)
    assert "bad.j2 第2行" in text and "沙箱已禁止" in text and "__" in text
    assert "Traceback" not in text


def test_sandbox_forbids_modifying_data(tmp_path):
    err = _error(tmp_path, "{{ indicators.append(1) }}\n")
    assert err.line == 1 and "append" in str(err) and "沙箱已禁止" in str(err)


@pytest.mark.parametrize("body,words", [("{{ '报告' * 10000000 }}", "过长"), ("{{ 9 ** project.year }}", "指数")])
def test_sandbox_limits_memory_and_cpu(tmp_path, body, words):
    err = _error(tmp_path, "\n" + body + "\n")
    assert err.line == 2 and words in str(err) and "沙箱已禁止" in str(err)


def test_undefined_variable_names_file_line_and_variable(tmp_path):
    err = _error(tmp_path, "# 一、概况\n{{ project.name }}\n项目负责人：{{ projcet.leader }}\n")
    assert err.line == 3 and "变量“projcet”未定义" in str(err)
    assert "bad.j2 第3行" in str(err) and "{{ projcet.leader }}" in str(err)


def test_undefined_attribute_names_it(tmp_path):
    err = _error(tmp_path, "\n\n\n{{ fund.budjet | wan }}\n")
    assert err.line == 4 and "budjet" in str(err)


def test_syntax_error_names_line_and_tag(tmp_path):
    err = _error(tmp_path, "{% for i in indicators %}\n{{ i.name }}\n{% endif %}\n")
    assert err.line == 3 and "语法错误" in str(err) and "endif" in str(err)


def test_filter_error_names_line(tmp_path):
    err = _error(tmp_path, "a\n{{ project.name | wan }}\n")
    assert err.line == 2 and "不是数字" in str(err)


def test_error_in_an_included_template_names_that_file(tmp_path):
    """A bureau's template folder: project/summary.j2 includes its own part.j2, which has the mistake."""
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "summary.j2").write_text('# 标题\n{% include "part.j2" %}\n', encoding="utf-8")
    (tmp_path / "part.j2").write_text("正常\n正常\n{{ no_such_thing }}\n", encoding="utf-8")
    with pytest.raises(NarrativeError) as info:
        Narrator(tmp_path).summary(seed_input("seed004"), "project")
    err = info.value
    assert err.template == str(tmp_path / "part.j2") and err.line == 3 and "no_such_thing" in str(err)


def test_missing_template_file_is_an_error(tmp_path):
    with pytest.raises(NarrativeError, match="找不到模板文件"):
        Narrator(tmp_path / "none.j2")


# ----------------------------------------------------------------------------- 5. outputs: markdown, text, multi

def test_blocks_markdown_and_text():
    blocks = parse_blocks("# 一、甲\n\n正文一\n## （一）乙\n| a | b |\n| --- | --- |\n\n| 1 | 2 |\n"
                          "| c | d |\n| --- | --- |\n| 3 | 4 |\n")
    assert [b.kind for b in blocks] == ["heading", "para", "heading", "table", "table"]
    assert blocks[3].rows == [["a", "b"], ["1", "2"]] and blocks[4].rows == [["c", "d"], ["3", "4"]]
    from xlsx_engine.narrative.engine import blocks_to_markdown, blocks_to_text
    assert "| a | b |\n| --- | --- |\n| 1 | 2 |" in blocks_to_markdown(blocks)
    assert blocks_to_text(blocks).splitlines()[:2] == ["一、甲", "\u3000\u3000正文一"]


def test_a_section_marker_aligns_its_paragraphs_and_is_not_printed():
    """``::: 左对齐`` names a section by a marker, not by its wording: its paragraphs carry the alignment up to a bare
    ``:::`` or the next heading (a closing line a bureau deleted does not spread further); the marker lines are not
    printed; a marker with another name is printed as it stands, so a typo shows."""
    from xlsx_engine.narrative.engine import (
        ALIGN_LEFT,
        blocks_to_markdown,
        blocks_to_text,
    )
    blocks = parse_blocks("# 一、甲\n::: 左对齐\n段一\n\n段二\n:::\n段三\n## 二、乙\n:::左对齐\n段四\n# 三、丙\n段五\n"
                          "::: 左对齐了\n")
    assert [(b.text, b.align) for b in blocks if b.kind == "para"] == [
        ("段一", ALIGN_LEFT), ("段二", ALIGN_LEFT), ("段三", ""), ("段四", ALIGN_LEFT), ("段五", ""), ("::: 左对齐了", "")]
    for out in (blocks_to_markdown(blocks), blocks_to_text(blocks)):
        assert ":::" not in out.replace("::: 左对齐了", "")


def test_full_report_markdown_has_cover_sections_and_table(narrator):
    extra = {"报告地区": "湖南", "报告日期": "2022-08-16", "财政局": "临湘市财政局", "评价类型": "项目实施过程评价", "项目负责人": "张波",
             "评价人员": [{"姓名": "刘春阳", "职称职务": "副局长", "单位": "医疗保障局机关"}]}
    md = narrator.report(seed_input("seed004", extra)).markdown()
    for text in ("# 财政支出项目绩效评价自评报告", "评价类型：项目实施过程评价☑　项目完成结果评价□",
                 "项目名称：2020年城乡医疗保险个人补助资金", "项目单位：银川市金凤区医疗保障局",
                 "主管部门：银川市医疗保障局",
                 "评价方式：部门（单位）绩效自评", "评价机构：部门（单位）评价组", "报告日期：2022年8月16日",
                 "临湘市财政局（制）", "## 一、项目基本概况", "## 二、项目支出明细情况", "## 三、项目绩效自评情况",
                 "## 四、评价人员", "## 五、评价报告综述（文字部分）", "### （六）存在的问题及原因",
                 "| 项目负责人 | 张波 |", "| 刘春阳 | 副局长 | 医疗保障局机关 |  |",
                 "| 产出指标 | 成本指标 | 实际项目支出资金 | 108万元 | 108万元 | 10 | 10 |  |",
                 "| 总分 |  |  |  |  | 100 | 98 | 评价等次：优 |"):
        assert text in md, text


def test_multi_project_report_summary_table_and_sections(narrator):
    inputs = [seed_input("seed003-p1"), seed_input("seed003-p2")]
    info = {"单位名称": "洪山区医疗保障局", "预算资金总额": 67.56, "报告日期": "2020-05-20"}
    r = narrator.multi_report(inputs, info)
    md = r.markdown()
    assert "| 序号 | 项目名称 | 预算数（万元） | 全年执行数（万元） | 得分 | 自评等级 |" in md
    assert "| 1 | 机关建设及日常保障经费 | 40.00 | 39.96 | 90.98 | 优 |" in md
    assert "| 2 | 打击欺诈骗取医保基金专项经费 | 27.56 | 27.34 | 92.84 | 优 |" in md
    assert "| 合计 |  | 67.56 | 67.30 | — | — |" in md
    assert "洪山区医疗保障局对本单位2019年度两个项目开展了绩效自评，涉及预算资金67.56万元" in md
    assert "自评覆盖率100%" in md
    for heading in ("## 一、绩效自评工作开展情况", "## 二、本报告包含项目的自评结果", "## 三、各项目自评情况",
                    "### 1. 机关建设及日常保障经费", "#### 1-5、主要问题和改进措施",
                    "### 2. 打击欺诈骗取医保基金专项经费", "## 四、绩效自评工作的经验、问题和建议",
                    "### 附件2 打击欺诈骗取医保基金专项经费项目支出绩效自评表"):
        assert heading in md, heading
    assert "本项目自评总分92.84分（满分100分），自评等级为“优”" in md
    # every number: the union of both projects' figures plus the totals
    allowed = table_figures(inputs[0]) | table_figures(inputs[1]) | {"67.56", "67.3", "99.62", "100", "2020", "5", "20"}
    assert [n for n in text_numbers(md) if n not in allowed] == []


def test_multi_report_warns_on_funding_only_unit_problems(narrator):
    r = narrator.multi_report([seed_input("seed003-p1"), seed_input("seed003-p2")],
                              {"存在问题": ["资金不足"], "建议": ["加大资金投入"]})
    codes = {f.code for f in r.warnings}
    assert {"funds_only_problem", "funds_only_suggestion"} <= codes


# ----------------------------------------------------------------------------- 6. write-back into the workbook

@pytest.fixture()
def seed004_workbook(tmp_path):
    p = load_profile("ningxia-jinfeng")
    path = tmp_path / "seed004.xlsx"
    open_template(TEMPLATES / "xmzc-ningxia-jinfeng.xlsx").fill_to(load_data(SEEDS / "seed004.yaml", p), path)
    return path


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        return {n: zf.read(n) for n in zf.namelist()}


def _write_summary(path: Path, narrator: Narrator):
    inp = from_workbook(path)
    r = narrator.summary(inp, "project")
    write_back(path, r.blocks, subtitle=inp.name)
    return inp, r


def test_write_back_adds_a_protected_sheet_and_keeps_everything_else(seed004_workbook, narrator):
    before = _members(seed004_workbook)
    score_before = read_project(seed004_workbook).evaluate()
    _inp, r = _write_summary(seed004_workbook, narrator)
    after = _members(seed004_workbook)
    new = set(after) - set(before)
    assert len(new) == 1
    sheet = new.pop()
    assert sheet.startswith("xl/worksheets/")
    changed = sorted(n for n in before if before[n] != after[n])
    assert changed == ["[Content_Types].xml", "xl/_rels/workbook.xml.rels", "xl/workbook.xml"]
    wb = etree.fromstring(after["xl/workbook.xml"])
    sheets = wb.findall("m:sheets/m:sheet", NS)
    assert [s.get("name") for s in sheets] == ["自评表", "字典", "综述"]
    assert wb.find("m:workbookProtection", NS).get("lockStructure") == "1"
    assert f'PartName="/{sheet}"'.encode() in after["[Content_Types].xml"]
    root = etree.fromstring(after[sheet])
    prot = root.find("m:sheetProtection", NS)
    assert prot.get("sheet") == "1" and prot.get("password") == password_hash("jxzp") == "CBAB"
    texts = [t.text for t in root.iter(f"{{{NS['m']}}}t")]
    assert texts[0] == "评价报告综述（文字部分）" and texts[1] == "2020年城乡医疗保险个人补助资金"
    assert "六、存在的问题及原因" in texts and any("项目总分98分" in t for t in texts)
    # the table reads back unchanged and scores the same
    rb = read_project(seed004_workbook)
    assert rb.workbook.sheet_names == ["自评表", "字典", "综述"]
    result = rb.evaluate()
    assert (result.total, result.grade, result.fund.score) == (score_before.total, score_before.grade, 10.0)
    assert rb.cached["总分"] == 98.0


def test_write_back_second_run_replaces_only_the_sheet_content(seed004_workbook, narrator):
    _write_summary(seed004_workbook, narrator)
    first = _members(seed004_workbook)
    rows = sheet_rows(parse_blocks("# 一、新的综述\n只有一段。\n"), "评价报告综述（文字部分）")
    seed004_workbook.write_bytes(patch_workbook(seed004_workbook, rows))
    second = _members(seed004_workbook)
    assert set(second) == set(first)
    changed = [n for n in first if first[n] != second[n]]
    assert len(changed) == 1 and changed[0].startswith("xl/worksheets/")
    assert "只有一段。".encode() in second[changed[0]] and "六、存在的问题".encode() not in second[changed[0]]
    assert read_project(seed004_workbook).evaluate().total == 98.0


def test_write_back_updates_sheet_titles_of_excel_saved_files(seed004_workbook, tmp_path):
    app = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
           'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
           '<Application>Microsoft Excel</Application><HeadingPairs><vt:vector size="4" baseType="variant">'
           '<vt:variant><vt:lpstr>工作表</vt:lpstr></vt:variant><vt:variant><vt:i4>2</vt:i4></vt:variant>'
           '<vt:variant><vt:lpstr>命名范围</vt:lpstr></vt:variant><vt:variant><vt:i4>1</vt:i4></vt:variant>'
           '</vt:vector></HeadingPairs><TitlesOfParts><vt:vector size="3" baseType="lpstr"><vt:lpstr>自评表</vt:lpstr>'
           '<vt:lpstr>字典</vt:lpstr><vt:lpstr>年度</vt:lpstr></vt:vector></TitlesOfParts></Properties>')
    members = _members(seed004_workbook)
    members["docProps/app.xml"] = app.encode("utf-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, d in members.items():
            zf.writestr(n, d)
    seed004_workbook.write_bytes(buf.getvalue())
    write_back(seed004_workbook, parse_blocks("# 一、概况\n正文\n"))
    root = etree.fromstring(_members(seed004_workbook)["docProps/app.xml"])
    vt = "{http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes}"
    titles = [e.text for e in root.iter(f"{vt}lpstr")]
    assert titles == ["工作表", "命名范围", "自评表", "字典", "综述", "年度"]
    assert [e.text for e in root.iter(f"{vt}i4")] == ["3", "1"]


def test_write_back_refuses_what_is_not_a_workbook(tmp_path):
    bad = tmp_path / "x.xlsx"
    bad.write_bytes(b"not a zip")
    with pytest.raises(WorkbookError):
        write_back(bad, parse_blocks("正文"))
    assert bad.read_bytes() == b"not a zip"


def test_written_back_workbook_opens_in_libreoffice(seed004_workbook, narrator, soffice, tmp_path):
    _write_summary(seed004_workbook, narrator)
    out = tmp_path / "pdf"
    convert_files([seed004_workbook], out, "pdf", soffice=soffice)
    pdf = out / "seed004.pdf"
    assert pdf.exists()
    text = re.sub(r"\s+", "", subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                                              check=True).stdout)
    assert "项目支出绩效自评表" in text                          # the table is still there
    assert "评价报告综述（文字部分）" in text and "六、存在的问题及原因" in text
    assert "项目总分98分（满分100分）" in text


# ----------------------------------------------------------------------------- 7. the command line

@pytest.fixture(scope="module")
def cli_main():
    from xlsx_engine.cli.main import cli, main
    from xlsx_engine.cli.narrative import narrative_command
    cli.add_command(narrative_command)
    return main


def run(cli_main, capsys, *args) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli_main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_prints_the_summary_and_warnings(cli_main, capsys, seed004_workbook):
    code, out, err = run(cli_main, capsys, "narrative", seed004_workbook)
    assert code == 0
    assert out.startswith("一、绩效目标分解下达情况\n") and "项目自评总分98分" in out   # Ningxia profile: seed 004's outline
    assert "提示：2020年城乡医疗保险个人补助资金：指标“政策知晓率”的实际完成值“≥95%”是目标值写法" in err


@pytest.mark.parametrize("suffix", [".md", ".txt", ".docx"])
def test_cli_writes_each_output_kind(cli_main, capsys, seed004_workbook, tmp_path, suffix):
    out = tmp_path / f"报告{suffix}"
    code, _out, err = run(cli_main, capsys, "narrative", seed004_workbook, "-o", out, "--date", "2021-05-06",
                          "--region", "hunan")
    assert code == 0 and out.exists() and f"已生成：{out}" in err
    if suffix == ".docx":
        assert zipfile.is_zipfile(out) and b"word/document.xml" in out.read_bytes()
    else:
        text = out.read_text(encoding="utf-8")
        assert "报告日期：2021年5月6日" in text and "五、评价报告综述（文字部分）" in text
        assert ("| 总分 |" in text) == (suffix == ".md")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_cli_multi_project_report_from_data_files(cli_main, capsys, tmp_path):
    out = tmp_path / "汇总.md"
    info = tmp_path / "info.yaml"
    info.write_text("单位名称: 洪山区医疗保障局\n报告日期: 2020-05-20\n", encoding="utf-8")
    code, _o, _e = run(cli_main, capsys, "narrative", SEEDS / "seed003-p1.yaml", SEEDS / "seed003-p2.yaml",
                       "-o", out, "--info", info)
    assert code == 0
    md = out.read_text(encoding="utf-8")
    assert "| 合计 |  | 67.56 | 67.30 | — | — |" in md and "洪山区医疗保障局　2020年5月20日" in md


def test_cli_write_back(cli_main, capsys, seed004_workbook):
    code, _o, err = run(cli_main, capsys, "narrative", seed004_workbook, "--write-back")
    assert code == 0 and f"已写入综述工作表：{seed004_workbook}" in err
    rb = read_project(seed004_workbook)
    assert "综述" in rb.workbook.sheet_names and rb.evaluate().total == 98.0
    code, _o, _e = run(cli_main, capsys, "score", seed004_workbook)
    assert code == 0                                   # cached values still agree with the scorer


def test_cli_refusals_exit_2_without_writing(cli_main, capsys, seed004_workbook, tmp_path):
    code, _o, err = run(cli_main, capsys, "narrative", seed004_workbook, "-o", tmp_path / "x.pdf")
    assert code == 2 and "应以 .docx、.md 或 .txt 结尾" in err
    existing = tmp_path / "old.md"
    existing.write_text("旧内容", encoding="utf-8")
    code, _o, err = run(cli_main, capsys, "narrative", seed004_workbook, "-o", existing)
    assert code == 2 and "已存在" in err and existing.read_text(encoding="utf-8") == "旧内容"
    code, _o, err = run(cli_main, capsys, "narrative", SEEDS / "seed004.yaml", "--write-back")
    assert code == 2 and "只能写入 .xlsx" in err
    code, _o, err = run(cli_main, capsys, "narrative", seed004_workbook, "--date", "2021-02-30")
    assert code == 2 and "不是有效日期" in err


def test_cli_template_error_names_file_and_line(cli_main, capsys, seed004_workbook, tmp_path):
    tpl = tmp_path / "t.j2"
    tpl.write_text("# 一\n{{ project.name }}\n{{ result.totl }}\n", encoding="utf-8")
    before = seed004_workbook.read_bytes()
    code, _o, err = run(cli_main, capsys, "narrative", seed004_workbook, "--template", tpl, "--write-back")
    assert code == 2 and "t.j2 第3行" in err and "totl" in err and "Traceback" not in err
    assert seed004_workbook.read_bytes() == before     # nothing written on error
    tpl.write_text("# 一\n{{ project.name }}：{{ result.total | num }}分\n", encoding="utf-8")
    code, out, _e = run(cli_main, capsys, "narrative", seed004_workbook, "--template", tpl)
    assert code == 0 and out == "一\n\u3000\u30002020年城乡医疗保险个人补助资金：98分\n"


def test_cli_strict_turns_warnings_into_exit_1(cli_main, capsys, seed004_workbook):
    code, _o, _e = run(cli_main, capsys, "narrative", seed004_workbook, "--strict")
    assert code == 1
    code, _o, _e = run(cli_main, capsys, "narrative", EXAMPLES / "2023-城乡医疗救助补助资金.yaml", "--strict")
    assert code == 0


@pytest.mark.libreoffice
def test_the_written_back_summary_prints_every_paragraph_whole(tmp_path, soffice):
    """The 综述 sheet's rows are as tall as the one count of wrapped lines makes them (sheetmodel.text_lines, the
    count of every printout): each row has room for the lines LibreOffice breaks its paragraph into (tests/printed.py;
    the form's own sheet is checked too). Before, the sheet had its own estimate, about a tenth short: a paragraph's
    last line — “（满分）。”, “（分值10分）” — was cut off."""
    from printed import rows_too_short
    from test_collect import _pdf
    book = tmp_path / "自评表.xlsx"
    template = open_template(ROOT / "templates" / "xmzc-national.xlsx")
    template.fill_to(load_data(ROOT / "examples" / "2023-城乡医疗救助补助资金.yaml", load_profile("national")), book)
    _write_summary(book, Narrator())
    _pdf(book, soffice)
    checked, short = rows_too_short(book, book.with_suffix(".pdf"))
    assert checked > 20 and not short, short
