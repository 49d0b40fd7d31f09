"""The lxml fast paths (``sources/fastfeed.py``, ``sources/fasthtml.py``) are invisible:
every kind gives the same documents with them on and off, field by field and line by
line, over the file cases, the simulated vendor site (as generated and after changes)
and hostile markup. When the reference code they mirror changes, the fingerprint test
says which function to re-check.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from site_docs import site_documents

from sources import REGISTRY, fastfeed, fasthtml, feeds, formats, statuslog

CASES = Path(__file__).parent / "cases"
SITE_VENDORS = 6
SITE_ROUNDS = 3

HOSTILE = [
    "<p>a<script>x</script>b<!--c-->d<style>y</style>e<template><p>t</p></template>f</p>",
    "<div>one<br>two<br/>three</div><p hidden>gone</p><p aria-hidden='true'>gone</p>",
    "<table><tr><th>Name</th><td>Acme<p>inner</p></td></tr><tr><td></td></tr></table>",
    "<ul><li>a</li><li><ul><li>nested\nline</li></ul></li></ul><pre>keep\nbreak</pre>",
    "text first <b>bold</b>\n<i>it</i>  <span style='display: none'>x</span> tail",
    "<p>Ruby <ruby>漢<rp>(</rp><rt>kan</rt><rp>)</rp></ruby> &amp; &nbsp;&lt;x&gt;</p>",
    "<form><input value=v>in form</form>after<!-- c --> <noscript>n</noscript> end",
    "<p>unclosed <b>bold <i>both</p><p>next</i></b> para",
    "<p><small>Sep 1, 10:00 UTC</small><br><strong>Resolved</strong> - Fixed.</p>"
    "<p><small>2 hours ago</small><strong>Investigating</strong>\n - Looking.</p>"
    "<p>This incident affected: API, Chat (EU, US), and Batch.</p>",
    "<div><p><strong>THIS IS A SCHEDULED EVENT Sep 3</strong></p></div>"
    "<p><b>Update</b> - <small>Sep 2</small> still<br>working</p><p><strong></strong>x</p>",
    "<p><strong>Monitoring</strong><small>now</small><br><br>two\n\nbreaks</p>",
    "<p><strong>A label far too long to be a status word really</strong> - x</p>",
    "<p><small><strong>Resolved</strong></small> - nested</p><p><strong><small>x</small>"
    "Identified</strong> - y</p>",
    "<p>x<rt><br></rt><strong>Resolved</strong> - ruby</p>",
    "\ufeff<p>bom</p>",
    "<html><head><title>t</title></head><body><h1>T</h1>body</body></html>",
    "<p>" + "word " * 200 + "</p>" * 3,
]


def _case_bodies() -> Iterator[tuple[str, str, bytes]]:
    for path in sorted(CASES.glob("*/*/*")):
        if path.is_file() and path.stem in ("old", "new"):
            kind = path.parent.parent.name
            yield kind, f"{path.parent.parent.name}/{path.parent.name}/{path.name}", \
                path.read_bytes()


def _site_bodies() -> Iterator[tuple[str, str, bytes]]:
    return site_documents(SITE_VENDORS, SITE_ROUNDS, SITE_VENDORS * 4)


@pytest.fixture(scope="module")
def corpus() -> list[tuple[str, str, bytes]]:
    return list(_case_bodies()) + list(_site_bodies())


def _slow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastfeed, "ENABLED", False)
    monkeypatch.setattr(fasthtml, "ENABLED", False)


def _parse(kind: str, body: bytes) -> Any:
    module = REGISTRY[kind]
    try:
        doc = module.parse(body, module.Settings())
    except Exception as exc:  # the same failure is the same answer
        return ("error", type(exc).__name__, str(exc))
    return doc.canonical()


def test_every_kind_gives_the_same_documents(corpus: list[tuple[str, str, bytes]],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    fast = {name: _parse(kind, body) for kind, name, body in corpus if kind in REGISTRY}
    _slow(monkeypatch)
    slow = {name: _parse(kind, body) for kind, name, body in corpus if kind in REGISTRY}
    differ = [name for name in fast if fast[name] != slow[name]]
    assert not differ, f"fast and slow parses differ for {differ[:10]}"
    assert len(fast) > 100


def _feeds(corpus: list[tuple[str, str, bytes]]) -> list[tuple[str, bytes]]:
    return [(name, body) for kind, name, body in corpus
            if formats.detect(body) in ("rss", "atom")]


FIELDS = ("id", "title", "link", "summary", "published", "published_parsed", "updated",
          "updated_parsed")


def _fields(entry: Any) -> dict[str, Any]:
    out = {f: dict.get(entry, f, "<absent>") for f in FIELDS}
    content = dict.get(entry, "content")
    out["content"] = [dict(c) for c in content] if content else content
    return out


def test_fast_feed_entries_are_feedparsers(corpus: list[tuple[str, str, bytes]]) -> None:
    fast_count = 0
    for name, body in _feeds(corpus):
        fast = fastfeed.parse(body, feeds._feedparser)
        if fast is None:
            continue
        fast_count += 1
        slow = feeds._feedparser(body)
        assert len(fast.entries) == len(slow.entries), name
        for i, (a, b) in enumerate(zip(fast.entries, slow.entries, strict=True)):
            assert _fields(a) == _fields(b), f"{name} entry {i}"
        assert fast.entries and fast.entries[0].get("author") == slow.entries[0].get("author")
    assert fast_count >= 20, "the fast path should take the plain feeds"


def test_fast_feed_declines_what_it_does_not_reproduce() -> None:
    atom = b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>1</id>%s</entry></feed>'
    for extra in (b"<title type='xhtml'><div>x</div></title>", b"<title>a</title><title>b</title>",
                  b"<content src='http://x/'/>", b"<source><title>s</title></source>",
                  b"<foo:bar xmlns:foo='urn:x'/>"):
        assert fastfeed.parse(atom % extra, feeds._feedparser) is None, extra
    assert fastfeed.parse(b"<?xml version='1.0' encoding='latin-1'?><rss version='2.0'>"
                          b"<channel/></rss>", feeds._feedparser) is None
    assert fastfeed.parse(b"<rss version='2.0'><channel><item>&nbsp;</item></channel></rss>",
                          feeds._feedparser) is None
    plain = fastfeed.parse(atom % b"<title>t</title>", feeds._feedparser)
    assert plain is not None and plain.entries[0]["title"] == "t"
    assert plain.bozo == feeds._feedparser(atom % b"<title>t</title>").bozo  # from feedparser


def _fragments(corpus: list[tuple[str, str, bytes]]) -> list[str]:
    out = list(HOSTILE)
    for _, body in _feeds(corpus):
        for entry in feeds._feedparser(body).entries:
            for value in (entry.get("summary"), *(c.get("value") for c in
                                                  entry.get("content") or [])):
                if value and value not in out:
                    out.append(value)
    return out


def test_fragment_lines_are_bs4s(corpus: list[tuple[str, str, bytes]],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    fragments = _fragments(corpus)
    fast = [feeds.fragment_lines(f) for f in fragments]
    _slow(monkeypatch)
    slow = [feeds.fragment_lines(f) for f in fragments]
    for fragment, a, b in zip(fragments, fast, slow, strict=True):
        assert a == b, fragment[:200]
    assert len(fragments) > 50


def test_update_log_is_bs4s(corpus: list[tuple[str, str, bytes]],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    fragments = _fragments(corpus)
    fast = [statuslog.update_log(f) for f in fragments]
    _slow(monkeypatch)
    slow = [statuslog.update_log(f) for f in fragments]
    for fragment, a, b in zip(fragments, fast, slow, strict=True):
        assert a == b, fragment[:200]


# The code the fast paths mirror. A change there may need the same change in
# fasthtml.py / fastfeed.py: re-check, make the differential tests above pass, then
# update the fingerprint printed by the failure.
MIRRORED = (formats.strip_noise, formats._is_hidden, formats.text_lines, formats.soup,
            feeds.fragment_lines, feeds.flatten_text, statuslog.update_log)
FINGERPRINT = "40597f1238de04c0"


def test_mirrored_code_is_the_code_the_fast_paths_were_checked_against() -> None:
    source = "\n".join(inspect.getsource(f) for f in MIRRORED) + repr(
        (formats.NOISE_TAGS, sorted(formats._BLOCK)))
    got = hashlib.sha256(source.encode()).hexdigest()[:16]
    assert got == FINGERPRINT, (
        f"code mirrored by sources/fasthtml.py changed (fingerprint {got}): check the "
        f"fast path still matches, then set FINGERPRINT = {got!r} in {__file__}")


def test_normalise_space_is_the_regex_it_replaced() -> None:
    """``formats.normalise_space`` splits on ``str.isspace``; the regex it replaced
    collapsed ``\\s+``: the same characters, every one of them."""
    import re
    import sys

    rx = re.compile(r"\s+")
    for code in range(sys.maxunicode + 1):
        c = chr(code)
        text = f"{c}a{c}{c}b {c}\t{c}"
        assert formats.normalise_space(text) == rx.sub(" ", text).strip(), hex(code)


def test_plain_text_is_itertext(corpus: list[tuple[str, str, bytes]]) -> None:
    """``fasthtml._plain_text`` (libxml2's text serialisation) gives what
    ``"".join(itertext())`` gives, for every element of every fragment."""
    checked = 0
    for fragment in _fragments(corpus):
        root = fasthtml.parse_html(fragment)
        if root is None:
            continue
        for el in root.iter(tag=None):
            if isinstance(el.tag, str):
                assert fasthtml._plain_text(el) == "".join(el.itertext()), fragment[:200]
                checked += 1
    assert checked > 500


def test_affected_word_is_in_every_match() -> None:
    """``fasthtml.update_log`` searches for "This incident affected: …" only in paragraphs
    whose lower-cased text holds the word: the pattern is statuslog's, the word is a
    literal of it outside any group, and ``re.I`` matches no character to its letters
    but their capitals."""
    import re
    import sys

    rx = statuslog._AFFECTED
    word = fasthtml._AFFECTED_WORD[(rx.pattern, rx.flags)]
    assert word == word.lower() and not any(c.isspace() for c in word)  # in one string
    before, found, _ = rx.pattern.partition(word)
    assert found and before.count("(") == before.count(")")  # not inside a group
    assert "|" not in re.sub(r"\([^()]*\)", "", rx.pattern)  # no alternative without it
    everything = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c < 0xE000)
    for letter in set(word):
        for c in re.findall(re.escape(letter), everything, rx.flags):
            assert c.lower() == letter, (letter, hex(ord(c)))


def test_fast_dates_are_feedparsers() -> None:
    """``fastfeed._date`` reads ``YYYY-MM-DDTHH:MM:SSZ`` itself: the same struct_time as
    feedparser's ``_parse_date``, which still reads everything else."""
    import random

    from feedparser.datetimes import _parse_date

    rng = random.Random(7)
    dates = ["2026-09-29T13:57:24Z", "2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z",
             "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z", "2026-01-00T00:00:00Z",
             "2026-04-31T10:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T23:60:00Z",
             "2026-01-01T23:59:60Z", "0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z",
             "9999-12-31T23:59:59Z", "2026-09-29t13:57:24z", "2026-09-29T13:57:24+02:00",
             "2026-09-29T13:57:24.5Z", " 2026-09-29T13:57:24Z", "2026-09-29T13:57Z",
             "２０２６-09-29T13:57:24Z", "Tue, 29 Sep 2026 13:57:24 GMT", "", "garbage"]
    for _ in range(3000):
        dates.append(f"{rng.randint(0, 9999):04d}-{rng.randint(0, 13):02d}-"
                     f"{rng.randint(0, 32):02d}T{rng.randint(0, 24):02d}:"
                     f"{rng.randint(0, 60):02d}:{rng.randint(0, 61):02d}Z")
    for value in dates:
        assert fastfeed._date(value) == _parse_date(value), value


def test_fast_uri_is_feedparsers() -> None:
    values = ["https://a.example/x", "https:///a.example//x", "http:////a", "tag:a,2005:1",
              "x+y.z-w://///q", "1http:///a", "://a", "https://", "https:///", "",
              "HTTPS:///A", "mailto:a@b", "h ttp:///a", "https:/x"]
    for value in values:
        assert fastfeed._uri(value) == fastfeed._URIFIXER.sub(r"\1\3", value), value


def test_struct_iso_written_out_is_datetimes() -> None:
    """``feeds.struct_iso`` writes plain dates itself: the same text as the datetime
    round trip it skips."""
    import calendar
    import random
    import time
    from datetime import UTC, datetime

    def slow(value: Any) -> str | None:
        try:
            return datetime.fromtimestamp(calendar.timegm(value), tz=UTC).strftime(
                "%Y-%m-%dT%H:%M:%SZ")
        except (OverflowError, ValueError, TypeError):
            return None

    rng = random.Random(11)
    values: list[Any] = []
    for _ in range(5000):
        fields = (rng.choice([rng.randint(1, 9999), rng.randint(999, 1001),
                              rng.randint(9998, 10000), 1969, 1970, 2000, 2100]),
                  rng.randint(0, 13), rng.randint(0, 32), rng.randint(-1, 24),
                  rng.randint(-1, 60), rng.randint(-1, 61), 0, 1, 0)
        values.append(time.struct_time(fields))
    values += [time.gmtime(0), time.gmtime(2**31), time.struct_time((2026, 1, 1, 0, 0, 0.5, 0,
                                                                     1, 0)),
               time.struct_time((2026, 1, 1, True, 0, 0, 0, 1, 0)), (2026, 1, 2, 3, 4, 5, 0, 0, 0)]
    for value in values:
        assert feeds.struct_iso(value) == slow(value), value


def test_split_components_is_the_loop_it_replaced() -> None:
    import re

    def reference(text: str) -> list[str]:
        text = text.strip().rstrip(".")
        parts, depth, buf = [], 0, ""
        for ch in text:
            depth += ch == "("
            depth -= ch == ")"
            if ch == "," and depth == 0:
                parts.append(buf)
                buf = ""
            else:
                buf += ch
        parts.append(buf)
        out: list[str] = []
        for part in parts:
            part = re.sub(r"^\s*and\s+", "", part.strip())
            out.extend(p.strip() for p in re.split(r"\s+and\s+(?![^(]*\))", part) if p.strip())
        return out

    texts = ["API, Chat (EU, US), and Batch.", "Playground and Fine-tuning.", "A", "", " . ",
             "a), b, (c, d", "((a, b), c), d and e", "and A, and B", "Sand and Band, Hand",
             "X (a and b) and Y", "a,,b, ,c.", "A and\tB\nand C", "Brand, Land (x)) , y",
             "API\u00a0and\u2003Console", "A ( B, C ) , D and ( E and F )"]
    for text in texts:
        assert statuslog.split_components(text) == reference(text), text


def _folds_to(letters: str, flags: int) -> list[tuple[str, str]]:
    """(letter, character) pairs where ``flags`` matches a character to one of
    ``letters`` that does not lower-case to it."""
    import re
    import sys

    everything = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c < 0xE000)
    return [(letter, c) for letter in set(letters)
            for c in re.findall(re.escape(letter), everything, flags) if c.lower() != letter]


def test_regex_prefilters_are_sound() -> None:
    """The words looked for in lower-cased text before a regex runs are in every match
    of it, and ``re.I`` matches their letters to their capitals only."""
    import re

    assert not _folds_to("".join(feeds.RELATIVE_WORDS), feeds.RELATIVE_TIME.flags)
    assert not _folds_to("mpact", statuslog._IMPACT_IN_TEXT.flags)
    impact = statuslog._IMPACT_IN_TEXT.pattern
    assert impact.startswith(r"\bimpact") and "|" not in re.sub(r"\([^()]*\)", "", impact)
    texts = ["just now", "JUST NOW", "3 days ago", "an hour ago", "5 min read", "Sep 1 UTC",
             "Posted 2 Hours Ago by x", "read me now", "", "ago", "10 minutes read",
             "a few weeks ago", "ONE YEAR AGO.", "nowhere agony already"]
    for text in texts:
        assert feeds.strip_relative_time(text) == feeds.RELATIVE_TIME.sub("", text), text


def test_normalise_status_is_the_regex() -> None:
    import re

    for value in ["Resolved", " In progress ", "post-mortem", "Post Mortem", "under_maint",
                  "a\u00a0b", "x\u2003-\ty", "", "  ", "Update", "ÄÖ", "v2", "a--b", 5, None]:
        text = feeds.as_text(value)
        expected = re.sub(r"[\s-]+", "_", text.strip().lower()) if text else None
        assert statuslog.normalise_status(value) == expected, value


def test_clean_url_shortcut_is_urlsplits() -> None:
    """``feeds.clean_url`` cleans a plain http(s) URL itself: the same as urlsplit,
    urlunsplit and the rest of ``_clean_split_url``."""
    import random

    rng = random.Random(5)
    urls = ["https://status.v0001.example/incidents/449dd6b1a7cf", "http://A.Example",
            "https://a.example/", "https://a.example//", "https://a.example/x/", "http://x/a//",
            "https://a.example:8080/x", "https://u@a.example/x", "https://a.example/x?a=1",
            "https://a.example/x#f", "HTTPS://a.example/x", "https:///x", "https://",
            "https://[::1]/x", "https://a.example/%7Ex/(y)", "https://a.example/a b",
            "ftp://a.example/x", "https://a..b/./../x", "https://-/", "https://./"]
    alphabet = "aZ09.-/:_~%@?#[] \t+!$&'()*,;=é"
    for _ in range(5000):
        urls.append(rng.choice(["https://", "http://", "https:/", ""]) + "".join(
            rng.choice(alphabet) for _ in range(rng.randint(0, 14))))
        urls.append(rng.choice(["https://", "http://"]) + "".join(
            rng.choice("aZ9.-") for _ in range(rng.randint(1, 5))) + "".join(
            rng.choice("/a.~%:@(-") for _ in range(rng.randint(0, 8))))
    assert sum(1 for url in urls if feeds._PLAIN_URL.fullmatch(url)) > 1000
    for url in urls:
        expected = feeds._clean_split_url(url.strip()) if url else None
        assert feeds.clean_url(url) == expected, url
