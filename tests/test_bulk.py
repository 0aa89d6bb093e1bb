"""Bulk generation from a master workbook."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from engines import same_cell

from xlsx_engine.bureau.bulk import MANIFEST, bulk, safe_name
from xlsx_engine.bureau.collect import collect
from xlsx_engine.bureau.master import SHEETS, Master, write_master
from xlsx_engine.cli.main import main, narrative_hook
from xlsx_engine.forms.registry import open_template, read_project
from xlsx_engine.narrative.engine import Narrator, from_workbook
from xlsx_engine.ooxml.filler import read_custom_properties
from xlsx_engine.ooxml.recalc import read_values

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "总表示例.xlsx"


def small_master(path: Path, extra_projects=(), extra_indicators=()) -> Path:
    rows = {
        "单位": [["甲单位", "市医保局", "张三", "1"], ["乙/单位:*?", "市医保局", None, None]],
        "项目": [["P1", "甲单位", "救助资金", "national", 2023, None, None, None],
                 ["P2", "乙/单位:*?", "../../etc/passwd", "national", 2023, None, None, None],
                 ["P3", "甲单位", "救助资金", "national", 2023, None, None, None], *extra_projects],
        "资金": [["P1", "当年财政拨款", 100, 100, 95], ["P2", "当年财政拨款", 50, 50, None],
                 ["P3", "当年财政拨款", 10, 10, 10]],
        "指标": [["P1", "产出指标", "数量指标", "人数", "≥", 100, "人", 50, 100, None, None, None],
                 ["P1", "效益指标", "社会效益指标", "知晓率", "≥", 90, "%", 30, 95, None, None, None],
                 ["P1", "满意度指标", "服务对象满意度指标", "满意度", "≥", 90, "%", 10, 92, None, None, None],
                 ["P2", "产出指标", "数量指标", "人数", "≥", 100, "人", 50, None, None, None, None],
                 ["P2", "效益指标", "社会效益指标", "知晓率", "≥", 90, "%", 30, None, None, None, None],
                 ["P2", "满意度指标", "服务对象满意度指标", "满意度", "≥", 90, "%", 10, None, None, None, None],
                 ["P3", "产出指标", "数量指标", "人数", "≥", 100, "人", 50, 100, None, None, None],
                 ["P3", "效益指标", "社会效益指标", "知晓率", "≥", 90, "%", 30, 90, None, None, None],
                 ["P3", "满意度指标", "服务对象满意度指标", "满意度", "≥", 90, "%", 10, 90, None, None, None],
                 *extra_indicators],
        "目标": [["P1", "目标一", "完成"]],
    }
    write_master(path, rows)
    return path


@pytest.mark.parametrize("text,expected", [
    ("../../etc/passwd", "___etc_passwd"), ("a/b\\c:d*e?f\"g<h>i|j", "a_b_c_d_e_f_g_h_i_j"), ("CON", "_CON"),
    ("  ..  ", "未命名"), ("项目。", "项目。")])
def test_safe_name(text, expected):
    assert safe_name(text) == expected


def test_example_master_is_realistic():
    m = Master(EXAMPLE)
    assert len(m) >= 200 and len(m.units) >= 40
    projects = [p for p in m.projects() if not isinstance(p, Exception)]
    assert len(projects) == len(m)


def test_bulk_writes_identified_workbooks_and_regenerates_identically(tmp_path):
    master = small_master(tmp_path / "总表.xlsx")
    out = tmp_path / "out"
    report = bulk(master, out, by="unit")
    assert report.count("written") == 3 and not report.errors
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.xlsx"))
    assert files == ["乙_单位___/P2_____etc_passwd.xlsx", "甲单位/P1_救助资金.xlsx", "甲单位/P3_救助资金.xlsx"]
    assert all((out / f).resolve().is_relative_to(out.resolve()) for f in files)
    rb = read_project(out / "甲单位/P1_救助资金.xlsx")
    assert rb.workbook.meta["项目编码"] == "P1" and rb.workbook.meta["单位名称"] == "甲单位"
    assert rb.cached["总分"] == rb.evaluate().total == 99.5
    p2 = read_project(out / "乙_单位___/P2_____etc_passwd.xlsx")
    assert p2.record.indicators[0].actual is None          # distribution: the unit's inputs stay empty
    before = {f: (out / f).read_bytes() for f in files}
    again = bulk(master, out, by="unit")
    assert again.count("unchanged") == 3
    assert {f: (out / f).read_bytes() for f in files} == before


def test_changed_file_is_not_overwritten_without_force(tmp_path):
    master = small_master(tmp_path / "总表.xlsx")
    out = tmp_path / "out"
    bulk(master, out)
    target = next(out.glob("甲单位_P1_*.xlsx"))
    target.write_bytes(target.read_bytes() + b"\0")          # the unit (or someone) changed it
    changed = target.read_bytes()
    report = bulk(master, out)
    assert report.count("refused") == 1 and target.read_bytes() == changed
    assert bulk(master, out, force=True).count("refused") == 0
    assert zipfile.ZipFile(target).testzip() is None


def test_bad_rows_are_reported_with_sheet_and_row_and_do_not_stop_others(tmp_path):
    master = small_master(
        tmp_path / "总表.xlsx",
        extra_projects=[["P4", "甲单位", "坏项目", "national", 2023, None, None, None],
                        ["P1", "甲单位", "重复编码", "national", 2023, None, None, None],
                        ["P5", "甲单位", "未知规则", "no-such", 2023, None, None, None]],
        extra_indicators=[["P4", "产出指标", "数量指标", "人数", "≥九成", None, None, 90, None, None, None, None],
                          ["P9", "产出指标", "数量指标", "孤儿指标", "≥1", None, None, 90, None, None, None, None]])
    report = bulk(master, tmp_path / "out", jobs=2)
    assert report.count("written") == 3            # P1 P2 P3; P4 fails validation and is skipped
    text = "\n".join(report.errors)
    assert "项目!第5行" in text and "指标!第11行" in text and "≥九成" in text   # P4's bad target, by master row
    assert "项目!第6行" in text and "重复" in text
    assert "项目!第7行" in text and "no-such" in text
    assert "指标!第12行" in text and "P9" in text


def test_master_format_errors(tmp_path):
    from openpyxl import Workbook
    wb = Workbook()
    wb.active.title = "项目"
    wb.active.append(["项目编码", "奇怪列"])
    wb.save(tmp_path / "bad.xlsx")
    with pytest.raises(Exception) as exc:
        Master(tmp_path / "bad.xlsx")
    text = str(exc.value)
    assert "缺少工作表“单位”" in text and "未知列名“奇怪列”" in text and "缺少必填列“单位名称”" in text


def test_cli_master_new_and_bulk(tmp_path, capsys):
    assert main(["master", "new", "-o", str(tmp_path / "空白总表.xlsx")]) == 0
    m = Master(tmp_path / "空白总表.xlsx")
    assert len(m) == 0 and set(SHEETS) <= set(zipfile.ZipFile(tmp_path / "空白总表.xlsx").read(
        "xl/workbook.xml").decode().split('"'))
    assert main(["master", "new", "-o", str(tmp_path / "空白总表.xlsx")]) == 2
    assert main(["bulk", str(EXAMPLE), "-o", str(tmp_path / "out"), "--jobs", "2"]) == 0
    out = capsys.readouterr().out
    assert "200 个新生成" in out and len(list((tmp_path / "out").glob("*.xlsx"))) == 200
    manifest = (tmp_path / "out" / MANIFEST).read_text(encoding="utf-8")
    assert manifest.count(".xlsx") == 200


@pytest.mark.libreoffice
def test_bulk_sample_recalculates_to_cached_values(engine, tmp_path):
    out = tmp_path / "out"
    bulk(EXAMPLE, out, jobs=2)
    sample = sorted(out.glob("*.xlsx"))[::10]
    mapping = engine.recalc(sample, tmp_path / "recalc")
    for path in sample:
        ours, calc = read_values(path)["自评表"], read_values(mapping[path])["自评表"]
        rb = read_project(path)
        for ref, cell in rb.layout.cells.items():
            if cell.role == "formula":
                assert same_cell(ours.get(ref), calc.get(ref)), (engine.name, path.name, ref, ours.get(ref), calc.get(ref))
        assert read_custom_properties(zipfile.ZipFile(mapping[path]))["项目编码"] == rb.workbook.meta["项目编码"]
    shutil.rmtree(out)


def test_bulk_with_narrative_and_docx(tmp_path):
    import docx as python_docx
    master = small_master(tmp_path / "总表.xlsx")
    out = tmp_path / "out"
    report = bulk(master, out, after_write=narrative_hook(narrative=True, docx=True))
    assert report.count("written") == 3 and not report.errors
    book = next(out.glob("甲单位_P1_*.xlsx"))
    assert "综述" in read_project(book).workbook.sheet_names
    assert read_project(book).cached["总分"] == 99.5                         # the scores are untouched
    text = "\n".join(p.text for p in python_docx.Document(book.with_suffix(".docx")).paragraphs)
    assert "救助资金" in text and "99.5" in text
    assert bulk(master, out, after_write=narrative_hook(narrative=True, docx=True)).count("unchanged") == 3


def test_bulk_hook_runs_in_worker_processes(tmp_path):
    """The CLI's --narrative/--docx hook pickles to bulk's workers; the manifest hashes the file the hook left."""
    import docx as python_docx
    master = small_master(tmp_path / "总表.xlsx")
    out = tmp_path / "out"
    report = bulk(master, out, jobs=2, after_write=narrative_hook(narrative=True, docx=True), pool_min=0)
    assert report.count("written") == 3 and not report.errors
    for book in out.glob("*.xlsx"):
        assert "综述" in read_project(book).workbook.sheet_names
        assert python_docx.Document(book.with_suffix(".docx")).paragraphs
    assert bulk(master, out, jobs=2, after_write=narrative_hook(narrative=True, docx=False),
                pool_min=0).count("unchanged") == 3
    assert narrative_hook(narrative=False, docx=False) is None


def test_bulk_hook_must_pickle_for_workers(tmp_path):
    master = small_master(tmp_path / "总表.xlsx")
    seen = []
    with pytest.raises(TypeError, match="picklable"):
        bulk(master, tmp_path / "out", jobs=2, after_write=lambda w: seen.append(w))
    report = bulk(master, tmp_path / "out", after_write=lambda w: seen.append(w))   # in-process: any callable
    assert report.count("written") == 3
    assert sorted(w.identity["项目编码"] for w in seen) == ["P1", "P2", "P3"]
    assert all(w.path.exists() and w.result.total is not None for w in seen)


def test_a_killed_run_resumes_without_force(tmp_path):
    """Entries reach the journal as each file is written; a rerun after a kill (journal, no manifest) or a power
    cut (files, neither) completes without --force, and only a file really changed is refused."""
    from xlsx_engine.bureau.bulk import JOURNAL, read_manifest
    master = small_master(tmp_path / "m.xlsx")
    out = tmp_path / "out"
    bulk(master, out)
    entries = read_manifest(out / MANIFEST)
    assert {e["项目编码"] for e in entries.values()} == {"P1", "P2", "P3"} and not (out / JOURNAL).exists()
    # killed after two files: their entries are in the journal, the manifest was never rewritten
    (out / MANIFEST).unlink()
    first_two = sorted(entries)[:2]
    (out / JOURNAL).write_text("".join(json.dumps({"relpath": r, **entries[r]}, ensure_ascii=False) + "\n"
                                       for r in first_two) + '{"relpath": "torn', encoding="utf-8")
    again = bulk(master, out)
    assert again.count("refused") == 0 and again.count("unchanged") == 3 and read_manifest(out / MANIFEST) == entries
    # power cut: files on disk, no manifest and no journal
    (out / MANIFEST).unlink()
    assert bulk(master, out).count("unchanged") == 3
    # a file a unit changed is refused; --force overwrites it and says so
    target = out / sorted(entries)[0]
    target.write_bytes(target.read_bytes() + b"x")
    assert bulk(master, out).count("refused") == 1
    forced = bulk(master, out, force=True)
    assert forced.count("overwritten") == 1 and "已按 --force 覆盖" in next(
        i.message for i in forced.items if i.status == "overwritten")


def test_files_a_power_cut_left_unfinished_are_generated_again(tmp_path, capsys):
    """Workbooks are written without an fsync each and flushed once at the end; after a power cut the disk may
    hold a name on data that never arrived. Such files (empty, zeroed, a zip cut short) are generated again
    without --force and listed; a readable workbook or a file that is not a zip (an .xls under this name) is
    still somebody's and is refused."""
    master = small_master(tmp_path / "m.xlsx")
    out = tmp_path / "out"
    bulk(master, out)
    files = sorted(out.glob("*.xlsx"))
    good = {f.name: f.read_bytes() for f in files}
    files[0].write_bytes(b"")                                   # the name arrived, the data did not
    files[1].write_bytes(b"\0" * len(good[files[1].name]))       # blocks allocated, never written
    files[2].write_bytes(good[files[2].name][:len(good[files[2].name]) // 2])    # cut short
    capsys.readouterr()
    assert main(["bulk", str(master), "-o", str(out)]) == 0
    text = capsys.readouterr()
    assert "3 个上次中断未写完整而重新生成" in text.out and text.err.count("未写完整，已重新生成") == 3
    assert {f.name: f.read_bytes() for f in files} == good
    files[0].write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)  # an .xls saved under this name
    report = bulk(master, out)
    assert report.count("refused") == 1 and report.count("repaired") == 0


def test_a_zip_too_big_to_unpack_is_not_unpacked_to_see_if_it_is_complete(tmp_path, monkeypatch):
    """A file at a target path that says it unpacks to 2 GB is somebody's (refused like an edit), and is not
    unpacked to find out whether a power cut left it unfinished."""
    import zipfile

    from xlsx_engine.bureau.bulk import incomplete
    master = small_master(tmp_path / "m.xlsx")
    out = tmp_path / "out"
    bulk(master, out)
    target = sorted(out.glob("*.xlsx"))[0]
    bomb = bytearray(target.read_bytes())
    cd = bomb.find(b"PK\x01\x02")                  # the first central directory entry: uncompressed size at +24
    bomb[cd + 24:cd + 28] = (0x7FFFFFFF).to_bytes(4, "little")
    unpacked = []
    real = zipfile.ZipFile.testzip
    monkeypatch.setattr(zipfile.ZipFile, "testzip", lambda self: unpacked.append(1) or real(self))
    assert incomplete(bytes(bomb)) is False and unpacked == []
    assert incomplete(target.read_bytes()) is False and unpacked == [1]       # a normal workbook is checked
    target.write_bytes(bytes(bomb))
    assert bulk(master, out).count("refused") == 1
    # a zip packed with a method this Python cannot unpack (Deflate64, as some Windows tools write) is somebody's
    # file too: refused, not taken for a file a power cut left unfinished
    packed = bytearray(sorted(out.glob("*.xlsx"))[1].read_bytes())
    for sig, at in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        k = packed.find(sig)
        packed[k + at:k + at + 2] = (9).to_bytes(2, "little")
    assert incomplete(bytes(packed)) is False


def test_a_folder_where_a_workbook_goes_fails_that_project_only(tmp_path, capsys):
    master = small_master(tmp_path / "m.xlsx")
    out = tmp_path / "out"
    bulk(master, out)
    target = sorted(out.glob("*.xlsx"))[0]
    target.unlink()
    target.mkdir()
    capsys.readouterr()
    assert main(["bulk", str(master), "-o", str(out)]) == 1
    text = capsys.readouterr()
    assert "Traceback" not in text.err and "内部错误" not in text.err
    assert f"{target.name}：无法写入输出文件：该位置已有同名的文件夹" in text.err and "2 个内容未变" in text.out


def test_one_flush_per_run_instead_of_an_fsync_per_file(tmp_path, monkeypatch):
    import os

    from xlsx_engine.ooxml import safezip
    master = small_master(tmp_path / "m.xlsx")
    calls = {"fsync": 0, "sync": 0}
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: calls.__setitem__("fsync", calls["fsync"] + 1) or real_fsync(fd))
    monkeypatch.setattr(os, "sync", lambda: calls.__setitem__("sync", calls["sync"] + 1))
    if not safezip.BATCH_FLUSH:
        pytest.skip("no os.sync here: every file is fsynced")
    report = bulk(master, tmp_path / "out")
    assert report.count("written") == 3
    assert calls == {"fsync": 1, "sync": 1}        # the manifest's own fsync, and one flush before it


def test_cli_force_lists_what_it_overwrote(tmp_path, capsys):
    master = small_master(tmp_path / "m.xlsx")
    out = tmp_path / "out"
    assert main(["bulk", str(master), "-o", str(out)]) == 0
    target = next(out.glob("*.xlsx"))
    target.write_bytes(target.read_bytes() + b"x")
    capsys.readouterr()
    assert main(["bulk", str(master), "-o", str(out), "--force"]) == 0
    text = capsys.readouterr()
    assert "已覆盖" in text.err and target.name in text.err and "1 个生成后被修改而按 --force 覆盖" in text.out


def test_bulk_prefills_the_report_information(tmp_path):
    """The master's 报告信息 columns (and the unit's contact) prefill each copy's 报告信息 area; the unit may edit them
    (they are not bureau-set cells), and the narrative of the returned copy uses them (issue 14, item 1)."""
    info = {"项目概况及立项依据": "依据《城乡医疗救助办法》设立，资助困难群众参保。", "自评时间": "2024-03-31"}
    columns = [name for name, _ in SHEETS["项目"]]
    row = ["P1", "甲单位", "救助资金", "national", 2023] + [None] * (len(columns) - 5)
    for key, value in info.items():
        row[columns.index(key)] = value
    path = tmp_path / "总表.xlsx"
    rows = {"单位": [["甲单位", "市医保局", "张三", "0730-1234567"]], "项目": [row],
            "资金": [["P1", "当年财政拨款", 100, 100, 95]],
            "指标": [["P1", "产出指标", "数量指标", "人数", "≥", 100, "人", 50, 100, None, None, None],
                   ["P1", "效益指标", "社会效益指标", "知晓率", "≥", 90, "%", 30, 95, None, None, None],
                   ["P1", "满意度指标", "服务对象满意度指标", "满意度", "≥", 90, "%", 10, 92, None, None, None]],
            "目标": []}
    write_master(path, rows)
    out = tmp_path / "out"
    report = bulk(path, out)
    assert not report.errors
    [copy] = list(out.glob("*.xlsx"))
    extra = read_project(copy).record.extra
    assert extra == {**info, "联系人": "张三", "联系人电话": "0730-1234567"}
    # the unit rewrites the 项目概况 (the copy is its own template): no change-control finding against the master
    rec = read_project(copy).record
    rec.extra["项目概况及立项依据"] = "单位改写：依据《城乡医疗救助办法》设立。"
    open_template(copy).fill_to(rec, copy)
    coll = collect(out, master=path)
    [row] = coll.rows
    assert not [f for f in row.findings if f.code == "changed_after_sent"] and row.status != "有错误"
    text = Narrator().report(from_workbook(copy)).text()
    assert "单位改写：依据《城乡医疗救助办法》设立" in text and "2024年3月31日" in text
