"""自评工作考核评分表: the finance bureau scores each unit's self-evaluation *work* (seed 001, 附件5).

The rubric is data (``templates/profiles/review/*.yaml``, see the comments at the top of
``review-yueyang.yaml``): groups (布置工作 / 实施评价 / 自评报告), items (自评通知 …) and the
parts that score them. Each part is either

* **automatic** — computed here from what the units returned: the working days a
  submission was late (the date from a 提交记录 table, else the files' modification time;
  weekends, configurable holidays and 调休 workdays honoured), which sections of the
  自评报告 and which attachments are present, whether each project table's level-1 weights
  follow the 规程 (pro-rata), whether every indicator row is broken down to level 3, and
  whether the problems / suggestions say nothing but 资金不足 / 加大资金投入 (the detection of
  :mod:`xlsx_engine.kernel.messages`, shared with the narrative); or
* **judgement** — entered by the reviewer in a yellow, unlocked cell whose data validation
  enforces the allowed values (是/否, a count, a range, or the rubric's bands, with a visible
  warning formula for values between the bands).

:func:`review` gathers the evidence of every unit, :func:`evaluate_row` is the Python twin of
the sheet's formulas (item scores, subtotals, 总分, 待评项数, 提示, 等次), and :func:`write_review`
authors the bureau's workbook with openpyxl: one row per unit, locked, macro-free,
workbook-scoped names, native formulas using only :data:`xlsx_engine.formulas.ALLOWED_FUNCTIONS`,
and each formula's cached value set to the Python result, so readers that never recalculate
show the same numbers as Excel/WPS/LibreOffice.

Modules (this package's ``__init__`` re-exports the public API; import from ``xlsx_engine.bureau.review``):

* :mod:`.rubric` — the rubric as data (parse, load), the main sheet's columns, grading (Python twin + formulas);
* :mod:`.calendar` — working days (weekends, holidays, 调休 workdays);
* :mod:`.reports` — reading a 自评报告 (.docx/.txt/.md/.pdf): sections, 问题 / 措施 sentences;
* :mod:`.intake` — the collection folder scanned and assigned to units, project workbooks checked, 提交记录 read;
* :mod:`.assess` — one unit's row assessed (:func:`assess_unit`) and the whole run (:func:`review`);
* :mod:`.workbook` — the 考核评分表 written with openpyxl, cached values patched in.

提交记录 (optional, .xlsx or .csv, first row = headers; only 单位名称 is required):
单位名称 · 提交日期 · 存在问题 · 改进建议 · 备注, plus any part name of the rubric (e.g. 印发自评通知,
通知缺少项数, 成立工作小组, 未自查单位数, 指标明确可衡量 …) to pre-fill the reviewer's cells, or an
automatic part's name (推迟工作日数, 正文缺少部分数, 附件缺少部分数, 问题仅资金不足 …) to override what
the program found (e.g. for a report submitted only on paper).
"""

from __future__ import annotations

from xlsx_engine.bureau.review.assess import ReviewRun, UnitReview, assess_unit, review
from xlsx_engine.bureau.review.calendar import is_workday, working_days_late
from xlsx_engine.bureau.review.intake import (
    SUBMISSION_FIXED,
    TEXT_SUFFIXES,
    XLSX_SUFFIXES,
    ProjectCheck,
    Scan,
    Submission,
    UnitFiles,
    check_project,
    read_submissions,
    scan_folder,
)
from xlsx_engine.bureau.review.reports import (
    MAX_TEXT_FILE,
    Paragraph,
    ReportRead,
    analyse_report,
    funding_flag,
    read_docx_paragraphs,
    read_text_paragraphs,
)
from xlsx_engine.bureau.review.rubric import (
    CHECK,
    DEFAULT_RUBRIC,
    KINDS,
    NO,
    NOT_FOUND,
    PENDING,
    REVIEW_DIR,
    RULES,
    SOURCES,
    YES,
    Attachment,
    Band,
    Column,
    Flag,
    Grade,
    Group,
    Item,
    Part,
    Rubric,
    Section,
    columns,
    evaluate_row,
    load_rubric,
    parse_rubric,
    part_formula,
    part_score,
    row_formulas,
    warning_text,
)
from xlsx_engine.bureau.review.workbook import (
    FIRST_ROW,
    SHEET,
    set_cached_values,
    write_review,
)

__all__ = [
    "CHECK", "DEFAULT_RUBRIC", "FIRST_ROW", "KINDS", "MAX_TEXT_FILE", "NO", "NOT_FOUND", "PENDING", "REVIEW_DIR",
    "RULES", "SHEET", "SOURCES", "SUBMISSION_FIXED", "TEXT_SUFFIXES", "XLSX_SUFFIXES", "YES",
    "Attachment", "Band", "Column", "Flag", "Grade", "Group", "Item", "Paragraph", "Part", "ProjectCheck",
    "ReportRead", "ReviewRun", "Rubric", "Scan", "Section", "Submission", "UnitFiles", "UnitReview",
    "analyse_report", "assess_unit", "check_project", "columns", "evaluate_row", "funding_flag", "is_workday",
    "load_rubric", "parse_rubric", "part_formula", "part_score", "read_docx_paragraphs", "read_submissions",
    "read_text_paragraphs", "review", "row_formulas", "scan_folder", "set_cached_values", "warning_text",
    "working_days_late", "write_review",
]
