"""The shortcuts of the parse-speed round give what the full readings give:
``update_log(html, texts=False)`` is the full log with the older updates' text and time
left out. ``python -m bench.parse_equivalence`` compares whole parses."""

from __future__ import annotations

import pytest

from sources.incidents import updatelog
from sources.read.html import copy, parse_html
from tests.test_kinds_b import LOG
from tests.test_parse_equivalence import LOGS


def _statuses_after_first(log: updatelog.Log) -> updatelog.Log:
    updates, components, scheduled = log
    older = [{"status": u["status"], "text": None, "at": None} for u in updates[1:]]
    return updates[:1] + older, components, scheduled


@pytest.mark.parametrize("html", [*LOGS, LOG, LOG + LOG, "<div>" + LOG + "</div>" + LOG])
def test_update_log_without_older_texts(html: str) -> None:
    full = updatelog.update_log(html)
    assert updatelog.update_log(html, texts=False) == _statuses_after_first(full)
    root = parse_html(html)
    assert updatelog.update_log_of(copy(root), texts=False) == _statuses_after_first(
        updatelog.update_log_of(copy(root)))
