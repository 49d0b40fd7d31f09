"""The JSON API under ``/api``: the same data as the pages, described at ``/openapi.json``.

Reads follow the read policy (session, bearer token, or public read on loopback);
``POST /api/triggers/{id}/ack`` and ``POST /api/assessments/{id}/resolve`` need the
reviewer role, by bearer token or by session plus the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BeforeValidator
from sqlalchemy import select
from sqlmodel import Session, col

from config.schema import Config
from monitor.clock import utcnow
from storage import lifecycle
from storage import queries as q
from storage.models import Assessment, AuditEvent, Outbox, Snapshot, Source, Trigger
from storage.register import overdue_days
from storage.repo import decompress
from triggers.events import Severity, TriggerType

from .auth import CSRF_HEADER, Principal
from .context import DB, RowId, state
from .schemas import (
    AckIn,
    AckOut,
    AssessmentDetail,
    AssessmentFlagOut,
    AssessmentOut,
    AuditOut,
    ChangeOut,
    ErrorOut,
    FlagOut,
    NotificationOut,
    ResolveIn,
    ResolveOut,
    SnapshotMeta,
    SnapshotOut,
    SourceOut,
    Summary,
    TriggerDetail,
    TriggerOut,
    TriggerPage,
    TriggerStatus,
    VendorDetail,
    VendorOut,
)

# Declared so clients and /openapi.json know it; the check itself is Auth's (a session
# cookie works as well, and reading may be public on a loopback host).
bearer = HTTPBearer(auto_error=False, scheme_name="bearer",
                    description="An API token from `reassess new-token` (web.tokens).")

AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "no session or bearer token, or a wrong one"},
    403: {"model": ErrorOut, "description": "the token's role is not enough"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "there is no such object"}}
REFUSED: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "the body is not JSON, or the request cannot be "
                                            "applied (why is in detail)"}}

router = APIRouter(prefix="/api", tags=["api"], responses=AUTH_ERRORS)


def _iso_text(value: Any) -> Any:
    """Dates and times as ISO 8601 text only: a bare number is not a Unix time here."""
    if not isinstance(value, str) or not re.match(r"^\d{4}-\d\d-\d\d", value):
        raise ValueError("write a day as YYYY-MM-DD or a time as ISO 8601")
    return value


When = Annotated[date | datetime, BeforeValidator(_iso_text)]
MAX_LIMIT = 1000


def reader(request: Request,
           _token: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Principal:
    return state(request).auth.reader(request)


def reviewer(request: Request,
             _token: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Principal:
    return state(request).auth.actor(request, request.headers.get(CSRF_HEADER), "reviewer")


# --- conversions ---------------------------------------------------------------------


def trigger_out(row: Trigger, assessments: list[str] | None = None,
                config: Config | None = None) -> TriggerOut:
    found = q.trigger_dict(row, assessments)
    if config is not None:
        found["controls"] = config.controls_for(row.type, row.source_id, row.severity)
    return TriggerOut.model_validate(found)


def snapshot_meta(row: Snapshot | None) -> SnapshotMeta | None:
    if row is None or row.id is None:
        return None
    return SnapshotMeta(id=row.id, source=row.source_id, kind=row.kind, url=row.url,
                        fetched_at=row.fetched_at, http_status=row.http_status, etag=row.etag,
                        last_modified=row.last_modified, content_hash=row.content_hash,
                        parser_version=row.parser_version, size=row.size)


def assessment_out(row: Assessment, open_flags: int) -> AssessmentOut:
    return AssessmentOut(id=row.id, vendor=row.vendor_id, system=row.system,
                         owner=row.owner or [], status=row.status, disposition=row.disposition,
                         assessed=row.assessed, next_review=row.next_review,
                         review_every=row.review_every, open_flags=open_flags,
                         overdue_days=overdue_days(row, utcnow().date()),
                         updated_at=row.updated_at, active=row.active)


def notification_out(row: Outbox) -> NotificationOut:
    from .render import redact

    return NotificationOut(id=row.id or 0, channel=row.channel, kind=row.kind,
                           status=row.status, attempts=row.attempts, created_at=row.created_at,
                           sent_at=row.sent_at, last_error=redact(row.last_error))


def audit_out(row: AuditEvent) -> AuditOut:
    return AuditOut(at=row.at, by=row.by, action=row.action, note=row.note, data=row.data)


# --- routes ----------------------------------------------------------------------------


@router.get("/triggers", response_model=TriggerPage, summary="Trigger history, newest first")
def list_triggers(
        request: Request,
        vendor: str | None = Query(None, description="vendor id", max_length=200),
        type: TriggerType | None = Query(None, description="trigger type"),
        severity: Severity | None = Query(None, description="severity"),
        status: TriggerStatus | None = Query(None, description="trigger status"),
        source: str | None = Query(None, description="source id", max_length=200),
        assessment: str | None = Query(None, description="assessment id it flagged",
                                       max_length=200),
        text: str | None = Query(None, alias="q", max_length=200,
                                 description="words in the title or the entities"),
        since: When | None = Query(
            None, description="from this day (YYYY-MM-DD, UTC) or this time (ISO 8601)"),
        until: When | None = Query(
            None, description="up to this day, included (YYYY-MM-DD, UTC), or this time"),
        limit: int = Query(100, ge=1, le=MAX_LIMIT), offset: int = Query(0, ge=0, le=10**9),
        _me: Principal = Depends(reader), session: Session = DB) -> TriggerPage:
    flt = q_filter(vendor=vendor, type=type, severity=severity, status=status, source=source,
                   assessment=assessment, text=text, since=_moment(since, end=False),
                   until=_moment(until, end=True))
    rows = q.list_triggers(session, flt, limit=limit, offset=offset)
    flags = q.flags_by_trigger(session, [r.id for r in rows if r.id is not None])
    return TriggerPage(total=q.count_triggers(session, flt), limit=limit, offset=offset,
                       items=[trigger_out(r, flags.get(r.id or 0), state(request).config)
                              for r in rows])


def q_filter(**values: Any) -> q.TriggerFilter:
    return q.TriggerFilter(**{k: v for k, v in values.items() if v not in (None, "")})


def _moment(value: date | datetime | None, *, end: bool) -> datetime | None:
    """A day (its start; ``end``: the next day's start) or a time, as an aware UTC time."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    start = datetime.combine(value, time(0), tzinfo=UTC)
    if not end:
        return start
    try:
        return start + timedelta(days=1)
    except OverflowError:  # 9999-12-31: every trigger is before its end
        return None


def _trigger(session: Session, trigger_id: int) -> Trigger:
    row = session.get(Trigger, trigger_id)
    if row is None:
        raise HTTPException(404, f"there is no trigger {trigger_id}")
    return row


@router.get("/triggers/{trigger_id}", response_model=TriggerDetail, responses=NOT_FOUND,
            summary="One trigger with its changes, flags, notifications and snapshots")
def get_trigger(trigger_id: RowId, request: Request, _me: Principal = Depends(reader),
                session: Session = DB) -> TriggerDetail:
    row = _trigger(session, trigger_id)
    flagged = q.trigger_assessments(session, trigger_id)
    ids = [i for i in (row.old_snapshot_id, row.new_snapshot_id) if i]
    snaps = {s.id: s for s in q.snapshot_meta(session, col(Snapshot.id).in_(ids))}
    source = session.get(Source, row.source_id) if row.source_id else None
    return TriggerDetail(
        trigger=trigger_out(row, [a.id for a, _ in flagged], state(request).config),
        kind=source.kind if source else None, ack_note=row.ack_note,
        changes=[ChangeOut.model_validate(c) for c in row.changes or []],
        flags=[FlagOut(assessment=a.id, assessment_status=a.status, flagged_at=f.created_at,
                       resolved_at=f.resolved_at) for a, f in flagged],
        notifications=[notification_out(n) for n in q.trigger_notifications(session,
                                                                             trigger_id)],
        old_snapshot=snapshot_meta(snaps.get(row.old_snapshot_id)),
        new_snapshot=snapshot_meta(snaps.get(row.new_snapshot_id)),
        history=[audit_out(e) for e in q.audit_trail(session, "trigger", str(trigger_id))])


@router.post("/triggers/{trigger_id}/ack", response_model=AckOut,
             responses={**NOT_FOUND, **REFUSED},
             summary="Acknowledge an open trigger (reviewer)")
def ack_trigger(trigger_id: RowId, body: AckIn | None = None, me: Principal = Depends(reviewer),
                session: Session = DB) -> AckOut:
    _trigger(session, trigger_id)
    note = (body.note or "").strip() or None if body else None
    row, moved = lifecycle.acknowledge(session, trigger_id, by=me.name, now=utcnow(),
                                       note=note)
    flags = q.flags_by_trigger(session, [trigger_id])
    return AckOut(trigger=trigger_out(row, flags.get(trigger_id)), changed=moved)


@router.get("/assessments", response_model=list[AssessmentOut],
            summary="Assessments, those needing re-review first")
def list_assessments(_me: Principal = Depends(reader),
                     session: Session = DB) -> list[AssessmentOut]:
    return [assessment_out(a, n) for a, n in q.assessment_overview(session)]


def _assessment(session: Session, assessment_id: str) -> Assessment:
    row = session.get(Assessment, assessment_id)
    if row is None:
        raise HTTPException(404, f"there is no assessment {assessment_id!r}")
    return row


@router.get("/assessments/{assessment_id}", response_model=AssessmentDetail,
            responses=NOT_FOUND, summary="One assessment with its flags and history")
def get_assessment(assessment_id: str, _me: Principal = Depends(reader),
                   session: Session = DB) -> AssessmentDetail:
    row = _assessment(session, assessment_id)
    flags = q.assessment_flags(session, assessment_id)
    open_flags = sum(1 for f, _ in flags if f.resolved_at is None)
    return AssessmentDetail(
        assessment=assessment_out(row, open_flags),
        flags=[AssessmentFlagOut(trigger=trigger_out(t), flagged_at=f.created_at,
                                 resolved_at=f.resolved_at) for f, t in flags],
        history=[audit_out(e) for e in q.audit_trail(session, "assessment", assessment_id)])


@router.post("/assessments/{assessment_id}/resolve", response_model=ResolveOut,
             responses={**NOT_FOUND, **REFUSED},
             summary="Resolve an assessment: close its flags, re-baseline it (reviewer)")
def resolve_assessment(assessment_id: str, body: ResolveIn,
                       me: Principal = Depends(reviewer),
                       session: Session = DB) -> ResolveOut:
    _assessment(session, assessment_id)
    try:
        result = lifecycle.resolve(session, assessment_id, by=me.name, now=utcnow(),
                                   note=body.note, disposition=body.disposition)
    except lifecycle.LifecycleError as exc:
        raise HTTPException(400, str(exc)) from exc
    session.flush()
    return ResolveOut(assessment=assessment_out(_assessment(session, assessment_id), 0),
                      result=result)


@router.get("/vendors", response_model=list[VendorOut], summary="Vendors")
def list_vendors(_me: Principal = Depends(reader),
                 session: Session = DB) -> list[VendorOut]:
    return [VendorOut(id=v.id, name=v.name, active=v.active, sources=n, failing_sources=bad,
                      open_triggers=o) for v, n, bad, o in q.vendor_overview(session)]


@router.get("/vendors/{vendor_id}", response_model=VendorDetail, responses=NOT_FOUND,
            summary="One vendor with its sources, assessments and newest snapshots")
def get_vendor(vendor_id: str, _me: Principal = Depends(reader),
               session: Session = DB) -> VendorDetail:
    found = [x for x in q.vendor_overview(session) if x[0].id == vendor_id]
    if not found:
        raise HTTPException(404, f"there is no vendor {vendor_id!r}")
    v, n, bad, o = found[0]
    sources = session.execute(select(Source).where(col(Source.vendor_id) == vendor_id)
                              .order_by(col(Source.id))).scalars()
    snaps, _ = q.vendor_snapshots(session, vendor_id, limit=50)
    return VendorDetail(
        vendor=VendorOut(id=v.id, name=v.name, active=v.active, sources=n, failing_sources=bad,
                         open_triggers=o),
        sources=[SourceOut(id=s.id, kind=s.kind, url=s.url, active=s.active,
                           last_checked_at=s.last_checked_at, last_success_at=s.last_success_at,
                           last_outcome=s.last_outcome,
                           consecutive_failures=s.consecutive_failures,
                           last_error=s.last_error, next_due_at=s.next_due_at,
                           alert_state=s.alert_state, current_snapshot_id=s.current_snapshot_id)
                 for s in sources],
        assessments=[assessment_out(a, k) for a, k in q.assessment_overview(session, vendor_id)],
        snapshots=[m for m in map(snapshot_meta, snaps) if m is not None])


@router.get("/snapshots/{snapshot_id}", response_model=SnapshotOut, responses=NOT_FOUND,
            summary="A snapshot: its evidence fields and normalised document")
def get_snapshot(snapshot_id: RowId, _me: Principal = Depends(reader),
                 session: Session = DB) -> SnapshotOut:
    row = session.get(Snapshot, snapshot_id)
    meta = snapshot_meta(row)
    if row is None or meta is None:
        raise HTTPException(404, f"there is no snapshot {snapshot_id}")
    return SnapshotOut(**meta.model_dump(), document=json.loads(decompress(row.document)))


@router.get("/summary", response_model=Summary, summary="What the dashboard shows, in short")
def summary(_me: Principal = Depends(reader), session: Session = DB) -> Summary:
    counts: dict[str, dict[str, int]] = {}
    for (t, s), n in q.open_trigger_counts(session).items():
        counts.setdefault(t, {})[s] = n
    return Summary(open_triggers=counts,
                   needs_review=[a.id for a, _, _ in q.needs_review(session)],
                   failing_sources=[s.id for s in q.failing_sources(session)])
