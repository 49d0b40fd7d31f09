"""The default rule of the ``changelog`` kind (pure).

The kind reports entries added, removed and edited; this rule judges them. The entries it
is given (added ones, both sides of edited ones) are classified here
(``changelog_classifier``), never at parse time: an unchanged entry costs no
classification. A source's ``classify``, ``exclude`` and ``builtin_rules`` options (its
settings, which the rule context carries) add patterns, silence statements or leave the
built-in patterns out.

A new entry fires one event per type it classifies as (basis: the entry key, so a
reshuffled feed never fires twice). An edited entry fires only for a type, or a named
model / capability, that its old text did not have. Removed entries (a feed keeping only
its latest N) and unclassified entries fire nothing. An "Unreleased" section is treated
like any entry: what it announces is worth knowing before the release.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from sources.base import Change
from sources.changelog import Settings as ChangelogSettings

from .changelog_classifier import TYPES, classify
from .events import TriggerEvent

if TYPE_CHECKING:
    from .rules import RuleContext

LABELS = {"model_change": "model change", "new_capability": "new capability",
          "training_data_change": "training-data change", "policy_change": "policy change"}


class Options(NamedTuple):
    """A source's classification options: extra patterns per type, exclusions, whether
    the built-in patterns apply."""

    extra: Mapping[str, Sequence[str]] = {}
    exclude: Sequence[str] = ()
    builtin: bool = True


def options_of(settings: object) -> Options:
    """The classification options of a changelog source's settings; the built-in
    patterns alone for anything else."""
    if not isinstance(settings, ChangelogSettings):
        return Options()
    return Options({str(kind): patterns for kind, patterns in settings.classify.items()},
                   settings.exclude, settings.builtin_rules)


def entry_signals(entry: Mapping[str, Any], options: Options = Options()) -> list[dict[str, Any]]:
    """The signals of one changelog entry (its title and text lines)."""
    return classify(str(entry.get("title") or ""), list(entry.get("text") or []),
                    options.extra, options.exclude, options.builtin)


def _grouped(signals: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for sig in signals:
        groups.setdefault(sig["type"], []).append(sig)
    return groups


def _entities(signals: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(e for s in signals for e in s["entities"]))


def _tags(signals: Iterable[dict[str, Any]]) -> set[str]:
    """What signals name, whatever the wording: capability tags, model names."""
    return {t for s in signals for t in s.get("tags") or (e.lower() for e in s["entities"])}


def _new_signals(before: list[dict[str, Any]], after: list[dict[str, Any]],
                 ) -> dict[str, list[dict]]:
    """Signals of an edited entry that bring a type or a named entity the old one lacked
    ("audio input" where it said "audio support" is the same capability)."""
    old = _grouped(before)
    fresh: dict[str, list[dict[str, Any]]] = {}
    for kind, sigs in _grouped(after).items():
        known = _tags(old.get(kind, []))
        if kind not in old:
            fresh[kind] = sigs
        else:
            new = [s for s in sigs if _tags([s]) - known]
            if new:
                fresh[kind] = new
    return fresh


def _event(kind: str, sigs: list[dict[str, Any]], entry: dict[str, Any], basis: str,
           change: Change, ctx: RuleContext) -> TriggerEvent:
    severity = max((s["severity"] for s in sigs),
                   key=("low", "medium", "high", "critical").index)
    first = sigs[0]["text"]
    title = f"{ctx.vendor_name}: {LABELS.get(kind, kind)} — {entry.get('title')}"
    if first != entry.get("title"):
        title += f": {first}"
    evidence = {"entry": entry.get("id"), "title": entry.get("title"),
                "date": entry.get("date"), "link": entry.get("link"),
                "statements": [s["text"] for s in sigs[:5]],
                "tags": sorted(_tags(sigs))}
    return TriggerEvent(type=kind, severity=severity, title=title[:240],
                        entities=tuple(_entities(sigs) or [str(entry.get("title"))]),
                        evidence=evidence, changes=(change.to_dict(),), basis=basis)


def changelog_rule(changes: Sequence[Change], ctx: RuleContext) -> list[TriggerEvent]:
    """New (or newly classifiable) changelog entries fire their trigger types."""
    # the source's settings, when the context carries them (``RuleContext.settings``)
    options = options_of(ctx.settings)
    events: list[TriggerEvent] = []
    for change in changes:
        entry = change.after
        if not isinstance(entry, dict):
            continue
        if change.op == "added":
            groups, basis = _grouped(entry_signals(entry, options)), f"entry:{change.key}"
        elif change.op == "modified" and isinstance(change.before, dict):
            groups = _new_signals(entry_signals(change.before, options),
                                  entry_signals(entry, options))
            texts = "\n".join(s["text"] for sigs in groups.values() for s in sigs)
            digest = hashlib.sha256(texts.encode()).hexdigest()[:16]
            basis = f"entry:{change.key}:edit:{digest}"
        else:
            continue
        events.extend(_event(kind, groups[kind], entry, basis, change, ctx)
                      for kind in sorted(groups, key=_order))
    return events


def _order(kind: str) -> tuple[int, str]:
    return (TYPES.index(kind) if kind in TYPES else len(TYPES), kind)
