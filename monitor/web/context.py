"""What every route shares: the app's state, a database session, templates, filters."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

import jinja2
from fastapi import Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse
from sqlalchemy.engine import Engine
from sqlmodel import Session

from config.schema import Config
from storage.db import session_scope
from storage.queries import TriggerFilter
from triggers.events import SEVERITIES, TRIGGER_TYPES

from . import render as r
from .auth import Auth, Principal

HERE = Path(__file__).resolve().parent
STATUSES = ("open", "acknowledged", "resolved", "suppressed")
HealthCheck = Callable[[], dict[str, Any]]
# A row id in a path: what an INTEGER key holds on both databases (a larger number is no
# row, and must not reach the database as one).
RowId = Annotated[int, PathParam(ge=1, le=2**31 - 1, description="a row id")]


@dataclass
class WebState:
    """Everything a request needs, held on ``app.state.web``."""

    config: Config
    engine: Engine
    auth: Auth
    env: jinja2.Environment
    prefix: str = ""
    health_checks: list[HealthCheck] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.prefix + path



def state(request: Request) -> WebState:
    return request.app.state.web  # type: ignore[no-any-return]


def db(request: Request) -> Iterator[Session]:
    """One transaction per request (a FastAPI dependency). A page or API read takes no
    write lock: on SQLite it never waits for the daemon's writes, nor they for it.
    Declared with ``scope="function"`` everywhere: the transaction commits before the
    response is sent, so the page a POST redirects to already sees what it wrote (by
    default FastAPI runs the code after ``yield`` once the response has gone)."""
    write = request.method not in ("GET", "HEAD")
    with session_scope(state(request).engine, write=write) as session:
        yield session


# The session dependency as every route declares it: ``session: Session = DB``.
DB: Session = Depends(db, scope="function")


def make_env(prefix: str) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    env.globals.update(
        u=lambda path: prefix + path, fmt_time=r.fmt_time, safe_href=r.safe_href,
        text_of=r.text_of, redact=r.redact, SEVERITIES=SEVERITIES, TRIGGER_TYPES=TRIGGER_TYPES,
        STATUSES=STATUSES, label=label, parse_time=r.parse_time, state_of=state_of)
    env.filters["label"] = label
    return env


def label(value: Any) -> str:
    """``re_review_required`` → ``re-review required``; ``policy_change`` → ``policy change``."""
    return str(value or "").replace("re_review", "re-review").replace("_", " ")


def state_of(assessment: Any) -> str:
    """An assessment's state as shown: one still pending a decision is ``pending``."""
    if assessment.disposition == "pending" and assessment.status == "current":
        return "pending"
    return str(assessment.status)


def page_html(request: Request, name: str, principal: Principal, status: int = 200,
              csrf: str | None = None, **ctx: Any) -> HTMLResponse:
    st = state(request)
    if csrf is None:
        session = st.auth.read_session(request)
        csrf = session.csrf if session else ""
    html = st.env.get_template(name).render(
        request=request, me=principal, csrf=csrf,
        public_read=st.auth.public_read, path=request.url.path, **ctx)
    return HTMLResponse(html, status_code=status)


# --- trigger filters, shared by the history page, the downloads and the API -------------


def _when(value: str, end: bool) -> datetime:
    """A date (the whole day; ``end`` → the day after) or an ISO datetime, in UTC."""
    if len(value) == 10:
        day = date.fromisoformat(value)
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return start + timedelta(days=1) if end else start
    found = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def parse_filter(params: Mapping[str, str | None]) -> tuple[TriggerFilter, list[str]]:
    """Filters from query parameters; empty ones ignored, bad ones reported."""
    errors: list[str] = []
    values: dict[str, Any] = {}
    allowed = {"type": TRIGGER_TYPES, "severity": SEVERITIES, "status": STATUSES}
    text = (params.get("q") or "").strip()[:200]
    if text:
        values["text"] = text
    for name in ("vendor", "type", "severity", "status", "source", "assessment"):
        value = (params.get(name) or "").strip()
        if not value:
            continue
        if name in allowed and value not in allowed[name]:
            errors.append(f"{name} {value!r} is not one of {', '.join(allowed[name])}")
            continue
        values[name] = value
    for name in ("since", "until"):
        value = (params.get(name) or "").strip()
        if not value:
            continue
        try:
            values[name] = _when(value, end=name == "until")
        except ValueError:
            errors.append(f"{name} {value!r} is not a date; use YYYY-MM-DD")
    return TriggerFilter(**values), errors


def filter_params(params: Mapping[str, str | None]) -> dict[str, str]:
    """The non-empty filter parameters, to carry into links (pagination, downloads)."""
    keys = ("vendor", "type", "severity", "status", "source", "assessment", "since", "until",
            "q")
    return {k: str(params[k]).strip() for k in keys if (params.get(k) or "").strip()}


def query(params: Mapping[str, str], **extra: Any) -> str:
    merged = {**params, **{k: str(v) for k, v in extra.items() if v is not None}}
    return urlencode(merged)


def prefix_of(base_url: str | None) -> str:
    return urlsplit(base_url).path.rstrip("/") if base_url else ""
