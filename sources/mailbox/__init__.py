"""mailbox — vendor notices that arrive only by email, read from an IMAP folder.

Subprocessor and trust-center updates from SafeBase, Vanta Trust Center, Conveyor and
many vendors are sent by email. A ``mailbox`` source polls an IMAP folder,
``imap://user@host/INBOX/vendor-notices`` (the user name may be in the URL, a password
never: ``password: ${IMAP_PASSWORD}``; TLS by default, ``tls: starttls`` or, for a
server on loopback, ``tls: false``; the server's certificate is verified against the
system's CAs, ``SSL_CERT_FILE`` names a private one), keeps the messages whose sender matches one of
``from:`` and whose subject matches one of ``subject:`` (case-insensitive regexes;
either may be left out), and reads each as an entry: its text part (else its HTML part
as text), subject, sender and date. Messages are read without being marked as seen.

The fetched body, kept as each version's evidence, is the raw messages (a JSON list
of ``{"uid", "raw"}``; an https:// url serving that JSON, an export, is read too); the
document is the entries keyed by Message-ID, each with its headers and the SHA-256 of
the raw message. The fetch is bounded: the newest ``scan``
messages of the folder are looked at (default 200), at most ``max_messages`` matching
ones are read (default 50), and a message over ``max_message_bytes`` (default 1 MiB) is
skipped. ``select`` narrows an HTML message to a CSS selector; ``ignore`` regexes drop
matching lines of its text.

Changes: entries added (a new message), edited or removed (a message deleted from the
folder). A new message is classified like a changelog entry: a named subprocessor added
("We are adding Snowflake Inc. as a subprocessor", "New subprocessors: …", a list under
"Added") or removed fires ``subprocessor_change`` with the subprocessor as entity; other
announcements fire what a changelog entry would (``model_change``, ``new_capability``,
``policy_change`` …). A removed message fires nothing.

Example::

    - id: acme-trust-mail
      kind: mailbox
      url: imap://alerts@mail.example.com/INBOX/vendor-notices
      password: ${IMAP_PASSWORD}
      from: ["@safebase\\\\.io$", "trust@acme\\\\.example"]
      subject: ["Acme"]
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator

from config.errors import ParseError

from ..base import BaseSettings, Change, ChangeOp, Document
from ..read.html import select
from ..read.text import check_regexes
from .message import MAX_MESSAGES_READ, matches, read_message

NAME = "mailbox"
PARSER_VERSION = "1"
INTERVAL = 900.0  # seconds: checked every quarter hour unless the config says otherwise
RULES = "triggers.mailbox:mailbox_rule"  # its rule in triggers/, named


class Settings(BaseSettings):
    """Which messages are the vendor's, and how the folder is read."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_: tuple[str, ...] = Field(default=(), alias="from")
    subject: tuple[str, ...] = Field(default=())
    tls: bool | Literal["starttls"] = True
    scan: int = Field(default=200, ge=1, le=5000)
    max_messages: int = Field(default=50, ge=1, le=MAX_MESSAGES_READ)
    max_message_bytes: int = Field(default=1024 * 1024, ge=1024, le=25 * 1024 * 1024)

    @field_validator("from_", "subject", mode="before")
    @classmethod
    def _patterns(cls, value: Any) -> Any:
        value = [value] if isinstance(value, str) else value
        return check_regexes(tuple(value), "a pattern") if value else ()


def parse(body: bytes, settings: BaseSettings) -> Document:
    if settings.select:  # checked before the messages: a bad selector is the config's
        select("<html></html>", settings.select)
    if not body.strip():  # nothing fetched: no messages
        return Document(kind=NAME, data={"entries": {}}, parser_version=PARSER_VERSION)
    try:
        raw = json.loads(body)
        listed = raw.get("messages") if isinstance(raw, dict) else None
        if not isinstance(listed, list):
            raise ParseError("mailbox: the body is not a list of messages")
        entries: dict[str, Any] = {}
        for item in listed[:MAX_MESSAGES_READ]:
            if not isinstance(item, dict) or not isinstance(item.get("raw"), str):
                continue
            entry = read_message(item["raw"].encode("utf-8", "surrogateescape"),
                                 settings.select, settings.ignore)
            if not matches(entry, getattr(settings, "from_", ()),
                           getattr(settings, "subject", ())):
                continue
            entries.setdefault(entry["id"], entry)
    except ParseError:
        raise
    except Exception as exc:  # a third-party parser's failure becomes ours
        raise ParseError(f"mailbox: cannot read the messages: {exc}") from exc
    return Document(kind=NAME, data={"entries": entries}, parser_version=PARSER_VERSION)


def diff(old: Document, new: Document) -> list[Change]:
    a, b = old.data.get("entries", {}), new.data.get("entries", {})
    changes: list[Change] = []
    for key in sorted(a.keys() | b.keys(), key=lambda k: ((b.get(k) or a.get(k) or {})
                                                         .get("date") or "", k)):
        before, after = a.get(key), b.get(key)
        if before == after:
            continue
        op: ChangeOp = "added" if before is None else "removed" if after is None else "modified"
        fields = () if op != "modified" else tuple(
            f for f in sorted(before.keys() | after.keys()) if before.get(f) != after.get(f))
        changes.append(Change(op, key, before, after, path="entry", fields=fields))
    return changes


def size(document: Document) -> int:
    # The folder that answered counts as one item: an empty folder is no error page.
    return 1 + len(document.data.get("entries", {}))


def describe(change: Change) -> str:
    entry = change.after or change.before or {}
    what = {"added": "new message", "removed": "message gone",
            "modified": "message changed"}[change.op]
    return f"{what}: {entry.get('subject') or change.key} (from {entry.get('from') or '?'})"
