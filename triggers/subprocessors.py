"""The default rule of the ``subprocessors`` kind: one ``subprocessor_change`` per check.

Severity (the highest of its changes): **high** when an AI/model provider is added or
changed (known providers by name, or a purpose or table section about LLMs, models,
inference, AI …) or when an entity's location moves to a new country or region;
**medium** for any other addition, a purpose or location change, or an AI provider's
removal; **low** for other removals and changes to minor columns only. A name respelt
("Matamo" → "Matomo", "New Relic" → "NewRelic") with nothing else changed fires nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sources.base import Change
from sources.subprocessors.names import places_of

from .events import TriggerEvent, severity_rank

if TYPE_CHECKING:
    from .rules import RuleContext

AI_NAME = re.compile(
    r"\b(open ?ai|anthropic|claude|cohere|mistral|gemini|vertex ai|deepmind|bedrock|"
    r"azure openai|azure ai|hugging ?face|together ai|together computer|together\.ai|replicate|"
    r"ai21|perplexity|groq|fireworks ai|fireworks\.ai|x\.ai|xai|stability ai|voyage ai|"
    r"deepgram|assembly ?ai|eleven ?labs|scale ai|aleph alpha|deepseek|cerebras|sambanova|"
    r"anyscale|openrouter|baseten|llama|gpt|chatgpt|jina ai|watsonx|qwen|moonshot|minimax|"
    r"midjourney|runway ?ml|speechmatics|rev\.ai|gladia|character\.ai|inflection ai|"
    r"reka|nvidia nim|ai studio)\b", re.I)
AI_PURPOSE = re.compile(
    r"\b(llms?|large language models?|language models?|foundation models?|ai models?|"
    r"models? providers?|model (hosting|inference|training)|generative ai|gen ?ai|"
    r"artificial intelligence|machine learning|ml|inference|embeddings?|ai|chatbots?|"
    r"(speech|voice)[- ]to[- ]text|text[- ]to[- ]speech|transcription|"
    r"neural|gpu (compute|cloud))\b", re.I)


def is_ai_provider(entity: dict[str, Any] | None) -> bool:
    """An AI or model provider, by its name, its purpose or the table it is listed in."""
    if not entity:
        return False
    if AI_NAME.search(str(entity.get("name", ""))):
        return True
    return bool(AI_PURPOSE.search(str(entity.get("purpose", ""))) or AI_PURPOSE.search(
        str(entity.get("section", ""))))


def new_places(change: Change) -> list[str]:
    """Countries or regions an entity's location gained, when it had a location before."""
    if change.op != "modified" or "location" not in change.fields:
        return []
    before = str((change.before or {}).get("location") or "")
    if not before:
        return []
    return sorted(places_of((change.after or {}).get("location")) - places_of(before))


def severity(change: Change) -> str:
    if change.op == "added":
        return "high" if is_ai_provider(change.after) else "medium"
    if change.op == "removed":
        return "medium" if is_ai_provider(change.before) else "low"
    core = {"purpose", "location"} & set(change.fields)
    if not core:
        return "low"
    became_ai = is_ai_provider(change.after) and not is_ai_provider(change.before)
    if new_places(change) or became_ai or (is_ai_provider(change.after) and core):
        return "high"
    return "medium"


def renamed_only(change: Change) -> bool:
    """A typo fix or respelling of a name, nothing else changed."""
    return change.op == "modified" and tuple(change.fields) == ("name",)


def _item(change: Change) -> str:
    if change.op == "added":
        return f"+{change.key}"
    if change.op == "removed":
        return f"−{change.key}"
    before, after = change.before or {}, change.after or {}
    if "name" in change.fields:
        rest = [f for f in change.fields if f != "name"]
        renamed = f"{before.get('name') or '—'} → {after.get('name') or change.key}"
        return renamed + (f" ({'/'.join(rest)} changed)" if rest else "")
    if "location" in change.fields:
        return (f"{change.key} location {before.get('location') or '—'} → "
                f"{after.get('location') or '—'}")
    field = change.fields[0]
    if len(change.fields) == 1 and field == "purpose":
        return (f"{change.key} purpose {_clip(before.get(field))} → "
                f"{_clip(after.get(field))}")
    return f"{change.key} {'/'.join(change.fields)} changed"


def _clip(text: Any, limit: int = 60) -> str:
    text = str(text or "—")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def title(changes: Sequence[Change]) -> str:
    if len(changes) == 1:
        change = changes[0]
        if change.op == "modified":
            return f"Subprocessor changed: {_item(change)}"
        return f"Subprocessor {change.op}: {change.key}"
    items = [_item(c) for c in changes[:5]]
    more = f", and {len(changes) - 5} more" if len(changes) > 5 else ""
    return f"{len(changes)} subprocessor changes: {', '.join(items)}{more}"


def subprocessor_rule(changes: Sequence[Change], ctx: RuleContext) -> list[TriggerEvent]:
    """All entity changes of one check as one ``subprocessor_change``."""
    changes = [c for c in changes if not renamed_only(c)]
    if not changes:
        return []
    order = {"added": 0, "removed": 1, "modified": 2}
    ranked = sorted(changes, key=lambda c: (-severity_rank(severity(c)), order[c.op], c.key))
    level = severity(ranked[0])
    ai = [c.key for c in ranked if is_ai_provider(c.after or c.before)]
    evidence: dict[str, Any] = {
        "added": [c.key for c in ranked if c.op == "added"],
        "removed": [c.key for c in ranked if c.op == "removed"],
        "modified": {c.key: list(c.fields) for c in ranked if c.op == "modified"},
        "ai_providers": ai,
        "new_locations": {c.key: new_places(c) for c in ranked if new_places(c)},
    }
    keys = ",".join(sorted(f"{c.op}:{c.key}" for c in changes))
    return [TriggerEvent(
        type="subprocessor_change", severity=level, title=title(ranked),
        entities=tuple(dict.fromkeys(c.key for c in ranked)), evidence=evidence,
        changes=tuple(c.to_dict() for c in ranked[:100]),
        basis=f"{ctx.old_hash}>{ctx.new_hash}|{keys}", rule="default:subprocessors",
    )]
