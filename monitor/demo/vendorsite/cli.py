"""``python -m monitor.demo.vendorsite``: serve the site from the command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import signal
import sys

from .common import log
from .server import VendorSite


async def _serve(site: VendorSite, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    url = await site.open(host, port)
    print(url, flush=True)  # the first line is the base URL alone, for scripts
    log.info("%d vendors, e.g. %s%s — control with POST %s/_control/<vendor>/<action>",
             len(site.vendors), url, site.paths(site.vendors[0])[0], url)
    try:
        await stop.wait()
    finally:
        await site.close()
        log.info("stopped")


def _seconds(text: str) -> float:
    """``20s``, ``2m``, ``1h`` or a bare number of seconds (not via ``config``: it imports
    pydantic, and this server should start fast)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*", text)
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"{text!r} is not a duration; write it like 20s, 2m or 1h")
    return float(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2) or "s"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monitor.demo.vendorsite",
                                     description="Serve the simulated AI vendor site.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--vendors", type=int, default=0,
                        help="serve N generated vendors v0001.. instead of the demo vendors")
    parser.add_argument("--demo-every", default=None, metavar="DURATION",
                        help="make a random semantic change every DURATION (e.g. 20s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--warm", action="store_true",
                        help="render every document before serving (otherwise on first request)")
    args = parser.parse_args(argv)
    try:
        every = _seconds(args.demo_every) if args.demo_every else None
    except ValueError as exc:
        parser.error(str(exc))
    logging.basicConfig(level=logging.INFO, format="vendorsite: %(message)s", stream=sys.stdout)
    site = (VendorSite.generated(args.vendors, seed=args.seed, demo_every=every)
            if args.vendors else VendorSite(seed=args.seed, demo_every=every))
    if args.warm:
        log.info("rendered %d documents", site.warm())
    asyncio.run(_serve(site, args.host, args.port))
    return 0
