"""``jxzp addin``: build, install and remove the Excel add-in; list its ribbon entry points.

Registered in :mod:`xlsx_engine.cli.main` with ``cli.add_command(addin_group)``. Errors are
:class:`~xlsx_engine.errors.JxzpError` (Chinese message, exit code 2 through ``jxzp``'s main).
Importing this module imports neither xlwings nor pyOpenVBA.

    jxzp addin build [-o jxzp.xlam] [--force] [--update-udfs]
    jxzp addin install [--xlam jxzp.xlam]          # Windows + Excel
    jxzp addin remove                              # Windows + Excel
    jxzp addin list
"""

from __future__ import annotations

from pathlib import Path

import click

from xlsx_engine.kernel.errors import JxzpError


@click.group("addin")
def addin_group() -> None:
    """Excel 加载项（功能区“绩效自评”与自定义函数，需要 Python 和 xlwings）。"""


@addin_group.command("build")
@click.option("-o", "--output", default="jxzp.xlam", show_default=True, help="输出的加载项文件（.xlam）")
@click.option("--force", is_flag=True, help="输出文件已存在时覆盖")
@click.option("--update-udfs", is_flag=True, help="先按 jxzp_addin/udfs.py 重新生成 macros/xlwings_udfs.bas")
def build_command(output, force, update_udfs) -> None:
    """由 xlwings 自带的功能区加载项模板和 macros/ 中的源文件生成 jxzp.xlam（任何系统上都可运行）。"""
    from .build import build, update_udf_source
    out = Path(output)
    if out.suffix.lower() != ".xlam":
        raise JxzpError("输出文件应以 .xlam 结尾", where=output)
    if out.exists() and not force:
        raise JxzpError("输出文件已存在，未覆盖", where=output, hint="换一个文件名，或加 --force 覆盖")
    if update_udfs:
        click.echo(f"已更新：{update_udf_source()}")
    report = build(out)
    click.echo(f"已生成加载项：{report.path}（VBA 模块：{'、'.join(report.modules)}；模板：{report.scaffold.name}）")
    click.echo("在 Windows 上安装：jxzp addin install --xlam " + str(report.path))


@addin_group.command("install", short_help="安装加载项（仅 Windows）：写入 Python 设置，复制到 Excel 的启动文件夹。")
@click.option("--xlam", default=None, help="要安装的 .xlam（默认：当场生成到 %USERPROFILE%\\.jxzp\\jxzp.xlam）")
def install_command(xlam) -> None:
    """安装加载项（仅 Windows）：写入 Python 设置，并调用 xlwings addin install 复制到 Excel 的启动文件夹。"""
    from .install import install
    info = install(xlam)
    click.echo(f"已写入设置：{info['config']}")
    for key, value in info["values"].items():
        click.echo(f"  {key} = {value}")
    click.echo(f"已安装加载项：{info['xlam']}")
    click.echo("请重新启动 Excel，功能区上应出现“绩效自评”选项卡。")


@addin_group.command("remove")
def remove_command() -> None:
    """卸载加载项（仅 Windows）：从 Excel 的启动文件夹删除 jxzp.xlam（设置文件保留）。"""
    from .install import remove
    remove()
    click.echo("已卸载加载项，重新启动 Excel 后“绩效自评”选项卡消失。")


@addin_group.command("list")
def list_command() -> None:
    """列出功能区按钮对应的入口（白名单）。"""
    from .registry import entry_points
    for tag, point in entry_points().items():
        click.echo(f"{point.label}\t{tag}\t{point.group}\t{point.help}")
