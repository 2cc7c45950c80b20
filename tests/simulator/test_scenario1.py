"""Scenario 1 of the spec, observed only through the fake API over HTTP."""

from __future__ import annotations

from datetime import timedelta

from socap.clock import parse_instant
from socap.simulator import load_scenario

TWEET_FIELDS = "created_at,author_id,referenced_tweets,conversation_id,public_metrics,in_reply_to_user_id"
AT_START = {"main": (5, 3, 1), "influencer": (20, 8, 2), "investor": (2, 1, 0)}
NAMED_IMPORTANCE = {
    "johnvc": 15,
    "techfounder": 22,
    "venturecapital1": 18,
    "venturecapital2": 15,
    "venturecapital3": 12,
    "devwirenews": 8,
}


def posts_by_category(world) -> dict[str, str]:
    return {p.category: p.id for p in world.campaign_posts()}


def retweets(api, post_id: str) -> list[dict]:
    return api.all_items(
        f"/2/tweets/{post_id}/retweets",
        expansions="author_id",
        **{"tweet.fields": TWEET_FIELDS, "user.fields": "description,public_metrics"},
    )


def direct_replies(api, post_id: str) -> list[dict]:
    items = api.all_items(
        "/2/tweets/search/recent",
        token_param="next_token",
        query=f"conversation_id:{post_id}",
        max_results=100,
        **{"tweet.fields": TWEET_FIELDS},
    )
    return [t for t in items if {"type": "replied_to", "id": post_id} in t.get("referenced_tweets", [])]


def quotes(api, post_id: str) -> list[dict]:
    return api.all_items(
        f"/2/tweets/{post_id}/quote_tweets",
        exclude="retweets",
        max_results=100,
        **{"tweet.fields": TWEET_FIELDS},
    )


def test_campaign_spec_names_the_three_posts():
    spec = load_scenario("small_launch").campaign_spec()
    assert spec["name"] == "Product Launch Q1 2025"
    assert (spec["days"], spec["threshold"], spec["spacing_minutes"]) == (3, 10, 20)
    assert [len(spec[c]) for c in ("main", "influencer", "investor")] == [1, 1, 1]
    assert spec["main"][0].startswith("https://x.com/acmehq/status/")


def test_lists_at_start_match_the_spec_table(api1, world1):
    ids = posts_by_category(world1)
    totals = [0, 0, 0]
    for category, expected in AT_START.items():
        post_id = ids[category]
        rts, reps, qts = retweets(api1, post_id), direct_replies(api1, post_id), quotes(api1, post_id)
        assert (len(rts), len(reps), len(qts)) == expected, category
        assert all(t["referenced_tweets"] == [{"type": "retweeted", "id": post_id}] for t in rts)
        assert all(t["conversation_id"] == post_id for t in reps)
        totals = [a + b for a, b in zip(totals, expected, strict=True)]
    assert totals == [27, 12, 3]  # 42 engagements (the spec's "Total 40" does not add up)

    body = api1.ok("/2/tweets", ids=",".join(ids.values()), **{"tweet.fields": "public_metrics"})
    metrics = {t["id"]: t["public_metrics"] for t in body["data"]}
    assert [metrics[ids[c]]["like_count"] for c in AT_START] == [50, 200, 30]
    assert [metrics[ids[c]]["retweet_count"] for c in AT_START] == [5, 20, 2]
    assert [metrics[ids[c]]["reply_count"] for c in AT_START] == [3, 8, 1]
    assert [metrics[ids[c]]["quote_count"] for c in AT_START] == [1, 2, 0]


def test_two_new_retweeters_appear_newest_first_by_d1_h2(api1, world1):
    main = posts_by_category(world1)["main"]
    before = {t["id"] for t in retweets(api1, main)}
    api1.clock.set(world1.start + timedelta(hours=2))
    body = api1.ok(f"/2/tweets/{main}/retweets", expansions="author_id", **{"tweet.fields": "created_at"})
    data = body["data"]
    assert len(data) == 7
    assert {t["id"] for t in data[2:]} == before
    assert int(data[0]["id"]) > int(data[1]["id"])
    users = {u["id"]: u["username"] for u in body["includes"]["users"]}
    assert users[data[1]["author_id"]] == "johnvc"
    assert parse_instant(data[1]["created_at"]) < parse_instant(data[0]["created_at"])
    likes = api1.ok(f"/2/tweets/{main}", **{"tweet.fields": "public_metrics"})["data"]["public_metrics"]
    assert likes["like_count"] == 75


def test_techfounder_quote_and_vcs_in_one_poll_window(api1, world1):
    ids = posts_by_category(world1)
    api1.clock.set(world1.start + timedelta(hours=36))
    body = api1.ok(
        f"/2/tweets/{ids['influencer']}/quote_tweets",
        exclude="retweets",
        max_results=100,
        expansions="author_id",
        **{"tweet.fields": "created_at"},
    )
    by_user = {u["id"]: u["username"] for u in body["includes"]["users"]}
    founder = [t for t in body["data"] if by_user[t["author_id"]] == "techfounder"]
    assert founder and founder[0]["text"].startswith("This product is game-changing for developers!")
    rts = retweets(api1, ids["investor"])
    window = (world1.start + timedelta(hours=35.5), world1.start + timedelta(hours=36))
    in_window = [t for t in rts if window[0] < parse_instant(t["created_at"]) <= window[1]]
    assert len(in_window) == 3
    summary = api1.truth()["summary"]
    assert summary["engagements"] == 65


def test_final_truth_matches_the_final_report(api1, world1):
    api1.clock.set(world1.end)
    summary = api1.truth()["summary"]
    assert summary["engagements_by_action"] == {"retweet": 85, "reply": 23, "quote": 12}
    assert summary["engagements"] == 120
    assert summary["unique_accounts"] == 95
    assert summary["likes"] == 1500
    assert summary["category_mix"] == {"investor": 8, "founder": 3, "developer": 15, "media": 5, "other": 64}
    assert summary["thread_replies"] == 2
    # The API agrees with the truth: counters and lists.
    ids = posts_by_category(world1)
    body = api1.ok("/2/tweets", ids=",".join(ids.values()), **{"tweet.fields": "public_metrics"})
    assert sum(t["public_metrics"]["retweet_count"] for t in body["data"]) == 85
    assert sum(t["public_metrics"]["reply_count"] for t in body["data"]) == 23
    assert sum(len(direct_replies(api1, i)) for i in ids.values()) == 23
    assert sum(len(retweets(api1, i)) for i in ids.values()) == 85


def test_importance_equals_seeds_following_from_the_api(api1, world1):
    api1.clock.set(world1.end)
    truth = api1.truth()
    usernames = [s["username"] for s in truth["seeds"]]
    assert len(usernames) == 60
    seeds = []
    for chunk in range(0, len(usernames), 100):
        seeds += api1.ok("/2/users/by", usernames=",".join(usernames[chunk : chunk + 100]))["data"]
    followed_by: dict[str, int] = {}
    for seed in seeds:
        for user in api1.all_items(f"/2/users/{seed['id']}/following", max_results=1000):
            followed_by[user["id"]] = followed_by.get(user["id"], 0) + 1
    importance = {a["username"]: followed_by.get(a["id"], 0) for a in truth["accounts"]}
    for account in truth["accounts"]:
        assert importance[account["username"]] == account["importance"]
    assert {u: importance[u] for u in NAMED_IMPORTANCE} == NAMED_IMPORTANCE
    others = [v for u, v in importance.items() if u not in NAMED_IMPORTANCE]
    assert max(others) < 10
    assert sum(1 for v in others if v <= 3) > len(others) * 0.7
    important = {row["username"] for row in truth["summary"]["important_accounts"]}
    assert important == set(NAMED_IMPORTANCE) - {"devwirenews"}
