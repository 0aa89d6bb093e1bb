"""The one interface every form implements (项目支出, 部门整体, 湖南项目 …).

A form is a package under ``xlsx_engine/forms/`` that exposes ``FORM``, an object satisfying
:class:`Form`. Everything above the forms layer (checks, collect, review, narrative, the command
line and the add-in) reaches a form only through :mod:`xlsx_engine.forms.registry`, never by its id.
Adding a form = one package + one line in ``registry.FORMS`` (see README, 开发者说明).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol, runtime_checkable

from xlsx_engine.kernel.xlmath import is_number
from xlsx_engine.ooxml.reader import ReadBack, Workbook, cached_formula_values
from xlsx_engine.ooxml.sheetmodel import SheetLayout


@runtime_checkable
class Form(Protocol):
    """What the engine needs from a form."""

    prefix: str          #: 模板编号 prefix, e.g. "xmzc"; a template id is ``<prefix>-<profile id>``
    title: str           #: Chinese name shown to users
    unit_field: str      #: the record field naming the unit that fills the form ("unit": 实施单位)
    #: the form reports a unit's whole spending (部门整体), its projects' included: never added to its projects'
    whole: bool

    def profile_ids(self) -> list[str]:
        """The ids of the shipped profiles (rules files) of this form."""

    def load_profile(self, profile_id: str) -> Any:
        """A shipped profile by id. Raises ProfileError."""

    def layout(self, profile_id: str) -> SheetLayout:
        """Build: the layout of the template for a profile (rendered by ``ooxml.builder``)."""

    def load_data(self, path: Path, profile: Any) -> Any:
        """Fill: a data file (YAML/JSON) read and validated into a record. Raises DataError."""

    def read(self, workbook: Workbook, layout: SheetLayout) -> ReadBack:
        """Read back: the record and cached results of an opened workbook of this form."""

    def score(self, record: Any, profile: Any) -> Any:
        """Score: the Python twin's result for a record."""

    def unit_named(self, record: Any) -> str:
        """The unit a record (or the archive's dict of its inputs) names in :attr:`unit_field`; "" when empty."""

    def figures(self, record: Any) -> tuple[float | None, float | None, float | None]:
        """The (预算数, 执行数, 执行率) a record (or the archive's dict of its inputs) reports, in 万元, as the 汇总表
        and the archive keep them for a form read without the project form's reader; None for what is not entered
        (and all three for a form that keeps its amounts otherwise, the project form)."""

    def has_figures(self) -> bool:
        """Whether :meth:`figures` reads a record's amounts (False: the form keeps them otherwise, the project
        form, whose 汇总表 columns come from its result)."""

    def unfilled(self, record: Any, sent: tuple = ()) -> bool:
        """Collect's 待填报: a record (as read back) with nothing typed in the cells a unit fills; the cells the
        bureau may set when it sends the form (identity, budget, targets) and free text do not count. ``sent``:
        the values the bureau wrote into cells a unit fills, which do not count either (the project form's
        全年执行数 from the master); empty when not known."""

    def statement_findings(self, record: Any, result: Any) -> list:
        """Check: figures the unit stated elsewhere (报告所列) that contradict the table."""

    def narrative_context(self, readback: ReadBack) -> dict:
        """The figures a narrative template may use, as plain data (read-only for templates)."""


@dataclass(frozen=True)
class FormKind:
    """A :class:`Form` assembled from plain functions (what each form package exposes as ``FORM``)."""

    prefix: str
    title: str
    profile_ids_fn: Callable[[], list[str]]
    load_profile_fn: Callable[[str], Any]
    layout_fn: Callable[[str], SheetLayout]
    load_data_fn: Callable[[Path, Any], Any]
    read_fn: Callable[[Workbook, SheetLayout], ReadBack]
    unfilled_fn: Callable[[Any, tuple], bool]
    statement_findings_fn: Callable[[Any, Any], list] = lambda record, result: []
    narrative_context_fn: Callable[[ReadBack], dict] | None = None
    #: named results ``jxzp score`` compares with the workbook's cached values (name -> getter on the result);
    #: empty: every named formula cell is compared
    result_names: dict = field(default_factory=dict)
    #: the record field that names the unit filling the form (实施单位; a 部门整体 form's 部门名称)
    unit_field: str = "unit"
    #: (预算数, 执行数, 执行率) of a record or of the archive's dict of its inputs (:meth:`Form.figures`)
    figures_fn: Callable[[Any], tuple] | None = None
    #: a unit's whole spending (部门整体), never added to its projects' (:attr:`Form.whole`)
    whole: bool = False

    def profile_ids(self) -> list[str]:
        return self.profile_ids_fn()

    def load_profile(self, profile_id: str) -> Any:
        return self.load_profile_fn(profile_id)

    def layout(self, profile_id: str) -> SheetLayout:
        return self.layout_fn(profile_id)

    def load_data(self, path: Path, profile: Any) -> Any:
        return self.load_data_fn(path, profile)

    def read(self, workbook: Workbook, layout: SheetLayout) -> ReadBack:
        return self.read_fn(workbook, layout)

    def score(self, record: Any, profile: Any) -> Any:
        return self.layout(profile.id).evaluate(record)[1]

    def unit_named(self, record: Any) -> str:
        value = field_of(record, self.unit_field)
        return str(value).strip() if value is not None else ""

    def figures(self, record: Any) -> tuple[float | None, float | None, float | None]:
        return self.figures_fn(record) if self.figures_fn is not None else (None, None, None)

    def has_figures(self) -> bool:
        return self.figures_fn is not None

    def unfilled(self, record: Any, sent: tuple = ()) -> bool:
        return self.unfilled_fn(record, sent)

    def statement_findings(self, record: Any, result: Any) -> list:
        return self.statement_findings_fn(record, result)

    def narrative_context(self, readback: ReadBack) -> dict:
        if self.narrative_context_fn is not None:
            return self.narrative_context_fn(readback)
        return {"record": readback.record, "result": readback.evaluate()}


def cell_value(v: Any) -> Any:
    """A cell value normalised for comparison: None for empty (or blanks only), numbers rounded, text stripped."""
    if v is None:
        return None
    if v.__class__ is str:           # most cells: a text (or a blank typed as "")
        return v.strip() or None
    if isinstance(v, bool):
        return v
    if is_number(v):
        return round(float(v), 6)
    text = str(v).strip()
    return text or None


def field_of(record: Any, name: str, default: Any = None) -> Any:
    """A field of a record, or of the archive's dict of its inputs (``dataclasses.asdict`` of the record)."""
    return record.get(name, default) if isinstance(record, dict) else getattr(record, name, default)


def any_typed(values: Any) -> bool:
    """Whether any of the cell values holds something (:func:`cell_value`)."""
    return any(cell_value(v) is not None for v in values)


def read_by_cells(workbook: Workbook, layout: SheetLayout) -> ReadBack:
    """The default read-back: every input cell through the layout, cached values of named formula cells."""
    record = layout.record_from_cells(lambda ref: workbook.value(layout.sheet, ref))
    return ReadBack(workbook, layout, record, cached_formula_values(workbook, layout))
