"""Paged sources: the pages after the first, for a kind that names them (``next_page``).

A kind with ``next_page(body, url) -> str | None`` (``sources/models``: Anthropic's
``has_more`` / ``last_id``, Gemini's ``nextPageToken``) has its following pages fetched
here, after the first: with the source's headers, from the first page's host only
(scheme, host and port), at most the source's ``max_pages`` (``MAX_PAGES`` by default),
and all of them within the deadline of one fetch (``FetchOptions.bound``), so a pass's
worked-out deadline still holds. Any page that fails, a page on another host, a list
longer than the cap or past the deadline fails the whole fetch: a partial list would read
as models removed. The pages become one body through the kind's ``join_pages``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from sources.base import BaseSettings
from sources.fetch import Fetcher, FetchRequest, FetchResult

MAX_PAGES = 20


def paged(kind: Any) -> bool:
    """Whether a kind's sources may have following pages (asked of every check: the
    answer is kept per kind, a module that does not change)."""
    try:
        return _PAGED[kind]
    except KeyError:
        found = _PAGED[kind] = _names_pages(kind)
        return found
    except TypeError:  # not hashable: not a kind module
        return _names_pages(kind)


def _names_pages(kind: Any) -> bool:
    return callable(getattr(kind, "next_page", None)) and callable(
        getattr(kind, "join_pages", None))


_PAGED: dict[Any, bool] = {}


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


async def follow_pages(fetcher: Fetcher, request: FetchRequest, first: FetchResult,
                       kind: Any, settings: BaseSettings) -> FetchResult:
    """``first`` with the pages after it joined into its body, or a failed result that
    says which page failed and why."""
    if not first.ok or first.body is None:
        return first
    limit = int(getattr(settings, "max_pages", MAX_PAGES) or MAX_PAGES)
    started = time.monotonic()
    budget = fetcher.options.bound(request.timeout) - first.elapsed_ms / 1000
    bodies, url, attempts = [first.body], request.url, first.attempts
    try:
        async with asyncio.timeout(max(budget, 0.001)):
            while (following := kind.next_page(bodies[-1], url)) is not None:
                if len(bodies) >= limit:
                    return _failed(first, f"more than {limit} pages (max_pages); "
                                          "none of them kept", started)
                if _origin(following) != _origin(request.url):
                    return _failed(first, f"page {len(bodies) + 1} is on another host; "
                                          "not followed", started)
                page = await fetcher.fetch(FetchRequest(
                    source_id=request.source_id, url=following, headers=request.headers,
                    timeout=request.timeout))
                attempts += page.attempts
                if not page.ok or page.body is None:
                    return _failed(first, f"page {len(bodies) + 1}: {page.error or 'no body'}",
                                   started, status=page.status)
                bodies.append(page.body)
                url = following
    except TimeoutError:
        return _failed(first, f"the pages took longer than one fetch may ({budget:.0f}s); "
                              f"{len(bodies)} fetched", started)
    if len(bodies) == 1:
        return first
    try:
        body = kind.join_pages(bodies)
    except Exception as exc:  # a following page the kind cannot join (not JSON …)
        return _failed(first, f"the pages cannot be joined: {type(exc).__name__}: "
                              f"{str(exc)[:200]}", started)
    if len(body) > fetcher.options.max_bytes:
        return _failed(first, f"{len(bodies)} pages are {len(body)} bytes together, over "
                              f"the {fetcher.options.max_bytes}-byte cap", started)
    return replace(first, body=body, attempts=attempts, etag=None, last_modified=None,
                   elapsed_ms=first.elapsed_ms + int((time.monotonic() - started) * 1000))


def _failed(first: FetchResult, error: str, started: float,
            status: int | None = None) -> FetchResult:
    return replace(first, body=None, error=error, status=status or first.status,
                   etag=None, last_modified=None,
                   elapsed_ms=first.elapsed_ms + int((time.monotonic() - started) * 1000))
