"""Listing a folder of returned files, the one way every command does (``check``, ``collect``, ``narrative --each``).

A 回收 folder holds what subordinate units sent: it is untrusted. Sub-folders are walked, symbolic links are never
followed (a link to a file outside the folder, or to another file of it, is listed, not read), and every entry that
is not read — Office lock files ``~$…``, hidden files, pipes and devices, entries that cannot be accessed — is
listed with the reason in Chinese, so that nothing is left out silently. ``check`` also reads the Word 自评报告
(.docx) of a folder and lists every other file as not checked. A folder is walked once (:func:`survey`): the
spreadsheets, the Word reports and everything else come from the same listing.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
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


FOLDER_LINK = "是文件夹的符号链接，未进入（不跟随链接）"


@dataclass
class Survey:
    """One walk of a folder of returned files, its entries in four lists (each entry in exactly one)."""

    #: the spreadsheet files (:data:`SPREADSHEET_SUFFIXES`), sorted, sub-folders included
    spreadsheets: list[str] = field(default_factory=list)
    #: (name as shown, why) of the entries named like spreadsheets that are not read (links, lock and hidden files,
    #: pipes, entries that cannot be accessed) and of the links to folders, which are not entered
    skipped: list[tuple[str, str]] = field(default_factory=list)
    #: the Word 自评报告 (.docx), which ``check`` reads like one given on its own
    reports: list[str] = field(default_factory=list)
    #: (name as shown, why not checked) of every other entry: an old .doc, a stamped PDF, a note, a link to one
    others: list[tuple[str, str]] = field(default_factory=list)


def survey(folder: str | Path, ignore: tuple[str, ...] = ()) -> Survey:
    """Walk ``folder`` once (:func:`list_files`: links never followed; names in ``ignore`` passed over silently)
    and sort what it holds into a :class:`Survey`."""
    files, skipped = list_files(folder, None, ignore)
    out = Survey()
    for f in files:
        suffix = _suffix(f)
        if suffix in SPREADSHEET_SUFFIXES:
            out.spreadsheets.append(f)
        elif suffix in WORD_SUFFIXES:
            out.reports.append(f)
        else:
            out.others.append((shown(f), OLD_WORD if suffix in OLD_WORD_SUFFIXES else NOT_CHECKED))
    for name, why in skipped:
        if why == FOLDER_LINK or _suffix(name) in SPREADSHEET_SUFFIXES:
            out.skipped.append((name, why))
        else:
            out.others.append((name, why))
    out.others.sort()
    return out


def _suffix(name: str) -> str:
    return os.path.splitext(name)[1].lower()


def list_files(folder: str | Path, suffixes: tuple[str, ...] | None = None,
               ignore: tuple[str, ...] = ()) -> tuple[list[str], list[tuple[str, str]]]:
    """Files below ``folder`` whose suffix is one of ``suffixes`` (None: any file; sorted, sub-folders included),
    and the entries not read, each as (name as shown, why). Names in ``ignore`` (e.g. bulk's manifest) are passed
    over silently."""
    files: list[str] = []
    skipped: list[tuple[str, str]] = []
    root = os.path.realpath(folder)
    for top, dirs, names in os.walk(folder, followlinks=False):
        for d in list(dirs):
            full = os.path.join(top, d)
            if os.path.islink(full):
                dirs.remove(d)
                skipped.append((shown(full), FOLDER_LINK))
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
