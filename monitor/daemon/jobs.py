"""Periodic jobs done once across every daemon that shares the database.

Each daemon polls; the first to find the job due takes its ``JobLease`` row, runs it
and records the run; the others see it held or not yet due and skip. A daemon that dies
mid-run stops renewing, its lease expires, and another daemon runs the job again. ::

    from monitor.daemon.jobs import add_once

    def register_jobs(daemon):
        add_once(daemon, "digest:daily", due=digest_due, job=send_digests)

``due`` is either seconds since the last run or a function ``(last_run, now) -> bool``
(e.g. "it is past 09:00 and the last run was before today's 09:00"). A failed run is
retried after ``retry`` seconds, by whichever daemon polls first.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.engine import Engine

from config.schema import Config
from monitor.check.pipeline import default_worker
from monitor.clock import utcnow
from storage.db import session_scope
from storage.leases import Due, claim_job, finish_job, renew_job

log = logging.getLogger("reassess.jobs")

Job = Callable[[], Awaitable[Any]]


class Host(Protocol):
    """What a feature's ``register_jobs(host)`` may use of the daemon that runs it
    (``monitor.daemon.daemon.Daemon``): its config and database, its stop flag and task
    set, the hooks a reload calls, and periodic jobs."""

    config: Config
    engine: Engine
    stopping: asyncio.Event
    tasks: set[asyncio.Task[Any]]
    reload_hooks: list[Callable[[Config], None]]

    @property
    def worker(self) -> str: ...

    def add_periodic(self, name: str, seconds: float, job: Job) -> None: ...


LEASE = 300.0  # a run longer than this is renewed while it lasts (async runs)
RETRY = 60.0


@contextlib.contextmanager
def job_once(engine: Engine, name: str, due: Due, *, owner: str | None = None,
             lease: float = LEASE, retry: float = RETRY,
             now: datetime | None = None) -> Iterator[bool]:
    """``with job_once(engine, "x", 3600) as mine: if mine: ...`` — ``mine`` says whether
    this process holds the run; leaving the block records it (done, or failed on error)."""
    owner = owner or default_worker()
    started = now or utcnow()
    with session_scope(engine) as session:
        mine = claim_job(session, name, due, owner, started, lease)
    if not mine:
        yield False
        return
    ok = False
    try:
        yield True
        ok = True
    finally:
        with session_scope(engine) as session:
            finish_job(session, name, owner, started=started, ok=ok,
                       retry_at=(now or utcnow()) + timedelta(seconds=retry))


def run_once(engine: Engine, name: str, due: Due, work: Callable[[], Any], *,
             owner: str | None = None, lease: float = LEASE, retry: float = RETRY,
             now: datetime | None = None) -> bool:
    """Run ``work()`` if job ``name`` is due and no daemon holds it; True when it ran.

    ``now`` (default: the clock) is when the run counts as started."""
    with job_once(engine, name, due, owner=owner, lease=lease, retry=retry,
                  now=now) as mine:
        if mine:
            work()
    return mine


async def arun_once(engine: Engine, name: str, due: Due,
                    work: Callable[[], Awaitable[Any] | Any], *, owner: str | None = None,
                    lease: float = LEASE, retry: float = RETRY) -> bool:
    """``run_once`` for a coroutine (or plain) job; the lease is renewed while it runs.

    The claim, the renewals and the record are database work: each runs in a thread,
    never on the event loop that runs the checks and serves the web UI.
    """
    owner = owner or default_worker()
    started = utcnow()

    def claim() -> bool:
        with session_scope(engine) as session:
            return claim_job(session, name, due, owner, started, lease)

    def finish(ok: bool) -> None:
        with session_scope(engine) as session:
            finish_job(session, name, owner, started=started, ok=ok,
                       retry_at=utcnow() + timedelta(seconds=retry))

    if not await asyncio.to_thread(claim):
        return False
    keeper = asyncio.ensure_future(_renew(engine, name, owner, lease))
    ok = False
    try:
        result = work()
        if inspect.isawaitable(result):
            await result
        ok = True
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
        await asyncio.shield(asyncio.to_thread(finish, ok))
    return True


async def _renew(engine: Engine, name: str, owner: str, lease: float) -> None:
    def renew() -> None:
        with session_scope(engine) as session:
            renew_job(session, name, owner, utcnow() + timedelta(seconds=lease))
    while True:
        await asyncio.sleep(lease / 3)
        try:
            await asyncio.to_thread(renew)
        except Exception:  # the run itself decides the outcome; a missed renewal is logged
            log.warning("could not renew the lease of job %s", name, exc_info=True)


def add_once(daemon: Host, name: str, due: Due, job: Callable[[], Awaitable[Any] | Any], *,
             poll: float = 60.0, lease: float = LEASE, retry: float = RETRY) -> None:
    """Schedule ``job`` on ``daemon`` so that it runs once per ``due`` across all daemons;
    each daemon asks every ``poll`` seconds (one small transaction)."""
    if not callable(due):
        poll = min(poll, max(float(due), 1.0))

    async def tick() -> None:
        await arun_once(daemon.engine, name, due, job, owner=daemon.worker,
                        lease=lease, retry=retry)

    daemon.add_periodic(name, poll, tick)
