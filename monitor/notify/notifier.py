"""The notifier: deliver outbox rows with apprise, with retries; fold digests.

``deliver_due(config, engine)`` is one round: fold the digests whose time has come,
then claim due rows (leased, so several daemons deliver each row once), render each
for its URL's format, send it and record the result — sent, or a failed attempt backed
off exponentially (``notify.retry`` doubling up to ``notify.retry_max``) until
``notify.attempts`` are spent and the row is ``failed``. ``reassess check`` calls it
after its pass; the daemon runs it every ``notify.tick`` (``register_jobs``).

Delivery is at least once: a daemon killed between a send and its record sends that
row again — at once when it restarts on the same host (its dead predecessor's leases are
reclaimed), else when the short lease (``LEASE``, renewed while a round delivers)
expires — and says so: the claim counted the attempt, so the repeat is ``attempt: 2``.
Every message carries the trigger id (and ``json://`` payloads the row's key) so a
receiver can drop a repeat. A clean stop gives the rows not yet sent back at once.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import re
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col

from config.schema import Config
from monitor.check.pipeline import default_worker
from monitor.clock import utcnow
from storage import outbox
from storage.db import session_scope
from storage.leases import reclaim_dead
from storage.models import Outbox

from . import channels
from .messages import render
from .payload import (
    SCHEMA,
    Delivery,
    DigestNotification,
    DigestTrigger,
    Notification,
    TriggerNotification,
    dump,
    load,
)
from .routing import PAYLOAD_VERSION

if TYPE_CHECKING:
    from monitor.daemon.jobs import Host

__all__ = ["DeliveryReport", "deliver_due", "digest_boundary", "fold_digests",
           "register_jobs"]

log = logging.getLogger("reassess.notify")

LEASE = 60.0  # seconds a claimed row is ours, renewed every third of it while delivering
ROUND = 150.0  # seconds a round delivers before it gives the rest back for the next one
BATCH = 20
ROUNDS = 50
WORKERS = 4


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    digests: int = 0

    def __bool__(self) -> bool:
        return bool(self.sent or self.retrying or self.failed or self.digests)

    def __str__(self) -> str:
        return (f"notifications: sent {self.sent}, retrying {self.retrying}, "
                f"failed {self.failed}, digests {self.digests}")


StopFlag = Callable[[], bool]


def deliver_due(config: Config, engine: Engine, *, worker: str | None = None,
                should_stop: StopFlag | None = None) -> DeliveryReport:
    """Fold due digests, then deliver every due row (blocking; run it in a thread)."""
    channels.register_secrets(config.channels)
    worker = worker or default_worker()
    stop = should_stop or (lambda: False)
    reclaim(engine, config.schedule.lease)
    report = DeliveryReport(digests=fold_digests(config, engine, utcnow()))
    for _ in range(ROUNDS):
        if stop():
            break
        with session_scope(engine) as session:
            rows = outbox.claim_due(session, worker, utcnow(), LEASE, BATCH)
        if not rows:
            break
        _deliver(config, engine, worker, rows, report, stop)
        if len(rows) < BATCH:
            break
    return report


def reclaim(engine: Engine, lease: float | None = None) -> None:
    """Take back, at once, the rows (and leases) of this host's processes that died
    (``lease``: ``schedule.lease``, the sources due within it; ``None``: every source)."""
    try:
        with session_scope(engine) as session:
            freed = reclaim_dead(session, socket.gethostname(), utcnow(), lease)
    except Exception:  # the leases expire by themselves; this only makes it sooner
        log.warning("could not reclaim dead processes' leases", exc_info=True)
        return
    if freed:
        log.info("reclaimed the leases of dead processes: %s",
                 ", ".join(f"{n} {what}" for what, n in sorted(freed.items())))


class _Renewer:
    """Renews the leases of the rows a round still holds, every third of ``LEASE``."""

    def __init__(self, engine: Engine, worker: str, ids: list[int]) -> None:
        self.engine, self.worker = engine, worker
        self.held = set(ids)
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, name="reassess-outbox-lease",
                                       daemon=True)

    def finished(self, row_ids: list[int]) -> None:
        with self.lock:
            self.held.difference_update(row_ids)

    def _run(self) -> None:
        while not self.done.wait(LEASE / 3):
            with self.lock:
                ids = list(self.held)
            if not ids:
                continue
            try:
                with session_scope(self.engine) as session:
                    outbox.renew(session, ids, self.worker, utcnow() + timedelta(seconds=LEASE))
            except Exception:  # a missed renewal risks a repeat (at least once), no loss
                log.warning("could not renew %d outbox leases", len(ids), exc_info=True)

    def __enter__(self) -> _Renewer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join(10)


def _deliver(config: Config, engine: Engine, worker: str, rows: list[Outbox],
             report: DeliveryReport, stop: StopFlag) -> None:
    """Send claimed rows: one URL's rows in order, different URLs in parallel."""
    groups: dict[str, list[Outbox]] = {}
    for row in rows:
        groups.setdefault((row.payload or {}).get("url_key", f"row{row.id}"), []).append(row)
    with _Renewer(engine, worker, [r.id for r in rows if r.id is not None]) as renewer, \
            ThreadPoolExecutor(max_workers=min(WORKERS, len(groups))) as pool:
        futures = [pool.submit(_deliver_group, config, engine, worker, group, stop, renewer)
                   for group in groups.values()]
        for future in futures:
            for status in future.result():
                if status == "sent":
                    report.sent += 1
                elif status == "failed":
                    report.failed += 1
                elif status == "pending":
                    report.retrying += 1


def _deliver_group(config: Config, engine: Engine, worker: str, rows: list[Outbox],
                   stop: StopFlag, renewer: _Renewer) -> list[str]:
    done: list[str] = []
    started = time.monotonic()
    for i, row in enumerate(rows):
        if stop() or time.monotonic() - started > ROUND:  # a clean stop gives them back
            _release(engine, rows[i:], worker, None)
            break
        status, retry_at = _deliver_one(config, engine, worker, row)
        renewer.finished([row.id or 0])
        done.append(status)
        if status == "pending":  # the URL failed: the rest of its rows wait with it
            _release(engine, rows[i + 1:], worker, retry_at)
            break
    return done


def _release(engine: Engine, rows: list[Outbox], worker: str, at: datetime | None) -> None:
    if rows:
        with session_scope(engine) as session:
            outbox.release(session, [r.id for r in rows if r.id is not None], worker, at)


def _deliver_one(config: Config, engine: Engine, worker: str,
                 row: Outbox) -> tuple[str, datetime | None]:
    url, problem = resolve_url(config, row)
    if url is None:
        return _record_failure(config, engine, worker, row, problem, final=True), None
    try:
        message = render(_with_delivery(row), format_of(url))
    except Exception as exc:  # a document this version cannot render: keep it, say why
        log.exception("outbox row %s cannot be rendered", row.id)
        return _record_failure(config, engine, worker, row, f"cannot render: {exc}",
                               final=True), None
    result = channels.send(url, message)
    if result.ok:
        with session_scope(engine) as session:
            outbox.mark_sent(session, row.id or 0, worker, utcnow())
        log.info("notified %s via %s (%s #%s)", row.channel, channels.display(url), row.kind,
                 row.trigger_id or row.id)
        return "sent", None
    status = _record_failure(config, engine, worker, row, result.reason)
    log.warning("notification %s to %s via %s failed (attempt %d, %s): %s", row.id,
                row.channel, channels.display(url), row.attempts,
                "giving up" if status == "failed" else "will retry", result.reason)
    return status, utcnow() + timedelta(seconds=_delay(config, row.attempts))


def _delay(config: Config, attempt: int) -> float:
    return min(config.notify.retry * 2 ** min(attempt - 1, 30), config.notify.retry_max)


def _record_failure(config: Config, engine: Engine, worker: str, row: Outbox, reason: str,
                    final: bool = False) -> str:
    with session_scope(engine) as session:
        return outbox.mark_failed_attempt(
            session, row, worker, utcnow(), reason, retry=config.notify.retry,
            retry_max=config.notify.retry_max, attempts=config.notify.attempts, final=final)


def resolve_url(config: Config, row: Outbox) -> tuple[str | None, str]:
    """The configured URL a row is for: by its key, else the same slot and scheme."""
    channel = config.channels.get(row.channel)
    if channel is None:
        return None, f"channel {row.channel!r} is no longer in the configuration"
    payload = row.payload or {}
    for url in channel.urls:
        if channels.url_key(url) == payload.get("url_key"):
            return url, ""
    index = payload.get("url_index")
    if isinstance(index, int) and index < len(channel.urls) and \
            channels.scheme(channel.urls[index]) == payload.get("scheme"):
        return channel.urls[index], ""  # the same slot with a rotated token
    return None, f"the URL this message was for is no longer in channel {row.channel!r}"


@functools.lru_cache(maxsize=256)
def format_of(url: str) -> str:
    plugin = channels.instantiate(url)
    return channels.message_format(plugin) if plugin is not None else "text"


def _with_delivery(row: Outbox) -> Notification:
    """The row's notification, read back as its type, with this delivery attempt on it."""
    doc = load((row.payload or {}).get("document") or {})
    # The claim counted this attempt: a repeat after a crash says attempt 2, not 1 again.
    delivery = Delivery(id=row.dedupe_key, channel=row.channel, attempt=max(row.attempts, 1))
    return doc.model_copy(update={"delivery": delivery})


# --- digests -------------------------------------------------------------------------

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def digest_boundary(spec: str, now: datetime) -> datetime:
    """The latest digest time at or before ``now`` (UTC): 'daily 09:00', 'hourly',
    'weekly mon 09:00'. Hourly uses only the minutes of a time."""
    m = re.match(r"^(daily|hourly|weekly)(?: (mon|tue|wed|thu|fri|sat|sun))?"
                 r"(?: (\d{1,2}):(\d{2}))?$", spec.strip().lower())
    if m is None:
        raise ValueError(f"not a digest schedule: {spec!r}")
    every, day, hh, mm = m.groups()
    hour, minute = (int(hh), int(mm)) if hh is not None else (9 if every != "hourly" else 0, 0)
    if every == "hourly":
        at = now.replace(minute=minute, second=0, microsecond=0)
        return at if at <= now else at - timedelta(hours=1)
    at = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if every == "daily":
        return at if at <= now else at - timedelta(days=1)
    at -= timedelta(days=(now.weekday() - _DAYS.index(day or "mon")) % 7)
    return at if at <= now else at - timedelta(days=7)


def fold_digests(config: Config, engine: Engine, now: datetime) -> int:
    """Fold the rows waiting for each channel's digest into one digest row per URL."""
    made = 0
    with session_scope(engine) as session:
        _undigest(session, config)
    for name, channel in config.channels.items():
        if not channel.digest:
            continue
        boundary = digest_boundary(channel.digest, now)
        with session_scope(engine) as session:
            waiting = outbox.waiting_digest(session, name, boundary)
            by_url: dict[str, list[Outbox]] = {}
            for row in waiting:
                by_url.setdefault((row.payload or {}).get("url_key", ""), []).append(row)
            for key, rows in by_url.items():
                made += outbox.fold_into_digest(session, _digest_row(name, key, rows, boundary,
                                                                     now),
                                                [r.id for r in rows if r.id is not None])
    return made


def _undigest(session: Any, config: Config) -> None:
    """Rows waiting for a digest their channel no longer has go out now."""
    keep = [name for name, c in config.channels.items() if c.digest]
    stmt = update(Outbox).where(col(Outbox.status) == "digest")
    if keep:
        stmt = stmt.where(col(Outbox.channel).not_in(keep))
    session.execute(stmt.values(status="pending"))


def _digest_row(channel: str, key: str, rows: list[Outbox], boundary: datetime,
                now: datetime) -> dict[str, Any]:
    first = rows[0].payload or {}
    items = []
    for row in rows:
        try:
            doc = load((row.payload or {}).get("document") or {})
        except ValueError:  # pydantic's ValidationError: a row this version cannot read
            log.warning("outbox row %s cannot be read; left out of the digest", row.id)
            continue
        if isinstance(doc, TriggerNotification):
            items.append(DigestTrigger.model_validate(
                doc.trigger.model_dump(exclude={"changes", "evidence"}, exclude_unset=True)))
    digest = hashlib.sha256(f"{channel}\x1f{key}\x1f{boundary.isoformat()}".encode())
    notification = DigestNotification(schema=SCHEMA, kind="digest", channel=channel,
                                      period_end=boundary.isoformat(), triggers=items)
    return {"dedupe_key": f"d:{digest.hexdigest()[:40]}", "kind": "digest",
            "channel": channel, "status": "pending", "attempts": 0, "next_attempt_at": None,
            "created_at": now,
            "payload": {"version": PAYLOAD_VERSION, "url_key": key,
                        "url_index": first.get("url_index"),
                        "scheme": first.get("scheme"), "document": dump(notification)}}


# --- the daemon's job ----------------------------------------------------------------


def register_jobs(daemon: Host) -> None:
    """Deliver the outbox every ``notify.tick`` seconds, in a thread (apprise blocks)."""
    channels.register_secrets(daemon.config.channels)

    async def deliver() -> None:
        report = await asyncio.to_thread(deliver_due, daemon.config, daemon.engine,
                                         worker=daemon.worker,
                                         should_stop=daemon.stopping.is_set)
        if report:
            log.info("%s", report)

    daemon.add_periodic("outbox", daemon.config.notify.tick, deliver)
