"""The assessment lifecycle on real databases: flags, ack, review, resolve, config sync,
review_due; and what a check does with confirm: N and compare_versions (flapping).

Storage-level tests run on SQLite and PostgreSQL; the check tests drive ``run_check``
in-process against the simulated vendor site.
"""

from __future__ import annotations

import asyncio
import textwrap
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from config import load_config
from config.schema import Config
from monitor.check.runner import run_check
from monitor.daemon.lifecycle import fire_review_due
from storage.db import session_scope
from storage.lifecycle import (
    LifecycleError,
    acknowledge,
    flag_assessments,
    resolve,
    start_review,
)
from storage.models import Assessment, AssessmentFlag, AuditEvent, Trigger
from storage.repo import insert_trigger
from storage.sync import sync_config

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

REGISTER = """\
database: sqlite:///unused.db
vendors:
  - id: acme
    name: Acme AI
  - id: northwind
    name: Northwind
assessments:
  - id: acme-support
    vendor: acme
    system: Support assistant
    disposition: approved
    assessed: {assessed}
    review_every: 12 months
  - id: acme-marketing
    vendor: acme
    disposition: approved
    triggers: [policy_change]
  - id: northwind-search
    vendor: northwind
    next_review: {next_review}
"""


def register(tmp_path: Path, assessed: str = "2025-06-01",
             next_review: str = "2026-02-01") -> Config:
    path = tmp_path / "register.yaml"
    path.write_text(REGISTER.format(assessed=assessed, next_review=next_review))
    return load_config(path)


def synced(engine: Engine, cfg: Config, now: datetime = NOW) -> None:
    with session_scope(engine) as s:
        sync_config(s, cfg, now)


def fire(engine: Engine, vendor: str, type_: str, key: str, now: datetime = NOW) -> int:
    with session_scope(engine) as s:
        trigger_id = insert_trigger(s, {"dedupe_key": key, "type": type_, "severity": "high",
                                        "title": f"{type_} at {vendor}", "vendor_id": vendor,
                                        "created_at": now})
        assert trigger_id is not None
        flag_assessments(s, trigger_id, vendor, type_, now)
    return trigger_id


def statuses(engine: Engine) -> dict[str, str]:
    with session_scope(engine) as s:
        return {a.id: a.status for a in s.execute(select(Assessment)).scalars()}


def test_flag_ack_review_resolve(engine: Engine, tmp_path: Path) -> None:
    synced(engine, register(tmp_path))
    first = fire(engine, "acme", "subprocessor_change", "k1")
    assert statuses(engine) == {"acme-support": "re_review_required",
                                "acme-marketing": "current", "northwind-search": "current"}
    with session_scope(engine) as s:
        trigger, moved = acknowledge(s, first, by="alice", now=NOW, note="on it")
    assert moved and trigger.status == "acknowledged" and trigger.acked_by == "alice"
    with session_scope(engine) as s:
        again, moved = acknowledge(s, first, by="bob", now=NOW)
    assert not moved and again.acked_by == "alice"
    with session_scope(engine) as s:
        start_review(s, "acme-support", by="bob", now=NOW, note="reading the new DPA")
    second = fire(engine, "acme", "model_change", "k2")
    assert statuses(engine)["acme-support"] == "in_review"  # a new flag leaves it in review

    later = NOW + timedelta(days=2)
    with session_scope(engine) as s:
        data = resolve(s, "acme-support", by="bob", now=later, note="still fine",
                       disposition="approved_with_conditions")
    assert data["triggers"] == [first, second]
    with session_scope(engine) as s:
        row = s.get(Assessment, "acme-support")
        assert row is not None
        assert (row.status, row.disposition) == ("current", "approved_with_conditions")
        assert row.assessed == later.date() and row.next_review == date(2027, 3, 3)
        assert row.baseline_at == later
        flags = s.execute(select(AssessmentFlag)).scalars().all()
        assert all(f.resolved_at == later for f in flags if f.assessment_id == "acme-support")
        trail = [(e.by, e.action, e.note) for e in s.execute(
            select(AuditEvent).order_by(AuditEvent.id)).scalars()]
    assert trail == [("reassess", "flagged", None), ("alice", "acknowledged", "on it"),
                     ("bob", "review_started", "reading the new DPA"),
                     ("reassess", "flagged", None),
                     ("bob", "resolved", "assessment acme-support resolved"),
                     ("bob", "resolved", "assessment acme-support resolved"),
                     ("bob", "resolved", "still fine")]
    with session_scope(engine) as s:  # closed exactly as reported
        assert {t.id: t.status for t in s.execute(select(Trigger)).scalars()} == {
            first: "resolved", second: "resolved"}

    fire(engine, "acme", "incident", "k3")  # resolved: the next change flags it again
    assert statuses(engine)["acme-support"] == "re_review_required"


SHARED = """\
database: sqlite:///unused.db
vendors:
  - {id: acme, name: Acme AI}
assessments:
  - {id: one, vendor: acme, disposition: approved, assessed: 2026-01-01,
     triggers: [model_change]}
  - {id: two, vendor: acme, disposition: approved, assessed: 2026-01-01,
     triggers: [model_change, incident]}
  - {id: undecided, vendor: acme, disposition: pending}
"""


def test_resolve_closes_exactly_the_triggers_it_reports(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "shared.yaml"
    path.write_text(SHARED)
    synced(engine, load_config(path))
    shared = fire(engine, "acme", "model_change", "m1")  # flags one, two, undecided
    own = fire(engine, "acme", "incident", "i1")  # flags two and undecided
    with session_scope(engine) as s:
        data = resolve(s, "two", by="bob", now=NOW, note="checked")
    assert data["flags"] == [shared, own] and data["triggers"] == []
    assert data["still_open"] == [{"trigger": shared, "assessments": ["one", "undecided"]},
                                  {"trigger": own, "assessments": ["undecided"]}]
    for assessment in ("one", "undecided"):
        with session_scope(engine) as s:
            data = resolve(s, assessment, by="bob", now=NOW, note="checked")
    assert data["triggers"] == [shared, own] and data["still_open"] == []
    with session_scope(engine) as s:
        assert {t.id: t.status for t in s.execute(select(Trigger)).scalars()} == {
            shared: "resolved", own: "resolved"}


def test_pending_assessments_are_flagged_but_not_re_reviewed(engine: Engine,
                                                             tmp_path: Path) -> None:
    path = tmp_path / "shared.yaml"
    path.write_text(SHARED)
    synced(engine, load_config(path))
    fire(engine, "acme", "model_change", "m1")
    fire(engine, "acme", "model_change", "m2")
    assert statuses(engine) == {"one": "re_review_required", "two": "re_review_required",
                                "undecided": "current"}
    with session_scope(engine) as s:
        flags = s.execute(select(AssessmentFlag).where(
            AssessmentFlag.assessment_id == "undecided")).scalars().all()
        assert len(flags) == 2 and all(f.resolved_at is None for f in flags)
        # no transition is recorded where none happened (the second flag of "one")
        data = [e.data for e in s.execute(select(AuditEvent).where(
            AuditEvent.action == "flagged").order_by(AuditEvent.id)).scalars()]
    moves = [(d.get("from"), d.get("to")) for d in data]
    assert moves.count(("current", "re_review_required")) == 2
    assert all(a != b or a is None for a, b in moves) and (None, None) in moves


def test_resolving_a_current_assessment_changes_nothing(engine: Engine,
                                                        tmp_path: Path) -> None:
    synced(engine, register(tmp_path))
    with session_scope(engine) as s:
        before = s.get(Assessment, "acme-support")
        assert before is not None
        dates = (before.assessed, before.next_review, before.baseline_at)
        data = resolve(s, "acme-support", by="bob", now=NOW + timedelta(days=9), note="again")
    assert data["changed"] is False
    with session_scope(engine) as s:
        row = s.get(Assessment, "acme-support")
        assert row is not None and (row.assessed, row.next_review, row.baseline_at) == dates
        assert not s.execute(select(AuditEvent).where(
            AuditEvent.action == "resolved")).scalars().all()
        # a new review date, given on purpose, is recorded
        data = resolve(s, "acme-support", by="bob", now=NOW, note="early annual review",
                       assessed=NOW.date())
    assert data["changed"] is True and data["assessed"]["to"] == NOW.date().isoformat()


def test_overdue_reviews_flag_by_default(engine: Engine, tmp_path: Path) -> None:
    """``triggers:`` lists the changes an assessment watches; an overdue review flags it
    whatever the list says, unless ``flag_overdue: false``."""
    path = tmp_path / "overdue.yaml"
    path.write_text(SHARED.replace("triggers: [model_change]}", "triggers: [model_change],\n"
                                   "     next_review: 2026-02-01}")
                    .replace("triggers: [model_change, incident]}",
                             "triggers: [incident], next_review: 2026-02-01,\n"
                             "     flag_overdue: false}"))
    cfg = load_config(path)
    assert cfg.assessments[0].triggers == ["model_change", "review_due"]
    assert cfg.assessments[1].triggers == ["incident"]
    synced(engine, cfg)
    assert fire_review_due(cfg, engine, now=NOW) == 1
    assert statuses(engine)["one"] == "re_review_required"
    assert statuses(engine)["two"] == "current"


def test_lifecycle_errors(engine: Engine, tmp_path: Path) -> None:
    synced(engine, register(tmp_path))
    with session_scope(engine) as s, pytest.raises(LifecycleError, match="no trigger 99"):
        acknowledge(s, 99, by="x", now=NOW)
    with session_scope(engine) as s, pytest.raises(LifecycleError, match="no assessment"):
        resolve(s, "nope", by="x", now=NOW, note="n")
    with session_scope(engine) as s, pytest.raises(LifecycleError, match="note"):
        resolve(s, "acme-support", by="x", now=NOW, note="  ")
    with session_scope(engine) as s, pytest.raises(LifecycleError, match="disposition"):
        resolve(s, "acme-support", by="x", now=NOW, note="n", disposition="maybe")


def test_sync_keeps_resolution_and_config_rebaselines(engine: Engine, tmp_path: Path) -> None:
    cfg = register(tmp_path)
    synced(engine, cfg)
    fire(engine, "acme", "policy_change", "k1")
    with session_scope(engine) as s:
        resolve(s, "acme-support", by="bob", now=NOW, note="ok", disposition="rejected")
    synced(engine, cfg, NOW + timedelta(hours=1))  # a re-sync never undoes the resolution
    with session_scope(engine) as s:
        row = s.get(Assessment, "acme-support")
        assert row is not None
        assert (row.status, row.disposition, row.assessed) == ("current", "rejected",
                                                                NOW.date())
        assert row.next_review == date(2027, 3, 1)
        marketing = s.get(Assessment, "acme-marketing")
        assert marketing is not None and marketing.status == "re_review_required"

    fire(engine, "acme", "policy_change", "k2")
    synced(engine, register(tmp_path, assessed="2026-04-01"), NOW + timedelta(days=31))
    with session_scope(engine) as s:
        row = s.get(Assessment, "acme-support")
        assert row is not None
        assert (row.status, row.disposition) == ("current", "approved")  # the config's again
        assert row.assessed == date(2026, 4, 1) and row.next_review == date(2027, 4, 1)
        open_flags = s.execute(select(AssessmentFlag).where(
            AssessmentFlag.assessment_id == "acme-support",
            AssessmentFlag.resolved_at.is_(None))).scalars().all()  # type: ignore[union-attr]
        assert open_flags == []
        actions = [e.action for e in s.execute(select(AuditEvent).where(
            AuditEvent.object_id == "acme-support").order_by(AuditEvent.id)).scalars()]
    assert actions[-1] == "rebaselined"


def test_review_due_fires_once_per_due_date(engine: Engine, tmp_path: Path) -> None:
    cfg = register(tmp_path, assessed="2025-01-15", next_review="2026-12-01")
    synced(engine, cfg)
    assert fire_review_due(cfg, engine, now=NOW) == 1  # acme-support only
    assert fire_review_due(cfg, engine, now=NOW) == 0
    assert fire_review_due(cfg, engine, now=NOW + timedelta(days=1)) == 0
    with session_scope(engine) as s:
        trigger = s.execute(select(Trigger)).scalar_one()
        assert (trigger.type, trigger.assessment_id, trigger.vendor_id) == (
            "review_due", "acme-support", "acme")
        assert trigger.source_id is None and trigger.evidence["next_review"] == "2026-01-15"
        flags = s.execute(select(AssessmentFlag.assessment_id)).scalars().all()
    assert flags == ["acme-support"]  # acme-marketing does not watch review_due
    assert statuses(engine)["acme-support"] == "re_review_required"

    with session_scope(engine) as s:
        resolve(s, "acme-support", by="bob", now=NOW, note="annual review done")
    assert fire_review_due(cfg, engine, now=NOW) == 0  # next review is 2027-03-01 now
    next_year = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    assert fire_review_due(cfg, engine, now=next_year) == 2  # and northwind-search's date
    assert fire_review_due(cfg, engine, now=next_year) == 0


def test_daemon_job_fires_review_due_once(engine: Engine, tmp_path: Path) -> None:
    from monitor.daemon.lifecycle import register_jobs

    cfg = register(tmp_path, assessed="2000-01-01", next_review="2000-06-01")
    synced(engine, cfg)
    jobs: dict[str, Any] = {}
    daemon = SimpleNamespace(config=cfg, engine=engine, worker="t",
                             add_periodic=lambda name, seconds, job: jobs.update({name: job}))
    register_jobs(daemon)
    for _ in range(2):  # twice, as two daemons or two ticks would
        asyncio.run(jobs["review_due"]())
    with session_scope(engine) as s:
        due = s.execute(select(Trigger.assessment_id).order_by(Trigger.id)).scalars().all()
    assert due == ["acme-support", "northwind-search"]


# --- confirm: N and compare_versions against the simulated site -----------------------

SITE_CONFIG = """\
database: {db}
vendors:
  - id: acme
    name: Acme AI
    sources:
      - id: acme-dpa
        kind: page
        url: {site}/acme/dpa
        select: main
        {option}
assessments:
  - id: acme-support
    vendor: acme
    disposition: approved
    triggers: [policy_change]
"""


def page(text: str) -> str:
    return f"<main><h1>Data Processing Addendum</h1><p>{text}</p></main>"


def site_check(site: Any, sqlite_url: str, tmp_path: Path, option: str) -> Any:
    path = tmp_path / "site.yaml"
    path.write_text(textwrap.dedent(SITE_CONFIG).format(db=sqlite_url, site=site.base_url,
                                                        option=option))
    cfg = load_config(path)
    from storage.db import open_database

    engine = open_database(sqlite_url)

    def check() -> list[str]:
        run_check(cfg, engine, ["acme-dpa"], notify=False)
        with session_scope(engine) as s:
            return [t.title for t in s.execute(select(Trigger).order_by(Trigger.id)).scalars()]
    return check, engine


def test_confirm_two_needs_a_change_on_two_checks(site: Any, sqlite_url: str,
                                                  tmp_path: Path) -> None:
    check, engine = site_check(site, sqlite_url, tmp_path, "confirm: 2")
    site.control("acme", "set_page", path="dpa", html=page("Retention: 30 days."))
    assert check() == []  # baseline
    site.control("acme", "set_page", path="dpa", html=page("Retention: 90 days."))
    assert check() == []  # seen once: pending
    site.control("acme", "set_page", path="dpa", html=page("Retention: 30 days."))
    assert check() == []  # reverted before the second check: never fires
    site.control("acme", "set_page", path="dpa", html=page("Retention: 90 days."))
    assert check() == []
    assert len(check()) == 1  # seen on two consecutive checks: fires
    assert len(check()) == 1
    assert statuses(engine) == {"acme-support": "re_review_required"}
    engine.dispose()


def test_flapping_between_recent_versions_fires_once(site: Any, sqlite_url: str,
                                                     tmp_path: Path) -> None:
    check, engine = site_check(site, sqlite_url, tmp_path, "compare_versions: 3")
    a, b = page("Served from the EU."), page("Served from the US.")
    site.control("acme", "set_page", path="dpa", html=a)
    assert check() == []
    for html in (b, a, b, a, b):
        site.control("acme", "set_page", path="dpa", html=html)
        fired = check()
    assert len(fired) == 1  # A→B once; every later flip is a return to a recent version
    site.control("acme", "set_page", path="dpa", html=page("Served from Mars."))
    assert len(check()) == 2  # a genuinely new version still fires
    engine.dispose()


def _register_rows(engine: Engine) -> list[tuple[Any, ...]]:
    cols = ("id", "vendor_id", "system", "owner", "disposition", "assessed", "next_review",
            "review_every", "trigger_types", "status", "active")
    with session_scope(engine) as s:
        return sorted(tuple(getattr(a, c) for c in cols)
                      for a in s.execute(select(Assessment)).scalars())


VARIANTS = [
    {}, {"assessed": "2025-06-01"}, {"assessed": "2026-04-01"}, {"assessed": "2025-01-01"},
    {"next_review": "2026-05-01"}, {"disposition": "rejected"}, {"system": "Chat"},
    {"owner": "[alice]"}, {"triggers": "[incident]"}, {"review_every": "6 months"},
    {"drop": True},
]


def _variant(tmp_path: Path, v: dict[str, Any]) -> Config:
    text = REGISTER.format(assessed=v.get("assessed", "2025-06-01"),
                           next_review=v.get("next_review", "2026-02-01"))
    for key, default in (("disposition", "approved"), ("system", "Support assistant"),
                         ("review_every", "12 months")):
        text = text.replace(f"{key}: {default}", f"{key}: {v.get(key, default)}")
    if "owner" in v:
        text = text.replace("    vendor: northwind\n",
                            f"    vendor: northwind\n    owner: {v['owner']}\n")
        text += "channels:\n  alice: {urls: ['json://127.0.0.1:9/hook']}\n"
    if "triggers" in v:
        text = text.replace("triggers: [policy_change]", f"triggers: {v['triggers']}")
    if v.get("drop"):
        text = text.split("  - id: northwind-search")[0]
    path = tmp_path / "variant.yaml"
    path.write_text(text)
    return load_config(path)


@pytest.mark.parametrize("resolved", [False, True])
def test_the_sync_skips_assessments_only_when_nothing_would_change(
        engine: Engine, tmp_path: Path, resolved: bool) -> None:
    """``sync._assessments_match`` (the plain read that lets a sync skip its ORM pass)
    says True exactly when the full sync would leave every row as it is."""
    from storage import sync

    for before in VARIANTS:
        for after in VARIANTS:
            synced(engine, _variant(tmp_path, before))
            if resolved:
                with session_scope(engine) as s:
                    resolve(s, "acme-support", by="bob", now=NOW, note="ok",
                            disposition="rejected")
            cfg = _variant(tmp_path, after)
            with session_scope(engine) as s:
                skip = sync._assessments_match(s, cfg)
            rows = _register_rows(engine)
            with session_scope(engine) as s:
                sync._sync_assessments(s, cfg, NOW)
            assert skip == (_register_rows(engine) == rows), (before, after)
            with session_scope(engine) as s:  # and once synced, it always matches
                assert sync._assessments_match(s, cfg), (before, after)
