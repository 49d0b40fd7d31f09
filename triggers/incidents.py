"""The default rule for the ``incidents`` kind: new incidents and impact escalations.

Severity policy (pure, data below):

* impact given: critical → critical, major → high, minor → medium, none → low;
* no impact: inferred from the title (and, failing that, the latest update): data
  exposure / breach / unauthorized access / security incident → critical; security issue,
  outage, unavailable, down → high; anything else → medium;
* security words (in the title or the latest update) raise any severity to their level.

A new incident fires ``incident`` once: its basis is the incident id, so the same incident
seen again after a feed reshuffle never fires twice. A modified incident fires again only
when its escalation level rises — the impact (minor → major) or, for feeds with no impact,
the level read from the title and security words — with the new level in the basis.
Status updates, resolutions and removals fire nothing. Scheduled maintenance never fires:
it is planned work, not an incident, and owners would learn to ignore the noise.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sources.base import Change

from .events import TriggerEvent, severity_rank

if TYPE_CHECKING:
    from .rules import RuleContext

IMPACT_SEVERITY = {"critical": "critical", "major": "high", "minor": "medium", "none": "low",
                   "maintenance": "low"}

# (severity, pattern): the first that matches wins, so list the worst first.
SECURITY_WORDS: tuple[tuple[str, str], ...] = (
    ("critical", r"\bdata (breach|exposure|leak(age)?)\b|"
                 r"(?<!sla )(?<!slo )\bbreach(ed)?\b(?!\s+(of\s+)?(the\s+|our\s+)?(sla|slo))|"
                 r"\bunauthori[sz]ed (access|disclosure|use)\b|\bcompromised?\b|"
                 r"\bsecurity incident\b|\bexposed (customer|user|personal|account)\b|"
                 r"\b(customer|user|personal) (data|information) (was |were )?(exposed|leaked)\b|"
                 r"\bransomware\b|\bexfiltrat\w*"),
    ("high", r"\bsecurity (issue|event|vulnerability|advisory|problem|concern)\b|"
             r"(?<!401 )\bunauthori[sz]ed\b(?!\s*(\(?401\)?\s*)?(errors?|responses?|"
             r"status(es)?|exceptions?|codes?)\b)|\bsuspicious activity\b|\bmalicious\b|"
             r"\bvulnerabilit(y|ies)\b|"
             r"\b(harmful|unsafe) (output|content|responses?)\b"),
)
OUTAGE_WORDS: tuple[tuple[str, str], ...] = (
    ("high", r"\boutages?\b|\bunavailab\w*|\bunreachable\b|\binaccessible\b|\bdowntime\b|"
             r"\b(is|are|was|were|went|being|completely|fully)\s+down\b|\bmajor\b|"
             r"\bnot (loading|accessible|available|reachable|responding|working)\b|"
             r"\bunable to (access|connect|log ?in|sign ?in|use|load)\b|\bdata loss\b|"
             r"\bservice disruption\b|\b(failing|fails|failures?) (for all|globally)\b"),
    ("medium", r"\bdegrad\w*|\belevated\b|\bincreased (error|latency|failure)|\berrors?\b|"
               r"\blatency\b|\bslow\w*|\bdelay\w*|\bintermittent\b|\bpartial\b|\btimeouts?\b|"
               r"\bissues?\b|\bdisruption\b"),
)
_SECURITY = [(sev, re.compile(rx, re.I)) for sev, rx in SECURITY_WORDS]
_WORDS = [*_SECURITY, *((sev, re.compile(rx, re.I)) for sev, rx in OUTAGE_WORDS)]


def _match(text: str, table: list[tuple[str, re.Pattern[str]]]) -> str | None:
    for sev, rx in table:
        if rx.search(text):
            return sev
    return None


def _max(*severities: str | None) -> str:
    given = [s for s in severities if s]
    return max(given, key=severity_rank) if given else "medium"


def _latest_text(inc: dict[str, Any]) -> str:
    latest = inc.get("latest") or {}
    return str(latest.get("text") or "")


def incident_severity(inc: dict[str, Any]) -> str:
    """The severity of a new incident (see the module docstring)."""
    title, latest = str(inc.get("title") or ""), _latest_text(inc)
    security = _match(f"{title}\n{latest}", _SECURITY)
    impact = inc.get("impact")
    if impact in IMPACT_SEVERITY:
        return _max(IMPACT_SEVERITY[impact], security)
    return _max(_match(title, _WORDS) or _match(latest, _WORDS), security)


def escalation_level(inc: dict[str, Any]) -> str:
    """What must rise for an existing incident to fire again: the impact when given, else
    the level read from the title; security words in the latest update count either way."""
    title, latest = str(inc.get("title") or ""), _latest_text(inc)
    security = _match(f"{title}\n{latest}", _SECURITY)
    impact = inc.get("impact")
    if impact in IMPACT_SEVERITY:
        return _max(IMPACT_SEVERITY[impact], security)
    return _max(_match(title, _WORDS), security)


def _entities(inc: dict[str, Any]) -> tuple[str, ...]:
    components = tuple(inc.get("components") or ())
    return components or (str(inc.get("title") or inc.get("id")),)


def _event(inc: dict[str, Any], severity: str, title: str, basis: str,
           change: Change) -> TriggerEvent:
    latest = inc.get("latest") or {}
    evidence = {"incident_id": inc.get("id"), "title": inc.get("title"),
                "status": inc.get("status"), "impact": inc.get("impact"),
                "link": inc.get("link"), "created": inc.get("created"),
                "latest_update": latest.get("text")}
    return TriggerEvent(type="incident", severity=severity, title=title,
                        entities=_entities(inc), evidence=evidence,
                        changes=(change.to_dict(),), basis=basis)


def _state(inc: dict[str, Any], severity: str) -> str:
    parts = [inc.get("impact") or severity, inc.get("status")]
    return ", ".join(p for p in parts if p)


def incidents_rule(changes: Sequence[Change], ctx: RuleContext) -> list[TriggerEvent]:
    """New incidents fire ``incident``; an existing one fires again when its impact rises."""
    events: list[TriggerEvent] = []
    for change in changes:
        inc = change.after
        if not isinstance(inc, dict) or inc.get("maintenance"):
            continue
        if change.op == "added":
            severity = incident_severity(inc)
            events.append(_event(
                inc, severity, f"{ctx.vendor_name} incident: {inc.get('title')} "
                f"({_state(inc, severity)})", f"incident:{inc.get('id')}", change))
        elif change.op == "modified" and isinstance(change.before, dict):
            old, new = escalation_level(change.before), escalation_level(inc)
            if severity_rank(new) <= severity_rank(old):
                continue
            impact, old_impact = inc.get("impact"), change.before.get("impact")
            rose = impact in IMPACT_SEVERITY and impact != old_impact and severity_rank(
                IMPACT_SEVERITY[impact]) > severity_rank(IMPACT_SEVERITY.get(str(old_impact), old))
            basis = f"impact:{impact}" if rose else f"severity:{new}"
            events.append(_event(
                inc, new, f"{ctx.vendor_name} incident escalated: {inc.get('title')} "
                f"({old_impact or old} → {impact if rose else new})",
                f"incident:{inc.get('id')}:{basis}", change))
    return events
