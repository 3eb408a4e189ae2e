"""The package's structure: no import cycles, no module importing from a layer above its own, and no library
function taking more than ten parameters.

The layers are the table in docs/architecture.md ("Layers"), read from there so that the page and the code
cannot drift apart. Every import counts, also one inside a function (it is still a dependency).
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "videostyle"
ARCHITECTURE = ROOT / "docs" / "architecture.md"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """``{module: modules of the package it imports}``; ``from . import name`` counts as the submodule ``name``
    where there is one, and the package's own ``__init__`` (lazy names only) is left out."""
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
                source = ".".join(base + ([node.module] if node.module else []))
                targets = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source for alias in node.names]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            graph[name].update(t for t in targets if t in modules and t not in (name, "videostyle"))
    return graph


def layers() -> dict[str, int]:
    """``{top-level module or package: layer number}`` from the table under "## Layers" in docs/architecture.md."""
    text = ARCHITECTURE.read_text()
    section = text.split("\n## Layers", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith(("| layer", "| ---"))]
    placed: dict[str, int] = {}
    for number, row in enumerate(rows):
        for name in re.findall(r"`([a-z_]+)/?`", row.split("|")[2]):
            assert name not in placed, f"{name} is in two layers of docs/architecture.md"
            placed[name] = number
    return placed


def top_level(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_module_has_a_layer():
    placed = layers()
    units = {top_level(module) for module in import_graph()} | {top_level(module_name(p)) for p in PACKAGE.rglob("*.py")}
    assert units - set(placed) == set(), "add these to the layer table in docs/architecture.md"
    assert set(placed) - units == set(), "the layer table names modules that do not exist"


def test_no_module_imports_from_a_layer_above_its_own():
    placed = layers()
    upward = [
        f"{module} -> {target}"
        for module, targets in sorted(import_graph().items())
        for target in sorted(targets)
        if placed[top_level(target)] > placed[top_level(module)]
    ]
    assert upward == []


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """The components of more than one node (Tarjan 1972), iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return found


@pytest.mark.parametrize("level", ["module", "top-level module or package"])
def test_no_import_cycles(level):
    graph = import_graph()
    if level != "module":
        graph = {top: {top_level(t) for m, targets in graph.items() if top_level(m) == top for t in targets} - {top} for top in {top_level(m) for m in graph}}
    assert strongly_connected(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


#: Most parameters a library function takes; the command line's click commands and the web page's callbacks (one
#: parameter per control) are exempt.
MOST_PARAMETERS = 10


def long_signatures() -> list[str]:
    """``module:line name (count)`` of every function over :data:`MOST_PARAMETERS`, but for click commands (decorated
    ``@cli.command``) and the page's callbacks (functions nested in ``serve/app.py``'s tab builders)."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        nested = set()
        if path.relative_to(PACKAGE).as_posix() == "serve/app.py":
            for outer in ast.walk(tree):
                if isinstance(outer, ast.FunctionDef | ast.AsyncFunctionDef):
                    nested |= {id(inner) for inner in ast.walk(outer) if inner is not outer and isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or id(node) in nested:
                continue
            if any("command" in ast.unparse(decorator) for decorator in node.decorator_list):
                continue
            arguments = node.args
            names = [a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)]
            count = len(names) - (names[:1] in (["self"], ["cls"])) + bool(arguments.vararg) + bool(arguments.kwarg)
            if count > MOST_PARAMETERS:
                found.append(f"{module_name(path)}:{node.lineno} {node.name} ({count})")
    return found


def test_no_library_function_takes_more_than_ten_parameters():
    assert long_signatures() == []
