"""What one fetch result means for its source: the decision half of a check.

Given a source's stored state and a fetch result, decide the outcome: failed, not
modified, unchanged, baseline, pending confirmation, suspect (vanish guard), reverted
(a flap back to a recent version) or changed with trigger events. Reads of old
documents go through a ``Reader`` so this module never touches the database itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from config.schema import SourceConfig, VendorConfig
from sources.base import BaseSettings, Change, Document, KindModule
from sources.fetch import FetchResult
from triggers.events import TriggerEvent
from triggers.fire import fire
from triggers.policy import Policy
from triggers.rules import RuleContext

# A drop to under this share of the previous size, from at least MIN_GUARDED items,
# is held back as suspect until seen again (a redesign or a login wall, not a purge).
VANISH_SHARE = 0.5
MIN_GUARDED = 4


@dataclass(frozen=True)
class Watch:
    """A configured source, ready to check: its vendor, kind module and parsed settings."""

    vendor: VendorConfig
    source: SourceConfig
    kind: KindModule
    settings: BaseSettings

    @property
    def id(self) -> str:
        return self.source.id


@dataclass(frozen=True)
class SourceState:
    """The stored state of a source that a check needs."""

    id: str
    current_snapshot_id: int | None = None
    current_hash: str | None = None
    body_hash: str | None = None
    pending_hash: str | None = None
    pending_count: int = 0
    consecutive_failures: int = 0
    alert_state: str = "ok"


class Reader(Protocol):
    def document(self, snapshot_id: int) -> Any: ...

    def recent(self, source_id: str, n: int) -> dict[str, int]: ...


@dataclass(frozen=True, slots=True)
class Settled:
    """What writing an outcome still needs of its parsed document: the hash, the
    compressed canonical JSON when a snapshot is stored, and its size. An outcome waits
    up to a batch for its transaction, and the parsed data it would otherwise hold is a
    hundred kilobytes of Python objects for a twenty-kilobyte page."""

    kind: str
    hash: str
    parser_version: str
    blob: bytes | None = None
    size: int = 0


@dataclass
class Outcome:
    """The result of one check, to be persisted in one transaction with its batch."""

    watch: Watch
    fetch: FetchResult
    started_at: datetime
    outcome: str
    error: str | None = None
    body_hash: str | None = None
    document: Document | Settled | None = None  # Settled once analysed (persist.settle)
    store_snapshot: bool = False
    current_snapshot_id: int | None = None  # set when reverting to a stored version
    old_snapshot_id: int | None = None
    changes: list[Change] = field(default_factory=list)
    events: list[TriggerEvent] = field(default_factory=list)
    pending_hash: str | None = None
    pending_count: int = 0
    suspect: bool = False

    @property
    def source_id(self) -> str:
        return self.watch.id


# ``triage`` leaves this outcome on a body that must be parsed before anything is known.
PARSE = "parse"


def analyse(watch: Watch, state: SourceState, res: FetchResult, started_at: datetime,
            reader: Reader, policy: Policy | None = None) -> Outcome:
    """Everything at once, the parse included (``triage`` → ``parse_body`` → ``conclude``)."""
    out = triage(watch, state, res, started_at)
    if out.outcome != PARSE:
        return out
    try:
        doc = parse_body(watch, res.body or b"")
    except Exception as exc:  # a parser bug or hostile input must not stop the pass
        return parse_failed(out, exc)
    return conclude(out, watch, state, doc, reader, policy)


def triage(watch: Watch, state: SourceState, res: FetchResult, started_at: datetime) -> Outcome:
    """Decide what needs no parse: a failure, a 304, a body identical to the last one.

    Anything else comes back with ``outcome == PARSE`` and its body hash set; the parse
    may run elsewhere (``monitor/parsing.py``) before ``conclude`` finishes the outcome.
    """
    out = Outcome(watch=watch, fetch=res, started_at=started_at, outcome="unchanged")
    if not res.ok:
        out.outcome, out.error = "failed", res.error
        return out
    if res.not_modified:
        out.outcome = "not_modified"
        return out
    out.body_hash = hashlib.sha256(res.body or b"").hexdigest()
    if out.body_hash == state.body_hash and state.current_hash:
        return out
    out.outcome = PARSE
    return out


def parse_body(watch: Watch, body: bytes) -> Document:
    """The kind's parse, serialised and hashed (what a worker process hands back)."""
    doc = watch.kind.parse(body, watch.settings)
    doc.hash  # noqa: B018 - computed once, where the parse runs
    return doc


def parse_failed(out: Outcome, exc: BaseException) -> Outcome:
    out.outcome, out.error = "failed", f"parse error: {type(exc).__name__}: {exc}"[:500]
    return out


def conclude(out: Outcome, watch: Watch, state: SourceState, doc: Document, reader: Reader,
             policy: Policy | None = None) -> Outcome:
    """The rest of a check once its body is parsed: unchanged, baseline, held or changed."""
    out.outcome = "unchanged"
    out.document = doc
    if doc.hash == state.current_hash:
        return out
    return _changed(out, watch, state, doc, reader, policy)


def _changed(out: Outcome, watch: Watch, state: SourceState, doc: Document, reader: Reader,
             policy: Policy | None) -> Outcome:
    size = watch.kind.size(doc)
    if state.current_snapshot_id is None:
        if size == 0:
            return _hold(out, state, doc, required=2, suspect=True, first="baseline")
        out.outcome, out.store_snapshot = "baseline", True
        return out
    recent = reader.recent(watch.id, watch.source.compare_versions)
    if doc.hash in recent:
        out.outcome, out.current_snapshot_id = "reverted", recent[doc.hash]
        return out
    old = Document(kind=watch.kind.NAME, data=reader.document(state.current_snapshot_id))
    old_size = watch.kind.size(old)
    suspect = size == 0 or (old_size >= MIN_GUARDED and size < old_size * VANISH_SHARE)
    required = max(watch.source.confirm, 2 if suspect else 1)
    if required > 1:
        held = _hold(out, state, doc, required=required, suspect=suspect)
        if held.outcome != "accept":
            return held
    out.changes = watch.kind.diff(old, doc)
    out.old_snapshot_id = state.current_snapshot_id
    out.store_snapshot = True
    out.outcome = "changed" if out.changes else "unchanged"
    if out.changes:
        ctx = RuleContext(vendor_id=watch.vendor.id, vendor_name=watch.vendor.name,
                          source_id=watch.id, kind=watch.kind.NAME,
                          old_hash=state.current_hash or "", new_hash=doc.hash)
        out.events = fire(out.changes, ctx, policy)
    return out


def _hold(out: Outcome, state: SourceState, doc: Document, *, required: int, suspect: bool,
          first: str = "changed") -> Outcome:
    """Count consecutive sightings of a new version; accept it once seen ``required`` times."""
    count = state.pending_count + 1 if state.pending_hash == doc.hash else 1
    if count >= required:
        if first == "baseline":
            out.outcome, out.store_snapshot = "baseline", True
        else:
            out.outcome = "accept"
        return out
    out.outcome = "suspect" if suspect else "pending"
    out.suspect = suspect
    out.pending_hash, out.pending_count = doc.hash, count
    return out
