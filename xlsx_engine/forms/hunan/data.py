"""Reading a data file (YAML/JSON) for the Hunan project form into a record sized to the template."""

from __future__ import annotations

from xlsx_engine.forms.hunan.layout import hunan_layout
from xlsx_engine.forms.hunan.model import (
    HunanProfile,
    HunanProjectRecord,
    hnxm_record_from_data,
)
from xlsx_engine.kernel.datafile import read_data_file


def load_hnxm_data(path, profile: HunanProfile) -> HunanProjectRecord:
    """Read and validate a data file for the Hunan project form.

    The 五、评价报告综述 sections the file does not supply stay absent from ``record.summary``; the
    narrative layer writes them from the record (``narrative.department.complete_record``, what
    ``jxzp fill`` calls); ``评价报告综述: false`` in the file leaves them blank.
    """
    layout = hunan_layout(profile.id)
    rec = hnxm_record_from_data(read_data_file(path), profile, str(path), layout.row_counts)
    return rec
