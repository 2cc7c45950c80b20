"""Sign-in, sign-out and the health check: the only routes open without a session."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from sqlalchemy import text

from socap.auth import service as auth_service
from socap.web.deps import RuntimeDep, verify_csrf
from socap.web.templating import templates

router = APIRouter()


def _safe_next(value: str | None) -> str:
    """Only a local path: never redirect a user off-site after sign-in."""
    if not value:
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


@router.get("/healthz", include_in_schema=False)
def healthz(rt: RuntimeDep) -> JSONResponse:
    try:
        with rt.db.session() as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:  # the database is what the dashboard cannot do without
        return JSONResponse({"status": "error", "database": type(exc).__name__}, status_code=503)
    return JSONResponse({"status": "ok"})


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    return templates.TemplateResponse(request, "login.html", {"next": _safe_next(next), "error": None, "email": ""})


@router.post("/login", response_class=HTMLResponse, include_in_schema=False,
             dependencies=[Depends(verify_csrf)])
def login(request: Request, rt: RuntimeDep, email: Annotated[str, Form()] = "",
          password: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/"):
    limiter = request.app.state.login_limiter
    client = request.client.host if request.client else "?"
    keys = (f"ip:{client}", f"email:{email.strip().lower()}")
    wait = limiter.retry_after(*keys)
    if wait:
        return templates.TemplateResponse(
            request, "login.html", {"next": _safe_next(next), "email": email,
                                    "error": f"Too many failed sign-ins. Try again in {wait // 60 + 1} minutes."},
            status_code=429, headers={"Retry-After": str(wait)})
    with rt.db.write() as session:
        found = auth_service.authenticate(session, email=email, password=password, clock=rt.clock)
        session_id = auth_service.start_session(session, user_id=found.user_id, clock=rt.clock) if found else None
    if found is None:
        limiter.failed(*keys)
        return templates.TemplateResponse(
            request, "login.html", {"next": _safe_next(next), "email": email,
                                    "error": "Wrong e-mail or password."}, status_code=400)
    limiter.succeeded(keys[1])
    # a fresh session (new id, new CSRF token) at every sign-in: nothing from before sign-in carries over
    request.session.clear()
    request.session["sid"] = session_id
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", include_in_schema=False, dependencies=[Depends(verify_csrf)])
def logout(request: Request, rt: RuntimeDep) -> RedirectResponse:
    session_id = request.session.get("sid")
    if isinstance(session_id, str):
        with rt.db.write() as session:  # every copy of the cookie is signed out, not just this browser's
            auth_service.end_session(session, session_id)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
