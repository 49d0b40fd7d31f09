"""Countries and regions as subprocessor lists write them, for locations (pure data).

``places_in(text)`` finds the canonical places a location text names: "USA", "U.S." and
"United States of America" are all ``united states``; ``EU``, ``EEA``, ``Global`` are
regions. Two- and three-letter codes count only in upper case (``US`` but not "us"),
and ISO codes only when ``codes=True`` (a location cell, not free text).
"""

from __future__ import annotations

import bisect
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


_RUN = re.compile(r"(?<![\w.])\w+")


@lru_cache(maxsize=4)
def _first_runs(generation: int = 0) -> frozenset[str]:
    """The first run of word characters of every spelling, lower-cased ("u" of "U.S.",
    "people" of "People's Republic of China")."""
    out: set[str] = set()
    for alias, _, _ in _table():
        run = re.search(r"\w+", alias.casefold())
        if run:
            out.add(run.group(0))
    return frozenset(out)


def _starts(text: str) -> list[int] | None:
    """Where a spelling can start in an ASCII text: where a run of word characters that
    begins some spelling stands after neither a word character nor a dot (the patterns'
    own look-behind). The patterns are tried there only: scanning the whole text costs
    about as much as its length times the number of spellings. ``None`` for other text
    (case-insensitive matching has Unicode rules of its own)."""
    if not text.isascii():
        return None
    first = _first_runs(vocab.generation())
    return [m.start() for m in _RUN.finditer(text) if m.group(0).casefold() in first]


def _matches(rx: re.Pattern[str], text: str, starts: list[int] | None,
             ) -> list[re.Match[str]]:
    """What ``rx.finditer(text)`` finds, trying only the positions in ``starts``."""
    if starts is None:
        return list(rx.finditer(text))
    out: list[re.Match[str]] = []
    end = 0
    for pos in starts:
        if pos < end:
            continue
        m = rx.match(text, pos)
        if m:
            out.append(m)
            end = max(m.end(), pos + 1)
    return out


def places_in(text: str, *, codes: bool = False) -> list[str]:
    """The canonical countries and regions a text names, in order of first mention."""
    starts = _starts(text)
    if starts == []:
        return []
    strict, loose, lookup = _matchers(codes, vocab.generation())
    found: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []  # the loose matches kept, in order, not overlapping
    for rx, fold in ((loose, True), (strict, False)):
        for m in _matches(rx, text, starts):
            if not fold:
                i = bisect.bisect_left(taken, (m.end(), -1))
                if i and taken[i - 1][1] > m.start():
                    continue  # inside a longer spelling found before ("US" of "USA")
            word = re.sub(r"\s+", " ", m.group(0))
            canonical = lookup.get(word.casefold() if fold else word)
            if canonical:
                if fold:
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
