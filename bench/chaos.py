"""``python -m bench.chaos``: ``kill -9`` of ``reassess check`` and ``reassess run`` at
random moments; no trigger lost or doubled, every notification delivered after restart.

Each round adds one subprocessor on the simulated vendor site (one trigger expected),
starts reassess, kills it with SIGKILL after a random delay (start-up, the pass, the
write, the delivery: wherever it is), then lets a fresh process finish. After every
round the database must hold exactly one trigger per round so far, and the notification
receiver must have seen every one of them (at least once: a repeat after a crash is
allowed, says ``attempt: 2``, and is counted). For the daemon, the time from the restart
to the round's delivery is measured: it must stay within the outbox lease.

``make chaos`` runs 50 kills of each on SQLite and on PostgreSQL; the tests run a few.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .procs import ROOT

PG_ADMIN = os.environ.get("REASSESS_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
LEASE = 60.0  # the notifier's outbox lease: the bound on delivery after a restart

CONFIG = """\
database: {db}
schedule: {{tick: 0.5s, jitter: 0}}
notify: {{tick: 0.5s, retry: 0.5s, retry_max: 2s}}
channels:
  sec:
    urls: ["json://127.0.0.1:{hook}/hook"]
vendors:
  - id: acme
    name: Acme AI
    owner: sec
    sources:
      - {{id: acme-sub, kind: subprocessors, url: "{site}/acme/subprocessors", interval: 2s}}
      - {{id: acme-dpa, kind: page, url: "{site}/acme/dpa", interval: 2s}}
  - id: northwind
    name: Northwind
    sources:
      - {{id: northwind-sub, kind: subprocessors, url: "{site}/northwind/subprocessors",
          interval: 2s}}
"""


class Hook:
    """The notification receiver: trigger ids and attempts of every JSON post."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    doc = json.loads(json.loads(body)["message"])
                    with hook.lock:
                        hook.posts.append({"at": time.monotonic(), "doc": doc})
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def trigger_ids(self) -> dict[int, list[float]]:
        seen: dict[int, list[float]] = {}
        with self.lock:
            for post in self.posts:
                trigger = post["doc"].get("trigger") or {}
                if "id" in trigger:
                    seen.setdefault(int(trigger["id"]), []).append(post["at"])
        return seen

    def attempts(self) -> list[int]:
        with self.lock:
            return [int((p["doc"].get("delivery") or {}).get("attempt", 1)) for p in self.posts]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Report:
    mode: str
    database: str
    kills: int = 0
    rounds: int = 0
    triggers: int = 0
    lost: int = 0
    doubled: int = 0
    undelivered: int = 0
    repeats: int = 0  # notifications delivered more than once (at least once, allowed)
    max_attempt: int = 1
    delivery_after_restart_s: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        slow = [s for s in self.delivery_after_restart_s if s > LEASE]
        return not (self.lost or self.doubled or self.undelivered or slow)


@contextlib.contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp}/chaos-{uuid.uuid4().hex[:8]}.db"
        return
    from sqlalchemy import create_engine, text

    name = f"reassess_chaos_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _triggers(db: str) -> list[tuple[int, str]]:
    from sqlalchemy import select
    from sqlmodel import col

    from storage.db import open_database, session_scope
    from storage.models import Trigger

    engine = open_database(db)
    try:
        with session_scope(engine, write=False) as s:
            rows = s.execute(select(col(Trigger.id), col(Trigger.entities))
                             .where(col(Trigger.source_id) == "acme-sub")).all()
            return [(int(i), json.dumps(e)) for i, e in rows]
    finally:
        engine.dispose()


def _cli(*args: str, log: Any = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "monitor.cli", *args], cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "NO_COLOR": "1"})


def _wait(predicate: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return None


def _tally(report: Report, db: str, hook: Hook, rounds: int) -> None:
    stored = _triggers(db)
    names = [e for _, e in stored]
    report.rounds, report.triggers = rounds, len(stored)
    report.lost = max(0, rounds - len(set(names)))
    report.doubled = len(names) - len(set(names))
    delivered = hook.trigger_ids()
    report.undelivered = sum(1 for i, _ in stored if i not in delivered)
    report.repeats = sum(len(v) - 1 for v in delivered.values())
    report.max_attempt = max(hook.attempts() or [1])


def chaos_check(kind: str, kills: int, seed: int, tmp: Path) -> Report:
    """``reassess check`` killed at a random moment, then run to its end, ``kills`` times."""
    from monitor.demo.vendorsite import VendorSite

    rng = random.Random(seed)
    report = Report("check", kind)
    started = time.monotonic()
    site, hook = VendorSite(vendors=["acme", "northwind"]), Hook()
    site.start(host="127.0.0.1", port=0)
    try:
        with database(kind, tmp) as db:
            config = tmp / f"chaos-check-{kind}.yaml"
            config.write_text(CONFIG.format(db=db, hook=hook.port, site=site.base_url),
                              encoding="utf-8")
            first = time.monotonic()
            assert _cli("check", "--config", str(config)).wait(120) in (0, 1)
            lifetime = time.monotonic() - first  # how long a whole `check` lives here
            rounds = 0
            while report.kills < kills and rounds < 3 * kills:  # a kill lands in most rounds
                site.control("acme", "add_subprocessor", name=f"Chaos Check {rounds}",
                             purpose="LLM inference", location="Canada")
                rounds += 1
                proc = _cli("check", "--config", str(config))
                time.sleep(rng.uniform(0.05, lifetime))
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                    report.kills += 1
                proc.wait(30)
                assert _cli("check", "--config", str(config)).wait(120) in (0, 1)
            _wait(lambda: len(hook.trigger_ids()) >= rounds, 10)
            _tally(report, db, hook, rounds)
    finally:
        site.stop()
        hook.stop()
    report.seconds = round(time.monotonic() - started, 1)
    return report


def chaos_run(kind: str, kills: int, seed: int, tmp: Path) -> Report:
    """``reassess run`` killed at a random moment and restarted, ``kills`` times; after
    each restart the round's trigger is delivered (the time it takes is measured)."""
    from monitor.demo.vendorsite import VendorSite

    rng = random.Random(seed)
    report = Report("run", kind)
    started = time.monotonic()
    site, hook = VendorSite(vendors=["acme", "northwind"]), Hook()
    site.start(host="127.0.0.1", port=0)
    log = open(tmp / f"chaos-run-{kind}.log", "ab")  # noqa: SIM115 - closed below
    proc: subprocess.Popen[bytes] | None = None
    try:
        with database(kind, tmp) as db:
            config = tmp / f"chaos-run-{kind}.yaml"
            config.write_text(CONFIG.format(db=db, hook=hook.port, site=site.base_url),
                              encoding="utf-8")
            assert _cli("check", "--config", str(config)).wait(120) in (0, 1)
            for i in range(kills):
                proc = _cli("run", "--config", str(config), "--no-web", log=log)
                time.sleep(rng.uniform(0.5, 2.0))
                site.control("acme", "add_subprocessor", name=f"Chaos Run {i}",
                             purpose="LLM inference", location="Canada")
                time.sleep(rng.uniform(0.0, 3.0))
                proc.send_signal(signal.SIGKILL)
                proc.wait(30)
                report.kills += 1
                restarted = time.monotonic()
                proc = _cli("run", "--config", str(config), "--no-web", log=log)
                done = _wait(lambda n=i + 1: len(hook.trigger_ids()) >= n, LEASE + 30)
                report.delivery_after_restart_s.append(
                    round(time.monotonic() - restarted, 2) if done else float("inf"))
                proc.send_signal(signal.SIGTERM)
                proc.wait(30)
                proc = None
            _tally(report, db, hook, kills)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(10)
        log.close()
        site.stop()
        hook.stop()
    report.seconds = round(time.monotonic() - started, 1)
    return report


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    p.add_argument("--kills", type=int, default=50, help="kills of each command per database")
    p.add_argument("--databases", default="sqlite,postgres")
    p.add_argument("--modes", default="check,run")
    p.add_argument("--seed", type=int, default=16)
    args = p.parse_args(argv)
    ok = True
    with tempfile.TemporaryDirectory(prefix="reassess-chaos-") as tmp:
        for kind in args.databases.split(","):
            for mode in args.modes.split(","):
                run = chaos_check if mode == "check" else chaos_run
                report = run(kind, args.kills, args.seed, Path(tmp))
                ok = ok and report.ok
                figures = asdict(report)
                waits = figures.pop("delivery_after_restart_s")
                if waits:
                    figures["delivery_after_restart_max_s"] = max(waits)
                    figures["delivery_after_restart_median_s"] = sorted(waits)[len(waits) // 2]
                print(json.dumps({**figures, "ok": report.ok}), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
