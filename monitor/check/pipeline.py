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
import math
import operator
import os
import socket
import sys
import threading
import time
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import zip_longest
from typing import Any, Protocol, TypeVar, cast
from urllib.parse import quote, urlsplit

from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import OperationalError

from config.schema import Config
from monitor.clock import utcnow
from sources import get_kind
from sources.base import Document
from sources.fetch import Fetcher, FetchOptions, FetchRequest, FetchResult
from sources.via import via_for
from storage import repo
from storage.db import bound, session_scope
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
    parse_body,
    parse_failed,
    stale,
    triage,
)
from .paging import follow_pages, paged
from .parsing import POOL_MIN, ParsePool, pool_for, worker_count
from .persist import Router, persist, settle

log = logging.getLogger("reassess.check")
T = TypeVar("T")


class SourceRow(Protocol):
    """A source as a check reads it: a row of ``repo.CHECK_COLUMNS`` (with ``next_due_at``
    when the daemon claimed it: ``repo.claim_due``) or a ``Source``; all answer these
    names."""

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
    def pending_since(self) -> datetime | None: ...
    @property
    def consecutive_failures(self) -> int: ...
    @property
    def alert_state(self) -> str: ...
    @property
    def parser_version(self) -> str | None: ...


# Outcomes written per transaction: at most BATCH that store something (a snapshot, a
# trigger), at most BATCH_ROWS in all. An outcome that stores nothing (a 304, an unchanged
# body, a failure) is a row and an update: a daemon's round of a few hundred of them is
# one transaction, where every transaction writes each page it touched to the WAL again.
BATCH = 200
BATCH_ROWS = 500
BACKLOG = 64  # fetched results at most waiting for analysis (at least 2 × concurrency)
SPAWN = 512  # fetch tasks at most alive at once (at least 4 × concurrency)
FLUSH_AFTER = 1.0  # seconds: a slow source does not hold back the others' outcomes
PASS_MARGIN = 60.0  # seconds a pass's worked-out deadline allows beyond its sources' bounds
START_GRID = 0.1  # seconds: a claimed source not yet due starts at the next slot after


# Put in a pass's results queue when its deadline passes (``Checker._run``).
_DEADLINE: Any = object()


def build_watches(config: Config) -> dict[str, Watch]:
    watches: dict[str, Watch] = {}
    secrets: list[str] = []
    for vendor, source in config.sources():
        kind = get_kind(source.kind)
        settings = kind.Settings.model_validate(source.settings())
        watches[source.id] = Watch(vendor=vendor, source=source, kind=kind, settings=settings,
                                   plain=source.plain())
        secrets += source.secrets()
    if secrets:  # the log redactor learns them before anything could log one
        from monitor.logs import add_secrets

        add_secrets(secrets)
    return watches


def redact_result(result: FetchResult, secrets: Mapping[str, str]) -> FetchResult:
    """``result`` with every expanded ``${VAR}`` value of its source (as written, and
    percent-encoded) put back as its placeholder: in the URL, the error, the validators
    and the body, before anything is hashed, parsed, stored, shown or sent."""
    if not secrets:
        return result
    pairs = [(value, placeholder) for value, placeholder in secrets.items()]
    pairs += [(quote(v, safe=""), p) for v, p in pairs if quote(v, safe="") != v]
    pairs.sort(key=lambda pair: len(pair[0]), reverse=True)

    def clean(text: str | None) -> str | None:
        if text:
            for value, placeholder in pairs:
                text = text.replace(value, placeholder)
        return text

    body = result.body
    if body:
        for value, placeholder in pairs:
            body = body.replace(value.encode(), placeholder.encode())
    return replace(result, url=clean(result.url) or result.url, error=clean(result.error),
                   etag=clean(result.etag), last_modified=clean(result.last_modified),
                   body=body)


def internal_failure(out: Outcome, exc: BaseException) -> Outcome:
    """A bug or hostile input that got past every guard: recorded on its source alone."""
    log.error("%s: the check failed: %s: %s", out.source_id, type(exc).__name__, exc,
              exc_info=exc)
    out.outcome = "failed"
    out.error = f"internal error: {type(exc).__name__}: {_first_line(exc)}"[:500]
    out.document, out.events, out.changes, out.store_snapshot = None, [], [], False
    return out


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


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
    """Reads the analysis needs: old documents and recent hashes (read transactions: they
    never wait for a writer), and a stored body parsed again in a parse worker.

    Each read is a plain connection, not an ORM session: for the one row it fetches,
    a session costs more than the query. Inside ``reading()`` (one analysis) the reads
    share one connection and its read transaction: a changed document's two or three
    reads then begin and end one transaction, not each its own. The analysis runs in the
    checker's database thread; ``reparse`` hands its parse to the event loop's pool and
    waits for it.
    """

    def __init__(self, engine: Engine, pool: ParsePool | None = None) -> None:
        self.engine = bound(engine, write=False)
        self.pool = pool
        self.loop: asyncio.AbstractEventLoop | None = None
        self._shared = threading.local()  # the connection of the reading() underway

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Let the reads made inside (in this thread) share one connection, opened at
        the first of them and closed (its read transaction ended) on the way out."""
        self._shared.reading = True
        try:
            yield
        finally:
            self._shared.reading = False
            conn, self._shared.conn = getattr(self._shared, "conn", None), None
            if conn is not None:
                conn.close()

    def _connection(self) -> contextlib.AbstractContextManager[Connection]:
        if not getattr(self._shared, "reading", False):
            return self.engine.connect()
        conn = getattr(self._shared, "conn", None)
        if conn is None:
            conn = self._shared.conn = self.engine.connect()
        return contextlib.nullcontext(conn)

    def document(self, snapshot_id: int) -> Stored:
        with self._connection() as conn:
            found = repo.load_document(conn, snapshot_id)
        if found is None:
            raise LookupError(f"snapshot {snapshot_id} is missing")
        return Stored(json.loads(found[1]), found[2])

    def body(self, snapshot_id: int) -> bytes | None:
        with self._connection() as conn:
            return repo.load_body(conn, snapshot_id)

    def recent(self, source_id: str, n: int, parser_version: str) -> dict[str, int]:
        with self._connection() as conn:
            return repo.recent_hashes(conn, source_id, n, parser_version)

    def reparse(self, watch: Watch, body: bytes) -> Document:
        pool, loop = self.pool, self.loop
        if pool is None or pool.inline or loop is None or not loop.is_running():
            return parse_body(watch, body)
        work = pool.parse(watch.kind.NAME, watch.settings, body)
        return asyncio.run_coroutine_threadsafe(work, loop).result(pool.timeout * 2 + 5)


Progress = Callable[[Outcome], None]


@dataclass
class Claim:
    """Sources leased to this process for one pass, with the watches they were claimed
    under (a reload between the claim and the pass does not change them)."""

    rows: list[Any]  # repo.claim_due's rows: SourceRow and next_due_at
    held: set[str]
    watches: dict[str, Watch]
    size: int  # rows claimed, watched or not


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
        self.policy = policy or Policy.build(config.rules)
        self.router = router
        self.observer = observer
        self.pool = pool_for(worker_count(config.parse.workers), config.parse.timeout,
                             config.parse.max_memory)
        self.reader = _DbReader(engine, self.pool)
        # Database work and the analysis that reads stored versions run here, never on
        # the event loop that fetches (and, in the daemon, serves the web UI).
        self._db: ThreadPoolExecutor | None = None
        self._facts_of: tuple[dict[str, Watch], int, float] | None = None
        self._hosts_of: tuple[dict[str, Watch], dict[str, str]] | None = None
        self._shared: _SharedFetcher | None = None

    def start_pool(self, sources: int | None = None) -> None:
        """Fork the parse workers (before any thread starts) if the work is worth it."""
        if (sources if sources is not None else len(self.watches)) >= POOL_MIN:
            self.pool.start()

    def close(self) -> None:
        """Stop and reap the parse workers; end the database thread."""
        self.pool.close()
        if self._db is not None:
            self._db.shutdown(wait=True)
            self._db = None

    async def in_db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` in the checker's database thread (one: writes keep their order)."""
        if self._db is None:
            self._db = ThreadPoolExecutor(1, thread_name_prefix="reassess-db")
        return await asyncio.get_running_loop().run_in_executor(self._db, fn, *args)

    def pass_timeout(self, rows: int, hosts: int) -> float:
        """How long a pass over ``rows`` sources on ``hosts`` hosts may take: the config's
        ``schedule.pass_timeout``, else each source's bound (fetch with retries, then its
        parse) times the waves the concurrency limits make, plus a margin."""
        if self.config.schedule.pass_timeout:
            return float(self.config.schedule.pass_timeout)
        opts = self.fetch_options
        longest = self._facts(self.watches)[1]
        per_source = opts.bound(longest or None) + self.config.parse.timeout + 5.0
        lanes = max(1, min(opts.concurrency, opts.per_host * max(hosts, 1)))
        return per_source * math.ceil(max(rows, 1) / lanes) + PASS_MARGIN

    def keep_client(self) -> None:
        """Keep one HTTP client (``Fetcher``) for every pass from now on, as the daemon
        does: its passes reuse their connections instead of opening new ones every few
        dozen checks, and ``http.concurrency`` and ``http.per_host`` bound the process,
        passes running side by side included. A reload with other ``http`` settings
        starts a new client; the old one closes when its last pass ends."""
        self._shared = _SharedFetcher()

    async def aclose(self) -> None:
        """Close the kept client, if any (the daemon, at shutdown)."""
        if self._shared is not None:
            await self._shared.close()

    def _fetcher(self) -> contextlib.AbstractAsyncContextManager[Fetcher]:
        if self._shared is None:
            return Fetcher(self.fetch_options)
        return self._shared.use(self.fetch_options)

    def _facts(self, watches: dict[str, Watch]) -> tuple[int, float]:
        """(hosts, longest source timeout) of a set of watches, worked out once per set
        (the watches are rebuilt, never changed, on a reload): a daemon pass over a few
        dozen sources must not walk every watched source."""
        cached = self._facts_of
        if cached is None or cached[0] is not watches:
            hosts = len({urlsplit(w.source.url).hostname for w in watches.values()})
            longest = max([w.source.timeout or 0.0 for w in watches.values()] or [0.0])
            cached = self._facts_of = (watches, hosts, longest)
        return cached[1], cached[2]

    def _hosts(self, watches: dict[str, Watch]) -> dict[str, str]:
        """Each watched source's host, worked out once per set of watches (a pass used to
        split the URL of each of its sources); the host names are interned, so 100,000
        sources on a few hosts hold a few strings."""
        cached = self._hosts_of
        if cached is None or cached[0] is not watches:
            hosts = {sid: sys.intern(urlsplit(w.source.url).hostname or "")
                     for sid, w in watches.items()}
            cached = self._hosts_of = (watches, hosts)
        return cached[1]

    def reload(self, config: Config) -> None:
        self.config = config
        self.watches = build_watches(config)
        self.fetch_options = FetchOptions.from_config(config.http)
        self.pool.timeout = config.parse.timeout
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
        self.start_pool()  # forked before this pass starts its threads
        ids = list(source_ids) if source_ids is not None else list(self.watches)

        def read() -> list[Any]:
            with session_scope(self.engine, write=False) as session:
                return repo.check_rows(session, ids)
        rows = await self.in_db(read)
        return await self._run(rows, progress)

    async def check_due(self, limit: int = 500, progress: Progress | None = None) -> PassSummary:
        """Claim the due sources no other daemon holds, and check them.

        The leases are renewed while the checks are in flight, however long a busy host
        makes them wait; each is cleared when its outcome is written. A source this
        process does not watch (another replica's newer config) is released at once.
        """
        claimed = await self.claim_due(limit)
        if claimed is None:
            return PassSummary()
        return await self.check_claimed(claimed, progress)

    async def claim_due(self, limit: int = 500) -> Claim | None:
        """Lease up to ``limit`` due sources (``None``: nothing due that this process
        watches); ``check_claimed`` checks them."""
        lease = self.config.schedule.lease
        watches = self.watches
        # What falls due before the next tick is claimed now and checked when it is due
        # (``_one`` waits for it), not up to a tick late.
        ahead = self.config.schedule.tick

        def claim() -> list[Any]:
            with session_scope(self.engine) as session:
                rows = repo.claim_due(session, self.worker, utcnow(), lease, limit, ahead)
                repo.release(session, [r.id for r in rows if r.id not in watches],
                             self.worker)
            return rows
        rows = await asyncio.to_thread(claim)  # not queued behind the batch writes
        held = {r.id for r in rows if r.id in watches}
        return Claim(rows, held, watches, len(rows)) if held else None

    async def check_claimed(self, claimed: Claim, progress: Progress | None = None
                            ) -> PassSummary:
        lease = self.config.schedule.lease
        keeper = asyncio.ensure_future(self._keep_leases(claimed.held, lease))
        try:
            return await self._run(claimed.rows, progress, held=claimed.held,
                                   watches=claimed.watches)
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper

    async def _keep_leases(self, held: set[str], lease: float) -> None:
        def renew() -> None:
            with session_scope(self.engine) as session:
                renew_sources(session, list(held), self.worker,
                              utcnow() + timedelta(seconds=lease))
        while held:
            await asyncio.sleep(max(lease / 3, 0.2))
            try:
                await asyncio.to_thread(renew)  # beside the database thread's batch writes
            except Exception:  # a missed renewal only risks a second fetch elsewhere
                log.warning("could not renew %d source leases", len(held), exc_info=True)

    async def _run(self, rows: Sequence[SourceRow], progress: Progress | None,
                   held: set[str] | None = None,
                   watches: dict[str, Watch] | None = None) -> PassSummary:
        """One pass: every row ends as an outcome written to the database, whatever its
        source does — an exception, a hang or a crash is recorded on that source alone,
        and what the pass's deadline cuts short is recorded as failed."""
        summary = PassSummary()
        watches = watches or self.watches  # fixed for the pass: a reload may swap them
        rows = [r for r in rows if r.id in watches]
        if not rows:
            return summary
        states = _states(rows)
        pending: list[Outcome] = []
        heavy = 0  # outcomes in ``pending`` that store a snapshot or a trigger
        flushed = time.monotonic()
        loop = asyncio.get_running_loop()
        self.reader.loop = loop
        # Fetched bodies wait here for the (CPU-bound) analysis: bounded, or a first pass
        # over thousands of sources holds every body in memory at once.
        backlog = asyncio.Semaphore(max(BACKLOG, 2 * self.fetch_options.concurrency))
        # Results come through a queue, not as the tasks' return values: a finished task
        # would keep its body alive until the end of the pass.
        # Parsed bodies come back through it too, as (outcome, document or parse error).
        results: asyncio.Queue[Any] = asyncio.Queue()
        started_at: dict[str, datetime] = {}
        policy, hold = self.policy, self.config.guard  # fixed for the pass, like the watches
        hosts = self._hosts(watches)

        async def one(row: SourceRow) -> None:
            watch = watches[row.id]
            started_at[row.id] = utcnow()
            try:
                item: tuple[datetime, FetchResult] = await self._one(fetcher, row, watch,
                                                                     backlog, hosts)
            except Exception as exc:  # a bug past the fetcher's own net: this source only
                item = (started_at[row.id], FetchResult(
                    row.id, watch.source.url, error=f"internal error: {type(exc).__name__}: "
                                                    f"{_first_line(exc)}"))
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

        def analyse(out: Outcome, parsed: Document | BaseException) -> Outcome:
            try:  # in the database thread: conclude reads stored versions
                if isinstance(parsed, BaseException):
                    out = parse_failed(out, parsed)
                else:
                    with self.reader.reading():
                        out = conclude(out, out.watch, states[out.source_id], parsed,
                                       self.reader, policy, hold)
                # Analysed: the batch needs neither the parsed document (its hash, size
                # and compressed JSON) nor the body (compressed, when a snapshot keeps it).
                settle(out)
            except Exception as exc:
                out = internal_failure(out, exc)
            return out

        async def record(out: Outcome) -> None:
            nonlocal pending, flushed, heavy
            backlog.release()
            if out.fetch.body is not None:
                out.fetch = replace(out.fetch, body=None)
            summary.add(out)
            pending.append(out)
            if out.store_snapshot or out.events:
                heavy += 1
            if self.observer is not None:
                self.observer.checked(out)
            if progress is not None:
                progress(out)
            if (heavy >= BATCH or len(pending) >= BATCH_ROWS
                    or time.monotonic() - flushed >= FLUSH_AFTER):
                batch, pending, flushed, heavy = pending, [], time.monotonic(), 0
                summary.triggers += await self.in_db(self._flush, batch, states, held)

        parsing: set[asyncio.Task[None]] = set()
        done_ids: set[str] = set()
        limit = self.pass_timeout(len(rows), self._facts(watches)[0])
        deadline = loop.time() + limit
        async with self._fetcher() as fetcher:
            tasks = _Tasks(one, _interleaved(rows, watches, hosts),
                           max(SPAWN, 4 * self.fetch_options.concurrency))
            # The pass's deadline comes through the results queue: one timer for the
            # pass, not one armed and cancelled around every wait for a result.
            expiry = loop.call_at(deadline, results.put_nowait, _DEADLINE)
            tasks.start()
            try:
                while len(done_ids) < len(rows):
                    item = results.get_nowait() if not results.empty() else await results.get()
                    if item is _DEADLINE:
                        if not results.empty():  # what already waits is taken first
                            results.put_nowait(_DEADLINE)
                            continue
                        await self._cut_short(rows, done_ids, watches, started_at, record,
                                              limit)
                        break
                    out = await self._next(item, watches, states, analyse, parse, parsing)
                    del item
                    if out is not None:
                        done_ids.add(out.source_id)
                        await record(out)
            finally:
                expiry.cancel()
                tasks.cancel()
                for task in list(parsing):
                    task.cancel()
                if pending:
                    summary.triggers += await self.in_db(self._flush, pending, states, held)
        return summary

    async def _next(self, item: Any, watches: dict[str, Watch],
                    states: dict[str, SourceState],
                    analyse: Callable[[Outcome, Document | BaseException], Outcome],
                    parse: Callable[[Outcome, bytes], Awaitable[None]],
                    parsing: set[asyncio.Task[None]]) -> Outcome | None:
        """The outcome a result makes now, or ``None`` when its body went to be parsed."""
        if isinstance(item[0], Outcome):  # a parse came back
            return await self.in_db(analyse, item[0], item[1])
        started, result = item
        watch = watches[result.source_id]
        try:
            out = triage(watch, states[result.source_id], result, started)
        except Exception as exc:
            return internal_failure(Outcome(watch=watch, fetch=result, started_at=started,
                                            outcome="failed"), exc)
        if out.outcome == PARSE:  # the body goes to a parse worker
            task = asyncio.ensure_future(parse(out, result.body or b""))
            parsing.add(task)
            task.add_done_callback(parsing.discard)
            return None
        return out

    async def _cut_short(self, rows: Sequence[SourceRow], done: set[str],
                         watches: dict[str, Watch], started_at: dict[str, datetime],
                         record: Callable[[Outcome], Awaitable[None]], limit: float) -> None:
        """The pass's deadline passed: every source without an outcome fails with why."""
        log.warning("the pass ran past its deadline; %d of %d sources recorded as failed",
                    len(rows) - len(done), len(rows))
        for row in rows:
            if row.id in done:
                continue
            watch = watches[row.id]
            out = Outcome(watch=watch, started_at=started_at.get(row.id, utcnow()),
                          fetch=FetchResult(row.id, watch.source.url), outcome="failed",
                          error="the pass ran past its deadline (schedule.pass_timeout, "
                                f"about {limit:.0f}s) before this source was done")
            done.add(row.id)
            await record(out)

    async def _one(self, fetcher: Fetcher, row: SourceRow, watch: Watch,
                   backlog: asyncio.Semaphore | None = None,
                   hosts: Mapping[str, str] | None = None) -> tuple[datetime, FetchResult]:
        due = getattr(row, "next_due_at", None)  # a claimed source, due within a tick
        if due is not None and (wait := (due - utcnow()).total_seconds()) > 0:
            # Started at the next slot of START_GRID after it is due: the sources due
            # within one slot start together (one wake-up of the event loop for a group of
            # requests, not one for each), at most START_GRID late.
            loop = asyncio.get_running_loop()
            now = loop.time()
            wait = math.ceil((now + wait) / START_GRID) * START_GRID - now
            await asyncio.sleep(min(wait, self.config.schedule.tick))
        started = utcnow()
        # A stale source (its document another parser's) is fetched whole, never answered
        # 304: its re-baseline needs this body parsed (analyse.py).
        # A paged list is fetched whole too: its first page's validators say nothing of
        # the pages after it (paging.py).
        is_paged = paged(watch.kind)
        fresh = not is_paged and not stale(watch.kind, row.current_snapshot_id,
                                           row.parser_version)
        source = watch.source
        plain = watch.plain  # what the config's request_url(), request_headers(),
        # fetch_via() and secrets() would give for it is known: the url, {}, None and {}
        request = FetchRequest(source_id=row.id,
                               url=source.url if plain else source.request_url(),
                               etag=row.etag if fresh else None,
                               last_modified=row.last_modified if fresh else None,
                               headers={} if plain else source.request_headers(),
                               timeout=source.timeout,
                               via=None if plain else source.fetch_via())
        # The host worked out once per set of watches, when the request goes to the URL
        # as configured (no ``${VAR}`` in it: ``request_url`` gave back the same string).
        host = hosts.get(row.id) if hosts is not None and request.url is source.url else None
        result = await fetcher.fetch(request, backlog, via_for(request), host)
        if is_paged:
            result = await follow_pages(fetcher, request, result, watch.kind, watch.settings)
        return started, result if plain else redact_result(result, source.secrets())

    def _flush(self, outcomes: list[Outcome], states: dict[str, SourceState],
               held: set[str] | None = None) -> int:
        """Write a batch (in the database thread); a batch the database refuses for one
        of its rows is written source by source, so the others' results are kept."""
        try:
            stored = self._write(outcomes, states)
        except OperationalError:
            raise
        except Exception:
            if len(outcomes) == 1:
                raise
            log.warning("a batch of %d outcomes could not be written; writing them one "
                        "by one", len(outcomes), exc_info=True)
            stored = []
            for out in outcomes:
                try:
                    stored += self._write([out], states)
                except OperationalError:
                    raise  # the database's own trouble (locked, read-only, full, gone)
                except Exception:
                    log.exception("%s: its outcome could not be written", out.source_id)
        if held is not None:
            held.difference_update(o.source_id for o in outcomes)  # persist cleared them
        sent = [s.event for s in stored if not s.event.suppressed]
        if self.observer is not None and sent:
            self.observer.fired(sent)
        return len(stored)

    def _write(self, outcomes: list[Outcome], states: dict[str, SourceState]) -> list[Any]:
        with session_scope(self.engine) as session:
            return persist(
                session, outcomes, now=utcnow(), worker=self.worker,
                jitter=lambda o: _jitter(self.config, o),
                interval_of=lambda o: self.config.interval_for(o.watch.vendor, o.watch.source),
                # the batch's own sources (a ``reassess check`` pass holds every source's)
                failures_before={o.source_id: states[o.source_id].consecutive_failures
                                 for o in outcomes if o.source_id in states},
                router=self.router,
            )


class _SharedFetcher:
    """One ``Fetcher`` shared by the passes that use it, for as long as the options it
    was made with are the checker's; each retired one closes when its last pass ends."""

    def __init__(self) -> None:
        self._current: tuple[FetchOptions, Fetcher] | None = None
        self._users: dict[int, int] = {}

    @contextlib.asynccontextmanager
    async def use(self, options: FetchOptions) -> AsyncIterator[Fetcher]:
        if self._current is None or self._current[0] != options:
            old = self._current
            fetcher = Fetcher(options)
            await fetcher.__aenter__()
            self._current = (options, fetcher)
            if old is not None and not self._users.get(id(old[1])):
                await old[1].__aexit__(None, None, None)
        fetcher = self._current[1]
        key = id(fetcher)
        self._users[key] = self._users.get(key, 0) + 1
        try:
            yield fetcher
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key]
                if self._current is None or self._current[1] is not fetcher:
                    await fetcher.__aexit__(None, None, None)  # retired: its last pass ended

    async def close(self) -> None:
        if self._current is not None:
            fetcher, self._current = self._current[1], None
            await fetcher.__aexit__(None, None, None)


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


def _interleaved(rows: Sequence[SourceRow], watches: dict[str, Watch],
                 hosts: dict[str, str] | None = None) -> list[SourceRow]:
    """The rows with their hosts taking turns (each host's in their order), so the tasks
    alive at a time are spread over the hosts and a slow one cannot hold them all.
    ``hosts``: each source's host, when already worked out (``Checker._hosts``)."""
    by_host: dict[str, list[SourceRow]] = {}
    for row in rows:
        host = (hosts[row.id] if hosts is not None
                else urlsplit(watches[row.id].source.url).hostname or "")
        by_host.setdefault(host, []).append(row)
    if len(by_host) == 1:
        return list(rows)
    return [r for group in zip_longest(*by_host.values()) for r in group if r is not None]


def _jitter(config: Config, out: Outcome) -> float:
    """The source's own jitter, else the schedule's."""
    own = out.watch.source.jitter
    return config.schedule.jitter if own is None else own


# A claimed or read row (``repo.CHECK_COLUMNS`` first) as its ``SourceState``, by one C
# call instead of ten attribute reads and a keyword call: one is made for every check.
_STATE_OF_ROW = operator.itemgetter(*(repo.CHECK_COLUMNS.index(f) for f in SourceState._fields))


def _states(rows: Sequence[SourceRow]) -> dict[str, SourceState]:
    """Each row's ``SourceState`` by id: rows of ``repo.CHECK_COLUMNS`` (the claim's and
    ``check_rows``'s) by position, anything else (a ``Source``) by name."""
    first = rows[0] if rows else None
    if isinstance(first, Row) and first._fields[:len(repo.CHECK_COLUMNS)] == repo.CHECK_COLUMNS:
        make, get, plain = SourceState._make, _STATE_OF_ROW, cast("Sequence[Row[Any]]", rows)
        return {row[0]: make(get(row)) for row in plain}
    return {r.id: _state(r) for r in rows}


def _state(row: SourceRow) -> SourceState:
    return SourceState(id=row.id, current_snapshot_id=row.current_snapshot_id,
                       current_hash=row.current_hash, body_hash=row.body_hash,
                       pending_hash=row.pending_hash, pending_count=row.pending_count,
                       pending_since=row.pending_since,
                       consecutive_failures=row.consecutive_failures,
                       alert_state=row.alert_state, parser_version=row.parser_version)
