"""The ``models`` kind end to end: ``reassess check`` follows an Anthropic-style
(``has_more`` / ``last_id``) and a Gemini-style (``nextPageToken``) paged list on a
loopback API that wants its keys, parses the pages as one document, fires once, and never
shows a key; a list longer than ``max_pages`` or a page that fails fails the check.
SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from faultsite import Loopback
from sqlalchemy import select

from storage.db import open_database, session_scope
from storage.models import CheckRun, Snapshot, Source

OPENAI_KEY = "sk-proj-5ecretOpenAIkey91"
ANTHROPIC_KEY = "sk-ant-api03-5ecretAnthropic77"
GEMINI_KEY = "AIzaSy5ecretGeminiKey0042"
ENV = {"OPENAI_API_KEY": OPENAI_KEY, "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
       "GEMINI_API_KEY": GEMINI_KEY}
KEYS = tuple(ENV.values())
PAGE = 2  # models per page


def _claude(ident: str, code_execution: bool = False) -> dict[str, Any]:
    return {"type": "model", "id": ident, "display_name": ident.replace("-", " ").title(),
            "created_at": "2025-05-22T00:00:00Z", "max_input_tokens": 200000,
            "max_tokens": 64000,
            "capabilities": {"batch": {"supported": True}, "image_input": {"supported": True},
                             "code_execution": {"supported": code_execution}}}


def _gemini(name: str, methods: list[str]) -> dict[str, Any]:
    return {"name": f"models/{name}", "version": "001", "displayName": name,
            "inputTokenLimit": 1048576, "outputTokenLimit": 8192,
            "supportedGenerationMethods": methods}


class ModelsApi(Loopback):
    """Three vendors' model endpoints, each answering only with its key."""

    def __init__(self) -> None:
        super().__init__()
        self.claude = [_claude(f"claude-model-{i}") for i in range(5)]  # 3 pages
        self.gemini = [_gemini(f"gemini-model-{i}", ["generateContent", "countTokens"])
                       for i in range(3)]  # 2 pages
        self.openai = [{"id": "gpt-4o", "object": "model", "created": 1715367049,
                        "owned_by": "system"}]
        self.fail_page: str | None = None  # a pageToken / after_id answered with 500
        self.seen: list[tuple[str, dict[str, str]]] = []

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v1/models", self._anthropic_or_openai)
        app.router.add_get("/v1beta/models", self._gemini)
        return app

    async def _anthropic_or_openai(self, request: web.Request) -> web.Response:
        self.seen.append((request.path_qs, dict(request.headers)))
        if "Authorization" in request.headers:
            if request.headers["Authorization"] != f"Bearer {OPENAI_KEY}":
                raise web.HTTPUnauthorized(text='{"error": "invalid api key"}')
            return web.json_response({"object": "list", "data": self.openai})
        if request.headers.get("x-api-key") != ANTHROPIC_KEY or \
                request.headers.get("anthropic-version") != "2023-06-01":
            raise web.HTTPUnauthorized(text='{"type": "error"}')
        after = request.query.get("after_id")
        if after is not None and after == self.fail_page:
            raise web.HTTPInternalServerError()
        ids = [m["id"] for m in self.claude]
        start = ids.index(after) + 1 if after in ids else 0
        page = self.claude[start:start + PAGE]
        more = start + PAGE < len(self.claude)
        return web.json_response({"data": page, "has_more": more,
                                  "first_id": page[0]["id"] if page else None,
                                  "last_id": page[-1]["id"] if page else None})

    async def _gemini(self, request: web.Request) -> web.Response:
        self.seen.append((request.path_qs, dict(request.headers)))
        if request.query.get("key") != GEMINI_KEY:
            raise web.HTTPBadRequest(text='{"error": {"code": 400, "status": "INVALID_ARGUMENT"}}')
        token = request.query.get("pageToken", "")
        if token and token == self.fail_page:
            raise web.HTTPInternalServerError()
        start = int(token[len("tok"):]) if token.startswith("tok") else 0
        body: dict[str, Any] = {"models": self.gemini[start:start + PAGE]}
        if start + PAGE < len(self.gemini):
            body["nextPageToken"] = f"tok{start + PAGE}"
        return web.json_response(body)


CONFIG = """\
database: {db}
http: {{retries: 0, timeout: 5s}}
vendors:
  - id: anthropic
    name: Anthropic
    sources:
      - id: anthropic-models
        kind: models
        url: {api}/v1/models?limit=2
        headers: {{x-api-key: "${{ANTHROPIC_API_KEY}}", anthropic-version: "2023-06-01"}}
        max_pages: {max_pages}
  - id: google
    name: Google Gemini
    sources:
      - id: gemini-models
        kind: models
        url: "{api}/v1beta/models?pageSize=2&key=${{GEMINI_API_KEY}}"
  - id: openai
    name: OpenAI
    sources:
      - id: openai-models
        kind: models
        url: {api}/v1/models
        headers: {{Authorization: "Bearer ${{OPENAI_API_KEY}}"}}
"""


@pytest.fixture
def api() -> Iterator[ModelsApi]:
    server = ModelsApi()
    server.start()
    yield server
    server.stop()


def _no_key(*texts: str) -> None:
    for text in texts:
        for key in KEYS:
            assert key not in text


def _triggers(run_cli: Callable[..., Any], config: Path) -> list[dict[str, Any]]:
    res = run_cli("triggers", "--config", str(config), "--json", env=ENV)
    assert res.returncode == 0, res.stderr
    _no_key(res.stdout, res.stderr)
    return json.loads(res.stdout)


def _stored(db: str) -> str:
    """Every stored text a key could hide in: sources, check runs, snapshots (their URL,
    document and raw body)."""
    engine = open_database(db)
    try:
        with session_scope(engine) as session:
            rows: list[Any] = [*session.scalars(select(Source)), *session.scalars(select(CheckRun))]
            texts = [json.dumps(r.model_dump(), default=str) for r in rows]
            for snap in session.scalars(select(Snapshot)):
                texts += [snap.url, zlib.decompress(snap.document).decode(),
                          zlib.decompress(snap.body).decode() if snap.body else ""]
            assert texts
            return "\n".join(texts)
    finally:
        engine.dispose()


def test_paged_lists_are_followed_and_fire_once(api: ModelsApi, db_url: str,
                                                make_config: Any,
                                                run_cli: Callable[..., Any]) -> None:
    config = make_config(CONFIG, db=db_url, api=api.url, max_pages=20)
    first = run_cli("check", "--config", str(config), env=ENV)
    assert first.returncode == 0, first.stderr
    assert "baseline 3" in first.stdout, first.stdout
    _no_key(first.stdout, first.stderr)
    anthropic = [(p, h) for p, h in api.seen if "x-api-key" in h]
    assert [p for p, _ in anthropic] == [
        "/v1/models?limit=2", "/v1/models?limit=2&after_id=claude-model-1",
        "/v1/models?limit=2&after_id=claude-model-3"]
    assert all(h["anthropic-version"] == "2023-06-01" for _, h in anthropic)
    gemini = [p for p, _ in api.seen if p.startswith("/v1beta")]
    assert len(gemini) == 2 and "pageToken=tok2" in gemini[1] and "pageSize=2" in gemini[1]

    # A model added on the third page, a method added on the second: one trigger each.
    api.claude.append(_claude("claude-model-new"))
    api.gemini[2] = _gemini("gemini-model-2", ["generateContent", "countTokens",
                                               "bidiGenerateContent"])
    second = run_cli("check", "--config", str(config), env=ENV)
    assert second.returncode == 0, second.stderr
    fired = _triggers(run_cli, config)
    assert sorted((t["source"], t["type"], tuple(t["entities"])) for t in fired) == [
        ("anthropic-models", "model_change", ("claude-model-new",)),
        ("gemini-models", "new_capability", ("bidiGenerateContent",))]

    third = run_cli("check", "--config", str(config), env=ENV)
    assert third.returncode == 0, third.stderr
    assert len(_triggers(run_cli, config)) == 2  # fired once

    shown = run_cli("show", str(fired[0]["id"]), "--config", str(config), env=ENV)
    listed = run_cli("sources", "--config", str(config), env=ENV)
    assert shown.returncode == 0 and listed.returncode == 0, shown.stderr + listed.stderr
    _no_key(second.stdout, second.stderr, third.stdout, shown.stdout, listed.stdout,
            _stored(db_url))


def test_a_failing_page_or_too_many_pages_fail_the_check(api: ModelsApi, sqlite_url: str,
                                                        make_config: Any,
                                                        run_cli: Callable[..., Any]) -> None:
    config = make_config(CONFIG, db=sqlite_url, api=api.url, max_pages=2)
    res = run_cli("check", "--config", str(config), env=ENV)
    assert res.returncode == 1
    assert "more than 2 pages" in res.stderr + res.stdout
    _no_key(res.stdout, res.stderr)

    api.fail_page = "tok2"  # Gemini's second page answers 500; its key is in the URL
    res = run_cli("check", "--config", str(config), "--source", "gemini-models", env=ENV)
    assert res.returncode == 1
    assert "page 2: HTTP 500" in res.stderr + res.stdout
    _no_key(res.stdout, res.stderr, _stored(sqlite_url))

    res = run_cli("check", "--config", str(config), "--source", "openai-models",
                  env={**ENV, "OPENAI_API_KEY": "sk-wrong-key-000"})
    assert res.returncode == 1 and "401" in res.stderr + res.stdout
    assert "sk-wrong-key-000" not in res.stdout + res.stderr
