"""Safe handling of workbook files: bounded zip reading, entity-free XML, atomic writes.

Workbooks from subordinate units are untrusted. Everything that opens one goes
through :func:`open_workbook_zip`, which refuses encrypted files, files that are
not zips, legacy/macro formats and archives that would expand past
:data:`MAX_UNCOMPRESSED`; XML is parsed by :func:`parse_xml`, which never resolves
entities and rejects DTDs.
"""

from __future__ import annotations

import io
import os
import struct
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Iterable

from lxml import etree

try:
    from lzma import LZMAError
except ImportError:             # a Python built without lzma: zipfile cannot read LZMA parts at all
    class LZMAError(Exception):  # type: ignore[no-redef]
        pass

try:        # ISA-L's CRC-32: fifteen times zlib's on a returned form's parts (a dependency where wheels exist, as for
    from isal.isal_zlib import crc32 as _crc32  # the filler's deflate). Not its inflate: that takes streams zlib
except ImportError:                             # refuses (an incomplete Huffman code), which zipfile would refuse
    _crc32 = zlib.crc32

from xlsx_engine.kernel.errors import WorkbookError, os_reason
from xlsx_engine.kernel.files import not_regular

MAX_UNCOMPRESSED = 200 * 1024 * 1024   #: total expanded size allowed for one workbook
MAX_ENTRIES = 5000
MAX_RATIO = 200                         #: expanded/compressed ratio allowed for a large entry
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
IN_MEMORY_BYTES = 8 << 20               #: a file up to this size may be read at once (a returned form: ~60 KB)

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, dtd_validation=False, load_dtd=False,
                          huge_tree=False, remove_blank_text=False, collect_ids=False)


def dtd_refused(where: str) -> WorkbookError:
    """The refusal of a part that declares a DTD or entities (worded once for every reader)."""
    return WorkbookError("文件内含 XML 实体声明（DOCTYPE/ENTITY），出于安全原因拒绝读取", where=where,
                         hint="请在 Excel/WPS 中打开后另存为 .xlsx 再提交")


def has_dtd(tree) -> bool:
    """Whether a parsed document declared a DOCTYPE: what the byte test before parsing cannot see in a part that
    is not ASCII-compatible (UTF-16), where ``<!DOCTYPE`` is not those bytes."""
    info = tree.docinfo
    return bool(info.doctype) or info.internalDTD is not None


def contains(data: bytes, pattern: bytes, rare: bytes) -> bool:
    """``pattern in data``, searched only when its ``rare`` byte is there at all: one byte is found by memchr (1 µs
    in a form's 70 KB sheet), while a pattern starting with "<" costs a slow scan (25–60 µs), every tag having one."""
    return rare in data and pattern in data


def parse_xml(data: bytes, where: str = ""):
    """Parse XML without DTDs or entity expansion.

    Raises:
        WorkbookError: the XML declares a DTD/entities or is malformed.
    """
    head = data[:4096]
    if b"<!DOCTYPE" in head or contains(data, b"<!ENTITY", b"!"):
        raise dtd_refused(where)
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise WorkbookError(f"XML 结构损坏：{exc}", where=where, hint="文件可能已损坏，请重新保存或重新下发模板") from None
    if has_dtd(root.getroottree()):          # never expanded (resolve_entities=False), but refused as documented
        raise dtd_refused(where)
    return root


class WorkbookZip(zipfile.ZipFile):
    """A workbook's zip. ``data``: the whole file, when it was read at once (:func:`read_member` then takes each
    member's bytes from it, without a seek and a read per block)."""

    data: bytes | None = None


#: what to do with a Word document that cannot be read (every message about a returned .docx says it so)
RESAVE_DOCX = "请在 Word/WPS 中打开后重新保存为 .docx 再提交"
#: the Office documents opened as zips: their main part, what they are called, what to submit instead
_DOCUMENTS = {
    "xlsx": ("xl/workbook.xml", "Excel 工作簿（.xlsx）", "请提交 .xlsx 格式的自评表", "另存为 .xlsx",
             "请重新保存或重新下发模板"),
    "docx": ("word/document.xml", "Word 文档（.docx）", "请提交 .docx 格式的自评报告", "另存为 .docx", RESAVE_DOCX),
}


def open_workbook_zip(path: str | Path, in_memory: bool = False) -> WorkbookZip:
    """Open an .xlsx as a zip after checking it is one and that it stays small when expanded.

    ``in_memory``: a file of at most :data:`IN_MEMORY_BYTES` is read in one piece, for a reader that reads most
    of its parts (a returned form); a streaming reader of a large workbook (the master) leaves it on disk.

    Raises:
        WorkbookError: with a Chinese message for each kind of unreadable file.
    """
    return open_office_zip(path, "xlsx", in_memory)


def open_office_zip(path: str | Path, document: str = "xlsx", in_memory: bool = False) -> WorkbookZip:
    """:func:`open_workbook_zip` for an Office document of the kind ``document`` ("xlsx" or "docx", with its
    main part and its words in the messages): the same checks before anything is expanded (a zip, not encrypted,
    at most :data:`MAX_ENTRIES` parts and :data:`MAX_UNCOMPRESSED` bytes declared, no part with a bomb's ratio).

    Raises:
        WorkbookError: with a Chinese message for each kind of unreadable file.
    """
    main_part, kind, submit, save_as, resave = _DOCUMENTS[document]
    path = Path(path)
    where = str(path)
    why = not_regular(path)
    if why:
        raise WorkbookError(why, where=where)
    data = None
    try:
        with open(path, "rb") as fh:
            magic = fh.read(8)
            if in_memory and os.fstat(fh.fileno()).st_size <= IN_MEMORY_BYTES:
                data = magic + fh.read(IN_MEMORY_BYTES)
    except FileNotFoundError:
        raise WorkbookError("找不到文件", where=where) from None
    except OSError as exc:               # a folder or pipe was refused above (not_regular): no permission, say
        raise WorkbookError(f"无法读取文件：{os_reason(exc, '无法读取')}", where=where) from None
    suffix = path.suffix.lower()
    if magic.startswith(OLE_MAGIC):
        if suffix in (".xls", ".et"):
            raise WorkbookError("这是旧版 .xls/.et 格式，无法核对模板", where=where,
                                hint="请用下发的 .xlsx 模板填报，或在 Excel/WPS 中另存为 .xlsx")
        raise WorkbookError("文件已加密（设置了打开密码）或为旧版 Office 格式，无法读取", where=where,
                            hint=f"请取消打开密码后{save_as}再提交")
    if not magic.startswith(b"PK"):
        raise WorkbookError(f"不是 {kind}文件", where=where, hint=submit)
    try:
        zf = WorkbookZip(io.BytesIO(data) if data is not None and len(data) <= IN_MEMORY_BYTES else path)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:   # NotImplementedError: a
        raise WorkbookError(f"文件已损坏，无法解压（{exc}）", where=where,            # version zipfile lacks
                            hint=resave) from None
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        zf.close()
        raise WorkbookError(f"压缩包内文件过多（{len(infos)} 个），拒绝读取", where=where)
    total = 0
    for info in infos:
        total += info.file_size
        if info.flag_bits & 0x1:
            zf.close()
            raise WorkbookError("压缩包内容已加密，无法读取", where=where)
        if info.file_size > 10 * 1024 * 1024 and info.compress_size and \
                info.file_size / info.compress_size > MAX_RATIO:
            zf.close()
            raise WorkbookError(f"压缩比异常（{info.filename}），疑似压缩炸弹，拒绝读取", where=where)
    if total > MAX_UNCOMPRESSED:
        zf.close()
        raise WorkbookError(f"解压后大小 {total // (1024 * 1024)} MB 超过上限 {MAX_UNCOMPRESSED // (1024 * 1024)} MB，"
                            "拒绝读取", where=where)
    names = {i.filename for i in infos}
    if main_part not in names:
        zf.close()
        raise WorkbookError(f"压缩包中没有 {main_part}，不是 {kind.split('（')[0]}", where=where, hint=resave)
    if isinstance(zf.fp, io.BytesIO):
        zf.data = data
    return zf


def read_member(zf: zipfile.ZipFile, name: str, where: str = "", limit: int = MAX_UNCOMPRESSED) -> bytes:
    """Read one zip member, refusing to expand more than ``limit`` bytes (the header may lie)."""
    try:
        if getattr(zf, "data", None) is not None:
            data = _member_in_memory(zf, zf.getinfo(name), limit)
            if data is not None:
                return data
        with zf.open(name) as fh:
            data = fh.read(limit + 1)
    except KeyError:
        raise WorkbookError(f"缺少 {name}", where=where) from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error, NotImplementedError, RuntimeError,
            OverflowError, LZMAError) as exc:          # OverflowError: a zip64 offset past any seek; LZMA parts
        raise WorkbookError(f"{name} 已损坏（{exc}）", where=where) from None
    if len(data) > limit:
        raise WorkbookError(f"{name} 解压后超过大小上限，拒绝读取", where=where)
    return data


#: general-purpose flags a member read from memory may carry: deflate options (bits 1-2), sizes in a data
#: descriptor (bit 3; the central directory has them), a UTF-8 name (bit 11). Any other (encryption, patched
#: data...) is left to zipfile, which refuses it in its own words.
_PLAIN_FLAGS = 0x2 | 0x4 | 0x8 | 0x800
_LOCAL_HEADER = struct.Struct("<4s2xH18xHH")     #: signature, flags, name length, extra length (30 bytes)


def _member_in_memory(zf: WorkbookZip, info: zipfile.ZipInfo, limit: int) -> bytes | None:
    """The member's bytes, taken from the file read at once (:func:`_inflate`); None: a member this does not
    handle (compression other than stored/deflated, unusual flags, larger than ``limit``), read by zipfile.

    Never accepts what zipfile's reading refuses (tests/test_untrusted.py compares both on damaged parts;
    tests/fuzz/fuzz_zip.py fuzzes them): the local header's offset, signature and name are checked, the part must
    lie within the file, a stream that ends sooner than the directory's size gives what it holds, and the result
    must match the directory's CRC-32; more than ``limit`` is never expanded.
    """
    if info.flag_bits & ~_PLAIN_FLAGS or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return None
    data = zf.data
    off = info.header_offset
    if off < 0 or off + 30 > len(data):      # a directory that says it starts past where it is: negative offsets
        raise zipfile.BadZipFile("Truncated file header")
    magic, flags, name_len, extra_len = _LOCAL_HEADER.unpack_from(data, off)
    if magic != b"PK\x03\x04":
        raise zipfile.BadZipFile("Bad magic number for file header")
    fname = data[off + 30:off + 30 + name_len]
    if fname.decode("utf-8" if flags & 0x800 else "cp437") != info.orig_filename:
        raise zipfile.BadZipFile(f"File name in directory {info.orig_filename!r} and header {fname!r} differ.")
    want = info.file_size
    if want > limit:                  # refused after zipfile's own bounded read, in read_member's words
        return None
    start = off + 30 + name_len + extra_len
    raw = memoryview(data)[start:start + info.compress_size]
    if len(raw) < info.compress_size:
        raise EOFError("the file ends inside the part")
    if info.compress_type == zipfile.ZIP_STORED:
        out = bytes(raw[:want])
    else:
        out = _inflate(raw, want)
    if _crc32(out) != info.CRC:
        raise zipfile.BadZipFile(f"Bad CRC-32 for file {info.filename!r}")
    return out


_CHUNK = 64 << 10       #: compressed bytes given to zlib at a time: what it keeps of the input stays this small


def _inflate(raw: memoryview, want: int) -> bytes:
    """A member's deflate stream inflated, never to more than ``want`` + 1 bytes held: the stream must end (the
    end-of-stream marker) having given at most ``want`` bytes, or it is refused. Stricter than zipfile, which stops
    at ``want`` bytes and may or may not have met damage past them (tests/test_untrusted.py: what zipfile refuses
    is refused here too; a stream holding more than its declared size, or cut short, is refused even where zipfile
    would take the first bytes when their CRC-32 happens to match)."""
    inflate = zlib.decompressobj(-15)
    pieces: list[bytes] = []
    got = 0
    for at in range(0, len(raw), _CHUNK):
        tail = raw[at:at + _CHUNK]
        while tail and not inflate.eof:
            piece = inflate.decompress(tail, want + 1 - got)
            pieces.append(piece)
            got += len(piece)
            if got > want:
                raise zipfile.BadZipFile("the part's stream holds more than its declared size")
            tail = inflate.unconsumed_tail
        if inflate.eof:
            break
    if not inflate.eof:
        raise EOFError("Compressed file ended before the end-of-stream marker was reached")
    return b"".join(pieces)


def atomic_write_bytes(path: str | Path, data: bytes | Iterable[bytes], *, durable: bool = True) -> None:
    """Write ``data`` (bytes, or pieces of bytes written one after another) to ``path`` through a temporary
    file in the same folder and a rename.

    A crash of the process leaves either the old file or the new one, never half a file. ``durable``: the data
    reaches the disk before the rename (fsync), so that a power cut cannot leave the new name on an empty file;
    a caller writing many files may leave it to one :func:`flush_to_disk` at the end instead.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            if isinstance(data, (bytes, bytearray, memoryview)):
                fh.write(data)
            else:
                for piece in data:
                    fh.write(piece)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


#: whether :func:`flush_to_disk` can make many files durable at once (``os.sync``; not on Windows)
BATCH_FLUSH = hasattr(os, "sync")


def flush_to_disk() -> None:
    """Make every file written so far durable (one ``sync`` instead of an fsync per file)."""
    if BATCH_FLUSH:
        os.sync()
