"""Who hears of what: outbox rows for triggers and operational alerts.

``Routing`` is the check's router (``monitor.check.persist.Router``). Rows are written
in the caller's transaction (the trigger's, or the check's), so a trigger and its
notifications are stored together or not at all. A trigger goes to the owners of the
assessments it flagged, the owner of its vendor and the channels rules added
(``TriggerEvent.channels``); an apprise URL that several of those channels share gets
the message once. Below a channel's ``immediate`` severity, with a ``digest`` set, rows
wait for the digest.

A trigger's message is built here, once, from the stored event: a typed
``TriggerNotification`` (``payload.py``), stored in the outbox as its versioned JSON
(``reassess.notification/1``) and read back as the same type by the notifier.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlmodel import Session, col

from config.schema import ChannelConfig, Config, SourceConfig, VendorConfig
from monitor.check.analyse import Outcome
from monitor.check.persist import StoredTrigger
from monitor.logs import redact
from sources import get_kind
from sources.base import Change
from storage import outbox
from storage.models import Assessment, Source, Vendor
from triggers.events import severity_rank

from .channels import scheme, url_key
from .payload import (
    SCHEMA,
    AlertData,
    AlertNotification,
    AssessmentRef,
    ChangeData,
    ControlRef,
    Notification,
    SourceRef,
    TriggerData,
    TriggerNotification,
    VendorRef,
    dump,
)

log = logging.getLogger("reassess.notify")

PAYLOAD_VERSION = 1  # of the outbox row's payload, around the notification document
SUMMARY_MAX = 20
CHANGES_MAX = 50
STRING_MAX = 2000


class Routing:
    """The notifications a check writes: a stored trigger's messages, and the alerts of a
    source that starts failing, vanishes or recovers."""

    def __init__(self, config: Config) -> None:
        self.config = config

    def reload(self, config: Config) -> None:
        self.config = config

    def triggered(self, session: Session, stored: StoredTrigger) -> int:
        return enqueue_for_trigger(session, self.config, stored)

    def checked(self, session: Session, out: Outcome, update: dict[str, Any],
                now: datetime) -> None:
        source_alerts(session, self.config, out, update, now)


def _rank(severity: str) -> int:
    return max(severity_rank(severity), 0)  # an unknown word counts as the lowest


def digests(channel: ChannelConfig, severity: str) -> bool:
    """Does a trigger of this severity wait for the channel's digest?

    With a digest and no ``immediate``, everything but ``critical`` waits.
    """
    if not channel.digest:
        return False
    floor = channel.immediate if "immediate" in channel.model_fields_set else "critical"
    return _rank(severity) < _rank(floor)


@dataclass(frozen=True)
class Target:
    channel: str
    index: int
    key: str
    scheme: str
    status: str  # pending | digest


def targets(config: Config, names: Sequence[str], severity: str | None) -> list[Target]:
    """One target per distinct URL of the named channels; immediate beats digest."""
    found: dict[str, Target] = {}
    for name in dict.fromkeys(names):
        channel = config.channels.get(name)
        if channel is None:
            log.warning("channel %r is not configured; skipped", name)
            continue
        if severity is not None and _rank(severity) < _rank(channel.min_severity):
            continue
        status = "digest" if severity is not None and digests(channel, severity) else "pending"
        for i, url in enumerate(channel.urls):
            key = url_key(url)
            if key not in found or (found[key].status == "digest" and status == "pending"):
                found[key] = Target(name, i, key, scheme(url), status)
    return list(found.values())


def _rows(targets_: list[Target], prefix: str, notification: Notification, now: datetime,
          trigger_id: int | None = None) -> list[dict[str, Any]]:
    document = dump(notification)
    return [{"dedupe_key": f"{prefix}:{t.key}", "kind": notification.kind,
             "channel": t.channel, "trigger_id": trigger_id, "status": t.status,
             "attempts": 0, "next_attempt_at": now, "created_at": now,
             "payload": {"version": PAYLOAD_VERSION, "url_key": t.key, "url_index": t.index,
                         "scheme": t.scheme, "document": document}}
            for t in targets_]


# --- triggers ------------------------------------------------------------------------


def enqueue_for_trigger(session: Session, config: Config, stored: StoredTrigger) -> int:
    """Write the outbox rows of a stored trigger; returns how many were new.

    The owners of the assessments it flagged hear of it (their dispositions are in the
    message), and its vendor's owner, and the channels its rules added. Safe to call
    twice: each row's key is the trigger id and the URL's key.
    """
    event = stored.event
    if event.suppressed:
        return 0
    names = list(event.channels)
    names += [o for a in stored.flagged for o in (a.owner or [])]
    names += _vendor_owner(session, config, stored.vendor_id)
    chosen = targets(config, names, event.severity)
    if not chosen:
        log.info("trigger %s: no channel to notify (no owner configured)", stored.id)
        return 0
    notification = trigger_notification(session, config, stored)
    return outbox.enqueue(session, _rows(chosen, f"t:{stored.id}", notification, now=stored.at,
                                         trigger_id=stored.id))


def _vendor_owner(session: Session, config: Config, vendor_id: str) -> list[str]:
    vendor = _vendors(config).get(vendor_id)
    if vendor is not None:
        return list(vendor.owner)
    row = session.get(Vendor, vendor_id)
    return list(row.owner or []) if row is not None else []


_INDEX: dict[int, tuple[Config, dict[str, VendorConfig], dict[str, SourceConfig]]] = {}


def _index(config: Config) -> tuple[dict[str, VendorConfig], dict[str, SourceConfig]]:
    found = _INDEX.get(id(config))
    if found is None or found[0] is not config:
        found = (config, {v.id: v for v in config.vendors},
                 {s.id: s for _, s in config.sources()})
        _INDEX.clear()
        _INDEX[id(config)] = found
    return found[1], found[2]


def _vendors(config: Config) -> dict[str, VendorConfig]:
    return _index(config)[0]


def _source(session: Session, config: Config, source_id: str | None) -> SourceRef | None:
    if source_id is None:
        return None
    sc = _index(config)[1].get(source_id)
    if sc is not None:
        return SourceRef(id=sc.id, kind=sc.kind, url=sc.url)
    row = session.get(Source, source_id)
    return SourceRef(id=row.id, kind=row.kind, url=row.url) if row is not None else None


def trigger_notification(session: Session, config: Config,
                         stored: StoredTrigger) -> TriggerNotification:
    """The notification of a stored trigger, built from its event (``kind: trigger``)."""
    event = stored.event
    vendor = _vendors(config).get(stored.vendor_id)
    source = _source(session, config, stored.source_id)
    changes = list(event.changes)
    return TriggerNotification(schema=SCHEMA, kind="trigger", trigger=TriggerData(
        id=stored.id, type=event.type, severity=event.severity,  # type: ignore[arg-type]
        title=_cap(event.title), status="suppressed" if event.suppressed else "open",
        created_at=_iso(stored.at), rule=event.rule,
        link=f"{config.web.url()}/triggers/{stored.id}",
        vendor=VendorRef(id=stored.vendor_id,
                         name=vendor.name if vendor else stored.vendor_id),
        source=source,
        assessments=[_assessment(a) for a in stored.flagged],
        entities=[_cap(e) for e in event.entities[:CHANGES_MAX]],
        summary=[describe(source.kind if source else None, c) for c in changes[:SUMMARY_MAX]],
        changes=[ChangeData.model_validate(_cap(c)) for c in changes[:CHANGES_MAX]],
        changes_total=len(changes),
        evidence=_cap(event.evidence or {}),
        controls=[ControlRef(**c) for c in config.control_map().for_trigger(
            event.type, source.kind if source else None, event.severity)],
    ))


def _assessment(a: Assessment) -> AssessmentRef:
    return AssessmentRef(id=a.id, system=a.system, disposition=a.disposition,
                         status=a.status, owner=list(a.owner or []))


def describe(kind: str | None, change: dict[str, Any]) -> str:
    """The kind's one-line description of a change (``Added subprocessor Cohere — …``)."""
    try:
        return _cap(get_kind(kind or "").describe(Change.from_dict(change)), 500)
    except Exception:  # an unknown kind or an odd stored change must not stop a notification
        return _cap(f"{str(change.get('op', 'changed')).capitalize()} {change.get('key', '')}",
                    500)


def _cap(value: Any, limit: int = STRING_MAX) -> Any:
    """Bound stored JSON: long strings cut, long lists and mappings trimmed."""
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + "…"
    if isinstance(value, dict):
        return {str(k)[:200]: _cap(v, limit) for k, v in list(value.items())[:CHANGES_MAX]}
    if isinstance(value, (list, tuple)):
        return [_cap(v, limit) for v in list(value)[:CHANGES_MAX]]
    return value


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


# --- operational alerts --------------------------------------------------------------

_STATES_KEY = "reassess.alert_states"


def next_alert_state(prev: str, outcome: str, failures: int, fail_after: int) -> str:
    """ok / failing / vanished after a check with this outcome (pure)."""
    if outcome == "failed":
        return "failing" if failures >= fail_after else prev
    if outcome == "suspect":
        return "vanished"
    if outcome == "pending":
        return "ok" if prev == "failing" else prev
    return "ok"


def source_alerts(session: Session, config: Config, out: Outcome, row: dict[str, Any],
                  now: datetime) -> None:
    """Alert once when a source starts failing or vanishes, and once when it recovers.

    Sets ``alert_state`` in the source's update row when it changes.
    """
    states = _alert_states(session)
    prev = states.get(out.source_id, "ok")
    new = next_alert_state(prev, out.outcome, int(row.get("consecutive_failures") or 0),
                           config.alerts.fail_after)
    if new == prev:
        return
    row["alert_state"] = new
    states[out.source_id] = new
    vendor, source = out.watch.vendor, out.watch.source
    state = "recovered" if new == "ok" else new
    log.warning("source %s: %s (was %s)", source.id, state, prev)
    alert = AlertNotification(schema=SCHEMA, kind="alert", alert=AlertData(
        state=state, previous=prev, outcome=out.outcome,  # type: ignore[arg-type]
        at=_iso(now), consecutive_failures=int(row.get("consecutive_failures") or 0),
        error=_cap(out.error, 1000) if out.error else None,
        vendor=VendorRef(id=vendor.id, name=vendor.name),
        source=SourceRef(id=source.id, kind=source.kind, url=redact(source.url)),
        link=f"{config.web.url()}/sources/{source.id}",
    ))
    digest = hashlib.sha256(f"{source.id}\x1f{state}\x1f{now.isoformat()}".encode()).hexdigest()
    chosen = targets(config, list(vendor.owner), None)
    outbox.enqueue(session, _rows(chosen, f"a:{digest[:32]}", alert, now))


def _alert_states(session: Session) -> dict[str, str]:
    """Sources not in state ok, read once per transaction (they are few)."""
    states = session.info.get(_STATES_KEY)
    if states is None:
        # On the session's connection (its transaction): a Core select of two columns
        # needs none of the ORM's execution (its compile state, loading options), which
        # cost several times the query itself in every batch a daemon writes.
        states = {sid: state for sid, state in session.connection().execute(_NOT_OK).all()}
        session.info[_STATES_KEY] = states
    return states


# "!= 'ok'" as two ranges, so ix_source_alert_state finds the few (a batch of a large
# install must not read every source). Built once: every batch a check writes reads it,
# and building the select cost more Python than running its compiled form.
_NOT_OK = select(col(Source.id), col(Source.alert_state)).where(
    or_(col(Source.alert_state) < "ok", col(Source.alert_state) > "ok"))
