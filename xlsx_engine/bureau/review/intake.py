"""What the units returned: the collection folder scanned and assigned to units, each project workbook
checked (规程 weights, level-3 breakdown), and the optional 提交记录 (submissions table) read and validated."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import python_calamine

from xlsx_engine.bureau.review.rubric import (
    _N,
    NO,
    REGULATION_IN_RUBRIC,
    UNIT_KINDS,
    YES,
    Flag,
    Part,
    Rubric,
    _blank,
    _invalid,
)
from xlsx_engine.bureau.bulk import MANIFEST
from xlsx_engine.bureau.collect import BLANK, is_blank, spent_of, typed_actuals
from xlsx_engine.forms import department as department_form
from xlsx_engine.forms import project as project_form
from xlsx_engine.forms.project.scoring import is_active
from xlsx_engine.forms.registry import form_for
from xlsx_engine.integrity.folder import list_files
from xlsx_engine.integrity.reading import NotOurForm, OwnOutput, read_form_file
from xlsx_engine.kernel.errors import DataError, JxzpError, WorkbookError
from xlsx_engine.kernel.textfilters import FilterError, to_date
from xlsx_engine.kernel.xlmath import is_number, xround
from xlsx_engine.ooxml.safezip import open_workbook_zip


#: a blank project form (collect's 待填报) as the 说明 calls it, and what it does not earn
BLANK_FORM = f"未填写（{BLANK}）"
BLANK_EARNS = "权重、三级细化不得分，不算作附件，也不算报送"


def blank_forms(forms: list[ProjectCheck]) -> str:
    """The blank forms named in a 说明: “P5 某项目、P6 某项目 未填写（待填报）”."""
    return f"{'、'.join(p.name for p in forms)} {BLANK_FORM}"


@dataclass
class ProjectCheck:
    """One project workbook checked for the 绩效自评表 item."""

    path: str
    unit: str
    code: str
    project: str
    profile: str
    #: (category, actual, expected); expected None: the project's own rules fix no weight there (not judged)
    weights: list[tuple[str, float, float | None]] = field(default_factory=list)
    rows: int = 0
    rows_level3: int = 0
    incomplete: list[str] = field(default_factory=list)
    typed: bool = True               #: a 实际完成值 or 完成等级 was typed (collect's ``typed_actuals``)
    spent: tuple = ()                #: the 全年执行数 of each fund source (collect's ``spent_of``)
    blank: bool = False              #: returned unfilled (待填报, collect's ``is_blank``); see :meth:`against_sent`

    def against_sent(self, sent_spent: tuple) -> None:
        """Judge blank or not against what was sent (the master's 全年执行数, which bulk wrote into the form)."""
        self.blank = is_blank(self.typed, self.spent, sent_spent)

    @property
    def ok_pairs(self) -> int:
        """Weights that follow the 规程. None on a blank form: its weights are the ones it was sent with, not
        the unit's work (README 考核评分表: 空白的自评表不得分)."""
        if self.blank:
            return 0
        return sum(1 for _, a, e in self.weights if e is not None and abs(a - e) < 1e-6)

    @property
    def level3_ok(self) -> int:
        """Indicator rows broken down to level 3; none on a blank form (the rows are the ones it was sent with)."""
        return 0 if self.blank else self.rows_level3

    @property
    def name(self) -> str:
        """How the form is named in the 说明: its code and project."""
        return f"{self.code or Path(self.path).stem} {self.project}"

    @property
    def shortfalls(self) -> list[str]:
        """What the 自评表核对 sheet's 说明 says of the form: blank, weights off the 规程, rows not at level 3."""
        return ([f"{BLANK_FORM}：{BLANK_EARNS}"] if self.blank else []) + self.mismatches + self.incomplete

    @property
    def judged(self) -> int:
        return sum(1 for _, _a, e in self.weights if e is not None)

    @property
    def mismatches(self) -> list[str]:
        return [f"{c} {a:g}（应为 {e:g}）" for c, a, e in self.weights if e is not None and abs(a - e) >= 1e-6]


def _txt(v: Any) -> str:
    if v is None:
        return ""
    if is_number(v):
        return f"{float(v):g}"
    return str(v).strip()


def check_project(rb, rubric: Rubric, path: str, unit: str) -> ProjectCheck:
    """Weights per 规程 and level-3 breakdown of one project workbook (a :class:`~xlsx_engine.integrity.reading.Reading`).

    When the rubric takes the 规程 from a scoring profile (``regulation: profile``), each project is held to the
    weights of *its own* profile (a Hubei project to Hubei's 预算执行率 20); a level-1 weight its profile leaves
    free is not judged. Weights listed in the rubric itself apply to every project.
    """
    rec, profile = rb.record, rb.layout.profile
    own = rubric.regulation_source != REGULATION_IN_RUBRIC
    fixed = {l1.name: l1.weight for l1 in profile.level1}
    meta = rb.meta
    chk = ProjectCheck(path, unit, str(meta.get("项目编码") or ""), _txt(rec.project) or Path(path).stem, profile.id)
    chk.typed, chk.spent = typed_actuals(rec), spent_of(rec)
    chk.against_sent(())
    active = [(k, r) for k, r in enumerate(rec.indicators, 1) if is_active(r)]
    for category, expected in rubric.regulation:
        if category == "fund":
            try:
                actual = rb.name_value("资金分值")
            except KeyError:
                actual = None
            actual = float(actual) if is_number(actual) else profile.fund_weight
            chk.weights.append(("预算执行率", actual, profile.fund_weight if own else expected))
        else:
            actual = sum(_N(r.weight) for _, r in active if _txt(r.level1) == category)
            want = (float(fixed[category]) if fixed.get(category) is not None else None) if own else expected
            chk.weights.append((category, xround(actual, 6), want))
    for k, r in active:
        chk.rows += 1
        missing = [label for label, v in (("一级指标", r.level1), ("二级指标", r.level2), ("三级指标", r.name))
                   if not _txt(v)]
        if missing:
            chk.incomplete.append(f"{chk.project} 第{k}行缺{'、'.join(missing)}")
        else:
            chk.rows_level3 += 1
    return chk


@dataclass
class UnitFiles:
    """Everything found for one unit in the collection folder."""

    unit: str
    projects: list[ProjectCheck] = field(default_factory=list)
    department_workbooks: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)          #: candidate report files (.docx/.txt/.md/.pdf/.doc)
    others: list[str] = field(default_factory=list)         #: any other file (attachments by name)

    @property
    def all_files(self) -> list[str]:
        return [p.path for p in self.projects] + self.department_workbooks + self.texts + self.others

    @property
    def filled(self) -> list[ProjectCheck]:
        """The project forms the unit filled in (not blank)."""
        return [p for p in self.projects if not p.blank]

    @property
    def blank(self) -> list[ProjectCheck]:
        """The project forms returned blank (待填报)."""
        return [p for p in self.projects if p.blank]

    @property
    def submitted_files(self) -> list[str]:
        """The files that count as submitted: all but the blank project forms (a blank form is no submission)."""
        blank = {p.path for p in self.blank}
        return [f for f in self.all_files if f not in blank]


TEXT_SUFFIXES = {".docx", ".txt", ".md", ".pdf", ".doc", ".wps"}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}


def _files(folder: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    """Every file below ``folder`` and the entries not read with why (links never followed, lock files,
    hidden files, pipes: the walk ``check`` and ``collect`` use; bulk's manifest is no returned file)."""
    files, skipped = list_files(folder, ignore=(MANIFEST,))
    return [Path(f) for f in files], skipped


@dataclass
class Scan:
    units: dict[str, UnitFiles]
    unreadable: list[tuple[str, str]]
    unassigned: list[str]


def scan_folder(folder: Path, rubric: Rubric, known_units: Iterable[str] = ()) -> Scan:
    """Read every file below ``folder`` and assign it to a unit.

    Workbooks made by this system name their unit in the document properties (单位名称) or the
    实施单位 cell; other files belong to the unit of their top-level subfolder, or — at the top
    level — to the unit whose name their file name contains.
    """
    units: dict[str, UnitFiles] = {}
    unreadable: list[tuple[str, str]] = []
    unassigned: list[str] = []
    top_units: dict[str, Counter] = {}
    rest: list[Path] = []

    def top(p: Path) -> str | None:
        rel = p.relative_to(folder)
        return rel.parts[0] if len(rel.parts) > 1 else None

    def unit_of(name: str) -> UnitFiles:
        return units.setdefault(name, UnitFiles(name))

    files, skipped = _files(folder)
    unreadable.extend(skipped)
    for path in files:
        if path.suffix.lower() not in XLSX_SUFFIXES:
            rest.append(path)
            continue
        try:
            rb = read_form_file(path)             # one reading, as check and collect read it
        except OwnOutput:                         # our own 考核评分表 or 汇总表 lying in the folder is skipped
            continue
        except NotOurForm:                        # hand-made tables count as attachments by file name
            rest.append(path)
            continue
        except JxzpError as err:
            unreadable.append((str(path), str(err)))
            continue
        meta = rb.meta
        try:
            form = form_for(str(meta.get("模板编号") or ""))
        except JxzpError:
            form = None
        if form not in (project_form.FORM, department_form.FORM):
            rest.append(path)          # other forms count as attachments by file name
            continue
        unit = str(meta.get("单位名称") or "").strip()
        if form is project_form.FORM:
            unit = unit or _txt(rb.record.unit) or top(path) or ""
            if not unit:
                unassigned.append(str(path))
                continue
            unit_of(unit).projects.append(check_project(rb, rubric, str(path), unit))
        else:
            unit = unit or str(meta.get("部门名称") or "").strip() or top(path) or ""
            if not unit:
                unassigned.append(str(path))
                continue
            unit_of(unit).department_workbooks.append(str(path))
        if top(path):
            top_units.setdefault(top(path), Counter())[unit] += 1
    names = sorted(set(units) | {u for u in known_units if u}, key=len, reverse=True)
    for path in rest:
        t = top(path)
        if t is not None:
            unit = top_units[t].most_common(1)[0][0] if t in top_units else t
        else:
            unit = next((u for u in names if u in path.stem), None)
        if unit is None:
            unassigned.append(str(path))
            continue
        uf = unit_of(unit)
        (uf.texts if path.suffix.lower() in TEXT_SUFFIXES else uf.others).append(str(path))
    return Scan(units, unreadable, unassigned)


# ============================================================================ 提交记录 (submissions table)

SUBMISSION_FIXED = ("单位名称", "提交日期", "存在问题", "改进建议", "备注", "自评类型")
_YES_WORDS = {"是", "有", "√", "✓", "y", "yes", "true", "1", "已印发", "已成立"}
_NO_WORDS = {"否", "无", "×", "✗", "n", "no", "false", "0", "未印发", "未成立"}


@dataclass
class Submission:
    unit: str
    row: int
    date: dt.date | None = None
    problems: str = ""
    suggestions: str = ""
    note: str = ""
    values: dict[str, Any] = field(default_factory=dict)     #: part/flag key -> value
    kind: str = ""                #: 自评类型 as the log states it (部门整体 / 项目支出), "" when not stated


def _submission_columns(rubric: Rubric) -> dict[str, tuple[str, Part | Flag]]:
    cols: dict[str, tuple[str, Part | Flag]] = {}
    for p in rubric.parts:
        if p.kind != "ratio":
            cols[p.name] = (p.key, p)
            cols.setdefault(p.label, (p.key, p))
        if p.flag:
            cols[p.flag.name] = (p.flag.key, p.flag)
    return cols


def _yes_no(v: Any) -> str | None:
    t = _txt(v).lower()
    if t in _YES_WORDS:
        return YES
    if t in _NO_WORDS:
        return NO
    return None


def _read_rows(path: Path) -> list[list[Any]]:
    if path.suffix.lower() == ".csv":
        raw = path.read_bytes()
        for enc in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise DataError("无法识别文件编码（请保存为 UTF-8）", where=str(path))
        return [row for row in csv.reader(io.StringIO(text))]
    with open_workbook_zip(path):
        pass
    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        return book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception as exc:  # noqa: BLE001  (calamine raises its own error types)
        raise WorkbookError(f"无法读取提交记录：{exc}", where=str(path)) from None


def read_submissions(path: str | Path, rubric: Rubric) -> dict[str, Submission]:
    """Read a 提交记录 table (.xlsx first sheet, or .csv): one row per unit.

    Raises:
        DataError: listing every bad header or value with its row (“提交记录!第3行 提交日期：…”).
        WorkbookError: the file cannot be read.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("找不到提交记录文件", where=str(path))
    rows = _read_rows(path)
    if not rows:
        raise DataError("提交记录是空的（第一行应为表头）", where=str(path))
    known = _submission_columns(rubric)
    header = [_txt(h) for h in rows[0]]
    problems = []
    for k, h in enumerate(header, 1):
        if h and h not in SUBMISSION_FIXED and h not in known:
            problems.append(f"第1行第{k}列：未知列名“{h}”（可用：{'、'.join(SUBMISSION_FIXED + tuple(known))}）")
    if "单位名称" not in header:
        problems.append("缺少“单位名称”列")
    out: dict[str, Submission] = {}
    for r, row in enumerate(rows[1:], 2):
        cells = {h: row[k] if k < len(row) else None for k, h in enumerate(header) if h}
        unit = _txt(cells.get("单位名称"))
        if not unit:
            if any(not _blank(v) for v in cells.values()):
                problems.append(f"第{r}行：缺少单位名称")
            continue
        if unit in out:
            problems.append(f"第{r}行：单位“{unit}”重复（第{out[unit].row}行已有）")
            continue
        sub = Submission(unit, r, problems=_txt(cells.get("存在问题")), suggestions=_txt(cells.get("改进建议")),
                         note=_txt(cells.get("备注")))
        kind = _txt(cells.get("自评类型"))
        if kind and kind not in UNIT_KINDS:
            problems.append(f"第{r}行 自评类型：应为{'或'.join(UNIT_KINDS)}，实际为“{kind}”")
        sub.kind = kind if kind in UNIT_KINDS else ""
        raw_date = cells.get("提交日期")
        if not _blank(raw_date):
            try:
                sub.date = _date_cell(raw_date)
            except FilterError:
                problems.append(f"第{r}行 提交日期：“{raw_date}”不是有效日期（可写作 2024-04-03）")
        for h, v in cells.items():
            if h not in known or _blank(v):
                continue
            key, spec = known[h]
            if isinstance(spec, Flag) or spec.kind == "yesno":
                yn = _yes_no(v)
                if yn is None:
                    problems.append(f"第{r}行 {h}：应填“是”或“否”，实际为“{v}”")
                else:
                    sub.values[key] = yn
                continue
            num = _number_cell(v)
            if num is None or _invalid(spec, num):
                problems.append(f"第{r}行 {h}：应为{spec.allowed_text()}，实际为“{v}”")
                continue
            sub.values[key] = num
        out[unit] = sub
    if problems:
        raise DataError(f"提交记录有 {len(problems)} 处问题，未生成考核评分表", where=str(path), problems=problems)
    return out


def _date_cell(v: Any) -> dt.date:
    if isinstance(v, (dt.date, dt.datetime)):
        return to_date(v)
    if is_number(v) and 20000 < float(v) < 80000:          # a date serial typed without a date format
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(v))
    return to_date(_txt(v))


def _number_cell(v: Any) -> float | None:
    if is_number(v):
        return float(v)
    try:
        return float(_txt(v))
    except ValueError:
        return None
