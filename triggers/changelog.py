"""Changelog classification and the default rule for the ``changelog`` kind (pure).

An entry's title and lines are split into statements; each statement is matched against
the built-in patterns below (data, not code) plus the source's own ``classify`` patterns:

* ``model_change`` — a model name with a release / default / deprecation / retirement verb,
  or phrases like "new model", "default model", "model … will be retired";
* ``new_capability`` — a capability (function calling, tool use, image input, audio,
  browsing, agents, fine-tuning, memory, code execution, file input, structured outputs,
  new endpoints, connectors) with an introduction verb ("added", "now supports",
  "introducing", "in beta");
* ``training_data_change`` — training on customer data, opt-outs, data retention periods;
* ``policy_change`` — terms, usage / privacy policies, DPA, SLA with a change verb.

Statements about fixes, docs and chores ("Fixed …", ``docs:``, ``chore(deps):``) never
classify, nor do those matching the source's ``exclude`` patterns.

The rule: a new entry fires one event per type it classifies as (basis: the entry key, so
a reshuffled feed never fires twice). An edited entry fires only for a type, or a named
model / capability, that its old text did not have. Removed entries (a feed keeping only
its latest N) and unclassified entries fire nothing. An "Unreleased" section is treated
like any entry: what it announces is worth knowing before the release.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sources.base import Change

from .events import TriggerEvent

if TYPE_CHECKING:
    from .rules import RuleContext

TYPES = ("model_change", "new_capability", "training_data_change", "policy_change")
LABELS = {"model_change": "model change", "new_capability": "new capability",
          "training_data_change": "training-data change", "policy_change": "policy change"}
SEVERITY = {"model_change": "medium", "new_capability": "medium",
            "training_data_change": "high", "policy_change": "medium"}

SKIP: tuple[str, ...] = (
    r"^\W*(?:[\w/.()-]+:\s+)?(fix(e[ds])?|fixing|bug\s*fix(es)?|bugfix(es)?|hotfix(es)?|"
    r"resolved (an? |the )?(issue|bug|problem|regression)|typos?|"
    r"correct(ed|s)? (a |the )?typo|docs?|documentation|"
    r"chore|refactor(ed)?|tests?|ci|build|style|perf|revert(ed|s)?|bump(ed|s)?|deps|"
    r"document(s|ed)?|clarif(y|ies|ied)|updated? dependenc\w*)\b",
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
MODEL_NAMES: tuple[str, ...] = (
    r"\b(?:chat)?gpt[- ]?\d[\w.]*(?:-(?:turbo|mini|nano|pro|preview|latest|instruct|audio|"
    r"realtime|vision|search|transcribe|tts|codex|oss|\d{4}(?:-\d\d){0,2}|\d+k|\d+b)|"
    r" (?:mini|nano|turbo|pro)\b)*",
    r"(?-i:(?<![\w-])o[1-9](?:-(?:mini|pro|preview|high|low|deep-research|\d{4}-\d\d-\d\d))*"
    r"(?![\w-]))",
    r"\bclaude(?:[- ](?:instant|opus|sonnet|haiku|\d+(?:[.-]\d+)?(?:-\d{8})?|v\d|latest))+",
    r"\b(?:opus|sonnet|haiku)[- ]\d+(?:\.\d+)?\b",
    r"\bgemini(?:[- ](?:\d+(?:\.\d+)?|pro|flash|ultra|nano|lite|exp(?:erimental)?|preview|"
    r"thinking|live|image|\d\d-\d\d))+",
    r"\bgemma[- ]?\d+[\w.-]*",
    r"\b(?:code)?llama[- ]?\d+(?:\.\d+)?(?:[- ](?:\d+b|instruct|chat|vision|scout|maverick))*",
    r"\b(?:mistral|mixtral|codestral|pixtral|ministral|magistral|devstral)(?:[- ](?:large|"
    r"medium|small|tiny|nemo|saba|embed|ocr|\d+(?:\.\d+)?|\d+x\d+b|latest))+",
    r"\bcommand[- ](?:r\+?|r[- ]plus|a|light)(?:[- ](?:\d\d-\d{4}|\d+b|plus|vision))*\b",
    r"\b(?:dall-?e|imagen|sora|veo|chirp)[- ]?\d+(?:\.\d+)?\b",
    r"\bwhisper(?:-1|-large[\w-]*)\b|\btts-1(?:-hd)?\b|\btext-embedding-[\w.-]+",
    r"\bembed-(?:english|multilingual|v\d)[\w.-]*",
    r"\b(?:grok|phi|qwen|deepseek|jamba|nova|titan|sonar|kimi|glm|falcon|olmo|granite|"
    r"nemotron)[- ]?(?:[vr]?\d+(?:\.\d+)?)(?:[- ](?:\d+b|[a-z]+\d*))?\b",
    r"\b[a-z][a-z0-9]*(?:-[a-z0-9.]+)*-(?:large|medium|small|mini|nano|pro|flash|lite|turbo|"
    r"ultra|instruct|chat|base|preview|xl|max|plus|fast|reasoning|vision|embed|embedding|audio|"
    r"realtime|omni|instant|coder|thinking|reasoner)(?:-[a-z0-9.]+)*\b",
    r"\b(?:introduc\w*|releas\w*|launch\w*|announc\w*|unveil\w*)\s+[`\"'“]?"
    r"(?P<name>[a-z][\w.]*-[\w.-]*\d[\w.-]*)",
    r"\bmodels?\s+(?:named\s+|called\s+)?[`\"'“]?(?P<name>[a-z][\w.:/-]*\d[\w.:/-]*)",
    r"(?P<name>\b[a-z][\w.:/]*-[\w.:/-]*\d[\w.:/-]*)[`\"'”]?\s+models?\b",
    r"\b(?:adds?|added|introduc\w*|launch\w*|releas\w*|new)\s+(?:(?:the|a|an|new|our)\s+)*"
    rf"[`\"']?(?P<name>[a-z][\w.]*-[\w.-]+)[`\"']?\s+(?:\w+\s+)?models?\b{_NOT_UI}",
    r"(?-i:\b(?:adds?|added|introduc\w*|launch\w*|releas\w*|new)\s+(?:(?:the|a|an|new|our)\s+)*"
    rf"(?P<name>[A-Z][\w.-]*[A-Za-z0-9])\s+(?:[a-z]+\s+)?models?\b{_NOT_UI})",
)
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

CAPABILITIES: dict[str, str] = {
    "function calling": r"\bfunction[-_ ]call\w*",
    "tool use": r"\btool[-_ ]?(use|calling|calls?|choice|search)\b|\bparallel[-_ ]tool|"
                r"\b(built-in|custom|server|client) tools?\b|\btools? support\b",
    "image input": r"\bimage (inputs?|understanding|analysis|recognition|uploads?)\b|"
                   r"\bvision\b|\bmulti-?modal\b|\bimages? as inputs?\b|"
                   r"\b(upload|attach|send|analy[sz]e|understand|see|read) images?\b",
    "image generation": r"\bimage (generation|creation|editing|outputs?)\b|"
                        r"\bgenerat\w* images?\b|\btext[- ]to[- ]image\b|\bcreate images?\b",
    "audio": r"\baudio (inputs?|outputs?|support|understanding|generation|mode|capabilit\w*)\b|"
             r"\bvoice (mode|inputs?|outputs?|chat|conversations?|interactions?|agents?)\b|"
             r"\bspeech[- ]to[- ](speech|text)\b|\btext[- ]to[- ]speech\b|"
             r"\breal-?time (api|audio|voice)\b|\btranscription\b|\bspeech (recognition|synthesis)",
    "video": r"\bvideo (inputs?|understanding|generation|analysis|support)\b|"
             r"\b(analy[sz]e|understand|generate) videos?\b",
    "web browsing": r"\b(web )?browsing\b|\bweb search\b|\bsearch the (web|internet)\b|"
                    r"\binternet access\b|\bbrowse (the )?(web|internet)\b|"
                    r"\b(real-?time|live) (web )?search\b|\bsearch grounding\b|"
                    r"\bgrounding with (google )?search\b|\bweb (access|fetch)\b",
    "agents": r"\bai agents?\b|\bagents? (sdk|api|builder|framework|mode|platform)\b|"
              r"\bagentic\b|\bautonomous agents?\b|\bcomputer use\b|\bbrowser use\b|"
              r"\bassistants? api\b|\bdeep research\b|\bbackground (tasks|agents?)\b",
    "fine-tuning": r"\bfine[- ]?tun\w*|\bcustom models?\b|\bmodel customi[sz]ation\b|"
                   r"\bdistillation\b|\blora adapters?\b",
    "memory": r"(?<!in-)(?<!out of )(?<!gpu )(?<!low-)(?<!shared )\bmemor(y|ies)\b(?!\s*"
              r"(usage|leaks?|consumption|footprint|limits?|allocation|pressure|efficien\w*|"
              r"overhead|use|errors?|issues?|bloat|spikes?|growth|cache))",
    "code execution": r"\bcode (interpreter|execution)\b|\bexecut(e|es|ing) code\b|"
                      r"\brun(s|ning)? code\b|\bpython (tool|sandbox)\b",
    "file input": r"\b(pdf|file|document)s? (inputs?|support|uploads?|understanding|analysis)\b|"
                  r"\bfile search\b|\bupload (files|documents|pdfs)\b|\bfiles api\b|"
                  r"\bretrieval (tool|augmented)\b|\bcitations\b",
    "structured outputs": r"\bstructured outputs?\b|\bjson mode\b|\bjson schema (support|mode)",
    "new endpoint": r"\bnew\s+(?:[\w/`.-]+\s+){0,2}?(?:endpoints?|apis?)\b(?!\s*(keys?|"
                    r"versions?|docs?|reference|errors?|client))|"
                    r"\b(?:adds?|added|introduc\w*|launch\w*|releas\w*)\s+(?:(?:a|an|the)\s+)?"
                    r"(?:new\s+)?[`/\w.{}-]+\s+(?:endpoints?|api)\b|"
                    r"\b(?:batch|realtime|responses|files|assistants|embeddings|moderations?|"
                    r"evals?|vector stores?|uploads|webhooks?|admin|usage) api\b|"
                    r"\bendpoints?\b.{0,30}\b(now available|is available|launched|released)\b",
    "connectors": r"\bmcp\b|\bmodel context protocol\b|\bconnectors?\b|\bplugins?\b",
    "reasoning": r"\bextended thinking\b|\breasoning (mode|effort|summar\w*)\b|"
                 r"\bthinking mode\b",
}
CAPABILITY_VERBS = (
    r"\b(adds?|added|adding|introduc\w*|launch\w*|releas\w*|announc\w*|unveil\w*|new|"
    r"support(s|ed)? for|enabl\w*|general availability|generally available|"
    r"(in|into|public|private|research|open|limited) (beta|preview|alpha)|"
    r"roll(s|ed|ing)? out|expand\w*|bring\w*|unlock\w*|debut\w*|ship(s|ped)?|"
    r"now\s+(\w+\s+)?(supports?|supported|available|able|offers?|lets?|allows?|includes?|has|have|works?|"
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

# Keep-a-Changelog style section headings lend their verb to the items below them; items
# under fix, chore and docs headings never classify.
SKIP_SECTIONS = (r"fixed|fixes|bug ?fixes|chores?|documentation|docs|dependencies|deps|"
                 r"tests?|build( system)?|ci|refactor\w*|internal|performance|style|"
                 r"miscellaneous chores|reverts?")
SECTION_VERBS: dict[str, str] = {
    r"added|new|new features?|features?|feat|what'?s new|highlights|introduced|launch(es|ed)?|"
    r"new models?|new capabilities": "Added",
    r"deprecated|deprecations?|upcoming deprecations?": "Deprecated",
    r"removed|retired|retirements?|sunset|end of life": "Removed",
}
_SECTION_WORDS = re.compile(
    r"^\W*(added|new|new features?|features?|feat|what'?s new|highlights|introduced|launch\w*|"
    r"new models?|new capabilities|deprecated|deprecations?|upcoming deprecations?|removed|"
    r"retired|retirements?|sunset|end of life|changed|changes|updated|updates|improved|"
    r"improvements?|enhancements?|fixed|fixes|bug ?fixes|security|chores?|misc\w*|other|"
    r"documentation|docs|breaking changes?|performance|internal|dependencies|refactor\w*|"
    r"tests?|build( system)?|ci|miscellaneous chores|reverts?)\W*$", re.I)
_SKIP_SECTION = re.compile(rf"^({SKIP_SECTIONS})$", re.I)
_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'`(\[])|\s+[•·]\s+")
MAX_SIGNALS = 30


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I)


_SKIP = [_rx(p) for p in SKIP]
_NAMES = [_rx(p) for p in MODEL_NAMES]
_MODEL_VERBS, _MODEL_HIGH = _rx(MODEL_VERBS), _rx(MODEL_HIGH)
_MODEL_STRONG, _MODEL_WEAK = _rx(MODEL_STRONG), _rx(MODEL_WEAK_CONTEXT)
_MODEL_PHRASES = [_rx(p) for p in MODEL_PHRASES]
_CAPS = {label: _rx(p) for label, p in CAPABILITIES.items()}
_CAP_VERBS = _rx(CAPABILITY_VERBS)
_TRAINING = {label: _rx(p) for label, p in TRAINING_DATA.items()}
_POLICY = {label: _rx(p) for label, p in POLICY_TERMS.items()}
_POLICY_VERBS = _rx(POLICY_VERBS)


def model_names(text: str) -> list[str]:
    """Model names written in ``text``, in order, overlapping mentions merged."""
    spans: list[tuple[int, int, str]] = []
    for rx in _NAMES:
        for m in rx.finditer(text):
            start, end = m.span("name") if "name" in rx.groupindex else m.span()
            name = text[start:end].rstrip(".,;:)`'\"”")
            named = "name" in rx.groupindex  # found by context: "add X model"
            if (named or any(ch.isdigit() for ch in name)) and not re.fullmatch(r"[\d.-]+",
                                                                                 name):
                spans.append((start, start + len(name), name))
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    out: list[str] = []
    last_end = -1
    for start, end, name in spans:
        if start >= last_end and name.lower() not in {n.lower() for n in out}:
            out.append(name)
        last_end = max(last_end, end)
    return out


def statements(title: str, lines: Sequence[str]) -> list[tuple[str, str]]:
    """The title and each line, split into sentences, each with the verb its section
    heading lends it ("Added", "Deprecated", "Removed" or "")."""
    out: list[tuple[str, str]] = []
    verb = ""
    for line in [title, *lines]:
        if _SECTION_WORDS.match(line or ""):
            word = re.sub(r"[^\w' ]+", "", line).strip().lower()
            verb = next((v for rx, v in SECTION_VERBS.items() if re.fullmatch(rx, word)), "")
            verb = "skip" if _SKIP_SECTION.match(word) else verb
            continue
        if verb != "skip":
            out.extend((s.strip()[:400], verb) for s in _SPLIT.split(line or "") if s.strip())
    return out


def _signal(kind: str, text: str, entities: Iterable[str], severity: str) -> dict[str, Any]:
    return {"type": kind, "text": text, "entities": list(dict.fromkeys(entities)),
            "severity": severity}


def _builtin(text: str, shown: str) -> list[dict[str, Any]]:
    """Built-in signals of one statement: ``text`` is matched (with its section verb),
    ``shown`` is what the signal quotes."""
    found: list[dict[str, Any]] = []
    names = model_names(text)
    model = bool(names and _MODEL_VERBS.search(text)) or any(
        rx.search(text) for rx in _MODEL_PHRASES)
    if model and _MODEL_WEAK.search(text) and not _MODEL_STRONG.search(text):
        model = False
    if model:
        high = bool(_MODEL_HIGH.search(text))
        found.append(_signal("model_change", shown, names, "high" if high else "medium"))
    caps = [label for label, rx in _CAPS.items() if rx.search(text)]
    if caps and _CAP_VERBS.search(text):
        found.append(_signal("new_capability", shown, caps, SEVERITY["new_capability"]))
    training = [label for label, rx in _TRAINING.items() if rx.search(text)]
    if training and not (re.search(r"fine[- ]?tun", text, re.I)
                         and not re.search(r"\b(opt|our models|retention)", text, re.I)):
        found.append(_signal("training_data_change", shown, training, "high"))
    policies = [label for label, rx in _POLICY.items() if rx.search(text)]
    if policies and _POLICY_VERBS.search(text):
        found.append(_signal("policy_change", shown, policies, SEVERITY["policy_change"]))
    return found


@lru_cache(maxsize=64)
def compile_rules(classify: tuple[tuple[str, tuple[str, ...]], ...] = (),
                  exclude: tuple[str, ...] = ()) -> tuple[tuple[tuple[str, re.Pattern[str]], ...],
                                                         tuple[re.Pattern[str], ...]]:
    """A source's own patterns, compiled once: ((type, regex), …) and exclusions."""
    extra = tuple((kind, _rx(p)) for kind, patterns in classify for p in patterns)
    return extra, tuple(_rx(p) for p in exclude)


def classify(title: str, lines: Sequence[str],
             extra: Mapping[str, Sequence[str]] | None = None, exclude: Sequence[str] = (),
             builtin: bool = True) -> list[dict[str, Any]]:
    """Signals of an entry: ``[{"type", "text", "entities", "severity"}, …]``, at most one per
    type and statement. ``extra`` adds patterns per trigger type; ``builtin=False`` keeps
    only them; ``exclude`` silences matching statements."""
    key = tuple(sorted((k, tuple(v)) for k, v in (extra or {}).items()))
    own, skip = compile_rules(key, tuple(exclude))
    signals: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for text, verb in statements(title, lines):
        if any(rx.search(text) for rx in (*_SKIP, *skip)):
            continue
        found = _builtin(f"{verb}: {text}" if verb else text, text) if builtin else []
        for kind, rx in own:
            m = rx.search(text)
            if m and all(s["type"] != kind for s in found):
                ents = model_names(text) or [m.group(0).strip()]
                found.append(_signal(kind, text, ents, SEVERITY.get(kind, "medium")))
        for sig in found:
            if (sig["type"], text) not in seen and len(signals) < MAX_SIGNALS:
                seen.add((sig["type"], text))
                signals.append(sig)
    return signals


def _grouped(signals: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for sig in signals:
        groups.setdefault(sig["type"], []).append(sig)
    return groups


def _entities(signals: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(e for s in signals for e in s["entities"]))


def _new_signals(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[dict]]:
    """Signals of an edited entry that bring a type or a named entity the old one lacked."""
    old = _grouped(before.get("signals") or [])
    fresh: dict[str, list[dict[str, Any]]] = {}
    for kind, sigs in _grouped(after.get("signals") or []).items():
        known = {e.lower() for e in _entities(old.get(kind, []))}
        if kind not in old:
            fresh[kind] = sigs
        else:
            new = [s for s in sigs if {e.lower() for e in s["entities"]} - known]
            if new:
                fresh[kind] = new
    return fresh


def _event(kind: str, sigs: list[dict[str, Any]], entry: dict[str, Any], basis: str,
           change: Change, ctx: RuleContext) -> TriggerEvent:
    severity = max((s["severity"] for s in sigs),
                   key=("low", "medium", "high", "critical").index)
    first = sigs[0]["text"]
    title = f"{ctx.vendor_name}: {LABELS.get(kind, kind)} — {entry.get('title')}"
    if first != entry.get("title"):
        title += f": {first}"
    evidence = {"entry": entry.get("id"), "title": entry.get("title"),
                "date": entry.get("date"), "link": entry.get("link"),
                "statements": [s["text"] for s in sigs[:5]]}
    return TriggerEvent(type=kind, severity=severity, title=title[:240],
                        entities=tuple(_entities(sigs) or [str(entry.get("title"))]),
                        evidence=evidence, changes=(change.to_dict(),), basis=basis)


def changelog_rule(changes: Sequence[Change], ctx: RuleContext) -> list[TriggerEvent]:
    """New (or newly classifiable) changelog entries fire their trigger types."""
    events: list[TriggerEvent] = []
    for change in changes:
        entry = change.after
        if not isinstance(entry, dict):
            continue
        if change.op == "added":
            groups, basis = _grouped(entry.get("signals") or []), f"entry:{change.key}"
        elif change.op == "modified" and isinstance(change.before, dict):
            groups = _new_signals(change.before, entry)
            texts = "\n".join(s["text"] for sigs in groups.values() for s in sigs)
            digest = hashlib.sha256(texts.encode()).hexdigest()[:16]
            basis = f"entry:{change.key}:edit:{digest}"
        else:
            continue
        for kind in TYPES:
            if kind in groups:
                events.append(_event(kind, groups[kind], entry, basis, change, ctx))
        for kind in sorted(set(groups) - set(TYPES)):
            events.append(_event(kind, groups[kind], entry, basis, change, ctx))
    return events
