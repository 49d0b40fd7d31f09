"""The default rule of the ``model_card`` kind: at most one event per trigger type a check.

Front-matter fields by name: ``base_model`` → ``model_change`` (high); model name,
title, version → ``model_change`` (medium); ``datasets`` and training-data fields →
``training_data_change`` (high when a dataset is added); ``license`` and gating →
``policy_change`` (high when the licence itself changes); ``pipeline_tag``, new
``language`` values or capability ``tags`` → ``new_capability``; ``model-index`` and
``metrics`` → ``model_change`` (low, medium when results come or go); cosmetic fields
(widget, thumbnail …) fire nothing; any other field → ``model_change`` (low).

Sections by heading: training data → ``training_data_change``; capabilities and
intended use → ``new_capability`` when text is added (``model_change`` low when only
removed); limitations, evaluation, safety → ``model_change`` (low, "behaviour
documentation changed"); model details → ``model_change`` (medium); licence and terms →
``policy_change``; anything else → ``model_change`` (low). Within an edited section, a
changed "Label: value" line is judged by its label (a "License:" line is a policy
change wherever it stands), and text about training on customer data is a
``training_data_change`` (high).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sources.base import Change

from .card_sections import CAPABILITY_WORDS, LABEL, Finding, section_findings
from .events import TriggerEvent, severity_rank

if TYPE_CHECKING:
    from .rules import RuleContext


_COSMETIC = {"widget", "thumbnail", "emoji", "colorfrom", "colorto", "pinned", "inference",
             "sdk", "sdk_version", "app_file", "short_description"}
_BASE = re.compile(r"^(base_model\w*|finetuned_from|fine_tuned_from|parent_model|base)$")
_IDENTITY = re.compile(r"^(title|name|model_name|model_id|model|version|model_version|model_type|"
                       r"architecture|model_family|new_version|pretty_name|release_date)$")
_DATA = re.compile(r"^(datasets?|training_data\w*|train_data\w*|pretraining_data|"
                   r"knowledge_cutoff|data_cutoff|training_cutoff|cutoff)$")
_POLICY = re.compile(r"^(licen[cs]e\w*|gated|extra_gated\w*|terms\w*|acceptable_use\w*)$")
_CAPABILITY_FIELD = re.compile(r"^(\w*modalit\w*|capabilit\w*|features?|tools?|context_window|"
                               r"context_length|max_\w*tokens|supported_\w+)$")
_EVAL = re.compile(r"^(model_index|eval_results|metrics|results)$")
def _norm(key: str) -> str:
    return re.sub(r"[\s-]+", "_", key.strip().casefold())


def _strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {v for v in value if isinstance(v, str)}
    return set()


def _added(change: Change) -> set[str]:
    return _strings(change.after) - _strings(change.before)


def field_findings(change: Change) -> list[Finding]:
    """What one front-matter field change means."""
    key = _norm(change.key)
    names = tuple(sorted(_strings(change.before) | _strings(change.after)))
    if key in _COSMETIC:
        return []
    if _BASE.match(key):
        return [("model_change", "high", f"base model {_arrow(change)}", names)]
    if _IDENTITY.match(key):
        return [("model_change", "medium", f"{change.key} {_arrow(change)}", names)]
    if _DATA.match(key):
        added = tuple(sorted(_added(change)))
        level = "high" if added else "medium"
        return [("training_data_change", level, f"{change.key} {_arrow(change)}",
                 tuple(sorted(set(added) | (_strings(change.before) - _strings(change.after)))))]
    if _POLICY.match(key):
        level = "high" if key in ("license", "licence") and change.op == "modified" else "medium"
        return [("policy_change", level, f"{change.key} {_arrow(change)}", ())]
    if _EVAL.match(key):
        same = change.op == "modified" and _metric_keys(change.before) == _metric_keys(change.after)
        level = "low" if same else "medium"
        return [("model_change", level, f"{change.key} (evaluation results) changed",
                 _index_names(change))]
    if key == "pipeline_tag":
        if change.after:
            return [("new_capability", "medium", f"pipeline_tag {_arrow(change)}", ())]
        return [("model_change", "low", "pipeline_tag removed", ())]
    if key in ("language", "languages"):
        languages = sorted(_added(change))
        if languages:
            return [("new_capability", "medium", f"languages added: {', '.join(languages)}", ())]
    if _CAPABILITY_FIELD.match(key):
        if _added(change) or (change.op == "added" and change.after):
            return [("new_capability", "medium", f"{change.key} {_arrow(change)}", ())]
        return [("model_change", "low", f"{change.key} {_arrow(change)}", ())]
    if key == "tags":
        found = sorted(t for t in _added(change) if CAPABILITY_WORDS.search(t))
        if found:
            return [("new_capability", "medium", f"tags added: {', '.join(found)}", ())]
    return [("model_change", "low", f"{change.key} changed", ())]


def _metric_keys(value: Any) -> set[str]:
    """What a model-index or metrics list measures, without the values."""
    out: set[str] = set()
    for entry in value if isinstance(value, list) else []:
        if not isinstance(entry, dict):
            out.add(str(entry))
            continue
        for result in entry.get("results") or []:
            if not isinstance(result, dict):
                continue
            task, data = result.get("task") or {}, result.get("dataset") or {}
            for metric in result.get("metrics") or []:
                if isinstance(metric, dict) and isinstance(task, dict) and isinstance(data, dict):
                    out.add("|".join(str(x) for x in (entry.get("name"), task.get("type"),
                                                        data.get("name"), data.get("type"),
                                                        metric.get("type"), metric.get("name"))))
    return out


def _index_names(change: Change) -> tuple[str, ...]:
    names: set[str] = set()
    for value in (change.before, change.after):
        for item in value if isinstance(value, list) else []:
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                names.add(item["name"])
    return tuple(sorted(names))


def _arrow(change: Change) -> str:
    def show(v: Any) -> str:
        if isinstance(v, list):
            return ", ".join(str(x) for x in v[:4]) + (" …" if len(v) > 4 else "")
        return "—" if v is None else str(v)[:80]
    if change.op == "modified" and isinstance(change.before, list) and isinstance(
            change.after, list):
        plus = [f"+{x}" for x in change.after if x not in change.before]
        minus = [f"−{x}" for x in change.before if x not in change.after]
        return " ".join(str(x)[:80] for x in (plus + minus)[:6])
    if change.op == "added":
        return f"added: {show(change.after)}"
    if change.op == "removed":
        return f"removed (was {show(change.before)})"
    return f"{show(change.before)} → {show(change.after)}"


def _field_values(changes: Sequence[Change]) -> set[str]:
    """Every string a changed field held before or after: lines that show them are echoes."""
    out: set[str] = set()
    for change in changes:
        if change.path == "field":
            for value in (change.before, change.after):
                out |= {s.casefold() for s in _strings(value)}
    return out


def _only_field_values(change: Change, values: set[str]) -> bool:
    """A section edit whose changed lines only show changed field values (a tag list, a
    "License: mit" line under the title of a Hub page)."""
    if change.op != "modified" or not values or change.fields:
        return False
    before = str(change.before).split("\n")
    after = str(change.after).split("\n")
    changed = [x for x in after if x not in before] + [x for x in before if x not in after]
    for line in changed:
        text = line.removeprefix("- ").strip()
        label = LABEL.match(text)
        bare = text[label.end(1):].lstrip(" :|") if label else text
        if text.casefold() not in values and bare.casefold() not in values:
            return False
    return True


def _renames(changes: Sequence[Change]) -> list[tuple[str, str]]:
    """(old, new) model names from changed identity fields, longest first."""
    pairs = [(c.before, c.after) for c in changes if c.path == "field" and c.op == "modified"
             and _IDENTITY.match(_norm(c.key)) and isinstance(c.before, str)
             and isinstance(c.after, str) and len(c.before) >= 3]
    pairs += [(a.rsplit("/", 1)[-1].strip(), b.rsplit("/", 1)[-1].strip()) for a, b in pairs
              if "/" in a and "/" in b]
    return sorted({p for p in pairs if len(p[0]) >= 3 and p[0] != p[1]}, key=lambda p: -len(p[0]))


def _only_renamed(change: Change, renames: list[tuple[str, str]]) -> bool:
    """A section edit that only replaces the model's old name by its new one."""
    if change.op != "modified" or not renames or change.fields:
        return False
    text = str(change.before)
    for old, new in renames:
        text = text.replace(old, new)
    return text == change.after


_PREFIX = {"model_change": "Model changed", "training_data_change": "Training data changed",
           "new_capability": "New capability", "policy_change": "Model licence/terms changed"}


def model_card_rule(changes: Sequence[Change], ctx: RuleContext) -> list[TriggerEvent]:
    """Findings of all changes, grouped into one event per trigger type."""
    grouped: dict[str, list[tuple[Finding, Change]]] = {}
    renames = _renames(changes)
    values = _field_values(changes)
    for change in changes:
        if change.path == "field":
            findings = field_findings(change)
        elif _only_field_values(change, values):
            continue
        elif _only_renamed(change, renames):
            findings = [("model_change", "medium", f"model renamed in “{change.key}”", ())]
        else:
            findings = section_findings(change)
        for finding in findings:
            if finding[0]:
                grouped.setdefault(finding[0], []).append((finding, change))
    events = []
    for kind in sorted(grouped):
        items = sorted(grouped[kind], key=lambda fc: -severity_rank(fc[0][1]))
        level = items[0][0][1]
        reasons = list(dict.fromkeys(f[2] for f, _ in items))
        prefix = _PREFIX[kind] if kind != "model_change" or level != "low" else (
            "Model documentation changed")
        more = f" (+{len(reasons) - 1} more)" if len(reasons) > 1 else ""
        involved = list({id(c): c for _, c in items}.values())
        keys = ",".join(sorted({f"{c.path}:{c.op}:{c.key}" for c in involved}))
        events.append(TriggerEvent(
            type=kind, severity=level, title=f"{prefix}: {reasons[0]}{more}",
            entities=tuple(dict.fromkeys(e for f, _ in items for e in f[3])),
            evidence={"reasons": reasons[:20], "changes": len(involved)},
            changes=tuple(c.to_dict() for c in involved[:50]),
            basis=f"{ctx.old_hash}>{ctx.new_hash}|{kind}|{keys}", rule="default:model_card",
        ))
    return events
