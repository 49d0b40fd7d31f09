"""The vendor site's constants, document table, control errors and site data."""

from __future__ import annotations

import functools
import itertools
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

log = logging.getLogger("reassess.vendorsite")
SITEDATA = Path(__file__).resolve().parent.parent / "sitedata"
DEMO_VENDORS = ("acme", "northwind", "heliosml")
ANCHOR = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)  # initial content is dated before this
TOPICS = ("subprocessors", "incidents", "changelog", "model_card", "dpa")
IMPACTS = ("none", "minor", "major", "critical")
STATUSES = ("investigating", "identified", "monitoring", "resolved", "postmortem")
FAIL_MODES = ("500", "503", "empty", "slow", "challenge", "ok")
MAX_OVERRIDE = 8 * 1024 * 1024
MAX_MUTATIONS = 100_000
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")

HTML_CT = "text/html; charset=utf-8"
MD_CT = "text/markdown; charset=utf-8"


@dataclass(frozen=True, slots=True)
class DocSpec:
    """One document path: its topic (what state it shows), reassess kind and media type."""

    topic: str
    kind: str
    content_type: str
    template: str | None = None  # None: built in Python

    @property
    def html(self) -> bool:
        return self.content_type == HTML_CT


DOCS: dict[str, DocSpec] = {
    "subprocessors": DocSpec("subprocessors", "subprocessors", HTML_CT, "subprocessors.html.j2"),
    "subprocessors.md": DocSpec("subprocessors", "subprocessors", MD_CT, "subprocessors.md.j2"),
    "status/history.rss": DocSpec("incidents", "incidents", "application/rss+xml; charset=utf-8",
                                  "status.rss.xml.j2"),
    "status/history.atom": DocSpec("incidents", "incidents",
                                   "application/atom+xml; charset=utf-8", "status.atom.xml.j2"),
    "status/api/v2/incidents.json": DocSpec("incidents", "incidents",
                                            "application/json; charset=utf-8"),
    "changelog.atom": DocSpec("changelog", "changelog", "application/atom+xml; charset=utf-8",
                              "releases.atom.xml.j2"),
    "changelog.md": DocSpec("changelog", "changelog", MD_CT, "changelog.md.j2"),
    "changelog": DocSpec("changelog", "changelog", HTML_CT, "changelog.html.j2"),
    "model-card.md": DocSpec("model_card", "model_card", MD_CT),
    "model-card": DocSpec("model_card", "model_card", HTML_CT, "model_card.html.j2"),
    "dpa": DocSpec("dpa", "page", HTML_CT, "dpa.html.j2"),
}
TITLES = {"subprocessors": "Subprocessors", "changelog": "Changelog",
          "model-card": "Model card", "dpa": "Data Processing Addendum"}

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_VERSIONS = itertools.count(1)  # content versions never repeat, even across resets
_SLOT = re.compile("\x00@(NONCE|BUILD|CSRF|TIME|CSS)@\x00")
_NOISE = {name: f"\x00@{name}@\x00" for name in ("NONCE", "BUILD", "CSRF", "TIME", "CSS")}


class ControlError(Exception):
    """A control command that cannot be applied; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


# The time changes are stamped with while a journal of past changes is replayed
# (``VendorSite.replay``); None: the clock.
REPLAY_AT: list[datetime] = []


def _now() -> datetime:
    return REPLAY_AT[-1] if REPLAY_AT else datetime.now(UTC)


# --------------------------------------------------------------------------- data


@functools.cache
def _data() -> dict[str, Any]:
    with (SITEDATA / "vendors.yaml").open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)  # type: ignore[no-any-return]


def _clean(value: Any, what: str, max_len: int = 2000) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ControlError(400, f"{what} must be a non-empty string")
    if len(value) > max_len:
        raise ControlError(400, f"{what} is longer than {max_len} characters")
    return value.replace("\x00", "").strip()


# Shared by the state (release notes are stored as HTML too) and the rendering.


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@functools.cache
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable("table")


_SIMPLE_LIST = re.compile(r"(?:- [^\n*_\[\]<>&\\!#|~\"]+(?:\n|$))+")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")


@functools.lru_cache(maxsize=8192)
def _md_html(text: str) -> str:
    """Markdown to HTML, as markdown-it renders it; plain bullet lists (all generated
    release notes) take a fast path that gives the same bytes."""
    if _SIMPLE_LIST.fullmatch(text) and text.count("`") % 2 == 0:
        items = [_CODE_SPAN.sub(r"<code>\1</code>", line[2:].strip())
                 for line in text.splitlines()]
        return "<ul>\n" + "".join(f"<li>{item}</li>\n" for item in items) + "</ul>\n"
    return _markdown().render(text)
