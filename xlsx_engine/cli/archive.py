"""``jxzp archive`` (the yearly archive) and ``jxzp compare`` (year over year).

    jxzp archive import 2023回收/ --year 2023 --db 绩效自评档案.sqlite
    jxzp archive import 2022汇总表.xlsx --year 2022
    jxzp archive info
    jxzp compare --year 2024 -o 逐年对比.xlsx

Registered in :mod:`xlsx_engine.cli.main`. Errors are JxzpError (Chinese message, exit 2, nothing half-written).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from xlsx_engine.kernel.errors import JxzpError

DB_HELP = "档案文件（SQLite），默认为当前文件夹的 绩效自评档案.sqlite"


def _db(path: str | None) -> Path:
    from xlsx_engine.bureau.archive import DEFAULT_NAME
    return Path(path) if path else Path.cwd() / DEFAULT_NAME


@click.group("archive")
def archive_group() -> None:
    """年度档案：把每次回收的自评表存入一个档案文件，供逐年对比（jxzp compare）。"""


@archive_group.command("import")
@click.argument("sources", nargs=-1, required=True, metavar="回收文件夹或汇总表...")
@click.option("--year", type=int, default=None, help="评价年度；不指定时取各自评表中的“年度”")
@click.option("--round", "round_name", default="回收", show_default=True, help="回收批次名称（同一年可多次回收）")
@click.option("--db", default=None, help=DB_HELP)
@click.option("--master", default=None, help="下发时的总表：记录未交回的项目（与 jxzp collect --master 相同）")
@click.option("--jobs", type=int, default=1, show_default=True, help="并行进程数")
def archive_import(sources, year, round_name, db, master, jobs) -> None:
    """把交回的自评表（文件夹）或往年的汇总表存入档案；重复导入同一文件不会重复记录。"""
    from xlsx_engine.bureau.archive import Archive
    from xlsx_engine.bureau.archive_import import check_source, import_sources
    for source in sources:                 # before the archive is opened: a wrong input never leaves an empty archive
        check_source(Path(source))
    path = _db(db)
    with Archive(path) as archive:
        added, kept, problems = import_sources(archive, sources, year=year, round_name=round_name, jobs=jobs,
                                                 master=master)
    click.echo(f"档案：{path}\n  新记录 {added} 条，已在档案中 {kept} 条")
    for text in problems:
        click.echo(f"  未导入：{text}", err=True)


@archive_group.command("info")
@click.option("--db", default=None, help=DB_HELP)
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def archive_info(db, as_json) -> None:
    """档案中各年度的记录数。"""
    from xlsx_engine.bureau.archive import Archive
    with Archive(_db(db), readonly=True) as archive:
        counts = {y: archive.count(y) for y in archive.years()}
        version = archive.schema_version()
    if as_json:
        click.echo(json.dumps({"档案版本": version, "各年度记录数": counts}, ensure_ascii=False))
        return
    click.echo(f"档案版本 {version}；" + ("，".join(f"{y}年 {n} 条" for y, n in counts.items()) or "暂无记录"))


@click.command("compare")
@click.option("--year", type=int, required=True, help="本年度，如 2024")
@click.option("--prev", type=int, default=None, help="对比的年度，默认为档案中的上一年度")
@click.option("--db", default=None, help=DB_HELP)
@click.option("-o", "--output", required=True, help="输出的对比工作簿 .xlsx")
@click.option("--force", is_flag=True, help="输出文件已存在时覆盖")
@click.option("--json", "as_json", is_flag=True, help="另以 JSON 输出对比结果")
def compare_command(year, prev, db, output, force, as_json) -> None:
    """逐年对比：执行率、总分、等次，目标低于上年实际，指标取消或降低，连续出现的问题，连续未交回的单位。"""
    from xlsx_engine.bureau.archive import Archive, year_over_year
    from xlsx_engine.bureau.compare_book import to_dict, write_compare
    from xlsx_engine.narrative.compare import compare_paragraph
    out = Path(output)
    if out.suffix.lower() != ".xlsx":
        raise JxzpError("输出文件应以 .xlsx 结尾", where=output)
    if out.exists() and not force:
        raise JxzpError("输出文件已存在，未覆盖", where=output, hint="换一个文件名，或加 --force 覆盖")
    with Archive(_db(db), readonly=True) as archive:
        yoy = year_over_year(archive, year, prev)
    paragraph = compare_paragraph(yoy)
    write_compare(yoy, out, paragraph)
    if as_json:
        click.echo(json.dumps({**to_dict(yoy), "说明": paragraph}, ensure_ascii=False, default=str))
        return
    click.echo(f"已生成：{out}\n{paragraph}")


COMMANDS = [archive_group, compare_command]
