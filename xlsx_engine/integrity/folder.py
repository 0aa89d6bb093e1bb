"""Listing a folder of returned files, the one way every command does (``check``, ``collect``, ``narrative --each``).

A 回收 folder holds what subordinate units sent: it is untrusted. Sub-folders are walked, symbolic links are never
followed (a link to a file outside the folder, or to another file of it, is listed, not read), and every entry that
is not read — Office lock files ``~$…``, hidden files, pipes and devices, entries that cannot be accessed — is
listed with the reason in Chinese, so that nothing is left out silently. ``check`` also reads the Word 自评报告
(.docx) of a folder and lists every other file as not checked (:func:`find_besides_spreadsheets`).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from xlsx_engine.kernel.errors import os_reason
from xlsx_engine.kernel.files import NOT_REGULAR

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".et", ".ett", ".xlsb", ".ods")
#: Word 自评报告 that ``check`` reads (its 自评表 by labels, the figures its text states)
WORD_SUFFIXES = (".docx",)
#: Word documents in formats that cannot be read: said so, with what to do
OLD_WORD_SUFFIXES = (".doc", ".wps", ".rtf")
OLD_WORD = "是旧版 Word 文档，未检查；Word 自评报告请另存为 .docx 后再检查"
NOT_CHECKED = "不是 Excel 自评表或 Word 自评报告（.docx），未检查"


#: control characters (C0 and DEL) -> their \\xNN spelling
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(32), 127)}


def shown(path: str | os.PathLike) -> str:
    """A file name as users may see it: undecodable bytes as U+FFFD, control characters as \\xNN."""
    return os.fsencode(path).decode("utf-8", "replace").translate(_CONTROLS)


def find_spreadsheets(folder: str | Path, ignore: tuple[str, ...] = ()) -> tuple[list[str], list[tuple[str, str]]]:
    """The spreadsheet files below ``folder`` (:data:`SPREADSHEET_SUFFIXES`) and the entries not read: see
    :func:`list_files`."""
    return list_files(folder, SPREADSHEET_SUFFIXES, ignore)


def _suffix(name: str) -> str:
    return os.path.splitext(name)[1].lower()


def find_besides_spreadsheets(folder: str | Path, ignore: tuple[str, ...] = ()) -> tuple[list[str], list[tuple[str, str]]]:
    """What a returned folder holds besides the spreadsheets :func:`find_spreadsheets` lists (for ``check``): the
    Word 自评报告 (.docx), checked like one given on its own, and every other entry, each as (name as shown, why
    it is not checked) — an old .doc, a stamped PDF, a note — so that none is passed over silently. Links to
    folders, and the entries named like spreadsheets, are :func:`find_spreadsheets`' to list."""
    files, skipped = list_files(folder, None, ignore, folder_links=False)
    reports = [f for f in files if _suffix(f) in WORD_SUFFIXES]
    others = [(name, why) for name, why in skipped if _suffix(name) not in SPREADSHEET_SUFFIXES]
    others += [(shown(f), OLD_WORD if _suffix(f) in OLD_WORD_SUFFIXES else NOT_CHECKED) for f in files
               if _suffix(f) not in SPREADSHEET_SUFFIXES + WORD_SUFFIXES]
    return reports, sorted(others)


def list_files(folder: str | Path, suffixes: tuple[str, ...] | None = None,
               ignore: tuple[str, ...] = (), *, folder_links: bool = True) -> tuple[list[str], list[tuple[str, str]]]:
    """Files below ``folder`` whose suffix is one of ``suffixes`` (None: any file; sorted, sub-folders included),
    and the entries not read, each as (name as shown, why). Names in ``ignore`` (e.g. bulk's manifest) are passed
    over silently; so are links to folders when ``folder_links`` is false (another listing of the same folder
    names them)."""
    files: list[str] = []
    skipped: list[tuple[str, str]] = []
    root = os.path.realpath(folder)
    for top, dirs, names in os.walk(folder, followlinks=False):
        for d in list(dirs):
            full = os.path.join(top, d)
            if os.path.islink(full):
                dirs.remove(d)
                if folder_links:
                    skipped.append((shown(full), "是文件夹的符号链接，未进入（不跟随链接）"))
        dirs.sort()
        for name in sorted(names):
            full = os.path.join(top, name)
            if name in ignore or suffixes is not None and _suffix(name) not in suffixes:
                continue
            try:
                st = os.lstat(full)
            except OSError as exc:
                skipped.append((shown(full), f"无法访问（{os_reason(exc)}）"))
                continue
            if stat.S_ISLNK(st.st_mode):
                target = os.path.realpath(full)
                if not os.path.exists(target):
                    why = "是符号链接，目标不存在"
                elif os.path.commonpath([root, target]) != root:
                    why = "是指向本文件夹以外的符号链接，未读取"
                else:
                    why = "是本文件夹内另一文件的符号链接，未重复读取"
                skipped.append((shown(full), why))
            elif not stat.S_ISREG(st.st_mode):
                skipped.append((shown(full), NOT_REGULAR))
            elif name.startswith("~$"):
                skipped.append((shown(full), "是 Excel/WPS 打开文件时的临时文件，未读取"))
            elif name.startswith("."):
                skipped.append((shown(full), "是隐藏文件，未读取"))
            else:
                files.append(full)
    return files, skipped
