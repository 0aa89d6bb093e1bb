"""``python -m jxzp_addin build|install|remove|list`` — the same commands as ``jxzp addin …``.

Useful on a Windows machine where the ``jxzp`` script is not on PATH. Errors are printed in Chinese
without a traceback; exit code 2 for a problem the user can fix.
"""

from __future__ import annotations

import sys

import click

from xlsx_engine.errors import JxzpError

from .cli_addin import addin_group


def main(argv: list[str] | None = None) -> int:
    try:
        addin_group.main(args=argv, prog_name="python -m jxzp_addin", standalone_mode=False)
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
        click.echo(f"用法错误：{exc.format_message()}\n运行 python -m jxzp_addin --help 查看用法。", err=True)
        return 2


if __name__ == "__main__":
    sys.exit(main())
