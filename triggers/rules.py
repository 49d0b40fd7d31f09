"""From changes to trigger events: built-in defaults per kind, then configured rules.

``evaluate`` is pure: the changes of one check, the context (vendor, source, kind, the
old and new document hashes) and the configured rules in, trigger events out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import import_module

from sources.base import Change

from .events import TriggerEvent


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


class _Rules(Mapping[str, DefaultRule]):
    """Kind → its built-in rule; a kind's rule module is imported when first asked for,
    so a process loads the rules (and their patterns) of the kinds it checks only."""

    def __init__(self, rules: Mapping[str, tuple[str, str]]) -> None:
        self._where = dict(rules)
        self._loaded: dict[str, DefaultRule] = {"page": page_rule}

    def __getitem__(self, kind: str) -> DefaultRule:
        rule = self._loaded.get(kind)
        if rule is None:
            module, name = self._where[kind]
            rule = self._loaded[kind] = getattr(import_module(module, __package__), name)
        return rule

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, kind: object) -> bool:
        return kind in self._where


DEFAULT_RULES: Mapping[str, DefaultRule] = _Rules({
    "page": (__name__, "page_rule"),
    "incidents": (".incidents", "incidents_rule"),
    "changelog": (".changelog", "changelog_rule"),
    "subprocessors": (".subprocessors", "subprocessor_rule"),
    "model_card": (".model_card", "model_card_rule"),
})


def evaluate(changes: Sequence[Change], ctx: RuleContext) -> list[TriggerEvent]:
    """Built-in rules for the context's kind; configured rules are applied by the caller."""
    rule = DEFAULT_RULES.get(ctx.kind)
    return rule(changes, ctx) if rule else []
