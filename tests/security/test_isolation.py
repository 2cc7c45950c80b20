"""Workspace isolation on every id-taking route.

Every route whose path holds an id is enumerated from ``create_app``; a user of workspace "alpha" (Ana) calls
each with the ids of workspace "default" (Bob): with her API token and with her browser session (CSRF token
included, so only the workspace check can refuse), for reads and writes alike. Each answers 404 — the same
answer as for an id that does not exist, so ids of other workspaces are not even confirmed — and Bob's
campaign is unchanged afterwards (rows of every campaign table, settings, data version), with no X call
made on Ana's behalf. Ids nested under her own campaign (Bob's post, Bob's engaging account) answer 404 too,
routes without ids show only her own campaigns, and her alert stream never carries Bob's alerts.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from socap.monitoring.engine import drive
from socap.reports.export import FORMATS
from tests.monitoring.support import memory_queue, usage
from tests.security.support import BODIES, SCENARIO, protected, two_workspaces
from tests.web.test_api import open_stream

MISSING = 987654
THEIR_NAME = SCENARIO.campaign_spec()["name"]

@pytest.fixture
def site(start_simulator, make_runtime, serve_web):
    return two_workspaces(start_simulator, make_runtime, serve_web)


def _call(client, route, url: str):
    body = BODIES.get((route.method, route.path))
    if route.api:
        return client.request(route.method, url, json=body if route.writes else None,
                              headers={"X-CSRF-Token": getattr(client, "csrf", "")})
    data = {"csrf_token": client.csrf, **(body or {})} if route.writes else None
    return client.request(route.method, url, data=data, follow_redirects=False)


def _same_answer(theirs, missing, their_id: int) -> bool:
    """Bob's id gets exactly what a missing id gets (the id itself aside: "no campaign 7")."""
    return (theirs.status_code == missing.status_code == 404
            and re.sub(rf"campaign {their_id}\b", "campaign ID", theirs.text)
            == re.sub(rf"campaign {MISSING}\b", "campaign ID", missing.text))


def test_every_id_route_answers_404_for_another_workspace_and_changes_nothing(site):
    routes = [r for r in protected(site.server.app) if r.params]
    assert {"campaign_id", "post_id", "account_id", "fmt"} <= {p for r in routes for p in r.params}
    assert all("campaign_id" in r.params for r in routes), "a new kind of top-level id: add it to this test"
    assert site.bob_api.get(f"/campaigns/{site.theirs}/alerts").json(), "Bob's campaign should have alerts"
    before = site.state()
    calls = usage(site.sim)["total_calls"]

    token = site.ana_api
    token.base_url = site.server.url  # the routes are full paths
    browser = site.browser("ana@example.com")
    checked = 0
    for route in routes:
        for fmt in (FORMATS if "fmt" in route.params else ("json",)):
            theirs = route.url(**site.values(site.theirs, fmt=fmt))
            missing = route.url(**site.values(MISSING, fmt=fmt))
            for who, client in (("token", token), ("session", browser)):
                if who == "token" and not route.api:
                    continue  # pages take the session only (a token gets 303 to sign in, see test_authentication)
                a, b = _call(client, route, theirs), _call(client, route, missing)
                assert _same_answer(a, b, site.theirs), (who, str(route), fmt, a.status_code, a.text[:300])
                assert THEIR_NAME not in a.text
                checked += 1
    assert checked >= 45
    # the same reads work for Bob: the 404s above come from the workspace, not from broken ids
    bob = site.browser("bob@example.com")
    for route in routes:
        if not route.writes and not route.path.endswith("/stream"):
            r = bob.get(route.url(**site.values(site.theirs)))
            assert r.status_code == 200, (str(route), r.status_code)
    assert site.state() == before
    assert usage(site.sim)["total_calls"] == calls  # not even an X lookup for the refused add-posts


def test_nested_ids_and_routes_without_ids_stay_in_her_workspace(site):
    token = site.ana_api
    browser = site.browser("ana@example.com")
    # Bob's post and account under her own campaign
    nested = [r for r in protected(site.server.app) if {"post_id", "account_id"} & set(r.params)]
    assert len(nested) == 4  # post and account, page and API
    for route in nested:
        url = site.server.url + route.url(**site.values(site.mine))
        for client in (token, browser) if route.api else (browser,):
            r = _call(client, route, url)
            assert r.status_code == 404, (str(route), r.status_code)
    # routes without ids list her campaigns only
    assert [c["id"] for c in token.get("/campaigns").json()] == [site.mine]
    for route in protected(site.server.app):
        if route.params or route.writes or route.path.endswith("/stream") or route.path in ("/openapi.json", "/docs"):
            continue
        r = browser.get(route.path)
        if r.status_code == 401:  # a route for tokens only (/metrics)
            r = token.get(site.server.url + route.path)
        assert r.status_code == 200, str(route)
        for theirs in (THEIR_NAME, f"/campaigns/{site.theirs}", f'campaign_id="{site.theirs}"'):
            assert theirs not in r.text, (str(route), theirs)
    assert "Ana&#39;s launch" in browser.get("/").text


def test_the_workspace_alert_stream_carries_only_its_own_alerts(start_simulator, make_runtime, serve_web):
    site = two_workspaces(start_simulator, make_runtime, serve_web, drive_for=None, notify=())
    url = f"{site.server.url}/api/v1/alerts/stream"
    bob, ana = dict(site.bob_api.headers), dict(site.ana_api.headers)
    live = open_stream(url, bob, want=3)
    mine = open_stream(url, ana, want=1, idle=3)
    drive(site.rt, memory_queue(site.rt), until=SCENARIO.start + timedelta(hours=1, minutes=30))
    live.wait()
    assert {e["data"]["campaign_id"] for e in live.events} == {site.theirs}
    assert mine.wait().events == []
    # replaying each workspace's stream from the very beginning: Bob's three alerts, none for Ana
    everything = {"Last-Event-ID": "0-0"}
    assert [e["data"] for e in open_stream(url, {**bob, **everything}, want=3).wait().events] == [
        e["data"] for e in live.events]
    assert open_stream(url, {**ana, **everything}, want=1, idle=3).wait().events == []
    # and her campaign's stream is closed to Bob's campaign id
    assert site.ana_api.get(f"/campaigns/{site.theirs}/alerts/stream").status_code == 404
