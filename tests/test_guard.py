"""The suspect-document guard (``sources/guard.py``) for every kind: a bot challenge, a
login wall, an error page or a redirect page served in place of the document is suspect
and fires nothing; a real document that only mentions such words is not.

The real documents are the bodies of the file cases (``tests/cases/<kind>/``); the walls
are written as such pages are served.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from sources import REGISTRY, get_kind
from sources.base import Document, KindModule
from sources.guard import content_reason, suspect
from triggers.offline import diff_bodies

CASES = Path(__file__).parent / "cases"

CLOUDFLARE = b"""<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="X-UA-Compatible" content="IE=Edge"><meta name="robots" content="noindex">
<script>(function(){window._cf_chl_opt={cvId:'3',cZone:'acme.example'}})();</script></head>
<body class="no-js"><div class="main-wrapper" role="main"><div class="main-content">
<h1 class="zone-name-title h1">acme.example</h1>
<h2 class="h2" id="challenge-running">Checking if the site connection is secure</h2>
<noscript><div class="h2"><span id="challenge-error-text">Enable JavaScript and cookies to
continue</span></div></noscript>
<div id="challenge-body-text" class="core-msg spacer">acme.example needs to review the
security of your connection before proceeding.</div></div></div>
<div class="footer" role="contentinfo"><div class="ray-id">Ray ID: <code>8f2a6b1c9d0e</code>
</div><div id="footer-text">Performance &amp; security by Cloudflare</div></div>
</body></html>
"""

LOGIN = b"""<!doctype html><html><head><title>Sign in - Acme Trust Center</title></head>
<body><main><form action="/login" method="post"><h1>Sign in to continue</h1>
<label>Email <input name="email"></label><label>Password <input type="password"></label>
<button>Log in</button><a href="/forgot">Forgot your password?</a></form></main></body></html>
"""

ERROR = b"""<html><head><title>Page not found | Acme</title></head><body>
<div class="error"><h1>404</h1><h2>Page not found</h2>
<p>The page you are looking for doesn't exist or has been moved.</p>
<a href="/">Go back home</a></div></body></html>
"""

REDIRECT = b"""<html><head><meta http-equiv="refresh" content="0; url=https://acme.example/legal/">
<title>Redirecting</title></head><body><p>Redirecting to
<a href="https://acme.example/legal/">https://acme.example/legal/</a></p></body></html>
"""

WALLS = {"bot challenge": CLOUDFLARE, "login wall": LOGIN, "error page": ERROR,
         "redirect page": REDIRECT}


# Every kind whose body a web host serves, and so can serve a wall in its place: a mailbox
# body is the messages reassess read over IMAP, never a page (its hostile input is the mail
# itself, tests/test_mailbox.py).
WEB_KINDS = sorted(name for name in REGISTRY if name != "mailbox")


def _body(folder: Path, side: str) -> bytes:
    [found] = [p for p in folder.iterdir()
               if p.name.startswith(side + ".") and not p.name.endswith("document.json")]
    return found.read_bytes()


def _real(kind_name: str) -> tuple[KindModule, Document]:
    """A kind and a real document of it: the first of its file cases that holds one."""
    kind = get_kind(kind_name)
    settings = kind.Settings()
    for folder in sorted((CASES / kind_name).iterdir()):
        if (folder / "settings.json").exists() or not folder.is_dir():
            continue
        doc = kind.parse(_body(folder, "old"), settings)
        if kind.size(doc) >= 4:
            return kind, doc
    raise AssertionError(f"no file case of {kind_name} holds a document")


@pytest.mark.parametrize("wall", sorted(WALLS))
@pytest.mark.parametrize("kind_name", WEB_KINDS)
def test_a_wall_in_place_of_the_document_is_suspect_for_every_kind(kind_name: str,
                                                                    wall: str) -> None:
    kind, old = _real(kind_name)
    body = WALLS[wall]
    new = kind.parse(body, kind.Settings())
    reason = suspect(kind, old, new, body=body)
    assert reason is not None and reason.startswith(wall + ":"), reason


@pytest.mark.parametrize("kind_name", WEB_KINDS)
def test_a_wall_as_the_first_version_is_suspect_for_every_kind(kind_name: str) -> None:
    kind = get_kind(kind_name)
    new = kind.parse(CLOUDFLARE, kind.Settings())
    reason = suspect(kind, None, new, body=CLOUDFLARE)
    assert reason is not None and reason.startswith("bot challenge:"), reason


@pytest.mark.parametrize("kind_name", WEB_KINDS)
def test_reassess_diff_reports_a_wall_as_suspect_and_fires_nothing(kind_name: str) -> None:
    folder = next(p for p in sorted((CASES / kind_name).iterdir())
                  if p.is_dir() and not (p / "settings.json").exists())
    result = diff_bodies(kind_name, _body(folder, "old"), CLOUDFLARE)
    assert result["suspect"] is True and result["triggers"] == []
    assert result["reason"].startswith("bot challenge:")


def _policy(*extra: str, clauses: int = 40) -> bytes:
    text = [f"<p>Clause {i}. Acme will process Customer Data only on Customer's documented "
            f"instructions and will delete it within {i + 20} days.</p>" for i in range(clauses)]
    return ("<main><h1>Data Processing Addendum</h1>" + "".join(text)
            + "".join(f"<p>{e}</p>" for e in extra) + "</main>").encode()


def test_a_long_document_that_mentions_errors_and_captchas_is_not_suspect() -> None:
    kind = get_kind("page")
    settings = kind.Settings()
    old = kind.parse(_policy(), settings)
    body = _policy("If an error occurs, try again later.", "We use a captcha to stop bots.",
                   "Access denied requests are logged.", "Sign in to continue to the portal.")
    new = kind.parse(body, settings)
    assert suspect(kind, old, new, body=body) is None


def test_a_document_that_always_said_it_is_judged_by_size_alone() -> None:
    kind = get_kind("page")
    settings = kind.Settings()
    note = "Something went wrong"
    old = kind.parse(_policy(note), settings)
    body = _policy(note, "Clause 41. Acme will notify Customer of a breach within 48 hours.")
    assert suspect(kind, old, kind.parse(body, settings), body=body) is None


def test_part_of_an_assembled_document_replaced_by_an_error_page_is_suspect() -> None:
    kind = get_kind("page")
    settings = kind.Settings()
    old = kind.parse(_policy(clauses=80), settings)
    body = _policy("<h2>This page isn't available</h2>", "An unexpected error has occurred. "
                   "Try reloading the page or come back later.")
    reason = suspect(kind, old, kind.parse(body, settings), body=body)
    assert reason is not None and reason.startswith("error page: part of the document")


def test_the_document_back_after_an_error_page_is_not_a_rewrite() -> None:
    kind = get_kind("page")
    settings = kind.Settings()
    old = kind.parse(ERROR, settings)
    new = kind.parse(_policy(), settings)
    reason = suspect(kind, old, new, body=_policy())
    assert reason is not None and reason.startswith("previous version: it was an error page")
    result = diff_bodies("page", ERROR, _policy())
    assert result["suspect"] is True and result["triggers"] == []


def test_an_incident_feed_is_data_not_a_wall() -> None:
    kind = get_kind("incidents")
    settings = kind.Settings()

    def feed(*titles: str) -> bytes:
        return json.dumps({"incidents": [
            {"id": f"i{n}", "name": t, "status": "investigating", "impact": "major",
             "created_at": f"2026-05-0{n + 1}T10:00:00Z",
             "incident_updates": [{"body": "We are investigating.", "status": "investigating"}]}
            for n, t in enumerate(titles)]}).encode()

    old_body = feed("Elevated latency on the API for several customers in the EU region",
                    "Delayed webhooks")
    new_body = feed("Internal server error")
    old, new = kind.parse(old_body, settings), kind.parse(new_body, settings)
    assert content_reason(old, new, new_body) is None


def test_a_page_that_parsed_into_records_is_not_read_as_its_chrome() -> None:
    kind, old = _real("subprocessors")
    folder = next(p for p in sorted((CASES / "subprocessors").iterdir()) if p.is_dir()
                  and not (p / "settings.json").exists()
                  and kind.size(kind.parse(_body(p, "old"), kind.Settings())) >= 4)
    body = _body(folder, "old").replace(b"</body>", b"<div>Log in to continue</div></body>")
    new = kind.parse(body, kind.Settings())
    assert kind.size(new) >= 4
    assert suspect(kind, old, new, body=body) is None


def test_reasons_name_the_page() -> None:
    kind = get_kind("page")
    settings = kind.Settings()
    old = kind.parse(_policy(), settings)
    for wall, body in WALLS.items():
        reason = suspect(kind, old, kind.parse(body, settings), body=body) or ""
        assert reason.startswith(wall + ":"), (wall, reason)


@pytest.mark.parametrize("body", [b"<" * 2_000_000, b"<script>" * 200_000,
                                  b"<title>" + b"x" * 1_000_000, b"a" * 5_000_000,
                                  b"<p>" + b"Just a moment. " * 300_000 + b"</p>"])
def test_the_guard_is_linear_on_hostile_bodies(body: bytes) -> None:
    kind = get_kind("page")
    doc = Document(kind="page", data={"lines": []})
    old = Document(kind="page", data={"lines": ["word " * 50] * 40})
    started = time.monotonic()
    suspect(kind, old, doc, body=body)
    suspect(kind, None, Document(kind="page", data={"lines": [body.decode()[:500_000]]}),
            body=body)
    assert time.monotonic() - started < 3.0


@pytest.mark.parametrize(("body", "data"), [
    (b'{"incidents": []}', True), (b'[{"id": 1}]', True), (b"[]", True), (b"[1, 2]", True),
    (b'<?xml version="1.0"?><rss version="2.0">', True), (b"<feed xmlns=''>", True),
    (b"[](https://acme.example/legal)\n\nAcme Terms\n==========", False),
    (b"[the terms](https://acme.example/terms) apply", False), (b"[1](#fn1) Note", False),
    (b'<?xml version="1.0"?><html><body>x</body></html>', False),
])
def test_a_json_or_feed_body_is_told_from_markdown_that_starts_with_a_link(body: bytes,
                                                                           data: bool) -> None:
    from sources.guard import _is_data

    assert _is_data(body) is data


def test_a_wall_after_a_wall_is_still_suspect() -> None:
    """Two captures of a challenge page in a row differ in their ray id: not a change."""
    again = CLOUDFLARE.replace(b"8f2a6b1c9d0e", b"91aa07c3d2e1")
    result = diff_bodies("page", CLOUDFLARE, again)
    assert result["suspect"] is True and result["triggers"] == []
    assert result["reason"].startswith("bot challenge: the page, as the previous version did")
    result = diff_bodies("page", ERROR, CLOUDFLARE)
    assert result["suspect"] is True and result["triggers"] == []
