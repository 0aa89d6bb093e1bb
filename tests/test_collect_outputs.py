"""The 汇总表, the 催报清单 and the 回收汇总报告 of one collection tell the same story: the same projects in
the totals (one rule: ``Collected.counted``), every project still to be followed up, problems with who has them."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from test_collect import loop_master
from xlsx_engine.bureau.bulk import bulk
from xlsx_engine.forms.project.layout import project_layout
from xlsx_engine.forms.registry import open_template, read_project
from xlsx_engine.ooxml.builder import TEMPLATE_DIR, template_filename
from xlsx_engine.bureau.collect import BLANK, FAILED, MISSING, collect
from xlsx_engine.bureau.summary import reminders_csv, summary_bytes
from xlsx_engine.narrative.collection import collection_context, render_collection


def type_in(path: Path, spent=None, actuals=(), target=None) -> None:
    """A unit's work on a sent form, saved with the results a spreadsheet would show: 全年执行数, the first
    实际完成值 (in the order given) and, to tamper, the second indicator's 指标值."""
    back = read_project(path)
    record = back.record
    if spent is not None:
        record.funds[0].spent = spent
    for row, value in zip(record.indicators, actuals):
        row.actual = value
    if target is not None:
        record.indicators[1].target = target
    pid = back.layout.profile.id
    identity = {k: back.workbook.meta[k] for k in ("项目编码", "单位名称", "项目名称")}
    open_template(Path(TEMPLATE_DIR) / template_filename(project_layout(pid))).fill_to(record, path, identity=identity)


@pytest.fixture()
def mixed(tmp_path):
    """P1 and P6 filled; P2 half filled (全年执行数 and one of three 实际完成值: 总分 待填报); P3 half filled and
    a bureau-set target lowered (有错误, 总分 待填报); P4 returned blank; P5 not returned."""
    master = loop_master(tmp_path / "总表.xlsx")
    sent = tmp_path / "sent"
    bulk(master, sent)
    form = {code: next(sent.glob(f"*_{code}_*.xlsx")) for code in ("P1", "P2", "P3", "P4", "P5", "P6")}
    type_in(form["P1"], 96, (100, 95, 92))
    type_in(form["P6"], 80, (100, 95, 92))
    type_in(form["P2"], 90, (100,))
    type_in(form["P3"], 70, (100,), target=50)
    form["P5"].unlink()
    return collect(sent, master=master)


def _sheet_rows(data: bytes, sheet: str) -> list[list]:
    ws = load_workbook(io.BytesIO(data))[sheet]
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_summary_and_report_count_the_same_projects(mixed):
    """Before, the 汇总表's 合计 counted the forms whose 总分 is 待填报 and the report did not, and the report's
    unit table left out (with its 错误) a unit whose only returned form was such a one."""
    coll = mixed
    rows = {r.code: r for r in coll.rows}
    assert [r.status for r in coll.rows] == ["已通过", "已通过", FAILED, BLANK, MISSING, "已通过"]
    assert rows["P2"].total is None and rows["P3"].total is None         # filled in part: 总分 待填报
    data = summary_bytes(coll)
    total_row = next(r for r in _sheet_rows(data, "汇总") if str(r[1]).startswith("合计"))
    ctx = collection_context(coll)
    assert (total_row[6], total_row[7]) == (ctx["totals"]["budget"], ctx["totals"]["spent"]) == (200, 176)
    assert total_row[8] == ctx["totals"]["rate"] and total_row[9] == ctx["totals"]["average"] == 98.8
    assert total_row[1] == "合计（计入汇总 2 个）" and ctx["n"]["scored"] == 2
    assert sum(g["count"] for g in ctx["grades"]) == 2
    assert "纳入汇总的已填报项目2个，全年预算数合计200" in render_collection(coll).replace(" ", "")
    # per unit: the 按单位 sheet's 计入汇总 and figures are the report's; 乙单位's error (P3) is in both
    head, *body = _sheet_rows(data, "按单位")
    sheet_units = {r[0]: dict(zip(head, r)) for r in body}
    report_units = {u["name"]: u for u in ctx["units"]}
    assert set(report_units) == {"甲单位", "乙单位", "丙单位"}
    for name, u in report_units.items():
        s = sheet_units[name]
        assert (s["计入汇总"], s["全年预算数"], s["全年执行数"], s["平均总分"]) == \
               (u["count"], u["budget"], u["spent"], u["average"] if u["count"] else "—"), name
    assert report_units["乙单位"]["errors"] == 1 and report_units["乙单位"]["count"] == 0
    assert sheet_units["乙单位"]["执行率"] == "—" and sheet_units["全部单位"]["计入汇总"] == 2
    assert [r.code for r in coll.counted] == ["P1", "P6"]


def test_a_form_filled_in_part_is_chased(mixed):
    """A form with 全年执行数 and one 实际完成值 typed (总分 待填报) was in no list to chase: it is now under
    需更正项目 with the reason, in the 催报清单 sheet, its CSV and the report's 需催报或更正的单位."""
    coll = mixed
    with io.StringIO(reminders_csv(coll).decode("utf-8-sig"), newline="") as fh:
        chase = {r["单位"]: r for r in csv.DictReader(fh)}
    assert chase["甲单位"]["需更正项目"] == "P2 甲单位项目P2（未填完，总分待填报）" and chase["甲单位"]["项目数"] == "1"
    assert chase["乙单位"]["需更正项目"] == "P3 乙单位项目P3（有错误 1 项；未填完，总分待填报）"
    assert chase["乙单位"]["待填报项目"] == "P4 乙单位项目P4" and chase["丙单位"]["未交回项目"] == "P5 丙单位项目P5"
    head, *body = _sheet_rows(summary_bytes(coll), "催报清单")
    assert {r[0]: dict(zip(head, r))["需更正项目"] for r in body}["甲单位"] == chase["甲单位"]["需更正项目"]
    text = render_collection(coll).replace(" ", "")
    assert "需更正P2甲单位项目P2（未填完，总分待填报）" in text


def test_the_report_prints_a_dash_for_a_unit_with_nothing_counted(mixed):
    """Before, 乙单位 (P3 with an error, P4 blank: nothing counted) showed “0.00 | 0.00 | 无法计算” in the report's
    unit table, where the 按单位 sheet shows 执行率 —."""
    text = render_collection(mixed)
    assert "| 乙单位 | 0 | — | — | — | — | 1 | 0 |" in text and "无法计算" not in text
    assert re.search(r"\| 甲单位 \| 1 \| 100\.00 \| 96\.00 \| 96\.00% \| [\d.]+ \| 0 \| 0 \|", text), text   # a counted unit keeps its figures


def test_the_report_says_what_was_sent_was_compared_only_with_the_master():
    from xlsx_engine.bureau.collect import Collected, Collection
    rows = [Collected(path="f.xlsx", unit="甲局", code="P1", project="项目1", status="已通过", budget=100.0, spent=90.0,
                      total=90.0, grade="优")]
    assert "经勾稽校验、防篡改检查，共发现" in render_collection(Collection(rows=rows))
    assert "下发内容核对" not in render_collection(Collection(rows=rows))
    assert "经勾稽校验、防篡改检查和下发内容核对，共发现" in render_collection(Collection(rows=rows, master="总表.xlsx"))


def test_the_report_names_who_has_each_kind_of_problem(mixed):
    """Before, §四 showed one instance's message as the heading of its kind (“下发时为“90”，交回时为“50”（指标值第2项）”,
    or one indicator's name for eleven findings) and named no unit or project."""
    text = render_collection(mixed).replace(" ", "")
    part = text[text.index("##四"):text.index("##五")]
    assert "（一）错误：财政局下发的内容" in part and "被改动。涉及：乙单位P3乙单位项目P3（共1处，涉及1个项目）" in part
    assert "下发时为" not in part


def test_a_kind_of_problem_has_a_heading_of_its_own_and_lists_units_and_projects():
    from xlsx_engine.bureau.collect import Collected, Collection
    from xlsx_engine.kernel.findings import Finding
    from xlsx_engine.narrative.collection import problem_kinds

    rows = [Collected(path=f"f{k}.xlsx", unit=("甲局", "乙局")[k % 2], code=f"P{k:02d}", project=f"项目{k}", status="已填报",
                      findings=[Finding("警告", "over", "自评表!G18", f"第{k + 1}行指标“指标{k}”：完成值超过指标值50%以上，未说明原因")]
                      * (2 if k == 0 else 1)) for k in range(10)]
    (kind,) = problem_kinds(Collection(rows=rows))
    assert kind["kind"] == "完成值大幅超过指标值，缺偏差原因" and (kind["count"], kind["files"]) == (11, 10)
    assert [u["name"] for u in kind["units"]] == ["甲局", "乙局"]
    assert kind["units"][0]["projects"][:2] == ["P00 项目0", "P02 项目2"] and sum(len(u["projects"]) for u in kind["units"]) == 8
    assert kind["example"] == "完成值大幅超过指标值，缺偏差原因。涉及：" + kind["who"] and kind["who"].endswith("等")


def test_every_kind_collect_adds_has_a_heading():
    from xlsx_engine.integrity.severity import SEVERITY
    from xlsx_engine.bureau.kinds import KINDS as _KINDS

    root = Path(__file__).resolve().parent.parent / "xlsx_engine" / "bureau"
    emitted = set()
    for name in ("collect.py", "display.py"):
        text = (root / name).read_text(encoding="utf-8")
        emitted |= set(re.findall(r'(?:Finding|add)\(\s*(?:ERROR|WARNING|INFO),\s*"([a-z_0-9]+)"', text))
    assert {"changed_after_sent", "display_hidden"} <= emitted
    assert not emitted - set(_KINDS) - set(SEVERITY), emitted - set(_KINDS) - set(SEVERITY)


@pytest.mark.libreoffice
def test_report_keeps_telephone_numbers_and_table_headings_whole(tmp_path, soffice):
    """Before, a number at the end of a line broke at its hyphen (“0731- / 8336930”) and the unit table's
    headings 项目数 and 平均总分 broke inside the word."""
    from test_collect import _pdf
    from xlsx_engine.bureau.collect import Collected, Collection
    from xlsx_engine.narrative.collection import write_collection_report

    rows, contacts = [], {}
    for k in range(16):                      # unit names of every length: some number meets the end of a line
        unit = "东城区" + "卫生健康委员会综合管理服务中心"[:k] + "局"
        contacts[unit] = {"联系人": "张敏", "联系电话": f"0731-83369{k:02d}"}
        rows.append(Collected(unit=unit, code=f"P{k:02d}", project=f"项目{k}", status=MISSING))
        rows.append(Collected(path=f"f{k}.xlsx", unit=unit, code=f"Q{k:02d}", project=f"项目{k}", status="已通过",
                              budget=100.0, spent=90.0, total=90.0, grade="优"))
    report = tmp_path / "汇总报告.docx"
    write_collection_report(Collection(rows=rows, contacts=contacts), report)
    _size, _pages, text = _pdf(report, soffice)
    lines = [line.replace(" ", "") for line in text.splitlines()]
    for k in range(16):
        assert any(f"0731-83369{k:02d}" in line for line in lines), k
    assert not [line for line in lines if line.endswith("0731-") or re.search(r"0731-\d{0,6}$", line)]
    head = next(line for line in lines if line.startswith("单位"))
    assert "项目数" in head and "平均总分" in head and "全年预算数" in head and "错误" in head and "警告" in head
    # a unit of ten characters on one line; amounts, rates and averages with two decimals, as a table prints them
    row = next(line for line in lines if line.startswith("东城区卫生健康委员局1"))
    assert "100.00" in row and "90.00" in row and "90.00%" in row, row
    assert any("金额单位：万元" in line for line in lines)
    # the 催报清单 CSV keeps the number as typed (mail merge)
    assert "0731-8336900" in reminders_csv(Collection(rows=rows, contacts=contacts)).decode("utf-8-sig")


def _chased_units():
    """Units of every name length, each with a project not returned and one returned blank, and a contact whose
    number (a landline with its hyphen, every fifth a mobile) does not break."""
    from xlsx_engine.bureau.collect import Collected, Collection

    rows, contacts = [], {}
    for k, unit in enumerate(a + d for a in ("东城区", "高新区") for d in ("教育局", "卫生健康委员会", "民政局", "交通运输局",
                                                                         "农业农村局", "文化和旅游局", "生态环境局")):
        contacts[unit] = {"联系人": "张伟", "联系电话": f"0731-8{k:06d}" if k % 5 else f"138{k:08d}"}
        rows.append(Collected(unit=unit, code=f"P{k:03d}", project=f"{unit}项目{k}", status=MISSING))
        rows.append(Collected(path=f"f{k}.xlsx", unit=unit, code=f"Q{k:03d}", project=f"{unit}专项{k}", status=BLANK))
    return Collection(rows=rows, contacts=contacts, master="总表.xlsx")


def test_the_units_to_chase_are_set_flush_left(tmp_path):
    """A unit's line ends before its telephone number, which does not break: justified, that line was spread across
    the page. The list of units to chase is set flush left; the other paragraphs stay justified."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from xlsx_engine.narrative.collection import write_collection_report

    write_collection_report(_chased_units(), tmp_path / "r.docx")
    paras = [p for p in docx.Document(str(tmp_path / "r.docx")).paragraphs if p.style.name == "报告正文"]
    chase = [p for p in paras if "联系人张伟" in p.text]
    assert len(chase) == 14 and all(p.alignment == WD_ALIGN_PARAGRAPH.LEFT for p in chase)
    assert all(p.alignment is None for p in paras if p not in chase)      # the style's justification
    assert any(p.text.startswith("本次应回收项目自评表") for p in paras if p not in chase)


def _bureau_template(tmp_path: Path, edit):
    """A bureau's copy of the collection template (a folder whose collection/summary.j2 overrides the installed one),
    its text changed by ``edit``."""
    from xlsx_engine.narrative.engine import TEMPLATE_DIR, Narrator

    folder = tmp_path / "我的模板"
    (folder / "collection").mkdir(parents=True)
    text = (TEMPLATE_DIR / "collection" / "summary.j2").read_text(encoding="utf-8")
    (folder / "collection" / "summary.j2").write_text(edit(text), encoding="utf-8")
    return Narrator(folder)


def _reworded(text: str) -> str:
    """§三 in a bureau's own words: a unit's line names the unit and its contact, not its project lists."""
    row = next(line for line in text.splitlines() if line.startswith("{% if chase %}"))
    return text.replace(row, '{% if chase %}{% for c in chase %}（{{ loop.index | cnnum }}）请{{ c["单位"] }}（联系人'
                             '{{ c["联系人"] }}，电话{{ c["联系电话"] }}）尽快补交或更正汇总表“催报清单”所列项目。')


def _alignments(path: Path):
    import docx

    paras = [p for p in docx.Document(str(path)).paragraphs if p.style.name == "报告正文"]
    chase = [p for p in paras if "联系人张伟" in p.text]
    return chase, [p for p in paras if p not in chase]


def test_a_reworded_list_of_units_to_chase_stays_flush_left(tmp_path):
    """The section is found by its marker (``::: 左对齐``), not by its text: reworded so that no line prints a unit's
    project lists, which the text match looked for, it is still set flush left, and nothing else is."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    from xlsx_engine.narrative.collection import (
        TEMPLATE,
        chase_section,
        collection_context,
        write_collection_report,
    )
    from xlsx_engine.narrative.engine import parse_blocks

    narrator = _bureau_template(tmp_path, _reworded)
    write_collection_report(_chased_units(), tmp_path / "r.docx", narrator)
    chase, others = _alignments(tmp_path / "r.docx")
    assert len(chase) == 14 and all(p.alignment == WD_ALIGN_PARAGRAPH.LEFT for p in chase)
    assert chase[0].text.startswith("（一）请") and others and all(p.alignment is None for p in others)
    # the text match, which a template without the marker falls back to, finds nothing in these words
    ctx = collection_context(_chased_units(), printed=True)
    unmarked = parse_blocks(narrator.render_template(TEMPLATE, ctx).replace("::: 左对齐\n", ""))
    assert chase_section(unmarked, ctx["chase"]) == set()


def test_a_template_without_the_marker_still_finds_the_units_to_chase_by_their_text(tmp_path):
    """An older edited copy of the template has no marker: the section printing a unit's row (its name and a project
    list) is set flush left, as before the marker."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    from xlsx_engine.narrative.collection import write_collection_report

    narrator = _bureau_template(tmp_path, lambda t: t.replace("::: 左对齐\n", "").replace("\n:::\n", "\n"))
    text = Path(narrator.path_of("collection/summary.j2")).read_text(encoding="utf-8")
    assert not [line for line in text.splitlines() if line.startswith(":::")]
    write_collection_report(_chased_units(), tmp_path / "r.docx", narrator)
    chase, others = _alignments(tmp_path / "r.docx")
    assert len(chase) == 14 and all(p.alignment == WD_ALIGN_PARAGRAPH.LEFT for p in chase)
    assert others and all(p.alignment is None for p in others)


@pytest.mark.libreoffice
def test_no_line_of_the_units_to_chase_is_spread_across_the_page(tmp_path, soffice):
    from test_collect import _pdf
    from xlsx_engine.narrative.collection import write_collection_report

    report = tmp_path / "汇总报告.docx"
    write_collection_report(_chased_units(), report)
    _size, _pages, text = _pdf(report, soffice)
    spread = [line for line in text.splitlines() if re.search(r"[\u4e00-\u9fff（）] [\u4e00-\u9fff（）] [\u4e00-\u9fff（）]", line)]
    assert not spread, spread[:3]
    assert sum("电话" in line for line in text.splitlines()) >= 14


def _big_collection():
    """120 projects of three units: rates over 100%, 120 优, long finding texts, long lists to chase."""
    from xlsx_engine.bureau.collect import Collected, Collection
    from xlsx_engine.kernel.findings import Finding

    rows, contacts = [], {}
    for k in range(150):
        unit = ("东城区卫生健康委员会", "西城区教育局", "高新区文化和旅游局")[k % 3]
        contacts[unit] = {"联系人": "张敏", "联系电话": f"0731-83369{k % 3:02d}"}
        status = MISSING if k >= 140 else BLANK if k >= 120 else "已填报"
        filled = status == "已填报"
        finding = Finding("警告", "over", "自评表!L18", f"第{k % 9 + 1}行指标“开展义务教育薄弱环节改善活动次数”：完成值超过指标值"
                          "30%及以上，缺偏差原因分析及改进措施（请在偏差原因栏说明）",
                          "说明“实际完成情况超计划较大”的原因；目标设定过低的，今后应合理设定", f"f{k}.xlsx")
        rows.append(Collected(path=f"f{k}.xlsx" if status != MISSING else "", unit=unit, code=f"P{k:04d}",
                              project=f"2023年{unit}义务教育薄弱环节改善项目{k}", status=status, profile="national",
                              budget=100.0 if filled else None, spent=104.38 if filled else None,
                              rate=1.0438 if filled else None, total=95.5 if filled else None,
                              grade="优" if filled else "待填报", findings=[finding] if filled else [],
                              submitted=1_700_000_000))
    return Collection(rows=rows, contacts=contacts)


def test_summary_text_wraps_in_rows_tall_enough_and_numbers_fit():
    """Before, text was cut at its column or ran past the table (问题清单 说明/处理建议, 催报清单 lists, 评分规则)
    and 按单位 showed ### for 104.38% and for 120 优. Every text wraps, every row is tall enough for its text (the
    lines ``sheetmodel.text_lines`` counts, checked against LibreOffice's print in test_bureau_print.py), and every
    number column is wider than its widest figure (two units spare, a "%" taking two)."""
    from xlsx_engine.bureau.summary import REMINDER_COLUMNS, row_height
    from xlsx_engine.ooxml.sheetmodel import text_lines

    wb = load_workbook(io.BytesIO(summary_bytes(_big_collection())))
    seen = set()
    for ws in wb:
        widths = {col: (dim.width or 8.43) for col, dim in ws.column_dimensions.items()}
        for row in ws.iter_rows(min_row=2):
            tall = 1
            for cell in row:
                if cell.coordinate in ws.merged_cells or cell.value is None:
                    continue
                width = widths.get(cell.column_letter, 8.43)
                if isinstance(cell.value, str):
                    assert cell.alignment.wrap_text, (ws.title, cell.coordinate)
                    tall = max(tall, text_lines(cell.value, width))
                    seen.add(ws.title)
                else:
                    shown = format(cell.value, ".2%") if "%" in cell.number_format else \
                        format(cell.value, ",.2f") if "0.00" in cell.number_format else str(cell.value)
                    assert len(shown) + shown.count("%") + 2 <= width, (ws.title, cell.coordinate, shown, width)
            height = ws.row_dimensions[row[0].row].height or 15
            assert height >= row_height(tall), (ws.title, row[0].row, height, tall)
    assert {"汇总", "按单位", "催报清单", "问题清单", "文件"} <= seen
    assert [c.value for c in wb["催报清单"][1]] == REMINDER_COLUMNS


@pytest.mark.libreoffice
def test_summary_prints_numbers_and_headings_whole(tmp_path, soffice):
    from test_collect import _pdf

    out = tmp_path / "汇总.xlsx"
    out.write_bytes(summary_bytes(_big_collection()))
    size, _pages, text = _pdf(out, soffice)
    assert size == "842x595" and "###" not in text
    for whole in ("104.38%", "严重程度", "计入汇总", "0731-8336900", "交回时间"):
        assert whole in text, whole
