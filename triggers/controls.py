"""The control mapping: which framework controls a trigger is evidence for (pure).

``controls.yaml`` beside this module is the shipped mapping; the configuration extends
it (``controls:``, an entry with the same framework and id replaces the shipped one) and
chooses the frameworks that apply (``frameworks:``). A control is its id, framework, a
one-line requirement in our own words and where its id was checked (a public copy's
address, or ``unchecked``) — see ``docs/evidence.md``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .events import severity_rank

MAPPING = Path(__file__).resolve().parent / "controls.yaml"
UNCHECKED = "unchecked"


@dataclass(frozen=True, slots=True)
class Control:
    id: str
    framework: str
    requirement: str
    checked: str
    when: tuple[tuple[str | None, str | None, str | None], ...]  # (type, kind, min severity)

    def applies(self, type_: str, kind: str | None, severity: str | None) -> bool:
        for t, k, s in self.when:
            if t is not None and t != type_:
                continue
            if k is not None and k != kind:
                continue
            if s is not None and (severity is None
                                  or severity_rank(severity) < severity_rank(s)):
                continue
            return True
        return False

    def to_dict(self) -> dict[str, str]:
        """A trigger's ``controls`` item in every JSON output."""
        return {"id": self.id, "framework": self.framework,
                "requirement": self.requirement, "checked": self.checked}


def control(entry: Mapping[str, Any]) -> Control:
    when = entry.get("when") or [{}]
    return Control(
        id=str(entry["id"]), framework=str(entry["framework"]),
        requirement=" ".join(str(entry["requirement"]).split()),
        checked=str(entry.get("checked") or UNCHECKED),
        when=tuple((w.get("type"), w.get("kind"), w.get("severity")) for w in when))


@functools.cache
def shipped() -> tuple[dict[str, str], tuple[Control, ...]]:
    """(framework key → title, controls) of the shipped mapping."""
    import yaml

    data = yaml.safe_load(MAPPING.read_text(encoding="utf-8"))
    return dict(data["frameworks"]), tuple(control(c) for c in data["controls"])


FRAMEWORKS = ("iso42001", "nist-ai-rmf", "eu-ai-act", "dora", "gdpr", "nis2")


class ControlMap:
    """The mapping in force: shipped controls, the configuration's own, the frameworks."""

    def __init__(self, frameworks: Sequence[str] | None = None,
                 extra: Iterable[Mapping[str, Any]] = ()) -> None:
        titles, base = shipped()
        found = {(c.framework, c.id): c for c in base}
        for entry in extra:
            c = control(entry)
            found[(c.framework, c.id)] = c
        self.titles = titles
        self.frameworks = tuple(frameworks) if frameworks is not None else tuple(titles)
        chosen = set(self.frameworks)
        self.controls = tuple(c for c in found.values() if c.framework in chosen)

    def for_trigger(self, type_: str, kind: str | None = None,
                    severity: str | None = None) -> list[dict[str, str]]:
        """The controls a trigger of this type (kind, severity) is evidence for, ordered
        by framework as configured, then id."""
        order = {f: i for i, f in enumerate(self.frameworks)}
        hits = [c for c in self.controls if c.applies(type_, kind, severity)]
        hits.sort(key=lambda c: (order.get(c.framework, 99), c.id))
        return [c.to_dict() for c in hits]

    def table(self) -> list[dict[str, Any]]:
        """Every control in force with the trigger matchers it applies to (docs, bundles)."""
        return [{**c.to_dict(), "when": [
            {k: v for k, v in zip(("type", "kind", "severity"), w, strict=True) if v}
            for w in c.when]} for c in self.controls]


@functools.cache
def default_mapping() -> ControlMap:
    return ControlMap()
