"""The simulated vendor site's documents, as generated and after rounds of changes: a
corpus of realistic bodies for the tests that check the changelog classifier against
its reference (``test_classifier_identity.py``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def site_documents(vendors: int, rounds: int, changes: int,
                   docs: Iterable[str] | None = None) -> Iterator[tuple[str, str, bytes]]:
    """(kind, label, body) of every document (or those named in ``docs``) of a generated
    site, round after round, with ``changes`` random semantic changes between rounds."""
    from monitor.demo.vendorsite import DOCS, VendorSite

    site = VendorSite.generated(vendors, seed=3)
    names = list(docs) if docs is not None else list(DOCS)
    paths = [f"/{v}/{doc}" for v in site.vendors for doc in names] if docs is not None else None
    for rnd in range(rounds):
        if rnd:
            site.mutate_random(changes, paths=paths, seed=rnd)
        for vendor in site.vendors:
            for doc in names:
                yield DOCS[doc].kind, f"site/{vendor}/{doc}#{rnd}", site.document(vendor, doc)
