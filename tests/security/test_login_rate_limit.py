"""Sign-in rate limit: 10 failures per client address or per e-mail within 15 minutes, then 429 with
Retry-After — even for the right password — until the oldest failure is 15 minutes old.

Clients come from different loopback addresses (127.0.0.x) so the per-address and per-e-mail counts are
told apart over real HTTP; time is the app's clock (a ManualClock here).
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from tests.web.support import PASSWORD, csrf_from, make_user

VICTIM, OWN = "ana@example.com", "mallory@example.com"


@pytest.fixture
def site(make_runtime, serve_web, clock):
    rt = make_runtime(clock=clock)
    make_user(rt, VICTIM)
    make_user(rt, OWN, password="mallory's own password")
    return rt, serve_web(rt)


class Browser:
    """A browser at one client address, with a sign-in form loaded."""

    def __init__(self, server, address: str):
        self.client = httpx.Client(timeout=30, base_url=server.url,
                                   transport=httpx.HTTPTransport(local_address=address))
        self.token = csrf_from(self.client.get("/login").text)

    def sign_in(self, email: str, password: str) -> httpx.Response:
        return self.client.post("/login", data={"csrf_token": self.token, "email": email, "password": password})


def test_ten_failures_for_one_e_mail_block_it_from_every_address(site):
    rt, server = site
    first, second = Browser(server, "127.0.0.2"), Browser(server, "127.0.0.3")
    codes = [(first if i % 2 else second).sign_in(VICTIM, f"guess-{i}").status_code for i in range(10)]
    assert codes == [400] * 10
    for browser in (first, second, Browser(server, "127.0.0.4")):
        r = browser.sign_in(VICTIM, PASSWORD)
        assert r.status_code == 429 and "Too many failed sign-ins" in r.text
        assert int(r.headers["retry-after"]) == 900  # the first failure's 15 minutes (no time passed)
    # other users are not locked out by it
    assert Browser(server, "127.0.0.4").sign_in(OWN, "mallory's own password").status_code == 303
    # 15 minutes after the first failure, one more try is allowed
    rt.clock.advance(timedelta(minutes=15))
    assert Browser(server, "127.0.0.4").sign_in(VICTIM, PASSWORD).status_code == 303


def test_ten_failures_from_one_address_block_it_for_every_e_mail(site):
    rt, server = site
    sprayer = Browser(server, "127.0.0.5")
    # password spraying: one guess per e-mail, and a success with an account of one's own in between
    for i in range(9):
        assert sprayer.sign_in(f"user{i}@example.com", "Summer2025!").status_code == 400
    assert sprayer.sign_in(OWN, "mallory's own password").status_code == 303  # does not reset the address
    sprayer = Browser(server, "127.0.0.5")
    assert sprayer.sign_in("user9@example.com", "Summer2025!").status_code == 400
    r = sprayer.sign_in(VICTIM, PASSWORD)
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    # the victim, elsewhere, signs in as usual
    assert Browser(server, "127.0.0.6").sign_in(VICTIM, PASSWORD).status_code == 303
    rt.clock.advance(timedelta(minutes=16))
    assert Browser(server, "127.0.0.5").sign_in(VICTIM, PASSWORD).status_code == 303


def test_forgotten_failures_are_dropped(site):
    rt, server = site
    limiter = server.app.state.login_limiter
    browser = Browser(server, "127.0.0.7")
    for i in range(5):
        assert browser.sign_in(f"random{i}@example.com", "x").status_code == 400
    assert limiter.tracked() == 6  # five e-mails and one address
    rt.clock.advance(timedelta(minutes=16))
    browser.sign_in("one-more@example.com", "x")
    assert limiter.tracked() == 2
