"""A vendor's content: the state dataclasses and its deterministic initial generation."""

from __future__ import annotations

import functools
import random
import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .common import _VERSIONS, ANCHOR, DOCS, IMPACTS, TOPICS, _data, _iso, _md_html, _now


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
