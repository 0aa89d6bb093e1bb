"""A finding: one problem found in a file, with its severity, place, message and what to do.

Severity model (README, 校验级别): 错误 = the table contradicts itself; 警告 = it differs from the
rules in force; 提示 = incomplete or style. ``jxzp check`` exits 1 only on 错误.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ERROR, WARNING, INFO = "错误", "警告", "提示"
SEVERITIES = (ERROR, WARNING, INFO)


@dataclass
class Finding:
    """One problem found in a file."""

    severity: str           #: 错误 | 警告 | 提示
    code: str               #: stable identifier, e.g. "formula_replaced", "total_mismatch"
    place: str              #: "自评表!K49", "名称“总分”", a sheet name, or "" for the whole file
    message: str            #: what is wrong, in Chinese
    hint: str = ""          #: what to do
    file: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"级别": self.severity, "代码": self.code, "文件": self.file, "位置": self.place,
                "问题": self.message, "处理建议": self.hint}

    def text(self) -> str:
        where = self.place or Path(self.file).name
        out = f"[{self.severity}] {where}：{self.message}"
        if self.hint:
            out += f"（处理：{self.hint}）"
        return out
