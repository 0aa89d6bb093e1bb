"""Real published 自评表 (tests/data/real, transcribed from public pages) through ``jxzp check``.

Every inconsistency found by hand (the ``findings`` of each file) must be reported at its cell with the
severity of the README's 校验级别 table; a table gets no 错误 anywhere else. The few exceptions are listed
below, each with its reason, so that a change in what the checker finds shows up here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from test_legacy import build_workbook, run

from xlsx_engine.integrity.checks import check_file, exit_code
from xlsx_engine.kernel.findings import ERROR, WARNING

REAL = Path(__file__).resolve().parent / "data" / "real"
TABLES = sorted(p.stem for p in REAL.glob("*.yaml") if not p.stem.startswith("targets"))

#: the severity a hand-found inconsistency of each kind must be reported with (README 校验级别)
KIND_SEVERITY = {
    "sum": ERROR,          # 总额 ≠ Σ 来源
    "rate": ERROR,         # 执行率 ≠ B/A, or printed for 0/0
    "total": ERROR,        # 总分 ≠ Σ 得分, or above what the parts allow
    "weights": ERROR,      # 分值合计 ≠ 总分的分值
    "fund_score": WARNING,  # 资金得分 ≠ 分值 × 执行率 (a scoring rule; often rounded to an integer)
    "other": WARNING,      # a row score against the profile's scoring rule, a duplicated sub-row score
    "goal_text": WARNING,  # figures in the goal text
}
#: hand findings whose severity differs from their kind's, and why
OVERRIDE = {
    ("hubei-2020-xinzhou-yanchushebei", "H27"):
        WARNING,   # the printed total equals the printed scores; it lacks the fund score the rule gives (cell blank)
    ("sichuan-2022-zhongjiang-shuibiaochi", "B12"):
        WARNING,   # 产出指标(70分) adds up; it differs from the table note's 50 — a rule, not a contradiction
}
#: hand findings the checker does not report yet, and why
NOT_YET: dict[tuple[str, str], str] = {}
#: 错误 at cells the hand check did not list, verified to be real (the same mistake repeated on another cell)
BEYOND_HAND = {
    ("yunnan-2023-linxiang-shourongsuo", "H7"),   # 当年财政拨款 row: 31.69/32.4 = 97.81%, printed 97.80% too
}
#: 错误 caused by the transcription, not by the table: the page was cut off inside a level-1 group, so the
#: group's rows on the page add up to less than its label
TRUNCATION = {
    ("anhui-2022-tangxi-cunji", "B20"),          # 页面在“效益指标(30分)”的第二行后断开
    ("ningxia-2021-yinchuan-chuzhong", "A27"),   # 页面在满意度行（属“项目效益(35分)”）断开
    ("shandong-2019-licheng-wenhuaguan", "B22"),  # 页面在“(30分)”组的第二个二级指标处断开
    ("beijing-2016-xueyuanlu-baojie", "B10"),     # 预览在“产出指标(50分)”的第二行断开
}


def _spec(name: str) -> dict:
    return yaml.safe_load((REAL / f"{name}.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    d = tmp_path_factory.mktemp("real")
    return {name: check_file(build_workbook(_spec(name), d / f"{name}.xlsx")) for name in TABLES}


def _cell(place: str) -> str:
    return place.split("!")[-1]


def _hand_cells(hand: dict) -> set[str]:
    """The cell of a hand finding and the cells its explanation names ("D7 应为 202.64，F7 应为 132.912")."""
    return {hand["where"]} | set(re.findall(r"(?<![A-Za-z])([A-Z]{1,2}[0-9]{1,3})(?![0-9])", hand["explain"]))


def test_corpus_is_real_and_sourced():
    assert len(TABLES) >= 30
    provinces = {_spec(n)["province"] for n in TABLES}
    assert len({p for p in provinces if not p.startswith("不详")}) >= 8     # one page names no province
    for name in TABLES:
        spec = _spec(name)
        assert str(spec["source"]).startswith("http"), name
        assert spec["province"] and spec["year"] and "truncated" in spec, name


@pytest.mark.parametrize("name", TABLES)
def test_hand_found_inconsistencies_are_reported(reports, name):
    report = reports[name]
    for hand in _spec(name).get("findings") or []:
        key = (name, hand["where"])
        if key in NOT_YET:
            continue
        want = OVERRIDE.get(key, KIND_SEVERITY[hand["kind"]])
        at = [f for f in report.findings if _cell(f.place) == hand["where"]]
        assert any(f.severity == want for f in at), (hand, [(f.severity, f.code, f.message) for f in at])


@pytest.mark.parametrize("name", TABLES)
def test_no_error_where_the_table_is_consistent(reports, name):
    hand = set().union(*[_hand_cells(h) for h in _spec(name).get("findings") or []])
    errors = [f for f in reports[name].findings if f.severity == ERROR]
    false = [f for f in errors if _cell(f.place) not in hand and (name, _cell(f.place)) not in TRUNCATION | BEYOND_HAND]
    assert not false, [(f.code, f.place, f.message) for f in false]
    if not hand and not any(table == name for table, _cell_ in TRUNCATION):
        assert exit_code([reports[name]]) == 0


def test_recall_over_the_corpus(reports):
    """Recall over all hand findings (the number shrinks only when NOT_YET does)."""
    total = found = 0
    for name in TABLES:
        for hand in _spec(name).get("findings") or []:
            total += 1
            want = OVERRIDE.get((name, hand["where"]), KIND_SEVERITY[hand["kind"]])
            found += any(_cell(f.place) == hand["where"] and f.severity == want for f in reports[name].findings)
    assert total >= 52
    assert found == total - len(NOT_YET)


def test_goal_text_warnings_only_where_found_by_hand(reports):
    """Amounts and counts in the goal texts: no 警告 on a table whose goal text agrees with it."""
    for name in TABLES:
        hand = {h["where"] for h in _spec(name).get("findings") or [] if h["kind"] == "goal_text"}
        got = {_cell(f.place) for f in reports[name].findings if f.code == "goal_text"}
        assert got <= hand, (name, got - hand)


def test_goal_text_counts_restate_the_indicators(tmp_path):
    """金寨: 实际完成情况 restates four 完成值 (4个、202个、3061户、10个) and agrees; a changed count is a 警告
    naming the text and the indicator's 指标值 and 完成值."""
    spec = _spec("anhui-2023-jinzhai-meili-dept")

    def goal(old, new):
        def edit(rows):
            rows[9][5] = rows[9][5].replace(old, new)
        wb = build_workbook(spec, tmp_path / f"{new}.xlsx", edit=edit)
        return [f for f in check_file(wb).findings if f.code == "goal_text"]

    assert not goal("村庄202个", "村庄202个")
    [f] = goal("村庄202个", "村庄203个")
    assert f.severity == WARNING and f.place == "Sheet1!F10"
    assert "203个" in f.message and "建设美丽宜居自然村庄数量" in f.message and "≥200" in f.message and "202" in f.message
    [f] = goal("改造3061户", "改造3016户")
    assert "3016户" in f.message and "3061" in f.message


def test_goal_text_count_in_another_unit_is_not_compared(tmp_path):
    """濉溪: “临时救助87人次” restates the 人次 indicator, not “受益建档立卡贫困人口数”(87人)."""
    spec = _spec("anhui-2019-suixi-linshijiuzhu")

    def edit(rows):
        rows[8][5] = rows[8][5].replace("87人次", "88人次")
    found = [f for f in check_file(build_workbook(spec, tmp_path / "t.xlsx", edit=edit)).findings
             if f.code == "goal_text"]
    assert len(found) == 1 and "人次数" in found[0].message and "87人次" in found[0].message


def test_weight_only_level1_labels_are_grouped_apart(reports):
    """历城: “(50分)”“(30分)” print no name; their rows are named from the 二级指标 (数量指标 → 产出指标) and not
    merged into one group (which gave “(50分)下各指标分值合计为 60”); the fund block with only 年初预算数(A) is read."""
    report = reports["shandong-2019-licheng-wenhuaguan"]
    assert not [f for f in report.findings if f.place.endswith("!B13") and f.severity == ERROR]
    [inferred] = [f for f in report.findings if f.code == "profile_inferred"]
    assert "资金分值 10" in inferred.message and "产出指标 50" in inferred.message


def test_no_fund_score_without_the_figures(reports):
    """稷山公卫: only one amount of the fund row survived the page (执行数 blank): nothing to recompute 10 × 执行率
    from, so no 资金得分 warning ("应为 0")."""
    assert not [f for f in reports["shanxi-2021-jishan-gongwei"].findings if f.code == "fund_score"]


def test_source_row_scored_differently_from_the_total(reports):
    """六安: “其中:当年财政拨款” repeats 分值 10 but prints 得分 8 against the total row's 9."""
    [f] = [f for f in reports["anhui-2021-luan-gonggongwenhua"].findings if f.code == "source_scored"]
    assert f.place == "Sheet1!I7" and f.severity == WARNING and "与该行的 9 不同" in f.message


def test_check_infers_the_fund20_profile(tmp_path):
    """隆阳: 资金 20 (得分 20×执行率) + 指标 80 in the block label, no 分值 column: read as fund20, no weight invented."""
    report = check_file(build_workbook(_spec("yunnan-2022-longyang-huafei"), tmp_path / "t.xlsx"))
    assert report.profile == "fund20"
    codes = {f.code for f in report.findings}
    assert "no_weights" in codes and not codes & {"weight_indicators", "total_mismatch", "fund_weight"}
    [fs] = [f for f in report.findings if f.code == "fund_score"]
    assert "2.16" in fs.message and "2.15" in fs.message          # 20 × 30/278.4449 = 2.155 → 2.15


def test_import_writes_a_derived_profile_that_checks_the_table(tmp_path, capsys):
    wb = build_workbook(_spec("sichuan-2022-zhongjiang-shuibiaochi"), tmp_path / "t.xlsx")
    out, prof = tmp_path / "d.yaml", tmp_path / "zhongjiang.yaml"
    code, stdout, _ = run(capsys, "import", str(wb), "-o", str(out), "--profile-out", str(prof))
    assert "最接近的“national”" in stdout and "已写出派生评分规则" in stdout
    derived = yaml.safe_load(prof.read_text(encoding="utf-8"))
    assert derived["extends"] == "national" and derived["id"] == "zhongjiang"
    assert derived["indicators"]["weight"] == 100 and derived["total"] == 110
    assert [(x["name"], x["weight"]) for x in derived["indicators"]["level1"]] == [
        ("产出指标", 70), ("效益指标", 20), ("满意度指标", 10)]
    report = check_file(wb, str(prof))
    codes = {f.code for f in report.findings}
    assert not codes & {"weight_indicators", "weight_level1"}            # the derived rules fit the table
    assert "total_weight_mismatch" in codes                              # 10 + 100 printed as 100 is still wrong


@pytest.mark.parametrize("arg, words", [("templates/profiles/national.yaml", "不接受文件路径"),
                                        ("no-such-profile", "没有评分规则")])
def test_build_refuses_a_path_or_an_unknown_profile(tmp_path, capsys, arg, words):
    code, _, err = run(capsys, "build", "-p", arg, "-o", str(tmp_path))
    assert code == 2 and words in err and "national" in err
    assert not list(tmp_path.iterdir())


# ----------------------------------------------------------------------------- other formats

def build_docx(spec: dict, out: Path, paragraphs: list[str]) -> Path:
    """A Word 自评报告: paragraphs, then the grid as a Word table with its merged cells (python-docx)."""
    import docx
    from openpyxl.utils import range_boundaries

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    rows = [list(r) if r else [] for r in spec["rows"]]
    width = max(len(r) for r in rows)
    table = document.add_table(rows=len(rows), cols=width)
    for m in spec.get("merges", []):
        c1, r1, c2, r2 = range_boundaries(m)
        table.cell(r1 - 1, c1 - 1).merge(table.cell(r2 - 1, c2 - 1))
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            if value is not None and table.cell(i, j).text == "":
                table.cell(i, j).text = str(value["pct"] * 100) + "%" if isinstance(value, dict) else \
                    (f"{value:g}" if isinstance(value, float) else str(value))
    document.save(str(out))
    return out


def test_word_report_table_is_checked_like_a_workbook(tmp_path):
    """山西吉县 as a Word 自评报告: the table's findings are those of the workbook; the text is compared too."""
    spec = _spec("shanxi-2020-jishan-jiandang")
    text = ["一、项目基本情况", "项目预算执行率为99%，自评得分为95分，评价等次为良。"]
    report = check_file(build_docx(spec, tmp_path / "自评报告.docx", text))
    book = check_file(build_workbook(spec, tmp_path / "t.xlsx"))
    assert report.kind == "Word 自评报告"
    assert {(f.code, f.place.replace("表1", "Sheet1")) for f in report.findings if f.code != "report_text"} == \
        {(f.code, f.place) for f in book.findings}
    stated = [f.message for f in report.findings if f.code == "report_text"]
    assert len(stated) == 2, stated                     # 99% = ROUND(65.07/65.66×100, 0) ✓
    assert any("总分 95 分" in m and "94" in m for m in stated)
    assert any("等次“良”" in m and "“优”" in m for m in stated)


@pytest.mark.libreoffice
def test_xls_and_et_are_read(tmp_path, soffice):
    from xlsx_engine.ooxml.recalc import convert_files

    wb = build_workbook(_spec("yunnan-2023-linxiang-shourongsuo"), tmp_path / "t.xlsx")
    xls = convert_files([wb], tmp_path / "xls", "xls", soffice=soffice)[wb]
    want = {(f.code, f.place, f.severity) for f in check_file(wb).findings}
    for suffix in (".xls", ".et"):                           # WPS's .et: the same BIFF workbook
        path = xls.rename(xls.with_suffix(suffix))
        report = check_file(path)
        got = {(f.code, f.place, f.severity) for f in report.findings}
        assert got - want == {("legacy_format", "", WARNING)} and not want - got, path
        assert exit_code([report]) == 1                     # 97.80% ≠ 31.69/32.4
        xls = path


def test_import_reads_the_table_of_a_word_report(tmp_path, capsys):
    """The Word table imports to the same data file as the workbook (cells are text in Word)."""
    spec = _spec("hebei-2019-langfang-nuantong")
    docx_out, xlsx_out = tmp_path / "d.yaml", tmp_path / "x.yaml"
    run(capsys, "import", str(build_docx(spec, tmp_path / "报告.docx", ["绩效自评报告"])), "-o", str(docx_out))
    run(capsys, "import", str(build_workbook(spec, tmp_path / "t.xlsx")), "-o", str(xlsx_out))
    from_docx, from_xlsx = (yaml.safe_load(p.read_text(encoding="utf-8")) for p in (docx_out, xlsx_out))
    assert from_docx["资金"] and len(from_docx["绩效指标"]) == 17
    from_docx.pop("其他信息"), from_xlsx.pop("其他信息")
    assert from_docx == from_xlsx
