"""A small HTTP server on 127.0.0.1 whose paths the test sets: bytes and a content type
per path (a PDF, a JavaScript page, a Hugging Face Hub stand-in). Real HTTP, no mock."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LoopbackSite:
    def __init__(self) -> None:
        self.pages: dict[str, tuple[str, bytes]] = {}
        self.hits: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.hits.append(self.path)
                found = site.pages.get(self.path.split("?", 1)[0])
                if found is None:
                    self.send_response(404)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", "9")
                    self.end_headers()
                    self.wfile.write(b"not found")
                    return
                ctype, body = found
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.1}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def set(self, path: str, body: bytes | str, ctype: str = "text/html; charset=utf-8") -> None:
        self.pages[path] = (ctype, body.encode() if isinstance(body, str) else body)

    def __enter__(self) -> LoopbackSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def fired(db_url: str) -> list[tuple[str, list[str], dict[str, Any]]]:
    """The stored triggers (type, entities, evidence), oldest first: read from the
    database, not through another CLI run."""
    from sqlalchemy import select

    from storage.db import open_database, session_scope
    from storage.models import Trigger

    engine = open_database(db_url)
    try:
        with session_scope(engine, write=False) as session:
            rows = session.exec(select(Trigger).order_by(Trigger.id)).all()
            return [(r[0].type, list(r[0].entities or []), dict(r[0].evidence or {}))
                    for r in rows]
    finally:
        engine.dispose()
