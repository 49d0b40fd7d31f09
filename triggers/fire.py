"""The one way a check's changes become trigger events, for the daemon and ``reassess diff``.

``fire`` runs the kind's built-in rule (the function its ``RULES`` names), then the
policy: the built-in policy rules and, when the caller has a configuration, its
``rules:``. The daemon's check (``monitor/check/analyse.py``) and the offline diff
(``triggers/offline.py``) both call it, so the same two documents give the same
trigger types, severities, titles and entities on both paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from sources.base import Change

from .events import TriggerEvent
from .policy import Policy
from .rules import RuleContext, evaluate


@cache
def builtin_policy() -> Policy:
    """The built-in policy rules alone: what applies when no configuration is given."""
    return Policy.build()


def fire(changes: Sequence[Change], ctx: RuleContext,
         policy: Policy | None = None) -> list[TriggerEvent]:
    """Trigger events for ``changes``: the kind's rule, then ``policy`` (by default the
    built-in policy rules; a configuration's ``Policy.build(config.rules)`` adds its
    own after them). Suppressed events are returned too: they are stored, not sent."""
    if not changes:
        return []
    events = evaluate(changes, ctx)
    if not events:
        return events
    return (policy or builtin_policy()).apply(events, ctx, changes)
