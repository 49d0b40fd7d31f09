"""The default rule for the ``incidents`` kind: new incidents and impact escalations.

Severity policy (pure, data below):

* impact given: critical → critical, major → high, minor → medium, none → low;
* no impact: inferred from the title (and, failing that, the latest update): data
  exposure / breach / unauthorized access / security incident → critical; security issue,
  outage, unavailable, down → high; anything else → medium;
* security words (in the title or the latest update) raise any severity to their level.

A new incident fires ``incident`` once: its basis is the incident id, so the same incident
seen again — after a feed reshuffle, after it dropped out of the feed's window and came
back, after a bot wall stood in for the page — never fires twice (the stored trigger's
dedupe key is the source, the type and the basis). One that was in the first document
seen (and so never fired) and comes back is older than the newest incident of the
document before it (the kind's diff marks it ``older``): closed, it fires nothing.
A modified incident fires again only when its escalation level rises — the impact
(minor → major) or, for feeds with no impact, the level read from the title and security
words — with the new level in the basis.
Status updates, resolutions and removals fire nothing. Scheduled maintenance never fires:
it is planned work, not an incident, and owners would learn to ignore the noise.

Components (``sources/incidents/components.py``): a component's change of state fires
only when it goes into a worse state (operational → degraded, degraded → major outage); a
recovery, a component measured for the first time, an unknown reading or maintenance
fires nothing. A component that a component list shows in a bad state fires when it
enters it; its basis holds the document it was not yet bad in, since its name alone does
not tell one outage of it from the next.

Entities: the incident's title first, then the components it affects.

Shared feeds of AI incident reports (the source's ``match_names: true``): a report fires
only when its title, latest text or components name one of the vendor's names (its name
and ``aliases``, ``RuleContext.names``) as a whole word, case ignored; the names it
matched go in the evidence. With no names, nothing fires.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sources.base import Change
from sources.incidents.components import worse

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
    """The title first, then the affected components (each once)."""
    names = [str(inc.get("title") or inc.get("id")), *(inc.get("components") or ())]
    seen: set[str] = set()
    out = []
    for name in names:
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            out.append(name)
    return tuple(out)


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
    if inc.get("kind") in ("transition", "component"):
        now = str(inc.get("state") or "").replace("_", " ")
        was = inc.get("was")
        return f"{str(was).replace('_', ' ')} → {now}" if was else now
    parts = [inc.get("impact") or severity, inc.get("status")]
    return ", ".join(p for p in parts if p)


@lru_cache(maxsize=512)
def _name_rx(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.I)


def named(inc: dict[str, Any], names: Sequence[str]) -> list[str]:
    """The names (of ``names``) a report's title, latest text or components write."""
    text = " ".join([str(inc.get("title") or ""), _latest_text(inc),
                     *map(str, inc.get("components") or ())])
    return [n for n in dict.fromkeys(n.strip() for n in names)
            if len(n) >= 2 and _name_rx(n).search(text)]


def _matching(ctx: RuleContext) -> bool:
    return bool(getattr(ctx.settings, "match_names", False))


def incidents_rule(changes: Sequence[Change], ctx: RuleContext) -> list[TriggerEvent]:
    """New incidents fire ``incident``; an existing one fires again when its impact rises.
    With ``match_names``, only the reports that name the vendor."""
    events: list[TriggerEvent] = []
    matching = _matching(ctx)
    for change in changes:
        inc = change.after
        if not isinstance(inc, dict) or inc.get("maintenance"):
            continue
        found = named(inc, ctx.names) if matching else []
        if matching and not found:
            continue
        before = len(events)
        if change.op == "added":
            basis = _new_basis(inc, "older" in change.fields, ctx)
            if basis is None:
                continue
            severity = incident_severity(inc)
            events.append(_event(
                inc, severity, f"{ctx.vendor_name} incident: {inc.get('title')} "
                f"({_state(inc, severity)})", basis, change))
        elif change.op == "modified" and isinstance(change.before, dict):
            old, new = escalation_level(change.before), escalation_level(inc)
            if severity_rank(new) <= severity_rank(old):
                continue
            impact, old_impact = inc.get("impact"), change.before.get("impact")
            rose = impact in IMPACT_SEVERITY and impact != old_impact and severity_rank(
                IMPACT_SEVERITY[impact]) > severity_rank(IMPACT_SEVERITY.get(str(old_impact), old))
            basis = f"impact:{impact}" if rose else f"severity:{new}"
            if inc.get("kind") == "component":
                basis += f":{ctx.old_hash}"  # the next outage of the component is another
            events.append(_event(
                inc, new, f"{ctx.vendor_name} incident escalated: {inc.get('title')} "
                f"({old_impact or old} → {impact if rose else new})",
                f"incident:{inc.get('id')}:{basis}", change))
        if found:
            events[before:] = [e.with_(evidence={**e.evidence, "names": found})
                               for e in events[before:]]
    return events


CLOSED = ("resolved", "postmortem", "completed")


def _new_basis(inc: dict[str, Any], older: bool, ctx: RuleContext) -> str | None:
    """The basis of a new record's trigger, or None when it is no new incident: a
    recovery, a first measurement, an unknown reading; a record older than all the old
    document held (back in the feed's window, or from behind a bot wall) that is a closed
    incident or a change of state — an open one may be a concurrent, backdated incident."""
    kind = inc.get("kind")
    if kind == "transition" and (older or not worse(inc.get("was"), inc.get("state"))):
        return None
    if older and (inc.get("status") in CLOSED or inc.get("resolved")):
        return None
    if kind == "component":
        return f"incident:{inc.get('id')}:{ctx.old_hash}"
    return f"incident:{inc.get('id')}"
