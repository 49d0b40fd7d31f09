"""Issue 7, scheduling: intervals and jitter, per-host limits and spacing, source leases
shared by several checkers, periodic jobs once across daemons, retention.

Storage behaviour runs on SQLite and PostgreSQL (``db_url``); HTTP against real loopback
servers (a recording server here, the simulated vendor site elsewhere).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import col

from config.schema import Config
from monitor.check.persist import next_due
from monitor.check.pipeline import Checker
from monitor.clock import utcnow
from monitor.daemon.jobs import arun_once, job_once, run_once
from sources import get_kind
from sources.fetch import Fetcher, FetchOptions, FetchRequest
from storage import repo
from storage.db import session_scope
from storage.leases import claim_job
from storage.models import CheckRun, JobLease, Snapshot, Source, Trigger
from storage.retention import prune

# --- intervals and jitter --------------------------------------------------------------


def test_next_due_stays_within_jitter_and_backs_off_after_failures() -> None:
    now = utcnow()
    delays = [(next_due(now, 1000, 0.2) - now).total_seconds() for _ in range(2000)]
    assert all(800 <= d <= 1200 for d in delays)
    assert min(delays) < 850 and max(delays) > 1150  # actually spread, not constant
    assert (next_due(now, 1000, 0) - now).total_seconds() == 1000
    backoff = [(next_due(now, 3600, 0, failures=f) - now).total_seconds() for f in (1, 2, 3)]
    assert backoff == [60, 120, 240]
    assert (next_due(now, 100, 0, failures=5) - now).total_seconds() == 100  # capped


def _config(**schedule: Any) -> Config:
    return Config.model_validate({
        "schedule": schedule,
        "vendors": [
            {"id": "a", "name": "A", "interval": "2h", "sources": [
                {"id": "a-own", "kind": "page", "url": "http://x/1", "interval": "5m"},
                {"id": "a-vendor", "kind": "page", "url": "http://x/2"}]},
            {"id": "b", "name": "B", "sources": [
                {"id": "b-inc", "kind": "incidents", "url": "http://x/3"},
                {"id": "b-card", "kind": "model_card", "url": "http://x/4"}]},
        ]})


def _intervals(config: Config) -> dict[str, float]:
    return {s.id: config.interval_for(v, s) for v, s in config.sources()}


def test_interval_precedence_source_vendor_global_kind_default() -> None:
    assert _intervals(_config()) == {"a-own": 300, "a-vendor": 7200,
                                     "b-inc": get_kind("incidents").INTERVAL,
                                     "b-card": get_kind("model_card").INTERVAL}
    per_kind = _config(intervals={"incidents": "1m"})
    assert _intervals(per_kind)["b-inc"] == 60
    assert _intervals(per_kind)["b-card"] == get_kind("model_card").INTERVAL
    everything = _config(interval="30m", intervals={"incidents": "1m"})
    assert _intervals(everything) == {"a-own": 300, "a-vendor": 7200, "b-inc": 1800,
                                      "b-card": 1800}


def _site_config(site: Any, db: str, **schedule: Any) -> Config:
    return Config.model_validate({
        "database": db, "schedule": {"jitter": 0.5, **schedule},
        "vendors": [{"id": "acme", "name": "Acme", "sources": [
            {"id": "dpa", "kind": "page", "url": f"{site.base_url}/acme/dpa",
             "interval": 100, "jitter": 0},
            {"id": "subs", "kind": "subprocessors", "interval": 100,
             "url": f"{site.base_url}/acme/subprocessors"},
        ]}]})


def _check_runs(engine: Engine) -> list[CheckRun]:
    with session_scope(engine) as session:
        return list(session.execute(select(CheckRun)).scalars())


def _sources(engine: Engine) -> dict[str, Source]:
    with session_scope(engine) as session:
        return {s.id: s for s in session.execute(select(Source)).scalars()}


def test_source_jitter_overrides_the_schedule_and_intervals_apply_on_sync(
        site: Any, engine: Engine, db_url: str) -> None:
    config = _site_config(site, db_url)
    checker = Checker(config, engine, worker="w1")
    checker.sync()
    assert asyncio.run(checker.check_due()).checked == 2
    rows = _sources(engine)
    runs = {r.source_id: r.started_at for r in _check_runs(engine)}
    # an interval after the check started (not after its batch was written)
    assert rows["dpa"].next_due_at - runs["dpa"] == timedelta(seconds=100)
    gap = (rows["subs"].next_due_at - runs["subs"]).total_seconds()
    assert 50 <= gap <= 150
    assert rows["dpa"].lease_owner is None and rows["dpa"].lease_until is None

    shorter = Config.model_validate({**config.model_dump(), "vendors": [
        {**config.vendors[0].model_dump(), "sources": [
            {**s.model_dump(exclude_none=True), "interval": 10}
            for s in config.vendors[0].sources]}]})
    checker.reload(shorter)
    checker.sync()
    rows = _sources(engine)
    assert rows["dpa"].interval_s == 10
    assert rows["dpa"].next_due_at == rows["dpa"].last_checked_at + timedelta(seconds=10)


# --- per-host limits and spacing -----------------------------------------------------------


class RecordingServer:
    """Answers on 127.0.0.1 and 127.0.0.2 after a short wait; records, per Host, when each
    request started and how many were in flight at once."""

    def __init__(self, delay: float = 0.05) -> None:
        self.delay = delay
        self.starts: list[tuple[str, float]] = []
        self.in_flight: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self.total = self.peak_total = 0
        self.loop = asyncio.new_event_loop()
        self.port = 0

    async def handle(self, request: web.Request) -> web.Response:
        host = request.host.split(":")[0]
        self.starts.append((host, time.monotonic()))
        self.in_flight[host] = self.in_flight.get(host, 0) + 1
        self.total += 1
        self.peak[host] = max(self.peak.get(host, 0), self.in_flight[host])
        self.peak_total = max(self.peak_total, self.total)
        try:
            await asyncio.sleep(self.delay)
            return web.Response(text="<main>ok</main>", content_type="text/html")
        finally:
            self.in_flight[host] -= 1
            self.total -= 1

    def start(self) -> None:
        ready = threading.Event()

        async def boot() -> None:
            app = web.Application()
            app.router.add_get("/{tail:.*}", self.handle)
            self.runner = web.AppRunner(app)
            await self.runner.setup()
            first = web.TCPSite(self.runner, "127.0.0.1", 0)
            await first.start()
            self.port = first._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            await web.TCPSite(self.runner, "127.0.0.2", self.port).start()
            ready.set()

        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(boot(), self.loop)
        assert ready.wait(10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def first_start(self, host: str) -> float:
        return min(t for h, t in self.starts if h == host)

    def last_start(self, host: str) -> float:
        return max(t for h, t in self.starts if h == host)


@pytest.fixture
def recorder() -> Iterator[RecordingServer]:
    server = RecordingServer()
    server.start()
    yield server
    server.stop()


async def _fetch_all(options: FetchOptions, urls: list[str]) -> list[Any]:
    async with Fetcher(options) as fetcher:
        return await asyncio.gather(*(fetcher.fetch(FetchRequest(f"s{i}", url))
                                      for i, url in enumerate(urls)))


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
def test_per_host_limit_holds_and_a_busy_host_does_not_starve_another(
        recorder: RecordingServer, transport: str) -> None:
    urls = [f"http://127.0.0.1:{recorder.port}/a/{i}" for i in range(10)]
    urls += [f"http://127.0.0.2:{recorder.port}/b/{i}" for i in range(10)]
    options = FetchOptions(transport=transport, concurrency=3, per_host=2, retries=0)
    results = asyncio.run(_fetch_all(options, urls))
    assert all(r.ok for r in results)
    assert recorder.peak == {"127.0.0.1": 2, "127.0.0.2": 2}  # reached, never exceeded
    assert recorder.peak_total <= 3
    # Host b was served while host a still had requests queued: a task waiting for a's
    # slot does not sit on a global slot.
    assert recorder.first_start("127.0.0.2") < recorder.last_start("127.0.0.1")


def test_requests_to_one_host_are_spaced(recorder: RecordingServer) -> None:
    recorder.delay = 0.0
    urls = [f"http://127.0.0.1:{recorder.port}/a/{i}" for i in range(6)]
    urls += [f"http://127.0.0.2:{recorder.port}/b/{i}" for i in range(6)]
    results = asyncio.run(_fetch_all(FetchOptions(per_host=4, host_spacing=0.1), urls))
    assert all(r.ok for r in results)
    for host in ("127.0.0.1", "127.0.0.2"):
        times = sorted(t for h, t in recorder.starts if h == host)
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert len(times) == 6 and min(gaps) >= 0.08, gaps  # spacing is a lower bound
    # the two hosts are spaced independently: b did not wait for a's six turns
    assert recorder.first_start("127.0.0.2") < recorder.last_start("127.0.0.1")


# --- source leases ---------------------------------------------------------------------------


def _many_sources(n: int, db: str) -> Config:
    return Config.model_validate({"database": db, "vendors": [{"id": "v", "name": "V", "sources": [
        {"id": f"s{i:03d}", "kind": "page", "url": f"http://127.0.0.1:9/{i}"}
        for i in range(n)]}]})


def test_concurrent_claims_are_disjoint(engine: Engine, db_url: str) -> None:
    config = _many_sources(120, db_url)
    Checker(config, engine).sync()
    claimed: dict[str, list[str]] = {}
    barrier = threading.Barrier(4)

    def claim(worker: str) -> None:
        barrier.wait()
        with session_scope(engine) as session:
            rows = repo.claim_due(session, worker, utcnow(), 60, limit=50)
            claimed[worker] = [r.id for r in rows]

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    every = [s for ids in claimed.values() for s in ids]
    assert len(every) == len(set(every)) == 120
    owners = {s.id: s.lease_owner for s in _sources(engine).values()}
    assert all(owners[s] == w for w, ids in claimed.items() for s in ids)


def _paths_checked(site: Any) -> dict[str, int]:
    return {p: n for p, n in site.stats()["requests"].items() if p.startswith("/acme/")}


def test_a_dead_holders_leases_expire_and_another_checker_takes_over(
        site: Any, engine: Engine, db_url: str) -> None:
    config = _site_config(site, db_url)
    alive = Checker(config, engine, worker="alive")
    alive.sync()
    with session_scope(engine) as session:  # "dead" claims everything, then dies
        assert len(repo.claim_due(session, "dead", utcnow(), 60)) == 2
    assert asyncio.run(alive.check_due()).checked == 0
    assert _paths_checked(site) == {}
    with session_scope(engine) as session:  # … and its leases run out
        session.execute(update(Source).values(lease_until=utcnow() - timedelta(seconds=1)))
    assert asyncio.run(alive.check_due()).checked == 2
    assert _paths_checked(site) == {"/acme/dpa": 1, "/acme/subprocessors": 1}
    with session_scope(engine) as session:
        runs = session.execute(select(CheckRun.worker)).scalars().all()
    assert sorted(runs) == ["alive", "alive"]


def test_leases_are_renewed_while_a_check_is_slow(site: Any, engine: Engine,
                                                  db_url: str) -> None:
    config = _site_config(site, db_url, lease=0.6)
    site.control("acme", "fail", mode="slow", path="dpa", seconds=2)
    first, second = Checker(config, engine, worker="first"), Checker(config, engine,
                                                                     worker="second")
    first.sync()

    async def scenario() -> tuple[int, int]:
        slow = asyncio.ensure_future(first.check_due())
        deadline = time.monotonic() + 1.6
        stolen = 0
        while time.monotonic() < deadline:  # well past the 0.6 s lease
            await asyncio.sleep(0.1)
            stolen += (await second.check_due()).checked
        return (await slow).checked, stolen

    checked, stolen = asyncio.run(scenario())
    assert (checked, stolen) == (2, 0)
    assert _paths_checked(site) == {"/acme/dpa": 1, "/acme/subprocessors": 1}
    assert all(s.lease_owner is None for s in _sources(engine).values())


def test_a_checker_releases_sources_it_does_not_watch(site: Any, engine: Engine,
                                                      db_url: str) -> None:
    config = _site_config(site, db_url)
    Checker(config, engine, worker="new").sync()
    older = Config.model_validate({**config.model_dump(exclude_none=True), "vendors": [
        {**config.vendors[0].model_dump(exclude_none=True),
         "sources": [config.vendors[0].sources[0].model_dump(exclude_none=True)]}]})
    stale = Checker(older, engine, worker="stale")  # an older config: only "dpa"
    assert asyncio.run(stale.check_due()).checked == 1
    rows = _sources(engine)
    assert rows["subs"].lease_owner is None and rows["subs"].last_checked_at is None


# --- periodic jobs once across daemons ---------------------------------------------------


def test_run_once_runs_a_job_once_per_period(engine: Engine) -> None:
    ran: list[str] = []
    t0 = utcnow()

    def job(name: str) -> Any:
        return lambda: ran.append(name)

    assert run_once(engine, "digest", 3600, job("a"), owner="a", now=t0)
    assert not run_once(engine, "digest", 3600, job("b"), owner="b",
                        now=t0 + timedelta(seconds=10))
    assert run_once(engine, "digest", 3600, job("b"), owner="b",
                    now=t0 + timedelta(seconds=3601))
    assert ran == ["a", "b"]
    with session_scope(engine) as session:
        row = session.get(JobLease, "digest")
        assert row is not None and row.owner is None and row.lease_until is None
        assert row.last_run_at == t0 + timedelta(seconds=3601)


def test_a_held_job_is_skipped_and_a_dead_holder_is_taken_over(engine: Engine) -> None:
    t0 = utcnow()
    with job_once(engine, "review_due", 60, owner="a", now=t0) as mine:
        assert mine
        assert not run_once(engine, "review_due", 60, lambda: None, owner="b", now=t0)
    with session_scope(engine) as session:  # "c" takes it and dies without finishing
        assert claim_job(session, "retention", 60, "c", t0, lease=30)
    assert not run_once(engine, "retention", 60, lambda: None, owner="d",
                        now=t0 + timedelta(seconds=29))
    assert run_once(engine, "retention", 60, lambda: None, owner="d",
                    now=t0 + timedelta(seconds=31))


def test_a_failed_job_is_retried_later_not_recorded_as_done(engine: Engine) -> None:
    t0 = utcnow()

    def boom() -> None:
        raise RuntimeError("smtp down")

    with pytest.raises(RuntimeError):
        run_once(engine, "digest", 3600, boom, owner="a", now=t0, retry=60)
    assert not run_once(engine, "digest", 3600, lambda: None, owner="b",
                        now=t0 + timedelta(seconds=30))
    assert run_once(engine, "digest", 3600, lambda: None, owner="b",
                    now=t0 + timedelta(seconds=61))


def test_a_callable_due_decides(engine: Engine) -> None:
    t0 = utcnow()
    seen: list[Any] = []

    def due(last: Any, now: Any) -> bool:
        seen.append(last)
        return last is None or now.date() > last.date()

    assert run_once(engine, "daily", due, lambda: None, owner="a", now=t0)
    assert not run_once(engine, "daily", due, lambda: None, owner="a",
                        now=t0 + timedelta(seconds=1))
    assert run_once(engine, "daily", due, lambda: None, owner="a", now=t0 + timedelta(days=1))
    assert seen == [None, t0, t0]


def test_many_daemons_at_once_run_the_job_once(engine: Engine) -> None:
    ran: list[int] = []
    barrier = threading.Barrier(6)

    def daemon(i: int) -> None:
        barrier.wait()
        run_once(engine, "digest", 3600, lambda: ran.append(i), owner=f"d{i}")

    threads = [threading.Thread(target=daemon, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(ran) == 1


def test_an_async_job_keeps_its_lease_while_it_runs(engine: Engine) -> None:
    async def scenario() -> list[bool]:
        async def slow() -> None:
            await asyncio.sleep(1.0)

        task = asyncio.ensure_future(arun_once(engine, "slow", 3600, slow, owner="a",
                                               lease=0.3))
        others = []
        for _ in range(8):  # 0.8 s: well past the 0.3 s lease
            await asyncio.sleep(0.1)
            others.append(run_once(engine, "slow", 3600, lambda: None, owner="b"))
        assert await task
        return others

    assert not any(asyncio.run(scenario()))


# --- retention ---------------------------------------------------------------------------------


def _snapshot(session: Any, source: str, n: int, at: Any) -> int:
    row = Snapshot(source_id=source, url="http://x", fetched_at=at, http_status=200,
                   content_hash=f"h{n}", parser_version="1", kind="page",
                   document=repo.compress("{}"))
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


def test_retention_prunes_old_runs_and_unreferenced_snapshots_only(engine: Engine) -> None:
    now, old = utcnow(), utcnow() - timedelta(days=100)
    with session_scope(engine) as session:
        s = {name: _snapshot(session, "src", i, old)
             for i, name in enumerate(("by_trigger", "current", "by_recent_run", "unused",
                                       "by_old_run"))}
        s["recent"] = _snapshot(session, "src", 9, now)
        session.add(Source(id="src", vendor_id="v", kind="page", url="http://x",
                           current_snapshot_id=s["current"]))
        session.add(Trigger(dedupe_key="k", type="policy_change", severity="low", title="t",
                            vendor_id="v", source_id="src", old_snapshot_id=s["by_trigger"],
                            new_snapshot_id=s["current"], created_at=old))
        session.add(CheckRun(source_id="src", started_at=old, outcome="unchanged",
                             snapshot_id=s["by_old_run"]))
        session.add(CheckRun(source_id="src", started_at=now, outcome="unchanged",
                             snapshot_id=s["by_recent_run"]))

    def left() -> set[str]:
        with session_scope(engine) as session:
            ids = set(session.execute(select(col(Snapshot.id))).scalars())
        return {name for name, i in s.items() if i in ids}

    result = prune(engine, now, older_than=90 * 86400, keep_versions=2)
    assert (result.check_runs, result.snapshots) == (1, 1)
    assert left() == set(s) - {"unused"}  # by_old_run survives as one of the 2 newest
    result = prune(engine, now, older_than=90 * 86400, keep_versions=0)
    assert (result.check_runs, result.snapshots) == (0, 1)
    assert left() == {"by_trigger", "current", "by_recent_run", "recent"}
    with session_scope(engine) as session:
        assert repo.count(session, Trigger) == 1
        assert repo.count(session, CheckRun) == 1


def test_retention_pages_through_every_snapshot_and_keeps_what_each_needs(
        engine: Engine) -> None:
    """Pages of 3 snapshots in id order, old and recent ones interleaved, some pages with
    nothing old: every old snapshot that nothing needs is deleted, every other one kept
    (checked against the rule written out here)."""
    now = utcnow()
    old = now - timedelta(days=100)
    with session_scope(engine) as session:
        made = []  # (id, source, fetched_at)
        for n in range(30):
            source, at = f"s{n % 4}", old - timedelta(hours=n) if n % 5 < 3 else now
            made.append((_snapshot(session, source, n, at), source, at))
        current = {src: max(i for i, s, _ in made if s == src) for src in ("s0", "s1", "s2")}
        for src, snap in current.items():
            session.add(Source(id=src, vendor_id="v", kind="page", url="http://x",
                               current_snapshot_id=snap))
        by_trigger, by_run = made[5][0], made[6][0]
        session.add(Trigger(dedupe_key="k", type="policy_change", severity="low", title="t",
                            vendor_id="v", source_id="s1", old_snapshot_id=by_trigger,
                            created_at=old))
        session.add(CheckRun(source_id="s2", started_at=now, outcome="unchanged",
                             snapshot_id=by_run))
    # the newest of each source, by fetch time (then id)
    newest: dict[str, tuple[int, Any, int]] = {}
    for i, src, at in made:
        if src not in newest or (at, i) > newest[src][1:]:
            newest[src] = (i, at, i)
    needed = {by_trigger, by_run, *current.values(), *(v[0] for v in newest.values())}
    expected = {i for i, _, at in made if at < now - timedelta(days=90) and i not in needed}
    assert expected and len(expected) < len(made) - len(needed)

    result = prune(engine, now, older_than=90 * 86400, keep_versions=1, batch=3)
    with session_scope(engine) as session:
        left = set(session.execute(select(col(Snapshot.id))).scalars())
    assert result.snapshots == len(expected)
    assert left == {i for i, _, _ in made} - expected


def test_retention_deletes_in_batches(engine: Engine) -> None:
    old = utcnow() - timedelta(days=2)
    with session_scope(engine) as session:
        session.add_all([CheckRun(source_id="x", started_at=old, outcome="unchanged")
                         for _ in range(25)])
    assert prune(engine, utcnow(), older_than=86400, batch=10).check_runs == 25
