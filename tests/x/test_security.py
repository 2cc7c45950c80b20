"""The bearer token never appears in errors, reprs, call records or logs."""

from __future__ import annotations

import logging

import httpx
import pytest
from pydantic import SecretStr

from socap.x import (
    AuthError,
    BadRequest,
    CreditsDepleted,
    MalformedResponse,
    NotFound,
    RateLimited,
    TransientError,
    UsageCapExceeded,
    XAPIError,
    XClient,
)
from tests.x.support import BASE_URL, Harness, reply

SECRET = "SECRET-TOKEN-123"
# A hostile or buggy upstream may echo the Authorization header back in an error body.
ECHO = f"Authorization: Bearer {SECRET}"

SCENARIOS = [
    (reply(429, {"title": "Too Many Requests", "detail": ECHO}), RateLimited),
    (reply(429, {"title": "UsageCapExceeded", "detail": ECHO}), UsageCapExceeded),
    (reply(402, {"title": "CreditsDepleted", "detail": ECHO}), CreditsDepleted),
    (reply(401, {"title": "Unauthorized", "detail": ECHO}), AuthError),
    (reply(403, {"title": "Forbidden", "detail": ECHO}), AuthError),
    (reply(404, {"title": "Not Found", "errors": [{"message": ECHO}]}), NotFound),
    (reply(400, {"title": "Invalid Request", "detail": ECHO}), BadRequest),
    (reply(503, content=ECHO.encode()), TransientError),
    (httpx.ConnectTimeout(f"timed out talking to {SECRET}"), TransientError),
    (httpx.ConnectError(ECHO), TransientError),
    (reply(200, content=b"<html>" + ECHO.encode()), MalformedResponse),
    (reply(200, {"data": ECHO}), MalformedResponse),
]


@pytest.mark.parametrize(("item", "error_type"), SCENARIOS, ids=lambda v: getattr(v, "__name__", None))
def test_token_never_leaks(
    item: httpx.Response | Exception, error_type: type[XAPIError], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    harness = Harness(item, token=SECRET, max_retries=1)
    with pytest.raises(error_type) as info:
        harness.client.get_tweets(["1"])
    error = info.value
    assert harness.requests[0].headers["authorization"] == f"Bearer {SECRET}"  # it was really sent
    texts = [str(error), repr(error), error.detail or "", repr(harness.client), caplog.text]
    texts += [repr(call) for call in harness.calls]
    for text in texts:
        assert SECRET not in text
    assert caplog.records, "calls should be logged"
    assert any("socap.x" == r.name and r.levelno == logging.DEBUG for r in caplog.records)


def test_secretstr_token_and_repr() -> None:
    client = XClient(BASE_URL, SecretStr(SECRET), transport=httpx.MockTransport(lambda r: reply(200, {})))
    assert SECRET not in repr(client) and SECRET not in str(client)
    assert SECRET not in repr(vars(client))
    client.close()


@pytest.mark.parametrize("token", ["", "   ", None])
def test_empty_token_refused(token: str | None) -> None:
    with pytest.raises(ValueError, match="empty"):
        XClient(BASE_URL, token)  # type: ignore[arg-type]


def test_unsendable_token_refused_without_echo() -> None:
    with pytest.raises(ValueError) as info:
        XClient(BASE_URL, "SECRET-\n-TOKEN")
    assert "SECRET" not in str(info.value)


def test_context_manager_closes() -> None:
    with XClient(BASE_URL, SECRET, transport=httpx.MockTransport(lambda r: reply(200, {}))) as client:
        assert client.get_users(["1"]).data == []
    with pytest.raises(RuntimeError):  # httpx refuses to send on a closed client
        client._http.get("/users")
