"""The simulator's mutation hook (socap.simulator.faults.mutate): what a mutator returns is what goes over the
wire, billing and the call log still follow the world's answer, and the world itself is never changed."""

from __future__ import annotations

import httpx

from socap.simulator import load_scenario
from socap.simulator.faults import RawBody

AUTH = {"Authorization": "Bearer fuzz"}


def test_a_mutator_rewrites_answers_without_touching_the_world(start_simulator):
    world = load_scenario("1").build_world()
    server = start_simulator(world)
    main = world.campaign_posts()[0].id
    url = server.api_base + "/tweets"
    params = {"ids": main, "tweet.fields": "public_metrics"}
    clean = httpx.get(url, params=params, headers=AUTH).json()
    seen = []

    def mutator(endpoint, request_url, payload):
        seen.append((endpoint, request_url))
        if endpoint != "GET /2/tweets":
            return None
        payload["data"][0]["public_metrics"]["like_count"] = 2**70  # changes a copy, never the world
        return payload

    server.sim.set_mutator(mutator)
    mutated = httpx.get(url, params=params, headers=AUTH)
    assert mutated.status_code == 200
    assert mutated.json()["data"][0]["public_metrics"]["like_count"] == 2**70
    assert seen[0][0] == "GET /2/tweets" and seen[0][1].startswith("/2/tweets?ids=")
    # another endpoint: the mutator saw it and left it alone
    users = httpx.get(server.api_base + "/users/by", params={"usernames": "acmehq"}, headers=AUTH)
    assert users.json()["data"][0]["username"] == "acmehq"

    server.sim.set_mutator(lambda e, u, p: RawBody("<html>busy</html>", status=200, content_type="text/html"))
    raw = httpx.get(url, params=params, headers=AUTH)
    assert (raw.status_code, raw.text) == (200, "<html>busy</html>")
    assert raw.headers["content-type"].startswith("text/html")
    assert "x-rate-limit-remaining" in raw.headers  # the rate-limit headers still come with it

    server.sim.set_mutator(None)
    assert httpx.get(url, params=params, headers=AUTH).json() == clean
    log = httpx.get(server.url + "/_sim/calls").json()["calls"]
    assert [c["fault"] for c in log] == [None, "mutated", None, "mutated", None]
    # billed as the world answered: the same post, once a day, whatever the mutator sent
    assert [c["billed_posts"] for c in log if c["endpoint"] == "GET /2/tweets"] == [1, 0, 0, 0]
