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

import functools
import itertools
import math
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from xlsx_engine.forms.project.layout import project_layout
from xlsx_engine.forms.project.profile import Profile, list_profiles, load_profile
from xlsx_engine.forms.project.readback import RESULT_NAMES
from xlsx_engine.forms.project.record import FundLine, IndicatorRow, ProjectRecord
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
    weight_gaps,
)
from xlsx_engine.forms.registry import form_for
from xlsx_engine.integrity.folder import shown, survey
from xlsx_engine.integrity.formats import (
    GridBook,
    convert_with_libreoffice,
    has_libreoffice,
    read_calamine,
    read_docx,
    temp_dir,
)
from xlsx_engine.integrity.legacy import (
    agrees,
    match_level,
    norm,
    number,
    places,
    rate_value,
    read_tables,
    to_record,
)
from xlsx_engine.integrity.severity import severity_of
from xlsx_engine.integrity.tamper import (
    LEGACY_SUFFIXES,
    MACRO_SUFFIXES,
    _cell_label,
    a1,
    compare_cells,
    expected_for,
    held,
    locate,
    norm_label,
    open_package,
    parse_ref,
    sniff,
)
from xlsx_engine.kernel.errors import JxzpError, ProfileError, WorkbookError
from xlsx_engine.kernel.excel import NA, nonblank
from xlsx_engine.kernel.files import not_returned, own_output
from xlsx_engine.kernel.findings import ERROR, INFO, WARNING, Finding
from xlsx_engine.kernel.targets import KIND_QUANT, OP_QUAL, TargetSyntaxError, parse_quantity, parse_target
from xlsx_engine.kernel.xlmath import is_number, without_decimals, xnum, xround, xtext
from xlsx_engine.ooxml.sheetmodel import IDENTITY_KEYS as keys

_RANK = {ERROR: 0, WARNING: 1, INFO: 2}
MAX_PER_CODE = 40           #: findings of one code listed per file; the rest are counted
MONEY_TOL = 0.005           #: amounts and scores are printed to the cent


# ============================================================================ model

NOT_READ = "未读取"          #: FileReport.kind of a folder entry not read (a lock file, a link ...), with why
WORD_REPORT = "Word 自评报告"  #: FileReport.kind of a Word 自评报告 (.docx), its 自评表 read by labels


@dataclass
class FileReport:
    """The result of checking one file."""

    file: str
    kind: str = ""                          #: 本系统模板 | 外来表格 | 本程序输出 | Word 自评报告 | 无法读取
    output: str = ""                        #: kind 本程序输出: what it is (汇总表, 考核评分表 ...)
    profile: str | None = None
    template: dict[str, str] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    unreadable: bool = False
    #: a project form's inputs as read by name and the scorer's result on them (for ``collect``: one parse)
    record: ProjectRecord | None = field(default=None, repr=False, compare=False)
    result: Result | None = field(default=None, repr=False, compare=False)
    #: another form's (部门整体, 湖南项目 ...) inputs as read cell by cell and its result (same use)
    form_record: Any = field(default=None, repr=False, compare=False)
    form_result: Any = field(default=None, repr=False, compare=False)
    #: while ``check_file``'s ``then`` runs: the layout and the reader of the documented places (never pickled)
    layout: Any = field(default=None, repr=False, compare=False)
    reader: Any = field(default=None, repr=False, compare=False)

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
    """Gathers the findings of one file: drops exact duplicates and caps each code at :data:`MAX_PER_CODE`.
    The severity comes from :data:`xlsx_engine.integrity.severity.SEVERITY` (the README's table)."""

    def __init__(self, file: str):
        self.file = file
        self.items: list[Finding] = []
        self._seen: set[tuple[str, str, str]] = set()
        self._count: dict[str, int] = {}
        self._dropped: dict[str, int] = {}

    def add(self, severity: str, code: str, place: str, message: str, hint: str = "") -> None:
        severity = severity_of(code, severity)
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
        if without_decimals(v):
            return xtext(v)              # "1.79769313486232E+308", "#NUM!": never three hundred digits
        if v == int(v):
            return str(int(v))
        return f"{v:.4f}".rstrip("0").rstrip(".")
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def pct(value: Any) -> str:
    return f"{float(value) * 100:.2f}%" if is_number(value) and math.isfinite(float(value)) else fmt(value)


def same(a: Any, b: Any) -> bool:
    """Cell equality as a reader sees it: numbers to 1e-9 relative, "" equals empty."""
    if is_number(a) and is_number(b):
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)), abs(float(b)))
    if a == "#NUM!" and is_number(b) and not math.isfinite(b) or b == "#NUM!" and is_number(a) and not math.isfinite(a):
        return True              # past the range: the spreadsheet's #NUM! is the twin's inf or nan
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or a == b and type(a) is type(b)
    a = "" if a is None else a
    b = "" if b is None else b
    return a == b


# ============================================================================ entry points

def collect_files(paths: Iterable[str | Path], besides: bool = False) -> tuple[list[Path], list[FileReport]]:
    """Expand folders into the spreadsheet files they hold (:func:`~xlsx_engine.integrity.folder.survey`:
    sub-folders, links never followed); files are kept as given. The entries of a folder not read come back as
    reports of their own, each saying why (提示 ``not_read``). ``besides`` (``check 文件夹``): the folders' Word
    自评报告 (.docx) are checked too, after the spreadsheets, and every other entry is a report saying why it is
    not checked — from the same walk of each folder."""
    out: list[Path] = []
    word: list[Path] = []
    skipped: list[tuple[str, str]] = []
    others: list[tuple[str, str]] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found = survey(p)
            out += [Path(f) for f in found.spreadsheets]
            skipped += found.skipped
            if besides:
                word += [Path(f) for f in found.reports]
                others += found.others
        else:
            out.append(p)
    return out + word, [FileReport(path, NOT_READ, findings=[Finding(INFO, "not_read", "", why, "", path)])
                        for path, why in skipped + others]


def check_file(path: str | Path, profile: str | None = None,
               then: Callable[[Any, FileReport], None] | None = None) -> FileReport:
    """Check one workbook. Never raises for a bad file.

    Args:
        path: the workbook.
        profile: the scoring profile the file must follow (for our templates: a mismatch is an error; for
            other tables: the rules to check against; default ``national``).
        then: called with the open package and the report after the checks, so a caller reads more from
            the same parse (``collect``); what it raises is reported like any other failure.
    """
    path = Path(path)
    report = FileReport(shown(path))        # as users may see it: any bytes of the name, valid UTF-8 out
    coll = Collector(report.file)
    try:
        sniffed = sniff(path)            # one look at the file's first bytes, for both openers
        if _check_other_format(path, report, coll, profile, sniffed):
            return _done(report, coll)
        try:
            pkg = open_package(path, sniffed)
        except WorkbookError as exc:
            report.unreadable, report.kind = True, "无法读取"
            coll.add(ERROR, "unreadable", "", exc.message, exc.hint or "")
            return _done(report, coll)
        with pkg:
            _check_package(pkg, report, coll, profile)
            if then is not None:
                then(pkg, report)
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


def _check_other_format(path: Path, report: FileReport, coll: Collector, profile: str | None,
                        sniffed: tuple[str, str]) -> bool:
    """A Word 自评报告 (.docx), an .xls or a WPS .et: read into grids and checked by labels. False when the
    file is none of these, or cannot be read so (then :func:`open_package` gives the precise message)."""
    suffix = path.suffix.lower()
    if suffix == ".docx" and path.is_file():
        book = read_docx(path)
        report.kind = WORD_REPORT
        _check_legacy(book, report, coll, profile)
        return True
    if sniffed[0] != "xls":         # an .xls/.et is a regular file: sniff read its first bytes
        return False
    try:
        book = read_calamine(path)
    except WorkbookError:
        if suffix not in (".et", ".ett"):
            return False
        if not has_libreoffice():
            report.unreadable, report.kind = True, "无法读取"
            coll.add(ERROR, "unreadable", "", "这是 WPS 表格（.et）文件，读取需要 LibreOffice，本机没有安装",
                     "请在 WPS 中另存为“Excel 工作簿（.xlsx）”后提交，或安装 LibreOffice")
            return True
        with temp_dir() as tmp:
            try:
                converted = convert_with_libreoffice(path, Path(tmp))
            except WorkbookError:
                return False              # not a workbook LibreOffice reads either: open_package says what it is
            with open_package(converted) as pkg:
                report.kind = "外来表格"
                coll.add(WARNING, "legacy_format", "", "WPS 表格（.et）文件，经 LibreOffice 转换后按标签核对印出的数字；"
                         "模板标识、公式和保护无法核对", "请另存为“Excel 工作簿（.xlsx）”后提交")
                _check_legacy(pkg, report, coll, profile)
        return True
    report.kind = "外来表格"
    coll.add(WARNING, "legacy_format", "", f"旧版工作簿（{suffix or '.xls'}），按标签核对印出的数字；模板标识、公式和保护无法核对",
             "请使用下发的 .xlsx 模板，或另存为“Excel 工作簿（.xlsx）”后提交")
    _check_legacy(book, report, coll, profile)
    return True


def other_format_tables(path: str | Path) -> list | None:
    """The 自评表 of a Word report, an .xls or a WPS .et (what ``jxzp import`` reads); None for other files.

    Raises:
        WorkbookError: such a file that cannot be read.
    """
    path = Path(path)
    if path.suffix.lower() == ".docx" and path.is_file():
        return read_tables(read_docx(path))
    if not path.is_file() or sniff(path)[0] != "xls":
        return None
    try:
        return read_tables(read_calamine(path))
    except WorkbookError:
        if path.suffix.lower() not in (".et", ".ett") or not has_libreoffice():
            raise
        with temp_dir() as tmp, open_package(convert_with_libreoffice(path, Path(tmp))) as pkg:
            return read_tables(pkg)


def _done(report: FileReport, coll: Collector) -> FileReport:
    report.findings = coll.finish()
    report.layout = report.reader = None
    return report


def _check_one(args: tuple[str, str | None]) -> FileReport:
    return check_file(args[0], args[1])


def check_paths(paths: Iterable[str | Path], profile: str | None = None, workers: int | None = None,
                besides: bool = False) -> list[FileReport]:
    """Check files and folders (``besides``: see :func:`collect_files`). Large batches are spread over worker
    processes (at most 2 by default)."""
    files, not_read = collect_files(paths, besides)
    return _check_listed(files, profile, workers) + not_read


def _check_listed(files: list[Path], profile: str | None, workers: int | None) -> list[FileReport]:
    if profile is not None:
        load_profile(profile)          # fail early (ProfileError) on an unknown profile
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if len(files) >= 24 else 1
    if workers > 1 and len(files) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        warm = project_layout(profile or "national")
        expected_for(warm.profile.id, warm.template_id)   # warm the caches before forking
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


#: the kind of a workbook this program wrote for the bureau (汇总表, 考核评分表): said, not checked
OWN_OUTPUT = "本程序输出"


def _check_package(pkg, report: FileReport, coll: Collector, profile: str | None) -> None:
    suffix = pkg.path.suffix.lower()
    seen: dict[str, str] = {}
    for member in pkg.members:          # Excel, WPS and LibreOffice would each read a different one of them
        first = seen.setdefault(member.lower(), member)
        if first != member:
            coll.add(ERROR, "duplicate_part", member,
                     f"压缩包中有两个只差大小写的部件“{first}”和“{member}”，不同软件会读到不同的内容；本程序读“{first}”",
                     "请在 Excel/WPS 中打开后另存为 .xlsx 再提交")
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
    # the one decision every command shares: a workbook carrying a template identity is a form, whatever else its
    # properties claim; one without, marked as this program's output, is a 汇总表 or 考核评分表 (FileReport.output)
    own = None if ours else own_output(pkg.custom_properties)
    if own:                 # a 汇总表 or 考核评分表 saved into a 回收 folder: not a form, not checked as one
        report.kind, report.output = OWN_OUTPUT, own
        coll.add(INFO, "own_output", "", not_returned(own) + "，未核对", "")
    elif ours:
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
        return None if rc is None else held(self.sheet.cells.get(rc))

    def values(self, name: str) -> list[Any]:
        return [self.value(rc) for rc in self.cells(name)]

    def place(self, name: str, i: int = 0) -> str:
        cells = self.cells(name)
        rc = cells[i] if i < len(cells) else None
        if rc is None:
            return f"名称“{name}”"
        return f"{self.loc.main_name}!{a1(*rc)}"

    def record(self, layout) -> Any:
        """The form's inputs, the documented way (docs/rules.md#reading): each input cell of the template where
        the sheet's structure puts it now — through a name only when that name is intact, never where a
        redirected name points — and rebuilt by the form's own ``record_from_cells``."""
        if not self.loc.structural:        # nothing moved: each input is at its template place
            get = self.sheet.cells.get
            return layout.record_from_cells(lambda ref: held(get(parse_ref(ref))))
        override: dict[tuple[int, int], tuple[int, int]] = {}
        # rows or columns moved: a name trusted between an insertion's bounds says where its cells went
        for name, eref in self.exp.names_main.items():
            if self.loc.name_ok.get(name):
                for t, got in zip(_cell_list(eref), self.cells(name)):
                    if got is not None and got != self.loc.where(t):
                        override[t] = got
        where = self.loc.where

        def get(ref: str) -> Any:
            rc = parse_ref(ref)
            return self.value(override.get(rc) or where(rc)) if rc is not None else None

        return layout.record_from_cells(get)

    def named(self, names) -> dict[str, list[Any]]:
        """The values of each of ``names`` at their documented places."""
        return {name: self.values(name) for name in names if name in self.exp.names_main}


def _cell_list(ref) -> list[tuple[int, int]]:
    return [(r, c) for r in range(ref.first[0], ref.last[0] + 1) for c in range(ref.first[1], ref.last[1] + 1)]


def read_ours(pkg, meta: dict[str, str]):
    """(layout, record) of one of our workbooks, read by name where the names are intact; None when the
    template cannot be identified (unknown profile or version, main sheet gone)."""
    if (meta.get("评分规则") or "") not in list_profiles():
        return None                    # ids among the installed profiles only, never a path from the workbook
    layout = project_layout(meta["评分规则"])
    if meta.get("模板版本") != layout.form.version:
        return None
    exp = expected_for(layout.profile.id, layout.template_id)
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
        form = form_for(tid)
        if pid not in form.profile_ids():           # an id among the installed profiles, never a path
            raise ProfileError(pid)
        layout = form.layout(pid)
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

    reader = _OursReader(pkg, exp, loc)
    rec, result = layout.evaluate(reader.record(layout))
    report.form_record, report.form_result = rec, result
    report.layout, report.reader = layout, reader
    twins = {} if loc.structural else layout.formula_values_at(result, rec)
    compare_cells(pkg, exp, loc, add, twins)
    for rc, want in twins.items():
        if rc in loc.replaced or rc in loc.edited:
            continue
        cell = loc.sheet.cells.get(rc)
        if cell is None or not cell.has_formula or not cell.has_v or same(cell.value, want):
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
    tid = meta.get("模板编号") or ""
    if tid:
        try:
            by_names = bool(form_for(tid).result_names)
        except JxzpError:
            by_names = False
        if not by_names:       # a form read cell by cell (部门整体, 湖南项目报告...), or an unknown 模板编号
            _check_other_form(pkg, report, coll, meta)
            return
    try:
        if pid not in list_profiles():             # an id among the installed profiles, never a path
            raise ProfileError(pid)
        layout = project_layout(pid)
    except ProfileError:
        add(ERROR, "profile_unknown", "docProps/custom.xml", f"模板标识中的评分规则“{pid[:40]}”不存在（模板标识被改动）",
            "请使用下发的模板重新填报")
        _check_legacy(pkg, report, coll, wanted)
        return
    if wanted and wanted != pid:
        add(WARNING, "profile_mismatch", "docProps/custom.xml",
            f"本表使用评分规则“{pid}”（{layout.profile.name}），而本次要求的规则为“{wanted}”",
            f"请使用“{wanted}”规则的模板（{form_for(layout.template_id).prefix}-{wanted}.xlsx）重新填报")
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
    exp = expected_for(pid, layout.template_id)
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
    report.record, report.result = record, result
    report.layout, report.reader = layout, reader
    twins = {} if loc.structural else layout.formula_values_at(result, rec)
    compare_cells(pkg, exp, loc, add, twins)

    # --- every formula's cached value against the recomputation
    derived = exp.derived.get("result cells")
    if derived is None:
        derived = exp.derived["result cells"] = _result_cells(exp)
    text_cells, pct_cells = derived
    missing = 0
    if not loc.structural:
        cells, replaced, edited = loc.sheet.cells, loc.replaced, loc.edited
        for rc, want in twins.items():
            cell = cells.get(rc)
            if cell is None or cell.text is None and cell.shared is None or rc in replaced or rc in edited:
                continue                       # no formula there (typed over: reported by compare_cells)
            if not cell.has_v:
                missing += 1
                continue
            value = cell.value
            if value.__class__ is want.__class__ and value == want:
                continue                       # stored exactly as recomputed: same() would say so
            if not same(value, want):
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
            if cell is None or not cell.has_formula:
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

    _number_inputs(pkg, layout, reader, add)

    # --- the rules, on the recomputed figures
    form_name = {spec["key"]: spec["name"] for spec in layout.form.columns}

    def place_row(key: str, i: int) -> str:
        return reader.place(form_name.get(key, "三级指标"), i)

    rule_findings(add, layout.profile, rec, result, place_row, reader.place)
    report.summary = _summary(result)


#: the inputs that must be numbers: amounts, weights and scores (texts such as 实际完成值 may be either)
_NUMBER_INPUTS = ("来源年初预算数", "来源全年预算数", "来源全年执行数", "目标自评分")
_NUMBER_COLUMNS = ("weight", "manual")


def _number_inputs(pkg, layout, reader: _OursReader, add: Callable[..., None]) -> None:
    """A number input that shows or holds something else than a number — the file is read as stored (a text is
    not a number, as in Excel's sums), and the inconsistency is said: a number typed as text (" 3500 ", "3_500",
    "３５００"), or a date/time format that shows an amount as a date."""
    names = list(_NUMBER_INPUTS) + [spec["name"] for spec in layout.form.columns if spec["key"] in _NUMBER_COLUMNS]
    dates = pkg.date_styles
    texts, shown_as_date = [], []
    for name in names:
        if name not in reader.exp.names_main:
            continue
        for i, rc in enumerate(reader.cells(name)):
            cell = reader.sheet.cells.get(rc) if rc is not None else None
            if cell is None or cell.has_formula:
                continue
            if isinstance(cell.value, str) and _spelled_number(cell.value):
                texts.append((reader.place(name, i), cell.value))
            elif isinstance(cell.value, float) and cell.style in dates:
                shown_as_date.append((reader.place(name, i), cell.value))
    if texts:
        place, value = texts[0]
        add(WARNING, "number_as_text", place,
            f"{len(texts)} 个金额或分值单元格中是文字形式的数字（如 {place}：“{fmt(value)}”），按文字读取，不计入合计和得分",
            "请删除空格、下划线或全角数字，输入为数字后重新提交")
    if shown_as_date:
        place, value = shown_as_date[0]
        add(WARNING, "number_shown_as_date", place,
            f"{len(shown_as_date)} 个金额或分值单元格被设为日期格式（如 {place} 的 {fmt(value)} 显示为日期），按所存数值读取",
            "请把单元格格式改回“数值”，核对显示的数字后重新提交")


def _spelled_number(text: str) -> bool:
    """A text that a person reads as a number: spaces, "_" or "," between digits, full-width digits, 1E999, NaN."""
    plain = re.sub(r"[\s_,]", "", unicodedata.normalize("NFKC", text))
    try:
        float(plain)
    except ValueError:
        return False
    return bool(plain)


def _result_cells(exp) -> tuple[frozenset, frozenset]:
    """(the cells of the text results — a finding there is a warning —, the cells shown as percentages) of a
    template: the same for every copy."""
    text_cells: set[tuple[int, int]] = set()
    for name in _TEXT_NAMES:
        ref = exp.names_main.get(name)
        if ref is not None:
            text_cells |= _cells_of(ref)
    pct_cells = {exp.names_main["执行率"].first} | _cells_of(exp.names_main["来源执行率"])
    return frozenset(text_cells), frozenset(pct_cells)


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
        return INFO, "name", "有分值或指标值，但缺三级指标名称", "填写指标名称；不用的行请清空"
    if flag == "no_weight":
        return INFO, "weight", "缺分值" if row.weight is None else f"分值“{fmt(row.weight)}”不是数字", "填写该指标的分值"
    if flag == "bad_level1":
        return (WARNING, "level1", f"一级指标“{fmt(row.level1)}”不在规则“{p.id}”中（应为：{'、'.join(p.level1_names)}）",
                "从下拉列表选择一级指标" if not legacy else "一级指标应为规则中的名称；错列的行请改正")
    if flag == "bad_level2":
        allowed = next((l1.level2 for l1 in p.level1 if l1.name == row.level1), ())
        return (WARNING, "level2", f"二级指标“{fmt(row.level2)}”不属于“{fmt(row.level1)}”（应为：{'、'.join(allowed)}）",
                "按规则把指标放到正确的一级、二级指标下")
    if flag == "bad_op":
        if legacy:
            if row.target is None:
                return INFO, "target", "缺年度指标值", "填写年度指标值（如“≥95%”“≤90万元”或文字目标）"
            return INFO, "target", f"年度指标值“{fmt(row.target)}”无法识别", "写作“≥95%”“≤90万元”“=8个”或文字目标"
        return INFO, "op", f"指标性质“{fmt(row.op)}”无效", "从下拉列表选择 ≥ ＞ ＝ ≤ ＜ 或 定性"
    if flag == "bad_target":
        if row.target is None:
            return INFO, "target", "缺指标值", "填写指标值"
        return INFO, "target", f"定量指标的指标值“{fmt(row.target)}”不是数字", "填写数字，单位写在度量单位中"
    if flag == "no_actual":
        return INFO, "actual", "缺实际完成值", "填写实际完成值（定量指标填实测数，定性指标填完成情况）"
    if flag == "actual_is_target":
        return (WARNING, "actual", f"实际完成值“{fmt(row.actual)}”写成了目标值，不是实测值",
                "填写实际测得的数值（如 96%）；达标应得满分，未达标按实际值计分")
    if flag == "actual_not_number":
        return INFO, "actual", f"定量指标的实际完成值“{fmt(row.actual)}”不是数字", "填写数字（百分比填 95 或 95%，都按 95% 计）"
    if flag in ("pct_as_written", "pct_one", "pct_scaled"):     # docs/rules.md#percent-actuals
        return (WARNING, "actual", f"实际完成值“{fmt(row.actual)}”：" + row_messages(p)[flag].rstrip("；"),
                "若理解有误，请改写完成值：百分数可直接输入“95%”或填 95")
    if flag == "bad_band":
        if legacy:
            return INFO, "score", "定性指标没有得分，无法确定完成等级", "按达成/部分达成/未达成档次给出得分"
        return INFO, "band", "定性指标未选择完成等级（得 0 分）", "从下拉列表选择 达成 / 部分达成 / 未达成"
    if flag == "out_of_band":
        low, high, incl = p.band_bounds(row.band, float(row.weight))
        return (WARNING, "manual" if not legacy else "score",
                f"自评分 {fmt(row.manual)} 不在“{row.band}”档的范围 [{fmt(low)}, {fmt(high)}{']' if incl else ')'} 内",
                "调整自评分或完成等级")
    if flag == "over":
        r = p.over_ratio or 1.3
        return (WARNING, "reason", f"完成值超过指标值{fmt(xround((r - 1) * 100, 2))}%及以上，缺偏差原因",
                "说明“实际完成情况超计划较大”的原因；目标设定过低的，今后应合理设定")
    if flag == "no_reason":
        return (INFO, "reason", f"未得满分（{fmt(res.score)}/{fmt(row.weight)}），" + row_messages(p)["no_reason"].rstrip("；"),
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
                add(WARNING, "score_without_actual", place_row("actual", i),
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
    tw, level1_off = weight_gaps(p, result.total_weight, result.level1_weights)
    if tw is not None:
        parts = []
        if p.fund_in_total:
            parts.append(f"{p.fund_label} {fmt(p.fund_weight)}")
        if p.has_target_block:
            parts.append(f"{p.target_label} {fmt(p.target_weight)}")
        parts.append(f"绩效指标 {fmt(xround(result.weight_sum, 2))}")
        add(WARNING, "weight_total", place_name("总分分值"),
            f"分值合计为 {fmt(tw)}（{' ＋ '.join(parts)}），规则“{p.id}”要求 {fmt(p.total)}",
            f"调整各指标分值，使绩效指标合计为 {fmt(p.indicator_weight)}")
    _level1_findings(add, p, rec, level1_off, lambda: place_name("分值"))
    fund = result.fund
    if fund.budget <= 0 and fund.rate != "":      # "": nothing entered yet (待填报), not a zero budget
        add(INFO, "rate_na", place_name("执行率"), "全年预算数为0或未填，执行率无法计算（显示“—”，资金得分为0）",
            "填写全年预算数")
    elif fund.spent > fund.budget:
        add(WARNING, "rate_over_100", place_name("执行率"),
            f"全年执行数 {fmt(fund.spent)} 大于全年预算数 {fmt(fund.budget)}，执行率 {pct(fund.rate)} 超过100%",
            "核实执行数与预算数；资金得分按100%封顶")
    for i, line in enumerate(rec.funds):
        if is_number(line.spent) and line.spent > 0 and not (is_number(line.budget) and line.budget > 0):
            add(INFO, "rate_na", place_name("来源执行率", i),
                f"“{line.source}”有执行数 {fmt(line.spent)}，但全年预算数为0或未填，执行率无法计算（不是100%）",
                "填写该来源的全年预算数")
    if p.rate_reason_below is not None and fund.budget > 0 and fund.spent / fund.budget < p.rate_reason_below \
            and not nonblank(rec.rate_reason):
        add(INFO, "rate_reason_missing", place_name("执行率说明"),
            f"执行率 {pct(fund.rate)} 低于 {fmt(p.rate_reason_below * 100)}%，缺执行率偏差说明", "说明预算未执行的原因")
    if p.has_target_block:
        if not is_number(rec.target_score):
            add(INFO, "target_score_missing", place_name("目标自评分"), f"未填写{p.target_label}自评分（{fmt(p.target_weight)}分）",
                "填写自评分")
        elif rec.target_score > p.target_weight or rec.target_score < 0:
            add(WARNING, "target_score_range", place_name("目标自评分"),
                f"{p.target_label}自评分 {fmt(rec.target_score)} 超出 0–{fmt(p.target_weight)}，按界限计分", "改正自评分")
    goal_findings(add, [(g.expected, g.actual) for g in rec.goals], lambda i: place_name("实际完成情况", i))

    @functools.cache
    def counts() -> list[CountRow]:      # read only when a goal text states a count, and then once
        return [_record_count_row(r, place_row("name", i)) for i, r in enumerate(rec.indicators) if is_active(r)]

    for i, g in enumerate(rec.goals):
        for key, text in (("预期目标", g.expected), ("实际完成情况", g.actual)):
            if isinstance(text, str):
                goal_count_findings(add, text, place_name(key, i), counts)
    heuristic_findings(add, p, rec, result, place_row)


def _record_count_row(row: IndicatorRow, place: str) -> CountRow:
    unit = str(row.unit or "")
    target = "" if row.target is None else f"{row.op or ''}{fmt(row.target)}{unit}"
    actual = "" if row.actual is None else fmt(row.actual) + (unit if is_number(row.actual) else "")
    return CountRow(str(row.name or ""), target, actual, place)


def _table_count_row(r) -> CountRow:
    """A printed row as a goal text may restate it; a separate 度量单位 column is joined to bare numbers."""
    c = r.cells

    def text(key: str) -> str:
        pc = c.get(key)
        return "" if pc is None or pc.blank else norm(pc.text)

    unit = text("unit")
    target = text("op") + text("target") + (unit if number(c.get("target")) is not None else "")
    actual = text("actual") + (unit if number(c.get("actual")) is not None else "")
    return CountRow(text("name"), target, actual, c["name"].ref if "name" in c else "")


def _level1_findings(add, p: Profile, rec: ProjectRecord, off: dict[str, float], place: Callable[[], str]) -> None:
    """``off``: the weighted 一级指标 whose sums are not their weights (:func:`weight_gaps`)."""
    active = [r for r in rec.indicators if is_active(r)]
    for l1 in p.level1:
        if l1.weight is not None:
            if l1.name in off:
                add(WARNING, "weight_level1", place(),
                    f"{l1.name}分值合计为 {fmt(off[l1.name])}，规则“{p.id}”规定为 {fmt(l1.weight)}",
                    f"调整{l1.name}下各指标的分值")
        elif active and not any(r.level1 == l1.name for r in active):
            add(WARNING, "level1_missing", place(), f"未设置{l1.name}", f"按规则应设置{l1.name}")


def goal_findings(add, goals: list[tuple[Any, Any]], place: Callable[[int], str]) -> None:
    missing = [i for i, (e, a) in enumerate(goals) if nonblank(e) and not nonblank(a)]
    if missing:
        items = "、".join(f"第{i + 1}项" for i in missing)
        add(INFO, "goal_actual_missing", place(missing[0]),
            f"年度总体目标{items}只有预期目标，缺实际完成情况（共 {sum(1 for e, _a in goals if nonblank(e))} 项目标）",
            "逐项填写实际完成情况")


_AMOUNT = r"(\d+(?:,\d{3})*(?:\.\d+)?)\s*(万元|元)"
_STATED = re.compile(r"(预算资金|下达资金|项目资金|资金总额|总投资|安排资金|拨付资金|到位资金|预算)[^0-9，,。；;]{0,6}?" + _AMOUNT)
_TOTAL_THEN_PARTS = re.compile(r"(?:共|合计|总计)[^0-9。；;]{0,10}?" + _AMOUNT + r"[,，]?\s*其中(.*)")


def _yuan(number_text: str, unit: str) -> float:
    x = float(number_text.replace(",", ""))
    return x * 10000 if unit == "万元" else x


def goal_text_findings(add, pc, figures) -> None:
    """Amounts a goal text states (年度总体目标/实际完成情况) against the table: a "共 X 元，其中 a 元、b 元…"
    whose parts do not add up to X, and a stated 预算/下达/到位资金 that is none of the table's fund figures."""
    text = norm(pc.value)
    for sentence in re.split(r"[。；;]", text):
        m = _TOTAL_THEN_PARTS.search(sentence)
        if m:
            parts = [_yuan(x, u) for x, u in re.findall(_AMOUNT, m.group(3))]
            total = _yuan(m.group(1), m.group(2))
            if len(parts) >= 2 and abs(math.fsum(parts) - total) > 0.5:
                add(WARNING, "goal_text", pc.ref,
                    f"文字中“共 {m.group(1)}{m.group(2)}”，其后所列分项合计 {fmt(math.fsum(parts))} 元，与之不符",
                    "核对目标文字中的金额")
    if not figures:
        return
    for m in _STATED.finditer(text):
        stated = _yuan(m.group(2), m.group(3))         # in 元; the table's figures are in 万元 (or in 元)
        candidates = [number(f) for f in figures]
        if not any(agrees(c, places(f), stated / 10000) or agrees(c, places(f), stated)
                   for f, c in zip(figures, candidates)):
            add(WARNING, "goal_text", pc.ref,
                f"文字中“{m.group(0)}”与表中资金数（{'、'.join(fmt(c) for c in candidates[:6])}）都不相符",
                "核对目标文字与资金表")


#: count units a goal text may restate an indicator in; longer spellings first ("人次" before "人")
_COUNT_UNITS = ("万人次", "人次", "万人", "人", "万户", "户", "个", "所", "家", "座", "处", "公里", "千米", "km", "万亩", "亩",
                "平方米", "㎡", "台", "套", "辆", "只", "头", "册", "名", "间", "栋", "条", "项", "吨", "批", "种", "块", "盏",
                "张", "场", "次", "篇", "件")
_COUNT = re.compile(r"(?<![\d.])(\d+(?:,\d{3})*(?:\.\d+)?)(" + "|".join(map(re.escape, _COUNT_UNITS)) + ")")
_SAME_UNIT = {"千米": "公里", "km": "公里", "㎡": "平方米"}
_CLAUSE = re.compile(r"[,，;；。:：!！?？]|(?<![\d.])\d+[.、)）](?!\d)")
_NAME_NOISE = re.compile(r"^(指标\d*[:：.、]?|★+|[一二三四五六七八九十]+[、.]|\d+[、.])|(数量|个数|人数|户数|次数|数)$")
_MIN_COMMON = 4          #: characters a goal clause must share with an indicator name to restate it
_CLAUSE_SPAN = 40        #: characters looked at on each side of a count (a text from a unit is untrusted)
_MAX_COUNTS = 60         #: counts compared in one goal text


@dataclass(frozen=True)
class CountRow:
    """An indicator as a goal text may restate it: its name, printed 指标值 and 实际完成值, and where it is."""

    name: str
    target: str
    actual: str
    place: str


def _count(value: float, unit: str) -> tuple[float, str]:
    """A count in its base unit: 4.52万人 → (45200, 人), 8千米 → (8, 公里)."""
    unit = _SAME_UNIT.get(unit, unit)
    if unit.startswith("万") and len(unit) > 1:
        return value * 10000, unit[1:]
    return value, unit


def _row_counts(row: CountRow) -> list[tuple[float, str]]:
    """The numbers a row prints as 指标值 or 实际完成值, with their units ("" when none is printed)."""
    out = []
    try:
        t = parse_target(row.target) if row.target else None
    except TargetSyntaxError:                   # a target the table writes in words only: nothing to compare
        t = None
    if t is not None and t.kind == KIND_QUANT and t.value is not None and t.unit != "%":
        out.append(_count(t.value, t.unit or ""))
    q = parse_quantity(row.actual) if row.actual else None
    if q is not None and q[1] != "%":
        out.append(_count(*q))
    return out


def _common(a: str, b: str) -> int:
    """Length of the longest common substring of two short texts."""
    best = 0
    for i in range(len(a)):
        for j in range(i + best + 1, len(a) + 1):
            if a[i:j] in b:
                best = j - i
            else:
                break
    return best


def goal_count_findings(add, text: str, place: str, rows: Callable[[], list[CountRow]]) -> None:
    """Counts a goal text states ("整治美丽宜居自然村庄202个") against the indicator the clause names (``rows()``
    gives the indicator rows, asked only when the text states a count): the count
    must be that indicator's 指标值 or 实际完成值 (same unit, 万 scaled). An indicator is the one whose name shares
    the most characters (at least ``_MIN_COMMON``) with the clause; a clause naming two equally is left alone."""
    text = norm(text)
    found = list(itertools.islice(_COUNT.finditer(text), _MAX_COUNTS))
    if not found:                               # most goal texts state no count: the rows are not read
        return
    names = [(_NAME_NOISE.sub("", norm(r.name)), r, _row_counts(r)) for r in rows() if r.name]
    for m in found:
        value, unit = _count(float(m.group(1).replace(",", "")), m.group(2))
        lo = max(0, m.start() - _CLAUSE_SPAN)
        start = max((c.end() for c in _CLAUSE.finditer(text, lo, m.start())), default=lo)
        after = _CLAUSE.search(text, m.end(), m.end() + _CLAUSE_SPAN)
        clause = text[start:m.start()] + "|" + text[m.end():after.start() if after else m.end() + _CLAUSE_SPAN]
        scored = []
        for name, row, counts in names:
            if not counts or any(u and u != unit for _v, u in counts):
                continue                        # a row in another unit (人 vs 人次) is not what the text restates
            scored.append((_common(clause, name), row, counts))
        best = max((s for s, _r, _c in scored), default=0)
        top = [(r, c) for s, r, c in scored if s == best]
        if best < _MIN_COMMON or len(top) != 1:
            continue
        row, counts = top[0]
        if any(abs(v - value) <= 1e-9 * max(1.0, abs(value)) for v, _u in counts):
            continue
        add(WARNING, "goal_text", place,
            f"文字中“{m.group(0)}”与指标“{norm(row.name)}”（{row.place}）的指标值“{row.target}”、"
            f"实际完成值“{row.actual}”都不相符", "核对目标文字与指标表中的数量")


_DASH = re.compile(r"^[-—–/]+$")
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


def _check_legacy(pkg, report: FileReport, coll: Collector, wanted: str | None) -> None:
    tables = read_tables(pkg)
    if not tables:
        coll.add(WARNING, "not_recognised", "",
                 "未找到项目支出绩效自评表（没有“一级指标”“三级指标”“全年预算数”等表头），无法核对",
                 "请确认文件是项目支出绩效自评表；本系统模板生成的表会被自动识别")
        report.kind = report.kind or "外来表格"
        return
    summaries = []
    for t in tables:
        if wanted:
            p = load_profile(wanted)
        else:
            fit = infer_profile(t)
            p = fit.profile
            coll.add(INFO, "profile_inferred", t.sheet, fit.why,
                     "" if fit.exact else "用 jxzp import --profile-out 生成与本表相符的派生规则，或用 --profile 指定")
        report.profile = report.profile or p.id
        summaries.append(check_table(t, p, coll.add, explicit=wanted is not None))
        if isinstance(pkg, GridBook) and pkg.paragraphs and t is tables[0]:
            report_text_findings(coll.add, pkg.paragraphs, t, p)
        for note in t.notes:
            coll.add(INFO, "import_note", t.sheet, note, "")
    report.summary = summaries[0] if len(summaries) == 1 else {"表格": summaries}


_REPORT_RATE = re.compile(r"(?:预算|资金)?执行率[为是达到约:：\s]*(\d+(?:\.\d+)?)\s*%")
_REPORT_TOTAL = re.compile(r"(?:自评(?:得分|总分|综合得分|分)|综合得分|总得分|总分)[为是:：\s]*(\d+(?:\.\d+)?)\s*分")
_REPORT_GRADE = re.compile(r"(?:评价等次|自评等次|评价等级|自评等级|等次|等级|结果)[为是:：\s]*[“\"「]?(优秀|优|良好|良|中等|中|合格|差)")


def report_text_findings(add, paragraphs: list[str], t, p: Profile) -> None:
    """A Word report's stated 执行率, 总分 and 等次 against its own 自评表."""
    A, B = _printed_total(t.fund_total, t.fund_sources, "budget"), _printed_total(t.fund_total, t.fund_sources, "spent")
    total_pc = t.total if number(t.total) is not None else t.overall
    total = number(total_pc)
    grade = norm(t.grade.value) if t.grade is not None and not t.grade.blank else \
        (p.grade_for(total) if total is not None else None)
    seen: set[tuple[str, str]] = set()
    for k, text in enumerate(paragraphs):
        where = f"正文第{k + 1}段"
        for m in _REPORT_RATE.finditer(text):
            n = len(m.group(1).split(".", 1)[1]) if "." in m.group(1) else 0
            if A and B is not None and not agrees(float(m.group(1)), n, B / A * 100) and ("rate", m.group(1)) not in seen:
                seen.add(("rate", m.group(1)))
                add(WARNING, "report_text", where, f"报告写执行率 {m.group(1)}%，自评表 {fmt(B)}/{fmt(A)} 为 {pct(B / A)}",
                    "核对报告正文与自评表")
        for m in _REPORT_TOTAL.finditer(text):
            n = len(m.group(1).split(".", 1)[1]) if "." in m.group(1) else 0
            if total is not None and not agrees(float(m.group(1)), n, total) and ("total", m.group(1)) not in seen:
                seen.add(("total", m.group(1)))
                add(WARNING, "report_text", where, f"报告写总分 {m.group(1)} 分，自评表总分为 {fmt(total)}（{total_pc.ref}）",
                    "核对报告正文与自评表")
        for m in _REPORT_GRADE.finditer(text):
            said = {"优秀": "优", "良好": "良", "中等": "中"}.get(m.group(1), m.group(1))
            if grade and said != grade and said in [g.label for g in p.grades] and ("grade", said) not in seen:
                seen.add(("grade", said))
                add(WARNING, "report_text", where, f"报告写等次“{m.group(1)}”，自评表为“{grade}”", "核对报告正文与自评表")


# ============================================================================ printed weights, profile inference

@dataclass
class PrintedWeights:
    """The weights a table prints: fund, level-1 (by profile name), indicators, target block, total."""

    source: str                                   #: "分值列" | "一级指标标签" | "" (none printed)
    fund: float | None = None
    level1: dict[str, float] = field(default_factory=dict)
    indicators: float | None = None
    target: float | None = None
    has_target: bool = False
    total: float | None = None

    def describe(self) -> str:
        parts = []
        if self.fund is not None:
            parts.append(f"资金分值 {fmt(self.fund)}")
        if self.has_target:
            parts.append("有目标自评分" + (f"（{fmt(self.target)}分）" if self.target is not None else ""))
        if self.level1:
            parts.append("一级指标 " + "、".join(f"{k} {fmt(v)}" for k, v in self.level1.items())
                         + f"（{self.source}）")
        elif self.indicators is not None:
            parts.append(f"指标分值合计 {fmt(self.indicators)}（{self.source}）")
        if self.total is not None:
            parts.append(f"总分分值 {fmt(self.total)}")
        return "、".join(parts) or "表中没有印出分值"


def printed_weights(t) -> PrintedWeights:
    """What the table prints about weights — never a weight it does not print."""
    ft = t.fund_total
    fund = number(ft.values.get("weight")) if ft is not None else None
    if fund is None and t.fund_weight_label:
        fund = t.fund_weight_label[0]
    level1: dict[str, float] = {}
    if t.weights_printed:
        source = "分值列"
        for r in t.rows:
            w = number(r.cells.get("weight"))
            name = match_level(r.level1, _LEVEL1_NAMES) or r.level1
            if w is not None:
                level1[name] = xround(level1.get(name, 0.0) + w, 2)
        indicators = xround(math.fsum(level1.values()), 2)
    elif t.level1_weights:
        source = "一级指标标签"
        for name, (w, _ref) in t.level1_weights.items():
            key = match_level(name, _LEVEL1_NAMES) or name
            level1[key] = xround(level1.get(key, 0.0) + w, 2)
        indicators = xround(math.fsum(level1.values()), 2)
    elif t.indicator_weight_label:
        source, indicators = "指标块标签", t.indicator_weight_label[0]
    else:
        source, indicators = "", None
    has_target = bool(t.target_weight_label or t.target_score is not None)
    return PrintedWeights(source, fund, level1, indicators, t.target_weight_label[0] if t.target_weight_label else None,
                          has_target, number(t.total_weight))


_LEVEL1_NAMES = ("产出指标", "效益指标", "满意度指标", "项目决策", "项目过程", "项目管理", "项目产出", "项目效益")


@dataclass
class ProfileFit:
    profile: Profile
    exact: bool     #: the printed weights match the profile
    why: str        #: which profile and why, in Chinese


#: how much a difference weighs when choosing the closest profile: the target block and the fund weight tell
#: the layouts apart; the indicator total and level-1 weights are often set by the unit
_DIFF_WEIGHT = {"target": 100, "fund": 10, "indicators": 3, "level1": 1}


def _differences(w: PrintedWeights, q: Profile) -> list[tuple[int, str]]:
    out = []
    if w.has_target != q.has_target_block:
        out.append((_DIFF_WEIGHT["target"], "目标自评分块" + ("（表中有）" if w.has_target else "（表中没有）")))
    if w.fund is not None and abs(w.fund - q.fund_weight) > 1e-9:
        out.append((_DIFF_WEIGHT["fund"], f"资金分值 {fmt(w.fund)}≠{fmt(q.fund_weight)}"))
    if w.indicators is not None and abs(w.indicators - q.indicator_weight) > 1e-9:
        out.append((_DIFF_WEIGHT["indicators"], f"指标分值合计 {fmt(w.indicators)}≠{fmt(q.indicator_weight)}"))
    for l1 in q.level1:
        got = w.level1.get(l1.name)
        if l1.weight is not None and got is not None and abs(got - l1.weight) > 1e-9:
            out.append((_DIFF_WEIGHT["level1"], f"{l1.name} {fmt(got)}≠{fmt(l1.weight)}"))
    for name in w.level1:
        if name not in q.level1_names:
            out.append((_DIFF_WEIGHT["level1"], f"一级指标“{name}”不在规则中"))
    return out


def infer_profile(t) -> ProfileFit:
    """The shipped profile that fits the weights a table prints (fund weight, indicator and level-1 weights,
    target block); the closest one when none fits, with the differences.

    A fund block outside the total (ningxia-jinfeng) is never inferred: a table that prints a fund weight and
    a total weight equal to its indicator weights alone is read the national way (资金计入总分), so its sums
    are reported; ``--profile`` chooses the other reading.
    """
    w = printed_weights(t)
    best: tuple[int, int, str] | None = None
    order = ["national"] + [x for x in list_profiles() if x != "national"]
    for k, pid in enumerate(order):
        q = load_profile(pid)
        if not q.fund_in_total:
            continue
        key = (sum(d for d, _text in _differences(w, q)), k, pid)
        if best is None or key < best:
            best = key
    q = load_profile(best[2])
    diff = [text for _d, text in _differences(w, q)]
    if not w.source and w.fund is None and not w.has_target:
        return ProfileFit(q, False, f"表中没有印出分值，按规则“{q.id}”（{q.name}）核对，分值类核对从略")
    if diff:
        why = (f"表中{w.describe()}，没有完全相符的评分规则；按最接近的“{q.id}”（{q.name}）核对，"
               f"不同之处：{'；'.join(diff)}")
    else:
        why = f"按表中{w.describe()}，推定评分规则为“{q.id}”（{q.name}）"
    return ProfileFit(q, not diff, why)


def derived_profile(t, base: Profile, new_id: str) -> dict[str, Any]:
    """A profile (YAML mapping) that ``extends`` the closest shipped one with the weights the table prints."""
    w = printed_weights(t)
    out: dict[str, Any] = {"extends": base.id, "id": new_id,
                           "name": f"{base.name}（按 {Path(t.file).name} 的分值派生）",
                           "source": f"由 jxzp import 按 {Path(t.file).name} 印出的分值派生"}
    if w.fund is not None:
        out["fund"] = {"weight": w.fund}
    if w.indicators is not None:
        ind: dict[str, Any] = {"weight": w.indicators}
        if w.level1 and all(n in base.level1_names for n in w.level1):
            ind["level1"] = [{"name": l1.name, "weight": w.level1.get(l1.name), "level2": list(l1.level2)}
                             for l1 in base.level1 if l1.name in w.level1]
        out["indicators"] = ind
    total = ((w.fund if w.fund is not None else base.fund_weight) if base.fund_in_total else 0) + \
        (w.indicators if w.indicators is not None else base.indicator_weight) + \
        (base.target_weight if base.has_target_block else 0)
    if abs(total - base.total) > 1e-9:
        out["total"] = total
    return _plain_numbers(out)


def _plain_numbers(value: Any) -> Any:
    """Whole floats as ints (a profile file reads "weight: 20", not "20.0")."""
    if isinstance(value, dict):
        return {k: _plain_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_numbers(v) for v in value]
    if isinstance(value, float) and value == int(value):
        return int(value)
    return value


# ============================================================================ tables not made by us

def check_table(t, p: Profile, add, *, explicit: bool = False) -> dict[str, Any]:
    """Recompute a printed table from its printed inputs and compare everything it shows.

    Every printed figure follows one precision rule (README 校验级别): printed with n decimals, it must equal
    the recomputation rounded to n decimals. Weights are taken only where the table prints them (the 分值
    column, the level-1 labels "产出指标(50分)", the fund block); none printed → the weight checks are skipped.

    Args:
        t: a :class:`xlsx_engine.integrity.legacy.Table`.
        p: the profile to check against (stated with --profile or inferred).
        add: ``add(severity, code, place, message, hint)``.
        explicit: the profile was chosen by the user.

    Returns:
        A summary (printed and recomputed totals).
    """
    rec, conv = to_record(t, p)
    result = evaluate(_normalised(rec), p)
    sheet = t.sheet
    ft = t.fund_total
    sources = t.fund_sources
    pw = printed_weights(t)
    how = "" if explicit else "，或用 --profile 指定适用的评分规则"

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
            total_of = math.fsum(v for _l, v in vals)
            if vals and tot is not None and not agrees(tot, places(ft.values[key]), total_of):
                add(ERROR, "fund_sum", ft.values[key].ref,
                    f"年度资金总额的{label}为 {fmt(tot)}，但各资金来源合计为 {fmt(xround(total_of, 6))}"
                    f"（{' ＋ '.join(f'{l} {fmt(v)}' for l, v in vals)}）", "核对资金来源各行与总额")
    for line in ([ft] if ft is not None else []) + sources:
        arrived, spent, balance = line.num("arrived"), line.num("spent"), line.num("balance")
        if None not in (arrived, spent, balance) and not agrees(balance, places(line.values["balance"]),
                                                                 arrived - spent):
            add(ERROR, "fund_balance", line.values["balance"].ref,
                f"“{line.label}”结余为 {fmt(balance)}，但实际到位 {fmt(arrived)} − 实际支出 {fmt(spent)} = "
                f"{fmt(xround(arrived - spent, 6))}", "核对结余")
    A, B = _printed_total(ft, sources, "budget"), _printed_total(ft, sources, "spent")
    for s in sources:
        shown = [k for k in ("weight", "score") if number(s.values.get(k)) is not None]
        if ft is not None and shown:
            differs = "score" in shown and ft.num("score") is not None and abs(s.num("score") - ft.num("score")) > 1e-9
            add(WARNING, "source_scored", s.values[shown[-1]].ref,
                f"资金来源“{s.label}”一行也印了{'和'.join({'weight': '分值', 'score': '得分'}[k] for k in shown)}"
                f"（{'、'.join(fmt(s.num(k)) for k in shown)}），与“{ft.label}”行重复"
                + (f"，且得分与该行的 {fmt(ft.num('score'))} 不同" if differs else "") + "；资金只计一次分",
                "分值和得分只填在年度资金总额一行")
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
        if pw.fund is not None and abs(pw.fund - p.fund_weight) > 1e-9:
            add(WARNING, "fund_weight", fund_w_place,
                f"资金（{p.fund_label}）分值为 {fmt(pw.fund)}，规则“{p.id}”规定为 {fmt(p.fund_weight)}",
                "按规则设置资金分值" + how)
        score_pc = ft.values.get("score") if ft is not None else None
        shown_fs = number(score_pc)
        # no printed fund weight, or no 预算数/执行数 printed: nothing to recompute with
        if shown_fs is not None and pw.fund is not None and A is not None and B is not None:
            want = fund_score(A or 0.0, B or 0.0, pw.fund, p.digits)
            n = places(score_pc)
            rate_text = pct((B or 0.0) / A) if A else "无法计算"
            if not agrees(shown_fs, n, want):
                add(WARNING, "fund_score", score_pc.ref,
                    f"资金得分为 {fmt(shown_fs)}，按 分值×执行率（{fmt(pw.fund)}×{rate_text}，执行率超过100%按100%计）"
                    f"应为 {fmt(want)}", "按规则重新计算资金得分")
            elif n < p.digits and abs(shown_fs - want) > 1e-9:
                add(WARNING, "fund_score", score_pc.ref,
                    f"资金得分印为 {fmt(shown_fs)}（{_places_text(n)}），按 分值×执行率（{fmt(pw.fund)}×{rate_text}）"
                    f"为 {fmt(want)}；规则“{p.id}”保留 {p.digits} 位小数", "按规则的小数位填写资金得分")
    # --- the target block (项目绩效目标, Hubei)
    shown_ts = number(t.target_score)
    if t.target_weight_label or shown_ts is not None:
        if not p.has_target_block:
            add(WARNING, "target_block", (t.target_weight_label or (0, t.target_score.ref))[1],
                f"表中有“{fmt(t.goal_label.value if t.goal_label else '项目绩效目标')}”的自评分，规则“{p.id}”没有此项",
                "" if explicit else "用 --profile 指定适用的评分规则（如 hubei-wuhan）")
        else:
            if t.target_weight_label and abs(t.target_weight_label[0] - p.target_weight) > 1e-9:
                add(WARNING, "target_weight", t.target_weight_label[1],
                    f"{p.target_label}分值为 {fmt(t.target_weight_label[0])}，规则“{p.id}”规定为 {fmt(p.target_weight)}", "")
            if shown_ts is None:
                add(INFO, "target_score_missing", t.goal_label.ref if t.goal_label else sheet,
                    f"未给出{p.target_label}自评分", "填写自评分")
        if shown_ts is not None and t.target_weight_label and shown_ts > t.target_weight_label[0] + 1e-9:
            add(ERROR, "score_over_weight", t.target_score.ref,
                f"{fmt(t.goal_label.value if t.goal_label else '目标')}自评分 {fmt(shown_ts)} 超过其分值 "
                f"{fmt(t.target_weight_label[0])}", "改正自评分")
    elif p.has_target_block:
        add(INFO, "target_score_missing", t.goal_label.ref if t.goal_label else sheet,
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
            add(WARNING, "score_without_actual", place_row("actual", i),
                f"{_row_label(row, i)}：实际完成值为空，却得 {fmt(s)} 分" +
                (f"（分值 {fmt(row.weight)}）" if is_number(row.weight) else ""),
                "没有完成值不能得分；请填写实际完成值并按规则计分")

    def skip(flag: str, i: int) -> bool:
        if flag == "no_actual" and i in no_actual_scored:
            return True
        if flag == "no_weight" and not t.weights_printed:
            return True
        if flag == "no_reason" and not t.weights_printed:
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
        if is_number(row.weight) and not is_number(row.target) and is_number(row.actual) and isinstance(row.name, str) \
                and any(w in row.name for w in _RATE_NAME):        # 预算执行率 as an indicator: 分值 × 执行率
            rule = fund_score(100.0, float(row.actual), float(row.weight), p.digits)
        if not is_number(row.weight) or not is_number(rule) or i in no_actual_scored:
            continue
        n = places(t.rows[i].cells.get("score"))
        if agrees(s, n, rule) and (n >= p.digits or abs(s - rule) <= 1e-9):
            continue
        if "actual_is_target" in res.flags:
            add(WARNING, "score_mismatch", place_row("score", i),
                f"{_row_label(row, i)}：实际完成值“{fmt(row.actual)}”不是实测值，按规则无法计分（0 分），表中却得 {fmt(s)} 分；"
                f"若已达标应为满分 {fmt(row.weight)} 分，若未达标须填写实测值", "填写实测的完成值，按规则重新计分")
        elif agrees(s, n, rule):
            add(WARNING, "score_mismatch", place_row("score", i),
                f"{_row_label(row, i)}：得分印为 {fmt(s)}（{_places_text(n)}），按规则为 {fmt(rule)}；"
                f"规则“{p.id}”保留 {p.digits} 位小数", "按规则的小数位填写得分")
        else:
            why = f"指标值 {fmt(conv[i].target_text)}，实际完成值 {fmt(row.actual)}"
            add(WARNING, "score_mismatch", place_row("score", i),
                f"{_row_label(row, i)}：得分 {fmt(s)}，按规则应为 {fmt(rule)}（{why}）", "按计分规则重新计算")

    # --- weights, from wherever the table prints them
    ws = pw.indicators
    weight_place = (t.total_weight.ref if t.total_weight is not None else
                    t.place("weight", 0) if t.rows and t.has_weights else
                    next(iter(t.level1_weights.values()))[1] if t.level1_weights else sheet)
    label_rows = t.label_rows()
    for name, (w, ref) in t.level1_weights.items():
        rows = label_rows.get(name, [])
        if t.weights_printed:
            got = xround(math.fsum(number(t.rows[i].cells.get("weight")) or 0.0 for i in rows), 2)
            if not agrees(w, places_of(w), got):
                add(ERROR, "weight_label", ref,
                    f"“{name}（{fmt(w)}分）”下各指标分值合计为 {fmt(got)}，与标注的 {fmt(w)} 分不符", "调整指标分值或改正标注")
        scored = xround(math.fsum(shown[i] for i in rows if shown[i] is not None), 2)
        if scored > w + 1e-9:
            add(ERROR, "label_score_over", ref,
                f"“{name}（{fmt(w)}分）”下各指标得分合计为 {fmt(scored)}，超过标注的 {fmt(w)} 分", "改正得分或标注")
    if pw.source in ("分值列", "一级指标标签") and t.indicator_weight_label and ws is not None and \
            not agrees(t.indicator_weight_label[0], places_of(t.indicator_weight_label[0]), ws):
        add(ERROR, "weight_label", t.indicator_weight_label[1],
            f"绩效指标标注为 {fmt(t.indicator_weight_label[0])} 分，"
            f"{'各指标分值' if pw.source == '分值列' else '其下一级指标标签的分值'}合计为 {fmt(ws)}",
            "改正标注或各指标分值")
    fund_in = pw.fund if (pw.fund is not None and p.fund_in_total) else 0.0
    target_in = pw.target or 0.0
    if ws is not None and pw.source:
        parts_w = xround(fund_in + target_in + ws, 2)
        parts = ([f"资金分值 {fmt(fund_in)}"] if fund_in else []) + \
            ([f"{p.target_label or '目标'}分值 {fmt(target_in)}"] if target_in else []) + \
            [f"指标分值合计 {fmt(ws)}" if pw.source == "分值列" else
             f"一级指标标签分值合计 {fmt(ws)}" if pw.source == "一级指标标签" else f"绩效指标分值 {fmt(ws)}"]
        if pw.total is not None and not agrees(pw.total, places(t.total_weight), parts_w):
            add(ERROR, "total_weight_mismatch", t.total_weight.ref,
                f"总分的分值为 {fmt(pw.total)}，但{'、'.join(parts)} 之和为 {fmt(parts_w)}",
                "分值合计应与总分的分值一致" +
                ("" if explicit else "；资金分值若单列、不计入总分，请用 --profile 指定相应规则（如 ningxia-jinfeng）"))
        elif pw.total is None and pw.source == "一级指标标签" and parts_w > p.total + 1e-9:
            add(ERROR, "label_total_over", weight_place,
                f"{'、'.join(parts)} 之和为 {fmt(parts_w)}，超过满分 {fmt(p.total)}", "改正一级指标标签的分值")
        if abs(ws - p.indicator_weight) > 1e-9:
            add(WARNING, "weight_indicators", (t.indicator_weight_label[1] if pw.source == "指标块标签" else weight_place),
                f"{ {'分值列': '各指标分值合计', '一级指标标签': '一级指标标签分值合计'}.get(pw.source, '绩效指标分值')}为 {fmt(ws)}，"
                f"规则“{p.id}”要求绩效指标合计 {fmt(p.indicator_weight)}", "按规则调整各指标分值" + how)
        for l1 in p.level1:
            got = pw.level1.get(l1.name)
            if l1.weight is not None and got is not None and abs(got - l1.weight) > 1e-9:
                label = next((ref for name, (_w, ref) in t.level1_weights.items()
                              if (match_level(name, _LEVEL1_NAMES) or name) == l1.name), weight_place)
                add(WARNING, "weight_level1", label,
                    f"{l1.name}分值合计为 {fmt(got)}，规则“{p.id}”规定为 {fmt(l1.weight)}", f"调整{l1.name}下各指标的分值")
            elif got is None and pw.source == "分值列" and not any(r.level1 == l1.name for r in rec.indicators):
                add(WARNING, "level1_missing", weight_place, f"未设置{l1.name}", f"按规则应设置{l1.name}")
    if not t.weights_printed and not t.level1_weights and t.rows:
        add(INFO, "no_weights", f"{sheet}!{_header_ref(t)}",
            "各指标行没有印出分值（没有分值列，一级指标标签也不带分值），各行得分与总分按规则的复核从略", "")

    # --- totals and grade
    shown_total = number(t.total)
    shown_overall = number(t.overall)
    if shown_total is not None and shown_overall is not None and \
            not agrees(shown_total, places(t.total), shown_overall) and \
            not agrees(shown_overall, places(t.overall), shown_total):
        add(ERROR, "total_conflict", t.overall.ref,
            f"表中两处总分不一致：{fmt(shown_total)}（{t.total.ref}）与 {fmt(shown_overall)}", "核对总分")
    final = shown_total if shown_total is not None else shown_overall
    final_pc = t.total if shown_total is not None else t.overall
    if t.has_scores and final is not None and any(s is not None for s in shown):
        parts_s = []
        total_s = 0.0
        fund_shown = number(ft.values.get("score")) if ft is not None else None
        if fund_shown is not None and p.fund_in_total:
            parts_s.append(f"资金得分 {fmt(fund_shown)}")
            total_s += fund_shown
        if shown_ts is not None:
            parts_s.append(f"{p.target_label or '项目绩效目标'}自评分 {fmt(shown_ts)}")
            total_s += shown_ts
        row_sum = math.fsum(s for s in shown if s is not None)
        parts_s.append(f"指标得分合计 {fmt(xround(row_sum, 6))}")
        total_s = xround(total_s + row_sum, 6)
        n = places(final_pc)
        if not agrees(final, n, total_s):
            add(ERROR, "total_sum", final_pc.ref, f"总分为 {fmt(final)}，但{'、'.join(parts_s)} 之和为 {fmt(total_s)}",
                "总分应等于各部分得分之和")
        elif n < p.digits and abs(final - total_s) > 1e-9:
            add(WARNING, "total_mismatch", final_pc.ref,
                f"总分印为 {fmt(final)}（{_places_text(n)}），{'、'.join(parts_s)} 之和为 {fmt(total_s)}；"
                f"规则“{p.id}”保留 {p.digits} 位小数", "按规则的小数位填写总分")
        elif t.weights_printed and not agrees(final, places(final_pc), result.partial_total):
            add(WARNING, "total_mismatch", final_pc.ref,
                f"总分为 {fmt(final)}，按规则“{p.id}”由表中数据重算为 {fmt(result.partial_total)}"
                f"（等次 {p.grade_for(result.partial_total)}）",
                "按计分规则逐项重新计算")
    if final is not None and pw.total is not None and final > pw.total + 1e-9:
        add(ERROR, "score_over_weight", final_pc.ref, f"总分 {fmt(final)} 超过总分的分值 {fmt(pw.total)}", "改正总分")
    if not t.has_scores and t.rows:
        add(INFO, "no_score_columns", f"{sheet}!{_header_ref(t)}",
            "指标表没有得分列，各指标得分" + (f"和总分 {fmt(final)} " if final is not None else "") + "无法复核",
            "按规则在表中列出每个指标的分值和得分")
        if final is not None and final < p.total - 1e-9 and rec.indicators and \
                all(_achieved(c, p) for c in conv if is_active(c.row)):
            add(WARNING, "unexplained_deduction", final_pc.ref,
                f"各指标实际完成值均已达到目标（或为100%），总分却为 {fmt(final)}，扣了 {fmt(xround(p.total - final, 2))} 分，"
                "扣分依据未说明", "说明扣分的指标和原因，或按规则计分")
    if t.grade is not None:
        g = _norm_text(t.grade.value)
        labels = [gr.label for gr in p.grades]
        if g not in labels:
            add(WARNING, "grade_invalid", t.grade.ref, f"评价等次“{fmt(t.grade.value)}”不是规则规定的等次（{'、'.join(labels)}）",
                "等次只能是" + "、".join(labels))
        elif final is not None and p.grade_for(final) != g:
            add(ERROR, "grade_mismatch", t.grade.ref, f"总分 {fmt(final)} 对应的等次为“{p.grade_for(final)}”，表中为“{g}”",
                "按总分确定等次")

    # --- goals, words
    goal_findings(add, [(e.value if not e.blank else None, a.value if not a.blank else None) for e, a in t.goals],
                  lambda i: t.goals[i][1].ref)
    figures = [pc for line in ([ft] if ft is not None else []) + sources
               for k, pc in line.values.items() if k in names and number(pc) is not None]
    counts = [_table_count_row(r) for r in t.rows]
    for e, a in t.goals:
        for pc in (e, a):
            if not pc.blank and isinstance(pc.value, str):
                goal_text_findings(add, pc, figures)
                goal_count_findings(add, pc.value, pc.ref, lambda: counts)
    heuristic_findings(add, p, rec, result, place_row)
    summary = {"工作表": sheet, "指标行数": len(t.rows), "评分规则": p.id}
    if final is not None:
        summary["原表总分"] = final
    if t.grade is not None:
        summary["原表等次"] = t.grade.text
    if t.weights_printed:
        summary.update({"重算总分": result.partial_total, "重算等次": p.grade_for(result.partial_total)})
    return summary


def places_of(value: float) -> int:
    """Decimals of a number written out (a weight read from a label such as "(12.5分)")."""
    text = f"{value:.10g}"
    return len(text.split(".", 1)[1]) if "." in text else 0


def _places_text(n: int) -> str:
    return "整数" if n == 0 else f"{n} 位小数"


def _printed_total(total, sources, key: str) -> float | None:
    """The 年度资金总额 row's figure; the sum of the sources when the total row prints nothing or 0 while the
    sources print figures (the 0 is reported by ``fund_sum``; the rate and score are recomputed from the sources)."""
    values = [s.num(key) for s in sources if s.num(key) is not None]
    if total is not None and total.num(key) is not None and (total.num(key) != 0 or not any(values)):
        return total.num(key)
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
    """执行率 = B/A by the precision rule: printed "97.80%" must equal ROUND(B/A×100, 2); a fraction "0.98"
    is a percentage with two decimals fewer (never fewer than 0): ROUND(B/A×100, 0) = 98."""
    value, how, n = rate_value(pc)
    a = A or 0.0
    if a <= 0:
        if (B or 0) > 0 or value is not None:
            if value == 0 and not B:
                return                    # 0/0 printed as 0%: says nothing was executed, which is true
            if value is not None:
                add(ERROR, "rate_na_shown", pc.ref,
                    f"“{label}”的{base}为0或未填，执行率无法计算，表中却显示为“{pc.text}”",
                    "分母为0时执行率应写“—”（无法计算），不能写成100%")
            elif not source:
                add(INFO, "rate_na", place, f"“{label}”的{base}为0或未填，执行率无法计算", "填写全年预算数")
        return
    if B is None:                     # no 执行数 printed: nothing to recompute the rate from
        return
    true = B / a
    if true > 1 + 1e-12 and not source:
        add(WARNING, "rate_over_100", place,
            f"全年执行数 {fmt(B)} 大于{base} {fmt(A)}，执行率 {pct(true)} 超过100%", "核实执行数与预算数；资金得分按100%封顶")
    if pc is None or how == "blank":
        return
    if how == "text" and source and _DASH.match(norm(pc.text)):
        return                        # a source row's rate left as "-" / "—": not filled, as its 分值 and 得分
    if how == "text":
        add(ERROR, "rate_mismatch", pc.ref, f"“{label}”的执行率“{pc.text}”不是数字，按 B/A 应为 {pct(true)}", "填写执行率")
        return
    ok = agrees(value * 100, n, true * 100)
    if how == "no_pct" and ok:
        add(WARNING, "rate_no_percent", pc.ref, f"“{label}”的执行率写成“{pc.text}”，缺少%号（应为 {pct(true)}）",
            "写成百分数，如 79.27%")
        return
    if how == "fraction" and not ok and agrees(value, places(pc), true * 100):
        add(WARNING, "rate_no_percent", pc.ref, f"“{label}”的执行率写成“{pc.text}”，没有%号，含义不明确（应为 {pct(true)}）",
            "写成百分数")
        return
    if not ok:
        add(ERROR, "rate_mismatch", pc.ref,
            f"“{label}”的执行率显示为 {pc.text}，按 全年执行数/{base} = {fmt(B)}/{fmt(A)} 应为 {pct(true)}"
            f"（按印出的 {_places_text(n)}为 {fmt(xround(true * 100, n))}%）", "按 B/A 重新计算执行率")


def _achieved(c, p: Profile) -> bool:
    row = c.row
    if row.op in QUANT_OPS and is_number(row.target) and is_number(row.actual):
        return quantitative_score(row.op, float(row.target), float(row.actual), 1.0, p) >= 1.0
    if is_number(row.actual) and row.target is None:
        return row.actual >= 100
    if row.op == OP_QUAL and isinstance(row.actual, str) and isinstance(row.target, str):
        return _norm_text(row.actual) == _norm_text(row.target)
    return False
