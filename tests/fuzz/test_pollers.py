"""Real polls (dispatcher tick → queue → worker → pollers → ingest) against a simulator whose answers are
mutated over real HTTP, one page of one endpoint per example.

Properties: the worker never crashes (every task finishes; failures are recorded on the job and the run as
errors that say what X did wrong); nothing is stored from a page the client refused, and no cursor or
watermark moves past it; a page that was accepted is stored exactly as X said it (modulo what a TEXT column
cannot hold: NULs and lone surrogates); a pagination loop ends with a clear error.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from socap.campaigns import service as campaign_service
from socap.campaigns.models import Campaign, CampaignTweet
from socap.monitoring.engine import run_tick
from socap.monitoring.models import Engagement, MetricSnapshot, PollJob, Run
from socap.runtime import set_current
from socap.simulator import Scenario, hours, minutes
from socap.x.schemas import snowflake_time, storable_text
from tests.monitoring.support import create_campaign, memory_queue

from .conftest import FUZZ
from .mutations import (
    PageMutator,
    _dates,
    _numbers,
    _text,
    _token,
    any_mutation,
    request_token,
    served_json,
    token_loop,
)


def _world(b) -> None:
    """One main post whose lists take several pages (100 a page, some cut short), and an influencer post."""
    b.campaign("Fuzz", start="2025-03-03T12:00:00Z", days=3, threshold=10)
    b.seeds({"investor": 2})
    brand = b.account("fuzzbrand", name="Fuzz Brand", bio="We make things.")
    main = b.post("main", author=brand, text="Launch", created=-hours(6), likes={hours(0): 500})
    b.post("influencer", author=brand, text="Look at this", created=-hours(5), likes={hours(0): 50})
    b.retweets(main, 160, between=(-hours(5), -minutes(1)))
    b.quotes(main, 12, between=(-hours(5), -minutes(2)))
    b.replies(main, 110, between=(-hours(5), -minutes(3)))


SCENARIO = Scenario.from_function("fuzz_pages", _world, name="multi-page lists")
MAIN = next(p.id for p in SCENARIO.build_world().campaign_posts() if p.category == "main")
ENDPOINT = {"metrics": "GET /2/tweets", "retweets": "GET /2/tweets/:id/retweets",
            "quotes": "GET /2/tweets/:id/quote_tweets", "replies": "GET /2/tweets/search/recent"}
ACTION = {"retweets": "retweet", "quotes": "quote", "replies": "reply"}
# what a job may say when X's answer was wrong: the client's own error types, or the metrics poller's words
CLEAR = ("MalformedResponse: ", "TransientError: ", "BadRequest: ", "RuntimeError: post missing from X's answer",
         "RuntimeError: X returned no public_metrics")


class Site(tuple):
    def __repr__(self) -> str:  # keeps hypothesis' reports short
        return "<simulator, runtime>"


@pytest.fixture
def site(start_simulator, make_runtime):
    server = start_simulator(SCENARIO)
    return Site([server, make_runtime(server)])


def _instant(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def expected_rows(kind: str, post_id: str, body: dict, ends_at: datetime) -> dict[int, tuple]:
    """source id → (account id, text, engaged_at) that ingest must store from one accepted page."""
    data = body.get("data")
    data = [] if data is None else [data] if isinstance(data, dict) else data
    rows: dict[int, tuple] = {}
    for item in data:
        refs = {r["type"]: str(r["id"]) for r in item.get("referenced_tweets") or []}
        if kind == "retweets" and refs.get("retweeted", post_id) != post_id:
            continue
        if kind == "quotes" and (refs.get("quoted", post_id) != post_id or "retweeted" in refs):
            continue
        if kind == "replies" and refs.get("replied_to") != post_id:
            continue
        if not item.get("author_id"):
            continue
        engaged_at = _instant(item.get("created_at")) or snowflake_time(str(item["id"]))
        if engaged_at > ends_at:
            continue
        text = "" if kind == "retweets" else storable_text(str(item.get("text") or ""))
        rows[int(item["id"])] = (int(item["author_id"]), text, engaged_at)
    return rows


def _drain(rt, queue) -> None:
    set_current(rt)  # the queue's tasks run on the current runtime
    for _ in range(2):  # every job of a new campaign is due at once; then anything count gating made due
        run_tick(rt, queue)
        while queue.run_one():  # a task that raised would fail the test here: the worker must never raise
            pass


targets = st.sampled_from(["metrics", "retweets", "quotes", "replies"])


@settings(FUZZ, max_examples=24)
@given(target=targets, index=st.integers(0, 1), mutation=any_mutation)
# what PostgreSQL refuses to store: longer than the column, NUL, a lone surrogate, numbers beyond INTEGER
@example(target="retweets", index=1, mutation=_text(["a" * 5000, "n\x00l", "\ud800"],
                                                    ["username", "name", "description", "location"]))
@example(target="quotes", index=0, mutation=_text(["n\x00l \ud800 \u202e"], ["text", "username"]))
@example(target="replies", index=0, mutation=_numbers([2**31, 2**63, -1]))
@example(target="metrics", index=0, mutation=_numbers([2**31]))
@example(target="retweets", index=0, mutation=_dates(["0001-01-01T00:00:00.000Z", "2025-03-03T09:00:00"], True))
@example(target="retweets", index=0, mutation=_token("x" * 600))
@example(target="replies", index=0, mutation=_token("t\x00ken"))
def test_a_real_poll_of_a_mutated_page_stores_it_correctly_or_nothing_from_it(site, examples, target, index,
                                                                               mutation):
    examples(kind=f"{target}, {'broken' if mutation.must_reject else 'odd'}")
    server, rt = site
    if target == "metrics":
        index = 0  # one call for both posts
    rt.clock.advance(timedelta(minutes=16))  # a fresh rate-limit window for every example
    campaign_id = create_campaign(rt, SCENARIO)
    mutator = PageMutator(ENDPOINT[target], mutation, index=index, contains=None if target == "metrics" else MAIN)
    server.sim.set_mutator(mutator)
    try:
        _drain(rt, memory_queue(rt))
    finally:
        server.sim.set_mutator(None)
    try:
        check(rt, campaign_id, target, mutator)
    finally:
        with rt.db.write() as session:  # this campaign stays out of the next examples' ticks
            campaign_service.pause(session, campaign=session.get(Campaign, campaign_id), clock=rt.clock)


def check(rt, campaign_id: int, target: str, mutator: PageMutator) -> None:
    with rt.db.session() as s:
        campaign = s.get(Campaign, campaign_id)
        posts = {row.id: row for row in s.scalars(select(CampaignTweet).where(CampaignTweet.campaign_id
                                                                               == campaign_id))}
        jobs = s.scalars(select(PollJob).where(PollJob.campaign_id == campaign_id)).all()
        stored = {(e.campaign_tweet_id, e.action, e.source_tweet_id): e
                  for e in s.scalars(select(Engagement).where(Engagement.campaign_id == campaign_id))}
        snapshots = s.scalars(select(MetricSnapshot).where(MetricSnapshot.campaign_id == campaign_id)).all()
        summaries = " ".join(r.error_summary or "" for r in s.scalars(select(Run).where(Run.campaign_id
                                                                                      == campaign_id)))
        ends_at = campaign.ends_at
    assert not mutator.runaway, "a pagination loop was followed until the test stopped it"
    failed = [j for j in jobs if j.last_error]
    for job in failed:
        assert job.last_error.startswith(CLEAR), f"{job.kind}: unclear error {job.last_error[:300]!r}"
        assert job.last_error[:150] in summaries or job.kind == "metrics", "the run does not show the error"
        assert job.lease_owner is None and job.next_run_at is not None  # released, retried later
    assert {j.kind for j in failed} <= {target}, "an answer that was not mutated failed"
    if mutator.mutation.must_reject and mutator.mutated_urls:
        assert failed, f"{mutator.mutation} was accepted"
    if mutator.mutation.name == "next_token loop" and any(request_token(u) for u in mutator.mutated_urls):
        assert failed and "pagination token repeated" in failed[0].last_error

    # a post whose metrics were refused gets no snapshot (its first backfill runs all the same)
    unpolled = {j.campaign_tweet_id for j in failed if j.kind == "metrics"}
    assert not [snap for snap in snapshots if snap.campaign_tweet_id in unpolled]
    if target == "metrics" and len(unpolled) < len(posts):
        body = served_json(mutator.served[-1][2]) if mutator.served[-1][2] is not None else mutator.served[-1][1]
        said = {str(item["id"]): item.get("public_metrics") for item in body["data"]}
        for snap in snapshots:
            metrics = said[str(posts[snap.campaign_tweet_id].tweet_id)]
            assert snap.like_count == metrics.get("like_count", 0) and snap.retweet_count == metrics.get(
                "retweet_count", metrics.get("repost_count", 0))

    main = next(row for row in posts.values() if row.category == "main")
    for kind, action in ACTION.items():
        job = next(j for j in jobs if j.kind == kind and j.campaign_tweet_id == main.id)
        pages = [(url, served_json(served) if served is not None else original)
                 for url, original, served in mutator.served] if kind == target else None
        rows = {src: e for (tweet, act, src), e in stored.items() if act == action and tweet == main.id}
        if kind != target:
            assert job.backfill_done and job.last_error is None
            continue
        cursor = job.backfill_cursor
        if kind == "replies" and cursor:
            cursor = json.loads(cursor)["token"]
        refused = pages[-1][0] if job.last_error and job.last_error.startswith("MalformedResponse") else None
        # the client refused the last page it was served (and its retry), or X refused the request after the
        # last page (a 400 for an odd token: that request was never served), or nothing failed
        accepted = [body for url, body in pages if url != refused]
        expected = {}
        for body in accepted:
            expected.update(expected_rows(kind, str(main.tweet_id), body, ends_at))
        assert set(rows) == set(expected), "stored rows differ from the accepted pages' engagements"
        for src, (account_id, text, engaged_at) in expected.items():
            row = rows[src]
            assert (row.account_id, row.text, row.engaged_at) == (account_id, text, engaged_at)
        if refused is not None:
            # nothing from the refused page, the cursor still on it, no watermark: the next run reads it again
            refused_ids = {int(i["id"]) for i in mutator.served[-1][1].get("data") or []}
            assert not set(rows) & (refused_ids - set(expected)), "rows stored from a refused page"
            assert cursor == request_token(refused), "the cursor moved past a refused page"
            assert not job.backfill_done and job.watermark is None
        elif job.last_error:
            last_token = (accepted[-1].get("meta") or {}).get("next_token")
            assert cursor == storable_text(str(last_token)) and not job.backfill_done
        else:
            assert job.backfill_done and cursor is None


@settings(FUZZ, max_examples=12)
@given(target=st.sampled_from(["retweets", "quotes", "replies"]), index=st.integers(1, 2))
def test_a_pagination_loop_fails_the_job_clearly_after_a_few_calls(site, examples, target, index):
    examples()
    server, rt = site
    rt.clock.advance(timedelta(minutes=16))
    campaign_id = create_campaign(rt, SCENARIO)
    mutator = PageMutator(ENDPOINT[target], token_loop(), index=index, only_index=False, contains=MAIN)
    server.sim.set_mutator(mutator)
    try:
        _drain(rt, memory_queue(rt))
    finally:
        server.sim.set_mutator(None)
    with rt.db.write() as session:
        campaign = session.get(Campaign, campaign_id)
        job = session.scalar(select(PollJob).where(PollJob.campaign_id == campaign_id, PollJob.kind == target,
                                                   PollJob.last_error.is_not(None)))
        campaign_service.pause(session, campaign=campaign, clock=rt.clock)
        assert not mutator.runaway
        if not any(request_token(url) for url in mutator.mutated_urls):  # the list ended before the loop began
            return
        assert job is not None and job.last_error.startswith("MalformedResponse: ")
        assert "pagination token repeated" in job.last_error
        assert mutator.calls <= index + 4
        assert job.next_run_at <= rt.clock.now() + timedelta(minutes=30)
