"""``jxzp addin``: build, install (wrapping xlwings' installer, Windows only), remove, list."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from jxzp_addin import build as builder
from jxzp_addin import install as installer
from jxzp_addin.cli_addin import addin_group
from xlsx_engine.kernel.errors import JxzpError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cli():
    group = click.Group("jxzp")
    group.add_command(addin_group)
    return group


def run(cli, *args):
    return CliRunner().invoke(cli, ["addin", *args], catch_exceptions=True)


def test_build_writes_an_xlam_and_refuses_to_overwrite(cli, tmp_path):
    out = tmp_path / "jxzp.xlam"
    result = run(cli, "build", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "已生成加载项" in result.output and "JxzpRibbon" in result.output
    from pyopenvba import ExcelFile
    with ExcelFile(out) as wb:
        assert "Dispatch(control As IRibbonControl)" in wb.get_module("JxzpRibbon")
    again = run(cli, "build", "-o", str(out))
    assert isinstance(again.exception, JxzpError) and "输出文件已存在" in str(again.exception)
    assert run(cli, "build", "-o", str(out), "--force").exit_code == 0
    wrong = run(cli, "build", "-o", str(tmp_path / "a.xlsm"))
    assert isinstance(wrong.exception, JxzpError) and ".xlam" in str(wrong.exception)


def test_build_update_udfs_regenerates_the_wrappers(cli, tmp_path, monkeypatch):
    for name in ("JxzpRibbon.bas", "customUI.xml"):
        (tmp_path / name).write_bytes((builder.MACROS_DIR / name).read_bytes())
    (tmp_path / "xlwings_udfs.bas").write_text("' stale\r\n", encoding="ascii")
    monkeypatch.setattr(builder, "MACROS_DIR", tmp_path)
    result = run(cli, "build", "-o", str(tmp_path / "x.xlam"), "--update-udfs")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "xlwings_udfs.bas").read_bytes().decode("ascii") == builder.crlf(builder.udf_wrappers())


def test_install_needs_windows_and_says_so_in_chinese(cli, monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    for args in (("install",), ("remove",)):
        result = run(cli, *args)
        assert isinstance(result.exception, JxzpError)
        assert "需要 Windows 和 Microsoft Excel" in str(result.exception)
        assert "jxzp addin build" in str(result.exception) and result.exception.exit_code == 2


class FakeRun:
    def __init__(self, output="Successfully installed the xlwings add-in! ", code=0):
        self.calls, self.output, self.code = [], output, code

    def __call__(self, args, **kwargs):
        self.calls.append(args)
        return subprocess.CompletedProcess(args, self.code, stdout=self.output, stderr="")


def test_install_on_windows_writes_settings_and_wraps_xlwings_installer(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("USERPROFILE", str(tmp_path))
    monkeypatch.delenv("CONDA_DEFAULT_ENV", raising=False)
    conf = tmp_path / ".jxzp" / "jxzp.conf"
    conf.parent.mkdir()
    conf.write_text('"SHOW CONSOLE","True"\n"PYTHONPATH","C:\\old"\n', encoding="utf-8")
    fake = FakeRun()
    info = installer.install(run=fake)
    xlam = tmp_path / ".jxzp" / "jxzp.xlam"
    assert info["xlam"] == xlam.resolve() and xlam.is_file()
    assert fake.calls == [[sys.executable, "-m", "xlwings.cli", "addin", "install", "--file", str(xlam.resolve())]]
    lines = conf.read_text().splitlines()
    assert lines == ['"SHOW CONSOLE","True"', f'"INTERPRETER_WIN","{sys.executable}"', f'"PYTHONPATH","{ROOT}"',
                     '"UDF MODULES","jxzp_addin.udfs"']
    assert installer.config_path() == conf

    monkeypatch.setenv("CONDA_DEFAULT_ENV", "base")
    monkeypatch.setenv("CONDA_EXE", str(Path("/opt/conda/bin/conda")))
    assert installer.config_values()["CONDA ENV"] == "base" and "INTERPRETER_WIN" not in installer.config_values()


def test_install_reports_xlwings_failures(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("USERPROFILE", str(tmp_path))
    xlam = tmp_path / "given.xlam"
    builder.build(xlam)
    fake = FakeRun("Error: Failed to install the add-in: If Excel is running, quit Excel and try again.")
    with pytest.raises(JxzpError, match="请先关闭所有 Excel 窗口"):
        installer.install(xlam, run=fake)
    assert fake.calls[0][-1] == str(xlam.resolve())
    with pytest.raises(JxzpError, match="找不到加载项文件"):
        installer.install(tmp_path / "missing.xlam", run=fake)
    removed = FakeRun("Successfully removed the add-in!")
    installer.remove(run=removed)
    assert removed.calls == [[sys.executable, "-m", "xlwings.cli", "addin", "remove", "--file", "jxzp.xlam"]]


def test_list_shows_the_whitelist(cli):
    result = run(cli, "list")
    assert result.exit_code == 0
    for label, tag in (("重新计算", "recalculate"), ("校验", "check"), ("生成综述", "summary"),
                       ("导出自评报告", "report"), ("批量生成", "bulk"), ("汇总回收", "collect"), ("关于", "about")):
        assert f"{label}\t{tag}\t" in result.output


def test_module_entry_point_prints_chinese_errors_without_traceback():
    if sys.platform.startswith("win"):
        pytest.skip("checks the message on a system without Excel")
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "jxzp_addin", "install"], cwd=ROOT, capture_output=True, text=True,
                          check=False, env=env)
    assert proc.returncode == 2
    assert proc.stderr.startswith("错误：安装加载项需要 Windows 和 Microsoft Excel") and "Traceback" not in proc.stderr
    listed = subprocess.run([sys.executable, "-m", "jxzp_addin", "list"], cwd=ROOT, capture_output=True, text=True,
                            check=False, env=env)
    assert listed.returncode == 0 and "重新计算\trecalculate" in listed.stdout
