"""The filler: XML patching that keeps the template intact, thread-safe, atomic."""

from __future__ import annotations

import io
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import gen
import pytest

from xlsx_engine.forms.project.record import ProjectRecord
from xlsx_engine.forms.registry import open_template, read_project
from xlsx_engine.kernel.errors import TemplateError
from xlsx_engine.ooxml.filler import read_custom_properties

ROOT = Path(__file__).resolve().parent.parent
NATIONAL = ROOT / "templates" / "xmzc-national.xlsx"


@pytest.fixture(scope="module")
def template():
    return open_template(NATIONAL)


def test_only_the_worksheet_changes(template):
    data, _ = template.fill_bytes(gen.project(3, "national"))
    filled, original = zipfile.ZipFile(io.BytesIO(data)), zipfile.ZipFile(NATIONAL)
    assert filled.testzip() is None
    assert filled.namelist() == original.namelist()
    changed = [n for n in original.namelist() if filled.read(n) != original.read(n)]
    assert sorted(changed) == ["xl/workbook.xml", "xl/worksheets/sheet1.xml"]
    # the workbook part only loses the print titles: this form prints on one page (see Layout.repeats_header)
    book, before = filled.read("xl/workbook.xml").decode(), original.read("xl/workbook.xml").decode()
    assert "_xlnm.Print_Titles" not in book and re.sub(r'<definedName name="_xlnm.Print_Titles"[^<]*</definedName>',
                                                      "", before) == book


def test_text_never_becomes_a_formula(template):
    rec = gen.project(5, "national")
    rec.project = '=HYPERLINK("http://x","点我")&<b>&amp;'
    rec.indicators[0].name = "=1+1"
    data, _ = template.fill_bytes(rec)
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>HYPERLINK" not in sheet and "<f>1+1" not in sheet
    assert "=HYPERLINK(&quot;" in sheet or '=HYPERLINK("http' in sheet


def test_concurrent_fills_are_identical_and_valid(template):
    records = [gen.project(i, "national") for i in range(24)]
    expected = [template.fill_bytes(r)[0] for r in records]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda r: template.fill_bytes(r)[0], records * 4))
    assert all(g == expected[i % 24] for i, g in enumerate(got))


def test_fill_to_is_atomic_and_leaves_no_temp_files(template, tmp_path):
    out = tmp_path / "out.xlsx"
    out.write_bytes(b"old")
    template.fill_to(ProjectRecord("national"), out)
    assert zipfile.ZipFile(out).testzip() is None
    assert [p.name for p in tmp_path.iterdir()] == ["out.xlsx"]


def test_altered_template_is_refused(tmp_path):
    data = NATIONAL.read_bytes()
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b"<f>SUM(K", b"<f>100+SUM(K", 1)
            dst.writestr(info, content)
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(buf.getvalue())
    with pytest.raises(TemplateError, match="公式与版式不一致"):
        open_template(bad)


def test_score_refuses_a_name_pointing_at_the_whole_sheet(template, tmp_path, capsys):
    """A unit that stretched a name over the whole sheet gets a clear message, not a memory blow-up: the name is
    not followed (the one reading of check and collect), the change is an error and score exits 1."""
    from xlsx_engine.cli.main import main

    data, _ = template.fill_bytes(gen.project(2, "national"))
    src = zipfile.ZipFile(io.BytesIO(data))
    out = tmp_path / "huge.xlsx"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "xl/workbook.xml":
                content = content.decode().replace(">'自评表'!$C$3<", ">'自评表'!$A$1:$XFD$1048576<").encode()
            dst.writestr(info, content)
    assert main(["score", str(out)]) == 1
    said = capsys.readouterr().out
    assert "注意：本表有" in said and "名称“项目名称”" in said and "总分" in said


# ============================================================================ the fast deflate opens everywhere

@pytest.fixture(scope="module")
def bulk_like(template, tmp_path_factory):
    """A filled workbook as bulk writes it: the worksheet and the identity properties deflated per fill."""
    rec = gen.project(7, "national")
    data, result = template.fill_bytes(rec, identity={"项目编码": "P-001", "单位名称": "某单位＆<测试>"})
    path = tmp_path_factory.mktemp("readers") / "filled.xlsx"
    path.write_bytes(data)
    total_ref = template.layout.names["总分"].split("!")[-1].replace("$", "")
    return path, result, total_ref


def test_the_filled_zip_is_plain_deflate(bulk_like):
    path, _result, _ref = bulk_like
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_DEFLATED}
        assert read_custom_properties(zf)["单位名称"] == "某单位＆<测试>"


def test_openpyxl_and_calamine_read_the_cached_values(bulk_like, template):
    import openpyxl
    from python_calamine import CalamineWorkbook
    path, result, ref = bulk_like
    ws = openpyxl.load_workbook(path, data_only=True)[template.layout.sheet]
    assert ws[ref].value == pytest.approx(result.total)
    assert openpyxl.load_workbook(path)[template.layout.sheet][ref].value.startswith("=")
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(template.layout.sheet).to_python()
    row, col = ref_rc(ref)
    assert rows[row - 1][col - 1] == pytest.approx(result.total)


def ref_rc(ref: str) -> tuple[int, int]:
    from xlsx_engine.ooxml.cells import split_ref
    return split_ref(ref)


@pytest.mark.libreoffice
def test_libreoffice_opens_it_and_recalculates_the_same_total(bulk_like, template, soffice, tmp_path):
    from xlsx_engine.ooxml.recalc import read_values, recalc_files
    path, result, ref = bulk_like
    out = recalc_files([path], tmp_path, strip_cached=True)[path]
    assert read_values(out)[template.layout.sheet][ref] == pytest.approx(result.total)


def test_gnumeric_opens_it(bulk_like, template, tmp_path):
    import csv
    import shutil
    import subprocess
    ssconvert = shutil.which("ssconvert")
    assert ssconvert, "Gnumeric (ssconvert) 未安装：请运行 ./run-tests.sh，它会安装 gnumeric"
    path, result, ref = bulk_like
    proc = subprocess.run([ssconvert, "-S", str(path), str(tmp_path / "sheet%n.csv")], capture_output=True,
                          text=True, timeout=120)
    out = tmp_path / "sheet0.csv"
    assert proc.returncode == 0 and out.exists(), proc.stderr
    rows = list(csv.reader(out.read_text(encoding="utf-8").splitlines()))
    row, col = ref_rc(ref)
    assert float(rows[row - 1][col - 1]) == pytest.approx(result.total, abs=0.005)


def test_a_filled_copy_can_be_filled_again(template, tmp_path):
    """A filled copy is its own template (湖南 --write-back, a unit's edits): its hidden rows are not hidden twice
    (a duplicate attribute would make the file unreadable) and the new record decides what is hidden."""
    first = tmp_path / "a.xlsx"
    template.fill_to(gen.project(3, "national", rows=4), first)
    second = tmp_path / "b.xlsx"
    again = open_template(first)
    again.fill_to(gen.project(4, "national", rows=12), second)
    sheet = zipfile.ZipFile(second).read("xl/worksheets/sheet1.xml").decode()
    assert not re.search(r'<row [^>]*hidden="1"[^>]*hidden="1"', sheet)
    hidden = {int(r) for r in re.findall(r'<row r="(\d+)" hidden="1"', sheet)}
    rows = again.layout.indicator_rows
    assert not hidden & set(rows[:12]) and set(rows[12:]) <= hidden
    assert read_project(second).evaluate().total is not None
