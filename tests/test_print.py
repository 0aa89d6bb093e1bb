"""Printing: filled workbooks rendered to PDF by LibreOffice look like the official forms on A4 landscape.

The project form (seed 004's 项目支出绩效自评表) prints up to 12 indicators on one page with 总分, 评价等次
and the signature line; more continue on a second page under the repeated header. The department form
starts each of its three sections on a new page; the Hunan report repeats no table header on its
narrative and 校验提示 pages. Pages are read back with ``pdfinfo`` and ``pdftotext -layout``.
"""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
import yaml

from xlsx_engine.forms.department.model import dept_record_from_data, load_dept_profile
from xlsx_engine.forms.hunan.layout import hunan_layout
from xlsx_engine.forms.hunan.model import hnxm_record_from_data
from xlsx_engine.forms.project.layout import PAGE_ROWS, project_layout
from xlsx_engine.forms.project.profile import load_profile
from xlsx_engine.forms.project.record import FundLine, Goal, IndicatorRow, ProjectRecord, load_data
from xlsx_engine.forms.project.sentences import TITLE as SUMMARY_TITLE
from xlsx_engine.forms.project.sentences import live_lines
from xlsx_engine.ooxml.sheetmodel import text_height, text_lines
from xlsx_engine.forms.registry import open_template
from xlsx_engine.ooxml.builder import TEMPLATE_DIR
from xlsx_engine.ooxml.recalc import convert_files

DATA = Path(__file__).parent / "data"
A4_LANDSCAPE = (841.89, 595.30)

#: indicators as units write them: long names, 一级指标 in groups, reasons on rows below full marks
LEVELS = [("产出指标", "数量指标"), ("产出指标", "数量指标"), ("产出指标", "质量指标"), ("产出指标", "时效指标"),
          ("产出指标", "成本指标"), ("效益指标", "社会效益指标"), ("效益指标", "社会效益指标"),
          ("效益指标", "可持续影响指标"), ("满意度指标", "服务对象满意度指标")]


def record(profile_id: str, n: int) -> ProjectRecord:
    """A project with ``n`` indicators and the template's five goals (the most rows a form prints)."""
    p = load_profile(profile_id)
    rec = ProjectRecord(profile_id, year=2023.0, project="城乡医疗救助补助资金", department="某市医疗保障局",
                        unit="某区医疗保障局", rate_reason="部分资金年底拨付，次年初支付完毕")
    rec.funds = [FundLine(source, 100.0, 120.0, 108.0) for source in p.fund_sources[:1]]
    rec.goals = [Goal(f"目标{k}：将符合条件的困难群众纳入医疗救助范围，严格管控医疗费用", "按时完成")
                 for k in range(1, 6)]
    if p.has_target_block:
        rec.target_score = p.target_weight
    levels = sorted((LEVELS * 4)[:n], key=LEVELS.index)
    weight = round(p.indicator_weight / n, 2) if p.indicator_weight else 5.0
    for k, (level1, level2) in enumerate(levels, 1):
        rec.indicators.append(IndicatorRow(
            level1, level2, f"第{k}项：资助困难群众参加城乡居民基本医疗保险的人数（含特困人员、低保对象）",
            "≥", 95.0, "%", 90.0 + k % 6, None, weight, None,
            "部分对象身份认定推送不及时，下一步加强部门间数据共享" if k % 6 < 5 else None))
    return rec


LONG_GOAL = ("贯彻落实党中央、省委和市委关于医疗保障工作的方针政策和决策部署，资助困难群众参加城乡居民基本医疗保险，"
             "落实住院和门诊救助政策，健全防范和化解因病致贫返贫长效机制，确保救助对象应助尽助、应保尽保")
LONG_REASON = ("部分对象身份认定推送不及时，个别乡镇资料报送滞后，导致救助资金拨付延迟；下一步加强与民政、乡村振兴部门的"
               "数据共享，按月比对新增对象，压实乡镇经办责任，确保资金及时足额发放到位")


def long_text_record() -> ProjectRecord:
    """Four indicators; a goal, an actual and a reason far longer than their rows' one or two lines."""
    rec = record("national", 4)
    rec.goals = [Goal(LONG_GOAL, LONG_GOAL[:60])]
    rec.indicators[0].reason = LONG_REASON
    return rec


def pdf_pages(pdf: Path) -> list[str]:
    """The text of each page, as laid out."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1]


def form_pages(pdf: Path) -> list[str]:
    """The pages of the form itself: those before the live 综述's page (which prints on a page of its own)."""
    pages = pdf_pages(pdf)
    first = next((k for k, page in enumerate(pages) if SUMMARY_TITLE in page), len(pages))
    assert all(SUMMARY_TITLE not in page for page in pages[:first])
    return pages[:first]


def pdf_size(pdf: Path) -> tuple[int, tuple[float, float]]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    w, h = re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups()
    return pages, (float(w), float(h))


@pytest.fixture(scope="module")
def rendered(soffice, tmp_path_factory) -> dict[str, Path]:
    """Filled project forms (8, 12, 20 indicators; seed 004; a blank form), the department and Hunan seeds,
    converted to PDF in one LibreOffice run."""
    out = tmp_path_factory.mktemp("print")
    files = {}
    for pid, n in (("national", 8), ("national", 12), ("national", 20), ("hubei-wuhan", 12), ("national", 0)):
        files[f"{pid}-{n}"] = (f"xmzc-{pid}.xlsx", record(pid, n) if n else ProjectRecord(pid))
    # on 20 rows the 成本指标 group continues across the page break
    rows = files["national-20"][1].indicators
    rows[PAGE_ROWS].level1, rows[PAGE_ROWS].level2 = rows[PAGE_ROWS - 1].level1, rows[PAGE_ROWS - 1].level2
    files["long-text"] = ("xmzc-national.xlsx", long_text_record())
    files["seed004"] = ("xmzc-ningxia-jinfeng.xlsx",
                        load_data(DATA / "seeds" / "seed004.yaml", load_profile("ningxia-jinfeng")))
    dept = yaml.safe_load((DATA / "department" / "seed001.yaml").read_text(encoding="utf-8"))
    files["dept"] = ("bmzt-dept-hunan.xlsx", dept_record_from_data(dept, load_dept_profile("dept-hunan")))
    hunan = yaml.safe_load((DATA / "hunan" / "seed000.yaml").read_text(encoding="utf-8"))
    layout = hunan_layout("hunan-project")
    files["hunan"] = ("hnxm-hunan-project.xlsx", hnxm_record_from_data(hunan, layout.profile, "seed000",
                                                                       layout.row_counts))
    paths = []
    for name, (template, rec) in files.items():
        path = out / f"{name}.xlsx"
        open_template(TEMPLATE_DIR / template).fill_to(rec, path)
        paths.append(path)
    convert_files(paths, out, "pdf", soffice=soffice)
    return {name: out / f"{name}.pdf" for name in files}

# ----------------------------------------------------------------------------- the project form

@pytest.mark.parametrize("name", ["national-8", "national-12", "hubei-wuhan-12", "seed004"])
def test_up_to_12_indicators_print_on_one_a4_landscape_page(rendered, name):
    pages, size = pdf_size(rendered[name])
    assert len(form_pages(rendered[name])) == 1 and pages == 2       # the form, then the live 综述
    assert size == pytest.approx(A4_LANDSCAPE, abs=1)
    text = pdf_pages(rendered[name])[0]
    for words in ("总分", "评价等次", "填报人（签名）", "审核人（签名）", "单位（盖章）", "日期："):
        assert words in text, words
    # headers break before a parenthesis, never inside it
    assert "执行率（B/A）" in text
    assert text.count("（定性）") == 2


def test_seed004_prints_its_total_and_grade_with_the_signature_line(rendered):
    lines = pdf_pages(rendered["seed004"])[0].splitlines()
    total = next(line for line in lines if "总分（" in line)
    grade = next(k for k, line in enumerate(lines) if "评价等次" in line)
    signature = next(k for k, line in enumerate(lines) if "填报人" in line)
    assert "98.00" in total and "优" in lines[grade] and signature > grade
    # the screen-only parts are not printed: the 提示 column, the checks and the rules in words
    text = "\n".join(lines)
    assert "提示（自动）" not in text and "校验结论" not in text and "评分规则" not in text


def test_level1_and_level2_print_once_per_group(rendered):
    text = pdf_pages(rendered["national-12"])[0]
    # 12 indicators: 产出指标 × 7 (数量指标 × 4) … each label printed once
    assert text.count("产出指标") == 1 and text.count("数量指标") == 1 and text.count("社会效益指标") == 1
    for k in range(1, 13):
        assert f"第{k}项" in text


def test_more_rows_continue_on_the_next_page_under_the_header(rendered):
    first, second = form_pages(rendered["national-20"])
    assert f"第{PAGE_ROWS}项" in first and f"第{PAGE_ROWS + 1}项" not in first
    assert "第20项" in second and "三级指标" in second and "偏差原因分析及改进措施" in second
    for words in ("总分", "评价等次", "填报人（签名）"):
        assert words in second and words not in first
    # the first row of the second page shows its 一级/二级指标 although it continues the group above
    assert first.count("成本指标") == 1
    top = second[:second.index(f"第{PAGE_ROWS + 2}项")]
    assert "产出指标" in top and "成本指标" in top


@pytest.mark.parametrize("name", ["national-8", "national-20", "long-text", "seed004"])
def test_live_summary_prints_on_its_own_page_unclipped(rendered, name):
    """The live 综述 prints after the form on A4 pages of its own; every paragraph and line is there whole (rows
    grow to the lines their text needs), and only as many lines as the copy has indicators take room."""
    pdf = rendered[name]
    pages, size = pdf_size(pdf)
    summary = pdf_pages(pdf)[len(form_pages(pdf)):]
    assert size == pytest.approx(A4_LANDSCAPE, abs=1) and len(summary) == 1
    assert SUMMARY_TITLE in summary[0]
    template, rec = {"national-8": ("national", record("national", 8)), "national-20": ("national", record("national", 20)),
                     "long-text": ("national", long_text_record()),
                     "seed004": ("ningxia-jinfeng", load_data(DATA / "seeds" / "seed004.yaml",
                                                              load_profile("ningxia-jinfeng")))}[name]
    layout = project_layout(template)
    padded, result = layout.evaluate(rec)
    raw = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = re.sub(r"\s+", "", raw.split("\f")[len(form_pages(pdf))])
    for line in live_lines(padded, result, layout.profile):
        assert re.sub(r"\s+", "", line) in flat, line[:30]
    # a clipped cell still puts its text in the PDF: each row must have the height its lines need
    values = layout.formula_values(result, padded)
    sheet = openpyxl.load_workbook(pdf.with_suffix(".xlsx"))[layout.sheet]
    for ref in layout.fit_formulas:
        width, _ = layout.text_fit[ref]
        row = int(ref[1:])
        height = sheet.row_dimensions[row].height or layout.row_heights[row]
        if values[ref] and not sheet.row_dimensions[row].hidden:
            assert height >= text_height(text_lines(values[ref], width)), (ref, height, values[ref][:20])


def test_a_blank_form_keeps_every_row(rendered):
    """The issued form keeps its 30 rows for the unit to fill: two pages, the header repeated."""
    first, second = form_pages(rendered["national-0"])
    assert "三级指标" in first and "三级指标" in second and "总分" in second


def test_long_text_is_not_clipped_and_the_form_stays_on_one_page(rendered):
    """Rows of a filled copy grow to the lines their text needs (nothing cut off), and the form still prints
    on one page."""
    assert len(form_pages(rendered["long-text"])) == 1
    raw = subprocess.run(["pdftotext", "-raw", str(rendered["long-text"]), "-"], capture_output=True, text=True,
                         check=True).stdout                  # content order: a cell's lines one after another
    flat = re.sub(r"\s+", "", raw)
    for text in (LONG_GOAL, LONG_REASON):
        assert text in flat, text[-12:]
    # the text is in the PDF even when a cell clips it: the rows themselves must have grown to its lines
    layout = project_layout("national")
    with zipfile.ZipFile(rendered["long-text"].with_suffix(".xlsx")) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    height = {int(r): float(h) for r, h in re.findall(r'<row r="(\d+)"[^>]* ht="([\d.]+)"', sheet)}
    assert height[layout.goal_rows[0]] >= 3 * 13                  # 3 lines of 10 pt across 预期目标
    assert height[layout.indicator_rows[0]] >= 5 * 13              # 5 lines in 偏差原因分析及改进措施
    assert height[layout.goal_rows[1]] == layout.row_heights[layout.goal_rows[1]]   # an empty goal row keeps its height


def test_short_text_leaves_row_heights_and_print_scale_as_in_the_template():
    """A row holds one line of its text at the template's height: a copy without long text grows no row, and
    keeps the template's print scale."""
    layout = project_layout("national")
    template = (TEMPLATE_DIR / "xmzc-national.xlsx")
    with zipfile.ZipFile(template) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    rec = record("national", 8)
    rec.goals = [Goal("资助困难群众参保", "已完成")]
    for row in rec.indicators:
        row.level1, row.level2, row.name = "产出指标", "数量指标", "资助参保人数"
        row.reason = "已完成" if row.reason else None
    data, _ = open_template(template).fill_bytes(rec)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        filled = zf.read("xl/worksheets/sheet1.xml").decode()
    assert layout.fitted_heights(layout.input_values(layout.padded(rec))) == {}
    heights = dict(re.findall(r'<row r="(\d+)"[^>]* ht="([\d.]+)"', filled))
    assert heights == dict(re.findall(r'<row r="(\d+)"[^>]* ht="([\d.]+)"', sheet))
    scale = r'<pageSetup [^>]*?scale="(\d+)"'
    assert re.search(scale, filled).group(1) == re.search(scale, sheet).group(1)


def test_filled_copy_hides_unused_rows_and_writes_its_page_break(tmp_path):
    layout = project_layout("national")
    rows = layout.indicator_rows
    tpl = open_template(TEMPLATE_DIR / "xmzc-national.xlsx")
    for n, hidden, breaks in ((8, rows[8:], []), (20, rows[20:], [rows[PAGE_ROWS - 1]]),
                              (0, [], [rows[PAGE_ROWS - 1]])):
        data, _ = tpl.fill_bytes(record("national", n) if n else ProjectRecord("national"))
        sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
        got = sorted(int(r) for r in re.findall(r'<row r="(\d+)" hidden="1"', sheet))
        info = list(range(layout.report_info_span[0], layout.report_info_span[1] + 1))   # the empty 报告信息 page
        summary = layout.summary_lines[n:] if n else []      # the live 综述 lists at most n indicators
        assert got == sorted(hidden + (layout.goal_rows[5:] if n else []) + info + summary), n
        assert [int(b) for b in re.findall(r'<brk id="(\d+)"', sheet)] == breaks, n
        assert "jxzp:rowBreaks" not in sheet


def test_templates_never_show_a_trailing_decimal_point():
    """``0.##`` shows 10 as "10." in Excel; numbers use General or fixed decimals."""
    for path in TEMPLATE_DIR.glob("*.xlsx"):
        styles = zipfile.ZipFile(path).read("xl/styles.xml").decode()
        assert not re.search(r'formatCode="[^"]*\.#', styles), path.name


def test_rules_say_each_source_once():
    layout = project_layout("national")
    notes = [c.value for c in layout.cells.values() if isinstance(c.value, str) and c.value.startswith("评分规则")]
    assert len(notes) == 1 and notes[0].count("财预〔2020〕10号") == 1


# ----------------------------------------------------------------------------- department and Hunan

def test_department_sections_start_on_new_pages_with_their_totals(rendered):
    pages = pdf_pages(rendered["dept"])
    first_line = [next(line for line in page.splitlines() if line.strip()).strip() for page in pages]
    assert "一、基础数据表" in pages[0]
    assert [k for k, line in enumerate(first_line) if line.startswith(("二、", "三、"))] == [2, 3]
    assert first_line[1].startswith("公用经费明细") and "合计" in pages[1]
    last = pages[3]
    assert last.count("三级指标") == 1 and "总分" in last and "评价等次" in last and "社会效益" in last


def test_hunan_table_prints_whole_without_repeated_headers(rendered):
    pages = pdf_pages(rendered["hunan"])
    with_header = [k for k, page in enumerate(pages)
                   if any("一级指标" in line and "指标内容" in line for line in page.splitlines())]
    assert len(with_header) == 1
    table = pages[with_header[0]]
    assert "绩效自评综合得分" in table and "评价等次" in table
    assert "评价报告综述" not in table and "校验结论" not in table
    assert any("评价报告综述" in page for page in pages) and any("校验结论" in page for page in pages)


@pytest.mark.parametrize("name", ["national-8", "national-12", "national-20", "hubei-wuhan-12", "long-text", "seed004",
                                  "dept", "hunan"])
def test_every_row_has_room_for_the_lines_libreoffice_prints(rendered, name):
    """Against LibreOffice's own print, not the program's count: every text of a filled form (labels, inputs,
    results, the live 综述) stands in a row as tall as the lines LibreOffice broke it into need
    (tests/printed.py — a clipped line's text stays in the PDF, so its presence alone proves nothing)."""
    from printed import rows_too_short
    checked, short = rows_too_short(rendered[name].with_suffix(".xlsx"), rendered[name])
    assert checked > 30 and not short, short[:5]
