"""The workload: N documents on the simulated site, and each tool's configuration for them.

N/3 vendors, each with the issue's three documents: the subprocessor list (an HTML trust
page), the SDK changelog (GitHub releases Atom) and the status history (an Atom feed). A
kind not yet registered in ``sources`` is watched as ``page`` and the JSON says so.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

# (document path under /{vendor}/, reassess kind, source id suffix)
MIX: tuple[tuple[str, str, str], ...] = (
    ("subprocessors", "subprocessors", "subprocessors"),
    ("changelog.atom", "changelog", "changelog"),
    ("status/history.atom", "incidents", "status"),
)


@dataclass(frozen=True)
class Doc:
    vendor: str
    path: str  # /v0001/subprocessors
    kind: str
    source_id: str


def vendor_count(n: int) -> int:
    return math.ceil(n / len(MIX))


def vendor_slug(i: int, vendors: int) -> str:
    """The slug ``VendorSite.generated`` gives vendor ``i`` (1-based) of ``vendors``."""
    return f"v{i:0{max(4, len(str(vendors)))}d}"


def available_kinds() -> set[str]:
    from sources import REGISTRY

    return set(REGISTRY)


def _has_notify_settings() -> bool:
    from config.schema import Config

    return "notify" in Config.model_fields


def documents(n: int, kinds: set[str] | None = None) -> list[Doc]:
    """The first ``n`` documents, vendor by vendor."""
    kinds = available_kinds() if kinds is None else kinds
    vendors = vendor_count(n)
    docs: list[Doc] = []
    for i in range(1, vendors + 1):
        slug = vendor_slug(i, vendors)
        for path, kind, suffix in MIX:
            docs.append(Doc(vendor=slug, path=f"/{slug}/{path}",
                            kind=kind if kind in kinds else "page",
                            source_id=f"{slug}-{suffix}"))
    return docs[:n]


def reassess_config(docs: list[Doc], base_url: str, db_path: Path, *, concurrency: int,
                    interval: str | None = None, channel_url: str | None = None,
                    tick: str = "1s") -> str:
    """The YAML config: one vendor per slug, one assessment each, jitter 0.

    All sources share one host (127.0.0.1), so ``per_host`` is raised to ``concurrency``:
    with the default of 8 the bench would measure the politeness limit, not reassess.
    """
    lines = [f"database: sqlite:///{db_path}",
             f"http: {{concurrency: {concurrency}, per_host: {concurrency}}}",
             f"schedule: {{jitter: 0, tick: {tick}}}"]
    if channel_url:
        if _has_notify_settings():
            lines.append("notify: {tick: 1s}")
        lines += ["channels:",
                  f"  bench: {{urls: [{json.dumps(channel_url)}]}}"]
    lines.append("vendors:")
    by_vendor: dict[str, list[Doc]] = {}
    for doc in docs:
        by_vendor.setdefault(doc.vendor, []).append(doc)
    for slug, vdocs in by_vendor.items():
        lines += [f"  - id: {slug}", f"    name: Vendor {slug}"]
        if channel_url:
            lines.append("    owner: [bench]")
        if interval:
            lines.append(f"    interval: {interval}")
        lines.append("    sources:")
        for d in vdocs:
            lines.append(f"      - {{id: {d.source_id}, kind: {d.kind}, "
                         f"url: \"{base_url}{d.path}\"}}")
    lines.append("assessments:")
    for slug in by_vendor:
        lines += [f"  - {{id: {slug}-review, vendor: {slug}, system: Assistant, "
                  f"disposition: approved, assessed: 2026-01-15, review_every: 12 months}}"]
    return "\n".join(lines) + "\n"


def urlwatch_files(docs: list[Doc], base_url: str, workdir: Path) -> tuple[Path, Path, Path]:
    """urls.yaml (one plain url job per document), urlwatch.yaml and the cache path."""
    workdir.mkdir(parents=True, exist_ok=True)
    urls = workdir / "urls.yaml"
    urls.write_text("".join(f"name: {d.source_id}\nurl: \"{base_url}{d.path}\"\n---\n"
                            for d in docs), encoding="utf-8")
    config = workdir / "urlwatch.yaml"
    config.write_text("display: {new: true, error: true, unchanged: false, empty-diff: true}\n"
                      "report:\n  stdout: {enabled: true, color: false}\n"
                      "  text: {details: true, footer: false, line_length: 75}\n",
                      encoding="utf-8")
    return urls, config, workdir / "cache.db"


def url_list(docs: list[Doc], base_url: str, path: Path) -> Path:
    path.write_text("".join(f"{base_url}{d.path}\n" for d in docs), encoding="utf-8")
    return path
