"""The shape of the package: public surfaces, import style, and what importing costs.

One test per rule, over every module of ``kit`` (httpx's ``test_exported_members``; the import
graph itself is kept by the import-linter contract in ``pyproject.toml``, run by ``make lint``).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import kit

ROOT = Path(kit.__file__).resolve().parent
MODULES = sorted(m.name for m in pkgutil.walk_packages(kit.__path__, "kit.") if not m.name.endswith("__main__"))

#: Function-level imports of the kit's own modules, each for a measured cost. Anything else is an
#: import circle being hidden, or a module-level import that was forgotten.
DEFERRED_KIT_IMPORTS: dict[str, set[str]] = {
    # a bundle: source never collects; the SDK (~0.7 s) and the lab (~0.6 s) load only when one does
    "kit.report.sources": {"kit.azure.collect", "kit.azure.target", "kit.lab"},
    # an Azure console needs no lab; the lab (~0.35 s on top of the glue's ~0.5 s) loads for lab: sources
    "kit.console.notebook": {"kit.lab"},
    # the Storage SDK and the credentials (~0.8 s) load only for an https:// witness
    "kit.azure.sealing": {"kit.azure.target", "kit.azure.witness"},
}
#: Building the parser imports every command module (``kit --help``, ~60 ms): their handlers import
#: the layer they run. Only this cheap vocabulary belongs at their top, never inside a handler.
COMMANDS = "kit.cli."
CHEAP = {"kit.errors", "kit.ids", "kit.times", "kit.cli._common", "kit.cli._connection", "kit.azure.choices"}


def _tree(module: str) -> ast.Module:
    path = ROOT.joinpath(*module.split(".")[1:])
    file = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    return ast.parse(file.read_text(encoding="utf-8"))


def _is_package(module: ModuleType) -> bool:
    return hasattr(module, "__path__")


@pytest.mark.parametrize("name", MODULES)
def test_all_names_exist_are_sorted_and_cover_every_public_definition(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    missing = [item for item in exported if not hasattr(module, item)]
    assert not missing, f"{name}.__all__ names what it does not have: {missing}"
    assert len(set(exported)) == len(exported), f"{name}.__all__ repeats a name"
    if _is_package(module):
        return
    defined = {n for n, obj in vars(module).items()
               if not n.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
               and obj.__module__ == name}
    assert defined <= set(exported), f"{name} defines public names it does not export: {defined - set(exported)}"


@pytest.mark.parametrize("name", [m for m in MODULES if _is_package(importlib.import_module(m))])
def test_package_faces_export_their_names_and_say_where_they_come_from(name: str) -> None:
    module = importlib.import_module(name)
    assert set(module.__all__) <= set(dir(module))
    for item in module.__all__:
        value = getattr(module, item)
        origin = getattr(value, "__module__", None)
        if origin is not None and isinstance(value, type | type(len) | type(lambda: 0)):
            assert origin.startswith("kit"), f"{name}.{item} comes from {origin}"


def _function_level_imports(tree: ast.Module) -> list[tuple[int, str, list[str]]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and inner.module and inner.module.startswith("kit"):
                    found.append((inner.lineno, inner.module, [a.name for a in inner.names]))
                elif isinstance(inner, ast.Import):
                    found += [(inner.lineno, a.name, []) for a in inner.names if a.name.startswith("kit")]
    return found


@pytest.mark.parametrize("name", MODULES)
def test_kit_modules_are_imported_at_the_top_unless_deferring_is_measured(name: str) -> None:
    allowed = DEFERRED_KIT_IMPORTS.get(name, set())
    late = [(line, target) for line, target, _ in _function_level_imports(_tree(name))
            if target not in allowed and not (name.startswith(COMMANDS) and target not in CHEAP)]
    assert not late, f"{name} imports kit modules inside functions: {late}"


@pytest.mark.parametrize("name", MODULES)
def test_no_private_name_is_imported_from_another_module(name: str) -> None:
    private = []
    for node in ast.walk(_tree(name)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kit"):
            private += [f"{node.module}.{a.name}" for a in node.names
                        if a.name.startswith("_") and a.name != "__version__"]
    assert not private, f"{name} imports private names of other modules: {private}"


def test_no_module_splits_a_resource_id_by_position() -> None:
    offenders = []
    for name in MODULES:
        source = ast.unparse(_tree(name))
        if name != "kit.ids" and ('.rsplit("/", 1)[-1]' in source or ".split('/')[" in source
                                  or '.split("/")[' in source):
            offenders.append(name)
    assert not offenders, f"use kit.ids instead of splitting ids on '/': {offenders}"


def _imports_after(statement: str) -> set[str]:
    code = f"import sys; before = set(sys.modules); {statement}; print('\\n'.join(sorted(set(sys.modules) - before)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


@pytest.mark.parametrize(("statement", "must_not_load"), [
    ("import kit.ids, kit.evidence.bundle", ("azure",)),
    ("import kit.azure", ("azure",)),
    ("import kit.analyze.verdict", ("azure", "kit.azure", "kit.console", "kit.report", "kit.lab")),
    ("import kit.azure.serialconsole", ("kit.console", "kit.analyze")),
    ("import kit.console", ("azure", "anywidget", "kit.analyze")),
    ("import kit.report.present", ("papermill", "nbformat", "azure")),
    ("import kit.cli", ("azure", "pandas", "papermill")),
])
def test_importing_a_layer_does_not_load_what_it_does_not_use(statement: str, must_not_load: tuple[str, ...]) -> None:
    loaded = _imports_after(statement)
    heavy = sorted(m for m in loaded if any(m == p or m.startswith(p + ".") for p in must_not_load))
    assert not heavy, f"`{statement}` loads {heavy[:8]}"
