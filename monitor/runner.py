"""``reassess check``: one pass now, with a progress bar on a terminal and a summary."""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import Engine

from config.schema import Config

from .analyse import Outcome
from .common import err, out
from .hooks import Hooks
from .pipeline import Checker, PassSummary


def run_check(config: Config, engine: Engine, source_ids: list[str], *,
              notify: bool = True) -> PassSummary:
    checker = Checker(config, engine, hooks=Hooks(config))
    checker.sync()
    try:
        summary = _with_progress(checker, source_ids)
    finally:
        checker.close()
    summary.triggers += _review_due(config, engine)
    _print_summary(summary)
    if notify:
        deliver_pending(config, engine)
    return summary


def _review_due(config: Config, engine: Engine) -> int:
    """Periodic reviews that fell due: cron use of ``check`` needs no daemon for them."""
    from .lifecycle_jobs import fire_review_due

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
    out.print(f"checked {s.checked}, changed {s.changed}, unchanged {s.unchanged}, "
              f"baseline {s.baseline}, held {s.held}, failed {s.failed}, "
              f"triggers fired {s.triggers}", markup=False)
    for source_id, error in s.failures:
        err.print(f"  failed: {source_id}: {error}", markup=False, highlight=False)


def deliver_pending(config: Config, engine: Engine) -> None:
    """Deliver what is waiting in the outbox: cron-style use needs no daemon."""
    from .notify import deliver_due

    report = deliver_due(config, engine)
    if report:
        out.print(str(report), markup=False)
