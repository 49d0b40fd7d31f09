"""The default rule of the ``mailbox`` kind (pure): a new vendor notice, judged.

A new message that is about subprocessors (its subject or text says "subprocessor",
"sub-processor" or "subprocessing") and names the subprocessors it adds or removes —
"We are adding Snowflake Inc. as a new subprocessor", "Acme has engaged X as a
sub-processor", "X has been removed from our list of subprocessors", "New
subprocessors: A, B", a list under "Added:" / "Removed:" — fires one
``subprocessor_change`` (entities: the named subprocessors; high when an AI or model
provider is added, as for the ``subprocessors`` kind). Anything else it announces is
classified like a changelog entry (``triggers/changelog.py``: model changes, new
capabilities, training-data and policy changes). The evidence is the message's id, its
headers and the SHA-256 of the raw message (the snapshot keeps the message itself). A
removed message (deleted from the folder) and an edited one fire nothing; the basis is
the Message-ID, so a message seen again never fires twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sources.base import Change

from .changelog import _grouped, _order, entry_signals
from .events import TriggerEvent
from .subprocessors import is_ai_provider

if TYPE_CHECKING:
    from .rules import RuleContext

SUB = r"sub-?\s?processors?|sub-?processing"
_ABOUT = re.compile(rf"\b({SUB})\b", re.I)
_NAME = r"(?P<name>[A-Z0-9][\w&.,'’()\- ]{1,80}?)"
_ADD_VERB = r"add(?:s|ed|ing)?|engag(?:e|es|ed|ing)|appoint(?:s|ed|ing)?|onboard(?:s|ed|ing)?"
_DEL_VERB = r"remov(?:e|es|ed|ing)|offboard(?:s|ed|ing)?|(?:no longer|stop(?:ped)?) us(?:e|es|ing)"
SENTENCES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("added", re.compile(rf"\b(?:{_ADD_VERB})\s+{_NAME}\s+(?:as|to)\s+(?:an?\s+)?(?:new\s+)?"
                         rf"(?:(?:our|the)\s+)?(?:list of\s+)?(?:{SUB})\b", re.I)),
    ("added", re.compile(rf"{_NAME}\s+(?:has been|have been|will be|is being|was)\s+"
                         rf"(?:{_ADD_VERB})\s+(?:as|to)\s+(?:an?\s+)?(?:new\s+)?"
                         rf"(?:(?:our|the)\s+)?(?:list of\s+)?(?:{SUB})\b", re.I)),
    ("removed", re.compile(rf"\b(?:{_DEL_VERB})\s+{_NAME}\s+(?:as|from)\s+(?:an?\s+)?"
                           rf"(?:(?:our|the)\s+)?(?:list of\s+)?(?:{SUB})\b", re.I)),
    ("removed", re.compile(rf"{_NAME}\s+(?:has been|have been|will be|is being|was)\s+"
                           rf"(?:{_DEL_VERB})\s+(?:as|from)\s+(?:an?\s+)?(?:(?:our|the)\s+)?"
                           rf"(?:list of\s+)?(?:{SUB})\b", re.I)),
)
# "New subprocessors: A, B" / "Added: A" / "Removed sub-processors:" (a list follows)
_LABEL = re.compile(rf"^\s*(?P<op>new|added|additions?|adding|removed|removals?|removing|"
                    rf"deleted|discontinued)(?:\s+(?:{SUB}))?\s*[:\-\u2013\u2014]\s*(?P<rest>.*)$",
                    re.I)
_BULLET = re.compile(r"^\s*(?:[-*\u2022\u25aa\u2013]|\d{1,3}[.)])\s+(?P<item>.+)$")
_SUFFIX = re.compile(r"^(inc|l\.?l\.?c|ltd|limited|gmbh|s\.?a|b\.?v|n\.?v|plc|pbc|corp|"
                     r"co|ag|pte|pty|sas|se|s\.?p\.?a|s\.?r\.?l|l\.?l\.?p|l\.?p|ab|oy|kk)\.?$",
                     re.I)
_LEAD = re.compile(r"^(?:the\s+following\s+|our\s+|a\s+new\s+|new\s+)", re.I)
MAX_NAMES = 50


def mailbox_rule(changes: Sequence[Change], ctx: RuleContext) -> list[TriggerEvent]:
    events: list[TriggerEvent] = []
    for change in changes:
        entry = change.after
        if change.op != "added" or not isinstance(entry, dict):
            continue
        basis = f"message:{change.key}"
        found = subprocessor_names(str(entry.get("subject") or ""),
                                   [str(t) for t in entry.get("text") or []])
        if found["added"] or found["removed"]:
            events.append(_subprocessor_event(found, entry, basis, change, ctx))
        groups = _grouped(entry_signals(entry))
        for kind in sorted(groups, key=_order):
            if kind == "subprocessor_change" and found["added"] + found["removed"]:
                continue
            sigs = groups[kind]
            severity = max((s["severity"] for s in sigs),
                           key=("low", "medium", "high", "critical").index)
            entities = list(dict.fromkeys(e for s in sigs for e in s["entities"]))
            events.append(TriggerEvent(
                type=kind, severity=severity,
                title=f"{ctx.vendor_name}: {entry.get('subject')}: {sigs[0]['text']}"[:240],
                entities=tuple(entities or [str(entry.get("subject"))]),
                evidence={**_evidence(entry), "statements": [s["text"] for s in sigs[:5]]},
                changes=(change.to_dict(),), basis=f"{basis}:{kind}"))
    return events


def _subprocessor_event(found: dict[str, list[str]], entry: dict[str, Any], basis: str,
                        change: Change, ctx: RuleContext) -> TriggerEvent:
    added, removed = found["added"], found["removed"]
    ai = [n for n in added + removed if is_ai_provider({"name": n})]
    severity = ("high" if any(n in ai for n in added) else
                "medium" if added or ai else "low")
    items = [f"+{n}" for n in added] + [f"\u2212{n}" for n in removed]
    title = (f"Subprocessor {'added' if added else 'removed'}: {(added or removed)[0]}"
             if len(items) == 1 else f"{len(items)} subprocessor changes: {', '.join(items[:5])}")
    return TriggerEvent(
        type="subprocessor_change", severity=severity,
        title=f"{ctx.vendor_name}: {title} (email: {entry.get('subject')})"[:240],
        entities=tuple(dict.fromkeys(added + removed)),
        evidence={**_evidence(entry), "added": added, "removed": removed,
                  "ai_providers": ai},
        changes=(change.to_dict(),), basis=f"{basis}:subprocessor_change",
        rule="default:mailbox")


def _evidence(entry: dict[str, Any]) -> dict[str, Any]:
    return {"message_id": entry.get("id"), "from": entry.get("from"),
            "subject": entry.get("subject"), "date": entry.get("date"),
            "headers": entry.get("headers") or {}, "sha256": entry.get("hash")}


def subprocessor_names(subject: str, lines: Sequence[str]) -> dict[str, list[str]]:
    """The subprocessors a notice says are added and removed (``{"added", "removed"}``),
    when it is about subprocessors at all."""
    out: dict[str, list[str]] = {"added": [], "removed": []}
    if not _ABOUT.search(subject) and not any(_ABOUT.search(line) for line in lines):
        return out
    under: str | None = None  # the list a bullet line belongs to
    for line in lines:
        label = _LABEL.match(line)
        if label:
            op = "removed" if label.group("op").lower().startswith(
                ("remov", "delet", "discon")) else "added"
            rest = label.group("rest").strip()
            if rest:
                _add(out[op], split_names(rest))
                under = None
            else:
                under = op
            continue
        bullet = _BULLET.match(line)
        if bullet and under:
            _add(out[under], split_names(bullet.group("item"), one=True))
            continue
        under = None
        for op, rx in SENTENCES:
            for m in rx.finditer(line):
                _add(out[op], split_names(m.group("name")))
    out["added"] = out["added"][:MAX_NAMES]
    out["removed"] = [n for n in out["removed"] if n not in out["added"]][:MAX_NAMES]
    return out


def split_names(text: str, one: bool = False) -> list[str]:
    """Names in a list ("A, B and C"), each without its description ("Snowflake Inc.
    (data warehousing, United States)" → "Snowflake Inc.")."""
    text = re.sub(r"\([^)]*\)", " ", text)
    text = re.split(r"\s+[\u2013\u2014-]\s+|:\s", text, maxsplit=1)[0]
    pieces = [text] if one else re.split(r",|;|\s+and\s+|\s*&\s+", text)
    names: list[str] = []
    for piece in pieces:
        name = _LEAD.sub("", " ".join(piece.split())).strip(" ,;:'\"\u2019")
        if name.endswith(".") and not _SUFFIX.match(name.rsplit(" ", 1)[-1]):
            name = name.rstrip(".")  # a sentence's full stop, not "Inc."
        if not name:
            continue
        if _SUFFIX.match(name) and names:
            names[-1] = f"{names[-1]}, {name}"
            continue
        if len(name) >= 2 and any(c.isalpha() for c in name) and len(name.split()) <= 8:
            names.append(name)
    return names


def _add(into: list[str], names: Iterable[str]) -> None:
    for name in names:
        if name.casefold() not in {n.casefold() for n in into}:
            into.append(name)
