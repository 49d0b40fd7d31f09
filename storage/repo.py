"""Writes and reads the pipeline needs: config sync, source state, snapshots, triggers.

Every write that must happen at most once is an insert guarded by a unique key
(``ON CONFLICT DO NOTHING``), never a check-then-insert, so repeated checks, restarts
and several daemons cannot duplicate a snapshot, trigger, flag or notification.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlmodel import Session, SQLModel, col

from triggers.events import SCHEMA_VERSION, TriggerEvent

from . import chain
from .models import Snapshot, Source, Trigger

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.dialects.postgresql import Insert as PostgresInsert
    from sqlalchemy.dialects.sqlite import Insert as SQLiteInsert


def compress(text: str) -> bytes:
    return zlib.compress(text.encode("utf-8"), 6)


def decompress(blob: bytes) -> str:
    return zlib.decompress(blob).decode("utf-8")


def compress_body(body: bytes) -> bytes:
    """A fetched body as a snapshot keeps it: zlib's fastest level, because every
    baseline of a first pass stores one, and a body is read back rarely (a re-baseline,
    an audit)."""
    return zlib.compress(body, 1)


def decompress_body(blob: bytes) -> bytes:
    return zlib.decompress(blob)


def insert_ignore(session: Session | Connection, model: type[SQLModel],
                  values: dict[str, Any] | list[dict[str, Any]], key: Sequence[str],
                  returning: Any = None) -> Any:
    """INSERT … ON CONFLICT (key) DO NOTHING, for SQLite and PostgreSQL alike.

    One row (a dict) runs a statement built once per table, key and dialect with the
    row as its parameters: SQLAlchemy then reuses the compiled statement, where a fresh
    ``.values(row)`` cost more Python per insert than SQLite's own work. A list of rows
    is one multi-row ``VALUES`` statement.
    """
    dialect = session.get_bind().dialect.name if isinstance(session, Session) else \
        session.dialect.name
    table = model.__table__  # type: ignore[attr-defined]
    if isinstance(values, dict):
        name = None if returning is None else returning.key
        stmt = _IGNORING.get((dialect, table.name, tuple(key), name))
        if stmt is None:
            stmt = _ignoring(dialect, table, key, returning)
            _IGNORING[(dialect, table.name, tuple(key), name)] = stmt
        return session.execute(stmt, values)
    return session.execute(_ignoring(dialect, table, key, returning).values(values))


# (dialect, table, conflict key, returned column) → the statement, built on first use
_IGNORING: dict[tuple[str, str, tuple[str, ...], str | None], Any] = {}


def _ignoring(dialect: str, table: Any, key: Sequence[str], returning: Any) -> Any:
    # The dialect's insert, imported when used: the PostgreSQL dialect module would be a
    # noticeable part of every SQLite process's start-up.
    stmt: PostgresInsert | SQLiteInsert
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        stmt = pg_insert(table).on_conflict_do_nothing(index_elements=list(key))
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert
        stmt = sqlite_insert(table).on_conflict_do_nothing(index_elements=list(key))
    return stmt if returning is None else stmt.returning(returning)


# --- source state and leases ---------------------------------------------------------


def due_sources(session: Session, now: datetime, ids: Iterable[str] | None = None,
                limit: int | None = None) -> list[Source]:
    stmt = select(Source).where(col(Source.active).is_(True))
    if ids is not None:
        stmt = stmt.where(col(Source.id).in_(list(ids)))
    else:
        stmt = stmt.where(col(Source.next_due_at) <= now)
    stmt = stmt.order_by(col(Source.next_due_at))
    if limit:
        stmt = stmt.limit(limit)
    return list(session.exec(stmt).scalars())  # type: ignore[call-overload]


# What a check reads of a source row: enough for ``pipeline._state`` and the request.
CHECK_COLUMNS = ("id", "etag", "last_modified", "current_snapshot_id", "current_hash",
                 "body_hash", "pending_hash", "pending_count", "pending_since",
                 "consecutive_failures", "alert_state", "parser_version")


def check_rows(session: Session, ids: Iterable[str]) -> list[Any]:
    """``due_sources(ids=…)`` as plain rows of ``CHECK_COLUMNS``: a pass over thousands of
    sources needs neither ORM objects (their memory) nor their load time."""
    cols = [getattr(Source, c) for c in CHECK_COLUMNS]
    stmt = (select(*cols).where(col(Source.active).is_(True))
            .where(col(Source.id).in_(list(ids)))
            .order_by(col(Source.next_due_at)))
    return list(session.execute(stmt).all())


def claim_due(session: Session, worker: str, now: datetime, lease: float,
              limit: int = 500, ahead: float = 0.0) -> list[Any]:
    """Lease up to ``limit`` sources due by ``now`` (plus ``ahead`` seconds) to ``worker``;
    each is claimed by one worker only. Returns plain rows of ``CHECK_COLUMNS`` and
    ``next_due_at`` (what a check reads), not ORM objects: a daemon claims every few
    dozen checks, and loading ``Source`` objects cost more than the claim itself.

    PostgreSQL skips rows another transaction has locked (``FOR UPDATE SKIP LOCKED``);
    SQLite's write lock (``BEGIN IMMEDIATE``) serialises claimers. An expired lease —
    its holder died — is free again.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    params = {"now": now, "due_by": now + timedelta(seconds=ahead), "limit": limit,
              "worker": worker, "until": now + timedelta(seconds=lease)}
    rows = list(session.execute(_CLAIM_PG if postgres else _CLAIM, params).all())
    rows.sort(key=_due)  # RETURNING keeps no order
    return rows


def _due(row: Any) -> Any:
    return row.next_due_at


# Built once (a daemon claims every tick): one statement leases the due, free, active
# sources (the first ``limit`` in due order) and returns them, where a select and then an
# update of the ids it found (an IN list of a new length every time) cost twice the Python.
# On the table, not the mapped class: an ORM ``update`` runs SQLAlchemy's bulk-update path
# (synchronising a session that holds no ``Source``), which cost as much Python as the
# claim's own SQL (2.5 → 1.4 ms a claim of 64 on SQLite).
def _claim(postgres: bool) -> Any:
    table = Source.__table__  # type: ignore[attr-defined]
    c = table.c
    due = (select(c.id)
           .where(and_(c.active.is_(True),
                       c.next_due_at <= bindparam("due_by"),
                       or_(c.lease_until.is_(None), c.lease_until < bindparam("now"))))
           .order_by(c.next_due_at).limit(bindparam("limit")))
    if postgres:  # rows another claimer holds locked are skipped, not waited for
        due = due.with_for_update(skip_locked=True)
    return (update(table).where(c.id.in_(due.scalar_subquery()))
            .values(lease_owner=bindparam("worker"), lease_until=bindparam("until"))
            .returning(*[c[name] for name in (*CHECK_COLUMNS, "next_due_at")]))


_CLAIM = _claim(postgres=False)
_CLAIM_PG = _claim(postgres=True)


def release(session: Session, source_ids: Sequence[str], worker: str) -> None:
    if source_ids:
        session.execute(update(Source)
                        .where(and_(col(Source.id).in_(list(source_ids)),
                                    col(Source.lease_owner) == worker))
                        .values(lease_owner=None, lease_until=None))


# --- snapshots ------------------------------------------------------------------------


def load_document(session: Session | Connection,
                  snapshot_id: int) -> tuple[str, str, str] | None:
    """(content hash, canonical JSON, parser version) of a snapshot."""
    row = session.execute(_DOCUMENT, {"id": snapshot_id}).first()
    return (row[0], decompress(row[1]), row[2]) if row else None


def load_body(session: Session | Connection, snapshot_id: int) -> bytes | None:
    """The raw body a snapshot was parsed from; ``None`` when it has none stored."""
    blob = session.execute(_BODY, {"id": snapshot_id}).scalar()
    return decompress_body(blob) if blob is not None else None


def recent_hashes(session: Session | Connection, source_id: str, n: int,
                  parser_version: str) -> dict[str, int]:
    """content hash → snapshot id for a source's ``n`` most recently fetched snapshots of
    documents made by ``parser_version``."""
    if n <= 0:
        return {}
    rows = session.execute(_RECENT, {"source_id": source_id, "n": n,
                                     "parser_version": parser_version}).all()
    return {h: i for h, i in rows}


# Built once: a check reads both for every changed source, and building a select costs
# more Python than running its compiled form.
_DOCUMENT = select(col(Snapshot.content_hash), col(Snapshot.document),
                   col(Snapshot.parser_version)).where(col(Snapshot.id) == bindparam("id"))
_BODY = select(col(Snapshot.body)).where(col(Snapshot.id) == bindparam("id"))
# (a stored snapshot's id is never None: the model's ``int | None`` is for unsaved rows)
# Newest by fetch time, in ``ix_snapshot_source_fetched``'s order: the index gives the n
# rows and stops. By id alone, SQLite read every snapshot the source ever had and sorted
# them, on every changed check (its cost grew with the source's history).
_RECENT = cast("Select[str, int]", select(col(Snapshot.content_hash), col(Snapshot.id))
               .where(col(Snapshot.source_id) == bindparam("source_id"),
                      col(Snapshot.parser_version) == bindparam("parser_version"))
               .order_by(col(Snapshot.fetched_at).desc(), col(Snapshot.id).desc())
               .limit(bindparam("n")))


def store_snapshot(session: Session, values: dict[str, Any],
                   texts: chain.TextHashes | None = None) -> int:
    """Insert a snapshot unless this content is stored already; its id either way.
    ``texts``: the sha256 of the document text and raw body its blobs hold, when known
    (the chain then need not decompress them)."""
    res = insert_ignore(session, Snapshot, values, ("source_id", "content_hash"),
                        returning=Snapshot.id)
    row = res.first()
    if row is not None:
        chain.record_snapshot(session, int(row[0]), values, texts)
        return int(row[0])
    found = session.execute(select(col(Snapshot.id)).where(
        and_(col(Snapshot.source_id) == values["source_id"],
             col(Snapshot.content_hash) == values["content_hash"]))).scalar_one()
    return int(found)


# --- triggers -------------------------------------------------------------------------


def trigger_row(event: TriggerEvent, *, dedupe_source: str, vendor_id: str, now: datetime,
                source_id: str | None = None, assessment_id: str | None = None,
                old_snapshot_id: int | None = None,
                new_snapshot_id: int | None = None) -> dict[str, Any]:
    """The stored form of an event (``Trigger``'s columns), schema version included;
    ``dedupe_source`` with the event's type and basis makes its unique key."""
    return {
        "dedupe_key": event.dedupe_key(dedupe_source), "schema_version": SCHEMA_VERSION,
        "type": event.type, "severity": event.severity, "title": event.title[:500],
        "vendor_id": vendor_id, "source_id": source_id, "assessment_id": assessment_id,
        "entities": list(event.entities), "evidence": event.evidence,
        "changes": list(event.changes), "channels": list(event.channels),
        "old_snapshot_id": old_snapshot_id, "new_snapshot_id": new_snapshot_id,
        "created_at": now, "status": "suppressed" if event.suppressed else "open",
        "rule": event.rule,
    }


def insert_trigger(session: Session, values: dict[str, Any]) -> int | None:
    """Insert a trigger; None when its dedupe key fired before (here or on another daemon)."""
    row = insert_ignore(session, Trigger, values, ("dedupe_key",), returning=Trigger.id).first()
    if row is None:
        return None
    chain.record(session, "trigger", int(row[0]))
    return int(row[0])


def count(session: Session, model: type[SQLModel], *where: Any) -> int:
    stmt = select(func.count()).select_from(model)
    for cond in where:
        stmt = stmt.where(cond)
    return int(session.execute(stmt).scalar_one())
