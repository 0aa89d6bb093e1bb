"""Tables not made by us: ``jxzp import`` finds a 项目支出绩效自评表 by its labels.

The workbooks are built from the grids in ``tests/data/check/*.yaml`` (seed 004 and an Anhui-style form as
printed), also moved down and right and with a blank row inserted, to show that nothing depends on a fixed
cell position. The data file an import writes must be the one ``jxzp fill`` takes.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import openpyxl
import pytest
import yaml
from openpyxl.utils import range_boundaries

from xlsx_engine.cli.main import main as cli_main
from xlsx_engine.forms.project.profile import load_profile
from xlsx_engine.forms.project.record import record_from_data
from xlsx_engine.forms.registry import open_template
from xlsx_engine.integrity.checks import check_file
from xlsx_engine.integrity.legacy import (
    PCell,
    actual_value,
    map_source,
    match_level,
    norm,
    rate_value,
    read_tables,
    to_data,
    to_record,
)
from xlsx_engine.integrity.tamper import open_package
from xlsx_engine.kernel.findings import ERROR

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "check"
TEMPLATES = ROOT / "templates"


# ----------------------------------------------------------------------------- builder (used by other tests too)

def load_grid(name: str) -> dict:
    return yaml.safe_load((DATA / f"{name}.yaml").read_text(encoding="utf-8"))


def build_workbook(spec: dict, out: Path, *, down: int = 0, right: int = 0, blank_after: int | None = None,
                   edit=None) -> Path:
    """Write a grid spec as .xlsx with openpyxl.

    Args:
        down, right: move the whole table by this many rows / columns.
        blank_after: insert an empty row after this (original) row number.
        edit: ``edit(rows)`` may change the rows (a deep copy) before writing.
    """
    rows = [list(r) if r else [] for r in spec["rows"]]
    if edit:
        edit(rows)

    def r_at(r: int) -> int:
        return r + down + (1 if blank_after is not None and r > blank_after else 0)

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = spec.get("sheet", "Sheet1")
    for i, row in enumerate(rows, 1):
        for j, value in enumerate(row, 1):
            if value is None or value == "":
                continue
            cell = ws.cell(r_at(i), j + right)
            if isinstance(value, dict):
                cell.value = value["pct"]
                cell.number_format = "0.00%"
            else:
                cell.value = value
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"          # printed text such as "=100%", not a formula
    for m in spec.get("merges", []):
        c1, r1, c2, r2 = range_boundaries(m)
        ws.merge_cells(start_row=r_at(r1), start_column=c1 + right, end_row=r_at(r2), end_column=c2 + right)
    wb.save(out)
    return out


def run(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    import xlsx_engine.cli.main as core
    from xlsx_engine.cli.check import check_command, import_command
    core.cli.add_command(check_command)
    core.cli.add_command(import_command)
    code = cli_main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def table_of(path: Path):
    with open_package(path) as pkg:
        tables = read_tables(pkg)
    assert len(tables) == 1, tables
    return tables[0]


# ----------------------------------------------------------------------------- seed 004 layout

@pytest.fixture(scope="module")
def seed004(tmp_path_factory) -> Path:
    return build_workbook(load_grid("seed004"), tmp_path_factory.mktemp("s4") / "seed004.xlsx")


def test_seed004_fields_found_by_label(seed004):
    t = table_of(seed004)
    assert t.project.text == "2020 年城乡医疗保险个人补助资金"
    assert t.department.text == "银川市医疗保障局" and t.unit.text == "银川市金凤区医疗保障局"
    assert t.year.value == 2020.0
    assert t.fund_form == "grid"
    assert t.fund_total.num("budget") == 108 and t.fund_total.num("weight") == 10
    assert t.fund_total.values["rate"].text == "100%" and t.fund_total.num("score") == 10
    assert [s.label for s in t.fund_sources] == ["当年财政拨款", "上年结转资金", "其他资金"]
    assert len(t.goals) == 5 and t.goals[0][1].text == "按时完成" and t.goals[1][1].blank
    # the empty 时效指标 row and the "指标 1." placeholders are not indicators
    names = [r.cells["name"].text for r in t.rows]
    assert len(names) == 9 and "指标 1." not in names
    assert t.total_weight.value == 100 and t.total.value == 98
    assert t.total.ref == "自评表!H30"


def test_seed004_merged_levels_are_filled_down(seed004):
    t = table_of(seed004)
    assert [r.level1 for r in t.rows] == ["产出指标"] * 3 + ["效益指标"] * 4 + ["满意度指标"] * 2
    assert [r.level2 for r in t.rows][3:6] == ["社会效益指标"] * 3
    assert t.rows[-1].level2 == "服务对象满意度指标"      # "服务对象\n满意度指标" merged over two rows


def test_seed004_combined_targets_are_split(seed004):
    rec, conv = to_record(table_of(seed004), load_profile("ningxia-jinfeng"))
    cost = rec.indicators[2]
    assert (cost.op, cost.target, cost.unit, cost.actual) == ("＝", 108.0, "万元", 108.0)
    sat = rec.indicators[7]
    assert (sat.op, sat.target, sat.unit, sat.actual) == ("≥", 95.0, "%", "≥95%")
    qual = rec.indicators[0]
    assert (qual.op, qual.target, qual.band, qual.manual) == ("定性", "完全救助", "达成", 20.0)
    assert [c.shown_score for c in conv] == [20, 10, 10, 10, 10, 10, 10, 9, 9]


def test_import_seed004_writes_the_data_file_fill_takes(seed004, tmp_path, capsys):
    out = tmp_path / "seed004.yaml"
    code, stdout, err = run(capsys, "import", str(seed004), "-o", str(out), "--profile", "ningxia-jinfeng")
    assert code == 0, stdout + err
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    rec = record_from_data(data, load_profile("ningxia-jinfeng"))
    assert len(rec.indicators) == 9 and rec.project == "2020 年城乡医疗保险个人补助资金"
    assert data["资金"] == {"当年财政拨款": {"年初预算数": 108, "全年预算数": 108, "全年执行数": 108}}
    assert data["绩效指标"][7]["指标值"] == "≥95%" and data["绩效指标"][7]["实际完成值"] == "≥95%"
    original = data["其他信息"]["原表"]
    assert original["总分"] == 98 and original["总分分值"] == 100
    assert original["指标得分"] == [20, 10, 10, 10, 10, 10, 10, 9, 9]
    assert "Traceback" not in stdout + err


def test_import_reports_what_fill_would_reject(seed004, tmp_path, capsys):
    out = tmp_path / "national.yaml"
    code, stdout, _ = run(capsys, "import", str(seed004), "-o", str(out))      # national: weights are 40/40/20
    assert code == 1
    assert out.exists()
    assert "合计为 100" in stdout and "产出指标" in stdout


def test_import_refuses_to_overwrite(seed004, tmp_path, capsys):
    out = tmp_path / "x.yaml"
    out.write_text("old", encoding="utf-8")
    code, _, err = run(capsys, "import", str(seed004), "-o", str(out))
    assert code == 2 and "已存在" in err
    assert out.read_text(encoding="utf-8") == "old"


def test_import_json_output(seed004, tmp_path, capsys):
    out = tmp_path / "d.json"
    code, _, _ = run(capsys, "import", str(seed004), "-o", str(out), "-p", "ningxia-jinfeng")
    assert code == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["评分规则"] == "ningxia-jinfeng"


def test_import_of_a_non_table_is_refused(tmp_path, capsys):
    path = tmp_path / "other.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "会议签到表"
    wb.save(path)
    code, _, err = run(capsys, "import", str(path), "-o", str(tmp_path / "o.yaml"))
    assert code == 2 and "未找到项目支出绩效自评表" in err
    assert not (tmp_path / "o.yaml").exists()


# ----------------------------------------------------------------------------- Anhui form, moved around

ANHUI_LAYOUTS = {"as printed": {}, "moved 3 down, 2 right": {"down": 3, "right": 2},
                 "blank row inside the indicators": {"blank_after": 15},
                 "moved and blank row after the fund block": {"down": 1, "right": 4, "blank_after": 10}}


@pytest.fixture(scope="module")
def anhui(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("ah")
    spec = load_grid("anhui")
    return {k: build_workbook(spec, d / f"anhui{i}.xlsx", **kw) for i, (k, kw) in enumerate(ANHUI_LAYOUTS.items())}


def _without_source(data: dict) -> dict:
    data = json.loads(json.dumps(data, ensure_ascii=False))
    data["其他信息"]["原表"].pop("来源文件")
    return data


def test_anhui_layouts_import_identically(anhui):
    p = load_profile("national")
    datas = {k: _without_source(to_data(table_of(path), p)) for k, path in anhui.items()}
    first = datas["as printed"]
    for k, data in datas.items():
        assert data == first, k
    assert len(first["绩效指标"]) == 8
    assert first["资金"]["当年财政拨款"] == {"年初预算数": 80, "全年预算数": 90, "全年执行数": 85.5}
    assert first["年度"] == 2022


def test_anhui_weights_in_labels_and_odd_targets(anhui):
    t = table_of(anhui["moved 3 down, 2 right"])
    assert {k: v[0] for k, v in t.level1_weights.items()} == {"产出指标": 50, "效益指标": 30, "满意度指标": 10}
    rec, _ = to_record(t, load_profile("national"))
    rows = {r.name: r for r in rec.indicators}
    assert (rows["救助资金发放准确率"].target, rows["救助资金发放准确率"].unit) == (100.0, "%")   # "≥100百分比"
    assert rows["救助资金发放准确率"].actual == 100.0              # a percent-formatted 1.0
    assert (rows["项目总成本"].op, rows["项目总成本"].target) == ("≤", 90.0)
    assert rows["资助参保人数"].actual == 1200.0                    # "1200人"
    assert [r.level1 for r in rec.indicators].count("产出指标") == 5


def test_anhui_import_fill_check_round_trip(anhui, tmp_path, capsys):
    """import → fill → check: the data file is valid, the filled workbook is clean and scores as printed."""
    src = anhui["moved and blank row after the fund block"]
    data_file = tmp_path / "anhui.yaml"
    code, stdout, _ = run(capsys, "import", str(src), "-o", str(data_file))
    assert code == 0, stdout
    filled = tmp_path / "anhui-filled.xlsx"
    code, stdout, err = run(capsys, "fill", str(TEMPLATES / "xmzc-national.xlsx"), str(data_file), "-o", str(filled))
    assert code == 0, err
    assert "总分 99.5" in stdout
    report = check_file(filled)
    assert report.kind == "本系统模板" and report.findings == []
    legacy_report = check_file(src)
    assert legacy_report.kind == "外来表格"
    assert legacy_report.summary["重算总分"] == report.summary["总分"] == 99.5
    assert not [f for f in legacy_report.findings if f.severity == ERROR]


def test_check_runs_on_the_legacy_file(anhui, capsys):
    code, stdout, _ = run(capsys, "check", str(anhui["as printed"]))
    assert code == 0, stdout
    assert "外来表格" in stdout and "原表总分 99.5" in stdout


def test_our_own_workbook_imports_by_name(tmp_path, capsys):
    example = ROOT / "examples" / "2023-城乡医疗救助补助资金.yaml"
    tpl = open_template(TEMPLATES / "xmzc-national.xlsx")
    rec = record_from_data(yaml.safe_load(example.read_text(encoding="utf-8")), tpl.profile)
    first = tmp_path / "a.xlsx"
    tpl.fill_to(rec, first)
    data_file = tmp_path / "a.yaml"
    code, stdout, _ = run(capsys, "import", str(first), "-o", str(data_file))
    assert code == 0, stdout
    assert "本系统模板" in stdout
    rec2 = record_from_data(yaml.safe_load(data_file.read_text(encoding="utf-8")), tpl.profile)
    second = tmp_path / "b.xlsx"
    tpl.fill_to(rec2, second)
    sheet = "xl/worksheets/sheet1.xml"
    assert zipfile.ZipFile(first).read(sheet) == zipfile.ZipFile(second).read(sheet)


# ----------------------------------------------------------------------------- seeds 003 and 000 layouts

def test_seed003_hubei_layout(tmp_path):
    t = table_of(build_workbook(load_grid("seed003-p1"), tmp_path / "p1.xlsx"))
    assert t.fund_weight_label[0] == 20 and t.target_weight_label[0] == 20
    assert t.target_score.value == 18 and t.overall.value == 90.98 and t.grade.text == "优"
    assert "(A)" in norm(t.fund_headers["budget"].value)
    data = to_data(t, load_profile("hubei-wuhan"))
    assert data["资金"] == {"区级预算资金": {"全年预算数": 40, "全年执行数": 39.96}}
    assert data["目标自评分"] == 18
    record_from_data(data, load_profile("hubei-wuhan"))


def test_seed000_label_value_pairs(tmp_path):
    t = table_of(build_workbook(load_grid("seed000"), tmp_path / "s0.xlsx"))
    assert t.fund_form == "pairs"
    assert t.fund_total.num("budget") == 28545.30 and t.fund_total.num("spent") == 28545.30
    assert t.fund_total.num("arrived") == 28545.30 and t.fund_total.num("balance") == 0
    assert [s.label for s in t.fund_sources] == ["中央财政", "省财政", "市财政", "县市区财政", "其它"]
    assert t.fund_sources[0].num("budget") == 15761.30
    assert len(t.rows) == 16 and not t.has_weights and not t.has_scores
    assert t.overall.value == 98 and t.grade.text == "优"
    rec, _ = to_record(t, load_profile("national"))
    assert rec.funds[0].budget == pytest.approx(28545.30)          # 中央/省/县 → 当年财政拨款
    assert rec.indicators[-1].level1 == "效益指标" and rec.indicators[-1].level2 == "服务对象满意度指标"
    assert rec.indicators[-1].actual == 100.0                     # "满意度100%"


# ----------------------------------------------------------------------------- helpers

@pytest.mark.parametrize("text, allowed, want", [
    ("项目产出指标", ("产出指标", "效益指标"), "产出指标"),
    ("产出指标(50分)", ("产出指标",), "产出指标"),
    ("满意度\n指标", ("满意度指标",), "满意度指标"),
    ("数量", ("数量指标",), "数量指标"),
    ("服务对象满意度", ("服务对象满意度指标",), "服务对象满意度指标"),
    ("经济效益 指标", ("经济效益指标",), "经济效益指标"),
    ("培训参与率", ("数量指标", "质量指标"), "培训参与率"),
])
def test_match_level(text, allowed, want):
    assert match_level(text, allowed) == want


@pytest.mark.parametrize("label, profile, want", [
    ("其中：当年财政拨款", "national", "当年财政拨款"),
    ("中央财政", "national", "当年财政拨款"),
    ("县市区财政", "national", "当年财政拨款"),
    ("上年结转", "national", "上年结转资金"),
    ("其它", "national", "其他资金"),
    ("中央财政", "hubei-wuhan", "中央补助"),
    ("省财政", "hubei-wuhan", "省补助"),
    ("区级预算资金", "hubei-wuhan", "区级预算资金"),
    ("本级财政", "hubei-wuhan", "区级预算资金"),
])
def test_map_source(label, profile, want):
    assert map_source(label, load_profile(profile)) == want


@pytest.mark.parametrize("cell, value, how", [
    (PCell("99.9%", "x"), 0.999, "pct"),
    (PCell(0.95, "x", pct=True), 0.95, "pct"),
    (PCell("79.27", "x"), 0.7927, "no_pct"),
    (PCell(0.1, "x"), 0.1, "fraction"),
    (PCell("—", "x"), None, "text"),
    (PCell(None, "x"), None, "blank"),
])
def test_rate_value(cell, value, how):
    got, got_how, _tol = rate_value(cell)
    assert got_how == how
    assert got == (pytest.approx(value) if value is not None else None)


@pytest.mark.parametrize("cell, want", [
    (PCell("≥95%", "x"), "≥95%"), (PCell("96%", "x"), 96.0), (PCell("108 万元", "x"), 108.0),
    (PCell(0.93, "x", pct=True), 93.0), (PCell("满意度100%", "x"), 100.0), (PCell("按时完成", "x"), "按时完成"),
    (PCell("", "x"), None),
])
def test_actual_value(cell, want):
    assert actual_value(cell, None) == want
