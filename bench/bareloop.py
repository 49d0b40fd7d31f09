"""The floor: GET every URL on reassess's client stack, and nothing else.

One ``httpx.AsyncClient`` over ``httpx_aiohttp.AiohttpTransport`` (the stack
``sources/fetch.py`` builds), the same concurrency, the same request headers, and the
conditional headers (ETag / Last-Modified) this loop saw on its own previous pass. It
reads each body and drops it: no parse, no diff, no database. Any tool on this client
pays at least this much, so reassess's rate over this rate says how close to the client
it runs.

    python -m bench.bareloop URLS STATE --concurrency 16

prints one JSON line: requests, statuses, bytes read.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

HEADERS = {"User-Agent": "reassess-bench-bareloop/1", "Accept-Encoding": "gzip, deflate"}


def make_client(concurrency: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    tls = aiohttp.connector._SSL_CONTEXT_VERIFIED  # as sources/fetch.py: no second CA load

    def session() -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency,
                                         keepalive_timeout=30, ssl=tls)
        return aiohttp.ClientSession(connector=connector)

    return httpx.AsyncClient(transport=AiohttpTransport(limits=limits, client=session,
                                                        verify=tls),
                             follow_redirects=True, timeout=httpx.Timeout(20.0),
                             headers=HEADERS)


async def run(urls: list[str], state: dict[str, list[str | None]],
              concurrency: int) -> dict[str, object]:
    gate = asyncio.Semaphore(concurrency)
    statuses: dict[str, int] = {}
    total = 0
    errors = 0

    async def one(client: httpx.AsyncClient, url: str) -> None:
        nonlocal total, errors
        headers = {}
        etag, modified = state.get(url, [None, None])
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        async with gate:
            try:
                response = await client.get(url, headers=headers)
            except httpx.HTTPError:
                errors += 1
                return
        key = str(response.status_code)
        statuses[key] = statuses.get(key, 0) + 1
        total += len(response.content)
        if response.status_code == 200:
            state[url] = [response.headers.get("etag"), response.headers.get("last-modified")]

    async with make_client(concurrency) as client:
        await asyncio.gather(*(one(client, u) for u in urls))
    return {"requests": len(urls), "statuses": statuses, "bytes": total, "errors": errors}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bareloop")
    parser.add_argument("urls", type=Path, help="one URL per line")
    parser.add_argument("state", type=Path, help="validators from the previous pass (JSON)")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args(argv)
    urls = args.urls.read_text(encoding="utf-8").split()
    state = json.loads(args.state.read_text()) if args.state.exists() else {}
    result = asyncio.run(run(urls, state, args.concurrency))
    args.state.write_text(json.dumps(state))
    sys.stdout.write(json.dumps(result) + "\n")
    return 0 if not result["errors"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
