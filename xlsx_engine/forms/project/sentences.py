"""The sentences of the 评价报告综述, each defined once for the workbook's live 综述 and for the Jinja report.

Each sentence is a :class:`~xlsx_engine.kernel.phrases.Phrase` built from the profile (its labels and rules are
literals of the sentence); its keys are supplied twice, by a ``*_values`` function (Python values from the scored
record) and a ``*_refs`` function (the cells and formula expressions of the layout). The layout writes
``phrase.formula(refs)`` into the 综述 area of the 自评表 and ``phrase.py(values)`` as the cell's cached value;
the narrative prints ``phrase.py(values)`` — so the formula 综述 and the report cannot say different things.

Sentences (docs/rules.md#live-summary):

* ``fund_execution`` — 全年预算数, 执行数, 执行率, then 结余 and its reason, or the excess and its reason;
* ``fund_score`` — the 资金/预算执行 score;
* ``total`` — 总分 and its composition, the 执行率 cap when it applies, 等次 (or 待填报);
* ``indicators`` — how many indicators, their 分值/得分, how many are listed below;
* ``indicator`` — one indicator: 指标值, 完成值, 得分 (the facts; the report adds the cause and the measure);
* ``over`` — over-achievement, where the profile flags it;
* ``line`` — an indicator as the live 综述 lists it: the facts, then the unit's 偏差原因分析及改进措施 quoted
  whole (a formula cannot tell a cause from a measure; the report splits them).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from xlsx_engine.forms.project.formulas import (
    RowRefs,
    actual_expr,
    active_expr,
    cap_expr,
    fund_entered_expr,
    over_expr,
    raw_total_expr,
    target_score_formula,
    waiting_count_expr,
)
from xlsx_engine.forms.project.profile import Profile
from xlsx_engine.forms.project.record import IndicatorRow, ProjectRecord
from xlsx_engine.forms.project.scoring import (
    QUANT_OPS,
    IndicatorResult,
    Result,
    actual_value,
    is_active,
    is_over,
    waiting_count,
)
from xlsx_engine.kernel.excel import any_of, looks_like_target_expr, q
from xlsx_engine.kernel.phrases import (
    Clause,
    Num,
    Pct,
    Pending,
    Phrase,
    Text,
    cat,
    cell_text,
    when,
    xl_trim,
)
from xlsx_engine.kernel.targets import OP_EQ, OP_QUAL, looks_like_target
from xlsx_engine.kernel.xlmath import is_number, xround, xtext

FUND_PENDING = "全年预算数和全年执行数待填报。"
#: headings of the live 综述's paragraphs (the report has its own outline)
HEADINGS = ("一、总体情况。", "二、预算执行情况。", "三、绩效指标完成情况。")
TITLE = "评价报告综述（由本表数据自动生成，随填报内容实时更新）"


@dataclass(frozen=True)
class Sentences:
    fund_execution: Phrase
    fund_score: Phrase
    total: Phrase
    indicators: Phrase
    indicator: Phrase
    over: Phrase
    line: Phrase
    paragraphs: tuple[Phrase, ...]   #: the live 综述's headed paragraphs (总体情况, 预算执行, 绩效指标)


def over_limit_pct(profile: Profile) -> str:
    """The profile's over-achievement limit in percent as printed (“30”)."""
    return xtext(xround((profile.over_ratio - 1) * 100, 2))


@functools.lru_cache(maxsize=64)
def _sentences(profile: Profile) -> Sentences:
    p = profile
    wan = lambda key: Num(key, 2, "万元")  # noqa: E731
    fund_execution = when(
        "na", cat("全年预算数为0或未填写，预算执行率无法计算；全年执行数", wan("spent"), "。"),
        cat(p.fund_base, wan("budget"), "，全年执行数", wan("spent"), "，预算执行率", Pct("rate"), "。",
            when("under", cat("年末结余", wan("balance"), "，结余原因：", Pending("reason", "结余原因"), "。"),
                 when("over", cat("执行数超过预算数", wan("excess"), "，原因：", Pending("reason", "超支原因"), "。"),
                      "预算资金已全部执行，无结余。"))))
    fund_score = cat(p.fund_label, "得分", Num("score"), "分（分值", xtext(p.fund_weight), "分",
                     "" if p.fund_in_total else "，单列，不计入总分", "）。")

    parts: list = []
    if p.fund_in_total:
        parts += [p.fund_label, "得分", Num("fund_score"), "分、"]
    if p.has_target_block:
        parts += [p.target_label, "得分", Num("target_score"), "分、"]
    parts += ["绩效指标得分", Num("score_sum"), "分"]
    if p.rate_caps:
        parts.append(when("capped", cat("；因预算执行率为", Pct("rate"), "，按规则总分不超过", Num("cap"),
                                        "分（各项得分合计为", Num("raw"), "分）")))
    if not p.fund_in_total:
        parts.append(when("fund_entered", cat("；", p.fund_label, "得分", Num("fund_score"), "分单列，不计入总分")))
    total = when("pending", "总分待填报（资金、绩效指标或目标自评分尚未填齐，填齐后自动计算）。",
                 cat("总分", Num("total"), "分（满分", Num("total_weight"), "分），其中", *parts,
                     "。评价等次为“", Text("grade"), "”。"))

    listed_words = "未得满分" if p.over_ratio is None else f"未得满分或完成值超过指标值{over_limit_pct(p)}%及以上"
    indicators = when(
        "has_active",
        cat("共设置绩效指标", Num("active", 0), "个，分值合计", Num("weight_sum"), "分，得分", Num("score_sum"), "分",
            when("has_waiting", cat("，尚有", Num("waiting", 0), "个指标未填实际完成值或完成等级")),
            when("has_listed", cat("；其中", Num("listed", 0), "个指标", listed_words, "，逐项说明如下："),
                 when("has_waiting", "；已评分的指标均得满分。", "；各指标均得满分。"))),
        "尚未填写绩效指标。")

    target = when("qual", cat("“", Text("target"), "”"),
                  when("target_num", cat(when("eq", "", Text("op")), Text("target"), Text("unit")), Text("target")))
    actual = when("actual_missing", "实际完成值（待补充实际完成值）",
                  when("actual_is_target", cat("实际完成值填写为“", Text("actual"), "”（为指标值写法，待补充实际测量值）"),
                       when("qual", cat("实际完成情况“", Clause("actual"), "”"),
                            when("actual_num", cat("实际完成值", Text("actual_scored"), Text("unit")),
                                 cat("实际完成值", Text("actual"))))))
    not_full = cat("，得", Num("score"), "分（分值", Num("weight"), "分，扣", Num("lost"), "分）。")
    if p.over_penalty:      # the penalty is stated in the over sentence, not as a loss
        not_full = when("over", cat("，得", Num("score"), "分（分值", Num("weight"), "分）。"), not_full)
    score = when("weight_num", when("scored", when("full", cat("，得", Num("score"), "分（满分）。"), not_full),
                                    "，尚未评分。"),
                 "，缺分值，未计分。")
    indicator = cat(when("name_given", Clause("name"), "（未填指标名称）"), "：年度指标值", target, "，", actual,
                    when("band_shown", cat("，完成等级为“", Text("band"), "”")), score)
    if p.over_ratio is None:
        over = cat("")
    else:
        over = cat("完成值超过指标值", Num("over_pct"), "%，超过评分规则规定的", over_limit_pct(p), "%",
                   f"，按规则扣{xtext(p.over_penalty)}分" if p.over_penalty else "")
    line = cat(indicator, when("over", cat(over, "，原因："), "偏差原因分析及改进措施："),
               when("reason_given", Clause("reason"),
                    when("over", "（待补充超额完成原因）", "（待补充偏差原因分析及改进措施）")), "。")
    paragraphs = (cat(HEADINGS[0], total),
                  cat(HEADINGS[1], when("entered", cat(fund_execution, fund_score), FUND_PENDING)),
                  cat(HEADINGS[2], indicators))
    return Sentences(fund_execution, fund_score, total, indicators, indicator, over, line, paragraphs)


def sentences(profile: Profile) -> Sentences:
    """The sentences of a profile (built once per profile)."""
    return _sentences(profile)


# ----------------------------------------------------------------------------- Python values

def fund_values(record: ProjectRecord, result: Result) -> dict[str, Any]:
    f = result.fund
    budget, spent = f.budget, f.spent
    return {"na": budget <= 0, "under": budget > 0 and spent < budget, "over": budget > 0 and spent > budget,
            "budget": budget, "spent": spent, "rate": f.rate, "balance": budget - spent, "excess": spent - budget,
            "reason": record.rate_reason, "score": f.score, "entered": f.entered}


def total_values(record: ProjectRecord, result: Result) -> dict[str, Any]:
    r = result
    return {"pending": not is_number(r.total), "total": r.total, "total_weight": r.total_weight,
            "fund_score": r.fund.score, "fund_entered": r.fund.entered, "target_score": r.target_score,
            "score_sum": r.score_sum, "rate": r.fund.rate, "cap": r.cap,
            "capped": r.cap is not None and r.raw_total > r.cap, "raw": r.raw_total, "grade": r.grade}


def is_listed(row: IndicatorRow, res: IndicatorResult, profile: Profile, over: bool | None = None) -> bool:
    """An indicator the live 综述 explains: scored below its 分值, or over-achieved where the profile flags it
    (``over``: :func:`is_over` of the row when the caller knows it)."""
    if over if over is not None else is_over(row, profile):
        return True
    return is_number(res.score) and is_number(row.weight) and res.score < row.weight


def indicator_values(row: IndicatorRow, res: IndicatorResult, profile: Profile,
                     over: bool | None = None) -> dict[str, Any]:
    """``over``: :func:`is_over` of the row when the caller knows it."""
    over = is_over(row, profile) if over is None else over
    score, weight = res.score, row.weight
    scored = is_number(score)
    quant = row.op in QUANT_OPS
    actual_num = is_number(row.actual)
    return {
        "name_given": bool(xl_trim(cell_text(row.name))), "name": row.name,
        "qual": row.op == OP_QUAL, "target_num": quant and is_number(row.target), "eq": row.op == OP_EQ,
        "op": row.op, "target": row.target, "unit": row.unit,
        "actual_missing": row.actual is None or row.actual == "", "actual_is_target": looks_like_target(row.actual),
        "actual_num": actual_num, "actual": row.actual,
        "actual_scored": actual_value(row) if actual_num else None,
        "band_shown": row.op == OP_QUAL and row.band not in (None, ""), "band": row.band,
        "weight_num": is_number(weight), "scored": scored,
        "full": scored and is_number(weight) and score >= weight,
        "score": score, "weight": weight, "lost": (weight - score) if scored and is_number(weight) else None,
        "over": over,
        "over_pct": (max(actual_value(row), 0.0) / row.target - 1) * 100 if over else None,
        "reason": row.reason, "reason_given": bool(xl_trim(cell_text(row.reason))),
    }


def intro_values(record: ProjectRecord, result: Result, profile: Profile,
                 rows: list[tuple[bool, bool, bool]] | None = None) -> dict[str, Any]:
    """``rows``: :func:`row_states` when the caller has them already."""
    rows = rows if rows is not None else row_states(record, result, profile)
    active = sum(1 for a, _, _ in rows if a)
    listed = sum(1 for _, _, li in rows if li)
    waiting = waiting_count(record, result.indicators)
    return {"has_active": active > 0, "active": active, "has_listed": listed > 0, "listed": listed,
            "has_waiting": waiting > 0, "waiting": waiting, "weight_sum": result.weight_sum,
            "score_sum": result.score_sum}


def row_states(record: ProjectRecord, result: Result, profile: Profile) -> list[tuple[bool, bool, bool]]:
    """Per indicator row: (active, over-achieved, listed in the live 综述)."""
    out = []
    for row, res in zip(record.indicators, result.indicators):
        if not is_active(row):
            out.append((False, False, False))
            continue
        over = is_over(row, profile)
        out.append((True, over, is_listed(row, res, profile, over)))
    return out


def summary_values(record: ProjectRecord, result: Result, profile: Profile,
                   rows: list[tuple[bool, bool, bool]] | None = None) -> dict[str, Any]:
    """The values of the live 综述's paragraphs (twin of :func:`summary_refs`)."""
    return {**fund_values(record, result), **total_values(record, result),
            **intro_values(record, result, profile, rows)}


def live_lines(record: ProjectRecord, result: Result, profile: Profile) -> list[str]:
    """The live 综述 as Python renders it, line by line (the twin of the workbook's 综述 cells): the three
    headed paragraphs, then one numbered line per listed indicator."""
    live = LiveSummary.of(record, result, profile)
    return live.paragraphs + live.listed


# ----------------------------------------------------------------------------- formula references

@dataclass(frozen=True)
class SummaryRefs:
    """Where the live 综述's formulas read: the 自评表's cells."""

    budget: str            #: 全年预算数 (total)
    spent: str             #: 全年执行数 (total)
    rate: str              #: 执行率 (total)
    fund_score: str        #: 资金得分
    reason: str            #: 执行率偏差说明
    budgets: str           #: the sources' 全年预算数
    spents: str            #: the sources' 全年执行数
    total: str             #: 总分
    total_weight: str      #: 总分 row's 分值
    score_sum: str         #: 指标得分合计
    weight_sum: str        #: 指标分值合计
    grade: str             #: 评价等次
    target_input: str | None
    seq: str               #: the indicators' 综述序号 column (hidden helper)
    weights: str           #: the 分值 column
    scores: str            #: the 得分 column


def fund_refs(c: SummaryRefs) -> dict[str, str]:
    b, s = c.budget, c.spent
    return {"na": f"{b}<=0", "under": f"AND({b}>0,{s}<{b})", "over": f"AND({b}>0,{s}>{b})",
            "budget": b, "spent": s, "rate": c.rate, "balance": f"({b}-{s})", "excess": f"({s}-{b})",
            "reason": c.reason, "score": c.fund_score, "entered": fund_entered_expr(c.budgets, c.spents)}


def total_refs(c: SummaryRefs, profile: Profile) -> dict[str, str]:
    p = profile
    raw = raw_total_expr(c.fund_score if p.fund_in_total else None, c.target_input, c.score_sum, p)
    cap = cap_expr(c.rate, p)
    return {"pending": f"NOT(ISNUMBER({c.total}))", "total": c.total, "total_weight": c.total_weight,
            "fund_score": c.fund_score, "fund_entered": fund_entered_expr(c.budgets, c.spents),
            "target_score": target_score_formula(c.target_input, p)[1:] if c.target_input else "0",
            "score_sum": c.score_sum, "rate": c.rate, "cap": cap,
            "capped": f"AND(ISNUMBER({c.rate}),{raw}>{cap})", "raw": raw, "grade": c.grade}


def intro_refs(c: SummaryRefs) -> dict[str, str]:
    waiting = waiting_count_expr(c.weights, c.scores)
    return {"has_active": f"COUNT({c.seq})>0", "active": f"COUNT({c.seq})", "has_listed": f"MAX({c.seq})>0",
            "listed": f"MAX({c.seq})", "has_waiting": f"{waiting}>0", "waiting": waiting,
            "weight_sum": c.weight_sum, "score_sum": c.score_sum}


def summary_refs(c: SummaryRefs, profile: Profile) -> dict[str, str]:
    """Where each key of :func:`summary_values` is in the workbook."""
    return {**fund_refs(c), **total_refs(c, profile), **intro_refs(c)}


def listed_expr(r: RowRefs, over: str) -> str:
    """Boolean twin of :func:`is_listed` (``over``: the row's over-achievement flag expression)."""
    return f"OR(AND(ISNUMBER({r.score}),ISNUMBER({r.weight}),{r.score}<{r.weight}),{over})"


def seq_formula(r: RowRefs, over: str, seq_above: str | None) -> str:
    """The row's 综述序号: "" for an inactive row, 0 when not listed, else its place among the listed rows."""
    nxt = f"MAX({seq_above})+1" if seq_above else "1"
    return f"=IF(NOT({active_expr(r)}),\"\",IF({listed_expr(r, over)},{nxt},0))"


def over_flag_formula(r: RowRefs, profile: Profile) -> str:
    """The row's over-achievement flag: 1, else "" (a helper cell, so the sentence reads it once; blank on the rows
    a copy hides, so that a hidden row shows nothing)."""
    return f"=IF({over_expr(r, profile)},1,\"\")"


def indicator_refs(r: RowRefs, over_flag: str) -> dict[str, str]:
    quant = any_of(r.op, QUANT_OPS)
    return {
        "name_given": f"LEN(TRIM({r.name}))>0", "name": r.name,
        "qual": f"{r.op}={q(OP_QUAL)}", "target_num": f"AND({quant},ISNUMBER({r.target}))", "eq": f"{r.op}={q(OP_EQ)}",
        "op": r.op, "target": r.target, "unit": r.unit,
        "actual_missing": f"LEN({r.actual})=0", "actual_is_target": looks_like_target_expr(r.actual),
        "actual_num": f"ISNUMBER({r.actual})", "actual": r.actual, "actual_scored": f"({actual_expr(r)})",
        "band_shown": f"AND({r.op}={q(OP_QUAL)},LEN({r.band})>0)", "band": r.band,
        "weight_num": f"ISNUMBER({r.weight})", "scored": f"ISNUMBER({r.score})",
        "full": f"AND(ISNUMBER({r.score}),ISNUMBER({r.weight}),{r.score}>={r.weight})",
        "score": r.score, "weight": r.weight, "lost": f"({r.weight}-{r.score})",
        "over": f"{over_flag}=1",
        "over_pct": f"((MAX({actual_expr(r)},0)/{r.target}-1)*100)",
        "reason": r.reason, "reason_given": f"LEN(TRIM({r.reason}))>0",
    }


def line_formula(r: RowRefs, profile: Profile, seq: str, over_flag: str) -> str:
    """The hidden helper cell holding the row's 综述 line (without its number), "" unless listed."""
    return f"=IF(AND(ISNUMBER({seq}),{seq}>0),{sentences(profile).line.xl(indicator_refs(r, over_flag))},\"\")"


# ----------------------------------------------------------------------------- the live 综述 of one fill

@dataclass
class LiveSummary:
    """The live 综述 of one scored record: every helper and 综述 cell's Python value, computed once per fill."""

    over: list[Any]            #: per indicator row: the over-achievement flag (1 or "")
    seq: list[Any]             #: per indicator row: "" inactive, 0 not listed, k the place among the listed rows
    lines: list[str]           #: per indicator row: its 综述 line without the number ("" unless listed)
    paragraphs: list[str]      #: the headed paragraphs
    listed: list[str]          #: the numbered lines, in order

    @classmethod
    def of(cls, record: ProjectRecord, result: Result, profile: Profile) -> "LiveSummary":
        """Computed once per (record, result): the twins of the 综述 cells read it from the result."""
        cached = getattr(result, "_live_summary", None)
        if cached is not None:
            return cached
        s = sentences(profile)
        rows = row_states(record, result, profile)
        over, seq, lines, listed = [], [], [], []
        for (active, is_o, is_listed_row), row, res in zip(rows, record.indicators, result.indicators):
            over.append(1.0 if is_o else "")
            if not active:
                seq.append("")
                lines.append("")
            elif is_listed_row:
                line = s.line.py(indicator_values(row, res, profile, is_o))
                listed.append(f"（{len(listed) + 1}）{line}")
                seq.append(float(len(listed)))
                lines.append(line)
            else:
                seq.append(0.0)
                lines.append("")
        values = summary_values(record, result, profile, rows)
        live = cls(over, seq, lines, [p.py(values) for p in s.paragraphs], listed)
        result._live_summary = live
        return live
