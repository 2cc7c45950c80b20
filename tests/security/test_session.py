"""Sessions: no fixation, real sign-out, unforgeable cookies, safe cookie flags.

Starlette's SessionMiddleware keeps the whole session in a signed cookie, so on its own a cookie stays valid
for its 14 days whatever happens on the server: a copy taken before sign-out still works, and anyone who
knows SOCAP_SECRET_KEY (the development default, if a deployment forgot to set it) can write a cookie
saying "user 1". SOCAP's cookie therefore carries only a random session id (and the CSRF token); the
session itself is a row in ``web_session`` (its SHA-256, like API tokens), created at sign-in and deleted
at sign-out, on a password change and when it expires.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import httpx
import pytest
from itsdangerous import TimestampSigner

from socap.auth import service as auth_service
from tests.web.support import PASSWORD, csrf_from, make_user

EMAIL = "ana@example.com"


@pytest.fixture
def site(make_runtime, serve_web, clock):
    rt = make_runtime(clock=clock)
    workspace_id = make_user(rt, EMAIL)
    return rt, serve_web(rt), workspace_id


def _sign_in(server, client: httpx.Client | None = None) -> tuple[httpx.Client, httpx.Response]:
    client = client or httpx.Client(timeout=30, base_url=server.url)
    token = csrf_from(client.get("/login").text)
    r = client.post("/login", data={"csrf_token": token, "email": EMAIL, "password": PASSWORD, "next": "/"})
    assert r.status_code == 303, r.text
    return client, r


def _with_cookie(server, value: str) -> httpx.Client:
    return httpx.Client(timeout=30, base_url=server.url, cookies={"socap_session": value})


def _signed_in(client: httpx.Client) -> bool:
    return client.get("/api/v1/me").status_code == 200


def test_signing_in_starts_a_new_session(site):
    _, server, _ = site
    client = httpx.Client(timeout=30, base_url=server.url)
    before_token = csrf_from(client.get("/login").text)
    before_cookie = client.cookies["socap_session"]
    _sign_in(server, client)
    after_cookie = client.cookies["socap_session"]
    assert after_cookie != before_cookie and _signed_in(client)
    # nothing from before sign-in carries over: a new CSRF token, and the old one is refused
    assert csrf_from(client.get("/").text) != before_token
    r = client.post("/logout", data={"csrf_token": before_token})
    assert r.status_code == 403 and _signed_in(client)
    # a cookie planted or stolen before sign-in never becomes a signed-in one
    assert not _signed_in(_with_cookie(server, before_cookie))


def test_signing_out_ends_the_session_on_the_server(site):
    _, server, _ = site
    client, _ = _sign_in(server)
    stolen = client.cookies["socap_session"]
    other_device, _ = _sign_in(server)
    assert _signed_in(_with_cookie(server, stolen))
    r = client.post("/logout", data={"csrf_token": csrf_from(client.get("/").text)})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert not _signed_in(client)
    # a copy of the cookie taken before sign-out is worthless now …
    copy = _with_cookie(server, stolen)
    assert not _signed_in(copy)
    assert copy.get("/", follow_redirects=False).headers["location"].startswith("/login")
    # … while the user's other sessions stay signed in
    assert _signed_in(other_device)


def test_a_password_change_ends_every_session(site):
    rt, server, _ = site
    first, _ = _sign_in(server)
    second, _ = _sign_in(server)
    with rt.db.write() as session:
        auth_service.set_password(session, email=EMAIL, password="a brand new password")
    assert not _signed_in(first) and not _signed_in(second)


def test_sessions_expire_after_14_days(site):
    rt, server, _ = site
    client, _ = _sign_in(server)
    rt.clock.advance(timedelta(days=13, hours=23))
    assert _signed_in(client)
    rt.clock.advance(timedelta(hours=2))
    assert not _signed_in(client)


def test_a_cookie_signed_with_the_secret_key_is_still_no_session(site):
    """Even with SOCAP_SECRET_KEY known (the development default here), a cookie naming a user, or a made-up
    session id, signs nobody in: the session must exist on the server."""
    rt, server, workspace_id = site
    signer = TimestampSigner(rt.settings.secret_key.get_secret_value())

    def forged(payload: dict) -> str:
        return signer.sign(base64.b64encode(json.dumps(payload).encode())).decode()

    assert _signed_in(_sign_in(server)[0])  # the user and the key are real
    for payload in ({"uid": 1, "ws": workspace_id}, {"sid": "made-up"}, {"sid": "", "uid": 1},
                    {"sid": ["x"]}, {"sid": None}):
        client = _with_cookie(server, forged(payload))
        assert not _signed_in(client), payload
        assert client.get("/", follow_redirects=False).status_code == 303
    # and a cookie signed with another key is not even read
    assert not _signed_in(_with_cookie(server, TimestampSigner("another key").sign(b"e30=").decode()))


def test_the_session_cookie_flags(site, make_runtime, serve_web):
    _, server, _ = site
    _, r = _sign_in(server)
    cookie = r.headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite", "path", "max-age"} <= set(attributes)
    assert attributes["samesite"].lower() == "samesite=lax" and attributes["path"] == "path=/"
    assert attributes["max-age"] == f"Max-Age={14 * 86400}"
    assert "secure" not in attributes  # plain http (the default): a Secure cookie would never come back
    assert "strict-transport-security" not in r.headers

    secure_rt = make_runtime(secure_cookies=True)
    make_user(secure_rt, "sec@example.com")
    secure = serve_web(secure_rt)
    form = httpx.get(timeout=30, url=secure.url + "/login")
    assert "secure" in [p.strip().lower() for p in form.headers["set-cookie"].split(";")]
    # (httpx, like a browser, keeps a Secure cookie off plain http: hand it over as a proxy ending TLS would)
    r = httpx.post(timeout=30, url=secure.url + "/login", cookies={"socap_session": form.cookies["socap_session"]},
                   data={"csrf_token": csrf_from(form.text), "email": "sec@example.com", "password": PASSWORD})
    assert r.status_code == 303
    assert "secure" in [p.strip().lower() for p in r.headers["set-cookie"].split(";")]
    assert r.headers["strict-transport-security"].startswith("max-age=")
