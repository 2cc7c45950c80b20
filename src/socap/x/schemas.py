"""Typed views of X API v2 responses.

Fields are opt-in on X (without ``tweet.fields`` a post is just id/text), so everything except ids is
optional with a harmless default. Unknown keys are ignored: X adds fields without notice. The newest
spec renames some vocabulary (``repost_count``, ``post_count``) while the live API still answers with
the classic names, so both are accepted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, AliasChoices, BaseModel, ConfigDict, Field, field_validator

# Endpoint keys: stable names for per-endpoint rate-limit budgets and cost accounting.
ENDPOINT_TWEETS = "GET /2/tweets"
ENDPOINT_RETWEETS = "GET /2/tweets/:id/retweets"
ENDPOINT_RETWEETED_BY = "GET /2/tweets/:id/retweeted_by"
ENDPOINT_QUOTE_TWEETS = "GET /2/tweets/:id/quote_tweets"
ENDPOINT_LIKING_USERS = "GET /2/tweets/:id/liking_users"
ENDPOINT_SEARCH_RECENT = "GET /2/tweets/search/recent"
ENDPOINT_USERS = "GET /2/users"
ENDPOINT_USERS_BY = "GET /2/users/by"
ENDPOINT_FOLLOWING = "GET /2/users/:id/following"
ENDPOINT_USAGE = "GET /2/usage/tweets"

ALL_ENDPOINTS: tuple[str, ...] = (
    ENDPOINT_TWEETS,
    ENDPOINT_RETWEETS,
    ENDPOINT_RETWEETED_BY,
    ENDPOINT_QUOTE_TWEETS,
    ENDPOINT_LIKING_USERS,
    ENDPOINT_SEARCH_RECENT,
    ENDPOINT_USERS,
    ENDPOINT_USERS_BY,
    ENDPOINT_FOLLOWING,
    ENDPOINT_USAGE,
)

# X's snowflake epoch (2010-11-04T01:42:54.657Z) in Unix milliseconds.
SNOWFLAKE_EPOCH_MS = 1288834974657


def snowflake_time(snowflake_id: str | int) -> datetime:
    """Creation instant encoded in a post or user id (aware UTC, millisecond precision)."""
    ms = (int(snowflake_id) >> 22) + SNOWFLAKE_EPOCH_MS
    # Integer arithmetic: a float of ~1.6e12 ms / 1000 can round the last millisecond.
    return datetime.fromtimestamp(ms // 1000, UTC) + timedelta(milliseconds=ms % 1000)


MAX_ID = 2**63 - 1  # ids are signed 64-bit snowflakes (a BIGINT in our tables)
MAX_COUNT = 2**31 - 1  # counters are INTEGER columns; impressions are BIGINT
_ID = re.compile(r"[0-9]{1,19}", re.ASCII)
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _x_id(value: str) -> str:
    # The spec's pattern (^[0-9]{1,19}$), within a BIGINT: anything else cannot be stored or compared as an id.
    if not _ID.fullmatch(value) or not 0 < int(value) <= MAX_ID:
        raise ValueError(f"not an X id (1 to 19 digits, at most {MAX_ID}): {value[:40]!r}")
    return value


XId = Annotated[str, AfterValidator(_x_id)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
BigCount = Annotated[int, Field(ge=0, le=MAX_ID)]


def storable_text(value: str) -> str:
    """Text as PostgreSQL can hold it: NULs dropped, lone surrogates (valid JSON escapes, invalid UTF-8) as U+FFFD."""
    if value.isascii():
        return value.replace("\x00", "") if "\x00" in value else value
    return _SURROGATE.sub("\ufffd", value.replace("\x00", ""))


def _utc(value: datetime) -> datetime:
    # X's times are UTC: a naive one is read as UTC, an offset one converted (comparing it with our aware
    # instants would otherwise fail far from here, in a poller)
    if value.tzinfo is UTC:
        return value
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"time out of range: {value.isoformat()}") from None


Text = Annotated[str, AfterValidator(storable_text)]
Instant = Annotated[datetime, AfterValidator(_utc)]
# a cursor we store (backfill_cursor is 512 characters, with room for a replies group's job ids); X's are ~50
Token = Annotated[str, Field(max_length=256), AfterValidator(storable_text)]


class _XModel(BaseModel):
    # coerce_numbers_to_str: ids must be str, but a simulator or proxy that emits numbers should not
    # turn a whole page into a MalformedResponse.
    model_config = ConfigDict(extra="ignore", populate_by_name=True, coerce_numbers_to_str=True)


class _Counts(_XModel):
    @field_validator("*", mode="before")
    @classmethod
    def _null_is_zero(cls, value: Any) -> Any:
        # X occasionally sends null for a metric it cannot compute; a count of 0 is the safe reading.
        return 0 if value is None else value


class TweetMetrics(_Counts):
    retweet_count: Count = Field(0, validation_alias=AliasChoices("retweet_count", "repost_count"))
    reply_count: Count = 0
    like_count: Count = 0
    quote_count: Count = 0
    bookmark_count: Count = 0
    impression_count: BigCount = 0


class UserMetrics(_Counts):
    followers_count: Count = 0
    following_count: Count = 0
    tweet_count: Count = Field(0, validation_alias=AliasChoices("tweet_count", "post_count"))
    listed_count: BigCount = 0
    like_count: BigCount = 0


class ReferencedTweet(_XModel):
    type: str  # retweeted | quoted | replied_to
    id: XId


class Tweet(_XModel):
    id: XId
    text: Text = ""
    author_id: XId | None = None
    created_at: Instant | None = None
    conversation_id: XId | None = None
    in_reply_to_user_id: XId | None = None
    public_metrics: TweetMetrics | None = None
    referenced_tweets: list[ReferencedTweet] = Field(default_factory=list)
    edit_history_tweet_ids: list[str] = Field(default_factory=list)

    @field_validator("text", mode="before")
    @classmethod
    def _null_text(cls, value: Any) -> Any:
        return "" if value is None else value

    @field_validator("referenced_tweets", "edit_history_tweet_ids", mode="before")
    @classmethod
    def _null_list(cls, value: Any) -> Any:
        return [] if value is None else value

    def _referenced(self, kind: str) -> str | None:
        return next((ref.id for ref in self.referenced_tweets if ref.type == kind), None)

    @property
    def replied_to_id(self) -> str | None:
        return self._referenced("replied_to")

    @property
    def quoted_id(self) -> str | None:
        return self._referenced("quoted")

    @property
    def retweeted_id(self) -> str | None:
        return self._referenced("retweeted")

    @property
    def created_at_from_id(self) -> datetime:
        return snowflake_time(self.id)


class User(_XModel):
    id: XId
    name: Text = ""
    username: Text = ""
    description: Text = ""
    created_at: Instant | None = None
    profile_image_url: Text | None = None
    public_metrics: UserMetrics | None = None
    verified: bool | None = None
    verified_type: Text | None = None
    protected: bool | None = None
    location: Text | None = None
    url: Text | None = None

    @field_validator("name", "username", "description", mode="before")
    @classmethod
    def _null_text(cls, value: Any) -> Any:
        return "" if value is None else value


class Problem(_XModel):
    """One entry of a partial ``errors`` array: an item X could not return, not a failed request."""

    value: Text | None = None
    # Older v1.1-style entries carry ``message`` instead of ``detail``.
    detail: Text | None = Field(None, validation_alias=AliasChoices("detail", "message"))
    title: Text | None = None
    resource_type: str | None = None
    parameter: str | None = None
    resource_id: str | None = None
    type: str | None = None
    section: str | None = None

    @property
    def is_not_found(self) -> bool:
        return (self.type or "").endswith("resource-not-found")

    @property
    def is_not_authorized(self) -> bool:
        return (self.type or "").endswith("not-authorized-for-resource")

    @property
    def is_suspended(self) -> bool:
        # A suspended account is reported as resource-not-found; only the detail tells them apart.
        return "suspend" in (self.detail or "").lower()

    @property
    def reason(self) -> str:
        if self.is_suspended:
            return "suspended"
        if self.is_not_authorized:
            return "protected"
        if self.is_not_found:
            return "deleted or not found"
        return self.detail or self.title or "unknown error"


class Includes(_XModel):
    users: list[User] = Field(default_factory=list)
    tweets: list[Tweet] = Field(default_factory=list)

    @property
    def users_by_id(self) -> dict[str, User]:
        return {user.id: user for user in self.users}

    @property
    def tweets_by_id(self) -> dict[str, Tweet]:
        return {tweet.id: tweet for tweet in self.tweets}


class Meta(_XModel):
    result_count: int | None = None
    next_token: Token | None = None
    previous_token: str | None = None
    newest_id: str | None = None
    oldest_id: str | None = None


@dataclass(frozen=True)
class RateLimit:
    """The ``x-rate-limit-*`` headers of one response (the window is 15 minutes on X)."""

    limit: int
    remaining: int
    reset_at: datetime

    @classmethod
    def from_headers(cls, headers: Mapping[str, Any]) -> RateLimit | None:
        """Parse the three headers; None when any is missing or unparsable (never raises)."""
        try:
            lowered = {str(name).lower(): value for name, value in headers.items()}
            limit = _header_int(lowered.get("x-rate-limit-limit"))
            remaining = _header_int(lowered.get("x-rate-limit-remaining"))
            reset = _header_int(lowered.get("x-rate-limit-reset"))
            if limit is None or remaining is None or reset is None:
                return None
            return cls(limit=limit, remaining=remaining, reset_at=datetime.fromtimestamp(reset, UTC))
        except Exception:  # headers come from the network: a bad one must never fail a call
            return None

    def seconds_until_reset(self, now: datetime) -> float:
        return max(0.0, (self.reset_at - now).total_seconds())


def _header_int(value: Any) -> int | None:
    if isinstance(value, list | tuple):  # recordings store header values as lists
        value = value[0] if value else None
    if value is None:
        return None
    number = int(float(str(value).strip()))
    return number if number >= 0 else None


T = TypeVar("T", Tweet, User)


class Page(_XModel, Generic[T]):
    """One response of a list or lookup endpoint, with what it cost and what the limiter said."""

    data: list[T] = Field(default_factory=list)
    includes: Includes = Field(default_factory=Includes)
    errors: list[Problem] = Field(default_factory=list)
    meta: Meta = Field(default_factory=Meta)
    rate_limit: RateLimit | None = None
    endpoint: str = ""
    status_code: int = 200

    @property
    def posts_returned(self) -> int:
        return sum(isinstance(item, Tweet) for item in self.data) + len(self.includes.tweets)

    @property
    def users_returned(self) -> int:
        return sum(isinstance(item, User) for item in self.data) + len(self.includes.users)

    @property
    def next_token(self) -> str | None:
        return self.meta.next_token


@dataclass(frozen=True)
class CallRecord:
    """One HTTP attempt, reported to ``on_call`` (failed attempts and retries included)."""

    endpoint: str
    method: str
    url_path: str  # path only: no query string, never the token
    status_code: int | None  # None when the request never got a response (timeout, connection error)
    rate_limit: RateLimit | None
    posts_returned: int
    users_returned: int
    elapsed_seconds: float
    error: str | None = None
    attempt: int = 1  # 1-based; > 1 means a retry
