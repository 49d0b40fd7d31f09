"""The web UI and JSON API (served by ``reassess run`` and ``reassess serve``).

``register_jobs(daemon)`` is called by the daemon (``monitor.daemon``): when the
daemon's ``web_enabled`` is true it builds the app (``daemon.web_app``, so features
registered later can ``include_router`` or ``add_health_check`` on it) and serves it in
the daemon's loop until ``daemon.stopping`` is set; a configuration reload reaches the
app too (users, tokens, read policy).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger("reassess.web")


def register_jobs(daemon: Any) -> None:
    if not getattr(daemon, "web_enabled", False):
        return
    from .app import create_app, reconfigure
    from .server import serve

    app = daemon.web_app = create_app(daemon.config, daemon.engine)
    hooks = getattr(daemon, "reload_hooks", None)
    if hooks is not None:
        hooks.append(lambda config: reconfigure(app, config))

    async def run() -> None:
        try:
            await serve(daemon.config, daemon.engine, daemon.stopping, app=app)
        except OSError as exc:
            web = daemon.config.web
            log.error("web UI not started: cannot listen on %s:%s: %s; set web.port or run "
                      "with --no-web", web.host, web.port, exc.strerror or exc)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("web UI stopped")

    # In the daemon's task set, its shutdown waits (a few seconds at most) for ours.
    task = daemon.web_task = asyncio.ensure_future(run())
    daemon.tasks.add(task)
    task.add_done_callback(daemon.tasks.discard)
