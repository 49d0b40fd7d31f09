"""Incident records out of JSON bodies (pure): Statuspage, incident.io, Google Cloud,
Slack's status API, instatus, Better Stack's JSON:API, status.io (MongoDB-style ``_id``,
``datetime_open``, ``messages``), webhooks, plain history files, state-change logs and
component lists; each record of ``record.record``'s shape."""

from __future__ import annotations

from typing import Any

from ..read.dates import iso_time
from ..read.html import fragment_lines
from ..read.json_records import as_text, json_items, pick
from ..read.text import normalise_space
from ..read.urls import clean_key, clean_url
from .components import (
    COMPONENT_LISTS,
    IMPACT,
    component_state,
    is_bad,
    json_transition,
)
from .record import (
    INCIDENT_STATUSES,
    MAINTENANCE_STATUSES,
    current_status,
    is_maintenance,
    normalise_impact,
    normalise_status,
    record,
    update,
)
from .updatelog import update_log

ID_KEYS = ("id", "_id", "incident_id", "guid", "uuid", "key", "code", "number", "slug")
TITLE_KEYS = ("name", "title", "external_desc", "headline", "subject", "summary")
STATUS_KEYS = ("status", "state", "incident_status", "current_status", "phase")
IMPACT_KEYS = ("impact", "impact_override", "current_worst_impact", "worst_impact",
               "status_impact", "severity", "impact_level", "level", "priority",
               "aggregate_state", "type")  # Slack's type: incident | notice | outage
CREATED_KEYS = ("created_at", "started_at", "starts_at", "start", "begin", "createdAt",
                "startedAt", "startsAt", "published_at", "date_published", "published",
                "start_time", "startTime", "opened_at", "reported_at", "detected_at",
                "occurred_at", "date_created", "datetime_open", "started", "date", "created")
RESOLVED_KEYS = ("resolved_at", "resolvedAt", "ended_at", "endedAt", "ends_at", "end",
                 "end_time", "endTime", "closed_at", "datetime_closed", "mitigated_at", "fixed_at")
LINK_KEYS = ("shortlink", "url", "link", "html_url", "permalink", "uri", "href")
UPDATE_KEYS = ("incident_updates", "updates", "status_updates", "timeline", "history",
               "notes", "messages")
TEXT_KEYS = ("body", "text", "message", "message_string", "last_update_message",
             "content_html", "content_text", "content", "markdown", "description", "details")
AT_KEYS = ("display_at", "created_at", "when", "published_at", "timestamp", "date",
           "updated_at", "time", "createdAt", "publishedAt", "date_created", "datetime")
COMPONENT_KEYS = ("components", "affected_components", "affected_products",
                  "affected_services", "impacted_components", "impacted_services",
                  "affected", "affects", "services", "products", "service_name",
                  "components_affected")
# Lists of incidents and maintenances, as status pages name them (Statuspage, incident.io,
# Slack, instatus, Better Stack, JSON Feed and plain history files).
INCIDENT_LISTS = ("incidents", "ongoing_incidents", "active_incidents", "activeIncidents",
                  "status_page_incidents", "scheduled_maintenances", "in_progress_maintenances",
                  "upcoming_maintenances", "activeMaintenances", "maintenances",
                  "status_reports", "incident")
LIST_KEYS = (*INCIDENT_LISTS, "items", "entries", "events", "data", "results", "records",
             "reports", "outages", "issues", "history", "changes", "log")

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
    if rec.get("report_type") == "maintenance" or "maint" in container.lower():
        impact = impact if impact not in (None, "none") else "maintenance"
    scheduled = rec.get("scheduled_for") not in (None, "")
    maint = is_maintenance(title or "", [status, *(u["status"] for u in updates)], impact,
                           scheduled)
    created = iso_time(pick(rec, CREATED_KEYS))
    if not ident:  # a title may come back another day: the time tells the two apart
        ident = f"{created} {title}" if created else str(title)
    return record(ident, title, status=status, impact=impact, maintenance=maint,
                  created=created,
                  resolved=resolved, components=components,
                  latest=updates[0] if updates else None, link=link)


def from_json(data: Any) -> list[dict[str, Any]]:
    """Incidents of a JSON body; its components' changes of state when it logs them; the
    components a component list shows in a bad state when it lists no incidents."""
    data = _jsonapi(data) or data
    if isinstance(data, dict) and isinstance(data.get("component_update"), dict):
        data = _webhook_transition(data)
    out: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for container, rec in json_items(data, LIST_KEYS):
        if str(rec.get("type", "")).lower() in ("status_page", "resource", "section"):
            continue
        moved = json_transition(rec)
        if moved:
            out.append(_transition(rec, moved))
        elif container not in INCIDENT_LISTS and _is_component(rec):
            parts.append(rec)
        else:
            inc = from_json_record(container, rec)
            if inc:
                out.append(inc)
    if out or _lists_incidents(data):
        return out
    parts += [rec for _, rec in json_items(data, COMPONENT_LISTS)]
    page = None if parts else _page_status(data)
    return [inc for inc in map(_component, [page] if page else parts) if inc]


# Statuspage's page status indicator as a component state (``status.json``)
_INDICATOR = {"none": "operational", "minor": "degraded", "major": "partial_outage",
              "critical": "major_outage", "maintenance": "maintenance"}


def _page_status(data: Any) -> dict[str, Any] | None:
    """A status page's overall state (``{"page": {...}, "status": {"indicator",
    "description"}}``) as a component record named after the page, its description the
    title ("Partial System Outage")."""
    status = data.get("status") if isinstance(data, dict) else None
    if not isinstance(status, dict) or not isinstance(status.get("indicator"), str):
        return None
    state = _INDICATOR.get(status["indicator"].strip().lower())
    page = data.get("page") if isinstance(data.get("page"), dict) else {}
    name = as_text(pick(page, ("name",))) or "status page"
    return {"name": name, "status": state, "title": as_text(status.get("description"))}


def status_lists(data: Any, depth: int = 0) -> list[str]:
    """The names of the lists of incidents (empty ones too) and of components (when they
    list any) a JSON body carries (``"[]"`` for a top-level list of records)."""
    if isinstance(data, list):
        return ["[]"] if any(isinstance(item, dict) for item in data) else []
    if not isinstance(data, dict) or depth > 2:
        return []
    found = {k for k in INCIDENT_LISTS if isinstance(data.get(k), list | dict)}
    if depth == 0 and _page_status(data):
        found.add("status")
    found.update(k for k in (*COMPONENT_LISTS, "included")
                 if isinstance(data.get(k), list) and any(isinstance(i, dict) for i in data[k]))
    for value in data.values():
        if isinstance(value, dict):
            found.update(status_lists(value, depth + 1))
    return sorted(found)


def _lists_incidents(data: Any, depth: int = 0) -> bool:
    """Whether a JSON body has a list of incidents (an empty one too): its components
    are then not read as incidents."""
    if not isinstance(data, dict) or depth > 2:
        return False
    return any(isinstance(data.get(k), list | dict) for k in INCIDENT_LISTS) or any(
        _lists_incidents(v, depth + 1) for v in data.values() if isinstance(v, dict))


_INCIDENT_TITLES = ("title", "headline", "external_desc", "subject", "summary")


def _is_component(rec: dict[str, Any]) -> bool:
    """A record that says which state one component is in, and nothing of an incident."""
    found = component_state(rec)
    if found is None or any(rec.get(k) not in (None, "", []) for k in _INCIDENT_TITLES):
        return False
    status = normalise_status(rec.get("status"))
    return (status not in (*INCIDENT_STATUSES, *MAINTENANCE_STATUSES)
            and pick(rec, UPDATE_KEYS) is None)


def _component(rec: dict[str, Any]) -> dict[str, Any] | None:
    """A component in a bad state, as an incident named after it (titled by what the page
    says of it, when it says something); None when it is fine."""
    found = component_state(rec)
    if found is None or not is_bad(found[1]):
        return None
    name, state = found
    title = as_text(rec.get("title")) if rec.get("title") != name else None
    return record(f"component:{name}", title or name, impact=IMPACT[state],
                  components=[name], kind="component", state=state)


_TRANSITION_AT = ("at", "changed_at", "created_at", "timestamp", "time", "date",
                  "occurred_at", "createdAt")


def _transition(rec: dict[str, Any], moved: tuple[str, str | None, str]) -> dict[str, Any]:
    """One component's change of state, keyed by the component's own id (its label may be
    reworded) and the time of the change."""
    name, was, state = moved
    at = iso_time(pick(rec, _TRANSITION_AT))
    raw_id = pick(rec, ("id", "uuid", "guid"))
    slug = as_text(pick(rec, ("component_id", "component_code", "component", "slug")))
    ident = (clean_key(raw_id) if raw_id is not None
             else f"{slug if slug and len(slug) <= 80 else name}@{at or ''}")
    title = as_text(pick(rec, ("title", "headline", "message", "summary"))) or name
    return record(ident, title, impact=IMPACT[state], maintenance=state == "maintenance",
                  created=at, components=[name], kind="transition", state=state, was=was)


def _webhook_transition(data: dict[str, Any]) -> dict[str, Any]:
    """Statuspage's (and instatus') ``component_update`` webhook as a one-change log."""
    change = dict(data["component_update"])
    component = data.get("component")
    if isinstance(component, dict):
        change.setdefault("name", as_text(component))
    return {"changes": [change]}


_REPORT_TYPES = ("report", "incident", "maintenance", "notice", "event")
_PART_TYPES = ("resource", "component", "service", "monitor")


def _jsonapi(data: Any) -> dict[str, Any] | None:
    """A JSON:API status page (Better Stack's ``index.json``: ``data`` and ``included``
    records by ``type``) as ``{"incidents": [...], "components": [...]}``: reports with
    their updates and the names of the resources they affect."""
    if not isinstance(data, dict) or not isinstance(data.get("included"), list):
        return None
    main = data.get("data")
    items = [*data["included"], *(main if isinstance(main, list) else [main])]
    flat = [{**_attributes(i), "id": i.get("id"), "type": i["type"],
             "_rel": i.get("relationships")}
            for i in items if isinstance(i, dict) and isinstance(i.get("type"), str)]
    parts = [r for r in flat if any(t in r["type"].lower() for t in _PART_TYPES)]
    names = {str(r["id"]): as_text(pick(r, NAME_KEYS_PART)) for r in parts}
    updates: dict[str, list[dict[str, Any]]] = {}
    by_id: dict[str, dict[str, Any]] = {}
    for r in flat:
        if "update" in r["type"].lower():
            by_id[str(r["id"])] = r
            owner = pick(r, ("status_report_id", "report_id", "incident_id"))
            if owner is not None:
                updates.setdefault(str(owner), []).append(r)
    reports = []
    for r in flat:
        kind = r["type"].lower()
        if "update" in kind or not any(t in kind for t in _REPORT_TYPES):
            continue
        affected = r.get("affected_resources") or r.get("affected_components") or []
        comps = [names.get(str(a.get("status_page_resource_id") or a.get("id")))
                 for a in affected if isinstance(a, dict)]
        own = updates.get(str(r["id"]), [])
        own += [by_id[i] for i in _related(r["_rel"]) if i in by_id and by_id[i] not in own]
        reports.append({**{k: v for k, v in r.items() if k != "_rel"},
                        "updates": [{k: v for k, v in u.items() if k != "_rel"} for u in own],
                        "components": [c for c in comps if c]})
    out: dict[str, Any] = {"components": [{k: v for k, v in r.items() if k != "_rel"}
                                          for r in parts]}
    if reports:
        out["incidents"] = reports
    return out


NAME_KEYS_PART = ("public_name", "name", "title", "label")


def _attributes(item: dict[str, Any]) -> dict[str, Any]:
    attrs = item.get("attributes")
    return attrs if isinstance(attrs, dict) else {}


def _related(rel: Any) -> list[str]:
    """The ids of a JSON:API record's related updates."""
    if not isinstance(rel, dict):
        return []
    out = []
    for key, value in rel.items():
        data = value.get("data") if isinstance(value, dict) else None
        if "update" in key and isinstance(data, list):
            out += [str(d.get("id")) for d in data if isinstance(d, dict)]
    return out
