"""Who is asking: signed-in users, API tokens, roles and CSRF tokens.

* Users come from ``web.users`` (name, argon2 ``password_hash``, role); a signed-in
  user carries a session in a signed cookie (itsdangerous): HttpOnly, SameSite=Lax,
  Secure behind https, valid for ``SESSION_AGE``. Changing a user's password in the
  config ends their sessions.
* Every session — an anonymous one too, for the sign-in form — holds a CSRF token;
  every POST from a browser must send it back (form field ``csrf`` or header
  ``X-CSRF-Token``) and must not come from another origin.
* Scripts use ``Authorization: Bearer <token>``; ``web.tokens`` holds argon2 hashes of
  the tokens. A bearer request needs no CSRF token: browsers never add that header.
* Ten failed sign-ins for one name within ten minutes lock that name out (429) until
  the oldest miss is ten minutes old.
* Roles: ``viewer`` reads, ``reviewer`` also acks and resolves, ``admin`` also sees
  source configuration. Reading needs no sign-in only when ``public_read`` (by default:
  bound to a loopback host).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from config.schema import WebConfig

log = logging.getLogger("reassess.web")

ROLES = {"viewer": 0, "reviewer": 1, "admin": 2}
COOKIE = "reassess_session"
SESSION_AGE = 12 * 3600
LOCKOUT_AFTER, LOCKOUT_WINDOW = 10, 600.0  # failed sign-ins per name, seconds
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"

_hasher = PasswordHasher()


def hash_secret(secret: str) -> str:
    """An argon2id hash of a password or an API token, as ``web.users``/``web.tokens`` hold."""
    return _hasher.hash(secret)


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Principal:
    """The one asking: a user (session), a script (token) or nobody (public read)."""

    name: str
    role: str
    via: str  # session | token | anonymous

    def can(self, role: str) -> bool:
        return ROLES[self.role] >= ROLES[role]

    @property
    def signed_in(self) -> bool:
        return self.via != "anonymous"


ANONYMOUS = Principal(name="", role="viewer", via="anonymous")


@dataclass(frozen=True)
class SessionData:
    user: str | None
    csrf: str


class AuthError(Exception):
    """Refused: ``status`` 401 (who are you?) or 403 (not allowed / bad CSRF token)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Auth:
    """Users, tokens, sessions and the read policy of one web app."""

    def __init__(self, web: WebConfig, fallback_secret: str | None = None) -> None:
        self.users = {u.name: u for u in web.users}
        self.tokens = list(web.tokens)
        secret = web.secret_key or fallback_secret
        if not secret:
            log.warning("web.secret_key is not set: sessions last only as long as this "
                        "process; set it to keep users signed in across restarts")
            secret = secrets.token_urlsafe(32)
        self.secret = secret
        self._signer = URLSafeTimedSerializer(secret, salt="reassess.session")
        self.public_read = (web.public_read if web.public_read is not None
                            else is_loopback(web.host))
        self.secure = (web.base_url or "").startswith("https://")
        self.origins = {urlsplit(web.base_url).netloc.lower()} if web.base_url else set()
        self._token_cache: dict[str, Principal | None] = {}
        self._misses: dict[str, list[float]] = {}
        self._dummy = hash_secret(secrets.token_urlsafe(16))

    # --- passwords and tokens -------------------------------------------------------

    def check_password(self, name: str, password: str) -> Principal | None:
        """The user, if the password is right; ``AuthError(429)`` after too many misses."""
        key = name.casefold()
        now = time.monotonic()
        misses = [t for t in self._misses.get(key, []) if now - t < LOCKOUT_WINDOW]
        if len(misses) >= LOCKOUT_AFTER:
            raise AuthError(429, "too many failed sign-ins for this name; wait a few minutes")
        found = self._verify(name, password)
        if found is None:
            if len(self._misses) > 10_000:
                self._misses.clear()
            self._misses[key] = [*misses, now]
        else:
            self._misses.pop(key, None)
        return found

    def _verify(self, name: str, password: str) -> Principal | None:
        user = self.users.get(name)
        try:
            # An unknown name costs the same as a wrong password.
            _hasher.verify(user.password_hash if user else self._dummy, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        return Principal(name=user.name, role=user.role, via="session") if user else None

    def check_token(self, token: str) -> Principal | None:
        key = hashlib.sha256(token.encode()).hexdigest()
        if key in self._token_cache:
            return self._token_cache[key]
        found = None
        for item in self.tokens:
            try:
                _hasher.verify(item.token_hash, token)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                continue
            found = Principal(name=item.name, role=item.role, via="token")
            break
        if len(self._token_cache) > 512:
            self._token_cache.clear()
        self._token_cache[key] = found
        return found

    # --- sessions ---------------------------------------------------------------------

    def _fingerprint(self, user: str | None) -> str:
        found = self.users.get(user or "")
        if found is None:
            return ""
        return hashlib.sha256(found.password_hash.encode()).hexdigest()[:16]

    def read_session(self, request: Request) -> SessionData | None:
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data: Any = self._signer.loads(raw, max_age=SESSION_AGE)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return None
        user = data.get("u")
        if user is not None and (user not in self.users
                                 or data.get("h") != self._fingerprint(user)):
            user = None  # removed from the config, or the password changed
        return SessionData(user=user, csrf=data["c"])

    def write_session(self, response: Response, user: str | None,
                      csrf: str | None = None) -> SessionData:
        """A session for ``user`` (or an anonymous one) with a fresh CSRF token."""
        data = SessionData(user=user, csrf=csrf or new_csrf())
        value = self._signer.dumps({"u": user, "c": data.csrf, "h": self._fingerprint(user)})
        response.set_cookie(COOKIE, value, max_age=SESSION_AGE, httponly=True, samesite="lax",
                            secure=self.secure, path="/")
        return data

    # --- who is asking ------------------------------------------------------------------

    def principal(self, request: Request) -> Principal | None:
        """The token's or the session's principal; None when neither is valid."""
        header = request.headers.get("authorization", "")
        if header[:7].lower() == "bearer ":
            found = self.check_token(header[7:].strip())
            if found is None:
                raise AuthError(401, "invalid API token")
            return found
        session = self.read_session(request)
        if session is None or session.user is None:
            return None
        return Principal(name=session.user, role=self.users[session.user].role, via="session")

    def reader(self, request: Request) -> Principal:
        found = self.principal(request)
        if found is not None:
            return found
        if self.public_read:
            return ANONYMOUS
        raise AuthError(401, "sign in to read this")

    def actor(self, request: Request, csrf: str | None, role: str = "reviewer") -> Principal:
        """The principal of a mutating request: signed in, allowed, and not forged."""
        found = self.principal(request)
        if found is None:
            raise AuthError(401, "sign in to do this")
        if found.via == "session":
            check_csrf(request, self.read_session(request), csrf, self.origins)
        if not found.can(role):
            raise AuthError(403, f"this needs the {role} role; {found.name} is a {found.role}")
        return found


def new_csrf() -> str:
    return secrets.token_urlsafe(24)


def check_csrf(request: Request, session: SessionData | None, token: str | None,
               origins: set[str] | frozenset[str] = frozenset()) -> None:
    """Refuse a browser POST from another origin or without this session's CSRF token."""
    origin = request.headers.get("origin")
    if origin is not None:
        allowed = {request.headers.get("host", "").lower(), *origins}
        if origin == "null" or urlsplit(origin).netloc.lower() not in allowed:
            raise AuthError(403, "cross-origin request refused")
    if session is None or not token or not hmac.compare_digest(session.csrf.encode(),
                                                               token.encode()):
        raise AuthError(403, "missing or wrong CSRF token; reload the page and try again")


def safe_next(target: str | None) -> str:
    """Only a local path is a place to go back to after signing in (no open redirect)."""
    if (not target or not target.startswith("/") or target.startswith("//") or "\\" in target
            or any(c.isspace() or ord(c) < 32 for c in target)):
        return "/"
    return target
