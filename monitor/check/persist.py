"""Persist a batch of check outcomes in one transaction.

Snapshots (only when the content hash changed), check runs, source state, trigger
events (deduplicated by key), assessment flags and notification outbox rows are all
written together: a crash before commit loses nothing, because the next check sees the
same change again and its dedupe key makes the retry safe.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import Session

from storage.lifecycle import flag_assessments
from storage.models import Assessment, CheckRun, Source
from storage.repo import compress, insert_trigger, store_snapshot
from triggers.events import SCHEMA_VERSION, TriggerEvent

from .analyse import Outcome, Settled

# After a failure retry sooner than the interval: 1, 2, 4 … minutes, capped by it.
FAILURE_BACKOFF = 60.0

TriggerHook = Callable[[Session, int, TriggerEvent, Outcome, list[Assessment], datetime], None]
FailureHook = Callable[[Session, Outcome, dict[str, Any], datetime], None]


def settle(out: Outcome) -> None:
    """Swap an analysed outcome's document for what ``persist`` needs of it."""
    doc = out.document
    if doc is None or isinstance(doc, Settled):
        return
    if out.store_snapshot:
        out.document = Settled(doc.kind, doc.hash, doc.parser_version,
                               compress(doc.canonical()), out.watch.kind.size(doc))
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
            on_trigger: TriggerHook | None = None,
            on_failure: FailureHook | None = None) -> int:
    """Write a batch; returns the number of triggers newly stored."""
    runs: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    fired = 0
    for out in outcomes:
        snapshot_id = _snapshot(session, out) if out.store_snapshot else None
        new_triggers = _triggers(session, out, snapshot_id, now, on_trigger)
        fired += new_triggers
        row = _source_update(out, snapshot_id, now,
                             jitter(out) if callable(jitter) else jitter, interval_of(out),
                             failures_before.get(out.source_id, 0))
        updates.append(row)
        if on_failure is not None:
            on_failure(session, out, row, now)
        runs.append({
            "source_id": out.source_id, "started_at": out.started_at,
            "duration_ms": out.fetch.elapsed_ms, "outcome": out.outcome,
            "http_status": out.fetch.status, "error": out.error,
            "snapshot_id": snapshot_id or out.current_snapshot_id,
            "changes": len(out.changes), "triggers": new_triggers, "worker": worker,
        })
    if updates:
        # The ORM runs one executemany per run of consecutive rows with the same columns:
        # grouped, a batch is two or three statements instead of one per 304/200 switch.
        updates.sort(key=lambda row: (len(row), sorted(row), row["id"]))
        session.execute(update(Source), updates)
    if runs:
        session.execute(insert(CheckRun), runs)
    return fired


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
    })


def _triggers(session: Session, out: Outcome, snapshot_id: int | None, now: datetime,
              on_trigger: TriggerHook | None) -> int:
    fired = 0
    for event in out.events:
        trigger_id = insert_trigger(session, {
            "dedupe_key": event.dedupe_key(out.source_id), "schema_version": SCHEMA_VERSION,
            "type": event.type, "severity": event.severity, "title": event.title[:500],
            "vendor_id": out.watch.vendor.id, "source_id": out.source_id,
            "entities": list(event.entities), "evidence": event.evidence,
            "changes": list(event.changes), "channels": list(event.channels),
            "old_snapshot_id": out.old_snapshot_id, "new_snapshot_id": snapshot_id,
            "created_at": now, "status": "suppressed" if event.suppressed else "open",
            "rule": event.rule,
        })
        if trigger_id is None:
            continue  # this change fired before: here, before a restart, or on a replica
        fired += 1
        if event.suppressed:
            continue
        flagged = flag_assessments(session, trigger_id, out.watch.vendor.id, event.type, now)
        if on_trigger is not None:
            on_trigger(session, trigger_id, event, out, flagged, now)
    return fired


def _source_update(out: Outcome, snapshot_id: int | None, now: datetime, jitter: float,
                   interval: float, failures_before: int) -> dict[str, Any]:
    row: dict[str, Any] = {"id": out.source_id, "last_checked_at": now,
                           "last_outcome": out.outcome, "lease_owner": None,
                           "lease_until": None}
    if out.outcome == "failed":
        failures = failures_before + 1
        row.update(consecutive_failures=failures, last_error=out.error,
                   next_due_at=next_due(now, interval, jitter, failures))
        return row
    row.update(consecutive_failures=0, last_error=None, last_success_at=now,
               next_due_at=next_due(now, interval, jitter))
    # Clears a pending change on anything but a repeat of it; a 304 answers the validators
    # of the current version, so a change that reverts before its confirmation ends here.
    row["pending_hash"], row["pending_count"] = out.pending_hash, out.pending_count
    if out.fetch.not_modified:
        return row
    if out.outcome in ("pending", "suspect"):
        # Keep the old validators and body hash: the next check must fetch and parse the
        # same new body again to count it, not be answered 304.
        return row
    row.update(etag=out.fetch.etag, last_modified=out.fetch.last_modified,
               body_hash=out.body_hash)
    if snapshot_id is not None and out.document is not None:
        row.update(current_snapshot_id=snapshot_id, current_hash=out.document.hash)
    elif out.current_snapshot_id is not None and out.document is not None:
        row.update(current_snapshot_id=out.current_snapshot_id, current_hash=out.document.hash)
    return row
