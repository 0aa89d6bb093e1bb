"""The calling workbook as the entry points see it, through xlwings' public API.

:class:`Session` reads values, defined names and (where the engine can) formulas and fills,
writes values, formulas and fills, lifts the template's protection for the time of a write,
and makes a snapshot file of the live workbook for the file-based core (checks, bulk).
:class:`UI` shows messages and asks questions.

On Windows desktop Excel, a few things the portable xlwings API does not offer go through the
COM object behind ``.api`` (part of open-source xlwings): ``Unprotect``/``Protect`` of the
template's sheets and workbook structure, ``SaveCopyAs`` for a snapshot that includes unsaved
changes, Excel's folder picker, and reading a fill colour. Where there is no COM object (macOS,
or xlwings' ``remote`` engine used by the tests) these degrade as documented on each method.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from xlsx_engine.kernel.errors import JxzpError, TemplateError
from xlsx_engine.ooxml.cells import NameRef, col_letters, parse_name_ref, split_ref
from xlsx_engine.ooxml.sheetmodel import IDENTITY_KEYS

IDENTITY_NAMES = IDENTITY_KEYS
DEFAULT_PASSWORD = "jxzp"            #: templates/forms/project.yaml protection_password
MSO_FOLDER_PICKER = 4                #: msoFileDialogFolderPicker
_NUMBER_LIKE = re.compile(r"^\s*[-+]?[\d.,，/:%\s年月日]+\s*$")


def com_object(obj: Any) -> Any:
    """The pywin32 COM object behind an xlwings object on Windows desktop Excel, else None."""
    try:
        api = obj.api
    except Exception:
        return None
    return api if hasattr(api, "_oleobj_") else None


def cell_value(value: Any) -> Any:
    """A cell value as the core expects it: float, str, bool or None (empty)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def safe_text(value: Any) -> Any:
    """A value to write so that Excel stores text as text.

    Excel parses a string written through the object model as if it were typed: "=..." becomes a
    formula, "95%" a number, "2024-3-1" a date. A leading apostrophe keeps it text (and is not shown).
    """
    if isinstance(value, str) and value and (value[0] in "=+-@'" or _NUMBER_LIKE.match(value)):
        return "'" + value
    return value


def hex_color(color: Any) -> str | None:
    """(r, g, b) or "#rrggbb" -> "#RRGGBB"; None stays None."""
    if color is None:
        return None
    if isinstance(color, str):
        text = color.lstrip("#").upper()
        return "#" + text[-6:] if text else None
    r, g, b = color
    return f"#{r:02X}{g:02X}{b:02X}"


_PLACE = re.compile(r"^(?:'((?:[^']|'')+)'|([^'!]+))!\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?$")


def parse_place(place: str) -> tuple[str, str] | None:
    """"自评表!K49" or "'自评表'!A18:A20" -> (sheet, "K49" / "A18:A20"); None for other places."""
    m = _PLACE.match(place.strip()) if isinstance(place, str) else None
    if not m:
        return None
    sheet = (m.group(1) or "").replace("''", "'") or m.group(2)
    first = f"{m.group(3)}{m.group(4)}"
    return sheet, first if not m.group(5) else f"{first}:{m.group(5)}{m.group(6)}"


class UI:
    """Messages and questions for the user of the calling workbook.

    Messages use ``App.alert`` (a message box on the desktop). Questions need an answer at once,
    which only the desktop engines give; elsewhere :meth:`confirm` answers no and
    :meth:`choose_folder` raises a :class:`JxzpError` explaining what is missing.
    """

    def __init__(self, book: Any):
        self.book = book

    def alert(self, message: str, title: str = "绩效自评", critical: bool = False) -> None:
        self.book.app.alert(message, title=title, mode="critical" if critical else "info")

    def confirm(self, message: str, title: str = "绩效自评") -> bool:
        answer = self.book.app.alert(message, title=title, buttons="yes_no", mode="info")
        return answer == "yes"

    def choose_folder(self, title: str, initial: Path | None = None) -> Path | None:
        """Excel's folder picker; None when the user cancels."""
        app = com_object(self.book.app)
        if app is None:
            raise JxzpError("当前环境无法弹出“选择文件夹”对话框（需要 Windows 上的 Excel）",
                            hint="请在命令行使用 jxzp bulk / jxzp collect")
        dialog = app.FileDialog(MSO_FOLDER_PICKER)
        dialog.Title = title
        dialog.AllowMultiSelect = False
        if initial is not None:
            dialog.InitialFileName = str(initial).rstrip("\\/") + os.sep
        if dialog.Show() != -1:
            return None
        return Path(dialog.SelectedItems(1))

    def open_workbook(self, path: Path) -> None:
        """Open a workbook we wrote (desktop only; elsewhere the message names the file)."""
        if com_object(self.book.app) is not None:
            self.book.app.books.open(str(path))


class Session:
    """The calling workbook and the user, for one click of a ribbon button.

    Args:
        book: the ``xlwings.Book`` the button was clicked in.
        ui: a :class:`UI` (tests pass one with scripted answers); None: ``UI(book)``.
    """

    def __init__(self, book: Any, ui: UI | None = None, password: str = DEFAULT_PASSWORD):
        self.book = book
        self.ui = ui if ui is not None else UI(book)
        self.password = password
        #: Windows desktop Excel: writes are visible to later reads (used to verify a recalculation)
        self.immediate = com_object(book) is not None
        self._grids: dict[str, tuple[int, int, list[list[Any]]]] = {}
        self._names: dict[str, NameRef] | None = None
        self._sheet_names: list[str] | None = None

    # ------------------------------------------------------------------ identity and place
    @property
    def display_name(self) -> str:
        return str(self.book.name)

    @property
    def path(self) -> str:        # used by xlsx_engine.reader.record_by_names in error messages
        return self.display_name

    def workbook_path(self) -> Path | None:
        """The saved file of the workbook, or None (never saved, or stored on OneDrive/SharePoint)."""
        try:
            full = str(self.book.fullname)
        except Exception:
            return None
        if "://" in full:
            return None
        path = Path(full)
        return path if path.is_absolute() and path.is_file() else None

    def require_saved_path(self) -> Path:
        path = self.workbook_path()
        if path is None:
            raise JxzpError("工作簿还没有保存到本机文件夹", where=self.display_name,
                            hint="请先“另存为”到本机文件夹（不是 OneDrive/SharePoint 网址）再点此按钮")
        return path

    @contextmanager
    def snapshot(self) -> Iterator[Path]:
        """A file holding the workbook as it is now, for the file-based core.

        Windows: ``SaveCopyAs`` into a temporary folder (unsaved changes included, the original
        file untouched). Elsewhere: the saved file itself (unsaved changes are not included).
        """
        api = com_object(self.book)
        if api is None:
            yield self.require_saved_path()
            return
        folder = Path(tempfile.mkdtemp(prefix="jxzp-"))
        name = self.display_name if Path(self.display_name).suffix else self.display_name + ".xlsx"
        target = folder / name
        try:
            api.SaveCopyAs(str(target))
            yield target
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    # ------------------------------------------------------------------ reading
    def refresh(self) -> None:
        """Forget the values read so far (after a write on an engine that applies writes at once)."""
        self._grids.clear()
        self._names = None
        self._sheet_names = None

    def sheet_names(self) -> list[str]:
        if self._sheet_names is None:
            self._sheet_names = [s.name for s in self.book.sheets]
        return self._sheet_names

    def has_sheet(self, name: str) -> bool:
        return name in self.sheet_names()

    def sheet(self, name: str) -> Any:
        return self.book.sheets[name]

    def names(self) -> dict[str, NameRef]:
        """Workbook-scoped defined names that point to one rectangular range."""
        if self._names is None:
            out: dict[str, NameRef] = {}
            for item in self.book.names:
                try:
                    name, refers = item.name, item.refers_to
                except Exception:
                    continue
                if not name or "!" in name or not isinstance(refers, str):
                    continue
                ref = parse_name_ref(refers.lstrip("="))
                if ref is not None:
                    out[name] = ref
            self._names = out
        return self._names

    def grid(self, sheet: str, rows: int, cols: int) -> list[list[Any]]:
        """Values of A1:(rows, cols) of a sheet (read once per session and cached)."""
        cached = self._grids.get(sheet)
        if cached is None or cached[0] < rows or cached[1] < cols:
            if cached is not None:
                rows, cols = max(rows, cached[0]), max(cols, cached[1])
            raw = self.sheet(sheet).range((1, 1), (rows, cols)).options(ndim=2).value
            values = [[cell_value(v) for v in row] for row in raw]
            cached = (rows, cols, values)
            self._grids[sheet] = cached
        return cached[2]

    def value(self, sheet: str, ref: str) -> Any:
        row, col = split_ref(ref)
        return self.grid(sheet, row, col)[row - 1][col - 1]

    def name_values(self, name: str) -> list[Any]:
        """The values behind a defined name (row-major). Raises KeyError for a missing name."""
        ref = self.names()[name]
        if ref.sheet not in self.sheet_names():
            raise KeyError(name)
        return [self.value(ref.sheet, cell) for cell in ref.cells]

    def prefetch(self, names: list[str]) -> None:
        """Read, in one call per sheet, the area covering the given defined names."""
        extent: dict[str, tuple[int, int]] = {}
        refs = self.names()
        for name in names:
            ref = refs.get(name)
            if ref is None or ref.sheet not in self.sheet_names():
                continue
            rows, cols = extent.get(ref.sheet, (0, 0))
            extent[ref.sheet] = (max(rows, ref.last[0]), max(cols, ref.last[1]))
        for sheet, (rows, cols) in extent.items():
            self.grid(sheet, rows, cols)

    def identity(self) -> dict[str, str]:
        """模板编号 / 模板版本 / 评分规则 / 版式指纹, from the hidden 字典 sheet (via their names)."""
        self.prefetch(list(IDENTITY_NAMES))
        meta = {}
        for key in IDENTITY_NAMES:
            try:
                value = self.name_values(key)[0]
            except KeyError:
                continue
            if value is not None:
                meta[key] = value if isinstance(value, str) else f"{value:g}"
        return meta

    def layout(self, *, same_positions: bool = False):
        """The template layout this workbook was made from.

        Args:
            same_positions: also require every name of the template to point where the template
                puts it (needed to write formulas back at the template's positions).

        Raises:
            TemplateError: not one of our workbooks, another template version, or rows/columns moved.
        """
        from xlsx_engine.forms.registry import layout_for_meta
        meta = self.identity()
        if "评分规则" not in meta:
            raise TemplateError("不是本系统模板生成的工作簿（找不到模板标识“评分规则”）", where=self.display_name,
                                hint="外来表格请用“校验”按钮核对，或在命令行用 jxzp import 转换")
        layout = layout_for_meta(meta)
        if meta.get("版式指纹") != layout.fingerprint():
            raise TemplateError("工作簿的版式指纹与本程序的模板不一致（模板被改动或版本不同）", where=self.display_name,
                                hint="请先点“校验”查看改动，或用原始模板重新填报")
        if same_positions:
            names = self.names()
            moved = []
            for name, text in layout.names.items():
                want = parse_name_ref(text)
                got = names.get(name)
                if got != want:
                    where = f"{got.sheet}!{got.a1}" if got else "（名称已删除）"
                    moved.append(f"名称“{name}”指向 {where}，模板中为 {want.sheet}!{want.a1}")
            if moved:
                raise TemplateError("表格的行列被插入、删除或移动，无法按模板恢复公式：" + "；".join(moved[:3])
                                    + ("等" if len(moved) > 3 else ""), where=self.display_name,
                                    hint="请先点“校验”查看改动，或用原始模板重新填报")
        return layout

    def record(self, layout):
        """The project record, read by name exactly as the core reads a saved file."""
        from xlsx_engine.forms.project.readback import record_by_names
        self.prefetch(list(layout.names))
        return record_by_names(self, layout)

    def formulas(self, sheet: str, rows: int, cols: int) -> list[list[str]] | None:
        """Formulas (or constants) of A1:(rows, cols), as Excel shows them in the formula bar.

        None when the engine cannot read formulas synchronously (xlwings' remote engine).
        """
        try:
            raw = self.sheet(sheet).range((1, 1), (rows, cols)).formula
        except NotImplementedError:
            return None
        if not isinstance(raw, (list, tuple)):
            raw = ((raw,),)
        elif raw and not isinstance(raw[0], (list, tuple)):
            raw = (raw,)
        return [["" if v is None else str(v) for v in row] for row in raw]

    def read_color(self, sheet: str, ref: str) -> tuple[bool, str | None]:
        """(known, "#RRGGBB" or None for no fill) of a cell's fill."""
        try:
            return True, hex_color(self.sheet(sheet).range(ref).color)
        except NotImplementedError:
            return False, None

    # ------------------------------------------------------------------ protection
    @contextmanager
    def unprotected(self, sheet: Any) -> Iterator[None]:
        """Lift a sheet's protection (template password) for the time of a write, then restore it."""
        api = com_object(sheet)
        if api is None or not api.ProtectContents:
            yield
            return
        flags = {"DrawingObjects": bool(api.ProtectDrawingObjects), "Contents": True,
                 "Scenarios": bool(api.ProtectScenarios),
                 "AllowFormattingCells": bool(api.Protection.AllowFormattingCells),
                 "AllowFormattingColumns": bool(api.Protection.AllowFormattingColumns),
                 "AllowFormattingRows": bool(api.Protection.AllowFormattingRows)}
        try:
            api.Unprotect(self.password)
        except Exception:
            raise JxzpError(f"工作表“{sheet.name}”受保护，且保护密码不是模板的密码，无法写入", where=self.display_name,
                            hint="请先在“审阅”选项卡中撤销工作表保护，再点此按钮") from None
        try:
            yield
        finally:
            api.Protect(self.password, **flags)

    @contextmanager
    def unprotected_structure(self) -> Iterator[None]:
        """Lift the workbook's structure protection (needed to add a sheet), then restore it."""
        api = com_object(self.book)
        if api is None or not api.ProtectStructure:
            yield
            return
        try:
            api.Unprotect(self.password)
        except Exception:
            raise JxzpError("工作簿结构受保护，且密码不是模板的密码，无法新增工作表", where=self.display_name,
                            hint="请先在“审阅”选项卡中撤销工作簿保护，再点此按钮") from None
        try:
            yield
        finally:
            api.Protect(Password=self.password, Structure=True)

    # ------------------------------------------------------------------ writing
    def ensure_sheet(self, name: str) -> tuple[Any, bool]:
        """The sheet called ``name``, added after the last sheet if missing; (sheet, created)."""
        if self.has_sheet(name):
            return self.sheet(name), False
        with self.unprotected_structure():
            sheet = self.book.sheets.add(name, after=self.book.sheets[len(self.book.sheets) - 1])
        self._sheet_names = None
        return sheet, True

    @staticmethod
    def write_rows(sheet: Any, top_left: str, rows: list[list[Any]]) -> None:
        """Write a block of values in one call; strings stay text (see :func:`safe_text`)."""
        if not rows:
            return
        width = max(len(r) for r in rows)
        block = [[safe_text(v) for v in r] + [None] * (width - len(r)) for r in rows]
        row, col = split_ref(top_left)
        sheet.range((row, col), (row + len(block) - 1, col + width - 1)).value = block


def now_text() -> str:
    return _dt.datetime.now().strftime("%Y-%m-%d %H:%M")


def a1(row: int, col: int) -> str:
    return f"{col_letters(col)}{row}"
