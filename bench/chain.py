"""``python -m bench.chain``: how long ``reassess verify`` takes over a large history.

Builds a database with N chained records (by default a million: half triggers, a fifth
snapshots with a small raw body, the rest audit events), appended through
``storage.chain.append`` in batches like the check path does, then times
``storage.verify.verify`` (what ``reassess verify`` runs). The figures go to
``docs/evidence.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from storage import chain
from storage.db import open_database, session_scope
from storage.models import AuditEvent, Snapshot, Trigger
from storage.verify import verify

BATCH = 5000


def build(url: str, n: int) -> float:
    engine = open_database(url)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    t0 = time.perf_counter()
    shares = (("trigger", n // 2), ("snapshot", n // 5), ("audit", n - n // 2 - n // 5))
    for kind, count in shares:
        for first in range(1, count + 1, BATCH):
            ids = range(first, min(first + BATCH, count + 1))
            rows = [_row(kind, i, start + timedelta(seconds=i)) for i in ids]
            with session_scope(engine) as s:
                table = {"trigger": Trigger, "snapshot": Snapshot,
                         "audit": AuditEvent}[kind].__table__  # type: ignore[attr-defined]
                s.execute(insert(table), rows)
                chain.append(s, {(kind, str(i)): None for i in ids})
    engine.dispose()
    return time.perf_counter() - t0


def _row(kind: str, i: int, at: datetime) -> dict[str, object]:
    if kind == "trigger":
        return {"id": i, "dedupe_key": f"k{i}", "schema_version": 1, "type": "model_change",
                "severity": "medium", "title": f"Model acme-{i} released", "vendor_id": "acme",
                "source_id": "acme-changelog", "entities": [f"acme-{i}"],
                "evidence": {"excerpt": f"acme-{i} is now available"},
                "changes": [{"op": "added", "key": f"acme-{i}", "before": None,
                             "after": {"name": f"acme-{i}"}}],
                "channels": [], "created_at": at, "status": "open"}
    if kind == "snapshot":
        return {"id": i, "source_id": f"s{i % 200}", "url": "https://vendor.example/changelog",
                "fetched_at": at, "http_status": 200, "content_hash": f"{i:064x}",
                "parser_version": "1", "kind": "changelog",
                "document": zlib.compress(b'{"entries": []}' * 20),
                "body": zlib.compress(b"<html><body>release notes</body></html>" * 40, 1),
                "content_type": "text/html", "size": 1}
    return {"id": i, "at": at, "by": "alice", "action": "acknowledged",
            "object_type": "trigger", "object_id": str(i), "note": "seen",
            "data": {"from": "open", "to": "acknowledged"}}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.chain")
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--database", help="a database URL (default: a new SQLite file)")
    parser.add_argument("--verify-only", action="store_true",
                        help="time verify on --database as it is (built by an earlier run)")
    parser.add_argument("--workers", type=int, default=None,
                        help="verify's worker processes (default: one per CPU; 1: none)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{Path(tmp) / 'chain.db'}"
        built = 0.0 if args.verify_only else build(url, args.records)
        engine = open_database(url)
        t0, c0 = time.perf_counter(), time.process_time()
        verdict = verify(engine, workers=args.workers)
        took, cpu = time.perf_counter() - t0, time.process_time() - c0
        engine.dispose()
    result = {"records": verdict.records, "rows": verdict.rows, "ok": verdict.ok,
              "build_s": round(built, 1), "verify_s": round(took, 1), "verify_cpu_s": round(cpu, 1),
              "records_per_s": round(verdict.records / took) if took else None,
              "backend": url.split(":", 1)[0], "workers": args.workers or os.cpu_count()}
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
