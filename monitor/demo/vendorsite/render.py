"""Document rendering: Jinja/Markdown environment, template contexts and the body cache."""

from __future__ import annotations

import functools
import hashlib
import html
import json
import random
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

import jinja2
import yaml
from markupsafe import Markup

from .common import (
    _MONTHS,
    _NOISE,
    _SLOT,
    DOCS,
    SITEDATA,
    TITLES,
    _data,
    _iso,
    _markdown,
    _now,
)

if TYPE_CHECKING:
    from .state import Incident, VendorState


@functools.cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(SITEDATA / "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2", "xml.j2"),
                                            default=False),
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["mdcell"] = lambda s: str(s).replace("|", "\\|").replace("\n", " ")
    return env


@functools.cache
def _chrome(theme: str) -> dict[str, Markup]:
    """Navigation and footer markup, the same on every page of a theme."""
    data = _data()
    ctx = {"t": data["themes"][theme], "nav": data["nav"], "footer": data["footer"]}
    return {name: Markup(_env().get_template(f"{name}.html.j2").render(ctx))
            for name in ("nav", "footer")}


@functools.cache
def _theme_css(theme: str) -> bytes:
    """A deterministic block of minified CSS, as large as real CMS pages inline."""
    spec = _data()["themes"][theme]
    rng = random.Random(f"css:{theme}")
    props = ("display:flex", "display:grid", "margin:0 auto", "padding:.5rem 1rem",
             "font-weight:600", "line-height:1.5", "color:#1f2937", "border-radius:8px",
             "gap:1.25rem", "max-width:72rem", "align-items:center", "text-decoration:none",
             "background:#f9fafb", "font-size:.875rem", "position:relative", "opacity:.8")
    words = ("nav", "header", "footer", "card", "btn", "grid", "hero", "link", "table", "menu")
    rules: list[str] = []
    size = 0
    for i in range(100_000):
        if size >= spec["css_bytes"]:
            break
        sel = f".{spec['prefix']}-{rng.choice(words)}-{i}"
        rule = f"{sel}{{{';'.join(rng.sample(props, rng.randint(2, 5)))}}}"
        if i % 7 == 0:
            rule = f"@media (min-width:{rng.choice((640, 768, 1024))}px){{{rule}}}"
        rules.append(rule)
        size += len(rule)
    return "".join(rules).encode()


def _iso_s(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _human_date(at: datetime) -> str:
    return f"{at:%B} {at.day}, {at.year}"


def _incident_html(incident: Incident) -> str:
    parts = [
        f"<p><small>{_MONTHS[u.at.month - 1]} <var data-var='date'>{u.at.day}</var>, "
        f"<var data-var='time'>{u.at.hour:02d}:{u.at.minute:02d}</var> UTC</small><br>"
        f"<strong>{u.status.title()}</strong> - {html.escape(u.body, quote=False)}</p>"
        for u in reversed(incident.updates)]
    parts.append(f"<p>This incident affected: {' and '.join(incident.components)}.</p>")
    return "".join(parts)


def _ctx_incidents(state: VendorState) -> dict[str, Any]:
    rows = [{"id": i.id, "number": i.number, "name": i.name, "description": _incident_html(i),
             "created_rfc822": format_datetime(i.created_at), "created_iso": _iso_s(i.created_at),
             "updated_iso": _iso_s(i.updates[-1].at)} for i in state.incidents[:50]]
    updated = state.mtimes["incidents"]
    return {"incidents": rows, "updated_iso": _iso_s(updated),
            "updated_rfc822": format_datetime(updated)}


def _ctx_subprocessors(state: VendorState) -> dict[str, Any]:
    subs = state.subprocessors
    tables: list[dict[str, Any]]
    if state.table_titles:
        tables = [{"title": state.table_titles[0], "rows": [s for s in subs if s.category != "ai"]},
                  {"title": state.table_titles[1], "rows": [s for s in subs if s.category == "ai"]}]
    else:
        tables = [{"title": None, "rows": subs}]
    return {"tables": tables, "updated": _human_date(state.mtimes["subprocessors"]),
            "updated_iso": state.mtimes["subprocessors"].date().isoformat()}


def _ctx_changelog(state: VendorState) -> dict[str, Any]:
    groups: list[dict[str, Any]] = []
    for r in state.releases:
        day = r.at.date().isoformat()
        if state.changelog_style == "dated":
            if groups and groups[-1]["anchor"] == day:
                groups[-1]["releases"].append(r)
                continue
            heading = day
        elif state.changelog_style == "keepachangelog":
            heading, day = f"[{r.tag.lstrip('v')}] - {day}", r.tag
        else:
            heading, day = f"{r.tag} — {day}", r.tag
        groups.append({"anchor": day, "heading": heading, "releases": [r]})
    return {"groups": groups, "releases": [
        {"tag": r.tag, "title": r.title, "html": r.html, "iso": _iso_s(r.at)}
        for r in state.releases[:50]], "updated_iso": _iso_s(state.mtimes["changelog"])}


def _results(state: VendorState) -> list[dict[str, Any]]:
    """Rows of the card's ``model-index`` (tolerant: the front matter is user-editable)."""
    def dicts(value: Any) -> list[dict[str, Any]]:
        return [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []

    rows = []
    for entry in dicts(state.card.fields.get("model-index")):
        for result in dicts(entry.get("results")):
            dataset = result.get("dataset")
            name = dataset.get("name", "") if isinstance(dataset, dict) else ""
            rows += [{"dataset": name, "metric": m.get("name") or m.get("type", ""),
                      "value": m.get("value", "")} for m in dicts(result.get("metrics"))]
    return rows


def _card_body(state: VendorState) -> str:
    lines = [f"# {state.card.title}", ""]
    for title, text in state.card.sections.items():
        lines += [f"## {title}", "", text, ""]
        results = _results(state) if title == "Evaluation" else []
        if results:
            lines += ["| Benchmark | Metric | Score |", "| --- | --- | --- |"]
            lines += [f"| {r['dataset']} | {r['metric']} | {r['value']} |" for r in results]
            lines.append("")
    return "\n".join(lines)


def _card_markdown(state: VendorState) -> str:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    front = yaml.dump(state.card.fields, Dumper=dumper, sort_keys=False, allow_unicode=True,
                      width=1000)
    return f"---\n{front}---\n\n{_card_body(state)}"


def _ctx_card(state: VendorState) -> dict[str, Any]:
    keys = ("license", "base_model", "pipeline_tag", "library_name", "datasets", "language")
    meta = [(k, ", ".join(map(str, v)) if isinstance(v, list) else str(v))
            for k in keys if (v := state.card.fields.get(k)) is not None]
    return {"fields": state.card.fields, "card_title": state.card.title, "meta": meta,
            "card_html": _markdown().render(_card_body(state)), "results": _results(state)}


def _ctx_dpa(state: VendorState) -> dict[str, Any]:
    d = _data()["dpa"]
    words = {**state.words(), "retention_days": state.dpa["retention_days"]}
    words["training"] = d["training_yes" if state.dpa["training"] else "training_no"].format(
        **words)
    sections = [{"title": s["title"], "text": s["text"].format(**words)} for s in d["sections"]]
    sections += [{"title": f"{len(sections) + n}. Additional terms", "text": text}
                 for n, text in enumerate(state.dpa["clauses"], 1)]
    return {"dpa": state.dpa, "sections": sections,
            "updated": _human_date(state.mtimes["dpa"])}


CONTEXTS: dict[str, Callable[[VendorState], dict[str, Any]]] = {
    "subprocessors": _ctx_subprocessors, "incidents": _ctx_incidents,
    "changelog": _ctx_changelog, "model_card": _ctx_card, "dpa": _ctx_dpa,
}


def _incidents_json(state: VendorState) -> str:
    page = {"id": state.page_id, "name": state.name,
            "url": f"https://{state.status_host}", "time_zone": "Etc/UTC",
            "updated_at": _iso(state.mtimes["incidents"])}
    return json.dumps({"page": page, "incidents": [
        _incident_dict(state, i, page["id"]) for i in state.incidents[:50]]})


def _incident_dict(state: VendorState, i: Incident, page_id: str) -> dict[str, Any]:
    first, last = i.updates[0].iso, i.updates[-1].iso
    at = {s: next((u.iso for u in i.updates if u.status == s), None)
          for s in ("monitoring", "resolved")}
    done = i.status in ("resolved", "postmortem")
    broken = "major_outage" if i.impact == "critical" else "partial_outage"
    updates = [{"id": u.id, "status": u.status, "body": u.body, "incident_id": i.id,
                "created_at": u.iso, "updated_at": u.iso, "display_at": u.iso,
                "affected_components": None, "deliver_notifications": True,
                "custom_tweet": None, "tweet_id": None} for u in reversed(i.updates)]
    comps = [{"id": state.component_ids.get(c, c), "name": c,
              "status": "operational" if done else broken,
              "created_at": "2024-04-14T09:00:00.000Z", "updated_at": last,
              "position": n, "description": None, "showcase": True, "start_date": None,
              "group_id": None, "page_id": page_id, "group": False,
              "only_show_if_degraded": False} for n, c in enumerate(i.components, 1)]
    return {"id": i.id, "name": i.name, "status": i.status, "created_at": first,
            "updated_at": last, "monitoring_at": at["monitoring"],
            "resolved_at": at["resolved"] if done else None,
            "impact": i.impact, "shortlink": f"https://stspg.io/{i.id[:7]}",
            "started_at": first, "page_id": page_id,
            "incident_updates": updates, "components": comps}


def _context(state: VendorState, topic: str) -> dict[str, Any]:
    version = state.versions[topic]
    if state.memo is None or state.memo[:2] != (topic, version):
        state.memo = (topic, version, CONTEXTS[topic](state))
    return state.memo[2]  # type: ignore[no-any-return]


def render_text(state: VendorState, doc: str) -> str:
    """A document's semantic text, with noise slots (``\\x00@NONCE@\\x00``) not yet filled."""
    spec = DOCS[doc]
    override = state.overrides.get(doc)
    if override is not None and not spec.html:
        return override
    if doc == "status/api/v2/incidents.json":
        return _incidents_json(state)
    if doc == "model-card.md":
        return _card_markdown(state)
    data = _data()
    ctx = {"v": state, "t": data["themes"][state.theme], "doc": doc, "override": override,
           "title": TITLES.get(doc, doc), "chrome": _chrome(state.theme),
           "description": f"{TITLES.get(doc, doc)} of {state.legal_name}",
           "nonce": _NOISE["NONCE"], "build_id": _NOISE["BUILD"], "csrf": _NOISE["CSRF"],
           "generated_at": _NOISE["TIME"], "css": _NOISE["CSS"], **_context(state, spec.topic)}
    return _env().get_template(spec.template or "").render(ctx)


@dataclass(frozen=True, slots=True)
class Rendered:
    """A cached body: byte chunks and noise-slot names, plus its validators."""

    parts: tuple[bytes | str, ...]
    stamp: tuple[int, int]
    etag: str
    last_modified: str
    mtime: datetime
    content_type: str
    size: int

    def body(self) -> tuple[bytes, str]:
        """The body with fresh noise, and the nonce used (for the CSP header)."""
        if len(self.parts) == 1:
            return self.parts[0], ""  # type: ignore[return-value]
        nonce = secrets.token_urlsafe(12)
        noise = {"NONCE": nonce.encode(), "BUILD": secrets.token_hex(10).encode(),
                 "CSRF": secrets.token_urlsafe(32).encode(),
                 "TIME": _now().isoformat(timespec="milliseconds").encode()}
        return b"".join(p if isinstance(p, bytes) else noise[p] for p in self.parts), nonce


def render(state: VendorState, doc: str) -> Rendered:
    text = render_text(state, doc)
    css = _theme_css(state.theme)
    pieces = _SLOT.split(text)
    parts = tuple(css if i % 2 and p == "CSS" else p if i % 2 else p.encode()
                  for i, p in enumerate(pieces))
    mtime = state.doc_mtime(doc)
    return Rendered(
        parts=parts, stamp=state.doc_stamp(doc),
        etag='"' + hashlib.blake2b(text.encode(), digest_size=12).hexdigest() + '"',
        last_modified=format_datetime(mtime, usegmt=True), mtime=mtime,
        content_type=DOCS[doc].content_type,
        size=sum(len(p) for p in parts if isinstance(p, bytes) and p is not css))


class _BodyCache:
    """Rendered bodies by (vendor, doc), least recently used dropped past ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[str, str], Rendered] = OrderedDict()
        self._bytes = 0

    def get(self, key: tuple[str, str], stamp: tuple[int, int]) -> Rendered | None:
        found = self._items.get(key)
        if found is None or found.stamp != stamp:
            return None
        self._items.move_to_end(key)
        return found

    def put(self, key: tuple[str, str], rendered: Rendered) -> None:
        old = self._items.pop(key, None)
        self._bytes += rendered.size - (old.size if old else 0)
        self._items[key] = rendered
        for _ in range(len(self._items)):
            if self._bytes <= self.max_bytes or len(self._items) <= 1:
                break
            _, dropped = self._items.popitem(last=False)
            self._bytes -= dropped.size


# --------------------------------------------------------------------------- HTTP
