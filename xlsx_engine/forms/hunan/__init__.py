"""湖南财政支出项目绩效评价自评报告 (form ``hnxm``, 临湘 2021 附件3 form)."""

from __future__ import annotations

from xlsx_engine.forms.base import FormKind, read_by_cells
from xlsx_engine.forms.hunan.data import load_hnxm_data
from xlsx_engine.forms.hunan.layout import hunan_layout
from xlsx_engine.forms.hunan.model import hnxm_figures, hnxm_unfilled, hunan_profile_ids, load_hunan_profile

FORM = FormKind(
    prefix="hnxm", title="湖南财政支出项目绩效评价自评报告",
    profile_ids_fn=hunan_profile_ids, load_profile_fn=load_hunan_profile, layout_fn=hunan_layout,
    load_data_fn=load_hnxm_data, read_fn=read_by_cells, unfilled_fn=hnxm_unfilled, figures_fn=hnxm_figures,
)
