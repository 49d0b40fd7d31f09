"""The outbox on real databases: rows with their trigger, leases, retries, review_due."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from config.loader import parse_config
from config.schema import Config
from monitor.check.persist import StoredTrigger
from monitor.clock import utcnow
from monitor.notify.routing import enqueue_for_trigger
from storage import outbox
from storage.db import session_scope
from storage.models import Assessment, Outbox, Trigger
from storage.repo import insert_trigger, trigger_row
from storage.sync import sync_config
from triggers.events import TriggerEvent

CONFIG = """
vendors:
  - {id: acme, name: Acme AI, owner: [security-team]}
assessments:
  - {id: acme-chat, vendor: acme, system: Support bot, owner: grc, disposition: approved,
     assessed: 2025-11-01, review_every: 1 year}
channels:
  security-team: {urls: ["json://127.0.0.1:9/sec", "json://127.0.0.1:9/shared"]}
  grc: {urls: ["json://127.0.0.1:9/shared"]}
  oncall: {urls: ["json://127.0.0.1:9/oncall"]}
"""


@pytest.fixture
def config() -> Config:
    return parse_config(CONFIG)


@pytest.fixture
def synced(engine: Engine, config: Config) -> Iterator[Engine]:
    with session_scope(engine) as s:
        sync_config(s, config, utcnow())
    yield engine


def _trigger(session: Any, flagged: tuple[Assessment, ...] = (), **over: Any) -> StoredTrigger:
    """A review_due event stored as a check stores one, as the router receives it."""
    event = TriggerEvent(**{"type": "review_due", "severity": "medium",
                            "title": "Periodic review due: acme-chat", "basis": "2026-11-01",
                            **over})
    now = utcnow()
    trigger_id = insert_trigger(session, trigger_row(
        event, dedupe_source="assessment:acme-chat", vendor_id="acme", now=now,
        assessment_id="acme-chat"))
    assert trigger_id is not None
    return StoredTrigger(trigger_id, event, "acme", None, flagged, now)


def test_review_due_trigger_notifies_owners_once_per_url(synced: Engine, config: Config) -> None:
    with session_scope(synced) as s:
        flagged = s.get(Assessment, "acme-chat")
        assert flagged is not None
        trigger = _trigger(s, (flagged,), channels=("oncall",))
        assert enqueue_for_trigger(s, config, trigger) == 3
        assert enqueue_for_trigger(s, config, trigger) == 0  # idempotent
        trigger_id = trigger.id
    with session_scope(synced) as s:
        rows = list(s.execute(select(Outbox).order_by(Outbox.id)).scalars())
    # shared URL once; rule route, assessment owner and vendor owner all reached
    assert sorted(r.channel for r in rows) == ["grc", "oncall", "security-team"]
    doc = rows[0].payload["document"]["trigger"]  # type: ignore[index]
    assert doc["id"] == trigger_id and doc["source"] is None and doc["summary"] == []
    assert doc["assessments"][0]["disposition"] == "approved"
    assert {r.status for r in rows} == {"pending"} and {r.trigger_id for r in rows} == \
        {trigger_id}


def test_outbox_rows_share_the_trigger_transaction(synced: Engine, config: Config) -> None:
    with pytest.raises(RuntimeError), session_scope(synced) as s:
        trigger = _trigger(s)
        assert enqueue_for_trigger(s, config, trigger) == 2
        raise RuntimeError("crash before commit")
    with session_scope(synced) as s:
        assert s.execute(select(Outbox)).first() is None
        assert s.execute(select(Trigger)).first() is None


def test_suppressed_trigger_notifies_no_one(synced: Engine, config: Config) -> None:
    with session_scope(synced) as s:
        trigger = _trigger(s, suppressed=True)
        assert enqueue_for_trigger(s, config, trigger) == 0


def _rows(n: int) -> list[dict[str, Any]]:
    now = utcnow()
    return [{"dedupe_key": f"x{i}", "kind": "test", "channel": "grc", "status": "pending",
             "attempts": 0, "next_attempt_at": now, "created_at": now,
             "payload": {"version": 1, "url_key": "k", "document": {}}} for i in range(n)]


def test_claims_are_exclusive_and_expire(engine: Engine) -> None:
    with session_scope(engine) as s:
        assert outbox.enqueue(s, _rows(3)) == 3
        assert outbox.enqueue(s, _rows(3)) == 0  # insert once
    now = utcnow()
    with session_scope(engine) as s:
        mine = outbox.claim_due(s, "a", now, lease=60)
    with session_scope(engine) as s:
        assert outbox.claim_due(s, "b", now, lease=60) == []
    assert len(mine) == 3
    # a dead worker's lease expires; another takes over; the first can no longer record
    later = now + timedelta(seconds=61)
    with session_scope(engine) as s:
        theirs = outbox.claim_due(s, "b", later, lease=60)
    assert [r.id for r in theirs] == [r.id for r in mine]
    with session_scope(engine) as s:
        assert not outbox.mark_sent(s, mine[0].id or 0, "a", later)
        assert outbox.mark_sent(s, theirs[0].id or 0, "b", later)


def test_failed_attempts_back_off_then_give_up(engine: Engine) -> None:
    now = utcnow()
    with session_scope(engine) as s:
        outbox.enqueue(s, _rows(1))
    delays = []
    for attempt in range(1, 5):
        with session_scope(engine) as s:
            [row] = outbox.claim_due(s, "w", now + timedelta(hours=attempt), lease=60)
            status = outbox.mark_failed_attempt(s, row, "w", now, "refused", retry=30,
                                                retry_max=100, attempts=4)
        with session_scope(engine) as s:
            row = s.execute(select(Outbox)).scalar_one()
        assert row.attempts == attempt and row.last_error == "refused"
        if attempt < 4:
            assert status == "pending"
            delays.append((row.next_attempt_at - now).total_seconds())  # type: ignore[operator]
        else:
            assert status == "failed" and row.next_attempt_at is None
    assert delays == [30, 60, 100]
    with session_scope(engine) as s:
        assert outbox.counts(s) == {"failed": 1}
        assert outbox.retry_failed(s, now) == 1
        assert outbox.counts(s) == {"pending": 1}

