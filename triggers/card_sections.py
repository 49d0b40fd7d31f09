"""A model card's prose judged as claims, not wording (pure).

The facts a card states in its front matter and tables are judged in
``triggers/model_card.py``; prose says the few things they cannot (what the training
data was, a limitation found, a capability described). The sentences of every changed
section are pooled, before and after, so a paragraph moved to another section, a heading
that became text, or sections reordered change nothing. A new sentence is paired with
the removed one it rewords (most of its words shared); a rewording counts only when it
says something new: two content words not there before (a typo's corrected spelling is
not new), or another number, date or model id. A card whose prose changed script
(Chinese to English) is a translation: only what every language writes alike — numbers
and model ids — is compared.

What counts, by the class of the sentence's heading: training data → new or removed
claims are a ``training_data_change``; licence and terms → ``policy_change``;
limitations, risks, safety → a new claim is a ``model_change`` (low); a new claim of
what the model is trained on ("As of 2027-01-15 this model is trained on …") is a
``training_data_change`` under any other heading but licence and scores; evaluation,
results, benchmarks → nothing (scores and metric names are not facts of the model);
identity (overview, model details, release) → another date is a ``model_change``; a line
that is only a model id (a list of snapshots or tags) added or removed → a
``model_change`` naming it. Anywhere but limitations and scores, a capability phrase
(the ``capabilities`` vocabulary) the changed text did not have before is a
``new_capability`` named as the text words it, and a sentence about training on
customers' or users' data is a ``training_data_change`` (high).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from sources.base import Change
from sources.model_card.claims import (
    KEY_WORD,
    URL,
    WORD,
    capabilities_in,
    dates,
    foreign_share,
    new_words,
    same_claim,
    same_value,
    tokens,
    words,
)
from sources.model_card.facts import MODEL_ID, label_role
from sources.read.sections import INTRO

Finding = tuple[str, str, str, tuple[str, ...]]  # (type, severity, reason, entities)

_NEW_CAPABILITY = re.compile(
    r"\b(now (supports?|accepts?|available|can|handles?)|new(ly)? (supports?|capabilit\w*|"
    r"features?)|adds? support|added support|support(s|ed)? for|can now|introduc\w+|"
    r"supports?|accepts?)\b", re.I)
_NEGATED = re.compile(r"\b(not|no|never|cannot|can't|doesn't|don't|without|unsupported|"
                      r"lacks?|unable|neither|nor|deprecated|removed|disabled)\b", re.I)
_TRAIN = re.compile(r"\b(train\w*|fine-?tun\w*|model improvement|improve (our|the) models?)\b",
                    re.I)
_WHOSE = re.compile(r"\b(customers?|users?|clients?|consumers?|your|personal|business|"
                    r"enterprise|api)\b", re.I)
_WHAT = re.compile(r"\b(data|prompts?|inputs?|outputs?|content|conversations?|completions?|"
                   r"chats?|interactions?|feedback|messages?|files?)\b", re.I)

# A sentence saying what the model is trained on, wherever it stands ("As of 2027-01-15
# this model is trained on …", "Nimbus has been fine-tuned with …"; not "outputs may not
# be used to train other models").
_TRAINED_ON = re.compile(
    r"\b(?:is|was|were|are|been|be|being|now)\s+(?:(?:additionally|also|further|jointly|"
    r"continually|now|then|first|primarily|mainly|mostly|exclusively)\s+)?"
    r"(?:pre-?|post-?|re-?|co-?)?(?:trained|fine-?tuned|distilled)\s+(?:[\w-]+\s+){0,3}?"
    r"(?:on|with|using|from)\b|"
    r"\bwe\s+(?:\w+\s+)?(?:pre-?|re-?)?(?:train(?:ed)?|fine-?tun(?:e|ed))\s+"
    r"(?:it|the model|this model|[\w.-]+)\s+(?:[\w-]+\s+){0,3}?(?:on|with|using)\b", re.I)

_H_TRAINING = re.compile(r"train\w*( and \w+)? data|train(ing)? (set|corpus|mix)|pre-?training|"
                         r"datasets?\b|"
                         r"data (sources?|collection|provenance|cut-?off|freshness|mixture)|"
                         r"knowledge cut-?off|corpus|fine-?tuning data|instruction data")
_H_EVAL = re.compile(r"eval|test|benchmark|validation")
_H_POLICY = re.compile(r"licen[cs]e|terms|usage polic|acceptable use|privacy|"
                       r"data (retention|usage|use)|governance|legal|gated|access")
_H_LIMITS = re.compile(r"limitation|bias|risk|safety|harm|ethic|red[- ]?team|out[- ]of[- ]scope|"
                       r"misuse|responsib|known issue|caveat|fairness|alignment|guardrail|"
                       r"warning|hallucinat|mitigat|consideration|prohibited")
# Evaluation, results, benchmarks: scores and how they were measured, judged as nothing.
_H_SCORES = re.compile(r"eval|result|benchmark|performance|metric|testing|accuracy|leaderboard|"
                       r"comparison")
_H_CAPABILITY = re.compile(r"capabilit|intended use|^uses?$|direct use|downstream use|use cases?|"
                           r"features?|modalit|^inputs?|^outputs?|supported languages|"
                           r"^languages?$|what'?s new|new in")
_H_IDENTITY = re.compile(r"^\(intro\)$|model (details|description|information|summary|"
                         r"overview|architecture|version|sources|family|type|card)|overview|"
                         r"architecture|technical spec|specification|^versions?$|base model|"
                         r"release|about|introduction|summary|^model$|parameters|deprecat|"
                         r"retire|sunset|end of life|lifecycle|availability")
_LICENCE = re.compile(r"\blicen[cs]e[ds]?\b|\bterms of (use|service)\b", re.I)
# A licence named in prose: "the Llama 3.3 Community License Agreement", "Apache 2.0".
_LICENCE_NAME = re.compile(r"(?:\b[A-Z0-9][\w.+-]*\s+){1,6}(?:Licen[cs]e|Terms of (?:Use|Service))"
                           r"(?:\s+Agreement)?|\b(?:Apache|MIT|BSD|GPL|LGPL|AGPL|MPL|CC[- ]BY)"
                           r"[\w.-]*(?:\s+\d+(?:\.\d+)*)?")
LABEL = re.compile(r"^(?:- )?([^:|]{1,60}?)\s*[:|]\s*\S")


def heading_class(heading: str) -> str:
    h = heading.casefold()
    if _H_TRAINING.search(h) and ("train" in h or not _H_EVAL.search(h)):
        return "training"
    if _H_POLICY.search(h):
        return "policy"
    limits = bool(_H_LIMITS.search(h))
    capability = bool(_H_CAPABILITY.search(h) or capabilities_in(heading))
    if capability and limits:
        return "mixed"
    if limits:
        return "limits"
    if _H_SCORES.search(h):
        return "scores"
    if capability:
        return "capability"
    return "identity" if _H_IDENTITY.search(h) else "other"


# --- sentences and what they say ------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|(?<=[。！？])")
MAX_UNITS = 3000  # sentences compared per check; a rewrite beyond that is judged by sample
MAX_CANDIDATES = 200  # removed sentences a new one is compared with
MAX_SENTENCE = 5000  # characters of a "sentence" read for its claims (a wall of text is not one)


@dataclass
class Unit:
    """A sentence (or a table row) of a changed section, with its heading's class."""

    text: str
    heading: str
    cls: str
    row: bool
    key: str = ""

    def __post_init__(self) -> None:
        self.key = " ".join(KEY_WORD.findall(self.text.casefold()))

    @cached_property
    def words(self) -> set[str]:
        return words(self.text[:MAX_SENTENCE])

    @cached_property
    def tokens(self) -> set[str]:
        return tokens(self.text[:MAX_SENTENCE])


def _prose(text: str) -> bool:
    """Whether a sentence reads as prose, not code or a list of names."""
    if len(WORD.findall(text)) < 3:
        return False
    code = sum(text.count(c) for c in "(){}[]=<>;\"`$\\")
    return code * 25 < len(text)


def _units(text: str, heading: str, cls: str) -> list[Unit]:
    """Sentences and table rows; a link written as its address reads as nothing (the
    target of a link is not a claim)."""
    out = []
    for line in URL.sub(" ", text).split("\n"):
        line = line.strip()
        if not line:
            continue
        if " | " in line or line.startswith("| ") or line.endswith(" |"):
            out.append(Unit(line, heading, cls, True))
            continue
        out += [Unit(s.strip(), heading, cls, False)
                for s in _SENTENCE_END.split(line.removeprefix("- ")) if s and s.strip()]
    return out


def _foreign(units: list[Unit]) -> float:
    """The share of letters in a non-Latin script."""
    return foreign_share(" ".join(u.text for u in units)[:200_000])


# --- pairing -------------------------------------------------------------------------


def _pair(added: list[Unit], removed: list[Unit]) -> dict[int, Unit]:
    """Each new sentence's best match among the removed ones (most words shared)."""
    index: dict[str, list[int]] = {}
    removed_words = [u.words for u in removed]
    for i, ws in enumerate(removed_words):
        for w in ws:
            index.setdefault(w, []).append(i)
    taken: set[int] = set()
    pairs: dict[int, Unit] = {}
    for n, unit in enumerate(added):
        ws = unit.words
        candidates: dict[int, int] = {}
        for w in sorted(ws)[:MAX_CANDIDATES]:
            for i in index.get(w, ())[:MAX_CANDIDATES]:
                candidates[i] = candidates.get(i, 0) + 1
        best, score, part = None, 0.0, None
        for i, shared in sorted(candidates.items(), key=lambda kv: -kv[1])[:MAX_CANDIDATES]:
            if removed[i].row != unit.row:
                continue
            jaccard = shared / len(ws | removed_words[i])
            if i not in taken and jaccard > score:
                best, score = i, jaccard
            if part is None and shared >= 0.8 * len(ws):
                part = i  # the sentence is a part of a longer one, split in two
        if best is not None and score >= 0.5:
            taken.add(best)
            pairs[n] = removed[best]
        elif part is not None:
            pairs[n] = removed[part]
    return pairs


# --- judging -------------------------------------------------------------------------


@dataclass
class Pool:
    """The sentences of the changed sections before and after."""

    old: list[Unit]
    new: list[Unit]


def pool(changes: Sequence[Change], renames: Sequence[tuple[str, str]] = ()) -> Pool:
    old: list[Unit] = []
    new: list[Unit] = []
    for change in changes:
        if change.path != "section" or change.fields == ("heading",):
            continue
        heading = str(change.key)
        cls = heading_class(heading)
        before, after = str(change.before or ""), str(change.after or "")
        for old_name, new_name in renames:
            before = before.replace(old_name, new_name)
        if change.op == "removed" and heading != INTRO:
            before = heading + "\n" + before
        if change.op == "added" and heading != INTRO:
            after = heading + "\n" + after
        old += _units(before, heading, cls)
        new += _units(after, heading, cls)
    return Pool(old[:MAX_UNITS], new[:MAX_UNITS])


def prose_findings(changes: Sequence[Change], renames: Sequence[tuple[str, str]] = (),
                   echoes: frozenset[str] = frozenset()) -> list[tuple[Finding, Change]]:
    """What the prose of the changed sections says that it did not say before."""
    found = pool(changes, renames)
    if not found.old and not found.new:
        return []
    by_heading = {str(c.key): c for c in changes if c.path == "section"}
    old_keys = {u.key for u in found.old}
    new_keys = {u.key for u in found.new}
    added = [u for u in found.new if u.key not in old_keys and u.key
             and u.text.casefold().removeprefix("- ") not in echoes]
    removed = [u for u in found.old if u.key not in new_keys and u.key]
    if abs(_foreign(found.old) - _foreign(found.new)) > 0.3:
        return _translation(found, by_heading)
    pairs = _pair(added, removed)
    paired = {id(u) for u in pairs.values()}
    said = Said({tag for u in found.old for _, tag in capabilities_in(u.text[:MAX_SENTENCE])},
                set().union(*(u.words for u in found.old)),
                set().union(*(u.words for u in found.new)),
                set().union(*(u.tokens for u in found.old)),
                set().union(*(u.tokens for u in found.new)))
    out: list[tuple[Finding, Change]] = []
    for n, unit in enumerate(added):
        change = by_heading.get(unit.heading)
        if change is not None:
            out += [(f, change) for f in _judge_added(unit, pairs.get(n), said)]
    for unit in removed:
        change = by_heading.get(unit.heading)
        if id(unit) not in paired and change is not None:
            out += [(f, change) for f in _judge_removed(unit, said)]
    return out


@dataclass
class Said:
    """What the changed prose said before (capability tags, content words) and after."""

    tags: set[str]
    before: set[str]
    after: set[str]
    tokens_before: set[str]
    tokens_after: set[str]


def _translation(found: Pool, by_heading: dict[str, Change]) -> list[tuple[Finding, Change]]:
    """Prose that changed language: numbers or model ids it did not have before."""
    before = set().union(*(tokens(u.text, neutral=True) for u in found.old))
    out: list[tuple[Finding, Change]] = []
    for unit in found.new:
        new = tokens(unit.text, neutral=True) - before
        change = by_heading.get(unit.heading)
        if new and change is not None and unit.cls in ("training", "policy", "identity"):
            kind = {"training": "training_data_change", "policy": "policy_change"}.get(
                unit.cls, "model_change")
            out.append(((kind, "medium", f"section “{unit.heading}”: {', '.join(sorted(new))}",
                         ()), change))
    return out


def _substance(unit: Unit, pair: Unit | None, said: Said) -> tuple[set[str], set[str]]:
    """(content words, numbers, dates and ids the old text did not have anywhere, or
    the sentence it rewords had and the new text has nowhere): sentences merged, split
    or moved say nothing new."""
    mine = unit.words
    if pair is None:
        return new_words(mine, said.before), unit.tokens
    facts = (unit.tokens - said.tokens_before) | (pair.tokens - said.tokens_after)
    return new_words(mine, said.before), facts




def _model_id(unit: Unit) -> bool:
    """A line that is only a model id, as a list of snapshots or tags writes it."""
    return not unit.row and len(unit.text) <= 80 and MODEL_ID.match(unit.text) is not None


def _judge_added(unit: Unit, pair: Unit | None, said_before: Said) -> list[Finding]:
    if _model_id(unit) and unit.cls not in ("limits", "training", "policy", "scores"):
        return [("model_change", "medium", f"{unit.text} listed in “{unit.heading}”",
                 (unit.text,))]
    fresh, facts = _substance(unit, pair, said_before)
    said = (len(fresh) >= 2 or bool(facts)) if pair is not None else (
        unit.row or (_prose(unit.text) and len(fresh) >= 3))
    where = f"section “{unit.heading}”"
    found: list[Finding] = []
    line = _line_finding(unit.text)
    if line is not None:
        same = pair is not None and (same_value(_value(pair.text), _value(unit.text))
                                     or same_claim(_value(pair.text), _value(unit.text)))
        return [] if same else [line]
    if said and _about_customer_training(unit.text):
        found.append(("training_data_change", "high",
                      f"{where}: use of customer data for training", ()))
    if unit.cls == "training" and said:
        found.append(("training_data_change", "medium", f"{where} edited", ()))
    elif said and unit.cls not in ("scores", "limits", "policy") and not unit.row and (
            _TRAINED_ON.search(unit.text[:MAX_SENTENCE])):
        found.append(("training_data_change", "medium",
                      f"{where}: what the model is trained on", ()))
    elif (unit.cls == "policy" or _LICENCE.search(unit.text)) and not unit.row and (
            said or (pair is not None and _renamed(_licences(pair.text), _licences(unit.text)))):
        found.append(("policy_change", "medium", f"{where} edited",
                      tuple(_licences(unit.text))))
    elif unit.cls in ("limits", "mixed") and said and not unit.row and (
            pair is not None or len(fresh) >= 5):
        found.append(("model_change", "low", f"{where} edited (behaviour documentation)", ()))
    elif unit.cls == "identity" and pair is not None and dates(facts):
        found.append(("model_change", "medium", f"{where}: date changed", ()))
    if unit.cls not in ("limits", "training", "policy", "scores"):
        found += _capabilities(unit, said_before.tags)
    return found


def _judge_removed(unit: Unit, said: Said) -> list[Finding]:
    where = f"section “{unit.heading}”"
    if _model_id(unit) and unit.cls not in ("limits", "training", "policy", "scores"):
        return [("model_change", "low", f"{unit.text} no longer listed in “{unit.heading}”",
                 (unit.text,))]
    if not (unit.row or _prose(unit.text)) or (
            not unit.row and len(new_words(unit.words, said.after, 3)) < 3):
        return []
    if _about_customer_training(unit.text):
        return [("training_data_change", "high", f"{where}: use of customer data for training "
                 "no longer stated", ())]
    if unit.cls == "training":
        return [("training_data_change", "medium", f"{where}: text removed", ())]
    if unit.cls == "policy":
        return [("policy_change", "medium", f"{where}: text removed", ())]
    return []


def _capabilities(unit: Unit, old_tags: set[str]) -> list[Finding]:
    """Capabilities a new or reworded sentence names that the old text did not."""
    if unit.row or (not _prose(unit.text) and unit.cls != "capability"):
        return []
    if _NEGATED.search(unit.text):
        return []
    if unit.cls == "other" and not _NEW_CAPABILITY.search(unit.text):
        return []
    phrases = [(p, tag) for p, tag in capabilities_in(unit.text[:MAX_SENTENCE])
               if tag not in old_tags]
    if not phrases:
        return []
    names = tuple(dict.fromkeys(p for p, _ in phrases))
    return [("new_capability", "medium", f"section “{unit.heading}”: {', '.join(names)}",
             names)]


def _line_finding(text: str) -> Finding | None:
    """A "Label: value" sentence judged by its label (a "License:" line is a policy change
    wherever it stands)."""
    match = LABEL.match(text.replace("*", "").strip())
    role = label_role(match.group(1)) if match else None
    if role is None:
        return None
    short = text[:80]
    return {
        "base_model": ("model_change", "high", f"base model line changed: {short}", ()),
        "license": ("policy_change", "medium", f"licence line changed: {short}",
                    tuple(_licences(text))),
        "datasets": ("training_data_change", "medium", f"dataset line changed: {short}", ()),
        "training_data": ("training_data_change", "medium", f"training data line: {short}", ()),
        "knowledge_cutoff": ("training_data_change", "medium", f"cutoff line: {short}", ()),
        "model_name": ("model_change", "medium", f"model identity line changed: {short}", ()),
        "model_id": ("model_change", "medium", f"model identity line changed: {short}", ()),
        "version": ("model_change", "medium", f"model version line changed: {short}", ()),
        "release_date": ("model_change", "medium", f"release line changed: {short}", ()),
        "deprecation_date": ("model_change", "medium", f"deprecation line: {short}", ()),
    }.get(role)


def _licences(text: str) -> list[str]:
    """The licences a sentence names, as written."""
    return list(dict.fromkeys(m.group(0).strip() for m in _LICENCE_NAME.finditer(text[:5000])))


def _renamed(before: list[str], after: list[str]) -> bool:
    """Whether both sides name something and the names differ other than in spelling or
    case (a name gained or lost is judged by the words around it)."""
    return bool(before and after) and not (all(any(same_value(a, b) for b in after) for a in before)
                and all(any(same_value(a, b) for a in before) for b in after))


def _value(text: str) -> str:
    """The value of a "Label: value" sentence, as its words."""
    match = LABEL.match(text.replace("*", "").strip())
    rest = text.replace("*", "").strip()[match.end(1):] if match else text
    return " ".join(KEY_WORD.findall(rest.casefold()))


def _about_customer_training(sentence: str) -> bool:
    """Whether a sentence says something about training on customers' or users' data:
    training, and whose data ("customer", "your") within a few words of what data
    ("prompts", "conversations")."""
    if not _TRAIN.search(sentence) or not _prose(sentence):
        return False
    text = sentence[:2000]
    whose = [m.start() for m in _WHOSE.finditer(text)]
    what = [m.start() for m in _WHAT.finditer(text)]
    return any(abs(a - b) <= 40 for a in whose for b in what)
