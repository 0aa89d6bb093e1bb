"""Round trip: bulk from the example master → units fill their open cells → collect → summary equals the scorer."""

from __future__ import annotations

import random
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from xlsx_engine.bureau.bulk import bulk
from xlsx_engine.bureau.collect import collect, write_summary
from xlsx_engine.cli.main import main
from xlsx_engine.forms.registry import read_project
from xlsx_engine.ooxml.recalc import recalc_files
from xlsx_engine.ooxml.safezip import parse_xml

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "总表示例.xlsx"
NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def unlocked_styles(zf: zipfile.ZipFile) -> set[int]:
    """Indices of cellXfs whose protection leaves the cell unlocked."""
    styles = parse_xml(zf.read("xl/styles.xml"))
    out = set()
    for i, xf in enumerate(styles.find(f"{NS}cellXfs")):
        prot = xf.find(f"{NS}protection")
        if prot is not None and prot.get("locked") in ("0", "false"):
            out.add(i)
    return out


def type_into(path: Path, values: dict[str, object]) -> None:
    """Edit cells as a person would in Excel: only unlocked cells can be changed (asserted)."""
    zf = zipfile.ZipFile(path)
    members = {n: zf.read(n) for n in zf.namelist()}
    open_styles = unlocked_styles(zf)
    sheet = members["xl/worksheets/sheet1.xml"].decode()
    for ref, value in values.items():
        m = re.search(rf'<c r="{ref}"( s="(\d+)")?[^>]*?(/>|>.*?</c>)', sheet)
        assert m and int(m.group(2)) in open_styles, f"{ref} is locked: a person could not type there"
        attrs = f'r="{ref}" s="{m.group(2)}"'
        if isinstance(value, (int, float)):
            new = f"<c {attrs}><v>{value}</v></c>"
        else:
            new = f'<c {attrs} t="inlineStr"><is><t>{value}</t></is></c>'
        sheet = sheet[:m.start()] + new + sheet[m.end():]
    members["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in members.items():
            out.writestr(name, data)


@pytest.fixture(scope="module")
def returned(soffice, tmp_path_factory):
    """Bulk the example master, let units fill the distributed (empty) tables, save them through LibreOffice."""
    base = tmp_path_factory.mktemp("round")
    sent = base / "sent"
    report = bulk(EXAMPLE, sent, by="unit", jobs=2)
    assert not report.errors
    rng = random.Random(7)
    edited = []
    for item in report.items:
        path = sent / item.relpath
        if item.filled or len(edited) >= 24:
            continue
        rb = read_project(path)
        layout = rb.layout
        col = layout.form.col
        typed = {}
        for row, ind in zip(layout.indicator_rows, rb.record.indicators):
            if ind.name is None:
                continue
            if ind.op == "定性":
                typed[f"{col['actual']}{row}"] = "已完成"
                typed[f"{col['band']}{row}"] = "达成"
            elif isinstance(ind.target, float):
                typed[f"{col['actual']}{row}"] = round(ind.target * rng.choice([1.0, 0.9, 1.1]), 2)
        budget_row = layout.fund_rows[0]
        typed[f"G{budget_row}"] = round((rb.record.funds[0].budget or 0) * 0.93, 2)
        type_into(path, typed)
        edited.append(path)
    returned = recalc_files(edited, base / "returned", strip_cached=True)   # "Excel" recalculates and saves
    folder = base / "returned"
    # an altered return and a broken one must not stop the collection
    tampered = folder / "tampered.xlsx"
    tampered.write_bytes(returned[edited[0]].read_bytes())
    type_into_total(tampered)
    (folder / "broken.xlsx").write_bytes(b"PK\x03\x04 this is not a zip")
    return folder, {returned[p]: p for p in edited}


def type_into_total(path: Path) -> None:
    """Someone pastes 100 over the 总分 formula (a locked cell: done after removing protection)."""
    zf = zipfile.ZipFile(path)
    members = {n: zf.read(n) for n in zf.namelist()}
    sheet = members["xl/worksheets/sheet1.xml"].decode()
    ref = read_project(path).workbook.names["总分"].cells[0]
    sheet = re.sub(rf'<c r="{ref}"([^>]*)>.*?</c>', rf'<c r="{ref}"\1><v>100</v></c>', sheet, count=1)
    members["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in members.items():
            out.writestr(name, data)


pytestmark = pytest.mark.libreoffice


def test_summary_figures_equal_the_scorer(returned, tmp_path):
    folder, origin = returned
    items = collect(folder, jobs=2)
    by_path = {Path(i.path).name: i for i in items}
    assert by_path["broken.xlsx"].error and "损坏" in by_path["broken.xlsx"].error
    checked = 0
    for path in origin:
        item = by_path[path.name]
        rb = read_project(path)
        result = rb.evaluate()
        assert (item.budget, item.spent, item.total, item.grade) == (
            result.fund.budget, result.fund.spent, result.total, result.grade)
        assert abs(rb.cached["总分"] - result.total) < 0.005          # LibreOffice agrees with Python
        assert item.code and item.unit                                 # identified from the document properties
        checked += 1
    assert checked >= 20
    tampered = by_path["tampered.xlsx"]
    assert any(f.severity == "错误" and f.code == "formula_replaced" and "总分" in f.message
               and f.place.endswith("!" + read_project(folder / "tampered.xlsx").workbook.names["总分"].a1)
               for f in tampered.findings)
    out = tmp_path / "汇总.xlsx"
    write_summary(items, out)
    wb = load_workbook(out)
    ws = wb["汇总"]
    rows = {ws.cell(r, 14).value: r for r in range(3, ws.max_row + 1) if ws.cell(r, 14).value}
    for path in origin:
        r = rows[str(path)]
        assert ws.cell(r, 9).value == by_path[path.name].total and ws.cell(r, 10).value == by_path[path.name].grade
    assert wb["无法读取"].cell(2, 1).value.endswith("broken.xlsx")
    assert wb["问题清单"].max_row > 1
    assert len(wb["图表"]._charts) == 3


def test_unit_text_never_becomes_a_formula(tmp_path):
    from xlsx_engine.bureau.collect import Collected
    from xlsx_engine.kernel.findings import Finding
    evil = Collected(path="x.xlsx", unit="=HYPERLINK(\"http://evil\",\"点我\")", code="P1",
                     project="=1+1", profile="national", budget=1.0, spent=1.0, rate=1.0, total=90.0, grade="优",
                     findings=[Finding("警告", "row_check", "A1", "=cmd|' /C calc'!A0")])
    write_summary([evil], tmp_path / "s.xlsx")
    sheet = zipfile.ZipFile(tmp_path / "s.xlsx").read("xl/worksheets/sheet1.xml").decode()
    assert "<f>HYPERLINK" not in sheet and "<f>1+1" not in sheet
    findings = zipfile.ZipFile(tmp_path / "s.xlsx").read("xl/worksheets/sheet3.xml").decode()
    assert "<f>cmd" not in findings


def test_cli_collect(returned, tmp_path, capsys):
    folder, _ = returned
    out = tmp_path / "汇总.xlsx"
    assert main(["collect", str(folder), "-o", str(out)]) == 0
    text = capsys.readouterr()
    assert "无法读取 1 个" in text.out and "broken.xlsx" in text.err
    assert main(["collect", str(folder), "-o", str(out)]) == 2          # never overwrite without --force
    assert main(["collect", str(tmp_path / "nope"), "-o", str(tmp_path / "y.xlsx")]) == 2


def test_collection_report_figures_come_from_the_collection(returned, tmp_path):
    import docx as python_docx

    from xlsx_engine.narrative.collection import collection_context
    folder, _ = returned
    out = tmp_path / "汇总报告.docx"
    assert main(["collect", str(folder), "-o", str(tmp_path / "汇总.xlsx"), "--report", str(out)]) == 0
    items = collect(folder)
    ctx = collection_context(items)
    doc = python_docx.Document(out)
    text = "\n".join(p.text for p in doc.paragraphs)
    assert f"本次共回收自评表{ctx['n']['files']}个" in text and f"无法读取{ctx['n']['unreadable']}个" in text
    assert ctx["n"]["unreadable"] == 1 and "broken.xlsx" in text
    good = [i for i in items if not i.error]
    assert ctx["n"]["projects"] == len(good) and ctx["totals"]["budget"] == round(sum(i.budget for i in good), 2)
    rows = doc.tables[0].rows
    assert len(rows) == 1 + len({i.unit for i in good})                  # header + one row per unit
    assert "公式被替换" in text                                          # the tampered 总分 is among the problems
    assert main(["collect", str(folder), "-o", str(tmp_path / "b.xlsx"), "--report", str(tmp_path / "x.pdf")]) == 2
