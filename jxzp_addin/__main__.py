"""``python -m jxzp_addin build|install|remove|list`` — the same commands as ``jxzp addin …``.

Useful on a Windows machine where the ``jxzp`` script is not on PATH. Errors are printed in Chinese
without a traceback; exit code 2 for a problem the user can fix.
"""

from __future__ import annotations

import sys

from xlsx_engine.cli.main import run

from .cli_addin import addin_group


def main(argv: list[str] | None = None) -> int:
    """``python -m jxzp_addin``: the add-in commands with the CLI's error handling."""
    return run(addin_group, argv, "python -m jxzp_addin")


if __name__ == "__main__":
    sys.exit(main())
