"""OSCAL assessment results (``reassess evidence export --format oscal``).

One result for the bundle's scope and period: each trigger is a finding (its target the
first control it maps to, its status ``not-satisfied`` while the trigger is open and
``satisfied`` once resolved), each trigger and each snapshot an observation (the
evidence: ``relevant-evidence`` points into the zip bundle of the same export), and the
controls of the mapping are the reviewed controls. OSCAL ids are tokens, so a control's
id is written as a token (``GDPR Art. 28(2)`` → ``gdpr-art-28-2``) with the id as
written in a ``control`` property.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

from storage.chain import stamp

from .bundle import Evidence

OSCAL_VERSION = "1.1.2"
NAMESPACE = uuid.UUID("6f1c3a52-5d0e-4b8e-9a57-2f6f0f3c1e19")
PROPS_NS = "https://reassess.example/ns/oscal"


def token(control_id: str) -> str:
    """An OSCAL token for a control id: lower case, runs of other characters as ``-``."""
    found = re.sub(r"[^a-z0-9]+", "-", control_id.lower()).strip("-")
    return found if found and found[0].isalpha() else f"c-{found}"


def _uuid(*parts: Any) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts)))


def _prop(name: str, value: Any) -> dict[str, str]:
    return {"name": name, "value": str(value), "ns": PROPS_NS}


def document(ev: Evidence) -> dict[str, Any]:
    scope = ev.scope
    what = f"assessment {scope.assessment}" if scope.assessment else f"vendor {scope.vendor}"
    created = stamp(ev.created_at)
    base = _uuid("bundle", what, created)
    observations: list[dict[str, Any]] = []
    snapshot_obs: dict[int, str] = {}
    for s in ev.snapshots:
        oid = _uuid(base, "snapshot", s["id"])
        snapshot_obs[int(s["id"])] = oid
        evidence = [{"href": s["document"], "description": "the normalised document"}]
        if s["body"]:
            evidence.append({"href": s["body"], "description": "the raw body as fetched"})
        observations.append({
            "uuid": oid, "title": f"Snapshot {s['id']} of {s['source']}",
            "description": f"{s['url']} fetched {s['fetched_at']} (HTTP {s['status']})",
            "methods": ["EXAMINE"], "collected": s["fetched_at"] or created,
            "props": [_prop("snapshot-id", s["id"]), _prop("content-hash",
                                                           s["content_hash"])],
            "relevant-evidence": evidence})
    findings: list[dict[str, Any]] = []
    reviewed: dict[str, str] = {}
    for t in ev.triggers:
        oid = _uuid(base, "trigger", t["id"])
        events = "; ".join(f"{a['at']} {a['by']} {a['action']}" + (f": {a['note']}"
                                                                  if a["note"] else "")
                           for a in t["lifecycle"]) or "no lifecycle event yet"
        observations.append({
            "uuid": oid, "title": f"Trigger {t['id']}: {t['title']}"[:300],
            "description": f"{t['type']} ({t['severity']}) fired {t['created_at']}; "
                           f"status {t['status']}. Lifecycle: {events}",
            "methods": ["EXAMINE"], "collected": t["created_at"] or created,
            "props": [_prop("trigger-id", t["id"])],
            "relevant-evidence": [{"href": t["record"],
                                   "description": "the trigger as chained"}]})
        related = [{"observation-uuid": oid}] + [
            {"observation-uuid": snapshot_obs[i]} for i in (t["old_snapshot"],
                                                            t["new_snapshot"])
            if i and i in snapshot_obs]
        controls = t["controls"]
        for c in controls:
            reviewed[token(c["id"])] = c["id"]
        target = token(controls[0]["id"]) if controls else "reassess-trigger"
        resolved = t["status"] in ("resolved", "suppressed")
        findings.append({
            "uuid": _uuid(base, "finding", t["id"]),
            "title": f"{t['type']}: {t['title']}"[:300],
            "description": f"A {t['severity']} {t['type']} of vendor {t['vendor']} "
                           f"(trigger {t['id']}), evidence for "
                           + (", ".join(c["id"] for c in controls) or "no mapped control"),
            "props": [_prop("trigger-id", t["id"])]
            + [_prop("control", c["id"]) for c in controls],
            "target": {"type": "objective-id", "target-id": target,
                       "status": {"state": "satisfied" if resolved else "not-satisfied"}},
            "related-observations": related})
    result: dict[str, Any] = {
        "uuid": _uuid(base, "result"),
        "title": f"reassess: third-party AI changes for {what}",
        "description": "Changes of the vendor's published documents detected by reassess, "
                       "the re-assessment triggers they fired and what was done about them.",
        "start": stamp(scope.since) or (ev.triggers[0]["created_at"] if ev.triggers
                                        else created),
        "end": stamp(scope.until) or created,
        "reviewed-controls": {"control-selections": [
            {"include-controls": [{"control-id": k} for k in sorted(reviewed)]}
            if reviewed else {"include-all": {}}]},
        "props": [_prop("chain-head", ev.head.get("hash", "")),
                  _prop("chain-segment", f"{ev.first_seq}-{ev.last_seq}")],
    }
    if observations:
        result["observations"] = observations
    if findings:
        result["findings"] = findings
    return {"assessment-results": {
        "uuid": base,
        "metadata": {"title": f"reassess evidence for {what}", "last-modified": created,
                     "version": "1", "oscal-version": OSCAL_VERSION},
        "import-ap": {"href": "#reassess-monitoring-plan",
                      "remarks": "reassess monitors third-party AI vendors continuously; "
                                 "there is no separate assessment plan document."},
        "results": [result]}}


def write_oscal(ev: Evidence, path: Path) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(document(ev), indent=2, ensure_ascii=False) + "\n",
                   encoding="utf-8")
    tmp.replace(path)
