"""Errors raised by the X client, one type per thing a caller does differently.

Every error carries the endpoint key, the HTTP status (None for network faults) and the rate-limit headers
of the response when there was one. Messages are built from X's problem body and never include the
bearer token (the client scrubs anything it puts into a message).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from socap.x.schemas import RateLimit


class XAPIError(Exception):
    def __init__(
        self,
        message: str,
        *,
        endpoint: str,
        status_code: int | None = None,
        rate_limit: RateLimit | None = None,
        title: str | None = None,
        detail: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.endpoint = endpoint
        self.status_code = status_code
        self.rate_limit = rate_limit
        self.title = title
        self.detail = detail

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}({self.message!r}, endpoint={self.endpoint!r}, status_code={self.status_code!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructor arguments would otherwise break pickling (task queues pickle errors).
        return (_rebuild, (type(self), self.message, dict(self.__dict__)))


def _rebuild(cls: type[XAPIError], message: str, state: dict[str, Any]) -> XAPIError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class RateLimited(XAPIError):
    """429 Too Many Requests: the 15-minute window is spent; wait until ``reset_at``."""

    @property
    def reset_at(self) -> datetime | None:
        return self.rate_limit.reset_at if self.rate_limit else None


class UsageCapExceeded(XAPIError):
    """The project's monthly post-read cap is reached; waiting minutes will not help."""


class CreditsDepleted(XAPIError):
    """402: the pay-per-use account has no credits left."""


class AuthError(XAPIError):
    """401 (bad or revoked token) or 403 (not allowed, e.g. client-not-enrolled)."""


class NotFound(XAPIError):
    """404 for the whole request (a missing item inside a 200 is a Problem in ``Page.errors``)."""


class BadRequest(XAPIError):
    """400 and any other 4xx: the request itself is wrong; retrying will not help."""


class TransientError(XAPIError):
    """5xx, timeouts, connection failures: retried by the client, raised once retries are exhausted."""


class MalformedResponse(TransientError):
    """A body that is not JSON or not the shape the endpoint promises."""


_MAX_DESCRIPTION = 500


def _is_usage_cap(*texts: str | None) -> bool:
    # X spells it "UsageCapExceeded", ".../problems/usage-capped" or "Usage cap exceeded".
    squashed = re.sub(r"[^a-z]", "", " ".join(t for t in texts if t).lower())
    return "usagecap" in squashed


def describe_body(body: Any, text: str = "") -> tuple[str | None, str | None, str | None, str]:
    """(title, detail, type, human description) of an error body, which may be anything."""
    if not isinstance(body, dict):
        snippet = " ".join(text.split())[:200]
        return None, None, None, snippet
    title = body.get("title") if isinstance(body.get("title"), str) else None
    detail = body.get("detail") if isinstance(body.get("detail"), str) else None
    problem_type = body.get("type") if isinstance(body.get("type"), str) else None
    messages: list[str] = []
    errors = body.get("errors")
    if isinstance(errors, list):
        for entry in errors[:5]:
            if isinstance(entry, dict):
                message = entry.get("message") or entry.get("detail")
                if isinstance(message, str) and message not in messages:
                    messages.append(message)
    parts = [p for p in (title, detail) if p]
    if detail and title and detail == title:
        parts = [title]
    description = ": ".join(parts)
    if messages:
        description = f"{description} ({'; '.join(messages)})" if description else "; ".join(messages)
    return title, detail, problem_type, description[:_MAX_DESCRIPTION]


def error_from_response(
    endpoint: str,
    status_code: int,
    body: Any,
    rate_limit: RateLimit | None,
    *,
    text: str = "",
    scrub: Callable[[str], str] = lambda s: s,
) -> XAPIError:
    """Map a non-2xx response to the error a caller acts on."""
    title, detail, problem_type, description = describe_body(body, text)
    description = scrub(description)
    title = scrub(title) if title else None
    detail = scrub(detail) if detail else None
    head = f"{endpoint}: HTTP {status_code}"
    fields: dict[str, Any] = {
        "endpoint": endpoint,
        "status_code": status_code,
        "rate_limit": rate_limit,
        "title": title,
        "detail": detail,
    }
    suffix = f" - {description}" if description else ""

    if status_code in (403, 429) and _is_usage_cap(title, detail, problem_type):
        return UsageCapExceeded(f"{head} usage cap exceeded{suffix}; waiting will not help", **fields)
    if status_code == 429:
        when = f"; resets at {rate_limit.reset_at.isoformat()}" if rate_limit else "; no reset header"
        return RateLimited(f"{head} rate limited{suffix}{when}", **fields)
    if status_code == 402:
        return CreditsDepleted(f"{head} credits depleted{suffix}", **fields)
    if status_code == 401:
        return AuthError(f"{head} unauthorized{suffix}; check the bearer token", **fields)
    if status_code == 403:
        return AuthError(f"{head} forbidden{suffix}", **fields)
    if status_code == 404:
        return NotFound(f"{head} not found{suffix}", **fields)
    if status_code >= 500:
        return TransientError(f"{head} server error{suffix}", **fields)
    return BadRequest(f"{head} bad request{suffix}", **fields)
