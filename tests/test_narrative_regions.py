"""Outlines, covers and dates by region (issue #14 item 3): the profile's ``narrative:`` settings (inherited
through ``extends:``) choose the report's outline and cover; Hunan's 附件3 only for Hunan; the date comes
from the data, never today; the 附件 reproduces the official 自评表 (year, project, goals, 单位盖章)."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import pytest

from xlsx_engine.forms.project.profile import load_profile
from xlsx_engine.forms.project.record import load_data
from xlsx_engine.kernel.errors import ProfileError
from xlsx_engine.narrative.docx import report_docx, write_docx
from xlsx_engine.narrative.engine import Narrator, from_data_file, from_record, narrative_settings
from xlsx_engine.ooxml.recalc import convert_files

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "tests" / "data" / "seeds"
TODAY = f"{dt.date.today().year}年{dt.date.today().month}月{dt.date.today().day}日"


def seed(name: str, extra: dict | None = None):
    return from_data_file(SEEDS / f"{name}.yaml", extra=extra)


@pytest.mark.parametrize("profile,region,family", [
    ("national", "national", "project"), ("national-platform", "national", "project"),
    ("hubei-wuhan", "hubei", "project"), ("ningxia-jinfeng", "ningxia", "transfer")])
def test_profiles_carry_their_region_and_outline(profile, region, family):
    assert narrative_settings(load_profile(profile)) == {"region": region, "family": family}


def test_narrative_settings_are_inherited_through_extends(tmp_path):
    child = tmp_path / "my-ningxia.yaml"
    child.write_text("extends: ningxia-jinfeng\nid: my-ningxia\nname: 我的宁夏\n", encoding="utf-8")
    assert narrative_settings(load_profile(str(child))) == {"region": "ningxia", "family": "transfer"}
    override = tmp_path / "my-hunan.yaml"
    override.write_text("extends: my-ningxia\nid: my-hunan\nname: 我的湖南\nnarrative: {region: hunan}\n",
                        encoding="utf-8")
    assert narrative_settings(load_profile(str(override))) == {"region": "hunan", "family": "transfer"}
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("extends: national\nid: wrong\nname: x\nnarrative: {region: 北京}\n", encoding="utf-8")
    with pytest.raises(ProfileError, match="narrative.region"):
        narrative_settings(load_profile(str(wrong)))


def test_outside_hunan_no_hunan_cover():
    md = Narrator().report(seed("seed004", {"报告日期": "2021-05-06"})).markdown()
    assert md.startswith("# 2020年城乡医疗保险个人补助资金绩效自评报告\n\n银川市金凤区医疗保障局\n\n2021年5月6日\n")
    assert "（制）" not in md and "评价类型" not in md and "XX" not in md
    assert "# 一、绩效目标分解下达情况" in md                   # Ningxia: seed 004's own outline
    md = Narrator().report(seed("seed004"), "transfer").markdown()
    assert "（制）" not in md
    hubei = Narrator().report(seed("seed003-p1")).markdown()
    assert "# 一、项目基本概况" in hubei and "（制）" not in hubei and "# 2019年度机关建设及日常保障经费绩效自评报告" in hubei


def test_hunan_gets_the_attachment3_cover_and_nested_summary():
    md = Narrator().report(seed("seed004", {"报告地区": "湖南", "财政局": "临湘市财政局"})).markdown()
    assert "# 财政支出项目绩效评价自评报告" in md and "临湘市财政局（制）" in md
    assert "## 五、评价报告综述（文字部分）" in md and "### （一）项目基本概况" in md
    assert Narrator().report(seed("seed004"), region="hunan").markdown().count("## 一、项目基本概况") == 1


def test_the_date_comes_from_the_data_never_today():
    r = Narrator().report(seed("seed003-p1"))
    assert TODAY not in r.markdown() and "（待补充报告日期）" in r.markdown()
    assert any("待补充报告日期" in f.message for f in r.warnings)
    r = Narrator().report(seed("seed003-p1", {"自评时间": "2020-04-30"}))
    assert "2020年4月30日" in r.markdown() and "待补充报告日期" not in r.markdown()
    _data, summary = report_docx(seed("seed003-p1"))
    assert any(f.code == "report_date" for f in summary.warnings)


def test_attachment_is_the_official_self_evaluation_table():
    md = Narrator().report(seed("seed003-p1", {"报告日期": "2020-05-20"})).markdown()
    annex = md.split("# 附件：项目支出绩效自评表")[1]
    assert "（2019年度）" in annex and "| 项目名称 | 机关建设及日常保障经费 |" in annex
    assert "| 主管部门 | 洪山区医疗保障局 |" in annex
    goal = load_data(SEEDS / "seed003-p1.yaml", load_profile("hubei-wuhan")).goals[0].expected
    assert f"| 1 | {goal} |" in annex                                    # the goal text, whole
    assert "填报单位（盖章）：洪山区医疗保障局　　填报日期：2020年5月20日" in annex
    assert "| 总分 |  |  |  |  | 100 | 90.98 | 评价等次：优 |" in annex


def test_national_word_report_in_pdf(tmp_path, soffice):
    """The Word report outside Hunan: cover, the 综述 as sections, the 附件 with the goals wrapped, not cut."""
    p = load_profile("hubei-wuhan")
    rec = load_data(SEEDS / "seed003-p1.yaml", p)
    long_goal = "贯彻落实党中央、省委和市委关于医疗保障工作的方针政策和决策部署，" * 3 + "全年完成。"
    rec.goals[0].expected = long_goal
    data, _summary = report_docx(from_record(rec, p, extra={"报告日期": "2020-05-20"}))
    write_docx(tmp_path / "r.docx", data)
    convert_files([tmp_path / "r.docx"], tmp_path, "pdf", soffice=soffice)
    text = re.sub(r"\s+", "", subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], capture_output=True,
                                             text=True, check=True).stdout)
    for piece in ("2019年度机关建设及日常保障经费绩效自评报告", "洪山区医疗保障局", "2020年5月20日",
                  "一、项目基本概况", "六、存在的问题及原因", "附件", "项目支出绩效自评表", "（2019年度）",
                  "填报单位（盖章）：洪山区医疗保障局", re.sub(r"\s+", "", long_goal)):
        assert piece in text, piece
    assert "（制）" not in text and "评价类型" not in text
