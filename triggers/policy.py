"""Trigger policy: the ``rules:`` of the config applied to the events of one check (pure).

The built-in kind rules (``triggers.rules``) turn changes into events with a default
severity. The policy then runs, in order, the built-in policy rules (``BUILTIN_RULES``)
and the configured ``rules:``. For each event, every rule whose ``match`` holds applies:

* ``severity`` sets the event's severity (a later matching rule overrides an earlier one);
* ``suppress: true`` suppresses it: stored for the record, flags nothing, notifies no one;
* ``route`` adds channels to the ones the event is delivered to.

The names of the rules that applied are recorded on the event (``TriggerEvent.rule``).

All conditions of a ``match`` must hold; a list means any of its values:

* ``type``, ``vendor`` (vendor id), ``source`` (source id), ``kind``: equality;
* ``severity``: the event's severity at that point of the evaluation;
* ``entity``: a regex searched (case-insensitively) in each of the event's entities;
* ``words``: any of the words or phrases, case-insensitively and on word boundaries, in
  the title, the entities or the before/after text of the event's changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from config.schema import RuleConfig, RuleMatch
from sources.base import Change

from .events import TriggerEvent
from .rules import RuleContext

# Built-in policy rules run before the configured ones, which can override them. They
# only ever raise a severity (their match excludes the severities at or above theirs).
# Severity by kind (an incident's impact, a subprocessor added …) is the kind rules' job.
BUILTIN_RULES: tuple[RuleConfig, ...] = (
    RuleConfig(
        name="builtin:training-terms",
        match=RuleMatch(type=["policy_change"], severity=["low", "medium"],
                        words=["train our models", "training our models", "improve our models",
                               "model training", "training data", "used for training",
                               "use for training", "train models", "machine learning models"]),
        severity="high"),
)


@dataclass(frozen=True)
class Rule:
    """A rule ready to evaluate: its config, a display name and its compiled patterns."""

    config: RuleConfig
    name: str
    origin: str  # "builtin" or "config"
    entity: re.Pattern[str] | None
    words: re.Pattern[str] | None

    @classmethod
    def build(cls, config: RuleConfig, name: str, origin: str) -> Rule:
        match = config.match
        entity = re.compile(match.entity, re.IGNORECASE) if match.entity else None
        words = None
        if match.words:
            alternatives = "|".join(re.escape(w.strip()) for w in match.words if w.strip())
            words = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
        return cls(config=config, name=name, origin=origin, entity=entity, words=words)

    def matches(self, event: TriggerEvent, ctx: RuleContext, text: str) -> bool:
        m = self.config.match
        checks = ((m.type, event.type), (m.vendor, ctx.vendor_id), (m.source, ctx.source_id),
                  (m.kind, ctx.kind), (m.severity, event.severity))
        if any(allowed is not None and value not in allowed for allowed, value in checks):
            return False
        if self.entity is not None and not any(self.entity.search(e) for e in event.entities):
            return False
        return self.words is None or bool(self.words.search(text))

    def apply(self, event: TriggerEvent) -> TriggerEvent:
        c = self.config
        channels = tuple(dict.fromkeys((*event.channels, *c.route)))
        rule = f"{event.rule}, {self.name}" if event.rule else self.name
        return event.with_(severity=c.severity or event.severity,
                           suppressed=event.suppressed or c.suppress,
                           channels=channels, rule=rule)

    def to_dict(self, order: int) -> dict[str, Any]:
        c = self.config
        return {"order": order, "name": self.name, "origin": self.origin,
                "match": c.match.model_dump(exclude_none=True),
                "severity": c.severity, "suppress": c.suppress, "route": list(c.route)}


class Policy:
    """The effective rule set: built-in policy rules, then the configured ones, in order."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)

    @classmethod
    def build(cls, configured: Iterable[RuleConfig] = (), *, builtin: bool = True) -> Policy:
        rules = [Rule.build(r, r.name or f"builtin {i}", "builtin")
                 for i, r in enumerate(BUILTIN_RULES if builtin else (), 1)]
        rules += [Rule.build(r, r.name or f"rule {i}", "config")
                  for i, r in enumerate(configured, 1)]
        return cls(rules)

    def apply(self, events: Sequence[TriggerEvent], ctx: RuleContext,
              changes: Sequence[Change] = ()) -> list[TriggerEvent]:
        """The events with every matching rule applied, in order."""
        result = []
        for event in events:
            text = event_text(event, changes)
            for rule in self.rules:
                if rule.matches(event, ctx, text):
                    event = rule.apply(event)
            result.append(event)
        return result

    def to_list(self) -> list[dict[str, Any]]:
        return [rule.to_dict(i) for i, rule in enumerate(self.rules, 1)]


def event_text(event: TriggerEvent, changes: Sequence[Change] = ()) -> str:
    """What ``words`` are searched in: title, entities, the before/after of the changes.

    The event's own changes when it carries them, else all the changes of the check.
    """
    parts = [event.title, *event.entities]
    items = event.changes or tuple(c.to_dict() for c in changes)
    for item in items:
        for side in ("before", "after"):
            value = item.get(side)
            if value is not None:
                parts.append(_flatten(value))
    return "\n".join(parts)


def _flatten(value: Any) -> str:
    if isinstance(value, dict):
        return " ".join(_flatten(v) for v in value.values())
    if isinstance(value, list | tuple):
        return " ".join(_flatten(v) for v in value)
    return str(value)


def apply_rules(events: Sequence[TriggerEvent], ctx: RuleContext, changes: Sequence[Change],
                configured: Iterable[RuleConfig] = ()) -> list[TriggerEvent]:
    """Built-in policy rules then ``configured``, over ``events`` (a convenience)."""
    return Policy.build(configured).apply(events, ctx, changes)
