"""``jxzp narrative``: the 评价报告综述 and the 自评报告 from filled workbooks (or data files).

Registered in :mod:`xlsx_engine.cli.main` with ``cli.add_command(narrative_command)``.

    jxzp narrative 自评表.xlsx                       # 综述（纯文本）输出到屏幕
    jxzp narrative 自评表.xlsx -o 自评报告.docx       # 完整的 Word 自评报告
    jxzp narrative a.xlsx b.xlsx -o 汇总报告.docx     # 一个单位多个项目的报告（种子 003 样式）
    jxzp narrative 自评表.xlsx -o 综述.md --write-back    # 同时把综述写入工作簿的“综述”工作表
    jxzp narrative 自评表.xlsx --template 我的综述.j2 -o 报告.docx

Warnings (missing reasons, “资金不足”-only problems, table checks) go to stderr as ``提示：``;
with ``--strict`` they make the exit code 1. Errors are :class:`~xlsx_engine.errors.JxzpError`
(exit code 2, no file written).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from xlsx_engine.cli.department import finish_warnings
from xlsx_engine.integrity.folder import shown
from xlsx_engine.kernel.errors import JxzpError

OUTPUT_KINDS = (".docx", ".md", ".txt")


def _info(path: str | None, date: str | None) -> dict:
    from xlsx_engine.kernel.datafile import read_data_file
    from xlsx_engine.kernel.textfilters import FilterError, to_date
    info = {}
    if path:
        data = read_data_file(path)
        info.update(data.get("其他信息", data) if isinstance(data.get("其他信息"), dict) else data)
    if date:
        try:
            info["报告日期"] = to_date(date)
        except FilterError as exc:
            raise JxzpError(str(exc), where="--date") from None
    return info


@click.command("narrative")
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output", default=None,
              help="输出文件：.docx（Word 自评报告）、.md（Markdown）或 .txt（纯文本）；不写则把综述输出到屏幕")
@click.option("--write-back", is_flag=True, help="把综述写入各 .xlsx 自评表的“综述”工作表（原文件，受保护）")
@click.option("--template", default=None,
              help="自定义模板：.j2 文件（替换综述/各项目章节）、.docx（Word 模板）或覆盖同名文件的模板文件夹")
@click.option("--family", default=None, metavar="project|transfer",
              help="综述提纲：project（项目自评报告综述）或 transfer（财政部转移支付口径）；默认取评分规则的 narrative.family")
@click.option("--region", type=click.Choice(["national", "hunan", "hubei", "ningxia"]), default=None,
              help="报告地区（封面与提纲）：hunan 为湖南附件3样式；默认取评分规则的 narrative.region 或其他信息“报告地区”")
@click.option("--info", "info_file", default=None,
              help="YAML/JSON 文件：报告用的其他信息（单位名称、报告日期、评价机构、评价人员、问题、建议……）")
@click.option("--date", default=None,
              help="报告日期，如 2024-03-31（默认取其他信息的“报告日期”或“自评时间”；都没有时报告中标注待补充）")
@click.option("--force", is_flag=True, help="输出文件已存在时覆盖")
@click.option("--strict", is_flag=True, help="有提示（如缺偏差原因）时以退出码 1 结束")
@click.option("--each", "each_dir", default=None, metavar="文件夹",
              help="每个输入各生成一份 Word 自评报告，写入该文件夹（输入可以是回收文件夹：jxzp narrative 回收 --each 报告）；"
                   "项目支出、部门整体、湖南自评报告表各按其报告，内容取自各表的报告信息；同一项目交回多份时只用最新的一份，"
                   "仍是空白的项目表和已有的报告跳过")
@click.option("--master", default=None, metavar="总表.xlsx",
              help="与 --each 同用：下发时的总表；总表预填了全年执行数时，据此认出原样交回的空白表")
def narrative_command(inputs, output, write_back, template, family, region, info_file, date, force,
                      strict, each_dir, master) -> None:
    """由自评表数据生成评价报告综述和自评报告（Word / Markdown / 纯文本）。

    输入为填好的自评表（.xlsx），也可以是数据文件（.yaml/.json，其“其他信息”用于报告）。
    多个输入生成一个单位的多项目报告（汇总表 + 各项目章节）；加 --each 则每个输入各生成一份报告。
    报告中的每个数字都来自评分结果。
    """
    if each_dir is not None:
        _each(inputs, Path(each_dir), template, force, strict, output, write_back, info_file, date, master)
        return
    if master:
        raise JxzpError("--master 只与 --each 同用", where="--master",
                        hint="jxzp narrative 回收文件夹 --each 报告文件夹 --master 总表.xlsx")
    from xlsx_engine.narrative.docx import multi_docx, report_docx
    from xlsx_engine.narrative.engine import FAMILIES, Narrator, NotProjectForm, load_input
    from xlsx_engine.ooxml.safezip import atomic_write_bytes
    from xlsx_engine.ooxml.writeback import write_back as do_write_back

    if family is not None and family not in FAMILIES:
        raise JxzpError(f"未知的报告类型“{family}”", where="--family", hint="可用：" + "、".join(sorted(FAMILIES)))
    out = Path(output) if output else None
    if out is not None:
        if out.suffix.lower() not in OUTPUT_KINDS:
            raise JxzpError("输出文件应以 .docx、.md 或 .txt 结尾", where=output)
        if out.exists() and not force:
            raise JxzpError("输出文件已存在，未覆盖", where=output, hint="换一个文件名，或加 --force 覆盖")
    if template and Path(template).suffix.lower() == ".docx" and (out is None or out.suffix.lower() != ".docx"):
        raise JxzpError("Word 模板（.docx）只用于 .docx 输出", where=template, hint="用 -o 报告.docx 指定输出")
    if write_back:
        for path in inputs:
            if Path(path).suffix.lower() != ".xlsx":
                raise JxzpError("--write-back 只能写入 .xlsx 自评表", where=path)
    info = _info(info_file, date)
    multi = len(inputs) > 1
    project_extra = {} if multi else info
    narrator = Narrator(template)
    try:
        projects = [load_input(path, extra=project_extra) for path in inputs]
    except NotProjectForm:
        # one 部门整体 / 湖南 workbook to a Word report: its own report, as --each writes it
        if multi or out is None or out.suffix.lower() != ".docx" or write_back or family or region or info:
            raise
        from xlsx_engine.narrative.batch import report_of
        data, found = report_of(Path(inputs[0]), narrator, skip_blank=False)     # asked for: a draft too
        atomic_write_bytes(out, data)
        click.echo(f"已生成：{out}", err=True)
        finish_warnings(found, strict)
        return

    warnings: list[str] = []
    data: bytes | None = None
    text = ""
    if multi:
        if out is not None and out.suffix.lower() == ".docx":
            data, _ctx, findings = multi_docx(projects, narrator=narrator, info=info)
        else:
            rendered = narrator.multi_report(projects, info)
            findings = rendered.warnings
            text = rendered.markdown() if out is not None and out.suffix.lower() == ".md" else rendered.text()
    else:
        inp = projects[0]
        if out is not None and out.suffix.lower() == ".docx":
            data, rendered = report_docx(inp, narrator=narrator, family=family, region=region)
        elif out is not None:
            rendered = narrator.report(inp, family, region)
            text = rendered.markdown() if out.suffix.lower() == ".md" else rendered.text()
        else:
            rendered = narrator.summary(inp, family)
            text = rendered.text()
        findings = rendered.warnings
    warnings += [str(f) for f in findings]

    summaries = {}
    if write_back:           # render every summary before writing anything: an error leaves all files as they were
        for inp in projects:
            summaries[inp.source] = (inp, narrator.summary(inp, family))
    if out is None:
        click.echo(text, nl=False)
    else:
        atomic_write_bytes(out, data if data is not None else text.encode("utf-8"))
        click.echo(f"已生成：{out}（{len(projects)}个项目）", err=True)
    for inp, summary in summaries.values():
        do_write_back(inp.path, summary.blocks, subtitle=inp.name)
        click.echo(f"已写入综述工作表：{inp.path}", err=True)
    finish_warnings(warnings, strict)


def _each(inputs, folder: Path, template, force, strict, output, write_back, info_file, date, master) -> None:
    """``--each``: one report per input into ``folder``; a file that fails is listed and the others go on."""
    import contextlib

    from tqdm import tqdm

    from xlsx_engine.bureau.output import check_writable
    from xlsx_engine.bureau.bulk import cpu_count
    from xlsx_engine.narrative.batch import SUFFIX, plan, report_names, write_reports
    from xlsx_engine.narrative.engine import Narrator

    if output or write_back or info_file:
        raise JxzpError("--each 不能与 -o、--write-back、--info 同用", where="--each",
                        hint="--each 为每个输入各写一份报告，报告信息取自各表的“报告信息”（报告日期可用 --date 统一给出）")
    if template and Path(template).suffix.lower() != ".docx" and not Path(template).is_dir():
        raise JxzpError("--each 的 --template 应为 .docx 或模板文件夹", where=template)
    if folder.exists() and not folder.is_dir():
        raise JxzpError("--each 应为文件夹，现为文件", where=str(folder), hint="换一个文件夹名")
    extra = _info(None, date)                     # a bad --date is said before anything is written
    if master and not Path(master).is_file():
        raise JxzpError("找不到总表", where=master, hint="--master 应为下发时用的总表（.xlsx）")
    made = not folder.exists()
    check_writable(folder / "报告.docx")           # creates the folder, or says in Chinese why it cannot
    try:
        with tqdm(unit="个", desc="回收", disable=not sys.stderr.isatty(), leave=False) as bar:
            tasks, decided = plan(list(inputs), master, cpu_count(), bar.update)   # folders: as collect decides
        if not tasks and all(o.listed for o in decided):      # nothing but links, lock files, hidden files
            for o in decided:
                click.echo(f"跳过：{shown(o.source)}：{o.skipped}", err=True)
            raise JxzpError("没有找到要生成报告的自评表（.xlsx）", where="、".join(inputs))
    except JxzpError:
        if made and not any(folder.iterdir()):     # nothing written: leave no empty folder behind
            folder.rmdir()
        raise
    with contextlib.ExitStack() as stack:
        sent_spent = None
        if master and any(t.findings is None for t in tasks):    # files named one by one: the master's 执行数
            from xlsx_engine.bureau.collect import SentProjects
            sent = SentProjects(master)
            stack.callback(sent.close)
            sent_spent = lambda code: s.spent_cells if (s := sent.get(code)) is not None else ()  # noqa: E731
        with tqdm(total=len(tasks), unit="份", desc="报告", disable=not sys.stderr.isatty(), leave=False) as bar:
            outcomes = decided + write_reports(tasks, folder, Narrator(template), force=force, progress=bar.update,
                                               extra=extra, sent_spent=sent_spent)
    passed = [o for o in outcomes if o.skipped]        # outputs of this program, blank forms, older copies
    current = set(report_names([t.source for t in tasks]).values())     # this run's reports, written or kept
    for o in passed:                                   # a report an earlier run wrote from it is now out of date
        stale = folder / f"{o.source.stem}{SUFFIX}"
        if stale.name not in current and stale.is_file():
            o.skipped += f"；报告文件夹中先前由它生成的“{stale.name}”已不适用，可删除"
    kept = [o for o in outcomes if o.kept]             # reports of an earlier run
    failed = [o for o in outcomes if o.output is None and not o.skipped and not o.kept]
    warned = [o for o in outcomes if o.output is not None and o.warnings]
    skipped = [(o.source, o.skipped) for o in passed]
    for o in outcomes:
        if o.skipped:
            click.echo(f"跳过：{shown(o.source)}：{o.skipped}", err=True)
        elif o.kept:                   # counted below: a rerun lists only what it did, and what may be out of date
            if o.warnings:
                click.echo(f"提示：{shown(o.source)}：{o.warnings[0]}", err=True)
        elif o.output is None:         # names and texts from the files, shown escaped (control characters, bytes)
            click.echo(f"错误：{shown(o.error)}", err=True)
        elif o.warnings:
            click.echo(f"提示：{shown(o.source)}：{len(o.warnings)} 处待补充或需核对（如：{shown(o.warnings[0])}）",
                       err=True)
    written = len(outcomes) - len(failed) - len(passed) - len(kept)
    click.echo(f"完成：生成 {written} 份报告，{len(failed)} 个文件未能生成"
               f"{f'，{len(warned)} 份有待补充的内容' if warned else ''}"
               f"{f'，{len(kept)} 份报告已存在、未重新生成（加 --force 重新生成）' if kept else ''}"
               f"{f'，跳过 {len(skipped)} 个文件（原因见上）' if skipped else ''}。输出：{folder}", err=True)
    if failed or (strict and warned):
        sys.exit(1)
