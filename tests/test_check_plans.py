"""Every statement a check runs finds its rows by an index, on SQLite and PostgreSQL.

A check's reads and writes run thousands of times an hour for as long as the install
lives, on tables that only grow (snapshots, triggers, flags, audit events, the outbox,
the chain): one that scans a table, or sorts a source's whole history to take its
newest rows, costs more with every week of history. Here a seeded install (a history of
triggers and check runs, true baselines) is checked twice against the simulated site,
documents changing in between, the notifier delivers what they queued, the periodic jobs
run (reviews due, deadline reminders, retention), and the plan of every statement those
rounds ran is read (``EXPLAIN``; on PostgreSQL with sequential scans disabled, as a large
table has them).
"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from plans import explain, record
from sqlalchemy import update
from sqlalchemy.engine import Engine

from bench.seed import seed
from bench.workload import documents, reassess_config
from config import load_config
from monitor.check.pipeline import Checker
from monitor.clock import utcnow
from monitor.daemon.lifecycle import fire_review_due
from monitor.demo.vendorsite import VendorSite
from monitor.evidence.deadlines import notify_deadlines
from monitor.notify.notifier import deliver_due
from monitor.notify.routing import Routing
from storage.db import open_database
from storage.models import Source
from storage.retention import prune

N = 30
# The tables that grow with time or with the install (the config's tables, vendors and
# assessments, are read whole only where the config is: at sync).
GROWING = ("source", "snapshot", "checkrun", "trigger", "assessmentflag", "auditevent",
           "outbox", "chain_record", "deadline_notice", "trigger_count", "vendor_activity")
HISTORIES = ("snapshot", "checkrun", "trigger", "assessmentflag", "auditevent", "chain_record")


def _problems(engine: Engine, statement: str, plan: list[str]) -> list[str]:
    pg = engine.dialect.name == "postgresql"
    out = []
    for line in plan:
        for table in GROWING:
            if pg and re.search(rf'Seq Scan on "?{table}"?\b', line):
                out.append(line.strip())
            if not pg and re.match(rf'\s*SCAN "?{table}"?(\s|$)', line):
                out.append(line.strip())
    # The newest rows of a history: the index gives them in order, the LIMIT stops it.
    # (A claim sorts what is due, sources or pending notifications: a queue, not a history.)
    limited = re.search(r"\bLIMIT\b", statement, re.I) and re.search(
        r'\bFROM\s+"?(' + "|".join(HISTORIES) + r')"?\b', statement, re.I)
    if limited and any(("TEMP B-TREE FOR ORDER BY" in line) or
                       re.match(r"\s*(->\s*)?(Incremental )?Sort\b", line) for line in plan):
        out.append("the newest rows are found by sorting every match")
    return out


# What may read a whole table, and why.
EXEMPT = {
    # the trigger counts are folded whole by retention's compaction (storage/counts.py):
    # one row a key on SQLite, a few a write statement on PostgreSQL until folded
    r"\btrigger_count\b": "folded whole, hourly",
    # retention asks which of a page of old snapshots are some source's current version:
    # the sources are the config's, not a history
    r"SELECT DISTINCT source\.current_snapshot_id\b": "the config's sources, hourly",
}


def _explainable(statement: str) -> bool:
    if any(re.search(pattern, statement) for pattern in EXEMPT):
        return False
    head = statement.lstrip().split(None, 1)[0].upper()
    return head in ("SELECT", "UPDATE", "DELETE", "INSERT", "WITH") and \
        re.search(r"\b(FROM|UPDATE|INTO|JOIN)\s+\"?(" + "|".join(GROWING) + r")\"?\b",
                  statement, re.I) is not None


def _check_due(config_path: Path, seen_on: list[list[tuple[str, Any]]]) -> dict[str, int]:
    """One round of what the daemon's dispatch does: claim what is due, check it, write it
    with its notifications (``Routing``)."""
    config = load_config(config_path)
    engine = open_database(config.database)
    with engine.begin() as conn:  # everything due now
        conn.execute(update(Source).values(next_due_at=utcnow() - timedelta(seconds=1)))
    seen = record(engine)
    checker = Checker(config, engine, router=Routing(config))
    try:
        summary = asyncio.run(checker.check_due(limit=N))
    finally:
        checker.close()
        engine.dispose()
    seen_on.append(seen)
    return summary.outcomes


def test_every_statement_of_a_check_uses_an_index(db_url: str, tmp_path: Path,
                                                  generated_site: VendorSite) -> None:
    path = tmp_path / "reassess.yaml"
    seed(db_url, path, sources=N, triggers=400, checkruns=3,
         base_url=str(generated_site.base_url), interval="15m", days=90, analyze=False,
         workers=1, cache=tmp_path / "cache")
    # every vendor's owner a channel, so the checks write notifications to the outbox
    text = reassess_config(documents(N), str(generated_site.base_url), tmp_path / "x.db",
                           concurrency=16, interval="15m", channel_url="json://127.0.0.1:9/")
    database = next(line for line in path.read_text().splitlines()
                    if line.startswith("database:"))
    path.write_text(re.sub(r"^database:.*$", lambda _: database, text, flags=re.M))
    paths = [d.path for d in documents(N)]
    seen_on: list[list[tuple[str, Any]]] = []
    generated_site.mutate_random(8, paths=paths, seed=15)
    first = _check_due(path, seen_on)
    generated_site.mutate_random(8, paths=paths, seed=16)
    second = _check_due(path, seen_on)
    assert first.get("changed", 0) >= 3 and second.get("changed", 0) >= 3, (first, second)
    # the notifier's round over what the checks queued (the channel refuses: retried later)
    config = load_config(path)
    engine = open_database(config.database)
    seen_on.append(record(engine))
    try:
        report = deliver_due(config, engine, worker="plans")
    finally:
        engine.dispose()
    assert report.retrying >= 1, report
    # the periodic jobs: reviews due, deadline reminders, then retention with every
    # snapshot old enough to be asked about
    engine = open_database(config.database)
    seen_on.append(record(engine))
    try:
        fire_review_due(config, engine)
        notify_deadlines(config, engine, utcnow() + timedelta(days=400))
        pruned = prune(engine, utcnow() + timedelta(days=400), older_than=86400,
                       keep_versions=1, batch=7)
    finally:
        engine.dispose()
    assert pruned.check_runs and pruned.snapshots, pruned

    engine = open_database(load_config(path).database)
    try:
        checked: dict[str, list[str]] = {}
        for statement, parameters in (s for seen in seen_on for s in seen):
            if statement in checked or not _explainable(statement):
                continue
            checked[statement] = _problems(engine, statement,
                                           explain(engine, statement, parameters))
    finally:
        engine.dispose()
    assert len(checked) >= 12, f"too few statements seen: {len(checked)}"
    bad = {s: p for s, p in checked.items() if p}
    assert not bad, "statements of a check without an index:\n" + "\n\n".join(
        f"{s}\n  -> {p}" for s, p in bad.items())
