"""``vendor_activity`` (the UTC day of each vendor's newest trigger, kept by SQL triggers:
``storage/activity.py``) always equals what the triggers say, on SQLite and PostgreSQL:
under the real fire path, acknowledgement and resolution, retention, and the inserts,
changes and deletes the check path never makes; and the dashboard's busy vendors read
from it are the ones the triggers of its window give."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col
from web_fixtures import LiveServer, demo_config, seed, seed_history

from monitor.demo.vendorsite import VendorSite
from storage import lifecycle
from storage import queries as q
from storage.db import open_database, session_scope
from storage.models import Trigger, Vendor, VendorActivity
from storage.retention import prune


def _truth(session: Session) -> dict[str, date | None]:
    """Each vendor's newest trigger's UTC day, from the triggers."""
    rows = session.execute(select(col(Trigger.vendor_id), func.max(col(Trigger.created_at)))
                           .group_by(col(Trigger.vendor_id)))
    return {v: at.astimezone(UTC).date() for v, at in rows}


def _kept(session: Session) -> dict[str, date | None]:
    rows = session.execute(select(col(VendorActivity.vendor_id),
                                  col(VendorActivity.last_day)))
    return {v: d for v, d in rows if d is not None}


def _agrees(engine: Engine) -> dict[str, date | None]:
    with session_scope(engine, write=False) as session:
        kept, truth = _kept(session), _truth(session)
    assert kept == truth
    return kept


def _add(engine: Engine, vendor: str, at: datetime, key: str) -> int:
    with session_scope(engine) as session:
        return int(session.execute(insert(Trigger).values(
            dedupe_key=key, type="incident", severity="low", title=f"{vendor} {key}",
            vendor_id=vendor, entities=[], created_at=at, status="open")
            .returning(col(Trigger.id))).scalar_one())


def test_kept_through_inserts_changes_and_deletes(engine: Engine) -> None:
    now = datetime.now(UTC).replace(hour=12)
    ids: dict[str, int] = {}
    for n, (vendor, days) in enumerate([("a", 0), ("a", 3), ("a", 40), ("b", 100),
                                        ("b", 5), ("c", 2), ("d", 1), ("d", 1)]):
        ids[f"{vendor}{days}-{n}"] = _add(engine, vendor, now - timedelta(days=days), f"k{n}")
    assert _agrees(engine) == {"a": now.date(), "b": (now - timedelta(5)).date(),
                               "c": (now - timedelta(2)).date(),
                               "d": (now - timedelta(1)).date()}
    with session_scope(engine) as session:  # a status change is no activity
        session.execute(update(Trigger).values(status="acknowledged", acked_by="me"))
        # the newest of a: gone; the day falls back to its next newest
        session.execute(delete(Trigger).where(col(Trigger.id) == ids["a0-0"]))
    assert _agrees(engine)["a"] == (now - timedelta(3)).date()
    with session_scope(engine) as session:
        # one of two on d's day goes (the day stays); every one of c goes
        session.execute(delete(Trigger).where(col(Trigger.id) == ids["d1-6"]))
        session.execute(delete(Trigger).where(col(Trigger.vendor_id) == "c"))
        # a trigger moves in time (b older, then a newer), and from one vendor to another
        session.execute(update(Trigger).where(col(Trigger.id) == ids["b5-4"])
                        .values(created_at=now - timedelta(days=200)))
        session.execute(update(Trigger).where(col(Trigger.id) == ids["a40-2"])
                        .values(created_at=now + timedelta(days=1)))
        session.execute(update(Trigger).where(col(Trigger.id) == ids["d1-7"])
                        .values(vendor_id="e"))
    kept = _agrees(engine)
    assert kept == {"a": (now + timedelta(1)).date(), "b": (now - timedelta(100)).date(),
                    "e": (now - timedelta(1)).date()}
    with session_scope(engine, write=False) as session:
        left = session.execute(select(col(VendorActivity.vendor_id), col(
            VendorActivity.last_day)).where(col(VendorActivity.vendor_id).in_(["c", "d"])))
        assert dict(left.all()) == {"c": None, "d": None}  # no triggers left: never busy
        busy, total = q.busy_vendors(session, now - timedelta(days=10), 40)
        assert [v for v, _ in busy] == ["a", "e"] and total == 2


def _old_busy(session: Session, since: datetime, limit: int) -> tuple[list[str], int]:
    """The dashboard's busy vendors as they were read before: from the window's triggers,
    sorted by name (or id) in Python."""
    ids = set(session.execute(select(col(Trigger.vendor_id)).where(
        col(Trigger.created_at) >= since)).scalars())
    names = dict(session.execute(select(col(Vendor.id), col(Vendor.name))).all())
    order = sorted(ids, key=lambda v: ((names.get(v) or v).lower(), v))
    return order[:limit], len(order)


def test_busy_vendors_are_those_of_the_window(engine: Engine) -> None:
    now = datetime.now(UTC)
    since = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=89)
    with session_scope(engine) as session:
        for i in range(60):  # named out of id order; a few without a name or a row
            if i % 7:
                session.add(Vendor(id=f"v{i:02d}", name="" if i % 11 == 0 else
                                   f"{'zyxw'[i % 4]} vendor {59 - i:02d}"))
    for i in range(60):
        days = (i * 37) % 120  # some only before the window
        _add(engine, f"v{i:02d}", now - timedelta(days=days, hours=1), f"w{i}")
        _add(engine, f"v{i:02d}", now - timedelta(days=days + 100), f"x{i}")
    _add(engine, "v03", since, "edge")  # the first instant of the window counts
    _add(engine, "v04", since - timedelta(microseconds=1), "edge-1")  # one before it: not
    _agrees(engine)
    with session_scope(engine, write=False) as session:
        for limit in (1, 5, 40, 100):
            busy, total = q.busy_vendors(session, since, limit)
            assert ([v for v, _ in busy], total) == _old_busy(session, since, limit)
        names = dict(q.busy_vendors(session, since, 100)[0])
        assert names["v01"] == "y vendor 58" and names.get("v07", "absent") is None


def test_kept_under_fire_acknowledgement_resolution_and_retention(tmp_path: Path,
                                                                  db_url: str) -> None:
    """The real path: checks of the simulated site fire triggers (a year of history), a
    user acknowledges one and resolves an assessment, retention prunes; the dashboard
    says how many vendors it does not draw, as the triggers say."""
    site = VendorSite(vendors=["acme", "northwind"])
    site.start(host="127.0.0.1", port=0)
    assert site.base_url
    config = demo_config(site.base_url, db_url)
    engine = open_database(config.database)
    try:
        seed(site, config, engine)
        seed_history(site, config, engine)
        fired = _agrees(engine)
        assert set(fired) == {"acme", "northwind"}
        now = datetime.now(UTC)
        with session_scope(engine) as session:
            first = session.execute(select(col(Trigger.id)).where(
                col(Trigger.status) == "open").limit(1)).scalar_one()
            lifecycle.acknowledge(session, first, by="alice", now=now)
        with session_scope(engine) as session:
            out = lifecycle.resolve(session, "acme-support-bot", by="alice", now=now,
                                    note="reviewed")
        assert out["triggers"]  # it closed triggers (a status change: no activity)
        result = prune(engine, now + timedelta(days=3650), older_than=0, keep_versions=0)
        assert result.check_runs > 0
        assert _agrees(engine) == fired
        server = LiveServer(config, engine).start()
        try:
            page = httpx.get(server.url + "/", timeout=30).text
        finally:
            server.stop()
        with session_scope(engine, write=False) as session:
            since = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(89)
            _, total = _old_busy(session, since, 40)
        assert ("more vendors not drawn" in page) == (total > 40)
        assert "Acme AI" in page
    finally:
        engine.dispose()
        site.stop()
