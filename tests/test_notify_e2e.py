"""Issue 5 end to end: real receivers on loopback, no mocked transport.

An SMTP server (aiosmtpd) receives the email; apprise's own Slack plugin posts to an
HTTP receiver (only its webhook base URL is redirected); ``json://`` posts the
structured payload to the same receiver. The vendor site changes on command.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from apprise.plugins.slack import NotifySlack
from notify_receivers import SMTP_PASSWORD, HttpSink, MailSink, parts
from procs import wait_for
from sqlalchemy import select
from sqlalchemy.engine import Engine

from config.loader import load_config
from config.schema import Config
from monitor.check.pipeline import Checker
from monitor.clock import utcnow
from monitor.notify.notifier import deliver_due, fold_digests
from monitor.notify.payload import validate
from monitor.notify.routing import Routing
from storage.db import open_database, session_scope
from storage.models import Outbox, Source, Trigger

SLACK_URL = "https://hooks.slack.com/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"
SLACK_TOKEN = "TIiajkdnlazkcOXrIdevi7FQ"
BASE = "https://reassess.example.test"

CONFIG = """\
database: {db}
http: {{retries: 0, timeout: 5s}}
schedule: {{tick: 1s, jitter: 0}}
notify: {{tick: 0.5s, retry: 0.3s, retry_max: 1s, attempts: 50}}
web: {{base_url: "{base}"}}
vendors:
  - id: acme
    name: Acme AI
    owner: security-team
    sources:
      - {{id: acme-sub, kind: subprocessors, url: "{site}/acme/subprocessors", interval: 1h}}
      - {{id: acme-dpa, kind: page, url: "{site}/acme/dpa", interval: 1h}}
assessments:
  - id: acme-chat
    vendor: acme
    system: Support chatbot
    owner: grc
    disposition: approved
rules:
  - name: subprocessors-to-oncall
    match: {{type: subprocessor_change}}
    route: oncall
channels:
  security-team:
    urls: ["{mail}", "${{SLACK_WEBHOOK_URL}}"]
  grc:
    urls: ["json://127.0.0.1:{http}/grc"]
  oncall:
    urls: ["json://127.0.0.1:{http}/oncall"]
"""


@pytest.fixture
def mail() -> Iterator[MailSink]:
    sink = MailSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def http(monkeypatch: pytest.MonkeyPatch) -> Iterator[HttpSink]:
    sink = HttpSink()
    monkeypatch.setattr(NotifySlack, "webhook_url", f"{sink.url}/services")
    yield sink
    sink.stop()


@pytest.fixture
def slack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_WEBHOOK_URL", SLACK_URL)


def make(make_config: Any, db: str, site: Any, mail: MailSink, http: HttpSink,
         body: str = CONFIG) -> tuple[Path, Config]:
    path = make_config(body, db=db, site=site.base_url, mail=mail.url, http=http.port,
                       base=BASE)
    return path, load_config(path)


def check(config: Config, engine: Engine, *ids: str) -> Any:
    checker = Checker(config, engine, router=Routing(config))
    checker.sync()
    return asyncio.run(checker.check(list(ids) or None))


def outbox_rows(engine: Engine) -> list[Outbox]:
    with session_scope(engine) as s:
        return list(s.execute(select(Outbox).order_by(Outbox.id)).scalars())


def test_subprocessor_trigger_reaches_email_slack_and_webhooks(
        site: Any, db_url: str, make_config: Any, mail: MailSink, http: HttpSink,
        slack_env: None) -> None:
    _, config = make(make_config, db_url, site, mail, http)
    engine = open_database(db_url)
    check(config, engine, "acme-sub")
    assert not deliver_due(config, engine)
    site.control("acme", "add_subprocessor", name="Cohere", purpose="LLM inference",
                 location="Canada")
    assert check(config, engine, "acme-sub").triggers == 1
    with session_scope(engine) as s:
        trigger_id = s.execute(select(Trigger.id)).scalar_one()
        # written with the trigger, before any delivery
        assert {r.status for r in s.execute(select(Outbox)).scalars()} == {"pending"}
    link = f"{BASE}/triggers/{trigger_id}"

    report = deliver_due(config, engine)
    assert (report.sent, report.retrying, report.failed) == (4, 0, 0)

    # email: subject, both MIME parts, vendor, entity, link
    [message] = mail.messages
    assert message["Subject"] == \
        "[reassess] high subprocessor_change: Acme AI added subprocessor Cohere"
    assert message.get_content_type() == "multipart/alternative"
    body = parts(message)
    assert set(body) == {"text/plain", "text/html"}
    for text in body.values():
        for needle in ("Acme AI", "Cohere", "LLM inference", "Canada", "acme-chat", "approved",
                       link, f"#{trigger_id}"):
            assert needle in text, (needle, text)
    assert f'<a href="{link}">' in body["text/html"] and "<html" not in body["text/plain"]

    # Slack: apprise's own plugin, its webhook base redirected to the receiver
    [(path, headers, raw)] = [p for p in http.posts if p[0].startswith("/services/")]
    assert path == "/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"
    assert headers["Content-Type"].startswith("application/json")
    slack = json.loads(raw)
    assert slack["mrkdwn"] is True
    [attachment] = slack["attachments"]
    assert attachment["title"] == message["Subject"]
    for needle in ("*HIGH · subprocessor change · Acme AI*",
                   "Added subprocessor Cohere — LLM inference — Canada",
                   "acme-chat (Support chatbot): approved → re-review required", link):
        assert needle in attachment["text"], (needle, attachment["text"])

    # json:// — the structured payload, to the assessment owner and the rule's route
    for route in ("/grc", "/oncall"):
        [envelope] = http.json_posts(route)
        assert envelope["title"] == message["Subject"]
        doc = json.loads(envelope["message"])
        validate(doc)
        assert doc["schema"] == "reassess.notification/2" and doc["kind"] == "trigger"
        t = doc["trigger"]
        assert (t["id"], t["type"], t["severity"], t["link"]) == \
            (trigger_id, "subprocessor_change", "high", link)
        assert t["vendor"] == {"id": "acme", "name": "Acme AI"}
        assert t["entities"] == ["Cohere"]
        assert t["changes"][0]["op"] == "added"
        assert t["changes"][0]["after"]["location"] == "Canada"
        assert t["assessments"][0]["id"] == "acme-chat"
        assert doc["delivery"]["id"].startswith(f"t:{trigger_id}:")

    # delivered rows are never delivered again
    assert not deliver_due(config, engine)
    assert len(mail.messages) == 1 and len(http.posts) == 3
    assert {(r.status, r.attempts, r.trigger_id) for r in outbox_rows(engine)} == \
        {("sent", 1, trigger_id)}
    engine.dispose()


def _daemon(config: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "monitor.cli", "run", "--config",
                             str(config), "--no-web"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "NO_COLOR": "1", **env})


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("daemon did not stop within 15 s of SIGTERM") from None
    assert proc.returncode == 0, out
    return out


MAIL_ONLY = CONFIG.replace('"{mail}", "${{SLACK_WEBHOOK_URL}}"', '"{mail}"')


@pytest.mark.slow
def test_smtp_down_retried_across_restart_exactly_one_email(
        site: Any, sqlite_url: str, make_config: Any, http: HttpSink,
        run_cli: Callable[..., Any]) -> None:
    mail = MailSink()  # not started: the SMTP server is down
    path, config = make(make_config, sqlite_url, site, mail, http, MAIL_ONLY)
    engine = open_database(sqlite_url)
    logs = []
    try:
        check(config, engine, "acme-sub")  # the baseline
        site.control("acme", "add_subprocessor", name="Cohere", purpose="LLM inference",
                     location="Canada")
        second = run_cli("check", "--config", str(path), "--source", "acme-sub")
        logs.append(second.stdout + second.stderr)
        assert second.returncode == 0, second.stderr
        assert "retrying 1" in second.stdout, second.stdout
        [row] = [r for r in outbox_rows(engine) if r.channel == "security-team"]
        assert row.status == "pending" and row.attempts == 1
        assert "connection" in (row.last_error or "").lower(), row.last_error

        # a daemon keeps retrying while the server is down, then stops
        proc = _daemon(path, {})
        try:
            wait_for(lambda: _attempts(engine, row.id) >= 3, 40, "the daemon's retries")
        finally:
            logs.append(_stop(proc))
        assert _status(engine, row.id) == "pending" and not mail.messages

        # the server comes back; a restarted daemon delivers the pending row once
        mail.start()
        proc = _daemon(path, {})
        try:
            wait_for(lambda: _status(engine, row.id) == "sent", 40, "delivery after restart")
        finally:
            logs.append(_stop(proc))
        assert not deliver_due(config, engine)  # nothing left to send, nothing sent twice
    finally:
        mail.stop()
        engine.dispose()
    assert len(mail.messages) == 1
    assert mail.messages[0]["Subject"].endswith("Acme AI added subprocessor Cohere")
    text = "\n".join(logs)
    assert "will retry" in text and SMTP_PASSWORD not in text


def _attempts(engine: Engine, row_id: int | None) -> int:
    with session_scope(engine) as s:
        row = s.get(Outbox, row_id)
        return row.attempts if row else 0


def _status(engine: Engine, row_id: int | None) -> str:
    with session_scope(engine) as s:
        row = s.get(Outbox, row_id)
        return row.status if row else ""


def test_hostile_page_content_arrives_neutralised_and_capped(
        site: Any, sqlite_url: str, make_config: Any, mail: MailSink, http: HttpSink,
        slack_env: None) -> None:
    _, config = make(make_config, sqlite_url, site, mail, http)
    engine = open_database(sqlite_url)
    check(config, engine, "acme-dpa")
    page = site.document("acme", "dpa").decode()
    hostile = ("<p>Attention &lt;!channel&gt; &lt;!here&gt; @here @everyone &lt;@U024BE7LH&gt; "
               "&lt;https://evil.example|click here&gt; [login](https://evil.example)</p>"
               "<p>&lt;script&gt;alert(document.cookie)&lt;/script&gt;</p>"
               "<script>alert('raw')</script>"
               f"<p>{'A' * 1_000_000}</p>")
    site.control("acme", "set_page", path="dpa", html=page.replace("</main>", hostile + "</main>")
                 if "</main>" in page else page.replace("</body>", hostile + "</body>"))
    assert check(config, engine, "acme-dpa").triggers == 1
    assert deliver_due(config, engine).sent == 3  # email, Slack, json:// to the grc owner
    [message] = mail.messages
    [envelope] = http.json_posts("/grc")
    assert len(envelope["message"]) < 100_000  # stored and sent data is capped too
    doc = json.loads(envelope["message"])
    assert all(len(json.dumps(c)) < 5_000 for c in doc["trigger"]["changes"])
    [(_, _, raw)] = [p for p in http.posts if p[0].startswith("/services/")]
    slack_text = json.loads(raw)["attachments"][0]["text"]
    email_parts = parts(message)
    for name, text in [("slack", slack_text), *email_parts.items()]:
        for bad in ("<!channel>", "<!here>", "@here", "@everyone", "<@U024BE7LH>",
                    "<https://evil", "<script", "alert('raw')"):
            assert bad not in text, (name, bad)
        assert len(text) < 20_000, (name, len(text))
        assert "A" * 301 not in text, name
    assert "&lt;!channel&gt;" not in slack_text  # neutralised by reassess, not only escaped
    assert "‹!channel›" in email_parts["text/plain"]
    assert len(message["Subject"]) <= 160
    engine.dispose()


def test_failing_source_alerts_once_then_recovers(
        site: Any, db_url: str, make_config: Any, mail: MailSink, http: HttpSink,
        slack_env: None) -> None:
    _, config = make(make_config, db_url, site, mail, http)
    engine = open_database(db_url)
    check(config, engine, "acme-sub")
    site.control("acme", "fail", mode="500")
    subjects = []
    for n in range(1, 6):
        summary = check(config, engine, "acme-sub")
        assert summary.failed == 1
        deliver_due(config, engine)
        subjects.append([m["Subject"] for m in mail.messages])
        assert len(mail.messages) == (0 if n < 3 else 1), (n, subjects)
    assert mail.messages[0]["Subject"] == "[reassess] source failing: acme-sub (Acme AI)"
    text = parts(mail.messages[0])["text/plain"]
    assert "failed 3 checks in a row" in text and "500" in text
    assert f"{BASE}/sources/acme-sub" in text
    with session_scope(engine) as s:
        assert s.get(Source, "acme-sub").alert_state == "failing"  # type: ignore[union-attr]
    alerts = [r.payload["document"] for r in outbox_rows(engine)]  # type: ignore[index]
    assert [validate(a).alert.state for a in alerts] == ["failing", "failing"]  # mail, Slack

    site.control("acme", "fail", mode="ok")
    for _ in range(2):
        assert check(config, engine, "acme-sub").failed == 0
        deliver_due(config, engine)
    assert [m["Subject"] for m in mail.messages] == [
        "[reassess] source failing: acme-sub (Acme AI)",
        "[reassess] source recovered: acme-sub (Acme AI)"]
    with session_scope(engine) as s:
        assert s.get(Source, "acme-sub").alert_state == "ok"  # type: ignore[union-attr]
    # the vendor's owner only: no alert to the assessment owner or the rule's route
    assert http.json_posts("/grc") == [] and http.json_posts("/oncall") == []
    slack = [json.loads(b)["attachments"][0]["title"] for p, _, b in http.posts
             if p.startswith("/services/")]
    assert slack == [m["Subject"] for m in mail.messages]
    engine.dispose()


def test_vanish_guard_alerts_once_and_clears(
        site: Any, sqlite_url: str, make_config: Any, mail: MailSink, http: HttpSink,
        slack_env: None) -> None:
    _, config = make(make_config, sqlite_url, site, mail, http)
    engine = open_database(sqlite_url)
    check(config, engine, "acme-sub")
    site.control("acme", "set_page", path="subprocessors",
                 html="<html><body><main><p>Please sign in.</p></main></body></html>")
    assert check(config, engine, "acme-sub").outcomes == {"suspect": 1}
    deliver_due(config, engine)
    assert [m["Subject"] for m in mail.messages] == \
        ["[reassess] source content vanished: acme-sub (Acme AI)"]
    site.control("acme", "set_page", path="subprocessors", html=None)
    check(config, engine, "acme-sub")
    deliver_due(config, engine)
    assert [m["Subject"] for m in mail.messages][1:] == \
        ["[reassess] source recovered: acme-sub (Acme AI)"]
    engine.dispose()


DIGEST = CONFIG.replace('''  grc:
    urls: ["json://127.0.0.1:{http}/grc"]''', '''  grc:
    urls: ["json://127.0.0.1:{http}/grc"]
    digest: "daily 09:00"
    immediate: high''')


def test_digest_gathers_lower_severities_into_one_message(
        site: Any, sqlite_url: str, make_config: Any, mail: MailSink, http: HttpSink,
        slack_env: None) -> None:
    _, config = make(make_config, sqlite_url, site, mail, http, DIGEST)
    engine = open_database(sqlite_url)
    check(config, engine)
    site.control("acme", "set_dpa", clause="Customer data may be processed in Canada.")
    site.control("acme", "add_subprocessor", name="Cohere", purpose="LLM inference",
                 location="Canada")
    assert check(config, engine).triggers == 2  # policy_change (medium), subprocessor (high)
    deliver_due(config, engine)
    # high goes at once; medium waits for the digest
    [now_sent] = http.json_posts("/grc")
    assert json.loads(now_sent["message"])["trigger"]["type"] == "subprocessor_change"
    waiting = [r for r in outbox_rows(engine) if r.status == "digest"]
    assert [r.channel for r in waiting] == ["grc"]

    later = utcnow() + timedelta(days=1, minutes=1)
    assert fold_digests(config, engine, later) == 1
    assert fold_digests(config, engine, later) == 0  # once per period, even if run twice
    deliver_due(config, engine)
    posts = http.json_posts("/grc")
    assert len(posts) == 2
    digest = json.loads(posts[1]["message"])
    validate(digest)
    assert digest["kind"] == "digest" and digest["channel"] == "grc"
    assert [t["type"] for t in digest["triggers"]] == ["policy_change"]
    assert posts[1]["title"] == "[reassess] digest for grc: 1 trigger"
    assert {r.status for r in outbox_rows(engine) if r.channel == "grc"} == {"sent", "batched"}
    engine.dispose()


def test_two_notifiers_deliver_each_row_once(db_url: str, make_config: Any,
                                             http: HttpSink) -> None:
    """Two daemons sharing the database: every row is claimed, and sent, by one of them."""
    import threading

    from monitor.notify.channels import scheme, url_key
    from monitor.notify.messages import SCHEMA
    from storage import outbox
    from storage.db import make_engine

    path = make_config('database: "{db}"\nchannels:\n'
                       '  hook: {{urls: ["json://127.0.0.1:{port}/hook"]}}\n',
                       db=db_url, port=http.port)
    config = load_config(path)
    engine = open_database(db_url)
    now = utcnow()
    url = config.channels["hook"].urls[0]
    rows = [{"dedupe_key": f"test:{i}", "kind": "test", "channel": "hook", "status": "pending",
             "attempts": 0, "next_attempt_at": None, "created_at": now,
             "payload": {"version": 1, "url_key": url_key(url), "url_index": 0,
                         "scheme": scheme(url),
                         "document": {"schema": SCHEMA, "kind": "test", "channel": "hook",
                                      "at": now.isoformat()}}} for i in range(40)]
    with session_scope(engine) as s:
        outbox.enqueue(s, rows)
    engines = [make_engine(db_url), make_engine(db_url)]
    reports: list[Any] = []
    threads = [threading.Thread(target=lambda e=e, w=w: reports.append(
        deliver_due(config, e, worker=w))) for e, w in zip(engines, ("a", "b"), strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    ids = [json.loads(p["message"])["delivery"]["id"] for p in http.json_posts("/hook")]
    assert sorted(ids) == sorted(r["dedupe_key"] for r in rows)  # each once, none lost
    assert sum(r.sent for r in reports) == 40
    assert {r.status for r in outbox_rows(engine)} == {"sent"}
    for e in (engine, *engines):
        e.dispose()
