"""The 报告信息 area of the 项目支出绩效自评表: what the self-evaluation report needs and the table cannot hold.

Chosen from the outlines of the seeds' real reports (docs/rules.md#report-outlines; seed 003: 项目背景/立项依据,
资金到位, 主要问题和改进措施; seed 004: 资金到位/管理, 结果应用和公开; Hunan 附件3: 组织实施, 填报人/联系电话)
and printed under the table, so an accountant who works only in Excel or WPS fills them where the scores are.
Every cell is an unlocked, wrapped text input with a length limit; the narrative reads them as 其他信息 under
the names below (a data file's 其他信息 may give the same fields).
"""

from __future__ import annotations

from xlsx_engine.ooxml.sheetmodel import SheetLayout, Validation

#: (label printed in the workbook = the 其他信息 key the narrative reads, row height in points, longest text)
FIELDS: tuple[tuple[str, int, int], ...] = (
    ("项目概况及立项依据", 60, 2000),
    ("资金到位与管理情况", 45, 2000),
    ("组织实施情况", 45, 2000),
    ("主要问题", 45, 2000),
    ("改进措施", 45, 2000),
    ("结果应用与公开情况", 30, 1000),
    ("自评时间", 18, 20),
    ("联系人", 18, 30),
    ("联系人电话", 18, 30),
)
TITLE = "报告信息（生成自评报告用；表中数字已有的不必重复，没有的可不填，报告中会标注“待补充”）"


def add_report_info(layout: SheetLayout, first_row: int, last_col: str) -> int:
    """Lay out the area from ``first_row`` (a title row, then one row per field); return its last row.

    Sets ``layout.report_info`` (label → input cell), ``layout.last_row`` and a print area of its own (its own page).
    """
    layout.label(f"A{first_row}", TITLE, "section", f"A{first_row}:{last_col}{first_row}")
    layout.report_info = {}
    for k, (label, height, longest) in enumerate(FIELDS, 1):
        row = first_row + k
        ref = f"C{row}"
        layout.label(f"A{row}", label, "label", f"A{row}:B{row}")
        layout.input(ref, merge=f"{ref}:{last_col}{row}")
        layout.row_heights[row] = height
        layout.name(f"报告信息_{label}", ref)
        hint = "如 2020-05-20" if label == "自评时间" else f"不超过{longest}字"
        layout.validations.append(Validation(ref, "textLength", "0", str(longest), "between", label, hint))
        layout.report_info[label] = ref
    layout.last_row = first_row + len(FIELDS)
    layout.report_info_span = (first_row, layout.last_row)
    if layout.print_last_row:          # the form prints up to its signature line: the area is a page of its own
        layout.print_extra.append((first_row, layout.last_row))
    return layout.last_row


def report_info_values(layout: SheetLayout, extra: dict | None) -> dict:
    """The area's cells for a record's 其他信息 (only the fields it has)."""
    extra = extra or {}
    return {ref: extra[label] for label, ref in getattr(layout, "report_info", {}).items() if extra.get(label)}


def report_info_from_cells(layout: SheetLayout, get) -> dict:
    """The area read back as 其他信息 (empty cells left out)."""
    out = {}
    for label, ref in getattr(layout, "report_info", {}).items():
        value = get(ref)
        if value is not None and str(value).strip():
            out[label] = value
    return out


def report_info_by_names(wb, layout: SheetLayout) -> dict:
    """The area read by its defined names ``报告信息_<field>``; a workbook from before the area (form 1.0)
    has none and gives ``{}``."""
    out = {}
    for label in getattr(layout, "report_info", {}):
        try:
            value = wb.name_values(f"报告信息_{label}")[0]
        except (KeyError, IndexError):
            continue
        if value is not None and str(value).strip():
            out[label] = value
    return out
