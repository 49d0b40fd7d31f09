"""Daemon mode: the delay from a change on the site to its notification.

``reassess run --no-web`` watches the bench's documents with a short interval and a
``json://`` channel pointing at a receiver in this process. Once the daemon has checked
every source once (steady state), the probe changes a few subprocessor lists (a change
that always fires a trigger) and times each until a notification naming its vendor
arrives. Without the notifier (``monitor/notify.py``), it times the trigger row instead
and says so.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import statistics
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .procs import Site, TreeMemory, bin_path, child_env, stop, tree
from .workload import Doc


class Receiver:
    """A loopback HTTP server that records each POST body with its arrival time."""

    def __init__(self) -> None:
        self.got: list[tuple[float, str]] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace")
                with outer.lock:
                    outer.got.append((time.monotonic(), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def first_after(self, t0: float, needle: str) -> float | None:
        with self.lock:
            for at, body in self.got:
                if at >= t0 and needle in body:
                    return at
        return None


def notifier_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("monitor.notify.notifier") is not None


def _checked_since(db: Path, run_id: int) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        return int(conn.execute("SELECT count(*) FROM checkrun WHERE id > ?",
                                (run_id,)).fetchone()[0])


def _max_id(db: Path, table: str) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        return int(conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0])


def _trigger_seen(db: Path, after_id: int, source_id: str) -> bool:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        return conn.execute("SELECT 1 FROM \"trigger\" WHERE id > ? AND source_id = ?",
                            (after_id, source_id)).fetchone() is not None


def _proc_cpu_s(pid: int) -> float:
    """user + sys seconds of a live process, its live descendants (the parse workers) and
    the children it reaped, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15])
    return total / ticks


def _proc_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def probe(site: Site, docs: list[Doc], config: Path, db: Path, workdir: Path, *,
          interval: float, receiver: Receiver | None, rounds: int = 2, per_round: int = 4,
          seed: int = 7) -> dict[str, Any]:
    """Start the daemon, wait for a full round of checks, then time ``rounds`` changes."""
    exe = bin_path("reassess")
    argv = [str(exe), "run", "--config", str(config), "--no-web"] if exe else \
        ["python", "-m", "monitor.cli", "run", "--config", str(config), "--no-web"]
    log = (workdir / "daemon.log").open("w")
    start_id = _max_id(db, "checkrun")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env=child_env(), cwd=workdir)
    memory = TreeMemory(proc.pid, period=0.2)
    memory.start()
    rng = random.Random(seed)
    delays: list[float] = []
    missed = 0
    steady: dict[str, float] = {}
    try:
        deadline = time.monotonic() + max(120.0, len(docs) / 20)
        while _checked_since(db, start_id) < len(docs):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the daemon did not check every source; see "
                                   f"{workdir / 'daemon.log'}")
            time.sleep(0.2)
        steady_at, steady_cpu = time.monotonic(), _proc_cpu_s(proc.pid)
        steady_runs = _max_id(db, "checkrun")
        candidates = [d for d in docs if d.kind == "subprocessors"] or docs
        for r in range(rounds):
            time.sleep(rng.uniform(0, interval))  # a random phase against the schedule
            picked = rng.sample(candidates, min(per_round, len(candidates)))
            trigger_id = _max_id(db, "trigger")
            t0 = time.monotonic()
            site.mutate(len(picked), [d.path for d in picked], seed=seed + r)
            waiting = {d.source_id: d for d in picked}
            until = t0 + interval + 30
            while waiting and time.monotonic() < until:
                for sid, d in list(waiting.items()):
                    seen = (receiver.first_after(t0, f"Vendor {d.vendor}") if receiver
                            else (time.monotonic() if _trigger_seen(db, trigger_id, sid)
                                  else None))
                    if seen is not None:
                        delays.append(seen - t0)
                        del waiting[sid]
                time.sleep(0.02)
            missed += len(waiting)
        window = time.monotonic() - steady_at
        steady = {"window_s": round(window, 1),
                  "checks_per_s": round((_max_id(db, "checkrun") - steady_runs) / window, 1),
                  "cpu_share": round((_proc_cpu_s(proc.pid) - steady_cpu) / window, 3),
                  "peak_rss_mb": round(_proc_hwm_mb(proc.pid), 1),
                  "peak_tree_pss_mb": round(memory.peak_kb / 1024, 1),
                  "processes": memory.max_processes}
    finally:
        memory.stop()
        stop(proc)
        log.close()
    return {
        "interval_s": interval,
        "measured": "notification" if receiver else "trigger row",
        "samples": len(delays),
        "missed": missed,
        "median_s": round(statistics.median(delays), 2) if delays else None,
        "max_s": round(max(delays), 2) if delays else None,
        "over_interval_s": round(max(delays) - interval, 2) if delays else None,
        "delays_s": [round(d, 2) for d in delays],
        "daemon": steady,
    }


def channel_url(receiver: Receiver) -> str:
    return f"json://127.0.0.1:{receiver.port}/reassess"


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2)
