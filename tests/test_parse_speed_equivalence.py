"""The shortcuts of the parse-speed round give what the full readings give:
``update_log(html, texts=False)`` is the full log with the older updates' text and time
left out, ``build_entities`` gives the same entities whether a repeated value is
cleaned once or every time, ``clean_lines_again`` of ``clean_lines``' lines is
``clean_lines`` of them, ``html._having`` finds the elements the predicate XPath found,
in the same order, and ``clean_text`` is its old regex formulation.
``python -m bench.parse_equivalence`` compares whole parses."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sources.incidents import updatelog
from sources.read.html import _having, _xpath, copy, parse_html
from sources.read.text import _QUOTES, clean_lines, clean_lines_again, clean_text
from sources.read.urls import strip_tracking
from sources.subprocessors import build_entities
from tests.test_kinds_b import LOG
from tests.test_parse_equivalence import FRAGMENTS, LOGS


def _statuses_after_first(log: updatelog.Log) -> updatelog.Log:
    updates, components, scheduled = log
    older = [{"status": u["status"], "text": None, "at": None} for u in updates[1:]]
    return updates[:1] + older, components, scheduled


@pytest.mark.parametrize("html", [*LOGS, LOG, LOG + LOG, "<div>" + LOG + "</div>" + LOG])
def test_update_log_without_older_texts(html: str) -> None:
    full = updatelog.update_log(html)
    assert updatelog.update_log(html, texts=False) == _statuses_after_first(full)
    root = parse_html(html)
    assert updatelog.update_log_of(copy(root), texts=False) == _statuses_after_first(
        updatelog.update_log_of(copy(root)))


RECORDS: list[dict[str, Any]] = [
    {"name": "Zendesk, Inc.¹", "purpose": "Customer support", "location": "United States",
     "section": "Subprocessors"},
    {"name": "Zendesk Inc", "purpose": "Customer  support", "location": "EU",
     "section": "Subprocessors"},
    {"name": "Amazon Web Services [1]", "purpose": "Hosting", "location": "",
     "section": "United States"},
    {"name": "Elastic N.V.", "purpose": "Search https://x.test/?utm_source=a&b=1",
     "location": "United States", "section": "Subprocessors"},
    {"name": "[Vendor]", "purpose": "Hosting", "location": "EU", "section": "Subprocessors"},
]


def _entities(zendesk_name: str, zendesk_purpose: str) -> dict[str, dict[str, str]]:
    return {
        "amazon web services": {"name": "Amazon Web Services", "purpose": "Hosting",
                                "location": "United States", "section": "United States"},
        "elastic": {"name": "Elastic N.V.", "purpose": "Search https://x.test/?b=1",
                    "location": "United States", "section": "Subprocessors"},
        "zendesk": {"name": zendesk_name, "purpose": zendesk_purpose,
                    "location": "EU; United States", "section": "Subprocessors"}}


# what build_entities gave before it cleaned each repeated text once
@pytest.mark.parametrize(("ignore", "expected"), [
    ((), _entities("Zendesk Inc", "Customer support")),
    (("Inc",), _entities("Zendesk", "Customer support")),
    ((r"\s+support",), _entities("Zendesk Inc", "Customer")),
])
def test_build_entities_cleans_a_repeated_text_once(
        ignore: tuple[str, ...], expected: dict[str, dict[str, str]]) -> None:
    assert build_entities(RECORDS, ignore) == expected


LINES = [
    "Added fine-tuning support for tessel-large-2.",
    "5 hours 2 days ago ago", "just now just now", "a 3 days ago b", "Updated 2 days ago",
    "- • Fixed a bug · 1 min read", "| Last updated: March 3, 2025 |", "© 2026 Example",
    "Posted on 2026-09-28", "Published 5 min read ago", "  spaced\u00a0 out\t line  ",
    "an hour ago", "read the docs now", "Already known", "", " - ", "ago", "now 2 hours",
    "minutes 3 ago", "1 hour ago 2 hours", "as of 2026-01-01 10:00 UTC", "Copyright",
]


@pytest.mark.parametrize("line", LINES)
def test_clean_lines_again_is_clean_lines_twice(line: str) -> None:
    once = clean_lines([line])
    assert clean_lines_again(once) == clean_lines(once)


_WORDS = st.sampled_from(["ago", "now", "read", "just", "a", "an", "one", "few", "3", "12",
                          "hours", "day", "min", "minutes", "Updated", "last", "updated:",
                          "as", "of", "2026-01-02", "©", "-", "|", "•", "x", "Fixed",
                          "\u00a0", "\t", "\n", " "])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(_WORDS, max_size=10).map(" ".join), max_size=4))
def test_clean_lines_again_is_clean_lines_twice_on_word_soup(lines: list[str]) -> None:
    once = clean_lines(lines)
    assert clean_lines_again(once) == clean_lines(once)


ATTRIBUTED = [
    *FRAGMENTS,
    "<div style='a' hidden><p aria-hidden=true style=x>1</p><span>2<b hidden>3</b></span>"
    "</div><i style=''>4</i><u STYLE='y' Hidden>5</u><s data-style=z>6</s>",
    "<html class=c id=i role=main><body class='x y'><nav role=navigation id=n><a class=a "
    "href=#>a</a></nav><div id=cookie-banner class=cookie role=dialog>c</div>"
    "<p data-id=1 xml:id=2 aria-role=x>p</p><!-- c --><?pi x?></body></html>",
]


@pytest.mark.parametrize("html", ATTRIBUTED)
@pytest.mark.parametrize("attributes", [("hidden", "aria-hidden", "style"),
                                        ("role", "id", "class")])
def test_having_finds_what_the_predicate_found(html: str, attributes: tuple[str, ...]) -> None:
    predicate = _xpath("descendant-or-self::*[" + " or ".join(f"@{a}" for a in attributes)
                       + "]")
    root = parse_html(html)
    for context in [root, *(el for el in root.iter() if isinstance(el.tag, str))]:
        old, new = predicate(context), _having(*attributes)(context)
        assert len(new) == len(old) and all(a is b for a, b in zip(old, new, strict=True))


def _old_clean_text(text: str) -> str:
    import re
    import unicodedata

    text = unicodedata.normalize("NFC", text.translate(_QUOTES))
    return re.sub(r"\s+", " ", strip_tracking(text)).strip()


TEXTS = ["", " ", "plain", "  a \t b\n", "\u2018q\u2019 \u201cd\u201d", "a\u00a0b\u2009c",
         "zero\u200bwidth\u2060\ufeff\u00ad", "e\u0301 cafe\u0301", "\x1c\x1d\x1e\x1f x \x85",
         "\u2028line\u2029\u3000ideo", "see https://x.test/a?utm_source=n&id=1 now",
         "https://x.test/?cb=1&&gclid=2", "\u00a0 \u200b "]


@pytest.mark.parametrize("text", TEXTS)
def test_clean_text_is_the_old_one(text: str) -> None:
    assert clean_text(text) == _old_clean_text(text)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(
    [*"ab ?&=#", "\t", "\n", "\x1c", "\x85", "\u00a0", "\u2009", "\u200b", "\u2018",
     "\u201d", "\u0301", "e", "\u3000", "utm_x=", "https://h.test/"]), max_size=30).map("".join))
def test_clean_text_is_the_old_one_on_soup(text: str) -> None:
    assert clean_text(text) == _old_clean_text(text)
