"""Authentication on every route but the health check and the sign-in page.

The routes are enumerated from ``create_app``: a route added without an authentication dependency fails
here. The exemptions are explicit (support.PUBLIC, PUBLIC_MOUNTS: /static serves the stylesheet, scripts,
Plotly and the icon — public, no data). Each protected route is called anonymously, with a pre-sign-in
session (which holds a valid CSRF token, so a refusal cannot come from the CSRF check alone), with a forged
or malformed bearer token, and must turn the caller away (401/403, or 303 to /login for pages) — using a
real campaign's ids, so a route that forgot its check would answer 200 rather than 404.
"""

from __future__ import annotations

import httpx
import pytest

from tests.security.support import (
    PUBLIC,
    PUBLIC_MOUNTS,
    PUBLIC_PATHS,
    denied,
    endpoints,
    mounts,
    protected,
    two_workspaces,
)
from tests.web.support import csrf_from


@pytest.fixture
def site(start_simulator, make_runtime, serve_web):
    return two_workspaces(start_simulator, make_runtime, serve_web, drive_for=None)


def test_the_public_routes_are_exactly_the_listed_ones(site):
    app = site.server.app
    listed = {(e.method, e.path) for e in endpoints(app)}
    assert set(PUBLIC) <= listed, "a listed public route no longer exists: update support.PUBLIC"
    assert set(mounts(app)) == set(PUBLIC_MOUNTS)
    with httpx.Client(timeout=30, base_url=site.server.url) as anon:
        assert anon.get("/healthz").json() == {"status": "ok"}
        assert anon.get("/login").status_code == 200
        for path in ("/static/app.css", "/static/app.js", "/static/swagger/swagger-ui-bundle.js", *PUBLIC_PATHS):
            assert anon.get(path).status_code == 200, path


def test_every_other_route_turns_an_anonymous_caller_away(site):
    app = site.server.app
    routes = protected(app)
    assert len(routes) >= 40, [str(r) for r in routes]  # the enumeration really sees the included routers
    values = site.values(site.theirs)
    before = site.bob_api.get(f"/campaigns/{site.theirs}").json()

    anon = httpx.Client(base_url=site.server.url, timeout=30)
    pre_sign_in = httpx.Client(base_url=site.server.url, timeout=30)
    csrf = csrf_from(pre_sign_in.get("/login").text)  # a session, but nobody signed in
    for route in routes:
        url = route.url(**values)
        answers = [
            anon.request(route.method, url, follow_redirects=False),
            pre_sign_in.request(route.method, url, data={"csrf_token": csrf} if route.writes and not route.api
                                else None, headers={"X-CSRF-Token": csrf}, follow_redirects=False),
        ]
        for header in ("Bearer socap_forged-token", "Bearer", "Basic Ym9iOnB3", "socap_x"):
            answers.append(anon.request(route.method, url, headers={"Authorization": header},
                                        follow_redirects=False))
        for r in answers:
            assert denied(r), (str(route), r.status_code, r.headers.get("location"), r.text[:200])
        if answers[0].status_code == 303:  # a page: back to it after signing in
            assert answers[0].headers["location"].startswith("/login?next=/"), str(route)
        if route.api:
            assert answers[0].status_code == 401 and answers[0].headers["www-authenticate"] == "Bearer", str(route)
    # nothing an anonymous caller sent changed Bob's campaign
    assert site.bob_api.get(f"/campaigns/{site.theirs}").json() == before


def test_the_enumeration_would_catch_a_route_added_without_a_check():
    """The test above is only as good as its enumeration: a route of an included router, added without an
    authentication dependency, is listed as protected and is not denied."""
    from fastapi import APIRouter, FastAPI
    from fastapi.testclient import TestClient

    router = APIRouter(prefix="/api/v1")

    @router.get("/campaigns/{campaign_id}/leak")
    def leak(campaign_id: int) -> dict:
        return {"campaign": campaign_id}

    app = FastAPI()
    app.include_router(router)
    (route,) = [e for e in protected(app) if e.name == "leak"]
    assert not denied(TestClient(app).get(route.url(campaign_id=1)))
