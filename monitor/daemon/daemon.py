"""``reassess run``: the daemon.

APScheduler (its *schedules* — never called triggers here) runs periodic jobs in one
asyncio loop: a dispatch tick that claims and checks due sources, and the jobs other
features register (outbox delivery, digests, ``review_due``, retention). The due time of
each source lives in the database, so a restart resumes where the last run stopped and
several daemons can share one database. SIGTERM/SIGINT abandon in-flight checks (their
changes are seen again next time) and exit 0 within seconds. SIGHUP, or a change of the
config file seen at a dispatch tick, reloads the configuration (``Daemon.reload``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.engine import Engine

from config import ConfigError, load_config
from config.schema import Config
from monitor.check.analyse import Outcome
from monitor.check.pipeline import Checker, PassSummary
from monitor.heap import collector_paused, steady_heap, thaw_heap
from monitor.logs import setup_logging
from monitor.notify.routing import Routing

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger("reassess.daemon")

Job = Callable[[], Awaitable[Any]]
QUIET_LOG_PERIOD = 60.0  # seconds between the log lines of rounds where nothing changed
MAX_PASSES = 4  # dispatches (each a pass) in flight at once in one daemon
CLAIM_LANES = 4  # a round claims up to this many times ``http.concurrency`` due sources …
CLAIM_MIN, CLAIM_MAX = 50, 500  # … within these bounds


def claim_size(config: Config) -> int:
    """How many due sources one round of a dispatch claims at most.

    A few times the concurrency: enough to keep every lane busy for the round, small
    enough that daemons sharing a database split what is due between them (a round
    claims only what falls due before the next tick, and at most ``CLAIM_MAX``). At
    16 × the concurrency a round cost about 5 % less CPU per check, within the noise of
    the measurement, and one daemon then took every source due at start-up while the
    others idled (``tests/test_multidaemon.py``); not worth it.
    """
    return min(CLAIM_MAX, max(CLAIM_MIN, CLAIM_LANES * config.http.concurrency))


class Daemon:
    """The scheduler, the checker and whatever else shares the process (web UI)."""

    def __init__(self, config: Config, engine: Engine, config_file: Path | None = None, *,
                 web: bool = False) -> None:
        self.config = config
        self.engine = engine
        self.config_file = config_file
        self.checker = Checker(config, engine, router=Routing(config))
        self.checker.keep_client()  # one HTTP client, its connections kept between passes
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.stopping = asyncio.Event()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.last_tick_ok: float | None = None
        self.started_at = time.monotonic()
        # Features that keep state derived from the config re-derive it here on reload.
        self.reload_hooks: list[Callable[[Config], None]] = []
        self._config_mtime = _mtime(config_file)
        self._reloading = threading.Lock()
        self.web_enabled = web
        self.web_app: FastAPI | None = None  # built by monitor.web.register_jobs
        # Dispatches in flight, and whether the heap was thawed by a reload and waits
        # to be frozen again (``_refreeze``).
        self._passes = 0
        self._thawed = False
        self.rounds = RoundLog()

    @property
    def worker(self) -> str:
        """This process's name in leases and check runs."""
        return self.checker.worker

    @property
    def scheduler_running(self) -> bool:
        return bool(self.scheduler.running)

    def add_periodic(self, name: str, seconds: float, job: Job, *, at_once: int = 1) -> None:
        """Run ``job`` every ``seconds``; while ``at_once`` runs are still going, no other
        is started."""
        # The guard skips a run while the last ones are going, quietly: APScheduler's own
        # max_instances would log a warning at every tick of a long dispatch.
        self.scheduler.add_job(self._guard(name, job, at_once), "interval", seconds=seconds,
                               id=name, max_instances=at_once + 1, coalesce=True,
                               next_run_time=_soon())

    def _guard(self, name: str, job: Job, at_once: int = 1) -> Job:
        busy: list[bool] = []

        async def run() -> None:
            if self.stopping.is_set() or len(busy) >= at_once:
                return
            busy.append(True)
            try:
                await self._run_job(name, job)
            finally:
                busy.pop()
        return run

    async def _run_job(self, name: str, job: Job) -> None:
        task = asyncio.ensure_future(job())
        self.tasks.add(task)
        try:
            await task
        except asyncio.CancelledError:
            log.info("job %s abandoned at shutdown", name)
        except Exception:
            log.exception("job %s failed; it runs again at its next time", name)
        finally:
            self.tasks.discard(task)

    async def dispatch(self) -> None:
        """Claim and check the due sources, as many rounds as there are due ones.

        A round claims what falls due before the next tick, up to ``claim_size`` (a
        multiple of the fetch concurrency, at most ``CLAIM_MAX``), not everything due, so
        the daemons sharing a database split a large batch between them. Up to
        ``MAX_PASSES`` dispatches run at once (``install_jobs``): a source that falls due
        while a long pass runs is claimed at the next tick, not after that pass, so every
        source is checked once per interval plus about a tick.
        """
        if self.config_file is not None and _mtime(self.config_file) != self._config_mtime:
            # A reload syncs the config to the database: in a thread, off the event loop.
            await asyncio.to_thread(self.reload_if_changed)
        self._refreeze()
        batch = claim_size(self.config)
        self._passes += 1
        try:
            for _ in range(100):  # bounded: at most 100 rounds per tick
                summary = await self.checker.check_due(limit=batch, progress=_log_outcome)
                self.rounds.add(summary)
                self.last_tick_ok = time.monotonic()
                if summary.checked < batch or self.stopping.is_set():
                    return
        finally:
            self._passes -= 1

    def _refreeze(self) -> None:
        """After a reload thawed the heap (``reload``), freeze it again once no pass is in
        flight: a pass holds what it started with (the watches it was claimed under, a
        retired HTTP client), and a cycle frozen while still held is never collected.
        The collection before the freeze holds the event loop for a moment (~35 ms at
        1,000 sources)."""
        if self._thawed and not self._passes:
            self._thawed = False
            steady_heap(collect=True)

    def reload(self) -> bool:
        """Re-read the config file and apply it without a restart.

        Added sources are due at once, removed ones stop (inactive, history kept), changed
        intervals and settings apply from the next dispatch tick. A file that does not
        load is refused with its error, and the running configuration stays.
        """
        # The new config, its watches and the sync's rows are built beside the checks, with
        # the collector paused: on, it walked the growing heap ~800 times at 100,000
        # sources, holding the event loop up to 0.35 s a time (``monitor.heap``). The
        # checks' own cyclic garbage waits meanwhile (~6 s at that size): reference
        # counting frees the rest.
        with collector_paused():
            return self._reload()

    def _reload(self) -> bool:
        if self.config_file is None:
            log.warning("no configuration file to reload")
            return False
        self._config_mtime = _mtime(self.config_file)
        try:
            config = load_config(self.config_file)
        except ConfigError as exc:
            log.error("configuration NOT reloaded, the running one stays: %s", exc)
            return False
        for what, old, new in (("database", self.config.database, config.database),
                               ("web.host/web.port", (self.config.web.host, self.config.web.port),
                                (config.web.host, config.web.port))):
            if old != new:
                log.warning("%s changed: that takes a restart; still using the current one",
                            what)
        before, tick = set(self.checker.watches), self.config.schedule.tick
        try:
            self.checker.reload(config)
            self.config = config
            for hook in self.reload_hooks:
                hook(config)
            self.checker.sync()
        except Exception:
            self._config_mtime = None  # try again at the next tick
            log.exception("configuration reload failed while applying it; retrying")
            return False
        if config.schedule.tick != tick and self.scheduler.get_job("dispatch") is not None:
            self.scheduler.reschedule_job("dispatch", trigger="interval",
                                          seconds=config.schedule.tick)
        after = set(self.checker.watches)
        log.info("configuration reloaded: %d sources (%d added, %d removed)", len(after),
                 len(after - before), len(before - after))
        # What the old config held (its watches, an HTTP client retired with its options,
        # whose objects hold cycles) is garbage now or once the passes holding it end:
        # the collector must see it again (the next idle dispatch refreezes).
        thaw_heap()
        self._thawed = True
        return True

    def reload_if_changed(self) -> None:
        """Reload when the config file's modification time moved (one ``stat`` a tick)."""
        with self._reloading:  # dispatches run side by side: one of them reloads
            if self.config_file is not None and _mtime(self.config_file) != self._config_mtime:
                log.info("%s changed on disk; reloading", self.config_file)
                self.reload()

    def install_jobs(self) -> None:
        self.add_periodic("dispatch", self.config.schedule.tick, self.dispatch,
                          at_once=MAX_PASSES)
        for register in _extensions():
            register(self)

    async def serve(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        with contextlib.suppress(NotImplementedError, AttributeError):
            loop.add_signal_handler(signal.SIGHUP, self._on_hup)
        self.checker.start_pool()  # forked before anything starts a thread
        with collector_paused():  # the sync's rows: nothing else runs yet (monitor.heap)
            await asyncio.to_thread(self.checker.sync)
        await asyncio.to_thread(_reclaim, self.engine)
        self.install_jobs()
        self.scheduler.start()
        # What start-up built lives as long as the process: out of the cyclic collector's
        # walks (3 % of the main process's CPU in steady state, bench.steady).
        steady_heap(collect=True)
        log.info("reassess running: %d sources, tick %gs", len(self.checker.watches),
                 self.config.schedule.tick)
        await self.stopping.wait()
        log.info("stopping")
        self.scheduler.shutdown(wait=False)
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=5)
        with contextlib.suppress(Exception):  # connections closing at exit: nothing to keep
            await self.checker.aclose()
        self.checker.close()
        return 0

    def _on_hup(self) -> None:
        task = asyncio.ensure_future(asyncio.to_thread(self.reload))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


def _extensions() -> list[Callable[[Daemon], None]]:
    """Jobs that live beside their feature: notifier, lifecycle, web, operations.

    Imported here, not at the top, so ``reassess check`` never loads the web stack.
    """
    from monitor import web
    from monitor.evidence import deadlines
    from monitor.notify import notifier

    from . import lifecycle, ops

    return [notifier.register_jobs, lifecycle.register_jobs, web.register_jobs,
            ops.register_jobs, deadlines.register_jobs]


def _reclaim(engine: Engine) -> None:
    """Take back at once what this host's dead processes held (a restart after a crash
    or a ``kill -9``): their source, outbox and job leases."""
    from monitor.notify.notifier import reclaim

    reclaim(engine)


def _mtime(path: Path | None) -> int | None:
    try:
        return path.stat().st_mtime_ns if path is not None else None
    except OSError:
        return None


def _soon() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


class RoundLog:
    """The log lines of the dispatch rounds. A round with anything but unchanged checks
    (a change, a failure, a baseline, a held change, a trigger) says so at once. Quiet
    rounds are told once a ``period`` (the first at once, so the log shows the daemon at
    work), not once each: at 100,000 sources a round ends about twice a second, and a
    line each was 150,000 lines a day saying that nothing changed."""

    def __init__(self, period: float = QUIET_LOG_PERIOD,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.period, self.clock = period, clock
        self.quiet = 0  # unchanged checks not told yet
        self.told: float | None = None  # when quiet rounds were last told

    def add(self, summary: PassSummary) -> None:
        if not summary.checked:
            return
        if summary.unchanged < summary.checked or summary.triggers:
            log.info("checked %d: %d changed, %d failed, %d triggers",
                     summary.checked, summary.changed, summary.failed, summary.triggers)
            return
        self.quiet += summary.checked
        now = self.clock()
        if self.told is None or now - self.told >= self.period:
            since = "" if self.told is None else f" in the last {now - self.told:.0f} s"
            log.info("checked %d%s: all unchanged", self.quiet, since)
            self.quiet, self.told = 0, now


def _log_outcome(out: Outcome) -> None:
    if out.outcome == "failed":
        log.warning("%s failed: %s", out.source_id, out.error)
    elif out.outcome in ("changed", "suspect"):
        log.info("%s %s: %d change(s), %d event(s)", out.source_id, out.outcome,
                 len(out.changes), len(out.events))
    elif out.outcome == "rebaselined":
        log.info("%s rebaselined: its document is now the current parser's", out.source_id)


def run_daemon(config: Config, *, config_file: Path | None = None, log_format: str = "text",
               web: bool = True, engine: Engine | None = None) -> int:
    from monitor.cli.common import get_engine

    # Until the event loop takes over the signals, a stop request during start-up
    # (migrations, config sync) ends the process cleanly instead of killing it.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _stop_during_startup)
    setup_logging(log_format)
    with collector_paused():  # the watches live as long as the daemon (monitor.heap)
        daemon = Daemon(config, engine or get_engine(config), config_file, web=web)
    return asyncio.run(daemon.serve())


def _stop_during_startup(signum: int, _frame: object) -> None:
    log.info("stopping during start-up (signal %d)", signum)
    raise SystemExit(0)
