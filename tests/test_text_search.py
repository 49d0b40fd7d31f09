"""The history's text search from its index finds exactly what LIKE over the lowered title
and entities finds (``storage/search.py``), on SQLite (FTS5 trigram) and PostgreSQL
(pg_trgm), for words that are hard on either: short, LIKE's wildcards and escape,
FTS5's query syntax, quotes, any case, non-ASCII, words only in the entities; and it
stays exact as triggers are inserted, changed and deleted. On PostgreSQL without the
right to create ``pg_trgm`` the migration leaves the index out and the search still
works."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import PG_ADMIN
from sqlalchemy import create_engine, delete, func, insert, select, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from storage import queries as q
from storage import search
from storage.db import open_database, session_scope
from storage.models import Trigger

DOCS: list[tuple[str, list[str] | None]] = [
    ("Acme: subprocessor added — Entity 42", ["Entity 42"]),
    ("ACME CORP changed its terms", ["Terms of Service"]),
    ("acme: 50% off the model price", []),
    ("Rate limit raised to 100_000 rpm", ["rate_limit"]),
    ("Path C:\\data\\new was listed", ["C:\\data"]),
    ("München data centre added", ["München GmbH"]),
    ("MÜNCHEN DATA CENTRE", ["MÜNCHEN"]),
    ("Straße der Pariser Kommune", ["STRASSE"]),
    ("İstanbul region opened", ["İSTANBUL"]),
    ("ΣΊΣΥΦΟΣ λίθος", ["σίσυφος"]),
    ("日本語のモデルを追加", ["日本"]),
    ("Quote \"double\" and 'single'", ['say "hi"']),
    ("Operators AND OR NOT NEAR in a title", ["a*b", "(x)", "-foo", "^caret", "col:val"]),
    ("plain title", ["only-in-entities Zyxwv"]),
    ("emoji 🙂 ok", ["🙂🙂🙂"]),
    ("tabs\tand\nnewlines", None),
    ("ab", ["ab"]),
    ("x", []),
]
WORDS = ["a", "ab", "abc", "acme", "ACME", "AcMe", "%", "_", "\\", "50%", "100_000",
         "rate_limit", "c:\\data", "\\data\\", "münchen", "MÜNCHEN", "Münch", "ünc", "straße",
         "STRASSE", "strasse", "istanbul", "İstanbul", "i̇st", "σίσυφος", "ΣΊΣΥΦΟΣ", "日本語",
         "日本", "本", '"double"', 'say "hi"', '"', "'single'", "and", "AND", "near", "a*b",
         "(x)", "-foo", "^caret", "col:val", "zyxwv", "only-in-entities", "🙂", "🙂🙂",
         "emoji", "tabs", "newlines", "entity", "entity 42", "acme entity", "42 acme",
         "nothing-like-this", "ent%ty", "ent_ty", "{x}", "[x]", "*", "entities"]


def _write(engine: Engine) -> None:
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        for i, (title, entities) in enumerate(DOCS):
            session.execute(insert(Trigger).values(
                dedupe_key=f"ts-{i}", type="incident", severity="low", title=title,
                vendor_id=f"v{i % 3}", entities=entities, created_at=now - timedelta(hours=i),
                status="open"))


def _reference(session: Session, flt: q.TriggerFilter) -> set[int]:
    """What the LIKE finds, read row by row (no index on either engine)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL enable_indexscan = off"))
        session.execute(text("SET LOCAL enable_bitmapscan = off"))
    found = set(session.execute(flt.apply(select(col(Trigger.id)), "like")).scalars())
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("RESET enable_indexscan"))
        session.execute(text("RESET enable_bitmapscan"))
    return found


def _same(engine: Engine, texts: list[str], **more: Any) -> int:
    """Every text's matches from the index are the reference's; how many matched."""
    matched = 0
    with session_scope(engine, write=False) as session:
        if engine.dialect.name == "postgresql":
            session.execute(text("SET LOCAL enable_seqscan = off"))  # the index, if any
        for words in texts:
            flt = q.TriggerFilter(text=words, **more)
            want = _reference(session, flt)
            if engine.dialect.name == "postgresql":
                session.execute(text("SET LOCAL enable_seqscan = off"))
            got = {t.id for t in q.list_triggers(session, flt, limit=None)}
            page = {t.id for t in q.list_triggers(session, flt, limit=50)}
            assert got == want, (words, got, want)
            assert page == want, (words, page, want)
            assert q.count_triggers(session, flt) == len(want), words
            assert q.count_triggers(session, flt, cap=2) == min(len(want), 3), words
            assert {t.id for t in q.iter_triggers(session, flt, batch=3)} == want, words
            matched += bool(want)
    return matched


def test_search_from_the_index_finds_what_like_finds(engine: Engine) -> None:
    with engine.connect() as conn:
        assert search.has_index(conn)
    _write(engine)
    pairs = [f"{a} {b}" for a, b in itertools.combinations(WORDS[::5], 2)]
    assert _same(engine, WORDS + pairs) > 30  # most words match something
    if engine.dialect.name == "sqlite":  # (PostgreSQL refuses a NUL in any text)
        _same(engine, ["nul\0word", "\0", "acme \0\0\0"])  # as LIKE finds; no error
    assert _same(engine, WORDS, vendor="v1") > 5  # with another filter (not the FTS count)
    # the FTS holds the lowered texts: the trigram tokenizer's own folding never applies
    with session_scope(engine, write=False) as session:
        if engine.dialect.name == "postgresql":  # no plan for every pattern (see search_mode)
            q.count_triggers(session, q.TriggerFilter(text="acme"))
            assert session.execute(text("SHOW plan_cache_mode")).scalar_one() == \
                "force_custom_plan"
        assert q.count_triggers(session, q.TriggerFilter(text="zyxwv")) == 1
        assert q.count_triggers(session, q.TriggerFilter(text="only-in-entities")) == 1


def test_a_common_word_pages_by_walking_the_history(engine: Engine,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A word with more matches than FTS_SORT_MAX lists its page newest first by LIKE."""
    _write(engine)
    monkeypatch.setattr(q, "FTS_SORT_MAX", 2)
    assert _same(engine, ["acme", "data", "a", "entity 42", "ü"]) == 5
    with session_scope(engine, write=False) as session:
        mode = q.search_mode(session, q.TriggerFilter(text="data"), page=True)
        assert mode == "like"  # PostgreSQL: always; SQLite: more matches than the cap
        rare = q.search_mode(session, q.TriggerFilter(text="zyxwv"), page=True)
        assert rare == ("like" if engine.dialect.name == "postgresql" else "index")


def test_the_index_follows_inserts_changes_and_deletes(engine: Engine) -> None:
    _write(engine)
    with session_scope(engine) as session:
        first = session.execute(select(col(Trigger.id)).where(
            col(Trigger.dedupe_key) == "ts-0")).scalar_one()
        second = session.execute(select(col(Trigger.id)).where(
            col(Trigger.dedupe_key) == "ts-1")).scalar_one()
        session.execute(update(Trigger).where(col(Trigger.id) == first).values(
            title="Renamed to Globex", entities=["Initech"]))
        session.execute(update(Trigger).where(col(Trigger.id) == second).values(
            status="acknowledged", acked_by="me"))  # not a searched column
        session.execute(delete(Trigger).where(col(Trigger.dedupe_key) == "ts-5"))
    words = ["globex", "initech", "entity 42", "acme", "münchen", "terms", "renamed"]
    _same(engine, words)
    with session_scope(engine, write=False) as session:
        count = q.count_triggers
        assert count(session, q.TriggerFilter(text="globex")) == 1
        assert count(session, q.TriggerFilter(text="entity 42")) == 0
        assert count(session, q.TriggerFilter(text="gmbh")) == 0  # ts-5 deleted
        assert count(session, q.TriggerFilter(text="terms")) == 1
    with session_scope(engine) as session:
        session.execute(delete(Trigger))
    with session_scope(engine, write=False) as session:
        assert q.count_triggers(session, q.TriggerFilter(text="acme")) == 0
        if engine.dialect.name == "sqlite":  # no row left behind in the index
            assert session.execute(text(
                "SELECT count(*) FROM trigger_search WHERE trigger_search MATCH '\"acm\"'")
            ).scalar_one() == 0
    _write(engine)  # the same texts again, under new ids
    assert _same(engine, WORDS) > 30


@pytest.fixture
def pg_without_trgm() -> Iterator[str]:
    """A PostgreSQL database whose user may create tables but not extensions."""
    name = f"reassess_t_{uuid.uuid4().hex[:12]}"
    role = f"reassess_r_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    base = PG_ADMIN.rsplit("/", 1)[0]
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
    db = create_engine(f"{base}/{name}", isolation_level="AUTOCOMMIT")
    with db.connect() as conn:
        conn.execute(text(f'GRANT CREATE, USAGE ON SCHEMA public TO "{role}"'))
    db.dispose()
    try:
        yield f"{base.replace('postgres@', f'{role}@')}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()


@pytest.mark.postgres
def test_without_pg_trgm_the_migration_goes_on_and_search_scans(pg_without_trgm: str) -> None:
    engine = open_database(pg_without_trgm)
    try:
        with engine.connect() as conn:
            assert not search.has_index(conn)
            assert conn.execute(text(
                "SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'")).scalar_one() == 0
            assert conn.execute(select(func.count()).select_from(text("alembic_version"))
                                ).scalar_one() == 1
        _write(engine)
        with session_scope(engine, write=False) as session:
            assert q.count_triggers(session, q.TriggerFilter(text="acme")) == 3
            assert len(q.list_triggers(session, q.TriggerFilter(text="münchen"))) == 2
    finally:
        engine.dispose()
