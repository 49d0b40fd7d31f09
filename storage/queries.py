"""History queries shared by the CLI, the web UI and the API: filtered, paginated."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import defer
from sqlmodel import Session

from .models import (
    Assessment,
    AssessmentFlag,
    AuditEvent,
    Outbox,
    Snapshot,
    Source,
    Trigger,
    Vendor,
)


@dataclass(frozen=True)
class TriggerFilter:
    vendor: str | None = None
    type: str | None = None
    severity: str | None = None
    status: str | None = None
    source: str | None = None
    assessment: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, stmt: Any) -> Any:
        if self.vendor:
            stmt = stmt.where(Trigger.vendor_id == self.vendor)
        if self.type:
            stmt = stmt.where(Trigger.type == self.type)
        if self.severity:
            stmt = stmt.where(Trigger.severity == self.severity)
        if self.status:
            stmt = stmt.where(Trigger.status == self.status)
        if self.source:
            stmt = stmt.where(Trigger.source_id == self.source)
        if self.since:
            stmt = stmt.where(Trigger.created_at >= self.since)
        if self.until:
            stmt = stmt.where(Trigger.created_at < self.until)
        if self.assessment:
            flagged = select(AssessmentFlag.trigger_id).where(
                AssessmentFlag.assessment_id == self.assessment)
            stmt = stmt.where(Trigger.id.in_(flagged))  # type: ignore[union-attr]
        return stmt


def list_triggers(session: Session, flt: TriggerFilter | None = None, *, limit: int | None = 100,
                  offset: int = 0) -> list[Trigger]:
    """Triggers newest first."""
    stmt = (flt or TriggerFilter()).apply(select(Trigger))
    stmt = stmt.order_by(Trigger.created_at.desc(), Trigger.id.desc())  # type: ignore[union-attr]
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return list(session.execute(stmt).scalars())


def count_triggers(session: Session, flt: TriggerFilter | None = None) -> int:
    stmt = (flt or TriggerFilter()).apply(select(func.count()).select_from(Trigger))
    return int(session.execute(stmt).scalar_one())


def flags_by_trigger(session: Session, trigger_ids: list[int]) -> dict[int, list[str]]:
    """trigger id → ids of the assessments it flagged."""
    out: dict[int, list[str]] = {i: [] for i in trigger_ids}
    if not trigger_ids:
        return out
    rows = session.execute(select(AssessmentFlag.trigger_id, AssessmentFlag.assessment_id)
                           .where(AssessmentFlag.trigger_id.in_(trigger_ids))  # type: ignore[attr-defined]
                           .order_by(AssessmentFlag.assessment_id))
    for trigger_id, assessment_id in rows:
        out[trigger_id].append(assessment_id)
    return out


def trigger_dict(row: Trigger, assessments: list[str] | None = None) -> dict[str, Any]:
    """A trigger as the CLI's ``--json`` and the API show it."""
    return {
        "id": row.id, "type": row.type, "severity": row.severity, "title": row.title,
        "entities": row.entities or [], "vendor": row.vendor_id, "source": row.source_id,
        "created_at": _iso(row.created_at),
        "status": row.status, "assessments": assessments or [],
        "dedupe_key": row.dedupe_key, "acked_by": row.acked_by,
        "acked_at": _iso(row.acked_at),
        "evidence": row.evidence or {}, "changes": len(row.changes or []),
        "schema_version": row.schema_version,
    }


def _iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, as every JSON output shows times."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- web UI and API: dashboard, detail pages, downloads --------------------------------


def iter_triggers(session: Session, flt: TriggerFilter | None = None, *, batch: int = 1000,
                  cap: int | None = None) -> Iterator[Trigger]:
    """Every matching trigger newest first, fetched ``batch`` rows at a time (keyset)."""
    after: tuple[datetime, int] | None = None
    sent = 0
    while cap is None or sent < cap:
        stmt = (flt or TriggerFilter()).apply(select(Trigger))
        if after is not None:
            stmt = stmt.where(or_(Trigger.created_at < after[0],
                                  and_(Trigger.created_at == after[0], Trigger.id < after[1])))
        size = batch if cap is None else min(batch, cap - sent)
        stmt = stmt.order_by(Trigger.created_at.desc(),  # type: ignore[attr-defined]
                             Trigger.id.desc()).limit(size)  # type: ignore[union-attr]
        rows = list(session.execute(stmt).scalars())
        yield from rows
        sent += len(rows)
        if len(rows) < size:
            return
        after = (rows[-1].created_at, rows[-1].id or 0)


def open_trigger_counts(session: Session) -> dict[tuple[str, str], int]:
    """(type, severity) → number of open triggers."""
    rows = session.execute(select(Trigger.type, Trigger.severity, func.count())
                           .where(Trigger.status == "open")
                           .group_by(Trigger.type, Trigger.severity))
    return {(t, s): int(n) for t, s, n in rows}


def trigger_timeline(session: Session, since: datetime) -> list[tuple[str, str, str, int]]:
    """(vendor id, YYYY-MM-DD in UTC, severity, count) of the triggers since ``since``."""
    column: Any = Trigger.created_at
    if session.get_bind().dialect.name == "postgresql":
        column = func.timezone("UTC", column)
    day = func.date(column)
    rows = session.execute(select(Trigger.vendor_id, day, Trigger.severity, func.count())
                           .where(Trigger.created_at >= since)  # type: ignore[operator]
                           .group_by(Trigger.vendor_id, day, Trigger.severity))
    return [(v, str(d)[:10], s, int(n)) for v, d, s, n in rows]


def failing_sources(session: Session, limit: int = 200) -> list[Source]:
    """Active sources whose last checks failed or whose content vanished."""
    stmt = (select(Source).where(Source.active.is_(True),  # type: ignore[attr-defined]
                                 or_(Source.consecutive_failures > 0,
                                     Source.alert_state != "ok"))
            .order_by(Source.consecutive_failures.desc(), Source.id)  # type: ignore[attr-defined]
            .limit(limit))
    return list(session.execute(stmt).scalars())


def needs_review(session: Session, limit: int = 200,
                 per_assessment: int = 10) -> list[tuple[Assessment, list[Trigger], int]]:
    """Assessments flagged for re-review, oldest unresolved flag first, each with its newest
    unresolved triggers (at most ``per_assessment``) and how many there are in all."""
    oldest = func.min(AssessmentFlag.created_at)
    pending = (select(AssessmentFlag.assessment_id, oldest.label("since"),
                      func.count().label("n"))
               .where(AssessmentFlag.resolved_at.is_(None))  # type: ignore[union-attr]
               .group_by(AssessmentFlag.assessment_id).subquery())
    stmt = (select(Assessment, pending.c.n)
            .outerjoin(pending, pending.c.assessment_id == Assessment.id)
            .where(Assessment.active.is_(True),  # type: ignore[attr-defined]
                   Assessment.status.in_(("re_review_required", "in_review")))  # type: ignore[attr-defined]
            .order_by(pending.c.since.is_(None), pending.c.since, Assessment.id).limit(limit))
    found = [(a, int(n or 0)) for a, n in session.execute(stmt)]
    by_id: dict[str, list[Trigger]] = {a.id: [] for a, _ in found}
    if by_id:
        rows = session.execute(
            select(AssessmentFlag.assessment_id, Trigger).join(
                Trigger, Trigger.id == AssessmentFlag.trigger_id)  # type: ignore[arg-type]
            .where(AssessmentFlag.assessment_id.in_(list(by_id)),  # type: ignore[attr-defined]
                   AssessmentFlag.resolved_at.is_(None))  # type: ignore[union-attr]
            .order_by(Trigger.created_at.desc()).limit(limit * per_assessment))  # type: ignore[attr-defined]
        for assessment_id, trigger in rows:
            if len(by_id[assessment_id]) < per_assessment:
                by_id[assessment_id].append(trigger)
    return [(a, by_id[a.id], n) for a, n in found]


def trigger_assessments(session: Session,
                        trigger_id: int) -> list[tuple[Assessment, AssessmentFlag]]:
    """The assessments a trigger flagged, with the flag (resolved or not)."""
    rows = session.execute(select(Assessment, AssessmentFlag)
                           .join(AssessmentFlag,
                                 AssessmentFlag.assessment_id == Assessment.id)  # type: ignore[arg-type]
                           .where(AssessmentFlag.trigger_id == trigger_id)
                           .order_by(Assessment.id))
    return [(a, f) for a, f in rows]


def trigger_notifications(session: Session, trigger_id: int) -> list[Outbox]:
    stmt = select(Outbox).where(Outbox.trigger_id == trigger_id).order_by(Outbox.id)
    return list(session.execute(stmt).scalars())


def assessment_flags(session: Session, assessment_id: str,
                     limit: int = 200) -> list[tuple[AssessmentFlag, Trigger]]:
    """An assessment's flags, newest first, each with its trigger."""
    rows = session.execute(select(AssessmentFlag, Trigger)
                           .join(Trigger, Trigger.id == AssessmentFlag.trigger_id)  # type: ignore[arg-type]
                           .where(AssessmentFlag.assessment_id == assessment_id)
                           .order_by(AssessmentFlag.created_at.desc(),  # type: ignore[attr-defined]
                                     AssessmentFlag.id.desc())  # type: ignore[union-attr]
                           .limit(limit))
    return [(f, t) for f, t in rows]


def audit_trail(session: Session, object_type: str, object_id: str,
                limit: int = 200) -> list[AuditEvent]:
    """Who did what to one object, newest first."""
    stmt = (select(AuditEvent).where(AuditEvent.object_type == object_type,
                                     AuditEvent.object_id == object_id)
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())  # type: ignore[attr-defined,union-attr]
            .limit(limit))
    return list(session.execute(stmt).scalars())


def snapshot_meta(session: Session, *where: Any, limit: int | None = None,
                  offset: int = 0) -> list[Snapshot]:
    """Snapshots newest first without their documents (the evidence fields only)."""
    stmt = select(Snapshot).options(defer(Snapshot.document))  # type: ignore[arg-type]
    for cond in where:
        stmt = stmt.where(cond)
    stmt = stmt.order_by(Snapshot.fetched_at.desc(), Snapshot.id.desc())  # type: ignore[attr-defined,union-attr]
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return list(session.execute(stmt).scalars())


def vendor_snapshots(session: Session, vendor_id: str, *, limit: int = 25,
                     offset: int = 0) -> tuple[list[Snapshot], int]:
    """One page of a vendor's snapshots across its sources, and how many there are."""
    ids = select(Source.id).where(Source.vendor_id == vendor_id)
    cond = Snapshot.source_id.in_(ids)  # type: ignore[attr-defined]
    total = session.execute(select(func.count()).select_from(Snapshot).where(cond)).scalar_one()
    return snapshot_meta(session, cond, limit=limit, offset=offset), int(total)


def vendor_overview(session: Session) -> list[tuple[Vendor, int, int, int]]:
    """Every vendor with its active sources, failing sources and open triggers."""
    src = (select(Source.vendor_id, func.count().label("n"),
                  func.sum(case((or_(Source.consecutive_failures > 0,
                                     Source.alert_state != "ok"), 1), else_=0)).label("bad"))
           .where(Source.active.is_(True))  # type: ignore[attr-defined]
           .group_by(Source.vendor_id).subquery())
    trig = (select(Trigger.vendor_id, func.count().label("n")).where(Trigger.status == "open")
            .group_by(Trigger.vendor_id).subquery())
    stmt = (select(Vendor, src.c.n, src.c.bad, trig.c.n)
            .outerjoin(src, src.c.vendor_id == Vendor.id)
            .outerjoin(trig, trig.c.vendor_id == Vendor.id)
            .order_by(Vendor.active.desc(), Vendor.name))  # type: ignore[attr-defined]
    return [(v, int(n or 0), int(bad or 0), int(o or 0)) for v, n, bad, o in session.execute(stmt)]


def assessment_overview(session: Session,
                        vendor_id: str | None = None) -> list[tuple[Assessment, int]]:
    """Assessments (those needing review first) with their unresolved flags."""
    flags = (select(AssessmentFlag.assessment_id, func.count().label("n"))
             .where(AssessmentFlag.resolved_at.is_(None))  # type: ignore[union-attr]
             .group_by(AssessmentFlag.assessment_id).subquery())
    order = case((Assessment.status == "re_review_required", 0),
                 (Assessment.status == "in_review", 1), else_=2)
    stmt = (select(Assessment, flags.c.n)
            .outerjoin(flags, flags.c.assessment_id == Assessment.id)
            .order_by(Assessment.active.desc(), order, Assessment.id))  # type: ignore[attr-defined]
    if vendor_id is not None:
        stmt = stmt.where(Assessment.vendor_id == vendor_id)
    return [(a, int(n or 0)) for a, n in session.execute(stmt)]
