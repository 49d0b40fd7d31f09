"""Countries and regions as subprocessor lists write them, for locations (pure data).

``places_in(text)`` finds the canonical places a location text names: "USA", "U.S." and
"United States of America" are all ``united states``; ``EU``, ``EEA``, ``Global`` are
regions. Two- and three-letter codes count only in upper case (``US`` but not "us"),
and ISO codes only when ``codes=True`` (a location cell, not free text).
"""

from __future__ import annotations

import re
from functools import lru_cache

from .. import vocab


def _table() -> list[tuple[str, str, bool]]:
    """(alias, canonical, is_code) for every spelling of the ``countries`` vocabulary
    (regions are its entries without a code), longest first."""
    rows: list[tuple[str, str, bool]] = []
    for name, words in vocab.get("countries").items():
        canonical = name.casefold()
        if words.get("code"):
            rows.append((words["code"], canonical, True))
        rows.extend((alias, canonical, False) for alias in (name, *words.get("aliases", ())))
    rows.sort(key=lambda r: -len(r[0]))
    return rows


def _pattern(alias: str) -> str:
    body = re.escape(alias).replace(r"\ ", r"\s+")
    return rf"(?<![\w.]){body}(?![\w])" if alias[-1] == "." else rf"(?<![\w.]){body}\b"


@lru_cache(maxsize=4)
def _spellings(codes: bool, generation: int = 0,
               ) -> tuple[tuple[str, ...], tuple[str, ...], dict[str, str]]:
    """Short upper-case spellings (matched as written), the others (any case), and each
    one's canonical name, keyed as written or case-folded."""
    lookup: dict[str, str] = {}
    strict: list[str] = []
    loose: list[str] = []
    for alias, canonical, is_code in _table():
        if is_code and not codes:
            continue
        short = len(alias.replace(".", "")) <= 3 and alias.upper() == alias
        key = alias if short else alias.casefold()
        if key in lookup:
            continue
        lookup[key] = canonical
        (strict if short else loose).append(alias)
    return tuple(strict), tuple(loose), lookup


@lru_cache(maxsize=4)
def _matchers(codes: bool, generation: int = 0,
              ) -> tuple[re.Pattern[str], re.Pattern[str], dict[str, str]]:
    """A case-sensitive pattern for short upper-case spellings, an insensitive one for names."""
    strict, loose, lookup = _spellings(codes, vocab.generation())
    return (re.compile("|".join(map(_pattern, strict))),
            re.compile("|".join(map(_pattern, loose)), re.I), lookup)


@lru_cache(maxsize=4)
def _whole(codes: bool, generation: int = 0) -> tuple[frozenset[str], frozenset[str]]:
    """What ``fullmatch`` of ``_matchers``' patterns accepts in ASCII text, as sets: the
    short spellings as written, the others lower-cased (ASCII has no other case rules)."""
    strict, loose, _ = _spellings(codes, vocab.generation())
    return frozenset(strict), frozenset(a.casefold() for a in loose if a.isascii())


def places_in(text: str, *, codes: bool = False) -> list[str]:
    """The canonical countries and regions a text names, in order of first mention."""
    strict, loose, lookup = _matchers(codes, vocab.generation())
    found: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []
    for rx, fold in ((loose, True), (strict, False)):
        for m in rx.finditer(text):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            word = re.sub(r"\s+", " ", m.group(0))
            canonical = lookup.get(word.casefold() if fold else word)
            if canonical:
                taken.append((m.start(), m.end()))
                found.append((m.start(), canonical))
    out: list[str] = []
    for _, name in sorted(found):
        if name not in out:
            out.append(name)
    return out


def canonical_place(part: str) -> str | None:
    """The canonical place when ``part`` is nothing but one place name, else ``None``.

    ASCII text is looked up in sets: the two patterns are slow to compile, and a diff,
    which asks only this, should not pay for them. Other text takes the patterns, whose
    case-insensitive matching has Unicode rules of its own.
    """
    return _by_sets(part) if part.isascii() else _by_patterns(part)


def _candidates(part: str) -> tuple[str, str, str]:
    bare = part.strip(" .")
    return part.strip(), bare, bare + "."


def _by_patterns(part: str) -> str | None:
    strict, loose, lookup = _matchers(True, vocab.generation())
    for clean in _candidates(part):
        if strict.fullmatch(clean):
            return lookup.get(clean)
        if loose.fullmatch(clean):
            return lookup.get(re.sub(r"\s+", " ", clean).casefold())
    return None


def _by_sets(part: str) -> str | None:
    """``_by_patterns`` for ASCII text (``tests/test_kinds_a.py`` checks they agree)."""
    names, folded = _whole(True, vocab.generation())
    lookup = _spellings(True, vocab.generation())[2]
    for clean in _candidates(part):
        if clean in names:
            return lookup.get(clean)
        # a pattern neither starts nor ends with whitespace and takes \s+ between words
        if clean == clean.strip():
            key = " ".join(clean.split()).casefold()
            if key in folded:
                return lookup.get(key)
    return None


def is_region(name: str) -> bool:
    """True for EU, Global, APAC …: places that are not one country."""
    return name in _regions(vocab.generation())


@lru_cache(maxsize=2)
def _regions(generation: int) -> frozenset[str]:
    return frozenset(n.casefold() for n, w in vocab.get("countries").items() if not w.get("code"))
