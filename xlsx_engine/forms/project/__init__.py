"""项目支出绩效自评表 (form ``xmzc``): profile, record, rules (scoring ⇄ formulas), layout, read-back."""

from __future__ import annotations

from xlsx_engine.forms.base import FormKind
from xlsx_engine.forms.project.layout import project_layout
from xlsx_engine.forms.project.profile import list_profiles, load_profile
from xlsx_engine.forms.project.readback import RESULT_NAMES, read_by_names
from xlsx_engine.forms.project.record import load_data, unfilled
from xlsx_engine.kernel.statements import project_findings


def _load(path, profile):
    return load_data(path, profile, max_rows=len(project_layout(profile.id).indicator_rows))


FORM = FormKind(
    prefix="xmzc", title="项目支出绩效自评表",
    profile_ids_fn=list_profiles, load_profile_fn=load_profile, layout_fn=project_layout, load_data_fn=_load,
    read_fn=read_by_names, unfilled_fn=unfilled, result_names=RESULT_NAMES,
    statement_findings_fn=lambda record, result: project_findings(getattr(record, "stated", {}) or {}, result),
)
