"""The ribbon entry points: each acts on the calling workbook and returns an :class:`Outcome`.

Registered in the whitelist (:mod:`jxzp_addin.registry`) under the tags the ribbon buttons carry
(``macros/customUI.xml``). Each is a thin shell over the core:

======================  =============  ==========================================================
tag                     button         core
======================  =============  ==========================================================
``recalculate``         重新计算       layout + scoring (Python twin); formulas restored from the layout
``check``               校验           checks.check_file → 校验结果 sheet, cells marked
``summary``             生成综述       narrative.render_summary → 综述 sheet (writeback.sheet_rows)
``report``              导出自评报告   report_docx.report_docx → .docx beside the workbook
``bulk``                批量生成       bulk.bulk on the open master workbook
``collect``             汇总回收       collect.collect + write_summary on a chosen folder
``about``               关于           versions and the workbook's template identity
======================  =============  ==========================================================
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from xlsx_engine.forms import project as project_form
from xlsx_engine.kernel.errors import JxzpError, TemplateError
from xlsx_engine.kernel.xlmath import is_number
from xlsx_engine.ooxml.cells import parse_name_ref, split_range, split_ref

from .registry import Outcome, entry_point
from .session import Session, a1, com_object, hex_color, now_text, parse_place

PROJECT_FORM = project_form.FORM.prefix           #: the 项目支出绩效自评表 form (the one the narrative writes)
GROUP_TABLE = "本表"
GROUP_REPORT = "综述与报告"
GROUP_BATCH = "批量下发与回收"
GROUP_HELP = "帮助"

CHECK_SHEET = "校验结果"
SUMMARY_TITLE = "评价报告综述（文字部分）"     #: as xlsx_engine.writeback.write_back writes it
MARK_COLORS = {"错误": "#FFC7CE", "警告": "#FFEB9C"}
NO_FILL = "无"
CHECK_HEADER = ["序号", "级别", "位置", "问题", "处理建议", "代码", "原底色"]
CHECK_WIDTHS = [6, 6, 16, 60, 44, 18, 10]
MAX_LISTED = 8                                   #: items listed in a message before "等 N 处"


# ============================================================================ helpers

def _fmt(value: Any) -> str:
    if value is None or value == "":
        return "（空）"
    if is_number(value):
        v = float(value)
        return str(int(v)) if v == int(v) and abs(v) < 1e15 else f"{v:.4f}".rstrip("0").rstrip(".")
    return str(value)


def _pct(value: Any) -> str:
    return f"{float(value) * 100:.2f}%" if is_number(value) else _fmt(value)


def _same(a: Any, b: Any) -> bool:
    """Two cell values equal as a reader sees them (numbers to 1e-9 relative, "" equals empty)."""
    if is_number(a) and is_number(b):
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)), abs(float(b)))
    return (a if a not in (None, "") else "") == (b if b not in (None, "") else "")


def _listed(items: list[str]) -> str:
    head = "、".join(items[:MAX_LISTED])
    return head + (f"等 {len(items)} 处" if len(items) > MAX_LISTED else "")


def describe(layout, ref: str) -> str:
    """"自评表!K49（总分）": a cell of the main sheet with the template name that covers it."""
    for name, text in layout.names.items():
        nr = parse_name_ref(text)
        if nr is None or nr.sheet != layout.sheet:
            continue
        cells = nr.cells
        if ref in cells:
            label = name if len(cells) == 1 else f"{name}第{cells.index(ref) + 1}行"
            return f"{layout.sheet}!{ref}（{label}）"
    return f"{layout.sheet}!{ref}"


def next_free(path: Path) -> Path:
    """``报告.docx`` -> ``报告(2).docx`` … the first name not taken."""
    k = 2
    candidate = path
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}({k}){path.suffix}")
        k += 1
    return candidate


def template_fill(layout, ref: str) -> str | None:
    """The fill the template gives a cell of its main sheet ("#RRGGBB" or None)."""
    from xlsx_engine.ooxml.builder import HEADER_FILL, INPUT_FILL, TOTAL_FILL
    spec = layout.cells.get(ref)
    if spec is None:
        row, col = split_ref(ref)
        for rng in layout.merges:
            (r0, c0), (r1, c1) = split_range(rng)
            if r0 <= row <= r1 and c0 <= col <= c1:
                spec = layout.cells.get(a1(r0, c0))
                break
    if spec is None:
        return None
    if spec.style.startswith("input"):
        fill = INPUT_FILL
    elif spec.style in ("header", "section"):
        fill = HEADER_FILL
    elif spec.style == "formula_total":
        fill = TOTAL_FILL
    else:
        return None
    return hex_color(fill)


def _extent(layout) -> tuple[int, int]:
    """(rows, columns) covering every cell and merged range of the layout's main sheet."""
    rows = cols = 1
    for ref in layout.cells:
        r, c = split_ref(ref)
        rows, cols = max(rows, r), max(cols, c)
    for rng in layout.merges:
        _first, (r1, c1) = split_range(rng)
        rows, cols = max(rows, r1), max(cols, c1)
    return rows, cols


def _at(grid: list[list[Any]], ref: str) -> Any:
    row, col = split_ref(ref)
    return grid[row - 1][col - 1]


def _single_cell(layout, name: str) -> str | None:
    nr = parse_name_ref(layout.names.get(name, ""))
    if nr is None or nr.sheet != layout.sheet or nr.first != nr.last:
        return None
    return nr.cells[0]


def project_layout_of(session: Session, action: str):
    """The layout of a 项目支出绩效自评表 (the form the narrative layer writes about)."""
    layout = session.layout()
    if layout.form.form != PROJECT_FORM:
        raise TemplateError(f"“{action}”目前只支持项目支出绩效自评表，本工作簿是“{layout.form.title}”"
                            f"（{layout.template_id}）", where=session.display_name,
                            hint="请在命令行使用该表对应的 jxzp 命令")
    return layout


def _project_input(session: Session, action: str):
    """The narrative input of the live workbook (its cells, rescored in Python)."""
    from xlsx_engine.narrative.engine import from_record
    layout = project_layout_of(session, action)
    return from_record(session.record(layout), layout.profile, source=session.display_name)


def _warnings_text(findings) -> str:
    texts = list(dict.fromkeys(str(f) for f in findings))
    if not texts:
        return ""
    return "\n需要补充或核实：\n" + "\n".join(f"· {t}" for t in texts[:MAX_LISTED]) + (
        f"\n（另有 {len(texts) - MAX_LISTED} 条）" if len(texts) > MAX_LISTED else "")


# ============================================================================ 重新计算

@entry_point("recalculate", "重新计算", GROUP_TABLE,
             "用 Python 评分程序重新计算本表；被改写的公式按模板恢复，并列出恢复了哪些单元格。")
def recalculate(session: Session) -> Outcome:
    from xlsx_engine.integrity.tamper import norm_formula
    from xlsx_engine.ooxml.sheetmodel import CONST, FORMULA

    layout = session.layout(same_positions=True)
    sheet_name = layout.sheet
    nrows, ncols = _extent(layout)
    before = session.grid(sheet_name, nrows, ncols)
    # by position (the names were checked to be where the template puts them): works for every form
    rec, result = layout.evaluate(layout.record_from_cells(lambda ref: _at(before, ref)))
    expected = layout.formula_values(result, rec)
    formulas = session.formulas(sheet_name, nrows, ncols)

    restored: list[str] = []        # formula cells whose formula was replaced (known from the formulas)
    suspicious: list[str] = []      # formula cells whose value disagrees with the scorer
    writes: dict[str, str] = {}     # ref -> formula to write
    consts: dict[str, Any] = {}     # ref -> constant to write back
    for ref, spec in layout.cells.items():
        if spec.role not in (FORMULA, CONST):
            continue
        row, col = split_ref(ref)
        shown = before[row - 1][col - 1]
        if spec.role == FORMULA:
            if formulas is not None:
                if norm_formula(formulas[row - 1][col - 1]) != norm_formula(spec.formula):
                    restored.append(ref)
                    writes[ref] = spec.formula
            else:
                writes[ref] = spec.formula
                if not _same(shown, expected[ref]):
                    suspicious.append(ref)
        else:
            typed = formulas[row - 1][col - 1] if formulas is not None else None
            if not _same(shown, spec.value) or (typed or "").startswith("="):
                consts[ref] = spec.value
    sheet = session.sheet(sheet_name)
    if writes or consts:
        with session.unprotected(sheet):
            for ref, formula in writes.items():
                sheet.range(ref).formula = formula
            for ref, value in consts.items():
                sheet.range(ref).value = value
    session.book.app.calculate()

    after: list[str] = []
    if session.immediate:           # read back what Excel computed and compare with the scorer
        session.refresh()
        grid = session.grid(sheet_name, nrows, ncols)
        for ref, value in expected.items():
            row, col = split_ref(ref)
            if not _same(grid[row - 1][col - 1], value):
                after.append(f"{describe(layout, ref)}：表中 {_fmt(grid[row - 1][col - 1])}，程序 {_fmt(value)}")

    figures = []
    for name, show in (("执行率", _pct), ("资金得分", _fmt), ("总分", _fmt), ("评价等次", _fmt)):
        ref = _single_cell(layout, name)
        if ref in expected:
            figures.append(f"{name} {show(expected[ref])}")
    lines = [f"重新计算完成（{layout.form.title}，评分规则：{layout.profile.name}）" + (
        "：" + "，".join(figures) if figures else "") + "。"]
    if formulas is not None:
        if restored:
            lines.append(f"已按模板恢复 {len(restored)} 个被改写的公式：" + _listed([describe(layout, r) for r in restored])
                         + "。")
        else:
            lines.append("公式完整，未发现被改写的公式。")
    else:
        lines.append(f"当前环境无法读取公式，已按模板重写全部 {len(writes)} 个公式。")
        if suspicious:
            lines.append(f"其中 {len(suspicious)} 个单元格原先显示的值与程序计算不符（公式可能被改写）："
                         + _listed([f"{describe(layout, r)} 原为 {_fmt(before[split_ref(r)[0] - 1][split_ref(r)[1] - 1])}"
                                    for r in suspicious]) + "。")
    if consts:
        lines.append("已恢复被改动的常量：" + _listed([f"{describe(layout, r)} = {_fmt(v)}" for r, v in consts.items()]) + "。")
    if after:
        lines.append("注意：恢复后仍有单元格与程序计算不一致，请点“校验”核对：" + _listed(after) + "。")
    for text in getattr(result, "problems", []):
        lines.append(f"提示：{text}")
    return Outcome("\n".join(lines), ok=not after, data={
        "result": result, "restored": restored, "suspicious": suspicious, "rewritten": sorted(writes),
        "constants": consts, "after": after, "formulas_read": formulas is not None})


# ============================================================================ 校验

def _restore_marks(session: Session, sheet) -> list[str]:
    """Give back the fills the previous 校验 replaced (listed in its 位置 and 原底色 columns)."""
    try:
        values = sheet.used_range.options(ndim=2).value
    except Exception:
        return []
    start = next((i + 1 for i, row in enumerate(values) if row and row[0] == CHECK_HEADER[0]), None)
    if start is None:
        return []
    col_place, col_fill = CHECK_HEADER.index("位置"), CHECK_HEADER.index("原底色")
    restored = []
    by_sheet: dict[str, list[tuple[str, str | None]]] = {}
    for row in values[start:]:
        if len(row) <= col_fill or not row[col_fill]:
            continue
        place = parse_place(str(row[col_place] or ""))
        if place is None or not session.has_sheet(place[0]):
            continue
        fill = None if row[col_fill] == NO_FILL else hex_color(str(row[col_fill]))
        by_sheet.setdefault(place[0], []).append((place[1], fill))
    for name, items in by_sheet.items():
        target = session.sheet(name)
        with session.unprotected(target):
            for ref, fill in items:
                target.range(ref).color = fill
                restored.append(f"{name}!{ref}")
    return restored


@entry_point("check", "校验", GROUP_TABLE,
             "勾稽校验与防篡改检查：结果写入“校验结果”工作表，有问题的单元格标色（红：错误，黄：警告）。")
def check(session: Session) -> Outcome:
    from xlsx_engine.integrity.checks import check_file
    from xlsx_engine.kernel.findings import INFO

    with session.snapshot() as path:
        report = check_file(path)
    findings = report.findings     # tamper.ENGINE_SHEETS: our 校验结果 / 综述 sheets are not alterations
    try:
        layout = session.layout()
    except JxzpError:
        layout = None

    sheet, created = session.ensure_sheet(CHECK_SHEET)
    unmarked = [] if created else _restore_marks(session, sheet)

    marks: dict[tuple[str, str], str] = {}          # (sheet, range) -> severity
    originals: dict[tuple[str, str], str] = {}      # (sheet, range) -> original fill, for the next run
    for f in findings:
        place = parse_place(f.place)
        if place is None or f.severity not in MARK_COLORS or place in marks or not session.has_sheet(place[0]):
            continue
        first = place[1].split(":")[0]
        known, fill = session.read_color(place[0], first)
        if not known and layout is not None and place[0] == layout.sheet:
            fill = template_fill(layout, first)
        marks[place] = f.severity
        originals[place] = fill or NO_FILL

    n_err = sum(1 for f in findings if f.severity == "错误")
    n_warn = sum(1 for f in findings if f.severity == "警告")
    n_info = sum(1 for f in findings if f.severity == INFO)
    s = report.summary or {}
    result_text = ""
    if "总分" in s:
        result_text = f"　程序重算：执行率 {_pct(s.get('执行率'))}，总分 {_fmt(s.get('总分'))}，等次 {s.get('评价等次')}"
    rows: list[list[Any]] = [
        ["校验结果"],
        [f"工作簿：{Path(session.display_name).name}　校验时间：{now_text()}　类型：{report.kind or '—'}"
         + (f"　评分规则：{report.profile}" if report.profile else "") + result_text],
        [f"错误 {n_err} 处，警告 {n_warn} 处，提示 {n_info} 处。标色的单元格：红色为错误，黄色为警告；"
         "再次校验时恢复原底色。" + ("" if session.immediate else "（校验的是已保存的文件，未保存的修改不在其中）")],
        [],
        CHECK_HEADER,
    ]
    seen: set[tuple[str, str]] = set()
    for k, f in enumerate(findings, 1):
        place = parse_place(f.place)
        original = ""
        if place in originals and place not in seen:
            seen.add(place)
            original = originals[place]
        rows.append([k, f.severity, f.place or "（整个文件）", f.message, f.hint, f.code, original])
    if not findings:
        rows.append(["", "", "", "未发现问题", "", "", ""])

    with session.unprotected(sheet):
        if not created:
            sheet.clear()
        session.write_rows(sheet, "A1", rows)
        for k, width in enumerate(CHECK_WIDTHS, 1):
            sheet.range((1, k)).column_width = width
        sheet.range("A1").font.bold = True
        sheet.range("A1").font.size = 14
        sheet.range((5, 1), (5, len(CHECK_HEADER))).font.bold = True
        sheet.range((6, 4), (max(6, len(rows)), 5)).wrap_text = True
    by_sheet: dict[str, list[tuple[str, str]]] = {}
    for (name, ref), severity in marks.items():
        by_sheet.setdefault(name, []).append((ref, severity))
    for name, items in by_sheet.items():
        target = session.sheet(name)
        with session.unprotected(target):
            for ref, severity in items:
                target.range(ref).color = MARK_COLORS[severity]
    sheet.activate()

    if report.unreadable:
        text = "无法读取工作簿：" + "；".join(f.message for f in findings[:2])
        return Outcome(text, ok=False, data={"report": report, "findings": findings})
    lines = [f"校验完成：错误 {n_err} 处，警告 {n_warn} 处，提示 {n_info} 处，详见“{CHECK_SHEET}”工作表。"]
    if marks:
        lines.append(f"已标色 {len(marks)} 处单元格（红色：错误，黄色：警告）。")
    if not findings:
        lines = ["校验完成：未发现问题。"]
    if unmarked:
        lines.append(f"上次校验标色的 {len(unmarked)} 处单元格已恢复原底色。")
    return Outcome("\n".join(lines), ok=n_err == 0, data={
        "report": report, "findings": findings, "marks": marks, "originals": originals, "unmarked": unmarked})


# ============================================================================ 综述 / 自评报告

@entry_point("summary", "生成综述", GROUP_REPORT,
             "由本表的数据和评分结果生成评价报告综述，写入“综述”工作表（再次生成时替换）。")
def summary(session: Session) -> Outcome:
    from xlsx_engine.narrative.engine import render_summary
    from xlsx_engine.ooxml.writeback import SHEET_NAME, sheet_rows

    inp = _project_input(session, "生成综述")
    rendered = render_summary(inp)
    rows = sheet_rows(rendered.blocks, SUMMARY_TITLE, inp.name)
    sheet, created = session.ensure_sheet(SHEET_NAME)
    with session.unprotected(sheet):
        if not created:
            sheet.clear()
        session.write_rows(sheet, "A1", [[text] for _kind, text in rows])
        block = sheet.range((1, 1), (len(rows), 1))
        block.column_width = 72
        block.wrap_text = True
        sheet.range("A1").font.bold = True
        sheet.range("A1").font.size = 16
        for r, (kind, _text) in enumerate(rows, 1):
            if kind == "heading":
                sheet.range((r, 1)).font.bold = True
        block.rows.autofit()
    if created and com_object(sheet) is not None:     # like jxzp narrative --write-back: a protected sheet
        com_object(sheet).Protect(session.password, DrawingObjects=True, Contents=True, Scenarios=True,
                                  AllowFormattingColumns=True, AllowFormattingRows=True)
    sheet.activate()
    text = f"已生成综述并写入“{SHEET_NAME}”工作表（{len(rows)} 行）。" + _warnings_text(rendered.warnings)
    return Outcome(text, data={"rows": rows, "rendered": rendered, "created": created})


@entry_point("report", "导出自评报告", GROUP_REPORT,
             "生成完整的 Word 自评报告（.docx），保存在本工作簿所在的文件夹。")
def report(session: Session) -> Outcome:
    from xlsx_engine.narrative.docx import report_docx, write_docx

    path = session.require_saved_path()
    inp = _project_input(session, "导出自评报告")
    data, rendered = report_docx(inp)
    target = path.with_name(f"{path.stem}-自评报告.docx")
    if target.exists() and not session.ui.confirm(f"“{target.name}”已存在，是否覆盖？\n选“否”将另存为新文件。",
                                                  title="导出自评报告"):
        target = next_free(target)
    try:
        write_docx(target, data)
    except OSError as exc:
        raise JxzpError(f"无法写入报告：{exc.strerror or exc}", where=str(target),
                        hint="文件可能正在 Word 中打开，请关闭后重试") from None
    text = f"已导出自评报告：{target}" + _warnings_text(rendered.warnings)
    return Outcome(text, data={"path": target, "rendered": rendered})


# ============================================================================ 批量生成 / 汇总回收

@entry_point("bulk", "批量生成", GROUP_BATCH,
             "由当前打开的总表批量生成每个项目的锁定自评表（每个单位一个文件夹）。")
def bulk_generate(session: Session) -> Outcome:
    from xlsx_engine.bureau.bulk import bulk
    from xlsx_engine.bureau.master import Master

    with session.snapshot() as master_path, Master(master_path) as master:   # not a master: DataError says why
        total = len(master)
        base = session.workbook_path()
        initial = base.with_name(f"{base.stem}-自评表") if base else None
        outdir = session.ui.choose_folder("选择批量生成自评表的输出文件夹", initial)
        if outdir is None:
            return Outcome("已取消批量生成。", data={"cancelled": True})
        report = bulk(master, outdir, by="unit", jobs=1)
    lines = [(f"批量生成完成：总表共 {total} 个项目；{report.count('written')} 个新生成或已更新，"
              f"{report.count('unchanged')} 个内容未变，{report.count('refused')} 个因生成后被修改而未覆盖，"
              f"{len(report.errors)} 个出错；用时 {report.seconds:.1f} 秒。"), f"输出文件夹：{outdir}"]
    refused = [i.message for i in report.items if i.status == "refused"]
    if refused:
        lines.append("未覆盖（需覆盖请在命令行加 --force）：\n" + "\n".join(f"· {t}" for t in refused[:MAX_LISTED]))
    if report.errors:
        lines.append("出错的项目：\n" + "\n".join(f"· {t}" for t in report.errors[:MAX_LISTED])
                     + (f"\n（另有 {len(report.errors) - MAX_LISTED} 个）" if len(report.errors) > MAX_LISTED else ""))
    return Outcome("\n".join(lines), ok=not report.errors, data={"report": report, "outdir": outdir})


@entry_point("collect", "汇总回收", GROUP_BATCH,
             "选择存放交回自评表的文件夹，逐个校验、重新评分，生成汇总表（与文件夹同级）。")
def collect_folder(session: Session) -> Outcome:
    from xlsx_engine.bureau.collect import collect, summarise
    from xlsx_engine.bureau.summary import counts_text, write_summary

    base = session.workbook_path()
    folder = session.ui.choose_folder("选择交回的自评表所在文件夹", base.parent if base else None)
    if folder is None:
        return Outcome("已取消汇总回收。", data={"cancelled": True})
    if not folder.is_dir():
        raise JxzpError("找不到文件夹", where=str(folder))
    out = folder.parent / f"{folder.name}-汇总表.xlsx"
    if out.exists() and not session.ui.confirm(f"“{out.name}”已存在，是否覆盖？\n选“否”将另存为新文件。",
                                               title="汇总回收"):
        out = next_free(out)
    coll = collect(folder, jobs=1)
    write_summary(coll, out)             # an unwritable place (the file open in Excel...) is a JxzpError
    s = summarise(coll)
    lines = [f"汇总完成：读取 {len(coll.rows)} 个自评表（无法读取 {s['无法读取']} 个），{counts_text(coll)}；"
             f"错误 {s['错误']} 项，警告 {s['警告']} 项；等次（已填报）："
             + "，".join(f"{k} {v}" for k, v in s["等次"].items()) + "。", f"汇总表：{out}"]
    bad = [f"{u.path}：{u.error}" for u in coll.unreadable]
    if bad:
        lines.append("无法读取：\n" + "\n".join(f"· {t}" for t in bad[:MAX_LISTED]))
    session.ui.open_workbook(out)
    return Outcome("\n".join(lines), data={"summary": s, "path": out, "collection": coll})


# ============================================================================ 关于

@entry_point("about", "关于", GROUP_HELP, "显示加载项、Python 和 xlwings 的版本，以及本工作簿的模板标识。")
def about(session: Session) -> Outcome:
    import xlwings

    import xlsx_engine

    from . import __version__
    lines = [f"绩效自评加载项 {__version__}（引擎 jxzp {xlsx_engine.__version__}）",
             f"Python {sys.version.split()[0]}：{sys.executable}",
             f"xlwings {xlwings.__version__}",
             f"程序位置：{Path(__file__).resolve().parent.parent}"]
    meta = session.identity()
    if meta.get("评分规则"):
        lines.append("本工作簿：" + "，".join(f"{k} {v}" for k, v in meta.items()))
    else:
        lines.append(f"本工作簿（{session.display_name}）不是本系统的自评表模板。")
    return Outcome("\n".join(lines), data={"identity": meta})
