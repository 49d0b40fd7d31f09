"""Every history query uses an index: the plans of what the web UI, the API and the
CLI's history commands run, read with EXPLAIN QUERY PLAN (SQLite) and EXPLAIN
(PostgreSQL, sequential scans disabled, so a plan that still scans has no index to use).

The statements are the real ones: the test serves the pages and API calls over a small
seeded history (``bench.seed``) and records every SELECT the engine runs. A history
query may not read a whole history table (triggers, snapshots, flags, audit events,
notifications, check runs), and a trigger list ordered newest first must come in index
order (no sort of the matches), so a page costs its rows whatever the history's size.
A text search (``q=``) is served by its own index (``storage/search.py``: SQLite's FTS5
trigram table, PostgreSQL's pg_trgm GIN indexes), checked by
``test_text_search_uses_its_index``; the one exemption is a count whose words are all
shorter than three characters, which no trigram index serves. A list filtered by
assessment sorts its matches (that one assessment's flags, found by their index), as
does a search's list (its matches, found by the FTS index).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from plans import explain, record
from sqlalchemy.engine import Engine
from web_fixtures import LiveServer

from bench.seed import seed
from config import load_config
from storage.db import open_database

HISTORY = ("trigger", "snapshot", "assessmentflag", "auditevent", "outbox", "checkrun")
FILTERS = ("", "vendor=v0002", "type=incident", "severity=high", "status=open",
           "source=v0002-status", "assessment=v0002-review", "since=2026-01-01",
           "until=2026-06-01", "q=entity", "q=ENTITY+v0002", "q=en")
PATHS = ["/", "/vendors", "/vendors/v0002", "/assessments", "/assessments/v0002-review",
         "/triggers/5", "/api/summary", "/api/vendors/v0002", "/api/triggers/5",
         "/api/assessments/v0002-review", "/feeds/triggers.atom",
         *(f"/triggers?{f}" for f in FILTERS), *(f"/triggers?{f}&page=3" for f in FILTERS),
         *(f"/api/triggers?{f}" for f in FILTERS),
         *(f"/api/triggers?{f}&offset=40&limit=20" for f in FILTERS),
         *(f"/api/triggers?{f}&offset=2000&limit=20" for f in FILTERS)]  # a deep page


@pytest.fixture
def seeded(db_url: str, tmp_path: Path) -> Iterator[tuple[Engine, httpx.Client]]:
    seed(db_url, tmp_path / "reassess.yaml", sources=30, triggers=400, checkruns=2,
         base_url="http://127.0.0.1:9", interval="15m", days=365, analyze=False)
    # No statistics: the planner takes the tables for large, as a real history is (with
    # statistics of 400 rows it would rightly read them whole).
    config = load_config(tmp_path / "reassess.yaml")
    engine = open_database(config.database)
    server = LiveServer(config, engine).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            yield engine, client
    finally:
        server.stop()
        engine.dispose()


def _tables(statement: str) -> set[str]:
    return {t for t in HISTORY if re.search(rf'\b(FROM|JOIN)\s+"?{t}"?\b', statement, re.I)}


def _exempt(statement: str, parameters: Any) -> bool:
    if "1!=1" in statement:  # an empty IN (): SQLAlchemy's form of "no rows", read nowhere
        return True
    # a count of words too short for a trigram index (a scan; longer words use the index)
    values = parameters.values() if isinstance(parameters, dict) else parameters or ()
    patterns = [v for v in values if isinstance(v, str) and v.startswith("%")]
    return " LIKE " in statement.upper() and "count(" in statement.lower() and \
        all(len(p.strip("%")) < 3 for p in patterns)


def _problems(engine: Engine, statement: str, plan: list[str]) -> list[str]:
    out = []
    pg = engine.dialect.name == "postgresql"
    for line in plan:
        for table in HISTORY:
            if pg:
                if re.search(rf'Seq Scan on "?{table}"?\b', line):
                    out.append(line.strip())
            elif re.match(rf'\s*SCAN "?{table}"?(\s|$)', line) and "INDEX" not in line:
                out.append(line.strip())
    # Ordered newest first with one filter: the index gives the order. Filtered by an
    # assessment, the matches are that assessment's flags (found by their index), sorted.
    # A deep page sorts only its own rows, found by id from the ordered index.
    ordered = re.search(r'ORDER BY "?trigger"?\.created_at DESC', statement) and \
        "assessmentflag" not in statement and " MATCH " not in statement and not re.search(
            r'"?trigger"?\.id IN \(SELECT', statement)
    if ordered and "LIMIT" in statement.upper() and not pg and \
            any("TEMP B-TREE FOR ORDER BY" in line for line in plan) and " LIKE " not in \
            statement.upper() and statement.upper().count(" AND ") < 2:
        out.append("the matches are sorted: no index gives their order")
    return out


def test_every_history_query_uses_an_index(seeded: tuple[Engine, httpx.Client]) -> None:
    engine, client = seeded
    seen = record(engine, selects_only=True)
    for path in PATHS:
        res = client.get(path)
        assert res.status_code == 200, (path, res.status_code, res.text[:300])
    checked: dict[str, list[str]] = {}
    for statement, parameters in seen:
        if statement in checked or not _tables(statement) or _exempt(statement, parameters):
            continue
        checked[statement] = _problems(engine, statement, explain(engine, statement, parameters))
    assert len(checked) >= 15, f"too few history queries seen: {len(checked)}"
    bad = {s: p for s, p in checked.items() if p}
    assert not bad, "history queries without an index:\n" + "\n\n".join(
        f"{s}\n  -> {p}" for s, p in bad.items())


SEARCHES = ["/triggers?q=entity", "/triggers?q=Entity+v0002&page=2", "/api/triggers?q=entity",
            "/api/triggers?q=entity+v0002&vendor=v0002", "/triggers.csv?q=entity"]


def test_text_search_uses_its_index(seeded: tuple[Engine, httpx.Client]) -> None:
    """``q=``'s count and list read the search index: SQLite's FTS5 table answers the
    words' matches (no scan of the triggers); PostgreSQL's count reads both trigram
    indexes (with sequential scans disabled, as a large table would have them)."""
    engine, client = seeded
    seen = record(engine, selects_only=True)
    for path in SEARCHES:
        res = client.get(path)
        assert res.status_code == 200, (path, res.status_code, res.text[:300])
    searched = [(s, p) for s, p in seen if " MATCH " in s or " LIKE " in s.upper()]
    assert len(searched) >= 5
    pg = engine.dialect.name == "postgresql"
    counted = 0
    for statement, parameters in searched:
        plan = explain(engine, statement, parameters)
        assert not _problems(engine, statement, plan), (statement, plan)
        if pg and "count(" in statement.lower() and "vendor_id" not in statement:
            counted += 1  # the words alone: only their indexes serve them
            text = "\n".join(plan)
            assert "ix_trigger_title_trgm" in text and "ix_trigger_entities_trgm" in text, \
                (statement, plan)
    assert counted or not pg
    if not pg:
        fts = [(s, p) for s, p in searched if " MATCH " in s]
        assert fts and not [s for s, _ in searched if " LIKE " in s.upper()], searched
        for statement, parameters in fts:
            plan = explain(engine, statement, parameters)
            assert any(re.match(r"\s*SCAN trigger_search VIRTUAL TABLE INDEX", line)
                       for line in plan), (statement, plan)


def test_dashboard_and_summary_count_nothing_from_the_history(
        seeded: tuple[Engine, httpx.Client]) -> None:
    """The dashboard's and the summary's open counts, and the history's count of every
    trigger (or of a type, severity or status), come from ``trigger_count``
    (``storage/counts.py``), not from the triggers; the failing sources from their
    partial index (``ix_source_failing``), not from every source."""
    engine, client = seeded
    seen = record(engine, selects_only=True)
    for path in ("/", "/api/summary", "/api/triggers?offset=2000&limit=20", "/triggers",
                 "/triggers?status=open&page=3", "/api/triggers?type=incident&severity=high"):
        res = client.get(path)
        assert res.status_code == 200, (path, res.status_code, res.text[:300])
    # the old forms: every trigger counted (no group), or the open ones by type
    counted = [s for s, _ in seen
               if (re.search(r'count\(\*\)[^,]*\sFROM "?trigger"?\s', s) and "GROUP BY" not in s)
               or re.search(r'GROUP BY "?trigger"?\.type', s)]
    assert not counted, counted
    assert any("trigger_count" in s for s, _ in seen)
    failing = [(s, p) for s, p in seen if re.search(r"\bFROM source\b", s)
               and "consecutive_failures" in s]
    assert failing
    for statement, parameters in failing:
        plan = "\n".join(explain(engine, statement, parameters))
        assert "ix_source_failing" in plan, plan
