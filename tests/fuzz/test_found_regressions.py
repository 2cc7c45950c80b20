"""What the fuzzers found, each pinned by a plain test (so a regression fails here by name, not by chance).

- /api/v1 answered 500 to a page number or an id too large for the database (OverflowError on SQLite,
  "out of range" on PostgreSQL); now 422 for a page beyond the last possible one, 404 for an id that
  cannot exist — the HTML pages too.
- /api/v1 documented FastAPI's default 422 body on most routes while answering its own shape; and left the
  400 for an unreadable body and the report routes' 404 undocumented.
- X answers: a NUL or a lone surrogate in a bio or text, or a profile string longer than its column, made
  PostgreSQL refuse the whole page (a job failing forever on a DataError); counters beyond INTEGER, ids that
  are not snowflakes and naive times went through to the database or the pollers' comparisons.
- A page whose next_token loops made a poller pay for the same page until the rate limit stopped it.
"""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import select

from socap.campaigns.models import Campaign, CampaignTweet
from socap.importance.models import Account
from socap.monitoring.models import PollJob
from socap.simulator import load_scenario
from socap.x import MalformedResponse, Page, Tweet, User
from tests.monitoring.support import create_campaign, memory_queue
from tests.web.support import api_token, make_user, sign_in

from .mutations import PageMutator, _text, token_loop
from .test_pollers import ENDPOINT, MAIN, SCENARIO, _drain

HUGE = 10**25


@pytest.fixture
def web(start_simulator, make_runtime, serve_web):
    server = start_simulator(load_scenario("1"))
    rt = make_runtime(server)
    make_user(rt, "ana@example.com")
    campaign_id = create_campaign(rt, load_scenario("1"))
    site = serve_web(rt)
    api = httpx.Client(base_url=site.url + "/api/v1", timeout=30,
                       headers={"Authorization": f"Bearer {api_token(rt, 'ana@example.com')}"})
    yield rt, site, api, campaign_id
    api.close()


def test_a_page_number_too_large_is_a_422_not_a_500(web):
    rt, site, api, campaign_id = web
    for path in (f"/campaigns/{campaign_id}/engagements", f"/campaigns/{campaign_id}/posts/1"):
        r = api.get(path, params={"page": HUGE})
        assert r.status_code == 422, r.text
        assert "page" in r.json()["detail"]["errors"]
        assert api.get(path, params={"page": 1_000_000}).status_code == 200  # the last allowed page: empty
    browser = sign_in(site, "ana@example.com")
    assert browser.get(f"/campaigns/{campaign_id}", params={"page": HUGE}).status_code == 200
    browser.close()


@pytest.mark.parametrize("path", ["/campaigns/{huge}", "/campaigns/-{huge}/summary", "/campaigns/2147483648/charts",
                                  "/campaigns/{c}/accounts/{huge}", "/campaigns/{huge}/report",
                                  "/campaigns/{huge}/report.json", "/campaigns/{huge}/alerts"])
def test_an_id_no_row_can_have_is_a_404_not_a_500(web, path):
    rt, site, api, campaign_id = web
    assert api.get(path.format(huge=HUGE, c=campaign_id)).status_code == 404


def test_html_pages_answer_404_for_an_impossible_campaign_id(web):
    rt, site, api, campaign_id = web
    browser = sign_in(site, "ana@example.com")
    for path in (f"/campaigns/{HUGE}", f"/campaigns/{HUGE}/edit", f"/campaigns/{HUGE}/report"):
        assert browser.get(path).status_code == 404, path
    browser.close()


@pytest.mark.parametrize(("field", "value"), [("days", "1e308"), ("days", "nan"), ("days", "inf"), ("days", "4000"),
                                             ("threshold", "9" * 30), ("ends_at", "9999-12-31T23:59")])
def test_numbers_and_dates_beyond_any_window_are_form_errors_not_500s(web, field, value):
    """days=1e308 overflowed timedelta (a 500 from the create form and POST /campaigns); a threshold beyond
    INTEGER reached the database."""
    rt, site, api, campaign_id = web
    spec = load_scenario("1").campaign_spec()
    form = {"name": "Overflow", "main": spec["main"][0], "window": "dates" if field == "ends_at" else "days",
            "days": "3", "threshold": "10", "spacing_minutes": "20", field: value}
    browser = sign_in(site, "ana@example.com")
    r = browser.post("/campaigns/new", data={**form, "csrf_token": browser.csrf})
    assert r.status_code == 400 and f'id="err-{field}"' in r.text, r.text[:300]
    browser.close()
    body = {"name": "Overflow", "main": spec["main"][:1], "days": 3, "threshold": 10,
            field: float(value) if field == "days" else int(value) if field == "threshold" else value}
    if field == "ends_at":
        body.pop("days")
    # (json.dumps writes NaN and Infinity as Python's json reads them)
    r = api.post("/campaigns", content=json.dumps(body), headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text[:300]


def test_every_api_route_documents_the_error_bodies_it_sends(web):
    rt, site, api, campaign_id = web
    schema = httpx.get(site.url + "/openapi.json", headers=api.headers).json()
    refs = {}
    for path, methods in schema["paths"].items():
        if not path.startswith("/api/v1/") or path.endswith("/stream"):
            continue
        for method, spec in methods.items():
            responses = spec["responses"]
            if "422" in responses and path.startswith("/api/v1/campaigns") and "report" not in path:
                refs[f"{method} {path}"] = responses["422"]["content"]["application/json"]["schema"]["$ref"]
            if method in ("post", "patch"):
                assert "400" in responses, (method, path)
            if "{campaign_id}" in path:
                assert "404" in responses, (method, path)
    assert set(refs.values()) == {"#/components/schemas/ValidationErrorOut"}, refs
    body = api.get("/campaigns/abc").json()  # what a 422 really looks like
    assert body == {"detail": {"errors": {"campaign_id": [
        "Input should be a valid integer, unable to parse string as an integer"]}}}


# ---------------------------------------------------------------- X answers

def test_text_postgresql_cannot_hold_is_made_storable_and_profiles_fit_their_columns(start_simulator,
                                                                                   make_runtime):
    server = start_simulator(SCENARIO)
    rt = make_runtime(server)
    campaign_id = create_campaign(rt, SCENARIO)
    hostile = "n\x00l \ud800 \u202e" + "a" * 5000
    server.sim.set_mutator(PageMutator(ENDPOINT["retweets"], _text([hostile], ["username", "description"]),
                                       contains=MAIN))
    _drain(rt, memory_queue(rt))
    stored = "nl \ufffd \u202e" + "a" * 5000  # the NUL dropped, the lone surrogate a U+FFFD
    with rt.db.session() as s:
        post = s.scalar(select(CampaignTweet).where(CampaignTweet.campaign_id == campaign_id,
                                                    CampaignTweet.tweet_id == int(MAIN)))
        job = s.scalar(select(PollJob).where(PollJob.campaign_tweet_id == post.id, PollJob.kind == "retweets"))
        assert job.last_error is None and job.backfill_done
        profiles = s.execute(select(Account.username, Account.bio).where(Account.bio == stored)).all()
    assert profiles and {username for username, _ in profiles} == {stored[:64]}  # cut to its column


def test_x_models_refuse_what_cannot_be_stored_and_read_naive_times_as_utc():
    def page(model, item):
        return Page[model].model_validate({"data": [item]})

    for bad in ("abc", "", "-3", str(2**63), "1" * 20, "\u0661"):
        with pytest.raises(ValueError):
            page(Tweet, {"id": bad})
        with pytest.raises(ValueError):
            page(User, {"id": "1", "username": "x"} | {"id": bad})
    with pytest.raises(ValueError):
        page(Tweet, {"id": "1", "public_metrics": {"like_count": 2**31}})
    with pytest.raises(ValueError):
        page(User, {"id": "1", "public_metrics": {"followers_count": -1}})
    with pytest.raises(ValueError):
        page(Tweet, {"id": "1", "created_at": "0001-01-01T00:00:00+14:00"})
    tweet = page(Tweet, {"id": 20, "author_id": 12, "created_at": "2025-01-06T09:00:00",
                         "public_metrics": {"impression_count": 2**40}}).data[0]
    assert (tweet.id, tweet.author_id, tweet.created_at.isoformat()) == ("20", "12", "2025-01-06T09:00:00+00:00")


def test_a_looping_next_token_fails_the_job_at_once(start_simulator, make_runtime):
    server = start_simulator(SCENARIO)
    rt = make_runtime(server)
    campaign_id = create_campaign(rt, SCENARIO)
    mutator = PageMutator(ENDPOINT["retweets"], token_loop(), index=1, only_index=False, contains=MAIN)
    server.sim.set_mutator(mutator)
    _drain(rt, memory_queue(rt))
    with rt.db.session() as s:
        job = s.scalar(select(PollJob).where(PollJob.campaign_id == campaign_id, PollJob.kind == "retweets",
                                             PollJob.last_error.is_not(None)))
        assert s.get(Campaign, campaign_id).status == "active"
    assert job.last_error.startswith(f"{MalformedResponse.__name__}: ") and "token repeated" in job.last_error
    # page 1, page 2 (whose token loops back to itself), refused at once: no retry of a valid page
    assert mutator.calls == 2 and not mutator.runaway
