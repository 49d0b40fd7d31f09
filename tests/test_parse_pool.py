"""Parsing in worker processes (``monitor/parsing.py``) is invisible: the same documents
and the same outcomes as parsing inline, parse errors reported the same way, a worker
that dies costs its body one retry and never the pass, a parse past its time or memory
limit is a parse error and its worker is replaced, and a signal to a worker is never
taken for one to the daemon."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from config.errors import ParseError
from config.loader import parse_config
from monitor.check import parsing
from monitor.check.parsing import ParsePool, WorkerDied, worker_count
from monitor.check.pipeline import Checker
from sources import get_kind
from storage.db import open_database, session_scope

CASES = Path(__file__).parent / "cases"


def test_worker_count_leaves_the_event_loop_a_core() -> None:
    assert worker_count("auto", cpus=1) == 1  # one core still parses in a bounded worker
    assert worker_count("auto", cpus=2) == 1
    assert worker_count("auto", cpus=3) == 2
    assert worker_count("auto", cpus=32) == parsing.MAX_WORKERS
    assert worker_count(0) == 0 and worker_count(3) == 3


def test_config_key_is_validated() -> None:
    assert parse_config("parse: {workers: 2}\n").parse.workers == 2
    assert parse_config("").parse.workers == "auto"
    with pytest.raises(Exception, match=r"parse\.workers"):
        parse_config("parse: {workers: -1}\n")


def _case_bodies() -> list[tuple[str, bytes]]:
    found = []
    for path in sorted(CASES.glob("*/*/*")):
        if path.is_file() and path.stem in ("old", "new"):
            found.append((path.parent.parent.name, path.read_bytes()))
    return found


def test_workers_give_the_documents_an_inline_parse_gives() -> None:
    bodies = _case_bodies()
    assert len(bodies) > 100

    async def run() -> list[Any]:
        with ParsePool(2) as pool:
            assert pool.running
            return await asyncio.gather(
                *(pool.parse(kind, get_kind(kind).Settings(), body) for kind, body in bodies),
                return_exceptions=True)

    remote = asyncio.run(run())
    for (kind, body), got in zip(bodies, remote, strict=True):
        try:
            want = get_kind(kind).parse(body, get_kind(kind).Settings())
        except Exception as exc:  # compared with the worker's
            assert type(got) is type(exc) and str(got) == str(exc)
            continue
        assert got == want and got.hash == want.hash


def _dies_on(marker: bytes) -> Any:
    """A subprocessors parse that kills its process on ``marker``: the crash of a C parser
    on hostile input, which cannot be produced on demand."""
    real = get_kind("subprocessors").parse

    def parse(body: bytes, settings: Any) -> Any:
        if marker in body:
            os._exit(70)
        if b"raise" in body:
            raise ParseError("no table in this body")
        return real(body, settings)
    return parse


def test_a_dying_worker_costs_one_body_and_not_the_pass(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_kind("subprocessors"), "parse", _dies_on(b"DIE"))
    settings = get_kind("subprocessors").Settings()
    good = b"<table><tr><th>Name</th><th>Purpose</th></tr><tr><td>Acme</td><td>Hosting</td></tr>"

    async def run() -> tuple[Any, ...]:
        with ParsePool(1) as pool:
            died = await asyncio.gather(pool.parse("subprocessors", settings, b"DIE"),
                                        return_exceptions=True)
            raised = await asyncio.gather(pool.parse("subprocessors", settings, b"raise"),
                                          return_exceptions=True)
            after = await pool.parse("subprocessors", settings, good)
            return died[0], raised[0], after, pool.restarts

    died, raised, after, restarts = asyncio.run(run())
    assert isinstance(died, WorkerDied)
    assert restarts == 2  # the first try and its retry, each on its own fresh pool
    assert isinstance(raised, ParseError) and str(raised) == "no table in this body"
    assert [e["name"] for e in after.data["entities"].values()] == ["Acme"]


def test_deaths_are_always_replaced_and_never_make_parses_unbounded(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_kind("subprocessors"), "parse", _dies_on(b"DIE"))
    settings = get_kind("subprocessors").Settings()
    good = b"<table><tr><th>Name</th><th>Purpose</th></tr><tr><td>Acme</td><td>Hosting</td></tr>"

    async def run() -> tuple[ParsePool, Any]:
        pool = ParsePool(1)
        pool.start()
        for _ in range(4):
            with pytest.raises(WorkerDied):
                await pool.parse("subprocessors", settings, b"DIE")
        doc = await pool.parse("subprocessors", settings, good)
        return pool, doc

    pool, doc = asyncio.run(run())
    try:
        assert pool.restarts == 8 and not pool.inline and pool.running
        assert [e["name"] for e in doc.data["entities"].values()] == ["Acme"]
    finally:
        pool.close()


def _hostile(real: Any) -> Any:
    """A parse that spins forever on ``SPIN`` and allocates without end on ``HOG``: what a
    catastrophic regex or a quadratic walk does, on demand."""
    def parse(body: bytes, settings: Any) -> Any:
        if b"SPIN" in body:
            while True:
                pass
        if b"HOG" in body:
            hog = bytearray(1 << 30)  # 1 GiB at once: over a 256 MiB limit
            return hog
        return real(body, settings)
    return parse


def test_a_parse_past_its_time_or_memory_is_a_parse_error_and_the_worker_is_replaced(
        monkeypatch: pytest.MonkeyPatch) -> None:
    kind = get_kind("subprocessors")
    monkeypatch.setattr(kind, "parse", _hostile(kind.parse))
    settings = kind.Settings()
    good = b"<table><tr><th>Name</th><th>Purpose</th></tr><tr><td>Acme</td><td>Hosting</td></tr>"

    async def run() -> tuple[list[Any], float, ParsePool, list[int]]:
        pool = ParsePool(2, timeout=2.0, max_memory=256)
        pool.start()
        before = pool.pids()
        started = asyncio.get_running_loop().time()
        got = await asyncio.gather(pool.parse("subprocessors", settings, b"SPIN"),
                                   pool.parse("subprocessors", settings, b"HOG"),
                                   *(pool.parse("subprocessors", settings, good)
                                     for _ in range(5)), return_exceptions=True)
        return got, asyncio.get_running_loop().time() - started, pool, before

    got, took, pool, before = asyncio.run(run())
    try:
        spin, hog, *fine = got
        assert isinstance(spin, parsing.ParseTimeout) and "parse.timeout" in str(spin)
        assert isinstance(hog, ParseError) and "parse.max_memory" in str(hog)
        assert all(not isinstance(d, BaseException) for d in fine)
        assert took < 5
        assert pool.stopped == 1 and len(pool.pids()) == 2
        assert not set(before) & set(pool.pids())  # both workers replaced
    finally:
        pool.close()


def test_a_signal_to_a_worker_is_not_one_to_the_daemon() -> None:
    settings = get_kind("subprocessors").Settings()
    body = b"<table><tr><th>Name</th><th>Purpose</th></tr><tr><td>Acme</td><td>Hosting</td></tr>"

    async def run() -> tuple[bool, Any]:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        try:
            with ParsePool(1) as pool:
                await pool.parse("subprocessors", settings, body)
                [pid] = pool.pids()
                os.kill(pid, signal.SIGINT)  # ignored by the worker
                await pool.parse("subprocessors", settings, body)
                assert pool.restarts == 0
                os.kill(pid, signal.SIGTERM)  # ends the worker, and only it
                for _ in range(50):
                    if not pool._all[0].proc.is_alive():
                        break
                    await asyncio.sleep(0.05)
                doc = await pool.parse("subprocessors", settings, body)
                await asyncio.sleep(0.2)
                return stop.is_set(), doc
        finally:
            loop.remove_signal_handler(signal.SIGTERM)
            loop.remove_signal_handler(signal.SIGINT)

    stopped, doc = asyncio.run(run())
    assert not stopped
    assert [e["name"] for e in doc.data["entities"].values()] == ["Acme"]


KINDS = {"subprocessors": "subprocessors", "changelog.atom": "changelog",
         "status/history.atom": "incidents", "model-card": "model_card"}


def _pass_pair(tmp_path: Path, workers: int) -> tuple[Any, Any, list[Any], list[Any]]:
    """Baseline, 8 seeded changes, second pass: what a 24-source pass stores."""
    from sqlmodel import select

    from monitor.demo.vendorsite import VendorSite
    from storage.models import Source, Trigger

    site = VendorSite.generated(6, seed=5)
    site.start(host="127.0.0.1", port=0)
    sources = "\n".join(
        f"      - {{id: {v}-{i}, kind: {kind}, url: \"{site.url(v, d)}\"}}"
        for v in site.vendors for i, (d, kind) in enumerate(KINDS.items()))
    config = parse_config(
        f"database: sqlite:///{tmp_path}/w{workers}.db\nparse: {{workers: {workers}}}\n"
        f"vendors:\n  - id: all\n    name: All\n    sources:\n{sources}\n")
    engine = open_database(config.database)
    checker = Checker(config, engine)
    checker.sync()
    try:
        first = asyncio.run(checker.check())
        assert checker.pool.running is (workers > 0)
        site.mutate_random(8, paths=[f"/{v}/{d}" for v in site.vendors for d in KINDS], seed=9)
        second = asyncio.run(checker.check())
    finally:
        checker.close()
        site.stop()
    with session_scope(engine) as session:
        fired = sorted((t.source_id, t.type, t.title) for t in session.exec(select(Trigger)))
        hashes = sorted((s.id, s.current_hash) for s in session.exec(select(Source)))
    engine.dispose()
    return first, second, fired, hashes


def test_a_pass_with_workers_stores_what_an_inline_pass_stores(tmp_path: Path) -> None:
    inline = _pass_pair(tmp_path, 0)
    pooled = _pass_pair(tmp_path, 2)
    for first, second, _, _ in (inline, pooled):
        assert first.checked == 24 and first.baseline == 24 and first.failed == 0
        assert second.checked == 24 and second.failed == 0 and second.changed >= 4
    assert pooled[0].outcomes == inline[0].outcomes and pooled[1].outcomes == inline[1].outcomes
    assert pooled[2] == inline[2] and pooled[2]  # the same triggers, and some fired
    # Status feeds stamp a new incident with the clock, so only the other kinds' stored
    # versions can be equal across two runs.
    def timeless(hashes: list[Any]) -> list[Any]:
        return [h for h in hashes if not h[0].endswith("-2")]
    assert timeless(pooled[3]) == timeless(inline[3]) and len(timeless(inline[3])) == 18


def test_the_checker_takes_over_the_workers_forked_at_start_up() -> None:
    """``prefork`` (what ``reassess check`` and ``reassess run`` do before reading the
    config) forks the auto-sized pool; a checker whose config asks for that many takes it,
    one that asks for another size gets a fresh pool and the early one is stopped."""
    count = worker_count("auto")
    if count == 0:
        pytest.skip("one CPU: auto means no workers, nothing is forked early")
    parsing.prefork()
    early = parsing._EARLY
    assert early is not None and early.running
    taken = parsing.pool_for(count)
    try:
        assert taken is early and parsing._EARLY is None
    finally:
        taken.close()
    parsing.prefork()
    early = parsing._EARLY
    assert early is not None
    other = parsing.pool_for(count + 1)
    assert other is not early and not early.running and not other.running
    assert other.workers == count + 1 and parsing._EARLY is None
    assert parsing.pool_for(count).running is False  # nothing forked early any more


def test_a_closed_pool_forks_nothing_and_refuses_to_parse() -> None:
    """A parse asked for as the daemon stops fails (the pass is abandoned anyway): it is
    never run unbounded in the daemon's own process, and no new worker is forked."""
    settings = get_kind("subprocessors").Settings()
    body = b"<table><tr><th>Name</th><th>Purpose</th></tr><tr><td>Acme</td><td>Hosting</td></tr>"

    async def run() -> tuple[ParsePool, Any]:
        pool = ParsePool(1)
        pool.start()
        pool.close()
        got = await asyncio.gather(pool.parse("subprocessors", settings, body),
                                   return_exceptions=True)
        return pool, got[0]

    pool, got = asyncio.run(run())
    assert pool.closed and not pool.running
    assert isinstance(got, ParseError) and "stopped" in str(got)


def test_a_worker_keeps_none_of_the_descriptors_it_was_forked_with() -> None:
    """A pipe the parent closes reaches its end of file though a worker was forked while
    it was open (a child's stdin, a web connection), and the worker still parses."""
    import os
    import select

    read_end, write_end = os.pipe()
    try:
        async def run() -> Any:
            with ParsePool(1) as pool:
                os.close(write_end)
                ready, _, _ = select.select([read_end], [], [], 5)
                assert ready and os.read(read_end, 1) == b""  # EOF: no copy left open
                return await pool.parse("page", get_kind("page").Settings(), b"<p>Terms</p>")

        doc = asyncio.run(run())
    finally:
        os.close(read_end)
    assert doc.data["lines"] == ["Terms"]
