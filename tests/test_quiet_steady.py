"""Short cuts on an unchanged check's path (the daemon's steady state, issue 15) give
what the long way gave: a plain source's request without asking the config for its
expanded url, headers, secrets and way of fetching; a batch's datetimes converted once
per object; its source updates grouped by their sorted column names once per order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import Engine
from sqlmodel import col

from config import parse_config
from monitor.check.persist import _write_batch, fast_datetime
from monitor.check.pipeline import build_watches
from storage.db import session_scope
from storage.models import CheckRun, Source

CONFIG = """\
vendors:
  - id: acme
    name: Acme
    sources:
      - {id: plain, kind: page, url: "https://acme.example/dpa"}
      - {id: var-url, kind: page, url: "https://acme.example/${TOKEN}/dpa"}
      - {id: var-default, kind: page, url: "https://acme.example/${NOPE:-x}/dpa"}
      - id: headers
        kind: page
        url: https://acme.example/h
        headers: {Authorization: "Bearer ${TOKEN}"}
      - id: fixed-headers
        kind: page
        url: https://acme.example/f
        headers: {Accept: text/html}
      - {id: card, kind: model_card, url: "https://acme.example/c", hub: acme/model}
      - {id: rendered, kind: page, url: "https://acme.example/r", render: browser}
"""


def test_plain_means_the_configs_request_is_the_url_and_nothing_else() -> None:
    config = parse_config(CONFIG, "c.yaml", env={"TOKEN": "s3cret-token"})
    watches = build_watches(config)
    seen = {}
    for sid, watch in watches.items():
        source = watch.source
        long_way = (source.request_url(), source.request_headers(), source.fetch_via(),
                    source.secrets())
        trivial = (long_way[0] is source.url and long_way[1] == {} and long_way[2] is None
                   and long_way[3] == {})
        assert watch.plain == source.plain() == trivial, sid
        seen[sid] = watch.plain
    assert seen == {"plain": True, "var-url": False, "var-default": False, "headers": False,
                    "fixed-headers": False, "card": False, "rendered": False}


def test_a_plain_sources_check_sends_its_url_and_no_headers_of_its_own(
        engine: Engine, site_url: str) -> None:
    import asyncio

    from monitor.check.pipeline import Checker

    body = (f"database: {engine.url.render_as_string(hide_password=False)}\n"
            "schedule: {jitter: 0}\nvendors:\n  - id: acme\n    name: Acme\n    sources:\n"
            f"      - {{id: acme-changelog, kind: changelog,\n"
            f"         url: \"{site_url}/acme/changelog.atom\"}}\n")
    config = parse_config(body, "c.yaml")
    checker = Checker(config, engine)
    assert all(w.plain for w in checker.watches.values())
    checker.sync()
    try:
        first = asyncio.run(checker.check())
        second = asyncio.run(checker.check())  # the validators of the first: a 304
    finally:
        checker.close()
    assert first.outcomes == {"baseline": 1}
    assert second.outcomes == {"not_modified": 1}
    with session_scope(engine, write=False) as s:
        statuses = s.execute(select(col(CheckRun.http_status)).order_by(col(CheckRun.id))).scalars()
        assert list(statuses) == [200, 304]


def test_a_repeated_datetime_converts_to_the_same_text_as_a_new_one() -> None:
    dialect = SQLiteDialect_pysqlite()
    proc = CheckRun.__table__.c.started_at.type._cached_bind_processor(dialect)  # type: ignore[attr-defined]
    fast = fast_datetime(proc, True)
    now = datetime(2026, 12, 7, 6, 0, 0, 123456, tzinfo=UTC)
    later = now + timedelta(seconds=2)
    equal_not_same = datetime(2026, 12, 7, 6, 0, 0, 123456, tzinfo=UTC)
    for value in (now, now, later, now, equal_not_same, later, later, None):
        if value is None:
            continue
        assert fast(value) == proc(value)
    naive = datetime(2026, 12, 7, 6, 0, 0)
    with pytest.raises(ValueError):  # refused as SQLAlchemy refuses it, memo or not
        fast(naive)
    assert fast(now) == proc(now)


def test_updates_built_in_different_orders_are_written_alike(engine: Engine) -> None:
    now = datetime(2026, 12, 7, 6, 0, 0, 500000, tzinfo=UTC)
    from storage.models import Vendor

    with session_scope(engine) as s:
        s.add(Vendor(id="v", name="V"))
        s.flush()
        for i in range(4):
            s.add(Source(id=f"s{i}", vendor_id="v", kind="page", url=f"https://x/{i}",
                         interval_s=60.0, active=True, consecutive_failures=0,
                         pending_count=0, alert_state="ok"))
    rows: list[dict[str, Any]] = [
        {"id": "s0", "last_checked_at": now, "last_outcome": "not_modified",
         "consecutive_failures": 0},
        {"consecutive_failures": 0, "last_outcome": "unchanged", "id": "s1",
         "last_checked_at": now},
        {"id": "s2", "last_checked_at": now, "last_outcome": "failed",
         "consecutive_failures": 3, "last_error": "boom"},
        {"last_error": "bang", "consecutive_failures": 2, "last_outcome": "failed",
         "last_checked_at": now + timedelta(seconds=1), "id": "s3"},
    ]
    with session_scope(engine) as s:
        _write_batch(s, rows, [])
    with session_scope(engine, write=False) as s:
        got = {src.id: (src.last_outcome, src.consecutive_failures, src.last_error,
                        src.last_checked_at)
               for src in s.execute(select(Source)).scalars()}
    assert got == {
        "s0": ("not_modified", 0, None, now),
        "s1": ("unchanged", 0, None, now),
        "s2": ("failed", 3, "boom", now),
        "s3": ("failed", 2, "bang", now + timedelta(seconds=1)),
    }


DEADLINE_CONFIG = """\
database: "{db}"
schedule: {{jitter: 0, pass_timeout: 2s}}
http: {{timeout: 30s, retries: 0}}
vendors:
  - id: acme
    name: Acme
    sources:
      - {{id: acme-a, kind: page, url: "{site}/a"}}
      - {{id: acme-b, kind: page, url: "{site}/b"}}
      - {{id: acme-c, kind: page, url: "{site}/c"}}
      - {{id: acme-slow, kind: page, url: "{site}/slow"}}
"""


def test_results_waiting_when_the_deadline_passes_are_still_recorded(tmp_path: Any) -> None:
    """The deadline comes through the results queue: results that were waiting when it
    passed (here, while the event loop was held) are recorded, as when a timeout was
    armed only around an empty queue's wait; only the source still out fails."""
    import asyncio
    import time

    from faultsite import FaultSite

    from monitor.check.pipeline import Checker
    from storage.db import open_database

    site = FaultSite()
    for name in ("a", "b", "c", "slow"):
        site.serve(name, "page")
    site.start()
    try:
        site.fault("slow", "trickle")
        config = parse_config(DEADLINE_CONFIG.format(db=f"sqlite:///{tmp_path}/d.db",
                                                     site=site.url), "c.yaml")
        engine = open_database(config.database)
        checker = Checker(config, engine)
        checker.sync()
        seen: list[str] = []

        def progress(out: Any) -> None:
            seen.append(out.source_id)
            if len(seen) == 1:  # hold the event loop past the deadline: the other fast
                time.sleep(2.5)  # results and the deadline are queued meanwhile
        try:
            summary = asyncio.run(checker.check(progress=progress))
        finally:
            checker.close()
        assert summary.checked == 4 and summary.failed == 1, summary
        with session_scope(engine, write=False) as s:
            runs = {r.source_id: r for r in s.execute(select(CheckRun)).scalars()}
        assert {sid: r.outcome for sid, r in runs.items()} == {
            "acme-a": "baseline", "acme-b": "baseline", "acme-c": "baseline",
            "acme-slow": "failed"}
        assert "deadline" in (runs["acme-slow"].error or "")
        engine.dispose()
    finally:
        site.stop()
