"""One reading of a returned workbook, shared by every command that reads one (``check``, ``collect``, ``score``,
``narrative``, ``review``, ``archive``): the checker's parse, at the documented places.

A workbook is parsed once (:func:`~xlsx_engine.integrity.checks.check_file`: bounded zip + entity-free lxml, values
exactly as stored, nothing recalculated) and its inputs are read where docs/rules.md#reading says — each template
cell where the sheet's structure now puts it, through a defined name only when the name is intact. A file that is
internally inconsistent (a redirected name, a second shared-strings part, a number typed as text, a display format
that shows something else) is read the same way by all of them, and the inconsistency is a finding of
:attr:`Reading.report`, so no two commands can give different numbers for one file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlsx_engine.forms.project.readback import RESULT_NAMES
from xlsx_engine.integrity.checks import OWN_OUTPUT, FileReport, check_file
from xlsx_engine.kernel.errors import TemplateError, WorkbookError
from xlsx_engine.kernel.findings import ERROR
from xlsx_engine.ooxml.cells import parse_name_ref
from xlsx_engine.ooxml.sheetmodel import SheetLayout


class NotOurForm(TemplateError):
    """The workbook carries no template identity: not made from one of our templates."""


class OwnOutput(NotOurForm):
    """The workbook is an output of this program (:attr:`what`: 汇总表, 考核评分表 ...), not a returned form."""

    def __init__(self, message: str, what: str, **kw):
        super().__init__(message, **kw)
        self.what = what


@dataclass
class Reading:
    """A workbook of one of our forms, read once: its inputs, the cached results it shows, its identity and the
    findings of the checks on the same parse."""

    path: Path
    report: FileReport
    layout: SheetLayout
    record: Any
    meta: dict[str, str]              #: every custom document property
    cached: dict[str, Any]            #: named formula results as the workbook shows them ("得分": the row list)
    named: dict[str, list[Any]]       #: every name of the layout's main sheet: its values at the documented place

    def evaluate(self) -> Any:
        """The Python scorer's result on the inputs."""
        return self.layout.evaluate(self.record)[1]

    def name_value(self, name: str) -> Any:
        """The value of a one-cell name at its documented place. Raises KeyError: no such name in the form."""
        values = self.named[name]
        return values[0] if values else None

    @property
    def errors(self) -> int:
        return self.report.count(ERROR)


def read_form_file(path: str | Path) -> Reading:
    """Read a returned workbook of one of our forms, the one way every command reads it.

    Raises:
        WorkbookError: the file cannot be read at all.
        NotOurForm: not a workbook of one of our templates (:class:`OwnOutput`: an output of this program).
        TemplateError: its template cannot be identified (unknown 评分规则 or 模板版本, main sheet deleted) — the
            message says which.
    """
    got: dict[str, Any] = {}

    def then(pkg, report: FileReport) -> None:
        if report.reader is None:
            return
        layout, reader = report.layout, report.reader
        got["meta"] = dict(pkg.custom_properties)
        got["layout"], got["named"] = layout, reader.named(layout.names)
        got["record"] = report.record if report.record is not None else report.form_record

    report = check_file(path, None, then)
    if report.unreadable:
        first = next((f for f in report.findings if f.severity == ERROR), None)
        raise WorkbookError(first.message if first else "无法读取", where=str(path), hint=first.hint if first else None)
    if "layout" not in got:
        if report.kind == OWN_OUTPUT:
            first = report.findings[0]
            raise OwnOutput(first.message, report.output, where=str(path), hint="请给出交回的自评表")
        if report.kind != "本系统模板":
            raise NotOurForm("不是本系统模板生成的工作簿（缺少模板标识）", where=str(path),
                                hint="其他来源的自评表请先用 jxzp import 转换")
        first = next((f for f in report.findings if f.severity == ERROR), None)
        raise TemplateError(first.message if first else "无法识别模板", where=str(path),
                            hint=first.hint if first else "请使用下发的模板重新填报")
    layout, named = got["layout"], got["named"]
    return Reading(Path(path), report, layout, got["record"], got["meta"], _cached(layout, named), named)


def _cached(layout: SheetLayout, named: dict[str, list[Any]]) -> dict[str, Any]:
    """What ``score`` compares: the project form's result names and its 得分 column; for the other forms every
    one-cell name that holds a formula."""
    if "得分" in named and all(name in layout.names for name in RESULT_NAMES):
        cached = {name: (named.get(name) or [None])[0] for name in RESULT_NAMES}
        cached["得分"] = list(named["得分"])
        return cached
    cached = {}
    for name, text in layout.names.items():
        ref = parse_name_ref(text)
        cell = layout.cells.get(ref.a1.replace("$", "")) if ref and ref.first == ref.last else None
        if cell is not None and cell.formula and name in named:
            cached[name] = named[name][0]
    return cached
