"""Notification commands: ``notify-test``, ``notify-status``, ``notify-retry``.

URLs are only ever printed in apprise's privacy form (tokens and passwords masked),
and every reason a service gives passes the redactor first.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from .common import ConfigOption, fail, get_config, get_engine, out


def register(app: typer.Typer) -> None:
    app.command("notify-test")(notify_test)
    app.command("notify-status")(notify_status)
    app.command("notify-retry")(notify_retry)


def notify_test(config: Path = ConfigOption,
                channel: str | None = typer.Option(None, "--channel",
                                                   help="Only this channel.")) -> None:
    """Send a test message to every URL of every channel (or one); exit 1 if any failed."""
    from monitor.clock import utcnow
    from monitor.notify import channels
    from monitor.notify.messages import render
    from monitor.notify.notifier import format_of
    from monitor.notify.payload import SCHEMA, TestNotification

    cfg = get_config(config)
    channels.register_secrets(cfg.channels)
    if not cfg.channels:
        fail("there are no channels in the configuration; add one under channels:", 2)
    if channel is not None and channel not in cfg.channels:
        fail(f"no channel {channel!r} in the config (known: {', '.join(sorted(cfg.channels))})",
             2)
    names = [channel] if channel else list(cfg.channels)
    failed = 0
    for name in names:
        for i, url in enumerate(cfg.channels[name].urls):
            doc = TestNotification(schema=SCHEMA, kind="test", channel=name,
                                   at=utcnow().isoformat(timespec="seconds"))
            result = channels.send(url, render(doc, format_of(url)))
            where = f"{name}[{i}] {channels.display(url)}"
            if result.ok:
                out.print(f"ok      {where}: accepted", markup=False, highlight=False,
                          soft_wrap=True)
            else:
                failed += 1
                out.print(f"FAILED  {where}: {result.reason}", markup=False, highlight=False,
                          soft_wrap=True)
    total = sum(len(cfg.channels[n].urls) for n in names)
    out.print(f"{total - failed} of {total} URL(s) accepted the test message", markup=False)
    raise typer.Exit(1 if failed else 0)


def notify_status(config: Path = ConfigOption,
                  status: str | None = typer.Option(None, "--status",
                                                    help="pending, digest, batched, sent or "
                                                         "failed."),
                  limit: int = typer.Option(20, "--limit", min=1),
                  as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The notification outbox: rows per status and the latest rows."""
    from monitor.logs import redact
    from storage import outbox
    from storage.db import session_scope

    if status is not None and status not in outbox.STATUSES:
        fail(f"--status {status!r} is not valid; valid: {', '.join(outbox.STATUSES)}", 2)
    cfg = get_config(config)
    with session_scope(get_engine(cfg)) as session:
        counts = outbox.counts(session)
        rows = [{"id": r.id, "kind": r.kind, "channel": r.channel, "trigger_id": r.trigger_id,
                 "status": r.status, "attempts": r.attempts,
                 "next_attempt_at": r.next_attempt_at.isoformat() if r.next_attempt_at else None,
                 "sent_at": r.sent_at.isoformat() if r.sent_at else None,
                 "last_error": redact(r.last_error) if r.last_error else None}
                for r in outbox.recent(session, status=status, limit=limit)]
    if as_json:
        sys.stdout.write(json.dumps({"counts": counts, "rows": rows}, indent=2) + "\n")
        return
    out.print(", ".join(f"{k} {counts.get(k, 0)}" for k in outbox.STATUSES), markup=False)
    for r in rows:
        error = f" — {r['last_error']}" if r["last_error"] else ""
        out.print(f"#{r['id']} {r['kind']} → {r['channel']} (trigger {r['trigger_id'] or '-'}): "
                  f"{r['status']}, {r['attempts']} attempt(s){error}", markup=False,
                  highlight=False, soft_wrap=True)


def notify_retry(config: Path = ConfigOption,
                 ids: list[int] = typer.Option([], "--id", help="Only this row (repeatable)."),
                 ) -> None:
    """Put failed notifications back in the queue; the daemon or the next check sends them."""
    from monitor.clock import utcnow
    from storage import outbox
    from storage.db import session_scope

    cfg = get_config(config)
    with session_scope(get_engine(cfg)) as session:
        n = outbox.retry_failed(session, utcnow(), ids or None)
    out.print(f"{n} failed notification(s) back in the queue", markup=False)
