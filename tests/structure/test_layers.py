"""Imports run one way: from the course layout up to the command line, never back, and never in a circle.

Every ``import`` of a vizgen module counts, those inside functions too: an import deferred for speed
(torch after the worker has started) is fine; one deferred to dodge a cycle is a layering fault.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "vizgen"

# Lowest first. A module may import its own layer and the layers below it; verbs import no other verb.
LAYERS = [
    ("vizgen", "vizgen.errors"),
    ("vizgen.course",),
    ("vizgen.assets",),
    ("vizgen.library",),
    ("vizgen.topics",),
    ("vizgen.author",),
    ("vizgen.sandbox",),
    ("vizgen.engine",),
    ("vizgen.check", "vizgen.grade", "vizgen.collect", "vizgen.release", "vizgen.references", "vizgen.gradescope"),
    ("vizgen.cli", "vizgen.__main__"),
]
VERBS = LAYERS[-2]


def _module_name(file: Path) -> str:
    parts = list(file.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _room(module: str) -> tuple[int, str]:
    """(layer, room): the room is the longest prefix listed in LAYERS."""
    best = max((prefix for layer in LAYERS for prefix in layer if module == prefix or module.startswith(prefix + ".")),
               key=len)
    return next(i for i, layer in enumerate(LAYERS) if best in layer), best


def _imports() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for file in sorted(PACKAGE.rglob("*.py")):
        name = _module_name(file)
        found = set()
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("vizgen")}
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("vizgen"):
                found.add(node.module)
                package = ROOT / Path(*node.module.split("."))
                found |= {f"{node.module}.{a.name}" for a in node.names if (package / f"{a.name}.py").is_file()
                          or (package / a.name / "__init__.py").is_file()}
        graph[name] = found - {name}
    return graph


GRAPH = _imports()


def test_no_module_imports_a_higher_layer_or_another_verb():
    upward = []
    for module, targets in GRAPH.items():
        layer, room = _room(module)
        for target in targets:
            their_layer, their_room = _room(target)
            if their_layer > layer or (room in VERBS and their_room in VERBS and room != their_room):
                upward.append(f"{module} imports {target}")
    assert not upward, "\n".join(upward)


def test_no_import_cycle_even_through_deferred_imports():
    known = set(GRAPH)
    state: dict[str, int] = {}
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(GRAPH.get(module, ())):
            if target not in known:
                continue
            if state.get(target) == 1:
                cycles.append(" -> ".join(path[path.index(target):] + [target]))
            elif target not in state:
                visit(target, path + [target])
        state[module] = 2

    for module in sorted(known):
        if module not in state:
            visit(module, [module])
    assert not cycles, "\n".join(cycles)


def test_no_package_holds_more_than_twelve_modules():
    crowded = {}
    for folder in [PACKAGE, *(p for p in PACKAGE.rglob("*") if p.is_dir() and (p / "__init__.py").is_file())]:
        modules = [f for f in folder.glob("*.py") if f.name not in ("__init__.py", "__main__.py")]
        if len(modules) > 12:
            crowded[str(folder.relative_to(ROOT))] = len(modules)
    assert not crowded, crowded


def test_topic_modules_borrow_nothing_from_each_other():
    """General helpers live in the library; a topic module imports no other topic module."""
    borrowed = [f"{m} imports {t}" for m, targets in GRAPH.items() if m.startswith("vizgen.topics.")
                for t in targets if t.startswith("vizgen.topics.") and t != m]
    assert not borrowed, borrowed
