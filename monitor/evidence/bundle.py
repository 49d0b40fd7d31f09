"""Evidence bundles: one zip an auditor can check offline (docs/evidence.md).

``collect`` gathers, for an assessment or a vendor (and a time range), the triggers with
their controls, deadlines and lifecycle events, the snapshots before and after each
change (raw body, normalised document, HTTP metadata), each chained row's canonical
content and the segment of the hash chain that covers them. ``write_zip`` writes them
with ``manifest.json`` (the sha256 of every file), ``manifest.sha256`` (of the manifest)
and ``report.html`` (self-contained: no script, no external asset). ``verify_zip`` checks
a bundle without a database: every file against the manifest, the chain segment's links,
and every chained file against its record.

Everything comes from the stored rows, and the stored form is the redacted one (no
secret's value is in any column, docs/security.md): no secret reaches a bundle.
"""

from __future__ import annotations

import html
import json
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.engine import Engine
from sqlmodel import col

from config.schema import Config
from monitor.clock import utcnow
from storage import chain
from storage.db import session_scope
from storage.models import AssessmentFlag, AuditEvent, Snapshot, Trigger

FORMAT = "reassess.evidence/1"
MANIFEST = "manifest.json"
MANIFEST_HASH = "manifest.sha256"
CHAIN = "chain.json"
MAX_BODY = 50 * 1024 * 1024  # a stored body is capped at fetch; this is a last guard

_EXT = {"html": "html", "xml": "xml", "json": "json", "rss": "xml", "atom": "xml",
        "markdown": "md", "plain": "txt", "csv": "csv", "pdf": "pdf"}


@dataclass
class Scope:
    assessment: str | None = None
    vendor: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"assessment": self.assessment, "vendor": self.vendor,
                "since": chain.stamp(self.since), "until": chain.stamp(self.until)}


@dataclass
class Evidence:
    scope: Scope
    created_at: datetime
    triggers: list[dict[str, Any]] = field(default_factory=list)
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    audits: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)  # path → bytes (chained and raw)
    segment: list[dict[str, Any]] = field(default_factory=list)
    chained: dict[str, dict[str, Any]] = field(default_factory=dict)  # record file → link
    unchained: list[str] = field(default_factory=list)
    head: dict[str, Any] = field(default_factory=dict)
    controls: list[dict[str, Any]] = field(default_factory=list)

    @property
    def first_seq(self) -> int:
        return self.segment[0]["seq"] if self.segment else 0

    @property
    def last_seq(self) -> int:
        return self.segment[-1]["seq"] if self.segment else 0


def _ext(content_type: str | None) -> str:
    kind = (content_type or "").split(";")[0].strip().lower()
    for key, ext in _EXT.items():
        if key in kind:
            return ext
    return "bin"


def collect(config: Config, engine: Engine, scope: Scope) -> Evidence:
    """Everything a bundle holds, read in one read transaction."""
    from monitor.evidence.deadlines import trigger_deadlines
    from storage.queries import trigger_dict

    now = utcnow()
    ev = Evidence(scope=scope, created_at=now, controls=config.control_map().table())
    with session_scope(engine, write=False) as session:
        stmt = select(Trigger)
        if scope.vendor is not None:
            stmt = stmt.where(col(Trigger.vendor_id) == scope.vendor)
        if scope.assessment is not None:
            flagged = select(col(AssessmentFlag.trigger_id)).where(
                col(AssessmentFlag.assessment_id) == scope.assessment)
            stmt = stmt.where(or_(col(Trigger.id).in_(flagged),
                                  col(Trigger.assessment_id) == scope.assessment))
        if scope.since is not None:
            stmt = stmt.where(col(Trigger.created_at) >= scope.since)
        if scope.until is not None:
            stmt = stmt.where(col(Trigger.created_at) <= scope.until)
        triggers = list(session.execute(stmt.order_by(col(Trigger.id))).scalars())
        ids = [t.id for t in triggers if t.id is not None]
        flags: dict[int, list[str]] = {}
        for tid, aid in session.execute(select(col(AssessmentFlag.trigger_id),
                                               col(AssessmentFlag.assessment_id))
                                        .where(col(AssessmentFlag.trigger_id).in_(ids))):
            flags.setdefault(int(tid), []).append(str(aid))
        objects = [str(i) for i in ids]
        audit_where = [(col(AuditEvent.object_type) == "trigger")
                       & col(AuditEvent.object_id).in_(objects)]
        if scope.assessment is not None:
            audit_where.append((col(AuditEvent.object_type) == "assessment")
                               & (col(AuditEvent.object_id) == scope.assessment))
        elif scope.vendor is not None:
            ids_of_vendor = [a.id for a in config.assessments if a.vendor == scope.vendor]
            audit_where.append((col(AuditEvent.object_type) == "assessment")
                               & col(AuditEvent.object_id).in_(ids_of_vendor))
        audit_rows = session.execute(select(AuditEvent.__table__)  # type: ignore[attr-defined]
                                     .where(or_(*audit_where))
                                     .order_by(col(AuditEvent.id))).mappings().all()
        snap_ids = sorted({i for t in triggers for i in (t.old_snapshot_id, t.new_snapshot_id)
                           if i})
        snap_rows = session.execute(select(Snapshot.__table__)  # type: ignore[attr-defined]
                                    .where(col(Snapshot.id).in_(snap_ids))
                                    .order_by(col(Snapshot.id))).mappings().all()
        trig_rows = session.execute(select(Trigger.__table__)  # type: ignore[attr-defined]
                                    .where(col(Trigger.id).in_(ids))
                                    .order_by(col(Trigger.id))).mappings().all()

        keys: list[tuple[str, str]] = []
        events_of: dict[str, list[dict[str, Any]]] = {}
        for row in trig_rows:
            keys.append(("trigger", str(row["id"])))
            ev.files[f"records/trigger-{row['id']}.json"] = chain.canonical(
                chain.trigger_content(row))
        for row in audit_rows:
            keys.append(("audit", str(row["id"])))
            content = chain.audit_content(row)
            ev.files[f"records/audit-{row['id']}.json"] = chain.canonical(content)
            ev.audits.append(content)
            if row["object_type"] == "trigger":
                events_of.setdefault(str(row["object_id"]), []).append(content)
        for row in snap_rows:
            keys.append(("snapshot", str(row["id"])))
            content = chain.snapshot_content(row)
            ev.files[f"records/snapshot-{row['id']}.json"] = chain.canonical(content)
            base = f"snapshots/{row['id']}"
            ev.files[f"{base}/document.json"] = zlib.decompress(row["document"])
            body_file = None
            if row["body"] is not None:
                body = zlib.decompress(row["body"]) if len(row["body"]) < MAX_BODY else b""
                body_file = f"{base}/body.{_ext(row['content_type'])}"
                ev.files[body_file] = body
            http = {"url": row["url"], "fetched_at": chain.stamp(row["fetched_at"]),
                    "status": row["http_status"], "etag": row["etag"],
                    "last_modified": row["last_modified"],
                    "content_type": row["content_type"]}
            ev.files[f"{base}/http.json"] = json.dumps(http, indent=2).encode()
            ev.snapshots.append({"id": row["id"], "source": row["source_id"],
                                 "kind": row["kind"], "content_hash": row["content_hash"],
                                 "parser_version": row["parser_version"], **http,
                                 "document": f"{base}/document.json", "body": body_file,
                                 "record": f"records/snapshot-{row['id']}.json"})

        links = chain.records_for(session, keys)
        for t, i in keys:
            name = f"records/{t}-{i}.json"
            found = links.get((t, i))
            if found is None:
                ev.unchained.append(name)
            else:
                ev.chained[name] = {"seq": found[0], "object_type": t, "object_id": i}
        if links:
            seqs = [s for s, _ in links.values()]
            ev.segment = chain.segment(session, min(seqs), max(seqs))
        seq, hash_ = session.execute(select(col(chain.ChainHead.seq),
                                            col(chain.ChainHead.hash))).first() or (0, "")
        ev.head = {"seq": int(seq), "hash": str(hash_)}

        for t in triggers:
            item = trigger_dict(t, flags.get(t.id or 0))
            item["controls"] = config.controls_for(t.type, t.source_id, t.severity)
            item["deadlines"] = trigger_deadlines(config, t, now)
            item["changes"] = t.changes or []
            item["old_snapshot"] = t.old_snapshot_id
            item["new_snapshot"] = t.new_snapshot_id
            item["lifecycle"] = events_of.get(str(t.id), [])
            item["ack_note"] = t.ack_note
            item["record"] = f"records/trigger-{t.id}.json"
            ev.triggers.append(item)
    return ev


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode()


def bundle_files(ev: Evidence) -> dict[str, bytes]:
    """Every file of the bundle, manifest last."""
    files = dict(ev.files)
    files["triggers.json"] = _json(ev.triggers)
    files["lifecycle.json"] = _json(ev.audits)
    files["snapshots.json"] = _json(ev.snapshots)
    files["controls.json"] = _json(ev.controls)
    files[CHAIN] = _json({"records": ev.segment, "chained": ev.chained,
                          "unchained": ev.unchained, "head_at_export": ev.head})
    files["report.html"] = report_html(ev).encode("utf-8")
    manifest = {"format": FORMAT, "created_at": chain.stamp(ev.created_at),
                "scope": ev.scope.to_dict(), "head_at_export": ev.head,
                "files": {name: chain.sha256(data) for name, data in sorted(files.items())}}
    files[MANIFEST] = _json(manifest)
    files[MANIFEST_HASH] = (chain.sha256(files[MANIFEST]) + "  " + MANIFEST + "\n").encode()
    return files


def write_zip(ev: Evidence, path: Path) -> None:
    files = bundle_files(ev)
    tmp = path.with_name(path.name + ".part")
    stamp = ev.created_at.astimezone(UTC).timetuple()[:6]
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=stamp)  # type: ignore[arg-type]
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, files[name])
    tmp.replace(path)


# --- verification without a database ------------------------------------------------------


def verify_zip(path: Path) -> list[str]:
    """What does not match in a bundle, one line each naming the file; empty when sound."""
    problems: list[str] = []
    files: dict[str, bytes] = {}
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        return [f"{path}: not a readable zip archive ({exc})"]
    with zf:
        for info in zf.infolist():
            try:
                files[info.filename] = zf.read(info)
            except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError) as exc:
                # a damaged member: a bad CRC, a broken deflate stream
                problems.append(f"{info.filename}: cannot be read from the archive ({exc})")
    manifest_bytes = files.get(MANIFEST)
    if manifest_bytes is None:
        return [*problems, f"{MANIFEST}: missing"]
    recorded = files.get(MANIFEST_HASH, b"").decode("utf-8", "replace").split()
    if not recorded or recorded[0] != chain.sha256(manifest_bytes):
        # which of the two was altered cannot be told: both are named
        problems.append(f"{MANIFEST}: its sha256 does not match {MANIFEST_HASH}")
        problems.append(f"{MANIFEST_HASH}: does not match the sha256 of {MANIFEST}")
    try:
        manifest = json.loads(manifest_bytes)
        listed: dict[str, str] = dict(manifest["files"])
    except (ValueError, KeyError, TypeError) as exc:
        return [*problems, f"{MANIFEST}: not a manifest ({exc})"]
    for name, digest in sorted(listed.items()):
        data = files.get(name)
        if data is None:
            if not any(p.startswith(f"{name}:") for p in problems):
                problems.append(f"{name}: listed in {MANIFEST} but missing")
        elif chain.sha256(data) != digest:
            problems.append(f"{name}: its sha256 does not match {MANIFEST}")
    for name in sorted(set(files) - set(listed) - {MANIFEST, MANIFEST_HASH}):
        problems.append(f"{name}: not listed in {MANIFEST}")
    problems += _verify_chain(files)
    # one line per file: the first reason found
    seen: set[str] = set()
    unique = []
    for p in problems:
        name = p.split(":", 1)[0]
        if name not in seen:
            seen.add(name)
            unique.append(p)
    return unique


def _verify_chain(files: dict[str, bytes]) -> list[str]:
    try:
        doc = json.loads(files.get(CHAIN, b""))
        records = list(doc["records"])
        chained = dict(doc["chained"])
    except (ValueError, KeyError, TypeError) as exc:
        return [f"{CHAIN}: not a chain segment ({exc})"]
    problems = []
    broken = chain.check_segment(records)
    if broken:
        problems.append(f"{CHAIN}: {broken}")
    by_seq = {r["seq"]: r for r in records}
    for name, link in sorted(chained.items()):
        data = files.get(name)
        record = by_seq.get(link.get("seq"))
        if data is None:
            problems.append(f"{name}: chained (record {link.get('seq')}) but missing")
            continue
        if (record is None or record["object_type"] != link.get("object_type")
                or record["object_id"] != link.get("object_id")):
            problems.append(f"{CHAIN}: record {link.get('seq')} of {name} is not in the "
                            "segment")
            continue
        if chain.sha256(data) != record["content_hash"]:
            problems.append(f"{name}: does not match chain record {record['seq']}")
            continue
        if link.get("object_type") == "snapshot":
            content = json.loads(data)
            base = name.replace("records/snapshot-", "snapshots/").removesuffix(".json")
            doc_file = f"{base}/document.json"
            if chain.sha256(files.get(doc_file, b"")) != content.get("document_sha256"):
                problems.append(f"{doc_file}: does not match {name} (chain record "
                                f"{record['seq']})")
            if content.get("body_sha256"):
                body = [n for n in files if n.startswith(f"{base}/body.")]
                if not body or chain.sha256(files[body[0]]) != content["body_sha256"]:
                    problems.append(f"{body[0] if body else base + '/body'}: does not match "
                                    f"{name} (chain record {record['seq']})")
    return problems


# --- report.html -----------------------------------------------------------------------------


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


CSS = """body{font:14px/1.45 system-ui,sans-serif;margin:2rem;max-width:72rem;color:#1b1b1b}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}
h3{font-size:1rem;margin:1.2rem 0 .3rem}table{border-collapse:collapse;width:100%;margin:.4rem 0}
th,td{border:1px solid #ddd;padding:.25rem .45rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}code{font-size:12px;word-break:break-all}.sev-high,.sev-critical{color:#a00}
.muted{color:#555}"""


def report_html(ev: Evidence) -> str:
    scope = ev.scope
    what = (f"assessment {scope.assessment}" if scope.assessment
            else f"vendor {scope.vendor}")
    parts = ["<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">",
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
             f"<title>Evidence bundle: {_e(what)}</title><style>{CSS}</style></head><body>",
             f"<h1>Evidence bundle: {_e(what)}</h1>",
             "<p class=\"muted\">Written by reassess on "
             f"{_e(chain.stamp(ev.created_at))}; period {_e(chain.stamp(scope.since) or '—')} "
             f"to {_e(chain.stamp(scope.until) or '—')}. Check it offline with "
             "<code>reassess evidence verify FILE.zip</code>.</p>",
             "<h2>Integrity</h2><table><tbody>",
             f"<tr><th>Triggers</th><td>{len(ev.triggers)}</td></tr>",
             f"<tr><th>Snapshots</th><td>{len(ev.snapshots)}</td></tr>",
             f"<tr><th>Lifecycle events</th><td>{len(ev.audits)}</td></tr>",
             f"<tr><th>Chain segment</th><td>records {ev.first_seq}–{ev.last_seq}"
             f"</td></tr>",
             f"<tr><th>Chain head at export</th><td>record {_e(ev.head.get('seq'))}: "
             f"<code>{_e(ev.head.get('hash'))}</code></td></tr>",
             f"<tr><th>Unchained records</th><td>{len(ev.unchained)}</td></tr>",
             "</tbody></table>", "<h2>Triggers</h2>"]
    if not ev.triggers:
        parts.append("<p>No trigger in this period.</p>")
    for t in ev.triggers:
        parts.append(f"<h3 id=\"trigger-{_e(t['id'])}\">Trigger {_e(t['id'])}: "
                     f"{_e(t['title'])}</h3>")
        parts.append("<table><tbody>")
        for label, value in (("Type", t["type"]), ("Severity", t["severity"]),
                             ("Status", t["status"]), ("Vendor", t["vendor"]),
                             ("Source", t["source"]), ("Fired", t["created_at"]),
                             ("Assessments", ", ".join(t["assessments"])),
                             ("Acknowledged", f"{t['acked_by'] or '—'} {t['acked_at'] or ''}"),
                             ("Snapshots", f"before {t['old_snapshot'] or '—'}, after "
                                           f"{t['new_snapshot'] or '—'}")):
            parts.append(f"<tr><th>{_e(label)}</th><td>{_e(value)}</td></tr>")
        parts.append("</tbody></table>")
        if t["controls"]:
            parts.append("<table><thead><tr><th>Control</th><th>Requirement</th>"
                         "<th>Checked</th></tr></thead><tbody>")
            for c in t["controls"]:
                parts.append(f"<tr><td>{_e(c['id'])}</td><td>{_e(c['requirement'])}</td>"
                             f"<td>{_e(c['checked'])}</td></tr>")
            parts.append("</tbody></table>")
        for d in t["deadlines"]:
            late = " — passed" if d["overdue"] else ""
            parts.append(f"<p>Deadline: {_e(d['label'])}, due {_e(d['due'])}{_e(late)}</p>")
        if t["lifecycle"]:
            parts.append("<table><thead><tr><th>When</th><th>Who</th><th>Action</th>"
                         "<th>Note</th></tr></thead><tbody>")
            for a in t["lifecycle"]:
                parts.append(f"<tr><td>{_e(a['at'])}</td><td>{_e(a['by'])}</td>"
                             f"<td>{_e(a['action'])}</td><td>{_e(a['note'])}</td></tr>")
            parts.append("</tbody></table>")
    parts.append("<h2>Snapshots</h2><table><thead><tr><th>Id</th><th>Source</th><th>Fetched"
                 "</th><th>URL</th><th>Status</th><th>Files</th></tr></thead><tbody>")
    for s in ev.snapshots:
        files = [s["document"]] + ([s["body"]] if s["body"] else [])
        parts.append(f"<tr><td>{_e(s['id'])}</td><td>{_e(s['source'])}</td>"
                     f"<td>{_e(s['fetched_at'])}</td><td><code>{_e(s['url'])}</code></td>"
                     f"<td>{_e(s['status'])}</td><td>"
                     + "<br>".join(f"<code>{_e(f)}</code>" for f in files) + "</td></tr>")
    parts.append("</tbody></table>")
    assessment_events = [a for a in ev.audits if a["object_type"] == "assessment"]
    if assessment_events:
        parts.append("<h2>Assessment lifecycle</h2><table><thead><tr><th>When</th><th>Who"
                     "</th><th>Assessment</th><th>Action</th><th>Note</th></tr></thead><tbody>")
        for a in assessment_events:
            parts.append(f"<tr><td>{_e(a['at'])}</td><td>{_e(a['by'])}</td>"
                         f"<td>{_e(a['object_id'])}</td><td>{_e(a['action'])}</td>"
                         f"<td>{_e(a['note'])}</td></tr>")
        parts.append("</tbody></table>")
    parts.append("<h2>What each file proves</h2><ul>"
                 "<li><code>manifest.json</code>: the sha256 of every file; "
                 "<code>manifest.sha256</code>: of the manifest.</li>"
                 "<li><code>chain.json</code>: the hash-chain records covering every "
                 "<code>records/*.json</code> file (each record's content hash is the "
                 "sha256 of that file).</li>"
                 "<li><code>records/snapshot-N.json</code>: the sha256 of "
                 "<code>snapshots/N/document.json</code> and its raw body.</li>"
                 "<li><code>triggers.json</code>, <code>lifecycle.json</code>, "
                 "<code>snapshots.json</code>, <code>controls.json</code>: the same facts "
                 "arranged for reading.</li></ul>")
    parts.append("</body></html>\n")
    return "".join(parts)
