"""The ``reassess`` command line (Typer + Rich).

Exit codes: 0 ok; 1 findings or failures a script would want to know about; 2 bad usage
or bad configuration, with a message naming the file, the line and the fix.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from config import CONFIG_DIR
from sources import REGISTRY

from .common import ConfigOption, fail, get_config, get_engine, out
from .table import (
    Column,
    PlainOption,
    choice,
    field,
    output_mode,
    plural,
    print_rows,
    stamp,
    when,
)

app = typer.Typer(
    name="reassess", no_args_is_help=True, add_completion=False,
    help="Watch AI vendors' models, capabilities, subprocessors and incidents; flag the "
         "assessments a change affects, and tell their owners.",
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False, rich_markup_mode=None)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("reassess")
        except PackageNotFoundError:
            found = "unknown (not installed)"
        out.print(f"reassess {found}", markup=False)
        raise typer.Exit(0)


@app.callback()
def _main(show_version: bool = typer.Option(False, "--version", callback=_version,
                                            is_eager=True, help="Print the version and exit.")
          ) -> None:
    """Watch AI vendors' models, capabilities, subprocessors and incidents; flag the
    assessments a change affects, and tell their owners."""


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
    out.print(f"OK: {plural(len(cfg.vendors), 'vendor')}, {plural(n_sources, 'source')}, "
              f"{plural(len(cfg.assessments), 'assessment')}, "
              f"{plural(len(cfg.channels), 'channel')}, {plural(len(cfg.rules), 'rule')}",
              markup=False)


@app.command()
def kinds() -> None:
    """Describe each source kind: formats, what counts as a change, triggers fired."""
    for name, module in sorted(REGISTRY.items()):
        out.rule(f"[bold]{name}[/bold]")
        out.print(plain_doc(module.__doc__ or ""), markup=False)
        out.print()


def plain_doc(doc: str) -> str:
    """A kind's docstring as plain text: no reStructuredText literals or ``::`` blocks."""
    text = re.sub(r"``([^`]+)``", r"\1", doc.strip())
    return re.sub(r"::(\n)", r":\1", text)


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
        # The trigger counts gain a row per statement that fires on PostgreSQL; a daemon
        # folds them hourly, an install that runs `reassess check` from cron here.
        from storage import counts

        counts.compact(engine)
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
                 plain: bool = PlainOption,
                 vendor: str | None = typer.Option(None, "--vendor"),
                 type_: str | None = typer.Option(None, "--type", help="Trigger type."),
                 severity: str | None = typer.Option(None, "--severity",
                                                     help="low, medium, high or critical."),
                 status: str | None = typer.Option(
                     None, "--status", help="open, acknowledged, resolved or suppressed."),
                 source: str | None = typer.Option(None, "--source", help="Source id."),
                 since: str | None = typer.Option(None, "--since", help="YYYY-MM-DD[THH:MM]"),
                 until: str | None = typer.Option(None, "--until", help="YYYY-MM-DD[THH:MM]"),
                 limit: int = typer.Option(100, "--limit", min=1, help="At most this many."),
                 offset: int = typer.Option(0, "--offset", min=0)) -> None:
    """Trigger history, newest first, with filters."""
    from storage.db import session_scope
    from storage.lifecycle import TRIGGER_STATUSES
    from storage.queries import TriggerFilter, flags_by_trigger, list_triggers, trigger_dict
    from triggers.events import SEVERITIES, TRIGGER_TYPES

    mode = output_mode(plain=plain, as_json=as_json, as_csv=as_csv)
    type_ = choice(type_, TRIGGER_TYPES, "--type")
    severity = choice(severity, SEVERITIES, "--severity")
    status = choice(status, TRIGGER_STATUSES, "--status")
    cfg = get_config(config)
    flt = TriggerFilter(vendor=vendor, type=type_, severity=severity, status=status,
                        source=source, since=_when(since, "--since"),
                        until=_when(until, "--until"))
    with session_scope(get_engine(cfg)) as session:
        rows = list_triggers(session, flt, limit=limit, offset=offset)
        flags = flags_by_trigger(session, [r.id for r in rows if r.id is not None])
        items = [trigger_dict(r, flags.get(r.id or 0)) for r in rows]
    for item in items:
        item["controls"] = cfg.controls_for(item["type"], item["source"], item["severity"])
    _print_triggers(items, mode)


CSV_FIELDS = ("id", "created_at", "type", "severity", "status", "vendor", "source", "title",
              "entities", "assessments", "acked_by", "acked_at")

TRIGGER_COLUMNS = (
    Column("id", field("id"), right=True),
    Column("when", lambda t: when(t["created_at"], short=True),
           full=lambda t: stamp(t["created_at"])),
    Column("severity", field("severity")),
    Column("type", field("type"), drop=3),
    Column("status", field("status"), drop=2),
    Column("vendor", field("vendor"), drop=4),
    Column("title", field("title"), fold=True),
    Column("source", field("source"), drop=6),
    Column("assessments", field("assessments"), drop=5),
)


def _print_triggers(items: list[dict[str, Any]], mode: str) -> None:
    if mode == "json":
        sys.stdout.write(json.dumps(items, indent=2) + "\n")
        return
    if mode == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(CSV_FIELDS)
        for item in items:
            writer.writerow([";".join(item[f]) if isinstance(item[f], list) else item[f]
                             for f in CSV_FIELDS])
        return
    print_rows(items, TRIGGER_COLUMNS, mode, "No triggers match.")


SOURCE_COLUMNS = (
    Column("id", field("id")),
    Column("vendor", field("vendor"), drop=3),
    Column("kind", field("kind")),
    Column("every", lambda s: _every(s["interval"])),
    Column("last check", lambda s: when(s["last_check"], short=True), drop=2,
           full=field("last_check")),
    Column("outcome", field("outcome")),
    Column("fails", field("failures"), right=True),
    Column("next due", lambda s: when(s["next_due"], short=True), drop=1,
           full=field("next_due")),
    Column("url", field("url"), drop=4),
)


def _every(seconds: float) -> str:
    from config.durations import format_duration

    return format_duration(seconds)


@app.command("sources")
def sources_cmd(config: Path = ConfigOption,
                as_json: bool = typer.Option(False, "--json", help="Print a JSON array."),
                plain: bool = PlainOption,
                vendor: str | None = typer.Option(None, "--vendor", help="Only this vendor.")
                ) -> None:
    """Every source and its health: kind, interval, last check, outcome, failures, next due.

    With --json: an array of objects with the keys id, vendor, kind, url, interval
    (seconds), last_check, outcome, failures and next_due (UTC, ISO 8601)."""
    from sqlalchemy import select

    from storage.db import session_scope
    from storage.models import Source

    mode = output_mode(plain=plain, as_json=as_json)
    cfg = get_config(config)
    if vendor is not None and vendor not in {v.id for v in cfg.vendors}:
        fail(f"no vendor {vendor!r} in the config (known: "
             f"{', '.join(sorted(v.id for v in cfg.vendors))})", 2)
    with session_scope(get_engine(cfg)) as session:
        state = {s.id: s for s in session.execute(select(Source)).scalars()}
    items = [_source_item(cfg.interval_for(v, s), v.id, s.id, s.kind, s.url, s.enabled,
                          state.get(s.id)) for v, s in cfg.sources()
             if vendor is None or v.id == vendor]
    if mode == "json":
        sys.stdout.write(json.dumps(items, indent=2) + "\n")
        return
    print_rows(items, SOURCE_COLUMNS, mode, "No sources. Add them under a vendor's sources:.")


def _source_item(interval: float, vendor: str, source_id: str, kind: str, url: str,
                 enabled: bool, row: Any) -> dict[str, Any]:
    checked = row is not None and row.last_checked_at is not None
    return {"id": source_id, "vendor": vendor, "kind": kind, "url": url,
            "interval": int(interval) if float(interval).is_integer() else interval,
            "last_check": stamp_of(row.last_checked_at) if checked else None,
            "outcome": (row.last_outcome if checked else "never checked") if enabled
            else "disabled",
            "failures": row.consecutive_failures if row is not None else 0,
            "next_due": stamp_of(row.next_due_at) if row is not None and enabled else None}


def stamp_of(value: datetime | None) -> str | None:
    """A stored time as ISO 8601 UTC to the second, with a ``Z``."""
    if value is None:
        return None
    found = value if value.tzinfo else value.replace(tzinfo=UTC)
    return found.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
                                        help="Exit 1 when the documents differ (like git)."),
         names: str | None = typer.Option(None, "--names",
                                          help="The names the vendor goes by, comma-separated "
                                               "(an incidents source with match_names: true "
                                               "keeps the reports naming one).")
         ) -> None:
    """Parse, diff and fire on two files, offline: the daemon's rules, the same triggers."""
    from pydantic import ValidationError

    from triggers.offline import diff_bodies

    try:
        opts = json.loads(settings) if settings else {}
    except ValueError as exc:
        fail(f"bad --settings: {exc}", 2)
    where = _diff_context(kind, config, source, opts)
    if names is not None:
        where["names"] = [n.strip() for n in names.split(",") if n.strip()]
    try:
        kind = where.pop("kind")
        result = diff_bodies(kind, old.read_bytes(), new.read_bytes(), **where)
    except (ValueError, ValidationError) as exc:
        fail(f"bad --settings: {exc}", 2)
    summary = result.pop("summary")
    if as_json:
        _with_controls(result, config, kind)
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    else:
        _print_diff(result, summary)
    raise typer.Exit(1 if exit_code and result["changed"] else 0)


def _with_controls(result: dict[str, Any], config: Path | None, kind: str | None) -> None:
    """Each trigger's ``controls``: the configuration's mapping, or the shipped one."""
    from triggers.controls import default_mapping

    mapping = get_config(config).control_map() if config is not None else default_mapping()
    for t in result.get("triggers") or []:
        t["controls"] = mapping.for_trigger(t["type"], kind, t["severity"])


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
                         vendor_id=vendor.id, vendor_name=vendor.name, source_id=sc.id,
                         names=[vendor.name, *vendor.aliases])
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
def demo(port: int | None = typer.Option(None, "--port", min=1, max=65535,
                                         help="Port of the simulated vendor site "
                                              "(default 8765)."),
         web_port: int | None = typer.Option(None, "--web-port", min=1, max=65535,
                                             help="Port of the web UI (default 8080)."),
         notify_port: int | None = typer.Option(None, "--notify-port", min=1, max=65535,
                                                help="Port of the demo's notification "
                                                     "receiver (default 8766)."),
         every: str = typer.Option("20s", "--every", help="How often the site changes."),
         database: str | None = typer.Option(None, "--database",
                                             help="Where the demo keeps its history "
                                                  "(default sqlite:///reassess-demo.db).")
         ) -> None:
    """Start the simulated vendor site and the daemon on ./reassess-demo.yaml."""
    from monitor.demo.run import run_demo

    raise typer.Exit(run_demo(port=port, web_port=web_port, notify_port=notify_port,
                              every=every, database=database))


def _register_extensions() -> None:
    """Commands that live beside their feature (assessments, notifications, web)."""
    from . import assess, catalog, evidence, notify, web

    for module in (assess, catalog, notify, web, evidence):
        module.register(app)


_register_extensions()


METAVARS = {"config": "FILE", "type_": "TYPE", "since": "DATE", "until": "DATE",
            "assessed": "DATE", "limit": "N", "offset": "N", "every": "DURATION",
            "port": "PORT", "web_port": "PORT", "ids": "ID", "assessment": "ID",
            "out_path": "FILE", "fmt": "zip|oscal"}


def _name_metavars(command: Any) -> None:
    """Help names what an option takes (``--vendor ID``), not its Python type."""
    for sub in getattr(command, "commands", {}).values():
        _name_metavars(sub)
    for param in command.params:
        if getattr(param, "param_type_name", "") != "option" or param.is_flag or param.count:
            continue
        name = param.name or ""
        param.metavar = METAVARS.get(name) or ("ID" if name in ("vendor", "source", "channel")
                                               else name.upper())


def main() -> None:
    command = typer.main.get_command(app)
    _name_metavars(command)
    command(prog_name="reassess")


if __name__ == "__main__":
    main()
