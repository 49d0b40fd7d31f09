"""Helpers shared by the feed-shaped kinds (``incidents``, ``changelog``): pure, no I/O.

* ``parse_feed`` runs feedparser on bytes only (wrapped in a stream, so a body is never
  mistaken for a URL or a file name), without relative-URI resolution or sanitising;
* ``clean_url`` / ``clean_key`` drop tracking parameters so a link is a stable key;
* ``iso_time`` / ``iso_date`` normalise timestamps to UTC, whatever their spelling;
* ``fragment_lines`` turns an HTML or Markdown fragment into clean text lines;
* ``json_items`` / ``pick`` find the list of records in a JSON body, whatever it is called.

Markdown rendering (``markdown_html``) and wall detection (``looks_like_wall``) are
``markup``'s, shared with the structured kinds.
"""

from __future__ import annotations

import calendar
import email.utils
import io
import json
import re
import time
import warnings
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from config.errors import ParseError

from .formats import _BLOCK, NOISE_TAGS, decode, normalise_space, soup, strip_noise, text_lines
from .markup import markdown_html

# feedparser, bs4 and the lxml fast paths (fastfeed, fasthtml) are imported where a body is
# parsed: loading a kind, or the rules, must not cost their import.
if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

_TRACKING = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|_hsenc|_hsmi|igshid|"
    r"yclid|_ga|_gl|ref_src|ref_url|spm|trk|trkcampaign|oly_\w+|vero_\w+|s_cid|cmpid)$", re.I)


def check_regexes(patterns: tuple[str, ...], where: str) -> tuple[str, ...]:
    """Settings validation: every pattern compiles, or a ``ValueError`` that names it."""
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"{where}: invalid regex {pattern!r}: {exc}") from None
    return patterns


# An http(s) URL that urlsplit cuts into scheme, host and path only: no port, user,
# query, fragment, brackets, spaces or control characters.
_PLAIN_URL = re.compile(r"https?://([A-Za-z0-9.-]+)(/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?")


def clean_url(url: str | None) -> str | None:
    """A link without tracking parameters, with a lower-case host and no trailing slash."""
    if not url:
        return None
    url = url.strip()
    plain = _PLAIN_URL.fullmatch(url)
    if plain is not None:  # what urlsplit/urlunsplit below give for it
        path = plain.group(2) or ""
        return "https://" + plain.group(1).lower() + (
            path.rstrip("/") if path not in ("", "/") else "")
    return _clean_split_url(url)


def _clean_split_url(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return url
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not _TRACKING.match(k)] if parts.query else []
    path = parts.path.rstrip("/") if parts.path not in ("", "/") else ""
    return urlunsplit(("https", parts.netloc.lower(), path,
                       urlencode(sorted(query)) if query else "", parts.fragment))


def clean_key(value: Any) -> str:
    """A stable string key: URLs cleaned, whitespace normalised."""
    text = normalise_space(str(value))
    if text.startswith(("http://", "https://")):
        return clean_url(text) or text
    return text


_FEED_ROOT = re.compile(rb"<(rss|rdf:RDF|feed)\b[^>]*>", re.I)


def sniff_feed(body: bytes) -> str | None:
    """``rss`` or ``atom`` for an XML feed that ``detect`` missed (a stylesheet processing
    instruction or a long comment before the root element)."""
    head = body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"<"):
        return None
    m = _FEED_ROOT.search(head)
    if not m or re.search(rb"<(html|body)\b", head[:m.start()], re.I):
        return None
    return "atom" if m.group(1).lower() == b"feed" else "rss"


def parse_feed(body: bytes) -> Any:
    """feedparser on bytes only: never a URL, never a file, no sanitising or URI rewriting.

    Plain Atom 1.0 and RSS 2.0 take ``fastfeed``'s lxml path, which gives the same entry
    fields and asks feedparser for anything else."""
    from . import fastfeed

    if fastfeed.ENABLED:
        fast = fastfeed.parse(body, _feedparser)
        if fast is not None:
            return fast
    return _feedparser(body)


def _feedparser(body: bytes) -> Any:
    import feedparser

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return feedparser.parse(io.BytesIO(body), resolve_relative_uris=False,
                                sanitize_html=False,
                                response_headers={"content-location": "", "content-type":
                                                  "application/xml"})


def struct_iso(value: time.struct_time | None) -> str | None:
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
    """A timestamp (ISO 8601, RFC 822, epoch seconds or ms) as UTC ``YYYY-MM-DDTHH:MM:SSZ``."""
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
        return normalise_space(text) or None
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


_HTML_TAG = re.compile(r"<(/?[a-z][a-z0-9]*)(\s[^<>]*)?/?>", re.I)
RELATIVE_TIME = re.compile(
    r"\b(just now|(\d+|an?|one|few)\s+(seconds?|minutes?|mins?|hours?|hrs?|days?|weeks?|"
    r"months?|years?)\s+ago|\d+\s+min(ute)?s?\s+read)\b", re.I)


# Every match of ``RELATIVE_TIME`` holds one of these words, and ``re.I`` matches their
# letters to their capitals only (tests/test_fastparse.py): a text whose lower-cased
# form lacks all three has nothing for it to remove.
RELATIVE_WORDS = ("ago", "now", "read")


def strip_relative_time(text: str) -> str:
    """``RELATIVE_TIME.sub("", text)``, the regex run only where one of its words is."""
    low = text.lower()
    if "ago" in low or "now" in low or "read" in low:
        return RELATIVE_TIME.sub("", text)
    return text


def quiet_soup(markup: bytes | str) -> BeautifulSoup:
    """``formats.soup`` without bs4's advice (a body that looks like a URL, XML read as
    HTML): garbage is parsed, never warned about."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return soup(markup)


def fragment_lines(fragment: str | None, *, markdown: bool = False) -> list[str]:
    """Clean text lines of an HTML (or, with ``markdown``, Markdown) fragment."""
    from . import fasthtml

    if not fragment:
        return []
    if markdown:
        fragment = markdown_html(fragment)
    if not _HTML_TAG.search(fragment):
        lines = [normalise_space(line) for line in fragment.splitlines()]
    elif fasthtml.ENABLED:  # the same lines as below, from lxml's tree (fasthtml.py)
        lines = fasthtml.visible_lines(fragment, NOISE_TAGS, fasthtml.hidden, _BLOCK,
                                       normalise_space, flatten=True)
    else:
        doc = quiet_soup(fragment)
        strip_noise(doc)
        flatten_text(doc)
        lines = text_lines([doc])
    return clean_lines(lines)


def flatten_text(root: BeautifulSoup | Tag) -> None:
    """Source line breaks inside HTML text are spaces (outside ``<pre>``): re-wrapping a
    paragraph is not a change. Only block elements start new lines."""
    from bs4 import NavigableString

    for node in root.find_all(string=True):
        if "\n" in node and type(node) is NavigableString and node.find_parent("pre") is None:
            node.replace_with(node.replace("\n", " "))


_STAMP_LINE = re.compile(
    r"^(last\s+(updated|modified|revised|reviewed|edited)|(page\s+)?(updated|generated|"
    r"rendered|published|posted|modified|edited)(\s+(on|at))?|as of)\b\s*:?\s*(?P<tail>.*)$",
    re.I)


def is_stamp(line: str) -> bool:
    """A line that only says when something was rendered, posted or updated."""
    if re.match(r"^(©|\(c\)|copyright\b)", line, re.I):
        return True
    m = _STAMP_LINE.match(line)
    if not m:
        return False
    tail = m.group("tail")
    return not tail or (len(tail.split()) <= 6 and bool(re.search(r"\d", tail)))


def clean_lines(lines: Iterable[str]) -> list[str]:
    """Drop empty lines, render dates ("3 days ago", "Last updated: …") and reading times."""
    out = []
    for line in lines:
        line = normalise_space(strip_relative_time(line)).strip(" |·•-–—")
        if line and not is_stamp(line):
            out.append(line)
    return out


def load_json(body: bytes) -> Any:
    try:
        return json.loads(decode(body))
    except ValueError as exc:
        raise ParseError(f"body is not valid JSON: {exc}") from exc


def json_items(data: Any, keys: tuple[str, ...], depth: int = 0) -> list[tuple[str, dict]]:
    """The records of a JSON body: a top-level list, or lists under the given keys (nested
    up to three levels, e.g. ``{"summary": {"ongoing_incidents": [...]}}``), each paired with
    the key it was found under. JSON:API ``attributes`` are merged into their record."""
    found: list[tuple[str, dict]] = []
    if isinstance(data, list):
        return [("", _flat(item)) for item in data if isinstance(item, dict)]
    if not isinstance(data, dict) or depth > 3:
        return found
    for key in keys:
        value = data.get(key)
        if isinstance(value, list):
            found.extend((key, _flat(item)) for item in value if isinstance(item, dict))
        elif isinstance(value, dict) and key in ("incident", "release", "entry", "item"):
            found.append((key, _flat(value)))
        elif isinstance(value, dict) and value and all(isinstance(v, dict)
                                                       for v in value.values()):
            # records keyed by their id: {"incidents": {"abc": {...}}}
            found.extend((key, {"id": k, **_flat(v)}) for k, v in sorted(value.items()))
    if found:
        return found
    for key, value in data.items():
        if isinstance(value, dict) and key not in ("page", "status", "meta", "links"):
            found.extend(json_items(value, keys, depth + 1))
    return found


def _flat(item: dict) -> dict:
    attrs = item.get("attributes")
    if isinstance(attrs, dict):
        return {**attrs, **{k: v for k, v in item.items() if k != "attributes"}}
    return item


def pick(record: Mapping[str, Any], names: Iterable[str]) -> Any:
    """The first non-empty value among ``names``."""
    for name in names:
        value = record.get(name)
        if value not in (None, "", [], {}):
            return value
    return None


def as_text(value: Any) -> str | None:
    """A readable string for a JSON value: strings as they are, objects by name/title."""
    if value is None:
        return None
    if isinstance(value, dict):
        value = pick(value, ("name", "title", "label", "text", "value", "id"))
        return as_text(value)
    if isinstance(value, list):
        return None
    return normalise_space(str(value)) or None

