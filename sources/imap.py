"""An IMAP folder's newest messages, for a ``mailbox`` source (network edge).

``imap://user@host[:port]/FOLDER``: TLS from the start by default (port 993),
``tls: starttls`` upgrades a plain connection (143), ``tls: false`` stays plain (a
server on loopback in tests; never across a network). The folder is opened read-only
(EXAMINE) and messages are fetched with ``BODY.PEEK[]``: nothing is marked as seen.

Bounded: stdlib ``imaplib`` runs in a thread with a socket timeout (the source's
``timeout``, else ``http.timeout``) on every operation, inside the fetch's own deadline;
the newest ``scan`` messages' sizes and headers are read, at most ``max_messages``
matching ones are fetched, each at most ``max_message_bytes``, the newest first until
``http.max_bytes`` is reached. The result's body is
``{"mailbox", "uidvalidity", "messages": [{"uid", "size", "raw"}]}`` (``raw`` decoded as
UTF-8 with surrogate escapes: the bytes come back exactly); its ``etag`` is the folder's
UIDVALIDITY and newest UID, so an unchanged folder is not read again. The password is
never part of an error or the URL shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import imaplib
import json
import re
import ssl
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from .mailbox import Settings
from .mailbox.message import read_message

if TYPE_CHECKING:
    from .fetch import Fetcher, FetchRequest, FetchResult

FETCH_CHUNK = 100  # UIDs per header FETCH command


@dataclass(frozen=True)
class Folder:
    host: str
    port: int | None
    user: str
    folder: str
    secure: bool  # imaps://


def parse_url(url: str) -> Folder:
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname:
        raise ValueError("a mailbox url is imap://user@host/FOLDER")
    if parts.password:
        raise ValueError("a password in the url is refused; use password: ${VAR}")
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    return Folder(parts.hostname, parts.port, unquote(parts.username or ""), folder,
                  parts.scheme == "imaps")


async def fetch_mailbox(fetcher: Fetcher, request: FetchRequest, started: float
                        ) -> FetchResult:
    from .fetch import FetchResult

    options = dict((request.via or {}).get("imap") or {})
    password = str(options.pop("password", "") or "")
    timeout = request.timeout or fetcher.options.timeout
    try:
        settings = Settings.model_validate(options)
        where = parse_url(request.url)
        body, etag = await asyncio.to_thread(_read, where, password, settings, timeout,
                                             request.etag, request.url,
                                             fetcher.options.max_bytes)
    except Exception as exc:  # the server's, the network's or the config's: this source's
        message = _first_line(exc).replace(password, "${password}") if password else \
            _first_line(exc)
        return FetchResult(request.source_id, request.url, status=0,
                           error=f"imap: {message}" if isinstance(exc, imaplib.IMAP4.error)
                           else f"imap: {type(exc).__name__}: {message}",
                           elapsed_ms=_ms(started))
    if body is None:
        return FetchResult(request.source_id, request.url, status=304, etag=etag,
                           elapsed_ms=_ms(started))
    return FetchResult(request.source_id, request.url, status=200, body=body, etag=etag,
                       content_type="application/json", elapsed_ms=_ms(started))


def _connect(where: Folder, tls: bool | str, timeout: float) -> imaplib.IMAP4:
    context = ssl.create_default_context()
    if where.secure or tls is True:
        return imaplib.IMAP4_SSL(where.host, where.port or 993, ssl_context=context,
                                 timeout=timeout)
    client = imaplib.IMAP4(where.host, where.port or 143, timeout=timeout)
    if tls == "starttls":
        client.starttls(ssl_context=context)
    return client


def _read(where: Folder, password: str, settings: Settings, timeout: float,
          etag: str | None, shown: str, max_bytes: int) -> tuple[bytes | None, str]:
    """The matching messages (``None`` when the folder is as ``etag`` says it was), and
    the folder's validator."""
    client = _connect(where, settings.tls, timeout)
    try:
        try:
            _ok(client.login(where.user, password), "login")
        except imaplib.IMAP4.error as exc:
            raise imaplib.IMAP4.error(f"login refused for {where.user or '(no user)'}: "
                                      f"{_said(exc)}") from None
        mailbox = '"' + where.folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
        _ok(client.select(mailbox, readonly=True), f"open {where.folder}")
        validity = _untagged(client, "UIDVALIDITY")
        uids = _ok(client.uid("SEARCH", "ALL"), "search")[0].split()
        uids = uids[-settings.scan:]
        newest = uids[-1].decode() if uids else "0"
        # The folder's state and which messages are wanted: a new filter reads it again.
        wanted = hashlib.sha256(settings.model_dump_json().encode()).hexdigest()[:12]
        stamp = f"{validity}:{newest}:{len(uids)}:{wanted}"
        if etag == stamp:
            return None, stamp
        chosen = _matching(client, uids, settings)
        messages: list[dict[str, Any]] = []
        total = 0
        for uid, size in reversed(chosen):  # the newest first, until the body is full
            total += size
            if total > max_bytes:
                break
            data = _ok(client.uid("FETCH", uid.decode(), "(BODY.PEEK[])"), "fetch")
            raw = next((item[1] for item in data if isinstance(item, tuple)), None)
            if isinstance(raw, bytes):
                messages.append({"uid": int(uid), "size": size,
                                 "raw": raw[:settings.max_message_bytes]
                                 .decode("utf-8", "surrogateescape")})
        messages.reverse()
        body = json.dumps({"mailbox": shown, "uidvalidity": validity,
                           "messages": messages}, sort_keys=True).encode()
        return body, stamp
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()


def _matching(client: imaplib.IMAP4, uids: list[bytes], settings: Settings
              ) -> list[tuple[bytes, int]]:
    """The newest ``max_messages`` of ``uids`` whose sender and subject match, not over
    the size cap: their headers read in chunks."""
    from .mailbox.message import matches

    found: list[tuple[bytes, int]] = []
    for start in range(0, len(uids), FETCH_CHUNK):
        chunk = b",".join(uids[start:start + FETCH_CHUNK]).decode()
        data = _ok(client.uid("FETCH", chunk,
                              "(RFC822.SIZE BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])"),
                   "fetch headers")
        for item in data:
            if not isinstance(item, tuple):
                continue
            meta = item[0].decode("ascii", "replace") if isinstance(item[0], bytes) else ""
            uid = re.search(r"UID (\d+)", meta) or re.search(r"UID (\d+)", _tail(data, item))
            size = re.search(r"RFC822\.SIZE (\d+)", meta)
            if uid is None or size is None or int(size.group(1)) > settings.max_message_bytes:
                continue
            entry = read_message(item[1] if isinstance(item[1], bytes) else b"")
            if matches(entry, settings.from_, settings.subject):
                found.append((uid.group(1).encode(), int(size.group(1))))
    return found[-settings.max_messages:]


def _tail(data: list[Any], item: Any) -> str:
    """The line after a FETCH literal (where a server may put ``UID n)``)."""
    at = data.index(item)
    nxt = data[at + 1] if at + 1 < len(data) else b""
    return nxt.decode("ascii", "replace") if isinstance(nxt, bytes) else ""


def _untagged(client: imaplib.IMAP4, name: str) -> str:
    _, data = client.response(name)
    value = data[0] if data and data[0] is not None else b""
    return value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)


def _ok(answer: tuple[str, list[Any]], what: str) -> list[Any]:
    typ, data = answer
    if typ != "OK":
        detail = data[0].decode("utf-8", "replace") if data and isinstance(data[0], bytes) \
            else ""
        raise imaplib.IMAP4.error(f"{what} refused: {detail[:200]}")
    return data


def _said(exc: BaseException) -> str:
    """What the server said, as text (imaplib passes its bytes through ``repr``)."""
    text = str(exc.args[0] if exc.args else exc)
    if text.startswith(("b'", 'b"')) and text.endswith(("'", '"')):
        text = text[2:-1]
    return text[:200]


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
