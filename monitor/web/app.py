"""The FastAPI application: pages, the JSON API, Atom feeds, static assets, /healthz.

``create_app(config, engine, health=None)`` builds it; ``reassess run`` and
``reassess serve`` serve it (``monitor.web.server``). Other features add routes with
``app.include_router`` and health facts with ``add_health_check(app, fn)``: each
``fn()`` returns a dict merged into ``/healthz`` (``"status": "error"`` makes it 503).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from config.schema import Config

from .auth import ANONYMOUS, Auth, AuthError
from .context import HERE, HealthCheck, WebState, make_env, page_html, prefix_of, state

log = logging.getLogger("reassess.web")

VERSION = "1"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class SecurityHeaders:
    """Adds the security headers to every response; private pages are not cached."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith("/static/")

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                if b"cache-control" not in present:
                    headers.append((b"cache-control",
                                    b"public, max-age=3600" if static else b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, wrapped)


def create_app(config: Config, engine: Engine, health: HealthCheck | None = None) -> FastAPI:
    """The web UI and API for ``config`` over ``engine``."""
    from . import api, evidence, feeds, pages

    prefix = prefix_of(config.web.base_url)
    app = FastAPI(title="reassess", version=VERSION, docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json",
                  description="Re-assessment triggers for AI vendor reviews: trigger "
                              "history, assessments, vendors and snapshots. Reads need a "
                              "session or `Authorization: Bearer <token>` unless the server "
                              "allows public reading; acks and resolutions need the "
                              "reviewer role.")
    app.state.web = WebState(config=config, engine=engine, auth=Auth(config.web),
                             env=make_env(prefix), prefix=prefix)
    if health is not None:
        add_health_check(app, health)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(api.router)
    app.include_router(feeds.router)
    app.include_router(pages.router)
    app.include_router(evidence.router)
    app.add_api_route("/healthz", healthz, methods=["GET"], tags=["operations"],
                      summary="Liveness and database reachability")
    app.add_exception_handler(AuthError, _auth_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    return app


def reconfigure(app: FastAPI, config: Config) -> None:
    """Apply a reloaded configuration: users, tokens and read policy take effect now;
    sessions stay valid unless the secret key or the user's password changed."""
    st: WebState = app.state.web
    st.auth = Auth(config.web, fallback_secret=st.auth.secret)
    st.config = config


def add_health_check(app: FastAPI, check: HealthCheck) -> None:
    """Merge ``check()``'s dict into every ``/healthz`` answer."""
    app.state.web.health_checks.append(check)


def healthz(request: Request) -> JSONResponse:
    st = state(request)
    body: dict[str, Any] = {"status": "ok", "database": "ok", "version": VERSION}
    try:
        with st.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the database is the answer
        log.warning("healthz: database unreachable: %s", exc)
        body.update(status="error", database=f"error: {exc.__class__.__name__}")
    for check in st.health_checks:
        try:
            body.update(check())
        except Exception as exc:
            log.exception("health check failed")
            body.update(status="error", health_check=f"error: {exc.__class__.__name__}")
    return JSONResponse(body, status_code=503 if body.get("status") == "error" else 200)


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return (path.startswith(("/api/", "/feeds/")) or path.endswith((".csv", ".json"))
            or "text/html" not in request.headers.get("accept", "text/html"))


async def _auth_error(request: Request, exc: AuthError) -> Response:
    if _wants_json(request):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"detail": exc.message}, status_code=exc.status, headers=headers)
    if exc.status == 401 and request.method in ("GET", "HEAD"):
        from urllib.parse import quote

        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(state(request).url(f"/login?next={quote(target)}"), 303)
    return page_html(request, "error.html", ANONYMOUS, status=exc.status,
                     title="Not allowed" if exc.status == 403 else "Sign in",
                     message=exc.message)


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    if _wants_json(request) or exc.status_code < 400:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))
    titles = {404: "Not found", 405: "Method not allowed"}
    return page_html(request, "error.html", ANONYMOUS, status=exc.status_code,
                     title=titles.get(exc.status_code, "Error"), message=str(exc.detail))
