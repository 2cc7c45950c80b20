"""HTML escaping everywhere: hostile campaign names, display names, bios, post texts and engagement texts —
and hostile input echoed back (filters, the sign-in page's ``next``, a rejected form) — never create
elements, attributes or scripts, on any page and in the exported HTML report.

The check is on the server's HTML (tests/web/test_browser.py checks the same data in a real browser): the
page is parsed, and (1) every element is one the templates themselves write, (2) no attribute is an event
handler and no link is ``javascript:``, (3) every script is the page's own (``src``, JSON data, or the
report's nonce; in the exported file exactly the template's three), and (4) each hostile string is present
as text — rendered, not dropped.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import select

from socap.importance.models import Account
from socap.monitoring.engine import drive
from socap.simulator import Scenario, hours, minutes
from tests.alerts.conftest import import_and_sync_seeds
from tests.monitoring.support import create_campaign, memory_queue
from tests.security.support import protected
from tests.web.support import make_user, sign_in

CAMPAIGN = '<script>alert("campaign")</script>"\'><img src=x onerror=alert(1)> {{7*7}}'
POST_TEXT = "</textarea><svg onload=alert(2)> & {{ config }} ${7*7}"
DISPLAY_NAME = '<iframe src="javascript:alert(3)"></iframe>'
BIO = '"><script>alert(4)</script></p><b onmouseover=alert(4)>bio</b>'
QUOTE = '</script><script>alert(5)</script><style>*{display:none}</style>'
REPLY = '<a href="javascript:alert(6)">click</a> \u202egnp.exe'
ECHO = '"><script>alert(7)</script><img src=x onerror=alert(7)>'
STORED = (CAMPAIGN, POST_TEXT, DISPLAY_NAME, BIO, QUOTE, REPLY)

SRC = Path(__file__).resolve().parents[2] / "src" / "socap"
TEMPLATE_TAGS = {tag.lower() for path in [*SRC.joinpath("web", "templates").glob("*.html"),
                                          *SRC.joinpath("reports", "templates").glob("*.html")]
                 for tag in re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", path.read_text())}


def _hostile(b):
    b.campaign(CAMPAIGN, start="2025-03-03T12:00:00Z", days=1, threshold=10, spacing_minutes=20)
    b.seeds({"investor": 15})
    brand = b.account("hostileco", name="Hostile Co", bio="We test escaping.")
    post = b.post("main", author=brand, text=POST_TEXT, created=-hours(2), likes={hours(0): 10})
    evil = b.account("evilbio", name=DISPLAY_NAME, bio=BIO, category="investor", importance=12)
    b.quote(post, by=evil, at=-minutes(30), text=QUOTE)
    b.reply(post, by=evil, at=-minutes(20), text=REPLY)
    b.retweets(post, 3, between=(-hours(1), -minutes(10)))


HOSTILE = Scenario.from_function("t_hostile_security", _hostile)


class Page(HTMLParser):
    def __init__(self, nonce: str | None = None):
        super().__init__(convert_charrefs=True)
        self.nonce, self.problems, self.text, self.scripts, self.json = nonce, [], [], [], []
        self._in_script = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag not in TEMPLATE_TAGS:
            self.problems.append(f"<{tag}> is not an element the templates write")
        for name, value in attrs.items():
            if name.startswith("on"):
                self.problems.append(f"{name}= on <{tag}>")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                    "javascript:"):
                self.problems.append(f"javascript: URL on <{tag}>")
            self.text.append(value or "")
        if tag == "script":
            self.scripts.append(attrs)
            self._in_script = attrs.get("type", "js")

    def handle_endtag(self, tag):
        self._in_script = None if tag == "script" else self._in_script

    def handle_data(self, data):
        if self._in_script is None:
            self.text.append(data)
        elif self._in_script == "application/json":  # data for the page's scripts: read as they read it
            self.text.append(json.dumps(json.loads(data), ensure_ascii=False))

    def own_scripts_only(self) -> None:
        for attrs in self.scripts:
            if not ("src" in attrs or attrs.get("type") == "application/json"
                    or (self.nonce and attrs.get("nonce") == self.nonce)):
                self.problems.append(f"inline script {attrs}")


def check(html: str, where: str, *, nonce: str | None = None, scripts: str = "own") -> str:
    """Parse ``html``; fail on anything hostile text could have created. Returns the page's text."""
    page = Page(nonce)
    page.feed(html)
    page.close()
    if scripts == "own":
        page.own_scripts_only()
    else:  # the exported report: exactly the template's scripts (JSON data, Plotly, the chart code)
        assert len(page.scripts) == 3 and page.scripts[0].get("type") == "application/json", (where, page.scripts)
    assert page.problems == [], where
    return "\n".join(page.text)


@pytest.fixture
def site(start_simulator, make_runtime, serve_web):
    sim = start_simulator(HOSTILE)
    rt = make_runtime(sim)
    make_user(rt, "ana@example.com")
    import_and_sync_seeds(rt, HOSTILE)
    campaign_id = create_campaign(rt, HOSTILE)
    drive(rt, memory_queue(rt), until=HOSTILE.start + timedelta(minutes=40))
    with rt.db.session() as s:
        evil = s.scalar(select(Account).where(Account.username == "evilbio"))
        assert evil is not None and evil.bio == BIO and evil.name == DISPLAY_NAME
        account_id = evil.id
    return rt, serve_web(rt), campaign_id, account_id


def test_hostile_text_stays_text_on_every_page(site):
    rt, server, campaign_id, account_id = site
    browser = sign_in(server, "ana@example.com")
    post_id = re.search(rf"/campaigns/{campaign_id}/posts/(\d+)", browser.get(f"/campaigns/{campaign_id}").text)[1]
    values = {"campaign_id": campaign_id, "post_id": post_id, "account_id": account_id, "fmt": "html"}
    texts: dict[str, str] = {}
    for route in protected(server.app):
        if route.api or route.writes or route.path in ("/docs", "/openapi.json", "/metrics"):
            continue
        r = browser.get(route.url(**values))
        assert r.status_code == 200, str(route)
        if not r.headers["content-type"].startswith("text/html"):
            continue
        nonce = re.search(r"'nonce-([^']+)'", r.headers["content-security-policy"])
        attachment = "attachment" in r.headers.get("content-disposition", "")
        texts[str(route)] = check(r.text, str(route), nonce=nonce and nonce[1],
                                  scripts="report" if attachment else "own")
    assert len(texts) >= 11, sorted(texts)
    everything = "\n".join(texts.values())
    for hostile in STORED:
        assert hostile in everything, f"{hostile!r} is shown nowhere (dropped instead of escaped?)"
    for name, text in texts.items():
        if "{campaign_id}" in name:
            assert CAMPAIGN in text, name
    account = texts["GET /campaigns/{campaign_id}/accounts/{account_id}"]
    assert BIO in account and DISPLAY_NAME in account
    assert POST_TEXT in texts["GET /campaigns/{campaign_id}/posts/{post_id}"]
    report = texts["GET /campaigns/{campaign_id}/report.{fmt}"]  # the exported file
    assert CAMPAIGN in report and POST_TEXT in report and DISPLAY_NAME in report  # posts, top engagers


def test_hostile_input_echoed_back_stays_text(site):
    rt, server, campaign_id, _ = site
    browser = sign_in(server, "ana@example.com")
    pages = {
        "filter errors": browser.get(f"/campaigns/{campaign_id}?min_importance={quote(ECHO)}&range={quote(ECHO)}"),
        "sign-in next": browser.get(f"/login?next=/{quote(ECHO)}"),
        "rejected create form": browser.post("/campaigns/new", data={
            "csrf_token": browser.csrf, "name": ECHO, "main": ECHO, "influencer": ECHO, "days": ECHO,
            "threshold": ECHO, "spacing_minutes": ECHO, "notify_urls": ECHO}),
        "rejected edit form": browser.post(f"/campaigns/{campaign_id}/edit", data={
            "csrf_token": browser.csrf, "name": ECHO, "threshold": ECHO, "spacing_minutes": "20"}),
        "rejected delete": browser.post(f"/campaigns/{campaign_id}/delete", data={
            "csrf_token": browser.csrf, "confirm_name": ECHO}),
        "unknown page": browser.get(f"/{quote(ECHO)}"),
    }
    for what, r in pages.items():
        text = check(r.text, what)
        if what not in ("unknown page", "sign-in next"):
            assert r.status_code in (200, 400) and ECHO in text, what
    # a campaign created under a hostile name: the flash message that greets it
    spec = HOSTILE.campaign_spec()
    r = browser.post("/campaigns/new", data={"csrf_token": browser.csrf, "name": ECHO, "main": spec["main"][0],
                                             "window": "days", "days": "1", "threshold": "5",
                                             "spacing_minutes": "20"}, follow_redirects=True)
    assert r.status_code == 200 and f"Campaign “{ECHO}” created" in check(r.text, "flash")
