"""What a signed-in user does in the browser: sign in and out, ack, review, resolve.

Every POST carries the session's CSRF token (form field ``csrf``); acks and resolutions
need the ``reviewer`` role and are written through ``storage.lifecycle`` with the user's
name in the audit trail. Success redirects (303) back to the page, so a reload never
repeats the action.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from monitor.clock import utcnow
from storage import lifecycle

from .auth import ANONYMOUS, check_csrf, new_csrf, safe_next
from .context import DB, RowId, page_html, state

router = APIRouter(include_in_schema=False)


def can_review() -> bool:
    return hasattr(lifecycle, "start_review")


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> Response:
    st = state(request)
    session = st.auth.read_session(request)
    # the sign-in form needs a CSRF token too: an anonymous session carries it
    token = session.csrf if session else new_csrf()
    response = page_html(request, "login.html", ANONYMOUS, title="Sign in", csrf=token,
                         next=safe_next(next), error=None, users=bool(st.auth.users))
    if session is None:
        st.auth.write_session(response, None, csrf=token)
    return response


@router.post("/login")
def login(request: Request, name: str = Form(""), password: str = Form(""),
          csrf: str = Form(""), next: str = Form("/")) -> Response:
    st = state(request)
    check_csrf(request, st.auth.read_session(request), csrf, st.auth.origins)
    found = st.auth.check_password(name.strip(), password)
    if found is None:
        return page_html(request, "login.html", ANONYMOUS, status=401, title="Sign in",
                         next=safe_next(next), error="Wrong name or password.",
                         users=bool(st.auth.users))
    response = RedirectResponse(st.url(safe_next(next)), 303)
    st.auth.write_session(response, found.name)
    return response


@router.post("/logout")
def logout(request: Request, csrf: str = Form("")) -> Response:
    st = state(request)
    check_csrf(request, st.auth.read_session(request), csrf, st.auth.origins)
    response = RedirectResponse(st.url("/"), 303)
    st.auth.write_session(response, None)
    return response


def _act(request: Request, csrf: str) -> str:
    """The acting user's name, once signed in, allowed and not forged."""
    return state(request).auth.actor(request, csrf, "reviewer").name


def _lifecycle_error(exc: Exception) -> HTTPException:
    missing = str(exc).startswith("no ")
    return HTTPException(404 if missing else 400, str(exc))


@router.post("/triggers/{trigger_id}/ack")
def ack(request: Request, trigger_id: RowId, csrf: str = Form(""), note: str = Form(""),
        back: str = Form(""), session: Session = DB) -> Response:
    by = _act(request, csrf)
    try:
        _row, moved = lifecycle.acknowledge(session, trigger_id, by=by, now=utcnow(),
                                            note=note.strip() or None)
    except lifecycle.LifecycleError as exc:
        raise _lifecycle_error(exc) from exc
    done = "acknowledged" if moved else "already"
    target = safe_next(back) if back else f"/triggers/{trigger_id}"
    return RedirectResponse(state(request).url(f"{target}?done={done}"), 303)


@router.post("/triggers/ack")
def ack_many(request: Request, csrf: str = Form(""), note: str = Form(""),
             back: str = Form(""), ids: list[int] = Form([]),
             session: Session = DB) -> Response:
    """Acknowledge the selected triggers at once (the history page's checkboxes)."""
    by = _act(request, csrf)
    chosen = list(dict.fromkeys(ids))[:500]
    if not chosen:
        raise HTTPException(400, "select at least one trigger to acknowledge")
    acked = 0
    now = utcnow()
    for trigger_id in chosen:
        try:
            _row, moved = lifecycle.acknowledge(session, trigger_id, by=by, now=now,
                                                note=note.strip() or None)
        except lifecycle.LifecycleError:
            continue  # gone since the page was drawn: counted as not acknowledged
        acked += int(moved)
    target = safe_next(back) if back else "/triggers"
    sep = "&" if "?" in target else "?"
    return RedirectResponse(state(request).url(f"{target}{sep}done=acked-{acked}-{len(chosen)}"),
                            303)


@router.post("/sources/{source_id}/check")
def check_now(request: Request, source_id: str, csrf: str = Form(""),
              session: Session = DB) -> Response:
    """Make a source due now: the daemon (``reassess run``) checks it at its next tick."""
    from storage.models import Source
    from storage.queries import source_due_now

    _act(request, csrf)
    row = session.get(Source, source_id)
    if row is None:
        raise HTTPException(404, f"there is no source {source_id!r}")
    done = "queued" if source_due_now(session, source_id, utcnow()) else "gone"
    target = f"/vendors/{quote(row.vendor_id)}?done={done}&source={quote(source_id)}"
    return RedirectResponse(state(request).url(target), 303)


@router.post("/assessments/{assessment_id}/review")
def review(request: Request, assessment_id: str, csrf: str = Form(""), note: str = Form(""),
           session: Session = DB) -> Response:
    by = _act(request, csrf)
    try:
        lifecycle.start_review(session, assessment_id, by=by, now=utcnow(),
                               note=note.strip() or None)
    except lifecycle.LifecycleError as exc:
        raise _lifecycle_error(exc) from exc
    target = f"/assessments/{quote(assessment_id)}?done=in_review"
    return RedirectResponse(state(request).url(target), 303)


@router.post("/assessments/{assessment_id}/resolve")
def resolve(request: Request, assessment_id: str, csrf: str = Form(""), note: str = Form(""),
            disposition: str = Form(""), session: Session = DB) -> Response:
    by = _act(request, csrf)
    try:
        result = lifecycle.resolve(session, assessment_id, by=by, now=utcnow(), note=note,
                                   disposition=disposition or None)
    except lifecycle.LifecycleError as exc:
        raise _lifecycle_error(exc) from exc
    done = "resolved" if result["changed"] else "already"
    target = f"/assessments/{quote(assessment_id)}?done={done}"
    return RedirectResponse(state(request).url(target), 303)
