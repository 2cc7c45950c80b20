"""Synchronous X API v2 client: one method per endpoint SOCAP uses, typed pages, bounded retries.

Only transient faults (5xx, network errors, unreadable bodies) are retried here. Rate limits, usage caps,
credits and auth problems are raised at once: the schedulers own waiting, and every retry of a 200 costs
money on pay-per-use billing.
"""

from __future__ import annotations

import functools
import inspect
import logging
import random
import re
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import httpx
from pydantic import SecretStr, ValidationError

from socap.clock import Clock, SystemClock
from socap.x.errors import BadRequest, MalformedResponse, TransientError, XAPIError, error_from_response
from socap.x.schemas import (
    ENDPOINT_FOLLOWING,
    ENDPOINT_LIKING_USERS,
    ENDPOINT_QUOTE_TWEETS,
    ENDPOINT_RETWEETED_BY,
    ENDPOINT_RETWEETS,
    ENDPOINT_SEARCH_RECENT,
    ENDPOINT_TWEETS,
    ENDPOINT_USAGE,
    ENDPOINT_USERS,
    ENDPOINT_USERS_BY,
    CallRecord,
    Page,
    RateLimit,
    Tweet,
    User,
)

log = logging.getLogger("socap.x")

USER_FIELDS = (
    "created_at,description,public_metrics,profile_image_url,verified,verified_type,protected,location,url"
)
TWEET_FIELDS = "public_metrics,created_at,author_id,conversation_id,referenced_tweets,in_reply_to_user_id"
RETWEET_FIELDS = "created_at,author_id,referenced_tweets"

MAX_IDS = 100
MAX_QUERY_CHARS = 512

_ID = re.compile(r"^[0-9]{1,19}$")
_USERNAME = re.compile(r"^[A-Za-z0-9_]{1,50}$")
_TOKEN = re.compile(r"^[\x21-\x7e]+$")  # visible ASCII: anything else breaks the header

R = TypeVar("R")


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # building a context reads the CA bundle (~20 ms); every client of the process can share one
    return ssl.create_default_context()


class XClient:
    def __init__(
        self,
        base_url: str,
        bearer_token: str | SecretStr,
        *,
        timeout: float = 10.0,
        max_retries: int = 3,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
        on_call: Callable[[CallRecord], None] | None = None,
        before_call: Callable[[str], None] | None = None,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        rng: random.Random | None = None,
    ):
        token = bearer_token.get_secret_value() if isinstance(bearer_token, SecretStr) else bearer_token
        token = (token or "").strip()
        if not token:
            raise ValueError("X bearer token is empty: set SOCAP_X_BEARER_TOKEN")
        if not _TOKEN.match(token):
            # Said without echoing the token: this message may end up in logs.
            raise ValueError("X bearer token contains characters that cannot go into an HTTP header")
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"X base URL must start with http:// or https://, got {base_url!r}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._token = SecretStr(token)
        self._clock: Clock = clock or SystemClock()
        self._rng = rng or random.Random()
        self._on_call = on_call
        # before_call(endpoint) runs before every HTTP attempt; the shared rate-limit budget raises there
        # (a RateLimited) when no request is left, so no call is spent on a certain 429
        self._before_call = before_call
        self._http = httpx.Client(
            base_url=self.base_url,
            verify=_ssl_context(),
            headers={"Authorization": f"Bearer {token}", "User-Agent": "socap"},
            timeout=timeout,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"XClient(base_url={self.base_url!r}, timeout={self.timeout}, max_retries={self.max_retries})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> XClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- endpoints ---------------------------------------------------------------------------------

    def get_tweets(self, ids: Sequence[str]) -> Page[Tweet]:
        params = {
            "ids": ",".join(_ids(ids, "tweet ids")),
            "tweet.fields": TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": USER_FIELDS,
        }
        return self._page(ENDPOINT_TWEETS, "/tweets", params, Tweet)

    def get_users(self, ids: Sequence[str]) -> Page[User]:
        params = {"ids": ",".join(_ids(ids, "user ids")), "user.fields": USER_FIELDS}
        return self._page(ENDPOINT_USERS, "/users", params, User)

    def get_users_by_usernames(self, usernames: Sequence[str]) -> Page[User]:
        names = _usernames(usernames)
        return self._page(
            ENDPOINT_USERS_BY, "/users/by", {"usernames": ",".join(names), "user.fields": USER_FIELDS}, User
        )

    def get_retweets(
        self, tweet_id: str, *, max_results: int = 100, pagination_token: str | None = None
    ) -> Page[Tweet]:
        params = {
            "max_results": _bounded(max_results, 1, 100, "max_results"),
            "tweet.fields": RETWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": USER_FIELDS,
            "pagination_token": pagination_token,
        }
        return self._page(ENDPOINT_RETWEETS, f"/tweets/{_id(tweet_id)}/retweets", params, Tweet)

    def get_retweeted_by(
        self, tweet_id: str, *, max_results: int = 100, pagination_token: str | None = None
    ) -> Page[User]:
        params = {
            "max_results": _bounded(max_results, 1, 100, "max_results"),
            "user.fields": USER_FIELDS,
            "pagination_token": pagination_token,
        }
        return self._page(ENDPOINT_RETWEETED_BY, f"/tweets/{_id(tweet_id)}/retweeted_by", params, User)

    def get_quote_tweets(
        self,
        tweet_id: str,
        *,
        max_results: int = 100,
        pagination_token: str | None = None,
        exclude_retweets: bool = True,
    ) -> Page[Tweet]:
        params = {
            "max_results": _bounded(max_results, 10, 100, "max_results"),
            "tweet.fields": TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": USER_FIELDS,
            # Without it X also lists retweets of the quotes (seen in the recordings).
            "exclude": "retweets" if exclude_retweets else None,
            "pagination_token": pagination_token,
        }
        return self._page(ENDPOINT_QUOTE_TWEETS, f"/tweets/{_id(tweet_id)}/quote_tweets", params, Tweet)

    def search_recent(
        self,
        query: str,
        *,
        since_id: str | None = None,
        max_results: int = 100,
        next_token: str | None = None,
    ) -> Page[Tweet]:
        if not query or not query.strip():
            raise ValueError("search query is empty")
        if len(query) > MAX_QUERY_CHARS:
            raise ValueError(f"search query is {len(query)} characters; X allows at most {MAX_QUERY_CHARS}")
        params = {
            "query": query,
            "since_id": _id(since_id) if since_id is not None else None,
            "max_results": _bounded(max_results, 10, 100, "max_results"),
            "tweet.fields": TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": USER_FIELDS,
            "next_token": next_token,
        }
        return self._page(ENDPOINT_SEARCH_RECENT, "/tweets/search/recent", params, Tweet)

    def get_following(
        self, user_id: str, *, max_results: int = 1000, pagination_token: str | None = None
    ) -> Page[User]:
        params = {
            "max_results": _bounded(max_results, 1, 1000, "max_results"),
            "user.fields": USER_FIELDS,
            "pagination_token": pagination_token,
        }
        return self._page(ENDPOINT_FOLLOWING, f"/users/{_id(user_id)}/following", params, User)

    def get_liking_users(
        self, tweet_id: str, *, max_results: int = 100, pagination_token: str | None = None
    ) -> Page[User]:
        params = {
            "max_results": _bounded(max_results, 1, 100, "max_results"),
            "user.fields": USER_FIELDS,
            "pagination_token": pagination_token,
        }
        return self._page(ENDPOINT_LIKING_USERS, f"/tweets/{_id(tweet_id)}/liking_users", params, User)

    def get_usage(self) -> dict[str, Any]:
        """The ``data`` object of GET /2/usage/tweets (project_usage, project_cap, cap_reset_day, ...)."""

        def parse(body: dict[str, Any], status: int, rate_limit: RateLimit | None) -> dict[str, Any]:
            data = body.get("data", {})
            if data is None:
                return {}
            if not isinstance(data, dict):
                raise MalformedResponse(
                    f"{ENDPOINT_USAGE}: 'data' is a {type(data).__name__}, expected an object",
                    endpoint=ENDPOINT_USAGE,
                    status_code=status,
                    rate_limit=rate_limit,
                )
            return data

        return self._call(ENDPOINT_USAGE, "/usage/tweets", {}, parse)

    def iter_pages(
        self,
        method: Callable[..., Page[Any]],
        *args: Any,
        token_param: str = "pagination_token",
        max_pages: int | None = None,
        **kwargs: Any,
    ) -> Iterator[Page[Any]]:
        """Yield pages until ``meta.next_token`` is absent (a short page is NOT the end on X).

        Search takes its token as ``next_token``; that is picked automatically when ``method`` has no
        ``pagination_token`` parameter. Other arguments (e.g. ``since_id``) stay the same on every page.
        """
        token_param = _resolve_token_param(method, token_param)
        seen_tokens: set[str] = set()
        pages = 0
        while max_pages is None or pages < max_pages:
            page = method(*args, **kwargs)
            pages += 1
            yield page
            token = page.meta.next_token
            if not token:
                return
            if token in seen_tokens:
                # A server handing back a token twice would otherwise make us pay for the same pages forever.
                raise MalformedResponse(
                    f"{page.endpoint}: pagination token repeated after {pages} pages",
                    endpoint=page.endpoint,
                    status_code=page.status_code,
                    rate_limit=page.rate_limit,
                )
            seen_tokens.add(token)
            kwargs[token_param] = token

    # ---- transport ---------------------------------------------------------------------------------

    def _page(
        self, endpoint: str, path: str, params: dict[str, Any], model: type[Tweet] | type[User]
    ) -> Page[Any]:
        def parse(body: dict[str, Any], status: int, rate_limit: RateLimit | None) -> Page[Any]:
            return _parse_page(endpoint, model, body, status, rate_limit)

        return self._call(endpoint, path, params, parse)

    def _call(
        self,
        endpoint: str,
        path: str,
        params: dict[str, Any],
        parse: Callable[[dict[str, Any], int, RateLimit | None], R],
    ) -> R:
        query = {key: value for key, value in params.items() if value is not None}
        failure: XAPIError | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                delay = self._rng.uniform(0, min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1)))
                log.warning(
                    "X %s: %s; retry %d/%d in %.2fs", endpoint, failure, attempt, self.max_retries, delay
                )
                self._clock.sleep(delay)
            try:
                return self._attempt(endpoint, path, query, parse, attempt + 1)
            except TransientError as exc:
                failure = exc
        assert failure is not None  # the loop runs at least once
        raise failure

    def _attempt(
        self,
        endpoint: str,
        path: str,
        query: dict[str, Any],
        parse: Callable[[dict[str, Any], int, RateLimit | None], R],
        attempt: int,
    ) -> R:
        if self._before_call is not None:
            self._before_call(endpoint)
        url_path = httpx.URL(self.base_url + path).path
        started = time.perf_counter()
        status: int | None = None
        rate_limit: RateLimit | None = None
        result: Any = None
        error: XAPIError | None = None
        try:
            response = self._http.get(path, params=query)
            status = response.status_code
            rate_limit = RateLimit.from_headers(response.headers)
            result = self._handle(endpoint, response, rate_limit, parse)
        except XAPIError as exc:
            error = exc
        except httpx.InvalidURL as exc:  # not an HTTPError subclass, and not worth retrying
            error = BadRequest(self._scrub(f"{endpoint}: invalid URL: {exc}"), endpoint=endpoint)
        except httpx.HTTPError as exc:
            kind = "timeout" if isinstance(exc, httpx.TimeoutException) else "network error"
            error = TransientError(
                self._scrub(f"{endpoint}: {kind}: {type(exc).__name__}: {exc}"),
                endpoint=endpoint,
                status_code=status,
                rate_limit=rate_limit,
            )
        elapsed = time.perf_counter() - started
        posts = getattr(result, "posts_returned", 0)
        users = getattr(result, "users_returned", 0)
        log.debug(
            "X %s status=%s remaining=%s posts=%d users=%d attempt=%d elapsed=%.3fs%s",
            endpoint,
            status,
            rate_limit.remaining if rate_limit else None,
            posts,
            users,
            attempt,
            elapsed,
            f" error={error}" if error else "",
        )
        if self._on_call is not None:
            self._on_call(
                CallRecord(
                    endpoint=endpoint,
                    method="GET",
                    url_path=url_path,
                    status_code=status,
                    rate_limit=rate_limit,
                    posts_returned=posts,
                    users_returned=users,
                    elapsed_seconds=elapsed,
                    error=f"{type(error).__name__}: {error}" if error else None,
                    attempt=attempt,
                )
            )
        if error is not None:
            raise error
        return result

    def _handle(
        self,
        endpoint: str,
        response: httpx.Response,
        rate_limit: RateLimit | None,
        parse: Callable[[dict[str, Any], int, RateLimit | None], R],
    ) -> R:
        status = response.status_code
        if not 200 <= status < 300:
            try:
                body: Any = response.json()
            except ValueError:  # error bodies from proxies are often HTML
                body = None
            raise error_from_response(
                endpoint,
                status,
                body,
                rate_limit,
                text=response.text if body is None else "",
                scrub=self._scrub,
            )

        def malformed(reason: str) -> MalformedResponse:
            return MalformedResponse(
                self._scrub(f"{endpoint}: HTTP {status} with {reason}"),
                endpoint=endpoint,
                status_code=status,
                rate_limit=rate_limit,
            )

        try:
            body = response.json()
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
            raise malformed(f"a body that is not JSON ({type(exc).__name__})") from None
        if not isinstance(body, dict):
            raise malformed(f"a JSON {type(body).__name__} instead of an object")
        try:
            return parse(body, status, rate_limit)
        except ValidationError as exc:
            raise malformed(f"an unexpected shape: {_summarize(exc)}") from None

    def _scrub(self, text: str) -> str:
        token = self._token.get_secret_value()
        return text.replace(token, "[redacted]") if token else text


def _parse_page(
    endpoint: str,
    model: type[Tweet] | type[User],
    body: dict[str, Any],
    status: int,
    rate_limit: RateLimit | None,
) -> Page[Any]:
    data = body.get("data")
    if data is None:  # all ids missing, or an empty result with result_count 0
        data = []
    elif isinstance(data, dict):  # single-object lookups (GET /2/tweets/:id) answer with an object
        data = [data]
    elif not isinstance(data, list):
        raise MalformedResponse(
            f"{endpoint}: HTTP {status} with 'data' as a {type(data).__name__}, expected a list",
            endpoint=endpoint,
            status_code=status,
            rate_limit=rate_limit,
        )
    return Page[model].model_validate(  # type: ignore[valid-type]
        {
            "data": data,
            "includes": body.get("includes") or {},
            "errors": body.get("errors") or [],
            "meta": body.get("meta") or {},
            "rate_limit": rate_limit,
            "endpoint": endpoint,
            "status_code": status,
        }
    )


def _summarize(exc: ValidationError) -> str:
    # Never echo input values: they are X's data and can be long; location + message is what helps.
    parts = [
        f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
        for err in exc.errors(include_input=False, include_url=False)[:3]
    ]
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def _id(value: str) -> str:
    text = str(value).strip()
    if not _ID.match(text):
        raise ValueError(f"not an X id (1-19 digits): {value!r}")
    return text


def _ids(values: Sequence[str], what: str) -> list[str]:
    if isinstance(values, str):
        raise ValueError(f"{what} must be a sequence of ids, not a single string: {values!r}")
    ids = list(dict.fromkeys(_id(v) for v in values))  # duplicates would be billed twice for nothing
    if not 1 <= len(ids) <= MAX_IDS:
        raise ValueError(f"{len(ids)} {what} given; X accepts 1 to {MAX_IDS} per request")
    return ids


def _usernames(values: Sequence[str]) -> list[str]:
    if isinstance(values, str):
        raise ValueError(f"usernames must be a sequence, not a single string: {values!r}")
    names: list[str] = []
    for value in values:
        name = str(value).strip().lstrip("@")
        if not _USERNAME.match(name):
            raise ValueError(f"not an X username: {value!r}")
        if name not in names:
            names.append(name)
    if not 1 <= len(names) <= MAX_IDS:
        raise ValueError(f"{len(names)} usernames given; X accepts 1 to {MAX_IDS} per request")
    return names


def _bounded(value: int, low: int, high: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}, got {value!r}")
    return value


def _resolve_token_param(method: Callable[..., Any], token_param: str) -> str:
    # Checked before the first request: a wrong name would only fail after page one was paid for.
    try:
        accepted = inspect.signature(method).parameters
    except (TypeError, ValueError):
        return token_param
    if token_param in accepted or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
        return token_param
    if token_param == "pagination_token" and "next_token" in accepted:
        return "next_token"
    raise ValueError(f"{getattr(method, '__name__', method)!r} takes no {token_param!r} argument")
