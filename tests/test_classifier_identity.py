"""The changelog classifier's speed-ups (``triggers/changelog_classifier.py``: gates, lazy compiled
rules) are invisible: ``classify`` and ``model_names`` give what
the plain implementation below gives — the one they replaced, kept here verbatim over the
same pattern data — for every statement of the file cases, the simulated vendor site (as
generated and after rounds of changes), the strings of the changelog tests, and hostile
and random text. A change to what the classifier means must be made in both.
"""

from __future__ import annotations

import ast
import json
import random
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from site_docs import site_documents

from sources import REGISTRY
from sources import changelog as changelog_kind
from triggers import changelog_classifier as fast
from triggers import changelog_patterns as P
from triggers.changelog import options_of

CASES = Path(__file__).parent / "cases"
SITE_VENDORS = 6
SITE_ROUNDS = 4


# --- the reference: the classifier before the speed-ups -----------------------------------
class _Ref:
    def __init__(self) -> None:
        rx = self.rx = lambda p: re.compile(p, re.I)
        self.section_words = re.compile(fast._SECTION_WORDS, re.I)
        self.skip_section = re.compile(rf"^({P.SKIP_SECTIONS})$", re.I)
        self.chore_section = re.compile(rf"^({P.CHORE_SECTIONS})$", re.I)
        self.split = re.compile(fast._SPLIT)
        self.skip = [rx(p) for p in P.SKIP]
        name_patterns, cap_patterns = fast.builtin_patterns()
        self.names = [rx(p) for p in name_patterns]
        self.model_context = rx(P.MODEL_CONTEXT)
        self.model_verbs, self.model_high = rx(P.MODEL_VERBS), rx(P.MODEL_HIGH)
        self.model_strong, self.model_weak = rx(P.MODEL_STRONG), rx(P.MODEL_WEAK_CONTEXT)
        self.model_phrases = [rx(p) for p in P.MODEL_PHRASES]
        self.caps = {label: rx(p) for label, p in cap_patterns.items()}
        self.cap_verbs = rx(P.CAPABILITY_VERBS)
        self.training = {label: rx(p) for label, p in P.TRAINING_DATA.items()}
        self.policy = {label: rx(p) for label, p in P.POLICY_TERMS.items()}
        self.policy_verbs = rx(P.POLICY_VERBS)

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        spans: list[tuple[int, int, str]] = []
        for rx in self.names:
            for m in rx.finditer(text):
                found = fast.name_match(m, text, lambda: bool(self.model_context.search(text)))
                if found:
                    spans.append(found)
        spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
        out: list[tuple[int, int, str]] = []
        last_end = -1
        for start, end, name in spans:
            if start >= last_end:
                out.append((start, end, name))
            last_end = max(last_end, end)
        return out

    def model_names(self, text: str) -> list[str]:
        out: list[str] = []
        for _, _, name in self.spans(text):
            if name.lower() not in {n.lower() for n in out}:
                out.append(name)
        return out

    def retires_model(self, text: str, item: bool) -> bool:
        rest = fast.chore_rest(text, item)
        if not rest or any(rx.search(rest) for rx in self.skip):
            return False
        return fast.retires(rest, self.spans(rest))

    def statements(self, title: str, lines: Sequence[str]) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        verb = ""
        for line in [title, *lines]:
            if self.section_words.match(line or ""):
                word = re.sub(r"[^\w' ]+", "", line).strip().lower()
                verb = next((v for rx, v in P.SECTION_VERBS.items() if re.fullmatch(rx, word)),
                            "")
                verb = "skip" if self.skip_section.match(word) else verb
                verb = "chore" if self.chore_section.match(word) else verb
                continue
            if verb != "skip":
                out.extend((s.strip()[:400], verb) for s in self.split.split(line or "")
                           if s.strip())
        return out

    @staticmethod
    def signal(kind: str, text: str, entities: Iterable[str], severity: str,
               tags: Iterable[str] | None = None) -> dict[str, Any]:
        ents = list(dict.fromkeys(entities))
        return {"type": kind, "text": text, "entities": ents, "severity": severity,
                "tags": list(dict.fromkeys(tags if tags is not None
                                           else (e.lower() for e in ents)))}

    def builtin(self, text: str, shown: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        names = self.model_names(text)
        fresh = [] if names else fast.new_model_names(text)
        names = names or fresh
        caps = [(label, P.capability_as_written(m)) for _, label, m in sorted(
            ((m.start(), label, m) for label, rx in self.caps.items() for m in rx.finditer(text)),
            key=lambda item: item[0])]
        caps = caps if caps and self.cap_verbs.search(text) else []
        phrase = any(rx.search(text) for rx in self.model_phrases)
        model = phrase or bool(names and self.model_verbs.search(text)) or bool(fresh)
        if model and not phrase and (self.model_weak.search(text) or caps):
            model = bool(self.model_strong.search(text))
        if model:
            high = bool(self.model_high.search(text))
            found.append(self.signal("model_change", shown, names, "high" if high else "medium"))
        if caps:
            first: dict[str, str] = {}
            for _, word in caps:
                first.setdefault(word.lower(), word)
            written = list(first.values())
            found.append(self.signal("new_capability", shown, written,
                                     fast.SEVERITY["new_capability"], [t for t, _ in caps]))
        training = [label for label, rx in self.training.items() if rx.search(text)]
        if training and not (re.search(r"fine[- ]?tun", text, re.I)
                             and not re.search(r"\b(opt|our models|retention)", text, re.I)):
            found.append(self.signal("training_data_change", shown, training, "high",
                                     training))
        policies = [label for label, rx in self.policy.items() if rx.search(text)]
        if policies and self.policy_verbs.search(text):
            found.append(self.signal("policy_change", shown, policies,
                                     fast.SEVERITY["policy_change"], policies))
        return found

    def classify(self, title: str, lines: Sequence[str],
                 extra: Mapping[str, Sequence[str]] | None = None,
                 exclude: Sequence[str] = (), builtin: bool = True) -> list[dict[str, Any]]:
        own = [(kind, self.rx(p)) for kind, ps in sorted((extra or {}).items()) for p in ps]
        skip = [self.rx(p) for p in exclude]
        signals: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        for text, verb in self.statements(title, lines):
            chore = verb == "chore"
            verb = "" if chore else verb
            if (chore or any(rx.search(text) for rx in self.skip)) and not self.retires_model(
                    text, chore):
                continue
            if any(rx.search(text) for rx in skip):
                continue
            found = self.builtin(f"{verb}: {text}" if verb else text, text) if builtin else []
            for kind, rx in own:
                m = rx.search(text)
                if m and all(s["type"] != kind for s in found):
                    ents = self.model_names(text) or [m.group(0).strip()]
                    found.append(self.signal(kind, text, ents, fast.SEVERITY.get(kind, "medium")))
            for sig in found:
                if (sig["type"], text) not in seen and len(signals) < fast.MAX_SIGNALS:
                    seen.add((sig["type"], text))
                    signals.append(sig)
        return signals


@cache
def ref() -> _Ref:
    return _Ref()


# --- inputs --------------------------------------------------------------------------
Call = tuple[str, tuple[str, ...], dict[str, tuple[str, ...]], tuple[str, ...], bool]


def _record(kind_module: Any, body: bytes, settings: Any, calls: list[Call]) -> None:
    """The calls the changelog rule makes to ``classify`` for the body's entries, were they
    all new: each entry's title and text lines with the source's options."""
    try:
        doc = kind_module.parse(body, settings)
    except Exception:  # garbage gives no entries to classify
        return
    options = options_of(settings)
    extra = {k: tuple(v) for k, v in options.extra.items()}
    for entry in doc.data["entries"]:
        calls.append((entry["title"], tuple(entry["text"]), extra, tuple(options.exclude),
                      options.builtin))


def _case_calls() -> list[Call]:
    calls: list[Call] = []
    for path in sorted((CASES / "changelog").glob("*/*")):
        if path.stem not in ("old", "new"):
            continue
        settings_file = path.parent / "settings.json"
        raw = json.loads(settings_file.read_text()) if settings_file.exists() else {}
        settings = changelog_kind.Settings.model_validate(raw)
        _record(changelog_kind, path.read_bytes(), settings, calls)
        # and once more with configured patterns, exclusions and without the built-ins
        for extra in ({"classify": {"model_change": [r"\bNimbus\b", r"\bv\d+\b"],
                                    "new_capability": [r"\bcanvas\b|\bapi\b"]},
                       "exclude": [r"^Beta:", r"(?i)deprecat"]},
                      {"classify": {"policy_change": [r"terms"]}, "builtin_rules": False}):
            _record(changelog_kind, path.read_bytes(),
                    changelog_kind.Settings.model_validate(raw | extra), calls)
    return calls


def _site_bodies() -> Iterator[tuple[str, str, bytes]]:
    return ((kind, label, body) for kind, label, body
            in site_documents(SITE_VENDORS, SITE_ROUNDS, SITE_VENDORS * 5)
            if kind in ("changelog", "incidents"))


def _site_calls() -> list[Call]:
    calls: list[Call] = []
    for kind, _, body in _site_bodies():
        if kind == "changelog":
            _record(changelog_kind, body, changelog_kind.Settings(), calls)
        else:  # incident titles and updates: more statements of another register
            doc = REGISTRY[kind].parse(body, REGISTRY[kind].Settings())
            for inc in doc.data["incidents"]:
                latest = (inc.get("latest") or {}).get("text") or ""
                calls.append((inc["title"], (latest, *inc["components"]), {}, (), True))
    return calls


def _test_strings() -> list[str]:
    """Every string literal of the tests that exercise the changelog kind."""
    out: list[str] = []
    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        if path.name == Path(__file__).name:
            continue
        source = path.read_text()
        if "changelog" not in source and "classify" not in source:
            continue
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value:
                out.append(node.value)
    return out


HOSTILE = [
    "", " ", "\n", "Added", "Deprecated", "Fixed", "•", "a • b · c", "...", "GPT-", "o1", "O1",
    "Claude ſonnet 4 is now available", "GEMİNİ 2.0 Flash launched", "Kimi K2 released",
    "Released ﬅ-large-3", "İntroducing acme-vısion-2 with ımage input",
    "ChatGPT can now ſearch the web", "Updated our Uſage Policies", "new ſkill model",
    "Deprecated: gpt‑4o (non-breaking hyphen) will be retired",
    "Introducing “nimbus-2” model", "Released `acme-2` model", "added the Acme-7b model",
    "Added NEW Models to the picker", "New model selector", "fix(api): add o3-mini (#2100)",
    "feat(api): add o3-mini (#2100)", "chore(deps): bump gpt-4o", "Docs: new model",
    "We will no longer use your data to train our models; opt out anytime",
    "Fine-tuning data is retained for 30 days", "fine-tuning now available for gpt-4o-mini",
    "Model improvement program: opt-out toggle added", "Zero data retention for the API",
    "Our privacy policy and terms of service were updated", "New DPA and SLA",
    "claude-3-5-sonnet-20240620 now points to claude-3-5-sonnet-20241022",
    "The model will be retired" + " x" * 60 + " soon", "models " + "a " * 100 + "deprecated",
    "Added 1M-token context window and extended thinking", "Launched gemini-2.5-pro-exp-03-25",
    "mistral-large-latest, codestral-2501 and pixtral-12b-2409 released",
    "Command R+ and command-r-08-2024 deprecated", "DALL·E 3 and dall-e-3 retired",
    "whisper-1, tts-1-hd and text-embedding-3-large now available", "Llama 3.1 405B instruct",
    "x" * 5000, "gpt-4o " * 300, "Released " + "acme-large-3 " * 80,
    "Price drop for gpt-4o: new default model", "Rate limits raised for o1-pro",
    "Added image input to acme-large-3", "Introducing the Agents SDK and computer use",
    "MCP connectors are now in beta", "Batch API launched", "new /v1/foo endpoint",
    "The endpoint is now available", "Added support for function calling and JSON mode",
    "No changes to model behaviour", "Without impact on deprecated models",
    "gpt\u200b-4o released", "GPT\u00a04o released", "ＧＰＴ-4o released", "gpt-4o\u0301 released",
]


def _random_statements(count: int, seed: int) -> list[str]:
    """Statements stitched from the words the patterns look for, in random case, with the
    letters that match ASCII ones case-insensitively and random punctuation."""
    words: list[str] = []
    for pattern in _builtin_patterns():  # the words of the pattern text, not of the gates
        words.extend(re.findall(r"[a-z]{2,}", pattern.replace(r"\b", " ")))
    words += ["gpt-4o", "o3-mini", "claude-3-5-sonnet", "acme-large-3", "model", "models",
              "now", "available", "the", "our", "your", "data", "train", "for", "30 days",
              "policy", "terms", "added", "deprecated", "retired", "new", "api", "İ", "ı", "ſ",
              "K", "—", "“", "”", "’", "(", ")", ":", ";", ",", ".", "!", "`", "•", "·", "\n"]
    rnd = random.Random(seed)
    out = []
    for _ in range(count):
        parts = []
        for _ in range(rnd.randint(1, 14)):
            word = rnd.choice(words)
            case = rnd.random()
            word = word.upper() if case < 0.15 else word.title() if case < 0.3 else word
            if rnd.random() < 0.05:
                word = word.replace("s", "ſ").replace("i", "ı").replace("k", "K")
            parts.append(word)
            parts.append(rnd.choice([" ", " ", " ", " ", "", "-", "_", ". ", "  "]))
        out.append("".join(parts[:-1]))
    return out


def _sample(items: Any, rnd: random.Random) -> str:
    """A random string the parsed regex ``items`` may match (lookarounds and anchors
    ignored: the caller keeps the strings the pattern really matches)."""
    from re import _constants as K

    out = []
    for op, av in items:
        if op is K.LITERAL:
            out.append(chr(av))
        elif op is K.NOT_LITERAL or op is K.ANY:
            out.append(rnd.choice(" x-.9"))
        elif op is K.IN:
            choices: list[str] = []
            for item, arg in av:
                if item is K.LITERAL:
                    choices.append(chr(arg))
                elif item is K.RANGE:
                    choices.extend(chr(c) for c in range(arg[0], min(arg[1], arg[0] + 40) + 1))
                elif item is K.CATEGORY:
                    choices.extend({K.CATEGORY_DIGIT: "07", K.CATEGORY_SPACE: " \t",
                                    K.CATEGORY_WORD: "a_Z9", K.CATEGORY_NOT_WORD: " -."
                                    }.get(arg, " x"))
            out.append(rnd.choice(choices or [" "]))
        elif op is K.SUBPATTERN:
            out.append(_sample(av[3], rnd))
        elif op is K.BRANCH:
            out.append(_sample(rnd.choice(av[1]), rnd))
        elif op in (K.MAX_REPEAT, K.MIN_REPEAT, K.POSSESSIVE_REPEAT):
            low, high, sub = av
            count = rnd.randint(low, min(high, low + 3))
            out.extend(_sample(sub, rnd) for _ in range(count))
    return "".join(out)


def _witnesses(per_pattern: int, seed: int) -> list[str]:
    """Strings each built-in pattern matches — every branch in time — with words around
    them, in random case, some with the letters that match ASCII ones case-insensitively."""
    from re import _parser

    rnd = random.Random(seed)
    out = []
    for pattern in _builtin_patterns():
        rx, tree = re.compile(pattern, re.I), _parser.parse(pattern, re.I)
        for _ in range(per_pattern):
            text = _sample(tree, rnd)
            case = rnd.random()
            text = text.upper() if case < 0.2 else text.title() if case < 0.3 else text
            if rnd.random() < 0.1:
                text = text.replace("s", "ſ").replace("i", "ı").replace("k", "K")
            text = rnd.choice(["", "Released ", "Fixed ", "the ", "Updated "]) + text + \
                rnd.choice(["", " model", " is now available", " for gpt-4o", "."])
            if rx.search(text):
                out.append(text)
    return out


def _builtin_patterns() -> list[str]:
    """Every built-in pattern, in the order ``rules()`` compiles them."""
    names, caps = fast.builtin_patterns()
    return [*P.SKIP, *names, P.MODEL_CONTEXT, P.MODEL_VERBS, P.MODEL_HIGH, P.MODEL_STRONG,
            P.MODEL_WEAK_CONTEXT, *P.MODEL_PHRASES, *caps.values(), P.CAPABILITY_VERBS,
            *P.TRAINING_DATA.values(), *P.POLICY_TERMS.values(), P.POLICY_VERBS]


@pytest.fixture(scope="module")
def calls() -> list[Call]:
    found = _case_calls() + _site_calls()
    strings = (_test_strings() + HOSTILE + _random_statements(4000, seed=8)
               + _witnesses(60, seed=5))
    found += [(s, (), {}, (), True) for s in strings]
    found.append(("2.0.0", tuple(strings[:300]), {}, (), True))  # sections lend verbs
    return found


def _statements(calls: list[Call]) -> list[str]:
    out = {}
    for title, lines, *_ in calls:
        for text, verb in ref().statements(title, lines):
            out[text] = None
            out[f"{verb}: {text}" if verb else text] = None
        out[title] = None
        out.update(dict.fromkeys(lines))
    return list(out)


# --- the checks ----------------------------------------------------------------------
def test_classify_is_the_reference(calls: list[Call]) -> None:
    assert len(calls) > 4000
    for title, lines, extra, exclude, builtin in calls:
        want = ref().classify(title, lines, extra, exclude, builtin)
        got = fast.classify(title, list(lines), extra, exclude, builtin)
        assert got == want, (title, lines[:5], extra, exclude, builtin)


def test_model_names_are_the_reference(calls: list[Call]) -> None:
    for text in _statements(calls):
        assert fast.model_names(text) == ref().model_names(text), text


def test_statements_are_the_reference(calls: list[Call]) -> None:
    for title, lines, *_ in calls:
        assert fast.statements(title, lines) == ref().statements(title, lines), title


def test_signals_are_fresh_objects() -> None:
    first = fast.classify("Released acme-large-3 as the new default model", [])
    first[0]["entities"].append("mutated")
    first[0]["text"] = "mutated"
    again = fast.classify("Released acme-large-3 as the new default model", [])
    assert again == ref().classify("Released acme-large-3 as the new default model", [])


def test_every_gate_opens_for_every_match(calls: list[Call]) -> None:
    """The gates alone (the identity checks above also cover them): a pattern that matches
    a statement always finds one of its gate strings in the folded statement."""
    statements = _statements(calls)
    for pattern in _builtin_patterns():
        strings = fast.gate_strings(pattern)
        if strings is None:
            continue
        rx = re.compile(pattern, re.I)
        for text in statements:
            if rx.search(text):
                low = fast.fold(text)
                assert any(s in low for s in strings), (pattern[:60], text)


def test_gates_exist_for_the_costly_patterns() -> None:
    rules = fast.rules()
    gated = [r for r in (*rules.names, *rules.model_phrases, *(r for _, r in rules.caps))
             if r.strings]
    assert len(gated) >= 30


def test_gate_strings_follow_the_regex_grammar() -> None:
    assert fast.gate_strings(r"\bclaude(?:[- ]opus)+") == ["claude"]
    assert fast.gate_strings(r"\b(?:opus|sonnet)[- ]\d") == ["opus ", "opus-", "sonnet ",
                                                             "sonnet-"]
    assert fast.gate_strings(r"(?-i:O[1-9])") == [f"o{d}" for d in range(1, 10)]
    assert fast.gate_strings(r"a?b*") is None
    assert fast.gate_strings(r"\bfoo|.*") is None
    assert fast.gate_strings(r"(?:ab){2,}") == ["ab"]
    assert fast.gate_strings(r"(?<=x)yz(?!w)") == ["yz"]
    assert fast.gate_strings(r"é+tude") == ["tude"]  # a non-ASCII literal ends a run
    assert fast.gate_strings(r"(a)\1bc") == ["bc"]


def test_fold_covers_every_letter_that_matches_an_ascii_one() -> None:
    letter = re.compile("[a-z]", re.I)
    for code in range(128, sys.maxunicode + 1):
        ch = chr(code)
        if letter.fullmatch(ch):
            assert code in fast._FOLD, hex(code)
            assert re.fullmatch(fast._FOLD[code], ch, re.I), hex(code)
        elif code not in fast._FOLD:
            assert len(ch.lower()) == 1, hex(code)  # letters stay adjacent
    assert fast.fold("GEMİNİ Kıſ") == "gemini kis"


def test_importing_the_classifier_compiles_nothing() -> None:
    import subprocess

    code = ("import re, sys; import triggers.changelog_classifier as c; "
            "assert c._compiled.cache_info().currsize == 0; c.classify('x', []); "
            "assert c._compiled.cache_info().currsize == 1")
    subprocess.run([sys.executable, "-c", code], check=True,
                   cwd=Path(__file__).parent.parent)


def test_stored_gates_are_the_derived_ones() -> None:
    fresh = fast.stored_gates(_builtin_patterns())
    namespace: dict[str, Any] = {}
    exec(fresh, namespace)
    assert namespace["GATES"] == P.GATES, (
        "a built-in pattern changed: its stored gate is derived at run time until you "
        "replace GATES at the end of triggers/changelog_patterns.py with\n" + fresh)


def test_one_scan_opens_the_gates_each_rule_opens(calls: list[Call]) -> None:
    """``Gates.bits`` (every gate at once) against each rule's own gate, for every
    statement, with and without a section verb; the verb's head scanned on its own (as
    ``classify`` does) gives the same bits as the whole "verb: text"."""
    r = fast.rules()
    gates = r.gates
    every = [*r.skip, *r.names, r.model_context, r.model_verbs, r.model_high, r.model_strong,
             r.model_weak,
             *r.model_phrases, *(rule for _, rule in (*r.caps, *r.training, *r.policy)),
             r.cap_verbs, r.policy_verbs]
    assert len({rule.bit for rule in every}) == len(every) == len(_builtin_patterns())
    texts = [*_statements(calls), "ſ" * 3, "ẞ MODEL ΣΑΣ: new", "a-mini-mini", "modelmodel"]
    for text in texts:
        low = fast.fold(text)
        bits = gates.bits(low)
        for rule in every:
            want = not rule.strings or any(g in low for g in rule.strings)
            assert bool(bits & rule.bit) == want, (rule.pattern[:60], text)
        for verb in ("Added", "Deprecated", "Removed"):
            head = f"{fast.fold(verb)}: {low[:gates.longest - 1]}"
            assert bits | gates.bits(head) == gates.bits(fast.fold(f"{verb}: {text}")), text


def test_the_faster_split_splits_alike(calls: list[Call]) -> None:
    slow, quick = re.compile(fast._SPLIT), fast.rules().split
    rnd = random.Random(3)
    texts = [line for title, lines, *_ in calls for line in (title, *lines) if line]
    for _ in range(3000):
        texts.append("".join(rnd.choice(["a", "B", ".", "!", "?", " ", "  ", "\t", "\n",
                                         "\u00a0", "\u2003", "•", "·", "(", "[", "`", "'",
                                         '"', "É", "x", "e.g.", "I.E.", "e"])
                                for _ in range(rnd.randint(1, 30))))
    for text in texts:
        assert quick.split(text) == slow.split(text), text


def test_section_headings_match_folded_without_ignorecase() -> None:
    """``statements`` matches ``_SECTION_WORDS`` case-sensitively against the folded line:
    folding keeps each character's place and word class, and turns exactly the characters
    that match one of the pattern's literals case-insensitively into that literal."""
    literals = set(re.findall(r"[a-z' ]", re.sub(r"\\[wW]", "", fast._SECTION_WORDS)))
    assert literals <= set("abcdefghijklmnopqrstuvwxyz' ")
    any_literal = re.compile("[" + "".join(sorted(literals)) + "]", re.I)
    word = re.compile(r"\w")
    for code in range(sys.maxunicode + 1):
        ch = chr(code)
        folded = fast.fold(ch)
        assert len(folded) == 1, hex(code)
        assert bool(word.fullmatch(ch)) == bool(word.fullmatch(folded)), hex(code)
        if any_literal.fullmatch(ch) or folded in literals:
            assert folded in literals and re.fullmatch(re.escape(folded), ch, re.I), hex(code)
    slow, quick = re.compile(fast._SECTION_WORDS, re.I), fast.rules().heading
    for line in ["ADDED", "### Fıxes ###", "  Chores:", "Kelvin", "What's New", "WHATS NEW",
                 "Bug Fixes", "İntroduced", "Miſc", "Refactorings!!", "ci", "CI/CD", "Added.\n",
                 "Added\n\n", "Σ Added", "Added Σ", "new ſ", "Build System", "BUILD  SYSTEM"]:
        assert bool(quick.match(fast.fold(line))) == bool(slow.match(line)), line
