from __future__ import annotations

from datetime import timedelta

import pytest


def test_posts_billed_once_per_utc_day_and_users_cost_more(api1, world1):
    posts = [p.id for p in world1.campaign_posts()]
    api1.ok("/2/tweets", ids=posts[0])
    api1.ok("/2/tweets", ids=posts[0])
    usage = api1.ok("/_sim/usage")
    assert usage["billable"] == {"posts": 1, "users": 0}
    assert usage["cost_usd"] == pytest.approx(0.005)

    api1.ok("/2/tweets", ids=",".join(posts), expansions="author_id")  # 2 new posts, 3 authors
    usage = api1.ok("/_sim/usage")
    assert usage["billable"] == {"posts": 3, "users": 3}
    assert usage["cost_usd"] == pytest.approx(3 * 0.005 + 3 * 0.010)
    assert usage["endpoints"]["GET /2/tweets"]["posts"] == 3
    assert usage["endpoints"]["GET /2/tweets"]["users"] == 3

    # 2025-01-06T09:00Z + 15h is the next UTC day: the same post is billed again.
    api1.clock.advance(timedelta(hours=15))
    api1.ok("/2/tweets", ids=posts[0])
    assert api1.ok("/_sim/usage")["billable"] == {"posts": 4, "users": 3}


def test_list_endpoints_bill_what_they_return(api1, world1):
    post = world1.campaign_posts()[1].id  # influencer: 20 retweets at the start
    api1.ok(f"/2/tweets/{post}/retweeted_by")
    assert api1.ok("/_sim/usage")["billable"] == {"posts": 0, "users": 20}
    api1.ok(f"/2/tweets/{post}/retweets", max_results=100, expansions="author_id")
    # 20 retweet posts are new, their 20 authors were already billed today.
    assert api1.ok("/_sim/usage")["billable"] == {"posts": 20, "users": 20}
    api1.get("/2/tweets", ids="99")  # only an error entry: nothing billed
    assert api1.ok("/_sim/usage")["billable"] == {"posts": 20, "users": 20}


def test_usage_reset(api1, world1):
    api1.ok("/2/tweets", ids=world1.campaign_posts()[0].id)
    api1.get("/2/tweets", ids="x")
    usage = api1.ok("/_sim/usage")
    assert usage["total_calls"] == 2
    assert usage["endpoints"]["GET /2/tweets"]["by_status"] == {"200": 1, "400": 1}
    calls = api1.ok("/_sim/calls")["calls"]
    assert [c["status"] for c in calls] == [200, 400] and calls[0]["billed_posts"] == 1
    reset = api1.http.post("/_sim/usage/reset").json()
    assert reset["total_calls"] == 0 and reset["cost_usd"] == 0
    api1.ok("/2/tweets", ids=world1.campaign_posts()[0].id)
    assert api1.ok("/_sim/usage")["billable"]["posts"] == 1
