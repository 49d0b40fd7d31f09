"""How much one round of the daemon's dispatch claims (``monitor.daemon.daemon.claim_size``),
and how many of a pass's outcomes go in one transaction (``pipeline.BATCH``, ``BATCH_ROWS``).

A round claims up to 4 × ``http.concurrency`` due sources (within 50 and 500), never
everything due, so daemons sharing a database split what is due beyond it. Observed on
a real daemon round against a slow loopback server, on SQLite and PostgreSQL.

Outcomes that store nothing (a 304, an unchanged body) are written up to 500 per
transaction, those that store a snapshot or a trigger still 200 at most.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from aiohttp import web
from sqlalchemy import event, func, select, update
from sqlalchemy.engine import Engine
from sqlmodel import col

from config.schema import Config
from monitor.check import pipeline
from monitor.check.pipeline import Checker
from monitor.clock import utcnow
from monitor.daemon.daemon import CLAIM_MAX, CLAIM_MIN, Daemon, claim_size
from storage.db import session_scope
from storage.models import CheckRun, Source


class SlowServer:
    """Answers every GET on 127.0.0.1 after ``delay`` seconds."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.body = "<main>ok</main>"
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self.runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        await asyncio.sleep(self.delay)
        return web.Response(text=self.body, content_type="text/html")

    def start(self) -> None:
        ready = threading.Event()

        async def boot() -> None:
            app = web.Application()
            app.router.add_get("/{tail:.*}", self.handle)
            self.runner = web.AppRunner(app)
            await self.runner.setup()
            site = web.TCPSite(self.runner, "127.0.0.1", 0)
            await site.start()
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            ready.set()

        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(boot(), self.loop)
        assert ready.wait(10)

    def stop(self) -> None:
        assert self.runner is not None
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def slow() -> Iterator[SlowServer]:
    server = SlowServer(delay=0.2)
    server.start()
    yield server
    server.stop()


def _config(db: str, port: int, sources: int, concurrency: int) -> Config:
    return Config.model_validate({
        "database": db,
        "http": {"concurrency": concurrency, "per_host": concurrency, "retries": 0},
        "schedule": {"jitter": 0, "tick": 1},
        "vendors": [{"id": "v", "name": "V", "interval": 3600, "sources": [
            {"id": f"s{i:03d}", "kind": "page", "url": f"http://127.0.0.1:{port}/{i}"}
            for i in range(sources)]}]})


def test_claim_size_is_four_lanes_within_bounds() -> None:
    def size(concurrency: int) -> int:
        return claim_size(_config("sqlite://", 9, 1, concurrency))

    assert size(16) == 64 and size(32) == 128
    assert size(1) == size(8) == CLAIM_MIN == 50  # a few lanes still make a useful round
    assert size(128) == size(256) == CLAIM_MAX == 500  # never everything due at once


def _leased(engine: Engine, worker: str) -> int:
    with session_scope(engine) as session:
        return int(session.execute(select(func.count()).select_from(Source)
                                   .where(col(Source.lease_owner) == worker)).scalar_one())


def _checked(engine: Engine) -> int:
    with session_scope(engine) as session:
        return int(session.execute(select(func.count()).select_from(CheckRun)).scalar_one())


def test_a_round_claims_its_size_and_leaves_the_rest_due(slow: SlowServer, engine: Engine,
                                                         db_url: str) -> None:
    """300 sources due at concurrency 8: the first round leases 50 of them, never all 300;
    the dispatch goes on round by round until none is due."""
    config = _config(db_url, slow.port, 300, concurrency=8)
    daemon = Daemon(config, engine)
    daemon.checker.sync()

    async def scenario() -> tuple[int, int]:
        dispatch = asyncio.ensure_future(daemon.dispatch())
        try:
            for _ in range(100):  # the first round in flight: its claim is written
                await asyncio.sleep(0.05)
                if leased := _leased(engine, daemon.worker):
                    break
            in_flight = _leased(engine, daemon.worker)
            await asyncio.wait_for(dispatch, 60)
        finally:
            dispatch.cancel()
            await daemon.checker.aclose()
        return leased, in_flight

    try:
        first, in_flight = asyncio.run(scenario())
    finally:
        daemon.checker.close()
    assert first == in_flight == claim_size(config) == 50
    assert _checked(engine) == 300  # every round until nothing was due
    assert _leased(engine, daemon.worker) == 0


def test_the_log_tells_each_busy_round_and_quiet_rounds_once(
        slow: SlowServer, engine: Engine, db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """120 sources in rounds of 50: the first dispatch lays baselines, a line a round; the
    second finds every page as it was and says so in one line for its first round (the
    next quiet rounds wait for the minute's summary)."""
    slow.delay = 0.0
    config = _config(db_url, slow.port, 120, concurrency=4)
    daemon = Daemon(config, engine)
    daemon.checker.sync()
    caplog.set_level(logging.INFO, logger="reassess.daemon")

    async def twice() -> None:
        try:
            await asyncio.wait_for(daemon.dispatch(), 60)
            with session_scope(engine) as session:  # every source due again
                session.execute(update(Source).values(next_due_at=utcnow() - timedelta(minutes=1)))
            await asyncio.wait_for(daemon.dispatch(), 60)
        finally:
            await daemon.checker.aclose()

    try:
        asyncio.run(twice())
    finally:
        daemon.checker.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "reassess.daemon"]
    assert lines == ["checked 50: 0 changed, 0 failed, 0 triggers",
                     "checked 50: 0 changed, 0 failed, 0 triggers",
                     "checked 20: 0 changed, 0 failed, 0 triggers",
                     "checked 50: all unchanged"], lines
    assert _checked(engine) == 240


def test_outcomes_that_store_nothing_are_written_in_larger_batches(
        slow: SlowServer, engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """300 baselines (each stores a snapshot) go in batches of at most 200; the next
    pass, 300 unchanged bodies, in one transaction (the old code cut it at 200)."""
    monkeypatch.setattr(pipeline, "FLUSH_AFTER", 600.0)  # batches cut by size only
    slow.delay = 0.0
    config = _config(db_url, slow.port, 300, concurrency=32)
    checker = Checker(config, engine)
    checker.sync()
    sizes: list[int] = []

    def seen(_conn: object, _cursor: object, statement: str, parameters: object,
             _context: object, executemany: bool) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO CHECKRUN") or \
                statement.lstrip().upper().startswith('INSERT INTO "CHECKRUN"'):
            sizes.append(len(parameters) if executemany else 1)  # type: ignore[arg-type]

    event.listen(engine, "before_cursor_execute", seen)
    try:
        first = asyncio.run(checker.check())
        baselines, sizes[:] = list(sizes), []
        second = asyncio.run(checker.check())
    finally:
        event.remove(engine, "before_cursor_execute", seen)
        checker.close()
    assert first.baseline == 300 and sum(baselines) == 300
    assert max(baselines) <= pipeline.BATCH == 200
    assert second.unchanged == 300 and sizes == [300]
