"""Bulk generation: one locked, pre-filled workbook per project of a master workbook.

Distribution and regeneration are the same operation: whatever the master knows is
filled in, the unit's input cells stay open. Every file is written atomically; a
manifest (``.jxzp-bulk.json``) records the hash of each generated file so a re-run
regenerates identical files but refuses to overwrite one that was changed since
(unless ``force``). A bad project is reported with its master sheet and row and
does not stop the others.

Anything more per workbook (the narrative's 综述 sheet, a Word report beside it) is the caller's: bulk
takes an ``after_write`` hook, called in the worker with a :class:`Written` once the workbook is on disk.
The bureau layer does not know the narrative; the command line builds the hook from it.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from xlsx_engine.bureau.master import Master, MasterProject
from xlsx_engine.forms.project.layout import project_layout
from xlsx_engine.forms.project.profile import Profile, load_profile
from xlsx_engine.forms.project.record import ProjectRecord, record_from_data
from xlsx_engine.forms.project.scoring import Result
from xlsx_engine.forms.registry import open_template
from xlsx_engine.kernel.errors import DataError, JxzpError
from xlsx_engine.ooxml.builder import TEMPLATE_DIR, template_filename
from xlsx_engine.ooxml.filler import Template
from xlsx_engine.ooxml.safezip import atomic_write_bytes

MANIFEST = ".jxzp-bulk.json"
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
    status: str = "pending"       #: written | unchanged | refused | error
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


def _template(profile_id: str, template_dir: str) -> Template:
    key = f"{template_dir}|{profile_id}"
    if key not in _TEMPLATES:
        _TEMPLATES[key] = open_template(Path(template_dir) / template_filename(project_layout(profile_id)))
    return _TEMPLATES[key]


def _work(task: tuple) -> tuple[str, str | None, float | None, str | None, bool, str]:
    """Fill and write one project (runs in a worker process).

    Returns:
        (relpath, sha256, total, grade, has actual values, error message or "").
    """
    project, outdir, template_dir, after_write = task
    try:
        tpl = _template(project.profile, template_dir)
        try:
            record = record_from_data(project.data, load_profile(project.profile), source=f"总表 {project.where}",
                                      max_rows=len(tpl.layout.indicator_rows))
        except DataError as err:
            raise project.explain(err) from None
        identity = {"项目编码": project.code, "单位名称": project.unit, "项目名称": project.name}
        data, result = tpl.fill_bytes(record, identity=identity)
        target = Path(outdir) / project.relpath
        atomic_write_bytes(target, data)
        if after_write is not None:
            after_write(Written(target, record, tpl.profile, result, identity))
            data = target.read_bytes()            # the hook may have rewritten it
        filled = any(r.actual not in (None, "") for r in record.indicators)
        return project.relpath, _sha(data), result.total, result.grade, filled, ""
    except JxzpError as err:
        return project.relpath, None, None, None, False, str(err)


def plan_paths(projects: Iterable[MasterProject], by: str) -> Iterator[MasterProject]:
    """Give each project a unique, safe relative path (``relpath`` attribute), lazily."""
    used: set[str] = set()
    for p in projects:
        stem = safe_name(f"{p.code}_{p.name}")
        folder = safe_name(p.unit, 40)
        rel = f"{folder}/{stem}.xlsx" if by == "unit" else f"{safe_name(p.unit, 30)}_{stem}.xlsx"
        k = 2
        base = rel[:-5]
        while rel.lower() in used:
            rel = f"{base}({k}).xlsx"
            k += 1
        used.add(rel.lower())
        p.relpath = rel
        yield p


def bulk(master_path: str | Path, outdir: str | Path, *, by: str = "project", jobs: int = 1, force: bool = False,
         template_dir: str | Path = TEMPLATE_DIR, progress: Callable[[int], None] | None = None,
         after_write: AfterWrite | None = None) -> BulkReport:
    """Generate one workbook per project of a master workbook.

    Args:
        master_path: the 总表.xlsx.
        outdir: output folder (created).
        by: "project" (all files in one folder) or "unit" (a folder per unit, holding its projects).
        jobs: worker processes (1: in this process).
        force: overwrite files that were changed after they were generated.
        template_dir: where the templates are.
        progress: called with the number of projects finished since the last call.
        after_write: called with a :class:`Written` after each workbook is written (see :data:`AfterWrite`;
            picklable when ``jobs > 1``), e.g. to add the 综述 sheet or a Word report.

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
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    master = Master(master_path)
    report = BulkReport()

    def projects() -> Iterator[MasterProject]:
        for item in master.projects():
            if isinstance(item, DataError):
                report.errors.append(str(item))
                if progress:
                    progress(1)
            else:
                yield item

    manifest_path = outdir / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        manifest = {}
    items: dict[str, BulkItem] = {}

    def tasks() -> Iterator[tuple]:
        for p in plan_paths(projects(), by):
            item = BulkItem(p.code, p.unit, p.name, p.relpath)
            items[p.relpath] = item
            report.items.append(item)
            target = outdir / p.relpath
            if target.exists() and not force:
                if manifest.get(p.relpath) != _sha(target.read_bytes()):
                    item.status = "refused"
                    item.message = f"{target}：文件在生成后被修改过，未覆盖（确需覆盖请加 --force）"
                    if progress:
                        progress(1)
                    continue
            yield (p, str(outdir), str(template_dir), after_write)

    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            _collect(_bounded_map(pool, _work, tasks(), window=jobs * 64), items, manifest, report, progress)
    else:
        _collect(map(_work, tasks()), items, manifest, report, progress)
    atomic_write_bytes(manifest_path, json.dumps(manifest, ensure_ascii=False, indent=0, sort_keys=True)
                       .encode("utf-8"))
    report.seconds = time.perf_counter() - start
    return report


def _bounded_map(pool: ProcessPoolExecutor, fn, iterable, window: int) -> Iterator:
    """Like ``pool.map`` but with at most ``window`` tasks in flight, so memory does not grow with the count."""
    pending: deque = deque()
    for task in iterable:
        pending.append(pool.submit(fn, task))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _collect(results, items, manifest, report, progress) -> None:
    for relpath, sha, total, grade, filled, error in results:
        item = items[relpath]
        if error:
            item.status, item.message = "error", error
            report.errors.append(error)
        else:
            item.status = "unchanged" if manifest.get(relpath) == sha else "written"
            item.total, item.grade, item.filled = total, grade, filled
            manifest[relpath] = sha
        if progress:
            progress(1)


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
