"""What kind of thing a path names, asked before opening it: a pipe blocks its reader until a writer comes and a
device never ends, so a file given by a user (or found in a unit's folder) is opened only when it is a regular file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

#: why a pipe or device is not read (one wording, also for the folder walk of integrity/folder.py)
NOT_REGULAR = "不是普通文件（管道、设备等），未读取"


def not_regular(path: str | Path) -> str | None:
    """Why ``path`` cannot be read as a file without waiting on it, in Chinese, or None for a regular file.
    A path that does not exist (or cannot be looked at) is left to the opener, which says so."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if stat.S_ISDIR(mode):
        return "这是一个文件夹，不是文件"
    if not stat.S_ISREG(mode):
        return NOT_REGULAR
    return None


#: the document property that marks a workbook this program wrote for the bureau (汇总表, 催报清单, 考核评分表):
#: one lying in a 回收 folder is never taken for a returned form (its value says what it is)
OUTPUT_PROPERTY = "jxzp输出"


def own_output(props: dict[str, str]) -> str | None:
    """What a workbook is when this program wrote it for the bureau, from its document properties, else None
    (a 考核评分表 written before the property existed is told by its 考核规则)."""
    if OUTPUT_PROPERTY in props:
        return str(props[OUTPUT_PROPERTY] or "输出")[:20]
    return "考核评分表" if "考核规则" in props else None


def not_returned(what: str) -> str:
    """Why an output of this program found among the returned files is not taken as one (check, collect, reports)."""
    return f"是本程序生成的{what}，不是交回的自评表"
