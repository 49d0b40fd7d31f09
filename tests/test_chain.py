"""The tamper-evident history (issue 19) on SQLite and PostgreSQL: every trigger, snapshot
and lifecycle event is chained; any single row altered, deleted or slipped in directly in
SQL is named by ``verify``; three processes appending at once leave one unbroken chain;
retention's pruning is chained, check runs are not."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from storage.db import session_scope
from storage.lifecycle import acknowledge
from storage.models import ChainRecord, CheckRun
from storage.repo import insert_trigger, store_snapshot
from storage.retention import prune
from storage.verify import verify

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def snapshot(session: Any, source: str, n: int, at: datetime = NOW) -> int:
    return store_snapshot(session, {
        "source_id": source, "url": f"https://vendor.example/{source}", "fetched_at": at,
        "http_status": 200, "content_hash": f"{n:064d}", "parser_version": "1",
        "kind": "subprocessors", "document": zlib.compress(b'{"entities": []}'),
        "body": zlib.compress(f"<html>version {n}</html>".encode()),
        "content_type": "text/html", "size": 1})


def trigger(session: Any, key: str, snap: int | None = None) -> int:
    found = insert_trigger(session, {
        "dedupe_key": key, "type": "subprocessor_change", "severity": "high",
        "title": f"New sub-processor {key}", "vendor_id": "acme", "source_id": "acme-sub",
        "created_at": NOW, "evidence": {"added": ["Cohere"], "ratio": 0.5},
        "changes": [{"op": "added", "key": "Cohere", "before": None, "after": {"n": 1}}],
        "new_snapshot_id": snap})
    assert found is not None
    return found


def populate(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as s:
        old = snapshot(s, "acme-sub", 1)
        new = snapshot(s, "acme-sub", 2)
        t1 = trigger(s, "k1", new)
        t2 = trigger(s, "k2")
    with session_scope(engine) as s:
        acknowledge(s, t1, by="alice", now=NOW, note="seen; asking legal")
    with session_scope(engine) as s:
        audit = s.execute(text("SELECT max(id) FROM auditevent")).scalar_one()
    return {"old": old, "new": new, "t1": t1, "t2": t2, "audit": int(audit)}


def tampered(engine: Engine, sql: str, undo: str, **params: Any) -> str:
    with engine.begin() as conn:
        conn.execute(text(sql), params)
    verdict = verify(engine)
    with engine.begin() as conn:
        conn.execute(text(undo), params)
    assert not verdict.ok
    first = verdict.first()
    assert first is not None
    return first.line()


def test_any_altered_row_is_named(engine: Engine) -> None:
    ids = populate(engine)
    verdict = verify(engine)
    assert verdict.ok, verdict.to_dict()
    # 2 snapshots + 2 triggers, then the ack: its audit event and the trigger again
    assert verdict.records == 6 and verdict.rows == 5
    t1, snap, audit = ids["t1"], ids["new"], ids["audit"]

    line = tampered(engine, 'UPDATE "trigger" SET title = \'nothing\' WHERE id = :i',
                    'UPDATE "trigger" SET title = \'New sub-processor k1\' WHERE id = :i', i=t1)
    assert line.startswith(f"trigger {t1} ") and "altered" in line
    line = tampered(engine, "UPDATE \"trigger\" SET status = 'open' WHERE id = :i",
                    "UPDATE \"trigger\" SET status = 'acknowledged' WHERE id = :i", i=t1)
    assert line.startswith(f"trigger {t1} ")
    line = tampered(engine, "UPDATE snapshot SET http_status = 500 WHERE id = :i",
                    "UPDATE snapshot SET http_status = 200 WHERE id = :i", i=snap)
    assert line.startswith(f"snapshot {snap} ")
    with session_scope(engine) as s:
        body = s.execute(text("SELECT body FROM snapshot WHERE id = :i"), {"i": snap}).scalar()
    line = tampered(engine, "UPDATE snapshot SET body = :b WHERE id = :i",
                    "UPDATE snapshot SET body = :o WHERE id = :i", i=snap,
                    b=zlib.compress(b"<html>version 3</html>"), o=body)
    assert line.startswith(f"snapshot {snap} ")
    line = tampered(engine, "UPDATE auditevent SET note = 'never mind' WHERE id = :i",
                    "UPDATE auditevent SET note = 'seen; asking legal' WHERE id = :i",
                    i=audit)
    assert line.startswith(f"audit {audit} ")
    line = tampered(engine, "UPDATE auditevent SET \"by\" = 'mallory' WHERE id = :i",
                    "UPDATE auditevent SET \"by\" = 'alice' WHERE id = :i", i=audit)
    assert line.startswith(f"audit {audit} ")
    line = tampered(engine, "INSERT INTO \"trigger\" (id, dedupe_key, schema_version, type, "
                    "severity, title, vendor_id, created_at, status) VALUES (9999, 'x', 1, "
                    "'incident', 'low', 'slipped in', 'acme', :at, 'open')",
                    "DELETE FROM \"trigger\" WHERE id = 9999", at=NOW)
    assert line.startswith("trigger 9999") and "not in the chain" in line
    line = tampered(engine, "UPDATE chain_record SET content_hash = :h WHERE seq = 2",
                    "UPDATE chain_record SET content_hash = :o WHERE seq = 2", h="0" * 64,
                    o=_record(engine, 2)["content_hash"])
    assert "chain record 2" in line
    assert verify(engine).ok  # every tamper undone: whole again
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM auditevent WHERE id = :i"), {"i": audit})
    first = verify(engine).first()
    assert first is not None and first.line().startswith(f"audit {audit} ")
    assert "deleted" in first.line()


def _record(engine: Engine, seq: int) -> dict[str, Any]:
    with session_scope(engine) as s:
        return dict(s.execute(select(ChainRecord.__table__).where(  # type: ignore[attr-defined]
            text("seq = :s")), {"s": seq}).mappings().one())


def test_retention_prunes_with_a_chained_record_and_check_runs_stay_out(engine: Engine
                                                                         ) -> None:
    with session_scope(engine) as s:
        for n in range(6):
            snapshot(s, "acme-dpa", n, at=NOW - timedelta(days=400))
        s.add(CheckRun(source_id="acme-dpa", started_at=NOW - timedelta(days=400),
                       outcome="unchanged"))
    with session_scope(engine) as s:
        before = s.execute(select(func.count()).select_from(ChainRecord)).scalar_one()
    assert before == 6  # the check run is not chained
    result = prune(engine, NOW, older_than=90 * 86400, keep_versions=2)
    assert result.snapshots == 4 and result.check_runs == 1
    verdict = verify(engine)
    assert verdict.ok, verdict.to_dict()
    assert verdict.records == 10 and verdict.rows == 2


WRITER = textwrap.dedent("""
    import sys, zlib
    from datetime import UTC, datetime
    from storage.db import open_database, session_scope
    from storage.lifecycle import acknowledge
    from storage.repo import insert_trigger, store_snapshot
    url, name = sys.argv[1], sys.argv[2]
    engine = open_database(url)
    for i in range(15):
        now = datetime.now(UTC)
        with session_scope(engine) as s:
            snap = store_snapshot(s, {"source_id": f"{name}-src", "url": "https://v.example/",
                "fetched_at": now, "http_status": 200,
                "content_hash": f"{name}-{i:03d}".ljust(64, "0"),
                "parser_version": "1", "kind": "subprocessors",
                "document": zlib.compress(b"{}"), "body": zlib.compress(b"<p>x</p>")})
            tid = insert_trigger(s, {"dedupe_key": f"{name}-{i}", "type": "incident",
                "severity": "high", "title": f"{name} {i}", "vendor_id": "acme",
                "created_at": now, "new_snapshot_id": snap})
        with session_scope(engine) as s:
            acknowledge(s, tid, by=name, now=now, note=f"ack {i}")
    engine.dispose()
""")


def test_three_writers_at_once_leave_one_unbroken_chain(engine: Engine, db_url: str) -> None:
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, db_url, f"d{n}"], cwd=ROOT,
                              stderr=subprocess.PIPE, text=True) for n in range(3)]
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    verdict = verify(engine)
    assert verdict.ok, verdict.to_dict()
    # each writer: 15 × (snapshot, trigger, audit event, trigger again)
    assert verdict.records == 3 * 15 * 4 and verdict.head_seq == verdict.records
    # then one lifecycle event altered in SQL: named
    with engine.begin() as conn:
        conn.execute(text("UPDATE auditevent SET note = 'ack 99' WHERE note = 'ack 7' "
                          "AND \"by\" = 'd1'"))
        audit_id = conn.execute(text("SELECT id FROM auditevent WHERE note = 'ack 99'")
                                ).scalar_one()
    first = verify(engine).first()
    assert first is not None and first.line().startswith(f"audit {audit_id} ")


def test_worker_processes_hash_a_large_history_alike(sqlite_url: str,
                                                      monkeypatch: Any) -> None:
    from storage import verify as verifying
    from storage.db import open_database

    engine = open_database(sqlite_url)
    ids = populate(engine)
    monkeypatch.setattr(verifying, "PARALLEL_ROWS", 1)
    verdict = verify(engine, batch=2, workers=2)
    assert verdict.ok and verdict.rows == 5, verdict.to_dict()
    with engine.begin() as conn:
        conn.execute(text('UPDATE "trigger" SET title = \'x\' WHERE id = :i'), {"i": ids["t2"]})
    first = verify(engine, batch=2, workers=2).first()
    engine.dispose()
    assert first is not None and first.line().startswith(f"trigger {ids['t2']} ")
