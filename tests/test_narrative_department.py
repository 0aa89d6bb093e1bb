"""Narratives of the 部门整体 reports (Hunan 2024 and 2020 outlines) and of the Hunan project form's 综述.

The central property, as for the project reports: every number in a generated text is a figure of the
table — computed here independently from ``dept_evaluate`` / ``hunan_evaluate`` results and the record,
not from the narrative's own context.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from xlsx_engine.cli.department import (
    COMMANDS,
    dept_narrative_command,
    hnxm_narrative_command,
)
from xlsx_engine.cli.main import cli, main
from xlsx_engine.forms.department.model import (
    SANGONG_COLS,
    DeptRecord,
    load_dept_data,
    load_dept_profile,
)
from xlsx_engine.forms.hunan.data import load_hnxm_data
from xlsx_engine.forms.hunan.layout import hunan_layout
from xlsx_engine.forms.hunan.model import load_hunan_profile
from xlsx_engine.forms.registry import open_template
from xlsx_engine.kernel.xlmath import is_number, xround
from xlsx_engine.narrative.department import (
    dept_from_record,
    hnxm_from_record,
    load_dept_input,
    load_hnxm_input,
    render_dept_report,
    render_hnxm_summary,
    summary_sections,
)
from xlsx_engine.narrative.engine import NarrativeError, Narrator, Rendered
from xlsx_engine.ooxml.builder import TEMPLATE_DIR
from xlsx_engine.ooxml.reader import open_workbook

ROOT = Path(__file__).resolve().parent.parent
DEPT = ROOT / "tests" / "data" / "department"
SEED000 = ROOT / "tests" / "data" / "hunan" / "seed000.yaml"
DP = load_dept_profile("dept-hunan")
HP = load_hunan_profile("hunan-project")

for _command in COMMANDS:           # what cli.py will do; registered here so the tests run through jxzp's main()
    cli.add_command(_command)


# ----------------------------------------------------------------------------- numbers

def _norm(value: float) -> str:
    text = f"{xround(float(value), 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_STRUCTURE = (re.compile(r"（\d+）"), re.compile(r"(?m)^(#+\s*)?\d+\.(?!\d)"))


def text_numbers(text: str) -> list[str]:
    """Every number in a text, after removing structural numbering (（1）, 1.)."""
    for rx in _STRUCTURE:
        text = rx.sub(" ", text)
    return [_norm(float(m)) for m in _NUMBER.findall(text)]


def _text_figures(texts) -> set[str]:
    out = set()
    for t in texts:
        if isinstance(t, str):
            out.update(_norm(float(m)) for m in _NUMBER.findall(t))
        elif isinstance(t, (list, tuple)):
            out |= _text_figures(t)
        elif isinstance(t, dict):
            out |= _text_figures(list(t.values()))
    return out


def dept_figures(inp) -> set[str]:
    """Every figure of the department table, from the DeptResult and the record."""
    rec, r, p = inp.record, inp.result, inp.profile
    nums: list = [rec.year, rec.initial_budget, rec.adjustment, rec.key_projects, p.total, r.total,
                  r.staff_total, r.staff_actual, r.detail_total]
    nums += list(rec.staff.values()) + list(rec.budget.values()) + list(rec.final.values())
    nums += [v for row in rec.sangong.values() for v in row.values()] + [v for _, v in rec.detail]
    nums += list(rec.scores.values()) + list(r.sangong_totals.values()) + r.scores
    nums += [v for t in r.totals.values() for v in t.values()]
    nums += [v * 100 for v in list(r.diffs.values()) + list(r.ratios.values()) + r.detail_shares if is_number(v)]
    nums += [v for pair in r.parts.values() for v in pair]
    nums += [i.weight for i in p.indicators] + [g.min for g in p.grades]
    groups: dict[str, list[float]] = {}
    for ind, score in zip(p.indicators, r.scores):
        g = groups.setdefault(ind.level1, [0.0, 0.0])
        g[0] += ind.weight
        g[1] += score
    nums += [v for g in groups.values() for v in g]
    den = r.parts["人员经费占比"][1]                        # 公用经费 share, on the same base as 人员经费
    if den > 0:
        nums.append(100 * (rec.final.get("公用经费") or 0) / den)
    if r.detail_total > 0:
        nums.append(100)
    figures = {_norm(abs(x)) for x in nums if is_number(x)}       # the text prints "-7.5%": the digits are 7.5
    return figures | _text_figures(r.problems) | _text_figures(inp.extra) | {_norm(rec.year or 0)}


def hnxm_figures(inp) -> set[str]:
    rec, r, p = inp.record, inp.result, inp.profile
    nums = [rec.year, r.plan, r.arrived, r.spent, r.balance, abs(r.balance), r.expense_total,
            r.expense_total - r.spent, abs(r.expense_total - r.spent), r.score, p.total]
    nums += [v * 100 for v in (r.arrival_rate, r.spend_rate, *r.arrival_rates, *r.spend_rates) if is_number(v)]
    nums += r.balances + [v for f in rec.funds for v in (f.plan, f.arrived, f.spent)] + [e.amount for e in rec.expenses]
    nums += [g.min for g in p.grades]
    if is_number(r.score):
        nums.append(p.total - r.score)
    texts = [rec.project, rec.unit, rec.department, rec.start, rec.end, rec.leader, inp.extra]
    texts += [v for g in rec.goals for v in (g.expected, g.actual)]
    texts += [v for i in rec.indicators for v in (i.name, i.target, i.actual, i.level1, i.level2)]
    texts += [e.item for e in rec.expenses]
    return {_norm(x) for x in nums if is_number(x)} | _text_figures(texts)


def foreign(text: str, figures: set[str]) -> list[str]:
    return [n for n in text_numbers(text) if n not in figures]


def complete_department() -> DeptRecord:
    """A department with every figure and every reviewer score filled in."""
    rec = load_dept_data(DEPT / "seed002.yaml", DP)
    rec.budget.update({"年初结转和结余": 43.34, "其他收入": 50.0, "项目支出": 20.0})
    rec.final.update({"项目支出": 18.5, "财政拨款": 277.08})
    rec.initial_budget, rec.adjustment, rec.key_projects = 236.18, 23.34, 17.0
    for item, row in zip(("因公出国（境）费", "公务用车购置及运行维护费", "公务接待费"), ((0, 0, 0, 0), (0.1, 0.08, 0.1, 0.05),
                                                                        (0.4, 0.36, 0.3, 0.29))):
        rec.sangong[item] = dict(zip(SANGONG_COLS, map(float, row)))
    for ind in DP.indicators:
        if ind.rule is None:
            rec.scores[ind.name] = ind.weight - (1 if ind.name == "资金使用合规性" else 0)
    rec.reasons["资金使用合规性"] = "个别支出凭证附件不全"
    rec.extra = {"主要职能": ["（1）贯彻执行医疗保障政策", "（2）负责医疗保障基金监管"], "机构设置": "设5个股室",
                 "存在问题": ["绩效目标设立不够明确、细化和量化"], "改进建议": "加强预算编制工作", "报告日期": "2021-08-26"}
    return rec


# ----------------------------------------------------------------------------- 1. department reports

def test_seed001_share_is_written_with_the_right_denominator():
    inp = load_dept_input(DEPT / "seed001.yaml")
    text = render_dept_report(inp, "2024").text()
    assert "单位基本支出决算数为86.26万元，占本年支出的8.91%（基本支出÷支出决算合计）" in text
    assert "单位项目支出决算数为882.02万元，占本年支出的91.09%" in text
    assert "9.78" not in text and "100.87" not in text
    assert "人员经费57.04万元，占基本支出的66.13%；公用经费29.22万元，占基本支出的33.87%" in text
    assert "“三公”经费决算0.71万元，其中公务接待费0.71万元" in text
    # no 预算数 in seed 001: 执行率 is not computable, and the report says so instead of inventing it
    assert "报告期预算数（待补充预算数），预算执行率和预决算差异率无法计算" in text
    assert foreign(text, dept_figures(inp)) == []


def test_seed002_zero_budget_difference_is_not_computable():
    inp = load_dept_input(DEPT / "seed002.yaml")
    for outline in ("2020", "2024"):
        text = render_dept_report(inp, outline).text()
        assert "年初结转和结余\t0.00\t43.34\t无法计算（预算数为0）" in text
        assert "其他收入\t0.00\t61.55\t无法计算（预算数为0）" in text
        assert "财政拨款\t166.18\t258.58\t55.6%" in text and "收入合计\t166.18\t363.47\t118.72%" in text
        assert "年初结转和结余及其他收入的预算数为0，决算数分别为43.34万元、61.55万元，其预决算差异率无法计算" in text
        assert not re.search(r"(年初结转和结余|其他收入)[^\n]*\t100(\.00)?%", text)
        assert foreign(text, dept_figures(inp)) == [], outline


def test_seed002_2020_outline_sections_and_figures():
    inp = load_dept_input(DEPT / "seed002.yaml")
    text = render_dept_report(inp, "2020").text()
    headings = [line for line in text.splitlines() if re.match(r"^[一二三四五]、", line)]
    assert headings == ["一、部门概况", "二、整体支出管理及使用情况", "三、整体支出绩效情况", "四、存在的问题", "五、措施和建议"]
    assert "行政编制6人，事业编制10人，编制合计16人；实有人数16人（其中在职14人，其他人员2人）；在职人员控制率87.5%" in text
    assert "2020年“三公”经费决算0.34万元" in text
    assert "基本支出363.47万元，其中人员经费211.9万元，占基本支出的58.3%；公用经费151.57万元，占基本支出的41.7%" in text
    assert "公用经费控制率300.91%（公用经费决算÷公用经费预算）" in text
    assert "66.14" not in text                      # the seed's 日常公用经费 figure is not a table figure


def test_2024_outline_has_its_ten_sections():
    text = render_dept_report(load_dept_input(DEPT / "seed001.yaml"), "2024").text()
    headings = [line for line in text.splitlines() if re.match(r"^[一二三四五六七八九十]+、", line)]
    assert headings == ["一、部门（单位）基本情况", "二、一般公共预算支出情况", "三、政府性基金预算支出情况",
                        "四、国有资本经营预算支出情况", "五、社会保险基金预算支出情况", "六、部门整体支出绩效情况",
                        "七、存在的问题及原因分析", "八、下一步改进措施", "九、部门整体支出绩效自评结果拟应用和公开情况",
                        "十、其他需要说明的情况"]


def test_complete_department_states_score_grade_and_ratios():
    inp = dept_from_record(complete_department(), DP)
    r = inp.result
    assert not any("尚待评审" in p for p in r.problems)
    for outline in ("2024", "2020"):
        rendered = render_dept_report(inp, outline)
        text = rendered.text()
        assert f"部门整体支出绩效自评总分{_norm(r.total)}分（满分100分），评价等次为“{r.grade}”" in text
        assert "“资金使用合规性”得4分（分值5分），扣分原因：个别支出凭证附件不全" in text
        assert f"预算执行率{_norm(r.ratios['预算执行率'] * 100)}%（支出决算合计÷支出预算合计）" in text
        assert "绩效目标设立不够明确、细化和量化" in text and "加强预算编制工作" in text
        assert "2021年8月26日" in text
        assert foreign(text, dept_figures(inp) | {"2021", "8", "26"}) == [], outline
    text = render_dept_report(inp, "2024").text()
    assert "三公经费变动率" in text and f"{_norm(r.ratios['三公经费变动率'] * 100)}%" in text
    assert "“三公”经费比上年增长" not in text        # 0.34 < 0.44: it fell


def test_funds_only_problem_is_warned():
    rec = complete_department()
    rec.extra = {"存在问题": "资金不足", "改进建议": ["加大资金投入"]}
    codes = [w.code for w in render_dept_report(dept_from_record(rec, DP), "2024").warnings]
    assert "funds_only_problem" in codes and "funds_only_suggestion" in codes


def test_unknown_outline_and_info_keys():
    inp = load_dept_input(DEPT / "seed002.yaml", extra={"职能简介": "x"})
    with pytest.raises(NarrativeError, match="未知的部门整体报告提纲"):
        render_dept_report(inp, "2019")
    assert any(w.code == "unknown_info" for w in render_dept_report(inp).warnings)


def test_template_error_names_file_and_line(tmp_path):
    custom = tmp_path / "我的部门报告.j2"
    custom.write_text("# 一、概况\n{{ dept.name }}\n{{ dept.nmae }}\n", encoding="utf-8")
    with pytest.raises(NarrativeError) as err:
        render_dept_report(load_dept_input(DEPT / "seed002.yaml"), narrator=Narrator(custom))
    assert "第3行" in str(err.value) and "nmae" in str(err.value)


# ----------------------------------------------------------------------------- 2. the Hunan project 综述

def test_hnxm_summary_figures_are_table_figures():
    inp = hnxm_from_record(load_hnxm_data(SEED000, HP), HP)
    rendered = render_hnxm_summary(inp)
    text = rendered.text()
    assert "项目计划安排资金28545.3万元，其中中央财政15761.3万元、省财政7276万元、县市区财政5508万元" in text
    assert "城乡居民医保基金26217.7万元、职工医保基金2327.6万元，支出合计28545.3万元，与实际支出合计一致" in text
    assert "项目绩效自评综合得分98分（满分100分），评价等次为“优”" in text
    assert "综合得分比满分少2分，扣分原因：（待补充扣分原因）" in text
    assert "服务对象满意度指标列在“项目效益指标”下，应单列为一级指标“满意度指标”" in text
    assert "5.29" not in text and "83%" not in text     # the seed's narrative figures that the table contradicts
    assert foreign(text, hnxm_figures(inp)) == []
    assert {"score_note", "pending"} <= {w.code for w in rendered.warnings}


def test_hnxm_summary_splits_into_the_forms_text_areas():
    inp = hnxm_from_record(load_hnxm_data(SEED000, HP), HP)
    sections = hunan_layout("hunan-project").row_counts.sections
    texts = summary_sections(render_hnxm_summary(inp), sections)
    assert list(texts) == list(sections)
    assert texts["项目基本概况"].startswith("\u3000\u3000医疗保障基金（2021年度）由临湘市医疗保障局主管")
    bad = Rendered("# 总结\n正文\n", {}, [], "x.j2")
    with pytest.raises(NarrativeError, match="不是自评报告表的小节"):
        summary_sections(bad, sections)


def test_hnxm_summary_reports_an_expense_mismatch():
    data = yaml.safe_load(SEED000.read_text(encoding="utf-8"))
    data["支出明细"][1]["实际支出数"] = 2300
    data.pop("支出合计")
    from xlsx_engine.forms.hunan.model import hnxm_record_from_data
    rec = hnxm_record_from_data(data, HP, "x", hunan_layout("hunan-project").row_counts)
    inp = hnxm_from_record(rec, HP)
    text = render_hnxm_summary(inp).text()
    assert "支出合计28517.7万元，与实际支出合计28545.3万元相差-27.6万元" in text
    assert "项目支出明细合计28517.7万元，与实际支出合计28545.3万元不一致（相差-27.6万元）" in text
    assert foreign(text, hnxm_figures(inp)) == []


# ----------------------------------------------------------------------------- 3. the commands

def test_narrative_dept_command(tmp_path, capsys):
    assert cli.commands["narrative-dept"] is dept_narrative_command
    out = tmp_path / "报告.md"
    assert main(["narrative-dept", str(DEPT / "seed002.yaml"), "--outline", "2020", "-o", str(out)]) == 0
    md = out.read_text(encoding="utf-8")
    assert md.startswith("# 一、部门概况") and "| 年初结转和结余 | 0.00 | 43.34 | 无法计算（预算数为0） |" in md
    assert "提示：" in capsys.readouterr().err
    assert main(["narrative-dept", str(DEPT / "seed002.yaml"), "-o", str(out)]) == 2          # exists, no --force
    assert main(["narrative-dept", str(DEPT / "seed002.yaml"), "--strict"]) == 1              # warnings
    assert main(["narrative-dept", str(DEPT / "seed002.yaml"), "--outline", "2019"]) == 2
    assert main(["narrative-dept", str(tmp_path / "无.yaml")]) == 2
    docx = tmp_path / "报告.docx"
    assert main(["narrative-dept", str(DEPT / "seed001.yaml"), "-o", str(docx)]) == 0
    from docx import Document
    paras = [p.text for p in Document(str(docx)).paragraphs]
    assert paras[0] == "2024年度君山区医疗保障局\n整体支出绩效自评报告"      # broken before its ending, never mid-word
    assert any("占本年支出的8.91%" in p for p in paras)


def test_narrative_dept_reads_the_department_workbook(tmp_path, capsys):
    book = tmp_path / "北塔.xlsx"
    open_template(TEMPLATE_DIR / "bmzt-dept-hunan.xlsx").fill_to(load_dept_data(DEPT / "seed002.yaml", DP), book)
    from_book = render_dept_report(load_dept_input(book), "2020").text()
    from_yaml = render_dept_report(load_dept_input(DEPT / "seed002.yaml"), "2020").text()
    assert from_book == from_yaml
    assert main(["narrative-dept", str(book)]) == 0
    assert "占本年支出的100%" in capsys.readouterr().out
    assert main(["narrative-dept", str(TEMPLATE_DIR / "hnxm-hunan-project.xlsx")]) == 2     # not a 部门整体 workbook


def test_narrative_hnxm_command_writes_back_into_the_form(tmp_path, capsys):
    assert cli.commands["narrative-hnxm"] is hnxm_narrative_command
    data = yaml.safe_load(SEED000.read_text(encoding="utf-8"))
    data["评价报告综述"] = False
    src = tmp_path / "seed.yaml"
    src.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    book = tmp_path / "临湘.xlsx"
    assert main(["fill", str(TEMPLATE_DIR / "hnxm-hunan-project.xlsx"), str(src), "-o", str(book)]) == 0
    L = hunan_layout("hunan-project")
    ref = L.summary_cells["项目资金使用及管理情况"]
    assert open_workbook(book).value(L.sheet, ref) is None
    assert main(["narrative-hnxm", str(book)]) == 0
    assert "实际支出28545.3万元" in capsys.readouterr().out
    assert main(["narrative-hnxm", str(book), "--write-back"]) == 0
    wb = open_workbook(book)
    assert "实际支出28545.3万元" in wb.value(L.sheet, ref)
    assert wb.name_value("评价等次") == "优" and wb.name_value("计划安排资金") == 28545.3
    open_template(book)                                  # still one of our workbooks, formulas intact
    assert load_hnxm_input(book).record.summary["项目资金使用及管理情况"] == wb.value(L.sheet, ref)
    assert main(["narrative-hnxm", str(src), "--write-back"]) == 2     # only into .xlsx
