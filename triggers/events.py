"""Re-assessment trigger events: what a change means for an assessment.

The vocabulary is defined here and only here: the trigger types (``TriggerType``,
``TRIGGER_TYPES``) and severities (``Severity``, ``SEVERITIES``, lowest first). The
config, the CLI, the web UI and the messages import them.

Events are frozen and past-tense: a rule returns them, the policy adjusts them, storage
persists them, the notifier delivers them. ``SCHEMA_VERSION`` travels with every stored
event.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any, Literal, get_args

SCHEMA_VERSION = 1

TriggerType = Literal["model_change", "new_capability", "subprocessor_change", "incident",
                      "training_data_change", "policy_change", "review_due"]
TRIGGER_TYPES: tuple[TriggerType, ...] = get_args(TriggerType)

Severity = Literal["low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)


def severity_rank(severity: str) -> int:
    """The position of a severity, lowest first; -1 for a word that is not one."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else -1  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class TriggerEvent:
    """A fired re-assessment trigger, before it is stored.

    ``basis`` is what makes the change unique (the old and new content hashes and the
    change keys); with source and type it forms the dedupe key, so the same change never
    fires twice. ``channels`` are extra routes added by rules; ``suppressed`` events are
    stored for the record but flag nothing and notify no one.
    """

    # Typed ``str`` rather than the Literals: the kinds' rule modules compute them; the
    # vocabulary is checked on construction instead.
    type: str
    severity: str
    title: str
    entities: tuple[str, ...] = ()
    evidence: dict[str, Any] = field(default_factory=dict)
    changes: tuple[dict[str, Any], ...] = ()
    basis: str = ""
    channels: tuple[str, ...] = ()
    suppressed: bool = False
    rule: str | None = None

    def __post_init__(self) -> None:
        if self.type not in TRIGGER_TYPES:
            raise ValueError(f"unknown trigger type {self.type!r}; valid: "
                             f"{', '.join(TRIGGER_TYPES)}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}; valid: "
                             f"{', '.join(SEVERITIES)}")

    def with_(self, **kw: Any) -> TriggerEvent:
        return replace(self, **kw)

    def dedupe_key(self, source_id: str) -> str:
        raw = f"{source_id}\x1f{self.type}\x1f{self.basis}"
        return hashlib.sha256(raw.encode()).hexdigest()[:40]

    def to_dict(self) -> dict[str, Any]:
        """The ``triggers`` item of ``reassess diff --json``."""
        return {"type": self.type, "severity": self.severity, "title": self.title,
                "entities": list(self.entities), "evidence": self.evidence}
