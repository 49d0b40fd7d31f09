"""History queries shared by the CLI, the web UI and the API: filtered, paginated."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import and_, bindparam, case, func, literal_column, or_, select, text
from sqlalchemy.orm import QueryableAttribute, defer
from sqlmodel import Session, col

from triggers.events import SEVERITIES, severity_rank

from . import counts as kept_counts
from . import search as search_index
from .models import (
    FAILING,
    Assessment,
    AssessmentFlag,
    AuditEvent,
    Outbox,
    Snapshot,
    Source,
    Trigger,
    Vendor,
    VendorActivity,
)


@dataclass(frozen=True)
class TriggerFilter:
    vendor: str | None = None
    type: str | None = None
    severity: str | None = None
    status: str | None = None
    source: str | None = None
    assessment: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None  # words in the title or the entities, any case

    def apply(self, stmt: Any, search: str = "like") -> Any:
        """``stmt`` with this filter's conditions. ``search`` says how the text's words are
        matched: ``like`` (a scan, or PostgreSQL's trigram indexes serving it) or ``index``
        (SQLite's FTS5 trigram table, ``storage/search.py``; the same matches)."""
        if self.vendor:
            stmt = stmt.where(Trigger.vendor_id == self.vendor)
        if self.type:
            stmt = stmt.where(Trigger.type == self.type)
        if self.severity:
            stmt = stmt.where(Trigger.severity == self.severity)
        if self.status:
            stmt = stmt.where(Trigger.status == self.status)
        if self.source:
            stmt = stmt.where(Trigger.source_id == self.source)
        if self.since:
            stmt = stmt.where(Trigger.created_at >= self.since)
        if self.until:
            stmt = stmt.where(Trigger.created_at < self.until)
        if self.assessment:
            flagged = select(col(AssessmentFlag.trigger_id)).where(
                col(AssessmentFlag.assessment_id) == self.assessment)
            stmt = stmt.where(col(Trigger.id).in_(flagged))
        indexed, scanned = self.words(search)
        if indexed:
            stmt = stmt.where(col(Trigger.id).in_(_fts_ids(indexed)))
        for word in scanned:
            stmt = stmt.where(word_like(word))
        return stmt

    def words(self, search: str = "like") -> tuple[list[str], list[str]]:
        """The text's words (at most ten, lowered): those the FTS index matches (``search``
        ``index``: three characters or more) and those matched by LIKE."""
        words = [w.lower() for w in (self.text or "").split()[:10]]
        if search != "index":
            return [], words
        # (a NUL would end FTS5's query string: such a word is matched by LIKE too)
        indexed = [w for w in words if len(w) >= search_index.MIN_WORD and "\0" not in w]
        return indexed, [w for w in words if w not in indexed]

    def only_kept_keys(self) -> bool:
        """Whether this filter says nothing but a type, a severity and a status: its
        count is ``trigger_count``'s (``storage/counts.py``)."""
        return not any((self.vendor, self.source, self.assessment, self.since, self.until,
                        self.text))

    def only_text(self) -> bool:
        """Whether the text is this filter's only condition."""
        return bool(self.text) and not any((
            self.vendor, self.type, self.severity, self.status, self.source,
            self.assessment, self.since, self.until))


def word_like(word: str) -> Any:
    """A trigger whose lowered title or entities hold ``word`` (lowered) anywhere."""
    pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return or_(func.lower(col(Trigger.title)).like(pattern, escape="\\"),
               func.lower(cast_text(Trigger.entities)).like(pattern, escape="\\"))


def fts_query(words: list[str]) -> str:
    """An FTS5 query matching rows holding every one of ``words`` (each a phrase: its
    trigrams in a row, i.e. the word as a substring; quotes doubled, nothing else special)."""
    return " AND ".join('"' + w.replace('"', '""') + '"' for w in words)


def _fts_ids(words: list[str], limit: int | None = None) -> Any:
    """The rowids (trigger ids) of the FTS rows holding every one of ``words``."""
    match = literal_column(search_index.FTS_TABLE).op("MATCH")(
        bindparam("fts_query", fts_query(words), unique=True))
    stmt: Any = select(literal_column("rowid")).select_from(
        text(search_index.FTS_TABLE)).where(match)
    return stmt if limit is None else stmt.limit(limit)


# A text search on SQLite whose words match more rows than this lists its page by
# walking the triggers newest first and matching each (a common word finds a page's
# rows within a few thousand), rather than sorting every match the index gives.
FTS_SORT_MAX = 5000


def search_mode(session: Session, flt: TriggerFilter | None, *, page: bool = False) -> str:
    """How ``flt``'s text is matched on this database (``TriggerFilter.apply``): ``index``
    where SQLite has the FTS table, else ``like``. With ``page``, a common word's
    newest-first page takes ``like`` (see ``FTS_SORT_MAX``)."""
    if flt is None or not flt.text:
        return "like"
    if session.get_bind().dialect.name == "postgresql":
        # psycopg prepares a statement run five times; PostgreSQL then plans it once for
        # every pattern, guessing each LIKE matches 0.5 %: a word in every row ("entity")
        # then reads all its trigram index entries and every row again (2 s, where a scan
        # takes 0.6 s). Each search is planned for its own words.
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        return "like"
    if session.get_bind().dialect.name != "sqlite":
        return "like"
    if not _has_fts(session):
        return "like"
    indexed, _ = flt.words("index")
    if not indexed:
        return "like"
    if page:
        found = session.execute(select(func.count()).select_from(
            _fts_ids(indexed, FTS_SORT_MAX + 1).subquery())).scalar_one()
        if int(found) > FTS_SORT_MAX:
            return "like"
    return "index"


def _has_fts(session: Session) -> bool:
    return session.execute(text(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :n"),
        {"n": search_index.FTS_TABLE}).first() is not None


def cast_text(column: Any) -> Any:
    """A JSON column as text, to search in it."""
    from sqlalchemy import String
    from sqlalchemy import cast as sql_cast

    return sql_cast(column, String)


# Past this offset a page is found by its ids first (see ``list_triggers``).
DEFER_AFTER = 1000


def list_triggers(session: Session, flt: TriggerFilter | None = None, *, limit: int | None = 100,
                  offset: int = 0) -> list[Trigger]:
    """Triggers newest first.

    A deep page (``offset`` past ``DEFER_AFTER``) skips its offset over ids alone, from
    the index that gives the order, and reads only its own rows: an OFFSET over whole
    rows would read every row it skips (500,000 of them in the middle of a million)."""
    newest = (col(Trigger.created_at).desc(), col(Trigger.id).desc())
    flt = flt or TriggerFilter()
    mode = search_mode(session, flt, page=limit is not None)
    if limit is not None and offset > DEFER_AFTER:
        page = flt.apply(select(col(Trigger.id)), mode).order_by(*newest).limit(limit) \
            .offset(offset)
        stmt = select(Trigger).where(col(Trigger.id).in_(page.scalar_subquery()))
        return list(session.execute(stmt.order_by(*newest)).scalars())
    stmt = flt.apply(select(Trigger), mode).order_by(*newest)
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return list(session.execute(stmt).scalars())


def count_triggers(session: Session, flt: TriggerFilter | None = None, *,
                   cap: int | None = None) -> int:
    """How many triggers ``flt`` matches; with ``cap``, counting stops past ``cap`` (the
    answer is then ``cap + 1``: "more than ``cap``")."""
    flt = flt or TriggerFilter()
    if flt.only_kept_keys():  # from the counts the database keeps, not the triggers
        n = kept_counts.count(session, type=flt.type or None,
                              severity=flt.severity or None, status=flt.status or None)
        return n if cap is None else min(n, cap + 1)
    mode = search_mode(session, flt)
    indexed, scanned = flt.words(mode)
    if indexed and not scanned and flt.only_text():
        # the FTS table has one row per trigger: its matches are the count
        matches = _fts_ids(indexed, None if cap is None else cap + 1).subquery()
    elif cap is not None:
        matches = flt.apply(select(col(Trigger.id)), mode).limit(cap + 1).subquery()
    else:
        stmt = flt.apply(select(func.count()).select_from(Trigger), mode)
        return int(session.execute(stmt).scalar_one())
    return int(session.execute(select(func.count()).select_from(matches)).scalar_one())


def flags_by_trigger(session: Session, trigger_ids: list[int]) -> dict[int, list[str]]:
    """trigger id → ids of the assessments it flagged."""
    out: dict[int, list[str]] = {i: [] for i in trigger_ids}
    if not trigger_ids:
        return out
    rows = session.execute(select(col(AssessmentFlag.trigger_id),
                                  col(AssessmentFlag.assessment_id))
                           .where(col(AssessmentFlag.trigger_id).in_(trigger_ids))
                           .order_by(col(AssessmentFlag.assessment_id)))
    for trigger_id, assessment_id in rows:
        out[trigger_id].append(assessment_id)
    return out


def trigger_dict(row: Trigger, assessments: list[str] | None = None) -> dict[str, Any]:
    """A trigger as the CLI's ``--json`` and the API show it."""
    return {
        "id": row.id, "type": row.type, "severity": row.severity, "title": row.title,
        "entities": row.entities or [], "vendor": row.vendor_id, "source": row.source_id,
        "created_at": _iso(row.created_at),
        "status": row.status, "assessments": assessments or [],
        "dedupe_key": row.dedupe_key, "acked_by": row.acked_by,
        "acked_at": _iso(row.acked_at),
        "evidence": row.evidence or {}, "changes": len(row.changes or []),
        "schema_version": row.schema_version,
    }


def _iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, as every JSON output shows times."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- web UI and API: dashboard, detail pages, downloads --------------------------------


def iter_triggers(session: Session, flt: TriggerFilter | None = None, *, batch: int = 1000,
                  cap: int | None = None) -> Iterator[Trigger]:
    """Every matching trigger newest first, fetched ``batch`` rows at a time (keyset)."""
    after: tuple[datetime, int] | None = None
    sent = 0
    mode = search_mode(session, flt, page=True)
    while cap is None or sent < cap:
        stmt = (flt or TriggerFilter()).apply(select(Trigger), mode)
        if after is not None:
            stmt = stmt.where(or_(col(Trigger.created_at) < after[0],
                                  and_(col(Trigger.created_at) == after[0],
                                       col(Trigger.id) < after[1])))
        size = batch if cap is None else min(batch, cap - sent)
        stmt = stmt.order_by(col(Trigger.created_at).desc(),
                             col(Trigger.id).desc()).limit(size)
        rows = list(session.execute(stmt).scalars())
        yield from rows
        sent += len(rows)
        if len(rows) < size:
            return
        after = (rows[-1].created_at, rows[-1].id or 0)


def open_trigger_counts(session: Session) -> dict[tuple[str, str], int]:
    """(type, severity) → number of open triggers, from the counts the database keeps
    (``storage/counts.py``), not from the open triggers."""
    return kept_counts.open_counts(session)


def trigger_timeline(session: Session, since: datetime, vendors: list[str] | None = None
                     ) -> list[tuple[str, str, str, int]]:
    """(vendor id, YYYY-MM-DD in UTC, severity, count) of the triggers since ``since``
    (of ``vendors`` only, when given: the chart's rows, not every vendor of a large
    install)."""
    column: Any = Trigger.created_at
    if session.get_bind().dialect.name == "postgresql":
        column = func.timezone("UTC", column)
    day = func.date(column)
    stmt = (select(col(Trigger.vendor_id), day, col(Trigger.severity), func.count())
            .where(col(Trigger.created_at) >= since))
    if vendors is not None:
        if not vendors:
            return []
        stmt = stmt.where(col(Trigger.vendor_id).in_(vendors))
    rows = session.execute(stmt.group_by(col(Trigger.vendor_id), day, col(Trigger.severity)))
    return [(v, str(d)[:10], s, int(n)) for v, d, s, n in rows]


def busy_vendors(session: Session, since: datetime, limit: int
                 ) -> tuple[list[tuple[str, str | None]], int]:
    """The vendors with triggers since ``since`` (the start of a UTC day: the table
    knows days, not instants): the first ``limit`` by name, as (id, name; ``None``: no
    vendor row), and how many there are.

    From ``vendor_activity`` (the day of each vendor's newest trigger, kept by the
    database: ``storage/activity.py``), not from the window's triggers."""
    day = since.astimezone(UTC).date()
    busy = col(VendorActivity.last_day) >= day
    total = session.execute(select(func.count()).select_from(VendorActivity)
                            .where(busy)).scalar_one()
    name = func.lower(func.coalesce(func.nullif(col(Vendor.name), ""),
                                    col(VendorActivity.vendor_id)))
    rows = session.execute(select(col(VendorActivity.vendor_id), col(Vendor.name))
                           .outerjoin(Vendor, col(Vendor.id) == col(VendorActivity.vendor_id))
                           .where(busy).order_by(name, col(VendorActivity.vendor_id))
                           .limit(limit))
    return [(v, n) for v, n in rows], int(total)


def failing_sources(session: Session, limit: int = 200) -> list[Source]:
    """Active sources whose last checks failed or whose content vanished."""
    # the condition exactly as ``ix_source_failing``'s (``models.FAILING``): PostgreSQL
    # reads that partial index only when it can prove the query needs no other row
    stmt = (select(Source).where(text(FAILING))
            .order_by(col(Source.consecutive_failures).desc(), col(Source.id))
            .limit(limit))
    return list(session.execute(stmt).scalars())


def needs_review(session: Session, limit: int = 200,
                 per_assessment: int = 10) -> list[tuple[Assessment, list[Trigger], int]]:
    """Assessments flagged for re-review, oldest unresolved flag first, each with its newest
    unresolved triggers (at most ``per_assessment``) and how many there are in all."""
    oldest = func.min(AssessmentFlag.created_at)
    pending = (select(col(AssessmentFlag.assessment_id), oldest.label("since"),
                      func.count().label("n"))
               .where(col(AssessmentFlag.resolved_at).is_(None))
               .group_by(col(AssessmentFlag.assessment_id)).subquery())
    stmt = (select(Assessment, pending.c.n)
            .outerjoin(pending, pending.c.assessment_id == col(Assessment.id))
            .where(col(Assessment.active).is_(True),
                   or_(col(Assessment.status).in_(("re_review_required", "in_review")),
                       and_(col(Assessment.disposition) == "pending", pending.c.n > 0)))
            .order_by(pending.c.since.is_(None), pending.c.since, col(Assessment.id))
            .limit(limit))
    found = [(a, int(n or 0)) for a, n in session.execute(stmt)]
    by_id: dict[str, list[Trigger]] = {a.id: [] for a, _ in found}
    if by_id:
        rows = session.execute(
            select(col(AssessmentFlag.assessment_id), Trigger).join(
                Trigger, col(Trigger.id) == col(AssessmentFlag.trigger_id))
            .where(col(AssessmentFlag.assessment_id).in_(list(by_id)),
                   col(AssessmentFlag.resolved_at).is_(None))
            .order_by(severity_order().desc(), col(Trigger.created_at).desc(),
                      col(Trigger.id).desc())
            .limit(limit * per_assessment))
        for assessment_id, trigger in rows:
            if len(by_id[assessment_id]) < per_assessment:
                by_id[assessment_id].append(trigger)
    # the assessment with the most severe open trigger first, then the oldest flag
    top = {a: max((severity_rank(t.severity) for t in ts), default=-1)
           for a, ts in by_id.items()}
    found.sort(key=lambda item: -top[item[0].id])  # stable: keeps the oldest-flag order
    return [(a, by_id[a.id], n) for a, n in found]


def severity_order() -> Any:
    """A SQL expression ranking a trigger's severity (higher is more severe)."""
    return case(*((col(Trigger.severity) == s, i) for i, s in enumerate(SEVERITIES)),
                else_=-1)


def source_due_now(session: Session, source_id: str, now: datetime) -> bool:
    """Make an active source due now, so the daemon checks it at its next tick (the
    lease still decides who checks it). False when there is no such active source."""
    from sqlalchemy import update

    moved = session.execute(update(Source).where(col(Source.id) == source_id,
                                                  col(Source.active).is_(True))
                            .values(next_due_at=now))
    return bool(getattr(moved, "rowcount", 0))


def source_snapshots(session: Session, source_id: str, limit: int = 200) -> list[Snapshot]:
    """A source's snapshots, newest first (evidence fields only)."""
    return snapshot_meta(session, col(Snapshot.source_id) == source_id, limit=limit)


def trigger_assessments(session: Session,
                        trigger_id: int) -> list[tuple[Assessment, AssessmentFlag]]:
    """The assessments a trigger flagged, with the flag (resolved or not)."""
    rows = session.execute(select(Assessment, AssessmentFlag)
                           .join(AssessmentFlag,
                                 col(AssessmentFlag.assessment_id) == col(Assessment.id))
                           .where(col(AssessmentFlag.trigger_id) == trigger_id)
                           .order_by(col(Assessment.id)))
    return [(a, f) for a, f in rows]


def trigger_notifications(session: Session, trigger_id: int) -> list[Outbox]:
    stmt = (select(Outbox).where(col(Outbox.trigger_id) == trigger_id)
            .order_by(col(Outbox.id)))
    return list(session.execute(stmt).scalars())


def assessment_flags(session: Session, assessment_id: str,
                     limit: int = 200) -> list[tuple[AssessmentFlag, Trigger]]:
    """An assessment's flags, newest first, each with its trigger."""
    rows = session.execute(select(AssessmentFlag, Trigger)
                           .join(Trigger, col(Trigger.id) == col(AssessmentFlag.trigger_id))
                           .where(col(AssessmentFlag.assessment_id) == assessment_id)
                           .order_by(col(AssessmentFlag.created_at).desc(),
                                     col(AssessmentFlag.id).desc())
                           .limit(limit))
    return [(f, t) for f, t in rows]


def audit_trail(session: Session, object_type: str, object_id: str,
                limit: int = 200) -> list[AuditEvent]:
    """Who did what to one object, newest first."""
    stmt = (select(AuditEvent).where(col(AuditEvent.object_type) == object_type,
                                     col(AuditEvent.object_id) == object_id)
            .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
            .limit(limit))
    return list(session.execute(stmt).scalars())


def snapshot_meta(session: Session, *where: Any, limit: int | None = None,
                  offset: int = 0) -> list[Snapshot]:
    """Snapshots newest first without their documents and raw bodies (the evidence
    fields only)."""
    # the class attributes are SQLAlchemy's instrumented columns, which mypy sees as bytes
    document = cast("QueryableAttribute[bytes]", Snapshot.document)
    body = cast("QueryableAttribute[bytes | None]", Snapshot.body)
    stmt = select(Snapshot).options(defer(document), defer(body))
    for cond in where:
        stmt = stmt.where(cond)
    stmt = stmt.order_by(col(Snapshot.fetched_at).desc(), col(Snapshot.id).desc())
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return list(session.execute(stmt).scalars())


def vendor_snapshots(session: Session, vendor_id: str, *, limit: int = 25,
                     offset: int = 0) -> tuple[list[Snapshot], int]:
    """One page of a vendor's snapshots across its sources, and how many there are."""
    ids = select(col(Source.id)).where(col(Source.vendor_id) == vendor_id)
    cond = col(Snapshot.source_id).in_(ids)
    total = session.execute(select(func.count()).select_from(Snapshot).where(cond)).scalar_one()
    return snapshot_meta(session, cond, limit=limit, offset=offset), int(total)


def vendor_overview(session: Session) -> list[tuple[Vendor, int, int, int]]:
    """Every vendor with its active sources, failing sources and open triggers."""
    src = (select(col(Source.vendor_id), func.count().label("n"),
                  func.sum(case((or_(col(Source.consecutive_failures) > 0,
                                     col(Source.alert_state) != "ok"), 1), else_=0)).label("bad"))
           .where(col(Source.active).is_(True))
           .group_by(col(Source.vendor_id)).subquery())
    trig = (select(col(Trigger.vendor_id), func.count().label("n"))
            .where(col(Trigger.status) == "open")
            .group_by(col(Trigger.vendor_id)).subquery())
    stmt = (select(Vendor, src.c.n, src.c.bad, trig.c.n)
            .outerjoin(src, src.c.vendor_id == col(Vendor.id))
            .outerjoin(trig, trig.c.vendor_id == col(Vendor.id))
            .order_by(col(Vendor.active).desc(), col(Vendor.name)))
    return [(v, int(n or 0), int(bad or 0), int(o or 0)) for v, n, bad, o in session.execute(stmt)]


def assessment_overview(session: Session,
                        vendor_id: str | None = None) -> list[tuple[Assessment, int]]:
    """Assessments (those needing review first) with their unresolved flags."""
    flags = (select(col(AssessmentFlag.assessment_id), func.count().label("n"))
             .where(col(AssessmentFlag.resolved_at).is_(None))
             .group_by(col(AssessmentFlag.assessment_id)).subquery())
    order = case((col(Assessment.status) == "re_review_required", 0),
                 (col(Assessment.status) == "in_review", 1), else_=2)
    stmt = (select(Assessment, flags.c.n)
            .outerjoin(flags, flags.c.assessment_id == col(Assessment.id))
            .order_by(col(Assessment.active).desc(), order, col(Assessment.id)))
    if vendor_id is not None:
        stmt = stmt.where(col(Assessment.vendor_id) == vendor_id)
    return [(a, int(n or 0)) for a, n in session.execute(stmt)]
