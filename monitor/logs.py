"""Logging: readable lines by default, one JSON object per line with ``--log-format json``.

Every record passes through ``redact`` so a secret (an apprise URL with its token, a
password in a database URL) never reaches a log.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

# scheme://user:secret@host, ?token=…, and the token paths of webhook URLs
_SECRET_PATTERNS = [
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/\s:@]+):([^@\s/]+)@"), r"\1\2:***@"),
    (re.compile(r"(?i)([?&](?:token|key|secret|password|pass|apikey|api_key|sig)=)[^&\s]+"),
     r"\1***"),
    (re.compile(r"(?i)(hooks\.slack\.com/services/)[^\s\"']+"), r"\1***"),
    (re.compile(r"(?i)\b((?:slack|discord|msteams|tgram|pover|json|jsons|form|forms|xml|"
                r"xmls)://)[^\s\"']+"), r"\1***"),
]


# Exact secrets known from the configuration (apprise URLs and their tokens), longest first.
_KNOWN: list[str] = []


def add_secrets(values: list[str]) -> None:
    """Redact these exact strings wherever they appear (short ones would mask words)."""
    merged = set(_KNOWN) | {v for v in values if v and len(v) >= 4}
    _KNOWN[:] = sorted(merged, key=len, reverse=True)


def redact(text: str) -> str:
    for secret in _KNOWN:
        if secret in text:
            text = text.replace(secret, "***")
    for rx, repl in _SECRET_PATTERNS:
        text = rx.sub(repl, text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = ()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(),
                "level": record.levelname.lower(), "logger": record.name,
                "message": record.getMessage()}
        if record.exc_info:
            data["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(data, ensure_ascii=False)


def setup_logging(fmt: str = "text", level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: "
                                               "%(message)s", "%Y-%m-%d %H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("apscheduler", "httpx", "aiohttp.access", "uvicorn.access", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
