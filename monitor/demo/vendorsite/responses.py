"""HTTP responses: conditional-request checks, failure modes and successful bodies."""

from __future__ import annotations

import json
import secrets
from email.utils import parsedate_to_datetime
from typing import Any

from aiohttp import web

from .common import HTML_CT
from .render import Rendered

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
