"""Model parsing: field-name variants, nulls, helpers, rate-limit headers."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from socap.x import (
    ALL_ENDPOINTS,
    Includes,
    Page,
    Problem,
    RateLimit,
    Tweet,
    TweetMetrics,
    User,
    UserMetrics,
    snowflake_time,
)


def test_metrics_accept_classic_and_new_names() -> None:
    assert TweetMetrics.model_validate({"repost_count": 4}).retweet_count == 4
    assert TweetMetrics.model_validate({"retweet_count": 5}).retweet_count == 5
    assert TweetMetrics(retweet_count=6).retweet_count == 6
    assert UserMetrics.model_validate({"post_count": 7}).tweet_count == 7
    assert UserMetrics.model_validate({"tweet_count": 8}).tweet_count == 8


def test_metrics_default_and_null_to_zero() -> None:
    metrics = TweetMetrics.model_validate({"like_count": None, "impression_count": 3, "surprise": 1})
    assert (metrics.like_count, metrics.impression_count, metrics.bookmark_count) == (0, 3, 0)


def test_tweet_full_fields() -> None:
    tweet = Tweet.model_validate(
        {
            "id": "1578516068309794817",
            "text": "hi",
            "author_id": "2244994945",
            "created_at": "2022-10-07T22:42:12.000Z",
            "conversation_id": "1578000000000000000",
            "in_reply_to_user_id": "783214",
            "public_metrics": {"retweet_count": 1, "reply_count": 2, "like_count": 3, "quote_count": 4},
            "referenced_tweets": [
                {"type": "replied_to", "id": "1578000000000000001"},
                {"type": "quoted", "id": "1578000000000000002"},
            ],
            "edit_history_tweet_ids": ["1578516068309794817"],
            "lang": "en",
        }
    )
    assert tweet.created_at == datetime(2022, 10, 7, 22, 42, 12, tzinfo=UTC)
    assert tweet.replied_to_id == "1578000000000000001"
    assert tweet.quoted_id == "1578000000000000002"
    assert tweet.retweeted_id is None
    assert tweet.public_metrics is not None and tweet.public_metrics.quote_count == 4
    # The id's snowflake time agrees with created_at to the millisecond.
    assert abs((tweet.created_at_from_id - tweet.created_at).total_seconds()) < 1


def test_tweet_minimal_and_numeric_id() -> None:
    tweet = Tweet.model_validate({"id": 1293593516040269825, "text": None, "referenced_tweets": None})
    assert tweet.id == "1293593516040269825" and tweet.text == "" and tweet.referenced_tweets == []
    assert tweet.created_at is None and tweet.public_metrics is None


def test_snowflake_time() -> None:
    moment = snowflake_time("1293593516040269825")
    assert moment.tzinfo is UTC
    # (1293593516040269825 >> 22) + 1288834974657 = 1597251702686 ms
    assert moment == datetime(2020, 8, 12, 17, 1, 42, 686000, tzinfo=UTC)
    assert snowflake_time(0) == datetime(2010, 11, 4, 1, 42, 54, 657000, tzinfo=UTC)


def test_user_fields() -> None:
    user = User.model_validate(
        {
            "id": "2244994945",
            "name": "Developers",
            "username": "XDevelopers",
            "created_at": "2013-12-14T04:35:55.000Z",
            "public_metrics": {
                "followers_count": 10,
                "following_count": 2,
                "tweet_count": 3,
                "listed_count": 1,
            },
            "verified": True,
            "verified_type": "business",
            "protected": False,
            "description": None,
        }
    )
    assert user.public_metrics is not None and user.public_metrics.followers_count == 10
    assert user.verified and user.verified_type == "business" and user.protected is False
    assert user.description == "" and user.location is None


def test_problem_reason_falls_back_to_detail() -> None:
    problem = Problem.model_validate(
        {"title": "Field Authorization Error", "detail": "no access", "type": "x"}
    )
    assert problem.reason == "no access"
    assert Problem.model_validate({"message": "old style"}).detail == "old style"
    assert Problem().reason == "unknown error"


def test_page_counts_posts_and_users() -> None:
    includes = Includes(users=[User(id="1")], tweets=[Tweet(id="2"), Tweet(id="3")])
    tweets = Page[Tweet](data=[Tweet(id="4")], includes=includes)
    assert (tweets.posts_returned, tweets.users_returned) == (3, 1)
    users = Page[User](data=[User(id="5"), User(id="6")], includes=includes)
    assert (users.posts_returned, users.users_returned) == (2, 3)
    assert includes.users_by_id["1"].id == "1"
    assert Page[User]().data == [] and Page[User]().meta.next_token is None


def test_endpoint_keys() -> None:
    assert len(ALL_ENDPOINTS) == len(set(ALL_ENDPOINTS)) == 10
    assert all(key.startswith("GET /2/") for key in ALL_ENDPOINTS)


def test_rate_limit_from_headers() -> None:
    limit = RateLimit.from_headers(
        {"X-Rate-Limit-Limit": "300", "x-rate-limit-remaining": "0", "x-rate-limit-reset": "1736155800"}
    )
    assert limit == RateLimit(300, 0, datetime(2025, 1, 6, 9, 30, tzinfo=UTC))
    assert limit.seconds_until_reset(datetime(2025, 1, 6, 9, 29, tzinfo=UTC)) == 60
    assert limit.seconds_until_reset(datetime(2025, 1, 6, 10, 0, tzinfo=UTC)) == 0
    recorded = {"x-rate-limit-limit": ["75"], "x-rate-limit-remaining": ["74"], "x-rate-limit-reset": ["1"]}
    assert RateLimit.from_headers(recorded) == RateLimit(75, 74, datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC))


def test_rate_limit_absent_or_bad() -> None:
    assert RateLimit.from_headers({}) is None
    assert RateLimit.from_headers({"x-rate-limit-limit": "1", "x-rate-limit-remaining": "1"}) is None
    bad = {"x-rate-limit-limit": "lots", "x-rate-limit-remaining": "1", "x-rate-limit-reset": "2"}
    assert RateLimit.from_headers(bad) is None
    negative = {"x-rate-limit-limit": "1", "x-rate-limit-remaining": "-1", "x-rate-limit-reset": "2"}
    assert RateLimit.from_headers(negative) is None
    huge = {"x-rate-limit-limit": "1", "x-rate-limit-remaining": "1", "x-rate-limit-reset": "9" * 30}
    assert RateLimit.from_headers(huge) is None


@given(
    st.dictionaries(
        st.sampled_from(["x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset", "other"]),
        st.text(max_size=30),
    )
)
def test_rate_limit_never_raises(headers: dict[str, str]) -> None:
    result = RateLimit.from_headers(headers)
    assert result is None or result.reset_at.tzinfo is not None
