"""The 回收汇总报告: a narrative of a whole collection, rendered through the sandboxed narrator.

Every figure comes from :func:`xlsx_engine.collect.collect` (rescored inputs and check findings);
the template is ``templates/narrative/collection/summary.j2`` (a bureau may edit it).
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

from xlsx_engine.bureau.collect import SEVERITIES, Collected
from xlsx_engine.kernel.errors import JxzpError
from xlsx_engine.kernel.xlmath import is_number, xround
from xlsx_engine.narrative.department import blocks_docx
from xlsx_engine.narrative.engine import (
    Narrator,
    blocks_to_markdown,
    blocks_to_text,
    parse_blocks,
)
from xlsx_engine.ooxml.safezip import atomic_write_bytes

TEMPLATE = "collection/summary.j2"


def collection_context(items: list[Collected], title: str = "绩效自评回收汇总报告") -> dict:
    """The template variables (see the template's header comment)."""
    good = [i for i in items if not i.error]
    scored = [i for i in good if is_number(i.total)]
    budget = math.fsum(i.budget or 0 for i in scored)
    spent = math.fsum(i.spent or 0 for i in scored)
    units = []
    for name in sorted({i.unit for i in scored}):
        its = [i for i in scored if i.unit == name]
        b = math.fsum(i.budget or 0 for i in its)
        s = math.fsum(i.spent or 0 for i in its)
        units.append({"name": name or "（未注明单位）", "count": len(its), "budget": xround(b, 2), "spent": xround(s, 2),
                      "rate": s / b if b > 0 else None, "average": xround(math.fsum(i.total for i in its) / len(its), 2),
                      "errors": sum(i.count("错误") for i in its), "warnings": sum(i.count("警告") for i in its)})
    grade_counts = Counter(i.grade for i in scored)
    order = {s: k for k, s in enumerate(SEVERITIES)}
    groups: dict[tuple[str, str], dict] = {}
    for it in good:
        for f in it.findings:
            if f.severity == "提示":
                continue
            g = groups.setdefault((f.severity, f.code), {"severity": f.severity, "example": f.message.rstrip("；。"),
                                                        "count": 0, "files": set()})
            g["count"] += 1
            g["files"].add(it.path)
    problems = sorted(groups.values(), key=lambda g: (order.get(g["severity"], 9), -g["count"]))[:12]
    for g in problems:
        g["files"] = len(g["files"])
    return {
        "title": title,
        "n": {"files": len(items), "read": len(good), "unreadable": len(items) - len(good), "projects": len(scored),
              "errors": sum(i.count("错误") for i in good), "warnings": sum(i.count("警告") for i in good),
              "files_with_errors": sum(1 for i in good if i.count("错误"))},
        "totals": {"budget": xround(budget, 2), "spent": xround(spent, 2), "rate": spent / budget if budget > 0 else None,
                   "average": xround(math.fsum(i.total for i in scored) / len(scored), 2) if scored else None},
        "grades": [{"label": g, "count": grade_counts.get(g, 0)} for g in ("优", "良", "中", "差")],
        "units": units,
        "problems": problems,
        "unreadable": [i.error for i in items if i.error],
    }


def render_collection(items: list[Collected], narrator: Narrator | None = None) -> str:
    """The report as Markdown-subset markup (headings, paragraphs, tables)."""
    return (narrator or Narrator()).render_template(TEMPLATE, collection_context(items))


def write_collection_report(items: list[Collected], out: str | Path) -> None:
    """Write the report as .docx, .md or .txt (atomically).

    Raises:
        JxzpError: unsupported extension.
    """
    out = Path(out)
    blocks = parse_blocks(render_collection(items))
    suffix = out.suffix.lower()
    if suffix == ".docx":
        data = blocks_docx(blocks)
    elif suffix == ".md":
        data = blocks_to_markdown(blocks).encode("utf-8")
    elif suffix == ".txt":
        data = blocks_to_text(blocks).encode("utf-8")
    else:
        raise JxzpError("汇总报告应为 .docx、.md 或 .txt", where=str(out))
    atomic_write_bytes(out, data)
