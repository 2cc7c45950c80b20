"""Read models of the engine: `socap status`, run summaries, backfill progress."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from socap import db_stats
from socap.campaigns.models import Campaign, CampaignTweet
from socap.monitoring import budgeting, jobs
from socap.monitoring.models import Engagement, PollJob, Run

DEFAULT_CYCLE = timedelta(minutes=30)


def backfill_progress(session: Session, *, campaign_id: int | None = None) -> tuple[int, int]:
    """(engagement jobs whose backfill is done, all engagement jobs) of active campaigns."""
    query = (select(PollJob.backfill_done, func.count()).join(Campaign, Campaign.id == PollJob.campaign_id)
             .where(PollJob.kind != "metrics", PollJob.enabled.is_(True), Campaign.status == "active")
             .group_by(PollJob.backfill_done))
    if campaign_id is not None:
        query = query.where(PollJob.campaign_id == campaign_id)
    counts = dict(session.execute(query).all())
    return int(counts.get(True, 0)), int(sum(counts.values()))


def api_budget(session: Session, *, now: datetime, limits: Mapping[str, int] | None = None,
               cycle: timedelta = DEFAULT_CYCLE) -> dict[int, dict]:
    """Per active campaign: calls its pending work needs per cycle vs the calls the rate limits give it
    (see socap.monitoring.budgeting.cycle_plan)."""
    return budgeting.cycle_plan(session, now=now, limits=limits, cycle=cycle)


def campaign_status(session: Session, campaign: Campaign, *, now: datetime,
                    budget_plan: Mapping[int, dict] | None = None) -> dict:
    """``budget_plan``: :func:`api_budget`'s answer (computed for all campaigns at once) when at hand."""
    job_rows = session.execute(select(PollJob, CampaignTweet.url).join(
        CampaignTweet, CampaignTweet.id == PollJob.campaign_tweet_id).where(PollJob.campaign_id == campaign.id)).all()
    next_runs = [j.next_run_at for j, _ in job_rows if j.enabled and j.next_run_at is not None]
    blocked = [{"job": j.id, "kind": j.kind, "post": url, "until": j.blocked_until}
               for j, url in job_rows if j.blocked_until is not None and j.blocked_until > now]
    errors = [{"job": j.id, "kind": j.kind, "post": url, "error": j.last_error,
               "consecutive_failures": j.consecutive_failures} for j, url in job_rows if j.last_error]
    totals = session.execute(select(func.count(Run.id), func.coalesce(func.sum(Run.calls), 0),
                                    func.coalesce(func.sum(Run.billable_posts), 0),
                                    func.coalesce(func.sum(Run.billable_users), 0),
                                    func.coalesce(func.sum(Run.cost_usd), 0))
                             .where(Run.campaign_id == campaign.id)).one()
    engagements = session.scalar(select(func.count()).select_from(Engagement)
                                 .where(Engagement.campaign_id == campaign.id))
    unavailable = session.execute(select(CampaignTweet.url, CampaignTweet.unavailable_reason).where(
        CampaignTweet.campaign_id == campaign.id, CampaignTweet.unavailable_reason.is_not(None))).all()
    engagement_jobs = [j for j, _ in job_rows if j.kind != "metrics"]
    return {
        "id": campaign.id, "name": campaign.name, "status": campaign.status,
        "starts_at": campaign.starts_at, "ends_at": campaign.ends_at,
        "next_run_at": min(next_runs) if next_runs else None,
        "engagements": engagements, "runs": totals[0], "calls": int(totals[1]),
        "billable_posts": int(totals[2]), "billable_users": int(totals[3]),
        "cost_usd": float(Decimal(totals[4])),
        "backfill": {"done": sum(1 for j in engagement_jobs if j.backfill_done), "total": len(engagement_jobs)},
        "blocked_jobs": blocked, "errors": errors,
        "unavailable_posts": [{"url": u, "reason": r} for u, r in unavailable],
        "api_budget": (budget_plan if budget_plan is not None
                       else api_budget(session, now=now)).get(campaign.id),
    }


def status(session: Session, *, now: datetime, budget: list[dict], limits: Mapping[str, int] | None = None,
           cycle: timedelta = DEFAULT_CYCLE) -> dict:
    campaigns = session.scalars(select(Campaign).order_by(Campaign.id)).all()
    plan = api_budget(session, now=now, limits=limits, cycle=cycle)
    return {
        "now": now,
        "polling_paused": jobs.polling_pause(session),
        "database": db_stats.describe(session),
        "rate_limit_budget": budget,
        "campaigns": [campaign_status(session, c, now=now, budget_plan=plan) for c in campaigns],
    }


def recent_runs(session: Session, *, after_id: int = 0) -> list[tuple[Run, str]]:
    """Runs finished since ``after_id`` with their campaign's name (for progress printing)."""
    return list(session.execute(select(Run, Campaign.name).join(Campaign, Campaign.id == Run.campaign_id)
                                .where(Run.id > after_id, Run.finished_at.is_not(None)).order_by(Run.id)).all())
