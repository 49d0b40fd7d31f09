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
from sqlmodel import col

from config.schema import Config
from monitor.check.persist import store_trigger
from monitor.clock import utcnow
from monitor.notify.routing import Routing
from storage.db import session_scope
from storage.models import Assessment
from triggers.policy import Policy
from triggers.review import DueAssessment, context, dedupe_source, review_due

from .jobs import Host, add_once

log = logging.getLogger("reassess.lifecycle")

REVIEW_DUE_EVERY = 3600.0


def fire_review_due(config: Config, engine: Engine, *, now: datetime | None = None,
                    notify: bool = True) -> int:
    """Fire ``review_due`` for each active assessment due by today; the number fired.

    The events pass the config's policy, and are stored, flag and notify the way a
    check's do (``store_trigger``); with ``notify``, the owners' outbox rows are written
    in the same transaction.
    """
    now = now or utcnow()
    today = now.date()
    policy = Policy.build(config.rules)
    router = Routing(config) if notify else None
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
            if store_trigger(session, event, dedupe_source=dedupe_source(row.id),
                             vendor_id=row.vendor_id, now=now, router=router,
                             assessment_id=row.id) is not None:
                fired += 1  # else this due date fired before, here or on another daemon
    if fired:
        log.info("review_due fired for %d assessment(s)", fired)
    return fired


def register_jobs(daemon: Host) -> None:
    """Run ``fire_review_due`` hourly, by one of the daemons sharing the database (a job
    lease); were two to run it at once, the dedupe key would still store each trigger once."""

    async def job() -> None:
        await asyncio.to_thread(fire_review_due, daemon.config, daemon.engine)

    add_once(daemon, "review_due", due=REVIEW_DUE_EVERY, job=job)
