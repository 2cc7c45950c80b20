from __future__ import annotations

from datetime import timedelta

import httpx

from .worlds import edge_world

NOT_FOUND = "https://api.twitter.com/2/problems/resource-not-found"


def test_default_fields_and_single_lookup(api1, world1):
    post = world1.campaign_posts()[0]
    body = api1.ok(f"/2/tweets/{post.id}")
    assert body == {"data": {"id": post.id, "text": post.text, "edit_history_tweet_ids": [post.id]}}
    full = api1.ok(
        f"/2/tweets/{post.id}",
        expansions="author_id",
        **{
            "tweet.fields": "created_at,public_metrics,conversation_id",
            "user.fields": "description,public_metrics,created_at,profile_image_url,verified_type",
        },
    )
    assert full["data"]["author_id"] == post.author_id
    assert full["data"]["created_at"].endswith(".000Z")
    assert set(full["data"]["public_metrics"]) == {
        "retweet_count",
        "reply_count",
        "like_count",
        "quote_count",
        "bookmark_count",
        "impression_count",
    }
    user = full["includes"]["users"][0]
    assert user["username"] == "acmehq" and "followers_count" in user["public_metrics"]


def test_partial_errors_for_missing_posts(api1, world1):
    post = world1.campaign_posts()[0].id
    body = api1.ok("/2/tweets", ids=f"{post},123")
    assert [t["id"] for t in body["data"]] == [post]
    assert body["errors"] == [
        {
            "value": "123",
            "detail": "Could not find tweet with ids: [123].",
            "title": "Not Found Error",
            "resource_type": "tweet",
            "parameter": "ids",
            "resource_id": "123",
            "type": NOT_FOUND,
        }
    ]
    single = api1.ok("/2/tweets/123")
    assert "data" not in single and single["errors"][0]["parameter"] == "id"


def test_bad_requests(api1):
    assert api1.get("/2/tweets", ids=",".join(str(i) for i in range(1, 102))).status_code == 400
    bad = api1.get("/2/tweets", ids="12,abc")
    assert bad.status_code == 400 and bad.json()["errors"][0]["parameters"] == {"ids": ["abc"]}
    assert api1.get("/2/tweets").status_code == 400
    assert api1.get("/2/tweets", ids="1", **{"tweet.fields": "public_metrics,bogus"}).status_code == 400
    assert api1.get("/2/tweets/abc").status_code == 400
    assert api1.get("/2/users/by", usernames="way_too_long_username_here").status_code == 400
    assert api1.get("/2/nothing/here").status_code == 404


def test_auth_required(api1, world1):
    url = api1.server.api_base + "/tweets"
    params = {"ids": world1.campaign_posts()[0].id}
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"}):
        response = httpx.get(url, params=params, headers=headers)
        assert response.status_code == 401
        assert response.json()["title"] == "Unauthorized"
    assert httpx.get(url, params=params, headers={"Authorization": "Bearer x"}).status_code == 200


def test_deleted_and_protected_posts(serve):
    world = edge_world()
    _, deleted, protected = world.campaign_posts()
    api = serve(world)
    ids = f"{deleted.id},{protected.id}"
    assert len(api.ok("/2/tweets", ids=ids)["data"]) == 2
    api.clock.advance(timedelta(hours=1))
    body = api.ok("/2/tweets", ids=ids)
    assert "data" not in body
    gone, private = body["errors"]
    assert gone["type"] == NOT_FOUND and gone["resource_id"] == deleted.id
    assert private["type"] == "https://api.twitter.com/2/problems/not-authorized-for-resource"
    assert private["title"] == "Authorization Error" and private["section"] == "data"
    listed = api.ok(f"/2/tweets/{deleted.id}/retweets")
    assert listed["errors"][0]["parameter"] == "id" and "data" not in listed
    assert api.truth()["posts"][1]["state"] == "deleted"


def test_users_lookup_and_suspended(serve):
    world = edge_world()
    api = serve(world)
    body = api.ok(
        "/2/users/by", usernames="EDGECO,gonebad,nobody_here,quietone", **{"user.fields": "protected"}
    )
    assert [u["username"] for u in body["data"]] == ["edgeco", "quietone"]
    assert body["data"][1]["protected"] is True
    suspended, missing = body["errors"]
    assert suspended["detail"] == "User has been suspended: [gonebad]." and suspended["type"] == NOT_FOUND
    assert missing["detail"] == "Could not find user with usernames: [nobody_here]."
    by_id = api.ok("/2/users", ids=f"{body['data'][0]['id']},42")
    assert len(by_id["data"]) == 1 and by_id["errors"][0]["resource_id"] == "42"
    quiet = body["data"][1]["id"]
    assert "not-authorized" in api.ok(f"/2/users/{quiet}/following")["errors"][0]["type"]


def test_protected_repliers_are_hidden_from_search_but_counted(serve):
    from .worlds import big_world

    world = big_world()
    post = world.campaign_posts()[0].id
    api = serve(world, at=world.start + timedelta(hours=3))
    metrics = api.ok(f"/2/tweets/{post}", **{"tweet.fields": "public_metrics"})["data"]["public_metrics"]
    replies = api.all_items(
        "/2/tweets/search/recent",
        token_param="next_token",
        query=f"in_reply_to_tweet_id:{post}",
        max_results=100,
    )
    assert metrics["reply_count"] == 16 and len(replies) == 15


def test_clock_and_scenario_routes(api1, world1):
    clock = api1.ok("/_sim/clock")
    assert clock["now"] == "2025-01-06T09:00:00Z" and clock["spec"].startswith("manual:")
    scenario = api1.ok("/_sim/scenario")
    assert scenario["campaign"]["name"] == "Product Launch Q1 2025"
    assert scenario["seeds_csv"].startswith("username,category,weight\n")
    assert len(scenario["seeds_csv"].strip().splitlines()) == 61
