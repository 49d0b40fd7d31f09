"""Fetches that are not one GET of the source's URL (``FetchRequest.via``), at the
network edge beside ``fetch.py``: each runs inside ``Fetcher.fetch``, so it holds its
host's slot (``http.per_host``), is bounded by the fetch's deadline and never raises.

- ``hub``: a Hugging Face Hub repository's card at its latest commit (``sources/hub.py``);
- ``render: browser``: the page rendered by headless Chromium (``sources/browser.py``);
- ``imap``: the new messages of an IMAP folder (``sources/imap.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # not at run time: importing this module loads no HTTP client
    from .fetch import Fetcher, FetchRequest, FetchResult, Via


async def fetch_via(fetcher: Fetcher, request: FetchRequest, started: float) -> FetchResult:
    via = request.via or {}
    if via.get("hub"):
        from .hub import fetch_hub

        return await fetch_hub(fetcher, request, started)
    if via.get("render") == "browser":
        from .browser import fetch_rendered

        return await fetch_rendered(fetcher, request, started)
    if via.get("imap"):
        from .imap import fetch_mailbox

        return await fetch_mailbox(fetcher, request, started)
    return await fetcher.get(request, started)


def via_for(request: FetchRequest) -> Via | None:
    """``fetch_via`` for a request that names a ``via``, else ``None`` (one GET)."""
    return fetch_via if request.via else None
