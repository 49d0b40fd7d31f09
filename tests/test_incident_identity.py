"""An incident seen once is never new again (issues 15 and 16), on SQLite and PostgreSQL.

Real checks against the simulated vendor site: a Statuspage ``incidents.json`` whose
window drops an incident that later comes back, with a bot wall served in between, and a
state-change feed whose recoveries and returning entries must fire nothing. An incident's
identity is its id (a state change's: the component and the time of the change), and the
basis of its trigger is that identity alone, so the stored trigger's dedupe key refuses
a second firing whatever the documents in between looked like.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from config import Config, parse_config
from monitor.check.pipeline import Checker
from sources.base import Change
from storage.db import open_database, session_scope
from storage.models import CheckRun, Trigger
from triggers.incidents import incidents_rule
from triggers.offline import diff_bodies
from triggers.rules import RuleContext

CONFIG = """\
database: {db}
vendors:
  - id: acme
    name: Acme AI
    sources:
      - {{id: acme-incidents, kind: incidents, url: "{site}/acme/status/api/v2/incidents.json"}}
      - {{id: acme-states, kind: incidents, url: "{site}/acme/status/history.atom"}}
"""

WALL = ("<html><head><title>Just a moment...</title></head><body><h1>status.acme.ai</h1>"
        "<h2>Checking if the site connection is secure</h2><p>Enable JavaScript and cookies "
        "to continue</p></body></html>")


def incident(ident: str, name: str, day: int, status: str = "resolved") -> dict[str, Any]:
    at = f"2025-05-{day:02d}T10:00:00Z"
    update = {"id": f"u-{ident}", "status": status, "body": f"{name}: {status}.",
              "created_at": at, "display_at": at,
              "affected_components": [{"code": "c1", "name": "API", "old_status": "operational",
                                       "new_status": "partial_outage"}]}
    return {"id": ident, "name": name, "status": status, "impact": "major",
            "created_at": at, "updated_at": at,
            "shortlink": f"https://stspg.io/{ident}", "incident_updates": [update],
            "components": [{"id": "c1", "name": "API", "status": "operational"}]}


def statuspage(*incidents: dict[str, Any]) -> str:
    return json.dumps({"page": {"id": "p1", "name": "Acme", "url": "https://status.acme.ai",
                                "updated_at": "2025-05-02T00:00:00Z"},
                       "incidents": list(incidents)})


A = incident("a1b2c3", "Errors on the Batch API", 1)
B = incident("d4e5f6", "Slow responses from the Assistants API", 2)
C = incident("g7h8i9", "API requests failing in eu-west", 3, status="investigating")
C_LATER = incident("g7h8i9", "API requests failing in eu-west", 3, status="monitoring")
D = incident("j1k2l3", "Login failures on the console", 4, status="identified")


def entry(ident: str, title: str, text: str) -> str:
    hour = int(ident.rsplit(":", 1)[1])
    return (f"<entry><id>tag:status.acme.ai,2025:{ident}</id><title>{title}</title>"
            f"<updated>2025-08-08T{hour:02d}:00:00Z</updated>"
            f'<link rel="alternate" href="https://status.acme.ai/"/>'
            f'<content type="text">{text}</content></entry>')


def atom(*entries: str) -> str:
    return ('<?xml version="1.0" encoding="utf-8"?>'
            '<feed xmlns="http://www.w3.org/2005/Atom"><title>Acme status</title>'
            "<id>https://status.acme.ai/</id><updated>2025-08-08T10:00:00Z</updated>"
            + "".join(entries) + "</feed>")


API_DOWN = entry("api:1", "API is now degraded", "API changed from operational to degraded.")
API_UP = entry("api:2", "API is now operational", "API changed from degraded to operational.")
CONSOLE_DOWN = entry("console:3", "Console is now a major outage",
                     "Console changed from operational to a major outage.")
CONSOLE_UP = entry("console:4", "Console is now operational",
                   "Console changed from a major outage to operational.")


@pytest.fixture
def setup(site: Any, db_url: str) -> Iterator[tuple[Config, Engine]]:
    config = parse_config(CONFIG.format(db=db_url, site=site.base_url))
    engine = open_database(db_url)
    yield config, engine
    engine.dispose()


def check(config: Config, engine: Engine) -> None:
    checker = Checker(config, engine)
    checker.sync()
    try:
        asyncio.run(checker.check())
    finally:
        checker.close()


def fired(engine: Engine) -> list[tuple[str | None, tuple[str, ...]]]:
    with session_scope(engine) as s:
        rows = s.execute(select(Trigger).order_by(Trigger.id)).scalars()
        return [(t.source_id, tuple(t.entities or ())) for t in rows]


def serve(site: Any, incidents: str, states: str) -> None:
    site.control("acme", "set_page", path="status/api/v2/incidents.json", html=incidents)
    site.control("acme", "set_page", path="status/history.atom", html=states)


def test_an_incident_fires_once_whatever_comes_between(
        setup: tuple[Config, Engine], site: Any) -> None:
    config, engine = setup
    serve(site, statuspage(A, B), atom(API_UP, API_DOWN))
    check(config, engine)  # the baseline
    assert fired(engine) == []

    # a new incident; the oldest drops out of the window; a component breaks
    serve(site, statuspage(C, B), atom(CONSOLE_DOWN, API_UP, API_DOWN))
    check(config, engine)
    assert sorted(fired(engine)) == [
        ("acme-incidents", ("API requests failing in eu-west", "API")),
        ("acme-states", ("Console is now a major outage", "Console"))]

    # the dropped incident comes back; the component recovers
    serve(site, statuspage(C, B, A), atom(CONSOLE_UP, CONSOLE_DOWN, API_UP, API_DOWN))
    check(config, engine)
    # a bot wall, twice, in place of both documents
    for _ in range(2):
        serve(site, WALL, WALL)
        check(config, engine)
    # the real documents again, not as any stored version was (the state feed's window
    # cut to the recovery alone, the open incident updated): everything is "added"
    serve(site, statuspage(C_LATER, B, A), atom(CONSOLE_UP))
    check(config, engine)
    # then the outage entry comes back into the window
    serve(site, statuspage(C_LATER, B, A), atom(CONSOLE_UP, CONSOLE_DOWN, API_UP))
    check(config, engine)
    assert len(fired(engine)) == 2
    with session_scope(engine) as s:
        outcomes = [r.outcome for r in s.execute(select(CheckRun).order_by(CheckRun.id))
                    .scalars()]
    # the walls are held as suspect and never become the document the next one is diffed
    # against (issue 16's guard); the real documents after them are compared with the
    # last real ones
    assert outcomes[6:10] == ["suspect"] * 4, outcomes
    assert outcomes.count("changed") >= 5 and "reverted" not in outcomes[-4:], outcomes

    serve(site, statuspage(D, C_LATER, B, A), atom(CONSOLE_UP, CONSOLE_DOWN, API_UP))
    check(config, engine)  # a genuinely new incident still fires
    assert fired(engine)[2:] == [("acme-incidents", ("Login failures on the console", "API"))]


def _ctx() -> RuleContext:
    return RuleContext(vendor_id="acme", vendor_name="Acme", source_id="s", kind="incidents",
                       old_hash="h1", new_hash="h2")


def test_the_basis_is_the_identity_alone() -> None:
    """Whatever the old document, a record's trigger has one basis: the dedupe key."""
    first = diff_bodies("incidents", statuspage(B).encode(), statuspage(C, B).encode())
    back = diff_bodies("incidents", statuspage(A).encode(), statuspage(A, C).encode())
    assert [t["entities"] for t in first["triggers"]] == [t["entities"] for t in back["triggers"]]
    record = next(c["after"] for c in first["changes"] if c["op"] == "added")
    one = incidents_rule([Change("added", record["id"], None, record)], _ctx())
    other = incidents_rule([Change("added", record["id"], None, record)],
                           RuleContext(vendor_id="acme", vendor_name="Acme", source_id="s",
                                       kind="incidents", old_hash="x", new_hash="y"))
    assert [e.basis for e in one] == [e.basis for e in other] == [f"incident:{record['id']}"]


def test_recoveries_and_first_readings_are_no_incidents() -> None:
    recovery = diff_bodies("incidents", atom(CONSOLE_DOWN).encode(),
                           atom(CONSOLE_UP, CONSOLE_DOWN).encode())
    assert recovery["triggers"] == [] and recovery["changes"]
    first = entry("mail:5", "Email is now operational",
                  "Email changed from not measured to operational.")
    measured = diff_bodies("incidents", atom(API_UP).encode(), atom(first, API_UP).encode())
    assert measured["triggers"] == [] and measured["changes"]
    worse = entry("console:6", "Console is now degraded",
                  "Console changed from a major outage to degraded.")
    better = diff_bodies("incidents", atom(CONSOLE_DOWN).encode(),
                         atom(worse, CONSOLE_DOWN).encode())
    assert better["triggers"] == []  # better than before: no new outage
