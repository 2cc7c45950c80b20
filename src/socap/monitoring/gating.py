"""Count gating: a post's retweets / replies / quotes job runs only when it has reason to.

After each metrics poll, every engagement job of the post is either made due now — its counter grew since
the job last succeeded, its backfill is unfinished, or its reconcile pass is due — or left waiting
(``next_run_at`` NULL) for the next metrics poll. A quiet 500-post campaign thus costs the 5 batched
metrics calls per cycle, not ~2,000 list calls.

Reconcile passes (a full re-check of the list) happen on a grid spread by post over the reconcile interval:
post k's passes fall at ``starts_at + (k mod n) × poll_interval + j × reconcile_interval``, where n is the
number of polls per reconcile interval, so only about 1/n of the posts reconcile in any one cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from socap.monitoring.models import Engagement, PollJob
from socap.x import TweetMetrics

COUNTER_FOR = {"retweets": "retweet_count", "replies": "reply_count", "quotes": "quote_count"}
ACTION = {"retweets": "retweet", "replies": "reply", "quotes": "quote"}


def counter(metrics: TweetMetrics, kind: str) -> int:
    return int(getattr(metrics, COUNTER_FOR[kind]))


def first_reconcile_at(*, tweet_row_id: int, campaign_start: datetime, done_at: datetime,
                       poll_interval: timedelta, reconcile_interval: timedelta) -> datetime:
    """The first grid instant at least half a reconcile interval after ``done_at``."""
    slots = max(1, int(reconcile_interval / poll_interval))
    instant = campaign_start + (tweet_row_id % slots) * poll_interval
    earliest = done_at + reconcile_interval / 2
    if instant < earliest:
        instant += ((earliest - instant) // reconcile_interval + 1) * reconcile_interval
    return instant


def advance_reconcile(current: datetime, *, now: datetime, reconcile_interval: timedelta) -> datetime:
    """The next instant of the same grid after ``now``."""
    if current > now:
        return current
    return current + ((now - current) // reconcile_interval + 1) * reconcile_interval


def due_reason(job: PollJob, observed: int, now: datetime, stored: int,
               reconcile_interval: timedelta = timedelta(hours=24)) -> str | None:
    """Why the job runs now, or None. ``stored``: how many of the job's engagements SOCAP holds (read only at
    a reconcile point, :func:`at_reconcile_point`)."""
    if not job.backfill_done:
        return "backfill"
    if job.last_count is None or observed > job.last_count:
        return "grew"
    if at_reconcile_point(job, observed, now):
        # a reconcile re-downloads the whole list (and X bills it again): only worth it when X counts more
        # than we hold; with nothing possibly missing, the pass is skipped until the next grid point
        if stored < observed:
            return "reconcile"
        job.next_reconcile_at = advance_reconcile(job.next_reconcile_at, now=now,
                                                  reconcile_interval=reconcile_interval)
    return None


def at_reconcile_point(job: PollJob, observed: int, now: datetime) -> bool:
    """Whether the job's reconcile pass is due and nothing else makes it run: then, and only then,
    :func:`due_reason` needs the count of stored engagements."""
    return (job.backfill_done and job.last_count is not None and observed <= job.last_count
            and job.next_reconcile_at is not None and job.next_reconcile_at <= now)


def schedule_engagement_jobs(session: Session, metrics: Mapping[int, TweetMetrics], *, now: datetime,
                             reconcile_interval: timedelta) -> dict[int, dict[str, str | None]]:
    """Decide, after a metrics poll of these posts (campaign_tweet id → counters), which of their engagement
    jobs run now. Returns post → kind → reason. Two queries for the whole batch: the jobs, and the stored
    engagement counts of the posts at a reconcile point (usually none)."""
    decisions: dict[int, dict[str, str | None]] = {post: {} for post in metrics}
    if not metrics:
        return decisions
    jobs = session.scalars(select(PollJob).where(PollJob.campaign_tweet_id.in_(list(metrics)),
                                                 PollJob.kind != "metrics", PollJob.enabled.is_(True))
                           .order_by(PollJob.id)).all()
    observed = {job.id: counter(metrics[job.campaign_tweet_id], job.kind) for job in jobs}
    counted = sorted({job.campaign_tweet_id for job in jobs if at_reconcile_point(job, observed[job.id], now)})
    stored: dict[tuple[int, str], int] = {}
    if counted:
        stored = {(post, action): n for post, action, n in session.execute(
            select(Engagement.campaign_tweet_id, Engagement.action, func.count())
            .where(Engagement.campaign_tweet_id.in_(counted))
            .group_by(Engagement.campaign_tweet_id, Engagement.action))}
    for job in jobs:
        post, seen = job.campaign_tweet_id, observed[job.id]
        job.observed_count = seen
        reason = due_reason(job, seen, now, stored.get((post, ACTION[job.kind]), 0), reconcile_interval)
        decisions[post][job.kind] = reason
        if reason == "reconcile":
            # a reconcile pass is a fresh backfill over the whole list (resumable like the first one)
            job.backfill_done = False
            job.backfill_cursor = None
            job.backfill_newest = None
        if reason is not None:
            if job.next_run_at is None or job.next_run_at > now:
                job.next_run_at = now
        elif job.lease_owner is None:
            job.next_run_at = None
    return decisions
