"""Serving the web app with uvicorn inside an existing asyncio loop.

``serve(config, engine, stopping)`` binds the socket itself (so a busy port is an
error the caller can report, not a ``sys.exit`` from inside uvicorn), leaves signal
handling to the caller (the daemon owns SIGTERM/SIGINT) and shuts down gracefully once
``stopping`` is set. ``reassess run`` starts it beside the scheduler; ``reassess
serve`` runs it alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from config.schema import Config

log = logging.getLogger("reassess.web")


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers: whoever runs the loop owns them."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (IPv6 when the host is an IPv6 address)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    sock.setblocking(False)
    return sock


def with_address(config: Config, host: str | None, port: int | None) -> Config:
    """``config`` with ``web.host`` / ``web.port`` replaced (``reassess serve --host``)."""
    update = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    if not update:
        return config
    return config.model_copy(update={"web": config.web.model_copy(update=update)})


def url_of(sock: socket.socket, host: str) -> str:
    port = sock.getsockname()[1]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def serve(config: Config, engine: Engine, stopping: asyncio.Event, *,
                app: FastAPI | None = None, host: str | None = None, port: int | None = None,
                sock: socket.socket | None = None,
                on_ready: Callable[[str], Any] | None = None) -> None:
    """Serve until ``stopping`` is set; raises OSError when the port cannot be bound."""
    from urllib.parse import urlsplit

    from .app import create_app

    config = with_address(config, host, port)
    host = config.web.host
    sock = sock or bind(host, config.web.port)
    # the read policy follows the address really listened on, not the file's
    app = app or create_app(config, engine)
    root = urlsplit(config.web.base_url).path.rstrip("/") if config.web.base_url else ""
    server = _Server(uvicorn.Config(app, lifespan="off", ws="none", log_config=None,
                                   access_log=False, proxy_headers=False, root_path=root,
                                   timeout_graceful_shutdown=3, server_header=False))
    url = url_of(sock, host)
    log.info("web UI on %s", url)
    if on_ready is not None:
        on_ready(url)
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    stop = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        server.should_exit = True
        stop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
