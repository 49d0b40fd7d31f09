"""Child processes, measured: wall time, user + sys CPU and peak RSS of exactly one child.

Every measured thing (a ``reassess check`` pass, the bare loop, urlwatch) runs as its own
child and is reaped with ``os.wait4``, whose rusage covers that child alone (and the
grandchildren it waited for), so the figures are the tool's own and never the site's or
the harness's. The simulated vendor site runs in another child, never measured.

``ru_maxrss`` is the largest single process's peak, not the sum over a tool's processes
(reassess's parse workers), so a sampler also reads the proportional set size (PSS:
shared pages split between the processes sharing them) of the child's whole process tree
every 250 ms (reading it walks the page tables, so not more often): ``peak_tree_pss_mb`` is
the most memory the tool held at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Measured:
    """One child's run: what it cost and how it ended."""

    wall_s: float
    user_s: float
    sys_s: float
    peak_rss_mb: float
    exit_code: int
    stdout: str
    stderr: str
    peak_tree_pss_mb: float = 0.0
    max_processes: int = 1

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s

    def figures(self, checks: int) -> dict[str, Any]:
        return {
            "checks": checks,
            "wall_s": round(self.wall_s, 3),
            "checks_per_s": round(checks / self.wall_s, 1) if self.wall_s else 0.0,
            "cpu_ms_per_check": round(1000 * self.cpu_s / checks, 3) if checks else 0.0,
            "user_s": round(self.user_s, 3),
            "sys_s": round(self.sys_s, 3),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "peak_tree_pss_mb": round(self.peak_tree_pss_mb, 1),
            "processes": self.max_processes,
            "exit_code": self.exit_code,
        }


def bin_path(name: str) -> Path | None:
    """A console script installed beside this interpreter (the project's virtualenv)."""
    path = Path(sys.executable).parent / name
    return path if path.exists() else None


def child_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("REASSESS_CONFIG", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def measure(argv: Sequence[str], workdir: Path, *, env: dict[str, str] | None = None,
            timeout: float = 1800.0, label: str = "child") -> Measured:
    """Run ``argv`` to completion and return its own rusage (``wait4`` on its pid).

    Output goes to files (a pipe could fill and stall the child); the timeout kills it.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = workdir / f"{label}.out", workdir / f"{label}.err"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(list(argv), stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                env=env or child_env(), cwd=workdir)
        sampler = TreeMemory(proc.pid)
        sampler.start()
        try:
            status, usage = _wait4(proc, timeout)
        finally:
            sampler.stop()
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Measured(wall_s=wall, user_s=usage.ru_utime, sys_s=usage.ru_stime,
                    peak_rss_mb=usage.ru_maxrss / 1024.0, exit_code=proc.returncode,
                    stdout=out_path.read_text(errors="replace"),
                    stderr=err_path.read_text(errors="replace"),
                    peak_tree_pss_mb=sampler.peak_kb / 1024.0,  # 0: ended before a sample
                    max_processes=max(1, sampler.max_processes))


class TreeMemory(threading.Thread):
    """Samples the summed PSS of ``pid`` and its descendants (Linux ``/proc``)."""

    def __init__(self, pid: int, period: float = 0.25) -> None:
        super().__init__(daemon=True, name=f"pss-{pid}")
        self.pid, self.period = pid, period
        self.peak_kb = 0
        self.max_processes = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(self.period):
            pids = tree(self.pid)
            total = sum(_pss_kb(p) for p in pids)
            self.peak_kb = max(self.peak_kb, total)
            self.max_processes = max(self.max_processes, len(pids))

    def stop(self) -> None:
        self._done.set()
        self.join(timeout=5)


def stop(proc: subprocess.Popen[Any], timeout: float = 30) -> None:
    """SIGTERM, then SIGKILL if it has not ended within ``timeout`` seconds; reaped."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def tree(pid: int) -> list[int]:
    """``pid`` and its live descendants."""
    found: list[int] = []
    todo = [pid]
    while todo and len(found) < 256:
        p = todo.pop()
        found.append(p)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
    return found


def _pss_kb(pid: int) -> int:
    with contextlib.suppress(OSError, ValueError), open(f"/proc/{pid}/smaps_rollup") as fh:
        for line in fh:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def _wait4(proc: subprocess.Popen[bytes], timeout: float) -> tuple[int, Any]:
    """Block in ``wait4`` (exact wall time); a timer kills the child past ``timeout``."""
    killer = threading.Timer(timeout, proc.kill)
    killer.daemon = True
    killer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        killer.cancel()
    return status, usage


# --- the simulated vendor site, in its own process -------------------------------------


class Site:
    """``python -m monitor.demo.vendorsite`` as a child process, with its control API."""

    def __init__(self, vendors: int, workdir: Path) -> None:
        self.vendors = vendors
        self.workdir = workdir
        self.proc: subprocess.Popen[str] | None = None
        self.base_url = ""

    def start(self, timeout: float = 120.0) -> str:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = (self.workdir / "site.err").open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "monitor.demo.vendorsite", "--host", "127.0.0.1", "--port", "0",
             "--vendors", str(self.vendors)],
            stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, text=True,
            env=child_env(), cwd=ROOT)
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        line = ""
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline().strip()
            if line.startswith("http://") or self.proc.poll() is not None:
                break
        if not line.startswith("http://"):
            self.stop()
            raise RuntimeError(f"the vendor site did not start: {line!r}; see "
                               f"{self.workdir / 'site.err'}")
        self.base_url = line
        return line

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body or {}).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as resp:
            return json.loads(resp.read())  # type: ignore[no-any-return]

    def get_json(self, path: str) -> dict[str, Any]:
        with urllib.request.urlopen(self.base_url + path, timeout=120) as resp:
            return json.loads(resp.read())  # type: ignore[no-any-return]

    def requests(self) -> int:
        return int(self.get_json("/_control/stats")["total"])

    def reset_stats(self) -> None:
        self.post("/_control/stats/reset")

    def mutate(self, count: int, paths: list[str], seed: int) -> list[str]:
        """Change ``count`` of ``paths`` semantically; returns the paths that changed."""
        res = self.post("/_control/mutate_random", {"count": count, "paths": paths,
                                                    "seed": seed})
        return [p for p in res["changed"] if p in set(paths)]

    def __enter__(self) -> Site:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def running_site(vendors: int, workdir: Path) -> Iterator[Site]:
    site = Site(vendors, workdir)
    site.start()
    try:
        yield site
    finally:
        site.stop()


def as_dict(obj: Any) -> dict[str, Any]:
    return asdict(obj)
