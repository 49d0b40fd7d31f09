"""Durations as people write them in config: ``30s``, ``15m``, ``6h``, ``1d``, ``2w``."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from pydantic import ValidationInfo

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_PERIOD = re.compile(r"^\s*(\d+)\s*(day|week|month|year)s?\s*$", re.I)


def parse_duration(value: str | int | float) -> float:
    """Seconds in a duration such as ``30s`` or ``1d``; a bare number is seconds."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number with a unit, like 30s, 15m, 6h or 1d")
    if isinstance(value, int | float):
        if value <= 0:
            raise ValueError("a duration must be positive")
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration; write it like 30s, 15m, 6h or 1d")
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return seconds


def config_duration(value: Any, info: ValidationInfo) -> float:
    """A duration read from a configuration file needs its unit: ``interval: 6`` could mean
    six seconds or six hours. Models built in code may still pass plain seconds."""
    if (isinstance(value, int | float) and not isinstance(value, bool)
            and (info.context or {}).get("from_file")):
        raise ValueError(f"a duration needs a unit: write {value:g}s, {value:g}m, {value:g}h "
                         f"or {value:g}d")
    return parse_duration(value)


def format_duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def parse_period(value: str) -> tuple[int, str]:
    """A calendar period like ``12 months`` or ``1 year`` as (count, unit)."""
    match = _PERIOD.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a period; write it like '12 months', '1 year' "
                         "or '90 days'")
    return int(match.group(1)), match.group(2).lower()


def add_period(start: date, period: str) -> date:
    """``start`` plus a calendar period, clamping the day to the month's end."""
    count, unit = parse_period(period)
    if unit == "day":
        return start + timedelta(days=count)
    if unit == "week":
        return start + timedelta(weeks=count)
    months = count * (12 if unit == "year" else 1)
    year, month = divmod(start.month - 1 + months, 12)
    year += start.year
    month += 1
    for day in (start.day, 30, 29, 28):
        try:
            return start.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise ValueError(f"cannot add {period} to {start}")
