"""What a model card's text claims, for telling a new claim from a rewording (pure):
content words, numbers, dates and model ids, respellings, and the capabilities it names
(the ``capabilities`` vocabulary)."""

from __future__ import annotations

import re
from collections import Counter
from difflib import SequenceMatcher
from functools import lru_cache

from .. import vocab

MAX_NEAR = 200  # spellings a word is compared with


@lru_cache(maxsize=2)
def _capability_index(generation: int) -> tuple[re.Pattern[str], dict[str, str]]:
    tags: dict[str, str] = {}
    for tag, phrases in vocab.get("capabilities").items():
        for phrase in [tag, *(phrases or ())]:
            tags.setdefault(_fold(str(phrase)), str(tag))
    alts = "|".join(re.escape(p) for p in sorted(tags, key=len, reverse=True) if p)
    return re.compile(rf"(?<!\w)({alts})(?!\w)"), tags


def _fold(text: str) -> str:
    """Lower case with ``-`` and ``_`` as spaces, the same length as ``text``."""
    return text.casefold().replace("-", " ").replace("_", " ") if text.isascii() else "".join(
        " " if c in "-_" else (c.casefold() if len(c.casefold()) == 1 else c) for c in text)


def capabilities_in(text: str) -> list[tuple[str, str]]:
    """(phrase as the text writes it, capability tag) of every capability named in
    ``text``: "Tool-use" → ("Tool-use", "tool use")."""
    rx, tags = _capability_index(vocab.generation())
    folded = _fold(text)
    return [(text[m.start():m.end()], tags[m.group(1)]) for m in rx.finditer(folded)]


WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
KEY_WORD = re.compile(r"\w+")
SMALL = frozenset({
    "the", "a", "an", "and", "or", "of", "to", "in", "on", "for", "with", "by", "is", "are",
    "be", "it", "its", "as", "at", "this", "that", "can", "may", "also", "such", "from", "was",
    "were", "been", "has", "have", "had", "our", "we", "you", "your", "their", "these", "those",
    "which", "will", "would", "should", "more", "most", "than", "then", "into", "about", "other",
    "any", "all", "each", "some", "here", "there", "please", "see", "via", "using", "use",
    "used", "found", "information", "following", "below", "above"})
_ID = re.compile(r"(?<![A-Za-z0-9._/:+-])[A-Za-z0-9][A-Za-z0-9._/:+-]*[A-Za-z0-9+]")
DIGIT = re.compile(r"\d")
_ALPHA = re.compile(r"[A-Za-z]")
_MEASURE = re.compile(r"^\d[\d.,]*[a-z]{0,3}(-[a-z]+)*$", re.I)  # 8x, 10B-level, 4-bit
_NUMBER = re.compile(r"(?<![A-Za-z0-9.])(\d+(?:[.,]\d+)*)\s*(%|trillion|billion|million|thousand|"
                     r"[kmbt](?![a-z]))?", re.I)
_SCALE = {"trillion": "t", "billion": "b", "million": "m", "thousand": "k"}
_MONTH = (r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
# A month in a date ("May 2024", "6 May"), not the verb "may".
_MONTHS = re.compile(rf"\b{_MONTH}\.?\s+\d|\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}\b", re.I)
FOREIGN = re.compile(r"[\u0370-\u03ff\u0400-\u04ff\u0590-\u08ff\u0e00-\u0eff\u1100-\u11ff"
                     r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
LETTER = re.compile(r"[^\W\d_]")

URL = re.compile(r"\b(?:https?://|www\.)[^\s)\]>\"']+", re.I)  # an address, not a claim


def words(text: str) -> set[str]:
    """The content words of a text: what an edit says that was not said before."""
    return {w for w in WORD.findall(text.casefold()) if w not in SMALL and len(w) > 2}


def tokens(text: str, neutral: bool = False) -> set[str]:
    """Numbers (``15 trillion`` = ``15t``), model ids (``GLM-4.1V-9B``) and, unless
    ``neutral``, month names: what a rewording must keep to say the same."""
    found: set[str] = set()

    def model_id(m: re.Match[str]) -> str:
        token = m.group(0)
        if DIGIT.search(token) and _ALPHA.search(token) and not _MEASURE.match(token):
            found.add(token.casefold())
            return " "
        return token

    rest = _ID.sub(model_id, text)
    for m in _NUMBER.finditer(rest):
        unit = (m.group(2) or "").casefold()
        number = m.group(1).replace(",", "")
        found.add(number + _SCALE.get(unit, unit))
    if not neutral:
        found |= {(m.group(1) or m.group(2)).casefold()[:3] for m in _MONTHS.finditer(text)}
    return found


def typo(word: str, others: set[str]) -> bool:
    """A word that is another's spelling corrected (or changed to UK/US spelling)."""
    if len(word) < 4:
        return False
    near = [o for o in others if abs(len(word) - len(o)) <= 2 and o[:1] == word[:1]]
    return any(SequenceMatcher(a=word, b=o, autojunk=False).ratio() >= 0.8
               for o in sorted(near)[:MAX_NEAR])


def new_words(mine: set[str], theirs: set[str], enough: int = 5) -> set[str]:
    """Up to ``enough`` words of ``mine`` that ``theirs`` did not have, typos aside."""
    fresh: set[str] = set()
    gone = theirs - mine
    for word in sorted(mine - theirs):
        if not typo(word, gone):
            fresh.add(word)
            if len(fresh) >= enough:
                break
    return fresh


_MONTH_TOKENS = frozenset({"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                           "nov", "dec"})


def dates(facts: set[str]) -> bool:
    """Whether changed tokens include a month or a year."""
    return any(t in _MONTH_TOKENS or (len(t) == 4 and t[:2] in ("19", "20") and t.isdigit())
               for t in facts)


def same_value(before: str, after: str) -> bool:
    """Two values that differ only in case, spacing, punctuation or a corrected spelling
    ("Aguust 2024" = "August 2024"; "en" ≠ "fr", "2024" ≠ "2025")."""
    before, after = URL.sub(" ", before), URL.sub(" ", after)
    a, b = KEY_WORD.findall(before.casefold()), KEY_WORD.findall(after.casefold())
    if not a or not b:  # marks, not words: "❌" ≠ "✅"
        return " ".join(before.split()) == " ".join(after.split())
    if min(len(a), len(b)) >= 4:
        a, b = [w for w in a if w not in SMALL], [w for w in b if w not in SMALL]
    gone, came = set(Counter(a) - Counter(b)), set(Counter(b) - Counter(a))
    if any(DIGIT.search(w) for w in gone | came):
        return False
    return all(typo(w, came) for w in gone) and all(typo(w, gone) for w in came)


def same_claim(before: str, after: str) -> bool:
    """Whether two wordings say the same: the same numbers, dates and ids, and no content
    word that is not a corrected spelling of one before."""
    before, after = URL.sub(" ", before), URL.sub(" ", after)
    if tokens(before) != tokens(after):
        return False
    old, new = words(before), words(after)
    return not new_words(new, old, 1) and not new_words(old, new, 1)


def foreign_share(text: str) -> float:
    """The share of letters in a non-Latin script."""
    text = text[:200_000]
    letters = len(LETTER.findall(text))
    return len(FOREIGN.findall(text)) / letters if letters else 0.0
