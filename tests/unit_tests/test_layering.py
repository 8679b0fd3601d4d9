"""The architecture as a contract: no import cycles, and no module imports a layer above its own.

Every import counts, at module level or inside a function (a function-level import is still a
dependency, only a later one); imports under `if TYPE_CHECKING:` do not, since they never run.
The layers, top to bottom, are `harness.layers.LAYERS`; the built-in plugins (`tasks/`,
`models/`) import only the public plugin API, `harness.contracts`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from harness.layers import LAYERS, PLUGIN_API, layer_of

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {
    "harness": ROOT / "harness",
    "harness.tasks": ROOT / "tasks",
    "harness.models": ROOT / "models",
}


def _modules() -> dict[str, Path]:
    found = {}
    for package, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([package, *parts])] = path
    return found


MODULES = _modules()


def _runtime_imports(tree: ast.AST) -> list[ast.stmt]:
    """Import statements outside `if TYPE_CHECKING:` blocks, wherever they are."""
    found: list[ast.stmt] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for branch in child.orelse:
                    visit(branch)
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.append(child)
            visit(child)

    visit(tree)
    return found


def imports_of(module: str) -> set[str]:
    """The harness modules `module` imports (a name imported from a package that is itself a
    module counts as that module)."""
    path = MODULES[module]
    is_package = path.name == "__init__.py"
    targets = set()
    for node in _runtime_imports(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        targets.update(name for name in names if name in MODULES and name != module)
    return targets


GRAPH = {module: imports_of(module) for module in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_no_import_cycles():
    assert _cycles(GRAPH) == []


def test_the_checker_finds_a_cycle_and_an_upward_import():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert layer_of("harness.cli.run") < layer_of("harness.protocol.splits")  # 0 is the top


def test_every_module_has_a_layer():
    core = [m for m in MODULES if not m.startswith(("harness.tasks", "harness.models"))]
    assert [m for m in core if layer_of(m) is None] == []


@pytest.mark.parametrize("module", sorted(m for m in MODULES if layer_of(m) is not None))
def test_no_upward_import(module):
    upward = sorted(
        target
        for target in GRAPH[module]
        if layer_of(target) is not None and layer_of(target) < layer_of(module)
    )
    assert upward == [], (
        f"{module} (layer {LAYERS[layer_of(module)]}) imports a layer above its own: {upward}"
    )


def test_builtin_plugins_import_only_the_plugin_api():
    plugins = [m for m in MODULES if m.startswith(("harness.tasks.", "harness.models."))]
    outside = {
        module: sorted(
            t
            for t in GRAPH[module]
            if not t.startswith((PLUGIN_API, "harness.tasks", "harness.models"))
        )
        for module in plugins
    }
    assert {m: t for m, t in outside.items() if t} == {}
