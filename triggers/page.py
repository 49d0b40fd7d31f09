"""The ``page`` kind's rule: what a changed terms or policy page now says (pure).

``sources/page`` reports the passages whose words changed, each keyed by its section.
Here each passage is split into sentences, aligned with its old version, and compared
word by word on the folded tokens of ``sources.page.fold`` (typography, numbering,
spelling and stamp dates are no change). A changed sentence is about training on data
when it says so in the words of ``sources/vocab/policy_terms.yaml`` (see that file); a
changed item of a list or table is, too, when it names data and its section or lead-in
line is about training ("Developing and improving AI" › "Public content you share").

* training wording changed → one ``training_data_change`` (high);
* any other wording changed → one ``policy_change``: medium when a changed sentence
  holds an obligation, right, price, jurisdiction or data-handling word, else low.

Titles name the section and quote the changed words, before → after; the evidence holds
each changed sentence before and after; the entities are the sections' headings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from sources import vocab
from sources.base import Change
from sources.page import INTRO, LEAD_SEP
from sources.page.fold import Opcode, Unit, changed_runs, noise_free_ops, tokens, units

from .events import TriggerEvent

if TYPE_CHECKING:
    from .rules import RuleContext

MAX_PASSAGES = 20  # in an event's evidence
EXCERPT = 700  # characters of the evidence excerpt
QUOTE = 90  # characters of each side quoted in a title
SHORT_ITEM = 40  # words: a list item or table row this short is judged with its context
LONG_UNIT = 60  # words: in a sentence this long only the words near a change are judged
REACH = 20  # words on each side of a change, in such a sentence
MAX_JUDGED = 2000  # words of one sentence judged at most (its first ones)


@dataclass
class Passage:
    """One changed run of sentences in a section."""

    section: str
    context: str
    change: Change
    before: list[Unit] = field(default_factory=list)
    after: list[Unit] = field(default_factory=list)
    near: list[tuple[Unit, tuple[str, ...]]] = field(default_factory=list)  # words judged
    focus: set[Unit] = field(default_factory=set)  # the sentences that speak of training
    old_words: list[str] = field(default_factory=list)  # the changed words themselves
    new_words: list[str] = field(default_factory=list)
    training: bool = False
    weighty: bool = False
    strength: int = 0  # how plainly it says it: the title quotes the plainest passage


# --- the vocabulary -----------------------------------------------------------------


@dataclass(frozen=True)
class Terms:
    phrases: frozenset[tuple[str, ...]]
    verbs: frozenset[tuple[str, ...]]
    improve: frozenset[tuple[str, ...]]
    objects: frozenset[tuple[str, ...]]
    data: frozenset[tuple[str, ...]]
    not_training: frozenset[tuple[str, ...]]
    weighty: frozenset[tuple[str, ...]]
    window: int
    longest: int


def _entries(words: Iterable[object]) -> frozenset[tuple[str, ...]]:
    return frozenset(t for t in (tuple(tokens(str(w))) for w in words) if t)


@cache
def terms(generation: int) -> Terms:
    """``policy_terms`` folded as the text is (generation: the vocabulary's)."""
    v = vocab.get("policy_terms")
    weighty = _entries([w for k in ("obligation", "right", "price", "jurisdiction",
                                    "data_handling") for w in v.get(k) or ()])
    made = {k: _entries(v.get(k) or ()) for k in ("training_phrases", "training_verbs",
                                                   "improve_verbs", "ai_objects", "data_words",
                                                   "not_training")}
    longest = max((len(e) for group in (*made.values(), weighty) for e in group), default=1)
    return Terms(made["training_phrases"], made["training_verbs"], made["improve_verbs"],
                 made["ai_objects"], made["data_words"], made["not_training"], weighty,
                 int(v.get("window") or 8), longest)


def _at(words: Sequence[str], group: frozenset[tuple[str, ...]], longest: int) -> list[int]:
    """Where an entry of ``group`` starts in ``words``."""
    found = []
    for i in range(len(words)):
        for n in range(1, min(longest, len(words) - i) + 1):
            if tuple(words[i:i + n]) in group:
                found.append(i)
                break
    return found


def _near(xs: list[int], ys: list[int], window: int) -> list[int]:
    """The positions of ``xs`` with a position of ``ys`` at most ``window`` away."""
    return [x for x in xs if any(abs(x - y) <= window for y in ys)]


def is_training(words: Sequence[str], t: Terms, need_data: bool = True) -> bool:
    """Words that speak of training (or developing) models on data: a training phrase, a
    training verb near an AI or data word, or an improving verb followed closely by an AI
    word ("develop and improve AI"); with ``need_data``, the words also name data (a
    sentence on "training methods" says nothing of whose data)."""
    if not words:
        return False
    objects = _at(words, t.objects, t.longest)
    data = _at(words, t.data, t.longest)
    if need_data and not data:
        return False
    hits = _at(words, t.phrases, t.longest)
    hits += _near(_at(words, t.verbs, t.longest), objects + data, t.window)
    hits += [i for i in _at(words, t.improve, t.longest)
             if any(0 < o - i <= t.window for o in objects)]
    if not hits:
        return False
    blockers = _at(words, t.not_training, t.longest)
    return any(not _near([h], blockers, t.window) for h in hits)


def names_data(words: Sequence[str], t: Terms) -> bool:
    return bool(_at(words, t.data, t.longest))


def _plainness(words: Sequence[str], t: Terms) -> int:
    """How plainly a training sentence says it: a training word, an AI word and a data
    word each count; a shorter sentence is plainer ("Meta will not use your Content to
    train any AI models" before a paragraph on fine-tuning features)."""
    kinds = sum(bool(_at(words, group, t.longest)) for group in (t.verbs | t.phrases,
                                                                  t.objects, t.data))
    return kinds * 1000 - min(len(words), 999)


def is_weighty(words: Sequence[str], t: Terms) -> bool:
    return bool(_at(words, t.weighty, t.longest))


# --- passages ---------------------------------------------------------------------------


def passages(change: Change) -> list[Passage]:
    """The changed sentences of a change, aligned with their old versions: one passage
    per changed sentence when as many sentences changed as there were, else one per run."""
    section, _, context = str(change.key).partition(LEAD_SEP)  # context: title, lead-in
    old = units((change.before or "").split("\n")) if change.before else []
    new = units((change.after or "").split("\n")) if change.after else []
    out = []
    for i1, i2, j1, j2, ops in changed_runs(old, new):
        if i2 - i1 == j2 - j1 > 1:  # sentence by sentence
            for k in range(i2 - i1):
                a, b = old[i1 + k].words, new[j1 + k].words
                pair_ops = noise_free_ops(a, b)
                if pair_ops:
                    out.append(_passage(change, section, context, old[i1 + k:i1 + k + 1],
                                        new[j1 + k:j1 + k + 1], pair_ops))
        else:
            out.append(_passage(change, section, context, old[i1:i2], new[j1:j2], ops))
    return out


def _passage(change: Change, section: str, context: str, a_units: list[Unit],
             b_units: list[Unit], ops: list[Opcode]) -> Passage:
    a_words = [w for u in a_units for w in u.words]
    b_words = [w for u in b_units for w in u.words]
    p = Passage(section=section, context=context, change=change)
    p.before, near_a = _touched(a_units, [(o[1], o[2]) for o in ops])
    p.after, near_b = _touched(b_units, [(o[3], o[4]) for o in ops])
    p.near = near_a + near_b
    p.old_words = [w for o in ops for w in a_words[o[1]:o[2]]]
    p.new_words = [w for o in ops for w in b_words[o[3]:o[4]]]
    return p


def _touched(units: list[Unit], spans: list[tuple[int, int]],
             ) -> tuple[list[Unit], list[tuple[Unit, tuple[str, ...]]]]:
    """The units that hold a changed word, or inside which words were inserted (an
    insertion between two sentences touches neither), and the words of each to judge:
    all of a sentence, or in a long one those within ``REACH`` of its changes."""
    out: list[Unit] = []
    near: list[tuple[Unit, tuple[str, ...]]] = []
    start = 0
    for unit in units:
        end = start + len(unit.words)
        mine = [(max(s, start) - start, min(max(e, s + 1), end) - start) for s, e in spans
                if (s < end and e > start) or (s == e and start < s < end)]
        if mine:
            out.append(unit)
            if len(unit.words) <= LONG_UNIT:
                near.append((unit, unit.words))
            else:
                near += [(unit, unit.words[max(0, s - REACH):min(e + REACH,
                                                                 s + MAX_JUDGED)])
                         for s, e in mine[:50]]
        start = end
    return out, near


def classify(p: Passage, t: Terms) -> None:
    """Whether a passage speaks of training on data, how plainly, and whether its
    sentences hold an obligation, right, price, jurisdiction or data-handling word."""
    changed = p.before + p.after
    p.focus = {unit for unit, words in p.near if is_training(words, t)}
    p.training = bool(p.focus)
    p.strength = max((_plainness(u.words, t) for u in p.focus), default=0)
    if not p.training and all(u.item or len(u.words) <= SHORT_ITEM for u in changed):
        context = tokens(p.section) + tokens(p.context)
        p.training = (is_training(context, t, need_data=False)
                      and any(names_data(u.words, t) for u in changed))
    p.weighty = p.training or any(is_weighty(words, t) for _, words in p.near)


# --- the rule --------------------------------------------------------------------------


def page_rule(changes: Sequence[Change], ctx: RuleContext) -> list[TriggerEvent]:
    """A training-data change and a policy change for what a changed page now says."""
    t = terms(vocab.generation())
    found = [p for change in changes for p in passages(change)]
    for p in found:
        classify(p, t)
    events = []
    training = [p for p in found if p.training]
    other = [p for p in found if not p.training]
    basis = f"{ctx.old_hash}>{ctx.new_hash}"
    if training:
        events.append(_event("training_data_change", "high", "training-data terms changed",
                             training, ctx, basis))
    if other:
        severity = "medium" if any(p.weighty for p in other) else "low"
        events.append(_event("policy_change", severity, "wording changed", other, ctx, basis))
    return events


def _event(kind: str, severity: str, what: str, found: list[Passage], ctx: RuleContext,
           basis: str) -> TriggerEvent:
    sections = list(dict.fromkeys(p.section for p in found))
    named = [s for s in sections if s != INTRO]
    where = f" in \u201c{_cut(named[0], 80)}\u201d" if named else ""
    if len(sections) > 1:
        where += f" and {len(sections) - 1} other section{'s' if len(sections) > 2 else ''}"
    ranked = sorted(found, key=lambda p: -p.strength)
    title = f"{ctx.vendor_name}: {what}{where} ({ctx.source_id}): {_quote(ranked[0])}"
    return TriggerEvent(
        type=kind, severity=severity, title=title, entities=tuple(named[:10]),
        evidence={"excerpt": _excerpt(ranked), "changes": len({id(p.change) for p in found}),
                  "passages": [_evidence(p) for p in ranked[:MAX_PASSAGES]]},
        changes=tuple(_change(p) for p in found[:50]), basis=basis)


def _change(p: Passage) -> dict[str, object]:
    """The passage as a change: its section, the changed sentences before and after."""
    before = "\n".join(u.text for u in p.before) or None
    after = "\n".join(u.text for u in p.after) or None
    op = "modified" if before and after else "added" if after else "removed"
    return {"op": op, "key": p.section, "before": before, "after": after, "path": "line"}


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rsplit(" ", 1)[0] + "\u2026"


def _phrase(units: list[Unit], changed: list[str]) -> str:
    """The changed words as the sentence writes them, or the sentence, cut short."""
    text = " ".join(u.text for u in units)
    if not text:
        return "\u2014"
    return _cut(text, QUOTE) if len(text) <= QUOTE or not changed else _around(text, changed)


def _around(text: str, changed: list[str]) -> str:
    """A window of ``text`` around the first changed word found in it."""
    low = text.casefold()
    at = next((m.start() for w in changed[:3] if len(w) > 2
               for m in [re.search(rf"(?<!\w){re.escape(w)}", low)] if m), -1)
    if at < 0:
        return _cut(text, QUOTE)
    start = max(0, at - QUOTE // 3)
    start = low.rfind(" ", 0, start) + 1 if start else 0
    piece = _cut(text[start:], QUOTE)
    return ("\u2026" if start else "") + piece


def _sides(p: Passage) -> tuple[list[Unit], list[Unit]]:
    """The sentences to show: a training passage's training sentences, else all."""
    if not p.focus:
        return p.before, p.after
    return [u for u in p.before if u in p.focus], [u for u in p.after if u in p.focus]


def _quote(p: Passage) -> str:
    old, new = _sides(p)
    before, after = _phrase(old, p.old_words), _phrase(new, p.new_words)
    if not p.before:
        return f"added \u201c{after}\u201d"
    if not p.after:
        return f"removed \u201c{before}\u201d"
    if not old:
        return f"now \u201c{after}\u201d"
    if not new:
        return f"no longer \u201c{before}\u201d"
    return f"\u201c{before}\u201d \u2192 \u201c{after}\u201d"


def _evidence(p: Passage) -> dict[str, str | None]:
    return {"section": p.section,
            "before": " ".join(u.text for u in p.before) or None,
            "after": " ".join(u.text for u in p.after) or None}


def _excerpt(found: list[Passage]) -> str:
    """The passages' changed sentences (a training passage's training sentences), by
    section, as ``-`` before and ``+`` after lines."""
    parts = []
    for p in found[:6]:
        head = [f"[{p.section}]"] if p.section != INTRO else []
        before, after = _sides(p)
        parts += head + [f"- {u.text}" for u in before] + [f"+ {u.text}" for u in after]
    text = "\n".join(parts)
    return text if len(text) <= EXCERPT else text[:EXCERPT - 1] + "\u2026"
