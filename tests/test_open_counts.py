"""``trigger_count`` (how many triggers of each type, severity and status, kept by SQL
triggers: ``storage/counts.py``) always equals what the triggers say, on SQLite and
PostgreSQL: under inserts (one and many a statement, repeats of a dedupe key), every
change of type, severity or status, deletes, rolled-back transactions, compaction,
the real fire / acknowledge / bulk acknowledge / resolve / retention path, and (on
PostgreSQL) writers in parallel, which never wait for each other on a count."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col
from web_fixtures import LiveServer, demo_config, seed, seed_history, sign_in

from monitor.demo.vendorsite import VendorSite
from storage import counts, lifecycle
from storage import queries as q
from storage.db import open_database, session_scope
from storage.models import Trigger, TriggerCount
from storage.repo import insert_trigger
from storage.retention import prune

Key = tuple[str, str, str]
TYPES = ("incident", "model_change", "subprocessor_change")
SEVERITIES = ("low", "high", "critical")


def _truth(session: Session) -> dict[Key, int]:
    rows = session.execute(select(col(Trigger.type), col(Trigger.severity),
                                  col(Trigger.status), func.count())
                           .group_by(col(Trigger.type), col(Trigger.severity),
                                     col(Trigger.status)))
    return {(t, s, st): int(n) for t, s, st, n in rows}


def _kept(session: Session) -> dict[Key, int]:
    total = func.sum(col(TriggerCount.n))
    rows = session.execute(select(col(TriggerCount.type), col(TriggerCount.severity),
                                  col(TriggerCount.status), total)
                           .group_by(col(TriggerCount.type), col(TriggerCount.severity),
                                     col(TriggerCount.status)).having(total != 0))
    return {(t, s, st): int(n) for t, s, st, n in rows}


def _scanned(session: Session, flt: q.TriggerFilter) -> int:
    """The count as it was read before: from the triggers."""
    return int(session.execute(flt.apply(select(func.count()).select_from(Trigger)))
               .scalar_one())


FILTERS = [q.TriggerFilter(), q.TriggerFilter(status="open"),
           q.TriggerFilter(type="incident"), q.TriggerFilter(severity="high"),
           q.TriggerFilter(type="model_change", severity="critical", status="acknowledged"),
           q.TriggerFilter(status="resolved"), q.TriggerFilter(type="no_such_type")]


def _agrees(engine: Engine) -> dict[Key, int]:
    """The kept counts equal the triggers', and so do what the dashboard, the summary and
    the history read from them."""
    with session_scope(engine, write=False) as session:
        kept, truth = _kept(session), _truth(session)
        assert kept == truth
        assert q.open_trigger_counts(session) == {
            (t, s): n for (t, s, st), n in truth.items() if st == "open"}
        for flt in FILTERS:
            assert q.count_triggers(session, flt) == _scanned(session, flt), flt
        assert q.count_triggers(session, q.TriggerFilter(), cap=2) == min(
            sum(truth.values()), 3)
    return kept


def _row(n: int, *, type: str = "incident", severity: str = "low", status: str = "open",
         vendor: str = "acme", key: str | None = None) -> dict[str, Any]:
    return {"dedupe_key": key or f"k{n}", "type": type, "severity": severity,
            "title": f"t{n}", "vendor_id": vendor, "entities": [], "status": status,
            "created_at": datetime.now(UTC) - timedelta(minutes=n)}


def test_kept_through_inserts_changes_deletes_and_compaction(engine: Engine) -> None:
    rng = random.Random(7)
    rows = [_row(i, type=rng.choice(TYPES), severity=rng.choice(SEVERITIES),
                 status=rng.choice(("open", "open", "acknowledged", "suppressed")),
                 vendor=rng.choice(("acme", "northwind"))) for i in range(300)]
    with session_scope(engine) as session:  # one statement, many rows and keys
        session.execute(insert(Trigger), rows[:200])
    _agrees(engine)
    with session_scope(engine) as session:  # one at a time, and a repeated dedupe key
        for r in rows[200:]:
            assert insert_trigger(session, r) is not None
        assert insert_trigger(session, {**rows[0], "title": "again"}) is None
    assert sum(_agrees(engine).values()) == 300
    with session_scope(engine) as session:
        opened = list(session.execute(select(col(Trigger.id)).where(
            col(Trigger.status) == "open").order_by(col(Trigger.id)).limit(20)).scalars())
        now = datetime.now(UTC)
        for tid in opened[:10]:
            assert lifecycle.acknowledge(session, tid, by="alice", now=now)[1]
        assert not lifecycle.acknowledge(session, opened[0], by="alice", now=now)[1]
        # a bulk move of status; of severity (some rows keep theirs); type and status at
        # once; a change of another column only; a status set to what it already is
        session.execute(update(Trigger).where(col(Trigger.id).in_(opened[10:])).values(
            status="resolved"))
        session.execute(update(Trigger).where(col(Trigger.vendor_id) == "northwind")
                        .values(severity="high"))
        session.execute(update(Trigger).where(col(Trigger.id) % 7 == 0).values(
            type="model_change", status="acknowledged"))
        session.execute(update(Trigger).values(title=func.upper(col(Trigger.title))))
        session.execute(update(Trigger).where(col(Trigger.status) == "open")
                        .values(status="open"))
    _agrees(engine)
    with session_scope(engine) as session:  # a row born, moved and gone in one transaction
        tid = insert_trigger(session, _row(1000, type="model_change", severity="critical"))
        session.execute(update(Trigger).where(col(Trigger.id) == tid).values(
            severity="low", status="suppressed"))
        session.execute(delete(Trigger).where(col(Trigger.id) == tid))
        session.execute(delete(Trigger).where(col(Trigger.id) % 5 == 0))
    _agrees(engine)
    with pytest.raises(RuntimeError), session_scope(engine) as session:  # rolled back
        session.execute(insert(Trigger), [_row(2000 + i) for i in range(5)])
        session.execute(update(Trigger).values(status="resolved"))
        raise RuntimeError("abandoned")
    before = _agrees(engine)
    kept_rows = counts.compact(engine)
    assert kept_rows == len(before)  # one row a key, none for a key with none left
    assert counts.compact(engine) == len(before)
    assert _agrees(engine) == before
    with session_scope(engine) as session:  # every trigger of a key gone
        session.execute(delete(Trigger).where(col(Trigger.vendor_id) == "northwind"))
        session.execute(delete(Trigger).where(col(Trigger.type) == "incident"))
    _agrees(engine)
    counts.compact(engine)
    _agrees(engine)
    if engine.dialect.name == "postgresql":
        with session_scope(engine) as session:
            session.execute(text('TRUNCATE "trigger" CASCADE'))
        assert _agrees(engine) == {}


def test_created_on_a_database_that_has_triggers(engine: Engine) -> None:
    """The migration fills the table from the triggers already stored."""
    with session_scope(engine) as session:
        counts.drop(session.connection())
        session.execute(delete(TriggerCount))
        session.execute(insert(Trigger), [_row(i, type=TYPES[i % 3], severity=SEVERITIES[i % 2],
                                                status=("open", "acknowledged")[i % 5 == 0])
                                          for i in range(50)])
    with session_scope(engine, write=False) as session:
        assert _kept(session) == {}
    with session_scope(engine) as session:
        counts.create(session.connection())
    assert sum(_agrees(engine).values()) == 50


def _open_matrix(html: str) -> int:
    import re

    found = re.search(r"<b>(\d+)</b> open trigger", html)
    assert found, "the dashboard shows no open count"
    return int(found.group(1))


def test_kept_under_fire_acknowledge_bulk_resolve_and_retention(tmp_path: Path,
                                                                db_url: str) -> None:
    """The real path: checks of the simulated site fire triggers, a reviewer acknowledges
    one through the API and several at once on the history page, resolves an assessment,
    retention prunes (and folds the counts); the dashboard and ``/api/summary`` show
    what the triggers say after each."""
    site = VendorSite(vendors=["acme", "northwind"])
    site.start(host="127.0.0.1", port=0)
    assert site.base_url
    config = demo_config(site.base_url, db_url)
    engine = open_database(config.database)
    server: LiveServer | None = None
    try:
        seed(site, config, engine)
        seed_history(site, config, engine)
        kept = _agrees(engine)
        assert sum(n for (_, _, st), n in kept.items() if st == "open") >= 5
        server = LiveServer(config, engine).start()
        api = {"Authorization": "Bearer tok-reviewer-123"}

        def shown() -> None:
            truth = _agrees(engine)
            opened = {k: n for k, n in truth.items() if k[2] == "open"}
            summary = httpx.get(server.url + "/api/summary", headers=api, timeout=30).json()
            assert {(t, s, "open"): n for t, by in summary["open_triggers"].items()
                    for s, n in by.items()} == opened
            page = httpx.get(server.url + "/", headers=api, timeout=30).text
            assert _open_matrix(page) == sum(opened.values())

        shown()
        with session_scope(engine, write=False) as session:
            ids = list(session.execute(select(col(Trigger.id)).where(
                col(Trigger.status) == "open").order_by(col(Trigger.id))).scalars())
        r = httpx.post(f"{server.url}/api/triggers/{ids[0]}/ack", headers=api, json={},
                       timeout=30)
        assert r.status_code == 200 and r.json()["changed"]
        shown()
        with httpx.Client(follow_redirects=False, timeout=30) as rita:
            csrf = sign_in(rita, server.url, "rita")
            r = rita.post(f"{server.url}/triggers/ack",
                          data={"csrf": csrf, "ids": [str(i) for i in ids[:4]]})
            assert r.status_code == 303 and "acked-3-4" in r.headers["location"]
        shown()
        r = httpx.post(f"{server.url}/api/assessments/acme-support-bot/resolve", headers=api,
                       json={"note": "reviewed"}, timeout=30)
        assert r.status_code == 200 and r.json()["result"]["triggers"]
        shown()
        prune(engine, datetime.now(UTC) + timedelta(days=3650), older_than=0, keep_versions=0)
        shown()
        with session_scope(engine, write=False) as session:
            assert session.execute(select(func.count()).select_from(TriggerCount)).scalar_one() \
                == len(_truth(session))  # folded: one row a key
    finally:
        if server is not None:
            server.stop()
        engine.dispose()
        site.stop()


# --- PostgreSQL: writers in parallel --------------------------------------------------------


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    """PostgreSQL only: SQLite admits one writer at a time, so there is nothing to race."""
    eng = open_database(pg_url)
    yield eng
    eng.dispose()


@pytest.mark.postgres
def test_writers_of_the_same_keys_never_wait_for_each_other(pg_engine: Engine) -> None:
    """Two transactions insert triggers of the same two keys in opposite orders, each
    holding its first insert while the other makes its own: with a counter row per key
    they would wait on each other's row (a deadlock); here each finishes at once."""
    engine = pg_engine
    barrier = threading.Barrier(2, timeout=20)
    took: dict[str, float] = {}
    errors: list[BaseException] = []
    keys = [("incident", "high"), ("model_change", "low")]

    def writer(name: str, order: list[tuple[str, str]]) -> None:
        try:
            with session_scope(engine) as session:
                session.execute(text("SET LOCAL lock_timeout = '5s'"))
                # (a vendor each: the first trigger of a vendor's day writes its
                # vendor_activity row, which another writer of that vendor's day waits for)
                t, s = order[0]
                insert_trigger(session, _row(0, type=t, severity=s, key=f"{name}-0",
                                             vendor=name))
                barrier.wait()  # both hold an uncommitted trigger of their first key
                started = time.monotonic()
                t, s = order[1]
                insert_trigger(session, _row(1, type=t, severity=s, key=f"{name}-1",
                                             vendor=name))
                took[name] = time.monotonic() - started
                barrier.wait()  # neither commits before the other's second insert is done
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=writer, args=("a", keys)),
               threading.Thread(target=writer, args=("b", keys[::-1]))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not errors, errors
    assert max(took.values()) < 2.0, took
    kept = _agrees(engine)
    assert kept == {("incident", "high", "open"): 2, ("model_change", "low", "open"): 2}


@pytest.mark.postgres
def test_kept_under_parallel_writers_and_compaction(pg_engine: Engine) -> None:
    """Four writers insert, acknowledge, move and delete triggers of a few keys at once
    while compaction runs over and over: no deadlock, no lost or doubled count."""
    engine = pg_engine
    with session_scope(engine) as session:  # (each writer's vendor has its day's activity)
        session.execute(insert(Trigger), [_row(i, type=TYPES[i % 3], key=f"base{i}",
                                               vendor=f"v{i % 4}") for i in range(60)])
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer(w: int) -> None:
        rng = random.Random(w)
        try:
            for i in range(40):
                with session_scope(engine) as session:
                    session.execute(text("SET LOCAL lock_timeout = '10s'"))
                    for j in range(rng.randint(1, 3)):
                        insert_trigger(session, _row(0, type=rng.choice(TYPES),
                                                     severity=rng.choice(SEVERITIES),
                                                     key=f"w{w}-{i}-{j}", vendor=f"v{w}"))
                    victim = rng.randrange(1, 60 + 4 * 40 * 3)
                    action = rng.randrange(3)
                    if action == 0:
                        session.execute(update(Trigger).where(col(Trigger.id) == victim)
                                        .values(status="acknowledged"))
                    elif action == 1:
                        session.execute(update(Trigger).where(col(Trigger.id) == victim)
                                        .values(severity=rng.choice(SEVERITIES)))
                    else:
                        session.execute(delete(Trigger).where(col(Trigger.id) == victim))
        except BaseException as exc:
            errors.append(exc)

    def compactor() -> None:
        try:
            while not stop.is_set():
                counts.compact(engine)
                time.sleep(0.01)
        except BaseException as exc:
            errors.append(exc)

    folding = threading.Thread(target=compactor)
    folding.start()
    writers = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for th in writers:
        th.start()
    for th in writers:
        th.join(300)
    stop.set()
    folding.join(60)
    assert not errors, errors
    _agrees(engine)
    counts.compact(engine)
    _agrees(engine)


def test_failing_sources_are_those_of_the_condition(engine: Engine) -> None:
    """Read from the partial index ``ix_source_failing``, the failing sources are the
    active ones with failures or an alert, most failures first, as before."""
    from sqlalchemy import or_

    from storage.models import Source

    with session_scope(engine) as session:
        n = 0
        for active in (True, False):
            for failures in (0, 1, 4):
                for alert in ("ok", "failing", "vanished"):
                    for _ in range(2):
                        n += 1
                        session.add(Source(id=f"s{n:03d}", vendor_id="acme", kind="page",
                                           url="https://x.example/", active=active,
                                           consecutive_failures=failures, alert_state=alert))
    with session_scope(engine) as session:  # a source recovers, another starts failing
        session.execute(update(Source).where(col(Source.id) == "s005").values(
            consecutive_failures=0, alert_state="ok"))
        session.execute(update(Source).where(col(Source.id) == "s001").values(
            consecutive_failures=2))
    with session_scope(engine, write=False) as session:
        old = list(session.execute(
            select(col(Source.id)).where(col(Source.active).is_(True),
                                         or_(col(Source.consecutive_failures) > 0,
                                             col(Source.alert_state) != "ok"))
            .order_by(col(Source.consecutive_failures).desc(), col(Source.id))).scalars())
        assert len(old) == 16 and "s001" in old and "s005" not in old
        for limit in (200, 4):
            assert [s.id for s in q.failing_sources(session, limit)] == old[:limit]


# --- `reassess check` from cron ------------------------------------------------------------

CHECK_CONFIG = """\
database: {db}
vendors:
  - id: acme
    name: Acme AI
    sources:
      - id: acme-dpa
        kind: page
        url: {site}/acme/dpa
        select: "main"
"""
POLICY = ("<h1>DPA</h1><h2>Retention</h2><p>Customer content is retained for {} days.</p>"
          "<h2>Training</h2><p>We do not train on customer content.</p>")


def test_reassess_check_folds_the_counts(site: Any, db_url: str, make_config: Any,
                                         run_cli: Any) -> None:
    """An install that runs ``reassess check`` from cron has no daemon's hourly retention:
    each check folds the rows its triggers added (PostgreSQL appends one per statement)."""
    config = make_config(CHECK_CONFIG, db=db_url, site=site.base_url)
    for days in (30, 90, 120):
        site.control("acme", "set_page", path="dpa", html=POLICY.format(days))
        res = run_cli("check", "--config", str(config))
        assert res.returncode == 0, res.stderr
    engine = open_database(db_url)
    try:
        with session_scope(engine, write=False) as session:
            truth = _truth(session)
            assert sum(truth.values()) == 2  # two changes fired
            assert _kept(session) == truth
            rows = session.execute(select(func.count()).select_from(TriggerCount)).scalar_one()
            assert rows == len(truth)  # folded: one row a key
    finally:
        engine.dispose()
