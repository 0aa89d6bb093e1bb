"""One reading of a returned workbook (issue #12 item 5): ``check``, ``collect``, ``score`` and ``narrative`` read a
file through the same parse and the same documented places, so an internally inconsistent file gives every
command the same numbers, and the inconsistency is a finding."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from lxml import etree
from test_tamper import read_members, write_members

from xlsx_engine.bureau.collect import read_returned
from xlsx_engine.cli.main import main
from xlsx_engine.forms.project.record import record_from_data
from xlsx_engine.forms.registry import open_template
from xlsx_engine.integrity.checks import check_file
from xlsx_engine.integrity.reading import read_form_file
from xlsx_engine.narrative.engine import from_workbook

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "2023-城乡医疗救助补助资金.yaml"
M = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
WB, SHEET, STYLES = "xl/workbook.xml", "xl/worksheets/sheet1.xml", "xl/styles.xml"


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> Path:
    tpl = open_template(ROOT / "templates" / "xmzc-national.xlsx")
    rec = record_from_data(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")), tpl.profile)
    path = tmp_path_factory.mktemp("one") / "clean.xlsx"
    tpl.fill_to(rec, path)
    return path


def _rewrite(src: Path, dst: Path, edit) -> Path:
    members = read_members(src)
    edit(members)
    return write_members(dst, members)


def _text(members: dict, name: str, fn) -> None:
    members[name] = fn(members[name].decode("utf-8")).encode("utf-8")


def redirected_name(m: dict) -> None:
    """实际完成值 points at the 偏差原因 column: the documented reading stays at the template's cells."""
    _text(m, WB, lambda t: t.replace("'自评表'!$G$18:$G$47", "'自评表'!$L$18:$L$47"))


def amount_typed_as_text(m: dict) -> None:
    """全年执行数 stored as the text " 320.19 " (as a unit's paste can leave it)."""
    _text(m, SHEET, lambda t: re.sub(r'<c r="G7" s="(\d+)"><v>([^<]*)</v></c>',
                                     r'<c r="G7" s="\1" t="inlineStr"><is><t> \2 </t></is></c>', t))


def amount_with_a_date_format(m: dict) -> None:
    """A date number format on the 全年执行数 cell: readers that convert by format see a date, not 320.19."""
    root = etree.fromstring(m[STYLES])
    xfs = root.find(f"{{{M}}}cellXfs")
    etree.SubElement(xfs, f"{{{M}}}xf", numFmtId="14", fontId="0", fillId="0", borderId="0", applyNumberFormat="1")
    xfs.set("count", str(len(xfs)))
    m[STYLES] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    _text(m, SHEET, lambda t: re.sub(r'<c r="G7" s="\d+">', f'<c r="G7" s="{len(xfs) - 1}">', t))


def _score_json(path: Path, capsys) -> dict:
    capsys.readouterr()
    main(["score", str(path), "--json"])
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("tamper", [redirected_name, amount_typed_as_text, amount_with_a_date_format])
def test_every_command_reads_the_same_numbers(filled, tmp_path, capsys, tamper):
    path = _rewrite(filled, tmp_path / f"{tamper.__name__}.xlsx", tamper)
    checked = check_file(path)
    collected = read_returned(str(path))
    scored = {r["名称"]: r["程序计算"] for r in _score_json(path, capsys)["结果"]}
    told = from_workbook(path).result
    reading = read_form_file(path)
    totals = {checked.summary["总分"], collected.total, scored["总分"], told.total, reading.evaluate().total}
    assert len(totals) == 1, totals
    rates = {checked.summary["执行率"], collected.rate, scored["执行率"], told.fund.rate}
    assert len(rates) == 1, rates
    spent = {collected.spent, scored["全年执行数"], told.fund.spent}
    assert len(spent) == 1, spent
    # the inconsistency is a finding of the one reading, seen by every command
    code = {redirected_name: "name_moved", amount_typed_as_text: "number_as_text",
            amount_with_a_date_format: "number_shown_as_date"}[tamper]
    for findings in (checked.findings, collected.findings, reading.report.findings):
        assert code in {f.code for f in findings}
    if tamper is redirected_name:       # the template's cells are read, not where the name was sent
        assert checked.summary["总分"] == 94.71 and reading.errors


@pytest.mark.parametrize("spelling", ["3_500", "３５００", " 3500 ", "1E999", "NaN"])
def test_odd_number_spellings_are_findings(filled, tmp_path, spelling):
    def edit(m):
        _text(m, SHEET, lambda t: re.sub(r'<c r="G7" s="(\d+)"><v>[^<]*</v></c>',
                                         rf'<c r="G7" s="\1" t="inlineStr"><is><t>{spelling}</t></is></c>', t))
    report = check_file(_rewrite(filled, tmp_path / "odd.xlsx", edit))
    [f] = [f for f in report.findings if f.code == "number_as_text"]
    assert f.place == "自评表!G7" and spelling.strip() in f.message


def test_parts_differing_only_in_case_are_a_finding(filled, tmp_path):
    """Two shared-strings parts whose names differ only in case: every command reads the first one, and says so."""
    def edit(m):
        sst = (f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{M}" count="1" uniqueCount="1">'
               '<si><t>{}</t></si></sst>')
        m["xl/sharedStrings.xml"] = sst.format("第一个").encode("utf-8")
        m["xl/SharedStrings.xml"] = sst.format("第二个").encode("utf-8")
    path = _rewrite(filled, tmp_path / "dup.xlsx", edit)
    for findings in (check_file(path).findings, read_returned(str(path)).findings, read_form_file(path).report.findings):
        [f] = [f for f in findings if f.code == "duplicate_part"]
        assert f.place == "xl/SharedStrings.xml" and "本程序读“xl/sharedStrings.xml”" in f.message
