"""``reassess verify``: walk the hash chain (``storage/chain.py``) and every chained row.

Each link is recomputed and the head compared with the last record; then every trigger,
snapshot and audit event is read and its content hash compared with its latest record.
Reads never take SQLite's write lock, and PostgreSQL reads in REPEATABLE READ, so a
verify sees one consistent view while daemons write. A large history is hashed by worker
processes while the chain is walked: a clean answer is taken as it is, anything else is
checked again in the walk's own consistent view (a write between the two views is not a
tamper). Figures: ``python -m bench.chain``, docs/evidence.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, LargeBinary, select, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import col

from .chain import _TABLES, GENESIS, PRUNED, _is_time, canonical, link_hash, sha256, stamp
from .db import bound, make_engine
from .models import ChainHead


@dataclass
class Problem:
    seq: int | None
    object_type: str | None
    object_id: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "object_type": self.object_type,
                "object_id": self.object_id, "reason": self.reason}

    def line(self) -> str:
        what = f"{self.object_type} {self.object_id}" if self.object_type else "the chain"
        where = f" (chain record {self.seq})" if self.seq is not None else ""
        return f"{what}{where}: {self.reason}"


@dataclass
class Verdict:
    records: int = 0
    rows: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0

    @property
    def ok(self) -> bool:
        return not self.problem_count

    def first(self) -> Problem | None:
        if not self.problems:
            return None
        return min(self.problems, key=lambda p: (p.seq is None, p.seq or 0))

    def to_dict(self) -> dict[str, Any]:
        first = self.first()
        return {"ok": self.ok, "records": self.records, "rows": self.rows,
                "head": {"seq": self.head_seq, "hash": self.head_hash},
                "problems": self.problem_count,
                "first": first.to_dict() if first else None,
                "message": first.line() if first else "the chain and every row match"}


KEEP = 100  # problems kept for the report (all are counted)


def _note(verdict: Verdict, problem: Problem) -> None:
    verdict.problem_count += 1
    if len(verdict.problems) < KEEP:
        verdict.problems.append(problem)


def walk(conn: Connection, batch: int = 20000) -> Iterator[tuple[Any, ...]]:
    """The chain's records in order, ``batch`` at a time (keyset)."""
    after = 0
    stmt = text("SELECT seq, at, object_type, object_id, content_hash, prev_hash, hash "
                "FROM chain_record WHERE seq > :after ORDER BY seq LIMIT :n")
    while True:
        rows = conn.execute(stmt, {"after": after, "n": batch}).all()
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1][0]


def verify(engine: Engine, batch: int = 20000, workers: int | None = None) -> Verdict:
    """Walk the chain, then every chained table: the first record or row that does not
    match, and how many do not. A large history is hashed by ``workers`` processes while
    this one walks the chain: by default one per CPU from four CPUs on (on two shared
    cores the workers only compete with the walk: ``bench/chain.py`` measured it)."""
    import os
    from array import array

    verdict = Verdict()
    latest: dict[str, tuple[int, str]] = {}  # "type:id" → (seq, content hash)
    if workers is None:
        cpus = os.cpu_count() or 1
        workers = cpus if cpus >= MIN_CPUS else 1
    futures = _parallel(engine, workers, batch)
    with _reader(engine) as conn:
        prev, expect = GENESIS, 1
        for seq, at, t, i, content, prev_hash, hash_ in walk(conn, batch):
            verdict.records += 1
            if seq != expect:
                _note(verdict, Problem(seq, t, i, f"records {expect}–{seq - 1} are missing"))
            if prev_hash != prev:
                _note(verdict, Problem(seq, t, i, "its previous hash does not match the record "
                                                  "before it"))
            if link_hash(seq, _time(at) or "", t, i, content, prev_hash) != hash_:
                _note(verdict, Problem(seq, t, i, "its hash does not match its content"))
            latest[f"{t}:{i}"] = (seq, content)
            prev, expect = hash_, seq + 1
        head = conn.execute(select(col(ChainHead.seq), col(ChainHead.hash))
                            .where(col(ChainHead.id) == 1)).first()
        if head is not None:
            verdict.head_seq, verdict.head_hash = int(head[0]), str(head[1])
        if (verdict.head_seq, verdict.head_hash) != (expect - 1, prev):
            _note(verdict, Problem(None, None, None, f"the head (record {verdict.head_seq}) "
                                   f"is not the last record ({expect - 1}): records were "
                                   "removed or added outside reassess"))
        if futures:
            # the workers read in their own transactions: a clean answer is the answer;
            # anything else (a tamper, or a write between their reads and this one's) is
            # checked again here, in this transaction's one consistent view
            quick = Verdict()
            left = dict(latest)
            for t, future in futures:
                ids_bytes, digests = future.result()
                ids = array("q")
                ids.frombytes(ids_bytes)
                for n, i in enumerate(ids):
                    _compare(quick, left, t, i, digests[32 * n:32 * n + 32].hex())
            _deleted(quick, left)
            if quick.ok:
                verdict.rows = quick.rows
                return verdict
        for t in _TABLES:
            for i, digest in _row_hashes(conn, t, 0, None, batch):
                _compare(verdict, latest, t, i, digest)
        _deleted(verdict, latest)
    return verdict


def _deleted(verdict: Verdict, latest: dict[str, tuple[int, str]]) -> None:
    for key, (seq, content) in latest.items():
        if content == PRUNED:
            continue
        t, _, i = key.partition(":")
        _note(verdict, Problem(seq, t, i, "the row was deleted after it was chained"))


@contextmanager
def _reader(engine: Engine) -> Iterator[Connection]:
    """One read transaction with one consistent view: SQLite's deferred snapshot (never
    the write lock), PostgreSQL's REPEATABLE READ."""
    with bound(engine, write=False).connect() as conn:
        if engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        yield conn


def _time(value: Any) -> str | None:
    """A time read raw from the driver (SQLite: text; PostgreSQL: a datetime), canonical."""
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " ":  # SQLite's form, UTC: rewritten as text
            return f"{value[:10]}T{value[11:]}+00:00"
        return stamp(datetime.fromisoformat(value))
    return stamp(value)


def _row_hashes(conn: Connection, t: str, lo: int, hi: int | None,
                batch: int) -> Iterator[tuple[int, str]]:
    """(id, content hash) of the rows of one chained table with ``lo < id <= hi``. Rows
    are read raw from the driver (no per-value type processing: the bulk of the time
    otherwise) and made what the ORM reads: times canonical, JSON parsed, blobs as bytes."""
    table, content_of = _TABLES[t]
    names = [c.name for c in table.columns]
    times = {c.name for c in table.columns if _is_time(c.type)}
    jsons = {c.name for c in table.columns if isinstance(c.type, JSON)}
    blobs = {c.name for c in table.columns if isinstance(c.type, LargeBinary)}
    quoted = ", ".join(f'"{n}"' for n in names)
    upper = "" if hi is None else " AND id <= :hi"
    stmt = text(f'SELECT {quoted} FROM "{table.name}" WHERE id > :after{upper} '
                "ORDER BY id LIMIT :n")
    at_id = names.index("id")
    fix = [(n, n in times, n in jsons, n in blobs) for n in names]
    after = lo
    while True:
        rows = conn.execute(stmt, {"after": after, "hi": hi, "n": batch}).all()
        for raw in rows:
            row: dict[str, Any] = {}
            for (name, is_time, is_json, is_blob), value in zip(fix, raw, strict=True):
                if value is not None:
                    if is_time:
                        value = _time(value)
                    elif is_json and isinstance(value, str):
                        value = json.loads(value)
                    elif is_blob and not isinstance(value, bytes):
                        value = bytes(value)
                row[name] = value
            yield row["id"], sha256(canonical(content_of(row)))
        if len(rows) < batch:
            return
        after = rows[-1][at_id]


def _hash_range(url: str, t: str, lo: int, hi: int, batch: int) -> tuple[bytes, bytes]:
    """A worker's share of ``verify``: ids (int64s) and sha256 digests (32 bytes each)."""
    from array import array

    engine = make_engine(url)
    ids, digests = array("q"), []
    try:
        with bound(engine, write=False).connect() as conn:
            for i, digest in _row_hashes(conn, t, lo, hi, batch):
                ids.append(i)
                digests.append(bytes.fromhex(digest))
    finally:
        engine.dispose()
    return ids.tobytes(), b"".join(digests)


def _compare(verdict: Verdict, latest: dict[str, tuple[int, str]], t: str, i: int,
             digest: str) -> None:
    verdict.rows += 1
    found = latest.pop(f"{t}:{i}", None)
    if found is None:
        _note(verdict, Problem(None, t, str(i), "the row is not in the chain (written "
                                                "outside reassess)"))
    elif digest != found[1]:
        _note(verdict, Problem(found[0], t, str(i), "the row was altered after it was "
                                                    "chained"))


PARALLEL_ROWS = 200_000  # from this many rows, worker processes hash the tables
CHUNKS_PER_WORKER = 4
MIN_CPUS = 4  # fewer, and verify runs in one process unless told otherwise


def _parallel(engine: Engine, workers: int, batch: int) -> list[Any]:
    """Start hashing the tables in worker processes; the futures, by table and range."""
    import concurrent.futures
    import multiprocessing

    with _reader(engine) as conn:
        spans = {t: conn.execute(text(f'SELECT count(*), max(id) FROM "{table.name}"')).one()
                 for t, (table, _) in _TABLES.items()}
    total = sum(int(n) for n, _ in spans.values())
    if workers < 2 or total < PARALLEL_ROWS:
        return []
    url = engine.url.render_as_string(hide_password=False)
    pool = concurrent.futures.ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"))
    chunk = max(total // (workers * CHUNKS_PER_WORKER), batch)
    futures = []
    for t, (n, top) in spans.items():
        if not n:
            continue
        for lo in range(0, int(top), chunk):
            futures.append((t, pool.submit(_hash_range, url, t, lo, lo + chunk, batch)))
    pool.shutdown(wait=False)
    return futures


