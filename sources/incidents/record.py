"""An incident record, the one shape every reader gives (pure)::

    {"id", "kind", "title", "status", "impact", "maintenance", "created", "resolved",
     "components", "state", "was", "latest": {"status", "text", "at"} | None, "link"}

with statuses and impacts in one vocabulary, whatever the status page calls them.
``kind`` says what the record is: ``incident`` (an incident or maintenance the page
reports), ``transition`` (one component's change of state, ``was`` → ``state``, from a
state-change log) or ``component`` (a component a component list shows in a bad
``state``); see ``components.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ..read.json_records import as_text

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
_IMPACT_OF = {alias.replace("_", ""): level
              for level, aliases in IMPACTS.items() for alias in aliases}
# Spellings of the statuses above (instatus writes INPROGRESS, incident.io
# maintenance_in_progress), looked up without their underscores.
_STATUS_ALIASES = {"inprogress": "in_progress", "notstartedyet": "scheduled",
                   "maintenancescheduled": "scheduled", "maintenanceinprogress": "in_progress",
                   "maintenancecompleted": "completed"}

LATEST_MAX = 500

_STATUS_GAPS = re.compile(r"[\s-]+")


def normalise_status(value: Any) -> str | None:
    text = as_text(value)
    if not text:
        return None
    text = text.strip().lower()
    text = text if text.isalnum() else _STATUS_GAPS.sub("_", text)  # no space, no "-"
    return _STATUS_ALIASES.get(text.replace("_", ""), text)


def normalise_impact(value: Any) -> str | None:
    status = normalise_status(value)
    return _IMPACT_OF.get(status.replace("_", "")) if status else None


def record(ident: str, title: str | None, *, status: str | None = None,
           impact: str | None = None, maintenance: bool = False, created: str | None = None,
           resolved: str | None = None, components: Iterable[str] = (),
           latest: dict[str, Any] | None = None, link: str | None = None,
           kind: str = "incident", state: str | None = None,
           was: str | None = None) -> dict[str, Any]:
    """One incident in its canonical shape (every key always present)."""
    return {"id": ident, "kind": kind, "title": title or ident, "status": status,
            "impact": impact, "maintenance": maintenance, "created": created,
            "resolved": resolved, "components": sorted({c for c in components if c}),
            "state": state, "was": was, "latest": latest, "link": link}


def update(status: Any, text: str | None, at: Any) -> dict[str, Any]:
    """One update of an incident: its status, its text (cut short), when it was posted."""
    clean = " ".join((text or "").split())  # normalise_space, faster: same \s
    if len(clean) > LATEST_MAX:
        clean = clean[:LATEST_MAX].rstrip() + "…"
    return {"status": normalise_status(status), "text": clean or None, "at": at}


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


def status_in(title: str, text: str) -> str | None:
    """A status written in a title or at the start of a text ("[Resolved] …")."""
    found = _STATUS_IN_TEXT.search(title) or _STATUS_IN_TEXT.search(text[:200])
    return normalise_status(found.group(1)) if found else None


def impact_in(text: str) -> str | None:
    """An impact written in a text ("Impact: major")."""
    # every match holds "mpact" ("i" also matches "İ" and "ı" under re.I, "mpact" only
    # its capitals: tests/test_read.py)
    found = _IMPACT_IN_TEXT.search(text) if "mpact" in text.lower() else None
    return normalise_impact(found.group(1)) if found else None
