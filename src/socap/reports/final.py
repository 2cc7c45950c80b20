"""The campaign report: computed from the statistics layer, frozen once at completion.

``build(session, campaign=…, now=…)`` computes a :class:`Report` from the data as it stands (an
*interim* report while the campaign runs). When a campaign completes, :func:`freeze` stores the final
report in ``campaign_report`` inside the completion transaction; from then on :func:`get_report` returns
that stored copy, so later changes (a seed list edit re-scoring accounts, say) never alter it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from socap.campaigns.models import Campaign, CampaignTweet
from socap.importance.models import Account, AccountImportance
from socap.monitoring.models import Engagement, MetricSnapshot
from socap.reports import service as stats
from socap.reports.models import CampaignReport
from socap.reports.schemas import (
    AccountEngagement,
    CategoryCard,
    CategoryComparison,
    Charts,
    CostSummary,
    Coverage,
    Filters,
    PostSummary,
    SeedRef,
    SeriesPoint,
    TimelineBucket,
    Totals,
)

TOP_ENGAGERS = 20
REPORT_VERSION = 1


class CampaignInfo(BaseModel):
    id: int
    name: str
    status: str
    starts_at: datetime
    ends_at: datetime
    completed_at: datetime | None
    alert_threshold: int
    posts: int


class PostRow(BaseModel):
    """A post with its first and final metrics (final = latest snapshot) and coverage."""

    post: PostSummary
    first: SeriesPoint | None


class TopEngager(BaseModel):
    account_id: str
    username: str
    name: str
    account_category: str
    importance: int
    seeds: list[SeedRef]
    posts_engaged: int
    engagements: list[AccountEngagement]


class Share(BaseModel):
    name: str
    count: int
    percent: float  # 0..100, one decimal


class AlertCounts(BaseModel):
    sent: int
    failed: int
    cancelled: int
    queued: int


class Report(BaseModel):
    version: int = REPORT_VERSION
    kind: Literal["final", "interim"]
    generated_at: datetime
    campaign: CampaignInfo
    totals: Totals
    high_importance_accounts: int
    post_categories: list[CategoryCard]
    account_categories: list[Share]
    posts: list[PostRow]
    top_engagers: list[TopEngager]
    top_engager_line: str | None
    charts: Charts
    peak_hour: TimelineBucket | None
    comparison: CategoryComparison
    cost: CostSummary
    coverage: Coverage | None
    alerts: AlertCounts


def _shares(counts: dict[str, int]) -> list[Share]:
    total = sum(counts.values())
    return [Share(name=k, count=v, percent=round(100 * v / total, 1) if total else 0.0)
            for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def _first_snapshots(session: Session, campaign_id: int) -> dict[int, SeriesPoint]:
    first = (select(MetricSnapshot.campaign_tweet_id, func.min(MetricSnapshot.id).label("id"))
             .where(MetricSnapshot.campaign_id == campaign_id)
             .group_by(MetricSnapshot.campaign_tweet_id).subquery())
    rows = session.scalars(select(MetricSnapshot).join(first, first.c.id == MetricSnapshot.id))
    return {s.campaign_tweet_id: SeriesPoint(at=s.taken_at, likes=s.like_count, retweets=s.retweet_count,
                                             replies=s.reply_count, quotes=s.quote_count,
                                             impressions=s.impression_count) for s in rows}


def _top_engagers(session: Session, campaign: Campaign, limit: int) -> list[TopEngager]:
    """The most important engaging accounts (ties: more engagements, then earlier first engagement)."""
    score = func.coalesce(AccountImportance.score, 0)
    ranked = session.execute(
        select(Engagement.account_id)
        .outerjoin(AccountImportance, (AccountImportance.account_id == Engagement.account_id)
                   & (AccountImportance.workspace_id == campaign.workspace_id))
        .where(Engagement.campaign_id == campaign.id)
        .group_by(Engagement.account_id)
        .order_by(func.max(score).desc(), func.count().desc(), func.min(Engagement.engaged_at), Engagement.account_id)
        .limit(limit)).scalars().all()
    out = []
    for account_id in ranked:
        detail = stats.account_detail(session, campaign=campaign, account_id=account_id)
        out.append(TopEngager(account_id=detail.account_id, username=detail.username, name=detail.name,
                              account_category=detail.account_category, importance=detail.importance,
                              seeds=detail.seeds, posts_engaged=len({e.post_id for e in detail.engagements}),
                              engagements=detail.engagements))
    return out


def top_engager_line(engagers: list[TopEngager], posts: int) -> str | None:
    """Scenario 5's "Top engager: @topinvestor engaged with all 3 posts" (only when it says something)."""
    if not engagers or engagers[0].posts_engaged < 2:
        return None
    top = engagers[0]
    scope = f"all {posts} posts" if top.posts_engaged == posts else f"{top.posts_engaged} posts"
    return f"Top engager: @{top.username} engaged with {scope}"


class Headline(BaseModel):
    """The dashboard's "Top engager: …" line (None when no account engaged with more than one post)."""

    top_engager: str | None


def headline(session: Session, *, campaign: Campaign) -> Headline:
    posts = session.scalar(select(func.count()).select_from(CampaignTweet)
                           .where(CampaignTweet.campaign_id == campaign.id)) or 0
    return Headline(top_engager=top_engager_line(_top_engagers(session, campaign, 1), posts))


def _alert_counts(session: Session, campaign_id: int) -> AlertCounts:
    from socap.alerts.models import Alert

    counts = dict(session.execute(select(Alert.status, func.count()).where(
        Alert.campaign_id == campaign_id, Alert.kind == "engagement").group_by(Alert.status)).all())
    return AlertCounts(**{k: counts.get(k, 0) for k in ("sent", "failed", "cancelled", "queued")})


def build(session: Session, *, campaign: Campaign, now: datetime) -> Report:
    """The report of the data as it stands (final when the campaign is completed, else interim)."""
    everything = Filters()
    summary = stats.summary(session, campaign=campaign, filters=everything, now=now)
    charts = stats.charts(session, campaign=campaign, filters=everything, now=now)
    comparison = stats.category_comparison(session, campaign=campaign, filters=everything, now=now)
    first = _first_snapshots(session, campaign.id)
    engagers = _top_engagers(session, campaign, TOP_ENGAGERS)
    posts = session.scalar(select(func.count()).select_from(CampaignTweet)
                           .where(CampaignTweet.campaign_id == campaign.id)) or 0
    timeline = charts.timeline
    peak = max(timeline, key=lambda b: (b.retweets + b.replies + b.quotes, -b.hour.timestamp()), default=None)
    return Report(
        kind="final" if campaign.status == "completed" else "interim", generated_at=now,
        campaign=CampaignInfo(id=campaign.id, name=campaign.name, status=campaign.status,
                              starts_at=campaign.starts_at, ends_at=campaign.ends_at,
                              completed_at=campaign.completed_at, alert_threshold=campaign.alert_threshold,
                              posts=posts),
        totals=summary.totals, high_importance_accounts=summary.totals.high_importance_accounts.value,
        post_categories=summary.categories, account_categories=_shares(charts.account_categories),
        posts=[PostRow(post=p, first=first.get(p.id)) for p in summary.posts],
        top_engagers=engagers, top_engager_line=top_engager_line(engagers, posts),
        charts=charts, peak_hour=peak if peak and (peak.retweets + peak.replies + peak.quotes) else None,
        comparison=comparison, cost=summary.cost, coverage=summary.coverage,
        alerts=_alert_counts(session, campaign.id))


def freeze(session: Session, campaign: Campaign, now: datetime) -> CampaignReport:
    """Store the final report (completion hook; runs in the completing transaction). Idempotent."""
    stored = session.get(CampaignReport, campaign.id)
    if stored is not None:
        return stored
    report = build(session, campaign=campaign, now=now)
    stored = CampaignReport(campaign_id=campaign.id, generated_at=now, data=report.model_dump(mode="json"),
                            data_version=campaign.data_version or 0)
    session.add(stored)
    session.flush()
    return stored


def get_report(session: Session, *, campaign: Campaign, now: datetime) -> Report:
    """The frozen final report of a completed campaign, else an interim one computed now."""
    stored = session.get(CampaignReport, campaign.id)
    if stored is not None:
        return Report.model_validate(stored.data)
    return build(session, campaign=campaign, now=now)


def accounts_of(session: Session, campaign: Campaign):
    """Every engaging account with its numbers, for the accounts CSV (importance as of now)."""
    score = func.coalesce(AccountImportance.score, 0).label("importance")
    return session.execute(
        select(Account.id, Account.username, Account.name, Account.category, Account.followers_count, score,
               func.count(Engagement.id).label("engagements"),
               func.count(func.distinct(Engagement.campaign_tweet_id)).label("posts"),
               func.min(Engagement.engaged_at).label("first_engaged_at"),
               func.max(Engagement.engaged_at).label("last_engaged_at"))
        .join(Engagement, Engagement.account_id == Account.id)
        .outerjoin(AccountImportance, (AccountImportance.account_id == Account.id)
                   & (AccountImportance.workspace_id == campaign.workspace_id))
        .where(Engagement.campaign_id == campaign.id)
        .group_by(Account.id, Account.username, Account.name, Account.category, Account.followers_count,
                  AccountImportance.score)
        .order_by(score.desc(), Account.id)).all()


def summary_text(report: Report, *, base_url: str) -> str:
    """The completion message: headline numbers, the top 5 engagers, the link to the report."""
    t = report.totals
    lines = [
        f"Campaign \"{report.campaign.name}\" completed. Final report:",
        f"{t.engagements.value:,} engagements by {t.unique_accounts.value:,} accounts "
        f"({report.high_importance_accounts:,} high-importance); {t.likes.value:,} likes, "
        f"{t.retweet_count.value:,} retweets, {t.quote_count.value:,} quotes, {t.reply_count.value:,} replies.",
    ]
    if report.top_engager_line:
        lines.append(report.top_engager_line)
    if report.top_engagers:
        top = ", ".join(f"@{e.username} ({e.importance})" for e in report.top_engagers[:5])
        lines.append(f"Top engagers: {top}")
    lines.append(f"Report: {base_url}/campaigns/{report.campaign.id}/report")
    return "\n".join(lines)
