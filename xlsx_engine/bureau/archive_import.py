"""Filling the archive: from a collection just made, from folders of earlier years' returned workbooks, and
from earlier 汇总表 files (``jxzp archive import``).

Every returned file is read once, by ``jxzp collect`` (:func:`~xlsx_engine.bureau.collect.collect` with
``keep_inputs``: checks, rescoring from the inputs, never the cached values); its inputs, version and indicator
rows for the year-over-year comparison come from that same reading.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Iterable

from xlsx_engine.bureau.archive import (
    Archive,
    Submission,
    file_sha256,
)
from xlsx_engine.bureau.collect import Collected, Collection, collect, read_returned
from xlsx_engine.bureau.collect import status_of as collect_status
from xlsx_engine.forms.registry import figures_of, is_whole, unit_of
from xlsx_engine.kernel.errors import JxzpError
from xlsx_engine.kernel.xlmath import is_number
from xlsx_engine.ooxml.reader import open_workbook

SUMMARY_SHEET = "汇总"
SUMMARY_HEADERS = ("单位", "项目编码", "项目名称", "评分规则", "全年预算数", "全年执行数", "执行率", "总分", "等次", "错误数")


def status_of(item: Collected) -> str:
    """The archive status of a collected row: the collection's own status (README 回收状态)."""
    if item.status:
        return item.status
    return "无法读取" if item.error else ("有错误" if item.count("错误") else "已填报")


def _year_of(value) -> int | None:
    if is_number(value) and 1990 <= float(value) <= 2100:
        return int(value)
    m = re.search(r"(19|20)\d{2}", str(value or ""))
    return int(m.group(0)) if m else None


def submission_from_item(item: Collected, year: int | None = None, fallback: int | None = None) -> Submission:
    """An archive row from one collected file, from what ``collect`` read (``keep_inputs``): the file is not
    read again. The year: ``year`` when given, else the one the workbook states, else ``fallback``.

    Raises:
        JxzpError: no year given, the workbook states none and there is no fallback.
    """
    path = Path(item.file or item.path) if (item.file or item.path) else None
    stated_year = _year_of(item.inputs.get("year")) if item.inputs else None
    year = year or stated_year or fallback
    if year is None:
        raise JxzpError("无法确定年度：工作簿中没有“年度”", where=str(path or item.project or item.code),
                        hint="请用 --year 指定年度")
    rate = item.rate if is_number(item.rate) else None
    template_id = item.template.split(" ", 1)[0]
    # a form sent without 单位名称 in its properties (a 部门整体 form): the unit it names itself
    unit = item.unit or unit_of(template_id, item.inputs)
    budget, spent = item.budget, item.spent
    if is_whole(template_id):         # a 部门整体 form's own amounts: not on the 汇总表's row, kept here apart
        budget, spent, rate = figures_of(template_id, item.inputs)
    return Submission(
        year=year, status=status_of(item), unit=unit, code=item.code, project=item.project,
        template=item.template, profile=item.profile, version=item.version, file_name=path.name if path else "",
        file_hash=file_sha256(path) if path is not None and path.is_file() else "",
        submitted_at=item.submitted_text,
        budget=budget, spent=spent, rate=rate, total=item.total, grade=item.grade, inputs=dict(item.inputs),
        indicators=list(item.indicators),
        findings=[(f.severity, f.code, f.place, f.message) for f in item.findings])


def submissions_from_summary(path: Path, year: int) -> list[Submission]:
    """Rows of an earlier 汇总表 (sheet “汇总”, headers on row 2) as archive submissions (no indicator rows).

    Raises:
        JxzpError: not a 汇总表 made by ``jxzp collect``.
    """
    try:
        wb = open_workbook(path)                   # bounded: size, entries, grid
        if SUMMARY_SHEET not in wb.sheet_names:
            raise KeyError(SUMMARY_SHEET)
        _origin, rows = wb.grid(SUMMARY_SHEET)
    except (JxzpError, KeyError):
        raise JxzpError(f"不是 jxzp 生成的汇总表（找不到工作表“{SUMMARY_SHEET}”）", where=str(path),
                        hint="请指定 jxzp collect 生成的 汇总表.xlsx，或交回的自评表所在文件夹") from None
    head = next((k for k, row in enumerate(rows[:6]) if all(h in row for h in SUMMARY_HEADERS)), None)
    if head is None:
        raise JxzpError("汇总表的表头与 jxzp 生成的格式不一致", where=f"{path}!{SUMMARY_SHEET}",
                        hint="表头应包括：" + "、".join(SUMMARY_HEADERS))
    col = {h: rows[head].index(h) for h in (*SUMMARY_HEADERS, "状态") if h in rows[head]}
    out = []
    file_hash = file_sha256(path)
    for n, row in enumerate(rows[head + 1:], head + 2):
        unit = str(row[col["单位"]] or "").strip()
        if not unit or unit == "合计" or unit.startswith("合计"):
            continue
        def num(h):
            v = row[col[h]]
            return float(v) if is_number(v) else None
        errors = num("错误数") or 0
        status = str(row[col["状态"]] or "") if "状态" in col else ("有错误" if errors else "已填报")
        out.append(Submission(
            year=year, status=status, unit=unit, code=str(row[col["项目编码"]] or ""),
            project=str(row[col["项目名称"]] or ""), profile=str(row[col["评分规则"]] or ""),
            file_name=f"{path.name}#{n}", file_hash=f"{file_hash}:{n}", budget=num("全年预算数"),
            spent=num("全年执行数"), rate=num("执行率"), total=num("总分"), grade=str(row[col["等次"]] or "")))
    return out


def submissions_from_collection(coll: Collection, year: int | None) -> tuple[list[Submission], list[str]]:
    """Every row of a collection (returned, blank, not returned) and every unreadable file, as archive rows.

    Without ``year``, a row with no workbook saying its year (a project not returned, a file that cannot be read, a
    form whose 年度 is empty) takes the year most of the collection's forms state: a project sent and not returned
    is part of that year's collection, and dropping it would hide the units that never return anything."""
    subs, problems = [], []
    stated = Counter(y for item in coll.rows if item.inputs and (y := _year_of(item.inputs.get("year"))))
    collection_year = stated.most_common(1)[0][0] if stated else None
    for item in [*coll.rows, *coll.unreadable]:
        try:
            subs.append(submission_from_item(item, year, collection_year))
        except JxzpError as exc:
            problems.append(str(exc))
    return subs, problems


def check_source(src: Path) -> None:
    """That ``src`` is something ``archive import`` reads: a folder, or an .xlsx (an earlier 汇总表 or a returned form).

    Raises:
        JxzpError: it does not exist, or is another kind of file — said before the archive is opened or made.
    """
    if src.is_dir():
        return
    if not src.exists():
        raise JxzpError("找不到文件或文件夹", where=str(src))
    if not src.is_file() or src.suffix.lower() != ".xlsx":
        raise JxzpError("只能导入交回的自评表所在的文件夹、jxzp 生成的汇总表（.xlsx）或一张交回的自评表（.xlsx）",
                        where=str(src), hint="Word 报告等其他文件不入档案")


def import_sources(archive: Archive, sources: Iterable[str | Path], *, year: int | None, round_name: str,
                   jobs: int = 1, master: str | Path | None = None) -> tuple[int, int, list[str]]:
    """Record folders of returned workbooks and earlier 汇总表 files; returns (added, already there, problems).

    A file whose year cannot be determined is reported, not recorded; it never stops the others.
    """
    added = kept = 0
    problems: list[str] = []
    for source in sources:
        src = Path(source)
        subs: list[Submission] = []
        if src.is_dir():
            subs, more = submissions_from_collection(collect(src, master=master, jobs=jobs, keep_inputs=True), year)
            problems += more
        else:
            check_source(src)
            try:
                subs = submissions_from_summary(src, year or 0)
            except JxzpError:
                item = read_returned(str(src), keep_inputs=True)               # a single returned workbook
                item.status = collect_status(item)
                try:
                    subs = [submission_from_item(item, year)]                  # its own 年度 when not given
                except JxzpError as exc:
                    problems.append(str(exc))
                    continue
            else:
                if year is None:                   # an earlier 汇总表 says no year of its own
                    raise JxzpError("导入汇总表时需要指定年度", where=str(src), hint="加 --year 2023")
        by_year: dict[int, list[Submission]] = {}
        for s in subs:
            by_year.setdefault(s.year, []).append(s)
        for y, items in sorted(by_year.items()):
            a, k = archive.record(y, round_name, items, source=str(src))
            added, kept = added + a, kept + k
    return added, kept, problems
