"""Collect against what was sent: statuses, change control, duplicates, hostile files, the 汇总表 and 催报清单.

The round trip (issue 12 item 12) runs the whole loop: bulk → units type in their cells and LibreOffice saves
the files (some untouched, one not returned, one resubmitted, one target lowered, one "95%" typed) → collect.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from xlsx_engine.bureau.bulk import bulk
from xlsx_engine.bureau.collect import (
    BLANK,
    FAILED,
    FILLED_STATUSES,
    MISSING,
    collect,
    find_files,
    read_all,
)
from xlsx_engine.bureau.master import write_master
from xlsx_engine.bureau.summary import summary_bytes, write_reminders, write_summary
from xlsx_engine.cli.main import main
from xlsx_engine.kernel.errors import JxzpError
from xlsx_engine.forms.registry import read_project
from xlsx_engine.ooxml.recalc import recalc_files
from xlsx_engine.ooxml.safezip import parse_xml

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
IND = ("产出指标", "数量指标"), ("效益指标", "社会效益指标"), ("满意度指标", "服务对象满意度指标")


def loop_master(path: Path, extra_units: tuple[str, ...] = ()) -> Path:
    """Three units (and ``extra_units``, with no project), six projects, all sent blank (targets and budgets set by
    the bureau, nothing typed)."""
    projects = [("P1", "甲单位"), ("P2", "甲单位"), ("P3", "乙单位"), ("P4", "乙单位"), ("P5", "丙单位"),
                ("P6", "丙单位")]
    rows = {
        "单位": [["甲单位", "市卫健委", "张三", "0731-1111"], ["乙单位", "市卫健委", "李四", "0731-2222"],
                 ["丙单位", "市卫健委", "王五", "0731-3333"], *([u, "市卫健委", "赵六", "0731-4444"] for u in extra_units)],
        "项目": [[code, unit, f"{unit}项目{code}", "national", 2023, None, None, None] for code, unit in projects],
        "资金": [[code, "当年财政拨款", 100, 100, None] for code, _ in projects],
        "指标": [r for code, _ in projects for r in (
            [code, *IND[0], "培训人数", "≥", 100, "人", 50, None, None, None, None],
            [code, *IND[1], "知晓率", "≥", 90, "%", 30, None, None, None, None],
            [code, *IND[2], "满意度", "≥", 90, "%", 10, None, None, None, None])],
        "目标": [[code, "完成年度任务", None] for code, _ in projects],
    }
    write_master(path, rows)
    return path


def edit_sheet(path: Path, values: dict[str, object], *, locked_ok: bool = False) -> None:
    """Type values into cells of the 自评表 sheet (unlocked cells only, unless ``locked_ok``: a tampering unit)."""
    zf = zipfile.ZipFile(path)
    members = {n: zf.read(n) for n in zf.namelist()}
    styles = parse_xml(members["xl/styles.xml"])
    open_styles = {i for i, xf in enumerate(styles.find(f"{NS}cellXfs"))
                   if xf.find(f"{NS}protection") is not None and xf.find(f"{NS}protection").get("locked") in ("0",)}
    sheet = members["xl/worksheets/sheet1.xml"].decode()
    for ref, value in values.items():
        m = re.search(rf'<c r="{ref}"( s="(\d+)")?[^>]*?(/>|>.*?</c>)', sheet)
        assert m, ref
        assert locked_ok or int(m.group(2)) in open_styles, f"{ref} is locked: a person could not type there"
        attrs = f'r="{ref}" s="{m.group(2)}"'
        new = f"<c {attrs}><v>{value}</v></c>" if isinstance(value, (int, float)) else \
            f'<c {attrs} t="inlineStr"><is><t>{value}</t></is></c>'
        sheet = sheet[:m.start()] + new + sheet[m.end():]
    members["xl/worksheets/sheet1.xml"] = sheet.encode()
    rewrite(path, members)


def rewrite(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in members.items():
            out.writestr(name, data)


def members_of(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


FILL = {"G7": 96, "G18": 100, "G19": 95, "G20": 92}     # 全年执行数, then the three 实际完成值


@pytest.fixture(scope="module")
def loop(soffice, tmp_path_factory):
    base = tmp_path_factory.mktemp("loop")
    master = loop_master(base / "总表.xlsx")
    sent = base / "sent"
    report = bulk(master, sent, by="project")
    assert not report.errors and len(report.items) == 6
    files = {i.code: sent / i.relpath for i in report.items}
    typed = base / "typed"
    typed.mkdir()
    work = {}
    for code in ("P1", "P2", "P4", "P5", "P6"):                 # P3 is never returned
        work[code] = typed / files[code].name
        shutil.copy(files[code], work[code])
    edit_sheet(work["P1"], FILL)
    edit_sheet(work["P4"], {**FILL, "G18": 60})                 # first version: 60 people trained
    edit_sheet(work["P5"], FILL)
    edit_sheet(work["P5"], {"E19": 50}, locked_ok=True)          # a lowered target (知晓率 90 → 50)
    edit_sheet(work["P6"], {**FILL, "G19": "95%"})               # "95%" typed as text
    back = recalc_files(list(work.values()), base / "returned", strip_cached=True)
    folder = base / "returned"
    # P4 resubmitted: a newer copy with 100 people trained; the first one stays in the folder
    newer = folder / ("(修改版)" + back[work["P4"]].name)
    edit_sheet(work["P4"], FILL)
    shutil.copy(recalc_files([work["P4"]], base / "again", strip_cached=True)[work["P4"]], newer)
    old = back[work["P4"]]
    os.utime(old, (1_700_000_000, 1_700_000_000))
    os.utime(newer, (1_700_100_000, 1_700_100_000))
    return folder, master, {code: back[p] for code, p in work.items()}, newer




@pytest.mark.libreoffice
def test_round_trip_every_status_finding_and_total(loop, tmp_path):
    folder, master, files, newer = loop
    coll = collect(folder, master=master, jobs=2)
    rows = {r.code: r for r in coll.rows}
    assert [r.code for r in coll.rows] == ["P1", "P2", "P3", "P4", "P5", "P6"]
    assert rows["P3"].status == MISSING and not rows["P3"].path
    assert rows["P2"].status == BLANK and rows["P2"].findings == []      # no noise for an unfilled form
    assert rows["P1"].status in FILLED_STATUSES and rows["P1"].status != FAILED
    # the newest submission counts; the other is listed as superseded
    assert rows["P4"].path.endswith(newer.name)
    superseded = [u for u in coll.unused if u.path.endswith(files["P4"].name)]
    assert superseded and "替代" in superseded[0].note
    # the lowered target is an error naming the cell, the value sent and the value returned
    changed = [f for f in rows["P5"].findings if f.code == "changed_after_sent"]
    assert rows["P5"].status == FAILED and len(changed) == 1
    assert changed[0].place == "自评表!E19" and "下发时为“90”" in changed[0].message and "“50”" in changed[0].message
    # totals equal the scorer on the file LibreOffice saved
    for code in ("P1", "P5", "P6"):
        result = read_project(files[code]).evaluate()
        assert (rows[code].total, rows[code].grade) == (result.total, result.grade)
    p1 = read_project(files["P1"]).evaluate()
    assert rows["P4"].total == p1.total                                 # the newer P4 equals P1's figures
    assert rows["P6"].status in FILLED_STATUSES
    # the 催报清单: P3 missing and P2 blank, with the contacts from the master
    out = tmp_path / "汇总.xlsx"
    assert main(["collect", str(folder), "--master", str(master), "-o", str(out), "--json"]) == 0
    with open(tmp_path / "汇总_催报清单.csv", encoding="utf-8-sig", newline="") as fh:
        chase = {r["单位"]: r for r in csv.DictReader(fh)}
    assert chase["甲单位"]["联系人"] == "张三" and "P2" in chase["甲单位"]["待填报项目"]
    assert chase["乙单位"]["联系电话"] == "0731-2222" and "P3" in chase["乙单位"]["未交回项目"]
    assert "P5" in chase["丙单位"]["需更正项目"]
    wb = load_workbook(out)
    assert [ws.title for ws in wb] == ["汇总", "按单位", "催报清单", "问题清单", "目标质量", "未采用文件", "图表", "文件"]
    assert "未交回 1，待填报 1" in wb["汇总"]["A2"].value
    grades = {wb["图表"].cell(r, 1).value: wb["图表"].cell(r, 2).value for r in range(2, 6)}
    assert sum(grades.values()) == sum(1 for r in coll.rows if r.filled) == 4   # blank and missing not graded


def test_statuses_without_libreoffice(tmp_path):
    master = loop_master(tmp_path / "总表.xlsx")
    sent = tmp_path / "sent"
    bulk(master, sent)
    (next(sent.glob("*_P3_*.xlsx"))).unlink()
    edit_sheet(next(sent.glob("*_P1_*.xlsx")), FILL)
    coll = collect(sent, master=master)
    counts = coll.counts()
    assert counts[MISSING] == 1 and counts[BLANK] == 4 and counts[FAILED] + counts["已填报"] + counts["已通过"] == 1
    assert sum(1 for r in coll.rows if r.filled) == 1


def test_every_form_returned_as_its_blank_template_is_pending(tmp_path):
    """Each form answers for itself what “nothing typed” is (``Form.unfilled``): every shipped template of every form,
    copied and returned as it is, is 待填报 with no 总分, not 已填报 for its 校验提示."""
    from xlsx_engine.bureau.collect import read_returned, status_of
    from xlsx_engine.forms.registry import forms
    from xlsx_engine.ooxml.builder import TEMPLATE_DIR, template_filename

    names = [template_filename(form.layout(pid)) for form in forms() for pid in form.profile_ids()]
    assert {n.split("-")[0] for n in names} == {"xmzc", "bmzt", "hnxm"}
    for name in names:
        shutil.copy(TEMPLATE_DIR / name, tmp_path / name)
        item = read_returned(str(tmp_path / name))
        assert (status_of(item), item.total) == (BLANK, None), name


def test_the_master_is_read_while_the_workers_read_the_files(tmp_path, monkeypatch):
    """collect opens the master after the workers have their first files (it overlaps them); a master that
    cannot be read is still the user's error with its name, and an empty folder still lists every project
    sent as 未交回."""
    import xlsx_engine.bureau.collect as collect_mod

    master = loop_master(tmp_path / "总表.xlsx")
    sent = tmp_path / "sent"
    bulk(master, sent)
    order: list[str] = []
    real_read, real_sent = collect_mod.read_all, collect_mod.SentProjects

    def read_all(paths, jobs=1, progress=None, keep_inputs=False, meanwhile=None):
        def spy():
            order.append("master")
            meanwhile()
        for item in real_read(paths, jobs, progress, keep_inputs, spy if meanwhile else None):
            order.append("file")
            yield item

    monkeypatch.setattr(collect_mod, "read_all", read_all)
    monkeypatch.setattr(collect_mod, "SentProjects", lambda path: (order.append("open"), real_sent(path))[1])
    coll = collect(sent, master=master)
    assert order[:2] == ["master", "open"] and order.count("file") == 6
    assert coll.counts()[BLANK] == 6
    monkeypatch.undo()

    bad = tmp_path / "坏总表.xlsx"
    bad.write_bytes(b"not a workbook")
    with pytest.raises(JxzpError) as err:
        collect(sent, master=bad)
    assert "不是 Excel 工作簿" in str(err.value) and "坏总表.xlsx" in err.value.where
    empty = tmp_path / "empty"
    empty.mkdir()
    assert collect(empty, master=master).counts()[MISSING] == 6


def test_our_own_summary_saved_in_the_folder_is_not_a_returned_form(tmp_path, capsys):
    """A bureau saves the 汇总表 (and an .xlsx 催报清单) in the 回收 folder and collects again: they are listed as
    not used, with why, and the counts are those of the first run (before, the 汇总表 became a project row)."""
    master = loop_master(tmp_path / "总表.xlsx")
    sent = tmp_path / "sent"
    bulk(master, sent)
    edit_sheet(next(sent.glob("*_P1_*.xlsx")), FILL)
    first = collect(sent, master=master)
    args = ["collect", str(sent), "--master", str(master), "-o", str(sent / "汇总表.xlsx"), "--force"]
    assert main(args) in (0, 1)
    write_reminders(first, sent / "催报清单.xlsx")
    again = collect(sent, master=master)
    assert again.counts() == first.counts() and len(again.rows) == len(first.rows)
    notes = {Path(u.path).name: u.note for u in again.unused}
    assert "回收汇总表" in notes["汇总表.xlsx"] and "催报清单" in notes["催报清单.xlsx"]
    assert all("未汇总" in notes[n] for n in ("汇总表.xlsx", "催报清单.xlsx"))


def test_a_file_naming_another_profile_or_a_rules_file_is_an_error(tmp_path):
    master = loop_master(tmp_path / "总表.xlsx")
    sent = tmp_path / "sent"
    bulk(master, sent)
    target = next(sent.glob("*_P1_*.xlsx"))
    edit_sheet(target, FILL)
    honest = read_project(target).evaluate()
    m = members_of(target)
    rules = (Path(__file__).resolve().parent.parent / "templates" / "profiles" / "national.yaml").read_text("utf-8")
    (sent / "evil.yaml").write_text(rules.replace("优", "差"), encoding="utf-8")
    m["docProps/custom.xml"] = m["docProps/custom.xml"].replace(b">national<", b">evil.yaml<")
    rewrite(target, m)
    coll = collect(sent, master=master)
    row = next(r for r in coll.rows if r.code == "P1")
    assert row.status == FAILED and any(f.code == "profile_unknown" for f in row.findings)
    assert (row.total, row.grade) == (honest.total, honest.grade)       # graded by the rules sent, not evil.yaml


def test_duplicates_symlinks_and_special_files(tmp_path):
    master = loop_master(tmp_path / "总表.xlsx")
    sent = tmp_path / "sent"
    bulk(master, sent)
    p1 = next(sent.glob("*_P1_*.xlsx"))
    shutil.copy(p1, sent / "P1 (1).xlsx")
    os.utime(p1, (1_700_000_000, 1_700_000_000))
    outside = tmp_path / "outside.xlsx"
    shutil.copy(p1, outside)
    (sent / "外部链接.xlsx").symlink_to(outside)
    (sent / "断开的链接.xlsx").symlink_to(tmp_path / "nothing.xlsx")
    os.mkfifo(sent / "管道.xlsx")
    coll = collect(sent, master=master)
    assert len(coll.rows) == 6 and sum(1 for r in coll.rows if r.code == "P1") == 1
    reasons = {Path(u.path).name: (u.error or u.note) for u in coll.unused}
    assert "文件夹以外" in reasons["外部链接.xlsx"] and "不存在" in reasons["断开的链接.xlsx"]
    assert "不是普通文件" in reasons["管道.xlsx"] and "替代" in reasons[p1.name]
    assert next(r for r in coll.rows if r.code == "P1").path.endswith("P1 (1).xlsx")


def _hostile(sent: Path) -> dict[str, Path]:
    """Files that once stopped the whole collection."""
    src = next(sent.glob("*_P1_*.xlsx"))
    out = {}
    huge = sent / "huge.xlsx"
    m = members_of(src)
    m["xl/worksheets/sheet1.xml"] = m["xl/worksheets/sheet1.xml"].replace(
        b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>').replace(
        b'<dimension ref="A1:', b'<dimension ref="A1:XFD1048576" x="')
    rewrite(huge, m)
    out["huge"] = huge
    reversed_name = sent / "reversed.xlsx"
    m = members_of(src)
    book = m["xl/workbook.xml"].decode()
    book, n = re.subn(r'(<definedName name="总分"[^>]*>)[^<]*', lambda g: g.group(1) + "'自评表'!$K$49:$A$1", book)
    assert n == 1
    m["xl/workbook.xml"] = book.encode()
    rewrite(reversed_name, m)
    out["reversed"] = reversed_name
    long_rule = sent / "long.xlsx"
    m = members_of(src)
    m["docProps/custom.xml"] = m["docProps/custom.xml"].replace(b">national<", b">" + b"x" * 5000 + b"<")
    rewrite(long_rule, m)
    out["long"] = long_rule
    ctrl = sent / "a\x01b\x1f.xlsx"
    shutil.copy(src, ctrl)
    out["ctrl"] = ctrl
    raw = Path(os.fsdecode(os.fsencode(str(sent)) + b"/\xff\xfe\xb0\xa1.xlsx"))
    shutil.copy(src, raw)
    out["raw"] = raw
    (sent / "broken.xlsx").write_bytes(b"PK\x03\x04 this is not a zip")
    out["broken"] = sent / "broken.xlsx"
    return out


def test_one_file_never_stops_the_collection(tmp_path):
    master = loop_master(tmp_path / "总表.xlsx")
    sent = tmp_path / "sent"
    bulk(master, sent)
    hostile = _hostile(sent)
    each = list(read_all([str(hostile[k]) for k in ("huge", "reversed", "long")], 1))
    assert [r.kind for r in each] == ["本系统模板"] * 3
    assert any(f.code == "name_broken" for f in each[1].findings)
    assert any(f.code == "profile_unknown" for f in each[2].findings) and "x" * 41 not in each[2].findings[1].message
    coll = collect(sent, master=master, jobs=2)
    assert len(find_files(sent)[0]) == 12
    assert len(coll.rows) == 6                                  # P1 once; the copies are P1 too (or unreadable)
    shown_names = {Path(u.path).name for u in coll.unused} | {Path(r.path).name for r in coll.rows if r.path}
    assert "a\\x01b\\x1f.xlsx" in shown_names and any("\ufffd" in n for n in shown_names)
    assert any(u.path.endswith("broken.xlsx") and "损坏" in u.error for u in coll.unused)
    data = summary_bytes(coll)
    assert load_workbook(io.BytesIO(data))["未采用文件"].max_row >= 3
    out = tmp_path / "汇总.xlsx"
    # the CLI's JSON is valid UTF-8 even with undecodable file names
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-m", "xlsx_engine.cli", "collect", str(sent), "--master", str(master),
                           "-o", str(out), "--json"], capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    doc = json.loads(proc.stdout.decode("utf-8"))
    assert doc["状态"]["未交回"] == 0 and len(doc["项目"]) == 6


def test_unit_text_never_becomes_a_formula(tmp_path):
    from xlsx_engine.bureau.collect import Collected, Collection
    from xlsx_engine.kernel.findings import Finding
    evil = Collected(path="x.xlsx", unit="=HYPERLINK(\"http://evil\",\"点我\")", code="P1", status="已填报",
                     project="=1+1\x07", profile="national", budget=1.0, spent=1.0, rate=1.0, total=90.0, grade="优",
                     findings=[Finding("警告", "row_check", "A1", "=cmd|' /C calc'!A0")])
    write_summary(Collection(rows=[evil]), tmp_path / "s.xlsx")
    with zipfile.ZipFile(tmp_path / "s.xlsx") as zf:
        text = "".join(zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/worksheets/sheet"))
    assert "<f>" not in text and "HYPERLINK" in text


def test_unwritable_output_is_a_chinese_error_and_nothing_is_written(tmp_path, capsys):
    master = loop_master(tmp_path / "总表.xlsx")
    sent = tmp_path / "sent"
    bulk(master, sent)
    (tmp_path / "afile").write_text("x")
    assert main(["collect", str(sent), "--master", str(master), "-o", str(tmp_path / "afile" / "汇总.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "无法写入输出文件" in err and "内部错误" not in err
    assert main(["bulk", str(master), "-o", str(tmp_path / "afile" / "out")]) == 2
    assert "内部错误" not in capsys.readouterr().err


def test_summary_prints_on_a4_landscape(tmp_path):
    master = loop_master(tmp_path / "总表.xlsx")
    sent = tmp_path / "sent"
    bulk(master, sent)
    coll = collect(sent, master=master)
    write_summary(coll, tmp_path / "s.xlsx")
    wb = load_workbook(tmp_path / "s.xlsx")
    for ws in wb:
        assert ws.page_setup.orientation == "landscape" and str(ws.page_setup.paperSize) == "9"
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0
        assert ws.print_title_rows and "&P" in ws.oddFooter.center.text
    ws = wb["汇总"]
    values = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not any("national" in v or "/" in v for v in values)       # rule names in Chinese, no paths here
    assert any("全国通用" in v for v in values)


def _crash_or_allocate(path, profile=None, keep_inputs=False, *, original):
    if path.endswith("crash.xlsx"):
        os._exit(9)                                   # a library crashing the whole worker process
    if path.endswith("greedy.xlsx"):
        bytearray(4 << 30)                            # more than the worker's memory limit
    return original(path, profile, keep_inputs)


def test_a_worker_crash_or_the_memory_limit_costs_one_file_only(tmp_path, monkeypatch):
    """Workers are forked: the patched reader runs in them, under the real memory limit."""
    import functools

    from xlsx_engine.bureau import collect as collect_module
    master = loop_master(tmp_path / "总表.xlsx")
    sent = tmp_path / "sent"
    bulk(master, sent)
    src = next(sent.glob("*_P1_*.xlsx"))
    shutil.copy(src, sent / "crash.xlsx")
    shutil.copy(src, sent / "greedy.xlsx")
    monkeypatch.setattr(collect_module, "read_returned", functools.partial(
        _crash_or_allocate, original=collect_module.read_returned))
    paths = sorted(str(p) for p in sent.glob("*.xlsx"))
    got = {Path(c.path).name: c for c in read_all(paths, 2)}
    assert len(got) == len(paths) == 8
    assert "进程异常终止" in got["crash.xlsx"].error and "内存" in got["greedy.xlsx"].error
    assert all(not c.error for name, c in got.items() if name not in ("crash.xlsx", "greedy.xlsx"))


def _pdf(path: Path, soffice: str) -> tuple[str, int, str]:
    import subprocess
    subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(path.parent), str(path)],
                   capture_output=True, timeout=180, check=True, env={**os.environ, "HOME": str(path.parent)})
    pdf = path.with_suffix(".pdf")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    return f"{round(float(size.group(1)))}x{round(float(size.group(2)))}", pages, text


@pytest.mark.libreoffice
def test_summary_and_report_print_on_a4(loop, tmp_path, soffice):
    folder, master, _files, _newer = loop
    out, report = tmp_path / "汇总.xlsx", tmp_path / "汇总报告.docx"
    assert main(["collect", str(folder), "--master", str(master), "-o", str(out), "--report", str(report)]) == 0
    size, pages, text = _pdf(out, soffice)
    assert size == "842x595" and pages == 8                  # A4 landscape, one page per sheet for six projects
    assert "###" not in text and "第 1 页，共 8 页" in text
    assert "全国通用" in text and "national" not in text
    size, pages, text = _pdf(report, soffice)
    assert size == "595x842" and pages <= 3                  # A4 portrait
    assert "乙单位（联系人李四，电话0731-2222）" in text.replace(" ", "").replace("\n", "")
    assert "=IF(" not in text and "—1—" in text.replace(" ", "")


def test_collect_says_what_it_did_not_compare_and_what_to_do_next(tmp_path, capsys):
    """Without the master nothing sent is compared (a lowered target passes): said, with how to compare; with
    projects to chase, the next step names the 催报清单."""
    master = loop_master(tmp_path / "总表.xlsx")
    sent = tmp_path / "sent"
    bulk(master, sent)
    edit_sheet(next(sent.glob("*_P1_*.xlsx")), FILL)
    capsys.readouterr()
    assert main(["collect", str(sent), "-o", str(tmp_path / "汇总.xlsx")]) in (0, 1)
    err = capsys.readouterr().err
    assert "没有给出 --master 总表，未核对下发的内容" in err and "加 --master 总表.xlsx 可核对" in err, err
    assert "下一步：" in err and "汇总_催报清单.csv" in err, err
    assert main(["collect", str(sent), "--master", str(master), "-o", str(tmp_path / "汇总2.xlsx")]) in (0, 1)
    err = capsys.readouterr().err
    assert "没有给出 --master" not in err and "下一步：" in err, err


def test_the_next_step_counts_what_the_reminder_list_chases(tmp_path, capsys):
    """The CLI's “下一步” counts the projects the 催报清单 lists (a form filled in part included); a returned file
    that cannot be read is chased as such, not as “有错误；未填完”."""
    master = loop_master(tmp_path / "总表.xlsx")
    sent = tmp_path / "sent"
    bulk(master, sent)
    from test_collect_outputs import type_in
    type_in(next(sent.glob("*_P1_*.xlsx")), 96, (100, 95, 92))                # filled in, results as shown
    type_in(next(sent.glob("*_P2_*.xlsx")), 90, (100,))                        # filled in part, no error
    next(sent.glob("*_P3_*.xlsx")).write_bytes(b"PK\x03\x04 not a workbook")     # cannot be read
    capsys.readouterr()
    assert main(["collect", str(sent), "--master", str(master), "-o", str(tmp_path / "汇总.xlsx")]) in (0, 1)
    err = capsys.readouterr().err
    csv_text = (tmp_path / "汇总_催报清单.csv").read_text(encoding="utf-8-sig")
    chased = len(set(re.findall(r"\bP\d\b", csv_text)))         # every project the list names
    assert chased == 5 and f"下一步：{chased} 个项目需要催报或更正" in err, (err, csv_text)     # all but P1
    assert "P2 " in csv_text and "未填完，总分待填报" in csv_text
    assert "文件无法读取，请重新提交" in csv_text and "未填完，总分待填报）" not in csv_text.split("P3")[1].split("\n")[0]


def test_collect_says_what_else_the_folder_holds(tmp_path, capsys):
    """Units return their Word 自评报告 and attachments beside the workbooks: collect reads only the workbooks, and
    says so with the counts (before: nothing was said), never counting bulk's manifest."""
    master = loop_master(tmp_path / "总表.xlsx")
    sent = tmp_path / "sent"
    bulk(master, sent)
    (sent / "甲单位自评报告.docx").write_bytes(b"PK\x03\x04")
    (sent / "附件1.pdf").write_bytes(b"%PDF-1.4")
    assert main(["collect", str(sent), "--master", str(master), "-o", str(tmp_path / "汇总表.xlsx")]) in (0, 1)
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if "回收汇总只读 Excel" in x)
    assert "另有 1 个 Word 报告（.docx）、1 个其他文件" in line and "jxzp check" in line, line
    plain = tmp_path / "plain"
    bulk(master, plain)
    assert main(["collect", str(plain), "--master", str(master), "-o", str(tmp_path / "汇总2.xlsx")]) in (0, 1)
    assert "回收汇总只读 Excel" not in capsys.readouterr().err      # the manifest alone is not another file


@pytest.mark.parametrize("master", [False, True])
def test_a_blank_copy_never_supersedes_the_filled_return(tmp_path, master):
    """The newest copy of a project counts — but a copy returned blank (the form as it was sent) never takes the
    place of one the unit filled in, however new: a unit's folder often keeps the distributed template beside the
    return, saved again later. The blank copy is listed as not used, and says why. Two filled copies: the newest
    counts, as before."""
    from test_collect_outputs import type_in

    sent_master = loop_master(tmp_path / "总表.xlsx")
    sent = tmp_path / "sent"
    bulk(sent_master, sent)
    p1 = next(sent.glob("*_P1_*.xlsx"))
    blank_copy = p1.with_name("P1_下发的空表.xlsx")
    shutil.copy(p1, blank_copy)
    type_in(p1, 96, (100, 95, 92))
    p2 = next(sent.glob("*_P2_*.xlsx"))
    type_in(p2, 90, (100, 95, 92))
    later = p2.with_name("P2_修改版.xlsx")
    shutil.copy(p2, later)
    type_in(later, 80, (100, 95, 92))
    os.utime(p1, (1_700_000_000, 1_700_000_000))
    os.utime(blank_copy, (1_700_086_400, 1_700_086_400))      # the blank copy is the newer file
    os.utime(p2, (1_700_000_000, 1_700_000_000))
    os.utime(later, (1_700_086_400, 1_700_086_400))
    coll = collect(sent, master=sent_master if master else None)
    rows = {r.code: r for r in coll.rows}
    assert rows["P1"].relpath == p1.name and rows["P1"].status != "待填报" and rows["P1"].spent == 96
    note = next(u.note for u in coll.unused if u.relpath == blank_copy.name)
    assert note.startswith("是未填写的空表，已采用填写过的交回文件：") and p1.name in note, note
    assert rows["P2"].relpath == later.name and rows["P2"].spent == 80          # two filled: the newest
    assert "已被较新的交回文件替代" in next(u.note for u in coll.unused if u.relpath == p2.name)
