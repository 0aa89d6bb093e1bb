"""Reading a unit's 自评报告 (.docx/.txt/.md/.pdf): its paragraphs, body sections and 问题 / 措施 sentences.

A .docx is read with bounded zip reading and an entity-free XML parser; headings are recognised by
their numbering (一、 / 第一部分 / #), Word style, Word numbering or all-bold runs.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

from xlsx_engine.bureau.review.rubric import NO, NOT_FOUND, YES, Rubric
from xlsx_engine.kernel.errors import WorkbookError
from xlsx_engine.kernel.messages import (
    FUNDS_ONLY_PROBLEM,
    FUNDS_ONLY_SUGGESTION,
    only_funding,
)
from xlsx_engine.ooxml.safezip import MAX_UNCOMPRESSED, parse_xml, read_member

MAX_TEXT_FILE = 20 * 1024 * 1024
_LEVEL1_HEADING = re.compile(r"^\s*(#{1,2}\s+|第[一二三四五六七八九十]+部分|[一二三四五六七八九十]{1,3}\s*[、.．])")
_ANY_HEADING = re.compile(r"^\s*(#{1,6}\s+|第[一二三四五六七八九十]+部分|[一二三四五六七八九十]{1,3}\s*[、.．])")
_SUB_NUMBER = re.compile(r"^\s*([（(]|\d)")
_HEADING_STYLE = re.compile(r"^(heading|标题)\s*\d|^\d$", re.IGNORECASE)
_SPLIT = re.compile(r"[。；;\n]+")
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@dataclass
class Paragraph:
    """One paragraph of a report: its text, Word style id, and whether Word numbers it (level) or sets it all bold."""

    text: str
    style: str = ""
    numbered: int | None = None      #: list level (w:numPr/w:ilvl) when Word numbers the paragraph itself
    bold: bool = False

    @property
    def heading(self) -> bool:
        t = self.text.strip()
        if not t or len(t) > 40 or t.endswith(("。", "；", ";", "，", "：", ":")):
            return False
        return bool(_ANY_HEADING.match(t)) or bool(_HEADING_STYLE.match(self.style)) or \
            self.numbered is not None or self.bold

    @property
    def level1(self) -> bool:
        if not self.heading:
            return False
        if _LEVEL1_HEADING.match(self.text) or self.style.lower() in ("heading1", "heading 1", "1", "标题1", "标题 1"):
            return True
        if _ANY_HEADING.match(self.text) or _SUB_NUMBER.match(self.text):
            return False                  # "### …", "（一）…", "1．…": a sub-heading
        return self.numbered == 0 or (self.numbered is None and self.bold)


def read_docx_paragraphs(path: Path) -> list[Paragraph]:
    """Paragraphs (text, style id) of a .docx, read with bounded zip reading and an entity-free parser.

    Raises:
        WorkbookError: the file is not a readable .docx.
    """
    where = str(path)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise WorkbookError(f"不是有效的 .docx 文件（{exc}）", where=where) from None
    with zf:
        if sum(i.file_size for i in zf.infolist()) > MAX_UNCOMPRESSED:
            raise WorkbookError("解压后过大，拒绝读取", where=where)
        root = parse_xml(read_member(zf, "word/document.xml", where), where)
    out = []
    for p in root.iter(f"{_W}p"):
        text = "".join(t.text or "" for t in p.iter(f"{_W}t"))
        style = p.find(f"{_W}pPr/{_W}pStyle")
        num = p.find(f"{_W}pPr/{_W}numPr")
        level = None
        if num is not None:
            ilvl = num.find(f"{_W}ilvl")
            level = int(ilvl.get(f"{_W}val", "0")) if ilvl is not None and ilvl.get(f"{_W}val", "").isdigit() else 0
        runs = [r for r in p.iter(f"{_W}r") if "".join(t.text or "" for t in r.iter(f"{_W}t")).strip()]
        bold = bool(runs) and all(_is_bold(r) for r in runs)
        out.append(Paragraph(text, style.get(f"{_W}val", "") if style is not None else "", level, bold))
    return out


def _is_bold(run) -> bool:
    b = run.find(f"{_W}rPr/{_W}b")
    return b is not None and b.get(f"{_W}val", "true").lower() not in ("0", "false", "off")


def read_text_paragraphs(path: Path) -> list[Paragraph]:
    """Paragraphs of a text report: .txt/.md (UTF-8 or GB18030), .docx, or .pdf when ``pdftotext`` is installed.

    Raises:
        WorkbookError: unreadable or unsupported (e.g. old .doc).
    """
    suffix = path.suffix.lower()
    if suffix == ".docx":
        return read_docx_paragraphs(path)
    if suffix in (".txt", ".md"):
        if path.stat().st_size > MAX_TEXT_FILE:
            raise WorkbookError("文件过大，拒绝读取", where=str(path))
        raw = path.read_bytes()
        for enc in ("utf-8-sig", "gb18030"):
            try:
                return [Paragraph(line) for line in raw.decode(enc).splitlines()]
            except UnicodeDecodeError:
                continue
        raise WorkbookError("无法识别文本编码（请保存为 UTF-8）", where=str(path))
    if suffix == ".pdf":
        exe = shutil.which("pdftotext")
        if exe is None:
            raise WorkbookError("本机未安装 pdftotext，无法读取 PDF 报告", where=str(path),
                                hint="请提交 .docx 版本，或在提交记录中填写“正文缺少部分数”")
        try:
            run = subprocess.run([exe, "-enc", "UTF-8", str(path), "-"], capture_output=True, timeout=60, check=False)
        except subprocess.TimeoutExpired:
            raise WorkbookError("读取 PDF 超时", where=str(path)) from None
        if run.returncode != 0:
            raise WorkbookError("PDF 无法读取（可能已加密或为扫描件）", where=str(path))
        return [Paragraph(line) for line in run.stdout.decode("utf-8", "replace").splitlines()]
    raise WorkbookError("不支持的报告格式（请提交 .docx）", where=str(path))


@dataclass
class ReportRead:
    """What was found in a unit's 自评报告."""

    path: str
    found: list[str]                     #: body sections present
    missing: list[str]
    texts: dict[str, list[str]]          #: role (problems / suggestions) -> sentences under that heading
    full_text: str
    kind: str = ""                       #: the unit kind whose outline it was checked against ("" : the default)


def analyse_report(paragraphs: list[Paragraph], rubric: Rubric, path: str = "", kind: str = "") -> ReportRead:
    """Which body sections a report has (those required of a unit of ``kind``), and the sentences under its
    问题 / 措施 headings."""
    sections = rubric.sections_for(kind)
    found: set[str] = set()
    texts: dict[str, list[str]] = {}
    current_roles: list[str] = []
    for para in paragraphs:
        text = para.text.strip()
        if not text:
            continue
        if para.heading:
            matched = [s for s in sections if s.pattern.search(text)]
            if matched:
                found.update(s.name for s in matched)
                current_roles = [s.role for s in matched if s.role]
                for role in current_roles:
                    texts.setdefault(role, [])
                continue
            # an unmatched numbered/styled top heading ends the section; a line that is only bold or only
            # numbered by Word may be a list item inside it, so it stays content (never wrongly ends 问题)
            if para.level1 and (_ANY_HEADING.match(text) or _HEADING_STYLE.match(para.style)):
                current_roles = []
                continue
        for role in current_roles:
            texts[role].extend(s.strip() for s in _SPLIT.split(text.lstrip("#").strip()) if s.strip())
    full = "".join("".join(p.text.split()) for p in paragraphs)
    return ReportRead(path, [s.name for s in sections if s.name in found],
                      [s.name for s in sections if s.name not in found], texts, full, kind)


def funding_flag(texts: list[str] | None, kind: str) -> str:
    """是 when the texts say only 资金不足 (kind "problems") / 加大资金投入 ("suggestions"); 否; or 未提供."""
    texts = [t for t in (texts or []) if str(t).strip()]
    if not texts:
        return NOT_FOUND
    pattern = FUNDS_ONLY_PROBLEM if kind == "problems" else FUNDS_ONLY_SUGGESTION
    return YES if only_funding(texts, pattern) else NO
