"""From changes to trigger events: built-in defaults per kind, then configured rules.

``evaluate`` is pure: the changes of one check, the context (vendor, source, kind, the
old and new document hashes) and the configured rules in, trigger events out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sources.base import Change

from .changelog import changelog_rule
from .events import TriggerEvent
from .incidents import incidents_rule
from .model_card import model_card_rule
from .subprocessors import subprocessor_rule


@dataclass(frozen=True, slots=True)
class RuleContext:
    """What a rule knows besides the changes: where they came from."""

    vendor_id: str
    vendor_name: str
    source_id: str
    kind: str
    old_hash: str = ""
    new_hash: str = ""


DefaultRule = Callable[[Sequence[Change], RuleContext], list[TriggerEvent]]


def _excerpt(changes: Sequence[Change], limit: int = 400) -> str:
    parts = []
    for change in changes[:5]:
        text = change.after if change.after is not None else change.before
        parts.append(("+ " if change.op != "removed" else "- ") + str(text))
    return "\n".join(parts)[:limit]


def page_rule(changes: Sequence[Change], ctx: RuleContext) -> list[TriggerEvent]:
    """Any change to a watched page is a possible policy change."""
    if not changes:
        return []
    return [TriggerEvent(
        type="policy_change", severity="medium",
        title=f"{ctx.vendor_name}: page changed ({ctx.source_id})",
        entities=(), evidence={"excerpt": _excerpt(changes), "changes": len(changes)},
        changes=tuple(c.to_dict() for c in changes[:50]),
        basis=f"{ctx.old_hash}>{ctx.new_hash}",
    )]


DEFAULT_RULES: dict[str, DefaultRule] = {"page": page_rule,
                                      "incidents": incidents_rule, "changelog": changelog_rule,
                                      "subprocessors": subprocessor_rule,
                                      "model_card": model_card_rule}


def evaluate(changes: Sequence[Change], ctx: RuleContext) -> list[TriggerEvent]:
    """Built-in rules for the context's kind; configured rules are applied by the caller."""
    rule = DEFAULT_RULES.get(ctx.kind)
    return rule(changes, ctx) if rule else []
