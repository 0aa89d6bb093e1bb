"""The 报告信息 area of the project workbook (issue #14 item 1): unlocked, validated, printed; filled from a
data file's 其他信息, read back from the workbook, and used by the narrative (no --info file needed)."""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
import yaml

from xlsx_engine.forms.project.layout import PROJECT_FIELDS as FIELDS
from xlsx_engine.forms.project.layout import project_layout
from xlsx_engine.forms.project.profile import load_profile
from xlsx_engine.forms.project.record import load_data
from xlsx_engine.forms.department.layout import DEPARTMENT_FIELDS, department_layout
from xlsx_engine.forms.department.model import dept_record_from_data, load_dept_profile
from xlsx_engine.forms.registry import open_template, read_form, read_project
from xlsx_engine.narrative.department import load_dept_input, render_dept_report
from xlsx_engine.narrative.engine import Narrator, from_workbook
from xlsx_engine.ooxml.recalc import convert_files

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "tests" / "data" / "seeds"
TEMPLATES = ROOT / "templates"
FACTS = {"项目概况及立项依据": "为配合国家打击欺诈骗取医保基金专项行动，守护医保基金安全。",
         "资金到位与管理情况": "预算批复资金27.56万元，实际到位27.56万元，到位率100%，专款专用。",
         "组织实施情况": "成立专项治理领导小组，开展集中宣传月和交叉检查。",
         "主要问题": "未设置“群众对部门工作的满意度”指标，对本项工作重视程度不够。",
         "改进措施": "增强服务意识，强化工作满意度评价及调查工作。",
         "结果应用与公开情况": "自评结果已在单位网站公开。",
         "自评时间": "2020-05-20", "联系人": "张某", "联系人电话": "027-12345678"}


@pytest.fixture()
def workbook(tmp_path):
    p = load_profile("hubei-wuhan")
    rec = load_data(SEEDS / "seed003-p2.yaml", p)
    rec.extra = dict(FACTS)
    path = tmp_path / "p2.xlsx"
    open_template(TEMPLATES / "xmzc-hubei-wuhan.xlsx").fill_to(rec, path)
    return path


def test_the_area_is_unlocked_validated_named_and_printed():
    wb = openpyxl.load_workbook(TEMPLATES / "xmzc-hubei-wuhan.xlsx")
    ws = wb["自评表"]
    layout = project_layout("hubei-wuhan")
    refs = layout.report_info
    assert list(refs) == [label for label, _h, _n in FIELDS]
    areas = ws.print_area if isinstance(ws.print_area, list) else ws.print_area.split(",")
    spans = [tuple(int(n) for n in re.findall(r"\$?[A-Z]+\$?(\d+)", a)) for a in areas]
    validated = {str(r) for dv in ws.data_validations.dataValidation for r in dv.sqref.ranges
                 if dv.type == "textLength"}
    for label, ref in refs.items():
        assert ws[ref].protection.locked is False, label
        assert ws[ref].alignment.wrap_text, label
        assert ws.cell(row=ws[ref].row, column=1).value == label
        assert any(lo <= ws[ref].row <= hi for lo, hi in spans), label
        assert ref in validated, label
        assert f"报告信息_{label}" in wb.defined_names
    assert ws.protection.sheet


def test_facts_round_trip_through_the_workbook(workbook):
    assert read_project(workbook).record.extra == FACTS


def test_the_narrative_reads_the_area(workbook):
    inp = from_workbook(workbook)
    r = Narrator().report(inp)
    text = r.text()
    for fact in ("为配合国家打击欺诈骗取医保基金专项行动", "专款专用", "成立专项治理领导小组",
                 "未设置“群众对部门工作的满意度”指标", "增强服务意识", "2020年5月20日"):
        assert fact in text, fact
    assert "待补充报告日期" not in text
    assert not [f for f in r.warnings if f.code == "unknown_info"]


def test_the_area_prints_with_the_form(workbook, soffice, tmp_path):
    convert_files([workbook], tmp_path, "pdf", soffice=soffice)
    out = subprocess.run(["pdftotext", str(tmp_path / "p2.pdf"), "-"], capture_output=True, text=True,
                         check=True).stdout
    text = re.sub(r"\s+", "", out)
    for piece in ("报告信息", "资金到位与管理情况", "专款专用", "联系人电话", "027-12345678"):
        assert piece in text, piece
    with zipfile.ZipFile(workbook) as zf:
        assert zf.testzip() is None


# ----------------------------------------------------------------------------- the 部门整体 form

DEPT_FACTS = {"主要职能": "负责全区医疗保障政策的贯彻落实和医保基金监督管理。", "机构设置": "内设综合股、待遇保障股，下属医保服务中心。",
              "重点工作": "开展打击欺诈骗保专项治理。", "管理情况": "建立预算绩效管理制度，按季度开展运行监控。",
              "存在问题": "部分项目绩效目标设置不够细化。", "改进措施": "细化量化绩效指标，加强运行监控。",
              "自评结果拟应用和公开情况": "自评结果在部门网站公开，并作为下年度预算安排的依据。",
              "自评时间": "2024-04-15", "联系人": "李某", "联系人电话": "0731-1234567"}


@pytest.fixture()
def dept_workbook(tmp_path):
    data = yaml.safe_load((ROOT / "tests" / "data" / "department" / "seed001.yaml").read_text(encoding="utf-8"))
    rec = dept_record_from_data(data, load_dept_profile("dept-hunan"))
    rec.extra = dict(DEPT_FACTS)
    path = tmp_path / "dept.xlsx"
    open_template(TEMPLATES / "bmzt-dept-hunan.xlsx").fill_to(rec, path)
    blank = tmp_path / "dept-blank.xlsx"
    rec.extra = {}
    open_template(TEMPLATES / "bmzt-dept-hunan.xlsx").fill_to(rec, blank)
    return path, blank


def test_department_form_has_the_area_and_reads_it_back(dept_workbook):
    path, blank = dept_workbook
    layout = department_layout("dept-hunan")
    assert list(layout.report_info) == [label for label, _h, _n in DEPARTMENT_FIELDS]
    ws = openpyxl.load_workbook(TEMPLATES / "bmzt-dept-hunan.xlsx")[layout.sheet]
    for ref in layout.report_info.values():
        assert ws[ref].protection.locked is False and ws[ref].alignment.wrap_text
    assert read_form(path).record.extra == DEPT_FACTS
    assert read_form(blank).record.extra == {}


def test_department_narrative_uses_the_area(dept_workbook):
    path, _ = dept_workbook
    rendered = render_dept_report(load_dept_input(path))
    text = rendered.text()
    for fact in ("负责全区医疗保障政策的贯彻落实", "部分项目绩效目标设置不够细化", "细化量化绩效指标",
                 "自评结果在部门网站公开", "2024年4月15日", "联系人：李某", "0731-1234567"):
        assert fact in text, fact
    assert not [f for f in rendered.warnings if getattr(f, "code", "") == "unknown_info"]


def test_department_area_prints_only_when_filled(dept_workbook, soffice, tmp_path):
    path, blank = dept_workbook
    convert_files([path, blank], tmp_path, "pdf", soffice=soffice)
    texts = {p.stem: re.sub(r"\s+", "", subprocess.run(["pdftotext", str(tmp_path / f"{p.stem}.pdf"), "-"],
                                                        capture_output=True, text=True, check=True).stdout)
             for p in (path, blank)}
    for piece in ("报告信息", "主要职能", "负责全区医疗保障政策", "联系人电话", "0731-1234567"):
        assert piece in texts["dept"], piece
    assert "报告信息" not in texts["dept-blank"] and "部门整体" in texts["dept-blank"]
