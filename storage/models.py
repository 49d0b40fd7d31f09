"""The tables: what happened, as evidence.

The config says *what* is watched; these rows say *what happened*: every check, every
snapshot that differed, every trigger, every flag and resolution, every notification.
JSON columns carry a ``schema_version`` where their shape may evolve.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint, text
from sqlmodel import Field, SQLModel
from sqlmodel.main import SQLModelConfig

# The check path writes these tables with SQLAlchemy statements and reads them as rows:
# pydantic's validator and serialiser for each table class are built the first time
# something validates or dumps one (the web API, a test), not at every start-up.
_DEFERRED = SQLModelConfig(defer_build=True)


def _json(**kw: Any) -> Any:
    return Field(default=None, sa_column=Column(JSON, **kw))


# An active source whose last checks failed or whose content vanished.
FAILING = "active AND (consecutive_failures > 0 OR alert_state <> 'ok')"


class Vendor(SQLModel, table=True):
    model_config = _DEFERRED
    id: str = Field(primary_key=True, max_length=80)
    name: str
    owner: list[str] | None = _json()
    active: bool = True


class Source(SQLModel, table=True):
    """A watched URL with its schedule, HTTP validators and health."""
    model_config = _DEFERRED
    __table_args__ = (
        # The dashboard's failing sources: only those rows, not every source (a partial
        # index holds no healthy source, so a check that stays healthy never writes it).
        Index("ix_source_failing", "id", postgresql_where=text(FAILING),
              sqlite_where=text(FAILING)),
    )

    id: str = Field(primary_key=True, max_length=80)
    vendor_id: str = Field(index=True, max_length=80)
    kind: str = Field(max_length=40)
    url: str
    interval_s: float = 3600.0
    active: bool = True
    # HTTP validators from the last successful fetch
    etag: str | None = None
    last_modified: str | None = None
    # schedule
    next_due_at: datetime | None = Field(default=None, index=True)
    last_checked_at: datetime | None = None
    last_success_at: datetime | None = None
    last_outcome: str | None = None
    consecutive_failures: int = 0
    last_error: str | None = None
    lease_owner: str | None = None
    lease_until: datetime | None = None
    # state of the content
    current_snapshot_id: int | None = None
    current_hash: str | None = None  # content hash of the current snapshot
    # the parser version the current document matches (its own, or that of a re-parse
    # that gave the same document); another than the kind's means re-parse first
    parser_version: str | None = Field(default=None, max_length=40)
    body_hash: str | None = None  # sha256 of the last fetched raw body: equal => unchanged
    pending_hash: str | None = None  # a change awaiting confirmation or vanish-guard repeat
    pending_count: int = 0
    pending_since: datetime | None = None  # when that pending document was first seen
    alert_state: str = Field(default="ok", index=True)  # ok | failing | vanished


class Snapshot(SQLModel, table=True):
    """Audit evidence: a normalised document and the raw body it was parsed from, stored
    only when the document's hash changes. The raw body also lets a newer parser re-read
    an old version (a technical re-baseline, ``monitor/check/analyse.py``)."""
    model_config = _DEFERRED

    __table_args__ = (UniqueConstraint("source_id", "content_hash", name="uq_snapshot_content"),
                      # a source's (or a vendor's sources') snapshots, newest first
                      Index("ix_snapshot_source_fetched", "source_id", "fetched_at", "id"))

    id: int | None = Field(default=None, primary_key=True)
    source_id: str = Field(max_length=80)
    url: str
    fetched_at: datetime
    http_status: int
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str = Field(max_length=64)
    parser_version: str
    kind: str = Field(max_length=40)
    document: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # zlib(canonical JSON)
    body: bytes | None = Field(default=None, sa_column=Column(LargeBinary))  # zlib(fetched body)
    content_type: str | None = None  # of the fetched body, as the server sent it
    size: int = 0  # items in the document (entities, entries, lines)


class CheckRun(SQLModel, table=True):
    model_config = _DEFERRED
    __table_args__ = (
        # A source's checks (an operator's question; no page or command asks it): by source
        # alone, no started_at in the key. On PostgreSQL a btree deduplicates equal keys
        # into posting lists, ~11 B a row where (source_id, started_at) took ~54-61 B in
        # pages half-split by scattered inserts; the rows of one source still come in id
        # order (SQLite keeps rowid in the entry, PostgreSQL the heap order).
        Index("ix_checkrun_source", "source_id"),
        # Retention keeps a snapshot a kept check run names: it asks for a page of old
        # snapshots at a time. A source's checks name one snapshot for as long as it is
        # current, so on PostgreSQL the entries deduplicate to a few bytes a row.
        Index("ix_checkrun_snapshot", "snapshot_id"),
        # Only retention reads by started_at alone (a range, never an order): on PostgreSQL
        # a BRIN, a few bytes per 128 pages of this append-only table instead of ~23 B a
        # row in a btree, kept the size of an unchanged check under 200 B. SQLite: a btree.
        Index("ix_checkrun_started_at", "started_at", postgresql_using="brin"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source_id: str = Field(max_length=80)
    started_at: datetime
    duration_ms: int = 0
    # baseline|unchanged|not_modified|changed|reverted|rebaselined|failed|suspect|pending
    outcome: str = Field(max_length=24)
    http_status: int | None = None
    error: str | None = None
    snapshot_id: int | None = None
    changes: int = 0
    triggers: int = 0
    worker: str | None = None


class Trigger(SQLModel, table=True):
    """A fired re-assessment trigger; ``dedupe_key`` makes a repeat impossible."""
    model_config = _DEFERRED

    # History lists newest first (created_at, id) under one filter at a time: each filter
    # column leads an index that also gives that order, so a page reads only its rows
    # (tests/test_query_plans.py checks every history query's plan).
    __table_args__ = (
        # (vendor_id and severity too: a chart of every vendor reads its window from the index)
        Index("ix_trigger_created", "created_at", "id", "vendor_id", "severity"),
        # (severity too: the dashboard's chart reads its rows' vendors from the index alone,
        # a few entries each, instead of every entry of its 90 days)
        Index("ix_trigger_vendor_created", "vendor_id", "created_at", "id", "severity"),
        Index("ix_trigger_type_created", "type", "created_at", "id"),
        Index("ix_trigger_severity_created", "severity", "created_at", "id"),
        Index("ix_trigger_status_created", "status", "created_at", "id"),
        Index("ix_trigger_source_created", "source_id", "created_at", "id"),
        # the dashboard's and the vendor list's counts of open triggers, from the index alone
        Index("ix_trigger_status_counts", "status", "type", "severity", "vendor_id"),
        # retention keeps every snapshot a trigger names (a page of old snapshots at a time)
        Index("ix_trigger_old_snapshot", "old_snapshot_id"),
        Index("ix_trigger_new_snapshot", "new_snapshot_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(unique=True, max_length=64)
    schema_version: int = 1
    type: str = Field(max_length=40)
    severity: str = Field(max_length=16)
    title: str
    vendor_id: str = Field(max_length=80)
    source_id: str | None = Field(default=None, max_length=80)
    assessment_id: str | None = Field(default=None, max_length=80)  # review_due
    entities: list[str] | None = _json()
    evidence: dict[str, Any] | None = _json()
    changes: list[dict[str, Any]] | None = _json()
    channels: list[str] | None = _json()
    old_snapshot_id: int | None = None
    new_snapshot_id: int | None = None
    created_at: datetime
    status: str = Field(default="open", max_length=16)  # open|acknowledged|suppressed
    acked_by: str | None = None
    acked_at: datetime | None = None
    ack_note: str | None = None
    rule: str | None = None


class VendorActivity(SQLModel, table=True):
    """The UTC day of a vendor's newest trigger (``None``: it has none left), kept by SQL
    triggers on the trigger table (``storage/activity.py``): the dashboard's busy vendors
    are one range of ``ix_vendor_activity_day`` instead of every trigger of 90 days."""
    model_config = _DEFERRED
    __tablename__ = "vendor_activity"
    __table_args__ = (Index("ix_vendor_activity_day", "last_day", "vendor_id"),)

    vendor_id: str = Field(primary_key=True, max_length=80)
    last_day: date | None = None


class TriggerCount(SQLModel, table=True):
    """How many triggers there are of each (type, severity, status): the sum of ``n``
    over a key's rows, kept by SQL triggers on the trigger table (``storage/counts.py``).
    The dashboard's and the summary's open counts, and the history's count under no
    filter or a type/severity/status one, read this small table instead of the triggers.
    On PostgreSQL each write statement appends its own rows (no row two writers share);
    retention folds them. On SQLite a key has one row, updated in place."""
    model_config = _DEFERRED
    __tablename__ = "trigger_count"

    id: int | None = Field(default=None, primary_key=True)
    type: str = Field(max_length=40)
    severity: str = Field(max_length=16)
    status: str = Field(max_length=16)
    n: int = 0


class Assessment(SQLModel, table=True):
    """The stored lifecycle of an assessment from the config register."""
    model_config = _DEFERRED

    id: str = Field(primary_key=True, max_length=80)
    vendor_id: str = Field(index=True, max_length=80)
    system: str = ""
    owner: list[str] | None = _json()
    disposition: str = "pending"
    assessed: date | None = None
    next_review: date | None = None
    review_every: str | None = None
    trigger_types: list[str] | None = _json()
    status: str = Field(default="current", max_length=24)  # current|re_review_required|in_review
    baseline_at: datetime | None = None
    updated_at: datetime | None = None
    active: bool = True


class AssessmentFlag(SQLModel, table=True):
    """A trigger that flagged an assessment for re-review."""
    model_config = _DEFERRED

    __table_args__ = (UniqueConstraint("assessment_id", "trigger_id", name="uq_flag"),
                      # unresolved flags (needs review) without reading the resolved ones
                      Index("ix_flag_unresolved", "resolved_at", "assessment_id", "created_at"))

    id: int | None = Field(default=None, primary_key=True)
    assessment_id: str = Field(index=True, max_length=80)
    trigger_id: int = Field(index=True)
    created_at: datetime
    resolved_at: datetime | None = None


class AuditEvent(SQLModel, table=True):
    """Who did what, when, with which note: acks, flags, reviews, resolutions."""
    model_config = _DEFERRED

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    by: str
    action: str = Field(max_length=40)
    object_type: str = Field(max_length=24)
    object_id: str = Field(max_length=80, index=True)
    note: str | None = None
    data: dict[str, Any] | None = _json()


class Outbox(SQLModel, table=True):
    """A message to deliver to one channel; marked sent only after delivery."""
    model_config = _DEFERRED

    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(unique=True, max_length=120)
    kind: str = Field(max_length=16)  # trigger|alert|digest|test
    channel: str = Field(max_length=80)
    trigger_id: int | None = Field(default=None, index=True)
    payload: dict[str, Any] | None = _json()
    status: str = Field(default="pending", max_length=16)  # pending|digest|sent|failed|batched
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    created_at: datetime
    sent_at: datetime | None = None
    lease_owner: str | None = None
    lease_until: datetime | None = None


class JobLease(SQLModel, table=True):
    """A periodic job (digest, review_due, retention) done once across all daemons."""
    model_config = _DEFERRED

    name: str = Field(primary_key=True, max_length=80)
    owner: str | None = None
    lease_until: datetime | None = None
    last_run_at: datetime | None = None


class ChainRecord(SQLModel, table=True):
    """One link of the tamper-evident history (``storage/chain.py``): a trigger, snapshot
    or audit event as it stood when appended (its content hash), chained to the one
    before. Appended only; ``seq`` is given under the chain head's lock."""
    model_config = _DEFERRED
    __tablename__ = "chain_record"
    __table_args__ = (Index("ix_chain_object", "object_type", "object_id"),)

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime
    object_type: str = Field(max_length=16)  # trigger | snapshot | audit
    object_id: str = Field(max_length=80)
    content_hash: str = Field(max_length=64)  # sha256 of the canonical content, or "pruned"
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class ChainHead(SQLModel, table=True):
    """The chain's last link: the one row every append locks (serialises appenders)."""
    model_config = _DEFERRED
    __tablename__ = "chain_head"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    seq: int = 0
    hash: str = Field(max_length=64)


class DeadlineNotice(SQLModel, table=True):
    """A deadline reminder or overdue notice sent (once: the unique key)."""
    model_config = _DEFERRED
    __tablename__ = "deadline_notice"
    __table_args__ = (UniqueConstraint("trigger_id", "deadline", "stage",
                                       name="uq_deadline_notice"),)

    id: int | None = Field(default=None, primary_key=True)
    trigger_id: int = Field(index=True)
    deadline: str = Field(max_length=40)  # objection | migration | incident_notice
    stage: str = Field(max_length=16)  # reminder | overdue
    due: datetime
    at: datetime
