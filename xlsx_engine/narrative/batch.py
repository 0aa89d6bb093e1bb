"""One Word 自评报告 per returned workbook (``jxzp narrative --each``): what a bureau produces from what came back.

Each file is read and reported in isolation — a file that cannot be read or reported becomes a line with its
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

from xlsx_engine.bureau.collect import is_blank, spent_of, typed_actuals
from xlsx_engine.forms import department as department_form
from xlsx_engine.forms import hunan as hunan_form
from xlsx_engine.forms.project.record import ProjectRecord
from xlsx_engine.forms.registry import form_of_layout
from xlsx_engine.integrity.folder import find_spreadsheets
from xlsx_engine.integrity.reading import OwnOutput, read_form_file
from xlsx_engine.kernel.errors import JxzpError
from xlsx_engine.kernel.files import not_returned
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
    warnings: list[str] = field(default_factory=list)


class PassedOver(JxzpError):
    """An input that gets no report, and it is not a failure: an output of this program (a 汇总表, a 考核评分表), or
    a project form returned still blank (collect's 待填报)."""


#: why a blank returned project form gets no report from ``--each`` (:func:`is_blank`, collect's 待填报)
BLANK_NOTE = ("仍是空白表（各指标的实际完成值、完成等级和全年执行数都未填写），未生成报告；"
              "单位填报后再生成，或单独运行 jxzp narrative 该文件 -o 报告.docx")


def unfilled(record: ProjectRecord, sent_spent: tuple = ()) -> bool:
    """A project form nothing has been typed into, as collect decides it (``sent_spent``: the 全年执行数 the master
    filled in, which the unit has not changed; without the master, any 全年执行数 counts as typed)."""
    return is_blank(typed_actuals(record), spent_of(record), sent_spent)


def report_of(path: Path, narrator: Narrator,
              sent_spent: Callable[[ProjectRecord], tuple] | None = None) -> tuple[bytes, list[str]]:
    """The .docx bytes of one input's report and its warnings.

    A workbook is read once, as every command reads it (:func:`~xlsx_engine.integrity.reading.read_form_file`),
    and reported on as the form the checker identified. ``sent_spent``: the 全年执行数 the master sent for a
    project (:func:`unfilled`).

    Raises:
        PassedOver: the input is an output of this program, or a project form returned blank.
        JxzpError: the input cannot be read or is not one of our forms.
    """
    if path.suffix.lower() in DATA_FILES:
        data, rendered = report_docx(load_input(path), narrator=narrator)
        return data, [str(w) for w in rendered.warnings]
    try:
        wb = read_form_file(path)
    except OwnOutput as exc:
        raise PassedOver(not_returned(exc.what) + "，未生成报告", where=str(path)) from None
    form = form_of_layout(wb.layout)          # as the checker identified it
    if form is department_form.FORM:
        rendered = render_dept_report(dept_input_of(wb), None, narrator)
        return official_docx(rendered.blocks, dept_title(rendered)), [str(w) for w in rendered.warnings]
    if form is hunan_form.FORM:
        inp = hnxm_input_of(wb)
        rendered = render_hnxm_summary(inp, narrator)
        return official_docx(rendered.blocks, f"{inp.name}评价报告综述"), [str(w) for w in rendered.warnings]
    inp = from_reading(wb)
    if unfilled(inp.record, sent_spent(inp.record) if sent_spent else ()):
        raise PassedOver(BLANK_NOTE, where=str(path))
    data, rendered = report_docx(inp, narrator=narrator)
    return data, [str(w) for w in rendered.warnings]


def inputs_of(items: list[str]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The files to report on, and the entries of the folders given that are not, each with why.

    Files are taken as given; a folder is walked as ``collect`` walks a 回收 folder
    (:func:`~xlsx_engine.integrity.folder.find_spreadsheets`: sub-folders included, symbolic links never followed,
    Office lock files ``~$…``, hidden files, pipes and links listed as skipped with the reason).
    """
    out: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            files, not_read = find_spreadsheets(path)
            out += [Path(f) for f in files]
            skipped += [(Path(name), why) for name, why in not_read]
        else:
            out.append(path)
    return out, skipped


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


def write_reports(sources: list[Path], folder: Path, narrator: Narrator, *, force: bool = False,
                  progress=None) -> list[Outcome]:
    """Write ``<name>_自评报告.docx`` into ``folder`` for each source; one failure never stops the others.

    An existing report is kept unless ``force``.
    """
    outcomes = []
    names = report_names(sources)
    for source in sources:
        out = folder / names[source]
        outcome = Outcome(source)
        if out.exists() and not force:
            outcome.error = f"报告 {out} 已存在，未覆盖（加 --force 覆盖）"
        else:
            try:
                data, outcome.warnings = report_of(source, narrator)
                atomic_write_bytes(out, data)
                outcome.output = out
            except PassedOver as exc:
                outcome.skipped = exc.message
            except JxzpError as exc:
                outcome.error = str(exc)
            except (OSError, ValueError, KeyError, TypeError, RecursionError, MemoryError) as exc:
                outcome.error = f"{source}：无法生成报告（{type(exc).__name__}），请核对该文件或单独运行 jxzp narrative 查看"
        outcomes.append(outcome)
        if progress:
            progress(1)
    return outcomes
