"""User-facing texts worded once, and the predicates that go with them.

Several layers say the same thing to the user (the narrative warns a unit, the bureau's review
scores it); the wording lives here so it cannot drift apart. Kernel layer: no project imports
beyond the kernel itself.

资金不足 / 加大资金投入: the bureau's 自评工作考核评分表 (seed 001 附件5) gives 0 points to a report whose
problems say nothing but "funds are short", or whose suggestions say nothing but "invest more"
(docs/rules.md). :func:`only_funding` is that detection, shared by
:mod:`xlsx_engine.narrative.engine` (warnings while writing) and :mod:`xlsx_engine.bureau.review`
(the automatic 问题仅资金不足 / 建议仅加大资金投入 flags).
"""

from __future__ import annotations

import re

from xlsx_engine.kernel.textfilters import unnumber

FUNDS_SHORT = "资金不足"               #: the problem that alone scores 0
MORE_FUNDING = "加大资金投入"          #: the suggestion that alone scores 0

FUNDS_ONLY_PROBLEM = re.compile(
    r"^(项目)?(财政)?(资金|经费|预算)(投入|保障)?(严重|相对|较为|比较|明显|仍然|仍)?(不足|短缺|紧张|有限|不够|缺口大|缺乏)$")
FUNDS_ONLY_SUGGESTION = re.compile(
    r"^(建议)?(上级|财政|各级)?(部门)?(继续|进一步)?(加大|增加|提高|加强)(财政|上级)?(资金|经费|预算)?(投入|支持|保障|安排)"
    r"(力度)?$")
_PUNCT = re.compile(r"[\s，,。．.；;：:、!！“”\"'（）()]")
_LEAD = re.compile(r"^(存在的问题|存在问题|主要问题|问题|改进建议|建议|措施)(是|为|有)?")


def only_funding(texts: list[str], pattern: re.Pattern) -> bool:
    """True when every text, once numbering and punctuation are removed, says only 资金不足 / 加大资金投入."""
    cleaned = [_LEAD.sub("", _PUNCT.sub("", unnumber(t))) for t in texts]
    cleaned = [c for c in cleaned if c]
    return bool(cleaned) and all(pattern.match(c) for c in cleaned)


__all__ = ["FUNDS_ONLY_PROBLEM", "FUNDS_ONLY_SUGGESTION", "FUNDS_SHORT", "MORE_FUNDING", "only_funding"]
