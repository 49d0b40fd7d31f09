"""The JSON API against its own description: ``schemathesis run`` on ``/openapi.json``.

A database seeded by the real pipeline (every kind of change), the app on real uvicorn
with reading closed to anonymous users, and schemathesis driving every operation with a
reviewer's bearer token: generated and boundary requests, negative data, stateful
sequences, every check (server errors, undocumented status codes, response schemas,
auth that is declared but ignored …). Bounded: a few examples per operation and a time
budget.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from web_fixtures import TOKENS, LiveServer, demo_config, seed

from monitor.demo.vendorsite import VendorSite
from storage.db import open_database

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    site = VendorSite(vendors=["acme", "northwind", "heliosml"])
    site.start(host="127.0.0.1", port=0)
    tmp = tmp_path_factory.mktemp("api")
    config = demo_config(site.base_url, f"sqlite:///{tmp}/reassess.db", helios=True,
                         public_read=False)
    engine = open_database(config.database)
    seed(site, config, engine)
    live = LiveServer(config, engine).start()
    yield live
    live.stop()
    engine.dispose()
    site.stop()


def test_the_spec_declares_what_the_api_does(api: LiveServer) -> None:
    spec: dict[str, Any] = httpx.get(api.url + "/openapi.json", timeout=10).json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"] == {"type": "http", "scheme": "bearer",
                                 "description": schemes["bearer"]["description"]}
    listing = spec["paths"]["/api/triggers"]["get"]
    params = {p["name"]: p["schema"] for p in listing["parameters"]}
    assert "enum" in params["type"]["anyOf"][0] and "review_due" in params["type"]["anyOf"][0][
        "enum"]
    assert {"enum": ["open", "acknowledged", "resolved", "suppressed"],
            "type": "string"} in params["status"]["anyOf"]
    formats = {s.get("format") for s in params["since"]["anyOf"]}
    assert {"date", "date-time"} <= formats
    detail = spec["paths"]["/api/triggers/{trigger_id}"]["get"]["responses"]
    assert {"200", "401", "403", "404", "422"} <= set(detail)
    assert listing["security"] == [{"bearer": []}]


def test_validation_errors_have_the_declared_shape(api: LiveServer) -> None:
    token = TOKENS["dash"][1]
    bad = httpx.get(api.url + "/api/triggers", params={"severity": "urgent", "until": "0.5"},
                    headers={"authorization": f"Bearer {token}"}, timeout=10)
    assert bad.status_code == 422
    detail = bad.json()["detail"]
    assert isinstance(detail, list) and {d["loc"][-1] for d in detail} == {"severity", "until"}
    missing = httpx.get(api.url + "/api/triggers/999999",
                        headers={"authorization": f"Bearer {token}"}, timeout=10)
    assert missing.status_code == 404 and isinstance(missing.json()["detail"], str)
    anonymous = httpx.get(api.url + "/api/triggers", timeout=10)
    assert anonymous.status_code == 401


def test_schemathesis_finds_no_failure(api: LiveServer, tmp_path: Path) -> None:
    report = tmp_path / "report"
    st = Path(sys.executable).parent / "schemathesis"
    cmd = [str(st), "run", api.url + "/openapi.json",
           "--header", f"Authorization: Bearer {TOKENS['ci-bot'][1]}",
           "--checks", "all", "--max-examples", "12", "--max-time", "60",
           "--request-timeout", "10", "--workers", "1", "--seed", "1",
           "--report", "ndjson", "--report-dir", str(report)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False,
                         stdin=subprocess.DEVNULL)
    tail = "\n".join(res.stdout.splitlines()[-60:])
    assert res.returncode == 0, tail
    assert "No issues found" in res.stdout, tail
    events = [json.loads(line) for f in report.glob("*.ndjson")
              for line in f.read_text().splitlines() if line.strip()]
    assert events, "schemathesis wrote no report"
