"""The changelog classifier: what a release note's statements announce (pure).

An entry's title and lines are split into statements; each statement is matched against
the built-in patterns of ``triggers/changelog_patterns.py`` (data, not code) plus the
source's own ``classify`` patterns:

* ``model_change`` — a model name with a release / default / deprecation / retirement verb,
  or phrases like "new model", "default model", "model … will be retired";
* ``new_capability`` — a capability (function calling, tool use, image input, audio,
  browsing, agents, fine-tuning, memory, code execution, file input, structured outputs,
  new endpoints, connectors) with an introduction verb ("added", "now supports",
  "introducing", "in beta");
* ``training_data_change`` — training on customer data, opt-outs, data retention periods;
* ``policy_change`` — terms, usage / privacy policies, DPA, SLA with a change verb.

Statements about fixes, docs and chores ("Fixed …", ``docs:``, ``chore(deps):``) never
classify — but for a chore that retires a model it names ("chore(models): remove obsolete
Grok 2 models", ``changelog_patterns.CHORE``) —, nor do those matching the source's
``exclude`` patterns; ``builtin=False``
keeps only the source's own patterns. ``triggers/changelog.py`` (the rule) calls it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from sources import vocab

from . import changelog_patterns as P

TYPES = ("model_change", "new_capability", "training_data_change", "policy_change")
SEVERITY = {"model_change": "medium", "new_capability": "medium",
            "training_data_change": "high", "policy_change": "medium"}

_SECTION_WORDS = (
    r"^\W*(added|new|new features?|features?|feat|what'?s new|highlights|introduced|launch\w*|"
    r"new models?|new capabilities|(new )?model additions?|new models? added|"
    r"deprecated|deprecations?|upcoming deprecations?|removed|"
    r"retired|retirements?|sunset|end of life|changed|changes|updated|updates|improved|"
    r"improvements?|enhancements?|fixed|fixes|bug ?fixes|security|chores?|misc\w*|other|"
    r"documentation|docs|breaking changes?|performance|internal|dependencies|refactor\w*|"
    r"tests?|build( system)?|ci|miscellaneous chores|reverts?)\W*$")
# A sentence ends at ".!?" and a space before a capital, a quote or a bracket, but not
# after "e.g." or "i.e.": "(e.g. `acme-2`)" belongs to the statement it gives an example of.
_SPLIT = (r"(?<=[.!?])(?<!\b[eE]\.[gG]\.)(?<!\b[iI]\.[eE]\.)\s+(?=[A-Z\"'`(\[])|"
          r"\s+[•·]\s+")
# The same splits, found faster: every match starts with a space, which the regex engine
# then looks for before trying the rest (tests/test_classifier_identity.py compares them).
_SPLIT_FAST = (r"\s(?:(?<=[.!?]\s)(?<!\b[eE]\.[gG]\.\s)(?<!\b[iI]\.[eE]\.\s)\s*"
               r"(?=[A-Z\"'`(\[])|\s*[•·]\s+)")
MAX_SIGNALS = 30

# --- speed: gates ----------------------------------------------------------------------
# Most statements match few of the built-in patterns. Each pattern gets a gate: the
# literal strings one of which every match must contain (derived from the pattern's parse
# tree, so it never goes stale). One scan of the lower-cased statement finds the gate
# strings it contains and so the gates it opens (``Gates``); a pattern runs only when its
# gate opens, and the answer is the pattern's own.
#
# Case-insensitive matching also pairs four non-ASCII letters with ASCII ones; ``fold``
# maps them first (tests/test_classifier_identity.py checks the list against every code
# point). No other character lower-cases to more than one character, so a match's
# letters stay adjacent in the folded text.
_FOLD = {0x130: "i", 0x131: "i", 0x17F: "s", 0x212A: "k"}
_GATE_LIMIT = 64  # alternatives followed through the parse tree before giving up


def fold(text: str) -> str:
    """``text`` lower-cased so that whatever an ASCII letter matches case-insensitively
    becomes that letter."""
    return text.lower() if text.isascii() else text.translate(_FOLD).lower()


Strings = frozenset[str]


def _literals(items: Any) -> tuple[Strings | None, Strings | None]:
    """(every string a parsed sequence can match, if few; strings one of which every match
    contains, or None)."""
    candidates: list[Strings] = []
    run: Strings = frozenset({""})
    exact = True
    for op, av in items:
        strings, needed = _node(op, av)
        if strings is not None and len(run) * len(strings) <= _GATE_LIMIT:
            run = frozenset(a + b for a in run for b in strings)
            continue
        exact = False
        candidates.append(run)
        if needed:
            candidates.append(needed)
        run = strings if strings is not None else frozenset({""})
    candidates.append(run)
    usable = [c for c in candidates if c and "" not in c]
    best = max(usable, key=_score) if usable else None
    return (run if exact else None), best


def _score(strings: Strings) -> tuple[int, int]:
    """Gates to prefer: no short strings ("for" is everywhere), then few of them."""
    return min(min(map(len, strings)), 4), -len(strings)


def _needed(strings: Strings | None, needed: Strings | None) -> Strings | None:
    return needed or (strings if strings and "" not in strings else None)


def _node(op: Any, av: Any) -> tuple[Strings | None, Strings | None]:
    # the parser's opcodes; typeshed has no stubs for re's private submodules
    from re import _constants as K  # type: ignore[attr-defined]

    if op is K.LITERAL:
        ch = chr(av)
        return (frozenset({ch.lower()}),) * 2 if ch.isascii() else (None, None)
    if op is K.IN:
        chars: set[str] = set()
        for item, arg in av:
            if item is K.LITERAL:
                chars.add(chr(arg))
            elif item is K.RANGE and arg[1] - arg[0] < 16:
                chars.update(map(chr, range(arg[0], arg[1] + 1)))
            else:
                return None, None
        if len(chars) > 16 or not all(c.isascii() for c in chars):
            return None, None
        lowered = frozenset(c.lower() for c in chars)
        return lowered, lowered
    if op in (K.AT, K.ASSERT, K.ASSERT_NOT):  # zero width: neighbours stay adjacent
        return frozenset({""}), None
    if op is K.SUBPATTERN:
        return _literals(av[3])
    if op is K.ATOMIC_GROUP:
        return _literals(av)
    if op is K.BRANCH:
        subs = [_literals(branch) for branch in av[1]]
        strings = None
        if all(s is not None for s, _ in subs):
            union = frozenset().union(*(s for s, _ in subs if s is not None))
            strings = union if len(union) <= _GATE_LIMIT else None
        needs = [_needed(s, n) for s, n in subs]
        return strings, (frozenset().union(*needs) if all(needs) else None)  # type: ignore[arg-type]
    if op in (K.MAX_REPEAT, K.MIN_REPEAT, K.POSSESSIVE_REPEAT):
        low, high, sub = av
        strings, needed = _literals(sub)
        if high == 0:
            return frozenset({""}), None
        if low == 0:
            return (strings | {""} if high == 1 and strings is not None else None), None
        return (strings if low == high == 1 else None), _needed(strings, needed)
    return None, None


def _minimal(strings: Iterable[str]) -> list[str]:
    """Without the strings that contain another one (any of them will do)."""
    items = set(strings)
    return sorted(s for s in items if not any(t != s and t in s for t in items))


def gate_strings(pattern: str, flags: int = re.I) -> list[str] | None:
    """Lower-case strings one of which any match of ``pattern`` contains (in ``fold``'s
    terms); None when the pattern promises none."""
    from re import _parser  # type: ignore[attr-defined]  # private, not in typeshed

    try:
        needed = _literals(_parser.parse(pattern, flags))[1]
    except Exception:  # an unknown construct just means no gate
        return None
    return _minimal(needed) if needed else None


def gate_key(pattern: str) -> str:
    """The key of a pattern's stored gate: an edited pattern finds none (and derives one)."""
    return hashlib.blake2b(pattern.encode(), digest_size=6).hexdigest()


def stored_gates(patterns: Iterable[str]) -> str:
    """Source of ``changelog_patterns.GATES`` for ``patterns``."""
    lines = ["GATES: dict[str, tuple[str, ...] | None] = {"]
    for pattern in dict.fromkeys(patterns):
        strings = gate_strings(pattern)
        head = f"    {gate_key(pattern)!r}: "
        if strings is None:
            lines.append(f"{head}None,")
            continue
        line = head + "("
        for item in map(repr, strings):
            if len(line) + len(item) + 2 > 96:
                lines.append(line.rstrip())
                line = " " * (len(head) + 1)
            line += item + ", "
        lines.append(line.rstrip().rstrip(",") + ("," if len(strings) == 1 else "") + "),")
    return "\n".join([*lines, "}"])


class Rule:
    """A built-in pattern with its gate: ``strings``, one of which every match contains
    (empty: always run). The regex is compiled when first needed: the patterns a vendor's
    changelog never gets near are never compiled. ``bit`` is the rule's bit in the masks
    of ``Gates``, which opens every rule's gate in one scan."""

    __slots__ = ("_rx", "bit", "pattern", "strings")

    def __init__(self, pattern: str, bit: int = 0) -> None:
        key = gate_key(pattern)
        strings = P.GATES[key] if key in P.GATES else gate_strings(pattern)
        self.pattern = pattern
        self.bit = bit
        self.strings = tuple(strings or ())
        self._rx: re.Pattern[str] | None = None

    def regex(self) -> re.Pattern[str]:
        rx = self._rx
        if rx is None:
            rx = self._rx = re.compile(self.pattern, re.I)
        return rx


def _trie_pattern(strings: Iterable[str]) -> str:
    """A regex matching, at a position, the longest of ``strings`` that starts there: at
    each trie node the next character picks at most one branch, and going on is tried
    before stopping."""
    trie: dict[str, Any] = {}
    for string in strings:
        node = trie
        for ch in string:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        alts = [re.escape(ch) + emit(sub) for ch, sub in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(trie)


class Gates:
    """Every rule's gate at once. One scan of a folded statement (a lookahead, so
    overlapping strings are all found) yields, at each position, the longest gate string
    that starts there; the others that start there are its prefixes, so ``opens`` maps it
    to the bits of every rule whose gate one of them opens: one scan instead of a regex or
    an ``in`` per gate."""

    __slots__ = ("_find", "always", "longest", "opens")

    def __init__(self, rules: Iterable[Rule]) -> None:
        by_string: dict[str, int] = {}
        self.always = 0  # rules without a gate
        for rule in rules:
            if not rule.strings:
                self.always |= rule.bit
            for string in rule.strings:
                by_string[string] = by_string.get(string, 0) | rule.bit
        self.opens: dict[str, int] = {}
        for string in by_string:
            bits = 0
            for end in range(1, len(string) + 1):
                bits |= by_string.get(string[:end], 0)
            self.opens[string] = bits
        self.longest = max(map(len, by_string), default=1)
        self._find: Callable[[str], list[str]] | None = None
        if by_string:
            self._find = re.compile(f"(?=({_trie_pattern(by_string)}))").findall

    def bits(self, low: str) -> int:
        """The bits of the rules whose gates open for the folded text ``low``."""
        bits = self.always
        if self._find is not None:
            opens = self.opens
            for string in self._find(low):
                bits |= opens[string]
        return bits


class Rules(NamedTuple):
    skip: tuple[Rule, ...]
    names: tuple[Rule, ...]
    model_context: Rule
    model_verbs: Rule
    model_high: Rule
    model_strong: Rule
    model_weak: Rule
    model_phrases: tuple[Rule, ...]
    caps: tuple[tuple[str, Rule], ...]
    cap_verbs: Rule
    training: tuple[tuple[str, Rule], ...]
    policy: tuple[tuple[str, Rule], ...]
    policy_verbs: Rule
    heading: re.Pattern[str]  # ``_SECTION_WORDS`` for folded text, case-sensitive: faster
    skip_section: re.Pattern[str]
    chore_section: re.Pattern[str]
    section_verbs: tuple[tuple[re.Pattern[str], str], ...]
    split: re.Pattern[str]
    gates: Gates
    skip_bits: int  # the bits of ``skip``
    names_bits: int  # of ``names``
    phrase_bits: int  # of ``model_phrases``
    caps_bits: int  # of ``caps``
    training_bits: int  # of ``training``
    policy_bits: int  # of ``policy``
    found_bits: int  # of all these but ``skip``: without one, a statement has no signal


def _bits(rules: Iterable[Rule]) -> int:
    bits = 0
    for rule in rules:
        bits |= rule.bit
    return bits


def rules() -> Rules:
    """The built-in patterns for the vocabularies now in force, compiled on first use (not
    at import: start-up pays none) and again only when the config's vocabulary changes."""
    return _compiled(vocab.generation())


def builtin_patterns() -> tuple[tuple[str, ...], dict[str, str]]:
    """(model-name patterns, capability tag → pattern) of the vocabularies now in force."""
    return (P.model_name_patterns(vocab.get("model_families")),
            P.capability_patterns(vocab.get("capabilities")))


@lru_cache(maxsize=2)
def _compiled(generation: int) -> Rules:
    made: list[Rule] = []

    def rule(pattern: str) -> Rule:
        made.append(Rule(pattern, 1 << len(made)))
        return made[-1]

    name_patterns, cap_patterns = builtin_patterns()
    skip, names = tuple(map(rule, P.SKIP)), tuple(map(rule, name_patterns))
    model_phrases = tuple(map(rule, P.MODEL_PHRASES))
    caps = tuple((label, rule(p)) for label, p in cap_patterns.items())
    training = tuple((label, rule(p)) for label, p in P.TRAINING_DATA.items())
    policy = tuple((label, rule(p)) for label, p in P.POLICY_TERMS.items())
    caps_bits, training_bits, policy_bits = (_bits(r for _, r in labelled)
                                             for labelled in (caps, training, policy))
    phrase_bits, names_bits = _bits(model_phrases), _bits(names)
    return Rules(
        skip=skip, names=names, model_context=rule(P.MODEL_CONTEXT),
        model_verbs=rule(P.MODEL_VERBS), model_high=rule(P.MODEL_HIGH),
        model_strong=rule(P.MODEL_STRONG), model_weak=rule(P.MODEL_WEAK_CONTEXT),
        model_phrases=model_phrases, caps=caps, cap_verbs=rule(P.CAPABILITY_VERBS),
        training=training, policy=policy, policy_verbs=rule(P.POLICY_VERBS),
        heading=re.compile(_SECTION_WORDS),
        skip_section=re.compile(rf"^({P.SKIP_SECTIONS})$", re.I),
        chore_section=re.compile(rf"^({P.CHORE_SECTIONS})$", re.I),
        section_verbs=tuple((re.compile(rx), v) for rx, v in P.SECTION_VERBS.items()),
        split=re.compile(_SPLIT_FAST), gates=Gates(made), skip_bits=_bits(skip),
        names_bits=names_bits, phrase_bits=phrase_bits, caps_bits=caps_bits,
        training_bits=training_bits, policy_bits=policy_bits,
        found_bits=names_bits | phrase_bits | caps_bits | training_bits | policy_bits)


def _hit(rule: Rule, text: str, bits: int) -> bool:
    """Whether ``rule`` matches ``text``, whose statement opens the gates ``bits``."""
    return bool(bits & rule.bit) and rule.regex().search(text) is not None


_NUMERIC = re.compile(r"[\d.-]+")
_NAME_END = ".,;:)`'\"”"


def name_match(m: re.Match[str], text: str, context: Callable[[], bool],
               ) -> tuple[int, int, str] | None:
    """(start, end, name) of a model-name match, or None when it names no model here: a
    name found by its context stands; an id in backticks only where the statement speaks
    of models; a family name without a version only where ``family_alone`` says it names
    a model (followed by a capitalised word it names a product: "Claude Code"); any other
    needs a digit."""
    groups = m.re.groupindex
    mode = next((g for g in ("name", "id", "family") if g in groups and m.group(g)), "")
    start, end = m.span(mode) if mode else m.span()
    name = text[start:end].rstrip(_NAME_END)
    families = vocab.get("model_families")
    if mode == "family":
        name = P.first_name(name, families)
    if not name or _NUMERIC.fullmatch(name):
        return None
    end = start + len(name)
    if mode == "name":
        return start, end, name
    digit = any(ch.isdigit() for ch in name)
    if mode == "id" and not (digit and "-" in name and context()):
        return None
    if not digit and (mode != "family" or P.product_follows(text, end)
                      or not P.family_alone(text, start, end, families)):
        return None
    return start, end, name


def _model_names(text: str, bits: int) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for _, _, name in _name_spans(text, bits):
        if name.lower() not in seen:
            out.append(name)
            seen.add(name.lower())
    return out


def _name_spans(text: str, bits: int) -> list[tuple[int, int, str]]:
    """(start, end, name) of each model name written in ``text``, in order, overlapping
    mentions merged into the first."""
    spans: list[tuple[int, int, str]] = []
    r = rules()
    known: list[bool] = []

    def context() -> bool:
        if not known:
            known.append(_hit(r.model_context, text, bits))
        return known[0]

    for rule in r.names:
        if not bits & rule.bit:
            continue
        for m in rule.regex().finditer(text):
            found = name_match(m, text, context)
            if found:
                spans.append(found)
    if not spans:
        return []
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    out: list[tuple[int, int, str]] = []
    last_end = -1
    for start, end, name in spans:
        if start >= last_end:
            out.append((start, end, name))
        last_end = max(last_end, end)
    return out


_NEW_MODEL_CONTEXT = re.compile(P.NEW_MODEL_CONTEXT, re.I)
_NEW_MODEL_VERBS = re.compile(P.NEW_MODEL_VERBS, re.I)
_NEW_MODEL_NAME = re.compile(P.NEW_MODEL_NAME, re.I)
_NOT_MODEL_VERB = re.compile(P.NOT_MODEL_VERB, re.I)


def new_model_names(text: str) -> list[str]:
    """Models of families no vocabulary knows, in a statement that adds, launches or
    supports models ("Added Orbit 3, our new flagship model"): a capitalised word and a
    version (``changelog_patterns.NEW_MODEL_NAME``), unless the word versions something
    else ("Python 3.14", "March 2026")."""
    if not (_NEW_MODEL_CONTEXT.search(text) and _NEW_MODEL_VERBS.search(text)):
        return []
    names = [m.group("name") for m in _NEW_MODEL_NAME.finditer(text)]
    firsts = [re.split(r"[ -]", n, maxsplit=1)[0] for n in names]
    return list(_distinct(n for n, w in zip(names, firsts, strict=True)
                          if w.lower() not in P.NOT_MODEL_WORDS
                          and not _NOT_MODEL_VERB.fullmatch(w)))


def model_names(text: str) -> list[str]:
    """Model names written in ``text``, in order, overlapping mentions merged."""
    return _model_names(text, rules().gates.bits(fold(text)))


def statements(title: str, lines: Sequence[str]) -> list[tuple[str, str]]:
    """The title and each line, split into sentences, each with the verb its section
    heading lends it ("Added", "Deprecated", "Removed" or ""; "chore" under a chores
    heading, whose items classify only when they retire a model: ``_retires_model``)."""
    r = rules()
    heading, split = r.heading.match, r.split.split
    out: list[tuple[str, str]] = []
    verb = ""
    for line in [title, *lines]:
        if not line:
            continue
        # a letter that matches an ASCII one case-insensitively folds to it, and folding
        # keeps every other character's class: the heading pattern needs no re.I
        if heading(fold(line)):
            word = re.sub(r"[^\w' ]+", "", line).strip().lower()
            verb = next((v for rx, v in r.section_verbs if rx.fullmatch(word)), "")
            verb = "skip" if r.skip_section.match(word) else verb
            verb = "chore" if r.chore_section.match(word) else verb
            continue
        if verb != "skip":
            # a split needs one of ".!?•·" followed by a space: not at the end only
            body = line[:-1]
            parts = split(line) if ("." in body or "!" in body or "?" in body or "•" in body
                                    or "·" in body) else (line,)
            for part in parts:
                part = part.strip()
                if part:
                    out.append((part[:400], verb))
    return out


def _signal(kind: str, text: str, entities: Iterable[str], severity: str) -> dict[str, Any]:
    ents = list(dict.fromkeys(entities))
    return {"type": kind, "text": text, "entities": ents, "severity": severity,
            "tags": list(dict.fromkeys(e.lower() for e in ents))}


_FINE_TUNE = re.compile(r"fine[- ]?tun", re.I)
_TRAINING_KEEP = re.compile(r"\b(opt|our models|retention)", re.I)
Found = tuple[tuple[str, tuple[str, ...], str, tuple[str, ...]], ...]


def _builtin_found(text: str, bits: int) -> Found:
    """(type, entities, severity, tags) of each built-in signal of a statement, whose folded
    text opens the gates ``bits``: entities as the statement writes them, tags what they
    are (a capability's tag, a model name in lower case)."""
    r = rules()
    if not bits & r.found_bits:
        return ()
    found: list[tuple[str, tuple[str, ...], str, tuple[str, ...]]] = []
    names = _model_names(text, bits) if bits & r.names_bits else []
    # a model of a family the vocabulary does not know, where the statement adds one
    fresh = [] if names else new_model_names(text)
    names = names or fresh
    caps: list[tuple[str, str]] = []
    if bits & r.caps_bits:
        at: list[tuple[int, str, str]] = []
        for label, rule in r.caps:
            if bits & rule.bit:
                at += [(m.start(), label, P.capability_as_written(m))
                       for m in rule.regex().finditer(text)]
        at.sort(key=lambda item: item[0])  # in the order the statement names them
        caps = [(label, word) for _, label, word in at]
        caps = caps if caps and _hit(r.cap_verbs, text, bits) else []
    phrase = bool(bits & r.phrase_bits) and any(
        bits & rule.bit and rule.regex().search(text) for rule in r.model_phrases)
    model = phrase or bool(names and _hit(r.model_verbs, text, bits)) or bool(fresh)
    # a price, a rate limit or a capability added to a model ("Added image input to X")
    # names the model without changing it, unless the verb is a release or retirement
    if model and not phrase and (caps or _hit(r.model_weak, text, bits)):
        model = _hit(r.model_strong, text, bits)
    if model:
        high = _hit(r.model_high, text, bits)
        names = list(dict.fromkeys(names))
        found.append(("model_change", tuple(names), "high" if high else "medium",
                      tuple(dict.fromkeys(n.lower() for n in names))))
    if caps:
        found.append(("new_capability", _distinct(w for _, w in caps),
                      SEVERITY["new_capability"], tuple(dict.fromkeys(t for t, _ in caps))))
    if bits & r.training_bits:
        training = [label for label, rule in r.training
                    if bits & rule.bit and rule.regex().search(text)]
        if training and not (_FINE_TUNE.search(text) and not _TRAINING_KEEP.search(text)):
            labels = tuple(dict.fromkeys(training))
            found.append(("training_data_change", labels, "high", labels))
    if bits & r.policy_bits:
        policies = [label for label, rule in r.policy
                    if bits & rule.bit and rule.regex().search(text)]
        if policies and _hit(r.policy_verbs, text, bits):
            labels = tuple(dict.fromkeys(policies))
            found.append(("policy_change", labels, SEVERITY["policy_change"], labels))
    return tuple(found)


def _distinct(words: Iterable[str]) -> tuple[str, ...]:
    """Each word once, ignoring case; first spelling kept."""
    seen: dict[str, str] = {}
    for word in words:
        seen.setdefault(word.lower(), word)
    return tuple(seen.values())


def _builtin(text: str, shown: str, bits: int) -> list[dict[str, Any]]:
    """Built-in signals of one statement: ``text`` is matched (with its section verb),
    ``shown`` is what the signal quotes; ``bits``: the gates ``text`` opens."""
    return [{"type": kind, "text": shown, "entities": list(entities), "severity": severity,
             "tags": list(tags)}
            for kind, entities, severity, tags in _builtin_found(text, bits)]


@lru_cache(maxsize=64)
def compile_rules(classify: tuple[tuple[str, tuple[str, ...]], ...] = (),
                  exclude: tuple[str, ...] = ()) -> tuple[tuple[tuple[str, re.Pattern[str]], ...],
                                                         tuple[re.Pattern[str], ...]]:
    """A source's own patterns, compiled once: ((type, regex), …) and exclusions."""
    extra = tuple((kind, re.compile(p, re.I)) for kind, patterns in classify for p in patterns)
    return extra, tuple(re.compile(p, re.I) for p in exclude)


def _skipped(text: str, bits: int) -> bool:
    """Whether a statement (opening the gates ``bits``) is a fix, a chore, a bump, …"""
    return any(bits & rule.bit and rule.regex().search(text) for rule in rules().skip)


_CHORE = re.compile(P.CHORE, re.I)
_CHORE_ITEM = re.compile(P.CHORE_ITEM, re.I)
_CHORE_NOISE = re.compile(P.CHORE_NOISE, re.I)
_CHORE_NOISE_WORDS = re.compile(P.CHORE_NOISE_WORDS, re.I)
_RETIRE_BEFORE = re.compile(P.RETIRE_BEFORE, re.I)
_RETIRE_AFTER = re.compile(P.RETIRE_AFTER, re.I)


def chore_rest(text: str, item: bool) -> str | None:
    """What a chore says past its "chore(scope):" prefix (an ``item`` of a chores section:
    past its "scope:", if any); None for what is no chore, or a chore of dependencies, CI,
    builds, tests and the like (``changelog_patterns.CHORE_NOISE``)."""
    m = _CHORE.match(text) or (_CHORE_ITEM.match(text) if item else None)
    if m is None:
        return None if not item or _CHORE_NOISE_WORDS.search(text) else text
    scope = m.group("scope") or ""
    rest = text[m.end():]
    if any(_CHORE_NOISE.match(part.strip()) for part in re.split(r"[/,]", scope)) or (
            _CHORE_NOISE_WORDS.search(f"{scope} {rest}")):
        return None
    return rest


def retires(text: str, spans: Sequence[tuple[int, int, str]]) -> bool:
    """Whether ``text`` retires one of the model names at ``spans``: a removal verb before
    it ("remove obsolete Grok 2 models"), or the name said to be removed after it."""
    return any(_RETIRE_BEFORE.search(text, max(0, start - 80), start)
               or _RETIRE_AFTER.match(text[end:end + 160]) for start, end, _ in spans)


def _retires_model(text: str, item: bool) -> bool:
    """Whether a chore (``item``: one of a chores section) retires a model it names: such
    a chore classifies like any statement; any other chore is skipped."""
    rest = chore_rest(text, item)
    if not rest:
        return False
    bits = rules().gates.bits(fold(rest))
    if bits & rules().skip_bits and _skipped(rest, bits):  # "chore: bump …"
        return False
    return retires(rest, _name_spans(rest, bits))


def classify(title: str, lines: Sequence[str],
             extra: Mapping[str, Sequence[str]] | None = None, exclude: Sequence[str] = (),
             builtin: bool = True) -> list[dict[str, Any]]:
    """Signals of an entry: ``[{"type", "text", "entities", "severity"}, …]``, at most one per
    type and statement. ``extra`` adds patterns per trigger type; ``builtin=False`` keeps
    only them; ``exclude`` silences matching statements."""
    key = tuple(sorted((k, tuple(v)) for k, v in (extra or {}).items())) if extra else ()
    own, skip = compile_rules(key, tuple(exclude))
    r = rules()
    gates, skip_bits, found_bits = r.gates, r.skip_bits, r.found_bits
    signals: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for text, verb in statements(title, lines):
        low = fold(text)
        bits = gates.bits(low)
        chore = verb == "chore"
        verb = "" if chore else verb
        if (chore or (bits & skip_bits and _skipped(text, bits))) and not _retires_model(
                text, chore):
            continue
        if skip and any(rx.search(text) for rx in skip):
            continue
        found: list[dict[str, Any]] = []
        if builtin and verb:
            # the gate strings of "verb: text" are those of text and those that start in
            # the verb, which the head holds whole (the fold of a concatenation is the
            # concatenation of the folds but for the final sigma, no gate's letter)
            head = f"{fold(verb)}: {low[:gates.longest - 1]}"
            found = _builtin(f"{verb}: {text}", text, bits | gates.bits(head))
        elif builtin and bits & found_bits:
            found = _builtin(text, text, bits)
        for kind, rx in own:
            m = rx.search(text)
            if m and all(s["type"] != kind for s in found):
                ents = _model_names(text, bits) or [m.group(0).strip()]
                found.append(_signal(kind, text, ents, SEVERITY.get(kind, "medium")))
        for sig in found:
            if (sig["type"], text) not in seen and len(signals) < MAX_SIGNALS:
                seen.add((sig["type"], text))
                signals.append(sig)
    return signals
