"""The bureau's printed tables — the 汇总表 of ``jxzp collect`` and the 考核评分表 of ``jxzp review`` — make a
row as tall as its wrapped text by one rule (``summary.row_height`` of ``sheetmodel.text_lines``, 宋体 10 pt): the same
text in a column of the same width gives the same height in both, and LibreOffice prints every text whole."""

from __future__ import annotations

import dataclasses
import io
import re
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from printed import rows_too_short
from test_collect import _pdf
from test_collect_outputs import _big_collection
from test_review import DEADLINE, collected  # noqa: F401  (collected: a fixture)
from xlsx_engine.bureau.collect import Collected, Collection
from xlsx_engine.bureau.review import review, write_review
from xlsx_engine.bureau.summary import ROW_HEIGHT, row_height, summary_bytes
from xlsx_engine.ooxml.sheetmodel import text_lines

#: the texts of a column 60 wide in both workbooks (未采用文件 / 无法读取: 文件): one line, two, more, and a path
#: that wraps where a spreadsheet breaks it
TEXTS = [
    "甲局/P001_2023年甲局项目1.xlsx",
    "某区医疗保障局/2023年城乡医疗救助补助资金项目支出绩效自评表（第二次修改）最终版.xlsx",
    "D:/绩效自评/2024/returned/unit-0001/project-0001-final-version-2-with-a-long-english-name-"
    "for-the-archive-of-the-bureau-of-finance-and-its-performance-office.xlsx",
    "丙中心/P005_2023年丙中心项目1.xlsx\n丙中心/P006_2023年丙中心项目2.xlsx\n丙中心/P007_2023年丙中心项目3.xlsx\n"
    "丙中心/整体支出.xlsx",
]
WHY = "文件已损坏"


def _heights(ws, column: int = 1) -> dict[str, float]:
    """{text: row height} of the rows with a text in ``column`` (a row without a height has the default)."""
    return {row[column - 1].value: ws.row_dimensions[row[0].row].height or ROW_HEIGHT
            for row in ws.iter_rows(min_row=2) if row[column - 1].value in TEXTS}


def test_the_same_text_makes_a_row_as_tall_in_the_summary_and_in_the_review(tmp_path):
    """Before, the 汇总表 gave 13.5 pt a line (+3) and the 考核评分表 15 (+4), its table sheets counting a column
    0.85 as wide and printing their text in Calibri 11: the same text made rows of different heights, and one of
    them was cut or half empty. Both now call the one rule."""
    coll = Collection(unused=[Collected(path=t, error=WHY) for t in TEXTS])
    summary = load_workbook(io.BytesIO(summary_bytes(coll)))["未采用文件"]
    folder = tmp_path / "回收"
    folder.mkdir()
    (tmp_path / "s.csv").write_text("单位名称\n甲局\n", encoding="utf-8")
    run = review(folder, deadline=DEADLINE, submissions=tmp_path / "s.csv")
    write_review(dataclasses.replace(run, unreadable=[(t, WHY) for t in TEXTS], unassigned=[]), tmp_path / "k.xlsx")
    sheet = load_workbook(tmp_path / "k.xlsx")["无法读取"]
    assert summary.column_dimensions["A"].width == sheet.column_dimensions["A"].width == 60
    ours, theirs = _heights(summary), _heights(sheet)
    assert set(ours) == set(theirs) == set(TEXTS)
    assert ours == theirs
    assert ours == {t: row_height(text_lines(t, 60)) for t in TEXTS}
    assert [text_lines(t, 60) for t in TEXTS] == [1, 2, 3, 4]
    # the review's table text is 宋体 10 like the summary's, the font the heights are for
    cell = next(c for c in sheet["A"] if c.value == TEXTS[1])
    assert (cell.font.name, cell.font.sz) == ("宋体", 10)


def test_a_row_has_room_for_the_lines_of_the_fallback_chinese_font():
    """Where 宋体 is missing, LibreOffice sets the Chinese in Noto Sans/Serif CJK, whose line is 1.448 em: at
    13.5 pt a line it cut the last of 5 lines; one line keeps the default height. A filled form's rows grow by
    the same line (sheetmodel.text_height: 13 pt a line cut a five-line 偏差原因)."""
    from xlsx_engine.ooxml.sheetmodel import text_height
    LINE_HEIGHT = text_height(2) - text_height(1)
    assert LINE_HEIGHT >= 14.48
    assert all(row_height(n) == text_height(n) for n in range(2, 40))
    assert row_height(1) == ROW_HEIGHT == 15
    assert all(row_height(n) >= 14.48 * n + 2 for n in range(2, 40))
    assert row_height(12) - 14.48 * 12 < LINE_HEIGHT        # not a line more than the text needs


#: (column of an indicator row of the national form, text): texts a filled form's old count of lines (half-width
#: units, 1.05 of them a unit of width, less 2) and the bureau's count disagreed on: Latin capitals and a web address
#: (the form counted one line in 三级指标, the bureau two: the form's row stayed one line tall), Chinese in a
#: narrow column (the form counted 8 lines in 二级指标, the bureau 6: the form's row was two lines too tall)
DIVERGED = [("C", "WWW.MOHRSS.GOV.CN/MMMM-2023-WWWW"),
            ("B", "上半年住院人次低于预期；下一步加强与医疗机构信息共享，及时发现救助对象。"),
            ("L", TEXTS[2]),
            ("L", "部分对象身份认定推送不及时，个别乡镇资料报送滞后，导致救助资金拨付延迟；下一步加强数据共享")]


def test_a_filled_form_grows_a_row_as_the_bureau_tables_do():
    """Lines of wrapped text are counted once (sheetmodel.text_lines): the same text in a cell as wide makes a
    filled form's row (jxzp fill, bulk) exactly as tall as a row of the bureau's tables (汇总表, 逐年对比, 考核评分表:
    summary.PrintSheet). Before, the forms had a count of their own, which disagreed with the bureau's (checked
    against LibreOffice's print) on these texts: a row too short for its text, or lines too tall."""
    from openpyxl import Workbook

    from xlsx_engine.bureau.summary import PrintSheet
    from xlsx_engine.forms.project.layout import project_layout
    from xlsx_engine.forms.project.record import IndicatorRow, ProjectRecord
    from xlsx_engine.forms.registry import open_template
    from xlsx_engine.ooxml.builder import TEMPLATE_DIR

    layout = project_layout("national")
    rec = ProjectRecord("national", year=2023.0, project="城乡医疗救助补助资金")
    for k, (col, text) in enumerate(DIVERGED):
        cells = {"A": "产出指标", "B": f"指标{k}", "C": f"指标{k}", "L": None, **{col: text}}
        rec.indicators.append(IndicatorRow(cells["A"], cells["B"], cells["C"], "≥", 95.0, "%", 96.0, None, 5.0,
                                           None, cells["L"]))
    data, _ = open_template(TEMPLATE_DIR / "xmzc-national.xlsx").fill_bytes(rec)
    form = load_workbook(io.BytesIO(data))[layout.sheet]
    wb = Workbook(write_only=True)
    for k, (col, text) in enumerate(DIVERGED):
        width = layout.text_fit[f"{col}{layout.indicator_rows[k]}"][0]
        PrintSheet(wb, f"表{k}", "汇总表", ["文字"], [width]).row([text])      # a table of one column as wide
    out = io.BytesIO()
    wb.save(out)
    tables = load_workbook(out)
    for k, (col, text) in enumerate(DIVERGED):
        row = layout.indicator_rows[k]
        width, holds = layout.text_fit[f"{col}{row}"]
        assert form[f"{col}{row}"].value == tables[f"表{k}"]["A1"].value == text
        lines = text_lines(text, width)
        assert lines > holds, (col, text)                    # the form's row must grow: its height is the count's
        assert form.row_dimensions[row].height == tables[f"表{k}"].row_dimensions[1].height == row_height(lines), \
            (col, text, form.row_dimensions[row].height, tables[f"表{k}"].row_dimensions[1].height)


@pytest.mark.parametrize("text, width, lines", [
    ("开展大气污染防治活动次数", 24, 1),                      # 12 Chinese characters fill a column 24 wide
    ("2026-12-02 10:36", 18, 1), ("0731-8639165", 14, 1),      # a 交回时间, a 联系电话
    ("第1行指标“开展义务教育薄弱环节改善活动次数”：完成值超过指标值30%及以上，缺偏差原因分析及改进措施（请在偏差原因栏说明）",
     50, 3),
    ("乙局/P003_2023年乙局项目1.xlsx\n乙局/P004_2023年乙局项目2.xlsx\n乙局/乙局整体支出绩效自评报告.md", 11, 12),
    ("/home/finance/jxzp/returned/unit-0001/project-0001-final-version-2.xlsx", 10, 11),
    ("", 10, 1), ("a\n\nb", 10, 3),
])
def test_lines_are_counted_as_libreoffice_prints_them(text, width, lines):
    """As many lines as LibreOffice printed for these texts (Chinese breaks anywhere, a file name or number only
    after "/", "-" or a space; its Latin letters are wider than 宋体's)."""
    assert text_lines(text, width) == lines


def _printed_whole(path: Path, soffice: str) -> tuple[int, list]:
    """(pages, cells whose text LibreOffice did not print whole): a text not in the PDF, or one in a row shorter
    than the lines LibreOffice broke it into (tests/printed.py: LibreOffice keeps a clipped line's text in the PDF,
    so presence alone does not show a row too short). Merged cells too: the 考核评分表's title and note are merged
    across the columns of its first page only (before, across the whole sheet printed three pages wide: the
    title was centred on the second page and the note cut at each page's edge)."""
    _size, pages, _text = _pdf(path, soffice)
    pdf = path.with_suffix(".pdf")
    raw = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    raw = re.sub(r"\s+", "", raw)
    cut = []
    for ws in load_workbook(path):
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and not cell.value.startswith("=") \
                        and re.sub(r"\s+", "", cell.value) not in raw:
                    cut.append((ws.title, cell.coordinate, cell.value[-30:]))
    checked, short = rows_too_short(path, pdf)
    assert checked > 50, (path.name, checked)         # the rows sized by the program are the ones checked
    return pages, cut + short


@pytest.mark.libreoffice
def test_libreoffice_prints_every_text_of_both_workbooks_whole(tmp_path, soffice, collected):  # noqa: F811
    """With the fonts the tests install (fonts-noto-cjk): 150 projects with long findings and lists to chase
    (汇总表), and four units with long 说明, excerpts and file lists in narrow columns (考核评分表)."""
    summary = tmp_path / "汇总表.xlsx"
    summary.write_bytes(summary_bytes(_big_collection()))
    _base, _folder, run = collected
    book = tmp_path / "考核评分表.xlsx"
    write_review(run, book)
    for path in (summary, book):
        pages, cut = _printed_whole(path, soffice)
        assert pages > 1 and not cut, (path.name, cut[:5])
    # the deadline prints once, with its date, on the first page (its label once printed alone on every page)
    text = subprocess.run(["pdftotext", str(book.with_suffix(".pdf")), "-"], capture_output=True, text=True,
                          check=True).stdout.split("\f")
    assert [k for k, page in enumerate(text) if "报送截止日期" in page] == [0]
    assert f"报送截止日期：{run.deadline:%Y-%m-%d}" in text[0].replace(" ", "")


@pytest.mark.libreoffice
def test_a_row_too_short_is_caught_though_its_text_is_in_the_pdf(tmp_path, soffice, monkeypatch):
    """The print checks count the lines LibreOffice broke each text into (tests/printed.py): rows of 15 pt for
    texts of two lines are caught, though LibreOffice keeps the clipped lines' text in the PDF (the check by
    presence alone, used before, passed this 汇总表)."""
    from xlsx_engine.bureau import summary
    monkeypatch.setattr(summary, "row_height", lambda lines: 15.0)
    path = tmp_path / "汇总表.xlsx"
    path.write_bytes(summary_bytes(_big_collection()))
    pages, cut = _printed_whole(path, soffice)
    presence = [c for c in cut if len(c) == 3]               # (sheet, cell, text): a text not in the PDF at all
    short = [c for c in cut if len(c) == 5]                  # (sheet, cell, lines, height, text): a row too short
    assert not presence and len(short) > 100, (presence[:3], len(short))
