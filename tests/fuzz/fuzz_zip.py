"""Differential fuzzer: zipfile's reading vs safezip's in-memory reading (open_workbook_zip(in_memory=True)).

usage (from the repository's root)::

    mkdir -p /tmp/seeds && cp templates/*.xlsx /tmp/seeds/      # and a few returned forms (jxzp demo's 批量生成)
    PYTHONPATH=. python3 tests/fuzz/fuzz_zip.py /tmp/seeds /tmp/fuzz-out 300 1

Mutates the seeds at the zip layer (headers, directory, sizes, offsets, flags, streams, truncation) and reads every
member both ways with a large and a small limit. A difference is harmful when the in-memory reading accepts what
zipfile refuses, raises anything but WorkbookError, or holds more than the limit; refusing a damaged part that
zipfile takes is allowed (safezip._inflate is stricter by design). Not run by pytest; the cases it found are in
tests/test_untrusted.py. Session 16 (2026-12-02): 258,871 files before the fix, 58,699 after — no harmful difference
left.
"""
from __future__ import annotations

import collections
import io
import json
import os
import random
import struct
import sys
import time
import tracemalloc
import traceback
import zipfile
import zlib
from pathlib import Path

from xlsx_engine.kernel.errors import WorkbookError
from xlsx_engine.ooxml.safezip import open_workbook_zip, read_member

LIMITS = (8 << 20, 4096)
ONLY_SYNTH = [k for k in os.environ.get("FUZZ_SYNTH", "").split(",") if k]
MEM_SLACK = 256 * 1024          # zlib state/window and Python objects on top of the limit

# ----------------------------------------------------------------------------- a small zip writer


def deflate(data: bytes, level: int = 6) -> bytes:
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def member(name, content, method=8, **kw):
    raw = deflate(content) if method == 8 else content
    m = dict(name=name, content=content, method=method, raw=raw, crc=zlib.crc32(content),
             usize=len(content), csize=len(raw), flags=0, lextra=b"", cextra=b"", lname=None)
    m.update(kw)
    return m


def build(members, dd=False, zip64_cd=False, zip64_eocd=False, prepend=b"", comment=b""):
    out = bytearray(prepend)
    base = len(prepend)
    offsets = []
    for m in members:
        offsets.append(len(out) - base)
        flags = m["flags"] | (0x8 if dd else 0)
        name = m["name"].encode("utf-8")
        lname = m["lname"] if m["lname"] is not None else name
        if flags & 0x800 == 0 and any(b > 127 for b in name):
            flags |= 0x800
        lcrc, lcs, lus = (0, 0, 0) if dd else (m["crc"], m["csize"], m["usize"])
        lextra = m["lextra"]
        if zip64_cd:
            lextra = struct.pack("<HHQQ", 1, 16, m["usize"], m["csize"]) + lextra
            lcs, lus = 0xFFFFFFFF, 0xFFFFFFFF
        out += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 45 if zip64_cd else 20, flags, m["method"], 0, 0x21,
                           lcrc, lcs, lus, len(lname), len(lextra)) + lname + lextra + m["raw"]
        if dd:
            out += struct.pack("<4sIII", b"PK\x07\x08", m["crc"], m["csize"], m["usize"])
    cd_start = len(out) - base
    for m, off in zip(members, offsets):
        flags = m["flags"] | (0x8 if dd else 0)
        name = m["name"].encode("utf-8")
        if flags & 0x800 == 0 and any(b > 127 for b in name):
            flags |= 0x800
        cs, us, ho, extra = m["csize"], m["usize"], off, m["cextra"]
        if zip64_cd:
            extra = struct.pack("<HHQQQ", 1, 24, us, cs, ho) + extra
            cs, us, ho = 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF
        out += struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 45 if zip64_cd else 20, flags, m["method"],
                           0, 0x21, m["crc"], cs, us, len(name), len(extra), 0, 0, 0, 0, ho) + name + extra
    cd_size = len(out) - base - cd_start
    n = len(members)
    if zip64_eocd:
        rec = len(out) - base
        out += struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, n, n, cd_size, cd_start)
        out += struct.pack("<4sIQI", b"PK\x06\x07", 0, rec, 1)
        out += struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, len(comment))
    else:
        out += struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, n, n, cd_size, cd_start, len(comment))
    return bytes(out + comment)


def members_of(data: bytes):
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(i.filename, z.read(i)) for i in z.infolist()]


# ----------------------------------------------------------------------------- structure of a clean zip


def structure(data: bytes):
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        infos = z.infolist()
        start_dir = z.start_dir
    eocd = data.rfind(b"PK\x05\x06")
    cd, at = [], start_dir
    for _ in infos:
        assert data[at:at + 4] == b"PK\x01\x02"
        nl, el, cl = struct.unpack_from("<HHH", data, at + 28)
        cd.append(at)
        at += 46 + nl + el + cl
    lh = [i.header_offset for i in infos]
    dstart = []
    for o in lh:
        nl, el = struct.unpack_from("<HH", data, o + 26)
        dstart.append(o + 30 + nl + el)
    return dict(infos=infos, eocd=eocd, cd=cd, lh=lh, dstart=dstart, start_dir=start_dir)


# ----------------------------------------------------------------------------- mutations
# each returns (bytes, description)

CD_FIELDS = {"flags": (8, "H"), "method": (10, "H"), "crc": (16, "I"), "csize": (20, "I"), "usize": (24, "I"),
             "namelen": (28, "H"), "extralen": (30, "H"), "commentlen": (32, "H"), "offset": (42, "I"),
             "version_needed": (6, "H")}
LH_FIELDS = {"flags": (6, "H"), "method": (8, "H"), "crc": (14, "I"), "csize": (18, "I"), "usize": (22, "I"),
             "namelen": (26, "H"), "extralen": (28, "H")}
EOCD_FIELDS = {"disk": (4, "H"), "cddisk": (6, "H"), "n_disk": (8, "H"), "n": (10, "H"), "cdsize": (12, "I"),
               "cdoffset": (16, "I"), "commentlen": (20, "H")}


def interesting(r, old, fmt, data_len, S):
    top = 0xFFFF if fmt == "H" else 0xFFFFFFFF
    cands = [0, 1, old - 1, old + 1, old // 2, old * 2, old + r.randint(1, 64), old - r.randint(1, 64),
             r.randint(0, top), top, top - 1, data_len, data_len - old, old + data_len, old - data_len,
             r.choice(S["lh"]), r.choice(S["cd"]), S["start_dir"], 0x7FFFFFFF, 0x80000000]
    if fmt == "H":
        cands += [old ^ (1 << r.randrange(16))]
    else:
        cands += [old ^ (1 << r.randrange(32))]
    v = r.choice(cands)
    return v % (top + 1)


def put(d, at, fmt, v):
    struct.pack_into("<" + fmt, d, at, v)


def m_flip_region(r, data, S, region):
    d = bytearray(data)
    if region == "local":
        k = r.randrange(len(S["lh"]))
        lo = S["lh"][k]
        hi = S["dstart"][k]
    elif region == "cd":
        k = r.randrange(len(S["cd"]))
        lo = S["cd"][k]
        nl, el, cl = struct.unpack_from("<HHH", data, lo + 28)
        hi = lo + 46 + nl + el + cl
    elif region == "eocd":
        lo, hi = S["eocd"], len(data)
    elif region == "data":
        k = r.randrange(len(S["lh"]))
        lo = S["dstart"][k]
        hi = lo + S["infos"][k].compress_size
        if hi <= lo:
            return None
    elif region == "data_tail":
        k = r.randrange(len(S["lh"]))
        hi = S["dstart"][k] + S["infos"][k].compress_size
        lo = max(S["dstart"][k], hi - 12)
        if hi <= lo:
            return None
    else:
        lo, hi = 0, len(data)
    n = r.choice([1, 1, 1, 2, 3, 8])
    done = []
    for _ in range(n):
        at = r.randrange(lo, hi)
        if r.random() < 0.5:
            bit = r.randrange(8)
            d[at] ^= 1 << bit
            done.append(f"{at}^bit{bit}")
        else:
            v = r.randrange(256)
            d[at] = v
            done.append(f"{at}={v}")
    return bytes(d), f"flip_{region} " + ",".join(done)


def m_field(r, data, S, region):
    d = bytearray(data)
    if region == "cd":
        k = r.randrange(len(S["cd"]))
        base, fields = S["cd"][k], CD_FIELDS
    elif region == "local":
        k = r.randrange(len(S["lh"]))
        base, fields = S["lh"][k], LH_FIELDS
    else:
        k, base, fields = 0, S["eocd"], EOCD_FIELDS
    name = r.choice(list(fields))
    off, fmt = fields[name]
    old = struct.unpack_from("<" + fmt, data, base + off)[0]
    if name == "flags":
        v = old ^ (1 << r.randrange(16))
    elif name == "method":
        v = r.choice([0, 1, 6, 8, 9, 12, 14, 93, 95, 98, 99, r.randrange(65536)])
    else:
        v = interesting(r, old, fmt, len(data), S)
    put(d, base + off, fmt, v)
    # sometimes change the same field in the other header too (a consistent lie)
    extra = ""
    if region == "cd" and name in LH_FIELDS and r.random() < 0.3:
        put(d, S["lh"][k] + LH_FIELDS[name][0], LH_FIELDS[name][1], v)
        extra = " (+local)"
    return bytes(d), f"field_{region} #{k} {name} {old}->{v}{extra}"


def m_truncate(r, data, S):
    at = r.choice([r.randrange(len(data)), r.randrange(S["start_dir"]), len(data) - r.randrange(1, 30)])
    return data[:at], f"truncate at {at}/{len(data)}"


def m_eocd_negative(r, data, S):
    """Raise the EOCD's CD offset by K: zipfile's concat becomes -K and every header offset moves by -K."""
    d = bytearray(data)
    old = struct.unpack_from("<I", data, S["eocd"] + 16)[0]
    K = r.choice([len(data), len(data) - r.randrange(0, 40), len(data) + r.randrange(1, 100), r.randrange(1, len(data)),
                  S["lh"][-1] + 1, 2 * len(data)])
    if old + K > 0xFFFFFFFF:
        return None
    put(d, S["eocd"] + 16, "I", old + K)
    return bytes(d), f"eocd cdoffset +{K} (len {len(data)}): header offsets shift by -{K}"


def m_offset_into(r, data, S):
    d = bytearray(data)
    k = r.randrange(len(S["cd"]))
    j = r.randrange(len(S["lh"]))
    tgt = r.choice([S["lh"][j], S["lh"][j] + r.randrange(-40, 40), S["dstart"][j], len(data) - r.randrange(1, 40),
                    len(data) + r.randrange(0, 1000), S["start_dir"], S["eocd"]])
    tgt = max(0, tgt)
    put(d, S["cd"][k] + 42, "I", tgt)
    return bytes(d), f"cd #{k} header offset -> {tgt} (member #{j} at {S['lh'][j]})"


def m_synth(r, seed_bytes):
    """Rebuilt archives with a crafted member: returns (bytes, description)."""
    ms = [member(n, c) for n, c in members_of(seed_bytes)]
    kind = r.choice(ONLY_SYNTH or ["stored", "dd", "zip64", "zip64_eocd", "prepend", "dup", "bomb", "trailing_garbage",
                     "partial_crc", "short_stream_exact", "zero_size_garbage", "big_raw_small_size",
                     "stored_oversize", "overlap", "extra_fields", "level0", "two_streams", "zip64_fields",
                     "zip64_fields", "unusual"])
    k = r.randrange(len(ms))
    opts = {}
    desc = kind
    if kind == "stored":
        ms = [member(m["name"], m["content"], method=0) for m in ms]
    elif kind == "level0":
        for m in ms:
            m["raw"] = deflate(m["content"], 0)
            m["csize"] = len(m["raw"])
    elif kind == "dd":
        opts["dd"] = True
    elif kind == "zip64":
        opts["zip64_cd"] = True
        opts["zip64_eocd"] = r.random() < 0.5
    elif kind == "zip64_eocd":
        opts["zip64_eocd"] = True
    elif kind == "prepend":
        opts["prepend"] = b"PK" + os.urandom(r.randrange(0, 5000))   # past the magic check
    elif kind == "dup":
        j = r.randrange(len(ms))
        dup = dict(ms[j])
        if r.random() < 0.5:
            dup = member(ms[j]["name"], b"<x>other</x>" * r.randrange(1, 100))
        ms.insert(r.randrange(len(ms) + 1), dup)
        desc += f" of {ms[j]['name']}"
    elif kind == "bomb":
        m = ms[k]
        body = b"A" * r.choice([5000, 100_000, 5_000_000, 50_000_000])
        m["raw"] = deflate(m["content"] + body, 9)
        m["csize"] = len(m["raw"])
        desc += f" #{k} +{len(body)} past declared size {m['usize']}"
    elif kind == "trailing_garbage":
        # the stream goes on past the declared size and is corrupt there
        m = ms[k]
        words = [b"<c r=\"A1\">", b"</c>", b"<v>", b"</v>", b"row", b"12345", b"\xe9\xa1\xb9\xe7\x9b\xae"]
        tail = b"".join(r.choice(words) for _ in range(r.randrange(500, 5000)))
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        part = c.compress(m["content"]) + c.flush(zlib.Z_FULL_FLUSH)
        rest = c.compress(tail) + c.flush()
        rest = bytearray(rest)
        for _ in range(r.randrange(1, 20)):
            rest[r.randrange(len(rest))] ^= 0xFF
        m["raw"] = part + bytes(rest)
        m["csize"] = len(m["raw"])
        desc += f" #{k} ({len(part)} good bytes then {len(rest)} corrupt)"
    elif kind == "partial_crc":
        # a cut stream whose CRC-32 vouches for what it gives
        m = ms[k]
        cut = r.randrange(1, max(2, m["csize"]))
        m["raw"] = m["raw"][:cut]
        m["csize"] = cut
        got = zlib.decompressobj(-15).decompress(m["raw"])
        if got:
            m["crc"] = zlib.crc32(got)
        desc += f" #{k} cut at {cut} gives {len(got)} of {m['usize']}"
    elif kind == "short_stream_exact":
        # the stream (complete) gives fewer bytes than declared; CRC of what it gives
        m = ms[k]
        short = m["content"][: r.randrange(0, max(1, len(m["content"])))]
        m["raw"] = deflate(short)
        m["csize"] = len(m["raw"])
        m["crc"] = zlib.crc32(short)
        desc += f" #{k} gives {len(short)} of {m['usize']}"
    elif kind == "zero_size_garbage":
        m = ms[k]
        m["raw"] = os.urandom(r.randrange(1, 200))
        m["csize"] = len(m["raw"])
        m["usize"] = 0
        m["crc"] = 0
        if r.random() < 0.3:
            m["method"] = 0
        desc += f" #{k} usize 0 crc 0 with {m['csize']} random bytes method {m['method']}"
    elif kind == "big_raw_small_size":
        # memory: a large compressed stream, a small declared size
        m = ms[k]
        big = os.urandom(r.choice([300_000, 2_000_000, 6_000_000]))
        m["raw"] = deflate(m["content"] + big, 1)
        m["csize"] = len(m["raw"])
        desc += f" #{k} csize {m['csize']} usize {m['usize']}"
    elif kind == "stored_oversize":
        m = member(ms[k]["name"], ms[k]["content"], method=0)
        m["raw"] = m["content"] + os.urandom(r.randrange(1, 5000))
        m["csize"] = len(m["raw"])
        ms[k] = m
        desc += f" #{k} stored csize {m['csize']} > usize {m['usize']}"
    elif kind == "overlap":
        pass  # handled after build
    elif kind == "extra_fields":
        m = ms[k]
        m["lextra"] = os.urandom(r.randrange(0, 100))
        m["cextra"] = struct.pack("<HH", 0x5455, 5) + b"\x01\x00\x00\x00\x00" if r.random() < 0.5 else b""
        desc += f" #{k} local extra {len(m['lextra'])}"
    elif kind == "two_streams":
        # a complete stream followed by a second one; declared = both
        m = ms[k]
        a, b = m["content"][: len(m["content"]) // 2], m["content"][len(m["content"]) // 2:]
        m["raw"] = deflate(a) + deflate(b)
        m["csize"] = len(m["raw"])
        desc += f" #{k}"
    elif kind == "zip64_fields":
        opts["zip64_cd"] = True
        opts["zip64_eocd"] = r.random() < 0.5
    elif kind == "unusual":
        m = ms[k]
        if r.random() < 0.5:
            m["flags"] |= r.choice([0x10, 0x20, 0x40, 0x80, 0x100, 0x1000, 0x2000, 0x4000, 0x8000])
        else:
            m["method"] = r.choice([1, 9, 12, 14, 93, 99])
        desc += f" #{k} flags {m['flags']:#x} method {m['method']}"
    data = build(ms, **opts)
    if kind in ("zip64_fields", "unusual") and (kind == "zip64_fields" or r.random() < 0.5):
        if kind == "unusual":
            data = build(ms, zip64_cd=True)
        S = structure(data)
        d = bytearray(data)
        which = r.choice([0, 8, 16])      # usize, csize, header offset in the CD's zip64 extra
        nl = struct.unpack_from("<H", data, S["cd"][k] + 28)[0]
        at = S["cd"][k] + 46 + nl + 4 + which
        old = struct.unpack_from("<Q", data, at)[0]
        v = r.choice([0, 1, old + 1, old - 1 if old else 0, 2**63, 2**63 - 1, 2**64 - 1, 2**64 - r.randrange(1, 10**6),
                      2**32, 2**32 + old, len(data), len(data) + r.randrange(10**6), r.choice(S["lh"]),
                      2**63 + r.choice(S["lh"])])
        put(d, at, "Q", v)
        if kind == "zip64_fields" and r.random() < 0.5:     # and a fallback reason
            put(d, S["cd"][k] + 8, "H", struct.unpack_from("<H", data, S["cd"][k] + 8)[0] |
                r.choice([0x10, 0x20, 0x40, 0x80, 0x1000]))
            desc += " +unusual flag"
        data = bytes(d)
        desc += f" #{k} zip64 {['usize', 'csize', 'offset'][which // 8]} {old}->{v}"
    if kind == "overlap":
        S = structure(data)
        d = bytearray(data)
        # make member k's central entry point at member j's local header, renaming j's local name
        j = r.randrange(len(ms))
        put(d, S["cd"][k] + 42, "I", S["lh"][j] - len(opts.get("prepend", b"")))
        data = bytes(d)
        desc += f" cd #{k} -> local #{j}"
    return data, desc


# ----------------------------------------------------------------------------- comparison


def outcome(fn):
    try:
        return ("ok", fn())
    except WorkbookError as exc:
        return ("refused", exc.message[:120])
    except Exception as exc:  # noqa: BLE001
        return ("exc", f"{type(exc).__name__}: {str(exc)[:160]}")




def structural(r, data, S, kind):
    """One mutation of the zip structure, by ``kind`` (flip_<region>, field_<record>, truncate, eocd_negative,
    offset_into)."""
    if kind.startswith("flip_"):
        return m_flip_region(r, data, S, kind[5:])
    if kind.startswith("field_"):
        return m_field(r, data, S, kind[6:])
    if kind == "eocd_negative":
        return m_eocd_negative(r, data, S)
    if kind == "offset_into":
        return m_offset_into(r, data, S)
    return m_truncate(r, data, S)

def measured(fn, measure_mem: bool):
    """(:func:`outcome` of ``fn``, its peak traced memory in bytes, or None when not measured)."""
    if not measure_mem:
        return outcome(fn), None
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        return outcome(fn), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

def short(o):
    if o[0] == "ok":
        return ("ok", len(o[1]), zlib.crc32(o[1]))
    return o


def compare(path: Path, measure_mem: bool):
    """Returns (skipped?, list of differences)."""
    diffs = []
    try:
        plain = zipfile.ZipFile(path)
    except Exception as exc:  # noqa: BLE001
        plain = None
        plain_err = f"{type(exc).__name__}: {exc}"
    try:
        mem = open_workbook_zip(path, in_memory=True)
    except WorkbookError:
        if plain:
            plain.close()
        return "open_refused", diffs
    except Exception as exc:  # noqa: BLE001
        if plain:
            plain.close()
        return "open_bug", [dict(kind="open_workbook_zip raised non-WorkbookError",
                                 mem=f"{type(exc).__name__}: {exc}", tb=traceback.format_exc()[-800:])]
    with mem:
        if mem.data is None:
            return "not_in_memory", diffs
        if plain is None:
            return "plain_open_failed", [dict(kind="plain open failed, in-memory opened", plain=plain_err)]
        with plain:
            if plain.namelist() != mem.namelist():
                diffs.append(dict(kind="namelist differs"))
            for name in mem.namelist():
                info = mem.getinfo(name)
                for limit in LIMITS:
                    a, zpeak = measured(lambda: read_member(plain, name, str(path), limit), measure_mem)
                    b, peak = measured(lambda: read_member(mem, name, str(path), limit), measure_mem)
                    bad = None
                    if b[0] == "exc":
                        bad = "in-memory raised non-WorkbookError"
                    elif a[0] == "ok" and b[0] == "ok" and a[1] != b[1]:
                        bad = "different bytes"
                    elif a[0] != "ok" and b[0] == "ok":
                        bad = "in-memory accepts what zipfile refuses"
                    elif a[0] == "ok" and b[0] != "ok":
                        bad = "in-memory refuses what zipfile accepts"
                    if bad:
                        diffs.append(dict(kind=bad, member=name, limit=limit, zipfile=short(a), memory=short(b),
                                          flags=info.flag_bits, method=info.compress_type, csize=info.compress_size,
                                          usize=info.file_size, offset=info.header_offset,
                                          cause="negative header offset" if info.header_offset < 0 else ""))
                    if peak is not None and peak > limit + MEM_SLACK and b[0] == "ok":
                        diffs.append(dict(kind="memory beyond limit", member=name, limit=limit, peak=peak, zipfile_peak=zpeak,
                                          memory=short(b), csize=info.compress_size, usize=info.file_size,
                                          method=info.compress_type, flags=info.flag_bits))
    return "compared", diffs


def main():
    seeddir, outdir, seconds, rseed = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    outdir.mkdir(parents=True, exist_ok=True)
    r = random.Random(rseed)
    seeds = {p.name: p.read_bytes() for p in sorted(seeddir.glob("*.xlsx"))}
    structs = {n: structure(b) for n, b in seeds.items()}
    kinds = ["flip_local", "flip_cd", "flip_eocd", "flip_any", "flip_data", "flip_data_tail", "field_cd",
             "field_local", "field_eocd", "truncate", "eocd_negative", "offset_into", "synth", "synth+mut"]
    counts = collections.Counter()
    statuses = collections.Counter()
    per_kind = collections.defaultdict(collections.Counter)
    sigs = collections.Counter()
    found = []
    check_internal = []
    checks_run = 0
    tmp = outdir / f"case_{rseed}.xlsx"
    t0 = time.time()
    i = 0
    from xlsx_engine.integrity.checks import check_file
    while time.time() - t0 < seconds:
        i += 1
        sname = r.choice(list(seeds))
        data, S = seeds[sname], structs[sname]
        kind = r.choice(kinds)
        try:
            if kind == "synth":
                res = m_synth(r, data)
            elif kind != "synth+mut":
                res = structural(r, data, S, kind)
            else:  # synth then one structural mutation
                sd, sdesc = m_synth(r, data)
                sub = r.choice(["flip_local", "flip_cd", "field_cd", "field_local", "flip_data_tail", "eocd_negative",
                                "offset_into", "truncate", "field_eocd"])
                res = structural(r, sd, structure(sd), sub)
                if res:
                    res = (res[0], sdesc + " ; " + res[1])
        except Exception:  # noqa: BLE001  (a mutation that could not be built)
            counts["mutation_error"] += 1
            continue
        if res is None:
            continue
        mdata, desc = res
        tmp.write_bytes(mdata)
        sub_kind = kind if not kind.startswith("synth") else kind + ":" + desc.split()[0]
        counts[sub_kind] += 1
        measure = kind.startswith("synth") or r.random() < 0.05
        status, diffs = compare(tmp, measure)
        statuses[status] += 1
        per_kind[sub_kind][status] += 1
        for df in diffs:
            def st(o):
                o = df.get(o)
                if not o:
                    return ""
                return o[0] + (":" + o[1].split(":")[0] if o[0] == "exc" else "")
            mk = df["mutation_kind"] = sub_kind.split(" ")[0]
            sig = (df["kind"], mk, "zipfile=" + st("zipfile"), "memory=" + st("memory"),
                   (df.get("mem") or "").split(":")[0], df.get("cause", ""))
            sigs[sig] += 1
            if sigs[sig] <= 3:
                rp = outdir / f"repro_{rseed}_{len(found):04d}.xlsx"
                rp.write_bytes(mdata)
                df.update(seed=sname, mutation=desc, repro=str(rp))
                found.append({k: (v if isinstance(v, (str, int, float, type(None))) else repr(v)) for k, v in df.items()})
        if status == "compared" and r.random() < 0.02 or (diffs and r.random() < 0.5) or status == "open_bug":
            checks_run += 1
            rep = check_file(tmp)
            bad = [f for f in rep.findings if f.code == "internal"]
            if bad:
                rp = outdir / f"internal_{rseed}_{len(check_internal):04d}.xlsx"
                rp.write_bytes(mdata)
                check_internal.append(dict(seed=sname, mutation=desc, message=bad[0].message, repro=str(rp)))
    summary = dict(cases=i, seconds=time.time() - t0, counts=dict(counts), per_kind={k: dict(v) for k, v in per_kind.items()}, statuses=dict(statuses),
                   signatures={" | ".join(k): v for k, v in sigs.items()}, found=found, checks_run=checks_run,
                   check_internal=check_internal)
    (outdir / f"summary_{rseed}.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1))
    print(json.dumps(dict(cases=i, statuses=dict(statuses), signatures=summary["signatures"],
                          checks_run=checks_run, internal=len(check_internal)), ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
