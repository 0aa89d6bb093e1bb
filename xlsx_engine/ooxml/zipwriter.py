"""A minimal zip writer that reuses pre-compressed members.

Python's :mod:`zipfile` recompresses every member on every write and its
``ZipInfo`` objects are mutated while writing, so they cannot be shared between
threads. Filling a template changes one member (the worksheet); the others are
compressed once when the template is loaded and copied as raw bytes here. The
output is an ordinary deflate zip (no zip64: workbooks stay far below 4 GiB).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

_DOS_TIME, _DOS_DATE = 0, (0 << 9) | (1 << 5) | 1     # 1980-01-01 00:00, fixed for reproducible files
_VERSION = 20


@dataclass(frozen=True)
class Member:
    """One zip member, already compressed (immutable: safe to share between threads)."""

    name: str
    crc: int
    size: int
    data: bytes            #: raw deflate stream
    method: int = 8

    @classmethod
    def deflate(cls, name: str, content: bytes, level: int = 6) -> "Member":
        comp = zlib.compressobj(level, zlib.DEFLATED, -15)
        data = comp.compress(content) + comp.flush()
        return cls(name, zlib.crc32(content) & 0xFFFFFFFF, len(content), data)


def build_zip(members: list[Member]) -> bytes:
    """Assemble a zip archive from members, in order."""
    out = bytearray()
    central = bytearray()
    for m in members:
        name = m.name.encode("utf-8")
        flags = 0x800 if any(b > 127 for b in name) else 0
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, _VERSION, flags, m.method, _DOS_TIME, _DOS_DATE,
                           m.crc, len(m.data), m.size, len(name), 0)
        out += name
        out += m.data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, _VERSION, _VERSION, flags, m.method, _DOS_TIME,
                               _DOS_DATE, m.crc, len(m.data), m.size, len(name), 0, 0, 0, 0, 0o600 << 16, offset)
        central += name
    start = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), start, 0)
    return bytes(out)
