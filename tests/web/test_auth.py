"""Sign-in, sessions, CSRF, API tokens, security headers: the access rules every page and route relies on."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from socap.auth.models import ApiToken, User
from socap.web.security import CSP
from tests.web.support import PASSWORD, api_token, csrf_from, make_user, sign_in


@pytest.fixture
def site(make_runtime, serve_web):
    rt = make_runtime()
    make_user(rt, "ana@example.com")
    return rt, serve_web(rt)


def test_only_health_and_sign_in_are_public(site):
    _, server = site
    with httpx.Client(base_url=server.url) as anon:
        assert anon.get("/healthz").json() == {"status": "ok"}
        assert anon.get("/login").status_code == 200
        r = anon.get("/?status=active", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login?next=/%3Fstatus%3Dactive"
        assert anon.get("/api/v1/me").status_code == 401


def test_sign_in_sets_a_safe_session_cookie_and_sign_out_ends_it(site):
    _, server = site
    client = httpx.Client(base_url=server.url)
    token = csrf_from(client.get("/login").text)
    r = client.post("/login", data={"csrf_token": token, "email": "ANA@example.com ", "password": PASSWORD,
                                    "next": "/"})
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert client.get("/api/v1/me").json()["email"] == "ana@example.com"
    assert client.get("/", follow_redirects=False).status_code == 200
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").text)})
    assert client.get("/api/v1/me").status_code == 401


def test_wrong_password_and_unknown_user_get_the_same_answer(site):
    _, server = site
    client = httpx.Client(base_url=server.url)
    token = csrf_from(client.get("/login").text)
    wrong = client.post("/login", data={"csrf_token": token, "email": "ana@example.com", "password": "nope-nope"})
    unknown = client.post("/login", data={"csrf_token": token, "email": "bob@example.com", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 400
    assert "Wrong e-mail or password." in wrong.text and "Wrong e-mail or password." in unknown.text
    assert client.get("/api/v1/me").status_code == 401


def test_forms_without_the_csrf_token_are_refused(site):
    _, server = site
    client = httpx.Client(base_url=server.url)
    client.get("/login")
    r = client.post("/login", data={"email": "ana@example.com", "password": PASSWORD})
    assert r.status_code == 403
    r = client.post("/login", data={"csrf_token": "forged", "email": "ana@example.com", "password": PASSWORD})
    assert r.status_code == 403
    assert client.get("/api/v1/me").status_code == 401


def test_sign_in_never_redirects_off_site(site):
    _, server = site
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        client = httpx.Client(base_url=server.url)
        token = csrf_from(client.get("/login").text)
        r = client.post("/login", data={"csrf_token": token, "email": "ana@example.com", "password": PASSWORD,
                                        "next": target})
        assert r.status_code == 303 and r.headers["location"] == "/", target


def test_repeated_failed_sign_ins_are_slowed_down(site):
    _, server = site
    client = httpx.Client(base_url=server.url)
    token = csrf_from(client.get("/login").text)
    codes = [client.post("/login", data={"csrf_token": token, "email": "ana@example.com",
                                         "password": f"guess-{i}"}).status_code for i in range(11)]
    assert codes[:10] == [400] * 10 and codes[10] == 429
    # even the right password waits now: a guesser learns nothing from the eleventh try
    r = client.post("/login", data={"csrf_token": token, "email": "ana@example.com", "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


def test_api_tokens_authenticate_and_only_their_hash_is_stored(site):
    rt, server = site
    token = api_token(rt, "ana@example.com")
    r = httpx.get(server.url + "/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["workspace"] == "default"
    for bad in ("Bearer socap_wrong", "Bearer", "Basic abc", f"Token {token}"):
        assert httpx.get(server.url + "/api/v1/me", headers={"Authorization": bad}).status_code == 401, bad
    with rt.db.session() as s:
        stored = s.scalars(select(ApiToken.token_hash)).all()
        hashes = s.scalars(select(User.password_hash)).all()
    assert token not in stored and len(stored) == 1 and len(stored[0]) == 64
    assert hashes[0].startswith("$argon2") and PASSWORD not in hashes[0]


def test_cookie_authenticated_api_writes_need_the_csrf_header(start_simulator, make_runtime, serve_web):
    from socap.campaigns import service as campaign_service
    from socap.campaigns.models import Campaign
    from socap.campaigns.schemas import CampaignInput
    from socap.simulator import load_scenario

    rt = make_runtime(start_simulator("1"))
    workspace_id = make_user(rt, "ana@example.com")
    with rt.x_client() as x:
        campaign_id = campaign_service.create(rt.db, x, rt.clock, CampaignInput.from_spec(
            load_scenario("1").campaign_spec()), workspace_id=workspace_id)[0]
    client = sign_in(serve_web(rt), "ana@example.com")
    pause = f"/api/v1/campaigns/{campaign_id}/pause"
    for headers in ({}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": ""}):
        r = client.post(pause, headers=headers)
        assert r.status_code == 403 and "X-CSRF-Token" in r.text, headers
    with rt.db.session() as s:
        assert s.get(Campaign, campaign_id).status == "active"
    r = client.post(pause, headers={"X-CSRF-Token": client.csrf})
    assert r.status_code == 200 and r.json()["status"] == "paused"


def test_every_response_carries_the_security_headers(site):
    _, server = site
    for path in ("/login", "/healthz", "/api/v1/me", "/static/app.css", "/static/plotly.min.js"):
        r = httpx.get(server.url + path)
        assert r.headers["content-security-policy"] == CSP, path
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
    assert "'unsafe-inline'" not in CSP.split("script-src")[1].split(";")[0]


def test_plotly_is_served_locally(site):
    _, server = site
    r = httpx.get(server.url + "/static/plotly.min.js")
    assert r.status_code == 200 and len(r.content) > 1_000_000 and b"plotly" in r.content[:2000].lower()


def test_user_commands(make_runtime):
    from socap.cli import app
    from socap.console import set_runtime

    rt = make_runtime()
    set_runtime(rt)
    try:
        runner = CliRunner()
        r = runner.invoke(app, ["user", "create", "cli@example.com", "--workspace", "acme", "--password-stdin"],
                          input="long-enough-pw\n")
        assert r.exit_code == 0, r.output
        r = runner.invoke(app, ["user", "create", "cli@example.com", "--password-stdin"], input="long-enough-pw\n")
        assert r.exit_code == 2 and "already exists" in r.output
        r = runner.invoke(app, ["user", "create", "short@example.com", "--password-stdin"], input="short\n")
        assert r.exit_code == 2 and "at least 8" in r.output
        r = runner.invoke(app, ["user", "token", "cli@example.com", "--name", "ci"])
        assert r.exit_code == 0 and "socap_" in r.output
        r = runner.invoke(app, ["user", "list"])
        assert "cli@example.com" in r.output and "acme" in r.output
    finally:
        set_runtime(None)
