"""Install the add-in on Windows by wrapping xlwings' own installer.

``jxzp addin install``:

1. builds ``jxzp.xlam`` into ``%USERPROFILE%\\.jxzp\\`` (or takes the one given);
2. writes the add-in's settings file ``%USERPROFILE%\\.jxzp\\jxzp.conf`` (the file the add-in's
   ``xlwings`` module reads because its PROJECT_NAME is ``jxzp``): the Python interpreter
   running this command (or its Conda settings), ``PYTHONPATH`` = the folder holding
   ``jxzp_addin`` and ``xlsx_engine``, and ``UDF Modules``; other lines are kept;
3. runs ``python -m xlwings.cli addin install --file jxzp.xlam``, which copies it into Excel's
   XLSTART folder so Excel opens it at every start.

Elsewhere it stops with a message that Windows and Microsoft Excel are needed.
"""

from __future__ import annotations

import locale
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from xlsx_engine.kernel.errors import JxzpError

from .build import PROJECT_NAME, ROOT, UDF_PYTHON_MODULE

ADDIN_FILE = f"{PROJECT_NAME}.xlam"
NOT_WINDOWS = ("安装加载项需要 Windows 和 Microsoft Excel（xlwings 的安装程序把加载项复制到 Excel 的 XLSTART 文件夹，"
               "并通过 Excel 运行 Python）；当前系统是 {platform}。")
NOT_WINDOWS_HINT = "可以在本机用 jxzp addin build 生成 jxzp.xlam，复制到 Windows 电脑后在那里运行 jxzp addin install"


def is_windows() -> bool:
    return sys.platform.startswith("win")


def require_windows() -> None:
    if not is_windows():
        raise JxzpError(NOT_WINDOWS.format(platform=sys.platform), hint=NOT_WINDOWS_HINT)


def user_dir() -> Path:
    return Path(os.environ.get("USERPROFILE") or Path.home()) / f".{PROJECT_NAME}"


def config_path() -> Path:
    """``%USERPROFILE%\\.jxzp\\jxzp.conf`` — read by the add-in's xlwings module (GetConfigFilePath)."""
    return user_dir() / f"{PROJECT_NAME}.conf"


def config_values() -> dict[str, str]:
    """The settings the add-in needs on this machine, as xlwings' ``config create`` would choose them."""
    values: dict[str, str] = {}
    try:
        from xlwings.cli import get_conda_settings
        conda_path, conda_env = get_conda_settings()
    except Exception:
        conda_path = conda_env = None
    if conda_path:
        values["CONDA PATH"], values["CONDA ENV"] = conda_path, conda_env
    else:
        values["INTERPRETER_WIN"] = sys.executable
    values["PYTHONPATH"] = str(ROOT)
    values["UDF MODULES"] = UDF_PYTHON_MODULE
    return values


def _parse_line(line: str) -> tuple[str, str] | None:
    parts = [p.strip().strip('"') for p in line.strip().split(",", 1)]
    return (parts[0], parts[1]) if len(parts) == 2 and parts[0] else None


def write_config(path: Path, values: dict[str, str]) -> None:
    """Set ``values`` in an xlwings-format settings file (``"KEY","value"`` lines); keep other keys.

    VBA reads the file in the system's ANSI code page (``Open ... For Input``), so it is written in
    the locale's preferred encoding, like ``xlwings config create`` does.
    """
    encoding = locale.getpreferredencoding(False)
    lines: list[str] = []
    if path.exists():
        for line in path.read_text(encoding=encoding, errors="replace").splitlines():
            parsed = _parse_line(line)
            if parsed and parsed[0].upper() in {k.upper() for k in values}:
                continue
            if line.strip():
                lines.append(line.rstrip("\r\n"))
    lines += [f'"{key}","{value}"' for key, value in values.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding=encoding)


def _run_xlwings(args: list[str], run: Callable) -> str:
    proc = run([sys.executable, "-m", "xlwings.cli", *args], capture_output=True, text=True)
    output = ((proc.stdout or "") + (proc.stderr or "")).strip()
    if proc.returncode != 0 or "Successfully" not in output:
        raise JxzpError(f"xlwings 未能完成“xlwings {' '.join(args)}”：{output or '无输出'}",
                        hint="请先关闭所有 Excel 窗口（任务管理器中不应再有 EXCEL.EXE）后重试")
    return output


def install(xlam: str | Path | None = None, *, run: Callable = subprocess.run) -> dict[str, object]:
    """Build (unless given), configure and install the add-in. Windows only.

    Returns:
        {"xlam": path installed, "config": settings file, "values": settings written, "output": xlwings' output}
    """
    require_windows()
    if xlam is None:
        from .build import build
        xlam = user_dir() / ADDIN_FILE
        build(xlam)
    xlam = Path(xlam).resolve()
    if not xlam.is_file():
        raise JxzpError("找不到加载项文件", where=str(xlam))
    values = config_values()
    write_config(config_path(), values)
    output = _run_xlwings(["addin", "install", "--file", str(xlam)], run)
    return {"xlam": xlam, "config": config_path(), "values": values, "output": output}


def remove(*, run: Callable = subprocess.run) -> str:
    """Remove the add-in from Excel's XLSTART folder (the settings file is kept). Windows only."""
    require_windows()
    return _run_xlwings(["addin", "remove", "--file", ADDIN_FILE], run)
