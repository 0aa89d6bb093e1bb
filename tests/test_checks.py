"""勾稽校验: arithmetic and rule checks, the seeds' errors, and the ``jxzp check`` contract.

* Our workbooks: each rule is broken in a filled workbook and the finding must name the cell.
* Printed tables: a clean Anhui-style table (no findings) is altered one number at a time.
* The seeds (docs/rules.md#seed-errors) transcribed as printed: every inconsistency a table can show is reported.
* ``jxzp check``: severities, places, Chinese JSON, exit codes 0 / 1 / 2, folders, parallel = serial.
"""

from __future__ import annotations

import re
import shutil

import copy
import json
from pathlib import Path

import pytest
import yaml
from test_legacy import build_workbook, load_grid, run

from xlsx_engine.forms.project.record import (
    FundLine,
    Goal,
    IndicatorRow,
    ProjectRecord,
    record_from_data,
)
from xlsx_engine.forms.registry import open_template
from xlsx_engine.integrity.checks import check_file, check_paths, exit_code
from xlsx_engine.kernel.findings import ERROR, INFO, SEVERITIES, WARNING, Finding
from xlsx_engine.ooxml.filler import Template

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
EXAMPLES = ROOT / "examples"


def codes(report) -> set[str]:
    return {f.code for f in report.findings}


def find(report, code: str) -> list[Finding]:
    return [f for f in report.findings if f.code == code]


def example_record(name: str = "2023-城乡医疗救助补助资金") -> tuple[ProjectRecord, Template]:
    data = yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text(encoding="utf-8"))
    tpl = open_template(TEMPLATES / f"xmzc-{data['评分规则']}.xlsx")
    return record_from_data(data, tpl.profile), tpl


def filled(tmp_path: Path, rec: ProjectRecord, tpl: Template, name: str = "wb.xlsx") -> Path:
    path = tmp_path / name
    tpl.fill_to(rec, path)
    return path


# ============================================================================ our workbooks

def test_weights_must_add_up(tmp_path):
    rec, tpl = example_record()
    rec.indicators[0].weight = 5.0                     # 产出 40, total 90 instead of 100
    report = check_file(filled(tmp_path, rec, tpl))
    [total] = find(report, "weight_total")
    assert total.place == "自评表!I49" and "90" in total.message and "100" in total.message
    [level] = find(report, "weight_level1")
    assert "产出指标分值合计为 40" in level.message and "50" in level.message
    assert total.severity == level.severity == WARNING      # the workbook is consistent; the rules differ
    assert exit_code([report]) == 0


def test_qualitative_score_outside_its_band(tmp_path):
    rec, tpl = example_record()
    rec.indicators[6].manual = 12.5                    # 部分达成 of 15 is [9, 12)
    [f] = find(check_file(filled(tmp_path, rec, tpl)), "out_of_band")
    assert f.place == "自评表!J24" and "12.5" in f.message and "[9, 12)" in f.message


def test_actual_written_as_a_target(tmp_path):
    rec, tpl = example_record()
    rec.indicators[7].actual = "≥95%"
    report = check_file(filled(tmp_path, rec, tpl))
    [f] = find(report, "actual_is_target")
    assert f.place == "自评表!G25" and "≥95%" in f.message and f.severity == WARNING


def test_missing_actual_and_missing_reason(tmp_path):
    rec, tpl = example_record()
    rec.indicators[0].actual = None                    # quantitative: not scored yet, no reason asked for
    rec.indicators[3].actual = None                    # qualitative 达成: still scored 5
    report = check_file(filled(tmp_path, rec, tpl))
    assert find(report, "no_actual")[0].place == "自评表!G18"
    [scored] = find(report, "score_without_actual")
    assert scored.place == "自评表!G21" and "却得 5 分" in scored.message
    assert not find(report, "no_reason")
    assert (report.summary["总分"], report.summary["评价等次"]) == ("待填报", "待填报")
    rec.indicators[0].actual = 0.0                     # typed 0: scored 0, now the reason is asked for
    [reason] = find(check_file(filled(tmp_path, rec, tpl)), "no_reason")
    assert reason.place == "自评表!L18" and reason.severity == INFO and "0/15" in reason.message


def test_rate_over_100_percent(tmp_path):
    rec, tpl = example_record()
    rec.funds[0].spent = 300.0
    [f] = find(check_file(filled(tmp_path, rec, tpl)), "rate_over_100")
    assert f.place == "自评表!I6" and "超过100%" in f.message and "106.84%" in f.message     # 312.5 / 292.5


def test_zero_budget_is_not_computable_not_100_percent(tmp_path):
    rec, tpl = example_record()
    rec.funds = [FundLine("当年财政拨款", 0.0, 0.0, 0.0), FundLine("上年结转资金", None, None, 5.0)]
    report = check_file(filled(tmp_path, rec, tpl))
    places = {f.place for f in find(report, "rate_na")}
    assert "自评表!I6" in places and "自评表!I8" in places          # the total and the source with money spent
    assert "cached_mismatch" not in codes(report)              # the workbook shows "—", as the scorer does
    assert report.summary["执行率"] == "—" and report.summary["资金得分"] == 0


def test_rate_shown_as_100_percent_with_zero_budget_is_an_error(tmp_path):
    rec, tpl = example_record()
    rec.funds = [FundLine("当年财政拨款", 0.0, 0.0, 10.0)]
    path = filled(tmp_path, rec, tpl)
    from test_tamper import alter, cell_xml
    def cached_one(t):      # the template's own formula, but a cached 100%
        cell = cell_xml(t, "I6")
        formula = re.search(r"<f>.*?</f>", cell).group(0)
        return t.replace(cell, f'<c r="I6" s="13">{formula}<v>1</v></c>')
    path = alter(path, tmp_path / "100.xlsx", {"xl/worksheets/sheet1.xml": cached_one})
    [f] = find(check_file(path), "cached_mismatch")
    assert f.place == "自评表!I6" and "100.00%" in f.message and "—" in f.message


def test_platform_rules(tmp_path):
    rec, tpl = example_record("2023-医保基金监管专项")
    rec.rate_reason = None
    report = check_file(filled(tmp_path, rec, tpl))
    [f] = find(report, "rate_reason_missing")
    assert f.place == "自评表!K6" and "76.00%" in f.message and "90%" in f.message
    [over] = find(report, "over")
    assert over.place == "自评表!L19" and "30%" in over.message


def test_goal_text_counts_against_the_indicators(tmp_path):
    """实际完成情况 “全年资助参保10462人，住院及门诊慢特病救助3187人次” restates two 完成值; 万 is scaled."""
    rec, tpl = example_record()
    assert not find(check_file(filled(tmp_path, rec, tpl, "a.xlsx")), "goal_text")
    rec.goals[0].actual = "全年资助参保1.0462万人，住院及门诊慢特病救助3817人次。"
    [f] = find(check_file(filled(tmp_path, rec, tpl, "b.xlsx")), "goal_text")
    assert f.severity == WARNING and f.place == "自评表!H11"
    assert "3817人次" in f.message and "住院及门诊慢特病救助人次" in f.message and "3187人次" in f.message


def test_target_block_and_goals(tmp_path):
    data = yaml.safe_load((ROOT / "tests" / "data" / "seeds" / "seed003-p1.yaml").read_text(encoding="utf-8"))
    tpl = open_template(TEMPLATES / "xmzc-hubei-wuhan.xlsx")
    rec = record_from_data(data, tpl.profile)
    rec.target_score = None
    rec.goals.append(Goal("第二个目标", None))
    report = check_file(filled(tmp_path, rec, tpl))
    layout = tpl.layout
    assert find(report, "target_score_missing")[0].place == f"自评表!{layout.target_input}" == "自评表!L14"
    assert find(report, "goal_actual_missing")[0].place == f"自评表!H{layout.goal_rows[1]}"
    assert find(report, "level1_missing")[0].message == "未设置效益指标"
    assert find(report, "double_count_rate")[0].place == "自评表!C23"


def test_clean_examples_and_seed_workbooks_only_report_their_data(tmp_path):
    """Filled seeds: the findings are about what the units typed (docs/rules.md#seed-errors), never about the template."""
    rec, tpl = example_record()
    assert check_file(filled(tmp_path, rec, tpl, "clean.xlsx")).findings == []
    seed = ROOT / "tests" / "data" / "seeds" / "seed004.yaml"
    data = yaml.safe_load(seed.read_text(encoding="utf-8"))
    tpl = open_template(TEMPLATES / "xmzc-ningxia-jinfeng.xlsx")
    report = check_file(filled(tmp_path, record_from_data(data, tpl.profile), tpl, "s4.xlsx"))
    assert {f.place for f in find(report, "score_without_actual")} == {"自评表!G21", "自评表!G22", "自评表!G23"}
    assert len(find(report, "actual_is_target")) == 2
    assert report.summary["总分"] == 98


# ============================================================================ printed tables

@pytest.fixture(scope="module")
def anhui_spec():
    return load_grid("anhui")


def legacy(tmp_path: Path, spec: dict, edit=None, profile=None, **kw):
    path = build_workbook(copy.deepcopy(spec), tmp_path / "t.xlsx", edit=edit, **kw)
    return check_file(path, profile)


def set_cell(ref: str, value):
    from openpyxl.utils import column_index_from_string
    col = column_index_from_string("".join(ch for ch in ref if ch.isalpha()))
    row = int("".join(ch for ch in ref if ch.isdigit()))

    def edit(rows):
        while len(rows) < row:
            rows.append([])
        r = rows[row - 1]
        while len(r) < col:
            r.append(None)
        r[col - 1] = value
    return edit


def test_clean_printed_table(tmp_path, anhui_spec):
    report = legacy(tmp_path, anhui_spec)
    assert report.kind == "外来表格"
    assert not [f for f in report.findings if f.severity in (ERROR, WARNING)], report.findings


def test_fund_total_printed_as_zeros(tmp_path, anhui_spec):
    def edit(rows):
        rows[6][3:6] = [0, 0, 0]
    report = legacy(tmp_path, anhui_spec, edit)
    places = {f.place for f in find(report, "fund_sum")}
    assert places == {"Sheet1!D7", "Sheet1!E7", "Sheet1!F7"}
    assert "合计为 100" in find(report, "fund_sum")[1].message


def test_rate_printed_wrong_or_without_percent_sign(tmp_path, anhui_spec):
    [f] = find(legacy(tmp_path, anhui_spec, set_cell("H7", "90%")), "rate_mismatch")
    assert f.place == "Sheet1!H7" and "95.00%" in f.message
    [g] = find(legacy(tmp_path, anhui_spec, set_cell("H7", "95")), "rate_no_percent")
    assert g.place == "Sheet1!H7" and g.severity == WARNING


def test_zero_denominator_printed_as_100_percent(tmp_path, anhui_spec):
    def edit(rows):
        rows[8][3:8] = [0, 0, 9.5, "—", "100%"]        # 上年结转: nothing budgeted, 9.5 spent, "100%"
    report = legacy(tmp_path, anhui_spec, edit)
    [f] = find(report, "rate_na_shown")
    assert f.place == "Sheet1!H9" and "无法计算" in f.message and "100%" in f.message


def test_fund_score_and_rate_over_100(tmp_path, anhui_spec):
    [f] = find(legacy(tmp_path, anhui_spec, set_cell("I7", 9)), "fund_score")
    assert f.place == "Sheet1!I7" and "应为 9.5" in f.message and f.severity == WARNING
    # the precision rule: 10 is 9.5 rounded to an integer — consistent, but the profile keeps 2 decimals
    [r] = find(legacy(tmp_path, anhui_spec, set_cell("I7", 10)), "fund_score")
    assert "取整" not in r.message and "印为 10（整数）" in r.message and "保留 2 位小数" in r.message
    assert not find(legacy(tmp_path, anhui_spec, set_cell("I7", 9.5)), "fund_score")

    def overspent(rows):
        rows[6][5] = 110
        rows[7][5] = 100.5
        rows[6][7] = "110%"
        rows[7][7] = "111.67%"
        rows[6][8] = 10
    report = legacy(tmp_path, anhui_spec, overspent)
    assert find(report, "rate_over_100")[0].place == "Sheet1!C7"


def test_scores_against_the_rules(tmp_path, anhui_spec):
    def edit(rows):
        rows[13][5] = "800人"          # 资助参保人数 ≥1000: missed, still 10 points, no reason
        rows[14][7] = 12               # 集中宣传次数: 12 of 10 points
    report = legacy(tmp_path, anhui_spec, edit)
    [over] = find(report, "score_over_weight")
    assert over.place == "Sheet1!H15" and "12" in over.message
    [wrong] = find(report, "score_mismatch")
    assert wrong.place == "Sheet1!H14" and "按规则应为 8" in wrong.message
    assert find(report, "no_reason")[0].place == "Sheet1!I14"
    assert "total_sum" in codes(report)      # the printed total no longer adds up: the rule recomputation is not repeated


def test_grade_and_total(tmp_path, anhui_spec):
    def grade(value):
        def edit(rows):
            rows.append(["评价等次", value])
        return edit
    [f] = find(legacy(tmp_path, anhui_spec, grade("良好")), "grade_invalid")
    assert f.place == "Sheet1!B23" and "良好" in f.message
    [g] = find(legacy(tmp_path, anhui_spec, grade("良")), "grade_mismatch")
    assert "99.5" in g.message and "“优”" in g.message
    [t] = find(legacy(tmp_path, anhui_spec, set_cell("H22", 98)), "total_sum")
    assert t.place == "Sheet1!H22" and "99.5" in t.message and t.severity == ERROR
    rounded = legacy(tmp_path, anhui_spec, set_cell("H22", 100))    # 99.5 printed as an integer
    assert not find(rounded, "total_sum") and "保留 2 位小数" in find(rounded, "total_mismatch")[0].message


def test_level1_weight_in_its_label(tmp_path, anhui_spec):
    report = legacy(tmp_path, anhui_spec, set_cell("B14", "产出指标(55分)"))
    [f] = find(report, "weight_label")
    assert f.place == "Sheet1!B14" and "55" in f.message and "50" in f.message


# ============================================================================ the seeds as printed (docs/rules.md#seed-errors)

@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("seeds")
    return {name: build_workbook(load_grid(name), d / f"{name}.xlsx")
            for name in ("seed000", "seed003-p1", "seed003-p2", "seed004")}


def test_seed004_fund_block_outside_a_total_of_100(seeds):
    report = check_file(seeds["seed004"], "national")
    [f] = find(report, "total_weight_mismatch")
    assert f.place == "自评表!G30" and "总分的分值为 100" in f.message and "110" in f.message
    [s] = find(report, "total_sum")
    assert s.place == "自评表!H30" and "98" in s.message and "108" in s.message     # 98 = indicator points only
    assert {f.message.split("，")[0] for f in find(report, "weight_level1")} == {
        "产出指标分值合计为 40", "效益指标分值合计为 40", "满意度指标分值合计为 20"}     # 40/40/20 ≠ 50/30/10


def test_seed004_inferred_profile_reads_the_fund_inside_the_total(seeds):
    report = check_file(seeds["seed004"])                 # fund 10 + indicators 100 printed as a total of 100
    [why] = find(report, "profile_inferred")
    assert "national" in why.message and "指标分值合计 100≠90" in why.message
    assert find(report, "total_weight_mismatch") and find(report, "total_sum")     # never silently "fund outside"


def test_seed004_actual_written_as_target_scored_9_of_10(seeds):
    report = check_file(seeds["seed004"])
    assert {f.place for f in find(report, "actual_is_target")} == {"自评表!F28", "自评表!F29"}
    wrong = find(report, "score_mismatch")
    assert {f.place for f in wrong} == {"自评表!H28", "自评表!H29"}
    assert all("得 9 分" in f.message and "满分 10 分" in f.message for f in wrong)


def test_seed004_social_benefit_rows_without_actual_but_full_marks(seeds):
    report = check_file(seeds["seed004"])
    found = find(report, "score_without_actual")
    assert {f.place for f in found} == {"自评表!F24", "自评表!F25", "自评表!F26"}
    assert all("却得 10 分" in f.message for f in found)


def test_seed004_other_table_inconsistencies(seeds):
    report = check_file(seeds["seed004"])
    goals = find(report, "goal_actual_missing")[0]
    assert "第2项、第3项、第4项、第5项" in goals.message                    # 1 of 5 goals has an actual
    assert find(report, "direction_suspect")[0].place == "自评表!E26"      # 医疗费用负担 — 明显提高
    assert find(report, "cost_equals_budget")[0].place == "自评表!E21"     # 成本 108万元 = the budget
    assert find(report, "rate_base_unstated")[0].place == "自评表!H6"
    assert not find(report, "fund_sum") and not find(report, "rate_mismatch")      # 108 = 108, 100% ✓


def test_seed004_under_its_own_profile(seeds):
    report = check_file(seeds["seed004"], "ningxia-jinfeng")
    assert "total_weight_mismatch" not in codes(report) and "total_sum" not in codes(report)
    [t] = find(report, "total_mismatch")
    assert "总分为 98" in t.message and "重算为 80" in t.message
    assert len(find(report, "score_without_actual")) == 3 and len(find(report, "score_mismatch")) == 2


def test_seed003_satisfaction_scored_with_an_empty_actual(seeds):
    report = check_file(seeds["seed003-p1"], "hubei-wuhan")
    [f] = find(report, "score_without_actual")
    assert f.place == "附件1.1!F21" and "却得 8 分" in f.message
    [t] = find(report, "total_mismatch")
    assert "90.98" in t.message and "82.98" in t.message and "良" in t.message
    assert find(report, "double_count_rate")[0].place == "附件1.1!D20"    # 局预算执行率 counted twice
    assert find(report, "level1_missing")[0].message == "未设置效益指标"
    assert not find(report, "fund_score") and not find(report, "rate_mismatch")   # 20×39.96/40 = 19.98 ✓


def test_seed003_profile_inferred_as_hubei(seeds):
    report = check_file(seeds["seed003-p1"])
    [why] = find(report, "profile_inferred")
    assert "hubei-wuhan" in why.message and "资金分值 20" in why.message
    assert report.profile == "hubei-wuhan" and not find(report, "fund_weight")
    assert not [f for f in report.findings if f.severity == ERROR]


def test_seed003_p2_misaligned_rows(seeds):
    report = check_file(seeds["seed003-p2"], "hubei-wuhan")
    assert find(report, "bad_level2")[0].place == "附件1.2!C20"            # 培训参与率 in the 二级 column
    assert find(report, "bad_level1")[0].place == "附件1.2!B21"            # 时效指标 in the 一级 column
    assert {f.place for f in find(report, "row_misaligned")} >= {"附件1.2!D20"}
    assert "附件1.2!F22" in {f.place for f in find(report, "no_actual")}   # satisfaction: empty 完成值
    assert "92.84" in find(report, "no_score_columns")[0].message


def test_seed000_score_that_cannot_be_derived(seeds):
    report = check_file(seeds["seed000"])
    [d] = find(report, "unexplained_deduction")
    assert d.place == "自评报告!B36" and "扣了 2 分" in d.message
    assert "98" in find(report, "no_score_columns")[0].message
    [targets] = find(report, "bad_op")                                   # grouped: every row lacks its target
    assert "16 行指标缺年度指标值" in targets.message
    assert {f.place for f in find(report, "bad_level2")} == {"自评报告!C34"}   # 满意度 under 项目效益指标
    assert not find(report, "fund_sum") and not find(report, "fund_balance")    # 15761.30+7276+5508 ✓


def test_seed000_wrong_balance_is_found(tmp_path):
    def edit(rows):
        rows[4][7] = 100                                 # 结余 100 although 到位 = 支出
    report = check_file(build_workbook(load_grid("seed000"), tmp_path / "b.xlsx", edit=edit))
    assert find(report, "fund_balance")[0].place == "自评报告!H5"


# ============================================================================ the command

@pytest.fixture(scope="module")
def folder(tmp_path_factory, seeds) -> Path:
    d = tmp_path_factory.mktemp("folder")
    rec, tpl = example_record()
    tpl.fill_to(rec, d / "clean.xlsx")
    sub = d / "单位A"
    sub.mkdir()
    (sub / "seed004.xlsx").write_bytes(seeds["seed004"].read_bytes())
    (sub / "~$seed004.xlsx").write_bytes(b"lock file")
    (d / "说明.txt").write_text("不是表格", encoding="utf-8")
    return d


def test_exit_codes(folder, tmp_path, capsys):
    assert run(capsys, "check", str(folder / "clean.xlsx"))[0] == 0
    assert run(capsys, "check", str(folder / "单位A" / "seed004.xlsx"))[0] == 1
    assert run(capsys, "check", str(folder))[0] == 1
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04 broken")
    code, out, err = run(capsys, "check", str(folder), str(bad))
    assert code == 2 and "Traceback" not in out + err
    code, _, err = run(capsys, "check", str(tmp_path / "missing.xlsx"))
    assert code == 2 and "找不到" in err
    code, _, err = run(capsys, "check", str(folder), "--profile", "no-such")
    assert code == 2 and "no-such" in err


def test_folder_is_walked_and_lock_files_skipped(folder, capsys):
    code, out, _ = run(capsys, "check", str(folder))
    assert "clean.xlsx" in out and "seed004.xlsx" in out
    assert "~$seed004.xlsx（未读取）" in out and "临时文件，未读取" in out         # listed, not read
    assert "说明.txt（未读取）" in out and "不是 Excel 自评表或 Word 自评报告（.docx），未检查" in out   # never silently
    assert "汇总：检查 2 个文件，其中 1 个未发现问题" in out and "另有 2 个未读取" in out


def test_file_names_with_any_bytes_give_valid_utf8(folder, tmp_path, capsys):
    """A name that is not UTF-8, or holds a control character, is shown escaped: the text and JSON output stay
    valid UTF-8 (a unit's file name must not break the report of the whole folder)."""
    import os
    sent = tmp_path / "回收"
    sent.mkdir()
    shutil.copy(folder / "clean.xlsx", os.fsencode(sent) + b"/\xff\xfe\xe4\xbd.xlsx")
    shutil.copy(folder / "clean.xlsx", sent / "甲\x01乙.xlsx")
    code, out, _ = run(capsys, "check", str(sent), "--json")
    assert code == 0
    out.encode("utf-8")                                   # no lone surrogates from undecodable bytes
    names = sorted(Path(f["文件"]).name for f in json.loads(out)["文件"])
    assert names == ["甲\\x01乙.xlsx", "\ufffd\ufffd\ufffd.xlsx"]
    code, out, _ = run(capsys, "check", str(sent))
    out.encode("utf-8")
    assert "甲\\x01乙.xlsx" in out and "\x01" not in out


def test_links_in_a_folder_are_listed_not_followed(folder, tmp_path, capsys):
    """A returned folder is untrusted: a link to a file outside it is not read (the same walk as collect)."""
    outside = tmp_path / "外部" / "秘密.xlsx"
    outside.parent.mkdir()
    shutil.copy(folder / "clean.xlsx", outside)
    sent = tmp_path / "回收"
    (sent / "下级").mkdir(parents=True)
    shutil.copy(folder / "clean.xlsx", sent / "下级" / "甲.xlsx")
    (sent / "乙.xlsx").symlink_to(outside)
    (sent / "丙").symlink_to(outside.parent, target_is_directory=True)
    code, out, _ = run(capsys, "check", str(sent))
    assert code == 0 and "秘密" not in out
    assert "甲.xlsx（本系统模板" in out and "乙.xlsx（未读取）" in out and "指向本文件夹以外的符号链接" in out
    assert "丙（未读取）" in out and "文件夹的符号链接，未进入" in out
    assert "汇总：检查 1 个文件" in out and "另有 2 个未读取" in out


def test_text_output_names_severity_and_place(folder, capsys):
    _, out, _ = run(capsys, "check", str(folder / "单位A" / "seed004.xlsx"))
    assert "[错误] 自评表!G30：总分的分值为 100" in out
    assert "（处理：" in out and "[警告]" in out and "[提示]" in out


def test_json_output(folder, capsys):
    code, out, _ = run(capsys, "check", str(folder), "--json")
    assert code == 1
    assert "\\u" not in out and "总分的分值为 100" in out          # ensure_ascii=False
    report = json.loads(out)
    assert report["汇总"]["文件数"] == 2 and report["汇总"]["未读取"] == 2 and report["汇总"]["退出码"] == 1
    by_name = {Path(f["文件"]).name: f for f in report["文件"]}
    assert by_name["clean.xlsx"]["发现"] == [] and by_name["clean.xlsx"]["类型"] == "本系统模板"
    s4 = by_name["seed004.xlsx"]
    assert s4["类型"] == "外来表格" and s4["错误"] > 0
    for f in s4["发现"]:
        assert set(f) == {"级别", "代码", "文件", "位置", "问题", "处理建议"}
        assert f["级别"] in SEVERITIES and f["问题"]


def test_parallel_equals_serial(folder, tmp_path):
    paths = [folder] * 1 + [folder / "clean.xlsx"] * 12 + [folder / "单位A" / "seed004.xlsx"] * 12
    serial = [r.to_dict() for r in check_paths(paths, workers=1)]
    parallel = [r.to_dict() for r in check_paths(paths, workers=2)]
    assert parallel == serial and len(serial) == 27          # 25 files read, the lock file listed as not read


def test_findings_are_sorted_and_capped(tmp_path):
    rec, tpl = example_record()
    rec.indicators = [IndicatorRow("产出指标", "数量指标", f"指标{i}", "≥", 10.0, "个", "≥10个", None, 3.0)
                      for i in range(30)]
    report = check_file(filled(tmp_path, rec, tpl))
    ranks = [SEVERITIES.index(f.severity) for f in report.findings]
    assert ranks == sorted(ranks)
    grouped = find(report, "actual_is_target")
    assert len(grouped) == 1 and "30 行指标" in grouped[0].message       # one finding for a problem of every row
    assert INFO in SEVERITIES


def test_every_finding_code_is_classified_and_documented():
    """The README's 校验级别 table is the severity table, and every code the checks emit is in it."""
    import re

    from xlsx_engine.integrity.severity import SEVERITY

    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text(encoding="utf-8")
    for code, (sev, meaning) in SEVERITY.items():
        assert f"| {sev or '随位置'} | `{code}` | {meaning} |" in readme, code
    emitted = set()
    for src in (root / "xlsx_engine" / "integrity").glob("*.py"):
        emitted |= set(re.findall(r'add\(\s*(?:ERROR|WARNING|INFO|sev),\s*"([a-z_0-9]+)"', src.read_text(encoding="utf-8")))
    flags = set(re.findall(r'flag == "([a-z_0-9]+)"', (root / "xlsx_engine" / "integrity" / "checks.py")
                           .read_text(encoding="utf-8")))
    assert emitted and flags and not (emitted | flags) - set(SEVERITY), (emitted | flags) - set(SEVERITY)


def _without_weight_column(rows):
    rows[12][6] = "自评得分"          # header: the 分值 column gone, scores move left
    rows[12][7] = "偏差原因分析及改进措施"
    for r in range(13, 21):
        rows[r][6:8] = [rows[r][7]]
    rows[21][6:8] = [99.5]


def test_weights_only_in_the_level1_labels(tmp_path, anhui_spec):
    """No 分值 column: the labels "产出指标(50分)" are the weights; nothing is recomputed to 0 or invented."""
    report = legacy(tmp_path, anhui_spec, _without_weight_column)
    assert not [f for f in report.findings if f.severity == ERROR], report.findings
    assert not find(report, "no_weights") and not find(report, "total_mismatch")
    assert "一级指标标签" in find(report, "profile_inferred")[0].message

    def over(rows):
        _without_weight_column(rows)
        rows[13][6] = 25                # 产出: 25 + 10 + 10 + 10 + 10 = 65 > 50
        rows[21][6] = 114.5
    [f] = find(legacy(tmp_path, anhui_spec, over), "label_score_over")
    assert f.place == "Sheet1!B14" and "65" in f.message and f.severity == ERROR

    def labels_exceed(rows):
        _without_weight_column(rows)
        rows[13][1] = "产出指标(60分)"   # 10 + 60 + 30 + 10 = 110 > 100
        rows[21][0] = "合计"
    [g] = find(legacy(tmp_path, anhui_spec, labels_exceed), "label_total_over")
    assert "110" in g.message and g.severity == ERROR


def test_no_weights_anywhere_is_one_hint(tmp_path, anhui_spec):
    def bare(rows):
        _without_weight_column(rows)
        for r in (13, 18, 20):
            rows[r][1] = rows[r][1].split("(")[0]
        rows[6][6] = "—"                # no fund weight either: the fund score 9.5 cannot be recomputed
    report = legacy(tmp_path, anhui_spec, bare)
    [hint] = find(report, "no_weights")
    assert hint.severity == INFO
    assert not find(report, "fund_score") and not find(report, "fund_weight") and not find(report, "total_mismatch")
    assert not [f for f in report.findings if f.severity == ERROR]


def test_an_entry_that_cannot_be_examined_is_listed_in_chinese(tmp_path, monkeypatch):
    """A file that vanishes or cannot be examined between listing the folder and looking at it (a unit's share
    going away, a disk error) is listed as not read, with the reason in Chinese rather than the system's English."""
    import errno
    import os

    from xlsx_engine.integrity import folder as folder_mod

    (tmp_path / "甲.xlsx").write_bytes(b"PK")
    (tmp_path / "乙.xlsx").write_bytes(b"PK")
    real = os.lstat

    def lstat(path, *a, **kw):
        if str(path).endswith("乙.xlsx"):
            raise OSError(errno.EIO, "Input/output error")
        return real(path, *a, **kw)

    monkeypatch.setattr(folder_mod.os, "lstat", lstat)
    found = folder_mod.survey(tmp_path)
    assert [Path(f).name for f in found.spreadsheets] == ["甲.xlsx"]
    assert [(Path(p).name, why) for p, why in found.skipped] == [("乙.xlsx", "无法访问（读写出错（磁盘或网络共享故障））")]


def test_a_folder_s_word_reports_are_checked_like_a_single_one(folder, tmp_path, capsys):
    """A folder of returned material holds the Word 自评报告 beside the workbooks: ``check 文件夹`` checks it as
    ``check 报告.docx`` does (same findings), says how many Word reports it checked, and lists every other file
    with why it was not checked (an old .doc, a stamped PDF) — nothing is passed over silently."""
    from xlsx_engine.narrative.docx import report_docx, write_docx
    from xlsx_engine.narrative.engine import from_data_file
    sent = tmp_path / "回收"
    shutil.copytree(folder, sent)
    data, _ = report_docx(from_data_file(ROOT / "tests" / "data" / "seeds" / "seed004.yaml"))
    write_docx(sent / "单位A" / "自评报告.docx", data)
    (sent / "单位A" / "旧报告.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)
    (sent / "盖章件.pdf").write_bytes(b"%PDF-1.4\n")
    single = run(capsys, "check", str(sent / "单位A" / "自评报告.docx"), "--json")[1]
    code, out, _ = run(capsys, "check", str(sent), "--json")
    by_name = {Path(f["文件"]).name: f for f in json.loads(out)["文件"]}
    assert by_name["自评报告.docx"]["类型"] == "Word 自评报告"
    assert by_name["自评报告.docx"]["发现"] == json.loads(single)["文件"][0]["发现"]
    assert by_name["自评报告.docx"]["错误"] > 0 and code == 1
    assert by_name["旧报告.doc"]["类型"] == by_name["盖章件.pdf"]["类型"] == "未读取"
    code, out, _ = run(capsys, "check", str(sent))
    assert "自评报告.docx（Word 自评报告（按标签读取）" in out
    assert "旧报告.doc（未读取）" in out and "旧版 Word 文档" in out and "另存为 .docx" in out
    assert "盖章件.pdf（未读取）" in out and "说明.txt（未读取）" in out and "不是 Excel 自评表或 Word 自评报告" in out
    assert "汇总：检查 3 个文件（其中 Word 自评报告 1 个）" in out and "另有 4 个未读取" in out
    empty = tmp_path / "只有PDF"
    empty.mkdir()
    (empty / "盖章件.pdf").write_bytes(b"%PDF-1.4\n")
    code, out, err = run(capsys, "check", str(empty))
    assert code == 2 and "盖章件.pdf（未读取）" in out and "没有可检查的文件" in err and "Traceback" not in err


def test_a_folder_is_walked_once_and_each_entry_lands_in_one_list(folder, tmp_path, capsys, monkeypatch):
    """``check 文件夹`` and ``collect`` list a folder by one walk (integrity.folder.survey): the workbooks, the Word
    reports and every other entry come from the same listing (before: two walks, which a file arriving between
    them could make disagree). Each entry is in exactly one of the survey's lists."""
    import xlsx_engine.integrity.folder as folder_mod
    sent = tmp_path / "回收"
    shutil.copytree(folder, sent)
    (sent / "单位A" / "自评报告.docx").write_bytes(b"PK\x03\x04")
    (sent / "单位A" / "旧报告.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    (sent / "盖章件.pdf").write_bytes(b"%PDF-1.4\n")
    (sent / "~$甲.xlsx").write_bytes(b"x")
    (sent / "链接.pdf").symlink_to(sent / "盖章件.pdf")
    (sent / "表链接.xlsx").symlink_to(next(sent.rglob("*.xlsx")))
    (sent / "夹链接").symlink_to(sent / "单位A", target_is_directory=True)

    found = folder_mod.survey(sent)
    entries = [*found.spreadsheets, *found.reports, *(n for n, _ in found.skipped), *(n for n, _ in found.others)]
    assert len(entries) == len(set(entries))
    names = {Path(n).name for n in entries}
    assert {"自评报告.docx", "旧报告.doc", "盖章件.pdf", "~$甲.xlsx", "链接.pdf", "表链接.xlsx", "夹链接"} <= names
    assert {Path(n).name for n, _ in found.skipped} >= {"~$甲.xlsx", "表链接.xlsx", "夹链接"}
    assert all(Path(n).suffix == ".xlsx" or Path(n).name == "夹链接" for n, _ in found.skipped)
    assert {Path(n).name for n, _ in found.others} >= {"旧报告.doc", "盖章件.pdf", "链接.pdf"}
    assert [Path(f).name for f in found.reports] == ["自评报告.docx"]

    walks: list[str] = []
    real_walk = folder_mod.os.walk

    def counted(top, *a, **kw):
        walks.append(str(top))
        return real_walk(top, *a, **kw)

    monkeypatch.setattr(folder_mod.os, "walk", counted)
    code, out, _ = run(capsys, "check", str(sent), "--json")
    assert walks == [str(sent)], walks
    by_name = {Path(f["文件"]).name: f["类型"] for f in json.loads(out)["文件"]}
    assert by_name["旧报告.doc"] == by_name["链接.pdf"] == by_name["夹链接"] == "未读取"
    walks.clear()
    run(capsys, "collect", str(sent), "-o", str(tmp_path / "汇总表.xlsx"))
    assert walks == [str(sent)], walks
