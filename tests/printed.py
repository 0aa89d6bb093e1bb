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
from openpyxl.utils import get_column_letter

_SPACE = re.compile(r"\s+")
_WORD = re.compile(r'<page |<word xMin="([-\d.]+)" yMin="([-\d.]+)" xMax="([-\d.]+)" yMax="([-\d.]+)">(.*?)</word>')
_SAME_LINE = 4.0          #: points: words whose tops are this close stand on one line (fonts' boxes differ a bit)


def printed_words(pdf: Path) -> list[tuple[int, float, float, float, float, str]]:
    """(page, top, left, right, bottom, text) of every word of the PDF, in drawing order."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    words, page = [], 0
    for m in _WORD.finditer(out):
        if m.group(1) is None:
            page += 1
            continue
        left, top, right, bottom = map(float, m.group(1, 2, 3, 4))
        words.append((page, top, left, right, bottom, html.unescape(m.group(5))))
    return words


def _continues(last: tuple, first: tuple, word: tuple) -> bool:
    """Whether ``word`` can be the next word of a cell's text whose last word so far is ``last`` and first is
    ``first``: on the same page, either on the same line just right of it, or on the next line (within two lines'
    height) starting no further right than the first line ends — not a word of a neighbouring cell or row."""
    page, top, left, _right, _bottom, _text = word
    if page != last[0]:
        return False
    if abs(top - last[1]) <= _SAME_LINE:
        return last[3] - 1 <= left <= last[3] + 12
    line = max(last[4] - last[1], 6.0)
    return _SAME_LINE < top - last[1] <= 2.2 * line and first[2] - 40 <= left <= max(first[3], last[3])


def lines_of_text(words: list[tuple], text: str, window: int = 400) -> list[int]:
    """The lines ``text`` was printed on, at each place it was printed (drawing order); [] when not printed."""
    want = _SPACE.sub("", text)
    out = []
    for i, first in enumerate(words):
        word = first[5]
        if not word or not want.startswith(word):
            continue
        got, tops, last = word, [first[1]], first
        for nxt in words[i + 1:i + window]:
            if got == want:
                break
            if nxt[5] and want.startswith(nxt[5], len(got)) and _continues(last, first, nxt):
                got += nxt[5]
                tops.append(nxt[1])
                last = nxt
        if got == want:
            out.append(1 + sum(1 for a, b in zip(tops, tops[1:]) if b - a > _SAME_LINE))
    return out


#: em: the line of LibreOffice's fallback CJK font (Noto CJK, 1.448 em), and what the last line's glyphs take of it
LINE, LAST_LINE = 1.448, 1.2


def rows_too_short(book: Path, pdf: Path) -> tuple[int, list[tuple]]:
    """(cells checked, the cells whose rows are shorter than the lines LibreOffice broke their text into need:
    :data:`LINE` × the font size a line, the last :data:`LAST_LINE`; measured: four lines of 9 pt in 46.5 pt
    lose half the last line, one line of 11 pt in 15 pt prints whole). A merged cell has the height of all its
    rows; a row without a height of its own (sized to its text when printed) is not checked.

    A text printed in several cells (a unit's name on several sheets) is printed at several places, on as many
    lines as each cell's width allows: the places, fewest lines first, are paired with the cells, widest first and,
    of equal widths, smallest font first (spread evenly when a text is printed more often than it is in cells:
    repeated header rows)."""
    words = printed_words(pdf)
    cells: dict[str, list[tuple[float, tuple]]] = {}
    for ws in load_workbook(book):
        spans = {(rng.min_row, rng.min_col): (rng.max_row, rng.max_col) for rng in ws.merged_cells.ranges}
        for row in ws.iter_rows():
            for cell in row:
                if not isinstance(cell.value, str) or cell.value.startswith("=") or not cell.value.strip():
                    continue
                last_row, last_col = spans.get((cell.row, cell.column), (cell.row, cell.column))
                heights = [ws.row_dimensions[r].height for r in range(cell.row, last_row + 1)]
                if None in heights:          # a row without a height of its own: sized to its text when printed
                    continue
                width = sum(ws.column_dimensions[get_column_letter(c)].width or 8.43
                            for c in range(cell.column, last_col + 1))
                cells.setdefault(cell.value, []).append(
                    (width, (ws.title, cell.coordinate, sum(heights), cell.font.size or 11)))
    checked, short = 0, []
    for text, found in cells.items():
        printed = sorted(lines_of_text(words, text))
        if not printed:
            continue
        found.sort(key=lambda f: (-f[0], f[1][3]))      # of equal widths, the smaller text takes fewer lines
        for k, (_width, (title, coordinate, height, size)) in enumerate(found):
            lines = printed[round(k * (len(printed) - 1) / (len(found) - 1)) if len(found) > 1 else 0]
            checked += 1
            if height < ((lines - 1) * LINE + LAST_LINE) * size:
                short.append((title, coordinate, lines, height, text[-20:]))
    return checked, short
