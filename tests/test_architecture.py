"""The package's layers, enforced: imports point down, forms do not know each other, no hidden cycles.

Layers, lowest first (see README, 开发者说明)::

    kernel → ooxml → forms → integrity → bureau → narrative → cli → jxzp_addin

A module may import its own layer and the layers below it. Within ``forms`` each form's package
imports only itself and the shared parts of ``forms`` (``forms.base``, ``forms.report_info``); only ``forms.registry``
knows every form. Below the command line, imports of the project's own modules sit at the top of the
module: a function-local import would hide a cycle. The command line and the add-in may import lazily
(start-up time), but only downwards.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["kernel", "ooxml", "forms", "integrity", "bureau", "narrative", "cli", "jxzp_addin"]
LAZY_OK = {"cli", "jxzp_addin"}


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "jxzp_addin":
        return "jxzp_addin"
    if parts[0] == "xlsx_engine" and len(parts) > 1 and parts[1] in LAYERS:
        return parts[1]
    return None


def form_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) >= 3 and parts[:2] == ["xlsx_engine", "forms"] and parts[2] not in ("base", "registry", "report_info"):
        return parts[2]
    return None


def resolve(module: str, node: ast.ImportFrom, is_pkg: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_pkg:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def project_imports(path: Path):
    """(imported module, line, is_top_level) for every import of xlsx_engine / jxzp_addin."""
    module = module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(n) for n in tree.body}
    for stmt in tree.body:       # imports under `if TYPE_CHECKING:` are typing only
        if isinstance(stmt, ast.If) and "TYPE_CHECKING" in ast.unparse(stmt.test):
            top |= {id(n) for n in ast.walk(stmt)}
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = resolve(module, node, path.name == "__init__.py")
            subs = [f"{base}.{a.name}" for a in node.names
                    if (ROOT / (base + "." + a.name).replace(".", "/")).with_suffix(".py").exists()
                    or (ROOT / (base + "." + a.name).replace(".", "/")).is_dir()]
            # `from pkg import submodule` depends on the submodule; `from pkg import name` on pkg itself
            targets = subs if subs and len(subs) == len(node.names) else [base] + subs
        for t in targets:
            if module.startswith(t + "."):     # a parent package: imported first anyway, not a dependency
                continue
            if t.split(".")[0] in ("xlsx_engine", "jxzp_addin"):
                yield t, node.lineno, id(node) in top


def all_modules():
    for pkg in ("xlsx_engine", "jxzp_addin"):
        yield from sorted((ROOT / pkg).rglob("*.py"))


def violations() -> list[str]:
    out = []
    for path in all_modules():
        module = module_name(path)
        mine = layer_of(module)
        for target, line, top in project_imports(path):
            where = f"{path.relative_to(ROOT)}:{line}"
            theirs = layer_of(target)
            if mine is None or theirs is None:
                continue
            if LAYERS.index(theirs) > LAYERS.index(mine):
                out.append(f"{where}: {mine} imports upward {target} ({theirs})")
            if not top and mine not in LAZY_OK:
                out.append(f"{where}: function-local import of {target}")
            f1, f2 = form_of(module), form_of(target)
            if mine == "forms" and f2 and f1 != f2 and module != "xlsx_engine.forms.registry":
                out.append(f"{where}: form {f1 or module} imports another form's module {target}")
            if mine == "forms" and target == "xlsx_engine.forms.registry" and module != "xlsx_engine.forms":
                out.append(f"{where}: {module} imports the registry (only layers above may)")
    return out


def test_imports_point_down_only():
    found = violations()
    assert not found, "\n".join(found)


def test_no_import_cycles():
    graph: dict[str, set[str]] = {}
    for path in all_modules():
        module = module_name(path)
        graph[module] = {t for t, _line, top in project_imports(path) if top and t != module}
    state: dict[str, int] = {}
    cycles = []

    def visit(node, stack):
        state[node] = 1
        for nxt in graph.get(node, ()):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                cycles.append(" → ".join(stack[stack.index(nxt):] + [nxt]) if nxt in stack else nxt)
            elif not state.get(nxt):
                visit(nxt, stack + [nxt])
        state[node] = 2

    for m in graph:
        if not state.get(m):
            visit(m, [m])
    # a package importing its own submodules from __init__ is not a cycle we care about
    cycles = [c for c in cycles if not all(p.startswith(c.split(" → ")[0]) for p in c.split(" → "))]
    assert not cycles, "\n".join(cycles)


def test_the_checker_sees_a_violation(tmp_path, monkeypatch):
    """An upward import in a kernel module is reported (the test above would fail)."""
    fake = ROOT / "xlsx_engine" / "kernel" / "_probe_upward.py"
    fake.write_text("from xlsx_engine.cli import main\n", encoding="utf-8")
    try:
        assert any("_probe_upward" in v for v in violations())
    finally:
        fake.unlink()


@pytest.mark.parametrize("layer", LAYERS[:-1])
def test_layer_folder_exists(layer):
    assert (ROOT / "xlsx_engine" / layer / "__init__.py").exists()


FORM_IDS = re.compile(r"^(xmzc|bmzt|hnxm)(-|$)")


def form_id_literals() -> list[str]:
    """String constants (not docstrings) that start with a form's template-id prefix, outside the forms."""
    out = []
    for path in all_modules():
        module = module_name(path)
        if module.startswith("xlsx_engine.forms."):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                      if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
                      and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings \
                    and FORM_IDS.match(node.value):
                out.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    return out


def test_no_module_outside_the_forms_branches_on_a_form_id():
    """Checks, collect, review, narrative, the command line and the add-in reach a form through the registry."""
    found = form_id_literals()
    assert not found, "\n".join(found)
