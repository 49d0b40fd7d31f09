"""The analysis's reads (``pipeline._DbReader``): inside ``reading()`` the reads of one
changed document share one connection and one read transaction; outside, each read has
its own; a failure inside still ends the transaction. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import zlib
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from monitor.check.pipeline import _DbReader
from storage.db import session_scope
from storage.repo import store_snapshot

NOW = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)


def _snapshots(engine: Engine) -> list[int]:
    with session_scope(engine) as s:
        return [store_snapshot(s, {
            "source_id": "acme-sub", "url": "https://vendor.example/sub", "fetched_at": NOW,
            "http_status": 200, "etag": None, "last_modified": None,
            "content_hash": f"{n:064d}", "parser_version": "subprocessors/1",
            "kind": "subprocessors",
            "document": zlib.compress(f'{{"entities": {{"n{n}": {{}}}}}}'.encode()),
            "body": zlib.compress(f"<html>{n}</html>".encode(), 1),
            "content_type": "text/html", "size": 1}) for n in (1, 2)]


class _Checkouts:
    """Counts the pool's checkouts and the transactions begun on the reader's engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.checkouts, self.begins = engine, 0, 0
        self.lock = threading.Lock()

    def _checkout(self, *_: Any) -> None:
        with self.lock:
            self.checkouts += 1

    def _begin(self, *_: Any) -> None:
        with self.lock:
            self.begins += 1

    def __enter__(self) -> _Checkouts:
        event.listen(self.engine.pool, "checkout", self._checkout)
        event.listen(self.engine, "begin", self._begin)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine.pool, "checkout", self._checkout)
        event.remove(self.engine, "begin", self._begin)


def test_reads_inside_reading_share_one_connection(engine: Engine) -> None:
    old, new = _snapshots(engine)
    reader = _DbReader(engine)
    with _Checkouts(reader.engine) as seen:
        with reader.reading():
            recent = reader.recent("acme-sub", 5, "subprocessors/1")
            stored = reader.document(old)
            body = reader.body(new)
        assert (seen.checkouts, seen.begins) == (1, 1)
    assert recent == {f"{2:064d}": new, f"{1:064d}": old}
    assert stored.data == {"entities": {"n1": {}}}
    assert body == b"<html>2</html>"
    with _Checkouts(reader.engine) as seen:  # outside reading(): a connection a read
        reader.recent("acme-sub", 5, "subprocessors/1")
        reader.document(new)
        assert (seen.checkouts, seen.begins) == (2, 2)


def test_a_failed_read_inside_reading_ends_its_transaction(engine: Engine) -> None:
    old, _ = _snapshots(engine)
    reader = _DbReader(engine)
    with pytest.raises(LookupError), reader.reading():
        reader.document(old)
        reader.document(10_000)  # no such snapshot
    assert reader.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    with reader.reading():  # and the next analysis opens its own
        assert reader.document(old).data == {"entities": {"n1": {}}}
    assert reader.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
