"""A changelog entry's identity survives a change of the page's structure (issue 15), and
the classifier's words are the vocabularies, the config's additions included.

The simulated vendor site's own changelog is the first witness: in its "dated" style a
day's releases sit under one date heading, so the second release of a day moves the page's
entries from date headings to version headings. Before, that re-keyed every entry and
three old releases fired again; now only the new release fires.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from monitor.demo.vendorsite import VendorSite
from sources import get_kind, vocab
from triggers.changelog_classifier import classify, model_names
from triggers.offline import diff_bodies

SECOND = ("- Added audio input and output to the Realtime API.\n"
          "- Fixed pagination when listing files.")
FIRST = "- Fixed retry handling for HTTP 429 responses.\n- Reduced import time of the client."


def _dated_vendor(site: VendorSite) -> str:
    for vendor in site.vendors:
        if site._state(vendor).changelog_style == "dated":  # the state, read to pick one
            return vendor
    raise AssertionError("no vendor of the generated site writes a dated changelog")


@pytest.mark.parametrize("doc", ["changelog.md", "changelog"])
def test_a_second_release_on_a_day_fires_only_itself(doc: str) -> None:
    site = VendorSite.generated(12, seed=1)
    vendor = _dated_vendor(site)
    kind = get_kind("changelog")
    before = site.document(vendor, doc)
    assert kind.size(kind.parse(before, kind.Settings())) >= 3
    site.control(vendor, "add_release", tag="v9.0.0", body=FIRST)
    one = site.document(vendor, doc)
    site.control(vendor, "add_release", tag="v9.0.1", body=SECOND)  # the same day
    two = site.document(vendor, doc)

    first = diff_bodies("changelog", before, one)
    assert first["triggers"] == []  # fixes only
    second = diff_bodies("changelog", one, two)
    assert [(t["type"], t["entities"]) for t in second["triggers"]] == [
        ("new_capability", ["audio input", "Realtime API"])]
    assert [c["key"] for c in second["changes"] if c["op"] == "added"] == ["9.0.1"]
    assert not [c for c in second["changes"] if c["op"] == "removed"]


def test_entries_regrouped_without_versions_are_the_same_entries() -> None:
    """No version to key them: two entries of a day merged under the day's heading are
    found again by their lines, and split apart again too."""
    writer = "- Introducing `quill-writer-2`, our new default model.\n- Added PDF input.\n"
    exports = "- Fixed exports of very long documents.\n- Faster search in big workspaces.\n"
    apart = (f"# News\n\n## June 9, 2025 — Writer\n\n{writer}\n## June 9, 2025 — Exports\n\n"
             f"{exports}\n## May 2, 2025\n\n- Added web search to research mode.\n")
    together = (f"# News\n\n## June 9, 2025\n\n### Writer\n\n{writer}\n### Exports\n\n{exports}"
                "\n## May 2, 2025\n\n- Added web search to research mode.\n")
    for old, new in ((apart, together), (together, apart)):
        result = diff_bodies("changelog", old.encode(), new.encode())
        assert result["triggers"] == [], result["changes"]
        assert {c["op"] for c in result["changes"]} == {"modified"}
    # a release that is new among regrouped ones still fires, and only it
    more = together.replace("### Exports", "### Voice\n\n- Added voice mode to the editor.\n\n"
                                           "### Exports")
    result = diff_bodies("changelog", apart.encode(), more.encode())
    assert [(t["type"], t["entities"]) for t in result["triggers"]] == [
        ("new_capability", ["voice mode"])]


def test_different_versions_are_never_one_entry() -> None:
    old = "# Changelog\n\n## v2.0.0\n\n- Added function calling to the client.\n"
    new = "# Changelog\n\n## v2.0.1\n\n- Added function calling to the client.\n"
    result = diff_bodies("changelog", old.encode(), new.encode())
    # the same text under another version: identical entries are a retitle ...
    assert [c["op"] for c in result["changes"]] == ["modified"]
    both = "# Changelog\n\n## v2.0.1\n\n- Added function calling to the client.\n- Fixed x.\n"
    result = diff_bodies("changelog", old.encode(), both.encode())
    # ... but a different release that repeats a line is a new release
    assert sorted(c["op"] for c in result["changes"]) == ["added", "removed"]


@pytest.fixture
def additions() -> Iterator[None]:
    vocab.extend({"model_families": ["Aurora"], "capabilities": {"audio": ["voice cloning"]}})
    yield
    vocab.extend({})


def test_model_families_and_capabilities_are_the_vocabularies(additions: Any) -> None:
    assert model_names("Aurora 2 Pro and aurora-mini-3 are out") == ["Aurora 2 Pro",
                                                                     "aurora-mini-3"]
    [sig] = classify("Aurora is now the default model for new workspaces.", [])
    assert (sig["type"], sig["entities"]) == ("model_change", ["Aurora"])
    [sig] = classify("Added voice cloning to the Realtime API.", [])
    assert sig["entities"] == ["voice cloning", "Realtime API"]
    assert "audio" in sig["tags"]


def test_without_the_additions_the_words_are_unknown() -> None:
    assert model_names("Aurora 2 Pro is out") == []
    assert classify("Added voice cloning to the app.", []) == []


@pytest.mark.parametrize(("text", "names"), [
    ("Aider now uses Sonnet as the default model, instead of Opus.", ["Sonnet", "Opus"]),
    ("Add Claude Fable 5 model support.", ["Claude Fable 5"]),
    ("Add MiniMax M3 model support.", ["MiniMax M3"]),
    ("Add Amazon Nova Premier model to Bedrock.", ["Nova Premier"]),
    ("Updated the default to `gemini-embedding-001` for the embedder model.",
     ["gemini-embedding-001"]),
    ("Mistral Medium 3.1 and mistral-medium-2508 released", ["Mistral Medium 3.1",
                                                            "mistral-medium-2508"]),
    ("Released gemma3:270M and Llama 3.1 405B Instruct", ["gemma3:270M",
                                                          "Llama 3.1 405B Instruct"]),
    ("Claude 3.5 Sonnet and Claude Opus 4.1", ["Claude 3.5 Sonnet", "Claude Opus 4.1"]),
    ("GPT‑5.1 (a hyphen that does not break)", ["GPT‑5.1"]),
    # a family alone that names no model: a product, a command, a feature for models
    ("Claude Code now uses a new status line by default", []),
    ("New /copy command to copy the last response.", []),
    ("Add prompt caching to Gemini models on OpenRouter", []),
    ("Command approvals are now off by default", []),
    ("The Sonnets are in the anthology", []),
])
def test_model_names_as_written(text: str, names: list[str]) -> None:
    assert model_names(text) == names


@pytest.mark.parametrize(("text", "written"), [
    ("Crews can now take audio input and answer with speech.", ["audio input"]),
    ("Added file support for multimodal capabilities.", ["file", "multimodal"]),
    ("Now supports vision.", ["vision"]),
    ("Added support for MCP servers.", ["MCP"]),
    ("api: add `parallel_tool_calls` param", ["parallel_tool_calls"]),
    # a capability word that only modifies another noun is none
    ("Added a file watcher and log file output.", []),
    ("Add repeated tool call loop detection.", []),
    ("Added memory limits to the worker pool.", []),
])
def test_capabilities_as_written(text: str, written: list[str]) -> None:
    found = [s for s in classify(text, []) if s["type"] == "new_capability"]
    assert (found[0]["entities"] if found else []) == written
