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
