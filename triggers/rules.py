"""From changes to trigger events: each kind's built-in rule, and the rule context.

A kind names its built-in rule (``RULES = "module:function"``, a function in
``triggers/``); ``rule_for(kind)`` resolves that name through the source registry and
imports the rule's module when first asked, so a process loads the rules (and their
patterns) of the kinds it checks only. ``triggers.fire`` runs the rule, then the policy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import import_module

from sources import REGISTRY, get_kind
from sources.base import BaseSettings, Change

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
    settings: BaseSettings | None = None  # the source's options (a changelog's classify:)
    names: tuple[str, ...] = ()  # the vendor's name and aliases (incident reports' filter)


KindRule = Callable[[Sequence[Change], RuleContext], list[TriggerEvent]]


_RESOLVED: dict[str, KindRule] = {}


def rule_for(kind: str) -> KindRule:
    """The built-in rule a kind names in its ``RULES`` (``KeyError`` for an unknown kind)."""
    rule = _RESOLVED.get(kind)
    if rule is None:
        where = get_kind(kind).RULES
        module, _, name = where.partition(":")
        found = getattr(import_module(module), name, None) if name else None
        if not callable(found):
            raise LookupError(f"source kind {kind!r} names its rule {where!r}, which is not "
                              "a function; RULES is 'module:function'")
        rule = _RESOLVED[kind] = found
    return rule


class _KindRules(Mapping[str, KindRule]):
    """Kind → its built-in rule, for every registered kind; resolved on first access."""

    def __getitem__(self, kind: str) -> KindRule:
        if kind not in REGISTRY:
            raise KeyError(kind)
        return rule_for(kind)

    def __iter__(self) -> Iterator[str]:
        return iter(REGISTRY)

    def __len__(self) -> int:
        return len(REGISTRY)

    def __contains__(self, kind: object) -> bool:
        return kind in REGISTRY


KIND_RULES: Mapping[str, KindRule] = _KindRules()


def evaluate(changes: Sequence[Change], ctx: RuleContext) -> list[TriggerEvent]:
    """The built-in rule of the context's kind alone (``triggers.fire`` adds the policy)."""
    if not changes or ctx.kind not in REGISTRY:
        return []
    return rule_for(ctx.kind)(changes, ctx)
