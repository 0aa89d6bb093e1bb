"""Tests for xlsx_engine.ooxml.recalc: forced LibreOffice recalculation and read-back.

Tests that start LibreOffice are marked ``libreoffice`` and skipped when soffice
is not installed.  Every workbook they recalculate carries deliberately WRONG
cached formula results, so a passing test proves LibreOffice computed the values.
"""

from __future__ import annotations

import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import openpyxl
import pytest
from lxml import etree
from openpyxl.workbook.defined_name import DefinedName

from xlsx_engine.ooxml import recalc
from xlsx_engine.ooxml.recalc import (
    CellError,
    RecalcError,
    find_soffice,
    read_defined_name_values,
    read_values,
    recalc_files,
    recalc_files_gnumeric,
    strip_cached_values,
)

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHEET = "自评表"
WRONG = -999.0  # cached value planted in every formula cell

skip_without_lo = pytest.mark.skipif(
    find_soffice() is None, reason="LibreOffice (soffice) not installed"
)


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def _inputs(seed: int) -> dict:
    """Input data of test workbook number ``seed`` (values differ per seed)."""
    return {
        "scores": [10.5 + seed, 20.25, 7.75 + seed * 0.5, 30.0, 0.5 * seed],
        "groups": ["甲", "乙", "甲", "丙", "甲"],
        "weights": [1.0, 0.5, 2.0, 0.25, 1.5],
        "note": "完成率95%" if seed % 2 == 0 else "未达标",
    }


def _make_workbook(path: Path, data: dict) -> Path:
    """Write a workbook with inputs in B:E and formulas in column H of 自评表."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SHEET
    for i, (s, g, w) in enumerate(zip(data["scores"], data["groups"], data["weights"]), 2):
        ws.cell(i, 2, s)
        ws.cell(i, 3, g)
        ws.cell(i, 5, w)
    ws["D2"] = data["note"]
    ws["H1"] = "=SUM(B2:B6)"
    ws["H2"] = "=ROUND(H1/3,2)"
    ws["H3"] = '=IF(H1>=60,"合格","不合格")'
    ws["H4"] = "=MIN(B2:B6)"
    ws["H5"] = "=MAX(B2:B6)"
    ws["H6"] = '=SUMIF(C2:C6,"甲",B2:B6)'
    ws["H7"] = "=SUMPRODUCT(B2:B6,E2:E6)"
    ws["H8"] = '=ISNUMBER(FIND("完成",D2))'
    ws["H9"] = '="总分："&H1&"分"'
    ws["H10"] = '=IF(H1>1000,"超限","")'
    ws["H11"] = "=总分*2"
    wb.defined_names["总分"] = DefinedName("总分", attr_text=f"'{SHEET}'!$H$1")
    wb.save(path)
    return path


def _xround(value: float, digits: int) -> float:
    """Excel ROUND: half away from zero on the 15-significant-digit value."""
    dec = Decimal(f"{value:.15g}")
    return float(dec.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def _xtext(value: float) -> str:
    """Number-to-text as Excel's ``&`` does it (integers without ``.0``)."""
    return str(int(value)) if value == int(value) else f"{value:.15g}"


def _expected(data: dict) -> dict:
    """The Python twin of the formulas in :func:`_make_workbook`."""
    s = data["scores"]
    total = sum(s)
    return {
        "H1": total,
        "H2": _xround(total / 3, 2),
        "H3": "合格" if total >= 60 else "不合格",
        "H4": min(s),
        "H5": max(s),
        "H6": sum(v for v, g in zip(s, data["groups"]) if g == "甲"),
        "H7": sum(v * w for v, w in zip(s, data["weights"])),
        "H8": "完成" in data["note"],
        "H9": f"总分：{_xtext(total)}分",
        "H10": "",
        "H11": total * 2,
    }


def _poison(src: Path, dst: Path, wrong: float = WRONG) -> Path:
    """Copy ``src`` with every formula's cached value replaced by ``wrong``.

    Also drops ``fullCalcOnLoad`` so that nothing but our forced-recalc
    setting can make LibreOffice recompute.
    """
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.startswith("xl/worksheets/sheet"):
                root = etree.fromstring(data)
                for cell in root.iter(f"{{{NS}}}c"):
                    if cell.find(f"{{{NS}}}f") is None:
                        continue
                    for v in cell.findall(f"{{{NS}}}v"):
                        cell.remove(v)
                    cell.attrib.pop("t", None)
                    etree.SubElement(cell, f"{{{NS}}}v").text = repr(wrong)
                data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
            elif info.filename == "xl/workbook.xml":
                data = data.replace(b' fullCalcOnLoad="1"', b"")
            zout.writestr(info, data)
    return dst


def _make_poisoned(folder: Path, name: str, data: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    clean = _make_workbook(folder / f"_clean_{name}", data)
    poisoned = _poison(clean, folder / name)
    clean.unlink()
    return poisoned


def _assert_values(actual: dict, expected: dict) -> None:
    for ref, want in expected.items():
        got = actual.get(ref)
        if isinstance(want, float):
            # LibreOffice stores at most 15 significant digits.
            assert got == pytest.approx(want, rel=1e-14), ref
        else:
            assert type(got) is type(want) and got == want, ref


# --------------------------------------------------------------------------
# LibreOffice tests
# --------------------------------------------------------------------------


@pytest.mark.libreoffice
@skip_without_lo
@pytest.mark.parametrize("strip_cached", [False, True])
def test_forced_recalc_replaces_wrong_cached_values(tmp_path, strip_cached):
    data = _inputs(2)
    src = _make_poisoned(tmp_path / "in", "score.xlsx", data)
    # Control: the input really carries wrong cached values.
    assert read_values(src)[SHEET]["H1"] == WRONG
    assert read_values(src)[SHEET]["H9"] == WRONG

    out = recalc_files([src], tmp_path / "out", strip_cached=strip_cached)

    assert out == {src: tmp_path / "out" / "score.xlsx"}
    values = read_values(out[src])[SHEET]
    _assert_values(values, _expected(data))
    assert values["D2"] == "完成率95%" and values["C2"] == "甲"
    assert read_defined_name_values(out[src]) == {"总分": pytest.approx(_expected(data)["H1"])}


@pytest.mark.libreoffice
@skip_without_lo
def test_libreoffice_result_types_and_rounding(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Q"
    ws["A1"] = 1.005
    formulas = {
        "B1": "=ROUND(2.675,2)",  # Python's round() gives 2.67
        "B2": "=ROUND(-2.5,0)",  # half away from zero, not banker's
        "B3": "=ROUND(A1,2)",
        "B4": "=1/3",  # stored with 15 significant digits
        "B5": "=1/0",
        "B6": "=NA()",
        "B7": '=IF(A1>5,"x","")',
        "B8": "=A1>1",
        "B9": '="v="&A1',
        "B10": "=Z99",  # reference to an empty cell
    }
    for ref, formula in formulas.items():
        ws[ref] = formula
    src = _poison(_save(wb, tmp_path / "q_clean.xlsx"), tmp_path / "q.xlsx")

    out = recalc_files([src], tmp_path / "out")[src]

    v = read_values(out)["Q"]
    assert v["B1"] == 2.68 and v["B2"] == -3.0 and v["B3"] == 1.01
    assert v["B4"] == 0.333333333333333
    assert v["B5"] == "#DIV/0!" and isinstance(v["B5"], CellError)
    assert v["B6"] == CellError("#N/A")
    assert v["B7"] == "" and not isinstance(v["B7"], CellError)
    assert v["B8"] is True
    assert v["B9"] == "v=1.005"
    assert v["B10"] == 0.0
    # String formula results are written inline (t="str"), not as shared strings.
    with zipfile.ZipFile(out) as zf:
        sheet = etree.fromstring(zf.read("xl/worksheets/sheet1.xml"))
    types = {c.get("r"): c.get("t") for c in sheet.iter(f"{{{NS}}}c")}
    assert types["B7"] == "str" and types["B9"] == "str"
    assert types["B5"] == "e" and types["B8"] == "b"


@pytest.mark.libreoffice
@skip_without_lo
def test_batch_of_25_files_uses_one_soffice_call(tmp_path, monkeypatch):
    calls = []
    real_run = recalc._run_soffice

    def counting_run(exe, files, *args, **kwargs):
        calls.append(len(files))
        return real_run(exe, files, *args, **kwargs)

    monkeypatch.setattr(recalc, "_run_soffice", counting_run)
    datas = [_inputs(i) for i in range(25)]
    srcs = [_make_poisoned(tmp_path / "in", f"wb{i:02d}.xlsx", d) for i, d in enumerate(datas)]

    out = recalc_files(srcs, tmp_path / "out")

    assert calls == [25]
    assert list(out) == srcs
    assert len(set(out.values())) == 25
    for src, data in zip(srcs, datas):
        _assert_values(read_values(out[src])[SHEET], _expected(data))


@pytest.mark.libreoffice
@skip_without_lo
def test_long_lists_are_chunked(tmp_path, monkeypatch):
    calls = []
    real_run = recalc._run_soffice

    def counting_run(exe, files, *args, **kwargs):
        calls.append(len(files))
        return real_run(exe, files, *args, **kwargs)

    monkeypatch.setattr(recalc, "_run_soffice", counting_run)
    datas = [_inputs(i) for i in range(5)]
    srcs = [_make_poisoned(tmp_path / "in", f"c{i}.xlsx", d) for i, d in enumerate(datas)]

    out = recalc_files(srcs, tmp_path / "out", chunk_size=2)

    assert calls == [2, 2, 1]
    for src, data in zip(srcs, datas):
        _assert_values(read_values(out[src])[SHEET], _expected(data))


@pytest.mark.libreoffice
@skip_without_lo
def test_identical_basenames_do_not_collide(tmp_path):
    data_a, data_b = _inputs(1), _inputs(40)
    src_a = _make_poisoned(tmp_path / "甲单位", "自评表.xlsx", data_a)
    src_b = _make_poisoned(tmp_path / "乙单位", "自评表.xlsx", data_b)

    out = recalc_files([src_a, src_b], tmp_path / "out")

    assert out[src_a].name == "自评表.xlsx"
    assert out[src_b].name == "自评表_2.xlsx"
    _assert_values(read_values(out[src_a])[SHEET], _expected(data_a))
    _assert_values(read_values(out[src_b])[SHEET], _expected(data_b))
    assert _expected(data_a)["H1"] != _expected(data_b)["H1"]


@pytest.mark.libreoffice
@skip_without_lo
def test_unconvertible_file_is_reported_by_name(tmp_path):
    good1 = _make_poisoned(tmp_path / "in", "good1.xlsx", _inputs(1))
    bad = tmp_path / "in" / "broken.xlsx"
    bad.write_text("this is not a spreadsheet")
    good2 = _make_poisoned(tmp_path / "in", "good2.xlsx", _inputs(2))

    with pytest.raises(RecalcError) as excinfo:
        recalc_files([good1, bad, good2], tmp_path / "out", strip_cached=False)

    message = str(excinfo.value)
    assert "1 of 3" in message and str(bad) in message and "soffice exit code" in message
    assert str(good1) not in message and str(good2) not in message
    assert list((tmp_path / "out").iterdir()) == []


# --------------------------------------------------------------------------
# Tests that do not need LibreOffice
# --------------------------------------------------------------------------


def _save(wb: openpyxl.Workbook, path: Path) -> Path:
    wb.save(path)
    return path


def test_missing_soffice_raises(tmp_path, monkeypatch):
    src = _make_workbook(tmp_path / "a.xlsx", _inputs(0))
    monkeypatch.setattr(recalc, "find_soffice", lambda: None)
    with pytest.raises(RecalcError, match="not found"):
        recalc_files([src], tmp_path / "out")


def test_missing_input_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        recalc_files([tmp_path / "nope.xlsx"], tmp_path / "out", soffice="/bin/false")


def test_non_zip_input_with_strip_cached_raises(tmp_path):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"garbage")
    with pytest.raises(RecalcError, match="not a valid .xlsx"):
        recalc_files([bad], tmp_path / "out", soffice="/bin/false")


def test_empty_input_list(tmp_path):
    assert recalc_files([], tmp_path / "out", soffice="/bin/false") == {}


def test_strip_cached_values_removes_only_formula_results(tmp_path):
    src = _make_poisoned(tmp_path, "p.xlsx", _inputs(3))
    dst = tmp_path / "s.xlsx"

    removed = strip_cached_values(src, dst)

    assert removed == 11
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst) as b:
        assert a.namelist() == b.namelist()
        for name in a.namelist():
            if name != "xl/worksheets/sheet1.xml":
                assert a.read(name) == b.read(name), name
        sheet = etree.fromstring(b.read("xl/worksheets/sheet1.xml"))
    for cell in sheet.iter(f"{{{NS}}}c"):
        if cell.find(f"{{{NS}}}f") is not None:
            assert cell.find(f"{{{NS}}}v") is None and cell.get("t") is None
    values = read_values(dst)[SHEET]
    assert values["B2"] == 13.5 and values["C2"] == "甲"
    assert not any(ref.startswith("H") for ref in values)


def test_read_defined_name_values_quoting_and_scopes(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SHEET
    ws["K50"] = 87.5
    ws["B2"], ws["C2"], ws["B3"] = 1.0, "二", True
    ws["A1"] = "=K50/2"
    other = wb.create_sheet("It's 2")
    other["A1"] = "x"
    names = {
        "总分": f"'{SHEET}'!$K$50",  # quoted Chinese sheet name
        "得分": f"{SHEET}!K50",  # unquoted, relative
        "明细": f"{SHEET}!$B$2:$C$3",  # range -> row-major list
        "公式格": f"'{SHEET}'!$A$1",  # cell holding a formula: its cached value
        "引号": "'It''s 2'!$A$1",  # escaped quote in the sheet name
        "常数": "0.5",  # constant: not a reference
        "合计": f"SUM('{SHEET}'!$B$2:$B$3)",  # formula: not a reference
        "坏引用": "#REF!",
        "无此表": "'不存在'!$A$1",
    }
    for name, text in names.items():
        wb.defined_names[name] = DefinedName(name, attr_text=text)
    ws.defined_names["本表"] = DefinedName("本表", attr_text=f"'{SHEET}'!$K$50")
    src = _poison(_save(wb, tmp_path / "clean.xlsx"), tmp_path / "n.xlsx", wrong=43.75)

    assert read_defined_name_values(src) == {
        "总分": 87.5,
        "得分": 87.5,
        "明细": [1.0, "二", True, None],
        "公式格": 43.75,
        "引号": "x",
    }


def test_read_values_shared_and_inline_strings(tmp_path):
    """Hand-made package: rich-text shared strings with phonetic hints, inline
    strings, cells without ``r``, absolute relationship targets, a chart sheet."""
    rel_ns = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    rel_type = rel_ns + "/"
    parts = {
        "xl/workbook.xml": (
            f'<workbook xmlns="{NS}" xmlns:r="{rel_ns}"><sheets>'
            '<sheet name="数据 1" sheetId="1" r:id="rId1"/>'
            '<sheet name="图" sheetId="2" r:id="rId2"/>'
            "</sheets></workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel_type}worksheet" Target="/xl/worksheets/a.xml"/>'
            f'<Relationship Id="rId2" Type="{rel_type}chartsheet" Target="chartsheets/c.xml"/>'
            f'<Relationship Id="rId3" Type="{rel_type}sharedStrings" Target="strings.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/a.xml": (
            f'<worksheet xmlns="{NS}"><sheetData>'
            '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
            '<c r="C1" t="inlineStr"><is><t>内联</t></is></c><c r="D1" s="1"/></row>'
            '<row><c t="n"><v>2.5</v></c><c t="b"><v>0</v></c><c><f>1+1</f></c></row>'
            "</sheetData></worksheet>"
        ),
        "xl/strings.xml": (
            f'<sst xmlns="{NS}" count="2" uniqueCount="2">'
            "<si><t>普通</t></si>"
            '<si><r><t>富</t></r><r><t>文本</t></r><rPh sb="0" eb="1"><t>ふ</t></rPh></si>'
            "</sst>"
        ),
    }
    path = tmp_path / "hand.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in parts.items():
            zf.writestr(name, text)

    assert read_values(path) == {
        "数据 1": {"A1": "普通", "B1": "富文本", "C1": "内联", "A2": 2.5, "B2": False}
    }


def _fake_soffice(tmp_path: Path, body: str) -> str:
    script = tmp_path / "fake_soffice.sh"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(0o755)
    return str(script)


def test_timeout_kills_soffice_and_its_children(tmp_path):
    pid_file = tmp_path / "child.pid"
    exe = _fake_soffice(tmp_path, f"sleep 60 &\necho $! > '{pid_file}'\nwait")
    src = _make_workbook(tmp_path / "a.xlsx", _inputs(0))

    with pytest.raises(RecalcError, match="timed out"):
        recalc_files([src], tmp_path / "out", timeout=1, soffice=exe)

    child = int(pid_file.read_text())
    status = Path(f"/proc/{child}/status")
    if status.exists():  # killed but possibly not yet reaped by init
        assert "zombie" in status.read_text() or "(dead)" in status.read_text()


def test_soffice_without_output_is_an_error(tmp_path):
    exe = _fake_soffice(tmp_path, "echo 'simulated failure' >&2\nexit 3")
    src = _make_workbook(tmp_path / "a.xlsx", _inputs(0))

    with pytest.raises(RecalcError) as excinfo:
        recalc_files([src], tmp_path / "out", soffice=exe)

    message = str(excinfo.value)
    assert str(src) in message and "exit code 3" in message and "simulated failure" in message


def test_same_file_given_twice_is_converted_once(tmp_path, monkeypatch):
    src = _make_workbook(tmp_path / "a.xlsx", _inputs(0))
    converted = []

    def fake_convert(exe, files, conv_dir, *args):
        for f in files:
            converted.append(f)
            (conv_dir / (f.stem + ".xlsx")).write_bytes(f.read_bytes())
        return []

    monkeypatch.setattr(recalc, "_convert_chunk", fake_convert)
    (tmp_path / "sub").mkdir()
    other_spelling = tmp_path / "sub" / ".." / "a.xlsx"
    assert other_spelling != src

    out = recalc_files([src, other_spelling], tmp_path / "out", soffice="/bin/false")

    assert len(converted) == 1
    assert out == {src: tmp_path / "out" / "a.xlsx", other_spelling: tmp_path / "out" / "a.xlsx"}


# --------------------------------------------------------------------------
# Gnumeric
# --------------------------------------------------------------------------


@pytest.mark.libreoffice
def test_gnumeric_recalculates_wrong_cached_values(tmp_path, ssconvert):
    datas = [_inputs(i) for i in range(3)]
    srcs = [_make_poisoned(tmp_path / "in", f"wb{i}.xlsx", d) for i, d in enumerate(datas)]
    srcs.append(_make_poisoned(tmp_path / "in" / "sub", "wb0.xlsx", _inputs(7)))   # same basename elsewhere
    datas.append(_inputs(7))
    assert read_values(srcs[0])[SHEET]["H1"] == WRONG

    out = recalc_files_gnumeric(srcs + [srcs[1]], tmp_path / "out", ssconvert=ssconvert)

    assert list(out) == srcs and out[srcs[3]] == tmp_path / "out" / "wb0_2.xlsx"
    for src, data in zip(srcs, datas):
        values = read_values(out[src])[SHEET]
        _assert_values(values, _expected(data))
        assert values["D2"] == data["note"]
    assert read_defined_name_values(out[srcs[0]]) == {"总分": pytest.approx(_expected(datas[0])["H1"])}


def test_gnumeric_timeout_kills_ssconvert_and_its_children(tmp_path):
    pid_file = tmp_path / "child.pid"
    exe = _fake_soffice(tmp_path, f"sleep 60 &\necho $! > '{pid_file}'\nwait")
    src = _make_workbook(tmp_path / "a.xlsx", _inputs(0))

    with pytest.raises(RecalcError, match="Gnumeric converting .*a.xlsx: timed out"):
        recalc_files_gnumeric([src], tmp_path / "out", timeout=1, ssconvert=exe)

    child = int(pid_file.read_text())
    status = Path(f"/proc/{child}/status")
    if status.exists():
        assert "zombie" in status.read_text() or "(dead)" in status.read_text()


def test_gnumeric_failure_names_the_file(tmp_path):
    exe = _fake_soffice(tmp_path, "echo 'cannot read' >&2\nexit 2")
    src = _make_workbook(tmp_path / "a.xlsx", _inputs(0))

    with pytest.raises(RecalcError) as excinfo:
        recalc_files_gnumeric([src], tmp_path / "out", ssconvert=exe)

    message = str(excinfo.value)
    assert "Gnumeric did not convert 1 of 1" in message and str(src) in message
    assert "exit code 2" in message and "cannot read" in message
    assert not (tmp_path / "out" / "a.xlsx").exists()


def test_gnumeric_missing_raises(tmp_path, monkeypatch):
    monkeypatch.setattr(recalc.shutil, "which", lambda name: None)
    src = _make_workbook(tmp_path / "a.xlsx", _inputs(0))
    with pytest.raises(RecalcError, match="ssconvert"):
        recalc_files_gnumeric([src], tmp_path / "out")
