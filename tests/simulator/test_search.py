from __future__ import annotations

from datetime import timedelta

from socap.clock import parse_instant

from .worlds import edge_world

SEARCH = "/2/tweets/search/recent"
FIELDS = {"tweet.fields": "created_at,conversation_id,referenced_tweets,author_id"}


def search_all(api, query: str, **params) -> list[dict]:
    return api.all_items(SEARCH, token_param="next_token", query=query, max_results=10, **FIELDS, **params)


def test_or_query_with_since_id_returns_only_newer(serve, world1):
    posts = {p.category: p.id for p in world1.campaign_posts()}
    api = serve(world1, at=world1.start + timedelta(hours=2))
    query = f"conversation_id:{posts['main']} OR conversation_id:{posts['influencer']}"
    first = api.ok(SEARCH, query=query, max_results=10, **FIELDS)
    assert first["meta"]["result_count"] == len(first["data"]) <= 10  # pages may be short
    assert first["meta"]["next_token"]
    assert first["meta"]["newest_id"] == first["data"][0]["id"]
    assert first["meta"]["oldest_id"] == first["data"][-1]["id"]
    everything = search_all(api, query)
    assert {t["conversation_id"] for t in everything} == {posts["main"], posts["influencer"]}
    assert len(everything) == 11  # 3 + 8 direct replies (not the roots); no thread replies yet
    newest = first["meta"]["newest_id"]

    api.clock.set(world1.start + timedelta(hours=6))
    newer = search_all(api, f"({query})", since_id=newest)
    truth = api.truth()["engagements"]
    expected = {
        e["source_tweet_id"]
        for e in truth
        if e["action"] == "reply"
        and e["post_id"] in (posts["main"], posts["influencer"])
        and int(e["source_tweet_id"]) > int(newest)
    }
    assert {t["id"] for t in newer} == expected
    assert len(expected) == 7  # 5 direct replies to main + 2 thread replies (same conversation)
    assert all(parse_instant(t["created_at"]) > world1.start + timedelta(hours=2) for t in newer)
    empty = api.ok(SEARCH, query=query, since_id=newer[0]["id"])
    assert empty == {"meta": {"result_count": 0}}


def test_in_reply_to_and_quotes_of(serve, world1):
    posts = {p.category: p.id for p in world1.campaign_posts()}
    api = serve(world1, at=world1.start + timedelta(hours=6))
    direct = search_all(api, f"in_reply_to_tweet_id:{posts['main']}")
    assert len(direct) == 8
    assert all({"type": "replied_to", "id": posts["main"]} in t["referenced_tweets"] for t in direct)
    quotes = search_all(api, f"quotes_of_tweet_id:{posts['influencer']}")
    assert len(quotes) == 3
    no_roots = search_all(api, f"conversation_id:{posts['main']} is:reply")
    assert len(no_roots) == 10  # 8 direct + 2 thread replies


def test_seven_day_window(serve):
    world = edge_world()
    old = world.campaign_posts()[0]
    api = serve(world)
    found = search_all(api, f"conversation_id:{old.id}")
    created = sorted(parse_instant(t["created_at"]) for t in found)
    assert len(found) == 2  # replies at -6d and -1d; those at -9d/-8d are too old
    assert all(api.clock.now() - c <= timedelta(days=7) for c in created)
    api.clock.advance(timedelta(days=2))
    assert len(search_all(api, f"conversation_id:{old.id}")) == 1
    too_old = api.get(SEARCH, query=f"conversation_id:{old.id}", since_id=old.id)
    assert too_old.status_code == 400
    assert "since_id" in too_old.json()["errors"][0]["parameters"]


def test_query_limits_and_validation(serve, world1):
    api = serve(world1)
    post = world1.campaign_posts()[0].id
    long_query = " OR ".join([f"conversation_id:{post}"] * 14)
    assert len(long_query) > 512
    response = api.get(SEARCH, query=long_query)
    assert response.status_code == 400
    assert response.json()["type"] == "https://api.twitter.com/2/problems/invalid-request"
    assert "x-rate-limit-remaining" in response.headers
    assert api.get(SEARCH, query=f"conversation_id:{post}", max_results=9).status_code == 400
    assert api.get(SEARCH, query=f"conversation_id:{post}", max_results=101).status_code == 400
    assert api.get(SEARCH, query="").status_code == 400
    assert api.get(SEARCH, query="(conversation_id:1").status_code == 400
    ok_query = " OR ".join([f"conversation_id:{post}"] * 13)
    assert len(ok_query) <= 512 and api.get(SEARCH, query=ok_query).status_code == 200
