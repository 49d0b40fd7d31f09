"""The daemon's log of its dispatch rounds: what happened at once, quiet rounds once a period.

``RoundLog`` takes its clock as a parameter; the tests hand it a list of times.
"""

from __future__ import annotations

import logging

import pytest

from monitor.check.pipeline import PassSummary
from monitor.daemon.daemon import RoundLog


def _summary(**outcomes: int) -> PassSummary:
    s = PassSummary()
    for outcome, n in outcomes.items():
        s.checked += n
        s.outcomes[outcome] = n
        if outcome == "changed":
            s.changed += n
        elif outcome == "failed":
            s.failed += n
        elif outcome == "baseline":
            s.baseline += n
        else:
            s.unchanged += n
    return s


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "reassess.daemon"]


def test_quiet_rounds_are_told_once_a_period(caplog: pytest.LogCaptureFixture) -> None:
    """Unchanged rounds: the first is told at once, the next ones summed and told when a
    period has passed since; a round that checked nothing says nothing."""
    now = [0.0]
    rounds = RoundLog(period=60, clock=lambda: now[0])
    caplog.set_level(logging.INFO, logger="reassess.daemon")
    rounds.add(_summary(not_modified=64))
    for t in (0.5, 1.0, 30.0, 59.0):
        now[0] = t
        rounds.add(_summary(not_modified=64))
    rounds.add(PassSummary())
    assert _lines(caplog) == ["checked 64: all unchanged"]
    now[0] = 61.0
    rounds.add(_summary(not_modified=10, unchanged=6))
    assert _lines(caplog)[1:] == ["checked 272 in the last 61 s: all unchanged"]
    now[0] = 100.0
    rounds.add(_summary(not_modified=5))
    assert len(_lines(caplog)) == 2  # 39 s since: held for the next line


def test_a_round_with_anything_else_is_told_at_once(caplog: pytest.LogCaptureFixture) -> None:
    """A change, a failure or a baseline is logged in its round's own line, however soon
    after the last one, and does not reset the quiet rounds' period."""
    now = [0.0]
    rounds = RoundLog(period=60, clock=lambda: now[0])
    caplog.set_level(logging.INFO, logger="reassess.daemon")
    rounds.add(_summary(not_modified=64))
    now[0] = 1.0
    rounds.add(_summary(not_modified=60, changed=3, failed=1))
    now[0] = 2.0
    rounds.add(_summary(baseline=2))
    now[0] = 3.0
    with_trigger = _summary(not_modified=4)
    with_trigger.triggers = 1  # a trigger without a changed outcome (a review due) still counts
    rounds.add(with_trigger)
    rounds.add(_summary(not_modified=64))
    assert _lines(caplog) == ["checked 64: all unchanged",
                              "checked 64: 3 changed, 1 failed, 0 triggers",
                              "checked 2: 0 changed, 0 failed, 0 triggers",
                              "checked 4: 0 changed, 0 failed, 1 triggers"]
    now[0] = 60.0
    rounds.add(_summary(not_modified=1))
    assert _lines(caplog)[-1] == "checked 65 in the last 60 s: all unchanged"

