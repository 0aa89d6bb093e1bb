"""The Word 自评报告: rendered with docxtpl from the bureau-editable template, converted to PDF by
LibreOffice and read back with pdftotext (cover fields, sections, the 自评表, the 综述); custom
templates, sandboxing and error messages of .docx templates; reproducibility of the template."""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from pathlib import Path

import docx
import pytest

from xlsx_engine.narrative.docx import multi_docx, render_docx, report_docx, write_docx
from xlsx_engine.narrative.engine import NarrativeError, Narrator, from_data_file
from xlsx_engine.ooxml.recalc import convert_files

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "tests" / "data" / "seeds"
NARRATIVE = ROOT / "templates" / "narrative"

SEED004_INFO = {"报告地区": "湖南", "评价类型": "项目完成结果评价", "评价方式": "部门（单位）绩效自评",
                "评价机构": "银川市金凤区医疗保障局评价组",
                "报告日期": "2021-05-06", "财政局": "银川市金凤区财政局", "项目负责人": "马某",
                "评价人员": [{"姓名": "王某", "职称职务": "科长", "单位": "金凤区医疗保障局"}]}


def seed(name: str, extra: dict | None = None):
    return from_data_file(SEEDS / f"{name}.yaml", extra=extra)


def pdf_text(pdf: Path) -> str:
    """pdftotext output without whitespace (it spaces CJK from digits and wraps table cells)."""
    out = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return re.sub(r"\s+", "", out)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, soffice):
    """The single-project report (seed 004) and the multi-project report (seed 003), as .docx and PDF text."""
    out = tmp_path_factory.mktemp("docx")
    single, summary = report_docx(seed("seed004", SEED004_INFO))
    multi, ctx, _findings = multi_docx([seed("seed003-p1"), seed("seed003-p2")],
                                       info={"单位名称": "洪山区医疗保障局", "报告日期": "2020-05-20"})
    paths = {"single": out / "single.docx", "multi": out / "multi.docx"}
    write_docx(paths["single"], single)
    write_docx(paths["multi"], multi)
    convert_files(list(paths.values()), out, "pdf", soffice=soffice)
    texts = {k: pdf_text(out / f"{k}.pdf") for k in paths}
    return {"paths": paths, "text": texts, "summary": summary, "multi_ctx": ctx}


# ----------------------------------------------------------------------------- PDF text via LibreOffice

def test_pdf_has_the_cover_fields(rendered):
    text = rendered["text"]["single"]
    for field in ("财政支出项目绩效评价自评报告", "评价类型：项目实施过程评价□项目完成结果评价☑",
                  "项目名称：2020年城乡医疗保险个人补助资金", "项目单位：银川市金凤区医疗保障局",
                  "主管部门：银川市医疗保障局", "评价方式：部门（单位）绩效自评",
                  "评价机构：银川市金凤区医疗保障局评价组",
                  "报告日期：2021年5月6日", "银川市金凤区财政局（制）"):
        assert field in text, field
    assert text.index("财政局（制）") < text.index("一、项目基本概况")


def test_pdf_has_the_sections_in_order(rendered):
    text = rendered["text"]["single"]
    sections = ["一、项目基本概况", "二、项目支出明细情况", "三、项目绩效自评情况", "（二）绩效指标完成情况（自评表）",
                "四、评价人员", "五、评价报告综述（文字部分）", "（一）项目基本概况", "（二）项目资金使用及管理情况",
                "（三）项目组织实施情况", "（四）绩效目标完成情况", "（五）综合评价情况及评价结论",
                "（六）存在的问题及原因", "（七）改进措施和建议"]
    pos = 0
    for s in sections:
        found = text.find(s, pos)
        assert found >= 0, s
        pos = found + len(s)


def test_pdf_has_the_self_evaluation_table_and_the_summary(rendered):
    text = rendered["text"]["single"]
    for cell in ("一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "偏差原因分析及改进措施",
                 "救助对象覆盖低保", "完全救助", "实际项目支出资金", "108万元", "政策知晓率", "加大宣传力度",
                 "绩效指标合计", "总分", "评价等次：优", "王某", "科长", "马某"):
        assert cell in text, cell
    assert "项目总分98分（满分100分）" in text and "预算执行率得分10分单列，不计入总分" in text
    assert "（待补充实际完成值）" in text                      # seed 004's empty 完成值 stay visible
    assert "{{" not in text and "{%" not in text


def test_pdf_of_multi_project_report(rendered):
    text = rendered["text"]["multi"]
    for cell in ("2019年度项目支出绩效自评报告", "一、绩效自评工作开展情况", "二、本报告包含项目的自评结果", "序号",
                 "项目名称", "预算数（万元）", "全年执行数（万元）", "得分", "自评等级", "机关建设及日常保障经费",
                 "40.00", "39.96", "90.98",
                 "打击欺诈骗取医保基金专项经费", "27.56", "27.34", "92.84", "合计", "67.56", "67.30",
                 "三、各项目自评情况", "1-5、主要问题和改进措施", "四、绩效自评工作的经验、问题和建议",
                 "附件2", "打击欺诈骗取医保基金专项经费项目支出绩效自评表", "2020年5月20日"):
        assert cell in text, cell


# ----------------------------------------------------------------------------- structure (python-docx)

def test_docx_structure_tables_and_no_leftover_tags(rendered):
    d = docx.Document(str(rendered["paths"]["single"]))
    sec = d.sections[0]
    assert (round(sec.page_width.mm), round(sec.page_height.mm)) == (210, 297)
    self_table = next(t for t in d.tables if t.rows[0].cells[0].text == "一级指标")
    ctx = rendered["summary"].context
    # header + one row per indicator + 合计 + 资金 + 总分 (no 项目绩效目标 row under ningxia-jinfeng)
    assert len(self_table.rows) == 1 + len(ctx["indicators"]) + 3
    assert [c.text for c in self_table.rows[-1].cells][-3:] == ["100", "98", "评价等次：优"]
    body = zipfile.ZipFile(rendered["paths"]["single"]).read("word/document.xml").decode("utf-8")
    assert "{{" not in body and "{%" not in body and "%}" not in body
    headings = [p.text for p in d.paragraphs if p.style.name.startswith("Heading")]
    assert "（六）存在的问题及原因" in headings and "五、评价报告综述（文字部分）" in headings
    assert headings.count("一、项目基本概况") == 1     # the nested 综述 does not restart the report's numbering


def test_template_is_a4_with_official_fonts_and_fallbacks():
    d = docx.Document(str(NARRATIVE / "report.docx"))
    assert round(d.sections[0].page_width.mm) == 210 and round(d.sections[0].left_margin.mm) == 28
    rpr = d.styles["Normal"].element.rPr
    fonts = rpr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}rFonts")
    assert fonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia") == "仿宋_GB2312"
    table = zipfile.ZipFile(NARRATIVE / "report.docx").read("word/fontTable.xml").decode("utf-8")
    assert 'w:name="仿宋_GB2312"><w:altName w:val="仿宋"/>' in table


def test_committed_templates_equal_a_fresh_build(tmp_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location("make_docx_template", NARRATIVE / "make_docx_template.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for path in mod.main(tmp_path):
        assert path.read_bytes() == (NARRATIVE / path.name).read_bytes(), path.name


# ----------------------------------------------------------------------------- custom templates, sandbox, errors

def _docx_with(tmp_path: Path, *paragraphs: str) -> Path:
    d = docx.Document()
    for text in paragraphs:
        d.add_paragraph(text)
    path = tmp_path / "custom.docx"
    d.save(str(path))
    return path


def test_custom_docx_template_renders(tmp_path):
    tpl = _docx_with(tmp_path, "项目：{{ project.name }}", "总分{{ result.total | num }}分，{{ fund.budget | wan }}",
                     "{%p for i in below %}", "{{ i.name }}：{{ i.reason | pending('偏差原因') }}", "{%p endfor %}")
    data, _summary = report_docx(seed("seed004"), narrator=Narrator(tpl))
    texts = [p.text for p in docx.Document(io.BytesIO(data)).paragraphs]
    assert texts == ["项目：2020年城乡医疗保险个人补助资金", "总分98分，108万元",
                     "参保人员对医保服务的满意度：提升医疗保障服务", "政策知晓率：加大宣传力度"]


def test_docx_undefined_variable_names_file_paragraph_and_variable(tmp_path):
    tpl = _docx_with(tmp_path, "第一段", "第二段{{ project.name }}", "单位：{{ projcet.unit }}")
    with pytest.raises(NarrativeError) as info:
        report_docx(seed("seed004"), narrator=Narrator(tpl))
    text = str(info.value)
    assert "custom.docx" in text and "变量“projcet”未定义" in text and "单位：{{ projcet.unit }}" in text
    assert info.value.line is not None


def test_docx_syntax_error_names_the_paragraph(tmp_path):
    tpl = _docx_with(tmp_path, "正常", "{%p for i in indicators %}", "{{ i.name }}")
    with pytest.raises(NarrativeError) as info:
        report_docx(seed("seed004"), narrator=Narrator(tpl))
    assert "语法错误" in str(info.value) and "custom.docx" in str(info.value)


def test_docx_sandbox_escape_fails_clearly(tmp_path):
    tpl = _docx_with(tmp_path, "{{ project.__class__.__mro__ }}")
    with pytest.raises(NarrativeError) as info:
        report_docx(seed("seed004"), narrator=Narrator(tpl))
    assert "沙箱已禁止" in str(info.value) and "__class__" in str(info.value)


def test_docx_escapes_xml_special_characters(tmp_path):
    tpl = _docx_with(tmp_path, "{{ project.name }}")
    data = render_docx(tpl, {"project": {"name": "A&B <C> “D”"}})
    assert [p.text for p in docx.Document(io.BytesIO(data)).paragraphs] == ["A&B <C> “D”"]


def test_missing_docx_template(tmp_path):
    with pytest.raises(NarrativeError, match="找不到 Word 模板"):
        render_docx(tmp_path / "none.docx", {})


def test_write_docx_is_atomic(tmp_path):
    target = tmp_path / "r.docx"
    target.write_bytes(b"old")
    data, _ = report_docx(seed("seed003-p1"))
    write_docx(target, data)
    assert zipfile.is_zipfile(target) and [p.name for p in tmp_path.iterdir()] == ["r.docx"]


def test_rendering_is_repeatable_and_thread_safe():
    from concurrent.futures import ThreadPoolExecutor
    inputs = [seed("seed003-p1", {"报告日期": "2020-05-20"}), seed("seed004", {"报告日期": "2021-05-06"})]
    first = [docx.Document(io.BytesIO(report_docx(i)[0])) for i in inputs]
    expected = ["\n".join(p.text for p in d.paragraphs) for d in first]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda k: report_docx(inputs[k % 2])[0], range(8)))
    for k, data in enumerate(got):
        assert "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs) == expected[k % 2]


# ----------------------------------------------------------------------------- the appendix says what the body says

EXAMPLE = ROOT / "examples" / "2023-医保基金监管专项.yaml"


def example(tmp_path: Path, *edits: tuple[str, str]):
    """The example project with some of its YAML text replaced (each ``old`` must occur)."""
    text = EXAMPLE.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "project.yaml"
    path.write_text(text, encoding="utf-8")
    return from_data_file(path)


def self_rows(d) -> dict[str, list[str]]:
    """The appended 自评表's rows by their first cell (indicators by their 三级指标)."""
    table = next(t for t in d.tables if t.rows[0].cells[0].text == "一级指标")
    rows = [[c.text for c in r.cells] for r in table.rows[1:]]
    return {(r[2] if r[0].endswith("指标") and r[2] else r[0]): r for r in rows}


def test_appendix_prints_a_percent_actual_as_scored(tmp_path):
    # 0.91 on a percent row is scored as 91% (PERCENT_ACTUAL): the table says 91%, as the body does
    data, _ = report_docx(example(tmp_path, ("实际完成值: 91%", "实际完成值: 0.91")))
    d = docx.Document(io.BytesIO(data))
    assert self_rows(d)["参保群众满意度"][4] == "91%"
    assert any("参保群众满意度：年度指标值≥90%，实际完成值91%，" in p.text for p in d.paragraphs)


def test_report_flags_over_achievement_of_a_percent_actual_as_scored(tmp_path):
    # 0.95 against ≥60% is scored as 95%, past the platform's 130% of target: the scorer deducts 2 points for
    # over-achievement, and the report says so (not “未达到年度指标值”)
    inp = example(tmp_path, ("指标值: ≥90%, 实际完成值: 91%", "指标值: ≥60%, 实际完成值: 0.95"))
    data, summary = report_docx(inp)
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)
    assert "实际完成值95%，得8分（分值10分）。完成值超过指标值58.33%，超过评分规则规定的30%，按规则扣2分" in text
    assert "“参保群众满意度”实际完成值95%超过指标值≥60%达58.33%" in text
    assert "“参保群众满意度”未达到年度指标值" not in text
    assert [w.code for w in summary.warnings if "参保群众满意度" in w.message] == ["over_reason_missing"]


#: the example with no 实际完成值 / 完成等级 for its two 效益指标: the scorer's total and grade are 待填报
PARTLY_FILLED = (("实际完成值: 318, ", ""), ("实际完成值: 已建立, 完成等级: 达成, ", ""))


def test_partly_filled_form_appendix_says_the_total_is_pending_as_the_body(tmp_path):
    inp = example(tmp_path, *PARTLY_FILLED)
    assert inp.result.total == "待填报" and inp.result.grade == "待填报"
    data, _ = report_docx(inp)
    d = docx.Document(io.BytesIO(data))
    text = "\n".join(p.text for p in d.paragraphs)
    assert "经自评，项目总分待填报" in text
    assert self_rows(d)["总分"][-3:] == ["100", "待填报", "评价等次：待填报"]


def test_partly_filled_form_a_group_waiting_for_its_actuals_has_no_score(tmp_path):
    data, _ = report_docx(example(tmp_path, *PARTLY_FILLED))
    headings = [p.text for p in docx.Document(io.BytesIO(data)).paragraphs if p.style.name.startswith("Heading")]
    assert "2.效益指标（分值30分，得分待填报）" in headings
    assert "1.产出指标（分值50分，得分46分）" in headings        # the groups that are scored keep their score


def test_pending_total_in_the_hunan_and_multi_project_reports(tmp_path):
    inp = example(tmp_path, *PARTLY_FILLED)
    hunan = docx.Document(io.BytesIO(report_docx(inp, region="hunan")[0]))
    assert "绩效自评综合得分：待填报；评价等次：待填报。" in [p.text for p in hunan.paragraphs]
    assert self_rows(hunan)["总分"][-2:] == ["待填报", "评价等次：待填报"]
    data, _ctx, _ = multi_docx([inp, seed("seed003-p1")])
    multi = docx.Document(io.BytesIO(data))
    assert "自评得分：待填报；自评等次：待填报" in [p.text for p in multi.paragraphs]
    overview = next(t for t in multi.tables if t.rows[0].cells[0].text == "序号")
    assert [c.text for c in overview.rows[1].cells][-2:] == ["待填报", "待填报"]


#: PARTLY_FILLED with the two over-achieved 产出指标 brought to their targets: every indicator scored so far has full marks
ON_TARGET = (("指标值: ≥450家, 实际完成值: 587", "指标值: ≥450家, 实际完成值: 450"),
             ("指标值: ≥2次, 实际完成值: 3", "指标值: ≥2次, 实际完成值: 2"))
PARTLY_FILLED_FULL = PARTLY_FILLED + ON_TARGET
ALL_FULL = ON_TARGET + (("实际完成值: 318, ", "实际完成值: 200, "),)


def test_partly_filled_form_never_says_every_indicator_has_full_marks(tmp_path):
    # two 效益指标 wait for their 实际完成值: the indicators' sentence counts them (the scorer's waiting rows) and
    # claims no full marks, as the group line below says 得分待填报
    inp = example(tmp_path, *PARTLY_FILLED_FULL)
    text = Narrator().summary(inp).text()
    line = next(t for t in text.splitlines() if "共设置绩效指标" in t)
    assert "尚有两个指标未填实际完成值或完成等级，得分待填报，已评分的指标得分60分" in line
    assert "满分" not in line
    full = Narrator().summary(example(tmp_path, *ALL_FULL)).text()   # all filled: the claim is true
    assert "共设置绩效指标七个，分值合计90分，得分90分；各指标均得满分。" in full


def test_partly_filled_form_appendix_indicator_total_is_pending(tmp_path):
    # the 绩效指标合计 row's 得分 is 待填报 while an indicator waits (as 总分), not the partial 60
    inp = example(tmp_path, *PARTLY_FILLED_FULL)
    for d in (docx.Document(io.BytesIO(report_docx(inp)[0])),
              docx.Document(io.BytesIO(report_docx(inp, region="hunan")[0])),
              docx.Document(io.BytesIO(multi_docx([inp])[0]))):
        assert self_rows(d)["绩效指标合计"][5:7] == ["90", "待填报"]
    assert "| 绩效指标合计 |  |  |  |  | 90 | 待填报 |  |" in Narrator().report(inp).markup
    filled = docx.Document(io.BytesIO(report_docx(example(tmp_path, *ALL_FULL))[0]))
    assert self_rows(filled)["绩效指标合计"][5:7] == ["90", "90"]


def test_fund_not_entered_appendix_has_no_fund_score(tmp_path):
    data, _ = report_docx(example(tmp_path, (", 全年执行数: 22.8}", "}")))
    row = self_rows(docx.Document(io.BytesIO(data)))["预算执行率"]
    assert row[4:7] == ["—", "10", "待填报"]


# ----------------------------------------------------------------------------- title and language

W_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def test_report_title_breaks_before_its_ending_not_inside_a_word(tmp_path):
    inp = example(tmp_path, ("项目名称: 2023年医保基金监管专项经费", "项目名称: 2023年东城区医保经办服务能力提升"))
    d = docx.Document(io.BytesIO(report_docx(inp)[0]))
    titles = [p for p in d.paragraphs if p.style.name == "Title"]
    assert [p.text for p in titles] == ["2023年东城区医保经办服务能力提升\n绩效自评报告"]   # a line break, as the cover
    short = docx.Document(io.BytesIO(report_docx(seed("seed003-p1", {"报告标题": "机关经费绩效自评报告"}))[0]))
    assert [p.text for p in short.paragraphs if p.style.name == "Title"] == ["机关经费绩效自评报告"]  # fits a line
    multi = docx.Document(io.BytesIO(multi_docx([seed("seed003-p1")], info={"报告标题": "某区医疗保障局2019年度部门"
                                                                                    "预算项目支出绩效自评报告"})[0]))
    assert [p.text for p in multi.paragraphs if p.style.name == "Title"] == [
        "某区医疗保障局2019年度部门预算项目支出\n绩效自评报告"]


@pytest.mark.parametrize("name", ["national.docx", "multi.docx"])
def test_title_style_has_no_coloured_rule(name):
    title = docx.Document(str(NARRATIVE / name)).styles["Title"].element
    assert title.pPr.find(f"{W_NS}pBdr") is None


def test_reports_declare_chinese_as_their_east_asian_language(tmp_path):
    from xlsx_engine.narrative.docx import official_docx
    from xlsx_engine.narrative.engine import parse_blocks
    documents = {"national": report_docx(seed("seed003-p1"))[0],
                 "hunan": report_docx(seed("seed004", SEED004_INFO))[0],
                 "multi": multi_docx([seed("seed003-p1"), seed("seed003-p2")])[0],
                 "official": official_docx(parse_blocks("# 标题\n正文"))}
    for name, data in documents.items():
        parts = zipfile.ZipFile(io.BytesIO(data))
        styles, settings = parts.read("word/styles.xml").decode(), parts.read("word/settings.xml").decode()
        langs = re.findall(r'<w:lang [^>]*w:eastAsia="([^"]+)"', styles)
        assert langs and set(langs) == {"zh-CN"}, name
        assert re.findall(r'<w:themeFontLang [^>]*w:eastAsia="([^"]+)"', settings) == ["zh-CN"], name


# ----------------------------------------------------------------------------- fund sources

OTHER_SOURCE_NO_SPENT = ("  当年财政拨款: {年初预算数: 30, 全年预算数: 30, 全年执行数: 22.8}\n",
                         "  当年财政拨款: {年初预算数: 30, 全年预算数: 30, 全年执行数: 22.8}\n"
                         "  其他资金: {全年预算数: 5}\n")


def fund_rows(d) -> dict[str, list[str]]:
    table = next(t for t in d.tables if t.rows[0].cells[0].text == "资金来源")
    return {r.cells[0].text.removeprefix("其中："): [c.text for c in r.cells[1:]] for r in table.rows[1:]}


def test_a_fund_input_left_blank_prints_an_empty_cell_not_zero(tmp_path):
    inp = example(tmp_path, OTHER_SOURCE_NO_SPENT)
    data, summary = report_docx(inp)
    d = docx.Document(io.BytesIO(data))
    rows = fund_rows(d)
    # 年初预算数 and 全年执行数 left blank: empty cells; 结余 and 执行率 need both amounts (as the scorer's source_rate)
    assert rows["其他资金"] == ["", "5.00", "", "—", "—"]
    assert rows["当年财政拨款"] == ["30.00", "30.00", "22.80", "7.20", "76.00%"]
    assert rows["年度资金总额"] == ["30.00", "35.00", "22.80", "12.20", "65.14%"]
    text = "\n".join(p.text for p in d.paragraphs)
    assert "其他资金全年预算5万元、执行（待补充全年执行数）" in text and "执行0万元" not in text
    assert any("待补充全年执行数" in w.message for w in summary.warnings)
    hunan = docx.Document(io.BytesIO(report_docx(inp, region="hunan")[0]))
    expenses = next(t for t in hunan.tables if t.rows[0].cells[0].text == "支出内容")
    assert [r.cells[0].text for r in expenses.rows[1:]] == ["当年财政拨款", "支出合计"]   # no row of a blank 执行数


SPENT_NOT_ENTERED = (", 全年执行数: 22.8}", "}")


def test_a_total_spent_not_entered_is_pending_not_zero(tmp_path):
    # no source has a 全年执行数: the 年度资金总额 row says 待填报 (not 0.00) and has no 结余 (the scorer's
    # FundResult.entered is false), and the fund sentence says only what is missing
    inp = example(tmp_path, SPENT_NOT_ENTERED)
    assert not inp.result.fund.entered and inp.result.fund.spent == 0
    data, summary = report_docx(inp)
    d = docx.Document(io.BytesIO(data))
    assert fund_rows(d)["年度资金总额"] == ["30.00", "30.00", "待填报", "—", "—"]
    assert fund_rows(d)["当年财政拨款"] == ["30.00", "30.00", "", "—", "—"]
    text = "\n".join(p.text for p in d.paragraphs)
    assert "全年预算数30万元，全年执行数待填报。" in text and "全年预算数和全年执行数待填报" not in text
    assert not [w for w in summary.warnings if w.code == "balance_reason"]      # no 结余 of 30万元 to explain
    hunan = docx.Document(io.BytesIO(report_docx(inp, region="hunan")[0]))
    expenses = next(t for t in hunan.tables if t.rows[0].cells[0].text == "支出内容")
    assert [c.text for c in expenses.rows[-1].cells][:2] == ["支出合计", "待填报"]
    assert "| 年度资金总额 | 30.00 | 30.00 | 待填报 | — | — |" in Narrator().report(inp).markup
    # neither amount entered: the live 综述's sentence, both named
    blank = example(tmp_path, ("{年初预算数: 30, 全年预算数: 30, 全年执行数: 22.8}", "{年初预算数: 30}"))
    assert "全年预算数和全年执行数待填报。" in Narrator().summary(blank).text()
    assert "全年预算数待填报" in Narrator().summary(blank).text()


def test_multi_project_totals_wait_for_a_project_spent_not_entered(tmp_path):
    inp = example(tmp_path, SPENT_NOT_ENTERED)
    data, ctx, _ = multi_docx([inp, seed("seed003-p1")])
    assert ctx["totals"]["spent"] is None and ctx["totals"]["rate"] is None and ctx["totals"]["budget"] == 70
    d = docx.Document(io.BytesIO(data))
    overview = next(t for t in d.tables if t.rows[0].cells[0].text == "序号")
    rows = [[c.text for c in r.cells] for r in overview.rows[1:]]
    assert rows[0][2:4] == ["30.00", "待填报"] and rows[1][2:4] == ["40.00", "39.96"]
    assert rows[-1][:4] == ["合计", "", "70.00", "待填报"]
    intro = next(p.text for p in d.paragraphs if "开展了绩效自评" in p.text)
    assert "涉及预算资金70万元，全年执行数待填报（一个项目未填写全年执行数）。" in intro and "预算执行率" not in intro
    markup = Narrator().multi_report([inp, seed("seed003-p1")]).markup
    assert "| 合计 |  | 70.00 | 待填报 | — | — |" in markup


@pytest.mark.parametrize("name", ["report.docx", "national.docx", "multi.docx"])
def test_table_rows_do_not_split_across_pages(name):
    # a row (an indicator with its 偏差原因, the 预算执行率 row) moves to the next page whole
    body = zipfile.ZipFile(NARRATIVE / name).read("word/document.xml").decode("utf-8")
    rows = re.findall(r"<w:tr[ >].*?</w:tr>", body)
    assert rows and all("<w:cantSplit/>" in r for r in rows)


@pytest.mark.parametrize("name", ["report.docx", "national.docx", "multi.docx"])
def test_score_column_holds_pending_on_one_line(name):
    # the 自评表's 得分 column: “待填报” at 表格文字 size (three 10-pt characters) plus the cell margins (2 × 45 twips)
    d = docx.Document(str(NARRATIVE / name))
    table = next(t for t in d.tables if t.rows[0].cells[0].text == "一级指标")
    score = [c.text for c in table.rows[0].cells].index("得分")
    grid = table._tbl.tblGrid.findall(f"{W_NS}gridCol")
    assert int(grid[score].get(f"{W_NS}w")) >= 3 * 10 * 20 + 2 * 45


@pytest.mark.parametrize("name", ["national.docx", "multi.docx"])
def test_the_total_rows_of_the_self_evaluation_table_stay_together(name):
    # 合计, 预算执行率 (and a target block) keep with the 总分 row: a total never stands alone on a page
    d = docx.Document(str(NARRATIVE / name))
    table = next(t for t in d.tables if t.rows[0].cells[0].text == "一级指标")
    first = [c.cells[0].text for c in table.rows].index("绩效指标合计")
    for row in table.rows[first:-1]:
        assert all(p.paragraph_format.keep_with_next for cell in row.cells for p in cell.paragraphs), row.cells[0].text
    assert table.rows[-1].cells[0].text == "总分"


def test_the_appended_self_evaluation_table_fits_its_page_and_never_leaves_the_total_alone(tmp_path, soffice):
    """The demo's two reports, rendered: the one with fewer rows keeps its 自评表 and the 填报单位 lines on one page
    (rows exactly 12 pt high whatever the CJK font's line height); where the table runs over, the 总分 row goes
    with the 合计 and 预算执行率 rows."""
    import subprocess as sp
    reports = {}
    for name in ("2023-医保基金监管专项", "2023-城乡医疗救助补助资金"):
        data, _rendered = report_docx(from_data_file(ROOT / "examples" / f"{name}.yaml"))
        write_docx(tmp_path / f"{name}.docx", data)
        reports[name] = tmp_path / f"{name}.docx"
    convert_files(list(reports.values()), tmp_path, "pdf", soffice=soffice)
    for name in reports:
        pdf = tmp_path / f"{name}.pdf"
        pages = int(re.search(r"Pages:\s+(\d+)", sp.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                                                          check=True).stdout).group(1))
        texts = [re.sub(r"\s+", "", sp.run(["pdftotext", "-f", str(k), "-l", str(k), str(pdf), "-"],
                                           capture_output=True, text=True, check=True).stdout)
                 for k in range(1, pages + 1)]
        total = next(k for k, t in enumerate(texts) if "评价等次：" in t and "总分" in t)
        assert "绩效指标合计" in texts[total], (name, texts[total][:200])
        if name == "2023-医保基金监管专项":
            start = next(k for k, t in enumerate(texts) if "项目支出绩效自评表" in t and "附件" in t)
            assert start == total and "填报单位（盖章）" in texts[total], name
