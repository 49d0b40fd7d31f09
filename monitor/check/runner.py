"""``reassess check``: one pass now, with a progress bar on a terminal and a summary."""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import Engine

from config.schema import Config
from monitor.cli.common import err, out
from monitor.heap import collector_paused, steady_heap
from monitor.notify.routing import Routing

from .analyse import Outcome
from .pipeline import Checker, PassSummary


def run_check(config: Config, engine: Engine, source_ids: list[str], *,
              notify: bool = True, steady: bool = False) -> PassSummary:
    """One pass over ``source_ids``; ``steady``: this process exists for the pass (the
    CLI), so what start-up built is frozen for the collector (``steady_heap``)."""
    with collector_paused(freeze=steady):  # what start-up builds (monitor.heap)
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
