"""Fetching: one shared async httpx client, conditional requests, caps and retries.

The client runs over ``httpx_aiohttp.AiohttpTransport`` by default (less CPU per request
than httpx's own pool), or httpx's own transport when ``http.transport:
httpx`` is set. Every failure becomes a ``FetchResult`` with ``error`` set: a network
error, a timeout, HTTP >= 400, an empty or oversized body. Failed fetches are recorded,
never diffed.
"""

from __future__ import annotations

import asyncio
import random
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import httpx

from config.errors import FetchError

USER_AGENT = ("reassess/0.1 (AI vendor re-assessment monitor; "
              "+https://github.com/reassess/reassess)")
TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class FetchRequest:
    source_id: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    source_id: str
    url: str
    status: int | None = None
    body: bytes | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    error: str | None = None
    elapsed_ms: int = 0
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True, slots=True)
class FetchOptions:
    transport: str = "aiohttp"
    timeout: float = 20.0
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    concurrency: int = 32
    per_host: int = 8
    host_spacing: float = 0.0
    retries: int = 2
    backoff: float = 0.5
    user_agent: str = USER_AGENT

    @classmethod
    def from_config(cls, http: Any) -> FetchOptions:
        return cls(transport=http.transport, timeout=http.timeout, max_bytes=http.max_bytes,
                   max_redirects=http.max_redirects, concurrency=http.concurrency,
                   per_host=http.per_host, host_spacing=http.host_spacing or 0.0,
                   retries=http.retries, user_agent=http.user_agent or USER_AGENT)


class _HostGate:
    """At most ``per_host`` requests in flight per host, ``spacing`` seconds apart."""

    def __init__(self, per_host: int, spacing: float) -> None:
        self.per_host, self.spacing = per_host, spacing
        self._sems: dict[str, asyncio.Semaphore] = {}
        self._next: dict[str, float] = {}

    def semaphore(self, host: str) -> asyncio.Semaphore:
        sem = self._sems.get(host)
        if sem is None:
            sem = self._sems[host] = asyncio.Semaphore(self.per_host)
        return sem

    async def wait_turn(self, host: str) -> None:
        if self.spacing <= 0:
            return
        now = time.monotonic()
        at = max(now, self._next.get(host, 0.0))
        self._next[host] = at + self.spacing
        if at > now:
            await asyncio.sleep(at - now)


class Fetcher:
    """The one shared client of a process. Use as ``async with Fetcher(options) as f``."""

    def __init__(self, options: FetchOptions | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.options = options or FetchOptions()
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._global: asyncio.Semaphore | None = None
        self._hosts = _HostGate(self.options.per_host, self.options.host_spacing)

    async def __aenter__(self) -> Fetcher:
        opts = self.options
        transport = self._transport or self._make_transport()
        self._client = httpx.AsyncClient(
            transport=transport, follow_redirects=True, max_redirects=opts.max_redirects,
            timeout=httpx.Timeout(opts.timeout), headers={"User-Agent": opts.user_agent,
                                                         "Accept-Encoding": "gzip, deflate"})
        self._global = asyncio.Semaphore(opts.concurrency)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _make_transport(self) -> httpx.AsyncBaseTransport:
        opts = self.options
        limits = httpx.Limits(max_connections=opts.concurrency,
                              max_keepalive_connections=opts.concurrency)
        if opts.transport == "httpx":
            return httpx.AsyncHTTPTransport(limits=limits)
        from httpx_aiohttp import AiohttpTransport

        tls = _tls_context()

        def session() -> aiohttp.ClientSession:
            connector = aiohttp.TCPConnector(limit=opts.concurrency, limit_per_host=opts.per_host,
                                             keepalive_timeout=30, ssl=tls)
            return aiohttp.ClientSession(connector=connector)

        return AiohttpTransport(limits=limits, client=session, verify=tls)

    async def fetch(self, request: FetchRequest,
                    backlog: asyncio.Semaphore | None = None) -> FetchResult:
        """Fetch once with retries on transient errors; never raises for HTTP trouble.

        With ``backlog``, a slot of it is taken once the host admits the request and is
        left for the caller to release when it has dealt with the result: results (and
        their bodies) never pile up faster than the caller consumes them.
        """
        started = time.monotonic()
        host = urlsplit(request.url).hostname or ""
        attempts = 0
        assert self._global is not None, "use Fetcher as an async context manager"
        # The host's slot first, then a global one only for the request itself: a task
        # queued behind a busy host, spacing out or backing off holds no global slot.
        async with self._hosts.semaphore(host):
            if backlog is not None:
                await backlog.acquire()
            while True:
                attempts += 1
                await self._hosts.wait_turn(host)
                try:
                    async with self._global:
                        result = await self._get(request)
                except FetchError as exc:
                    transient = exc.status is None or exc.status in TRANSIENT_STATUS
                    if transient and attempts <= self.options.retries:
                        delay = self.options.backoff * 2 ** (attempts - 1)
                        await asyncio.sleep(delay * (0.5 + random.random()))
                        continue
                    return FetchResult(request.source_id, request.url, status=exc.status,
                                       error=str(exc), attempts=attempts,
                                       elapsed_ms=_ms(started))
                return _with(result, attempts=attempts, elapsed_ms=_ms(started))

    async def _get(self, request: FetchRequest) -> FetchResult:
        assert self._client is not None
        headers = dict(request.headers)
        if request.etag:
            headers["If-None-Match"] = request.etag
        if request.last_modified:
            headers["If-Modified-Since"] = request.last_modified
        timeout = request.timeout or self.options.timeout
        try:
            async with self._client.stream("GET", request.url, headers=headers,
                                           timeout=timeout) as response:
                return await self._read(request, response)
        except httpx.TooManyRedirects as exc:
            raise FetchError(f"more than {self.options.max_redirects} redirects",
                             status=0) from exc
        except httpx.HTTPError as exc:
            raise FetchError(_describe(exc, timeout)) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise FetchError(f"{type(exc).__name__}: {_first_line(exc)}") from exc

    async def _read(self, request: FetchRequest, response: httpx.Response) -> FetchResult:
        status = response.status_code
        base = FetchResult(request.source_id, str(response.url), status=status,
                           etag=response.headers.get("etag"),
                           last_modified=response.headers.get("last-modified"),
                           content_type=response.headers.get("content-type"))
        if status == 304:
            return base
        if status >= 400:
            raise FetchError(f"HTTP {status} {response.reason_phrase}".strip(), status=status)
        limit = self.options.max_bytes
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise FetchError(f"response is {int(declared)} bytes, over the {limit}-byte cap",
                             status=0)
        chunks: list[bytes] = []
        total = 0
        async for chunk in response.aiter_bytes():
            total += len(chunk)
            if total > limit:
                raise FetchError(f"response exceeds the {limit}-byte cap", status=0)
            chunks.append(chunk)
        body = b"".join(chunks)
        if not body.strip():
            raise FetchError(f"HTTP {status} with an empty body", status=0)
        return _with(base, body=body)


def _tls_context() -> ssl.SSLContext:
    """The verifying TLS context (system CAs) aiohttp builds at import for its connectors.

    The transport gets it too: given nothing, it would load certifi's bundle into a
    context of its own, at every start-up, that our sessions never use.
    """
    import aiohttp.connector

    found = getattr(aiohttp.connector, "_SSL_CONTEXT_VERIFIED", None)
    return found if isinstance(found, ssl.SSLContext) else ssl.create_default_context()


def _with(result: FetchResult, **kw: Any) -> FetchResult:
    from dataclasses import replace

    return replace(result, **kw)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _describe(exc: httpx.HTTPError, timeout: float) -> str:
    """Say what really went wrong: the aiohttp transport maps a refused connection to a
    ``ConnectTimeout``, so look at the original cause before calling anything a timeout."""
    cause = exc.__cause__
    if isinstance(cause, aiohttp.ClientConnectorError):
        return f"cannot connect to {cause.host}:{cause.port}: {_first_line(cause.os_error)}"
    if isinstance(cause, aiohttp.ServerDisconnectedError):
        return "the server closed the connection"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect: {_first_line(exc)}"
    if (isinstance(exc, httpx.TimeoutException) and not isinstance(
            cause, aiohttp.ClientConnectionError | OSError)) or isinstance(
            cause, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return f"timed out after {timeout:g}s"
    return f"{type(cause or exc).__name__}: {_first_line(cause or exc)}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
