"""tests/printed.py counted a text's lines as the fewest over every place it was printed, so a row too
short for its text is not caught when the same text is printed elsewhere on fewer lines (a unit's name in the
汇总表's 汇总 and 按单位 sheets, a project name in 问题清单 …)."""

from __future__ import annotations

import pytest
from openpyxl import Workbook
from openpyxl.styles import Alignment

from printed import rows_too_short
from test_collect import _pdf

TEXT = "某市医疗保障局城乡居民基本医疗保险参保缴费补助资金绩效自评"


@pytest.mark.libreoffice
def test_a_row_too_short_is_caught_though_the_same_text_is_printed_whole_elsewhere(tmp_path, soffice):
    wb = Workbook()
    wide = wb.active
    wide.title = "宽"
    narrow = wb.create_sheet("窄")
    for ws, width in ((wide, 80), (narrow, 10)):
        ws.column_dimensions["A"].width = width
        ws["A1"] = TEXT
        ws["A1"].alignment = Alignment(wrap_text=True, vertical="center")
        ws.row_dimensions[1].height = 15
    book = tmp_path / "表.xlsx"
    wb.save(book)
    _pdf(book, soffice)
    checked, short = rows_too_short(book, book.with_suffix(".pdf"))
    assert checked == 2
    assert [(s[0], s[1]) for s in short] == [("窄", "A1")], short
