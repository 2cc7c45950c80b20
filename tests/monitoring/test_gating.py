"""Count gating of a whole metrics batch at once: each engagement job's reason (backfill, grew, reconcile or
none), and the stored-engagement count read only for the posts at a reconcile point, in one query."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from socap.monitoring import gating
from socap.monitoring.engine import drive
from socap.monitoring.models import Engagement, PollJob
from socap.simulator import load_scenario
from socap.x import TweetMetrics

from .support import create_campaign, memory_queue, selects

DAY = timedelta(hours=24)


def test_a_batch_is_gated_in_two_queries_and_counts_only_posts_at_a_reconcile_point(start_simulator, make_runtime):
    scenario = load_scenario("1")
    server = start_simulator(scenario)
    rt = make_runtime(server)
    campaign_id = create_campaign(rt, scenario)
    drive(rt, memory_queue(rt), until=server.clock.now() + timedelta(hours=2))  # backfills done, deltas since
    now = rt.clock.now()
    with rt.db.write() as s:
        jobs = s.scalars(select(PollJob).where(PollJob.campaign_id == campaign_id, PollJob.kind != "metrics")
                         .order_by(PollJob.campaign_tweet_id, PollJob.kind)).all()
        assert jobs and all(j.backfill_done and j.last_count is not None and j.lease_owner is None for j in jobs)
        stored = dict(((p, a), n) for p, a, n in s.execute(
            select(Engagement.campaign_tweet_id, Engagement.action, func.count())
            .where(Engagement.campaign_id == campaign_id).group_by(Engagement.campaign_tweet_id, Engagement.action)))
        by_post: dict[int, dict[str, PollJob]] = {}
        for job in jobs:
            by_post.setdefault(job.campaign_tweet_id, {})[job.kind] = job
            job.next_reconcile_at = now + DAY  # nobody at a reconcile point ...
            job.last_count = stored.get((job.campaign_tweet_id, gating.ACTION[job.kind]), 0)
        posts = sorted(by_post)
        assert len(posts) >= 3
        complete, missing, grown = posts[:3]
        # ... but these two: one holds all X counts, the other lacks one
        by_post[complete]["retweets"].next_reconcile_at = now - timedelta(minutes=1)
        by_post[missing]["replies"].next_reconcile_at = now - DAY - timedelta(minutes=1)
        by_post[missing]["replies"].last_count += 1
        # and a backfill left unfinished
        by_post[grown]["quotes"].backfill_done = False

    def counters(post: int, **more: int) -> TweetMetrics:
        kinds = by_post[post]
        values = {gating.COUNTER_FOR[k]: kinds[k].last_count for k in ("retweets", "replies", "quotes")}
        for name, extra in more.items():
            values[name] += extra
        return TweetMetrics(like_count=0, **values)

    metrics = {post: counters(post) for post in posts}
    metrics[grown] = counters(grown, retweet_count=2)
    with rt.db.write() as s:
        with selects(rt.db) as seen:
            decisions = gating.schedule_engagement_jobs(s, metrics, now=now, reconcile_interval=DAY)
        assert len(seen) == 2, seen  # the jobs, then the counts
        assert "count(" in seen[1].lower()
        held = {j.id: j for j in s.scalars(select(PollJob).where(PollJob.campaign_id == campaign_id))}
        after = {(j.campaign_tweet_id, j.kind): j for j in held.values()}

    assert decisions[complete]["retweets"] is None
    assert decisions[missing]["replies"] == "reconcile"
    assert decisions[grown] == {"retweets": "grew", "replies": None, "quotes": "backfill"}
    others = [(p, k) for p in posts for k in decisions[p] if (p, k) not in
              {(complete, "retweets"), (missing, "replies"), (grown, "retweets"), (grown, "quotes")}]
    assert others and all(decisions[p][k] is None for p, k in others)
    # nothing missing: the pass is skipped until the next grid point, and the job waits for a metrics poll
    skipped = after[(complete, "retweets")]
    assert skipped.next_reconcile_at == now - timedelta(minutes=1) + DAY and skipped.next_run_at is None
    # a reconcile is a fresh backfill, due now
    again = after[(missing, "replies")]
    assert not again.backfill_done and again.backfill_cursor is None and again.next_run_at == now
    assert after[(grown, "retweets")].next_run_at == now and after[(grown, "retweets")].observed_count == \
        after[(grown, "retweets")].last_count + 2
    assert all(after[key].next_run_at is None for key in others)

    # with no post at a reconcile point, one query: no count at all
    for post in (complete, missing):
        metrics.pop(post)
    with rt.db.write() as s, selects(rt.db) as seen:
        decisions = gating.schedule_engagement_jobs(s, metrics, now=now, reconcile_interval=DAY)
    assert len(seen) == 1, seen
    assert set(decisions) == set(metrics) and decisions[grown]["retweets"] == "grew"
