"""The house: perfkit's imports follow the data's way, and nothing imports in a cycle.

Layers, lowest first (a module may import its own layer's package and any lower layer):

    0  perfkit._version, perfkit._paths, perfkit._lazy, perfkit.errors, perfkit.fmt   (leaves)
    1  perfkit.data                                                    (schema, store, readers)
    2  perfkit.collect | perfkit.analysis                              (siblings: neither imports the other)
    3  perfkit.present
    4  perfkit.cli, perfkit.demo                                          (the applications)
    5  perfkit (the public API), perfkit.__main__

Every import counts, at module level or inside a function: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "perfkit"

LEAVES = {"perfkit._version", "perfkit._paths", "perfkit._lazy", "perfkit.errors", "perfkit.fmt"}
LAYERS = {"perfkit.data": 1, "perfkit.collect": 2, "perfkit.analysis": 2, "perfkit.present": 3,
          "perfkit.cli": 4, "perfkit.demo": 4}
#: Packages of one rank that form one group (they may import each other).
GROUPS = {"perfkit.demo": "perfkit.cli"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(name: str, modules: set[str]) -> str | None:
    """The longest prefix of ``name`` that is a perfkit module (``from a.b import c`` may name a
    module ``a.b.c`` or an attribute of ``a.b``)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def import_graph() -> dict[str, set[str]]:
    """Module → the perfkit modules it imports, from the source with ``ast``."""
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(files)
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        deps: set[str] = set()
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative import
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [f"{base}.{alias.name}" for alias in node.names] or [base]
            for target in targets:
                if target.split(".")[0] != "perfkit":
                    continue
                found = _resolve(target, modules)
                if found and found != name:
                    deps.add(found)
        graph[name] = deps
    return graph


def layer(module: str) -> tuple[int, str]:
    """(rank, group) of a module; the group tells the siblings of one rank apart."""
    if module in LEAVES:
        return 0, module
    for prefix, rank in LAYERS.items():
        if module == prefix or module.startswith(prefix + "."):
            return rank, GROUPS.get(prefix, prefix)
    return 5, "perfkit"  # perfkit/__init__ and __main__: the top


def violations(graph: dict[str, set[str]]) -> list[str]:
    """Imports that point up, sideways between siblings, or out of a leaf."""
    bad = []
    for module, deps in sorted(graph.items()):
        rank, group = layer(module)
        for dep in sorted(deps):
            dep_rank, dep_group = layer(dep)
            if dep_group == group and rank > 0:
                continue  # inside one package
            if module in LEAVES or dep_rank > rank or (dep_rank == rank and dep_group != group):
                bad.append(f"{module} imports {dep} ({group} may not depend on {dep_group})")
    return bad


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_every_import_follows_the_layers():
    assert violations(import_graph()) == []


def test_no_import_cycle():
    # the public API (perfkit/__init__) imports everything; nothing may import it back
    assert cycles(import_graph()) == []


def test_the_checks_catch_an_upward_import_and_a_cycle():
    graph = import_graph()
    graph["perfkit.data.store"] = graph["perfkit.data.store"] | {"perfkit.present.report"}
    assert any("perfkit.data.store imports perfkit.present.report" in v for v in violations(graph))
    graph = import_graph()
    graph["perfkit.data.schema"] = graph["perfkit.data.schema"] | {"perfkit.data.store"}
    assert ["perfkit.data.schema", "perfkit.data.store"] in cycles(graph)
    sideways = {"perfkit.collect.measure": {"perfkit.analysis.verdict"}}
    assert violations(sideways) == [
        "perfkit.collect.measure imports perfkit.analysis.verdict "
        "(perfkit.collect may not depend on perfkit.analysis)"
    ]


def test_nothing_imports_the_package_root():
    # `from perfkit import x` inside the package would run perfkit/__init__ (the whole API) first
    importers = [m for m, deps in import_graph().items() if "perfkit" in deps and m != "perfkit.__main__"]
    assert importers == []


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: module_name(p))
def test_modules_stay_small_or_say_why(path):
    lines = path.read_text(encoding="utf-8").count("\n")
    if lines <= 550:
        return
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    assert "one module" in doc, f"{path.name}: {lines} lines; split it or say why it is one module"


def test_every_subpackage_says_what_it_owns_and_may_import():
    for init in PACKAGE.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert "May import" in doc, init
