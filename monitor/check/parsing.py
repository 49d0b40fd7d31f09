"""Parsing on the other cores: a few forked worker processes beside the event loop.

Most of a check's CPU is parsing (three quarters of a first pass). With a pool, the
event loop's process fetches, diffs, applies the rules and writes, while the parse of
each new body runs in a worker process, so a machine's second core does work too.
``parse.workers`` in the config sets the size (``auto``: one per core beyond the first,
at most four; ``0``: parse in the event loop's process, as a one-core machine does).

The workers are forked when the pool starts — before the event loop has started a
thread — and import the parsers on first use. ``reassess check`` and ``reassess run``
fork them first thing (``prefork``), before the config and the database fill the heap:
a worker then shares the interpreter and its libraries with the main process and none
of its data, whose pages would otherwise be copied into both as each reuses them.
Workers ignore SIGINT and SIGHUP, drop
the event loop's signal wake-up descriptor (a signal to a worker must never look like
one to the daemon), and die with their parent.

What comes back is exactly what an inline parse gives: the ``Document`` (serialised and
hashed in the worker) or the exception the parser raised. A worker that dies — a crash
in a C parser on hostile input, the OOM killer — breaks the pool: the body in hand is
tried once more on a fresh pool, and if that one dies too the parse fails with
``WorkerDied`` (recorded on the source and retried at its next check, like any parse
error). After ``MAX_RESTARTS`` deaths the pool gives up and parses inline.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import multiprocessing
import os
import signal
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Literal

from sources import get_kind, parse, vocab
from sources.base import BaseSettings, Document

log = logging.getLogger("reassess.parse")

MAX_WORKERS = 4
MAX_RESTARTS = 5  # worker deaths before the pool gives up and parses inline
POOL_MIN = 8  # a pass over fewer sources parses inline: a fork costs more than it saves


class WorkerDied(RuntimeError):
    """The parse's worker process died twice in a row on this body."""


def worker_count(setting: int | Literal["auto"], cpus: int | None = None) -> int:
    """How many parse workers ``parse.workers`` means on this machine."""
    if setting != "auto":
        return max(0, min(int(setting), 64))
    cpus = cpus if cpus is not None else (_usable_cpus() or 1)
    return max(0, min(cpus - 1, MAX_WORKERS))


def _usable_cpus() -> int:
    with contextlib.suppress(AttributeError, OSError):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def parse_in_worker(kind: str, settings: BaseSettings, body: bytes,
                    vocabulary: dict[str, object] | None = None) -> Document:
    """One parse, as the worker runs it (and as the pool runs it inline)."""
    return parse(get_kind(kind), settings, body, vocabulary)


def _init_worker() -> None:
    with contextlib.suppress(ValueError, OSError):
        signal.set_wakeup_fd(-1)  # the parent's event loop listens on it
    for sig, action in ((signal.SIGINT, signal.SIG_IGN), (signal.SIGHUP, signal.SIG_IGN),
                        (signal.SIGTERM, signal.SIG_DFL)):
        with contextlib.suppress(ValueError, OSError):
            signal.signal(sig, action)
    _die_with_parent()


def _die_with_parent() -> None:
    """Linux: SIGKILL this worker when the process that forked it dies, however it dies."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


_EARLY: ParsePool | None = None


def prefork(workers: int | Literal["auto"] = "auto") -> None:
    """Fork the parse workers now, at start-up; ``pool_for`` hands them to the checker."""
    global _EARLY
    count = worker_count(workers)
    if _EARLY is None and count > 0:
        _EARLY = ParsePool(count)
        _EARLY.start()


def pool_for(workers: int) -> ParsePool:
    """The pool a checker uses: the one forked at start-up if it has this many workers
    (the config's ``parse.workers``), else a new one, started when a pass needs it."""
    global _EARLY
    early, _EARLY = _EARLY, None
    if early is not None:
        if early.workers == workers:
            return early
        early.close()
    return ParsePool(workers)


class ParsePool:
    """A pool of ``workers`` forked parse processes; ``parse`` is awaited from the loop."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.restarts = 0
        self.inline = workers <= 0
        self.closed = False
        self._executor: ProcessPoolExecutor | None = None

    @property
    def running(self) -> bool:
        return self._executor is not None

    def start(self) -> None:
        """Fork the workers now (call it before the event loop starts threads)."""
        if self.inline or self.closed or self._executor is not None:
            return
        # What exists now (modules, the config, the watches) lives as long as the process:
        # frozen, no collection in either process walks it, so neither writes to the
        # pages they share after the fork (copy-on-write) just to scan them.
        gc.freeze()
        executor = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("fork"),
                                       initializer=_init_worker)
        # A fork-context pool forks all its workers at the first submit: make that now.
        executor.submit(os.getpid)
        self._executor = executor
        log.debug("parse pool: %d workers", self.workers)

    async def parse(self, kind: str, settings: BaseSettings, body: bytes) -> Document:
        if self.inline or self.closed:  # closed: a parse still finishing as the daemon stops
            return parse_in_worker(kind, settings, body)
        for attempt in (1, 2):
            executor = self._executor
            if executor is None:
                self.start()
                executor = self._executor
                if executor is None:  # gave up after too many deaths
                    return parse_in_worker(kind, settings, body)
            try:
                future: Future[Document] = executor.submit(
                    parse_in_worker, kind, settings, body, vocab.additions())
                return await asyncio.wrap_future(future)
            except BrokenProcessPool:
                self._lost(executor)
                if attempt == 2:
                    raise WorkerDied("the parse worker died twice on this body") from None
        raise AssertionError("unreachable")

    def _lost(self, executor: ProcessPoolExecutor) -> None:
        if self._executor is not executor:
            return  # another parse already replaced it
        self._executor = None
        self.restarts += 1
        executor.shutdown(wait=True, cancel_futures=True)
        if self.restarts >= MAX_RESTARTS:
            self.inline = True
            log.warning("parse workers died %d times: parsing in the main process from now on",
                        self.restarts)
        else:
            log.warning("a parse worker died; starting a fresh pool")

    def close(self) -> None:
        """Stop the workers and reap them (their CPU time then counts as this process's);
        nothing is forked again after this."""
        self.closed = True
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ParsePool:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
