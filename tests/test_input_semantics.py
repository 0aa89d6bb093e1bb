"""Issue #11 items 1 and 3 in a real spreadsheet engine: percentages as typed, and blank is not 差.

A percent typed into Excel/WPS/LibreOffice is stored as a fraction with a percent number format; the
test writes exactly that (0.95, format 0%) into a filled workbook's 实际完成值 cell, recalculates with
LibreOffice and compares with the Python scorer. An issued, untouched form must show 待填报/empty
figures and no row warnings, in the cached values and after recalculation.
"""

from __future__ import annotations

import openpyxl
import pytest

from xlsx_engine.forms.project.layout import project_layout
from xlsx_engine.forms.project.record import FundLine, IndicatorRow, ProjectRecord
from xlsx_engine.forms.project.scoring import PENDING
from xlsx_engine.forms.registry import open_template
from xlsx_engine.ooxml.builder import TEMPLATE_DIR, template_filename
from xlsx_engine.ooxml.recalc import read_values, recalc_files

pytestmark = pytest.mark.libreoffice


def _template(pid="national"):
    return open_template(TEMPLATE_DIR / template_filename(project_layout(pid)))


def _issued(actuals=(None, None, None), reasons=(None, None, None)) -> ProjectRecord:
    """What a bureau sends: identity, indicators with targets and weights, nothing the unit types."""
    rows = [("产出指标", "质量指标", "验收合格率", "≥", 95.0, "%", 50.0),
            ("效益指标", "社会效益指标", "群众就医负担", "定性", "明显减轻", None, 30.0),
            ("满意度指标", "服务对象满意度指标", "群众满意度", "≥", 90.0, "％", 10.0)]
    return ProjectRecord(
        "national", year=2024.0, project="医疗救助补助资金", department="某县医保局", unit="某县医保局",
        funds=[FundLine("当年财政拨款", 100.0)],     # 年初预算数 only: 全年预算数/执行数 not yet known
        indicators=[IndicatorRow(l1, l2, name, op, t, u, a, None, w, None, r)
                    for (l1, l2, name, op, t, u, w), a, r in zip(rows, actuals, reasons)])


def _ref(layout, name):
    return layout.names[name].split("!")[-1].replace("$", "").split(":")[0]


def _figures(values: dict, layout) -> dict:
    c = layout.form.col
    rows = layout.indicator_rows[:3]
    return {"执行率": values.get(_ref(layout, "执行率"), ""), "资金得分": values.get(_ref(layout, "资金得分"), ""),
            "得分": [values.get(f"{c['score']}{r}", "") for r in rows],
            "提示": [values.get(f"{c['message']}{r}", "") for r in rows],
            "总分": values.get(_ref(layout, "总分")), "评价等次": values.get(_ref(layout, "评价等次"))}


def test_issued_form_is_pending_and_quiet_and_warns_as_the_unit_types(soffice, tmp_path):
    tpl = _template()
    blank, typed = tmp_path / "issued.xlsx", tmp_path / "typed.xlsx"
    tpl.fill_to(_issued(), blank)
    tpl.fill_to(_issued(actuals=(80.0, None, None)), typed)          # the unit types one actual (below target)
    out = recalc_files([blank, typed], tmp_path / "lo", strip_cached=True)
    want_blank = {"执行率": "", "资金得分": "", "得分": ["", "", ""], "提示": ["", "", ""],
                  "总分": PENDING, "评价等次": PENDING}
    L = tpl.layout
    assert _figures(read_values(blank)[L.sheet], L) == want_blank                  # cached by the filler
    assert _figures(read_values(out[blank])[L.sheet], L) == want_blank             # LibreOffice
    checks = [v for k, v in read_values(out[blank])[L.sheet].items()
              if L.cells.get(k) is not None and L.cells[k].style == "warn" and v]
    assert checks == []
    lo = _figures(read_values(out[typed])[L.sheet], L)
    assert lo["得分"] == [42.11, "", ""] and lo["总分"] == PENDING
    assert lo["提示"][0] == "缺偏差原因分析及改进措施；" and lo["提示"][1:] == ["", ""]   # only the typed row
    assert lo == _figures(read_values(typed)[L.sheet], L)


@pytest.mark.parametrize("pid", ["national", "hubei-wuhan", "ningxia-jinfeng"])
def test_percent_typed_with_percent_format_scores_as_percent(soffice, tmp_path, pid):
    """0.95 with number format 0% (what typing 95% stores) against ≥95%: full marks in LibreOffice and Python."""
    tpl = _template(pid)
    L = tpl.layout
    rec = _issued(reasons=("r", "r", "r"))
    rec.profile_id = pid
    rec.indicators[0].level2 = "质量指标"
    filled = tmp_path / "filled.xlsx"
    tpl.fill_to(rec, filled)
    c = L.form.col
    typed = {f"{c['actual']}{L.indicator_rows[0]}": 0.95, f"{c['actual']}{L.indicator_rows[2]}": 0.972}
    wb = openpyxl.load_workbook(filled)
    ws = wb[L.sheet]
    for ref, value in typed.items():
        ws[ref].value = value
        ws[ref].number_format = "0%"
    wb.save(filled)
    out = recalc_files([filled], tmp_path / "lo", strip_cached=True)[filled]
    lo = read_values(out)[L.sheet]
    assert "0%" in openpyxl.load_workbook(out)[L.sheet][next(iter(typed))].number_format
    rec.indicators[0].actual, rec.indicators[2].actual = 0.95, 0.972
    _, result = tpl.evaluate(rec)
    assert not _mismatches(lo, L.formula_values(result, tpl.layout.padded(rec)))
    weight = rec.indicators[0].weight
    assert lo[f"{c['score']}{L.indicator_rows[0]}"] == weight                  # 95% ≥ 95%: full (was 0.5)
    assert lo[f"{c['score']}{L.indicator_rows[2]}"] == rec.indicators[2].weight  # 97.2% ≥ 90%: full
    assert lo[f"{c['message']}{L.indicator_rows[0]}"] == ""                   # no doubt, no warning


def _mismatches(values: dict, expected: dict) -> dict:
    def same(a, b):
        if isinstance(a, float) and isinstance(b, float):
            return abs(a - b) < 0.005
        return (a if a is not None else "") == (b if b is not None else "")
    return {ref: (v, values.get(ref)) for ref, v in expected.items() if not same(v, values.get(ref))}


def _issued_other_forms():
    """The department and Hunan forms as issued: identity (and for Hunan the indicators), nothing typed."""
    from xlsx_engine.forms.hunan.model import HnIndicator
    dept = open_template(TEMPLATE_DIR / "bmzt-dept-hunan.xlsx")
    hunan = open_template(TEMPLATE_DIR / "hnxm-hunan-project.xlsx")
    drec = dept.layout.record_from_cells(lambda ref: None)
    hrec = hunan.layout.record_from_cells(lambda ref: None)
    hrec.project, hrec.unit, hrec.department, hrec.year = "医疗救助", "某市医保局", "某市医保局", 2023.0
    hrec.indicators = [HnIndicator("项目产出指标", "数量指标", "救助人次", "≥3500人次"),
                       HnIndicator("满意度指标", "服务对象满意度指标", "群众满意度", "≥90%")]
    return (dept, drec), (hunan, hrec)


def test_department_and_hunan_forms_issued_blank(soffice, tmp_path):
    (dept, drec), (hunan, hrec) = _issued_other_forms()
    files = {}
    for tpl, rec, name in ((dept, drec, "dept"), (hunan, hrec, "hunan")):
        files[name] = (tpl, rec, tmp_path / f"{name}.xlsx")
        tpl.fill_to(rec, files[name][2])
    out = recalc_files([f for _, _, f in files.values()], tmp_path / "lo", strip_cached=True)
    for name, (tpl, rec, path) in files.items():
        L = tpl.layout
        padded, result = tpl.evaluate(rec)
        expected = L.formula_values(result, padded)
        for values in (read_values(path)[L.sheet], read_values(out[path])[L.sheet]):
            assert values.get(_ref(L, "评价等次")) == PENDING, name
            assert not _mismatches(values, expected), (name, _mismatches(values, expected))
    dept_values = read_values(out[files["dept"][2]])[dept.layout.sheet]
    assert dept_values[_ref(dept.layout, "总分")] == PENDING
    first_score = dept.layout.names["整体_得分"].split("!")[-1].replace("$", "").split(":")[0]
    assert dept_values.get(first_score, "") == ""               # no score before the 评审评分
    hunan_values = read_values(out[files["hunan"][2]])[hunan.layout.sheet]
    rows = [hunan_values.get(f"G{r}", "") for r in range(1, 200)
            if hunan.layout.cells.get(f"G{r}") is not None and hunan.layout.cells[f"G{r}"].style == "warn"]
    assert rows and all(v == "" for v in rows)                   # no 缺实际完成值 before anything is typed
    hrec.indicators[0].actual = "3600"
    typed = tmp_path / "hunan-typed.xlsx"
    hunan.fill_to(hrec, typed)
    values = read_values(recalc_files([typed], tmp_path / "lo2", strip_cached=True)[typed])[hunan.layout.sheet]
    msgs = [values.get(f"G{r}", "") for r in range(1, 200)
            if hunan.layout.cells.get(f"G{r}") is not None and hunan.layout.cells[f"G{r}"].style == "warn"]
    assert msgs[0] == "" and msgs[1] == "缺实际完成值；"       # typing began: the row still missing is named


def test_deadline_rows_compare_dates_in_libreoffice(soffice, tmp_path):
    """时效 targets from a data file ("9月底前", "2023年12月") score by date, in LibreOffice as in Python."""
    import datetime as dt

    from xlsx_engine.forms.project.record import record_from_data
    from xlsx_engine.forms.project.scoring import indicator_score
    tpl = _template()
    ind = [{"一级指标": "产出指标", "二级指标": "时效指标", "三级指标": f"完成时限{i}", "指标值": t, "实际完成值": a,
            "分值": w, "偏差原因": "r"} for i, (t, a, w) in enumerate(
        [("9月底前", "2023年9月", 20), ("9月底前完成", "2023-10-08", 20), ("2023年12月", dt.date(2023, 11, 2), 10)])]
    ind.append({"一级指标": "效益指标", "二级指标": "社会效益指标", "三级指标": "x", "指标值": "≥1", "实际完成值": 1,
                "分值": 30})
    ind.append({"一级指标": "满意度指标", "二级指标": "服务对象满意度指标", "三级指标": "y", "指标值": "≥90%",
                "实际完成值": "95%", "分值": 10})
    rec = record_from_data({"年度": 2023, "绩效指标": ind}, tpl.profile)
    assert [(r.op, r.target, r.unit, r.actual) for r in rec.indicators[:3]] == [
        ("≤", 20230930.0, "日期", 20230930.0), ("≤", 20230930.0, "日期", 20231008.0),
        ("≤", 20231231.0, "日期", 20231102.0)]
    assert [indicator_score(r, tpl.profile) for r in rec.indicators[:3]] == [20.0, 0.0, 10.0]
    rec.indicators[0].actual = float((dt.date(2023, 9, 15) - dt.date(1899, 12, 30)).days)   # a typed date
    path = tmp_path / "deadline.xlsx"
    tpl.fill_to(rec, path)
    L = tpl.layout
    lo = read_values(recalc_files([path], tmp_path / "lo", strip_cached=True)[path])[L.sheet]
    padded, result = tpl.evaluate(rec)
    assert not _mismatches(lo, L.formula_values(result, padded))
    c = L.form.col
    assert [lo[f"{c['score']}{r}"] for r in L.indicator_rows[:3]] == [20.0, 0.0, 10.0]


def test_late_days_profile_option():
    from xlsx_engine.forms.project.profile import load_profile, parse_profile
    from xlsx_engine.forms.project.scoring import indicator_score
    raw = dict(load_profile("national").raw)
    raw["rules"] = {**raw["rules"], "late_days_to_zero": 30}
    p = parse_profile(raw, "test")
    row = IndicatorRow("产出指标", "时效指标", "t", "≤", 20230930.0, "日期", 20231015.0, None, 10.0, None, "r")
    assert indicator_score(row, p) == 5.0                    # 15 days late of 30
    row.actual = 20231030.0
    assert indicator_score(row, p) == 0.0
