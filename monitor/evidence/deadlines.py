"""The deadlines a change starts, and the reminders about them.

* ``objection``: a ``subprocessor_change`` starts the objection window of the vendor's
  agreement (GDPR Art. 28(2)): ``objection_days`` of the vendor after the trigger.
* ``migration``: a ``model_change`` that names a shutdown (retirement, deprecation,
  sunset) date starts a migration deadline: that date, ``deadlines.migration_days``
  earlier.
* ``incident_notice``: an ``incident`` of at least ``deadlines.incident_severity`` starts
  a notification duty of ``deadlines.incident_notice`` (when configured).

A deadline is open while its trigger is (open or acknowledged). Its owners (the vendor's
and the flagged assessments' owners) are reminded once, ``deadlines.remind_before``
ahead, and told once when it has passed with the trigger still open: each notice is an
insert guarded by a unique key (``DeadlineNotice``) and its outbox rows are written in
the same transaction, so however many daemons run the job, each goes out once.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from config.schema import Config
from storage.db import session_scope
from storage.models import DeadlineNotice, Trigger
from storage.repo import insert_ignore

if TYPE_CHECKING:
    from monitor.daemon.jobs import Host

log = logging.getLogger("reassess.deadlines")

DEADLINES_EVERY = 900.0
OPEN = ("open", "acknowledged")
LABELS = {"objection": "objection window for a new sub-processor (GDPR Art. 28(2))",
          "migration": "migration before the model's shutdown date",
          "incident_notice": "notification duty after a vendor incident"}

_SHUTDOWN = re.compile(r"retir|deprecat|shut\s*down|sunset|end of life|discontinu", re.I)
_ISO = re.compile(r"\b(20\d\d)-(\d\d)-(\d\d)\b")
_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december"]
_LONG = re.compile(r"\b(" + "|".join(m[:3] for m in _MONTHS) + r")[a-z]*\.?\s+(\d{1,2})(?:st|nd|"
                   r"rd|th)?,?\s+(20\d\d)\b", re.I)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def shutdown_date(texts: list[str]) -> date | None:
    """The first date named next to shutdown wording in a trigger's text, if any."""
    for text in texts:
        if not _SHUTDOWN.search(text):
            continue
        found = _ISO.search(text)
        if found:
            try:
                return date(int(found[1]), int(found[2]), int(found[3]))
            except ValueError:
                pass
        found = _LONG.search(text)
        if found:
            month = [m[:3] for m in _MONTHS].index(found[1][:3].lower()) + 1
            try:
                return date(int(found[3]), month, int(found[2]))
            except ValueError:
                pass
    return None


def _texts(t: Trigger | _Row) -> list[str]:
    out = [t.title]
    for change in t.changes or []:
        for k in ("key", "before", "after"):
            v = change.get(k)
            if isinstance(v, str):
                out.append(v[:2000])
            elif isinstance(v, dict):
                out += [str(x)[:2000] for x in v.values() if isinstance(x, str)]
    for v in (t.evidence or {}).values():
        if isinstance(v, str):
            out.append(v[:2000])
    return out


class _Row(NamedTuple):
    """The columns of a trigger its deadlines are worked out from (no ORM object, and the
    text columns only for the one type that reads them)."""
    id: int
    type: str
    severity: str
    vendor_id: str
    created_at: datetime
    title: str = ""
    changes: Any = None
    evidence: Any = None


_objection_cache: list[tuple[Config, dict[str, int]]] = []


def _objection_days(config: Config) -> dict[str, int]:
    """vendor id → its objection window, worked out once per loaded config (a linear
    search of the vendors for every trigger was vendors × triggers)."""
    for seen, days in _objection_cache:
        if seen is config:
            return days
    days = {v.id: v.objection_days for v in config.vendors if v.objection_days}
    _objection_cache[:] = [(config, days)]
    return days


def deadlines_of(config: Config, t: Trigger | _Row) -> list[tuple[str, datetime]]:
    """(deadline, due) pairs a trigger started."""
    created = _aware(t.created_at)
    found: list[tuple[str, datetime]] = []
    if t.type == "subprocessor_change":
        days = _objection_days(config).get(t.vendor_id)
        if days:
            found.append(("objection", created + timedelta(days=days)))
    elif t.type == "model_change":
        when = shutdown_date(_texts(t))
        if when is not None:
            due = datetime(when.year, when.month, when.day, tzinfo=UTC) - timedelta(
                days=config.deadlines.migration_days)
            found.append(("migration", due))
    elif t.type == "incident" and config.deadlines.incident_notice:
        from triggers.events import severity_rank

        if severity_rank(t.severity) >= severity_rank(config.deadlines.incident_severity):
            found.append(("incident_notice",
                          created + timedelta(seconds=config.deadlines.incident_notice)))
    return found


def _item(config: Config, t: Trigger, name: str, due: datetime, now: datetime
          ) -> dict[str, Any]:
    remind = due - timedelta(seconds=config.deadlines.remind_before)
    return {"trigger": t.id, "vendor": t.vendor_id, "source": t.source_id, "type": t.type,
            "deadline": name, "label": LABELS[name], "title": t.title,
            "started": _iso(_aware(t.created_at)), "due": _iso(due),
            "remind_at": _iso(remind), "overdue": now >= due,
            "days_left": (due - now).days, "status": t.status}


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def trigger_deadlines(config: Config, t: Trigger, now: datetime) -> list[dict[str, Any]]:
    return [_item(config, t, n, d, now) for n, d in deadlines_of(config, t)]


_TYPES = ("subprocessor_change", "model_change", "incident")


def open_deadlines(config: Config, engine: Engine, now: datetime, *,
                   include_closed: bool = False,
                   assessment: str | None = None) -> list[dict[str, Any]]:
    """Every deadline of an open trigger (``include_closed``: of any), soonest first."""
    with session_scope(engine, write=False) as session:
        return open_for(session, config, now, include_closed=include_closed,
                     assessment=assessment)


def open_for(session: Session, config: Config, now: datetime, *, include_closed: bool = False,
          assessment: str | None = None) -> list[dict[str, Any]]:
    stmt = select(Trigger).where(col(Trigger.type).in_(_TYPES))
    if not include_closed:
        stmt = stmt.where(col(Trigger.status).in_(OPEN))
    if assessment is not None:
        from storage.models import AssessmentFlag

        stmt = stmt.where(col(Trigger.id).in_(select(col(AssessmentFlag.trigger_id)).where(
            col(AssessmentFlag.assessment_id) == assessment)))
    items = [_item(config, t, n, d, now) for t in session.execute(stmt).scalars()
             for n, d in deadlines_of(config, t)]
    items.sort(key=lambda d: (d["due"], d["trigger"]))
    return items


# --- reminders ---------------------------------------------------------------------------


def _candidates(session: Session, config: Config) -> Iterator[_Row]:
    """The open triggers a deadline may apply to, as plain rows: the incidents only when a
    notification duty is configured and only at its severity or above, the text columns
    only for model changes."""
    from triggers.events import SEVERITIES, severity_rank

    cheap = (col(Trigger.id), col(Trigger.type), col(Trigger.severity),
             col(Trigger.vendor_id), col(Trigger.created_at))
    types = ["subprocessor_change"] if _objection_days(config) else []
    severities: list[str] = []
    if config.deadlines.incident_notice:
        types.append("incident")
        floor = severity_rank(config.deadlines.incident_severity)
        severities = [s for s in SEVERITIES if severity_rank(s) >= floor]
    if types:
        stmt = select(*cheap).where(col(Trigger.type).in_(types), col(Trigger.status).in_(OPEN))
        for row in session.execute(stmt.execution_options(yield_per=5000)):
            if row[1] != "incident" or row[2] in severities:
                yield _Row(*row)
    stmt = select(*cheap, col(Trigger.title), col(Trigger.changes), col(Trigger.evidence)
                  ).where(col(Trigger.type) == "model_change", col(Trigger.status).in_(OPEN))
    for row in session.execute(stmt.execution_options(yield_per=1000)):
        yield _Row(*row)


WRITE_BATCH = 100  # notices per write transaction


def notify_deadlines(config: Config, engine: Engine, now: datetime | None = None) -> int:
    """Send each due reminder and overdue notice once; how many were enqueued.

    The notices due are found in a read-only transaction over plain rows (at a million
    triggers, holding the write lock while every open trigger was loaded as an object
    stopped every check for minutes); only the notices not yet sent are then written, a
    few per transaction, each still guarded by its unique key."""
    from monitor.clock import utcnow

    now = now or utcnow()
    due: list[tuple[int, str, str, datetime]] = []
    with session_scope(engine, write=False) as session:
        for t in _candidates(session, config):
            for name, when in deadlines_of(config, t):
                remind = when - timedelta(seconds=config.deadlines.remind_before)
                stage = "overdue" if now >= when else "reminder" if now >= remind else None
                if stage is not None:
                    due.append((t.id, name, stage, when))
        sent = _sent(session, {d[0] for d in due})
    due = [d for d in due if d[:3] not in sent]
    count = 0
    for at in range(0, len(due), WRITE_BATCH):
        count += _send(config, engine, due[at:at + WRITE_BATCH], now)
    return count


def _sent(session: Session, trigger_ids: set[int]) -> set[tuple[int, str, str]]:
    """The notices already sent for these triggers (by the notices' trigger index, not
    every notice ever sent: those of closed triggers only pile up)."""
    ids = sorted(trigger_ids)
    sent: set[tuple[int, str, str]] = set()
    for at in range(0, len(ids), 5000):
        sent.update((r[0], r[1], r[2]) for r in session.execute(select(
            col(DeadlineNotice.trigger_id), col(DeadlineNotice.deadline),
            col(DeadlineNotice.stage)).where(
                col(DeadlineNotice.trigger_id).in_(ids[at:at + 5000]))))
    return sent


def _send(config: Config, engine: Engine, notices: list[tuple[int, str, str, datetime]],
          now: datetime) -> int:
    from monitor.check.persist import StoredTrigger
    from storage.queries import trigger_assessments
    from triggers.events import TriggerEvent

    sent = 0
    with session_scope(engine) as session:
        rows = {t.id: t for t in session.execute(select(Trigger).where(
            col(Trigger.id).in_({n[0] for n in notices}))).scalars()}
        for trigger_id, name, stage, due in notices:
            t = rows.get(trigger_id)
            if t is None or t.status not in OPEN:
                continue  # closed or pruned since it was read
            res = insert_ignore(session, DeadlineNotice, {
                "trigger_id": t.id, "deadline": name, "stage": stage, "due": due,
                "at": now}, ("trigger_id", "deadline", "stage"))
            if not res.rowcount:
                continue  # sent before, here or by another daemon
            word = "passed" if stage == "overdue" else "due"
            event = TriggerEvent(
                type=t.type, severity=t.severity,
                title=f"Deadline {word} {_iso(due)[:10]}: {LABELS[name]} — {t.title}"[:500],
                entities=tuple(t.entities or ()),
                evidence={**(t.evidence or {}), "deadline": {
                    "name": name, "stage": stage, "due": _iso(due), "trigger": t.id}},
                channels=tuple(t.channels or ()))
            flagged = tuple(a for a, _ in trigger_assessments(session, t.id or 0))
            stored = StoredTrigger(t.id or 0, event, t.vendor_id, t.source_id, flagged, now)
            n = _enqueue(session, config, stored, f"d:{t.id}:{name}:{stage}")
            sent += n
            log.info("deadline %s of trigger %s: %s notice to %d channel(s)", name, t.id,
                     stage, n)
    return sent


def _enqueue(session: Session, config: Config, stored: Any, prefix: str) -> int:
    from monitor.notify.routing import (
        _rows,
        _vendor_owner,
        outbox,
        targets,
        trigger_notification,
    )

    names = list(stored.event.channels)
    names += [o for a in stored.flagged for o in (a.owner or [])]
    names += _vendor_owner(session, config, stored.vendor_id)
    chosen = targets(config, names, None)
    if not chosen:
        return 0
    notification = trigger_notification(session, config, stored)
    return int(outbox.enqueue(session, _rows(chosen, prefix, notification, now=stored.at,
                                             trigger_id=stored.id)))


def register_jobs(daemon: Host) -> None:
    """Look for due reminders every quarter hour, by one daemon (a job lease)."""
    from monitor.daemon.jobs import add_once

    async def job() -> None:
        await asyncio.to_thread(notify_deadlines, daemon.config, daemon.engine)

    add_once(daemon, "deadlines", due=DEADLINES_EVERY, job=job)
