"""部门整体支出 workbook: rules, seeds 001/002, and LibreOffice proof on generated departments."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from engines import same_cell

from xlsx_engine.forms.department.layout import department_layout
from xlsx_engine.forms.department.model import (
    DETAIL_ROWS,
    INCOME,
    LINES,
    SANGONG,
    SANGONG_COLS,
    DeptRecord,
    Rule,
    change_rate,
    dept_evaluate,
    dept_record_from_data,
    diff_rate,
    load_dept_data,
    load_dept_profile,
    statement_findings,
)
from xlsx_engine.forms.registry import open_template
from xlsx_engine.kernel.errors import DataError
from xlsx_engine.kernel.excel import ALLOWED_FUNCTIONS, functions_used
from xlsx_engine.ooxml.builder import TEMPLATE_DIR, render
from xlsx_engine.ooxml.recalc import read_values

DATA = Path(__file__).parent / "data" / "department"
TEMPLATE = TEMPLATE_DIR / "bmzt-dept-hunan.xlsx"
P = load_dept_profile("dept-hunan")


def test_shipped_template_is_reproducible_and_allowlisted():
    layout = department_layout("dept-hunan")
    assert render(layout) == TEMPLATE.read_bytes(), "run jxzp build"
    for cell in layout.cells.values():
        if cell.formula:
            assert functions_used(cell.formula) <= ALLOWED_FUNCTIONS, cell.formula


def test_rates_never_divide_by_zero():
    assert diff_rate(0.0, 43.34) == "—" and round(diff_rate(166.18, 363.47), 4) == 1.1872
    assert change_rate(0.0, 0.0) == 0.0 and change_rate(0.0, 0.3) == "—" and change_rate(1.0, 0.5) == -0.5


@pytest.mark.parametrize("rule,x,w,expected", [
    (Rule("proportional", {}), 0.95, 8, 7.6), (Rule("proportional", {}), 1.2, 8, 8.0),
    (Rule("inverse", {}), 0.1, 4, 3.6),
    (Rule("deduct_over", {"threshold": 1, "per_pp": 0.5}), 1.04, 3, 1.0),
    (Rule("deduct_over", {"threshold": 1, "per_pp": 0.5}), 0.9, 3, 3.0),
    (Rule("deduct_over", {"threshold": 0, "per_pp_of_weight": 0.1}), 0.05, 3, 1.5),
    (Rule("bands_down", {"bands": [[0, 1], [0.1, 0.6667]]}), 0.1, 3, 2.0),
    (Rule("bands_down", {"bands": [[0, 1], [0.1, 0.6667]]}), 0.11, 3, 0.0),
    (Rule("bands_up", {"bands": [[0.9, 1], [0.8, 0.8]]}), 0.85, 6, 4.8),
    (Rule("proportional", {}), "—", 8, 0.0)])
def test_rule_types(rule, x, w, expected):
    assert rule.score(x, w) == expected


def test_seed002_errors_are_flagged():
    result = dept_evaluate(load_dept_data(DATA / "seed002.yaml", P), P)
    assert round(result.diffs["收入合计"], 4) == 1.1872 and round(result.diffs["公用经费"], 4) == 2.0091
    assert result.diffs["年初结转和结余"] == "—" and result.diffs["其他收入"] == "—"     # not 100%
    assert result.detail_total == 151.57 and not any("公用经费明细合计" in p for p in result.problems)
    assert any("2项预算数为0" in p for p in result.problems)
    rec = load_dept_data(DATA / "seed002.yaml", P)
    stated = statement_findings(rec, dept_evaluate(rec, P))
    assert "报告所列公用经费为66.14万元，表中决算数为151.57万元；" in stated
    assert "报告所列年初结转和结余差异率为100%，但其预算数为0，差异率无法计算，不应写作100%；" in stated
    assert "报告所列其他收入差异率为100%，但其预算数为0，差异率无法计算，不应写作100%；" in stated
    assert not any("财政拨款" in s or "收入合计" in s or "人员经费" in s for s in stated)   # correct figures pass
    assert len(stated) == 3


def test_detail_table_must_equal_the_final_public_expenses():
    rec = load_dept_data(DATA / "seed002.yaml", P)
    rec.detail = rec.detail[:-1]                                        # drop 其他商品和服务支出 45.33
    assert "公用经费明细合计106.24万元与决算公用经费151.57万元不一致；" in dept_evaluate(rec, P).problems


def test_seed001_shares_use_the_right_denominator():
    rec = load_dept_data(DATA / "seed001.yaml", P)
    result = dept_evaluate(rec, P)
    assert round(result.ratios["基本支出占比"], 4) == 0.0891 and round(result.ratios["项目支出占比"], 4) == 0.9109
    assert round(result.ratios["基本支出占比"] + result.ratios["项目支出占比"], 10) == 1.0
    assert round(86.26 / 882.02, 4) == 0.0978          # the seed's 9.78% divides by 项目支出
    assert statement_findings(rec, result) == [
        "报告所列基本支出占比为9.78%，按表中数据应为8.91%（86.26÷968.28）；",
        "报告所列基本支出占比与项目支出占比之和为100.87%，应为100%；"]


def test_clean_generated_department_has_no_findings():
    rec = generated(3)
    rec.final.update({"年初结转和结余": 0.0, "财政拨款": 100.0, "其他收入": 0.0, "人员经费": 60.0, "公用经费": 30.0,
                      "项目支出": 10.0, "年末结转结余": 0.0})
    rec.budget.update(rec.final)
    rec.detail = [("办公费", 30.0)]
    rec.staff = {"行政编制数": 5.0, "事业编制数": 5.0, "在职人数": 9.0, "其他人员": 1.0}
    rec.initial_budget, rec.adjustment, rec.key_projects = 100.0, 0.0, 9.5
    rec.sangong = {k: {c: 1.0 for c in SANGONG_COLS} for k in SANGONG}
    rec.scores = {i.name: i.weight for i in P.indicators if i.rule is None}
    result = dept_evaluate(rec, P)
    rec.stated = {"基本支出占比": "90%", "项目支出占比": "10%", "支出合计": 100, "差异率": {"财政拨款": "0%"}}
    assert result.problems == [] and statement_findings(rec, result) == []
    assert result.total == 100.0 and result.grade == "优"


def test_bad_department_data(tmp_path):
    with pytest.raises(DataError) as err:
        dept_record_from_data({"收支": {"预算": {"财政拨款": "十万"}}, "评分": {"预算执行率": 5, "不存在": 1},
                               "奇怪": 1}, P)
    text = str(err.value)
    assert "收支.预算.财政拨款" in text and "评分.预算执行率" in text and "评分.不存在" in text and "奇怪" in text


def generated(seed: int) -> DeptRecord:
    rng = random.Random(seed)
    rec = DeptRecord("dept-hunan", year=2020.0 + seed % 5, department=f"部门{seed}")
    pick = lambda: rng.choice([0.0, 0.0, 12.5, 50.37, 115.81, 166.18, 258.58, 1e-3, None, round(rng.uniform(0, 900), 2)])
    for k in ("行政编制数", "事业编制数", "在职人数", "其他人员"):
        rec.staff[k] = rng.choice([0.0, 5.0, 6.0, 10.0, 11.0, None])
    for k in LINES:
        rec.budget[k], rec.final[k] = pick(), pick()
    if seed % 4 == 0:                   # balanced books
        rec.final["年末结转结余"] = round(sum(rec.final.get(k) or 0 for k in INCOME)
                                    - sum(rec.final.get(k) or 0 for k in ("人员经费", "公用经费", "项目支出")), 2)
    rec.initial_budget, rec.adjustment, rec.key_projects = pick(), rng.choice([0.0, 10.0, 16.6, 33.3, None]), pick()
    for item in SANGONG:
        rec.sangong[item] = {c: rng.choice([0.0, 0.29, 0.5, 1.0, None]) for c in SANGONG_COLS}
    n = rng.randrange(DETAIL_ROWS + 1)
    rec.detail = [(rng.choice(["办公费", "差旅费", None]), pick()) for _ in range(n)]
    for ind in P.indicators:
        if ind.rule is None and rng.random() < 0.7:
            rec.scores[ind.name] = rng.choice([0.0, ind.weight, round(ind.weight * rng.random(), 2)])
    return rec


@pytest.mark.libreoffice
def test_engines_equal_python_on_generated_departments(engine, tmp_path):
    tpl = open_template(TEMPLATE)
    items = []
    for seed in range(60):
        rec = generated(seed)
        path = tmp_path / f"d{seed:03d}.xlsx"
        tpl.fill_to(rec, path)
        items.append((path, rec))
    seed_rec = load_dept_data(DATA / "seed002.yaml", P)
    tpl.fill_to(seed_rec, tmp_path / "seed002.xlsx")
    items.append((tmp_path / "seed002.xlsx", seed_rec))
    mapping = engine.recalc([p for p, _ in items], tmp_path / "recalc")
    bad, compared = [], 0
    for path, rec in items:
        calc = read_values(mapping[path])[tpl.layout.sheet]
        padded, result = tpl.evaluate(rec)
        for ref, value in tpl.layout.formula_values(result, padded).items():
            compared += 1
            if not same_cell(value, calc.get(ref)):
                bad.append(f"{path.name} {ref}: python={value!r} {engine.name}={calc.get(ref)!r}")
    assert compared >= 61 * 100
    assert not bad, f"{engine.name}: {len(bad)} of {compared} formula cells differ:\n" + "\n".join(bad[:10])


def _patch_sheet(src: Path, dst: Path, edit) -> None:
    import zipfile
    zin = zipfile.ZipFile(src)
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = edit(data.decode()).encode()
            zout.writestr(info, data)


@pytest.mark.parametrize("template,data,loader", [
    ("bmzt-dept-hunan.xlsx", DATA / "seed002.yaml", "dept"),
    ("hnxm-hunan-project.xlsx", Path(__file__).parent / "data" / "hunan" / "seed000.yaml", "hnxm")])
def test_check_handles_department_and_hunan_workbooks(tmp_path, template, data, loader):
    import re

    from xlsx_engine.forms.registry import form_for
    from xlsx_engine.integrity.checks import check_file
    tpl = open_template(TEMPLATE_DIR / template)
    clean = tmp_path / "clean.xlsx"
    tpl.fill_to(form_for(tpl.layout.template_id).load_data(data, tpl.profile), clean)
    report = check_file(clean)
    assert report.kind == "本系统模板" and report.count("错误") == 0
    assert report.summary["总分"] == tpl.evaluate(form_for(tpl.layout.template_id).load_data(data, tpl.profile))[1].total
    assert any(f.code == "self_check" for f in report.findings)           # the form's own prompts are reported
    # the computed result to type over: 总分 (部门整体) or 评价等次 (湖南表: 综合得分 is the unit's input)
    total_ref = tpl.layout.names["总分" if "总分" in tpl.layout.names else "评价等次"].split("!")[-1].replace("$", "")
    tampered = tmp_path / "tampered.xlsx"
    _patch_sheet(clean, tampered, lambda x: re.sub(rf'<c r="{total_ref}"([^>]*)>.*?</c>',
                                                    rf'<c r="{total_ref}"\1><v>100</v></c>', x, count=1))
    assert "formula_replaced" in check_file(tampered).codes
    unprotected = tmp_path / "unprotected.xlsx"
    _patch_sheet(clean, unprotected, lambda x: re.sub(r"<sheetProtection[^>]*/>", "", x))
    assert any(f.severity == "错误" for f in check_file(unprotected).findings)


def test_an_indicator_name_longer_than_its_column_wraps_in_a_row_tall_enough():
    """社会公众或服务对象满意度 printed as “社会公众或服务对象满”: the label did not wrap, so LibreOffice cut it across (the
    print checks, which look for rows too short, could not see it). Every 三级指标 name wider than column C wraps,
    in a row as tall as its lines."""
    from openpyxl import load_workbook

    from xlsx_engine.ooxml.sheetmodel import text_height, text_lines, text_width

    ws = load_workbook(TEMPLATE).worksheets[0]
    width = ws.column_dimensions["C"].width
    names = {ind.name for ind in department_layout("dept-hunan").profile.indicators}
    wide = 0
    for row in ws.iter_rows(min_col=3, max_col=3):
        cell = row[0]
        if cell.value in names and text_width(cell.value) > width:
            wide += 1
            assert cell.alignment.wrap_text, cell.coordinate
            assert ws.row_dimensions[cell.row].height >= text_height(text_lines(cell.value, width)), cell.coordinate
    assert wide >= 1             # 社会公众或服务对象满意度
