"""The notification document, ``reassess.notification/2``: typed, and its JSON schema.

A notification is one of these models from the moment it is built (``routing.py``, from
a stored trigger event) until it is rendered (``messages.py``): the outbox stores its
JSON (``dump``), the notifier reads it back (``load``), and ``json://``, ``jsons://``,
``form://`` and ``xml://`` channels receive that JSON (in apprise's ``message`` field).
The models are its specification: ``docs/notification.schema.json`` is generated from
them (``python -m monitor.notify.payload > docs/notification.schema.json``) and a test
keeps the two equal. Within a version, fields are only ever added, never renamed or
removed. Strings that come from vendor documents are untrusted text, capped in length.
"""

from __future__ import annotations

import functools
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from triggers.events import Severity, TriggerType

# Version 2 added ``trigger.controls``; a stored version-1 document still reads.
Schema = Literal["reassess.notification/2", "reassess.notification/1"]
SCHEMA: Schema = "reassess.notification/2"


class _Model(BaseModel):
    # Built when first used, not at import: every `reassess check` imports these models,
    # and only one that fires a trigger uses them.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


class VendorRef(_Model):
    id: str
    name: str


class SourceRef(_Model):
    id: str
    kind: str = Field(description="a registered source kind (`reassess kinds` lists them)")
    url: str


class AssessmentRef(_Model):
    id: str
    system: str
    disposition: str = Field(description="approved, approved_with_conditions, rejected, "
                                         "pending")
    status: str = Field(description="after this trigger: re_review_required, in_review …")
    owner: list[str]


class ChangeData(_Model):
    op: Literal["added", "removed", "modified"]
    key: str = Field(description="the entity, entry, field or section changed")
    before: Any = Field(description="old value (an object for entities), null when added")
    after: Any = Field(description="new value, null when removed")
    path: str | None = None
    fields: list[str] | None = Field(default=None, description="sub-fields a modification "
                                                               "touched")


class Delivery(_Model):
    id: str = Field(description="the outbox row's key: the same on every retry of this "
                                "message, so a receiver can drop repeats")
    channel: str
    attempt: int


class ControlRef(_Model):
    id: str = Field(description="the control as its framework names it, e.g. GDPR Art. 28(2)")
    framework: str = Field(description="iso42001, nist-ai-rmf, eu-ai-act, dora, gdpr, nis2 "
                                       "or one the configuration adds")
    requirement: str = Field(description="one line, in reassess's own words")
    checked: str = Field(description="the public text its id was checked against, or "
                                     "unchecked")


class TriggerData(_Model):
    id: int = Field(description="the trigger id; the same in every message about it")
    type: TriggerType
    severity: Severity
    title: str
    status: str
    created_at: str | None = Field(description="ISO 8601, UTC")
    rule: str | None = Field(description="the rules that applied, if any")
    link: str = Field(description="the trigger in the web UI")
    vendor: VendorRef
    source: SourceRef | None = Field(description="null for review_due")
    assessments: list[AssessmentRef] = Field(description="the assessments it flagged")
    entities: list[str]
    summary: list[str] = Field(description="one readable line per change (first 20)")
    changes: list[ChangeData] = Field(description="structured before/after (first 50)")
    changes_total: int
    evidence: dict[str, Any]
    controls: list[ControlRef] = Field(default_factory=list, description=(
        "the framework controls this trigger is evidence for (version 2)"))


class DigestTrigger(TriggerData):
    changes: list[ChangeData] | None = None  # type: ignore[assignment]
    evidence: dict[str, Any] | None = None  # type: ignore[assignment]


class TriggerNotification(_Model):
    """One re-assessment trigger."""

    schema_: Schema = Field(alias="schema")
    kind: Literal["trigger"]
    trigger: TriggerData
    delivery: Delivery | None = None


class DigestNotification(_Model):
    """Triggers gathered for a channel's digest (without changes and evidence)."""

    schema_: Schema = Field(alias="schema")
    kind: Literal["digest"]
    channel: str
    period_end: str
    triggers: list[DigestTrigger]
    delivery: Delivery | None = None


class AlertData(_Model):
    state: Literal["failing", "vanished", "recovered"]
    previous: Literal["ok", "failing", "vanished"]
    outcome: str = Field(description="the check outcome that changed the state")
    at: str | None
    consecutive_failures: int
    error: str | None
    vendor: VendorRef
    source: SourceRef
    link: str


class AlertNotification(_Model):
    """An operational alert: a source failing, its content vanished, or recovered."""

    schema_: Schema = Field(alias="schema")
    kind: Literal["alert"]
    alert: AlertData
    delivery: Delivery | None = None


class TestNotification(_Model):
    """``reassess notify-test``."""

    schema_: Schema = Field(alias="schema")
    kind: Literal["test"]
    channel: str
    at: str
    delivery: Delivery | None = None


Notification = TriggerNotification | DigestNotification | AlertNotification | TestNotification


@functools.cache
def adapter() -> TypeAdapter[Notification]:
    """Any notification, told apart by its ``kind``."""
    return TypeAdapter(Annotated[Notification, Field(discriminator="kind")])  # type: ignore[arg-type]


def load(document: dict[str, Any]) -> Notification:
    """The typed notification of a stored or received document (raises
    ``pydantic.ValidationError`` when it does not follow the schema)."""
    return adapter().validate_python(document)


validate = load  # what a check of a received document reads as


def dump(notification: Notification) -> dict[str, Any]:
    """The JSON document of a notification: the fields it was built or read with (none
    added as null), so a stored document reads back and prints as it was written."""
    return notification.model_dump(mode="json", by_alias=True, exclude_unset=True)


def json_schema() -> dict[str, Any]:
    """The published schema: open to fields added later in version 1 (our own checks are
    strict, receivers should ignore what they do not know)."""
    schema = _open(adapter().json_schema(by_alias=True))
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://reassess.example/schemas/notification-2.json",
            "title": "reassess.notification/2", **schema}


def _open(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _open(v) for k, v in node.items()
                if not (k == "additionalProperties" and v is False)}
    if isinstance(node, list):
        return [_open(v) for v in node]
    return node


if __name__ == "__main__":
    print(json.dumps(json_schema(), indent=2, sort_keys=True))
