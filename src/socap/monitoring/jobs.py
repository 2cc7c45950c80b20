"""Poll-job bookkeeping shared by the pollers: leases, outcomes, failures, app-wide pause.

A job is only ever written by the holder of its lease: every write checks ``lease_owner`` in its WHERE
clause, so a worker whose lease expired (and was reclaimed by another) cannot write stale state.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from socap.campaigns.models import Campaign, CampaignTweet
from socap.db import upsert
from socap.monitoring.models import AppState, PollJob
from socap.x import AuthError, CreditsDepleted, NotFound, RateLimited, UsageCapExceeded, XAPIError

log = logging.getLogger("socap.monitoring")

POLLING_PAUSE_KEY = "polling_paused"
CREDITS_RETRY = timedelta(hours=1)
AUTH_RETRY = timedelta(minutes=30)


class LeaseLost(Exception):
    """Another worker holds this job now (our lease expired); drop our unwritten work."""


def extend_lease(session: Session, job_ids: Sequence[int], *, owner: str, until: datetime) -> None:
    """Every worker write transaction starts here. On PostgreSQL it first locks the jobs' campaign rows (in
    id order): each such transaction bumps its campaign's data version later on, after locking jobs,
    accounts, engagements and its run, so without this two workers of one campaign each hold what the other
    needs next and deadlock. With it they all take the campaign first and queue there. FOR NO KEY UPDATE (the
    lock the data-version bump takes anyway), not FOR UPDATE: a tick that claimed jobs and then inserts the
    cycle's run needs a KEY SHARE lock on the campaign for the foreign key, and must not wait for a worker
    that waits for one of those jobs."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Campaign.id).where(Campaign.id.in_(
            select(PollJob.campaign_id).where(PollJob.id.in_(job_ids)))).order_by(Campaign.id)
            .with_for_update(key_share=True))
    result = session.execute(update(PollJob).where(PollJob.id.in_(job_ids), PollJob.lease_owner == owner)
                             .values(lease_expires_at=until))
    if result.rowcount != len(set(job_ids)):
        raise LeaseLost(f"lease on jobs {list(job_ids)} was lost")


def owned_jobs(session: Session, job_ids: Sequence[int], *, owner: str) -> list[PollJob]:
    return list(session.scalars(select(PollJob).where(PollJob.id.in_(job_ids), PollJob.lease_owner == owner)
                                .order_by(PollJob.id)))


def release(job: PollJob) -> None:
    job.lease_owner = None
    job.lease_expires_at = None


def succeed(job: PollJob, *, now: datetime, next_run_at: datetime | None) -> None:
    job.last_success_at = now
    job.run_count = (job.run_count or 0) + 1
    job.last_error = None
    job.consecutive_failures = 0
    job.blocked_until = None
    job.next_run_at = next_run_at
    release(job)


def next_cycle(job: PollJob, *, now: datetime, interval: timedelta, origin: datetime | None = None) -> datetime:
    """Keep the campaign's cycle grid (no drift): the first grid point after now.

    The grid is ``origin + k × interval`` (the campaign's start), so a run that was retried a few minutes
    late (after a 5xx, say) goes back on the grid instead of shifting every later cycle by the delay.
    """
    if job.next_run_at is not None and job.next_run_at > now:
        return job.next_run_at
    base = origin if origin is not None and origin <= now else (job.next_run_at or now)
    steps = int((now - base) / interval) + 1
    return base + steps * interval


def set_polling_pause(session: Session, *, reason: str, now: datetime, retry_at: datetime) -> None:
    # workers refused at the same moment all get here: the first pause ever inserts the row, the others must
    # not fail on it (their transaction records the job's failure), so insert-if-absent, then update it locked
    upsert(session, AppState, [{"key": POLLING_PAUSE_KEY, "value": {}, "updated_at": now}], index_elements=["key"],
           update_columns=[])
    state = session.get(AppState, POLLING_PAUSE_KEY, with_for_update=True, populate_existing=True)
    value = {"reason": reason, "since": now.isoformat(), "retry_at": retry_at.isoformat()}
    if state.value:
        value["since"] = state.value.get("since", value["since"])
    state.value = value
    state.updated_at = now


def polling_pause(session: Session) -> dict | None:
    state = session.get(AppState, POLLING_PAUSE_KEY)
    return state.value if state is not None and state.value else None


def clear_polling_pause(session: Session, *, now: datetime) -> bool:
    state = session.get(AppState, POLLING_PAUSE_KEY)
    if state is None or not state.value:
        return False
    state.value = {}
    state.updated_at = now
    return True


def _first_of_next_month(now: datetime) -> datetime:
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return now.replace(year=year, month=month, day=1, hour=0, minute=0, second=0, microsecond=0)


def mark_unavailable(session: Session, tweet_id: int, *, reason: str, now: datetime) -> None:
    """Deleted, protected or suspended: keep the history, stop polling."""
    tweet = session.get(CampaignTweet, tweet_id)
    if tweet is not None and tweet.unavailable_reason is None:
        tweet.unavailable_reason = reason[:300]
        tweet.unavailable_since = now
    session.execute(update(PollJob).where(PollJob.campaign_tweet_id == tweet_id)
                    .values(enabled=False, next_run_at=None))


def fail(session: Session, jobs: Sequence[PollJob], exc: BaseException, *, now: datetime,
         interval: timedelta) -> str:
    """Record a failure on the jobs (cursor, watermark and baseline untouched) and release them.

    Returns a one-line description for the run's error summary.
    """
    message = f"{type(exc).__name__}: {exc}"[:1000]
    for job in jobs:
        job.last_error = message
        job.failure_count = (job.failure_count or 0) + 1
        release(job)
        if isinstance(exc, RateLimited):
            # a 429 blocks only these jobs until X's reset; the job stays due and resumes where it stopped
            job.blocked_until = exc.reset_at or now + timedelta(minutes=15)
        elif isinstance(exc, UsageCapExceeded | CreditsDepleted | AuthError):
            pass  # app-wide pause below; the job itself is fine
        elif isinstance(exc, NotFound):
            mark_unavailable(session, job.campaign_tweet_id, reason=f"X: {exc}", now=now)
        else:
            job.consecutive_failures += 1
            backoff = min(interval, timedelta(minutes=2 ** min(job.consecutive_failures, 10)))
            job.next_run_at = now + backoff
    if isinstance(exc, UsageCapExceeded):
        set_polling_pause(session, reason=f"X usage cap reached: {exc}", now=now, retry_at=_first_of_next_month(now))
    elif isinstance(exc, CreditsDepleted):
        set_polling_pause(session, reason=f"X credits depleted: {exc}", now=now, retry_at=now + CREDITS_RETRY)
    elif isinstance(exc, AuthError):
        set_polling_pause(session, reason=f"X refused our credentials: {exc}", now=now, retry_at=now + AUTH_RETRY)
    if not isinstance(exc, XAPIError):
        log.exception("poll job %s failed", [j.id for j in jobs], exc_info=exc)
    return f"{[j.kind for j in jobs][0] if jobs else 'job'} {[j.id for j in jobs]}: {message[:200]}"
