"""The package reads as the data flow: layers import one way, and no module imports itself in a circle.

    core -> store -> {ingest, catalog, models} -> ledger -> publish -> explain -> pipeline -> cli (and dags/)

A module may import the registry's own modules from lower layers and from its own package only;
`ingest`, `catalog` and `models` are siblings and do not import each other. Every import counts,
also one inside a function. docs/architecture.md explains the layers.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from registry.core.settings import REPO_ROOT

PACKAGE = REPO_ROOT / "registry"
LAYERS: dict[str, int] = {
    "core": 0, "store": 1, "ingest": 2, "catalog": 2, "models": 2, "ledger": 3, "publish": 4, "explain": 5,
    "pipeline": 6, "cli": 7,
}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def registry_imports(path: Path) -> set[str]:
    """Every `registry...` module `path` imports (from X import y counts X.y when that is a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "registry"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "registry":
            found.add(node.module)
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                if (PACKAGE.parent / (candidate.replace(".", "/") + ".py")).exists() or \
                        (PACKAGE.parent / candidate.replace(".", "/") / "__init__.py").exists():
                    found.add(candidate)
    return found


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    problems = []
    for module, imported in sorted(graph.items()):
        own = layer_of(module)
        if own is None:
            continue
        if own not in LAYERS:
            problems.append(f"{module}: package registry.{own} is not in the layer order (tests/test_architecture.py)")
            continue
        for target in sorted(imported):
            other = layer_of(target)
            if other is None or other == own:
                continue
            if other not in LAYERS:
                problems.append(f"{module} imports {target}: registry.{other} is not in the layer order")
            elif LAYERS[other] >= LAYERS[own]:
                kind = "a sibling" if LAYERS[other] == LAYERS[own] else "a higher layer"
                problems.append(f"{module} (layer {own}) imports {target}: {kind} (registry.{other})")
    return problems


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                found.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def import_graph() -> dict[str, set[str]]:
    # A package's __init__ imports nothing here, so `from registry.x import y` resolves to the module y.
    graph = {name: registry_imports(path) for name, path in modules().items()}
    return {name: {t for t in targets if t in graph or t.rsplit(".", 1)[0] in graph} for name, targets in graph.items()}


def test_every_package_is_a_layer() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages | {"cli"} == set(LAYERS), "a package of registry/ is missing from, or extra in, LAYERS"


def test_imports_follow_the_layer_order() -> None:
    problems = layer_violations(import_graph())
    assert not problems, "imports against the layer order:\n" + "\n".join(problems)


def test_no_import_cycle() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_the_checks_catch_a_wrong_import() -> None:
    """The rule itself, on a graph with a deliberate mistake: ledger importing pipeline, a cycle."""
    graph = {"registry.ledger.append": {"registry.pipeline.nightly"},
             "registry.pipeline.nightly": {"registry.ledger.append"},
             "registry.ingest.land": {"registry.catalog.read"}, "registry.catalog.read": set()}
    problems = layer_violations(graph)
    assert any("registry.ledger.append (layer ledger) imports registry.pipeline.nightly: a higher layer" in p
               for p in problems)
    assert any("a sibling (registry.catalog)" in p for p in problems)
    assert cycles(graph)


def test_the_package_does_not_import_test_or_bench_code() -> None:
    offenders = sorted(name for name, path in modules().items()
                       if re.search(r"^\s*(from|import) (bench|tests|conftest)\b", path.read_text(encoding="utf-8"),
                                    flags=re.M))
    assert not offenders, f"the shipped package imports bench/test code: {offenders}"


@pytest.mark.parametrize("folder", ["registry", "dags"])
def test_only_settings_reads_the_environment(folder: str) -> None:
    settings_module = PACKAGE / "core" / "settings.py"
    offenders = []
    for path in sorted((REPO_ROOT / folder).rglob("*.py")):
        if path == settings_module:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if re.search(r"os\.environ|os\.getenv|getenv\(", line):
                offenders.append(f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}")
    assert not offenders, "only registry/core/settings.py reads the environment:\n" + "\n".join(offenders)
