"""The master read as a stream: rows from the sheet XML (shared or inline strings, dates), grouped by code from the
temporary store, untrusted parts refused, the store removed; bulk's workers get row indices, not projects."""

from __future__ import annotations

import datetime as dt
import os
import pickle
import zipfile
from concurrent.futures import Future
from pathlib import Path

import pytest
from test_bulk import small_master

import xlsx_engine.bureau.bulk as bulk_module
from xlsx_engine.bureau.bulk import MANIFEST, bulk, read_manifest
from xlsx_engine.bureau.master import Master, write_master
from xlsx_engine.cli.main import main
from xlsx_engine.kernel.errors import WorkbookError
from xlsx_engine.ooxml.recalc import recalc_files
from xlsx_engine.ooxml.rowstream import RowBook


def dated_master(path: Path) -> Path:
    rows = {
        "单位": [["甲单位", "市医保局", "张三", "1"]],
        "项目": [[1001, "甲单位", "救助资金", "national", 2023, None, None, None],
                 ["P2", "甲单位", "培训项目", "national", 2023, None, None, None]],
        "资金": [["1001", "当年财政拨款", 100, 100, 95.5], ["P2", "当年财政拨款", 10, 10, 9]],
        # rows of the two projects interleaved; 1001 typed as a number on one sheet and as text on others
        "指标": [["1001", "产出指标", "数量指标", "人数", "≥", 100, "人", 40, 100, None, None, None],
                 ["P2", "产出指标", "数量指标", "场次", "≥", 4, "场", 50, 4, None, None, None],
                 [1001, "产出指标", "时效指标", "完成时间", "≤", "2023年10月", None, 10, dt.date(2023, 9, 30), None,
                  None, None],
                 ["P2", "效益指标", "社会效益指标", "知晓率", "≥", 90, "%", 30, 95, None, None, None],
                 ["P2", "满意度指标", "服务对象满意度指标", "满意度", "≥", 90, "%", 10, 95, None, None, None],
                 ["1001", "效益指标", "社会效益指标", "知晓率", "≥", 90, "%", 30, 90, None, None, None],
                 ["1001", "满意度指标", "服务对象满意度指标", "满意度", "≥", 90, "%", 10, 92, None, None,
                  "  前后有空格  "]],
        "目标": [["P2", "培训四场", "完成"], [1001, "目标一", "完成"]],
    }
    write_master(path, rows)
    return path


def test_rows_are_grouped_by_code_whatever_the_order_and_typing(tmp_path):
    with Master(dated_master(tmp_path / "m.xlsx")) as m:
        assert len(m) == 2 and m.units["甲单位"]["联系人"] == "张三"
        projects = {p.code: p for p in m.projects()}
    p = projects["1001"]
    assert p.indicator_rows == [2, 4, 7, 8]
    assert [i["三级指标"] for i in p.data["绩效指标"]] == ["人数", "完成时间", "知晓率", "满意度"]
    assert p.data["绩效指标"][1]["实际完成值"] == "2023-09-30"           # a date cell, as ISO text
    assert p.data["绩效指标"][3]["偏差原因"] == "前后有空格"
    assert p.data["资金"] == {"当年财政拨款": {"年初预算数": 100, "全年预算数": 100, "全年执行数": 95.5}}
    assert p.data["年度总体目标"] == [{"预期目标": "目标一", "实际完成情况": "完成"}] and p.data["主管部门"] == "市医保局"
    assert [i["三级指标"] for i in projects["P2"].data["绩效指标"]] == ["场次", "知晓率", "满意度"]


@pytest.mark.libreoffice
def test_a_master_saved_by_another_program_reads_the_same(soffice, tmp_path):
    """Excel, WPS and LibreOffice keep text in the shared-string table and dates as styled numbers."""
    ours = dated_master(tmp_path / "m.xlsx")
    theirs = recalc_files([ours], tmp_path / "lo", strip_cached=False, soffice=soffice)[ours]
    assert "xl/sharedStrings.xml" in zipfile.ZipFile(theirs).namelist()
    with Master(ours) as a, Master(theirs) as b:
        assert [(p.code, p.data, p.indicator_rows) for p in a.projects()] == \
               [(p.code, p.data, p.indicator_rows) for p in b.projects()]
    with RowBook(theirs) as book:
        assert dict(book.rows("指标"))[4][9] == dt.date(2023, 9, 30)


def patched(src: Path, dst: Path, part: str, edit) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info, edit(data) if info.filename == part else data)
    return dst


@pytest.mark.parametrize("edit,expected", [
    (lambda x: b'<!DOCTYPE worksheet [<!ENTITY a "aaaa">]>' + x, "DOCTYPE"),
    (lambda x: x.replace(b'r="B2"', b'r="XFE2"', 1), "无效的单元格坐标"),
    (lambda x: x.replace(b'<row r="2"', b'<row r="2000000"', 1), "行号"),
    (lambda x: x.replace(b'<c r="F2" t="n"><v>100</v>', b'<c r="F2" t="s"><v>99</v>', 1), "共享字符串"),
    (lambda x: x[:len(x) // 2], "XML 结构损坏"),
])
def test_untrusted_master_parts_are_refused_in_chinese(tmp_path, capsys, edit, expected):
    master = dated_master(tmp_path / "m.xlsx")
    part = next(n for n in zipfile.ZipFile(master).namelist() if n.endswith("sheet4.xml"))   # 指标
    sheet = zipfile.ZipFile(master).read(part)
    assert edit(sheet) != sheet
    bad = patched(master, tmp_path / "bad.xlsx", part, edit)
    with pytest.raises(WorkbookError, match=expected):
        Master(bad)
    assert main(["bulk", str(bad), "-o", str(tmp_path / "out")]) == 2
    assert expected in capsys.readouterr().err


def test_the_store_is_removed_when_the_master_is_closed(tmp_path):
    m = Master(small_master(tmp_path / "m.xlsx"))
    folder = os.path.dirname(m.db_path)
    assert os.path.exists(m.db_path)
    m.close()
    assert not os.path.exists(folder)
    with pytest.raises(Exception):
        Master(tmp_path / "no-such.xlsx")


class RecordingPool:
    """Stands in for ProcessPoolExecutor: records each task as it would be pickled, runs it here."""

    sent: list[bytes] = []

    def __init__(self, max_workers):
        self.max_workers = max_workers

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def submit(self, fn, task):
        RecordingPool.sent.append(pickle.dumps(task))
        future = Future()
        future.set_result(fn(pickle.loads(RecordingPool.sent[-1])))
        return future


def test_workers_get_row_indices_and_small_runs_start_no_pool(tmp_path, monkeypatch):
    master = dated_master(tmp_path / "m.xlsx")
    monkeypatch.setattr(bulk_module, "ProcessPoolExecutor", RecordingPool)
    RecordingPool.sent = []
    report = bulk(master, tmp_path / "small", jobs=2)                 # 2 projects: below POOL_MIN
    assert report.count("written") == 2 and not RecordingPool.sent
    report = bulk(master, tmp_path / "pool", jobs=2, pool_min=0)
    assert report.count("written") == 2 and RecordingPool.sent
    for task in RecordingPool.sent:
        assert len(task) < 2000                                        # no project data travels to a worker
        assert "满意度".encode("utf-8") not in task and "培训四场".encode() not in task
    for f in (tmp_path / "small").glob("*.xlsx"):
        assert f.read_bytes() == (tmp_path / "pool" / f.name).read_bytes()


def test_generating_while_the_master_is_read(tmp_path, monkeypatch):
    """Workers start on a project once the 指标 sheet has moved past its rows; rows that come back later (an
    ungrouped sheet) make bulk generate that project again: the files, statuses and manifest are those of a
    run that read the whole master first."""
    master = dated_master(tmp_path / "m.xlsx")
    monkeypatch.setattr(Master, "BATCH", 1)            # hand out codes after every row
    whole = bulk(master, tmp_path / "one")
    streamed = bulk(master, tmp_path / "two", jobs=2, pool_min=0)
    with Master(master, stream_indicators=True) as m:
        seen = [code for codes in m.stream_indicators() for code in codes]
        assert seen == ["1001", "P2"] and m.reopened == {"1001", "P2"}
    assert [(i.relpath, i.status, i.total) for i in streamed.items] == \
           [(i.relpath, i.status, i.total) for i in whole.items] and not streamed.errors
    for f in (tmp_path / "one").glob("*.xlsx"):
        assert f.read_bytes() == (tmp_path / "two" / f.name).read_bytes()
    assert read_manifest(tmp_path / "one" / MANIFEST) == read_manifest(tmp_path / "two" / MANIFEST)
    target = next((tmp_path / "two").glob("*.xlsx"))
    target.write_bytes(target.read_bytes() + b"x")
    again = bulk(master, tmp_path / "two", jobs=2, pool_min=0, force=True)
    assert sorted(i.status for i in again.items) == ["overwritten", "unchanged"]


def test_a_dtd_in_a_utf16_sheet_of_the_master_is_refused(tmp_path):
    """The row stream's byte test for ``<!DOCTYPE`` cannot see it in a UTF-16 part: the parsed document's DOCTYPE
    is refused too, with the one wording (entities were never expanded)."""
    m = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    sheet = (f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE worksheet [<!ENTITY a "b">]>'
             f'<worksheet xmlns="{m}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'
             '</sheetData></worksheet>').encode("utf-16")
    path = tmp_path / "总表.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("xl/workbook.xml", f'<workbook xmlns="{m}" xmlns:r="http://schemas.openxmlformats.org/'
                    'officeDocument/2006/relationships"><sheets><sheet name="项目" sheetId="1" r:id="rId1"/>'
                    '</sheets></workbook>')
        zf.writestr("xl/_rels/workbook.xml.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/package/'
                    '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                    'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
        zf.writestr("xl/worksheets/sheet1.xml", sheet)
    with RowBook(path) as book, pytest.raises(WorkbookError, match="实体声明"):
        list(book.rows("项目"))
