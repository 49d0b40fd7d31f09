"""Notification messages (pure): what a reviewer reads, and what hostile text becomes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from config.loader import parse_config
from monitor.notify.messages import (
    EXCERPT_MAX,
    LINE_MAX,
    SCHEMA,
    clean,
    clean_block,
    render,
    subject,
)
from monitor.notify.notifier import digest_boundary
from monitor.notify.payload import json_schema, validate
from monitor.notify.routing import digests, next_alert_state, targets

HOSTILE = ("<!channel> <!here|here> <@U024BE7LH> @here @everyone ＠channel "
           "<https://evil.example|click me> [click](https://evil.example) "
           "<script>alert(1)</script> <img src=x onerror=alert(1)> \u202eevil\u200b ``` done")


def trigger_doc(**over: Any) -> dict[str, Any]:
    t = {"id": 42, "type": "subprocessor_change", "severity": "high",
         "title": "Subprocessor added: Cohere", "status": "open",
         "created_at": "2026-11-01T09:00:00+00:00", "rule": None,
         "link": "https://reassess.example.test/triggers/42",
         "vendor": {"id": "acme", "name": "Acme AI"},
         "source": {"id": "acme-sub", "kind": "subprocessors", "url": "https://acme.test/sub"},
         "assessments": [{"id": "acme-chat", "system": "Support bot", "disposition": "approved",
                          "status": "re_review_required", "owner": ["grc"]}],
         "entities": ["Cohere"],
         "summary": ["Added subprocessor Cohere — LLM inference — Canada"],
         "changes": [{"op": "added", "key": "Cohere", "before": None,
                      "after": {"name": "Cohere", "purpose": "LLM inference",
                                "location": "Canada"}}],
         "changes_total": 1, "evidence": {}}
    t.update(over)
    return {"schema": SCHEMA, "kind": "trigger", "trigger": t}


def test_subject_says_what_happened() -> None:
    assert subject(validate(trigger_doc()).trigger) == \
        "[reassess] high subprocessor_change: Acme AI added subprocessor Cohere"
    more = trigger_doc(changes_total=3, summary=["Removed subprocessor X", "b", "c"])
    assert subject(validate(more).trigger).endswith("Acme AI removed subprocessor X (+2 more)")
    review = trigger_doc(type="review_due", summary=[], changes=[], changes_total=0,
                         title="Annual review due: acme-chat")
    assert subject(validate(review).trigger) == \
        "[reassess] high review_due: Acme AI: Annual review due: acme-chat"


@pytest.mark.parametrize("fmt", ["markdown", "email", "text"])
def test_message_has_everything_a_reviewer_needs(fmt: str) -> None:
    msg = render(validate(trigger_doc()), fmt)
    for needle in ("Acme AI", "Added subprocessor Cohere — LLM inference — Canada",
                   "acme-chat", "approved", "re-review required", "Cohere",
                   "https://reassess.example.test/triggers/42", "#42"):
        assert needle in msg.body, (needle, msg.body)
    assert "subprocessor change" in msg.body and "high" in msg.body.lower()
    assert msg.body_format == {"markdown": "markdown", "email": "html", "text": "text"}[fmt]
    assert msg.notify_type == "warning"


def test_markdown_and_html_formatting() -> None:
    assert "**HIGH · subprocessor change · Acme AI**" in render(validate(trigger_doc()),
                                                                 "markdown").body
    body = render(validate(trigger_doc()), "email").body
    assert "<h2>" in body and '<a href="https://reassess.example.test/triggers/42">' in body


def test_data_payload_is_the_document() -> None:
    msg = render(validate(trigger_doc()), "data")
    doc = json.loads(msg.body)
    validate(doc)
    assert doc["schema"] == SCHEMA and doc["kind"] == "trigger"
    t = doc["trigger"]
    assert (t["id"], t["type"], t["severity"], t["vendor"]["id"]) == \
        (42, "subprocessor_change", "high", "acme")
    assert t["changes"][0]["after"]["location"] == "Canada"
    assert t["assessments"][0]["disposition"] == "approved"
    assert msg.title.startswith("[reassess] high subprocessor_change")


def test_clean_neutralises_mentions_links_and_html() -> None:
    text = clean(HOSTILE)
    for bad in ("<", ">", "@here", "@everyone", "@channel", "\u202e", "\u200b"):
        assert bad not in text, bad
    assert "‹!channel›" in text and "‹script›" in text


@pytest.mark.parametrize("fmt", ["markdown", "email", "text"])
def test_hostile_fetched_text_is_neutralised_in_every_format(fmt: str) -> None:
    doc = trigger_doc(entities=[HOSTILE], summary=[HOSTILE + "x" * 1_000_000],
                      evidence={"excerpt": (HOSTILE + "\n") * 50 + "y" * 1_000_000},
                      vendor={"id": "acme", "name": "Acme <b>AI</b> @channel"})
    msg = render(validate(doc), fmt)
    for bad in ("<!channel>", "<!here", "<@U", "@here", "@everyone", "@channel", "<script",
                "<img", "<https://evil"):
        assert bad not in msg.body, (bad, fmt)
        assert bad not in msg.title, (bad, fmt)
    if fmt == "markdown":  # outside the evidence code block, no link syntax survives
        outside = msg.body.split("```")[0] + msg.body.split("```")[-1]
        assert "[click](" not in outside and "\\[click\\](" in outside
        assert msg.body.count("```") == 2
    assert len(msg.body) < 12_000
    assert max(len(line) for line in msg.body.splitlines()) <= LINE_MAX + 200
    assert len(msg.title) <= 160


def test_clean_caps_lines_and_blocks() -> None:
    assert len(clean("a" * 1_000_000)) == LINE_MAX
    block = clean_block("\n".join(["b" * 1000] * 1000))
    assert len(block) <= EXCERPT_MAX
    assert all(len(line) <= LINE_MAX for line in block.splitlines())


def test_digest_and_alert_messages() -> None:
    t1 = trigger_doc()["trigger"]
    t2 = trigger_doc(id=43, severity="low", type="policy_change",
                     link="https://reassess.example.test/triggers/43")["trigger"]
    digest = {"schema": SCHEMA, "kind": "digest", "channel": "grc",
              "period_end": "2026-11-01T09:00:00+00:00", "triggers": [t1, t2]}
    msg = render(validate(digest), "markdown")
    assert msg.title == "[reassess] digest for grc: 2 triggers"
    assert "/triggers/42" in msg.body and "/triggers/43" in msg.body
    alert = {"schema": SCHEMA, "kind": "alert", "alert": {
        "state": "failing", "previous": "ok", "outcome": "failed", "at": "x",
        "consecutive_failures": 3, "error": "HTTP 500 <!channel>",
        "vendor": {"id": "acme", "name": "Acme AI"},
        "source": {"id": "acme-sub", "kind": "subprocessors", "url": "https://acme.test/s"},
        "link": "https://reassess.example.test/sources/acme-sub"}}
    msg = render(validate(alert), "email")
    assert msg.title == "[reassess] source failing: acme-sub (Acme AI)"
    assert "failed 3 checks in a row" in msg.body and "<!channel>" not in msg.body
    alert["alert"]["state"] = "recovered"
    assert render(validate(alert), "text").title.startswith("[reassess] source recovered")


@pytest.mark.parametrize(("prev", "outcome", "failures", "expected"), [
    ("ok", "failed", 1, "ok"), ("ok", "failed", 3, "failing"),
    ("failing", "failed", 4, "failing"), ("failing", "unchanged", 0, "ok"),
    ("failing", "not_modified", 0, "ok"), ("failing", "pending", 0, "ok"),
    ("ok", "suspect", 0, "vanished"), ("vanished", "suspect", 0, "vanished"),
    ("vanished", "changed", 0, "ok"), ("vanished", "failed", 1, "vanished"),
    ("vanished", "pending", 0, "vanished"),
])
def test_alert_state_machine(prev: str, outcome: str, failures: int, expected: str) -> None:
    assert next_alert_state(prev, outcome, failures, 3) == expected


@pytest.mark.parametrize(("spec", "now", "expected"), [
    ("daily 09:00", "2026-11-04T10:00", "2026-11-04T09:00"),
    ("daily 09:00", "2026-11-04T08:59", "2026-11-03T09:00"),
    ("hourly", "2026-11-04T10:20", "2026-11-04T10:00"),
    ("hourly 00:30", "2026-11-04T10:20", "2026-11-04T09:30"),
    ("weekly mon 09:00", "2026-11-04T10:00", "2026-11-02T09:00"),  # a Wednesday
    ("weekly mon 09:00", "2026-11-02T08:00", "2026-10-26T09:00"),
])
def test_digest_boundary(spec: str, now: str, expected: str) -> None:
    at = datetime.fromisoformat(now).replace(tzinfo=UTC)
    assert digest_boundary(spec, at) == datetime.fromisoformat(expected).replace(tzinfo=UTC)


CHANNELS = """
channels:
  sec:
    urls: ["json://127.0.0.1:9/a", "json://127.0.0.1:9/shared"]
    digest: "daily 09:00"
    immediate: high
  grc:
    urls: ["json://127.0.0.1:9/shared"]
  quiet:
    urls: ["json://127.0.0.1:9/q"]
    min_severity: high
  batch:
    urls: ["json://127.0.0.1:9/b"]
    digest: hourly
"""


def test_routing_immediate_digest_and_shared_urls() -> None:
    config = parse_config(CHANNELS)
    assert digests(config.channels["sec"], "medium") and not digests(config.channels["sec"],
                                                                      "high")
    # a digest without ``immediate`` holds everything but critical
    assert digests(config.channels["batch"], "high")
    assert not digests(config.channels["batch"], "critical")
    found = targets(config, ["sec", "grc", "quiet", "batch"], "medium")
    by_channel = sorted((t.channel, t.index, t.status) for t in found)
    # the shared URL is notified once, immediately (grc), though sec would digest it
    assert by_channel == [("batch", 0, "digest"), ("grc", 0, "pending"), ("sec", 0, "digest")]
    assert len({t.key for t in found}) == len(found)
    assert {t.channel for t in targets(config, ["quiet"], "critical")} == {"quiet"}


def test_published_schema_matches_the_models() -> None:
    path = Path(__file__).resolve().parent.parent / "docs" / "notification.schema.json"
    assert json.loads(path.read_text()) == json_schema(), \
        "regenerate: python -m monitor.notify.payload > docs/notification.schema.json"
