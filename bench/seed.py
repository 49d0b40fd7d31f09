"""Seed a large install quickly: N sources in a config, and a history of triggers.

    python -m bench.seed --sources 100000 --triggers 1000000 --db URL \\
        --config /tmp/big/reassess.yaml [--base-url http://127.0.0.1:PORT] [--checkruns 5]

Writes the config (N/3 vendors of three sources each, laid out as the simulated vendor
site serves them, one assessment per vendor, every source at ``--interval``), migrates
the database and syncs the config to it with reassess's own sync (timed: the first
start of a daemon on that config does the same), then writes the history: per source
its true baseline and ``--checkruns`` check runs (the first the baseline's, the others
304s), and ``--triggers`` triggers spread
over the last ``--days`` days (types and severities in realistic shares; 95 % of those
older than 90 days acknowledged, 40 % of the newer), each flagging its vendor's
assessment (the flags of the last 1 % of the span unresolved). Rows go in chunks
through ``executemany`` on SQLite and ``COPY`` on PostgreSQL. Prints one JSON line of
timings and sizes.

A true baseline is what a source's first check stores: the document the simulated
site serves at its URL (rendered in-process from the site's own state, which a slug
alone determines), run through the check's own pure stages (``triage``, the kind's
parse, ``conclude`` → ``baseline``, ``settle``) and stored as its snapshot (the parsed
document and the raw body, compressed as the check compresses them), with the ETag and
Last-Modified the site sends (its ETag hashes the rendered text without the per-request
noise; its Last-Modified is the content's own date), the body hash, content hash and
parser version on the source. A daemon started on the seeded database is answered 304;
asked without validators it finds every document unchanged; nothing fires. Parsing is
most of the cost (about 10 ms a document), so ``--workers`` forked processes share it
and the result is kept under ``--cache`` for the next seed of the same documents.
(Snapshots and triggers seeded here are not entered in the hash chain.)

The sources' next due times are spread over one interval, as a daemon that has run for
a while leaves them, so a daemon started on the seeded database has an even load.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import pickle
import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, insert, text, update
from sqlalchemy.engine import Engine

from .procs import ROOT
from .workload import Doc, documents, reassess_config

CHUNK = 20_000
BASELINE_CHUNK = 300  # documents a baseline worker takes at a time
CACHE = Path("/tmp/reassess-bench/cache")
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


def update_sources(engine: Engine, rows: list[dict[str, Any]]) -> None:
    """Set columns of many ``source`` rows (``_id``: which): on PostgreSQL through a
    temporary table filled by ``COPY`` and one ``UPDATE … FROM``; on SQLite an
    ``executemany``."""
    from storage.models import Source

    if not rows:
        return
    table = Source.__table__  # type: ignore[attr-defined]
    cols = [c for c in rows[0] if c != "_id"]
    if engine.dialect.name != "postgresql":
        with engine.begin() as conn:
            conn.execute(update(table).where(table.c.id == bindparam("_id"))
                         .values({c: bindparam(c) for c in cols}), rows)
        return
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("CREATE TEMPORARY TABLE seed_source ON COMMIT DROP AS "
                    f"SELECT id AS _id, {', '.join(cols)} FROM source WITH NO DATA")
        with cur.copy(f"COPY seed_source (_id, {', '.join(cols)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row["_id"], *(row[c] for c in cols)])
        cur.execute(f"UPDATE source SET {', '.join(f'{c} = s.{c}' for c in cols)} "
                    "FROM seed_source s WHERE source.id = s._id")
        raw.commit()
    finally:
        raw.close()


# --- true baselines: what a first check stores ---------------------------------------------

# One worker's share of the documents: (source id, vendor slug, document name) rows.
_Work = list[tuple[str, str, str]]
# What a first check of one document stores: the source's validators and hashes, and its
# snapshot (the parsed document and the raw body, compressed as the check compresses them).
BASELINE_FIELDS = ("source_id", "etag", "last_modified", "content_type", "body_hash",
                   "content_hash", "parser_version", "kind", "document", "size", "body")
_WATCHES: dict[str, Any] = {}  # the config's watches, set before the workers fork
_GUARD: Any = None


def _baseline_chunk(work: _Work) -> list[tuple[Any, ...]]:
    """Render each document as the site serves it and run a first check's decision on it:
    the kind's parse, ``conclude`` on a source with no current document (``baseline``)
    and ``settle`` (the compressed forms a snapshot stores). Pure: no I/O."""
    from monitor.check.analyse import PARSE, SourceState, conclude, parse_body, triage
    from monitor.check.persist import settle
    from monitor.demo.vendorsite.render import render
    from monitor.demo.vendorsite.state import build_vendor
    from sources.fetch import FetchResult

    out: list[tuple[Any, ...]] = []
    state = None
    started = datetime.now(UTC)
    for source_id, vendor, name in work:
        if state is None or state.slug != vendor:
            state = build_vendor(vendor)  # the site's own state for this slug
        rendered = render(state, name)  # its body, ETag and Last-Modified
        body = rendered.body()[0]
        watch = _WATCHES[source_id]
        fetched = FetchResult(source_id, "", status=200, body=body, etag=rendered.etag,
                              last_modified=rendered.last_modified,
                              content_type=rendered.content_type)
        empty = SourceState(id=source_id)
        result = triage(watch, empty, fetched, started)
        if result.outcome != PARSE:
            raise RuntimeError(f"{source_id}: a first check would not parse ({result.outcome})")
        result = conclude(result, watch, empty, parse_body(watch, body), _NoReader(), None,
                          _GUARD)
        if result.outcome != "baseline":
            raise RuntimeError(f"{source_id}: a first check would record {result.outcome} "
                               f"({result.reason or result.error}), not a baseline")
        settle(result)
        doc = result.document
        out.append((source_id, rendered.etag, rendered.last_modified, rendered.content_type,
                    result.body_hash, doc.hash, doc.parser_version, doc.kind,  # type: ignore[union-attr]
                    doc.blob, doc.size, doc.body))  # type: ignore[union-attr]
    return out


class _NoReader:
    """A source without a current document reads nothing stored (``conclude``'s baseline)."""

    def document(self, snapshot_id: int) -> Any:
        raise LookupError(snapshot_id)

    def body(self, snapshot_id: int) -> bytes | None:
        raise LookupError(snapshot_id)

    def recent(self, source_id: str, n: int, parser_version: str) -> dict[str, int]:
        raise LookupError(source_id)

    def reparse(self, watch: Any, body: bytes) -> Any:
        raise LookupError(watch)


def _cache_key(watches: dict[str, Any]) -> str:
    """What the baselines depend on: the site's code and data, the parser versions and
    the settings of the kinds watched (a change to any computes them again)."""
    from sources import parser_version

    digest = hashlib.sha256()
    site = ROOT / "monitor" / "demo"
    for path in sorted(p for p in site.rglob("*") if p.is_file() and "__pycache__" not in
                       p.parts):
        digest.update(str(path.relative_to(site)).encode() + b"\0" + path.read_bytes())
    kinds = sorted({(w.kind.NAME, parser_version(w.kind), w.settings.model_dump_json())
                    for w in watches.values()})
    digest.update(repr(kinds).encode())
    return digest.hexdigest()[:16]


def baselines(docs: list[Doc], watches: dict[str, Any], guard: Any, *, workers: int,
              cache: Path | None, log: Any = None) -> Iterator[tuple[Any, ...]]:
    """Each document's baseline (``BASELINE_FIELDS``), in ``docs``' order: computed in
    ``workers`` forked processes (the parse is most of the cost, about 10 ms a document),
    and kept under ``cache`` (keyed by the site's code and the parsers' versions) so the
    next seed of the same documents reads them back instead."""
    global _GUARD
    chunks = [docs[i:i + BASELINE_CHUNK] for i in range(0, len(docs), BASELINE_CHUNK)]
    folder = None
    if cache is not None:
        folder = cache / f"baselines-{_cache_key(watches)}-{len(docs)}"
        done = folder / "complete"
        if done.exists():
            for i in range(len(chunks)):
                with (folder / f"{i:05d}.pkl").open("rb") as fh:
                    yield from pickle.load(fh)
            return
        folder.mkdir(parents=True, exist_ok=True)
    work = [[(d.source_id, d.vendor, d.path.split("/", 2)[2]) for d in chunk]
            for chunk in chunks]
    _WATCHES.clear()
    _WATCHES.update(watches)
    _GUARD = guard
    started = time.monotonic()
    if workers <= 1 or len(work) <= 1:
        results: Iterator[list[tuple[Any, ...]]] = map(_baseline_chunk, work)
        pool = None
    else:
        pool = multiprocessing.get_context("fork").Pool(workers)
        results = pool.imap(_baseline_chunk, work)
    try:
        for i, rows in enumerate(results):
            if folder is not None:
                with (folder / f"{i:05d}.pkl").open("wb") as fh:
                    pickle.dump(rows, fh, protocol=pickle.HIGHEST_PROTOCOL)
            if log is not None and (i + 1) % 20 == 0:
                log(f"baselines: {(i + 1) * BASELINE_CHUNK} of {len(docs)} "
                    f"({time.monotonic() - started:.0f} s)")
            yield from rows
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
    if folder is not None:
        (folder / "complete").write_text(f"{len(docs)}\n")


def seed(url: str, config_path: Path, *, sources: int, triggers: int, checkruns: int,
         base_url: str, interval: str, days: int, seed_value: int = 1,
         analyze: bool = True, workers: int = 2, cache: Path | None = None,
         log: Any = None, concurrency: int = 16) -> dict[str, Any]:
    from config import load_config
    from monitor.check.pipeline import Checker
    from storage.db import open_database
    from storage.models import CheckRun, Snapshot, Trigger

    rng = random.Random(seed_value)
    out: dict[str, Any] = {"sources": sources, "triggers": triggers, "db": url.split("://")[0]}
    docs: list[Doc] = documents(sources)
    config_path.parent.mkdir(parents=True, exist_ok=True)
    body = reassess_config(docs, base_url, Path("seeded"), concurrency=concurrency,
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
    first = now - timedelta(seconds=period * max(checkruns, 1))  # the first check's time

    # Each source's first check, as the daemon would have made it (cached on disk).
    from monitor.check.pipeline import build_watches

    t = time.perf_counter()
    state: dict[str, tuple[Any, ...]] = {}  # source id -> what its row keeps of the check

    def snapshots() -> Iterator[dict[str, Any]]:
        for d, b in zip(docs, baselines(docs, build_watches(config), config.guard,
                                        workers=workers, cache=cache, log=log), strict=True):
            row = dict(zip(BASELINE_FIELDS, b, strict=True))
            if row["source_id"] != d.source_id:
                raise RuntimeError(f"baseline of {row['source_id']} where {d.source_id} was due")
            state[d.source_id] = (row["etag"], row["last_modified"], row["body_hash"],
                                  row["content_hash"], row["parser_version"])
            yield {**row, "url": f"{base_url}{d.path}", "fetched_at": first,
                   "http_status": 200}

    out["snapshot_rows"] = write_rows(engine, Snapshot.__table__, snapshots())  # type: ignore[attr-defined]
    out["baselines_s"] = round(time.perf_counter() - t, 2)
    with engine.connect() as conn:
        snapshot_ids = {str(s): int(i) for i, s in conn.execute(text(
            "SELECT id, source_id FROM snapshot"))}

    # The sources' rows as their last check left them (``persist._source_update``): the
    # validators and body hash of the document the site serves, its snapshot current,
    # and the next due times spread over one interval, as a daemon that has run a while
    # leaves them, so a daemon started on the seeded database has an even load.
    t = time.perf_counter()
    rows = []
    for d in docs:
        etag, modified, body_hash, content_hash, version = state[d.source_id]
        due = now + timedelta(seconds=rng.uniform(0, period))
        checked = due - timedelta(seconds=period)
        rows.append({"_id": d.source_id, "etag": etag, "last_modified": modified,
                     "body_hash": body_hash, "current_hash": content_hash,
                     "parser_version": version, "current_snapshot_id": snapshot_ids[d.source_id],
                     "next_due_at": due, "last_checked_at": checked, "last_success_at": checked,
                     "last_outcome": "not_modified" if checkruns > 1 else "baseline",
                     "consecutive_failures": 0, "last_error": None})
    update_sources(engine, rows)
    out["source_state_s"] = round(time.perf_counter() - t, 2)

    def runs() -> Iterator[dict[str, Any]]:
        for d in docs:
            for k in range(checkruns):
                base = k == 0
                yield {"source_id": d.source_id, "worker": "seed:1",
                       "started_at": now - timedelta(seconds=period * (checkruns - k)),
                       "duration_ms": 40 if base else 12,
                       "outcome": "baseline" if base else "not_modified",
                       "http_status": 200 if base else 304, "error": None,
                       "snapshot_id": snapshot_ids[d.source_id] if base else None,
                       "changes": 0, "triggers": 0}

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
                auto = conn.execution_options(isolation_level="AUTOCOMMIT")
                # The seed's triggers moved each vendor's vendor_activity row ~30 times in
                # one burst (a day's first trigger moves it): 89 MB of dead versions for
                # 33,334 rows, which a year of autovacuum between those days would never
                # have let pile up. Compacted, as an install's table is (3 MB); left, it
                # doubled the dashboard's busiest query (46 ms against 26).
                auto.execute(text("VACUUM FULL vendor_activity"))
                auto.execute(text("VACUUM ANALYZE"))
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
    parser.add_argument("--workers", type=int, default=2,
                        help="processes computing the baselines (render and parse)")
    parser.add_argument("--cache", type=Path, default=CACHE,
                        help="where computed baselines are kept for the next seed")
    args = parser.parse_args(argv)

    def log(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    started = time.perf_counter()
    out = seed(args.db, args.config, sources=args.sources, triggers=args.triggers,
               checkruns=args.checkruns, base_url=args.base_url, interval=args.interval,
               days=args.days, workers=args.workers, cache=args.cache, log=log)
    out["total_s"] = round(time.perf_counter() - started, 2)
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
