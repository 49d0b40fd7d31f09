"""Start-up cost of ``reassess check`` (issue 8): what the check path imports.

A check runs as one process per pass, start-up included, and on a mostly-304 pass the
start-up is most of it. The parsers' libraries (bs4 with soupsieve, markdown-it,
feedparser, lxml), apprise and rich are imported where they are used: parsing a body,
reading or sending to a channel URL, drawing on a terminal. A module-level import of one
of them on the check path fails here, naming the package.

``LazyConsole`` answers ``is_terminal`` and prints plain lines without rich; it must give
exactly rich's bytes, which the comparisons below check against the installed rich.
"""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Optional on a check: imported only by what a check of these sources does not do.
HEAVY = ("bs4", "soupsieve", "markdown_it", "feedparser", "lxml", "charset_normalizer",
         "apprise", "rich", "pygments", "click", "markdown", "jinja2", "fastapi",
         "starlette", "uvicorn", "prometheus_client", "apscheduler", "alembic")

CHECK_PATH = ("import monitor.cli, monitor.cli.common, monitor.check.runner, "
              "monitor.check.analyse, monitor.check.pipeline, "
              "monitor.check.persist, monitor.notify.routing, monitor.notify.notifier, "
              "monitor.notify.channels, monitor.notify.messages, monitor.daemon.lifecycle, "
              "config, config.loader, storage.db, storage.models, storage.repo, "
              "triggers, triggers.policy, triggers.review, sources, sources.fetch\n"
              # every registered kind's module and its rule's module, as a check loads them
              "from sources import REGISTRY\n"
              "from triggers.rules import rule_for\n"
              "for kind in REGISTRY:\n"
              "    rule_for(kind)\n")

REPORT = ("import json, sys\n"
          "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & set(%r))))\n")


def _loaded(code: str, printed: list[str] | None = None) -> list[str]:
    """The optional packages in ``sys.modules`` after ``code`` ran (in a new process);
    what it printed before that goes to ``printed``."""
    res = subprocess.run([sys.executable, "-c", code + REPORT % (HEAVY,)],
                         capture_output=True, text=True, cwd=ROOT, check=False,
                         stdin=subprocess.DEVNULL)
    assert res.returncode == 0, res.stderr
    *lines, last = res.stdout.strip().splitlines()
    if printed is not None:
        printed += lines
    return json.loads(last)


def test_the_check_path_imports_no_optional_package() -> None:
    assert _loaded(CHECK_PATH) == []


def test_the_cli_imports_no_optional_package() -> None:
    """Every command registered and the click command built (what ``reassess …`` does
    before it runs one): the commands import what they need when they run. (``--help``
    and usage errors are drawn by typer with rich, which it imports then.)"""
    code = ("from typer.main import get_command\n"
            "from monitor.cli import app\n"
            "assert 'check' in get_command(app).commands\n")
    assert _loaded(code) == []


CONFIG = """\
database: {db}
schedule: {{tick: 1s, jitter: 0}}
vendors:
  - id: acme
    name: Acme AI
    sources:
      - {{id: acme-dpa, kind: page, url: "{site}/acme/dpa", select: main}}
      - {{id: acme-card, kind: model_card, url: "{site}/acme/model-card.md"}}
      - {{id: acme-changelog, kind: changelog, url: "{site}/acme/changelog.atom"}}
      - {{id: acme-status, kind: incidents, url: "{site}/acme/status/history.atom"}}
      - {{id: acme-subprocessors, kind: subprocessors, url: "{site}/acme/subprocessors"}}
  - id: northwind
    name: Northwind Models
    sources:
      - {{id: northwind-card, kind: model_card, url: "{site}/northwind/model-card"}}
"""


@pytest.mark.slow
def test_a_not_modified_check_imports_no_optional_package(site: Any, sqlite_url: str,
                                                          make_config: Any) -> None:
    """The benchmark's case: every source answers 304, nothing is parsed, printed on a
    terminal or sent; the whole ``reassess check`` process loads none of them."""
    config = make_config(CONFIG, db=sqlite_url, site=site.base_url)
    code = ("import sys\n"
            "from monitor.cli import main\n"
            f"sys.argv = ['reassess', 'check', '--config', {str(config)!r}]\n"
            "try:\n"
            "    main()\n"
            "except SystemExit as exc:\n"
            "    assert not exc.code, exc.code\n")
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           cwd=ROOT, check=False, stdin=subprocess.DEVNULL)
    assert first.returncode == 0, first.stderr
    assert "baseline 6" in first.stdout
    printed: list[str] = []
    assert _loaded(code, printed) == []
    assert "unchanged 6" in " ".join(printed)


# -- LazyConsole: rich's answers and bytes, without rich ------------------------------

def _rich_print(text: str, stderr: bool = False, **kwargs: Any) -> str:
    from rich.console import Console

    buf = io.StringIO()
    with redirect_stderr(buf) if stderr else redirect_stdout(buf):
        Console(stderr=stderr, highlight=False).print(text, **kwargs)
    return buf.getvalue()


def _lazy_print(text: str, stderr: bool = False, **kwargs: Any) -> tuple[str, bool]:
    from monitor.cli.common import LazyConsole

    console = LazyConsole(stderr=stderr)
    buf = io.StringIO()
    with redirect_stderr(buf) if stderr else redirect_stdout(buf):
        console.print(text, **kwargs)
    return buf.getvalue(), console._console is None


SUMMARY = ("checked 1000, changed 0, unchanged 1000, baseline 0, held 0, failed 0, "
           "triggers fired 0")


@pytest.mark.parametrize("columns", ["80", "40", "200", "7"])
@pytest.mark.parametrize("text", [
    SUMMARY, "notifications: sent 1, retrying 0, failed 0, digests 0", "", "short",
    "  spaced   out  ", "x" * 79, "x" * 80, "x" * 81, "a [b] c", "a :smile: b",
    "tab\there", "naïve café", "two\nlines", "No triggers match.",
])
@pytest.mark.parametrize("kwargs", [{}, {"markup": False}, {"soft_wrap": True}])
def test_lazy_console_prints_what_rich_prints(text: str, columns: str, kwargs: dict[str, Any],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    for var in ("FORCE_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(var, raising=False)
    for stderr in (False, True):
        got, _ = _lazy_print(text, stderr, **kwargs)
        assert got == _rich_print(text, stderr, **kwargs)
    if text in (SUMMARY, "short", "") and int(columns) >= 20:
        assert _lazy_print(text, **kwargs)[1]  # printed without rich


def test_lazy_console_wraps_as_rich_does(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(8)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    plain = 0
    for _ in range(1500):
        width = rng.choice([6, 10, 20, 33, 80])
        monkeypatch.setenv("COLUMNS", str(width))
        text = "".join(rng.choice("abcdefgh   -,.()!?/'") for _ in range(rng.randint(0, 140)))
        got, was_plain = _lazy_print(text, markup=False)
        assert got == _rich_print(text, markup=False), (text, width)
        plain += was_plain
    assert plain > 700  # the comparison is of the plain path, mostly


def test_lazy_console_knows_a_terminal_as_rich_does(monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    from monitor.cli.common import LazyConsole

    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    leader, follower = os.openpty()
    with os.fdopen(follower, "w") as tty, os.fdopen(leader, "rb", buffering=0):
        for stream in (io.StringIO(), tty):
            monkeypatch.setattr(sys, "stdout", stream)
            lazy = LazyConsole()
            assert lazy.is_terminal == Console().is_terminal == (stream is tty)
            assert lazy._console is None
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich's own rules: asked of rich
    lazy = LazyConsole()
    assert lazy.is_terminal is Console().is_terminal is True
    assert lazy._console is not None


def test_lazy_console_is_a_console_for_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables, rules and a progress bar (entered as a context) go to a real Console."""
    from rich.progress import Progress
    from rich.table import Table

    from monitor.cli.common import LazyConsole

    monkeypatch.setenv("COLUMNS", "60")
    buf = io.StringIO()
    with redirect_stdout(buf):
        console: Any = LazyConsole()
        table = Table()
        table.add_column("id")
        table.add_row("1")
        console.print(table)
        console.rule("kind")
        with Progress(console=console, transient=True) as bar:
            bar.add_task("x", total=1)
        console.print("after")
    text = buf.getvalue()
    assert "id" in text and "kind" in text and text.endswith("after\n")


# -- the registries load a kind's modules on first use -----------------------------------

def test_registries_import_a_kind_on_first_use() -> None:
    code = ("import sys\n"
            "from sources import REGISTRY, get_kind\n"
            "from triggers.rules import KIND_RULES\n"
            "kinds = list(REGISTRY)\n"
            "assert kinds and len(set(kinds)) == len(kinds)\n"
            "assert set(KIND_RULES) == set(REGISTRY) and kinds[0] in REGISTRY\n"
            "assert not any('sources.' + k in sys.modules for k in kinds)\n"
            "assert not [m for m in sys.modules if m.startswith('triggers.')\n"
            "            and m not in ('triggers.events', 'triggers.rules')]\n"
            "first, *rest = kinds\n"
            "assert get_kind(first).NAME == first and 'sources.' + first in sys.modules\n"
            "assert not any('sources.' + k in sys.modules for k in rest)\n"
            "KIND_RULES[first]\n"
            "assert not any('sources.' + k in sys.modules for k in rest)\n"
            "try:\n"
            "    get_kind('nope')\n"
            "except KeyError as exc:\n"
            "    assert 'valid kinds: ' + ', '.join(sorted(kinds)) in str(exc)\n"
            "else:\n"
            "    raise AssertionError('no KeyError')\n")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
