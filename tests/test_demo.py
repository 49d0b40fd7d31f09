"""``reassess demo`` as a new user runs it: a real subprocess in an empty directory.

Its site changes every 3 seconds here (20 by default), so the opening (one change of each
kind) is over in seconds; the daemon checks every 15 seconds as in the shipped config.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx
import pytest
from procs import wait_for
from sqlalchemy import create_engine, text

from triggers.events import TRIGGER_TYPES

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Demo:
    def __init__(self, cwd: Path, *args: str) -> None:
        self.cwd = cwd
        self.log_path = cwd / f"demo-{time.monotonic_ns()}.log"
        self._out: IO[bytes] = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([sys.executable, "-m", "monitor.cli", "demo", *args],
                                     stdout=self._out, stderr=subprocess.STDOUT, cwd=cwd,
                                     stdin=subprocess.DEVNULL,
                                     env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"})

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._out.close()
        return int(self.proc.returncode)


def rows(cwd: Path, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(f"sqlite:///{cwd / 'reassess-demo.db'}")
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    except Exception:  # not created yet
        return []
    finally:
        engine.dispose()


@pytest.fixture
def ports() -> Iterator[list[str]]:
    yield ["--port", str(free_port()), "--web-port", str(free_port()),
           "--notify-port", str(free_port())]


def test_every_trigger_type_then_a_restart_fires_nothing_old(tmp_path: Path,
                                                             ports: list[str]) -> None:
    demo = Demo(tmp_path, *ports, "--every", "3s")
    try:
        def all_types() -> bool:
            found = {t for (t,) in rows(tmp_path, "SELECT DISTINCT type FROM trigger")}
            return found >= set(TRIGGER_TYPES)
        wait_for(all_types, 150, "a trigger of every type", every=1)
        banner = demo.log()
        web = re.search(r"Web UI: (http://\S+)", banner)
        assert web and web.group(1).endswith(ports[3])
        assert "Sign in as reviewer / password reassess-demo" in banner
        with httpx.Client(base_url=web.group(1), timeout=10) as client:  # the account works
            login = client.get("/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', login.text)
            assert csrf
            signed = client.post("/login", data={"name": "reviewer", "password":
                                                 "reassess-demo", "csrf": csrf.group(1),
                                                 "next": "/"})
            assert signed.status_code == 303 and "reassess_session" in signed.cookies
    finally:
        demo.stop()
    before = rows(tmp_path, "SELECT count(*), max(id) FROM trigger")[0]
    journal = (tmp_path / "reassess-demo.site.jsonl").read_text().splitlines()
    assert len(journal) >= 6

    # the user's edit to the config is kept; the site comes back as the daemon last saw it
    config = tmp_path / "reassess-demo.yaml"
    config.write_text(config.read_text().replace("name: Helios ML", "name: Helios ML (mine)"))
    started = time.time()
    again = Demo(tmp_path, *ports, "--every", "10m")
    try:
        def checked_everything() -> bool:
            found = rows(tmp_path, "SELECT count(DISTINCT source_id) FROM checkrun "
                                   f"WHERE started_at > '{_iso(started)}'")
            return bool(found) and found[0][0] == 13
        wait_for(checked_everything, 60, "every source checked after the restart", every=1)
        assert f"restored from {len(journal)} earlier changes" in again.log()
        assert "Using your reassess-demo.yaml" in again.log()
    finally:
        again.stop()
    # a change the first run had not seen yet may fire now; nothing it fired fires again,
    # and no change is undone (the site did not start over)
    old = rows(tmp_path, f"SELECT type, changes FROM trigger WHERE id <= {before[1]}")
    new = rows(tmp_path, f"SELECT type, changes FROM trigger WHERE id > {before[1]}")
    assert not set(new) & set(old), new
    # and only the site's last few changes, made after the first run's last checks, can
    # fire: a site that started over would undo every change of the first run instead
    from datetime import datetime

    last_check = rows(tmp_path, "SELECT max(started_at) FROM checkrun "
                                f"WHERE started_at <= '{_iso(started)}'")[0][0]
    cutoff = datetime.fromisoformat(str(last_check)[:19]).timestamp() - 20  # an interval
    unseen = [line for line in journal if datetime.fromisoformat(
        json.loads(line)["at"]).replace(tzinfo=None).timestamp() > cutoff]
    assert len(new) <= 2 * len(unseen), (new, unseen)
    assert "Helios ML (mine)" in config.read_text()
    assert rows(tmp_path, "SELECT name FROM vendor WHERE id = 'heliosml'") == [
        ("Helios ML (mine)",)]


def _iso(epoch: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")


def test_a_busy_port_is_named_with_its_option(tmp_path: Path, ports: list[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = str(taken.getsockname()[1])
        for option in ("--web-port", "--port", "--notify-port"):
            args = list(ports)
            args[args.index(option) + 1] = busy
            res = subprocess.run([sys.executable, "-m", "monitor.cli", "demo", *args],
                                 capture_output=True, text=True, cwd=tmp_path, timeout=60,
                                 env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
                                 check=False, stdin=subprocess.DEVNULL)
            assert res.returncode == 2, res.stderr
            assert f"port {busy}" in res.stderr and f"choose another with {option} PORT" in \
                res.stderr, res.stderr
            assert "Traceback" not in res.stderr
    # the ports asked for were written into the config, everything else left as it was
    text_now = (tmp_path / "reassess-demo.yaml").read_text()
    assert f"port: {ports[3]}" in text_now or f"port: {busy}" in text_now
