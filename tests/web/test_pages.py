"""The HTML pages over real HTTP: every page renders for its owner with the right numbers, forms validate
and keep the user's input, changes go through CSRF-protected posts that redirect, filters live in the URL,
and untrusted text is escaped."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from socap.alerts.models import Alert
from socap.campaigns.models import Campaign, CampaignTweet
from socap.importance.models import Account, AccountImportance
from socap.monitoring.engine import drive
from socap.monitoring.models import Engagement, PollJob
from socap.simulator import Scenario, hours, load_scenario, minutes
from tests.alerts.conftest import import_and_sync_seeds
from tests.monitoring.support import create_campaign, memory_queue, usage
from tests.web.support import make_user, sign_in

EMAIL = "ana@example.com"
HOSTILE_BIO = "<script>alert(1)</script> <img src=x onerror=alert(1)>"
HOSTILE_NAME = '<img src=x onerror=alert("name")>'
HOSTILE_QUOTE = '<img src=x onerror=alert("quote")> love it'


@pytest.fixture
def site(start_simulator, make_runtime, serve_web):
    """Scenario 1's simulator, a runtime on it, a signed-in user of the default workspace."""
    scenario = load_scenario("1")
    sim = start_simulator(scenario)
    rt = make_runtime(sim)
    make_user(rt, EMAIL)
    server = serve_web(rt)
    return SimpleNamespace(scenario=scenario, sim=sim, rt=rt, server=server, client=sign_in(server, EMAIL))


def launched(site, until: timedelta) -> int:
    """Scenario 1's campaign with the seed list synced, driven to ``start + until``."""
    import_and_sync_seeds(site.rt, site.scenario)
    campaign_id = create_campaign(site.rt, site.scenario)
    drive(site.rt, memory_queue(site.rt), until=site.scenario.start + until)
    return campaign_id


def tile(page: str, key: str) -> int:
    found = re.search(rf'data-total="{key}">.*?data-value>([\d,]+)<', page, re.S)
    assert found, f"no {key} tile"
    return int(found.group(1).replace(",", ""))


def form_data(client, **fields) -> dict:
    return {"csrf_token": client.csrf, **fields}


def count(rt, model, *where) -> int:
    with rt.db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def scenario_urls(scenario) -> dict[str, str]:
    spec = scenario.campaign_spec()
    return {c: "\n".join(spec[c]) for c in ("main", "influencer", "investor")}


# ---------------------------------------------------------------- every page

def test_every_page_renders_for_its_owner_with_the_stored_numbers(site):
    campaign_id = launched(site, timedelta(hours=7))
    rt, client = site.rt, site.client
    with rt.db.session() as s:
        engagements = s.scalar(select(func.count()).select_from(Engagement)
                               .where(Engagement.campaign_id == campaign_id))
        accounts = s.scalar(select(func.count(func.distinct(Engagement.account_id)))
                            .where(Engagement.campaign_id == campaign_id))
        retweets = s.scalar(select(func.count()).select_from(Engagement)
                            .where(Engagement.campaign_id == campaign_id, Engagement.action == "retweet"))
        posts = s.scalars(select(CampaignTweet.id).where(CampaignTweet.campaign_id == campaign_id)).all()
        johnvc = s.scalar(select(Account).where(Account.username == "johnvc"))
    assert engagements == 56  # 42 before the start; @johnvc, a developer, @techfounder, 5 replies, 6 RTs by H7

    listing = client.get("/")
    assert listing.status_code == 200
    assert "Product Launch Q1 2025" in listing.text and f'href="/campaigns/{campaign_id}"' in listing.text
    assert f">{engagements}</td>" in listing.text

    page = client.get(f"/campaigns/{campaign_id}")
    assert page.status_code == 200
    assert tile(page.text, "engagements") == engagements
    assert tile(page.text, "unique_accounts") == accounts
    assert tile(page.text, "retweets") == retweets
    assert "since last run" in page.text
    assert 'id="chart-metrics"' in page.text and 'data-charts="{' in page.text
    assert "engaged with 2 posts:" in page.text  # accounts that engaged twice are marked
    # the most important engager comes first, with the seeds behind the score
    rows = page.text.split('id="engagement-rows"')[1].split("</tr>")
    assert "@techfounder" in rows[0] and ">22<" in rows[0] and "followed by @" in rows[0]
    assert "@johnvc" in rows[1] and ">15<" in rows[1]

    for post_id in posts:
        post = client.get(f"/campaigns/{campaign_id}/posts/{post_id}")
        assert post.status_code == 200 and "Engagers" in post.text
    account = client.get(f"/campaigns/{campaign_id}/accounts/{johnvc.id}")
    assert account.status_code == 200
    assert "John Carter" in account.text and "Angel investor in developer tools" in account.text
    assert "retweet" in account.text and "Followed by" in account.text

    categories = client.get(f"/campaigns/{campaign_id}/categories")
    assert categories.status_code == 200 and "Main vs influencer vs investor" in categories.text
    alerts = client.get(f"/campaigns/{campaign_id}/alerts")
    assert alerts.status_code == 200
    assert "Investor @johnvc (importance: 15) retweeted your main tweet" in alerts.text
    for path in ("edit", "delete", "report"):  # the report page (issue 7) is linked from every campaign page
        assert f'href="/campaigns/{campaign_id}/{path}"' in page.text or path == "delete"
        assert client.get(f"/campaigns/{campaign_id}/{path}").status_code == 200
    assert client.get("/campaigns/new").status_code == 200

    assert client.get(f"/campaigns/{campaign_id}/posts/999999").status_code == 404
    assert client.get(f"/campaigns/{campaign_id}/accounts/12345").status_code == 404
    assert client.get("/campaigns/999999").status_code == 404


def test_pages_need_a_signed_in_user(site):
    import httpx

    campaign_id = create_campaign(site.rt, site.scenario)
    with httpx.Client(base_url=site.server.url) as anon:
        for path in ("/", "/campaigns/new", f"/campaigns/{campaign_id}", f"/campaigns/{campaign_id}/alerts"):
            r = anon.get(path, follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path


# ---------------------------------------------------------------- create

def test_create_form_errors_keep_the_input_and_create_nothing(site):
    client = site.client
    calls_before = usage(site.sim)["total_calls"]
    r = client.post("/campaigns/new", data=form_data(
        client, name="Launch", main="https://x.com/acme/status/123\nhttps://example.com/not-a-post",
        influencer="", investor="", window="days", days="0", starts_at="", ends_at="", threshold="-3",
        spacing_minutes="45", notify_urls="carrier-pigeon://coop"))
    assert r.status_code == 400
    page = r.text
    assert "Nothing was created." in page
    for field in ("main", "days", "threshold", "spacing_minutes", "notify_urls"):
        assert f'id="err-{field}"' in page, field
    errors = {m.group(1): m.group(2) for m in re.finditer(r'id="err-(\w+)" role="alert">(.*?)</ul>', page, re.S)}
    assert "example.com" in html.unescape(errors["main"])
    assert "negative" in errors["threshold"] and "shorter than the poll interval" in errors["spacing_minutes"]
    # what the user typed is still there
    assert "https://example.com/not-a-post</textarea>" in page
    assert 'value="Launch"' in page and 'value="-3"' in page and 'value="45"' in page
    assert "carrier-pigeon://coop</textarea>" in page
    assert count(site.rt, Campaign) == 0
    assert usage(site.sim)["total_calls"] == calls_before, "nothing reaches X while the form has errors"

    r = client.post("/campaigns/new", data=form_data(client, name=" ", main="", influencer="", investor="",
                                                     window="days", days="three", threshold="ten",
                                                     spacing_minutes="20", notify_urls=""))
    assert r.status_code == 400
    for field in ("name", "main", "days", "threshold"):
        assert f'id="err-{field}"' in r.text, field
    assert 'value="three"' in r.text and 'value="ten"' in r.text
    assert count(site.rt, Campaign) == 0


def test_missing_posts_are_named_and_allow_missing_creates_without_them(site):
    client = site.client
    urls = scenario_urls(site.scenario)
    ghost = "https://x.com/nobody/status/1111111111111111111"
    fields = dict(name="With a ghost", main=urls["main"] + "\n" + ghost, influencer=urls["influencer"],
                  investor=urls["investor"], window="days", days="3", threshold="10", spacing_minutes="20",
                  notify_urls="")
    r = client.post("/campaigns/new", data=form_data(client, **fields))
    assert r.status_code == 400
    assert 'id="missing-posts"' in r.text and ghost in r.text and "could not be found on X" in r.text
    assert 'name="allow_missing"' in r.text
    assert count(site.rt, Campaign) == 0

    r = client.post("/campaigns/new", data=form_data(client, **fields, allow_missing="1"), follow_redirects=False)
    assert r.status_code == 303
    campaign_id = int(r.headers["location"].rsplit("/", 1)[1])
    assert count(site.rt, CampaignTweet, CampaignTweet.campaign_id == campaign_id) == 3
    assert "skipped" in client.get(r.headers["location"]).text


def test_create_success_redirects_to_the_dashboard(site):
    client = site.client
    urls = scenario_urls(site.scenario)
    r = client.post("/campaigns/new", data=form_data(
        client, name="Product Launch Q1 2025", **urls, window="days", days="3", starts_at="", ends_at="",
        threshold="10", spacing_minutes="20", notify_urls="json://127.0.0.1:9/hooks\n"), follow_redirects=False)
    assert r.status_code == 303 and re.fullmatch(r"/campaigns/\d+", r.headers["location"])
    campaign_id = int(r.headers["location"].rsplit("/", 1)[1])
    with site.rt.db.session() as s:
        campaign = s.get(Campaign, campaign_id)
        assert campaign.name == "Product Launch Q1 2025" and campaign.alert_threshold == 10
        assert campaign.ends_at - campaign.starts_at == timedelta(days=3)
        assert campaign.notify_urls == ["json://127.0.0.1:9/hooks"]
    assert count(site.rt, PollJob, PollJob.campaign_id == campaign_id) == 12
    page = client.get(r.headers["location"])
    assert "created with 3 posts" in page.text  # the flash message, once
    assert "No engagements yet — the next run is at 09:00 UTC." in page.text
    assert "created with 3 posts" not in client.get(r.headers["location"]).text

    # a window given by dates
    r = client.post("/campaigns/new", data=form_data(
        client, name="Dated", main=urls["main"], window="dates", days="", starts_at="2025-01-06T10:00",
        ends_at="2025-01-08T10:00", threshold="5", spacing_minutes="10", notify_urls=""), follow_redirects=False)
    assert r.status_code == 303
    with site.rt.db.session() as s:
        dated = s.get(Campaign, int(r.headers["location"].rsplit("/", 1)[1]))
        assert dated.status == "scheduled" and dated.starts_at.hour == 10 and dated.ends_at.day == 8


# ---------------------------------------------------------------- edit, add posts, pause/resume, delete

def test_edit_add_posts_pause_resume_and_delete_through_the_forms(site):
    client, rt = site.client, site.rt
    urls = scenario_urls(site.scenario)
    r = client.post("/campaigns/new", data=form_data(
        client, name="Editable", main=urls["main"], window="days", days="3", threshold="10", spacing_minutes="20",
        notify_urls="json://127.0.0.1:9/one\njson://127.0.0.1:9/two"), follow_redirects=False)
    campaign_id = int(r.headers["location"].rsplit("/", 1)[1])
    base = f"/campaigns/{campaign_id}"

    # a bad edit changes nothing and keeps the input
    r = client.post(f"{base}/edit", data=form_data(client, name="Renamed", threshold="12", spacing_minutes="30",
                                                   notify_urls=""))
    assert r.status_code == 400 and 'id="err-spacing_minutes"' in r.text and 'value="Renamed"' in r.text
    with rt.db.session() as s:
        assert s.get(Campaign, campaign_id).name == "Editable"

    r = client.post(f"{base}/edit", data=form_data(client, name="Renamed", threshold="12", spacing_minutes="15",
                                                   notify_urls="json://127.0.0.1:9/three", remove_channel="0"),
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == base
    with rt.db.session() as s:
        c = s.get(Campaign, campaign_id)
        assert (c.name, c.alert_threshold, c.alert_spacing_minutes) == ("Renamed", 12, 15)
        assert c.notify_urls == ["json://127.0.0.1:9/two", "json://127.0.0.1:9/three"]

    # add posts: a bad URL is refused next to its field, then the two other posts are added
    r = client.post(f"{base}/posts", data=form_data(client, main="", influencer="not a url", investor=""))
    assert r.status_code == 400 and 'id="err-influencer"' in r.text and "not a url</textarea>" in r.text
    r = client.post(f"{base}/posts", data=form_data(client, main=urls["main"], influencer=urls["influencer"],
                                                    investor=urls["investor"]), follow_redirects=False)
    assert r.status_code == 303
    assert count(rt, CampaignTweet, CampaignTweet.campaign_id == campaign_id) == 3
    assert "already tracked" in client.get(base).text

    assert client.post(f"{base}/pause", data=form_data(client), follow_redirects=False).status_code == 303
    with rt.db.session() as s:
        assert s.get(Campaign, campaign_id).status == "paused"
    page = client.get(base).text
    assert "Paused" in page and f'action="{base}/resume"' in page
    assert client.post(f"{base}/resume", data=form_data(client), follow_redirects=False).status_code == 303
    with rt.db.session() as s:
        assert s.get(Campaign, campaign_id).status == "active"

    confirm = client.get(f"{base}/delete")
    assert "Type the campaign's name" in confirm.text and "3 posts" in confirm.text
    r = client.post(f"{base}/delete", data=form_data(client, confirm_name="Editable"))
    assert r.status_code == 400 and "does not match" in r.text
    assert count(rt, Campaign, Campaign.id == campaign_id) == 1
    r = client.post(f"{base}/delete", data=form_data(client, confirm_name="Renamed"), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert count(rt, Campaign, Campaign.id == campaign_id) == 0
    assert count(rt, PollJob, PollJob.campaign_id == campaign_id) == 0
    assert "Deleted campaign" in client.get("/").text
    assert client.get(base).status_code == 404


def test_every_form_refuses_a_post_without_the_csrf_token(site):
    client, rt = site.client, site.rt
    campaign_id = create_campaign(rt, site.scenario)
    base = f"/campaigns/{campaign_id}"
    urls = scenario_urls(site.scenario)
    posts = {
        "/campaigns/new": {"name": "X", **urls, "days": "3", "threshold": "10", "spacing_minutes": "20"},
        f"{base}/edit": {"name": "Hijacked", "threshold": "0", "spacing_minutes": "0"},
        f"{base}/posts": {"main": "https://x.com/a/status/42"},
        f"{base}/pause": {},
        f"{base}/resume": {},
        f"{base}/delete": {"confirm_name": "Product Launch Q1 2025"},
    }
    for path, fields in posts.items():
        for token in (None, "forged"):
            data = dict(fields) if token is None else {**fields, "csrf_token": token}
            r = client.post(path, data=data, follow_redirects=False)
            assert r.status_code == 403, (path, token)
    with rt.db.session() as s:
        c = s.get(Campaign, campaign_id)
        assert (c.name, c.alert_threshold, c.status) == ("Product Launch Q1 2025", 10, "active")
    assert count(rt, Campaign) == 1


# ---------------------------------------------------------------- filters

def test_filters_apply_to_totals_and_list_and_stay_in_the_links(site):
    campaign_id = launched(site, timedelta(days=3, hours=1))
    client, rt = site.client, site.rt
    base = f"/campaigns/{campaign_id}"
    with rt.db.session() as s:
        total = s.scalar(select(func.count()).select_from(Engagement).where(Engagement.campaign_id == campaign_id))
        vc_retweets = s.scalar(
            select(func.count()).select_from(Engagement)
            .join(CampaignTweet, CampaignTweet.id == Engagement.campaign_tweet_id)
            .join(AccountImportance, AccountImportance.account_id == Engagement.account_id)
            .where(Engagement.campaign_id == campaign_id, CampaignTweet.category == "investor",
                   Engagement.action == "retweet", AccountImportance.score >= 11))
    assert total == 120 and vc_retweets == 3

    everything = client.get(base).text
    assert tile(everything, "engagements") == 120
    assert "these are the final numbers" in everything and f'href="{base}/report">Open the final report' in everything
    assert "page 1 of 3 · 120 engagements" in everything
    assert f'href="{base}?page=2#engagements"' in everything

    query = "category=investor&action=retweet&min_importance=11"
    page = client.get(f"{base}?action=retweet&min_importance=11&category=investor").text
    assert tile(page, "engagements") == 3 and tile(page, "retweets") == 3 and tile(page, "quotes") == 0
    assert page.count('class="important"') == 3
    assert "@venturecapital1" in page and "@johnvc" not in page
    # the form shows the filter, links keep it, and the sentence says what is shown
    assert 'name="category" value="investor" checked' in page and 'value="11"' in page
    assert f'href="{base}/categories?{html.escape(query)}"' in page
    assert re.search(rf'href="{base}/posts/\d+\?{re.escape(html.escape(query))}"', page)
    assert "retweets on investor posts, importance ≥ 11" in page

    page2 = client.get(f"{base}?page=2").text
    assert "page 2 of 3" in page2 and f'href="{base}?page=3#engagements"' in page2

    # a bad filter is explained, and the view falls back to everything
    bad = client.get(f"{base}?min_importance=lots&range=yesterday")
    assert bad.status_code == 200 and "must be a whole number" in bad.text and "unknown range" in bad.text
    assert tile(bad.text, "engagements") == 120


# ---------------------------------------------------------------- escaping

def _hostile(b):
    b.campaign("<b>Hostile</b> launch", start="2025-03-03T12:00:00Z", days=1, threshold=10, spacing_minutes=20)
    b.seeds({"investor": 15})
    brand = b.account("hostileco", name="Hostile Co", bio="We test escaping.")
    post = b.post("main", author=brand, text="Launch <i>day</i> & more", created=-hours(2), likes={hours(0): 10})
    evil = b.account("evilbio", name=HOSTILE_NAME, bio=HOSTILE_BIO, category="investor", importance=12)
    b.quote(post, by=evil, at=-minutes(30), text=HOSTILE_QUOTE)
    b.retweets(post, 3, between=(-hours(1), -minutes(10)))


HOSTILE = Scenario.from_function("t_hostile_web", _hostile)


def test_hostile_names_bios_and_texts_render_as_text(start_simulator, make_runtime, serve_web):
    sim = start_simulator(HOSTILE)
    rt = make_runtime(sim)
    make_user(rt, EMAIL)
    import_and_sync_seeds(rt, HOSTILE)
    campaign_id = create_campaign(rt, HOSTILE)
    drive(rt, memory_queue(rt), until=HOSTILE.start + timedelta(minutes=40))
    with rt.db.session() as s:
        evil = s.scalar(select(Account).where(Account.username == "evilbio"))
        assert evil.bio == HOSTILE_BIO
        assert s.scalar(select(func.count()).select_from(Alert).where(Alert.campaign_id == campaign_id)) == 1
    client = sign_in(serve_web(rt), EMAIL)
    post_id = client.get(f"/campaigns/{campaign_id}").text.split(f"/campaigns/{campaign_id}/posts/")[1].split('"')[0]
    pages = {
        "list": client.get("/").text,
        "dashboard": client.get(f"/campaigns/{campaign_id}").text,
        "account": client.get(f"/campaigns/{campaign_id}/accounts/{evil.id}").text,
        "post": client.get(f"/campaigns/{campaign_id}/posts/{post_id.split('?')[0]}").text,
        "alerts": client.get(f"/campaigns/{campaign_id}/alerts").text,
        "categories": client.get(f"/campaigns/{campaign_id}/categories").text,
    }
    for name, page in pages.items():
        for raw in ("<script>alert", "<img src=x", "<b>Hostile", "<i>day"):
            assert raw not in page, (name, raw)
        assert "&lt;b&gt;Hostile&lt;/b&gt; launch" in page, name
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(1)&gt;" in pages["account"]
    assert "&lt;img src=x onerror=alert(&#34;name&#34;)&gt;" in pages["account"]
    assert "&lt;img src=x onerror=alert(&#34;quote&#34;)&gt; love it" in pages["dashboard"]
    assert "&lt;img src=x onerror=alert(&#34;quote&#34;)&gt;" in pages["alerts"]
    assert "Launch &lt;i&gt;day&lt;/i&gt; &amp; more" in pages["post"]


# ---------------------------------------------------------------- unavailable posts

def _vanishing(b):
    b.campaign("Vanishing", start="2025-03-03T12:00:00Z", days=1, threshold=10, spacing_minutes=20)
    brand = b.account("vanishco", name="Vanish Co", bio="Here today.")
    b.post("main", author=brand, text="Stays", created=-hours(2), likes={hours(0): 10})
    gone = b.post("influencer", author=b.account("gonefluencer", name="Gone", bio="Tech creator."),
                  text="Gone soon", created=-hours(2), likes={hours(0): 5}, deleted=hours(1))
    b.retweets(gone, 2, between=(-hours(1), -minutes(5)))


VANISHING = Scenario.from_function("t_vanishing_web", _vanishing)


def test_an_unavailable_post_shows_its_reason_and_keeps_its_history(start_simulator, make_runtime, serve_web):
    sim = start_simulator(VANISHING)
    rt = make_runtime(sim)
    make_user(rt, EMAIL)
    campaign_id = create_campaign(rt, VANISHING)
    drive(rt, memory_queue(rt), until=VANISHING.start + timedelta(hours=2))
    with rt.db.session() as s:
        gone = s.scalar(select(CampaignTweet).where(CampaignTweet.campaign_id == campaign_id,
                                                    CampaignTweet.category == "influencer"))
        reason = gone.unavailable_reason
    assert reason
    client = sign_in(serve_web(rt), EMAIL)
    page = client.get(f"/campaigns/{campaign_id}").text
    assert f"is unavailable on X ({html.escape(reason)})" in page
    assert f"unavailable: {html.escape(reason)}" in page  # its row in the posts table
    assert tile(page, "engagements") == 2  # the history is kept
    post = client.get(f"/campaigns/{campaign_id}/posts/{gone.id}").text
    assert f"Unavailable on X: {html.escape(reason)}" in post
    assert "1 unavailable" in client.get("/").text


def test_alerts_page_names_the_channels_alerts_go_to(start_simulator, make_runtime, serve_web):
    """A campaign without channels of its own sends to the app's default ones: the page says which (masked),
    not "no channel"; with none at all it says alerts are recorded and printed by socap run."""
    scenario = load_scenario("1")
    sim = start_simulator(scenario)
    rt = make_runtime(sim, notify_default_urls=["json://hooks.example.com/socap?token=s3cr3t"])
    make_user(rt, EMAIL)
    client = sign_in(serve_web(rt), EMAIL)
    campaign_id = create_campaign(rt, scenario)
    page = client.get(f"/campaigns/{campaign_id}/alerts")
    assert page.status_code == 200
    assert "default channels" in page.text and "hooks.example.com" in page.text
    assert "s3cr3t" not in page.text and "No notification channel" not in page.text

    bare = make_runtime(sim)
    bare_client = sign_in(serve_web(bare), EMAIL)
    page = bare_client.get(f"/campaigns/{campaign_id}/alerts")
    assert "No notification channel" in page.text and "socap run" in page.text
    assert "hooks.example.com" not in page.text
