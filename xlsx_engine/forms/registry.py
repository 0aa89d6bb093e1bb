"""The registry of forms: the only place that knows every form.

Each entry of :data:`FORMS` is a form package's ``FORM`` (a :class:`~xlsx_engine.forms.base.Form`).
``jxzp build`` builds every profile of every form; a workbook's 模板编号 (``<prefix>-<profile>``)
selects its form. Adding a form means adding one line here, not editing the builder, the filler,
the checks or the command line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xlsx_engine.forms import department, hunan, project
from xlsx_engine.forms.base import Form, read_by_cells
from xlsx_engine.kernel.errors import TemplateError
from xlsx_engine.ooxml.builder import TEMPLATE_DIR, render, template_filename
from xlsx_engine.ooxml.filler import Template
from xlsx_engine.ooxml.reader import ReadBack, Workbook, open_workbook
from xlsx_engine.ooxml.safezip import atomic_write_bytes
from xlsx_engine.ooxml.sheetmodel import SheetLayout

#: Every form the engine knows, one line each.
FORMS: list[Form] = [
    project.FORM,
    department.FORM,
    hunan.FORM,
]


def forms() -> list[Form]:
    return list(FORMS)


def form_for_profile(profile_id: str) -> Form:
    """The form whose shipped profiles include ``profile_id`` (a data file's 评分规则).

    Raises:
        TemplateError: no form has that profile.
    """
    for form in FORMS:
        if profile_id in form.profile_ids():
            return form
    raise TemplateError(f"没有评分规则“{profile_id}”对应的模板",
                        hint="可用：" + "、".join(pid for f in FORMS for pid in f.profile_ids()))


def form_for(template_id: str) -> Form:
    """The form of a template id such as "xmzc-national".

    Raises:
        TemplateError: no form has that prefix.
    """
    prefix = str(template_id).split("-", 1)[0]
    for form in FORMS:
        if form.prefix == prefix:
            return form
    raise TemplateError(f"未知的模板编号“{template_id}”", hint="请使用本系统生成的模板")


def _known(template_id: str) -> Form | None:
    """The form of a template id read from a file or the archive; None for an id no form knows."""
    try:
        return form_for(template_id)
    except TemplateError:
        return None


def unit_of(template_id: str, inputs: dict) -> str:
    """The unit a form of ours names in its inputs as read (a 项目 form's 实施单位, a 部门整体 form's 部门名称);
    "" for an unknown template or an empty field."""
    form = _known(template_id)
    return form.unit_named(inputs or {}) if form is not None else ""


def figures_of(template_id: str, inputs: dict) -> tuple[float | None, float | None, float | None]:
    """The (预算数, 执行数, 执行率) a form of ours reports in its inputs as read (:meth:`Form.figures`; a 部门整体 form's
    支出合计 of 预算 and 决算); (None, None, None) for an unknown template or a form that keeps them otherwise."""
    form = _known(template_id)
    return form.figures(inputs or {}) if form is not None else (None, None, None)


def has_figures(template_id: str) -> bool:
    """Whether a template's form reports its amounts in its inputs (:meth:`Form.has_figures`); False for an unknown
    template."""
    form = _known(template_id)
    return form is not None and form.has_figures()


def is_whole(template_id: str) -> bool:
    """Whether a template's form reports a unit's whole spending (部门整体, :attr:`Form.whole`)."""
    form = _known(template_id)
    return form is not None and form.whole


def sent_by_project(template_id: str) -> bool:
    """Whether a template's form is sent project by project (``jxzp bulk``: the 项目 form, named by its 项目编码);
    the others (部门整体, 湖南) are a unit's, matched by the unit they name. False for an unknown template."""
    return _known(template_id) is project.FORM


def form_of_layout(layout: SheetLayout) -> Form:
    """The form a layout belongs to."""
    return form_for(layout.template_id)


def layout_for_meta(meta: dict[str, str]) -> SheetLayout:
    """The layout a workbook claims to be (by its 模板编号, 评分规则 and 模板版本).

    The 评分规则 is only ever an id among the shipped profiles of the form, never a path.

    Raises:
        TemplateError: no identity, an unknown form or profile, or another version of the template.
    """
    profile_id = meta.get("评分规则")
    if not profile_id:
        raise TemplateError("工作簿中没有模板标识（评分规则），不是本系统生成的模板")
    form = form_for(meta.get("模板编号") or f"{project.FORM.prefix}-{profile_id}")
    if profile_id not in form.profile_ids():
        raise TemplateError(f"评分规则“{profile_id[:40]}”不存在（模板标识被改动）",
                            hint="可用：" + "、".join(form.profile_ids()))
    layout = form.layout(profile_id)
    if meta.get("模板版本") != layout.form.version:
        raise TemplateError(f"模板版本为“{meta.get('模板版本')}”，本程序为“{layout.form.version}”",
                            hint="请用 jxzp build 重新生成模板，或使用匹配版本的程序")
    return layout


def open_template(path: str | Path) -> Template:
    """Load and verify one of our templates (any form), ready to be filled many times."""
    return Template.open(path, layout_for_meta)


def _identified(path: str | Path) -> Workbook:
    wb = open_workbook(path)
    if "评分规则" not in wb.meta:
        raise TemplateError("不是本系统模板生成的工作簿（缺少模板标识）", where=str(path),
                            hint="其他来源的自评表请先用 jxzp import 转换")
    return wb


def read_form(path: str | Path) -> ReadBack:
    """Read any workbook made from one of our templates (every form), cell by cell through its layout.

    ``cached`` maps every single-cell defined name that holds a formula to the workbook's cached value.

    Raises:
        WorkbookError: unreadable file. TemplateError: not one of our templates.
    """
    wb = _identified(path)
    return read_by_cells(wb, layout_for_meta(wb.meta))


def read_workbook(path: str | Path) -> ReadBack:
    """Read a filled workbook the way its form reads itself back (the project form by defined names).

    For workbooks the engine itself wrote (templates, fills). A file returned by a unit is read by the commands
    with :func:`xlsx_engine.integrity.reading.read_form_file` — the checker's one parse and documented places —
    so that a redirected name or an odd number spelling cannot make two commands disagree.
    """
    wb = _identified(path)
    layout = layout_for_meta(wb.meta)
    return form_of_layout(layout).read(wb, layout)


def read_project(path: str | Path) -> ReadBack:
    """Read a filled 项目支出绩效自评表 by its defined names.

    Raises:
        WorkbookError: unreadable file. TemplateError: not one of our templates, or names missing.
    """
    return read_workbook(path)


def load_record(form: Form, path: str | Path, profile: Any) -> Any:
    """A data file read for a form (convenience for the layers above)."""
    return form.load_data(Path(path), profile)


def build_all(outdir: str | Path = TEMPLATE_DIR, profiles: list[str] | None = None) -> list[Path]:
    """Build the template of every form and profile (or of the profiles named) into ``outdir``.

    Returns:
        The paths written.
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    layouts = [form.layout(pid) for form in FORMS for pid in form.profile_ids()
               if not profiles or pid in profiles]
    for layout in layouts:
        path = outdir / template_filename(layout)
        atomic_write_bytes(path, render(layout))
        written.append(path)
    return written
