"""自评工作考核评分表 (seed 001 附件5): rubric as data, automatic items from collected workbooks, reviewer cells
with validated bands, native formulas equal to the Python twin (LibreOffice proof), CLI."""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import zipfile
from pathlib import Path

import pytest
import yaml
from openpyxl import Workbook, load_workbook

from xlsx_engine.bureau.bulk import bulk
from xlsx_engine.bureau.master import write_master
from xlsx_engine.bureau.review import (
    CHECK,
    DEFAULT_RUBRIC,
    NO,
    NOT_FOUND,
    PENDING,
    REVIEW_DIR,
    SHEET,
    YES,
    Paragraph,
    UnitFiles,
    analyse_report,
    assess_unit,
    check_project,
    columns,
    evaluate_row,
    funding_flag,
    load_rubric,
    parse_rubric,
    read_submissions,
    read_text_paragraphs,
    review,
    row_formulas,
    working_days_late,
    write_review,
)
from openpyxl.utils import get_column_letter
from xlsx_engine.bureau.review.workbook import FIRST_ROW
from xlsx_engine.bureau.summary import row_height
from xlsx_engine.ooxml.sheetmodel import text_lines
from xlsx_engine.forms.project.profile import list_profiles, load_profile
from xlsx_engine.forms.registry import form_for, open_template, read_project
from xlsx_engine.integrity.reading import read_form_file
from xlsx_engine.kernel.errors import DataError, ProfileError
from xlsx_engine.kernel.excel import ALLOWED_FUNCTIONS, functions_used
from xlsx_engine.ooxml.builder import TEMPLATE_DIR
from xlsx_engine.ooxml.recalc import read_values

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "review"
EXAMPLE = ROOT / "examples" / "总表示例.xlsx"
DEADLINE = dt.date(2024, 3, 29)          # a Friday


@pytest.fixture(scope="module")
def rubric():
    return load_rubric("review-yueyang")


# ----------------------------------------------------------------------------- the rubric as data

def test_rubric_points_are_those_of_seed_001(rubric):
    assert rubric.total == 100
    assert [(g.name, g.weight) for g in rubric.groups] == [("布置工作", 10), ("实施评价", 20), ("自评报告", 70)]
    assert {i.name: i.weight for i in rubric.items} == {
        "自评通知": 8, "工作小组": 2, "单位自查": 10, "提交报告": 10, "完整性": 15, "绩效自评表": 20, "反映问题情况": 20,
        "建议情况": 15}
    parts = {p.key: p for p in rubric.parts}
    assert (parts["notice_issued"].points, parts["notice_missing"].points, parts["notice_missing"].max_count) == (2, 6, 6)
    assert (parts["body_missing"].points, parts["body_missing"].per) == (8, 2)
    assert (parts["attachments_missing"].points, parts["attachments_missing"].per) == (7, 2)
    assert [parts[k].points for k in ("weights", "level3", "measurable", "core", "relevant")] == [5, 5, 5, 3, 2]
    assert (parts["late_days"].points, parts["late_days"].per) == (10, 1)
    assert [(b.min, b.max) for b in parts["problems_score"].bands] == [(20, 20), (16, 18), (13, 15), (10, 12), (0, 0)]
    assert [(b.min, b.max) for b in parts["suggestions_score"].bands] == [(15, 15), (12, 14), (9, 11), (6, 8), (0, 0)]
    automatic = {p.key for p in rubric.parts if p.rule == "automatic"}
    assert automatic == {"late_days", "body_missing", "attachments_missing", "weights", "level3"}
    assert {p.flag.source for p in rubric.parts if p.flag} == {"problems_funding_only", "suggestions_funding_only"}
    assert dict(rubric.regulation) == {"fund": 10, "产出指标": 50, "效益指标": 30, "满意度指标": 10}
    assert len(rubric.sections) == 10 and len(rubric.attachments) == 6


def _raw():
    return yaml.safe_load((REVIEW_DIR / "review-yueyang.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["groups"][0]["items"][0]["parts"][0].update(points=3), "各要素分值之和"),
    (lambda d: d["groups"][0].update(weight=12), "各二级指标分值之和"),
    (lambda d: d.update(total=90), "total"),
    (lambda d: d["groups"][0]["items"][0]["parts"][0].update(name="A1"), "不能用作 Excel 名称"),
    (lambda d: d["groups"][0]["items"][1]["parts"][0].update(key="notice_issued"), "重复"),
    (lambda d: d["groups"][2]["items"][3]["parts"][0]["bands"][0].update(max=25), "档次"),
    (lambda d: d["groups"][1]["items"][1]["parts"][0].update(source="guess"), "source"),
])
def test_rubric_errors_are_reported(mutate, message):
    data = _raw()
    mutate(data)
    with pytest.raises(ProfileError) as err:
        parse_rubric(data, "坏规则.yaml")
    assert message in str(err.value) and "坏规则.yaml" in str(err.value)


# ----------------------------------------------------------------------------- automatic parts, unit level

def test_working_days_late_skips_weekends_holidays_and_counts_makeup_days(rubric):
    assert working_days_late(DEADLINE, DEADLINE) == 0
    assert working_days_late(DEADLINE, dt.date(2024, 3, 30)) == 0              # Saturday
    assert working_days_late(DEADLINE, dt.date(2024, 4, 2)) == 2               # Mon + Tue
    assert working_days_late(DEADLINE, dt.date(2024, 3, 1)) == 0               # early
    # 清明 2024: 4–6 April off, Sunday 7 April is a 调休 workday
    plain = working_days_late(dt.date(2024, 4, 3), dt.date(2024, 4, 8))
    honoured = working_days_late(dt.date(2024, 4, 3), dt.date(2024, 4, 8), rubric.holidays, rubric.workdays)
    assert (plain, honoured) == (3, 2)


def test_report_sections_of_seed_001(rubric):
    paragraphs = read_text_paragraphs(DATA / "seed001_report.txt")
    read = analyse_report(paragraphs, rubric)
    assert read.missing == [] and len(read.found) == 10
    assert any("绩效目标设立不够细化" in t for t in read.texts["problems"])
    assert funding_flag(read.texts["problems"], "problems") == NO
    assert funding_flag(read.texts["suggestions"], "suggestions") == NO
    # drop two headings: exactly those two are missing
    cut = [p for p in paragraphs if not p.text.startswith(("三、", "八、"))]
    read = analyse_report(cut, rubric)
    assert read.missing == ["政府性基金预算支出情况", "下一步改进措施"]
    # body text that merely mentions a section name is not a heading
    only_text = [Paragraph("2024 年我单位无政府性基金预算支出。"), Paragraph("一、部门（单位）基本情况")]
    assert analyse_report(only_text, rubric).found == ["部门（单位）基本情况"]


def test_word_headings_by_style_numbering_or_bold(rubric, tmp_path):
    """Word reports often number headings automatically (the “一、” is not in the text) or only set them bold."""
    from docx import Document
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    doc = Document()
    doc.add_paragraph().add_run("部门（单位）基本情况").bold = True
    doc.add_paragraph("本局负责全区医疗保障工作。")
    numbered = doc.add_paragraph("存在的问题及原因分析")
    num = OxmlElement("w:numPr")
    for tag, val in (("w:ilvl", "0"), ("w:numId", "1")):
        el = OxmlElement(tag)
        el.set(qn("w:val"), val)
        num.append(el)
    numbered._p.get_or_add_pPr().append(num)
    doc.add_paragraph("资金不足。")
    doc.add_paragraph().add_run("经费紧张").bold = True          # bold inside the section: still content
    doc.add_heading("下一步改进措施", level=1)
    doc.add_paragraph("建议加大资金投入力度。")
    doc.add_paragraph("部门整体支出绩效情况较好")                 # plain line: not a heading
    doc.save(tmp_path / "报告.docx")
    read = analyse_report(read_text_paragraphs(tmp_path / "报告.docx"), rubric)
    assert read.found == ["部门（单位）基本情况", "存在的问题及原因分析", "下一步改进措施"]
    assert read.texts["problems"] == ["资金不足", "经费紧张"]
    assert funding_flag(read.texts["problems"], "problems") == YES
    assert funding_flag(read.texts["suggestions"], "suggestions") == NO      # the plain line follows it


@pytest.mark.parametrize("texts, kind, expected", [
    (["资金不足。"], "problems", YES),
    (["（一）项目经费严重不足"], "problems", YES),
    (["资金不足", "绩效目标设立不够细化、量化"], "problems", NO),
    ([], "problems", NOT_FOUND),
    (["建议加大资金投入力度"], "suggestions", YES),
    (["一是加大资金投入", "二是规范绩效目标编制"], "suggestions", NO),
])
def test_funding_only_detection_reuses_the_narrative_rule(texts, kind, expected):
    assert funding_flag(texts, kind) == expected


def test_judgement_bands_and_ranges_give_warnings(rubric):
    base = {"notice_issued": YES, "notice_missing": 0.0, "team_set_up": YES, "skipped_units": 0.0, "late_days": 0.0,
            "body_missing": 0.0, "attachments_missing": 0.0, "weights_ok": 4.0, "weights_total": 4.0,
            "level3_ok": 4.0, "level3_total": 4.0, "measurable": 5.0, "core": 3.0, "relevant": 2.0,
            "problems_funding_only": NO, "problems_score": 20.0, "suggestions_funding_only": NO,
            "suggestions_score": 15.0}
    full = evaluate_row(rubric, base)
    assert (full["total"], full["pending"], full["warnings"], full["grade"]) == (100, 0, "", "优")
    for value in (0.0, 10.0, 12.0, 13.0, 17.5, 18.0, 20.0):
        assert evaluate_row(rubric, {**base, "problems_score": value})["warnings"] == ""
    for value in (19.0, 9.0, 5.0, 21.0, -1.0, "较全面"):
        row = evaluate_row(rubric, {**base, "problems_score": value})
        assert row["warnings"] == "反映问题情况评分应为0、10–12、13–15、16–18或20分；", value
        assert row["grade"] == CHECK
    assert evaluate_row(rubric, {**base, "suggestions_score": 5.0})["warnings"].startswith("建议情况评分应为0、6–8")
    assert "突出核心指标精简实用应为0–3分" in evaluate_row(rubric, {**base, "core": 4.0})["warnings"]
    assert "通知缺少的内容项数应为0–6的整数" in evaluate_row(rubric, {**base, "notice_missing": 1.5})["warnings"]
    assert "印发自评通知应为是/否" in evaluate_row(rubric, {**base, "notice_issued": "有"})["warnings"]
    # funding-only: the band score does not count, whatever the reviewer typed
    zero = evaluate_row(rubric, {**base, "problems_funding_only": YES})
    assert zero["item:problems"] == 0 and zero["total"] == 80
    # blanks are pending, not warnings; the notice's contents are not needed when no notice was issued
    blank = evaluate_row(rubric, {**base, "measurable": None, "notice_issued": NO, "notice_missing": None})
    assert (blank["pending"], blank["grade"], blank["item:notice"]) == (1, PENDING, 0)


def test_every_formula_uses_allowed_functions_only(rubric):
    ref = {c.key: f"X{k}" for k, c in enumerate(columns(rubric), 1)}
    formulas = row_formulas(rubric, ref)
    assert set(formulas) >= {"total", "grade", "pending", "warnings"} | {f"item:{i.key}" for i in rubric.items}
    used = set().union(*(functions_used(f) for f in formulas.values()))
    assert used <= ALLOWED_FUNCTIONS, used - ALLOWED_FUNCTIONS


# ----------------------------------------------------------------------------- collected workbooks

UNITS = ("甲局", "乙局", "丙中心")
INDICATORS = [("产出指标", "数量指标", "完成个数", "≥", 10, "个", 30, 10),
              ("产出指标", "质量指标", "验收合格率", "≥", 95, "%", 20, 96),
              ("效益指标", "社会效益指标", "政策知晓率", "≥", 85, "%", 30, 90),
              ("满意度指标", "服务对象满意度指标", "服务对象满意度", "≥", 90, "%", 10, 92)]


def small_master(path: Path) -> None:
    rows = {"单位": [], "项目": [], "资金": [], "指标": [], "目标": []}
    n = 0
    for unit in UNITS:
        rows["单位"].append([unit, "市财政局", None, None])
        for k in (1, 2):
            n += 1
            code = f"P{n:03d}"
            rows["项目"].append([code, unit, f"2023年{unit}项目{k}", "national", 2023, "市财政局", None, None])
            rows["资金"].append([code, "当年财政拨款", 100, 100, 96])
            for l1, l2, name, op, t, u, w, a in INDICATORS:
                rows["指标"].append([code, l1, l2, name, op, t, u, w, a, None, None, None])
            rows["目标"].append([code, "按计划完成", "已完成"])
    write_master(path, rows)


def alter_project(path: Path) -> None:
    """Re-fill one returned workbook with other level-1 weights (产出 60, 效益 20) and a row without 二级指标."""
    rb = read_project(path)
    rec = rb.record
    rec.indicators[0].weight = 40.0
    rec.indicators[2].weight = 20.0
    rec.indicators[1].level2 = None
    meta = rb.workbook.meta
    open_template(TEMPLATE_DIR / "xmzc-national.xlsx").fill_to(
        rec, path, identity={k: meta[k] for k in ("项目编码", "单位名称", "项目名称")})


def set_mtime(folder: Path, day: dt.date) -> None:
    stamp = dt.datetime.combine(day, dt.time(12, 0)).timestamp()
    for p in folder.rglob("*"):
        if p.is_file():
            os.utime(p, (stamp, stamp))


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    base = tmp_path_factory.mktemp("review")
    small_master(base / "总表.xlsx")
    folder = base / "回收"
    report = bulk(base / "总表.xlsx", folder, by="unit")
    assert not report.errors and len(report.items) == 6
    # 甲局: the seed-001 report as Word, both department tables as PDF: complete
    from docx import Document
    doc = Document()
    for line in read_text_paragraphs(DATA / "seed001_report.txt"):
        if line.text.strip():
            doc.add_paragraph(line.text.strip())
    doc.save(folder / "甲局" / "甲局2024年度整体支出绩效自评报告.docx")
    for name in ("部门整体支出绩效评价基础数据表.pdf", "部门整体支出绩效自评表.pdf"):
        (folder / "甲局" / name).write_bytes(b"%PDF-1.4 test")
    # 乙局: a Markdown report missing two sections, 资金不足-only problems; one table with other weights
    shutil.copy(DATA / "乙局整体支出绩效自评报告.md", folder / "乙局")
    wb = Workbook()
    wb.active["A1"] = "政府性基金预算支出情况"
    wb.save(folder / "乙局" / "乙局政府性基金预算支出情况表.xlsx")
    alter_project(next((folder / "乙局").glob("P003_*.xlsx")))
    # 丙中心: no report; its 部门整体支出绩效自评表 (our workbook: 基础数据表 + 整体自评表) and project tables,
    # sent on Monday 8 April (after 清明; Sunday 7 April was a workday)
    dept = open_template(TEMPLATE_DIR / "bmzt-dept-hunan.xlsx")
    dept.fill_to(form_for("bmzt").load_data(ROOT / "tests" / "data" / "department" / "seed001.yaml", dept.profile),
                 folder / "丙中心" / "整体支出.xlsx")
    set_mtime(folder / "丙中心", dt.date(2024, 4, 8))
    # a stray file nobody can be matched with, and a broken workbook
    (folder / "说明.txt").write_text("请查收", encoding="utf-8")
    (folder / "乙局" / "坏文件.xlsx").write_bytes(b"PK\x03\x04 broken")
    run = review(folder, deadline=DEADLINE, submissions=DATA / "提交记录.csv")
    return base, folder, run


def test_units_and_automatic_items(collected):
    _, _, run = collected
    assert [u.unit for u in run.units] == ["甲局", "乙局", "丁所", "丙中心"]   # 提交记录 order, then the rest
    v = {u.unit: u.values for u in run.units}
    # 提交报告: dates from the table, else the files' modification time; 丁所 never submitted
    assert [v[u]["late_days"] for u in ("甲局", "乙局", "丙中心", "丁所")] == [0, 2, 5, 10]
    assert run.unit("丙中心").submitted_source == "所交文件中最晚的修改时间"
    assert "【注意：提交日期取自文件修改时间" in run.unit("丙中心").notes["late_days"]      # visible on the sheet
    assert "注意" not in run.unit("乙局").notes["late_days"]                               # from the 提交记录
    assert run.unit("丁所").values["submitted"] == "未报送"
    # 完整性: 甲局 complete (three attachments waived by the report's “无…支出”), 乙局 misses 三、四 and
    # three attachments (its 政府性基金 table is there by name), 丙中心 has no report but the department workbook
    assert (v["甲局"]["body_missing"], v["甲局"]["attachments_missing"]) == (0, 0)
    assert (v["乙局"]["body_missing"], v["乙局"]["attachments_missing"]) == (2, 3)
    assert (v["丙中心"]["body_missing"], v["丙中心"]["attachments_missing"]) == (10, 3)
    assert run.unit("丙中心").files.department_workbooks[0].endswith("整体支出.xlsx")
    assert (v["丁所"]["body_missing"], v["丁所"]["attachments_missing"]) == (10, 6)
    assert "政府性基金预算支出情况、国有资本经营预算支出情况" in run.unit("乙局").notes["body_missing"]
    # 绩效自评表: one of 乙局's two tables has 产出 60 / 效益 20 and a row without 二级指标
    assert (v["甲局"]["weights_ok"], v["甲局"]["weights_total"]) == (8, 8)
    assert (v["乙局"]["weights_ok"], v["乙局"]["weights_total"]) == (6, 8)
    assert (v["乙局"]["level3_ok"], v["乙局"]["level3_total"]) == (7, 8)
    assert (v["丁所"]["weights_total"], v["丁所"]["level3_total"]) == (0, 0)
    assert "产出指标 60（应为 50）" in run.unit("乙局").notes["weights"]
    assert "第2行缺二级指标" in run.unit("乙局").notes["level3"]
    # 资金不足 / 加大资金投入 only
    assert (v["甲局"]["problems_funding_only"], v["甲局"]["suggestions_funding_only"]) == (NO, NO)
    assert (v["乙局"]["problems_funding_only"], v["乙局"]["suggestions_funding_only"]) == (YES, YES)
    assert v["丙中心"]["problems_funding_only"] == NOT_FOUND
    # unreadable / unassigned files are reported, not silently used
    assert any(p.endswith("坏文件.xlsx") for p, _ in run.unreadable)
    assert any(p.endswith("说明.txt") for p in run.unassigned)


def test_scores_of_each_unit(collected):
    _, _, run = collected
    r = {u.unit: u.result for u in run.units}
    assert r["甲局"]["item:notice"] == 7 and r["甲局"]["item:table"] == 20
    assert (r["甲局"]["total"], r["甲局"]["grade"]) == (96, "优")
    b = r["乙局"]
    assert (b["item:submission"], b["item:self_check"], b["item:completeness"]) == (8, 8, 5)   # 4 + 1
    assert b["item:table"] == 15.13                       # 3.75 + 4.38 + 4 + 2 + 1
    assert (b["item:problems"], b["item:suggestions"]) == (0, 0)     # 16 and 12 entered, but 资金不足 only
    assert (b["total"], b["pending"], b["grade"]) == (38.13, 1, PENDING)   # 通知缺少项数 not entered yet
    assert (r["丙中心"]["item:submission"], r["丙中心"]["item:completeness"]) == (5, 1)     # 0 + (7 − 3×2)
    assert (r["丙中心"]["total"], r["丙中心"]["pending"]) == (16, 8)
    # 丁所 submitted nothing: 0 on every item, its reviewer cells pre-filled so, graded rather than 待评
    assert (r["丁所"]["total"], r["丁所"]["pending"], r["丁所"]["grade"]) == (0, 0, "差")


def test_submissions_table_is_validated(tmp_path, rubric):
    bad = tmp_path / "提交记录.csv"
    bad.write_text("单位名称,提交日期,反映问题评分,成立工作小组,评审意见\n甲局,2024-13-01,19,也许,\n甲局,,,,\n",
                   encoding="utf-8")
    with pytest.raises(DataError) as err:
        read_submissions(bad, rubric)
    text = str(err.value)
    for part in ("未知列名“评审意见”", "第2行 提交日期", "第2行 反映问题评分：应为0、10–12、13–15、16–18或20",
                 "第2行 成立工作小组：应填“是”或“否”", "第3行：单位“甲局”重复"):
        assert part in text, part
    # an automatic value can be overridden from the table (e.g. a report handed in on paper)
    paper = tmp_path / "纸质.csv"
    paper.write_text("单位名称,提交日期,正文缺少部分数,问题仅资金不足\n戊站,2024-03-28,3,否\n", encoding="utf-8")
    subs = read_submissions(paper, rubric)
    unit = assess_unit(UnitFiles("戊站"), rubric, DEADLINE, submission=subs["戊站"])
    assert (unit.values["body_missing"], unit.values["problems_funding_only"], unit.values["late_days"]) == (3, NO, 0)
    assert unit.notes["body_missing"].startswith("按提交记录：3") and unit.result["item:completeness"] == 2
    good = read_submissions(DATA / "提交记录.csv", rubric)
    assert good["乙局"].date == dt.date(2024, 4, 2) and good["甲局"].values["problems_score"] == 18
    assert good["乙局"].values["notice_issued"] == YES and "notice_missing" not in good["乙局"].values


# ----------------------------------------------------------------------------- the workbook

def _sheet_xml(path: Path) -> str:
    return zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()


def test_workbook_is_locked_named_validated_and_cached(collected, rubric):
    base, _, run = collected
    out = base / "考核评分表.xlsx"
    cached = write_review(run, out)
    wb = load_workbook(out)
    ws = wb[SHEET]
    assert wb.security.lockStructure and all(s.protection.sheet for s in wb.worksheets)
    assert not any(n.endswith(".bin") or "vba" in n.lower() for n in zipfile.ZipFile(out).namelist())
    names = wb.defined_names
    for name in ("截止日期", "单位名称", "总分", "考核等次", "待评项数", "考核提示", "反映问题评分", "问题仅资金不足",
                 "推迟工作日数", "权重符合数", "自评报告得分"):
        assert name in names, name                            # workbook scope (openpyxl keeps sheet scope apart)
    assert all(not ws.defined_names for ws in wb.worksheets)
    # the deadline shows its label by its number format, right of the columns every printed page repeats (A:B):
    # a label there printed alone, without the date, on every later page
    assert ws["A2"].value is None and ws["B2"].value is None
    assert ws["C2"].value == dt.datetime.combine(run.deadline, dt.time()) and names["截止日期"].attr_text.endswith("!$C$2")
    assert ws["C2"].number_format.startswith('"报送截止日期：') and ws.print_title_cols == "$A:$B"
    cols = {c.key: k for k, c in enumerate(columns(rubric), 1)}
    first = 7
    # inputs are unlocked, formulas and automatic values locked
    assert ws.cell(first, cols["problems_score"]).protection.locked is False
    assert ws.cell(first, cols["notice_issued"]).protection.locked is False
    for key in ("late_days", "weights_ok", "problems_funding_only", "item:problems", "total", "grade"):
        assert ws.cell(first, cols[key]).protection.locked is True, key
    assert ws.cell(first, cols["total"]).value.startswith("=ROUND(")
    # the unit's automatic values are written, the reviewer's pre-filled values too
    assert ws.cell(first + 1, cols["unit"]).value == "乙局"
    assert ws.cell(first + 1, cols["weights_ok"]).value == 6 and ws.cell(first + 1, cols["late_days"]).value == 2
    assert ws.cell(first + 1, cols["problems_score"]).value == 16
    # data validation on every reviewer column
    dvs = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    from openpyxl.utils import get_column_letter as L
    rng = lambda key: f"{L(cols[key])}{first}:{L(cols[key])}{first + len(run.units) - 1}"
    assert (dvs[rng("problems_score")].type, dvs[rng("problems_score")].formula2) == ("decimal", "20")
    assert (dvs[rng("suggestions_score")].type, dvs[rng("suggestions_score")].formula2) == ("decimal", "15")
    assert dvs[rng("notice_issued")].formula1 == '"是,否"'
    assert (dvs[rng("notice_missing")].type, dvs[rng("notice_missing")].formula2) == ("whole", "6")
    assert dvs[rng("core")].formula2 == "3"
    assert all(dv.showErrorMessage for dv in dvs.values())
    # every formula cell has its Python result as cached value, readable without recalculation
    values = read_values(out)[SHEET]
    from openpyxl.utils import get_column_letter
    for i, u in enumerate(run.units):
        assert values[f"{get_column_letter(cols['total'])}{first + i}"] == u.result["total"]
        assert values[f"{get_column_letter(cols['grade'])}{first + i}"] == u.result["grade"]
    assert len(cached) == len(run.units) * len([c for c in columns(rubric)
                                                 if c.role in ("score", "subtotal", "total", "pending", "warnings",
                                                               "grade")])


def test_every_sheet_prints_on_a4_landscape_with_wrapped_rows(collected, rubric):
    """Each sheet: A4 landscape scaled to whole pages across, header rows repeated, title and page numbers;
    wrapped texts with rows as tall as them; no command-line flags or profile ids in any cell."""
    base, _, run = collected
    out = base / "考核评分表-打印.xlsx"
    write_review(run, out)
    wb = load_workbook(out)
    for ws in wb.worksheets:
        setup = ws.page_setup
        assert (setup.paperSize, setup.orientation) == (9, "landscape"), ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage and int(setup.fitToWidth) >= 1, ws.title
        assert int(setup.fitToHeight) == 0 and ws.print_title_rows, ws.title
        assert ws.title in ws.oddHeader.center.text and "&P" in ws.oddFooter.center.text, ws.title
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and not cell.value.startswith("="):
                    assert "--" not in cell.value, (ws.title, cell.coordinate, cell.value)
                    assert cell.value not in list_profiles(), (ws.title, cell.coordinate, cell.value)
    ws = wb[SHEET]
    note = [k for k, c in enumerate(columns(rubric), 1) if c.role == "note"][0]
    longest = max(range(FIRST_ROW, ws.max_row + 1), key=lambda r: len(ws.cell(r, note).value or ""))
    cell = ws.cell(longest, note)
    assert cell.alignment.wrap_text and "提交记录" in cell.value
    width = ws.column_dimensions[get_column_letter(note)].width
    assert ws.row_dimensions[longest].height == row_height(text_lines(cell.value, width)) > 15
    assert "自评表核对" in wb.sheetnames and any(
        c.value == load_profile("national").name for row in wb["自评表核对"].iter_rows() for c in row)


def test_unit_text_is_never_a_formula(tmp_path, rubric):
    folder = tmp_path / "回收"
    folder.mkdir()
    (tmp_path / "s.csv").write_text("单位名称,存在问题\n\"=HYPERLINK(\"\"http://x\"\",\"\"点\"\")\",=1+1\n",
                                    encoding="utf-8")
    run = review(folder, deadline=DEADLINE, submissions=tmp_path / "s.csv")
    write_review(run, tmp_path / "k.xlsx")
    xml = _sheet_xml(tmp_path / "k.xlsx")
    assert "<f>HYPERLINK" not in xml and "<f>1+1" not in xml
    assert load_workbook(tmp_path / "k.xlsx")[SHEET].cell(7, 2).value.startswith("=HYPERLINK")


def example_run(tmp_path: Path, rubric):
    """The example master (40 units, 200 projects) collected, with random reviewer values — some out of band."""
    folder = tmp_path / "example"
    report = bulk(EXAMPLE, folder, by="unit", jobs=2)
    assert not report.errors
    rng = random.Random(11)
    judged = {}
    for unit in sorted({i.unit for i in report.items}):
        pick = lambda *xs: rng.choice(xs)
        judged[unit] = {"印发自评通知": pick("是", "否", None), "通知缺少项数": pick(0, 2, 6, 7, 1.5, None),
                        "成立工作小组": pick("是", "否", "有"), "未自查单位数": pick(0, 3, 12, None),
                        "指标明确可衡量": pick(5, 4.5, 0, 6, None), "核心精简": pick(3, 2.25, "好"),
                        "密切相关": pick(2, 1, -1), "反映问题评分": pick(20, 17, 16.5, 19, 9, 0, None),
                        "建议评分": pick(15, 13, 8, 5, 14.5, None)}
    return review(folder, deadline=DEADLINE, judgements=judged)


@pytest.mark.libreoffice
def test_recalculation_equals_python_in_both_engines(collected, rubric, engine, tmp_path):
    _, _, run = collected
    small = tmp_path / "考核评分表-小.xlsx"
    write_review(run, small)
    big_run = example_run(tmp_path, rubric)
    assert len(big_run.units) == 40
    # the example sends some forms back blank (待填报): those earn nothing for their weights and rows
    assert any(u.files.blank for u in big_run.units)
    assert all(u.values["weights_total"] == 20 and u.values["weights_ok"] == 4 * len(u.files.filled)
               for u in big_run.units)
    assert all(u.values["level3_ok"] == sum(p.rows for p in u.files.filled) > 0 for u in big_run.units)
    big = tmp_path / "考核评分表-示例.xlsx"
    write_review(big_run, big)
    out = engine.recalc([small, big], tmp_path / "recalc")
    checked = warned = 0
    for path, r in ((small, run), (big, big_run)):
        ours = read_values(path)[SHEET]               # the Python twin, written as cached values
        theirs = read_values(out[path])[SHEET]        # what the engine computed from the formulas alone
        formula_cells = [ref for ref, f in _formula_refs(path)]
        assert formula_cells
        for ref in formula_cells:
            mine, got = ours.get(ref), theirs.get(ref)
            if isinstance(mine, float):
                assert isinstance(got, float) and abs(mine - got) < 1e-9, (engine.name, path.name, ref, mine, got)
            else:
                assert (mine or "") == (got or ""), (engine.name, path.name, ref, mine, got)
            checked += 1
        cols = {c.key: k for k, c in enumerate(columns(rubric), 1)}
        from openpyxl.utils import get_column_letter
        for i, u in enumerate(r.units):
            row = 7 + i
            assert theirs[f"{get_column_letter(cols['total'])}{row}"] == u.result["total"]
            assert theirs[f"{get_column_letter(cols['grade'])}{row}"] == u.result["grade"]
            text = theirs.get(f"{get_column_letter(cols['warnings'])}{row}", "")
            assert text == u.result["warnings"]
            warned += "反映问题情况评分应为" in text
    assert checked > 500 and warned >= 3      # out-of-band values produced the visible warning in the engine


def _formula_refs(path: Path):
    import re
    xml = _sheet_xml(path)
    return re.findall(r'<c r="([A-Z]+\d+)"[^>]*>(<f>.*?</f>)', xml)


# ----------------------------------------------------------------------------- command line

def test_cli_review(collected, tmp_path, capsys):
    from xlsx_engine.cli.main import cli, main
    from xlsx_engine.cli.review import review_command
    if "review" not in cli.commands:
        cli.add_command(review_command)
    _, folder, _ = collected
    out = tmp_path / "考核评分表.xlsx"
    args = ["review", str(folder), "--deadline", "2024-03-29", "--submissions", str(DATA / "提交记录.csv"),
            "-o", str(out)]
    assert main(args) == 0
    text = capsys.readouterr()
    assert "已生成考核评分表" in text.out and "4 个单位" in text.out
    assert "乙局：提交 2024-04-02，推迟 2 个工作日" in text.out and "只提出资金不足问题" in text.out
    assert "说明.txt" in text.err and "坏文件.xlsx" in text.err
    assert load_workbook(out)[SHEET].cell(7, 2).value == "甲局"
    assert main(args) == 2                                              # never overwrite without --force
    assert "已存在" in capsys.readouterr().err
    assert main(args + ["--force", "--json"]) == 0
    import json
    data = json.loads(capsys.readouterr().out)
    assert {u["单位名称"]: u["总分"] for u in data["单位"]}["甲局"] == 96
    assert main(["review", str(folder), "--deadline", "明天", "-o", str(tmp_path / "x.xlsx")]) == 2
    assert "不是有效日期" in capsys.readouterr().err
    assert main(["review", str(tmp_path / "没有"), "--deadline", "2024-03-29", "-o", str(tmp_path / "y.xlsx")]) == 2
    assert not (tmp_path / "y.xlsx").exists()


def test_weights_are_checked_against_each_projects_own_profile(tmp_path):
    """A Hubei project (预算执行率 20, level-1 weights free) under a rubric whose 规程 comes from a profile is held
    to Hubei's rules, not marked 不符 for following them; weights listed in the rubric still apply to all."""
    rows = {"单位": [["甲局", "市财政局", None, None]],
            "项目": [["H1", "甲局", "湖北项目", "hubei-wuhan", 2023, None, None, None]],
            "资金": [["H1", "区级预算资金", 100, 100, 96]],
            "指标": [["H1", "产出指标", "数量指标", "人数", "≥", 100, "人", 30, 100, None, None, None],
                     ["H1", "效益指标", "社会效益指标", "知晓率", "≥", 90, "%", 20, 95, None, None, None],
                     ["H1", "满意度指标", "服务对象满意度指标", "满意度", "≥", 90, "%", 10, 92, None, None, None]],
            "目标": [["H1", "完成", "已完成"]]}
    write_master(tmp_path / "m.xlsx", rows)
    report = bulk(tmp_path / "m.xlsx", tmp_path / "out")
    assert not report.errors, report.errors
    rb = read_form_file(tmp_path / "out" / report.items[0].relpath)
    own = check_project(rb, load_rubric(DEFAULT_RUBRIC), "h1.xlsx", "甲局")
    assert own.weights[0] == ("预算执行率", 20.0, 20.0) and not own.mismatches
    assert own.judged == 1                                   # Hubei fixes no level-1 weight: not judged
    data = yaml.safe_load((REVIEW_DIR / f"{DEFAULT_RUBRIC}.yaml").read_text(encoding="utf-8"))
    data["regulation"] = {"weights": {"fund": 10, "产出指标": 50, "效益指标": 30, "满意度指标": 10}}
    listed = check_project(rb, parse_rubric(data, "listed.yaml"), "h1.xlsx", "甲局")
    assert listed.judged == 4 and "预算执行率 20（应为 10）" in listed.mismatches


PROJECT_REPORT = """# 2023年戊站项目支出绩效自评报告
## 一、项目基本概况
戊站承担农技推广项目。
## 二、项目资金使用及管理情况
资金按计划拨付。
## 三、项目组织实施情况
按方案组织实施。
## 四、绩效目标完成情况
各项指标基本完成。
## 五、综合评价情况及评价结论
自评得分 95 分。
## 六、存在的问题及原因
部分指标设置不够细化，满意度调查样本偏少。
## 七、改进措施和建议
下一步细化指标，扩大满意度调查范围。
"""


def _hubei_master(path: Path, units=("戊站",)) -> None:
    rows = {"单位": [[u, "区财政局", None, None] for u in units], "项目": [], "资金": [], "指标": [], "目标": []}
    for k, unit in enumerate(units, 1):
        code = f"H{k}"
        rows["项目"].append([code, unit, f"{unit}项目", "hubei-wuhan", 2023, None, None, None])
        rows["资金"].append([code, "区级预算资金", 100, 100, 96])
        rows["指标"] += [[code, "产出指标", "数量指标", "人数", "≥", 100, "人", 40, 100, None, None, None],
                        [code, "效益指标", "社会效益指标", "知晓率", "≥", 90, "%", 10, 95, None, None, None],
                        [code, "满意度指标", "服务对象满意度指标", "满意度", "≥", 90, "%", 10, 92, None, None, None]]
        rows["目标"].append([code, "完成", "已完成"])
    write_master(path, rows)


def test_project_units_are_not_asked_for_department_attachments(collected, tmp_path):
    """A unit that evaluated only 项目支出 (project workbooks and a project report) is held to the project report's
    outline and to the project attachments; the 部门整体 units of the same run still owe theirs."""
    _base, folder, _run = collected
    work = tmp_path / "回收"
    shutil.copytree(folder, work)
    _hubei_master(tmp_path / "m.xlsx")
    assert not bulk(tmp_path / "m.xlsx", work, by="unit").errors
    (work / "戊站" / "戊站项目支出绩效自评报告.md").write_text(PROJECT_REPORT, encoding="utf-8")
    run = review(work, deadline=DEADLINE, submissions=DATA / "提交记录.csv", rubric="review-yueyang")
    v = {u.unit: u.values for u in run.units}
    assert (v["戊站"]["body_missing"], v["戊站"]["attachments_missing"]) == (0, 0)
    notes = run.unit("戊站").notes
    assert "按项目支出自评报告的提纲核对" in notes["body_missing"]
    assert "项目支出单位，不要求部门整体支出绩效评价基础数据表" in notes["attachments_missing"]
    assert v["戊站"]["problems_funding_only"] == NO                 # its 问题 section was found and read
    # the 部门整体 units are unchanged (see test_units_and_automatic_items)
    assert (v["乙局"]["body_missing"], v["乙局"]["attachments_missing"]) == (2, 3)
    assert (v["丙中心"]["body_missing"], v["丙中心"]["attachments_missing"]) == (10, 3)
    # a 提交记录 can say what a unit evaluated
    log = tmp_path / "提交记录.csv"
    log.write_text("单位名称,提交日期,自评类型\n戊站,2024-03-29,部门整体\n", encoding="utf-8")
    as_dept = review(work, deadline=DEADLINE, submissions=log, rubric="review-yueyang").unit("戊站")
    assert as_dept.values["attachments_missing"] == 5 and as_dept.values["body_missing"] == 8   # 问题、措施 found
    log.write_text("单位名称,自评类型\n戊站,整体\n", encoding="utf-8")
    with pytest.raises(DataError):
        review(work, deadline=DEADLINE, submissions=log, rubric="review-yueyang")


def test_rubric_is_chosen_by_the_region_of_the_returned_forms(tmp_path, monkeypatch):
    """Without --rubric, the installed rubric written for the forms' region is used; when there is none the
    default is used and the sheet says so in red, above the scores."""
    from xlsx_engine.bureau.review import rubric as rubric_module
    _hubei_master(tmp_path / "m.xlsx")
    folder = tmp_path / "回收"
    assert not bulk(tmp_path / "m.xlsx", folder, by="unit").errors
    run = review(folder, deadline=DEADLINE)
    assert run.rubric.id == DEFAULT_RUBRIC and "湖北" in run.rubric_warning
    write_review(run, tmp_path / "考核.xlsx")
    row2 = load_workbook(tmp_path / "考核.xlsx")[SHEET][2]
    head = next(c for c in row2 if isinstance(c.value, str))      # the note beside the deadline
    assert head.value.startswith("注意：回收的自评表按湖北的评分规则填报") and head.font.color.rgb.endswith("C00000")
    # a rubric written for Hubei, installed beside the default one, is chosen without a warning
    installed = tmp_path / "review"
    installed.mkdir()
    data = yaml.safe_load((REVIEW_DIR / f"{DEFAULT_RUBRIC}.yaml").read_text(encoding="utf-8"))
    shutil.copy(REVIEW_DIR / f"{DEFAULT_RUBRIC}.yaml", installed)
    data.update(id="review-hubei-test", name="湖北测试考核表", regions=["hubei"])
    (installed / "review-hubei-test.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setattr(rubric_module, "REVIEW_DIR", installed)
    run = review(folder, deadline=DEADLINE)
    assert run.rubric.id == "review-hubei-test" and not run.rubric_warning
    # --rubric still wins, and is not second-guessed
    assert review(folder, deadline=DEADLINE, rubric=DEFAULT_RUBRIC).rubric_warning == ""


def test_a_link_in_the_returned_folder_is_listed_not_followed(tmp_path):
    """The units' folder is untrusted: a link to a file elsewhere (here a report that would count as the unit's
    attachment) is not read, and it is listed with why, as check and collect list it."""
    from xlsx_engine.bureau.review.intake import scan_folder
    outside = tmp_path / "别处"
    outside.mkdir()
    (outside / "甲局自评报告.txt").write_text("一、项目基本概况\n", encoding="utf-8")
    folder = tmp_path / "交回"
    (folder / "甲局").mkdir(parents=True)
    (folder / "甲局" / "自评报告.txt").symlink_to(outside / "甲局自评报告.txt")
    (folder / "甲局" / "~$表.xlsx").write_bytes(b"lock")
    scan = scan_folder(folder, load_rubric(DEFAULT_RUBRIC), ["甲局"])
    reasons = dict(scan.unreadable)
    assert any("自评报告.txt" in p and "指向本文件夹以外的符号链接" in why for p, why in reasons.items())
    assert any("~$表.xlsx" in p and "临时文件" in why for p, why in reasons.items())
    assert all("自评报告.txt" not in str(f) for u in scan.units.values() for f in u.all_files())


# ----------------------------------------------------------------------------- what was not returned, blank forms,
# several reports

def _cells(path: Path, unit: str, rubric) -> dict:
    """The unit's row of the 考核评分表 as written: its own cells by column key, formula cells by their cached
    (Python) values."""
    ws = load_workbook(path)[SHEET]
    cached = read_values(path)[SHEET]
    cols = columns(rubric)
    row = next(r for r in range(FIRST_ROW, ws.max_row + 1) if ws.cell(r, 2).value == unit)
    out = {}
    for k, c in enumerate(cols, 1):
        v = ws.cell(row, k).value
        out[c.key] = cached.get(f"{get_column_letter(k)}{row}") if isinstance(v, str) and v.startswith("=") else v
    return out


def _master_of(path: Path, units: list, projects: list) -> None:
    """A master: ``units`` rows of the 单位 sheet; ``projects``: (code, unit, filled) — a filled project has its
    实际完成值 and 全年执行数 in the master (bulk writes them in), an unfilled one is sent blank."""
    rows = {"单位": units, "项目": [], "资金": [], "指标": [], "目标": []}
    for code, unit, filled in projects:
        rows["项目"].append([code, unit, f"{unit}项目{code}", "national", 2023, "市财政局", None, None])
        rows["资金"].append([code, "当年财政拨款", 100, 100, 96 if filled else None])
        for l1, l2, name, op, t, u, w, a in INDICATORS:
            rows["指标"].append([code, l1, l2, name, op, t, u, w, a if filled else None, None, None, None])
        rows["目标"].append([code, "按计划完成", "已完成" if filled else None])
    write_master(path, rows)


def test_with_the_master_every_unit_has_a_row_even_one_that_returned_nothing(tmp_path, rubric, capsys):
    """--master lists every unit of the 总表 (单位 sheet, and a unit named only on the 项目 sheet); a unit that
    returned nothing is 未报送 and scores 0 on every item (its reviewer cells pre-filled so that it is graded, not
    left 待评), with why and whom to call in the 自动评分说明. Without the master it is missing, and the command
    line says so once and how to list it."""
    master = tmp_path / "总表.xlsx"
    _master_of(master, [["甲局", "市财政局", "张三", "0730-1111"], ["庚所", "市财政局", "李四", "0730-2222"]],
               [("P1", "甲局", True), ("P2", "辛站", True)])
    folder = tmp_path / "回收"
    assert not bulk(master, folder, by="unit").errors
    shutil.rmtree(folder / "辛站")                             # 辛站 returned nothing; 庚所 was sent no form at all
    alone = review(folder, deadline=DEADLINE)
    assert [u.unit for u in alone.units] == ["甲局"]
    run = review(folder, deadline=DEADLINE, master=master)
    assert [u.unit for u in run.units] == ["甲局", "庚所", "辛站"]      # the master's order
    out = tmp_path / "考核评分表.xlsx"
    write_review(run, out)
    for unit in ("庚所", "辛站"):
        row = _cells(out, unit, rubric)
        assert row["submitted"] == "未报送" and row["late_days"] == 10
        assert (row["body_missing"], row["attachments_missing"]) == (10, 6)
        assert (row["notice_issued"], row["team_set_up"], row["skipped_units"]) == (NO, NO, 10)
        assert (row["measurable"], row["core"], row["relevant"], row["problems_score"], row["suggestions_score"]) \
            == (0, 0, 0, 0, 0)
        assert (row["total"], row["pending"], row["grade"]) == (0, 0, "差")
        assert "未交回任何文件" in row["note"] and "按0分计" in row["note"]
    assert "联系人 李四" in _cells(out, "庚所", rubric)["note"]
    assert _cells(out, "甲局", rubric)["grade"] == PENDING                   # returned: left to the reviewer
    # the command line: the hint without --master, every unit with it; a bad --master is refused in Chinese
    from xlsx_engine.cli.main import main
    assert main(["review", str(folder), "--deadline", "2024-03-29", "-o", str(tmp_path / "a.xlsx")]) == 0
    err = capsys.readouterr().err
    assert err.count("--master 总表.xlsx") == 1 and "未交回任何文件的单位" in err
    assert main(["review", str(folder), "--deadline", "2024-03-29", "--master", str(master),
                 "-o", str(tmp_path / "b.xlsx")]) == 0
    text = capsys.readouterr()
    assert "3 个单位" in text.out and "庚所：未报送" in text.out and "--master" not in text.err
    assert main(["review", str(folder), "--deadline", "2024-03-29", "--master", str(tmp_path / "没有.xlsx"),
                 "-o", str(tmp_path / "c.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "没有.xlsx" in err and "总表" in err and "Traceback" not in err
    assert not (tmp_path / "c.xlsx").exists()


def test_a_blank_form_earns_nothing_for_content_it_does_not_have(tmp_path, rubric):
    """A project form returned blank (待填报: nothing typed) is no attachment, its weights and its indicator rows
    (the bureau's, as sent) are not the unit's work, and it is no submission: a unit that returned only blank forms
    is scored as one that returned nothing. The 说明 says why."""
    master = tmp_path / "总表.xlsx"
    _master_of(master, [["壬局", "市财政局", None, None], ["癸所", "市财政局", None, None]],
               [("P1", "壬局", True), ("P2", "壬局", False), ("P3", "癸所", False)])
    folder = tmp_path / "回收"
    assert not bulk(master, folder, by="unit").errors
    (folder / "壬局" / "壬局项目支出绩效自评报告.md").write_text(PROJECT_REPORT, encoding="utf-8")
    set_mtime(folder, DEADLINE)
    for given in ({}, {"master": master}):
        run = review(folder, deadline=DEADLINE, **given)
        out = tmp_path / "考核评分表.xlsx"
        write_review(run, out)
        half = _cells(out, "壬局", rubric)                       # one table filled, one blank
        assert (half["weights_ok"], half["weights_total"]) == (4, 8)
        assert (half["level3_ok"], half["level3_total"]) == (4, 8)
        assert half["item:table"] == 5                           # 2.5 + 2.5, reviewer items not entered
        assert half["attachments_missing"] == 0                  # the filled table is the attachment
        assert "P2" in half["note"] and "待填报" in half["note"]
        blank = _cells(out, "癸所", rubric)                      # nothing but a blank table
        assert (blank["weights_ok"], blank["level3_ok"]) == (0, 0)
        assert blank["attachments_missing"] >= 1 and blank["submitted"] == "未报送" and blank["late_days"] == 10
        assert (blank["total"], blank["grade"]) == (0, "差")
        assert "待填报" in blank["note"] and "按0分计" in blank["note"]
        ws = load_workbook(out)["自评表核对"]
        head = [c.value for c in ws[1]]
        row = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[1] == "P3")
        assert "未填写（待填报）" in row[head.index("说明")] and row[head.index("权重符合项数")] == 0


def test_every_report_of_a_unit_is_checked(tmp_path, rubric):
    """A unit that returned several reports (one per project): each is checked against its outline; a part any of
    them lacks counts as missing (once), 只提出资金不足 in any of them zeroes the item, and the 说明 names the reports
    that fall short. A department's own report and its projects' reports are each held to their own outline."""
    _hubei_master(tmp_path / "m.xlsx", units=("戊站",))
    folder = tmp_path / "回收"
    assert not bulk(tmp_path / "m.xlsx", folder, by="unit").errors
    unit = folder / "戊站"
    (unit / "戊站甲项目自评报告.md").write_text(PROJECT_REPORT, encoding="utf-8")
    short = PROJECT_REPORT.replace("## 三、项目组织实施情况\n按方案组织实施。\n", "").replace(
        "部分指标设置不够细化，满意度调查样本偏少。", "项目资金不足。")
    (unit / "戊站乙项目自评报告.md").write_text(short, encoding="utf-8")
    (unit / "戊站乙项目自评报告.pdf").write_bytes(b"%PDF-1.4 not readable")      # the same report again: once
    run = review(folder, deadline=DEADLINE, rubric=DEFAULT_RUBRIC)
    out = tmp_path / "考核评分表.xlsx"
    write_review(run, out)
    row = _cells(out, "戊站", rubric)
    assert row["body_missing"] == 1 and row["item:completeness"] == 6 + 7
    assert row["problems_funding_only"] == YES
    note = row["note"]
    assert "戊站乙项目自评报告.md" in note and "项目组织实施情况" in note
    assert "只提出“资金不足”" in note and "戊站甲项目自评报告.md 正文各部分齐全" in note
    evidence = load_workbook(out)["评分依据"]
    assert "戊站甲项目自评报告.md" in evidence.cell(2, 4).value and "戊站乙项目自评报告.md" in evidence.cell(2, 4).value
    # a department with its own report and a project's: the project's is not held to the department outline
    (unit / "戊站部门整体支出绩效自评报告.txt").write_text(
        (DATA / "seed001_report.txt").read_text(encoding="utf-8"), encoding="utf-8")
    (unit / "戊站乙项目自评报告.md").unlink()
    dept = review(folder, deadline=DEADLINE, rubric=DEFAULT_RUBRIC).unit("戊站")
    assert dept.values["body_missing"] == 0, dept.notes["body_missing"]


def test_the_command_names_each_file_it_skips_and_not_bulks_manifest(tmp_path, capsys):
    """bulk's manifest in the returned folder is no unit's file and no problem; a file skipped (hidden) is named."""
    from xlsx_engine.cli.main import main
    _hubei_master(tmp_path / "m.xlsx")
    folder = tmp_path / "回收"
    assert not bulk(tmp_path / "m.xlsx", folder, by="unit").errors
    (folder / "戊站" / ".草稿.txt").write_text("x", encoding="utf-8")
    assert main(["review", str(folder), "--deadline", "2024-03-29", "-o", str(tmp_path / "k.xlsx")]) == 0
    err = capsys.readouterr().err
    assert ".jxzp-bulk.json" not in err
    assert "无法读取 " in err and ".草稿.txt：是隐藏文件" in err
