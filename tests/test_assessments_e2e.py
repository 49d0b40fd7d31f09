"""Issue 4 end to end through the real CLI against the simulated vendor site.

A subprocessor added at a vendor flags the assessments of that vendor that watch
``subprocessor_change`` and no other; repeated, restarted and concurrent checks never
duplicate a trigger; resolve returns an assessment to current and a later change flags
it again; a past review date fires ``review_due`` once; ``--csv`` and ``--json`` parse.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from storage.db import open_database, session_scope
from storage.models import AssessmentFlag, AuditEvent, Outbox, Trigger

Cli = Callable[..., subprocess.CompletedProcess[str]]

REGISTER = """\
database: {db}
channels:
  security: {{urls: ["json://127.0.0.1:9/hook"]}}
vendors:
{vendors}
assessments:
  - id: acme-support
    vendor: acme
    system: Customer-support assistant
    owner: security
    disposition: approved
    assessed: {assessed}
    review_every: 12 months
  - id: acme-coding
    vendor: acme
    system: Code assistant
    owner: [security]
    disposition: approved_with_conditions
    assessed: {assessed}
    triggers: [subprocessor_change, model_change]
  - id: acme-marketing
    vendor: acme
    system: Marketing copy
    disposition: approved
    triggers: [policy_change, incident]
  - id: northwind-search
    vendor: northwind
    system: Enterprise search
    disposition: approved
    owner: security
    triggers: [subprocessor_change, review_due]
    next_review: {northwind_review}
"""

VENDOR = """\
  - id: {v}
    name: {v}
    sources:
      - id: {v}-subprocessors
        kind: subprocessors
        url: {site}/{v}/subprocessors
      - id: {v}-dpa
        kind: page
        url: {site}/{v}/dpa
        select: main
"""


def config(make_config: Any, site: Any, db: str,
           vendors: tuple[str, ...] = ("acme", "northwind"),
           northwind_review: str | None = None) -> Path:
    today = datetime.now(UTC).date()
    body = REGISTER.format(
        db=db, assessed=today - timedelta(days=10),
        northwind_review=northwind_review or today + timedelta(days=100),
        vendors="".join(VENDOR.format(v=v, site=site.base_url) for v in vendors))
    return make_config(body.replace("{", "{{").replace("}", "}}"))


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (result.stdout, result.stderr)
    return result.stdout


def check(run_cli: Cli, cfg: Path) -> str:
    return ok(run_cli("check", "--no-notify", "--config", str(cfg)))


def as_json(run_cli: Cli, cfg: Path, *args: str) -> Any:
    return json.loads(ok(run_cli(*args, "--json", "--config", str(cfg))))


def by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in items}


def dpa(retention: str) -> str:
    """A DPA page for ``set_page``: enough lines that a change is not a vanished page."""
    clauses = "".join(f"<p>Clause {i}: the processor acts on documented instructions.</p>"
                      for i in range(1, 6))
    return f"<main><h1>Data Processing Addendum</h1>{clauses}<p>{retention}</p></main>"


def trigger_rows(db_url: str) -> list[Trigger]:
    engine = open_database(db_url)
    with session_scope(engine) as s:
        rows = list(s.execute(select(Trigger).order_by(Trigger.id)).scalars())
    engine.dispose()
    return rows


def test_subprocessor_added_flags_watching_assessments(site: Any, db_url: str,
                                                       make_config: Any, run_cli: Cli) -> None:
    cfg = config(make_config, site, db_url)
    check(run_cli, cfg)
    site.control("acme", "add_subprocessor", name="Cohere", purpose="LLM inference",
                 location="Canada")
    check(run_cli, cfg)
    [trigger] = trigger_rows(db_url)
    assert trigger.type == "subprocessor_change" and trigger.vendor_id == "acme"

    register = by_id(as_json(run_cli, cfg, "assessments"))
    for flagged in ("acme-support", "acme-coding"):
        assert register[flagged]["status"] == "re_review_required"
        assert register[flagged]["open_triggers"] == [trigger.id]
    for spared in ("acme-marketing", "northwind-search"):
        assert register[spared]["status"] == "current"
        assert register[spared]["open_triggers"] == []
    support = register["acme-support"]
    assert support["owner"] == ["security"] and support["disposition"] == "approved"
    assert "subprocessor_change" in support["triggers"] and support["next_review"]
    # an overdue review flags by default: review_due is added to what it lists
    assert register["acme-marketing"]["triggers"] == ["policy_change", "incident", "review_due"]

    shown = as_json(run_cli, cfg, "show", str(trigger.id))
    assert [a["id"] for a in shown["affected"]] == ["acme-coding", "acme-support"]
    assert shown["assessments"] == ["acme-coding", "acme-support"]
    assert any("Cohere" in c["summary"] for c in shown["changes"])
    assert shown["snapshots"]["old"]["id"] != shown["snapshots"]["new"]["id"]
    assert [e["action"] for e in shown["audit"]] == ["flagged", "flagged"]

    check(run_cli, cfg)  # the same change, seen again: nothing new
    assert len(trigger_rows(db_url)) == 1


def _popen_check(cfg: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.Popen([sys.executable, "-m", "monitor.cli", "check", "--no-notify",
                             "--config", str(cfg)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def test_concurrent_and_restarted_checks_never_duplicate(site: Any, db_url: str,
                                                         make_config: Any,
                                                         run_cli: Cli) -> None:
    vendors = ("acme", "northwind", "heliosml")
    cfg = config(make_config, site, db_url, vendors=vendors)
    for vendor in vendors:
        site.control(vendor, "set_page", path="dpa", html=dpa("Prompts are not kept."))
    check(run_cli, cfg)
    for i, vendor in enumerate(vendors):
        site.control(vendor, "add_subprocessor", name=f"Model Provider {i}",
                     purpose="Model hosting", location="Ireland")
        site.control(vendor, "set_page", path="dpa",
                     html=dpa(f"{vendor} may keep prompts for {30 + i} days."))
    procs = [_popen_check(cfg), _popen_check(cfg)]
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, (stdout, stderr)
    check(run_cli, cfg)  # a restart: a new process sees the same changes as done

    fired = trigger_rows(db_url)
    assert sorted((t.vendor_id, t.type) for t in fired) == sorted(
        (v, t) for v in vendors for t in ("policy_change", "subprocessor_change"))
    engine = open_database(db_url)
    with session_scope(engine) as s:
        flags = s.execute(select(AssessmentFlag.assessment_id, func.count())
                          .group_by(AssessmentFlag.assessment_id)).all()
        flagged_audit = s.execute(select(func.count()).select_from(AuditEvent)
                                  .where(AuditEvent.action == "flagged")).scalar_one()
    engine.dispose()
    # acme-support watches both types; acme-coding subprocessors; acme-marketing policy
    assert dict(flags) == {"acme-support": 2, "acme-coding": 1, "acme-marketing": 1,
                           "northwind-search": 1}
    assert flagged_audit == 5


def test_resolve_then_a_later_change_flags_again(site: Any, sqlite_url: str,
                                                 make_config: Any, run_cli: Cli) -> None:
    cfg = config(make_config, site, sqlite_url, vendors=("acme", "northwind"))
    site.control("acme", "set_page", path="dpa", html=dpa("Retention: 30 days."))
    check(run_cli, cfg)
    site.control("acme", "set_page", path="dpa", html=dpa("Retention: 90 days."))
    check(run_cli, cfg)
    [first] = trigger_rows(sqlite_url)
    assert first.type == "policy_change"

    ok(run_cli("ack", str(first.id), "--note", "reading it", "--by", "alice",
               "--config", str(cfg)))
    resolved = ok(run_cli("resolve", "acme-support", "--note", "90 days is acceptable",
                          "--disposition", "approved_with_conditions", "--by", "bob",
                          "--config", str(cfg)))
    # the trigger also flagged acme-marketing: it stays open, and the output says so
    assert "triggers closed: none" in resolved
    assert f"still open for other assessments: #{first.id} (acme-marketing)" in resolved

    site.control("acme", "set_page", path="dpa", html=dpa("Retention: 1 year."))
    check(run_cli, cfg)  # a re-sync that must not undo the resolution, then a new change
    first, second = trigger_rows(sqlite_url)
    assert (first.status, first.acked_by, first.ack_note) == ("acknowledged", "alice",
                                                              "reading it")
    support = by_id(as_json(run_cli, cfg, "assessments"))["acme-support"]
    today = datetime.now(UTC).date()
    assert support["status"] == "re_review_required"
    assert support["open_triggers"] == [second.id]  # the resolved flag stays closed
    assert support["disposition"] == "approved_with_conditions"
    assert support["assessed"] == today.isoformat()
    assert support["next_review"] > today.isoformat()

    text = ok(run_cli("triggers", "--csv", "--config", str(cfg)))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert text.splitlines()[0].split(",")[:3] == ["id", "created_at", "type"]
    assert [int(r["id"]) for r in rows] == [second.id, first.id]
    assert rows[1]["status"] == "acknowledged"
    assert rows[1]["assessments"] == "acme-marketing;acme-support"

    from typer.testing import CliRunner  # the filters, in-process: the same app, faster

    from monitor.cli import app

    tomorrow = (today + timedelta(days=1)).isoformat()
    for args, expected in ((("--status", "open"), [second.id]),
                           (("--status", "acknowledged"), [first.id]),
                           (("--vendor", "northwind"), []),
                           (("--type", "policy_change", "--severity", "medium"),
                            [second.id, first.id]),
                           (("--type", "incident"), []), (("--since", tomorrow), []),
                           (("--until", tomorrow, "--vendor", "acme"), [second.id, first.id])):
        res = CliRunner().invoke(app, ["triggers", "--json", "--config", str(cfg), *args])
        assert res.exit_code == 0, res.output
        assert [t["id"] for t in json.loads(res.stdout)] == expected, args


def test_review_due_fires_exactly_once(site: Any, sqlite_url: str, make_config: Any,
                                       run_cli: Cli) -> None:
    db_url = sqlite_url  # PostgreSQL: tests/test_lifecycle.py, in-process
    past = (datetime.now(UTC).date() - timedelta(days=3)).isoformat()
    cfg = config(make_config, site, db_url, vendors=("acme", "northwind"),
                 northwind_review=past)
    check(run_cli, cfg)
    check(run_cli, cfg)
    from config import load_config
    from monitor.daemon.lifecycle import fire_review_due

    engine = open_database(db_url)
    loaded = load_config(cfg)
    assert fire_review_due(loaded, engine) == 0
    assert fire_review_due(loaded, engine) == 0
    with session_scope(engine) as s:
        [due] = s.execute(select(Trigger).where(Trigger.type == "review_due")).scalars()
        outbox = s.execute(select(func.count()).select_from(Outbox)
                           .where(Outbox.trigger_id == due.id)).scalar_one()
    engine.dispose()
    assert (due.vendor_id, due.assessment_id, due.source_id) == ("northwind", "northwind-search",
                                                                 None)
    if importlib.util.find_spec("monitor.notify.routing") is not None:
        assert outbox == 1  # northwind-search's owner hears of it
    register = by_id(as_json(run_cli, cfg, "assessments"))
    assert register["northwind-search"]["status"] == "re_review_required"
    assert register["northwind-search"]["open_triggers"] == [due.id]
    assert register["acme-support"]["status"] == "current"


def test_cli_usage_errors(site: Any, sqlite_url: str, make_config: Any, run_cli: Cli) -> None:
    cfg = config(make_config, site, sqlite_url)
    for args in (("show", "42"), ("resolve", "acme-support"),  # --note is required
                 ("resolve", "acme-support", "--note", "x", "--disposition", "maybe"),
                 ("triggers", "--status", "closed")):
        res = run_cli(*args, "--config", str(cfg))
        assert res.returncode == 2, (args, res.stdout, res.stderr)
    rules = as_json(run_cli, cfg, "rules")
    assert {k["kind"] for k in rules["kinds"]} >= {"page", "subprocessors"}
    assert [r["origin"] for r in rules["rules"]] == ["builtin"]
