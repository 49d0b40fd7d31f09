"""``reassess check``: one pass now, with a progress bar on a terminal and a summary."""

from __future__ import annotations

import asyncio
import gc

from sqlalchemy.engine import Engine

from config.schema import Config
from monitor.cli.common import err, out
from monitor.notify.routing import Routing

from .analyse import Outcome
from .pipeline import Checker, PassSummary


def run_check(config: Config, engine: Engine, source_ids: list[str], *,
              notify: bool = True, steady: bool = False) -> PassSummary:
    """One pass over ``source_ids``; ``steady``: this process exists for the pass (the
    CLI), so what start-up built is frozen for the collector (``steady_heap``)."""
    checker = Checker(config, engine, router=Routing(config))
    checker.sync()
    if steady:
        steady_heap()
    try:
        summary = _with_progress(checker, source_ids)
    finally:
        checker.close()
    summary.triggers += _review_due(config, engine)
    _deadlines(config, engine)
    _print_summary(summary)
    if notify:
        deliver_pending(config, engine)
    return summary


# Young objects before a collection of the youngest generation (CPython's default: 700).
# Nearly everything a check allocates is freed by reference counting, so the default
# runs a collection every few checks for next to nothing.
GC_YOUNG = 3000


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


def _deadlines(config: Config, engine: Engine) -> None:
    """Deadline reminders and overdue notices that fell due (``monitor/evidence``)."""
    from monitor.evidence.deadlines import notify_deadlines

    notify_deadlines(config, engine)


def _review_due(config: Config, engine: Engine) -> int:
    """Periodic reviews that fell due: cron use of ``check`` needs no daemon for them."""
    from monitor.daemon.lifecycle import fire_review_due

    return fire_review_due(config, engine)


def _with_progress(checker: Checker, source_ids: list[str]) -> PassSummary:
    if not err.is_terminal:
        return asyncio.run(checker.check(source_ids))
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("checking"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.description}"))
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("", total=len(source_ids))

        def tick(outcome: Outcome) -> None:
            bar.update(task, advance=1, description=f"{outcome.source_id}: {outcome.outcome}")

        return asyncio.run(checker.check(source_ids, progress=tick))


def _print_summary(s: PassSummary) -> None:
    rebaselined = f", rebaselined {s.rebaselined}" if s.rebaselined else ""
    out.print(f"checked {s.checked}, changed {s.changed}, unchanged {s.unchanged}, "
              f"baseline {s.baseline}, held {s.held}, failed {s.failed}{rebaselined}, "
              f"triggers fired {s.triggers}", markup=False)
    for source_id, error in s.failures:
        err.print(f"  failed: {source_id}: {error}", markup=False, highlight=False)


def deliver_pending(config: Config, engine: Engine) -> None:
    """Deliver what is waiting in the outbox: cron-style use needs no daemon."""
    from monitor.notify.notifier import deliver_due

    report = deliver_due(config, engine)
    if report:
        out.print(str(report), markup=False)
