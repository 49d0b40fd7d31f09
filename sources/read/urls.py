"""Links as stable keys: tracking, nonce and cache-busting parameters removed (pure)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# The parameters a link keeps out of its key (``clean_url``), and those removed from the
# URLs written inside a text (``strip_tracking``): two lists, as each grew; merging them
# would change stored documents.
_KEY_TRACKING = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|_hsenc|_hsmi|igshid|"
    r"yclid|_ga|_gl|ref_src|ref_url|spm|trk|trkcampaign|oly_\w+|vero_\w+|s_cid|cmpid)$", re.I)
_TEXT_TRACKING = re.compile(
    r"([?&])(utm_\w+|gclid|fbclid|msclkid|dclid|mc_cid|mc_eid|_hsenc|_hsmi|hsa_\w+|ref_src|"
    r"igshid|yclid|_ga|_gl|spm|trk|nonce|csrf\w*|_token|sessionid|session_id|cb|cachebust\w*)"
    r"=[^&#\s)\]\"'>]*", re.I)

# An http(s) URL that urlsplit cuts into scheme, host and path only: no port, user,
# query, fragment, brackets, spaces or control characters.
_PLAIN_URL = re.compile(r"https?://([A-Za-z0-9.-]+)(/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?")


def clean_url(url: str | None) -> str | None:
    """A link without tracking parameters, with a lower-case host and no trailing slash."""
    if not url:
        return None
    url = url.strip()
    plain = _PLAIN_URL.fullmatch(url)
    if plain is not None:  # what urlsplit/urlunsplit below give for it
        path = plain.group(2) or ""
        return "https://" + plain.group(1).lower() + (
            path.rstrip("/") if path not in ("", "/") else "")
    return _clean_split_url(url)


def _clean_split_url(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return url
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not _KEY_TRACKING.match(k)] if parts.query else []
    path = parts.path.rstrip("/") if parts.path not in ("", "/") else ""
    return urlunsplit(("https", parts.netloc.lower(), path,
                       urlencode(sorted(query)) if query else "", parts.fragment))


def clean_key(value: Any) -> str:
    """A stable string key: URLs cleaned, whitespace normalised."""
    text = " ".join(str(value).split())
    if text.startswith(("http://", "https://")):
        return clean_url(text) or text
    return text


# What removing parameters leaves: "?&…", "&&…", a "?" or "&" with nothing after it.
_EMPTY_FIRST = re.compile(r"\?&+")
_EMPTY_NEXT = re.compile(r"&{2,}")
_DANGLING = re.compile(r"[?&](?=[\s#)\]\"'>]|$)")


def strip_tracking(text: str) -> str:
    """Drop tracking, nonce and cache-busting query parameters from the URLs in a text."""
    if "=" not in text:
        return text
    out = _TEXT_TRACKING.sub(lambda m: m.group(1), text)
    out = _EMPTY_FIRST.sub("?", out)
    out = _EMPTY_NEXT.sub("&", out)
    return _DANGLING.sub("", out)
