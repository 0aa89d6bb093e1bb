"""The project record: what one filled 项目支出绩效自评表 holds, cell by cell.

Values follow spreadsheet semantics: a number is a ``float``, text is a ``str``,
an empty cell is ``None``. The scorer treats them exactly as the template's
formulas do, so a record read back from a workbook (where a unit may have typed
text into a number cell) scores the same in Python and in Excel.

:func:`load_data` reads the documented YAML/JSON data file (``docs`` in
``templates/forms/DATA.md``) and validates every field, collecting all problems
into one :class:`~xlsx_engine.errors.DataError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlsx_engine.forms.base import cell_value
from xlsx_engine.forms.project.profile import Profile
from xlsx_engine.kernel.datafile import (
    Cell,
    _amount,
    _number,
    _Problems,
    _text,
    read_data_file,
)
from xlsx_engine.kernel.errors import DataError
from xlsx_engine.kernel.statements import PROJECT_STATABLE
from xlsx_engine.kernel.targets import (
    DATE_UNIT,
    KIND_DEADLINE,
    OP_QUAL,
    OPERATORS,
    Target,
    TargetSyntaxError,
    date_number,
    looks_like_target,
    normalize_op,
    normalize_unit,
    parse_deadline,
    parse_quantity,
    parse_target,
)


@dataclass
class FundLine:
    """One fund source row (当年财政拨款...): 年初预算数, 全年预算数 (A), 全年执行数 (B)."""

    source: str
    initial: Cell = None
    budget: Cell = None
    spent: Cell = None


@dataclass
class Goal:
    expected: Cell = None
    actual: Cell = None


@dataclass
class IndicatorRow:
    """One row of the 绩效指标 table, as cell values."""

    level1: Cell = None
    level2: Cell = None
    name: Cell = None
    op: Cell = None
    target: Cell = None
    unit: Cell = None
    actual: Cell = None
    band: Cell = None
    weight: Cell = None
    manual: Cell = None
    reason: Cell = None

    def is_blank(self) -> bool:
        return all(v is None or v == "" for v in (self.name, self.weight, self.target, self.actual))


@dataclass
class ProjectRecord:
    """Everything a unit enters into one project table."""

    profile_id: str
    year: Cell = None
    project: Cell = None
    department: Cell = None
    unit: Cell = None
    funds: list[FundLine] = field(default_factory=list)
    rate_reason: Cell = None
    goals: list[Goal] = field(default_factory=list)
    target_score: Cell = None
    indicators: list[IndicatorRow] = field(default_factory=list)
    #: Free-form extra data for the narrative layer (项目负责人, 背景...), never written into cells.
    extra: dict = field(default_factory=dict)
    #: figures the report text states (报告所列), checked against the table (statements.py)
    stated: dict = field(default_factory=dict)

    def fund(self, source: str) -> FundLine:
        for line in self.funds:
            if line.source == source:
                return line
        raise KeyError(source)


# --------------------------------------------------------------------------- data files

TOP_FIELDS = {"评分规则", "年度", "项目名称", "主管部门", "实施单位", "资金", "执行率说明", "年度总体目标",
              "目标自评分", "绩效指标", "其他信息", "报告所列"}
FUND_FIELDS = {"年初预算数": "initial", "全年预算数": "budget", "全年执行数": "spent"}
GOAL_FIELDS = {"预期目标": "expected", "实际完成情况": "actual"}
INDICATOR_FIELDS = {"一级指标", "二级指标", "三级指标", "指标性质", "指标值", "度量单位", "实际完成值", "完成等级",
                    "分值", "自评分", "偏差原因", "偏差原因分析及改进措施"}


def _typed_percent(value: float, row: IndicatorRow) -> float:
    """An actual written with "%" ("95%") stored as a spreadsheet stores it when typed, so that the percent
    rule (rules.PERCENT_ACTUAL, docs/rules.md#percent-actuals) reads it back as ``value`` percent."""
    fraction = value / 100
    scaled = isinstance(row.target, float) and row.target > 1 and 0 < fraction < 1
    return fraction if scaled else value


def _deadline_number(parsed: Target, year: Any, where: str, problems: _Problems) -> float | None:
    """A 时效 target as the yyyymmdd number the template compares (docs/rules.md#deadline-scoring)."""
    try:
        return date_number(parsed.deadline.date(int(year) if isinstance(year, float) else None))
    except ValueError:
        problems.add(f"{where} 指标值", f"“{parsed.text}”没有写年份，请填写“年度”或写明年份（如“2024年9月底前”）")
        return None


def _date_actual(actual: Any, year: Any) -> Any:
    """A 时效 row's 实际完成值 ("2023年10月", "2023-10-15", a date) as a yyyymmdd number; other text as typed."""
    d = parse_deadline(actual)
    if d is None:
        return str(actual)
    try:
        return date_number(d.date(int(year) if isinstance(year, float) else None))
    except ValueError:
        return str(actual)


def _indicator(raw: Any, where: str, profile: Profile, problems: _Problems, year: Any = None) -> IndicatorRow:
    if not isinstance(raw, dict):
        problems.add(where, "每个绩效指标应为“字段: 值”的结构")
        return IndicatorRow()
    for key in raw:
        if key not in INDICATOR_FIELDS:
            problems.add(where, f"未知字段“{key}”（可用字段：{'、'.join(sorted(INDICATOR_FIELDS))}）")
    row = IndicatorRow(
        level1=_text(raw.get("一级指标")), level2=_text(raw.get("二级指标")), name=_text(raw.get("三级指标")),
        reason=_text(raw.get("偏差原因", raw.get("偏差原因分析及改进措施"))),
    )
    if row.level1 is not None and row.level1 not in profile.level1_names:
        problems.add(where, f"一级指标“{row.level1}”不在规则“{profile.id}”中（应为：{'、'.join(profile.level1_names)}）")
    elif row.level2 is not None and f"{row.level1}·{row.level2}" not in profile.level_pairs:
        allowed = next((l1.level2 for l1 in profile.level1 if l1.name == row.level1), ())
        problems.add(where, f"二级指标“{row.level2}”不属于“{row.level1}”（应为：{'、'.join(allowed)}）")
    row.weight = _number(raw.get("分值"), f"{where} 分值", problems)
    if row.name is not None and row.weight is None and "分值" not in raw:
        problems.add(where, "缺少分值")
    op_raw, target_raw, unit_raw = raw.get("指标性质"), raw.get("指标值"), raw.get("度量单位")
    if op_raw not in (None, ""):
        op = normalize_op(str(op_raw))
        if op is None:
            problems.add(f"{where} 指标性质", f"“{op_raw}”无法识别（应为：{'、'.join(OPERATORS)}）")
            return row
        row.op = op
        if op == OP_QUAL:
            row.target = _text(target_raw)
        elif target_raw not in (None, ""):
            if isinstance(target_raw, (int, float)) and not isinstance(target_raw, bool):
                row.target = float(target_raw)
            else:
                try:
                    parsed = parse_target(f"{op}{target_raw}" if normalize_op(str(target_raw)[:1]) is None
                                          else target_raw)
                except TargetSyntaxError as exc:
                    problems.add(f"{where} 指标值", f"“{target_raw}”无法识别：{exc}")
                    return row
                if parsed.kind == KIND_DEADLINE:
                    row.op, row.target, row.unit = parsed.op, _deadline_number(parsed, year, where, problems), DATE_UNIT
                    unit_raw = DATE_UNIT
                elif parsed.value is None:
                    problems.add(f"{where} 指标值", f"指标性质为“{op}”时指标值应为数字，实际为“{target_raw}”")
                    return row
                else:
                    row.target = parsed.value
                    unit_raw = unit_raw or parsed.unit
        row.unit = normalize_unit(str(unit_raw)) if unit_raw not in (None, "") else None
    elif target_raw not in (None, ""):
        try:
            parsed = parse_target(target_raw)
        except TargetSyntaxError as exc:
            problems.add(f"{where} 指标值", f"“{target_raw}”无法识别：{exc}（可写作“≥95%”“≤90万元”“=8个”或文字目标）")
            return row
        row.op = parsed.op
        row.target = parsed.value if parsed.value is not None else _text(target_raw)
        unit = unit_raw if unit_raw not in (None, "") else parsed.unit
        if parsed.kind == KIND_DEADLINE:
            row.target, unit = _deadline_number(parsed, year, where, problems), DATE_UNIT
        row.unit = normalize_unit(str(unit)) if unit else None
    elif row.name is not None:
        problems.add(where, "缺少指标值")
    actual = raw.get("实际完成值")
    if actual is None or actual == "":
        row.actual = None
    elif row.unit == DATE_UNIT and row.op not in (None, OP_QUAL) and not isinstance(actual, (int, float)):
        row.actual = _date_actual(actual, year)
    elif isinstance(actual, (int, float)) and not isinstance(actual, bool):
        row.actual = float(actual)
    elif row.op not in (None, OP_QUAL) and not looks_like_target(actual):
        qty = parse_quantity(str(actual))
        if qty is not None and (not qty[1] or not row.unit or qty[1] == row.unit):
            row.actual = _typed_percent(qty[0], row) if qty[1] == "%" else qty[0]
        elif qty is not None:
            problems.add(f"{where} 实际完成值", f"单位“{qty[1]}”与指标的度量单位“{row.unit}”不一致")
        else:
            row.actual = str(actual)  # kept as typed; the workbook and the scorer flag it
    else:
        row.actual = str(actual)
    band = raw.get("完成等级")
    if band not in (None, ""):
        if row.op != OP_QUAL:
            problems.add(f"{where} 完成等级", "只有定性指标才填写完成等级")
        elif band not in [b.label for b in profile.bands]:
            problems.add(f"{where} 完成等级", f"“{band}”无效（应为：{'、'.join(b.label for b in profile.bands)}）")
        else:
            row.band = str(band)
    manual = raw.get("自评分")
    if manual not in (None, ""):
        if row.op != OP_QUAL:
            problems.add(f"{where} 自评分", "定量指标的得分由公式计算，不能填写自评分")
        else:
            row.manual = _number(manual, f"{where} 自评分", problems)
            if isinstance(row.manual, float) and isinstance(row.weight, float) and row.band is not None \
                    and not profile.in_band(row.band, row.weight, row.manual):
                low, high, incl = profile.band_bounds(row.band, row.weight)
                problems.add(f"{where} 自评分", f"{row.manual:g} 不在“{row.band}”档次的分数范围 "
                             f"[{low:g}, {high:g}{']' if incl else ')'} 内，请调整自评分或完成等级")
    return row


def record_from_data(data: dict, profile: Profile, *, source: str = "数据文件", max_rows: int | None = None
                     ) -> ProjectRecord:
    """Validate a data mapping against a profile and build a :class:`ProjectRecord`.

    Args:
        data: the mapping read from a YAML/JSON data file.
        profile: the profile of the template that will be filled.
        source: the file name, used in messages.
        max_rows: the template's number of indicator rows, if known.

    Raises:
        DataError: listing every problem found, each with its field and row.
    """
    problems = _Problems()
    for key in data:
        if key not in TOP_FIELDS:
            problems.add(f"字段“{key}”", f"未知字段（可用字段：{'、'.join(sorted(TOP_FIELDS))}）")
    prof = data.get("评分规则")
    if prof not in (None, "") and prof != profile.id:
        problems.add("评分规则", f"数据文件要求“{prof}”，但模板使用“{profile.id}”，请换用对应模板")
    rec = ProjectRecord(profile_id=profile.id, year=_text(data.get("年度")), project=_text(data.get("项目名称")),
                        department=_text(data.get("主管部门")), unit=_text(data.get("实施单位")),
                        rate_reason=_text(data.get("执行率说明")))
    if isinstance(rec.year, float) and not (1990 <= rec.year <= 2100 and rec.year == int(rec.year)):
        problems.add("年度", f"应为四位年份，实际为“{data.get('年度')}”")
    funds = data.get("资金") or {}
    if not isinstance(funds, dict):
        problems.add("资金", "应为“资金来源: {年初预算数, 全年预算数, 全年执行数}”的结构")
        funds = {}
    for key in funds:
        if key not in profile.fund_sources:
            problems.add(f"资金.{key}", f"未知资金来源（规则“{profile.id}”的来源为：{'、'.join(profile.fund_sources)}）")
    for source_name in profile.fund_sources:
        raw = funds.get(source_name) or {}
        line = FundLine(source_name)
        if not isinstance(raw, dict):
            problems.add(f"资金.{source_name}", "应为 {年初预算数, 全年预算数, 全年执行数} 的结构")
            raw = {}
        for key, value in raw.items():
            attr = FUND_FIELDS.get(key)
            if attr is None:
                problems.add(f"资金.{source_name}.{key}", f"未知字段（可用：{'、'.join(FUND_FIELDS)}）")
                continue
            setattr(line, attr, _amount(value, f"资金.{source_name}.{key}", problems))
        rec.funds.append(line)
    goals = data.get("年度总体目标") or []
    if isinstance(goals, (str, dict)):
        goals = [goals]
    for i, goal in enumerate(goals, 1):
        if isinstance(goal, str):
            rec.goals.append(Goal(goal))
            continue
        if not isinstance(goal, dict):
            problems.add(f"年度总体目标第{i}项", "应为文字或 {预期目标, 实际完成情况}")
            continue
        for key in goal:
            if key not in GOAL_FIELDS:
                problems.add(f"年度总体目标第{i}项", f"未知字段“{key}”（可用：预期目标、实际完成情况）")
        rec.goals.append(Goal(_text(goal.get("预期目标")), _text(goal.get("实际完成情况"))))
    ts = data.get("目标自评分")
    if ts not in (None, ""):
        if not profile.has_target_block:
            problems.add("目标自评分", f"规则“{profile.id}”没有项目绩效目标分，请删除此字段")
        else:
            rec.target_score = _number(ts, "目标自评分", problems)
            if isinstance(rec.target_score, float) and rec.target_score > profile.target_weight:
                problems.add("目标自评分", f"不能超过 {profile.target_weight:g} 分")
    indicators = data.get("绩效指标") or []
    if not isinstance(indicators, list):
        problems.add("绩效指标", "应为列表（每项一个指标）")
        indicators = []
    if max_rows is not None and len(indicators) > max_rows:
        problems.add("绩效指标", f"共 {len(indicators)} 项，超过模板的 {max_rows} 行")
    for i, raw in enumerate(indicators, 1):
        rec.indicators.append(_indicator(raw, f"绩效指标第{i}项", profile, problems, rec.year))
    _check_weights(rec, profile, problems)
    extra = data.get("其他信息") or {}
    rec.extra = extra if isinstance(extra, dict) else {"说明": extra}
    stated = data.get("报告所列") or {}
    if not isinstance(stated, dict):
        problems.add("报告所列", "应为“名称: 数值”的结构")
        stated = {}
    for key in stated:
        if key not in PROJECT_STATABLE:
            problems.add(f"报告所列.{key}", f"不能核对的项目（可核对：{'、'.join(PROJECT_STATABLE)}）")
    rec.stated = {k: v for k, v in stated.items() if k in PROJECT_STATABLE}
    if problems.items:
        raise DataError(f"数据文件有 {len(problems.items)} 处问题，未生成文件", where=source,
                        problems=problems.items)
    return rec


def _check_weights(rec: ProjectRecord, profile: Profile, problems: _Problems) -> None:
    weights = [r.weight for r in rec.indicators if isinstance(r.weight, float)]
    if not weights:
        return
    total = sum(weights)
    if abs(total - profile.indicator_weight) > 1e-6:
        problems.add("绩效指标 分值", f"合计为 {total:g}，规则“{profile.id}”要求绩效指标合计 {profile.indicator_weight:g}")
    for l1 in profile.level1:
        if l1.weight is None:
            continue
        got = sum(r.weight for r in rec.indicators if r.level1 == l1.name and isinstance(r.weight, float))
        if abs(got - l1.weight) > 1e-6:
            problems.add(f"绩效指标 {l1.name}", f"分值合计为 {got:g}，规则要求 {l1.weight:g}")


def load_data(path: str | Path, profile: Profile, *, max_rows: int | None = None) -> ProjectRecord:
    """Read and validate a data file for ``profile``. See :func:`record_from_data`."""
    return record_from_data(read_data_file(path), profile, source=str(path), max_rows=max_rows)


# ----------------------------------------------------------------------------- what the unit typed (待填报)

def typed_actuals(record: ProjectRecord) -> bool:
    """Whether any indicator row has a 实际完成值 or 完成等级."""
    return any(cell_value(r.actual) is not None or cell_value(r.band) is not None for r in record.indicators)


def spent_of(record: ProjectRecord) -> tuple:
    """The 全年执行数 of each fund source, as :func:`is_blank` compares them."""
    return tuple(cell_value(f.spent) for f in record.funds)


def is_blank(typed: bool, spent: tuple, sent_spent: tuple = ()) -> bool:
    """The project form's 待填报 (returned unfilled): no indicator has a 实际完成值 or 完成等级 (``typed`` is False)
    and every fund source's 全年执行数 is empty or the figure that was sent (``sent_spent``, when bulk filled it
    in from the master)."""
    return not typed and all(v is None or (i < len(sent_spent) and v == sent_spent[i]) for i, v in enumerate(spent))


def unfilled(record: ProjectRecord, sent: tuple = ()) -> bool:
    """:meth:`~xlsx_engine.forms.base.Form.unfilled` of the project form (``sent``: the 全年执行数 the master sent)."""
    return is_blank(typed_actuals(record), spent_of(record), sent)
