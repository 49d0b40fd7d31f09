"""A parser upgrade alone never fires: the technical re-baseline, on SQLite and PostgreSQL.

Each stored snapshot keeps the raw body it was parsed from (compressed, with its content
type). When the kind's ``PARSER_VERSION`` moves on, the next check parses that stored
body again with the new parser and compares like with like: an unchanged page fires
nothing, a changed one fires exactly its real change. Where no raw body is stored (a
database from before), the new document is recorded as a re-baseline and nothing fires.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

import sources.page as page_kind
from config import Config, parse_config
from config.schema import GuardConfig
from monitor.check.pipeline import Checker, PassSummary
from sources.base import BaseSettings, Document
from storage import repo
from storage.db import open_database, session_scope
from storage.models import CheckRun, Snapshot, Source, Trigger
from triggers.offline import diff_bodies

POLICY = ("<h1>DPA</h1><h2>Retention</h2><p>Customer content is retained for {days} days.</p>"
          "<h2>Training</h2><p>We do not train on customer content.</p>"
          "<h2>Security</h2><p>Data is encrypted at rest and in transit.</p>")

CONFIG = """\
database: {db}
vendors:
  - id: acme
    name: Acme AI
    sources:
      - {{id: acme-dpa, kind: page, url: "{site}/acme/dpa", select: main}}
  - id: northwind
    name: Northwind Models
    sources:
      - {{id: northwind-dpa, kind: page, url: "{site}/northwind/dpa", select: main}}
"""


@pytest.fixture
def setup(site: Any, db_url: str) -> Iterator[tuple[Config, Engine]]:
    config = parse_config(CONFIG.format(db=db_url, site=site.base_url))
    for vendor in ("acme", "northwind"):
        site.control(vendor, "set_page", path="dpa", html=POLICY.format(days=30))
    engine = open_database(db_url)
    yield config, engine
    engine.dispose()


def check(config: Config, engine: Engine) -> PassSummary:
    checker = Checker(config, engine)
    checker.sync()
    try:
        return asyncio.run(checker.check())
    finally:
        checker.close()


# The page parser's next version: what an upgrade of today's parser would be called.
NEXT = str(int(page_kind.PARSER_VERSION) + 1)


def upgrade_parser(monkeypatch: pytest.MonkeyPatch, version: str, mark: str) -> None:
    """A new page parser whose every line differs from the old one's: a diff of an old
    document against a new one would report every line as changed."""
    parse = page_kind.parse

    def new_parse(body: bytes, settings: BaseSettings) -> Document:
        lines = [f"{mark} {line}" for line in parse(body, settings).data["lines"]]
        return Document(kind="page", data={"lines": lines}, parser_version=version)

    monkeypatch.setattr(page_kind, "PARSER_VERSION", version)
    monkeypatch.setattr(page_kind, "parse", new_parse)


def outcomes(engine: Engine) -> dict[str, str]:
    with session_scope(engine) as s:
        rows = s.execute(select(CheckRun.source_id, CheckRun.outcome)
                         .order_by(CheckRun.id)).all()
    return dict(rows)  # the latest per source


def triggers(engine: Engine) -> list[Trigger]:
    with session_scope(engine) as s:
        return list(s.execute(select(Trigger).order_by(Trigger.id)).scalars())


def test_a_parser_upgrade_fires_only_the_real_change(
        setup: tuple[Config, Engine], site: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    config, engine = setup
    assert check(config, engine).baseline == 2
    with session_scope(engine) as s:
        snaps = list(s.execute(select(Snapshot)).scalars())
    assert all(snap.body and snap.content_type and snap.content_type.startswith("text/html")
               for snap in snaps)
    with engine.connect() as conn:
        old_body = repo.load_body(conn, snaps[0].id or 0)
    assert old_body is not None and b"retained for 30 days" in old_body  # the raw body

    site.control("northwind", "set_page", path="dpa", html=POLICY.format(days=90))
    upgrade_parser(monkeypatch, NEXT, "»")
    summary = check(config, engine)
    assert summary.rebaselined == 1 and summary.changed == 1 and summary.triggers == 1
    assert outcomes(engine) == {"acme-dpa": "rebaselined", "northwind-dpa": "changed"}
    [fired] = triggers(engine)
    assert fired.type == "policy_change" and fired.source_id == "northwind-dpa"
    assert [(c["op"], c["before"], c["after"]) for c in fired.changes or []] == [
        ("modified", "» Customer content is retained for 30 days.",
         "» Customer content is retained for 90 days.")]
    # the same as the offline diff of the two bodies, both read by the new parser
    offline = diff_bodies("page", POLICY.format(days=30).encode(),
                          POLICY.format(days=90).encode())
    assert [c["after"] for c in offline["changes"]] == [c["after"] for c in fired.changes or []]

    again = check(config, engine)  # both documents are the new parser's now
    assert again.triggers == 0 and again.rebaselined == 0 and len(triggers(engine)) == 1
    with session_scope(engine) as s:
        versions = set(s.execute(select(Source.parser_version)).scalars())
    assert versions == {NEXT}


def test_without_a_stored_body_a_parser_upgrade_rebaselines(
        setup: tuple[Config, Engine], site: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database from before raw bodies were kept: nothing to re-read, so the new
    document becomes the baseline, even over a change, and nothing fires."""
    config, engine = setup
    check(config, engine)
    with session_scope(engine) as s:
        s.execute(update(Snapshot).values(body=None, content_type=None))
        s.execute(update(Source).values(parser_version=None))
    site.control("northwind", "set_page", path="dpa", html=POLICY.format(days=90))
    upgrade_parser(monkeypatch, NEXT, "»")
    summary = check(config, engine)
    assert summary.rebaselined == 2 and summary.triggers == 0 and triggers(engine) == []
    assert set(outcomes(engine).values()) == {"rebaselined"}
    site.control("acme", "set_page", path="dpa", html=POLICY.format(days=60))
    later = check(config, engine)  # like with like from here on
    assert later.triggers == 1 and triggers(engine)[0].source_id == "acme-dpa"


def test_an_empty_document_is_not_rebaselined_until_seen_again(
        setup: tuple[Config, Engine], site: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """With nothing to compare it with, an empty page (a login wall?) is still suspect:
    held like any suspect document, never silently made the baseline."""
    config, engine = setup
    # held for two checks and no minimum time (defaults: 3 checks over 6 hours)
    config = config.model_copy(update={"guard": GuardConfig(hold_checks=2, hold_time=0)})
    check(config, engine)
    with session_scope(engine) as s:
        s.execute(update(Snapshot).values(body=None))
    site.control("acme", "set_page", path="dpa", html="<p></p>")
    upgrade_parser(monkeypatch, NEXT, "»")
    first = check(config, engine)
    assert outcomes(engine) == {"acme-dpa": "suspect", "northwind-dpa": "rebaselined"}
    assert first.held == 1 and first.triggers == 0
    second = check(config, engine)
    assert second.rebaselined == 1 and outcomes(engine)["acme-dpa"] == "rebaselined"
    assert triggers(engine) == []


def test_an_unknown_version_with_the_same_document_is_simply_unchanged(
        setup: tuple[Config, Engine]) -> None:
    """A stale source whose body the current parser reads as the stored document: parsed
    (not answered 304, not skipped by its body hash) once, found unchanged, marked current."""
    config, engine = setup
    check(config, engine)
    with session_scope(engine) as s:
        s.execute(update(Source).values(parser_version=None))
    summary = check(config, engine)
    assert summary.unchanged == 2 and summary.rebaselined == 0 and summary.triggers == 0
    assert set(outcomes(engine).values()) == {"unchanged"}
    with session_scope(engine) as s:
        assert set(s.execute(select(Source.parser_version)).scalars()) == {
            page_kind.PARSER_VERSION}
        assert len(s.execute(select(Snapshot.id)).all()) == 2
    assert set(check(config, engine).outcomes) == {"not_modified"}  # fresh: validators again


def test_recent_hashes_compare_one_parser_version(engine: Engine) -> None:
    """The flap ("reverted") lookup never matches another parser version's hashes."""
    from monitor.clock import utcnow

    with session_scope(engine) as s:
        for i, version in enumerate(("1", "1", "2")):
            repo.store_snapshot(s, {
                "source_id": "s", "url": "http://x/", "fetched_at": utcnow(),
                "http_status": 200, "content_hash": f"h{i}", "parser_version": version,
                "kind": "page", "document": repo.compress("{}"), "size": 0})
        assert set(repo.recent_hashes(s, "s", 3, "1")) == {"h0", "h1"}
        assert set(repo.recent_hashes(s, "s", 3, "2")) == {"h2"}
        assert repo.recent_hashes(s, "s", 0, "1") == {}


def test_recent_hashes_are_the_newest_read_from_an_index(engine: Engine) -> None:
    """Every changed check asks for the source's recent hashes: the newest by fetch time,
    read in ``ix_snapshot_source_fetched``'s order (no sort of the source's whole
    history, whose length grows with every change)."""
    from datetime import timedelta

    from monitor.clock import utcnow

    now = utcnow()
    with session_scope(engine) as s:
        for i in range(40):
            repo.store_snapshot(s, {
                "source_id": "s", "url": "http://x/", "http_status": 200,
                "fetched_at": now - timedelta(hours=40 - i), "content_hash": f"h{i}",
                "parser_version": "1", "kind": "page", "document": repo.compress("{}"),
                "size": 0})
        assert set(repo.recent_hashes(s, "s", 3, "1")) == {"h37", "h38", "h39"}
    sql = str(repo._RECENT.compile(engine))
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = [r[0] for r in conn.exec_driver_sql(
                "EXPLAIN " + sql, {"source_id": "s", "parser_version": "1", "n": 3})]
            assert not any("Sort" in line for line in plan), plan
        else:
            plan = [r[3] for r in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + sql, ("s", "1", 3, 0))]
            assert not any("TEMP B-TREE" in line for line in plan), plan
    assert any("ix_snapshot_source_fetched" in line for line in plan), plan
