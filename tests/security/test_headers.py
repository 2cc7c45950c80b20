"""Content-Security-Policy and the other security headers on every HTML page and every error page.

Every GET page is enumerated from ``create_app`` and fetched signed in, with a campaign that has data. Each
carries the CSP (scripts only from this origin, or by a per-response nonce on the report page), nosniff,
frame denial, the referrer and permissions policies, and ``Cache-Control: no-store`` (pages hold a
workspace's data: nothing is kept by the browser or a proxy after sign-out). Each page's markup would run
under that CSP: no inline script without the nonce, no inline event handler, no ``javascript:`` link.
Error pages — 403, 404, 405, 422, 429, and a 500 from a database that fails — carry the same headers and
show no internals.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest

from socap.web.security import CSP
from tests.security.support import protected, two_workspaces
from tests.web.support import PASSWORD, api_token, csrf_from, make_user

EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    "cross-origin-opener-policy": "same-origin",
    "cache-control": "no-store",
}


def assert_security_headers(r: httpx.Response, where: str) -> None:
    csp = r.headers.get("content-security-policy", "")
    nonce = re.search(r"'nonce-([^']+)'", csp)
    assert csp == (CSP.replace("script-src 'self'", f"script-src 'self' 'nonce-{nonce.group(1)}'") if nonce
                   else CSP), where
    for name, value in EXPECTED.items():
        assert r.headers.get(name) == value, (where, name, r.headers.get(name))


class Markup(HTMLParser):
    """What in a page would need more than the CSP allows."""

    def __init__(self, nonce: str | None):
        super().__init__()
        self.nonce, self.problems, self.scripts = nonce, [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self.scripts += 1
            if "src" not in attrs and attrs.get("type") != "application/json" and (
                    not self.nonce or attrs.get("nonce") != self.nonce):
                self.problems.append(f"inline script without the nonce: {attrs}")
        for name, value in attrs.items():
            if name.startswith("on"):
                self.problems.append(f"inline handler {name}= on <{tag}>")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                    "javascript:"):
                self.problems.append(f"javascript: URL on <{tag}>")


def assert_runs_under_the_csp(r: httpx.Response, where: str) -> None:
    nonce = re.search(r"'nonce-([^']+)'", r.headers["content-security-policy"])
    parser = Markup(nonce.group(1) if nonce else None)
    parser.feed(r.text)
    assert parser.problems == [], where
    assert parser.scripts > 0, where  # the parser saw the page's scripts at all


@pytest.fixture
def site(start_simulator, make_runtime, serve_web):
    return two_workspaces(start_simulator, make_runtime, serve_web, notify=())


def test_every_page_carries_the_headers_and_needs_nothing_the_csp_forbids(site):
    bob = site.browser("bob@example.com")
    pages = 0
    for route in protected(site.server.app):
        if route.api or route.writes or route.path == "/openapi.json":
            continue
        for fmt in ("html", "json", "csv") if "fmt" in route.params else ("-",):
            r = bob.get(route.url(**site.values(site.theirs, fmt=fmt)))
            if r.status_code == 401:  # a route for tokens only (/metrics)
                r = httpx.get(timeout=30, url=site.server.url + route.path, headers=site.bob_api.headers)
            assert r.status_code == 200, (str(route), r.status_code)
            assert_security_headers(r, str(route))
            if r.headers["content-type"].startswith("text/html") and "attachment" not in r.headers.get(
                    "content-disposition", ""):
                assert_runs_under_the_csp(r, str(route))
                pages += 1
    assert pages >= 10  # list, new, dashboard, post, account, categories, alerts, edit, delete, report
    # the sign-in page and the API answer with them too
    for r in (httpx.get(timeout=30, url=site.server.url + "/login"),
              site.bob_api.get(f"/campaigns/{site.theirs}/summary")):
        assert_security_headers(r, str(r.url))
    # a nonce is never reused
    nonces = {re.search(r"'nonce-([^']+)'", bob.get(f"/campaigns/{site.theirs}/report").headers[
        "content-security-policy"]).group(1) for _ in range(3)}
    assert len(nonces) == 3


def test_error_pages_carry_the_headers(site):
    anon = httpx.Client(timeout=30, base_url=site.server.url)
    bob = site.browser("bob@example.com")
    errors = {
        "404 unknown path, anonymous": anon.get("/no/such/page"),
        "404 unknown path": bob.get("/no/such/page"),
        "404 missing campaign": bob.get("/campaigns/987654"),
        "404 API": site.bob_api.get("/campaigns/987654"),
        "401 API": anon.get("/api/v1/campaigns"),
        "403 CSRF": bob.post(f"/campaigns/{site.theirs}/pause", data={"csrf_token": "forged"}),
        "405 method": bob.delete("/"),
        "422 bad id": bob.get("/campaigns/not-a-number"),
        "422 API filter": site.bob_api.get(f"/campaigns/{site.theirs}/summary?min_importance=lots"),
    }
    for what, r in errors.items():
        assert r.status_code == int(what[:3]), (what, r.status_code)
        assert_security_headers(r, what)


def test_a_server_error_carries_the_headers_and_hides_its_cause(make_runtime, serve_web, tmp_path):
    """A 500 is answered by Starlette outside every middleware: SOCAP's own handler must add the headers."""
    rt = make_runtime(database_url=f"sqlite:///{tmp_path / 'empty.db'}")  # reachable, but no tables
    server = serve_web(rt)
    client = httpx.Client(timeout=30, base_url=server.url)
    token = csrf_from(client.get("/login").text)
    page = client.post("/login", data={"csrf_token": token, "email": "ana@example.com", "password": PASSWORD})
    # (a fresh connection: uvicorn closes the one an unhandled error happened on)
    api = httpx.get(timeout=30, url=server.url + "/api/v1/campaigns",
                    headers={"Authorization": "Bearer socap_whatever"})
    for what, r in (("page", page), ("API", api)):
        assert r.status_code == 500, what
        assert_security_headers(r, what)
        for internal in ("no such table", "app_user", "api_token", "Traceback", "sqlalchemy", "SELECT"):
            assert internal not in r.text, (what, internal)
    assert page.headers["content-type"].startswith("text/html") and "went wrong" in page.text
    assert api.json() == {"detail": "internal server error"}


def test_hsts_when_served_over_https(make_runtime, serve_web):
    rt = make_runtime(secure_cookies=True)
    make_user(rt, "ana@example.com")
    server = serve_web(rt)
    token = {"Authorization": f"Bearer {api_token(rt, 'ana@example.com')}"}
    for r in (httpx.get(timeout=30, url=server.url + "/login"), httpx.get(timeout=30, url=server.url + "/healthz"),
              httpx.get(timeout=30, url=server.url + "/api/v1/me", headers=token)):
        assert r.headers["strict-transport-security"] == "max-age=31536000", str(r.url)
