"""The default rule of the ``model_card`` kind: a card's facts judged by what they state,
at most one event per trigger type a check.

Front-matter fields by name: ``base_model`` → ``model_change`` (high); model name,
title, version → ``model_change`` (medium); ``datasets`` and training-data fields →
``training_data_change`` (high when a dataset is added); ``license`` (and
``license_name``) and gating → ``policy_change`` (high when the licence itself changes),
its new id the entity; a ``pipeline_tag`` naming a capability the old one did not, new
``language`` values or capability ``tags`` → ``new_capability``; ``model-index`` →
``model_change`` (low when values change, medium when results come or go; a metric
renamed is nothing); links, widgets, the library and other tags fire nothing; any other
field → ``model_change`` (low).

Facts of the body (a "License | MIT" row, a "**Base model:** x" line) by the field their
label names: the same as the front matter's, and the value as written is the entity (the
licence "DeepSeek License", the dataset "LLM-jp v3.1", the modality "Image"). A row
whose label is a capability ("Tool calling") fires ``new_capability`` when its value
turns to yes. A fact no field names (a hyper-parameter, a token count) fires nothing.

Variants (rows of a variants table, by id): one added → ``model_change`` (medium) named
by its id ("ai/gemma3:270M-F16"), removed → ``model_change`` (low); a variant's
parameters or context window changed → ``model_change`` (low), a modality added →
``new_capability``; its quantization label, memory estimate or file size fire nothing.

Prose: see ``triggers/card_sections.py``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sources.base import Change
from sources.model_card.claims import capabilities_in, same_claim, same_value
from sources.model_card.facts import items, key_role

from .card_sections import Finding, prose_findings
from .events import TriggerEvent, severity_rank

if TYPE_CHECKING:
    from .rules import RuleContext


_COSMETIC = {"widget", "thumbnail", "emoji", "colorfrom", "colorto", "pinned", "inference",
             "sdk", "sdk_version", "app_file", "short_description", "library_name", "metrics",
             "co2_eq_emissions", "model_creator", "quantized_by", "provider", "developer"}
_BASE = re.compile(r"^(base_model\w*|finetuned_from|fine_tuned_from|parent_model|base)$")
_IDENTITY = re.compile(r"^(title|name|model_name|model_id|model|version|model_version|model_type|"
                       r"architecture|model_family|new_version|pretty_name)$")
_DATES = re.compile(r"^(release_date|deprecation_date)$")
_DATA = re.compile(r"^(datasets?|training_data\w*|train_data\w*|pretraining_data)$")
_CUTOFF = re.compile(r"^(knowledge_cutoff|data_cutoff|training_cutoff|cutoff)$")
_LICENCE = re.compile(r"^(licen[cs]e|licen[cs]e_name)$")
_POLICY = re.compile(r"^(gated|extra_gated\w*|terms\w*|acceptable_use\w*)$")
_LINK = re.compile(r"_(link|url|urls|links)$")
_LISTS = re.compile(r"^(\w*modalit\w*|input_modalities|output_modalities|languages?|"
                    r"capabilities|features?|tools?|supported_\w+)$")
_SIZES = re.compile(r"^(parameters|context_window|context_length|max_output|max_\w*tokens)$")
_EVAL = re.compile(r"^(model_index|eval_results|results)$")
_EMPTY = {"", "-", "—", "–", "n/a", "na", "none", "unknown", "tbd", "?"}
_YES = re.compile(r"^(✅|✓|✔|☑|yes|y|true|supported|available|enabled|on|ga|beta|preview|"
                  r"generally available|input|output)(?!\w)", re.I)


def _norm(key: str) -> str:
    return re.sub(r"[\s-]+", "_", key.strip().casefold())


def _role(key: str) -> str:
    """The field a fact key names ("cutoff_date" → ``knowledge_cutoff``), else the key's
    words."""
    return key_role(_norm(key)) or re.sub(r"_\d{1,2}$", "", _norm(key))


def _strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {v for v in value if isinstance(v, str)}
    return set()


def _items(value: Any) -> dict[str, str]:
    """The items a field or fact lists ("Text, Image" → text, image), keyed folded."""
    out: dict[str, str] = {}
    for text in sorted(_strings(value)):
        for part in items(text) if isinstance(value, str) else [text]:
            if part.casefold() not in _EMPTY:
                out.setdefault(part.casefold(), part)
    return out


def _delta(change: Change) -> tuple[list[str], list[str]]:
    """(items added, items removed) of a listed value; an item respelt is neither."""
    before, after = _items(change.before), _items(change.after)
    came = [after[k] for k in sorted(after.keys() - before.keys())]
    gone = [before[k] for k in sorted(before.keys() - after.keys())]
    respelt = {(a, b) for a in came for b in gone if same_value(b, a)}
    return ([a for a in came if not any(a == x for x, _ in respelt)],
            [b for b in gone if not any(b == y for _, y in respelt)])


def _added(change: Change) -> list[str]:
    return _delta(change)[0]


def _removed(change: Change) -> list[str]:
    return _delta(change)[1]


def _present(value: Any) -> bool:
    return any(s.strip().casefold() not in _EMPTY for s in _strings(value)) or (
        value is not None and not isinstance(value, str | list))


def field_findings(change: Change) -> list[Finding]:
    """What one front-matter field or body fact change means."""
    key = _role(change.key) if change.path == "fact" else _norm(change.key)
    if key in _COSMETIC or _LINK.search(key) or _reworded(change):
        return []
    named = _by_name(key, change)
    if named is not None:
        return named
    if change.path == "fact":
        return _flag(change)
    if key == "tags":
        return _tags(change)
    return [("model_change", "low", f"{change.key} changed", ())]


def _reworded(change: Change) -> bool:
    """A value of a sentence or more written another way ("has a cutoff" → "has the
    cutoff"), or only in another case or spacing."""
    before, after = change.before, change.after
    if not (isinstance(before, str) and isinstance(after, str)):
        return False
    if same_value(before, after):
        return True
    return min(len(before.split()), len(after.split())) >= 4 and same_claim(before, after)


def _by_name(key: str, change: Change) -> list[Finding] | None:
    """Findings of a field the rule knows by name, else None."""
    what = f"{change.key} {_arrow(change)}"
    if _BASE.match(key):
        names = tuple(sorted(_strings(change.before) | _strings(change.after)))
        return [("model_change", "high", f"base model {_arrow(change)}", names)]
    if _IDENTITY.match(key):
        names = tuple(sorted(_strings(change.before) | _strings(change.after)))
        level = "low" if key == "architecture" else "medium"
        return [("model_change", level, what, names)]
    if _DATES.match(key):
        return [("model_change", "medium", what, tuple(_strings(change.after)))]
    if _DATA.match(key):
        added = _added(change)
        listed = key.startswith("dataset")
        names = tuple(added + _removed(change)) if listed else ()
        return [("training_data_change", "high" if added and listed else "medium", what, names)]
    if _CUTOFF.match(key):
        return [("training_data_change", "medium", what, ())]
    if _LICENCE.match(key):
        level = "high" if change.op == "modified" or change.path == "fact" else "medium"
        return [("policy_change", level, what, tuple(_strings(change.after)))]
    if _POLICY.match(key):
        return [("policy_change", "medium", what, ())]
    if _EVAL.match(key):
        return _evaluation(change)
    if key == "pipeline_tag":
        before = {tag for s in _strings(change.before) for _, tag in capabilities_in(s)}
        gained = [s for s in _strings(change.after)
                  if {tag for _, tag in capabilities_in(s)} - before]
        if gained:
            return [("new_capability", "medium", f"pipeline_tag {_arrow(change)}",
                     tuple(gained))]
        return []  # another name for the same task
    if _LISTS.match(key):
        added = _added(change)
        if added:
            return [("new_capability", "medium", what, tuple(added))]
        return [("model_change", "low", what, ())] if _removed(change) else []
    if _SIZES.match(key):
        return [("model_change", "low", what, ())]
    return None


def _flag(change: Change) -> list[Finding]:
    """A fact whose label is a capability ("Tool calling | ✅"), or a modality whose value
    says it is an input or output ("Image | Input only"), turned on or off."""
    label = re.sub(r"_\d{1,2}$", "", _norm(change.key)).replace("_", " ")
    value = " ".join(_strings(change.after) | _strings(change.before)).casefold()
    io = [f"{label} {side}" for side in ("input", "output") if side in value]
    if not any(capabilities_in(x) for x in [label, *io]):
        return []
    was = any(_YES.match(s.strip()) for s in _strings(change.before))
    now = any(_YES.match(s.strip()) for s in _strings(change.after))
    if now and not was:
        return [("new_capability", "medium", f"{label}: {_arrow(change)}", (label,))]
    if was and not now:
        return [("model_change", "low", f"{label}: {_arrow(change)}", ())]
    return []


def _tags(change: Change) -> list[Finding]:
    """Tags: a capability tag added is a new capability; other tags are labels."""
    found = [t for t in sorted(_strings(change.after) - _strings(change.before))
             if ":" not in t and capabilities_in(t)]
    if found:
        return [("new_capability", "medium", f"tags added: {', '.join(found)}", tuple(found))]
    return []


def _evaluation(change: Change) -> list[Finding]:
    """``model-index`` results: values changed (low), results come or gone (medium); the
    same values under other metric names are nothing."""
    before, after = _metrics(change.before), _metrics(change.after)
    names = _index_names(change)
    if set(before) != set(after):
        if sorted(before.values()) == sorted(after.values()):
            return []
        return [("model_change", "medium", f"{change.key} (evaluation results) changed", names)]
    if before == after:
        return []
    return [("model_change", "low", f"{change.key} (evaluation results) changed", names)]


def _metrics(value: Any) -> dict[str, str]:
    """What a model-index or metrics list measures → its value."""
    out: dict[str, str] = {}
    for entry in value if isinstance(value, list) else []:
        if not isinstance(entry, dict):
            out[str(entry)] = ""
            continue
        for result in entry.get("results") or []:
            if not isinstance(result, dict):
                continue
            task, data = result.get("task") or {}, result.get("dataset") or {}
            for metric in result.get("metrics") or []:
                if isinstance(metric, dict) and isinstance(task, dict) and isinstance(data, dict):
                    key = "|".join(str(x) for x in (entry.get("name"), task.get("type"),
                                                    data.get("name"), data.get("type"),
                                                    metric.get("type"), metric.get("name")))
                    out[key] = str(metric.get("value"))
    return out


def _index_names(change: Change) -> tuple[str, ...]:
    names: set[str] = set()
    for value in (change.before, change.after):
        for item in value if isinstance(value, list) else []:
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                names.add(item["name"])
    return tuple(sorted(names))


def variant_findings(change: Change) -> list[Finding]:
    """A variant of the model (a row of a variants table, by id) added, removed or changed."""
    record = change.after if change.op == "added" else change.before
    ids = tuple(str(v) for k, v in (record.items() if isinstance(record, dict) else ())
                if v and key_role(k) in ("model_id", "version"))
    if change.op == "added":
        return [("model_change", "medium", f"variant {change.key} added", (change.key, *ids))]
    if change.op == "removed":
        return [("model_change", "low", f"variant {change.key} removed", (change.key, *ids))]
    before, after = change.before or {}, change.after or {}
    found: list[Finding] = []
    for column in change.fields:
        sub = Change("modified" if column in before and column in after else
                     "added" if column in after else "removed",
                     column, before.get(column), after.get(column), path="fact")
        if _reworded(sub):
            continue
        named = _by_name(_role(column), sub)
        for kind, level, reason, names in _flag(sub) if named is None else named:
            found.append((kind, level, f"{change.key}: {reason}", (change.key, *names)))
    return found


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


def _echoes(changes: Sequence[Change]) -> frozenset[str]:
    """Every string a changed field or fact held: prose lines that only show one (a tag
    list on a Hub page) are echoes, judged with the field."""
    out: set[str] = set()
    for change in changes:
        if change.path in ("field", "fact"):
            for value in (change.before, change.after):
                out |= {s.casefold() for s in _strings(value)}
    return frozenset(out)


def _renames(changes: Sequence[Change]) -> list[tuple[str, str]]:
    """(old, new) model names from changed identity fields, longest first."""
    pairs = [(c.before, c.after) for c in changes if c.path in ("field", "fact")
             and c.op == "modified" and _IDENTITY.match(_role(c.key))
             and isinstance(c.before, str) and isinstance(c.after, str) and len(c.before) >= 3]
    pairs += [(a.rsplit("/", 1)[-1].strip(), b.rsplit("/", 1)[-1].strip()) for a, b in pairs
              if "/" in a and "/" in b]
    return sorted({p for p in pairs if len(p[0]) >= 3 and p[0] != p[1]}, key=lambda p: -len(p[0]))


def _prose_sides(changes: Sequence[Change]) -> tuple[str, str]:
    """The text of the changed sections, before and after, folded."""
    before = [str(c.before or "") for c in changes if c.path == "section"]
    after = [str(c.after or "") for c in changes if c.path == "section"]
    return "\n".join(before).casefold()[:1_000_000], "\n".join(after).casefold()[:1_000_000]


def _relabelled(change: Change, prose: tuple[str, str]) -> bool:
    """A fact that came or went only because its label line was respelt: its value was
    prose before (or is prose after) in a changed section."""
    value = change.after if change.op == "added" else change.before
    if change.op == "modified" or not isinstance(value, str) or len(value) < 4:
        return False
    return value.casefold() in (prose[0] if change.op == "added" else prose[1])


_PREFIX = {"model_change": "Model changed", "training_data_change": "Training data changed",
           "new_capability": "New capability", "policy_change": "Model licence/terms changed"}


def model_card_rule(changes: Sequence[Change], ctx: RuleContext) -> list[TriggerEvent]:
    """Findings of all changes, grouped into one event per trigger type."""
    found: list[tuple[Finding, Change]] = []
    prose = _prose_sides(changes)
    for change in changes:
        if change.path == "fact" and _relabelled(change, prose):
            continue
        if change.path in ("field", "fact"):
            found += [(f, change) for f in field_findings(change)]
        elif change.path == "variant":
            found += [(f, change) for f in variant_findings(change)]
    found += prose_findings(changes, _renames(changes), _echoes(changes))
    grouped: dict[str, list[tuple[Finding, Change]]] = {}
    for finding, change in found:
        if finding[0]:
            grouped.setdefault(finding[0], []).append((finding, change))
    return [_event(kind, grouped[kind], ctx) for kind in sorted(grouped)]


def _event(kind: str, items: list[tuple[Finding, Change]], ctx: RuleContext) -> TriggerEvent:
    items = sorted(items, key=lambda fc: -severity_rank(fc[0][1]))
    level = items[0][0][1]
    reasons = list(dict.fromkeys(f[2] for f, _ in items))
    prefix = _PREFIX[kind] if kind != "model_change" or level != "low" else (
        "Model documentation changed")
    more = f" (+{len(reasons) - 1} more)" if len(reasons) > 1 else ""
    involved = list({id(c): c for _, c in items}.values())
    keys = ",".join(sorted({f"{c.path}:{c.op}:{c.key}" for c in involved}))
    return TriggerEvent(
        type=kind, severity=level, title=f"{prefix}: {reasons[0]}{more}",
        entities=tuple(dict.fromkeys(e for f, _ in items for e in f[3] if e)),
        evidence={"reasons": reasons[:20], "changes": len(involved)},
        changes=tuple(c.to_dict() for c in involved[:50]),
        basis=f"{ctx.old_hash}>{ctx.new_hash}|{kind}|{keys}", rule="default:model_card",
    )
