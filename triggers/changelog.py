"""Changelog classification and the default rule for the ``changelog`` kind (pure).

An entry's title and lines are split into statements; each statement is matched against
the built-in patterns of ``triggers/changelog_patterns.py`` (data, not code) plus the
source's own ``classify`` patterns:

* ``model_change`` — a model name with a release / default / deprecation / retirement verb,
  or phrases like "new model", "default model", "model … will be retired";
* ``new_capability`` — a capability (function calling, tool use, image input, audio,
  browsing, agents, fine-tuning, memory, code execution, file input, structured outputs,
  new endpoints, connectors) with an introduction verb ("added", "now supports",
  "introducing", "in beta");
* ``training_data_change`` — training on customer data, opt-outs, data retention periods;
* ``policy_change`` — terms, usage / privacy policies, DPA, SLA with a change verb.

Statements about fixes, docs and chores ("Fixed …", ``docs:``, ``chore(deps):``) never
classify, nor do those matching the source's ``exclude`` patterns.

The rule: a new entry fires one event per type it classifies as (basis: the entry key, so
a reshuffled feed never fires twice). An edited entry fires only for a type, or a named
model / capability, that its old text did not have. Removed entries (a feed keeping only
its latest N) and unclassified entries fire nothing. An "Unreleased" section is treated
like any entry: what it announces is worth knowing before the release.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sources.base import Change

from .changelog_patterns import (
    CAPABILITIES,
    CAPABILITY_VERBS,
    MODEL_HIGH,
    MODEL_NAMES,
    MODEL_PHRASES,
    MODEL_STRONG,
    MODEL_VERBS,
    MODEL_WEAK_CONTEXT,
    POLICY_TERMS,
    POLICY_VERBS,
    SECTION_VERBS,
    SKIP,
    SKIP_SECTIONS,
    TRAINING_DATA,
)
from .events import TriggerEvent

if TYPE_CHECKING:
    from .rules import RuleContext

TYPES = ("model_change", "new_capability", "training_data_change", "policy_change")
LABELS = {"model_change": "model change", "new_capability": "new capability",
          "training_data_change": "training-data change", "policy_change": "policy change"}
SEVERITY = {"model_change": "medium", "new_capability": "medium",
            "training_data_change": "high", "policy_change": "medium"}

_SECTION_WORDS = re.compile(
    r"^\W*(added|new|new features?|features?|feat|what'?s new|highlights|introduced|launch\w*|"
    r"new models?|new capabilities|deprecated|deprecations?|upcoming deprecations?|removed|"
    r"retired|retirements?|sunset|end of life|changed|changes|updated|updates|improved|"
    r"improvements?|enhancements?|fixed|fixes|bug ?fixes|security|chores?|misc\w*|other|"
    r"documentation|docs|breaking changes?|performance|internal|dependencies|refactor\w*|"
    r"tests?|build( system)?|ci|miscellaneous chores|reverts?)\W*$", re.I)
_SKIP_SECTION = re.compile(rf"^({SKIP_SECTIONS})$", re.I)
_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'`(\[])|\s+[•·]\s+")
MAX_SIGNALS = 30


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I)


_SKIP = [_rx(p) for p in SKIP]
_NAMES = [_rx(p) for p in MODEL_NAMES]
_MODEL_VERBS, _MODEL_HIGH = _rx(MODEL_VERBS), _rx(MODEL_HIGH)
_MODEL_STRONG, _MODEL_WEAK = _rx(MODEL_STRONG), _rx(MODEL_WEAK_CONTEXT)
_MODEL_PHRASES = [_rx(p) for p in MODEL_PHRASES]
_CAPS = {label: _rx(p) for label, p in CAPABILITIES.items()}
_CAP_VERBS = _rx(CAPABILITY_VERBS)
_TRAINING = {label: _rx(p) for label, p in TRAINING_DATA.items()}
_POLICY = {label: _rx(p) for label, p in POLICY_TERMS.items()}
_POLICY_VERBS = _rx(POLICY_VERBS)


def model_names(text: str) -> list[str]:
    """Model names written in ``text``, in order, overlapping mentions merged."""
    spans: list[tuple[int, int, str]] = []
    for rx in _NAMES:
        for m in rx.finditer(text):
            start, end = m.span("name") if "name" in rx.groupindex else m.span()
            name = text[start:end].rstrip(".,;:)`'\"”")
            named = "name" in rx.groupindex  # found by context: "add X model"
            if (named or any(ch.isdigit() for ch in name)) and not re.fullmatch(r"[\d.-]+",
                                                                                 name):
                spans.append((start, start + len(name), name))
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    out: list[str] = []
    last_end = -1
    for start, end, name in spans:
        if start >= last_end and name.lower() not in {n.lower() for n in out}:
            out.append(name)
        last_end = max(last_end, end)
    return out


def statements(title: str, lines: Sequence[str]) -> list[tuple[str, str]]:
    """The title and each line, split into sentences, each with the verb its section
    heading lends it ("Added", "Deprecated", "Removed" or "")."""
    out: list[tuple[str, str]] = []
    verb = ""
    for line in [title, *lines]:
        if _SECTION_WORDS.match(line or ""):
            word = re.sub(r"[^\w' ]+", "", line).strip().lower()
            verb = next((v for rx, v in SECTION_VERBS.items() if re.fullmatch(rx, word)), "")
            verb = "skip" if _SKIP_SECTION.match(word) else verb
            continue
        if verb != "skip":
            out.extend((s.strip()[:400], verb) for s in _SPLIT.split(line or "") if s.strip())
    return out


def _signal(kind: str, text: str, entities: Iterable[str], severity: str) -> dict[str, Any]:
    return {"type": kind, "text": text, "entities": list(dict.fromkeys(entities)),
            "severity": severity}


def _builtin(text: str, shown: str) -> list[dict[str, Any]]:
    """Built-in signals of one statement: ``text`` is matched (with its section verb),
    ``shown`` is what the signal quotes."""
    found: list[dict[str, Any]] = []
    names = model_names(text)
    caps = [label for label, rx in _CAPS.items() if rx.search(text)]
    caps = caps if caps and _CAP_VERBS.search(text) else []
    phrase = any(rx.search(text) for rx in _MODEL_PHRASES)
    model = phrase or bool(names and _MODEL_VERBS.search(text))
    # a price, a rate limit or a capability added to a model ("Added image input to X")
    # names the model without changing it, unless the verb is a release or retirement
    if model and not phrase and (_MODEL_WEAK.search(text) or caps):
        model = bool(_MODEL_STRONG.search(text))
    if model:
        high = bool(_MODEL_HIGH.search(text))
        found.append(_signal("model_change", shown, names, "high" if high else "medium"))
    if caps:
        found.append(_signal("new_capability", shown, caps, SEVERITY["new_capability"]))
    training = [label for label, rx in _TRAINING.items() if rx.search(text)]
    if training and not (re.search(r"fine[- ]?tun", text, re.I)
                         and not re.search(r"\b(opt|our models|retention)", text, re.I)):
        found.append(_signal("training_data_change", shown, training, "high"))
    policies = [label for label, rx in _POLICY.items() if rx.search(text)]
    if policies and _POLICY_VERBS.search(text):
        found.append(_signal("policy_change", shown, policies, SEVERITY["policy_change"]))
    return found


@lru_cache(maxsize=64)
def compile_rules(classify: tuple[tuple[str, tuple[str, ...]], ...] = (),
                  exclude: tuple[str, ...] = ()) -> tuple[tuple[tuple[str, re.Pattern[str]], ...],
                                                         tuple[re.Pattern[str], ...]]:
    """A source's own patterns, compiled once: ((type, regex), …) and exclusions."""
    extra = tuple((kind, _rx(p)) for kind, patterns in classify for p in patterns)
    return extra, tuple(_rx(p) for p in exclude)


def classify(title: str, lines: Sequence[str],
             extra: Mapping[str, Sequence[str]] | None = None, exclude: Sequence[str] = (),
             builtin: bool = True) -> list[dict[str, Any]]:
    """Signals of an entry: ``[{"type", "text", "entities", "severity"}, …]``, at most one per
    type and statement. ``extra`` adds patterns per trigger type; ``builtin=False`` keeps
    only them; ``exclude`` silences matching statements."""
    key = tuple(sorted((k, tuple(v)) for k, v in (extra or {}).items()))
    own, skip = compile_rules(key, tuple(exclude))
    signals: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for text, verb in statements(title, lines):
        if any(rx.search(text) for rx in (*_SKIP, *skip)):
            continue
        found = _builtin(f"{verb}: {text}" if verb else text, text) if builtin else []
        for kind, rx in own:
            m = rx.search(text)
            if m and all(s["type"] != kind for s in found):
                ents = model_names(text) or [m.group(0).strip()]
                found.append(_signal(kind, text, ents, SEVERITY.get(kind, "medium")))
        for sig in found:
            if (sig["type"], text) not in seen and len(signals) < MAX_SIGNALS:
                seen.add((sig["type"], text))
                signals.append(sig)
    return signals


def _grouped(signals: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for sig in signals:
        groups.setdefault(sig["type"], []).append(sig)
    return groups


def _entities(signals: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(e for s in signals for e in s["entities"]))


def _new_signals(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[dict]]:
    """Signals of an edited entry that bring a type or a named entity the old one lacked."""
    old = _grouped(before.get("signals") or [])
    fresh: dict[str, list[dict[str, Any]]] = {}
    for kind, sigs in _grouped(after.get("signals") or []).items():
        known = {e.lower() for e in _entities(old.get(kind, []))}
        if kind not in old:
            fresh[kind] = sigs
        else:
            new = [s for s in sigs if {e.lower() for e in s["entities"]} - known]
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
                "statements": [s["text"] for s in sigs[:5]]}
    return TriggerEvent(type=kind, severity=severity, title=title[:240],
                        entities=tuple(_entities(sigs) or [str(entry.get("title"))]),
                        evidence=evidence, changes=(change.to_dict(),), basis=basis)


def changelog_rule(changes: Sequence[Change], ctx: RuleContext) -> list[TriggerEvent]:
    """New (or newly classifiable) changelog entries fire their trigger types."""
    events: list[TriggerEvent] = []
    for change in changes:
        entry = change.after
        if not isinstance(entry, dict):
            continue
        if change.op == "added":
            groups, basis = _grouped(entry.get("signals") or []), f"entry:{change.key}"
        elif change.op == "modified" and isinstance(change.before, dict):
            groups = _new_signals(change.before, entry)
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
