"""Notification messages: a typed notification in, a title and body per format out (pure).

The notification (``payload.py``, schema ``reassess.notification/1``, see
docs/notifications.md) is what the outbox stores and what ``json://`` / ``form://``
channels receive. Rendering turns it into what a reviewer reads: Slack/Teams Markdown,
email HTML (apprise derives the plain-text part), or plain text.

Fetched text (entity names, change lines, evidence, fetch errors) is hostile until
proven otherwise, so every piece of it passes ``clean``/``clean_block``: control and
bidi characters dropped, ``<``/``>`` replaced by ‹ › (no ``<!channel>``, ``<@U…>``,
``<url|text>`` or raw HTML survives in any format), ``@channel``/``@here``/``@everyone``
defused, each line capped at ``LINE_MAX`` and an excerpt at ``EXCERPT_MAX``.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from triggers.events import severity_rank

from .payload import (
    SCHEMA,
    AlertData,
    AlertNotification,
    DigestNotification,
    DigestTrigger,
    Notification,
    TestNotification,
    TriggerData,
    TriggerNotification,
    dump,
)

__all__ = ["SCHEMA", "Rendered", "clean", "clean_block", "render", "subject"]
LINE_MAX = 300
EXCERPT_MAX = 3000
EXCERPT_LINES = 12
SUMMARY_SHOWN = 3
DIGEST_SHOWN = 50
SUBJECT_MAX = 160

BodyFormat = Literal["markdown", "html", "text"]
NotifyType = Literal["info", "success", "warning", "failure"]


@dataclass(frozen=True)
class Rendered:
    """What apprise sends: a title, a body in one format and a notification type."""

    title: str
    body: str
    body_format: BodyFormat
    notify_type: NotifyType = "info"


# --- neutralising fetched text -------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069"
                      r"\ufeff]")
_MENTION = re.compile(r"(?i)[@＠](?=(?:channel|here|everyone|all)\b)")


def cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:max(limit - 1, 0)].rstrip() + "…"


def clean(value: Any, limit: int = LINE_MAX) -> str:
    """One line of fetched text, safe in Slack, Teams, email and plain text."""
    text = value if isinstance(value, str) else _flat(value)
    text = _CONTROL.sub("", text[:limit * 4])
    text = " ".join(text.split()).replace("<", "‹").replace(">", "›")
    return cap(_MENTION.sub("＠", text), limit)


def clean_block(value: Any, limit: int = EXCERPT_MAX, lines: int = EXCERPT_LINES) -> str:
    """Several lines of fetched text: each cleaned and capped, the whole capped too."""
    text = value if isinstance(value, str) else _flat(value)
    raw = text[:limit * 2].splitlines()
    kept = [clean(line) for line in raw[:lines] if line.strip()]
    if len(raw) > lines:
        kept.append("…")
    return cap("\n".join(kept), limit)


def _flat(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return " — ".join(f"{_flat(v)}" for v in value.values() if v not in (None, "", []))
    if isinstance(value, (list, tuple)):
        return ", ".join(_flat(v) for v in value)
    return str(value)


def md(text: str) -> str:
    """Cleaned text in Markdown: no link syntax, no heading, no code fence breakout."""
    return re.sub(r"([\[\]])", r"\\\1", text).replace("`", "'")


# --- facts shared by every format ----------------------------------------------------

_VERBS = {"added", "removed", "changed", "modified", "new", "updated", "deleted", "renamed",
          "moved", "deprecated", "retired", "released"}
_STATUS = {"re_review_required": "re-review required", "in_review": "in review",
           "current": "current"}


def label(value: str) -> str:
    return value.replace("_", " ")


# A trigger in full, or as a digest lists it.
AnyTrigger = TriggerData | DigestTrigger


def headline(t: AnyTrigger) -> str:
    """What happened in one line: 'Acme AI added subprocessor Cohere (+2 more)'."""
    vendor = clean(t.vendor.name, 80)
    first = clean(t.summary[0] if t.summary else t.title, SUBJECT_MAX)
    first = first.split(" — ", 1)[0]
    word = first.split(" ", 1)[0]
    text = (f"{vendor} {word.lower()}{first[len(word):]}" if word.lower() in _VERBS
            else f"{vendor}: {first}")
    more = max((t.changes_total or len(t.summary)) - 1, 0)
    return text + (f" (+{more} more)" if more else "")


def subject(t: AnyTrigger) -> str:
    return cap(f"[reassess] {t.severity} {t.type}: {headline(t)}", SUBJECT_MAX)


def summary_lines(t: AnyTrigger) -> list[str]:
    lines = [clean(s) for s in t.summary[:SUMMARY_SHOWN]]
    rest = (t.changes_total or len(t.summary)) - len(lines)
    if rest > 0:
        lines.append(f"… and {rest} more change{'s' if rest > 1 else ''}")
    return lines or [clean(t.title)]


def assessment_lines(t: AnyTrigger) -> list[str]:
    out = []
    for a in t.assessments:
        system = f" ({clean(a.system, 80)})" if a.system else ""
        status = _STATUS.get(a.status, label(a.status))
        out.append(f"{clean(a.id, 80)}{system}: {label(a.disposition or 'pending')}"
                   f" → {status}")
    return out


def excerpt(t: TriggerData) -> str:
    """A short piece of evidence: the rule's excerpt, else the changed values."""
    text = t.evidence.get("excerpt")
    if not isinstance(text, str) or not text.strip():
        parts = []
        for change in t.changes[:5]:
            value = change.after if change.op != "removed" else change.before
            parts.append(("- " if change.op == "removed" else "+ ") + _flat(value))
        text = "\n".join(parts)
    return clean_block(text)


def footer(t: AnyTrigger) -> str:
    where = f" · source {clean(t.source.id, 80)} ({t.source.kind})" if t.source else ""
    return f"reassess trigger #{t.id}{where}"


def _notify_type(severity: str) -> NotifyType:
    return "failure" if severity == "critical" else "warning" if severity == "high" else "info"


# --- one trigger ---------------------------------------------------------------------


def render(doc: Notification, fmt: str) -> Rendered:
    """Render a notification for a format: markdown, html/email, text or data."""
    if fmt == "data":
        return render_data(doc)
    fmt = "html" if fmt == "email" else fmt
    if isinstance(doc, TriggerNotification):
        return _render_trigger(doc.trigger, fmt)
    if isinstance(doc, DigestNotification):
        return _render_digest(doc, fmt)
    if isinstance(doc, AlertNotification):
        return _render_alert(doc.alert, fmt)
    return _render_test(doc, fmt)


def render_data(doc: Notification) -> Rendered:
    """For json:// and form:// channels: the document itself, as JSON, in the message."""
    if isinstance(doc, TriggerNotification):
        title = subject(doc.trigger)
    elif isinstance(doc, DigestNotification):
        title = _digest_title(doc)
    elif isinstance(doc, AlertNotification):
        title = _alert_title(doc.alert)
    else:
        title = "[reassess] test message"
    body = json.dumps(dump(doc), ensure_ascii=False, sort_keys=True, default=str)
    return Rendered(title=title, body=body, body_format="text")


def _render_trigger(t: TriggerData, fmt: str) -> Rendered:
    body = {"markdown": _trigger_md, "html": _trigger_html}.get(fmt, _trigger_text)(t)
    return Rendered(title=subject(t), body=body, body_format=_fmt(fmt),
                    notify_type=_notify_type(t.severity))


def _fmt(fmt: str) -> BodyFormat:
    return fmt if fmt in ("markdown", "html") else "text"  # type: ignore[return-value]


def _facts(t: TriggerData) -> list[tuple[str, str]]:
    facts = [("Vendor", clean(t.vendor.name, 120)),
             ("Trigger", f"{label(t.type)}, severity {t.severity}")]
    assessments = assessment_lines(t)
    facts.append(("Assessments", "; ".join(assessments) if assessments else
                  "none of this vendor's assessments watch this trigger type"))
    if t.entities:
        facts.append(("Entities", cap(", ".join(clean(e, 120) for e in t.entities[:20]),
                                      LINE_MAX)))
    return facts


def _trigger_md(t: TriggerData) -> str:
    lines = [f"**{t.severity.upper()} · {label(t.type)} · {md(clean(t.vendor.name))}**"]
    lines += [f"• {md(s)}" for s in summary_lines(t)]
    lines.append("")
    lines += [f"**{k}:** {md(v)}" for k, v in _facts(t)[2:]]
    evidence = excerpt(t)
    if evidence:
        lines += ["**Evidence:**", "```", evidence.replace("`", "'"), "```"]
    lines += [f"**Open:** {t.link}", f"_{md(footer(t))}_"]
    return "\n".join(lines)


def _trigger_html(t: TriggerData) -> str:
    e = html.escape
    parts = [f"<h2>{e(t.severity.upper())} · {e(label(t.type))} · "
             f"{e(clean(t.vendor.name))}</h2>",
             "<ul>" + "".join(f"<li>{e(s)}</li>" for s in summary_lines(t)) + "</ul>"]
    parts += [f"<p><b>{e(k)}:</b> {e(v)}</p>" for k, v in _facts(t)]
    evidence = excerpt(t)
    if evidence:
        parts.append(f"<p><b>Evidence:</b></p><pre>{e(evidence)}</pre>")
    parts.append(f'<p><b>Open:</b> <a href="{e(t.link)}">{e(t.link)}</a></p>')
    parts.append(f'<p style="color:#666">{e(footer(t))}</p>')
    return "\n".join(parts)


def _trigger_text(t: TriggerData) -> str:
    lines = [f"{t.severity.upper()} · {label(t.type)} · {clean(t.vendor.name)}"]
    lines += [f"- {s}" for s in summary_lines(t)]
    lines += [f"{k}: {v}" for k, v in _facts(t)[2:]]
    evidence = excerpt(t)
    if evidence:
        lines += ["Evidence:", evidence]
    lines += [f"Open: {t.link}", footer(t)]
    return "\n".join(lines)


# --- digests -------------------------------------------------------------------------


def _digest_title(doc: DigestNotification) -> str:
    n = len(doc.triggers)
    return f"[reassess] digest for {clean(doc.channel, 80)}: {n} trigger{'s' if n != 1 else ''}"


def _digest_item(t: DigestTrigger) -> tuple[str, str]:
    return f"[{t.severity}] {label(t.type)}: {headline(t)}", t.link


def _render_digest(doc: DigestNotification, fmt: str) -> Rendered:
    items = [_digest_item(t) for t in doc.triggers[:DIGEST_SHOWN]]
    rest = len(doc.triggers) - len(items)
    tail = [f"… and {rest} more"] if rest > 0 else []
    title = _digest_title(doc)
    if fmt == "html":
        e = html.escape
        body = (f"<h2>{e(title)}</h2><ul>" + "".join(
            f'<li>{e(text)} — <a href="{e(link)}">{e(link)}</a></li>' for text, link in items)
            + "".join(f"<li>{e(x)}</li>" for x in tail) + "</ul>")
    elif fmt == "markdown":
        body = "\n".join([f"**{md(title)}**"] + [f"• {md(text)} — {link}" for text, link in items]
                         + tail)
    else:
        body = "\n".join([title] + [f"- {text} — {link}" for text, link in items] + tail)
    worst = max((t.severity for t in doc.triggers), key=severity_rank, default="low")
    return Rendered(title=title, body=body, body_format=_fmt(fmt), notify_type=_notify_type(worst))


# --- operational alerts and tests ----------------------------------------------------

_ALERT_TITLES = {"failing": "source failing", "vanished": "source content vanished",
                 "recovered": "source recovered"}


def _alert_title(a: AlertData) -> str:
    return cap(f"[reassess] {_ALERT_TITLES[a.state]}: {clean(a.source.id, 80)} "
               f"({clean(a.vendor.name, 80)})", SUBJECT_MAX)


def _alert_text(a: AlertData) -> list[str]:
    src = a.source
    where = f"The {src.kind} source {clean(src.id, 80)} at {clean(src.url)}"
    if a.state == "failing":
        return [f"{where} failed {a.consecutive_failures} checks in a row.",
                f"Last error: {clean(a.error or 'unknown')}",
                "Changes there go unseen until it works again."]
    if a.state == "vanished":
        return [f"{where} lost most of its content (a redesign, a login wall or an error page "
                "served as 200?).",
                "The drop is held back, not recorded as a change, unless the next check sees it "
                "again."]
    return [f"{where} works again (outcome: {label(a.outcome or 'ok')}).",
            f"It was {a.previous} before."]


def _render_alert(a: AlertData, fmt: str) -> Rendered:
    title = _alert_title(a)
    lines = _alert_text(a)
    link = a.link
    if fmt == "html":
        e = html.escape
        body = (f"<h2>{e(title)}</h2>" + "".join(f"<p>{e(x)}</p>" for x in lines)
                + f'<p><b>Open:</b> <a href="{e(link)}">{e(link)}</a></p>')
    elif fmt == "markdown":
        body = "\n".join([f"**{md(title)}**"] + [md(x) for x in lines] + [f"**Open:** {link}"])
    else:
        body = "\n".join([title, *lines, f"Open: {link}"])
    kind: NotifyType = "success" if a.state == "recovered" else "failure"
    return Rendered(title=title, body=body, body_format=_fmt(fmt), notify_type=kind)


def _render_test(doc: TestNotification, fmt: str) -> Rendered:
    title = "[reassess] test message"
    text = (f"This is a test from reassess for channel {clean(doc.channel, 80)} "
            f"at {doc.at}. If you can read it, this URL works.")
    if fmt == "html":
        body = f"<p>{html.escape(text)}</p>"
    else:
        body = md(text) if fmt == "markdown" else text
    return Rendered(title=title, body=body, body_format=_fmt(fmt))
