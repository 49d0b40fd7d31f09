"""Persist a batch of check outcomes in one transaction.

Snapshots (only when the content hash changed), check runs, source state, trigger
events (deduplicated by key), assessment flags and notification outbox rows are all
written together: a crash before commit loses nothing, because the next check sees the
same change again and its dedupe key makes the retry safe.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import DateTime
from sqlmodel import Session

from config.schema import Config
from storage.lifecycle import flag_assessments
from storage.models import Assessment, CheckRun, Source
from storage.repo import compress, compress_body, insert_trigger, store_snapshot, trigger_row
from triggers.events import TriggerEvent

from .analyse import Outcome, Settled

# After a failure retry sooner than the interval: 1, 2, 4 … minutes, capped by it.
FAILURE_BACKOFF = 60.0


@dataclass(frozen=True, slots=True)
class StoredTrigger:
    """A trigger event just stored, in the transaction that stored it: its id, the event
    itself, where it came from and the assessments it flagged (none when suppressed)."""

    id: int
    event: TriggerEvent
    vendor_id: str
    source_id: str | None
    flagged: tuple[Assessment, ...]
    at: datetime


class Router(Protocol):
    """Who hears of what (``monitor.notify.routing.Routing``), inside the check's
    transaction, so a trigger and its notifications are stored together or not at all."""

    def reload(self, config: Config) -> None:
        """Take a new configuration: its channels and owners apply from the next check."""

    def triggered(self, session: Session, stored: StoredTrigger) -> int:
        """Enqueue the notifications of a newly stored trigger; returns how many."""

    def checked(self, session: Session, out: Outcome, update: dict[str, Any],
                now: datetime) -> None:
        """See a source's outcome (operational alerts); may add to its ``update`` row."""


def store_trigger(session: Session, event: TriggerEvent, *, dedupe_source: str,
                  vendor_id: str, now: datetime, router: Router | None,
                  source_id: str | None = None, assessment_id: str | None = None,
                  old_snapshot_id: int | None = None,
                  new_snapshot_id: int | None = None) -> StoredTrigger | None:
    """Store an event once (``None`` when its dedupe key fired before: here, before a
    restart or on a replica); unless suppressed, flag the assessments it concerns and
    hand it to the router."""
    trigger_id = insert_trigger(session, trigger_row(
        event, dedupe_source=dedupe_source, vendor_id=vendor_id, now=now, source_id=source_id,
        assessment_id=assessment_id, old_snapshot_id=old_snapshot_id,
        new_snapshot_id=new_snapshot_id))
    if trigger_id is None:
        return None
    flagged: tuple[Assessment, ...] = ()
    if not event.suppressed:
        flagged = tuple(flag_assessments(session, trigger_id, vendor_id, event.type, now,
                                         assessment_id=assessment_id))
    stored = StoredTrigger(trigger_id, event, vendor_id, source_id, flagged, now)
    if router is not None and not event.suppressed:
        router.triggered(session, stored)
    return stored


def settle(out: Outcome) -> None:
    """Swap an analysed outcome's document (and the raw body a stored snapshot keeps)
    for what ``persist`` needs of it."""
    doc = out.document
    if doc is None or isinstance(doc, Settled):
        return
    if out.store_snapshot:
        body = out.fetch.body
        body_sha256 = None
        if body is not None:  # triage hashed this body already (``out.body_hash``)
            body_sha256 = out.body_hash or hashlib.sha256(body).hexdigest()
        out.document = Settled(doc.kind, doc.hash, doc.parser_version,
                               compress(doc.canonical()), out.watch.kind.size(doc),
                               compress_body(body) if body is not None else None,
                               body_sha256)
    else:
        out.document = Settled(doc.kind, doc.hash, doc.parser_version)


def next_due(now: datetime, interval: float, jitter: float, failures: int = 0) -> datetime:
    """When to check again: the interval ± jitter, or a backoff after failures."""
    if failures:
        delay = min(interval, FAILURE_BACKOFF * 2 ** min(failures - 1, 10))
    else:
        delay = interval
    if jitter:
        delay *= 1 + random.uniform(-jitter, jitter)
    return now + timedelta(seconds=max(delay, 1.0))


def persist(session: Session, outcomes: Sequence[Outcome], *, now: datetime, worker: str,
            jitter: float | Callable[[Outcome], float], interval_of: Callable[[Outcome], float],
            failures_before: dict[str, int],
            router: Router | None = None) -> list[StoredTrigger]:
    """Write a batch; returns the triggers newly stored (suppressed ones too)."""
    runs: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    fired: list[StoredTrigger] = []
    if any(out.events for out in outcomes):
        # Triggers take row locks kept to commit (the vendor's day in vendor_activity, its
        # assessments' flags): taken in one order, two daemons' batches that fire for the
        # same vendors wait for each other instead of deadlocking on PostgreSQL.
        outcomes = sorted(outcomes, key=_by_vendor)
    for out in outcomes:
        source_id = out.source_id
        snapshot_id = _snapshot(session, out) if out.store_snapshot else None
        new = [stored for event in out.events if (stored := store_trigger(
            session, event, dedupe_source=source_id, vendor_id=out.watch.vendor.id,
            now=now, router=router, source_id=source_id,
            old_snapshot_id=out.old_snapshot_id, new_snapshot_id=snapshot_id)) is not None]
        fired += new
        row = _source_update(out, snapshot_id, now,
                             jitter(out) if callable(jitter) else jitter, interval_of(out),
                             failures_before.get(source_id, 0))
        updates.append(row)
        if router is not None:
            router.checked(session, out, row, now)
        runs.append({
            "source_id": source_id, "started_at": out.started_at,
            "duration_ms": out.fetch.elapsed_ms, "outcome": out.outcome,
            "http_status": out.fetch.status, "error": out.error or out.reason,
            "snapshot_id": snapshot_id or out.current_snapshot_id,
            "changes": len(out.changes), "triggers": len(new), "worker": worker,
        })
    if updates or runs:
        _write_batch(session, updates, runs)
    return fired


def _write_batch(session: Session, updates: list[dict[str, Any]],
                 runs: list[dict[str, Any]]) -> None:
    """The source updates and check-run rows of a batch, as ``executemany`` of SQL built
    once per dialect (and set of updated columns), with the driver's own parameters:
    SQLAlchemy's compiled-statement path cost more Python per row (its parameter
    processing, a bind processor call per datetime) than the database's own work.

    ``exec_driver_sql`` keeps SQLAlchemy's transaction, events and error wrapping (a
    locked SQLite is its ``OperationalError``, as before). Values are bound as SQLAlchemy
    binds them, so the rows read back identical (``tests/test_persist_raw.py``): datetimes
    as its SQLite text (``YYYY-MM-DD HH:MM:SS.ffffff``), or as ``datetime`` for psycopg.
    """
    conn = session.connection()
    sql = _sql_for(conn.dialect)
    if updates:
        # One executemany per set of columns (a batch is two or three: 304s, 200s,
        # failures), in id order within each (two writers on PostgreSQL lock rows in the
        # same order).
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        sorted_keys = _SORTED_KEYS
        for row in updates:
            names = tuple(row)  # rows are built in a few orders: each sorted once
            keys = sorted_keys.get(names)
            if keys is None:
                keys = sorted_keys[names] = tuple(sorted(names))
            groups.setdefault(keys, []).append(row)
        for keys in sorted(groups):
            stmt, order, convert = sql.update(keys)
            rows = sorted(groups[keys], key=_by_id)
            conn.exec_driver_sql(stmt, [convert([row[k] for k in order]) for row in rows])
    if runs:
        convert = sql.run_values
        conn.exec_driver_sql(sql.insert_run, [convert([row[k] for k in CHECKRUN_COLUMNS])
                                              for row in runs])


# A source update's column names in the order its row was built → the same sorted (a
# handful of orders ever: ``_source_update``'s branches, ``Router.checked``'s addition).
_SORTED_KEYS: dict[tuple[str, ...], tuple[str, ...]] = {}


def _by_vendor(out: Outcome) -> tuple[str, str]:
    return out.watch.vendor.id, out.source_id


def _by_id(row: dict[str, Any]) -> Any:
    return row["id"]


# The check-run columns ``persist`` writes, in the order its SQL binds them.
CHECKRUN_COLUMNS = ("source_id", "started_at", "duration_ms", "outcome", "http_status",
                    "error", "snapshot_id", "changes", "triggers", "worker")


def fast_datetime(proc: Callable[[Any], Any], sqlite: bool) -> Callable[[Any], Any]:
    """``proc`` (SQLAlchemy's bind processor of a ``UTCDateTime`` column) with a short cut
    for what the pipeline binds, an aware UTC ``datetime``: the processor's result
    without its Python, the value itself for psycopg (``astimezone(UTC)`` of a UTC
    datetime is the same instant), its SQLite text (``YYYY-MM-DD HH:MM:SS.ffffff``, the
    default storage format) by one C call. Anything else (naive, another zone, a date)
    goes through ``proc``, its errors included."""
    if sqlite:
        # The last datetime converted and its text: a batch binds its ``now`` twice a
        # row (checked and succeeded at), the same object. One tuple, replaced whole, so
        # a reader in another thread never pairs one value with another's text.
        last: tuple[Any, str] = (None, "")

        def convert(value: Any) -> Any:
            nonlocal last
            if value.__class__ is datetime and value.tzinfo is UTC:
                seen = last
                if seen[0] is value:
                    return seen[1]
                text = value.isoformat(" ", "microseconds")[:26]
                last = (value, text)
                return text
            return proc(value)
    else:
        def convert(value: Any) -> Any:
            if value.__class__ is datetime and value.tzinfo is UTC:
                return value
            return proc(value)
    return convert


class _DialectSQL:
    """The statements of ``_write_batch`` for one dialect, with how a row's values (a
    list, in the statement's order) become the driver's parameters."""

    def __init__(self, dialect: Any) -> None:
        self.dialect = dialect
        quote = dialect.identifier_preparer.quote
        self.mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self.quote = quote
        runs = CheckRun.__table__  # type: ignore[attr-defined]
        self.source = Source.__table__  # type: ignore[attr-defined]
        self.insert_run = (f"INSERT INTO {quote(runs.name)} "
                           f"({', '.join(quote(c) for c in CHECKRUN_COLUMNS)}) "
                           f"VALUES ({', '.join([self.mark] * len(CHECKRUN_COLUMNS))})")
        self.run_values = self._converter(runs, CHECKRUN_COLUMNS)
        self._updates: dict[tuple[str, ...], tuple[str, tuple[str, ...], Any]] = {}

    def update(self, keys: tuple[str, ...]) -> tuple[str, tuple[str, ...], Any]:
        """``UPDATE source SET <keys but id> WHERE id = ?``, the order its values go in
        (``id`` last) and their converter; built once per set of keys."""
        found = self._updates.get(keys)
        if found is None:
            order = (*(k for k in keys if k != "id"), "id")
            q, mark = self.quote, self.mark
            sets = ", ".join(f"{q(k)} = {mark}" for k in order[:-1])
            stmt = f"UPDATE {q(self.source.name)} SET {sets} WHERE {q('id')} = {mark}"
            found = self._updates[keys] = (stmt, order, self._converter(self.source, order))
        return found

    def _converter(self, table: Any, names: Sequence[str]) -> Any:
        """What turns a row's values into the driver's: each column's bind processor
        where SQLAlchemy has one for this dialect (on SQLite, the datetimes' text), else
        the value as it is; a row with none to convert becomes a tuple."""
        procs: list[tuple[int, Callable[[Any], Any]]] = []
        for i, name in enumerate(names):
            column_type = table.c[name].type
            proc = column_type._cached_bind_processor(self.dialect)
            if proc is None:
                continue
            if column_type._type_affinity is DateTime:
                proc = fast_datetime(proc, self.dialect.name == "sqlite")
            procs.append((i, proc))
        if not procs:
            return tuple

        def convert(values: list[Any]) -> tuple[Any, ...]:
            for i, proc in procs:
                value = values[i]
                if value is not None:
                    values[i] = proc(value)
            return tuple(values)
        return convert


_SQL: dict[str, _DialectSQL] = {}


def _sql_for(dialect: Any) -> _DialectSQL:
    key = f"{dialect.name}:{dialect.driver}:{dialect.paramstyle}"
    found = _SQL.get(key)
    if found is None:
        found = _SQL[key] = _DialectSQL(dialect)
    return found


def _snapshot(session: Session, out: Outcome) -> int:
    settle(out)
    doc = out.document
    assert isinstance(doc, Settled) and doc.blob is not None
    return store_snapshot(session, {
        "source_id": out.source_id, "url": out.fetch.url, "fetched_at": out.started_at,
        "http_status": out.fetch.status or 200, "etag": out.fetch.etag,
        "last_modified": out.fetch.last_modified, "content_hash": doc.hash,
        "parser_version": doc.parser_version, "kind": doc.kind,
        "document": doc.blob, "size": doc.size,
        "body": doc.body, "content_type": out.fetch.content_type,
    }, texts=(doc.hash, doc.body_sha256))  # the document's hash is its text's sha256


def _next_after(out: Outcome, now: datetime, interval: float, jitter: float) -> datetime:
    """The next due time of a checked source: an interval after its check started, not
    after its batch was written (the daemon claims a source a tick early and starts it
    when due), so it is checked once per interval plus at most a tick — and never twice
    within one."""
    return next_due(min(out.started_at, now), interval, jitter)


def _source_update(out: Outcome, snapshot_id: int | None, now: datetime, jitter: float,
                   interval: float, failures_before: int) -> dict[str, Any]:
    row: dict[str, Any] = {"id": out.source_id, "last_checked_at": now,
                           "last_outcome": out.outcome, "lease_owner": None,
                           "lease_until": None}
    if out.outcome == "failed":
        failures = failures_before + 1
        due = next_due(now, interval, jitter, failures)
        asked = out.fetch.retry_after
        if asked is not None:  # the server's Retry-After, within the source's interval
            due = max(due, now + timedelta(seconds=min(asked, interval)))
        row.update(consecutive_failures=failures, last_error=out.error, next_due_at=due)
        return row
    row.update(consecutive_failures=0, last_error=None, last_success_at=now,
               next_due_at=_next_after(out, now, interval, jitter))
    # Clears a pending change on anything but a repeat of it; a 304 answers the validators
    # of the current version, so a change that reverts before its confirmation ends here.
    row["pending_hash"], row["pending_count"] = out.pending_hash, out.pending_count
    row["pending_since"] = out.pending_since
    if out.fetch.not_modified:
        return row
    if out.outcome in ("pending", "suspect"):
        # Keep the old validators and body hash: the next check must fetch and parse the
        # same new body again to count it, not be answered 304.
        return row
    row.update(etag=out.fetch.etag, last_modified=out.fetch.last_modified,
               body_hash=out.body_hash)
    if out.document is None:
        return row
    # A parsed document is the current one (stored, reverted to, or equal to it): what it
    # was parsed with is what the current document matches from now on.
    row["parser_version"] = out.document.parser_version
    if snapshot_id is not None:
        row.update(current_snapshot_id=snapshot_id, current_hash=out.document.hash)
    elif out.current_snapshot_id is not None:
        row.update(current_snapshot_id=out.current_snapshot_id, current_hash=out.document.hash)
    return row
