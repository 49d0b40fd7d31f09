"""What one fetch result means for its source: the decision half of a check.

Given a source's stored state and a fetch result, decide the outcome: failed, not
modified, unchanged, baseline, pending confirmation, suspect (``sources/guard.py``),
reverted (a flap back to a recent version), rebaselined (only the parser changed), or
changed with trigger events (``triggers.fire``). Reads of stored documents go through a
``Reader`` so this module never touches the database itself.

A parser upgrade alone never fires. When the stored document was made by another parser
version than the kind's, the stored raw body is parsed again with the current parser
and the new document is compared with that (like with like); where no raw body is
stored, or it no longer parses, the new document is recorded as a re-baseline and
nothing fires. Until then a source's state says it is *stale*: its body is parsed even
when its hash is the last one, and fetched without validators, so the re-baseline
happens at its next check rather than at its next change.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from config.schema import SourceConfig, VendorConfig
from sources import guard, parse
from sources import parser_version as current_version
from sources.base import BaseSettings, Change, Document, KindModule
from sources.fetch import FetchResult
from triggers.events import TriggerEvent
from triggers.fire import fire
from triggers.policy import Policy
from triggers.rules import RuleContext


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
    parser_version: str | None = None  # that the current document matches

    def stale(self, kind: KindModule) -> bool:
        return stale(kind, self.current_snapshot_id, self.parser_version)


def stale(kind: KindModule, snapshot_id: int | None, parser_version: str | None) -> bool:
    """Is a source's current document (if it has one) another parser version's than the
    kind's current one? (``None``: not known, as for rows written before it was kept.)"""
    return snapshot_id is not None and parser_version != current_version(kind)


@dataclass(frozen=True, slots=True)
class Stored:
    """A stored snapshot's document (plain JSON data) and the parser version that made it."""

    data: Any
    parser_version: str


class Reader(Protocol):
    """The stored versions a conclusion reads (``pipeline._DbReader``)."""

    def document(self, snapshot_id: int) -> Stored: ...

    def body(self, snapshot_id: int) -> bytes | None:
        """The raw body a snapshot was parsed from; ``None`` when none was stored."""

    def recent(self, source_id: str, n: int, parser_version: str) -> dict[str, int]:
        """content hash → snapshot id of the source's ``n`` latest snapshots made by this
        parser version (another version's hashes say nothing about this one's)."""


@dataclass(frozen=True, slots=True)
class Settled:
    """What writing an outcome still needs of its parsed document: the hash, the
    compressed canonical JSON when a snapshot is stored, and its size. An outcome waits
    up to a batch for its transaction, and the parsed data it would otherwise hold is
    many times the size of the page as Python objects."""

    kind: str
    hash: str
    parser_version: str
    blob: bytes | None = None
    size: int = 0
    body: bytes | None = None  # the compressed raw body, with a stored snapshot


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


def triage(watch: Watch, state: SourceState, res: FetchResult, started_at: datetime) -> Outcome:
    """Decide what needs no parse: a failure, a 304, a body identical to the last one
    (unless the stored document is another parser version's: ``SourceState.stale``).

    Anything else comes back with ``outcome == PARSE`` and its body hash set; the parse
    may run elsewhere (``parsing.py``) before ``conclude`` finishes the outcome.
    """
    out = Outcome(watch=watch, fetch=res, started_at=started_at, outcome="unchanged")
    if not res.ok:
        out.outcome, out.error = "failed", res.error
        return out
    if res.not_modified:
        out.outcome = "not_modified"
        return out
    out.body_hash = hashlib.sha256(res.body or b"").hexdigest()
    if out.body_hash == state.body_hash and state.current_hash and not state.stale(watch.kind):
        return out
    out.outcome = PARSE
    return out


def parse_body(watch: Watch, body: bytes) -> Document:
    """The kind's parse, serialised and hashed (what a worker process hands back)."""
    return parse(watch.kind, watch.settings, body)


def parse_failed(out: Outcome, exc: BaseException) -> Outcome:
    out.outcome, out.error = "failed", f"parse error: {type(exc).__name__}: {exc}"[:500]
    return out


def conclude(out: Outcome, watch: Watch, state: SourceState, doc: Document, reader: Reader,
             policy: Policy | None = None) -> Outcome:
    """The rest of a check once its body is parsed: unchanged, baseline, held, reverted,
    rebaselined or changed."""
    out.outcome = "unchanged"
    out.document = doc
    if doc.hash == state.current_hash:
        return out
    if state.current_snapshot_id is None:
        return _baseline(out, watch, state, doc)
    recent = reader.recent(watch.id, watch.source.compare_versions, current_version(watch.kind))
    if doc.hash in recent:
        out.outcome, out.current_snapshot_id = "reverted", recent[doc.hash]
        return out
    base = _comparable(watch, state, reader)
    if base is None:
        return _rebaseline(out, watch, state, doc)
    if base[1] == doc.hash:  # only the parser changed
        out.outcome, out.store_snapshot = "rebaselined", True
        return out
    return _changed(out, watch, state, base, doc, policy)


def _baseline(out: Outcome, watch: Watch, state: SourceState, doc: Document) -> Outcome:
    if guard.suspect(watch.kind, None, doc, body=out.fetch.body):
        return _hold(out, state, doc, required=2, suspect=True, first="baseline")
    out.outcome, out.store_snapshot = "baseline", True
    return out


def _rebaseline(out: Outcome, watch: Watch, state: SourceState, doc: Document) -> Outcome:
    """No telling what changed (another parser's document and no raw body to read again):
    the new document becomes the current one and nothing fires, unless it is suspect on
    its own, which waits to be seen again like any suspect document."""
    if guard.suspect(watch.kind, None, doc, body=out.fetch.body):
        held = _hold(out, state, doc, required=2, suspect=True)
        if held.outcome != "accept":
            return held
    out.outcome, out.store_snapshot = "rebaselined", True
    return out


def _comparable(watch: Watch, state: SourceState,
                reader: Reader) -> tuple[Document, str] | None:
    """The current version as the kind's current parser reads it, and its hash: the
    stored document, or, when another parser version made it, its raw body parsed again
    (``None`` when that body was not stored or no longer parses)."""
    snapshot_id = state.current_snapshot_id
    assert snapshot_id is not None  # conclude's caller has a stored version
    stored = reader.document(snapshot_id)
    if stored.parser_version == current_version(watch.kind):
        return Document(kind=watch.kind.NAME, data=stored.data,
                        parser_version=stored.parser_version), state.current_hash or ""
    body = reader.body(snapshot_id)
    if body is None:
        return None
    try:
        again = parse_body(watch, body)
    except Exception:  # a body the new parser refuses: re-baseline on the new document
        return None
    return again, again.hash


def _changed(out: Outcome, watch: Watch, state: SourceState, base: tuple[Document, str],
             doc: Document, policy: Policy | None) -> Outcome:
    old, old_hash = base
    reason = guard.suspect(watch.kind, old, doc, body=out.fetch.body)
    required = max(watch.source.confirm, 2 if reason else 1)
    if required > 1:
        held = _hold(out, state, doc, required=required, suspect=reason is not None)
        if held.outcome != "accept":
            return held
    out.changes = watch.kind.diff(old, doc)
    out.old_snapshot_id = state.current_snapshot_id
    out.store_snapshot = True
    out.outcome = "changed" if out.changes else "unchanged"
    if out.changes:
        ctx = RuleContext(vendor_id=watch.vendor.id, vendor_name=watch.vendor.name,
                          source_id=watch.id, kind=watch.kind.NAME,
                          old_hash=old_hash, new_hash=doc.hash, settings=watch.settings)
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
