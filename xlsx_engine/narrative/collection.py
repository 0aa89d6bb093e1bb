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
from xlsx_engine.bureau.kinds import meaning_of
from xlsx_engine.bureau.output import write_output
from xlsx_engine.bureau.summary import reminders, totals_of, unit_totals
from xlsx_engine.kernel.errors import JxzpError
from xlsx_engine.kernel.xlmath import xround
from xlsx_engine.narrative.docx import official_docx
from xlsx_engine.narrative.engine import (
    Block,
    Narrator,
    blocks_to_markdown,
    blocks_to_text,
    parse_blocks,
)

TEMPLATE = "collection/summary.j2"
_FORMULA = re.compile(r"“?=[A-Z][^”；。]*”?")
#: column widths (mm) of the per-unit table: the 156 mm text block of an A4 page in the project report's layout;
#: each heading's words fit on one line at 10 pt with the cells' margins (项目数 and 平均总分 broke before)
_UNIT_WIDTHS = (40, 16, 22, 22, 15, 19, 11, 11)      #: 单位 40 mm: ten characters (南湖区卫生健康委员会) on one line
#: where a line may break inside a telephone number, and what keeps it whole: WORD JOINERs around a hyphen, a
#: no-break space for a space. (U+2011 NON-BREAKING HYPHEN is not used: LibreOffice then breaks between the digits.)
_PHONE_BREAKS = str.maketrans({"-": "\u2060-\u2060", "‐": "\u2060‐\u2060", "－": "\u2060－\u2060", " ": "\u00a0"})


def unbroken(phone: str) -> str:
    """A telephone number that a printed page never splits across lines ("0731-8942772" stays on one line)."""
    return str(phone).translate(_PHONE_BREAKS)


def cell_text(text: str) -> str:
    """Text that goes into a table cell of the markup: a unit's "|" would start a new column."""
    return str(text).replace("|", "｜")


def plain(message: str) -> str:
    """A finding's message without formula text (a report for a leader shows no "=IF(…)")."""
    return _FORMULA.sub("（公式）", message)


#: projects named under one kind of problem; the others are counted (“共N处，涉及N个项目”) and in the 问题清单 sheet
_NAMED = 8


def kind_text(code: str, message: str) -> str:
    """The heading of a kind of finding: what it means, never the text of one instance (a row, a value)."""
    meaning = meaning_of(code)
    if meaning:
        return meaning
    return re.sub(r"^(第\s*\d+\s*行指标)?“[^”]*”[：:]", "", plain(message)).rstrip("；。")


def problem_kinds(coll: Collection, limit: int = 12) -> list[dict]:
    """The 错误 and 警告 of a collection by kind (severity and code), most frequent first within a severity: the
    kind's heading, how many findings and projects, and the projects by unit (code and name)."""
    order = {s: k for k, s in enumerate(SEVERITIES)}
    groups: dict[tuple[str, str], dict] = {}
    for it in coll.rows:
        for f in it.findings:
            if f.severity == "提示":
                continue
            g = groups.setdefault((f.severity, f.code), {"severity": f.severity, "kind": kind_text(f.code, f.message),
                                                        "count": 0, "rows": {}})
            g["count"] += 1
            g["rows"].setdefault(id(it), it)
    out = []
    for g in sorted(groups.values(), key=lambda g: (order.get(g["severity"], 9), -g["count"]))[:limit]:
        rows = list(g.pop("rows").values())
        by_unit: dict[str, list[str]] = {}
        for it in rows[:_NAMED]:
            by_unit.setdefault(cell_text(it.unit) or "（未注明单位）", []).append(
                cell_text(f"{it.code} {it.project}".strip() or it.path))
        units = [{"name": name, "projects": projects} for name, projects in by_unit.items()]
        who = "；".join(f"{u['name']} {'、'.join(u['projects'])}" for u in units)
        if len(rows) > _NAMED:
            who += "等"
        g.update(files=len(rows), units=units, who=who, example=f"{g['kind']}。涉及：{who}")
        out.append(g)
    return out


def collection_context(coll: Collection, title: str = "绩效自评回收汇总报告", *, printed: bool = False) -> dict:
    """The template variables (see the template's header comment). Figures, grades and averages are the
    汇总表's (``summary.totals_of``: the counted forms only, ``Collected.counted``); every status is counted;
    ``units`` lists the units with a counted form or a finding, ``count`` being the counted forms; each of
    ``problems`` (:func:`problem_kinds`) has ``severity``, ``kind`` (a heading for the kind of finding), ``count``,
    ``files`` (projects), ``units`` ([{name, projects}]), ``who`` (them as text) and ``example`` (the kind and who,
    the text the shipped template prints). ``printed``: for a page (Word), where telephone numbers are kept whole."""
    whole = totals_of(coll.rows)
    units = [{"name": cell_text(name) or "（未注明单位）", "count": t.counted, "budget": xround(t.budget, 2),
              "spent": xround(t.spent, 2), "rate": t.rate, "average": t.average, "errors": t.errors, "warnings": t.warnings}
             for name, t in unit_totals(coll) if t.counted or t.errors or t.warnings]
    problems = problem_kinds(coll)
    counts = coll.counts()
    return {
        "title": title,
        # master: what was sent was compared (collect --master), so the report may say 下发内容核对
        "n": {"projects": len(coll.rows), "returned": len(coll.rows) - counts[MISSING], "scored": whole.counted,
              "master": bool(coll.master),
              "unreadable": len(coll.unreadable), "unused": len(coll.unused),
              "errors": whole.errors, "warnings": whole.warnings, "files_with_errors": counts[FAILED]},
        "statuses": [{"label": s, "count": counts[s]} for s in STATUSES],
        "totals": {"budget": xround(whole.budget, 2), "spent": xround(whole.spent, 2), "rate": whole.rate,
                   "average": whole.average},
        "grades": [{"label": g, "count": whole.grades[g]} for g in GRADES],
        "units": units,
        "chase": [{**c, "联系电话": unbroken(c["联系电话"])} if printed else c for c in reminders(coll)],
        "problems": problems,
        "unreadable": [f"{u.path}：{u.error}" for u in coll.unreadable],
    }


def render_collection(coll: Collection, narrator: Narrator | None = None, *, printed: bool = False) -> str:
    """The report as Markdown-subset markup (headings, paragraphs, tables)."""
    return (narrator or Narrator()).render_template(TEMPLATE, collection_context(coll, printed=printed))


def chase_section(blocks: list[Block], chase: list[dict]) -> set[int]:
    """The paragraphs to set flush left in a report whose template carries no section marker (``::: 左对齐``, see
    :data:`~xlsx_engine.narrative.engine.MARKER`): a bureau's copy of the template edited before the marker; none
    when the template carries one: its marked paragraphs are set flush left by ``official_docx`` itself.

    Without the marker the section that lists the units to chase is found by its text, as before: the section one of
    whose paragraphs prints a unit's row (its name and one of its project lists), by index in ``blocks``. (A bureau
    that rewords the row so that it no longer prints both gets justified lines; the marker has no such limit.)

    The section is set flush left because a unit's line ends before its telephone number, which does not break
    (:func:`unbroken`), nor does a mobile number or a long project code: justified, that line is spread across the
    page (“（ 三 十 ） 高 新 区 … 电 话”)."""
    if any(b.align for b in blocks):
        return set()

    def prints_a_row(text: str) -> bool:
        return any(c["单位"] in text and any(c[k] and c[k] in text for k in ("未交回项目", "待填报项目", "需更正项目"))
                   for c in chase)

    out: set[int] = set()
    section: list[int] = []
    found = False
    for k, b in enumerate([*blocks, Block("heading")]):
        if b.kind == "heading":
            if found:
                out.update(section)
            section, found = [], False
        elif b.kind == "para":
            section.append(k)
            found = found or prints_a_row(b.text)
    return out


def write_collection_report(coll: Collection, out: str | Path, narrator: Narrator | None = None) -> None:
    """Write the report as .docx, .md or .txt (atomically); ``narrator``: the templates (default: the installed ones).

    Raises:
        JxzpError: unsupported extension.
    """
    out = Path(out)
    suffix = out.suffix.lower()
    ctx = collection_context(coll, printed=suffix == ".docx")
    blocks = parse_blocks((narrator or Narrator()).render_template(TEMPLATE, ctx))
    if suffix == ".docx":
        data = official_docx(blocks, widths=_UNIT_WIDTHS, flush_left=chase_section(blocks, ctx["chase"]))
    elif suffix == ".md":
        data = blocks_to_markdown(blocks).encode("utf-8")
    elif suffix == ".txt":
        data = blocks_to_text(blocks).encode("utf-8")
    else:
        raise JxzpError("汇总报告应为 .docx、.md 或 .txt", where=str(out))
    write_output(out, data)
