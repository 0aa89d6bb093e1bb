"""Generate the bureau-editable Word templates ``report.docx`` and ``multi.docx`` (docxtpl syntax).

Run from the project folder after changing the layout below::

    PYTHONPATH=. python3 templates/narrative/make_docx_template.py

The generated files are committed; a finance bureau may then edit them directly in
Word or WPS (wording, fonts, letterhead, cover) as long as the ``{{ … }}`` / ``{%p … %}`` /
``{%tr … %}`` tags stay intact. The variables are those of the text templates (see
README.md); ``summary_blocks`` (and ``intro_blocks`` / ``projects_blocks`` /
``closing_blocks`` in ``multi.docx``) hold the rendered 综述 as a list of
``{kind, level, text}`` paragraphs.

Layout follows GB/T 9704 (公文格式): A4, margins 37/35/28/26 mm, body 仿宋_GB2312 三号 with a
28 pt line pitch, headings 黑体 / 楷体_GB2312, tables 宋体 五号. Fonts missing on a machine fall
back through the font table's alternative names (仿宋_GB2312 → 仿宋 → 宋体).
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from lxml import etree

HERE = Path(__file__).resolve().parent

BODY_FONT, HEI, KAI, SONG, TITLE_FONT = "仿宋_GB2312", "黑体", "楷体_GB2312", "宋体", "方正小标宋简体"
#: font -> alternative names written into the font table (Word/WPS use them when the font is missing)
ALT_NAMES = {"仿宋_GB2312": "仿宋", "楷体_GB2312": "楷体", "方正小标宋简体": "宋体", "黑体": "SimHei", "宋体": "SimSun"}


def set_font(target, east_asia: str, size: float | None = None, bold: bool | None = None,
             latin: str = "Times New Roman") -> None:
    """Set the Latin and East-Asian font of a style or run (python-docx only sets the Latin one)."""
    font = target.font
    font.name = latin
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    font.color.rgb = RGBColor(0, 0, 0)
    rpr = target.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), latin)
    fonts.set(qn("w:eastAsia"), east_asia)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)


def paragraph_style(doc, name: str, font: str, size: float, *, bold: bool = False, align=None,
                    indent_chars: float = 0, line: float | None = 28, before: float = 0, after: float = 0,
                    base: str | None = None, outline: int | None = None):
    styles = doc.styles
    style = styles[name] if name in [s.name for s in styles] else styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    if base:
        style.base_style = styles[base]
    set_font(style, font, size, bold)
    fmt = style.paragraph_format
    if align is not None:
        fmt.alignment = align
    fmt.first_line_indent = Pt(size * indent_chars) if indent_chars else Pt(0)
    fmt.space_before, fmt.space_after = Pt(before), Pt(after)
    if line:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(line)
    else:
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    fmt.widow_control = True
    if outline is not None:
        ppr = style.element.get_or_add_pPr()
        lvl = ppr.find(qn("w:outlineLvl"))
        if lvl is None:
            lvl = OxmlElement("w:outlineLvl")
            ppr.append(lvl)
        lvl.set(qn("w:val"), str(outline))
    return style


def setup(doc) -> None:
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin = Mm(37), Mm(35), Mm(28), Mm(26)
    sec.header_distance, sec.footer_distance = Mm(15), Mm(20)
    paragraph_style(doc, "Normal", BODY_FONT, 16, indent_chars=2, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    paragraph_style(doc, "Title", TITLE_FONT, 22, align=WD_ALIGN_PARAGRAPH.CENTER, line=None, before=24, after=24,
                    base="Normal")
    paragraph_style(doc, "Heading 1", HEI, 16, line=28, before=6, after=0, base="Normal", outline=0)
    paragraph_style(doc, "Heading 2", KAI, 16, line=28, base="Normal", outline=1)
    paragraph_style(doc, "Heading 3", BODY_FONT, 16, bold=True, line=28, base="Normal", outline=2)
    paragraph_style(doc, "Heading 4", BODY_FONT, 16, line=28, base="Normal", outline=3)
    paragraph_style(doc, "报告正文", BODY_FONT, 16, indent_chars=2, base="Normal", align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    paragraph_style(doc, "封面标题", TITLE_FONT, 26, align=WD_ALIGN_PARAGRAPH.CENTER, line=None, before=60,
                    after=48, base="Normal")
    paragraph_style(doc, "封面项目", BODY_FONT, 16, line=36, base="Normal")
    paragraph_style(doc, "封面落款", BODY_FONT, 16, align=WD_ALIGN_PARAGRAPH.CENTER, line=None, before=96,
                    base="Normal")
    # exactly 12 pt: rows as tall in Word as in LibreOffice whatever the CJK font's own line height (with the Chinese
    # glyph metrics a single-spaced row grew and the appended 自评表 ran onto a second page)
    paragraph_style(doc, "表格文字", SONG, 10, line=12, base="Normal", align=WD_ALIGN_PARAGRAPH.CENTER)
    paragraph_style(doc, "表格标题", HEI, 14, align=WD_ALIGN_PARAGRAPH.CENTER, line=None, before=6, after=6,
                    base="Normal")
    for name in ("Heading 1", "Heading 2", "Heading 3", "Heading 4", "Title"):
        style = doc.styles[name]
        style.font.italic = False
        style.paragraph_format.keep_with_next = True
    # python-docx's Title has a blue rule (bottom border, accent 1) under it; GB/T 9704 titles have none
    borders = doc.styles["Title"].element.pPr.find(qn("w:pBdr"))
    if borders is not None:
        borders.getparent().remove(borders)
    # the document is Chinese: Word and LibreOffice pick Chinese glyph variants and proofing by these
    # (python-docx's default declares East-Asian text en-US and the theme's East-Asian fonts ja-JP)
    lang = doc.styles.element.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:lang')}")
    lang.set(qn("w:eastAsia"), "zh-CN")
    doc.settings.element.find(qn("w:themeFontLang")).set(qn("w:eastAsia"), "zh-CN")
    # page number in the footer: — 1 —
    footer = sec.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.style = doc.styles["表格文字"]
    footer.add_run("— ")
    _field(footer, "PAGE")
    footer.add_run(" —")


def _field(paragraph, code: str) -> None:
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, code), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = f" {text} "
        run._r.append(el)


def para(doc, text: str = "", style: str = "报告正文"):
    return doc.add_paragraph(text, style=style)


def tag(doc, text: str):
    """A paragraph holding only a docxtpl ``{%p … %}`` tag (removed when rendered)."""
    return doc.add_paragraph(text, style="报告正文")


def new_page(paragraph):
    """Start ``paragraph`` on a new page (no empty break paragraph that could leave a blank page)."""
    paragraph.paragraph_format.page_break_before = True
    return paragraph


def _cell_text(cell, text: str, *, bold: bool = False, align=WD_ALIGN_PARAGRAPH.CENTER) -> None:
    cell.text = ""
    p = cell.paragraphs[0]
    p.style = "表格文字"
    p.alignment = align
    run = p.add_run(text)
    run.bold = bold


def table(doc, rows: list[list[str]], widths_mm: list[float], *, header_rows: int = 1, left_cols: tuple = (),
          keep_last: int = 0):
    """A bordered table; ``rows`` may contain docxtpl ``{%tr … %}`` rows (one cell holding the tag). The last
    ``keep_last`` rows are kept on one page with the row before them (keep with next), so a total never stands
    alone at the top of a page."""
    t = doc.add_table(rows=len(rows), cols=len(widths_mm))
    t.style = doc.styles["Table Grid"]
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    for c, width in enumerate(widths_mm):
        t.columns[c].width = Mm(width)
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), "45")          # 45 twips ≈ 0.8 mm: four characters fit a 17 mm column
        el.set(qn("w:type"), "dxa")
        margins.append(el)
    look = t._tbl.tblPr.find(qn("w:tblLook"))      # schema order: tblCellMar comes before tblLook
    if look is not None:
        look.addprevious(margins)
    else:
        t._tbl.tblPr.append(margins)
    for r, values in enumerate(rows):
        row = t.rows[r]
        for c, width in enumerate(widths_mm):
            cell = row.cells[c]
            cell.width = Mm(width)
            text = values[c] if c < len(values) else ""
            left = c in left_cols and r >= header_rows and not text.startswith("{%tr")
            _cell_text(cell, text, bold=r < header_rows,
                       align=WD_ALIGN_PARAGRAPH.LEFT if left else WD_ALIGN_PARAGRAPH.CENTER)
            if keep_last and len(rows) - 1 - keep_last <= r < len(rows) - 1:
                for paragraph in cell.paragraphs:
                    paragraph.paragraph_format.keep_with_next = True
        trpr = row._tr.get_or_add_trPr()
        trpr.append(OxmlElement("w:cantSplit"))   # a row moves to the next page whole (schema: before tblHeader)
        if r < header_rows:
            trpr.append(OxmlElement("w:tblHeader"))
    return t


def blocks(doc, var: str, top: int = 2) -> None:
    """The loop that prints rendered text blocks with heading styles (docxtpl paragraph tags);
    the text's first heading level gets style ``Heading <top>``."""
    tag(doc, f"{{%p for b in {var} %}}")
    tag(doc, '{%p if b.kind == "heading" and b.level == 1 %}')
    para(doc, "{{ b.text }}", f"Heading {top}")
    tag(doc, '{%p elif b.kind == "heading" and b.level == 2 %}')
    para(doc, "{{ b.text }}", f"Heading {top + 1}")
    tag(doc, '{%p elif b.kind == "heading" %}')
    para(doc, "{{ b.text }}", f"Heading {top + 2}")
    tag(doc, "{%p else %}")
    para(doc, "{{ b.text }}", "报告正文")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p endfor %}")


def fund_table(doc, fund: str = "fund") -> None:
    table(doc, [
        ["资金来源", "年初预算数（万元）", f"{{{{ {fund}.base }}}}（万元）", "全年执行数（万元）", "结余（万元）",
         "执行率"],
        ["年度资金总额", f"{{{{ {fund}.initial | amount(fixed=True) }}}}",
         f'{{{{ {fund}.budget | amount(fixed=True, empty="待填报") }}}}',
         f'{{{{ {fund}.spent | amount(fixed=True, empty="待填报") }}}}', f"{{{{ {fund}.balance | amount(fixed=True) }}}}",
         f'{{{{ {fund}.rate | pct(fixed=True, empty="—") }}}}'],
        [f"{{%tr for s in {fund}.sources %}}"],
        ['{% if loop.first %}其中：{% endif %}{{ s.name }}', '{{ s.initial | amount(fixed=True, empty="") }}',
         '{{ s.budget | amount(fixed=True, empty="") }}', '{{ s.spent | amount(fixed=True, empty="") }}',
         "{{ s.balance | amount(fixed=True) }}", '{{ s.rate | pct(fixed=True, empty="—") }}'],
        ["{%tr endfor %}"],
    ], [34, 25, 25, 25, 22, 25], left_cols=(0,))


def self_table(doc, p: str = "") -> None:
    """The 自评表 (indicators, fund, target block, total) as a Word table; ``p`` prefixes variables (``p.``)."""
    table(doc, [
        ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施"],
        [f"{{%tr for i in {p}indicators %}}"],
        ["{{ i.level1 }}", "{{ i.level2 }}", "{{ i.name }}", "{{ i.target_text }}", "{{ i.actual_text }}",
         "{{ i.weight | num }}", "{{ i.score | num }}",
         '{{ i.reason or ("（待补充）" if i.reason_needed else "") }}'],
        ["{%tr endfor %}"],
        ["绩效指标合计", "", "", "", "", f"{{{{ {p}result.weight_sum | num }}}}",
         f"{{{{ {p}result.indicator_score | num }}}}", ""],
        [f"{{{{ {p}fund.label }}}}{{% if not {p}fund.in_total %}}（单列，不计入总分）{{% endif %}}", "", "", "执行率",
         f'{{{{ {p}fund.rate | pct(fixed=True, empty="—") }}}}', f"{{{{ {p}fund.weight | num }}}}",
         f"{{{{ {p}fund.score | num }}}}", f'{{{{ {p}fund.reason or "" }}}}'],
        [f"{{%tr if {p}target_block %}}"],
        [f"{{{{ {p}target_block.label }}}}", "", "", "", "", f"{{{{ {p}target_block.weight | num }}}}",
         f"{{{{ {p}target_block.score | num }}}}", ""],
        ["{%tr endif %}"],
        ["总分", "", "", "", "", f"{{{{ {p}result.total_weight | num }}}}", f"{{{{ {p}result.total | num }}}}",
         f"评价等次：{{{{ {p}result.grade }}}}"],
    ], [17, 19, 29, 18, 18, 10, 14, 31], left_cols=(2, 7), keep_last=5)   # 得分 holds “待填报” on one line;
    # the 合计, 预算执行率 and 总分 rows (and the 目标 block's tags between them) stay together


def build_report() -> Document:
    doc = Document()
    setup(doc)
    # --- cover (seed 000)
    para(doc, '{{ info.title or "财政支出项目绩效评价自评报告" }}', "封面标题")
    para(doc, '评价类型：项目实施过程评价{{ "☑" if info.eval_type == "项目实施过程评价" else "□" }}　　'
              '项目完成结果评价{{ "☑" if info.eval_type == "项目完成结果评价" else "□" }}', "封面项目")
    for label, value in (("项目名称", "{{ project.name }}"), ("项目单位", "{{ project.unit or '' }}"),
                         ("主管部门", "{{ project.department or '' }}"), ("评价方式", "{{ info.eval_method }}"),
                         ("评价机构", "{{ info.eval_agency }}"), ("报告日期", '{{ info.report_date | cndate if info.report_date else "（待补充报告日期）" }}')):
        para(doc, f"{label}：{value}", "封面项目")
    para(doc, "{{ info.bureau }}（制）", "封面落款")
    # --- 一、项目基本概况
    new_page(para(doc, "一、项目基本概况", "Heading 1"))
    table(doc, [["项目负责人", "{{ info.leader or '' }}", "联系电话", "{{ info.phone or '' }}"],
                ["项目地址", "{{ info.address or '' }}", "邮编", "{{ info.postcode or '' }}"],
                ["项目起止时间", "{{ info.period or '' }}", "", ""]],
          [34, 56, 30, 36], header_rows=0, left_cols=(1, 3))
    para(doc, "项目资金情况（单位：万元）", "表格标题")
    fund_table(doc)
    # --- 二、项目支出明细情况
    para(doc, "二、项目支出明细情况", "Heading 1")
    table(doc, [["支出内容", "实际支出数（万元）", "会计凭证号", "备注"],
                ["{%tr for e in expense_rows %}"],
                ["{{ e.item }}", "{{ e.amount | amount(fixed=True) }}", "{{ e.voucher }}", "{{ e.note }}"],
                ["{%tr endfor %}"],
                ["支出合计", '{{ fund.spent | amount(fixed=True, empty="待填报") }}', "", ""]],
          [60, 36, 36, 24], left_cols=(0,))
    # --- 三、项目绩效自评情况
    para(doc, "三、项目绩效自评情况", "Heading 1")
    para(doc, "（一）年度总体目标完成情况", "Heading 2")
    table(doc, [["预期目标", "实际完成情况"], ["{%tr for g in goals %}"],
                ['{{ g.expected }}', '{{ g.actual or "（待补充实际完成情况）" }}'], ["{%tr endfor %}"]],
          [78, 78], left_cols=(0, 1))
    para(doc, "（二）绩效指标完成情况（自评表）", "Heading 2")
    self_table(doc)
    para(doc, "（三）综合得分及评价等次", "Heading 2")
    para(doc, "绩效自评综合得分：{{ result.total | points }}；评价等次：{{ result.grade }}。")
    # --- 四、评价人员
    para(doc, "四、评价人员", "Heading 1")
    table(doc, [["姓名", "职称/职务", "单位", "签字"], ["{%tr for e in evaluator_rows %}"],
                ["{{ e.name }}", "{{ e.title }}", "{{ e.unit }}", ""], ["{%tr endfor %}"]],
          [30, 36, 60, 30])
    para(doc, "填报人（签名）：{{ info.filler or '' }}　　　　联系电话：{{ info.filler_phone or '' }}")
    # --- 五、评价报告综述
    new_page(para(doc, "五、评价报告综述（文字部分）", "Heading 1"))
    blocks(doc, "summary_blocks")
    return doc


def build_national() -> Document:
    """One project outside Hunan: a cover, the 综述 as the report's own sections, the 自评表 as 附件
    (财预〔2020〕10号附件2 样式: year, project, 主管部门, 实施单位, funds, goals, indicators, 单位盖章)."""
    doc = Document()
    setup(doc)
    # the cover breaks a long title before its ending, never inside a word (title_lines: narrative.docx.title_lines)
    para(doc, "{{ title_lines[0] }}", "封面标题")
    para(doc, '{{ title_lines[1] if title_lines|length > 1 else "" }}', "封面标题")
    para(doc, "{{ project.unit or '（待补充实施单位）' }}", "封面落款")
    para(doc, '{{ info.report_date | cndate if info.report_date else "（待补充报告日期）" }}', "封面落款")
    # the title over the text breaks as the cover's (a line break before its ending), never inside a word
    new_page(para(doc, '{{ title_lines | join("\\n") }}', "Title"))
    blocks(doc, "summary_blocks", top=1)
    new_page(para(doc, "附件", "Heading 4"))
    para(doc, "项目支出绩效自评表", "表格标题")
    para(doc, "（{{ project.year or '' }}年度）", "表格标题")
    table(doc, [["项目名称", "{{ project.name }}"], ["主管部门", "{{ project.department or '（待补充主管部门）' }}"],
                ["实施单位", "{{ project.unit or '（待补充实施单位）' }}"]],
          [40, 116], header_rows=0, left_cols=(1,))
    para(doc, "项目资金情况（单位：万元）", "表格文字")
    fund_table(doc)
    para(doc, "", "表格文字")
    table(doc, [["序号", "年度总体目标（预期目标）", "实际完成情况"], ["{%tr for g in goals %}"],
                ["{{ loop.index }}", "{{ g.expected }}", '{{ g.actual or "（待补充实际完成情况）" }}'],
                ["{%tr endfor %}"]],
          [14, 71, 71], left_cols=(1, 2))
    para(doc, "", "表格文字")
    self_table(doc)
    para(doc, "", "表格文字")
    para(doc, "填报单位（盖章）：{{ project.unit or '' }}", "表格文字").alignment = WD_ALIGN_PARAGRAPH.LEFT
    para(doc, '填报日期：{{ info.report_date | cndate if info.report_date else "（待补充报告日期）" }}',
         "表格文字").alignment = WD_ALIGN_PARAGRAPH.LEFT
    return doc


def build_multi() -> Document:
    doc = Document()
    setup(doc)
    para(doc, '{{ title_lines | join("\\n") }}', "Title")
    para(doc, "一、绩效自评工作开展情况", "Heading 1")
    blocks(doc, "intro_blocks")
    para(doc, "二、本报告包含项目的自评结果", "Heading 1")
    table(doc, [["序号", "项目名称", "预算数（万元）", "全年执行数（万元）", "得分", "自评等级"],
                ["{%tr for p in projects %}"],
                ["{{ loop.index }}", "{{ p.project.name }}", '{{ p.fund.budget | amount(fixed=True, empty="待填报") }}',
                 '{{ p.fund.spent | amount(fixed=True, empty="待填报") }}', "{{ p.result.total | num }}", "{{ p.result.grade }}"],
                ["{%tr endfor %}"],
                ["合计", "", '{{ totals.budget | amount(fixed=True, empty="待填报") }}', '{{ totals.spent | amount(fixed=True, empty="待填报") }}',
                 "—", "—"]],
          [14, 62, 24, 24, 16, 16], left_cols=(1,))
    para(doc, "三、各项目自评情况", "Heading 1")
    blocks(doc, "projects_blocks")
    para(doc, "四、绩效自评工作的经验、问题和建议", "Heading 1")
    blocks(doc, "closing_blocks")
    para(doc, "{{ unit.name or '' }}", "封面落款")
    para(doc, '{{ info.report_date | cndate if info.report_date else "（待补充报告日期）" }}', "表格标题")
    tag(doc, "{%p for p in projects %}")
    new_page(para(doc, "附件{{ loop.index }}", "Heading 4"))
    para(doc, "{{ p.project.name }}项目支出绩效自评表", "表格标题")
    para(doc, "自评得分：{{ p.result.total | points }}；自评等次：{{ p.result.grade }}", "表格文字")
    fund_table(doc, "p.fund")
    para(doc, "", "表格文字")
    self_table(doc, "p.")
    tag(doc, "{%p endfor %}")
    return doc


def _font_table(data: bytes) -> bytes:
    """Add the fonts we use, with alternative names, to word/fontTable.xml."""
    text = data.decode("utf-8")
    entries = "".join(
        f'<w:font w:name="{name}"><w:altName w:val="{alt}"/><w:charset w:val="86"/>'
        f'<w:family w:val="auto"/><w:pitch w:val="variable"/></w:font>'
        for name, alt in ALT_NAMES.items() if f'w:name="{name}"' not in text)
    return text.replace("</w:fonts>", entries + "</w:fonts>").encode("utf-8")


_DROP = ("word/stylesWithEffects.xml", "docProps/thumbnail.jpeg", "customXml/")
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _used_styles(parts: list[bytes]) -> set[str]:
    used = set()
    for data in parts:
        used.update(re.findall(rb'<w:(?:pStyle|rStyle|tblStyle) w:val="([^"]+)"', data))
    return {u.decode() for u in used}


def _prune_styles(styles_xml: bytes, used: set[str]) -> bytes:
    """Keep the styles in use (with their basedOn/next/link chains) and the defaults; drop the rest."""
    root = etree.fromstring(styles_xml)
    by_id = {st.get(f"{{{W}}}styleId"): st for st in root.findall(f"{{{W}}}style")}
    keep = set(used) | {sid for sid, st in by_id.items() if st.get(f"{{{W}}}default") == "1"}
    todo = list(keep)
    while todo:
        st = by_id.get(todo.pop())
        if st is None:
            continue
        for tag in ("basedOn", "next", "link"):
            ref = st.find(f"{{{W}}}{tag}")
            if ref is not None and ref.get(f"{{{W}}}val") not in keep:
                keep.add(ref.get(f"{{{W}}}val"))
                todo.append(ref.get(f"{{{W}}}val"))
    for sid, st in by_id.items():
        if sid not in keep:
            root.remove(st)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def save(doc, path: Path) -> None:
    """Save a lean, reproducible template: fixed timestamps, unused styles and thumbnails dropped,
    font table extended with alternative names."""
    import datetime as dt
    buf = io.BytesIO()
    doc.core_properties.author = "jxzp"
    doc.core_properties.title = "绩效自评报告模板"
    doc.core_properties.last_modified_by = "jxzp"
    fixed = dt.datetime(2024, 1, 1)
    doc.core_properties.created = doc.core_properties.modified = fixed
    doc.core_properties.revision = 1
    doc.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    names = [n for n in src.namelist() if not n.startswith(_DROP)]
    used = _used_styles([src.read(n) for n in names if n.startswith("word/") and n.endswith(".xml")])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in names:
            data = src.read(name)
            if name == "word/fontTable.xml":
                data = _font_table(data)
            elif name == "word/styles.xml":
                data = _prune_styles(data, used)
            elif name.endswith(".rels") or name == "[Content_Types].xml":
                text = data.decode("utf-8")
                for drop in ("stylesWithEffects.xml", "thumbnail.jpeg", "customXml/"):
                    text = re.sub(r"<(Relationship|Override)\b[^>]*" + re.escape(drop) + r'[^"]*"[^>]*/>', "", text)
                data = text.encode("utf-8")
            zi = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(zi, data)
    path.write_bytes(out.getvalue())


def main(outdir: str | Path = HERE) -> list[Path]:
    outdir = Path(outdir)
    paths = []
    for name, builder in (("report.docx", build_report), ("national.docx", build_national),
                          ("multi.docx", build_multi)):
        path = outdir / name
        save(builder(), path)
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in main(sys.argv[1] if len(sys.argv) > 1 else HERE):
        print(f"已生成 Word 模板：{p}")
