"""Channel URLs at config load, ``notify-test`` / ``notify-status`` / ``notify-retry``, and
secrets: no token or password is ever printed, logged or stored in an error."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from apprise.plugins.slack import NotifySlack
from notify_receivers import HttpSink, free_port
from typer.testing import CliRunner

from config.errors import ConfigError
from config.loader import parse_config
from monitor.cli import app
from monitor.clock import utcnow
from monitor.logs import redact
from storage import outbox
from storage.db import open_database, session_scope

SECRET = "Sup3rSecretTok"
SLACK_TOKEN = "TIiajkdnlazkcOXrIdevi7FQ"

# the shape from the issue, verbatim (the long line split only for the line length)
ISSUE_SHAPE = (
    "channels:\n"
    "  security-team:\n"
    '    urls: ["mailto://${SMTP_USER}:${SMTP_PASS}@example.com?smtp=smtp.example.com'
    '&to=sec@example.com", "${SLACK_WEBHOOK_URL}"]\n'
    '    digest: "daily 09:00"        # optional: batch triggers below `immediate`\n'
    "    immediate: high              # optional: this severity and above go at once\n")


def test_the_issue_channel_shape_is_accepted() -> None:
    env = {"SMTP_USER": "alerts", "SMTP_PASS": SECRET,
           "SLACK_WEBHOOK_URL": f"https://hooks.slack.com/services/T1JJ3T3L2/A1BRTD4JD/"
                                f"{SLACK_TOKEN}"}
    config = parse_config(ISSUE_SHAPE, "reassess.yaml", env)
    channel = config.channels["security-team"]
    assert channel.digest == "daily 09:00" and channel.immediate == "high"
    assert len(channel.urls) == 2


@pytest.mark.parametrize(("url", "expected"), [
    (f"slack://T1JJ3T3L2/{SECRET}", "apprise cannot read this slack:// URL"),
    (f"msteams://team/{SECRET}/b/c", "workflows://"),
    (f"nosuch://user:{SECRET}@host", "nosuch:// is not a notification service"),
    (f"hooks.slack.com/services/{SECRET}", "not a URL"),
])
def test_bad_channel_url_names_file_line_channel_never_the_secret(url: str,
                                                                  expected: str) -> None:
    text = f"channels:\n  ok:\n    urls: [\"json://127.0.0.1:9/x\"]\n  alerts:\n" \
           f"    urls:\n      - \"json://127.0.0.1:9/y\"\n      - \"{url}\"\n"
    with pytest.raises(ConfigError) as info:
        parse_config(text, "reassess.yaml", {})
    message = str(info.value)
    assert message.startswith("reassess.yaml:7: channels.alerts.urls[1]: "), message
    assert expected in message and SECRET not in message


def test_validate_exits_2_without_printing_the_secret(tmp_path: Path,
                                                      run_cli: Callable[..., Any]) -> None:
    path = tmp_path / "reassess.yaml"
    path.write_text(f"channels:\n  sec:\n    urls: [\"slack://T1JJ3T3L2/{SECRET}\"]\n")
    res = run_cli("validate", "--config", str(path))
    assert res.returncode == 2
    assert "channels.sec.urls[0]" in res.stderr and SECRET not in res.stdout + res.stderr


@pytest.fixture
def http() -> Iterator[HttpSink]:
    sink = HttpSink()
    yield sink
    sink.stop()


def _config(tmp_path: Path, http: HttpSink) -> Path:
    closed = free_port()
    path = tmp_path / "reassess.yaml"
    path.write_text(f"""
database: sqlite:///{tmp_path}/reassess.db
channels:
  ok:
    urls: ["json://hook:${{HOOK_SECRET}}@127.0.0.1:{http.port}/ok"]
  broken:
    urls: ["json://hook:${{HOOK_SECRET}}@127.0.0.1:{closed}/down",
           "mailto://alerts:${{HOOK_SECRET}}@127.0.0.1:{closed}?from=r@example.com&to=sec@example.com&mode=insecure"]
""")
    return path


def test_notify_test_reports_each_url_masked(tmp_path: Path, http: HttpSink,
                                             run_cli: Callable[..., Any]) -> None:
    path = _config(tmp_path, http)
    env = {"HOOK_SECRET": SECRET}
    res = run_cli("notify-test", "--config", str(path), env=env)
    output = res.stdout + res.stderr
    assert res.returncode == 1, output
    assert SECRET not in output
    lines = res.stdout.splitlines()
    assert lines[0].startswith("ok      ok[0] json://hook:****@127.0.0.1:")
    assert lines[0].endswith(": accepted")
    assert lines[1].startswith("FAILED  broken[0] json://hook:****@127.0.0.1:")
    assert "Connection error" in lines[1]
    assert lines[2].startswith("FAILED  broken[1] mailto://alerts:****@127.0.0.1:")
    assert "1 of 3 URL(s) accepted" in res.stdout
    [envelope] = http.json_posts("/ok")
    assert json.loads(envelope["message"])["kind"] == "test"


def test_notify_test_one_channel(tmp_path: Path, http: HttpSink,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    path = _config(tmp_path, http)
    res = CliRunner().invoke(app, ["notify-test", "--config", str(path), "--channel", "ok"])
    assert res.exit_code == 0 and "1 of 1 URL(s) accepted" in res.output
    res = CliRunner().invoke(app, ["notify-test", "--config", str(path), "--channel", "nope"])
    assert res.exit_code == 2


def test_notify_test_slack_refusal_says_why_without_the_token(
        tmp_path: Path, http: HttpSink, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(NotifySlack, "webhook_url", f"{http.url}/services")
    monkeypatch.setenv("SLACK_WEBHOOK_URL",
                       f"https://hooks.slack.com/services/T1JJ3T3L2/A1BRTD4JD/{SLACK_TOKEN}")
    path = tmp_path / "reassess.yaml"
    path.write_text("channels:\n  chat:\n    urls: [\"${SLACK_WEBHOOK_URL}\"]\n")
    http.status = 500
    res = CliRunner().invoke(app, ["notify-test", "--config", str(path)])
    assert res.exit_code == 1, res.output
    assert "FAILED  chat[0] slack://T...2/A...D/T...Q" in res.output
    assert "500" in res.output and SLACK_TOKEN not in res.output
    assert len(http.posts) == 1 and SLACK_TOKEN in http.posts[0][0]  # it did try
    http.status = 200
    res = CliRunner().invoke(app, ["notify-test", "--config", str(path)])
    assert res.exit_code == 0 and "accepted" in res.output
    payload = json.loads(http.posts[-1][2])
    assert payload["attachments"][0]["title"] == "[reassess] test message"


def test_registered_secrets_are_redacted_from_any_text() -> None:
    from monitor.notify.channels import register_secrets

    config = parse_config(f"channels:\n  c:\n    urls: [\"json://u:{SECRET}@127.0.0.1:9/x\", "
                          f"\"slack://T1JJ3T3L2/A1BRTD4JD/{SLACK_TOKEN}\"]\n")
    register_secrets(config.channels)
    text = redact(f"error posting to /services/T1JJ3T3L2/A1BRTD4JD/{SLACK_TOKEN}: "
                  f"password {SECRET} rejected")
    assert SECRET not in text and SLACK_TOKEN not in text


def test_notify_status_and_retry(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/reassess.db"
    path = tmp_path / "reassess.yaml"
    path.write_text(f"database: {db}\n")
    engine = open_database(db)
    now = utcnow()
    with session_scope(engine) as s:
        outbox.enqueue(s, [{"dedupe_key": "x", "kind": "trigger", "channel": "gone",
                            "status": "failed", "attempts": 12, "created_at": now,
                            "last_error": f"refused by json://u:{SECRET}@host/x",
                            "payload": {"version": 1}}])
    engine.dispose()
    runner = CliRunner()
    res = runner.invoke(app, ["notify-status", "--config", str(path), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["counts"] == {"failed": 1} and SECRET not in res.output
    res = runner.invoke(app, ["notify-retry", "--config", str(path)])
    assert res.exit_code == 0 and "1 failed notification(s) back in the queue" in res.output
    res = runner.invoke(app, ["notify-status", "--config", str(path)])
    assert "pending 1" in res.output and "failed 0" in res.output
