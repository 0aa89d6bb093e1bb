"""Render a :class:`~xlsx_engine.layout.SheetLayout` into a locked, macro-free .xlsx template.

Templates are *authored* with openpyxl (never filled with it). The output is made
byte-for-byte reproducible: fixed document timestamps and zip entry dates, so
``jxzp build`` regenerates exactly the files shipped in ``templates/``.

openpyxl (and the numpy it loads) is imported inside the functions that author: importing this module
for :data:`TEMPLATE_DIR` or :func:`template_filename` costs nothing, so commands that only fill or read
start without it.
"""

from __future__ import annotations

import datetime as _dt
import io
import re
import zipfile

from xlsx_engine.kernel.resources import data_root
from xlsx_engine.ooxml.filler import custom_properties_xml
from xlsx_engine.ooxml.pagesetup import (
    DEFAULT_ROW_HEIGHT,
    MARGIN_BOTTOM,
    MARGIN_SIDE,
    MARGIN_TOP,
    page_scale,
)
from xlsx_engine.ooxml.sheetmodel import CONST, FORMULA, IDENTITY_KEYS, SheetLayout

TEMPLATE_DIR = data_root()
FIXED_TIME = _dt.datetime(2020, 1, 1, 0, 0, 0)
INPUT_FILL = "FFF2CC"       #: RGB of the input cells' fill (yellow)
HEADER_FILL = "DDEBF7"      #: RGB of header and section rows
TOTAL_FILL = "E2EFDA"       #: RGB of the 总分 cell
BORDER_COLOR = "808080"
GROUP_FORMAT_ID = 200     #: number format ";;;" (shows nothing) of a group label printed once


def _styles(font: str, title_font: str) -> dict[str, dict]:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
    thin = Side(style="thin", color=BORDER_COLOR)
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    input_fill, header_fill, total_fill = (PatternFill("solid", fgColor=rgb)
                                           for rgb in (INPUT_FILL, HEADER_FILL, TOTAL_FILL))
    wrap_c = Alignment(horizontal="center", vertical="center", wrap_text=True)
    wrap_l = Alignment(horizontal="left", vertical="center", wrap_text=True)
    f = Font(name=font, size=10)
    locked, unlocked = Protection(locked=True), Protection(locked=False)
    base = {"font": f, "border": border, "protection": locked}
    inp = {"font": Font(name=font, size=10, color="1F3864"), "border": border, "protection": unlocked,
           "fill": input_fill}
    return {
        "title": {"font": Font(name=title_font, size=16, bold=True), "alignment": wrap_c, "protection": locked},
        "note": {"font": Font(name=font, size=9, color="595959"), "alignment": wrap_l, "protection": locked},
        "label": {**base, "alignment": wrap_c},
        "label_right": {"font": f, "alignment": Alignment(horizontal="right", vertical="center"),
                        "protection": locked},
        "label_bold": {**base, "font": Font(name=font, size=10, bold=True), "alignment": wrap_c},
        "label_indent": {**base, "alignment": Alignment(horizontal="left", vertical="center", indent=1)},
        "label_indent_wrap": {**base, "alignment": Alignment(horizontal="left", vertical="center", indent=1,
                                                             wrap_text=True)},
        "label_center": {**base, "alignment": wrap_c},
        "section": {**base, "font": Font(name=font, size=11, bold=True), "alignment": wrap_l, "fill": header_fill},
        "header": {**base, "font": Font(name=font, size=10, bold=True), "alignment": wrap_c, "fill": header_fill},
        "input_text": {**inp, "alignment": wrap_l},
        "input_center": {**inp, "alignment": wrap_c},
        "input_amount": {**inp, "alignment": Alignment(horizontal="right", vertical="center"),
                         "number_format": "#,##0.00"},
        "input_number": {**inp, "alignment": wrap_c, "number_format": "General"},
        "input_year": {**inp, "alignment": wrap_c, "number_format": "0"},
        "const_num": {**base, "alignment": wrap_c, "number_format": "General"},
        "formula_num": {**base, "alignment": wrap_c, "number_format": "0.00"},
        "formula_amount": {**base, "alignment": Alignment(horizontal="right", vertical="center"),
                           "number_format": "#,##0.00"},
        "formula_pct": {**base, "alignment": wrap_c, "number_format": "0.00%"},
        "formula_bold": {**base, "font": Font(name=font, size=10, bold=True), "alignment": wrap_c,
                         "number_format": "0.00"},
        "formula_total": {**base, "font": Font(name=font, size=12, bold=True, color="C00000"), "alignment": wrap_c,
                          "number_format": "0.00", "fill": total_fill},
        "warn": {**base, "font": Font(name=font, size=9, color="C00000"), "alignment": wrap_l},
        "signature": {"font": Font(name=font, size=10), "alignment": Alignment(horizontal="left", vertical="bottom"),
                      "protection": locked},
        "paragraph": {"font": f, "alignment": Alignment(horizontal="left", vertical="top", wrap_text=True),
                      "protection": locked},
        "helper": {"font": Font(name=font, size=9, color="808080"), "protection": locked},
        "verdict": {**base, "font": Font(name=font, size=10, bold=True, color="C00000"), "alignment": wrap_l},
    }


def _apply(cell, style: dict) -> None:
    for attr, value in style.items():
        setattr(cell, attr, value)


def _page_setup(ws, layout: SheetLayout) -> None:
    """A4 landscape at a fixed scale, print area, print titles, manual page breaks, page numbers,
    and labels printed once per group."""
    from openpyxl.formatting.rule import Rule
    from openpyxl.styles import Border, Font, Side
    from openpyxl.styles.differential import DifferentialStyle
    from openpyxl.styles.numbers import NumberFormat
    from openpyxl.utils import column_index_from_string, get_column_letter
    from openpyxl.worksheet.pagebreak import Break

    form = layout.form
    last_col = layout.print_last_col or get_column_letter(len(form.columns))
    if layout.header_rows:
        ws.print_title_rows = f"{layout.header_rows[0]}:{layout.header_rows[1]}"
    areas = [f"A1:{last_col}{layout.print_last_row or layout.last_row}"]
    areas += [f"A{first}:{last_col}{last}" for first, last in layout.print_extra]
    ws.print_area = areas if len(areas) > 1 else areas[0]
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.scale = page_scale([spec["width"] for spec in form.columns[:column_index_from_string(last_col)]],
                                     [layout.row_heights.get(row, DEFAULT_ROW_HEIGHT) for row in layout.one_page_rows])
    ws.print_options.horizontalCentered = True
    margins = ws.page_margins
    margins.left = margins.right = MARGIN_SIDE
    margins.top, margins.bottom, margins.header, margins.footer = MARGIN_TOP, MARGIN_BOTTOM, 0.15, 0.15
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    for row in layout.row_breaks:
        ws.row_breaks.append(Break(id=row))
    fill = "00" + INPUT_FILL
    repeat = DifferentialStyle(font=Font(color=fill), border=Border(top=Side(style="thin", color=fill)),
                               numFmt=NumberFormat(GROUP_FORMAT_ID, ";;;"))
    for sqref, condition in layout.group_labels:
        ws.conditional_formatting.add(sqref, Rule(type="expression", formula=[condition], dxf=repeat))


def render(layout: SheetLayout) -> bytes:
    """Render a layout with openpyxl and return the normalised .xlsx bytes."""
    from openpyxl import Workbook
    from openpyxl.packaging.custom import StringProperty
    from openpyxl.utils import get_column_letter, range_boundaries
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.workbook.protection import WorkbookProtection
    from openpyxl.worksheet.datavalidation import DataValidation

    form, profile = layout.form, layout.profile
    styles = _styles(form.font, form.title_font)
    wb = Workbook()
    ws = wb.active
    ws.title = layout.sheet
    for i, spec in enumerate(form.columns, 1):
        ws.column_dimensions[get_column_letter(i)].width = spec["width"]
    for col in layout.hidden_cols:
        ws.column_dimensions[col].hidden = True
    merged_style: dict[str, str] = {}
    for rng in layout.merges:
        top_left = rng.split(":")[0]
        spec = layout.cells.get(top_left)
        if spec:
            merged_style[rng] = spec.style
    for ref, spec in layout.cells.items():
        cell = ws[ref]
        if spec.role == FORMULA:
            cell.value = spec.formula
        elif spec.role in (CONST,) or spec.role == "label":
            cell.value = spec.value if spec.value != "" else None
        _apply(cell, styles[spec.style])
    for rng, style in merged_style.items():
        min_col, min_row, max_col, max_row = range_boundaries(rng)
        for row in ws.iter_rows(min_row=min_row, max_row=max_row, min_col=min_col, max_col=max_col):
            for cell in row:
                _apply(cell, styles[style])
        ws.merge_cells(rng)
    for row, height in layout.row_heights.items():
        ws.row_dimensions[row].height = height
    for v in layout.validations:
        dv = DataValidation(type=v.type, formula1=v.formula1, formula2=v.formula2, operator=v.operator,
                            allow_blank=True, showErrorMessage=True, showInputMessage=bool(v.title),
                            errorTitle="输入无效", error=v.error, promptTitle=v.title[:32], prompt=v.error[:255],
                            errorStyle="stop")
        for part in v.sqref.split():
            dv.add(part)
        ws.add_data_validation(dv)
    ws.freeze_panes = layout.freeze
    _page_setup(ws, layout)
    ws.protection.sheet = True
    ws.protection.password = form.protection_password
    ws.protection.formatColumns = False      # column widths may still be changed
    ws.protection.formatRows = False
    ws.protection.selectLockedCells = False
    ws.protection.selectUnlockedCells = False

    dsheet = wb.create_sheet(form.dictionary_sheet)
    meta = layout.meta()
    for ref, value in layout.dict_cells.items():
        dsheet[ref] = value
    for k, key in enumerate(IDENTITY_KEYS, 1):
        dsheet[f"H{k}"] = meta[key]
    dsheet.sheet_state = "hidden"
    dsheet.protection.sheet = True
    dsheet.protection.password = form.protection_password

    for name, ref in layout.names.items():
        wb.defined_names[name] = DefinedName(name, attr_text=ref)
    wb.security = WorkbookProtection(workbookPassword=form.protection_password, lockStructure=True)
    wb.calculation.fullCalcOnLoad = True
    props = wb.properties
    props.creator = "jxzp 绩效自评 Excel 引擎"
    props.title = f"{form.title}（{profile.name}）"
    props.created = props.modified = FIXED_TIME
    props.lastModifiedBy = "jxzp"
    for key, value in meta.items():
        wb.custom_doc_props.append(StringProperty(name=key, value=value))
    buf = io.BytesIO()
    wb.save(buf)
    raw = buf.getvalue()
    # openpyxl declares the vt: namespace on every value; Gnumeric then drops all the properties
    parts = {"docProps/custom.xml": custom_properties_xml(meta)}
    if layout.shared_groups:
        main = "xl/worksheets/sheet1.xml"         # openpyxl writes the first sheet here
        parts[main] = share_formulas(zipfile.ZipFile(io.BytesIO(raw)).read(main), layout)
    return normalise_zip(raw, parts)


def check_shared(layout: SheetLayout) -> None:
    """Prove the layout's promise that each cell of a shared formula is its first cell's formula moved there
    (as Excel, LibreOffice, Gnumeric and openpyxl expand it): the builder refuses to write a template otherwise.

    Raises:
        ValueError: the cell whose formula is not the moved one.
    """
    from openpyxl.formula.translate import Translator
    for ref, group in layout.shared_groups.items():
        if ref == group.master:
            continue
        moved = Translator(layout.cells[group.master].formula, origin=group.master).translate_formula(ref)
        if moved != layout.cells[ref].formula:
            raise ValueError(f"{layout.template_id}: {ref} is not {group.master}'s formula moved down "
                             f"(shared key {layout.cells[ref].shared!r})")


_FORMULA_CELL = re.compile(rb'(<c r="([A-Z]+[0-9]+)"[^>]*>)<f>([^<]*)</f>')


def share_formulas(sheet_xml: bytes, layout: SheetLayout) -> bytes:
    """Store the layout's shared formulas (:attr:`SheetLayout.shared_groups`) as Excel does: the group's first
    cell keeps the text with ``t="shared" ref si``, the others hold ``<f t="shared" si/>`` and are expanded by
    offset when read. openpyxl writes every formula in full; this is the one part of a template it cannot author.
    A formula-heavy column is a few hundred bytes instead of 50 KB, in every copy distributed and returned.
    """
    groups = layout.shared_groups
    check_shared(layout)
    seen: set[str] = set()

    def one(m: re.Match) -> bytes:
        ref = m.group(2).decode()
        group = groups.get(ref)
        if group is None:
            return m.group(0)
        seen.add(ref)
        if ref == group.master:
            return m.group(1) + f'<f t="shared" ref="{group.range}" si="{group.si}">'.encode() + m.group(3) + b"</f>"
        return m.group(1) + f'<f t="shared" si="{group.si}"/>'.encode()

    out = _FORMULA_CELL.sub(one, sheet_xml)
    if len(seen) != len(groups):
        missing = sorted(set(groups) - seen)
        raise ValueError(f"shared formula cells not found in the rendered sheet: {missing[:5]}")
    return out


def normalise_zip(data: bytes, replace: dict[str, bytes] | None = None) -> bytes:
    """Rewrite a zip with fixed entry dates and deterministic compression (and the ``replace`` parts)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = (replace or {}).get(info.filename) or src.read(info.filename)
            if info.filename == "docProps/core.xml":   # openpyxl stamps the save time here
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2020-01-01T00:00:00Z", content)
            zi = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            dst.writestr(zi, content, compresslevel=6)
    return out.getvalue()


def template_filename(layout: SheetLayout) -> str:
    return f"{layout.template_id}.xlsx"
