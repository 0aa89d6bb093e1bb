"""The review itself: every unit's automatic values computed from its files and 提交记录, its judgement
cells pre-filled, and its row graded (:func:`review`, :func:`assess_unit`)."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlsx_engine.bureau.collect import SentProjects
from xlsx_engine.bureau.review.calendar import working_days_late
from xlsx_engine.bureau.review.intake import (
    BLANK,
    Scan,
    Submission,
    UnitFiles,
    blank_forms,
    read_submissions,
    scan_folder,
)
from xlsx_engine.bureau.review.reports import (
    _SPLIT,
    ReportRead,
    analyse_report,
    funding_flag,
    read_text_paragraphs,
)
from xlsx_engine.bureau.review.rubric import (
    DEPARTMENT,
    NO,
    NOT_FOUND,
    PROJECT,
    YES,
    Attachment,
    Rubric,
    OTHER_RUBRIC_HINT,
    _pending_part,
    choose_rubric,
    evaluate_row,
    full_deduction,
    load_rubric,
    nothing_value,
)
from xlsx_engine.forms.project.profile import load_profile
from xlsx_engine.kernel.errors import DataError, JxzpError, WorkbookError
from xlsx_engine.kernel.messages import FUNDS_SHORT, MORE_FUNDING
from xlsx_engine.kernel.textfilters import FilterError, to_date
from xlsx_engine.kernel.xlmath import is_number


@dataclass
class UnitReview:
    """One unit's row: its cell values (automatic and pre-filled judgement), the Python results and the evidence."""

    unit: str
    values: dict[str, Any]
    result: dict[str, Any]
    submitted: dt.date | None
    submitted_source: str
    notes: dict[str, str]                      #: part/flag key -> how the automatic value was found
    files: UnitFiles
    reports: list[ReportRead] = field(default_factory=list)     #: every 自评报告 read (see :func:`read_reports`)
    report_error: str = ""
    nothing: bool = False                      #: submitted nothing to score (see :func:`submitted_nothing`)

    @property
    def report(self) -> ReportRead | None:
        """The first of its reports (the only one, for most units)."""
        return self.reports[0] if self.reports else None


@dataclass
class ReviewRun:
    rubric: Rubric
    deadline: dt.date
    units: list[UnitReview]
    unreadable: list[tuple[str, str]]
    unassigned: list[str]
    folder: str
    warnings: list[str] = field(default_factory=list)
    rubric_warning: str = ""          #: shown on the sheet: no rubric is written for the forms' region
    master: str = ""                  #: the 总表 whose units are all listed ("" : only the units found)

    def unit(self, name: str) -> UnitReview:
        for u in self.units:
            if u.unit == name:
                return u
        raise KeyError(name)


#: shown wherever a submission date was taken from a file's modification time
FILE_TIME_WARNING = "提交日期取自文件修改时间，文件被复制、解压或转存后会变，可能不准确"
#: what to do about it, for who reads it: the operator at the command line, the reviewer in the workbook
FILE_TIME_HINT = {"cli": "请用 --submissions 提供提交记录", "sheet": "请以实际提交记录核对"}
#: said once at the command line when no master is given: who is missing from the table and how to list them
UNLISTED_HINT = ("未交回任何文件的单位不在考核评分表中（表中只有回收文件夹和提交记录中出现的单位）；"
                 "加 --master 总表.xlsx 可列出总表中的全部单位，未交回的按未报送评分")
#: a file named so is one of the unit's 自评报告 (not an attachment)
REPORT_WORD = "报告"


def _mtime(path: str) -> dt.date:
    return dt.date.fromtimestamp(Path(path).stat().st_mtime)


def unit_kind(uf: UnitFiles, rubric: Rubric, submission: Submission | None = None) -> str:
    """What a unit evaluated: as its 提交记录 row states; else 部门整体 when it returned a 部门整体 workbook or a file
    named like one (``report.department_evidence``); else 项目支出 when it returned project workbooks only."""
    if submission is not None and submission.kind:
        return submission.kind
    if uf.department_workbooks:
        return DEPARTMENT
    evidence = rubric.department_evidence
    if evidence is not None and any(evidence.search(Path(p).stem) for p in uf.texts + uf.others):
        return DEPARTMENT
    return PROJECT if uf.projects else DEPARTMENT


def submitted_nothing(uf: UnitFiles, submission: Submission | None = None) -> bool:
    """The one rule of a unit that submitted nothing to score: no file but blank project forms (待填报), and no
    提交日期 in the 提交记录 (a report handed in on paper is dated there)."""
    return not uf.submitted_files and (submission is None or submission.date is None)


def read_reports(uf: UnitFiles, rubric: Rubric, kind: str = "") -> tuple[list[ReportRead], str]:
    """Every 自评报告 a unit returned, each read against its outline, and why a file named like a report could not
    be read.

    A report is a readable text named like one (:data:`REPORT_WORD`) in which some body section is found; a report
    sent in two formats (.docx and .pdf of one name) counts once, as the copy in which most is found. When no file
    qualifies, the text in which most sections are found is the report (or a file named like one, none found).
    In a 部门整体 unit with several reports, the department's own (named like one, ``report.department_evidence``;
    else the one with most sections) is held to the department outline and the others — its projects' reports —
    to the project outline (``report.project_sections``).
    """
    errors: dict[str, str] = {}
    read: list[tuple[list, ReportRead]] = []
    for path in uf.texts:
        try:
            paragraphs = read_text_paragraphs(Path(path))
        except (JxzpError, OSError) as err:
            if REPORT_WORD in Path(path).stem:
                errors[Path(path).stem] = str(err)
            continue
        read.append((paragraphs, analyse_report(paragraphs, rubric, path, kind)))
    named: dict[str, tuple[list, ReportRead]] = {}
    for paragraphs, rep in read:
        stem = Path(rep.path).stem
        if REPORT_WORD in stem and rep.found and (stem not in named or len(rep.found) > len(named[stem][1].found)):
            named[stem] = (paragraphs, rep)
    for stem in named:                     # read in another format: not an error
        errors.pop(stem, None)
    error = "；".join(errors.values())
    if not named:
        best: ReportRead | None = None
        for _paragraphs, rep in read:
            better = len(rep.found) > len(best.found) if best is not None else \
                bool(rep.found) or REPORT_WORD in Path(rep.path).stem      # no section found: only a file called 报告
            if better:
                best = rep
        return ([best] if best is not None else []), error
    reports = [rep for _paragraphs, rep in named.values()]
    if kind != PROJECT and len(reports) > 1 and rubric.sections_for(PROJECT) is not rubric.sections_for(kind):
        evidence = rubric.department_evidence
        own = [r for r in reports if evidence is not None and evidence.search(Path(r.path).stem)] or \
            [max(reports, key=lambda r: len(r.found))]
        reports = [rep if rep in own else analyse_report(paragraphs, rubric, rep.path, PROJECT)
                   for paragraphs, rep in named.values()]
    return reports, error


def _names(paths: Iterable[str]) -> str:
    return "、".join(Path(p).name for p in paths)


def _outline(rubric: Rubric, kind: str) -> str:
    return f"（按{kind}自评报告的提纲核对）" if rubric.sections_for(kind) is not rubric.sections else ""


def _body(reports: list[ReportRead], rubric: Rubric) -> tuple[list[str], str]:
    """The body parts missing from a unit's reports — a part any report lacks, counted once — and the 说明 naming
    each report that falls short."""
    missing = list(dict.fromkeys(name for r in reports for name in r.missing))
    if len(reports) == 1:
        r = reports[0]
        return missing, (f"自评报告 {Path(r.path).name}{_outline(rubric, r.kind)}：" +
                         (f"缺少 {'、'.join(r.missing)}" if r.missing else "正文各部分齐全"))
    same = len({r.kind for r in reports}) == 1
    outline = lambda r: "" if same else _outline(rubric, r.kind)        # noqa: E731
    short = [f"{Path(r.path).name}{outline(r)} 缺少 {'、'.join(r.missing)}" for r in reports if r.missing]
    full = [r.path for r in reports if not r.missing]
    head = f"{len(reports)} 份自评报告{_outline(rubric, reports[0].kind) if same else ''}，每份都须齐全："
    return missing, head + "；".join(
        short + ([f"{_names(full)} 正文各部分齐全"] if full else []) +
        ([f"共缺 {len(missing)} 个部分（几份报告缺同一部分的只计一次）"] if short else []))


def assess_unit(uf: UnitFiles, rubric: Rubric, deadline: dt.date, *, submission: Submission | None = None,
                holidays: Iterable[dt.date] = (), workdays: Iterable[dt.date] = (),
                judgements: dict[str, Any] | None = None) -> UnitReview:
    """Compute a unit's automatic values and pre-fill its judgement cells.

    Args:
        uf: the unit's files (see :func:`scan_folder`).
        submission: its row of the 提交记录, if any (date, texts, pre-filled or overriding values).
        judgements: extra cell values by part key or name (API use, not validated: the sheet shows warnings).
    """
    hol = rubric.holidays | frozenset(holidays)
    work = rubric.workdays | frozenset(workdays)
    values: dict[str, Any] = {"unit": uf.unit}
    notes: dict[str, str] = {}
    kind = unit_kind(uf, rubric, submission)
    reports, report_error = read_reports(uf, rubric, kind)
    nothing = submitted_nothing(uf, submission)
    blank = uf.blank

    # submission date
    if submission is not None and submission.date is not None:
        submitted, how = submission.date, "提交记录"
    elif reports:
        submitted, how = max(_mtime(r.path) for r in reports), "自评报告文件的修改时间"
    elif uf.submitted_files:
        submitted, how = max(_mtime(p) for p in uf.submitted_files), "所交文件中最晚的修改时间"
    else:
        submitted, how = None, ""
    values["submitted"] = submitted if submitted is not None else "未报送"

    texts: dict[str, list[str] | None] = {"problems": None, "suggestions": None}
    for role in ("problems", "suggestions"):
        given = getattr(submission, role, "") if submission is not None else ""
        if given:
            texts[role] = [s.strip() for s in _SPLIT.split(given) if s.strip()]

    for part in rubric.parts:
        if part.rule == "automatic":
            src = part.source
            if src == "late_working_days":
                if submitted is None:
                    cap = full_deduction(part)
                    values[part.key] = cap
                    notes[part.key] = f"未找到报送的文件或提交日期，按未报送计（{cap:g} 个工作日）"
                else:
                    late = working_days_late(deadline, submitted, hol, work)
                    values[part.key] = float(late)
                    notes[part.key] = (f"提交日期 {submitted.isoformat()}（{how}），截止 {deadline.isoformat()}，"
                                       + (f"推迟 {late} 个工作日" if late else "按时报送"))
                    if how != "提交记录":
                        notes[part.key] = f"【注意：{FILE_TIME_WARNING}；{FILE_TIME_HINT['sheet']}】" + notes[part.key]
            elif src == "report_body":
                if not reports:
                    values[part.key] = float(len(rubric.sections_for(kind)))
                    notes[part.key] = "未找到自评报告（.docx/.txt/.md/.pdf）" + (f"：{report_error}" if report_error else "")
                else:
                    missing, notes[part.key] = _body(reports, rubric)
                    values[part.key] = float(len(missing))
            elif src == "report_attachments":
                required = rubric.attachments if nothing else rubric.attachments_for(kind)
                missing, found = _attachments(uf, rubric, reports, required)
                values[part.key] = float(len(missing))
                spared = [a.name for a in rubric.attachments if a not in required]
                notes[part.key] = (f"缺少附件：{'、'.join(missing)}" if missing else "附件齐全") + \
                                  (f"（已有：{'；'.join(found)}）" if found else "") + \
                                  (f"（{kind}单位，不要求{'、'.join(spared)}）" if spared else "") + \
                                  (f"（{blank_forms(blank)}，不算作附件）" if blank and not uf.filled else "")
            elif src == "weights":
                values[f"{part.key}_ok"] = float(sum(p.ok_pairs for p in uf.projects))
                values[f"{part.key}_total"] = float(sum(p.judged for p in uf.projects))
                bad = [f"{p.name}：{'，'.join(p.mismatches)}" for p in uf.filled if p.mismatches]
                notes[part.key] = ("未找到项目支出绩效自评表" if not uf.projects else
                                   f"{len(uf.projects)} 张项目支出绩效自评表，" +
                                   ("权重均符合规程" if not bad and not blank else
                                    "；".join((["权重不符：" + "；".join(bad)] if bad else []) +
                                             ([f"{blank_forms(blank)}，权重不得分"] if blank else []))))
            elif src == "level3":
                values[f"{part.key}_ok"] = float(sum(p.level3_ok for p in uf.projects))
                values[f"{part.key}_total"] = float(sum(p.rows for p in uf.projects))
                bad = [x for p in uf.filled for x in p.incomplete]
                notes[part.key] = ("未找到项目支出绩效自评表" if not uf.projects else
                                   "；".join(([] if bad or blank else ["指标均已细化到三级"]) +
                                            (["未细化到三级：" + "；".join(bad[:20]) +
                                              (f" 等 {len(bad)} 行" if len(bad) > 20 else "")] if bad else []) +
                                            ([f"{blank_forms(blank)}，指标行不得分"] if blank else [])))
        if part.flag:
            role = "problems" if part.flag.source == "problems_funding_only" else "suggestions"
            values[part.flag.key], notes[part.flag.key] = _funding(role, texts[role], reports)
    if nothing:
        notes = {"returned": _nothing_note(rubric, values, uf), **notes}
    if submission is not None:
        for key, v in submission.values.items():
            values[key] = v
            if key in notes:
                notes[key] = f"按提交记录：{v if not is_number(v) else f'{v:g}'}（程序核对：{notes[key]}）"
    for key, v in (judgements or {}).items():
        part_key = next((p.key for p in rubric.parts if key in (p.key, p.name)), None) or \
            next((p.flag.key for p in rubric.parts if p.flag and key in (p.flag.key, p.flag.name)), None)
        if part_key is None:
            raise JxzpError(f"考核规则中没有名为“{key}”的评分要素", where=uf.unit)
        values[part_key] = v
    result = evaluate_row(rubric, values)
    return UnitReview(uf.unit, values, result, submitted, how, notes, uf, reports, report_error, nothing)


def _funding(role: str, given: list[str] | None, reports: list[ReportRead]) -> tuple[str, str]:
    """Whether the problems (role ``problems``) / suggestions say only 资金不足 / 加大资金投入, and how that was found:
    from the 提交记录 when it gives them, else from every report — 是 when any report says only that (named)."""
    what = "存在问题" if role == "problems" else "改进建议"
    only = FUNDS_SHORT if role == "problems" else MORE_FUNDING
    if given:
        flags, source = {"": funding_flag(given, role)}, "提交记录"
    else:
        flags = {r.path: funding_flag(r.texts.get(role), role) for r in reports}
        source = "自评报告"
    hits = [p for p, f in flags.items() if f == YES]
    said = [p for p, f in flags.items() if f == NO]
    several = len(flags) > 1
    if hits:
        return YES, f"{what}（取自{source}{f' {_names(hits)}' if several else ''}）只提出“{only}”，本项0分"
    if said:
        return NO, f"{what}取自{source}{f' {_names(said)}' if several else ''}，由评审评分"
    return NOT_FOUND, f"未找到{what}（自评报告中没有此部分，提交记录也未填写）"


def _nothing_note(rubric: Rubric, values: dict[str, Any], uf: UnitFiles) -> str:
    """Pre-fill the reviewer's cells of a unit that submitted nothing with what scores 0 (:func:`nothing_value`),
    and say so: each item is scored on the material a unit submits, and there is none."""
    prefilled, left = [], []
    for part in sorted((p for p in rubric.parts if p.rule == "judgement"), key=lambda p: p.kind != "yesno"):
        if not _pending_part(part, values):           # not needed (no notice issued), or scores 0 anyway
            continue
        v = nothing_value(part)
        if v is None:
            left.append(part.label)
            continue
        values[part.key] = v
        prefilled.append(f"{part.label} {v if isinstance(v, str) else f'{v:g}'}")
    why = f"只交回了未填写的项目支出绩效自评表（{BLANK}）：{'、'.join(p.name for p in uf.blank)}，不算报送" \
        if uf.blank else "未交回任何文件"
    return (f"{why}：各项都依据单位报送的材料评分，没有材料的按0分计" +
            (f"，评审项已预填（{'、'.join(prefilled)}），另有材料的可在黄色单元格改填" if prefilled else "") +
            (f"；{'、'.join(left)}由评审填写" if left else ""))


def _attachments(uf: UnitFiles, rubric: Rubric, reports: list[ReportRead], required: Iterable[Attachment]
                 ) -> tuple[list[str], list[str]]:
    """The ``required`` attachments missing, and those found (and how). A unit that submitted nothing is asked for
    every attachment: only a unit that showed it evaluated 项目支出 alone is spared the 部门整体 tables."""
    own = {Path(r.path).stem for r in reports}         # a report (in any of its formats) is not its own attachment
    candidates = [p for p in uf.others + uf.texts + uf.department_workbooks if Path(p).stem not in own]
    missing, found = [], []
    for att in required:
        how = ""
        if att.satisfied_by == "project_workbook" and uf.filled:
            how = f"{len(uf.filled)} 张项目支出绩效自评表"
        elif att.satisfied_by == "department_workbook" and uf.department_workbooks:
            how = "部门整体支出绩效自评表（本系统）"
        else:
            hit = next((p for p in candidates if att.pattern.search(Path(p).stem)), None)
            if hit:
                how = Path(hit).name
            elif att.waived_by and any(att.waived_by.search(r.full_text) for r in reports):
                how = "报告写明无此类支出"
        if how:
            found.append(f"{att.name}：{how}")
        else:
            missing.append(att.name)
    return missing, found


def review(folder: str | Path, *, deadline: dt.date | str, submissions: str | Path | dict | None = None,
           rubric: Rubric | str | None = None, holidays: Iterable = (), workdays: Iterable = (),
           judgements: dict[str, dict[str, Any]] | None = None, master: str | Path | None = None) -> ReviewRun:
    """Score every unit found in ``folder`` (and every unit of the 提交记录 and of the 总表) on the rubric.

    Args:
        folder: the collection folder (units' returned workbooks, reports and attachments).
        deadline: the 报送截止日期.
        submissions: a 提交记录 file, or an already-read ``{unit: Submission}``.
        rubric: a :class:`Rubric`, a rubric id or a YAML path; default: the installed rubric written for the
            region of the collected forms (:func:`~xlsx_engine.bureau.review.rubric.choose_rubric`), else
            ``review-yueyang`` with a warning on the sheet.
        holidays, workdays: extra dates for the working-day calendar.
        judgements: ``{unit: {part key or name: value}}`` pre-filled into the reviewer's cells.
        master: the 总表 the forms were sent from (``jxzp bulk``): every unit it lists gets a row (one that returned
            nothing scores as 未报送), and a returned form is judged blank against what was sent.

    Raises:
        JxzpError: no such folder, no unit found, the master unreadable; DataError: bad 提交记录 or 总表.
    """
    rub = rubric if isinstance(rubric, Rubric) else load_rubric(rubric) if rubric else None
    folder = Path(folder)
    if not folder.is_dir():
        raise JxzpError("找不到回收文件夹", where=str(folder))
    try:
        deadline = to_date(deadline)
    except FilterError as exc:
        raise JxzpError(str(exc), where="报送截止日期") from None
    extra_h = _parse_dates(holidays, "节假日")
    extra_w = _parse_dates(workdays, "调休上班日")
    with contextlib.ExitStack() as stack:
        sent = _open_master(master, stack) if master else None
        listed = _master_units(sent) if sent is not None else {}

        def intake(rubric: Rubric) -> tuple[dict[str, Submission], Scan]:
            subs = submissions if isinstance(submissions, dict) else \
                (read_submissions(submissions, rubric) if submissions else {})
            return subs, scan_folder(folder, rubric, list(subs) + list(listed))

        chosen = ""
        if rub is not None:
            subs, scan = intake(rub)
        else:                            # the collected forms' region decides; read again under another rubric
            first = choose_rubric(Counter())[0]
            subs, scan = intake(first)
            rub, chosen = choose_rubric(Counter(region_of_profile(p.profile) for uf in scan.units.values()
                                                for p in uf.projects))
            if rub is not first:
                subs, scan = intake(rub)
        if sent is not None:             # blank or not against what was sent (bulk writes the 全年执行数 in)
            for uf in scan.units.values():
                for p in uf.projects:
                    s = sent.get(p.code) if p.code else None
                    if s is not None:
                        p.against_sent(s.spent_cells)
    order = list(subs) + [u for u in listed if u not in subs] + \
        sorted(u for u in scan.units if u not in subs and u not in listed)
    if not order:
        raise JxzpError("回收文件夹中没有找到任何单位的文件", where=str(folder),
                        hint="请检查文件夹，或用 --submissions 提供提交记录（单位名称），或用 --master 给出总表")
    units = [assess_unit(scan.units.get(u) or UnitFiles(u), rub, deadline, submission=subs.get(u),
                         holidays=extra_h, workdays=extra_w, judgements=(judgements or {}).get(u))
             for u in order]
    for u in units:
        contact = "，".join(f"{k} {v}" for k, v in listed.get(u.unit, {}).items() if v)
        if u.nothing and contact:
            u.notes["returned"] += f"（总表：{contact}）"
    run = ReviewRun(rub, deadline, units, scan.unreadable, scan.unassigned, str(folder),
                    master=str(master) if master else "")
    if chosen:
        run.warnings.append(f"{chosen}；{OTHER_RUBRIC_HINT['cli']}")
        run.rubric_warning = f"{chosen}；{OTHER_RUBRIC_HINT['sheet']}"
    for u in units:
        if u.report_error:
            run.warnings.append(f"{u.unit}：{u.report_error}")
    for path in scan.unassigned:
        run.warnings.append(f"无法确定所属单位，未计入：{path}")
    if not master:
        run.warnings.append(UNLISTED_HINT)
    return run


def _open_master(path: str | Path, stack: contextlib.ExitStack) -> SentProjects:
    """The 总表, opened as collect opens it (closed with ``stack``)."""
    try:
        sent = SentProjects(path)
    except WorkbookError as err:
        raise WorkbookError(err.message, where=f"总表 {path}", hint=MASTER_HINT) from None
    stack.callback(sent.close)
    return sent


#: what --master takes, said when it cannot be read
MASTER_HINT = "--master 应为下发自评表时用的总表 .xlsx，格式见 jxzp master new"


def _master_units(sent: SentProjects) -> dict[str, dict[str, str]]:
    """Every unit of the 总表, in its order — the 单位 sheet's (with 联系人, 联系电话), then any named only on the 项目
    sheet."""
    units = {u: sent.contacts[u] for u in sent.master.units}
    for entry in sent.master.project_entries():
        if not isinstance(entry, DataError):
            units.setdefault(entry.unit, {})
    return units


def region_of_profile(profile_id: str) -> str:
    """The region a project profile's rules belong to (its ``narrative.region``; national by default)."""
    try:
        raw = load_profile(profile_id).raw
    except JxzpError:
        return "national"
    return str((raw.get("narrative") or {}).get("region") or "national")


def _parse_dates(values: Iterable, what: str) -> frozenset:
    out = set()
    for v in values or ():
        try:
            out.add(to_date(v))
        except FilterError:
            raise JxzpError(f"{what}“{v}”不是有效日期（应写作 2024-04-04）") from None
    return frozenset(out)
