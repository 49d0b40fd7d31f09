"""The pure stages on files: tests/cases/<kind>/<case>/{old.*,new.*,expected.json}.

``expected.json`` holds ``triggers``: a list of ``{"type", "entities"?, "severity"?}``
that must be exactly the fired triggers (entities compared as sets; severity only when
given), and optionally ``changed`` (bool) and ``ops`` (a list of ``[op, key]`` pairs that
must all appear among the changes). ``settings.json``, when present, holds the source's
options. A noise-only case expects ``{"changed": false, "triggers": []}``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sources import REGISTRY
from triggers.offline import diff_bodies

CASES = Path(__file__).parent / "cases"


def _cases() -> list[Path]:
    return sorted(p for p in CASES.glob("*/*") if (p / "expected.json").exists())


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
    result = diff_bodies(kind, _one(case, "old"), _one(case, "new"), settings)

    if "changed" in expected:
        assert result["changed"] is expected["changed"], result["changes"]
    got = result["triggers"]
    want = expected["triggers"]
    assert sorted(t["type"] for t in got) == sorted(t["type"] for t in want), got
    for w in want:
        matches = [g for g in got if g["type"] == w["type"]
                   and ("entities" not in w or set(g["entities"]) == set(w["entities"]))
                   and ("severity" not in w or g["severity"] == w["severity"])]
        assert matches, f"no trigger matches {w}; got {got}"
    for op, key in expected.get("ops", []):
        assert any(c["op"] == op and c["key"] == key for c in result["changes"]), (
            f"no {op} {key!r} in {result['changes']}")


def test_every_kind_has_cases() -> None:
    kinds_with_cases = {p.parent.name for p in _cases()}
    assert set(REGISTRY) <= kinds_with_cases, set(REGISTRY) - kinds_with_cases
