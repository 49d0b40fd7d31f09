"""Parse, diff and fire on two bodies, with no I/O: what ``reassess diff`` runs.

The same steps as a check of a source whose stored body was ``old`` and whose fetch
returned ``new``: the kind's parse and diff, the suspect-document guard
(``sources/guard.py``), then ``triggers.fire.fire`` with the given policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sources import get_kind
from sources.guard import suspect

from .fire import fire
from .policy import Policy
from .rules import RuleContext


def diff_bodies(kind_name: str, old: bytes, new: bytes, settings: dict[str, Any] | None = None,
                *, vendor_id: str = "vendor", vendor_name: str = "Vendor",
                source_id: str = "source", policy: Policy | None = None,
                names: Sequence[str] | None = None) -> dict[str, Any]:
    """The ``reassess diff --json`` object for two bodies of one kind (and ``summary``,
    the kind's line per change, which the CLI prints and removes).

    ``names`` are the names the vendor goes by (``--names``; the vendor's name by
    default): an incidents source with ``match_names`` keeps the reports naming one.

    A suspect new document (``"suspect": true``, with its ``"reason"``) fires nothing.
    ``policy`` defaults to the built-in policy rules alone.
    """
    kind = get_kind(kind_name)
    parsed = kind.Settings.model_validate(settings or {})
    before = kind.parse(old, parsed)
    after = kind.parse(new, parsed)
    changes = kind.diff(before, after) if before.hash != after.hash else []
    reason = suspect(kind, before, after, body=new)
    ctx = RuleContext(vendor_id=vendor_id, vendor_name=vendor_name, source_id=source_id,
                      kind=kind_name, old_hash=before.hash, new_hash=after.hash,
                      settings=parsed,
                      names=tuple(names) if names is not None else (vendor_name,))
    events = [] if reason else fire(changes, ctx, policy)
    return {
        "kind": kind_name,
        "changed": bool(changes),
        "suspect": reason is not None,
        "reason": reason,
        "changes": [c.to_dict() for c in changes],
        "triggers": [e.to_dict() for e in events if not e.suppressed],
        "summary": [kind.describe(c) for c in changes],
    }
