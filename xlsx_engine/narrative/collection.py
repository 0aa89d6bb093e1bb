"""The 回收汇总报告: a narrative of a whole collection, rendered through the sandboxed narrator.

Every figure comes from :func:`xlsx_engine.bureau.collect.collect` (rescored inputs and check findings);
the template is ``templates/narrative/collection/summary.j2`` (a bureau may edit it).
"""

from __future__ import annotations

import re
from pathlib import Path


from xlsx_engine.bureau.collect import (
    FAILED,
    GRADES,
    MISSING,
    SEVERITIES,
    STATUSES,
    Collection,
)
from xlsx_engine.bureau.output import write_output
from xlsx_engine.bureau.summary import reminders, totals_of, unit_totals
from xlsx_engine.kernel.errors import JxzpError
from xlsx_engine.kernel.xlmath import xround
from xlsx_engine.narrative.docx import official_docx
from xlsx_engine.narrative.engine import (
    Narrator,
    blocks_to_markdown,
    blocks_to_text,
    parse_blocks,
)

TEMPLATE = "collection/summary.j2"
_FORMULA = re.compile(r"“?=[A-Z][^”；。]*”?")
#: column widths (mm) of the per-unit table: the text block of an A4 page in the project report's layout
_UNIT_WIDTHS = (38, 12, 22, 22, 17, 15, 12, 12)


def cell_text(text: str) -> str:
    """Text that goes into a table cell of the markup: a unit's "|" would start a new column."""
    return str(text).replace("|", "｜")


def plain(message: str) -> str:
    """A finding's message without formula text (a report for a leader shows no "=IF(…)")."""
    return _FORMULA.sub("（公式）", message)


def collection_context(coll: Collection, title: str = "绩效自评回收汇总报告") -> dict:
    """The template variables (see the template's header comment). Figures, grades and averages are the
    汇总表's (``summary.totals_of``: the counted forms only, ``Collected.counted``); every status is counted;
    ``units`` lists the units with a counted form or a finding, ``count`` being the counted forms."""
    whole = totals_of(coll.rows)
    units = [{"name": cell_text(name) or "（未注明单位）", "count": t.counted, "budget": xround(t.budget, 2),
              "spent": xround(t.spent, 2), "rate": t.rate, "average": t.average, "errors": t.errors, "warnings": t.warnings}
             for name, t in unit_totals(coll) if t.counted or t.errors or t.warnings]
    order = {s: k for k, s in enumerate(SEVERITIES)}
    groups: dict[tuple[str, str], dict] = {}
    for it in coll.rows:
        for f in it.findings:
            if f.severity == "提示":
                continue
            g = groups.setdefault((f.severity, f.code), {"severity": f.severity, "example": plain(f.message).rstrip("；。"),
                                                        "count": 0, "files": set()})
            g["count"] += 1
            g["files"].add(it.path)
    problems = sorted(groups.values(), key=lambda g: (order.get(g["severity"], 9), -g["count"]))[:12]
    for g in problems:
        g["files"] = len(g["files"])
    counts = coll.counts()
    return {
        "title": title,
        "n": {"projects": len(coll.rows), "returned": len(coll.rows) - counts[MISSING], "scored": whole.counted,
              "unreadable": len(coll.unreadable), "unused": len(coll.unused),
              "errors": whole.errors, "warnings": whole.warnings, "files_with_errors": counts[FAILED]},
        "statuses": [{"label": s, "count": counts[s]} for s in STATUSES],
        "totals": {"budget": xround(whole.budget, 2), "spent": xround(whole.spent, 2), "rate": whole.rate,
                   "average": whole.average},
        "grades": [{"label": g, "count": whole.grades[g]} for g in GRADES],
        "units": units,
        "chase": reminders(coll),
        "problems": problems,
        "unreadable": [f"{u.path}：{u.error}" for u in coll.unreadable],
    }


def render_collection(coll: Collection, narrator: Narrator | None = None) -> str:
    """The report as Markdown-subset markup (headings, paragraphs, tables)."""
    return (narrator or Narrator()).render_template(TEMPLATE, collection_context(coll))


def write_collection_report(coll: Collection, out: str | Path) -> None:
    """Write the report as .docx, .md or .txt (atomically).

    Raises:
        JxzpError: unsupported extension.
    """
    out = Path(out)
    blocks = parse_blocks(render_collection(coll))
    suffix = out.suffix.lower()
    if suffix == ".docx":
        data = official_docx(blocks, widths=_UNIT_WIDTHS)
    elif suffix == ".md":
        data = blocks_to_markdown(blocks).encode("utf-8")
    elif suffix == ".txt":
        data = blocks_to_text(blocks).encode("utf-8")
    else:
        raise JxzpError("汇总报告应为 .docx、.md 或 .txt", where=str(out))
    write_output(out, data)
