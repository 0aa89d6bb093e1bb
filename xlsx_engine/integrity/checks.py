"""勾稽校验: read any 自评表 back and report every number that does not add up, every score that breaks the
rules and every alteration of our templates.

* :class:`Finding` — one problem: severity (错误 / 警告 / 提示), code, place (``sheet!cell`` or a named
  range), a Chinese message and what to do. :class:`FileReport` — the findings of one file.
* :func:`check_file` / :func:`check_paths` — the entry points (``jxzp check``). A workbook made from one of
  our templates is recognised by its identity (document properties, mirrored on the hidden 字典 sheet) and
  gets the integrity checks of :mod:`xlsx_engine.integrity.tamper` plus a cell-by-cell comparison of every formula's
  cached value with the Python scorer's result; any other workbook is read by its labels
  (:mod:`xlsx_engine.integrity.legacy`) and its printed figures are recomputed from its printed inputs.
* Cached values are never trusted: every total, rate, score and grade is recomputed from the inputs with
  :mod:`xlsx_engine.forms.project.scoring` (the twin of the template's formulas) and compared with what the file shows.

Nothing here raises for a bad file: unreadable files become a finding with code ``unreadable``.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from xlsx_engine.forms.project.layout import project_layout
from xlsx_engine.forms.project.profile import Profile, list_profiles, load_profile
from xlsx_engine.forms.project.readback import RESULT_NAMES
from xlsx_engine.forms.project.record import FundLine, Goal, IndicatorRow, ProjectRecord
from xlsx_engine.forms.project.scoring import (
    QUANT_OPS,
    Result,
    evaluate,
    form_started,
    fund_score,
    is_active,
    is_started,
    quantitative_score,
    row_flags,
    row_messages,
)
from xlsx_engine.forms.registry import form_for
from xlsx_engine.integrity.legacy import (
    norm,
    number,
    rate_value,
    read_tables,
    to_record,
)
from xlsx_engine.integrity.tamper import (
    LEGACY_SUFFIXES,
    MACRO_SUFFIXES,
    _cell_label,
    a1,
    compare_cells,
    expected_for,
    locate,
    norm_label,
    open_package,
    parse_ref,
)
from xlsx_engine.kernel.errors import JxzpError, ProfileError, WorkbookError
from xlsx_engine.kernel.excel import NA, nonblank
from xlsx_engine.kernel.findings import ERROR, INFO, WARNING, Finding
from xlsx_engine.kernel.targets import OP_QUAL, parse_quantity
from xlsx_engine.kernel.xlmath import is_number, xnum, xround
from xlsx_engine.ooxml.sheetmodel import IDENTITY_KEYS as keys

_RANK = {ERROR: 0, WARNING: 1, INFO: 2}
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".et", ".ett", ".xlsb", ".ods")
MAX_PER_CODE = 40           #: findings of one code listed per file; the rest are counted
MONEY_TOL = 0.005           #: amounts and scores are printed to the cent


# ============================================================================ model

@dataclass
class FileReport:
    """The result of checking one file."""

    file: str
    kind: str = ""                          #: 本系统模板 | 外来表格 | 无法读取
    profile: str | None = None
    template: dict[str, str] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    unreadable: bool = False

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def codes(self) -> set[str]:
        return {f.code for f in self.findings}

    def to_dict(self) -> dict[str, Any]:
        return {"文件": self.file, "类型": self.kind, "评分规则": self.profile, "模板标识": self.template,
                "结果": self.summary, "错误": self.count(ERROR), "警告": self.count(WARNING), "提示": self.count(INFO),
                "无法读取": self.unreadable, "发现": [f.to_dict() for f in self.findings]}


class Collector:
    """Gathers the findings of one file: drops exact duplicates and caps each code at :data:`MAX_PER_CODE`."""

    def __init__(self, file: str):
        self.file = file
        self.items: list[Finding] = []
        self._seen: set[tuple[str, str, str]] = set()
        self._count: dict[str, int] = {}
        self._dropped: dict[str, int] = {}

    def add(self, severity: str, code: str, place: str, message: str, hint: str = "") -> None:
        key = (code, place, message)
        if key in self._seen:
            return
        self._seen.add(key)
        n = self._count.get(code, 0)
        self._count[code] = n + 1
        if n >= MAX_PER_CODE:
            self._dropped[code] = self._dropped.get(code, 0) + 1
            return
        self.items.append(Finding(severity, code, place, message, hint, self.file))

    def has(self, code: str) -> bool:
        return code in self._count

    def finish(self) -> list[Finding]:
        for code, n in self._dropped.items():
            self.items.append(Finding(INFO, "truncated", "", f"另有 {n} 处同类问题（{code}）未逐一列出", "", self.file))
        return sorted(self.items, key=lambda f: _RANK.get(f.severity, 3))


def exit_code(reports: Iterable[FileReport]) -> int:
    """2 when a file could not be read at all, else 1 when any 错误 was found, else 0."""
    reports = list(reports)
    if any(r.unreadable for r in reports):
        return 2
    return 1 if any(r.count(ERROR) for r in reports) else 0


# ============================================================================ formatting

def fmt(value: Any) -> str:
    if value is None or value == "":
        return "（空）"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if is_number(value):
        v = float(value)
        if v == int(v) and abs(v) < 1e15:
            return str(int(v))
        return f"{v:.4f}".rstrip("0").rstrip(".")
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def pct(value: Any) -> str:
    return f"{float(value) * 100:.2f}%" if is_number(value) else fmt(value)


def same(a: Any, b: Any) -> bool:
    """Cell equality as a reader sees it: numbers to 1e-9 relative, "" equals empty."""
    if is_number(a) and is_number(b):
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)), abs(float(b)))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or a == b and type(a) is type(b)
    a = "" if a is None else a
    b = "" if b is None else b
    return a == b


# ============================================================================ entry points

def collect_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand folders (recursively) into the spreadsheet files they hold; files are kept as given."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.suffix.lower() in SPREADSHEET_SUFFIXES and not f.name.startswith(("~$", ".")):
                    out.append(f)
        else:
            out.append(p)
    return out


def check_file(path: str | Path, profile: str | None = None) -> FileReport:
    """Check one workbook. Never raises for a bad file.

    Args:
        path: the workbook.
        profile: the scoring profile the file must follow (for our templates: a mismatch is an error; for
            other tables: the rules to check against; default ``national``).
    """
    path = Path(path)
    report = FileReport(str(path))
    coll = Collector(str(path))
    try:
        try:
            pkg = open_package(path)
        except WorkbookError as exc:
            report.unreadable, report.kind = True, "无法读取"
            coll.add(ERROR, "unreadable", "", exc.message, exc.hint or "")
            return _done(report, coll)
        with pkg:
            _check_package(pkg, report, coll, profile)
    except WorkbookError as exc:
        report.unreadable, report.kind = True, "无法读取"
        coll.add(ERROR, "unreadable", exc.where if exc.where and exc.where != str(path) else "", exc.message,
                 exc.hint or "文件可能已损坏，请重新保存后提交")
    except ProfileError as exc:
        coll.add(ERROR, "profile_unknown", "", str(exc), "")
    except JxzpError as exc:
        coll.add(ERROR, "unreadable", "", str(exc), "")
        report.unreadable = True
    except RecursionError:
        report.unreadable, report.kind = True, "无法读取"
        coll.add(ERROR, "unreadable", "", "文件结构嵌套过深，无法读取", "文件可能已损坏")
    except MemoryError:
        report.unreadable, report.kind = True, "无法读取"
        coll.add(ERROR, "unreadable", "", "文件过大，内存不足，无法读取", "")
    except Exception as exc:  # a bug: reported, never a traceback
        if os.environ.get("JXZP_DEBUG"):
            raise
        coll.add(ERROR, "internal", "", f"内部错误：{type(exc).__name__}: {exc}",
                 "请设置 JXZP_DEBUG=1 重试，并把文件反馈给开发者")
    return _done(report, coll)


def _done(report: FileReport, coll: Collector) -> FileReport:
    report.findings = coll.finish()
    return report


def _check_one(args: tuple[str, str | None]) -> FileReport:
    return check_file(args[0], args[1])


def check_paths(paths: Iterable[str | Path], profile: str | None = None, workers: int | None = None
                ) -> list[FileReport]:
    """Check files and folders. Large batches are spread over worker processes (at most 2 by default)."""
    files = collect_files(paths)
    if profile is not None:
        load_profile(profile)          # fail early (ProfileError) on an unknown profile
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if len(files) >= 24 else 1
    if workers > 1 and len(files) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        expected_for(profile or "national")            # warm the caches before forking
        try:
            ctx = multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None
            with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
                chunk = max(1, min(64, len(files) // (workers * 4)))
                return list(pool.map(_check_one, [(str(f), profile) for f in files], chunksize=chunk))
        except (OSError, BrokenProcessPool, PermissionError):
            pass                                       # no processes here: check in this one
    return [check_file(f, profile) for f in files]


# ============================================================================ dispatch

def identify(pkg, add: Callable[..., None]) -> dict[str, str]:
    """The template identity of a workbook: document properties, or the 字典 sheet's copy of them."""
    props = pkg.custom_properties
    mirror: dict[str, str] = {}
    where = ""
    for name, state, path in pkg.sheets:
        if not path or (state == "visible" and name != "字典"):
            continue
        sheet = pkg.sheet(name)
        if [norm_label(sheet.value(f"G{k}")) for k in range(1, 5)] == list(keys):
            mirror = {key: norm_label(sheet.value(f"H{k}")) for k, key in enumerate(keys, 1)}
            where = f"{name}!H1:H4"
            break
    if props.get("评分规则"):
        if mirror and any(mirror[k] != (props.get(k) or "") for k in keys):
            diff = [k for k in keys if mirror[k] != (props.get(k) or "")]
            add(ERROR, "meta_inconsistent", where,
                f"模板标识不一致：文档属性与隐藏工作表中的{'、'.join(diff)}不同（如 {diff[0]}："
                f"{fmt(props.get(diff[0]))} ≠ {fmt(mirror[diff[0]])}）", "模板标识被改动；请使用原模板重新填报")
        return {k: props.get(k, "") for k in keys}
    if mirror.get("评分规则"):
        add(WARNING, "meta_missing", "docProps/custom.xml", "文档属性中的模板标识缺失（已按隐藏工作表中的标识识别）",
            "文件可能被其他软件另存；请核实")
        return mirror
    return {}


def _check_package(pkg, report: FileReport, coll: Collector, profile: str | None) -> None:
    suffix = pkg.path.suffix.lower()
    macro = pkg.macro_parts()
    meta = identify(pkg, coll.add)
    ours = bool(meta)
    if macro or suffix in MACRO_SUFFIXES:
        what = f"含宏（{macro[0]}）" if macro and not macro[0].startswith("[") else "为启用宏的格式"
        if ours:
            coll.add(ERROR, "macro", macro[0] if macro else "", f"模板被另存为启用宏的工作簿，文件{what}；本程序不会运行宏",
                     "请用下发的 .xlsx 模板重新填报，不要另存为 .xlsm")
        else:
            coll.add(WARNING, "macro", macro[0] if macro else "", f"文件{what}；本程序不会运行宏",
                     "请另存为不含宏的 .xlsx（Excel 工作簿）后提交")
    if suffix in LEGACY_SUFFIXES or suffix == ".xlsb":
        coll.add(WARNING, "file_format", "", f"文件扩展名为 {suffix}，内容却是 .xlsx 工作簿", "请把扩展名改为 .xlsx")
    if ours:
        report.kind = "本系统模板"
        _check_ours(pkg, report, coll, meta, profile)
    else:
        report.kind = "外来表格"
        _check_legacy(pkg, report, coll, profile)


# ============================================================================ our templates

#: formula results compared by name when rows or columns moved: name -> the Python value
_RESULT_NAMES = RESULT_NAMES
_TEXT_NAMES = ("指标提示", "校验提示", "校验结论")


class _OursReader:
    """Reads a template's inputs by name (or, for a moved/deleted name, at the template position)."""

    def __init__(self, pkg, exp, loc):
        self.pkg, self.exp, self.loc = pkg, exp, loc
        self.sheet = loc.sheet
        self._cells: dict[str, list] = {}

    def cells(self, name: str) -> list[tuple[int, int] | None]:
        got = self._cells.get(name)
        if got is None:
            ref = self.pkg.names.get(name)
            if self.loc.name_ok.get(name) and ref is not None and ref.sheet == self.loc.main_name:
                got = [(r, c) for r in range(ref.first[0], ref.last[0] + 1)
                       for c in range(ref.first[1], ref.last[1] + 1)]
            else:
                eref = self.exp.names_main[name]
                got = [self.loc.where((r, c)) for r in range(eref.first[0], eref.last[0] + 1)
                       for c in range(eref.first[1], eref.last[1] + 1)]
            self._cells[name] = got
        return got

    def value(self, rc: tuple[int, int] | None) -> Any:
        if rc is None:
            return None
        cell = self.sheet.cells.get(rc)
        if cell is None or cell.value == "":
            return None
        return cell.value

    def values(self, name: str) -> list[Any]:
        return [self.value(rc) for rc in self.cells(name)]

    def place(self, name: str, i: int = 0) -> str:
        cells = self.cells(name)
        rc = cells[i] if i < len(cells) else None
        if rc is None:
            return f"名称“{name}”"
        return f"{self.loc.main_name}!{a1(*rc)}"

    def record(self, layout) -> ProjectRecord:
        p = layout.profile
        one = lambda n: self.values(n)[0]  # noqa: E731
        rec = ProjectRecord(p.id, year=one("年度"), project=one("项目名称"), department=one("主管部门"),
                            unit=one("实施单位"), rate_reason=one("执行率说明"))
        for source, a, b, c in zip(p.fund_sources, self.values("来源年初预算数"), self.values("来源全年预算数"),
                                   self.values("来源全年执行数")):
            rec.funds.append(FundLine(source, a, b, c))
        rec.goals = [Goal(e, a) for e, a in zip(self.values("预期目标"), self.values("实际完成情况"))]
        if p.has_target_block:
            rec.target_score = one("目标自评分")
        cols = {spec["key"]: self.values(spec["name"]) for spec in layout.form.columns}
        keys = ("level1", "level2", "name", "op", "target", "unit", "actual", "band", "weight", "manual", "reason")
        n = min(len(cols[k]) for k in keys)
        for i in range(n):
            rec.indicators.append(IndicatorRow(**{k: cols[k][i] for k in keys}))
        return rec


def read_ours(pkg, meta: dict[str, str]):
    """(layout, record) of one of our workbooks, read by name where the names are intact; None when the
    template cannot be identified (unknown profile or version, main sheet gone)."""
    try:
        layout = project_layout(meta.get("评分规则") or "")
    except ProfileError:
        return None
    if meta.get("模板版本") != layout.form.version:
        return None
    exp = expected_for(layout.profile.id)
    loc = locate(pkg, exp, lambda *a: None)
    if loc is None:
        return None
    return layout, _OursReader(pkg, exp, loc).record(layout)


def _check_other_form(pkg, report: FileReport, coll: Collector, meta: dict[str, str]) -> None:
    """Our templates other than the 项目支出 form (部门整体, 湖南项目报告...): integrity, every formula's
    cached value against the recomputation from the inputs, and the form's own self-checks."""
    add = coll.add
    pid, tid = meta.get("评分规则") or "", meta.get("模板编号") or ""
    try:
        layout = form_for(tid).layout(pid)
    except (JxzpError, OSError):
        add(ERROR, "profile_unknown", "docProps/custom.xml", f"模板标识“{tid}”（评分规则“{pid}”）无法识别",
            "请使用下发的模板重新填报")
        return
    if meta.get("模板版本") != layout.form.version:
        add(ERROR, "version_mismatch", "docProps/custom.xml",
            f"模板版本为“{meta.get('模板版本')}”，与本程序的版本“{layout.form.version}”不一致", "请使用最新下发的模板重新填报")
        return
    exp = expected_for(pid, tid)
    if meta.get("版式指纹") != exp.fingerprint:
        add(ERROR, "fingerprint_mismatch", "docProps/custom.xml",
            f"版式指纹“{meta.get('版式指纹')}”与模板（{exp.fingerprint}）不符，模板标识被改动", "请使用下发的模板重新填报")
    loc = locate(pkg, exp, add)
    if loc is None:
        return

    def value(ref: str) -> Any:
        rc = loc.where(parse_ref(ref))
        cell = loc.sheet.cells.get(rc) if rc is not None else None
        return None if cell is None or cell.value == "" else cell.value

    rec, result = layout.evaluate(layout.record_from_cells(value))
    twins = {} if loc.structural else {parse_ref(ref): v for ref, v in layout.formula_values(result, rec).items()}
    compare_cells(pkg, exp, loc, add, twins)
    for rc, want in twins.items():
        if rc in loc.replaced or rc in loc.edited:
            continue
        cell = loc.sheet.cells.get(rc)
        if cell is None or cell.formula is None or not cell.has_v or same(cell.value, want):
            continue
        add(ERROR, "cached_mismatch", f"{loc.main_name}!{a1(*rc)}",
            f"表中显示 {fmt(cell.value)}，按填报数据重新计算应为 {fmt(want)}",
            "公式结果与数据不符（可能被改动或未重新计算）；请在 Excel/WPS 中重新计算后保存，或使用原模板重新填报")
    checks_place = layout.names.get("校验提示", "").split("!")[-1].replace("$", "")
    for text in result.problems:
        add(WARNING, "self_check", f"{loc.main_name}!{checks_place}" if checks_place else loc.main_name,
            text.rstrip("；"), "按提示补充或更正后重新提交")
    report.summary = {"总分": result.total, "评价等次": result.grade}


def _check_ours(pkg, report: FileReport, coll: Collector, meta: dict[str, str], wanted: str | None) -> None:
    add = coll.add
    report.template = dict(meta)
    pid = meta.get("评分规则") or ""
    report.profile = pid
    if not str(meta.get("模板编号") or "xmzc-").startswith("xmzc-"):
        _check_other_form(pkg, report, coll, meta)
        return
    try:
        layout = project_layout(pid)
    except ProfileError:
        add(ERROR, "profile_unknown", "docProps/custom.xml", f"模板标识中的评分规则“{pid}”不存在（模板标识被改动）",
            "请使用下发的模板重新填报")
        _check_legacy(pkg, report, coll, wanted)
        return
    if wanted and wanted != pid:
        add(ERROR, "profile_mismatch", "docProps/custom.xml",
            f"本表使用评分规则“{pid}”（{layout.profile.name}），而本次要求的规则为“{wanted}”",
            f"请使用“{wanted}”规则的模板（xmzc-{wanted}.xlsx）重新填报")
    if meta.get("模板版本") != layout.form.version:
        add(ERROR, "version_mismatch", "docProps/custom.xml",
            f"模板版本为“{meta.get('模板版本')}”，与本程序的版本“{layout.form.version}”不一致",
            "请使用最新下发的模板重新填报（jxzp build 生成）；以下按表格标签核对")
        _check_legacy(pkg, report, coll, pid)
        return
    if meta.get("模板编号") != layout.template_id:
        add(ERROR, "meta_inconsistent", "docProps/custom.xml",
            f"模板编号“{meta.get('模板编号')}”与评分规则“{pid}”不符（应为“{layout.template_id}”）",
            "模板标识被改动；请使用原模板重新填报")
    exp = expected_for(pid)
    if meta.get("版式指纹") != exp.fingerprint:
        add(ERROR, "fingerprint_mismatch", "docProps/custom.xml",
            f"版式指纹“{meta.get('版式指纹')}”与规则“{pid}”的模板（{exp.fingerprint}）不符，"
            "模板标识或评分规则被改动", "请使用下发的模板重新填报")
    loc = locate(pkg, exp, add)
    if loc is None:
        return
    reader = _OursReader(pkg, exp, loc)
    record = reader.record(layout)
    rec, result = layout.evaluate(record)
    twins = {} if loc.structural else {parse_ref(ref): v for ref, v in layout.formula_values(result, rec).items()}
    compare_cells(pkg, exp, loc, add, twins)

    # --- every formula's cached value against the recomputation
    text_cells = set()
    for name in _TEXT_NAMES:
        ref = exp.names_main.get(name)
        if ref is not None:
            text_cells |= _cells_of(ref)
    pct_cells = {exp.names_main["执行率"].first} | _cells_of(exp.names_main["来源执行率"])
    missing = 0
    if not loc.structural:
        for rc, want in twins.items():
            if rc in loc.replaced or rc in loc.edited:
                continue
            cell = loc.sheet.cells.get(rc)
            if cell is None or cell.formula is None:
                continue
            if not cell.has_v:
                missing += 1
                continue
            if not same(cell.value, want):
                show = pct if rc in pct_cells else fmt
                sev = WARNING if rc in text_cells else ERROR
                add(sev, "cached_mismatch", f"{loc.main_name}!{a1(*rc)}",
                    f"{_cell_label(exp, rc)}显示为 {show(cell.value)}，按规则由填报数据重算为 {show(want)}",
                    "表中显示的结果不是按公式算出的（缓存值被改动或文件未重算）；请在 Excel/WPS 中打开并保存，或重新填报")
    else:
        compare: list[tuple[str, int, Any, str]] = []
        for name, get in _RESULT_NAMES.items():
            compare.append((name, 0, get(result), ERROR if name not in _TEXT_NAMES else WARNING))
        for i, row in enumerate(result.indicators):
            compare.append(("得分", i, row.score, ERROR))
            compare.append(("指标提示", i, row.message, WARNING))
        for i, r in enumerate(result.fund.source_rates):
            compare.append(("来源执行率", i, r, ERROR))
        for name, i, want, sev in compare:
            if not loc.name_ok.get(name):
                continue
            cells = reader.cells(name)
            if i >= len(cells) or cells[i] is None:
                continue
            cell = loc.sheet.cells.get(cells[i])
            if cell is None or cell.formula is None:
                continue
            if not cell.has_v:
                missing += 1
                continue
            if not same(cell.value, want):
                show = pct if name in ("执行率", "来源执行率") else fmt
                what = f"第{i + 1}行指标的“{name}”" if name in ("得分", "指标提示") else f"“{name}”"
                add(sev, "cached_mismatch", reader.place(name, i),
                    f"{what}显示为 {show(cell.value)}，按规则由填报数据重算为 {show(want)}",
                    "表中显示的结果不是按公式算出的；请使用原模板重新填报")
    if missing:
        add(INFO, "cached_missing", loc.main_name,
            f"{missing} 个公式单元格没有保存计算结果（文件由不重算的程序保存），已按公式重算核对",
            "用 Excel/WPS 打开后保存一次即可")

    # --- the rules, on the recomputed figures
    form_name = {spec["key"]: spec["name"] for spec in layout.form.columns}

    def place_row(key: str, i: int) -> str:
        return reader.place(form_name.get(key, "三级指标"), i)

    rule_findings(add, layout.profile, rec, result, place_row, reader.place)
    report.summary = _summary(result)


def _cells_of(ref) -> set[tuple[int, int]]:
    return {(r, c) for r in range(ref.first[0], ref.last[0] + 1) for c in range(ref.first[1], ref.last[1] + 1)}


def _summary(result: Result) -> dict[str, Any]:
    return {"执行率": result.fund.rate if result.fund.rate != NA else "—", "资金得分": result.fund.score,
            "指标分值合计": result.weight_sum, "总分分值": result.total_weight, "总分": result.total,
            "评价等次": result.grade}


# ============================================================================ rules shared by both kinds

def _row_label(rec_row, i: int) -> str:
    name = rec_row.name
    return f"第{i + 1}行指标“{fmt(name)}”" if nonblank(name) else f"第{i + 1}行指标"


def _row_rule(flag: str, row, res, p: Profile, legacy: bool) -> tuple[str, str, str, str]:
    """(severity, field key, message, hint) of one row flag of :func:`xlsx_engine.scoring.row_flags`."""
    if flag == "no_name":
        return ERROR, "name", "有分值或指标值，但缺三级指标名称", "填写指标名称；不用的行请清空"
    if flag == "no_weight":
        return ERROR, "weight", "缺分值" if row.weight is None else f"分值“{fmt(row.weight)}”不是数字", "填写该指标的分值"
    if flag == "bad_level1":
        return (ERROR, "level1", f"一级指标“{fmt(row.level1)}”不在规则“{p.id}”中（应为：{'、'.join(p.level1_names)}）",
                "从下拉列表选择一级指标" if not legacy else "一级指标应为规则中的名称；错列的行请改正")
    if flag == "bad_level2":
        allowed = next((l1.level2 for l1 in p.level1 if l1.name == row.level1), ())
        return (ERROR, "level2", f"二级指标“{fmt(row.level2)}”不属于“{fmt(row.level1)}”（应为：{'、'.join(allowed)}）",
                "按规则把指标放到正确的一级、二级指标下")
    if flag == "bad_op":
        if legacy:
            if row.target is None:
                return ERROR, "target", "缺年度指标值", "填写年度指标值（如“≥95%”“≤90万元”或文字目标）"
            return ERROR, "target", f"年度指标值“{fmt(row.target)}”无法识别", "写作“≥95%”“≤90万元”“=8个”或文字目标"
        return ERROR, "op", f"指标性质“{fmt(row.op)}”无效", "从下拉列表选择 ≥ ＞ ＝ ≤ ＜ 或 定性"
    if flag == "bad_target":
        if row.target is None:
            return ERROR, "target", "缺指标值", "填写指标值"
        return ERROR, "target", f"定量指标的指标值“{fmt(row.target)}”不是数字", "填写数字，单位写在度量单位中"
    if flag == "no_actual":
        return ERROR, "actual", "缺实际完成值", "填写实际完成值（定量指标填实测数，定性指标填完成情况）"
    if flag == "actual_is_target":
        return (ERROR, "actual", f"实际完成值“{fmt(row.actual)}”写成了目标值，不是实测值",
                "填写实际测得的数值（如 96%）；达标应得满分，未达标按实际值计分")
    if flag == "actual_not_number":
        return ERROR, "actual", f"定量指标的实际完成值“{fmt(row.actual)}”不是数字", "填写数字（百分比填 95 或 95%，都按 95% 计）"
    if flag in ("pct_as_written", "pct_one", "pct_scaled"):     # docs/rules.md#percent-actuals
        return (WARNING, "actual", f"实际完成值“{fmt(row.actual)}”：" + row_messages(p)[flag].rstrip("；"),
                "若理解有误，请改写完成值：百分数可直接输入“95%”或填 95")
    if flag == "bad_band":
        if legacy:
            return ERROR, "score", "定性指标没有得分，无法确定完成等级", "按达成/部分达成/未达成档次给出得分"
        return ERROR, "band", "定性指标未选择完成等级（得 0 分）", "从下拉列表选择 达成 / 部分达成 / 未达成"
    if flag == "out_of_band":
        low, high, incl = p.band_bounds(row.band, float(row.weight))
        return (ERROR, "manual" if not legacy else "score",
                f"自评分 {fmt(row.manual)} 不在“{row.band}”档的范围 [{fmt(low)}, {fmt(high)}{']' if incl else ')'} 内",
                "调整自评分或完成等级")
    if flag == "over":
        r = p.over_ratio or 1.3
        return (WARNING, "reason", f"完成值超过指标值{fmt(xround((r - 1) * 100, 2))}%及以上，缺偏差原因",
                "说明“实际完成情况超计划较大”的原因；目标设定过低的，今后应合理设定")
    if flag == "no_reason":
        return (WARNING, "reason", f"未得满分（{fmt(res.score)}/{fmt(row.weight)}），" + row_messages(p)["no_reason"].rstrip("；"),
                "说明未完成的原因和改进措施")
    return WARNING, "name", flag, ""


def row_findings(add, p: Profile, rec: ProjectRecord, result: Result, place_row: Callable[[str, int], str], *,
                 legacy: bool = False, skip: Callable[[str, int], bool] | None = None) -> None:
    """One finding per rule a row breaks; a problem shared by more than 6 rows is reported once, with the rows."""
    groups: dict[str, list[tuple[int, tuple[str, str, str, str]]]] = {}
    started = form_started(rec)
    for i, (row, res) in enumerate(zip(rec.indicators, result.indicators)):
        # a row the unit has not reached shows no warning in the form; once the form is started it is reported
        flags = row_flags(row, p, res.score, True) if started and not is_started(row) else res.flags
        for flag in flags:
            if skip and skip(flag, i):
                continue
            if flag == "no_actual" and is_number(res.score) and res.score > 0:
                add(ERROR, "score_without_actual", place_row("actual", i),
                    f"{_row_label(row, i)}：实际完成值为空，却得 {fmt(res.score)} 分（分值 {fmt(row.weight)}）",
                    "没有完成值不能得分；请填写实际完成值并按规则计分")
                continue
            groups.setdefault(flag, []).append((i, _row_rule(flag, row, res, p, legacy)))
    for flag, items in groups.items():
        if len(items) > 6:
            sev, key, _msg, hint = items[0][1]
            rows = "、".join(str(i + 1) for i, _ in items[:12]) + ("等" if len(items) > 12 else "")
            base = _row_rule(flag, rec.indicators[items[0][0]], result.indicators[items[0][0]], p, legacy)[2]
            base = base.split("“")[0] if "“" in base else base
            add(sev, flag, place_row(key, items[0][0]), f"{len(items)} 行指标{base}（第{rows}行）", hint)
            continue
        for i, (sev, key, msg, hint) in items:
            add(sev, flag, place_row(key, i), f"{_row_label(rec.indicators[i], i)}：{msg}", hint)


def rule_findings(add, p: Profile, rec: ProjectRecord, result: Result, place_row: Callable[[str, int], str],
                  place_name: Callable[..., str]) -> None:
    """The rule checks of one of our workbooks, on the recomputed figures."""
    row_findings(add, p, rec, result, place_row)
    tw = xround(result.total_weight, 2)
    if xround(result.total_weight - p.total, 2) != 0:
        parts = []
        if p.fund_in_total:
            parts.append(f"{p.fund_label} {fmt(p.fund_weight)}")
        if p.has_target_block:
            parts.append(f"{p.target_label} {fmt(p.target_weight)}")
        parts.append(f"绩效指标 {fmt(xround(result.weight_sum, 2))}")
        add(ERROR, "weight_total", place_name("总分分值"),
            f"分值合计为 {fmt(tw)}（{' ＋ '.join(parts)}），规则“{p.id}”要求 {fmt(p.total)}",
            f"调整各指标分值，使绩效指标合计为 {fmt(p.indicator_weight)}")
    _level1_findings(add, p, rec, result, lambda: place_name("分值"))
    fund = result.fund
    if fund.budget <= 0 and fund.rate != "":      # "": nothing entered yet (待填报), not a zero budget
        add(WARNING, "rate_na", place_name("执行率"), "全年预算数为0，执行率无法计算（显示“—”，资金得分为0）",
            "填写全年预算数")
    elif fund.spent > fund.budget:
        add(WARNING, "rate_over_100", place_name("执行率"),
            f"全年执行数 {fmt(fund.spent)} 大于全年预算数 {fmt(fund.budget)}，执行率 {pct(fund.rate)} 超过100%",
            "核实执行数与预算数；资金得分按100%封顶")
    for i, line in enumerate(rec.funds):
        if is_number(line.spent) and line.spent > 0 and not (is_number(line.budget) and line.budget > 0):
            add(WARNING, "rate_na", place_name("来源执行率", i),
                f"“{line.source}”有执行数 {fmt(line.spent)}，但全年预算数为0，执行率无法计算（不是100%）",
                "填写该来源的全年预算数")
    if p.rate_reason_below is not None and fund.budget > 0 and fund.spent / fund.budget < p.rate_reason_below \
            and not nonblank(rec.rate_reason):
        add(WARNING, "rate_reason_missing", place_name("执行率说明"),
            f"执行率 {pct(fund.rate)} 低于 {fmt(p.rate_reason_below * 100)}%，缺执行率偏差说明", "说明预算未执行的原因")
    if p.has_target_block:
        if not is_number(rec.target_score):
            add(ERROR, "target_score_missing", place_name("目标自评分"), f"未填写{p.target_label}自评分（{fmt(p.target_weight)}分）",
                "填写自评分")
        elif rec.target_score > p.target_weight or rec.target_score < 0:
            add(WARNING, "target_score_range", place_name("目标自评分"),
                f"{p.target_label}自评分 {fmt(rec.target_score)} 超出 0–{fmt(p.target_weight)}，按界限计分", "改正自评分")
    goal_findings(add, [(g.expected, g.actual) for g in rec.goals], lambda i: place_name("实际完成情况", i))
    heuristic_findings(add, p, rec, result, place_row)


def _level1_findings(add, p: Profile, rec: ProjectRecord, result: Result, place: Callable[[], str]) -> None:
    active = [r for r in rec.indicators if is_active(r)]
    for l1 in p.level1:
        got = xround(result.level1_weights.get(l1.name, 0.0), 2)
        if l1.weight is not None:
            if xround(got - l1.weight, 2) != 0:
                add(ERROR, "weight_level1", place(), f"{l1.name}分值合计为 {fmt(got)}，规则“{p.id}”规定为 {fmt(l1.weight)}",
                    f"调整{l1.name}下各指标的分值")
        elif active and not any(r.level1 == l1.name for r in active):
            add(WARNING, "level1_missing", place(), f"未设置{l1.name}", f"按规则应设置{l1.name}")


def goal_findings(add, goals: list[tuple[Any, Any]], place: Callable[[int], str]) -> None:
    missing = [i for i, (e, a) in enumerate(goals) if nonblank(e) and not nonblank(a)]
    if missing:
        items = "、".join(f"第{i + 1}项" for i in missing)
        add(WARNING, "goal_actual_missing", place(missing[0]),
            f"年度总体目标{items}只有预期目标，缺实际完成情况（共 {sum(1 for e, _a in goals if nonblank(e))} 项目标）",
            "逐项填写实际完成情况")


_RATE_NAME = ("预算执行率", "资金执行率", "资金使用率", "支出进度")
_BURDEN = ("负担", "投诉", "差错", "事故", "发生率", "违规", "违纪", "欺诈", "成本")
_RISING = ("提高", "提升", "增加", "增长", "上升", "扩大", "加重")


def heuristic_findings(add, p: Profile, rec: ProjectRecord, result: Result, place_row: Callable[[str, int], str]
                       ) -> None:
    """Inconsistencies a table shows by its words (docs/rules.md#seed-errors): double counting, reversed direction, a cost
    target that merely repeats the budget."""
    budget = result.fund.budget
    for i, row in enumerate(rec.indicators):
        if not is_active(row) or not isinstance(row.name, str):
            continue
        name = row.name
        if any(w in name for w in _RATE_NAME):
            add(WARNING, "double_count_rate", place_row("name", i),
                f"{_row_label(row, i)}与资金部分的{p.fund_label}（{fmt(p.fund_weight)}分）重复计分",
                "预算执行率已在资金部分计分，不应再作为绩效指标")
        target = row.target if isinstance(row.target, str) else ""
        if any(w in name for w in _BURDEN) and any(w in target for w in _RISING):
            add(WARNING, "direction_suspect", place_row("target", i),
                f"{_row_label(row, i)}的目标为“{target}”，方向可能写反（负担、投诉、成本类指标应减轻或降低）",
                "核实指标方向")
        if row.level2 == "成本指标" and is_number(row.target) and row.unit in ("万元", None, "") and \
                budget > 0 and abs(row.target - budget) < MONEY_TOL:
            add(INFO, "cost_equals_budget", place_row("target", i),
                f"{_row_label(row, i)}的指标值 {fmt(row.target)} 万元与项目预算相同，没有反映成本控制",
                "成本指标应反映单位成本或成本节约（如“人均救助成本≤900元”）")


# ============================================================================ tables not made by us

def _check_legacy(pkg, report: FileReport, coll: Collector, wanted: str | None) -> None:
    tables = read_tables(pkg)
    if not tables:
        coll.add(ERROR, "not_recognised", "",
                 "未找到项目支出绩效自评表（没有“一级指标”“三级指标”“全年预算数”等表头），无法核对",
                 "请确认文件是项目支出绩效自评表；本系统模板生成的表会被自动识别")
        report.kind = report.kind or "外来表格"
        return
    pid = wanted or "national"
    p = load_profile(pid)
    report.profile = report.profile or pid
    summaries = []
    for t in tables:
        summaries.append(check_table(t, p, coll.add, explicit=wanted is not None))
        for note in t.notes:
            coll.add(INFO, "import_note", t.sheet, note, "")
    report.summary = summaries[0] if len(summaries) == 1 else {"表格": summaries}


def check_table(t, p: Profile, add, *, explicit: bool = False) -> dict[str, Any]:
    """Recompute a printed table from its printed inputs and compare everything it shows.

    Args:
        t: a :class:`xlsx_engine.legacy.Table`.
        p: the profile to check against.
        add: ``add(severity, code, place, message, hint)``.
        explicit: the profile was chosen by the user (otherwise a better-fitting one is suggested).

    Returns:
        A summary (printed and recomputed totals).
    """
    rec, conv = to_record(t, p)
    result = evaluate(_normalised(rec), p)
    sheet = t.sheet
    ft = t.fund_total
    sources = t.fund_sources

    # --- money: 年度资金总额 = Σ sources, 执行率 = B/A, 资金得分 = 分值 × 执行率
    base_label = "全年预算数"
    if "budget" in t.fund_headers:
        base_label = re.sub(r"\(.*\)$", "", _norm_text(t.fund_headers["budget"].value)) or base_label
    names = {"initial": "年初预算数", "budget": base_label, "spent": "全年执行数", "arrived": "实际到位资金",
             "balance": "结余"}
    if ft is not None and sources:
        for key, label in names.items():
            vals = [(s.label, s.num(key)) for s in sources if s.num(key) is not None]
            tot = ft.num(key)
            if vals and tot is not None and abs(math.fsum(v for _l, v in vals) - tot) > MONEY_TOL:
                add(ERROR, "fund_sum", ft.values[key].ref,
                    f"年度资金总额的{label}为 {fmt(tot)}，但各资金来源合计为 {fmt(xround(math.fsum(v for _l, v in vals), 2))}"
                    f"（{' ＋ '.join(f'{l} {fmt(v)}' for l, v in vals)}）", "核对资金来源各行与总额")
    for line in ([ft] if ft is not None else []) + sources:
        arrived, spent, balance = line.num("arrived"), line.num("spent"), line.num("balance")
        if None not in (arrived, spent, balance) and abs(arrived - spent - balance) > MONEY_TOL:
            add(ERROR, "fund_balance", line.values["balance"].ref,
                f"“{line.label}”结余为 {fmt(balance)}，但实际到位 {fmt(arrived)} − 实际支出 {fmt(spent)} = "
                f"{fmt(xround(arrived - spent, 2))}", "核对结余")
    A, B = _printed_total(ft, sources, "budget"), _printed_total(ft, sources, "spent")
    shown_weight = number(ft.values.get("weight")) if ft is not None else None
    if shown_weight is None and t.fund_weight_label:
        shown_weight = t.fund_weight_label[0]
    fund_w_place = (ft.values["weight"].ref if ft is not None and "weight" in ft.values else
                    (t.fund_weight_label[1] if t.fund_weight_label else (ft.ref if ft is not None else sheet)))
    rate_header = t.fund_headers.get("rate")
    if A is not None or B is not None:
        _rate_checks(add, "年度资金总额", ft.values.get("rate") if ft is not None else None, A, B, base_label,
                     ft.ref if ft is not None else sheet)
        for s in sources:
            if "rate" in s.values:
                _rate_checks(add, s.label, s.values.get("rate"), s.num("budget"), s.num("spent"), base_label, s.ref,
                             source=True)
        if rate_header is not None and ft is not None and "rate" in ft.values:
            budget_header = _norm_text(t.fund_headers.get("budget").value) if "budget" in t.fund_headers else ""
            if "B/A" not in _norm_text(rate_header.value).upper() and "(A)" not in budget_header.upper():
                add(INFO, "rate_base_unstated", rate_header.ref,
                    f"执行率未注明计算口径（表头为“{fmt(rate_header.value)}”，没有写明是 全年执行数/{base_label}）",
                    "表头应写明“执行率（B/A）”和“全年预算数（A）”")
        if shown_weight is not None and abs(shown_weight - p.fund_weight) > 1e-9:
            add(ERROR, "fund_weight", fund_w_place,
                f"资金（{p.fund_label}）分值为 {fmt(shown_weight)}，规则“{p.id}”规定为 {fmt(p.fund_weight)}",
                "按规则设置资金分值" + ("" if explicit else "，或用 --profile 指定适用的评分规则"))
        score_pc = ft.values.get("score") if ft is not None else None
        shown_fs = number(score_pc)
        if shown_fs is not None:
            w = shown_weight if shown_weight is not None else p.fund_weight
            want = fund_score(A or 0.0, B or 0.0, w, p.digits)
            if abs(shown_fs - want) > MONEY_TOL:
                rate_text = pct((B or 0.0) / A) if A else "无法计算"
                add(ERROR, "fund_score", score_pc.ref,
                    f"资金得分为 {fmt(shown_fs)}，按 分值×执行率（{fmt(w)}×{rate_text}，执行率超过100%按100%计）应为 {fmt(want)}",
                    "按规则重新计算资金得分")
    # --- the target block (项目绩效目标, Hubei)
    shown_ts = number(t.target_score)
    if t.target_weight_label or shown_ts is not None:
        if not p.has_target_block:
            add(ERROR, "target_block", (t.target_weight_label or (0, t.target_score.ref))[1],
                f"表中有“{fmt(t.goal_label.value if t.goal_label else '项目绩效目标')}”的自评分，规则“{p.id}”没有此项",
                "" if explicit else "用 --profile 指定适用的评分规则（如 hubei-wuhan）")
        else:
            if t.target_weight_label and abs(t.target_weight_label[0] - p.target_weight) > 1e-9:
                add(ERROR, "target_weight", t.target_weight_label[1],
                    f"{p.target_label}分值为 {fmt(t.target_weight_label[0])}，规则“{p.id}”规定为 {fmt(p.target_weight)}", "")
            if shown_ts is None:
                add(ERROR, "target_score_missing", t.goal_label.ref if t.goal_label else sheet,
                    f"未给出{p.target_label}自评分", "填写自评分")
            elif shown_ts > (t.target_weight_label[0] if t.target_weight_label else p.target_weight) + 1e-9:
                add(ERROR, "score_over_weight", t.target_score.ref,
                    f"{p.target_label}自评分 {fmt(shown_ts)} 超过分值 {fmt(p.target_weight)}", "改正自评分")
    elif p.has_target_block:
        add(ERROR, "target_score_missing", t.goal_label.ref if t.goal_label else sheet,
            f"表中没有{p.target_label}自评分（规则“{p.id}”为 {fmt(p.target_weight)} 分）", "")

    # --- indicator rows: the rules and the printed scores
    def place_row(key: str, i: int) -> str:
        key = {"op": "target", "unit": "target", "band": "score", "manual": "score"}.get(key, key)
        return t.place(key, i)

    shown = [c.shown_score for c in conv]
    no_actual_scored: set[int] = set()
    for i, (row, res) in enumerate(zip(rec.indicators, result.indicators)):
        s = shown[i]
        if "no_actual" in res.flags and s is not None and s > 0:
            no_actual_scored.add(i)
            add(ERROR, "score_without_actual", place_row("actual", i),
                f"{_row_label(row, i)}：实际完成值为空，却得 {fmt(s)} 分（分值 {fmt(row.weight)}）",
                "没有完成值不能得分；请填写实际完成值并按规则计分")

    def skip(flag: str, i: int) -> bool:
        if flag == "no_actual" and i in no_actual_scored:
            return True
        if flag == "no_weight" and not t.has_weights:
            return True
        if flag == "bad_band" and not t.has_scores:
            return True
        return False

    row_findings(add, p, rec, result, place_row, legacy=True, skip=skip)
    for i, (r, c) in enumerate(zip(t.rows, conv)):
        odd = []
        name_pc, reason_pc = r.cells.get("name"), r.cells.get("reason")
        if name_pc is not None and not name_pc.blank and (isinstance(name_pc.value, float) or
                                                           parse_quantity(name_pc.text) is not None):
            odd.append(f"三级指标列为“{name_pc.text}”（像是数值）")
        if reason_pc is not None and not reason_pc.blank and number(reason_pc) is not None:
            odd.append(f"偏差原因列为“{reason_pc.text}”（像是分数）")
        if odd:
            add(WARNING, "row_misaligned", place_row("name", i),
                f"{_row_label(c.row, i)}：{'，'.join(odd)}，该行可能错列", "把该行各项移到对应的列中")
    for i, (row, res) in enumerate(zip(rec.indicators, result.indicators)):
        s = shown[i]
        if s is None:
            continue
        if is_number(row.weight) and s > row.weight + 1e-9:
            add(ERROR, "score_over_weight", place_row("score", i),
                f"{_row_label(row, i)}：得分 {fmt(s)} 超过分值 {fmt(row.weight)}", "得分不能大于分值")
            continue
        rule = res.score
        if not is_number(rule) or abs(s - rule) <= MONEY_TOL or i in no_actual_scored:
            continue
        if "actual_is_target" in res.flags:
            add(ERROR, "score_mismatch", place_row("score", i),
                f"{_row_label(row, i)}：实际完成值“{fmt(row.actual)}”不是实测值，按规则无法计分（0 分），表中却得 {fmt(s)} 分；"
                f"若已达标应为满分 {fmt(row.weight)} 分，若未达标须填写实测值", "填写实测的完成值，按规则重新计分")
        else:
            why = f"指标值 {fmt(conv[i].target_text)}，实际完成值 {fmt(row.actual)}"
            add(ERROR, "score_mismatch", place_row("score", i),
                f"{_row_label(row, i)}：得分 {fmt(s)}，按规则应为 {fmt(rule)}（{why}）", "按计分规则重新计算")

    # --- weights
    if t.has_weights:
        ws = xround(result.weight_sum, 2)
        weight_place = t.total_weight.ref if t.total_weight is not None else t.place("weight", 0) if t.rows else sheet
        if abs(ws - p.indicator_weight) > MONEY_TOL and t.rows:
            add(ERROR, "weight_indicators", weight_place,
                f"各指标分值合计为 {fmt(ws)}，规则“{p.id}”要求绩效指标合计 {fmt(p.indicator_weight)}",
                "按规则调整各指标分值" + ("" if explicit else "，或用 --profile 指定适用的评分规则"))
        _level1_findings(add, p, rec, result, lambda: weight_place)
        for name, (w, ref) in t.level1_weights.items():
            got = xround(math.fsum(r.weight for r in rec.indicators if r.level1 == name and is_number(r.weight)), 2)
            if abs(got - w) > MONEY_TOL:
                add(ERROR, "weight_label", ref, f"“{name}（{fmt(w)}分）”下各指标分值合计为 {fmt(got)}，与标注的 {fmt(w)} 分不符",
                    "调整指标分值或改正标注")
        if t.indicator_weight_label and abs(ws - t.indicator_weight_label[0]) > MONEY_TOL:
            add(ERROR, "weight_label", t.indicator_weight_label[1],
                f"绩效指标标注为 {fmt(t.indicator_weight_label[0])} 分，各指标分值合计为 {fmt(ws)}", "")
        shown_tw = number(t.total_weight)
        fund_in = (shown_weight if shown_weight is not None else p.fund_weight) if p.fund_in_total else 0.0
        target_in = 0.0
        if p.has_target_block:
            target_in = t.target_weight_label[0] if t.target_weight_label else p.target_weight
        parts_w = xround(fund_in + target_in + ws, 2)
        if shown_tw is not None and abs(shown_tw - parts_w) > MONEY_TOL:
            parts = []
            if p.fund_in_total:
                parts.append(f"资金分值 {fmt(fund_in)}")
            if p.has_target_block:
                parts.append(f"{p.target_label}分值 {fmt(target_in)}")
            parts.append(f"指标分值合计 {fmt(ws)}")
            add(ERROR, "total_weight_mismatch", t.total_weight.ref,
                f"总分的分值为 {fmt(shown_tw)}，但{'、'.join(parts)} 之和为 {fmt(parts_w)}",
                "分值合计应与总分的分值一致" + ("" if p.fund_in_total else "") +
                ("" if explicit else "；资金分值若单列、不计入总分，请用 --profile 指定相应规则（如 ningxia-jinfeng）"))

    # --- totals and grade
    shown_total = number(t.total)
    shown_overall = number(t.overall)
    if shown_total is not None and shown_overall is not None and abs(shown_total - shown_overall) > MONEY_TOL:
        add(ERROR, "total_conflict", t.overall.ref,
            f"表中两处总分不一致：{fmt(shown_total)}（{t.total.ref}）与 {fmt(shown_overall)}", "核对总分")
    final = shown_total if shown_total is not None else shown_overall
    final_pc = t.total if shown_total is not None else t.overall
    if t.has_scores and final is not None:
        parts_s = []
        total_s = 0.0
        if p.fund_in_total and ft is not None and number(ft.values.get("score")) is not None:
            parts_s.append(f"资金得分 {fmt(number(ft.values['score']))}")
            total_s += number(ft.values["score"])
        if shown_ts is not None:
            parts_s.append(f"{p.target_label or '项目绩效目标'}自评分 {fmt(shown_ts)}")
            total_s += shown_ts
        row_sum = math.fsum(s for s in shown if s is not None)
        parts_s.append(f"指标得分合计 {fmt(xround(row_sum, 2))}")
        total_s = xround(total_s + row_sum, 2)
        if abs(final - total_s) > MONEY_TOL:
            add(ERROR, "total_sum", final_pc.ref, f"总分为 {fmt(final)}，但{'、'.join(parts_s)} 之和为 {fmt(total_s)}",
                "总分应等于各部分得分之和")
        if t.has_weights and abs(final - result.partial_total) > MONEY_TOL:
            add(ERROR, "total_mismatch", final_pc.ref,
                f"总分为 {fmt(final)}，按规则“{p.id}”由表中数据重算为 {fmt(result.partial_total)}"
                f"（等次 {p.grade_for(result.partial_total)}）",
                "按计分规则逐项重新计算")
    if not t.has_scores or not t.has_weights:
        missing = "、".join(x for x, ok in (("分值", t.has_weights), ("得分", t.has_scores)) if not ok)
        add(WARNING, "no_score_columns", f"{sheet}!{_header_ref(t)}",
            f"指标表没有{missing}列，各指标得分" + (f"和总分 {fmt(final)} " if final is not None else "") + "无法复核",
            "按规则在表中列出每个指标的分值和得分")
        if final is not None and final < p.total - MONEY_TOL and rec.indicators and \
                all(_achieved(c, p) for c in conv if is_active(c.row)):
            add(ERROR, "unexplained_deduction", final_pc.ref,
                f"各指标实际完成值均已达到目标（或为100%），总分却为 {fmt(final)}，扣了 {fmt(xround(p.total - final, 2))} 分，"
                "扣分依据未说明", "说明扣分的指标和原因，或按规则计分")
    if t.grade is not None:
        g = _norm_text(t.grade.value)
        labels = [gr.label for gr in p.grades]
        if g not in labels:
            add(ERROR, "grade_invalid", t.grade.ref, f"评价等次“{fmt(t.grade.value)}”不是规则规定的等次（{'、'.join(labels)}）",
                "等次只能是" + "、".join(labels))
        elif final is not None and p.grade_for(final) != g:
            add(ERROR, "grade_mismatch", t.grade.ref, f"总分 {fmt(final)} 对应的等次为“{p.grade_for(final)}”，表中为“{g}”",
                "按总分确定等次")

    # --- goals, words, profile
    goal_findings(add, [(e.value if not e.blank else None, a.value if not a.blank else None) for e, a in t.goals],
                  lambda i: t.goals[i][1].ref)
    heuristic_findings(add, p, rec, result, place_row)
    if not explicit:
        _suggest_profile(add, t, p, shown_weight, xround(result.weight_sum, 2), sheet)
    summary = {"工作表": sheet, "指标行数": len(t.rows)}
    if final is not None:
        summary["原表总分"] = final
    if t.grade is not None:
        summary["原表等次"] = t.grade.text
    if t.has_weights:
        summary.update({"重算总分": result.partial_total, "重算等次": p.grade_for(result.partial_total)})
    return summary


def _printed_total(total, sources, key: str) -> float | None:
    """The 年度资金总额 row's figure, or the sum of the sources when the total row does not print it."""
    if total is not None and total.num(key) is not None:
        return total.num(key)
    values = [s.num(key) for s in sources if s.num(key) is not None]
    return math.fsum(values) if values else None


def _norm_text(value: Any) -> str:
    return norm(value)


def _header_ref(t) -> str:
    c = t.columns.get("name", t.columns.get("level1", (1, 1)))[0]
    return a1(t.header_row or 1, c)


def _normalised(rec: ProjectRecord) -> ProjectRecord:
    """Numbers reduced to the 15 digits a cell keeps, as the template sees them."""
    out = ProjectRecord(**{k: getattr(rec, k) for k in rec.__dataclass_fields__})
    out.funds = [FundLine(f.source, xnum(f.initial), xnum(f.budget), xnum(f.spent)) for f in rec.funds]
    out.indicators = [IndicatorRow(**{k: xnum(getattr(r, k)) for k in IndicatorRow.__dataclass_fields__})
                      for r in rec.indicators]
    out.target_score = xnum(rec.target_score)
    return out


def _rate_checks(add, label: str, pc, A: float | None, B: float | None, base: str, place: str, *,
                 source: bool = False) -> None:
    value, how, tol = rate_value(pc)
    a = A or 0.0
    if a <= 0:
        if (B or 0) > 0 or value is not None:
            if value is not None:
                add(ERROR, "rate_na_shown", pc.ref,
                    f"“{label}”的{base}为0或未填，执行率无法计算，表中却显示为“{pc.text}”",
                    "分母为0时执行率应写“—”（无法计算），不能写成100%")
            elif not source:
                add(WARNING, "rate_na", place, f"“{label}”的{base}为0或未填，执行率无法计算", "填写全年预算数")
        return
    true = (B or 0.0) / a
    if true > 1 + 1e-12 and not source:
        add(WARNING, "rate_over_100", place,
            f"全年执行数 {fmt(B)} 大于{base} {fmt(A)}，执行率 {pct(true)} 超过100%", "核实执行数与预算数；资金得分按100%封顶")
    if pc is None or how == "blank":
        return
    if how == "text":
        add(ERROR, "rate_mismatch", pc.ref, f"“{label}”的执行率“{pc.text}”不是数字，按 B/A 应为 {pct(true)}", "填写执行率")
        return
    if how == "no_pct":
        if abs(value - true) <= tol:
            add(WARNING, "rate_no_percent", pc.ref, f"“{label}”的执行率写成“{pc.text}”，缺少%号（应为 {pct(true)}）",
                "写成百分数，如 79.27%")
            return
    elif how == "fraction" and abs(value - true) > tol and abs(value / 100 - true) <= tol / 100 + 1e-9:
        add(WARNING, "rate_no_percent", pc.ref, f"“{label}”的执行率写成“{pc.text}”，没有%号，含义不明确（应为 {pct(true)}）",
            "写成百分数")
        return
    if abs(value - true) > tol:
        add(ERROR, "rate_mismatch", pc.ref,
            f"“{label}”的执行率显示为 {pc.text}，按 全年执行数/{base} = {fmt(B)}/{fmt(A)} 应为 {pct(true)}",
            "按 B/A 重新计算执行率")


def _achieved(c, p: Profile) -> bool:
    row = c.row
    if row.op in QUANT_OPS and is_number(row.target) and is_number(row.actual):
        return quantitative_score(row.op, float(row.target), float(row.actual), 1.0, p) >= 1.0
    if is_number(row.actual) and row.target is None:
        return row.actual >= 100
    if row.op == OP_QUAL and isinstance(row.actual, str) and isinstance(row.target, str):
        return _norm_text(row.actual) == _norm_text(row.target)
    return False


def _suggest_profile(add, t, p: Profile, fund_w: float | None, ws: float, sheet: str) -> None:
    mismatch = (fund_w is not None and abs(fund_w - p.fund_weight) > 1e-9) or \
               (t.has_weights and t.rows and abs(ws - p.indicator_weight) > MONEY_TOL)
    if not mismatch:
        return
    has_target = bool(t.target_weight_label or t.target_score is not None)
    fits = []
    weights_known = bool(t.has_weights and t.rows)
    for pid in list_profiles():
        if pid == p.id:
            continue
        q = load_profile(pid)
        if fund_w is not None and abs(q.fund_weight - fund_w) > 1e-9:
            continue
        if weights_known and abs(q.indicator_weight - ws) > MONEY_TOL:
            continue
        if q.has_target_block != has_target:
            continue
        fits.append(pid)
    if fits:
        add(INFO, "profile_suggest", sheet,
            f"表中资金分值 {fmt(fund_w)}" + (f"、指标分值合计 {fmt(ws)}" if weights_known else "")
            + f"，与评分规则 {'、'.join(fits)} 相符",
            f"如适用，请加 --profile {fits[0]} 重新核对")
