"""Helpers for the web tests: demo-like data from the real pipeline, a live server.

``seed`` runs the real checker against the simulated vendor site: a baseline pass, a
round of changes of every kind (a subprocessor added and one moved, an incident with
hostile markup in its title, a release that swaps the model and adds a capability, a
model card field and a training-data section, a DPA retention change, and a
hostile DPA page), then a second pass that fires the triggers. ``LiveServer`` serves
the app with real uvicorn on 127.0.0.1 in a background thread (same process, so a test
can watch the engine's SQL).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy.engine import Engine

from config.schema import Config
from monitor.check.pipeline import Checker
from monitor.notify.routing import Routing

# Cheap argon2 parameters: verifying costs microseconds, not 50 ms, in tests.
FAST = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
PASSWORDS = {"vera": "viewer-pass", "rita": "reviewer-pass", "adam": "admin-pass"}
ROLES = {"vera": "viewer", "rita": "reviewer", "adam": "admin"}
TOKENS = {"ci-bot": ("reviewer", "tok-reviewer-123"), "dash": ("viewer", "tok-viewer-456")}

HOSTILE = ('<script>alert(1)</script>', '<img src=x onerror=alert(1)>',
           'javascript:alert(1)')
# Added to the vendor's real DPA page: raw markup (the parser drops it) and the same
# markup as visible text (which must reach the browser as text).
HOSTILE_INSERT = """<section><h2>Security notice</h2>
<p>Raw markup: <script>alert(1)</script><img src=x onerror=alert(1)>
<a href="javascript:alert(1)">a javascript: link</a></p>
<p>Quoted: &lt;script&gt;alert(1)&lt;/script&gt; and &lt;img src=x onerror=alert(1)&gt;</p>
<p>javascript:alert(1)</p>
</section>"""


def web_section(**overrides: Any) -> dict[str, Any]:
    users = [{"name": n, "password_hash": FAST.hash(p), "role": ROLES[n]}
             for n, p in PASSWORDS.items()]
    tokens = [{"name": n, "token_hash": FAST.hash(t), "role": r} for n, (r, t) in TOKENS.items()]
    return {"host": "127.0.0.1", "port": 0, "secret_key": "test-secret-key-0123456789",
            "users": users, "tokens": tokens, **overrides}


def demo_config(site_url: str, db_url: str, helios: bool = False, **web: Any) -> Config:
    u = site_url.rstrip("/")
    return Config.model_validate({
        "database": db_url,
        "vendors": [
            {"id": "acme", "name": "Acme AI", "owner": ["log"], "sources": [
                {"id": "acme-subprocessors", "kind": "subprocessors",
                 "url": f"{u}/acme/subprocessors"},
                {"id": "acme-status", "kind": "incidents", "url": f"{u}/acme/status/history.atom"},
                {"id": "acme-changelog", "kind": "changelog", "url": f"{u}/acme/changelog.atom"},
                {"id": "acme-model-card", "kind": "model_card", "url": f"{u}/acme/model-card.md"},
                {"id": "acme-dpa", "kind": "page", "url": f"{u}/acme/dpa", "select": "main",
                 "headers": {"Authorization": "Bearer vendor-secret"}}]},
            {"id": "northwind", "name": "Northwind Models", "sources": [
                {"id": "northwind-subprocessors", "kind": "subprocessors",
                 "url": f"{u}/northwind/subprocessors"},
                {"id": "northwind-model-card", "kind": "model_card",
                 "url": f"{u}/northwind/model-card"}]},
            *([{"id": "heliosml", "name": "Helios ML", "sources": [
                {"id": "heliosml-subprocessors", "kind": "subprocessors",
                 "url": f"{u}/heliosml/subprocessors.md"},
                {"id": "heliosml-status", "kind": "incidents",
                 "url": f"{u}/heliosml/status/history.rss"},
                {"id": "heliosml-changelog", "kind": "changelog",
                 "url": f"{u}/heliosml/changelog"}]}] if helios else []),
        ],
        "assessments": [
            {"id": "acme-support-bot", "vendor": "acme", "system": "Customer-support assistant",
             "owner": "log", "disposition": "approved", "assessed": "2026-03-01",
             "review_every": "12 months"},
            {"id": "acme-code-review", "vendor": "acme", "system": "Code-review assistant",
             "disposition": "approved_with_conditions", "assessed": "2026-05-10",
             "triggers": ["model_change", "new_capability", "training_data_change"]},
            {"id": "northwind-summaries", "vendor": "northwind", "system": "Summaries",
             "disposition": "approved", "assessed": "2026-01-01"},
            *([{"id": "heliosml-search", "vendor": "heliosml", "system": "Semantic search",
                "disposition": "approved_with_conditions", "assessed": "2026-02-01"}]
              if helios else []),
        ],
        "channels": {"log": {"urls": ["json://127.0.0.1:9/notify"]}},
        "web": web_section(**web),
    })


CHANGES: list[tuple[str, str, dict[str, Any]]] = [
    ("acme", "add_subprocessor", {"name": "Cohere Inc.", "purpose": "LLM inference",
                                  "location": "Canada"}),
    ("acme", "modify_subprocessor", {"name": "Datadog, Inc.", "location": "Germany"}),
    ("acme", "add_incident", {"title": f"Elevated errors {HOSTILE[0]} {HOSTILE[1]}",
                              "impact": "major"}),
    ("acme", "add_release", {"tag": "v9.0.0", "body": "Switch the default model to "
                             "acme-large-3. Adds image input."}),
    ("acme", "set_model_card", {"fields": {"license": "apache-2.0"},
                                "sections": {"Training data": "Now also trained on "
                                             "customer conversations."}}),
    ("acme", "set_dpa", {"retention_days": 90}),
    ("northwind", "add_subprocessor", {"name": "Groq, Inc.", "purpose": "Model inference",
                                       "location": "United States"}),
]


def run_checks(config: Config, engine: Engine) -> Any:
    """One ``reassess check`` pass, on a thread of its own: Playwright's sync API keeps an
    event loop running on the main thread."""
    from concurrent.futures import ThreadPoolExecutor

    checker = Checker(config, engine, router=Routing(config))
    checker.sync()
    try:
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(lambda: asyncio.run(checker.check())).result()
    finally:
        checker.close()  # its parse workers end with the pass


def seed(site: Any, config: Config, engine: Engine, hostile_page: bool = True) -> None:
    """Baseline, a round of changes, and the pass that fires their triggers."""
    run_checks(config, engine)
    for vendor, action, params in CHANGES:
        site.control(vendor, action, **params)
    run_checks(config, engine)
    if hostile_page:
        # the site puts an HTML override inside its page chrome, in place of <main>'s content
        page = site.document("acme", "dpa").decode()
        main = page[page.index(">", page.index("<main")) + 1:page.index("</main>")]
        site.control("acme", "set_page", path="dpa", html=main + HOSTILE_INSERT)
        run_checks(config, engine)


def seed_history(site: Any, config: Config, engine: Engine, days: tuple[int, ...] = (
        86, 79, 71, 64, 58, 49, 43, 36, 30, 22, 15, 9, 4)) -> None:
    """Checks on past days (the pipeline's clock set back), each after a few random
    changes on the site, so the timeline and history span the last 90 days."""
    from unittest import mock

    import monitor.check.pipeline

    now = monitor.check.pipeline.utcnow()
    with mock.patch.object(monitor.check.pipeline, "utcnow", lambda: now - timedelta(days=90)):
        run_checks(config, engine)
    for n, back in enumerate(days):
        for _ in range(1 + n % 3):
            site.demo_step()
        when = now - timedelta(days=back, hours=n)
        with mock.patch.object(monitor.check.pipeline, "utcnow", lambda when=when: when):
            run_checks(config, engine)


class LiveServer:
    """The app on real uvicorn, 127.0.0.1, a free port, in a background thread."""

    def __init__(self, config: Config, engine: Engine, **create: Any) -> None:
        from monitor.web.app import create_app

        self.app = create_app(config, engine, **create)
        self.config, self.engine = config, engine
        self.url = ""
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True, name="web-test")
        self.error: BaseException | None = None

    def _run(self) -> None:
        from monitor.web.server import serve

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stopping = asyncio.Event()
            await serve(self.config, self.engine, self._stopping, app=self.app,
                        host="127.0.0.1", port=0, on_ready=self._on_ready)

        try:
            asyncio.run(main())
        except BaseException as exc:  # reported by start()
            self.error = exc
            self._ready.set()

    def _on_ready(self, url: str) -> None:
        self.url = url
        self._ready.set()

    def start(self) -> LiveServer:
        self._thread.start()
        if not self._ready.wait(10) or self.error is not None:
            raise RuntimeError(f"the web server did not start: {self.error}")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(10)


def sign_in(client: Any, base: str, name: str, password: str | None = None) -> str:
    """Sign ``client`` (httpx) in through the form; returns the session's CSRF token."""
    token = csrf_of(client.get(f"{base}/login").text)
    r = client.post(f"{base}/login", data={"name": name, "csrf": token,
                                           "password": password or PASSWORDS[name]})
    assert r.status_code == 303, r.text
    return csrf_of(client.get(f"{base}/triggers").text)


def csrf_of(html: str) -> str:
    import re

    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def sqlite_url(tmp: Path) -> str:
    return f"sqlite:///{tmp}/reassess.db"


Factory = Callable[..., LiveServer]
