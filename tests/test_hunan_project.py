"""湖南财政支出项目绩效评价自评报告 (form hnxm, seed 000): template, data files, checks, LibreOffice proof."""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import openpyxl
import pytest
import yaml
from engines import same_cell

from xlsx_engine.cli.main import main
from xlsx_engine.forms.hunan.data import load_hnxm_data
from xlsx_engine.forms.hunan.layout import (
    MSG,
    HunanLayout,
    hunan_layout,
    row_message,
    sat_message,
    type_display,
)
from xlsx_engine.forms.hunan.model import (
    HnExpense,
    HnFund,
    HnGoal,
    HnIndicator,
    HunanProjectRecord,
    hnxm_record_from_data,
    load_hunan_profile,
)
from xlsx_engine.forms.registry import build_all, form_for, forms, open_template
from xlsx_engine.kernel.errors import DataError, TemplateError
from xlsx_engine.kernel.excel import ALLOWED_FUNCTIONS, functions_used
from xlsx_engine.narrative.department import complete_record
from xlsx_engine.ooxml.builder import INPUT_FILL, TEMPLATE_DIR, render
from xlsx_engine.ooxml.reader import open_workbook
from xlsx_engine.ooxml.recalc import read_values
from xlsx_engine.ooxml.sheetmodel import FORMULA, INPUT, LABEL

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "tests" / "data" / "hunan" / "seed000.yaml"
TEMPLATE = TEMPLATE_DIR / "hnxm-hunan-project.xlsx"
P = load_hunan_profile("hunan-project")
L = hunan_layout("hunan-project")


def seed_data() -> dict:
    return yaml.safe_load(SEED.read_text(encoding="utf-8"))


def seed_record(**changes) -> HunanProjectRecord:
    data = seed_data()
    data.update(changes)
    return hnxm_record_from_data(data, P, str(SEED), L.row_counts)


# ----------------------------------------------------------------------------- 1. the template

def test_form_is_registered_and_built():
    form = form_for("hnxm-hunan-project")
    assert form.prefix == "hnxm" and form.profile_ids() == ["hunan-project"]
    assert isinstance(form.layout("hunan-project"), HunanLayout)
    assert [f.prefix for f in forms()].count("hnxm") == 1


def test_shipped_template_is_reproducible(tmp_path):
    assert render(L) == TEMPLATE.read_bytes(), "templates/hnxm-hunan-project.xlsx is stale: run jxzp build"
    assert render(L) == render(L)
    assert main(["build", "-o", str(tmp_path), "-p", "hunan-project"]) == 0
    assert (tmp_path / "hnxm-hunan-project.xlsx").read_bytes() == TEMPLATE.read_bytes()
    assert [p.name for p in build_all(tmp_path / "all", ["hunan-project"])] == ["hnxm-hunan-project.xlsx"]


def test_formulas_are_allowlisted_and_every_formula_has_a_twin():
    formulas = [c for c in L.cells.values() if c.role == FORMULA]
    assert len(formulas) >= 55
    used = set()
    for cell in formulas:
        assert cell.twin is not None, cell.ref
        assert functions_used(cell.formula) <= ALLOWED_FUNCTIONS, (cell.ref, cell.formula)
        used |= functions_used(cell.formula)
    assert {"SUM", "SUMPRODUCT", "ROUND", "IF", "ISNUMBER", "LEN", "FIND"} <= used


def test_locked_unlocked_and_protected():
    wb = openpyxl.load_workbook(TEMPLATE)
    ws = wb[L.sheet]
    inputs = [ref for ref, c in L.cells.items() if c.role == INPUT]
    assert len(inputs) > 150
    for ref in inputs:
        assert ws[ref].protection.locked is False, ref
        assert ws[ref].fill.fgColor.rgb[-6:] == INPUT_FILL, ref
    for ref, c in L.cells.items():
        if c.role in (FORMULA, LABEL):
            assert ws[ref].protection.locked is True, ref
        if c.role == FORMULA:
            assert ws[ref].value == c.formula
    assert ws.protection.sheet is True and ws.protection.password
    assert wb[L.form.dictionary_sheet].sheet_state == "hidden"
    with zipfile.ZipFile(TEMPLATE) as zf:
        names = zf.namelist()
        assert not any(n.endswith(".bin") for n in names)
        assert b"lockStructure" in zf.read("xl/workbook.xml")
    meta = open_workbook(TEMPLATE).meta
    assert meta["模板编号"] == "hnxm-hunan-project" and meta["版式指纹"] == L.fingerprint()


def test_sheet_has_every_section_of_seed000_and_says_it_cannot_derive_the_score():
    labels = {c.value for c in L.cells.values() if c.role == LABEL}
    for text in ("一、项目基本概况", "二、项目支出明细情况", "三、项目绩效自评情况", "四、评价人员",
                 "五、评价报告综述（文字部分）", "项目负责人", "联系电话", "项目地址", "邮编", "项目起止时间",
                 "计划安排资金", "实际到位资金", "实际支出", "结余（实际到位−实际支出）", "其中：中央财政", "省财政", "市财政",
                 "县市区财政", "其它", "支出内容", "实际支出数", "会计凭证号", "备注", "支出合计", "预期目标", "实际完成",
                 "一级指标", "二级指标", "指标内容", "指标（目标）值", "实际完成值", "绩效自评综合得分", "评价等次",
                 "姓名", "职称/职务", "签字", "评价类型", "评价方式", "评价机构", "报告日期", "（制）"):
        assert text in labels, text
    assert any("无法由各指标推算或核对得分" in str(t) for t in labels)
    for sec in ("项目基本概况", "项目资金使用及管理情况", "项目组织实施情况", "综合评价情况及评价结论",
                "项目主要绩效情况分析", "主要经验及做法、存在问题和建议"):
        assert L.cells[L.summary_cells[sec]].role == INPUT
    # 评价类型 is a dropdown of the two boxes; 一级/二级指标 dropdowns; 综合得分 limited to 0–100
    lists = {v.sqref: v.formula1 for v in L.validations if v.type == "list"}
    assert lists["B3"] == "列表_评价类型"
    assert [L.dict_cells[f"A{k}"] for k in (2, 3)] == ["项目实施过程评价", "项目完成结果评价"]
    score = next(v for v in L.validations if v.title == "绩效自评综合得分")
    assert (score.formula1, score.formula2) == ("0", "100")


# ----------------------------------------------------------------------------- 2. seed 000

def test_seed000_arithmetic_checks_pass():
    rec = load_hnxm_data(SEED, P)
    _padded, r = L.evaluate(rec)
    assert round(15761.30 + 7276 + 5508, 2) == 28545.30
    assert (r.plan, r.arrived, r.spent) == (28545.3, 28545.3, 28545.3)
    assert r.balance == 0 and r.balances == [0.0] * 5
    assert r.expense_total == 28545.3 == round(26217.70 + 2327.60, 2)
    assert r.expense_status == "与实际支出合计一致"
    assert r.arrival_rate == 1 and r.spend_rate == 1
    assert r.arrival_rates[2] == ""                   # 市财政: nothing entered: empty, not 100%
    arithmetic = r.checks[2:5]                          # 支出>到位 (total, by source), 支出明细≠实际支出
    assert arithmetic == ["", "", ""]


def test_seed000_flags_what_the_table_can_show():
    rec = load_hnxm_data(SEED, P)
    _padded, r = L.evaluate(rec)
    assert r.score == 98 and r.grade == "优"
    problems = r.problems
    assert "评价类型未勾选（应选择项目实施过程评价或项目完成结果评价）；" in problems
    assert r.type_display == "□项目实施过程评价　□项目完成结果评价"
    assert "综合得分98分低于满分100分，未填写得分说明（本表无分值/得分栏，扣分无法由指标推算）；" in problems
    assert "有16项定量指标缺指标（目标）值；" in problems
    assert "有2项服务对象满意度指标列在“项目产出指标”或“项目效益指标”下，应单列为一级指标“满意度指标”；" in problems
    assert r.row_messages[14] == sat_message(P) + MSG["no_target"]
    assert r.row_messages[0] == MSG["no_target"]
    assert r.verdict == "存在问题，请查看下方提示"
    # once the unit ticks a box, explains the 2 points and sets targets, only the 满意度 placement remains
    fixed = seed_data()
    fixed["评价类型"] = "完成结果"
    fixed["得分说明"] = "满意度调查样本不足，扣2分"
    for ind in fixed["定量指标"]:
        ind["指标值"] = "100%"
    r2 = L.evaluate(hnxm_record_from_data(fixed, P, "x", L.row_counts))[1]
    assert r2.type_display == "□项目实施过程评价　☑项目完成结果评价"
    assert r2.problems == ["有2项服务对象满意度指标列在“项目产出指标”或“项目效益指标”下，应单列为一级指标“满意度指标”；",
                           "有2行定量指标存在问题，见“提示”列；"]


def test_printed_totals_must_equal_the_sheet():
    data = seed_data()
    data["资金"]["合计"]["计划安排"] = 28545.31
    data["资金"]["省财政"]["结余"] = 1
    data["支出合计"] = 28545.00
    data["评价等次"] = "良"
    with pytest.raises(DataError) as err:
        hnxm_record_from_data(data, P, "seed", L.row_counts)
    text = str(err.value)
    assert "资金.合计.计划安排：填写 28545.31，各来源之和为 28545.3" in text
    assert "资金.省财政.结余：填写 1，实际到位−实际支出为 0" in text
    assert "支出合计：填写 28545，支出明细之和为 28545.3" in text
    assert "评价等次：填写“良”，综合得分 98 按规则应为“优”" in text


def test_bad_data_lists_every_problem():
    data = {"评价类型": "随便", "年度": "二〇二一", "奇怪": 1, "资金": {"乡镇财政": {"计划安排": 1},
                                                          "省财政": {"实际到位": "十万", "拨付": 3}},
            "支出明细": [{"支出内容": "甲", "实际支出数": -5}, "乙"],
            "定量指标": [{"一级指标": "产出指标", "指标内容": "x"}, {"一级指标": "项目产出指标", "二级指标": "经济效益指标",
                                                            "指标内容": "y"}, {"一级指标": "项目产出指标"}],
            "综合得分": 101, "评价报告综述": {"总结": "x"}}
    with pytest.raises(DataError) as err:
        hnxm_record_from_data(data, P, "bad.yaml", L.row_counts)
    text = str(err.value)
    for expected in ("字段“奇怪”", "评价类型：“随便”无效", "年度：应为数字", "资金.乡镇财政：未知资金来源",
                     "资金.省财政.实际到位：应为数字", "资金.省财政.拨付：未知字段", "支出明细第1项 实际支出数：金额不能为负数",
                     "支出明细第2项：应为“字段: 值”的结构", "定量指标第1项 一级指标：“产出指标”不在规则中",
                     "定量指标第2项 二级指标：“经济效益指标”不属于“项目产出指标”", "定量指标第3项：缺指标内容",
                     "综合得分：不能超过满分 100", "评价报告综述.总结：未知小节"):
        assert expected in text, expected
    too_many = {"定量指标": [{"一级指标": "项目产出指标", "二级指标": "数量指标", "指标内容": str(i)} for i in range(21)]}
    with pytest.raises(DataError, match="共 21 项，超过模板的 20 行"):
        hnxm_record_from_data(too_many, P, "x", L.row_counts)


def test_row_messages():
    def msg(**kw):
        return row_message(HnIndicator(**kw), P)
    assert msg() == ""
    assert msg(name="a") == MSG["no_level1"] + MSG["no_target"] + MSG["no_actual"]
    assert msg(level1="外星指标", name="a", target="1", actual="1") == MSG["bad_level1"]
    assert msg(level1="项目产出指标", name="a", target="1", actual="1") == MSG["no_level2"]
    assert msg(level1="项目产出指标", level2="社会效益指标", name="a", target="1", actual="1") == MSG["bad_level2"]
    assert msg(level1="满意度指标", level2="服务对象满意度指标", name="a", target="≥90%", actual="95%") == ""
    assert msg(level1="项目产出指标", level2="数量指标", target="≥95%", actual="≥95%") == \
        MSG["no_name"] + MSG["actual_is_target"]
    assert msg(level1="项目产出指标", level2="数量指标", name="a", target=95.0, actual=96.0) == ""
    assert type_display("项目实施过程评价", P) == "☑项目实施过程评价　□项目完成结果评价"


# ----------------------------------------------------------------------------- 3. fill, CLI, read back

def test_cli_fill_writes_the_summary_and_the_cached_values(tmp_path):
    out = tmp_path / "seed000.xlsx"
    assert main(["fill", str(TEMPLATE), str(SEED), "-o", str(out)]) == 0
    wb = open_workbook(out)
    v = lambda ref: wb.value(L.sheet, ref)  # noqa: E731
    assert wb.name_value("计划安排资金") == 28545.3 and wb.name_value("支出合计") == 28545.3
    assert wb.name_value("评价等次") == "优" and wb.name_value("综合得分") == 98
    assert wb.name_value("校验结论") == "存在问题，请查看下方提示"
    money = v(L.summary_cells["项目资金使用及管理情况"])
    assert "实际支出28545.3万元" in money and "与实际支出合计一致" in money
    assert "扣分原因：（待补充扣分原因）" in v(L.summary_cells["综合评价情况及评价结论"])
    # the record read back cell by cell equals what was filled
    rec = complete_record(load_hnxm_data(SEED, P), P)
    padded, result = L.evaluate(rec)
    back = L.record_from_cells(v)
    back.extra = rec.extra                      # 其他信息 feeds the narrative only; it is not on the sheet
    assert L.padded(back) == padded
    for ref, value in L.formula_values(result, padded).items():
        assert v(ref) == (value if value != "" else None), ref


def test_summary_can_be_left_blank_and_unit_text_is_kept(tmp_path):
    data = seed_data()
    data["评价报告综述"] = False
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    rec = complete_record(load_hnxm_data(tmp_path / "a.yaml", P), P)
    assert set(rec.summary.values()) == {None}
    data["评价报告综述"] = {"项目基本概况": "单位自己写的概况。"}
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    rec = complete_record(load_hnxm_data(tmp_path / "b.yaml", P), P)
    assert rec.summary["项目基本概况"] == "单位自己写的概况。"
    assert "28545.3" in rec.summary["项目资金使用及管理情况"]


def test_altered_template_is_refused(tmp_path):
    wb = openpyxl.load_workbook(TEMPLATE)
    wb[L.sheet]["C13"] = "=SUM(C14:C17)"            # a unit "fixes" the total to skip 其它
    wb.save(tmp_path / "t.xlsx")
    with pytest.raises(TemplateError, match="公式与版式不一致|版式指纹"):
        open_template(tmp_path / "t.xlsx")


# ----------------------------------------------------------------------------- 4. LibreOffice proof

TEXTS = ["", None, "某", "十万", "≥95%", "100%", "满意度100%", "=8个", "及时"]


def generated(seed: int) -> HunanProjectRecord:
    rng = random.Random(seed)
    amount = lambda: rng.choice([None, 0.0, 0.1, 0.2, 0.3, 12.5, 7276.0, 15761.3, 1e-3, "十万",  # noqa: E731
                                 round(rng.uniform(0, 30000), 2)])
    rec = HunanProjectRecord("hunan-project")
    rec.eval_type = rng.choice([None, "项目实施过程评价", "项目完成结果评价", "其他评价", 5.0])
    rec.project, rec.unit, rec.department = (rng.choice([None, f"项目{seed}"]), rng.choice([None, "单位"]),
                                             rng.choice([None, "主管"]))
    rec.year = rng.choice([None, 2021.0])
    for src in P.fund_sources:
        rec.funds.append(HnFund(src, amount(), amount(), amount()))
    if seed % 3 == 0:                       # balanced: 到位 = 计划, 支出 ≤ 到位
        for f in rec.funds:
            f.arrived = f.plan
            f.spent = f.plan if rng.random() < 0.7 else None
    n = rng.randrange(L.row_counts.expenses + 1)
    rec.expenses = [HnExpense(rng.choice([None, "支出甲", "支出乙"]), amount(), rng.choice([None, "凭证1"]))
                    for _ in range(n)]
    if seed % 4 == 0:                       # 支出明细 equal to 实际支出合计
        spent = sum(f.spent for f in rec.funds if isinstance(f.spent, float))
        rec.expenses = [HnExpense("全部支出", round(spent, 2))]
    rec.goals = [HnGoal(rng.choice([None, "目标"]), rng.choice([None, "完成"])) for _ in range(rng.randrange(4))]
    level1 = list(P.level1_names) + [None, "其他指标", 3.0]
    level2 = list(P.level2_names) + [None, 7.0]
    rec.indicators = [HnIndicator(rng.choice(level1), rng.choice(level2), rng.choice([None, "指标"]),
                                  rng.choice(TEXTS + [95.0]), rng.choice(TEXTS + [96.0]))
                      for _ in range(rng.randrange(L.row_counts.indicators + 1))]
    if seed % 5 == 0:                       # 满意度 under 项目效益 as in seed 000
        rec.indicators[:1] = [HnIndicator("项目效益指标", "服务对象满意度指标", "满意度", "≥90%", "95%")]
    rec.score = rng.choice([None, 98.0, 100.0, 0.0, 89.99, 90.0, 80.0, 59.5, -1.0, 100.5, "九十"])
    rec.score_note = rng.choice([None, "扣分原因"])
    return rec


@pytest.mark.libreoffice
def test_engines_equal_python(engine, tmp_path):
    tpl = open_template(TEMPLATE)
    items = []
    for seed in range(48):
        rec = generated(seed)
        path = tmp_path / f"h{seed:03d}.xlsx"
        tpl.fill_to(rec, path)
        items.append((path, rec))
    seed_rec = complete_record(load_hnxm_data(SEED, P), P)
    tpl.fill_to(seed_rec, tmp_path / "seed000.xlsx")
    items.append((tmp_path / "seed000.xlsx", seed_rec))
    mapping = engine.recalc([p for p, _ in items], tmp_path / "recalc")
    bad, compared, texts = [], 0, set()
    for path, rec in items:
        calc = read_values(mapping[path])[tpl.layout.sheet]
        padded, result = tpl.evaluate(rec)
        for ref, value in tpl.layout.formula_values(result, padded).items():
            got = calc.get(ref)
            compared += 1
            if isinstance(value, str):
                texts.add(value)
            if not same_cell(value, got):
                bad.append(f"{path.name} {ref}: python={value!r} {engine.name}={got!r}")
    assert not bad, f"{engine.name}: {len(bad)} of {compared} formula cells differ:\n" + "\n".join(bad[:10])
    assert compared >= 49 * 55
    # the generated books exercise every message and check (so a broken twin cannot hide)
    joined = "\n".join(texts)
    for fragment in ("评价类型未勾选", "评价类型应从下拉列表选择", "未填写；", "大于实际到位资金合计", "个资金来源实际支出大于",
                     "≠实际支出合计", "综合得分缺失", "应为数字", "超出0–100", "未填写得分说明", "缺指标（目标）值",
                     "缺实际完成值", "应单列为一级指标", "定性目标", "见“提示”列", MSG["bad_level1"], MSG["bad_level2"],
                     MSG["no_level2"], MSG["actual_is_target"], "☑", "与实际支出合计一致", "不一致，相差"):
        assert fragment in joined, fragment



def test_profile_is_validated(tmp_path):
    from xlsx_engine.kernel.errors import ProfileError
    raw = yaml.safe_load((ROOT / "templates" / "profiles" / "hunan" / "hunan-project.yaml").read_text(encoding="utf-8"))
    bad = copy_with(raw, grades=[{"label": "优", "min": 90}, {"label": "差", "min": 10}])
    with pytest.raises(ProfileError, match="最低一档 min 应为 0"):
        load_hunan_profile(str(write(tmp_path / "a.yaml", bad)))
    bad = copy_with(raw, level1=raw["level1"][:1] + [{"name": "项目效益指标", "level2": ["服务对象满意度指标"]}]
                    + raw["level1"][2:])
    with pytest.raises(ProfileError, match="满意度二级指标不能同时属于“项目效益指标”"):
        load_hunan_profile(str(write(tmp_path / "b.yaml", bad)))
    with pytest.raises(ProfileError, match="找不到"):
        load_hunan_profile("no-such-profile")


def copy_with(raw: dict, **changes) -> dict:
    out = dict(raw)
    out.update(changes)
    return out


def write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path
