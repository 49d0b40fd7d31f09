"""The simulated vendor site: fictional AI vendors' documents on a real HTTP server.

End-to-end tests, ``reassess demo`` and the benchmark watch this site instead of the
internet. Each vendor (a slug such as ``acme`` or ``v0042``) serves, under ``/{slug}/``:

===============================  ==============================================  =========
path                             what                                            kind
===============================  ==============================================  =========
``subprocessors``                CMS trust page with one or two tables           subprocessors
``subprocessors.md``             the same list, docs-site Markdown table         subprocessors
``status/history.rss``           Atlassian Statuspage incident history (RSS)     incidents
``status/history.atom``          the same (Atom)                                 incidents
``status/api/v2/incidents.json`` Statuspage v2 JSON                              incidents
``changelog.atom``               GitHub releases Atom of the SDK                 changelog
``changelog.md``                 Markdown CHANGELOG                              changelog
``changelog``                    the changelog as an HTML page                   changelog
``model-card.md``                Hugging Face model card (YAML front matter)     model_card
``model-card``                   the card as an HTML page                        model_card
``dpa``                          Data Processing Addendum (HTML policy page)     page
===============================  ==============================================  =========

Content is deterministic (a RNG seeded by the slug) and changes only on command
(:meth:`VendorSite.control`, ``POST /_control/...``). HTML pages carry noise that
changes on every request (script nonce, build id, CSRF token, "Page generated at"),
while ``ETag``/``Last-Modified`` follow the semantic content only, and conditional
requests get ``304``. Bodies are rendered once per content version and cached as byte
chunks with holes for the noise, so a request costs a dict lookup and a join.

Markup lives in ``monitor/sitedata/templates``; names, pools and legal text in
``monitor/sitedata/vendors.yaml``. Run it alone with
``python -m monitor.vendorsite --port 8765 [--vendors N] [--demo-every 20s]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import hashlib
import html
import inspect
import itertools
import json
import logging
import random
import re
import secrets
import signal
import string
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any

import jinja2
import yaml
from aiohttp import web
from markdown_it import MarkdownIt
from markupsafe import Markup

log = logging.getLogger("reassess.vendorsite")
SITEDATA = Path(__file__).resolve().parent.parent / "sitedata"
DEMO_VENDORS = ("acme", "northwind", "heliosml")
ANCHOR = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)  # initial content is dated before this
TOPICS = ("subprocessors", "incidents", "changelog", "model_card", "dpa")
IMPACTS = ("none", "minor", "major", "critical")
STATUSES = ("investigating", "identified", "monitoring", "resolved", "postmortem")
FAIL_MODES = ("500", "503", "empty", "slow", "challenge", "ok")
MAX_OVERRIDE = 8 * 1024 * 1024
MAX_MUTATIONS = 100_000
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")

HTML_CT = "text/html; charset=utf-8"
MD_CT = "text/markdown; charset=utf-8"


@dataclass(frozen=True, slots=True)
class DocSpec:
    """One document path: its topic (what state it shows), reassess kind and media type."""

    topic: str
    kind: str
    content_type: str
    template: str | None = None  # None: built in Python

    @property
    def html(self) -> bool:
        return self.content_type == HTML_CT


DOCS: dict[str, DocSpec] = {
    "subprocessors": DocSpec("subprocessors", "subprocessors", HTML_CT, "subprocessors.html.j2"),
    "subprocessors.md": DocSpec("subprocessors", "subprocessors", MD_CT, "subprocessors.md.j2"),
    "status/history.rss": DocSpec("incidents", "incidents", "application/rss+xml; charset=utf-8",
                                  "status.rss.xml.j2"),
    "status/history.atom": DocSpec("incidents", "incidents",
                                   "application/atom+xml; charset=utf-8", "status.atom.xml.j2"),
    "status/api/v2/incidents.json": DocSpec("incidents", "incidents",
                                            "application/json; charset=utf-8"),
    "changelog.atom": DocSpec("changelog", "changelog", "application/atom+xml; charset=utf-8",
                              "releases.atom.xml.j2"),
    "changelog.md": DocSpec("changelog", "changelog", MD_CT, "changelog.md.j2"),
    "changelog": DocSpec("changelog", "changelog", HTML_CT, "changelog.html.j2"),
    "model-card.md": DocSpec("model_card", "model_card", MD_CT),
    "model-card": DocSpec("model_card", "model_card", HTML_CT, "model_card.html.j2"),
    "dpa": DocSpec("dpa", "page", HTML_CT, "dpa.html.j2"),
}
TITLES = {"subprocessors": "Subprocessors", "changelog": "Changelog",
          "model-card": "Model card", "dpa": "Data Processing Addendum"}

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_VERSIONS = itertools.count(1)  # content versions never repeat, even across resets
_SLOT = re.compile("\x00@(NONCE|BUILD|CSRF|TIME|CSS)@\x00")
_NOISE = {name: f"\x00@{name}@\x00" for name in ("NONCE", "BUILD", "CSRF", "TIME", "CSS")}


class ControlError(Exception):
    """A control command that cannot be applied; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _now() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------- data


@functools.cache
def _data() -> dict[str, Any]:
    with (SITEDATA / "vendors.yaml").open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)  # type: ignore[no-any-return]


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
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable("table")


@functools.cache
def _chrome(theme: str) -> dict[str, Markup]:
    """Navigation and footer markup, the same on every page of a theme."""
    data = _data()
    ctx = {"t": data["themes"][theme], "nav": data["nav"], "footer": data["footer"]}
    return {name: Markup(_env().get_template(f"{name}.html.j2").render(ctx))
            for name in ("nav", "footer")}


_SIMPLE_LIST = re.compile(r"(?:- [^\n*_\[\]<>&\\!#|~\"]+(?:\n|$))+")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")


@functools.lru_cache(maxsize=8192)
def _md_html(text: str) -> str:
    """Markdown to HTML, as markdown-it renders it; plain bullet lists (all generated
    release notes) take a fast path that gives the same bytes."""
    if _SIMPLE_LIST.fullmatch(text) and text.count("`") % 2 == 0:
        items = [_CODE_SPAN.sub(r"<code>\1</code>", line[2:].strip())
                 for line in text.splitlines()]
        return "<ul>\n" + "".join(f"<li>{item}</li>\n" for item in items) + "</ul>\n"
    return _markdown().render(text)


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


def _clean(value: Any, what: str, max_len: int = 2000) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ControlError(400, f"{what} must be a non-empty string")
    if len(value) > max_len:
        raise ControlError(400, f"{what} is longer than {max_len} characters")
    return value.replace("\x00", "").strip()


# --------------------------------------------------------------------------- state


@dataclass
class Subprocessor:
    name: str
    purpose: str
    location: str
    category: str = "infra"  # "infra" or "ai": which table on two-table pages

    @property
    def website(self) -> str:
        word = re.sub(r"[^a-z0-9]", "", self.name.split()[0].lower()) or "example"
        return f"https://www.{word}.com"


@dataclass
class Update:
    id: str
    status: str
    body: str
    at: datetime

    @functools.cached_property
    def iso(self) -> str:
        return _iso(self.at)


@dataclass
class Incident:
    id: str
    number: int
    name: str
    impact: str
    components: list[str]
    updates: list[Update]  # oldest first

    @property
    def status(self) -> str:
        return self.updates[-1].status

    @property
    def created_at(self) -> datetime:
        return self.updates[0].at



@dataclass
class Release:
    tag: str
    title: str
    body: str  # Markdown
    at: datetime
    html: str = ""

    def __post_init__(self) -> None:
        self.html = self.html or _md_html(self.body)


@dataclass
class Card:
    title: str
    fields: dict[str, Any]  # YAML front matter
    sections: dict[str, str]  # "## heading" -> Markdown text


@dataclass(frozen=True, slots=True)
class Failure:
    mode: str
    seconds: float = 5.0


@dataclass(eq=False)
class VendorState:
    """Everything one vendor serves; mutated only through actions, under the site lock.

    Incidents, releases and the model card are generated on first use, each from its own
    seeded RNG, so a site of thousands of vendors starts instantly and a vendor whose feed
    is never fetched costs nothing. ``rng`` drives later changes.
    """

    slug: str
    name: str
    legal_name: str
    theme: str
    headers: list[str]
    table_titles: list[str]
    changelog_style: str
    family: str
    model_gen: int
    rng: random.Random
    spec: dict[str, Any] = field(default_factory=dict)
    repo_id: int = 0
    gtm: str = ""
    page_id: str = ""
    component_ids: dict[str, str] = field(default_factory=dict)
    subprocessors: list[Subprocessor] = field(default_factory=list)
    components: list[str] = field(default_factory=list)
    lazy: dict[str, Any] = field(default_factory=dict)  # topic -> generated content
    dpa: dict[str, Any] = field(default_factory=dict)
    legal_paragraphs: list[str] = field(default_factory=list)
    overrides: dict[str, str] = field(default_factory=dict)
    failures: dict[str, Failure] = field(default_factory=dict)
    mtimes: dict[str, datetime] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    pending: set[str] = field(default_factory=set)
    memo: tuple[str, int, Any] | None = None  # the last rendering context, shared by siblings

    def _lazy(self, topic: str, make: Callable[[VendorState, random.Random], Any]) -> Any:
        if topic not in self.lazy:
            self.lazy[topic] = make(self, random.Random(f"vendorsite:{self.slug}:{topic}"))
        return self.lazy[topic]

    @property
    def incidents(self) -> list[Incident]:
        """Newest first."""
        return self._lazy("incidents", _initial_incidents)  # type: ignore[no-any-return]

    @property
    def releases(self) -> list[Release]:
        """Newest first."""
        return self._lazy("changelog", _initial_releases)  # type: ignore[no-any-return]

    @property
    def card(self) -> Card:
        return self._lazy("model_card", _initial_card)  # type: ignore[no-any-return]

    @property
    def domain(self) -> str:
        return f"{self.slug}.example"

    @property
    def status_host(self) -> str:
        return f"status.{self.slug}.example"

    @property
    def repo(self) -> str:
        return f"{self.slug}-ai/{self.slug}-python"

    def model(self, size: str = "large", gen: int | None = None) -> str:
        return f"{self.family}-{size}-{gen or self.model_gen}"

    def words(self) -> dict[str, str]:
        return {"name": self.name, "legal": self.legal_name, "domain": self.domain,
                "model": self.model(), "family": self.family}

    def touch(self, key: str) -> None:
        """Record a semantic change of a topic (or ``page:<doc>``): new version and mtime."""
        now = _now().replace(microsecond=0)
        prev = self.mtimes.get(key)
        self.mtimes[key] = max(now, prev + timedelta(seconds=1)) if prev else now
        self.versions[key] = next(_VERSIONS)
        self.pending.add(key)

    def doc_stamp(self, doc: str) -> tuple[int, int]:
        return self.versions[DOCS[doc].topic], self.versions.get(f"page:{doc}", 0)

    def doc_mtime(self, doc: str) -> datetime:
        topic = self.mtimes[DOCS[doc].topic]
        return max(topic, self.mtimes.get(f"page:{doc}", topic))


# --------------------------------------------------------------------------- generation


def _identity(slug: str, rng: random.Random) -> dict[str, Any]:
    named = _data()["named"].get(slug)
    if named:
        return dict(named)
    parts = _data()["name_parts"]
    first, last = rng.choice(parts["first"]), rng.choice(parts["last"])
    return {"name": f"{first} {last}", "legal_name": f"{first} {last} {rng.choice(parts['legal'])}",
            "family": first.lower()}


def vendor_name(slug: str) -> str:
    """The display name of a vendor, without building its documents."""
    return str(_identity(slug, random.Random(f"vendorsite:{slug}"))["name"])


def _generated_spec(spec: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    d = _data()
    infra = rng.sample(d["infra_pool"], rng.randint(8, 18))
    ai = rng.sample(d["ai_pool"], rng.randint(1, 5))
    spec["subprocessors"] = (
        [{**e, "location": rng.choice(d["locations"])} for e in infra]
        + [{**e, "location": rng.choice(d["locations"]), "category": "ai"} for e in ai])
    spec.update(theme=rng.choice(sorted(d["themes"])), headers=rng.choice(d["header_sets"]),
                tables=rng.choice(d["table_titles"]) if rng.random() < 0.3 else [],
                changelog_style=rng.choice(("versioned", "dated", "keepachangelog")),
                model_gen=rng.randint(1, 4), license=rng.choice(("apache-2.0", "mit", "other")),
                incidents=rng.randint(30, 50), releases=rng.randint(30, 50))
    return spec


def build_vendor(slug: str) -> VendorState:
    """A vendor's initial state: the same slug always gives the same documents."""
    rng = random.Random(f"vendorsite:{slug}")
    spec = _identity(slug, rng)
    if "subprocessors" not in spec:
        spec = _generated_spec(spec, rng)
    state = VendorState(
        slug=slug, name=spec["name"], legal_name=spec["legal_name"], theme=spec["theme"],
        headers=list(spec["headers"]), table_titles=list(spec["tables"]),
        changelog_style=spec["changelog_style"], family=spec["family"],
        model_gen=spec["model_gen"], rng=random.Random(f"vendorsite:{slug}:changes"),
        spec=spec, repo_id=rng.randrange(10**8, 10**9),
        gtm="".join(rng.choices(string.ascii_uppercase + string.digits, k=7)))
    state.subprocessors = [Subprocessor(**e) for e in spec["subprocessors"]]
    state.components = rng.sample(_data()["components"], 5)
    state.page_id = _code(rng)
    state.component_ids = {c: _code(rng) for c in _data()["components"]}
    state.legal_paragraphs = [p.format(**state.words()) for p in _data()["legal_paragraphs"]]
    state.dpa = {"retention_days": 30, "training": False, "version": "3.2", "clauses": []}
    for topic in TOPICS:
        state.versions[topic] = next(_VERSIONS)
        age = timedelta(days=rng.uniform(1, 4) if topic in ("incidents", "changelog") else
                        rng.uniform(5, 200))
        state.mtimes[topic] = (ANCHOR - age).replace(microsecond=0)
    spec["born"] = dict(state.mtimes)  # lazy content is dated from here, whatever happens later
    return state


def _code(rng: random.Random) -> str:
    """A Statuspage-style 12-character id."""
    return f"{rng.getrandbits(48):012x}"


def _make_incident(state: VendorState, rng: random.Random, name: str, impact: str, number: int,
                   steps: list[tuple[str, str, datetime]]) -> Incident:
    updates = [Update(_code(rng), status, body, at) for status, body, at in steps]
    return Incident(id=_code(rng), number=number, name=name, impact=impact,
                    components=rng.sample(state.components, rng.randint(1, 2)), updates=updates)


def _body(rng: random.Random, status: str) -> str:
    return str(rng.choice(_data()["update_bodies"][status]))


def _initial_incidents(state: VendorState, rng: random.Random) -> list[Incident]:
    incidents = []
    at = state.spec["born"]["incidents"] - timedelta(hours=5)  # ends before Last-Modified
    number = rng.randrange(10**7, 3 * 10**7)
    for _ in range(state.spec["incidents"]):
        title = rng.choice(_data()["incident_titles"]).format(
            component=rng.choice(state.components), model=state.model())
        impact = rng.choices(IMPACTS, weights=(10, 55, 30, 5))[0]
        path = ["investigating", *(s for s in ("identified", "monitoring") if rng.random() < 0.6),
                "resolved"]
        steps, t = [], at
        for status in path:
            steps.append((status, _body(rng, status), t.replace(microsecond=0)))
            t += timedelta(minutes=rng.randint(7, 95))
        incidents.append(_make_incident(state, rng, title, impact, number, steps))
        number -= rng.randint(1, 40_000)
        at -= timedelta(days=rng.uniform(2, 15), minutes=rng.randint(0, 600))
    return incidents


def _release_lines(state: VendorState, rng: random.Random, model_change: bool) -> list[str]:
    lines = _data()["release_lines"]
    if model_change:
        out = [lines["model"].format(model=state.model())]
        if state.model_gen > 1:
            out.append(lines["deprecate"].format(old=state.model(gen=state.model_gen - 1)))
        return out
    out = [rng.choice(lines["capability"]).format(model=state.model())] if rng.random() < .3 else []
    return out + rng.sample(lines["sdk"], rng.randint(1, 3))


def _initial_releases(state: VendorState, rng: random.Random) -> list[Release]:
    releases, count = [], state.spec["releases"]
    at = state.spec["born"]["changelog"]
    major, minor, patch = 1 + count // 20, count % 7, rng.randint(0, 3)
    for i in range(count):
        tag = f"v{major}.{minor}.{patch}"
        lines = _release_lines(state, rng, model_change=(i == count // 3))
        body = "\n".join(f"- {line}" for line in lines)
        title = f"{tag}: {state.model()}" if i == count // 3 else tag
        releases.append(Release(tag, title, body, at.replace(microsecond=0)))
        at -= timedelta(days=rng.uniform(3, 20))
        patch -= 1
        if patch < 0:
            minor, patch = minor - 1, rng.randint(1, 4)
        if minor < 0:
            major, minor = major - 1, rng.randint(3, 8)
    return releases


def _initial_card(state: VendorState, rng: random.Random) -> Card:
    card, license_id = _data()["card"], state.spec["license"]
    fields: dict[str, Any] = {"license": license_id}
    if license_id == "other":
        fields["license_name"] = f"{state.family}-model-license"
        fields["license_link"] = f"https://{state.domain}/legal/model-license"
    fields.update({
        "base_model": f"{state.slug}/{state.family}-base-{state.model_gen}",
        "library_name": "transformers", "pipeline_tag": "text-generation",
        "language": rng.sample(card["languages_pool"], rng.randint(2, 7)),
        "datasets": rng.sample(card["datasets_pool"], rng.randint(3, 5)),
        "tags": rng.sample(card["tags_pool"], rng.randint(3, 5)),
        "model-index": [{"name": state.model(), "results": [
            _card_result(state, b, round(rng.uniform(40, 90), 1)) for b in card["benchmarks"]]}],
    })
    words = {**state.words(), "gen_word": ("first", "second", "third", "fourth")[
        min(state.model_gen, 4) - 1], "cutoff": f"{rng.choice(('March', 'June', 'August'))} 2026"}
    return Card(state.model(), fields,
                {k: v.format(**words) for k, v in card["sections"].items()})


def _card_result(state: VendorState, bench: dict[str, str], value: float) -> dict[str, Any]:
    return {"task": {"type": "text-generation", "name": "Text Generation"},
            "dataset": {"name": bench["name"], "type": bench["type"], "split": "test"},
            "metrics": [{"type": bench["metric"], "value": value, "name": bench["label"]}],
            "source": {"name": "Self-reported", "url": f"https://{state.domain}/research"}}


# --------------------------------------------------------------------------- actions


def _find_subprocessor(state: VendorState, name: str) -> Subprocessor:
    key = name.casefold()
    exact = [s for s in state.subprocessors if s.name.casefold() == key]
    near = exact or [s for s in state.subprocessors if s.name.casefold().startswith(key)]
    if len(near) != 1:
        what = "no" if not near else "more than one"
        raise ControlError(404 if not near else 400, f"{what} subprocessor named {name!r}")
    return near[0]


def _category(name: str, purpose: str) -> str:
    ai_names = {e["name"].casefold() for e in _data()["ai_pool"]}
    hint = re.search(r"\b(model|llm|inference|embedding|ai)s?\b", purpose, re.I)
    return "ai" if name.casefold() in ai_names or hint else "infra"


def act_add_subprocessor(state: VendorState, name: str, purpose: str = "Data processing",
                         location: str = "United States", category: str | None = None
                         ) -> dict[str, Any]:
    name = _clean(name, "name")
    if any(s.name.casefold() == name.casefold() for s in state.subprocessors):
        raise ControlError(409, f"subprocessor {name!r} is already listed")
    purpose, location = _clean(purpose, "purpose"), _clean(location, "location")
    if category not in (None, "ai", "infra"):
        raise ControlError(400, "category must be 'ai' or 'infra'")
    state.subprocessors.append(
        Subprocessor(name, purpose, location, category or _category(name, purpose)))
    state.touch("subprocessors")
    return {"name": name}


def act_remove_subprocessor(state: VendorState, name: str) -> dict[str, Any]:
    found = _find_subprocessor(state, _clean(name, "name"))
    state.subprocessors.remove(found)
    state.touch("subprocessors")
    return {"name": found.name}


def act_modify_subprocessor(state: VendorState, name: str, purpose: str | None = None,
                            location: str | None = None) -> dict[str, Any]:
    found = _find_subprocessor(state, _clean(name, "name"))
    if purpose is None and location is None:
        raise ControlError(400, "give purpose or location")
    found.purpose = _clean(purpose, "purpose") if purpose is not None else found.purpose
    found.location = _clean(location, "location") if location is not None else found.location
    state.touch("subprocessors")
    return {"name": found.name}


def _check_choice(value: Any, choices: tuple[str, ...], what: str) -> str:
    if value not in choices:
        raise ControlError(400, f"{what} must be one of {', '.join(choices)}")
    return str(value)


def act_add_incident(state: VendorState, title: str, impact: str = "minor",
                     status: str = "investigating", body: str | None = None) -> dict[str, Any]:
    title = _clean(title, "title", 500)
    impact = _check_choice(impact, IMPACTS, "impact")
    status = _check_choice(status, STATUSES, "status")
    text = _clean(body, "body", 100_000) if body is not None else _body(state.rng, status)
    number = max((i.number for i in state.incidents), default=10**7) + state.rng.randint(1, 900)
    incident = _make_incident(state, state.rng, title, impact, number,
                              [(status, text, _now())])
    state.incidents.insert(0, incident)
    state.touch("incidents")
    return {"id": incident.id, "number": number}


def _find_incident(state: VendorState, ident: Any) -> Incident:
    for incident in state.incidents:
        if ident in (incident.id, incident.number, str(incident.number)):
            return incident
    raise ControlError(404, f"no incident with id {ident!r}")


def act_update_incident(state: VendorState, id: str | int, status: str,
                        impact: str | None = None, body: str | None = None) -> dict[str, Any]:
    incident = _find_incident(state, id)
    status = _check_choice(status, STATUSES, "status")
    new_impact = _check_choice(impact, IMPACTS, "impact") if impact is not None else None
    text = _clean(body, "body", 100_000) if body is not None else _body(state.rng, status)
    incident.impact = new_impact or incident.impact
    incident.updates.append(Update(_code(state.rng), status, text, _now()))
    state.touch("incidents")
    return {"id": incident.id, "number": incident.number}


def act_add_release(state: VendorState, tag: str, body: str,
                    title: str | None = None) -> dict[str, Any]:
    tag = _clean(tag, "tag", 100)
    if any(r.tag == tag for r in state.releases):
        raise ControlError(409, f"release {tag!r} exists")
    text = _clean(body, "body", 1_000_000)
    name = _clean(title, "title", 500) if title is not None else tag
    state.releases.insert(0, Release(tag, name, text, _now().replace(microsecond=0)))
    state.touch("changelog")
    return {"tag": tag}


def act_set_model_card(state: VendorState, fields: dict[str, Any] | None = None,
                       sections: dict[str, str | None] | None = None,
                       title: str | None = None) -> dict[str, Any]:
    if not isinstance(fields or {}, dict) or not isinstance(sections or {}, dict):
        raise ControlError(400, "fields and sections must be objects")
    try:
        json.dumps(fields)
    except (TypeError, ValueError) as exc:
        raise ControlError(400, f"fields must be plain JSON values: {exc}") from None
    for key, value in (sections or {}).items():
        if value is not None:
            _clean(value, f"section {key!r}", 1_000_000)
    for key, value in (fields or {}).items():
        if value is None:
            state.card.fields.pop(key, None)
        else:
            state.card.fields[key] = value
    for key, value in (sections or {}).items():
        if value is None:
            state.card.sections.pop(key, None)
        else:
            state.card.sections[key] = value.replace("\x00", "")
    if title is not None:
        state.card.title = _clean(title, "title", 200)
    state.touch("model_card")
    return {}


def act_set_dpa(state: VendorState, retention_days: int | None = None,
                training: bool | None = None, version: str | None = None,
                clause: str | None = None) -> dict[str, Any]:
    if retention_days is not None:
        if not isinstance(retention_days, int) or not 0 <= retention_days <= 10_000:
            raise ControlError(400, "retention_days must be an integer from 0 to 10000")
        state.dpa["retention_days"] = retention_days
    if training is not None:
        state.dpa["training"] = bool(training)
    if version is not None:
        state.dpa["version"] = _clean(version, "version", 40)
    if clause is not None:
        state.dpa["clauses"].append(_clean(clause, "clause", 100_000))
    state.touch("dpa")
    return {}


def doc_name(state_slug: str, path: Any) -> str:
    """``dpa``, ``/acme/dpa`` or ``acme/dpa`` → ``dpa``; unknown documents are errors."""
    text = str(path).strip("/")
    text = text.removeprefix(f"{state_slug}/")
    if text not in DOCS:
        raise ControlError(400, f"unknown document {path!r}; one of {', '.join(DOCS)}")
    return text


def act_set_page(state: VendorState, path: str, html: str | None) -> dict[str, Any]:
    doc = doc_name(state.slug, path)
    if html is None:
        state.overrides.pop(doc, None)
    elif not isinstance(html, str) or len(html) > MAX_OVERRIDE:
        raise ControlError(400, f"html must be a string of at most {MAX_OVERRIDE} characters")
    else:
        state.overrides[doc] = html.replace("\x00", "")
    state.touch(f"page:{doc}")
    return {"path": doc}


def act_fail(state: VendorState, mode: str, path: str | None = None,
             seconds: float = 5.0) -> dict[str, Any]:
    mode = _check_choice(str(mode), FAIL_MODES, "mode")
    key = "*" if path in (None, "*") else doc_name(state.slug, path)
    if not isinstance(seconds, int | float) or not 0 <= seconds <= 120:
        raise ControlError(400, "seconds must be a number from 0 to 120")
    if mode == "ok" and key == "*":
        state.failures.clear()
    elif mode == "ok":
        state.failures.pop(key, None)
    else:
        state.failures[key] = Failure(mode, float(seconds))
    return {"path": key, "mode": mode}


ACTIONS: dict[str, Callable[..., dict[str, Any]]] = {
    "add_subprocessor": act_add_subprocessor, "remove_subprocessor": act_remove_subprocessor,
    "modify_subprocessor": act_modify_subprocessor, "add_incident": act_add_incident,
    "update_incident": act_update_incident, "add_release": act_add_release,
    "set_model_card": act_set_model_card, "set_dpa": act_set_dpa, "set_page": act_set_page,
    "fail": act_fail,
}


def apply_action(state: VendorState, action: str, params: dict[str, Any]) -> dict[str, Any]:
    fn = ACTIONS.get(action)
    if fn is None:
        raise ControlError(400, f"unknown action {action!r}; one of reset, {', '.join(ACTIONS)}")
    try:
        inspect.signature(fn).bind(state, **params)
    except TypeError as exc:
        raise ControlError(400, f"{action}: {exc}") from None
    return fn(state, **params)


# --------------------------------------------------------------------------- random changes


def _mutate_subprocessors(state: VendorState, rng: random.Random) -> str:
    d, present = _data(), {s.name.casefold() for s in state.subprocessors}
    pool = [e for e in d["ai_pool"] + d["infra_pool"] if e["name"].casefold() not in present]
    roll = rng.random()
    if pool and (roll < 0.7 or len(state.subprocessors) < 3):
        e = rng.choice(pool)
        act_add_subprocessor(state, e["name"], e["purpose"], rng.choice(d["locations"]))
        return f"added subprocessor {e['name']}"
    victim = rng.choice(state.subprocessors)
    if roll < 0.85:
        act_remove_subprocessor(state, victim.name)
        return f"removed subprocessor {victim.name}"
    where = rng.choice([x for x in d["locations"] if x != victim.location])
    act_modify_subprocessor(state, victim.name, location=where)
    return f"moved subprocessor {victim.name} to {where}"


def _mutate_incidents(state: VendorState, rng: random.Random) -> str:
    open_ = [i for i in state.incidents if i.status not in ("resolved", "postmortem")]
    if open_ and rng.random() < 0.7:
        incident = open_[0]
        nxt = STATUSES[min(STATUSES.index(incident.status) + rng.randint(1, 2), 3)]
        act_update_incident(state, incident.id, nxt)
        return f"incident {incident.id} is {nxt}"
    title = rng.choice(_data()["incident_titles"]).format(
        component=rng.choice(state.components), model=state.model())
    impact = rng.choices(IMPACTS, weights=(10, 50, 30, 10))[0]
    result = act_add_incident(state, title, impact)
    return f"new {impact} incident {result['id']}: {title}"


def _next_tag(state: VendorState, model_change: bool) -> str:
    last = state.releases[0].tag if state.releases else "v0.0.0"
    nums = [int(n) for n in re.findall(r"\d+", last)[:3]] + [0, 0, 0]
    major, minor, patch = nums[:3]
    tag = f"v{major}.{minor + 1}.0" if model_change else f"v{major}.{minor}.{patch + 1}"
    for _ in range(1000):
        if all(r.tag != tag for r in state.releases):
            break
        patch += 1
        tag = f"v{major}.{minor}.{patch + 1}"
    return tag


def _mutate_changelog(state: VendorState, rng: random.Random,
                      model_change: bool | None = None) -> str:
    change = rng.random() < 0.5 if model_change is None else model_change
    tag = _next_tag(state, change)
    if change:
        state.model_gen += 1
    lines = _release_lines(state, rng, change)
    title = f"{tag}: {state.model()}" if change else tag
    act_add_release(state, tag, "\n".join(f"- {line}" for line in lines), title)
    return f"released {title}"


def _mutate_model_card(state: VendorState, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.4:
        index = json.loads(json.dumps(state.card.fields.get("model-index", [])))
        with contextlib.suppress(LookupError, TypeError, ValueError):  # user-edited shapes
            for result in index[0]["results"]:
                metric = result["metrics"][0]
                metric["value"] = round(float(metric["value"]) + rng.uniform(-3, 3), 1)
            act_set_model_card(state, fields={"model-index": index})
            return "model card: evaluation results changed"
    if roll < 0.7:
        datasets = list(state.card.fields.get("datasets", []))
        extra = [x for x in _data()["card"]["datasets_pool"] if x not in datasets]
        datasets.append(rng.choice(extra) if extra else f"{state.slug}/customer-feedback")
        act_set_model_card(state, fields={"datasets": datasets})
        return f"model card: training dataset {datasets[-1]} added"
    text = (f"The model was further trained on conversations from {state.name} consumer "
            f"products where users did not opt out (revision {rng.randint(2, 99)}).")
    act_set_model_card(state, sections={"Training Data": text})
    return "model card: training data section rewritten"


def _mutate_dpa(state: VendorState, rng: random.Random) -> str:
    days = rng.choice([d for d in (0, 7, 14, 30, 45, 60, 90) if d != state.dpa["retention_days"]])
    act_set_dpa(state, retention_days=days)
    return f"DPA: retention now {days} days"


MUTATORS: dict[str, Callable[[VendorState, random.Random], str]] = {
    "subprocessors": _mutate_subprocessors, "incidents": _mutate_incidents,
    "changelog": _mutate_changelog, "model_card": _mutate_model_card, "dpa": _mutate_dpa,
}


# --------------------------------------------------------------------------- rendering


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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

_ERROR_PAGE = ("<html>\r\n<head><title>{code} {text}</title></head>\r\n<body>\r\n"
               "<center><h1>{code} {text}</h1></center>\r\n<hr><center>nginx</center>\r\n"
               "</body>\r\n</html>\r\n")
_CHALLENGE = """<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<meta name="robots" content="noindex,nofollow"><meta http-equiv="refresh" content="390">
<style>*{{box-sizing:border-box;margin:0;padding:0}}html{{line-height:1.15}}</style></head>
<body class="no-js"><div class="main-wrapper" role="main"><div class="main-content">
<h1 class="zone-name-title h1">{host}</h1><h2 class="h2" id="challenge-running">Checking your
browser before accessing {host}.</h2><noscript><div class="h2">Enable JavaScript and cookies to
continue</div></noscript><div id="challenge-body-text" class="core-msg spacer">{host} needs to
review the security of your connection before proceeding.</div></div></div>
<script>(function(){{window._cf_chl_opt={{cvId:'3',cZone:'{host}',cType:'managed',
cRay:'{ray}'}};}}());</script></body></html>"""


def _not_modified(headers: Any, rendered: Rendered) -> bool:
    match = headers.get("If-None-Match")
    if match is not None:
        tags = {t.strip().removeprefix("W/") for t in match.split(",")}
        return "*" in tags or rendered.etag in tags
    since = headers.get("If-Modified-Since")
    if since is None:
        return False
    try:
        return rendered.mtime <= parsedate_to_datetime(since)
    except (TypeError, ValueError, IndexError):
        return False


def _failure_response(mode: str, content_type: str, host: str) -> web.Response:
    if mode in ("500", "503"):
        text = {"500": "Internal Server Error", "503": "Service Temporarily Unavailable"}[mode]
        headers = {"Retry-After": "30"} if mode == "503" else {}
        return web.Response(status=int(mode), headers={**headers, "Content-Type": HTML_CT},
                            text=_ERROR_PAGE.format(code=mode, text=text))
    if mode == "empty":
        return web.Response(status=200, body=b"", headers={"Content-Type": content_type})
    page = _CHALLENGE.format(host=host, ray=secrets.token_hex(8))
    return web.Response(status=200, text=page, headers={
        "Content-Type": HTML_CT, "cf-mitigated": "challenge", "Server": "cloudflare",
        "Cache-Control": "private, max-age=0, no-store, no-cache, must-revalidate"})


def _ok_response(rendered: Rendered) -> web.Response:
    body, nonce = rendered.body()
    headers = {"Content-Type": rendered.content_type, "ETag": rendered.etag,
               "Last-Modified": rendered.last_modified, "Cache-Control": "no-cache"}
    if nonce:
        headers["Content-Security-Policy"] = (
            f"script-src 'nonce-{nonce}' 'strict-dynamic'; object-src 'none'; base-uri 'none'")
        headers["X-Request-Id"] = secrets.token_hex(8)
    return web.Response(body=body, headers=headers)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, text=json.dumps(data),
                        content_type="application/json")


class VendorSite:
    """The simulated vendor site: vendors' state, the control API and the HTTP server.

    ``start()`` serves on a background thread with its own event loop; ``control()``,
    ``stats()`` and friends are thread-safe and work whether or not it is serving.
    """

    def __init__(self, vendors: Iterable[str] = DEMO_VENDORS, *, seed: int = 0,
                 demo_every: float | None = None,
                 cache_bytes: int = 1024 * 1024 * 1024) -> None:
        self.vendors: list[str] = list(dict.fromkeys(vendors))
        bad = [v for v in self.vendors if not SLUG_RE.match(v) or v.startswith("_")]
        if bad or not self.vendors:
            raise ValueError(f"vendor slugs must match {SLUG_RE.pattern}: {bad or 'none given'}")
        self._known = set(self.vendors)
        self._states: dict[str, VendorState] = {}
        self._lock = threading.RLock()
        self._cache = _BodyCache(cache_bytes)
        self._counts: dict[str, int] = {}
        self._total = 0
        self._rng = random.Random(seed)
        self.base_url: str | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self.demo_every = demo_every
        self._demo: asyncio.Task[None] | None = None

    @classmethod
    def generated(cls, n_vendors: int, **kwargs: Any) -> VendorSite:
        """A site of ``n_vendors`` generated vendors ``v0001`` … ``vNNNN``."""
        if not 1 <= n_vendors <= 99_999:
            raise ValueError("n_vendors must be from 1 to 99999")
        width = max(4, len(str(n_vendors)))
        return cls([f"v{i:0{width}d}" for i in range(1, n_vendors + 1)], **kwargs)

    # ---- state and documents

    def paths(self, vendor: str) -> list[str]:
        """The URL paths a vendor serves, e.g. ``/acme/subprocessors``."""
        return [f"/{vendor}/{doc}" for doc in DOCS]

    def url(self, vendor: str, doc: str) -> str:
        if self.base_url is None:
            raise RuntimeError("the site is not started")
        return f"{self.base_url}/{vendor}/{doc_name(vendor, doc)}"

    def _state(self, vendor: str) -> VendorState:
        state = self._states.get(vendor)
        if state is None:
            if vendor not in self._known:
                raise ControlError(404, f"unknown vendor {vendor!r}")
            state = self._states[vendor] = build_vendor(vendor)
        return state

    def _rendered(self, state: VendorState, doc: str) -> Rendered:
        key, stamp = (state.slug, doc), state.doc_stamp(doc)
        found = self._cache.get(key, stamp)
        if found is None:
            found = render(state, doc)
            self._cache.put(key, found)
        return found

    def document(self, vendor: str, doc: str) -> bytes:
        """One document's body as served (with fresh noise), without HTTP."""
        with self._lock:
            state = self._state(vendor)
            return self._rendered(state, doc_name(vendor, doc)).body()[0]

    def warm(self, vendors: Iterable[str] | None = None) -> int:
        """Render every document now (so the first timed pass hits the cache)."""
        count = 0
        for vendor in vendors or self.vendors:
            with self._lock:
                state = self._state(vendor)
                for doc in DOCS:
                    self._rendered(state, doc)
                    count += 1
                state.memo = None
        return count

    # ---- control

    def control(self, vendor: str, action: str, **params: Any) -> dict[str, Any]:
        """Apply one action (see ``ACTIONS`` and ``reset``); raises ``ControlError``."""
        with self._lock:
            if action == "reset":
                return self._reset(vendor)
            state = self._state(vendor)
            result = apply_action(state, action, params)
            return {"ok": True, "vendor": vendor, "action": action,
                    "changed": self._drain(state), **result}

    def _reset(self, vendor: str) -> dict[str, Any]:
        old = self._state(vendor)
        fresh = build_vendor(vendor)
        for key, at in old.mtimes.items():  # Last-Modified never goes back after a change
            if at != fresh.mtimes.get(key, at) or key.startswith("page:"):
                fresh.mtimes[key] = max(at, fresh.mtimes.get(key, at)) + timedelta(seconds=1)
        self._states[vendor] = fresh
        return {"ok": True, "vendor": vendor, "action": "reset", "changed": self.paths(vendor)}

    def _drain(self, state: VendorState) -> list[str]:
        docs = [d for d, spec in DOCS.items()
                if spec.topic in state.pending or f"page:{d}" in state.pending]
        state.pending.clear()
        return [f"/{state.slug}/{d}" for d in docs]

    def mutate_random(self, count: int, *, paths: Iterable[str] | None = None,
                      seed: int | None = None) -> dict[str, Any]:
        """Change ``count`` random documents semantically (among ``paths`` if given).

        Documents that show the same state change together (``subprocessors`` and
        ``subprocessors.md``), so ``changed`` lists every path whose content changed.
        """
        if not isinstance(count, int) or not 0 <= count <= MAX_MUTATIONS:
            raise ControlError(400, f"count must be an integer from 0 to {MAX_MUTATIONS}")
        rng = random.Random(seed) if seed is not None else self._rng
        with self._lock:
            pool = self._candidates(paths) if paths is not None else None
            size = len(pool) if pool is not None else len(self.vendors) * len(DOCS)
            targets: dict[tuple[str, str], str] = {}
            for n in rng.sample(range(size), min(count, size)):
                vendor, doc = pool[n] if pool is not None else self._nth(n)
                targets.setdefault((vendor, DOCS[doc].topic), doc)
            changes, changed = [], []
            for (vendor, topic), doc in sorted(targets.items()):
                state = self._state(vendor)
                changes.append({"vendor": vendor, "topic": topic, "path": f"/{vendor}/{doc}",
                                "description": MUTATORS[topic](state, state.rng)})
                changed += self._drain(state)
        return {"ok": True, "changed": changed, "changes": changes}

    def _nth(self, n: int) -> tuple[str, str]:
        return self.vendors[n // len(DOCS)], list(DOCS)[n % len(DOCS)]

    def _candidates(self, paths: Iterable[str]) -> list[tuple[str, str]]:
        out = []
        for path in paths:
            vendor, _, doc = str(path).strip("/").partition("/")
            if vendor not in self._known:
                raise ControlError(400, f"unknown vendor in path {path!r}")
            out.append((vendor, doc_name(vendor, doc)))
        return out

    def demo_step(self) -> str:
        """One random semantic change of a demo kind; returns what happened."""
        with self._lock:
            vendor = self._rng.choice(self.vendors)
            state = self._state(vendor)
            topic = self._rng.choice(("subprocessors", "incidents", "changelog", "model_card"))
            if topic == "changelog":
                text = _mutate_changelog(state, state.rng, model_change=True)
            else:
                text = MUTATORS[topic](state, state.rng)
            self._drain(state)
        return f"{vendor}: {text}"

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {"requests": dict(self._counts), "total": self._total}

    def reset_stats(self) -> None:
        with self._lock:
            self._counts.clear()
            self._total = 0

    def describe(self) -> dict[str, Any]:
        """Vendors, their names and paths, and each document's kind and media type."""
        return {"vendors": [{"slug": v, "name": vendor_name(v), "paths": self.paths(v)}
                            for v in self.vendors],
                "documents": {d: {"kind": s.kind, "content_type": s.content_type}
                              for d, s in DOCS.items()}}

    # ---- HTTP

    def app(self) -> web.Application:
        """The aiohttp application (control routes first: ``_`` is no vendor slug)."""
        app = web.Application(client_max_size=2 * MAX_OVERRIDE)
        app.router.add_get("/", self._h_index)
        app.router.add_get("/_control/stats", self._h_stats)
        app.router.add_post("/_control/stats/reset", self._h_stats_reset)
        app.router.add_get("/_control/vendors", self._h_vendors)
        app.router.add_post("/_control/mutate_random", self._h_mutate)
        app.router.add_post("/_control/{vendor}/{action}", self._h_control)
        app.router.add_get("/{vendor}/{doc:.+}", self._h_doc)
        app.router.add_get("/{tail:.*}", self._h_unknown)
        return app

    def _count(self, path: str) -> None:
        self._counts[path] = self._counts.get(path, 0) + 1
        self._total += 1

    async def _h_doc(self, request: web.Request) -> web.StreamResponse:
        vendor, doc = request.match_info["vendor"], request.match_info["doc"]
        spec = DOCS.get(doc)
        with self._lock:
            self._count(request.path)
            if spec is None or vendor not in self._known:
                return web.Response(status=404, text="404: Not Found")
            state = self._state(vendor)
            failure = state.failures.get(doc) or state.failures.get("*")
            rendered = None if failure and failure.mode != "slow" else self._rendered(state, doc)
        if failure is not None and failure.mode == "slow":
            await self._sleep(failure.seconds)
        elif failure is not None:
            return _failure_response(failure.mode, spec.content_type, state.domain)
        assert rendered is not None
        if _not_modified(request.headers, rendered):
            return web.Response(status=304, headers={
                "ETag": rendered.etag, "Last-Modified": rendered.last_modified})
        return _ok_response(rendered)

    async def _sleep(self, seconds: float) -> None:
        if self._stopping is None:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def _h_unknown(self, request: web.Request) -> web.Response:
        with self._lock:
            self._count(request.path)
        return web.Response(status=404, text="404: Not Found")

    async def _h_index(self, request: web.Request) -> web.Response:
        items = "".join(
            f'<li>{html.escape(v)}: ' + " ".join(f'<a href="{p}">{p.split("/", 2)[2]}</a>'
                                                 for p in self.paths(v)) + "</li>"
            for v in self.vendors[:200])
        return web.Response(text=f"<!DOCTYPE html><title>vendorsite</title><h1>Simulated "
                                 f"vendors</h1><ul>{items}</ul>", content_type="text/html")

    async def _h_stats(self, request: web.Request) -> web.Response:
        return _json(self.stats())

    async def _h_stats_reset(self, request: web.Request) -> web.Response:
        self.reset_stats()
        return _json({"ok": True})

    async def _h_vendors(self, request: web.Request) -> web.Response:
        return _json(self.describe())

    async def _params(self, request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        try:
            params = json.loads(raw) if raw.strip() else {}
        except ValueError as exc:
            raise ControlError(400, f"body is not JSON: {exc}") from None
        if not isinstance(params, dict):
            raise ControlError(400, "body must be a JSON object")
        return params

    async def _h_control(self, request: web.Request) -> web.Response:
        try:
            params = await self._params(request)
            vendor, action = request.match_info["vendor"], request.match_info["action"]
            return _json(self.control(vendor, action, **params))
        except ControlError as exc:
            return _json({"ok": False, "error": str(exc)}, exc.status)

    async def _h_mutate(self, request: web.Request) -> web.Response:
        try:
            params = await self._params(request)
            extra = set(params) - {"count", "paths", "seed"}
            if extra:
                raise ControlError(400, f"unknown parameters: {', '.join(sorted(extra))}")
            return _json(self.mutate_random(params.get("count", 1), paths=params.get("paths"),
                                            seed=params.get("seed")))
        except ControlError as exc:
            return _json({"ok": False, "error": str(exc)}, exc.status)

    # ---- serving

    async def open(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving on the running event loop; returns the base URL."""
        self._stopping = asyncio.Event()
        runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=1.0,
                               handler_cancellation=True)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port, backlog=2048, reuse_address=True).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        bound = runner.addresses[0]
        self.base_url = f"http://{host}:{bound[1]}"
        if self.demo_every:
            self._demo = asyncio.create_task(self._demo_loop(self.demo_every))
        return self.base_url

    async def _demo_loop(self, every: float) -> None:
        assert self._stopping is not None
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=max(every, 0.05))
            if not self._stopping.is_set():
                log.info("%s", self.demo_step())

    async def close(self) -> None:
        """Stop serving: slow responses end now, open connections are closed."""
        if self._stopping is not None:
            self._stopping.set()
        if self._demo is not None:
            await self._demo
            self._demo = None
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner, self.base_url = None, None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on a background thread with its own event loop; returns the base URL."""
        if self._thread is not None:
            raise RuntimeError("the site is already started")
        loop = asyncio.new_event_loop()
        box: dict[str, Any] = {}
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                box["url"] = loop.run_until_complete(self.open(host, port))
            except BaseException as exc:
                box["error"] = exc
            ready.set()
            if "url" in box:
                loop.run_forever()
                loop.run_until_complete(self.close())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="vendorsite", daemon=True)
        self._thread.start()
        ready.wait(timeout=30)
        if "url" not in box:
            self._thread.join(timeout=10)
            self._thread = self._loop = None
            raise RuntimeError(f"vendorsite did not start: {box.get('error')!r}")
        return str(box["url"])

    def stop(self) -> None:
        """Stop the background server started by :meth:`start` (idempotent)."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        if self._stopping is not None:
            loop.call_soon_threadsafe(self._stopping.set)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        self._thread = self._loop = None

    def __enter__(self) -> VendorSite:
        if self._thread is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------- CLI


async def _serve(site: VendorSite, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    url = await site.open(host, port)
    print(url, flush=True)  # the first line is the base URL alone, for scripts
    log.info("%d vendors, e.g. %s%s — control with POST %s/_control/<vendor>/<action>",
             len(site.vendors), url, site.paths(site.vendors[0])[0], url)
    try:
        await stop.wait()
    finally:
        await site.close()
        log.info("stopped")


def _seconds(text: str) -> float:
    """``20s``, ``2m``, ``1h`` or a bare number of seconds (not via ``config``: it imports
    pydantic, and this server should start fast)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*", text)
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"{text!r} is not a duration; write it like 20s, 2m or 1h")
    return float(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2) or "s"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monitor.vendorsite",
                                     description="Serve the simulated AI vendor site.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--vendors", type=int, default=0,
                        help="serve N generated vendors v0001.. instead of the demo vendors")
    parser.add_argument("--demo-every", default=None, metavar="DURATION",
                        help="make a random semantic change every DURATION (e.g. 20s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--warm", action="store_true",
                        help="render every document before serving (otherwise on first request)")
    args = parser.parse_args(argv)
    try:
        every = _seconds(args.demo_every) if args.demo_every else None
    except ValueError as exc:
        parser.error(str(exc))
    logging.basicConfig(level=logging.INFO, format="vendorsite: %(message)s", stream=sys.stdout)
    site = (VendorSite.generated(args.vendors, seed=args.seed, demo_every=every)
            if args.vendors else VendorSite(seed=args.seed, demo_every=every))
    if args.warm:
        log.info("rendered %d documents", site.warm())
    asyncio.run(_serve(site, args.host, args.port))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
