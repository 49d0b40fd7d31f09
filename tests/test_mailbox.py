"""The ``mailbox`` kind (issue 18) against a real IMAP server on loopback: pymap's
in-memory backend, driven over IMAP (APPEND) like a mail server receiving the vendor's
notices. A new subprocessor notice fires ``subprocessor_change`` once, with the
subprocessor as entity and the message's id, headers and hash as evidence; a check
with no new mail fires nothing; messages from other senders are not read. SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import json
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from loopback_site import fired
from procs import wait_for

from config.errors import ConfigError
from config.loader import parse_config
from sources import get_kind
from sources.fetch import Fetcher, FetchOptions, FetchRequest, FetchResult
from sources.via import via_for
from triggers.mailbox import subprocessor_names

USER, PASSWORD, FOLDER = "alerts", "imap-s3cret-pw", "INBOX/vendor-notices"
PYMAP = shutil.which("pymap") or str(Path(sys.executable).with_name("pymap"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            return s.recv(16).startswith(b"* OK")
    except OSError:
        return False


@contextlib.contextmanager
def _pymap(tmp_path: Path, *tls: str) -> Iterator[int]:
    """pymap (dict backend) on 127.0.0.1; the folder created over IMAP."""
    if not Path(PYMAP).exists():
        pytest.skip("pymap is not installed (the test extra)")
    port = _free_port()
    log = open(tmp_path / "pymap.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([PYMAP, "--host", "127.0.0.1", "--port", str(port),
                             *(tls or ("--no-tls",)), "dict", "--demo-user", USER,
                             "--demo-password", PASSWORD],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_for(lambda: proc.poll() is not None or _answers(port), 20, "pymap to listen")
        assert proc.poll() is None, (tmp_path / "pymap.log").read_text()
        if not tls:
            with _client(port) as c:
                assert c.create(FOLDER)[0] == "OK"
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


@pytest.fixture
def imap_server(tmp_path: Path) -> Iterator[int]:
    """A plain IMAP server on loopback (``tls: false``)."""
    with _pymap(tmp_path) as port:
        yield port


class _client:
    def __init__(self, port: int) -> None:
        self.c = imaplib.IMAP4("127.0.0.1", port, timeout=5)

    def __enter__(self) -> imaplib.IMAP4:
        self.c.login(USER, PASSWORD)
        return self.c

    def __exit__(self, *exc: object) -> None:
        self.c.logout()


def deliver(port: int, sender: str, subject: str, text: str, html: str | None = None,
            msgid: str = "") -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, f"{USER}@example.com", subject
    msg["Date"] = "Mon, 01 Dec 2025 10:00:00 +0000"
    msg["Message-ID"] = msgid or f"<{abs(hash((sender, subject)))}@mail.example>"
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    with _client(port) as c:
        assert c.append(FOLDER, None, None, msg.as_bytes())[0] == "OK"


NOTICE = """\
Hello,

Acme AI is updating its list of subprocessors. With 30 days notice, we are
adding Snowflake Inc. as a new subprocessor for data warehousing.

Segment.io has been removed from our list of subprocessors.

--\x20
Acme Trust Center, powered by SafeBase
"""

CONFIG = """\
database: {db}
vendors:
  - id: acme
    name: Acme AI
    sources:
      - id: acme-trust-mail
        kind: mailbox
        url: imap://{user}@127.0.0.1:{port}/{folder}
        password: ${{IMAP_PASSWORD}}
        tls: false
        from: ["@safebase\\\\.example$", "trust@acme\\\\.example"]
        subject: ["acme"]
"""


def test_mailbox_end_to_end(imap_server: int, db_url: str, make_config: Any,
                            run_cli: Callable[..., Any]) -> None:
    port = imap_server
    env = {"IMAP_PASSWORD": PASSWORD}
    config = make_config(CONFIG, db=db_url, user=USER, port=port, folder=FOLDER)
    deliver(port, "Acme Trust <notifications@safebase.example>", "Acme AI: welcome",
            "You are now subscribed to updates from the Acme AI trust center.")
    deliver(port, "Other Vendor <trust@other.example>", "Other: new subprocessor",
            "We are adding Mallory Corp as a new subprocessor.")
    first = run_cli("check", "--config", str(config), env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "baseline 1" in first.stdout

    deliver(port, "Acme Trust <notifications@safebase.example>",
            "Acme AI subprocessor update", NOTICE,
            html="<p>Acme AI is updating its list of subprocessors. We are adding "
                 "<b>Snowflake Inc.</b> as a new subprocessor.</p>",
            msgid="<notice-1@safebase.example>")
    second = run_cli("check", "--config", str(config), env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    third = run_cli("check", "--config", str(config), env=env)  # no new mail
    assert third.returncode == 0, third.stdout + third.stderr
    for out in (first, second, third):
        assert PASSWORD not in out.stdout + out.stderr

    found = fired(db_url)
    assert [t[:2] for t in found] == [("subprocessor_change", ["Snowflake Inc.", "Segment.io"])]
    evidence = found[0][2]
    assert evidence["message_id"] == "<notice-1@safebase.example>"
    assert evidence["headers"]["Subject"] == "Acme AI subprocessor update"
    assert len(evidence["sha256"]) == 64
    assert evidence["added"] == ["Snowflake Inc."] and evidence["removed"] == ["Segment.io"]


def _fetch(port: int, password: str, tls: Any = False, **settings: Any
           ) -> FetchResult:
    request = FetchRequest("s", f"imap://{USER}@127.0.0.1:{port}/{FOLDER}",
                           via={"imap": {"tls": tls, **settings, "password": password}})

    async def run() -> FetchResult:
        async with Fetcher(FetchOptions(timeout=5)) as fetcher:
            return await fetcher.fetch(request, how=via_for(request))
    return asyncio.run(run())


def test_mailbox_fetch_bounds_and_wrong_password(imap_server: int) -> None:
    port = imap_server
    for i in range(4):
        deliver(port, "trust@acme.example", f"Acme notice {i}", "x" * (i * 3000),
                msgid=f"<n{i}@acme.example>")
    deliver(port, "someone@else.example", "Acme look-alike", "no", msgid="<other@x>")
    got = _fetch(port, PASSWORD, **{"from": ["@acme\\.example$"], "max_messages": 2,
                                    "max_message_bytes": 8000})
    assert got.ok and got.status == 200, got.error
    # notice 3 is over the size cap, the other sender's is not the vendor's, and of the
    # rest the newest two are read
    kept = [m["raw"] for m in json.loads(got.body or b"")["messages"]]
    assert [next(n for n in range(4) if f"Acme notice {n}" in raw) for raw in kept] == [1, 2]
    again = _fetch(port, PASSWORD, **{"from": ["@acme\\.example$"], "max_messages": 2,
                                      "max_message_bytes": 8000})
    assert again.etag == got.etag
    denied = _fetch(port, "wrong-password")
    assert not denied.ok and (denied.error or "").startswith("imap: ")
    assert "wrong-password" not in (denied.error or "")


def test_mailbox_tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """STARTTLS with a verified certificate (a self-signed one trusted through
    SSL_CERT_FILE); TLS from the start, the default, refuses a server that has none."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True,
                   capture_output=True, timeout=30)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with _pymap(tmp_path, "--cert", str(cert), "--key", str(key)) as port:
        got = _fetch(port, PASSWORD, tls="starttls", **{"from": ["nobody"]})
        assert got.error and "vendor-notices" in got.error  # logged in over TLS; no folder
        assert "login" not in got.error
        implicit = _fetch(port, PASSWORD, tls=True)  # the default, on a STARTTLS port
        assert implicit.error and "SSL" in implicit.error
        plain = _fetch(port, "wrong-password", tls="starttls")
        assert plain.error == ("imap: login refused for alerts: [AUTHENTICATIONFAILED] "
                               "Invalid authentication credentials.")


def test_mailbox_config_rules() -> None:
    text = CONFIG.format(db="sqlite://", user=USER, port=1, folder=FOLDER)
    with pytest.raises(ConfigError, match="password"):
        parse_config(text.replace(f"imap://{USER}@", f"imap://{USER}:pw@"),
                     env={"IMAP_PASSWORD": "x"})
    with pytest.raises(ConfigError, match="kind: mailbox"):
        parse_config(text.replace("kind: mailbox", "kind: page"), env={"IMAP_PASSWORD": "x"})
    source = parse_config(text, env={"IMAP_PASSWORD": "imap-secret"}).vendors[0].sources[0]
    assert source.password == "${IMAP_PASSWORD}"  # the placeholder kept, the value bound
    assert source.secrets() == {"imap-secret": "${IMAP_PASSWORD}"}
    assert (source.fetch_via() or {})["imap"]["password"] == "imap-secret"


def test_notice_wording() -> None:
    assert subprocessor_names("Sub-processor changes", [
        "New sub-processors:", "- OpenAI, L.L.C. (LLM inference, United States)",
        "- Amazon Web Services, Inc. – hosting", "Removed: Mixpanel."]) == {
        "added": ["OpenAI, L.L.C.", "Amazon Web Services, Inc."], "removed": ["Mixpanel"]}
    assert subprocessor_names("Newsletter", ["We are adding dark mode."]) == {
        "added": [], "removed": []}


def test_diff_mailbox_offline(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    def body(*texts: str) -> str:
        raws = [f"From: trust@acme.example\r\nSubject: Acme notice {i}\r\nMessage-ID: "
                f"<m{i}@acme.example>\r\nContent-Type: text/html\r\n\r\n{t}\r\n"
                for i, t in enumerate(texts)]
        return json.dumps({"messages": [{"uid": i, "raw": r} for i, r in enumerate(raws)]})
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(body("<p>Hello</p>"))
    new.write_text(body("<p>Hello</p>", "<p>We have engaged <b>Anthropic, PBC</b> as a "
                                        "subprocessor.</p>"))
    res = run_cli("diff", "--kind", "mailbox", str(old), str(new), "--json")
    assert res.returncode == 0, res.stderr
    fired = json.loads(res.stdout)["triggers"]
    assert [(t["type"], t["severity"], t["entities"]) for t in fired] == [
        ("subprocessor_change", "high", ["Anthropic, PBC"])]
    doc = get_kind("mailbox").parse(new.read_bytes(), get_kind("mailbox").Settings())
    assert doc.data["entries"]["<m1@acme.example>"]["text"] == [
        "We have engaged Anthropic, PBC as a subprocessor."]
