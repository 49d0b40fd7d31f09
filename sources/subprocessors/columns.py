"""Which column of an entity table holds what: header roles, headerless tables (pure).

A table (a grid of cell texts, see ``read.tables``; a CSV; the keys of JSON or YAML
records) becomes *records*: one dict per row, keyed ``name``, ``purpose``, ``location``
(found from the headers, whatever their wording) and a slug per other column. The words
come from the ``header_words`` vocabulary (``sources/vocab/header_words.yaml``, extended by
the config), so a header in another language is one more word there, not code. A table
without headers is read by its values (the column of countries is the location, the
first other column the name). Cookie tables and change logs are not entity tables and
give no records.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

from .. import vocab
from ..read.tables import norm_header
from .places import places_in

ROLES = ("name", "purpose", "location")
_GROUPS = ("name", "purpose", "location", "skip", "index", "strong", "weak", "listing",
           "corporate", "processing", "not_purpose", "not_entities")
# Scripts written without spaces between words: their words match anywhere in a header.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def _word_pattern(word: str) -> str:
    if _UNSPACED.search(word):
        return re.escape(word)
    plural = "(?:e?s)?" if word[-1:].isalpha() else ""
    return rf"(?<!\w){re.escape(word)}{plural}(?!\w)"


@lru_cache(maxsize=4)
def _matchers(generation: int) -> dict[str, tuple[re.Pattern[str], frozenset[str]]]:
    """Per word group: a pattern finding its words in a normalised header, and the set of
    its words (normalised like a header)."""
    words = vocab.get("header_words")
    out: dict[str, tuple[re.Pattern[str], frozenset[str]]] = {}
    for group in _GROUPS:
        normed = {norm_header(str(w)) or str(w).strip().casefold()
                  for w in words.get(group) or ()}
        normed.discard("")
        ordered = sorted(normed, key=lambda w: (-len(w), w))
        pattern = "|".join(_word_pattern(w) for w in ordered) or r"(?!x)x"
        out[group] = (re.compile(pattern), frozenset(normed))
    return out


def _groups() -> dict[str, tuple[re.Pattern[str], frozenset[str]]]:
    return _matchers(vocab.generation())


def _found(group: str, header: str) -> list[re.Match[str]]:
    return list(_groups()[group][0].finditer(header))


def _has(group: str, header: str) -> bool:
    return _groups()[group][0].search(header) is not None


def _word(match: re.Match[str]) -> str:
    return match.group(0)


def slug(text: str) -> str:
    return re.sub(r"\s+", "_", norm_header(text)) or "column"


def _member(group: str, word: str) -> bool:
    """``word`` (as matched, perhaps plural) is one of the group's words."""
    return _in(_groups()[group][1], word)


def role_scores(header: str) -> dict[str, int]:
    """How strongly a normalised header names each role (``skip``: a column to drop)."""
    return dict(_scores(header, vocab.generation()))


@lru_cache(maxsize=4096)
def _scores(header: str, generation: int) -> tuple[tuple[str, int], ...]:
    # Cached: a table's headers are scored again for every table and every row label.
    return tuple(_role_scores(header).items())


def _role_scores(header: str) -> dict[str, int]:
    h = header
    if not h:
        return {}
    if h in _groups()["index"][1] or _has("skip", h):
        return {"skip": 9}
    out: dict[str, int] = {}
    names = _found("name", h)
    if names:
        if any(_member("strong", _word(m)) for m in names):
            out["name"] = 7
        elif any(m.end() == len(h) for m in names):
            out["name"] = 6
        else:
            out["name"] = 3
    if _has("location", h):
        out["location"] = 3 if _has("corporate", h) else 7 if _has("processing", h) else 6
    purposes = [] if _has("not_purpose", h) else _found("purpose", h)
    if purposes:
        if any(_member("strong", _word(m)) for m in purposes):
            out["purpose"] = 7
        elif any(not _member("weak", _word(m)) for m in purposes):
            out["purpose"] = 5
        else:
            out["purpose"] = 2
    return out


def is_dated(header: str) -> bool:
    """A header of a date column ("Date", "Date added", "Updated")."""
    return _has("skip", norm_header(header))


def not_entities(header: str) -> bool:
    """A header only a cookie table has ("Cookie", "Expiry")."""
    return _has("not_entities", norm_header(header))


def _override(header: str, wanted: str | None) -> bool:
    if not wanted:
        return False
    want = norm_header(wanted)
    return bool(want) and (header == want or want in header)


def header_columns(headers: Sequence[str], overrides: Mapping[str, str | None] | None = None,
                   ) -> dict[int, str] | None:
    """Field key per column (``name``/``purpose``/``location``/slug), ``None`` if no entities.

    Each role goes to the column that names it most strongly; a table with no name header
    takes its first free column as the name. Cookie tables and tables whose headers name
    no role are not entity tables.
    """
    norm = [norm_header(h) for h in headers]
    if any(_has("not_entities", h) for h in norm):
        return None
    candidates: list[tuple[int, int, int, str]] = []
    skipped: set[int] = set()
    for i, h in enumerate(norm):
        scores = role_scores(h)
        for role in ROLES:
            if _override(h, (overrides or {}).get(f"{role}_column")):
                scores[role] = 100
        if scores.get("skip") and not any(scores.get(r, 0) >= 100 for r in ROLES):
            skipped.add(i)
            continue
        for role, score in scores.items():
            if role in ROLES:
                candidates.append((-score, ROLES.index(role) * -1, i, role))
    assigned: dict[str, tuple[int, int]] = {}
    used: set[int] = set()
    for neg, _, i, role in sorted(candidates):
        if role not in assigned and i not in used:
            assigned[role] = (i, -neg)
            used.add(i)
    if not _qualifies(assigned, norm, len(headers)):
        return None
    if any(_has("skip", h) for h in norm) and not ({"purpose", "location"} & assigned.keys()):
        return None  # a change log: "Date | Subprocessor | Change"
    if "name" not in assigned:
        free = [i for i in range(len(headers)) if i not in used and i not in skipped
                and not _has("not_purpose", norm[i]) and "data" not in norm[i].split()]
        if not free:
            return None
        assigned["name"] = (free[0], 0)
        used.add(free[0])
    columns = {i: role for role, (i, _) in assigned.items()}
    for i, h in enumerate(headers):
        if i not in columns and i not in skipped and norm[i]:
            columns[i] = slug(h)
    return columns


def _qualifies(assigned: Mapping[str, tuple[int, int]], norm: Sequence[str], ncols: int) -> bool:
    score = {role: s for role, (_, s) in assigned.items()}
    if "name" in score and ("purpose" in score or "location" in score):
        return True
    if score.get("name", 0) >= 6 and _has("listing", norm[assigned["name"][0]]):
        return True
    if "location" in score and "purpose" in score:
        return True
    return (score.get("location", 0) >= 6 or score.get("purpose", 0) >= 5) and ncols <= 4


def looks_like_header(cells: Sequence[str]) -> bool:
    """A first row of plain cells that reads like column headers, not like an entity."""
    filled = [c for c in cells if c.strip()]
    if len(filled) < 2 or any(len(c.split()) > 6 or re.search(r"\d", c) for c in filled):
        return False
    scores = [role_scores(norm_header(c)) for c in filled]
    if not all(s or _any_word(norm_header(c)) for s, c in zip(scores, filled, strict=True)):
        return False  # every cell names a role or is another header word ("Link", "DPA")
    if sum(1 for s in scores if s) < 0.6 * len(filled):
        return False
    return any(max(s.values()) >= 5 for s in scores if s) or len(filled) >= 3


_ALL_GROUPS = ("name", "purpose", "location", "skip", "index", "processing", "corporate",
               "not_purpose", "not_entities")


def _any_word(header: str) -> bool:
    return bool(header) and any(_has(g, header) for g in _ALL_GROUPS)


def is_header_text(text: str) -> bool:
    """A text made only of header words ("Sub-Processor", "Vendor name", "Region"): a
    column's title, never an entity's name."""
    header = norm_header(text)
    return len(header.split()) <= 4 and _header_text(header, vocab.generation())


@lru_cache(maxsize=1)
def _word_sets(generation: int) -> tuple[frozenset[str], frozenset[str]]:
    """The words of the three roles, and every header word of any group."""
    groups = _groups()
    roles = frozenset().union(*(groups[g][1] for g in ROLES))
    return roles, roles.union(*(groups[g][1] for g in _ALL_GROUPS))


def _in(words: frozenset[str], word: str) -> bool:
    """``word`` is one of ``words``, perhaps with a plural "s" or "es"."""
    return (word in words or (word.endswith("s") and word[:-1] in words)
            or (word.endswith("es") and word[:-2] in words))


@lru_cache(maxsize=4096)
def _header_text(header: str, generation: int) -> bool:
    roles, every = _word_sets(generation)
    words = header.split()
    if not words:
        return False
    if _in(roles, header):
        return True  # "sub processor", "data center"
    return (all(_in(every, w) or w in ("of", "the", "and") for w in words)
            and any(_in(roles, w) for w in words))


def is_location(value: str) -> bool:
    """A value that is mostly place names: "Germany (Frankfurt)", "US, EU", "Global"."""
    return _is_location(value, vocab.generation())


@lru_cache(maxsize=4096)
def _is_location(value: str, generation: int) -> bool:
    # Cached: a column of locations repeats its few values on every row.
    if len(value.split()) > 8:
        return False
    found = places_in(value, codes=True)
    if not found:
        return False
    rest = re.sub(r"[^\w\s]", " ", value)
    for word in ("and", "the", "of", *(w for p in found for w in p.split())):
        rest = re.sub(rf"\b{re.escape(word)}\b", " ", rest, flags=re.I)
    rest = re.sub(r"\b(US|UK|EU|EEA|UAE|USA|[A-Z]{2})\b", " ", rest)
    return len(rest.split()) <= 2


_NUMERIC = re.compile(r"^[\d\s.,#()/-]*$")


def value_columns(rows: Sequence[Sequence[str]]) -> tuple[dict[int, str], bool] | None:
    """Roles of a headerless table from its values, and whether a location column was found."""
    ncols = max((len(r) for r in rows), default=0)
    if ncols < 2 or len(rows) < 2:
        return None
    location, skipped = None, set()
    for i in range(ncols):
        values = [r[i] for r in rows if i < len(r) and r[i]]
        if not values or all(_NUMERIC.match(v) for v in values):
            skipped.add(i)
            continue
        placed = sum(1 for v in values if is_location(v))
        if location is None and placed >= 0.6 * len(values):
            location = i
    free = [i for i in range(ncols) if i not in skipped and i != location]
    if not free:
        return None
    names = [r[free[0]] for r in rows if free[0] < len(r) and r[free[0]]]
    if not names or sum(len(n.split()) for n in names) / len(names) > 8:
        return None
    if is_label_column(names):
        return None  # "Purpose | …", "Location | …": one entity's details, not entities
    columns = {free[0]: "name"}
    if len(free) > 1:
        columns[free[1]] = "purpose"
    if location is not None:
        columns[location] = "location"
    for i in free[2:]:
        columns[i] = f"column_{i + 1}"
    return columns, location is not None


def is_label_column(values: Sequence[str]) -> bool:
    """Most values name a column role ("Purpose", "Location", "Data processed"): the
    first column of a key | value table."""
    labels = sum(1 for v in values if len(v.split()) <= 5 and role_scores(
        norm_header(v.rstrip(":："))))
    return labels >= 0.6 * len(values)


def records(header: Sequence[str] | None, rows: Sequence[Sequence[str]],
            overrides: Mapping[str, str | None] | None = None,
            ) -> tuple[list[dict[str, str]], bool]:
    """One record per row (``{}`` for an empty row), and whether the table was recognised
    with confidence (by its headers, or a headerless table with a column of countries)."""
    columns: dict[int, str] | None
    confident = True
    if header is not None:
        columns = header_columns(header, overrides)
    else:
        found = value_columns(rows)
        columns, confident = found if found else (None, False)
    if not columns:
        return [], False
    return [{key: row[i] for i, key in columns.items() if i < len(row) and row[i]}
            for row in rows], confident
