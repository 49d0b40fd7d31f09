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
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, event, insert, select, text, update
from sqlalchemy.engine import Connection
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


_PLAIN = re.compile(r"[0-9A-Za-z:.+_ -]*")  # text whose JSON string is itself in quotes


def link_hash(seq: int, at: str, object_type: str, object_id: str, content_hash: str,
              prev_hash: str) -> str:
    """sha256 of the canonical ``[seq, at, object_type, object_id, content_hash,
    prev_hash]``; written directly when every string is plain (always, for the records
    reassess writes: the walk of a million records is mostly this)."""
    if type(seq) is int and _PLAIN.fullmatch(at + object_type + object_id + content_hash
                                             + prev_hash):
        text_ = f'[{seq},"{at}","{object_type}","{object_id}","{content_hash}","{prev_hash}"]'
        return hashlib.sha256(text_.encode()).hexdigest()
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


TextHashes = tuple[str, str | None]  # sha256 of a snapshot's document text and raw body


def snapshot_content(row: Any, *, texts: bool = True,
                     known: TextHashes | None = None) -> dict[str, Any]:
    """A snapshot's content: its columns, the stored blobs by their sha256 (``_zsha256``)
    and, with ``texts``, the document and raw body they hold (``_sha256``: what an
    evidence bundle's files are checked against). ``known``: those two hashes, from the
    writer that compressed the texts (else the blobs are decompressed to hash them)."""
    found = _content(row, SNAPSHOT_COLUMNS)
    document, body = row["document"], row["body"]
    found["document_zsha256"] = sha256(bytes(document))
    found["body_zsha256"] = sha256(bytes(body)) if body is not None else None
    if texts and known is not None:
        found["document_sha256"], found["body_sha256"] = known
    elif texts:
        found["document_sha256"] = sha256(zlib.decompress(document))
        found["body_sha256"] = sha256(zlib.decompress(body)) if body is not None else None
    return found


# --- recording and appending ---------------------------------------------------------------


@dataclass
class _Pending:
    # → the content hash when known already (a pruned record's, a snapshot's just
    # inserted), else ``None``: the row is read and hashed at commit
    items: dict[tuple[str, str], str | None] = field(default_factory=dict)


def record(session: Session | Connection, object_type: str, object_id: int | str) -> None:
    """Chain this row's state when the transaction commits (its final state then)."""
    if not isinstance(session, OrmSession):
        return  # a bare connection (migrations, tests) is not chained
    pending = session.info.setdefault(_PENDING, _Pending())
    pending.items[(object_type, str(object_id))] = None


def record_snapshot(session: Session | Connection, snapshot_id: int,
                    values: dict[str, Any], texts: TextHashes | None = None) -> None:
    """Chain a snapshot just inserted with ``values`` (every column but its id): its
    content hashed from those values, not read back at commit with its blobs. A
    snapshot row is never updated (retention deletes it, chained as ``pruned``), so the
    values are its final state; the content is the one ``verify`` hashes from the row.
    ``texts``: the sha256 of the document text and raw body the blobs hold, when the
    caller has them (``snapshot_content``'s ``known``)."""
    if not isinstance(session, OrmSession):
        return
    try:
        content = sha256(canonical(snapshot_content({**values, "id": snapshot_id},
                                                    known=texts)))
    except KeyError:  # not every column given: read at commit, as any other row
        record(session, "snapshot", snapshot_id)
        return
    pending = session.info.setdefault(_PENDING, _Pending())
    pending.items[("snapshot", str(snapshot_id))] = content


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
    for (t, i), known in items.items():
        if known is not None:
            hashes[(t, i)] = known
        else:
            by_type.setdefault(t, []).append(int(i))
    for t, ids in by_type.items():
        rows = session.execute(_ROWS[t], {"ids": ids}).mappings()
        content = _TABLES[t][1]
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
    session.execute(_RECORDS, rows)
    session.execute(_MOVE_HEAD, {"new_seq": seq, "new_hash": prev})
    return len(rows)


def lock_head(session: Session) -> tuple[int, str]:
    """The head (seq, hash), locked until the transaction ends."""
    stmt = _HEAD_LOCKED if session.get_bind().dialect.name == "postgresql" else _HEAD
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

# An append's statements, built once: every check batch that stores a trigger runs them,
# and building one cost more Python than running its cached compiled form.
_ROWS = {t: select(table).where(table.c.id.in_(bindparam("ids", expanding=True)))
         for t, (table, _) in _TABLES.items()}
_RECORDS = insert(ChainRecord.__table__)  # type: ignore[attr-defined]
_HEAD_TABLE = ChainHead.__table__  # type: ignore[attr-defined]
_MOVE_HEAD = (update(_HEAD_TABLE).where(_HEAD_TABLE.c.id == 1)
              .values(seq=bindparam("new_seq"), hash=bindparam("new_hash")))
_HEAD = select(_HEAD_TABLE.c.seq, _HEAD_TABLE.c.hash).where(_HEAD_TABLE.c.id == 1)
_HEAD_LOCKED = _HEAD.with_for_update()


# --- reading records (evidence bundles) ------------------------------------------


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
