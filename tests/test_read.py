"""The shared format readers (``sources/read/``): their shortcuts are the code they
shortcut, the feed reader's two paths read a feed alike, the HTML reader survives what
libxml2 and bs4 are fed.

Each shortcut below (a cheaper spelling of a regex, a date written out by hand, a word
looked for before a regex runs) is checked against the plain code it stands for, over
every character where characters matter.
"""

from __future__ import annotations

import calendar
import random
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sources.incidents import record, updatelog
from sources.read import dates, detect, feeds, html, json_records, text, urls

CASES = Path(__file__).parent / "cases"
EVERYTHING = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c < 0xE000)


def _folds_to(letters: str, flags: int) -> list[tuple[str, str]]:
    """(letter, character) pairs where ``flags`` matches a character to one of
    ``letters`` that does not lower-case to it."""
    return [(letter, c) for letter in set(letters)
            for c in re.findall(re.escape(letter), EVERYTHING, flags) if c.lower() != letter]


# --- text -------------------------------------------------------------------------------

def test_normalise_space_is_the_regex_it_replaced() -> None:
    """``normalise_space`` splits on ``str.isspace``; the regex it replaced collapsed
    ``\\s+``: the same characters, every one of them."""
    rx = re.compile(r"\s+")
    for code in range(sys.maxunicode + 1):
        c = chr(code)
        value = f"{c}a{c}{c}b {c}\t{c}"
        assert text.normalise_space(value) == rx.sub(" ", value).strip(), hex(code)


def test_regex_prefilters_are_sound() -> None:
    """The words looked for in lower-cased text before a regex runs are in every match
    of it, and ``re.I`` matches their letters to their capitals only."""
    assert not _folds_to("".join(text.RELATIVE_WORDS), text.RELATIVE_TIME.flags)
    assert not _folds_to("mpact", record._IMPACT_IN_TEXT.flags)
    impact = record._IMPACT_IN_TEXT.pattern
    assert impact.startswith(r"\bimpact") and "|" not in re.sub(r"\([^()]*\)", "", impact)
    samples = ["just now", "JUST NOW", "3 days ago", "an hour ago", "5 min read", "Sep 1 UTC",
               "Posted 2 Hours Ago by x", "read me now", "", "ago", "10 minutes read",
               "a few weeks ago", "ONE YEAR AGO.", "nowhere agony already"]
    for sample in samples:
        assert text.strip_relative_time(sample) == text.RELATIVE_TIME.sub("", sample), sample


def test_affected_word_is_in_every_match() -> None:
    """The update log searches for "This incident affected: …" only in paragraphs whose
    lower-cased text holds the word: a literal of the pattern outside any group, whose
    letters ``re.I`` matches to their capitals only."""
    rx, word = updatelog._AFFECTED, updatelog._AFFECTED_WORD
    assert word == word.lower() and not any(c.isspace() for c in word)  # in one string
    before, found, _ = rx.pattern.partition(word)
    assert found and before.count("(") == before.count(")")  # not inside a group
    assert "|" not in re.sub(r"\([^()]*\)", "", rx.pattern)  # no alternative without it
    assert not _folds_to(word, rx.flags)


def test_normalise_status_is_the_regex() -> None:
    for value in ["Resolved", " In progress ", "post-mortem", "Post Mortem", "under_maint",
                  "a\u00a0b", "x\u2003-\ty", "", "  ", "Update", "ÄÖ", "v2", "a--b", 5, None]:
        written = json_records.as_text(value)
        expected = re.sub(r"[\s-]+", "_", written.strip().lower()) if written else None
        assert record.normalise_status(value) == expected, value


def test_split_components_is_the_loop_it_replaced() -> None:
    def reference(value: str) -> list[str]:
        value = value.strip().rstrip(".")
        parts, depth, buf = [], 0, ""
        for ch in value:
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

    samples = ["API, Chat (EU, US), and Batch.", "Playground and Fine-tuning.", "A", "", " . ",
               "a), b, (c, d", "((a, b), c), d and e", "and A, and B", "Sand and Band, Hand",
               "X (a and b) and Y", "a,,b, ,c.", "A and\tB\nand C", "Brand, Land (x)) , y",
               "API\u00a0and\u2003Console", "A ( B, C ) , D and ( E and F )"]
    for sample in samples:
        assert updatelog.split_components(sample) == reference(sample), sample


# --- dates and urls ------------------------------------------------------------------------

def test_struct_iso_written_out_is_datetimes() -> None:
    """``struct_iso`` writes plain dates itself: the same text as the datetime round trip
    it skips."""
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
        assert dates.struct_iso(value) == slow(value), value


def test_clean_url_shortcut_is_urlsplits() -> None:
    """``clean_url`` cleans a plain http(s) URL itself: the same as urlsplit, urlunsplit
    and the rest of ``_clean_split_url``."""
    rng = random.Random(5)
    links = ["https://status.v0001.example/incidents/449dd6b1a7cf", "http://A.Example",
             "https://a.example/", "https://a.example//", "https://a.example/x/", "http://x/a//",
             "https://a.example:8080/x", "https://u@a.example/x", "https://a.example/x?a=1",
             "https://a.example/x#f", "HTTPS://a.example/x", "https:///x", "https://",
             "https://[::1]/x", "https://a.example/%7Ex/(y)", "https://a.example/a b",
             "ftp://a.example/x", "https://a..b/./../x", "https://-/", "https://./"]
    alphabet = "aZ09.-/:_~%@?#[] \t+!$&'()*,;=é"
    for _ in range(5000):
        links.append(rng.choice(["https://", "http://", "https:/", ""]) + "".join(
            rng.choice(alphabet) for _ in range(rng.randint(0, 14))))
        links.append(rng.choice(["https://", "http://"]) + "".join(
            rng.choice("aZ9.-") for _ in range(rng.randint(1, 5))) + "".join(
            rng.choice("/a.~%:@(-") for _ in range(rng.randint(0, 8))))
    assert sum(1 for link in links if urls._PLAIN_URL.fullmatch(link)) > 1000
    for link in links:
        expected = urls._clean_split_url(link.strip()) if link else None
        assert urls.clean_url(link) == expected, link


# --- feeds --------------------------------------------------------------------------------

def _case_feeds() -> list[tuple[str, bytes]]:
    found = []
    for path in sorted(CASES.glob("*/*/*")):
        if path.stem in ("old", "new"):
            body = path.read_bytes()
            if detect.detect(body) in ("rss", "atom") or detect.sniff_feed(body):
                found.append((f"{path.parent.name}/{path.name}", body))
    return found


def test_a_feed_reads_alike_either_way() -> None:
    """feedparser, the fallback, gives the entries the lxml reader gives, for every feed
    of the file cases that both read: a feed that gains a DOCTYPE (and so goes to
    feedparser) does not look changed."""
    read = 0
    for name, body in _case_feeds():
        if feeds.declines(body):
            continue
        read += 1
        assert feeds.read_feed(body) == feeds.read_with_feedparser(body), name
    assert read >= 20


def test_the_lxml_reader_declines_what_it_does_not_read_as_feedparser_does() -> None:
    atom = b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>1</id>%s</entry></feed>'
    for extra in (b"<title type='xhtml'><div>x</div></title>", b"<title>a</title><title>b</title>",
                  b"<content src='http://x/'/>", b"<source><title>s</title></source>",
                  b"<foo:bar xmlns:foo='urn:x'/>"):
        assert feeds.declines(atom % extra), extra
        assert feeds.read_feed(atom % extra)[0].id == "1"  # read by feedparser instead
    latin = (b"<?xml version='1.0' encoding='latin-1'?><rss version='2.0'><channel><item>"
             b"<title>Caf\xe9</title></item></channel></rss>")
    assert feeds.declines(latin) and feeds.read_feed(latin)[0].title == "Café"
    assert feeds.declines(b"<rss version='2.0'><channel><item>&nbsp;</item></channel></rss>")
    plain = atom % b"<title>t</title>"
    assert not feeds.declines(plain) and feeds.read_feed(plain)[0].title == "t"


def test_feed_dates_are_feedparsers() -> None:
    """The lxml reader reads ``YYYY-MM-DDTHH:MM:SSZ`` itself: the same struct_time as
    feedparser's ``_parse_date``, which reads everything else."""
    from feedparser.datetimes import _parse_date

    rng = random.Random(7)
    samples = ["2026-09-29T13:57:24Z", "2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z",
               "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z", "2026-01-00T00:00:00Z",
               "2026-04-31T10:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T23:60:00Z",
               "2026-01-01T23:59:60Z", "0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z",
               "9999-12-31T23:59:59Z", "2026-09-29t13:57:24z", "2026-09-29T13:57:24+02:00",
               "2026-09-29T13:57:24.5Z", " 2026-09-29T13:57:24Z", "2026-09-29T13:57Z",
               "２０２６-09-29T13:57:24Z", "Tue, 29 Sep 2026 13:57:24 GMT", "", "garbage"]
    for _ in range(3000):
        samples.append(f"{rng.randint(0, 9999):04d}-{rng.randint(0, 13):02d}-"
                       f"{rng.randint(0, 32):02d}T{rng.randint(0, 24):02d}:"
                       f"{rng.randint(0, 60):02d}:{rng.randint(0, 61):02d}Z")
    for value in samples:
        assert feeds.feed_date(value) == _parse_date(value), value


def test_feed_uri_fixup_is_feedparsers() -> None:
    values = ["https://a.example/x", "https:///a.example//x", "http:////a", "tag:a,2005:1",
              "x+y.z-w://///q", "1http:///a", "://a", "https://", "https:///", "",
              "HTTPS:///A", "mailto:a@b", "h ttp:///a", "https:/x"]
    for value in values:
        assert feeds.uri(value) == feeds._URIFIXER.sub(r"\1\3", value), value


# --- html ---------------------------------------------------------------------------------

HOSTILE = [
    "<p>a<script>x</script>b<!--c-->d<style>y</style>e<template><p>t</p></template>f</p>",
    "<div>one<br>two<br/>three</div><p hidden>gone</p><p aria-hidden='true'>gone</p>",
    "<table><tr><th>Name</th><td>Acme<p>inner</p></td></tr><tr><td></td></tr></table>",
    "<ul><li>a</li><li><ul><li>nested\nline</li></ul></li></ul><pre>keep\nbreak</pre>",
    "text first <b>bold</b>\n<i>it</i>  <span style='display: none'>x</span> tail",
    "<p>Ruby <ruby>漢<rp>(</rp><rt>kan</rt><rp>)</rp></ruby> &amp; &nbsp;&lt;x&gt;</p>",
    "<form><input value=v>in form</form>after<!-- c --> <noscript>n</noscript> end",
    "<p>unclosed <b>bold <i>both</p><p>next</i></b> para",
    "\ufeff<p>bom</p>",
    "<html><head><title>t</title></head><body><h1>T</h1>body</body></html>",
]


def test_fragment_lines() -> None:
    got = [html.fragment_lines(fragment) for fragment in HOSTILE]
    assert got[0] == ["abdef"]
    assert got[1] == ["one", "two", "three"]
    assert got[2] == ["Name | Acmeinner"]  # a block ends a line; it does not start one
    assert got[3] == ["a", "nested line", "keep", "break"]
    assert got[4] == ["text first bold it tail"]
    assert got[5] == ["Ruby 漢 & <x>"]
    assert got[6] == ["after end"]
    assert got[8] == ["bom"]
    assert got[9] == ["T", "body"]
    assert html.fragment_lines("* one\n* two", markdown=True) == ["one", "two"]


def test_plain_text_is_itertext() -> None:
    """``plain_text`` (libxml2's text serialisation) gives what ``"".join(itertext())``
    gives, for every element of every fragment."""
    checked = 0
    for fragment in HOSTILE:
        for el in html.parse_html(fragment).iter():
            if isinstance(el.tag, str):
                assert html.plain_text(el) == "".join(el.itertext()), fragment
                checked += 1
    assert checked > 50


def test_odd_bodies_still_give_a_tree() -> None:
    for body in (b"", b"   ", b"<!-- only a comment -->", b"\x00\x00", b"\xff\xfe",
                 "<p>Caf\u00e9</p>".encode("utf-16"), b"<p>" * 10_000,
                 b"<meta charset='bogus'><p>x</p>", "<p>é</p>".encode("latin-1")):
        root = html.parse_html(body)
        assert root is not None and root.tag == "html", body[:40]
    declared = "<meta charset='latin-1'><p>Café</p>".encode("latin-1")
    assert html.visible_lines([html.parse_html(declared)]) == ["Café"]


def test_select_picks_in_document_order_in_one_tree() -> None:
    page = b"<main><p id=a>one</p><div><p class=x>two</p></div><p class=x>three</p></main>"
    picked = html.select(page, "p.x, #a")
    assert [html.get_text(el) for el in picked] == ["one", "two", "three"]
    assert len({html.root_of(el) for el in picked}) == 1
    assert html.select(page, "table") == []
    assert [html.get_text(el) for el in html.visible_roots(b"<p>a<button>b</button></p>",
                                                            "p > *")] == []
