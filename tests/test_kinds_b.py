"""The incidents and changelog kinds beyond the file cases: the classifier, the Statuspage
update log, severities, dedupe bases, garbage input, determinism and no network."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from config.errors import ParseError
from sources import changelog, get_kind, incidents
from sources.base import Change, Document
from sources.incidents.record import current_status
from sources.incidents.updatelog import split_components, update_log
from triggers.changelog import changelog_rule
from triggers.changelog_classifier import classify, model_names
from triggers.incidents import escalation_level, incident_severity, incidents_rule
from triggers.offline import diff_bodies
from triggers.rules import RuleContext

CASES = Path(__file__).parent / "cases"
ROOT = Path(__file__).parent.parent


def _types(text: str, **kw: Any) -> set[str]:
    return {s["type"] for s in classify(text, [], **kw)}


# --------------------------------------------------------------------------- classifier
@pytest.mark.parametrize(("text", "types"), [
    ("Released acme-large-3 as the new default model", {"model_change"}),
    ("Claude 3.5 Sonnet is now available in the API", {"model_change"}),
    ("gpt-4o now points to gpt-4o-2024-08-06", {"model_change"}),
    ("The claude-2.0 model will be retired on January 6, 2025.", {"model_change"}),
    ("feat(api): add o3-mini (#2100)", {"model_change"}),
    ("api: add GPT-Rosalind research model (#3940)", {"model_change"}),
    ("Added support for function calling", {"new_capability"}),
    ("Image inputs are now supported in the Assistant", {"new_capability"}),
    ("Claude can now search the web", {"new_capability"}),
    ("Added the `/v1/batches` endpoint", {"new_capability"}),
    ("ChatGPT can now remember things you discuss across chats with memory",
     {"new_capability"}),
    ("Introducing acme-vision-2 with image input and function calling",
     {"model_change", "new_capability"}),
    ("We no longer use API data to train our models", {"training_data_change"}),
    ("API inputs and outputs are retained for 30 days, then deleted", {"training_data_change"}),
    ("Updated our Usage Policies, effective June 1, 2024", {"policy_change"}),
])
def test_classifier_finds(text: str, types: set[str]) -> None:
    assert _types(text) == types


@pytest.mark.parametrize("text", [
    "Fixed a typo in docs",
    "Fixed a bug where the model parameter was ignored",
    "fix(types): add missing gpt-4o-mini to ChatModel",
    "chore(deps): update dependency pytest to v8",
    "Improved function calling reliability",
    "Reduced memory usage of the streaming client",
    "Added User-Agent header to all requests",
    "Added pagination to the list endpoint",
    "Updated the docs for gpt-4o",
    "Updated pricing for gpt-4o",
    "Added new text-only model selector",
    "Added support for Python 3.13",
    "Improved latency for streaming responses",
])
def test_classifier_ignores(text: str) -> None:
    assert _types(text) == set()


def test_section_headings_lend_their_verb_and_fix_sections_never_classify() -> None:
    lines = ["Added", "Web search tool for the Assistant", "Fixed",
             "Function calling with nested schemas", "Deprecated", "acme-medium-2"]
    signals = classify("2.0.0", lines)
    assert [(s["type"], s["text"]) for s in signals] == [
        ("new_capability", "Web search tool for the Assistant"),
        ("model_change", "acme-medium-2")]
    assert signals[1]["severity"] == "high"


def test_configured_patterns_extend_replace_and_exclude() -> None:
    extra = {"model_change": [r"\bNimbus\b"]}
    assert _types("Nimbus now powers summaries") == set()
    assert _types("Nimbus now powers summaries", extra=extra) == {"model_change"}
    assert _types("Added support for function calling", extra=extra, builtin=False) == set()
    assert _types("Beta: Added support for function calling", exclude=[r"^Beta:"]) == set()


def test_model_names_are_whole_mentions() -> None:
    assert model_names("Launched o1-preview and o1-mini; GPT-4o mini is cheaper") == [
        "o1-preview", "o1-mini", "GPT-4o mini"]
    assert model_names("Claude Opus 4 and Sonnet 4.5 on Vertex AI") == ["Claude Opus 4",
                                                                         "Sonnet 4.5"]


def test_changelog_settings_are_strict() -> None:
    with pytest.raises(ValidationError):
        changelog.Settings.model_validate({"classify": {"model_change": ["("]}})
    with pytest.raises(ValidationError):
        changelog.Settings.model_validate({"classify": {"review_due": ["x"]}})
    with pytest.raises(ValidationError):
        changelog.Settings.model_validate({"clasify": {}})
    with pytest.raises(ValidationError):
        incidents.Settings.model_validate({"ignore": ["[unclosed"]})


# --------------------------------------------------------------------------- Statuspage log
LOG = ("<p><small>Nov <var data-var='date'>20</var>, <var data-var='time'>22:02</var> PST"
       "</small><br><strong>Resolved</strong> - This incident has been resolved.</p>"
       "<p><small>Nov <var data-var='date'>20</var>, <var data-var='time'>21:40</var> PST"
       "</small><br><strong>Update</strong> - We are continuing to monitor.</p>"
       "<p><small>Nov <var data-var='date'>20</var>, <var data-var='time'>21:12</var> PST"
       "</small><br><strong>Monitoring</strong> - A fix has been implemented.</p>"
       "<p>This incident affected: API (Chat, Images), ChatGPT, and Sora.</p>")


def test_update_log_reads_statuses_newest_first_and_components() -> None:
    updates, components, scheduled = update_log(LOG)
    assert [u["status"] for u in updates] == ["resolved", "update", "monitoring"]
    assert updates[0] == {"status": "resolved", "text": "This incident has been resolved.",
                          "at": "Nov 20, 22:02 PST"}
    assert components == ["API (Chat, Images)", "ChatGPT", "Sora"]
    assert not scheduled
    assert current_status(updates[1:]) == "monitoring"


def test_update_log_recognises_scheduled_events() -> None:
    html = ("<p><strong>THIS IS A SCHEDULED EVENT Apr <var data-var='date'>7</var>, "
            "<var data-var='time'>13:00</var> - <var data-var='time'>15:00</var> UTC</strong>"
            "</p><p><small>Apr <var data-var='date'>1</var>, <var data-var='time'>09:00</var>"
            " UTC</small><br><strong>Scheduled</strong> - We will be upgrading storage.</p>")
    updates, _, scheduled = update_log(html)
    assert scheduled and [u["status"] for u in updates] == ["scheduled"]


def test_an_update_without_words_does_not_fail_the_feed() -> None:
    """Statuspage posts a bare status change ("Resolved" and nothing after it): the
    incident is read with that status and no text, and the rest of the feed with it."""
    feed = ("<?xml version='1.0' encoding='UTF-8'?>"
            "<feed xmlns='http://www.w3.org/2005/Atom'><title>Acme status</title>"
            "<id>tag:status.acme.test,2005:/history</id><updated>2026-11-20T22:02:00Z</updated>"
            "<entry><id>tag:status.acme.test,2005:Incident/1</id>"
            "<published>2026-11-20T21:00:00Z</published><updated>2026-11-20T22:02:00Z</updated>"
            "<title>Elevated errors</title><link href='https://status.acme.test/incidents/1'/>"
            "<content type='html'>&lt;p&gt;&lt;small&gt;Nov 20, 22:02 PST&lt;/small&gt;&lt;br&gt;"
            "&lt;strong&gt;Resolved&lt;/strong&gt;&lt;/p&gt;&lt;p&gt;&lt;small&gt;Nov 20, 21:00 PST"
            "&lt;/small&gt;&lt;br&gt;&lt;strong&gt;Investigating&lt;/strong&gt; - Impact: major"
            "&lt;/p&gt;</content></entry>"
            "<entry><id>tag:status.acme.test,2005:Incident/2</id>"
            "<published>2026-11-19T10:00:00Z</published><updated>2026-11-19T11:00:00Z</updated>"
            "<title>Slow console</title><link href='https://status.acme.test/incidents/2'/>"
            "<content type='html'>&lt;p&gt;&lt;small&gt;Nov 19, 11:00 PST&lt;/small&gt;&lt;br&gt;"
            "&lt;strong&gt;Resolved&lt;/strong&gt; - Fixed.&lt;/p&gt;</content></entry></feed>")
    kind = get_kind("incidents")
    doc = kind.parse(feed.encode(), kind.Settings())
    found = {inc["title"]: inc for inc in doc.data["incidents"]}
    assert set(found) == {"Elevated errors", "Slow console"}
    assert found["Elevated errors"]["status"] == "resolved"
    assert found["Elevated errors"]["latest"] == {"status": "resolved", "text": None,
                                                  "at": "Nov 20, 22:02 PST"}
    assert found["Slow console"]["latest"]["text"] == "Fixed."


def test_split_components_keeps_parentheses() -> None:
    assert split_components("A, B (x, y), and C.") == ["A", "B (x, y)", "C"]
    assert split_components("Claude API and Claude Code") == ["Claude API", "Claude Code"]


# --------------------------------------------------------------------------- severities
def _inc(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": "i1", "title": "Problems with login", "status": "investigating",
                            "impact": None, "maintenance": False, "components": [],
                            "latest": None}
    return base | kw


@pytest.mark.parametrize(("impact", "severity"), [
    ("critical", "critical"), ("major", "high"), ("minor", "medium"), ("none", "low")])
def test_impact_sets_severity(impact: str, severity: str) -> None:
    assert incident_severity(_inc(impact=impact)) == severity


@pytest.mark.parametrize(("title", "severity"), [
    ("Customer data exposure in shared links", "critical"),
    ("Security incident affecting API keys", "critical"),
    ("API outage in us-east", "high"),
    ("Claude.ai is unavailable", "high"),
    ("Elevated latency on Embeddings", "medium"),
    ("Problems with login", "medium"),
])
def test_words_set_severity_without_impact(title: str, severity: str) -> None:
    assert incident_severity(_inc(title=title)) == severity


def test_security_words_never_rate_low() -> None:
    assert incident_severity(_inc(title="Unauthorized access to workspace titles",
                                  impact="none")) == "critical"


CTX = RuleContext(vendor_id="acme", vendor_name="Acme", source_id="status", kind="incidents")


def test_new_incident_fires_once_per_id_whatever_the_order() -> None:
    inc = _inc(id="abc", impact="major")
    first = incidents_rule([Change("added", "abc", None, inc)], CTX)
    again = incidents_rule([Change("added", "abc", None, dict(inc, title="Renamed"))], CTX)
    assert first[0].dedupe_key("status") == again[0].dedupe_key("status")


def test_escalation_fires_with_new_impact_in_basis_and_never_on_a_drop() -> None:
    minor, major = _inc(id="abc", impact="minor"), _inc(id="abc", impact="major")
    up = incidents_rule([Change("modified", "abc", minor, major, fields=("impact",))], CTX)
    assert [(e.type, e.severity) for e in up] == [("incident", "high")]
    new = incidents_rule([Change("added", "abc", None, major)], CTX)
    assert up[0].dedupe_key("s") != new[0].dedupe_key("s")
    assert incidents_rule([Change("modified", "abc", major, minor, fields=("impact",))], CTX) == []
    status_only = dict(minor, status="monitoring")
    assert incidents_rule([Change("modified", "abc", minor, status_only)], CTX) == []


def test_security_words_in_a_later_update_escalate() -> None:
    before = _inc(latest={"status": "investigating", "text": "Looking into it.", "at": None})
    after = _inc(latest={"status": "identified", "text": "We confirmed unauthorized access to "
                         "customer data.", "at": None})
    assert escalation_level(after) == "critical"
    assert [e.severity for e in incidents_rule([Change("modified", "i1", before, after)],
                                               CTX)] == ["critical"]


def test_maintenance_never_fires() -> None:
    maint = _inc(maintenance=True, impact="maintenance", title="Scheduled maintenance")
    assert incidents_rule([Change("added", "i1", None, maint)], CTX) == []


# --------------------------------------------------------------------------- changelog rule
def _entry(key: str, title: str, lines: list[str]) -> dict[str, Any]:
    return {"id": key, "title": title, "date": None, "link": None, "text": lines}


@dataclass(frozen=True)
class _WithSettings(RuleContext):
    settings: Any = None


def test_the_rule_classifies_added_and_edited_entries_only(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Parsing classifies nothing; the rule classifies an added entry once and both sides
    of an edited one, never a removed one."""
    import triggers.changelog as rule_module

    seen: list[str] = []
    real = rule_module.classify

    def spy(title: str, lines: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(title)
        return real(title, lines, *args, **kwargs)

    monkeypatch.setattr(rule_module, "classify", spy)
    kind = get_kind("changelog")
    kind.parse(b"# Changelog\n\n## v1.0\n\n- Released acme-large-3\n", kind.Settings())
    assert seen == []
    ctx = RuleContext("acme", "Acme", "cl", "changelog")
    old, new = _entry("v1", "v1", ["Fixed a typo"]), _entry("v1", "v1", ["Added image input"])
    changelog_rule([Change("added", "v2", None, _entry("v2", "v2", ["x"])),
                    Change("removed", "v0", _entry("v0", "v0", ["y"]), None),
                    Change("modified", "v1", old, new, fields=("text",))], ctx)
    assert seen == ["v2", "v1", "v1"]


def test_the_rule_applies_the_sources_classification_options() -> None:
    entry = _entry("v2", "v2", ["Nimbus now powers summaries", "Added function calling"])
    added = [Change("added", "v2", None, entry)]
    plain = RuleContext("acme", "Acme", "cl", "changelog")
    assert [e.type for e in changelog_rule(added, plain)] == ["new_capability"]
    own = changelog.Settings.model_validate({"classify": {"model_change": [r"\bNimbus\b"]},
                                             "builtin_rules": False})
    fired = changelog_rule(added, _WithSettings("acme", "Acme", "cl", "changelog",
                                                settings=own))
    assert [(e.type, e.entities) for e in fired] == [("model_change", ("Nimbus",))]


def test_removed_entries_and_unclassified_entries_fire_nothing() -> None:
    ctx = RuleContext("acme", "Acme", "cl", "changelog")
    model = _entry("v2", "v2", ["Released acme-large-3 as the new default model"])
    typo = _entry("v3", "v3", ["Fixed a typo in docs"])
    assert changelog_rule([Change("removed", "v2", model, None)], ctx) == []
    assert changelog_rule([Change("added", "v3", None, typo)], ctx) == []
    fired = changelog_rule([Change("added", "v2", None, model)], ctx)
    assert [(e.type, e.severity, e.entities) for e in fired] == [
        ("model_change", "high", ("acme-large-3",))]


def test_retitled_entry_is_an_edit_not_a_new_entry() -> None:
    kind = get_kind("changelog")
    old = b"# Changelog\n\n## v1.0 - 2024-01-01\n\n- Released acme-large-3\n"
    new = b"# Changelog\n\n## v1.0 (January 1, 2024)\n\n- Released acme-large-3\n"
    result = diff_bodies("changelog", old, new)
    assert [c["op"] for c in result["changes"]] == ["modified"]
    assert result["triggers"] == []
    assert kind.size(kind.parse(new, kind.Settings())) == 1


def test_describe_lines() -> None:
    inc = _inc(title="Elevated error rates on Chat Completions", impact="major")
    assert incidents.describe(Change("added", "i1", None, inc)) == (
        "New incident: Elevated error rates on Chat Completions (major, investigating)")
    entry = _entry("v1.4.0", "v1.4.0", ["Released acme-large-3 as the new default model"])
    assert changelog.describe(Change("added", "v1.4.0", None, entry)) == (
        "Release v1.4.0: Released acme-large-3 as the new default model")


# --------------------------------------------------------------------------- garbage & vanish
GARBAGE = [
    b"",
    b"\x00\xff\xfe garbage \x89PNG\r\n",
    b"<?xml version='1.0'?><rss><channel><item><title>Trunc",
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>',
    b'<feed xmlns="http://www.w3.org/2005/Atom"><title>empty</title></feed>',
    b"<html><head><title>Just a moment...</title></head><body><h1>status.acme.ai</h1>"
    b"<h2>Checking if the site connection is secure</h2><p>Enable JavaScript and cookies to "
    b"continue</p></body></html>",
    b"<html><body><form><h1>Sign in</h1><input name=u></form></body></html>",
    b'{"page": {"id": "x"}, "components": []}',
    b"[1, 2, 3]",
    b'{"incidents": "none"}',
    b"---\ntitle: x\n---\n",
    b"a,b,c\n1,2,3\n",
]


@pytest.mark.parametrize("kind_name", ["incidents", "changelog"])
@pytest.mark.parametrize("body", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_gives_an_empty_document_or_a_parse_error(kind_name: str, body: bytes) -> None:
    kind = get_kind(kind_name)
    try:
        doc = kind.parse(body, kind.Settings())
    except ParseError:
        return
    assert kind.size(doc) == 0


ODD = [b"http://example.com/feed", b"/etc/passwd", b"a < b and c > d", b"<<<>>>",
       b"<?xml version='1.0'?>", b'{"a":', "<p>caf\u00e9</p>".encode("latin-1"),
       b"<rss><channel><item><title>x</title></item></channel></rss>"]


@pytest.mark.parametrize("kind_name", ["incidents", "changelog"])
def test_any_forced_format_on_odd_bodies_never_raises_or_warns(kind_name: str) -> None:
    kind = get_kind(kind_name)
    for fmt in (None, "html", "rss", "atom", "json", "markdown", "text", "csv"):
        for body in ODD + GARBAGE:
            with contextlib.suppress(ParseError):
                kind.parse(body, kind.Settings(format=fmt))


@pytest.mark.parametrize("kind_name", ["incidents", "changelog"])
def test_forced_json_that_is_not_json_is_a_parse_error(kind_name: str) -> None:
    kind = get_kind(kind_name)
    with pytest.raises(ParseError):
        kind.parse(b"<html></html>", kind.Settings(format="json"))


@pytest.mark.parametrize("kind_name", ["incidents", "changelog"])
def test_parse_is_deterministic_and_json_serialisable(kind_name: str) -> None:
    kind = get_kind(kind_name)
    for case in sorted(p for p in (CASES / kind_name).iterdir() if p.is_dir()):
        settings_file = case / "settings.json"
        raw = json.loads(settings_file.read_text()) if settings_file.exists() else {}
        sizes = []
        for path in sorted(p for p in case.iterdir() if p.stem in ("old", "new")):
            first = kind.parse(path.read_bytes(), kind.Settings.model_validate(raw))
            second = kind.parse(path.read_bytes(), kind.Settings.model_validate(raw))
            assert first.hash == second.hash, path
            again = Document.from_json(kind_name, first.canonical(), first.parser_version)
            assert again.hash == first.hash
            sizes.append(kind.size(first))
        assert max(sizes) > 0, case


# --------------------------------------------------------------------------- no I/O
def test_feeds_never_touch_the_network_or_the_disk(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    def refuse(*args: Any, **kw: Any) -> None:
        raise AssertionError("network access during parse")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    feed = (CASES / "changelog" / "rss-policy-change" / "new.xml").read_bytes()
    on_disk = tmp_path / "feed.xml"
    on_disk.write_bytes(feed)
    for kind_name in ("incidents", "changelog"):
        kind = get_kind(kind_name)
        for body in (str(on_disk).encode(), b"http://127.0.0.1:9/history.rss",
                     b"https://status.example.invalid/history.atom"):
            for fmt in (None, "rss", "atom"):
                try:
                    doc = kind.parse(body, kind.Settings(format=fmt))
                except ParseError:
                    continue
                assert kind.size(doc) == 0, (kind_name, body, fmt)


def test_external_entities_are_not_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    body = (f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]>'
            '<rss version="2.0"><channel><title>t</title><item><title>Release &x;</title>'
            "<guid>g1</guid><description>Released acme-large-3</description></item>"
            "</channel></rss>").encode()
    for kind_name in ("incidents", "changelog"):
        kind = get_kind(kind_name)
        assert "TOP-SECRET" not in kind.parse(body, kind.Settings()).canonical()


def test_kind_modules_import_in_any_order() -> None:
    for code in ("import triggers; import sources", "import sources.changelog",
                 "import triggers.changelog", "import triggers.incidents; import sources"):
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_plain_text_changelog_versions_are_entries() -> None:
    old = (b"ACME SDK CHANGES\n================\n\n1.2.0 (2024-05-01)\n  * Streaming support\n"
           b"  * Fixed retries\n\n1.1.0 (2024-04-01)\n  * Timeouts per request\n")
    new = old.replace(b"1.2.0 (2024-05-01)", b"1.3.0 (2024-06-01)\n"
                      b"  * Added function calling support\n\n1.2.0 (2024-05-01)")
    result = diff_bodies("changelog", old, new)
    assert [(c["op"], c["key"]) for c in result["changes"]] == [("added", "1.3.0")]
    assert [t["type"] for t in result["triggers"]] == ["new_capability"]
