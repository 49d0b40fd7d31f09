"""The pure stages on files: tests/cases/<kind>/<case>/{old.*,new.*,expected.json}.

``old.document.json`` / ``new.document.json`` hold what ``parse`` must make of ``old.*`` /
``new.*``, with the kind's ``PARSER_VERSION``: every parser change shows there, line by
line. They are written by ``python tools/golden.py`` (see its docstring), never by a test.

``expected.json`` holds ``triggers``: a list of ``{"type", "entities"?, "severity"?}``
that must be exactly the fired triggers (entities compared as sets; severity only when
given), and optionally ``changed`` (bool) and ``ops`` (a list of ``[op, key]`` pairs that
must all appear among the changes). ``settings.json``, when present, holds the source's
options; ``context.json`` the vendor's ``names`` (what ``reassess diff --names`` passes).
A noise-only case expects ``{"changed": false, "triggers": []}``.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from sources import REGISTRY
from triggers.offline import diff_bodies

ROOT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).parent / "cases"


def _golden_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("golden", ROOT / "tools" / "golden.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GOLDEN = _golden_tool()


def _cases() -> list[Path]:
    return sorted(p for p in CASES.glob("*/*") if (p / "expected.json").exists())


def _fire(kind_name: str, old: bytes, new: bytes, raw: dict[str, Any],
          names: list[str] | None = None,
          ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(changes, triggers) of two bodies, as ``reassess diff`` gives them."""
    result = diff_bodies(kind_name, old, new, raw, names=names)
    return result["changes"], result["triggers"]


def _one(folder: Path, stem: str) -> bytes:
    files = [p for p in folder.iterdir() if p.stem == stem]
    assert len(files) == 1, f"{folder}: expected exactly one {stem}.* file"
    return files[0].read_bytes()


@pytest.mark.parametrize("case", _cases(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_case(case: Path) -> None:
    kind = case.parent.name
    assert kind in REGISTRY, f"tests/cases/{kind} names no registered kind"
    expected = json.loads((case / "expected.json").read_text())
    settings_file = case / "settings.json"
    settings = json.loads(settings_file.read_text()) if settings_file.exists() else {}
    context_file = case / "context.json"  # the vendor's names (``--names``)
    names = json.loads(context_file.read_text())["names"] if context_file.exists() else None
    changes, got = _fire(kind, _one(case, "old"), _one(case, "new"), settings, names)

    if "changed" in expected:
        assert bool(changes) is expected["changed"], changes
    want = expected["triggers"]
    assert sorted(t["type"] for t in got) == sorted(t["type"] for t in want), got
    for w in want:
        matches = [g for g in got if g["type"] == w["type"]
                   and ("entities" not in w or set(g["entities"]) == set(w["entities"]))
                   and ("severity" not in w or g["severity"] == w["severity"])]
        assert matches, f"no trigger matches {w}; got {got}"
    for op, key in expected.get("ops", []):
        assert any(c["op"] == op and c["key"] == key for c in changes), (
            f"no {op} {key!r} in {changes}")


@pytest.mark.parametrize("side", GOLDEN.SIDES)
@pytest.mark.parametrize("case", GOLDEN.case_folders(),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_parse_gives_the_golden_document(case: Path, side: str) -> None:
    path = GOLDEN.golden_path(case, side)
    assert path.exists(), f"{path} is missing: run python tools/golden.py"
    want = json.loads(path.read_text(encoding="utf-8"))
    got = GOLDEN.expected(case, side)
    assert got["parser_version"] == want["parser_version"], (
        f"{path}: written by parser version {want['parser_version']}; run tools/golden.py")
    assert got["data"] == want["data"], f"{path}: the parse changed; see tools/golden.py"


def test_every_kind_has_cases() -> None:
    kinds_with_cases = {p.parent.name for p in _cases()}
    assert set(REGISTRY) <= kinds_with_cases, set(REGISTRY) - kinds_with_cases
