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

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlmodel import Session, SQLModel, col

from config.schema import Config

from .models import Assessment, Snapshot, Source, Trigger, Vendor

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.dialects.postgresql import Insert as PostgresInsert
    from sqlalchemy.dialects.sqlite import Insert as SQLiteInsert


def compress(text: str) -> bytes:
    return zlib.compress(text.encode("utf-8"), 6)


def decompress(blob: bytes) -> str:
    return zlib.decompress(blob).decode("utf-8")


def insert_ignore(session: Session | Connection, model: type[SQLModel],
                  values: dict[str, Any] | list[dict[str, Any]], key: Sequence[str],
                  returning: Any = None) -> Any:
    """INSERT … ON CONFLICT (key) DO NOTHING, for SQLite and PostgreSQL alike.

    One row (a dict) runs a statement built once per table, key and dialect with the
    row as its parameters: SQLAlchemy then reuses the compiled statement, where a fresh
    ``.values(row)`` cost ~0.5 ms of Python per insert (five times SQLite's own work). A
    list of rows is one multi-row ``VALUES`` statement, as before.
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
    # The dialect's insert, imported when used: the PostgreSQL dialect module alone costs
    # ~30 ms of every SQLite process's start-up.
    stmt: PostgresInsert | SQLiteInsert
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        stmt = pg_insert(table).on_conflict_do_nothing(index_elements=list(key))
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert
        stmt = sqlite_insert(table).on_conflict_do_nothing(index_elements=list(key))
    return stmt if returning is None else stmt.returning(returning)


# --- configuration → rows -------------------------------------------------------------


def sync_config(session: Session, config: Config, now: datetime) -> None:
    """Make vendor, source and assessment rows match the config (the source of truth).

    New sources are due now; a source whose URL or kind changed forgets its validators
    and baseline; sources and assessments gone from the config are marked inactive,
    never deleted, so their history stays.
    """
    if not _vendors_match(session, config):
        _sync_vendors(session, config)
    if not _sources_match(session, config):
        _sync_sources(session, config, now)
    if not _assessments_match(session, config):
        _sync_assessments(session, config, now)


# Every `reassess check` and daemon start syncs; usually nothing changed, and a plain
# read of the columns the sync writes says so without loading thousands of ORM objects.


def _vendors_match(session: Session, config: Config) -> bool:
    rows = session.execute(select(col(Vendor.id), col(Vendor.name), col(Vendor.owner),
                                  col(Vendor.active))).all()
    stored = {r.id: r for r in rows}
    for vc in config.vendors:
        r = stored.pop(vc.id, None)
        if r is None or r.name != vc.name or r.owner != list(vc.owner) or not r.active:
            return False
    return not any(r.active for r in stored.values())


def _sources_match(session: Session, config: Config) -> bool:
    rows = session.execute(select(
        col(Source.id), col(Source.vendor_id), col(Source.kind), col(Source.url),
        col(Source.interval_s), col(Source.active), col(Source.next_due_at))).all()
    stored = {r.id: r for r in rows}
    for vc, sc in config.sources():
        r = stored.pop(sc.id, None)
        if (r is None or r.url != sc.url or r.kind != sc.kind or r.vendor_id != vc.id
                or r.interval_s != config.interval_for(vc, sc) or r.active != sc.enabled
                or r.next_due_at is None):
            return False
    return not any(r.active for r in stored.values())


def _assessments_match(session: Session, config: Config) -> bool:
    """Whether ``_sync_assessments`` would change nothing (read as plain columns)."""
    from config.durations import add_period

    rows = session.execute(select(
        col(Assessment.id), col(Assessment.vendor_id), col(Assessment.system),
        col(Assessment.owner), col(Assessment.trigger_types), col(Assessment.review_every),
        col(Assessment.active), col(Assessment.assessed), col(Assessment.disposition),
        col(Assessment.next_review))).all()
    stored = {r.id: r for r in rows}
    for ac in config.assessments:
        r = stored.pop(ac.id, None)
        if r is None or not r.active or (ac.assessed and (r.assessed is None
                                                          or ac.assessed > r.assessed)):
            return False
        if (r.vendor_id != ac.vendor or r.system != ac.system or r.owner != list(ac.owner)
                or r.trigger_types != list(ac.triggers) or r.review_every != ac.review_every):
            return False
        if r.assessed == ac.assessed:
            due = ac.next_review or (add_period(ac.assessed, ac.review_every)
                                     if ac.assessed and ac.review_every else None)
            if r.disposition != ac.disposition or r.next_review != due:
                return False
        elif ac.review_every and r.assessed and r.next_review != add_period(r.assessed,
                                                                             ac.review_every):
            return False
    return not any(r.active for r in stored.values())


def _sync_vendors(session: Session, config: Config) -> None:
    vendors = {v.id: v for v in session.exec(select(Vendor)).scalars()}  # type: ignore[call-overload]
    for vc in config.vendors:
        row = vendors.pop(vc.id, None) or Vendor(id=vc.id, name=vc.name)
        row.name, row.owner, row.active = vc.name, list(vc.owner), True
        session.add(row)
    for row in vendors.values():
        row.active = False


def _sync_sources(session: Session, config: Config, now: datetime) -> None:
    sources = {s.id: s for s in session.exec(select(Source)).scalars()}  # type: ignore[call-overload]
    new: list[dict[str, Any]] = []
    for vc, sc in config.sources():
        interval = config.interval_for(vc, sc)
        row = sources.pop(sc.id, None)
        if row is None:
            # one bulk INSERT below: thousands of new ORM objects cost seconds and ~30 MB
            new.append({"id": sc.id, "vendor_id": vc.id, "kind": sc.kind, "url": sc.url,
                        "interval_s": interval, "next_due_at": now, "active": sc.enabled})
            continue
        if row.url != sc.url or row.kind != sc.kind:
            _rebase(row, sc.url, sc.kind, now)
        if row.interval_s != interval and row.last_checked_at is not None:
            row.next_due_at = min(row.next_due_at or now,
                                  row.last_checked_at + timedelta(seconds=interval))
        row.vendor_id, row.interval_s = vc.id, interval
        row.active = sc.enabled
        if row.next_due_at is None:
            row.next_due_at = now
        session.add(row)
    for row in sources.values():
        row.active = False
    if new:
        session.execute(insert(Source), new)


def _rebase(row: Source, url: str, kind: str, now: datetime) -> None:
    row.url, row.kind = url, kind
    row.etag = row.last_modified = row.body_hash = row.pending_hash = None
    row.current_snapshot_id = None
    row.pending_count = 0
    row.next_due_at = now


def _sync_assessments(session: Session, config: Config, now: datetime) -> None:
    """The register's fields always follow the config; its lifecycle stays in the database.

    While the stored ``assessed`` date is the config's, the config's disposition and review
    date apply. A ``reassess resolve`` records a later date, and from then on the stored
    disposition and review date stand, so a re-sync never undoes a resolution; a config
    ``assessed`` date later than the stored one re-baselines the assessment, like a resolve.
    """
    from config.durations import add_period

    from .lifecycle import rebaseline

    rows = {a.id: a for a in session.exec(select(Assessment)).scalars()}  # type: ignore[call-overload]
    for ac in config.assessments:
        row = rows.pop(ac.id, None)
        if row is None:
            row = Assessment(id=ac.id, vendor_id=ac.vendor, status="current", baseline_at=now,
                             updated_at=now, assessed=ac.assessed, disposition=ac.disposition)
        elif ac.assessed and (row.assessed is None or ac.assessed > row.assessed):
            rebaseline(session, row, now=now, assessed=ac.assessed, disposition=ac.disposition)
        row.vendor_id, row.system, row.owner = ac.vendor, ac.system, list(ac.owner)
        row.trigger_types, row.review_every, row.active = list(ac.triggers), ac.review_every, True
        if row.assessed == ac.assessed:
            row.disposition = ac.disposition
            row.next_review = ac.next_review or (
                add_period(ac.assessed, ac.review_every) if ac.assessed and ac.review_every
                else None)
        elif ac.review_every and row.assessed:
            row.next_review = add_period(row.assessed, ac.review_every)
        session.add(row)
    for row in rows.values():
        row.active = False


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
                 "body_hash", "pending_hash", "pending_count", "consecutive_failures",
                 "alert_state")


def check_rows(session: Session, ids: Iterable[str]) -> list[Any]:
    """``due_sources(ids=…)`` as plain rows of ``CHECK_COLUMNS``: a pass over thousands of
    sources needs neither ORM objects (~1 KB each) nor their load time."""
    cols = [getattr(Source, c) for c in CHECK_COLUMNS]
    stmt = (select(*cols).where(col(Source.active).is_(True))
            .where(col(Source.id).in_(list(ids)))
            .order_by(col(Source.next_due_at)))
    return list(session.execute(stmt).all())


def claim_due(session: Session, worker: str, now: datetime, lease: float,
              limit: int = 500) -> list[Source]:
    """Lease up to ``limit`` due sources to ``worker``; each is claimed by one worker only.

    PostgreSQL skips rows another transaction has locked (``FOR UPDATE SKIP LOCKED``);
    SQLite's write lock (``BEGIN IMMEDIATE``) serialises claimers. An expired lease —
    its holder died — is free again.
    """
    free = or_(col(Source.lease_until).is_(None), col(Source.lease_until) < now)
    stmt = (select(Source).where(and_(col(Source.active).is_(True),
                                      col(Source.next_due_at) <= now, free))
            .order_by(col(Source.next_due_at)).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = list(session.exec(stmt).scalars())  # type: ignore[call-overload]
    until = now + timedelta(seconds=lease)
    if rows:
        session.execute(update(Source).where(col(Source.id).in_([r.id for r in rows]))
                        .values(lease_owner=worker, lease_until=until))
        for row in rows:
            row.lease_owner, row.lease_until = worker, until
    return rows


def release(session: Session, source_ids: Sequence[str], worker: str) -> None:
    if source_ids:
        session.execute(update(Source)
                        .where(and_(col(Source.id).in_(list(source_ids)),
                                    col(Source.lease_owner) == worker))
                        .values(lease_owner=None, lease_until=None))


# --- snapshots ------------------------------------------------------------------------


def load_document(session: Session | Connection, snapshot_id: int) -> tuple[str, str] | None:
    """(content hash, canonical JSON) of a snapshot."""
    row = session.execute(_DOCUMENT, {"id": snapshot_id}).first()
    return (row[0], decompress(row[1])) if row else None


def recent_hashes(session: Session | Connection, source_id: str, n: int) -> dict[str, int]:
    """content hash → snapshot id for a source's ``n`` most recent snapshots."""
    if n <= 0:
        return {}
    rows = session.execute(_RECENT, {"source_id": source_id, "n": n}).all()
    return {h: i for h, i in rows}


# Built once: a check reads both for every changed source, and building a select costs
# more Python than running its compiled form.
_DOCUMENT = select(col(Snapshot.content_hash), col(Snapshot.document)).where(
    col(Snapshot.id) == bindparam("id"))
# (a stored snapshot's id is never None: the model's ``int | None`` is for unsaved rows)
_RECENT = cast("Select[str, int]", select(col(Snapshot.content_hash), col(Snapshot.id))
               .where(col(Snapshot.source_id) == bindparam("source_id"))
               .order_by(col(Snapshot.id).desc()).limit(bindparam("n")))


def store_snapshot(session: Session, values: dict[str, Any]) -> int:
    """Insert a snapshot unless this content is stored already; its id either way."""
    res = insert_ignore(session, Snapshot, values, ("source_id", "content_hash"),
                        returning=Snapshot.id)
    row = res.first()
    if row is not None:
        return int(row[0])
    found = session.execute(select(col(Snapshot.id)).where(
        and_(col(Snapshot.source_id) == values["source_id"],
             col(Snapshot.content_hash) == values["content_hash"]))).scalar_one()
    return int(found)


# --- triggers -------------------------------------------------------------------------


def insert_trigger(session: Session, values: dict[str, Any]) -> int | None:
    """Insert a trigger; None when its dedupe key fired before (here or on another daemon)."""
    row = insert_ignore(session, Trigger, values, ("dedupe_key",), returning=Trigger.id).first()
    return int(row[0]) if row else None


def count(session: Session, model: type[SQLModel], *where: Any) -> int:
    stmt = select(func.count()).select_from(model)
    for cond in where:
        stmt = stmt.where(cond)
    return int(session.execute(stmt).scalar_one())
