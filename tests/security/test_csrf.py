"""CSRF on every form post and every cookie-authenticated API write.

Every write route is enumerated from ``create_app``. A signed-in browser posts to each, on its own campaign:
a form without the ``csrf_token`` field, with a made-up one, or with the token of another session is refused
with 403 by the CSRF check (its message, not another refusal); an API write with the session cookie but no,
a wrong or another session's ``X-CSRF-Token`` header likewise. Nothing changes. The token is what makes the
difference: the same post with the session's own token goes through, and API writes with a bearer token
(which a browser never attaches on its own) need no CSRF header. Sign-in and sign-out are forms too.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from socap.campaigns.models import Campaign
from tests.security.support import BODIES, protected, two_workspaces
from tests.web.support import PASSWORD, csrf_from

FORM_REFUSAL = "the form expired or did not come from this site"


@pytest.fixture
def site(start_simulator, make_runtime, serve_web):
    return two_workspaces(start_simulator, make_runtime, serve_web, drive_for=None)


def _campaigns(rt) -> int:
    with rt.db.session() as s:
        return s.scalar(select(func.count()).select_from(Campaign))


def test_every_write_refuses_a_missing_or_foreign_csrf_token(site):
    writes = [r for r in protected(site.server.app) if r.writes]
    assert len(writes) >= 13, [str(r) for r in writes]
    bob = site.browser("bob@example.com")
    ana = site.browser("ana@example.com")
    assert ana.csrf != bob.csrf
    before, count = site.state(), _campaigns(site.rt)
    for route in writes:
        url = route.url(**site.values(site.theirs))
        body = BODIES.get((route.method, route.path))
        if route.api:
            for header in ({}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": ""}, {"X-CSRF-Token": ana.csrf}):
                r = bob.request(route.method, url, json=body, headers={"Origin": "https://evil.example", **header})
                assert r.status_code == 403 and "X-CSRF-Token" in r.json()["detail"], (str(route), header, r.text)
        else:
            for token in ({}, {"csrf_token": "forged"}, {"csrf_token": ana.csrf}):
                r = bob.request(route.method, url, data={**(body or {}), **token}, follow_redirects=False)
                assert r.status_code == 403 and FORM_REFUSAL in r.text, (str(route), token, r.status_code)
    assert site.state() == before and _campaigns(site.rt) == count
    assert bob.get("/api/v1/me").status_code == 200  # sign-out was refused too: still signed in

    # the session's own token is what lets a write through; a bearer token needs none
    r = bob.post(f"/campaigns/{site.theirs}/pause", data={"csrf_token": bob.csrf}, follow_redirects=False)
    assert r.status_code == 303 and site.bob_api.get(f"/campaigns/{site.theirs}").json()["status"] == "paused"
    r = bob.post(f"/api/v1/campaigns/{site.theirs}/resume", headers={"X-CSRF-Token": bob.csrf})
    assert r.status_code == 200 and r.json()["status"] == "active"
    assert site.bob_api.post(f"/campaigns/{site.theirs}/pause").json()["status"] == "paused"


def test_sign_in_needs_the_token_of_the_form_it_was_shown(site):
    attacker = httpx.Client(timeout=30, base_url=site.server.url)
    planted = csrf_from(attacker.get("/login").text)
    victim = httpx.Client(timeout=30, base_url=site.server.url)
    victim.get("/login")
    # a login form posted from another site (login CSRF) with the attacker's token fails in the victim's session
    for data in ({}, {"csrf_token": planted}):
        r = victim.post("/login", data={"email": "bob@example.com", "password": PASSWORD, **data})
        assert r.status_code == 403 and FORM_REFUSAL in r.text
    assert victim.get("/api/v1/me").status_code == 401
