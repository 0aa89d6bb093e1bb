"""The 报告信息 area of a form: what the self-evaluation report needs and the table cannot hold.

Each form lists its fields (``forms/project/layout.py`` :data:`PROJECT_FIELDS`, ``forms/department/layout.py``
:data:`DEPARTMENT_FIELDS`, chosen from the outlines of the seeds' real reports, docs/rules.md#report-outlines); the
area is printed under the table on a page of its own when the unit wrote something in it, so an accountant who
works only in Excel or WPS fills them where the scores are. Every cell is an unlocked, wrapped text input with a
length limit and a defined name ``报告信息_<field>``; the narrative reads them as 其他信息 under the field names
(a data file's 其他信息 may give the same fields).
"""

from __future__ import annotations

from xlsx_engine.ooxml.sheetmodel import SheetLayout, Validation

TITLE = "报告信息（生成自评报告用；表中数字已有的不必重复，没有的可不填，报告中会标注“待补充”）"


#: a field: (label printed in the workbook = the 其他信息 key the narrative reads, row height in points, longest text)
Field = tuple[str, int, int]


def add_report_info(layout: SheetLayout, first_row: int, last_col: str, fields: tuple[Field, ...]) -> int:
    """Lay out the area from ``first_row`` (a title row, then one row per field); return its last row.

    Sets ``layout.report_info`` (label → input cell), ``layout.report_info_span``, ``layout.last_row`` and a print
    area of its own (its own page).
    """
    layout.label(f"A{first_row}", TITLE, "section", f"A{first_row}:{last_col}{first_row}")
    layout.report_info = {}
    for k, (label, height, longest) in enumerate(fields, 1):
        row = first_row + k
        ref = f"C{row}"
        layout.label(f"A{row}", label, "label", f"A{row}:B{row}")
        layout.input(ref, merge=f"{ref}:{last_col}{row}")
        layout.row_heights[row] = height
        layout.name(f"报告信息_{label}", ref)
        hint = "如 2020-05-20" if label == "自评时间" else f"不超过{longest}字"
        layout.validations.append(Validation(ref, "textLength", "0", str(longest), "between", label, hint))
        layout.report_info[label] = ref
    layout.last_row = first_row + len(fields)
    layout.report_info_span = (first_row, layout.last_row)
    if layout.print_last_row:          # the form prints up to its signature line: the area is a page of its own
        layout.print_extra.append((first_row, layout.last_row))
    return layout.last_row


def report_info_values(layout: SheetLayout, extra: dict | None) -> dict:
    """The area's cells for a record's 其他信息 (only the fields it has)."""
    extra = extra or {}
    return {ref: extra[label] for label, ref in layout.report_info.items() if extra.get(label)}


def unused_report_info_rows(layout: SheetLayout, extra: dict | None) -> list[int]:
    """The area's rows when the record has nothing for it: a filled copy hides them (the page is not printed)."""
    if not layout.report_info or any(v not in (None, "") for v in report_info_values(layout, extra).values()):
        return []
    return list(range(layout.report_info_span[0], layout.report_info_span[1] + 1))


def report_info_from_cells(layout: SheetLayout, get) -> dict:
    """The area read back as 其他信息 (empty cells left out)."""
    out = {}
    for label, ref in layout.report_info.items():
        value = get(ref)
        if value is not None and str(value).strip():
            out[label] = value
    return out
