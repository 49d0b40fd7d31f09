"""The daemon's heap (``Daemon.serve``): what start-up built is frozen out of the cyclic
collector's walks; a reload gives the heap back to the collector, so what start-up built
and the reload dropped is freed even when it holds cycles (an HTTP client retired with
its options), and the next dispatch with no pass in flight freezes the heap again. Run
in a child process: freezing is process-wide."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = """\
import asyncio, gc, json, sys, weakref
from pathlib import Path
from config import load_config
from monitor.heap import GC_YOUNG
from monitor.cli.common import get_engine
from monitor.daemon.daemon import Daemon

path = Path(sys.argv[1])
config = load_config(path)
daemon = Daemon(config, get_engine(config), path)
seen = {}


class Node:
    pass


node = Node()
node.me = node  # a cycle built at start-up, held until the reload (a retired client)
daemon.node = node
cycle = weakref.ref(node)
del node

async def scenario():
    for _ in range(200):  # until serve() has started and its first dispatch is done
        await asyncio.sleep(0.05)
        if daemon.scheduler_running and daemon.last_tick_ok and not daemon._passes:
            break
    daemon.scheduler.remove_job("dispatch")  # the dispatches below are this scenario's
    seen["frozen_at_start"] = gc.get_freeze_count()
    seen["young"] = gc.get_threshold()[0] >= GC_YOUNG
    await asyncio.to_thread(daemon.reload)
    seen["frozen_after_reload"] = gc.get_freeze_count()
    daemon.node = None
    gc.collect()
    seen["cycle_freed"] = cycle() is None
    daemon._passes = 1  # a pass in flight: no refreeze
    await daemon.dispatch()
    seen["frozen_during_a_pass"] = gc.get_freeze_count()
    daemon._passes = 0
    await daemon.dispatch()
    seen["frozen_after_next_dispatch"] = gc.get_freeze_count()
    daemon.stopping.set()

async def main():
    waiter = asyncio.ensure_future(scenario())
    await daemon.serve()
    await waiter

asyncio.run(main())
print(json.dumps(seen))
"""


def test_a_reload_thaws_the_heap_and_an_idle_dispatch_freezes_it_again(tmp_path: Path) -> None:
    config = tmp_path / "reassess.yaml"
    config.write_text(f"database: sqlite:///{tmp_path}/r.db\n"
                      "schedule: {tick: 1s}\n"
                      "vendors:\n  - id: acme\n    name: Acme AI\n    sources:\n"
                      "      - {id: acme-dpa, kind: page, url: 'http://127.0.0.1:9/dpa'}\n",
                      encoding="utf-8")
    res = subprocess.run([sys.executable, "-c", SCRIPT, str(config)], capture_output=True,
                         text=True, check=False, cwd=Path(__file__).parent.parent, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    seen = json.loads(res.stdout.strip().splitlines()[-1])
    assert seen["frozen_at_start"] > 0 and seen["young"]
    assert seen["frozen_after_reload"] == 0
    assert seen["cycle_freed"]  # thawed: a cycle start-up built is collectable again
    assert seen["frozen_during_a_pass"] == 0
    assert seen["frozen_after_next_dispatch"] > 0
