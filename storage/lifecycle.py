"""Assessment lifecycle writes: flags from triggers, the audit trail.

``current`` → ``re_review_required`` (a trigger of a type the assessment watches) →
``in_review`` (optional) → ``current`` again when resolved.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from .models import Assessment, AssessmentFlag, AuditEvent
from .repo import insert_ignore

SYSTEM = "reassess"


def audit(session: Session, *, at: datetime, by: str, action: str, object_type: str,
          object_id: str, note: str | None = None, data: dict[str, Any] | None = None) -> None:
    session.add(AuditEvent(at=at, by=by, action=action, object_type=object_type,
                           object_id=object_id, note=note, data=data))


def flag_assessments(session: Session, trigger_id: int, vendor_id: str, trigger_type: str,
                     now: datetime, assessment_id: str | None = None) -> list[Assessment]:
    """Flag every active assessment of the vendor that watches this trigger type."""
    stmt = select(Assessment).where(Assessment.vendor_id == vendor_id,
                                    Assessment.active.is_(True))  # type: ignore[attr-defined]
    if assessment_id is not None:
        stmt = stmt.where(Assessment.id == assessment_id)
    flagged = []
    for row in session.execute(stmt).scalars():
        if trigger_type not in (row.trigger_types or []):
            continue
        res = insert_ignore(session, AssessmentFlag,
                            {"assessment_id": row.id, "trigger_id": trigger_id,
                             "created_at": now}, ("assessment_id", "trigger_id"))
        if not res.rowcount:
            continue
        flagged.append(row)
        if row.status == "current":
            audit(session, at=now, by=SYSTEM, action="flagged", object_type="assessment",
                  object_id=row.id, data={"trigger_id": trigger_id, "from": row.status,
                                          "to": "re_review_required"})
            row.status = "re_review_required"
            row.updated_at = now
            session.add(row)
    return flagged
