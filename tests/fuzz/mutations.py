"""Hypothesis strategies for mutated X answers, and the simulator mutator that serves them.

A :class:`Mutation` rewrites one answer of the simulator (the JSON the world made) into something X could
plausibly send — schema-valid but odd (empty pages, missing optional fields, huge numbers, hostile text, ids
as numbers, duplicates, lying counts, far dates, extra fields, a pagination loop) — or into something broken
(not JSON, truncated JSON, an HTML page with 200, a top level that is not an object, fields of the wrong type).
``must_reject`` marks the broken ones the client has to refuse.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from hypothesis import strategies as st

from socap.simulator.faults import RawBody

JSON_TYPE = "application/json; charset=utf-8"
TWEET_METRICS = ("retweet_count", "reply_count", "like_count", "quote_count", "bookmark_count", "impression_count")
USER_METRICS = ("followers_count", "following_count", "tweet_count", "listed_count", "like_count")
TWEET_OPTIONAL = ("text", "author_id", "created_at", "conversation_id", "public_metrics", "referenced_tweets",
                  "in_reply_to_user_id", "edit_history_tweet_ids")
USER_OPTIONAL = ("name", "username", "description", "created_at", "public_metrics", "profile_image_url",
                 "verified", "verified_type", "protected", "location", "url")


@dataclass
class Mutation:
    name: str
    apply: Callable[[dict, str], Any] = field(repr=False)  # (payload, request URL) -> dict | RawBody
    must_reject: bool = False
    detail: str = ""

    def __repr__(self) -> str:
        return f"Mutation({self.name}{': ' + self.detail if self.detail else ''})"


def encoded(payload: Any) -> RawBody:
    """JSON with every non-ASCII character escaped: lone surrogates and NULs survive the trip as X sends them."""
    return RawBody(json.dumps(payload, ensure_ascii=True))


def items(payload: dict) -> tuple[list[dict], list[dict]]:
    """(posts, users) of an answer, wherever they sit (data or includes)."""
    data = payload.get("data")
    data = [data] if isinstance(data, dict) else list(data or [])
    includes = payload.get("includes") or {}
    posts = [d for d in data if "username" not in d] + list(includes.get("tweets", []))
    users = [d for d in data if "username" in d] + list(includes.get("users", []))
    return posts, users


def request_token(url: str) -> str | None:
    query = parse_qs(urlsplit(url).query)
    values = query.get("pagination_token") or query.get("next_token")
    return values[0] if values else None


# ---------------------------------------------------------------- schema-valid but odd

def _empty(keep_token: bool) -> Mutation:
    def apply(p: dict, url: str) -> dict:
        p["data"] = []
        p.pop("includes", None)
        if not keep_token:
            p.get("meta", {}).pop("next_token", None)
        return p

    return Mutation("empty data", apply, detail=f"keep next_token={keep_token}")


def _missing(post_fields: list[str], user_fields: list[str], drop_data: bool) -> Mutation:
    def apply(p: dict, url: str) -> dict:
        posts, users = items(p)
        for post in posts:
            for name in post_fields:
                post.pop(name, None)
        for user in users:
            for name in user_fields:
                user.pop(name, None)
        if drop_data:
            p.pop("data", None)
        return p

    return Mutation("missing fields", apply, detail=f"posts {post_fields} users {user_fields} data={not drop_data}")


def _numbers(values: list[int]) -> Mutation:
    def apply(p: dict, url: str) -> dict:
        posts, users = items(p)
        i = 0
        for owner, names in [(post, TWEET_METRICS) for post in posts] + [(user, USER_METRICS) for user in users]:
            metrics = owner.setdefault("public_metrics", {})
            for name in names:
                metrics[name] = values[i % len(values)]
                i += 1
        return p

    return Mutation("huge numbers", apply, detail=str(values))


HOSTILE = ["\u202egnp.exe", "zero\u200bwidth\u200d\ufeff", "nul\x00byte", "lone \ud800 surrogate", "\udfff",
           "<script>alert(1)</script>", "🚀👩‍💻🇫🇷", "e\u0301\u0301\u0301", "\u0645\u0631\u062d\u0628\u0627",
           "a" * 5000, "", " ", "\n\r\t", "'; DROP TABLE account; --", "%s%n{0}", "\\u0000"]
hostile_text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=60),
                         st.text(alphabet=st.characters(codec="utf-8", categories=["Cc", "Cf", "Zl", "Zp", "Mn"]),
                                 max_size=20))


def _text(values: list[str], targets: list[str]) -> Mutation:
    def apply(p: dict, url: str) -> RawBody:
        posts, users = items(p)
        i = 0
        for post in posts:
            if "text" in targets:
                post["text"] = values[i % len(values)]
                i += 1
        for user in users:
            for name in ("description", "name", "username", "location"):
                if name in targets:
                    user[name] = values[i % len(values)]
                    i += 1
        return encoded(p)

    return Mutation("hostile text", apply, detail=f"{targets} <- {values!r}"[:300])


def _numeric_ids() -> Mutation:
    def apply(p: dict, url: str) -> dict:
        posts, users = items(p)
        for post in posts:
            for name in ("id", "author_id", "conversation_id", "in_reply_to_user_id"):
                if isinstance(post.get(name), str):
                    post[name] = int(post[name])
            for ref in post.get("referenced_tweets") or []:
                ref["id"] = int(ref["id"])
        for user in users:
            user["id"] = int(user["id"])
        return p

    return Mutation("ids as numbers", apply)


def _duplicates(times: int) -> Mutation:
    def apply(p: dict, url: str) -> dict:
        if isinstance(p.get("data"), list):
            p["data"] = p["data"] * times
        includes = p.get("includes") or {}
        for key in ("users", "tweets"):
            if key in includes:
                includes[key] = includes[key] * times
        return p

    return Mutation("duplicated items", apply, detail=f"x{times}")


def token_loop() -> Mutation:
    """Every page asked for with a token names that same token as the next one: a loop forever."""

    def apply(p: dict, url: str) -> dict:
        token = request_token(url)
        if token is not None:
            p.setdefault("meta", {})["next_token"] = token
        return p

    return Mutation("next_token loop", apply)


def _result_count(value: int) -> Mutation:
    def apply(p: dict, url: str) -> dict:
        p.setdefault("meta", {})["result_count"] = value
        return p

    return Mutation("result_count lies", apply, detail=str(value))


def _token(value: str) -> Mutation:
    """An odd next_token (long, hostile, empty): stored as the cursor or refused, never a database error."""

    def apply(p: dict, url: str) -> RawBody:
        meta = p.setdefault("meta", {})
        if "next_token" in meta:
            meta["next_token"] = value
        return encoded(p)

    return Mutation("odd next_token", apply, detail=repr(value)[:80])


FAR_DATES = ["0001-01-01T00:00:00.000Z", "1970-01-01T00:00:00.000Z", "1000-06-15T12:00:00Z",
             "2999-12-31T23:59:59.000Z", "9999-12-31T23:59:59.999Z", "2025-01-06T09:00:00",  # naive
             "2025-01-06T09:00:00+14:00", "2025-01-06T09:00:00-12:00"]


def _dates(values: list[str], posts_too: bool) -> Mutation:
    def apply(p: dict, url: str) -> dict:
        posts, users = items(p)
        i = 0
        for owner in (posts if posts_too else []) + users:
            owner["created_at"] = values[i % len(values)]
            i += 1
        return p

    return Mutation("far dates", apply, detail=f"{values} posts={posts_too}")


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                        max_size=3),
                           max_leaves=6)


def _extra(extra: dict) -> Mutation:
    def apply(p: dict, url: str) -> dict:
        posts, users = items(p)
        for owner in [p, p.setdefault("meta", {}), *posts, *users]:
            for key, value in extra.items():
                owner.setdefault(key, value)
        for owner in posts + users:
            if isinstance(owner.get("public_metrics"), dict):
                owner["public_metrics"].setdefault("fuzz_count", 7)
        return p

    return Mutation("extra fields", apply, detail=repr(extra)[:200])


odd_mutations = st.one_of(
    st.builds(_empty, st.booleans()),
    st.builds(_missing, st.lists(st.sampled_from(TWEET_OPTIONAL), unique=True),
              st.lists(st.sampled_from(USER_OPTIONAL), unique=True), st.booleans()),
    st.builds(_numbers, st.lists(st.one_of(st.sampled_from([0, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 10**30, -1]),
                                           st.integers()), min_size=1, max_size=5)),
    st.builds(_text, st.lists(hostile_text, min_size=1, max_size=4),
              st.lists(st.sampled_from(["text", "description", "name", "username", "location"]), min_size=1,
                       unique=True)),
    st.just(_numeric_ids()),
    st.builds(_duplicates, st.integers(2, 3)),
    st.builds(_result_count, st.one_of(st.sampled_from([0, -1, 10**9, 2**64]), st.integers())),
    st.builds(_token, st.one_of(st.sampled_from(["", "x" * 300, "x" * 600, "a\x00b", "\u202e"]), st.text())),
    st.builds(_dates, st.lists(st.sampled_from(FAR_DATES), min_size=1, max_size=3), st.booleans()),
    st.builds(_extra, st.dictionaries(st.text(min_size=1, max_size=8).filter(
        lambda k: k not in TWEET_OPTIONAL + USER_OPTIONAL + ("id", "data", "includes", "meta", "errors")),
        json_values, min_size=1, max_size=3)),
)


# ---------------------------------------------------------------- broken

def _not_json(content: str | bytes) -> Mutation:
    return Mutation("not JSON", lambda p, url: RawBody(content), must_reject=True, detail=repr(content)[:80])


def _not_json_body(text: str | bytes) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return True
    return False


def _truncated(fraction: float) -> Mutation:
    def apply(p: dict, url: str) -> RawBody:
        text = json.dumps(p)
        return RawBody(text[:max(0, min(len(text) - 1, int(len(text) * fraction)))])

    return Mutation("truncated JSON", apply, must_reject=True, detail=f"{fraction:.2f}")


HTML = ("<!DOCTYPE html><html><head><title>X / Over capacity</title></head>"
        "<body><h1>Something is technically wrong.</h1></body></html>")


def _html() -> Mutation:
    return Mutation("HTML page with 200", lambda p, url: RawBody(HTML, content_type="text/html; charset=utf-8"),
                    must_reject=True)


def _top_level(value: Any) -> Mutation:
    return Mutation("top level not an object", lambda p, url: RawBody(json.dumps(value)), must_reject=True,
                    detail=repr(value)[:60])


# (where, a value of the wrong type there): every one of these must make the client refuse the page
BAD_ID = ["abc", "", "12a", {"id": "1"}, [1], 1.5, -3, 2**64, True, "1" * 20, "١٢٣"]
WRONG_TYPES = [("data", v) for v in ("x", 5, True)] + \
    [("includes", v) for v in (5, "x")] + [("includes.users", v) for v in ("x", {"id": "1"})] + \
    [("meta", v) for v in (5, "x")] + [("post.id", v) for v in BAD_ID] + [("user.id", v) for v in BAD_ID] + \
    [("post.public_metrics", v) for v in ([], "x", 5)] + \
    [("post.created_at", v) for v in ("yesterday", "2025-13-45T00:00:00Z", [])] + \
    [("post.referenced_tweets", v) for v in ("x", 5, [{"type": "retweeted"}])] + \
    [("post.author_id", v) for v in ("abc", {"x": 1}, "9" * 20)]


def _wrong_type(where: str, value: Any) -> Mutation:
    def apply(p: dict, url: str) -> RawBody:
        owner, _, name = where.rpartition(".")
        posts, users = items(p)
        if owner == "":
            p[name] = value
        elif owner == "includes":
            p.setdefault("includes", {})[name] = value
        else:
            targets = posts if owner == "post" else users
            if not targets:  # nothing of that kind in this answer: break the page itself instead
                p["data"] = "x"
            for target in targets[:1]:  # one bad item is enough to make the whole page unreadable
                target[name] = value
        return encoded(p)

    return Mutation("wrong type", apply, must_reject=True, detail=f"{where} = {value!r}")


broken_mutations = st.one_of(
    st.builds(_not_json, st.one_of(st.text(max_size=40), st.binary(max_size=40)).filter(_not_json_body)),
    st.builds(_truncated, st.floats(0, 1)),
    st.just(_html()),
    st.builds(_top_level, st.sampled_from([[], [{"data": []}], None, 0, "data", True])),
    st.sampled_from(WRONG_TYPES).map(lambda wv: _wrong_type(*wv)),
)

any_mutation = st.one_of(odd_mutations, broken_mutations)


# ---------------------------------------------------------------- serving them

ID_RE = re.compile(r"^[0-9]{1,19}$")


class PageMutator:
    """A simulator mutator: answers of ``endpoint`` (whose URL has ``contains``) from the ``index``-th distinct
    page (by URL) on are rewritten by ``mutation`` (``only_index``: that page alone, and its retries). Everything
    served is kept in ``served``.

    A runaway (more than ``max_calls`` answers of the endpoint) ends the pagination by dropping next_token,
    so a poller that would loop forever ends the test instead of hanging it; ``runaway`` tells."""

    def __init__(self, endpoint: str, mutation: Mutation, *, index: int = 0, only_index: bool = True,
                 max_calls: int = 15, contains: str | None = None):
        self.endpoint, self.mutation, self.index, self.only_index = endpoint, mutation, index, only_index
        self.contains = contains  # only URLs with this in them (one post's list)
        self.max_calls = max_calls
        self.urls: list[str] = []
        self.served: list[tuple[str, dict, Any]] = []  # (url, the world's payload, what was served or None)
        self.calls = 0
        self.runaway = False

    def __call__(self, endpoint: str, url: str, payload: dict) -> Any:
        if endpoint != self.endpoint or (self.contains is not None and self.contains not in url):
            return None
        self.calls += 1
        if url not in self.urls:
            self.urls.append(url)
        position = self.urls.index(url)
        original = json.loads(json.dumps(payload))
        if self.calls > self.max_calls:
            self.runaway = True
            payload.get("meta", {}).pop("next_token", None)
            self.served.append((url, original, payload))
            return payload
        hit = position == self.index if self.only_index else position >= self.index
        served = self.mutation.apply(payload, url) if hit else None
        self.served.append((url, original, served))
        return served

    @property
    def mutated_urls(self) -> list[str]:
        return list(dict.fromkeys(url for url, _, served in self.served if served is not None))


def served_json(served: Any) -> Any:
    """What a served answer says as JSON (None when it is not JSON)."""
    if isinstance(served, RawBody):
        try:
            return json.loads(served.content)
        except ValueError:
            return None
    return served
