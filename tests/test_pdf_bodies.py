"""PDF bodies (issue 18): the ``page`` and ``model_card`` kinds read a PDF's text page by
page (``sources/read/pdf.py``), bounded in pages and characters; a changed DPA clause or
system card fact fires like in any other document, offline and in ``reassess check``
against a loopback server (SQLite and PostgreSQL), and the snapshot keeps the PDF."""

from __future__ import annotations

import io
import json
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from loopback_site import LoopbackSite, fired
from sqlalchemy import select

from config.errors import ParseError
from sources import get_kind
from sources.read.pdf import is_pdf, pdf_markdown, pdf_pages
from storage.db import open_database, session_scope
from storage.models import Snapshot

reportlab = pytest.importorskip("reportlab")


def make_pdf(*pages: list[str]) -> bytes:
    """A real PDF (reportlab), one list of lines per page, with a page-number footer."""
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)
    for number, lines in enumerate(pages, 1):
        y = 800
        for line in lines:
            c.drawString(72, y, line)
            y -= 16
        c.drawString(290, 40, f"Page {number} of {len(pages)}")
        c.showPage()
    c.save()
    return buf.getvalue()


DPA_HEAD = ["Data Processing Addendum", "", "1. Definitions",
            "Customer Data means any data that the Customer submits", "to the Services.", ""]
DPA_TAIL = ["3. Retention", "Customer Data is deleted within 30 days of termination."]


def dpa(training: str) -> bytes:
    return make_pdf([*DPA_HEAD, "2. Use of Customer Data", training], DPA_TAIL)


OLD_CLAUSE = "Acme does not use Customer Data to train its models."
NEW_CLAUSE = "Acme may use Customer Data to train and improve its models."


def card(modalities: str) -> bytes:
    return make_pdf(["Acme-7 System Card", "", "Model Overview",
                     "Acme-7 is a large language model trained by Acme.", "",
                     "Model name: Acme-7", f"Input modalities: {modalities}",
                     "License: Acme Community License"],
                    ["Safety Evaluations",
                     "We evaluated the model for harmful outputs across ten categories",
                     "of risk and report the results below for reviewers."])


def test_pdf_text_per_page_as_markdown() -> None:
    body = dpa(OLD_CLAUSE)
    assert is_pdf(body) and not is_pdf(b"<html>%PDF-</html>" + b" " * 2000)
    pages = pdf_pages(body)
    assert len(pages) == 2 and "Retention" in pages[1]
    text = pdf_markdown(body)
    assert "## 2. Use of Customer Data" in text
    assert "Customer Data means any data that the Customer submits to the Services." in text
    assert "Page 1 of 2" not in text  # running page numbers are no content


def test_pdf_bounds_and_garbage() -> None:
    body = make_pdf(*[[f"Section {i}", "Some words on this page."] for i in range(12)])
    assert len(pdf_pages(body, max_pages=5)) == 5
    assert sum(map(len, pdf_pages(body, max_chars=40))) <= 40
    with pytest.raises(ParseError):
        get_kind("page").parse(b"%PDF-1.7\n" + b"\x00garbage" * 100, get_kind("page").Settings())


def test_diff_page_pdf_fires_training_data_change(tmp_path: Path,
                                                  run_cli: Callable[..., Any]) -> None:
    old, new = tmp_path / "old.pdf", tmp_path / "new.pdf"
    old.write_bytes(dpa(OLD_CLAUSE))
    new.write_bytes(dpa(NEW_CLAUSE))
    res = run_cli("diff", "--kind", "page", str(old), str(new), "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert [t["type"] for t in out["triggers"]] == ["training_data_change"]
    assert out["triggers"][0]["entities"] == ["2. Use of Customer Data"]
    same = run_cli("diff", "--kind", "page", str(old), str(old), "--json")
    assert json.loads(same.stdout)["triggers"] == []


def test_diff_model_card_pdf_fires_new_capability(tmp_path: Path,
                                                  run_cli: Callable[..., Any]) -> None:
    old, new = tmp_path / "card1.pdf", tmp_path / "card2.pdf"
    old.write_bytes(card("Text"))
    new.write_bytes(card("Text, Image"))
    res = run_cli("diff", "--kind", "model_card", str(old), str(new), "--json")
    assert res.returncode == 0, res.stderr
    fired = json.loads(res.stdout)["triggers"]
    assert [(t["type"], t["entities"]) for t in fired] == [("new_capability", ["Image"])]


CONFIG = """\
database: {db}
vendors:
  - id: acme
    name: Acme AI
    sources:
      - id: acme-dpa-pdf
        kind: page
        url: {site}/legal/dpa.pdf
      - id: acme-system-card-pdf
        kind: model_card
        url: {site}/acme-7-system-card.pdf
"""


def test_check_pdf_end_to_end(db_url: str, make_config: Any,
                              run_cli: Callable[..., Any]) -> None:
    """A DPA and a system card published as PDF: each change fires once."""
    with LoopbackSite() as site:
        site.set("/legal/dpa.pdf", dpa(OLD_CLAUSE), "application/pdf")
        site.set("/acme-7-system-card.pdf", card("Text"), "application/pdf")
        config = make_config(CONFIG, db=db_url, site=site.url)
        first = run_cli("check", "--config", str(config))
        assert first.returncode == 0, first.stdout + first.stderr
        assert "baseline 2" in first.stdout
        site.set("/legal/dpa.pdf", dpa(NEW_CLAUSE), "application/pdf")
        site.set("/acme-7-system-card.pdf", card("Text, Image"), "application/pdf")
        for _ in range(2):  # the change, then the same PDFs again: one trigger each
            res = run_cli("check", "--config", str(config))
            assert res.returncode == 0, res.stdout + res.stderr
    assert sorted(t[:2] for t in fired(db_url)) == [
        ("new_capability", ["Image"]), ("training_data_change", ["2. Use of Customer Data"])]
    engine = open_database(db_url)
    try:
        with session_scope(engine, write=False) as session:
            snaps = session.exec(select(Snapshot).where(Snapshot.source_id == "acme-dpa-pdf")
                                 .order_by(Snapshot.id)).all()
            bodies = [zlib.decompress(s[0].body) for s in snaps]
            types = [s[0].content_type for s in snaps]
    finally:
        engine.dispose()
    assert bodies == [dpa(OLD_CLAUSE), dpa(NEW_CLAUSE)]  # the evidence is the PDF itself
    assert types == ["application/pdf", "application/pdf"]
