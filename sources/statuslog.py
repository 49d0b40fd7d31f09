"""Reading incident records out of status feeds, JSON APIs and status pages (pure).

Used by ``sources/incidents.py``. Every reader returns plain incident dicts::

    {"id", "title", "status", "impact", "maintenance", "created", "resolved",
     "components", "latest": {"status", "text", "at"} | None, "link"}

Statuspage feeds carry the update log as HTML, newest first::

    <p><small>Nov <var data-var='date'>20</var>, <var data-var='time'>10:02</var> PST</small>
    <br><strong>Resolved</strong> - This incident has been resolved.</p>

``update_log`` turns it into ``[{"status", "text", "at"}, …]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .feeds import (
    RELATIVE_TIME,
    as_text,
    clean_key,
    clean_url,
    flatten_text,
    fragment_lines,
    iso_time,
    json_items,
    pick,
    quiet_soup,
    struct_iso,
)
from .formats import normalise_space, strip_noise, text_lines

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

INCIDENT_STATUSES = ("investigating", "identified", "monitoring", "resolved", "postmortem")
MAINTENANCE_STATUSES = ("scheduled", "in_progress", "verifying", "completed")
STATUS_WORDS = (*INCIDENT_STATUSES, *MAINTENANCE_STATUSES, "update", "in progress",
                "post-mortem", "post mortem")

IMPACTS = {
    "critical": ("critical", "sev0", "sev1", "p0", "p1", "full_outage", "major_outage",
                 "blocker", "emergency"),
    "major": ("major", "high", "sev2", "p2", "partial_outage", "service_outage", "outage",
              "downtime", "down", "red"),
    "minor": ("minor", "medium", "moderate", "sev3", "p3", "degraded", "degraded_performance",
              "service_disruption", "disruption", "elevated", "yellow", "warning"),
    "none": ("none", "low", "sev4", "p4", "info", "informational", "service_information",
             "operational", "notice", "green"),
    "maintenance": ("maintenance", "under_maintenance", "planned", "scheduled"),
}
_IMPACT_OF = {alias: level for level, aliases in IMPACTS.items() for alias in aliases}

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
LATEST_MAX = 500


_STATUS_GAPS = re.compile(r"[\s-]+")


def normalise_status(value: Any) -> str | None:
    text = as_text(value)
    if not text:
        return None
    text = text.strip().lower()
    return text if text.isalnum() else _STATUS_GAPS.sub("_", text)  # no space, no "-"


def normalise_impact(value: Any) -> str | None:
    status = normalise_status(value)
    return _IMPACT_OF.get(status) if status else None


def record(ident: str, title: str | None, *, status: str | None = None,
           impact: str | None = None, maintenance: bool = False, created: str | None = None,
           resolved: str | None = None, components: Iterable[str] = (),
           latest: dict[str, Any] | None = None, link: str | None = None) -> dict[str, Any]:
    """One incident in its canonical shape (every key always present)."""
    return {"id": ident, "title": title or ident, "status": status, "impact": impact,
            "maintenance": maintenance, "created": created, "resolved": resolved,
            "components": sorted({c for c in components if c}), "latest": latest,
            "link": link}


def _update(status: Any, text: str | None, at: Any) -> dict[str, Any]:
    clean = " ".join((text or "").split())  # normalise_space, faster: same \s
    if len(clean) > LATEST_MAX:
        clean = clean[:LATEST_MAX].rstrip() + "…"
    return {"status": normalise_status(status), "text": clean or None, "at": at}


_LEADING_AND = re.compile(r"^\s*and\s+")
_AND = re.compile(r"\s+and\s+(?![^(]*\))")


def split_components(text: str) -> list[str]:
    """``"A, B (x, y), and C."`` → ``["A", "B (x, y)", "C"]``."""
    text = text.strip().rstrip(".")
    if "(" not in text and ")" not in text:  # every comma is at depth 0
        parts = text.split(",")
    else:
        parts, depth, start = [], 0, 0
        for i, ch in enumerate(text):
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            elif ch == "," and depth == 0:
                parts.append(text[start:i])
                start = i + 1
        parts.append(text[start:])
    out: list[str] = []
    for part in parts:
        part = part.strip()
        if "and" not in part:  # neither pattern can match
            if part:
                out.append(part)
            continue
        part = _LEADING_AND.sub("", part)
        out.extend(p.strip() for p in _AND.split(part) if p.strip())
    return out


_AFFECTED = re.compile(r"this (?:incident|scheduled maintenance|maintenance) affected:\s*(.+)",
                       re.I)


def update_log(html: str) -> tuple[list[dict[str, Any]], list[str], bool]:
    """A Statuspage feed description → (updates newest first, affected components,
    whether it announces a scheduled event)."""
    from . import fasthtml  # lxml, loaded with the first status page

    if fasthtml.ENABLED:  # the same steps on lxml's tree (fasthtml.py)
        fast = fasthtml.update_log(html, affected=_AFFECTED, status_words=STATUS_WORDS,
                                   relative_time=RELATIVE_TIME, normalise=normalise_space,
                                   split_components=split_components, make_update=_update)
        if fast is not None:
            return fast
    doc = quiet_soup(html)
    updates: list[dict[str, Any]] = []
    components: list[str] = []
    scheduled = False
    for para in doc.find_all(["p", "div"]):
        if para.find(["p", "div"]) is not None:
            continue
        affected = _AFFECTED.search(normalise_space(para.get_text(" ")))
        if affected:
            components = split_components(affected.group(1))
        strong = para.find(["strong", "b"], recursive=False) or para.find(["strong", "b"])
        if strong is None:
            continue
        label = normalise_space(strong.get_text())
        if label.upper().startswith("THIS IS A SCHEDULED EVENT"):
            scheduled = True
            continue
        small = para.find("small")
        if label.lower() not in STATUS_WORDS and (small is None or len(label) > 30):
            continue
        at = normalise_space(RELATIVE_TIME.sub("", small.get_text())) if small else None
        for br in para.find_all("br"):
            br.replace_with("\n")
        for node in (small, strong):
            if node is not None:
                node.extract()
        body = normalise_space(para.get_text()).lstrip("-–—: ")
        updates.append(_update(label, body, at))
    return updates, components, scheduled


_STATUS_IN_TEXT = re.compile(
    r"(?:^|\[|\(|:\s)\s*(resolved|investigating|identified|monitoring|scheduled|in progress|"
    r"completed|verifying|postmortem)\s*(?:\]|\)|:|\s-|\s–)", re.I)
_IMPACT_IN_TEXT = re.compile(r"\bimpact(?: level)?:?\s*(critical|major|minor|none|maintenance)\b",
                             re.I)
_MAINT_TITLE = re.compile(r"\b(scheduled|planned)\s+(maintenance|upgrade|downtime)\b|"
                          r"^\s*\[?maintenance\b", re.I)


def current_status(updates: list[dict[str, Any]]) -> str | None:
    """Statuspage writes "Update" when the status did not change: skip those."""
    for upd in updates:
        if upd["status"] and upd["status"] != "update":
            return "postmortem" if upd["status"].startswith("post") else upd["status"]
    return updates[0]["status"] if updates else None


def is_maintenance(title: str, statuses: Iterable[str | None], impact: str | None,
                   scheduled: bool = False) -> bool:
    seen = {s for s in statuses if s}
    if impact == "maintenance" or scheduled:
        return True
    if seen & set(INCIDENT_STATUSES):
        return False
    return bool(seen & set(MAINTENANCE_STATUSES)) or bool(_MAINT_TITLE.search(title))


def from_feed_entry(entry: Any) -> dict[str, Any] | None:
    """One feedparser entry → incident (Statuspage update log when present)."""
    title = normalise_space(entry.get("title") or "")
    link = clean_url(entry.get("link"))
    created = struct_iso(entry.get("published_parsed")) or struct_iso(
        entry.get("updated_parsed"))
    ident = entry.get("id") or link or (f"{title} {created}" if title else None)
    if not ident:
        return None
    html = ""
    if entry.get("content"):
        html = entry["content"][0].get("value") or ""
    html = html or entry.get("summary") or entry.get("description") or ""
    updates, components, scheduled = update_log(html) if "<" in html else ([], [], False)
    latest: dict[str, Any] | None
    if updates:
        latest = updates[0]
        status = current_status(updates)
    else:
        text = " ".join(fragment_lines(html))
        found = _STATUS_IN_TEXT.search(title) or _STATUS_IN_TEXT.search(text[:200])
        status = normalise_status(found.group(1)) if found else None
        latest = _update(status, text, None) if text else None
    said = title + " " + ((latest or {}).get("text") or "")
    # every match holds "mpact" ("i" also matches "İ" and "ı" under re.I, "mpact" only
    # its capitals: tests/test_fastparse.py)
    impact_m = _IMPACT_IN_TEXT.search(said) if "mpact" in said.lower() else None
    impact = normalise_impact(impact_m.group(1)) if impact_m else None
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
        out.append((at or "", -pos, _update(pick(upd, ("status", "state", "to_status",
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
        updates = log or [_update(None, " ".join(fragment_lines(text)), None)]
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


def _container(anchor: Tag, key: str, keys_in: dict[int, set[str]]) -> Tag:
    node = anchor
    while node.parent is not None and keys_in.get(id(node.parent), set()) <= {key}:
        if node.parent.name in ("body", "html", "[document]"):
            break
        node = node.parent
    return node


def _classes_up_to(anchor: Tag, box: Tag) -> str:
    classes = list(anchor.get("class") or [])
    if anchor is not box:
        for parent in anchor.parents:
            classes.extend(parent.get("class") or [])
            if parent is box:
                break
    return " ".join(classes)


def from_html(doc: BeautifulSoup, roots: list[Tag]) -> list[dict[str, Any]]:
    """Status pages in HTML: one incident per ``/incidents/<id>`` link and its container."""
    strip_noise(doc)
    flatten_text(doc)
    anchors: dict[str, Tag] = {}
    keys_in: dict[int, set[str]] = {}
    for root in roots:
        for a in root.find_all("a", href=True):
            m = _INCIDENT_HREF.search(str(a["href"]))
            if not m or not normalise_space(a.get_text()):
                continue
            anchors.setdefault(m.group(1), a)
            for parent in a.parents:
                keys_in.setdefault(id(parent), set()).add(m.group(1))
    out = []
    for key, anchor in anchors.items():
        box = _container(anchor, key, keys_in)
        impact_m = _IMPACT_CLASS.search(_classes_up_to(anchor, box))
        title = normalise_space(anchor.get_text())
        updates = []
        for upd in box.select(".update"):
            log, _, _ = update_log(f"<div>{upd.decode_contents()}</div>")
            updates.extend(log)
        if not updates and box is not anchor:
            updates = update_log(str(box))[0]
        if not updates:
            lines = [ln for ln in text_lines([box]) if ln != title]
            updates = [_update(None, " ".join(lines), None)] if lines else []
        impact = impact_m.group(1) if impact_m else None
        status = current_status(updates)
        maint = is_maintenance(title, [u["status"] for u in updates], impact)
        out.append(record(key, title, status=status, impact=impact, maintenance=maint,
                          latest=updates[0] if updates else None,
                          link=clean_url(str(anchor["href"]))))
    return out


def from_entries(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Incidents from a page split into dated entries (``sources/entries.py``): security
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
        found = _STATUS_IN_TEXT.search(title) or _STATUS_IN_TEXT.search(text[:200])
        status = normalise_status(found.group(1)) if found else None
        impact_m = _IMPACT_IN_TEXT.search(f"{title} {text}")
        impact = normalise_impact(impact_m.group(1)) if impact_m else None
        out.append(record(ident, title, status=status, impact=impact,
                          maintenance=is_maintenance(title, [status], impact), created=date,
                          latest=_update(status, text, None) if text else None))
    return out
