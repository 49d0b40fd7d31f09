"""Dates: timestamps in any spelling as UTC, the first date a text writes, and the lines
that only say when a page was rendered, published or updated (pure)."""

from __future__ import annotations

import calendar
import email.utils
import re
import time
from datetime import UTC, datetime
from functools import cache
from typing import Any


def struct_iso(value: time.struct_time | None) -> str | None:
    """A feed's parsed date (a UTC ``struct_time``) as ``YYYY-MM-DDTHH:MM:SSZ``."""
    if not value:
        return None
    plain = _plain_iso(value)
    if plain is not None:
        return plain
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError, TypeError):
        return None


def _plain_iso(value: time.struct_time) -> str | None:
    """``struct_iso`` of a valid date and time (years 1000-9999, whole numbers): the
    very fields ``datetime.fromtimestamp(calendar.timegm(value))`` gives back, written
    out directly; None for anything else."""
    if type(value) is not time.struct_time:
        return None
    y, mo, d, h, mi, s = value[:6]
    if not (type(y) is type(mo) is type(d) is type(h) is type(mi) is type(s) is int):
        return None
    if not (1000 <= y <= 9999 and 1 <= mo <= 12 and 0 <= h <= 23 and 0 <= mi <= 59
            and 0 <= s <= 59 and d >= 1 and (d <= 28 or d <= calendar.monthrange(y, mo)[1])):
        return None
    return f"{y}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}Z"


def iso_time(value: Any) -> str | None:
    """A timestamp (ISO 8601, RFC 822, epoch seconds or ms) as UTC ``YYYY-MM-DDTHH:MM:SSZ``;
    text that is none of these, whitespace-normalised."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 10**11 else value
        try:
            return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        except (OverflowError, ValueError, OSError):
            return None
    text = str(value).strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" UTC", "+00:00"))
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            parsed = None
    if parsed is None:
        return " ".join(text.split()) or None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})
_MONTHS["sept"] = 9
_MON = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
DAY_MONTH_RX = re.compile(rf"\b{_MON}\s+\d{{1,2}}(st|nd|rd|th)?\b|\b\d{{1,2}}\s+{_MON}\b", re.I)
DATE_RX = re.compile(
    r"(?<![\w-])(?P<iso>(?P<y1>20\d\d|19\d\d)[-/.](?P<m1>\d{1,2})[-/.](?P<d1>\d{1,2}))\b"
    rf"|\b(?P<mon2>{_MON})\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y2>(?:19|20)\d\d)\b"
    rf"|\b(?P<d3>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon3>{_MON}),?\s+(?P<y3>(?:19|20)\d\d)\b"
    rf"|\b(?P<mon4>{_MON}),?\s+(?P<y4>(?:19|20)\d\d)\b",
    re.I)


def find_date(text: str) -> str | None:
    """The first calendar date written in ``text``, as ``YYYY-MM-DD`` (or ``YYYY-MM``)."""
    for m in DATE_RX.finditer(text):
        g = m.groupdict()
        try:
            if g["iso"]:
                return datetime(int(g["y1"]), int(g["m1"]), int(g["d1"])).strftime("%Y-%m-%d")
            mon = g["mon2"] or g["mon3"] or g["mon4"]
            month = _MONTHS.get(mon.lower().rstrip(".")) or _MONTHS.get(mon.lower()[:3])
            if not month:
                continue
            if g["mon4"]:
                return f"{int(g['y4']):04d}-{month:02d}"
            day, year = (g["d2"], g["y2"]) if g["mon2"] else (g["d3"], g["y3"])
            return datetime(int(year), month, int(day)).strftime("%Y-%m-%d")
        except (ValueError, TypeError):
            continue
    return None


def iso_date(value: Any) -> str | None:
    """A date-only ``YYYY-MM-DD`` from a timestamp or a written date."""
    stamp = iso_time(value)
    if stamp and re.match(r"\d{4}-\d\d-\d\dT", stamp):
        return stamp[:10]
    return find_date(str(value)) if value else None


# --- lines that only say when ---------------------------------------------------------
# Two readings of such lines, as the kinds grew them: ``is_date_noise`` (structured pages:
# model cards, subprocessor lists) and ``is_stamp`` (feed entries, changelog and incident
# text). They differ at the edges; merging them would change stored documents.

_MONTH = (r"(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|"
          r"sep(t(ember)?)?|oct(ober)?|nov(ember)?|dec(ember)?)\.?")
DATE = (rf"(\d{{4}}-\d{{2}}-\d{{2}}([t ][\d:.]+(z|[+-]\d\d:?\d\d)?)?|"
        rf"\d{{1,2}}[/.]\d{{1,2}}[/.]\d{{2,4}}|\d{{4}}/\d{{1,2}}/\d{{1,2}}|"
        rf"{_MONTH}\s+\d{{1,2}}(st|nd|rd|th)?,?\s+\d{{4}}|"
        rf"\d{{1,2}}(st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}}|{_MONTH}\s+\d{{4}})")
# The long patterns below are compiled on first use, not at import.
_DATE_LINE = (
    rf"^\W*((published|posted|date|updated|modified|revised|effective( date)?|as of|"
    rf"generated|rendered|fetched|retrieved|last\s+\w+)(\s+(on|at|date))?\s*:?\s*{DATE}\W*|"
    rf"last\s+(updated|modified|revised|reviewed|edited|refreshed)\b.{{0,40}}|"
    rf"this (page|list|document) was (last )?(updated|modified|generated|rendered)\b.{{0,60}}|"
    rf"{DATE}|(©|copyright)\s.{{0,80}}|.{{0,40}}\b\d+\s+(seconds?|minutes?|hours?|days?|"
    rf"weeks?|months?)\s+ago)\W*$")
_INLINE_DATE = (
    rf"[(·•|—-]?\s*\b(last\s+(updated|modified|revised|reviewed)|updated|generated|rendered|"
    rf"published|posted)(\s+(on|at))?:?\s+{DATE}\)?\.?")
_WS = re.compile(r"\s+")


@cache
def _rx(pattern: str) -> re.Pattern[str]:
    """One of the patterns above, compiled once, case-insensitive."""
    return re.compile(pattern, re.I)


def is_date_noise(line: str) -> bool:
    """A line that only says when the page was rendered, published or last updated
    (never a long one: the pattern's leading non-word run backtracks over every character of
    a long run of punctuation, seconds on a 200 kB line of brackets)."""
    return len(line) <= 300 and bool(_rx(_DATE_LINE).match(line))


def drop_inline_dates(text: str) -> str:
    """Remove "last updated March 3, 2025" phrases inside a longer line."""
    return _WS.sub(" ", _rx(_INLINE_DATE).sub("", text)).strip()


_STAMP_LINE = re.compile(
    r"^(last\s+(updated|modified|revised|reviewed|edited)|(page\s+)?(updated|generated|"
    r"rendered|published|posted|modified|edited)(\s+(on|at))?|as of)\b\s*:?\s*(?P<tail>.*)$",
    re.I)


_COPYRIGHT_LINE = re.compile(r"^(©|\(c\)|copyright\b)", re.I)
_DIGIT = re.compile(r"\d")


def is_stamp(line: str) -> bool:
    """A line that only says when something was rendered, posted or updated."""
    if _COPYRIGHT_LINE.match(line):
        return True
    m = _STAMP_LINE.match(line)
    if not m:
        return False
    tail = m.group("tail")
    return not tail or (len(tail.split()) <= 6 and bool(_DIGIT.search(tail)))
