from __future__ import annotations

import json
import time

import httpx
import pytest

from socap.simulator import FaultProfile
from socap.simulator.faults import FaultInjector


def main_id(world) -> str:
    return world.campaign_posts()[0].id


def test_503(serve, world1):
    api = serve(world1, faults=FaultProfile(error_rate=1.0))
    response = api.get("/2/tweets", ids=main_id(world1))
    assert response.status_code == 503
    assert response.json()["title"] == "Service Unavailable"
    assert "x-rate-limit-remaining" in response.headers
    usage = api.sim.usage_summary()
    assert usage["total_calls"] == 1 and usage["billable"] == {"posts": 0, "users": 0}
    assert usage["faults"] == {"error": 1}


def test_malformed_bodies(serve, world1):
    api = serve(world1, faults=FaultProfile(malformed_rate=1.0, seed=3))
    kinds = set()
    for _ in range(12):
        response = api.get("/2/tweets", ids=main_id(world1))
        assert response.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            json.loads(response.text)
        kinds.add(response.headers["content-type"].split(";")[0])
    assert kinds == {"application/json", "text/html"}
    assert api.sim.usage_summary()["billable"]["posts"] == 0


def test_credits_depleted_and_usage_cap_switch_at_runtime(api1, world1):
    assert api1.get("/2/tweets", ids=main_id(world1)).status_code == 200
    response = api1.http.post("/_sim/faults", json={"credits_depleted": True})
    assert response.status_code == 200 and response.json()["credits_depleted"] is True
    depleted = api1.get("/2/tweets", ids=main_id(world1))
    assert depleted.status_code == 402
    assert depleted.json()["title"] == "CreditsDepleted"
    assert depleted.json()["type"] == "https://api.twitter.com/2/problems/credits"
    api1.http.post("/_sim/faults", json={"usage_cap": True})
    capped = api1.get("/2/tweets/search/recent", query=f"conversation_id:{main_id(world1)}")
    assert capped.status_code == 429
    assert capped.json()["title"] == "UsageCapExceeded" and "usage-capped" in capped.json()["type"]
    api1.http.post("/_sim/faults", json={})
    assert api1.get("/2/tweets", ids=main_id(world1)).status_code == 200
    assert api1.http.get("/_sim/faults").json() == FaultProfile().to_dict()
    assert api1.http.post("/_sim/faults", json={"nonsense": 1}).status_code == 400
    api1.http.post("/_sim/faults", json={"error_rate": 0.25})
    merged = api1.http.post("/_sim/faults", params={"merge": "1"}, json={"usage_cap": True}).json()
    assert merged["error_rate"] == 0.25 and merged["usage_cap"] is True


def test_scripted_one_shot_429(api1, world1):
    post = main_id(world1)
    api1.http.post(
        "/_sim/faults/scripted",
        json={"endpoint": "GET /2/tweets", "contains": f"ids={post}", "status": 429, "times": 1},
    )
    other = world1.campaign_posts()[1].id
    assert api1.get("/2/tweets", ids=other).status_code == 200  # does not match
    limited = api1.get("/2/tweets", ids=post)
    assert limited.status_code == 429 and limited.json()["title"] == "Too Many Requests"
    assert limited.headers["x-rate-limit-remaining"] == "0"
    assert api1.get("/2/tweets", ids=post).status_code == 200  # one shot only
    assert api1.http.get("/_sim/faults").json()["scripted"] == []


def test_timeouts_delay_the_answer(serve, world1):
    api = serve(world1, faults=FaultProfile(timeout_rate=1.0, timeout_delay_seconds=0.3))
    started = time.monotonic()
    response = api.get("/2/tweets", ids=main_id(world1))
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 503
    with pytest.raises(httpx.TimeoutException):
        api.http.get("/2/tweets", params={"ids": main_id(world1)}, timeout=0.1)
    api.sim.set_faults(FaultProfile())
    api.sim.add_fault({"endpoint": "GET /2/users/by", "kind": "timeout", "delay_seconds": 0.3})
    started = time.monotonic()
    assert api.get("/2/users/by", usernames="johnvc").status_code == 503
    assert time.monotonic() - started >= 0.3
    assert api.get("/2/users/by", usernames="johnvc").status_code == 200


def test_random_faults_are_deterministic_per_seed():
    profile = {"error_rate": 0.2, "timeout_rate": 0.1, "malformed_rate": 0.1, "seed": 7}

    def sequence(data) -> list:
        injector = FaultInjector(FaultProfile.from_dict(data))
        return [
            getattr(injector.decide("GET /2/tweets", "/2/tweets?ids=1"), "reason", None) for _ in range(200)
        ]

    first = sequence(profile)
    assert first == sequence(profile)
    assert first != sequence({**profile, "seed": 8})
    assert 20 < sum(1 for r in first if r) < 140


def test_fault_profile_endpoint_filter(serve, world1):
    api = serve(world1, faults=FaultProfile(error_rate=1.0, endpoints=["GET /2/users/by"]))
    assert api.get("/2/tweets", ids=main_id(world1)).status_code == 200
    assert api.get("/2/users/by", usernames="johnvc").status_code == 503
