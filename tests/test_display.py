"""Display and link tampering of returned forms (issue 12 item 6): one test per class, and a clean control."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from xlsx_engine.bureau.bulk import bulk
from xlsx_engine.bureau.collect import read_returned
from xlsx_engine.bureau.display import CELL_CODES
from xlsx_engine.bureau.master import write_master
from xlsx_engine.forms.project.layout import project_layout
from xlsx_engine.forms.registry import read_project
from xlsx_engine.ooxml.cells import parse_name_ref

SHEET = "xl/worksheets/sheet1.xml"
DISPLAY_CODES = CELL_CODES | {"display_conditional", "password_removed", "external_formula", "external_link",
                              "sheet_duplicate"}


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("display")
    rows = {"单位": [["甲单位", "市卫健委", "张三", "1"]],
            "项目": [["P1", "甲单位", "项目一", "national", 2023, None, None, None]],
            "资金": [["P1", "当年财政拨款", 100, 100, 96]],
            "指标": [["P1", "产出指标", "数量指标", "培训人数", "≥", 100, "人", 50, 100, None, None, None],
                     ["P1", "效益指标", "社会效益指标", "知晓率", "≥", 90, "%", 30, 95, None, None, None],
                     ["P1", "满意度指标", "服务对象满意度指标", "满意度", "≥", 90, "%", 10, 92, None, None, None]],
            "目标": [["P1", "完成年度任务", "已完成"]]}
    write_master(base / "总表.xlsx", rows)
    report = bulk(base / "总表.xlsx", base / "sent")
    return base / "sent" / report.items[0].relpath


def tamper(src: Path, dst: Path, edit) -> Path:
    with zipfile.ZipFile(src) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    edit(members)
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in members.items():
            out.writestr(name, data)
    return dst


def _sub(members, part, pattern, repl, count=1):
    text, n = re.subn(pattern, repl, members[part].decode(), count=count)
    assert n, pattern
    members[part] = text.encode()


def _restyle(members, ref: str, *, numfmt: str | None = None, white: bool = False) -> None:
    """Give one cell a new style: a number format code and/or a white font (as Format Cells would)."""
    styles = members["xl/styles.xml"].decode()
    xfs = re.search(r"<cellXfs count=\"(\d+)\">(.*?)</cellXfs>", styles, re.S)
    n = int(xfs.group(1))
    cell = re.search(rf'<c r="{ref}" s="(\d+)"', members[SHEET].decode())
    xf = re.findall(r"<xf [^>]*?(?:/>|>.*?</xf>)", xfs.group(2), re.S)[int(cell.group(1))]
    if numfmt is not None:
        styles = re.sub(r"<numFmts count=\"(\d+)\">", lambda m: f'<numFmts count="{int(m.group(1)) + 1}">'
                        f'<numFmt numFmtId="200" formatCode="{numfmt}"/>', styles, count=1)
        xf = re.sub(r'numFmtId="\d+"', 'numFmtId="200"', xf)
    if white:
        fonts = re.search(r"<fonts count=\"(\d+)\">", styles)
        k = int(fonts.group(1))
        styles = styles.replace("</fonts>", '<font><color rgb="FFFFFFFF"/><sz val="10"/></font></fonts>', 1)
        styles = styles.replace(fonts.group(0), f'<fonts count="{k + 1}">', 1)
        xf = re.sub(r'fontId="\d+"', f'fontId="{k}"', xf)
    styles = styles.replace(xfs.group(0), f'<cellXfs count="{n + 1}">' + xfs.group(2) + xf + "</cellXfs>", 1)
    members["xl/styles.xml"] = styles.encode()
    _sub(members, SHEET, rf'<c r="{ref}" s="\d+"', f'<c r="{ref}" s="{n}"')


LAYOUT = project_layout("national")
TOTAL = parse_name_ref(LAYOUT.names["总分"]).a1.replace("$", "")          #: the 总分 cell
VERDICT = parse_name_ref(LAYOUT.names["校验结论"]).a1.replace("$", "")    #: the 校验结论 cell

CASES = {
    "display_hidden": lambda m: _sub(m, SHEET, r'<row r="19"', '<row r="19" hidden="1"'),
    "display_hidden_col": lambda m: _sub(m, SHEET, r'<col width="8" customWidth="1" min="11" max="11"/>',
                                         '<col width="8" customWidth="1" min="11" max="11" hidden="1"/>'),
    "display_format": lambda m: _restyle(m, TOTAL, numfmt="&quot;100&quot;"),
    "display_font": lambda m: _restyle(m, VERDICT, white=True),
    # the styles part as sent, the 总分 cell given the title's style (General): another look from the same styles
    "display_format_reused": lambda m: _sub(m, SHEET, rf'<c r="{TOTAL}" s="\d+"', lambda g: g.group(0).split(" s=")[0]
                                            + " s=" + re.search(r'<c r="A1" s=("\d+")', m[SHEET].decode()).group(1)),
    "display_conditional": lambda m: _sub(m, SHEET, r"<dataValidations",
                                          f'<conditionalFormatting sqref="{VERDICT}"><cfRule type="expression" '
                                          'dxfId="0" priority="1"><formula>TRUE</formula></cfRule>'
                                          "</conditionalFormatting><dataValidations"),
    "validation_loosened": lambda m: _sub(m, SHEET, r'(sqref="I18:I47"[^>]*)type="decimal"', r'\1type="none"'),
    "password_removed": lambda m: _sub(m, SHEET, r' password="[0-9A-F]+"', ""),
    "external_formula": lambda m: _sub(m, SHEET, r'<c r="G18" s="(\d+)"><v>100</v></c>',
                                       r'<c r="G18" s="\1"><f>WEBSERVICE("http://10.0.0.1/x")</f><v>100</v></c>'),
    "external_formula_dde": lambda m: _sub(m, SHEET, r'<c r="G19" s="(\d+)"><v>95</v></c>',
                                           "<c r=\"G19\" s=\"\\1\"><f>cmd|' /C calc'!A0</f><v>95</v></c>"),
    "external_link": lambda m: m.__setitem__("xl/externalLinks/externalLink1.xml",
                                             b'<externalLink xmlns="http://schemas.openxmlformats.org/'
                                             b'spreadsheetml/2006/main"/>'),
    "sheet_duplicate": lambda m: _sub(m, "xl/workbook.xml", r"(<sheet [^>]*name=\"自评表\"[^>]*r:id=\"(rId\d+)\"/>)",
                                      lambda g: g.group(1) + g.group(1).replace('name="自评表"', 'name="自评表　"')
                                      .replace('sheetId="1"', 'sheetId="9"')),
}


def test_clean_form_has_no_display_findings(filled):
    assert read_project(filled).evaluate().total > 90
    codes = {f.code for f in read_returned(str(filled)).findings}
    assert not codes & DISPLAY_CODES


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_display_or_link_tampering_is_a_finding(filled, tmp_path, case):
    path = tamper(filled, tmp_path / f"{case}.xlsx", CASES[case])
    code = case.replace("_col", "").replace("_dde", "").replace("_reused", "")
    found = [f for f in read_returned(str(path)).findings if f.code == code]
    assert found, case
    if code in ("display_format", "display_font"):
        assert found[0].place.endswith(f"!{TOTAL}" if code == "display_format" else f"!{VERDICT}")


def test_collect_and_check_read_the_same_numbers(filled, tmp_path):
    """A defined name redirected to other cells: collect uses the checker's reading (one parse), so both give
    the same 总分 and the redirect is a finding."""
    from xlsx_engine.integrity.checks import check_file

    def redirect(m):
        _sub(m, SHEET, r'<c r="L18" s="(\d+)"/>', r'<c r="L18" s="\1"><v>999</v></c>')
        _sub(m, "xl/workbook.xml", r"(<definedName name=\"实际完成值\"[^>]*>)[^<]*", r"\1'自评表'!$L$18:$L$47")
    path = tamper(filled, tmp_path / "redirected.xlsx", redirect)
    got = read_returned(str(path))
    assert got.total == check_file(path).summary["总分"]
    assert any(f.code == "name_moved" for f in got.findings)
