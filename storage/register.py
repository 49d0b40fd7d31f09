"""Reads of the assessment register and of one trigger in full, as the CLI prints them.

``assessment_dict`` is the item of ``reassess assessments --json``; ``trigger_detail`` the
object of ``reassess show --json``. Dates are ISO 8601, datetimes UTC with a ``Z``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from .models import Assessment, AssessmentFlag, AuditEvent, Snapshot, Source, Trigger
from .queries import _iso, trigger_dict

Describe = Callable[[str, dict[str, Any]], str]


def list_assessments(session: Session, *, vendor: str | None = None, status: str | None = None,
                     include_inactive: bool = False) -> list[Assessment]:
    stmt = select(Assessment)
    if not include_inactive:
        stmt = stmt.where(col(Assessment.active).is_(True))
    if vendor:
        stmt = stmt.where(col(Assessment.vendor_id) == vendor)
    if status:
        stmt = stmt.where(col(Assessment.status) == status)
    stmt = stmt.order_by(col(Assessment.vendor_id), col(Assessment.id))
    return list(session.execute(stmt).scalars())


def open_triggers(session: Session, assessment_ids: list[str]) -> dict[str, list[int]]:
    """assessment id → ids of the triggers whose flags on it are unresolved, oldest first."""
    found: dict[str, list[int]] = {i: [] for i in assessment_ids}
    if not assessment_ids:
        return found
    rows = session.execute(
        select(col(AssessmentFlag.assessment_id), col(AssessmentFlag.trigger_id))
        .where(col(AssessmentFlag.assessment_id).in_(assessment_ids),
               col(AssessmentFlag.resolved_at).is_(None))
        .order_by(col(AssessmentFlag.trigger_id)))
    for assessment_id, trigger_id in rows:
        found[assessment_id].append(int(trigger_id))
    return found


def overdue_days(row: Assessment, today: date) -> int:
    """Days since the review date passed (0 when it has not, or there is none)."""
    if row.next_review is None or not row.active:
        return 0
    return max(0, (today - row.next_review).days)


def assessment_dict(row: Assessment, open_ids: list[int],
                    today: date | None = None) -> dict[str, Any]:
    """An assessment as ``reassess assessments --json`` shows it."""
    return {
        "id": row.id, "vendor": row.vendor_id, "system": row.system,
        "owner": row.owner or [], "disposition": row.disposition, "status": row.status,
        "assessed": _day(row.assessed), "next_review": _day(row.next_review),
        "review_every": row.review_every, "open_triggers": open_ids,
        "triggers": row.trigger_types or [], "baseline_at": _iso(row.baseline_at),
        "updated_at": _iso(row.updated_at), "active": row.active,
        "overdue_days": overdue_days(row, today or datetime.now(UTC).date()),
    }


def audit_dict(event: AuditEvent) -> dict[str, Any]:
    return {"at": _iso(event.at), "by": event.by, "action": event.action,
            "object": f"{event.object_type}:{event.object_id}", "note": event.note,
            "data": event.data or {}}


def audit_of(session: Session, object_type: str, object_id: str) -> list[AuditEvent]:
    """Who did what to one object, oldest first."""
    return list(session.execute(
        select(AuditEvent).where(col(AuditEvent.object_type) == object_type,
                                 col(AuditEvent.object_id) == object_id)
        .order_by(col(AuditEvent.at), col(AuditEvent.id))).scalars())


def assessment_detail(session: Session, assessment_id: str) -> dict[str, Any] | None:
    """One assessment with every flag (trigger, when, resolved) and its audit trail."""
    row = session.get(Assessment, assessment_id)
    if row is None:
        return None
    item = assessment_dict(row, open_triggers(session, [row.id])[row.id])
    flags = session.execute(
        select(AssessmentFlag, Trigger)
        .join(Trigger, col(Trigger.id) == col(AssessmentFlag.trigger_id))
        .where(col(AssessmentFlag.assessment_id) == assessment_id)
        .order_by(col(AssessmentFlag.created_at), col(AssessmentFlag.id)))
    item["flags"] = [{"trigger": t.id, "type": t.type, "severity": t.severity,
                      "title": t.title, "trigger_status": t.status,
                      "flagged_at": _iso(f.created_at), "resolved_at": _iso(f.resolved_at)}
                     for f, t in flags]
    item["audit"] = [audit_dict(e) for e in audit_of(session, "assessment", assessment_id)]
    return item


def trigger_detail(session: Session, trigger_id: int,
                   describe: Describe | None = None) -> dict[str, Any] | None:
    """One trigger in full: changes (before → after), evidence, snapshots, assessments, audit.

    ``describe(kind, change)`` renders one change as a line (the kind's ``describe``).
    """
    row = session.get(Trigger, trigger_id)
    if row is None:
        return None
    flags = list(session.execute(
        select(AssessmentFlag, Assessment)
        .join(Assessment, col(Assessment.id) == col(AssessmentFlag.assessment_id))
        .where(col(AssessmentFlag.trigger_id) == trigger_id).order_by(col(Assessment.id))))
    item = trigger_dict(row, [a.id for _, a in flags])
    kind = _kind(session, row.source_id)
    item.update(
        kind=kind, rule=row.rule, channels=row.channels or [], ack_note=row.ack_note,
        assessment_id=row.assessment_id,
        changes=[{**c, "summary": _describe(describe, kind, c)} for c in row.changes or []],
        snapshots={"old": _snapshot(session, row.old_snapshot_id),
                   "new": _snapshot(session, row.new_snapshot_id)},
        affected=[{"id": a.id, "system": a.system, "status": a.status,
                   "disposition": a.disposition, "flagged_at": _iso(f.created_at),
                   "resolved_at": _iso(f.resolved_at)} for f, a in flags],
        audit=[audit_dict(e) for e in _trigger_audit(session, trigger_id,
                                                     [a.id for _, a in flags])],
    )
    return item


def _trigger_audit(session: Session, trigger_id: int,
                   assessment_ids: list[str]) -> list[AuditEvent]:
    """The trigger's own events and the assessment events that name it."""
    events = audit_of(session, "trigger", str(trigger_id))
    if assessment_ids:
        stmt = (select(AuditEvent).where(col(AuditEvent.object_type) == "assessment",
                                         col(AuditEvent.object_id).in_(assessment_ids))
                .order_by(col(AuditEvent.at), col(AuditEvent.id)))
        for event in session.execute(stmt).scalars():
            data = event.data or {}
            if (data.get("trigger_id") == trigger_id or trigger_id in data.get("triggers", [])
                    or trigger_id in data.get("flags", [])):
                events.append(event)
    return sorted(events, key=lambda e: (_iso(e.at) or "", e.id or 0))


def _kind(session: Session, source_id: str | None) -> str | None:
    if source_id is None:
        return None
    return session.execute(select(col(Source.kind))
                           .where(col(Source.id) == source_id)).scalar()


def _snapshot(session: Session, snapshot_id: int | None) -> dict[str, Any] | None:
    if snapshot_id is None:
        return None
    row = session.execute(select(col(Snapshot.id), col(Snapshot.url), col(Snapshot.fetched_at),
                                 col(Snapshot.http_status), col(Snapshot.content_hash),
                                 col(Snapshot.parser_version))
                          .where(col(Snapshot.id) == snapshot_id)).first()
    if row is None:
        return {"id": snapshot_id, "missing": True}
    return {"id": row[0], "url": row[1], "fetched_at": _iso(row[2]), "http_status": row[3],
            "content_hash": row[4], "parser_version": row[5]}


def _describe(describe: Describe | None, kind: str | None, change: dict[str, Any]) -> str:
    if describe is not None and kind is not None:
        try:
            return describe(kind, change)
        except (KeyError, TypeError, ValueError):
            pass  # an old row a newer kind cannot read: fall back to the generic line
    before, after = _text(change.get("before")), _text(change.get("after"))
    return f"{change.get('op', '?')} {change.get('key', '')}: {before or '-'} → {after or '-'}"


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    return "" if value is None else str(value)


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None
