"""A page rendered by headless Chromium, for a source with ``render: browser`` (network
edge): its HTML once its scripts ran, handed to the kind like any fetched body.

Needs the ``browser`` extra (``pip install 'reassess[browser]'``: Playwright) and a
Chromium: the system's ``/usr/bin/chromium`` where present (``$REASSESS_CHROMIUM``
names another), else Playwright's own. The page is loaded, then the render waits for
``wait_for`` (a CSS selector; not found in time: the fetch fails, a half-built page is
never compared) or, without one, for the network to go idle, at most the source's
``timeout`` (else ``http.timeout``) in all. Images, fonts and media are never
requested; every request the page makes passes the address guard (a page's script
cannot reach a private address) and the source's headers go to its own origin only.
The render runs inside the fetch, holding its host's slot (``http.per_host``); one
Chromium serves a whole pass (a fresh context per page), at most ``RENDERS`` (2) pages
at once; the body is capped at ``http.max_bytes``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from .fetch import Fetcher, FetchRequest, FetchResult

SYSTEM_CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage"]
BLOCKED = frozenset({"image", "font", "media"})
# Renders at once for one fetcher (a pass), whatever the hosts: each is a browser tab.
RENDERS = 2


class Renderer:
    """One headless Chromium for a fetcher's life (a pass of checks), launched by the
    first render and closed with the fetcher (``Fetcher.attached``); relaunched if it
    died. Each render gets a fresh context (no cookies or storage carried over)."""

    def __init__(self) -> None:
        self.slots = asyncio.Semaphore(RENDERS)
        self._lock = asyncio.Lock()
        self._pw: Any = None
        self._browser: Any = None

    async def browser(self, timeout: float) -> Any:
        from playwright.async_api import async_playwright

        async with self._lock:
            if self._browser is None or not self._browser.is_connected():
                if self._pw is None:
                    self._pw = await async_playwright().start()
                self._browser = await self._pw.chromium.launch(
                    executable_path=chromium_path(), args=ARGS, timeout=timeout * 1000)
            return self._browser

    async def aclose(self) -> None:
        browser, pw, self._browser, self._pw = self._browser, self._pw, None, None
        if browser is not None:
            with contextlib.suppress(Exception):
                await browser.close()
        if pw is not None:
            with contextlib.suppress(Exception):
                await pw.stop()


def renderer(fetcher: Fetcher) -> Renderer:
    found = fetcher.attached.get("browser")
    if not isinstance(found, Renderer):
        found = fetcher.attached["browser"] = Renderer()
    return found


def chromium_path() -> str | None:
    found = os.environ.get("REASSESS_CHROMIUM") or SYSTEM_CHROMIUM
    return found if Path(found).exists() else None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


async def fetch_rendered(fetcher: Fetcher, request: FetchRequest, started: float
                         ) -> FetchResult:
    from .fetch import FetchResult

    def failed(error: str, status: int | None = 0) -> FetchResult:
        return FetchResult(request.source_id, request.url, status=status,
                           error=f"render: {error}",
                           elapsed_ms=int((time.monotonic() - started) * 1000))

    try:
        from playwright.async_api import Error as PlaywrightError
    except ImportError:
        return failed("Playwright is not installed: pip install 'reassess[browser]'")
    if not await fetcher.allowed(request.url, request.url):
        return failed("the address guard refused the URL")
    timeout = request.timeout or fetcher.options.timeout
    wait_for = (request.via or {}).get("wait_for")
    own = _origin(request.url)
    headers = dict(request.headers)

    async def route(route: Any) -> None:
        req = route.request
        if req.resource_type in BLOCKED:
            await route.abort("blockedbyclient")
            return
        if not await fetcher.allowed(req.url, request.url):
            await route.abort("addressunreachable")
            return
        if headers and _origin(req.url) == own:
            await route.continue_(headers={**req.headers, **headers})
        else:
            await route.continue_()

    chrome = renderer(fetcher)
    try:
        async with chrome.slots:
            browser = await chrome.browser(timeout)  # its launch has its own timeout
            deadline = time.monotonic() + timeout  # the page's, once slot and browser are ours
            context = await browser.new_context(user_agent=fetcher.options.user_agent,
                                                java_script_enabled=True,
                                                service_workers="block")
            try:
                page = await context.new_page()
                await page.route("**/*", route)
                response = await page.goto(request.url, wait_until="domcontentloaded",
                                           timeout=_left(deadline))
                status = response.status if response is not None else None
                if status is not None and status >= 400:
                    return failed(f"HTTP {status}", status)
                if wait_for:
                    try:
                        await page.wait_for_selector(wait_for, state="attached",
                                                     timeout=_left(deadline))
                    except PlaywrightError:
                        return failed(f"wait_for {wait_for!r} was not on the page after "
                                      f"{timeout:g}s", status)
                else:
                    # still busy at the cap: what has rendered by then is the page
                    with contextlib.suppress(PlaywrightError):
                        await page.wait_for_load_state("networkidle", timeout=_left(deadline))
                html = await page.content()
                final = page.url
            finally:
                with contextlib.suppress(PlaywrightError):
                    await context.close()
    except PlaywrightError as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        return failed(first)
    body = html.encode("utf-8")
    if len(body) > fetcher.options.max_bytes:
        return failed(f"the rendered page is {len(body)} bytes, over the "
                      f"{fetcher.options.max_bytes}-byte cap")
    return FetchResult(request.source_id, final or request.url, status=status or 200,
                       body=body, content_type="text/html; charset=utf-8",
                       elapsed_ms=int((time.monotonic() - started) * 1000))


def _left(deadline: float) -> float:
    """Milliseconds left before ``deadline`` (at least one: Playwright reads 0 as none)."""
    return max(1.0, (deadline - time.monotonic()) * 1000)
