"""What can only be checked statically here (no Excel on Linux): the add-in's sources and the built .xlam.

* the ribbon XML is well-formed, in the customUI namespace, and its buttons are exactly the whitelist;
* the VBA module is ASCII-only with a single ``Dispatch(control)`` that hands the tag to the whitelist;
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
    procedures = re.findall(r"(?im)^\s*(?:public |private )?(sub|function)\s+(\w+)\s*\(([^)]*)\)", text)
    assert procedures == [("Sub", "Dispatch", "control As IRibbonControl")]
    assert re.search(r"""RunPython "import jxzp_addin\.registry as registry; registry\.dispatch\('" & tagName & "'\)\"""",
                     text)
    assert 'Like "[a-z_]"' in text and "> 32" in text      # the same rule as registry.TAG_PATTERN
    assert TAG_PATTERN.pattern == r"^[a-z_]{1,32}$"


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
