"""``jxzp review``: the 自评工作考核评分表 — the finance bureau scores each unit's self-evaluation work.

To be registered in :mod:`xlsx_engine.cli.main` with ``cli.add_command(review_command)``.

    jxzp review 回收 --deadline 2024-03-31 -o 考核评分表.xlsx
    jxzp review 回收 --deadline 2024-03-31 --submissions 提交记录.xlsx -o 考核评分表.xlsx
    jxzp review 回收 --deadline 2024-03-31 --master 总表.xlsx -o 考核评分表.xlsx
    jxzp review 回收 --deadline 2024-03-31 --holiday 2024-04-04 --workday 2024-04-07 -o 考核评分表.xlsx --json

Automatic items (报送时间, 报告完整性, 权重, 细化到三级, “资金不足”类问题和建议) are computed from the
collection folder; the reviewer fills the judgement items in the yellow cells of the workbook.
Notes (files that could not be read or assigned to a unit) go to stderr as ``提示：``.
Errors are :class:`~xlsx_engine.errors.JxzpError` (exit code 2, no file written).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from xlsx_engine.integrity.folder import shown
from xlsx_engine.kernel.errors import JxzpError


def _num(v) -> str:
    return f"{v:g}" if isinstance(v, (int, float)) else str(v)


@click.command("review")
@click.argument("folder", metavar="回收文件夹")
@click.option("--deadline", required=True, help="报送截止日期，如 2024-03-31")
@click.option("--submissions", default=None,
              help="提交记录（.xlsx 或 .csv）：单位名称、提交日期、存在问题、改进建议，以及可预填的评审项（列名见考核规则）")
@click.option("--master", "master_file", default=None, metavar="总表.xlsx",
              help="下发时用的总表：总表中的每个单位都列一行，未交回任何文件的按未报送评分；"
                   "交回的自评表是否空白（待填报）也对照下发的内容判断")
@click.option("--rubric", default=None,
              help="考核规则：templates/profiles/review/ 中的编号，或 YAML 文件路径；"
                   "默认按回收自评表所属地区选用（没有该地区的规则时用 review-yueyang 并注明）")
@click.option("--holiday", "holidays", multiple=True, help="另计的法定节假日，如 2024-04-04（可重复）")
@click.option("--workday", "workdays", multiple=True, help="另计的调休上班日，如 2024-04-07（可重复）")
@click.option("-o", "--output", required=True, help="输出的考核评分表 .xlsx")
@click.option("--force", is_flag=True, help="输出文件已存在时覆盖")
@click.option("--json", "as_json", is_flag=True, help="另以 JSON 输出每个单位的自动评分结果")
def review_command(folder, deadline, submissions, master_file, rubric, holidays, workdays, output, force,
                   as_json) -> None:
    """自评工作考核评分表：按考核规则给各单位的绩效自评工作打分（每个单位一行）。

    程序根据回收文件夹中的自评表、自评报告和附件计算可自动判定的项目（报送是否按时、报告正文和附件是否齐全、
    自评表权重是否符合规程、指标是否细化到三级、问题和建议是否只写“资金不足”“加大资金投入”）；
    其余项目由评审人员在工作簿的黄色单元格中填写，得分、总分和等次由公式实时计算。
    """
    from xlsx_engine.bureau.review import part_score, review, write_review
    from xlsx_engine.bureau.review.assess import FILE_TIME_HINT, FILE_TIME_WARNING

    out = Path(output)
    if out.suffix.lower() != ".xlsx":
        raise JxzpError("考核评分表应以 .xlsx 结尾", where=output)
    if out.exists() and not force:
        raise JxzpError("考核评分表已存在，未覆盖", where=output, hint="换一个文件名，或加 --force 覆盖")
    run = review(folder, deadline=deadline, submissions=submissions, rubric=rubric, holidays=holidays,
                 workdays=workdays, master=master_file)
    write_review(run, out)
    rub = run.rubric
    auto_parts = [p for p in rub.parts if p.rule == "automatic"]
    auto_max = sum(p.points for p in auto_parts)
    if as_json:
        click.echo(json.dumps({
            "考核评分表": str(out), "考核规则": rub.id, "报送截止日期": run.deadline.isoformat(),
            "单位": [{"单位名称": u.unit,
                    "提交日期": u.submitted.isoformat() if u.submitted else None,
                    "日期来源": u.submitted_source or None,
                    "自动项": {c_name: u.values.get(key) for key, c_name in _auto_columns(rub)},
                    "得分": {i.name: u.result[f"item:{i.key}"] for i in rub.items},
                    "总分": u.result["total"], "待评项数": int(u.result["pending"]),
                    "考核等次": u.result["grade"], "未报送任何材料": u.nothing, "说明": u.notes}
                   for u in run.units],
            "无法读取": [{"文件": shown(p), "原因": why} for p, why in run.unreadable],
            "未归属单位": run.unassigned}, ensure_ascii=False, indent=2, default=str))
    else:
        nothing = sum(1 for u in run.units if u.nothing)
        click.echo(f"已生成考核评分表：{out}（{len(run.units)} 个单位"
                   + (f"，其中 {nothing} 个未报送任何材料，各项按0分计" if nothing else "")
                   + f"，考核规则 {rub.name}，报送截止 {run.deadline.isoformat()}）")
        for u in run.units:
            auto = sum(part_score(p, u.values, rub.digits) for p in auto_parts)
            late = u.values.get(next((p.key for p in auto_parts if p.source == "late_working_days"), ""), None)
            when = (f"提交 {u.submitted.isoformat()}" if u.submitted else "未报送") + \
                (f"，推迟 {_num(late)} 个工作日" if u.submitted and late else "")
            flags = [p.flag.label for p in rub.parts if p.flag and u.values.get(p.flag.key) == "是"]
            click.echo(f"  {u.unit}：{when}；自动评分项 {_num(round(auto, 2))}/{_num(auto_max)} 分"
                       + (f"；{'、'.join(flags)}（相应项0分）" if flags else "")
                       + f"；待评审 {int(u.result['pending'])} 项")
        click.echo("请评审人员在黄色单元格中填写其余项目，总分和等次由公式自动计算；自动评分的依据见“评分依据”工作表。")
    guessed = [u.unit for u in run.units if u.submitted and u.submitted_source != "提交记录"]
    if guessed:
        click.echo(f"注意：{len(guessed)} 个单位的{FILE_TIME_WARNING}；{FILE_TIME_HINT['cli']}（{'、'.join(guessed[:5])}"
                   + ("等" if len(guessed) > 5 else "") + "）", err=True)
    for path, why in run.unreadable:                # a reading error names its file itself, a skipped entry not
        click.echo(f"提示：无法读取 {why if path in why else f'{shown(path)}：{why}'}", err=True)
    for text in run.warnings:
        click.echo(f"提示：{text}", err=True)


def _auto_columns(rub) -> list[tuple[str, str]]:
    out = []
    for p in rub.parts:
        if p.rule == "automatic":
            if p.kind == "ratio":
                out += [(f"{p.key}_ok", f"{p.name}符合数"), (f"{p.key}_total", f"{p.name}核对数")]
            else:
                out.append((p.key, p.name))
        if p.flag:
            out.append((p.flag.key, p.flag.name))
    return out
