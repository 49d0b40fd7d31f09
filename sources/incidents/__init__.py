"""incidents — status and incident feeds, as a set of incidents keyed by a stable id.

Formats (detected from the content, or forced with ``format:``):

* Atlassian Statuspage: ``history.rss``, ``history.atom`` (the update log in each entry's
  HTML is read: latest status, latest update, "This incident affected: …"),
  ``/api/v2/incidents.json``, ``summary.json``, ``scheduled-maintenances.json``,
  ``incidents/unresolved.json``, ``components.json`` and subscriber webhook payloads
  (incident and ``component_update``);
* any other RSS 1.0/2.0 or Atom feed (status from "[Resolved]"-style titles), state-change
  feeds included ("API is now degraded", "API changed from degraded to operational"); a
  closed entry titled as an earlier incident but for its status marks and notice prefix
  (a feed that posts "Service is operating normally: [RESOLVED] Increased Latency" after
  "Informational message: Increased Latency") is that incident's follow-up, not another
  incident;
* JSON lists of incidents under any common name (``incidents``, ``ongoing_incidents``,
  ``active_incidents``, ``activeIncidents``, ``items``, ``data`` …: incident.io, Google
  Cloud ``incidents.json``, Slack's status API, instatus, JSON Feed), Better Stack's
  JSON:API ``index.json`` (reports with the resources they affect), state-change logs
  (records with a state before and after: ``{"label", "from", "to", "at"}``) and component
  lists (``components.json``, Upptime's ``summary.json``: a component in a bad state is an
  incident when the document lists no incidents), and status.io's JSON (``_id``,
  ``datetime_open``/``datetime_closed``, ``messages``, ``components_affected``);
* HTML status pages: one incident per ``/incidents/<id>`` link (Statuspage's
  ``impact-major`` classes give the impact); other HTML or Markdown pages (security
  advisories, post-mortem lists) as one incident per dated heading.

The document holds the status lists a JSON page carries (``active_incidents``,
``components`` …; empty ones too: all is well, the page is not blank) and each incident's
id (guid, Atom id or link, tracking parameters removed; a state change's component and
time), kind (``incident``, ``transition`` — one
component's change of state —, ``component`` — a component shown in a bad state), title,
status, impact (none | minor | major | critical | maintenance), whether it is scheduled
maintenance, created and resolved times (UTC), affected components, the component state
reported and the one before, and the latest update. Feed-level dates, entry order,
``updated`` stamps, whitespace and markup are not part of it. ``ignore`` regexes are
removed from titles and update text; ``select`` narrows an HTML page.

Changes: an incident added, removed (dropped off the feed or resolved out of
``summary.json``), or modified (status, impact, title, components, latest update).

Triggers: ``incident`` for each new incident (severity from the impact: critical →
critical, major → high, minor → medium, none → low; with no impact, from the words:
data exposure / breach / unauthorized access / security incident → critical, outage /
unavailable / down → high, else medium; security words never rate below high), and again
when an incident's impact rises (minor → major) — or, in feeds without an impact, when a
retitled incident reads worse or an update reports a security finding. Entities: the
incident's title, then the components it affects. An incident fires once: seen again
after dropping out of the feed's window, or after a bot wall, it is not new. Status
updates, resolutions, impact drops and removals are recorded changes that fire nothing.
A component's change of state fires only into a worse state: a recovery ("is now
operational"), a component measured or listed for the first time, an unknown reading
fire nothing. Scheduled maintenance (impact ``maintenance``, "THIS IS A SCHEDULED EVENT",
scheduled / in progress / verifying / completed statuses) is recorded and fires nothing:
planned work is no reason to re-assess a vendor, and owners would learn to ignore the
noise.

AI incident reports: a feed shared by many vendors (an AI incident database's RSS or
Atom feed of reports) is read like any other; with ``match_names: true`` the rule fires
only for the reports whose title, text or components name the vendor — its ``name`` or
one of its ``aliases:`` (its products and models: "ChatGPT", "GPT-4o"), as whole words,
case ignored — with the report's title as the entity and the names it matched in the
evidence. The document keeps every report; the filter is the rule's (``reassess diff``
takes the names with ``--names A,B``).

Example::

    - id: acme-status
      kind: incidents
      url: https://status.acme.example/history.rss
      ignore: ["Posted \\\\d+ \\\\w+ ago"]

    vendors:
      - id: openai
        name: OpenAI
        aliases: [ChatGPT, GPT-4o, Sora, DALL-E]
        sources:
          - id: openai-ai-incidents
            kind: incidents
            url: https://incidentdatabase.ai/rss.xml
            match_names: true
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
from .jsonread import from_json, status_lists
from .readers import from_entries, from_feed_entry, from_html

NAME = "incidents"
PARSER_VERSION = "3"  # 3: status.io keys (_id, datetime_open, messages); 2: component states
INTERVAL = 600.0  # seconds: checked every ten minutes unless the config says otherwise
RULES = "triggers.incidents:incidents_rule"  # its rule in triggers/, named
MAX_INCIDENTS = 1000
COMPARED = ("title", "status", "impact", "maintenance", "components", "latest", "resolved")


class Settings(BaseSettings):
    """The common options (``select`` for HTML, ``ignore``, ``format``), and
    ``match_names``: keep only the reports that name the vendor (a shared feed)."""

    match_names: bool = False

    @field_validator("ignore")
    @classmethod
    def _ignore_regexes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return check_regexes(value, "ignore")


def _incidents(body: bytes, settings: BaseSettings) -> tuple[list[dict[str, Any]], list[str]]:
    """The body's incidents, and the status lists it carries (JSON: an empty list of
    incidents is a page where all is well, not a page that says nothing)."""
    fmt: str = settings.format or detect(body)
    if fmt not in ("json", "rss", "atom") and not settings.format:
        fmt = sniff_feed(body) or fmt
    if fmt == "json":
        data = load_json(body)
        return from_json(data), status_lists(data)
    if fmt in ("rss", "atom"):
        return [inc for inc in map(from_feed_entry, read_feed(body)) if inc], []
    if fmt == "html":
        found = from_html(roots(body, settings.select))
        if found or looks_like_wall(" ".join(visible_lines(roots(body, settings.select)))):
            return found, []
        return from_entries(html_entries(page_roots(body, settings.select))), []
    if fmt == "markdown":
        return from_entries(markdown_entries(decode(body))), []
    return [], []


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
        found, lists = _incidents(body, settings)
    except ParseError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ParseError(f"cannot read incidents: {exc}") from exc
    rxs = [re.compile(p) for p in settings.ignore]
    by_id: dict[str, dict[str, Any]] = {}
    for inc in found[:MAX_INCIDENTS]:
        by_id.setdefault(inc["id"], _ignore(inc, rxs))
    incidents = [by_id[key] for key in sorted(by_id)]
    return Document(kind=NAME, data={"incidents": incidents, "lists": lists},
                    parser_version=PARSER_VERSION)


OLDER = "older"  # the ``fields`` of an added incident older than all the old document held


def diff(old: Document, new: Document) -> list[Change]:
    """Incidents added, modified and removed. An added incident created before the newest
    one of the old document, or added to a document that held none (a bot wall, an error
    page taken for the page), is marked ``older``: it dropped out of the feed's window and
    came back, or something hid it (``triggers/incidents.py`` fires none of them that is
    closed, nor an old change of state)."""
    before = {inc["id"]: inc for inc in old.data.get("incidents", [])}
    after = {inc["id"]: inc for inc in new.data.get("incidents", [])}
    horizon = max((str(inc["created"]) for inc in before.values() if inc.get("created")),
                  default="") if before else "~~"
    follows = follow_ups(list(before.values()), [after[k] for k in after.keys() - before.keys()])
    changes = [Change("added", key, None, after[key], path="entry",
                      fields=(OLDER,) if str(after[key].get("created") or "~") < horizon
                      else ())
               for key in sorted(after.keys() - before.keys()) if key not in follows]
    for key, was in sorted(follows.items()):
        fields = tuple(f for f in COMPARED if was.get(f) != after[key].get(f))
        changes.append(Change("modified", key, was, after[key], path="entry", fields=fields))
    for key in sorted(before.keys() & after.keys()):
        fields = tuple(f for f in COMPARED if before[key].get(f) != after[key].get(f))
        if fields:
            changes.append(Change("modified", key, before[key], after[key], path="entry",
                                  fields=fields))
    changes += [Change("removed", key, before[key], None, path="entry")
                for key in sorted(before.keys() - after.keys())]
    return changes


# A title's status marks and notice prefix: "[RESOLVED]", "(Resolved)", "Service is
# operating normally:", "Informational message:" — what a follow-up post changes in it.
_MARKS = re.compile(r"[\[(]\s*(?:resolved|update[d]?|investigating|identified|monitoring|"
                    r"mitigated|fixed)\s*[\])]", re.I)
_PREFIX = re.compile(r"^[^:]{1,60}:\s+")


def _core(title: str | None) -> str:
    """An incident title without its status marks and its notice prefix, folded."""
    text = _MARKS.sub(" ", str(title or ""))
    text = _PREFIX.sub("", " ".join(text.split()))
    return " ".join(re.sub(r"[^\w\s]", " ", text).lower().split())


def follow_ups(old: list[dict[str, Any]], added: list[dict[str, Any]],
               ) -> dict[str, dict[str, Any]]:
    """Added incidents that are the closing post of one the old document holds (a feed
    that posts the resolution as an entry of its own: "Informational message: Increased
    Latency", then "Service is operating normally: [RESOLVED] Increased Latency"), by
    id, each with the incident it follows (one the old document holds, or an open one
    added with it): closed, created no earlier, and titled alike but for status marks
    and notice prefix (at least two words). A closed incident titled exactly as an earlier
    one is another incident of a recurring kind, not a follow-up."""
    by_core: dict[str, list[dict[str, Any]]] = {}
    closing = [i for i in added if i.get("kind") == "incident" and i.get("status") in CLOSED]
    for inc in [*old, *(i for i in added if i not in closing)]:
        core = _core(inc.get("title"))
        if inc.get("kind") == "incident" and len(core.split()) >= 2:
            by_core.setdefault(core, []).append(inc)
    out: dict[str, dict[str, Any]] = {}
    for inc in closing:
        created = str(inc.get("created") or "~")
        earlier = [o for o in by_core.get(_core(inc.get("title")), ())
                   if str(o.get("created") or "") <= created and o.get("title") != inc.get("title")]
        if earlier:
            out[inc["id"]] = max(earlier, key=lambda o: str(o.get("created") or ""))
    return out


CLOSED = ("resolved", "postmortem", "completed")


def size(document: Document) -> int:
    """Incidents, and the status lists a JSON page carries: Slack's ``current`` with no
    active incident is a page where all is well (size 1), a bot wall is nothing (0)."""
    return len(document.data.get("incidents", [])) + len(document.data.get("lists", []))


def _label(inc: dict[str, Any]) -> str:
    parts = [p for p in (inc.get("impact"), inc.get("status")) if p]
    return f"{inc.get('title')} ({', '.join(parts)})" if parts else str(inc.get("title"))


def _moved(inc: dict[str, Any]) -> str:
    now, was = str(inc.get("state") or "unknown"), inc.get("was")
    text = f"{was} → {now}" if was else now
    return text.replace("_", " ")


def describe(change: Change) -> str:
    inc = change.after if change.after is not None else change.before
    if inc.get("kind") in ("transition", "component"):
        name = ", ".join(inc.get("components") or ()) or inc.get("title")
        if change.op == "added":
            again = " (listed again)" if OLDER in change.fields else ""
            return f"Component state{again}: {name} ({_moved(inc)})"
        if change.op == "removed":
            return f"Component state no longer listed: {name} ({_moved(inc)})"
        return f"Component state updated: {inc.get('title')} ({', '.join(change.fields)})"
    noun = "maintenance" if inc.get("maintenance") else "incident"
    if change.op == "added" and OLDER in change.fields:
        return f"{noun.capitalize()} listed again: {_label(inc)}"
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
