"""Assessment and trigger commands: ``assessments``, ``show``, ``ack``, ``review``,
``resolve``, ``rules``.

Exit codes: 0 ok (also when a trigger was already acknowledged or an assessment already
in review: the state asked for holds); 2 bad usage or configuration, including an unknown
trigger or assessment id. Commands that change state take ``--by`` for the audit trail
(default: the OS user) and sync the config's register first, so a newly added
assessment can be acted on before the first check.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import typer
from sqlalchemy.engine import Engine

from config.schema import Config
from monitor.clock import utcnow

from .common import ByOption, ConfigOption, fail, get_config, get_engine, out, who

DISPOSITIONS = ("approved", "approved_with_conditions", "rejected", "pending")
STATUSES = ("current", "re_review_required", "in_review")


def _open(config: Path | None, *, sync: bool = True) -> tuple[Config, Engine]:
    """Config and database; with ``sync``, the register brought up to date with the config
    (as a check does), so an assessment just added can be acted on at once."""
    cfg = get_config(config)
    engine = get_engine(cfg)
    if sync:
        from monitor.check.pipeline import Checker

        Checker(cfg, engine).sync()
    return cfg, engine


def _emit(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def assessments(assessment_id: str | None = typer.Argument(
                    None, help="Show one assessment in full: flags and audit trail."),
                config: Path = ConfigOption,
                as_json: bool = typer.Option(False, "--json", help="Print JSON."),
                vendor: str | None = typer.Option(None, "--vendor", help="Only this vendor."),
                status: str | None = typer.Option(None, "--status",
                                                  help=f"One of: {', '.join(STATUSES)}."),
                all_: bool = typer.Option(False, "--all",
                                          help="Include assessments gone from the config.")
                ) -> None:
    """The assessment register: status, disposition, owner, open triggers, next review."""
    from storage.db import session_scope
    from storage.register import (
        assessment_detail,
        assessment_dict,
        list_assessments,
        open_triggers,
    )

    if status and status not in STATUSES:
        fail(f"--status {status!r} is not valid; valid: {', '.join(STATUSES)}", 2)
    _, engine = _open(config)
    with session_scope(engine) as session:
        if assessment_id is not None:
            detail = assessment_detail(session, assessment_id)
            if detail is None:
                fail(f"no assessment {assessment_id!r}; list them with `reassess assessments`", 2)
            if as_json:
                _emit(detail)
            else:
                _print_assessment(detail)
            return
        rows = list_assessments(session, vendor=vendor, status=status,
                                include_inactive=all_)
        opened = open_triggers(session, [r.id for r in rows])
        items = [assessment_dict(r, opened[r.id]) for r in rows]
    if as_json:
        _emit(items)
    else:
        _print_assessments(items)


def _print_assessments(items: list[dict[str, Any]]) -> None:
    if not items:
        out.print("No assessments. Add them under `assessments:` in the config.")
        return
    from rich.table import Table

    table = Table()
    for col in ("id", "vendor", "system", "status", "disposition", "owner", "open triggers",
                "assessed", "next review"):
        table.add_column(col)
    for a in items:
        table.add_row(a["id"], a["vendor"], a["system"], a["status"], a["disposition"],
                      ", ".join(a["owner"]), ", ".join(map(str, a["open_triggers"])),
                      a["assessed"] or "", a["next_review"] or "")
    out.print(table)


def _print_assessment(a: dict[str, Any]) -> None:
    out.print(f"{a['id']} — {a['system'] or '(no system)'} ({a['vendor']})", markup=False)
    for label, key in (("status", "status"), ("disposition", "disposition"),
                       ("assessed", "assessed"), ("next review", "next_review"),
                       ("review every", "review_every")):
        out.print(f"  {label}: {a[key] or '-'}", markup=False)
    out.print(f"  owner: {', '.join(a['owner']) or '-'}", markup=False)
    out.print(f"  watches: {', '.join(a['triggers'])}", markup=False)
    out.print("Flags:" if a["flags"] else "Flags: none", markup=False)
    for f in a["flags"]:
        state = f"resolved {f['resolved_at'][:16]}" if f["resolved_at"] else "OPEN"
        out.print(f"  #{f['trigger']} [{f['severity']}] {f['type']}: {f['title']} "
                  f"({f['flagged_at'][:16]}, {state})", markup=False)
    _print_audit(a["audit"])


def _print_audit(events: list[dict[str, Any]]) -> None:
    out.print("Audit trail:" if events else "Audit trail: empty", markup=False)
    for e in events:
        note = f" — {e['note']}" if e["note"] else ""
        out.print(f"  {(e['at'] or '')[:16]} {e['by']}: {e['action']} {e['object']}{note}",
                  markup=False)


def show(trigger_id: int = typer.Argument(..., help="A trigger id (see `reassess triggers`)."),
         config: Path = ConfigOption,
         as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """One trigger: what changed (before → after), evidence, affected assessments, audit."""
    from storage.db import session_scope
    from storage.register import trigger_detail

    _, engine = _open(config, sync=False)
    with session_scope(engine) as session:
        detail = trigger_detail(session, trigger_id, _describe)
    if detail is None:
        fail(f"no trigger {trigger_id}; list them with `reassess triggers`", 2)
    if as_json:
        _emit(detail)
    else:
        _print_trigger(detail)


def _describe(kind: str, change: dict[str, Any]) -> str:
    from sources import get_kind
    from sources.base import Change

    return get_kind(kind).describe(Change.from_dict(change))


def _print_trigger(t: dict[str, Any]) -> None:
    out.print(f"Trigger #{t['id']} [{t['severity']}] {t['type']}: {t['title']}", markup=False)
    where = t["source"] or (f"assessment {t['assessment_id']}" if t["assessment_id"] else "-")
    out.print(f"  vendor {t['vendor']}, {where}, {t['created_at']}, status {t['status']}"
              + (f" (by {t['acked_by']}: {t['ack_note'] or 'no note'})" if t["acked_by"]
                 else ""), markup=False)
    if t["rule"]:
        out.print(f"  rules applied: {t['rule']}", markup=False)
    if t["channels"]:
        out.print(f"  routed to: {', '.join(t['channels'])}", markup=False)
    if t["changes"]:
        out.print("What changed:", markup=False)
        for c in t["changes"]:
            out.print(f"  {c['summary']}", markup=False)
    if t["evidence"]:
        out.print("Evidence:", markup=False)
        for key, value in t["evidence"].items():
            out.print(f"  {key}: {value}", markup=False)
    snaps = t["snapshots"]
    if snaps["old"] or snaps["new"]:
        old, new = snaps["old"] or {}, snaps["new"] or {}
        out.print(f"Snapshots: {old.get('id', '-')} → {new.get('id', '-')} "
                  f"({new.get('url') or old.get('url') or ''})", markup=False)
    out.print("Affected assessments:" if t["affected"] else "Affected assessments: none",
              markup=False)
    for a in t["affected"]:
        flag = "resolved" if a["resolved_at"] else "open"
        out.print(f"  {a['id']} ({a['system'] or '-'}): {a['status']}, flag {flag}",
                  markup=False)
    _print_audit(t["audit"])


def ack(trigger_id: int = typer.Argument(..., help="The trigger to acknowledge."),
        note: str | None = typer.Option(None, "--note", help="Why, or what happens next."),
        by: str | None = ByOption, config: Path = ConfigOption) -> None:
    """Acknowledge a trigger: someone has seen it (its flags stay open until a resolve)."""
    from storage.db import session_scope
    from storage.lifecycle import LifecycleError, acknowledge

    _, engine = _open(config, sync=False)
    try:
        with session_scope(engine) as session:
            row, moved = acknowledge(session, trigger_id, by=who(by), now=utcnow(), note=note)
    except LifecycleError as exc:
        fail(str(exc), 2)
    if moved:
        out.print(f"Trigger #{trigger_id} acknowledged by {row.acked_by}.", markup=False)
    elif row.status == "acknowledged":
        out.print(f"Trigger #{trigger_id} was already acknowledged by {row.acked_by} "
                  f"at {row.acked_at:%Y-%m-%d %H:%M}Z.", markup=False)
    else:
        out.print(f"Trigger #{trigger_id} is {row.status}; nothing to acknowledge.",
                  markup=False)


def review(assessment_id: str = typer.Argument(..., help="The assessment under review."),
           note: str | None = typer.Option(None, "--note", help="Who reviews, what is checked."),
           by: str | None = ByOption, config: Path = ConfigOption) -> None:
    """Mark an assessment in review (optional step between flagged and resolved)."""
    from storage.db import session_scope
    from storage.lifecycle import LifecycleError, start_review

    _, engine = _open(config)
    try:
        with session_scope(engine) as session:
            _, moved = start_review(session, assessment_id, by=who(by), now=utcnow(),
                                    note=note)
    except LifecycleError as exc:
        fail(str(exc), 2)
    out.print(f"{assessment_id} is {'now' if moved else 'already'} in review.", markup=False)


def resolve(assessment_id: str = typer.Argument(..., help="The assessment re-reviewed."),
            note: str = typer.Option(..., "--note", help="What was decided, and why."),
            disposition: str | None = typer.Option(
                None, "--disposition", help=f"A new disposition: {', '.join(DISPOSITIONS)}."),
            assessed: str | None = typer.Option(None, "--assessed",
                                                help="Date of the review (default: today)."),
            by: str | None = ByOption, config: Path = ConfigOption) -> None:
    """Resolve a re-review: back to current, flags closed, a new baseline and review date."""
    from storage.db import session_scope
    from storage.lifecycle import LifecycleError
    from storage.lifecycle import resolve as do_resolve

    if disposition is not None and disposition not in DISPOSITIONS:
        fail(f"--disposition {disposition!r} is not valid; valid: {', '.join(DISPOSITIONS)}", 2)
    day = _date(assessed, "--assessed")
    _, engine = _open(config)
    try:
        with session_scope(engine) as session:
            data = do_resolve(session, assessment_id, by=who(by), now=utcnow(), note=note,
                              disposition=disposition, assessed=day)
    except LifecycleError as exc:
        fail(str(exc), 2)
    if not data["changed"]:
        out.print(f"{assessment_id} is already current with nothing open; nothing resolved "
                  "(give --assessed DATE or --disposition to record a new review).",
                  markup=False)
        return
    closed = ", ".join(f"#{i}" for i in data["triggers"]) or "none"
    text = (f"{assessment_id} resolved: current, disposition {data['disposition']['to']}, "
            f"assessed {data['assessed']['to']}, next review {data['next_review'] or '-'}; "
            f"triggers closed: {closed}")
    if data["still_open"]:
        text += "; still open for other assessments: " + ", ".join(
            f"#{s['trigger']} ({', '.join(s['assessments'])})" for s in data["still_open"])
    out.print(text + ".", markup=False)


def _date(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{name} {value!r} is not a date; use YYYY-MM-DD", 2)


def rules(config: Path = ConfigOption,
          as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """The effective rule set: kind defaults, then policy rules in evaluation order."""
    from triggers.policy import Policy

    cfg = get_config(config)
    data: dict[str, Any] = {"kinds": _kind_rules(),
                            "rules": Policy.build(cfg.rules).to_list(), "routing": ROUTING}
    if as_json:
        _emit(data)
        return
    out.print("Built-in rules per source kind (changes → events, default severity):")
    for k in data["kinds"]:
        out.print(f"  {k['kind']}: {k['description']}", markup=False)
    out.print("Policy rules, in evaluation order (every matching rule applies; a later "
              "severity overrides an earlier one):")
    for r in data["rules"]:
        out.print(f"  {r['order']}. {r['name']} [{r['origin']}]: when {_when(r['match'])} "
                  f"→ {_action(r)}", markup=False)
    out.print(f"Routing: {ROUTING}", markup=False)


ROUTING = ("a trigger goes to the owner channels of the assessments it flags and of its "
           "vendor; a rule's `route` adds channels; a suppressed trigger goes nowhere")


def _kind_rules() -> list[dict[str, str]]:
    import inspect

    from triggers.rules import KIND_RULES

    found = []
    for kind, fn in sorted(KIND_RULES.items()):
        doc = inspect.getdoc(fn) or inspect.getdoc(inspect.getmodule(fn)) or ""
        found.append({"kind": kind, "rule": getattr(fn, "__name__", str(fn)),
                      "description": " ".join(doc.split("\n\n")[0].split())})
    return found


def _when(match: dict[str, Any]) -> str:
    if not match:
        return "any trigger"
    parts = []
    for key, value in match.items():
        shown = " or ".join(map(str, value)) if isinstance(value, list) else str(value)
        if key == "entity":
            parts.append(f"an entity matches /{value}/")
        elif key == "words":
            parts.append(f"the change mentions {shown}")
        else:
            parts.append(f"{key} is {shown}")
    return ", ".join(parts)


def _action(rule: dict[str, Any]) -> str:
    acts = []
    if rule["severity"]:
        acts.append(f"severity {rule['severity']}")
    if rule["suppress"]:
        acts.append("suppress")
    if rule["route"]:
        acts.append(f"route to {', '.join(rule['route'])}")
    return "; ".join(acts) or "no action"


def register(app: typer.Typer) -> None:
    """Add the assessment commands to the ``reassess`` app."""
    app.command("assessments")(assessments)
    app.command("show")(show)
    app.command("ack")(ack)
    app.command("review")(review)
    app.command("resolve")(resolve)
    app.command("rules")(rules)
