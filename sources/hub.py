"""A Hugging Face Hub repository's model card at its latest commit (network edge).

``GET {hub_url}/api/models/{repo}`` names the repository's latest commit (``sha``) and
its date (``lastModified``); the card is then read at that commit,
``GET {hub_url}/{repo}/resolve/{sha}/README.md``. The commit id is the result's
validator: a check that finds the commit it already has is answered as not modified
(nothing else is fetched). The snapshot records the commit: its ``etag`` is the commit
id, its ``last_modified`` the commit's date and its ``url`` the card at that commit.
The source's ``headers`` (``Authorization: "Bearer ${HF_TOKEN}"`` for a gated repo) go
with both requests, to the Hub's own origin only.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from .fetch import Fetcher, FetchRequest, FetchResult

DEFAULT_HUB = "https://huggingface.co"
REPO_RE = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}(/[A-Za-z0-9][\w.-]{0,95})?$")
SHA_RE = re.compile(r"^[0-9a-f]{7,64}$")


def card_url(hub_url: str, repo: str, revision: str) -> str:
    return f"{hub_url.rstrip('/')}/{repo}/resolve/{quote(revision, safe='')}/README.md"


def api_url(hub_url: str, repo: str) -> str:
    return f"{hub_url.rstrip('/')}/api/models/{repo}"


async def fetch_hub(fetcher: Fetcher, request: FetchRequest, started: float) -> FetchResult:
    from .fetch import FetchResult

    via = request.via or {}
    repo, hub = str(via["hub"]), str(via.get("hub_url") or DEFAULT_HUB)
    if not REPO_RE.match(repo):
        return FetchResult(request.source_id, request.url, status=0,
                           error=f"hub: {repo!r} is not a repository id (org/model)")
    info_req = replace(request, url=api_url(hub, repo), etag=None, last_modified=None,
                       via=None, headers={**request.headers, "Accept": "application/json"})
    info = await fetcher.get(info_req, started)
    if not info.ok:
        return replace(info, error=f"hub: the model info: {info.error}", url=request.url)
    try:
        data = json.loads(info.body or b"")
        sha = str(data["sha"])
        modified = data.get("lastModified")
    except (ValueError, KeyError, TypeError):
        return FetchResult(request.source_id, request.url, status=info.status,
                           error="hub: the model info names no commit (no sha)",
                           elapsed_ms=info.elapsed_ms)
    if not SHA_RE.match(sha):
        return FetchResult(request.source_id, request.url, status=info.status,
                           error=f"hub: {sha[:80]!r} is not a commit id",
                           elapsed_ms=info.elapsed_ms)
    when = str(modified)[:40] if modified else None
    url = card_url(hub, repo, sha)
    if request.etag == sha:  # the commit already seen: nothing to read
        return FetchResult(request.source_id, url, status=304, etag=sha, last_modified=when,
                           elapsed_ms=int((time.monotonic() - started) * 1000))
    card = await fetcher.get(replace(info_req, url=url, headers=request.headers),
                                   started)
    if not card.ok:
        return replace(card, error=f"hub: the card at {sha[:12]}: {card.error}")
    return replace(card, etag=sha, last_modified=when)
