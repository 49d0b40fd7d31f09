"""The notification outbox: rows written with their trigger, delivered by the notifier.

A row is one message for one apprise URL of one channel. Its life::

    digest ──(the channel's digest time)──▶ batched   (folded into a digest row)
    pending ──(claimed, sent)──▶ sent
       ▲  └──(send failed)──▶ pending, attempts+1, next_attempt_at backed off
       │                      └──(attempts exhausted, or its URL is gone)──▶ failed
       └──────────────(reassess notify-retry)─────────────────────────────────┘

Every row is inserted once (``dedupe_key`` is unique) and claimed with a short lease,
renewed while its delivery lasts, so several daemons deliver each row once; a dead
daemon's lease expires and another takes over (a restart on the same host takes its
dead predecessor's rows back at once: ``storage.leases.reclaim_dead``). A claim counts
an attempt (a process killed mid-send may have sent it: the next delivery says attempt
2); a row given back unsent gets its attempt back. Rows never hold an apprise URL, only
a key derived from it: secrets stay in the configuration.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlmodel import Session, col

from .models import Outbox
from .repo import insert_ignore

STATUSES = ("pending", "digest", "batched", "sent", "failed")


def enqueue(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert rows whose ``dedupe_key`` is new; returns how many were inserted."""
    if not rows:
        return 0
    res = insert_ignore(session, Outbox, list(rows), ("dedupe_key",), returning=col(Outbox.id))
    return len(res.all())


def claim_due(session: Session, worker: str, now: datetime, lease: float,
              limit: int = 50) -> list[Outbox]:
    """Lease up to ``limit`` pending rows that are due; each goes to one worker only.

    PostgreSQL skips rows another transaction holds (``FOR UPDATE SKIP LOCKED``);
    SQLite's ``BEGIN IMMEDIATE`` serialises claimers.
    """
    free = or_(col(Outbox.lease_until).is_(None), col(Outbox.lease_until) < now)
    due = or_(col(Outbox.next_attempt_at).is_(None), col(Outbox.next_attempt_at) <= now)
    stmt = (select(Outbox).where(and_(col(Outbox.status) == "pending", due, free))
            .order_by(col(Outbox.id)).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = list(session.execute(stmt).scalars())
    if rows:
        until = now + timedelta(seconds=lease)
        session.execute(update(Outbox).where(col(Outbox.id).in_([r.id for r in rows]))
                        .values(lease_owner=worker, lease_until=until,
                                attempts=col(Outbox.attempts) + 1)
                        .execution_options(synchronize_session=False))
        for row in rows:
            row.lease_owner, row.lease_until, row.attempts = worker, until, row.attempts + 1
    return rows


def renew(session: Session, row_ids: Sequence[int], worker: str, until: datetime) -> int:
    """Extend ``worker``'s leases on rows it is still delivering; how many it still held."""
    if not row_ids:
        return 0
    res = session.execute(update(Outbox).where(and_(
        col(Outbox.id).in_(list(row_ids)), col(Outbox.lease_owner) == worker,
        col(Outbox.status) == "pending")).values(lease_until=until))
    return int(res.rowcount or 0)  # type: ignore[attr-defined]


def _mine(row_id: int, worker: str) -> Any:
    return and_(col(Outbox.id) == row_id, col(Outbox.lease_owner) == worker,
                col(Outbox.status) == "pending")


def mark_sent(session: Session, row_id: int, worker: str, now: datetime) -> bool:
    """Record a delivery; False when the lease was lost (another worker owns the row)."""
    res = session.execute(update(Outbox).where(_mine(row_id, worker)).values(
        status="sent", sent_at=now, last_error=None, lease_owner=None, lease_until=None))
    return bool(res.rowcount)  # type: ignore[attr-defined]


def mark_failed_attempt(session: Session, row: Outbox, worker: str, now: datetime, error: str,
                        *, retry: float, retry_max: float, attempts: int,
                        final: bool = False) -> str:
    """Record a failed attempt (counted when ``row`` was claimed): back off exponentially,
    or give up; the new status."""
    tried = max(row.attempts, 1)
    give_up = final or tried >= attempts
    delay = min(retry * 2 ** min(tried - 1, 30), retry_max)
    status = "failed" if give_up else "pending"
    session.execute(update(Outbox).where(_mine(row.id or 0, worker)).values(
        status=status, attempts=tried, last_error=error[:1000],
        next_attempt_at=None if give_up else now + timedelta(seconds=delay),
        lease_owner=None, lease_until=None))
    return status


def release(session: Session, row_ids: Sequence[int], worker: str,
            next_attempt_at: datetime | None = None) -> None:
    """Give claimed rows back unsent (shutdown, or their URL just failed): the attempt
    their claim counted is given back."""
    if not row_ids:
        return
    values: dict[str, Any] = {"lease_owner": None, "lease_until": None,
                              "attempts": case((col(Outbox.attempts) > 0, col(Outbox.attempts) - 1),
                                          else_=0)}
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    session.execute(update(Outbox).where(and_(col(Outbox.id).in_(list(row_ids)),
                                              col(Outbox.lease_owner) == worker,
                                              col(Outbox.status) == "pending")).values(**values))


def waiting_digest(session: Session, channel: str, before: datetime) -> list[Outbox]:
    """Rows of a channel waiting for its digest, created before ``before``."""
    stmt = (select(Outbox).where(and_(col(Outbox.status) == "digest",
                                      col(Outbox.channel) == channel,
                                      col(Outbox.created_at) < before))
            .order_by(col(Outbox.id)))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.execute(stmt).scalars())


def fold_into_digest(session: Session, digest_row: dict[str, Any], row_ids: Sequence[int]) -> bool:
    """Insert a digest row and mark its items batched; False if that digest exists already."""
    if not enqueue(session, [digest_row]):
        return False
    session.execute(update(Outbox).where(and_(col(Outbox.id).in_(list(row_ids)),
                                              col(Outbox.status) == "digest"))
                    .values(status="batched"))
    return True


def retry_failed(session: Session, now: datetime, ids: Sequence[int] | None = None) -> int:
    """Put failed rows back to pending with a fresh count of attempts."""
    stmt = update(Outbox).where(col(Outbox.status) == "failed")
    if ids is not None:
        stmt = stmt.where(col(Outbox.id).in_(list(ids)))
    res = session.execute(stmt.values(status="pending", attempts=0, next_attempt_at=now,
                                      lease_owner=None, lease_until=None))
    return int(res.rowcount)  # type: ignore[attr-defined]


def counts(session: Session) -> dict[str, int]:
    """Rows per status."""
    rows = session.execute(select(col(Outbox.status), func.count())
                           .group_by(col(Outbox.status))).all()
    return {status: int(n) for status, n in rows}


def recent(session: Session, *, status: str | None = None, limit: int = 50) -> list[Outbox]:
    stmt = select(Outbox).order_by(col(Outbox.id).desc()).limit(limit)
    if status is not None:
        stmt = stmt.where(col(Outbox.status) == status)
    return list(session.execute(stmt).scalars())
