"""The desktop-only paths (Windows Excel's COM object behind ``.api``), with recording fakes.

Excel is not available here, so these tests check what the shell asks of Excel: the template's
protection is lifted only around writes and restored with the same options, the workbook structure
is unprotected to add a sheet, ``SaveCopyAs`` makes the snapshot, Excel's folder picker is used,
and after a recalculation the values Excel shows are read back and compared with the scorer.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_addin_harness import (  # noqa: F401
    fill_example,
    overwrite_cells,
    remote_book,
    remote_env,
    serve_formulas,
)

from jxzp_addin import session as session_module
from jxzp_addin.registry import dispatch
from jxzp_addin.session import UI, Session
from xlsx_engine.forms.project.layout import project_layout
from xlsx_engine.kernel.errors import JxzpError


class FakeCOM:
    """Records calls and attribute writes; ``_oleobj_`` marks it as a pywin32 COM object."""

    _oleobj_ = object()

    def __init__(self, log, name, **attrs):
        self.__dict__.update(log=log, name=name, **attrs)

    def __getattr__(self, attr):
        def call(*args, **kwargs):
            self.log.append((self.name, attr, args, kwargs))
            handler = self.__dict__.get(f"on_{attr}")
            return handler(*args, **kwargs) if handler else None
        return call

    def __setattr__(self, attr, value):
        self.log.append((self.name, f"set {attr}", (value,), {}))
        self.__dict__[attr] = value


class Protection:
    AllowFormattingCells = False
    AllowFormattingColumns = True
    AllowFormattingRows = True


class FakeSheet:
    def __init__(self, api, name="自评表"):
        self.api, self.name = api, name


def sheet_api(log, password="jxzp"):
    def unprotect(given):
        if given != password:
            raise RuntimeError("com_error: password")
    return FakeCOM(log, "sheet", ProtectContents=True, ProtectDrawingObjects=True, ProtectScenarios=True,
                   Protection=Protection(), on_Unprotect=unprotect)


def test_protection_is_lifted_only_for_the_write_and_restored_as_it_was():
    log = []
    session = Session(type("Book", (), {"name": "a.xlsx", "api": None})())
    with session.unprotected(FakeSheet(sheet_api(log))):
        log.append("write")
    assert log == [("sheet", "Unprotect", ("jxzp",), {}), "write",
                   ("sheet", "Protect", ("jxzp",), {"DrawingObjects": True, "Contents": True, "Scenarios": True,
                                                    "AllowFormattingCells": False, "AllowFormattingColumns": True,
                                                    "AllowFormattingRows": True})]
    log.clear()
    with pytest.raises(JxzpError, match="保护密码不是模板的密码"), \
            session.unprotected(FakeSheet(sheet_api(log, password="other"))):
        log.append("write")
    assert "write" not in log
    unprotected = FakeCOM(log := [], "sheet", ProtectContents=False)
    with session.unprotected(FakeSheet(unprotected)):
        pass
    assert log == []


@pytest.mark.usefixtures("remote_env")
def test_recalculate_writes_inside_the_lifted_protection(tmp_path, monkeypatch):
    path = overwrite_cells(fill_example(tmp_path / "a.xlsx"), tmp_path / "b.xlsx", "自评表", {"K49": 100})
    serve_formulas(monkeypatch, path)
    book = remote_book(path)
    events = []
    api = sheet_api(events)
    api.on_Unprotect = lambda pw: events.append(("actions at unprotect", len(book.json()["actions"])))
    api.on_Protect = lambda *a, **k: events.append(("actions at protect", len(book.json()["actions"])))
    real = session_module.com_object
    monkeypatch.setattr(session_module, "com_object",
                        lambda obj: api if getattr(obj, "name", None) == "自评表" and hasattr(obj, "cells") else real(obj))
    outcome = dispatch("recalculate", book)
    assert outcome.data["restored"] == ["K49"]
    marks = dict(e for e in events if e[0].startswith("actions at"))
    funcs = [a["func"] for a in book.json()["actions"]]
    assert marks["actions at unprotect"] <= funcs.index("setFormula") < marks["actions at protect"]
    assert [a["values"] for a in book.json()["actions"] if a["func"] == "setFormula"] == [
        [[project_layout("national").cells["K49"].formula]]]


@pytest.mark.usefixtures("remote_env")
def test_recalculate_reads_back_what_excel_computed(tmp_path, monkeypatch):
    """On the desktop, writes are visible at once: the shell compares Excel's values with the scorer."""
    path = overwrite_cells(fill_example(tmp_path / "a.xlsx"), tmp_path / "b.xlsx", "自评表", {"K49": 100})
    serve_formulas(monkeypatch, path)
    book = remote_book(path)                                  # the remote book keeps showing 100 after the write
    original_init = Session.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self.immediate = True
    monkeypatch.setattr(Session, "__init__", init)
    outcome = dispatch("recalculate", book)
    assert not outcome.ok
    assert outcome.data["after"] == ["自评表!K49（总分）：表中 100，程序 94.71"]
    assert "恢复后仍有单元格与程序计算不一致" in outcome.message


def test_snapshot_uses_save_copy_as_and_cleans_up(tmp_path, monkeypatch):
    log = []
    saved = {}

    def save_copy_as(target):
        Path(target).write_bytes(b"copy")
        saved["path"] = Path(target)
    api = FakeCOM(log, "book", on_SaveCopyAs=save_copy_as)
    book = type("Book", (), {"api": api, "name": "自评表.xlsx", "fullname": "C:\\x\\自评表.xlsx"})()
    session = Session(book)
    assert session.immediate is True
    with session.snapshot() as path:
        assert path.name == "自评表.xlsx" and path.read_bytes() == b"copy"
    assert not saved["path"].exists() and not saved["path"].parent.exists()


def test_adding_a_sheet_lifts_the_workbook_structure_protection(monkeypatch):
    log = []
    book_api = FakeCOM(log, "book", ProtectStructure=True)

    class Sheets(list):
        def add(self, name, after=None):
            log.append(("sheets", "add", (name,), {}))
            sheet = FakeSheet(None, name)
            self.append(sheet)
            return sheet

        def __getitem__(self, key):
            if isinstance(key, str):
                return next(s for s in self if s.name == key)
            return list.__getitem__(self, key)
    book = type("Book", (), {"api": book_api, "name": "a.xlsx", "sheets": Sheets([FakeSheet(None)])})()
    sheet, created = Session(book).ensure_sheet("校验结果")
    assert created and sheet.name == "校验结果"
    assert [entry[:3] for entry in log] == [("book", "Unprotect", ("jxzp",)), ("sheets", "add", ("校验结果",)),
                                            ("book", "Protect", ())]
    assert log[-1][3] == {"Password": "jxzp", "Structure": True}


def test_folder_picker_and_questions_use_excel_dialogs(tmp_path):
    log = []
    dialog = FakeCOM(log, "dialog", on_Show=lambda: -1, on_SelectedItems=lambda i: str(tmp_path))
    app_api = FakeCOM(log, "app", on_FileDialog=lambda kind: dialog)
    answers = iter(["yes", "no"])
    app = type("App", (), {"api": app_api, "alert": lambda self, *a, **k: next(answers)})()
    ui = UI(type("Book", (), {"app": app})())
    assert ui.choose_folder("选择文件夹", tmp_path / "x") == tmp_path
    assert ("app", "FileDialog", (4,), {}) in log and ("dialog", "set Title", ("选择文件夹",), {}) in log
    assert ui.confirm("覆盖吗？") is True and ui.confirm("覆盖吗？") is False
    dialog.on_Show = lambda: 0
    assert ui.choose_folder("选择文件夹") is None
