"""Entries that changed key but not content (pure): an entry's identity survives a change
of the page's structure.

A changelog's entries are keyed by what their headings say (a version, else a title, a
date). When the structure changes — headings gain version numbers, two releases come to
share a date and the page groups them under it, the entry level moves from date headings
to version headings or back — every key changes while no release did. ``rekeyed`` pairs
the entries that appear under new keys with the ones that disappeared, by what they say:

* the lines that tell releases apart (not boilerplate: a line in more than two entries of
  a document is not counted), and
* the versions they name (a version heading's title, a version line under a date
  heading); two entries naming different versions are never one.

An added entry most of whose telling lines (at least half) are found in removed entries
is those entries re-keyed: the diff reports it as modified, its old self the union of
the entries it came from, so the rule fires only for what is new in it. One removed
entry may give several added ones (a date split into its releases) and several removed
entries one added (releases grouped under their date). Linear in the number of lines.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from ..read.dates import DATE_RX
from ..read.entries import VERSION_RX

SHARE = 0.5  # of an added entry's telling lines found in removed entries
SHORT = 40  # a line this short under a heading may be its version line
_NOT_WORD = re.compile(r"[\W_]+")


def _norm(line: str) -> str:
    return " ".join(_NOT_WORD.sub(" ", line.lower()).split())


def _telling(line: str) -> bool:
    """A line that can tell a release apart: more than a version, a date or a word."""
    bare = DATE_RX.sub(" ", VERSION_RX.sub(" ", line))
    return len(_NOT_WORD.sub("", bare)) >= 8


def versions(entry: dict[str, Any]) -> set[str]:
    """The versions an entry names: in its title, or in a short line under it."""
    texts = [str(entry.get("title") or "")]
    texts += [ln for ln in entry.get("text") or () if len(ln) <= SHORT]
    return {a or b for text in texts for a, b in VERSION_RX.findall(text)}


def _lines(entry: dict[str, Any], common: set[str]) -> set[str]:
    return {n for n in map(_norm, filter(_telling, entry.get("text") or ())) if n
            and n not in common}


def _common(*docs: Iterable[dict[str, Any]]) -> set[str]:
    """Lines found in more than two entries of one document: boilerplate."""
    out: set[str] = set()
    for entries in docs:
        counts: Counter[str] = Counter()
        for entry in entries:
            counts.update({_norm(ln) for ln in entry.get("text") or ()})
        out.update(line for line, n in counts.items() if n > 2)
    return out


def rekeyed(added: dict[str, dict[str, Any]], removed: dict[str, dict[str, Any]],
            old_entries: list[dict[str, Any]], new_entries: list[dict[str, Any]],
            ) -> dict[str, list[str]]:
    """Added key → the removed keys whose content it carries (only the keys re-keyed)."""
    if not added or not removed:
        return {}
    common = _common(old_entries, new_entries)
    where: dict[str, list[str]] = {}
    for key, entry in removed.items():
        for line in _lines(entry, common):
            where.setdefault(line, []).append(key)
    old_versions = {key: versions(entry) for key, entry in removed.items()}
    out: dict[str, list[str]] = {}
    for key, entry in added.items():
        mine = versions(entry)
        lines = _lines(entry, common)
        hits: Counter[str] = Counter()
        found = 0
        for line in lines:
            owners = [k for k in where.get(line, ()) if _compatible(mine, old_versions[k])]
            hits.update(owners)
            found += bool(owners)
        if lines and found >= SHARE * len(lines):
            out[key] = sorted(hits)
        elif not lines and mine:
            same = [k for k, vs in old_versions.items() if mine & vs]
            if len(same) == 1:
                out[key] = same
    return out


def _compatible(mine: set[str], theirs: set[str]) -> bool:
    """Two entries naming versions are one only if they name one in common."""
    return not mine or not theirs or bool(mine & theirs)


def merged(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Several old entries as one: the first's fields, every line once."""
    if len(entries) == 1:
        return entries[0]
    lines = list(dict.fromkeys(ln for entry in entries for ln in entry.get("text") or ()))
    return {**entries[0], "text": lines}
