"""The one place that reads the wall clock. Datetimes are timezone-aware UTC throughout."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
