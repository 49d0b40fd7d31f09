"""The record of a batch (``persist._write_batch``) goes through the driver with SQL built
once per dialect; the rows it writes must read back exactly as SQLAlchemy's own
statements wrote them, on SQLite (datetimes as its text) and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from monitor.check.persist import CHECKRUN_COLUMNS, _write_batch, fast_datetime
from storage.db import session_scope
from storage.models import CheckRun, Source

T0 = datetime(2026, 12, 6, 19, 30, 0, 0, tzinfo=UTC)  # microsecond 0: isoformat drops it
VALUES = [
    T0,
    T0 + timedelta(microseconds=1),
    datetime(2026, 1, 2, 3, 4, 5, 999999, tzinfo=UTC),
    datetime(999, 1, 1, tzinfo=UTC),  # a year below 1000
    datetime(2026, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2))),  # another zone
    datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc),  # noqa: UP017 (the same object)
]


@pytest.mark.parametrize("dialect", [SQLiteDialect_pysqlite(), PGDialect_psycopg()],
                         ids=["sqlite", "postgresql"])
def test_datetimes_bind_as_sqlalchemy_binds_them(dialect: Any) -> None:
    proc = CheckRun.__table__.c.started_at.type._cached_bind_processor(dialect)  # type: ignore[attr-defined]
    fast = fast_datetime(proc, dialect.name == "sqlite")
    for value in VALUES:
        assert fast(value) == proc(value), value
        assert type(fast(value)) is type(proc(value))
    with pytest.raises(ValueError):  # a naive datetime is refused, as by SQLAlchemy
        fast(datetime(2026, 1, 1))


def _sources(engine: Engine, ids: list[str]) -> None:
    with session_scope(engine) as session:
        for sid in ids:
            session.add(Source(id=sid, vendor_id="v", kind="page", url=f"https://x/{sid}"))


def _rows(i: int, prefix: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """An update of each shape a batch has (304, 200 with validators, failure) and its
    check-run row."""
    now = T0 + timedelta(seconds=i, microseconds=123457 * i % 1000000)
    sid = f"{prefix}{i}"
    base: dict[str, Any] = {"id": sid, "last_checked_at": now, "last_outcome": "not_modified",
                            "lease_owner": None, "lease_until": None}
    if i % 3 == 0:
        base.update(consecutive_failures=0, last_error=None, last_success_at=now,
                    next_due_at=now + timedelta(seconds=2), pending_hash=None,
                    pending_count=0, pending_since=None)
    elif i % 3 == 1:
        base.update(consecutive_failures=0, last_error=None, last_success_at=now,
                    next_due_at=now + timedelta(seconds=2.5), pending_hash="p" * 64,
                    pending_count=2, pending_since=T0, etag='W/"abc"',
                    last_modified="Sun, 06 Dec 2026 19:30:00 GMT", body_hash="b" * 64,
                    parser_version="page/3", current_snapshot_id=None, current_hash=None,
                    last_outcome="pending")
    else:
        base.update(consecutive_failures=3, last_error="HTTP 503 — ünïcode",
                    next_due_at=now + timedelta(minutes=4), alert_state="failing",
                    last_outcome="failed")
    run = {"source_id": sid, "started_at": now - timedelta(microseconds=i),
           "duration_ms": 12 * i, "outcome": base["last_outcome"],
           "http_status": (304, 200, 503)[i % 3], "error": None if i % 3 != 2 else "HTTP 503",
           "snapshot_id": None, "changes": 0, "triggers": 0, "worker": "host:1"}
    return [base], [run]


def _sqlalchemy_batch(session: Any, updates: list[dict[str, Any]],
                      runs: list[dict[str, Any]]) -> None:
    """The writes as SQLAlchemy Core statements (what persist did before)."""
    table = Source.__table__  # type: ignore[attr-defined]
    for row in updates:
        session.execute(update(table).where(table.c.id == row["id"])
                        .values({k: v for k, v in row.items() if k != "id"}))
    session.execute(insert(CheckRun.__table__), runs)  # type: ignore[attr-defined]


RAW_SOURCE = ("SELECT etag, last_modified, next_due_at, last_checked_at, last_success_at, "
              "last_outcome, consecutive_failures, last_error, lease_owner, lease_until, "
              "current_snapshot_id, current_hash, parser_version, body_hash, pending_hash, "
              "pending_count, pending_since, alert_state FROM source WHERE id = '{}'")
RAW_RUN = (f"SELECT {', '.join(c for c in CHECKRUN_COLUMNS if c != 'source_id')} "
           "FROM checkrun WHERE source_id = '{}'")


def test_a_batch_reads_back_as_sqlalchemy_wrote_it(engine: Engine) -> None:
    n = 6
    _sources(engine, [f"raw{i}" for i in range(n)] + [f"orm{i}" for i in range(n)])
    raw_updates: list[dict[str, Any]] = []
    raw_runs: list[dict[str, Any]] = []
    with session_scope(engine) as session:
        for i in range(n):
            updates, runs = _rows(i, "raw")
            raw_updates += updates
            raw_runs += runs
        _write_batch(session, raw_updates, raw_runs)
    with session_scope(engine) as session:
        for i in range(n):
            _sqlalchemy_batch(session, *_rows(i, "orm"))
    with engine.connect() as conn:
        for i in range(n):
            for query in (RAW_SOURCE, RAW_RUN):
                # What the database holds, as the driver returns it (SQLite: the text)
                ours = conn.exec_driver_sql(query.format(f"raw{i}")).all()
                theirs = conn.exec_driver_sql(query.format(f"orm{i}")).all()
                assert ours == theirs and len(ours) == 1
    with session_scope(engine, write=False) as session:
        for i in range(n):
            updates, runs = _rows(i, "raw")
            got = session.get(Source, f"raw{i}")
            assert got is not None
            for key, value in updates[0].items():
                assert getattr(got, key) == value, key
            run = session.execute(select(CheckRun).where(
                CheckRun.source_id == f"raw{i}")).scalar_one()  # type: ignore[arg-type]
            for key, value in runs[0].items():
                assert getattr(run, key) == value, key


def test_a_refused_row_raises_sqlalchemys_error(engine: Engine) -> None:
    """A row the database refuses is SQLAlchemy's wrapped error, as before (the pipeline
    tells the database's own trouble, ``OperationalError``, from a refused row)."""
    _sources(engine, ["a"])
    _, runs = _rows(0, "a")
    runs[0]["outcome"] = None  # NOT NULL
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        _write_batch(session, [], runs)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM checkrun")).scalar() == 0
