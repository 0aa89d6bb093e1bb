"""``jxzp narrative --each``: one Word 自评报告 per returned workbook, from the workbook's own 报告信息 (issue 14,
item 1): a bureau produces every unit's report from what came back; a broken file is listed and the others go on."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import yaml
from xlsx_engine.cli.main import main as cli_main
from xlsx_engine.forms.department.model import dept_record_from_data, load_dept_profile
from xlsx_engine.forms.project.profile import load_profile
from xlsx_engine.forms.project.record import load_data
from xlsx_engine.forms.registry import open_template
from xlsx_engine.narrative.docx import title_lines
from xlsx_engine.ooxml.recalc import convert_files

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
DATA = ROOT / "tests" / "data"


def run(capsys, *args: str) -> tuple[int, str]:
    """``jxzp`` in-process: (exit code, stderr)."""
    capsys.readouterr()
    code = cli_main(list(args))
    return code, capsys.readouterr().err


def _returned(folder: Path) -> None:
    folder.mkdir()
    rec = load_data(DATA / "seeds" / "seed003-p2.yaml", load_profile("hubei-wuhan"))
    rec.extra = {"项目概况及立项依据": "为配合国家打击欺诈骗取医保基金专项行动而设立。", "自评时间": "2020-05-20"}
    open_template(TEMPLATES / "xmzc-hubei-wuhan.xlsx").fill_to(rec, folder / "甲单位_P2.xlsx")
    data = yaml.safe_load((DATA / "department" / "seed001.yaml").read_text(encoding="utf-8"))
    dept = dept_record_from_data(data, load_dept_profile("dept-hunan"))
    dept.extra = {"主要职能": "负责全区医疗保障政策的贯彻落实。", "自评时间": "2024-04-15"}
    open_template(TEMPLATES / "bmzt-dept-hunan.xlsx").fill_to(dept, folder / "乙单位_部门整体.xlsx")
    (folder / "丙单位_损坏.xlsx").write_bytes(b"PK\x03\x04 not a workbook")
    (folder / "~$甲单位_P2.xlsx").write_bytes(b"lock")          # an Office lock file is not an input


def _rewrite(src: Path, dest: Path, member: str, change) -> None:
    """A copy of a workbook (``dest`` may be ``src``) with one part changed: ``change(bytes) -> bytes``."""
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info, change(data) if info.filename == member else data)
    dest.write_bytes(buf.getvalue())


def _property(name: str, value: str) -> bytes:
    """A custom document property (as docProps/custom.xml writes one), to add before ``</Properties>``."""
    return (f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="90" name="{name}">'
            f'<vt:lpwstr>{value}</vt:lpwstr></property>').encode("utf-8")


def test_each_returned_workbook_gets_its_report(tmp_path, soffice, capsys):
    _returned(tmp_path / "回收")
    out = tmp_path / "报告"
    code, err = run(capsys, "narrative", str(tmp_path / "回收"), "--each", str(out))
    assert code == 1, err                                     # one file could not be reported
    assert "Traceback" not in err
    assert "丙单位_损坏.xlsx" in err and "生成 2 份报告，1 个文件未能生成" in err
    assert sorted(p.name for p in out.iterdir()) == ["乙单位_部门整体_自评报告.docx", "甲单位_P2_自评报告.docx"]
    convert_files(sorted(out.iterdir()), tmp_path / "pdf", "pdf", soffice=soffice)
    texts = {}
    for pdf in (tmp_path / "pdf").iterdir():
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        assert re.search(r"Page size:\s+595(\.\d+)? x 841", info), pdf.name          # A4
        texts[pdf.stem] = re.sub(r"\s+", "", subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True,
                                                            text=True, check=True).stdout)
    project, department = texts["甲单位_P2_自评报告"], texts["乙单位_部门整体_自评报告"]
    assert "为配合国家打击欺诈骗取医保基金专项行动而设立" in project and "2020年5月20日" in project
    assert "负责全区医疗保障政策的贯彻落实" in department and "2024年4月15日" in department


def test_each_keeps_existing_reports_and_refuses_mixed_options(tmp_path, capsys):
    _returned(tmp_path / "回收")
    out = tmp_path / "报告"
    out.mkdir()
    (out / "甲单位_P2_自评报告.docx").write_bytes(b"mine")
    code, err = run(capsys, "narrative", str(tmp_path / "回收" / "甲单位_P2.xlsx"), "--each", str(out))
    # a rerun after some units resubmitted: the reports there are kept and counted, not failures
    assert code == 0 and "错误：" not in err, err
    assert "生成 0 份报告，0 个文件未能生成，1 份报告已存在、未重新生成（加 --force 重新生成）" in err, err
    assert (out / "甲单位_P2_自评报告.docx").read_bytes() == b"mine"
    code, err = run(capsys, "narrative", str(tmp_path / "回收" / "甲单位_P2.xlsx"), "--each", str(out), "--force")
    assert code == 0 and (out / "甲单位_P2_自评报告.docx").read_bytes()[:2] == b"PK", err
    code, err = run(capsys, "narrative", str(tmp_path / "回收"), "--each", str(out), "-o", "x.docx")
    assert code == 2 and "--each 不能与" in err
    (tmp_path / "afile").write_text("x")
    code, err = run(capsys, "narrative", str(tmp_path / "回收"), "--each", str(tmp_path / "afile"))
    assert code == 2 and "应为文件夹" in err


def test_each_walks_sub_folders_names_twins_apart_and_lists_what_it_skips(tmp_path, capsys):
    """A 回收 folder as units send it: one file name in two units' sub-folders gets two reports; a link out of the
    folder and a lock file are listed with why, not read (the walk ``collect`` and ``check`` use)."""
    sent = tmp_path / "回收"
    _returned(sent)
    (sent / "丙单位_损坏.xlsx").unlink()
    (sent / "二科").mkdir()
    shutil.copy(sent / "甲单位_P2.xlsx", sent / "二科" / "甲单位_P2.xlsx")
    outside = tmp_path / "别处.xlsx"
    shutil.copy(sent / "甲单位_P2.xlsx", outside)
    (sent / "链接.xlsx").symlink_to(outside)
    out = tmp_path / "报告"
    code, err = run(capsys, "narrative", str(sent), "--each", str(out))
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["乙单位_部门整体_自评报告.docx", "二科_甲单位_P2_自评报告.docx",
                                                    "甲单位_P2_自评报告.docx"]
    assert "跳过：" in err and "链接.xlsx：是指向本文件夹以外的符号链接，未读取" in err and "~$甲单位_P2.xlsx：是 Excel/WPS" in err
    assert "生成 3 份报告，0 个文件未能生成" in err and "跳过 2 个文件" in err


def test_long_titles_break_before_their_ending():
    assert title_lines("2024年度君山区医疗保障局整体支出绩效自评报告") == ["2024年度君山区医疗保障局", "整体支出绩效自评报告"]
    assert title_lines("某局绩效自评报告") == ["某局绩效自评报告"]
    assert title_lines("2023年度城乡医疗救助补助资金项目绩效自评报告") == ["2023年度城乡医疗救助补助资金项目", "绩效自评报告"]


def test_one_department_workbook_given_to_narrative_gets_its_own_report(tmp_path, capsys):
    """``jxzp narrative 部门整体.xlsx -o 报告.docx`` writes the 部门整体 report, as --each does (it ended in 内部错误:
    the project report was tried on a 部门整体 workbook); any other output or option it cannot take says, in
    Chinese and with exit 2, which command makes that form's report."""
    import docx
    _returned(tmp_path / "回收")
    dept = tmp_path / "回收" / "乙单位_部门整体.xlsx"
    report = tmp_path / "报告.docx"
    code, err = run(capsys, "narrative", str(dept), "-o", str(report))
    assert code == 0 and "内部错误" not in err, err
    texts = [p.text for p in docx.Document(str(report)).paragraphs if p.text.strip()]
    assert "整体支出绩效自评报告" in texts[0] and "负责全区医疗保障政策的贯彻落实。" in "".join(texts)
    for extra in (["-o", str(tmp_path / "报告.md")], [], [str(tmp_path / "回收" / "甲单位_P2.xlsx"), "-o",
                                                          str(tmp_path / "两个.docx")]):
        code, err = run(capsys, "narrative", str(dept), *extra)
        assert code == 2 and "这是部门整体支出绩效自评表，不是项目支出绩效自评表" in err and "narrative-dept" in err, err


def test_a_summary_of_this_program_among_the_returned_files_is_said_so_everywhere(tmp_path, capsys):
    """A 汇总表 saved into the 回收 folder (a bureau reruns collect, or mails the folder on): check says it is this
    program's 汇总表 and does not check it as a foreign table (it listed 汇总/按单位 findings as if it were one),
    score and narrative refuse it with that reason (they said “缺少模板标识，请先用 jxzp import 转换”), import
    refuses it (it wrote a data file with no indicators), and
    narrative --each passes over it as collect does, without counting it as a failure."""
    folder = tmp_path / "回收"
    _returned(folder)
    (folder / "丙单位_损坏.xlsx").unlink()
    summary = folder / "汇总表.xlsx"
    code, err = run(capsys, "collect", str(folder), "-o", str(summary))
    assert code == 0 and summary.is_file(), err
    capsys.readouterr()
    code = cli_main(["check", str(summary)])
    out = capsys.readouterr().out
    assert code == 0 and "（本程序输出）" in out and "是本程序生成的回收汇总表，不是交回的自评表，未核对" in out
    assert "按标签读取" not in out
    for args in (["score", str(summary)], ["narrative", str(summary), "-o", str(tmp_path / "x.docx")],
                 ["import", str(summary), "-o", str(tmp_path / "x.yaml")]):        # import wrote 0 indicators
        code, err = run(capsys, *args)
        assert code == 2 and "是本程序生成的回收汇总表，不是交回的自评表" in err and "jxzp import" not in err, err
    code, err = run(capsys, "narrative", str(folder), "--each", str(tmp_path / "报告"))
    assert code == 0, err
    assert "跳过：" in err and "汇总表.xlsx：是本程序生成的回收汇总表，不是交回的自评表，未生成报告" in err
    assert "生成 2 份报告，0 个文件未能生成" in err


def test_a_form_that_also_claims_to_be_an_output_is_read_by_check_and_collect_alike(tmp_path, capsys):
    """One decision for “this program's output, not a form”: the checker's. A returned form that carries its
    template identity and also the output property (a crafted file) is checked as the form it is — and collect,
    which used to ask the property itself and passed the file over as a 汇总表, now reads it as check does."""
    from xlsx_engine.bureau.collect import collect
    from xlsx_engine.kernel.files import OUTPUT_PROPERTY

    folder = tmp_path / "回收"
    _returned(folder)
    (folder / "丙单位_损坏.xlsx").unlink()
    form = folder / "甲单位_P2.xlsx"
    _rewrite(form, form, "docProps/custom.xml",
             lambda d: d.replace(b"</Properties>", _property(OUTPUT_PROPERTY, "回收汇总表") + b"</Properties>"))
    capsys.readouterr()
    cli_main(["check", str(form)])
    assert "（本系统模板 xmzc-hubei-wuhan" in capsys.readouterr().out
    coll = collect(folder)
    assert sorted(r.relpath for r in coll.rows if r.kind == "本系统模板") == ["乙单位_部门整体.xlsx", "甲单位_P2.xlsx"]
    assert not [u for u in coll.unused if u.kind == "本程序输出"]
    # narrative --each used to ask the property itself and passed the form over as a 汇总表
    out = tmp_path / "报告"
    code, err = run(capsys, "narrative", str(folder), "--each", str(out))
    assert code == 0 and "未生成报告" not in err, err
    assert sorted(p.name for p in out.iterdir()) == ["乙单位_部门整体_自评报告.docx", "甲单位_P2_自评报告.docx"]
    # review's reading of the folder takes it as the unit's project form, not as a file to skip
    from xlsx_engine.bureau.review.intake import scan_folder
    from xlsx_engine.bureau.review.rubric import DEFAULT_RUBRIC, load_rubric
    scan = scan_folder(folder, load_rubric(DEFAULT_RUBRIC))
    assert [Path(p.path).name for u in scan.units.values() for p in u.projects] == ["甲单位_P2.xlsx"]


def test_a_project_form_returned_blank_gets_no_report_from_each(tmp_path, capsys):
    """A bureau's ``--each`` over the returned folder passes over a project form nothing was typed into (collect's
    待填报: no 实际完成值, no 完成等级, no 全年执行数) and says why, instead of a report of “待补充”; a form with one
    value typed is reported on, and the blank form still gets its report when it is asked for on its own."""
    from xlsx_engine.bureau.collect import BLANK, collect

    folder = tmp_path / "回收"
    _returned(folder)
    (folder / "丙单位_损坏.xlsx").unlink()
    rec = load_data(DATA / "seeds" / "seed003-p2.yaml", load_profile("hubei-wuhan"))
    for row in rec.indicators:
        row.actual = row.band = row.manual = row.reason = None
    for fund in rec.funds:
        fund.spent = None
    tpl = open_template(TEMPLATES / "xmzc-hubei-wuhan.xlsx")
    tpl.fill_to(rec, folder / "丁单位_未填.xlsx")
    rec.indicators[0].actual = rec.indicators[0].target          # one value typed: no longer blank
    tpl.fill_to(rec, folder / "戊单位_刚开始填.xlsx")
    statuses = {r.relpath: r.status for r in collect(folder).rows}
    assert statuses["丁单位_未填.xlsx"] == BLANK and statuses["戊单位_刚开始填.xlsx"] != BLANK

    out = tmp_path / "报告"
    code, err = run(capsys, "narrative", str(folder), "--each", str(out))
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["乙单位_部门整体_自评报告.docx", "戊单位_刚开始填_自评报告.docx",
                                                     "甲单位_P2_自评报告.docx"]
    line = next(x for x in err.splitlines() if "丁单位_未填.xlsx" in x)
    assert line.startswith("跳过：") and "仍是空白表" in line and "单独运行 jxzp narrative" in line, line
    assert "生成 3 份报告，0 个文件未能生成" in err and "跳过 2 个文件" in err, err     # the lock file, the blank form
    # on its own, the unit's blank form still gets its (draft) report
    code, err = run(capsys, "narrative", str(folder / "丁单位_未填.xlsx"), "-o", str(tmp_path / "单独.docx"))
    assert code == 0 and (tmp_path / "单独.docx").stat().st_size > 0, err


def _docx_text(path: Path) -> str:
    import zipfile
    with zipfile.ZipFile(path) as zf:
        return re.sub(r"<[^>]+>", "", zf.read("word/document.xml").decode("utf-8"))


def _with_code(src: Path, dest: Path, code: str) -> None:
    """A copy of a filled form whose identity carries a 项目编码 (as bulk's copies do)."""
    _rewrite(src, dest, "docProps/custom.xml",
             lambda d: d.replace(b"</Properties>", _property("项目编码", code) + b"</Properties>"))


def test_each_writes_one_report_per_project_with_the_date_and_flags_what_the_checks_found(tmp_path, capsys):
    """The bureau's run over a 回收 folder: a project returned twice gets one report, from the newer file (as
    collect counts it); ``--date`` gives every report the bureau's date; a form the checks find errors in is
    still reported on, and the first line about it says so."""
    import os

    from xlsx_engine.bureau.collect import collect
    folder = tmp_path / "回收"
    _returned(folder)
    (folder / "丙单位_损坏.xlsx").unlink()
    _with_code(folder / "甲单位_P2.xlsx", folder / "甲单位_P2（修改版）.xlsx", "P2")
    _with_code(folder / "甲单位_P2.xlsx", folder / "甲单位_P2(1).xlsx", "P2")
    (folder / "甲单位_P2.xlsx").unlink()
    os.utime(folder / "甲单位_P2(1).xlsx", (1_700_000_000, 1_700_000_000))      # the older submission
    rows = collect(folder).rows
    assert [r.relpath for r in rows if r.code == "P2"] == ["甲单位_P2（修改版）.xlsx"]
    out = tmp_path / "报告"
    code, err = run(capsys, "narrative", str(folder), "--each", str(out), "--date", "2024-03-31")
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["乙单位_部门整体_自评报告.docx", "甲单位_P2（修改版）_自评报告.docx"]
    line = next(x for x in err.splitlines() if "甲单位_P2(1).xlsx" in x)
    assert line.startswith("跳过：") and "已被较新的交回文件替代：" in line and "甲单位_P2（修改版）.xlsx" in line, line
    for report in out.iterdir():
        text = _docx_text(report)
        assert "2024年3月31日" in text and "待补充报告日期" not in text, report.name

    # a form whose formula was typed over: reported on, and said first
    tampered = tmp_path / "改过"
    tampered.mkdir()

    def type_over(sheet: bytes) -> bytes:
        sheet, n = re.subn(rb'<c r="(K\d+)"([^>]*)><f>[^<]*</f><v>([^<]*)</v></c>', rb'<c r="\1"\2><v>100</v></c>',
                           sheet, count=1)
        assert n == 1
        return sheet

    _rewrite(folder / "甲单位_P2（修改版）.xlsx", tampered / "甲单位_P2.xlsx", "xl/worksheets/sheet1.xml", type_over)
    code, err = run(capsys, "narrative", str(tampered), "--each", str(tmp_path / "报告2"))
    assert code == 0 and (tmp_path / "报告2" / "甲单位_P2_自评报告.docx").exists(), err
    assert "提示：" in err and "核对发现 1 个错误" in err and "公式被替换" in err, err


def test_one_crafted_file_does_not_stop_the_others_and_forms_are_told_as_check_tells_them(tmp_path, capsys):
    """A 部门整体 form whose 模板编号 property was changed to a project template's (and its 评分规则 removed) is
    read by the checker as the 部门整体 form its hidden 字典 sheet says; ``--each`` used to pick the form from the
    property and stopped the whole run with 内部错误. A form whose document properties were all removed is known
    by its 字典 sheet, and reported on."""
    folder = tmp_path / "回收"
    _returned(folder)
    (folder / "丙单位_损坏.xlsx").unlink()
    dept, project = folder / "乙单位_部门整体.xlsx", folder / "甲单位_P2.xlsx"
    _rewrite(dept, dept, "docProps/custom.xml",
             lambda d: re.sub(r'<property[^>]*name="评分规则">.*?</property>', "", d.decode("utf-8").replace(
                 "bmzt-dept-hunan", "xmzc-hubei-wuhan")).encode("utf-8"))
    _rewrite(project, project, "docProps/custom.xml", lambda d: d.split(b"<property")[0] + b"</Properties>")
    capsys.readouterr()
    cli_main(["check", str(folder / "乙单位_部门整体.xlsx")])
    assert "bmzt-dept-hunan" in capsys.readouterr().out
    out = tmp_path / "报告"
    code, err = run(capsys, "narrative", str(folder), "--each", str(out))
    assert code == 0 and "内部错误" not in err, err
    assert sorted(p.name for p in out.iterdir()) == ["乙单位_部门整体_自评报告.docx", "甲单位_P2_自评报告.docx"]
    assert "部门整体" in _docx_text(out / "乙单位_部门整体_自评报告.docx")


def test_each_with_the_master_knows_a_copy_sent_with_its_spending_and_returned_untouched(tmp_path, capsys):
    """When the 总表 fills in 全年执行数, a copy returned untouched is not empty; collect knows it is 待填报 from the
    master, and ``--each --master`` now decides the same (without the master the copy is reported on)."""
    from xlsx_engine.bureau.bulk import bulk
    from xlsx_engine.bureau.collect import BLANK, collect
    from xlsx_engine.bureau.master import write_master

    ind = (("产出指标", "数量指标"), ("效益指标", "社会效益指标"), ("满意度指标", "服务对象满意度指标"))
    projects = ("P1", "P2")
    rows = {
        "单位": [["甲单位", "市卫健委", "张三", "0731-1111"]],
        "项目": [[code, "甲单位", f"甲单位项目{code}", "national", 2023, None, None, None] for code in projects],
        "资金": [["P1", "当年财政拨款", 100, 100, 80], ["P2", "当年财政拨款", 100, 100, None]],
        "指标": [r for code in projects for r in (
            [code, *ind[0], "培训人数", "≥", 100, "人", 50, None, None, None, None],
            [code, *ind[1], "知晓率", "≥", 90, "%", 30, None, None, None, None],
            [code, *ind[2], "满意度", "≥", 90, "%", 10, None, None, None, None])],
        "目标": [[code, "完成年度任务", None] for code in projects],
    }
    master = tmp_path / "总表.xlsx"
    write_master(master, rows)
    sent = tmp_path / "下发"
    assert not bulk(master, sent, by="project").errors
    assert {r.code: r.status for r in collect(sent, master=master).rows} == {"P1": BLANK, "P2": BLANK}
    code, err = run(capsys, "narrative", str(sent), "--each", str(tmp_path / "无总表"))
    assert code == 0 and len(list((tmp_path / "无总表").iterdir())) == 1, err     # P1 (80 sent) looks typed
    code, err = run(capsys, "narrative", str(sent), "--each", str(tmp_path / "有总表"), "--master", str(master))
    assert code == 0, err
    assert not list((tmp_path / "有总表").iterdir())
    assert err.count("仍是空白表") == 2, err
    code, err = run(capsys, "narrative", str(sent), "--master", str(master))
    assert code == 2 and "--master 只与 --each 同用" in err


def _sent_six(tmp_path: Path) -> tuple[Path, Path, dict[str, Path]]:
    """(master, folder, form by code) of test_collect's six projects, sent by bulk and not yet filled."""
    import sys
    sys.path.insert(0, str(ROOT / "tests"))
    from test_collect import loop_master

    from xlsx_engine.bureau.bulk import bulk
    master = loop_master(tmp_path / "总表.xlsx")
    sent = tmp_path / "sent"
    bulk(master, sent)
    return master, sent, {c: next(sent.glob(f"*_{c}_*.xlsx")) for c in ("P1", "P2", "P3", "P4", "P5", "P6")}


def test_each_over_a_folder_decides_as_collect_does(tmp_path, capsys):
    """``--each`` over a 回收 folder takes collect's decisions, so the two never disagree: a newer copy of P1 that
    cannot be read does not take P1's report away (collect counts the readable one); a copy of P6 whose 项目编码
    property was removed is known by bulk's manifest, so P6 gets one report, not two; a project returned blank
    gets none; the unreadable file is an error line."""
    import os
    import time

    from xlsx_engine.bureau.collect import collect
    master, sent, form = _sent_six(tmp_path)                       # puts tests/ on the path
    from test_collect import FILL, edit_sheet
    for code in ("P1", "P2", "P3", "P5", "P6"):
        edit_sheet(form[code], FILL)
    bad = form["P1"].with_name(form["P1"].stem + "(2).xlsx")        # newer, cut in half
    _rewrite(form["P1"], bad, "xl/worksheets/sheet1.xml", lambda d: d[:len(d) // 2])
    os.utime(bad, (time.time() + 60, time.time() + 60))
    older = form["P6"].with_name(form["P6"].stem + "(1).xlsx")      # an older copy of P6
    shutil.copy(form["P6"], older)
    os.utime(older, (time.time() - 3600, time.time() - 3600))
    _rewrite(form["P6"], form["P6"], "docProps/custom.xml",       # P6 itself loses its 项目编码 property
             lambda d: re.sub(r'<property[^>]*name="项目编码">.*?</property>', "", d.decode("utf-8")).encode("utf-8"))
    rows = {r.code: r for r in collect(sent, master=master).rows}
    assert Path(rows["P1"].file) == form["P1"] and Path(rows["P6"].file) == form["P6"]

    out = tmp_path / "报告"
    code, err = run(capsys, "narrative", str(sent), "--each", str(out), "--master", str(master))
    assert code == 1, err                                            # the half file is an error line
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(f"{form[c].stem}_自评报告.docx" for c in ("P1", "P2", "P3", "P5", "P6")), names
    assert f"错误：{bad.relative_to(tmp_path)}" in err or bad.name in err, err
    assert "P4" in next(x for x in err.splitlines() if "仍是空白表" in x)
    assert "已被较新的交回文件替代" in next(x for x in err.splitlines() if older.name in x)
    # the older copy had its report from an earlier run: said to be out of date (never deleted by the program)
    (out / f"{older.stem}_自评报告.docx").write_bytes(b"earlier")
    code, err = run(capsys, "narrative", str(sent), "--each", str(out), "--master", str(master))
    line = next(x for x in err.splitlines() if older.name in x)
    assert f"“{older.stem}_自评报告.docx”已不适用，可删除" in line, line
    assert (out / f"{older.stem}_自评报告.docx").read_bytes() == b"earlier"


def test_each_plans_every_file_once_across_the_inputs_given(tmp_path, capsys):
    """Inputs overlap as people type them: a folder and a file in it, a folder twice, two folders that both hold a
    copy of one project. Every file is planned once, one report per project (the newest copy), a blank form is
    passed over even when its bureau-set cells were edited (collect says 有错误 for that), a passed-over file is never
    told to delete a report this run wrote, a rerun says when a form is newer than its report, and an input with
    nothing to report on leaves no empty output folder."""
    import os
    import time

    master, sent, form = _sent_six(tmp_path)                       # puts tests/ on the path
    from test_collect import FILL, edit_sheet
    from test_collect_outputs import type_in
    for code in ("P1", "P2", "P3", "P5", "P6"):
        type_in(form[code], 96, (100, 95, 92))
    edit_sheet(form["P4"], {"C3": "改过的项目名称"}, locked_ok=True)       # blank, and a bureau-set cell changed
    late = tmp_path / "补交"
    late.mkdir()
    shutil.copy(form["P1"], late / form["P1"].name)                        # the same project in a second folder
    os.utime(form["P1"], (time.time() - 3600, time.time() - 3600))          # ... where the copy is newer

    out = tmp_path / "报告"
    code, err = run(capsys, "narrative", str(sent), str(sent), str(form["P2"]), str(late), "--each", str(out),
                    "--master", str(master))
    assert code == 0, err
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(f"{form[c].stem}_自评报告.docx" for c in ("P1", "P2", "P3", "P5", "P6")), names
    assert "(2)" not in "".join(names) and "已存在" not in err, err
    line = next(x for x in err.splitlines() if str(form["P1"].relative_to(tmp_path)) in x or
                (form["P1"].name in x and "跳过" in x))
    assert "已被较新的交回文件替代" in line and "补交" in line, line
    assert "仍是空白表" in next(x for x in err.splitlines() if form["P4"].name in x)
    assert "可删除" not in err, err

    # a rerun after a unit saved its form again: the report is kept, and said to be older than the form
    edit_sheet(form["P3"], FILL)
    os.utime(form["P3"], (time.time() + 60, time.time() + 60))
    code, err = run(capsys, "narrative", str(sent), "--each", str(out), "--master", str(master))
    assert code == 0, err
    assert f"交回文件比已有的报告 {form['P3'].stem}_自评报告.docx 新" in err, err

    # nothing to report on: said, and no empty folder left behind — for an empty folder and for one that holds
    # only an Office lock file (listed first, as collect lists it)
    (tmp_path / "空").mkdir()
    code, err = run(capsys, "narrative", str(tmp_path / "空"), "--each", str(tmp_path / "没有"))
    assert code == 2 and "没有找到要生成报告的自评表" in err and not (tmp_path / "没有").exists(), err
    (tmp_path / "锁").mkdir()
    (tmp_path / "锁" / "~$表.xlsx").write_bytes(b"lock")
    code, err = run(capsys, "narrative", str(tmp_path / "锁"), "--each", str(tmp_path / "没有"))
    assert code == 2 and "没有找到要生成报告的自评表" in err and "~$表.xlsx：是 Excel/WPS" in err, err
    assert not (tmp_path / "没有").exists()


def _department_and_hunan_returned(folder: Path) -> dict[str, float]:
    """A 回收 folder of 部门整体 and 湖南 forms as the program writes them (``jxzp fill``): for each form one returned
    filled, one returned as sent (only what a bureau sets: identity, budget, targets — and the Hunan form's 综述 that
    fill writes) and one where the unit has typed a single figure. Each file is its own unit's (丙单位, 丁单位, 己单位,
    庚单位; the filled ones the seeds' units): one unit's second 部门整体 form would supersede its first. Returns the
    总分 of the filled forms."""
    from xlsx_engine.forms.hunan.model import hnxm_record_from_data, load_hunan_profile
    from xlsx_engine.forms.registry import form_for
    from xlsx_engine.narrative.department import complete_record

    folder.mkdir()
    totals = {}
    dept_profile = load_dept_profile("dept-hunan")
    dept_tpl = open_template(TEMPLATES / "bmzt-dept-hunan.xlsx")
    filled = yaml.safe_load((DATA / "department" / "seed002.yaml").read_text(encoding="utf-8"))
    filled["评分"] = {i.name: i.weight - 1 for i in dept_profile.indicators if i.rule is None}
    rec = dept_record_from_data(filled, dept_profile)
    totals["乙单位_部门整体.xlsx"] = form_for("bmzt-dept-hunan").layout("dept-hunan").evaluate(rec)[1].total
    dept_tpl.fill_to(rec, folder / "乙单位_部门整体.xlsx")
    sent = {k: filled[k] for k in ("类型", "评分规则", "年度", "部门名称", "主管部门")}
    sent["人员"] = {k: filled["人员"][k] for k in ("行政编制数", "事业编制数")}
    sent["收支"] = {"预算": filled["收支"]["预算"]}
    sent.update({"年初预算数": 166.18, "预算调整数": 0, "三公经费": {"公务接待费": {"上年决算": 0.3, "本年预算": 0.5}},
                 "公用经费明细": [{"名称": "办公费"}, {"名称": "印刷费"}]})
    dept_tpl.fill_to(dept_record_from_data({**sent, "部门名称": "丙单位"}, dept_profile), folder / "丙单位_部门整体_未填.xlsx")
    sent["收支"]["决算"] = {"人员经费": 100}
    dept_tpl.fill_to(dept_record_from_data({**sent, "部门名称": "丁单位"}, dept_profile),
                     folder / "丁单位_部门整体_刚开始填.xlsx")

    hn_profile = load_hunan_profile("hunan-project")
    hn_layout = form_for("hnxm-hunan-project").layout("hunan-project")
    hn_tpl = open_template(TEMPLATES / "hnxm-hunan-project.xlsx")
    seed = yaml.safe_load((DATA / "hunan" / "seed000.yaml").read_text(encoding="utf-8"))
    rec = complete_record(hnxm_record_from_data(seed, hn_profile, "seed000", hn_layout.row_counts), hn_profile)
    totals["戊单位_湖南.xlsx"] = hn_layout.evaluate(rec)[1].total
    hn_tpl.fill_to(rec, folder / "戊单位_湖南.xlsx")
    sent = {k: seed[k] for k in ("类型", "评分规则", "年度", "项目名称", "项目单位", "主管部门", "制表单位")}
    sent["资金"] = {src: {"计划安排": v["计划安排"]} for src, v in seed["资金"].items() if src != "合计"}
    sent["定性目标"] = [{"预期目标": g["预期目标"]} for g in seed["定性目标"]]
    sent["定量指标"] = [{k: v for k, v in i.items() if k != "实际完成值"} for i in seed["定量指标"]]
    hn_tpl.fill_to(complete_record(hnxm_record_from_data({**sent, "项目单位": "己单位"}, hn_profile, "sent",
                                                         hn_layout.row_counts), hn_profile), folder / "己单位_湖南_未填.xlsx")
    sent["定量指标"][0]["实际完成值"] = "100%"
    hn_tpl.fill_to(complete_record(hnxm_record_from_data({**sent, "项目单位": "庚单位"}, hn_profile, "sent",
                                                         hn_layout.row_counts), hn_profile),
                   folder / "庚单位_湖南_刚开始填.xlsx")
    return totals


def test_blank_department_and_hunan_forms_are_pending_in_collect_and_get_no_report(tmp_path, capsys):
    """A 部门整体 or 湖南 form returned as it was sent is 待填报 by its own form's rule, as a blank project form is:
    not graded, not in the totals, no self-check noise, and ``--each`` passes it over with the blank-form note; one
    typed figure makes it filled (chased as unfinished, and reported on)."""
    from xlsx_engine.bureau.collect import BLANK, FILLED_STATUSES, collect, summarise

    folder = tmp_path / "回收"
    totals = _department_and_hunan_returned(folder)
    assert all(isinstance(t, float) for t in totals.values()), totals
    coll = collect(folder)
    rows = {r.relpath: r for r in coll.rows}
    blank = ["丙单位_部门整体_未填.xlsx", "己单位_湖南_未填.xlsx"]
    for name in blank:
        assert rows[name].status == BLANK and rows[name].findings == [] and not rows[name].counted, name
    for name in ("乙单位_部门整体.xlsx", "丁单位_部门整体_刚开始填.xlsx", "戊单位_湖南.xlsx", "庚单位_湖南_刚开始填.xlsx"):
        assert rows[name].status in FILLED_STATUSES, (name, rows[name].status)
    assert sorted(r.relpath for r in coll.counted) == ["乙单位_部门整体.xlsx", "戊单位_湖南.xlsx"]
    # a 部门整体 form's row names the unit its 部门名称 says (the 汇总表's 单位 column; before: empty)
    want = yaml.safe_load((DATA / "department" / "seed002.yaml").read_text(encoding="utf-8"))["部门名称"]
    assert want and rows["乙单位_部门整体.xlsx"].unit == want, rows["乙单位_部门整体.xlsx"].unit
    assert (rows["丙单位_部门整体_未填.xlsx"].unit, rows["丁单位_部门整体_刚开始填.xlsx"].unit) == ("丙单位", "丁单位")
    assert [rows[n].total for n in totals] == list(totals.values())
    got = summarise(coll)
    assert got["状态"][BLANK] == 2 and got["计入汇总"] == 2, got
    assert got["平均总分"] == round(sum(totals.values()) / 2, 2), got

    out = tmp_path / "报告"
    code, err = run(capsys, "narrative", str(folder), "--each", str(out))
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["丁单位_部门整体_刚开始填_自评报告.docx", "乙单位_部门整体_自评报告.docx",
                                                     "庚单位_湖南_刚开始填_自评报告.docx", "戊单位_湖南_自评报告.docx"]
    for name in blank:
        line = next(x for x in err.splitlines() if name in x)
        assert line.startswith("跳过：") and "仍是空白表" in line, line
    assert "生成 4 份报告，0 个文件未能生成" in err and "跳过 2 个文件" in err, err
    # a blank form named on its own is passed over by --each too, and still gets its draft report with -o
    code, err = run(capsys, "narrative", str(folder / blank[0]), str(folder / blank[1]), "--each", str(tmp_path / "单个"))
    assert code == 0 and err.count("仍是空白表") == 2, err
    assert not (tmp_path / "单个").exists() or not any((tmp_path / "单个").iterdir())
    for name in blank:
        code, err = run(capsys, "narrative", str(folder / name), "-o", str(tmp_path / f"{name}.docx"))
        assert code == 0 and (tmp_path / f"{name}.docx").stat().st_size > 0, err


def test_department_and_hunan_forms_are_matched_with_the_master_by_their_unit(tmp_path):
    """These forms are not sent project by project (they carry no 项目编码 of the master): with ``--master`` they
    are matched by the unit they name. A form of a unit the master lists is read as without the master (a blank
    one is 待填报, not 有错误 — before: every one was “没有项目编码” and 有错误); a unit the master does not list,
    or a filled form that names none, is an error that says which unit and what to do."""
    from test_collect import loop_master

    from xlsx_engine.bureau.collect import BLANK, FAILED, FILLED_STATUSES, MISSING, collect

    folder = tmp_path / "回收"
    _department_and_hunan_returned(folder)
    plain = {r.relpath: r for r in collect(folder).rows}
    dept_unit = plain["乙单位_部门整体.xlsx"].unit
    hunan_unit = plain["戊单位_湖南.xlsx"].unit
    assert dept_unit and hunan_unit and dept_unit != hunan_unit
    loop_master(tmp_path / "总表.xlsx", extra_units=(dept_unit, "丁单位"))         # 丙单位 is the master's

    coll = collect(folder, master=tmp_path / "总表.xlsx")
    rows = {r.relpath: r for r in coll.rows if r.relpath}
    assert rows["丙单位_部门整体_未填.xlsx"].status == BLANK and rows["丙单位_部门整体_未填.xlsx"].findings == []
    for name in ("乙单位_部门整体.xlsx", "丁单位_部门整体_刚开始填.xlsx"):
        assert rows[name].status in FILLED_STATUSES, (name, rows[name].findings)
        assert not [f for f in rows[name].findings if f.code == "not_sent"], name
    for name in ("戊单位_湖南.xlsx", "庚单位_湖南_刚开始填.xlsx", "己单位_湖南_未填.xlsx"):
        assert rows[name].status == FAILED, name
        got = [f for f in rows[name].findings if f.code == "not_sent"]
        assert got and f"“{rows[name].unit}”不在总表的单位清单中" in got[0].message and "单位”工作表" in got[0].hint, got
    assert rows["戊单位_湖南.xlsx"].unit == hunan_unit
    assert sum(1 for r in coll.rows if r.status == MISSING) == 6          # the master's projects: none returned


def _department_forms(folder: Path, forms: dict[str, tuple[str, dict | None]]) -> None:
    """Filled 部门整体 forms: file name -> (部门名称, identity written as bulk writes it)."""
    profile = load_dept_profile("dept-hunan")
    tpl = open_template(TEMPLATES / "bmzt-dept-hunan.xlsx")
    filled = yaml.safe_load((DATA / "department" / "seed002.yaml").read_text(encoding="utf-8"))
    filled["评分"] = {i.name: i.weight - 1 for i in profile.indicators if i.rule is None}
    folder.mkdir()
    for name, (unit, identity) in forms.items():
        tpl.fill_to(dept_record_from_data({**filled, "部门名称": unit}, profile), folder / name, identity=identity)


def test_a_department_form_with_a_project_code_of_the_master_is_not_that_projects_return(tmp_path):
    """A 部门整体 form is matched by its unit even when it carries a 项目编码 the master lists: before, it was
    taken for that project's return (the project no longer 未交回, the row renamed to the project's unit, no
    error), since _against_sent tries the code first and _control compares nothing for a form of another kind."""
    from test_collect import loop_master

    from xlsx_engine.bureau.collect import MISSING, collect

    _department_forms(tmp_path / "回收", {"丁单位_部门整体.xlsx": ("丁单位", {"项目编码": "P1"})})
    loop_master(tmp_path / "总表.xlsx")
    coll = collect(tmp_path / "回收", master=tmp_path / "总表.xlsx")
    row = next(r for r in coll.rows if r.relpath)
    assert row.unit == "丁单位", row.unit
    assert [f for f in row.findings if f.code in ("not_sent", "profile_not_sent")], row.findings
    assert sorted(r.code for r in coll.rows if r.status == MISSING) == ["P1", "P2", "P3", "P4", "P5", "P6"]


def test_a_department_forms_unit_is_matched_as_people_read_it(tmp_path):
    """The unit a form names is matched with the master's 单位 as the rest of the program compares names people
    type (NFKC, spaces): full-width and half-width brackets, a space inside or after the name (the identity bulk
    wrote) are the same unit; the row then carries the master's spelling, so that 按单位 and 催报清单 group it with
    the unit's projects and show its contact."""
    from test_collect import loop_master

    from xlsx_engine.bureau.collect import collect

    _department_forms(tmp_path / "回收", {"a.xlsx": ("甲单位(本级)", None), "b.xlsx": ("乙 单位", None),
                                        "c.xlsx": ("丙单位", {"单位名称": "丙单位 "})})
    loop_master(tmp_path / "总表.xlsx", extra_units=("甲单位（本级）",))
    coll = collect(tmp_path / "回收", master=tmp_path / "总表.xlsx")
    rows = {r.relpath: r for r in coll.rows if r.relpath}
    for name, unit in (("a.xlsx", "甲单位（本级）"), ("b.xlsx", "乙单位"), ("c.xlsx", "丙单位")):
        assert not [f for f in rows[name].findings if f.code == "not_sent"], (name, rows[name].findings)
        assert rows[name].unit == unit, (name, rows[name].unit)


def test_a_unit_s_resubmitted_department_form_supersedes_the_older_one(tmp_path, capsys):
    """One unit, one 部门整体 form: a copy returned again under another name (and a spelling of the unit that
    differs only in brackets or spaces) supersedes the older, as a project form's copies do by 项目编码; before,
    both were counted and the unit's amounts doubled. A 部门整体 form carrying a project's 项目编码 still never
    supersedes that project's form, and --each reports on the newest copy only."""
    import os

    from xlsx_engine.bureau.collect import collect

    folder = tmp_path / "回收"
    _department_forms(folder, {"甲_部门整体.xlsx": ("甲单位(本级)", None), "甲_部门整体_修改版.xlsx": ("甲单位（本级）", None),
                               "乙_部门整体.xlsx": ("乙单位", None)})
    os.utime(folder / "甲_部门整体.xlsx", (1_700_000_000, 1_700_000_000))
    os.utime(folder / "甲_部门整体_修改版.xlsx", (1_700_086_400, 1_700_086_400))
    coll = collect(folder)
    assert sorted(r.relpath for r in coll.rows) == ["乙_部门整体.xlsx", "甲_部门整体_修改版.xlsx"]
    older = [u for u in coll.unused if u.relpath == "甲_部门整体.xlsx"]
    assert older and "已被较新的交回文件替代：甲_部门整体_修改版.xlsx" in older[0].note, [u.note for u in coll.unused]
    assert sum(1 for r in coll.counted if r.whole) == 2
    out = tmp_path / "报告"
    code, err = run(capsys, "narrative", str(folder), "--each", str(out))
    assert code == 0 and sorted(p.name for p in out.iterdir()) == ["乙_部门整体_自评报告.docx",
                                                                   "甲_部门整体_修改版_自评报告.docx"], err
