"""The master workbook (总表): every unit, project, fund line, indicator and goal a bureau keeps.

Format (one header row per sheet, Chinese headers; columns marked * are required):

==========  ==========================================================================================
sheet       columns
==========  ==========================================================================================
单位        单位名称* · 主管部门 · 联系人 · 联系电话
项目        项目编码* · 单位名称* · 项目名称* · 评分规则 · 年度 · 主管部门 · 执行率说明 · 目标自评分 ·
            报告信息各项（项目概况及立项依据 · 资金到位与管理情况 · 组织实施情况 · 主要问题 · 改进措施 ·
            结果应用与公开情况 · 自评时间 · 联系人 · 联系人电话）
资金        项目编码* · 资金来源* · 年初预算数 · 全年预算数 · 全年执行数
指标        项目编码* · 一级指标 · 二级指标 · 三级指标 · 指标性质 · 指标值 · 度量单位 · 分值 · 实际完成值 ·
            完成等级 · 自评分 · 偏差原因
目标        项目编码* · 预期目标 · 实际完成情况
==========  ==========================================================================================

Each project becomes the data mapping that ``jxzp fill`` takes (templates/forms/DATA.md),
so the same validation applies; its problems are reported with the master's sheet and row.
Reading streams each sheet row by row (``ooxml.rowstream``) into a temporary SQLite file and yields one
project at a time from it: memory does not grow with the size of the master.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import shutil
import sqlite3
import tempfile
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from xlsx_engine.bureau.output import write_output
from xlsx_engine.forms.project.layout import PROJECT_FIELDS
from xlsx_engine.forms.project.profile import list_profiles, load_profile
from xlsx_engine.kernel.errors import DataError
from xlsx_engine.ooxml.rowstream import RowBook

#: optional 项目 columns that prefill the form's 报告信息 area (the unit may still edit them: not change-controlled);
#: 联系人 and 联系人电话 default to the 单位 sheet's 联系人 and 联系电话
INFO_COLUMNS = tuple(label for label, _height, _longest in PROJECT_FIELDS)
SHEETS: dict[str, list[tuple[str, bool]]] = {
    "单位": [("单位名称", True), ("主管部门", False), ("联系人", False), ("联系电话", False)],
    "项目": [("项目编码", True), ("单位名称", True), ("项目名称", True), ("评分规则", False), ("年度", False),
             ("主管部门", False), ("执行率说明", False), ("目标自评分", False)]
            + [(label, False) for label in INFO_COLUMNS],
    "资金": [("项目编码", True), ("资金来源", True), ("年初预算数", False), ("全年预算数", False),
             ("全年执行数", False)],
    "指标": [("项目编码", True), ("一级指标", False), ("二级指标", False), ("三级指标", False), ("指标性质", False),
             ("指标值", False), ("度量单位", False), ("分值", False), ("实际完成值", False), ("完成等级", False),
             ("自评分", False), ("偏差原因", False)],
    "目标": [("项目编码", True), ("预期目标", False), ("实际完成情况", False)],
}
#: the table each sheet is spooled into (column k of a table is the k-th column of SHEETS[sheet])
TABLES = {"单位": "unit", "项目": "project", "资金": "fund", "指标": "indicator", "目标": "goal"}
CACHE_KB = 512                           #: SQLite page cache per connection (the OS caches the file too)
PARTS = ("资金", "指标", "目标")          #: the sheets whose rows belong to a project by 项目编码
#: columns compared as text (a code typed as a number in one sheet and as text in another is the same code)
_TEXT_KEYS = {"项目编码", "单位名称"}


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
    relpath: str = ""                                   #: where bulk writes it (see bulk.plan_paths)

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


class MasterEntry:
    """A project row of the master as far as planning needs it; :meth:`MasterStore.project` reads the rest.
    (Slots: bulk keeps one for every project waiting for its 指标 rows.)"""

    __slots__ = ("seq", "row", "code", "unit", "name", "profile", "relpath")

    def __init__(self, seq: int, row: int, code: str, unit: str, name: str, profile: str, relpath: str = ""):
        self.seq = seq              #: position in the spooled 项目 table
        self.row = row              #: row on the 项目 sheet
        self.code, self.unit, self.name, self.profile, self.relpath = code, unit, name, profile, relpath


def _cell(v: Any) -> Any:
    """A master cell as stored: text stripped ("" is None), whole numbers as int, dates as ISO text."""
    if isinstance(v, str):
        v = v.strip()
        return v or None
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return int(v)
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def _remove_folder(folder: str, pid: int) -> None:
    if os.getpid() == pid:                      # not from a forked worker that inherited the Master
        shutil.rmtree(folder, ignore_errors=True)


_STORES: dict[str, MasterStore] = {}


def _store(db_path: str) -> MasterStore:
    """The store a worker process reads (one connection per process, however many tasks name it)."""
    if db_path not in _STORES:
        _STORES[db_path] = MasterStore(db_path)
    return _STORES[db_path]


class MasterStore:
    """The master's rows spooled into a SQLite file: read by the process that spooled them and by bulk's
    workers (it pickles as its path; each process opens its own connection)."""

    def __init__(self, db_path: str):
        self.db_path = db_path
        self._db: sqlite3.Connection | None = None
        self._pid = 0

    def __reduce__(self):
        return _store, (self.db_path,)

    @functools.cached_property
    def profiles(self) -> frozenset[str]:
        """The installed 评分规则 ids a project may name."""
        return frozenset(list_profiles())

    def db(self) -> sqlite3.Connection:
        if self._db is None or self._pid != os.getpid():       # a forked worker opens its own
            self._db, self._pid = sqlite3.connect(self.db_path), os.getpid()
            self._db.execute(f"PRAGMA cache_size = -{CACHE_KB}")
        return self._db

    def close(self) -> None:
        if self._db is not None and self._pid == os.getpid():
            self._db.close()
        self._db = None

    def __len__(self) -> int:
        return self.db().execute("SELECT COUNT(*) FROM project").fetchone()[0]

    def used_profiles(self) -> list[str]:
        """The installed 评分规则 the projects name (so their templates can be opened once, before workers fork)."""
        named = {str(p or "national") for (p,) in self.db().execute("SELECT DISTINCT c3 FROM project")}
        return sorted(named & self.profiles)

    def rows(self, sheet: str) -> Iterator[tuple[int, dict[str, Any]]]:
        """(row number, {column: value}) for each row of a sheet, in sheet order."""
        names = [name for name, _ in SHEETS[sheet]]
        for _seq, r, *values in self.db().execute(f"SELECT * FROM {TABLES[sheet]} ORDER BY seq"):
            yield r, dict(zip(names, values))

    def entries(self) -> Iterator[MasterEntry | DataError]:
        """Each project row (or a DataError for a row that cannot even be grouped), in sheet order; rows of
        资金/指标/目标 without a code come first, codes no project has come last."""
        yield from self.part_errors()
        yield from self.project_entries()
        yield from self.unknown_codes()

    def part_errors(self) -> Iterator[DataError]:
        """Rows of 资金/指标/目标 without a 项目编码."""
        for sheet in PARTS:
            for (r,) in self.db().execute(f"SELECT r FROM {TABLES[sheet]} WHERE c0 IS NULL ORDER BY seq"):
                yield DataError("缺少项目编码", where=f"总表 {sheet}!第{r}行")

    def project_entries(self) -> Iterator[MasterEntry | DataError]:
        """Each row of the 项目 sheet: a project, or why it cannot be one (missing fields, a repeated code, an
        unknown 评分规则). Needs the 项目 sheet only."""
        db = self.db()
        profiles = self.profiles
        earlier = "SELECT 1 FROM project WHERE c0 = ? AND seq < ? AND c1 IS NOT NULL AND c2 IS NOT NULL LIMIT 1"
        for seq, r, code, unit, name, profile in db.execute("SELECT seq, r, c0, c1, c2, c3 FROM project ORDER BY seq"):
            where = f"总表 项目!第{r}行"
            missing = [k for k, v in (("项目编码", code), ("单位名称", unit), ("项目名称", name)) if v is None]
            if missing:
                yield DataError(f"缺少{'、'.join(missing)}", where=where)
                continue
            if db.execute(earlier, (code, seq)).fetchone():
                yield DataError(f"项目编码“{code}”重复", where=where, hint="每个项目的编码必须唯一")
                continue
            profile = str(profile or "national")
            if profile not in profiles:
                yield DataError(f"评分规则“{profile}”不存在（可用：{'、'.join(sorted(profiles))}）", where=where)
                continue
            yield MasterEntry(seq, r, code, str(unit), str(name), profile)

    def unknown_codes(self) -> Iterator[DataError]:
        """Codes of 资金/指标/目标 rows that no project has (each at its first row), sorted."""
        db = self.db()
        known = "SELECT c0 FROM project WHERE c0 IS NOT NULL AND c1 IS NOT NULL AND c2 IS NOT NULL"
        unknown: dict[str, tuple[str, int]] = {}
        for sheet in PARTS:
            table = TABLES[sheet]
            for code, r in db.execute(f"SELECT c0, (SELECT r FROM {table} t WHERE t.c0 = u.c0 ORDER BY seq LIMIT 1) "
                                      f"FROM (SELECT DISTINCT c0 FROM {table} WHERE c0 IS NOT NULL "
                                      f"AND c0 NOT IN ({known})) u"):
                unknown.setdefault(code, (sheet, r))
        for code in sorted(unknown):
            sheet, r = unknown[code]
            yield DataError(f"项目编码“{code}”在“项目”表中不存在", where=f"总表 {sheet}!第{r}行")

    def entry(self, code: str) -> MasterEntry | None:
        """The project :meth:`entries` yields for a code (its first row with a unit and a name), or None."""
        row = self.db().execute("SELECT seq, r, c0, c1, c2, c3 FROM project WHERE c0 = ? AND c1 IS NOT NULL "
                                "AND c2 IS NOT NULL ORDER BY seq LIMIT 1", (code,)).fetchone()
        if row is None:
            return None
        seq, r, code, unit, name, profile = row
        profile = str(profile or "national")
        return MasterEntry(seq, r, code, str(unit), str(name), profile) if profile in self.profiles else None

    def projects(self) -> Iterator[MasterProject | DataError]:
        """Yield each project (or a DataError for a row that cannot even be grouped), in sheet order."""
        for entry in self.entries():
            yield entry if isinstance(entry, DataError) else self.project(entry)

    def project(self, entry: MasterEntry) -> MasterProject:
        """The data mapping of one project (its 资金, 指标 and 目标 rows gathered by code)."""
        db = self.db()
        names = [name for name, _ in SHEETS["项目"]]
        item = dict(zip(names, db.execute("SELECT * FROM project WHERE seq = ?", (entry.seq,)).fetchone()[2:]))
        unit = db.execute("SELECT c1, c2, c3 FROM unit WHERE c0 = ? ORDER BY seq DESC LIMIT 1",
                          (entry.unit,)).fetchone() or (None, None, None)
        department = item.get("主管部门")
        if department is None:
            department = unit[0]
        data: dict[str, Any] = {"评分规则": entry.profile, "项目名称": entry.name, "实施单位": entry.unit,
                                "主管部门": department}
        for key in ("年度", "执行率说明", "目标自评分"):
            if item.get(key) is not None:
                data[key] = item[key]
        info = {key: item[key] for key in INFO_COLUMNS if item.get(key) not in (None, "")}
        for key, value in (("联系人", unit[1]), ("联系人电话", unit[2])):
            if key not in info and value not in (None, ""):
                info[key] = value
        if info:
            data["其他信息"] = info
        funds: dict[str, dict] = {}
        for src, *values in db.execute("SELECT c1, c2, c3, c4 FROM fund WHERE c0 = ? ORDER BY seq", (entry.code,)):
            funds[str(src)] = {k: v for k, v in zip(("年初预算数", "全年预算数", "全年执行数"), values) if v is not None}
        data["资金"] = funds
        data["年度总体目标"] = [{k: v for k, v in zip(("预期目标", "实际完成情况"), values) if v is not None}
                          for values in db.execute("SELECT c1, c2 FROM goal WHERE c0 = ? ORDER BY seq", (entry.code,))]
        columns = [name for name, _ in SHEETS["指标"]][1:]
        indicators, rows = [], []
        for r, *values in db.execute("SELECT r, " + ", ".join(f"c{k}" for k in range(1, len(columns) + 1))
                                     + " FROM indicator WHERE c0 = ? ORDER BY seq", (entry.code,)):
            indicators.append({k: v for k, v in zip(columns, values) if v is not None})
            rows.append(r)
        data["绩效指标"] = indicators
        return MasterProject(entry.code, entry.unit, entry.name, entry.profile, data, entry.row, rows)


class Master(MasterStore):
    """A master workbook opened for reading: its sheets are streamed once (one row in memory at a time) into a
    temporary SQLite file, so a master of any size is read in flat memory and bulk's workers read their projects'
    rows themselves. Close it (or use it as a context manager) to remove the temporary file.

    With ``stream_indicators`` the 指标 sheet (most of a master) is left to :meth:`stream_indicators`, so bulk
    can generate projects while it is still being read; anything that needs it reads the rest first.

    Raises (on open):
        WorkbookError: unreadable file. DataError: a sheet or required column is missing.
    """

    BATCH = 512                 #: 指标 rows spooled (and committed, for the workers to see) at a time

    def __init__(self, path: str | Path, *, stream_indicators: bool = False):
        self.path = Path(path)
        folder = tempfile.mkdtemp(prefix="jxzp-master-")
        self._remove = weakref.finalize(self, _remove_folder, folder, os.getpid())
        super().__init__(os.path.join(folder, "master.sqlite"))
        self._book: RowBook | None = None
        self._pending: Iterator[list[str]] | None = None
        self.reopened: set[str] = set()     #: codes whose 指标 rows were not all together (see stream_indicators)
        try:
            self._spool(stream_indicators)
            self.units = {str(item["单位名称"]): item for _, item in self.rows("单位") if item.get("单位名称")}
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._pending is not None:
            self._pending.close()
            self._pending = None
        if self._book is not None:
            self._book.close()
            self._book = None
        super().close()
        self._remove()

    def __enter__(self) -> Master:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _spool(self, defer: bool) -> None:
        db = self.db()
        db.execute(f"PRAGMA journal_mode = {'WAL' if defer else 'OFF'}")   # WAL: workers read while it is written
        db.execute("PRAGMA synchronous = OFF")
        problems: list[str] = []
        book = self._book = RowBook(self.path)
        streams = {}
        for sheet, columns in SHEETS.items():           # every header is checked before any row is read
            db.execute(f"CREATE TABLE {TABLES[sheet]} (seq INTEGER PRIMARY KEY, r INTEGER, "
                       + ", ".join(f"c{k}" for k in range(len(columns))) + ")")
            if sheet not in book.sheets:
                problems.append(f"缺少工作表“{sheet}”")
                continue
            rows = book.rows(sheet)
            first = next(rows, None)
            if first is None:
                continue
            hr, cells = first
            header = {k: str(v).strip() for k, v in cells.items() if str(v).strip()}
            known = [name for name, _ in columns]
            for k, h in header.items():
                if h not in known:
                    problems.append(f"{sheet}!第{hr}行第{k}列：未知列名“{h}”（可用：{'、'.join(known)}）")
            for name, required in columns:
                if required and name not in header.values():
                    problems.append(f"{sheet}：缺少必填列“{name}”")
            where = {h: k for k, h in header.items()}
            streams[sheet] = (rows, [(where.get(name), name in _TEXT_KEYS) for name in known])
        if problems:
            for rows, _ in streams.values():
                rows.close()
            raise DataError("总表格式不符", where=str(self.path), problems=problems)
        deferred = streams.pop("指标", None) if defer else None
        if deferred:                                    # indexed first: workers look rows up while they arrive
            self._index()
        for sheet, (rows, positions) in streams.items():
            db.executemany(self._insert(sheet), self._values(rows, positions))
        if deferred:
            db.commit()
            self._pending = self._stream(*deferred)
        else:
            self._index()
            db.commit()
            book.close()
            self._book = None

    def _index(self) -> None:
        for table in TABLES.values():
            self.db().execute(f"CREATE INDEX {table}_key ON {table} (c0)")

    @staticmethod
    def _insert(sheet: str) -> str:
        return f"INSERT INTO {TABLES[sheet]} VALUES (NULL, ?{', ?' * len(SHEETS[sheet])})"

    def stream_indicators(self) -> Iterator[list[str]]:
        """Spool the 指标 sheet in batches; after each, the codes whose indicator rows are complete as far as the
        sheet has been read (it moved on to another code), each code once. A code whose rows come back later
        (the sheet is not grouped by project) is added to :attr:`reopened`: a project generated before then
        must be generated again. Empty when the sheet was read on opening."""
        pending, self._pending = self._pending, None
        if pending is not None:
            yield from pending

    def complete(self) -> None:
        """Read whatever of the master is still unread (see ``stream_indicators``)."""
        for _ in self.stream_indicators():
            pass

    def _stream(self, rows, positions) -> Iterator[list[str]]:
        db, insert = self.db(), self._insert("指标")
        closed: set[str] = set()
        current = None
        batch: list[tuple] = []
        ready: list[str] = []
        for values in self._values(rows, positions):
            code = values[1]
            if code != current:
                if current is not None and current not in closed:
                    closed.add(current)
                    ready.append(current)
                if code in closed:
                    self.reopened.add(code)
                current = code
            batch.append(values)
            if len(batch) >= self.BATCH:
                db.executemany(insert, batch)
                db.commit()
                batch = []
                yield ready
                ready = []
        db.executemany(insert, batch)
        db.commit()
        self._book.close()
        self._book = None
        if current is not None and current not in closed:
            ready.append(current)
        yield ready

    def part_errors(self) -> Iterator[DataError]:
        self.complete()
        yield from super().part_errors()

    def unknown_codes(self) -> Iterator[DataError]:
        self.complete()
        yield from super().unknown_codes()

    def project(self, entry: MasterEntry) -> MasterProject:
        self.complete()
        return super().project(entry)

    @staticmethod
    def _values(rows, positions: list[tuple[int | None, bool]]) -> Iterator[tuple]:
        """(row number, value of each column) of the rows that have a value in a known column."""
        for r, cells in rows:
            values = [r]
            empty = True
            for k, text in positions:               # runs for every cell of a large master: kept flat
                v = cells.get(k)
                if v.__class__ is str:
                    v = v.strip() or None
                elif v is not None:
                    v = _cell(v)
                if v is not None:
                    empty = False
                    if text:
                        v = str(v)
                values.append(v)
            if not empty:
                yield tuple(values)


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
                                                                        "实际完成情况", "偏差原因",
                                                                        *INFO_COLUMNS[:6]) else 13
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
