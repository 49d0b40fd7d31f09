"""A hostile vendor site on loopback: each path serves good content, or its fault on demand.

``FaultSite`` runs an aiohttp server in a thread. Every path serves a good document of
its kind (a subprocessor table, a policy page, a status feed) until ``fault(path, name)``
turns its fault on; ``heal()`` turns every fault off. The faults are real: slow or
trickling responses, resets, truncations, bombs, hostile redirects, bot walls, bodies
that are no text. ``Loopback`` is a second server (another origin: "internal") that
records what reaches it.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import socket
import threading
from collections.abc import Callable
from typing import Any

from aiohttp import web

SUBPROCESSORS = [
    ("Amazon Web Services", "Cloud hosting", "United States"),
    ("Datadog", "Monitoring", "United States"),
    ("Müller Analytics GmbH", "Analytics", "Germany"),
    ("Snowflake", "Data warehouse", "United States"),
    ("Cloudflare", "CDN and security", "United States"),
    ("Zendesk", "Customer support", "United States"),
    ("Stripe", "Payments", "United States"),
    ("Twilio", "Messaging", "United States"),
    ("OpenAI", "LLM inference", "United States"),
    ("Cohere", "Embeddings", "Canada"),
]


def subprocessors_html(charset: str = "utf-8", extra: str = "") -> bytes:
    rows = "".join(f"<tr><td>{n}</td><td>{p}</td><td>{loc}</td></tr>"
                   for n, p, loc in SUBPROCESSORS)
    return (f"<html><head><meta charset=\"{charset}\"><title>Subprocessors</title></head>"
            f"<body><main><h1>Subprocessors</h1>{extra}<table><tr><th>Name</th>"
            f"<th>Purpose</th><th>Location</th></tr>{rows}</table></main></body>"
            f"</html>").encode()


def page_html(marker: str = "") -> bytes:
    clauses = "".join(f"<p>Clause {i}: customer data is processed lawfully and kept "
                      f"for {30 + i} days.</p>" for i in range(12))
    return (f"<html><body><main><h1>Data processing addendum</h1>{clauses}{marker}"
            f"</main></body></html>").encode()


def feed_xml(prolog: str = "<?xml version='1.0' encoding='UTF-8'?>",
             generator: str = "statuspage") -> bytes:
    entries = "".join(
        f"<entry><id>tag:status.example,2026:incident/{i}</id>"
        f"<title>Elevated error rates on the API ({i})</title>"
        f"<published>2026-0{i}-01T09:00:00Z</published>"
        f"<updated>2026-0{i}-01T10:00:00Z</updated>"
        f"<link rel='alternate' href='https://status.example/incidents/{i}'/>"
        f"<content type='html'>&lt;p&gt;Resolved - fixed.&lt;/p&gt;</content></entry>"
        for i in range(1, 6))
    return (f"{prolog}<feed xmlns='http://www.w3.org/2005/Atom'><title>Status</title>"
            f"<id>tag:status.example,2026:feed</id><updated>2026-06-01T10:00:00Z</updated>"
            f"<generator>{generator}</generator>{entries}</feed>").encode()


CHALLENGE = (b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
             b"<div id='challenge-running'>Checking if the site connection is secure</div>"
             b"<noscript>Enable JavaScript and cookies to continue</noscript>"
             b"<div>Ray ID: 8a1b2c3d4e5f</div></body></html>")
LOGIN = (b"<html><head><title>Sign in</title></head><body><main><h1>Sign in</h1>"
         b"<form action='/login' method='post'><label>Email<input name='email'></label>"
         b"<label>Password<input type='password' name='password'></label>"
         b"<button>Sign in</button></form><p>Forgot your password?</p></main></body></html>")
XXE = "<?xml version='1.0' encoding='UTF-8'?><!DOCTYPE feed [<!ENTITY xxe SYSTEM " \
      "'file:///etc/passwd'>]>"
LAUGHS = "<?xml version='1.0'?><!DOCTYPE feed [<!ENTITY a0 'lol'>" + "".join(
    f"<!ENTITY a{i} '{('&a' + str(i - 1) + ';') * 10}'>" for i in range(1, 10)) + "]>"


class Loopback:
    """A plain server on another loopback port: an "internal" origin that records every
    request that reaches it (path and headers)."""

    def __init__(self, body: bytes = b"<html><body><p>INTERNAL-TOKEN-7f3a</p></body></html>"
                 ) -> None:
        self.body = body
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self.port = 0
        self._runner: web.AppRunner | None = None
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests.append((request.path_qs, dict(request.headers)))
        return web.Response(body=self.body, content_type="text/html")

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        return app

    def start(self, port: int = 0, ssl_context: Any = None) -> int:
        ready = threading.Event()
        loop = self.loop = asyncio.new_event_loop()

        async def boot() -> None:
            self._runner = web.AppRunner(self._app(), access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", port, ssl_context=ssl_context,
                               reuse_address=True)
            await site.start()
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            ready.set()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(boot())
            loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert ready.wait(10)
        return self.port

    def stop(self) -> None:
        async def down() -> None:
            assert self._runner is not None
            await self._runner.cleanup()

        loop, self.loop = self.loop, None
        assert loop is not None and self.thread is not None
        asyncio.run_coroutine_threadsafe(down(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        self.thread.join(10)
        loop.close()


Handler = Callable[[web.Request], Any]


class FaultSite(Loopback):
    """Good documents on every path; ``fault(path, name)`` stages a fault there."""

    def __init__(self, internal_port: int = 0, tls_port: int = 0) -> None:
        super().__init__()
        self.internal_port, self.tls_port = internal_port, tls_port
        self.kinds: dict[str, str] = {}  # path → kind of its good document
        self.faults: dict[str, str] = {}
        self.hits: dict[str, list[float]] = {}
        self.bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), 9)

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{name}", self._serve)
        return app

    def serve(self, path: str, kind: str) -> None:
        self.kinds[path] = kind

    def fault(self, path: str, name: str) -> None:
        self.faults[path] = name

    def heal(self) -> None:
        self.faults.clear()

    def good(self, path: str) -> bytes:
        kind = self.kinds.get(path, "page")
        if kind == "subprocessors":
            return subprocessors_html()
        if kind == "incidents":
            return feed_xml()
        return page_html()

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["name"]
        self.hits.setdefault(path, []).append(asyncio.get_running_loop().time())
        name = self.faults.get(path)
        if name is None:
            etag = '"good"'
            if request.headers.get("If-None-Match") == etag:
                return web.Response(status=304, headers={"ETag": etag})
            return web.Response(body=self.good(path), headers={
                "ETag": etag, "Content-Type": _type(self.kinds.get(path, "page"))})
        handler: Handler = getattr(self, f"_f_{name}")
        return await handler(request)  # type: ignore[no-any-return]

    # --- the faults ------------------------------------------------------------------

    async def _f_timeout(self, request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(30)
        return web.Response(body=self.good(request.match_info["name"]))

    async def _f_trickle(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/html"})
        await resp.prepare(request)
        for byte in self.good(request.match_info["name"]) * 10:
            await resp.write(bytes([byte]))
            await asyncio.sleep(0.4)
        return resp

    async def _f_e404(self, request: web.Request) -> web.StreamResponse:
        return web.Response(status=404, text="not found")

    async def _f_e500(self, request: web.Request) -> web.StreamResponse:
        return web.Response(status=500, text="internal error")

    async def _f_e503_retry_after(self, request: web.Request) -> web.StreamResponse:
        return web.Response(status=503, headers={"Retry-After": "1"})

    async def _f_e429_long(self, request: web.Request) -> web.StreamResponse:
        return web.Response(status=429, headers={"Retry-After": "3600"})

    async def _f_reset(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/html",
                                           "Content-Length": "100000"})
        await resp.prepare(request)
        await resp.write(self.good(request.match_info["name"])[:300])
        assert request.transport is not None
        request.transport.abort()  # a reset, mid-body
        return resp

    async def _f_truncated(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/html",
                                           "Content-Length": "100000"})
        await resp.prepare(request)
        await resp.write(self.good(request.match_info["name"])[:1000])
        assert request.transport is not None
        request.transport.close()  # closed cleanly, long before its declared length
        return resp

    async def _f_gzip_bomb(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=self.bomb, headers={"Content-Encoding": "gzip",
                                                     "Content-Type": "text/html"})

    async def _f_oversize(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/html"})
        await resp.prepare(request)
        for _ in range(64):
            await resp.write(b"<p>" + b"x" * 65536 + b"</p>")
        return resp

    async def _f_empty(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=b" \n ", content_type="text/html")

    async def _f_redirect_loop(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"/{request.match_info['name']}?n={len(request.query_string)}x")

    async def _f_redirect_idna(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("http://xn--zz--.example/")

    async def _f_redirect_internal(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"http://127.0.0.1:{self.internal_port}/admin/token")

    async def _f_redirect_localhost(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"http://localhost:{self.internal_port}/admin/token")

    async def _f_redirect_metadata(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("http://169.254.169.254/latest/meta-data/")

    async def _f_redirect_file(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("file:///etc/passwd")

    async def _f_redirect_credentials(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"http://user:pass@127.0.0.1:{self.port}/elsewhere")

    async def _f_redirect_nxdomain(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("http://reassess-fault-host.invalid/")

    async def _f_redirect_tls(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"https://127.0.0.1:{self.tls_port}/")

    async def _f_challenge(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=CHALLENGE, content_type="text/html", status=200)

    async def _f_login(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=LOGIN, content_type="text/html")

    async def _f_cut(self, request: web.Request) -> web.StreamResponse:
        good = self.good(request.match_info["name"])
        return web.Response(body=good[:int(len(good) * 0.6)], content_type="text/html")

    async def _f_random_bytes(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=os.urandom(3000), content_type="text/html")

    async def _f_mislabelled(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=subprocessors_html(charset="iso-8859-1"),
                            headers={"Content-Type": "text/html; charset=iso-8859-1"})

    async def _f_xxe(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=feed_xml(XXE, "&xxe;"), content_type="application/atom+xml")

    async def _f_laughs(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=feed_xml(LAUGHS, "&a9;"), content_type="application/atom+xml")

    async def _f_deep(self, request: web.Request) -> web.StreamResponse:
        body = b"<div>" * 16000 + subprocessors_html() + b"</div>" * 16000
        return web.Response(body=body, content_type="text/html")

    async def _f_hang_parser(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=page_html("<p>SPIN-FOREVER</p>"), content_type="text/html")

    async def _f_hog_parser(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=page_html("<p>HOG-MEMORY</p>"), content_type="text/html")

    async def _f_crash_parser(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=page_html("<p>DIE-NOW</p>"), content_type="text/html")

    async def _f_diff_bug(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=page_html("<p>BOOM in the diff</p>"), content_type="text/html")


def _type(kind: str) -> str:
    return "application/atom+xml" if kind == "incidents" else "text/html; charset=utf-8"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
