"""The X API v2 endpoints the simulator serves, as pure functions of (world, now, request)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from socap.clock import parse_instant
from socap.simulator import search
from socap.simulator.pagination import paginate
from socap.simulator.render import (
    ID_PATTERN,
    USERNAME_PATTERN,
    ApiError,
    Fields,
    invalid_request,
    parse_choice,
    parse_ids,
    parse_int,
    render_tweet,
    render_user,
    tweet_error,
    tweet_includes,
    user_error,
)
from socap.simulator.world import Account, Tweet, World, snowflake_time

SEARCH_WINDOW = timedelta(days=7)
MAX_QUERY_LENGTH = 512


@dataclass
class Call:
    world: World
    now: datetime
    query: Mapping[str, str]
    path: dict[str, str]
    short_rate: float = 0.5


def _path_id(call: Call, name: str = "id") -> str:
    value = call.path[name]
    if not ID_PATTERN.match(value):
        raise invalid_request(
            name, [value], f"The `{name}` path parameter value [{value}] does not match {ID_PATTERN.pattern}"
        )
    return value


def _target(call: Call) -> tuple[Tweet | None, dict | None]:
    """The post a list endpoint is about, or the payload answering that it is unavailable."""
    tweet_id = _path_id(call)
    tweet = call.world.tweet(tweet_id, call.now)
    state = "missing" if tweet is None else call.world.tweet_state(tweet, call.now)
    if state != "active":
        return None, {"errors": [tweet_error(tweet_id, state, "id")]}
    return tweet, None


def _page_meta(count: int, next_token: str | None, **extra) -> dict:
    meta = {"result_count": count, **extra}
    if next_token:
        meta["next_token"] = next_token
    return meta


def _tweet_page(call: Call, items: list[Tweet], f: Fields, next_token: str | None, **meta) -> dict:
    out: dict = {}
    if items:
        out["data"] = [render_tweet(call.world, t, call.now, f.tweet) for t in items]
        includes = tweet_includes(call.world, items, call.now, f)
        if includes:
            out["includes"] = includes
    out["meta"] = _page_meta(len(items), next_token, **meta)
    return out


def _user_page(users: list[Account], f: Fields, next_token: str | None) -> dict:
    out: dict = {}
    if users:
        out["data"] = [render_user(u, f.user) for u in users]
    out["meta"] = _page_meta(len(users), next_token)
    return out


def _newest_first(tweets: list[Tweet]) -> list[Tweet]:
    return sorted(tweets, key=lambda t: t.id_int, reverse=True)


def _listable(call: Call, tweets: list[Tweet]) -> list[Tweet]:
    """What X lists: not hidden, author not protected or suspended, post not deleted."""
    return [t for t in tweets if t.visible and call.world.tweet_state(t, call.now) == "active"]


def _token(call: Call, name: str = "pagination_token") -> str | None:
    return call.query.get(name) or None


# --- lookups ---------------------------------------------------------------------------------------
def tweets_lookup(call: Call) -> dict:
    ids = parse_ids(call.query, "ids")
    f = Fields(call.query)
    found, errors = [], []
    for tweet_id in ids:
        tweet = call.world.tweet(tweet_id, call.now)
        state = "missing" if tweet is None else call.world.tweet_state(tweet, call.now)
        if state == "active":
            found.append(tweet)
        else:
            errors.append(tweet_error(tweet_id, state, "ids"))
    out: dict = {}
    if found:
        out["data"] = [render_tweet(call.world, t, call.now, f.tweet) for t in found]
        includes = tweet_includes(call.world, found, call.now, f)
        if includes:
            out["includes"] = includes
    if errors:
        out["errors"] = errors
    return out


def tweet_single(call: Call) -> dict:
    tweet_id = _path_id(call)
    f = Fields(call.query)
    tweet = call.world.tweet(tweet_id, call.now)
    state = "missing" if tweet is None else call.world.tweet_state(tweet, call.now)
    if state != "active" or tweet is None:
        return {"errors": [tweet_error(tweet_id, state, "id")]}
    out: dict = {"data": render_tweet(call.world, tweet, call.now, f.tweet)}
    includes = tweet_includes(call.world, [tweet], call.now, f)
    if includes:
        out["includes"] = includes
    return out


def _users(call: Call, values: list[str], parameter: str, find: Callable[[str], Account | None]) -> dict:
    f = Fields(call.query, tweet_expansions=False)
    found, errors = [], []
    for value in values:
        account = find(value)
        if account is None or account.state == "suspended":
            errors.append(user_error(value, "missing" if account is None else "suspended", parameter))
        else:
            found.append(account)
    out: dict = {}
    if found:
        out["data"] = [render_user(u, f.user) for u in found]
    if errors:
        out["errors"] = errors
    return out


def users_lookup(call: Call) -> dict:
    return _users(call, parse_ids(call.query, "ids"), "ids", call.world.account)


def users_by(call: Call) -> dict:
    names = parse_ids(call.query, "usernames", pattern=USERNAME_PATTERN)
    return _users(call, names, "usernames", call.world.account_by_username)


# --- engagement lists -----------------------------------------------------------------------------
def retweets(call: Call) -> dict:
    tweet, unavailable = _target(call)
    if tweet is None:
        return unavailable or {}
    f = Fields(call.query)
    max_results = parse_int(call.query, "max_results", low=1, high=100, default=100)
    items = _newest_first(_listable(call, call.world.events(tweet.id, "retweet", call.now)))
    page, token = paginate(
        items,
        lambda t: t.id_int,
        max_results=max_results,
        token=_token(call),
        kind="rt",
        parameter="pagination_token",
        salt=f"rt:{tweet.id}",
        short_rate=call.short_rate,
    )
    return _tweet_page(call, page, f, token)


def retweeted_by(call: Call) -> dict:
    tweet, unavailable = _target(call)
    if tweet is None:
        return unavailable or {}
    f = Fields(call.query, tweet_expansions=False)
    max_results = parse_int(call.query, "max_results", low=1, high=100, default=100)
    items = _newest_first(_listable(call, call.world.events(tweet.id, "retweet", call.now)))
    page, token = paginate(
        items,
        lambda t: t.id_int,
        max_results=max_results,
        token=_token(call),
        kind="rtby",
        parameter="pagination_token",
        salt=f"rtby:{tweet.id}",
        short_rate=call.short_rate,
    )
    return _user_page([call.world.accounts[t.author_id] for t in page], f, token)


def quote_tweets(call: Call) -> dict:
    tweet, unavailable = _target(call)
    if tweet is None:
        return unavailable or {}
    f = Fields(call.query)
    exclude = parse_choice(call.query, "exclude", frozenset({"replies", "retweets"}))
    max_results = parse_int(call.query, "max_results", low=10, high=100, default=10)
    quotes = _listable(call, call.world.events(tweet.id, "quote", call.now))
    items = list(quotes)
    if "retweets" not in exclude:  # without exclude=retweets X also lists retweets of the quotes
        for quote in quotes:
            items += _listable(call, call.world.events(quote.id, "retweet", call.now))
    page, token = paginate(
        _newest_first(items),
        lambda t: t.id_int,
        max_results=max_results,
        token=_token(call),
        kind="qt",
        parameter="pagination_token",
        salt=f"qt:{tweet.id}",
        short_rate=call.short_rate,
    )
    return _tweet_page(call, page, f, token)


def liking_users(call: Call) -> dict:
    """Likers are not modelled one by one: the post's visible retweeters and quoters, up to like_count."""
    tweet, unavailable = _target(call)
    if tweet is None:
        return unavailable or {}
    f = Fields(call.query, tweet_expansions=False)
    max_results = parse_int(call.query, "max_results", low=1, high=100, default=100)
    events = [
        *call.world.events(tweet.id, "retweet", call.now),
        *call.world.events(tweet.id, "quote", call.now),
    ]
    likes = call.world.public_metrics(tweet, call.now)["like_count"]
    items = _newest_first(_listable(call, events))[:likes]
    page, token = paginate(
        items,
        lambda t: t.id_int,
        max_results=max_results,
        token=_token(call),
        kind="like",
        parameter="pagination_token",
        salt=f"like:{tweet.id}",
        short_rate=call.short_rate,
    )
    return _user_page([call.world.accounts[t.author_id] for t in page], f, token)


def following(call: Call) -> dict:
    user_id = _path_id(call)
    account = call.world.account(user_id)
    if account is None or account.state != "active":
        state = "missing" if account is None else account.state
        return {"errors": [user_error(user_id, state, "id")]}
    f = Fields(call.query, tweet_expansions=False)
    max_results = parse_int(call.query, "max_results", low=1, high=1000, default=100)
    followed = [call.world.accounts[i] for i in call.world.following(user_id)]
    ranked = [(len(followed) - i, a) for i, a in enumerate(followed) if a.state != "suspended"]
    page, token = paginate(
        ranked,
        lambda pair: pair[0],
        max_results=max_results,
        token=_token(call),
        kind="fol",
        parameter="pagination_token",
        salt=f"fol:{user_id}",
        short_rate=call.short_rate,
    )
    return _user_page([a for _, a in page], f, token)


# --- search ----------------------------------------------------------------------------------------
def _search_id(call: Call, name: str, oldest: datetime) -> int | None:
    raw = call.query.get(name)
    if raw is None:
        return None
    if not ID_PATTERN.match(raw):
        raise invalid_request(
            name, [raw], f"The `{name}` query parameter value [{raw}] does not match {ID_PATTERN.pattern}"
        )
    if name == "since_id" and snowflake_time(raw) < oldest:
        raise invalid_request(
            name,
            [raw],
            f"Invalid 'since_id':'{raw}'. 'since_id' must be a tweet id created "
            f"after {oldest.strftime('%Y-%m-%dT%H:%MZ')}.",
        )
    return int(raw)


def _search_time(call: Call, name: str, oldest: datetime) -> datetime | None:
    raw = call.query.get(name)
    if raw is None:
        return None
    try:
        value = parse_instant(raw)
    except ValueError as exc:
        raise invalid_request(name, [raw], f"Invalid '{name}':'{raw}'.") from exc
    if name == "start_time" and value < oldest:
        raise invalid_request(
            name,
            [raw],
            f"Invalid 'start_time':'{raw}'. 'start_time' must be on or after "
            f"{oldest.strftime('%Y-%m-%dT%H:%MZ')}.",
        )
    return value


def search_recent(call: Call) -> dict:
    query = call.query.get("query", "")
    if not query.strip():
        raise invalid_request("query", [query], "The `query` query parameter can not be empty")
    if len(query) > MAX_QUERY_LENGTH:
        raise invalid_request(
            "query",
            [query],
            f"There were errors processing your request: Query is too long "
            f"({len(query)} characters); the maximum is {MAX_QUERY_LENGTH}",
        )
    try:
        tree = search.parse(query)
    except search.QueryError as exc:
        raise invalid_request("query", [query], f"There were errors processing your request: {exc}") from exc
    indexed = search.indexed_clauses(tree)
    if not indexed:
        raise invalid_request(
            "query",
            [query],
            "The simulator needs conversation_id:, in_reply_to_tweet_id: or quotes_of_tweet_id: in the query",
        )
    f = Fields(call.query)
    max_results = parse_int(call.query, "max_results", low=10, high=100, default=10)
    oldest = call.now - SEARCH_WINDOW
    since_id, until_id = _search_id(call, "since_id", oldest), _search_id(call, "until_id", oldest)
    start, end = _search_time(call, "start_time", oldest), _search_time(call, "end_time", oldest)
    world, candidates = call.world, {}
    for clause in indexed:
        if clause.op == "conversation_id":  # the replies in the thread; X's docs: not the root post itself
            found = world.conversation(clause.value, call.now)
        else:
            found = world.events(
                clause.value, "reply" if clause.op == "in_reply_to_tweet_id" else "quote", call.now
            )
        candidates.update((t.id, t) for t in found)
    items = [
        t
        for t in _listable(call, list(candidates.values()))
        if t.created_at >= max(oldest, start or oldest)
        and (end is None or t.created_at < end)
        and (since_id is None or t.id_int > since_id)
        and (until_id is None or t.id_int < until_id)
        and search.matches(tree, t, world)
    ]
    token = _token(call, "next_token") or _token(call)
    page, next_token = paginate(
        _newest_first(items),
        lambda t: t.id_int,
        max_results=max_results,
        token=token,
        kind="search",
        parameter="next_token",
        salt=f"search:{query}",
        short_rate=call.short_rate,
    )
    extra = {"newest_id": page[0].id, "oldest_id": page[-1].id} if page else {}
    out = _tweet_page(call, page, f, next_token)
    out["meta"] = {**extra, **out["meta"]}
    return out


# (endpoint key, path template, handler, what ``data`` holds for billing)
ROUTES: list[tuple[str, str, Callable[[Call], dict], str]] = [
    ("GET /2/tweets", "/2/tweets", tweets_lookup, "post"),
    ("GET /2/tweets/search/recent", "/2/tweets/search/recent", search_recent, "post"),
    ("GET /2/tweets/:id/retweets", "/2/tweets/{id}/retweets", retweets, "post"),
    ("GET /2/tweets/:id/retweeted_by", "/2/tweets/{id}/retweeted_by", retweeted_by, "user"),
    ("GET /2/tweets/:id/quote_tweets", "/2/tweets/{id}/quote_tweets", quote_tweets, "post"),
    ("GET /2/tweets/:id/liking_users", "/2/tweets/{id}/liking_users", liking_users, "user"),
    ("GET /2/tweets/:id", "/2/tweets/{id}", tweet_single, "post"),
    ("GET /2/users", "/2/users", users_lookup, "user"),
    ("GET /2/users/by", "/2/users/by", users_by, "user"),
    ("GET /2/users/:id/following", "/2/users/{id}/following", following, "user"),
]

__all__ = ["ROUTES", "ApiError", "Call"]
