"""Seed a large install quickly: N sources in a config, and a history of triggers.

    python -m bench.seed --sources 100000 --triggers 1000000 --db URL \\
        --config /tmp/big/reassess.yaml [--base-url http://127.0.0.1:PORT] [--checkruns 5]

Writes the config (N/3 vendors of three sources each, laid out as the simulated vendor
site serves them, one assessment per vendor, every source at ``--interval``), migrates
the database and syncs the config to it with reassess's own sync (timed: the first
start of a daemon on that config does the same), then writes the history: per source
one baseline snapshot and ``--checkruns`` check runs, and ``--triggers`` triggers spread
over the last ``--days`` days (types and severities in realistic shares; 95 % of those
older than 90 days acknowledged, 40 % of the newer), each flagging its vendor's
assessment (the flags of the last 1 % of the span unresolved). Rows go in chunks
through ``executemany`` on SQLite and ``COPY`` on PostgreSQL. Prints one JSON line of
timings and sizes.

The sources' next due times are spread over one interval, as a daemon that has run for
a while leaves them, so a daemon started on the seeded database has an even load.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, insert, text, update
from sqlalchemy.engine import Engine

from .workload import Doc, documents, reassess_config

CHUNK = 20_000
TYPES = (("subprocessor_change", 0.25), ("incident", 0.35), ("model_change", 0.15),
         ("new_capability", 0.1), ("policy_change", 0.06), ("training_data_change", 0.04),
         ("review_due", 0.05))
SEVERITIES = (("low", 0.35), ("medium", 0.4), ("high", 0.2), ("critical", 0.05))
KIND_TYPES = {"subprocessors": "subprocessor_change", "incidents": "incident",
              "changelog": "model_change"}


def _pick(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    x, acc = rng.random(), 0.0
    for value, share in table:
        acc += share
        if x < acc:
            return value
    return table[-1][0]


def _chunks(rows: Iterator[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def write_rows(engine: Engine, table: Any, rows: Iterator[dict[str, Any]]) -> int:
    """Insert ``rows`` into ``table``: COPY on PostgreSQL, executemany on SQLite."""
    n = 0
    if engine.dialect.name == "postgresql":
        from psycopg.types.json import Json

        cols = [c.name for c in table.columns if c.name != "id"]
        json_cols = {c.name for c in table.columns if c.type.__class__.__name__ == "JSON"}
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            names = ", ".join(f'"{c}"' for c in cols)
            with cur.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row([Json(row.get(c)) if c in json_cols and row.get(c)
                                    is not None else row.get(c) for c in cols])
                    n += 1
            raw.commit()
        finally:
            raw.close()
        return n
    for chunk in _chunks(rows):
        with engine.begin() as conn:
            conn.execute(insert(table), chunk)
        n += len(chunk)
    return n


def seed(url: str, config_path: Path, *, sources: int, triggers: int, checkruns: int,
         base_url: str, interval: str, days: int, seed_value: int = 1,
         analyze: bool = True) -> dict[str, Any]:
    from config import load_config
    from monitor.check.pipeline import Checker
    from storage.db import open_database
    from storage.models import CheckRun, Snapshot, Source, Trigger

    rng = random.Random(seed_value)
    out: dict[str, Any] = {"sources": sources, "triggers": triggers, "db": url.split("://")[0]}
    docs: list[Doc] = documents(sources)
    config_path.parent.mkdir(parents=True, exist_ok=True)
    body = reassess_config(docs, base_url, Path("seeded"), concurrency=16,
                           interval=interval, tick="1s")
    body = body.replace("database: sqlite:///seeded", f"database: {url}")
    config_path.write_text(body, encoding="utf-8")

    t = time.perf_counter()
    config = load_config(config_path)
    out["config_load_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    engine = open_database(config.database)
    out["migrate_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    Checker(config, engine).sync()
    out["first_sync_s"] = round(time.perf_counter() - t, 2)

    now = datetime.now(UTC)
    period = config.interval_for(config.vendors[0], config.vendors[0].sources[0])
    # Due times spread over one interval, as a daemon that has run a while leaves them.
    t = time.perf_counter()
    with engine.begin() as conn:
        table = Source.__table__  # type: ignore[attr-defined]
        conn.execute(update(table).where(table.c.id == bindparam("_id"))
                     .values(next_due_at=bindparam("due")),
            [{"_id": d.source_id,
              "due": now + timedelta(seconds=rng.uniform(0, period))}
             for d in docs])
    out["spread_due_s"] = round(time.perf_counter() - t, 2)

    document = zlib.compress(b'{"items": []}')

    def snapshots() -> Iterator[dict[str, Any]]:
        for d in docs:
            yield {"source_id": d.source_id, "url": f"{base_url}{d.path}",
                   "fetched_at": now - timedelta(days=days), "http_status": 200,
                   "etag": None, "last_modified": None,
                   "content_hash": f"seed-{d.source_id}", "parser_version": "seed",
                   "kind": d.kind, "document": document, "body": None,
                   "content_type": "text/html", "size": 0}

    t = time.perf_counter()
    out["snapshot_rows"] = write_rows(engine, Snapshot.__table__, snapshots())  # type: ignore[attr-defined]
    out["snapshots_s"] = round(time.perf_counter() - t, 2)

    def runs() -> Iterator[dict[str, Any]]:
        for d in docs:
            for k in range(checkruns):
                yield {"source_id": d.source_id, "worker": "seed:1",
                       "started_at": now - timedelta(seconds=period * (checkruns - k)),
                       "duration_ms": 12, "outcome": "not_modified", "http_status": 304,
                       "error": None, "snapshot_id": None, "changes": 0, "triggers": 0}

    t = time.perf_counter()
    out["checkrun_rows"] = write_rows(engine, CheckRun.__table__, runs())  # type: ignore[attr-defined]
    out["checkruns_s"] = round(time.perf_counter() - t, 2)

    span = days * 86400.0

    def trigger_rows() -> Iterator[dict[str, Any]]:
        for i in range(triggers):
            d = docs[rng.randrange(len(docs))]
            ttype = _pick(rng, TYPES)
            created = now - timedelta(seconds=span * (1 - i / max(triggers, 1)))
            # Reviewed as they come: of a trigger older than 90 days, 95 % were
            # acknowledged; of a newer one, 40 %. A few of each were suppressed by a rule.
            old = created < now - timedelta(days=90)
            x = rng.random()
            status = "acknowledged" if x < (0.95 if old else 0.4) else \
                "suppressed" if x < (0.97 if old else 0.43) else "open"
            entity = f"Entity {rng.randrange(5000)}"
            yield {"dedupe_key": f"seed-{i:012d}", "schema_version": 1, "type": ttype,
                   "severity": _pick(rng, SEVERITIES),
                   "title": f"{d.vendor}: {ttype.replace('_', ' ')} — {entity}",
                   "vendor_id": d.vendor, "source_id": d.source_id, "assessment_id": None,
                   "entities": [entity], "evidence": {"quote": f"{entity} was added",
                                                      "url": f"{base_url}{d.path}"},
                   "changes": [],
                   "channels": [],
                   "old_snapshot_id": None, "new_snapshot_id": None, "created_at": created,
                   "status": status,
                   "acked_by": "seed" if status == "acknowledged" else None,
                   "acked_at": created if status == "acknowledged" else None,
                   "ack_note": None, "rule": None}

    t = time.perf_counter()
    out["trigger_rows"] = write_rows(engine, Trigger.__table__, trigger_rows())  # type: ignore[attr-defined]
    out["triggers_s"] = round(time.perf_counter() - t, 2)

    # Each trigger flags its vendor's assessment (resolved but for the last 1 %).
    t = time.perf_counter()
    with engine.begin() as conn:
        cutoff = now - timedelta(seconds=span * 0.01)
        conn.execute(text(
            'INSERT INTO assessmentflag (assessment_id, trigger_id, created_at, resolved_at) '
            "SELECT vendor_id || '-review', id, created_at, "
            "CASE WHEN created_at < :cutoff THEN created_at END FROM \"trigger\" "
            "WHERE dedupe_key LIKE 'seed-%'"), {"cutoff": cutoff})
        out["flag_rows"] = int(conn.execute(text(
            "SELECT count(*) FROM assessmentflag")).scalar_one())
    out["flags_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            if analyze:  # as autovacuum leaves a table: statistics and visibility map
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                    text("VACUUM ANALYZE"))
            out["db_bytes"] = int(conn.execute(text(
                "SELECT pg_database_size(current_database())")).scalar_one())
        else:
            if analyze:
                conn.execute(text("ANALYZE"))
                conn.commit()
            page = conn.execute(text("PRAGMA page_size")).scalar_one()
            out["db_bytes"] = int(page * conn.execute(text("PRAGMA page_count")).scalar_one())
            conn.commit()
    out["analyze_s"] = round(time.perf_counter() - t, 2)
    engine.dispose()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.seed", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--sources", type=int, default=100_000)
    parser.add_argument("--triggers", type=int, default=1_000_000)
    parser.add_argument("--checkruns", type=int, default=5, help="per source")
    parser.add_argument("--db", required=True, help="database URL (a new, empty database)")
    parser.add_argument("--config", type=Path, required=True, help="config file to write")
    parser.add_argument("--base-url", default="http://127.0.0.1:9",
                        help="the simulated vendor site the sources point at")
    parser.add_argument("--interval", default="15m")
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    out = seed(args.db, args.config, sources=args.sources, triggers=args.triggers,
               checkruns=args.checkruns, base_url=args.base_url, interval=args.interval,
               days=args.days)
    out["total_s"] = round(time.perf_counter() - started, 2)
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
