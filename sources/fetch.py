"""Fetching: one shared async httpx client, conditional requests, caps and retries.

The client runs over ``httpx_aiohttp.AiohttpTransport`` by default (less CPU per request
than httpx's own pool), or httpx's own transport when ``http.transport:
httpx`` is set. Every failure becomes a ``FetchResult`` with ``error`` set: a network
error, a timeout, HTTP >= 400, an empty or oversized body, a refused redirect, and
anything else a hostile server manages to raise. Failed fetches are recorded, never
diffed.

Bounds: ``timeout`` is a deadline on one whole request, connect to last byte and every
redirect hop included (a server that trickles a byte every few seconds is cut off
there); with retries a fetch takes at most ``(retries + 1) × timeout`` plus its
backoff. A ``Retry-After`` of a 429 or 503 is honoured up to ``retry_after_max``;
beyond it the fetch fails now and says when the server asked to be tried again.

Where a request may go (``AddressGuard``): redirects are followed here, hop by hop, and
each hop's host is resolved and refused when it is not a public address (loopback,
private, link-local, unspecified …), unless the hop has the configured URL's own origin
(scheme, host, port) or ``http.allow_private`` lists it. With the aiohttp transport the
connector's resolver checks the addresses it connects to as well, so a name that
resolves differently the second time (DNS rebinding) is refused too. A source's own
headers (they may hold secrets) go only to its own origin.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import ipaddress
import random
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import httpx

from config.errors import FetchError

USER_AGENT = ("reassess/0.1 (AI vendor re-assessment monitor; "
              "+https://github.com/reassess/reassess)")
TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True, slots=True)
class FetchRequest:
    source_id: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float | None = None
    # How the body is fetched when it is not one GET of ``url`` (``sources/via.py``):
    # a Hugging Face Hub revision, a page rendered in a browser, an IMAP folder.
    via: Mapping[str, Any] | None = None


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
    retry_after: float | None = None  # seconds the server asked us to wait (429/503)

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
    retry_after_max: float = 60.0
    allow_private: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, http: Any) -> FetchOptions:
        return cls(transport=http.transport, timeout=http.timeout, max_bytes=http.max_bytes,
                   max_redirects=http.max_redirects, concurrency=http.concurrency,
                   per_host=http.per_host, host_spacing=http.host_spacing or 0.0,
                   retries=http.retries, user_agent=http.user_agent or USER_AGENT,
                   retry_after_max=getattr(http, "retry_after_max", 60.0),
                   allow_private=tuple(getattr(http, "allow_private", ()) or ()))

    def bound(self, timeout: float | None = None) -> float:
        """The longest a fetch can take once its host admits it: every attempt's whole
        deadline, the backoff between them (at its largest jitter) and Retry-After waits."""
        per_try = timeout or self.timeout
        waits = sum(max(self.backoff * 2 ** i * 1.5, self.retry_after_max)
                    for i in range(self.retries))
        return (self.retries + 1) * per_try + waits


# A fetch that is not one GET of the URL: given the fetcher (its ``get`` with retries),
# the request and when it started; run inside ``fetch``, holding the host's slot.
Via = Callable[["Fetcher", FetchRequest, float], Awaitable[FetchResult]]


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


# --- where a request may go ------------------------------------------------------------

Origin = tuple[str, str, int]

# Set for a hop the guard let through to a non-public address (its own origin, or
# ``allow_private``): the connector's resolver then lets such addresses through too.
_PRIVATE_OK: contextvars.ContextVar[bool] = contextvars.ContextVar("reassess_private_ok",
                                                                  default=False)


def origin_of(url: httpx.URL) -> Origin:
    port = url.port or (443 if url.scheme == "https" else 80)
    return url.scheme, url.host.lower(), port


def public(address: str) -> bool:
    """Whether ``address`` is a public (globally routed) IP address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class AddressGuard:
    """Refuses hops to non-public addresses unless they are the source's own origin or
    listed in ``http.allow_private`` (``host``, ``host:port`` or a network such as
    ``10.0.0.0/8``)."""

    def __init__(self, allow: Iterable[str] = ()) -> None:
        self.hosts: set[tuple[str, int | None]] = set()
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in allow:
            entry = entry.strip().lower()
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
            host, _, port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
            self.hosts.add((host, int(port)) if port.isdigit() else (entry, None))

    def listed(self, host: str, port: int, addresses: Iterable[str] = ()) -> bool:
        if (host, port) in self.hosts or (host, None) in self.hosts:
            return True
        for address in addresses:
            try:
                ip = ipaddress.ip_address(address.split("%", 1)[0])
            except ValueError:
                continue
            if any(ip in net for net in self.networks):
                return True
        return False

    def own(self, url: httpx.URL) -> None:
        """``check`` of a URL of the source's own origin (its first hop), without working
        that origin out again: every check makes one."""
        self._refuse_form(url)
        _PRIVATE_OK.set(True)

    def _refuse_form(self, url: httpx.URL) -> None:
        if url.scheme not in ("http", "https"):
            raise FetchError(f"refused: a redirect to a {url.scheme or 'schemeless'} URL",
                             status=0)
        if url.userinfo:
            raise FetchError("refused: a URL with credentials in it (user:password@); "
                             "put them in the source's headers:", status=0)

    async def check(self, url: httpx.URL, own: Origin) -> None:
        """Refuse ``url`` (raise ``FetchError``) unless it may be fetched; sets whether the
        connection may go to a non-public address."""
        self._refuse_form(url)
        target = origin_of(url)
        if target == own or self.listed(target[1], target[2]):
            _PRIVATE_OK.set(True)
            return
        addresses = await _addresses(target[1], target[2])
        bad = [a for a in addresses if not public(a)]
        if bad and not self.listed(target[1], target[2], bad):
            raise FetchError(f"refused: {target[1]} is {bad[0]}, not a public address "
                             "(only the source's own origin, or one http.allow_private "
                             "lists, may be private)", status=0)
        _PRIVATE_OK.set(bool(bad))


async def _addresses(host: str, port: int) -> list[str]:
    host = host.strip("[]")
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        return [host]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port,
                                                             type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {host}: {_first_line(exc)}") from None
    return [str(info[4][0]) for info in infos]


class _GuardedResolver(aiohttp.abc.AbstractResolver):
    """aiohttp's resolver, keeping only public addresses unless the hop was let through
    to a private one (``AddressGuard.check``): what the connection really dials is checked,
    not only what the guard resolved a moment before."""

    def __init__(self) -> None:
        self._inner = aiohttp.ThreadedResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[Any]:
        found = await self._inner.resolve(host, port, family)
        if _PRIVATE_OK.get():
            return found
        kept = [info for info in found if public(str(info["host"]))]
        if not kept:
            raise OSError(f"refused: {host} resolves to no public address")
        return kept

    async def close(self) -> None:
        await self._inner.close()


# --- the fetcher ----------------------------------------------------------------------


class _Status(FetchError):
    """An HTTP status that ends an attempt, with the server's Retry-After (seconds)."""

    def __init__(self, message: str, *, status: int, retry_after: float | None) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class _Cookies(httpx.Cookies):
    """httpx's cookie jar of the client, as it was (a cookie a response sets goes with the
    later requests to its domain, redirect hops included), without its work on every
    response that sets none: httpx builds urllib request and response stand-ins for each
    response before the jar looks for a ``Set-Cookie`` (~4 % of a daemon's CPU)."""

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers:
            super().extract_cookies(response)


class Fetcher:
    """The one shared client of a process. Use as ``async with Fetcher(options) as f``."""

    def __init__(self, options: FetchOptions | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.options = options or FetchOptions()
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._global: asyncio.Semaphore | None = None
        self._hosts = _HostGate(self.options.per_host, self.options.host_spacing)
        self.guard = AddressGuard(self.options.allow_private)
        self._bounds: dict[float | None, float] = {}  # a request's timeout → its fetch's bound
        # What a fetch that is not one GET keeps for the fetcher's life (a browser), by
        # name: each has an ``async aclose()``, called when the fetcher closes.
        self.attached: dict[str, Any] = {}

    async def __aenter__(self) -> Fetcher:
        opts = self.options
        transport = self._transport or self._make_transport()
        self._client = httpx.AsyncClient(
            transport=transport, follow_redirects=False,
            event_hooks={"response": [_hide_location]},
            timeout=httpx.Timeout(opts.timeout), headers={"User-Agent": opts.user_agent,
                                                         "Accept-Encoding": "gzip, deflate"})
        if isinstance(getattr(self._client, "_cookies", None), httpx.Cookies):
            self._client._cookies = _Cookies()  # see _Cookies (tests/test_fetch.py checks)
        self._global = asyncio.Semaphore(opts.concurrency)
        return self

    async def __aexit__(self, *exc: object) -> None:
        attached, self.attached = list(self.attached.values()), {}
        for item in attached:  # one that cannot close must not hide the pass's result
            with contextlib.suppress(Exception):
                await item.aclose()
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
                                             keepalive_timeout=30, ssl=tls,
                                             use_dns_cache=False, resolver=_GuardedResolver())
            return aiohttp.ClientSession(connector=connector)

        return AiohttpTransport(limits=limits, client=session, verify=tls)

    async def fetch(self, request: FetchRequest, backlog: asyncio.Semaphore | None = None,
                    how: Via | None = None, host: str | None = None) -> FetchResult:
        """Fetch once with retries on transient errors; never raises.

        With ``backlog``, a slot of it is taken once the host admits the request and is
        left for the caller to release when it has dealt with the result: results (and
        their bodies) never pile up faster than the caller consumes them. With ``how``,
        the body is fetched by it (``sources/via.py``) in place of one GET of the URL.
        ``host``: ``request.url``'s host name (``urlsplit``'s), when the caller knows it.
        """
        if host is None:
            host = urlsplit(request.url).hostname or ""
        assert self._global is not None, "use Fetcher as an async context manager"
        bound = self._bounds.get(request.timeout)
        if bound is None:
            bound = self._bounds[request.timeout] = self.options.bound(request.timeout) + 1.0
        # The host's slot first, then a global one only for the request itself: a task
        # queued behind a busy host, spacing out or backing off holds no global slot.
        async with self._hosts.semaphore(host):
            if backlog is not None:
                await backlog.acquire()
            started = time.monotonic()
            try:
                async with asyncio.timeout(bound):
                    if how is not None:  # not one GET of the URL (sources/via.py)
                        return await how(self, request, started)
                    return await self._attempts(request, started, host)
            except TimeoutError:  # a safety net: each attempt has its own deadline
                error = f"timed out after {bound:g}s (the whole fetch, retries included)"
            except Exception as exc:  # hostile input must never escape as an exception
                error = f"{type(exc).__name__}: {_first_line(exc)}"
            return FetchResult(request.source_id, request.url, error=error,
                               elapsed_ms=_ms(started))

    async def allowed(self, url: str, own: str) -> bool:
        """Whether a request to ``url`` may go out for a source at ``own`` (its configured
        URL): the address guard's answer, for a request this client does not make (a
        rendered page's subresources)."""
        try:
            await self.guard.check(httpx.URL(url), origin_of(httpx.URL(own)))
        except (FetchError, httpx.InvalidURL):
            return False
        return True

    async def get(self, request: FetchRequest, started: float) -> FetchResult:
        """One GET of ``request.url`` with its retries, inside a fetch (``how``'s use)."""
        return await self._attempts(request, started)

    async def _attempts(self, request: FetchRequest, started: float,
                        host: str | None = None) -> FetchResult:
        if host is None:
            host = urlsplit(request.url).hostname or ""
        timeout = request.timeout or self.options.timeout
        attempts = 0
        assert self._global is not None
        while True:
            attempts += 1
            await self._hosts.wait_turn(host)
            try:
                async with self._global:
                    async with asyncio.timeout(timeout):
                        return await self._get(request, timeout, attempts, started)
            except TimeoutError:
                exc = FetchError(f"timed out after {timeout:g}s")
            except FetchError as error:
                exc = error
            wait = self._retry_wait(exc, attempts)
            if wait is not None:
                await asyncio.sleep(wait)
                continue
            return FetchResult(request.source_id, request.url, status=exc.status,
                               error=str(exc), attempts=attempts, elapsed_ms=_ms(started),
                               retry_after=getattr(exc, "retry_after", None))

    def _retry_wait(self, exc: FetchError, attempts: int) -> float | None:
        """How long to wait before retrying, or ``None`` when this error is final."""
        transient = exc.status is None or exc.status in TRANSIENT_STATUS
        if not transient or attempts > self.options.retries:
            return None
        delay = self.options.backoff * 2 ** (attempts - 1) * (0.5 + random.random())
        asked = getattr(exc, "retry_after", None)
        if asked is not None:
            if asked > self.options.retry_after_max:
                return None  # the server asks for longer than a check waits: next check
            delay = max(delay, asked)
        return delay

    async def _get(self, request: FetchRequest, timeout: float, attempts: int = 1,
                   started: float | None = None) -> FetchResult:
        """One attempt (the ``attempts``-th of a fetch that ``started``): the request and
        its redirects, each hop checked by the guard."""
        assert self._client is not None
        try:
            url = httpx.URL(request.url)
            own = origin_of(url)
        except Exception as exc:
            raise FetchError(f"not a valid URL: {type(exc).__name__}: {_first_line(exc)}",
                             status=0) from None
        headers = dict(request.headers)
        if request.etag:
            headers["If-None-Match"] = request.etag
        if request.last_modified:
            headers["If-Modified-Since"] = request.last_modified
        for hop in range(self.options.max_redirects + 1):
            if hop:
                await self.guard.check(url, own)
            else:  # the configured URL itself: its own origin, what the guard lets through
                self.guard.own(url)
            try:
                async with self._client.stream("GET", url, headers=headers,
                                               timeout=timeout) as response:
                    location = response.headers.get(LOCATION)
                    if response.status_code not in REDIRECTS or not location:
                        return await self._read(request, response, attempts, started)
                    url = _redirect(response.url, location)
            except httpx.HTTPError as exc:
                raise FetchError(_describe(exc, timeout)) from exc
            except (aiohttp.ClientError, OSError) as exc:
                raise FetchError(f"{type(exc).__name__}: {_first_line(exc)}") from exc
            if origin_of(url) != own:
                headers = {}  # the source's headers (secrets?) and validators stay home
        raise FetchError(f"more than {self.options.max_redirects} redirects", status=0)

    async def _read(self, request: FetchRequest, response: httpx.Response, attempts: int,
                    started: float | None) -> FetchResult:
        """The result of a final response (made once: a 304's with nothing more to read)."""
        status = response.status_code
        headers = response.headers
        if status == 304:
            return FetchResult(request.source_id, str(response.url), status=status,
                               etag=headers.get("etag"),
                               last_modified=headers.get("last-modified"),
                               content_type=headers.get("content-type"), attempts=attempts,
                               elapsed_ms=_ms(started) if started is not None else 0)
        if status >= 400:
            raise _Status(f"HTTP {status} {response.reason_phrase}".strip(), status=status,
                          retry_after=retry_after(response.headers.get("retry-after")))
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
        return FetchResult(request.source_id, str(response.url), status=status, body=body,
                           etag=headers.get("etag"), last_modified=headers.get("last-modified"),
                           content_type=headers.get("content-type"), attempts=attempts,
                           elapsed_ms=_ms(started) if started is not None else 0)


# Where a redirect's Location waits for ``_redirect``: httpx builds the next request of any
# response with a Location even when it does not follow it, and a hostile one
# (``http://xn--zz--.example/``) raised out of httpx there, before we could look at it.
LOCATION = "x-reassess-location"


async def _hide_location(response: httpx.Response) -> None:
    location = response.headers.get("location")
    if location is not None:
        del response.headers["location"]
        response.headers[LOCATION] = location


def _redirect(at: httpx.URL, location: str) -> httpx.URL:
    """Where a redirect goes, or ``FetchError`` for a target no fetch may follow."""
    shown = repr(location[:200])
    try:
        target = at.join(location.strip())
        host = target.host  # decoded here: a malformed IDNA label raises (idna's errors)
    except Exception as exc:  # httpx.InvalidURL, idna.IDNAError, UnicodeError …
        raise FetchError(f"a redirect to an invalid URL {shown}: {type(exc).__name__}",
                         status=0) from None
    if target.scheme not in ("http", "https"):
        raise FetchError(f"refused: a redirect to a {target.scheme or 'schemeless'} URL "
                         f"({shown})", status=0)
    if not host:
        raise FetchError(f"a redirect to a URL without a host: {shown}", status=0)
    return target


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def _tls_context() -> ssl.SSLContext:
    """The verifying TLS context (system CAs) aiohttp builds at import for its connectors.

    The transport gets it too: given nothing, it would load certifi's bundle into a
    context of its own, at every start-up, that our sessions never use.
    """
    import aiohttp.connector

    found = getattr(aiohttp.connector, "_SSL_CONTEXT_VERIFIED", None)
    return found if isinstance(found, ssl.SSLContext) else ssl.create_default_context()


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
