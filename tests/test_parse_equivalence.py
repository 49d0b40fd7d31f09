"""The cheaper walks of ``sources.read.html`` and ``incidents.updatelog`` give what the
formulations they replaced gave (tag filters, XPath, ``itertext``), kept here as the
reference, on fragments built to reach every branch: comments and processing
instructions, noise inside noise, hidden elements inside noise, a noise or hidden root,
``<pre>`` around and inside, script and ruby text, nested paragraphs, children in a
status label. ``python -m bench.parse_equivalence`` compares whole parses."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from sources.incidents import updatelog
from sources.read.html import (
    NOISE_TAGS,
    SKIP_TEXT,
    _xpath,
    copy,
    drop,
    get_text,
    is_hidden,
    line_break,
    parse_html,
    serialise,
    strip_noise,
    strip_noise_walk,
    texts,
    visible_lines,
)

FRAGMENTS = [
    "<p>plain</p>",
    "<ul>\n<li>Added <code>x</code>.</li>\n<li>Fixed\nit.</li>\n</ul>",
    "a<!-- c -->b<?pi x?>c<p>d<!--e-->f</p>g",
    "<div>keep<script>var a = 1;</script>tail<style>p{}</style>more</div>",
    "<noscript><p hidden>in noise</p><!-- c --></noscript>after",
    "<p style='display: none'>x</p>y<span aria-hidden='true'>z</span>w<b hidden>h</b>v",
    "<p style='color:red'>seen</p><p STYLE='Visibility : Hidden'>gone</p>tail",
    "<div hidden><p style='display:none'>nested hidden</p>t</div>u",
    "<form><input value=a><select><option>o</select><textarea>t</textarea></form>after",
    "<title>T</title><meta charset=utf-8><p>body</p>",
    "<pre>a\nb<span>c\nd</span></pre>e\nf<p>g\n<pre>h\ni</pre>j\nk</p>",
    "<table><tr><td>a</td><td>b\nc</td></tr><tr><th>h</th></tr></table>",
    "<p>x<ruby>漢<rt>kan</rt><rp>(</rp></ruby>y</p><template><p>t</p></template>z",
    "<svg><text>s</text></svg><iframe src=x></iframe><canvas>c</canvas><button>b</button>",
    "<div><p>one<div>two</div>three</p></div>",
    "<p>a<br>b<br/>c<hr>d</p>",
    "",
    "<!-- only a comment -->",
]


def _old_strip_noise(root: Any) -> None:
    """``strip_noise`` as it was: a tag filter, then XPath."""
    from lxml import etree

    for node in list(root.iter(etree.Comment, etree.ProcessingInstruction)):
        drop(node)
    for node in list(root.iter(*NOISE_TAGS)):
        drop(node)
    maybe = _xpath("descendant-or-self::*[@hidden or @aria-hidden or @style]")
    for node in [n for n in maybe(root) if is_hidden(n)]:
        drop(node)


def _roots(html: str) -> list[Any]:
    """The whole tree and each of its elements (a noise or hidden root included), each
    as a copy of its own."""
    tree = parse_html(html)
    return [copy(el) for el in tree.iter() if isinstance(el.tag, str)]


@pytest.mark.parametrize("html", FRAGMENTS)
def test_strip_noise_walk_is_strip_noise(html: str) -> None:
    for root in _roots(html):
        a, b, c = copy(root), copy(root), copy(root)
        _old_strip_noise(a)
        strip_noise(b)
        strip_noise_walk(c)
        assert serialise(a) == serialise(b) == serialise(c)


def _old_texts(el: Any, after: Callable[[str], str | None] | None = None,
               flatten: bool = False) -> list[str]:
    out: list[str] = []
    _old_walk(el, False, next(el.iterancestors("pre"), None) is not None, out, after,
              flatten, True)
    return out


def _old_walk(el: Any, skip: bool, pre: bool, out: list[str],
              after: Callable[[str], str | None] | None, flatten: bool, top: bool) -> None:
    tag = el.tag
    if isinstance(tag, str):
        inside = skip or tag in SKIP_TEXT
        in_pre = pre or tag == "pre"
        text = el.text
        if text and not inside:
            out.append(text.replace("\n", " ") if flatten and not in_pre else text)
        for child in el:
            _old_walk(child, inside, in_pre, out, after, flatten, False)
        if after is not None:
            sep = after(tag)
            if sep is not None:
                out.append(sep)
    if not top and el.tail and not skip:
        out.append(el.tail.replace("\n", " ") if flatten and not pre else el.tail)


@pytest.mark.parametrize("html", FRAGMENTS)
def test_texts_is_the_recursive_walk(html: str) -> None:
    tree = parse_html(html)
    nodes = list(tree.iter())  # comments and processing instructions too, inside <pre> too
    for node, after, flatten in itertools.product(nodes, (None, line_break), (False, True)):
        assert texts(node, after, flatten) == _old_texts(node, after, flatten)


def test_visible_lines_inside_pre() -> None:
    tree = parse_html("<pre>a\nb<span>c\nd<i>e\nf</i></span></pre>")
    span = next(tree.iter("span"))
    assert visible_lines([span], flatten=True) == ["c", "de", "f"]


def _old_update_log_of(root: Any) -> updatelog.Log:
    """``update_log_of`` as it was: tag filters, ``itertext``, every label read by
    ``text_of``."""
    updates: list[dict[str, Any]] = []
    components: list[str] = []
    scheduled = False
    text_of: Callable[[Any], str]
    if next(root.iter(*SKIP_TEXT), None) is None:
        from sources.read.html import plain_text
        text_of, spaced_of = plain_text, lambda el: " ".join(el.itertext())
    else:
        text_of, spaced_of = get_text, lambda el: get_text(el, " ")
    for para in list(root.iter("p", "div")):
        strong = first_strong = small = None
        brs: list[Any] = []
        nested = False
        for el in para.iterdescendants():
            tag = el.tag
            if tag == "br":
                brs.append(el)
            elif tag == "small":
                if small is None:
                    small = el
            elif tag == "strong" or tag == "b":
                if first_strong is None:
                    first_strong = el
                if strong is None and el.getparent() is para:
                    strong = el
            elif tag == "p" or tag == "div":
                nested = True
                break
        if nested:
            continue
        if updatelog._AFFECTED_WORD in text_of(para).lower():
            found = updatelog._AFFECTED.search(updatelog.normalise_space(spaced_of(para)))
            if found:
                components = updatelog.split_components(found.group(1))
        if strong is None:
            strong = first_strong
            if strong is None:
                continue
        label = updatelog.normalise_space(text_of(strong))
        if label.upper().startswith("THIS IS A SCHEDULED EVENT"):
            scheduled = True
            continue
        if label.lower() not in updatelog.STATUS_WORDS and (small is None or len(label) > 30):
            continue
        at = (updatelog.normalise_space(updatelog.strip_relative_time(text_of(small)))
              if small is not None else None)
        for br in brs:
            br.tail = "\n" + (br.tail or "")
        if small is not None:
            small.clear(keep_tail=True)
        strong.clear(keep_tail=True)
        body = updatelog.normalise_space(text_of(para))
        updates.append(updatelog.update(label, body.lstrip("-–—: "), at))
    return updates, components, scheduled


_UPDATE = ("<p><small>Sep <var data-var='date'>16</var>, <var data-var='time'>20:47</var> "
           "UTC</small><br><strong>Resolved</strong> - This incident has been resolved.</p>")
LOGS = [
    _UPDATE + "<p>This incident affected: API, Chat (EU, US), and Batch.</p>",
    _UPDATE + "<p>This incident <em>affected</em>: <b>API</b> and Chat.</p>",
    _UPDATE + "<p>This incident affected:<!-- c --> API</p>",
    _UPDATE + "<p>This incident affected: API<script>x</script> and Chat</p>",
    "<p><small>now</small><strong>Identified<!-- c --></strong> - found it</p>",
    "<p><small>2 hours ago</small><strong>Monitor<span>ing</span></strong> - <br>ok</p>",
    "<p><strong>THIS IS A SCHEDULED EVENT 10:00 - 12:00</strong></p><p><small>x</small>"
    "<strong>Scheduled</strong> - work</p>",
    "<p><em><strong>Update</strong></em> - nested label<br>line two</p>",
    "<p><small>x</small><b></b> - empty label</p>",
    "<div><p><strong>Resolved</strong> - inner</p><strong>Resolved</strong> outer</div>",
    "<p>x<ruby>漢<rt>kan</rt></ruby><strong>Resolved</strong> - ruby</p>",
    "<p><strong>Resolved</strong>This incident affected: A, B</p><p>This scheduled "
    "maintenance affected: C</p>",
]


@pytest.mark.parametrize("html", LOGS)
def test_update_log_is_the_old_one(html: str) -> None:
    for root in _roots(html):
        assert updatelog.update_log_of(copy(root)) == _old_update_log_of(copy(root))
    assert updatelog.update_log(html) == _old_update_log_of(parse_html(html))
