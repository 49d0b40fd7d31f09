"""Retention: prune what is only operational history, keep what is evidence.

Pruned, when older than the configured age (``retention.check_runs``):

* check runs (one row per check; the bulk of the database);
* snapshots that nothing needs any more: not referenced by any trigger (as its old or new
  version), not the current version of any source, not referenced by a check run that is
  kept, and not among the ``keep_versions`` newest of their source (flap detection compares
  a new version with the recent ones).

Never pruned: triggers, assessment flags, audit events, and the snapshots they rely on.
Deletes run in batches, each its own transaction, so a large first prune never holds a
long lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, union
from sqlalchemy.engine import Engine

from .db import session_scope
from .models import CheckRun, Snapshot, Source, Trigger

BATCH = 5000


@dataclass(frozen=True)
class PruneResult:
    check_runs: int = 0
    snapshots: int = 0


def prune(engine: Engine, now: datetime, *, older_than: float, keep_versions: int = 3,
          batch: int = BATCH) -> PruneResult:
    """Delete check runs and unreferenced snapshots older than ``older_than`` seconds."""
    cutoff = now - timedelta(seconds=older_than)
    runs = _delete_batches(engine, CheckRun, select(CheckRun.id)
                           .where(CheckRun.started_at < cutoff), batch)  # type: ignore[arg-type,operator]
    snaps = _delete_batches(engine, Snapshot, select(Snapshot.id).where(
        Snapshot.fetched_at < cutoff,  # type: ignore[arg-type]
        Snapshot.id.not_in(_kept_snapshots(keep_versions))), batch)  # type: ignore[union-attr]
    return PruneResult(check_runs=runs, snapshots=snaps)


def _kept_snapshots(keep_versions: int) -> object:
    """Ids of every snapshot something still refers to (never NULL: NOT IN needs that)."""
    refs = [
        select(Trigger.old_snapshot_id.label("id")).where(  # type: ignore[attr-defined]
            Trigger.old_snapshot_id.is_not(None)),  # type: ignore[union-attr]
        select(Trigger.new_snapshot_id).where(Trigger.new_snapshot_id.is_not(None)),  # type: ignore[call-overload,union-attr]
        select(Source.current_snapshot_id).where(Source.current_snapshot_id.is_not(None)),  # type: ignore[call-overload,union-attr]
        select(CheckRun.snapshot_id).where(CheckRun.snapshot_id.is_not(None)),  # type: ignore[call-overload,union-attr]
    ]
    if keep_versions > 0:
        ranked = select(Snapshot.id, func.row_number().over(  # type: ignore[call-overload]
            partition_by=Snapshot.source_id, order_by=Snapshot.id.desc()).label("rn")  # type: ignore[union-attr]
        ).subquery()
        refs.append(select(ranked.c.id).where(ranked.c.rn <= keep_versions))
    return union(*refs)


def _delete_batches(engine: Engine, model: type, ids: object, batch: int) -> int:
    total = 0
    while True:
        with session_scope(engine) as session:
            chunk = list(session.execute(ids.limit(batch)).scalars())  # type: ignore[attr-defined]
            if chunk:
                session.execute(delete(model).where(model.id.in_(chunk)))  # type: ignore[attr-defined]
        total += len(chunk)
        if len(chunk) < batch:
            return total
