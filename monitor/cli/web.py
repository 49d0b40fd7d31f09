"""Web commands: ``reassess serve`` (the web UI alone), ``hash-password``, ``new-token``."""

from __future__ import annotations

import asyncio
import getpass
import secrets
import signal
import sys
from pathlib import Path

import typer

from .common import ConfigOption, err, fail, get_config, get_engine, out


def serve(config: Path = ConfigOption,
          host: str | None = typer.Option(None, "--host", help="Listen here (default: web.host, "
                                          "127.0.0.1)."),
          port: int | None = typer.Option(None, "--port", min=0, max=65535,
                                          help="Listen on this port (default: web.port, 8080)."),
          log_format: str = typer.Option("text", "--log-format", help="text or json.")) -> None:
    """Serve the web UI and JSON API alone (no checks run): the history, read and act on it."""
    from monitor.logs import setup_logging
    from monitor.web.auth import is_loopback
    from monitor.web.server import bind, with_address
    from monitor.web.server import serve as serve_web

    if log_format not in ("text", "json"):
        fail("--log-format is text or json", 2)
    cfg = with_address(get_config(config), host, port)
    setup_logging(log_format)
    host, port = cfg.web.host, cfg.web.port
    try:
        sock = bind(host, port)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another --port",
             2)
    if not is_loopback(host) and cfg.web.public_read is None and not cfg.web.users:
        err.print(f"note: {host} is not a loopback address, so reading needs a sign-in, and "
                  "web.users is empty: add users (reassess hash-password) or set "
                  "web.public_read", markup=False)
    engine = get_engine(cfg)

    async def main() -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stopping.set)
        await serve_web(cfg, engine, stopping, sock=sock,
                        on_ready=lambda url: err.print(f"reassess web UI on {url}",
                                                       markup=False))

    asyncio.run(main())


def _read_secret(confirm: bool = True) -> str:
    if not sys.stdin.isatty():
        secret = sys.stdin.readline().rstrip("\r\n")
    else:
        secret = getpass.getpass("Password: ")
        if confirm and getpass.getpass("Again: ") != secret:
            fail("the two passwords differ", 2)
    if not secret:
        fail("an empty password is not allowed", 2)
    return secret


def hash_password() -> None:
    """Hash a password for web.users (argon2id): prompts, or reads one line from stdin."""
    from monitor.web.auth import hash_secret

    out.print(hash_secret(_read_secret()), markup=False, highlight=False, soft_wrap=True)


def new_token(name: str = typer.Argument(..., help="Who or what uses the token."),
              role: str = typer.Option("viewer", "--role",
                                       help="viewer, reviewer or admin.")) -> None:
    """Make an API token: prints the token (give it to the script) and its web.tokens entry."""
    from monitor.web.auth import ROLES, hash_secret

    if role not in ROLES:
        fail(f"--role {role!r} is not valid; valid: {', '.join(ROLES)}", 2)
    token = secrets.token_urlsafe(32)
    out.print(f"token (shown once; the script sends it as 'Authorization: Bearer <token>'):\n"
              f"  {token}\n\nadd to the config under web.tokens:\n"
              f"  - name: {name}\n    role: {role}\n    token_hash: '{hash_secret(token)}'",
              markup=False, highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("hash-password")(hash_password)
    app.command("new-token")(new_token)
