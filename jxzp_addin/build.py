"""Build ``jxzp.xlam`` on any OS from xlwings' own ribbon add-in scaffold and the sources in ``macros/``.

The scaffold is ``quickstart_addin_ribbon.xlam`` shipped inside the installed xlwings package
(what ``xlwings quickstart NAME --addin --ribbon`` copies), so the add-in's ``xlwings`` VBA module
always matches the installed xlwings version. The build, with pyOpenVBA (pure-Python VBA editing):

1. renames the scaffold's ribbon module ``RibbonMyAddin`` to ``JxzpRibbon`` and replaces its code
   with ``macros/JxzpRibbon.bas`` (the single ``Dispatch(control)`` callback);
2. adds ``macros/xlwings_udfs.bas``, the VBA wrappers of the custom functions in
   :mod:`jxzp_addin.udfs` — exactly what xlwings' “Import Functions” would generate, so the
   functions work without that step (regenerate with ``jxzp addin build --update-udfs``);
3. sets ``PROJECT_NAME`` in the ``xlwings`` module to ``jxzp`` (the documented way to rename a
   custom add-in), so its settings are read from ``%USERPROFILE%\\.jxzp\\jxzp.conf``;

and then, in the zip package, replaces ``customUI/customUI.xml`` with ``macros/customUI.xml``
(the 绩效自评 tab) and renames the inactive config sheet ``_myaddin.conf`` to ``_jxzp.conf``.
Every other part of the scaffold is copied unchanged.
"""

from __future__ import annotations

import importlib.util
import inspect
import io
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from lxml import etree

from xlsx_engine.kernel.errors import JxzpError
from xlsx_engine.ooxml.safezip import atomic_write_bytes

ROOT = Path(__file__).resolve().parent.parent


def find_macros_dir() -> Path:
    """The VBA / ribbon sources: the copy packaged at ``jxzp_addin/macros`` (an installed wheel,
    see ``package_dir`` in setup.cfg) first, then ``macros/`` in the source tree (editable install,
    ``PYTHONPATH=.``) — the same lookup order as :mod:`xlsx_engine.kernel.resources`."""
    packaged = Path(str(resources.files("jxzp_addin"))) / "macros"
    if (packaged / "customUI.xml").is_file():
        return packaged
    return ROOT / "macros"


MACROS_DIR = find_macros_dir()
SCAFFOLD_NAME = "quickstart_addin_ribbon.xlam"
SCAFFOLD_RIBBON_MODULE = "RibbonMyAddin"
RIBBON_MODULE = "JxzpRibbon"
UDF_MODULE = "xlwings_udfs"
XLWINGS_MODULE = "xlwings"
PROJECT_NAME = "jxzp"
SCAFFOLD_PROJECT_LINE = 'Public Const PROJECT_NAME As String = "myaddin"'
PROJECT_LINE = f'Public Const PROJECT_NAME As String = "{PROJECT_NAME}"'
SCAFFOLD_CONF_SHEET = "_myaddin.conf"
CONF_SHEET = f"_{PROJECT_NAME}.conf"
CUSTOM_UI_PART = "customUI/customUI.xml"
UDF_PYTHON_MODULE = "jxzp_addin.udfs"
CUSTOMUI_NS = "http://schemas.microsoft.com/office/2006/01/customui"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
FIXED_DATE = (1980, 1, 1, 0, 0, 0)


class BuildError(JxzpError):
    """The add-in cannot be built (missing tool, unexpected scaffold, bad source)."""


@dataclass
class BuildReport:
    path: Path
    scaffold: Path
    modules: list[str]


def scaffold_path() -> Path:
    """xlwings' ribbon add-in scaffold in the installed xlwings package (xlwings is not imported)."""
    spec = importlib.util.find_spec("xlwings")
    if spec is None or not spec.origin:
        raise BuildError("未安装 xlwings，无法取得加载项模板", hint="pip install xlwings")
    path = Path(spec.origin).resolve().parent / SCAFFOLD_NAME
    if not path.is_file():
        raise BuildError(f"已安装的 xlwings 中没有 {SCAFFOLD_NAME}", where=str(path.parent),
                         hint="请安装 xlwings 0.22 或更高版本")
    return path


def crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def vba_source(name: str, macros_dir: Path | None = None) -> str:
    """A module's source from ``macros/<name>.bas`` (CRLF line endings, ASCII only)."""
    path = (macros_dir or MACROS_DIR) / f"{name}.bas"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BuildError("找不到 VBA 源文件", where=str(path)) from None
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise BuildError(f"VBA 源文件含非 ASCII 字符（第 {line} 行）", where=str(path),
                         hint="VBA 工程以代码页 1252 保存源代码，中文提示请放在 Python 中") from None
    return crlf(text)


def ribbon_xml(macros_dir: Path | None = None) -> bytes:
    """``macros/customUI.xml``, checked to be well-formed and in the customUI namespace."""
    path = (macros_dir or MACROS_DIR) / "customUI.xml"
    data = path.read_bytes()
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise BuildError(f"功能区 XML 格式错误：{exc}", where=str(path)) from None
    if root.tag != f"{{{CUSTOMUI_NS}}}customUI":
        raise BuildError(f"功能区 XML 的根元素应为 {CUSTOMUI_NS} 命名空间中的 customUI", where=str(path))
    return data


def udf_wrappers(module=None, module_name: str = UDF_PYTHON_MODULE) -> str:
    """The ``xlwings_udfs`` VBA module for :mod:`jxzp_addin.udfs`, as xlwings' “Import Functions” writes it.

    Mirrors ``xlwings.udfs.import_udfs``/``generate_vba_wrapper`` for an add-in (``ActiveWorkbook``),
    for plain functions (no ``volatile``/``call_in_wizard`` options, no ``*args``); the tests compare
    the result with xlwings' own generator.
    """
    if module is None:
        from . import udfs as module
    lines = [f'Attribute VB_Name = "{UDF_MODULE}"',
             "'Autogenerated code by xlwings - changes will be lost with next import!",
             """#Const App = "Microsoft Excel" 'Adjust when using outside of Excel"""]
    for func in sorted(module.UDFS, key=lambda f: f.__name__):
        name = func.__name__
        params, args = [], []
        for p in inspect.signature(func).parameters.values():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.KEYWORD_ONLY):
                raise BuildError(f"自定义函数 {name} 的参数 {p.name} 不受支持（只支持普通参数）")
            if p.name == "caller":
                args.append("Nothing")
                continue
            params.append(("Optional " if p.default is not p.empty else "") + p.name)
            args.append(p.name)
        array = "Array(" + ", ".join(args) + ")"
        lines += [
            f"Function {name}({', '.join(params)})",
            '    #If App = "Microsoft Excel" Then',
            "        If TypeOf Application.Caller Is Range Then On Error GoTo failed",
            f'        {name} = XLPy.CallUDF("{module_name}", "{name}", {array}, ActiveWorkbook, Application.Caller)',
            "        Exit Function",
            "    #Else",
            f'        {name} = XLPy.CallUDF("{module_name}", "{name}", {array})',
            "        Exit Function",
            "    #End If",
            "failed:",
            f"    {name} = Err.Description",
            "End Function",
            "",
        ]
    return "\n".join(lines) + "\n"


def update_udf_source(macros_dir: Path | None = None) -> Path:
    """Regenerate ``macros/xlwings_udfs.bas`` from :mod:`jxzp_addin.udfs`."""
    path = (macros_dir or MACROS_DIR) / f"{UDF_MODULE}.bas"
    atomic_write_bytes(path, crlf(udf_wrappers()).encode("ascii"))
    return path


def _rewrite_package(data: bytes, ribbon: bytes) -> bytes:
    """Replace the ribbon part and rename the config sheet; copy every other part unchanged."""
    src = zipfile.ZipFile(io.BytesIO(data))
    names = src.namelist()
    if CUSTOM_UI_PART not in names:
        raise BuildError(f"加载项模板中没有 {CUSTOM_UI_PART}（xlwings 的模板结构与预期不同）")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == CUSTOM_UI_PART:
                content = ribbon
            elif info.filename == "xl/workbook.xml":
                root = etree.fromstring(content)
                for sheet in root.iter(f"{{{MAIN_NS}}}sheet"):
                    if sheet.get("name") == SCAFFOLD_CONF_SHEET:
                        sheet.set("name", CONF_SHEET)
                content = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
            zi = zipfile.ZipInfo(info.filename, date_time=FIXED_DATE)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, content, compresslevel=6)
    return out.getvalue()


def build(out: str | Path, *, scaffold: str | Path | None = None, macros_dir: Path | None = None) -> BuildReport:
    """Build the add-in into ``out`` (written atomically).

    Raises:
        BuildError: pyOpenVBA is missing, the scaffold is not the expected one, or a source is invalid.
    """
    try:
        from pyopenvba import ExcelFile
    except ImportError:
        raise BuildError("生成加载项需要 pyOpenVBA", hint="pip install pyopenvba") from None
    scaffold = Path(scaffold) if scaffold else scaffold_path()
    ribbon_src = vba_source(RIBBON_MODULE, macros_dir)
    udf_src = vba_source(UDF_MODULE, macros_dir)
    ribbon = ribbon_xml(macros_dir)
    work = Path(tempfile.mkdtemp(prefix="jxzp-addin-"))
    try:
        first, second = work / "scaffold.xlam", work / "modules.xlam"
        shutil.copyfile(scaffold, first)
        with ExcelFile(first) as wb:
            project = wb.vba_project()
            names = project.module_names()
            for needed in (SCAFFOLD_RIBBON_MODULE, XLWINGS_MODULE):
                if needed not in names:
                    raise BuildError(f"xlwings 加载项模板中没有 VBA 模块 {needed}（模块：{'、'.join(names)}）",
                                     where=str(scaffold), hint="xlwings 版本与本程序不匹配")
            xlwings_src = wb.get_module(XLWINGS_MODULE)
            if xlwings_src.count(SCAFFOLD_PROJECT_LINE) != 1:
                raise BuildError("xlwings 模块中找不到 PROJECT_NAME 常量", where=str(scaffold),
                                 hint="xlwings 版本与本程序不匹配")
            project.rename_module(SCAFFOLD_RIBBON_MODULE, RIBBON_MODULE)
            wb.set_module(RIBBON_MODULE, ribbon_src)
            if UDF_MODULE in names:
                wb.set_module(UDF_MODULE, udf_src)
            else:
                project.add_module(UDF_MODULE, udf_src)
            wb.set_module(XLWINGS_MODULE, xlwings_src.replace(SCAFFOLD_PROJECT_LINE, PROJECT_LINE))
            wb.save(second)
        data = _rewrite_package(second.read_bytes(), ribbon)
        check = work / "check.xlam"
        check.write_bytes(data)
        with ExcelFile(check) as wb:
            problems = wb.validate()
            modules = wb.module_names()
            if problems or wb.get_module(RIBBON_MODULE) != ribbon_src:
                raise BuildError("生成的加载项未通过自检：" + "；".join(problems or ["JxzpRibbon 模块内容不一致"]))
        atomic_write_bytes(out, data)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BuildReport(Path(out), scaffold, modules)
