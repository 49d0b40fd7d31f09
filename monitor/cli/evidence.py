"""Evidence commands: ``verify`` (the hash chain), ``evidence export`` / ``evidence
verify`` (bundles, OSCAL) and ``deadlines``; see docs/evidence.md."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer

from .common import ConfigOption, fail, get_config, get_engine, out

evidence_app = typer.Typer(name="evidence", no_args_is_help=True, add_completion=False,
                           help="Evidence bundles an auditor can check offline.",
                           context_settings={"help_option_names": ["-h", "--help"]},
                           rich_markup_mode=None)


def _when(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        fail(f"{name} {value!r} is not a date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM", 2)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def register(app: typer.Typer) -> None:
    app.command("verify")(verify)
    app.command("deadlines")(deadlines)
    app.add_typer(evidence_app)


def verify(config: Path = ConfigOption,
           as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
           workers: int | None = typer.Option(
               None, "--workers", min=1, max=64,
               help="Processes hashing a large history (default: one per CPU from 4 CPUs "
                    "on, else 1).")) -> None:
    """Walk the hash chain and every chained row; exit 1 naming the first that does not
    match."""
    from storage.verify import verify as walk

    cfg = get_config(config)
    verdict = walk(get_engine(cfg), workers=workers)
    if as_json:
        sys.stdout.write(json.dumps(verdict.to_dict(), indent=2) + "\n")
    elif verdict.ok:
        out.print(f"OK: {verdict.records} chain records and {verdict.rows} rows match; head "
                  f"{verdict.head_seq} {verdict.head_hash}", markup=False)
    else:
        first = verdict.first()
        out.print(f"TAMPERED: {first.line() if first else 'the chain'} "
                  f"({verdict.problem_count} problem(s) in all)", markup=False)
    raise typer.Exit(0 if verdict.ok else 1)


@evidence_app.command("export")
def export(config: Path = ConfigOption,
           assessment: str | None = typer.Option(None, "--assessment",
                                                 help="The triggers that flagged it."),
           vendor: str | None = typer.Option(None, "--vendor", help="The vendor's triggers."),
           since: str | None = typer.Option(None, "--since", help="YYYY-MM-DD[THH:MM]"),
           until: str | None = typer.Option(None, "--until", help="YYYY-MM-DD[THH:MM]"),
           fmt: str = typer.Option("zip", "--format", help="zip (the bundle) or oscal."),
           out_path: Path = typer.Option(..., "--out", help="FILE.zip or FILE.json.")
           ) -> None:
    """Write an evidence bundle (zip) or OSCAL assessment results (json)."""
    from monitor.evidence.bundle import Scope, collect, write_zip
    from monitor.evidence.oscal import write_oscal

    if (assessment is None) == (vendor is None):
        fail("say what to export: --assessment ID or --vendor ID (one of them)", 2)
    if fmt not in ("zip", "oscal"):
        fail("--format is zip or oscal", 2)
    cfg = get_config(config)
    if vendor is not None and vendor not in {v.id for v in cfg.vendors}:
        fail(f"no vendor {vendor!r} in the config", 2)
    if assessment is not None and assessment not in {a.id for a in cfg.assessments}:
        fail(f"no assessment {assessment!r} in the config", 2)
    end = _when(until, "--until")
    if end is not None and until is not None and len(until) == 10:  # a day: all of it
        end += timedelta(days=1) - timedelta(microseconds=1)
    scope = Scope(assessment=assessment, vendor=vendor, since=_when(since, "--since"),
                  until=end)
    evidence = collect(cfg, get_engine(cfg), scope)
    if fmt == "oscal":
        write_oscal(evidence, out_path)
    else:
        write_zip(evidence, out_path)
    out.print(f"Wrote {out_path}: {len(evidence.triggers)} trigger(s), "
              f"{len(evidence.snapshots)} snapshot(s), {len(evidence.audits)} lifecycle "
              f"event(s), chain records {evidence.first_seq}–{evidence.last_seq}",
              markup=False)


@evidence_app.command("verify")
def verify_bundle(path: Path = typer.Argument(..., help="The bundle (FILE.zip).")) -> None:
    """Check a bundle's manifest and chain segment, without a database; exit 1 naming the
    file that does not match."""
    from monitor.evidence.bundle import verify_zip

    problems = verify_zip(path)
    if problems:
        for p in problems[:50]:
            out.print(f"FAILED  {p}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    out.print(f"OK: {path} is complete and unaltered", markup=False)


def deadlines(config: Path = ConfigOption,
              as_json: bool = typer.Option(False, "--json", help="Print a JSON array."),
              all_: bool = typer.Option(False, "--all",
                                        help="Include deadlines of closed triggers.")) -> None:
    """Open deadlines that changes started (objection windows, migrations, notices)."""
    from monitor.clock import utcnow
    from monitor.evidence.deadlines import open_deadlines

    cfg = get_config(config)
    items = open_deadlines(cfg, get_engine(cfg), utcnow(), include_closed=all_)
    if as_json:
        sys.stdout.write(json.dumps(items, indent=2) + "\n")
        return
    if not items:
        out.print("No open deadlines.")
        return
    for d in items:
        late = " PASSED" if d["overdue"] else ""
        out.print(f"{d['due']}{late}  trigger {d['trigger']}  {d['vendor']}  {d['label']}",
                  markup=False, highlight=False, soft_wrap=True)
