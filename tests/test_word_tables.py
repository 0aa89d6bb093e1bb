"""A Word 自评报告 from an untrusted folder whose zip and XML are sound but whose table markup
python-docx cannot walk. read_docx guards only docx.Document(); the walk of document.tables (row.cells: gridSpan,
vMerge) runs outside the guard and outside the zip's bounds."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from test_untrusted import _docx_bytes
from xlsx_engine.integrity.checks import check_file

ROOT = Path(__file__).resolve().parent.parent


def _tc(props: str = "", text: str = "x") -> str:
    return f"<w:tc><w:tcPr>{props}</w:tcPr><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:tc>"


def _with_table(path: Path, table: str) -> None:
    with zipfile.ZipFile(io.BytesIO(_docx_bytes())) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    parts["word/document.xml"] = parts["word/document.xml"].replace(b"<w:body>", b"<w:body>" + table.encode(), 1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, b in parts.items():
            zf.writestr(n, b)


@pytest.mark.parametrize("table", [
    "<w:tbl><w:tr>" + _tc('<w:gridSpan w:val="abc"/>') + "</w:tr></w:tbl>",              # int("abc")
    "<w:tbl><w:tr>" + _tc("<w:vMerge/>") + "</w:tr></w:tbl>",                            # no row above
    "<w:tbl><w:tr>" + _tc() + "</w:tr><w:tr>" + _tc() + _tc("<w:vMerge/>") + "</w:tr></w:tbl>",   # no tc above
], ids=["gridSpan-text", "vMerge-first-row", "vMerge-no-cell-above"])
def test_a_word_report_with_table_markup_python_docx_cannot_walk_is_not_an_internal_error(tmp_path, table):
    path = tmp_path / "自评报告.docx"
    _with_table(path, table)
    report = check_file(path)
    messages = [f.message for f in report.findings]
    assert not any("内部错误" in m for m in messages), messages


def test_a_word_report_s_gridspan_does_not_expand_without_bound(tmp_path):
    """A 5 KB .docx whose one cell says gridSpan 100 000 000: row.cells builds a tuple of that many cells before
    read_docx's MAX_CELLS check runs (about 0.8 GB here; 2 000 000 000 takes 16 GB)."""
    path = tmp_path / "自评报告.docx"
    _with_table(path, "<w:tbl><w:tr>" + _tc('<w:gridSpan w:val="100000000"/>') + "</w:tr></w:tbl>")
    assert path.stat().st_size < 50_000
    # the child's own peak (VmHWM: a new address space at exec), not ru_maxrss, which Linux carries over from the
    # parent that forked it (pytest, grown by the suite's large-file tests)
    code = ("import sys; from xlsx_engine.integrity.checks import check_file; check_file(sys.argv[1]); "
            "print(next(int(x.split()[1]) for x in open('/proc/self/status') if x.startswith('VmHWM')) // 1024)")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=300,
                         cwd=ROOT, check=True).stdout
    assert int(out.split()[-1]) < 400, f"{out.split()[-1]} MB"
