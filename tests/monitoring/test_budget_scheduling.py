"""Budget-aware scheduling (issue 9): when a cycle's due work needs more calls than an endpoint's rate-limit
budget allows, the dispatcher runs the most valuable work first — unfinished backfills of main posts before
influencers' before investors', the largest counter growth first — and what does not fit stays due for a
later window: nothing is lost, nothing runs twice, and `socap status` says what each campaign needs per
cycle against the budget it gets. A backfill bigger than one window finishes in the windows the limit
allows (lower bound: ceil(calls / limit) windows)."""

from __future__ import annotations

import json
import math
from collections import Counter

from sqlalchemy import select
from typer.testing import CliRunner

from socap.campaigns import service as campaign_service
from socap.campaigns.models import CampaignTweet
from socap.campaigns.schemas import PostsInput
from socap.cli import app
from socap.console import set_runtime
from socap.monitoring import budgeting, service
from socap.monitoring.engine import drive
from socap.monitoring.models import PollJob
from socap.simulator import Scenario, hours, minutes
from socap.simulator.builder import ScenarioBuilder
from socap.x.budget import WINDOW

from .calllog import QUOTES, RETWEETS, CallLog
from .support import capturable, create_campaign, latest_metrics, memory_queue, stored_engagements, truth

runner = CliRunner()
CATEGORIES = ("main", "influencer", "investor")


def _post_of(call: dict) -> str:
    return call["url"].split("/tweets/")[1].split("/")[0]


def _window(call: dict, start) -> int:
    return int((call["at"] - start) / WINDOW)


def _assert_truth(rt, server, world, campaign_id) -> None:
    expected = truth(server, at=world.end)
    stored = stored_engagements(rt, campaign_id)
    assert len(stored) == len(set(stored)), "an engagement was stored twice"
    assert set(stored) == capturable(expected)
    assert latest_metrics(rt, campaign_id) == {p["id"]: p["public_metrics"] for p in expected["posts"]}


def _started(scenario, start_simulator, make_runtime):
    """(world, simulator, runtime, its call log, category of each post id). SOCAP is not told the simulator's
    low limits: X's headers teach them on the first call."""
    world = scenario.build_world()
    server = start_simulator(world)
    return world, server, make_runtime(server), CallLog(server), {p.id: p.category for p in world.campaign_posts()}


def _status_json(rt) -> dict:
    set_runtime(rt)
    try:
        result = runner.invoke(app, ["status", "--json"])
        text = runner.invoke(app, ["status"])
    finally:
        set_runtime(None)
    assert result.exit_code == 0 and text.exit_code == 0, result.output + text.output
    return {"json": json.loads(result.stdout), "text": text.stdout}


# ---------------------------------------------------------------- order under a small budget

LIMIT = 2  # retweets calls per 15 minutes (X's is 75): 9 one-page backfills need 5 windows
# after the backfill, five posts' retweet counters grow by 1..5 between two metrics polls
GROWTH = [("main", 0, 1), ("influencer", 0, 2), ("main", 1, 3), ("investor", 0, 4), ("investor", 1, 5)]
GROWN_AT = hours(2) + minutes(5)  # seen by the 2:30 metrics poll


def _order(b: ScenarioBuilder) -> None:
    b.campaign("Budget order", start="2025-03-03T12:00:00Z", days=0.25, threshold=10)
    b.rate_limit(RETWEETS, LIMIT)
    authors = b.accounts(3, "founder")
    posts = {}
    for c, category in enumerate(reversed(CATEGORIES)):  # investors' posts are the oldest (lowest ids)
        for i in range(3):
            post = posts[(category, i)] = b.post(category, author=authors[i], text=f"{category} {i}",
                                                 created=-hours(8) + minutes(10 * c + i), likes={hours(0): 5 + i})
            b.retweets(post, 3, between=(-hours(7), -hours(1)))
            if i == 0:
                b.replies(post, 1, between=(-hours(7), -hours(1)))
                b.quotes(post, 1, between=(-hours(7), -hours(1)))
    for category, i, n in GROWTH:
        b.retweets(posts[(category, i)], n, between=(GROWN_AT, GROWN_AT + minutes(15)))


ORDER = Scenario.from_function("t_budget_order", _order)


def _create_main_last(rt) -> int:
    """Main posts are added after the others, so their jobs have the highest ids: claiming in id or due-time
    order would backfill them last."""
    spec = ORDER.campaign_spec()
    campaign_id = create_campaign(rt, ORDER, main=[])
    with rt.x_client() as client:
        campaign_service.add_posts_by_url(rt.db, client, rt.clock, campaign_id=campaign_id,
                                          data=PostsInput(main=spec["main"]))
    with rt.db.session() as s:
        ids = {cat: [j for j, in s.execute(select(PollJob.id).join(CampaignTweet).where(
            CampaignTweet.category == cat, PollJob.kind == "retweets"))] for cat in CATEGORIES}
    assert min(ids["main"]) > max(ids["investor"]) and min(ids["main"]) > max(ids["influencer"])
    return campaign_id


def test_a_small_budget_serves_main_backfills_first_then_the_largest_growth_and_loses_nothing(start_simulator,
                                                                                             make_runtime):
    world, server, rt, log, category = _started(ORDER, start_simulator, make_runtime)
    campaign_id = _create_main_last(rt)
    start = world.start
    plans = []

    def on_tick(report):
        log.collect()
        with rt.db.session() as s:
            plans.append((report.now, service.api_budget(s, now=report.now).get(campaign_id)))

    drive(rt, memory_queue(rt), until=start + minutes(1), on_tick=on_tick)
    status = _status_json(rt)  # after the first window: 7 backfills wait for the budget
    drive(rt, memory_queue(rt), until=world.end + hours(1), on_tick=on_tick)
    log.collect()

    assert 429 not in log.statuses()
    retweets = [c for c in log.calls if c["endpoint"] == RETWEETS]
    per_window = Counter(_window(c, start) for c in retweets)
    assert max(per_window.values()) <= LIMIT

    # the backfill: one page per post, main posts first, then influencers', then investors', 5 windows
    backfill = [c for c in retweets if c["at"] < start + hours(2)]
    order = [category[_post_of(c)] for c in backfill]
    assert order == ["main"] * 3 + ["influencer"] * 3 + ["investor"] * 3, order
    assert sorted({_window(c, start) for c in backfill}) == list(range(math.ceil(9 / LIMIT)))

    # growth: the 2:30 poll saw five counters grow by 1..5; two calls a window, largest growth first
    posts_by = {(cat, i): p.id for cat in CATEGORIES
                for i, p in enumerate(p for p in world.campaign_posts() if p.category == cat)}
    grown = {posts_by[(cat, i)]: n for cat, i, n in GROWTH}
    delta = [c for c in retweets if c["at"] >= start + hours(2)]
    served = [(_window(c, start) - _window(delta[0], start), grown.get(_post_of(c))) for c in delta]
    assert served == [(0, 5), (0, 4), (1, 3), (1, 2), (2, 1)], served
    assert delta[0]["at"] == start + hours(2) + minutes(30)

    # status: right after the first window, the backlog needed more than a cycle's budget (2 × 2 calls)
    entry = next(c for c in status["json"]["campaigns"] if c["id"] == campaign_id)
    retweet_plan = entry["api_budget"]["endpoints"][RETWEETS]
    assert retweet_plan == {"needed": 7, "budget": 4, "capacity": 4}
    assert entry["api_budget"]["over_budget"] and entry["api_budget"]["cycles_to_clear"] == 2
    assert f"{entry['api_budget']['needed']}/{entry['api_budget']['budget']}" in status["text"]
    assert "over the rate-limit budget" in status["text"]
    # once the backlog is served, a cycle needs its metrics call and whatever grew: within the budget
    quiet = [plan for at, plan in plans if start + hours(1) + minutes(30) <= at < start + hours(2)]
    assert quiet and all(not p["over_budget"] and p["needed"] == p["budget"] == 1 for p in quiet)

    _assert_truth(rt, server, world, campaign_id)


# ---------------------------------------------------------------- a backfill bigger than one window

BIG_LIMIT = 6  # retweets and quotes calls per 15 minutes


def _large(b: ScenarioBuilder) -> None:
    b.campaign("Big backfill", start="2025-03-03T12:00:00Z", days=0.25, threshold=10)
    b.rate_limit(RETWEETS, BIG_LIMIT)
    b.rate_limit(QUOTES, BIG_LIMIT)
    authors = b.accounts(4, "founder")
    for i in range(12):
        post = b.post(CATEGORIES[i % 3], author=authors[i % 4], text=f"Post {i}", created=-hours(30) + minutes(i),
                      likes={hours(0): 100 + i})
        b.retweets(post, 150 + 12 * i, between=(-hours(29), -hours(1)))  # 2 or 3 pages each
        b.quotes(post, 20 + i, between=(-hours(29), -hours(1)))
        b.replies(post, 3, between=(-hours(29), -hours(1)))


LARGE = Scenario.from_function("t_budget_large_backfill", _large)


def test_a_backfill_bigger_than_a_window_finishes_within_the_windows_the_limit_allows(start_simulator,
                                                                                     make_runtime):
    world, server, rt, log, category = _started(LARGE, start_simulator, make_runtime)
    campaign_id = create_campaign(rt, LARGE)
    start = world.start
    done_at = []

    def on_tick(report):
        log.collect()
        with rt.db.session() as s:
            done, total = service.backfill_progress(s, campaign_id=campaign_id)
        if total and done == total and not done_at:
            done_at.append(report.now)

    drive(rt, memory_queue(rt), until=world.end + hours(1), on_tick=on_tick)
    log.collect()
    assert done_at and 429 not in log.statuses()

    lists = [c for c in log.calls if c["endpoint"] in (RETWEETS, QUOTES) and c["at"] <= done_at[0]]
    calls = Counter(c["endpoint"] for c in lists)
    bound = budgeting.windows_needed(calls, limits={RETWEETS: BIG_LIMIT, QUOTES: BIG_LIMIT})
    assert bound > 1, calls  # more than one window's worth: the budget decides how long it takes
    finished = max(c["at"] for c in lists) - start
    # the last page goes out in the bound's last window (every window's budget spent), so the backfill
    # takes at most bound × 15 min (1.0×; the goal is 1.1×)
    windows_used = {(c["endpoint"], _window(c, start)) for c in lists}
    assert max(w for _, w in windows_used) + 1 == bound, sorted(windows_used)
    assert finished <= 1.1 * bound * WINDOW
    for endpoint in (RETWEETS, QUOTES):
        per_window = Counter(_window(c, start) for c in lists if c["endpoint"] == endpoint)
        assert max(per_window.values()) <= BIG_LIMIT
        # main posts' backfills first, then influencers', then investors'
        ranks = [CATEGORIES.index(category[_post_of(c)]) for c in lists if c["endpoint"] == endpoint]
        assert ranks == sorted(ranks), (endpoint, ranks)
    print(f"\nbackfill: {dict(calls)} calls at {BIG_LIMIT}/15 min → bound {bound} windows "
          f"({bound * WINDOW}); finished {finished} after the start = {finished / (bound * WINDOW):.2f}× the bound")
    _assert_truth(rt, server, world, campaign_id)
