"""Assessment lifecycle writes: flags from triggers, acks, reviews, resolutions, audit.

``current`` → ``re_review_required`` (a trigger of a type the assessment watches) →
``in_review`` (optional) → ``current`` again when resolved. An assessment whose
disposition is still ``pending`` has had no review to repeat: a trigger flags it (the
flag is open until a resolution) but leaves its status alone. Every step writes an
``AuditEvent`` (who, when, note, data) in the same transaction as the change it records;
a step that changes nothing writes none.

A trigger is ``open`` (or ``acknowledged``) while one of its flags is; the resolution
that closes its last flag closes it too (``resolved``), so what a resolution reports as
closed is exactly what the trigger list shows as closed.

Concurrency: a flag is an insert guarded by ``uq_flag``; status moves are conditional
``UPDATE``s, and ``resolve`` locks the assessment row before closing its flags, so a flag
written by a check running at the same moment is either closed by the resolve or leaves
the assessment ``re_review_required`` — never an open flag on a ``current`` assessment.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col

from config.durations import add_period
from config.errors import ReassessError

from . import chain
from .models import Assessment, AssessmentFlag, AuditEvent, Trigger
from .repo import insert_ignore

if TYPE_CHECKING:
    from sqlalchemy import CursorResult

SYSTEM = "reassess"
STATUSES = ("current", "re_review_required", "in_review")
TRIGGER_STATUSES = ("open", "acknowledged", "resolved", "suppressed")
DISPOSITIONS = ("approved", "approved_with_conditions", "rejected", "pending")


class LifecycleError(ReassessError):
    """A lifecycle operation on something that does not exist or cannot take it."""


def audit(session: Session, *, at: datetime, by: str, action: str, object_type: str,
          object_id: str, note: str | None = None, data: dict[str, Any] | None = None) -> None:
    # a plain INSERT, not an ORM object: the unit of work flushing one row costs more
    event_id = session.execute(_AUDIT, {"at": at, "by": by, "action": action,
                                        "object_type": object_type, "object_id": object_id,
                                        "note": note, "data": data}).scalar_one()
    # the hash chain (storage/chain.py): the event, and a trigger's state it changed
    chain.record(session, "audit", int(event_id))
    if object_type == "trigger":
        chain.record(session, "trigger", object_id)


def flag_assessments(session: Session, trigger_id: int, vendor_id: str, trigger_type: str,
                     now: datetime, assessment_id: str | None = None) -> list[Assessment]:
    """Flag every active assessment of the vendor that watches this trigger type."""
    stmt = _VENDOR_ASSESSMENTS if assessment_id is None else _ONE_ASSESSMENT
    flagged = []
    rows = session.execute(stmt, {"vendor_id": vendor_id, "assessment_id": assessment_id})
    for row in rows.scalars().all():
        if trigger_type not in (row.trigger_types or []):
            continue
        res = insert_ignore(session, AssessmentFlag,
                            {"assessment_id": row.id, "trigger_id": trigger_id,
                             "created_at": now}, ("assessment_id", "trigger_id"))
        if not res.rowcount:
            continue
        flagged.append(row)
        # an UPDATE's result is a CursorResult, which Session.execute's type does not say
        moved = cast("CursorResult[Any]", session.execute(
            _MOVE_TO_RE_REVIEW, {"assessment_id": row.id, "now": now})).rowcount
        data: dict[str, Any] = {"trigger_id": trigger_id, "type": trigger_type}
        if moved:  # a transition only when there was one
            data.update({"from": "current", "to": "re_review_required"})
        audit(session, at=now, by=SYSTEM, action="flagged", object_type="assessment",
              object_id=row.id, data=data)
        if moved:  # the row now says what the database says: nothing left to flush
            set_committed_value(row, "status", "re_review_required")
            set_committed_value(row, "updated_at", now)
    return flagged


# The statements of a trigger's writes, built once: every changed source runs them, and
# building one costs more Python than executing its cached compiled form.
_AUDIT = insert(AuditEvent.__table__).returning(  # type: ignore[attr-defined]
    AuditEvent.__table__.c.id)  # type: ignore[attr-defined]
_VENDOR_ASSESSMENTS = (select(Assessment)
                       .where(col(Assessment.vendor_id) == bindparam("vendor_id"),
                              col(Assessment.active).is_(True))
                       .order_by(col(Assessment.id)))
_ONE_ASSESSMENT = _VENDOR_ASSESSMENTS.where(col(Assessment.id) == bindparam("assessment_id"))
_A = Assessment.__table__.c  # type: ignore[attr-defined]
# on the table, not the entity: no ORM synchronisation; the caller updates its row
_MOVE_TO_RE_REVIEW = (update(Assessment.__table__)  # type: ignore[attr-defined]
                      .where(_A.id == bindparam("assessment_id"), _A.status == "current",
                             _A.disposition != "pending")
                      .values(status="re_review_required", updated_at=bindparam("now")))


def _trigger(session: Session, trigger_id: int) -> Trigger:
    row = session.get(Trigger, trigger_id)
    if row is None:
        raise LifecycleError(f"no trigger {trigger_id}; list them with `reassess triggers`")
    return row


def _assessment(session: Session, assessment_id: str, *, lock: bool = False) -> Assessment:
    stmt = select(Assessment).where(col(Assessment.id) == assessment_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    # populate_existing: a row already in the session may be stale once the lock is held
    row = session.execute(stmt.execution_options(populate_existing=True)).scalar_one_or_none()
    if row is None:
        raise LifecycleError(f"no assessment {assessment_id!r}; list them with "
                             "`reassess assessments`")
    return row


def acknowledge(session: Session, trigger_id: int, *, by: str, now: datetime,
                note: str | None = None) -> tuple[Trigger, bool]:
    """Mark an open trigger acknowledged; (trigger, False) when it was not open."""
    row = _trigger(session, trigger_id)
    moved = cast("CursorResult[Any]", session.execute(
        update(Trigger).where(col(Trigger.id) == trigger_id, col(Trigger.status) == "open")
        .values(status="acknowledged", acked_by=by, acked_at=now, ack_note=note))).rowcount
    if not moved:
        session.refresh(row)
        return row, False
    audit(session, at=now, by=by, action="acknowledged", object_type="trigger",
          object_id=str(trigger_id), note=note, data={"from": "open", "to": "acknowledged"})
    session.refresh(row)
    return row, True


def start_review(session: Session, assessment_id: str, *, by: str, now: datetime,
                 note: str | None = None) -> tuple[Assessment, bool]:
    """Move an assessment to ``in_review``; (row, False) when it already was."""
    row = _assessment(session, assessment_id, lock=True)
    before = row.status
    if before == "in_review":
        return row, False
    row.status, row.updated_at = "in_review", now
    session.add(row)
    audit(session, at=now, by=by, action="review_started", object_type="assessment",
          object_id=assessment_id, note=note, data={"from": before, "to": "in_review"})
    return row, True


def resolve(session: Session, assessment_id: str, *, by: str, now: datetime, note: str,
            disposition: str | None = None, assessed: date | None = None) -> dict[str, Any]:
    """Return an assessment to ``current``: close its flags and re-baseline it.

    ``assessed`` (default: today) becomes the assessment date and ``next_review`` is
    recomputed from ``review_every``; a later change flags the assessment again.
    ``triggers`` in the answer are the triggers this resolution closed (no other
    assessment's flag keeps them open), ``still_open`` those another assessment still
    needs. An assessment that is already current with nothing open is left alone
    (``changed`` false) unless a new disposition or date is given.
    """
    if not note or not note.strip():
        raise LifecycleError("a resolution needs a note saying what was decided")
    if disposition is not None and disposition not in DISPOSITIONS:
        raise LifecycleError(f"disposition {disposition!r} is not valid; valid: "
                             f"{', '.join(DISPOSITIONS)}")
    row = _assessment(session, assessment_id, lock=True)
    if (row.status == "current" and not _has_open_flags(session, assessment_id)
            and assessed is None and disposition in (None, row.disposition)):
        return {"changed": False, "from": "current", "to": "current", "triggers": [],
                "flags": [], "still_open": [], "assessed": {"from": _iso(row.assessed),
                                                            "to": _iso(row.assessed)},
                "disposition": {"from": row.disposition, "to": row.disposition},
                "next_review": _iso(row.next_review)}
    new_assessed = assessed or now.date()
    flags = close_flags(session, assessment_id, now)
    closed, still_open = close_triggers(session, flags, by=by, now=now,
                                        assessment_id=assessment_id)
    data: dict[str, Any] = {
        "changed": True, "from": row.status, "to": "current", "flags": flags,
        "triggers": closed, "still_open": still_open,
        "disposition": {"from": row.disposition, "to": disposition or row.disposition},
        "assessed": {"from": _iso(row.assessed), "to": new_assessed.isoformat()},
    }
    row.next_review = next_review_after(new_assessed, row.review_every, row.next_review)
    data["next_review"] = _iso(row.next_review)
    row.status, row.assessed, row.baseline_at, row.updated_at = "current", new_assessed, now, now
    if disposition:
        row.disposition = disposition
    session.add(row)
    audit(session, at=now, by=by, action="resolved", object_type="assessment",
          object_id=assessment_id, note=note.strip(), data=data)
    return data


def _has_open_flags(session: Session, assessment_id: str) -> bool:
    return session.execute(select(col(AssessmentFlag.id)).where(
        col(AssessmentFlag.assessment_id) == assessment_id,
        col(AssessmentFlag.resolved_at).is_(None)).limit(1)).first() is not None


def close_flags(session: Session, assessment_id: str, now: datetime) -> list[int]:
    """Resolve the open flags of an assessment; the ids of their triggers."""
    ids = [int(i) for i in session.execute(
        select(col(AssessmentFlag.trigger_id)).where(
            col(AssessmentFlag.assessment_id) == assessment_id,
            col(AssessmentFlag.resolved_at).is_(None))
        .order_by(col(AssessmentFlag.trigger_id))).scalars()]
    if ids:
        session.execute(update(AssessmentFlag).where(
            col(AssessmentFlag.assessment_id) == assessment_id,
            col(AssessmentFlag.resolved_at).is_(None))
            .values(resolved_at=now))
    return ids


def close_triggers(session: Session, trigger_ids: list[int], *, by: str, now: datetime,
                   assessment_id: str) -> tuple[list[int], list[dict[str, Any]]]:
    """Close the triggers none of whose flags is open any more: (closed ids, the others as
    ``{"trigger": id, "assessments": [ids whose open flags keep it open]}``)."""
    if not trigger_ids:
        return [], []
    still: dict[int, list[str]] = {}
    for trigger_id, other in session.execute(
            select(col(AssessmentFlag.trigger_id), col(AssessmentFlag.assessment_id))
            .where(col(AssessmentFlag.trigger_id).in_(trigger_ids),
                   col(AssessmentFlag.resolved_at).is_(None))
            .order_by(col(AssessmentFlag.assessment_id))):
        still.setdefault(int(trigger_id), []).append(str(other))
    closed = []
    for trigger_id in trigger_ids:
        if trigger_id in still:
            continue
        before = session.execute(select(col(Trigger.status)).where(
            col(Trigger.id) == trigger_id)).scalar()
        moved = cast("CursorResult[Any]", session.execute(
            update(Trigger).where(col(Trigger.id) == trigger_id,
                                  col(Trigger.status).in_(("open", "acknowledged")))
            .values(status="resolved"))).rowcount
        if moved:
            closed.append(trigger_id)
            audit(session, at=now, by=by, action="resolved", object_type="trigger",
                  object_id=str(trigger_id), note=f"assessment {assessment_id} resolved",
                  data={"from": before, "to": "resolved", "assessment": assessment_id})
    return closed, [{"trigger": t, "assessments": still[t]} for t in trigger_ids if t in still]


def next_review_after(assessed: date, review_every: str | None,
                      previous: date | None) -> date | None:
    """The review date after an assessment: ``review_every`` on, else a still-future date."""
    if review_every:
        return add_period(assessed, review_every)
    return previous if previous and previous > assessed else None


def rebaseline(session: Session, row: Assessment, *, now: datetime, assessed: date,
               disposition: str) -> None:
    """The config's ``assessed`` date moved past the stored one: a resolution, by config."""
    flags = close_flags(session, row.id, now)
    closed, still_open = close_triggers(session, flags, by="config", now=now,
                                        assessment_id=row.id)
    audit(session, at=now, by="config", action="rebaselined", object_type="assessment",
          object_id=row.id, note="assessed date updated in the configuration",
          data={"from": row.status, "to": "current", "flags": flags, "triggers": closed,
                "still_open": still_open,
                "assessed": {"from": _iso(row.assessed), "to": assessed.isoformat()},
                "disposition": {"from": row.disposition, "to": disposition}})
    row.status, row.assessed, row.disposition = "current", assessed, disposition
    row.baseline_at = row.updated_at = now


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
