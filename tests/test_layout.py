"""The layout shows the architecture: no import cycle between the modules of monitor/,
storage/ and config/, counting every import (function-level and type-only ones too).

``from pkg import x`` is an edge to ``pkg/x.py`` when that module exists, else to
``pkg/__init__.py``; relative imports are resolved against the importing module.
"""

from __future__ import annotations

import ast
from pathlib import Path

from test_purity import cycles

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("monitor", "storage", "config")


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool,
              modules: dict[str, Path]) -> set[str]:
    if isinstance(node, ast.Import):
        return {a.name for a in node.names if a.name in modules}
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[:len(base) - (node.level - 1)]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
    targets = set()
    for alias in node.names:
        sub = f"{source}.{alias.name}"
        if sub in modules:
            targets.add(sub)
        elif source in modules:
            targets.add(source)
    return targets


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                edges |= _imported(node, name, path.name == "__init__.py", modules)
        graph[name] = edges - {name}
    return graph


def test_the_graph_sees_every_kind_of_import() -> None:
    graph = import_graph()
    assert "monitor.check.pipeline" in graph["monitor.daemon.daemon"]  # module level
    assert "monitor.daemon.lifecycle" in graph["monitor.check.runner"]  # function level
    assert "monitor.cli.app" in graph["monitor.cli"]  # relative, from a package
    assert {"monitor.cli.assess", "monitor.cli.notify"} <= graph["monitor.cli.app"]  # from . import


def test_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_cycles() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
