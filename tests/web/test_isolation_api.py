"""Workspace isolation in the JSON API: a user of workspace A can neither read nor change workspace B's
campaign by id — every id-taking route answers 404, exactly as for an id that does not exist — and B's
campaign is unchanged afterwards. The alert stream of A never carries B's alerts."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from socap.campaigns.models import Campaign
from socap.monitoring.engine import drive
from socap.monitoring.models import Engagement
from socap.simulator import load_scenario
from tests.alerts.conftest import import_and_sync_seeds
from tests.monitoring.support import memory_queue, usage
from tests.web.support import api_token, make_user, sign_in
from tests.web.test_api import create, open_stream, rows

SCENARIO = load_scenario("5")


@pytest.fixture
def two_workspaces(start_simulator, make_runtime, serve_web):
    """Bob (workspace "default", where the seeds are) has a campaign with engagements and alerts; Ana
    (workspace "alpha") has her own campaign."""
    sim = start_simulator(SCENARIO)
    rt = make_runtime(sim)
    import_and_sync_seeds(rt, SCENARIO)
    make_user(rt, "bob@example.com", workspace="default")
    make_user(rt, "ana@example.com", workspace="alpha")
    server = serve_web(rt)
    bob = httpx.Client(base_url=server.url + "/api/v1", timeout=30,
                       headers={"Authorization": f"Bearer {api_token(rt, 'bob@example.com')}"})
    ana = httpx.Client(base_url=server.url + "/api/v1", timeout=30,
                       headers={"Authorization": f"Bearer {api_token(rt, 'ana@example.com')}"})
    theirs = create(bob, SCENARIO)["id"]
    mine = create(ana, SCENARIO, name="Ana's launch")["id"]
    yield rt, sim, server, ana, bob, theirs, mine
    ana.close()
    bob.close()


def _id_routes(cid: int, post_id: int, account_id: str, spec: dict) -> list[tuple[str, str, dict | None]]:
    c = f"/campaigns/{cid}"
    return [
        ("GET", c, None),
        ("PATCH", c, {"threshold": 0, "name": "taken over"}),
        ("DELETE", c, None),
        ("POST", f"{c}/posts", {"main": spec["influencer"]}),
        ("POST", f"{c}/pause", None),
        ("POST", f"{c}/resume", None),
        ("GET", f"{c}/summary", None),
        ("GET", f"{c}/charts", None),
        ("GET", f"{c}/engagements", None),
        ("GET", f"{c}/posts/{post_id}", None),
        ("GET", f"{c}/accounts/{account_id}", None),
        ("GET", f"{c}/categories", None),
        ("GET", f"{c}/alerts", None),
        ("GET", f"{c}/alerts/stream", None),
    ]


def _snapshot(rt, bob, cid: int) -> tuple:
    with rt.db.session() as s:
        campaign = s.get(Campaign, cid)
        state = (campaign.name, campaign.status, campaign.alert_threshold, campaign.data_version)
    return bob.get(f"/campaigns/{cid}").json(), bob.get(f"/campaigns/{cid}/summary").json(), rows(rt, cid), state


def test_every_id_route_of_another_workspace_answers_404_and_changes_nothing(two_workspaces):
    rt, sim, server, ana, bob, theirs, mine = two_workspaces
    assert ana.post(f"/campaigns/{mine}/pause").status_code == 200  # hers records nothing: the accounts are Bob's
    drive(rt, memory_queue(rt), until=SCENARIO.start + timedelta(hours=1, minutes=30))
    their_post = bob.get(f"/campaigns/{theirs}").json()["posts"][0]["id"]
    with rt.db.session() as s:
        their_account = str(s.scalar(select(Engagement.account_id).where(Engagement.campaign_id == theirs)))
    assert bob.get(f"/campaigns/{theirs}/accounts/{their_account}").status_code == 200
    assert len(bob.get(f"/campaigns/{theirs}/alerts").json()) == 3
    before = _snapshot(rt, bob, theirs)
    calls = usage(sim)["total_calls"]
    spec = SCENARIO.campaign_spec()

    browser = sign_in(server, "ana@example.com")
    for method, path, body in _id_routes(theirs, their_post, their_account, spec):
        r = ana.request(method, path, json=body)
        assert r.status_code == 404, (method, path, r.status_code, r.text)
        assert r.json() == {"detail": f"no campaign {theirs}"}, (method, path)
        # the same with the browser's session cookie (and its CSRF header for writes)
        r = browser.request(method, "/api/v1" + path, json=body, headers={"X-CSRF-Token": browser.csrf})
        assert r.status_code == 404, ("cookie", method, path, r.status_code)
    # exactly what an id that does not exist gets
    assert ana.get("/campaigns/987654").json() == {"detail": "no campaign 987654"}
    # their post and account through her own campaign are not hers either
    assert ana.get(f"/campaigns/{mine}/posts/{their_post}").status_code == 404
    assert ana.get(f"/campaigns/{mine}/accounts/{their_account}").status_code == 404
    assert [c["id"] for c in ana.get("/campaigns").json()] == [mine]

    assert _snapshot(rt, bob, theirs) == before
    assert usage(sim)["total_calls"] == calls  # not even an X lookup for the refused add-posts


def test_the_workspace_alert_stream_carries_only_its_own_alerts(two_workspaces):
    rt, _, server, ana, bob, theirs, mine = two_workspaces
    url = f"{server.url}/api/v1/alerts/stream"
    live = open_stream(url, dict(bob.headers), want=3)
    drive(rt, memory_queue(rt), until=SCENARIO.start + timedelta(hours=1, minutes=30))
    live.wait()
    assert {e["data"]["campaign_id"] for e in live.events} == {theirs}
    # replaying each workspace's stream from the very beginning: Bob's three alerts, none for Ana
    everything = {"Last-Event-ID": "0-0"}
    assert [e["data"] for e in open_stream(url, {**dict(bob.headers), **everything}, want=3).wait().events] == [
        e["data"] for e in live.events]
    assert open_stream(url, {**dict(ana.headers), **everything}, want=1, idle=3).wait().events == []
    with rt.db.session() as s:
        assert s.get(Campaign, mine).workspace_id != s.get(Campaign, theirs).workspace_id
