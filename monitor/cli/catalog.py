"""The vendor catalog's commands: ``catalog`` (list), ``catalog verify``, ``add``.

The catalog is data (``config/catalog/<vendor>.yaml``, see ``config/catalog``); these
commands list it, fetch every preset URL to see it still answers and still parses as its
kind, and append a vendor's public sources to a config file without disturbing the rest.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import typer

from config.catalog import (
    CatalogError,
    CatalogSource,
    CatalogVendor,
    find_vendor,
    load_catalog,
)

from .common import ConfigOption, config_path, fail, out
from .table import Column, field, plural, print_rows

catalog_app = typer.Typer(
    name="catalog", invoke_without_command=True, no_args_is_help=False,
    help="List the vendor catalog: presets of AI vendors' public sources.",
    context_settings={"help_option_names": ["-h", "--help"]})

CatalogOption = typer.Option(
    None, "--catalog", envvar="REASSESS_CATALOG", show_default=False,
    help="A catalog directory of <vendor>.yaml files (default: the shipped catalog).")


def register(app: typer.Typer) -> None:
    app.add_typer(catalog_app)
    app.command("add")(add)


def _load(directory: Path | None) -> list[CatalogVendor]:
    try:
        return load_catalog(directory)
    except CatalogError as exc:
        fail(str(exc), 2)


def _kinds(vendor: CatalogVendor) -> str:
    """The kinds a vendor's presets cover; ``*`` marks one that needs a key or account."""
    seen: dict[str, bool] = {}
    for s in vendor.sources:
        seen[s.kind] = seen.get(s.kind, False) or s.needs is None
    return " ".join(k if public else f"{k}*" for k, public in seen.items())


@catalog_app.callback()
def catalog(ctx: typer.Context,
            as_json: bool = typer.Option(False, "--json", help="A JSON array of vendors."),
            plain: bool = typer.Option(False, "--plain", help="Tab-separated, every value "
                                       "in full (default: a table that fits the width)."),
            directory: Path | None = CatalogOption) -> None:
    """List the vendor catalog (``reassess add VENDOR`` writes one into a config)."""
    if ctx.invoked_subcommand is not None:
        return
    if as_json and plain:
        fail("--json and --plain cannot be combined; choose one output format", 2)
    vendors = _load(directory)
    if as_json:
        sys.stdout.write(json.dumps([v.summary() for v in vendors], indent=2,
                                    ensure_ascii=False) + "\n")
        return
    rows = [{"id": v.id, "name": v.name, "n": len(v.sources), "kinds": _kinds(v)}
            for v in vendors]
    columns = [Column("ID", field("id")), Column("NAME", field("name"), drop=1),
               Column("SRC", field("n"), right=True),
               Column("KINDS (* needs a key)", field("kinds"), fold=True)]
    print_rows(rows, columns, "plain" if plain else "table", "The catalog is empty.")
    if not plain:
        out.print(f"{plural(len(vendors), 'vendor')}. Add one to a config: "
                  f"reassess add VENDOR --config FILE", markup=False)


@dataclass
class Verdict:
    vendor: str
    source: str
    kind: str
    url: str
    status: str  # ok, failed, skipped
    detail: str = ""
    http_status: int | None = None
    items: int | None = None


@catalog_app.command("verify")
def verify(as_json: bool = typer.Option(False, "--json", help="One JSON object."),
           vendor: list[str] = typer.Option([], "--vendor", help="Only this vendor "
                                            "(repeatable)."),
           url: str | None = typer.Option(None, "--base-url", help="Fetch each URL's "
                                               "path from here instead of its own host "
                                               "(a mirror or a test site)."),
           write: bool = typer.Option(False, "--write", help="Write confirmed: <today> into "
                                      "the catalog file of each source that passed."),
           seconds: float = typer.Option(20.0, "--timeout", min=1, max=120,
                                         help="Seconds for one fetch."),
           directory: Path | None = CatalogOption) -> None:
    """Fetch every preset URL; report those that no longer answer or no longer parse as
    their kind (exit 1 if any). A source that needs a key is skipped unless it is set."""
    from config.catalog import catalog_dir, set_confirmed
    from monitor.clock import utcnow

    vendors = _load(directory)
    if vendor:
        try:
            vendors = [find_vendor(vendors, v) for v in vendor]
        except CatalogError as exc:
            fail(str(exc), 2)
    if url is not None and not url.startswith(("http://", "https://")):
        fail("--base-url must start with http:// or https://", 2)
    verdicts = _run_verify(vendors, url, seconds)
    failed = [v for v in verdicts if v.status == "failed"]
    written = 0
    if write:
        today = utcnow().date()
        for v in vendors:
            passed = {x.source: today for x in verdicts if x.vendor == v.id and x.status == "ok"}
            if passed:
                written += set_confirmed(catalog_dir(directory) / f"{v.id}.yaml", passed)
    counts = {s: sum(1 for v in verdicts if v.status == s) for s in ("ok", "failed", "skipped")}
    if as_json:
        sys.stdout.write(json.dumps({**counts, "written": written,
                                     "results": [asdict(v) for v in verdicts]}, indent=2) + "\n")
    else:
        _print_verdicts(verdicts, counts, written if write else None)
    raise typer.Exit(1 if failed else 0)


def _print_verdicts(verdicts: list[Verdict], counts: dict[str, int],
                    written: int | None) -> None:
    columns = [Column("VENDOR", field("vendor")), Column("SOURCE", field("source")),
               Column("KIND", field("kind"), drop=2), Column("RESULT", field("status")),
               Column("DETAIL", field("detail"), fold=True)]
    print_rows([asdict(v) for v in verdicts], columns, "table", "Nothing to verify.")
    summary = f"{counts['ok']} ok, {counts['failed']} failed, {counts['skipped']} skipped"
    if written is not None:
        summary += f"; confirmed written for {plural(written, 'source')}"
    out.print(summary, markup=False)


def _target(url: str, base_url: str | None) -> str:
    if base_url is None:
        return url
    parts = urlsplit(url)
    rest = parts.path + (f"?{parts.query}" if parts.query else "")
    return base_url.rstrip("/") + (rest if rest.startswith("/") else "/" + rest)


def _run_verify(vendors: list[CatalogVendor], base_url: str | None,
                timeout: float) -> list[Verdict]:
    from monitor.check.parsing import ParsePool

    todo: list[tuple[CatalogVendor, CatalogSource]] = []
    verdicts: list[Verdict] = []
    for v in vendors:
        for s in v.sources:
            if s.public or _keys_set(s):
                todo.append((v, s))
                continue
            why = "; ".join([*([f"needs {s.needs}"] if s.needs else []),
                             *([] if s.registered else [f"kind {s.kind} is not in this "
                                                        "version"])])
            verdicts.append(Verdict(v.id, s.id, s.kind, s.url, "skipped", why))
    pool = ParsePool(1 if todo else 0, timeout=30.0)
    if todo:
        pool.start()
    try:
        verdicts += asyncio.run(_verify_all(todo, base_url, timeout, pool))
    finally:
        pool.close()
    order = {(v.id, s.id): i for i, (v, s) in enumerate(
        (v, s) for v in vendors for s in v.sources)}
    return sorted(verdicts, key=lambda x: order[(x.vendor, x.source)])


def _keys_set(source: CatalogSource) -> bool:
    """A keyed source whose headers' ``${VAR}`` are all set here can be verified too (the
    values go only into its request headers, never into the report)."""
    from config.schema import ENV_REF

    names = {m.group(1) for v in source.headers.values() for m in ENV_REF.finditer(v)}
    return source.registered and bool(names) and all(os.environ.get(n) for n in names)


async def _verify_all(todo: list[tuple[CatalogVendor, CatalogSource]], base_url: str | None,
                      timeout: float, pool: Any) -> list[Verdict]:
    from sources.fetch import Fetcher, FetchOptions

    options = FetchOptions(timeout=timeout, retries=1, concurrency=8, per_host=2,
                           max_bytes=10 * 1024 * 1024, retry_after_max=5.0)
    deadline = options.bound(timeout) * max(1, len(todo) // 8 + 1) + 30
    async with Fetcher(options) as fetcher:
        tasks = [asyncio.create_task(_verify_one(fetcher, pool, v, s, base_url))
                 for v, s in todo]
        done, pending = await asyncio.wait(tasks, timeout=deadline) if tasks else (set(), set())
        for task in pending:
            task.cancel()
    results = []
    for task, (v, s) in zip(tasks, todo, strict=True):
        if task in done and not task.cancelled() and task.exception() is None:
            results.append(task.result())
        else:
            results.append(Verdict(v.id, s.id, s.kind, s.url, "failed",
                                   f"not done within {deadline:g}s"))
    return results


async def _verify_one(fetcher: Any, pool: Any, vendor: CatalogVendor, source: CatalogSource,
                      base_url: str | None) -> Verdict:
    from sources import get_kind
    from sources.fetch import FetchRequest
    from sources.guard import suspect

    verdict = Verdict(vendor.id, source.id, source.kind, source.url, "failed")
    result = await fetcher.fetch(FetchRequest(f"{vendor.id}-{source.id}",
                                              _target(source.url, base_url),
                                              headers=_headers(source)))
    verdict.http_status = result.status
    if not result.ok or not result.body:
        verdict.detail = f"does not answer: {result.error or 'empty body'}"
        return verdict
    kind = get_kind(source.kind)
    settings = kind.Settings.model_validate(source.options)
    try:
        doc = await pool.parse(source.kind, settings, result.body)
    except Exception as exc:  # a parse error, a worker past its time: a failure here
        verdict.detail = f"does not parse as {source.kind}: {str(exc)[:200]}"
        return verdict
    why = suspect(kind, None, doc, body=result.body)
    if why is not None:
        verdict.detail = f"not a {source.kind} document: {why}"
        return verdict
    verdict.status, verdict.items = "ok", kind.size(doc)
    verdict.detail = f"HTTP {result.status}, {plural(verdict.items, 'item')}"
    return verdict


def _headers(source: CatalogSource) -> dict[str, str]:
    from config.schema import expand_env

    return {k: expand_env(v, os.environ) for k, v in source.headers.items()}


def add(vendor: str = typer.Argument(..., help="The catalog's id of the vendor, e.g. openai."),
        config: Path | None = ConfigOption,
        assessment: str | None = typer.Option(None, "--assessment",
                                              help="Also add a pending assessment of the "
                                                   "vendor with this id."),
        directory: Path | None = CatalogOption) -> None:
    """Append a catalog vendor and its public sources to a config, keeping the rest of
    the file (comments, order, style) as it is."""
    import re

    from config import ConfigError, parse_config
    from config.catalog.edit import add_vendor
    from config.schema import ID_RE
    from monitor.clock import utcnow

    path = config_path(config)
    if assessment is not None and not re.match(ID_RE, assessment):
        fail(f"--assessment {assessment!r} is not a valid id (letters, digits, . _ -)", 2)
    found = find_or_fail(_load(directory), vendor)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"{path}: no such file; create one with `reassess init {path}`", 2)
    try:
        added = add_vendor(text, found, assessment=assessment,
                           today=utcnow().date().isoformat())
    except CatalogError as exc:
        fail(f"{path}: {exc}", 2)
    env = dict(os.environ)
    try:
        parse_config(added.text, str(path), env)
    except ConfigError as exc:
        try:
            parse_config(text, str(path), env)
        except ConfigError:
            pass  # it did not validate before either: its own problem, reported below
        else:
            fail(f"{path} would no longer validate with {found.id} added, so it was not "
                 f"changed:\n{exc}", 2)
        out.print(f"note: {path} did not validate before this change either; "
                  f"`reassess validate --config {path}` says why", markup=False)
    path.write_text(added.text, encoding="utf-8")
    out.print(f"Added {found.name} ({found.id}) to {path}: "
              f"{plural(len(added.live), 'source')}" + (
                  f", {len(added.commented)} written as comments, each with what it "
                  f"needs ({', '.join(added.commented)})" if added.commented else "")
              + (f"; assessment {added.assessment} (pending)" if added.assessment else "")
              + f". Next: reassess validate --config {path}", markup=False)


def find_or_fail(vendors: list[CatalogVendor], key: str) -> CatalogVendor:
    try:
        return find_vendor(vendors, key)
    except CatalogError as exc:
        fail(str(exc), 2)
