"""Incident records out of status feeds, JSON APIs and status pages (pure): each reader
gives records of ``record.record``'s shape."""

from __future__ import annotations

import re
from typing import Any

from ..read.dates import iso_time, struct_iso
from ..read.feeds import FeedEntry
from ..read.html import (
    classes,
    copy,
    flatten_text,
    fragment_lines,
    get_text,
    has_class,
    root_of,
    strip_noise,
    visible_lines,
)
from ..read.json_records import as_text, json_items, pick
from ..read.text import normalise_space
from ..read.urls import clean_key, clean_url
from .record import (
    INCIDENT_STATUSES,
    MAINTENANCE_STATUSES,
    current_status,
    impact_in,
    is_maintenance,
    normalise_impact,
    normalise_status,
    record,
    status_in,
    update,
)
from .updatelog import update_log, update_log_of

ID_KEYS = ("id", "incident_id", "guid", "uuid", "key", "code", "number", "slug")
TITLE_KEYS = ("name", "title", "external_desc", "headline", "subject", "summary")
STATUS_KEYS = ("status", "state", "incident_status", "current_status", "phase")
IMPACT_KEYS = ("impact", "impact_override", "current_worst_impact", "worst_impact",
               "status_impact", "severity", "impact_level", "level", "priority",
               "aggregate_state")
CREATED_KEYS = ("created_at", "started_at", "starts_at", "start", "begin", "createdAt",
                "startedAt", "startsAt", "published_at", "date_published", "published",
                "start_time", "startTime", "opened_at", "reported_at", "detected_at",
                "occurred_at", "date", "created")
RESOLVED_KEYS = ("resolved_at", "resolvedAt", "ended_at", "endedAt", "ends_at", "end",
                 "end_time", "endTime", "closed_at", "mitigated_at", "fixed_at")
LINK_KEYS = ("shortlink", "url", "link", "html_url", "permalink", "uri", "href")
UPDATE_KEYS = ("incident_updates", "updates", "timeline", "history")
TEXT_KEYS = ("body", "text", "message", "message_string", "last_update_message",
             "content_html", "content_text", "content", "markdown", "description")
AT_KEYS = ("display_at", "created_at", "when", "published_at", "timestamp", "date",
           "updated_at", "time", "createdAt", "publishedAt")
COMPONENT_KEYS = ("components", "affected_components", "affected_products",
                  "affected_services", "services", "products", "service_name")
LIST_KEYS = ("incidents", "ongoing_incidents", "status_page_incidents",
             "scheduled_maintenances", "maintenances", "incident", "items", "entries",
             "events", "data", "results", "records", "reports", "outages", "issues")


def from_feed_entry(entry: FeedEntry) -> dict[str, Any] | None:
    """One feed entry → incident (Statuspage update log when present)."""
    title = normalise_space(entry.title or "")
    link = clean_url(entry.link)
    created = struct_iso(entry.published) or struct_iso(entry.updated)
    ident = entry.id or link or (f"{title} {created}" if title else None)
    if not ident:
        return None
    html = entry.html
    updates, components, scheduled = update_log(html) if "<" in html else ([], [], False)
    latest: dict[str, Any] | None
    if updates:
        latest = updates[0]
        status = current_status(updates)
    else:
        text = " ".join(fragment_lines(html))
        status = status_in(title, text)
        latest = update(status, text, None) if text else None
    impact = impact_in(title + " " + ((latest or {}).get("text") or ""))
    maint = is_maintenance(title, [u["status"] for u in updates] + [status], impact, scheduled)
    return record(clean_key(ident), title, status=status, impact=impact, maintenance=maint,
                  created=created, components=components, latest=latest, link=link)


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [normalise_space(value)]
    if isinstance(value, list):
        return [n for n in (as_text(v) for v in value) if n]
    if isinstance(value, dict):
        name = as_text(value)
        return [name] if name else []
    return []


def _json_updates(rec: dict[str, Any]) -> list[dict[str, Any]]:
    raw = pick(rec, UPDATE_KEYS)
    items = [u for u in raw if isinstance(u, dict)] if isinstance(raw, list) else []
    latest_one = rec.get("most_recent_update")
    if isinstance(latest_one, dict):
        items.append(latest_one)
    out = []
    for pos, upd in enumerate(items):
        text = as_text(pick(upd, TEXT_KEYS)) or ""
        if "<" in text or "\n" in text:
            text = " ".join(fragment_lines(text, markdown="<" not in text))
        at = iso_time(pick(upd, AT_KEYS))
        out.append((at or "", -pos, update(pick(upd, ("status", "state", "to_status",
                                                        "incident_status")), text, at), upd))
    if all(item[0] for item in out):  # timestamps decide; ties by content, not position
        out.sort(key=lambda item: (item[0], str(item[2])), reverse=True)
    return [item[2] | {"_components": _names(pick(item[3], ("affected_components",
                                                            "component_statuses")))}
            for item in out]


def from_json_record(container: str, rec: dict[str, Any]) -> dict[str, Any] | None:
    """One JSON incident (Statuspage, incident.io, Google, Better Stack, webhooks…)."""
    link = clean_url(as_text(pick(rec, LINK_KEYS)))
    title = as_text(pick(rec, TITLE_KEYS))
    raw_id = pick(rec, ID_KEYS)
    ident = clean_key(raw_id) if raw_id is not None else link
    if not ident and not title:
        return None
    updates = _json_updates(rec)
    components = _names(pick(rec, COMPONENT_KEYS))
    if not components:
        components = [c for u in updates for c in u["_components"]]
    updates = [{k: v for k, v in u.items() if k != "_components"} for u in updates]
    text = as_text(pick(rec, TEXT_KEYS))
    if not updates and text:
        log, comps, _ = update_log(text) if "<" in text else ([], [], False)
        updates = log or [update(None, " ".join(fragment_lines(text)), None)]
        components = components or comps
    status = normalise_status(pick(rec, STATUS_KEYS)) or current_status(updates)
    resolved = iso_time(pick(rec, RESOLVED_KEYS))
    if resolved and status not in (*INCIDENT_STATUSES, *MAINTENANCE_STATUSES):
        status = "resolved"
    impact = normalise_impact(pick(rec, IMPACT_KEYS))
    if rec.get("report_type") == "maintenance" or "maint" in container:
        impact = impact if impact not in (None, "none") else "maintenance"
    scheduled = rec.get("scheduled_for") not in (None, "")
    maint = is_maintenance(title or "", [status, *(u["status"] for u in updates)], impact,
                           scheduled)
    return record(ident or f"{title}", title, status=status, impact=impact, maintenance=maint,
                  created=iso_time(pick(rec, CREATED_KEYS)),
                  resolved=resolved, components=components,
                  latest=updates[0] if updates else None, link=link)


def from_json(data: Any) -> list[dict[str, Any]]:
    out = []
    for container, rec in json_items(data, LIST_KEYS):
        if str(rec.get("type", "")).lower() in ("status_page", "resource", "section"):
            continue
        inc = from_json_record(container, rec)
        if inc:
            out.append(inc)
    return out


_INCIDENT_HREF = re.compile(r"/(?:incidents?|events?)/([A-Za-z0-9_-]{4,})/?(?:[?#]|$)")
_IMPACT_CLASS = re.compile(r"\bimpact-(none|minor|major|critical|maintenance)\b")


def _container(anchor: Any, key: str, keys_in: dict[Any, set[str]]) -> Any:
    """The largest element around an incident's link that holds no other incident."""
    node = anchor
    parent = node.getparent()
    while parent is not None and keys_in.get(parent, set()) <= {key}:
        if parent.tag in ("body", "html"):
            break
        node, parent = parent, parent.getparent()
    return node


def _classes_up_to(anchor: Any, box: Any) -> str:
    found = classes(anchor)
    if anchor is not box:
        for parent in anchor.iterancestors():
            found.extend(classes(parent))
            if parent is box:
                break
    return " ".join(found)


def from_html(roots: list[Any]) -> list[dict[str, Any]]:
    """Status pages in HTML: one incident per ``/incidents/<id>`` link and its container,
    found under ``roots`` (elements of one tree, which this strips of noise)."""
    if not roots:
        return []
    tree = root_of(roots[0])
    strip_noise(tree)
    flatten_text(tree)
    anchors: dict[str, Any] = {}
    keys_in: dict[Any, set[str]] = {}  # elements as keys: a proxy's id outlives it
    for root in roots:
        if root_of(root) is not tree:
            continue  # removed as noise
        for a in root.iterdescendants("a"):
            href = a.get("href")
            m = _INCIDENT_HREF.search(href) if href is not None else None
            if not m or not normalise_space(get_text(a)):
                continue
            anchors.setdefault(m.group(1), a)
            for parent in a.iterancestors():
                keys_in.setdefault(parent, set()).add(m.group(1))
    return [_page_incident(key, anchor, _container(anchor, key, keys_in))
            for key, anchor in anchors.items()]


def _page_incident(key: str, anchor: Any, box: Any) -> dict[str, Any]:
    impact_m = _IMPACT_CLASS.search(_classes_up_to(anchor, box))
    title = normalise_space(get_text(anchor))
    updates = []
    for upd in [el for el in box.iterdescendants() if isinstance(el.tag, str)
                and has_class(el, "update")]:
        part = copy(upd)  # read as a <div> of its own: the log changes what it reads
        part.tag = "div"
        part.attrib.clear()
        updates.extend(update_log_of(part)[0])
    if not updates and box is not anchor:
        updates = update_log_of(copy(box))[0]
    if not updates:
        lines = [ln for ln in visible_lines([box]) if ln != title]
        updates = [update(None, " ".join(lines), None)] if lines else []
    impact = impact_m.group(1) if impact_m else None
    status = current_status(updates)
    maint = is_maintenance(title, [u["status"] for u in updates], impact)
    return record(key, title, status=status, impact=impact, maintenance=maint,
                  latest=updates[0] if updates else None, link=clean_url(str(anchor.get("href"))))


def from_entries(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Incidents from a page split into dated entries (``read.entries``): security
    advisories, post-mortem lists, Markdown incident logs."""
    out = []
    for entry in raw:
        title = normalise_space(entry.get("title") or "")
        lines = [ln for ln in entry.get("lines") or [] if ln != title]
        if not title:
            continue
        date = entry.get("date")
        ident = f"{title} ({date})" if date and date not in title else title
        text = " ".join(lines)
        status = status_in(title, text)
        impact = impact_in(f"{title} {text}")
        out.append(record(ident, title, status=status, impact=impact,
                          maintenance=is_maintenance(title, [status], impact), created=date,
                          latest=update(status, text, None) if text else None))
    return out
