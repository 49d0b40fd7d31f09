"""Secrets written as ``${VAR}`` in a source (its URL, its headers) never reach a stored
row, a log line or a notification: the URL is stored with its placeholder, and every
fetched result (final URL, error, body) has each expanded value put back as its
placeholder before it is hashed, parsed, stored or sent. A source's headers go only to
its own origin; credentials in a URL are refused at ``validate``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from faultsite import Loopback, subprocessors_html
from notify_receivers import HttpSink
from test_faults import _stored_text

from config import parse_config
from monitor.check.pipeline import Checker
from monitor.logs import setup_logging
from monitor.notify.notifier import deliver_due
from monitor.notify.routing import Routing
from storage.db import open_database

TOKEN = "tok-5ecret-9a8b7c"
KEY = "key-5ecret-1f2e3d"


class EchoSite(Loopback):
    """Redirects with the token in the URL, then serves a page that repeats the token
    and the key it was sent; ``/hop`` redirects to another origin."""

    def __init__(self) -> None:
        super().__init__()
        self.other = ""
        self.seen: list[dict[str, str]] = []
        self.extra = ""
        self.broken = False

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/start", self._start)
        app.router.add_get("/list", self._list)
        app.router.add_get("/hop", self._hop)
        return app

    async def _start(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(dict(request.headers))
        token = request.query.get("token", "")
        if self.broken:  # an error whose text names the URL it was sent to
            raise web.HTTPFound(f"http://xn--zz--.example/?token={token}")
        raise web.HTTPFound(f"/list?token={token}")

    async def _list(self, request: web.Request) -> web.StreamResponse:
        token = request.query.get("token", "")
        key = request.headers.get("X-Api-Key", "")
        echo = f"<p>Signed in with {token} and {key}.</p>{self.extra}"
        return web.Response(body=subprocessors_html(extra=echo), content_type="text/html",
                            headers={"ETag": f'"{token}"'})

    async def _hop(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(dict(request.headers))
        raise web.HTTPFound(f"{self.other}/elsewhere")


@pytest.fixture
def echo() -> Iterator[EchoSite]:
    site = EchoSite()
    site.start()
    yield site
    site.stop()


CONFIG = """\
database: {db}
http: {{retries: 0, allow_private: ["127.0.0.1:{other}"]}}
schedule: {{jitter: 0}}
guard: {{hold_checks: 1, hold_time: 0}}
channels:
  sec:
    urls: ["json://127.0.0.1:{hook}/hook"]
vendors:
  - id: acme
    name: Acme
    owner: sec
    sources:
      - id: acme-sub
        kind: subprocessors
        url: "{site}/start?token=${{TOKEN}}"
        headers: {{X-Api-Key: "${{KEY}}"}}
      - id: acme-hop
        kind: page
        url: "{site}/hop"
        headers: {{X-Api-Key: "${{KEY}}"}}
"""


@pytest.fixture
def daemon_logs(capfd: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    """The daemon's own logging (its redacting handler on stderr), at every level; httpx
    logs each request's URL at INFO."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    setup_logging("text", logging.DEBUG)
    logging.getLogger("httpx").setLevel(logging.INFO)
    yield capfd
    root.handlers[:] = handlers
    root.setLevel(level)


def test_a_sources_secrets_are_stored_logged_and_sent_nowhere(
        echo: EchoSite, tmp_path: Path, daemon_logs: pytest.CaptureFixture[str]) -> None:
    other = Loopback()
    other.start()
    echo.other = other.url
    hook = HttpSink()
    text = CONFIG.format(db=f"sqlite:///{tmp_path}/s.db", site=echo.url, other=other.port,
                         hook=hook.port)
    config = parse_config(text, "c.yaml", env={"TOKEN": TOKEN, "KEY": KEY})
    engine = open_database(config.database)
    checker = Checker(config, engine, router=Routing(config))
    checker.sync()
    try:
        first = asyncio.run(checker.check())
        assert first.baseline == 2, first.failures
        echo.extra = "<table><tr><th>Name</th><th>Purpose</th><th>Location</th></tr>" \
                     f"<tr><td>Vault {TOKEN}</td><td>Secrets</td><td>Ireland</td></tr></table>"
        second = asyncio.run(checker.check())
        assert second.triggers >= 1  # a subprocessor added: a trigger, an outbox row
        report = deliver_due(config, engine)
        assert report.sent >= 1
        echo.broken = True
        third = asyncio.run(checker.check(["acme-sub"]))
        assert third.failed == 1 and "invalid URL" in third.failures[0][1]
        assert "${TOKEN}" in third.failures[0][1] and TOKEN not in third.failures[0][1]
    finally:
        checker.close()
        other.stop()
    stored = _stored_text(engine)
    assert "${TOKEN}" in stored and "${KEY}" in stored  # where they were, placeholders
    assert TOKEN not in stored and KEY not in stored
    sent = json.dumps(hook.posts, default=str)
    assert hook.posts and "Vault" in sent
    assert TOKEN not in sent and KEY not in sent
    logged = daemon_logs.readouterr().err
    assert "HTTP Request" in logged and "token=***" in logged  # logged, redacted
    assert TOKEN not in logged and KEY not in logged
    # The source's headers reached its own origin, never the other one it redirects to.
    assert len(echo.seen) >= 4
    assert all({k.lower(): v for k, v in h.items()}.get("x-api-key") == KEY for h in echo.seen)
    assert other.requests
    assert all("x-api-key" not in {k.lower() for k in h} for _, h in other.requests)
    hook.stop()
    engine.dispose()


@pytest.mark.parametrize("url", ["https://user:pass@vendor.example/list",
                                 "https://${CREDS}@vendor.example/list"])
def test_credentials_in_a_url_are_refused_at_validate(
        url: str, tmp_path: Path, run_cli: Any) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("vendors:\n  - id: a\n    name: A\n    sources:\n"
                    f"      - {{id: s, kind: page, url: \"{url}\"}}\n", encoding="utf-8")
    res = run_cli("validate", "--config", str(path), env={"CREDS": "u:p"})
    assert res.returncode == 2
    assert "headers:" in res.stderr and "c.yaml:5" in res.stderr
    assert "pass" not in res.stderr.replace("password", "")
