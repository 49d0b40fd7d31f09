"""``reassess demo``: the simulated vendor site, a local notification receiver and the
daemon with its web UI, on ``./reassess-demo.yaml`` — every type of trigger within about
three minutes, no setup.

* The config is copied from ``config/demo.yaml`` once; afterwards the user's edits to
  ``reassess-demo.yaml`` are kept (only a port asked for on the command line is written
  into it).
* The site starts with one change of each kind (``DEMO_OPENING``), then changes something
  at random every ``--every``. Each change is journaled (``reassess-demo.site.jsonl``); a
  restart replays the journal, so the site serves what the daemon last saw and nothing
  old fires again. A new database starts a new journal.
* A busy port is named with the option that moves it, before anything starts.
"""

from __future__ import annotations

import errno
import json
import re
import socket
import threading
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from config import CONFIG_DIR, ConfigError, parse_config
from config.durations import parse_duration
from config.schema import Config
from monitor.cli.common import err

DEMO_CONFIG = CONFIG_DIR / "demo.yaml"
SITE_PORT = 8765
RECEIVER_PORT = 8766
WEB_PORT = 8080
CONFIG_FILE = Path("reassess-demo.yaml")
JOURNAL_FILE = Path("reassess-demo.site.jsonl")
DEFAULT_DATABASE = "sqlite:///reassess-demo.db"
REVIEWER = ("reviewer", "reassess-demo")


class DemoError(Exception):
    """The demo cannot start; the message says why and what to do."""


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


@dataclass
class Ports:
    site: int
    web: int
    notify: int


def ports_of(config: Config) -> Ports:
    """The ports a demo config uses: the site's (its sources), the web UI's, the receiver's."""
    site = next((urlsplit(s.url).port for _, s in config.sources()
                 if urlsplit(s.url).hostname == "127.0.0.1"), None)
    notify = next((urlsplit(u).port for c in config.channels.values() for u in c.urls
                   if u.startswith("json://127.0.0.1:")), None)
    return Ports(site or SITE_PORT, config.web.port, notify or RECEIVER_PORT)


def set_ports(text: str, old: Ports, new: Ports) -> str:
    """The config text with only the port numbers moved from ``old`` to ``new``."""
    if new.site != old.site:
        text = text.replace(f"127.0.0.1:{old.site}/", f"127.0.0.1:{new.site}/")
    if new.notify != old.notify:
        text = text.replace(f"json://127.0.0.1:{old.notify}/", f"json://127.0.0.1:{new.notify}/")
    if new.web != old.web:
        text = re.sub(rf"(?m)^(web:\s*\n(?:[ \t]+.*\n)*?[ \t]+port:[ \t]*){old.web}\b",
                      rf"\g<1>{new.web}", text, count=1)
    return text


def demo_config_text(port: int = SITE_PORT, database: str = DEFAULT_DATABASE,
                     web_port: int = WEB_PORT, notify_port: int = RECEIVER_PORT) -> str:
    """The shipped demo config with the given ports and database."""
    text = DEMO_CONFIG.read_text(encoding="utf-8")
    text = set_ports(text, Ports(SITE_PORT, WEB_PORT, RECEIVER_PORT),
                     Ports(port, web_port, notify_port))
    return text.replace(f"database: {DEFAULT_DATABASE}", f"database: {database}")


def prepare_config(path: Path, *, port: int | None, web_port: int | None,
                   notify_port: int | None, database: str | None) -> tuple[Config, list[str]]:
    """Write the demo config when there is none; otherwise keep the user's, moving only the
    ports (and database) asked for. Returns the config and what was done, to print."""
    notes = []
    if not path.exists():
        path.write_text(demo_config_text(port or SITE_PORT, database or DEFAULT_DATABASE,
                                         web_port or WEB_PORT, notify_port or RECEIVER_PORT),
                        encoding="utf-8")
        notes.append(f"Wrote {path} (edit it freely: the demo keeps your changes).")
        return _load(path), notes
    config = _load(path)
    text = path.read_text(encoding="utf-8")
    old = ports_of(config)
    new = Ports(port or old.site, web_port or old.web, notify_port or old.notify)
    updated = set_ports(text, old, new)
    if database is not None and database != config.database:
        updated = re.sub(r"(?m)^database:.*$", f"database: {database}", updated, count=1)
    if updated != text:
        path.write_text(updated, encoding="utf-8")
        config = _load(path)
        notes.append(f"Updated {path}: the ports and database asked for; your other edits "
                     "are kept.")
    else:
        notes.append(f"Using your {path} (delete it to start again from the shipped one).")
    return config, notes


def _load(path: Path) -> Config:
    try:
        return parse_config(path.read_text(encoding="utf-8"), str(path))
    except ConfigError as exc:
        raise DemoError(str(exc)) from None


def check_ports(host: str, ports: Ports) -> None:
    """Refuse to start when a port is taken, naming it and the option that moves it."""
    for number, what, option in ((ports.site, "the simulated vendor site", "--port"),
                                 (ports.web, "the web UI", "--web-port"),
                                 (ports.notify, "the notification receiver", "--notify-port")):
        if not port_free(host if option == "--web-port" else "127.0.0.1", number):
            raise DemoError(f"port {number} ({what}) is already in use on this machine; "
                            f"stop what uses it or choose another with {option} PORT")


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                       socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


# --------------------------------------------------------------------------- the journal


def fresh_database(database: str) -> bool:
    """Whether the demo's database is new (a SQLite file that does not exist yet)."""
    if not database.startswith("sqlite:///"):
        return False
    return not Path(database.removeprefix("sqlite:///")).exists()


def read_journal(path: Path) -> list[datetime]:
    """When each earlier demo step was made; a damaged line ends the journal there."""
    times: list[datetime] = []
    if not path.exists():
        return times
    for line in path.read_text(encoding="utf-8").splitlines()[:100_000]:
        try:
            times.append(datetime.fromisoformat(json.loads(line)["at"]))
        except (ValueError, KeyError, TypeError):
            break
    return times


class Journal:
    """Appends each demo step to the journal file as it is made."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def __call__(self, step: int, at: datetime, what: str) -> None:
        line = json.dumps({"step": step, "at": at.isoformat(), "what": what}) + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line)


# --------------------------------------------------------------------------- run


def run_demo(*, port: int | None = None, web_port: int | None = None,
             notify_port: int | None = None, every: str = "20s",
             database: str | None = None, config_file: Path = CONFIG_FILE,
             journal_file: Path = JOURNAL_FILE) -> int:
    """Start everything and run the daemon until stopped; 2 when the demo cannot start."""
    try:
        return _run(port, web_port, notify_port, every, database, config_file, journal_file)
    except DemoError as exc:
        err.print(f"[red]error:[/red] {exc}", markup=True, soft_wrap=True, highlight=False)
        return 2


def _run(port: int | None, web_port: int | None, notify_port: int | None, every: str,
         database: str | None, config_file: Path, journal_file: Path) -> int:
    from monitor.daemon.daemon import run_daemon

    from .vendorsite import VendorSite

    try:
        step = parse_duration(every)
    except ValueError as exc:
        raise DemoError(f"--every: {exc}") from None
    config, notes = prepare_config(config_file, port=port, web_port=web_port,
                                   notify_port=notify_port, database=database)
    ports = ports_of(config)
    check_ports(config.web.host, ports)
    if fresh_database(config.database):
        journal_file.unlink(missing_ok=True)  # a new history: the site starts over too
    times = read_journal(journal_file)
    site = VendorSite(vendors=[v.id for v in config.vendors], demo_every=step,
                      demo_opening=True, on_demo_step=Journal(journal_file))
    site.warm()  # every document made now, from the initial state (a replay does the same)
    if times:
        site.replay(times)
        notes.append(f"Simulated site restored from {len(times)} earlier changes "
                     f"({journal_file}): nothing old fires again.")
    base = site.start(host="127.0.0.1", port=ports.site)
    receiver = _start_receiver(ports.notify)
    err.print(_banner(config, base, every, config_file, notes), markup=False, highlight=False)
    try:
        return run_daemon(config, config_file=config_file)
    finally:
        receiver.shutdown()
        site.stop()


def _banner(config: Config, base: str, every: str, path: Path, notes: list[str]) -> str:
    user, password = REVIEWER
    has_reviewer = any(u.name == user for u in config.web.users)
    lines = [
        f"Simulated vendor site: {base} (a change every {every}: first one of each kind,",
        "  so every type of trigger shows within about three minutes)",
        f"Web UI: {config.web.url()}",
    ]
    if has_reviewer:
        lines.append(f"  Sign in as {user} / password {password} to acknowledge and resolve.")
    lines += [*notes,
              f"Try in another terminal: reassess triggers --config {path}",
              f"                         reassess assessments --config {path}",
              "Ctrl-C stops the demo."]
    return "\n".join(lines)

