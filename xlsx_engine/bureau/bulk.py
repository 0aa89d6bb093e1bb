"""Bulk generation: one locked, pre-filled workbook per project of a master workbook.

Distribution and regeneration are the same operation: whatever the master knows is
filled in, the unit's input cells stay open. Every file is written atomically; a
manifest (``.jxzp-bulk.json``) records the hash, 项目编码 and 评分规则 of each generated
file so a re-run regenerates identical files but refuses to overwrite one that was
changed since (unless ``force``, which reports each file it overwrote). A bad project
is reported with its master sheet and row and does not stop the others.

Resuming: each entry is appended to a journal (``.jxzp-bulk.journal``) as soon as its file is
written; the manifest is rewritten atomically from manifest + journal at the end. After a kill
the rerun reads both and completes without ``force``; a file on disk without an entry (a power
cut before the journal reached the disk) is accepted when it equals what would be generated now.

Anything more per workbook (the narrative's 综述 sheet, a Word report beside it) is the caller's: bulk
takes an ``after_write`` hook, called in the worker with a :class:`Written` once the workbook is on disk.
The bureau layer does not know the narrative; the command line builds the hook from it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import re
import struct
import time
import zipfile
import zlib
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, TypeVar

from xlsx_engine.bureau.master import Master, MasterEntry, MasterStore
from xlsx_engine.bureau.output import make_folder, output_error, write_output
from xlsx_engine.forms.project.layout import project_layout
from xlsx_engine.forms.project.profile import Profile, load_profile
from xlsx_engine.forms.project.record import ProjectRecord, record_from_data
from xlsx_engine.forms.project.scoring import Result
from xlsx_engine.forms.registry import open_template
from xlsx_engine.kernel.errors import DataError, JxzpError
from xlsx_engine.ooxml.builder import TEMPLATE_DIR, template_filename
from xlsx_engine.ooxml.filler import Template
from xlsx_engine.ooxml.safezip import BATCH_FLUSH, MAX_UNCOMPRESSED, flush_to_disk

MANIFEST = ".jxzp-bulk.json"
JOURNAL = ".jxzp-bulk.journal"
POOL_MIN = 150          #: fewer projects than this are generated in this process: starting workers costs more
CHUNK = 16              #: projects per task sent to a worker (each reads its projects' rows from the spooled master)
_BAD_CHARS = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def safe_name(text: str, limit: int = 60) -> str:
    """A file or folder name Windows and Linux accept, with no path traversal."""
    name = _BAD_CHARS.sub("_", str(text)).strip().strip(".").strip()
    name = name.replace("..", "_")
    if not name:
        name = "未命名"
    if name.split(".")[0].upper() in _RESERVED:
        name = "_" + name
    return name[:limit].rstrip(" .") or "未命名"


@dataclass
class BulkItem:
    code: str
    unit: str
    name: str
    relpath: str
    total: float | None = None
    grade: str | None = None
    status: str = "pending"       #: written | unchanged | overwritten | refused | error
    filled: bool = False          #: the master carried actual values (regeneration) rather than none (distribution)
    message: str = ""


@dataclass
class BulkReport:
    items: list[BulkItem] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for i in self.items if i.status == status)


@dataclass(frozen=True)
class Written:
    """One workbook bulk has just written, as handed to the ``after_write`` hook (in the worker process)."""

    path: Path                    #: the .xlsx on disk
    record: ProjectRecord         #: what was filled in
    profile: Profile              #: its 评分规则
    result: Result                #: the scorer's result (总分, 等次 …)
    identity: dict[str, str]      #: 项目编码, 单位名称, 项目名称 (also written as document properties)


#: bulk's per-workbook hook. With ``jobs > 1`` it runs in worker processes, so it must be picklable:
#: a module-level function, or a :func:`functools.partial` of one with plain arguments (no lambda, no closure).
#: It may rewrite the workbook (the manifest hashes the file as the hook leaves it) or write files beside it;
#: a :class:`JxzpError` it raises is reported for that project like any other.
AfterWrite = Callable[[Written], None]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_TEMPLATES: dict[str, Template] = {}
P = TypeVar("P")


def _template(profile_id: str, template_dir: str) -> Template:
    key = f"{template_dir}|{profile_id}"
    if key not in _TEMPLATES:
        _TEMPLATES[key] = open_template(Path(template_dir) / template_filename(project_layout(profile_id)))
    return _TEMPLATES[key]


def read_manifest(path: str | Path, entry: Callable[[dict], Any] = dict) -> dict[str, Any]:
    """relpath -> {"sha256", "项目编码", "评分规则"} from a manifest and its journal (a torn last line is
    ignored); the first format (relpath -> sha256) is read too. ``entry`` turns each entry into what the caller
    keeps, as it is parsed (ten thousand entries need not all be dicts at once)."""
    path = Path(path)
    out: dict[str, Any] = {}

    def hook(pairs):
        d = dict(pairs)
        return _Parsed(entry(d)) if "sha256" in d and not any(isinstance(v, (dict, _Parsed)) for v in d.values()) else d
    try:
        data = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=hook)
    except (OSError, ValueError):
        data = {}
    files = data.get("文件", data) if isinstance(data, dict) else {}
    for rel, value in files.items():
        if isinstance(value, str):
            out[rel] = entry({"sha256": value})
        elif isinstance(value, _Parsed):
            out[rel] = value.value
    try:
        lines = (path.parent / JOURNAL).read_text(encoding="utf-8").splitlines()
    except (OSError, ValueError):
        lines = []
    for line in lines:
        try:
            d = json.loads(line)
            out[d.pop("relpath")] = entry(d)
        except (ValueError, KeyError, AttributeError, TypeError):
            continue
    return out


class _Parsed:
    """A manifest entry already turned into what the caller keeps (told apart from the dicts around it)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


#: what a status says about the file (``{}``: its path below the output folder)
_MESSAGES = {"overwritten": "{}：生成后被修改过，已按 --force 覆盖",
             "repaired": "{}：上次运行中断（如断电）时未写完整，已重新生成"}


def incomplete(raw: bytes) -> bool:
    """A file a power cut left unfinished: empty, all zero bytes, or a zip whose content cannot be read back.

    Files are renamed into place whole, but written without an fsync each (one :func:`flush_to_disk` at the end
    of the run): after a power cut the disk may hold a new name on data that never arrived. Such a file is
    nobody's work and is generated again; a readable workbook, or anything that is not a zip (an .xls saved
    under this name), is a unit's or a person's file and is never overwritten without ``--force``.
    """
    if not raw.strip(b"\0"):
        return True
    if not raw.startswith(b"PK"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            if sum(i.file_size for i in zf.infolist()) > MAX_UNCOMPRESSED:
                return False              # not ours to unpack (a bomb under this name): refused like an edit
            return zf.testzip() is not None
    except (zipfile.BadZipFile, zlib.error, EOFError, struct.error):
        return True                       # cut short or garbled: what a power cut leaves
    except Exception:  # noqa: BLE001 — an encrypted or unusually packed zip is somebody's file: never overwritten
        return False


def _work_chunk(task: tuple) -> list[tuple]:
    """Generate the projects of one task (in a worker, or in this process): see :func:`_work`."""
    store, chunk, outdir, template_dir, after_write, force = task
    return [_work(store, entry, expected, outdir, template_dir, after_write, force) for entry, expected in chunk]


def _work(store: MasterStore, entry: MasterEntry, expected: str | None, outdir: str, template_dir: str,
          after_write: AfterWrite | None, force: bool) -> tuple[str | None, float | None, str | None, bool, str, str]:
    """Read one project from the master, fill it and write it unless the file on disk was changed since it
    was generated.

    Returns:
        (sha256, total, grade, has actual values, error or refusal message or "", status).
    """
    try:
        project = store.project(entry)
        tpl = _template(project.profile, template_dir)
        try:
            record = record_from_data(project.data, load_profile(project.profile), source=f"总表 {project.where}",
                                      max_rows=len(tpl.layout.indicator_rows))
        except DataError as err:
            raise project.explain(err) from None
        identity = {"项目编码": project.code, "单位名称": project.unit, "项目名称": project.name}
        data, result = tpl.fill_bytes(record, identity=identity)
        target = Path(outdir) / entry.relpath
        filled = any(r.actual not in (None, "") for r in record.indicators)
        try:
            raw = target.read_bytes()
        except FileNotFoundError:
            raw = None
        except OSError as exc:              # a folder, or a file this user may not read, holds the name
            raise output_error(target, exc) from None
        old = _sha(raw) if raw is not None else None
        status = "written"
        if old is not None and old != expected:
            if after_write is None and old == _sha(data):
                return old, result.total, result.grade, filled, "", "unchanged"
            if incomplete(raw):
                status = "repaired"
            elif not force:
                return None, None, None, False, f"{target}：文件在生成后被修改过，未覆盖（确需覆盖请加 --force）", "refused"
            else:
                status = "overwritten"
        write_output(target, data, durable=not BATCH_FLUSH)      # made durable at the end of the run
        if after_write is not None:
            after_write(Written(target, record, tpl.profile, result, identity))
            data = target.read_bytes()            # the hook may have rewritten it
        sha = _sha(data)
        if status == "written" and old == sha:
            status = "unchanged"
        return sha, result.total, result.grade, filled, "", status
    except JxzpError as err:
        return None, None, None, False, str(err), "error"


def plan_paths(projects: Iterable[P], by: str) -> Iterator[P]:
    """Give each project (a :class:`MasterEntry` or ``MasterProject``) a unique, safe relative path
    (``relpath`` attribute), lazily."""
    used: set[int] = set()          # a 64-bit digest of each name in lower case: 50,000 names stay small

    def key(rel: str) -> int:
        return int.from_bytes(hashlib.blake2b(rel.lower().encode("utf-8"), digest_size=8).digest(), "big")
    for p in projects:
        stem = safe_name(f"{p.code}_{p.name}")
        folder = safe_name(p.unit, 40)
        rel = f"{folder}/{stem}.xlsx" if by == "unit" else f"{safe_name(p.unit, 30)}_{stem}.xlsx"
        k = 2
        base = rel[:-5]
        while key(rel) in used:
            rel = f"{base}({k}).xlsx"
            k += 1
        used.add(key(rel))
        p.relpath = rel
        yield p


def bulk(master: str | Path | Master, outdir: str | Path, *, by: str = "project", jobs: int = 1,
         force: bool = False, template_dir: str | Path = TEMPLATE_DIR, progress: Callable[[int], None] | None = None,
         after_write: AfterWrite | None = None, pool_min: int = POOL_MIN) -> BulkReport:
    """Generate one workbook per project of a master workbook.

    The master is streamed into a temporary store once; this process plans the file names and keeps the
    journal, each worker reads its projects' rows from the store itself (tasks carry row indices, not data),
    so memory stays flat however many projects the master has. With worker processes, projects are generated
    while the 指标 sheet is still being read: a project goes to a worker as soon as the sheet has moved past its
    rows (a project whose rows turn up again further down is generated again once the sheet is read).

    Args:
        master: the 总表.xlsx, or a :class:`Master` already opened (left open; open it with
            ``stream_indicators=True`` to generate while it is read).
        outdir: output folder (created).
        by: "project" (all files in one folder) or "unit" (a folder per unit, holding its projects).
        jobs: worker processes (1: in this process).
        force: overwrite files that were changed after they were generated.
        template_dir: where the templates are.
        progress: called with the number of projects finished since the last call.
        after_write: called with a :class:`Written` after each workbook is written (see :data:`AfterWrite`;
            picklable when ``jobs > 1``), e.g. to add the 综述 sheet or a Word report.
        pool_min: with fewer projects than this, no worker processes are started (``jobs`` is ignored).

    Returns:
        A :class:`BulkReport`; each project has a status, errors have their master sheet and row.

    Raises:
        WorkbookError / DataError: the master cannot be read or its format is wrong.
        TypeError: ``after_write`` cannot be sent to worker processes (``jobs > 1``).
    """
    if after_write is not None and jobs > 1:
        try:
            pickle.dumps(after_write)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise TypeError(f"after_write must be picklable to run in worker processes (jobs={jobs}): use a "
                            f"module-level function or functools.partial of one ({exc})") from None
    start = time.perf_counter()
    outdir = make_folder(outdir)
    own = not isinstance(master, Master)
    store = Master(master, stream_indicators=jobs > 1) if own else master
    try:
        run = _Run(store, outdir, by, force, str(template_dir), progress, after_write)
        try:
            journal = open(outdir / JOURNAL, "a", encoding="utf-8")
        except OSError as exc:
            raise output_error(outdir / JOURNAL, exc) from None
        with journal:
            run.journal = journal
            if jobs > 1 and len(store) >= pool_min:
                for pid in store.used_profiles():       # opened once here; the forked workers inherit them
                    _template(pid, str(template_dir))
                with ProcessPoolExecutor(max_workers=jobs) as pool:
                    run.in_pool(pool, window=jobs * 4)
            else:
                for chunk in _chunks(run.planned(store.entries())):
                    run.record(chunk, _work_chunk(run.task(chunk)))
        flush_to_disk()           # every workbook on the disk before the manifest that vouches for them
        write_manifest(outdir / MANIFEST, run.manifest)
    finally:
        if own:
            store.close()
    run.report.seconds = time.perf_counter() - start
    return run.report


def _chunks(pairs: Iterable, size: int = CHUNK) -> Iterator[list]:
    chunk = []
    for pair in pairs:
        chunk.append(pair)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _Run:
    """One bulk run in this process: plans the file names, sends tasks, records each result in the report,
    the manifest and the journal."""

    def __init__(self, store: Master, outdir: Path, by: str, force: bool, template_dir: str,
                 progress: Callable[[int], None] | None, after_write: AfterWrite | None):
        self.store, self.outdir, self.by, self.force = store, outdir, by, force
        self.template_dir, self.progress, self.after_write = template_dir, progress, after_write
        self.report = BulkReport()
        self.journal = None
        self.shared: dict[str, str] = {}        # one string per unit and 评分规则: ten thousand projects share them
        self.manifest = read_manifest(outdir / MANIFEST, lambda e: (e.get("sha256"), e.get("项目编码"),
                                                                     self._share(e.get("评分规则"))))

    def _share(self, text):
        return self.shared.setdefault(text, text)

    def _error(self, err: DataError) -> None:
        self.report.errors.append(str(err))
        if self.progress:
            self.progress(1)

    def planned(self, entries: Iterable[MasterEntry | DataError]) -> Iterator[tuple[BulkItem, MasterEntry]]:
        """(report item, entry) of each project, its file name planned (errors go to the report)."""
        def valid():
            for e in entries:
                if isinstance(e, DataError):
                    self._error(e)
                else:
                    yield e
        for e in plan_paths(valid(), self.by):
            e.unit, e.profile = self._share(e.unit), self._share(e.profile)
            item = BulkItem(e.code, e.unit, e.name, e.relpath)
            self.report.items.append(item)
            yield item, e

    def task(self, chunk: list[tuple[BulkItem, MasterEntry]]) -> tuple:
        return (self.store, [(e, self.manifest[e.relpath][0] if e.relpath in self.manifest else None)
                             for _, e in chunk], str(self.outdir), self.template_dir, self.after_write, self.force)

    def in_pool(self, pool: ProcessPoolExecutor, window: int) -> None:
        """Generate in worker processes, starting while the 指标 sheet is still being read."""
        pending: deque = deque()

        def submit(chunk, count=True):
            pending.append((chunk, pool.submit(_work_chunk, self.task(chunk)), count))
            if len(pending) >= window:
                wait()

        def wait():
            chunk, future, count = pending.popleft()
            self.record(chunk, future.result(), count)

        waiting = {item.code: (item, e) for item, e in self.planned(self.store.project_entries())}
        ready = []
        for codes in self.store.stream_indicators():
            for code in codes:
                pair = waiting.pop(code, None)
                if pair is not None:
                    ready.append(pair)
                    if len(ready) == CHUNK:
                        submit(ready)
                        ready = []
            while pending and pending[0][1].done():
                wait()
        for chunk in _chunks([*ready, *waiting.values()]):
            submit(chunk)
        waiting.clear()
        while pending:
            wait()
        for err in (*self.store.part_errors(), *self.store.unknown_codes()):
            self._error(err)
        again = []                              # generated before the sheet was read to the end
        for item in self.report.items if self.store.reopened else ():
            if item.code in self.store.reopened:
                e = self.store.entry(item.code)
                e.unit, e.relpath = item.unit, item.relpath
                again.append((item, e))
        firsts = []
        for item, _ in again:                   # generated before all its 指标 rows were read: once more
            if item.status == "error":
                self.report.errors.remove(item.message)
            firsts.append(item.status)
        for chunk in _chunks(again):
            submit(chunk, count=False)
        while pending:
            wait()
        for (item, _), first in zip(again, firsts):       # what the run did to the file, both times together
            if item.status in ("written", "unchanged") and first in ("written", "overwritten", "repaired"):
                item.status = first
                item.message = _MESSAGES.get(first, "").format(item.relpath)

    def record(self, chunk: list[tuple[BulkItem, MasterEntry]], got: list[tuple], count: bool = True) -> None:
        report, manifest = self.report, self.manifest
        lines = []
        for (item, e), (sha, total, grade, filled, error, status) in zip(chunk, got):
            item.status, grade = self._share(status), self._share(grade)
            if status == "error":
                item.message = error
                report.errors.append(error)
            elif status == "refused":
                item.message = error
            else:
                item.total, item.grade, item.filled = total, grade, filled
                if status in _MESSAGES:
                    item.message = _MESSAGES[status].format(item.relpath)
                entry = (sha, item.code, e.profile)
                if manifest.get(item.relpath) != entry:
                    manifest[item.relpath] = entry
                    lines.append(json.dumps({"relpath": item.relpath, "sha256": sha, "项目编码": item.code,
                                             "评分规则": e.profile}, ensure_ascii=False) + "\n")
        if lines:
            self.journal.write("".join(lines))
            self.journal.flush()          # survives a kill of this process; the files themselves are fsynced
        if count and self.progress:
            self.progress(len(chunk))


def write_manifest(path: Path, manifest: dict[str, tuple]) -> None:
    """Rewrite the manifest atomically from the merged entries (relpath -> (sha256, 项目编码, 评分规则)), then
    drop the journal they came from. The JSON is written piece by piece, never held whole."""
    def pieces() -> Iterator[bytes]:
        yield '{\n"文件": {'.encode("utf-8")
        for k, rel in enumerate(sorted(manifest)):
            entry = {key: v for key, v in zip(("sha256", "项目编码", "评分规则"), manifest[rel]) if v is not None}
            yield (("," if k else "") + "\n" + json.dumps(rel, ensure_ascii=False) + ": "
                   + json.dumps(entry, ensure_ascii=False, indent=0, sort_keys=True)).encode("utf-8")
        yield ("\n" if manifest else "").encode("utf-8") + '},\n"版本": 2\n}'.encode("utf-8")
    write_output(path, pieces())
    try:
        (path.parent / JOURNAL).unlink()
    except FileNotFoundError:
        pass


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
