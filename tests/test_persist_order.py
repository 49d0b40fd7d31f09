"""A batch stores its triggers in vendor order, whatever order its checks finished in.

The first trigger of a vendor's day updates that vendor's ``vendor_activity`` row and its
assessments' flags, row locks held to commit: two daemons' batches that took them in
opposite orders would deadlock on PostgreSQL (one batch aborted and written again)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import col

from config.loader import parse_config
from monitor.check.analyse import Outcome
from monitor.check.persist import persist
from monitor.check.pipeline import build_watches
from sources.fetch import FetchResult
from storage.db import session_scope
from storage.models import Trigger
from storage.sync import sync_config
from triggers.events import TriggerEvent

CONFIG = """\
database: sqlite://
vendors:
""" + "".join(f"""\
  - id: {v}
    name: {v.title()}
    sources:
      - id: {v}-dpa
        kind: page
        url: https://{v}.example/dpa
""" for v in ("zeta", "mid", "acme"))


def test_a_batch_fires_in_vendor_order(engine: Engine) -> None:
    config = parse_config(CONFIG)
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        sync_config(session, config, now)
    watches = build_watches(config)
    outcomes = [Outcome(watch=watches[f"{v}-dpa"], started_at=now, outcome="changed",
                        fetch=FetchResult(f"{v}-dpa", f"https://{v}.example/dpa", status=200),
                        events=[TriggerEvent(type="policy_change", severity="medium",
                                             title=f"{v} changed", basis=v)])
                for v in ("zeta", "acme", "mid")]  # the order the checks finished in
    with session_scope(engine) as session:
        fired = persist(session, outcomes, now=now, worker="t", jitter=0,
                        interval_of=lambda o: 3600.0, failures_before={})
    assert [s.vendor_id for s in fired] == ["acme", "mid", "zeta"]
    with session_scope(engine, write=False) as session:
        stored = list(session.execute(select(col(Trigger.vendor_id))
                                      .order_by(col(Trigger.id))).scalars())
    assert stored == ["acme", "mid", "zeta"]
