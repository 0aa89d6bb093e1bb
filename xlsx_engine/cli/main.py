"""The ``jxzp`` command line (click). Messages are in Chinese; errors never show a traceback.

Exit codes: 0 success; 1 findings (e.g. the workbook's cached values disagree with
the scorer); 2 bad input (file, field, template); 3 internal error.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import sys
from pathlib import Path

import click

from xlsx_engine import __version__
from xlsx_engine.integrity.folder import shown
from xlsx_engine.kernel.errors import JxzpError, os_reason
from xlsx_engine.kernel.xlmath import is_number, without_decimals, xtext


def _fmt(value) -> str:
    if value is None:
        return "（空）"
    if is_number(value):
        if without_decimals(value):
            return xtext(value)
        return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return str(value)


def _pct(value) -> str:
    if is_number(value) and not math.isfinite(value):
        return xtext(value)
    return f"{value * 100:.2f}%" if is_number(value) else str(value) or "待填报"


#: Packages above the command line (the add-in) register their command groups as entry points of this
#: group (setup.cfg), so the core never imports them.
PLUGIN_GROUP = "jxzp.commands"


class _Cli(click.Group):
    """``jxzp``'s group. Plugins are looked up (importlib.metadata, ~30 ms) only when the command line names a
    command that is not built in, or when every command is listed (``--help``)."""

    plugins_loaded = False

    def load_plugins(self) -> None:
        if self.plugins_loaded:
            return
        self.plugins_loaded = True
        from importlib.metadata import entry_points
        try:
            found = entry_points(group=PLUGIN_GROUP)
        except TypeError:  # Python < 3.10
            found = entry_points().get(PLUGIN_GROUP, [])
        for ep in found:
            if ep.name in self.commands:
                continue
            try:
                self.add_command(ep.load(), ep.name)
            except ImportError:  # pragma: no cover - a plugin whose package is not installed
                continue

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and not self.plugins_loaded:
            self.load_plugins()
            command = super().get_command(ctx, cmd_name)
        if command is not None:
            _help_in_chinese(command, ctx)
        return command

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP_OPTION
        return option

    def list_commands(self, ctx: click.Context) -> list[str]:
        self.load_plugins()
        return super().list_commands(ctx)


#: the text of every command's -h/--help option (click's own is English)
HELP_OPTION = "显示本帮助并退出"


def _help_in_chinese(command: click.Command, ctx: click.Context) -> None:
    """Say what -h/--help does in Chinese, on a command and the commands of a group under it."""
    option = command.get_help_option(ctx)
    if option is not None:
        option.help = HELP_OPTION
    for sub in getattr(command, "commands", {}).values():
        _help_in_chinese(sub, ctx)


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="jxzp", help="显示版本号并退出")
def cli() -> None:
    """绩效自评 Excel 引擎：生成锁定模板、填报、读回评分。

    \b
    常用命令：
      jxzp demo                     用示例数据生成模板和填好的自评表
      jxzp build                    重新生成 templates/ 中的模板
      jxzp fill 模板 数据.yaml -o 输出.xlsx
      jxzp score 自评表.xlsx        读回并复核评分
      jxzp check 自评表或文件夹      勾稽校验与防篡改检查
      jxzp import 外来表.xlsx -o 数据.yaml   读取非本系统生成的自评表
      jxzp names 模板               列出模板的名称（命名区域）
      jxzp narrative 自评表.xlsx -o 自评报告.docx   生成评价报告综述 / Word 自评报告
      jxzp master new / bulk / collect           总表、批量下发、回收汇总
      jxzp review 回收 --deadline 日期 -o 考核评分表.xlsx   自评工作考核评分
    """


@cli.command()
@click.option("-o", "--outdir", default=None, help="输出文件夹（默认 templates/）")
@click.option("-p", "--profile", "profiles", multiple=True, help="只生成指定评分规则的模板，可重复")
def build(outdir, profiles) -> None:
    """按评分规则和版式声明生成锁定模板（.xlsx，无宏）。"""
    from xlsx_engine.forms.registry import build_all, forms
    from xlsx_engine.kernel.errors import TemplateError
    from xlsx_engine.ooxml.builder import TEMPLATE_DIR
    known = [pid for form in forms() for pid in form.profile_ids()]
    for pid in profiles:
        if pid not in known:
            path_like = "/" in pid or "\\" in pid or pid.lower().endswith((".yaml", ".yml"))
            raise TemplateError(
                (f"-p 只接受评分规则编号，不接受文件路径“{pid}”" if path_like else f"没有评分规则“{pid}”"),
                hint="可用：" + "、".join(known) + ("；自定义规则请放入 templates/profiles/ 后按编号生成"
                                                   if path_like else ""))
    paths = build_all(outdir or TEMPLATE_DIR, list(profiles) or None)
    for path in paths:
        click.echo(f"已生成模板：{path}")


@cli.command()
def profiles() -> None:
    """列出可用的评分规则。"""
    from xlsx_engine.forms.project.profile import list_profiles, load_profile
    for pid in list_profiles():
        p = load_profile(pid)
        click.echo(f"{pid:20s} {p.name}")


@cli.command()
@click.argument("template")
@click.argument("data")
@click.option("-o", "--output", required=True, help="输出的 .xlsx 文件")
@click.option("--force", is_flag=True, help="输出文件已存在时覆盖")
def fill(template, data, output, force) -> None:
    """用数据文件（YAML/JSON）填写模板，写出带计算结果的自评表。"""
    out = Path(output)
    if out.suffix.lower() != ".xlsx":
        raise JxzpError("输出文件应以 .xlsx 结尾", where=output)
    if out.exists() and not force:
        raise JxzpError("输出文件已存在，未覆盖", where=output, hint="换一个文件名，或加 --force 覆盖")
    from xlsx_engine.forms.registry import form_for, open_template
    from xlsx_engine.narrative.department import complete_record
    tpl = open_template(template)
    record = complete_record(form_for(tpl.layout.template_id).load_data(data, tpl.profile), tpl.profile)
    result = tpl.fill_to(record, out)
    if hasattr(result, "fund"):
        _print_summary(out, result)
        from xlsx_engine.kernel.statements import project_findings
        contradictions = project_findings(getattr(record, "stated", {}) or {}, result)
    else:
        click.echo(f"已生成：{out}\n  总分 {_fmt(result.total)}，评价等次 {result.grade}")
        for text in result.problems:
            click.echo(f"  提示：{text}")
        from xlsx_engine.forms.department.model import DeptRecord, statement_findings
        contradictions = statement_findings(record, result) if isinstance(record, DeptRecord) else []
    for text in contradictions:
        click.echo(f"  报告与表格不一致：{text}")


def _print_summary(path: Path, result) -> None:
    click.echo(f"已生成：{path}")
    click.echo(f"  执行率 {_pct(result.fund.rate)}，资金得分 {_fmt(result.fund.score) or '待填报'}，"
               f"总分 {_fmt(result.total)}，评价等次 {result.grade}")
    for text in result.problems:
        click.echo(f"  提示：{text}")
    for i, row in enumerate(result.indicators, 1):
        if row.message:
            click.echo(f"  第{i}行指标：{row.message}")


@cli.command()
@click.argument("workbook")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def score(workbook, as_json) -> None:
    """读回自评表（与 check、collect 同一读法），用 Python 重新评分并与工作簿中的缓存值对照。"""
    from xlsx_engine.forms.registry import form_of_layout
    from xlsx_engine.integrity.reading import read_form_file
    rb = read_form_file(workbook)
    RESULT_NAMES = form_of_layout(rb.layout).result_names
    if not RESULT_NAMES:
        _score_form(rb, workbook, as_json)
        return
    result = rb.evaluate()
    rows = []
    mismatches = 0
    for name, get in RESULT_NAMES.items():
        mine, theirs = get(result), rb.cached.get(name)
        same = _same(mine, theirs)
        mismatches += not same
        rows.append({"名称": name, "程序计算": mine, "工作簿": theirs, "一致": same})
    indicators = []
    for i, (rec, res, cached) in enumerate(zip(rb.record.indicators, result.indicators, rb.cached["得分"]), 1):
        if res.score == "" and not res.message:
            continue
        same = _same(res.score, cached)
        mismatches += not same
        indicators.append({"行": i, "三级指标": rec.name, "分值": rec.weight, "程序得分": res.score,
                           "工作簿得分": cached, "一致": same, "提示": res.message})
    if as_json:
        click.echo(json.dumps({"文件": shown(workbook), "评分规则": rb.layout.profile.id,
                               "模板编号": rb.meta.get("模板编号"), "模板版本": rb.meta.get("模板版本"),
                               "结果": rows, "指标": indicators, "校验提示": result.problems,
                               "不一致": mismatches, "错误": rb.errors}, ensure_ascii=False, indent=2))
    else:
        click.echo(f"文件：{shown(workbook)}（评分规则 {rb.layout.profile.id}，模板 {rb.meta.get('模板编号')} "
                   f"v{rb.meta.get('模板版本')}）")
        click.echo(f"{'名称':<8}\t{'程序计算':>10}\t{'工作簿':>10}\t一致")
        for row in rows:
            fmt = _pct if row["名称"] == "执行率" else _fmt
            click.echo(f"{row['名称']:<8}\t{fmt(row['程序计算']):>10}\t{fmt(row['工作簿']):>10}\t"
                       f"{'✓' if row['一致'] else '✗ 不一致'}")
        for ind in indicators:
            mark = "✓" if ind["一致"] else "✗ 不一致"
            click.echo(f"  第{ind['行']}行 {ind['三级指标'] or ''}：分值 {_fmt(ind['分值'])}，"
                       f"得分 {_fmt(ind['程序得分'])}（工作簿 {_fmt(ind['工作簿得分'])}）{mark}"
                       + (f"　{ind['提示']}" if ind["提示"] else ""))
        for text in result.problems:
            click.echo(f"提示：{text}")
        if mismatches:
            click.echo(f"发现 {mismatches} 处工作簿缓存值与程序计算不一致（可能被改动或未重算）。")
        _inconsistent(rb)
    if mismatches or rb.errors:
        sys.exit(1)


def _inconsistent(rb) -> None:
    """Say so when the workbook is internally inconsistent: the numbers above are read the documented way."""
    if rb.errors:
        click.echo(f"注意：本表有 {rb.errors} 处错误（如 {rb.report.findings[0].message[:60]}），以上按模板规定的位置读数，"
                   "与 jxzp check、jxzp collect 一致；详情请运行 jxzp check。")


def _score_form(rb, workbook: str, as_json: bool) -> None:
    """``score`` for the forms other than 项目支出 (部门整体, 湖南项目报告): every named formula result."""
    from xlsx_engine.ooxml.cells import parse_name_ref
    rec, result = rb.layout.evaluate(rb.record)
    python = rb.layout.formula_values(result, rec)
    rows = []
    for name, theirs in rb.cached.items():
        mine = python[parse_name_ref(rb.layout.names[name]).a1]
        rows.append({"名称": name, "程序计算": mine, "工作簿": theirs, "一致": _same(mine, theirs)})
    mismatches = sum(1 for r in rows if not r["一致"])
    if as_json:
        click.echo(json.dumps({"文件": shown(workbook), "评分规则": rb.layout.profile.id,
                               "模板编号": rb.meta.get("模板编号"), "模板版本": rb.meta.get("模板版本"),
                               "结果": rows, "指标": [], "校验提示": result.problems, "不一致": mismatches,
                               "错误": rb.errors}, ensure_ascii=False, indent=2))
    else:
        click.echo(f"文件：{shown(workbook)}（{rb.layout.form.title}，评分规则 {rb.layout.profile.id}）")
        for r in rows:
            fmt = _pct if r["名称"].startswith("比率_") else _fmt
            click.echo(f"{r['名称']:<10}\t{fmt(r['程序计算']):>10}\t{fmt(r['工作簿']):>10}\t"
                       f"{'✓' if r['一致'] else '✗ 不一致'}")
        for text in result.problems:
            click.echo(f"提示：{text}")
        if mismatches:
            click.echo(f"发现 {mismatches} 处工作簿缓存值与程序计算不一致（可能被改动或未重算）。")
        _inconsistent(rb)
    if mismatches or rb.errors:
        sys.exit(1)


def _same(a, b) -> bool:
    if is_number(a) and is_number(b):
        return abs(a - b) < 0.005
    return (a if a not in (None, "") else "") == (b if b not in (None, "") else "")


@cli.command()
@click.argument("template")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def names(template, as_json) -> None:
    """列出模板（或自评表）中的名称及其引用位置。"""
    from xlsx_engine.ooxml.reader import open_workbook
    wb = open_workbook(template)
    items = [{"名称": n, "引用": wb.raw_names[n]} for n in wb.raw_names if not n.startswith("_xlnm")]
    if as_json:
        click.echo(json.dumps({"文件": shown(template), "标识": wb.meta, "名称": items}, ensure_ascii=False, indent=2))
        return
    click.echo(f"文件：{shown(template)}")
    for key, value in wb.meta.items():
        click.echo(f"  {key}：{value}")
    for item in items:
        click.echo(f"{item['名称']:<12}\t{item['引用']}")


@cli.group()
def master() -> None:
    """总表（主工作簿）：单位、项目、资金、指标、目标。"""


@master.command("new")
@click.option("-o", "--output", required=True, help="输出的总表 .xlsx")
@click.option("--force", is_flag=True, help="文件已存在时覆盖")
def master_new(output, force) -> None:
    """生成一张空白总表（含表头、下拉列表和数据验证）。"""
    from xlsx_engine.bureau.master import write_master
    if Path(output).exists() and not force:
        raise JxzpError("文件已存在，未覆盖", where=output, hint="换一个文件名，或加 --force 覆盖")
    write_master(output)
    click.echo(f"已生成空白总表：{output}（格式说明见 README“总表”一节）")


def narrative_hook(narrative: bool, docx: bool):
    """bulk's ``after_write`` hook for ``--narrative`` / ``--docx`` (None when neither is asked for).

    A :func:`functools.partial` of a module-level function with two booleans, so it pickles by reference
    and runs in bulk's worker processes (``--jobs``); the narrative layer is imported there, on first use.
    """
    if not (narrative or docx):
        return None
    return functools.partial(_narrative_after_write, narrative=narrative, docx=docx)


def _narrative_after_write(written, *, narrative: bool, docx: bool) -> None:
    """Write the 评价报告综述 into the 综述 sheet of a workbook bulk has just written, and/or the Word 自评报告
    beside it (same name, .docx)."""
    from xlsx_engine.narrative.docx import report_docx
    from xlsx_engine.narrative.engine import Narrator, from_record
    from xlsx_engine.ooxml.safezip import atomic_write_bytes
    from xlsx_engine.ooxml.writeback import write_back
    narrator = Narrator()
    inp = from_record(written.record, written.profile, extra={"单位名称": written.identity["单位名称"]})
    if narrative:
        write_back(written.path, narrator.summary(inp).blocks)
    if docx:
        report, _ = report_docx(inp, narrator=narrator)
        atomic_write_bytes(written.path.with_suffix(".docx"), report)


@cli.command("bulk")
@click.argument("master_file", metavar="总表.xlsx")
@click.option("-o", "--outdir", required=True, help="输出文件夹")
@click.option("--by", type=click.Choice(["project", "unit"]), default="project", show_default=True,
              help="project：全部文件放在一个文件夹；unit：每个单位一个文件夹")
@click.option("--jobs", "-j", type=int, default=1, show_default=True, help="并行进程数（0 = CPU 核数）")
@click.option("--force", is_flag=True, help="覆盖生成后被修改过的文件")
@click.option("--narrative", is_flag=True, help="同时把评价报告综述写入每张自评表的“综述”工作表")
@click.option("--docx", is_flag=True, help="同时在每张自评表旁生成 Word 自评报告")
def bulk_command(master_file, outdir, by, jobs, force, narrative, docx) -> None:
    """按总表批量生成每个项目的锁定自评表（下发或重新生成）。"""
    from tqdm import tqdm

    from xlsx_engine.bureau.bulk import bulk, cpu_count
    from xlsx_engine.bureau.master import Master
    jobs = cpu_count() if jobs == 0 else max(1, jobs)
    with Master(master_file, stream_indicators=jobs > 1) as master, tqdm(total=len(master), unit="个", desc="生成自评表",
                                             disable=not sys.stderr.isatty(), leave=False) as bar:
        report = bulk(master, outdir, by=by, jobs=jobs, force=force, progress=bar.update,
                      after_write=narrative_hook(narrative, docx))
    for item in report.items:
        if item.status == "refused":
            click.echo(f"未覆盖：{item.message}", err=True)
        elif item.status == "overwritten":
            click.echo(f"已覆盖：{outdir}/{item.message}", err=True)
        elif item.status == "repaired":
            click.echo(f"提示：{outdir}/{item.message}", err=True)
    for text in report.errors:
        click.echo(f"错误：{text}", err=True)
    n = len(report.items)
    rate = n / report.seconds if report.seconds else 0
    click.echo(f"完成：{report.count('written')} 个新生成或已更新，{report.count('unchanged')} 个内容未变，"
               f"{report.count('refused')} 个因被修改而未覆盖，"
               + (f"{report.count('overwritten')} 个生成后被修改而按 --force 覆盖，" if report.count("overwritten") else "")
               + (f"{report.count('repaired')} 个上次中断未写完整而重新生成，" if report.count("repaired") else "")
               + f"{len(report.errors)} 个出错；"
               f"用时 {report.seconds:.1f} 秒（{rate:.0f} 个/秒）。输出：{outdir}")
    if report.errors or report.count("refused"):
        sys.exit(1)


@cli.command("collect", short_help="回收：读取交回的自评表，对照下发清单给出状态，写出汇总表和催报清单。")
@click.argument("folder", metavar="文件夹")
@click.option("-o", "--output", required=True, help="输出的汇总表 .xlsx")
@click.option("--master", "master_file", default=None, metavar="总表.xlsx",
              help="下发时用的总表：列出未交回的项目、核对下发内容是否被改动、催报清单带联系人")
@click.option("--manifest", default=None, help="批量下发的清单（默认：文件夹中的 .jxzp-bulk.json）")
@click.option("--reminders", default=None, help="催报清单文件（.csv 或 .xlsx，默认：汇总表旁的“…_催报清单.csv”）")
@click.option("--jobs", "-j", type=int, default=0, show_default=True, help="并行进程数（0 = CPU 核数）")
@click.option("--force", is_flag=True, help="输出文件已存在时覆盖")
@click.option("--json", "as_json", is_flag=True, help="另以 JSON 输出汇总结果")
@click.option("--report", default=None, help="同时生成回收汇总报告（.docx、.md 或 .txt）")
@click.option("--archive", "archive_db", default=None, metavar="档案.sqlite",
              help="同时存入年度档案（jxzp archive / jxzp compare 使用）")
@click.option("--year", type=int, default=None, help="存入档案时的评价年度（默认取各自评表中的“年度”）")
@click.option("--round", "round_name", default="回收", show_default=True, help="存入档案时的回收批次名称")
def collect_command(folder, output, master_file, manifest, reminders, jobs, force, as_json, report, archive_db, year,
                    round_name) -> None:
    """回收：读取文件夹中所有交回的自评表，对照下发清单逐项目给出状态，校验、重新评分，写出汇总表（含催报清单、问题清单和图表）。"""
    from tqdm import tqdm

    from xlsx_engine.bureau.bulk import cpu_count
    from xlsx_engine.bureau.collect import collect, summarise
    from xlsx_engine.bureau.output import check_writable
    from xlsx_engine.bureau.summary import counts_text, follow_up, write_reminders, write_summary
    out = Path(output)
    if out.suffix.lower() != ".xlsx":
        raise JxzpError("汇总表应以 .xlsx 结尾", where=output)
    remind = Path(reminders) if reminders else out.with_name(f"{out.stem}_催报清单.csv")
    if remind.suffix.lower() not in (".csv", ".xlsx"):
        raise JxzpError("催报清单应以 .csv 或 .xlsx 结尾", where=str(remind))
    if report and Path(report).suffix.lower() not in (".docx", ".md", ".txt"):
        raise JxzpError("汇总报告应以 .docx、.md 或 .txt 结尾", where=report)
    for path, what in ((out, "汇总表"), (Path(report) if report else None, "汇总报告"), (remind, "催报清单")):
        if path is not None and path.exists() and not force:
            raise JxzpError(f"{what}已存在，未覆盖", where=str(path), hint="换一个文件名，或加 --force 覆盖")
    for path in (out, remind, Path(report) if report else None):
        if path is not None:
            check_writable(path)                # before the collection, not after it
    jobs = cpu_count() if jobs == 0 else max(1, jobs)
    folder_path = Path(folder)
    with tqdm(total=0, unit="个", desc="回收", disable=not sys.stderr.isatty(), leave=False) as bar:

        def listed(total: int) -> None:       # the folder is walked once, by collect: the total comes from there
            bar.total = total
            bar.refresh()

        coll = collect(folder_path, master=master_file, manifest=manifest, jobs=jobs, progress=bar.update,
                       keep_inputs=bool(archive_db), listed=listed)
    write_summary(coll, out)
    write_reminders(coll, remind)
    if report:
        from xlsx_engine.narrative.collection import write_collection_report
        write_collection_report(coll, report)
    archived = None
    if archive_db:
        from xlsx_engine.bureau.archive import Archive
        from xlsx_engine.bureau.archive_import import submissions_from_collection
        subs, problems = submissions_from_collection(coll, year)
        by_year: dict[int, list] = {}
        for sub in subs:
            by_year.setdefault(sub.year, []).append(sub)
        with Archive(archive_db) as archive:
            counts = [archive.record(y, round_name, items, source=str(folder_path)) for y, items in by_year.items()]
        archived = (sum(a for a, _ in counts), sum(k for _, k in counts), problems)
    s = summarise(coll)
    if archived:
        s["档案"] = {"文件": shown(archive_db), "新记录": archived[0], "已在档案中": archived[1], "未存入": archived[2]}
    if as_json:
        s["项目"] = [{"单位": r.unit, "项目编码": r.code, "项目名称": r.project, "状态": r.status, "文件": r.path,
                    "交回时间": r.submitted_text, "总分": r.total if r.filled else None,
                    "等次": r.grade if r.filled else None, "错误": r.count("错误"), "警告": r.count("警告")}
                   for r in coll.rows]
        s["未采用文件"] = [{"文件": u.path, "原因": u.error or u.note} for u in coll.unused]
        click.echo(json.dumps(s, ensure_ascii=False, indent=2))
    else:
        click.echo(f"已汇总 {len(coll.rows)} 个项目：{counts_text(coll)}；等次（计入汇总 {s['计入汇总']} 个）："
                   + "，".join(f"{k} {v}" for k, v in s["等次"].items())
                   + f"；发现错误 {s['错误']} 项、警告 {s['警告']} 项。汇总表：{shown(out)}；催报清单：{shown(remind)}"
                   + (f"；汇总报告：{shown(report)}" if report else ""))
        for u in coll.unused:
            click.echo(f"  {'无法读取' if u.error else '未采用'}：{u.path}：{u.error or u.note}", err=True)
        if coll.reports or coll.others:
            click.echo(f"提示：文件夹中另有 {len(coll.reports)} 个 Word 报告（.docx）、{len(coll.others)} 个其他文件，回收汇总只读 Excel "
                       "自评表，未读取它们；Word 自评报告可用 jxzp check 文件夹 核对", err=True)
        if not master_file:
            click.echo("提示：没有给出 --master 总表，未核对下发的内容（指标值、分值等）是否被单位改动，也列不出未交回的项目；"
                       "加 --master 总表.xlsx 可核对", err=True)
        chase = sum(1 for r in coll.rows if follow_up(r))          # the 催报清单's own rule
        if chase:
            click.echo(f"下一步：{chase} 个项目需要催报或更正，把催报清单（{shown(remind)}）发给有关单位；"
                       "每个问题见汇总表的“问题清单”工作表", err=True)
        if archived:
            click.echo(f"年度档案：{archive_db}，新记录 {archived[0]} 条，已在档案中 {archived[1]} 条")
            for text in archived[2]:
                click.echo(f"  未存入档案：{text}", err=True)


@cli.command(short_help="主流程演示：生成模板，填好示例自评表和 Word 报告，批量下发 200 个项目再回收汇总。")
@click.option("-o", "--outdir", default="output", show_default=True, help="输出文件夹")
def demo(outdir) -> None:
    """主流程演示：生成全部模板；用 examples/ 的示例数据填好自评表并生成 Word 自评报告；由示例总表批量生成
    200 个项目的自评表，再回收、校验、汇总。"""
    from xlsx_engine.bureau.bulk import bulk
    from xlsx_engine.bureau.collect import collect
    from xlsx_engine.bureau.summary import counts_text, write_reminders, write_summary
    from xlsx_engine.forms.registry import build_all, form_for_profile, open_template
    from xlsx_engine.kernel.datafile import read_data_file
    from xlsx_engine.kernel.resources import examples_dir
    from xlsx_engine.narrative.department import complete_record
    from xlsx_engine.narrative.docx import report_docx, write_docx
    from xlsx_engine.narrative.engine import from_record
    from xlsx_engine.ooxml.builder import template_filename

    out = Path(outdir)
    tdir = out / "templates"
    paths = build_all(tdir)
    click.echo(f"模板：{len(paths)} 个 → {tdir}（" + "、".join(p.name for p in paths) + "）")
    examples = sorted(examples_dir().glob("*.yaml"))
    if not examples:
        raise JxzpError("没有找到示例数据", where="examples/")
    for ex in examples:
        pid = read_data_file(ex).get("评分规则") or "national"
        form = form_for_profile(pid)
        tpl = open_template(tdir / template_filename(form.layout(pid)))
        record = complete_record(form.load_data(ex, tpl.profile), tpl.profile)
        target = out / f"{ex.stem}.xlsx"
        result = tpl.fill_to(record, target)
        line = f"自评表：{target}　{form.title}，评分规则 {pid}，"
        if hasattr(result, "fund"):
            line += f"执行率 {_pct(result.fund.rate)}，"
        click.echo(line + f"总分 {_fmt(result.total)}，等次 {result.grade}"
                   + (f"，提示 {len(result.problems)} 条" if result.problems else ""))
        if hasattr(result, "fund"):          # the project form's Word 自评报告
            docx, _ = report_docx(from_record(record, tpl.profile))
            write_docx(target.with_suffix(".docx"), docx)
            click.echo(f"　　Word 自评报告：{target.with_suffix('.docx')}")
    master_file = examples_dir() / "总表示例.xlsx"
    sent = out / "批量生成"
    report = bulk(master_file, sent, by="unit", template_dir=tdir)
    grades: dict[str, int] = {}
    for item in report.items:
        key = (item.grade or "出错") if item.filled else "待单位填报"
        grades[key] = grades.get(key, 0) + 1
    click.echo(f"批量生成：由示例总表 {master_file.name} 生成 {len(report.items)} 个项目的自评表，"
               f"用时 {report.seconds:.1f} 秒 → {sent}（" + "，".join(f"{k} {v}" for k, v in sorted(grades.items())) + "）")
    for text in report.errors:
        click.echo(f"  错误：{text}", err=True)
    coll = collect(sent, master=master_file, jobs=2)
    summary = out / "汇总表.xlsx"
    write_summary(coll, summary)
    write_reminders(coll, out / "催报清单.csv")
    done = coll.filled
    click.echo(f"回收汇总：{counts_text(coll)} → {summary}（催报清单：{out / '催报清单.csv'}）；已填写的 {len(done)} 张（有错误、已填报、已通过）中"
               f"发现错误 {sum(i.count('错误') for i in done)} 项、警告 {sum(i.count('警告') for i in done)} 项")


from xlsx_engine.cli.archive import COMMANDS as _archive_commands  # noqa: E402
from xlsx_engine.cli.check import check_command, import_command  # noqa: E402
from xlsx_engine.cli.department import COMMANDS as _department_commands  # noqa: E402
from xlsx_engine.cli.narrative import narrative_command  # noqa: E402  (commands in their own modules, registered here)
from xlsx_engine.cli.review import review_command  # noqa: E402

cli.add_command(narrative_command)
cli.add_command(review_command)
cli.add_command(check_command)
cli.add_command(import_command)
for _command in [*_department_commands, *_archive_commands]:
    cli.add_command(_command)



_USAGE_ZH = [
    (re.compile(r"^Missing argument '(.+)'\.$"), r"缺少参数 \1。"),
    (re.compile(r"^Missing option '(.+)'\.$"), r"缺少选项 \1。"),
    (re.compile(r"^No such command '(.+)'\.$"), r"没有命令 \1。"),
    (re.compile(r"^No such option:? '?([^'\s]+)'?\.?(?: Did you mean .*)?$"), r"没有选项 \1。"),
    (re.compile(r"^Option '(.+)' requires an argument\.$"), r"选项 \1 需要一个值。"),
    (re.compile(r"^Got unexpected extra arguments? \((.+)\)$"), r"多余的参数：\1。"),
    (re.compile(r"^Invalid value for '(.+?)': '(.+?)' is not one of (.+)\.$", re.S), r"选项 \1 的取值“\2”无效，应为：\3。"),
    (re.compile(r"^Invalid value for '(.+?)': (.+)$", re.S), r"选项 \1 的取值无效：\2"),
]


def usage_zh(message: str) -> str:
    """Click's usage errors, in Chinese where we know them (the original text otherwise)."""
    message = message.replace("' / '", "/")          # "'--jobs' / '-j'" -> "'--jobs/-j'"
    message = re.sub(r"'([^']*)' is not a valid (integer|float)\.", r"“\1”不是有效的数字。", message)
    for pattern, repl in _USAGE_ZH:
        if pattern.match(message):
            return pattern.sub(repl, message)
    return message


def main(argv=None) -> int:
    """Entry point of the ``jxzp`` console script."""
    return run(cli, argv, "jxzp")


def run(group: click.Group, argv=None, prog_name: str = "jxzp") -> int:
    """Run a click group the way users must see it: Chinese messages, exit codes, no traceback.

    Returns:
        0 success; the error's exit code (2 for bad input); 130 when cancelled; 3 for an internal error.
    """
    for stream in (sys.stdout, sys.stderr):      # a name with undecodable bytes never makes the output invalid UTF-8
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError, OSError):
            pass
    try:
        group.main(args=argv, prog_name=prog_name, standalone_mode=False)
        return 0
    except JxzpError as exc:
        click.echo(f"错误：{exc}", err=True)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("已取消。", err=True)
        return 130
    except click.UsageError as exc:
        click.echo(f"用法错误：{usage_zh(exc.format_message())}\n运行 {prog_name} --help 查看用法。", err=True)
        return 2
    except SystemExit as exc:
        return int(exc.code or 0)
    except KeyboardInterrupt:
        click.echo("已中断。", err=True)
        return 130
    except OSError as exc:    # the machine said no (a folder where a file goes, no permission, a full disk)
        if os.environ.get("JXZP_DEBUG"):
            raise
        name = exc.filename2 or exc.filename        # a rename: the place it was going to (not the temporary file)
        click.echo(f"错误：{shown(name) + '：' if name else ''}{os_reason(exc)}"
                   "（请检查文件和文件夹的路径、权限与磁盘空间；原有文件未被改动）", err=True)
        return 2
    except Exception as exc:  # a bug: short message, traceback only on request
        if os.environ.get("JXZP_DEBUG"):
            raise
        click.echo(f"内部错误：{type(exc).__name__}: {exc}\n请设置环境变量 JXZP_DEBUG=1 重试并把输出反馈给开发者。",
                   err=True)
        return 3


if __name__ == "__main__":
    sys.exit(main())
