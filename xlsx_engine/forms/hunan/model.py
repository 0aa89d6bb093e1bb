"""湖南财政支出项目绩效评价自评报告 (seed 000): profile, record and data-file loader.

The Hunan project form has no per-indicator 分值/得分 columns: the unit enters one
综合得分 and the 评价等次 follows from the profile's grade cut-points. The engine can
only record that total; it cannot derive or check it from the indicators
(docs/rules.md#hunan-project), and the sheet says so. What the form does let us compute and check —
fund totals by source, 结余 = 实际到位 − 实际支出, 支出明细合计 against 实际支出合计,
missing 指标值, 满意度 filed under 项目效益 — is laid out in :mod:`xlsx_engine.forms.hunan.layout`
with a Python twin for every formula.

Data files use Chinese keys (``templates/forms/DATA-hunan-project.md``); :func:`hnxm_record_from_data`
validates every field and raises one :class:`~xlsx_engine.errors.DataError` listing all problems.
"""

from __future__ import annotations

import datetime as _dt
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlsx_engine.forms.base import any_typed, field_of
from xlsx_engine.kernel.datafile import Cell, _amount, _number, _Problems, _text
from xlsx_engine.kernel.errors import DataError, ProfileError
from xlsx_engine.kernel.excel import ssum
from xlsx_engine.kernel.profiles import (
    PROFILE_DIR,
    Grade,
    grade_for,
    parse_grades,
    read_profile_yaml,
)
from xlsx_engine.kernel.xlmath import is_number, xround, xtext

HUNAN_PROFILE_DIR = PROFILE_DIR / "hunan"
FORM_TYPE = "湖南项目自评报告"
FUND_COLS = {"计划安排": "plan", "实际到位": "arrived", "实际支出": "spent"}
MAX_CELL_TEXT = 32767      #: the most characters an Excel cell holds


# ----------------------------------------------------------------------------- profile

@dataclass(frozen=True)
class HnLevel1:
    name: str
    level2: tuple[str, ...]
    satisfaction: bool = False


@dataclass(frozen=True)
class HunanProfile:
    """The rules of the Hunan project form (``templates/profiles/hunan/<id>.yaml``)."""

    id: str
    name: str
    source: str
    total: float
    eval_types: tuple[str, ...]
    fund_sources: tuple[str, ...]
    level1: tuple[HnLevel1, ...]
    grades: tuple[Grade, ...]
    digits: int = 2
    path: str = ""

    @property
    def level1_names(self) -> tuple[str, ...]:
        return tuple(l1.name for l1 in self.level1)

    @property
    def level2_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n for l1 in self.level1 for n in l1.level2))

    @property
    def level_pairs(self) -> tuple[str, ...]:
        return tuple(f"{l1.name}·{l2}" for l1 in self.level1 for l2 in l1.level2)

    @property
    def satisfaction_level1(self) -> str | None:
        return next((l1.name for l1 in self.level1 if l1.satisfaction), None)

    @property
    def satisfaction_level2(self) -> tuple[str, ...]:
        return tuple(n for l1 in self.level1 if l1.satisfaction for n in l1.level2)

    @property
    def other_level1(self) -> tuple[str, ...]:
        """The level-1 names under which a 满意度 indicator must not be filed."""
        return tuple(l1.name for l1 in self.level1 if not l1.satisfaction)

    def grade_for(self, score: float) -> str:
        return grade_for(self.grades, score)


def hunan_profile_ids() -> list[str]:
    return sorted(p.stem for p in HUNAN_PROFILE_DIR.glob("*.yaml"))


@functools.lru_cache(maxsize=16)
def load_hunan_profile(name_or_path: str) -> HunanProfile:
    """Load a Hunan project profile by id or path.

    Raises:
        ProfileError: unknown id, malformed file, grades or indicator lists wrong.
    """
    data, where = read_profile_yaml(name_or_path, HUNAN_PROFILE_DIR, "湖南项目自评报告的评分规则")
    try:
        level1 = tuple(HnLevel1(str(x["name"]), tuple(str(n) for n in x.get("level2", [])),
                                bool(x.get("satisfaction", False))) for x in data["level1"])
        grades = parse_grades(data["grades"], where)
        prof = HunanProfile(str(data.get("id", Path(where).stem)), str(data.get("name", "")), str(data.get("source", "")),
                            float(data.get("total", 100)), tuple(str(t) for t in data["eval_types"]),
                            tuple(str(s) for s in data["fund_sources"]), level1, grades,
                            int(data.get("rounding", 2)), where)
    except (KeyError, TypeError, ValueError) as exc:
        raise ProfileError(f"缺少字段或字段格式错误：{exc}", where=where) from None
    if not grades or grades[-1].min != 0:
        raise ProfileError("等次的最低一档 min 应为 0", where=where)
    if len(set(prof.fund_sources)) != len(prof.fund_sources) or not prof.fund_sources:
        raise ProfileError("fund_sources 不能为空且不能重复", where=where)
    if len(prof.eval_types) < 1:
        raise ProfileError("eval_types 不能为空", where=where)
    sat = prof.satisfaction_level2
    if sum(1 for l1 in level1 if l1.satisfaction) > 1:
        raise ProfileError("只能有一个一级指标标记为 satisfaction", where=where)
    for l1 in level1:
        if not l1.satisfaction and set(l1.level2) & set(sat):
            raise ProfileError(f"满意度二级指标不能同时属于“{l1.name}”", where=where)
    return prof


# ----------------------------------------------------------------------------- record

@dataclass
class HnFund:
    """One fund-source row: 计划安排资金, 实际到位资金, 实际支出 (结余 is computed)."""

    source: str
    plan: Cell = None
    arrived: Cell = None
    spent: Cell = None


@dataclass
class HnExpense:
    item: Cell = None
    amount: Cell = None
    voucher: Cell = None
    note: Cell = None


@dataclass
class HnGoal:
    expected: Cell = None
    actual: Cell = None


@dataclass
class HnIndicator:
    level1: Cell = None
    level2: Cell = None
    name: Cell = None
    target: Cell = None
    actual: Cell = None


@dataclass
class HnEvaluator:
    name: Cell = None
    title: Cell = None
    unit: Cell = None


@dataclass
class HunanProjectRecord:
    """Everything a unit enters into the Hunan project report form, as cell values."""

    profile_id: str
    eval_type: Cell = None
    year: Cell = None
    project: Cell = None
    unit: Cell = None
    department: Cell = None
    eval_method: Cell = None
    eval_agency: Cell = None
    report_date: Cell = None
    bureau: Cell = None
    leader: Cell = None
    phone: Cell = None
    address: Cell = None
    postcode: Cell = None
    start: Cell = None
    end: Cell = None
    funds: list[HnFund] = field(default_factory=list)
    expenses: list[HnExpense] = field(default_factory=list)
    goals: list[HnGoal] = field(default_factory=list)
    indicators: list[HnIndicator] = field(default_factory=list)
    score: Cell = None
    score_note: Cell = None
    evaluators: list[HnEvaluator] = field(default_factory=list)
    filler: Cell = None
    filler_phone: Cell = None
    summary: dict[str, Cell] = field(default_factory=dict)      #: 综述 section -> text
    extra: dict = field(default_factory=dict)                   #: 其他信息 (narrative only)

    def fund(self, source: str) -> HnFund:
        for f in self.funds:
            if f.source == source:
                return f
        raise KeyError(source)


def hnxm_unfilled(rec: HunanProjectRecord, sent: tuple = ()) -> bool:
    """The Hunan form's 待填报 (:meth:`~xlsx_engine.forms.base.Form.unfilled`): none of what the unit reports is
    typed — no 实际到位 or 实际支出 of any fund source, no 支出明细 row (支出内容 or 实际支出数), no 实际完成 of a
    定性目标, no 实际完成值 of a 定量指标 and no 综合得分. What a bureau may set when it sends the form (the cover,
    计划安排, 预期目标, the indicators and their 指标值) and free text (得分说明, 评价人员, the 评价报告综述 that
    ``jxzp fill`` writes) do not count; ``sent`` is not used (no master sends these forms)."""
    return not any_typed((*(v for f in rec.funds for v in (f.arrived, f.spent)),
                          *(v for e in rec.expenses for v in (e.item, e.amount)),
                          *(g.actual for g in rec.goals), *(i.actual for i in rec.indicators), rec.score))


def hnxm_figures(rec: HunanProjectRecord | dict) -> tuple[float | None, float | None, float | None]:
    """The project's (预算数, 执行数, 执行率) as the 汇总表 and the archive keep them
    (:meth:`~xlsx_engine.forms.base.Form.figures`): the 计划安排资金 and 实际支出 of all fund sources and their ratio —
    the project form's 执行率 (全年执行数 ÷ 全年预算数), not this form's 支出率 (实际支出 ÷ 实际到位). The 执行数 is None
    until a 实际支出 is entered, the 预算数 while no 计划安排 is; the 执行率 then, and when the 预算数 is 0. ``rec``: a
    record or the archive's dict of its inputs."""
    funds = field_of(rec, "funds") or []
    plans = [field_of(f, "plan") for f in funds]
    spents = [field_of(f, "spent") for f in funds]
    budget = ssum(plans) if any(is_number(v) for v in plans) else None
    spent = ssum(spents) if any(is_number(v) for v in spents) else None
    rate = spent / budget if budget is not None and spent is not None and budget > 0 else None
    return budget, spent, rate


# ----------------------------------------------------------------------------- data files

TOP_FIELDS = ("类型", "评分规则", "评价类型", "年度", "项目名称", "项目单位", "主管部门", "评价方式", "评价机构",
              "报告日期", "制表单位", "项目负责人", "联系电话", "项目地址", "邮编", "项目起止时间", "资金", "支出明细",
              "支出合计", "定性目标", "定量指标", "综合得分", "评价等次", "得分说明", "评价人员", "填报人", "填报人电话",
              "评价报告综述", "其他信息")
EXPENSE_FIELDS = {"支出内容": "item", "实际支出数": "amount", "会计凭证号": "voucher", "备注": "note"}
GOAL_FIELDS = {"预期目标": "expected", "实际完成": "actual"}
INDICATOR_FIELDS = {"一级指标": "level1", "二级指标": "level2", "指标内容": "name", "指标值": "target",
                    "实际完成值": "actual"}
EVALUATOR_FIELDS = {"姓名": "name", "职称职务": "title", "单位": "unit"}
EVAL_TYPE_ALIASES = {"实施过程": "项目实施过程评价", "项目实施过程": "项目实施过程评价", "实施过程评价": "项目实施过程评价",
                     "完成结果": "项目完成结果评价", "项目完成结果": "项目完成结果评价", "完成结果评价": "项目完成结果评价"}


@dataclass(frozen=True)
class RowCounts:
    """How many rows of each table the template has (from templates/forms/hunan-project.yaml)."""

    indicators: int = 20
    goals: int = 3
    expenses: int = 10
    evaluators: int = 5
    sections: tuple[str, ...] = ()


def _code(value: Any) -> Cell:
    """Phone numbers and post codes: digits stay text (YAML reads 414300 as a number)."""
    if isinstance(value, bool):
        return _text(value)
    if isinstance(value, int) or (isinstance(value, float) and value == int(value)):
        return str(int(value))
    return _text(value)


def _date_text(value: Any, where: str, pr: _Problems) -> Cell:
    if isinstance(value, (_dt.date, _dt.datetime)):
        d = value.date() if isinstance(value, _dt.datetime) else value
        return f"{d.year}年{d.month}月{d.day}日"
    if value is None or value == "":
        return None
    if is_number(value):
        pr.add(where, f"应为日期（如 2022年8月16日），实际为“{value}”")
        return None
    return _text(value)


def _rows(raw: Any, where: str, fields: dict[str, str], cls, limit: int, pr: _Problems,
          one_key: str | None = None) -> list:
    """A list of mappings (or, when ``one_key`` is given, plain texts) as dataclass rows."""
    if raw is None or raw == "":
        return []
    if isinstance(raw, (str, dict)):
        raw = [raw]
    if not isinstance(raw, list):
        pr.add(where, "应为列表（每项一行）")
        return []
    if len(raw) > limit:
        pr.add(where, f"共 {len(raw)} 项，超过模板的 {limit} 行")
    out = []
    for i, item in enumerate(raw[:limit], 1):
        at = f"{where}第{i}项"
        if isinstance(item, str) and one_key:
            out.append(cls(**{fields[one_key]: _text(item)}))
            continue
        if not isinstance(item, dict):
            pr.add(at, f"应为“字段: 值”的结构（字段：{'、'.join(fields)}）")
            continue
        for key in item:
            if key not in fields:
                pr.add(at, f"未知字段“{key}”（可用：{'、'.join(fields)}）")
        out.append(cls(**{attr: item.get(key) for key, attr in fields.items()}))
    return out


def hnxm_record_from_data(data: dict, profile: HunanProfile, source: str = "数据文件",
                          rows: RowCounts = RowCounts()) -> HunanProjectRecord:
    """Validate a Hunan project data mapping (documented in templates/forms/DATA-hunan-project.md).

    Printed totals (``资金.合计``, per-source ``结余``, ``支出合计``, ``评价等次``) are optional; when given they
    must equal what the sheet computes, so a transcription of a printed report proves its arithmetic.

    Raises:
        DataError: listing every problem with its field.
    """
    pr = _Problems()
    if not isinstance(data, dict):
        raise DataError("数据文件的最外层应为“字段: 值”的结构", where=source)
    for key in data:
        if key not in TOP_FIELDS:
            pr.add(f"字段“{key}”", f"未知字段（可用：{'、'.join(TOP_FIELDS)}）")
    kind = data.get("类型")
    if kind not in (None, "", FORM_TYPE):
        pr.add("类型", f"应为“{FORM_TYPE}”，实际为“{kind}”")
    pid = data.get("评分规则")
    if pid not in (None, "") and pid != profile.id:
        pr.add("评分规则", f"数据文件要求“{pid}”，但模板使用“{profile.id}”")
    rec = HunanProjectRecord(profile.id)
    for key, attr in (("项目名称", "project"), ("项目单位", "unit"), ("主管部门", "department"),
                      ("评价方式", "eval_method"), ("评价机构", "eval_agency"), ("制表单位", "bureau"),
                      ("项目负责人", "leader"), ("项目地址", "address"), ("填报人", "filler"), ("得分说明", "score_note")):
        setattr(rec, attr, _text(data.get(key)))
        if is_number(getattr(rec, attr)):
            setattr(rec, attr, xtext(getattr(rec, attr)))
    rec.phone, rec.postcode, rec.filler_phone = (_code(data.get("联系电话")), _code(data.get("邮编")),
                                                 _code(data.get("填报人电话")))
    rec.report_date = _date_text(data.get("报告日期"), "报告日期", pr)
    et = data.get("评价类型")
    if et not in (None, ""):
        et = EVAL_TYPE_ALIASES.get(str(et).strip(), str(et).strip())
        if et not in profile.eval_types:
            pr.add("评价类型", f"“{data.get('评价类型')}”无效（应为：{'、'.join(profile.eval_types)}；未勾选则不写）")
        else:
            rec.eval_type = et
    year = data.get("年度")
    if year not in (None, ""):
        y = _number(year, "年度", pr)
        if is_number(y) and not (1990 <= y <= 2100 and y == int(y)):
            pr.add("年度", f"应为四位年份，实际为“{year}”")
        else:
            rec.year = y
    period = data.get("项目起止时间")
    if isinstance(period, dict):
        for key in period:
            if key not in ("开始", "结束"):
                pr.add(f"项目起止时间.{key}", "未知字段（可用：开始、结束）")
        rec.start, rec.end = (_date_text(period.get("开始"), "项目起止时间.开始", pr),
                              _date_text(period.get("结束"), "项目起止时间.结束", pr))
    elif period not in (None, ""):
        pr.add("项目起止时间", "应写作 {开始: 2021年1月, 结束: 2021年12月}")

    # --- funds
    funds = data.get("资金") or {}
    if not isinstance(funds, dict):
        pr.add("资金", "应为“资金来源: {计划安排, 实际到位, 实际支出}”的结构")
        funds = {}
    printed: dict[str, dict] = {}
    for key in funds:
        if key not in profile.fund_sources and key != "合计":
            pr.add(f"资金.{key}", f"未知资金来源（应为：{'、'.join(profile.fund_sources)}，或 合计）")
    for src in (*profile.fund_sources, "合计"):
        raw = funds.get(src) or {}
        if not isinstance(raw, dict):
            pr.add(f"资金.{src}", "应为 {计划安排, 实际到位, 实际支出, 结余} 的结构")
            continue
        line = HnFund(src)
        for key, value in raw.items():
            if key == "结余":
                printed.setdefault(src, {})[key] = _amount_signed(value, f"资金.{src}.结余", pr)
            elif key not in FUND_COLS:
                pr.add(f"资金.{src}.{key}", f"未知字段（可用：{'、'.join(FUND_COLS)}、结余）")
            elif src == "合计":
                printed.setdefault(src, {})[key] = _amount(value, f"资金.合计.{key}", pr)
            else:
                setattr(line, FUND_COLS[key], _amount(value, f"资金.{src}.{key}", pr))
        if src != "合计":
            rec.funds.append(line)
    sums = {attr: sum(float(getattr(f, attr)) for f in rec.funds if is_number(getattr(f, attr)))
            for attr in FUND_COLS.values()}
    for key, attr in FUND_COLS.items():
        given = printed.get("合计", {}).get(key)
        if is_number(given) and xround(given - sums[attr], 2) != 0:
            pr.add(f"资金.合计.{key}", f"填写 {xtext(given)}，各来源之和为 {xtext(xround(sums[attr], 2))}（表中合计由公式计算）")
    for src in (*profile.fund_sources, "合计"):
        given = printed.get(src, {}).get("结余")
        if not is_number(given):
            continue
        if src == "合计":
            computed = sums["arrived"] - sums["spent"]
        else:
            f = rec.fund(src)
            computed = (float(f.arrived) if is_number(f.arrived) else 0.0) - (float(f.spent) if is_number(f.spent) else 0.0)
        if xround(given - computed, 2) != 0:
            pr.add(f"资金.{src}.结余", f"填写 {xtext(given)}，实际到位−实际支出为 {xtext(xround(computed, 2))}"
                                     "（结余由公式计算）")

    # --- 支出明细
    rec.expenses = _rows(data.get("支出明细"), "支出明细", EXPENSE_FIELDS, HnExpense, rows.expenses, pr)
    for i, e in enumerate(rec.expenses, 1):
        e.item, e.voucher, e.note = _text(e.item), _code(e.voucher), _text(e.note)
        e.amount = _amount(e.amount, f"支出明细第{i}项 实际支出数", pr)
        if e.item is None and e.amount is not None:
            pr.add(f"支出明细第{i}项", "缺支出内容")
    printed_total = data.get("支出合计")
    if printed_total not in (None, ""):
        t = _amount(printed_total, "支出合计", pr)
        detail = sum(float(e.amount) for e in rec.expenses if is_number(e.amount))
        if is_number(t) and xround(t - detail, 2) != 0:
            pr.add("支出合计", f"填写 {xtext(t)}，支出明细之和为 {xtext(xround(detail, 2))}（表中支出合计由公式计算）")

    # --- goals and indicators
    rec.goals = _rows(data.get("定性目标"), "定性目标", GOAL_FIELDS, HnGoal, rows.goals, pr, one_key="预期目标")
    for g in rec.goals:
        g.expected, g.actual = _text(g.expected), _text(g.actual)
    rec.indicators = _rows(data.get("定量指标"), "定量指标", INDICATOR_FIELDS, HnIndicator, rows.indicators, pr)
    for i, ind in enumerate(rec.indicators, 1):
        at = f"定量指标第{i}项"
        for attr in ("level1", "level2", "name", "target", "actual"):
            setattr(ind, attr, _text(getattr(ind, attr)))
        if ind.name is None:
            pr.add(at, "缺指标内容")
        if ind.level1 is None:
            pr.add(at, "缺一级指标")
        elif ind.level1 not in profile.level1_names:
            pr.add(f"{at} 一级指标", f"“{ind.level1}”不在规则中（应为：{'、'.join(profile.level1_names)}）")
        elif ind.level2 is None:
            pr.add(at, "缺二级指标")
        elif f"{ind.level1}·{ind.level2}" not in profile.level_pairs and ind.level2 not in profile.satisfaction_level2:
            allowed = next(l1.level2 for l1 in profile.level1 if l1.name == ind.level1)
            pr.add(f"{at} 二级指标", f"“{ind.level2}”不属于“{ind.level1}”（应为：{'、'.join(allowed)}）")
        # 满意度 filed under another level-1 (as seed 000 prints it) is accepted and flagged on the sheet

    # --- score
    s = data.get("综合得分")
    if s not in (None, ""):
        rec.score = _number(s, "综合得分", pr)
        if is_number(rec.score) and rec.score > profile.total:
            pr.add("综合得分", f"不能超过满分 {xtext(profile.total)}（实际 {xtext(rec.score)}）")
            rec.score = None
    grade = data.get("评价等次")
    if grade not in (None, ""):
        if not is_number(rec.score):
            pr.add("评价等次", "填写了评价等次但没有综合得分（等次由综合得分按规则计算）")
        elif str(grade).strip() != profile.grade_for(rec.score):
            pr.add("评价等次", f"填写“{grade}”，综合得分 {xtext(rec.score)} 按规则应为“{profile.grade_for(rec.score)}”")

    rec.evaluators = _rows(data.get("评价人员"), "评价人员", EVALUATOR_FIELDS, HnEvaluator, rows.evaluators, pr)
    for e in rec.evaluators:
        e.name, e.title, e.unit = _text(e.name), _text(e.title), _text(e.unit)

    summary = data.get("评价报告综述")
    if summary is False:
        rec.summary = {name: None for name in rows.sections}
    elif isinstance(summary, dict):
        for key, value in summary.items():
            if rows.sections and key not in rows.sections:
                pr.add(f"评价报告综述.{key}", f"未知小节（可用：{'、'.join(rows.sections)}）")
                continue
            text = "\n".join(str(v) for v in value) if isinstance(value, list) else _text(value)
            if isinstance(text, str) and len(text) > MAX_CELL_TEXT:
                pr.add(f"评价报告综述.{key}", f"共 {len(text)} 字，超过单元格上限 {MAX_CELL_TEXT} 字")
                continue
            rec.summary[key] = text
    elif summary not in (None, ""):
        pr.add("评价报告综述", "应为“小节: 文字”的结构；写 false 表示不生成")
    extra = data.get("其他信息") or {}
    if not isinstance(extra, dict):
        pr.add("其他信息", "应为“字段: 值”的结构")
        extra = {}
    rec.extra = extra
    if pr.items:
        raise DataError(f"数据文件有 {len(pr.items)} 处问题，未生成文件", where=source, problems=pr.items)
    return rec


def _amount_signed(value: Any, where: str, pr: _Problems) -> Cell:
    """A printed 结余: may be negative (over-spending)."""
    if value is None or value == "":
        return None
    if is_number(value):
        return float(value)
    try:
        return float(str(value).replace("万元", "").strip())
    except ValueError:
        pr.add(where, f"应为数字（单位：万元），实际为“{value}”")
        return None
