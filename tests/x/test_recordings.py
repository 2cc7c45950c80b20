"""Replay real X responses (recorded by the tweepy project) through the client.

The recordings live outside the repository, in ``shared/`` next to the repo root; they are read in place.
Each file is one test; a new recording without a replay mapping fails loudly.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from socap.x import (
    ENDPOINT_FOLLOWING,
    ENDPOINT_LIKING_USERS,
    ENDPOINT_QUOTE_TWEETS,
    ENDPOINT_RETWEETED_BY,
    ENDPOINT_SEARCH_RECENT,
    ENDPOINT_TWEETS,
    ENDPOINT_USERS_BY,
    Page,
    RateLimit,
    Tweet,
    User,
    XClient,
)
from tests.x.support import Harness

REPO_ROOT = Path(__file__).resolve().parents[2]
RECORDINGS = REPO_ROOT.parent / "shared" / "x-api" / "recordings"
FILES = sorted(RECORDINGS.glob("*.json")) if RECORDINGS.is_dir() else []


def _segment(uri: httpx.URL, index: int) -> str:
    return uri.path.split("/")[index]


@dataclass(frozen=True)
class Case:
    call: Callable[[XClient, httpx.URL], Page[Any]]
    endpoint: str
    kind: type[Tweet] | type[User]
    # What our request must look like, when it differs from the recorded one.
    path: Callable[[httpx.URL], str] = lambda uri: uri.path
    params: Callable[[httpx.URL], dict[str, str]] = lambda uri: dict(uri.params)
    extra_params: dict[str, str] = field(default_factory=dict)


CASES: dict[str, Case] = {
    "get_liking_users": Case(lambda c, u: c.get_liking_users(_segment(u, 3)), ENDPOINT_LIKING_USERS, User),
    "get_quote_tweets": Case(
        lambda c, u: c.get_quote_tweets(_segment(u, 3)),
        ENDPOINT_QUOTE_TWEETS,
        Tweet,
        extra_params={"exclude": "retweets", "expansions": "author_id"},
    ),
    "get_retweeters": Case(lambda c, u: c.get_retweeted_by(_segment(u, 3)), ENDPOINT_RETWEETED_BY, User),
    "search_recent_tweets": Case(
        lambda c, u: c.search_recent(u.params["query"]),
        ENDPOINT_SEARCH_RECENT,
        Tweet,
        extra_params={"expansions": "author_id"},
    ),
    # GET /2/tweets/:id answers with a single object; we only use the batch endpoint, which must cope.
    "get_tweet": Case(
        lambda c, u: c.get_tweets([_segment(u, 3)]),
        ENDPOINT_TWEETS,
        Tweet,
        path=lambda u: "/2/tweets",
        params=lambda u: {"ids": _segment(u, 3)},
    ),
    "get_tweets": Case(lambda c, u: c.get_tweets(u.params["ids"].split(",")), ENDPOINT_TWEETS, Tweet),
    "get_users": Case(
        lambda c, u: c.get_users_by_usernames(["@" + n for n in u.params["usernames"].split(",")]),
        ENDPOINT_USERS_BY,
        User,
    ),
    "get_users_following": Case(lambda c, u: c.get_following(_segment(u, 3)), ENDPOINT_FOLLOWING, User),
}


def _case_name(path: Path) -> str:
    return path.stem.removeprefix("test_asyncclient_").removeprefix("test_client_")


def _load(path: Path) -> dict[str, Any]:
    entries = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(entries, list) and len(entries) == 1, f"{path.name}: expected one recorded exchange"
    return entries[0]


def _replay(exchange: dict[str, Any], case: Case) -> tuple[Harness, Page[Any], httpx.URL]:
    uri = httpx.URL(exchange["request"]["uri"])
    headers = [(name, value) for name, values in exchange["headers"].items() for value in values]

    def serve(request: httpx.Request) -> httpx.Response:
        # Only the parts X would route on: path and the recorded parameters.
        assert request.method == exchange["request"]["method"]
        assert request.url.path == case.path(uri)
        sent = dict(request.url.params)
        for name, value in {**case.params(uri), **case.extra_params}.items():
            assert sent.get(name) == value, f"parameter {name}: sent {sent.get(name)!r}, want {value!r}"
        return httpx.Response(exchange["status"]["code"], headers=headers, json=exchange["body"])

    harness = Harness(serve)
    return harness, case.call(harness.client, uri), uri


def _header(exchange: dict[str, Any], name: str) -> int:
    return int(exchange["headers"][name][0])


@pytest.mark.parametrize("path", FILES or [None], ids=[p.name for p in FILES] or ["no-recordings"])
def test_recording_replays(path: Path | None) -> None:
    if path is None:
        pytest.skip(f"X API recordings not found at {RECORDINGS} (expected shared/ next to the repo root)")
    name = _case_name(path)
    assert name in CASES, f"{path.name}: no replay mapping for {name!r}; add one to CASES"
    case = CASES[name]
    exchange = _load(path)
    body = exchange["body"]
    harness, page, uri = _replay(exchange, case)

    recorded = body["data"] if isinstance(body["data"], list) else [body["data"]]
    assert page.endpoint == case.endpoint
    assert page.status_code == 200
    assert [item.id for item in page.data] == [item["id"] for item in recorded]
    assert all(isinstance(item, case.kind) for item in page.data)
    assert page.errors == []

    meta = body.get("meta", {})
    assert page.meta.next_token == meta.get("next_token")
    assert page.meta.result_count == meta.get("result_count")
    if "result_count" in meta:
        assert meta["result_count"] == len(page.data)

    assert page.rate_limit == RateLimit(
        limit=_header(exchange, "x-rate-limit-limit"),
        remaining=_header(exchange, "x-rate-limit-remaining"),
        reset_at=datetime.fromtimestamp(_header(exchange, "x-rate-limit-reset"), UTC),
    )

    if case.kind is User:
        assert [u.username for u in page.data] == [item["username"] for item in recorded]
        assert all(u.username and u.name for u in page.data)
        assert (page.users_returned, page.posts_returned) == (len(recorded), 0)
    else:
        assert [t.text for t in page.data] == [item["text"] for item in recorded]
        assert all(t.edit_history_tweet_ids == [t.id] for t in page.data)
        # Snowflake times must predate the recording (its reset header) and postdate the 2010 epoch.
        recorded_at = datetime.fromtimestamp(_header(exchange, "x-rate-limit-reset"), UTC)
        assert all(datetime(2010, 11, 4, tzinfo=UTC) < t.created_at_from_id < recorded_at for t in page.data)
        assert (page.posts_returned, page.users_returned) == (len(recorded), 0)

    [call] = harness.calls
    assert call.endpoint == case.endpoint and call.status_code == 200 and call.error is None
    assert call.url_path == case.path(uri)
    assert call.posts_returned == page.posts_returned and call.users_returned == page.users_returned


def _exchange(name: str) -> dict[str, Any]:
    path = RECORDINGS / name
    if not path.exists():
        pytest.skip(f"recording {name} not found in {RECORDINGS}")
    return _load(path)


def test_short_page_still_carries_a_token() -> None:
    # 62 users (< max 100) and a next_token: paging must not stop on a short page.
    exchange = _exchange("test_asyncclient_get_retweeters.json")
    _, page, _ = _replay(exchange, CASES["get_retweeters"])
    assert len(page.data) == 62
    assert page.meta.next_token == "7140dibdnow9c7btw4803m6o8pzwynsnjtwm1p2yirqcz"


def test_search_meta_has_newest_and_oldest_ids() -> None:
    exchange = _exchange("test_client_search_recent_tweets.json")
    _, page, _ = _replay(exchange, CASES["search_recent_tweets"])
    assert page.meta.newest_id == "1578516068309794817" == page.data[0].id
    assert page.meta.oldest_id == "1578511538419212288" == page.data[-1].id
    # Reverse-chronological: ids (hence times) fall down the page.
    ids = [int(t.id) for t in page.data]
    assert ids == sorted(ids, reverse=True)


def test_quote_tweets_recording_shows_retweets_without_exclude() -> None:
    # The recorded call had no exclude=retweets and got retweets of quotes back; we always send it.
    exchange = _exchange("test_client_get_quote_tweets.json")
    harness, page, _ = _replay(exchange, CASES["get_quote_tweets"])
    assert any(t.text.startswith("RT @") for t in page.data)
    assert harness.params()["exclude"] == "retweets"


def test_single_object_data_is_wrapped() -> None:
    exchange = _exchange("test_client_get_tweet.json")
    _, page, _ = _replay(exchange, CASES["get_tweet"])
    [tweet] = page.data
    assert tweet.id == "1293593516040269825"
    assert tweet.created_at_from_id.date().isoformat() == "2020-08-12"
