"""The registry of forms the engine can build, fill and read.

Each form kind names its template-id prefix, how to lay it out for a profile, which
profiles exist, and how to load its data file. ``jxzp build`` builds every profile of
every form; a filled workbook's 模板编号 (``<prefix>-<profile>``) selects its form.
Adding a form means adding an entry here, not editing the builder or the filler.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from xlsx_engine.kernel.errors import TemplateError


@dataclass(frozen=True)
class FormKind:
    prefix: str                                  #: 模板编号 prefix, e.g. "xmzc"
    title: str                                   #: Chinese name shown to users
    layout: Callable[[str], Any]                 #: profile id -> Layout
    profile_ids: Callable[[], list[str]]         #: the shipped profiles of this form
    load_data: Callable[[Path, Any], Any]        #: (data file, profile) -> record


def _project() -> FormKind:
    from xlsx_engine.forms.project.layout import project_layout
    from xlsx_engine.forms.project.profile import list_profiles
    from xlsx_engine.forms.project.record import load_data

    def load(path, profile, layout=None):
        return load_data(path, profile, max_rows=len(project_layout(profile.id).indicator_rows))
    return FormKind("xmzc", "项目支出绩效自评表", project_layout, list_profiles, load)


def _department() -> FormKind:
    from xlsx_engine.forms.department.layout import department_layout
    from xlsx_engine.forms.department.model import DEPT_PROFILE_DIR, load_dept_data
    return FormKind("bmzt", "部门整体支出绩效自评表", department_layout,
                    lambda: sorted(p.stem for p in DEPT_PROFILE_DIR.glob("*.yaml")), load_dept_data)


def _hunan_project() -> FormKind:
    from xlsx_engine.forms.hunan.layout import hunan_layout
    from xlsx_engine.forms.hunan.model import hunan_profile_ids, load_hnxm_data
    return FormKind("hnxm", "湖南财政支出项目绩效评价自评报告", hunan_layout, hunan_profile_ids, load_hnxm_data)


#: Factories, so importing this module stays cheap.
FORM_FACTORIES: list[Callable[[], FormKind]] = [_project, _department, _hunan_project]


def forms() -> list[FormKind]:
    return [factory() for factory in FORM_FACTORIES]


def form_for_profile(profile_id: str) -> FormKind:
    """The form whose shipped profiles include ``profile_id`` (a data file's 评分规则).

    Raises:
        TemplateError: no form has that profile.
    """
    for form in forms():
        if profile_id in form.profile_ids():
            return form
    raise TemplateError(f"没有评分规则“{profile_id}”对应的模板",
                        hint="可用：" + "、".join(pid for f in forms() for pid in f.profile_ids()))


def form_for(template_id: str) -> FormKind:
    """The form of a template id such as "xmzc-national".

    Raises:
        TemplateError: no form has that prefix.
    """
    prefix = str(template_id).split("-", 1)[0]
    for form in forms():
        if form.prefix == prefix:
            return form
    raise TemplateError(f"未知的模板编号“{template_id}”", hint="请使用本系统生成的模板")
