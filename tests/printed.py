"""What LibreOffice printed of a workbook's cells: the lines each text was broken into (tests' helper).

LibreOffice keeps a cell's text in the PDF even where the row is too short to show it (the lines past the row's
height are clipped, not left out), so whether a text is in the PDF says nothing about whether it shows. What
does: how many lines LibreOffice broke it into, against the height of the cell's row. The lines are counted from
the words of the PDF (``pdftotext -bbox``) with their heights on the page: a cell's words are found in drawing
order — where LibreOffice draws a row's cells line by line, interleaved with the other cells' words — and the
distinct heights they stand at are its lines."""

from __future__ import annotations

import html
import re
import subprocess
from pathlib import Path

from openpyxl import load_workbook

_SPACE = re.compile(r"\s+")
_WORD = re.compile(r'<page |<word xMin="[-\d.]+" yMin="([-\d.]+)" xMax="[-\d.]+" yMax="[-\d.]+">(.*?)</word>')
_SAME_LINE = 4.0          #: points: words whose tops are this close stand on one line (fonts' boxes differ a bit)


def printed_words(pdf: Path) -> list[tuple[int, float, str]]:
    """(page, top, text) of every word of the PDF, in drawing order."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    words, page = [], 0
    for m in _WORD.finditer(out):
        if m.group(1) is None:
            page += 1
            continue
        words.append((page, float(m.group(1)), html.unescape(m.group(2))))
    return words


def lines_of_text(words: list[tuple[int, float, str]], text: str, window: int = 400) -> int | None:
    """How many lines ``text`` was printed on (the fewest over the places it was printed); None: not printed."""
    want = _SPACE.sub("", text)
    best = None
    for i, (page, top, word) in enumerate(words):
        if not word or not want.startswith(word):
            continue
        got, tops = word, [top]
        for page2, top2, word2 in words[i + 1:i + window]:
            if got == want:
                break
            if page2 == page and word2 and top2 >= tops[-1] - _SAME_LINE and want.startswith(word2, len(got)):
                got += word2
                tops.append(top2)
        if got != want:
            continue
        lines = 1 + sum(1 for a, b in zip(tops, tops[1:]) if b - a > _SAME_LINE)
        best = lines if best is None else min(best, lines)
    return best


#: em: the line of LibreOffice's fallback CJK font (Noto CJK, 1.448 em), and what the last line's glyphs take of it
LINE, LAST_LINE = 1.448, 1.2


def rows_too_short(book: Path, pdf: Path) -> tuple[int, list[tuple]]:
    """(cells checked, the cells whose rows are shorter than the lines LibreOffice broke their text into need:
    :data:`LINE` × the font size a line, the last :data:`LAST_LINE`; measured: four lines of 9 pt in 46.5 pt
    lose half the last line, one line of 11 pt in 15 pt prints whole). A merged cell has the height of all its
    rows; a row without a height of its own (sized to its text when printed) is not checked."""
    words = printed_words(pdf)
    checked, short = 0, []
    for ws in load_workbook(book):
        spans = {(rng.min_row, rng.min_col): rng.max_row for rng in ws.merged_cells.ranges}
        for row in ws.iter_rows():
            for cell in row:
                if not isinstance(cell.value, str) or cell.value.startswith("=") or not cell.value.strip():
                    continue
                last = spans.get((cell.row, cell.column), cell.row)
                heights = [ws.row_dimensions[r].height for r in range(cell.row, last + 1)]
                if None in heights:          # a row without a height of its own: sized to its text when printed
                    continue
                lines = lines_of_text(words, cell.value)
                if lines is None:
                    continue
                checked += 1
                size = cell.font.size or 11
                if sum(heights) < ((lines - 1) * LINE + LAST_LINE) * size:
                    short.append((ws.title, cell.coordinate, lines, sum(heights), cell.value[-20:]))
    return checked, short
