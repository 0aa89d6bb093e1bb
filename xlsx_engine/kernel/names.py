"""Names people type (units, sheets) compared as people read them."""

from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"\s+")


def name_key(name: str) -> str:
    """The form of a typed name two spellings of one name share: NFKC (full-width brackets and letters as their
    half-width forms), no spaces anywhere, case folded. "甲单位（本级）" and "甲单位(本级)", "乙 单位" and "乙单位"."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", str(name))).casefold()
