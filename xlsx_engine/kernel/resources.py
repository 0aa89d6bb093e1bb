"""Where the engine's data lives: forms, profiles, narrative templates and the built templates.

The source tree keeps them in the top-level ``templates/`` folder; an installed wheel carries
the same folder as package data at ``xlsx_engine/templates`` (see ``setup.cfg``). Every module
reaches them through :func:`data_dir`, never through ``__file__`` arithmetic.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

#: PyYAML's libyaml-based safe loader where PyYAML was built with it (the wheels are): the same
#: constructors as ``yaml.safe_load``, 5–10× faster; a form spec or profile parses in milliseconds.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.lru_cache(maxsize=1)
def data_root() -> Path:
    """The folder holding ``forms/``, ``profiles/``, ``narrative/`` and the built ``*.xlsx`` templates."""
    packaged = Path(str(resources.files("xlsx_engine"))) / "templates"
    if (packaged / "profiles").is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "templates"


def data_dir(*parts: str) -> Path:
    """A folder under :func:`data_root`, e.g. ``data_dir("profiles", "hunan")``."""
    return data_root().joinpath(*parts)


@functools.lru_cache(maxsize=1)
def examples_dir() -> Path:
    """The bundled example data (``examples/`` in the source tree, package data when installed)."""
    packaged = Path(str(resources.files("xlsx_engine"))) / "examples"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "examples"


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` through libyaml when available (raises :class:`yaml.YAMLError` like it)."""
    return yaml.load(text, Loader=_SAFE_LOADER)
