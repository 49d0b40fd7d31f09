"""A pass keeps few fetch tasks and bodies alive at once, and still checks every source:
tasks are started as others end, hosts take turns, results wait in a bounded backlog."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from config.loader import parse_config
from monitor.check import pipeline
from monitor.check.pipeline import Checker, _interleaved
from storage.db import open_database

DOCS = {"subprocessors": "subprocessors", "changelog.atom": "changelog",
        "status/history.atom": "incidents", "dpa": "page"}


def test_interleaved_lets_hosts_take_turns() -> None:
    rows = [SimpleNamespace(id=f"{h}{i}") for h in "ab" for i in range(3)]
    rows.append(SimpleNamespace(id="c0"))
    watches: Any = {r.id: SimpleNamespace(source=SimpleNamespace(url=f"http://{r.id[0]}.test/x"))
                    for r in rows}
    assert [r.id for r in _interleaved(rows, watches)] == ["a0", "b0", "c0", "a1", "b1", "a2",
                                                            "b2"]


def test_a_pass_larger_than_its_bounds_checks_every_source(
        site: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "SPAWN", 1)  # at most 4 × concurrency = 4 tasks alive
    monkeypatch.setattr(pipeline, "BACKLOG", 1)
    sources = "\n".join(
        f"      - {{id: {v}-{i}, kind: {kind}, url: \"{site.base_url}/{v}/{d}\"}}"
        for v in ("acme", "northwind", "heliosml") for i, (d, kind) in enumerate(DOCS.items()))
    config = parse_config(
        f"database: sqlite:///{tmp_path}/r.db\nhttp: {{concurrency: 1, per_host: 1}}\n"
        f"vendors:\n  - id: all\n    name: All\n    sources:\n{sources}\n")
    engine = open_database(config.database)
    checker = Checker(config, engine)
    checker.sync()
    try:
        first = asyncio.run(checker.check())
        assert first.checked == 12 and first.baseline == 12 and first.failed == 0
        again = asyncio.run(checker.check())
        assert again.checked == 12 and again.failed == 0
    finally:
        checker.close()
    engine.dispose()
