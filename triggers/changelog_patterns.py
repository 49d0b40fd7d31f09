"""Built-in patterns of the changelog classifier (``triggers/changelog.py``), as data.

Each is a case-insensitive regex (``(?-i:…)`` where case matters). ``CAPABILITIES``,
``TRAINING_DATA`` and ``POLICY_TERMS`` map the entity label a match reports to its regex;
a source's ``classify`` option adds its own patterns to these.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

SKIP: tuple[str, ...] = (
    r"^\W*(?:[\w/.()-]+:\s+)?(fix(e[ds])?|fixing|bug\s*fix(es)?|bugfix(es)?|hotfix(es)?|"
    r"resolved (an? |the )?(issue|bug|problem|regression)|typos?|"
    r"correct(ed|s)? (a |the )?typo|docs?|documentation|chore|refactor(ed)?|"
    r"revert(ed|s)?|bump(ed|s)?|deps|document(s|ed)?|clarif(y|ies|ied)|"
    r"updated? dependenc\w*)\b",
    r"^\W*(test|tests|ci|build|style|perf)(\([^)]*\))?!?:",
    r"^\W*(updated?|improved?|clarified|corrected|expanded|added|new)\s+(the\s+|a\s+|an\s+)?"
    r"(docs?|documentation|readme|examples?|guides?|tutorials?|typos?|comments?|changelog|"
    r"tests?|code samples?)\b",
    r"^\W*(feat|fix|docs|chore|refactor|test|ci|build|style|perf|revert)(\([^)]*\))?!?:\s*"
    r"(fix|correct|typo|bump|update (deps|dependencies))",
    r"\b(no|not|without) (changes?|impact) (to|on|for)\b",
)

# "model" as a UI or API noun, not a model: "model selector", "model parameter".
_NOT_UI = (r"(?!\s*(parameters?|fields?|lists?|selectors?|pickers?|dropdowns?|names?|ids?|"
           r"options?|menus?|settings?|badges?|enums?|types?|choices? (ui|menu)))")

# --- model names ----------------------------------------------------------------------
# A model name is a family of the ``model_families`` vocabulary (sources/vocab) as written,
# followed by what versions it: "gpt-4o-mini", "Claude Opus 4.1", "Claude Fable 5",
# "MiniMax M3", "gemini-2.5-flash-lite", "gemma3:270M", "Llama 3.1 405B". The shapes of
# those versions are here; the family names are data.
VARIANTS = ("mini", "nano", "micro", "pro", "flash", "lite", "turbo", "ultra", "max", "plus",
            "large", "medium", "small", "tiny", "xl", "instruct", "chat", "coder",
            "vision", "audio", "realtime", "search", "transcribe", "tts", "image", "embed",
            "embedding", "preview", "latest", "exp", "experimental", "thinking", "reasoning",
            "reasoner", "fast", "base", "omni", "instant", "live", "oss", "nemo", "saba", "ocr",
            "scout", "maverick", "premier", "sonic", "distill")
# a version: 4, 4o, 3.5, 001, 2508, 20241022, 8x7b, 270M; or M3, K2, R1, V3.1
_VER = r"(?:v?\d+(?:\.\d+)*+(?:[a-z]{1,3}\d*)*+|[a-z]\d+(?:\.\d+)*+[a-z]?)"
# what parts a name ("-" or a hyphen that does not break, ":" in "gemma3:270M", a space)
_SEP = "[-\u2010\u2011: ]"
# a capitalised word inside a name, when a version follows it: "Claude Fable 5"
_CAP = rf"(?-i:[A-Z][a-z]+)(?=(?-i:[- ][A-Z][a-z]+)*[- ]{_VER}(?![\w]))"


def family_pattern(families: Sequence[str]) -> str:
    """The family names as one regex, a trie (at each character one branch: fast on every
    word a statement starts), lower-cased for ``re.I``; "-" and " " inside a name are
    optional and either: ``c(?:laude|ode[- ]?llama|…)|g(?:pt|…)|…``."""
    trie: dict[str, Any] = {}
    for name in {f.strip().lower() for f in families if f and f.strip()}:
        node = trie
        for ch in _WORD_GAP.sub(" ", name.replace("-", " ")):
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        alts = [("[- ]?" if ch == " " else re.escape(ch)) + emit(sub)
                for ch, sub in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(trie) or r"(?!x)x"


def model_name_patterns(families: Sequence[str]) -> tuple[str, ...]:
    """The model-name patterns for these families. A match of a pattern with a ``name``
    group is a name found by its context ("add X model"); one with an ``id`` group counts
    only where the statement speaks of models (``MODEL_CONTEXT``); any other counts when it
    holds a digit, or where the statement speaks of models."""
    fam = family_pattern(families)
    variants = "|".join(sorted(VARIANTS, key=lambda v: (-len(v), v)))
    # each part a whole word: "pro" is no part of "provider"
    part = rf"(?:{_VER}|{variants}|{fam}|{_CAP})(?![a-z0-9])"
    return (
        # a family, then its versions and variants: possessive, so never backtracking
        rf"(?<![\w.])(?:[a-z][\w.-]{{0,40}}+/)?(?P<family>(?:{fam})"
        rf"(?:{_SEP}?{_VER}(?![a-z0-9]))?+(?:{_SEP}{part})*+)(?!\w)",
        r"(?-i:(?<![\w-])o[1-9](?:-(?:mini|pro|preview|high|low|deep-research|\d{4}-\d\d-\d\d))*"
        r"(?![\w-]))",
        r"\bcommand[- ](?:r\+?|r[- ]plus|a|light)(?:[- ](?:\d\d-\d{4}|\d+b|plus|vision))*\b",
        r"\bwhisper(?:-1|-large[\w-]*)\b|\btts-1(?:-hd)?\b|\btext-embedding-[\w.-]+",
        r"\bembed-(?:english|multilingual|v\d)[\w.-]*",
        r"\b[a-z][a-z0-9]*(?:-[a-z0-9.]+)*-(?:large|medium|small|mini|nano|pro|flash|lite|turbo|"
        r"ultra|instruct|chat|base|preview|xl|max|plus|fast|reasoning|vision|embed|embedding|"
        r"audio|realtime|omni|instant|coder|thinking|reasoner)(?:-[a-z0-9.]+)*\b",
        r"\b(?:introduc\w*|releas\w*|launch\w*|announc\w*|unveil\w*)\s+[`\"'“]?"
        r"(?P<name>[a-z][\w.]*-[\w.-]*\d[\w.-]*)",
        r"\bmodels?\s+(?:named\s+|called\s+)?[`\"'“]?(?P<name>[a-z][\w.:/-]*\d[\w.:/-]*)",
        r"(?P<name>\b[a-z][\w.:/]*-[\w.:/-]*\d[\w.:/-]*)[`\"'”]?\s+models?\b",
        r"\b(?:adds?|added|introduc\w*|launch\w*|releas\w*|new)\s+(?:(?:the|a|an|new|our)\s+)*"
        rf"[`\"']?(?P<name>[a-z][\w.]*-[\w.-]+)[`\"']?\s+(?:\w+\s+)?models?\b{_NOT_UI}",
        r"(?-i:\b(?:adds?|added|introduc\w*|launch\w*|releas\w*|new)\s+(?:(?:the|a|an|new|our)\s+)*"
        rf"(?P<name>[A-Z][\w.-]*[A-Za-z0-9])\s+(?:[a-z]+\s+)?models?\b{_NOT_UI})",
        # an id in backticks (with a "-" and a digit), where the statement speaks of models:
        # `acme-large-2`
        r"`(?:[a-z][\w.-]{0,40}+/)?(?P<id>[a-z][\w.:-]{0,80}+)`",
    )


# A model of a family no vocabulary knows, named where a statement adds, launches or
# supports models: a capitalised word and a version, its variants after it ("Orbit 3",
# "Nimbus 2 Pro", "Orbit 3 Mini", "Stratus 1.5 70B"). Used only when the statement names
# no model the patterns above know; words that version something else (a month, a
# runtime, a step) are no model.
NEW_MODEL_CONTEXT = r"\bmodels?\b" + _NOT_UI
NEW_MODEL_VERBS = (r"\b(?:adds?|added|adding|introduc\w*|launch\w*|releas\w*|announc\w*|"
                   r"unveil\w*|new|(?:now|generally) available|available (?:now|today)|"
                   r"supports?|supported|support for)\b")
_CAP_VARIANT = "|".join(sorted({v.capitalize() for v in VARIANTS} | {"Mini", "Pro"},
                               key=lambda v: (-len(v), v)))
NEW_MODEL_NAME = (r"(?<![\w.-])(?P<name>(?-i:[A-Z][a-z]+(?:[A-Z][a-z]+)*)[ -]v?\d+(?:\.\d+)*"
                  r"(?:[ -](?:(?-i:" + _CAP_VARIANT + r")|\d+(?:\.\d+)?[BbMmKk]|"
                  r"\d+x\d+[Bb]))*)(?![\w-]|\.\w)")
NOT_MODEL_WORDS = frozenset({
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec", "version", "release", "step", "phase", "part", "section",
    "chapter", "stage", "tier", "level", "day", "week", "month", "year", "quarter", "page",
    "issue", "pr", "item", "table", "figure", "python", "node", "java", "ruby", "rust",
    "swift", "kotlin", "php", "perl", "dotnet", "net", "windows", "macos", "ubuntu",
    "debian", "android", "ios", "postgres", "postgresql", "mysql", "redis", "react", "next",
    "vue", "angular", "django", "rails", "chrome", "firefox", "safari", "edge", "electron",
    "pydantic", "numpy", "typescript", "ecmascript", "unicode", "http", "tls", "oauth",
    "openapi", "swagger", "gradle", "maven", "webpack", "vite", "deno", "bun", "laravel",
    "spring", "cuda", "intel", "arm", "openssl", "sqlite", "region", "zone", "area", "plan",
    "gen", "generation", "wave", "round", "sprint", "build", "patch", "update", "edition",
    "batch", "team", "group", "slot",
})
# … nor is a verb that opens the statement ("Released v2.3 of the SDK")
NOT_MODEL_VERB = (r"(?:\w+(?:ed|ing)|adds?|new|now|supports?|introduces?|launch(?:es)?|"
                  r"releases?|announces?|unveils?|ships?|meet|try|use|get)")


# A statement that speaks of models: a family name alone ("Sonnet is now the default")
# or an id in backticks counts as a model there.
MODEL_CONTEXT = (r"\b(models?|llms?|default|deprecat\w*|retir\w*|sunset\w*|decommission\w*|"
                 r"discontinu\w*|replac\w*|switch\w*|instead of|successor|now uses|powered by|"
                 r"points? to|alias\w*)\b")
# A family name followed by a capitalised word that versions nothing names a product
# ("Claude Code", "Gemini CLI"), not a model.
PRODUCT_AFTER = re.compile(r"[ ](?-i:[A-Z][A-Za-z]+)")
NOT_PRODUCT = frozenset({"model", "models", "llm", "llms", "and", "or", "as", "is", "to", "in",
                         "on", "for", "by", "via", "with", "now", "instead"})


@lru_cache(maxsize=4)
def _family_start(families: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(rf"(?:{family_pattern(families)})(?![a-z])", re.I)


def first_name(name: str, families: Sequence[str]) -> str:
    """The first of names written one after another ("GPT-4o GPT-4o", "gpt-5 Claude 4"):
    once a name has a version, a family with a version of its own starts another one
    ("Claude 3.5 Sonnet" stays one name)."""
    if " " not in name:
        return name
    words = name.split(" ")
    start = _family_start(tuple(families))
    versioned = any(ch.isdigit() for ch in words[0])
    for i in range(1, len(words)):
        own = any(ch.isdigit() for ch in words[i]) or (
            i + 1 < len(words) and any(ch.isdigit() for ch in words[i + 1]))
        if versioned and own and start.match(words[i]):
            return " ".join(words[:i])
        versioned = versioned or any(ch.isdigit() for ch in words[i])
    return name


# Where a family name alone ("Sonnet", "gemini models") is a model: the object of an
# addition or a retirement ("Add Amazon Nova Premier model", "support for all Grok
# models"; not "add prompt caching to Gemini models"), or written as the vocabulary writes
# it where a model is switched or replaced ("now uses Sonnet as the default", "instead
# of Opus"; not opening the statement, where a capital tells nothing).
_NOUN_AFTER = re.compile(r"\s+(?:[\w.-]+\s+)?(?:models?|llms?)\b", re.I)
_ADD_BEFORE = re.compile(
    r"\b(?:adds?|added|adding|introduc\w*|launch\w*|releas\w*|support(?:s|ed)?(?:\s+for)?|"
    r"new|deprecat\w*|retir\w*|remov\w*|sunset\w*)\s+(?:(?:the|a|an|all|new|free|latest|"
    r"experimental|native|support\s+for)\s+|(?-i:[A-Z])[\w'.-]*\s+){0,3}$", re.I)
_SWITCH_BEFORE = re.compile(
    r"\b(?:uses?|using|switch(?:es|ed|ing)?\s+to|replac\w*\s+(?:by|with)|instead\s+of|"
    r"defaults?\s+to|points?\s+to|upgrad\w*\s+to|mov\w*\s+to|retir\w*|deprecat\w*|"
    r"sunset\w*)\s+(?:the\s+)?$", re.I)
_SWITCH_AFTER = re.compile(
    r"\s+(?:models?\s+)?(?:is|as|becomes?)\s+(?:now\s+)?(?:the\s+)?(?:new\s+)?default\b|"
    r"\s+(?:models?\s+)?(?:is|are|will\s+be)\s+(?:now\s+)?(?:deprecated|retired|removed|"
    r"sunset)\b", re.I)
_OPENING = re.compile(r"^[\W_]*$")


def family_alone(text: str, start: int, end: int, families: Sequence[str]) -> bool:
    """Whether a family name without a version, at ``text[start:end]``, names a model."""
    if _NOUN_AFTER.match(text, end) and _ADD_BEFORE.search(text, max(0, start - 64), start):
        return True
    if text[start:end].split(" ", 1)[0] not in families:
        return False
    if _SWITCH_AFTER.match(text, end):
        return True
    return not _OPENING.match(text, 0, start) and bool(
        _SWITCH_BEFORE.search(text, max(0, start - 48), start))


def product_follows(text: str, end: int) -> bool:
    """Whether a capitalised word (not "Model") follows a family name ending at ``end``."""
    m = PRODUCT_AFTER.match(text, end)
    return m is not None and m.group(0).strip().lower() not in NOT_PRODUCT


MODEL_VERBS = (
    r"\b(releas\w*|launch\w*|introduc\w*|announc\w*|unveil\w*|debut\w*|ship(s|ped)?|"
    r"(now|generally|broadly|publicly) available|available (now|today|in|to|for|on|via)|"
    r"adds?|added|adding|new|ga|general availability|(in|into|public|research) (beta|preview)|"
    r"roll(s|ed|ing)? out|upgrad\w*|updat\w*|default|deprecat\w*|retir\w*|sunset\w*|"
    r"shut(s|ting)? ?down|decommission\w*|discontinu\w*|end[- ]of[- ]life|eol|replac\w*|"
    r"switch\w*|migrat\w*|snapshots?|alias\w*|points? to|now (uses|powered|runs|serves)|"
    r"powered by|successor|no longer (be )?(available|supported|offered)|remov\w*|"
    r"support for|supports?)\b")
MODEL_PHRASES: tuple[str, ...] = (
    r"\b(new|newer|latest|next[- ]gen\w*|upgraded|updated)\s+(?:[\w.-]+\s+){0,2}?models?\b"
    rf"{_NOT_UI}",
    r"\bdefault model\b|\bbase model\b|\bunderlying model\b|\bknowledge cut-?off\b",
    r"\bmodel (version|snapshot|upgrade|update|release|deprecation|retirement|alias|switch)s?\b",
    r"\b(deprecat|retir|sunset|decommission|discontinu)\w*\b.{0,80}\bmodels?\b",
    r"\bmodels?\b.{0,80}\b(deprecat\w*|retir\w*|sunset\w*|decommission\w*|discontinu\w*|"
    r"shut(ting)? ?down|end[- ]of[- ]life)",
)
MODEL_STRONG = (r"\b(releas\w*|launch\w*|introduc\w*|announc\w*|deprecat\w*|retir\w*|"
                r"sunset\w*|shut(s|ting)? ?down|decommission\w*|discontinu\w*|default|"
                r"(now|generally) available|replac\w*)\b")
# Prices and rate limits name models without changing them.
MODEL_WEAK_CONTEXT = r"\b(pric(e|es|ing)|rate[- ]limits?|quotas?|billing|discounts?|costs?)\b"
MODEL_HIGH = (r"\b(deprecat|retir|sunset|shut(s|ting)? ?down|decommission|discontinu|"
              r"end[- ]of[- ]life|default|replac|switch|no longer|remov|points? to|now uses|"
              r"powered by|underlying|base model)")

# --- capabilities -------------------------------------------------------------------------
# The words are the ``capabilities`` vocabulary (sources/vocab: tag → phrases, as texts
# write them). A phrase of several words counts wherever a statement announces it; a single
# word ("file", "memory", "vision") only in a capability's shape: followed by what makes it
# one ("file support", "vision input", "memory features"), after "support for" / "now
# supports" / "can now …", or said to be available ("Voice is now available").
CAPABILITY_NOUNS = (r"inputs?|support|supported|modes?|capabilit(?:y|ies)|understanding|"
                    r"generation|analysis|uploads?|recognition|apis?|tools?|models?|servers?|"
                    r"features?|abilities|chat|conversations?|interactions?|agents?|endpoints?")
# an API parameter or setting named after a capability: "add `parallel_tool_calls` param"
SETTING_NOUNS = r"param(?:eter)?s?|options?|settings?|arguments?|flags?"
CAPABILITY_LEADS = (r"support(?:s|ed|ing)?\s+for|now\s+(?:also\s+)?(?:supports?|accepts?|"
                    r"handles?|understands?|generates?|reads?|takes?|processes?)|accepts?|"
                    r"can\s+now\s+(?:\w+\s+)?(?:see|hear|read|take|accept|generate|process|"
                    r"understand|handle|use)|with")
CAPABILITY_AVAILABLE = (r"(?:is|are)\s+now\s+(?:generally\s+)?(?:available|supported|enabled|"
                        r"live|in\s+(?:beta|preview))")
# Shapes that are no list of words, by tag: "upload images", "1M-token context".
CAPABILITY_SHAPES: dict[str, str] = {
    "tool use": r"\b(built-in|custom|server|client) tools?\b|\btools? support\b|\buse tools\b",
    "image input": r"\bimage (inputs?|understanding|analysis|recognition|uploads?)\b|"
                   r"\bimages? as inputs?\b|"
                   r"\b(upload|attach|send|analy[sz]e|understand|see|read) images?\b",
    "image generation": r"\bimage (generation|creation|editing|outputs?)\b|"
                        r"\bgenerat\w* images?\b|\btext[- ]to[- ]image\b|\bcreate images?\b",
    "audio": r"\baudio (inputs?|outputs?|support|understanding|generation|mode|capabilit\w*)\b|"
             r"\bvoice (mode|inputs?|outputs?|chat|conversations?|interactions?|agents?)\b|"
             r"\bspeech[- ]to[- ](speech|text)\b|\btext[- ]to[- ]speech\b|"
             r"\breal-?time (api|audio|voice)\b|\bspeech (recognition|synthesis)",
    "video": r"\bvideo (inputs?|understanding|generation|analysis|support)\b|"
             r"\b(analy[sz]e|understand|generate) videos?\b",
    "web search": r"\bsearch the (web|internet)\b|\bbrowse (the )?(web|internet)\b|"
                  r"\b(real-?time|live) (web )?search\b|\bgrounding with (google )?search\b|"
                  r"\bweb (access|fetch)\b",
    "agents": r"\bagents? (sdk|api|builder|framework|mode|platform)\b|"
              r"\b(introduc\w*|launch\w*|releas\w*|new)\s+"
              r"(?:(?!support|human|live|user|customer|sales|service)[\w.-]+\s+){0,2}agents?\b|"
              r"\bbuild(ing)? (ai )?agents\b|\bautonomous agents?\b|\bassistants? api\b|"
              r"\bbackground (tasks|agents?)\b",
    "fine-tuning": r"\bfine[- ]?tun\w*|\bmodel customi[sz]ation\b",
    "memory": r"\b(long-term|persistent|cross-session|conversation|chat) memory\b|"
              r"\bmemor(y|ies) (across|between|of) (conversations|chats|sessions)\b",
    "code execution": r"\bexecut(e|es|ing) code\b|\brun(s|ning)? code\b|"
                      r"\bpython (tool|sandbox)\b",
    "file input": r"\b(pdf|file|document)s? (inputs?|support|uploads?|understanding|analysis)\b|"
                  r"\bupload (files|documents|pdfs)\b|\bretrieval (tool|augmented)\b|"
                  r"\bcitations\b",
    "structured outputs": r"\bjson schema (support|mode)",
    "new endpoint": r"\bnew\s+(?:[\w/`.-]+\s+){0,2}?(?:endpoints?|apis?)\b(?!\s*(keys?|"
                    r"versions?|docs?|reference|errors?|client))|"
                    r"\b(?:adds?|added|introduc\w*|launch\w*|releas\w*)\s+(?:(?:a|an|the)\s+)?"
                    r"(?:new\s+)?[`/\w.{}-]+\s+(?:endpoints?|api)\b|"
                    r"\b(?:batch|realtime|responses|files|assistants|embeddings|moderations?|"
                    r"evals?|vector stores?|uploads|webhooks?|admin|usage) api\b|"
                    r"\bendpoints?\b.{0,30}\b(now available|is available|launched|released)\b",
    "context window": r"\b\d+\s?[km][- ]token context\b",
    "reasoning": r"\breasoning (mode|effort|summar\w*)\b",
}
_WORD_GAP = re.compile(r"[-_\s]+")
# what may follow a single capability word that is the object of "support for …": the
# phrase ends there ("support for files in X"), it is no modifier ("support for file paths")
_PHRASE_END = (r"\s*(?:$|[,.;:()!?/\"'`]|(?:and|or|in|on|for|to|with|via|across|through|"
               r"from|at|of|into|as|when|where|during|inside|within|alongside|is|are|now|"
               r"will|can|lets?|allows?)\b)")


def _phrase(phrase: str) -> str:
    """A vocabulary phrase as a regex: its words apart by "-", "_", a space or nothing
    (a class of its own, ``[\\s_-]``: the gate derived from it is one of the words, not
    every way of joining them)."""
    words = [re.escape(w) for w in _WORD_GAP.split(phrase.strip().lower()) if w]
    return r"[\s_-]?".join(words)


def capability_patterns(capabilities: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Tag → regex for these capability phrases (and the built-in shapes). A match's
    ``cap…`` group, when one took part, holds the phrase as the statement writes it."""
    out: dict[str, str] = {}
    for tag in [*capabilities, *(t for t in CAPABILITY_SHAPES if t not in capabilities)]:
        phrases = [p for p in capabilities.get(tag) or () if isinstance(p, str) and p.strip()]
        multi = sorted({_phrase(p) for p in phrases if _WORD_GAP.search(p.strip())},
                       key=lambda p: (-len(p), p))
        single = sorted({_phrase(p) for p in phrases if not _WORD_GAP.search(p.strip())},
                        key=lambda p: (-len(p), p))
        alts = []
        if multi:
            alts.append(rf"\b(?P<cap>(?:{'|'.join(multi)})(?:e?s)?)\b"
                        rf"(?=[-_ ](?:{CAPABILITY_NOUNS}|{SETTING_NOUNS})\b|{_PHRASE_END})")
        if single:
            word = rf"(?:{'|'.join(single)})(?:e?s)?"
            alts += [rf"\b(?P<cap1>{word})[-_ ](?:{CAPABILITY_NOUNS})\b",
                     rf"\b(?:{CAPABILITY_LEADS})\s+(?:[\w-]+\s+){{0,2}}?(?P<cap2>{word})\b"
                     rf"(?={_PHRASE_END})",
                     rf"\b(?P<cap3>{word})\s+{CAPABILITY_AVAILABLE}\b"]
        if tag in CAPABILITY_SHAPES:
            alts.append(CAPABILITY_SHAPES[tag])
        if alts:
            out[str(tag)] = "|".join(f"(?:{a})" for a in alts)
    return out


_LEAD_WORDS = re.compile(r"^(?:(?:adds?|added|adding|introduc\w*|launch\w*|releas\w*|new|an?|"
                         r"the)\s+)+", re.I)


def capability_as_written(match: re.Match[str]) -> str:
    """The capability a match of ``capability_patterns`` names, as the statement writes it
    (a shape's leading verb and article left out: "agents endpoint")."""
    for group in ("cap", "cap1", "cap2", "cap3"):
        if group in match.re.groupindex and match.group(group):
            return match.group(group)
    whole = match.group(0).strip()
    return _LEAD_WORDS.sub("", whole) or whole


CAPABILITY_VERBS = (
    r"\b(adds?|added|adding|introduc\w*|launch\w*|releas\w*|announc\w*|unveil\w*|new|"
    r"support(s|ed)? for|enabl\w*|general availability|generally available|"
    r"(in|into|public|private|research|open|limited) (beta|preview|alpha)|"
    r"roll(s|ed|ing)? out|expand\w*|extend\w*|increas\w*|bring\w*|unlock\w*|debut\w*|"
    r"ship(s|ped)?|now\s+(\w+\s+)?(supports?|supported|available|able|offers?|lets?|allows?|includes?|has|have|works?|"
    r"accepts?|handles?|generally|in (beta|preview|ga))|available (now|today|in|to|for|on)|"
    r"can (now )?(see|hear|browse|search|remember|call|use|generate|read|run|execute|watch|"
    r"listen|speak|analy[sz]e|create|process|understand|accept|take|handle|invoke|access))\b")

TRAINING_DATA: dict[str, str] = {
    "training on customer data":
        r"\b(train\w*|retrain\w*|improv\w* (our|the) models?)\b.{0,50}\b(on|with|using|from)\b"
        r".{0,40}\b(your|customers?'?|users?'?|business|enterprise|api|workspace|team|"
        r"organi[sz]ation|personal)\b.{0,30}\b(data|content|conversations|chats|inputs|prompts|"
        r"outputs|interactions|messages|files|code)\b|"
        r"\b(use[sd]?|using|shar(e|es|ed|ing))\b.{0,60}\b(data|content|conversations|chats|"
        r"inputs|prompts|outputs|interactions|messages)\b.{0,50}\b(to|for)\s+"
        r"(train\w*|improv\w*|develop\w*)\b",
    "training opt-out":
        r"\bopt(ed|s|ing)?[- ]?(out|in)\b.{0,80}\b(train\w*|model improvement|improv\w* (our|"
        r"the) models?)|\b(train\w*|model improvement)\b.{0,80}\bopt(ed|s|ing)?[- ]?(out|in)\b|"
        r"\bmodel improvement (program|setting|toggle|preference)",
    "data retention":
        r"\b(zero|no)[- ]data[- ]retention\b|\bzdr\b|\bdata retention\b|\bretention (period|"
        r"polic\w*|window|settings?|controls?)\b|\b(retain\w*|stored|kept|delet\w*|purg\w*|"
        r"logged)\b.{0,60}\b(for|after|up to|within)\s+(\d+|seven|thirty|sixty|ninety)\s*"
        r"(days?|months?|years?|hours?)\b",
    "data usage policy":
        r"\b(training data|data usage|data use|data sharing|data controls?)\s+(polic\w*|"
        r"settings?|controls?|opt[- ]?(out|in)|preferences?|terms)\b",
}
POLICY_TERMS: dict[str, str] = {
    "terms of service": r"\bterms (of (service|use)|and conditions)\b|\b(business|enterprise|"
                        r"commercial|service|api|platform|developer|consumer) terms\b",
    "usage policy": r"\b(usage|acceptable use|content|safety|model use|usage and sharing) "
                    r"polic(y|ies)\b",
    "privacy policy": r"\bprivacy (policy|notice|statement)\b",
    "data processing addendum": r"\bdata processing (addendum|agreement)\b|\bdpa\b",
    "service level agreement": r"\bservice level agreement\b|\bsla\b",
    "governance policy": r"\bresponsible (ai|scaling) polic(y|ies)\b|\bgovernance polic\w*",
}
POLICY_VERBS = (r"\b(updat\w*|chang\w*|revis\w*|amend\w*|new|introduc\w*|effective|"
                r"publish\w*|releas\w*|adds?|added|remov\w*|modif\w*|replac\w*|"
                r"will (apply|take effect))\b")

# A chore ("chore(models): …", "abc1234: chore: …", an item under a "Chores" heading) never
# classifies unless it retires a model it names: a removal verb then (modifiers and) the
# name, "remove obsolete Grok 2 models", or the name said to be removed, "gpt-4-32k is
# retired". A chore of dependencies, CI, builds, tests, lint or releases stays silent
# whatever it says; so does one that removes something of a model ("remove deprecated
# `maxTokens` handling for gpt-4o").
CHORE = r"^\W*(?:[0-9a-f]{6,40}:\s+)?chore(?:\((?P<scope>[^)]*)\))?!?:\s*"
# an item's scope as a "Chores" section writes it (release-please's "**deps:** …")
CHORE_ITEM = r"^\W*(?P<scope>[\w/.-]+):\s+"
CHORE_NOISE = (r"^(?:deps?|dev-?deps?|dependencies|deps-dev|ci|cd|build|builds|test|tests|"
               r"lint|linting|format|style|release|releases|docs?|tooling|config|scripts|"
               r"workflows?|actions|github|types|typing|internal)$")
# … and a chore about tests, examples or tooling, whatever model it names
CHORE_NOISE_WORDS = (r"\b(?:tests?|testing|examples?|fixtures?|mocks?|cassettes?|docs?|readme|"
                     r"lint\w*|ci|workflows?|lockfile|deps|dependenc\w*|typings?|stubs?)\b")
CHORE_SECTIONS = r"chores?|miscellaneous chores"
RETIRE_VERB = (r"(?:remov\w*|retir\w*|deprecat\w*|sunset\w*|decommission\w*|"
               r"discontinu\w*)")
RETIRE_BEFORE = (rf"\b{RETIRE_VERB}\s+(?:(?:the|a|an|all|old|older|obsolete|legacy|deprecated|"
                 r"retired|outdated|unsupported|unused|previous|remaining|support\s+for)\s+)"
                 r"{0,3}[`\"'“]?$")
RETIRE_AFTER = (r"^[`\"'”]?\s+(?:(?:and\s+[\w.:-]+\s+)?(?:[\w.-]+\s+)?models?\s+)?"
                r"(?:(?:is|are|has|have|been|will|be|was|were|now|being|that)\s+)*"
                r"(?:removed|retired|deprecated|shut\s?down|sunset|discontinued|"
                r"decommissioned)\b")

# Keep-a-Changelog style section headings lend their verb to the items below them; items
# under fix, chore and docs headings never classify (a chore's that retires a model does:
# ``CHORE``).
SKIP_SECTIONS = (r"fixed|fixes|bug ?fixes|chores?|documentation|docs|dependencies|deps|"
                 r"tests?|build( system)?|ci|refactor\w*|internal|performance|style|"
                 r"miscellaneous chores|reverts?")
SECTION_VERBS: dict[str, str] = {
    r"added|new|new features?|features?|feat|what'?s new|highlights|introduced|launch(es|ed)?|"
    r"new models?|new capabilities|(new )?model additions?|new models? added": "Added",
    r"deprecated|deprecations?|upcoming deprecations?": "Deprecated",
    r"removed|retired|retirements?|sunset|end of life": "Removed",
}

# --- generated: do not edit ---------------------------------------------------------
# The gate of each pattern above (``triggers/changelog.py``): the lower-case strings one
# of which every match contains, derived from the pattern's parse tree and stored so a
# process need not derive them. Keyed by a hash of the pattern: an edited pattern finds no
# entry and has its gate derived at first use, so this can be stale but never wrong;
# tests/test_classifier_identity.py prints the fresh table when it is.
GATES: dict[str, tuple[str, ...] | None] = {
    '859310d2af38': ('bug', 'bump', 'chore', 'clarified', 'clarifies', 'clarify', 'deps',
                     'doc', 'fix', 'refactor', 'resolved a issue', 'resolved a problem',
                     'resolved a regression', 'resolved an issue', 'resolved an problem',
                     'resolved an regression', 'resolved issue', 'resolved problem',
                     'resolved regression', 'resolved the issue', 'resolved the problem',
                     'resolved the regression', 'revert', 'typo', 'update dependenc',
                     'updated dependenc'),
    '206d73c9c1ae': ('build', 'ci', 'perf', 'style', 'test'),
    'ec63a56d6fe1': ('added', 'clarified', 'corrected', 'expanded', 'improve', 'new', 'update'),
    'e3724afbec36': ('bump', 'correct', 'fix', 'typo', 'update dependencies', 'update deps'),
    '1f49500bf654': ('no change for', 'no change on', 'no change to', 'no changes for',
                     'no changes on', 'no changes to', 'no impact for', 'no impact on',
                     'no impact to', 'not change for', 'not change on', 'not change to',
                     'not changes for', 'not changes on', 'not changes to', 'not impact for',
                     'not impact on', 'not impact to', 'without change for',
                     'without change on', 'without change to', 'without changes for',
                     'without changes on', 'without changes to', 'without impact for',
                     'without impact on', 'without impact to'),
    '74038136d352': ('aya', 'chirp', 'claude', 'codestral', 'codex', 'command', 'dall e',
                     'dall-e', 'dalle', 'deepseek', 'devstral', 'doubao', 'ernie', 'falcon',
                     'gemini', 'gemma', 'glm', 'gpt', 'granite', 'grok', 'haiku', 'hunyuan',
                     'imagen', 'jamba', 'kimi', 'llama', 'magistral', 'midjourney', 'minimax',
                     'ministral', 'mistral', 'mixtral', 'nemotron', 'nova', 'olmo', 'opus',
                     'phi', 'pixtral', 'qwen', 'qwq', 'sonar', 'sonnet', 'sora',
                     'stable diffusion', 'stable-diffusion', 'stablediffusion', 'titan', 'veo',
                     'whisper', 'yi'),
    'd914069ff3cb': ('o1', 'o2', 'o3', 'o4', 'o5', 'o6', 'o7', 'o8', 'o9'),
    '4c5de5e704b9': ('command a', 'command light', 'command r', 'command-a', 'command-light',
                     'command-r'),
    'c1f1aea12746': ('text-embedding-', 'tts-1', 'whisper-'),
    '1bab8715dc1e': ('embed-',),
    '239713667144': ('-audio', '-base', '-chat', '-coder', '-embed', '-fast', '-flash',
                     '-instant', '-instruct', '-large', '-lite', '-max', '-medium', '-mini',
                     '-nano', '-omni', '-plus', '-preview', '-pro', '-realtime', '-reasoner',
                     '-reasoning', '-small', '-thinking', '-turbo', '-ultra', '-vision', '-xl'),
    'ae76829e1cca': ('announc', 'introduc', 'launch', 'releas', 'unveil'),
    '8803709fb9c1': ('model',),
    '1ff5337f2420': ('model',),
    '9fd0e58f3d21': ('model',),
    '7149bfd30ff2': ('model',),
    '259953d31f17': ('`',),
    '13ee35892765': ('alias', 'decommission', 'default', 'deprecat', 'discontinu',
                     'instead of', 'llm', 'model', 'now uses', 'point to', 'points to',
                     'powered by', 'replac', 'retir', 'successor', 'sunset', 'switch'),
    'ae75e0bb4ede': ('add', 'alias', 'announc', 'available for', 'available in',
                     'available now', 'available on', 'available to', 'available via',
                     'broadly available', 'debut', 'decommission', 'default', 'deprecat',
                     'discontinu', 'end of life', 'end of-life', 'end-of life', 'end-of-life',
                     'eol', 'ga', 'general availability', 'generally available', 'in beta',
                     'in preview', 'into beta', 'into preview', 'introduc', 'launch', 'migrat',
                     'new', 'no longer available', 'no longer be available',
                     'no longer be offered', 'no longer offered', 'now available',
                     'now powered', 'now runs', 'now serves', 'now uses', 'point to',
                     'points to', 'powered by', 'public beta', 'public preview',
                     'publicly available', 'releas', 'remov', 'replac', 'research beta',
                     'research preview', 'retir', 'roll out', 'rolled out', 'rolling out',
                     'rolls out', 'ship', 'shut down', 'shutdown', 'shuts down', 'shutsdown',
                     'shutting down', 'shuttingdown', 'snapshot', 'successor', 'sunset',
                     'support', 'switch', 'unveil', 'updat', 'upgrad'),
    '0bb560d85b04': ('base model', 'decommission', 'default', 'deprecat', 'discontinu',
                     'end of life', 'end of-life', 'end-of life', 'end-of-life', 'no longer',
                     'now uses', 'point to', 'points to', 'powered by', 'remov', 'replac',
                     'retir', 'shut down', 'shutdown', 'shuts down', 'shutsdown',
                     'shutting down', 'shuttingdown', 'sunset', 'switch', 'underlying'),
    '21864ad4cc13': ('announc', 'decommission', 'default', 'deprecat', 'discontinu',
                     'generally available', 'introduc', 'launch', 'now available', 'releas',
                     'replac', 'retir', 'shut down', 'shutdown', 'shuts down', 'shutsdown',
                     'shutting down', 'shuttingdown', 'sunset'),
    'dcc41f2266d6': ('billing', 'cost', 'discount', 'price', 'pricing', 'quota', 'rate limit',
                     'rate-limit'),
    'f932e90d0ffc': ('model',),
    '3b6fc21559a0': ('base model', 'default model', 'knowledge cut-off', 'knowledge cutoff',
                     'underlying model'),
    '02a0e4775973': ('model alias', 'model deprecation', 'model release', 'model retirement',
                     'model snapshot', 'model switch', 'model update', 'model upgrade',
                     'model version'),
    'ca1841b6f88b': ('model',),
    '9f2b2c2dc0cd': ('model',),
    '3247e6a0c897': ('function',),
    'fb4ce4f28931': ('built', 'custom', 'parallel', 'server', 'tool'),
    'dc8def416195': ('image', 'multi', 'vision', 'visual'),
    '5eff06a55c04': ('generat', 'image', 'text'),
    'd6f5e8000d00': ('audio', 'automatic', 'available', 'beta', 'enabled', 'live', 'preview',
                     'real-time api', 'realtime', 'speech', 'supported', 'text',
                     'transcription', 'voice'),
    'b4f2f3524489': ('video',),
    'be869bec561b': ('browse the web', 'browse web', 'browsing', 'fetch', 'grounding',
                     'internet', 'search', 'web access'),
    '07479edd8f00': ('agent', 'assistant api', 'assistants api', 'available', 'background',
                     'beta', 'browser', 'computer', 'deep', 'enabled', 'live', 'preview',
                     'supported'),
    '023d37d42495': ('custom', 'distillation', 'fine', 'lora'),
    '2630bacc896b': ('memories', 'memory'),
    'f1dcf7aadb2e': ('code', 'execute', 'python'),
    'c4dfb4798c42': ('citations', 'document', 'file', 'input', 'pdf analysis',
                     'pdf understanding', 'pdf upload', 'pdfs analysis', 'pdfs understanding',
                     'pdfs upload', 'retrieval augmented', 'retrieval tool', 'support',
                     'upload pdfs'),
    'a3f279884e83': ('json', 'structured'),
    '1a7f34c975dc': ('available', 'beta', 'connector', 'enabled', 'live', 'mcp', 'model',
                     'plugins', 'preview', 'supported'),
    '8862585b0759': ('context', 'long'),
    '4384dfaaf7b1': ('extended', 'reasoning', 'thinking'),
    '39ea57129328': ('embedding',),
    '0106ef952654': ('api', 'endpoint', 'new'),
    'b144446d7b9c': ('add', 'announc', 'available for', 'available in', 'available on',
                     'available to', 'bring', 'can accept', 'can access', 'can analyse',
                     'can analyze', 'can browse', 'can call', 'can create', 'can execute',
                     'can generate', 'can handle', 'can hear', 'can invoke', 'can listen',
                     'can process', 'can read', 'can remember', 'can run', 'can search',
                     'can see', 'can speak', 'can take', 'can understand', 'can use',
                     'can watch', 'debut', 'enabl', 'expand', 'extend', 'general availability',
                     'generally available', 'in alpha', 'in beta', 'in preview', 'increas',
                     'into alpha', 'into beta', 'into preview', 'introduc', 'launch',
                     'limited alpha', 'limited beta', 'limited preview', 'new', 'now',
                     'open alpha', 'open beta', 'open preview', 'private alpha',
                     'private beta', 'private preview', 'public alpha', 'public beta',
                     'public preview', 'releas', 'research alpha', 'research beta',
                     'research preview', 'roll out', 'rolled out', 'rolling out', 'rolls out',
                     'ship', 'support for', 'supported for', 'supports for', 'unlock',
                     'unveil'),
    'a3284b5a6106': ('develop', 'improv', 'train'),
    '92bb8bfb2128': ('improv', 'train'),
    'e4bdba6d88eb': ('data retention', 'delet', 'kept', 'logged', 'no data-retention',
                     'no-data-retention', 'purg', 'retain', 'retention ', 'stored', 'zdr',
                     'zero data-retention', 'zero-data-retention'),
    'a5a5ceb2245a': ('data control', 'data sharing', 'data usage', 'data use', 'training data'),
    '3b5692820e89': ('api terms', 'business terms', 'commercial terms', 'consumer terms',
                     'developer terms', 'enterprise terms', 'platform terms', 'service terms',
                     'terms and conditions', 'terms of service', 'terms of use'),
    '66be64f245b2': ('acceptable use policies', 'acceptable use policy', 'content policies',
                     'content policy', 'model use policies', 'model use policy',
                     'safety policies', 'safety policy', 'usage and sharing policies',
                     'usage and sharing policy', 'usage policies', 'usage policy'),
    '69b412d3c78a': ('privacy notice', 'privacy policy', 'privacy statement'),
    'cee2f8628715': ('data processing addendum', 'data processing agreement', 'dpa'),
    '167d9041e72f': ('service level agreement', 'sla'),
    '7e696bce83e2': ('governance polic', 'responsible ai policies', 'responsible ai policy',
                     'responsible scaling policies', 'responsible scaling policy'),
    '19800459ebd6': ('add', 'amend', 'chang', 'effective', 'introduc', 'modif', 'new',
                     'publish', 'releas', 'remov', 'replac', 'revis', 'updat', 'will apply',
                     'will take effect'),
}
