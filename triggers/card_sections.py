"""Model card sections judged by heading and by the lines that changed (pure).

Headings fall in classes: training data, policy (licence, terms), limitations /
evaluation / safety, capabilities and intended use, model identity, other. Within an
edited section, a changed "Label: value" line (or a "label" line with its "value" line
below, as grids of divs lay them out) is judged by its label, and a sentence about
training on customers' or users' data is a ``training_data_change`` wherever it stands.
"""

from __future__ import annotations

import difflib
import re

from sources.base import Change
from sources.read.dates import DATE

Finding = tuple[str, str, str, tuple[str, ...]]  # (type, severity, reason, entities)

CAPABILITY_WORDS = re.compile(
    r"\b(vision|image|images|audio|speech|video|multimodal|multi-modal|tool[- ]use|tools|"
    r"function[- ]calling|browsing|web search|agents?|agentic|memory|fine-?tuning|"
    r"structured outputs?|json mode|code (execution|interpreter)|computer use|reasoning|"
    r"long[- ]context|context window|image-text-to-text|text-to-image|text-to-speech|"
    r"automatic-speech-recognition|image-to-text|visual question answering)\b", re.I)
_NEW_CAPABILITY = re.compile(
    r"\b(now (supports?|accepts?|available|can)|new(ly)? (supports?|capabilit\w*|features?)|"
    r"adds? support|added support|support(s|ed)? for|can now|introduc\w+)\b", re.I)
_TRAIN = re.compile(r"\b(train\w*|fine-?tun\w*|model improvement|improve (our|the) models?)\b",
                    re.I)
_WHOSE = re.compile(r"\b(customers?|users?|clients?|consumers?|your|personal|business|"
                    r"enterprise|api)\b", re.I)
_WHAT = re.compile(r"\b(data|prompts?|inputs?|outputs?|content|conversations?|completions?|"
                   r"chats?|interactions?|feedback|messages?|files?)\b", re.I)

_H_TRAINING = re.compile(r"train\w*( and \w+)? data|train(ing)? (set|corpus|mix)|pre-?training|"
                         r"datasets?\b|"
                         r"data (sources?|collection|provenance|cut-?off|freshness|mixture)|"
                         r"knowledge cut-?off|corpus|fine-?tuning data|instruction data")
_H_EVAL = re.compile(r"eval|test|benchmark|validation")
_H_POLICY = re.compile(r"licen[cs]e|terms|usage polic|acceptable use|privacy|"
                       r"data (retention|usage|use)|governance|legal|gated|access")
_H_LIMITS = re.compile(r"limitation|bias|risk|safety|harm|ethic|eval|result|benchmark|"
                       r"performance|metric|testing|red[- ]?team|out[- ]of[- ]scope|misuse|"
                       r"responsib|known issue|caveat|fairness|alignment|guardrail|recommend|"
                       r"warning|hallucinat|accuracy|mitigat|consideration|prohibited")
_H_CAPABILITY = re.compile(r"capabilit|intended use|^uses?$|direct use|downstream use|use cases?|"
                           r"features?|modalit|^inputs?|^outputs?|tool use|function calling|"
                           r"supported languages|^languages?$|context (window|length)|"
                           r"what'?s new|new in|" + CAPABILITY_WORDS.pattern, )
_H_IDENTITY = re.compile(r"^\(intro\)$|model (details|description|information|summary|"
                         r"overview|architecture|version|sources|family|type|card)|overview|"
                         r"architecture|technical spec|specification|^versions?$|base model|"
                         r"release|about|introduction|summary|^model$|parameters")
LABEL = re.compile(r"^(?:- )?([^:|]{1,60}?)\s*[:|]\s*\S")
_L_BASE = re.compile(r"base model|fine-?tuned from|parent model|based on|built on")
_L_IDENTITY = re.compile(r"model (name|id|version|type)|^version|^name$|^model$|release")
_L_DATA = re.compile(r"training data|datasets?|cut-?off|pre-?training data|data sources?")
_L_POLICY = re.compile(r"licen[cs]e|terms of use|usage policy")
_L_CAPABILITY = re.compile(r"languages?|input|output|modalit|capabilit|context (window|length)|"
                           r"max(imum)? (output|input) tokens|supported|features?|tools?|"
                           r"function calling|streaming|structured outputs?|fine-?tuning|vision|"
                           r"image|audio|video|speech|web search|file search|code interpreter|"
                           r"computer use|realtime|batch|reasoning|predicted outputs")
_UNSUPPORTED = re.compile(r"\b(not supported|unsupported|not available|unavailable|no|none|"
                          r"deprecated|removed|disabled)\b", re.I)



def heading_class(heading: str) -> str:
    h = heading.casefold()
    if _H_TRAINING.search(h) and ("train" in h or not _H_EVAL.search(h)):
        return "training"
    if _H_POLICY.search(h):
        return "policy"
    limits, capability = bool(_H_LIMITS.search(h)), bool(_H_CAPABILITY.search(h))
    if capability and limits:
        return "mixed"
    if limits:
        return "limits"
    if capability:
        return "capability"
    return "identity" if _H_IDENTITY.search(h) else "other"


_EXPLAINED: Finding = ("", "", "", ())


def _line_finding(line: str, added: bool) -> Finding | None:
    match = LABEL.match(line.replace("*", "").strip())
    if not match:
        return None
    label = match.group(1).casefold().strip()
    if _L_BASE.search(label):
        return ("model_change", "high", f"base model line changed: {line[:80]}", ())
    if _L_DATA.search(label):
        return ("training_data_change", "medium", f"training data line changed: {line[:80]}", ())
    if _L_POLICY.search(label):
        return ("policy_change", "medium", f"licence line changed: {line[:80]}", ())
    if _L_IDENTITY.search(label):
        return ("model_change", "medium", f"model identity line changed: {line[:80]}", ())
    if _L_CAPABILITY.search(label) and not added:
        return _EXPLAINED  # the value that replaced it is judged instead
    if _L_CAPABILITY.search(label) and added:
        value = line[match.end(1):].lstrip(" :|*")
        if _UNSUPPORTED.search(value):
            return ("model_change", "low", f"capability withdrawn: {line[:80]}", ())
        return ("new_capability", "medium", f"capability line added: {line[:80]}", ())
    return None


_VALUE = re.compile(r"^(- )?(supported|not supported|unsupported|yes|no|none|n/?a|available|"
                    r"not available|unavailable|beta|preview|ga|generally available|"
                    rf"coming soon|deprecated|[\d.,]+ ?[kmb]?( tokens)?|{DATE})$", re.I)


def _line_delta(before: list[str], after: list[str],
                ) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Lines added (with their index in ``after``) and removed (index in ``before``)."""
    added: list[tuple[int, str]] = []
    removed: list[tuple[int, str]] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            removed += [(i, before[i]) for i in range(i1, i2)]
            added += [(j, after[j]) for j in range(j1, j2)]
    return added, removed


def _is_label(text: str) -> bool:
    return 0 < len(text.split()) <= 5 and not text.endswith((".", ":")) and not _VALUE.match(text)


def _labelled(at: int, lines: list[str]) -> str:
    """Line ``at`` read with its neighbour when a page lays out "label" and "value" as
    separate lines (a grid of divs: "Fine-tuning" / "Supported") as "label: value"."""
    line = lines[at]
    if LABEL.match(line) or len(line.split()) > 8:
        return line
    prev = lines[at - 1].removeprefix("- ") if at > 0 else ""
    nxt = lines[at + 1] if at + 1 < len(lines) else ""
    if _VALUE.match(line) and _is_label(prev):
        return f"{prev}: {line.removeprefix('- ')}"
    if _is_label(line.removeprefix("- ")) and _VALUE.match(nxt):
        return f"{line.removeprefix('- ')}: {nxt.removeprefix('- ')}"
    return line


def section_findings(change: Change) -> list[Finding]:
    """What one section change means, by its heading and the lines that changed."""
    heading = str(change.after if change.fields == ("heading",) else change.key)
    cls = heading_class(heading)
    if change.fields == ("heading",):
        return [("model_change", "low", f"section renamed: {change.before} → {heading}", ())]
    before = [x for x in str(change.before or "").split("\n") if x]
    after = [x for x in str(change.after or "").split("\n") if x]
    added, removed = _line_delta(before, after)
    verb = {"added": "added", "removed": "removed", "modified": "edited"}[change.op]
    what = f"section “{heading}” {verb}"
    findings: list[Finding] = []
    rest_added: list[str] = []
    rest_removed: list[str] = []
    for delta, is_added, rest in ((added, True, rest_added), (removed, False, rest_removed)):
        for at, line in delta:
            found = _line_finding(_labelled(at, after if is_added else before), is_added)
            if found and change.op == "modified":
                findings.append(found)
            else:
                rest.append(line)
    if any(_about_customer_training(x) for x in _new_sentences(before, after)):
        findings.append(("training_data_change", "high",
                         f"{what}: use of customer data for training", ()))
    if rest_added or rest_removed or change.op != "modified":
        grew = change.op == "added" or bool(_words(rest_added) - _words(rest_removed))
        findings += _class_findings(cls, what, rest_added, grew)
    return findings


def _sentences(lines: list[str]) -> set[str]:
    return {s for line in lines for s in re.split(r"(?<=[.!?])\s+", line) if s}


def _new_sentences(before: list[str], after: list[str]) -> set[str]:
    """Sentences added or removed: a paragraph edit elsewhere does not count."""
    a, b = _sentences(before), _sentences(after)
    return a ^ b


def _about_customer_training(sentence: str) -> bool:
    """Whether a sentence says something about training on customers' or users' data."""
    return bool(_TRAIN.search(sentence) and _WHOSE.search(sentence) and _WHAT.search(sentence))


_SMALL = {"the", "a", "an", "and", "or", "of", "to", "in", "on", "for", "with", "by", "is", "are",
          "be", "it", "its", "as", "at", "this", "that", "can", "may", "also", "such"}


def _words(lines: list[str]) -> set[str]:
    """The content words of some lines: what an edit says that was not said before."""
    words = re.findall(r"[\w'-]+", " ".join(lines).casefold())
    return {w for w in words if w not in _SMALL and len(w) > 1}


def _class_findings(cls: str, what: str, added: list[str], grew: bool) -> list[Finding]:
    capability_text = any(CAPABILITY_WORDS.search(x) and _NEW_CAPABILITY.search(x)
                          for x in added)
    if cls == "training":
        return [("training_data_change", "medium", what, ())]
    if cls == "policy":
        return [("policy_change", "medium", what, ())]
    if cls == "capability" or (cls == "mixed" and capability_text):
        return [("new_capability", "medium", what, ())] if grew else [
            ("model_change", "low", what, ())]
    if cls in ("limits", "mixed"):
        return [("model_change", "low", f"{what} (behaviour documentation)", ())]
    found: list[Finding] = [("model_change", "medium" if cls == "identity" else "low", what, ())]
    if capability_text:
        found.append(("new_capability", "medium", f"{what}: new capability described", ()))
    return found
