"""The 自评报告 as a Word document, rendered with docxtpl from a bureau-editable ``.docx`` template.

``templates/narrative/report.docx`` (one project: cover as in seed 000, 项目基本概况, 支出明细,
自评表, 评价人员, 综述) and ``multi.docx`` (several projects of a unit, seed 003) are generated
by ``templates/narrative/make_docx_template.py`` and may be edited in Word or WPS. They are
rendered in the same sandboxed, strict Jinja2 environment as the text templates (with XML
escaping on), so a bureau's template cannot reach Python internals, and a mistake raises
:class:`~xlsx_engine.narrative.NarrativeError` naming the .docx file, the paragraph and the
variable or tag at fault.

Speed: the template bytes are read once, docxtpl's XML pre-processing and the compiled Jinja2
template are cached per template, so a report costs one python-docx load, one render and one save.
"""

from __future__ import annotations

import functools
import io
import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Container

import jinja2
from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docxtpl import DocxTemplate

from xlsx_engine.kernel.files import not_regular
from xlsx_engine.narrative.engine import (
    ALIGN_LEFT,
    REGIONS,
    TEMPLATE_DIR,
    Block,
    Finding,
    NarrativeError,
    Narrator,
    ProjectInput,
    Rendered,
    SafeEnvironment,
    _detail,
    _finalize,
    hunan_family,
    nest,
    parse_blocks,
    pending_findings,
    region_of,
)
from xlsx_engine.narrative.sandbox import freeze_context
from xlsx_engine.ooxml.safezip import atomic_write_bytes

REPORT_DOCX = "report.docx"        #: Hunan 附件3
NATIONAL_DOCX = "national.docx"    #: cover, 综述, 附件 自评表 (national, Hubei, Ningxia)
MULTI_DOCX = "multi.docx"


class _CachingEnv(SafeEnvironment):
    """The docx environment: sandboxed, strict, XML-escaping; compiled templates cached by source text."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._compiled: OrderedDict[str, jinja2.Template] = OrderedDict()
        self._lock = threading.Lock()

    def from_string(self, source, globals=None, template_class=None):  # noqa: A002 - Jinja's signature
        if globals is not None or template_class is not None or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        with self._lock:
            hit = self._compiled.get(source)
            if hit is not None:
                self._compiled.move_to_end(source)
                return hit
        template = super().from_string(source)
        with self._lock:
            self._compiled[source] = template
            while len(self._compiled) > 64:
                self._compiled.popitem(last=False)
        return template


@functools.lru_cache(maxsize=1)
def docx_env() -> _CachingEnv:
    return _CachingEnv(undefined=jinja2.StrictUndefined, autoescape=True, finalize=_finalize)


class _Template(DocxTemplate):
    """docxtpl with its (pure) XML pre-processing memoised: the same template body is patched once."""

    _patched: dict[str, str] = {}
    _patched_lock = threading.Lock()

    def patch_xml(self, src_xml):
        hit = self._patched.get(src_xml)
        if hit is None:
            hit = super().patch_xml(src_xml)
            with self._patched_lock:
                if len(self._patched) > 64:
                    self._patched.clear()
                self._patched[src_xml] = hit
        return hit


@functools.lru_cache(maxsize=16)
def _template_bytes(path: str, mtime: float) -> bytes:
    return Path(path).read_bytes()


def _load(path: Path) -> bytes:
    why = not_regular(path)
    if why:
        raise NarrativeError(why, where=str(path), hint="--template 应为 .docx 文件")
    try:
        return _template_bytes(str(path.resolve()), path.stat().st_mtime)
    except FileNotFoundError:
        raise NarrativeError("找不到 Word 模板", where=str(path)) from None


def _paragraph_text(xml_line: str) -> str:
    text = re.sub(r"<[^>]+>", "", xml_line)
    for a, b in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&amp;", "&")):
        text = text.replace(a, b)
    return text.strip()


def _docx_error(exc: BaseException, tpl: _Template, path: Path) -> NarrativeError:
    """Name the .docx, the paragraph (line of docxtpl's pre-processed XML) and the culprit."""
    line = getattr(exc, "lineno", None) if isinstance(exc, jinja2.TemplateSyntaxError) else None
    if line is None:
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == "<template>":
                line = tb.tb_lineno
            tb = tb.tb_next
    snippet = ""
    if line:
        try:
            tpl.init_docx(reload=False)
            src = re.sub(r"<w:p([ >])", r"\n<w:p\1", tpl.patch_xml(tpl.get_xml()))
            lines = src.splitlines()
            if 0 < line <= len(lines):
                snippet = _paragraph_text(lines[line - 1])
        except Exception:  # the message stays useful without the snippet
            snippet = ""
    detail = _detail(exc)
    where = f"Word 模板 {path}" + (f" 第{line}段" if line else "")
    return NarrativeError(detail, where=where, hint=f"该段内容：{snippet}" if snippet else None,
                          template=str(path), line=line, detail=detail)


def _blocks(markup_or_blocks: str | list[Block]) -> list[dict]:
    """Rendered text → paragraph dicts for the .docx loop, heading levels normalised to start at 1."""
    blocks = parse_blocks(markup_or_blocks) if isinstance(markup_or_blocks, str) else markup_or_blocks
    levels = [b.level for b in blocks if b.kind == "heading"]
    top = min(levels) if levels else 1
    out = []
    for b in blocks:
        if b.kind == "table":
            out.extend({"kind": "para", "level": 0, "text": "　".join(r)} for r in b.rows)
        else:
            out.append({"kind": b.kind, "level": b.level - top + 1 if b.kind == "heading" else 0, "text": b.text})
    return out


def render_docx(template: str | Path, context: dict[str, Any]) -> bytes:
    """Render a docxtpl template with a context in the sandboxed environment.

    Raises:
        NarrativeError: the template is missing, or a tag/variable in it is wrong (file, paragraph, culprit).
    """
    path = Path(template)
    tpl = _Template(io.BytesIO(_load(path)))
    try:
        tpl.render(freeze_context(context), jinja_env=docx_env(), autoescape=True)
    except NarrativeError:
        raise
    except Exception as exc:   # Jinja2 errors, sandbox violations, filter errors
        raise _docx_error(exc, tpl, path) from None
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


def _docx_template(narrator: Narrator, name: str) -> Path:
    if narrator.docx_template is not None:
        return narrator.docx_template
    for folder in narrator.search_path:
        candidate = Path(folder) / name
        if candidate.exists():
            return candidate
    return TEMPLATE_DIR / name


def _date_missing(info: dict, project: str = "") -> list[Finding]:
    if info["report_date"]:
        return []
    return [Finding("report_date", "未提供报告日期（其他信息“报告日期”或“自评时间”），"
                                   "Word 报告中已标注“（待补充报告日期）”", project)]


def report_docx(inp: ProjectInput, *, narrator: Narrator | None = None, family: str | None = None,
                region: str | None = None) -> tuple[bytes, Rendered]:
    """The complete 自评报告 of one project as .docx bytes, with the rendered 综述 (and its warnings):
    Hunan's 附件3 (``report.docx``) or, for every other region, ``national.docx``."""
    narrator = narrator or Narrator()
    region = region_of(inp, region)
    summary = narrator.summary(inp, family or hunan_family(inp, region))
    project, info = summary.context["project"], summary.context["info"]
    year = f"{project['year']}年度" if project["year"] and str(project["year"]) not in project["name"] else ""
    title = info["title"] or f"{year}{project['name']}绩效自评报告"
    ctx = dict(summary.context, region=region, region_name=REGIONS[region], title=title, title_lines=title_lines(title),
               summary_blocks=_blocks(nest(summary.markup) if region == "hunan" else summary.markup))
    name = REPORT_DOCX if region == "hunan" else NATIONAL_DOCX
    data = render_docx(_docx_template(narrator, name), ctx)
    summary.warnings.extend(_date_missing(ctx["info"], inp.name))
    return data, summary


def multi_docx(inputs: list[ProjectInput], *, narrator: Narrator | None = None, info: dict | None = None
               ) -> tuple[bytes, dict, list]:
    """The report covering several projects of a unit as .docx bytes; returns (bytes, context, warnings)."""
    narrator = narrator or Narrator()
    ctx, findings = narrator.project_sections(inputs, info)
    year = ctx["unit"]["year"]
    title = ctx["info"]["title"] or (f"{year}年度" if year else "") + "项目支出绩效自评报告"
    ctx = dict(ctx, title=title, title_lines=title_lines(title),
               intro_blocks=_blocks(ctx["intro"]),
               projects_blocks=_blocks("\n".join(p["section"] for p in ctx["projects"])),
               closing_blocks=_blocks(ctx["closing"]))
    text = "\n".join([ctx["intro"], *(p["section"] for p in ctx["projects"]), ctx["closing"]])
    findings = findings + pending_findings(text, findings) + _date_missing(ctx["info"])
    return render_docx(_docx_template(narrator, MULTI_DOCX), ctx), ctx, findings


def write_docx(path: str | Path, data: bytes) -> None:
    """Write a report atomically (temporary file, fsync, rename)."""
    atomic_write_bytes(path, data)


# ----------------------------------------------------------------------------- generated documents

def official_docx(blocks, title: str | None = None, widths: tuple[float, ...] | None = None,
                  flush_left: Container[int] = ()) -> bytes:
    """A Word document in the project report's layout: its page setup (A4, GB/T 9704 margins), styles
    (title, headings, 报告正文, 表格文字) and page-number footer are taken from ``templates/narrative/report.docx``.

    Args:
        blocks: rendered blocks; without ``title`` the first heading is the document's title.
        title: the title, when the blocks start with the first section.
        widths: column widths (mm) of tables with that many columns (others share the text width).
        flush_left: the indexes of the paragraphs (in ``blocks``) set flush left instead of justified: a line
            followed by a run that may not break (a telephone number kept whole) would be spread across the page.
            A paragraph of a section marked ``::: 左对齐`` (``Block.align``) is set flush left too.
    """
    doc = Document(io.BytesIO((TEMPLATE_DIR / REPORT_DOCX).read_bytes()))
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)
    first = title is None
    if title:
        _title(doc, title)
    for k, b in enumerate(blocks):
        if b.kind == "heading" and first:
            _title(doc, b.text)
        elif b.kind == "heading":
            doc.add_paragraph(b.text, style=f"Heading {min(max(b.level - (1 if title is None else 0), 1), 3)}")
        elif b.kind == "table" and b.rows:
            _table(doc, b.rows, widths)
        elif b.text:
            p = doc.add_paragraph(b.text, style="报告正文")
            if k in flush_left or b.align == ALIGN_LEFT:
                p.alignment = WD_ALIGN_PARAGRAPH.LEFT
        first = False
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


#: a title longer than a line of 22-pt characters breaks before these endings (as the cover of report.docx), never
#: inside a word
TITLE_ENDINGS = ("整体支出绩效自评报告", "绩效自评报告", "回收汇总报告", "汇总报告")
TITLE_LINE = 19


def title_lines(text: str) -> list[str]:
    """A title as it is set on lines: broken before its ending when it does not fit on one line."""
    if len(text) <= TITLE_LINE:
        return [text]
    for ending in TITLE_ENDINGS:
        if text.endswith(ending) and len(text) > len(ending):
            return [text[:-len(ending)], ending]
    return [text]


def _title(doc, text: str) -> None:
    title = doc.add_paragraph(style="封面标题")
    title.paragraph_format.space_before, title.paragraph_format.space_after = Pt(12), Pt(18)
    lines = title_lines(text)
    for k, line in enumerate(lines):
        run = title.add_run(line)
        run.font.size = Pt(22)
        if k < len(lines) - 1:
            run.add_break()


def _table(doc, rows: list[list[str]], widths: tuple[float, ...] | None) -> None:
    n = max(len(r) for r in rows)
    widths = list(widths) if widths and n == len(widths) else [150 / n] * n
    t = doc.add_table(rows=len(rows), cols=n)
    t.style = doc.styles["Table Grid"]
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    for c, width in enumerate(widths):
        t.columns[c].width = Mm(width)
    for r, values in enumerate(rows):
        row = t.rows[r]
        for c in range(n):
            cell = row.cells[c]
            cell.width = Mm(widths[c])
            text = values[c] if c < len(values) else ""
            p = cell.paragraphs[0]
            p.style = doc.styles["表格文字"]
            p.paragraph_format.first_line_indent = 0
            p.alignment = WD_ALIGN_PARAGRAPH.LEFT if c == 0 and r else WD_ALIGN_PARAGRAPH.CENTER
            run = p.add_run(text)
            run.bold = r == 0
            if r and c:                               # figures never split across lines
                tcpr = cell._tc.get_or_add_tcPr()
                tcpr.append(OxmlElement("w:noWrap"))
        if r == 0:
            row._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
