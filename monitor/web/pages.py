"""The HTML pages: dashboard, trigger history and detail, vendors, assessments, snapshots.

Every page reads through ``storage.queries`` with bounded, paginated queries; every
string reaches the browser through an autoescaping template.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, or_, select
from sqlmodel import Session, col

from monitor.clock import utcnow
from storage import queries as q
from storage.models import Assessment, Snapshot, Source, Trigger, Vendor
from storage.repo import decompress
from triggers.events import SEVERITIES, TRIGGER_TYPES

from . import render as r
from .actions import router as actions_router
from .auth import Principal
from .context import DB, RowId, filter_params, page_html, parse_filter, query, state
from .timeline import DAYS, timeline_svg

router = APIRouter(include_in_schema=False)
router.include_router(actions_router)

PER_PAGE = 50


def kind_describe(kind: str, change: dict[str, Any]) -> str:
    """One stored change as its kind describes it (``storage.register.Describe``)."""
    from sources import get_kind
    from sources.base import Change

    return get_kind(kind).describe(Change.from_dict(change))
TIMELINE_ROWS = 40


def reader(request: Request) -> Principal:
    return state(request).auth.reader(request)


# A filter lists its choices up to this many; past it (a large install), the page offers
# a text box instead of a list the size of the install on every view.
CHOICES_MAX = 500
# A text search on the history page counts its matches up to this many ("more than").
SEARCH_COUNT_MAX = 10_000


def vendor_names(session: Session, ids: Iterable[str | None] | None = None) -> dict[str, str]:
    """Vendor id → name: every vendor, or those of ``ids`` (the rows on a page)."""
    stmt = select(col(Vendor.id), col(Vendor.name))
    if ids is not None:
        wanted = sorted({i for i in ids if i})
        if not wanted:
            return {}
        stmt = stmt.where(col(Vendor.id).in_(wanted))
    return {v: n for v, n in session.execute(stmt)}


def _choices(session: Session, model: Any) -> bool:
    """Whether a filter lists ``model``'s rows (few enough) rather than a text box."""
    return int(session.execute(select(func.count()).select_from(model)).scalar_one()) \
        <= CHOICES_MAX


def _page_number(request: Request, name: str = "page") -> int:
    try:
        return max(1, int(request.query_params.get(name, "1")))
    except ValueError:
        return 1


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, me: Principal = Depends(reader),
              session: Session = DB) -> HTMLResponse:
    today = utcnow().date()
    since = utcnow().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(DAYS - 1)
    # The chart's rows: the first TIMELINE_ROWS busy vendors by name, and only their
    # cells (a large install has tens of thousands of busy vendors).
    busy, busy_total = q.busy_vendors(session, since, TIMELINE_ROWS)
    shown = [v for v, _ in busy]
    rows = q.trigger_timeline(session, since, shown)
    needs = q.needs_review(session, per_assessment=5)
    failing = q.failing_sources(session)
    recent = q.list_triggers(session, limit=10)
    # the names of the vendors this page shows, not of every vendor
    names = vendor_names(session, shown + [a.vendor_id for a, _, _ in needs]
                         + [s.vendor_id for s in failing] + [t.vendor_id for t in recent]
                         + [t.vendor_id for _, ts, _ in needs for t in ts])
    chart = timeline_svg(rows, [(v, names.get(v, v)) for v in shown], today,
                         lambda qs: state(request).url(f"/triggers?{qs}")) if rows else ""
    counts = q.open_trigger_counts(session)
    matrix = [(t, [counts.get((t, s), 0) for s in SEVERITIES]) for t in TRIGGER_TYPES
              if any(counts.get((t, s)) for s in SEVERITIES)]
    return page_html(
        request, "dashboard.html", me, title="Dashboard", names=names,
        needs=needs, matrix=matrix,
        open_total=sum(counts.values()), chart=chart, more_vendors=max(0, busy_total -
                                                                        TIMELINE_ROWS),
        failing=failing, recent=recent)


@router.get("/triggers", response_class=HTMLResponse)
def history(request: Request, me: Principal = Depends(reader),
            session: Session = DB) -> HTMLResponse:
    params = dict(request.query_params)
    flt, errors = parse_filter(params)
    keep = filter_params(params)
    # A text search counts its matches only up to SEARCH_COUNT_MAX: an exact count of a
    # word found in most of a million triggers reads every match (0.5-1 s) to say a
    # number no one pages through; the page says "more than" and lists the newest.
    cap = SEARCH_COUNT_MAX if flt.text else None
    total = q.count_triggers(session, flt, cap=cap)
    more = cap is not None and total > cap
    total = min(total, cap) if cap is not None else total
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(_page_number(request), pages)
    rows = q.list_triggers(session, flt, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    flags = q.flags_by_trigger(session, [t.id for t in rows if t.id is not None])
    sources = list(session.execute(select(col(Source.id)).order_by(col(Source.id))).scalars()) \
        if _choices(session, Source) else None
    choices = vendor_names(session) if _choices(session, Vendor) else None
    names = choices if choices is not None else vendor_names(session, [t.vendor_id for t in rows])
    done = request.query_params.get("done", "")
    return page_html(request, "triggers.html", me, title="Trigger history", rows=rows,
                     flags=flags, names=names, vendor_choices=choices, total=total, more=more,
                     page=page, pages=pages, errors=errors, f=keep, qs=query(keep), sources=sources,
                     done=_done_text(done), page_link=lambda n: "?" + query(keep, page=n))


def _done_text(done: str) -> str:
    """The notice after a bulk acknowledgement (``acked-N-M``: N of M were open)."""
    parts = done.split("-")
    if len(parts) == 3 and parts[0] == "acked" and parts[1].isdigit() and parts[2].isdigit():
        acked, asked = int(parts[1]), int(parts[2])
        rest = f"; {asked - acked} were no longer open" if asked > acked else ""
        return f"Acknowledged {acked} trigger{'' if acked == 1 else 's'}{rest}."
    return ""


def _snapshot_rows(session: Session, trigger: Trigger) -> dict[int, Snapshot]:
    ids = [i for i in (trigger.old_snapshot_id, trigger.new_snapshot_id) if i]
    if not ids:
        return {}
    return {s.id: s for s in q.snapshot_meta(session, col(Snapshot.id).in_(ids))
            if s.id is not None}


def _page_diff(session: Session, trigger: Trigger) -> list[r.Row] | None:
    """The side-by-side diff of a page trigger from its two snapshots, when both exist."""
    docs = []
    for snapshot_id in (trigger.old_snapshot_id, trigger.new_snapshot_id):
        row = session.get(Snapshot, snapshot_id) if snapshot_id else None
        lines = r.page_lines(json.loads(decompress(row.document))) if row else None
        if lines is None:
            return None
        docs.append(lines)
    return r.side_by_side(docs[0], docs[1])


@router.get("/triggers/{trigger_id}", response_class=HTMLResponse)
def trigger_detail(request: Request, trigger_id: RowId, me: Principal = Depends(reader),
                   session: Session = DB) -> HTMLResponse:
    trigger = session.get(Trigger, trigger_id)
    if trigger is None:
        raise HTTPException(404, f"there is no trigger {trigger_id}")
    source = session.get(Source, trigger.source_id) if trigger.source_id else None
    snapshots = _snapshot_rows(session, trigger)
    kind = source.kind if source else next((s.kind for s in snapshots.values()), None)
    groups = r.group_changes(trigger.changes or [], kind)
    diff = _page_diff(session, trigger) if "line" in groups else None
    return page_html(
        request, "trigger.html", me, title=f"Trigger {trigger_id}", t=trigger, source=source,
        vendor=session.get(Vendor, trigger.vendor_id), kind=kind, groups=groups, diff=diff,
        old=snapshots.get(trigger.old_snapshot_id or 0),
        new=snapshots.get(trigger.new_snapshot_id or 0),
        flagged=q.trigger_assessments(session, trigger_id),
        notifications=q.trigger_notifications(session, trigger_id),
        audit=q.audit_trail(session, "trigger", str(trigger_id)),
        done=request.query_params.get("done"), evidence=_evidence(trigger),
        controls=state(request).config.controls_for(trigger.type, trigger.source_id,
                                                    trigger.severity),
        deadlines=_deadlines(request, trigger))


def _deadlines(request: Request, trigger: Trigger) -> list[dict[str, Any]]:
    from monitor.evidence.deadlines import trigger_deadlines

    return trigger_deadlines(state(request).config, trigger, utcnow())


# Evidence keys that "What changed" already shows (the entities, the entry, its text):
# the Evidence block keeps what adds to it (an excerpt, providers, locations, dates due).
SHOWN_IN_CHANGES = frozenset({
    "changes", "added", "removed", "modified", "title", "entry", "status", "statements",
    "incident_id", "latest_update", "sections", "fields", "link", "date", "created", "impact",
    "assessment"})


def _evidence(trigger: Trigger) -> list[tuple[str, Any]]:
    shown = SHOWN_IN_CHANGES if trigger.changes else frozenset({"changes"})
    return [(k, v) for k, v in (trigger.evidence or {}).items()
            if k not in shown and v not in (None, "", [], {})]


@router.get("/vendors", response_class=HTMLResponse)
def vendors(request: Request, me: Principal = Depends(reader),
            session: Session = DB) -> HTMLResponse:
    return page_html(request, "vendors.html", me, title="Vendors",
                     rows=q.vendor_overview(session))


@router.get("/vendors/{vendor_id}", response_class=HTMLResponse)
def vendor(request: Request, vendor_id: str, me: Principal = Depends(reader),
           session: Session = DB) -> HTMLResponse:
    row = session.get(Vendor, vendor_id)
    if row is None:
        raise HTTPException(404, f"there is no vendor {vendor_id!r}")
    sources = list(session.execute(select(Source).where(col(Source.vendor_id) == vendor_id)
                                   .order_by(col(Source.id))).scalars())
    page = _page_number(request, "snapshots")
    snaps, n_snaps = q.vendor_snapshots(session, vendor_id, limit=25, offset=(page - 1) * 25)
    flt = q.TriggerFilter(vendor=vendor_id)
    return page_html(
        request, "vendor.html", me, title=row.name, v=row, sources=sources, snaps=snaps,
        snap_page=page, snap_pages=max(1, math.ceil(n_snaps / 25)), n_snaps=n_snaps,
        assessments=q.assessment_overview(session, vendor_id),
        recent=q.list_triggers(session, flt, limit=10), n_triggers=q.count_triggers(
            session, flt), names={row.id: row.name},
        configured=_source_config(request, vendor_id) if me.can("admin") else None,
        done=request.query_params.get("done"), queued=request.query_params.get("source", ""))


def _source_config(request: Request, vendor_id: str) -> list[dict[str, Any]]:
    """What the config says about a vendor's sources (admins only; header values hidden)."""
    cfg = state(request).config
    try:
        vc = cfg.vendor(vendor_id)
    except KeyError:
        return []
    return [{"id": s.id, "kind": s.kind, "url": s.url, "enabled": s.enabled,
             "interval": cfg.interval_for(vc, s), "confirm": s.confirm,
             "settings": s.settings(), "headers": dict.fromkeys(s.headers, "••••")}
            for s in vc.sources]


@router.get("/assessments", response_class=HTMLResponse)
def assessments(request: Request, me: Principal = Depends(reader),
                session: Session = DB) -> HTMLResponse:
    return page_html(request, "assessments.html", me, title="Assessments",
                     rows=q.assessment_overview(session), names=vendor_names(session))


@router.get("/assessments/{assessment_id}", response_class=HTMLResponse)
def assessment(request: Request, assessment_id: str, me: Principal = Depends(reader),
               session: Session = DB) -> HTMLResponse:
    from .actions import can_review

    row = session.get(Assessment, assessment_id)
    if row is None:
        raise HTTPException(404, f"there is no assessment {assessment_id!r}")
    flags = q.assessment_flags(session, assessment_id)
    return page_html(
        request, "assessment.html", me, title=f"Assessment {row.id}", a=row, flags=flags,
        open_flags=sum(1 for f, _ in flags if f.resolved_at is None),
        vendor=session.get(Vendor, row.vendor_id),
        audit=q.audit_trail(session, "assessment", assessment_id),
        done=request.query_params.get("done"), can_review=can_review(),
        closed=_last_closed(q.audit_trail(session, "assessment", assessment_id, limit=20)),
        dispositions=("approved", "approved_with_conditions", "rejected", "pending"),
        deadlines=_assessment_deadlines(request, session, assessment_id))


def _assessment_deadlines(request: Request, session: Session,
                          assessment_id: str) -> list[dict[str, Any]]:
    from monitor.evidence.deadlines import open_for

    return open_for(session, state(request).config, utcnow(), assessment=assessment_id)


def _last_closed(events: list[Any]) -> list[int]:
    """The triggers the newest resolution closed."""
    for event in events:
        if event.action in ("resolved", "rebaselined"):
            return list((event.data or {}).get("triggers") or [])
    return []


@router.get("/snapshots/{snapshot_id}", response_class=HTMLResponse)
def snapshot(request: Request, snapshot_id: RowId, me: Principal = Depends(reader),
             session: Session = DB) -> HTMLResponse:
    row = session.get(Snapshot, snapshot_id)
    if row is None:
        raise HTTPException(404, f"there is no snapshot {snapshot_id}")
    canonical = decompress(row.document)
    source = session.get(Source, row.source_id)
    used = list(session.execute(
        select(Trigger).where(or_(col(Trigger.new_snapshot_id) == snapshot_id,
                                  col(Trigger.old_snapshot_id) == snapshot_id))
        .order_by(col(Trigger.id).desc()).limit(50)).scalars())
    siblings = q.snapshot_meta(session, col(Snapshot.source_id) == row.source_id, limit=50)
    return page_html(
        request, "snapshot.html", me, title=f"Snapshot {snapshot_id}", s=row, source=source,
        vendor=session.get(Vendor, source.vendor_id) if source else None,
        blocks=r.document_blocks(json.loads(canonical)), raw=canonical[:200_000],
        truncated=len(canonical) > 200_000, used=used, siblings=siblings)


@router.get("/sources/{source_id}/compare", response_class=HTMLResponse)
def compare(request: Request, source_id: str, me: Principal = Depends(reader),
            session: Session = DB) -> HTMLResponse:
    """Any two snapshots of a source, side by side: what the kind's diff finds, and the
    normalised documents line by line."""
    source = session.get(Source, source_id)
    if source is None:
        raise HTTPException(404, f"there is no source {source_id!r}")
    snaps = q.source_snapshots(session, source_id)
    ids = [s.id for s in snaps]
    a, b = _snapshot_id(request, "a"), _snapshot_id(request, "b")
    if a is None and b is None and len(ids) >= 2:
        a, b = ids[1], ids[0]
    picked = {i: session.get(Snapshot, i) for i in (a, b) if i is not None}
    if any(row is None or row.source_id != source_id for row in picked.values()):
        raise HTTPException(404, f"snapshot {a} or {b} is not one of {source_id}'s")
    old, new = picked.get(a or 0), picked.get(b or 0)
    groups: dict[str, list[r.Item]] = {}
    rows: list[r.Row] = []
    if old is not None and new is not None:
        groups, rows = _compare(source.kind, old, new)
    return page_html(request, "compare.html", me, title=f"Compare snapshots of {source_id}",
                     source=source, vendor=session.get(Vendor, source.vendor_id), snaps=snaps,
                     a=a, b=b, old=old, new=new, groups=groups, rows=rows,
                     diff=rows if groups.get("line") else None)


def _snapshot_id(request: Request, name: str) -> int | None:
    value = request.query_params.get(name, "").strip().lstrip("#")
    return int(value) if value.isdigit() and len(value) < 18 else None


def _compare(kind: str, old: Snapshot, new: Snapshot) -> tuple[dict[str, list[r.Item]],
                                                               list[r.Row]]:
    """The kind's own changes between two stored documents, and their JSON line diff."""
    from sources import get_kind
    from sources.base import Document

    before = json.loads(decompress(old.document))
    after = json.loads(decompress(new.document))
    try:
        changes = [c.to_dict() for c in get_kind(kind).diff(
            Document(kind, before, old.parser_version), Document(kind, after,
                                                                 new.parser_version))]
    except Exception:  # an old document a newer kind cannot read: the line diff stays
        changes = []
    lines_a = r.page_lines(before) or json.dumps(before, indent=1, ensure_ascii=False,
                                                 sort_keys=True).splitlines()
    lines_b = r.page_lines(after) or json.dumps(after, indent=1, ensure_ascii=False,
                                                sort_keys=True).splitlines()
    return r.group_changes(changes, kind), r.side_by_side(lines_a, lines_b)
