"""A snapshot is chained from the values it was inserted with (``chain.record_snapshot``),
not read back with its blobs at commit: the record's content hash is the one ``verify``
computes from the stored row, on SQLite and PostgreSQL, whatever the form of its values
(a time in another zone, no body, no validators)."""

from __future__ import annotations

import threading
import zlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlmodel import col

from storage import chain
from storage.db import session_scope
from storage.models import ChainRecord, Snapshot
from storage.repo import store_snapshot
from storage.verify import verify

NOW = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def _values(n: int, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "source_id": "acme-sub", "url": f"https://vendor.example/p?{n}&x=é", "fetched_at": NOW,
        "http_status": 200, "etag": f'W/"{n}"', "last_modified": "Sun, 01 Mar 2026",
        "content_hash": f"{n:064d}", "parser_version": "page/3", "kind": "page",
        "document": zlib.compress(f'{{"n": {n}, "t": "ünï"}}'.encode()),
        "body": zlib.compress(f"<html>version {n}</html>".encode(), 1),
        "content_type": "text/html; charset=utf-8", "size": n}
    values.update(extra)
    return values


def test_snapshots_are_chained_from_their_values_and_verify(engine: Engine) -> None:
    statements: list[str] = []
    lock = threading.Lock()

    def seen(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        with lock:
            statements.append(" ".join(statement.upper().replace('"', "").split()))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        with session_scope(engine) as s:
            ids = [store_snapshot(s, _values(1)),
                   store_snapshot(s, _values(2, body=None, etag=None, last_modified=None,
                                             content_type=None)),
                   store_snapshot(s, _values(3, fetched_at=NOW.astimezone(
                       timezone(timedelta(hours=2))))),
                   store_snapshot(s, _values(4, http_status=304, size=0))]
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    # no snapshot row read back at commit (the old code selected them, blobs and all)
    assert not [q for q in statements if q.startswith("SELECT") and "FROM SNAPSHOT" in q]
    with session_scope(engine) as s:
        rows = {r["id"]: r for r in s.execute(select(Snapshot.__table__)).mappings()}  # type: ignore[attr-defined]
        chained = dict(s.execute(select(col(ChainRecord.object_id),
                                        col(ChainRecord.content_hash))
                                 .where(col(ChainRecord.object_type) == "snapshot")).all())
    assert sorted(rows) == sorted(ids)
    for i in ids:
        assert chained[str(i)] == chain.sha256(chain.canonical(chain.snapshot_content(rows[i])))
    verdict = verify(engine, workers=1)
    assert verdict.ok, verdict.first()
    assert verdict.records == 4


def test_a_snapshot_inserted_without_every_column_is_read_at_commit(engine: Engine) -> None:
    values = _values(5)
    del values["content_type"], values["etag"]  # left to their defaults
    with session_scope(engine) as s:
        store_snapshot(s, values)
    verdict = verify(engine, workers=1)
    assert verdict.ok and verdict.records == 1, verdict.first()


def test_text_hashes_the_writer_knows_are_the_ones_verify_computes(engine: Engine) -> None:
    """``texts``: the writer hashed the document text and body it compressed; the record
    is the one ``verify`` computes by decompressing the stored blobs. A wrong pair is
    caught by ``verify``: the record is made from what the writer says, not re-read."""
    right, wrong = _values(6), _values(7)
    texts = (chain.sha256(zlib.decompress(right["document"])),
             chain.sha256(zlib.decompress(right["body"])))
    with session_scope(engine) as s:
        good = store_snapshot(s, right, texts=texts)
        no_body = store_snapshot(s, _values(8, body=None), texts=(
            chain.sha256(zlib.decompress(_values(8)["document"])), None))
    assert verify(engine, workers=1).ok
    with session_scope(engine) as s:
        rows = {r["id"]: r for r in s.execute(select(Snapshot.__table__)).mappings()}  # type: ignore[attr-defined]
        chained = dict(s.execute(select(col(ChainRecord.object_id),
                                        col(ChainRecord.content_hash))).all())
    for i in (good, no_body):
        assert chained[str(i)] == chain.sha256(chain.canonical(chain.snapshot_content(rows[i])))
    with session_scope(engine) as s:
        bad = store_snapshot(s, wrong, texts=texts)  # another snapshot's text hashes
    verdict = verify(engine, workers=1)
    assert not verdict.ok
    first = verdict.first()
    assert first is not None and str(bad) in first.line()
