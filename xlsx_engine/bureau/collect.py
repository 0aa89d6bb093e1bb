"""Collect returned workbooks against what was sent: one row and one status per project.

Each returned file is read once (the checker's bounded zip + lxml reader, :func:`check_file`), in a worker
process with a memory and time limit, so no file can stop the collection: whatever goes wrong becomes an
无法读取 entry with a Chinese reason. Given the master (总表) and the bulk manifest, every project that was
sent gets one status (see :data:`STATUSES` and README“回收”):

* 未交回 — no file for the project in the folder;
* 待填报 — returned, but nothing typed in the cells a unit fills, by the form's own rule
  (:meth:`~xlsx_engine.forms.base.Form.unfilled`; the project form: no 实际完成值 or 完成等级 and no 全年执行数
  other than what was sent);
* 有错误 — filled (or altered) and the checks found at least one 错误, including a bureau-set cell changed
  after distribution or another 评分规则/template than the one sent;
* 已填报 — filled, no 错误, but 警告 to review;
* 已通过 — filled, no 错误 and no 警告.

Only filled forms (有错误 / 已填报 / 已通过) whose 总分 is computed (:attr:`Collected.counted`) enter totals, grade
counts, averages and charts. Several files of one project
(resubmissions, "(1)" copies): the newest (file modification time) counts, the others are listed as superseded.
Symbolic links are never followed; files not read are listed with the reason.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import math
import multiprocessing
import os
import resource
import signal
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Container, Iterable, Iterator, TypeVar

from xlsx_engine.bureau.archive import quality_of, snaps_from_record
from xlsx_engine.bureau.bulk import MANIFEST, read_manifest
from xlsx_engine.bureau.display import (
    CELL_CODES,
    STRUCTURAL_CODES,
    display_findings,
    template_display,
)
from xlsx_engine.bureau.master import Master, MasterEntry
from xlsx_engine.forms.base import cell_value
from xlsx_engine.forms.project.layout import project_layout
from xlsx_engine.forms.project.profile import list_profiles, load_profile
from xlsx_engine.forms.project.record import (
    ProjectRecord,
    is_blank,
    record_from_data,
    spent_of,
    typed_actuals,
)
from xlsx_engine.forms.project.scoring import evaluate
from xlsx_engine.forms.registry import form_of_layout, sent_by_project
from xlsx_engine.integrity.checks import OWN_OUTPUT, check_file, read_ours
from xlsx_engine.integrity.folder import Survey, shown, survey
from xlsx_engine.integrity.tamper import expected_for
from xlsx_engine.kernel.errors import DataError, JxzpError
from xlsx_engine.kernel.files import not_returned
from xlsx_engine.kernel.findings import ERROR, INFO, WARNING, Finding
from xlsx_engine.kernel.names import name_key
from xlsx_engine.kernel.xlmath import is_number, xround
from xlsx_engine.ooxml.cells import col_letters, parse_name_ref

SEVERITIES = (ERROR, WARNING, INFO)
MISSING, BLANK, FILLED, FAILED, PASSED = "未交回", "待填报", "已填报", "有错误", "已通过"
STATUSES = (MISSING, BLANK, FILLED, FAILED, PASSED)
FILLED_STATUSES = (FAILED, FILLED, PASSED)      #: the forms the unit filled in (not 未交回, not 待填报)
#: which forms enter the totals, averages, grades and charts (:attr:`Collected.counted`), as the outputs say it
COUNTED_TEXT = "总分已算出的已填写自评表（有错误、已填报、已通过）"
GRADES = ("优", "良", "中", "差")
_Copy = TypeVar("_Copy")       #: a returned copy of a project, as :func:`newest_of_each` groups them

NOT_SUMMED = "，未汇总"            #: how a note on an output of this program among the returned files ends
MEMORY_HEADROOM = 1 << 30       #: address space a worker may add while reading one batch of files
FILE_SECONDS = 60               #: time allowed for one file
BATCH = 16                      #: files per task sent to a worker
YOUNG_OBJECTS = 20_000          #: a worker's youngest generation is collected after this many allocations
#: findings that concern what was sent, not what the unit typed: kept for blank (待填报) forms too
CONTROL_CODES = {"changed_after_sent", "profile_not_sent", "not_sent"}


@dataclass
class Collected:
    """One row of the collection: a project (sent and/or returned) or a file that could not be used."""

    path: str = ""                #: the file as shown to users (any bytes made printable); "" when not returned
    kind: str = ""
    unit: str = ""
    code: str = ""
    project: str = ""
    profile: str = ""
    template: str = ""
    budget: float | None = None
    spent: float | None = None
    rate: float | str | None = None
    total: float | None = None
    grade: str = ""
    findings: list[Finding] = field(default_factory=list)
    error: str = ""               #: set when the file could not be read at all
    submitted: float | None = None  #: the file's modification time (seconds since the epoch)
    blank: bool = False           #: nothing typed by the unit (see :meth:`~xlsx_engine.forms.base.Form.unfilled`)
    status: str = ""
    note: str = ""                #: why a file was not used (superseded, symbolic link ...)
    fields: tuple = field(default=(), repr=False)            #: bureau-set cell values (see :func:`bureau_fields`)
    spent_cells: tuple = field(default=(), repr=False)       #: the 全年执行数 of each fund source
    typed: bool = True            #: a 实际完成值 or 完成等级 was typed (see :func:`typed_actuals`)
    relpath: str = ""
    quality: tuple = ()           #: target quality flags (indicator, kind, detail) — bureau.archive.target_quality
    file: str = field(default="", repr=False)   #: the path as the system gives it (for reading again)
    #: what the archive keeps (``keep_inputs``): the form's inputs as read, its 模板版本, its indicator rows
    inputs: dict = field(default_factory=dict, repr=False)
    version: str = ""
    indicators: tuple = field(default=(), repr=False)
    #: another form of this program (部门整体, 湖南项目报告表): not sent project by project, so matched with the
    #: master by the unit it names, not by 项目编码 (docs/rules.md#returned-blank)
    per_unit: bool = False
    #: the 项目名称 such a form names itself (a 湖南 form's, typed or written when sent); "" when none — the row's
    #: :attr:`project` then shows the file's name, which never makes two copies one project (:func:`project_code`)
    form_project: str = ""
    #: a 部门整体 form: the unit's whole spending, its projects' included — counted and averaged as any form, but its
    #: amounts never added to its projects' (``summary.totals_of``); they are not on the row (the 汇总表 has no place
    #: for them) and are kept by the archive (``archive_import.submission_from_item``, docs/rules.md 汇总口径)
    whole: bool = False

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def filled(self) -> bool:
        return self.status in FILLED_STATUSES

    @property
    def counted(self) -> bool:
        """The one rule of what enters the totals (预算数、执行数、执行率), the average, the grades and the charts
        of the 汇总表 and the 回收汇总报告 alike: a filled form whose 总分 is computed. A form filled in part
        (总分 待填报) is not counted; it is chased (``summary.follow_up``)."""
        return self.status in FILLED_STATUSES and is_number(self.total)

    @property
    def submitted_text(self) -> str:
        return time_text(self.submitted)


def time_text(seconds: float | None) -> str:
    """A submission time as the summaries show it."""
    return datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M") if seconds else ""


@dataclass
class Collection:
    """Everything ``collect`` found: one row per project, and every file that was not used."""

    rows: list[Collected] = field(default_factory=list)
    unused: list[Collected] = field(default_factory=list)     #: unreadable, superseded or skipped files
    contacts: dict[str, dict] = field(default_factory=dict)   #: unit -> {联系人, 联系电话} from the master
    master: str = ""
    #: what the folder holds besides spreadsheets, not read by collect: the Word 自评报告 (.docx, for ``check``) and
    #: every other entry with why (:class:`~xlsx_engine.integrity.folder.Survey`)
    reports: list[str] = field(default_factory=list)
    others: list[tuple[str, str]] = field(default_factory=list)

    def by_status(self, status: str) -> list[Collected]:
        return [r for r in self.rows if r.status == status]

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for r in self.rows if r.status == s) for s in STATUSES}

    @property
    def filled(self) -> list[Collected]:
        return [r for r in self.rows if r.filled]

    @property
    def counted(self) -> list[Collected]:
        """The rows that enter totals, averages, grades and charts (:attr:`Collected.counted`)."""
        return [r for r in self.rows if r.counted]

    @property
    def unreadable(self) -> list[Collected]:
        return [u for u in self.unused if u.error]


# ----------------------------------------------------------------------------- what the unit typed
# Each form says what "nothing typed" is (:meth:`~xlsx_engine.forms.base.Form.unfilled`); the project form's rule is
# applied here in its parts (:func:`typed_actuals`, :func:`spent_of`, :func:`is_blank`), because its 全年执行数 is
# compared with what the master sent only after the file is identified.


def _figure(v: Any) -> Any:
    """A figure as the summary takes it: a number past the largest double (a sum of absurd amounts: a
    spreadsheet's #NUM!) is no figure, so that it cannot spoil the totals and averages; anything else as it is."""
    return None if is_number(v) and not math.isfinite(v) else v


#: the cells the bureau sets at distribution: (name of the range in the template, record accessor)
_FIXED = (("项目名称", lambda r: [r.project]), ("主管部门", lambda r: [r.department]),
          ("实施单位", lambda r: [r.unit]), ("年度", lambda r: [r.year]),
          ("来源年初预算数", lambda r: [f.initial for f in r.funds]),
          ("来源全年预算数", lambda r: [f.budget for f in r.funds]),
          ("预期目标", lambda r: [g.expected for g in r.goals]))
_FIXED_COLUMNS = ("level1", "level2", "name", "op", "target", "unit", "weight")


@functools.lru_cache(maxsize=32)
def _field_places(profile_id: str) -> tuple[tuple[str, Callable, tuple[str, ...]], ...]:
    """For each bureau-set range of a profile's form: (range name, record accessor, sheet!cell of each item)."""
    layout = project_layout(profile_id)
    names = {spec["key"]: spec["name"] for spec in layout.form.columns}
    getters: list[tuple[str, Callable]] = list(_FIXED)
    for key in _FIXED_COLUMNS:
        getters.append((names[key], lambda r, key=key: [getattr(row, key) for row in r.indicators]))
    out = []
    for name, get in getters:
        ref = parse_name_ref(layout.names.get(name, ""))
        if ref is not None:
            out.append((name, get, tuple(f"{ref.sheet}!{col_letters(c)}{r}" for r in range(ref.first[0], ref.last[0] + 1)
                                         for c in range(ref.first[1], ref.last[1] + 1))))
    return tuple(out)


@functools.lru_cache(maxsize=32)
def field_keys(profile_id: str) -> tuple[tuple[str, int, str], ...]:
    """(range name, index, sheet!cell) of each value :func:`bureau_fields` returns for a profile."""
    return tuple((name, k, place) for name, _get, places in _field_places(profile_id) for k, place in enumerate(places))


def bureau_fields(record: ProjectRecord, profile_id: str) -> tuple:
    """The values of the bureau-set cells of a project form, in the order of :func:`field_keys` (a flat tuple:
    ten thousand projects of the master stay small)."""
    out: list = []
    for _name, get, places in _field_places(profile_id):
        values = list(get(record))[:len(places)]
        out.extend(map(cell_value, values))
        out.extend([None] * (len(places) - len(values)))
    return tuple(out)


# ----------------------------------------------------------------------------- reading one file

class _Timeout(BaseException):
    """Raised by the per-file alarm; a BaseException so the checker's own handlers do not swallow it."""


def _alarm(_signum, _frame):
    raise _Timeout


def read_returned(path: str, profile: str | None = None, keep_inputs: bool = False) -> Collected:
    """Read, check, identify and rescore one returned file, in one parse; never raises for a bad file.

    ``profile``: the rules the file was sent with, used when the file names rules that are not installed
    (its own claim is then an error, and it is never opened as a path). ``keep_inputs``: also keep what the
    archive records (inputs, version, indicator rows), so the archive never reads the file again.
    """
    item = Collected(path=shown(path), file=path)
    try:
        item.submitted = os.stat(path).st_mtime
    except OSError:
        pass
    extra: dict[str, Any] = {}

    def then(pkg, report) -> None:
        meta = pkg.custom_properties
        if report.kind == OWN_OUTPUT:         # the checker's one decision: a 汇总表 or 考核评分表, not a form
            return
        extra["meta"] = {k: (meta.get(k) or "")[:200] for k in ("项目编码", "单位名称", "项目名称")}
        if keep_inputs and report.form_record is not None:     # another form: kept for the archive only
            item.inputs = dataclasses.asdict(report.form_record) if dataclasses.is_dataclass(report.form_record) \
                else {}
            item.indicators = tuple(snaps_from_record(report.form_record, report.form_result))
        if report.form_record is not None:      # another form: whether the unit typed anything, by its own rule,
            form = form_of_layout(report.layout)          # the unit it names (a 部门整体 form: its 部门名称), its amounts
            extra["unfilled"], extra["unit"] = form.unfilled(report.form_record), form.unit_named(report.form_record)
            extra["whole"], extra["figures"] = form.whole, form.figures(report.form_record)
            extra["per_unit"] = not sent_by_project(report.layout.template_id)   # as the archive tells them apart
            extra["project"] = str(getattr(report.form_record, "project", None) or "").strip()   # a 湖南 form's
        if report.record is not None:               # the checker read the inputs (docs/rules.md#reading): use them
            extra["record"], extra["result"], extra["profile"] = report.record, report.result, report.profile
            extra["display"] = display_findings(pkg, report.profile, item.path)
            return
        pid = report.profile if report.profile in list_profiles() else profile
        got = read_ours(pkg, {**report.template, "评分规则": pid}) if report.template and pid else None
        if got is not None:
            layout, record = got
            extra["record"], extra["result"] = record, evaluate(record, layout.profile)
            extra["profile"] = layout.profile.id

    report = check_file(path, None, then)
    if report.kind == OWN_OUTPUT:
        item.kind, item.note = OWN_OUTPUT, not_returned(report.output) + NOT_SUMMED
        return item
    item.findings, item.kind = report.findings, report.kind
    if extra.get("display"):
        moved = any(f.code in STRUCTURAL_CODES for f in report.findings)
        item.findings = item.findings + [f for f in extra["display"] if not (moved and f.code in CELL_CODES)]
    if report.unreadable:
        item.error = "；".join(f.message + (f"（{f.hint}）" if f.hint else "") for f in report.findings
                               if f.severity == ERROR) or "无法读取"
        return item
    meta = {**(report.template or {}), **extra.get("meta", {})}
    pid = report.profile or ""
    item.profile = pid if pid in list_profiles() else ""
    item.template = f"{meta.get('模板编号', '')} v{meta.get('模板版本', '')}" if meta.get("模板编号") else report.kind
    item.code = str(meta.get("项目编码") or "")
    item.unit = str(meta.get("单位名称") or "")
    item.project = str(meta.get("项目名称") or "")
    record, result = extra.get("record"), extra.get("result")
    if record is None:
        summary = report.summary           # another form, or a table read by its labels
        item.total = summary.get("总分") if is_number(summary.get("总分")) else None
        item.grade = str(summary.get("评价等次") or "")
        item.rate = summary.get("执行率")
        item.form_project = item.project or extra.get("project", "")
        item.project = item.form_project or Path(item.path).stem
        item.blank = extra.get("unfilled", False)
        item.unit = item.unit or extra.get("unit", "")
        item.per_unit = extra.get("per_unit", False)
        item.whole = extra.get("whole", False)
        if not item.whole and extra.get("figures"):       # a 湖南 form: a project's amounts, summed as any project's
            item.budget, item.spent, item.rate = map(_figure, extra["figures"])
        item.version = str(meta.get("模板版本") or "") if keep_inputs else ""
        return item
    item.unit = item.unit or str(record.unit or "")
    item.project = str(record.project or item.project)
    item.budget, item.spent, item.rate = map(_figure, (result.fund.budget, result.fund.spent, result.fund.rate))
    item.total = _figure(result.total) if is_number(result.total) else None   # 待填报: no total yet
    item.grade = result.grade if item.total is not None or not is_number(result.total) else ""
    item.fields = bureau_fields(record, extra["profile"])
    item.spent_cells = spent_of(record)
    item.typed = typed_actuals(record)
    item.blank = is_blank(item.typed, item.spent_cells)
    if not item.blank:
        item.quality = tuple((q.indicator, q.kind, q.detail) for q in quality_of(record, result, extra["profile"]))
    if keep_inputs:
        item.inputs = dataclasses.asdict(record) if dataclasses.is_dataclass(record) else {}
        item.version = str(meta.get("模板版本") or "")
        item.indicators = tuple(snaps_from_record(record, result))
    return item


def _read_batch(tasks: list[str | tuple[str, str]], keep_inputs: bool = False) -> list[Collected]:
    out = []
    for task in tasks:
        path, profile = (task, None) if isinstance(task, str) else task
        signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, FILE_SECONDS)
        try:
            out.append(read_returned(path, profile, keep_inputs))
        except _Timeout:
            out.append(Collected(path=shown(path), kind="无法读取", error=f"读取超过 {FILE_SECONDS} 秒，已放弃"
                                 "（文件异常庞大或结构异常，请单位重新保存后提交）"))
        except MemoryError:
            out.append(Collected(path=shown(path), kind="无法读取", error="读取所需内存超过上限，已放弃（文件异常庞大）"))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    return out


def _worker_gc() -> None:
    """A worker's garbage collector, for reading files one after another.

    The objects the worker inherits (modules, the warmed template facts) live as long as it does: they are moved
    out of the collector's generations (``gc.freeze``), so its full collections no longer walk them (and no longer
    touch, hence copy, the parent's memory pages). Its young generation is collected after :data:`YOUNG_OBJECTS`
    allocations, not 700: reading a form allocates some ten thousand objects, nearly all freed by their reference
    counts, so the default made each file pay a dozen collections that found almost nothing (1.2 % of a file's
    instructions, bench/bench_instructions.py); the few cycles wait a little longer."""
    gc.freeze()
    gc.set_threshold(YOUNG_OBJECTS, *gc.get_threshold()[1:])


def _limit_memory() -> None:
    """Worker initialiser: cap the address space at what the worker has now plus :data:`MEMORY_HEADROOM`, after
    :func:`_worker_gc`."""
    _worker_gc()
    try:
        with open("/proc/self/statm") as fh:
            size = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    want = size + MEMORY_HEADROOM
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    resource.setrlimit(resource.RLIMIT_AS, (want, hard))


def _context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else methods[0])


def warm(profiles) -> None:
    """Compute the per-template facts (expected content, template display, field places) of ``profiles`` now
    (they are cached, per process, the first time a file needs them; the benchmarks call this so that they time
    the reading of files only)."""
    for pid in sorted(set(profiles)):
        layout = project_layout(pid)
        expected_for(pid, layout.template_id)
        template_display(pid)
        field_keys(pid)


def read_all(paths: list, jobs: int = 1, progress: Callable[[int], None] | None = None,
             keep_inputs: bool = False, meanwhile: Callable[[], None] | None = None) -> Iterator[Collected]:
    """Read every file in worker processes (``jobs`` of them) with memory and time limits.

    ``meanwhile`` runs in this process once the workers have their first files and before the first result is
    awaited (collect reads the master then, on a core the workers leave free); if it raises, the files not yet
    started are cancelled and its error propagates.

    A batch whose worker dies (a crash in a library, the memory limit) is read again file by file, each in a
    fresh worker; the file that kills its worker becomes an 无法读取 entry.
    """
    batches = [paths[i:i + BATCH] for i in range(0, len(paths), BATCH)]
    read_batch = functools.partial(_read_batch, keep_inputs=keep_inputs)
    retry: list[str] = []
    with ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=_context(), initializer=_limit_memory) as pool:
        pending: deque = deque()

        def started() -> None:
            nonlocal meanwhile
            if meanwhile is not None:
                run, meanwhile = meanwhile, None
                try:
                    run()
                except BaseException:
                    for _batch, fut in pending:
                        fut.cancel()
                    raise

        it = iter(batches)
        broken = False
        for batch in it:
            pending.append((batch, pool.submit(read_batch, batch)))
            if len(pending) >= jobs * 4:
                started()
                batch0, fut = pending.popleft()
                try:
                    got = fut.result()
                except BrokenProcessPool:
                    broken = True
                    retry.extend(batch0)
                    break
                if progress:
                    progress(len(got))
                yield from got
        started()
        for batch0, fut in pending:
            try:
                got = [] if broken else fut.result()
            except BrokenProcessPool:
                broken, got = True, []
            if not got:
                retry.extend(batch0)
                continue
            if progress:
                progress(len(got))
            yield from got
        if broken:
            for batch in it:
                retry.extend(batch)
    for task in retry:
        path = task if isinstance(task, str) else task[0]
        with ProcessPoolExecutor(max_workers=1, mp_context=_context(), initializer=_limit_memory) as solo:
            try:
                got = solo.submit(read_batch, [task]).result()
            except BrokenProcessPool:
                got = [Collected(path=shown(path), kind="无法读取",
                                 error="读取时进程异常终止（文件异常庞大或结构异常，超出内存上限），已跳过")]
        if progress:
            progress(1)
        yield from got


# ----------------------------------------------------------------------------- the folder

def find_files(folder: Path) -> tuple[list[str], list[Collected], Survey]:
    """Spreadsheet files below ``folder`` (symbolic links never followed), the entries not read, with why, and the
    whole walk (:func:`~xlsx_engine.integrity.folder.survey`; bulk's manifest is not a returned file)."""
    found = survey(folder, ignore=(MANIFEST,))
    return found.spreadsheets, [Collected(path=path, note=why) for path, why in found.skipped], found


def iter_workbooks(folder: Path) -> list[str]:
    """The files ``collect`` reads below ``folder``."""
    return find_files(Path(folder))[0]


# ----------------------------------------------------------------------------- what was sent

@dataclass
class Sent:
    """One project as the bureau sent it."""

    code: str
    unit: str
    name: str
    profile: str
    fields: tuple
    spent_cells: tuple


class SentProjects:
    """The projects of the master as they were sent, looked up one at a time from the master's store: ten
    thousand projects' bureau-set cells are never held at once. A project counts as sent when bulk could
    generate it (its row is valid and its data passes the form's checks).

    Raises (on open):
        WorkbookError / DataError: the master cannot be read or has the wrong format.
    """

    def __init__(self, master_path: str | Path):
        self.master = Master(master_path)
        self.contacts = {u: {"联系人": str(v.get("联系人") or ""), "联系电话": str(v.get("联系电话") or "")}
                         for u, v in self.master.units.items()}
        self._any: bool | None = None
        self._units: dict[str, str] | None = None

    def close(self) -> None:
        self.master.close()

    def unit_named(self, name: str) -> str:
        """The master's spelling of a unit typed as ``name`` (:func:`~xlsx_engine.kernel.names.name_key`); ""
        when the master lists no such unit."""
        if self._units is None:
            self._units = {name_key(u): u for u in self.contacts}
        return self._units.get(name_key(name), "") if name.strip() else ""

    def _sent(self, entry: MasterEntry) -> Sent | None:
        p = self.master.project(entry)
        try:
            record = record_from_data(p.data, load_profile(p.profile), source=f"总表 {p.where}")
        except DataError:
            return None                  # bulk reported it and sent nothing for it
        return Sent(p.code, p.unit, p.name, p.profile, bureau_fields(record, p.profile),
                    spent_of(record))

    def get(self, code: str) -> Sent | None:
        entry = self.master.entry(code) if code else None
        return self._sent(entry) if entry is not None else None

    def walk(self, known: Container[str]) -> Iterator[tuple[str, Sent | None]]:
        """(code, project) of every project sent, in the master's order; for the codes in ``known`` (already
        found by :meth:`get`) the project is None and not read again."""
        for entry in self.master.entries():
            if isinstance(entry, DataError):
                continue
            if entry.code in known:
                yield entry.code, None
                continue
            sent = self._sent(entry)
            if sent is not None:
                yield entry.code, sent

    def __bool__(self) -> bool:
        """Whether anything was sent at all."""
        if self._any is None:
            self._any = next(self.walk(set()), None) is not None
        return self._any


def _control(item: Collected, sent: Sent) -> None:
    """Change control: the returned copy against what was sent."""
    add = item.findings.append
    if item.profile and item.profile != sent.profile:
        add(Finding(ERROR, "profile_not_sent", "docProps/custom.xml",
                    f"本表的评分规则为“{load_profile(item.profile).name}”，下发的是“{load_profile(sent.profile).name}”",
                    "请使用下发的自评表填报，不要换用其他模板", item.path))
        return
    for (name, k, place), want, got in zip(field_keys(sent.profile), sent.fields, item.fields):
        if want is not None and got != want:
            what = name if not _multi(name) else f"{name}第{k + 1}项"
            add(Finding(ERROR, "changed_after_sent", place, f"下发时为“{_show(want)}”，交回时为“{_show(got)}”（{what}）",
                        "此处由主管部门下发，单位不应修改；如需调整请与主管部门联系", item.path))


def _multi(name: str) -> bool:
    return name not in ("项目名称", "主管部门", "实施单位", "年度")


def _show(v: Any) -> str:
    if v is None:
        return "（空）"
    if isinstance(v, float):
        return f"{v:.6f}".rstrip("0").rstrip(".")
    return str(v)[:80]


# ----------------------------------------------------------------------------- the collection

def status_of(item: Collected) -> str:
    """The status of a returned project (README“回收”)."""
    if item.error:
        return FAILED
    errors = item.count(ERROR)
    if item.blank:
        return FAILED if any(f.code in CONTROL_CODES for f in item.findings) else BLANK
    if errors:
        return FAILED
    return FILLED if item.count(WARNING) else PASSED


def collect(folder: str | Path, *, master: str | Path | None = None, manifest: str | Path | None = None,
            jobs: int = 1, progress: Callable[[int], None] | None = None, keep_inputs: bool = False,
            listed: Callable[[int], None] | None = None) -> Collection:
    """Collect every workbook below ``folder``; with the ``master``, against what was sent.

    Args:
        folder: where the returned files are.
        master: the 总表 the files were generated from (``jxzp bulk``): adds 未交回, change control, contacts.
        manifest: bulk's manifest (default: ``folder/.jxzp-bulk.json`` when present): identifies files by path.
        jobs: worker processes.
        keep_inputs: keep each form's inputs and indicator rows on its row (for the archive: no second reading).
        progress: called with the number of files read, as they are read; ``listed``: once, with the number of
            files to read (a progress bar's total, from the one walk of the folder).

    Raises:
        JxzpError: the folder does not exist; the master cannot be read.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise JxzpError("找不到文件夹", where=shown(folder))
    with contextlib.ExitStack() as stack:
        return _collect(folder, master, stack, manifest, jobs, progress, keep_inputs, listed)


def _collect(folder: Path, master: str | Path | None, stack: contextlib.ExitStack, manifest: str | Path | None,
             jobs: int, progress: Callable[[int], None] | None, keep_inputs: bool = False,
             listed: Callable[[int], None] | None = None) -> Collection:
    manifest_path = Path(manifest) if manifest else folder / MANIFEST
    by_relpath = read_manifest(manifest_path, lambda e: e.get("项目编码", "")) if manifest_path.is_file() else {}
    paths, skipped, found = find_files(folder)
    if listed:
        listed(len(paths))
    # the per-template facts are computed by each worker for the rules it meets (one or two in a collection, ~15 ms
    # each, in parallel), not for all six installed ones in this process before the fork (~80 ms, serial)
    sent: SentProjects | None = None

    def open_master() -> None:   # run by read_all while the workers read the first files, before any result
        nonlocal sent
        sent = SentProjects(master)
        stack.callback(sent.close)

    coll = Collection(reports=found.reports, others=found.others)
    coll.unused.extend(skipped)
    returned: list[Collected] = []
    matched: dict[str, str] = {}                   # codes of returned files that name a project sent
    shared: dict[str, str] = {}                    # texts many rows repeat, kept once (see _compact)
    # the results first: with no file at all the reader still runs (and opens the master), and it ends with the loop
    results = read_all(paths, jobs, progress, keep_inputs, meanwhile=open_master if master else None)
    for item, path in zip(results, paths):
        item.relpath = shown(os.path.relpath(path, folder)).replace(os.sep, "/")
        item.code = item.code or by_relpath.pop(item.relpath, "")
        by_relpath.pop(item.relpath, None)         # what remains: the files sent and not returned
        if item.path == path:                      # one copy of the file's name (see _compact)
            item.path = path
        if item.file == path:
            item.file = path
        if item.kind == OWN_OUTPUT:               # a 汇总表 of an earlier run, saved in the folder
            coll.unused.append(item)
            continue
        if item.error:
            item.findings = [Finding(ERROR, "unreadable", "", item.error, "", item.path)]
        if sent is not None:
            item = _against_sent(item, sent, matched, keep_inputs)
        _compact(item, shared)
        if item.error:
            coll.unused.append(item)
            if not item.code:
                continue
        returned.append(item)
    for best, older in newest_of_each(returned, project_code, lambda i: i.submitted, lambda i: i.path,
                                      lambda i: i.blank):
        for other in older:
            other.note = passed_over(best, other)
            if not other.error:
                coll.unused.append(other)
        best.status = status_of(best)
        if best.status == BLANK:
            best.findings = [f for f in best.findings if f.code in CONTROL_CODES]
        coll.rows.append(best)
    if sent is not None:
        coll.contacts, coll.master = sent.contacts, shown(sent.master.path)
    order: dict[str, int] = {}                     # the master's order, then the others
    if sent is not None:
        missing = []
        for code, s in sent.walk(matched):
            order[matched.get(code, code)] = len(order)        # the rows' own code strings: one copy
            if s is not None:
                missing.append(Collected(unit=s.unit, code=s.code, project=s.name, profile=s.profile, status=MISSING))
        relpaths = {r.code: r for r in missing}
        for rel, code in by_relpath.items():       # the files sent and not returned
            r = relpaths.get(code)
            if r is not None and not r.relpath:
                r.relpath = rel
        coll.rows.extend(missing)
    coll.rows.sort(key=lambda r: (order.get(r.code, len(order)), r.unit, r.code, r.project, r.path))
    return coll


def project_code(item: Collected) -> str:
    """What makes returned copies one form (README“回收”: one project, one row; the newest copy counts): a project
    form's 项目编码. A form matched by its unit (:attr:`Collected.per_unit`) never shares a key with a project form
    — a code it carries is not a project's — but its own copies share one: a 部门整体 form by its unit (one unit,
    one 部门整体 form: a resubmission under a new name supersedes the older), a 湖南 form by its unit and project;
    compared as people read names (:func:`~xlsx_engine.kernel.names.name_key`). A form that names no unit (or a
    湖南 form no project) stands alone. The keys start with NUL, which no 项目编码 read from XML can hold."""
    if not item.per_unit:
        return item.code
    unit = name_key(item.unit)
    if not unit:
        return ""
    if item.whole:
        return f"\x00部门整体\x00{unit}"
    project = name_key(item.form_project)
    return f"\x00{unit}\x00{project}" if project else ""


def submission_order(submitted: float | None, path: str) -> tuple:
    """The key that orders the returned files of one project: the newest submission (then the later name) last;
    the last one counts and the others are superseded (README“回收”: one project, one row)."""
    return (submitted or 0, path)


def newest_of_each(copies: Iterable[_Copy], code: Callable[[_Copy], str],
                   submitted: Callable[[_Copy], float | None], path: Callable[[_Copy], str],
                   blank: Callable[[_Copy], bool] = lambda _copy: False) -> list[tuple[_Copy, list[_Copy]]]:
    """One project, one row (README“回收”): the returned copies grouped by 项目编码 (``code``; a copy without one
    stands alone), each group as (the copy that counts, the others it supersedes), in the order the projects first
    appear. The newest submission counts (:func:`submission_order` of ``submitted`` and ``path``) — but a copy
    returned ``blank`` (nothing typed: the form as it was sent) never supersedes one the unit filled in, however
    new: a blank copy left beside the filled return (the distributed template saved again, a copy made later) does
    not take the unit's figures away."""
    groups: dict[Any, list[_Copy]] = {}
    for n, copy in enumerate(copies):
        groups.setdefault(code(copy) or (n,), []).append(copy)
    out = []
    for group in groups.values():
        group.sort(key=lambda c: (not blank(c), submission_order(submitted(c), path(c))), reverse=True)
        out.append((group[0], group[1:]))
    return out


def passed_over(best: Collected, other: Collected) -> str:
    """Why a returned copy of a project is not used: superseded by a newer one, or blank beside a filled one."""
    if other.blank and not best.blank and (other.submitted or 0) > (best.submitted or 0):
        return f"是未填写的空表，已采用填写过的交回文件：{best.relpath}（{best.submitted_text}）"
    return superseded_by(best.relpath, best.submitted_text)


def superseded_by(relpath: str, submitted_text: str) -> str:
    """Why an older file of a project is not used."""
    return f"已被较新的交回文件替代：{relpath}（{submitted_text}）"


def _compact(item: Collected, shared: dict[str, str]) -> None:
    """Keep ten thousand rows small: the texts that repeat from file to file (unit, kind, 评分规则, template,
    grade; a finding's severity, code, place and hint) are kept once, and the file name once per file."""
    for obj, names in ((item, ("unit", "kind", "profile", "template", "grade")),
                       *((f, ("severity", "code", "place", "hint")) for f in item.findings)):
        for name in names:
            text = getattr(obj, name)
            setattr(obj, name, shared.setdefault(text, text))
        if obj.file == item.path:
            obj.file = item.path
        elif obj.file == item.file:
            obj.file = item.file


def _against_sent(item: Collected, sent: SentProjects, matched: dict[str, str], keep_inputs: bool = False
                  ) -> Collected:
    """Compare a returned file with what was sent for its project as soon as it is read (change control, blank
    or not, the sent unit and name), so the bureau-set cells of ten thousand files are never held at once."""
    if item.per_unit:                              # not sent project by project: matched by its unit alone
        _per_unit(item, sent)
        item.fields, item.spent_cells = (), ()
        return item
    s = sent.get(item.code)
    if s is not None and not item.error and not item.fields and item.kind == "本系统模板":
        # a project form whose rules are not installed: read it by the rules it was sent with
        again = next(read_all([(item.file, s.profile)], 1, keep_inputs=keep_inputs))
        again.relpath, again.code = item.relpath, item.code
        item = again
    if s is not None:
        matched.setdefault(item.code, item.code)
        item.unit, item.project = s.unit, item.project or s.name
        _control(item, s)
        if item.fields:
            item.blank = is_blank(item.typed, item.spent_cells, s.spent_cells)
    elif sent:
        item.findings.append(Finding(ERROR, "not_sent", "", f"项目编码“{item.code[:40]}”不在总表的下发清单中"
                                     if item.code else "无法确定本表对应下发的哪个项目（没有项目编码）",
                                     "请核实是否为本次下发的自评表", item.path))
    item.fields, item.spent_cells = (), ()          # compared: not kept for ten thousand files
    return item


def _per_unit(item: Collected, sent: SentProjects) -> None:
    """A 部门整体 or 湖南 form against the master: its unit must be one of the master's 单位, compared as people
    read names (:func:`~xlsx_engine.kernel.names.name_key`), and the row then carries the master's spelling (so
    按单位 and the 催报清单 group it with the unit's projects and its contact). A form returned blank that names no
    unit is 待填报 like any other (nothing to hold against it); a filled one must name its unit. Its 项目编码, if
    it carries one, is not a project's: such a form is never taken for a project's return. A master without a
    单位 sheet has no unit to match with."""
    if not sent.contacts:
        return
    unit = item.unit.strip()
    known = sent.unit_named(unit)
    if known:
        item.unit = known
        return
    if not unit and item.blank:
        return
    item.findings.append(Finding(
        ERROR, "not_sent", "", f"本表所填单位“{unit[:40]}”不在总表的单位清单中" if unit else
        "本表没有填写单位（部门）名称，无法确定是总表中哪个单位交回的",
        "请核实单位名称是否与总表“单位”工作表一致，或在总表中补充该单位" if unit else "请单位填写部门（单位）名称后重新提交",
        item.path))


def summarise(coll: Collection) -> dict:
    counted = coll.counted
    return {"项目数": len(coll.rows), "状态": coll.counts(), "计入汇总": len(counted),
            "无法读取": len(coll.unreadable), "未采用文件": len(coll.unused),
            "错误": sum(i.count(ERROR) for i in coll.rows), "警告": sum(i.count(WARNING) for i in coll.rows),
            "等次": {g: sum(1 for i in counted if i.grade == g) for g in GRADES},
            "平均总分": xround(math.fsum(i.total for i in counted) / len(counted), 2) if counted else None}


def timed_collect(folder, **kw) -> tuple[Collection, float]:
    t = time.perf_counter()
    coll = collect(folder, **kw)
    return coll, time.perf_counter() - t


__all__ = ["Collected", "Collection", "STATUSES", "collect", "read_returned", "summarise", "iter_workbooks",
           "is_blank", "status_of"]
