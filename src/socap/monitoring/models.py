"""What polling records: jobs, runs, engagements and metric snapshots."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from socap.db import Base, UTCDateTime

JOB_KINDS = ("metrics", "retweets", "replies", "quotes")
ENGAGEMENT_ACTIONS = ("retweet", "reply", "quote")


class PollJob(Base):
    __tablename__ = "poll_job"
    __table_args__ = (
        UniqueConstraint("campaign_tweet_id", "kind"),
        CheckConstraint("kind IN ('metrics','retweets','replies','quotes')", name="kind"),
        Index("ix_poll_job_due", "next_run_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    campaign_tweet_id: Mapped[int] = mapped_column(ForeignKey("campaign_tweet.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    # NULL: an engagement job waiting for its post's next metrics poll to decide (count gating)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # newest source id ingested by a finished pass: delta runs page until they reach it
    watermark: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # resumable backfill: the next page token, and the newest id seen when the backfill began
    backfill_cursor: Mapped[str | None] = mapped_column(String(512), nullable=True)
    backfill_newest: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    backfill_done: Mapped[bool] = mapped_column(Boolean, default=False)
    # count gating: the post's counter (retweet/reply/quote count) as of this job's last success, and as
    # the latest metrics poll saw it
    last_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    observed_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # the next full re-check of the list; spread over the reconcile interval by post (never all at once)
    next_reconcile_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    # running totals for /metrics (migration 0007): finished passes and recorded failures
    run_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failure_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class Run(Base):
    """One poll cycle of a campaign."""

    __tablename__ = "run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    # cycle: a regular poll; final: the last poll at the window's end
    kind: Mapped[str] = mapped_column(String(8), default="cycle", server_default="cycle")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    calls_by_endpoint: Mapped[dict] = mapped_column(JSON, default=dict)
    # "endpoint status" → attempts ("network" when no response came), for /metrics (migration 0007)
    calls_by_status: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    billable_posts: Mapped[int] = mapped_column(Integer, default=0)
    billable_users: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[Decimal] = mapped_column(Numeric(12, 4), default=Decimal("0"))
    new_engagements: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    error_summary: Mapped[str | None] = mapped_column(Text, nullable=True)


class Engagement(Base):
    __tablename__ = "engagement"
    __table_args__ = (
        UniqueConstraint("campaign_tweet_id", "action", "source_tweet_id"),
        CheckConstraint("action IN ('retweet','reply','quote')", name="action"),
        # covering indexes for the dashboard's aggregates (socap.reports.queries; migration 0005): a time range,
        # the accounts (and, from the important accounts, their engagements), the per-post counts
        Index("ix_engagement_campaign_engaged", "campaign_id", "engaged_at", "campaign_tweet_id", "action",
              "account_id", "run_id"),
        Index("ix_engagement_campaign_account", "campaign_id", "account_id", "campaign_tweet_id", "action",
              "engaged_at", "run_id"),
        Index("ix_engagement_campaign_post", "campaign_id", "campaign_tweet_id", "action", "run_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    campaign_tweet_id: Mapped[int] = mapped_column(ForeignKey("campaign_tweet.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    action: Mapped[str] = mapped_column(String(8))
    # the retweet / reply / quote post itself; several replies by one account are several rows
    source_tweet_id: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text, default="")
    engaged_at: Mapped[datetime] = mapped_column(UTCDateTime)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("run.id", ondelete="SET NULL"), nullable=True)


class MetricSnapshot(Base):
    """Append-only: one row per post per metrics poll; the first is the baseline."""

    __tablename__ = "metric_snapshot"
    __table_args__ = (Index("ix_metric_snapshot_tweet_taken", "campaign_tweet_id", "taken_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    campaign_tweet_id: Mapped[int] = mapped_column(ForeignKey("campaign_tweet.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("run.id", ondelete="SET NULL"), nullable=True)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)
    like_count: Mapped[int] = mapped_column(Integer, default=0)
    retweet_count: Mapped[int] = mapped_column(Integer, default=0)
    reply_count: Mapped[int] = mapped_column(Integer, default=0)
    quote_count: Mapped[int] = mapped_column(Integer, default=0)
    impression_count: Mapped[int] = mapped_column(BigInteger, default=0)
    bookmark_count: Mapped[int] = mapped_column(Integer, default=0)


class AppState(Base):
    """Small app-wide facts, e.g. polling paused because X's usage cap or credits ran out."""

    __tablename__ = "app_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
