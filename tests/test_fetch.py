"""The fetcher against a real loopback server, on both transports (aiohttp and httpx).

Every fault a source can show — refused connection, timeout, HTTP errors, redirect
loops, oversized or empty bodies — becomes a ``FetchResult`` with an error, never an
exception; conditional requests get 304s; transient errors are retried.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from sources.fetch import Fetcher, FetchOptions, FetchRequest, FetchResult

BODY = b"<html><body><main>hello</main></body></html>"


class FaultServer:
    """A loopback aiohttp server whose routes stage each fault."""

    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        self.headers: dict[str, dict[str, str]] = {}
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        self.hits[name] = self.hits.get(name, 0) + 1
        self.headers[name] = dict(request.headers)
        if name == "ok":
            if request.headers.get("If-None-Match") == '"v1"':
                return web.Response(status=304)
            return web.Response(body=BODY, headers={"ETag": '"v1"',
                                                    "Content-Type": "text/html"})
        if name == "gzip":
            return web.Response(body=gzip.compress(BODY), headers={"Content-Encoding": "gzip"})
        if name == "e404":
            return web.Response(status=404, text="not here")
        if name == "flaky":  # 503 twice, then fine: retried with backoff
            if self.hits[name] <= 2:
                return web.Response(status=503)
            return web.Response(body=BODY)
        if name == "e500":
            return web.Response(status=500)
        if name == "empty":
            return web.Response(body=b"   \n")
        if name == "big":
            return web.Response(body=b"x" * 200_000)
        if name == "bigchunked":
            resp = web.StreamResponse()
            await resp.prepare(request)
            for _ in range(50):
                await resp.write(b"y" * 10_000)
            await resp.write_eof()
            return resp
        if name == "loop":
            raise web.HTTPFound(f"/loop?{self.hits[name]}")
        if name == "redirect":
            raise web.HTTPFound("/ok")
        if name == "cookie":  # sets a cookie on a redirect hop
            raise web.HTTPFound("/needcookie", headers={"Set-Cookie": "seen=1; Path=/"})
        if name == "needcookie":
            if "seen=1" not in request.headers.get("Cookie", ""):
                return web.Response(status=403)
            return web.Response(body=BODY)
        if name == "slow":
            await asyncio.sleep(3)
            return web.Response(body=BODY)
        return web.Response(status=418)

    def start(self) -> str:
        ready = threading.Event()

        async def boot() -> None:
            app = web.Application()
            app.router.add_get("/{name}", self.handle)
            self._runner = web.AppRunner(app)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            ready.set()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(boot())
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert ready.wait(10)
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        async def down() -> None:
            assert self._runner is not None
            await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(down(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[FaultServer, str]]:
    s = FaultServer()
    url = s.start()
    yield s, url
    s.stop()


@pytest.fixture(params=["aiohttp", "httpx"])
def options(request: pytest.FixtureRequest) -> FetchOptions:
    return FetchOptions(transport=request.param, timeout=0.5, max_bytes=100_000,
                        max_redirects=3, retries=2, backoff=0.01)


def fetch(options: FetchOptions, url: str, **kw: Any) -> FetchResult:
    async def go() -> FetchResult:
        async with Fetcher(options) as f:
            return await f.fetch(FetchRequest(source_id="s", url=url, **kw))
    return asyncio.run(go())


def test_ok_and_conditional(server: tuple[FaultServer, str], options: FetchOptions) -> None:
    srv, base = server
    first = fetch(options, f"{base}/ok")
    assert first.ok and first.status == 200 and first.body == BODY and first.etag == '"v1"'
    assert "reassess" in srv.headers["ok"]["User-Agent"]
    again = fetch(options, f"{base}/ok", etag=first.etag)
    assert again.ok and again.not_modified and again.body is None


def test_gzip_is_decoded(server: tuple[FaultServer, str], options: FetchOptions) -> None:
    assert fetch(options, f"{server[1]}/gzip").body == BODY


@pytest.mark.parametrize(("name", "words"), [
    ("e404", "HTTP 404"), ("e500", "HTTP 500"), ("empty", "empty body"),
    ("big", "cap"), ("bigchunked", "cap"), ("loop", "redirects"), ("slow", "timed out"),
])
def test_faults_become_errors(server: tuple[FaultServer, str], options: FetchOptions,
                              name: str, words: str) -> None:
    result = fetch(options, f"{server[1]}/{name}")
    assert not result.ok and result.body is None
    assert words in (result.error or ""), result.error


def test_transient_errors_are_retried(server: tuple[FaultServer, str],
                                      options: FetchOptions) -> None:
    srv, base = server
    srv.hits.pop("flaky", None)
    result = fetch(options, f"{base}/flaky")
    assert result.ok and result.attempts == 3 and srv.hits["flaky"] == 3


def test_redirect_is_followed(server: tuple[FaultServer, str], options: FetchOptions) -> None:
    result = fetch(options, f"{server[1]}/redirect")
    assert result.ok and result.url.endswith("/ok")


def test_refused_connection_says_so(options: FetchOptions) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = fetch(options, f"http://127.0.0.1:{port}/")
    assert not result.ok and "connect" in (result.error or "")
    assert "timed out" not in (result.error or "")


def test_tls_certificates_are_verified(tmp_path: Any) -> None:
    """The aiohttp transport verifies TLS: a self-signed certificate on a real HTTPS
    server on loopback is refused, whatever context the transport was handed."""
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)

    async def secret(_request: web.Request) -> web.Response:
        return web.Response(text="secret")

    async def run() -> FetchResult:
        app = web.Application()
        app.router.add_get("/", secret)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ctx)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            async with Fetcher(FetchOptions(retries=0)) as fetcher:
                return await fetcher.fetch(FetchRequest(source_id="s",
                                                        url=f"https://127.0.0.1:{port}/"))
        finally:
            await runner.cleanup()

    result = asyncio.run(run())
    assert result.body is None and result.error is not None
    assert "certificate" in result.error.lower(), result.error


def test_cookies_a_response_sets_go_with_later_requests(
        server: tuple[FaultServer, str], options: FetchOptions) -> None:
    """The client keeps the cookies responses set (a redirect hop's too), as httpx's jar
    does; the jar skips its work on the responses that set none (``fetch._Cookies``)."""
    _, url = server

    async def go() -> tuple[FetchResult, FetchResult, FetchResult]:
        async with Fetcher(options) as f:
            from sources.fetch import _Cookies
            assert isinstance(f._client._cookies, _Cookies)  # type: ignore[union-attr]
            before = await f.fetch(FetchRequest(source_id="s", url=f"{url}/needcookie"))
            hop = await f.fetch(FetchRequest(source_id="s", url=f"{url}/cookie"))
            after = await f.fetch(FetchRequest(source_id="s", url=f"{url}/needcookie"))
            return before, hop, after

    before, hop, after = asyncio.run(go())
    assert before.status == 403 and before.error is not None
    assert hop.ok and hop.body == BODY, hop
    assert after.ok and after.body == BODY, after
