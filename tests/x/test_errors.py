"""HTTP status and body shapes map to distinct errors; only transient faults are retried."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

import httpx
import pytest

from socap.x import (
    ENDPOINT_TWEETS,
    ENDPOINT_USAGE,
    ENDPOINT_USERS,
    AuthError,
    BadRequest,
    CreditsDepleted,
    MalformedResponse,
    NotFound,
    RateLimited,
    TransientError,
    UsageCapExceeded,
    XAPIError,
)
from tests.x.support import RESET, Harness, rate_headers, reply

TWEET = {"id": "1293593516040269825", "text": "hello", "author_id": "2244994945"}
OK = reply(200, {"data": [TWEET], "includes": {"users": [{"id": "2244994945", "username": "TwitterDev"}]}})


def _raises(harness: Harness, error_type: type[XAPIError]) -> XAPIError:
    with pytest.raises(error_type) as info:
        harness.client.get_tweets([TWEET["id"]])
    return info.value


def test_429_rate_limited_carries_reset_and_is_not_retried() -> None:
    harness = Harness(
        reply(
            429,
            {
                "title": "Too Many Requests",
                "detail": "Too Many Requests",
                "type": "about:blank",
                "status": 429,
            },
            headers=rate_headers(limit=300, remaining=0, reset=1736155800),
        )
    )
    error = _raises(harness, RateLimited)
    assert not isinstance(error, UsageCapExceeded)
    assert error.reset_at == datetime(2025, 1, 6, 9, 30, tzinfo=UTC)
    assert error.rate_limit is not None and error.rate_limit.remaining == 0 and error.rate_limit.limit == 300
    assert (error.endpoint, error.status_code) == (ENDPOINT_TWEETS, 429)
    assert "Too Many Requests" in str(error) and "2025-01-06T09:30:00" in str(error)
    assert len(harness.requests) == 1 and harness.slept == 0
    assert harness.calls[0].status_code == 429 and harness.calls[0].error.startswith("RateLimited")


def test_429_without_headers_has_no_reset() -> None:
    error = _raises(Harness(reply(429, {"title": "Too Many Requests"}, rate=False)), RateLimited)
    assert error.reset_at is None and error.rate_limit is None


@pytest.mark.parametrize(
    "body",
    [
        {
            "title": "UsageCapExceeded",
            "detail": "Usage cap exceeded: Monthly product cap",
            "type": "https://api.twitter.com/2/problems/usage-capped",
            "period": "Monthly",
            "scope": "Product",
        },
        {"title": "Too Many Requests", "type": "https://api.twitter.com/2/problems/usage-capped"},
        {"title": "Forbidden", "detail": "Usage cap exceeded"},
    ],
)
def test_429_usage_cap_is_its_own_error(body: dict[str, str]) -> None:
    harness = Harness(reply(429, body, headers=rate_headers(remaining=10)))
    error = _raises(harness, UsageCapExceeded)
    assert not isinstance(error, RateLimited | TransientError)
    assert error.status_code == 429 and error.rate_limit is not None
    assert "usage cap" in str(error).lower()
    assert len(harness.requests) == 1


def test_402_credits_depleted() -> None:
    body = {
        "title": "CreditsDepleted",
        "detail": "Your enrolled account does not have any credits to fulfill this request.",
        "type": "https://api.twitter.com/2/problems/credits",
    }
    harness = Harness(reply(402, body))
    error = _raises(harness, CreditsDepleted)
    assert error.status_code == 402 and "CreditsDepleted" in str(error) and error.title == "CreditsDepleted"
    assert len(harness.requests) == 1


@pytest.mark.parametrize(
    ("status", "body", "text"),
    [
        (
            401,
            {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
            "token",
        ),
        (
            403,
            {
                "title": "Client Forbidden",
                "detail": "This request must be made using an approved developer account.",
                "reason": "client-not-enrolled",
                "type": "https://api.twitter.com/2/problems/client-forbidden",
            },
            "approved developer account",
        ),
    ],
)
def test_401_403_are_auth_errors(status: int, body: dict[str, object], text: str) -> None:
    harness = Harness(reply(status, body))
    error = _raises(harness, AuthError)
    assert error.status_code == status and text in str(error)
    assert error.rate_limit is not None  # headers are parsed on error responses too
    assert len(harness.requests) == 1


def test_404_not_found() -> None:
    harness = Harness(reply(404, {"title": "Not Found Error", "detail": "no such route"}))
    error = _raises(harness, NotFound)
    assert error.status_code == 404 and "no such route" in str(error)
    assert len(harness.requests) == 1


def test_400_includes_x_detail_and_error_messages() -> None:
    body = {
        "errors": [
            {
                "parameters": {"tweet.fields": ["bogus"]},
                "message": "The `tweet.fields` query parameter value [bogus] is not one of [...]",
            }
        ],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    }
    harness = Harness(reply(400, body))
    error = _raises(harness, BadRequest)
    assert "One or more parameters to your request was invalid." in str(error)
    assert "[bogus]" in str(error)
    assert error.detail == body["detail"]
    assert len(harness.requests) == 1


def test_other_4xx_is_bad_request() -> None:
    error = _raises(Harness(reply(409, {"title": "Conflict"})), BadRequest)
    assert error.status_code == 409


def test_503_is_retried_then_succeeds() -> None:
    harness = Harness([reply(503, {"title": "Service Unavailable"}), reply(503, content=b"<html>"), OK])
    page = harness.client.get_tweets([TWEET["id"]])
    assert [t.id for t in page.data] == [TWEET["id"]]
    assert len(harness.requests) == 3
    assert [c.status_code for c in harness.calls] == [503, 503, 200]
    assert [c.attempt for c in harness.calls] == [1, 2, 3]
    assert [c.error is None for c in harness.calls] == [False, False, True]
    assert harness.calls[-1].posts_returned == 1 and harness.calls[-1].users_returned == 1
    assert len(harness.clock.sleeps) == 2


def test_503_exhausted_raises_transient_after_max_retries_plus_one() -> None:
    harness = Harness(reply(502, content=b"<html><body>Bad Gateway</body></html>"), max_retries=3)
    error = _raises(harness, TransientError)
    assert not isinstance(error, MalformedResponse)
    assert error.status_code == 502 and "Bad Gateway" in str(error)
    assert len(harness.requests) == 4 and len(harness.calls) == 4
    assert len(harness.clock.sleeps) == 3  # no sleep after the last attempt


def test_max_retries_zero_means_one_attempt() -> None:
    harness = Harness(reply(500, {}), max_retries=0)
    _raises(harness, TransientError)
    assert len(harness.requests) == 1 and harness.slept == 0


def test_timeout_is_transient_without_status() -> None:
    harness = Harness(httpx.ReadTimeout("timed out"))
    error = _raises(harness, TransientError)
    assert error.status_code is None and "timeout" in str(error)
    assert len(harness.requests) == 4
    assert all(c.status_code is None and c.rate_limit is None for c in harness.calls)


def test_connection_error_is_transient() -> None:
    harness = Harness([httpx.ConnectError("connection refused"), OK])
    page = harness.client.get_tweets([TWEET["id"]])
    assert len(page.data) == 1 and len(harness.requests) == 2


def test_malformed_json_after_retries() -> None:
    harness = Harness(reply(200, content=b'{"data": [ {"id": '))
    error = _raises(harness, MalformedResponse)
    assert isinstance(error, TransientError) and error.status_code == 200
    assert "not JSON" in str(error)
    assert len(harness.requests) == 4


def test_malformed_then_good_recovers() -> None:
    harness = Harness([reply(200, content=b"not json"), OK])
    assert len(harness.client.get_tweets([TWEET["id"]]).data) == 1


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({"data": "oops"}, "'data' as a str"),
        ({"data": 5}, "'data' as a int"),
        ({"data": [{"text": "no id"}]}, "data.0.id"),
        ({"data": [{"id": "1", "public_metrics": {"like_count": "many"}}]}, "like_count"),
        ({"data": [TWEET], "meta": {"result_count": "lots"}}, "meta.result_count"),
    ],
)
def test_wrong_shape_is_malformed(body: dict[str, object], text: str) -> None:
    harness = Harness(reply(200, body), max_retries=1)
    error = _raises(harness, MalformedResponse)
    assert text in str(error)
    assert "many" not in str(error) and "lots" not in str(error)  # input values are not echoed
    assert len(harness.requests) == 2


def test_json_array_body_is_malformed() -> None:
    error = _raises(Harness(reply(200, [TWEET]), max_retries=0), MalformedResponse)
    assert "list" in str(error)


def test_partial_errors_are_data() -> None:
    body = {
        "data": [TWEET, {"id": "1293595870563381249", "text": "second"}],
        "errors": [
            {
                "value": "123",
                "detail": "Could not find tweet with ids: [123].",
                "title": "Not Found Error",
                "resource_type": "tweet",
                "parameter": "ids",
                "resource_id": "123",
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            }
        ],
    }
    harness = Harness(reply(200, body))
    page = harness.client.get_tweets([TWEET["id"], "1293595870563381249", "123"])
    assert [t.id for t in page.data] == [TWEET["id"], "1293595870563381249"]
    [problem] = page.errors
    assert problem.resource_id == "123" and problem.is_not_found
    assert not problem.is_not_authorized and not problem.is_suspended
    assert problem.reason == "deleted or not found"
    assert harness.params()["ids"] == f"{TWEET['id']},1293595870563381249,123"


def test_partial_errors_protected_and_suspended() -> None:
    body = {
        "errors": [
            {
                "value": "42",
                "detail": "Sorry, you are not authorized to see the User with id: [42].",
                "title": "Authorization Error",
                "resource_type": "user",
                "parameter": "ids",
                "resource_id": "42",
                "section": "data",
                "type": "https://api.twitter.com/2/problems/not-authorized-for-resource",
            },
            {
                "value": "43",
                "detail": "User has been suspended: [43].",
                "title": "Forbidden",
                "resource_type": "user",
                "parameter": "ids",
                "resource_id": "43",
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            },
        ]
    }
    page = Harness(reply(200, body)).client.get_users(["42", "43"])
    assert page.data == [] and page.users_returned == 0
    protected, suspended = page.errors
    assert protected.is_not_authorized and not protected.is_not_found and protected.reason == "protected"
    assert protected.section == "data"
    assert suspended.is_not_found and suspended.is_suspended and suspended.reason == "suspended"
    assert page.endpoint == ENDPOINT_USERS


def test_empty_result_without_data_key() -> None:
    page = Harness(reply(200, {"meta": {"result_count": 0}})).client.search_recent("conversation_id:1")
    assert page.data == [] and page.meta.result_count == 0 and page.meta.next_token is None


def test_get_usage_returns_data_object() -> None:
    body = {"data": {"project_id": "1", "project_usage": 1200, "project_cap": 3000000, "cap_reset_day": 19}}
    harness = Harness(reply(200, body))
    usage = harness.client.get_usage()
    assert usage["project_usage"] == 1200 and usage["project_cap"] == 3000000
    assert harness.requests[0].url.path == "/2/usage/tweets"
    assert harness.calls[0].endpoint == ENDPOINT_USAGE


def test_get_usage_wrong_shape() -> None:
    with pytest.raises(MalformedResponse):
        Harness(reply(200, {"data": [1, 2]}), max_retries=0).client.get_usage()


def test_errors_survive_pickling() -> None:
    error = _raises(Harness(reply(429, {"title": "Too Many Requests"})), RateLimited)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is RateLimited and str(copy) == str(error) and copy.reset_at == error.reset_at
    assert copy.endpoint == ENDPOINT_TWEETS and copy.status_code == 429


def test_rate_limit_parsed_on_success_and_reported() -> None:
    harness = Harness(OK)
    page = harness.client.get_tweets([TWEET["id"]])
    assert page.rate_limit is not None and page.rate_limit.remaining == 74
    assert page.rate_limit.reset_at == datetime.fromtimestamp(RESET, UTC)
    assert harness.calls[0].rate_limit == page.rate_limit
    assert harness.requests[0].headers["authorization"] == "Bearer test-token-abc"
