"""The tamper-evident history: every trigger, snapshot and audit event, hash-chained.

What is chained: a trigger when it is stored and again whenever its state changes (ack,
resolve: its latest record covers its current row); a snapshot when stored, and its
pruning by retention (a ``pruned`` record); every audit event (flags, acks, reviews,
resolutions, with who and the note). Check runs are not: an unchanged check appends
nothing and stays cheap.

One canonical encoding (``canonical``): JSON with sorted keys, no spaces, UTF-8, times
as ISO 8601 UTC with microseconds and a ``Z``. A row's content is its columns in that
encoding (a snapshot's compressed document and body replaced by the sha256 of the stored
blob and of the text it holds), and its ``content_hash`` the sha256 of that. A record's
``hash`` is the sha256 of the canonical ``[seq, at, object_type, object_id,
content_hash, prev_hash]``; the first record's ``prev_hash`` is ``GENESIS``.

Rows are hashed as stored, and the stored form is the redacted one (docs/security.md:
no column holds a secret's value), so no secret is ever part of the chain.

Appends are made when the transaction commits (a ``before_commit`` hook): a write
``record``\\ s what it touched, and at commit the rows are read as they stand and
appended under the chain head's lock (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
write lock, taken by ``BEGIN IMMEDIATE``), so appenders on several daemons are
serialised and the head is the last lock a transaction takes (no deadlock).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, LargeBinary, event, insert, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col

from .models import AuditEvent, ChainHead, ChainRecord, Snapshot, Trigger

GENESIS = "0" * 64
PRUNED = "pruned"
TYPES = ("trigger", "snapshot", "audit")
_PENDING = "reassess_chain"


# --- the canonical encoding --------------------------------------------------------------


def stamp(value: datetime | None) -> str | None:
    """A time in the canonical form: UTC, ISO 8601 to the microsecond,
    ``2026-03-01T12:00:00.000000+00:00``."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    elif value.utcoffset():
        value = value.astimezone(UTC)
    return value.isoformat(timespec="microseconds")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return stamp(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} has no canonical form")


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                            default=_plain)


def canonical(value: Any) -> bytes:
    """The one encoding everything is hashed in: JSON, keys sorted, no spaces, UTF-8."""
    return _ENCODER.encode(value).encode("utf-8")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def link_hash(seq: int, at: str, object_type: str, object_id: str, content_hash: str,
              prev_hash: str) -> str:
    return sha256(canonical([seq, at, object_type, object_id, content_hash, prev_hash]))


def _columns(model: Any, skip: tuple[str, ...] = ()) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(plain columns, time columns) of a table."""
    cols = [c for c in model.__table__.columns if c.name not in skip]
    times = tuple(c.name for c in cols if _is_time(c.type))
    return tuple(c.name for c in cols if c.name not in times), times


def _is_time(type_: Any) -> bool:
    from sqlalchemy import DateTime

    return isinstance(getattr(type_, "impl", type_), DateTime)


TRIGGER_COLUMNS = _columns(Trigger)
AUDIT_COLUMNS = _columns(AuditEvent)
SNAPSHOT_COLUMNS = _columns(Snapshot, ("document", "body"))


def _content(row: Any, columns: tuple[tuple[str, ...], tuple[str, ...]]) -> dict[str, Any]:
    found = {c: row[c] for c in columns[0]}
    for c in columns[1]:
        value = row[c]
        found[c] = value if isinstance(value, str) or value is None else stamp(value)
    return found


def trigger_content(row: Any) -> dict[str, Any]:
    return _content(row, TRIGGER_COLUMNS)


def audit_content(row: Any) -> dict[str, Any]:
    return _content(row, AUDIT_COLUMNS)


def snapshot_content(row: Any, *, texts: bool = True) -> dict[str, Any]:
    """A snapshot's content: its columns, the stored blobs by their sha256 (``_zsha256``)
    and, with ``texts``, the document and raw body they hold (``_sha256``: what an
    evidence bundle's files are checked against)."""
    found = _content(row, SNAPSHOT_COLUMNS)
    document, body = row["document"], row["body"]
    found["document_zsha256"] = sha256(bytes(document))
    found["body_zsha256"] = sha256(bytes(body)) if body is not None else None
    if texts:
        found["document_sha256"] = sha256(zlib.decompress(document))
        found["body_sha256"] = sha256(zlib.decompress(body)) if body is not None else None
    return found


# --- recording and appending ---------------------------------------------------------------


@dataclass
class _Pending:
    items: dict[tuple[str, str], str | None] = field(default_factory=dict)  # → pruned hash


def record(session: Session | Connection, object_type: str, object_id: int | str) -> None:
    """Chain this row's state when the transaction commits (its final state then)."""
    if not isinstance(session, OrmSession):
        return  # a bare connection (migrations, tests) is not chained
    pending = session.info.setdefault(_PENDING, _Pending())
    pending.items[(object_type, str(object_id))] = None


def record_pruned(session: Session, object_type: str, ids: Iterable[int | str]) -> None:
    """Chain the deletion of rows by retention (a ``pruned`` record each)."""
    pending = session.info.setdefault(_PENDING, _Pending())
    for i in ids:
        pending.items[(object_type, str(i))] = PRUNED


@event.listens_for(OrmSession, "before_commit")
def _before_commit(session: OrmSession) -> None:
    pending: _Pending | None = session.info.pop(_PENDING, None)
    if pending is None or not pending.items:
        return
    session.flush()
    append(session, pending.items)  # type: ignore[arg-type]


@event.listens_for(OrmSession, "after_rollback")
def _after_rollback(session: OrmSession) -> None:
    session.info.pop(_PENDING, None)


def _contents(session: Session, items: dict[tuple[str, str], str | None]
              ) -> dict[tuple[str, str], str]:
    hashes: dict[tuple[str, str], str] = {}
    by_type: dict[str, list[int]] = {}
    for (t, i), pruned in items.items():
        if pruned is not None:
            hashes[(t, i)] = pruned
        else:
            by_type.setdefault(t, []).append(int(i))
    for t, ids in by_type.items():
        table, content = _TABLES[t]
        rows = session.execute(select(table).where(table.c.id.in_(ids))).mappings()
        for row in rows:
            hashes[(t, str(row["id"]))] = sha256(canonical(content(row)))
    return hashes


def append(session: Session, items: dict[tuple[str, str], str | None],
           now: datetime | None = None) -> int:
    """Append the items' records under the head's lock; how many were appended."""
    hashes = _contents(session, items)
    if not hashes:
        return 0
    seq, prev = lock_head(session)
    at = stamp(now or datetime.now(UTC))
    assert at is not None
    rows = []
    for (t, i) in items:
        content = hashes.get((t, i))
        if content is None:
            continue  # the row is gone within the transaction: nothing to chain
        seq += 1
        link = link_hash(seq, at, t, i, content, prev)
        rows.append({"seq": seq, "at": _parse(at), "object_type": t, "object_id": i,
                     "content_hash": content, "prev_hash": prev, "hash": link})
        prev = link
    if not rows:
        return 0
    session.execute(insert(ChainRecord.__table__), rows)  # type: ignore[attr-defined]
    session.execute(update(ChainHead.__table__).where(  # type: ignore[attr-defined]
        ChainHead.__table__.c.id == 1).values(seq=seq, hash=prev))  # type: ignore[attr-defined]
    return len(rows)


def lock_head(session: Session) -> tuple[int, str]:
    """The head (seq, hash), locked until the transaction ends."""
    stmt = select(col(ChainHead.seq), col(ChainHead.hash)).where(col(ChainHead.id) == 1)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = session.execute(stmt).first()
    if row is None:
        session.execute(text("INSERT INTO chain_head (id, seq, hash) VALUES (1, 0, :g) "
                             "ON CONFLICT (id) DO NOTHING"), {"g": GENESIS})
        row = session.execute(stmt).first()
    assert row is not None
    return int(row[0]), str(row[1])


def _parse(at: str) -> datetime:
    return datetime.fromisoformat(at)


_TABLES: dict[str, tuple[Any, Any]] = {
    "trigger": (Trigger.__table__, trigger_content),  # type: ignore[attr-defined]
    "snapshot": (Snapshot.__table__, snapshot_content),  # type: ignore[attr-defined]
    "audit": (AuditEvent.__table__, audit_content),  # type: ignore[attr-defined]
}


# --- verification ---------------------------------------------------------------------


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
    match, and how many do not. A large history is hashed by ``workers`` processes (one
    per CPU by default) while this one walks the chain."""
    import os
    from array import array

    verdict = Verdict()
    latest: dict[str, tuple[int, str]] = {}  # "type:id" → (seq, content hash)
    futures = _parallel(engine, (os.cpu_count() or 1) if workers is None else workers, batch)
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
    from .db import bound

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

    from .db import bound, make_engine

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


def records_for(conn: Connection | Session, keys: Iterable[tuple[str, str]]
                ) -> dict[tuple[str, str], tuple[int, str]]:
    """The latest record (seq, content hash) of each (type, id)."""
    found: dict[tuple[str, str], tuple[int, str]] = {}
    wanted = list(dict.fromkeys(keys))
    for start in range(0, len(wanted), 500):
        part = wanted[start:start + 500]
        for t in {k[0] for k in part}:
            ids = [k[1] for k in part if k[0] == t]
            for seq, i, content in conn.execute(
                    select(col(ChainRecord.seq), col(ChainRecord.object_id),
                           col(ChainRecord.content_hash))
                    .where(col(ChainRecord.object_type) == t,
                           col(ChainRecord.object_id).in_(ids))):
                if (t, i) not in found or found[(t, i)][0] < seq:
                    found[(t, i)] = (int(seq), str(content))
    return found


def segment(conn: Connection | Session, first: int, last: int) -> list[dict[str, Any]]:
    """Records ``first``..``last`` as JSON-ready dicts (an evidence bundle's chain)."""
    rows = conn.execute(select(ChainRecord.__table__).where(  # type: ignore[attr-defined]
        col(ChainRecord.seq) >= first, col(ChainRecord.seq) <= last)
        .order_by(col(ChainRecord.seq))).mappings()
    return [{"seq": r["seq"], "at": stamp(r["at"]), "object_type": r["object_type"],
             "object_id": r["object_id"], "content_hash": r["content_hash"],
             "prev_hash": r["prev_hash"], "hash": r["hash"]} for r in rows]


def check_segment(records: list[dict[str, Any]]) -> str | None:
    """Why a bundle's chain segment does not hold together, or ``None``."""
    prev: str | None = None
    for r in records:
        if prev is not None and r["prev_hash"] != prev:
            return f"record {r['seq']}: its previous hash does not match the record before it"
        if link_hash(r["seq"], r["at"], r["object_type"], r["object_id"], r["content_hash"],
                     r["prev_hash"]) != r["hash"]:
            return f"record {r['seq']}: its hash does not match its content"
        prev = r["hash"]
    return None
