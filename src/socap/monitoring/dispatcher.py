"""The dispatcher tick (any number of schedulers may run it at once).

Each tick: move campaigns through their lifecycle (scheduled → active; at the window's end a final run,
then completed), then claim due poll jobs with a lease — ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a
``BEGIN IMMEDIATE`` write transaction on SQLite — and hand them to the queue, one task per job, per batch
of up to 100 metrics jobs, or per OR-query of replies jobs. Only as much due work is claimed as the
endpoints' rate-limit budgets allow, the most valuable first (socap.monitoring.budgeting); the rest stays
due for a later tick. The database is the source of truth: a lost
queue message costs one lease expiry, never data.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from socap.campaigns.models import Campaign, CampaignTweet
from socap.clock import Clock
from socap.db import Database
from socap.monitoring import budgeting, jobs, pollers
from socap.monitoring.models import PollJob, Run

log = logging.getLogger("socap.dispatcher")

METRICS_BATCH = 100
FINAL_GRACE = timedelta(hours=1)  # how long completion waits for blocked / failing jobs of the final run
CLAIM_LIMIT = 2000
CANDIDATES_PER_CLAIM = 10  # due jobs weighed per claimed one: the budget picks the most valuable among them

# hooks(session, campaign, now) run in the transaction that completes a campaign
COMPLETION_HOOKS: list[Callable[[Session, Campaign, datetime], None]] = []


@dataclass(frozen=True)
class TaskMessage:
    kind: str
    job_ids: tuple[int, ...]
    run_id: int | None
    owner: str
    campaign_id: int | None = None  # for the worker's log lines (socap.logs)


@dataclass
class TickReport:
    now: datetime
    paused: str | None = None
    activated: list[int] = field(default_factory=list)
    final_runs: list[int] = field(default_factory=list)
    completed: list[int] = field(default_factory=list)
    messages: list[TaskMessage] = field(default_factory=list)


def _for_update(session: Session, query):
    return query.with_for_update(skip_locked=True) if session.get_bind().dialect.name == "postgresql" else query


# Completion waits for the final run's work: healthy jobs (due or running, neither blocked nor failing: a large
# campaign's last passes can need several rate-limit windows, and busy workers are no reason to drop them) up
# to FINAL_MAX_WAIT; blocked or failing ones up to FINAL_GRACE.
FINAL_MAX_WAIT = timedelta(hours=24)


def _final_run_waits(session: Session, campaign_id: int, *, now: datetime, waited: timedelta) -> bool:
    if waited >= FINAL_MAX_WAIT:
        return False
    due = and_(PollJob.next_run_at.is_not(None), PollJob.consecutive_failures == 0,
               or_(PollJob.blocked_until.is_(None), PollJob.blocked_until <= now))
    running = and_(PollJob.lease_owner.is_not(None), PollJob.lease_expires_at > now)
    healthy = session.scalar(select(PollJob.id).where(PollJob.campaign_id == campaign_id, PollJob.enabled.is_(True),
                                                      or_(due, running)).limit(1))
    return healthy is not None or waited < FINAL_GRACE


def _lifecycle(session: Session, now: datetime, report: TickReport) -> None:
    for campaign in session.scalars(_for_update(session, select(Campaign).where(
            Campaign.status == "scheduled", Campaign.starts_at <= now))):
        campaign.status = "active"
        report.activated.append(campaign.id)

    ended = session.scalars(_for_update(session, select(Campaign).where(
        Campaign.status == "active", Campaign.ends_at <= now))).all()
    for campaign in ended:
        final = session.scalar(select(Run).where(Run.campaign_id == campaign.id, Run.kind == "final"))
        if final is None:
            # the final poll: every metrics job runs now; engagement jobs follow through count gating
            session.add(Run(campaign_id=campaign.id, kind="final", started_at=now))
            session.execute(update(PollJob).where(PollJob.campaign_id == campaign.id, PollJob.kind == "metrics",
                                                  PollJob.enabled.is_(True)).values(next_run_at=now))
            report.final_runs.append(campaign.id)
            continue
        pending = session.scalar(select(PollJob.id).where(
            PollJob.campaign_id == campaign.id, PollJob.enabled.is_(True),
            or_(PollJob.next_run_at.is_not(None),
                and_(PollJob.lease_owner.is_not(None), PollJob.lease_expires_at > now))).limit(1))
        if pending is not None and _final_run_waits(session, campaign.id, now=now, waited=now - final.started_at):
            continue
        if pending is not None:
            note = "completed with jobs still blocked or failing after the final-run grace period"
            final.error_summary = "; ".join(filter(None, [final.error_summary, note]))
        complete(session, campaign, now=now)
        report.completed.append(campaign.id)


def complete(session: Session, campaign: Campaign, *, now: datetime) -> None:
    campaign.status = "completed"
    campaign.completed_at = now
    session.execute(update(PollJob).where(PollJob.campaign_id == campaign.id)
                    .values(enabled=False, next_run_at=None, lease_owner=None, lease_expires_at=None))
    final = session.scalar(select(Run).where(Run.campaign_id == campaign.id, Run.kind == "final"))
    if final is not None and final.finished_at is None:
        final.finished_at = now
    for hook in COMPLETION_HOOKS:
        hook(session, campaign, now)


def _claim(session: Session, now: datetime, owner: str, lease: timedelta, limit: int,
           limits: Mapping[str, int] | None) -> tuple[list[PollJob], dict[int, tuple]]:
    """Lease the due jobs the rate-limit budget lets run now, most valuable first (socap.monitoring.budgeting).

    Returns the claimed jobs and each one's rank. Jobs that do not fit stay due, untouched, for a later tick.
    """
    available = budgeting.available_now(session, now=now, limits=limits)  # locks the budget rows first
    query = (select(PollJob, CampaignTweet.category)
             .join(Campaign, Campaign.id == PollJob.campaign_id)
             .join(CampaignTweet, CampaignTweet.id == PollJob.campaign_tweet_id)
             .where(PollJob.enabled.is_(True), PollJob.next_run_at <= now,
                    or_(PollJob.blocked_until.is_(None), PollJob.blocked_until <= now),
                    or_(PollJob.lease_expires_at.is_(None), PollJob.lease_expires_at <= now),
                    Campaign.status == "active", CampaignTweet.unavailable_reason.is_(None))
             .order_by(PollJob.next_run_at, PollJob.id).limit(limit * CANDIDATES_PER_CLAIM))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=PollJob)
    rows = _after_first_metrics(session, session.execute(query).all(), now=now)
    jobs_by_id = {job.id: job for job, _ in rows}
    granted = budgeting.allocate(budgeting.demands(session, rows), available)[:limit]
    claimed = [jobs_by_id[demand.job_id] for demand, _ in granted]
    for job in claimed:
        job.lease_owner = owner
        job.lease_expires_at = now + lease
    if len(granted) < len(rows):
        log.info("budget: %d of %d due jobs claimed, the rest wait for budget", len(granted), len(rows))
    return claimed, {demand.job_id: demand.rank for demand, _ in granted}


def _after_first_metrics(session: Session, rows: Sequence, *, now: datetime) -> list:
    """Drop the engagement jobs of posts whose first metrics poll is due or running: their counters are not
    known yet, so their pass could not record what it covered (gating would run it again next cycle) and its
    cost could not be estimated. They run at the next tick, once the poll has told."""
    polling = {job.campaign_tweet_id for job, _ in rows if job.kind == "metrics"}
    polling |= set(session.scalars(select(PollJob.campaign_tweet_id).where(
        PollJob.kind == "metrics", PollJob.lease_owner.is_not(None), PollJob.lease_expires_at > now)))
    return [(job, category) for job, category in rows
            if job.kind == "metrics" or job.observed_count is not None or job.campaign_tweet_id not in polling]


def _run_for(session: Session, campaign: Campaign, *, now: datetime, starts_cycle: bool) -> int:
    """The campaign's current run: its final run, the run this cycle started, or a new one."""
    latest = session.scalar(select(Run).where(Run.campaign_id == campaign.id).order_by(Run.id.desc()).limit(1))
    if latest is not None and latest.kind == "final":
        return latest.id
    half_cycle = timedelta(minutes=campaign.poll_interval_minutes) / 2
    if latest is not None and (not starts_cycle or latest.started_at > now - half_cycle):
        return latest.id
    run = Run(campaign_id=campaign.id, kind="cycle", started_at=now)
    session.add(run)
    session.flush()
    return run.id


def _messages(session: Session, claimed: Sequence[PollJob], *, now: datetime, owner: str,
              ranks: Mapping[int, tuple]) -> list[TaskMessage]:
    by_campaign: dict[int, list[PollJob]] = defaultdict(list)
    for job in claimed:
        by_campaign[job.campaign_id].append(job)
    messages: list[TaskMessage] = []
    for campaign_id, members in by_campaign.items():
        campaign = session.get(Campaign, campaign_id)
        kinds: dict[str, list[PollJob]] = defaultdict(list)
        for job in members:
            kinds[job.kind].append(job)
        run_id = _run_for(session, campaign, now=now, starts_cycle=bool(kinds["metrics"]))
        metrics = [j.id for j in kinds["metrics"]]
        for start in range(0, len(metrics), METRICS_BATCH):
            messages.append(TaskMessage("metrics", tuple(metrics[start:start + METRICS_BATCH]), run_id, owner,
                                        campaign_id))
        for kind in ("retweets", "quotes"):
            messages += [TaskMessage(kind, (j.id,), run_id, owner, campaign_id) for j in kinds[kind]]
        for group in pollers.replies_groups(session, kinds["replies"]):
            messages.append(TaskMessage("replies", tuple(group), run_id, owner, campaign_id))
    # the queue runs them in this order: the most valuable work spends the budget first
    return sorted(messages, key=lambda m: min(ranks[j] for j in m.job_ids))


def tick(db: Database, clock: Clock, *, lease: timedelta, enqueue: Callable[[TaskMessage], None],
         limit: int = CLAIM_LIMIT, limits: Mapping[str, int] | None = None) -> TickReport:
    """One dispatcher pass; ``limits``: the configured per-endpoint rate limits (X's headers win)."""
    now = clock.now()
    report = TickReport(now=now)
    with db.write() as session:
        pause = jobs.polling_pause(session)
        if pause:
            if datetime.fromisoformat(pause["retry_at"]) > now:
                report.paused = pause["reason"]
            else:
                jobs.clear_polling_pause(session, now=now)  # try again; a new refusal pauses again
        _lifecycle(session, now, report)
    if report.paused:
        return report
    owner = f"tick-{uuid.uuid4().hex[:12]}"
    with db.write() as session:
        claimed, ranks = _claim(session, now, owner, lease, limit, limits)
        report.messages = _messages(session, claimed, now=now, owner=owner, ranks=ranks) if claimed else []
    # enqueue only after the claim is committed: a worker must find the lease it was sent for
    for message in report.messages:
        enqueue(message)
    return report


def next_wakeup(db: Database, now: datetime) -> datetime | None:
    """The earliest instant at which a tick could have something to do (simulation drivers jump there)."""
    candidates: list[datetime] = []
    with db.session() as session:
        rows = session.execute(select(PollJob.kind, PollJob.next_run_at, PollJob.blocked_until,
                                      PollJob.lease_expires_at)
                               .join(Campaign, Campaign.id == PollJob.campaign_id)
                               .where(PollJob.enabled.is_(True), PollJob.next_run_at.is_not(None),
                                      Campaign.status == "active")).all()
        # a due job whose endpoint has no budget left waits for the window's reset
        exhausted = budgeting.exhausted_until(session, now=now)
        for kind, next_run, blocked, lease in rows:
            budget_back = exhausted.get(budgeting.KIND_ENDPOINT[kind])
            candidates.append(max(t for t in (next_run, blocked, lease, budget_back) if t is not None))
        for starts, ends, status in session.execute(select(Campaign.starts_at, Campaign.ends_at, Campaign.status)
                                                    .where(Campaign.status.in_(("scheduled", "active")))):
            candidates.append(starts if status == "scheduled" else ends)
        pause = jobs.polling_pause(session)
        if pause:
            candidates.append(datetime.fromisoformat(pause["retry_at"]))
    future = [c for c in candidates if c > now]
    due_now = any(c <= now for c in candidates)
    if due_now:
        return now
    return min(future) if future else None
