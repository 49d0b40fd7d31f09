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

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

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
    runs = _prune_runs(engine, cutoff, batch)
    snaps = _prune_snapshots(engine, cutoff, keep_versions, batch)
    return PruneResult(check_runs=runs, snapshots=snaps)


def _prune_snapshots(engine: Engine, cutoff: datetime, keep_versions: int,
                     batch: int) -> int:
    """Delete the snapshots fetched before ``cutoff`` that nothing needs, walking them in
    id order a page of ``batch`` per transaction (by the primary key alone: whatever the
    planner thinks of how many are old, a page is a range of it, never a sort).

    Each page asks only about its own snapshots, by index: the triggers and check runs
    that name them, the sources whose current version they are, and the newest
    ``keep_versions`` of their sources. (One ``NOT IN`` over everything every table
    names made PostgreSQL compare each old snapshot with a list as long as the check
    runs, once it no longer fitted in ``work_mem``: 9 s a page at 500,000 check runs.)
    What a page keeps is decided in the transaction that deletes the rest."""
    total, after = 0, 0
    while True:
        with session_scope(engine) as session:
            rows = session.execute(
                select(col(Snapshot.id), col(Snapshot.source_id), col(Snapshot.fetched_at))
                .where(col(Snapshot.id) > after).order_by(col(Snapshot.id)).limit(batch)).all()
            old = [r for r in rows if r[2] < cutoff]  # (read back aware, in UTC)
            if rows:
                after = rows[-1][0]
            if old:
                ids = [r[0] for r in old]
                kept = _needed(session, ids, {r[1] for r in old}, keep_versions)
                gone = [i for i in ids if i not in kept]
                if gone:
                    session.execute(delete(Snapshot).where(col(Snapshot.id).in_(gone)))
                    chain.record_pruned(session, "snapshot", gone)  # chained evidence
                total += len(gone)
        if len(rows) < batch:
            return total


def _needed(session: Session, ids: list[int], sources: set[str],
            keep_versions: int) -> set[int]:
    """Which of ``ids`` something still needs: a trigger (its old or new version), a
    source (its current version), a kept check run, or flap detection (the newest
    ``keep_versions`` of each source)."""
    needed: set[int] = set()
    for ref in (Trigger.old_snapshot_id, Trigger.new_snapshot_id, Source.current_snapshot_id,
                CheckRun.snapshot_id):
        needed.update(session.execute(select(col(ref)).where(col(ref).in_(ids)).distinct())
                      .scalars())
    if keep_versions > 0:
        # newest as flap detection reads them (``repo.recent_hashes``): by fetch time
        ranked = select(col(Snapshot.id), func.row_number().over(
            partition_by=col(Snapshot.source_id),
            order_by=(col(Snapshot.fetched_at).desc(), col(Snapshot.id).desc())).label("rn")
        ).where(col(Snapshot.source_id).in_(sources)).subquery()
        needed.update(session.execute(select(ranked.c.id).where(ranked.c.rn <= keep_versions))
                      .scalars())
    return needed


def _prune_runs(engine: Engine, cutoff: datetime, batch: int) -> int:
    """Delete the check runs started before ``cutoff``, ``batch`` per transaction."""
    old = select(col(CheckRun.id)).where(col(CheckRun.started_at) < cutoff).limit(batch)
    total = 0
    while True:
        with session_scope(engine) as session:
            chunk = list(session.execute(old).scalars())
            if chunk:
                session.execute(delete(CheckRun).where(col(CheckRun.id).in_(chunk)))
        total += len(chunk)
        if len(chunk) < batch:
            return total
