"""The names and values subprocessor entities are keyed and compared by (pure).

* ``display_name`` / ``name_key``: "Amazon Web Services, Inc.¹" displays as
  "Amazon Web Services, Inc." and is keyed ``amazon web services``, like
  "Amazon Web Services Inc" and "Amazon Web Services (AWS)".
* ``text_key`` / ``location_key``: what a purpose or location means for comparison
  (case, punctuation, order of list items and country spellings do not count).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from .. import vocab
from .places import canonical_place, places_in

# One footnote marker at the very end of a text: "[12]", "(3)", "[a]", "[*]". Matched on
# the text's last few characters only, so stripping markers one by one stays linear.
_MARKER = re.compile(r"(\[\d{1,3}\]|\(\d{1,2}\)|\[[a-z*†‡]\])$")
_MARK_CHARS = frozenset("*†‡§¹²³⁴⁵⁶⁷⁸⁹⁰⁺")
_LEADING_MARK = re.compile(r"^\s*[*†‡§•·▪►✓✔-]+\s+")
_SUPERSCRIPT_DIGITS = re.compile(r"[¹²³⁴⁵⁶⁷⁸⁹⁰]")
_SPACES = re.compile(r"\s+")
_TRAILING_PAREN = re.compile(r"\s*\([^()]*\)\s*$")
_PUNCTUATION = re.compile(r"[^\w\s]")


def strip_footnotes(text: str) -> str:
    """Remove footnote markers (``*``, ``¹``, ``[1]``, ``(1)``, ``†``) at the end of a value.

    A loop over the end of the text, not one pattern with nested repetition: "Ticketing"
    and forty ``*`` followed by anything must cost as little as any other cell."""
    end = len(text.rstrip())
    while end:
        if text[end - 1] in _MARK_CHARS:
            end -= 1
        else:
            match = _MARKER.search(text, max(0, end - 5), end)
            if match is None:
                break
            end = match.start()
        while end and text[end - 1].isspace():
            end -= 1
    return text[:end].strip()


def display_name(text: str) -> str:
    """An entity's name as shown: no footnote markers, bullets or trailing punctuation."""
    text = _LEADING_MARK.sub("", strip_footnotes(text))
    text = _SUPERSCRIPT_DIGITS.sub("", text)
    return _SPACES.sub(" ", text).strip(" :;,–—-|").strip()


def _suffixes() -> frozenset[str]:
    return _suffix_set(vocab.generation())


@lru_cache(maxsize=2)
def _suffix_set(generation: int) -> frozenset[str]:
    return frozenset(_fold(w).replace(".", "") for w in vocab.get("legal_suffixes"))


def _fold(text: str) -> str:
    """Case and accents dropped; Hangul and kana stay composed."""
    if text.isascii():
        return text.casefold()
    out: list[str] = []
    for c in unicodedata.normalize("NFKD", text):
        if unicodedata.combining(c) and out and out[-1] < "\u0250":
            continue  # an accent on a Latin letter ("é"), not a kana's voicing mark
        out.append(c)
    return unicodedata.normalize("NFC", "".join(out)).casefold()


@lru_cache(maxsize=2)
def _unspaced_forms(generation: int) -> tuple[str, ...]:
    """Legal forms of scripts written without spaces, longest first: they are found at
    either end of a name even when joined to it ("株式会社Example")."""
    return tuple(sorted((s for s in _suffix_set(generation) if not s.isascii()
                         and len(s) >= 3), key=len, reverse=True))


_ALIASES = {"aws": "amazon web services", "gcp": "google cloud platform",
            "google cloud": "google cloud platform", "msft": "microsoft"}


def name_key(name: str) -> str:
    """The case-, accent-, punctuation- and legal-suffix-free key an entity is matched by."""
    text = _fold(name)
    bare = _TRAILING_PAREN.sub("", text).strip()
    text = (bare or text).replace("&", " and ").replace(".", "")
    suffixes = _suffixes()
    for form in () if text.isascii() else _unspaced_forms(vocab.generation()):
        if text.startswith(form) and len(text) > len(form):
            text = text[len(form):]
        if text.endswith(form) and len(text) > len(form):
            text = text[:-len(form)]
    words = _PUNCTUATION.sub(" ", text).split()
    if words and words[0] == "the" and len(words) > 1:
        words = words[1:]
    while len(words) > 1 and not words[0].isascii() and words[0] in suffixes:
        words = words[1:]  # "(주)NHN KCP"
    while len(words) > 1 and words[-1] in suffixes:
        words.pop()
    if len(words) > 2 and words[-2:] == ["co", "kg"]:
        words = words[:-2]
    key = " ".join(words)
    return _ALIASES.get(key, key)


_STOP = {"and", "or", "of", "the", "a", "an", "for", "to", "in", "on", "with", "by", "as", "via",
         "its", "our", "their", "we", "us", "e", "g", "eg", "ie", "etc", "including"}


def text_key(value: str | None) -> tuple[str, ...]:
    """A purpose (or other value) as its set of words: case, punctuation, separators,
    line breaks, item order and small words do not change its meaning."""
    words = _PUNCTUATION.sub(" ", (value or "").casefold().replace("&", " and ")).split()
    return tuple(sorted({w for w in words if w not in _STOP}))


def location_key(value: str | None) -> tuple[str, ...]:
    """A location as a set of canonical places and other parts: "USA, EU" = "EU and US"."""
    parts = re.split(r"[;,/|()\n•]|\s+(?:and|&|\+)\s+|\s[–—-]\s", value or "")
    out = set()
    for part in parts:
        clean = re.sub(r"^\s*(the\s+)", "", part.strip(" .:"), flags=re.I)
        if not clean:
            continue
        place = canonical_place(clean)
        out.add(place or re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", clean.casefold())).strip())
    return tuple(sorted(p for p in out if p))


def places_of(value: str | None) -> set[str]:
    """The canonical countries and regions a location names."""
    return set(places_in(value or "", codes=True))
