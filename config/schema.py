"""The configuration schema: what is watched, who owns it, where messages go.

Every model forbids unknown keys, so a typo is an error that names the key, never a
silently ignored setting. The configuration is the source of truth for *what* is
watched; the database holds *what happened*.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sources import REGISTRY, get_kind
from triggers.events import TRIGGER_TYPES, Severity, TriggerType

from .durations import config_duration, parse_period

ID_RE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$"

Duration = Annotated[float, BeforeValidator(config_duration)]
# A duration that may be zero ("no minimum").
MaybeDuration = Annotated[float, BeforeValidator(
    lambda v, info: 0.0 if v in (0, 0.0, "0", "0s") else config_duration(v, info))]


def _known_kind(value: str) -> str:
    """A source kind must be registered (``sources.REGISTRY``); the message lists them."""
    if value not in REGISTRY:
        raise ValueError(f"kind {value!r} is not a registered source kind; valid kinds: "
                         f"{', '.join(sorted(REGISTRY))}")
    return value


# A registered source kind's name (``reassess kinds`` lists them).
SourceKind = Annotated[str, AfterValidator(_known_kind)]


# ``${VAR}`` or ``${VAR:-default}`` in a config value.
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


_NO_ENV: Mapping[str, str] = MappingProxyType({})


def expand_env(text: str, env: Mapping[str, str]) -> str:
    """``text`` with each ``${VAR}`` replaced from ``env`` (its default, else left as is)."""
    if "${" not in text:
        return text

    def value(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        return default if default is not None else match.group(0)
    return ENV_REF.sub(value, text)


def check_url(value: str, *, template: bool = False) -> str:
    """An http(s) URL with a host and no credentials in it (a ``template`` may also
    start with a ``${VAR}``, checked again once expanded)."""
    if template and value.startswith("${"):
        return value
    if not re.match(r"^https?://[^\s/?#]+", value):
        raise ValueError("url must start with http:// or https:// and name a host")
    if re.search(r"\s", value):
        raise ValueError("url must not contain spaces; write a space as %20")
    if "@" in re.split(r"[/?#]", value.split("://", 1)[1], maxsplit=1)[0]:
        raise ValueError("credentials in a URL (user:password@host) are refused: send "
                         "them in the source's headers: instead, e.g. "
                         "Authorization: \"Basic ${TOKEN}\"")
    return value


def imap_url(url: str) -> bool:
    return url.startswith(("imap://", "imaps://"))


def check_source_url(value: str, *, template: bool = False) -> str:
    """A source's url: ``check_url``, or a mailbox's ``imap://user@host/FOLDER`` (a user
    name allowed, a password never: it comes from ``password: ${VAR}``)."""
    if not value.startswith(("imap://", "imaps://")):
        return check_url(value, template=template)
    netloc = value.split("://", 1)[1].split("/", 1)[0]
    if "@" in netloc and ":" in netloc.rsplit("@", 1)[0]:
        raise ValueError("a password in a mailbox url is refused: write "
                         "password: ${IMAP_PASSWORD} instead")
    if not re.match(r"^imaps?://([^\s/@:]+@)?[^\s/@]+/\S", value):
        raise ValueError("a mailbox url is imap://user@host/FOLDER (e.g. "
                         "imap://alerts@mail.example.com/INBOX/vendor-notices)")
    return value


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# What a config file's models share (``_share``): one per load, handed to the validators in
# the validation context under this key; (type, key) -> the one object of that value.
SHARED = "shared"


def _share(model: BaseModel, info: ValidationInfo, values: tuple[str, ...] = (),
           lists: tuple[str, ...] = ()) -> dict[Any, Any] | None:
    """Make ``model`` share its equal parts with the other models of the same load.

    pydantic gives every model its own set of the fields written (216 B; an
    assessment's 728 B) and every list, and each value read from YAML is its own
    string: at 100,000 sources that was a third of the config's memory. Done as each
    model is built, what it gives up is reused by the next one, so the load's peak
    (which the process keeps as its size) drops too. Nothing writes into these: the
    models are frozen, ``model_copy`` copies the fields set and the extra dict, and a
    list field is never appended to. Returns the load's table (``None``: not a load).
    """
    shared: dict[Any, Any] | None = (info.context or {}).get(SHARED)
    if shared is None:
        return None
    names = model.__pydantic_fields_set__
    object.__setattr__(model, "__pydantic_fields_set__",
                       shared.setdefault((set, frozenset(names)), names))
    found = model.__dict__
    for name in values:
        value = found[name]
        found[name] = shared.setdefault((type(value), value), value)
    for name in lists:
        value = found[name]
        found[name] = shared.setdefault((list, tuple(value)), value)
    return shared


class SourceConfig(BaseModel):
    """One watched URL. Kind-specific options (``select``, ``ignore``, ``format`` …) are
    checked against the kind's own ``Settings`` model; see ``reassess kinds``."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: str = Field(pattern=ID_RE)
    kind: SourceKind
    url: str
    interval: Duration | None = None
    jitter: float | None = Field(default=None, ge=0, le=0.5)
    confirm: int = Field(default=1, ge=1, le=20)
    compare_versions: int = Field(default=3, ge=0, le=50)
    timeout: Duration | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    enabled: bool = True
    # How the body is fetched when it is not one GET of ``url`` (``sources/via.py``):
    # rendered by headless Chromium (``reassess[browser]``), waiting for ``wait_for``;
    # a model card at a Hugging Face Hub repository's latest commit; an IMAP password.
    render: Literal["browser"] | None = None
    wait_for: str | None = Field(default=None, min_length=1, max_length=500)
    hub: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?$")
    hub_url: str = "https://huggingface.co"
    password: str | None = None

    # The values of the ``${VAR}`` the url and headers name (``bind_env``): the url and
    # headers keep their placeholders, so what is stored and shown never holds a secret.
    # (None until bound, and one shared empty mapping for a source that names none: two
    # empty dicts per source were ~13 MB of a 100,000-source config)
    _env: Mapping[str, str] | None = PrivateAttr(default=None)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_source_url(value, template=True)

    @field_validator("hub_url")
    @classmethod
    def _hub_url(cls, value: str) -> str:
        return check_url(value).rstrip("/")

    @model_validator(mode="after")
    def _shared(self, info: ValidationInfo) -> SourceConfig:
        shared = _share(self, info, ("kind", "interval", "timeout", "hub_url"))
        if shared is not None:  # and its empty dicts and unbound environment
            empty = shared.setdefault((dict, ()), {})
            if not self.headers:
                self.__dict__["headers"] = empty
            if not self.__pydantic_extra__:
                object.__setattr__(self, "__pydantic_extra__", empty)
            if self.__pydantic_private__ == {"_env": None}:
                object.__setattr__(self, "__pydantic_private__",
                                   shared.setdefault(("private", None), {"_env": None}))
        return self

    @model_validator(mode="after")
    def _fetched_how(self) -> SourceConfig:
        imap = imap_url(self.url)
        if imap and self.kind != "mailbox":
            raise ValueError("an imap:// url is for kind: mailbox")
        if self.hub and self.kind != "model_card":
            raise ValueError("hub: names a Hugging Face repository whose model card is read; "
                             "it is for kind: model_card")
        if self.render and self.hub:
            raise ValueError("hub: reads the card through the Hub's API; render: browser is "
                             "for a page that needs JavaScript: choose one")
        if self.render and imap:
            raise ValueError("render: browser is for web pages, not a mailbox")
        if self.password is not None and not imap:
            raise ValueError("password: is a mailbox's (IMAP); a web source sends its "
                             "credentials in headers:")
        if self.wait_for and not self.render:
            raise ValueError("wait_for: is a selector a rendered page waits for; set "
                             "render: browser")
        return self

    def fetch_via(self) -> dict[str, Any] | None:
        """How ``sources/via.py`` fetches this source when it is not one GET of its url
        (``FetchRequest.via``; a password expanded: for the request only), or ``None``."""
        if self.hub:
            return {"hub": self.hub, "hub_url": self.hub_url}
        if self.render:
            return {"render": self.render, "wait_for": self.wait_for}
        if imap_url(self.url):
            return {"imap": {**self.settings(), "password": expand_env(self.password or "",
                                                                       self._env or _NO_ENV)}}
        return None

    def bind_env(self, env: Mapping[str, str]) -> None:
        """Keep the values of the variables the url and headers name (the loader's env)."""
        names = {m.group(1) for text in (self.url, *self.headers.values(), self.password or "")
                 for m in ENV_REF.finditer(text)}
        bound = {name: env[name] for name in names if name in env} if names else None
        # Its own private dict: unbound sources of a loaded file share one (``_share``).
        object.__setattr__(self, "__pydantic_private__", {"_env": bound})

    def request_url(self) -> str:
        """The url with its ``${VAR}`` expanded: for the request, never to store or show."""
        return expand_env(self.url, self._env or _NO_ENV)

    def request_headers(self) -> dict[str, str]:
        env = self._env or _NO_ENV
        return {k: expand_env(v, env) for k, v in self.headers.items()}

    def secrets(self) -> dict[str, str]:
        """Expanded value → its placeholder, for every ``${VAR}`` of the url and headers
        (values under 4 characters would mask ordinary words: they are not listed)."""
        found: dict[str, str] = {}
        for text in (self.url, *self.headers.values(), self.password or ""):
            if "${" not in text:  # most texts name no variable (this runs on every check)
                continue
            for m in ENV_REF.finditer(text):
                value = expand_env(m.group(0), self._env or _NO_ENV)
                if len(value) >= 4:
                    found[value] = m.group(0)
        return found

    def plain(self) -> bool:
        """Whether a check is one GET of the url as written and nothing else:
        ``request_url`` gives the url itself, ``request_headers`` and ``secrets`` ``{}``,
        ``fetch_via`` ``None`` (no ``${VAR}`` in the url or a password, no headers, no
        other way of fetching). A loaded source never changes, so a check may skip
        asking them (``Watch.plain``)."""
        return ("${" not in self.url and not self.headers
                and "${" not in (self.password or "") and self.fetch_via() is None)

    def settings(self) -> dict[str, Any]:
        """The kind-specific options as written (validated by the kind's Settings)."""
        return dict(self.model_extra or {})


class VendorConfig(Strict):
    id: str = Field(pattern=ID_RE)
    name: str
    # Other names the vendor and its models go by ("ChatGPT", "GPT-4o"): an incidents
    # source with ``match_names: true`` keeps only reports that name it or one of them.
    aliases: Annotated[list[str], BeforeValidator(_as_list)] = Field(default_factory=list)
    owner: Annotated[list[str], BeforeValidator(_as_list)] = Field(default_factory=list)
    interval: Duration | None = None
    sources: list[SourceConfig] = Field(default_factory=list)
    # days the vendor's agreement gives to object to a new sub-processor (docs/evidence.md)
    objection_days: int | None = Field(default=None, ge=1, le=365)

    @model_validator(mode="after")
    def _shared(self, info: ValidationInfo) -> VendorConfig:
        _share(self, info, ("interval",), ("aliases", "owner"))
        return self


Disposition = Literal["approved", "approved_with_conditions", "rejected", "pending"]


class AssessmentConfig(Strict):
    id: str = Field(pattern=ID_RE)
    vendor: str
    system: str = ""
    owner: Annotated[list[str], BeforeValidator(_as_list)] = Field(default_factory=list)
    disposition: Disposition = "pending"
    assessed: date | None = None
    review_every: str | None = None
    next_review: date | None = None
    triggers: list[TriggerType] = Field(default_factory=lambda: list(TRIGGER_TYPES))
    # An overdue review flags the assessment whatever ``triggers`` lists; false opts out.
    flag_overdue: bool = True

    @model_validator(mode="after")
    def _review_due(self) -> AssessmentConfig:
        watched: list[TriggerType] = [t for t in self.triggers if t != "review_due"]
        if self.flag_overdue:
            watched.append("review_due")
        if watched != self.triggers:
            object.__setattr__(self, "triggers", watched)  # frozen: set once, while built
        return self

    @model_validator(mode="after")  # after ``_review_due``: the list it leaves is shared
    def _shared(self, info: ValidationInfo) -> AssessmentConfig:
        _share(self, info, ("system", "disposition", "assessed", "review_every",
                            "next_review"), ("owner", "triggers"))
        return self

    @field_validator("review_every")
    @classmethod
    def _period(cls, value: str | None) -> str | None:
        if value is not None:
            parse_period(value)
        return value


class ChannelConfig(Strict):
    urls: Annotated[list[str], BeforeValidator(_as_list)]
    digest: str | None = None
    immediate: Severity = "low"
    min_severity: Severity = "low"

    @field_validator("digest")
    @classmethod
    def _digest(cls, value: str | None) -> str | None:
        if value is not None and not re.match(
                r"^(daily|hourly|weekly( (mon|tue|wed|thu|fri|sat|sun))?)( \d{1,2}:\d{2})?$",
                value.strip(), re.I):
            raise ValueError("digest is like 'daily 09:00', 'hourly' or 'weekly mon 09:00'")
        return value


class RuleMatch(Strict):
    type: Annotated[list[TriggerType], BeforeValidator(_as_list)] | None = None
    vendor: Annotated[list[str], BeforeValidator(_as_list)] | None = None
    source: Annotated[list[str], BeforeValidator(_as_list)] | None = None
    kind: Annotated[list[SourceKind], BeforeValidator(_as_list)] | None = None
    entity: str | None = None
    words: Annotated[list[str], BeforeValidator(_as_list)] | None = None
    severity: Annotated[list[Severity], BeforeValidator(_as_list)] | None = None

    @field_validator("entity")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"entity is not a valid regex: {exc}") from None
        return value


class RuleConfig(Strict):
    name: str | None = None
    match: RuleMatch = Field(default_factory=RuleMatch)
    severity: Severity | None = None
    suppress: bool = False
    route: Annotated[list[str], BeforeValidator(_as_list)] = Field(default_factory=list)


class HttpConfig(Strict):
    transport: Literal["aiohttp", "httpx"] = "aiohttp"
    timeout: Duration = 20.0
    max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    max_redirects: int = Field(default=5, ge=0, le=20)
    concurrency: int = Field(default=32, ge=1, le=1024)
    per_host: int = Field(default=8, ge=1, le=256)
    host_spacing: Duration | None = None
    retries: int = Field(default=2, ge=0, le=10)
    user_agent: str | None = None
    # A 429/503's Retry-After is waited for up to this long; a longer one ends the check.
    retry_after_max: Duration = Field(default=60.0, ge=0)
    # Non-public addresses a redirect may go to (host, host:port or a network like
    # 10.0.0.0/8); a source's own configured origin never needs listing.
    allow_private: list[str] = Field(default_factory=list)


class ScheduleConfig(Strict):
    interval: Duration | None = None
    intervals: dict[SourceKind, Duration] = Field(default_factory=dict)
    jitter: float = Field(default=0.1, ge=0, le=0.5)
    tick: Duration = 5.0
    lease: Duration = 120.0
    # The longest one pass (``reassess check``, a daemon round) may take; what is not
    # done by then is recorded as failed. Default: worked out from the sources and http:.
    pass_timeout: Duration | None = None


class ParseConfig(Strict):
    """Where bodies are parsed: ``workers`` processes beside the event loop's (``auto``:
    one per CPU beyond the first, at least one, at most four; ``0``: in the event loop's
    process, where no parse is bounded in time or memory), and each parse's limits."""

    workers: int | Literal["auto"] = Field(default="auto")
    # A parse over either limit is a parse error on its source; its worker is replaced.
    timeout: Duration = Field(default=30.0, gt=0)
    max_memory: int = Field(default=1024, ge=64, description="MiB per parse worker")

    @field_validator("workers")
    @classmethod
    def _workers(cls, value: int | str) -> int | str:
        if isinstance(value, int) and not 0 <= value <= 64:
            raise ValueError("must be 'auto' or a number of processes from 0 to 64")
        return value


class GuardConfig(Strict):
    """Documents not to be believed yet (``monitor/check/analyse.py``): one that is empty,
    lost more than ``max_shrink`` of the last one's items, does not decode as text, or
    looks like a bot-challenge, login or error page is held as suspect until it has been
    seen unchanged for ``hold_checks`` checks in a row and over at least ``hold_time``."""

    max_shrink: float = Field(default=0.25, gt=0, lt=1)
    hold_checks: int = Field(default=3, ge=1, le=100)
    hold_time: MaybeDuration = Field(default=6 * 3600.0, ge=0)


class AlertConfig(Strict):
    fail_after: int = Field(default=3, ge=1, le=100)


class NotifyConfig(Strict):
    """Outbox delivery: how often the daemon delivers, and how failed sends are retried."""

    tick: Duration = 5.0
    retry: Duration = 30.0
    retry_max: Duration = 3600.0
    attempts: int = Field(default=12, ge=1, le=100)


class RetentionConfig(Strict):
    check_runs: Duration = 90 * 86400.0


class WebUser(Strict):
    name: str
    password_hash: str
    role: Literal["viewer", "reviewer", "admin"] = "viewer"


class ApiToken(Strict):
    name: str
    token_hash: str
    role: Literal["viewer", "reviewer", "admin"] = "viewer"


class WebConfig(Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    base_url: str | None = None
    secret_key: str | None = None
    public_read: bool | None = None
    users: list[WebUser] = Field(default_factory=list)
    tokens: list[ApiToken] = Field(default_factory=list)

    def url(self) -> str:
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")


class CountryWords(Strict):
    code: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    aliases: list[str] = Field(default_factory=list)


class VocabularyConfig(Strict):
    """Words added to the built-in vocabularies (``sources/vocab/*.yaml``): model families,
    capabilities, legal suffixes, table header words, countries, model-card field labels
    and the page kind's policy terms, noise and suspect-page words. See docs/sources.md."""

    model_families: list[str] = Field(default_factory=list)
    capabilities: dict[str, list[str]] = Field(default_factory=dict)
    legal_suffixes: list[str] = Field(default_factory=list)
    header_words: dict[Literal["name", "purpose", "location", "skip"], list[str]] = Field(
        default_factory=dict)
    countries: dict[str, CountryWords] = Field(default_factory=dict)
    card_fields: dict[str, list[str]] = Field(default_factory=dict)
    # The page kind's word lists: each key must be one the shipped file has (its words
    # are added to that list; a number such as policy_terms.window replaces the built-in).
    policy_terms: dict[str, list[str] | int] = Field(default_factory=dict)
    page_noise: dict[str, list[str] | dict[str, str]] = Field(default_factory=dict)
    suspect_pages: dict[str, dict[str, list[str]] | int] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_groups(self) -> VocabularyConfig:
        from sources import vocab

        for name in ("policy_terms", "page_noise", "suspect_pages"):
            known = vocab.builtin(name)
            for key in getattr(self, name):
                if key not in known:
                    raise ValueError(f"vocabulary.{name} has no group {key!r}; known: "
                                     f"{', '.join(sorted(known))}")
        return self

    def additions(self) -> dict[str, Any]:
        """The non-empty additions, as ``sources.vocab.extend`` takes them."""
        return {k: v for k, v in self.model_dump(exclude_none=True).items() if v}


class ControlMatch(Strict):
    type: TriggerType | None = None
    kind: str | None = None
    severity: Severity | None = None


class ControlConfig(Strict):
    """A control mapping entry added to (or replacing) the shipped ones."""

    id: str = Field(min_length=1, max_length=120)
    framework: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    requirement: str = Field(min_length=1, max_length=500)
    checked: str = "unchecked"
    when: list[ControlMatch] = Field(default_factory=lambda: [ControlMatch()])


class DeadlineConfig(Strict):
    """The deadlines a change starts (``reassess deadlines``, docs/evidence.md)."""

    remind_before: Duration = 3 * 86400.0
    migration_days: int = Field(default=0, ge=0, le=365)  # before a model's shutdown date
    incident_notice: MaybeDuration | None = None  # a notification duty after an incident
    incident_severity: Severity = "high"


def _frameworks() -> list[str]:
    from triggers.controls import FRAMEWORKS

    return list(FRAMEWORKS)


class Config(Strict):
    """The whole configuration file."""

    database: str = "sqlite:///reassess.db"
    http: HttpConfig = Field(default_factory=HttpConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    parse: ParseConfig = Field(default_factory=ParseConfig)
    guard: GuardConfig = Field(default_factory=GuardConfig)
    alerts: AlertConfig = Field(default_factory=AlertConfig)
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    vendors: list[VendorConfig] = Field(default_factory=list)
    assessments: list[AssessmentConfig] = Field(default_factory=list)
    channels: dict[str, ChannelConfig] = Field(default_factory=dict)
    rules: list[RuleConfig] = Field(default_factory=list)
    web: WebConfig = Field(default_factory=WebConfig)
    vocabulary: VocabularyConfig = Field(default_factory=VocabularyConfig)
    frameworks: list[str] = Field(default_factory=_frameworks)
    controls: list[ControlConfig] = Field(default_factory=list)
    deadlines: DeadlineConfig = Field(default_factory=DeadlineConfig)

    @model_validator(mode="after")
    def _references(self) -> Config:
        problems: list[tuple[tuple[Any, ...], str]] = []
        problems += _unique("vendors", [(("vendors", i, "id"), v.id)
                                        for i, v in enumerate(self.vendors)])
        problems += _unique("sources", [(("vendors", i, "sources", j, "id"), s.id)
                                        for i, v in enumerate(self.vendors)
                                        for j, s in enumerate(v.sources)])
        problems += _unique("assessments", [(("assessments", i, "id"), a.id)
                                            for i, a in enumerate(self.assessments)])
        known = {v.id for v in self.vendors}
        for i, a in enumerate(self.assessments):
            if a.vendor not in known:
                problems.append(((
                    "assessments", i, "vendor"),
                    f"assessment {a.id!r} names vendor {a.vendor!r}, which is not in "
                    f"vendors: (known: {', '.join(sorted(known)) or 'none'})"))
        channels = set(self.channels)
        owners: list[tuple[tuple[Any, ...], str, str]] = []
        for i, v in enumerate(self.vendors):
            owners += [(("vendors", i, "owner", j), f"vendor {v.id!r}", o)
                       for j, o in enumerate(v.owner)]
        for i, a in enumerate(self.assessments):
            owners += [(("assessments", i, "owner", j), f"assessment {a.id!r}", o)
                       for j, o in enumerate(a.owner)]
        for i, r in enumerate(self.rules):
            owners += [(("rules", i, "route", j), f"rule {r.name or i + 1!r}", o)
                       for j, o in enumerate(r.route)]
        listed = ", ".join(sorted(channels)) or "none"
        for loc, where, name in owners:
            if name not in channels:
                problems.append((loc, f"{where} names channel {name!r}, which is not in "
                                      f"channels: (known: {listed})"))
        from triggers.controls import FRAMEWORKS

        frameworks = set(FRAMEWORKS) | {c.framework for c in self.controls}
        for i, f in enumerate(self.frameworks):
            if f not in frameworks:
                problems.append((("frameworks", i), f"framework {f!r} is not known (known: "
                                 f"{', '.join(sorted(frameworks))})"))
        if problems:
            raise ReferenceProblems(problems)
        return self

    def control_map(self) -> Any:
        """The control mapping in force (``triggers.controls.ControlMap``)."""
        return self._controls()[1]

    def _controls(self) -> tuple[Config, Any, dict[str, str]]:
        """(self, the mapping, source id → kind), built once per configuration."""
        from triggers.controls import ControlMap

        key = id(self)
        found = _CONTROL_MAPS.get(key)
        if found is None or found[0] is not self:
            found = (self, ControlMap(self.frameworks, [
                c.model_dump(exclude_none=True) for c in self.controls]),
                {s.id: s.kind for _, s in self.sources()})
            if len(_CONTROL_MAPS) > 8:  # configurations reloaded: keep the newest only
                _CONTROL_MAPS.clear()
            _CONTROL_MAPS[key] = found
        return found

    def controls_for(self, type_: str, source_id: str | None = None,
                     severity: str | None = None) -> list[dict[str, str]]:
        """A trigger's ``controls`` (id, framework, requirement, checked) under the
        configured frameworks; the source's kind when the config still has it."""
        _, mapping, kinds = self._controls()
        kind = kinds.get(source_id) if source_id else None
        return list(mapping.for_trigger(type_, kind, severity))

    def vendor(self, vendor_id: str) -> VendorConfig:
        for v in self.vendors:
            if v.id == vendor_id:
                return v
        raise KeyError(vendor_id)

    def sources(self) -> list[tuple[VendorConfig, SourceConfig]]:
        return [(v, s) for v in self.vendors for s in v.sources]

    def interval_for(self, vendor: VendorConfig, source: SourceConfig) -> float:
        """Source, then vendor, then the global interval, then the per-kind one, then the
        kind's own default (its ``INTERVAL``)."""
        for value in (source.interval, vendor.interval, self.schedule.interval,
                      self.schedule.intervals.get(source.kind)):
            if value:
                return value
        return get_kind(source.kind).INTERVAL


_CONTROL_MAPS: dict[int, tuple[Config, Any, dict[str, str]]] = {}


class ReferenceProblems(ValueError):
    """Ids that repeat and references to what is not there, each with where it is written
    (a key path), so the loader can name the line of each."""

    def __init__(self, problems: list[tuple[tuple[Any, ...], str]]) -> None:
        super().__init__("; ".join(message for _, message in problems))
        self.problems = problems


def _unique(what: str, ids: list[tuple[tuple[Any, ...], str]]) -> list[tuple[tuple[Any, ...],
                                                                              str]]:
    seen: set[str] = set()
    found = []
    for loc, i in ids:
        if i in seen:
            found.append((loc, f"duplicate id {i!r} in {what}; every id must be unique"))
        seen.add(i)
    return found
