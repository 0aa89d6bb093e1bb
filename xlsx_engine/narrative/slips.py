"""A proof-reader for generated reports: finds the slips a reader who knows these reports would mark.

:func:`find_slips` reads a rendered report (the Markdown subset of :mod:`xlsx_engine.narrative.engine`)
with the project contexts it was rendered from and returns every :class:`Slip`:

``duplicate_subject``   the same body named twice as 主管 and 实施 (“由甲局主管，甲局负责实施”)
``numbering``           a numbering that restarts or skips within its scope (“（3）……分析。” followed by
                        “（1）……”; “五、综述” followed by “一、项目基本概况”)
``measure_as_cause``    a measure printed under 原因 (“原因：加大宣传力度”)
``cause_as_measure``    a cause printed as a measure (“按偏差原因分析及改进措施（本局为新组建单位）落实整改”,
                        “改进措施：本局为今年新组建单位”)
``date_not_from_data``  a date that is neither the report date given nor a date in the unit's own text
``placeholder``         “（待补充……）”, “XX” left in a report declared final
``contradiction``       a sentence whose figure or word differs from the cell it reports (执行率, 总分,
                        等次, 结余; advising to “收回统筹使用” a 结余 the unit says was returned)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Iterable

from xlsx_engine.kernel.textfilters import FILTERS
from xlsx_engine.kernel.xlmath import is_number
from xlsx_engine.narrative.engine import parse_blocks
from xlsx_engine.narrative.wording import is_cause, is_measure

SLIP_KINDS = ("duplicate_subject", "numbering", "measure_as_cause", "cause_as_measure", "date_not_from_data",
              "placeholder", "contradiction")


@dataclass(frozen=True)
class Slip:
    kind: str      #: one of :data:`SLIP_KINDS`
    text: str      #: the paragraph or heading at fault
    detail: str    #: what is wrong, in Chinese

    def __str__(self) -> str:
        return f"[{self.kind}] {self.detail}：{self.text}"


# ----------------------------------------------------------------------------- numbering

_CN = "一二三四五六七八九十"
#: numbering styles, highest rank first: 一、 （一） 1. 1-1、 （1） ①
_MARKERS = (
    (0, re.compile(rf"^([{_CN}]+)、")),
    (1, re.compile(rf"^（([{_CN}]+)）")),
    (2, re.compile(r"^(\d+)\.(?!\d)\s*")),
    (3, re.compile(r"^\d+-(\d+)、")),
    (4, re.compile(r"^（(\d+)）")),
    (5, re.compile(r"^([①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳])")),
)
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def _value(text: str) -> int:
    if text in _CIRCLED:
        return _CIRCLED.index(text) + 1
    if text.isdigit():
        return int(text)
    digits = "一二三四五六七八九"
    if "十" not in text:
        return digits.index(text) + 1
    tens, _, ones = text.partition("十")
    return (digits.index(tens) + 1 if tens else 1) * 10 + (digits.index(ones) + 1 if ones else 0)


def _marker(text: str) -> tuple[int, int] | None:
    for rank, rx in _MARKERS:
        m = rx.match(text)
        if m:
            return rank, _value(m.group(1))
    return None


def numbering_slips(markup: str) -> list[Slip]:
    """Markers of one style must count 1, 2, 3 … within their scope. A marker of a higher rank, or a
    heading, opens a new scope for the lower ranks; a list label (a paragraph ending in “：”) opens one
    only for lists that themselves began after a label (“主要问题：（1）（2）改进措施：（1）” is fine,
    “（3）……分析。产出指标：（1）” is not)."""
    slips = []
    counters: dict[int, tuple[int, bool]] = {}      # rank -> (last number, list began after a label)
    after_label = False
    for b in parse_blocks(markup):
        if b.kind == "table":
            continue
        mk = _marker(b.text)
        if b.kind == "heading":
            after_label = False
        if mk is None:
            if b.kind == "heading":
                counters = {r: c for r, c in counters.items() if r < 2}
            elif b.text.endswith(("：", ":")):
                counters = {r: c for r, c in counters.items() if not c[1]}
                after_label = True
            continue
        rank, n = mk
        last, labelled = counters.get(rank, (0, after_label and b.kind != "heading"))
        if n != last + 1:
            slips.append(Slip("numbering", b.text[:60], f"编号“{b.text[:4]}”接在同级编号{last}之后，应为{last + 1}"))
        counters = {r: c for r, c in counters.items() if r < rank}
        counters[rank] = (n, labelled)
    return slips


# ----------------------------------------------------------------------------- causes and measures

_CAUSE_LABEL = re.compile(r"(?:偏差原因|结余原因|超支原因|原因)：([^。]*)")
_MEASURE_LABEL = re.compile(r"改进措施：([^。]*)")
_ADVICE = re.compile(r"按偏差原因分析及改进措施（([^）]*)）落实整改")
_PENDING = re.compile(r"（待补充[^（）]*）")


def cause_slips(text: str) -> list[Slip]:
    slips = []
    for m in _CAUSE_LABEL.finditer(text):
        said = m.group(1).strip()
        if said and not _PENDING.fullmatch(said) and is_measure(re.split(r"[，,；;]", said)[0]):
            slips.append(Slip("measure_as_cause", text[:80], f"“{said}”是改进措施，却写在“原因”之后"))
    for m in _MEASURE_LABEL.finditer(text):
        said = m.group(1).strip()
        if said and not _PENDING.fullmatch(said) and is_cause(re.split(r"[，,；;]", said)[0]):
            slips.append(Slip("cause_as_measure", text[:80], f"“{said}”是原因，却写在“改进措施”之后"))
    for m in _ADVICE.finditer(text):
        if is_cause(re.split(r"[，,；;]", m.group(1))[0]):
            slips.append(Slip("cause_as_measure", text[:80], f"把原因“{m.group(1)}”当作整改措施"))
    return slips


# ----------------------------------------------------------------------------- facts

def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")


def date_slips(text: str, contexts: list[dict], info: dict | None) -> list[Slip]:
    allowed = set()
    date = (info or {}).get("report_date")
    if date:
        allowed.add(FILTERS["cndate"](date))
    for ctx in contexts:
        allowed.update(m.group(0) for s in _strings(ctx) for m in _DATE.finditer(s))
    return [Slip("date_not_from_data", m.group(0), f"日期“{m.group(0)}”不是数据中的报告日期，也不在单位填写的文字中")
            for m in _DATE.finditer(text) if m.group(0) not in allowed]


def _fund_facts(contexts: list[dict], totals: dict | None) -> dict[str, set[str]]:
    facts: dict[str, set[str]] = {"rate": set(), "total": set(), "grade": set(), "balance": set(), "disposed": set()}
    for ctx in contexts:
        f = ctx["fund"]
        if f["rate"] is not None:
            facts["rate"].add(FILTERS["pct"](f["rate"]))
        facts["rate"].update(FILTERS["pct"](s["rate"]) for s in f["sources"] if s["rate"] is not None)
        facts["balance"].add(FILTERS["wan"](f["balance"]))
        facts["balance"].update(FILTERS["wan"](s["balance"]) for s in f["sources"] if s["balance"] is not None)
        if f.get("disposed"):
            facts["disposed"].add(FILTERS["wan"](f["balance"]))
        r = ctx["result"]
        facts["total"].update(FILTERS["num"](t) for t in (r["total"], r["raw_total"]) if is_number(t))  # not 待填报
        facts["grade"].add(str(r["grade"]))
    if totals and totals.get("rate") is not None:
        facts["rate"].add(FILTERS["pct"](totals["rate"]))
    return facts


_CLAIMS = (
    ("rate", re.compile(r"执行率(?:为)?(\d+(?:\.\d+)?%)"), "执行率"),
    ("total", re.compile(r"总分(?:为)?(\d+(?:\.\d+)?)分"), "总分"),
    ("grade", re.compile(r"(?:等级|等次)(?:为|：)“?([优良中差]|合格|不合格|[A-D]级?)”?"), "等次"),
    ("balance", re.compile(r"结余(?:资金)?(\d+(?:\.\d+)?万元)"), "结余"),
)


def contradiction_slips(text: str, facts: dict[str, set[str]]) -> list[Slip]:
    slips = []
    for key, rx, label in _CLAIMS:
        for m in rx.finditer(text):
            if m.group(1) not in facts[key]:
                slips.append(Slip("contradiction", text[:80], f"{label}“{m.group(1)}”与自评表不符"))
    for m in re.finditer(r"对结余资金(\d+(?:\.\d+)?万元)按规定及时清理、收回统筹使用", text):
        if m.group(1) in facts["disposed"]:
            slips.append(Slip("contradiction", text[:80], f"单位已说明结余{m.group(1)}的去向，报告却建议收回统筹使用"))
    return slips


# ----------------------------------------------------------------------------- the checker

_DUPLICATE = re.compile(r"由([^，。；、]{2,40}?)(?:主管|下达)，\1负责实施")
_LEFTOVER = re.compile(r"（待补充[^（）]*）|XX|××")


def find_slips(markup: str, contexts: list[dict], *, info: dict | None = None, totals: dict | None = None,
               final: bool = False) -> list[Slip]:
    """Every slip in a rendered report.

    Args:
        markup: the rendered report or 综述 (Markdown subset).
        contexts: the project contexts it was rendered from (:func:`~xlsx_engine.narrative.engine.project_context`).
        info: the report's information (its ``report_date``), when the report prints a date.
        totals: the multi-project totals (their 执行率).
        final: the report is declared final: no placeholder may remain.
    """
    slips = numbering_slips(markup)
    facts = _fund_facts(contexts, totals)
    for b in parse_blocks(markup):
        texts = [b.text] if b.kind != "table" else []
        for text in texts:
            for m in _DUPLICATE.finditer(text):
                slips.append(Slip("duplicate_subject", text[:80], f"“{m.group(1)}”重复出现为主管和实施单位"))
            slips += cause_slips(text)
            slips += contradiction_slips(text, facts)
            if final:
                slips += [Slip("placeholder", text[:80], f"定稿中仍有“{m.group(0)}”") for m in _LEFTOVER.finditer(text)]
    slips += date_slips(markup, contexts, info)
    return slips
