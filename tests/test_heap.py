"""The collector around start-up (``monitor.heap``): paused while the config and the
watches are built, on again after, as it was. Collections are counted with
``gc.callbacks`` in a child process: the collector's state is process-wide."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

from monitor.heap import collector_paused

ROOT = Path(__file__).parent.parent


def test_paused_then_as_it_was() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner pause leaves the outer one paused
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # off before: off after
    finally:
        gc.enable()


def _vendors(n: int) -> str:
    """``n`` vendors of two sources each, as a config's ``vendors:`` list."""
    return "".join(
        f"  - id: v{i:04d}\n    name: Vendor {i}\n    sources:\n"
        f"      - {{id: v{i:04d}-subs, kind: subprocessors, url: 'http://127.0.0.1:9/{i}/s'}}\n"
        f"      - {{id: v{i:04d}-log, kind: changelog, url: 'http://127.0.0.1:9/{i}/c'}}\n"
        for i in range(n))


def _child(script: str, tmp_path: Path) -> list[str]:
    """What ``script`` prints, run in a child process over a config of 1,000 vendors."""
    config = tmp_path / "reassess.yaml"
    config.write_text(f"database: sqlite:///{tmp_path}/r.db\nvendors:\n{_vendors(1000)}",
                      encoding="utf-8")
    res = subprocess.run([sys.executable, "-c", script, str(config)], capture_output=True,
                         text=True, check=True, cwd=ROOT, timeout=120)
    return res.stdout.split()


COUNT = """\
import gc, sys
from monitor.cli.common import get_config
from monitor.check.pipeline import build_watches

runs = []
gc.callbacks.append(lambda phase, info: phase == "start" and runs.append(1))
config = get_config(sys.argv[1])
loaded = len(runs)
build_watches(config)  # the same work with the collector on, for comparison
print(loaded, len(runs) - loaded, gc.isenabled(), len(config.vendors))
"""


def test_loading_a_config_runs_no_collection(tmp_path: Path) -> None:
    """A config of 2,000 sources allocates enough for collections by the hundred; loaded
    through the CLI's ``get_config`` it runs none, and the collector is on after (the
    watches built next, with it on, do run collections)."""
    during, after, enabled, vendors_loaded = _child(COUNT, tmp_path)
    assert vendors_loaded == "1000"
    assert during == "0"
    assert int(after) > 0  # what the count sees when the collector is on
    assert enabled == "True"


RELOAD = """\
import gc, os, sys
from pathlib import Path
from config import load_config
from monitor.cli.common import get_engine
from monitor.daemon.daemon import Daemon

path = Path(sys.argv[1])
config = load_config(path)
daemon = Daemon(config, get_engine(config), path)
daemon.checker.sync()
runs = []
gc.callbacks.append(lambda phase, info: phase == "start" and runs.append(1))
os.utime(path)
ok = daemon.reload()
print(ok, len(runs), gc.isenabled(), len(daemon.checker.watches))
daemon.checker.close()
"""


def test_a_reload_builds_its_config_without_collections(tmp_path: Path) -> None:
    """A reload (in the daemon, beside the checks) loads and applies a new config of 2,000
    sources with the collector paused: at most the one collection that follows the
    pause, where the collector on runs dozens (28 for the load alone, above)."""
    ok, runs, enabled, watches = _child(RELOAD, tmp_path)
    assert (ok, enabled, watches) == ("True", "True", "2000")
    assert int(runs) <= 1
