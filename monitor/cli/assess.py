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
import re
import sys
from datetime import date
from pathlib import Path
from typing import Any

import typer
from sqlalchemy.engine import Engine

from config.schema import Config
from monitor.clock import utcnow

from .common import ByOption, ConfigOption, fail, get_config, get_engine, out, who
from .table import Column, PlainOption, choice, field, output_mode, print_rows, when

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
                plain: bool = PlainOption,
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

    mode = output_mode(plain=plain, as_json=as_json)
    status = choice(status, STATUSES, "--status")
    _, engine = _open(config)
    with session_scope(engine) as session:
        if assessment_id is not None:
            detail = assessment_detail(session, assessment_id)
            if detail is None:
                fail(f"no assessment {assessment_id!r}; list them with `reassess assessments`", 2)
            if mode == "json":
                _emit(detail)
            else:
                _print_assessment(detail)
            return
        rows = list_assessments(session, vendor=vendor, status=status,
                                include_inactive=all_)
        opened = open_triggers(session, [r.id for r in rows])
        items = [assessment_dict(r, opened[r.id]) for r in rows]
    if mode == "json":
        _emit(items)
        return
    print_rows(items, ASSESSMENT_COLUMNS if mode == "table" else PLAIN_ASSESSMENT_COLUMNS,
               mode, "No assessments. Add them under assessments: in the config.")
    overdue = [a for a in items if a["overdue_days"]]
    if mode == "table" and overdue:
        out.print("! review overdue: " + ", ".join(
            f"{a['id']} ({a['overdue_days']} days)" for a in overdue), markup=False,
            style="bold red")


def status_label(a: dict[str, Any], short: bool = False) -> str:
    """How an assessment's state reads: a pending one is pending, not re-reviewed."""
    if a["disposition"] == "pending" and a["status"] == "current":
        return "pending"
    if a["status"] == "re_review_required":
        return "re-review" if short else "re-review required"
    return str(a["status"]).replace("_", " ")


def _next_review(a: dict[str, Any]) -> str:
    return f"{a['next_review']}!" if a["overdue_days"] else a["next_review"] or ""


ASSESSMENT_COLUMNS = (
    Column("id", field("id")),
    Column("vendor", field("vendor"), drop=3),
    Column("status", lambda a: status_label(a, short=True)),
    Column("disposition", field("disposition")),
    Column("open", lambda a: len(a["open_triggers"]) or "", right=True),
    Column("next review", _next_review),
    Column("assessed", field("assessed"), drop=1),
    Column("system", field("system"), drop=2),
    Column("owner", field("owner"), drop=4),
)
PLAIN_ASSESSMENT_COLUMNS = (
    Column("id", field("id")), Column("vendor", field("vendor")),
    Column("status", field("status")), Column("disposition", field("disposition")),
    Column("open triggers", field("open_triggers")), Column("next review", field("next_review")),
    Column("overdue days", field("overdue_days")), Column("assessed", field("assessed")),
    Column("system", field("system")), Column("owner", field("owner")),
)


def _print_assessment(a: dict[str, Any]) -> None:
    out.print(f"{a['id']} — {a['system'] or '(no system)'} ({a['vendor']})", markup=False)
    overdue = f" (overdue by {a['overdue_days']} days)" if a["overdue_days"] else ""
    for label, value in (("status", status_label(a)), ("disposition", a["disposition"]),
                         ("assessed", a["assessed"]),
                         ("next review", (a["next_review"] or "") + overdue),
                         ("review every", a["review_every"]),
                         ("owner", ", ".join(a["owner"])),
                         ("watches", ", ".join(a["triggers"]))):
        out.print(f"  {label}: {value or '-'}", markup=False)
    out.print("Flags:" if a["flags"] else "Flags: none", markup=False)
    for f in a["flags"]:
        state = f"resolved {when(f['resolved_at'])}" if f["resolved_at"] else "OPEN"
        out.print(f"  #{f['trigger']} [{f['severity']}] {f['type']}: {f['title']} "
                  f"(flagged {when(f['flagged_at'])}, {state})", markup=False)
    _print_audit(a["audit"])


def _print_audit(events: list[dict[str, Any]]) -> None:
    out.print("History:" if events else "History: empty", markup=False)
    for e in events:
        data = e["data"] or {}
        move = f" ({_label(data['from'])} → {_label(data['to'])})" if data.get("to") and \
            data.get("from") != data.get("to") else ""
        cause = f" by trigger #{data['trigger_id']}" if data.get("trigger_id") else ""
        note = f": {e['note']}" if e["note"] else ""
        out.print(f"  {when(e['at'])}  {e['by']} {_label(e['action'])} "
                  f"{e['object'].split(':', 1)[1]}{cause}{move}{note}", markup=False)


def _label(value: Any) -> str:
    return str(value).replace("re_review_required", "re-review required").replace("_", " ")


def readable(value: Any) -> str:
    """An evidence value as a person reads it: lists joined, mappings as ``k: v``."""
    if isinstance(value, dict):
        return "; ".join(f"{k}: {readable(v)}" for k, v in value.items() if v not in
                         (None, "", [], {}))
    if isinstance(value, list | tuple):
        return "; ".join(readable(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and _ISO_TIME.match(value):
        return when(value)
    return "" if value is None else str(value)


_ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?$")


def show(trigger_id: int = typer.Argument(..., help="A trigger id (see `reassess triggers`)."),
         config: Path = ConfigOption,
         as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """One trigger: what changed (before → after), evidence, affected assessments, audit."""
    from monitor.evidence.deadlines import trigger_deadlines
    from storage.db import session_scope
    from storage.models import Trigger
    from storage.register import trigger_detail

    cfg, engine = _open(config, sync=False)
    with session_scope(engine) as session:
        detail = trigger_detail(session, trigger_id, _describe)
        row = session.get(Trigger, trigger_id)
        deadlines = trigger_deadlines(cfg, row, utcnow()) if row is not None else []
    if detail is None:
        fail(f"no trigger {trigger_id}; list them with `reassess triggers`", 2)
    detail["controls"] = cfg.controls_for(detail["type"], detail["source"], detail["severity"])
    detail["deadlines"] = deadlines
    if as_json:
        _emit(detail)
    else:
        _print_trigger(detail)


def _describe(kind: str, change: dict[str, Any]) -> str:
    from sources import get_kind
    from sources.base import Change

    return get_kind(kind).describe(Change.from_dict(change))


def _print_trigger(t: dict[str, Any]) -> None:
    out.print(f"Trigger #{t['id']} · {t['severity']} · {t['type']} · {t['status']}",
              markup=False, style="bold")
    out.print(t["title"], markup=False)
    where = t["source"] or (f"assessment {t['assessment_id']}" if t["assessment_id"] else "-")
    facts = [("vendor", t["vendor"]), ("from", where), ("fired", when(t["created_at"]))]
    if t["acked_by"]:
        facts.append(("acknowledged", f"by {t['acked_by']}, {when(t['acked_at'])}"
                      + (f": {t['ack_note']}" if t["ack_note"] else "")))
    if t["rule"]:
        facts.append(("rules applied", t["rule"]))
    if t["channels"]:
        facts.append(("routed to", ", ".join(t["channels"])))
    snaps = t["snapshots"]
    if snaps["old"] or snaps["new"]:
        old, new = snaps["old"] or {}, snaps["new"] or {}
        facts.append(("snapshots", f"before #{old.get('id', '-')}, after #{new.get('id', '-')}"
                                   f" ({new.get('url') or old.get('url') or ''})"))
    for label, value in facts:
        out.print(f"  {label}: {value}", markup=False)
    if t["changes"]:
        out.print("What changed:", markup=False)
        for c in t["changes"]:
            out.print(f"  {c['summary']}", markup=False)
    evidence = [(k, readable(v)) for k, v in t["evidence"].items()]
    evidence = [(k, v) for k, v in evidence if v]
    if evidence:
        out.print("Evidence:", markup=False)
        for key, value in evidence:
            out.print(f"  {_label(key)}: {value}", markup=False)
    out.print("Affected assessments:" if t["affected"] else "Affected assessments: none",
              markup=False)
    for a in t["affected"]:
        flag = f"flag resolved {when(a['resolved_at'])}" if a["resolved_at"] else "flag open"
        out.print(f"  {a['id']} ({a['system'] or '-'}): {status_label(a)}, {flag}",
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

    disposition = choice(disposition, DISPOSITIONS, "--disposition")
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
