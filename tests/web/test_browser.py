"""The dashboard in a real browser (Playwright driving the Debian chromium; never a downloaded one).

Each test runs a live dashboard server on a simulator with a ManualClock and drives the engine from the test
thread, so "time passes" only when the test says so. The pages' 60-second refresh is triggered through
``window.socapRefresh()``. Every test also checks that no console error (CSP violations included) and no
dialog happened. Full-page screenshots of the main pages go to tests/artifacts/screenshots/.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from socap.campaigns.models import Campaign, CampaignTweet
from socap.importance.models import Account, AccountImportance
from socap.monitoring.engine import drive
from socap.monitoring.models import Engagement
from socap.simulator import load_scenario
from tests.alerts.conftest import import_and_sync_seeds
from tests.monitoring.support import create_campaign, memory_queue
from tests.web.support import PASSWORD, make_user
from tests.web.test_pages import HOSTILE, HOSTILE_BIO, HOSTILE_QUOTE

CHROMIUM = "/usr/bin/chromium"
# Headless chromium has no notification centre: record what the page asks of the Notification API instead.
FAKE_NOTIFICATION = """
window.__notes = []; window.__asked = 0;
class FakeNotification { constructor(title, options) { window.__notes.push({ title, body: (options || {}).body }); } }
FakeNotification.permission = "default";
FakeNotification.requestPermission = async () => {
  window.__asked += 1; FakeNotification.permission = "granted"; return "granted";
};
window.Notification = FakeNotification;
"""
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
EMAIL = "ana@example.com"

pytestmark = [
    pytest.mark.serial,  # chromium and the page timers want the machine to themselves
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no system chromium at {CHROMIUM} (apt install chromium)"),
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


class Watched:
    """A page at 1366×768 whose console errors, uncaught exceptions and dialogs are recorded."""

    def __init__(self, browser, base_url: str):
        self.context = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=base_url)
        self.page = self.context.new_page()
        self.page.set_default_timeout(15000)
        self.errors: list[str] = []
        self.expected: list[tuple[str, str]] = []  # (path, status) of answers the test asked for
        self.dialogs: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))

        def dialog(d):
            self.dialogs.append(d.message)
            d.dismiss()

        self.page.on("dialog", dialog)

    def _console(self, message) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        if any(url.endswith(path) and status in message.text for path, status in self.expected):
            return  # e.g. the form re-rendered with its errors (400): the browser logs the status
        self.errors.append(f"{message.text} ({url})")

    def sign_in(self, email: str = EMAIL) -> None:
        page = self.page
        page.goto("/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/$"))

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def refresh(self) -> None:
        """What the page does every 60 s, now."""
        self.page.evaluate("() => window.socapRefresh()")

    def tile(self, key: str) -> int:
        return int(self.page.inner_text(f'[data-total="{key}"] [data-value]').replace(",", ""))

    def charts_rendered(self, *ids: str) -> None:
        for chart in ids:
            self.page.wait_for_selector(f"#{chart} .plot-container, #{chart} svg", state="attached")

    def assert_clean(self) -> None:
        assert self.dialogs == [], f"dialogs opened: {self.dialogs}"
        assert self.errors == [], f"console errors: {self.errors}"

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watched(browser):
    opened = []

    def open_page(base_url: str) -> Watched:
        w = Watched(browser, base_url)
        opened.append(w)
        return w

    yield open_page
    for w in opened:
        w.close()


def engagements_where(rt, campaign_id: int, *where, since=None) -> int:
    """Counted straight from the tables, not through socap.reports."""
    query = (select(func.count()).select_from(Engagement)
             .join(CampaignTweet, CampaignTweet.id == Engagement.campaign_tweet_id)
             .outerjoin(AccountImportance, AccountImportance.account_id == Engagement.account_id)
             .where(Engagement.campaign_id == campaign_id, *where))
    if since is not None:
        query = query.where(Engagement.engaged_at >= since, Engagement.engaged_at <= rt.clock.now())
    with rt.db.session() as s:
        return s.scalar(query)


def test_create_watch_filter_and_drill_down(browser, start_simulator, make_runtime, serve_web, watched):
    scenario = load_scenario("1")
    sim = start_simulator(scenario)
    rt = make_runtime(sim)
    make_user(rt, EMAIL)
    import_and_sync_seeds(rt, scenario)
    server = serve_web(rt)
    w = watched(server.url)
    page = w.page
    w.sign_in()
    assert page.locator("text=No campaigns yet").is_visible()

    # the form: errors next to their fields, the input kept, nothing created
    spec = scenario.campaign_spec()
    page.click("text=New campaign")
    page.fill("#name", "Product Launch Q1 2025")
    page.fill("#main", spec["main"][0] + "\nhttps://example.com/not-a-post")
    page.fill("#influencer", ", ".join(spec["influencer"]))
    page.fill("#investor", spec["investor"][0])
    page.fill("#spacing_minutes", "45")
    w.expected.append(("/campaigns/new", "400"))
    page.click("text=Create campaign")
    page.wait_for_selector("#err-main")
    assert "example.com" in page.inner_text("#err-main")
    assert "shorter than the poll interval" in page.inner_text("#err-spacing_minutes")
    assert "not-a-post" in page.input_value("#main") and page.input_value("#name") == "Product Launch Q1 2025"
    w.shot("02-create-form-errors")
    with rt.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Campaign)) == 0

    page.fill("#main", spec["main"][0])
    page.fill("#spacing_minutes", "20")
    page.click("text=Create campaign")
    page.wait_for_url(re.compile(r"/campaigns/\d+$"))
    campaign_id = int(page.url.rsplit("/", 1)[1])
    assert "No engagements yet — the next run is at 09:00 UTC." in page.inner_text("#engagement-rows")
    assert w.tile("engagements") == 0
    w.shot("02b-dashboard-before-the-first-run")

    # the engine runs (in this thread, on the virtual clock); the page's refresh picks the data up
    drive(rt, memory_queue(rt), until=scenario.start + timedelta(days=1, hours=12, minutes=25))
    w.refresh()
    total = engagements_where(rt, campaign_id)
    assert total == 65  # the spec's D2 H12 figure
    assert w.tile("engagements") == total
    assert page.inner_text("#engagement-total") == str(total)
    assert page.inner_text("#updated") == "updated " + rt.clock.now().strftime("%H:%M") + " UTC"
    first = page.locator("#engagement-rows tr").first
    assert "@techfounder" in first.inner_text() and "22" in first.inner_text()
    w.charts_rendered("chart-metrics", "chart-timeline", "chart-pie")
    w.shot("03-dashboard")

    # a combined filter through the form: VC retweets of the investor post, importance > 10, today
    page.check('input[name=category][value=investor]')
    page.check('input[name=action][value=retweet]')
    page.fill("input[name=min_importance]", "11")
    page.select_option("select[name=range]", "today")
    page.click("text=Apply")
    page.wait_for_url(re.compile(r"range=today"))
    assert re.search(r"\?category=investor&action=retweet&min_importance=11&range=today$", page.url), page.url
    today = rt.clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
    expected = engagements_where(rt, campaign_id, CampaignTweet.category == "investor",
                                 Engagement.action == "retweet", AccountImportance.score >= 11, since=today)
    assert expected == 3  # @venturecapital1..3, D2 H11
    assert w.tile("engagements") == expected and w.tile("retweets") == expected
    assert w.tile("replies") == 0 and w.tile("quotes") == 0
    assert page.locator("#engagement-rows tr").count() == expected
    w.refresh()  # the refresh keeps the filter
    assert w.tile("engagements") == expected
    w.charts_rendered("chart-metrics", "chart-timeline", "chart-pie")
    w.shot("04-dashboard-filtered")

    # drill down into an account by clicking it
    page.click("#engagement-rows >> text=@venturecapital1")
    page.wait_for_url(re.compile(r"/accounts/\d+$"))
    assert page.inner_text("#bio") == "General Partner at Summit Capital."
    assert "18" in page.inner_text(".importance h2")
    assert "retweet" in page.inner_text("#account-engagements")
    w.shot("05-account")

    # the post drill-down, then the category comparison and the alerts
    page.click("#account-engagements >> text=investor1")
    page.wait_for_url(re.compile(r"/posts/\d+"))
    w.charts_rendered("chart-metrics", "chart-timeline")
    assert "@venturecapital2" in page.inner_text("#engagements")
    w.refresh()
    w.charts_rendered("chart-metrics", "chart-timeline")
    w.shot("06-post")
    page.click(".tabs >> text=Categories")
    page.wait_for_url(re.compile(r"/categories"))
    w.charts_rendered("chart-category-timeline", "chart-category-actions")
    w.shot("07-categories")
    page.click(".tabs >> text=Alerts")
    page.wait_for_url(re.compile(r"/alerts$"))
    assert "VC @venturecapital1 (importance: 18) retweeted your investor tweet" in page.inner_text("table.alerts")
    w.shot("08-alerts")
    page.click(".topbar >> text=Campaigns")
    page.wait_for_url(re.compile(r"/$"))
    assert f"{total}" in page.inner_text("table.list")
    w.shot("01-campaigns")
    w.assert_clean()


def test_alert_toast_while_watching_and_the_spec_filter(browser, start_simulator, make_runtime, serve_web,
                                                         watched):
    """Scenario 6: 50 important engagements found by the first run; their alerts go out while the page is
    open and show as toasts. Then "retweets on influencer posts with importance > 20 from today"."""
    scenario = load_scenario("6")
    sim = start_simulator(scenario)
    rt = make_runtime(sim)
    make_user(rt, EMAIL)
    import_and_sync_seeds(rt, scenario)
    campaign_id = create_campaign(rt, scenario)
    server = serve_web(rt)
    w = watched(server.url)
    page = w.page
    w.context.add_init_script(FAKE_NOTIFICATION)
    w.sign_in()
    page.goto(f"/campaigns/{campaign_id}")
    page.wait_for_function("() => window.socap.alertSource && window.socap.alertSource.readyState === 1")
    # desktop notifications: permission is asked from the button, never on load
    assert page.evaluate("() => window.__asked") == 0
    page.click("#notify-permission")
    page.wait_for_selector("text=Desktop alerts are on for this browser.")
    assert page.evaluate("() => window.__asked") == 1 and page.locator("#notify-permission").is_hidden()

    drive(rt, memory_queue(rt), until=scenario.start + timedelta(minutes=25))
    toast = page.locator(".toast", has_text="@important").first
    toast.wait_for(timeout=20000)
    assert re.search(r"@important\d\d \(importance: \d+\)", toast.inner_text()), toast.inner_text()
    assert "Alert spacing demo" in toast.inner_text()
    notes = page.evaluate("() => window.__notes")
    assert notes and notes[0]["title"] == "SOCAP alert" and "@important" in notes[0]["body"]

    w.refresh()
    everything = engagements_where(rt, campaign_id)
    assert w.tile("engagements") == everything
    page.goto(f"/campaigns/{campaign_id}?category=influencer&action=retweet&min_importance=21&range=today")
    today = rt.clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
    expected = engagements_where(rt, campaign_id, CampaignTweet.category == "influencer",
                                 Engagement.action == "retweet", AccountImportance.score >= 21, since=today)
    assert 0 < expected < everything
    assert w.tile("engagements") == expected and w.tile("retweets") == expected
    assert page.locator("#engagement-rows tr").count() == expected
    assert "retweets on influencer posts, importance ≥ 21, today (UTC)" in page.inner_text(".filter-summary")
    w.assert_clean()


def test_hostile_bio_and_texts_stay_text_in_the_browser(browser, start_simulator, make_runtime, serve_web,
                                                         watched):
    sim = start_simulator(HOSTILE)
    rt = make_runtime(sim)
    make_user(rt, EMAIL)
    import_and_sync_seeds(rt, HOSTILE)
    campaign_id = create_campaign(rt, HOSTILE)
    server = serve_web(rt)
    w = watched(server.url)
    page = w.page
    w.sign_in()
    page.goto(f"/campaigns/{campaign_id}")
    page.wait_for_function("() => window.socap.alertSource && window.socap.alertSource.readyState === 1")
    drive(rt, memory_queue(rt), until=HOSTILE.start + timedelta(minutes=40))
    page.locator(".toast").first.wait_for(timeout=20000)
    assert HOSTILE_QUOTE in page.inner_text(".toast")  # the alert's quote text, shown as text
    w.refresh()  # rows rebuilt by the script, from the API's JSON
    assert HOSTILE_QUOTE in page.inner_text("#engagement-rows")
    with rt.db.session() as s:
        evil = s.scalar(select(Account).where(Account.username == "evilbio"))
    page.click("#engagement-rows >> text=@evilbio")
    page.wait_for_url(re.compile(rf"/accounts/{evil.id}$"))
    assert page.inner_text("#bio") == HOSTILE_BIO
    assert page.locator("script:not([src])").count() == 0
    assert page.locator("img").count() == 0
    assert page.evaluate("() => document.title").startswith("@evilbio")
    w.assert_clean()


def test_api_docs_render_offline_under_the_csp(browser, make_runtime, serve_web, watched):
    """/docs shows every /api/v1 operation with Swagger UI served by SOCAP itself: no CDN (the browser has no
    internet here anyway), no inline script (the CSP would block it), no console error."""
    rt = make_runtime()
    make_user(rt, EMAIL)
    server = serve_web(rt)
    w = watched(server.url)
    external: list[str] = []
    w.page.on("request", lambda r: None if r.url.startswith(server.url) else external.append(r.url))
    w.sign_in()
    w.page.goto("/docs")
    w.page.locator(".opblock").first.wait_for()
    paths = w.page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/v1/campaigns" in {p.replace("\u200b", "") for p in paths}, paths
    assert len(paths) >= 10
    w.shot("09-api-docs")
    assert external == []
    w.assert_clean()
