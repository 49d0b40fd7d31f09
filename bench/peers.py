"""The fastest established peer, urlwatch 2.29, on the same documents and the same site.

urlwatch runs its jobs on a fixed pool of 10 threads (``worker.MAX_WORKERS``) over
``requests``, stores each raw body in its minidb cache and sends ``If-None-Match`` from
the stored ETag, so its second pass is mostly answered 304 too. It runs with its own
files in a temp dir (``--urls``, ``--config``, ``--cache``, ``--hooks``) and its own
``HOME``, measured like every other child. It is optional (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

from .procs import Measured, bin_path, child_env, measure

WANTED = "2.29"
_REPORT = re.compile(r"^\s*\d+\.\s+(NEW|CHANGED|ERROR|UNCHANGED)\b", re.M)


def urlwatch_version() -> str | None:
    """The installed urlwatch's version, or None when it is not installed."""
    exe = bin_path("urlwatch")
    if exe is None:
        return None
    try:
        res = subprocess.run([str(exe), "--version"], capture_output=True, text=True,
                             timeout=60, check=False)
    except OSError:
        return None
    found = re.search(r"urlwatch\s+(\S+)", res.stdout + res.stderr)
    return found.group(1) if found else None


def run_urlwatch(urls: Path, config: Path, cache: Path, workdir: Path, label: str) -> Measured:
    exe = bin_path("urlwatch")
    assert exe is not None
    home = workdir / "home"
    home.mkdir(parents=True, exist_ok=True)
    argv = [str(exe), "--urls", str(urls), "--config", str(config), "--cache", str(cache),
            "--hooks", str(workdir / "hooks.py")]
    env = child_env(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
                    XDG_CACHE_HOME=str(home / ".cache"))
    return measure(argv, workdir, env=env, label=label)


def outcomes(stdout: str) -> dict[str, int]:
    """Counts of NEW / CHANGED / ERROR in urlwatch's text report summary."""
    counts: dict[str, int] = {}
    for word in _REPORT.findall(stdout):
        counts[word.lower()] = counts.get(word.lower(), 0) + 1
    return counts


def pass_figures(m: Measured, checks: int) -> dict[str, Any]:
    figures = m.figures(checks)
    figures["outcomes"] = outcomes(m.stdout)
    if m.exit_code != 0:
        figures["error"] = (m.stderr.strip().splitlines() or ["exit " + str(m.exit_code)])[-1]
    return figures
