"""``reassess demo``: the simulated vendor site, a local notification receiver and the
daemon on ``config/demo.yaml`` — checks and triggers within a minute, no setup."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from config import CONFIG_DIR, parse_config
from config.durations import parse_duration
from monitor.cli.common import err

DEMO_CONFIG = CONFIG_DIR / "demo.yaml"
SITE_PORT = 8765
RECEIVER_PORT = 8766


class _Receiver(BaseHTTPRequestHandler):
    """Prints each notification the demo's json:// channel posts, as it arrives."""

    def do_POST(self) -> None:
        length = min(int(self.headers.get("Content-Length") or 0), 1_000_000)
        body = self.rfile.read(length)
        try:
            data = json.loads(body)
            title = str(data.get("title") or "")[:200]
        except ValueError:
            title = body[:200].decode("utf-8", "replace")
        err.print(f"[bold cyan]notification:[/bold cyan] {title}", markup=True, highlight=False)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


def _start_receiver(port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True, name="demo-receiver").start()
    return server


def demo_config_text(port: int, database: str) -> str:
    text = DEMO_CONFIG.read_text(encoding="utf-8")
    text = text.replace(f"127.0.0.1:{SITE_PORT}", f"127.0.0.1:{port}")
    return text.replace("database: sqlite:///reassess-demo.db", f"database: {database}")


def run_demo(*, port: int = SITE_PORT, every: str = "20s",
             database: str = "sqlite:///reassess-demo.db") -> int:
    from monitor.daemon.daemon import run_daemon

    from .vendorsite import VendorSite

    text = demo_config_text(port, database)
    config = parse_config(text, str(DEMO_CONFIG))
    site = VendorSite(vendors=[v.id for v in config.vendors],
                      demo_every=parse_duration(every))
    base = site.start(host="127.0.0.1", port=port)
    receiver = _start_receiver(RECEIVER_PORT)
    path = Path("reassess-demo.yaml")
    path.write_text(text, encoding="utf-8")
    err.print(f"Simulated vendor site: {base} (changes every {every})\n"
              f"Web UI: {config.web.url()}\n"
              f"Config written to {path}: try `reassess triggers --config {path}` or "
              f"`reassess assessments --config {path}` in another terminal.\n"
              "Ctrl-C stops the demo.", markup=False)
    try:
        return run_daemon(config, config_file=path)
    finally:
        receiver.shutdown()
        site.stop()
