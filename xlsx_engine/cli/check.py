"""``jxzp check`` and ``jxzp import`` (click commands, registered in :mod:`xlsx_engine.cli.main`).

* ``jxzp check <file.xlsx | folder>... [--json] [--profile P]`` — every finding with its severity, place,
  message and what to do. Exit code 2 when a file cannot be read at all, else 1 when any 错误 was found,
  else 0.
* ``jxzp import <legacy.xlsx> -o data.yaml [--profile P] [--sheet S]`` — read a 项目支出绩效自评表 not made
  by us (found by its labels) into the data file ``jxzp fill`` takes. Exit code 0 when the data file is
  valid for ``fill``, 1 when it was written but ``fill`` would reject it (the problems are listed), 2 when
  nothing could be read.

Both commands can also run on their own: ``python -m xlsx_engine.cli.check check 文件夹``.

The integrity layer (and the form registry under it) is imported inside the commands, so that
``jxzp --help`` and the other commands do not load it.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from xlsx_engine.kernel.errors import DataError, JxzpError, WorkbookError
from xlsx_engine.kernel.findings import ERROR, INFO, WARNING

if TYPE_CHECKING:
    from xlsx_engine.integrity.checks import FileReport


def _summary_line(r: FileReport) -> str:
    from xlsx_engine.integrity.checks import WORD_REPORT, fmt, pct
    s = r.summary
    parts = []
    if r.kind == "本系统模板":
        t = r.template
        parts.append(f"本系统模板 {t.get('模板编号') or '?'} v{t.get('模板版本') or '?'}，评分规则 {r.profile}")
        if "总分" in s:
            rate = f"执行率 {pct(s['执行率']) if s['执行率'] != '—' else '—'}，" if "执行率" in s else ""
            parts.append(f"{rate}总分 {fmt(s['总分'])}，等次 {s.get('评价等次')}")
    elif r.kind in ("外来表格", WORD_REPORT):
        parts.append(f"{r.kind}（按标签读取），" + (f"按规则 {r.profile} 核对" if r.profile else "未找到可核对的自评表"))
        tables = s.get("表格", [s]) if s else []
        for t in tables:
            bits = []
            if "原表总分" in t:
                bits.append(f"原表总分 {fmt(t['原表总分'])}")
            if "重算总分" in t:
                bits.append(f"重算 {fmt(t['重算总分'])}（{t.get('重算等次')}）")
            if bits:
                parts.append(f"{t.get('工作表')}：" + "，".join(bits))
    else:
        parts.append(r.kind or "无法读取")
    return "；".join(parts)


def _totals(reports: list[FileReport]) -> dict[str, int]:
    """The counts both outputs end with (the JSON's 汇总 keys): files checked, entries not read, findings by
    severity, files that could not be read."""
    from xlsx_engine.integrity.checks import NOT_READ, WORD_REPORT
    not_read = sum(1 for r in reports if r.kind == NOT_READ)
    return {"文件数": len(reports) - not_read, "Word 自评报告": sum(1 for r in reports if r.kind == WORD_REPORT),
            "未读取": not_read, "错误": sum(r.count(ERROR) for r in reports),
            "警告": sum(r.count(WARNING) for r in reports), "提示": sum(r.count(INFO) for r in reports),
            "无法读取": sum(1 for r in reports if r.unreadable)}


def _print_text(reports: list[FileReport]) -> None:
    for r in reports:
        click.echo(f"文件：{r.file}（{_summary_line(r)}）")
        if not r.findings:
            click.echo("  未发现问题")
        for f in r.findings:
            click.echo("  " + f.text())
    t = _totals(reports)
    clean = sum(1 for r in reports if not r.findings)
    words = f"（其中 Word 自评报告 {t['Word 自评报告']} 个）" if t["Word 自评报告"] else ""
    click.echo(f"汇总：检查 {t['文件数']} 个文件{words}，其中 {clean} 个未发现问题；错误 {t['错误']} 处，警告 {t['警告']} 处，"
               f"提示 {t['提示']} 处" + (f"；无法读取 {t['无法读取']} 个" if t["无法读取"] else "")
               + (f"；另有 {t['未读取']} 个未读取（临时文件、链接、其他类型的文件等，原因见上）" if t["未读取"] else "")
               + "。")


@click.command("check")
@click.argument("paths", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（UTF-8，中文不转义）")
@click.option("-p", "--profile", default=None, help="要求的评分规则（外来表格按此规则核对，默认 national）")
@click.option("--workers", type=int, default=None, help="并行进程数（默认：24 个文件以上用 2 个）")
def check_command(paths, as_json, profile, workers) -> None:
    """勾稽校验与防篡改：读回自评表或 Word 自评报告（文件或文件夹），列出每一处算错、漏填和改动。

    文件夹：其中的 Excel 自评表和 Word 自评报告（.docx）都检查（与单独检查一个文件相同），
    其他文件（旧版 .doc、PDF 等）和临时文件、链接逐个列为“未读取”并说明原因。

    \b
    退出码：0 未发现错误；1 发现错误；2 有文件无法读取，或没有可检查的文件。
    """
    from xlsx_engine.integrity.checks import check_paths, exit_code
    for p in paths:
        if not Path(p).exists():
            raise JxzpError("找不到文件或文件夹", where=p)
    reports = check_paths(paths, profile, workers, besides=True)
    code = exit_code(reports)
    if as_json:
        out = {"文件": [r.to_dict() for r in reports], "汇总": {**_totals(reports), "退出码": code}}
        click.echo(json.dumps(out, ensure_ascii=False, indent=2, default=str))
    else:
        _print_text(reports)
    if not _totals(reports)["文件数"]:
        raise JxzpError("没有可检查的文件：Excel 自评表（.xlsx/.xlsm/.xls/.et）或 Word 自评报告（.docx）",
                        where="、".join(paths), hint="未读取的文件及原因见上" if reports else "")
    if code:
        sys.exit(code)


@click.command("import")
@click.argument("workbook")
@click.option("-o", "--output", required=True, help="输出的数据文件（.yaml/.yml/.json）")
@click.option("-p", "--profile", default=None, help="评分规则（决定资金来源、一级/二级指标的名称）；默认按表中分值推定")
@click.option("--profile-out", default=None, help="另写出一份与本表分值相符的派生评分规则（.yaml，extends 最接近的规则）")
@click.option("--sheet", default=None, help="工作表名称（工作簿中有多张自评表时）")
@click.option("--force", is_flag=True, help="输出文件已存在时覆盖")
def import_command(workbook, output, profile, profile_out, sheet, force) -> None:
    """读取外来的项目支出绩效自评表（按标签定位，不依赖固定单元格），写成 jxzp fill 使用的数据文件。"""
    import yaml

    from xlsx_engine.forms.project.profile import load_profile
    from xlsx_engine.forms.project.record import record_from_data
    from xlsx_engine.integrity.checks import (
        derived_profile,
        identify,
        infer_profile,
        other_format_tables,
        read_ours,
    )
    from xlsx_engine.integrity.legacy import read_tables, to_data
    from xlsx_engine.integrity.tamper import open_package
    from xlsx_engine.kernel.files import not_returned, own_output
    from xlsx_engine.ooxml.safezip import atomic_write_bytes
    out = Path(output)
    if out.suffix.lower() not in (".yaml", ".yml", ".json"):
        raise JxzpError("输出文件应以 .yaml、.yml 或 .json 结尾", where=output)
    for target in [out] + ([Path(profile_out)] if profile_out else []):
        if target.exists() and not force:
            raise JxzpError("输出文件已存在，未覆盖", where=str(target), hint="换一个文件名，或加 --force 覆盖")
    if profile_out and Path(profile_out).suffix.lower() not in (".yaml", ".yml"):
        raise JxzpError("派生评分规则应以 .yaml 或 .yml 结尾", where=profile_out)
    derived = None
    other = other_format_tables(workbook)
    with contextlib.nullcontext() if other is not None else open_package(workbook) as pkg:
        meta = identify(pkg, lambda *a: None) if pkg is not None else {}
        own = own_output(pkg.custom_properties) if pkg is not None and not meta else None
        if own:               # a 汇总表 has 汇总/按单位 sheets that read like a table with no indicator rows
            raise WorkbookError(not_returned(own) + "，不能导入", where=workbook, hint="请给出单位填报的自评表")
        ours = read_ours(pkg, meta) if meta and profile in (None, meta.get("评分规则")) else None
        if ours is not None:
            data = _data_from_record(*ours)
            tables_note = "本系统模板，按名称读取"
        else:
            tables = other if other is not None else read_tables(pkg)
            if sheet is not None:
                tables = [t for t in tables if t.sheet == sheet]
            if not tables:
                raise WorkbookError("未找到项目支出绩效自评表（没有“一级指标”“三级指标”“全年预算数”等表头）",
                                    where=workbook + (f" 工作表“{sheet}”" if sheet else ""),
                                    hint="请确认文件是项目支出绩效自评表")
            table = tables[0]
            if profile:
                p = load_profile(profile)
            else:
                fit = infer_profile(table)
                p = fit.profile
                click.echo(f"评分规则：{fit.why}")
            if profile_out:
                derived = derived_profile(table, p, Path(profile_out).stem)
            data = to_data(table, p)
            tables_note = f"工作表“{table.sheet}”，指标 {len(table.rows)} 行"
            if len(tables) > 1:
                click.echo(f"提示：工作簿中有 {len(tables)} 张自评表（{'、'.join(t.sheet for t in tables)}），"
                           f"只导入了“{table.sheet}”；其他的请用 --sheet 指定")
            for note in table.notes:
                click.echo(f"提示：{note}")
    p = load_profile(data["评分规则"])
    problems: list[str] = []
    try:
        record_from_data(data, p, source=output)
    except DataError as exc:
        problems = exc.problems or [exc.message]
    if out.suffix.lower() == ".json":
        text = json.dumps(data, ensure_ascii=False, indent=2)
    else:
        head = (f"# 由 jxzp import 从 {Path(workbook).name} 导入（{tables_note}）。\n"
                "# 原表印出的得分、总分和等次在“其他信息.原表”中，供核对；jxzp fill 会按规则重新计算。\n")
        text = head + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=False, width=1000)
    if derived is not None:
        head = (f"# 由 jxzp import 按 {Path(workbook).name} 印出的分值派生（extends: {derived['extends']}）。\n"
                f"# 核对：jxzp check 表.xlsx --profile {profile_out}；生成模板：把本文件放入 templates/profiles/ 后"
                f"运行 jxzp build -p {derived['id']}\n")
        body = head + yaml.safe_dump(derived, allow_unicode=True, sort_keys=False, default_flow_style=False, width=1000)
        atomic_write_bytes(Path(profile_out), body.encode("utf-8"))
        try:
            load_profile(profile_out)
        except JxzpError as exc:
            click.echo(f"注意：派生评分规则 {profile_out} 需要修改：{exc}")
        else:
            click.echo(f"已写出派生评分规则：{profile_out}（extends {derived['extends']}）")
    atomic_write_bytes(out, text.encode("utf-8"))
    n = len(data.get("绩效指标", []))
    click.echo(f"已导入：{output}（评分规则 {p.id}，{tables_note}，写出 {n} 个指标）")
    if problems:
        click.echo(f"注意：数据文件有 {len(problems)} 处需要修改后才能用于 jxzp fill：")
        for item in problems:
            click.echo(f"  - {item}")
        sys.exit(1)


def _data_from_record(layout, rec) -> dict:
    """A workbook made from our template, read back by name, as a data file (round trip)."""
    p = layout.profile

    def plain(v):
        if isinstance(v, float) and v == int(v) and abs(v) < 1e15:
            return int(v)
        return v

    data: dict = {"评分规则": p.id}
    if isinstance(rec.year, float):
        data["年度"] = int(rec.year)
    for key, value in (("项目名称", rec.project), ("主管部门", rec.department), ("实施单位", rec.unit),
                       ("执行率说明", rec.rate_reason)):
        if value not in (None, ""):
            data[key] = plain(value)
    funds = {}
    for line in rec.funds:
        entry = {k: plain(getattr(line, a)) for k, a in (("年初预算数", "initial"), ("全年预算数", "budget"),
                                                          ("全年执行数", "spent")) if getattr(line, a) is not None}
        if entry:
            funds[line.source] = entry
    if funds:
        data["资金"] = funds
    goals = [{"预期目标": plain(g.expected), **({"实际完成情况": plain(g.actual)} if g.actual not in (None, "") else {})}
             for g in rec.goals if g.expected not in (None, "")]
    if goals:
        data["年度总体目标"] = goals
    if p.has_target_block and rec.target_score is not None:
        data["目标自评分"] = plain(rec.target_score)
    items = []
    for r in rec.indicators:
        if all(v in (None, "") for v in (r.name, r.weight, r.target, r.actual)):
            continue
        item = {}
        for key, value in (("一级指标", r.level1), ("二级指标", r.level2), ("三级指标", r.name), ("指标性质", r.op),
                           ("指标值", r.target), ("度量单位", r.unit), ("实际完成值", r.actual), ("完成等级", r.band),
                           ("分值", r.weight), ("自评分", r.manual), ("偏差原因", r.reason)):
            if value not in (None, ""):
                item[key] = plain(value)
        items.append(item)
    if items:
        data["绩效指标"] = items
    return data


def main(argv=None) -> int:
    """Run ``check``/``import`` without the main ``jxzp`` group (same error handling)."""
    import xlsx_engine.cli.main as core
    from xlsx_engine.cli.main import main as jxzp_main
    if "check" not in core.cli.commands:
        core.cli.add_command(check_command)
    if "import" not in core.cli.commands:
        core.cli.add_command(import_command)
    return jxzp_main(argv)


if __name__ == "__main__":
    sys.exit(main())
