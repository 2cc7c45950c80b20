"""Bad arguments fail with ValueError before any request (requests cost money)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from socap.x import TWEET_FIELDS, USER_FIELDS, XClient
from tests.x.support import Harness, reply

IDS = [str(10**18 + n) for n in range(101)]


@pytest.fixture
def harness() -> Harness:
    return Harness(reply(200, {}))


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get_tweets(IDS),
        lambda c: c.get_tweets([]),
        lambda c: c.get_tweets("123"),
        lambda c: c.get_tweets(["12a"]),
        lambda c: c.get_tweets(["1" * 20]),
        lambda c: c.get_users(IDS),
        lambda c: c.get_users_by_usernames([f"user{n}" for n in range(101)]),
        lambda c: c.get_users_by_usernames(["bad name"]),
        lambda c: c.get_users_by_usernames(["@"]),
        lambda c: c.search_recent("x" * 513),
        lambda c: c.search_recent(""),
        lambda c: c.search_recent("q", max_results=9),
        lambda c: c.search_recent("q", since_id="abc"),
        lambda c: c.get_quote_tweets("1", max_results=5),
        lambda c: c.get_retweets("1", max_results=101),
        lambda c: c.get_retweeted_by("1", max_results=0),
        lambda c: c.get_liking_users("1/../../users"),
        lambda c: c.get_following("1", max_results=1001),
    ],
)
def test_rejected_before_request(harness: Harness, call: Callable[[XClient], Any]) -> None:
    with pytest.raises(ValueError):
        call(harness.client)
    assert harness.requests == []


def test_limits_themselves_are_accepted(harness: Harness) -> None:
    client = harness.client
    client.get_tweets(IDS[:100])
    assert len(harness.params()["ids"].split(",")) == 100
    client.search_recent("x" * 512)
    client.get_following("1", max_results=1000)
    client.get_quote_tweets("1", max_results=10)
    assert len(harness.requests) == 4


def test_request_parameters(harness: Harness) -> None:
    client = harness.client
    client.get_tweets(["2", "1", "2"])
    assert harness.params() == {
        "ids": "2,1",  # duplicates would be billed twice
        "tweet.fields": TWEET_FIELDS,
        "expansions": "author_id",
        "user.fields": USER_FIELDS,
    }
    client.get_users_by_usernames(["@TwitterDev", "XDevelopers"])
    assert harness.params()["usernames"] == "TwitterDev,XDevelopers"
    client.get_retweets("5", max_results=50, pagination_token="T")
    assert harness.requests[-1].url.path == "/2/tweets/5/retweets"
    assert harness.params() == {
        "max_results": "50",
        "tweet.fields": "created_at,author_id,referenced_tweets",
        "expansions": "author_id",
        "user.fields": USER_FIELDS,
        "pagination_token": "T",
    }
    client.get_quote_tweets("5", exclude_retweets=False)
    assert "exclude" not in harness.params() and harness.params()["max_results"] == "100"
    client.get_users(["7"])
    assert harness.requests[-1].url.path == "/2/users" and harness.params()["user.fields"] == USER_FIELDS


def test_base_url_with_trailing_slash_and_local_simulator() -> None:
    import httpx

    seen: list[httpx.URL] = []

    def serve(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return reply(200, {})

    with XClient("http://127.0.0.1:8123/2/", "t", transport=httpx.MockTransport(serve)) as client:
        client.get_following("9")
    assert str(seen[0]).startswith("http://127.0.0.1:8123/2/users/9/following?")


def test_bad_constructor_arguments() -> None:
    with pytest.raises(ValueError):
        XClient("api.x.com/2", "t")
    with pytest.raises(ValueError):
        XClient("https://api.x.com/2", "t", max_retries=-1)
    with pytest.raises(ValueError):
        XClient("https://api.x.com/2", "t", timeout=0)
