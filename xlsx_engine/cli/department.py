"""``jxzp narrative-dept`` and ``jxzp narrative-hnxm``: reports of the 部门整体 and Hunan project forms.

Register in :mod:`xlsx_engine.cli.main` with::

    from xlsx_engine.cli.department import COMMANDS as _dept_commands
    for _command in _dept_commands:
        cli.add_command(_command)

Usage::

    jxzp narrative-dept 部门整体.xlsx                          # 2024 年提纲的部门整体支出绩效自评报告，输出到屏幕
    jxzp narrative-dept 部门整体.yaml --outline 2020 -o 报告.docx  # 2020 年（邵阳）提纲，Word
    jxzp narrative-hnxm 自评报告.xlsx                          # 湖南项目自评报告的“五、评价报告综述”
    jxzp narrative-hnxm 自评报告.xlsx --write-back             # 把综述写入自评报告表的文字区（原文件）

Warnings (待补充 placeholders, table checks, “资金不足”-only problems) go to stderr as ``提示：``;
with ``--strict`` they make the exit code 1. Errors are :class:`~xlsx_engine.errors.JxzpError`
(exit code 2, no file written).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from xlsx_engine.kernel.errors import JxzpError

if TYPE_CHECKING:
    from xlsx_engine.narrative.engine import Narrator

OUTPUT_KINDS = (".docx", ".md", ".txt")


def _info(path: str | None, date: str | None) -> dict:
    from xlsx_engine.kernel.datafile import read_data_file
    from xlsx_engine.kernel.textfilters import FilterError, to_date
    info: dict = {}
    if path:
        data = read_data_file(path)
        info.update(data["其他信息"] if isinstance(data.get("其他信息"), dict) else data)
    if date:
        try:
            info["报告日期"] = to_date(date)
        except FilterError as exc:
            raise JxzpError(str(exc), where="--date") from None
    return info


def _check_output(output: str | None, force: bool) -> Path | None:
    out = Path(output) if output else None
    if out is not None:
        if out.suffix.lower() not in OUTPUT_KINDS:
            raise JxzpError("输出文件应以 .docx、.md 或 .txt 结尾", where=output)
        if out.exists() and not force:
            raise JxzpError("输出文件已存在，未覆盖", where=output, hint="换一个文件名，或加 --force 覆盖")
    return out


def _narrator(template: str | None) -> Narrator:
    from xlsx_engine.narrative.engine import Narrator
    if template and Path(template).suffix.lower() == ".docx":
        raise JxzpError("这两种报告的 Word 文件由程序排版，--template 只接受 .j2 文件或模板文件夹", where=template)
    return Narrator(template)


def _emit(rendered, out: Path | None, title: str) -> None:
    from xlsx_engine.narrative.docx import official_docx
    from xlsx_engine.ooxml.safezip import atomic_write_bytes
    if out is None:
        click.echo(rendered.text(), nl=False)
        return
    suffix = out.suffix.lower()
    data = (official_docx(rendered.blocks, title) if suffix == ".docx" else
            (rendered.markdown() if suffix == ".md" else rendered.text()).encode("utf-8"))
    atomic_write_bytes(out, data)
    click.echo(f"已生成：{out}", err=True)


def finish_warnings(warnings, strict: bool) -> None:
    """Each warning once, as 提示 on stderr; with ``--strict`` any warning ends with exit code 1."""
    texts = [str(w) for w in warnings]
    for w in dict.fromkeys(texts):
        click.echo(f"提示：{w}", err=True)
    if strict and texts:
        sys.exit(1)


@click.command("narrative-dept")
@click.argument("source", metavar="部门整体.xlsx|数据.yaml")
@click.option("--outline", type=click.Choice(["2024", "2020"]), default="2024", show_default=True,
              help="报告提纲：2024（湖南 2024 年，一、部门(单位)基本情况……十、其他需要说明的情况）"
                   "或 2020（邵阳，一、部门概况……五、措施和建议）")
@click.option("-o", "--output", default=None, help="输出文件：.docx、.md 或 .txt；不写则输出到屏幕")
@click.option("--info", "info_file", default=None,
              help="YAML/JSON 文件：报告用的其他信息（主要职能、机构设置、重点工作、存在问题、改进建议……）")
@click.option("--date", default=None, help="报告日期，如 2021-08-26（写在报告末尾）")
@click.option("--template", default=None, help="自定义模板：.j2 文件，或覆盖同名文件的模板文件夹")
@click.option("--force", is_flag=True, help="输出文件已存在时覆盖")
@click.option("--strict", is_flag=True, help="有提示（待补充内容、校验问题）时以退出码 1 结束")
def dept_narrative_command(source, outline, output, info_file, date, template, force, strict) -> None:
    """由部门整体支出绩效自评表（或数据文件）生成部门整体支出绩效自评报告。

    报告中的每个数字都来自整体自评表的计算结果：收支和预决算差异率（预算数为0时写“无法计算”，不写100%）、
    基本支出和项目支出占比（分母为支出决算合计）、“三公”经费、公用经费、各项比率、得分和等次。
    """
    from xlsx_engine.narrative.department import (
        dept_title,
        load_dept_input,
        render_dept_report,
    )
    out = _check_output(output, force)
    narrator = _narrator(template)
    inp = load_dept_input(source, extra=_info(info_file, date))
    rendered = render_dept_report(inp, outline, narrator)
    _emit(rendered, out, dept_title(rendered))
    finish_warnings(rendered.warnings, strict)


@click.command("narrative-hnxm")
@click.argument("source", metavar="自评报告.xlsx|数据.yaml")
@click.option("-o", "--output", default=None, help="输出文件：.docx、.md 或 .txt；不写则输出到屏幕")
@click.option("--write-back", is_flag=True, help="把综述写入自评报告表“五、评价报告综述”的文字区（原 .xlsx 文件）")
@click.option("--keep-existing", is_flag=True, help="与 --write-back 合用：已有文字的小节保留单位填写的内容")
@click.option("--info", "info_file", default=None,
              help="YAML/JSON 文件：报告用的其他信息（资金管理情况、组织实施情况、经验做法、存在问题、改进建议……）")
@click.option("--template", default=None, help="自定义模板：.j2 文件，或覆盖同名文件的模板文件夹")
@click.option("--force", is_flag=True, help="输出文件已存在时覆盖")
@click.option("--strict", is_flag=True, help="有提示（待补充内容、校验问题）时以退出码 1 结束")
def hnxm_narrative_command(source, output, write_back, keep_existing, info_file, template, force, strict) -> None:
    """由湖南财政支出项目绩效评价自评报告表（或数据文件）生成“五、评价报告综述”。

    六个小节同种子 000：项目基本概况；项目资金使用及管理情况；项目组织实施情况；综合评价情况及评价结论；
    项目主要绩效情况分析；主要经验及做法、存在问题和建议。数字只来自表中的计算结果。
    """
    from xlsx_engine.narrative.department import (
        load_hnxm_input,
        render_hnxm_summary,
        summary_sections,
    )
    out = _check_output(output, force)
    if write_back and Path(source).suffix.lower() != ".xlsx":
        raise JxzpError("--write-back 只能写入 .xlsx 自评报告表", where=source)
    narrator = _narrator(template)
    inp = load_hnxm_input(source, extra=_info(info_file, None))
    rendered = render_hnxm_summary(inp, narrator)
    texts = None
    if write_back:       # render and split before writing anything: an error leaves the file as it was
        from xlsx_engine.forms.hunan.layout import hunan_layout
        texts = summary_sections(rendered, hunan_layout(inp.profile.id).row_counts.sections)
    _emit(rendered, out, f"{inp.name}评价报告综述")
    if write_back:
        from xlsx_engine.forms.registry import open_template
        from xlsx_engine.ooxml.safezip import atomic_write_bytes
        tpl = open_template(source)              # the filled workbook is its own template
        record = inp.record
        for sec, text in texts.items():
            if not (keep_existing and isinstance(record.summary.get(sec), str) and record.summary[sec].strip()):
                record.summary[sec] = text
        data, _result = tpl.fill_bytes(record)
        atomic_write_bytes(source, data)
        click.echo(f"已写入综述：{source}", err=True)
    finish_warnings(rendered.warnings, strict)


#: the commands this module adds to ``jxzp``
COMMANDS = (dept_narrative_command, hnxm_narrative_command)
