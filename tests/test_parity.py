"""``reassess diff`` and ``reassess check`` give the same triggers for the same two
documents, for every registered kind: type, severity, title and entities.

The pairs are the case folders (``tests/cases/<kind>/<case>/{old.*,new.*}``, with their
``settings.json``): two per kind, semantic ones first. ``reassess check`` (the real CLI,
twice) watches a loopback server that serves every OLD, then every NEW; ``reassess diff
--kind K --config C --source S OLD NEW --json`` reads the same files as the same
configured source.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from sources import REGISTRY
from storage.db import open_database, session_scope
from storage.models import Trigger

CASES = Path(__file__).parent / "cases"
PER_KIND = 2
TYPES = {".html": "text/html; charset=utf-8", ".json": "application/json",
         ".xml": "application/xml", ".rss": "application/rss+xml",
         ".atom": "application/atom+xml", ".md": "text/markdown", ".mdx": "text/markdown",
         ".csv": "text/csv", ".txt": "text/plain", ".yaml": "text/yaml"}

Key = tuple[str, str, str, tuple[str, ...]]


def _one(folder: Path, stem: str) -> Path:
    [found] = [p for p in folder.iterdir() if p.stem == stem]
    return found


def _semantic(folder: Path) -> bool:
    return bool(json.loads((folder / "expected.json").read_text())["triggers"])


def pairs() -> list[Path]:
    """``PER_KIND`` case folders per registered kind: those that fire first (a kind with
    fewer of them is topped up with noise cases: both paths must agree on silence too)."""
    chosen = []
    for kind in REGISTRY:
        folders = sorted(p for p in (CASES / kind).glob("*") if (p / "expected.json").exists())
        ranked = sorted(folders, key=lambda p: not _semantic(p))
        assert ranked and _semantic(ranked[0]), f"tests/cases/{kind} has no case that fires"
        chosen += ranked[:PER_KIND]
    return chosen


class _Pages(BaseHTTPRequestHandler):
    """Serves ``server.pages``: path → (body, content type)."""

    def do_GET(self) -> None:
        body, content_type = self.server.pages[self.path]  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def pages() -> Iterator[tuple[str, dict[str, tuple[bytes, str]]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    served: dict[str, tuple[bytes, str]] = {}
    server.pages = served  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", served
    server.shutdown()
    server.server_close()


def _source_id(case: Path) -> str:
    return f"{case.parent.name}.{case.name}"[:80]


def _serve(served: dict[str, tuple[bytes, str]], cases: list[Path], stem: str) -> None:
    for case in cases:
        path = _one(case, stem)
        served[f"/{_source_id(case)}"] = (path.read_bytes(),
                                          TYPES.get(path.suffix, "application/octet-stream"))


def _key(t: dict[str, Any]) -> Key:
    return (t["type"], t["severity"], t["title"], tuple(t["entities"]))


def test_diff_and_check_fire_the_same_triggers(
        pages: tuple[str, dict[str, tuple[bytes, str]]], tmp_path: Path,
        run_cli: Callable[..., Any]) -> None:
    base, served = pages
    cases = pairs()
    assert {c.parent.name for c in cases} == set(REGISTRY)
    sources = []
    for case in cases:
        settings = case / "settings.json"
        sources.append({"id": _source_id(case), "kind": case.parent.name,
                        "url": f"{base}/{_source_id(case)}",
                        **(json.loads(settings.read_text()) if settings.exists() else {})})
    db = f"sqlite:///{tmp_path}/parity.db"
    config = tmp_path / "parity.yaml"
    config.write_text(yaml.safe_dump({
        "database": db, "schedule": {"jitter": 0},
        "vendors": [{"id": "acme", "name": "Acme AI", "sources": sources}]}))

    _serve(served, cases, "old")
    first = run_cli("check", "--config", str(config), "--no-notify")
    assert first.returncode == 0, first.stderr
    assert f"baseline {len(cases)}" in first.stdout, first.stdout
    _serve(served, cases, "new")
    second = run_cli("check", "--config", str(config), "--no-notify")
    assert second.returncode == 0, second.stderr

    engine = open_database(db)
    with session_scope(engine) as s:
        rows = s.execute(select(Trigger).where(Trigger.status != "suppressed")).scalars().all()
        checked: dict[str, list[Key]] = {}
        for row in rows:
            checked.setdefault(row.source_id or "", []).append(
                (row.type, row.severity, row.title, tuple(row.entities or [])))
    engine.dispose()

    for case in cases:
        res = run_cli("diff", "--kind", case.parent.name, "--config", str(config),
                      "--source", _source_id(case), str(_one(case, "old")),
                      str(_one(case, "new")), "--json")
        assert res.returncode == 0, res.stderr
        offline = sorted(_key(t) for t in json.loads(res.stdout)["triggers"])
        assert offline == sorted(checked.get(_source_id(case), [])), case
        assert bool(offline) == _semantic(case), (case, offline)
