"""Incident records out of status feeds and status pages (pure): each reader gives records
of ``record.record``'s shape. JSON bodies are read in ``jsonread.py``."""

from __future__ import annotations

import re
from typing import Any

from ..read.dates import struct_iso
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
from ..read.text import normalise_space
from ..read.urls import clean_key, clean_url
from .components import text_transition, title_transition
from .record import (
    current_status,
    impact_in,
    is_maintenance,
    record,
    status_in,
    update,
)
from .updatelog import update_log, update_log_of


def from_feed_entry(entry: FeedEntry) -> dict[str, Any] | None:
    """One feed entry → incident (Statuspage update log when present), or one component's
    change of state ("Public website is now a partial outage")."""
    title = normalise_space(entry.title or "")
    link = clean_url(entry.link)
    created = struct_iso(entry.published) or struct_iso(entry.updated)
    ident = entry.id or link or (f"{title} {created}" if title else None)
    if not ident:
        return None
    html = entry.html
    # the record keeps the newest update and the statuses of all: the older ones' texts
    # are not read
    updates, components, scheduled = (update_log(html, texts=False) if "<" in html
                                      else ([], [], False))
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
    kind, state, was = "incident", None, None
    if not updates:
        moved = _text_transition(title, (latest or {}).get("text") or "")
        if moved:
            kind, (component, was, state) = "transition", moved
            components = [component]
            maint = maint or state == "maintenance"
    return record(clean_key(ident), title, status=status, impact=impact, maintenance=maint,
                  created=created, components=components, latest=latest, link=link,
                  kind=kind, state=state, was=was)


def _text_transition(title: str, text: str) -> tuple[str, str | None, str] | None:
    """(component, state before, state after) an entry reports: "X changed from A to B"
    in its text, else "X is now B" in its title."""
    found = text_transition(text)
    if found:
        return found
    titled = title_transition(title)
    return (titled[0], None, titled[1]) if titled else None

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
