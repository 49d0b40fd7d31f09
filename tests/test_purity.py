"""The pure stages stay pure, and no two modules import each other, read from the code.

Every module under ``sources/`` and ``triggers/`` is parsed with ``ast`` and every import
it writes is checked, those inside functions and ``TYPE_CHECKING`` blocks included:

* neither imports ``storage``, ``monitor`` or the database, notification and scheduling
  libraries; ``sources`` never imports ``triggers`` (rules judge, kinds report);
* only ``sources/fetch.py`` talks HTTP (httpx and its transport);
* no import cycle between modules. ``from pkg import x`` is an edge to ``pkg/x.py`` when
  that module exists, otherwise to ``pkg/__init__.py``; ``import a.b`` to ``a/b``.

A runtime check completes it: importing every one of these modules loads none of the
forbidden packages through a third party.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PURE = ("sources", "triggers")
NEVER = ("storage", "monitor", "sqlmodel", "sqlalchemy", "alembic", "psycopg", "apprise",
         "apscheduler")
HTTP = ("httpx", "httpx_aiohttp", "aiohttp")
HTTP_ALLOWED = {"sources.fetch"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for top in PURE for p in sorted((ROOT / top).rglob("*.py"))}


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES.get(name, Path()).name == "__init__.py"


def imports(name: str) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every import the module writes, anywhere in it.
    ``from m import x`` yields ``m.x`` when that is one of ours, else ``m``."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    package = name if _is_package(name) else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield (f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES
                       else base), node.lineno


def _top(imported: str) -> str:
    return imported.split(".")[0]


def test_every_module_is_walked() -> None:
    assert {"sources", "sources.base", "triggers.changelog", "sources.read.html"} <= set(MODULES)
    from sources import REGISTRY

    for kind in REGISTRY:  # every registered kind is a module or package walked here
        assert any(m == f"sources.{kind}" or m.startswith(f"sources.{kind}.")
                   for m in MODULES), kind


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_forbidden_import(name: str) -> None:
    bad = []
    for imported, line in imports(name):
        top = _top(imported)
        if top in NEVER:
            bad.append(f"line {line}: {imported} (the pure stages never touch it)")
        elif top in HTTP and name not in HTTP_ALLOWED:
            bad.append(f"line {line}: {imported} (HTTP belongs to sources/fetch.py)")
        elif name.startswith("sources") and top == "triggers":
            bad.append(f"line {line}: {imported} (a kind reports; rules in triggers/ judge)")
    assert not bad, f"{MODULES[name].relative_to(ROOT)}: " + "; ".join(bad)


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for name in MODULES:
        for imported, _ in imports(name):
            target = imported
            while target and target not in MODULES:  # "import a.b.c" of a name in a.b
                target = target.rpartition(".")[0]
            if target and target != name:
                graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle() -> None:
    assert cycles(_graph()) == []


def test_the_cycle_finder_finds_one() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_importing_them_loads_no_forbidden_package() -> None:
    """What ``ast`` cannot see: a third-party package that imports one of them."""
    names = sorted(m for m in MODULES if m not in HTTP_ALLOWED)
    code = (f"import importlib, sys\nfor m in {names!r}:\n    importlib.import_module(m)\n"
            f"print(','.join(sorted(m for m in {(*NEVER, *HTTP)!r} if m in sys.modules)))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=False, stdin=subprocess.DEVNULL)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == ""
