"""The fault suite: one hostile page, one slow server, one broken parser never blinds the
monitor (issue 16).

A fault site on loopback (``faultsite.py``) serves good documents on every path; a
config watches each path as its own source, beside three healthy sources. Three passes,
on SQLite and on PostgreSQL:

1. every source good: baselines;
2. every fault on at once (each on its own source): for each fault the pass is bounded
   in time, nothing fires, the source's error (or the reason it is held as suspect) is
   recorded on it, and every other source's result of the pass is written;
3. every fault off again: nothing fires, every source is back to unchanged.

The hostile parses (a parse that never ends, one that eats memory, one that kills its
process, a diff that raises) are staged by patching the page kind before the parse
workers fork: no real page can be counted on to do that.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import ssl
import subprocess
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import _pg_database
from faultsite import FaultSite, Loopback, closed_port
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from config import parse_config
from monitor.check.pipeline import Checker
from monitor.clock import utcnow
from sources import get_kind
from storage.db import open_database, session_scope
from storage.models import CheckRun, Source, Trigger

# path → (kind, fault, the phase-2 outcomes allowed, words the error or reason holds)
FAULTS: dict[str, tuple[str, str | None, tuple[str, ...], tuple[str, ...]]] = {
    "refused": ("subprocessors", None, ("failed",), ("connect",)),
    "timeout": ("subprocessors", "timeout", ("failed",), ("timed out",)),
    "trickle": ("subprocessors", "trickle", ("failed",), ("timed out",)),
    "e404": ("subprocessors", "e404", ("failed",), ("HTTP 404",)),
    "e500": ("page", "e500", ("failed",), ("HTTP 500",)),
    "e503": ("page", "e503_retry_after", ("failed",), ("HTTP 503",)),
    "e429": ("subprocessors", "e429_long", ("failed",), ("HTTP 429",)),
    "reset": ("subprocessors", "reset", ("failed",), ()),
    "truncated": ("subprocessors", "truncated", ("failed",), ()),
    "gzip-bomb": ("page", "gzip_bomb", ("failed",), ("cap",)),
    "oversize": ("page", "oversize", ("failed",), ("cap",)),
    "empty": ("subprocessors", "empty", ("failed",), ("empty body",)),
    "redirect-loop": ("page", "redirect_loop", ("failed",), ("redirects",)),
    "redirect-idna": ("subprocessors", "redirect_idna", ("failed",), ("invalid URL",)),
    "redirect-internal": ("page", "redirect_internal", ("failed",), ("refused",)),
    "redirect-localhost": ("page", "redirect_localhost", ("failed",), ("refused",)),
    "redirect-metadata": ("page", "redirect_metadata", ("failed",), ("refused",)),
    "redirect-file": ("page", "redirect_file", ("failed",), ("refused",)),
    "redirect-credentials": ("page", "redirect_credentials", ("failed",), ("credentials",)),
    "redirect-nxdomain": ("page", "redirect_nxdomain", ("failed",), ()),
    "redirect-tls": ("page", "redirect_tls", ("failed",), ("certificate",)),
    "challenge": ("subprocessors", "challenge", ("suspect",), ("bot challenge",)),
    "login": ("subprocessors", "login", ("suspect",), ("empty",)),
    "cut": ("subprocessors", "cut", ("suspect",), ("items where there were 10",)),
    "random-bytes": ("subprocessors", "random_bytes", ("suspect", "failed"), ()),
    "mislabelled": ("subprocessors", "mislabelled", ("unchanged",), ()),
    "xxe": ("incidents", "xxe", ("unchanged",), ()),
    "laughs": ("incidents", "laughs", ("unchanged", "failed"), ()),
    "deep": ("subprocessors", "deep", ("suspect", "failed", "unchanged"), ()),
    "hang-parser": ("page", "hang_parser", ("failed",), ("parse.timeout",)),
    "hog-parser": ("page", "hog_parser", ("failed",), ("parse.max_memory",)),
    "crash-parser": ("page", "crash_parser", ("failed",), ("died",)),
    "diff-bug": ("page", "diff_bug", ("failed",), ("internal error",)),
}
HEALTHY = {"healthy-sub": "subprocessors", "healthy-page": "page", "healthy-feed": "incidents"}

TIMEOUT, RETRIES, PARSE_TIMEOUT = 1.5, 1, 2.0
# A source's fetch: every attempt's deadline, the backoff or Retry-After wait, slack.
FETCH_BOUND_MS = ((RETRIES + 1) * TIMEOUT + 2.0 + 1.0) * 1000
PASS_BOUND = 25.0  # seconds for the whole faulty pass (parses bounded too)


def _hostile_page_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    kind = get_kind("page")
    real_parse, real_diff = kind.parse, kind.diff

    def parse(body: bytes, settings: Any) -> Any:
        if b"SPIN-FOREVER" in body:
            while True:
                pass
        if b"HOG-MEMORY" in body:
            return bytearray(1 << 30)  # 1 GiB at once: over the 256 MiB limit
        if b"DIE-NOW" in body:
            os._exit(70)
        return real_parse(body, settings)

    def diff(old: Any, new: Any) -> Any:
        if "BOOM" in new.canonical():
            raise RuntimeError("a bug in the diff")
        return real_diff(old, new)

    monkeypatch.setattr(kind, "parse", parse)
    monkeypatch.setattr(kind, "diff", diff)


def _tls_context(tmp: Path) -> ssl.SSLContext | None:
    if shutil.which("openssl") is None:
        return None
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


@dataclass
class Passes:
    """What the three passes stored, per source."""

    runs: list[dict[str, dict[str, Any]]] = field(default_factory=list)  # per pass
    seconds: list[float] = field(default_factory=list)
    triggers: list[int] = field(default_factory=list)
    hits: dict[str, list[float]] = field(default_factory=dict)
    internal_requests: int = 0
    texts: str = ""
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    at: Any = None


def _runs(engine: Engine, since: Any) -> dict[str, dict[str, Any]]:
    with session_scope(engine, write=False) as s:
        rows = s.execute(select(CheckRun).where(CheckRun.started_at >= since)).scalars().all()
        return {r.source_id: {"outcome": r.outcome, "error": r.error,
                              "ms": r.duration_ms} for r in rows}


def _stored_text(engine: Engine) -> str:
    """Everything the database holds, as text (zlib blobs opened): for needles."""
    parts: list[str] = []
    with engine.connect() as conn:
        for table in sa_inspect(engine).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        raw = bytes(value)
                        with contextlib.suppress(zlib.error):
                            raw = zlib.decompress(raw)
                        parts.append(raw.decode("utf-8", "replace"))
                    elif value is not None:
                        parts.append(str(value))
    return "\n".join(parts)


def _config(db: str, site: FaultSite, flappy: int, tls: int) -> str:
    lines = [f"      - {{id: f-{path}, kind: {kind}, url: \"{site.url}/{path}\"}}"
             for path, (kind, _, _, _) in FAULTS.items() if path != "refused"]
    lines.append(f"      - {{id: f-refused, kind: subprocessors, "
                 f"url: \"http://127.0.0.1:{flappy}/refused\"}}")
    lines += [f"      - {{id: {path}, kind: {kind}, url: \"{site.url}/{path}\"}}"
              for path, kind in HEALTHY.items()]
    return (f"database: {db}\n"
            f"http: {{timeout: {TIMEOUT}s, retries: {RETRIES}, max_bytes: 1048576, "
            f"per_host: 64, concurrency: 64, retry_after_max: 2s, max_redirects: 3, "
            f"allow_private: [\"127.0.0.1:{tls}\"]}}\n"
            f"parse: {{workers: 2, timeout: {PARSE_TIMEOUT}s, max_memory: 256}}\n"
            "guard: {hold_checks: 3, hold_time: 1h}\n"
            "schedule: {jitter: 0, interval: 1h}\n"
            "vendors:\n  - id: v\n    name: Vendor\n    sources:\n" + "\n".join(lines) + "\n")


def _run_passes(db_url: str, tmp: Path) -> Passes:
    internal = Loopback()
    internal.start()
    tls = Loopback()
    ctx = _tls_context(tmp)
    tls_port = tls.start(ssl_context=ctx) if ctx is not None else closed_port()
    site = FaultSite(internal_port=internal.port, tls_port=tls_port)
    site.start()
    for path, (kind, _, _, _) in FAULTS.items():
        site.serve(path, kind)
    for path, kind in HEALTHY.items():
        site.serve(path, kind)
    flappy = FaultSite()
    flappy.serve("refused", "subprocessors")
    flappy_port = flappy.start()
    config = parse_config(_config(db_url, site, flappy_port, tls_port))
    engine = open_database(db_url)
    checker = Checker(config, engine)
    checker.sync()
    result = Passes()
    try:
        for phase in (1, 2, 3):
            if phase == 2:
                for path, (_, fault, _, _) in FAULTS.items():
                    if fault is not None:
                        site.fault(path, fault)
                flappy.stop()
                site.hits.clear()
            if phase == 3:
                site.heal()
                flappy.start(port=flappy_port)
            since = utcnow() - timedelta(milliseconds=5)
            started = time.monotonic()
            summary = asyncio.run(checker.check())
            result.seconds.append(time.monotonic() - started)
            result.triggers.append(summary.triggers)
            result.runs.append(_runs(engine, since))
            if phase == 2:
                result.hits = {k: list(v) for k, v in site.hits.items()}
                result.at = utcnow()
                with session_scope(engine, write=False) as s:
                    result.sources = {r.id: {"next_due_at": r.next_due_at,
                                             "last_error": r.last_error,
                                             "failures": r.consecutive_failures}
                                      for r in s.execute(select(Source)).scalars()}
        result.internal_requests = len(internal.requests)
        with session_scope(engine, write=False) as s:
            result.triggers.append(len(s.execute(select(Trigger)).scalars().all()))
            result.sources.update({f"{r.id}@end": {"failures": r.consecutive_failures}
                                   for r in s.execute(select(Source)).scalars()})
        result.texts = _stored_text(engine)
    finally:
        checker.close()
        engine.dispose()
        for server in (site, internal, flappy):
            with contextlib.suppress(Exception):
                server.stop()
        if ctx is not None:
            tls.stop()
    return result


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres",
                                                                marks=pytest.mark.postgres)])
def passes(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Passes]:
    tmp = tmp_path_factory.mktemp(f"faults-{request.param}")
    with pytest.MonkeyPatch.context() as mp:
        _hostile_page_kind(mp)
        if request.param == "sqlite":
            yield _run_passes(f"sqlite:///{tmp}/faults.db", tmp)
        else:
            for url in _pg_database():
                yield _run_passes(url, tmp)


@pytest.mark.parametrize("path", list(FAULTS))
def test_each_fault_is_bounded_recorded_on_its_source_and_fires_nothing(
        passes: Passes, path: str) -> None:
    _, _, outcomes, words = FAULTS[path]
    source = f"f-{path}"
    run = passes.runs[1].get(source)
    assert run is not None, f"{source}: no check run written in the faulty pass"
    assert run["outcome"] in outcomes, run
    said = (run["error"] or "") + " " + str(passes.sources[source]["last_error"] or "")
    for word in words:
        assert word in said, run
    if run["outcome"] == "failed":
        assert passes.sources[source]["last_error"] == run["error"]
    assert run["ms"] <= FETCH_BOUND_MS, run  # the fetch, retries and waits included
    assert passes.runs[0][source]["outcome"] == "baseline"
    assert passes.runs[2][source]["outcome"] in ("unchanged", "not_modified"), \
        passes.runs[2][source]  # recovered, silently
    assert passes.sources[f"{source}@end"]["failures"] == 0


def test_the_faulty_pass_wrote_every_result_and_fired_nothing(passes: Passes) -> None:
    every = {f"f-{p}" for p in FAULTS} | set(HEALTHY)
    for phase in range(3):
        assert set(passes.runs[phase]) == every, phase
    for path in HEALTHY:
        assert passes.runs[0][path]["outcome"] == "baseline"
        assert passes.runs[1][path]["outcome"] in ("unchanged", "not_modified")
    assert passes.triggers == [0, 0, 0, 0]
    assert passes.seconds[1] < PASS_BOUND, passes.seconds
    assert passes.seconds[2] < PASS_BOUND / 2, passes.seconds


def test_hostile_redirects_never_reach_an_internal_address(passes: Passes) -> None:
    assert passes.internal_requests == 0
    assert "INTERNAL-TOKEN" not in passes.texts
    assert "root:x:0" not in passes.texts  # no XXE, no file:// redirect
    assert "MÃ¼ller" not in passes.texts and "Müller" in passes.texts


def test_retry_after_is_honoured_within_its_cap(passes: Passes) -> None:
    short = passes.hits["e503"]
    assert len(short) == 2 and short[1] - short[0] >= 1.0  # Retry-After: 1, waited
    assert len(passes.hits["e429"]) == 1  # Retry-After: 3600 is over the cap: no retry now
    due = passes.sources["f-e429"]["next_due_at"]
    assert due - passes.at >= timedelta(seconds=3000)  # … and the next check waits for it
