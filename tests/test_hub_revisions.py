"""Hugging Face Hub revisions (issue 18): a ``model_card`` source with ``hub: org/model``
reads the repository's latest commit through the Hub API (a loopback stand-in serving
``/api/models/{repo}`` and ``/{repo}/resolve/{sha}/README.md``), records the commit id
and date in the snapshot, and diffs card facts between commits: one trigger, on SQLite
and PostgreSQL; a check that finds the same commit reads no card."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from loopback_site import LoopbackSite, fired
from sqlalchemy import select

from config.errors import ConfigError
from config.loader import parse_config
from sources.fetch import Fetcher, FetchOptions, FetchRequest, FetchResult
from sources.via import via_for
from storage.db import open_database, session_scope
from storage.models import CheckRun, Snapshot

REPO = "acme-ai/acme-7b"
SHA1 = "1f0e2d3c4b5a69788796a5b4c3d2e1f001234567"
SHA2 = "9a8b7c6d5e4f30211203f4e5d6c7b8a9deadbeef"
CARD = """---
license: apache-2.0
pipeline_tag: text-generation
language:
{languages}
---

# Acme 7B

Acme 7B is a decoder-only language model trained by Acme AI on public web data.

## Model details

| Attribute | Details |
|---|---|
| Parameters | 7B |
| Context length | 32k |

## Limitations

The model can produce inaccurate statements and should not be used for medical advice.
"""


def publish(site: LoopbackSite, sha: str, when: str, languages: list[str]) -> None:
    """The Hub's model info naming ``sha`` as the latest commit, and the card at it."""
    site.set(f"/api/models/{REPO}", json.dumps({
        "_id": "65f0", "id": REPO, "modelId": REPO, "author": "acme-ai", "sha": sha,
        "lastModified": when, "private": False, "gated": False, "disabled": False,
        "downloads": 1200, "likes": 30, "library_name": "transformers",
        "tags": ["transformers", "safetensors", "text-generation"],
        "pipeline_tag": "text-generation", "createdAt": "2025-01-10T09:00:00.000Z",
        "siblings": [{"rfilename": ".gitattributes"}, {"rfilename": "README.md"},
                     {"rfilename": "model.safetensors"}]}), "application/json")
    site.set(f"/{REPO}/resolve/{sha}/README.md",
             CARD.format(languages="\n".join(f"- {x}" for x in languages)),
             "text/markdown; charset=utf-8")


CONFIG = """\
database: {db}
vendors:
  - id: acme
    name: Acme AI
    sources:
      - id: acme-7b-card
        kind: model_card
        url: {hub}/{repo}
        hub: {repo}
        hub_url: {hub}
"""


def test_hub_revisions_end_to_end(db_url: str, make_config: Any,
                                  run_cli: Callable[..., Any]) -> None:
    with LoopbackSite() as hub:
        config = make_config(CONFIG, db=db_url, hub=hub.url, repo=REPO)
        publish(hub, SHA1, "2025-03-01T10:00:00.000Z", ["en"])
        first = run_cli("check", "--config", str(config))
        assert first.returncode == 0, first.stdout + first.stderr
        assert "baseline 1" in first.stdout

        hub.hits.clear()
        again = run_cli("check", "--config", str(config))  # the same commit
        assert again.returncode == 0, again.stdout + again.stderr
        assert hub.hits == [f"/api/models/{REPO}"]  # the card was not read again

        publish(hub, SHA2, "2025-04-02T11:30:00.000Z", ["en", "fr"])
        for _ in range(2):  # the new commit, then the same one again: one trigger
            res = run_cli("check", "--config", str(config))
            assert res.returncode == 0, res.stdout + res.stderr
    triggers = fired(db_url)
    assert [t[:2] for t in triggers] == [("new_capability", ["fr"])]
    assert triggers[0][2]["hub"] == {"repo": REPO, "commit": SHA2,
                                     "committed_at": "2025-04-02T11:30:00.000Z"}
    engine = open_database(db_url)
    try:
        with session_scope(engine, write=False) as session:
            snaps = [r[0] for r in session.exec(select(Snapshot).order_by(Snapshot.id)).all()]
            runs = [r[0].outcome for r in session.exec(select(CheckRun)
                                                      .order_by(CheckRun.id)).all()]
            evidence = [(s.etag, s.last_modified, s.url) for s in snaps]
    finally:
        engine.dispose()
    assert evidence == [
        (SHA1, "2025-03-01T10:00:00.000Z", f"{hub.url}/{REPO}/resolve/{SHA1}/README.md"),
        (SHA2, "2025-04-02T11:30:00.000Z", f"{hub.url}/{REPO}/resolve/{SHA2}/README.md")]
    assert runs == ["baseline", "not_modified", "changed", "not_modified"]


def test_hub_errors_are_fetch_failures() -> None:
    async def fetch(hub: LoopbackSite) -> FetchResult:
        request = FetchRequest("s", f"{hub.url}/{REPO}", via={"hub": REPO, "hub_url": hub.url})
        async with Fetcher(FetchOptions(retries=0, timeout=5)) as fetcher:
            return await fetcher.fetch(request, how=via_for(request))

    with LoopbackSite() as hub:
        missing = asyncio.run(fetch(hub))  # no such repository
        assert missing.error == "hub: the model info: HTTP 404 Not Found"
        hub.set(f"/api/models/{REPO}", '{"id": "x"}', "application/json")
        assert "names no commit" in (asyncio.run(fetch(hub)).error or "")
        publish(hub, SHA1, "2025-03-01T10:00:00.000Z", ["en"])
        hub.pages.pop(f"/{REPO}/resolve/{SHA1}/README.md")
        assert (asyncio.run(fetch(hub)).error or "").startswith(f"hub: the card at {SHA1[:12]}")


def test_hub_config_rules() -> None:
    source = ("vendors:\n  - id: acme\n    name: Acme\n    sources:\n      - id: s\n"
              "        kind: {kind}\n        url: https://acme.example/x\n        hub: acme/x\n")
    with pytest.raises(ConfigError, match="for kind: model_card"):
        parse_config(source.format(kind="page"))
    assert parse_config(source.format(kind="model_card")).vendors[0].sources[0].hub == "acme/x"
