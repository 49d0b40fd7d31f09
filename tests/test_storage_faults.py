"""A database that cannot be written ends ``reassess check`` with exit 1 and one clear
line (no traceback; exit 2 stays for usage and configuration errors): locked by another
process, read-only, full, or a PostgreSQL that does not answer. Readers never wait for a
writer (WAL, DEFERRED read transactions), and a pass past its deadline records what it
could not finish as failed and writes everything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import ROOT
from faultsite import FaultSite
from sqlalchemy import select, text
from sqlmodel import col

from config import parse_config
from monitor.check.pipeline import Checker
from monitor.demo.vendorsite import VendorSite
from storage.db import open_database, session_scope
from storage.models import CheckRun, Source, Trigger

CONFIG = """\
database: "{db}"
schedule: {{jitter: 0}}
vendors:
  - id: acme
    name: Acme
    sources:
      - {{id: acme-sub, kind: subprocessors, url: "{site}/sub"}}
      - {{id: acme-dpa, kind: page, url: "{site}/dpa"}}
"""


@pytest.fixture
def site() -> Iterator[FaultSite]:
    s = FaultSite()
    s.serve("sub", "subprocessors")
    s.serve("dpa", "page")
    s.start()
    yield s
    s.stop()


def _check(config: Path, preexec: Callable[[], None] | None = None
           ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "monitor.cli", "check", "--config",
                           str(config)], capture_output=True, text=True, cwd=ROOT,
                          timeout=120, preexec_fn=preexec, check=False,
                          env={"COLUMNS": "200", "NO_COLOR": "1", "PATH": "/usr/bin:/bin"})


def _one_clear_line(res: subprocess.CompletedProcess[str], *words: str) -> None:
    assert res.returncode == 1, (res.returncode, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr and "Traceback" not in res.stdout, res.stderr
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, res.stderr
    for word in words:
        assert word in lines[0], lines[0]


def _baseline(tmp_path: Path, site: FaultSite, db: str) -> Path:
    config = tmp_path / "reassess.yaml"
    config.write_text(CONFIG.format(db=db, site=site.url), encoding="utf-8")
    first = _check(config)
    assert first.returncode == 0, first.stderr
    return config


def test_a_locked_database_exits_1_with_one_line(tmp_path: Path, site: FaultSite) -> None:
    path = tmp_path / "locked.db"
    config = _baseline(tmp_path, site, f"sqlite:///{path}?timeout=1")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's writer that never lets go
    holder.execute("UPDATE source SET etag = etag")
    try:
        started = time.monotonic()
        res = _check(config)
        took = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    _one_clear_line(res, "locked")
    assert took < 30


def test_a_read_only_database_exits_1_with_one_line(tmp_path: Path, site: FaultSite) -> None:
    path = tmp_path / "ro.db"
    config = _baseline(tmp_path, site, f"sqlite:///{path}")
    made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"cannot make a file immutable here: {made.stderr!r}")
    try:
        res = _check(config)
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)
    _one_clear_line(res, "read-only")


def test_a_full_disk_exits_1_with_one_line(tmp_path: Path, site: FaultSite) -> None:
    path = tmp_path / "full.db"
    config = _baseline(tmp_path, site, f"sqlite:///{path}")
    site.fault("dpa", "cut")  # a new body to write
    with contextlib.suppress(FileNotFoundError):
        Path(f"{path}-wal").unlink()
    sizes = max(p.stat().st_size for p in tmp_path.glob("full.db*"))

    def no_room() -> None:  # the file-size limit: writes past it fail as on a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (sizes, sizes))

    res = _check(config, preexec=no_room)
    _one_clear_line(res, "full")


@pytest.mark.postgres
def test_a_postgresql_that_does_not_answer_exits_1_with_one_line(
        tmp_path: Path, site: FaultSite) -> None:
    config = tmp_path / "reassess.yaml"
    config.write_text(CONFIG.format(db="postgresql://postgres@127.0.0.1:1/nowhere",
                                    site=site.url), encoding="utf-8")
    _one_clear_line(_check(config), "database")


def test_a_bad_database_url_is_still_a_usage_error(tmp_path: Path, site: FaultSite) -> None:
    config = tmp_path / "reassess.yaml"
    config.write_text(CONFIG.format(db="nosuchdb://x", site=site.url), encoding="utf-8")
    res = _check(config)
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr


def test_readers_never_wait_for_a_writer(tmp_path: Path, site: FaultSite) -> None:
    """A read transaction (``session_scope(write=False)``) answers at once while another
    connection holds the write lock for seconds."""
    path = tmp_path / "r.db"
    engine = open_database(f"sqlite:///{path}?timeout=10")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO vendor (id, name, active) VALUES ('w', 'W', 1)")
    try:
        started = time.monotonic()
        with session_scope(engine, write=False) as s:
            assert s.execute(text("SELECT count(*) FROM source")).scalar_one() == 0
        assert time.monotonic() - started < 1.0
        blocked = threading.Event()

        def write() -> None:
            with contextlib.suppress(Exception), session_scope(engine) as s:
                s.execute(text("UPDATE source SET etag = etag"))
            blocked.set()
        worker = threading.Thread(target=write)
        worker.start()
        assert not blocked.wait(0.5)  # a writer does wait, for the lock
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    worker.join(15)
    assert blocked.is_set()
    engine.dispose()


def test_a_pass_past_its_deadline_records_the_rest_as_failed(
        tmp_path: Path, site: FaultSite) -> None:
    site.fault("dpa", "trickle")
    config = parse_config(
        CONFIG.format(db=f"sqlite:///{tmp_path}/d.db", site=site.url).replace(
            "schedule: {jitter: 0}", "schedule: {jitter: 0, pass_timeout: 2s}")
        + "http: {timeout: 30s, retries: 0}\n", "c.yaml")
    engine = open_database(config.database)
    checker = Checker(config, engine)
    checker.sync()
    started = time.monotonic()
    try:
        summary = asyncio.run(checker.check())
    finally:
        checker.close()
    took = time.monotonic() - started
    assert took < 8, took
    assert summary.checked == 2 and summary.failed == 1
    with session_scope(engine, write=False) as s:
        runs = {r.source_id: r for r in s.execute(select(CheckRun)).scalars()}
        assert runs["acme-sub"].outcome == "baseline"
        assert runs["acme-dpa"].outcome == "failed"
        assert "deadline" in (runs["acme-dpa"].error or "")
        assert s.get(Source, "acme-dpa").consecutive_failures == 1  # type: ignore[union-attr]
        assert s.execute(select(Trigger)).first() is None
    engine.dispose()



LATE = ("acme", "globex", "initech")


def _late_config(db: Path, site: VendorSite, schedule: str) -> str:
    sources = "".join(f"  - id: {v}\n    name: {v}\n    sources:\n"
                      f"      - {{id: {v}-dpa, kind: page, url: \"{site.url(v, 'dpa')}\"}}\n"
                      for v in LATE)
    return (f"database: \"sqlite:///{db}\"\nschedule: {schedule}\n"
            f"http: {{timeout: 30s, retries: 0}}\nvendors:\n{sources}")


def test_results_queued_behind_the_deadline_are_recorded_not_cut_short(
        tmp_path: Path) -> None:
    """The deadline comes through the results queue, so results can wait behind it; the
    consumer takes them before it cuts the pass short. Here the pass's first outcome
    (acme's 304, 1.2 s in: past ``FLUSH_AFTER``, so it is written at once) waits for the
    write lock another connection holds until 3.5 s; meanwhile the loop runs on: the 2 s
    deadline's marker is queued, then globex's and initech's 304s (2.5 s) behind it.
    When the write goes through, those two are recorded as checked, not as cut short."""
    site = VendorSite(vendors=LATE)
    site.start(host="127.0.0.1", port=0)
    path = tmp_path / "late.db"
    config = parse_config(_late_config(path, site, "{jitter: 0}"), "c.yaml")
    engine = open_database(config.database)
    checker = Checker(config, engine)
    try:
        checker.sync()
        first = asyncio.run(checker.check())  # the baselines, and the ETags a 304 needs
        assert first.baseline == 3, first
        checker.reload(parse_config(
            _late_config(path, site, "{jitter: 0, pass_timeout: 2s}"), "c.yaml"))
        site.control("acme", "fail", mode="slow", path="dpa", seconds=1.2)
        for vendor in LATE[1:]:
            site.control(vendor, "fail", mode="slow", path="dpa", seconds=2.5)
        held, go = threading.Event(), threading.Event()
        started = 0.0

        def hold_the_write_lock() -> None:  # another process's writer, to 3.5 s in
            holder = sqlite3.connect(path, isolation_level=None)
            try:
                holder.execute("BEGIN IMMEDIATE")
                held.set()
                if go.wait(10):
                    time.sleep(max(0.0, started + 3.5 - time.monotonic()))
                holder.execute("ROLLBACK")
            finally:
                holder.close()
        worker = threading.Thread(target=hold_the_write_lock)
        worker.start()
        try:
            assert held.wait(10)
            started = time.monotonic()
            go.set()
            summary = asyncio.run(checker.check())
            took = time.monotonic() - started
        finally:
            worker.join(15)
    finally:
        checker.close()
        site.stop()
    assert took >= 3.0, took  # the first write did wait for the lock, past the deadline
    assert summary.checked == 3 and summary.failed == 0, summary
    assert summary.outcomes == {"not_modified": 3}, summary
    with session_scope(engine, write=False) as s:
        runs = s.execute(select(CheckRun).order_by(col(CheckRun.id))).scalars().all()
        last = {r.source_id: (r.outcome, r.error) for r in runs}
        assert last == {f"{v}-dpa": ("not_modified", None) for v in LATE}, last
        for v in LATE:
            source = s.get(Source, f"{v}-dpa")
            assert source is not None
            assert (source.last_outcome, source.consecutive_failures) == ("not_modified", 0)
    engine.dispose()
