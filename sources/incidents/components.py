"""Component states: what a status page says of one component — operational, degraded, a
partial or major outage, maintenance, unknown — wherever it says it (pure):

* state-change logs: JSON records with a state before and after (``{"label", "from",
  "to", "at"}``, Statuspage's ``component_update`` webhook, ``old_status`` /
  ``new_status``), and feed entries titled "<component> is now <state>" or saying
  "<component> changed from <state> to <state>";
* component lists: ``components.json``-style snapshots (Statuspage, instatus, Upptime's
  ``summary.json``, Better Stack's resources), read only where a document lists no
  incidents.

A state change is an incident only when it goes into a worse state (degraded, partial
outage, major outage); a recovery, a component measured for the first time, an unknown
reading or maintenance is not (``triggers/incidents.py``).

The state words are the enumerations status pages use (Statuspage, instatus, incident.io,
Better Stack, Upptime, status.io) and the plain words their feeds write; they belong to the formats,
like the statuses in ``record.py``.
"""

from __future__ import annotations

import re
from typing import Any

from ..read.json_records import as_text, pick

STATES: dict[str, tuple[str, ...]] = {
    "operational": ("operational", "fully operational", "up", "ok", "online", "healthy",
                    "available", "normal", "green", "all good", "working", "back up",
                    "back online", "back to normal", "recovered", "restored"),
    "degraded": ("degraded", "degraded performance", "performance issues", "slow",
                 "minor outage", "yellow"),
    "partial_outage": ("partial outage", "partially down", "partially unavailable",
                       "partial disruption", "partial service disruption", "orange"),
    "major_outage": ("major outage", "full outage", "outage", "down", "offline",
                     "unavailable", "unreachable", "red", "downtime", "unhealthy",
                     "service disruption"),
    "maintenance": ("maintenance", "under maintenance", "in maintenance",
                    "scheduled maintenance", "planned maintenance"),
    "unknown": ("unknown", "not measured", "not monitored", "unmeasured", "unmonitored",
                "no data", "pending", "paused", "not available yet"),
}
BAD = ("degraded", "partial_outage", "major_outage")
RANK = {state: rank for rank, state in enumerate(BAD, start=1)}
IMPACT = {"operational": "none", "degraded": "minor", "partial_outage": "major",
          "major_outage": "critical", "maintenance": "maintenance", "unknown": None}

_SQUASH = re.compile(r"[\s_-]+")
_STATE_OF = {_SQUASH.sub("", phrase): state
             for state, phrases in STATES.items() for phrase in phrases}
_LONGEST = max(len(p.split()) for phrases in STATES.values() for p in phrases)
_CUT = re.compile(r"[,.;:()\[\]!]")
_ARTICLE = re.compile(r"^(?:an?|the|now|back to|in an?|in)\s+", re.I)


def state_of(value: Any) -> str | None:
    """The component state a value names ("PARTIALOUTAGE", "degraded_performance", "Up")."""
    text = as_text(value)
    if not text or len(text) > 40:
        return None
    return _STATE_OF.get(_SQUASH.sub("", text.lower()))


def state_at(text: str) -> str | None:
    """The state a text starts with: "a partial outage at …", "unknown, because …"."""
    head = _CUT.split(text[:120], maxsplit=1)[0].strip()
    bare = _ARTICLE.sub("", head)
    for candidate in dict.fromkeys((head, bare)):
        words = candidate.split()
        for n in range(min(_LONGEST, len(words)), 0, -1):
            found = state_of(" ".join(words[:n]))
            if found:
                return found
    return None


def is_bad(state: str | None) -> bool:
    return state in RANK


def worse(before: str | None, after: str | None) -> bool:
    """Whether a change of state from ``before`` to ``after`` is a new or worse outage."""
    return is_bad(after) and RANK.get(str(after), 0) > RANK.get(str(before), 0)


# --- state changes written as text --------------------------------------------------------

_COPULA = re.compile(r"\s(?:is|are|has gone|have gone|has|have|went)\s+(?:now\s+|become\s+|"
                     r"been\s+)?", re.I)
_CHANGED = re.compile(r"\s+(?:changed|went|moved|transitioned)\s+from\s+", re.I)
_TO = re.compile(r"\s+to\s+", re.I)
TEXT_MAX = 400  # a title or a state sentence is short: longer text is not searched whole


def title_transition(title: str) -> tuple[str, str] | None:
    """(component, state) of a title "<component> is now <state>" ("Public website is now
    a partial outage", "API is down"); None for any other title."""
    text = title[:TEXT_MAX]
    for m in _COPULA.finditer(text):
        component = text[:m.start()].strip(" -–—:")
        state = state_at(text[m.end():])
        if component and state:
            return component, state
    return None


def text_transition(text: str) -> tuple[str, str, str] | None:
    """(component, from, to) of "<component> changed from <state> to <state>"."""
    text = text[:TEXT_MAX]
    m = _CHANGED.search(text)
    if not m:
        return None
    component, rest = text[:m.start()].strip(" -–—:"), text[m.end():]
    before = state_at(rest)
    if not before:
        return None
    for to in _TO.finditer(rest):
        after = state_at(rest[to.end():])
        if after and state_at(rest[:to.start()]) == before:
            return component, before, after
    return None


# --- state changes and component lists in JSON ----------------------------------------------

FROM_TO = (("from", "to"), ("old_status", "new_status"), ("from_status", "to_status"),
           ("old_state", "new_state"), ("previous_status", "new_status"),
           ("previous_state", "current_state"))
NAME_KEYS = ("label", "public_name", "component_name", "display_name", "name", "title",
             "component", "service", "service_name", "resource", "monitor")
AT_KEYS = ("at", "changed_at", "created_at", "timestamp", "time", "date", "occurred_at",
           "updated_at", "createdAt")
COMPONENT_LISTS = ("components", "services", "resources", "monitors", "systems", "sites",
                   "checks", "status_page_resources", "products")
STATE_KEYS = ("status", "state", "current_status", "aggregate_state", "health")


def json_transition(rec: dict[str, Any]) -> tuple[str, str | None, str] | None:
    """(component, from, to) of a state-change record; None for any other record."""
    for before_key, after_key in FROM_TO:
        if after_key in rec and before_key in rec:
            after = state_of(rec.get(after_key))
            if after is None:
                return None
            name = as_text(pick(rec, NAME_KEYS))
            return (name, state_of(rec.get(before_key)), after) if name else None
    return None


def component_state(rec: dict[str, Any]) -> tuple[str, str] | None:
    """(name, state) of a component record ``{"name", "status": "operational"}``."""
    name = as_text(pick(rec, NAME_KEYS))
    state = state_of(pick(rec, STATE_KEYS))
    return (name, state) if name and state else None
