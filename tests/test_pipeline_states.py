"""A pass's ``SourceState``s are read from its claimed rows by position
(``pipeline._states``): every field must be the one its name says, on both backends."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col

from config.schema import Config
from monitor.check.analyse import SourceState
from monitor.check.pipeline import Checker, _state, _states
from monitor.clock import utcnow
from storage import repo
from storage.db import session_scope
from storage.models import Source


def test_states_of_claimed_and_read_rows_match_their_names(engine: Engine, db_url: str) -> None:
    config = Config.model_validate({"database": db_url, "vendors": [{
        "id": "v", "name": "V", "sources": [
            {"id": f"s{i}", "kind": "page", "url": f"http://127.0.0.1:9/{i}"}
            for i in range(3)]}]})
    Checker(config, engine).sync()
    since = utcnow() - timedelta(hours=1)
    with session_scope(engine) as session:  # every field its own, distinct value
        session.execute(update(Source).where(col(Source.id) == "s1").values(
            etag='"e1"', last_modified="Mon, 01 Jan 2024 00:00:00 GMT",
            current_snapshot_id=None, current_hash="c" * 64, body_hash="b" * 64,
            pending_hash="p" * 64, pending_count=2, pending_since=since,
            consecutive_failures=3, alert_state="failing", parser_version="page/7"))
    with session_scope(engine) as session:
        claimed = repo.claim_due(session, "w", utcnow(), 60)
        read = repo.check_rows(session, ["s0", "s1", "s2"])
    for rows in (claimed, read):
        states = _states(rows)
        assert states == {r.id: _state(r) for r in rows}  # by position = by name
        assert set(states) == {"s0", "s1", "s2"}
        assert states["s1"] == SourceState(
            id="s1", current_snapshot_id=None, current_hash="c" * 64, body_hash="b" * 64,
            pending_hash="p" * 64, pending_count=2, consecutive_failures=3,
            alert_state="failing", parser_version="page/7", pending_since=since)
    assert _states([]) == {}
