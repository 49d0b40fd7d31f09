"""``bench.seed`` writes true baselines: a daemon started on a seeded database is answered
304 (the site's validators are on each source) and, asked without validators, finds
each document unchanged (the stored document is the one the site serves, parsed as a
first check parses it): nothing fires, no snapshot is added. And a real change of a
document after the seed fires as it would after a real first check."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from bench.seed import seed
from bench.workload import documents
from config import load_config
from monitor.check.pipeline import Checker
from monitor.demo.vendorsite import VendorSite
from storage.db import open_database

N = 12


def _check(config_path: Path) -> tuple[dict[str, int], int, int]:
    config = load_config(config_path)
    engine = open_database(config.database)
    checker = Checker(config, engine)
    try:
        summary = asyncio.run(checker.check())
        with engine.connect() as conn:
            snapshots = int(conn.execute(text("SELECT count(*) FROM snapshot")).scalar_one())
    finally:
        checker.close()
        engine.dispose()
    return summary.outcomes, summary.triggers, snapshots


def test_seeded_baselines_are_the_first_check(db_url: str, tmp_path: Path,
                                               generated_site: VendorSite) -> None:
    path = tmp_path / "reassess.yaml"
    out = seed(db_url, path, sources=N, triggers=50, checkruns=2,
               base_url=str(generated_site.base_url), interval="15m", days=30,
               analyze=False, workers=1, cache=tmp_path / "cache")
    assert out["snapshot_rows"] == N
    engine = open_database(load_config(path).database)
    with engine.connect() as conn:
        missing = conn.execute(text(
            "SELECT count(*) FROM source WHERE etag IS NULL OR last_modified IS NULL OR "
            "current_snapshot_id IS NULL OR current_hash IS NULL")).scalar_one()
    engine.dispose()
    assert missing == 0

    assert _check(path) == ({"not_modified": N}, 0, N)

    engine = open_database(load_config(path).database)
    with engine.begin() as conn:  # asked without validators: the whole document, unchanged
        conn.execute(text("UPDATE source SET etag = NULL, last_modified = NULL"))
    engine.dispose()
    assert _check(path) == ({"unchanged": N}, 0, N)

    doc = documents(N)[0]  # a real change after the seed: that source alone fires
    generated_site.control(doc.vendor, "add_subprocessor", name="Seedcheck Analytics Ltd",
                           purpose="Analytics", location="Ireland")
    outcomes, triggers, snapshots = _check(path)
    assert outcomes == {"changed": 1, "not_modified": N - 1}
    assert triggers >= 1 and snapshots == N + 1


def test_cached_baselines_are_the_computed_ones(tmp_path: Path) -> None:
    """A second seed of the same documents reads the baselines back from the cache."""
    url = "http://127.0.0.1:9"
    first = seed(f"sqlite:///{tmp_path}/a.db", tmp_path / "a.yaml", sources=N, triggers=0,
                 checkruns=1, base_url=url, interval="15m", days=1, analyze=False,
                 workers=1, cache=tmp_path / "cache")
    assert list((tmp_path / "cache").glob("baselines-*/complete"))
    second = seed(f"sqlite:///{tmp_path}/b.db", tmp_path / "b.yaml", sources=N, triggers=0,
                  checkruns=1, base_url=url, interval="15m", days=1, analyze=False,
                  workers=1, cache=tmp_path / "cache")
    assert first["snapshot_rows"] == second["snapshot_rows"] == N

    def rows(name: str) -> list[tuple[object, ...]]:
        engine = open_database(f"sqlite:///{tmp_path}/{name}.db")
        with engine.connect() as conn:
            got = [tuple(r) for r in conn.execute(text(
                "SELECT s.id, s.etag, s.last_modified, s.current_hash, s.body_hash, "
                "p.content_hash, p.document FROM source s JOIN snapshot p "
                "ON p.id = s.current_snapshot_id ORDER BY s.id"))]
        engine.dispose()
        return got

    assert rows("a") == rows("b")
