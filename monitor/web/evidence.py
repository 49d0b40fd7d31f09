"""Evidence bundle downloads (issue 19): ``/assessments/{id}/evidence.zip`` and
``/vendors/{id}/evidence.zip``, for reviewers (docs/evidence.md)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from .context import state

router = APIRouter(include_in_schema=False)


def _bundle(request: Request, *, assessment: str | None = None,
            vendor: str | None = None) -> Response:
    from monitor.evidence.bundle import Scope, collect, write_zip

    st = state(request)
    me = st.auth.reader(request)
    if not (me.signed_in and me.can("reviewer")):
        raise HTTPException(403, "evidence bundles are for reviewers: sign in as one")
    config = st.config
    if vendor is not None and vendor not in {v.id for v in config.vendors}:
        raise HTTPException(404, f"there is no vendor {vendor!r}")
    if assessment is not None and assessment not in {a.id for a in config.assessments}:
        raise HTTPException(404, f"there is no assessment {assessment!r}")
    evidence = collect(config, st.engine, Scope(assessment=assessment, vendor=vendor))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "evidence.zip"
        write_zip(evidence, path)
        data = path.read_bytes()
    name = f"reassess-evidence-{assessment or vendor}.zip"
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/assessments/{assessment_id}/evidence.zip")
def assessment_bundle(request: Request, assessment_id: str) -> Response:
    return _bundle(request, assessment=assessment_id)


@router.get("/vendors/{vendor_id}/evidence.zip")
def vendor_bundle(request: Request, vendor_id: str) -> Response:
    return _bundle(request, vendor=vendor_id)
