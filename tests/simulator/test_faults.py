from __future__ import annotations

import json
import time
from collections import Counter

import httpx
import pytest

from socap.simulator import FaultProfile, Scenario, hours, minutes
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


def test_random_429s_look_exhausted_but_leave_the_real_window_alone(serve, world1):
    api = serve(world1, faults=FaultProfile(rate_limited_rate=1.0))
    limited = api.get("/2/tweets", ids=main_id(world1))
    assert limited.status_code == 429 and limited.json()["title"] == "Too Many Requests"
    assert limited.headers["x-rate-limit-remaining"] == "0"
    assert api.sim.usage_summary()["faults"] == {"rate_limited": 1}
    api.sim.set_faults(FaultProfile())
    ok = api.get("/2/tweets", ids=main_id(world1))
    assert ok.status_code == 200
    assert int(ok.headers["x-rate-limit-remaining"]) == int(ok.headers["x-rate-limit-limit"]) - 1


def test_random_fault_rates_are_met_per_kind():
    profile = FaultProfile(seed=5, rate_limited_rate=0.10, error_rate=0.05, timeout_rate=0.02, malformed_rate=0.01)
    injector = FaultInjector(profile)
    reasons = Counter(getattr(injector.decide("GET /2/tweets", "/2/tweets?ids=1"), "reason", None)
                      for _ in range(20_000))
    for reason, rate in (("rate_limited", 0.10), ("error", 0.05), ("timeout", 0.02), ("malformed", 0.01)):
        assert abs(reasons[reason] / 20_000 - rate) < 0.25 * rate, (reason, reasons)


def _episode(b):
    b.campaign("Episode", start="2025-03-03T12:00:00Z", days=1, threshold=10)
    author = b.account("episodeco", name="Episode Co", bio="We get cut off for a while.")
    b.post("main", author=author, text="A post", created=-hours(2), likes={hours(0): 10})
    b.fault("*", at=hours(2), until=hours(3), status=402, times=10**9, note="credits ran out for an hour")


def test_an_app_wide_402_episode_refuses_every_endpoint_from_at_until_until(serve):
    world = Scenario.from_function("t_episode", _episode).build_world()
    api = serve(world)
    post = main_id(world)

    def statuses() -> list[int]:
        return [api.get("/2/tweets", ids=post).status_code,
                api.get("/2/tweets/search/recent", query=f"conversation_id:{post}").status_code,
                api.get("/2/users/by", usernames="episodeco").status_code]

    assert statuses() == [200, 200, 200]
    api.clock.advance(hours(2))
    refused = api.get("/2/tweets/:id/retweets".replace(":id", post))
    assert refused.status_code == 402 and refused.json()["title"] == "CreditsDepleted"
    assert statuses() == [402, 402, 402]
    api.clock.advance(hours(1) - minutes(1))
    assert statuses() == [402, 402, 402]
    api.clock.advance(minutes(1))
    assert statuses() == [200, 200, 200]
