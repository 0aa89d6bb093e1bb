"""Printing: filled workbooks rendered to PDF by LibreOffice look like the official forms on A4 landscape.

The project form (seed 004's 项目支出绩效自评表) prints up to 12 indicators on one page with 总分, 评价等次
and the signature line; more continue on a second page under the repeated header. The department form
starts each of its three sections on a new page; the Hunan report repeats no table header on its
narrative and 校验提示 pages. Pages are read back with ``pdfinfo`` and ``pdftotext -layout``.
"""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path

import pytest
import yaml

from xlsx_engine.forms.department.model import dept_record_from_data, load_dept_profile
from xlsx_engine.forms.hunan.layout import hunan_layout
from xlsx_engine.forms.hunan.model import hnxm_record_from_data
from xlsx_engine.forms.project.layout import PAGE_ROWS, project_layout
from xlsx_engine.forms.project.profile import load_profile
from xlsx_engine.forms.project.record import FundLine, Goal, IndicatorRow, ProjectRecord, load_data
from xlsx_engine.forms.registry import open_template
from xlsx_engine.ooxml.builder import TEMPLATE_DIR
from xlsx_engine.ooxml.recalc import convert_files

DATA = Path(__file__).parent / "data"
A4_LANDSCAPE = (841.89, 595.30)

#: indicators as units write them: long names, 一级指标 in groups, reasons on rows below full marks
LEVELS = [("产出指标", "数量指标"), ("产出指标", "数量指标"), ("产出指标", "质量指标"), ("产出指标", "时效指标"),
          ("产出指标", "成本指标"), ("效益指标", "社会效益指标"), ("效益指标", "社会效益指标"),
          ("效益指标", "可持续影响指标"), ("满意度指标", "服务对象满意度指标")]


def record(profile_id: str, n: int) -> ProjectRecord:
    """A project with ``n`` indicators and the template's five goals (the most rows a form prints)."""
    p = load_profile(profile_id)
    rec = ProjectRecord(profile_id, year=2023.0, project="城乡医疗救助补助资金", department="某市医疗保障局",
                        unit="某区医疗保障局", rate_reason="部分资金年底拨付，次年初支付完毕")
    rec.funds = [FundLine(source, 100.0, 120.0, 108.0) for source in p.fund_sources[:1]]
    rec.goals = [Goal(f"目标{k}：将符合条件的困难群众纳入医疗救助范围，严格管控医疗费用", "按时完成")
                 for k in range(1, 6)]
    if p.has_target_block:
        rec.target_score = p.target_weight
    levels = sorted((LEVELS * 4)[:n], key=LEVELS.index)
    weight = round(p.indicator_weight / n, 2) if p.indicator_weight else 5.0
    for k, (level1, level2) in enumerate(levels, 1):
        rec.indicators.append(IndicatorRow(
            level1, level2, f"第{k}项：资助困难群众参加城乡居民基本医疗保险的人数（含特困人员、低保对象）",
            "≥", 95.0, "%", 90.0 + k % 6, None, weight, None,
            "部分对象身份认定推送不及时，下一步加强部门间数据共享" if k % 6 < 5 else None))
    return rec


def pdf_pages(pdf: Path) -> list[str]:
    """The text of each page, as laid out."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1]


def pdf_size(pdf: Path) -> tuple[int, tuple[float, float]]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    w, h = re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups()
    return pages, (float(w), float(h))


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def rendered(soffice, tmp_path_factory) -> dict[str, Path]:
    """Filled project forms (8, 12, 20 indicators; seed 004; a blank form), the department and Hunan seeds,
    converted to PDF in one LibreOffice run."""
    out = tmp_path_factory.mktemp("print")
    files = {}
    for pid, n in (("national", 8), ("national", 12), ("national", 20), ("hubei-wuhan", 12), ("national", 0)):
        files[f"{pid}-{n}"] = (f"xmzc-{pid}.xlsx", record(pid, n) if n else ProjectRecord(pid))
    files["seed004"] = ("xmzc-ningxia-jinfeng.xlsx",
                        load_data(DATA / "seeds" / "seed004.yaml", load_profile("ningxia-jinfeng")))
    dept = yaml.safe_load((DATA / "department" / "seed001.yaml").read_text(encoding="utf-8"))
    files["dept"] = ("bmzt-dept-hunan.xlsx", dept_record_from_data(dept, load_dept_profile("dept-hunan")))
    hunan = yaml.safe_load((DATA / "hunan" / "seed000.yaml").read_text(encoding="utf-8"))
    layout = hunan_layout("hunan-project")
    files["hunan"] = ("hnxm-hunan-project.xlsx", hnxm_record_from_data(hunan, layout.profile, "seed000",
                                                                       layout.row_counts))
    paths = []
    for name, (template, rec) in files.items():
        path = out / f"{name}.xlsx"
        open_template(TEMPLATE_DIR / template).fill_to(rec, path)
        paths.append(path)
    convert_files(paths, out, "pdf", soffice=soffice)
    return {name: out / f"{name}.pdf" for name in files}

