from __future__ import annotations

from datetime import timedelta

import httpx

from socap.simulator import FaultProfile

RATE_HEADERS = ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset")


def test_headers_on_every_response(api1, world1):
    post = world1.campaign_posts()[0].id
    responses = [
        api1.get("/2/tweets", ids=post),
        api1.get("/2/tweets", ids="abc"),  # 400
        api1.get("/2/tweets/1/retweets"),  # 200 with errors
        api1.get(f"/2/tweets/{post}/retweeted_by"),
        api1.get(f"/2/tweets/{post}/quote_tweets"),
        api1.get(f"/2/tweets/{post}/liking_users"),
        api1.get("/2/tweets/search/recent", query=f"conversation_id:{post}"),
        api1.get("/2/users/by", usernames="johnvc"),
        api1.get("/2/users", ids="12345"),
        httpx.get(api1.server.api_base + "/tweets", params={"ids": post}),  # 401
    ]
    assert [r.status_code for r in responses] == [200, 400, 200, 200, 200, 200, 200, 200, 200, 401]
    for response in responses:
        assert all(h in response.headers for h in RATE_HEADERS), response.url
    assert responses[0].headers["x-rate-limit-limit"] == "3500"
    assert responses[3].headers["x-rate-limit-limit"] == "75"
    assert responses[6].headers["x-rate-limit-limit"] == "450"
    assert responses[7].headers["x-rate-limit-limit"] == "300"


def test_76th_retweets_call_is_429_until_the_window_resets(api1, world1):
    post = world1.campaign_posts()[0].id
    path = f"/2/tweets/{post}/retweets"
    start = api1.clock.now()
    for i in range(75):
        response = api1.get(path)
        assert response.status_code == 200
        assert response.headers["x-rate-limit-remaining"] == str(74 - i)
    reset = int(response.headers["x-rate-limit-reset"])
    assert reset == int(start.timestamp()) + 900
    api1.clock.advance(timedelta(minutes=10))
    limited = api1.get(path)
    assert limited.status_code == 429
    assert limited.json() == {
        "title": "Too Many Requests",
        "detail": "Too Many Requests",
        "type": "about:blank",
        "status": 429,
    }
    assert limited.headers["x-rate-limit-remaining"] == "0"
    assert int(limited.headers["x-rate-limit-reset"]) == reset
    # Other endpoints have their own buckets.
    assert api1.get(f"/2/tweets/{post}/retweeted_by").status_code == 200
    api1.clock.advance(timedelta(minutes=5, seconds=1))
    again = api1.get(path)
    assert again.status_code == 200
    assert again.headers["x-rate-limit-remaining"] == "74"
    assert int(again.headers["x-rate-limit-reset"]) > reset
    usage = api1.sim.usage_summary()
    assert usage["endpoints"]["GET /2/tweets/:id/retweets"]["by_status"] == {"200": 76, "429": 1}


def test_limits_are_configurable(serve, world1):
    api = serve(world1, faults=FaultProfile(rate_limits={"GET /2/users/by": 2}))
    statuses = [api.get("/2/users/by", usernames="johnvc").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    api.sim.set_faults({"rate_limits": {"GET /2/users/by": 5}})
    response = api.get("/2/users/by", usernames="johnvc")
    assert response.status_code == 200 and response.headers["x-rate-limit-limit"] == "5"
