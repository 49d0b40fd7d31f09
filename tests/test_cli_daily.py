"""The CLI as an analyst lives with it: an 80-column terminal, pipes, JSON, typing errors.

One database, seeded once by real ``reassess check`` runs against the simulated vendor
site; the commands run as subprocesses, some in a real pseudo-terminal of 80 columns.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, cli

from monitor.demo.vendorsite import VendorSite

CONFIG = """\
database: sqlite:///{db}
vendors:
  - id: acme
    name: Acme AI
    sources:
      - {{id: acme-subprocessors-eu-and-worldwide, kind: subprocessors,
          url: "{site}/acme/subprocessors"}}
      - {{id: acme-status, kind: incidents, url: "{site}/acme/status/history.atom"}}
      - {{id: acme-dpa, kind: page, url: "{site}/acme/dpa", select: main}}
  - id: northwind
    name: Northwind Models
    sources:
      - {{id: northwind-changelog, kind: changelog, url: "{site}/northwind/changelog.md"}}
      - {{id: northwind-gone, kind: page, url: "{site}/northwind/nothing-here"}}
assessments:
  - id: acme-customer-support-assistant-eu
    vendor: acme
    system: Customer-support assistant for the European customer base
    disposition: approved_with_conditions
    assessed: 2025-01-10
    review_every: 12 months
  - id: northwind-summaries
    vendor: northwind
    disposition: pending
"""


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    site = VendorSite(vendors=["acme", "northwind"])
    site.start(host="127.0.0.1", port=0)
    tmp = tmp_path_factory.mktemp("cli")
    path = tmp / "reassess.yaml"
    path.write_text(CONFIG.format(db=tmp / "r.db", site=site.base_url), encoding="utf-8")
    try:
        assert cli("check", "--no-notify", "-c", str(path)).returncode == 1  # one 404
        site.control("acme", "add_subprocessor", name="Cohere Inc.", purpose="LLM inference",
                     location="Canada")
        site.control("acme", "add_incident", impact="critical", title=(
            "Elevated error rates on the Chat API for enterprise customers in the EU "
            "region while a configuration change is rolled back"))
        site.control("acme", "set_dpa", retention_days=7)
        cli("check", "--no-notify", "-c", str(path))
        yield path
    finally:
        site.stop()


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return cli(*args)


def ok(*args: str) -> str:
    res = run(*args)
    assert res.returncode == 0, (res.stdout, res.stderr)
    return res.stdout


def in_terminal(*args: str, columns: int = 80) -> str:
    """``reassess ARGS`` with stdout on a real pseudo-terminal of ``columns`` columns."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": str(columns), "LINES": "50", "NO_COLOR": "1",
           "TERM": "dumb"}
    proc = subprocess.Popen([sys.executable, "-m", "monitor.cli", *args], stdout=follower,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env,
                            cwd=ROOT)
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 1.0)
        if ready:
            try:
                data = os.read(leader, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(leader)
    code = proc.wait(timeout=30)
    assert proc.stderr is not None
    with proc.stderr:
        errors = proc.stderr.read()
    assert code == 0, errors
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def test_version() -> None:
    out = ok("--version")
    assert out.startswith("reassess ") and out.split()[1][0].isdigit()


def test_sources_json_has_the_documented_keys(seeded: Path) -> None:
    items = json.loads(ok("sources", "--json", "-c", str(seeded)))
    keys = ["id", "vendor", "kind", "url", "interval", "last_check", "outcome", "failures",
            "next_due"]
    assert [list(i) for i in items] == [keys] * 5
    by_id = {i["id"]: i for i in items}
    gone = by_id["northwind-gone"]
    assert gone["outcome"] == "failed" and gone["failures"] == 2
    dpa = by_id["acme-dpa"]
    assert dpa["kind"] == "page" and dpa["outcome"] == "changed" and dpa["failures"] == 0
    assert dpa["interval"] == 6 * 3600  # the page kind's own default, in seconds
    assert dpa["last_check"].endswith("Z") and dpa["next_due"] > dpa["last_check"]


def test_tables_are_plain_in_a_pipe(seeded: Path) -> None:
    """Not a terminal: a header, then tab-separated lines with every value in full."""
    for args, first in ((("sources",), "id"), (("triggers",), "id"),
                        (("assessments",), "id")):
        out = ok(*args, "-c", str(seeded))
        lines = out.splitlines()
        header = lines[0].split("\t")
        assert header[0] == first and len(header) > 4
        assert all(len(line.split("\t")) == len(header) for line in lines[1:]), out
        assert "━" not in out and "─" not in out
        if args != ("triggers",):  # a trigger's title may quote a clause cut with "…" itself
            assert "…" not in out
    triggers = ok("triggers", "-c", str(seeded)).splitlines()
    titles = [line.split("\t")[6] for line in triggers[1:]]
    assert any("while a configuration change is rolled back" in t for t in titles), titles
    stored = [t["title"] for t in json.loads(ok("triggers", "--json", "-c", str(seeded)))]
    assert sorted(titles) == sorted(stored)  # every title whole, as stored
    assessments = ok("assessments", "--plain", "-c", str(seeded))
    assert "acme-customer-support-assistant-eu\tacme\t" in assessments


def test_an_80_column_terminal_keeps_ids_whole_and_rows_on_one_line(seeded: Path) -> None:
    screens = {name: in_terminal(name, "-c", str(seeded))
               for name in ("triggers", "assessments", "sources")}
    for name, screen in screens.items():
        lines = [line for line in screen.splitlines() if line.strip()]
        assert all(len(line) <= 80 for line in lines), (name, screen)
    assert "acme-customer-support-assistant-eu " in screens["assessments"]
    assert "acme-subprocessors-eu-and-worldwide " in screens["sources"]
    # one line per trigger: as many lines starting with an id as triggers
    items = json.loads(ok("triggers", "--json", "-c", str(seeded)))
    rows = [line for line in screens["triggers"].splitlines()
            if line.strip().split(" ")[0].isdigit()]
    assert len(rows) == len(items)
    assert "--plain shows all columns" in screens["triggers"]
    # an overdue review is flagged where the register is shown
    assert "review overdue: acme-customer-support-assistant-eu" in screens["assessments"]


def test_two_formats_at_once_are_refused(seeded: Path) -> None:
    res = run("triggers", "--json", "--csv", "-c", str(seeded))
    assert res.returncode == 2 and "--json and --csv" in res.stderr
    res = run("sources", "--json", "--plain", "-c", str(seeded))
    assert res.returncode == 2


def test_enum_options_ignore_case_and_suggest(seeded: Path) -> None:
    high = json.loads(ok("triggers", "--severity", "HIGH", "--json", "-c", str(seeded)))
    assert high and {t["severity"] for t in high} == {"high"}
    typed = json.loads(ok("triggers", "--type", "Subprocessor-Change", "--json", "-c",
                          str(seeded)))
    assert {t["type"] for t in typed} == {"subprocessor_change"}
    res = run("triggers", "--type", "modelchange", "-c", str(seeded))
    assert res.returncode == 2 and "did you mean 'model_change'" in res.stderr
    res = run("assessments", "--status", "re-review", "-c", str(seeded))
    assert res.returncode == 2 and "did you mean 're_review_required'" in res.stderr
    res = run("resolve", "x", "--note", "n", "--disposition", "Aproved", "-c", str(seeded))
    assert res.returncode == 2 and "did you mean 'approved'" in res.stderr


def test_csv_carries_who_acknowledged(seeded: Path) -> None:
    items = json.loads(ok("triggers", "--json", "-c", str(seeded)))
    ok("ack", str(items[-1]["id"]), "--by", "alice", "-c", str(seeded))
    rows = list(csv.DictReader(io.StringIO(ok("triggers", "--csv", "-c", str(seeded)))))
    acked = [r for r in rows if r["acked_by"]]
    assert [(r["id"], r["acked_by"]) for r in acked] == [(str(items[-1]["id"]), "alice")]
    assert acked[0]["acked_at"].endswith("Z")


def test_show_reads_as_text(seeded: Path) -> None:
    items = json.loads(ok("triggers", "--json", "-c", str(seeded)))
    for item in items:
        out = ok("show", str(item["id"]), "-c", str(seeded))
        assert "['" not in out and "{'" not in out and "None" not in out, out
        assert ".000" not in out and not any(c + "Z" in out for c in "0123456789"), out
        assert " UTC" in out and item["title"].split()[0] in out


def test_kinds_and_validate_read_as_text(seeded: Path) -> None:
    kinds = ok("kinds")
    assert "``" not in kinds and "::\n" not in kinds and "select" in kinds
    assert "OK: 2 vendors, 5 sources, 2 assessments, 0 channels, 0 rules" in ok(
        "validate", "-c", str(seeded))
    one = seeded.parent / "one.yaml"
    one.write_text("vendors:\n  - {id: a, name: A}\n", encoding="utf-8")
    assert "OK: 1 vendor, 0 sources, 0 assessments" in ok("validate", "-c", str(one))


def test_help_names_what_options_take() -> None:
    out = ok("triggers", "--help")
    assert "<bool>" not in out and "<str>" not in out and "<list" not in out
    assert "--since DATE" in out and "--plain" in out


def test_resolve_reports_what_it_closed(seeded: Path) -> None:
    register: Any = json.loads(ok("assessments", "--json", "-c", str(seeded)))
    target = next(a for a in register if a["id"] == "acme-customer-support-assistant-eu")
    assert target["open_triggers"] and target["overdue_days"] > 0
    out = ok("resolve", target["id"], "--note", "checked", "--by", "bob", "-c", str(seeded))
    closed = [int(x) for x in out.split("triggers closed: ")[1].split(";")[0]
              .rstrip(".\n").replace("#", "").split(", ")]
    statuses = {t["id"]: t["status"] for t in json.loads(
        ok("triggers", "--json", "-c", str(seeded)))}
    assert sorted(closed) == sorted(t for t in target["open_triggers"]
                                    if statuses[t] == "resolved")
    assert all(statuses[t] == "resolved" for t in closed)
    again = ok("resolve", target["id"], "--note", "again", "-c", str(seeded))
    assert "already current" in again
