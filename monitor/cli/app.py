"""The ``reassess`` command line (Typer + Rich).

Exit codes: 0 ok; 1 findings or failures a script would want to know about; 2 bad usage
or bad configuration, with a message naming the file, the line and the fix.
"""

from __future__ import annotations

import csv
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from config import CONFIG_DIR
from sources import REGISTRY

from .common import ConfigOption, fail, get_config, get_engine, out

app = typer.Typer(
    name="reassess", no_args_is_help=True, add_completion=False,
    help="Watch AI vendors' models, capabilities, subprocessors and incidents; flag the "
         "assessments a change affects, and tell their owners.",
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False)


@app.command()
def init(path: Path = typer.Argument(Path("reassess.yaml"), help="Where to write the config."),
         force: bool = typer.Option(False, "--force", help="Overwrite an existing file.")) -> None:
    """Write a commented starter configuration."""
    if path.exists() and not force:
        fail(f"{path} exists; use --force to overwrite it", 2)
    path.write_text((CONFIG_DIR / "starter.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    out.print(f"Wrote {path}. Next: edit it, then `reassess validate --config {path}` and "
              f"`reassess check --config {path}`.")


@app.command()
def validate(config: Path = ConfigOption) -> None:
    """Check a configuration file; exit 2 with file, line and fix when it is wrong."""
    cfg = get_config(config)
    n_sources = sum(len(v.sources) for v in cfg.vendors)
    out.print(f"OK: {len(cfg.vendors)} vendors, {n_sources} sources, "
              f"{len(cfg.assessments)} assessments, {len(cfg.channels)} channels, "
              f"{len(cfg.rules)} rules")


@app.command()
def kinds() -> None:
    """Describe each source kind: formats, what counts as a change, triggers fired."""
    for name, module in sorted(REGISTRY.items()):
        out.rule(f"[bold]{name}[/bold]")
        out.print((module.__doc__ or "").strip(), markup=False)
        out.print()


def prefork() -> None:
    """Fork the parse workers before the config and the database are read
    (``monitor/parsing.py``); the checker takes them over."""
    from monitor.check.parsing import prefork as fork_workers

    fork_workers()


@app.command()
def check(config: Path = ConfigOption,
          vendor: list[str] = typer.Option([], "--vendor", help="Only this vendor (repeatable)."),
          source: list[str] = typer.Option([], "--source", help="Only this source (repeatable)."),
          notify: bool = typer.Option(True, "--notify/--no-notify",
                                      help="Deliver the notifications this pass produced.")
          ) -> None:
    """Check sources once, now; exit 1 if any source failed."""
    from monitor.check.runner import run_check

    if not source:
        prefork()
    cfg = get_config(config)
    known_v = {v.id for v in cfg.vendors}
    for v in vendor:
        if v not in known_v:
            fail(f"no vendor {v!r} in the config (known: {', '.join(sorted(known_v))})", 2)
    known_s = {s.id for _, s in cfg.sources()}
    for s in source:
        if s not in known_s:
            fail(f"no source {s!r} in the config (known: {', '.join(sorted(known_s))})", 2)
    ids = [s.id for v, s in cfg.sources() if s.enabled
           and (not vendor or v.id in vendor) and (not source or s.id in source)]
    engine = get_engine(cfg)
    try:
        summary = run_check(cfg, engine, ids, notify=notify, steady=True)
    except Exception as exc:  # the database's trouble: one line, exit 1, no traceback
        from storage.db import storage_problem

        problem = storage_problem(exc)
        if problem is None:
            raise
        fail(str(problem), 1)
    raise typer.Exit(1 if summary.failed else 0)


def _when(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except ValueError:
        fail(f"{name} {value!r} is not a date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM", 2)


@app.command("triggers")
def triggers_cmd(config: Path = ConfigOption,
                 as_json: bool = typer.Option(False, "--json", help="Print a JSON array."),
                 as_csv: bool = typer.Option(False, "--csv", help="Print CSV with a header."),
                 vendor: str | None = typer.Option(None, "--vendor"),
                 type_: str | None = typer.Option(None, "--type", help="Trigger type."),
                 severity: str | None = typer.Option(None, "--severity"),
                 status: str | None = typer.Option(None, "--status",
                                                   help="open, acknowledged or suppressed."),
                 since: str | None = typer.Option(None, "--since", help="YYYY-MM-DD[THH:MM]"),
                 until: str | None = typer.Option(None, "--until", help="YYYY-MM-DD[THH:MM]"),
                 limit: int = typer.Option(100, "--limit", min=1, help="At most this many."),
                 offset: int = typer.Option(0, "--offset", min=0)) -> None:
    """Trigger history, newest first, with filters."""
    from storage.db import session_scope
    from storage.queries import TriggerFilter, flags_by_trigger, list_triggers, trigger_dict
    from triggers.events import SEVERITIES, TRIGGER_TYPES

    if type_ and type_ not in TRIGGER_TYPES:
        fail(f"--type {type_!r} is not a trigger type; valid: {', '.join(TRIGGER_TYPES)}", 2)
    if severity and severity not in SEVERITIES:
        fail(f"--severity {severity!r} is not valid; valid: {', '.join(SEVERITIES)}", 2)
    if status and status not in ("open", "acknowledged", "suppressed"):
        fail(f"--status {status!r} is not valid; valid: open, acknowledged, suppressed", 2)
    cfg = get_config(config)
    flt = TriggerFilter(vendor=vendor, type=type_, severity=severity, status=status,
                        since=_when(since, "--since"), until=_when(until, "--until"))
    with session_scope(get_engine(cfg)) as session:
        rows = list_triggers(session, flt, limit=limit, offset=offset)
        flags = flags_by_trigger(session, [r.id for r in rows if r.id is not None])
        items = [trigger_dict(r, flags.get(r.id or 0)) for r in rows]
    _print_triggers(items, as_json, as_csv)


CSV_FIELDS = ("id", "created_at", "type", "severity", "status", "vendor", "source", "title",
              "entities", "assessments")


def _print_triggers(items: list[dict[str, Any]], as_json: bool, as_csv: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(items, indent=2) + "\n")
        return
    if as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(CSV_FIELDS)
        for item in items:
            writer.writerow([";".join(item[f]) if isinstance(item[f], list) else item[f]
                             for f in CSV_FIELDS])
        return
    if not items:
        out.print("No triggers match.")
        return
    from rich.table import Table

    table = Table(show_lines=False)
    for col in ("id", "when", "type", "severity", "status", "vendor", "title"):
        table.add_column(col)
    for item in items:
        table.add_row(str(item["id"]), (item["created_at"] or "")[:16], item["type"],
                      item["severity"], item["status"], item["vendor"], item["title"])
    out.print(table)


@app.command()
def diff(kind: str | None = typer.Option(None, "--kind",
                                         help=f"One of: {', '.join(sorted(REGISTRY))}."),
         old: Path = typer.Argument(..., exists=True, dir_okay=False, help="The old document."),
         new: Path = typer.Argument(..., exists=True, dir_okay=False, help="The new document."),
         as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
         settings: str | None = typer.Option(None, "--settings",
                                             help='Source options as JSON, e.g. '
                                                  '\'{"select": "main"}\'.'),
         config: Path | None = typer.Option(None, "--config", "-c",
                                            help="Apply this configuration's rules: too."),
         source: str | None = typer.Option(None, "--source",
                                           help="Diff as this source of --config: its kind, "
                                                "options, vendor and id."),
         exit_code: bool = typer.Option(False, "--exit-code",
                                        help="Exit 1 when the documents differ (like git).")
         ) -> None:
    """Parse, diff and fire on two files, offline: the daemon's rules, the same triggers."""
    from pydantic import ValidationError

    from triggers.offline import diff_bodies

    try:
        opts = json.loads(settings) if settings else {}
    except ValueError as exc:
        fail(f"bad --settings: {exc}", 2)
    where = _diff_context(kind, config, source, opts)
    try:
        result = diff_bodies(where.pop("kind"), old.read_bytes(), new.read_bytes(), **where)
    except (ValueError, ValidationError) as exc:
        fail(f"bad --settings: {exc}", 2)
    summary = result.pop("summary")
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    else:
        _print_diff(result, summary)
    raise typer.Exit(1 if exit_code and result["changed"] else 0)


def _diff_context(kind: str | None, config: Path | None, source: str | None,
                  settings: dict[str, Any]) -> dict[str, Any]:
    """``diff_bodies``' arguments: from the options, or from a configured source."""
    if source is not None and config is None:
        fail("--source names a source of a configuration: add --config FILE", 2)
    if kind is not None and kind not in REGISTRY:
        fail(f"--kind {kind!r} is not a source kind; valid: {', '.join(sorted(REGISTRY))}", 2)
    where: dict[str, Any] = {"kind": kind, "settings": settings}
    if config is not None:
        from triggers.policy import Policy

        cfg = get_config(config)
        where["policy"] = Policy.build(cfg.rules)
        if source is not None:
            found = {s.id: (v, s) for v, s in cfg.sources()}
            if source not in found:
                fail(f"no source {source!r} in {config} (known: {', '.join(sorted(found))})", 2)
            vendor, sc = found[source]
            if kind is not None and kind != sc.kind:
                fail(f"--kind {kind!r} differs from source {source!r}'s kind {sc.kind!r}", 2)
            where.update(kind=sc.kind, settings={**sc.settings(), **settings},
                         vendor_id=vendor.id, vendor_name=vendor.name, source_id=sc.id)
    if where["kind"] is None:
        fail("say which kind the documents are: --kind KIND (or --config FILE --source ID)",
             2)
    return where


def _print_diff(result: dict[str, Any], summary: list[str]) -> None:
    if not result["changed"]:
        out.print("No meaningful change.")
        return
    out.print(f"{len(summary)} change(s):", markup=False)
    for line in summary:
        out.print(f"  {line}", markup=False)
    if result["suspect"]:
        out.print(f"Suspect new document ({result['reason']}): no trigger fires until it "
                  "is seen again.", markup=False)
    elif result["triggers"]:
        out.print("Triggers:")
        for t in result["triggers"]:
            out.print(f"  [{t['severity']}] {t['type']}: {t['title']}", markup=False)
    else:
        out.print("No re-assessment trigger.")


@app.command()
def run(config: Path = ConfigOption,
        log_format: str = typer.Option("text", "--log-format", help="text or json."),
        web: bool = typer.Option(True, "--web/--no-web", help="Serve the web UI too.")) -> None:
    """Run the daemon: scheduled checks, notifications and the web UI."""
    from monitor.daemon.daemon import run_daemon

    if log_format not in ("text", "json"):
        fail("--log-format is text or json", 2)
    prefork()
    path = config
    cfg = get_config(path)
    raise typer.Exit(run_daemon(cfg, config_file=path, log_format=log_format, web=web))


@app.command()
def demo(port: int = typer.Option(8765, "--port", help="Port of the simulated vendor site."),
         every: str = typer.Option("20s", "--every", help="How often the site changes."),
         database: str = typer.Option("sqlite:///reassess-demo.db", "--database",
                                      help="Where the demo keeps its history.")) -> None:
    """Start the simulated vendor site and the daemon on the demo config."""
    from monitor.demo.run import run_demo

    raise typer.Exit(run_demo(port=port, every=every, database=database))


def _register_extensions() -> None:
    """Commands that live beside their feature (assessments, notifications, web)."""
    from . import assess, notify, web

    for module in (assess, notify, web):
        module.register(app)


_register_extensions()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
