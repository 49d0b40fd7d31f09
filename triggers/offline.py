"""Parse, diff and rules on two bodies, with no I/O: what ``reassess diff`` runs."""

from __future__ import annotations

from typing import Any

from sources import get_kind

from .rules import RuleContext, evaluate


def diff_bodies(kind_name: str, old: bytes, new: bytes, settings: dict[str, Any] | None = None,
                *, vendor_id: str = "vendor", vendor_name: str = "Vendor",
                source_id: str = "source") -> dict[str, Any]:
    """The ``reassess diff --json`` object for two bodies of one kind."""
    kind = get_kind(kind_name)
    parsed = kind.Settings.model_validate(settings or {})
    before = kind.parse(old, parsed)
    after = kind.parse(new, parsed)
    changes = kind.diff(before, after) if before.hash != after.hash else []
    ctx = RuleContext(vendor_id=vendor_id, vendor_name=vendor_name, source_id=source_id,
                      kind=kind_name, old_hash=before.hash, new_hash=after.hash)
    events = evaluate(changes, ctx) if changes else []
    return {
        "kind": kind_name,
        "changed": bool(changes),
        "changes": [c.to_dict() for c in changes],
        "triggers": [e.to_dict() for e in events if not e.suppressed],
        "summary": [kind.describe(c) for c in changes],
    }
