"""Configuration → rows: vendors, sources and assessments made to match the config.

The configuration is the source of truth for *what* is watched: every ``reassess check``
and daemon start syncs it. Rows gone from the config are marked inactive, never deleted,
so their history stays.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlmodel import Session, col

from config.durations import add_period
from config.schema import Config

from .lifecycle import rebaseline
from .models import Assessment, Source, Vendor


def sync_config(session: Session, config: Config, now: datetime) -> None:
    """Make vendor, source and assessment rows match the config (the source of truth).

    New sources are due now; a source whose URL or kind changed forgets its validators
    and baseline; sources and assessments gone from the config are marked inactive,
    never deleted, so their history stays.
    """
    if not _vendors_match(session, config):
        _sync_vendors(session, config)
    if not _sources_match(session, config):
        _sync_sources(session, config, now)
    if not _assessments_match(session, config):
        _sync_assessments(session, config, now)


# Every `reassess check` and daemon start syncs; usually nothing changed, and a plain
# read of the columns the sync writes says so without loading thousands of ORM objects.


def _vendors_match(session: Session, config: Config) -> bool:
    rows = session.execute(select(col(Vendor.id), col(Vendor.name), col(Vendor.owner),
                                  col(Vendor.active))).all()
    stored = {r.id: r for r in rows}
    for vc in config.vendors:
        r = stored.pop(vc.id, None)
        if r is None or r.name != vc.name or r.owner != list(vc.owner) or not r.active:
            return False
    return not any(r.active for r in stored.values())


def _sources_match(session: Session, config: Config) -> bool:
    rows = session.execute(select(
        col(Source.id), col(Source.vendor_id), col(Source.kind), col(Source.url),
        col(Source.interval_s), col(Source.active), col(Source.next_due_at))).all()
    stored = {r.id: r for r in rows}
    for vc, sc in config.sources():
        r = stored.pop(sc.id, None)
        if (r is None or r.url != sc.url or r.kind != sc.kind or r.vendor_id != vc.id
                or r.interval_s != config.interval_for(vc, sc) or r.active != sc.enabled
                or r.next_due_at is None):
            return False
    return not any(r.active for r in stored.values())


def _assessments_match(session: Session, config: Config) -> bool:
    """Whether ``_sync_assessments`` would change nothing (read as plain columns)."""
    rows = session.execute(select(
        col(Assessment.id), col(Assessment.vendor_id), col(Assessment.system),
        col(Assessment.owner), col(Assessment.trigger_types), col(Assessment.review_every),
        col(Assessment.active), col(Assessment.assessed), col(Assessment.disposition),
        col(Assessment.next_review))).all()
    stored = {r.id: r for r in rows}
    for ac in config.assessments:
        r = stored.pop(ac.id, None)
        if r is None or not r.active or (ac.assessed and (r.assessed is None
                                                          or ac.assessed > r.assessed)):
            return False
        if (r.vendor_id != ac.vendor or r.system != ac.system or r.owner != list(ac.owner)
                or r.trigger_types != list(ac.triggers) or r.review_every != ac.review_every):
            return False
        if r.assessed == ac.assessed:
            due = ac.next_review or (add_period(ac.assessed, ac.review_every)
                                     if ac.assessed and ac.review_every else None)
            if r.disposition != ac.disposition or r.next_review != due:
                return False
        elif ac.review_every and r.assessed and r.next_review != add_period(r.assessed,
                                                                             ac.review_every):
            return False
    return not any(r.active for r in stored.values())


def _sync_vendors(session: Session, config: Config) -> None:
    vendors = {v.id: v for v in session.exec(select(Vendor)).scalars()}  # type: ignore[call-overload]
    for vc in config.vendors:
        row = vendors.pop(vc.id, None) or Vendor(id=vc.id, name=vc.name)
        row.name, row.owner, row.active = vc.name, list(vc.owner), True
        session.add(row)
    for row in vendors.values():
        row.active = False


def _sync_sources(session: Session, config: Config, now: datetime) -> None:
    sources = {s.id: s for s in session.exec(select(Source)).scalars()}  # type: ignore[call-overload]
    new: list[dict[str, Any]] = []
    for vc, sc in config.sources():
        interval = config.interval_for(vc, sc)
        row = sources.pop(sc.id, None)
        if row is None:
            # one bulk INSERT below: thousands of new ORM objects are slow and large
            new.append({"id": sc.id, "vendor_id": vc.id, "kind": sc.kind, "url": sc.url,
                        "interval_s": interval, "next_due_at": now, "active": sc.enabled})
            continue
        if row.url != sc.url or row.kind != sc.kind:
            _rebase(row, sc.url, sc.kind, now)
        if row.interval_s != interval and row.last_checked_at is not None:
            row.next_due_at = min(row.next_due_at or now,
                                  row.last_checked_at + timedelta(seconds=interval))
        row.vendor_id, row.interval_s = vc.id, interval
        row.active = sc.enabled
        if row.next_due_at is None:
            row.next_due_at = now
        session.add(row)
    for row in sources.values():
        row.active = False
    if new:
        session.execute(insert(Source), new)


def _rebase(row: Source, url: str, kind: str, now: datetime) -> None:
    row.url, row.kind = url, kind
    row.etag = row.last_modified = row.body_hash = row.pending_hash = None
    row.current_snapshot_id = None
    row.pending_count = 0
    row.next_due_at = now


def _sync_assessments(session: Session, config: Config, now: datetime) -> None:
    """The register's fields always follow the config; its lifecycle stays in the database.

    While the stored ``assessed`` date is the config's, the config's disposition and review
    date apply. A ``reassess resolve`` records a later date, and from then on the stored
    disposition and review date stand, so a re-sync never undoes a resolution; a config
    ``assessed`` date later than the stored one re-baselines the assessment, like a resolve.
    """
    rows = {a.id: a for a in session.exec(select(Assessment)).scalars()}  # type: ignore[call-overload]
    for ac in config.assessments:
        row = rows.pop(ac.id, None)
        if row is None:
            row = Assessment(id=ac.id, vendor_id=ac.vendor, status="current", baseline_at=now,
                             updated_at=now, assessed=ac.assessed, disposition=ac.disposition)
        elif ac.assessed and (row.assessed is None or ac.assessed > row.assessed):
            rebaseline(session, row, now=now, assessed=ac.assessed, disposition=ac.disposition)
        row.vendor_id, row.system, row.owner = ac.vendor, ac.system, list(ac.owner)
        row.trigger_types, row.review_every, row.active = list(ac.triggers), ac.review_every, True
        if row.assessed == ac.assessed:
            row.disposition = ac.disposition
            row.next_review = ac.next_review or (
                add_period(ac.assessed, ac.review_every) if ac.assessed and ac.review_every
                else None)
        elif ac.review_every and row.assessed:
            row.next_review = add_period(row.assessed, ac.review_every)
        session.add(row)
    for row in rows.values():
        row.active = False
