"""``python -m bench.load``: the daemon checks N sources at a short interval while a few
clients read the web UI and the JSON API; nobody waits for anybody.

``reassess run`` (SQLite, the web UI on) watches N sources of the simulated vendor site
(its own process), every source at ``--interval``. Once the first pass is done, the
site changes a few documents every few seconds (triggers, notifications, writes) and
``--clients`` threads read pages and API endpoints in a loop for ``--seconds``. Figures:
requests, errors, page time percentiles, and the longest gap between two checks of one
source (or between the window's edges and its first and last check) against the
interval plus one tick. ``make load`` runs 500 sources at 10 s, four clients, 60 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from .procs import ROOT, child_env, running_site
from .workload import documents, reassess_config, vendor_count

PAGES = ["/", "/triggers", "/vendors", "/assessments", "/api/triggers?limit=50",
         "/api/vendors", "/api/summary", "/feeds/triggers.atom", "/healthz"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, float]:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError:
        status = 0
    return status, time.perf_counter() - started


def _clients(base: str, n: int, seconds: float, pages: list[str]) -> list[tuple[str, int, float]]:
    results: list[tuple[str, int, float]] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < stop:
            page = rng.choice(pages)
            status, took = _get(base + page)
            with lock:
                results.append((page, status, took))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 60)
    return results


def _checked_all(db: Path, n: int) -> bool:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            got = conn.execute("SELECT count(*) FROM source WHERE last_checked_at IS NOT NULL"
                               ).fetchone()[0]
    except sqlite3.Error:
        return False
    return int(got) >= n


def _gaps(db: Path, start: datetime, end: datetime) -> tuple[float, int, int]:
    """The longest time a source went unchecked within [start, end], the number of
    checks in it, and the number of failed checks."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        rows = conn.execute("SELECT source_id, started_at, outcome FROM checkrun "
                            "ORDER BY started_at").fetchall()
        sources = [r[0] for r in conn.execute("SELECT id FROM source WHERE active")]
    times: dict[str, list[datetime]] = {s: [] for s in sources}
    failed = checks = 0
    for source, at, outcome in rows:
        when = datetime.fromisoformat(at).replace(tzinfo=UTC)
        if start <= when <= end:
            times.setdefault(source, []).append(when)
            checks += 1
            failed += outcome == "failed"
    longest = 0.0
    for stamps in times.values():
        edges = [start, *stamps, end]
        longest = max(longest, *((b - a).total_seconds() for a, b in pairwise(edges)))
    return longest, checks, failed


def run_load(n: int, interval: float, seconds: float, clients: int, tick: float,
             workdir: Path) -> dict[str, Any]:
    docs = documents(n)
    port = _free_port()
    db = workdir / "load.db"
    with running_site(vendor_count(n), workdir / "site") as site:
        config = workdir / "load.yaml"
        text = reassess_config(docs, site.base_url, db, concurrency=32,
                               interval=f"{interval:g}s", tick=f"{tick:g}s")
        text = text.replace("schedule: {", f"web: {{port: {port}, public_read: true}}\n"
                                           "schedule: {")
        config.write_text(text, encoding="utf-8")
        log = (workdir / "daemon.log").open("wb")
        daemon = subprocess.Popen([sys.executable, "-m", "monitor.cli", "run", "--config",
                                   str(config)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                  env=child_env())
        try:
            deadline = time.monotonic() + 300
            while not _checked_all(db, n):
                if daemon.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the first pass did not finish; see {workdir}")
                time.sleep(0.5)
            paths = [d.path for d in docs]
            stop = threading.Event()

            def mutate() -> None:
                seed = 0
                while not stop.wait(3.0):
                    seed += 1
                    site.mutate(3, paths, seed)

            mutator = threading.Thread(target=mutate, daemon=True)
            start = datetime.now(UTC)
            mutator.start()
            results = _clients(f"http://127.0.0.1:{port}", clients, seconds, PAGES)
            end = datetime.now(UTC)
            stop.set()
            mutator.join(10)
        finally:
            daemon.terminate()
            daemon.wait(30)
            log.close()
    times = sorted(t for _, status, t in results)
    errors = [(page, status) for page, status, _ in results if status != 200]
    longest, checks, failed = _gaps(db, start, end)
    q = statistics.quantiles(times, n=100) if len(times) >= 2 else [0.0] * 99
    return {"sources": n, "interval_s": interval, "tick_s": tick, "clients": clients,
            "seconds": seconds, "requests": len(results), "errors": len(errors),
            "error_samples": errors[:5], "page_p50_ms": round(q[49] * 1000, 1),
            "page_p95_ms": round(q[94] * 1000, 1), "page_max_ms": round(times[-1] * 1000, 1)
            if times else 0.0, "checks": checks, "checks_failed": failed,
            "longest_unchecked_s": round(longest, 2),
            "allowed_unchecked_s": interval + tick,
            "checked_in_time": longest <= interval + tick}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    p.add_argument("--sources", type=int, default=500)
    p.add_argument("--interval", type=float, default=10.0)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--tick", type=float, default=1.0)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="reassess-load-") as tmp:
        figures = run_load(args.sources, args.interval, args.seconds, args.clients, args.tick,
                           Path(tmp))
    print(json.dumps(figures), flush=True)
    ok = figures["errors"] == 0 and figures["page_p95_ms"] < 500 and figures["checked_in_time"]
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("NO_COLOR", "1")
    raise SystemExit(main())
