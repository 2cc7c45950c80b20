"""The create form (HTML POST with the session's CSRF token, real HTTP, posts resolved on the simulator) fuzzed:
names, post lists, windows, numbers and notification URLs from plausible to hostile. Never a 5xx; a refused
form creates nothing and says why next to the field concerned; an accepted one creates exactly its campaign."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from socap.campaigns.models import Campaign, CampaignTweet
from socap.monitoring.models import PollJob
from socap.simulator import load_scenario
from socap.web.routes.pages import CREATE_FIELDS
from tests.web.support import make_user, sign_in

from .conftest import FUZZ
from .test_urls import near_valid

SCENARIO = load_scenario("1")
WORLD = SCENARIO.build_world()
REAL_URLS = [WORLD.url(post) for post in WORLD.campaign_posts()]
FIELD_ERROR = re.compile(r'<ul class="field-error" id="err-([a-z_]+)"')


class Site(tuple):
    def __repr__(self) -> str:
        return "<web, runtime, browser>"


@pytest.fixture
def site(start_simulator, make_runtime, serve_web):
    rt = make_runtime(start_simulator(WORLD))
    make_user(rt, "ana@example.com")
    browser = sign_in(serve_web(rt), "ana@example.com")
    yield Site([rt, browser])
    browser.close()


post_lists = st.lists(st.one_of(st.sampled_from(REAL_URLS), st.sampled_from(["20", "1876146678791299059"]),
                                near_valid(), st.text(max_size=30)), max_size=4).map(
    lambda urls: st.sampled_from(["\n", ", ", " "]).map(lambda sep: sep.join(urls))).flatmap(lambda s: s)
numbers = st.one_of(st.sampled_from(["3", "0", "-1", "nan", "inf", "-inf", "1e308", "0.0001", "365", "100000",
                                     "", " 2 ", "3,5", "\u0663", "1_0", "0x10", "9" * 400]),
                    st.integers(-10**20, 10**20).map(str), st.floats().map(str), st.text(max_size=8))
instants = st.one_of(st.sampled_from(["", "2025-01-06T09:00", "2025-01-06 09:00", "2025-01-06T09:00Z",
                                      "9999-12-31T23:59", "0001-01-01T00:00", "2025-13-01T00:00", "yesterday",
                                      "2025-01-06T09:00:00+14:00", "2025-01-09T09:00:00-12:00", "2025-01-06"]),
                     st.datetimes().map(lambda d: d.isoformat()), st.text(max_size=20))
names = st.one_of(st.sampled_from(["Launch", "", "  ", "a" * 300, "<script>alert(1)</script>", "\u202eevil",
                                   "n\x00l", "\ud800"]), st.text(max_size=40))
notify = st.one_of(st.sampled_from(["", "json://127.0.0.1:9/hook", "mailto://a@example.com", "not a url",
                                    "slack://", "javascript:alert(1)", "json://" + "x" * 3000]),
                   st.text(max_size=30))
FIELDS = {
    "name": names, "main": post_lists, "influencer": post_lists, "investor": post_lists,
    "window": st.sampled_from(["days", "dates", "", "bogus"]), "days": numbers, "starts_at": instants,
    "ends_at": instants, "threshold": numbers, "spacing_minutes": numbers, "notify_urls": notify,
    "allow_missing": st.sampled_from(["", "1"]),
}
VALID = {"name": "Launch", "main": REAL_URLS[0], "influencer": REAL_URLS[1], "investor": "", "window": "days",
         "days": "3", "starts_at": "", "ends_at": "", "threshold": "10", "spacing_minutes": "20", "notify_urls": "",
         "allow_missing": ""}
# everything fuzzed at once (nearly always refused), or a valid form with one or two fields fuzzed (often created)
forms = st.one_of(
    st.fixed_dictionaries(FIELDS),
    st.lists(st.sampled_from(sorted(FIELDS)), min_size=1, max_size=2, unique=True).flatmap(
        lambda names: st.fixed_dictionaries({n: FIELDS[n] for n in names}).map(lambda changed: {**VALID, **changed})),
)


def _counts(rt) -> tuple[int, int, int]:
    with rt.db.session() as s:
        return tuple(s.scalar(select(func.count()).select_from(t)) for t in (Campaign, CampaignTweet, PollJob))


def _encodable(form: dict) -> dict:
    # a browser sends what it can encode: a lone surrogate never reaches the server as such
    return {k: v.encode("utf-8", "replace").decode("utf-8") for k, v in form.items()}


@settings(FUZZ, max_examples=80)
@given(form=forms)
@example(form={"name": "n\x00l", "main": REAL_URLS[0], "influencer": "", "investor": "", "window": "days",
               "days": "3", "starts_at": "", "ends_at": "", "threshold": "10", "spacing_minutes": "20",
               "notify_urls": "", "allow_missing": ""})
@example(form={"name": "Huge", "main": REAL_URLS[0], "influencer": "", "investor": "", "window": "days",
               "days": "1e308", "starts_at": "", "ends_at": "", "threshold": "9" * 30,
               "spacing_minutes": "9" * 30, "notify_urls": "", "allow_missing": ""})
@example(form={"name": "Far", "main": REAL_URLS[0], "influencer": "", "investor": "", "window": "dates",
               "days": "", "starts_at": "0001-01-01T00:00", "ends_at": "9999-12-31T23:59", "threshold": "10",
               "spacing_minutes": "20", "notify_urls": "", "allow_missing": ""})
def test_the_create_form_never_fails_and_never_half_creates(site, examples, form):
    rt, browser = site
    form = _encodable(form)
    before = _counts(rt)
    r = browser.post("/campaigns/new", data={**form, "csrf_token": browser.csrf})
    after = _counts(rt)
    examples(kind={303: "created", 400: "refused"}.get(r.status_code, str(r.status_code)))
    assert r.status_code in (303, 400), (r.status_code, r.text[:500])
    if r.status_code == 400:
        assert after == before, "a refused form created something"
        marked = FIELD_ERROR.findall(r.text)
        assert marked or 'id="missing-posts"' in r.text or "<li>" in r.text.split("error-box", 1)[-1][:2000], \
            "a refused form that says nothing"
        for field in marked:
            # the message sits in the field's own block, after its input
            block = r.text[:r.text.index(f'id="err-{field}"')].rsplit('<div class="field', 1)[-1]
            own = "spacing_minutes" if field == "poll_interval_minutes" else field
            assert f'name="{own}"' in block, f"the error for {field} is not next to its field"
        assert all(f in CREATE_FIELDS or f == "poll_interval_minutes" for f in marked)
        return
    assert r.headers["location"].startswith("/campaigns/")
    assert after[0] == before[0] + 1
    campaign_id = int(r.headers["location"].rsplit("/", 1)[-1])
    with rt.db.session() as s:
        campaign = s.get(Campaign, campaign_id)
        assert campaign.name == form["name"].strip().replace("\x00", "")
        posts = s.scalar(select(func.count()).select_from(CampaignTweet).where(CampaignTweet.campaign_id
                                                                             == campaign_id))
    assert after[1] == before[1] + posts and 1 <= posts
