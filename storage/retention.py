"""Retention: prune what is only operational history, keep what is evidence.

Pruned, when older than the configured age (``retention.check_runs``):

* check runs (one row per check; the bulk of the database);
* snapshots that nothing needs any more: not referenced by any trigger (as its old or new
  version), not the current version of any source, not referenced by a check run that is
  kept, and not among the ``keep_versions`` newest of their source (flap detection compares
  a new version with the recent ones).

Folded, not pruned: the rows ``trigger_count`` gathers on PostgreSQL (one per write
statement; ``storage/counts.py``), each key's into one.

Never pruned: triggers, assessment flags, audit events, and the snapshots they rely on.
A pruned snapshot is in the hash chain (``storage/chain.py``): its pruning is appended
as a ``pruned`` record, so ``reassess verify`` knows its absence is retention's.
Deletes run in batches, each its own transaction, so a large first prune never holds a
long lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CompoundSelect, Select, delete, func, select, union
from sqlalchemy.engine import Engine
from sqlmodel import col

from . import chain, counts
from .db import session_scope
from .models import CheckRun, Snapshot, Source, Trigger

BATCH = 5000


@dataclass(frozen=True)
class PruneResult:
    check_runs: int = 0
    snapshots: int = 0


def prune(engine: Engine, now: datetime, *, older_than: float, keep_versions: int = 3,
          batch: int = BATCH) -> PruneResult:
    """Delete check runs and unreferenced snapshots older than ``older_than`` seconds (and
    fold the trigger counts' rows)."""
    counts.compact(engine)
    cutoff = now - timedelta(seconds=older_than)
    runs = _delete_batches(engine, CheckRun, select(col(CheckRun.id))
                           .where(col(CheckRun.started_at) < cutoff), batch)
    snaps = _delete_batches(engine, Snapshot, select(col(Snapshot.id)).where(
        col(Snapshot.fetched_at) < cutoff,
        col(Snapshot.id).not_in(_kept_snapshots(keep_versions))), batch)
    return PruneResult(check_runs=runs, snapshots=snaps)


def _kept_snapshots(keep_versions: int) -> CompoundSelect:
    """Ids of every snapshot something still refers to (never NULL: NOT IN needs that)."""
    refs: list[Select[Any]] = [
        select(col(ref).label("id")).where(col(ref).is_not(None))
        for ref in (Trigger.old_snapshot_id, Trigger.new_snapshot_id,
                    Source.current_snapshot_id, CheckRun.snapshot_id)]
    if keep_versions > 0:
        ranked = select(col(Snapshot.id), func.row_number().over(
            partition_by=col(Snapshot.source_id), order_by=col(Snapshot.id).desc()).label("rn")
        ).subquery()
        refs.append(select(ranked.c.id).where(ranked.c.rn <= keep_versions))
    return union(*refs)


def _delete_batches(engine: Engine, model: type[CheckRun] | type[Snapshot],
                    ids: Select[Any], batch: int) -> int:
    total = 0
    while True:
        with session_scope(engine) as session:
            chunk = list(session.execute(ids.limit(batch)).scalars())
            if chunk:
                session.execute(delete(model).where(col(model.id).in_(chunk)))
                if model is Snapshot:  # chained evidence: its pruning is chained too
                    chain.record_pruned(session, "snapshot", chunk)
        total += len(chunk)
        if len(chunk) < batch:
            return total
