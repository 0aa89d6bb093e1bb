"""What can only be checked statically here (no Excel on Linux): the add-in's sources and the built .xlam.

* the ribbon XML is well-formed, in the customUI namespace, and its buttons are exactly the whitelist;
* the VBA module is ASCII-only with a single ``Dispatch(control)`` that hands the tag to the whitelist;
* every ribbon callback runs the guard ``JxzpReady`` before ``RunPython`` (no workbook, Protected View,
  read-only where the button writes, not one of ours → a Chinese message box, no VBA error), and the
  guard's Chinese texts (UTF-16 code points in the ASCII source) say what to do;
* the .xlam built from xlwings' scaffold holds exactly ``macros/`` (read back with olevba), the scaffold's
  xlwings module with only PROJECT_NAME changed, and UDF wrappers identical to xlwings' own generator;
* the core never imports xlwings; the add-in's CLI, registry and builder do not either; the product
  code never enables xlwings' PRO engines.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import types
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from jxzp_addin import build as builder
from jxzp_addin.registry import TAG_PATTERN, entry_points

ROOT = Path(__file__).resolve().parent.parent
MACROS = ROOT / "macros"
CUSTOMUI = "{http://schemas.microsoft.com/office/2006/01/customui}"


def ribbon():
    return etree.fromstring((MACROS / "customUI.xml").read_bytes())


def buttons():
    return list(ribbon().iter(f"{CUSTOMUI}button"))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("xlam") / "jxzp.xlam"
    report = builder.build(out)
    return out, report


def olevba_modules(path: Path) -> dict[str, str]:
    """{module file name: code} as olevba (oletools) reads the VBA project of ``path``."""
    from oletools.olevba import VBA_Parser
    parser = VBA_Parser(str(path))
    try:
        return {vba_filename: code if isinstance(code, str) else code.decode("latin-1")
                for _f, _s, vba_filename, code in parser.extract_macros()}
    finally:
        parser.close()


def plain(source: str) -> str:
    """Module text compared line by line: LF line ends, no trailing blank lines."""
    return source.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")


# ============================================================================ ribbon

def test_ribbon_is_well_formed_customui():
    root = ribbon()
    assert root.tag == f"{CUSTOMUI}customUI"
    tabs = list(root.iter(f"{CUSTOMUI}tab"))
    assert [t.get("label") for t in tabs] == ["绩效自评"]
    assert builder.ribbon_xml() == (MACROS / "customUI.xml").read_bytes()


def test_every_button_is_a_registered_entry_point_and_every_entry_point_has_a_button():
    points = entry_points()
    tags = [b.get("tag") for b in buttons()]
    assert sorted(tags) == sorted(points) and len(set(tags)) == len(tags)
    for b in buttons():
        point = points[b.get("tag")]
        assert TAG_PATTERN.match(b.get("tag"))
        assert b.get("onAction") == "JxzpRibbon.Dispatch"
        assert b.get("label") == point.label and b.get("supertip") == point.help
        assert b.getparent().get("label") == point.group
    assert len({b.get("id") for b in buttons()}) == len(tags)


# ============================================================================ VBA sources

def test_vba_module_is_ascii_with_a_single_dispatch():
    data = (MACROS / "JxzpRibbon.bas").read_bytes()
    data.decode("ascii")
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    text = data.decode("ascii")
    procedures = re.findall(r"(?im)^\s*(public |private )?(sub|function)\s+(\w+)\s*\(([^)]*)\)", text)
    public = [(kind, name, args) for scope, kind, name, args in procedures if scope.strip().lower() != "private"]
    assert public == [("Sub", "Dispatch", "control As IRibbonControl")]
    assert sum("RunPython" in line for line in code_lines(text.replace("\r\n", "\n"))) == 1
    assert re.search(r"""RunPython "import jxzp_addin\.registry as registry; registry\.dispatch\('" & tagName & "'\)\"""",
                     text)
    assert 'Like "[a-z_]"' in text and "> 32" in text      # the same rule as registry.TAG_PATTERN
    assert TAG_PATTERN.pattern == r"^[a-z_]{1,32}$"


# ---------------------------------------------------------------------------- the guard before RunPython

def vba_procedures() -> dict[str, str]:
    """{procedure name: its body} of macros/JxzpRibbon.bas."""
    text = (MACROS / "JxzpRibbon.bas").read_text("ascii").replace("\r\n", "\n")
    found = re.findall(r"(?ims)^(?:public |private )?(sub|function) (\w+)\(.*?\)[^\n]*\n(.*?)^end \1", text)
    return {name: body for _kind, name, body in found}


def vba_texts() -> dict[str, str]:
    """The Chinese texts VBA shows itself: ``Private Const NAME As String = "<UTF-16 code points>"``, decoded."""
    text = (MACROS / "JxzpRibbon.bas").read_text("ascii")
    return {name: "".join(chr(int(code, 16)) for code in codes.split(" "))
            for name, codes in re.findall(r'(?m)^Private Const (\w+) As String = "([0-9A-F ]+)"', text)}


def code_lines(body: str) -> list[str]:
    """Statements of a VBA body, comments and blank lines dropped."""
    return [line.split("'")[0].strip() for line in body.split("\n") if line.split("'")[0].strip()]


def test_every_ribbon_callback_runs_the_guard_before_python():
    """Each onAction of customUI.xml names a procedure of JxzpRibbon.bas that calls JxzpReady first and
    leaves without RunPython when it says no."""
    procedures = vba_procedures()
    callbacks = {el.get("onAction") for el in ribbon().iter() if el.get("onAction")}
    assert callbacks == {"JxzpRibbon.Dispatch"}
    for callback in callbacks:
        module, _, name = callback.partition(".")
        assert module == "JxzpRibbon" and name in procedures, callback
        lines = code_lines(procedures[name])
        guard = [i for i, line in enumerate(lines) if line == "If Not JxzpReady(tagName) Then Exit Sub"]
        run = [i for i, line in enumerate(lines) if line.startswith("RunPython ")]
        assert len(guard) == 1 and len(run) == 1 and guard[0] < run[0], callback
        assert not any("tagName =" in line for line in lines[guard[0]:]), "the tag changes after the guard"
    for name, body in procedures.items():             # no other way into Python
        assert name in {"Dispatch"} or "RunPython" not in body, name


def test_the_guard_checks_every_case_and_shows_a_message_instead_of_an_error():
    procedures = vba_procedures()
    ready = code_lines(procedures["JxzpReady"])
    assert "message = GuardMessage(tagName)" in ready
    assert "If Len(message) > 0 Then MsgBox message, vbExclamation, Zh(TITLE_TEXT)" in ready
    guard = "\n".join(code_lines(procedures["GuardMessage"]))
    # Protected View first (ActiveWorkbook is Nothing there too), then no workbook
    assert guard.index("InProtectedView()") < guard.index("Set wb = Application.ActiveWorkbook") \
        < guard.index("If wb Is Nothing Then")
    assert "Application.ActiveProtectedViewWindow" in procedures["InProtectedView"]
    assert "wb.ReadOnly" in procedures["IsReadOnly"]
    assert "wb.CustomDocumentProperties(propName)" in procedures["HasProperty"]
    # every helper that touches Excel's object model traps its own errors
    for name in ("InProtectedView", "IsReadOnly", "HasProperty", "HasSheet"):
        assert "On Error Resume Next" in procedures[name], name
    assert "On Error Resume Next" in guard.split("Set wb = Application.ActiveWorkbook")[0]
    # which buttons need what: every tag named is a registered entry point
    cases = dict(re.findall(r'Case ("[a-z_]+"(?:, "[a-z_]+")*)\n(.*?)(?=\nCase |\nEnd Select)', guard, re.S))
    groups = {tuple(re.findall(r'"([a-z_]+)"', tags)): body for tags, body in cases.items()}
    points = entry_points()
    assert all(tag in points for tags in groups for tag in tags)
    writes = next(tags for tags, body in groups.items() if "IsReadOnly(wb)" in body)
    ours = next(tags for tags, body in groups.items() if "HasProperty(wb, Zh(PROP_TEMPLATE_ID))" in body)
    master = next(tags for tags, body in groups.items() if "HasSheet(wb, Zh(SHEET_PROJECTS))" in body)
    assert set(writes) == {"recalculate", "check", "summary"}        # they write cells or sheets
    assert set(ours) == {"recalculate", "summary", "report"}         # 校验 also reads foreign tables
    assert set(master) == {"bulk"}


def test_the_guard_messages_are_chinese_and_say_what_to_do():
    from xlsx_engine.bureau.master import SHEETS
    from xlsx_engine.ooxml.sheetmodel import IDENTITY_KEYS
    texts = vba_texts()
    assert texts["TITLE_TEXT"] == "绩效自评"
    assert texts["PROP_TEMPLATE_ID"] == IDENTITY_KEYS[0] == "模板编号"
    assert texts["SHEET_PROJECTS"] in SHEETS and texts["SHEET_INDICATORS"] in SHEETS
    assert "启用编辑" in texts["MSG_PROTECTED_VIEW"]
    assert "请先打开" in texts["MSG_NO_WORKBOOK"]
    assert "只读" in texts["MSG_READ_ONLY"] and "另存为" in texts["MSG_READ_ONLY"]
    assert "模板编号" in texts["MSG_NOT_OURS"] and "校验" in texts["MSG_NOT_OURS"]
    assert "总表" in texts["MSG_NOT_MASTER"] and "jxzp master new" in texts["MSG_NOT_MASTER"]
    used = (MACROS / "JxzpRibbon.bas").read_text("ascii")
    for name in texts:
        assert f"Zh({name})" in used, f"{name} is never shown"
    # VBA keeps a physical line to 1023 characters
    assert max(len(line) for line in used.splitlines()) <= 1023


def test_udf_wrappers_are_up_to_date_and_identical_to_xlwings_generator(monkeypatch):
    source = (MACROS / "xlwings_udfs.bas").read_bytes()
    source.decode("ascii")
    assert source.decode("ascii") == builder.crlf(builder.udf_wrappers())
    # xlwings' own generator (xlwings/udfs.py) imports pywin32; stub it to run it here
    for name in ("pythoncom", "pywintypes", "win32com", "win32com.client"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    sys.modules["pythoncom"].CoInitialize = lambda: None
    sys.modules["win32com.client"].Dispatch = None
    sys.modules["pywintypes"].com_error = Exception
    monkeypatch.delitem(sys.modules, "xlwings.udfs", raising=False)
    import xlwings.udfs as xlw_udfs

    import jxzp_addin.udfs as ours
    module = types.ModuleType("jxzp_addin.udfs")
    for func in ours.UDFS:
        setattr(module, func.__name__, xlw_udfs.xlfunc(func))
    out = io.StringIO()
    xlw_udfs.generate_vba_wrapper("jxzp_addin.udfs", module, out, types.SimpleNamespace(Name="jxzp.xlam"))
    header, _, _ = builder.udf_wrappers().partition("Function ")
    assert builder.udf_wrappers() == header + out.getvalue()


# ============================================================================ the built add-in

def test_built_xlam_vba_equals_macros(built):
    path, report = built
    modules = olevba_modules(path)
    assert set(modules) == {"ThisWorkbook.cls", "Dictionary.cls", "Sheet2.cls", "xlwings.bas", "JxzpRibbon.bas",
                            "xlwings_udfs.bas"}
    assert plain(modules["JxzpRibbon.bas"]) == plain((MACROS / "JxzpRibbon.bas").read_text("ascii"))
    assert plain(modules["xlwings_udfs.bas"]) == plain((MACROS / "xlwings_udfs.bas").read_text("ascii"))
    assert report.modules == ["ThisWorkbook", "Dictionary", "JxzpRibbon", "Sheet2", "xlwings", "xlwings_udfs"]


def test_built_xlam_keeps_the_scaffold_xlwings_module_except_its_project_name(built):
    path, _ = built
    ours = plain(olevba_modules(path)["xlwings.bas"]).split("\n")
    scaffold = plain(olevba_modules(builder.scaffold_path())["xlwings.bas"]).split("\n")
    changed = [(a, b) for a, b in zip(scaffold, ours) if a != b]
    assert len(ours) == len(scaffold)
    assert changed == [(builder.SCAFFOLD_PROJECT_LINE, builder.PROJECT_LINE)]


def test_built_xlam_package_holds_our_ribbon_and_is_intact(built):
    from pyopenvba import check_file
    path, _ = built
    with zipfile.ZipFile(path) as zf:
        assert zf.read("customUI/customUI.xml") == (MACROS / "customUI.xml").read_bytes()
        rels = etree.fromstring(zf.read("_rels/.rels"))
        targets = {r.get("Type").rsplit("/", 1)[-1]: r.get("Target") for r in rels}
        assert targets["extensibility"] == "customUI/customUI.xml"
        wb = etree.fromstring(zf.read("xl/workbook.xml"))
        assert [s.get("name") for s in wb.iter("{*}sheet")] == ["_jxzp.conf"]
        content_types = zf.read("[Content_Types].xml").decode()
        assert "application/vnd.ms-excel.addin.macroEnabled.main+xml" in content_types
    assert check_file(path).issues == ()


def test_build_refuses_non_ascii_vba(tmp_path):
    for name in ("JxzpRibbon.bas", "xlwings_udfs.bas", "customUI.xml"):
        (tmp_path / name).write_bytes((MACROS / name).read_bytes())
    (tmp_path / "JxzpRibbon.bas").write_bytes((MACROS / "JxzpRibbon.bas").read_bytes() + "' 中文\r\n".encode())
    with pytest.raises(builder.BuildError, match="非 ASCII"):
        builder.build(tmp_path / "x.xlam", macros_dir=tmp_path)
    (tmp_path / "JxzpRibbon.bas").write_bytes((MACROS / "JxzpRibbon.bas").read_bytes())
    (tmp_path / "customUI.xml").write_text('<customUI xmlns="urn:wrong"/>', encoding="utf-8")
    with pytest.raises(builder.BuildError, match="命名空间"):
        builder.build(tmp_path / "x.xlam", macros_dir=tmp_path)
    assert not (tmp_path / "x.xlam").exists()


# ============================================================================ isolation

def _imported_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys\nprint(' '.join(sorted(sys.modules)))"],
                         cwd=ROOT, capture_output=True, text=True, check=True, env={"PYTHONPATH": str(ROOT),
                                                                                      "PATH": "/usr/bin:/bin"})
    return set(out.stdout.split())


def test_core_never_imports_xlwings():
    import pkgutil

    import xlsx_engine
    modules = [m.name for m in pkgutil.walk_packages(xlsx_engine.__path__, "xlsx_engine.")]
    assert {"xlsx_engine.forms.project.layout", "xlsx_engine.forms.project.scoring",
            "xlsx_engine.integrity.checks", "xlsx_engine.narrative.engine", "xlsx_engine.cli.main"} <= set(modules)
    modules = [m for m in modules if not m.endswith("__main__")]
    code = "import importlib\n" + "\n".join(f"importlib.import_module('{m}')" for m in modules)
    loaded = _imported_after(code)
    assert set(modules) <= loaded
    assert "xlwings" not in loaded


def test_addin_cli_registry_and_builder_do_not_import_xlwings():
    loaded = _imported_after("import jxzp_addin.cli_addin, jxzp_addin.registry, jxzp_addin.build, "
                             "jxzp_addin.install, jxzp_addin.session\n"
                             "jxzp_addin.registry.entry_points()")
    assert "jxzp_addin.entry_points" in loaded and "xlwings" not in loaded
    assert "jxzp_addin.udfs" not in loaded


def test_product_code_never_enables_the_pro_engines():
    for path in sorted((ROOT / "jxzp_addin").glob("*.py")) + sorted((ROOT / "xlsx_engine").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for needle in ("XLWINGS_LICENSE_KEY", "noncommercial", "_xlremote", "json="):
            assert needle not in text, f"{path.name} mentions {needle}"
