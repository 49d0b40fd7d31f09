"""Atom feeds of triggers, and CSV / JSON downloads of the filtered history.

Feeds: ``/feeds/triggers.atom`` (all), ``/feeds/vendors/{id}.atom``,
``/feeds/assessments/{id}.atom`` — the newest ``FEED_SIZE`` triggers, built with
ElementTree so every vendor-supplied string is escaped. Downloads stream the whole
filtered set (at most ``EXPORT_CAP`` rows), read in keyset batches.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import select
from sqlmodel import Session, col

from storage import queries as q
from storage.db import session_scope
from storage.models import Assessment, Trigger, Vendor

from .auth import Principal
from .context import DB, WebState, parse_filter, state
from .render import iso

router = APIRouter(include_in_schema=False)
ATOM = "http://www.w3.org/2005/Atom"
FEED_SIZE = 100
EXPORT_CAP = 100_000
CSV_FIELDS = ("id", "created_at", "type", "severity", "status", "vendor", "source", "title",
              "entities", "assessments", "acked_by", "acked_at")
_XML_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def reader(request: Request) -> Principal:
    return state(request).auth.reader(request)


def _clean(text: str | None) -> str:
    return _XML_BAD.sub("", text or "")


def _base(request: Request) -> str:
    st = state(request)
    return (st.config.web.base_url or str(request.base_url)).rstrip("/")


def atom(request: Request, title: str, path: str, rows: list[Trigger],
         names: dict[str, str], session: Session, alternate: str = "/triggers") -> Response:
    """The feed; ``alternate`` is the page of the same triggers (a filtered history)."""
    base = _base(request)
    details = _details(session, rows)
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}title").text = _clean(title)
    ET.SubElement(feed, f"{{{ATOM}}}id").text = base + path
    ET.SubElement(feed, f"{{{ATOM}}}link", {"rel": "self", "href": base + path})
    ET.SubElement(feed, f"{{{ATOM}}}link", {"rel": "alternate", "type": "text/html",
                                            "href": base + alternate})
    newest = rows[0].created_at if rows else datetime(2000, 1, 1, tzinfo=UTC)
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = iso(newest)
    ET.SubElement(ET.SubElement(feed, f"{{{ATOM}}}author"), f"{{{ATOM}}}name").text = "reassess"
    for row in rows:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        link = f"{base}/triggers/{row.id}"
        ET.SubElement(entry, f"{{{ATOM}}}id").text = f"{base}/triggers/{row.id}#{row.dedupe_key}"
        ET.SubElement(entry, f"{{{ATOM}}}title").text = _clean(
            f"[{row.severity}] {row.title}")
        ET.SubElement(entry, f"{{{ATOM}}}link", {"rel": "alternate", "href": link})
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = iso(row.acked_at or row.created_at)
        ET.SubElement(entry, f"{{{ATOM}}}published").text = iso(row.created_at)
        for term in (row.type, row.severity, row.vendor_id):
            ET.SubElement(entry, f"{{{ATOM}}}category", {"term": _clean(term)})
        changes, affected = details.get(row.id or 0, ([], []))
        ET.SubElement(entry, f"{{{ATOM}}}summary").text = _clean(
            _summary(row, names, changes, affected))
    body = ET.tostring(feed, encoding="unicode", xml_declaration=False)
    return Response('<?xml version="1.0" encoding="utf-8"?>\n' + body,
                    media_type="application/atom+xml; charset=utf-8")


def _summary(row: Trigger, names: dict[str, str], changes: list[str],
             affected: list[str]) -> str:
    """What changed and which assessments it affects, as plain text."""
    lines = [f"{row.type.replace('_', ' ')} · {row.severity} · "
             f"{names.get(row.vendor_id, row.vendor_id)} · {row.status}"]
    if changes:
        lines.append("What changed:")
        lines += [f"- {line}" for line in changes[:20]]
        if len(changes) > 20:
            lines.append(f"- and {len(changes) - 20} more")
    elif row.entities:
        lines.append("Entities: " + ", ".join(row.entities))
    excerpt = (row.evidence or {}).get("excerpt")
    if isinstance(excerpt, str) and excerpt:
        lines.append(excerpt[:2000])
    lines.append("Affects: " + (", ".join(affected) if affected else
                                "no assessment (none watches this type for this vendor)"))
    return "\n".join(lines)


def _details(session: Session, rows: list[Trigger]) -> dict[int, tuple[list[str], list[str]]]:
    """trigger id → (its changes, each as a line; the assessments it flagged, with their
    state)."""
    from sqlalchemy import select as sql_select

    from storage.models import AssessmentFlag, Source
    from storage.register import _describe

    from .pages import kind_describe

    ids = [r.id for r in rows if r.id is not None]
    kinds = dict(session.execute(sql_select(col(Source.id), col(Source.kind)).where(
        col(Source.id).in_({r.source_id for r in rows if r.source_id}))).all())
    affected: dict[int, list[str]] = {i: [] for i in ids}
    for trigger_id, a in session.execute(
            sql_select(col(AssessmentFlag.trigger_id), Assessment)
            .join(Assessment, col(Assessment.id) == col(AssessmentFlag.assessment_id))
            .where(col(AssessmentFlag.trigger_id).in_(ids)).order_by(col(Assessment.id))):
        state = "pending" if a.disposition == "pending" and a.status == "current" else \
            a.status.replace("re_review", "re-review").replace("_", " ")
        affected[trigger_id].append(f"{a.id} ({state})")
    return {r.id: ([_describe(kind_describe, kinds.get(r.source_id or ""), c)
                    for c in (r.changes or [])], affected[r.id])
            for r in rows if r.id is not None}


def _names(session: Session) -> dict[str, str]:
    return {v: n for v, n in session.execute(select(col(Vendor.id), col(Vendor.name)))}


@router.get("/feeds/triggers.atom")
def feed_all(request: Request, _me: Principal = Depends(reader),
             session: Session = DB) -> Response:
    rows = q.list_triggers(session, q.TriggerFilter(), limit=FEED_SIZE)
    return atom(request, "reassess: triggers", "/feeds/triggers.atom", rows, _names(session),
                session)


@router.get("/feeds/vendors/{vendor_id}.atom")
def feed_vendor(request: Request, vendor_id: str, _me: Principal = Depends(reader),
                session: Session = DB) -> Response:
    vendor = session.get(Vendor, vendor_id)
    if vendor is None:
        raise HTTPException(404, f"there is no vendor {vendor_id!r}")
    rows = q.list_triggers(session, q.TriggerFilter(vendor=vendor_id), limit=FEED_SIZE)
    return atom(request, f"reassess: {vendor.name}", f"/feeds/vendors/{vendor_id}.atom", rows,
                {vendor.id: vendor.name}, session,
                alternate=f"/triggers?{urlencode({'vendor': vendor_id})}")


@router.get("/feeds/assessments/{assessment_id}.atom")
def feed_assessment(request: Request, assessment_id: str, _me: Principal = Depends(reader),
                    session: Session = DB) -> Response:
    row = session.get(Assessment, assessment_id)
    if row is None:
        raise HTTPException(404, f"there is no assessment {assessment_id!r}")
    rows = q.list_triggers(session, q.TriggerFilter(assessment=assessment_id), limit=FEED_SIZE)
    return atom(request, f"reassess: assessment {assessment_id}",
                f"/feeds/assessments/{assessment_id}.atom", rows, _names(session), session,
                alternate=f"/triggers?{urlencode({'assessment': assessment_id})}")


# --- downloads ------------------------------------------------------------------------


def _rows(st: WebState, flt: q.TriggerFilter) -> Iterator[dict[str, object]]:
    with session_scope(st.engine, write=False) as session:
        batch: list[Trigger] = []
        for row in q.iter_triggers(session, flt, batch=500, cap=EXPORT_CAP):
            batch.append(row)
            if len(batch) == 500:
                yield from _dicts(session, batch, st)
                batch = []
        yield from _dicts(session, batch, st)


def _dicts(session: Session, rows: list[Trigger], st: WebState
           ) -> Iterator[dict[str, object]]:
    flags = q.flags_by_trigger(session, [r.id for r in rows if r.id is not None])
    for row in rows:
        found = q.trigger_dict(row, flags.get(row.id or 0))
        found["controls"] = st.config.controls_for(row.type, row.source_id, row.severity)
        yield found


def _filter(request: Request) -> q.TriggerFilter:
    flt, errors = parse_filter(dict(request.query_params))
    if errors:
        raise HTTPException(422, "; ".join(errors))
    return flt


def _cell(value: object) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula is quoted with '."""
    text = ";".join(map(str, value)) if isinstance(value, list) else \
        "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@router.get("/triggers.csv")
def download_csv(request: Request, _me: Principal = Depends(reader)) -> StreamingResponse:
    flt, st = _filter(request), state(request)

    def lines() -> Iterator[str]:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(CSV_FIELDS)
        for n, item in enumerate(_rows(st, flt)):
            writer.writerow([_cell(item[f]) for f in CSV_FIELDS])
            if n % 200 == 0:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
        yield buf.getvalue()

    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8", headers={
        "content-disposition": 'attachment; filename="triggers.csv"'})


@router.get("/triggers.json")
def download_json(request: Request, _me: Principal = Depends(reader)) -> StreamingResponse:
    flt, st = _filter(request), state(request)

    def chunks() -> Iterator[str]:
        yield "["
        for n, item in enumerate(_rows(st, flt)):
            yield ("," if n else "") + "\n" + json.dumps(item, ensure_ascii=False)
        yield "\n]\n"

    return StreamingResponse(chunks(), media_type="application/json", headers={
        "content-disposition": 'attachment; filename="triggers.json"'})
