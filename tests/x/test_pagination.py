"""iter_pages follows meta.next_token, and only its absence ends the walk."""

from __future__ import annotations

import httpx
import pytest

from socap.x import MalformedResponse
from tests.x.support import Harness, reply


def _users(*ids: str, token: str | None = None) -> httpx.Response:
    meta: dict[str, object] = {"result_count": len(ids)}
    if token:
        meta["next_token"] = token
    return reply(200, {"data": [{"id": i, "name": i, "username": f"u{i}"} for i in ids], "meta": meta})


def _tweets(*ids: str, token: str | None = None) -> httpx.Response:
    meta: dict[str, object] = {"result_count": len(ids)}
    if ids:
        meta.update(newest_id=ids[0], oldest_id=ids[-1])
    if token:
        meta["next_token"] = token
    return reply(200, {"data": [{"id": i, "text": i} for i in ids], "meta": meta} if ids else {"meta": meta})


def test_short_pages_with_token_keep_going() -> None:
    harness = Harness([_users("9", "8", "7", token="A"), _users("6", token="B"), _users("5")])
    pages = list(harness.client.iter_pages(harness.client.get_retweeted_by, "100", max_results=100))
    assert [[u.id for u in p.data] for p in pages] == [["9", "8", "7"], ["6"], ["5"]]
    assert [harness.params(i).get("pagination_token") for i in range(3)] == [None, "A", "B"]
    assert all(harness.params(i)["max_results"] == "100" for i in range(3))
    assert all(r.url.path == "/2/tweets/100/retweeted_by" for r in harness.requests)


def test_empty_page_with_token_keeps_going() -> None:
    harness = Harness([_users(token="A"), _users("1")])
    pages = list(harness.client.iter_pages(harness.client.get_liking_users, "100"))
    assert [len(p.data) for p in pages] == [0, 1]


def test_stops_when_token_absent() -> None:
    harness = Harness([_users("1", "2")])
    pages = list(harness.client.iter_pages(harness.client.get_following, "7"))
    assert len(pages) == 1 and len(harness.requests) == 1


def test_max_pages_bounds_the_walk() -> None:
    harness = Harness([_users("3", token="A"), _users("2", token="B"), _users("1", token="C")])
    pages = list(harness.client.iter_pages(harness.client.get_retweeted_by, "100", max_pages=2))
    assert len(pages) == 2 and len(harness.requests) == 2


def test_iteration_is_lazy() -> None:
    harness = Harness([_users("3", token="A"), _users("2")])
    walk = harness.client.iter_pages(harness.client.get_retweeted_by, "100")
    next(walk)
    assert len(harness.requests) == 1  # a caller that stops at its watermark pays for no more pages


def test_search_uses_next_token_and_keeps_since_id() -> None:
    harness = Harness([_tweets("30", "29", token="N1"), _tweets("28", token="N2"), _tweets()])
    client = harness.client
    pages = list(client.iter_pages(client.search_recent, "conversation_id:1", since_id="20", max_results=10))
    assert [len(p.data) for p in pages] == [2, 1, 0]
    params = [harness.params(i) for i in range(3)]
    assert [p.get("next_token") for p in params] == [None, "N1", "N2"]
    assert all(p["since_id"] == "20" and p["query"] == "conversation_id:1" for p in params)
    assert all("pagination_token" not in p for p in params)
    assert pages[0].meta.newest_id == "30"


def test_search_with_explicit_token_param() -> None:
    harness = Harness([_tweets("2", token="N1"), _tweets("1")])
    client = harness.client
    pages = list(client.iter_pages(client.search_recent, "q", token_param="next_token"))
    assert len(pages) == 2 and harness.params(1)["next_token"] == "N1"


def test_resuming_from_a_token() -> None:
    harness = Harness([_users("2", token="B"), _users("1")])
    client = harness.client
    list(client.iter_pages(client.get_retweeted_by, "100", pagination_token="A"))
    assert [harness.params(i)["pagination_token"] for i in range(2)] == ["A", "B"]


def test_unknown_token_param_fails_before_any_request() -> None:
    harness = Harness([_users("1")])
    with pytest.raises(ValueError, match="cursor"):
        list(harness.client.iter_pages(harness.client.get_retweeted_by, "100", token_param="cursor"))
    assert harness.requests == []


def test_repeated_token_stops_with_error() -> None:
    harness = Harness([_users("2", token="SAME")])
    with pytest.raises(MalformedResponse, match="repeated"):
        list(harness.client.iter_pages(harness.client.get_retweeted_by, "100"))
    assert len(harness.requests) == 2
