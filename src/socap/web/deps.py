"""Request dependencies: the runtime, database sessions, who is signed in, CSRF.

Pages and the API share one rule: every campaign is read through the signed-in principal's workspace.
Pages redirect to the sign-in page; the API answers 401. The API accepts a bearer token
(``socap user token``) or the dashboard's session cookie; with the cookie, any write also needs the
``X-CSRF-Token`` header (the page's token), so another site cannot drive the API through a user's browser.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from socap.auth import service as auth_service
from socap.auth.service import Principal
from socap.runtime import Runtime

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class LoginRequired(Exception):
    """Raised by page dependencies; the app turns it into a redirect to the sign-in page."""

    def __init__(self, next_path: str):
        self.next_path = next_path


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def db_session(request: Request) -> Iterator[Session]:
    """A read session for the request (writes open their own ``runtime.db.write()``)."""
    with get_runtime(request).db.session() as session:
        yield session


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def _session_principal(request: Request) -> Principal | None:
    """The signed-in user of the session cookie: its random id must name a live ``web_session`` row (the
    cookie's signature alone proves nothing once SOCAP_SECRET_KEY is known)."""
    session_id = request.session.get("sid")
    if not isinstance(session_id, str) or not session_id:
        return None
    rt = get_runtime(request)
    with rt.db.session() as session:
        found = auth_service.session_principal(session, session_id, now=rt.clock.now())
    if found is None:  # signed out elsewhere, expired, or never issued
        request.session.clear()
    return found


def page_user(request: Request) -> Principal:
    found = _session_principal(request)
    if found is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return found


async def verify_csrf(request: Request) -> None:
    """For HTML form posts: the form's hidden field must equal the session's token."""
    expected = request.session.get("csrf")
    form = await request.form()
    given = form.get(CSRF_FIELD)
    if not expected or not isinstance(given, str) or not secrets.compare_digest(given, expected):
        raise HTTPException(status_code=403, detail="the form expired or did not come from this site; reload it")


def api_user(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise HTTPException(401, "use 'Authorization: Bearer <token>'", headers={"WWW-Authenticate": "Bearer"})
        rt = get_runtime(request)
        with rt.db.write() as session:
            found = auth_service.verify_token(session, value.strip(), clock=rt.clock)
        if found is None:
            raise HTTPException(401, "invalid API token", headers={"WWW-Authenticate": "Bearer"})
        return found
    found = _session_principal(request)
    if found is None:
        raise HTTPException(401, "sign in or send an API token", headers={"WWW-Authenticate": "Bearer"})
    if request.method not in SAFE_METHODS:
        expected = request.session.get("csrf")
        given = request.headers.get(CSRF_HEADER, "")
        if not expected or not secrets.compare_digest(given, expected):
            raise HTTPException(403, f"missing or wrong {CSRF_HEADER} header")
    return found


def login_url(next_path: str) -> str:
    return "/login?next=" + quote(next_path, safe="/")


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SessionDep = Annotated[Session, Depends(db_session)]
PageUser = Annotated[Principal, Depends(page_user)]
ApiUser = Annotated[Principal, Depends(api_user)]
