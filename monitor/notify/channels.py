"""The apprise edge: turn a channel URL into a sender, show it masked, send and say why not.

A notification channel is an apprise URL, never code. This module is the only place
that calls apprise to send: one ``Apprise`` object per URL (so each URL gets the body
format it renders best and its own success or failure), persistent storage kept in
memory, and the plugin's log lines captured per thread so a refusal says why.
"""

from __future__ import annotations

import hashlib
import logging
import re
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from config.apprise_urls import load_apprise, scheme, why_invalid
from config.schema import ChannelConfig
from monitor.logs import add_secrets, redact

from .messages import Rendered

if TYPE_CHECKING:  # apprise is imported when a URL is first read or sent to, not before
    import apprise

APP_ID = "reassess"
SEND_TIMEOUT = 30.0

# What each message format needs from a plugin; everything else gets Markdown or text.
_EMAIL_SCHEMAS = {"mailto", "mailtos"}
_DATA_SCHEMAS = {"json", "jsons", "form", "forms", "xml", "xmls"}


def url_key(url: str) -> str:
    """A stable name for a URL that does not reveal it (stored in outbox rows)."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def asset() -> apprise.AppriseAsset:
    import apprise

    # service_timeout bounds one send, so a hung service cannot hold a delivery round
    return apprise.AppriseAsset(app_id=APP_ID, app_desc="reassess notifications",
                                storage_mode="memory", service_timeout=SEND_TIMEOUT)


def instantiate(url: str) -> Any:
    """The apprise plugin for ``url``, or None when apprise does not accept it."""
    import apprise

    load_apprise()
    return apprise.Apprise.instantiate(url, asset=asset(), suppress_exceptions=True)


def display(url: str) -> str:
    """The URL as apprise prints it in privacy mode: tokens and passwords masked."""
    plugin = instantiate(url)
    if plugin is None:
        return f"{scheme(url) or '?'}://(invalid)"
    return str(plugin.url(privacy=True)).split("?", 1)[0]


def secrets_of(url: str) -> list[str]:
    """The parts of a URL that its privacy form hides: what must never be shown."""
    plugin = instantiate(url)
    found: set[str] = set()
    split = re.compile(r"[/:@?&=]+")
    if plugin is not None:
        shown = set(split.split(str(plugin.url(privacy=True))))
        found |= {t for t in split.split(str(plugin.url(privacy=False))) if t not in shown}
    userinfo = re.match(r"^[^:/]+://([^/@]*)@", url)
    if userinfo and ":" in userinfo.group(1):
        found.add(userinfo.group(1).split(":", 1)[1])
    return sorted(t for t in found if len(t) >= 4)


_REGISTERED: set[str] = set()


def register_secrets(channels: dict[str, ChannelConfig]) -> None:
    """Teach the log redactor every secret of every configured URL (once per URL)."""
    values = []
    for channel in channels.values():
        for url in channel.urls:
            if url not in _REGISTERED:
                _REGISTERED.add(url)
                values += [url, *secrets_of(url)]
    if values:
        add_secrets(values)


def message_format(plugin: Any) -> str:
    """How to render for this plugin: ``email``, ``data``, ``markdown``, ``html`` or ``text``."""
    protocol = {str(p).lower() for p in _as_tuple(getattr(plugin, "protocol", None))}
    protocol |= {str(p).lower() for p in _as_tuple(getattr(plugin, "secure_protocol", None))}
    if protocol & _EMAIL_SCHEMAS:
        return "email"
    if protocol & _DATA_SCHEMAS:
        return "data"
    formats = _as_tuple(getattr(plugin, "notify_format", None))
    first = str(getattr(formats[0], "value", formats[0])) if formats else "text"
    return first if first in ("markdown", "html") else "text"


def _as_tuple(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, (tuple, list, set)) else (value,)


@dataclass(frozen=True)
class SendResult:
    ok: bool
    reason: str = ""


# apprise sends in its worker threads with a copy of the caller's context, so a context
# variable finds the capture of the send a log line belongs to, whatever the thread.
_CURRENT: ContextVar[list[str] | None] = ContextVar("reassess_apprise_capture", default=None)


class _Capture(logging.Handler):
    """apprise's warnings and errors, routed to the send they belong to."""

    def emit(self, record: logging.LogRecord) -> None:
        lines = _CURRENT.get()
        if lines is not None:
            lines.append(record.getMessage())


_HANDLER = _Capture(logging.WARNING)
logging.getLogger("apprise").addHandler(_HANDLER)


@cache
def _kinds() -> tuple[dict[str, apprise.NotifyType], dict[str, apprise.NotifyFormat]]:
    """Our notify types and body formats as apprise's (built once, on the first send)."""
    import apprise

    return ({"info": apprise.NotifyType.INFO, "success": apprise.NotifyType.SUCCESS,
             "warning": apprise.NotifyType.WARNING, "failure": apprise.NotifyType.FAILURE},
            {"markdown": apprise.NotifyFormat.MARKDOWN, "html": apprise.NotifyFormat.HTML,
             "text": apprise.NotifyFormat.TEXT})


def send(url: str, message: Rendered) -> SendResult:
    """Send one rendered message to one URL (blocking); never raises, never leaks the URL."""
    import apprise

    load_apprise()
    notify_types, body_formats = _kinds()
    sender = apprise.Apprise(asset=asset())
    if not sender.add(url):
        return SendResult(False, why_invalid(url))
    lines: list[str] = []
    token = _CURRENT.set(lines)
    try:
        ok = bool(sender.notify(body=message.body, title=message.title,
                                notify_type=notify_types[message.notify_type],
                                body_format=body_formats[message.body_format]))
    except Exception as exc:  # a plugin bug must not stop the notifier
        ok = False
        lines.append(f"{type(exc).__name__}: {exc}")
    finally:
        _CURRENT.reset(token)
    if ok:
        return SendResult(True)
    reason = "; ".join(dict.fromkeys(line.strip() for line in lines if line.strip()))
    return SendResult(False, _mask(url, reason or "the service refused the message"))


def _mask(url: str, text: str) -> str:
    for secret in [url, *secrets_of(url)]:
        text = text.replace(secret, "***")
    return redact(text)[:500]
