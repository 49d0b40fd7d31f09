"""Every registered kind keeps the contract of ``sources/base.py``, checked on the kind
itself: help text, a positive default interval, a rule that resolves to a function in
``triggers/``, strict settings, deterministic parsing, garbage answered with a document
or a ``ParseError`` (never another exception, warnings included), and file cases.

A new kind in ``sources.REGISTRY`` is checked here without a line added.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from config.errors import ParseError
from sources import REGISTRY, get_kind
from sources.base import BaseSettings, Document

ROOT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).parent / "cases"
KINDS = sorted(REGISTRY)


def _case_bodies(kind: str) -> list[tuple[str, bytes]]:
    return [(f"{p.parent.name}/{p.name}", p.read_bytes())
            for p in sorted((CASES / kind).glob("*/*")) if p.stem in ("old", "new")]


def _every_case_body() -> list[bytes]:
    return [body for kind in KINDS for _, body in _case_bodies(kind)]


def _garbage() -> list[bytes]:
    """Random bytes, binary files, cut-off documents of every format, deep nesting."""
    rng = random.Random(9)
    out = [b"", b" ", b"\x00" * 64, b"\xff\xfe\x00", b"\xef\xbb\xbf", b"\x89PNG\r\n\x1a\n" +
           bytes(rng.randrange(256) for _ in range(512)), b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
           bytes(rng.randrange(256) for _ in range(4096)), b"\xc3\x28\xa0\xa1" * 100,
           b"<" * 5000, b"&#x110000;&#0;&#xD800;" * 10, b"a" * 200_000,
           b"<div>" * 20_000 + b"x", b"<ul><li>" * 5_000, b"[" * 50_000, b'{"a": ' * 20_000,
           b"<rss version='2.0'><channel>" + b"<item>" * 10_000,
           b"<feed xmlns='http://www.w3.org/2005/Atom'>" + b"<entry><title>" * 5_000,
           b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;"
           b"&a;&a;&a;&a;&a;&a;&a;'>]><rss version='2.0'><channel><item><title>&b;</title>"
           b"</item></channel></rss>",
           b"---\ntitle: [unclosed\n---\n# x\n", b"---\n" + b"- " * 5000 + b"\n---\n",
           b"a,b,c\n\"unclosed,1,2\n", b"\t;\t;\n;\t;\n"]
    for body in _every_case_body()[::5]:
        cut = rng.randrange(1, max(2, len(body)))
        out.append(body[:cut])  # truncated HTML, JSON, XML, Markdown, CSV
        out.append(body[:cut] + bytes(rng.randrange(256) for _ in range(64)))
    return out


GARBAGE = _garbage()


@pytest.mark.parametrize("name", KINDS)
def test_the_kind_declares_its_contract(name: str) -> None:
    kind = get_kind(name)
    assert name == kind.NAME
    help_text = (kind.__doc__ or "").strip()
    assert help_text.startswith(f"{name} — ") and len(help_text.splitlines()) > 3, (
        "the docstring is the help `reassess kinds` prints: 'name — what it watches', then "
        "formats, changes and triggers")
    assert isinstance(kind.PARSER_VERSION, str) and kind.PARSER_VERSION
    assert isinstance(kind.INTERVAL, int | float) and kind.INTERVAL > 0
    for attr in ("parse", "diff", "size", "describe"):
        assert callable(getattr(kind, attr)), attr


@pytest.mark.parametrize("name", KINDS)
def test_the_rule_resolves_to_a_function_in_triggers(name: str) -> None:
    module_name, sep, function = get_kind(name).RULES.partition(":")
    assert sep and function, "RULES is 'module:function'"
    assert module_name.startswith("triggers."), "a kind's rule lives in triggers/"
    assert callable(getattr(import_module(module_name), function, None))


@pytest.mark.parametrize("name", KINDS)
def test_settings_are_strict(name: str) -> None:
    settings = get_kind(name).Settings
    assert issubclass(settings, BaseSettings) and issubclass(settings, BaseModel)
    assert settings.model_config.get("extra") == "forbid"
    with pytest.raises(ValidationError):
        settings.model_validate({"no_such_option": 1})


@pytest.mark.parametrize("name", KINDS)
def test_garbage_gives_a_document_or_a_parse_error(name: str) -> None:
    kind = get_kind(name)
    for body in GARBAGE:
        try:
            doc = kind.parse(body, kind.Settings())
        except ParseError:
            continue
        assert isinstance(doc, Document) and doc.kind == name, body[:80]
        assert doc.parser_version == kind.PARSER_VERSION
        assert isinstance(kind.size(doc), int)
        json.loads(doc.canonical())


@pytest.mark.parametrize("name", KINDS)
def test_a_bad_selector_is_a_parse_error(name: str) -> None:
    kind = get_kind(name)
    body = b"<html><body><main><h1>x</h1><p>y</p></main></body></html>"
    with pytest.raises(ParseError, match="not a CSS selector"):
        kind.parse(body, kind.Settings(select="p[unclosed", format="html"))


@pytest.mark.parametrize("name", KINDS)
def test_every_kind_has_file_cases(name: str) -> None:
    folders = [p for p in (CASES / name).glob("*") if (p / "expected.json").exists()]
    assert folders, f"tests/cases/{name}/ has no case folder with an expected.json"
    for folder in folders:
        assert (folder / "old.document.json").exists(), f"{folder}: run tools/golden.py"


@pytest.mark.parametrize("name", KINDS)
def test_parsing_is_deterministic(name: str) -> None:
    kind = get_kind(name)
    bodies = [body for _, body in _case_bodies(name)] + GARBAGE[:12]
    first = [_hash(name, body) for body in bodies]
    assert first == [_hash(name, body) for body in bodies]
    assert first == _hashes_in_a_fresh_process(name, len(bodies))
    for _, body in _case_bodies(name):
        doc = kind.parse(body, kind.Settings())
        for change in kind.diff(doc, kind.parse(b"", kind.Settings())
                                if name != "page" else Document(name, {"lines": []})):
            assert isinstance(kind.describe(change), str)


def _hash(name: str, body: bytes) -> str:
    kind = get_kind(name)
    try:
        return kind.parse(body, kind.Settings()).hash
    except ParseError as exc:
        return f"ParseError: {exc}"


def _hashes_in_a_fresh_process(name: str, count: int) -> list[str]:
    """The same hashes from a new interpreter that parses the bodies in reverse order:
    no state carried from one parse to the next, no dependence on hash seeds."""
    code = (
        "import json, sys\n"
        "sys.path.insert(0, 'tests')\n"
        "import test_kind_contract as t\n"
        f"bodies = [b for _, b in t._case_bodies({name!r})] + t.GARBAGE[:12]\n"
        f"out = [t._hash({name!r}, b) for b in reversed(bodies)]\n"
        "print(json.dumps(out[::-1]))\n")
    res = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True,
                         text=True, cwd=ROOT, check=False, stdin=subprocess.DEVNULL,
                         env={"PYTHONHASHSEED": "123", "PATH": ""})
    assert res.returncode == 0, res.stderr[-2000:]
    found: list[str] = json.loads(res.stdout)
    assert len(found) == count
    return found
