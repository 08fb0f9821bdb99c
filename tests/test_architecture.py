"""The package layout keeps its promises: lower layers never import commands, no import
cycles between modules, no module over 600 lines, ``core`` depends on nothing else."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .conftest import ROOT

PACKAGE = ROOT / "scaffolder"
MODULES = {
    ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): path
    for path in sorted(PACKAGE.rglob("*.py"))
}
ENTRY_POINTS = ("scaffolder.cli", "scaffolder.__main__", "scaffolder.commands", "scaffolder.dev")


def _imports(path: Path, *, top_level_only: bool) -> set[str]:
    """scaffolder modules imported by ``path`` (at module level only, when asked; imports
    under ``if TYPE_CHECKING:`` never count)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            nested = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.ImportFrom) and child.module and (top or not top_level_only):
                if child.module.startswith("scaffolder"):
                    for alias in child.names:
                        full = f"{child.module}.{alias.name}"
                        found.add(full if full in MODULES else child.module)
            elif isinstance(child, ast.Import) and (top or not top_level_only):
                found.update(a.name for a in child.names if a.name.startswith("scaffolder"))
            visit(child, top and not nested)

    visit(tree, True)
    return {name for name in found if name in MODULES}


def test_lower_layers_never_import_commands_or_the_cli() -> None:
    offenders = {
        name: sorted(i for i in _imports(path, top_level_only=False) if i.startswith(ENTRY_POINTS))
        for name, path in MODULES.items()
        if not name.startswith(ENTRY_POINTS)
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_core_depends_on_nothing_else_in_netpol() -> None:
    offenders = {
        name: sorted(
            i for i in _imports(path, top_level_only=False) if not i.startswith("scaffolder.core")
        )
        for name, path in MODULES.items()
        if name.startswith("scaffolder.core")
    }
    assert {k: v for k, v in offenders.items() if v and v != ["scaffolder"]} == {}


def test_no_import_cycles_between_modules() -> None:
    graph = {name: _imports(path, top_level_only=True) for name, path in MODULES.items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def walk(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if nxt == node or nxt == "scaffolder":
                continue
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                walk(nxt, [*stack, nxt])
        state[node] = 2

    for name in graph:
        if name not in state:
            walk(name, [name])
    assert cycles == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_over_600_lines(name: str) -> None:
    lines = MODULES[name].read_text(encoding="utf-8").count("\n")
    assert lines <= 600, f"{name} has {lines} lines; split it by concern"
