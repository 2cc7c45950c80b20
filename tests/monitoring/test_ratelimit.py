"""Rate limits (spec scenario 7 and DESIGN §5.6): a 429 blocks only the job concerned, the shared budget keeps
a backfill from ever hitting X's 429, and the per-run accounting matches what the simulator counted."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import httpx
from sqlalchemy import func, select

from socap.campaigns.models import Campaign, CampaignTweet
from socap.monitoring.engine import drive
from socap.monitoring.models import MetricSnapshot, PollJob, Run
from socap.simulator import FaultProfile, Scenario, ScriptedFault, hours, minutes
from socap.simulator.builder import ScenarioBuilder

from .calllog import LOOKUP, RETWEETS, CallLog
from .support import capturable, create_campaign, latest_metrics, memory_queue, stored_engagements, truth, usage

POSTS = 20
VICTIM = 13  # the post whose metrics request X refuses
# X's plain 429 body without `"type": "about:blank"`: the simulator then leaves the real (unspent) window in
# the x-rate-limit-* headers, i.e. X refuses this one request while the endpoint still has budget left
REFUSAL = {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429}


def _twenty(b: ScenarioBuilder) -> None:
    b.campaign("Scenario 7", start="2025-03-03T12:00:00Z", days=0.5, threshold=10)
    authors = b.accounts(4, "founder")
    posts = [b.post(("main", "influencer", "investor")[i % 3], author=authors[i % 4], text=f"Post {i}",
                    created=-hours(3) + minutes(i), likes={hours(0): 10 + i, hours(12): 300 + 7 * i})
             for i in range(POSTS)]
    for i, post in enumerate(posts):
        b.retweets(post, 3 + i % 4, between=(-hours(2), hours(10)))
        b.replies(post, 2 + i % 3, between=(-hours(2), hours(10)))
        b.quotes(post, 1 + i % 2, between=(-hours(1), hours(10)))
    # engagements on the victim just before the refused poll: found only once its metrics poll runs again
    b.retweets(posts[VICTIM], 5, between=(hours(1) + minutes(35), hours(1) + minutes(55)))
    b.replies(posts[VICTIM], 3, between=(hours(1) + minutes(35), hours(1) + minutes(55)))


TWENTY = Scenario.from_function("t_ratelimit_scenario7", _twenty)


def _snapshots(rt, tweet_id: str) -> list[MetricSnapshot]:
    with rt.db.session() as s:
        return list(s.scalars(select(MetricSnapshot).join(CampaignTweet)
                              .where(CampaignTweet.tweet_id == int(tweet_id)).order_by(MetricSnapshot.id)))


def _snapshot_posts_at(rt, at) -> set[str]:
    with rt.db.session() as s:
        return {str(t) for t in s.scalars(select(CampaignTweet.tweet_id).join(MetricSnapshot)
                                          .where(MetricSnapshot.taken_at == at))}


def _metrics_job(rt, tweet_id: str) -> PollJob:
    with rt.db.session() as s:
        return s.scalar(select(PollJob).join(CampaignTweet, CampaignTweet.id == PollJob.campaign_tweet_id)
                        .where(CampaignTweet.tweet_id == int(tweet_id), PollJob.kind == "metrics"))


def _fields(snapshot: MetricSnapshot) -> dict:
    return {"like_count": snapshot.like_count, "retweet_count": snapshot.retweet_count,
            "reply_count": snapshot.reply_count, "quote_count": snapshot.quote_count,
            "impression_count": snapshot.impression_count, "bookmark_count": snapshot.bookmark_count}


def _assert_exact(rt, server, world, campaign_id) -> None:
    with rt.db.session() as s:
        assert s.get(Campaign, campaign_id).status == "completed"
    expected = truth(server, at=world.end)
    stored = stored_engagements(rt, campaign_id)
    assert len(stored) == len(set(stored)), "an engagement was stored twice"
    assert set(stored) == capturable(expected)
    final = latest_metrics(rt, campaign_id)
    assert {p["id"]: p["public_metrics"] for p in expected["posts"]} == final


def test_a_one_shot_429_on_a_metrics_batch_is_split_and_every_post_keeps_its_snapshot(start_simulator,
                                                                                    make_runtime):
    world = TWENTY.build_world()
    server = start_simulator(world)
    rt = make_runtime(server)
    campaign_id = create_campaign(rt, TWENTY)
    log = CallLog(server)
    victim = world.campaign_posts()[VICTIM].id
    refused_at = world.start + hours(2)
    drive(rt, memory_queue(rt), until=refused_at - minutes(1), on_tick=log.collect)

    server.sim.add_fault(ScriptedFault(endpoint=LOOKUP, contains=victim, status=429, body=REFUSAL, times=1))
    drive(rt, memory_queue(rt), until=refused_at + minutes(1), on_tick=log.collect)

    lookups = log.between(refused_at, refused_at + minutes(1), LOOKUP)
    assert [c["status"] for c in lookups].count(429) == 1
    assert len(lookups) == 3, [c["status"] for c in lookups]  # the refused batch, then its two halves
    # every post, the victim included, got its snapshot in this cycle, equal to X at that instant
    assert _snapshot_posts_at(rt, refused_at) == {p.id for p in world.campaign_posts()}
    assert _metrics_job(rt, victim).blocked_until is None
    now_truth = {p["id"]: p["public_metrics"] for p in truth(server, at=refused_at)["posts"]}
    assert _fields(_snapshots(rt, victim)[-1]) == now_truth[victim]

    drive(rt, memory_queue(rt), until=world.end + hours(2), on_tick=log.collect)
    _assert_exact(rt, server, world, campaign_id)


def test_a_429_for_one_post_blocks_only_its_job_and_the_next_run_resumes_from_the_baseline(start_simulator,
                                                                                         make_runtime):
    world = TWENTY.build_world()
    server = start_simulator(world)
    rt = make_runtime(server)
    campaign_id = create_campaign(rt, TWENTY)
    log = CallLog(server)
    posts = [p.id for p in world.campaign_posts()]
    victim = posts[VICTIM]
    refused_at = world.start + hours(2)
    drive(rt, memory_queue(rt), until=refused_at - minutes(1), on_tick=log.collect)
    baseline = _fields(_snapshots(rt, victim)[0])
    snapshots_before = len(_snapshots(rt, victim))

    # X refuses every request naming the victim during this cycle
    server.sim.add_fault(ScriptedFault(endpoint=LOOKUP, contains=victim, status=429, body=REFUSAL, times=50))
    drive(rt, memory_queue(rt), until=refused_at + minutes(1), on_tick=log.collect)
    server.sim.set_faults(FaultProfile())

    refused = [c for c in log.between(refused_at, refused_at + minutes(1), LOOKUP) if c["status"] == 429]
    assert refused and all(victim in c["url"] for c in refused)
    # the other 19 posts have this cycle's snapshot; the victim has none, and only its job is blocked
    assert _snapshot_posts_at(rt, refused_at) == set(posts) - {victim}
    blocked = _metrics_job(rt, victim).blocked_until
    assert blocked is not None and refused_at < blocked <= refused_at + minutes(15)
    with rt.db.session() as s:
        others = s.scalar(select(func.count()).select_from(PollJob).where(PollJob.id != _metrics_job(rt, victim).id,
                                                                           PollJob.blocked_until.is_not(None)))
    assert others == 0
    assert len(_snapshots(rt, victim)) == snapshots_before  # nothing lost, nothing half-written
    # the victim's engagement jobs wait for its metrics poll: what arrived since its last poll is not stored yet
    late_engagements = ({e for e in capturable(truth(server, at=refused_at)) if e[0] == victim}
                        - {e for e in capturable(truth(server, at=refused_at - minutes(30))) if e[0] == victim})
    assert not late_engagements & set(stored_engagements(rt, campaign_id))
    # no call for the victim until X's reset
    drive(rt, memory_queue(rt), until=blocked - minutes(1), on_tick=log.collect)
    assert not [c for c in log.between(refused_at + minutes(1), blocked) if victim in c["url"]]

    # the rate limit clears: the victim is polled again (in the same cycle), then joins the regular grid
    drive(rt, memory_queue(rt), until=refused_at + minutes(31), on_tick=log.collect)
    victim_snaps = _snapshots(rt, victim)
    assert [s.taken_at for s in victim_snaps[-2:]] == [blocked, refused_at + minutes(30)]
    at_blocked = {p["id"]: p["public_metrics"] for p in truth(server, at=blocked)["posts"]}
    assert _fields(victim_snaps[-2]) == at_blocked[victim]
    # its engagement jobs waited for that poll, then caught up (the retweets and replies of H1:35–H1:55)
    stored = {e for e in stored_engagements(rt, campaign_id) if e[0] == victim}
    assert {e for e in capturable(truth(server, at=blocked)) if e[0] == victim} <= stored
    assert late_engagements and late_engagements <= stored

    drive(rt, memory_queue(rt), until=world.end + hours(2), on_tick=log.collect)
    victim_snaps = _snapshots(rt, victim)
    assert _fields(victim_snaps[0]) == baseline  # the baseline is kept: delta = final − baseline is exact
    expected = truth(server, at=world.end)
    final = next(p["public_metrics"] for p in expected["posts"] if p["id"] == victim)
    start_truth = next(p["public_metrics"] for p in truth(server, at=world.start)["posts"] if p["id"] == victim)
    assert {k: _fields(victim_snaps[-1])[k] - baseline[k] for k in baseline} == \
        {k: final[k] - start_truth[k] for k in final}
    assert 429 not in Counter(c["status"] for c in log.calls if c["at"] > refused_at + minutes(1))
    _assert_exact(rt, server, world, campaign_id)


# ---------------------------------------------------------------- the shared budget and the accounting

MANY = 30


def _low_limit(b: ScenarioBuilder) -> None:
    b.campaign("Low limit", start="2025-03-03T12:00:00Z", days=0.5, threshold=10)
    b.rate_limit(RETWEETS, 5)
    authors = b.accounts(3, "media")
    posts = [b.post("main", author=authors[i % 3], text=f"Post {i}", created=-hours(4), likes={hours(0): i})
             for i in range(MANY)]
    for i, post in enumerate(posts):
        b.retweets(post, 1 + i % 5, between=(-hours(3), -minutes(10)))
        b.retweets(post, i % 3, between=(hours(2), hours(8)))
        b.replies(post, i % 2, between=(-hours(3), hours(8)))
        b.quotes(post, int(i % 4 == 0), between=(-hours(3), hours(8)))
    b.retweets(posts[0], 230, between=(-hours(3), -minutes(10)))  # one post needs 3 pages


LOW_LIMIT = Scenario.from_function("t_ratelimit_low_limit", _low_limit)


def test_a_backfill_under_a_low_limit_waits_for_resets_and_never_gets_a_429(start_simulator, make_runtime):
    world = LOW_LIMIT.build_world()
    server = start_simulator(world)
    rt = make_runtime(server)
    campaign_id = create_campaign(rt, LOW_LIMIT)
    httpx.post(server.url + "/_sim/usage/reset", timeout=10)  # count only what the engine does
    log = CallLog(server)
    start = world.start
    blocked_seen: list[tuple] = []

    def on_tick(report):
        log.collect()
        with rt.db.session() as s:
            blocked_seen.extend(s.execute(select(PollJob.id, PollJob.blocked_until).where(
                PollJob.kind == "retweets", PollJob.blocked_until > report.now)).all())

    drive(rt, memory_queue(rt), until=world.end + hours(2), on_tick=on_tick)

    assert 429 not in log.statuses()
    retweet_calls = [c for c in log.calls if c["endpoint"] == RETWEETS]
    windows = Counter(int((c["at"] - start) / timedelta(minutes=15)) for c in retweet_calls)
    assert max(windows.values()) <= 5
    # 32+ backfill pages at 5 per 15 minutes: the backfill waited for X's resets — jobs the budget could not
    # take stayed due (budget-aware claim), a job whose pages outran it was blocked until the reset — and
    # went on in each new window
    assert set(range(7)) <= set(windows)  # the backfill spent 7 windows' budgets
    resets = {until - start for _, until in blocked_seen}
    assert all(r % timedelta(minutes=15) == timedelta(0) for r in resets)  # blocked only until X's reset
    backfill_end = max(c["at"] for c in retweet_calls if c["at"] < start + hours(2))
    assert backfill_end >= start + minutes(75)  # ≥ 6 windows of 5 calls
    with rt.db.session() as s:
        assert s.get(Campaign, campaign_id).status == "completed"
        assert s.scalar(select(func.count()).select_from(PollJob).where(PollJob.backfill_done.is_(False))) == 0
    expected = truth(server, at=world.end)
    stored = stored_engagements(rt, campaign_id)
    assert len(stored) == len(set(stored)) and set(stored) == capturable(expected)

    # the per-run accounting adds up to what the simulator counted and billed
    sim = usage(server)
    with rt.db.session() as s:
        runs = s.scalars(select(Run).where(Run.campaign_id == campaign_id)).all()
    assert sum(r.calls for r in runs) == sim["total_calls"] == len(log.calls)
    by_endpoint: Counter = Counter()
    for r in runs:
        by_endpoint.update(r.calls_by_endpoint or {})
    assert dict(by_endpoint) == {e: v["calls"] for e, v in sim["endpoints"].items()}
    assert sum(r.billable_posts for r in runs) == sim["billable"]["posts"]
    assert sum(r.billable_users for r in runs) == sim["billable"]["users"]
    assert sum((r.cost_usd for r in runs), Decimal(0)) == Decimal(str(sim["cost_usd"]))
    assert sum(r.new_engagements for r in runs) == len(stored)
    assert sim["billable"]["posts"] > 0 and sim["billable"]["users"] > 0
