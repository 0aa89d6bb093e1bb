"""The master workbook (总表): every unit, project, fund line, indicator and goal a bureau keeps.

Format (one header row per sheet, Chinese headers; columns marked * are required):

==========  ==========================================================================================
sheet       columns
==========  ==========================================================================================
单位        单位名称* · 主管部门 · 联系人 · 联系电话
项目        项目编码* · 单位名称* · 项目名称* · 评分规则 · 年度 · 主管部门 · 执行率说明 · 目标自评分
资金        项目编码* · 资金来源* · 年初预算数 · 全年预算数 · 全年执行数
指标        项目编码* · 一级指标 · 二级指标 · 三级指标 · 指标性质 · 指标值 · 度量单位 · 分值 · 实际完成值 ·
            完成等级 · 自评分 · 偏差原因
目标        项目编码* · 预期目标 · 实际完成情况
==========  ==========================================================================================

Each project becomes the data mapping that ``jxzp fill`` takes (templates/forms/DATA.md),
so the same validation applies; its problems are reported with the master's sheet and row.
Reading uses python-calamine and streams one project at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import python_calamine

from xlsx_engine.bureau.output import write_output
from xlsx_engine.forms.project.profile import list_profiles, load_profile
from xlsx_engine.kernel.errors import DataError, WorkbookError
from xlsx_engine.ooxml.safezip import open_workbook_zip

SHEETS: dict[str, list[tuple[str, bool]]] = {
    "单位": [("单位名称", True), ("主管部门", False), ("联系人", False), ("联系电话", False)],
    "项目": [("项目编码", True), ("单位名称", True), ("项目名称", True), ("评分规则", False), ("年度", False),
             ("主管部门", False), ("执行率说明", False), ("目标自评分", False)],
    "资金": [("项目编码", True), ("资金来源", True), ("年初预算数", False), ("全年预算数", False),
             ("全年执行数", False)],
    "指标": [("项目编码", True), ("一级指标", False), ("二级指标", False), ("三级指标", False), ("指标性质", False),
             ("指标值", False), ("度量单位", False), ("分值", False), ("实际完成值", False), ("完成等级", False),
             ("自评分", False), ("偏差原因", False)],
    "目标": [("项目编码", True), ("预期目标", False), ("实际完成情况", False)],
}


@dataclass
class MasterProject:
    """One project of the master: the data mapping for ``fill`` and where each part came from."""

    code: str
    unit: str
    name: str
    profile: str
    data: dict
    row: int                                            #: row on the 项目 sheet
    indicator_rows: list[int] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"项目!第{self.row}行（{self.code} {self.name}）"

    def explain(self, err: DataError) -> DataError:
        """Rewrite "绩效指标第k项" in a validation error to the master's 指标 sheet row."""
        problems = []
        for text in err.problems:
            for k, row in enumerate(self.indicator_rows, 1):
                tag = f"绩效指标第{k}项"
                if tag in text and f"{tag}（" not in text:
                    text = text.replace(tag, f"{tag}（指标!第{row}行）")
                    break
            problems.append(text)
        return DataError(err.message, where=f"总表 {self.where}", problems=problems)


class Master:
    """A master workbook opened for reading.

    Raises (on open):
        WorkbookError: unreadable file. DataError: a sheet or required column is missing.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        with open_workbook_zip(self.path):
            pass
        try:
            book = python_calamine.CalamineWorkbook.from_path(str(self.path))
        except Exception as exc:
            raise WorkbookError(f"无法读取总表：{exc}", where=str(self.path)) from None
        # rows are kept as compact tuples (strings interned: names and levels repeat a lot), so a
        # 10,000-project master stays small; mappings are built per project when it is yielded
        self.columns: dict[str, dict[str, int]] = {}
        self.tables: dict[str, list[tuple[int, tuple]]] = {}
        strings: dict[str, str] = {}
        problems = []
        for sheet, columns in SHEETS.items():
            if sheet not in book.sheet_names:
                problems.append(f"缺少工作表“{sheet}”")
                continue
            rows = book.get_sheet_by_name(sheet).iter_rows()
            header = [str(h).strip() for h in next(rows, [])]
            if not header:
                self.tables[sheet], self.columns[sheet] = [], {}
                continue
            known = {name for name, _ in columns}
            for k, h in enumerate(header, 1):
                if h and h not in known:
                    problems.append(f"{sheet}!第1行第{k}列：未知列名“{h}”（可用：{'、'.join(known)}）")
            for name, required in columns:
                if required and name not in header:
                    problems.append(f"{sheet}：缺少必填列“{name}”")
            index = {h: k for k, h in enumerate(header) if h in known}
            self.columns[sheet] = {h: i for i, h in enumerate(index)}
            positions = list(index.values())
            table = []
            intern = strings.setdefault
            for r, row in enumerate(rows, 2):
                values = []
                for k in positions:                  # the loop runs for every cell of a large master: kept flat
                    v = row[k] if k < len(row) else None
                    if v == "" or v is None:
                        values.append(None)
                    elif isinstance(v, str):
                        v = v.strip()
                        values.append(intern(v, v) if v else None)
                    elif isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
                        values.append(int(v))
                    else:
                        values.append(v)
                if values.count(None) < len(values):
                    table.append((r, tuple(values)))
            self.tables[sheet] = table
        if problems:
            raise DataError("总表格式不符", where=str(self.path), problems=problems)
        self.units = {str(item["单位名称"]): item for _, item in self.rows("单位") if item.get("单位名称")}

    def rows(self, sheet: str, indices: list[int] | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
        """(row number, {column: value}) for the rows of a sheet (all, or those at ``indices``)."""
        cols = self.columns.get(sheet, {})
        table = self.tables.get(sheet, [])
        for i in (range(len(table)) if indices is None else indices):
            r, values = table[i]
            yield r, {h: values[k] for h, k in cols.items()}

    def __len__(self) -> int:
        return len(self.tables["项目"])

    def projects(self) -> Iterator[MasterProject | DataError]:
        """Yield each project (or a DataError for a row that cannot even be grouped), in sheet order."""
        by_code: dict[str, dict[str, list[int]]] = {}
        for sheet in ("资金", "指标", "目标"):
            k = self.columns[sheet].get("项目编码")
            for i, (r, values) in enumerate(self.tables[sheet]):
                code = values[k] if k is not None else None
                if code is None:
                    yield DataError("缺少项目编码", where=f"总表 {sheet}!第{r}行")
                    continue
                by_code.setdefault(str(code), {}).setdefault(sheet, []).append(i)
        seen: set[str] = set()
        profiles = set(list_profiles())
        for r, item in self.rows("项目"):
            code, unit, name = (str(item[k]) if item.get(k) is not None else None
                                for k in ("项目编码", "单位名称", "项目名称"))
            where = f"总表 项目!第{r}行"
            missing = [k for k, v in (("项目编码", code), ("单位名称", unit), ("项目名称", name)) if v is None]
            if missing:
                yield DataError(f"缺少{'、'.join(missing)}", where=where)
                continue
            if code in seen:
                yield DataError(f"项目编码“{code}”重复", where=where, hint="每个项目的编码必须唯一")
                continue
            seen.add(code)
            profile = str(item.get("评分规则") or "national")
            if profile not in profiles:
                yield DataError(f"评分规则“{profile}”不存在（可用：{'、'.join(sorted(profiles))}）", where=where)
                continue
            unit_info = self.units.get(unit, {})
            parts = {sheet: list(self.rows(sheet, idx)) for sheet, idx in by_code.get(code, {}).items()}
            data: dict[str, Any] = {"评分规则": profile, "项目名称": name, "实施单位": unit,
                                    "主管部门": item.get("主管部门") or unit_info.get("主管部门")}
            for key in ("年度", "执行率说明", "目标自评分"):
                if item.get(key) is not None:
                    data[key] = item[key]
            funds: dict[str, dict] = {}
            for _, f in parts.get("资金", []):
                src = str(f.get("资金来源"))
                funds[src] = {k: f[k] for k in ("年初预算数", "全年预算数", "全年执行数") if f.get(k) is not None}
            data["资金"] = funds
            data["年度总体目标"] = [{k: g[k] for k in ("预期目标", "实际完成情况") if g.get(k) is not None}
                              for _, g in parts.get("目标", [])]
            indicators, rows = [], []
            for ir, ind in parts.get("指标", []):
                indicators.append({k: v for k, v in ind.items() if k != "项目编码" and v is not None})
                rows.append(ir)
            data["绩效指标"] = indicators
            yield MasterProject(code, unit, name, profile, data, r, rows)
        unknown = set(by_code) - seen
        for code in sorted(unknown):
            sheet, idx = next(iter(by_code[code].items()))
            yield DataError(f"项目编码“{code}”在“项目”表中不存在", where=f"总表 {sheet}!第{self.tables[sheet][idx[0]][0]}行")


def write_master(path: str | Path, rows: dict[str, list[list[Any]]] | None = None) -> None:
    """Write a master workbook (empty, or with ``rows`` per sheet) with headers, dropdowns and validation.

    The master is the bureau's own working file, not an official template, so it is authored with openpyxl.
    """
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(name="宋体", bold=True)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    for sheet, columns in SHEETS.items():
        ws = wb.create_sheet(sheet)
        for k, (name, required) in enumerate(columns, 1):
            c = ws.cell(1, k, name)
            c.font, c.fill, c.alignment = bold, head_fill, Alignment(horizontal="center")
            ws.column_dimensions[c.column_letter].width = 28 if name in ("项目名称", "三级指标", "预期目标",
                                                                        "实际完成情况", "偏差原因") else 13
        ws.freeze_panes = "A2"
        for row in (rows or {}).get(sheet, []):
            ws.append(row)
    lists = wb.create_sheet("选项")
    profile_ids = list_profiles()
    l1 = sorted({l.name for p in profile_ids for l in load_profile(p).level1})
    l2 = sorted({x for p in profile_ids for x in load_profile(p).level2_names})
    sources = sorted({s for p in profile_ids for s in load_profile(p).fund_sources})
    for col, (head, values) in enumerate((("评分规则", profile_ids), ("一级指标", l1), ("二级指标", l2),
                                          ("指标性质", ["≥", "＞", "＝", "≤", "＜", "定性"]),
                                          ("完成等级", ["达成", "部分达成", "未达成"]), ("资金来源", sources)), 1):
        lists.cell(1, col, head).font = bold
        for r, v in enumerate(values, 2):
            lists.cell(r, col, v)
    letters = {h: lists.cell(1, k).column_letter for k, h in enumerate(
        ("评分规则", "一级指标", "二级指标", "指标性质", "完成等级", "资金来源"), 1)}
    counts = {"评分规则": len(profile_ids), "一级指标": len(l1), "二级指标": len(l2), "指标性质": 6,
              "完成等级": 3, "资金来源": len(sources)}

    def add_list(ws, col_name: str, list_name: str) -> None:
        k = [n for n, _ in SHEETS[ws.title]].index(col_name) + 1
        letter = ws.cell(1, k).column_letter
        src = f"选项!${letters[list_name]}$2:${letters[list_name]}${counts[list_name] + 1}"
        dv = DataValidation(type="list", formula1=src, allow_blank=True, showErrorMessage=True,
                            errorTitle="输入无效", error=f"请从下拉列表选择{col_name}")
        dv.add(f"{letter}2:{letter}5000")
        ws.add_data_validation(dv)

    def add_number(ws, col_name: str) -> None:
        k = [n for n, _ in SHEETS[ws.title]].index(col_name) + 1
        letter = ws.cell(1, k).column_letter
        dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                            showErrorMessage=True, errorTitle="输入无效", error=f"{col_name}应为大于或等于0的数字")
        dv.add(f"{letter}2:{letter}5000")
        ws.add_data_validation(dv)

    add_list(wb["项目"], "评分规则", "评分规则")
    add_list(wb["资金"], "资金来源", "资金来源")
    for col in ("年初预算数", "全年预算数", "全年执行数"):
        add_number(wb["资金"], col)
    add_list(wb["指标"], "一级指标", "一级指标")
    add_list(wb["指标"], "二级指标", "二级指标")
    add_list(wb["指标"], "指标性质", "指标性质")
    add_list(wb["指标"], "完成等级", "完成等级")
    add_number(wb["指标"], "分值")
    buf = io.BytesIO()
    wb.save(buf)
    write_output(path, buf.getvalue())
