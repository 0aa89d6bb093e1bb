"""The small exception hierarchy of the engine.

Every error a user can cause is a :class:`JxzpError` whose ``str()`` is a Chinese
message naming the place (file, sheet!cell or data field) and what to do. The
command line prints that message and exits with :attr:`JxzpError.exit_code`,
never with a traceback.
"""

from __future__ import annotations

import errno

#: what an operating-system error means to a user, by errno (the one wording of them)
OS_REASONS = {errno.EACCES: "没有权限", errno.EPERM: "没有权限", errno.EROFS: "所在磁盘为只读",
              errno.ENOSPC: "磁盘空间不足", errno.EDQUOT: "磁盘配额已满", errno.ENOTDIR: "上级路径不是文件夹",
              errno.EEXIST: "上级路径不是文件夹", errno.ENAMETOOLONG: "文件名过长",
              errno.EISDIR: "该位置已有同名的文件夹", errno.ENOENT: "找不到文件或文件夹",
              errno.EIO: "读写出错（磁盘或网络共享故障）", errno.ELOOP: "符号链接层数过多",
              errno.ETXTBSY: "文件正被其他程序使用"}


def os_reason(exc: OSError, default: str = "无法访问") -> str:
    """The Chinese reason of an OSError (its errno), e.g. "磁盘空间不足"."""
    return OS_REASONS.get(exc.errno, exc.strerror or default)


class JxzpError(Exception):
    """Base class: a problem the user can fix. ``str(err)`` is shown to the user.

    Args:
        message: what is wrong, in Chinese.
        where: the place (file, ``sheet!cell``, data field), shown before the message.
        hint: what to do about it, shown after the message.
    """

    exit_code = 2

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None):
        self.message = message
        self.where = where
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        text = f"{self.where}：{self.message}" if self.where else self.message
        if self.hint:
            text += f"（{self.hint}）"
        return text


class ProfileError(JxzpError):
    """A scoring profile file is malformed."""


class DataError(JxzpError):
    """A project data file (YAML/JSON) has a wrong, missing or unknown field."""

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None,
                 problems: list[str] | None = None):
        self.problems = problems or []
        super().__init__(message, where=where, hint=hint)

    def __str__(self) -> str:
        head = super().__str__()
        if self.problems:
            return head + "\n" + "\n".join(f"  - {p}" for p in self.problems)
        return head


class TemplateError(JxzpError):
    """A template is missing, not one of ours, or was altered so it cannot be filled."""


class WorkbookError(JxzpError):
    """A workbook cannot be read at all (corrupt, encrypted, not a zip, too large...)."""


class RecalcUnavailable(JxzpError):
    """LibreOffice is needed for an operation but is not installed."""
