"""The web UI and JSON API over real HTTP: uvicorn on 127.0.0.1, httpx as the client.

The data comes from the real pipeline run against the simulated vendor site
(``web_fixtures.seed``); the volume test inserts rows directly.
"""

from __future__ import annotations

import csv
import io
import json
import re
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, event, insert, select
from sqlalchemy.engine import Engine
from web_fixtures import (
    HOSTILE,
    PASSWORDS,
    TOKENS,
    LiveServer,
    csrf_of,
    demo_config,
    seed,
    sign_in,
)

from monitor.demo.vendorsite import VendorSite
from monitor.web.app import CSP
from monitor.web.render import safe_href, side_by_side
from monitor.web.timeline import timeline_svg
from storage import queries as q
from storage.db import open_database, session_scope
from storage.models import Assessment, AssessmentFlag, Trigger

ROOT = Path(__file__).resolve().parent.parent


class Demo:
    def __init__(self, server: LiveServer, site: VendorSite) -> None:
        self.server, self.site = server, site
        self.url, self.engine, self.config = server.url, server.engine, server.config

    def trigger(self, **where: Any) -> Trigger:
        with session_scope(self.engine) as session:
            stmt = select(Trigger).order_by(Trigger.id)
            for key, value in where.items():
                stmt = stmt.where(getattr(Trigger, key) == value)
            return session.execute(stmt).scalars().first()


def _demo(tmp: Path, **web: Any) -> Iterator[Demo]:
    site = VendorSite(vendors=["acme", "northwind"])
    site.start(host="127.0.0.1", port=0)
    config = demo_config(site.base_url, f"sqlite:///{tmp}/reassess.db", **web)
    engine = open_database(config.database)
    seed(site, config, engine)
    server = LiveServer(config, engine).start()
    try:
        yield Demo(server, site)
    finally:
        server.stop()
        engine.dispose()
        site.stop()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """Read-only tests share one seeded server; tests that act use ``fresh``."""
    yield from _demo(tmp_path_factory.mktemp("web"))


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Demo]:
    yield from _demo(tmp_path)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10, headers={"accept": "text/html"}) as c:
        yield c


# --- pages ------------------------------------------------------------------------------


def test_pages_render_every_kind_of_change(demo: Demo, client: httpx.Client) -> None:
    home = client.get(demo.url + "/")
    assert home.status_code == 200
    assert "Needs re-review" in home.text and "acme-support-bot" in home.text
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="timeline"' in home.text

    subs = demo.trigger(type="subprocessor_change", vendor_id="acme")
    page = client.get(f"{demo.url}/triggers/{subs.id}").text
    assert "Cohere Inc." in page and "Canada" in page
    assert re.search(r"United States</td>\s*<td class=\"after\"><span class=\"arrow\">→</span> "
                     r"Germany", page)
    incident = client.get(f"{demo.url}/triggers/{demo.trigger(type='incident').id}").text
    assert 'class="entry-title"' in incident and "investigating" in incident
    card = client.get(f"{demo.url}/triggers/{demo.trigger(type='training_data_change').id}")
    assert "Training data" in card.text and "customer conversations" in card.text
    dpa = demo.trigger(type="policy_change", source_id="acme-dpa")
    page = client.get(f"{demo.url}/triggers/{dpa.id}").text
    assert 'class="sbs"' in page
    # the words that changed inside the line are marked, not the whole line
    assert re.search(r"retained for <del>30</del> days", page), page
    assert re.search(r"retained for <ins>90</ins> days", page), page
    assert f'href="/snapshots/{dpa.new_snapshot_id}"' in page
    assert "Notifications sent" in page and "json://" not in page

    for path in ("/vendors", "/vendors/acme", "/assessments", "/assessments/acme-support-bot",
                 f"/snapshots/{dpa.new_snapshot_id}", "/login"):
        r = client.get(demo.url + path)
        assert r.status_code == 200, path
    snap = client.get(f"{demo.url}/snapshots/{dpa.new_snapshot_id}").text
    for evidence in ("HTTP status", "ETag", "Content hash", "Parser", "Last-Modified"):
        assert evidence in snap
    assert client.get(demo.url + "/triggers/999999").status_code == 404
    assert client.get(demo.url + "/vendors/nobody").status_code == 404


def test_security_headers_everywhere(demo: Demo, client: httpx.Client) -> None:
    for path in ("/", "/api/triggers", "/static/style.css", "/nope", "/openapi.json",
                 "/feeds/triggers.atom", "/healthz"):
        r = client.get(demo.url + path)
        assert r.headers["content-security-policy"] == CSP, path
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "same-origin"
    assert "'unsafe-inline'" not in CSP and "script-src 'self'" in CSP
    html = client.get(demo.url + "/").text
    assert "<script" not in html and " style=" not in html and "onclick" not in html
    assert "http://" not in re.sub(r'href="http://127\.0\.0\.1[^"]*"|xmlns="[^"]+"', "", html)


def test_history_filters_and_downloads(demo: Demo, client: httpx.Client) -> None:
    everything = client.get(demo.url + "/api/triggers").json()
    assert everything["total"] >= 8
    r = client.get(demo.url + "/triggers", params={"vendor": "acme", "type": "subprocessor_change",
                                                    "severity": "", "status": "open"})
    assert re.search(r'<b id="total">1</b>', r.text)
    assert "Cohere Inc." in r.text and "Groq" not in r.text
    today = datetime.now(UTC).date()
    r = client.get(demo.url + "/triggers", params={"since": today.isoformat(),
                                                    "until": today.isoformat()})
    assert f'<b id="total">{everything["total"]}</b>' in r.text
    r = client.get(demo.url + "/triggers",
                   params={"until": (today - timedelta(days=1)).isoformat()})
    assert '<b id="total">0</b>' in r.text
    bad = client.get(demo.url + "/triggers", params={"type": "nonsense", "since": "yesterday"})
    assert bad.status_code == 200 and bad.text.count('class="error">Ignored') == 2

    rows = list(csv.DictReader(io.StringIO(client.get(
        demo.url + "/triggers.csv", params={"vendor": "acme"}).text)))
    api = client.get(demo.url + "/api/triggers", params={"vendor": "acme"}).json()
    assert [int(r["id"]) for r in rows] == [t["id"] for t in api["items"]]
    assert all(r["vendor"] == "acme" for r in rows)
    data = client.get(demo.url + "/triggers.json", params={"type": "incident"}).json()
    assert [t["type"] for t in data] == ["incident"] and HOSTILE[0] in data[0]["title"]
    assert client.get(demo.url + "/triggers.csv", params={"type": "x"}).status_code == 422


def test_api_and_openapi(demo: Demo, client: httpx.Client) -> None:
    spec = client.get(demo.url + "/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    for path in ("/api/triggers", "/api/triggers/{trigger_id}", "/api/triggers/{trigger_id}/ack",
                 "/api/assessments/{assessment_id}/resolve", "/api/vendors/{vendor_id}",
                 "/api/snapshots/{snapshot_id}", "/healthz"):
        assert path in spec["paths"], path
    assert "TriggerOut" in spec["components"]["schemas"]
    assert not any(p.startswith(("/triggers", "/login")) for p in spec["paths"])

    page = client.get(demo.url + "/api/triggers", params={"limit": 2, "offset": 1}).json()
    assert page["limit"] == 2 and len(page["items"]) == 2
    subs = demo.trigger(type="subprocessor_change", vendor_id="acme")
    detail = client.get(f"{demo.url}/api/triggers/{subs.id}").json()
    assert detail["kind"] == "subprocessors"
    assert {c["key"] for c in detail["changes"]} == {"Cohere Inc.", "Datadog, Inc."}
    assert detail["flags"][0]["assessment"] == "acme-support-bot"
    assert detail["new_snapshot"]["content_hash"] and detail["notifications"]
    snap = client.get(f"{demo.url}/api/snapshots/{detail['new_snapshot']['id']}").json()
    assert snap["document"] and snap["http_status"] == 200
    vendor = client.get(demo.url + "/api/vendors/acme").json()
    assert {s["id"] for s in vendor["sources"]} >= {"acme-dpa", "acme-subprocessors"}
    assessment = client.get(demo.url + "/api/assessments/acme-support-bot").json()
    assert assessment["assessment"]["status"] == "re_review_required"
    assert client.get(demo.url + "/api/triggers", params={"severity": "huge"}).status_code == 422
    assert client.get(demo.url + "/api/triggers", params={"limit": 5000}).status_code == 422
    assert client.get(demo.url + "/api/triggers/424242").status_code == 404
    summary = client.get(demo.url + "/api/summary").json()
    assert "acme-support-bot" in summary["needs_review"]


def test_atom_feeds_parse(demo: Demo, client: httpx.Client) -> None:
    for path in ("/feeds/triggers.atom", "/feeds/vendors/acme.atom",
                 "/feeds/assessments/acme-support-bot.atom"):
        r = client.get(demo.url + path)
        assert r.headers["content-type"].startswith("application/atom+xml")
        ET.fromstring(r.content)  # well-formed XML
        feed = feedparser.parse(r.content)
        assert not feed.bozo, (path, feed.get("bozo_exception"))
        assert feed.entries and all(e.link.startswith(demo.url + "/triggers/")
                                    for e in feed.entries)
    feed = feedparser.parse(client.get(demo.url + "/feeds/vendors/acme.atom").content)
    titles = [e.title for e in feed.entries]
    assert any(HOSTILE[0] in t for t in titles)  # the vendor's markup, as text
    northwind = feedparser.parse(client.get(demo.url + "/feeds/vendors/northwind.atom").content)
    assert [e.title for e in northwind.entries] == ["[high] Subprocessor added: Groq, Inc."]
    assert client.get(demo.url + "/feeds/vendors/nobody.atom").status_code == 404


def test_hostile_vendor_content_is_text(demo: Demo, client: httpx.Client) -> None:
    pages = [f"/triggers/{demo.trigger(type='incident').id}",
             f"/triggers/{demo.trigger(type='policy_change', source_id='acme-dpa').id}",
             "/", "/triggers", "/vendors/acme"]
    hostile_dpa = [t for t in client.get(demo.url + "/api/triggers", params={
        "source": "acme-dpa"}).json()["items"]]
    pages += [f"/triggers/{t['id']}" for t in hostile_dpa]
    seen_text = False
    for path in pages:
        html = client.get(demo.url + path).text
        assert "<script>alert" not in html and "<img src=x" not in html, path
        assert 'href="javascript:' not in html.lower() and "onerror=alert(1)>" not in html
        seen_text = seen_text or "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert seen_text
    assert safe_href("javascript:alert(1)") is None
    assert safe_href(" JavaScript:alert(1)") is None
    assert safe_href("data:text/html,<b>") is None
    assert safe_href("https://x.example/a?b=1") == "https://x.example/a?b=1"
    assert safe_href("http://x.example/\nfoo") is None


# --- auth, CSRF, roles ------------------------------------------------------------------


def test_mutations_refused_without_session_or_csrf(demo: Demo) -> None:
    trigger = demo.trigger(status="open")
    ack = f"{demo.url}/triggers/{trigger.id}/ack"
    with httpx.Client(timeout=10, headers={"accept": "text/html"}) as anon:
        assert anon.post(ack, data={"note": "x"}).status_code == 401
        assert anon.post(f"{demo.url}/api/triggers/{trigger.id}/ack", json={}).status_code == 401
        token = csrf_of(anon.get(demo.url + "/login").text)
        login = {"name": "rita", "password": PASSWORDS["rita"]}
        assert anon.post(demo.url + "/login", data=login).status_code == 403
        assert anon.post(demo.url + "/login", data={**login, "csrf": "forged"}).status_code == 403
        r = anon.post(demo.url + "/login", data={**login, "csrf": token,
                                                 "password": "wrong"})
        assert r.status_code == 401 and "Wrong name or password" in r.text
    with httpx.Client(timeout=10) as rita:
        csrf = sign_in(rita, demo.url, "rita")
        assert rita.post(ack, data={"note": "no token"}).status_code == 403
        assert rita.post(ack, data={"csrf": "wrong", "note": "x"}).status_code == 403
        foreign = rita.post(ack, data={"csrf": csrf}, headers={"origin": "https://evil.example"})
        assert foreign.status_code == 403
        api = f"{demo.url}/api/assessments/acme-support-bot/resolve"
        assert rita.post(api, json={"note": "x"}).status_code == 403  # no X-CSRF-Token
        resolve = f"{demo.url}/assessments/acme-support-bot/resolve"
        assert rita.post(resolve, data={"note": "x"}).status_code == 403
    with session_scope(demo.engine) as session:
        assert session.get(Trigger, trigger.id).status == "open"
        assert session.get(Assessment, "acme-support-bot").status == "re_review_required"


def test_roles_and_tokens(fresh: Demo) -> None:
    trigger = fresh.trigger(status="open")
    with httpx.Client(timeout=10) as vera:
        csrf = sign_in(vera, fresh.url, "vera")
        r = vera.post(f"{fresh.url}/triggers/{trigger.id}/ack", data={"csrf": csrf})
        assert r.status_code == 403
        assert "Acknowledge</button>" not in vera.get(f"{fresh.url}/triggers/{trigger.id}").text
        assert "Source configuration" not in vera.get(fresh.url + "/vendors/acme").text
    with httpx.Client(timeout=10) as adam:
        sign_in(adam, fresh.url, "adam")
        page = adam.get(fresh.url + "/vendors/acme").text
        assert "Source configuration" in page and "vendor-secret" not in page
    api = f"{fresh.url}/api/triggers/{trigger.id}/ack"
    viewer = {"authorization": f"Bearer {TOKENS['dash'][1]}"}
    reviewer = {"authorization": f"Bearer {TOKENS['ci-bot'][1]}"}
    assert httpx.post(api, json={}, headers=viewer).status_code == 403
    assert httpx.post(api, json={}, headers={"authorization": "Bearer nope"}).status_code == 401
    r = httpx.post(api, json={"note": "checked by CI"}, headers=reviewer)
    assert r.status_code == 200 and r.json()["changed"] is True
    assert r.json()["trigger"]["status"] == "acknowledged"
    assert r.json()["trigger"]["acked_by"] == "ci-bot"
    again = httpx.post(api, json={}, headers=reviewer).json()
    assert again["changed"] is False
    resolve = httpx.post(f"{fresh.url}/api/assessments/northwind-summaries/resolve",
                         json={"note": "Groq reviewed", "disposition": "approved"},
                         headers=reviewer)
    assert resolve.status_code == 200, resolve.text
    assert resolve.json()["assessment"]["status"] == "current"
    assert httpx.post(f"{fresh.url}/api/assessments/northwind-summaries/resolve",
                      json={"note": ""}, headers=reviewer).status_code == 422


def test_ack_and_resolve_through_the_forms(fresh: Demo) -> None:
    trigger = fresh.trigger(type="model_change")
    with httpx.Client(timeout=10, base_url=fresh.url) as rita:
        csrf = sign_in(rita, fresh.url, "rita")
        r = rita.post(f"/triggers/{trigger.id}/ack", data={"csrf": csrf, "note": "seen <b>"})
        assert r.status_code == 303 and r.headers["location"].endswith("?done=acknowledged")
        page = rita.get(r.headers["location"]).text
        assert "Acknowledged." in page and "by rita" in page and "seen &lt;b&gt;" in page
        page = rita.get("/assessments/acme-code-review").text
        assert 'class="inline ack-inline"' in page
        other = re.search(r'action="/triggers/(\d+)/ack" class="inline ack-inline"', page)
        r = rita.post(f"/triggers/{other.group(1)}/ack",
                      data={"csrf": csrf, "back": "/assessments/acme-code-review"})
        assert r.headers["location"] == "/assessments/acme-code-review?done=acknowledged"
        r = rita.post("/assessments/acme-code-review/review", data={"csrf": csrf})
        assert r.status_code == 303
        r = rita.post("/assessments/acme-code-review/resolve",
                      data={"csrf": csrf, "note": "Model swap reviewed",
                            "disposition": "approved"})
        assert r.status_code == 303
        page = rita.get(r.headers["location"]).text
        assert 'id="assessment-status">current' in page and "Model swap reviewed" in page
        assert "review started" in page
        assert rita.post("/assessments/acme-code-review/resolve",
                         data={"csrf": csrf, "note": " "}).status_code == 400
        r = rita.post("/logout", data={"csrf": csrf})
        assert r.status_code == 303
        assert rita.post(f"/triggers/{trigger.id}/ack", data={"csrf": csrf}).status_code == 401
    with session_scope(fresh.engine) as session:
        row = session.get(Assessment, "acme-code-review")
        assert row.status == "current" and row.disposition == "approved"
        assert session.get(Trigger, trigger.id).acked_by == "rita"


def test_sign_in_required_off_loopback(tmp_path: Path) -> None:
    site = VendorSite(vendors=["acme"])
    site.start(host="127.0.0.1", port=0)
    config = demo_config(site.base_url, f"sqlite:///{tmp_path}/r.db", public_read=False)
    engine = open_database(config.database)
    server = LiveServer(config, engine).start()
    try:
        with httpx.Client(timeout=10, headers={"accept": "text/html"}) as c:
            r = c.get(server.url + "/triggers?vendor=acme")
            assert r.status_code == 303
            assert r.headers["location"] == "/login?next=/triggers%3Fvendor%3Dacme"
            assert c.get(server.url + "/api/triggers").status_code == 401
            assert c.get(server.url + "/feeds/triggers.atom").status_code == 401
            assert c.get(server.url + "/healthz").status_code == 200
            token = {"authorization": f"Bearer {TOKENS['dash'][1]}"}
            assert c.get(server.url + "/api/triggers", headers=token).status_code == 200
            sign_in(c, server.url, "vera")
            assert c.get(server.url + "/").status_code == 200
            r = c.post(server.url + "/login", data={"csrf": csrf_of(c.get(
                server.url + "/triggers").text), "name": "vera", "password": "x",
                "next": "//evil.example/"})
            assert r.status_code == 401
    finally:
        server.stop()
        engine.dispose()
        site.stop()


# --- volume, queries on both backends ---------------------------------------------------


def _many_triggers(engine: Engine, n: int) -> None:
    now = datetime.now(UTC)
    rows = [{"dedupe_key": f"bulk-{i}", "schema_version": 1,
             "type": ("incident", "policy_change", "model_change")[i % 3],
             "severity": ("low", "medium", "high", "critical")[i % 4],
             "title": f"Bulk trigger {i}", "vendor_id": ("acme", "northwind")[i % 2],
             "source_id": None, "created_at": now - timedelta(minutes=i * 37),
             "status": "open" if i % 5 else "acknowledged"} for i in range(n)]
    with session_scope(engine) as session:
        session.execute(insert(Trigger), rows)


def test_history_paginates_thousands_with_bounded_queries(fresh: Demo) -> None:
    _many_triggers(fresh.engine, 3000)
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(fresh.engine, "before_cursor_execute", record)
    try:
        r = httpx.get(fresh.url + "/triggers", headers={"accept": "text/html"})
    finally:
        event.remove(fresh.engine, "before_cursor_execute", record)
    total = int(re.search(r'<b id="total">(\d+)</b>', r.text).group(1))
    assert total >= 3000 and r.text.count('<td class="title">') == 50
    assert f"page 1 of {-(-total // 50)}" in r.text
    assert len(statements) <= 8, statements
    listing = [s for s in statements if re.search(r'FROM "?trigger"?\s', s)
               and "count(" not in s.lower() and "assessmentflag" not in s.lower()]
    assert listing and all("LIMIT" in s for s in listing)
    last = httpx.get(fresh.url + "/triggers", params={"page": 10_000}).text
    assert f"page {-(-total // 50)} of" in last
    dashboard = httpx.get(fresh.url + "/")
    assert dashboard.status_code == 200 and "Northwind Models" in dashboard.text
    lines = httpx.get(fresh.url + "/triggers.csv").text.strip().splitlines()
    assert len(lines) == total + 1


def test_a_text_search_counts_its_matches_up_to_a_cap(fresh: Demo,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A word in most of the history is counted only up to SEARCH_COUNT_MAX ("more than"),
    and the newest matches are listed; a narrower search still gets its exact count."""
    from monitor.web import pages

    _many_triggers(fresh.engine, 300)
    monkeypatch.setattr(pages, "SEARCH_COUNT_MAX", 120)
    common = httpx.get(fresh.url + "/triggers", params={"q": "bulk trigger"},
                       headers={"accept": "text/html"}).text
    assert 'more than <b id="total">120</b> triggers match' in common
    assert "page 1 of 3" in common and "Bulk trigger 0<" in common
    rare = httpx.get(fresh.url + "/triggers", params={"q": "trigger 29"},
                     headers={"accept": "text/html"}).text
    # Bulk trigger 29, 129, 229, 290-299: thirteen, counted exactly
    assert '<b id="total">13</b> triggers' in rare and "more than" not in rare
    api = httpx.get(fresh.url + "/api/triggers", params={"q": "bulk trigger"}).json()
    assert api["total"] == 300  # the API's total stays exact


def test_queries_on_each_backend(engine: Engine) -> None:
    _many_triggers(engine, 120)
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        session.add(Assessment(id="a1", vendor_id="acme", status="re_review_required",
                               trigger_types=["incident"]))
        ids = session.execute(select(Trigger.id).order_by(Trigger.id).limit(3)).scalars().all()
        for i in ids:
            session.add(AssessmentFlag(assessment_id="a1", trigger_id=i, created_at=now))
    with session_scope(engine) as session:
        days = q.trigger_timeline(session, now - timedelta(days=90))
        assert sum(n for *_, n in days) == 120
        assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for _, d, _, _ in days)
        assert {d for _, d, _, _ in days} >= {now.date().isoformat()}
        flt = q.TriggerFilter(vendor="acme")
        assert len(list(q.iter_triggers(session, flt, batch=7))) == q.count_triggers(session, flt)
        assert len(list(q.iter_triggers(session, None, batch=50, cap=75))) == 75
        needs = q.needs_review(session, per_assessment=2)
        assert [(a.id, len(ts), n) for a, ts, n in needs] == [("a1", 2, 3)]
        counts = q.open_trigger_counts(session)
        assert sum(counts.values()) == q.count_triggers(session, q.TriggerFilter(status="open"))
        assert [(a.id, n) for a, n in q.assessment_overview(session)] == [("a1", 3)]


# --- pieces ---------------------------------------------------------------------------


def test_timeline_svg_escapes_and_links() -> None:
    today = date(2026, 5, 20)
    rows = [("v1", "2026-05-20", "high", 3), ("v1", "2026-05-20", "low", 1),
            ("v1", "2026-03-01", "critical", 1), ("v2", "2026-04-02", "low", 2)]
    svg = timeline_svg(rows, [("v1", '<script>alert("x")</script>'), ("v2", "V & Two")],
                       today, lambda qs: "/triggers?" + qs)
    tree = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert not tree.findall(f".//{ns}script")
    circles = tree.findall(f".//{ns}circle")
    assert [c.get("class") for c in circles] == ["sev-critical", "sev-high", "sev-low"]
    tips = [t.text for t in tree.findall(f".//{ns}circle/{ns}title")]
    assert '<script>alert("x")</script>, 2026-05-20: 4 triggers (3 high, 1 low)' in tips
    assert tree.find(f".//{ns}a").get("href") == \
        "/triggers?vendor=v1&since=2026-03-01&until=2026-03-01"


def test_repeated_wrong_passwords_lock_the_name_out() -> None:
    from monitor.web.auth import LOCKOUT_AFTER, Auth, AuthError

    auth = Auth(demo_config("http://127.0.0.1:9", "sqlite://").web)
    for _ in range(LOCKOUT_AFTER):
        assert auth.check_password("rita", "wrong") is None
    with pytest.raises(AuthError) as refused:
        auth.check_password("RITA", PASSWORDS["rita"])
    assert refused.value.status == 429
    assert auth.check_password("vera", PASSWORDS["vera"]) is not None  # others unaffected


def test_reload_applies_new_users_and_keeps_sessions() -> None:
    from monitor.web.app import create_app, reconfigure

    config = demo_config("http://127.0.0.1:9", "sqlite://", secret_key=None)
    app = create_app(config, create_engine("sqlite://"))
    before = app.state.web.auth
    web = config.web.model_copy(update={"users": config.web.users[:1]})
    reconfigure(app, config.model_copy(update={"web": web}))
    after = app.state.web.auth
    assert list(after.users) == ["vera"] and after.secret == before.secret


def test_sign_in_goes_back_only_to_local_paths() -> None:
    from monitor.web.auth import safe_next

    assert safe_next("/triggers?vendor=acme") == "/triggers?vendor=acme"
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example",
                   "/\t/evil.example", "javascript:alert(1)", "", None):
        assert safe_next(target) == "/", target


def test_side_by_side_diff() -> None:
    rows = side_by_side(["a", "b", "c", "d"], ["a", "B", "c", "d", "e"], context=0)
    assert [(r.kind, r.left, r.right) for r in rows] == [
        ("replace", "b", "B"), ("gap", "", ""), ("insert", "", "e")]


def test_healthz_and_extension_checks(tmp_path: Path) -> None:
    from monitor.web.app import add_health_check

    site = VendorSite(vendors=["acme"])
    config = demo_config("http://127.0.0.1:9", f"sqlite:///{tmp_path}/r.db")
    engine = open_database(config.database)
    server = LiveServer(config, engine, health=lambda: {"scheduler": "running"}).start()
    try:
        body = httpx.get(server.url + "/healthz").json()
        assert body == {"status": "ok", "database": "ok", "version": "1",
                        "scheduler": "running"}
        add_health_check(server.app, lambda: {"status": "error", "scheduler": "stalled"})
        r = httpx.get(server.url + "/healthz")
        assert r.status_code == 503 and r.json()["scheduler"] == "stalled"
    finally:
        server.stop()
        engine.dispose()
        del site


# --- commands -------------------------------------------------------------------------


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "monitor.cli", *args], input=stdin,
                          capture_output=True, text=True, timeout=60, cwd=ROOT, check=False)


def test_hash_password_and_new_token_commands() -> None:
    from typer.testing import CliRunner

    from monitor.cli import app

    r = _cli("hash-password", stdin="s3cret pass\n")
    assert r.returncode == 0, r.stderr
    assert PasswordHasher().verify(r.stdout.strip(), "s3cret pass")
    runner = CliRunner()
    assert runner.invoke(app, ["hash-password"], input="\n").exit_code == 2
    made = runner.invoke(app, ["new-token", "ci", "--role", "reviewer"])
    assert made.exit_code == 0, made.output
    token = made.output.split("\n")[1].strip()
    digest = re.search(r"token_hash: '([^']+)'", made.output).group(1)
    assert PasswordHasher().verify(digest, token)
    assert runner.invoke(app, ["new-token", "ci", "--role", "god"]).exit_code == 2


def test_read_policy_follows_the_listening_address() -> None:
    from monitor.web.app import create_app
    from monitor.web.server import with_address

    config = demo_config("http://127.0.0.1:9", "sqlite://")
    engine = create_engine("sqlite://")
    assert create_app(config, engine).state.web.auth.public_read is True
    wide = with_address(config, "0.0.0.0", 8081)
    assert (wide.web.host, wide.web.port) == ("0.0.0.0", 8081)
    assert create_app(wide, engine).state.web.auth.public_read is False
    assert create_app(with_address(config, "::1", None), engine).state.web.auth.public_read


def _wait_for_url(proc: subprocess.Popen[str], pattern: str) -> str:
    assert proc.stderr is not None
    for line in proc.stderr:
        found = re.search(pattern, line)
        if found:
            return found.group(1)
    raise AssertionError(f"never printed {pattern!r}")


def test_serve_command_and_daemon_serve_and_stop(tmp_path: Path) -> None:
    config = tmp_path / "reassess.yaml"
    config.write_text(json.dumps({"database": f"sqlite:///{tmp_path}/r.db",
                                  "web": {"port": 0, "secret_key": "k" * 32}}))
    for command in (["serve", "--port", "0"], ["run"]):
        with subprocess.Popen([sys.executable, "-m", "monitor.cli", *command, "--config",
                               str(config)], cwd=ROOT, text=True, stderr=subprocess.PIPE,
                              stdout=subprocess.DEVNULL) as proc:
            try:
                url = _wait_for_url(proc, r"web UI on (http://\S+)")
                assert httpx.get(url + "/healthz").json()["database"] == "ok"
                assert httpx.get(url + "/").status_code == 200
            finally:
                proc.send_signal(signal.SIGTERM)
                code = proc.wait(15)
                assert code == 0, (command, proc.stderr.read() if proc.stderr else "")
    busy = socket_in_use()
    r = _cli("serve", "--config", str(config), "--port", str(busy.getsockname()[1]))
    busy.close()
    assert r.returncode == 2 and "cannot listen" in r.stderr


def socket_in_use() -> Any:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    return sock
