"""The one error tree of reassess.

```
ReassessError
├── ConfigError     a configuration file is invalid (names file, line and fix; exit 2)
├── FetchError      a source could not be fetched (network, HTTP status, size, empty body)
├── ParseError      a fetched body could not be turned into a document
├── StorageError    the database refused or is unreachable
└── NotifyError     a notification channel refused a message
```

Third-party exceptions are translated at the boundary (``raise FetchError(...) from exc``),
so callers only ever catch these.
"""

from __future__ import annotations


class ReassessError(Exception):
    """Base of every error reassess raises on purpose."""


class ConfigError(ReassessError):
    """A configuration file is invalid; the message names file, line and fix."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.line = line


class FetchError(ReassessError):
    """A source could not be fetched; recorded on the source, never diffed."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ParseError(ReassessError):
    """A fetched body could not be parsed into a document of its kind."""


class StorageError(ReassessError):
    """The database could not be reached or refused a write."""


class NotifyError(ReassessError):
    """A notification could not be delivered."""
