"""Rows of a worksheet read as a stream: lxml ``iterparse`` over the sheet XML inside the zip, one row at a time.

Memory stays flat however long the sheet is: each ``<row>`` is turned into values and freed before the next
is parsed. Only the shared-string table (if the workbook has one) and the date styles are held for the whole
read. The workbook is untrusted input: the zip goes through :func:`open_workbook_zip`, each part is read with
a hard size limit (the zip header may lie), XML is parsed without DTDs, entities or network access, and cell
coordinates and string indices are checked before they are used. Values are what the cells store: text,
numbers (whole numbers as ``int``), booleans, error codes as text, and date-formatted numbers as dates.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Any, Iterator

from lxml import etree

from xlsx_engine.kernel.errors import WorkbookError
from xlsx_engine.ooxml.safezip import (
    MAX_UNCOMPRESSED, dtd_refused, has_dtd, open_workbook_zip, parse_xml, read_member,
)

MAX_ROW = 1_048_576                 #: the largest row number a sheet may have (Excel's)
MAX_COLUMN = 16_384                 #: the largest column number (XFD)
MAX_SHARED_STRINGS = 5_000_000      #: entries of the shared-string table

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_ROW, _C, _V, _IS, _T, _RPH, _SI = (f"{_MAIN}{t}" for t in ("row", "c", "v", "is", "t", "rPh", "si"))
#: built-in number formats that show a date or time (ECMA-376 18.8.30, with the CJK ones Excel uses in China)
_DATE_FORMATS = {*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)}
_FORMAT_NOISE = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')
_DATE_CODE = re.compile(r"[dmyhs]", re.IGNORECASE)
_DIGITS = "0123456789"
_HEAD = 4096


def _is_date_code(code: str) -> bool:
    """Whether a custom number format shows a date (quoted text, escapes and [colour]/[locale] parts ignored)."""
    return bool(_DATE_CODE.search(_FORMAT_NOISE.sub("", code)))


def _column(letters: str) -> int:
    """"A" -> 1, "XFD" -> 16384; 0 for anything that is not one to three letters A-Z."""
    if not 0 < len(letters) <= 3 or not letters.isascii() or not letters.isalpha():
        return 0
    col = 0
    for ch in letters.upper():
        col = col * 26 + ord(ch) - 64
    return col


def _text(element) -> str:
    """The text of a string item (``<si>`` or ``<is>``): its ``<t>`` runs, phonetic guides left out."""
    return "".join(t.text or "" for t in element.iter(_T) if t.getparent().tag != _RPH)


class _Bounded:
    """A zip member as a file object for the parser: fails once more than ``limit`` bytes come out of it and
    refuses DTDs (checked in the first bytes, where a DOCTYPE must be)."""

    def __init__(self, zf: zipfile.ZipFile, name: str, where: str, limit: int = MAX_UNCOMPRESSED):
        self.name, self.where, self.limit, self.count = name, where, limit, 0
        try:
            self.fh = zf.open(name)
        except KeyError:
            raise WorkbookError(f"缺少 {name}", where=where) from None
        self.head = self._read(_HEAD)
        if b"<!DOCTYPE" in self.head or b"<!ENTITY" in self.head:
            self.fh.close()
            raise dtd_refused(where)

    def _read(self, n: int) -> bytes:
        try:
            data = self.fh.read(n)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error, NotImplementedError) as exc:
            raise WorkbookError(f"{self.name} 已损坏（{exc}）", where=self.where) from None
        self.count += len(data)
        if self.count > self.limit:
            raise WorkbookError(f"{self.name} 解压后超过大小上限，拒绝读取", where=self.where)
        return data

    def read(self, n: int = -1) -> bytes:
        if self.head:
            data, self.head = self.head, b""
            return data
        return self._read(n if n and n > 0 else 1 << 16)

    def close(self) -> None:
        self.fh.close()


def _elements(source: _Bounded, tag: str, where: str) -> Iterator:
    """Each ``tag`` element of a part, complete, then freed (with everything parsed before it)."""
    try:
        checked = False
        for _event, el in etree.iterparse(source, events=("end",), tag=tag, resolve_entities=False,
                                          no_network=True, load_dtd=False, huge_tree=False):
            if not checked:                  # a DTD the byte test could not see (a UTF-16 part)
                if has_dtd(el.getroottree()):
                    raise dtd_refused(where)
                checked = True
            yield el
            el.clear(keep_tail=False)
            parent = el.getparent()
            if parent is not None:
                while el.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as exc:
        raise WorkbookError(f"XML 结构损坏（{source.name}）：{exc}", where=where,
                            hint="文件可能已损坏，请重新保存") from None
    finally:
        source.close()


class RowBook:
    """A workbook opened for reading its sheets row by row (:meth:`rows`). Use as a context manager.

    Raises (on open):
        WorkbookError: not a readable .xlsx (see :func:`open_workbook_zip`), or a broken workbook part.
    """

    def __init__(self, path: str | Path):
        self.where = str(path)
        self.zf = open_workbook_zip(path)
        try:
            self._open()
        except BaseException:
            self.zf.close()
            raise

    def _open(self) -> None:
        names = set(self.zf.namelist())
        book = parse_xml(read_member(self.zf, "xl/workbook.xml", self.where), self.where)
        pr = book.find(f"{_MAIN}workbookPr")
        self.epoch = dt.datetime(1904, 1, 1) if pr is not None and pr.get("date1904") in ("1", "true") \
            else dt.datetime(1899, 12, 30)
        rels: dict[str, tuple[str, str]] = {}
        if "xl/_rels/workbook.xml.rels" in names:
            for rel in parse_xml(read_member(self.zf, "xl/_rels/workbook.xml.rels", self.where), self.where) \
                    .iter(f"{_PKG}Relationship"):
                if rel.get("TargetMode") == "External":
                    continue
                target = rel.get("Target") or ""
                part = target.lstrip("/") if target.startswith("/") else _normpath(f"xl/{target}")
                if part in names:
                    rels[rel.get("Id") or ""] = (rel.get("Type") or "", part)
        self.sheets: dict[str, str] = {}
        for sheet in book.iter(f"{_MAIN}sheet"):
            rel = rels.get(sheet.get(f"{_REL}id") or "")
            if rel and rel[0].endswith("/worksheet"):
                self.sheets[sheet.get("name") or ""] = rel[1]
        self.date_styles = self._date_styles([p for t, p in rels.values() if t.endswith("/styles")])
        self.shared = self._shared_strings([p for t, p in rels.values() if t.endswith("/sharedStrings")])

    def _date_styles(self, parts: list[str]) -> frozenset[int]:
        """Indices of the cell formats (``s`` attribute) that show a date."""
        if not parts:
            return frozenset()
        root = parse_xml(read_member(self.zf, parts[0], self.where), self.where)
        codes = {int(f.get("numFmtId")): f.get("formatCode") or "" for f in root.iter(f"{_MAIN}numFmt")
                 if (f.get("numFmtId") or "").isdigit()}
        xfs = root.find(f"{_MAIN}cellXfs")
        out = set()
        for k, xf in enumerate(xfs if xfs is not None else ()):
            fid = xf.get("numFmtId") or "0"
            if not fid.isdigit():
                continue
            fid = int(fid)
            if fid in codes and _is_date_code(codes[fid]) or fid not in codes and fid in _DATE_FORMATS:
                out.add(k)
        return frozenset(out)

    def _shared_strings(self, parts: list[str]) -> list[str]:
        if not parts:
            return []
        out: list[str] = []
        for si in _elements(_Bounded(self.zf, parts[0], self.where), _SI, self.where):
            if len(out) >= MAX_SHARED_STRINGS:
                raise WorkbookError(f"共享字符串超过 {MAX_SHARED_STRINGS} 个，拒绝读取", where=self.where)
            out.append(_text(si))
        return out

    def close(self) -> None:
        self.zf.close()

    def __enter__(self) -> RowBook:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def rows(self, sheet: str) -> Iterator[tuple[int, dict[int, Any]]]:
        """(row number, {column number: value}) for each row of ``sheet`` that has a value, in order.

        Raises:
            KeyError: no such sheet. WorkbookError: a broken part, a coordinate beyond the sheet's
            limits or a shared-string index the table does not have (named by sheet and cell).
        """
        part = self.sheets[sheet]
        columns: dict[str, int] = {}
        r = 0
        for row in _elements(_Bounded(self.zf, part, self.where), _ROW, self.where):
            attr = row.get("r")
            r = int(attr) if attr and attr.isdigit() else r + 1
            if r > MAX_ROW:
                raise WorkbookError(f"工作表“{sheet}”的行号 {r} 超出范围", where=self.where)
            values: dict[int, Any] = {}
            col = 0
            for c in row:
                if c.tag != _C:
                    continue
                ref = c.get("r")
                if ref:
                    letters = ref.rstrip(_DIGITS)
                    col = columns.get(letters, 0)
                    if not col:
                        col = _column(letters)
                        if not 0 < col <= MAX_COLUMN:
                            raise WorkbookError(f"工作表“{sheet}”有无效的单元格坐标“{ref[:20]}”", where=self.where)
                        columns[letters] = col
                else:
                    col += 1
                    if col > MAX_COLUMN:
                        raise WorkbookError(f"工作表“{sheet}”第{r}行的列号超出范围", where=self.where)
                kind = c.get("t")
                for part in c:                      # <f>, <v> or <is>: children are walked, not searched (speed)
                    tag = part.tag
                    if tag == _V:
                        text = part.text
                        if text is not None:
                            values[col] = self._value(kind, text, c.get("s"), sheet, r)
                    elif tag == _IS:
                        if len(part) == 1 and part[0].tag == _T:       # plain text: one <t>, no runs
                            values[col] = part[0].text or ""
                        else:
                            values[col] = _text(part)
            if values:
                yield r, values

    def _value(self, kind: str | None, text: str, style: str | None, sheet: str, r: int) -> Any:
        """The value of a cell's ``<v>``, by the cell's type and (for numbers) its date style."""
        if kind == "s":
            k = int(text) if text.isdigit() else -1
            if not 0 <= k < len(self.shared):
                raise WorkbookError(f"工作表“{sheet}”第{r}行引用了不存在的共享字符串", where=self.where)
            return self.shared[k]
        if kind == "b":
            return text.strip() in ("1", "true")
        if kind in ("str", "e", "d", "inlineStr"):
            return text
        try:
            number = float(text)
        except ValueError:
            raise WorkbookError(f"工作表“{sheet}”第{r}行有无效的数字“{text[:20]}”", where=self.where) from None
        if style and style.isdigit() and int(style) in self.date_styles:
            return self._date(number)
        return number

    def _date(self, serial: float) -> Any:
        """A date-formatted number as a date (a datetime when it has a time of day); out of range: the number."""
        if not 0 < serial < 2_958_466:
            return serial
        moment = self.epoch + dt.timedelta(days=serial)
        return moment.date() if serial == int(serial) else moment


def _normpath(part: str) -> str:
    out: list[str] = []
    for piece in PurePosixPath(part).parts:
        if piece == "..":
            if out:
                out.pop()
        elif piece != ".":
            out.append(piece)
    return "/".join(out)
