"""The X client against mutated simulator answers over real HTTP: it returns a page that downstream code can
store as it is, or raises one of its own errors — never anything else. Broken bodies are always refused."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socap.clock import ManualClock
from socap.simulator import load_scenario
from socap.x import MalformedResponse, Page, Tweet, User, XAPIError, XClient

from .conftest import FUZZ
from .mutations import PageMutator, any_mutation, served_json, token_loop

ID = re.compile(r"^[0-9]{1,19}$")
INT32 = 2**31 - 1
INT64 = 2**63 - 1
SCENARIO = load_scenario("1")


class Quiet(tuple):
    """A fixture value whose repr stays short in hypothesis' failure reports (a world's repr is ~700 kB)."""

    def __repr__(self) -> str:
        return f"<{type(self[0]).__name__}, ...>"


@pytest.fixture
def x(start_simulator):
    """(simulator server, client, world): one retry, like the workers' clients in the tests."""
    world = SCENARIO.build_world()
    server = start_simulator(world, clock=ManualClock(world.start))
    client = XClient(server.api_base, "fuzz-token", max_retries=1, clock=server.clock, timeout=10)
    yield Quiet([server, client, world])
    client.close()


def calls(world):
    """(endpoint key, call) for every endpoint the pollers and campaign creation use."""
    posts = [p.id for p in world.campaign_posts()]
    main = posts[0]
    seed = world.seeds()[0]
    return [
        ("GET /2/tweets", lambda c: c.get_tweets(posts)),
        ("GET /2/tweets/:id/retweets", lambda c: c.get_retweets(main)),
        ("GET /2/tweets/:id/quote_tweets", lambda c: c.get_quote_tweets(posts[1])),
        ("GET /2/tweets/search/recent", lambda c: c.search_recent(" OR ".join(f"conversation_id:{p}" for p in posts))),
        ("GET /2/users", lambda c: c.get_users([seed.id, world.account_by_username("acmehq").id])),
        ("GET /2/users/:id/following", lambda c: c.get_following(seed.id)),
    ]


def _strings(model) -> list[str]:
    out = []
    for value in model.__dict__.values():
        if isinstance(value, str):
            out.append(value)
    return out


def assert_storable(page: Page) -> None:
    """What ingest and the metrics poller rely on: ids fit a BIGINT, text fits a TEXT column on PostgreSQL
    (no NUL, no lone surrogate), counts fit their columns, times are aware."""
    posts = [i for i in page.data if isinstance(i, Tweet)] + page.includes.tweets
    users = [i for i in page.data if isinstance(i, User)] + page.includes.users
    for post in posts:
        ids = [post.id, *[r.id for r in post.referenced_tweets]]
        ids += [v for v in (post.author_id, post.conversation_id, post.in_reply_to_user_id) if v is not None]
        for value in ids:
            assert ID.match(value) and 0 < int(value) <= INT64, value
        if post.public_metrics is not None:
            m = post.public_metrics
            assert all(0 <= n <= INT32 for n in (m.like_count, m.retweet_count, m.reply_count, m.quote_count,
                                                 m.bookmark_count))
            assert 0 <= m.impression_count <= INT64
        assert post.created_at is None or post.created_at.tzinfo is not None
    for user in users:
        assert ID.match(user.id) and 0 < int(user.id) <= INT64, user.id
        if user.public_metrics is not None:
            m = user.public_metrics
            assert all(0 <= n <= INT32 for n in (m.followers_count, m.following_count, m.tweet_count))
        assert user.created_at is None or user.created_at.tzinfo is not None
    for item in posts + users:
        for text in _strings(item):
            assert "\x00" not in text
            text.encode("utf-8")  # a lone surrogate raises here


def _served_ids(body) -> list[str] | None:
    if not isinstance(body, dict):
        return None
    data = body.get("data")
    data = [] if data is None else [data] if isinstance(data, dict) else data
    if not isinstance(data, list):
        return None
    return [str(item.get("id")) for item in data if isinstance(item, dict)]


@settings(FUZZ, max_examples=150)
@given(mutation=any_mutation, which=st.integers(0, 5))
def test_client_returns_a_storable_page_or_its_own_error(x, examples, mutation, which):
    examples(kind="broken" if mutation.must_reject else "odd")
    server, client, world = x
    endpoint, call = calls(world)[which]
    mutator = PageMutator(endpoint, mutation, only_index=False)
    server.sim.set_mutator(mutator)
    try:
        page = call(client)
    except XAPIError as exc:
        assert str(exc).startswith(endpoint), exc  # says which call failed
        if isinstance(exc, MalformedResponse):
            assert mutator.calls == 2  # a garbled answer is retried once, then refused
        return
    finally:
        server.sim.set_mutator(None)
    assert not mutation.must_reject, f"{mutation} was accepted: {page!r}"[:500]
    assert_storable(page)
    # what the client kept is what X said: the same items in the same order
    served = served_json(mutator.served[-1][2] if mutator.served[-1][2] is not None else mutator.served[-1][1])
    assert [item.id for item in page.data] == _served_ids(served)


@settings(FUZZ, max_examples=30)
@given(index=st.integers(1, 2), which=st.sampled_from([1, 3]))
def test_a_pagination_loop_ends_with_a_clear_error(x, examples, index, which):
    """A server that hands back the token it was asked with would make a naive client pay forever."""
    examples()
    server, client, world = x
    endpoint, _ = calls(world)[which]
    mutator = PageMutator(endpoint, token_loop(), index=index, only_index=False)
    server.sim.set_mutator(mutator)
    server.clock.set(world.end)  # every engagement of the scenario is there: many pages
    posts = [p.id for p in world.campaign_posts()]
    try:
        if which == 1:
            pages = client.iter_pages(client.get_retweets, posts[0], max_results=1)
        else:
            query = " OR ".join(f"conversation_id:{p}" for p in posts)
            pages = client.iter_pages(client.search_recent, query, max_results=10)
        with pytest.raises(MalformedResponse, match="pagination token repeated"):
            for _ in pages:
                pass
    finally:
        server.sim.set_mutator(None)
    assert not mutator.runaway
