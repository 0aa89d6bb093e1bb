"""What every form's rules file shares: where rules live, ``extends:`` merging, reading by id or path,
and the grade (等次) cut-points — one :func:`grade_for` for every form.

The rules themselves are documented in ``docs/rules.md``; each form's profile type lives in its
package under ``xlsx_engine/forms/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import yaml

from xlsx_engine.kernel.errors import ProfileError
from xlsx_engine.kernel.resources import data_dir, load_yaml

#: Shipped rules: ``templates/profiles/`` (project profiles at the top, other forms in sub-folders).
PROFILE_DIR = data_dir("profiles")


@dataclass(frozen=True)
class Grade:
    label: str
    min: float


def parse_grades(raw: Any, where: str) -> tuple[Grade, ...]:
    """The ``grades:`` list of a rules file (``[{label: 优, min: 90}, …]``), highest first.

    Raises:
        ProfileError: not a list of label/min pairs, a min that is not a number, or no grade starting at 0.
    """
    if not isinstance(raw, list) or not raw:
        raise ProfileError("grades 应为等次列表，如 [{label: 优, min: 90}, …]", where=where)
    grades = []
    for k, g in enumerate(raw, 1):
        if not isinstance(g, dict) or "label" not in g or "min" not in g:
            raise ProfileError(f"grades 第{k}项应有 label 和 min", where=where)
        if isinstance(g["min"], bool) or not isinstance(g["min"], (int, float)):
            raise ProfileError(f"grades 第{k}项的 min 应为数字，实际为 {g['min']!r}", where=where)
        grades.append(Grade(str(g["label"]), float(g["min"])))
    grades.sort(key=lambda g: -g.min)
    if grades[-1].min != 0:
        raise ProfileError("等次的最低一档 min 应为 0", where=where)
    return tuple(grades)


def grade_for(grades: Sequence[Grade], score: float) -> str:
    """The 等次 of a score: the first grade (highest first) whose minimum the score reaches.

    The Excel twin is :func:`xlsx_engine.kernel.excel.grade_formula`.
    """
    for grade in grades:
        if score >= grade.min:
            return grade.label
    return grades[-1].label


def _merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def read_profile_yaml(name_or_path: str, directory: Path, what: str) -> tuple[dict, str]:
    """Read a rules file given by id (``<directory>/<id>.yaml``) or by path.

    Args:
        name_or_path: a profile id or a .yaml path.
        directory: where ids are looked up.
        what: the kind of rules, for messages (e.g. "部门整体评分规则").

    Returns:
        (the mapping, the file path as text).

    Raises:
        ProfileError: missing file, YAML error, or not a mapping.
    """
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = directory / f"{name_or_path}.yaml"
    where = str(path)
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError(f"找不到{what}", where=where,
                           hint="可用：" + "、".join(sorted(p.stem for p in directory.glob("*.yaml")))) from None
    except yaml.YAMLError as exc:
        raise ProfileError(f"YAML 格式错误：{exc}", where=where) from None
    if not isinstance(data, dict):
        raise ProfileError("评分规则文件应为键值结构", where=where)
    return data, where
