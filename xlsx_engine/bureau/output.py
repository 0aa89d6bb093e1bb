"""Writing the bureau's output files: atomically, and with a Chinese answer when the place is not writable."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable

from xlsx_engine.kernel.errors import JxzpError, os_reason
from xlsx_engine.ooxml.safezip import atomic_write_bytes


def output_error(path: str | Path, exc: OSError) -> JxzpError:
    """The user's error (exit 2) for an output place that cannot be written."""
    return JxzpError(f"无法写入输出文件：{os_reason(exc, '无法写入')}", where=str(path),
                     hint="请换一个可写的文件夹，或检查磁盘空间后重试；原有文件未被改动")


def make_folder(path: str | Path) -> Path:
    """Create an output folder (and its parents).

    Raises:
        JxzpError: it cannot be created (a parent is a file, no permission, read-only disk).
    """
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error(path, exc) from None
    return path


def check_writable(path: str | Path) -> None:
    """Fail early (before a long run) when an output file could not be written where it is asked for.

    Raises:
        JxzpError: the folder is missing and cannot be created, is read-only or full, or its parent is a file.
    """
    folder = make_folder(Path(path).parent)
    try:
        fd, probe = tempfile.mkstemp(prefix=".jxzp-probe.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise output_error(path, exc) from None


def write_output(path: str | Path, data: bytes | Iterable[bytes], *, durable: bool = True) -> None:
    """Write one output file atomically (bytes, or pieces of bytes); an unwritable place is the user's error
    (exit 2), not ours.

    Raises:
        JxzpError: the folder is read-only or missing, its parent is a file, the disk is full.
    """
    try:
        atomic_write_bytes(path, data, durable=durable)
    except OSError as exc:
        raise output_error(path, exc) from None
