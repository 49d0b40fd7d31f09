"""The pieces of issue 16 on their own: the suspect-document hold (checks and time), the
charset decided by the bytes, what counts as a public address, Retry-After, secrets put
back as placeholders, dead processes' leases reclaimed, and /healthz when no check has
completed for too long."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col
from test_guard import CLOUDFLARE

from config import parse_config
from config.schema import Config, GuardConfig
from monitor.check.analyse import SourceState, Watch, conclude
from monitor.check.pipeline import build_watches, redact_result
from monitor.daemon.daemon import Daemon
from monitor.daemon.ops import Ops
from sources import get_kind, parse
from sources.fetch import AddressGuard, FetchResult, public, retry_after
from sources.read.encoding import encodings, undecodable
from storage.db import open_database, session_scope
from storage.leases import dead_owners, reclaim_dead
from storage.models import Outbox, Source

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ROWS = [("Amazon Web Services", "Hosting"), ("Datadog", "Monitoring"), ("Stripe", "Payments"),
        ("Twilio", "Messaging"), ("Zendesk", "Support"), ("OpenAI", "Inference")]


def _table(rows: list[tuple[str, str]]) -> bytes:
    cells = "".join(f"<tr><td>{n}</td><td>{p}</td></tr>" for n, p in rows)
    return f"<table><tr><th>Name</th><th>Purpose</th></tr>{cells}</table>".encode()


class _Reader:
    def __init__(self, doc: Any) -> None:
        self.doc = doc

    def document(self, snapshot_id: int) -> Any:
        from monitor.check.analyse import Stored
        return Stored(self.doc.data, self.doc.parser_version)

    def body(self, snapshot_id: int) -> bytes | None:
        return None

    def recent(self, source_id: str, n: int, parser_version: str) -> dict[str, int]:
        return {}

    def reparse(self, watch: Watch, body: bytes) -> Any:
        raise AssertionError("not stale")


def _watch() -> Watch:
    config = parse_config("vendors: [{id: a, name: A, sources: [{id: s, kind: subprocessors, "
                          "url: 'https://vendor.example/sub'}]}]")
    return build_watches(config)["s"]


def _outcome(watch: Watch, body: bytes, at: datetime) -> Any:
    from monitor.check.analyse import Outcome
    return Outcome(watch=watch, fetch=FetchResult("s", "u", status=200, body=body),
                   started_at=at, outcome="parse")


def test_a_suspect_document_waits_for_its_checks_and_its_time() -> None:
    watch = _watch()
    kind = get_kind("subprocessors")
    old = parse(kind, kind.Settings(), _table(ROWS))
    cut = parse(kind, kind.Settings(), _table(ROWS[:3]))  # lost half: suspect
    hold = GuardConfig(hold_checks=3, hold_time=3600)
    state = SourceState(id="s", current_snapshot_id=1, current_hash=old.hash)
    seen = []
    for minutes in (0, 10, 20, 70):  # the third sighting is too early; the fourth is not
        out = conclude(_outcome(watch, _table(ROWS[:3]), T0 + timedelta(minutes=minutes)),
                       watch, state, cut, _Reader(old), hold=hold)
        seen.append(out.outcome)
        if out.outcome == "suspect":
            assert "items where there were 6" in (out.reason or "")
            state = SourceState(id="s", current_snapshot_id=1, current_hash=old.hash,
                                pending_hash=out.pending_hash, pending_count=out.pending_count,
                                pending_since=out.pending_since)
    assert seen == ["suspect", "suspect", "suspect", "changed"]
    assert state.pending_since == T0  # the first sighting, kept across the hold


def test_random_bytes_and_a_mislabelled_charset() -> None:
    import os
    assert "undecodable" in (undecodable(os.urandom(4000)) or "")
    assert undecodable("Müller — naïve".encode()) is None
    assert undecodable("Müller".encode("cp1252") * 10) is None
    assert undecodable(b"%PDF-1.7\n\x00\x01\x02\x03" * 100) is None
    body = "<meta charset='iso-8859-1'><p>Müller</p>".encode()
    assert next(encodings(body, None)) == "utf-8"
    latin = "<meta charset='iso-8859-1'><p>Müller</p>".encode("latin-1")
    assert next(encodings(latin, None)) == "iso-8859-1"


@pytest.mark.parametrize(("address", "is_public"), [
    ("8.8.8.8", True), ("2606:4700::1111", True), ("127.0.0.1", False), ("10.1.2.3", False),
    ("172.16.0.1", False), ("192.168.1.1", False), ("169.254.169.254", False),
    ("0.0.0.0", False), ("::1", False), ("fe80::1", False), ("::ffff:127.0.0.1", False),
    ("100.64.0.1", False), ("not-an-ip", False)])
def test_what_counts_as_a_public_address(address: str, is_public: bool) -> None:
    assert public(address) is is_public


def test_allow_private_lists_hosts_ports_and_networks() -> None:
    guard = AddressGuard(["intranet.example", "127.0.0.1:8443", "10.0.0.0/8"])
    assert guard.listed("intranet.example", 80) and guard.listed("127.0.0.1", 8443)
    assert not guard.listed("127.0.0.1", 8080)
    assert guard.listed("docs.internal", 80, ["10.4.5.6"])
    assert not guard.listed("docs.internal", 80, ["192.168.0.1"])


def test_retry_after_reads_seconds_and_dates() -> None:
    assert retry_after("120") == 120.0
    assert retry_after(None) is None and retry_after("soon") is None
    assert retry_after("Sun, 01 Mar 2026 12:01:00 GMT", now=T0.timestamp()) == 60.0


def test_expanded_secrets_are_put_back_as_placeholders() -> None:
    result = FetchResult("s", "https://v.example/x?token=abc123%2F", status=200,
                         body=b"<p>your key is key-998877 and abc123/</p>",
                         error="redirect to 'https://x/?t=abc123/'", etag='"key-998877"')
    clean = redact_result(result, {"abc123/": "${TOKEN}", "key-998877": "${KEY}"})
    assert clean.url == "https://v.example/x?token=${TOKEN}"
    assert clean.body == b"<p>your key is ${KEY} and ${TOKEN}</p>"
    assert clean.error == "redirect to 'https://x/?t=${TOKEN}'" and clean.etag == '"${KEY}"'


def test_dead_processes_leases_are_reclaimed(tmp_path: Path) -> None:
    alive = {1000, 1001}
    owners = ["h:1000", "h:2000", "other:3000", None, "h:notapid"]
    assert dead_owners(owners, "h", running=lambda pid: pid in alive) == ["h:2000"]
    engine = open_database(f"sqlite:///{tmp_path}/r.db")
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        s.add(Source(id="a", vendor_id="v", kind="page", url="u", lease_owner="h:999999999",
                     lease_until=now + timedelta(minutes=5), next_due_at=now))
        s.add(Outbox(dedupe_key="k", kind="trigger", channel="c", created_at=now,
                     attempts=1, lease_owner="h:999999999",
                     lease_until=now + timedelta(minutes=5)))
    with session_scope(engine) as s:
        assert reclaim_dead(s, "h", now, lease=120) == {"sources": 1, "outbox": 1}
    with session_scope(engine, write=False) as s:
        row = s.execute(select(Outbox)).scalar_one()
        assert row.lease_owner is None and row.attempts == 1  # the attempt stays counted
        assert s.execute(select(Source)).scalar_one().lease_until is None


def test_a_dead_lease_is_reclaimed_only_where_it_would_hold_something_up(
        tmp_path: Path) -> None:
    """The notifier's reclaim (every tick) looks for dead owners among the sources due
    within the lease and the pending outbox rows only: an owner whose sources are all
    due after its lease runs out, or whose rows were sent, holds up nothing (it is found
    at the next start-up, ``lease=None``). A dead owner found frees all it held."""
    engine = open_database(f"sqlite:///{tmp_path}/r.db")
    now = datetime.now(UTC)
    until = now + timedelta(minutes=2)
    with session_scope(engine) as s:
        for sid, owner, due in (("due", "h:999999998", timedelta(seconds=30)),
                                ("later-a", "h:999999998", timedelta(hours=1)),
                                ("later-b", "h:999999999", timedelta(hours=1))):
            s.add(Source(id=sid, vendor_id="v", kind="page", url="u", lease_owner=owner,
                         lease_until=until, next_due_at=now + due))
        s.add(Outbox(dedupe_key="sent", kind="trigger", channel="c", created_at=now,
                     status="sent", lease_owner="h:999999997", lease_until=until))
    with session_scope(engine) as s:
        assert reclaim_dead(s, "h", now, lease=120) == {"sources": 2}
    with session_scope(engine) as s:
        held = {r[0]: r[1] for r in s.execute(select(col(Source.id), col(Source.lease_owner)))}
        assert held == {"due": None, "later-a": None, "later-b": "h:999999999"}
        assert reclaim_dead(s, "h", now) == {"sources": 1}  # start-up: every source


def test_health_is_an_error_when_no_check_completed_for_too_long(tmp_path: Path) -> None:
    config = Config.model_validate({
        "database": f"sqlite:///{tmp_path}/h.db", "schedule": {"tick": 1},
        "http": {"timeout": 1, "retries": 0}, "parse": {"timeout": 1},
        "vendors": [{"id": "a", "name": "A", "sources": [
            {"id": "s", "kind": "page", "url": "https://v.example/", "interval": 2}]}]})
    engine = open_database(config.database)
    daemon = Daemon(config, engine)
    ops = Ops(daemon)
    within = ops.checks_due_within()
    assert within is not None and within < 120  # 2 s + a fetch, a parse and the stall margin
    daemon.started_at = time.monotonic() - within - 1  # started long ago, never checked
    facts = ops.health()
    assert facts["checks"] == "overdue" and facts["status"] == "error"
    ops.metrics.last_check = time.monotonic()  # a check just completed
    assert ops.health()["checks"] == "ok"
    daemon.checker.close()
    engine.dispose()


class _WallReader(_Reader):
    def __init__(self, doc: Any, body: bytes) -> None:
        super().__init__(doc)
        self.raw = body

    def body(self, snapshot_id: int) -> bytes | None:
        return self.raw


WALL = CLOUDFLARE


@pytest.mark.parametrize(("kind_name", "back_body"), [
    ("subprocessors", _table(ROWS)),
    ("page", b"<main><h1>Terms</h1><p>" + b"We do not train on your data. " * 40 + b"</p></main>"),
])
def test_a_wall_that_became_current_is_left_without_a_diff(kind_name: str,
                                                           back_body: bytes) -> None:
    """A wall outlasted its hold and became the current version; when the document comes
    back, diffing it against the wall would report every row as new. It re-baselines."""
    config = parse_config(f"vendors: [{{id: a, name: A, sources: [{{id: s, kind: {kind_name}, "
                          "url: 'https://vendor.example/x'}]}]")
    watch = build_watches(config)["s"]
    kind = get_kind(kind_name)
    wall, back = parse(kind, kind.Settings(), WALL), parse(kind, kind.Settings(), back_body)
    state = SourceState(id="s", current_snapshot_id=1, current_hash=wall.hash)
    out = conclude(_outcome(watch, back_body, T0), watch, state, back,
                   _WallReader(wall, WALL), hold=GuardConfig(hold_checks=1, hold_time=0))
    assert out.outcome == "rebaselined" and not out.events and out.store_snapshot


def test_an_empty_feed_that_was_real_still_fires_its_first_incident() -> None:
    """An empty status feed is a quiet vendor, not a wall: its first incident fires."""
    config = parse_config("vendors: [{id: a, name: A, sources: [{id: s, kind: incidents, "
                          "url: 'https://status.vendor.example/history.atom'}]}]")
    watch = build_watches(config)["s"]
    kind = get_kind("incidents")
    head = ('<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">'
            '<title>Vendor status</title><id>tag:v</id><updated>2026-03-01T00:00:00Z</updated>')
    quiet = (head + "</feed>").encode()
    entry = ("<entry><id>tag:v,1</id><title>Elevated error rates on the API</title>"
             "<updated>2026-03-01T10:00:00Z</updated><link href='https://status.vendor.example/i/1'/>"
             "<content type='html'>&lt;p&gt;&lt;strong&gt;Investigating&lt;/strong&gt; - "
             "We are investigating elevated error rates.&lt;/p&gt;</content></entry>")
    loud = (head + entry + "</feed>").encode()
    old, new = parse(kind, kind.Settings(), quiet), parse(kind, kind.Settings(), loud)
    state = SourceState(id="s", current_snapshot_id=1, current_hash=old.hash)
    out = conclude(_outcome(watch, loud, T0), watch, state, new, _WallReader(old, quiet),
                   hold=GuardConfig(hold_checks=1, hold_time=0))
    assert out.outcome == "changed" and [e.type for e in out.events] == ["incident"]
