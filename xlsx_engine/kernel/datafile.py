"""Reading users' data files (YAML/JSON) and the field validators every form's loader shares.

Each validator adds a Chinese problem naming the field instead of raising, so a loader reports every
wrong field of a file at once (see :class:`~xlsx_engine.kernel.errors.DataError`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Union

import yaml

from xlsx_engine.kernel.errors import DataError
from xlsx_engine.kernel.files import not_regular
from xlsx_engine.kernel.resources import load_yaml
from xlsx_engine.kernel.targets import parse_quantity

#: A cell value as the engine sees it: a number, a text, or None for an empty cell.
Cell = Union[float, str, None]


def read_data_file(path: str | Path) -> dict:
    """Read a YAML or JSON data file into a mapping.

    Raises:
        DataError: the file is missing, unreadable or not a mapping.
    """
    path = Path(path)
    why = not_regular(path)
    if why:
        raise DataError(why, where=str(path), hint="请给出数据文件（.yaml/.json）")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError("找不到数据文件", where=str(path)) from None
    except UnicodeDecodeError:
        raise DataError("数据文件不是 UTF-8 编码的文本", where=str(path), hint="请另存为 UTF-8 编码") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else load_yaml(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise DataError(f"格式错误：{exc}", where=str(path)) from None
    if not isinstance(data, dict):
        raise DataError("数据文件的最外层应为“字段: 值”的结构", where=str(path))
    return data


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}：{message}")


#: 万元: an amount from this on (10^19 yuan) is a slip (an ID pasted, an exponent typed), never a budget — and sums
#: of such amounts leave the range a spreadsheet computes in
MAX_AMOUNT = 1e15


def _finite(value: float) -> bool:
    """A number a spreadsheet can hold: not inf or nan, and not an integer past the largest double."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _text(value: Any) -> Cell:
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float)) and _finite(value):
        return float(value)
    text = str(value)            # .inf, .nan, an integer past the doubles: kept as the text it is, never a number
    return text if text.strip() else None


def _amount(value: Any, where: str, problems: _Problems) -> Cell:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        qty = parse_quantity(str(value))
        if qty is None or qty[1] not in ("", "万元"):
            problems.add(where, f"应为数字（单位：万元），实际为“{value}”")
            return None
        value = qty[0]
    if not _finite(value) or abs(value) >= MAX_AMOUNT:
        problems.add(where, f"金额超出范围（实际为“{value}”），应为以万元为单位的金额")
        return None
    if value < 0:
        problems.add(where, f"金额不能为负数（{value}）")
        return None
    return float(value)


def _number(value: Any, where: str, problems: _Problems, *, minimum: float = 0.0) -> Cell:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(str(value).strip())
        except ValueError:
            problems.add(where, f"应为数字，实际为“{value}”")
            return None
    if not _finite(value):
        problems.add(where, f"数字超出范围（实际为“{value}”）")
        return None
    if value < minimum:
        problems.add(where, f"不能小于 {minimum:g}（{value}）")
        return None
    return float(value)
