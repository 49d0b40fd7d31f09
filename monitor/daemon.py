"""``reassess run``: the daemon.

APScheduler (its *schedules* — never called triggers here) runs periodic jobs in one
asyncio loop: a dispatch tick that claims and checks due sources, and the jobs other
features register (outbox delivery, digests, ``review_due``, retention). The due time of
each source lives in the database, so a restart resumes where the last run stopped and
several daemons can share one database. SIGTERM/SIGINT abandon in-flight checks (their
changes are seen again next time) and exit 0 within seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.engine import Engine

from config.schema import Config

from .hooks import Hooks
from .logs import setup_logging
from .pipeline import Checker

log = logging.getLogger("reassess.daemon")

Job = Callable[[], Awaitable[Any]]


class Daemon:
    """The scheduler, the checker and whatever else shares the process (web UI)."""

    def __init__(self, config: Config, engine: Engine, config_file: Path | None = None) -> None:
        self.config = config
        self.engine = engine
        self.config_file = config_file
        self.checker = Checker(config, engine, hooks=Hooks(config))
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.stopping = asyncio.Event()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.last_tick_ok: float | None = None

    def add_periodic(self, name: str, seconds: float, job: Job) -> None:
        """Run ``job`` every ``seconds``; a run still going is not started again."""
        self.scheduler.add_job(self._guard(name, job), "interval", seconds=seconds, id=name,
                               max_instances=1, coalesce=True, next_run_time=_soon())

    def _guard(self, name: str, job: Job) -> Job:
        async def run() -> None:
            if self.stopping.is_set():
                return
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
        return run

    async def dispatch(self) -> None:
        """Claim and check the due sources, as many rounds as there are due ones."""
        for _ in range(100):  # bounded: at most 100 claims of up to 500 sources per tick
            summary = await self.checker.check_due(limit=500, progress=_log_outcome)
            if summary.checked:
                log.info("checked %d: %d changed, %d failed, %d triggers", summary.checked,
                         summary.changed, summary.failed, summary.triggers)
            self.last_tick_ok = asyncio.get_running_loop().time()
            if summary.checked < 500 or self.stopping.is_set():
                return

    def install_jobs(self) -> None:
        self.add_periodic("dispatch", self.config.schedule.tick, self.dispatch)
        for register in _extensions():
            register(self)

    async def serve(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        with contextlib.suppress(NotImplementedError, AttributeError):
            loop.add_signal_handler(signal.SIGHUP, self._on_hup)
        self.checker.sync()
        self.install_jobs()
        self.scheduler.start()
        log.info("reassess running: %d sources, tick %gs", len(self.checker.watches),
                 self.config.schedule.tick)
        await self.stopping.wait()
        log.info("stopping")
        self.scheduler.shutdown(wait=False)
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=5)
        return 0

    def _on_hup(self) -> None:
        reload = getattr(self, "reload", None)
        if reload is not None:
            reload()
        else:
            log.info("SIGHUP ignored: configuration reload is not available")


def _extensions() -> list[Callable[[Daemon], None]]:
    """Jobs that live beside their feature: notifier, lifecycle, web, operations."""
    import importlib

    found = []
    for name in ("monitor.notify", "monitor.lifecycle_jobs", "monitor.web", "monitor.ops"):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        register = getattr(module, "register_jobs", None)
        if register is not None:
            found.append(register)
    return found


def _soon() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _log_outcome(out: Any) -> None:
    if out.outcome == "failed":
        log.warning("%s failed: %s", out.source_id, out.error)
    elif out.outcome in ("changed", "suspect"):
        log.info("%s %s: %d change(s), %d event(s)", out.source_id, out.outcome,
                 len(out.changes), len(out.events))


def run_daemon(config: Config, *, config_file: Path | None = None, log_format: str = "text",
               web: bool = True, engine: Engine | None = None) -> int:
    from .common import get_engine

    setup_logging(log_format)
    daemon = Daemon(config, engine or get_engine(config), config_file)
    daemon.web_enabled = web  # type: ignore[attr-defined]
    return asyncio.run(daemon.serve())
