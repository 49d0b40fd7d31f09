"""Scheduled lifecycle work: ``review_due`` for assessments whose review date has come.

``fire_review_due`` is one transaction; ``reassess check`` calls it after its pass (so cron
use needs no daemon) and the daemon runs it every ``REVIEW_DUE_EVERY`` seconds. Each
trigger is an insert guarded by its dedupe key (assessment + review date), so however
many processes run it, each due date fires exactly once.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from config.schema import Config
from monitor.clock import utcnow
from storage.db import session_scope
from storage.lifecycle import flag_assessments
from storage.models import Assessment, Trigger
from storage.repo import insert_trigger
from triggers.events import SCHEMA_VERSION
from triggers.policy import Policy
from triggers.review import DueAssessment, context, dedupe_source, review_due

from .jobs import Host, add_once

log = logging.getLogger("reassess.lifecycle")

REVIEW_DUE_EVERY = 3600.0


def fire_review_due(config: Config, engine: Engine, *, now: datetime | None = None,
                    notify: bool = True) -> int:
    """Fire ``review_due`` for each active assessment due by today; the number fired.

    With ``notify``, the owners' outbox rows are written in the same transaction.
    """
    now = now or utcnow()
    today = now.date()
    policy = Policy.build(config.rules)
    names = {v.id: v.name for v in config.vendors}
    fired = 0
    with session_scope(engine) as session:
        rows = session.execute(
            select(Assessment).where(col(Assessment.active).is_(True),
                                     col(Assessment.next_review) <= today)
            .order_by(col(Assessment.id))).scalars().all()
        for row in rows:
            if "review_due" not in (row.trigger_types or []) or row.next_review is None:
                continue
            item = DueAssessment(id=row.id, vendor_id=row.vendor_id,
                                 vendor_name=names.get(row.vendor_id, row.vendor_id),
                                 system=row.system, next_review=row.next_review,
                                 assessed=row.assessed, review_every=row.review_every)
            event = review_due(item, today)
            if event is None:
                continue
            event = policy.apply([event], context(item))[0]
            trigger_id = insert_trigger(session, {
                "dedupe_key": event.dedupe_key(dedupe_source(row.id)),
                "schema_version": SCHEMA_VERSION, "type": event.type,
                "severity": event.severity, "title": event.title[:500],
                "vendor_id": row.vendor_id, "source_id": None, "assessment_id": row.id,
                "entities": list(event.entities), "evidence": event.evidence, "changes": [],
                "channels": list(event.channels), "created_at": now,
                "status": "suppressed" if event.suppressed else "open", "rule": event.rule,
            })
            if trigger_id is None:
                continue  # this due date fired before, here or on another daemon
            fired += 1
            if event.suppressed:
                continue
            flagged = flag_assessments(session, trigger_id, row.vendor_id, "review_due", now,
                                       assessment_id=row.id)
            if notify:
                _enqueue(session, config, trigger_id, flagged, now)
    if fired:
        log.info("review_due fired for %d assessment(s)", fired)
    return fired


def _enqueue(session: Session, config: Config, trigger_id: int, flagged: list[Assessment],
             now: datetime) -> None:
    """The notifications of a review_due trigger (the notifier's routing, when installed)."""
    try:
        from monitor.notify.routing import enqueue_for_trigger
    except ModuleNotFoundError as exc:
        if exc.name != "monitor.routing":
            raise
        return
    trigger = session.get(Trigger, trigger_id)
    if trigger is not None:
        enqueue_for_trigger(session, config, trigger, flagged, now)


def register_jobs(daemon: Host) -> None:
    """Run ``fire_review_due`` hourly, by one of the daemons sharing the database (a job
    lease); were two to run it at once, the dedupe key would still store each trigger once."""
    async def job() -> None:
        await asyncio.to_thread(fire_review_due, daemon.config, daemon.engine)

    add_once(daemon, "review_due", due=REVIEW_DUE_EVERY, job=job)
