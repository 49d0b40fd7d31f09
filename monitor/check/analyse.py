"""What one fetch result means for its source: the decision half of a check.

Given a source's stored state and a fetch result, decide the outcome: failed, not
modified, unchanged, baseline, pending confirmation, suspect, reverted (a flap back to a
recent version), rebaselined (only the parser changed), or changed with trigger events
(``triggers.fire``). Reads of stored documents go through a ``Reader`` so this module
never touches the database itself.

A suspect document — empty, shrunk by more than ``guard.max_shrink`` of the last one's
items, a body that does not decode as text, or what ``sources.guard.suspect`` calls
suspect (bot-challenge, login or error pages) — is held: it becomes the current
document (and fires) only once it has been seen unchanged on ``guard.hold_checks``
checks in a row and over at least ``guard.hold_time`` (a bot wall that lifts within
that time never fired, and never became what the real page is compared with). Until
then the last believed document stays the one the next fetch is diffed against.

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
from typing import Any, NamedTuple, Protocol

from config.schema import GuardConfig, SourceConfig, VendorConfig
from sources import guard, parse
from sources import parser_version as current_version
from sources.base import BaseSettings, Change, Document, KindModule
from sources.fetch import FetchResult
from sources.read.encoding import undecodable
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
    # One GET of the url as written, with no headers of its own and no ``${VAR}`` in it
    # (``SourceConfig.plain``): a check then sends the source's url and no headers without
    # asking the config for its expanded url, headers, secrets and way of fetching.
    plain: bool = False

    @property
    def id(self) -> str:
        return self.source.id


class SourceState(NamedTuple):
    """The stored state of a source that a check needs (a tuple: one is made for every
    check, and a frozen dataclass's ``__init__`` cost several times as much)."""

    id: str
    current_snapshot_id: int | None = None
    current_hash: str | None = None
    body_hash: str | None = None
    pending_hash: str | None = None
    pending_count: int = 0
    consecutive_failures: int = 0
    alert_state: str = "ok"
    parser_version: str | None = None  # that the current document matches
    pending_since: datetime | None = None  # when the pending document was first seen

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

    def reparse(self, watch: Watch, body: bytes) -> Document:
        """A stored raw body parsed by the kind's current parser (within the parse
        limits, where the reader has a parse worker)."""


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
    body_sha256: str | None = None  # and the sha256 of the body it holds (the chain's)


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
    pending_since: datetime | None = None
    suspect: bool = False
    reason: str | None = None  # why a suspect document is not believed yet

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
             policy: Policy | None = None, hold: GuardConfig | None = None) -> Outcome:
    """The rest of a check once its body is parsed: unchanged, baseline, held, reverted,
    rebaselined or changed. ``hold``: the config's ``guard:`` (its defaults without)."""
    hold = hold or GuardConfig()
    out.outcome = "unchanged"
    out.document = doc
    if doc.hash == state.current_hash:
        return out
    if state.current_snapshot_id is None:
        return _baseline(out, watch, state, doc, hold)
    recent = reader.recent(watch.id, watch.source.compare_versions, current_version(watch.kind))
    if doc.hash in recent:
        out.outcome, out.current_snapshot_id = "reverted", recent[doc.hash]
        return out
    base = _comparable(watch, state, reader)
    if base is None:
        return _rebaseline(out, watch, state, doc, hold)
    if base[1] == doc.hash:  # only the parser changed
        out.outcome, out.store_snapshot = "rebaselined", True
        return out
    if _after_a_wall(watch, state, base[0], reader):
        return _rebaseline(out, watch, state, doc, hold)
    return _changed(out, watch, state, base, doc, policy, hold)


def suspicion(watch: Watch, old: Document | None, new: Document, body: bytes | None,
              hold: GuardConfig) -> str | None:
    """Why ``new`` is not to be believed yet, or ``None``: the kind-aware guard
    (``sources.guard``: empty, collapsed, challenge, login or error pages), then what the
    config adds (a shrink by more than ``max_shrink``) and a body that is no text."""
    reason = guard.suspect(watch.kind, old, new, body=body)
    if reason is not None:
        return reason
    if old is not None:
        before, after = watch.kind.size(old), watch.kind.size(new)
        if before >= guard.MIN_GUARDED and after < before * (1 - hold.max_shrink):
            return (f"shrunk: {after} items where there were {before} (lost more than "
                    f"{hold.max_shrink:.0%} of them)")
    return undecodable(body) if body else None


def _baseline(out: Outcome, watch: Watch, state: SourceState, doc: Document,
              hold: GuardConfig) -> Outcome:
    reason = suspicion(watch, None, doc, out.fetch.body, hold)
    if reason is not None:
        return _hold(out, state, doc, hold, reason=reason, first="baseline")
    out.outcome, out.store_snapshot = "baseline", True
    return out


def _rebaseline(out: Outcome, watch: Watch, state: SourceState, doc: Document,
                hold: GuardConfig) -> Outcome:
    """No telling what changed (another parser's document and no raw body to read again):
    the new document becomes the current one and nothing fires, unless it is suspect on
    its own, which waits to be seen again like any suspect document."""
    reason = suspicion(watch, None, doc, out.fetch.body, hold)
    if reason is not None:
        held = _hold(out, state, doc, hold, reason=reason)
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
        again = reader.reparse(watch, body)
    except Exception:  # a body the new parser refuses: re-baseline on the new document
        return None
    return again, again.hash


def _after_a_wall(watch: Watch, state: SourceState, old: Document, reader: Reader) -> bool:
    """Whether the current version is a wall that outlasted its hold (a bot challenge,
    login or error page that the kind read as an empty document): there is nothing real to
    compare the new document with, and diffing against it would report every item as new.
    Its raw body says so; it is read only when the current document holds nothing, and
    an empty feed or list that was a real one stays comparable."""
    if watch.kind.size(old) or state.current_snapshot_id is None:
        return False
    body = reader.body(state.current_snapshot_id)
    return body is not None and guard.content_reason(None, old, body) is not None


def _changed(out: Outcome, watch: Watch, state: SourceState, base: tuple[Document, str],
             doc: Document, policy: Policy | None, hold: GuardConfig) -> Outcome:
    old, old_hash = base
    reason = suspicion(watch, old, doc, out.fetch.body, hold)
    if reason is not None and reason.startswith(guard.AFTER_A_WALL):
        return _rebaseline(out, watch, state, doc, hold)
    if reason is not None or watch.source.confirm > 1:
        held = _hold(out, state, doc, hold, reason=reason, confirm=watch.source.confirm)
        if held.outcome != "accept":
            return held
    out.changes = watch.kind.diff(old, doc)
    out.old_snapshot_id = state.current_snapshot_id
    out.store_snapshot = True
    out.outcome = "changed" if out.changes else "unchanged"
    if out.changes:
        ctx = RuleContext(vendor_id=watch.vendor.id, vendor_name=watch.vendor.name,
                          source_id=watch.id, kind=watch.kind.NAME,
                          old_hash=old_hash, new_hash=doc.hash, settings=watch.settings,
                          names=(watch.vendor.name, *watch.vendor.aliases))
        out.events = _with_revision(watch, out.fetch, fire(out.changes, ctx, policy))
    return out


def _with_revision(watch: Watch, fetch: FetchResult,
                   events: list[TriggerEvent]) -> list[TriggerEvent]:
    """A Hub-backed card's triggers name the commit they were read at, and its date."""
    repo = watch.source.hub
    if not repo or not fetch.etag:
        return events
    revision = {"repo": repo, "commit": fetch.etag, "committed_at": fetch.last_modified}
    return [e.with_(evidence={**e.evidence, "hub": revision}) for e in events]


def _hold(out: Outcome, state: SourceState, doc: Document, hold: GuardConfig, *,
          reason: str | None, confirm: int = 1, first: str = "changed") -> Outcome:
    """Count consecutive sightings of a new version and since when it has been seen;
    accept it after ``confirm`` sightings, or, when it is suspect (``reason``), after
    ``hold.hold_checks`` sightings over at least ``hold.hold_time``."""
    again = state.pending_hash == doc.hash
    count = state.pending_count + 1 if again else 1
    since = (state.pending_since if again and state.pending_since is not None
             else out.started_at)
    if reason is None:
        accepted = count >= confirm
    else:
        accepted = (count >= max(confirm, hold.hold_checks)
                    and (out.started_at - since).total_seconds() >= hold.hold_time)
    if accepted:
        if first == "baseline":
            out.outcome, out.store_snapshot = "baseline", True
        else:
            out.outcome = "accept"
        return out
    out.outcome = "suspect" if reason is not None else "pending"
    out.suspect, out.reason = reason is not None, reason
    out.pending_hash, out.pending_count, out.pending_since = doc.hash, count, since
    return out
