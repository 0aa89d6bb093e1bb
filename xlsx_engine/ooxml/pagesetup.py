"""The printed page of a form: A4 landscape margins and the fixed print scale that keeps given rows on one page.

Shared by the builder (the template's scale) and the filler (a filled copy whose rows grew for their text).
"""

from __future__ import annotations

MARGIN_SIDE, MARGIN_TOP, MARGIN_BOTTOM = 0.4, 0.3, 0.45      #: inches (page numbers in the bottom margin)
PRINT_WIDTH = (297 / 25.4 - 2 * MARGIN_SIDE) * 72               #: points across an A4 landscape page
PRINT_HEIGHT = (210 / 25.4 - MARGIN_TOP - MARGIN_BOTTOM) * 72   #: points down it
DEFAULT_ROW_HEIGHT = 15


def page_scale(widths: list[float], heights: list[float] = ()) -> int:
    """The print scale (%) at which columns of these widths fit across an A4 landscape page, and rows of
    these heights (points) down it.

    A fixed scale, not "fit to page": Excel ignores manual page breaks under "fit to".
    A column of width w (characters of the default font, Calibri 11) is 7·w + 5 pixels wide; 2% is
    left for engines whose fonts measure slightly wider.
    """
    across = sum((int(w * 7 + 0.5) + 5) * 0.75 for w in widths)
    fits = [PRINT_WIDTH / across] + ([PRINT_HEIGHT / sum(heights)] if heights else [])
    return int(min(fits) * 98)


def text_units(text: str) -> int:
    """Display width of a text in half-width units: a CJK character (U+2E80 and up) counts 2."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)
