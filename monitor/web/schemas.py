"""The JSON API's response and request models (they make ``/openapi.json``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

TriggerStatus = Literal["open", "acknowledged", "resolved", "suppressed"]


class ErrorOut(BaseModel):
    """What every refusal answers: why, in a sentence."""

    detail: str


class ControlOut(BaseModel):
    id: str
    framework: str
    requirement: str
    checked: str = Field(description="where the id was checked (an address) or unchecked")


class TriggerOut(BaseModel):
    id: int
    type: str
    severity: str
    title: str
    entities: list[str]
    vendor: str
    source: str | None
    created_at: datetime
    status: str = Field(description="open, acknowledged, resolved (its flags are resolved) "
                                    "or suppressed")
    assessments: list[str] = Field(description="ids of the assessments it flagged")
    dedupe_key: str
    acked_by: str | None
    acked_at: datetime | None
    evidence: dict[str, Any]
    changes: int = Field(description="how many changes it carries (see the detail)")
    schema_version: int
    controls: list[ControlOut] = Field(default_factory=list, description=(
        "the framework controls it is evidence for, by the configured frameworks"))


class TriggerPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[TriggerOut]


class ChangeOut(BaseModel):
    op: str
    key: str
    before: Any = None
    after: Any = None
    path: str | None = None
    fields: list[str] = Field(default_factory=list)


class SnapshotMeta(BaseModel):
    id: int
    source: str
    kind: str
    url: str
    fetched_at: datetime
    http_status: int
    etag: str | None
    last_modified: str | None
    content_hash: str
    parser_version: str
    size: int


class SnapshotOut(SnapshotMeta):
    document: Any = Field(description="the normalised document, as hashed")


class FlagOut(BaseModel):
    assessment: str
    assessment_status: str
    flagged_at: datetime
    resolved_at: datetime | None


class NotificationOut(BaseModel):
    id: int
    channel: str
    kind: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None


class AuditOut(BaseModel):
    at: datetime
    by: str
    action: str
    note: str | None
    data: dict[str, Any] | None


class TriggerDetail(BaseModel):
    trigger: TriggerOut
    kind: str | None
    ack_note: str | None
    changes: list[ChangeOut]
    flags: list[FlagOut]
    notifications: list[NotificationOut]
    old_snapshot: SnapshotMeta | None
    new_snapshot: SnapshotMeta | None
    history: list[AuditOut]


class AssessmentOut(BaseModel):
    id: str
    vendor: str
    system: str
    owner: list[str]
    status: str = Field(description="current, re_review_required or in_review (a pending "
                                    "assessment stays current while flagged)")
    disposition: str
    assessed: date | None
    next_review: date | None
    review_every: str | None
    open_flags: int
    overdue_days: int = Field(0, description="days since its review date passed")
    updated_at: datetime | None
    active: bool


class AssessmentFlagOut(BaseModel):
    trigger: TriggerOut
    flagged_at: datetime
    resolved_at: datetime | None


class AssessmentDetail(BaseModel):
    assessment: AssessmentOut
    flags: list[AssessmentFlagOut]
    history: list[AuditOut]


class SourceOut(BaseModel):
    id: str
    kind: str
    url: str
    active: bool
    last_checked_at: datetime | None
    last_success_at: datetime | None
    last_outcome: str | None
    consecutive_failures: int
    last_error: str | None
    next_due_at: datetime | None
    alert_state: str
    current_snapshot_id: int | None


class VendorOut(BaseModel):
    id: str
    name: str
    active: bool
    sources: int
    failing_sources: int
    open_triggers: int


class VendorDetail(BaseModel):
    vendor: VendorOut
    sources: list[SourceOut]
    assessments: list[AssessmentOut]
    snapshots: list[SnapshotMeta] = Field(description="the 50 newest")


class Summary(BaseModel):
    open_triggers: dict[str, dict[str, int]] = Field(description="type → severity → count")
    needs_review: list[str]
    failing_sources: list[str]


class AckIn(BaseModel):
    note: str | None = None


class AckOut(BaseModel):
    trigger: TriggerOut
    changed: bool = Field(description="false when the trigger was not open")


# Python's whitespace (what str.strip removes), written out: a note must have something
# else, and the schema says so in a pattern every regex engine reads alike.
_SPACES = "".join(chr(c) for c in (0x9, 0xA, 0xB, 0xC, 0xD, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x85,
                                   0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029,
                                   0x202F, 0x205F, 0x3000))
NOT_BLANK = f"[^{_SPACES}]"


class ResolveIn(BaseModel):
    note: str = Field(min_length=1, max_length=10_000, pattern=NOT_BLANK,
                      description="what was decided (not blank)")
    disposition: Literal["approved", "approved_with_conditions", "rejected", "pending"] | None \
        = None


class ResolveOut(BaseModel):
    assessment: AssessmentOut
    result: dict[str, Any]
