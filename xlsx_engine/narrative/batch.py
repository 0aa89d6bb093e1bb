"""One Word 自评报告 per returned workbook (``jxzp narrative --each``): what a bureau produces from what came back.

A folder is collected first (``bureau.collect``) and its decisions are followed; each file is then read and
reported in isolation — a file that cannot be read or reported becomes a line with its
reason, and the others go on. The form is told by the workbook's identity (模板编号): a 项目支出绩效自评表 gets the
project report of its region (:func:`~xlsx_engine.narrative.docx.report_docx`), a 部门整体支出绩效自评表 the
部门整体 report, a 湖南 自评报告表 its 评价报告综述; data files (.yaml/.json) are project data. Every report reads the
workbook's own 报告信息 area, so no separate information file is needed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from xlsx_engine.bureau.collect import (
    NOT_SUMMED,
    collect,
    newest_of_each,
    project_code,
    superseded_by,
    time_text,
)
from xlsx_engine.forms import department as department_form
from xlsx_engine.forms import hunan as hunan_form
from xlsx_engine.forms.registry import form_of_layout
from xlsx_engine.integrity.checks import OWN_OUTPUT
from xlsx_engine.integrity.folder import shown
from xlsx_engine.integrity.reading import OwnOutput, read_form_file
from xlsx_engine.kernel.errors import JxzpError
from xlsx_engine.kernel.files import not_returned
from xlsx_engine.kernel.findings import ERROR, Finding
from xlsx_engine.narrative.department import (
    dept_input_of,
    dept_title,
    hnxm_input_of,
    render_dept_report,
    render_hnxm_summary,
)
from xlsx_engine.narrative.docx import official_docx, report_docx
from xlsx_engine.narrative.engine import Narrator, from_reading, load_input
from xlsx_engine.ooxml.safezip import atomic_write_bytes

SUFFIX = "_自评报告.docx"
DATA_FILES = (".yaml", ".yml", ".json")


@dataclass
class Outcome:
    """What became of one input."""

    source: Path
    output: Path | None = None            #: the report written, None when it failed or was skipped
    error: str = ""                       #: why not, in Chinese
    skipped: str = ""                     #: why it was passed over (:class:`PassedOver`), in Chinese
    kept: str = ""                        #: its report exists from an earlier run and was kept
    listed: bool = False                  #: not a workbook that was read (a link, lock file or hidden file)
    warnings: list[str] = field(default_factory=list)


class PassedOver(JxzpError):
    """An input that gets no report, and it is not a failure: an output of this program (a 汇总表, a 考核评分表), or
    a form returned still blank (collect's 待填报)."""


#: why a blank returned form gets no report from ``--each`` (the form's ``unfilled``, collect's 待填报)
BLANK_NOTE = ("仍是空白表（单位应填写的内容都未填写，即回收的“待填报”），未生成报告；"
              "单位填报后再生成，或单独运行 jxzp narrative 该文件 -o 报告.docx")


def report_of(path: Path, narrator: Narrator, extra: dict | None = None,
              sent_spent: Callable[[str], tuple] | None = None,
              findings: list[Finding] | None = None, skip_blank: bool = True) -> tuple[bytes, list[str]]:
    """The .docx bytes of one input's report and its warnings.

    A workbook is read once, as every command reads it (:func:`~xlsx_engine.integrity.reading.read_form_file`),
    and reported on as the form the checker identified; the errors found on it are the first warning (the report is
    written from what the form holds). ``extra``: other information for the report (报告日期).

    ``findings``: collect's findings on the file, when collect has decided it is a returned form to report on (its
    change control included; no second decision on whether it is blank). Otherwise the checker's findings, and a
    blank form is passed over (the form's ``unfilled``; ``sent_spent``: the 全年执行数 the master sent for a 项目编码)
    unless ``skip_blank`` is False (one form asked for on its own: the unit's draft).

    Raises:
        PassedOver: the input is an output of this program, or a form returned blank.
        JxzpError: the input cannot be read or is not one of our forms.
    """
    if path.suffix.lower() in DATA_FILES:
        data, rendered = report_docx(load_input(path, extra=extra), narrator=narrator)
        return data, [str(w) for w in rendered.warnings]
    try:
        wb = read_form_file(path)
    except OwnOutput as exc:
        raise PassedOver(not_returned(exc.what) + "，未生成报告", where=str(path)) from None
    form = form_of_layout(wb.layout)          # as the checker identified it
    code = str(wb.meta.get("项目编码") or "")
    if findings is None and skip_blank and form.unfilled(wb.record, sent_spent(code) if sent_spent and code else ()):
        raise PassedOver(BLANK_NOTE, where=str(path))
    checked = checked_note(wb.report.findings if findings is None else findings)
    if form is department_form.FORM:
        rendered = render_dept_report(dept_input_of(wb, extra=extra), None, narrator)
        return official_docx(rendered.blocks, dept_title(rendered)), checked + [str(w) for w in rendered.warnings]
    if form is hunan_form.FORM:
        inp = hnxm_input_of(wb, extra=extra)
        rendered = render_hnxm_summary(inp, narrator)
        return (official_docx(rendered.blocks, f"{inp.name}评价报告综述"),
                checked + [str(w) for w in rendered.warnings])
    inp = from_reading(wb, extra=extra)
    data, rendered = report_docx(inp, narrator=narrator)
    return data, checked + [str(w) for w in rendered.warnings]


def checked_note(findings: list[Finding]) -> list[str]:
    """The errors found on a workbook, as the first warning of its report (the report is still written)."""
    errors = [f for f in findings if f.severity == ERROR]
    if not errors:
        return []
    first = errors[0]
    return [f"核对发现 {len(errors)} 个错误（如：{(first.place + '：') if first.place else ''}{first.message}），"
            "报告按表中填报的内容生成，请先核实（jxzp check 该文件查看全部）"]


@dataclass
class Task:
    """One input to report on; ``findings``: collect's, when collect decided it (see :func:`report_of`), with the
    project's code and submission time collect read."""

    source: Path
    findings: list[Finding] | None = None
    code: str = ""
    submitted: float | None = None


def plan(items: list[str], master: str | Path | None = None, jobs: int = 1,
         progress: Callable[[int], None] | None = None) -> tuple[list[Task], list[Outcome]]:
    """What to report on, and what not with why, decided as ``collect`` decides it.

    A folder is collected (:func:`~xlsx_engine.bureau.collect.collect`, with the master when given): one report per
    project from the file collect counts (the newest submission; a file without 项目编码 known by bulk's manifest),
    none for a project returned blank (nothing typed, even when the copy differs from what was sent), for an older
    copy, for this program's outputs, and an error line for a file that cannot be read; links, lock files and hidden
    files are listed as collect lists them. Across several folders the newest submission of a project counts too.
    A file named on the command line is reported on as given (a blank project form passed over, see
    :func:`report_of`). Each file is planned once: a file inside a folder given, a folder inside another and a
    path given twice are the same input.
    """
    folders, files = _distinct(items)
    tasks: list[Task] = []
    passed: list[Outcome] = []
    for path in folders:
        coll = collect(path, master=master, jobs=jobs, progress=progress)
        counted = {row.file for row in coll.rows if row.file}
        for row in coll.rows:
            if not row.file:                       # sent and not returned: nothing to report on
                continue
            if row.error:
                passed.append(Outcome(Path(row.file), error=f"{row.path}：{row.error}"))
            elif row.blank:                        # 待填报, or 有错误 only for what was sent: still nothing typed
                passed.append(Outcome(Path(row.file), skipped=BLANK_NOTE))
            else:
                tasks.append(Task(Path(row.file), list(row.findings), project_code(row), row.submitted))
        for unused in coll.unused:
            if unused.file and unused.file in counted:      # its project's row says what became of it
                continue
            source = Path(unused.file or unused.path)
            if unused.error:
                passed.append(Outcome(source, error=f"{unused.path}：{unused.error}"))
            elif unused.kind == OWN_OUTPUT:
                passed.append(Outcome(source, skipped=unused.note.removesuffix(NOT_SUMMED) + "，未生成报告"))
            elif unused.file:                      # an older copy
                passed.append(Outcome(source, skipped=unused.note + "，未生成报告"))
            else:                                  # a link, lock file or hidden file: listed, never read
                passed.append(Outcome(source, skipped=unused.note, listed=True))
    if len(folders) > 1:                           # one project returned into two folders: the newest counts
        tasks, older = _newest_of_each(tasks)
        passed += older
    tasks += [Task(path) for path in files]
    return tasks, passed


def _distinct(items: list[str]) -> tuple[list[Path], list[Path]]:
    """(folders, files) of the inputs, each once: a folder inside another folder given and a file inside a folder
    given are left to that folder; a path given twice (or spelt two ways) counts once."""
    folders: list[Path] = []
    files: list[Path] = []
    seen: set[Path] = set()
    for item in items:
        path = Path(item)
        real = Path(os.path.realpath(path))
        if real in seen:
            continue
        seen.add(real)
        (folders if path.is_dir() else files).append(path)
    roots = [Path(os.path.realpath(f)) for f in folders]

    def inside(path: Path) -> bool:
        return any(root in Path(os.path.realpath(path)).parents for root in roots)

    return [f for f in folders if not inside(f)], [f for f in files if not inside(f)]


def _newest_of_each(tasks: list[Task]) -> tuple[list[Task], list[Outcome]]:
    """The newest submission of each project code among the tasks (collect's :func:`newest_of_each`), the others
    passed over."""
    older: dict[Path, Outcome] = {}
    for best, copies in newest_of_each(tasks, lambda t: t.code, lambda t: t.submitted, lambda t: str(t.source)):
        for task in copies:
            older[task.source] = Outcome(task.source, skipped=superseded_by(shown(best.source),
                                                                             time_text(best.submitted)) + "，未生成报告")
    return [t for t in tasks if t.source not in older], list(older.values())


def report_names(sources: list[Path]) -> dict[Path, str]:
    """``<name>_自评报告.docx`` for each source; two sources with one name (the same file name in two sub-folders)
    are told apart by their folders (``单位甲_项目.xlsx`` and ``单位乙/项目.xlsx`` never overwrite each other)."""
    same: dict[str, list[Path]] = {}
    for source in sources:
        same.setdefault(source.stem, []).append(source)
    names: dict[Path, str] = {}
    used: set[str] = set()
    for source in sources:
        stem = source.stem
        twins = same[stem]
        if len(twins) > 1:         # named by the path below the folder the twins share
            base = os.path.commonpath([os.path.abspath(t.parent) for t in twins])
            rel = os.path.relpath(os.path.abspath(source.parent), base)
            stem = "_".join([*(p for p in Path(rel).parts if p not in (".", "..")), stem])
        name, k = f"{stem}{SUFFIX}", 2
        while name in used:
            name, k = f"{stem}({k}){SUFFIX}", k + 1
        names[source] = name
        used.add(name)
    return names


def _newer(source: Path, report: Path) -> bool:
    try:
        return source.stat().st_mtime > report.stat().st_mtime
    except OSError:
        return False


def write_reports(tasks: list[Task], folder: Path, narrator: Narrator, *, force: bool = False,
                  progress=None, extra: dict | None = None,
                  sent_spent: Callable[[str], tuple] | None = None) -> list[Outcome]:
    """Write ``<name>_自评报告.docx`` into ``folder`` for each task (:func:`plan`); one failure never stops the
    others. An existing report is kept (counted, not a failure) unless ``force``, so a rerun adds the new reports.
    ``extra``: other information for every report (报告日期). ``sent_spent``: see :func:`report_of`.
    """
    outcomes = []
    names = report_names([t.source for t in tasks])
    for task in tasks:
        source = task.source
        out = folder / names[source]
        outcome = Outcome(source)
        if out.exists() and not force:
            outcome.kept = f"报告 {shown(out)} 已存在，未重新生成（加 --force 重新生成）"
            if _newer(source, out):          # the unit saved its form again after that report was written
                outcome.warnings = [f"交回文件比已有的报告 {out.name} 新（单位可能重新提交了），报告未重新生成；"
                                    "核对后加 --force 重新生成"]
        else:
            try:
                data, outcome.warnings = report_of(source, narrator, extra, sent_spent, task.findings)
                atomic_write_bytes(out, data)
                outcome.output = out
            except PassedOver as exc:
                outcome.skipped = exc.message
            except JxzpError as exc:
                outcome.error = str(exc)
            except Exception as exc:      # one file never stops the others: said on its line, never a traceback
                outcome.error = (f"{shown(source)}：无法生成报告（{type(exc).__name__}），请核对该文件或单独运行 "
                                 "jxzp narrative 查看")
        outcomes.append(outcome)
        if progress:
            progress(1)
    return outcomes
