"""Operations: Prometheus metrics, health facts and retention for ``reassess run``.

``register_jobs(daemon)`` (called by the daemon at start) attaches a ``Metrics``
observer to the checker, schedules retention once across all daemons, and adds
``/metrics`` and the health facts to the web app when the daemon serves one.

Metrics (one registry per process; counters count what *this* daemon did, gauges read
the shared database at scrape time, so they are the same on every replica):

=========================================== ======= ===========================================
``reassess_checks_total{outcome}``          counter checks by outcome (changed, failed …)
``reassess_check_duration_seconds``         histo   fetch time of a check, retries included
``reassess_triggers_total{type}``           counter re-assessment triggers stored by checks
                                                    (not suppressed ones, not review_due)
``reassess_sources_active``                 gauge   active sources
``reassess_sources_failing``                gauge   active sources whose last check failed
``reassess_sources_overdue``                gauge   due for longer than the lease: nobody is
                                                    checking them
``reassess_outbox_pending``                 gauge   messages waiting for delivery or a retry
``reassess_outbox_failed``                  gauge   messages given up on
``reassess_outbox_digest_waiting``          gauge   messages waiting for their digest
``reassess_last_success_timestamp_seconds`` gauge   the last successful check, any daemon
``reassess_scheduler_tick_age_seconds``     gauge   since this daemon's last dispatch activity
``reassess_database_up``                    gauge   1 when the scrape could read the database
=========================================== ======= ===========================================
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import and_, func, select, text
from sqlalchemy.engine import Engine
from sqlmodel import col

from config.schema import Config
from monitor.check.analyse import Outcome
from monitor.check.pipeline import Checker
from monitor.clock import utcnow
from storage.db import session_scope
from storage.models import Outbox, Source
from storage.retention import prune
from triggers.events import TRIGGER_TYPES, TriggerEvent

from .jobs import Host, add_once

if TYPE_CHECKING:
    from fastapi import APIRouter, FastAPI

log = logging.getLogger("reassess.ops")

OUTCOMES = ("baseline", "unchanged", "not_modified", "changed", "reverted", "rebaselined",
            "pending",
            "suspect", "failed")
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120)
RETENTION_EVERY = 3600.0  # prune hourly, once across all daemons
STALL_AFTER = 60.0  # the scheduler is "stalled" after max(3 ticks, this) without activity
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """The process's metrics; the checker calls ``checked`` and ``fired`` (its observer)."""

    def __init__(self, engine: Engine, lease: float, activity: Any = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.checks = Counter("reassess_checks", "Checks by outcome", ["outcome"],
                              registry=self.registry)
        self.duration = Histogram("reassess_check_duration_seconds",
                                  "Fetch time of a check, retries included",
                                  buckets=DURATION_BUCKETS, registry=self.registry)
        self.triggers = Counter("reassess_triggers", "Re-assessment triggers stored, by type",
                                ["type"], registry=self.registry)
        # The labelled children, looked up once: ``labels()`` builds and checks its key
        # on every call, once per check.
        self._checks: dict[str, Any] = {o: self.checks.labels(o) for o in OUTCOMES}
        self._triggers: dict[str, Any] = {k: self.triggers.labels(k) for k in TRIGGER_TYPES}
        self.last_check: float | None = None  # monotonic
        self.last_check_at: datetime | None = None
        self.registry.register(DatabaseCollector(engine, lease))
        if activity is not None:
            tick_age = Gauge("reassess_scheduler_tick_age_seconds",
                             "Seconds since this daemon's last dispatch activity",
                             registry=self.registry)
            tick_age.set_function(activity)

    def checked(self, out: Outcome) -> None:
        child = self._checks.get(out.outcome)
        if child is None:
            child = self._checks[out.outcome] = self.checks.labels(out.outcome)
        child.inc()
        self.duration.observe(out.fetch.elapsed_ms / 1000)
        self.last_check, self.last_check_at = time.monotonic(), utcnow()

    def fired(self, events: list[TriggerEvent]) -> None:
        for event in events:
            child = self._triggers.get(event.type)
            if child is None:
                child = self._triggers[event.type] = self.triggers.labels(event.type)
            child.inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class DatabaseCollector(Collector):
    """Gauges read from the shared database at scrape time."""

    def __init__(self, engine: Engine, lease: float) -> None:
        self.engine, self.lease = engine, lease

    def describe(self) -> list[Any]:
        return []  # the families vary with the database's reachability

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            facts = database_facts(self.engine, self.lease)
        except Exception as exc:  # a scrape must answer even when the database does not
            log.warning("metrics: cannot read the database: %s", type(exc).__name__)
            yield GaugeMetricFamily("reassess_database_up", "Database readable", value=0)
            return
        yield GaugeMetricFamily("reassess_database_up", "Database readable", value=1)
        for name, help_text in (
                ("sources_active", "Active sources"),
                ("sources_failing", "Active sources whose last check failed"),
                ("sources_overdue", "Active sources due for longer than the lease"),
                ("outbox_pending", "Outbox messages waiting for delivery or a retry"),
                ("outbox_failed", "Outbox messages given up on"),
                ("outbox_digest_waiting", "Outbox messages waiting for their digest")):
            yield GaugeMetricFamily(f"reassess_{name}", help_text, value=facts[name])
        last = facts["last_success_at"]
        if last is not None:
            yield GaugeMetricFamily("reassess_last_success_timestamp_seconds",
                                    "Time of the last successful check by any daemon",
                                    value=last.timestamp())


def database_facts(engine: Engine, lease: float) -> dict[str, Any]:
    now = utcnow()
    active = col(Source.active).is_(True)
    with session_scope(engine, write=False) as session:
        def n(model: type, *where: Any) -> int:
            stmt = select(func.count()).select_from(model).where(*where)
            return int(session.execute(stmt).scalar_one())

        overdue = and_(active, col(Source.next_due_at) < now - timedelta(seconds=lease))
        outbox: dict[str, int] = {status: int(n) for status, n in session.execute(
            select(col(Outbox.status), func.count()).group_by(col(Outbox.status))).all()}
        return {
            "sources_active": n(Source, active),
            "sources_failing": n(Source, active, col(Source.consecutive_failures) > 0),
            "sources_overdue": n(Source, overdue),
            "outbox_pending": int(outbox.get("pending", 0)),
            "outbox_failed": int(outbox.get("failed", 0)),
            "outbox_digest_waiting": int(outbox.get("digest", 0)),
            "last_success_at": session.execute(select(func.max(col(Source.last_success_at)))
                                               .where(active)).scalar_one(),
            "last_checked_at": session.execute(select(func.max(col(Source.last_checked_at)))
                                               .where(active)).scalar_one(),
        }


class Watched(Host, Protocol):
    """What operations read of the daemon they watch (``monitor.daemon.daemon.Daemon``)."""

    started_at: float  # monotonic
    last_tick_ok: float | None  # monotonic: the dispatch tick's last completed round
    checker: Checker
    web_app: FastAPI | None

    @property
    def scheduler_running(self) -> bool: ...


class Ops:
    """What operations need from one daemon: its metrics, its health, its retention job."""

    def __init__(self, daemon: Watched) -> None:
        self.daemon = daemon
        self.metrics = Metrics(daemon.engine, daemon.config.schedule.lease, self.activity_age)

    def activity_age(self) -> float:
        """Seconds since the dispatch tick last finished or a check last completed."""
        marks = [self.daemon.started_at, self.daemon.last_tick_ok or 0.0,
                 self.metrics.last_check or 0.0]
        return time.monotonic() - max(marks)

    def scheduler_alive(self) -> bool:
        stall = max(3 * self.daemon.config.schedule.tick, STALL_AFTER)
        return self.daemon.scheduler_running and self.activity_age() <= stall

    def checks_due_within(self) -> float | None:
        """How long may pass without any completed check before the monitor is blind:
        the shortest interval of its sources, plus the longest a check may take (fetch
        with retries, then the parse) and the scheduler's stall allowance; ``None``
        without sources."""
        checker, config = self.daemon.checker, self.daemon.config
        intervals = [config.interval_for(w.vendor, w.source)
                     for w in checker.watches.values() if w.source.enabled]
        if not intervals:
            return None
        longest = max(w.source.timeout or 0.0 for w in checker.watches.values())
        margin = (checker.fetch_options.bound(longest or None) + config.parse.timeout
                  + max(3 * config.schedule.tick, STALL_AFTER))
        return min(intervals) + margin

    def last_check_age(self, db_last: datetime | None) -> float:
        """Seconds since a check last completed: by this daemon or, from the database, by
        any daemon sharing it (a replica that claims nothing is not blind), else since
        this daemon started."""
        ages = [time.monotonic() - (self.metrics.last_check or self.daemon.started_at)]
        if db_last is not None:
            ages.append((utcnow() - db_last).total_seconds())
        return max(0.0, min(ages))

    def health(self) -> dict[str, Any]:
        """Facts merged into ``/healthz``; ``status: error`` (503) when the scheduler
        stalled or no check has completed within the shortest interval plus a margin."""
        alive = self.scheduler_alive()
        facts: dict[str, Any] = {
            "scheduler": "ok" if alive else "stalled",
            "scheduler_activity_age_s": round(self.activity_age(), 1),
            "worker": self.daemon.checker.worker,
            "last_check_at": _iso(self.metrics.last_check_at),
        }
        db_last: datetime | None = None
        try:
            db = database_facts(self.daemon.engine, self.daemon.config.schedule.lease)
            db_last = db["last_checked_at"]
            facts.update(last_success_at=_iso(db["last_success_at"]),
                         sources_active=db["sources_active"],
                         sources_failing=db["sources_failing"],
                         outbox_pending=db["outbox_pending"],
                         outbox_failed=db["outbox_failed"])
        except Exception as exc:  # the web app's own probe reports the database as down
            facts["last_success_at"] = None
            log.warning("health: cannot read the database: %s", type(exc).__name__)
        within = self.checks_due_within()
        age = self.last_check_age(db_last)
        checking = within is None or age <= within
        facts.update(checks="ok" if checking else "overdue",
                     last_check_age_s=round(age, 1))
        if not alive or not checking:
            facts["status"] = "error"
        return facts

    def report(self) -> dict[str, Any]:
        """The whole ``/healthz`` answer without the web app (its database probe too)."""
        body: dict[str, Any] = {"status": "ok", "database": "ok"}
        try:
            with self.daemon.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            body.update(status="error", database=f"error: {type(exc).__name__}")
        body.update(self.health())
        return body

    async def retention(self) -> None:
        config = self.daemon.config
        keep = max([s.compare_versions for _, s in config.sources()] or [3])
        result = await asyncio.to_thread(prune, self.daemon.engine, utcnow(),
                                         older_than=config.retention.check_runs,
                                         keep_versions=keep)
        if result.check_runs or result.snapshots:
            log.info("retention: pruned %d check runs and %d snapshots", result.check_runs,
                     result.snapshots)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def ops_router(ops: Ops) -> APIRouter:
    """``GET /metrics`` in the Prometheus text format (no sign-in: counts, no secrets)."""
    from fastapi import APIRouter
    from fastapi.responses import Response

    router = APIRouter(tags=["operations"])

    def metrics() -> Response:  # sync: FastAPI runs it in a thread, off the event loop
        return Response(ops.metrics.render(), media_type=CONTENT_TYPE)

    router.add_api_route("/metrics", metrics, methods=["GET"], summary="Prometheus metrics",
                         include_in_schema=False)
    return router


def install(app: FastAPI, ops: Ops) -> None:
    """Add ``/metrics`` to the web app and the scheduler facts to its ``/healthz``."""
    from monitor.web.app import add_health_check

    app.include_router(ops_router(ops))
    add_health_check(app, ops.health)


def register_secrets(config: Config) -> None:
    """Teach the log redactor the configuration's secrets (database password, channel URLs)
    — at start and again on every reload, before anything could log them."""
    from sqlalchemy.engine import make_url

    from monitor.logs import add_secrets

    try:
        password = make_url(config.database).password
    except Exception:  # an unparsable URL fails elsewhere, with its own message
        password = None
    add_secrets([str(password)] if password else [])
    try:
        from monitor.notify.channels import register_secrets as channel_secrets
    except ModuleNotFoundError:
        return
    channel_secrets(config.channels)


def register_jobs(daemon: Watched) -> None:
    ops = Ops(daemon)
    daemon.checker.observer = ops.metrics
    register_secrets(daemon.config)
    daemon.reload_hooks.append(register_secrets)
    add_once(daemon, "retention", RETENTION_EVERY, ops.retention)
    if daemon.web_app is not None:
        install(daemon.web_app, ops)
