"""The floor: GET every URL on reassess's client stack, and nothing else.

One ``httpx.AsyncClient`` over ``httpx_aiohttp.AiohttpTransport`` (the stack
``sources/fetch.py`` builds), the same concurrency, the same request headers, and the
conditional headers (ETag / Last-Modified) this loop saw on its own previous pass. It
reads each body and drops it: no parse, no diff, no database. Any tool on this client
pays at least this much, so reassess's rate over this rate says how close to the client
it runs.

    python -m bench.bareloop URLS STATE --concurrency 16

prints one JSON line: requests, statuses, bytes read.

``--rounds R`` (the daemon's steady state, ``bench/steady.py``) runs R passes in one
process after the first and reports the CPU of those passes alone (``resource`` rusage
of this process around each), so Python's start-up and imports are not counted: the
loop a long-running tool would be. With ``--control URL --change-share S`` it asks the
simulated site to change that share of the documents before each measured pass (the
request to the site is outside the measured CPU).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
import urllib.request
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


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _mutate(control: str, paths: list[str], count: int, seed: int) -> None:
    data = json.dumps({"count": count, "paths": paths, "seed": seed}).encode()
    req = urllib.request.Request(control.rstrip("/") + "/_control/mutate_random", data=data,
                                 method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        resp.read()


async def rounds(urls: list[str], state: dict[str, list[str | None]], concurrency: int,
                 count: int, control: str | None, share: float) -> dict[str, object]:
    """A warm pass, then ``count`` measured passes: CPU and wall of those alone."""
    await run(urls, state, concurrency)
    base = control.rstrip("/") if control else ""
    paths = [u[len(base):] for u in urls] if control else []
    cpu = wall = 0.0
    statuses: dict[str, int] = {}
    for i in range(count):
        if control and share > 0:
            _mutate(control, paths, max(1, round(share * len(paths))), seed=1000 + i)
        c0, w0 = _cpu_s(), time.perf_counter()
        res = await run(urls, state, concurrency)
        cpu += _cpu_s() - c0
        wall += time.perf_counter() - w0
        for key, n in res["statuses"].items():  # type: ignore[attr-defined]
            statuses[key] = statuses.get(key, 0) + n
    requests = count * len(urls)
    return {"requests": requests, "rounds": count, "statuses": statuses,
            "cpu_s": round(cpu, 4), "wall_s": round(wall, 4),
            "cpu_ms_per_request": round(1000 * cpu / requests, 4) if requests else 0.0,
            "requests_per_s": round(requests / wall, 1) if wall else 0.0, "errors": 0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bareloop")
    parser.add_argument("urls", type=Path, help="one URL per line")
    parser.add_argument("state", type=Path, help="validators from the previous pass (JSON)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=0,
                        help="steady state: a warm pass, then this many measured passes")
    parser.add_argument("--control", help="the simulated site's base URL (its control API)")
    parser.add_argument("--change-share", type=float, default=0.0)
    args = parser.parse_args(argv)
    urls = args.urls.read_text(encoding="utf-8").split()
    state = json.loads(args.state.read_text()) if args.state.exists() else {}
    if args.rounds > 0:
        result = asyncio.run(rounds(urls, state, args.concurrency, args.rounds, args.control,
                                    args.change_share))
    else:
        result = asyncio.run(run(urls, state, args.concurrency))
    args.state.write_text(json.dumps(state))
    sys.stdout.write(json.dumps(result) + "\n")
    return 0 if not result["errors"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
