"""The default rule for the ``models`` kind: models added, removed, deprecated; capabilities
added.

* a model added or removed → ``model_change`` (medium), the entity its id;
* a model added already deprecated (or legacy, retired) or with a shutdown date (a new
  row of a deprecation table), a shutdown or expiration date announced or moved, or a
  status turned legacy / deprecated / retired → ``model_change`` (high), the date, the
  status and the replacement in the evidence;
* a capability, modality or generation method added to a model, or brought by a new
  model when no model of the old list had it → ``new_capability`` (medium), one per
  capability, its entity the capability as the API names it and the models in the
  evidence.

A model whose status says ``active`` fires no lifecycle trigger: the dates of an active
model ("Not sooner than May 14, 2026") are the earliest it may go, not a notice. A
replacement or display name changed alone, a date withdrawn, a model back to active, a
capability removed: recorded changes that fire nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sources.base import Change

from .events import TriggerEvent

if TYPE_CHECKING:
    from .rules import RuleContext

WINDING_DOWN = ("legacy", "deprecated", "retired", "retiring", "shutdown", "shut down",
                "end of life", "eol", "sunset", "discontinued", "deprecating")
SIDES = (("capabilities", "capability"), ("input", "input modality"),
         ("output", "output modality"))


def _winding_down(status: Any) -> bool:
    return isinstance(status, str) and any(status.startswith(w) for w in WINDING_DOWN)


def _stage(status: Any) -> int:
    """How far a status is on the way out: active 0, legacy 1, deprecated 2, retired 3."""
    if not _winding_down(status):
        return 0
    return 1 if status.startswith("legacy") else 2 if status.startswith("deprecat") else 3


def _evidence(model: dict[str, Any], before: dict[str, Any] | None = None) -> dict[str, Any]:
    out = {"model": model.get("id"), "status": model.get("status"),
           "shutdown_date": model.get("shutdown"), "legacy_date": model.get("legacy"),
           "replacement": model.get("replacement")}
    if before is not None:
        out["previous_status"] = before.get("status")
        out["previous_shutdown_date"] = before.get("shutdown")
    return out


def _lifecycle(change: Change, ctx: RuleContext) -> TriggerEvent | None:
    """The high ``model_change`` of a deprecation: announced, moved or a status turned."""
    model, before = change.after, change.before
    if model.get("status") == "active":  # its dates are the earliest it may go, no notice
        return None
    if change.op == "added":
        if not (model.get("shutdown") or _winding_down(model.get("status"))):
            return None
        what = "deprecation announced"
    else:
        dated = bool(model.get("shutdown")) and model.get("shutdown") != before.get("shutdown")
        turned = _stage(model.get("status")) > _stage(before.get("status"))
        if not (dated or turned):
            return None
        what = (f"now {model.get('status')}" if turned
                else "shutdown date moved" if before.get("shutdown")
                else "shutdown date announced")
    when = f", shutdown {model['shutdown']}" if model.get("shutdown") else ""
    instead = f", replacement {model['replacement']}" if model.get("replacement") else ""
    return TriggerEvent(
        type="model_change", severity="high",
        title=f"{ctx.vendor_name} model {change.key}: {what}{when}{instead}",
        entities=(change.key,), evidence=_evidence(model, before),
        changes=(change.to_dict(),),
        basis=f"lifecycle:{change.key}:{model.get('status')}:{model.get('shutdown')}")


def _presence(change: Change, ctx: RuleContext) -> TriggerEvent:
    model = change.after if change.op == "added" else change.before
    return TriggerEvent(
        type="model_change", severity="medium",
        title=f"{ctx.vendor_name} model {change.op}: {change.key}",
        entities=(change.key,), evidence=_evidence(model), changes=(change.to_dict(),),
        basis=f"{change.op}:{change.key}:{ctx.new_hash}")


LIST = "list"  # the path of the change that holds the old and new lists' capabilities


def _known(changes: Sequence[Change]) -> dict[str, set[str]] | None:
    """What the models of the old list had, side by side, when the new list's union grew
    (the kind's diff adds that change); ``None`` when it did not: a new model then brings
    nothing that no model had."""
    for change in changes:
        if change.path == LIST and isinstance(change.before, dict):
            return {side: set(change.before.get(side) or ()) for side, _ in SIDES}
    return None


def _capabilities(changes: Sequence[Change], ctx: RuleContext) -> list[TriggerEvent]:
    """One ``new_capability`` per capability added (with the models that gained it)."""
    known = _known(changes)
    gained: dict[tuple[str, str], list[str]] = {}
    for change in changes:
        if change.after is None or change.path == LIST:
            continue
        for side, _label in SIDES:
            now = set(change.after.get(side) or ())
            if change.op == "added":
                new = now - known[side] if known is not None else set()
            elif change.op == "modified" and side in change.fields:
                new = now - set(change.before.get(side) or ())
            else:
                continue
            for name in sorted(new):
                gained.setdefault((side, name), []).append(change.key)
    events = []
    for (side, name), models in sorted(gained.items()):
        label = dict(SIDES)[side]
        shown = ", ".join(models[:5]) + (f" and {len(models) - 5} more" if len(models) > 5
                                          else "")
        events.append(TriggerEvent(
            type="new_capability", severity="medium",
            title=f"{ctx.vendor_name} new {label}: {name} ({shown})",
            entities=(name,), evidence={"capability": name, "kind": label, "models": models},
            changes=tuple(c.to_dict() for c in changes if c.key in models)[:20],
            basis=f"{side}:{name}:{','.join(sorted(models))}"))
    return events


def models_rule(changes: Sequence[Change], ctx: RuleContext) -> list[TriggerEvent]:
    """Presence, lifecycle and capability triggers of a model list's changes."""
    events: list[TriggerEvent] = []
    for change in changes:
        if change.path == LIST:
            continue
        if change.op == "removed":
            events.append(_presence(change, ctx))
            continue
        lifecycle = _lifecycle(change, ctx)
        if lifecycle is not None:
            events.append(lifecycle)
        elif change.op == "added":
            events.append(_presence(change, ctx))
    return events + _capabilities(changes, ctx)
