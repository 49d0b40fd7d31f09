"""incidents — status and incident feeds, as a set of incidents keyed by a stable id.

Formats (detected from the content, or forced with ``format:``):

* Atlassian Statuspage: ``history.rss``, ``history.atom`` (the update log in each entry's
  HTML is read: latest status, latest update, "This incident affected: …"),
  ``/api/v2/incidents.json``, ``summary.json``, ``scheduled-maintenances.json``,
  ``incidents/unresolved.json`` and subscriber webhook payloads;
* any other RSS 1.0/2.0 or Atom feed (status from "[Resolved]"-style titles);
* JSON lists of incidents under any common name (``incidents``, ``ongoing_incidents``,
  ``items``, ``data`` …; incident.io, Google status ``incidents.json``, Better Stack,
  JSON Feed), with id/title/status/impact fields in their usual spellings;
* HTML status pages: one incident per ``/incidents/<id>`` link (Statuspage's
  ``impact-major`` classes give the impact); other HTML or Markdown pages (security
  advisories, post-mortem lists) as one incident per dated heading.

The document holds each incident's id (guid, Atom id or link, tracking parameters
removed), title, status, impact (none | minor | major | critical | maintenance), whether
it is scheduled maintenance, created and resolved times (UTC), affected components and
the latest update. Feed-level dates, entry order, ``updated`` stamps, whitespace and
markup are not part of it. ``ignore`` regexes are removed from titles and update text;
``select`` narrows an HTML page.

Changes: an incident added, removed (dropped off the feed or resolved out of
``summary.json``), or modified (status, impact, title, components, latest update).

Triggers: ``incident`` for each new incident (severity from the impact: critical →
critical, major → high, minor → medium, none → low; with no impact, from the words:
data exposure / breach / unauthorized access / security incident → critical, outage /
unavailable / down → high, else medium; security words never rate below high), and again
when an incident's impact rises (minor → major) — or, in feeds without an impact, when a
retitled incident reads worse or an update reports a security finding. Status updates,
resolutions, impact drops and removals are recorded changes that fire nothing. Scheduled
maintenance (impact ``maintenance``, "THIS IS A SCHEDULED EVENT", scheduled / in progress /
verifying / completed statuses) is recorded and fires nothing: planned work is no reason
to re-assess a vendor, and owners would learn to ignore the noise.

Example::

    - id: acme-status
      kind: incidents
      url: https://status.acme.example/history.rss
      ignore: ["Posted \\\\d+ \\\\w+ ago"]
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import field_validator

from config.errors import ParseError

from ..base import BaseSettings, Change, Document
from ..read.detect import detect, sniff_feed
from ..read.encoding import decode
from ..read.entries import html_entries, markdown_entries, page_roots
from ..read.feeds import read_feed
from ..read.html import roots, visible_lines
from ..read.json_records import load_json
from ..read.text import check_regexes, looks_like_wall
from .readers import from_entries, from_feed_entry, from_html, from_json

NAME = "incidents"
PARSER_VERSION = "1"
INTERVAL = 600.0  # seconds: checked every ten minutes unless the config says otherwise
RULES = "triggers.incidents:incidents_rule"  # its rule in triggers/, named
MAX_INCIDENTS = 1000
COMPARED = ("title", "status", "impact", "maintenance", "components", "latest", "resolved")


class Settings(BaseSettings):
    """Only the common options: ``select`` (HTML), ``ignore``, ``format``."""

    @field_validator("ignore")
    @classmethod
    def _ignore_regexes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return check_regexes(value, "ignore")


def _incidents(body: bytes, settings: BaseSettings) -> list[dict[str, Any]]:
    fmt: str = settings.format or detect(body)
    if fmt not in ("json", "rss", "atom") and not settings.format:
        fmt = sniff_feed(body) or fmt
    if fmt == "json":
        return from_json(load_json(body))
    if fmt in ("rss", "atom"):
        return [inc for inc in map(from_feed_entry, read_feed(body)) if inc]
    if fmt == "html":
        found = from_html(roots(body, settings.select))
        if found or looks_like_wall(" ".join(visible_lines(roots(body, settings.select)))):
            return found
        return from_entries(html_entries(page_roots(body, settings.select)))
    if fmt == "markdown":
        return from_entries(markdown_entries(decode(body)))
    return []


def _ignore(inc: dict[str, Any], rxs: list[re.Pattern[str]]) -> dict[str, Any]:
    if not rxs:
        return inc

    def strip(text: str | None) -> str | None:
        if text is None:
            return None
        for rx in rxs:
            text = rx.sub("", text)
        return " ".join(text.split()) or None

    latest = inc["latest"]
    if latest:
        latest = {**latest, "text": strip(latest["text"]), "at": strip(latest["at"])}
    return {**inc, "title": strip(inc["title"]) or inc["id"], "latest": latest}


def parse(body: bytes, settings: BaseSettings) -> Document:
    try:
        found = _incidents(body, settings)
    except ParseError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ParseError(f"cannot read incidents: {exc}") from exc
    rxs = [re.compile(p) for p in settings.ignore]
    by_id: dict[str, dict[str, Any]] = {}
    for inc in found[:MAX_INCIDENTS]:
        by_id.setdefault(inc["id"], _ignore(inc, rxs))
    incidents = [by_id[key] for key in sorted(by_id)]
    return Document(kind=NAME, data={"incidents": incidents}, parser_version=PARSER_VERSION)


def diff(old: Document, new: Document) -> list[Change]:
    before = {inc["id"]: inc for inc in old.data.get("incidents", [])}
    after = {inc["id"]: inc for inc in new.data.get("incidents", [])}
    changes = [Change("added", key, None, after[key], path="entry")
               for key in sorted(after.keys() - before.keys())]
    for key in sorted(before.keys() & after.keys()):
        fields = tuple(f for f in COMPARED if before[key].get(f) != after[key].get(f))
        if fields:
            changes.append(Change("modified", key, before[key], after[key], path="entry",
                                  fields=fields))
    changes += [Change("removed", key, before[key], None, path="entry")
                for key in sorted(before.keys() - after.keys())]
    return changes


def size(document: Document) -> int:
    return len(document.data.get("incidents", []))


def _label(inc: dict[str, Any]) -> str:
    parts = [p for p in (inc.get("impact"), inc.get("status")) if p]
    return f"{inc.get('title')} ({', '.join(parts)})" if parts else str(inc.get("title"))


def describe(change: Change) -> str:
    inc = change.after if change.after is not None else change.before
    noun = "maintenance" if inc.get("maintenance") else "incident"
    if change.op == "added":
        what = "New scheduled maintenance" if noun == "maintenance" else "New incident"
        return f"{what}: {_label(inc)}"
    if change.op == "removed":
        return f"{noun.capitalize()} no longer listed: {inc.get('title')}"
    old = change.before
    if "impact" in change.fields:
        return (f"Incident impact changed: {inc.get('title')} "
                f"({old.get('impact') or 'unknown'} → {inc.get('impact') or 'unknown'})")
    if "status" in change.fields:
        if inc.get("status") in ("resolved", "completed", "postmortem"):
            return f"{noun.capitalize()} {inc['status']}: {inc.get('title')}"
        return (f"{noun.capitalize()} status: {inc.get('title')} "
                f"({old.get('status') or 'unknown'} → {inc.get('status') or 'unknown'})")
    return f"{noun.capitalize()} updated: {inc.get('title')} ({', '.join(change.fields)})"
