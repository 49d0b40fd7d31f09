"""Text normalisation shared by every kind (pure): whitespace, quotes, ignored patterns,
render stamps, and the short pages that are bot challenges or login walls."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache

from .dates import is_stamp
from .urls import strip_tracking


def normalise_space(text: str) -> str:
    """Runs of whitespace → one space, none at the ends: ``re.sub(r"\\s+", " ", text)
    .strip()`` (``\\s`` is ``str.isspace``) without the regex engine."""
    return " ".join(text.split())


_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                         "\u00a0": " ", "\u2009": " ", "\u200b": "", "\u2060": "",
                         "\ufeff": "", "\u00ad": ""})


def clean_text(text: str) -> str:
    """NFC, straight quotes, no zero-width characters, one space, no tracking parameters."""
    if not text.isascii():  # every character ``_QUOTES`` maps is outside ASCII
        text = text.translate(_QUOTES)  # a translation looks up every character
    # normalise_space: ``re.sub(r"\s+", " ", …).strip()`` without the regex engine
    return normalise_space(strip_tracking(unicodedata.normalize("NFC", text)))


def check_regexes(patterns: tuple[str, ...], where: str) -> tuple[str, ...]:
    """Settings validation: every pattern compiles, or a ``ValueError`` that names it."""
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"{where}: invalid regex {pattern!r}: {exc}") from None
    return patterns


def apply_ignore(lines: list[str], patterns: Iterable[str]) -> list[str]:
    """Remove what each ``ignore`` regex matches; drop lines left empty."""
    compiled = [re.compile(p) for p in patterns]
    if not compiled:
        return lines
    out = []
    for line in lines:
        for rx in compiled:
            line = rx.sub("", line)
        line = normalise_space(line)
        if line:
            out.append(line)
    return out


RELATIVE_TIME = re.compile(
    r"\b(just now|(\d+|an?|one|few)\s+(seconds?|minutes?|mins?|hours?|hrs?|days?|weeks?|"
    r"months?|years?)\s+ago|\d+\s+min(ute)?s?\s+read)\b", re.I)
# Every match of ``RELATIVE_TIME`` holds one of these words, and ``re.I`` matches their
# letters to their capitals only (tests/test_read.py): a text whose lower-cased form
# lacks all three has nothing for it to remove.
RELATIVE_WORDS = ("ago", "now", "read")


def strip_relative_time(text: str) -> str:
    """``RELATIVE_TIME.sub("", text)``, the regex run only where one of its words is."""
    low = text.lower()
    if "ago" in low or "now" in low or "read" in low:
        return RELATIVE_TIME.sub("", text)
    return text


def clean_lines(lines: Iterable[str]) -> list[str]:
    """Drop empty lines, render dates ("3 days ago", "Last updated: …") and reading times."""
    out = []
    for line in lines:
        line = normalise_space(strip_relative_time(line)).strip(" |·•-–—")
        if line and not is_stamp(line):
            out.append(line)
    return out


def clean_lines_again(lines: Iterable[str]) -> list[str]:
    """``clean_lines`` of lines that ``clean_lines`` gave, without repeating its steps
    where they change nothing: such a line is already one spaced, stripped and not a
    stamp, so it comes back as it is unless a render date is found in it again (taking
    one out can join the words of another: "5 hours 2 days ago ago"). Only such a line
    is cleaned again."""
    out: list[str] = []
    for line in lines:
        if strip_relative_time(line) == line:
            out.append(line)
        else:
            out.extend(clean_lines((line,)))
    return out


_WALL = (
    r"just a moment|checking (if the site connection is secure|your browser)|"
    r"enable javascript and cookies|attention required|verify (that )?you are (a )?human|"
    r"are you a robot|captcha|access denied|request unsuccessful|ddos protection|"
    r"please (sign|log) ?in|(sign|log) ?in to (continue|view|access)|"
    r"you (need|must) (to )?(sign|log) ?in|you need to enable javascript|"
    r"enable javascript to run this app")


@cache
def _wall() -> re.Pattern[str]:
    return re.compile(_WALL, re.I)


def looks_like_wall(text: str) -> bool:
    """A short page (under 400 words or 3,000 characters) that is a bot challenge, a login
    wall or an empty app shell. Callers ask only when a page gave (almost) nothing, so a
    long page, or one with records, that mentions a captcha is never a wall."""
    short = len(text) < 3000 or len(text.split()) < 400
    return short and bool(_wall().search(text))
