"""Untrusted files: every kind of bad file gets a clear Chinese message, exit code 2 and no traceback.

Corrupt zips, files that are not workbooks, password-encrypted workbooks, zip bombs (declared and lying
sizes), XML with entity declarations (billion laughs, external entities), macro-enabled files (reported,
never run), 100,000 garbage cells. The fuzz test mutates valid workbooks — bytes, XML text and XML trees —
for 1,200 cases and requires that no case reaches the "internal error" path.
"""

from __future__ import annotations

import io
import os
import random
import re
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pytest
from lxml import etree
from test_legacy import build_workbook, load_grid
from test_tamper import alter, read_members, write_members

from xlsx_engine.forms.project.record import record_from_data
from xlsx_engine.forms.registry import open_template
from xlsx_engine.integrity.checks import check_file, exit_code
from xlsx_engine.kernel.findings import ERROR, SEVERITIES, WARNING

ROOT = Path(__file__).resolve().parent.parent
SHEET, WB = "xl/worksheets/sheet1.xml", "xl/workbook.xml"
M = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    import yaml
    d = tmp_path_factory.mktemp("good")
    tpl = open_template(ROOT / "templates" / "xmzc-national.xlsx")
    data = yaml.safe_load((ROOT / "examples" / "2023-城乡医疗救助补助资金.yaml").read_text(encoding="utf-8"))
    path = d / "good.xlsx"
    tpl.fill_to(record_from_data(data, tpl.profile), path)
    return path


@pytest.fixture(scope="module")
def legacy_good(tmp_path_factory) -> Path:
    return build_workbook(load_grid("seed004"), tmp_path_factory.mktemp("lg") / "seed004.xlsx")


def only_unreadable(report, *words: str) -> str:
    assert report.unreadable and exit_code([report]) == 2, report.findings
    [f] = [f for f in report.findings if f.code == "unreadable"]
    assert f.severity == ERROR
    for w in words:
        assert w in f.message + f.hint, (w, f.message)
    return f.message


# ----------------------------------------------------------------------------- not workbooks

def test_corrupt_zip(good, tmp_path):
    path = tmp_path / "cut.xlsx"
    path.write_bytes(good.read_bytes()[:5000])
    only_unreadable(check_file(path), "损坏")


def test_damaged_member(good, tmp_path):
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as zf:
        info = zf.getinfo(SHEET)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 100, start + 400):
        data[i] ^= 0x5A                                  # garbage inside the deflate stream
    path = tmp_path / "bits.xlsx"
    path.write_bytes(bytes(data))
    only_unreadable(check_file(path))


@pytest.mark.parametrize("name, content, words", [
    ("note.xlsx", "这是一段文字，不是表格".encode("utf-8"), ("不是 Excel",)),
    ("scan.xlsx", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj", ("不是 Excel",)),
    ("empty.xlsx", b"", ("空的",)),
])
def test_not_a_workbook(tmp_path, name, content, words):
    path = tmp_path / name
    path.write_bytes(content)
    only_unreadable(check_file(path), *words)


def test_word_document_named_xlsx(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<document/>")
    path = tmp_path / "report.xlsx"
    path.write_bytes(buf.getvalue())
    only_unreadable(check_file(path), "Word")


def test_folder_named_like_a_workbook(tmp_path):
    (tmp_path / "dir.xlsx").mkdir()
    only_unreadable(check_file(tmp_path / "dir.xlsx"), "文件夹")


def _ole_with_stream(name: str) -> bytes:
    """A minimal OLE compound file whose directory names a stream (enough for the format sniffer)."""
    body = bytearray(8192)
    body[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    entry = name.encode("utf-16-le")
    body[1024:1024 + len(entry)] = entry
    return bytes(body)


def test_password_encrypted_workbook(good, tmp_path):
    path = tmp_path / "locked.xlsx"
    path.write_bytes(_ole_with_stream("EncryptedPackage"))
    only_unreadable(check_file(path), "密码")


def test_password_encrypted_workbook_made_by_office_crypto(good, tmp_path):
    msoffcrypto = pytest.importorskip("msoffcrypto")
    from msoffcrypto.format.ooxml import OOXMLFile
    path = tmp_path / "locked-real.xlsx"
    with open(good, "rb") as src, open(path, "wb") as dst:
        OOXMLFile(src).encrypt("secret", dst)
    assert msoffcrypto
    only_unreadable(check_file(path), "密码")


# ----------------------------------------------------------------------------- zip bombs

def test_zip_bomb_one_huge_member(good, tmp_path):
    members = read_members(good)
    members["xl/media/bomb.bin"] = b"\0" * (60 << 20)             # 60 MB of zeros, ~60 KB compressed
    path = write_members(tmp_path / "bomb.xlsx", members)
    assert path.stat().st_size < 1 << 20
    t = time.perf_counter()
    only_unreadable(check_file(path), "压缩")
    assert time.perf_counter() - t < 5


def test_zip_bomb_many_members(good, tmp_path):
    members = read_members(good)
    for i in range(25):
        members[f"xl/media/part{i}.bin"] = b"\0" * (9 << 20)       # 225 MB declared in total
    path = write_members(tmp_path / "bomb2.xlsx", members)
    only_unreadable(check_file(path), "上限")


def test_zip_bomb_with_a_lying_header(good, tmp_path):
    """The central directory says the worksheet is small; its deflate stream expands to 100 MB."""
    huge = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = huge.compress(b"<c>" + b"\0" * (100 << 20)) + huge.flush()
    members = read_members(good)
    members[SHEET] = members.pop(SHEET)                   # last, so only the central directory moves
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, b"X" * 1000 if name == SHEET else data)
    data = bytearray(buf.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo(SHEET)
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len
    old_len = info.compress_size
    data[start:start + old_len] = stream                   # sizes in the headers still say 1000 / old_len
    fixed = bytes(data)
    delta = len(stream) - old_len
    eocd = fixed.rfind(b"PK\x05\x06")
    cd_offset = struct.unpack("<I", fixed[eocd + 16:eocd + 20])[0] + delta
    fixed = fixed[:eocd + 16] + struct.pack("<I", cd_offset) + fixed[eocd + 20:]
    cd = fixed.find(SHEET.encode(), cd_offset) - 46
    fixed = fixed[:cd + 20] + struct.pack("<I", len(stream)) + fixed[cd + 24:]
    path = tmp_path / "liar.xlsx"
    path.write_bytes(fixed)
    t = time.perf_counter()
    report = check_file(path)
    assert time.perf_counter() - t < 10
    assert SHEET in only_unreadable(report)              # the sheet's stream is never expanded past 1000 bytes


# ----------------------------------------------------------------------------- XML

BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
                  '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>')


@pytest.mark.parametrize("member", [SHEET, WB, "docProps/custom.xml", "xl/worksheets/sheet2.xml"])
def test_entity_declarations(good, tmp_path, member):
    def add_dtd(text):
        body = text.split("?>", 1)[1] if text.startswith("<?xml") else text
        return BILLION_LAUGHS + body.replace("</", "&lol3;</", 1)

    report = check_file(alter(good, tmp_path / "lol.xlsx", {member: add_dtd}))
    only_unreadable(report, "实体")


def test_external_entity_is_never_resolved(legacy_good, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-42", encoding="utf-8")

    def xxe(text):
        body = text.split("?>", 1)[1] if text.startswith("<?xml") else text
        return (f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY s SYSTEM "file://{secret}">]>'
                + body.replace("<t>", "<t>&s;", 1))

    report = check_file(alter(legacy_good, tmp_path / "xxe.xlsx", {SHEET: xxe}))
    only_unreadable(report, "实体")
    assert "TOP-SECRET" not in str(report.to_dict())


# ----------------------------------------------------------------------------- macros

def test_macro_enabled_legacy_table_is_reported_and_still_checked(legacy_good, tmp_path):
    sentinel = tmp_path / "macro-ran"
    vba = b"\xd0\xcf\x11\xe0" + f"Shell \"touch {sentinel}\"".encode()
    path = alter(legacy_good, tmp_path / "t.xlsm", add={"xl/vbaProject.bin": vba})
    report = check_file(path)
    [f] = [f for f in report.findings if f.code == "macro"]
    assert f.severity == WARNING and "不会运行宏" in f.message and f.place == "xl/vbaProject.bin"
    assert report.kind == "外来表格" and "total_sum" in {x.code for x in report.findings}
    assert not sentinel.exists()


def test_excel4_macro_sheet_is_reported(legacy_good, tmp_path):
    path = alter(legacy_good, tmp_path / "m.xlsx", add={"xl/macrosheets/sheet1.xml": b"<xm:macrosheet/>"})
    assert [f.place for f in check_file(path).findings if f.code == "macro"] == ["xl/macrosheets/sheet1.xml"]


# ----------------------------------------------------------------------------- garbage

def _garbage_rows(n: int, start_row: int = 1, seed: int = 7) -> str:
    rng = random.Random(seed)
    rows, per_row = [], 50
    for r in range(n // per_row):
        cells = []
        for c in range(per_row):
            ref = f"{chr(65 + c // 26) if c >= 26 else ''}{chr(65 + c % 26)}{start_row + r}"
            if rng.random() < 0.5:
                cells.append(f'<c r="{ref}"><v>{rng.random() * 1e6:.3f}</v></c>')
            else:
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{rng.choice("垃圾数据表格总分一级")}{r}</t></is></c>')
        rows.append(f'<row r="{start_row + r}">{"".join(cells)}</row>')
    return "".join(rows)


def test_100000_garbage_cells(tmp_path):
    sheet = f'<worksheet xmlns="{M}"><sheetData>{_garbage_rows(100_000)}</sheetData></worksheet>'
    members = {
        "[Content_Types].xml": b"<Types/>",
        WB: (f'<workbook xmlns="{M}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
             '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>').encode(),
        "xl/_rels/workbook.xml.rels": (b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                                       b'relationships"><Relationship Id="rId1" Type="worksheet" '
                                       b'Target="worksheets/sheet1.xml"/></Relationships>'),
        SHEET: sheet.encode("utf-8"),
    }
    path = write_members(tmp_path / "garbage.xlsx", members)
    t = time.perf_counter()
    report = check_file(path)
    assert time.perf_counter() - t < 20
    assert [f.code for f in report.findings] == ["not_recognised"]
    assert "未找到项目支出绩效自评表" in report.findings[0].message
    assert exit_code([report]) == 0          # a 警告: nothing contradicts itself (README 校验级别)


def test_100000_garbage_cells_under_a_filled_form(good, tmp_path):
    path = alter(good, tmp_path / "g.xlsx", {SHEET: lambda t: t.replace(
        "</sheetData>", _garbage_rows(100_000, start_row=200) + "</sheetData>")})
    t = time.perf_counter()
    report = check_file(path)
    assert time.perf_counter() - t < 20
    [f] = [f for f in report.findings if f.code == "content_outside"]
    assert "100000 个单元格" in f.message and f.place == "自评表!A200"
    assert len(report.findings) < 5
    assert report.summary["总分"] == 94.71


def test_too_many_cells_is_refused(tmp_path):
    sheet = f'<worksheet xmlns="{M}"><sheetData>{_garbage_rows(600_000)}</sheetData></worksheet>'
    members = {WB: (f'<workbook xmlns="{M}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
                    'relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>').encode(),
               "xl/_rels/workbook.xml.rels": (b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                                              b'relationships"><Relationship Id="rId1" Type="worksheet" '
                                              b'Target="worksheets/sheet1.xml"/></Relationships>'),
               SHEET: sheet.encode()}
    only_unreadable(check_file(write_members(tmp_path / "huge.xlsx", members)), "单元格超过")


def test_cell_at_the_last_row_and_column(good, tmp_path):
    """One cell at XFD1048576 must not make anything allocate a dense grid."""
    path = alter(good, tmp_path / "far.xlsx", {SHEET: lambda t: t.replace(
        "</sheetData>", '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'),
        WB: lambda t: t.replace("'自评表'!$K$49", "'自评表'!$A$1:$XFD$1048576")})
    t = time.perf_counter()
    report = check_file(path)
    assert time.perf_counter() - t < 5
    assert {"content_outside", "name_moved"} <= {f.code for f in report.findings}


# ----------------------------------------------------------------------------- the command

def test_command_line_on_bad_files_never_shows_a_traceback(good, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "cut.xlsx").write_bytes(good.read_bytes()[:3000])
    (bad / "text.xlsx").write_text("hello", encoding="utf-8")
    (bad / "locked.xlsx").write_bytes(_ole_with_stream("EncryptedPackage"))
    (bad / "old.xls").write_bytes(_ole_with_stream("Workbook"))
    alter(good, bad / "lol.xlsx", {SHEET: lambda t: BILLION_LAUGHS + t.split("?>", 1)[1]})
    env = {k: v for k, v in os.environ.items() if k != "JXZP_DEBUG"}
    env["PYTHONPATH"] = str(ROOT)
    env["PYTHONIOENCODING"] = "utf-8"
    proc = subprocess.run([sys.executable, "-m", "xlsx_engine.cli.check", "check", str(bad)], env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stdout + proc.stderr
    for word in ("损坏", "不是 Excel", "密码", "旧版", "实体"):
        assert word in proc.stdout, word
    assert "无法读取 5 个" in proc.stdout


# ----------------------------------------------------------------------------- fuzz

TOKENS = [b"<", b">", b'"', b'r="ZZZ0"', b'r="A1048577"', b't="s"', b't="e"', b't="b"', b't="str"',
          b"<v>1e308</v>", b"<v>nan</v>", b"<v>-1</v>", b"<v>99999999</v>", b"<f>", b"</f>", b't="shared" si="0"',
          b"&amp;", b"&#0;", b"\xff", b'<c r="XFD1048576"><v>1</v></c>', b'name="', b'<row r="0">',
          b'<mergeCell ref="A1:XFD1048576"/>', b"#REF!", b"'", b"!", b"$", b"</definedName>", b'localSheetId="0"',
          b"<v>4294967296</v>", b'sqref="A1:XFD1048576"']
VALUES = ["", "0", "-1", "1e308", "NaN", "A1", "ZZZ99", "XFD1048576", "#REF!", "'自评表'!$A$1:$XFD$1048576", "s", "str",
          "e", "b", "inlineStr", "shared", "999999999999", "自评表", "字典", "≥95%", "—", "1:3", "A0", "$A$1",
          "'自评表'!$K$50", "A1:XFD1048576"]


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    kind = rng.randrange(4)
    if kind == 0:
        for _ in range(rng.randint(1, 20)):
            b[rng.randrange(len(b))] = rng.randrange(256)
    elif kind == 1:
        b = b[:rng.randrange(len(b))]
    elif kind == 2:
        i = rng.randrange(len(b))
        b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 50)))
    else:
        i = rng.randrange(len(b))
        del b[i:i + rng.randint(1, 200)]
    return bytes(b)


def _mutate_text(rng: random.Random, members: dict[str, bytes]) -> dict[str, bytes]:
    name = rng.choice([n for n in members if n.endswith((".xml", ".rels"))])
    x = bytearray(members[name])
    for _ in range(rng.randint(1, 6)):
        kind = rng.randrange(5)
        i = rng.randrange(len(x)) if x else 0
        if kind == 0:
            x[i:i] = rng.choice(TOKENS)
        elif kind == 1:
            del x[i:i + rng.randint(1, 40)]
        elif kind == 2:
            j = rng.randrange(len(x))
            x[i:i + 5], x[j:j + 5] = x[j:j + 5], x[i:i + 5]
        elif kind == 3:
            x = bytearray(bytes(x).replace(rng.choice([b'r="', b"<v>", b"<f>", b't="', b"sheet", b'ref="']),
                                           rng.choice(TOKENS), 1))
        else:
            seg = x[i:i + rng.randint(1, 300)]
            j = rng.randrange(len(x))
            x[j:j] = seg
    return {**members, name: bytes(x)}


def _mutate_tree(rng: random.Random, members: dict[str, bytes]) -> dict[str, bytes]:
    import copy
    name = rng.choice([n for n in members if n.endswith((".xml", ".rels"))])
    root = etree.fromstring(members[name])
    for _ in range(rng.randint(1, 8)):
        elements = list(root.iter())
        el = rng.choice(elements)
        kind = rng.randrange(6)
        if kind == 0 and el.getparent() is not None:
            el.getparent().remove(el)
        elif kind == 1 and el.attrib:
            el.set(rng.choice(list(el.attrib)), rng.choice(VALUES))
        elif kind == 2:
            el.text = rng.choice(VALUES)
        elif kind == 3 and el.getparent() is not None:
            el.getparent().append(copy.deepcopy(el))
        elif kind == 4:
            el.set(rng.choice(["r", "t", "s", "ref", "si", "name", "sheet", "lockStructure", "state", "sqref"]),
                   rng.choice(VALUES))
        else:
            for a in list(el.attrib):
                del el.attrib[a]
    return {**members, name: etree.tostring(root)}


@pytest.mark.parametrize("mode", ["bytes", "xml-text", "xml-tree"])
def test_fuzz_no_unhandled_exception(mode, good, legacy_good, tmp_path, monkeypatch):
    """400 mutants per mode (1,200 in all): each is either read or reported unreadable — never a crash."""
    monkeypatch.setenv("JXZP_DEBUG", "1")        # an unexpected exception would propagate instead of a finding
    rng = random.Random({"bytes": 11, "xml-text": 22, "xml-tree": 33}[mode])
    sources = [good, legacy_good]
    kinds = {}
    for n in range(400):
        src = sources[n % 2]
        if mode == "bytes":
            blob = _mutate_bytes(rng, src.read_bytes())
        else:
            members = read_members(src)
            blob = _zip((_mutate_text if mode == "xml-text" else _mutate_tree)(rng, members))
        path = tmp_path / f"m{n}.xlsx"
        path.write_bytes(blob)
        report = check_file(path)
        kinds[report.kind] = kinds.get(report.kind, 0) + 1
        assert "internal" not in {f.code for f in report.findings}, (n, report.findings)
        for f in report.findings:
            assert f.severity in SEVERITIES and f.message and f.code
        path.unlink()
    assert sum(kinds.values()) == 400
    if mode != "bytes":                          # most XML mutants are still read and checked
        assert kinds.get("本系统模板", 0) + kinds.get("外来表格", 0) > 100, kinds


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
@pytest.mark.parametrize("args", [("check", "{pipe}"), ("score", "{pipe}"), ("narrative", "{pipe}", "-o", "r.docx"),
                                  ("fill", str(ROOT / "templates" / "xmzc-national.xlsx"), "{pipe}", "-o", "t.xlsx"),
                                  ("narrative", str(ROOT / "examples" / "2023-城乡医疗救助补助资金.yaml"),
                                   "--template", "{pipe}", "-o", "r.docx")])
def test_a_pipe_given_as_a_file_is_refused_not_waited_on(args, tmp_path):
    """A named pipe blocks whoever opens it until a writer comes: every command looks before it opens, answers
    in Chinese and exits 2 at once (before, check and score waited for ever)."""
    pipe = tmp_path / "自评表.xlsx"
    os.mkfifo(pipe)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "xlsx_engine.cli", *(a.format(pipe=pipe) for a in args)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, encoding="utf-8", timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "不是普通文件（管道、设备等）" in proc.stdout + proc.stderr and "Traceback" not in proc.stderr


_ABSURD = ("1e26", "9e307", "1.7976931348623157e308", "-1.7976931348623157e308")


def _set_value(text: str, ref: str, value: str) -> str:
    return re.sub(rf'(<c r="{ref}" s="\d+"><v>)[^<]*(</v></c>)', rf"\g<1>{value}\g<2>", text)


def test_absurd_numbers_in_any_input_are_answered_not_internal_errors(good, tmp_path):
    """A number no budget has (an ID pasted as an amount, the largest double) in any numeric cell of a returned form:
    the checker answers with findings and a summary — never 内部错误. Before: Decimal refused to round past 1e26,
    the largest doubles rounded up to infinity, and a sum past the range overflowed (48 of 112 cases)."""
    sheet = read_members(good)[SHEET].decode("utf-8")
    refs = re.findall(r'<c r="([A-Z]+[0-9]+)" s="\d+"><v>[^<]*</v></c>', sheet)
    assert len(refs) >= 20
    for value in _ABSURD:
        for ref in refs:
            path = alter(good, tmp_path / f"{ref}.xlsx", {SHEET: lambda t: _set_value(t, ref, value)})
            report = check_file(path)
            assert not [f for f in report.findings if f.code == "internal"], (ref, value)
            assert report.summary, (ref, value)


def test_amounts_past_the_largest_double_do_not_spoil_the_summary(good, tmp_path):
    """Two sources of the largest double: their sum is past the range (a spreadsheet's #NUM!). The file is 有错误
    with no figures; the other units' totals and averages stay what they are."""
    from xlsx_engine.bureau.collect import collect
    folder = tmp_path / "回收"
    folder.mkdir()
    big = "1.7976931348623157e308"
    alter(good, folder / "absurd.xlsx",
          {SHEET: lambda t: _set_value(_set_value(_set_value(_set_value(t, "F7", big), "F8", big), "G7", big), "G8", big)})
    import yaml
    tpl = open_template(ROOT / "templates" / "xmzc-national-platform.xlsx")
    data = yaml.safe_load((ROOT / "examples" / "2023-医保基金监管专项.yaml").read_text(encoding="utf-8"))
    tpl.fill_to(record_from_data(data, tpl.profile), folder / "other.xlsx")
    coll = collect(folder)
    by_name = {Path(item.path).name: item for item in coll.rows}
    absurd, other = by_name["absurd.xlsx"], by_name["other.xlsx"]
    assert absurd.status == "有错误" and absurd.total is None and absurd.budget is None and absurd.grade == ""
    assert any("#NUM!" in f.message for f in absurd.findings)
    assert other.total == 89 and [r.total for r in coll.filled if r.total is not None] == [89]
    assert all(f.code != "internal" for item in coll.rows for f in item.findings)


@pytest.mark.parametrize("cells, shown", [(("F7", "F8", "G7", "G8"), "#NUM!"), (("I25",), "E+308"),
                                          (("E18", "G18"), "")])
def test_score_and_report_of_absurd_numbers_say_num(good, tmp_path, cells, shown):
    """jxzp score and jxzp narrative on a form with the largest doubles typed in: they print what a spreadsheet would
    (#NUM! past the range, 1.79769313486232E+308) and finish — no 内部错误 (score exited 3), no report refused
    because Decimal could not round (narrative blamed its own template, exit 2)."""
    big = "-1.7976931348623157e308" if cells == ("I25",) else "1.7976931348623157e308"

    def edit(t: str) -> str:
        for ref in cells:
            t = _set_value(t, ref, big)
        return t
    path = alter(good, tmp_path / "absurd.xlsx", {SHEET: edit})
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    score = subprocess.run([sys.executable, "-m", "xlsx_engine.cli", "score", str(path)], env=env,
                           capture_output=True, text=True, timeout=120)
    assert score.returncode in (0, 1) and "内部错误" not in score.stdout + score.stderr, score.stderr[-500:]
    assert shown in score.stdout               # sums past the range, weights of -1.8E+308 (targets are not printed)
    report = tmp_path / "absurd.docx"
    told = subprocess.run([sys.executable, "-m", "xlsx_engine.cli", "narrative", str(path), "-o", str(report)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert told.returncode == 0 and report.is_file(), told.stderr[-500:]


@pytest.mark.parametrize("typed", [".inf", "-.inf", ".nan", "1.0e+20", "1.7976931348623157e+308"])
def test_a_data_file_with_an_amount_past_any_budget_is_refused_with_its_field(tmp_path, typed):
    """fill (and bulk, which reads the master the same way) refuse an amount no budget has — infinity, nan, an
    ID pasted as 万元 — naming the field; before, .inf stopped fill with 内部错误 (a sum past the range)."""
    text = (ROOT / "examples" / "2023-城乡医疗救助补助资金.yaml").read_text(encoding="utf-8")
    data = tmp_path / "项目.yaml"
    data.write_text(text.replace("全年预算数: 280,", f"全年预算数: {typed},"), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "xlsx_engine.cli", "fill", str(ROOT / "templates" / "xmzc-national.xlsx"),
                           str(data), "-o", str(tmp_path / "out.xlsx")], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and not (tmp_path / "out.xlsx").exists(), proc.stdout + proc.stderr
    assert "资金.当年财政拨款.全年预算数：金额超出范围" in proc.stderr and "内部错误" not in proc.stderr


def test_a_formula_past_the_range_is_written_and_read_as_num():
    """Defence in depth: a formula whose twin is past the doubles' range is written as the error #NUM! (what a
    spreadsheet computes; a number_text of inf used to crash the filler), and the checker takes #NUM! and the
    twin's inf or nan as the same value."""
    from xlsx_engine.integrity.checks import same
    from xlsx_engine.ooxml.filler import Template, _Slot
    from xlsx_engine.ooxml.sheetmodel import FORMULA
    slot = Template._cell_xml
    cell = _Slot.build("F6", FORMULA, 'r="F6" s="3"', "<f>SUM(F7:F8)</f>")
    assert slot(cell, float("inf")) == b'<c r="F6" s="3" t="e"><f>SUM(F7:F8)</f><v>#NUM!</v></c>'
    assert slot(cell, 2.5) == b'<c r="F6" s="3"><f>SUM(F7:F8)</f><v>2.5</v></c>'
    assert same("#NUM!", float("inf")) and same(float("nan"), "#NUM!") and not same("#NUM!", 1.0)


# ----------------------------------------------------------------------------- a returned form read at once

def _central_entry(data: bytes, name: str) -> int:
    """Offset of ``name``'s central directory entry."""
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        n = struct.unpack("<H", data[at + 28:at + 30])[0]
        if data[at + 46:at + 46 + n] == name.encode():
            return at
        at = data.find(b"PK\x01\x02", at + 4)
    raise AssertionError(name)


def _damaged(good: Path, damage: str) -> bytes:
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as zf:
        info = zf.getinfo(SHEET)
    central, local = _central_entry(bytes(data), SHEET), info.header_offset
    if damage == "crc":                                     # the directory's CRC-32 no longer matches the part
        data[central + 16] ^= 0xFF
    elif damage == "name":                                  # the local header names another part
        data[local + 30 + len(SHEET) - 5] = ord("X")
    elif damage == "size smaller":                          # the directory says fewer bytes than the stream holds
        data[central + 24:central + 28] = struct.pack("<I", 1000)
    elif damage == "size larger":                           # ... more: the CRC-32 still vouches for the part
        data[central + 24:central + 28] = struct.pack("<I", info.file_size + 5000)
    elif damage == "patched flag":                          # left to zipfile, which refuses it
        data[central + 8] |= 0x20
    elif damage == "truncated stream":                      # the compressed size cut to half
        data[central + 20:central + 24] = struct.pack("<I", info.compress_size // 2)
    elif damage == "stored":                                # the parts stored, not deflated
        buf = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(bytes(data))) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as dst:
            for i in src.infolist():
                dst.writestr(i.filename, src.read(i))
        return buf.getvalue()
    return bytes(data)


@pytest.fixture(params=["isal", "zlib"])
def inflater(request, monkeypatch):
    """Both CRC-32s a part read from memory may be checked with: ISA-L's where its wheel is installed (the usual
    case), zlib's where it is not. (The stream is always inflated by zlib: ISA-L's inflate takes streams zlib
    refuses — test_a_stream_zlib_refuses_is_refused_from_memory_too.)"""
    import zlib

    from xlsx_engine.ooxml import safezip
    if request.param == "zlib":
        monkeypatch.setattr(safezip, "_crc32", zlib.crc32)
    else:
        isal_zlib = pytest.importorskip("isal.isal_zlib")
        monkeypatch.setattr(safezip, "_crc32", isal_zlib.crc32)
    return request.param


@pytest.mark.parametrize("damage", ["none", "stored", "crc", "name", "size smaller", "size larger",
                                    "patched flag", "truncated stream"])
def test_a_part_read_from_memory_is_what_zipfile_reads(good, tmp_path, damage, inflater):
    """A returned form is read in one piece and each part inflated from memory (safezip._member_in_memory):
    every part gives zipfile's own bytes, and a damaged part is refused by both readings."""
    from xlsx_engine.kernel.errors import WorkbookError
    from xlsx_engine.ooxml.safezip import open_workbook_zip, read_member
    path = tmp_path / "form.xlsx"
    path.write_bytes(_damaged(good, damage))

    def read(zf) -> dict:
        out = {}
        for name in zf.namelist():
            try:
                out[name] = read_member(zf, name, str(path), 8 << 20)
            except WorkbookError as exc:
                out[name] = ("refused", "已损坏" in exc.message or "上限" in exc.message)
        return out

    with zipfile.ZipFile(path) as plain:
        by_zipfile = read(plain)
    with open_workbook_zip(path, in_memory=True) as zf:
        assert zf.data is not None                          # the fast reading is the one under test
        by_memory = read(zf)
    assert by_memory == by_zipfile
    refused = isinstance(by_memory[SHEET], tuple)
    assert refused == (damage not in ("none", "stored", "size larger")), by_memory[SHEET][:80]
    if refused:
        assert by_memory[SHEET] == ("refused", True)
        only_unreadable(check_file(path))


def _raw_zip(members: list[tuple]) -> bytes:
    """A zip of members given as (name, raw stream, CRC-32, declared size[, method: deflated]): what zipfile
    cannot write (a stream that does not match its sizes)."""
    out, central = bytearray(), bytearray()
    for name, raw, crc, size, *method in members:
        n, m = name.encode(), (method or [8])[0]
        central += struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 63, 0, m, 0, 0x21, crc, len(raw), size, len(n),
                               0, 0, 0, 0, 0, len(out)) + n
        out += struct.pack("<4s5H3I2H", b"PK\x03\x04", 63, 0, m, 0, 0x21, crc, len(raw), size, len(n), 0) + n + raw
    return bytes(out + central + struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, len(members), len(members),
                                             len(central), len(out), 0))


def _deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def _directory_damaged(good: Path, damage: str) -> bytes:
    data = bytearray(good.read_bytes())
    eocd = data.rfind(b"PK\x05\x06")
    with zipfile.ZipFile(good) as zf:
        parts = [(i.filename, zf.read(i)) for i in zf.infolist()]
    if damage.startswith("negative offset"):     # the directory said to start K bytes later: offsets become -K
        (cd,) = struct.unpack_from("<I", data, eocd + 16)
        k = len(data) + (100 if "past" in damage else 0)
        struct.pack_into("<I", data, eocd + 16, cd + k)
        return bytes(data)
    if damage == "version needed 6.4":
        struct.pack_into("<H", data, _central_entry(bytes(data), SHEET) + 6, 64)
        return bytes(data)
    if damage == "zip64 offset past any file":   # left to zipfile (flag 0x10), which seeks there
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
            for name, body in parts:
                dst.writestr(name, body)
            dst.filelist[0].header_offset = 2 ** 64 - 1
            dst.filelist[0].flag_bits |= 0x10
        return buf.getvalue()
    members = [(name, _deflate(body), zlib.crc32(body), len(body)) for name, body in parts]
    if damage == "lzma part, bad properties":   # left to zipfile, whose LZMA reader raises LZMAError
        members.append(("docProps/extra.xml", b"\x09\x14\x05\x00" + b"\xff" * 5 + b"\x00" * 20, 0, 10, 14))
    elif damage == "empty part, broken stream":    # size 0, CRC 0, the stream an invalid block
        members.append(("docProps/extra.xml", b"\xff" * 8, 0, 0))
    elif damage == "stream broken past its size":  # the first bytes are the part; the stream goes on, broken
        name, body = parts[0]
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        head = c.compress(body) + c.flush(zlib.Z_FULL_FLUSH)
        clean = c.compress(b"<c r='A1'><v>12345</v></c>" * 400) + c.flush()
        rng = random.Random(7)
        while True:                              # a flip that zlib sees only when it inflates past the size
            rest = bytearray(clean)
            rest[rng.randrange(len(rest))] ^= 1 << rng.randrange(8)
            try:
                zlib.decompressobj(-15).decompress(head + rest, len(body))
                zlib.decompressobj(-15).decompress(head + rest)
            except zlib.error as exc:
                if "distance" in str(exc) or "code" in str(exc):
                    try:
                        zlib.decompressobj(-15).decompress(head + rest, len(body))
                        break
                    except zlib.error:
                        pass
        members[0] = (name, head + bytes(rest), zlib.crc32(body), len(body))
    return _raw_zip(members)


@pytest.mark.parametrize("damage", ["negative offset", "negative offset past the start", "version needed 6.4",
                                    "zip64 offset past any file", "empty part, broken stream",
                                    "stream broken past its size", "lzma part, bad properties"])
def test_a_damaged_directory_read_from_memory_is_refused_as_zipfile_refuses(good, tmp_path, damage, inflater):
    """Found by fuzzing the two readings against each other (zipfile's, and safezip._member_in_memory's): a part
    zipfile refuses is refused from memory too, and only ever with a WorkbookError. Before: a negative header
    offset (a directory that says it starts past where it is) was read from the end of the file (struct
    accepts a negative offset), or raised struct.error; zip64 offset 2**64-1 with a flag left to zipfile raised
    OverflowError (BytesIO.seek); an empty part's broken stream and a stream broken past the declared size were
    accepted; a version above 6.3 raised NotImplementedError from open_workbook_zip; an LZMA part (read by
    zipfile, on both paths) raised lzma.LZMAError, which read_member does not catch."""
    from xlsx_engine.kernel.errors import WorkbookError
    from xlsx_engine.ooxml.safezip import open_workbook_zip, read_member
    path = tmp_path / "form.xlsx"
    path.write_bytes(_directory_damaged(good, damage))

    def read(zf, limit) -> dict:
        out = {}
        for name in zf.namelist():
            try:
                out[name] = read_member(zf, name, str(path), limit)
            except WorkbookError:
                out[name] = "refused"
        return out

    try:
        zf = open_workbook_zip(path, in_memory=True)
    except WorkbookError:
        with pytest.raises(Exception):      # noqa: B017  (zipfile refuses too, in whatever class)
            zipfile.ZipFile(path)
        return
    with zf, zipfile.ZipFile(path) as plain:
        assert zf.data is not None
        for limit in (8 << 20, 4096):
            by_zipfile = {}
            for name in plain.namelist():
                try:
                    by_zipfile[name] = read_member(plain, name, str(path), limit)
                except Exception:  # noqa: BLE001  (any refusal of zipfile's, in whatever class)
                    by_zipfile[name] = "refused"
            assert read(zf, limit) == by_zipfile


def _incomplete_code_stream(body: bytes) -> bytes:
    """``body`` as one dynamic deflate block whose literal/length code is incomplete (all 257 symbols 0..256 nine
    bits long: 257 of 512 codes used). RFC 1951 leaves it invalid; zlib refuses it ("invalid literal/lengths
    set"), ISA-L inflates it."""
    bits: list[int] = []

    def put(v, n):              # LSB first
        bits.extend((v >> i) & 1 for i in range(n))

    def huff(code, n):          # MSB first
        bits.extend((code >> i) & 1 for i in range(n - 1, -1, -1))

    put(1, 1), put(2, 2)                        # final block, dynamic
    put(0, 5), put(0, 5), put(19 - 4, 4)        # HLIT 257, HDIST 1, HCLEN 19
    order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
    for sym in order:                           # code-length code: 0 -> "0", 9 -> "1" (complete)
        put(1 if sym in (0, 9) else 0, 3)
    for _ in range(257):
        huff(1, 1)                              # literal/length lengths: 9 each
    huff(0, 1)                                  # the one distance length: 0
    for sym in [*body, 256]:
        huff(sym, 9)                            # canonical codes of equal lengths: the symbol itself
    bits.extend([0] * (-len(bits) % 8))
    return bytes(sum(b << j for j, b in enumerate(bits[i:i + 8])) for i in range(0, len(bits), 8))


def test_a_stream_zlib_refuses_is_refused_from_memory_too(good, tmp_path, inflater):
    """ISA-L inflates a deflate stream with an incomplete Huffman code, which zlib (so zipfile, LibreOffice, and
    read_member on a file past IN_MEMORY_BYTES) refuses: with a CRC-32 of what it gives, the part must still be
    refused from memory, as the docstring of _member_in_memory promises."""
    from xlsx_engine.kernel.errors import WorkbookError
    from xlsx_engine.ooxml.safezip import open_workbook_zip, read_member
    with zipfile.ZipFile(good) as zf:
        parts = [(i.filename, zf.read(i)) for i in zf.infolist()]
    members = [(name, _deflate(body), zlib.crc32(body), len(body)) for name, body in parts]
    name, body = parts[0]
    odd = _incomplete_code_stream(body)
    with pytest.raises(zlib.error):
        zlib.decompress(odd, -15)
    members[0] = (name, odd, zlib.crc32(body), len(body))
    path = tmp_path / "form.xlsx"
    path.write_bytes(_raw_zip(members))
    with zipfile.ZipFile(path) as plain, pytest.raises(WorkbookError):
        read_member(plain, name, str(path))
    with open_workbook_zip(path, in_memory=True) as zf:
        assert zf.data is not None
        with pytest.raises(WorkbookError):
            read_member(zf, name, str(path))


def _docx_bytes() -> bytes:
    from xlsx_engine.narrative.docx import report_docx
    from xlsx_engine.narrative.engine import from_data_file
    data, _ = report_docx(from_data_file(Path(__file__).parent / "data" / "seeds" / "seed004.yaml"))
    return data


@pytest.mark.parametrize("damage", ["truncated", "not a zip", "no document part", "declared bomb", "broken part"])
def test_a_damaged_word_report_is_refused_in_chinese(tmp_path, damage):
    """A returned folder's Word 自评报告 is read by ``check`` (python-docx): a damaged one is 无法读取 with what to
    do, never 内部错误 (before: python-docx's PackageNotFoundError became 内部错误 and exit 1), and it gets the
    bounds of every untrusted zip before python-docx expands anything (safezip.open_office_zip)."""
    good = _docx_bytes()
    path = tmp_path / "自评报告.docx"
    if damage == "truncated":
        path.write_bytes(good[:3000])
    elif damage == "not a zip":
        path.write_bytes(b"PK\x03\x04" + b"garbage" * 10)
    elif damage == "no document part":
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("a.txt", "x")
    elif damage == "declared bomb":                # a part that says it expands past the limit: refused unread
        buf = io.BytesIO(good)
        with zipfile.ZipFile(buf, "a") as zf:
            zf.writestr("word/media/big.bin", b"\0" * (1 << 20))
        data = bytearray(buf.getvalue())
        at = data.rfind(b"PK\x01\x02")             # the last directory entry: big.bin's uncompressed size
        data[at + 24:at + 28] = struct.pack("<I", 0xFFFFFFF0)
        path.write_bytes(bytes(data))
    else:                                          # document.xml cut inside the zip: python-docx's own error
        parts = {}
        with zipfile.ZipFile(io.BytesIO(good)) as zf:
            for name in zf.namelist():
                parts[name] = zf.read(name)
        parts["word/document.xml"] = parts["word/document.xml"][:200]
        with zipfile.ZipFile(path, "w") as zf:
            for name, body in parts.items():
                zf.writestr(name, body)
    report = check_file(path)
    assert report.unreadable and report.kind == "无法读取", report.to_dict()
    messages = [f.message + f.hint for f in report.findings]
    assert messages and not any("内部错误" in m for m in messages), messages
    assert all(re.search(r"[\u4e00-\u9fff]", m) for m in messages), messages
    assert exit_code([report]) == 2
