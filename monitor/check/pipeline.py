"""One pass of checks: schedule → fetch → parse → diff → rules → persist.

``Checker`` holds what a process needs across passes — the config's watches, the
database engine, one shared HTTP client per pass — and runs either every selected
source now (``reassess check``) or the due ones it could claim (the daemon).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import zip_longest
from typing import Any, Protocol
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine

from config.schema import Config
from monitor.clock import utcnow
from sources import get_kind
from sources.fetch import Fetcher, FetchOptions, FetchRequest, FetchResult
from storage import repo
from storage.db import session_scope
from storage.leases import advisory_lock, renew_sources
from storage.sync import sync_config
from triggers.events import TriggerEvent
from triggers.policy import Policy

from .analyse import (
    PARSE,
    Outcome,
    SourceState,
    Stored,
    Watch,
    conclude,
    parse_failed,
    stale,
    triage,
)
from .parsing import POOL_MIN, pool_for, worker_count
from .persist import Router, persist, settle

log = logging.getLogger("reassess.check")

class SourceRow(Protocol):
    """A source as a check reads it: a ``Source`` (claimed by the daemon) or a row of
    ``repo.CHECK_COLUMNS`` (``reassess check``); both answer these names."""

    @property
    def id(self) -> str: ...
    @property
    def etag(self) -> str | None: ...
    @property
    def last_modified(self) -> str | None: ...
    @property
    def current_snapshot_id(self) -> int | None: ...
    @property
    def current_hash(self) -> str | None: ...
    @property
    def body_hash(self) -> str | None: ...
    @property
    def pending_hash(self) -> str | None: ...
    @property
    def pending_count(self) -> int: ...
    @property
    def consecutive_failures(self) -> int: ...
    @property
    def alert_state(self) -> str: ...
    @property
    def parser_version(self) -> str | None: ...

BATCH = 200  # outcomes written per transaction
BACKLOG = 64  # fetched results at most waiting for analysis (at least 2 × concurrency)
SPAWN = 512  # fetch tasks at most alive at once (at least 4 × concurrency)
FLUSH_AFTER = 1.0  # seconds: a slow source does not hold back the others' outcomes


def build_watches(config: Config) -> dict[str, Watch]:
    watches: dict[str, Watch] = {}
    for vendor, source in config.sources():
        kind = get_kind(source.kind)
        settings = kind.Settings.model_validate(source.settings())
        watches[source.id] = Watch(vendor=vendor, source=source, kind=kind, settings=settings)
    return watches


def default_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class PassSummary:
    checked: int = 0
    changed: int = 0
    unchanged: int = 0
    failed: int = 0
    baseline: int = 0
    held: int = 0
    rebaselined: int = 0
    triggers: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)

    def add(self, out: Outcome) -> None:
        self.checked += 1
        self.outcomes[out.outcome] = self.outcomes.get(out.outcome, 0) + 1
        if out.outcome == "failed":
            self.failed += 1
            self.failures.append((out.source_id, out.error or "failed"))
        elif out.outcome == "changed":
            self.changed += 1
        elif out.outcome == "baseline":
            self.baseline += 1
        elif out.outcome in ("pending", "suspect"):
            self.held += 1
        elif out.outcome == "rebaselined":
            self.rebaselined += 1
        else:
            self.unchanged += 1


class _DbReader:
    """Reads the analysis needs: old documents and recent hashes.

    Each read is a plain connection, not an ORM session: for the one row it fetches,
    a session costs more than the query.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def document(self, snapshot_id: int) -> Stored:
        with self.engine.connect() as conn:
            found = repo.load_document(conn, snapshot_id)
        if found is None:
            raise LookupError(f"snapshot {snapshot_id} is missing")
        return Stored(json.loads(found[1]), found[2])

    def body(self, snapshot_id: int) -> bytes | None:
        with self.engine.connect() as conn:
            return repo.load_body(conn, snapshot_id)

    def recent(self, source_id: str, n: int, parser_version: str) -> dict[str, int]:
        with self.engine.connect() as conn:
            return repo.recent_hashes(conn, source_id, n, parser_version)


Progress = Callable[[Outcome], None]


class Observer(Protocol):
    """Sees every check and every newly stored trigger (the daemon's metrics)."""

    def checked(self, out: Outcome) -> None: ...

    def fired(self, events: list[TriggerEvent]) -> None: ...


class Checker:
    """Runs checks for a config against a database; one instance per process.

    Its collaborators are explicit: the ``policy`` that adjusts every event after the
    kind's rule (``triggers.fire``; by default the config's ``rules:`` after the built-in
    ones, rebuilt on ``reload``), the ``router`` that decides who hears of a stored
    trigger or a failing source (none: nobody is notified), and the ``observer`` that
    counts checks and triggers (the daemon's metrics).
    """

    def __init__(self, config: Config, engine: Engine, *, worker: str | None = None,
                 fetch_options: FetchOptions | None = None, policy: Policy | None = None,
                 router: Router | None = None, observer: Observer | None = None) -> None:
        self.config = config
        self.engine = engine
        self.worker = worker or default_worker()
        self.watches = build_watches(config)
        self.fetch_options = fetch_options or FetchOptions.from_config(config.http)
        self.reader = _DbReader(engine)
        self.policy = policy or Policy.build(config.rules)
        self.router = router
        self.observer = observer
        self.pool = pool_for(worker_count(config.parse.workers))

    def start_pool(self, sources: int | None = None) -> None:
        """Fork the parse workers (before any thread starts) if the work is worth it."""
        if (sources if sources is not None else len(self.watches)) >= POOL_MIN:
            self.pool.start()

    def close(self) -> None:
        """Stop and reap the parse workers."""
        self.pool.close()

    def reload(self, config: Config) -> None:
        self.config = config
        self.watches = build_watches(config)
        self.fetch_options = FetchOptions.from_config(config.http)
        self.policy = Policy.build(config.rules)
        if self.router is not None:
            self.router.reload(config)

    def sync(self, now: datetime | None = None) -> None:
        with session_scope(self.engine) as session:
            advisory_lock(session, "sync_config")  # daemons starting together take turns
            sync_config(session, self.config, now or utcnow())

    async def check(self, source_ids: Iterable[str] | None = None,
                    progress: Progress | None = None) -> PassSummary:
        """Check the given sources (default: every active one) now, whatever is due."""
        with session_scope(self.engine) as session:
            rows = repo.check_rows(session, list(source_ids) if source_ids is not None
                                   else list(self.watches))
        self.start_pool(len(rows))
        return await self._run(rows, progress)

    async def check_due(self, limit: int = 500, progress: Progress | None = None) -> PassSummary:
        """Claim the due sources no other daemon holds, and check them.

        The leases are renewed while the checks are in flight, however long a busy host
        makes them wait; each is cleared when its outcome is written. A source this
        process does not watch (another replica's newer config) is released at once.
        """
        now = utcnow()
        lease = self.config.schedule.lease
        watches = self.watches
        with session_scope(self.engine) as session:
            rows = repo.claim_due(session, self.worker, now, lease, limit)
            repo.release(session, [r.id for r in rows if r.id not in watches], self.worker)
        held = {r.id for r in rows if r.id in watches}
        if not held:
            return PassSummary()
        keeper = asyncio.ensure_future(self._keep_leases(held, lease))
        try:
            return await self._run(rows, progress, held=held, watches=watches)
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper

    async def _keep_leases(self, held: set[str], lease: float) -> None:
        while held:
            await asyncio.sleep(max(lease / 3, 0.2))
            try:
                with session_scope(self.engine) as session:
                    renew_sources(session, list(held), self.worker,
                                  utcnow() + timedelta(seconds=lease))
            except Exception:  # a missed renewal only risks a second fetch elsewhere
                log.warning("could not renew %d source leases", len(held), exc_info=True)

    async def _run(self, rows: Sequence[SourceRow], progress: Progress | None,
                   held: set[str] | None = None,
                   watches: dict[str, Watch] | None = None) -> PassSummary:
        summary = PassSummary()
        watches = watches or self.watches  # fixed for the pass: a reload may swap them
        rows = [r for r in rows if r.id in watches]
        if not rows:
            return summary
        states = {r.id: _state(r) for r in rows}
        pending: list[Outcome] = []
        flushed = time.monotonic()
        # Fetched bodies wait here for the (CPU-bound) analysis: bounded, or a first pass
        # over thousands of sources holds every body in memory at once.
        backlog = asyncio.Semaphore(max(BACKLOG, 2 * self.fetch_options.concurrency))
        # Results come through a queue, not as the tasks' return values: a finished task
        # would keep its body alive until the end of the pass.
        # Parsed bodies come back through it too, as (outcome, document or parse error).
        results: asyncio.Queue[Any] = asyncio.Queue()

        async def one(row: SourceRow) -> None:
            try:
                item: tuple[datetime, FetchResult] | Exception = await self._one(
                    fetcher, row, watches[row.id], backlog)
            except Exception as exc:  # re-raised by the loop below, as a task's would be
                item = exc
            results.put_nowait(item)

        async def parse(out: Outcome, body: bytes) -> None:
            watch = out.watch
            try:
                doc = await self.pool.parse(watch.kind.NAME, watch.settings, body)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a parser bug or hostile input must not stop the pass
                results.put_nowait((out, exc))
            else:
                results.put_nowait((out, doc))

        def record(out: Outcome) -> None:
            nonlocal pending, flushed
            backlog.release()
            # Analysed: the batch needs neither the parsed document (its hash, size and
            # compressed JSON) nor the body (compressed, when a snapshot keeps it).
            settle(out)
            if out.fetch.body is not None:
                out.fetch = replace(out.fetch, body=None)
            summary.add(out)
            pending.append(out)
            if self.observer is not None:
                self.observer.checked(out)
            if progress is not None:
                progress(out)
            if len(pending) >= BATCH or time.monotonic() - flushed >= FLUSH_AFTER:
                summary.triggers += self._flush(pending, states, held)
                pending, flushed = [], time.monotonic()

        parsing: set[asyncio.Task[None]] = set()
        policy = self.policy  # fixed for the pass, like the watches
        async with Fetcher(self.fetch_options) as fetcher:
            tasks = _Tasks(one, _interleaved(rows, watches),
                           max(SPAWN, 4 * self.fetch_options.concurrency))
            tasks.start()
            try:
                done = 0
                while done < len(rows):
                    item = await results.get()
                    if isinstance(item, Exception):
                        raise item
                    if isinstance(item[0], Outcome):  # a parse came back
                        out, parsed = item
                        del item
                        state = states[out.source_id]
                        out = (parse_failed(out, parsed) if isinstance(parsed, BaseException)
                               else conclude(out, out.watch, state, parsed, self.reader, policy))
                        done += 1
                        record(out)
                        continue
                    started, result = item
                    del item
                    out = triage(watches[result.source_id], states[result.source_id], result,
                                 started)
                    if out.outcome == PARSE:  # the body goes to a parse worker
                        task = asyncio.ensure_future(parse(out, result.body or b""))
                        parsing.add(task)
                        task.add_done_callback(parsing.discard)
                        del result
                        continue
                    del result
                    done += 1
                    record(out)
            finally:
                tasks.cancel()
                for task in list(parsing):
                    task.cancel()
                if pending:
                    summary.triggers += self._flush(pending, states, held)
        return summary

    async def _one(self, fetcher: Fetcher, row: SourceRow, watch: Watch,
                   backlog: asyncio.Semaphore | None = None) -> tuple[datetime, FetchResult]:
        started = utcnow()
        # A stale source (its document another parser's) is fetched whole, never answered
        # 304: its re-baseline needs this body parsed (analyse.py).
        fresh = not stale(watch.kind, row.current_snapshot_id, row.parser_version)
        request = FetchRequest(source_id=row.id, url=watch.source.url,
                               etag=row.etag if fresh else None,
                               last_modified=row.last_modified if fresh else None,
                               headers=watch.source.headers, timeout=watch.source.timeout)
        return started, await fetcher.fetch(request, backlog)

    def _flush(self, outcomes: list[Outcome], states: dict[str, SourceState],
               held: set[str] | None = None) -> int:
        with session_scope(self.engine) as session:
            stored = persist(
                session, outcomes, now=utcnow(), worker=self.worker,
                jitter=lambda o: _jitter(self.config, o),
                interval_of=lambda o: self.config.interval_for(o.watch.vendor, o.watch.source),
                failures_before={k: v.consecutive_failures for k, v in states.items()},
                router=self.router,
            )
        if held is not None:
            held.difference_update(o.source_id for o in outcomes)  # persist cleared them
        sent = [s.event for s in stored if not s.event.suppressed]
        if self.observer is not None and sent:
            self.observer.fired(sent)
        return len(stored)


class _Tasks:
    """One fetch task per row, at most ``limit`` alive at once (each waiting task holds its
    request: thousands at once add up), a new one started as each ends."""

    def __init__(self, run: Callable[[SourceRow], Awaitable[None]], rows: list[SourceRow],
                 limit: int) -> None:
        self._run, self._rows, self._limit = run, iter(rows), limit
        self.alive: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        while len(self.alive) < self._limit:
            row = next(self._rows, None)
            if row is None:
                return
            task = asyncio.ensure_future(self._run(row))
            self.alive.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.alive.discard(task)
        self.start()

    def cancel(self) -> None:
        self._rows = iter(())
        for task in list(self.alive):
            task.cancel()


def _interleaved(rows: Sequence[SourceRow], watches: dict[str, Watch]) -> list[SourceRow]:
    """The rows with their hosts taking turns (each host's in their order), so the tasks
    alive at a time are spread over the hosts and a slow one cannot hold them all."""
    by_host: dict[str, list[SourceRow]] = {}
    for row in rows:
        host = urlsplit(watches[row.id].source.url).hostname or ""
        by_host.setdefault(host, []).append(row)
    if len(by_host) == 1:
        return list(rows)
    return [r for group in zip_longest(*by_host.values()) for r in group if r is not None]


def _jitter(config: Config, out: Outcome) -> float:
    """The source's own jitter, else the schedule's."""
    own = out.watch.source.jitter
    return config.schedule.jitter if own is None else own


def _state(row: SourceRow) -> SourceState:
    return SourceState(id=row.id, current_snapshot_id=row.current_snapshot_id,
                       current_hash=row.current_hash, body_hash=row.body_hash,
                       pending_hash=row.pending_hash, pending_count=row.pending_count,
                       consecutive_failures=row.consecutive_failures,
                       alert_state=row.alert_state, parser_version=row.parser_version)
