"""What the report may say about the data: the judgements behind its sentences, defined once.

The templates word the sentences; this module decides what is true of the data and therefore
what a sentence may claim:

* :func:`split_reason` — the unit's 偏差原因分析及改进措施 cell often holds a cause, a measure, or
  both (“本局为今年新组建单位，未纳入双评议考核” is a cause; “加大宣传力度” is a measure). The
  report prints a cause only under 原因 and a measure only under 改进措施, never the reverse.
* :func:`same_body` — 主管部门 and 实施单位 that are the same body are named once.
* Materiality (documented in ``docs/rules.md`` → 报告的重要性标准):

  - a 结余 is a 主要问题 only when the 执行率 is below :data:`BALANCE_MATERIAL_RATE` (95%, i.e. the
    结余 exceeds 5% of the 全年预算数); below that it is stated in 资金 analysis with its reason only;
  - a shortfall of an indicator is a 主要问题 only when it loses more than :data:`SMALL_LOSS_SHARE`
    (5%) of its 分值; smaller ones are stated in the indicator analysis with their reason.

* :func:`balance_disposed` — when the unit says what happened to the 结余 (已退回财政 …), the
  report does not advise a different disposal.
"""

from __future__ import annotations

import re

BALANCE_MATERIAL_RATE = 0.95   #: 执行率 below which a 结余 is a 主要问题
SMALL_LOSS_SHARE = 0.05        #: share of its 分值 an indicator may lose and still not be a 主要问题

#: the start of a measure (what will be done), as units write it
_MEASURE = re.compile(
    r"^(?:下一步|下步|今后|以后|下一年度|下年度|下年|明年|次年|将来|后续|拟|将|计划|准备|争取|力争|确保|"
    r"加强|加大|加快|提升|提高|完善|健全|建立|优化|强化|进一步|继续|持续|积极|做好|落实|督促|规范|严格|"
    r"改进|改善|推进|推动|加紧|抓紧|及时|认真|切实|扩大|增加|深化|着力|注重|坚持|探索|整改|"
    r"提前|尽快|抓好|统筹|合理|科学|细化|跟踪|定期|全面|主动|充分|"
    r"已(?:督促|要求|责成|安排|整改|落实|制定|建立)|"
    r"20\d\d年(?:底|内|前|上半年|下半年)?(?:将|拟|计划|完成|实现|力争|争取))(?![性度率])")
#: an explicit label inside the cell
_LABEL = re.compile(r"(?:偏差)?原因(?:分析)?[:：]|(?:改进|整改)(?:措施|建议)[:：]|措施[:：]")
_CLAUSES = re.compile(r"[^。；;！!？?，,\n]+[。；;！!？?，,]?")
_DISPOSED = re.compile(r"退回|上缴|缴回|收回|结转|交回|归还")


def is_measure(clause: str) -> bool:
    """A clause that says what will be done (starts like “加大宣传力度”, “下一步将……”)."""
    text = re.sub(r"^[\s（(]*[0-9一二三四五六七八九十]+[)）.．、]\s*", "", clause.strip())
    text = re.sub(r"^(?:我局|本局|我单位|本单位|我们|单位)", "", text)
    return bool(_MEASURE.match(text))


_CAUSE = re.compile(r"^(?:由于|因为|因|受|系|鉴于|本局为|我局为|本单位为|我单位为)|未|尚未|没有|不足|滞后|较晚|延误|影响|"
                    r"新组建|不到位|不及时")


def is_cause(clause: str) -> bool:
    """A clause that says why (“本局为今年新组建单位”, “受疫情影响……”, “……尚未实现”), not what will be done."""
    return not is_measure(clause) and bool(_CAUSE.search(clause.strip()))


def _tidy(parts: list[str]) -> str | None:
    text = "".join(parts).strip().rstrip("，,；;。 ")
    return text or None


def split_reason(text: str | None) -> tuple[str | None, str | None]:
    """The unit's 偏差原因分析及改进措施 as (cause, measure); either may be None.

    Labelled text (“原因：……；改进措施：……”) is split at the labels; otherwise clause by clause,
    a clause (down to commas) that starts like a measure and everything after it being the measure.
    """
    text = (text or "").strip()
    if not text:
        return None, None
    labels = list(_LABEL.finditer(text))
    if labels:
        cause, measure, last = [], [], 0
        current = cause
        for m in labels:
            current.append(text[last:m.start()])
            current = measure if not m.group(0).startswith(("原因", "偏差原因")) else cause
            last = m.end()
        current.append(text[last:])
        return _tidy(cause), _tidy(measure)
    clauses = _CLAUSES.findall(text)
    for k, clause in enumerate(clauses):
        if is_measure(clause):
            return _tidy(clauses[:k]), _tidy(clauses[k:])
    return _tidy(clauses), None


def same_body(a: str | None, b: str | None) -> bool:
    """Two names of the same body (ignoring spaces and brackets)."""
    norm = lambda s: re.sub(r"[\s()（）]", "", s or "")  # noqa: E731
    return bool(norm(a)) and norm(a) == norm(b)


def balance_disposed(reason: str | None) -> bool:
    """The unit says what became of the 结余 (退回财政, 上缴, 结转 …)."""
    return bool(_DISPOSED.search(reason or ""))
