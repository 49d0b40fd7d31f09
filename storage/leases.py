"""Leases that let several daemons share one database without a coordinator.

Two kinds, both plain rows with an owner and an expiry, so a holder that dies simply
stops renewing and its work becomes free again:

* source leases (``Source.lease_owner`` / ``lease_until``), taken by
  ``storage.repo.claim_due`` and renewed here while a check is in flight;
* job leases (``JobLease``): a periodic job (retention, digests, ``review_due``) that must
  run once across all daemons per period. ``claim_job`` decides under a row lock
  (``FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises writers) whether
  the job is due and free, and takes it.

``advisory_lock`` serialises whole-database steps (migrations, config sync) that several
daemons starting together would otherwise race on.

A lease's owner is ``host:pid``. ``reclaim_dead`` frees, at once, the leases held by
processes of this host that no longer run (a ``kill -9``, a crash): a restarted daemon or
``reassess check`` takes its predecessor's work back without waiting out the lease.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select, text, update
from sqlalchemy.engine import Connection
from sqlmodel import Session, col

from .models import JobLease, Outbox, Source
from .repo import insert_ignore

# When a job is due: seconds since its last run, or a function of (last run, now).
Due = float | Callable[[datetime | None, datetime], bool]


def advisory_lock(conn: Session | Connection, name: str) -> None:
    """Hold a database-wide lock named ``name`` until the transaction ends (PostgreSQL).

    SQLite needs none: every transaction starts with ``BEGIN IMMEDIATE``, which already
    admits one writer at a time.
    """
    bind = conn.get_bind() if isinstance(conn, Session) else conn
    if bind.dialect.name == "postgresql":
        key = zlib.crc32(f"reassess:{name}".encode()) - 2**31  # a signed 32-bit key
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def renew_sources(session: Session, source_ids: Collection[str], worker: str,
                  until: datetime) -> int:
    """Extend ``worker``'s leases on ``source_ids``; returns how many it still held."""
    if not source_ids:
        return 0
    res = session.execute(update(Source)
                          .where(and_(col(Source.id).in_(list(source_ids)),
                                      col(Source.lease_owner) == worker))
                          .values(lease_until=until))
    return int(res.rowcount or 0)  # type: ignore[attr-defined]


def is_due(due: Due, last_run: datetime | None, now: datetime) -> bool:
    if callable(due):
        return due(last_run, now)
    return last_run is None or now - last_run >= timedelta(seconds=float(due))


def claim_job(session: Session, name: str, due: Due, owner: str, now: datetime,
              lease: float) -> bool:
    """Take the job ``name`` for ``owner`` if it is due and nobody holds it."""
    insert_ignore(session, JobLease, {"name": name}, ("name",))
    stmt = select(JobLease).where(col(JobLease.name) == name)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = session.execute(stmt).scalar_one()
    held = row.lease_until is not None and row.lease_until > now
    if held or not is_due(due, row.last_run_at, now):
        return False
    session.execute(update(JobLease).where(col(JobLease.name) == name)
                    .values(owner=owner, lease_until=now + timedelta(seconds=lease)))
    return True


def renew_job(session: Session, name: str, owner: str, until: datetime) -> bool:
    res = session.execute(update(JobLease)
                          .where(and_(col(JobLease.name) == name, col(JobLease.owner) == owner))
                          .values(lease_until=until))
    return bool(res.rowcount)  # type: ignore[attr-defined]


def finish_job(session: Session, name: str, owner: str, *, started: datetime, ok: bool,
               retry_at: datetime | None = None) -> None:
    """Record a run: done (``last_run_at`` = its start) or failed (free again at
    ``retry_at``, so a failing job is not retried by every daemon on every poll)."""
    values: dict[str, object] = {"owner": None, "lease_until": None if ok else retry_at}
    if ok:
        values["last_run_at"] = started
    session.execute(update(JobLease)
                    .where(and_(col(JobLease.name) == name, col(JobLease.owner) == owner))
                    .values(**values))



def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it runs, as another user
        return True
    return True


def dead_owners(owners: Collection[str | None], host: str,
                running: Callable[[int], bool] = _running) -> list[str]:
    """The ``host:pid`` owners among ``owners`` whose process no longer runs on ``host``."""
    dead = []
    for owner in set(owners):
        name, _, pid = (owner or "").rpartition(":")
        if name == host and pid.isdigit() and int(pid) != os.getpid() and not running(int(pid)):
            dead.append(owner or "")
    return dead


def reclaim_dead(session: Session, host: str, now: datetime,
                 lease: float | None = None) -> dict[str, int]:
    """Free the source, outbox and job leases held by dead processes of ``host``; counts
    by table. An outbox row keeps the attempt its claim counted (it may have been sent).

    The notifier asks every tick, so each question reads an index, never a whole table:
    the sources due within ``lease`` seconds (``schedule.lease``: one due later is free
    again, its lease run out, before it is due; ``None``, at start-up: every source)
    and the pending outbox rows (every other status has its lease cleared).
    """
    freed: dict[str, int] = {}
    tables: tuple[tuple[str, Any, Any, str, Any], ...] = (
        ("sources", Source, Source.lease_owner, "lease_owner",
         None if lease is None else col(Source.next_due_at) <= now + timedelta(seconds=lease)),
        ("outbox", Outbox, Outbox.lease_owner, "lease_owner", col(Outbox.status) == "pending"),
        ("jobs", JobLease, JobLease.owner, "owner", None))
    for name, model, owner, column, live in tables:
        held = session.execute(select(col(owner)).where(
            col(owner).is_not(None), col(model.lease_until) > now,
            *(() if live is None else (live,))).distinct()).scalars().all()
        dead = dead_owners(held, host)
        if not dead:
            continue
        res = session.execute(update(model).where(col(owner).in_(dead))
                              .values({column: None, "lease_until": None}))
        freed[name] = int(res.rowcount or 0)  # type: ignore[attr-defined]
    return freed
