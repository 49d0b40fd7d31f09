"""History queries shared by the CLI, the web UI and the API: filtered, paginated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from .models import AssessmentFlag, Trigger


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
