"""AI incident reports kept by name: an ``incidents`` source with ``match_names: true`` on
a feed shared by many vendors fires only for the reports naming the vendor (its name or
one of its ``aliases:``), in ``reassess check`` (the vendor context) and in
``reassess diff --names``; without it, every new report fires as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from faultsite import Loopback

from config import parse_config
from sources.base import Change
from triggers.incidents import incidents_rule, named
from triggers.rules import RuleContext

CASE = Path(__file__).parent / "cases" / "incidents" / "rss-ai-incident-reports"
REPORT = "ChatGPT Allegedly Provided Harmful Output With Self-Harm Instructions to a Minor"


def test_names_are_whole_words_case_ignored() -> None:
    inc = {"title": "ChatGPT-powered app leaked chats", "latest": {"text": "openai said"},
           "components": ["Sora"]}
    assert named(inc, ["ChatGPT", "OpenAI", "sora", "Meta", "GPT", "A"]) == [
        "ChatGPT", "OpenAI", "sora"]  # not "GPT" inside "ChatGPT"
    assert named({"title": "Metadata exposed by a chatbot"}, ["Meta", "Chat"]) == []


def test_the_rule_filters_only_when_asked() -> None:
    from sources.incidents import Settings

    ours = {"id": "1", "title": "Gemini reportedly produced harmful output", "latest": None}
    other = {"id": "2", "title": "Robot vacuum mapped homes", "latest": None}
    changes = [Change("added", "1", None, ours, path="entry"),
               Change("added", "2", None, other, path="entry")]
    ctx = RuleContext("google", "Google", "s", "incidents", settings=Settings(match_names=True),
                      names=("Google", "Gemini"))
    [event] = incidents_rule(changes, ctx)
    assert event.entities == (ours["title"],) and event.evidence["names"] == ["Gemini"]
    assert incidents_rule(changes, RuleContext("google", "Google", "s", "incidents",
                                               settings=Settings(match_names=True))) == []
    assert len(incidents_rule(changes, RuleContext("google", "Google", "s", "incidents",
                                                   settings=Settings()))) == 2


def test_aliases_in_the_config() -> None:
    cfg = parse_config("database: sqlite:///x.db\nvendors:\n"
                       "  - {id: openai, name: OpenAI, aliases: ChatGPT, sources: [\n"
                       "     {id: aiid, kind: incidents, url: 'https://i.example/rss.xml',\n"
                       "      match_names: true}]}\n")
    assert cfg.vendors[0].aliases == ["ChatGPT"]


def test_diff_takes_the_names(run_cli: Callable[..., Any]) -> None:
    args = ["diff", "--kind", "incidents", str(CASE / "old.xml"), str(CASE / "new.xml"),
            "--settings", '{"match_names": true}', "--json"]
    res = run_cli(*args, "--names", "OpenAI, ChatGPT")
    assert res.returncode == 0, res.stderr
    [fired] = json.loads(res.stdout)["triggers"]
    assert fired["entities"] == [REPORT] and fired["evidence"]["names"] == ["OpenAI", "ChatGPT"]
    res = run_cli(*args, "--names", "Anthropic,Claude")
    assert json.loads(res.stdout)["triggers"] == []


class Feed(Loopback):
    def __init__(self) -> None:
        super().__init__()
        self.body = (CASE / "old.xml").read_bytes()

    async def _handle(self, request: web.Request) -> web.Response:
        return web.Response(body=self.body, content_type="application/rss+xml")


@pytest.fixture
def feed() -> Iterator[Feed]:
    server = Feed()
    server.start()
    yield server
    server.stop()


CONFIG = """\
database: {db}
vendors:
  - id: openai
    name: OpenAI
    aliases: [ChatGPT, GPT-4o]
    sources:
      - id: openai-ai-incidents
        kind: incidents
        url: {feed}/rss.xml
        match_names: true
  - id: anthropic
    name: Anthropic
    aliases: [Claude]
    sources:
      - id: anthropic-ai-incidents
        kind: incidents
        url: {feed}/rss.xml?vendor=anthropic
        match_names: true
"""


def test_check_fires_for_the_vendor_named(feed: Feed, sqlite_url: str, make_config: Any,
                                          run_cli: Callable[..., Any]) -> None:
    config = make_config(CONFIG, db=sqlite_url, feed=feed.url)
    first = run_cli("check", "--config", str(config))
    assert first.returncode == 0 and "baseline 2" in first.stdout, first.stdout + first.stderr
    feed.body = (CASE / "new.xml").read_bytes()
    res = run_cli("check", "--config", str(config))
    assert res.returncode == 0, res.stderr
    res = run_cli("triggers", "--config", str(config), "--json")
    fired = json.loads(res.stdout)
    assert [(t["source"], t["type"], t["entities"]) for t in fired] == [
        ("openai-ai-incidents", "incident", [REPORT])]
