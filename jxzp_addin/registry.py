"""The whitelist of ribbon entry points and the dispatcher the VBA callback calls.

The add-in's only VBA procedure, ``JxzpRibbon.Dispatch`` (``macros/JxzpRibbon.bas``), runs::

    RunPython "import jxzp_addin.registry as registry; registry.dispatch('<tag>')"

with the tag of the ribbon button that was clicked (lower-case letters and underscores only,
checked in VBA), after its guard ``JxzpReady`` found a workbook Python can act on (none open,
Protected View, read-only or not one of ours end in a message box there, without starting Python). :func:`dispatch` looks the tag up in :data:`REGISTRY` — filled only by the
:func:`entry_point` decorator in :mod:`jxzp_addin.entry_points` — and runs that function on the
calling workbook (``xw.Book.caller()``). A tag that is not registered runs nothing: the user
sees a message. Every message is in Chinese; errors never show a Python traceback (an internal
error is logged to a file whose path is shown).

Importing this module does not import xlwings.
"""

from __future__ import annotations

import datetime as _dt
import re
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlsx_engine.kernel.errors import JxzpError

TAG_PATTERN = re.compile(r"^[a-z_]{1,32}$")   #: the same rule the VBA callback enforces
TITLE = "绩效自评"
LOG_NAME = "jxzp-addin-error.log"


@dataclass
class Outcome:
    """What an entry point did: the message shown to the user and details for tests and logs."""

    message: str
    ok: bool = True
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EntryPoint:
    """One ribbon button: its tag (the whitelist key), Chinese label, ribbon group and help text."""

    tag: str
    label: str
    group: str
    help: str
    func: Callable[..., Outcome]


#: tag -> entry point; filled by :func:`entry_point` only.
REGISTRY: dict[str, EntryPoint] = {}


def entry_point(tag: str, label: str, group: str, help: str) -> Callable[[Callable[..., Outcome]],
                                                                          Callable[..., Outcome]]:
    """Register a function as the entry point of the ribbon button whose tag is ``tag``."""
    if not TAG_PATTERN.match(tag):
        raise ValueError(f"entry point tag {tag!r} must match {TAG_PATTERN.pattern}")

    def register(func: Callable[..., Outcome]) -> Callable[..., Outcome]:
        if tag in REGISTRY and REGISTRY[tag].func is not func:
            raise ValueError(f"entry point tag {tag!r} registered twice")
        REGISTRY[tag] = EntryPoint(tag, label, group, help, func)
        return func

    return register


def entry_points() -> dict[str, EntryPoint]:
    """The whitelist: every registered entry point, by tag."""
    from . import entry_points as _module  # noqa: F401  (registers on import)
    return dict(REGISTRY)


def log_path() -> Path:
    return Path(tempfile.gettempdir()) / LOG_NAME


def _log_internal_error(tag: str) -> Path:
    path = log_path()
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"==== {_dt.datetime.now().isoformat(timespec='seconds')} 按钮 {tag}\n")
            fh.write(traceback.format_exc())
    except OSError:
        pass
    return path


def dispatch(tag: str, book: Any = None, ui: Any = None) -> Outcome:
    """Run the entry point registered under ``tag`` on ``book`` (default: the calling workbook).

    Args:
        tag: the ribbon button's tag.
        book: an ``xlwings.Book``; None means ``xw.Book.caller()`` (the workbook RunPython came from).
        ui: dialogs and messages (:class:`jxzp_addin.session.UI`); None means the workbook's own.

    Returns:
        The entry point's :class:`Outcome` (after its message was shown to the user).
    """
    from .session import Session

    points = entry_points()
    if book is None:
        import xlwings as xw
        book = xw.Book.caller()
    session = Session(book, ui)
    point = points.get(tag) if isinstance(tag, str) else None
    if point is None:
        text = (f"未知的按钮“{tag}”，未执行任何操作。加载项的功能区与 Python 程序版本可能不一致，"
                "请用 jxzp addin install 重新安装加载项。")
        session.ui.alert(text, title=TITLE, critical=True)
        return Outcome(text, ok=False)
    try:
        outcome = point.func(session)
    except JxzpError as exc:
        text = f"{point.label}未完成：{exc}"
        session.ui.alert(text, title=f"{TITLE} - {point.label}", critical=True)
        return Outcome(text, ok=False, data={"error": exc})
    except Exception as exc:  # a bug: a short message, the traceback goes to the log file
        where = _log_internal_error(tag)
        text = (f"{point.label}出现内部错误：{type(exc).__name__}: {exc}\n"
                f"详细信息已写入 {where}，请把该文件反馈给开发者。")
        session.ui.alert(text, title=f"{TITLE} - {point.label}", critical=True)
        return Outcome(text, ok=False, data={"error": exc, "log": where})
    if outcome.message:
        session.ui.alert(outcome.message, title=f"{TITLE} - {point.label}", critical=not outcome.ok)
    return outcome
