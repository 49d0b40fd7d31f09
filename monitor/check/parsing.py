"""Parsing on the other cores, bounded: a few forked worker processes beside the event loop.

Most of a check's CPU is parsing (three quarters of a first pass). With a pool, the
event loop's process fetches, diffs, applies the rules and writes, while the parse of
each new body runs in a worker process, so a machine's second core does work too.
``parse.workers`` in the config sets the size (``auto``: one per core beyond the first,
at least one, at most four; ``0``: parse in the event loop's process, unbounded).

Fetched content is hostile, so every parse in a worker is bounded: one that takes longer
than ``parse.timeout`` is stopped (its worker is killed and replaced) and one that
allocates more than ``parse.max_memory`` fails with ``MemoryError`` (the worker
retires after answering). Either is a ``ParseError`` recorded on its source; the other
sources' parses go on in the other workers, and in the replacement.

The workers are forked when the pool starts — before the event loop has started a
thread — and import the parsers on first use. ``reassess check`` and ``reassess run``
fork them first thing (``prefork``), before the config and the database fill the heap:
a worker then shares the interpreter and its libraries with the main process and none
of its data, whose pages would otherwise be copied into both as each reuses them.
Workers ignore SIGINT and SIGHUP, drop the event loop's signal wake-up descriptor (a
signal to a worker must never look like one to the daemon), and die with their parent.

What comes back is exactly what an inline parse gives: the ``Document`` (serialised and
hashed in the worker) or the exception the parser raised. A worker that dies — a crash
in a C parser on hostile input, the OOM killer — is replaced, and the body in hand is
tried once more; if that worker dies too the parse fails with ``WorkerDied`` (recorded
on the source and retried at its next check, like any parse error).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import multiprocessing
import os
import pickle
import resource
import signal
import time
from multiprocessing.connection import Connection
from multiprocessing.context import ForkProcess
from typing import Any, Literal

from config.errors import ParseError
from sources import get_kind, parse, vocab
from sources.base import BaseSettings, Document

log = logging.getLogger("reassess.parse")

MAX_WORKERS = 4
TIMEOUT = 30.0  # seconds a parse may take (``parse.timeout``)
MAX_MEMORY = 1024  # MiB a parse may allocate beyond what a fresh worker holds
POOL_MIN = 1  # kept for callers: a pass of any size uses the workers (they bound it)


class WorkerDied(ParseError):
    """The parse's worker process died twice in a row on this body."""


class ParseTimeout(ParseError):
    """A parse ran past ``parse.timeout``: its worker was stopped."""


def worker_count(setting: int | Literal["auto"], cpus: int | None = None) -> int:
    """How many parse workers ``parse.workers`` means on this machine."""
    if setting != "auto":
        return max(0, min(int(setting), 64))
    cpus = cpus if cpus is not None else (_usable_cpus() or 1)
    return max(1, min(cpus - 1, MAX_WORKERS))


def _usable_cpus() -> int:
    with contextlib.suppress(AttributeError, OSError):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def parse_in_worker(kind: str, settings: BaseSettings, body: bytes,
                    vocabulary: dict[str, object] | None = None) -> Document:
    """One parse, as the worker runs it (and as the pool runs it inline)."""
    return parse(get_kind(kind), settings, body, vocabulary)


# --- the worker process ------------------------------------------------------------------


def _init_worker(keep: int) -> None:
    _drop_inherited_fds(keep)
    with contextlib.suppress(ValueError, OSError):
        signal.set_wakeup_fd(-1)  # the parent's event loop listens on it
    for sig, action in ((signal.SIGINT, signal.SIG_IGN), (signal.SIGHUP, signal.SIG_IGN),
                        (signal.SIGTERM, signal.SIG_DFL)):
        with contextlib.suppress(ValueError, OSError):
            signal.signal(sig, action)
    _die_with_parent()


def _drop_inherited_fds(keep: int) -> None:
    """Point every descriptor the fork copied (the web server's sockets and connections,
    database files, other children's pipes) at /dev/null, all but stdio and ``keep`` (the
    worker's pipe). A copy held here would keep a connection the parent closed half-open,
    or a child whose stdin the parent closed waiting for an end of file that never comes.
    The numbers stay taken, so an inherited object that closes its descriptor later
    closes /dev/null's copy and nothing of the worker's own."""
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:  # not Linux: nothing to list the descriptors with
        return
    null = os.open(os.devnull, os.O_RDWR)
    try:
        for fd in fds:
            if fd > 2 and fd not in (keep, null):
                with contextlib.suppress(OSError):
                    os.dup2(null, fd)
    finally:
        os.close(null)


def _die_with_parent() -> None:
    """Linux: SIGKILL this worker when the process that forked it dies, however it dies."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _limit_memory(max_mib: int) -> None:
    """Cap the worker's address space at what it maps now plus ``max_mib``: a parse that
    allocates past it gets ``MemoryError`` instead of the machine's memory."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            size = next(int(line.split()[1]) * 1024 for line in status
                        if line.startswith("VmSize:"))
    except (OSError, StopIteration, ValueError, IndexError):
        return
    limit = size + max_mib * 1024 * 1024
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _serve(conn: Connection, max_mib: int) -> None:
    """The worker's loop: a job in, ``("ok", document, False)`` or ``("error", exception,
    retiring)`` out; after a ``MemoryError`` it answers and exits (its heap may be in
    pieces)."""
    _init_worker(conn.fileno())
    _limit_memory(max_mib)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        kind, settings, body, vocabulary = job
        retire = False
        try:
            reply: tuple[str, Any] = ("ok", parse_in_worker(kind, settings, body, vocabulary))
        except MemoryError:
            reply, retire = ("error", ParseError(
                f"the parse needed more than the {max_mib} MiB parse.max_memory allows")), True
        except Exception as exc:  # the parser's own error, handed back as it is
            reply = ("error", exc)
        del job, body
        try:
            conn.send((*reply, retire))
        except (pickle.PicklingError, TypeError, AttributeError, MemoryError):
            raised = reply[1]
            conn.send(("error", ParseError(f"{type(raised).__name__}: {str(raised)[:300]}"),
                       retire))
        except (BrokenPipeError, OSError):
            return
        if retire:
            return


class _Worker:
    """One forked worker process and its end of the pipe."""

    def __init__(self, max_mib: int) -> None:
        ctx = multiprocessing.get_context("fork")
        self.conn, child = ctx.Pipe(duplex=True)
        self.proc: ForkProcess = ctx.Process(target=_serve, args=(child, max_mib),
                                             daemon=True)
        self.proc.start()
        child.close()

    @property
    def pid(self) -> int | None:
        return self.proc.pid

    def stop(self, *, kill: bool = False) -> None:
        """End the worker: asked to (``kill=False``: it finishes its loop), else SIGKILL."""
        if not kill:
            with contextlib.suppress(OSError, ValueError):
                self.conn.send(None)
            self._wait(5)
        if self.proc.is_alive():
            self.proc.kill()
            self._wait(5)
        self.conn.close()
        with contextlib.suppress(ValueError):
            self.proc.close()

    def _wait(self, seconds: float) -> None:
        """Reap the worker within ``seconds``, polling: ``Process.join``'s timeout rests
        on a pipe the worker let go of with its other inherited descriptors."""
        deadline = time.monotonic() + seconds
        while self.proc.is_alive() and time.monotonic() < deadline:
            time.sleep(0.005)


class _Died(Exception):
    """The worker's pipe closed before it answered."""


_EARLY: ParsePool | None = None


def prefork(workers: int | Literal["auto"] = "auto") -> None:
    """Fork the parse workers now, at start-up; ``pool_for`` hands them to the checker."""
    global _EARLY
    count = worker_count(workers)
    if _EARLY is None and count > 0:
        _EARLY = ParsePool(count)
        _EARLY.start(freeze=True)


def pool_for(workers: int, timeout: float = TIMEOUT, max_memory: int = MAX_MEMORY) -> ParsePool:
    """The pool a checker uses: the one forked at start-up if it has this many workers and
    these limits (the config's ``parse:``), else a new one, started when a pass needs it."""
    global _EARLY
    early, _EARLY = _EARLY, None
    if early is not None:
        if early.workers == workers and early.max_memory == max_memory:
            early.timeout = timeout
            return early
        early.close()
    return ParsePool(workers, timeout=timeout, max_memory=max_memory)


class ParsePool:
    """``workers`` forked parse processes; ``parse`` is awaited from the event loop, one
    body per worker at a time, each bounded by ``timeout`` seconds and ``max_memory``."""

    def __init__(self, workers: int, *, timeout: float = TIMEOUT,
                 max_memory: int = MAX_MEMORY) -> None:
        self.workers = workers
        self.timeout = timeout
        self.max_memory = max_memory
        self.restarts = 0  # workers replaced after dying
        self.stopped = 0  # workers killed for running past the timeout
        self.inline = workers <= 0
        self.closed = False
        self._all: list[_Worker] = []
        self._idle: list[_Worker] = []
        self._waiters: list[asyncio.Future[None]] = []

    @property
    def running(self) -> bool:
        return bool(self._all)

    def pids(self) -> list[int]:
        return [w.pid for w in self._all if w.pid is not None]

    def start(self, *, freeze: bool = False) -> None:
        """Fork the workers now (call it before the event loop starts threads).

        What exists now (modules, the config, the watches) lives as long as the process:
        frozen, no collection in either process walks it, so neither writes to the pages
        they share after the fork (copy-on-write) just to scan them. ``freeze`` (the
        CLI's ``prefork``) keeps this process's heap frozen; otherwise only the workers
        keep it so, and a library caller's collector is left as it was.
        """
        if self.inline or self.closed or self._all:
            return
        thaw = not freeze and gc.get_freeze_count() == 0
        gc.freeze()
        try:
            for _ in range(self.workers):
                self._add()
        finally:
            if thaw:
                gc.unfreeze()
        log.debug("parse pool: %d workers", self.workers)

    def _add(self) -> None:
        worker = _Worker(self.max_memory)
        self._all.append(worker)
        self._idle.append(worker)
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self._idle:
            waiter = self._waiters.pop(0)
            if not waiter.done():
                waiter.set_result(None)
                return

    async def _take(self) -> _Worker:
        while not self._idle:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                self._wake()
                raise
        return self._idle.pop()

    def _give_back(self, worker: _Worker) -> None:
        if worker in self._all and not self.closed:
            self._idle.append(worker)
            self._wake()

    def _replace(self, worker: _Worker, *, kill: bool) -> None:
        if worker in self._all:
            self._all.remove(worker)
        worker.stop(kill=kill)
        if not self.closed:
            self._add()

    async def parse(self, kind: str, settings: BaseSettings, body: bytes) -> Document:
        if self.inline:  # ``parse.workers: 0``: in this process, unbounded
            return parse_in_worker(kind, settings, body)
        if self.closed:
            raise ParseError("the parse workers have stopped (the process is stopping)")
        if not self._all:
            self.start()
        job = (kind, settings, body, vocab.additions())
        for attempt in (1, 2):
            worker = await self._take()
            try:
                status, value, retiring = await self._run(worker, job)
            except _Died:
                self.restarts += 1
                log.warning("a parse worker died (pid %s); starting another", worker.pid)
                self._replace(worker, kill=False)
                if attempt == 2:
                    raise WorkerDied("the parse worker died twice on this body") from None
                continue
            except TimeoutError:
                self.stopped += 1
                log.warning("a %s parse ran past %gs; its worker (pid %s) is replaced",
                            kind, self.timeout, worker.pid)
                self._replace(worker, kill=True)
                raise ParseTimeout(f"the parse took longer than {self.timeout:g}s "
                                   "(parse.timeout): stopped") from None
            except BaseException:  # cancelled mid-parse: the worker's answer is lost
                self._replace(worker, kill=True)
                raise
            if retiring:
                self._replace(worker, kill=False)
            else:
                self._give_back(worker)
            if status == "ok":
                return value  # type: ignore[no-any-return]
            raise value
        raise AssertionError("unreachable")

    async def _run(self, worker: _Worker, job: tuple[Any, ...]) -> tuple[str, Any, bool]:
        loop = asyncio.get_running_loop()
        answered: asyncio.Future[None] = loop.create_future()
        fd = worker.conn.fileno()

        def readable() -> None:
            if not answered.done():
                answered.set_result(None)

        try:
            worker.conn.send(job)
        except (BrokenPipeError, OSError):
            raise _Died from None
        loop.add_reader(fd, readable)
        try:
            async with asyncio.timeout(self.timeout):
                await answered
        finally:
            loop.remove_reader(fd)
        try:
            reply: tuple[str, Any, bool] = worker.conn.recv()
        except (EOFError, OSError):
            raise _Died from None
        return reply

    def close(self) -> None:
        """Stop the workers and reap them (their CPU time then counts as this process's);
        nothing is forked again after this."""
        self.closed = True
        workers, self._all, self._idle = self._all, [], []
        for worker in workers:
            worker.stop()
        for waiter in self._waiters:
            if not waiter.done():
                waiter.cancel()
        self._waiters.clear()

    def __enter__(self) -> ParsePool:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
