"""部门整体支出绩效自评表 (form ``bmzt``): 基础数据表, 指标计算表 and 整体自评表 on one locked sheet."""

from __future__ import annotations

from xlsx_engine.forms.base import FormKind, read_by_cells
from xlsx_engine.forms.department.layout import department_layout
from xlsx_engine.forms.department.model import (
    DEPT_PROFILE_DIR,
    dept_figures,
    dept_unfilled,
    load_dept_data,
    load_dept_profile,
    statement_findings,
)

FORM = FormKind(
    prefix="bmzt", title="部门整体支出绩效自评表",
    profile_ids_fn=lambda: sorted(p.stem for p in DEPT_PROFILE_DIR.glob("*.yaml")),
    load_profile_fn=load_dept_profile, layout_fn=department_layout, load_data_fn=load_dept_data,
    read_fn=read_by_cells, unfilled_fn=dept_unfilled, statement_findings_fn=statement_findings,
    unit_field="department", figures_fn=dept_figures, whole=True,
)
