"""Every ribbon entry point, run through xlwings' remote engine against real generated workbooks.

Each test builds the JSON payload from a workbook LibreOffice recalculated, runs the entry point
through the whitelist (``registry.dispatch``), asserts on the actions xlwings returns, applies them
back to the file and checks the end state (for 重新计算: recalculated again by LibreOffice).
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from test_addin_harness import (
    EXAMPLES,
    ScriptedUI,
    actions_of,
    apply_actions,
    fill_example,
    overwrite_cells,
    payload_from_xlsx,
    remote_book,
    remote_env,  # noqa: F401  (fixture)
    serve_formulas,
)

from jxzp_addin import registry
from jxzp_addin.entry_points import CHECK_HEADER, MARK_COLORS, SUMMARY_TITLE
from jxzp_addin.registry import dispatch
from xlsx_engine.forms.project.layout import project_layout
from xlsx_engine.forms.registry import open_template
from xlsx_engine.integrity.tamper import norm_formula
from xlsx_engine.kernel.xlmath import is_number
from xlsx_engine.ooxml.cells import split_ref
from xlsx_engine.ooxml.recalc import read_values, recalc_files
from xlsx_engine.ooxml.sheetmodel import FORMULA

pytestmark = [pytest.mark.libreoffice, pytest.mark.usefixtures("remote_env")]
LAYOUT = project_layout("national")
TAMPERED = {"J6": 10, "K49": 100, "I50": "优"}     # 资金得分, 总分, 评价等次 typed over their formulas


TYPED_NAME = '=HYPERLINK("http://example.com","点我")'     # what a unit may type as the project name


def fill_typed(out: Path) -> Path:
    """A workbook whose text cells hold what Excel would parse if written carelessly."""
    from xlsx_engine.forms.project.record import load_data
    tpl = open_template(EXAMPLES.parent / "templates" / "xmzc-national.xlsx")
    record = load_data(EXAMPLES / "2023-城乡医疗救助补助资金.yaml", tpl.profile, max_rows=30)
    record.project = TYPED_NAME
    record.goals[0].actual = "95%"
    tpl.fill_to(record, out)
    return out


@pytest.fixture(scope="module")
def books(tmp_path_factory, soffice):
    """LibreOffice-recalculated workbooks (one soffice run): filled, tampered, const changed, other profile, master."""
    d = tmp_path_factory.mktemp("books")
    a = fill_example(d / "a.xlsx")
    sources = {
        "filled": a,
        "tampered": overwrite_cells(a, d / "tampered.xlsx", "自评表", TAMPERED),
        "const": overwrite_cells(a, d / "const.xlsx", "自评表", {"H6": 20}),
        "platform": fill_example(d / "platform.xlsx", "2023-医保基金监管专项", "national-platform"),
        "master": Path(shutil.copyfile(EXAMPLES / "总表示例.xlsx", d / "总表.xlsx")),
        "typed": fill_typed(d / "typed.xlsx"),
    }
    out = recalc_files(list(sources.values()), d / "lo", soffice=soffice)
    return {"dir": d, "original": sources, **{k: out[p] for k, p in sources.items()}}


def copy_to(tmp_path: Path, src: Path, name: str | None = None) -> Path:
    return Path(shutil.copyfile(src, tmp_path / (name or src.name)))


def expected_values(path: Path):
    """The Python twin's value of every formula cell for the inputs in ``path``."""
    from xlsx_engine.forms.registry import read_project
    rb = read_project(path)
    rec, result = rb.layout.evaluate(rb.record)
    return rb.layout.formula_values(result, rec), result


def assert_formula_cells_match_scorer(path: Path, soffice: str, expected: dict) -> None:
    out = recalc_files([path], path.parent / "final", soffice=soffice)[path]
    values = read_values(out)["自评表"]
    wrong = {ref: (values.get(ref), want) for ref, want in expected.items()
             if not (abs(values.get(ref, 0) - want) < 1e-9 if is_number(want) else (values.get(ref) or "") == want)}
    assert not wrong
    formulas = {c.coordinate: c.value for row in load_workbook(path)["自评表"].iter_rows() for c in row}
    assert all(norm_formula(formulas[ref]) == norm_formula(spec.formula)
               for ref, spec in LAYOUT.cells.items() if spec.role == FORMULA)


# ============================================================================ whitelist

def test_registry_is_the_whitelist_of_ribbon_entry_points():
    assert set(registry.entry_points()) == {"recalculate", "check", "summary", "report", "bulk", "collect", "about"}
    assert all(registry.TAG_PATTERN.match(tag) for tag in registry.entry_points())


@pytest.mark.parametrize("tag", ["invalid", "describe", "next_free", "__import__", "RECALCULATE", ""])
def test_dispatch_runs_nothing_for_an_unregistered_tag(tmp_path, books, tag):
    book = remote_book(copy_to(tmp_path, books["filled"]))
    outcome = dispatch(tag, book)
    assert not outcome.ok
    actions = book.json()["actions"]
    assert [a["func"] for a in actions] == ["alert"]
    assert "未知的按钮" in actions[0]["args"][0] and actions[0]["args"][3] == "critical"


def test_dispatch_turns_errors_into_chinese_messages(tmp_path, books, monkeypatch):
    book = remote_book(copy_to(tmp_path, books["master"]))
    outcome = dispatch("recalculate", book)                 # the master is not a 自评表
    assert not outcome.ok and "不是本系统模板生成的工作簿" in outcome.message
    assert [a["func"] for a in book.json()["actions"]] == ["alert"]

    def broken(session):
        raise RuntimeError("boom")
    point = registry.REGISTRY["about"]
    monkeypatch.setitem(registry.REGISTRY, "about", registry.EntryPoint("about", point.label, point.group,
                                                                        point.help, broken))
    monkeypatch.setattr(registry.tempfile, "gettempdir", lambda: str(tmp_path))
    outcome = dispatch("about", book)
    assert "内部错误：RuntimeError: boom" in outcome.message
    assert "Traceback" in (tmp_path / registry.LOG_NAME).read_text(encoding="utf-8")
    assert "Traceback" not in book.json()["actions"][-1]["args"][0]


# ============================================================================ 重新计算

def test_recalculate_rewrites_every_formula_and_reports_suspicious_cells(tmp_path, books, soffice):
    path = copy_to(tmp_path, books["tampered"])
    book = remote_book(path)
    outcome = dispatch("recalculate", book)
    expected, _result = expected_values(books["original"]["filled"])
    assert outcome.ok and outcome.data["formulas_read"] is False
    # I50 shows the right value: not suspicious; the live 综述's 总体情况 and 预算执行 paragraphs repeat the overwritten
    # 资金得分 and 总分
    assert outcome.data["suspicious"] == ["J6", "K49", f"A{LAYOUT.summary_lines[0] - 3}", f"A{LAYOUT.summary_lines[0] - 2}"]
    assert "自评表!J6（资金得分） 原为 10" in outcome.message and "自评表!K49（总分） 原为 100" in outcome.message
    assert "总分 94.71，评价等次 优" in outcome.message
    writes = {(a["start_row"], a["start_column"]): a["values"][0][0]
              for a in actions_of(book, "setFormula")}
    want = {(split_ref(ref)[0] - 1, split_ref(ref)[1] - 1): spec.formula
            for ref, spec in LAYOUT.cells.items() if spec.role == FORMULA}
    assert writes == want
    assert [a["func"] for a in book.json()["actions"]][-2:] == ["calculate", "alert"]
    out = tmp_path / "after.xlsx"
    apply_actions(path, book.json()["actions"], out)
    assert_formula_cells_match_scorer(out, soffice, expected)


def test_recalculate_restores_exactly_the_overwritten_formulas_when_excel_can_read_them(
        tmp_path, books, soffice, monkeypatch):
    path = copy_to(tmp_path, books["tampered"])
    serve_formulas(monkeypatch, path)                        # what desktop Excel's Range.Formula returns
    book = remote_book(path)
    outcome = dispatch("recalculate", book)
    assert outcome.data["formulas_read"] is True
    assert outcome.data["restored"] == ["J6", "K49", "I50"]
    assert ("已按模板恢复 3 个被改写的公式：自评表!J6（资金得分）、自评表!K49（总分）、自评表!I50（评价等次）"
            in outcome.message)
    formulas = actions_of(book, "setFormula")
    assert [(a["start_row"], a["start_column"], a["values"]) for a in formulas] == [
        (5, 9, [[LAYOUT.cells["J6"].formula]]), (48, 10, [[LAYOUT.cells["K49"].formula]]),
        (49, 8, [[LAYOUT.cells["I50"].formula]])]
    out = tmp_path / "after.xlsx"
    apply_actions(path, book.json()["actions"], out)
    assert_formula_cells_match_scorer(out, soffice, expected_values(books["original"]["filled"])[0])


def test_recalculate_leaves_an_intact_workbook_alone(tmp_path, books, monkeypatch):
    path = copy_to(tmp_path, books["filled"])
    serve_formulas(monkeypatch, path)
    book = remote_book(path)
    outcome = dispatch("recalculate", book)
    assert outcome.ok and outcome.data["restored"] == [] and not outcome.data["constants"]
    assert "公式完整，未发现被改写的公式" in outcome.message
    assert [a["func"] for a in book.json()["actions"]] == ["calculate", "alert"]


def test_recalculate_restores_a_changed_constant(tmp_path, books, soffice):
    path = copy_to(tmp_path, books["const"])                  # 资金分值 H6 changed from 10 to 20
    book = remote_book(path)
    outcome = dispatch("recalculate", book)
    assert outcome.data["constants"] == {"H6": 10}
    assert "已恢复被改动的常量：自评表!H6（资金分值） = 10" in outcome.message
    assert [(a["start_row"], a["start_column"], a["values"]) for a in actions_of(book, "setValues")] == [
        (5, 7, [[10]])]
    out = tmp_path / "after.xlsx"
    apply_actions(path, book.json()["actions"], out)
    assert_formula_cells_match_scorer(out, soffice, expected_values(books["original"]["filled"])[0])


@pytest.fixture(scope="module")
def shipped(tmp_path_factory, soffice):
    """Every shipped template (all forms) with its first formula typed over, recalculated by LibreOffice."""
    from xlsx_engine.forms.registry import layout_for_meta
    from xlsx_engine.ooxml.filler import read_custom_properties
    d = tmp_path_factory.mktemp("shipped")
    made = []
    for template in sorted((EXAMPLES.parent / "templates").glob("*.xlsx")):
        with zipfile.ZipFile(template) as zf:
            layout = layout_for_meta(read_custom_properties(zf))
        ref = next(r for r, spec in layout.cells.items() if spec.role == FORMULA)
        made.append((layout, ref, overwrite_cells(template, d / template.name, layout.sheet, {ref: 12345})))
    out = recalc_files([p for _, _, p in made], d / "lo", soffice=soffice)
    return [(layout, ref, out[p]) for layout, ref, p in made]


def test_recalculate_restores_formulas_in_every_shipped_form(shipped, monkeypatch):
    assert {layout.form.form for layout, _, _ in shipped} >= {"xmzc"} and len(shipped) >= 5
    for layout, ref, path in shipped:
        serve_formulas(monkeypatch, path)
        book = remote_book(path)
        outcome = dispatch("recalculate", book)
        assert outcome.ok, (layout.template_id, outcome.message)
        assert outcome.data["restored"] == [ref], layout.template_id
        assert [a["values"] for a in actions_of(book, "setFormula")] == [[[layout.cells[ref].formula]]]
        assert f"重新计算完成（{layout.form.title}" in outcome.message


def test_summary_and_report_say_which_forms_they_support(shipped, tmp_path):
    others = [(layout, path) for layout, _, path in shipped if layout.form.form != "xmzc"]
    if not others:
        pytest.skip("只有项目支出绩效自评表的模板")
    for layout, path in others:
        for tag, action in (("summary", "生成综述"), ("report", "导出自评报告")):
            outcome = dispatch(tag, remote_book(path))
            assert not outcome.ok
            assert f"“{action}”目前只支持项目支出绩效自评表，本工作簿是“{layout.form.title}”" in outcome.message


def test_recalculate_refuses_when_rows_were_moved(tmp_path, books):
    import xlwings as xw
    payload = payload_from_xlsx(copy_to(tmp_path, books["filled"]))
    for name in payload["names"]:
        if name["name"] == "总分":                           # as if a row had been inserted above it
            name["address"], name["refers_to"] = "K50", "='自评表'!$K$50"
    book = xw.Book(json=payload)
    outcome = dispatch("recalculate", book)
    assert not outcome.ok
    assert "名称“总分”指向 自评表!K50，模板中为 自评表!K49" in outcome.message
    assert [a["func"] for a in book.json()["actions"]] == ["alert"]


# ============================================================================ 校验

def test_check_writes_findings_and_marks_cells_then_restores_fills(tmp_path, books):
    path = copy_to(tmp_path, books["tampered"])
    book = remote_book(path)
    outcome = dispatch("check", book)
    assert not outcome.ok                                    # errors were found
    assert {(f.code, f.place) for f in outcome.data["findings"]} >= {
        ("formula_replaced", "自评表!J6"), ("formula_replaced", "自评表!K49"), ("formula_replaced", "自评表!I50")}
    # the live 综述's 总体情况 and 预算执行 paragraphs show the overwritten 资金得分 and 总分: also marked
    para = LAYOUT.summary_lines[0] - 3
    assert outcome.data["marks"] == {("自评表", "J6"): "错误", ("自评表", "K49"): "错误", ("自评表", "I50"): "错误",
                                     ("自评表", f"A{para}"): "错误", ("自评表", f"A{para + 1}"): "错误"}
    assert actions_of(book, "addSheet")[0]["args"] == [2, "校验结果"]
    marks = {(a["start_row"], a["start_column"]): a["args"][0] for a in actions_of(book, "setRangeColor")}
    assert marks == {(5, 9): MARK_COLORS["错误"], (48, 10): MARK_COLORS["错误"], (49, 8): MARK_COLORS["错误"],
                     (para - 1, 0): MARK_COLORS["错误"], (para, 0): MARK_COLORS["错误"]}
    assert "校验完成：错误 5 处" in outcome.message and "已标色 5 处单元格" in outcome.message

    first = tmp_path / "checked.xlsx"
    apply_actions(path, book.json()["actions"], first)
    wb = load_workbook(first)
    assert wb.sheetnames == ["自评表", "字典", "校验结果"]
    rows = list(wb["校验结果"].iter_rows(values_only=True))
    assert list(rows[4]) == CHECK_HEADER
    by_place = {r[2]: r for r in rows[5:]}
    assert by_place["自评表!K49"][1] == "错误" and "总分" in by_place["自评表!K49"][3]
    assert by_place["自评表!J6"][6] == "无" and by_place["自评表!K49"][6] == "#E2EFDA"   # the template's fills
    assert wb["自评表"]["K49"].fill.fgColor.rgb.endswith("FFC7CE")

    again = remote_book(first)
    outcome = dispatch("check", again)
    funcs = [a["func"] for a in again.json()["actions"]]
    assert "addSheet" not in funcs and funcs.index("sheetClear") > 0
    restores = again.json()["actions"][:funcs.index("sheetClear")]
    assert [(a["func"], a["start_row"], a["start_column"], a["args"][0]) for a in restores] == [
        ("setRangeColor", 5, 9, None), ("setRangeColor", 48, 10, "#E2EFDA"), ("setRangeColor", 49, 8, "#E2EFDA"),
        ("setRangeColor", para - 1, 0, None), ("setRangeColor", para, 0, None)]
    assert not any(f.code == "sheet_added" for f in outcome.data["findings"])   # our own sheet is no alteration
    assert "上次校验标色的 5 处单元格已恢复原底色" in outcome.message


def test_check_of_a_pristine_workbook_finds_nothing(tmp_path, books):
    book = remote_book(copy_to(tmp_path, books["original"]["filled"]))   # as generated, never re-saved
    outcome = dispatch("check", book)
    assert outcome.ok and outcome.data["findings"] == [] and not actions_of(book, "setRangeColor")
    assert outcome.message == "校验完成：未发现问题。"
    values = actions_of(book, "setValues")[0]["values"]
    assert values[-1][3] == "未发现问题"


def test_original_fills_come_from_the_template_styles():
    from jxzp_addin.entry_points import template_fill
    from xlsx_engine.ooxml.builder import _styles
    styles = _styles(LAYOUT.form.font, LAYOUT.form.title_font)
    for ref, spec in LAYOUT.cells.items():
        fill = styles[spec.style].get("fill")
        assert template_fill(LAYOUT, ref) == (None if fill is None else "#" + fill.fgColor.rgb[-6:]), ref
    assert template_fill(LAYOUT, "J50") == template_fill(LAYOUT, "I50") == "#E2EFDA"    # inside a merged range


# ============================================================================ 生成综述 / 导出自评报告

def test_summary_writes_the_narrative_sheet_and_replaces_it(tmp_path, books):
    from xlsx_engine.narrative.engine import from_workbook, render_summary
    from xlsx_engine.ooxml.writeback import sheet_rows
    path = copy_to(tmp_path, books["filled"])
    book = remote_book(path)
    outcome = dispatch("summary", book)
    inp = from_workbook(books["original"]["filled"])
    want = [text for _kind, text in sheet_rows(render_summary(inp).blocks, SUMMARY_TITLE, inp.name)]
    assert actions_of(book, "addSheet")[0]["args"] == [2, "综述"]
    out = tmp_path / "with-summary.xlsx"
    apply_actions(path, book.json()["actions"], out)
    got = [r[0] for r in load_workbook(out)["综述"].iter_rows(values_only=True)]
    assert got == want and "94.71" in "".join(want)
    assert f"已生成综述并写入“综述”工作表（{len(want)} 行）" in outcome.message

    again = remote_book(out)
    dispatch("summary", again)
    funcs = [a["func"] for a in again.json()["actions"]]
    assert "addSheet" not in funcs and "sheetClear" in funcs
    final = tmp_path / "again.xlsx"
    apply_actions(out, again.json()["actions"], final)
    assert [r[0] for r in load_workbook(final)["综述"].iter_rows(values_only=True)] == want


def test_text_written_into_the_workbook_stays_text(tmp_path, books):
    path = copy_to(tmp_path, books["typed"])
    book = remote_book(path)
    dispatch("summary", book)
    out = tmp_path / "typed-summary.xlsx"
    apply_actions(path, book.json()["actions"], out)
    cells = [c for row in load_workbook(out)["综述"].iter_rows() for c in row]
    assert cells[1].value == TYPED_NAME and cells[1].data_type == "s"       # not a formula
    assert not any(isinstance(c.value, str) and c.value.startswith("=") and c.data_type == "f" for c in cells)


def test_summary_lists_what_the_unit_still_has_to_supply(tmp_path, books):
    book = remote_book(copy_to(tmp_path, books["platform"]))  # 完成值超过指标值30% without a reason
    outcome = dispatch("summary", book)
    assert "需要补充或核实" in outcome.message and "集中宣传活动次数" in outcome.message


def test_report_writes_the_docx_beside_the_workbook(tmp_path, books):
    from docx import Document
    path = copy_to(tmp_path, books["filled"], "城乡医疗救助.xlsx")
    book = remote_book(path)
    ui = ScriptedUI(book, answers=[False, True])
    outcome = dispatch("report", book, ui=ui)
    target = tmp_path / "城乡医疗救助-自评报告.docx"
    assert outcome.ok and outcome.data["path"] == target and target.is_file()
    text = "\n".join(p.text for p in Document(str(target)).paragraphs)
    assert "2023年城乡医疗救助补助资金" in text
    assert f"已导出自评报告：{target}" in book.json()["actions"][-1]["args"][0]

    assert dispatch("report", book, ui=ui).data["path"] == tmp_path / "城乡医疗救助-自评报告(2).docx"
    before = target.stat().st_mtime_ns
    assert dispatch("report", book, ui=ui).data["path"] == target           # “是”: overwritten
    assert target.stat().st_mtime_ns >= before and len(ui.asked) == 2


def test_report_needs_a_saved_workbook(tmp_path, books):
    book = remote_book(books["filled"], book_name="工作簿1")
    outcome = dispatch("report", book)
    assert not outcome.ok and "工作簿还没有保存到本机文件夹" in outcome.message


# ============================================================================ 批量生成 / 汇总回收

def test_bulk_generates_from_the_open_master(tmp_path, books):
    master = copy_to(tmp_path, books["master"], "总表.xlsx")
    book = remote_book(master)
    ui = ScriptedUI(book, folders=[tmp_path / "下发"])
    outcome = dispatch("bulk", book, ui=ui)
    assert outcome.ok and ui.initial == tmp_path / "总表-自评表"
    files = sorted((tmp_path / "下发").rglob("*.xlsx"))
    assert len(files) == 200 and (tmp_path / "下发" / ".jxzp-bulk.json").is_file()
    assert all(f.parent.parent == tmp_path / "下发" for f in files)          # one folder per unit
    assert "总表共 200 个项目；200 个新生成或已更新" in outcome.message

    again = dispatch("bulk", remote_book(master), ui=ScriptedUI(book, folders=[tmp_path / "下发"]))
    assert "0 个新生成或已更新，200 个内容未变" in again.message


def test_bulk_can_be_cancelled_and_refuses_a_workbook_that_is_not_a_master(tmp_path, books):
    book = remote_book(copy_to(tmp_path, books["master"]))
    outcome = dispatch("bulk", book, ui=ScriptedUI(book, folders=[None]))
    assert outcome.message == "已取消批量生成。" and not any(tmp_path.glob("*/*.xlsx"))
    book = remote_book(copy_to(tmp_path, books["filled"]))
    ui = ScriptedUI(book, folders=[tmp_path / "x"])
    outcome = dispatch("bulk", book, ui=ui)
    assert not outcome.ok and "总表格式不符" in outcome.message and ui.asked == []


def test_collect_writes_a_summary_workbook_beside_the_folder(tmp_path, books):
    import python_calamine
    returned = tmp_path / "交回"
    returned.mkdir()
    for name in ("filled", "tampered", "platform"):
        shutil.copyfile(books["original"][name], returned / f"{name}.xlsx")
    (returned / "坏文件.xlsx").write_bytes(b"not a workbook")
    book = remote_book(copy_to(tmp_path, books["master"]))
    ui = ScriptedUI(book, folders=[returned], answers=[False])
    outcome = dispatch("collect", book, ui=ui)
    out = tmp_path / "交回-汇总表.xlsx"
    assert outcome.data["path"] == out and ui.opened == [out]
    assert "读取 3 个自评表（无法读取 1 个）" in outcome.message and "坏文件.xlsx" in outcome.message
    rows = python_calamine.CalamineWorkbook.from_path(str(out)).get_sheet_by_name("汇总").to_python()
    totals = sorted(r[9] for r in rows[3:6])
    assert totals == [89.0, 94.71, 94.71]

    outcome = dispatch("collect", book, ui=ScriptedUI(book, folders=[returned], answers=[False]))
    assert outcome.data["path"] == tmp_path / "交回-汇总表(2).xlsx"


# ============================================================================ 关于

def test_about_shows_versions_and_the_template_identity(tmp_path, books):
    import xlwings
    book = remote_book(copy_to(tmp_path, books["filled"]))
    outcome = dispatch("about", book)
    assert f"xlwings {xlwings.__version__}" in outcome.message
    assert "评分规则 national" in outcome.message and "模板编号 xmzc-national" in outcome.message
