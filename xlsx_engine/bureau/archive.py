"""The bureau's yearly archive: every collected submission in one SQLite file, compared year over year.

A 绩效科 collects the same units' self-evaluations every year. :class:`Archive` records each collected
submission (year, round, unit, project code, status, template/profile/version, every input and result,
every indicator row, every finding, the file's hash and submission time) so that later years can be
compared with earlier ones (:func:`year_over_year`) and the quality of targets reviewed
(:func:`target_quality`).

- One file (default ``绩效自评档案.sqlite`` beside the bureau's working folder), and only one after every
  command: the rollback journal (``journal_mode=DELETE``, ``synchronous=FULL``) lives only while a write
  commits, so nothing is left beside the archive for a bureau that copies or mails it. A crash mid-write
  leaves the journal, and the next command (even a read-only one, :func:`settle`) rolls the half-written
  transaction back; an archive an earlier version left in WAL mode is folded back into one file the same way.
  SQLite's own locking serialises writers (``busy_timeout``, ``BEGIN IMMEDIATE``), so two ``jxzp archive``
  runs on the same file do not corrupt it.
- Re-recording the same file in the same round is idempotent (unique on year, round and file hash); a new
  round adds rows without touching earlier ones.
- The schema is versioned (``PRAGMA user_version``) and migrated forward on open by :data:`MIGRATIONS`;
  reports open the archive read-only (``mode=ro``).

Matching across years: by 项目编码; when a project has no code or its code is not found, by the project
name within the same unit after normalising it (spaces, punctuation and 4-digit years removed, e.g.
"2023年城乡医疗救助" ≡ "2024年 城乡医疗救助"); a unit's 部门整体 form matched neither way, by its unit. What
matches none of these ways is listed as unmatched.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from xlsx_engine.forms.registry import figures_of, form_for_profile, has_figures, is_whole, sent_by_project
from xlsx_engine.kernel.errors import JxzpError
from xlsx_engine.kernel.names import name_key as unit_key
from xlsx_engine.kernel.targets import OP_EQ, OP_GE, OP_GT, OP_LE, OP_LT, OP_QUAL, shown_target
from xlsx_engine.kernel.textfilters import num, pct, qty
from xlsx_engine.kernel.xlmath import is_number

DEFAULT_NAME = "绩效自评档案.sqlite"

#: Statuses a submission may have in the archive (the collection's statuses; see README 回收状态).
STATUSES = ("未交回", "待填报", "已填报", "有错误", "已通过", "无法读取")

#: Forward migrations: version -> statements that bring the schema from version-1 to version.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE rounds (
               id INTEGER PRIMARY KEY, year INTEGER NOT NULL, name TEXT NOT NULL, source TEXT NOT NULL DEFAULT '',
               recorded_at TEXT NOT NULL DEFAULT (datetime('now')), UNIQUE (year, name))""",
        """CREATE TABLE submissions (
               id INTEGER PRIMARY KEY, round_id INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
               year INTEGER NOT NULL, unit TEXT NOT NULL DEFAULT '', code TEXT NOT NULL DEFAULT '',
               project TEXT NOT NULL DEFAULT '', status TEXT NOT NULL, template TEXT NOT NULL DEFAULT '',
               profile TEXT NOT NULL DEFAULT '', version TEXT NOT NULL DEFAULT '', file_name TEXT NOT NULL DEFAULT '',
               file_hash TEXT NOT NULL, submitted_at TEXT NOT NULL DEFAULT '',
               budget REAL, spent REAL, rate REAL, total REAL, grade TEXT NOT NULL DEFAULT '',
               inputs TEXT NOT NULL DEFAULT '{}', UNIQUE (round_id, file_hash))""",
        """CREATE TABLE findings (
               submission_id INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
               severity TEXT NOT NULL, code TEXT NOT NULL, place TEXT NOT NULL DEFAULT '', message TEXT NOT NULL)""",
        "CREATE INDEX submissions_year_code ON submissions (year, code)",
        "CREATE INDEX findings_submission ON findings (submission_id)",
    ),
    2: (
        """CREATE TABLE indicators (
               submission_id INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE, row INTEGER NOT NULL,
               level1 TEXT NOT NULL DEFAULT '', level2 TEXT NOT NULL DEFAULT '', name TEXT NOT NULL DEFAULT '',
               op TEXT NOT NULL DEFAULT '', target REAL, target_text TEXT NOT NULL DEFAULT '',
               unit TEXT NOT NULL DEFAULT '', actual REAL, weight REAL, score REAL)""",
        "CREATE INDEX indicators_submission ON indicators (submission_id)",
        "ALTER TABLE submissions ADD COLUMN name_key TEXT NOT NULL DEFAULT ''",
        "CREATE INDEX submissions_year_unit_name ON submissions (year, unit, name_key)",
    ),
}
SCHEMA_VERSION = max(MIGRATIONS)


_YEAR = re.compile(r"(19|20)\d{2}\s*年度?")
_NOISE = re.compile(r"[\s\W_]+")


@functools.lru_cache(maxsize=65536)
def name_key(project: str) -> str:
    """The project name as matched across years: years, spaces and punctuation removed."""
    return _NOISE.sub("", _YEAR.sub("", str(project or "")))


@dataclass
class IndicatorSnap:
    level1: str = ""
    level2: str = ""
    name: str = ""
    op: str = ""
    target: float | None = None
    target_text: str = ""
    unit: str = ""
    actual: float | None = None
    weight: float | None = None
    score: float | None = None


@dataclass
class Submission:
    """One collected file (or one project that was not returned), as archived."""

    year: int
    status: str
    unit: str = ""
    code: str = ""
    project: str = ""
    template: str = ""
    profile: str = ""
    version: str = ""
    file_name: str = ""
    file_hash: str = ""
    submitted_at: str = ""
    budget: float | None = None
    spent: float | None = None
    rate: float | None = None
    total: float | None = None
    grade: str = ""
    inputs: dict = field(default_factory=dict)
    indicators: list[IndicatorSnap] = field(default_factory=list)
    findings: list[tuple[str, str, str, str]] = field(default_factory=list)   #: (severity, code, place, message)

    def key_hash(self) -> str:
        """The file's hash, or for a project without a file a stable hash of its identity."""
        if self.file_hash:
            return self.file_hash
        ident = f"{self.status}|{self.unit}|{self.code}|{self.project}"
        return "nofile:" + hashlib.sha256(ident.encode("utf-8")).hexdigest()[:32]


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Archive:
    """An archive file, opened for writing (migrated forward) or read-only (reports).

    Raises:
        JxzpError: the file is not an archive, is from a newer program, or cannot be opened.
    """

    def __init__(self, path: str | Path, *, readonly: bool = False, timeout: float = 60.0):
        self.path = Path(path)
        self.readonly = readonly
        if readonly and not self.path.is_file():
            raise JxzpError("找不到档案文件", where=str(self.path), hint="先用 jxzp archive import 建立档案")
        if not readonly and self.path.parent and not self.path.parent.is_dir():
            raise JxzpError("档案所在的文件夹不存在", where=str(self.path.parent))
        self.db: sqlite3.Connection | None = None
        try:
            self._open(timeout)
        except BaseException:
            self.close()                   # never a connection left open (and files beside the archive)
            raise

    def _open(self, timeout: float) -> None:
        try:
            settle(self.path)
            if self.readonly:
                self.db = sqlite3.connect(f"file:{self.path.as_posix()}?mode=ro", uri=True, timeout=timeout)
            else:
                self.db = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None)
                try:
                    self.db.execute(f"PRAGMA journal_mode={JOURNAL_MODE}")     # also leaves an earlier WAL mode
                except sqlite3.OperationalError:
                    pass          # an earlier version holds it open in WAL mode: left so until the next opening
                self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            self.db.execute("PRAGMA foreign_keys=ON")
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise JxzpError(f"不是有效的档案文件（{exc}）", where=str(self.path),
                            hint="请指定 jxzp 建立的 .sqlite 档案，或换一个新文件名") from None
        if version > SCHEMA_VERSION:
            raise JxzpError(f"档案版本为 {version}，本程序只认识到 {SCHEMA_VERSION}", where=str(self.path),
                            hint="请升级 jxzp 后再打开")
        if version < SCHEMA_VERSION:
            if self.readonly:
                raise JxzpError(f"档案版本为 {version}，需要先升级", where=str(self.path),
                                hint="运行一次 jxzp archive import（会自动升级档案）")
            self._migrate(version)

    # ------------------------------------------------------------------ schema
    def _migrate(self, current: int) -> None:
        if current == 0 and self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise JxzpError("文件是 SQLite 数据库，但不是绩效自评档案", where=str(self.path),
                            hint="请换一个新文件名")
        for version in range(current + 1, SCHEMA_VERSION + 1):
            with self.transaction():
                for stmt in MIGRATIONS[version]:
                    self.db.execute(stmt)
                if version == 2:       # fill the new matching key for rows recorded under version 1
                    for sid, project in self.db.execute("SELECT id, project FROM submissions").fetchall():
                        self.db.execute("UPDATE submissions SET name_key=? WHERE id=?", (name_key(project), sid))
                self.db.execute(f"PRAGMA user_version={version}")

    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def transaction(self):
        return _Transaction(self.db)

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ writing
    def record(self, year: int, round_name: str, submissions: Iterable[Submission], *, source: str = "") -> tuple[int, int]:
        """Record a round's submissions; returns (added, already there). Idempotent per (year, round, file)."""
        if self.readonly:
            raise JxzpError("档案以只读方式打开", where=str(self.path))
        added = kept = 0
        with self.transaction():
            self.db.execute("INSERT OR IGNORE INTO rounds (year, name, source) VALUES (?, ?, ?)",
                            (year, round_name, source))
            round_id = self.db.execute("SELECT id FROM rounds WHERE year=? AND name=?",
                                       (year, round_name)).fetchone()[0]
            for s in submissions:
                cur = self.db.execute(
                    "INSERT OR IGNORE INTO submissions (round_id, year, unit, code, project, name_key, status, template,"
                    " profile, version, file_name, file_hash, submitted_at, budget, spent, rate, total, grade, inputs)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (round_id, year, s.unit, s.code, s.project, name_key(s.project), s.status, s.template, s.profile,
                     s.version, s.file_name, s.key_hash(), s.submitted_at, _real(s.budget), _real(s.spent),
                     _real(s.rate), _real(s.total), s.grade, json.dumps(s.inputs, ensure_ascii=False, default=str)))
                if not cur.rowcount:
                    kept += 1
                    continue
                added += 1
                sid = cur.lastrowid
                self.db.executemany(
                    "INSERT INTO indicators (submission_id, row, level1, level2, name, op, target, target_text, unit,"
                    " actual, weight, score) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    [(sid, k, i.level1, i.level2, i.name, i.op, _real(i.target), i.target_text, i.unit,
                      _real(i.actual), _real(i.weight), _real(i.score)) for k, i in enumerate(s.indicators)])
                self.db.executemany("INSERT INTO findings (submission_id, severity, code, place, message)"
                                    " VALUES (?,?,?,?,?)", [(sid, *f) for f in s.findings])
        return added, kept

    # ------------------------------------------------------------------ reading
    def years(self) -> list[int]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT year FROM submissions ORDER BY year")]

    def count(self, year: int | None = None) -> int:
        if year is None:
            return self.db.execute("SELECT count(*) FROM submissions").fetchone()[0]
        return self.db.execute("SELECT count(*) FROM submissions WHERE year=?", (year,)).fetchone()[0]

    def latest(self, year: int) -> dict[int, dict]:
        """The submission that counts per project in a year: the newest round, the newest submission time;
        ``whole``: a 部门整体 form (the unit's whole spending, not a project).

        A 部门整体 or 湖南 form recorded by an earlier version has no 预算数, 执行数 or 执行率: they are read from the
        inputs it kept (:func:`~xlsx_engine.forms.registry.figures_of`), so an archive needs no upgrade for them."""
        rows = self.db.execute(
            """SELECT s.id, s.unit, s.code, s.project, s.name_key, s.status, s.budget, s.spent, s.rate, s.total,
                      s.grade, s.profile, s.template,
                      CASE WHEN s.budget IS NULL AND s.spent IS NULL THEN s.inputs END
               FROM submissions s JOIN rounds r ON r.id = s.round_id
               WHERE s.year = ?
               ORDER BY r.recorded_at, r.id, s.submitted_at, s.id""", (year,)).fetchall()
        chosen: dict[tuple, dict] = {}
        for sid, unit, code, project, key, status, budget, spent, rate, total, grade, profile, template, inputs in rows:
            template_id = template.split(" ", 1)[0]
            whole = is_whole(template_id)
            if inputs and template_id and has_figures(template_id):
                budget, spent, rate = figures_of(template_id, _inputs(inputs))
            ident = _identity(template_id, whole, unit, code, key)
            chosen[ident] = {"id": sid, "unit": unit, "code": code, "project": project, "key": key,
                             "status": status, "budget": budget, "spent": spent, "rate": rate, "total": total,
                             "grade": grade, "profile": profile, "whole": whole}
        return {v["id"]: v for v in chosen.values()}

    def indicators(self, year: int, ids: Sequence[int]) -> dict[int, list[IndicatorSnap]]:
        """The indicator rows of the given submissions of ``year``, in table order.

        One indexed pass over the year's rows, filtered here: cheaper than a join on a list of ids."""
        out: dict[int, list[IndicatorSnap]] = {i: [] for i in ids}
        for row in self.db.execute(
                "SELECT i.submission_id, i.level1, i.level2, i.name, i.op, i.target, i.target_text, i.unit, i.actual,"
                " i.weight, i.score FROM submissions s JOIN indicators i ON i.submission_id = s.id"
                " WHERE s.year = ? ORDER BY i.rowid", (year,)) if ids else ():
            if row[0] in out:
                out[row[0]].append(IndicatorSnap(*row[1:]))
        return out

    def finding_codes(self, ids: Sequence[int]) -> dict[int, set[str]]:
        """The codes of the errors and warnings of the given submissions."""
        out: dict[int, set[str]] = {i: set() for i in ids}
        if not ids:
            return out
        for sid, code in self.db.execute(
                "SELECT f.submission_id, f.code FROM findings f WHERE f.severity IN ('错误', '警告')"
                " AND f.submission_id IN (SELECT value FROM json_each(?))", (json.dumps(list(ids)),)):
            out[sid].add(code)
        return out


#: the rollback journal: it exists only while a write commits (see the module's docstring)
JOURNAL_MODE = "DELETE"
_SIDE_FILES = ("-wal", "-shm", "-journal")


def settle(path: Path, timeout: float = 5.0) -> None:
    """Make an archive one file before it is opened: an earlier version's WAL mode (and its -wal), or the journal of
    a write that crashed, is folded in or rolled back by one short read-write opening. A read-only opening cannot
    do either, and of a WAL archive leaves -wal and -shm beside it. When the archive cannot be written (a
    read-only share) or another program holds it, it is read as it is."""
    if not path.is_file():
        return
    try:
        with open(path, "rb") as fh:
            wal = fh.read(20)[18:20] == b"\x02\x02"         # the header's read/write versions: 2 = WAL
    except OSError:
        return
    if not wal and not any(path.with_name(path.name + side).exists() for side in _SIDE_FILES):
        return
    try:
        db = sqlite3.connect(str(path), timeout=timeout, isolation_level=None)
    except sqlite3.Error:
        return
    try:
        db.execute(f"PRAGMA journal_mode={JOURNAL_MODE}")      # folds a -wal in; reading rolls a hot journal back
        version = db.execute("PRAGMA user_version").fetchone()[0]
        db.execute("BEGIN IMMEDIATE")         # a journal a crash left before it was complete is not "hot": SQLite
        db.execute(f"PRAGMA user_version={int(version)}")     # keeps it until a write, and this one removes it
        db.execute("COMMIT")
    except sqlite3.Error:
        pass
    finally:
        db.close()


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT/ROLLBACK: a writer takes the lock at once, so two writers queue, not fail."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, exc, tb):
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
        return False


def _real(value: Any) -> float | None:
    return float(value) if is_number(value) else None


@functools.lru_cache(maxsize=64)
def _identity(template_id: str, whole: bool, unit: str, code: str, key: str) -> tuple:
    """What makes two rows of a year one form, so the newer replaces the older (collect's ``project_code``): a 项目
    form by its 项目编码 (else its unit and name); a 部门整体 form by its unit, one a unit (a copy renamed between
    rounds replaces the older); a 湖南 form by its unit and name — never by a 项目编码 it carries, which is not a
    project's. Units compared as people read them (``unit_key``: :func:`~xlsx_engine.kernel.names.name_key`)."""
    if whole and unit:
        return ("whole", unit_key(unit))
    if code and (sent_by_project(template_id) or not template_id):
        return ("code", code)
    return ("name", unit_key(unit), key, "" if sent_by_project(template_id) or not template_id else template_id)


def _inputs(text: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# ============================================================================ year over year

POSITIVE = (OP_GE, OP_GT, OP_EQ)
NEGATIVE = (OP_LE, OP_LT)


@dataclass
class ProjectChange:
    unit: str
    code: str
    project: str
    matched_by: str                 #: "编码" | "名称" | "单位" (a 部门整体 form) | ""
    status_prev: str = ""
    status_now: str = ""
    rate_prev: float | None = None
    rate_now: float | None = None
    total_prev: float | None = None
    total_now: float | None = None
    grade_prev: str = ""
    grade_now: str = ""
    budget_prev: float | None = None
    budget_now: float | None = None
    spent_prev: float | None = None
    spent_now: float | None = None
    whole: bool = False             #: a 部门整体 form (the unit's whole spending, not a project)

    @property
    def total_delta(self) -> float | None:
        if self.total_prev is None or self.total_now is None:
            return None
        return round(self.total_now - self.total_prev, 2)


#: one form's figures in one year as :class:`UnitChange` keeps them: status, budget, spent, total, grade, and whether
#: it is a 部门整体 form (``whole``: the unit's whole spending, never added to its projects')
FIGURES = ("status", "budget", "spent", "total", "grade", "whole")


@dataclass
class UnitChange:
    """A unit's projects in the two years, each as its :data:`FIGURES`. What they add up to — 计入项目数, 预算数,
    执行数, 执行率, 平均总分 — is the 汇总表's one rule (``bureau.summary.totals_of``, docs/rules.md 汇总口径),
    applied by ``bureau.compare_book`` (this module sits below it)."""
    unit: str
    prev: list[dict] = field(default_factory=list)
    now: list[dict] = field(default_factory=list)


@dataclass
class TargetNote:
    unit: str
    project: str
    indicator: str
    kind: str          #: 目标低于上年实际 | 指标取消 | 目标降低
    prev: str
    now: str


@dataclass
class YearOverYear:
    year: int
    prev: int
    projects: list[ProjectChange] = field(default_factory=list)
    units: list[UnitChange] = field(default_factory=list)
    targets: list[TargetNote] = field(default_factory=list)
    repeated: list[tuple[str, str, list[str]]] = field(default_factory=list)   #: (unit, project, codes)
    missing_units: list[str] = field(default_factory=list)    #: did not return in both years
    unmatched_now: list[tuple[str, str, str]] = field(default_factory=list)     #: (unit, code, project)
    unmatched_prev: list[tuple[str, str, str]] = field(default_factory=list)
    quality: list[tuple[str, str, "QualityFlag"]] = field(default_factory=list)    #: (unit, project, flag), this year

    def to_dict(self) -> dict:
        return asdict(self)


FILLED = ("已填报", "有错误", "已通过")
NO_FORM = ("未交回", "无法读取")       #: statuses with no form read, hence no indicator rows to compare


def year_over_year(archive: Archive, year: int, prev: int | None = None) -> YearOverYear:
    """Compare one year's submissions with the previous year's (or ``prev``)."""
    years = archive.years()
    if year not in years:
        raise JxzpError(f"档案中没有 {year} 年的记录", where=str(archive.path),
                        hint="已有年度：" + ("、".join(map(str, years)) or "无"))
    if prev is None:
        earlier = [y for y in years if y < year]
        if not earlier:
            raise JxzpError(f"档案中没有早于 {year} 年的记录，无法逐年比较", where=str(archive.path))
        prev = earlier[-1]
    now_rows, prev_rows = archive.latest(year), archive.latest(prev)
    out = YearOverYear(year, prev)
    by_code = {r["code"]: r for r in prev_rows.values() if r["code"]}
    by_name = {(r["unit"], r["key"]): r for r in prev_rows.values() if r["key"]}
    pairs: list[tuple[dict, dict]] = []
    used: set[int] = set()
    now_sorted = sorted(now_rows.values(), key=lambda r: (r["unit"], r["code"], r["project"]))
    found: dict[int, tuple[dict, str]] = {}
    for r in now_sorted:
        match, how = None, ""
        if r["code"] and r["code"] in by_code and by_code[r["code"]]["id"] not in used:
            match, how = by_code[r["code"]], "编码"
        elif r["key"] and (r["unit"], r["key"]) in by_name and by_name[(r["unit"], r["key"])]["id"] not in used:
            match, how = by_name[(r["unit"], r["key"])], "名称"
        if match is not None:
            used.add(match["id"])
            found[r["id"]] = match, how
    for r in now_sorted:         # a unit's 部门整体 form saved under another name: the unit's, year to year
        if r["id"] in found or not r["whole"] or not r["unit"]:
            continue
        left = [p for p in prev_rows.values() if p["whole"] and unit_key(p["unit"]) == unit_key(r["unit"])
                and p["id"] not in used]
        if left:
            match = max(left, key=lambda p: p["id"])          # the one recorded last
            used.add(match["id"])
            found[r["id"]] = match, "单位"
    for r in now_sorted:
        if r["id"] not in found:
            out.unmatched_now.append((r["unit"], r["code"], r["project"]))
            continue
        match, how = found[r["id"]]
        pairs.append((match, r))
        out.projects.append(ProjectChange(
            r["unit"], r["code"], r["project"], how, match["status"], r["status"],
            match["rate"], r["rate"], match["total"], r["total"], match["grade"], r["grade"],
            match["budget"], r["budget"], match["spent"], r["spent"], r["whole"]))
    out.unmatched_prev = sorted((r["unit"], r["code"], r["project"]) for r in prev_rows.values() if r["id"] not in used)
    out.units = _units(prev_rows, now_rows)
    def returned(rows) -> dict[str, bool]:
        seen: dict[str, bool] = {}
        for r in rows.values():
            seen[r["unit"]] = seen.get(r["unit"], False) or r["status"] != "未交回"
        return seen
    ret_now, ret_prev = returned(now_rows), returned(prev_rows)
    out.missing_units = sorted(u for u in set(ret_now) & set(ret_prev) if not ret_now[u] and not ret_prev[u])
    ids_prev = [p["id"] for p, _ in pairs]
    ids_now = [n["id"] for _, n in pairs]
    filled_now = [r for r in now_rows.values() if r["status"] in FILLED]
    ind_prev = archive.indicators(prev, ids_prev)
    ind_now = archive.indicators(year, sorted(set(ids_now) | {r["id"] for r in filled_now}))
    codes_prev, codes_now = archive.finding_codes(ids_prev), archive.finding_codes(ids_now)
    for r in sorted(filled_now, key=lambda r: (r["unit"], r["code"], r["project"])):
        weights, settings = profile_quality(r["profile"])
        for flag in target_quality(ind_now[r["id"]], level1_weights=weights, settings=settings):
            out.quality.append((r["unit"], r["project"], flag))
    for p, n in pairs:
        if p["status"] not in NO_FORM and n["status"] not in NO_FORM:      # no form read: nothing to compare
            out.targets.extend(_target_notes(n, ind_prev[p["id"]], ind_now[n["id"]]))
        both = sorted(codes_prev[p["id"]] & codes_now[n["id"]])
        if both:
            out.repeated.append((n["unit"], n["project"], both))
    return out


def snaps_from_record(record: Any, result: Any) -> list[IndicatorSnap]:
    """The typed indicator rows of a project record with their scores (blank rows left out). Another form's rows
    (a 湖南 form's: no 指标性质, 分值 or 得分) are not the rows the comparison reads: none."""
    rows = getattr(record, "indicators", [])
    if not all(hasattr(row, "is_blank") for row in rows):
        return []
    scores = [getattr(r, "score", None) for r in getattr(result, "indicators", [])]
    out = []
    for k, row in enumerate(rows):
        if row.is_blank():
            continue
        score = scores[k] if k < len(scores) else None
        out.append(IndicatorSnap(
            str(row.level1 or ""), str(row.level2 or ""), str(row.name or ""), str(row.op or ""),
            float(row.target) if is_number(row.target) else None, str(row.target if row.target is not None else ""),
            str(row.unit or ""), float(row.actual) if is_number(row.actual) else None,
            float(row.weight) if is_number(row.weight) else None, float(score) if is_number(score) else None))
    return out


def quality_of(record: Any, result: Any, profile_id: str) -> list[QualityFlag]:
    """The target quality flags of one returned form under its own profile's settings."""
    weights, settings = profile_quality(profile_id)
    return target_quality(snaps_from_record(record, result), level1_weights=weights, settings=settings)


@functools.lru_cache(maxsize=64)
def profile_quality(profile_id: str) -> tuple[dict[str, float] | None, dict | None]:
    """The level-1 weights and ``quality:`` settings of an installed profile (by id only; unknown: none)."""
    try:
        form = form_for_profile(profile_id)
        profile = form.load_profile(profile_id)
    except JxzpError:
        return None, None
    weights = {l1.name: l1.weight for l1 in getattr(profile, "level1", ()) if l1.weight is not None} or None
    raw = getattr(profile, "raw", {}) or {}
    return weights, raw.get("quality") if isinstance(raw.get("quality"), dict) else None


def _units(prev_rows: dict, now_rows: dict) -> list[UnitChange]:
    units: dict[str, UnitChange] = {}
    for rows, side in ((prev_rows, "prev"), (now_rows, "now")):
        for r in rows.values():
            getattr(units.setdefault(r["unit"], UnitChange(r["unit"])), side).append({k: r[k] for k in FIGURES})
    return [units[unit] for unit in sorted(units)]


def _target(i: IndicatorSnap) -> str:
    """An indicator's 指标值 as printed, with its unit ("≥900人次", "100%"); a 定性 target as its text."""
    return shown_target(i.op, i.target, i.unit) or i.target_text


def _value(value: float | None, unit: str) -> str:
    """A 完成值 or 指标值 number with the indicator's own unit ("1000人次")."""
    return qty(value, unit)


def _target_notes(now: dict, prev_ind: list[IndicatorSnap], now_ind: list[IndicatorSnap]) -> list[TargetNote]:
    notes = []
    before = {name_key(i.name): i for i in prev_ind if i.name}
    after = {name_key(i.name): i for i in now_ind if i.name}
    for key, old in before.items():
        new = after.get(key)
        if new is None:
            notes.append(TargetNote(now["unit"], now["project"], old.name, "指标取消", _target(old), ""))
            continue
        if new.op in POSITIVE and old.op in POSITIVE and new.target is not None:
            if old.actual is not None and new.target < old.actual:
                notes.append(TargetNote(now["unit"], now["project"], new.name, "目标低于上年实际",
                                        f"上年实际 {_value(old.actual, old.unit)}", f"本年目标 {_target(new)}"))
            elif old.target is not None and new.target < old.target:
                notes.append(TargetNote(now["unit"], now["project"], new.name, "目标降低", _target(old), _target(new)))
        elif new.op in NEGATIVE and old.op in NEGATIVE and new.target is not None and old.target is not None \
                and new.target > old.target:
            notes.append(TargetNote(now["unit"], now["project"], new.name, "目标降低", _target(old), _target(new)))
        elif old.op != OP_QUAL and new.op == OP_QUAL:
            notes.append(TargetNote(now["unit"], now["project"], new.name, "目标降低",
                                    _target(old), f"改为定性：{new.target_text}"))
    return notes


# ============================================================================ target quality

#: Defaults of the target quality review; a profile may override them under ``quality:``.
QUALITY_DEFAULTS = {
    "over_ratio": 1.3,                               #: actual ≥ ratio × target: target set too low
    "required_level1": ["效益指标", "满意度指标"],    #: each return must have at least one of each
    "numeric_level2": ["数量指标", "时效指标", "成本指标"],   #: 定性 here is where a number is expected
}


@dataclass
class QualityFlag:
    indicator: str
    kind: str          #: 目标偏低 | 未细化到三级 | 缺少效益指标 | 缺少满意度指标 | 定性代替定量 | 分值不合规则
    detail: str


def target_quality(indicators: Sequence[IndicatorSnap], *, level1_weights: dict[str, float] | None = None,
                   settings: dict | None = None) -> list[QualityFlag]:
    """Flags on the quality of one return's targets (the 目标管理 review behind 财预〔2021〕101号)."""
    cfg = {**QUALITY_DEFAULTS, **(settings or {})}
    rows = [i for i in indicators if i.name or i.weight is not None or i.target is not None]
    flags: list[QualityFlag] = []
    for i in rows:
        label = i.name or f"{i.level1}/{i.level2}"
        if i.op in POSITIVE and i.target and i.actual is not None and i.target > 0 \
                and i.actual >= cfg["over_ratio"] * i.target:
            flags.append(QualityFlag(label, "目标偏低", f"完成值 {_value(i.actual, i.unit)} 达到指标值 "
                                     f"{_value(i.target, i.unit)} 的 {pct(i.actual / i.target, fixed=True)}"))
        if not i.name or (i.level2 and name_key(i.name) == name_key(i.level2)):
            flags.append(QualityFlag(label, "未细化到三级", "三级指标为空或与二级指标相同"))
        if i.op == OP_QUAL and i.level2 in cfg["numeric_level2"]:
            flags.append(QualityFlag(label, "定性代替定量", f"{i.level2}应设定可衡量的数值目标"))
    present = {i.level1 for i in rows}
    for needed in cfg["required_level1"]:
        if rows and needed not in present:
            flags.append(QualityFlag("", f"缺少{needed[:-2]}指标", f"未设置{needed}"))
    if level1_weights:
        for l1, weight in level1_weights.items():
            got = round(sum(i.weight or 0 for i in rows if i.level1 == l1), 2)
            if rows and got != round(weight, 2):
                flags.append(QualityFlag(l1, "分值不合规则", f"{l1}分值合计 {num(got, fixed=True)} 分，"
                                                             f"规则为 {num(weight, fixed=True)} 分"))
    return flags
