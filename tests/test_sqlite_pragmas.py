"""SQLite connections of reassess: WAL, and a checkpoint window of ``WAL_AUTOCHECKPOINT``
pages (``storage/db.py``) instead of SQLite's 1,000, on every connection of the pool."""

from __future__ import annotations

from pathlib import Path

from storage.db import WAL_AUTOCHECKPOINT, open_database


def test_every_sqlite_connection_has_the_wal_and_its_checkpoint_window(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path}/reassess.db")
    try:
        pooled = [engine.raw_connection() for _ in range(2)]  # two connections of the pool
        try:
            for conn in pooled:
                cur = conn.cursor()
                assert cur.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
                assert cur.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == \
                    WAL_AUTOCHECKPOINT == 10_000
                cur.close()
        finally:
            for conn in pooled:
                conn.close()
    finally:
        engine.dispose()
