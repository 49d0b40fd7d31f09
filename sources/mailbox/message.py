"""One email message as a mailbox entry (pure): headers, text, hash."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr, parsedate_to_datetime
from typing import Any

from ..read.html import fragment_lines, select, visible_lines
from ..read.text import apply_ignore, clean_lines, normalise_space

MAX_MESSAGES_READ = 500  # messages at most in one body
MAX_LINES = 400  # lines of one message's text
MAX_LINE = 2000  # characters of one line
# The headers an entry keeps as evidence (a Received chain is noise and holds addresses).
KEPT_HEADERS = ("Message-ID", "From", "To", "Subject", "Date", "Reply-To", "List-Id",
                "Sender")
_BULLET = re.compile(r"^\s*([-*\u2022\u25aa\u2013]|\d{1,3}[.)])\s+")
_LABEL = re.compile(r"^\s*[A-Z][\w ()/&'-]{0,40}:\s*\S?")


def read_message(raw: bytes, selector: str | None = None,
                 ignore: Sequence[str] = ()) -> dict[str, Any]:
    """An entry: ``{"id", "title", "subject", "from", "date", "text", "headers", "hash"}``;
    ``title`` and ``text`` are what the changelog classifier reads."""
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    digest = hashlib.sha256(raw).hexdigest()
    headers = {name: _header(msg, name) for name in KEPT_HEADERS if msg.get(name) is not None}
    subject = headers.get("Subject", "")
    return {"id": headers.get("Message-ID") or f"<sha256:{digest[:32]}>",
            "title": subject, "subject": subject, "from": headers.get("From", ""),
            "date": _date(headers.get("Date")),
            "text": apply_ignore(message_lines(msg, selector), ignore),
            "headers": headers, "hash": digest}


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = str(msg.get(name, ""))
    except Exception:  # a malformed header: its raw text
        value = str(msg.get_all(name, [""])[0])
    return normalise_space(value)[:500]


def _date(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).isoformat()
    except (TypeError, ValueError, IndexError, OverflowError):
        return value[:60]


def message_lines(msg: EmailMessage, selector: str | None = None) -> list[str]:
    """The message's text: its plain part, else its HTML part as text (with a
    ``selector``, the HTML part's selected elements first)."""
    prefer = ("html", "plain") if selector else ("plain", "html")
    part = msg.get_body(preferencelist=prefer)
    if part is None:
        return []
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return []
    if part.get_content_subtype() == "html" and selector:
        lines = clean_lines(visible_lines(select(content, selector), flatten=True))
    elif part.get_content_subtype() == "html":
        lines = fragment_lines(content)
    else:
        lines = text_lines(content)
    return [line[:MAX_LINE] for line in lines[:MAX_LINES]]


def text_lines(text: str) -> list[str]:
    """Plain text as lines: a paragraph's wrapped lines joined, a list item or a
    "Label: value" line kept on its own; quoted replies and the signature dropped."""
    out: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            out.append(normalise_space(" ".join(current)))
            current.clear()

    for raw in text.replace("\r\n", "\n").split("\n"):
        if raw.rstrip() in ("--", "-- "):
            break  # the signature
        if raw.startswith(">"):
            continue
        line = raw.strip()
        if not line:
            flush()
            continue
        if _BULLET.match(line) or _LABEL.match(line):
            flush()
        current.append(line)
        if line.endswith(":"):
            flush()
    flush()
    return [line for line in out if line]


def matches(entry: dict[str, Any], senders: Sequence[str], subjects: Sequence[str]) -> bool:
    """Whether a message is the vendor's: its sender (the whole From header, or its bare
    address) matches one of ``senders`` and its subject one of ``subjects`` (an empty
    list matches anything)."""
    def any_of(patterns: Sequence[str], *texts: str) -> bool:
        return not patterns or any(re.search(p, t, re.I) for p in patterns for t in texts)
    sender = str(entry.get("from") or "")
    return any_of(senders, sender, parseaddr(sender)[1]) and any_of(
        subjects, str(entry.get("subject") or ""))
