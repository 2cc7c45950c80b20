from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from socap.simulator import FaultProfile
from socap.simulator.pagination import paginate

from .worlds import big_world


def post_id(world) -> str:
    return world.campaign_posts()[0].id


def test_default_profile_still_lists_everything(serve):
    world = big_world()
    api = serve(world)
    ids = [t["id"] for t in api.all_items(f"/2/tweets/{post_id(world)}/retweets", max_results=50)]
    assert len(ids) == len(set(ids)) == 250


def test_every_retweet_exactly_once_despite_short_pages(serve):
    world = big_world()
    api = serve(world, faults=FaultProfile(short_page_rate=1.0))  # every full page with more behind is cut
    pages = api.pages(f"/2/tweets/{post_id(world)}/retweets", max_results=100)
    ids = [t["id"] for page in pages for t in page["data"]]
    assert len(ids) == len(set(ids)) == 250
    assert ids == sorted(ids, key=int, reverse=True)  # newest first across pages
    short_with_token = [p for p in pages if len(p["data"]) < 100 and "next_token" in p["meta"]]
    assert short_with_token, "some pages must be short and still carry next_token"
    assert all(p["meta"]["result_count"] == len(p["data"]) for p in pages)
    assert "next_token" not in pages[-1]["meta"]
    # Hidden (flagged or protected-account) retweets are counted but never listed.
    metrics = api.ok(f"/2/tweets/{post_id(world)}", **{"tweet.fields": "public_metrics"})["data"]
    assert metrics["public_metrics"]["retweet_count"] == 255
    truth = api.truth()
    hidden = [e for e in truth["engagements"] if e["action"] == "retweet" and not e["visible"]]
    assert len(hidden) == 5 and not {e["source_tweet_id"] for e in hidden} & set(ids)


def test_retweeted_by_pages_through_the_same_users(serve):
    world = big_world()
    api = serve(world)
    users = api.all_items(f"/2/tweets/{post_id(world)}/retweeted_by", max_results=100)
    posts = api.all_items(f"/2/tweets/{post_id(world)}/retweets", max_results=100, expansions="author_id")
    assert [u["id"] for u in users] == [t["author_id"] for t in posts]
    assert len(users) == 250


def test_no_short_pages_when_switched_off(serve):
    world = big_world()
    api = serve(world, faults=FaultProfile(short_page_rate=0))
    pages = api.pages(f"/2/tweets/{post_id(world)}/retweets", max_results=100)
    assert [len(p["data"]) for p in pages] == [100, 100, 50]


def test_token_stays_valid_when_new_retweets_arrive_at_the_head(serve):
    world = big_world()
    api = serve(world)
    path = f"/2/tweets/{post_id(world)}/retweets"
    first = api.ok(path, max_results=100)
    token = first["meta"]["next_token"]
    api.clock.advance(timedelta(hours=2))  # 30 new retweets at the head
    seen = [t["id"] for t in first["data"]]
    while token:
        page = api.ok(path, max_results=100, pagination_token=token)
        seen += [t["id"] for t in page["data"]]
        token = page["meta"].get("next_token")
    assert len(seen) == len(set(seen)) == 250
    head = api.all_items(path, max_results=100)
    assert len(head) == 280 and {t["id"] for t in head[30:]} == set(seen)


def test_bad_token_is_a_400(serve):
    world = big_world()
    api = serve(world)
    response = api.get(f"/2/tweets/{post_id(world)}/retweets", pagination_token="not-a-real-token")
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "https://api.twitter.com/2/problems/invalid-request"
    assert "pagination_token" in body["errors"][0]["parameters"]


def test_quote_tweets_lists_retweets_of_quotes_unless_excluded(serve):
    world = big_world()
    api = serve(world)
    path = f"/2/tweets/{post_id(world)}/quote_tweets"
    with_rts = api.all_items(path, max_results=10, **{"tweet.fields": "referenced_tweets"})
    only_quotes = api.all_items(
        path, max_results=10, exclude="retweets", **{"tweet.fields": "referenced_tweets"}
    )
    assert len(only_quotes) == 12 and len(with_rts) == 16
    assert all(t["referenced_tweets"][0]["type"] == "quoted" for t in only_quotes)
    assert api.get(path, max_results=5).status_code == 400


def test_following_pages_agree_for_any_page_size(serve, world1):
    api = serve(world1)
    seed = max(world1.seeds(), key=lambda s: len(world1.following(s.id)))
    assert len(world1.following(seed.id)) > 100
    big = api.all_items(f"/2/users/{seed.id}/following", max_results=1000)
    small = api.all_items(f"/2/users/{seed.id}/following", max_results=7)
    default = api.pages(f"/2/users/{seed.id}/following")
    assert [u["id"] for u in big] == [u["id"] for u in small] == world1.following(seed.id)
    assert len(default) >= 2
    assert all(len(p["meta"].get("next_token", "x" * 16)) >= 16 for p in default)


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(0, 400),
    max_results=st.integers(1, 100),
    short_rate=st.sampled_from([0.0, 0.5, 1.0]),
    salt=st.text(max_size=5),
)
def test_paginate_never_loses_or_repeats_items(n, max_results, short_rate, salt):
    items = list(range(n * 3, 0, -3))  # strictly descending keys, like ids newest first
    seen, token, pages = [], None, 0
    while True:
        page, token = paginate(
            items,
            lambda x: x,
            max_results=max_results,
            token=token,
            kind="t",
            parameter="p",
            salt=salt,
            short_rate=short_rate,
        )
        pages += 1
        assert 0 < len(page) <= max_results or (n == 0 and not page)
        seen += page
        if token is None:
            break
        assert len(token) >= 16
    assert seen == items
    assert pages <= n + 1
