"""The cyclic garbage collector around what lives as long as the process.

Start-up builds objects that live until the process exits: the config (at 100,000
sources, millions of objects), the watches, the sources' rows read by the sync. Built
with the collector on, every full collection start-up triggers walks all that was built
so far, to free nothing: at 100,000 sources the config's load went 4.6 → 3.8 s and the
watches 1.3 → 0.5 s with it paused (``collector_paused``). Once start-up is done, what it
built is frozen out of the collector's reach (``steady_heap``), so the collections the
checks trigger walk only what the checks allocated.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

# Young objects before a collection of the youngest generation (CPython's default: 700).
# Nearly everything a check allocates is freed by reference counting, so the default
# runs a collection every few checks for next to nothing.
GC_YOUNG = 3000


@contextlib.contextmanager
def collector_paused(*, freeze: bool = False) -> Iterator[None]:
    """No cyclic collection while building what the process keeps (a config, the
    watches, the sync's rows); the collector is on again after, as it was. Reference
    counting still frees whatever is dropped meanwhile: only garbage in cycles waits,
    for the next collection.

    Everything built meanwhile is in the youngest generation, which the next collection
    walks whole. ``freeze``: what was built lives as long as the process (a command's
    config), so it is frozen instead, out of every collection's walk."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if was:
            gc.enable()


def steady_heap(*, collect: bool = False) -> None:
    """Take what exists once start-up is done out of the cyclic collector's reach.

    The modules, the config, the watches and the engine live until the process exits
    (the parse worker's fork froze the modules' share already). Frozen, the full
    collections a pass triggers walk only what the pass allocated, not everything
    start-up built. Reference counting still frees anything dropped. Collecting the youngest
    generation less often saves the fixed cost of a collection, not its work.

    ``collect``: collect the cyclic garbage first (a process that lives on: frozen, it
    would never be collected). A daemon that drops its config on reload gives the heap
    back to the collector first (``thaw_heap``): a frozen cycle is never freed.
    """
    if collect:
        gc.collect()
    gc.freeze()
    young, *older = gc.get_threshold()
    gc.set_threshold(max(young, GC_YOUNG), *older)


def thaw_heap() -> None:
    """Give what ``steady_heap`` froze back to the cyclic collector."""
    gc.unfreeze()
