"""What is tracked: campaigns and their posts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from socap.db import Base, UTCDateTime

CAMPAIGN_STATUSES = ("scheduled", "active", "paused", "completed")
TWEET_CATEGORIES = ("main", "influencer", "investor")


class Campaign(Base):
    __tablename__ = "campaign"
    __table_args__ = (
        CheckConstraint("status IN ('scheduled','active','paused','completed')", name="status"),
        CheckConstraint("alert_threshold >= 0", name="threshold_nonneg"),
        CheckConstraint("alert_spacing_minutes >= 0 AND alert_spacing_minutes < poll_interval_minutes",
                        name="spacing_below_interval"),
        CheckConstraint("ends_at > starts_at", name="window_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    alert_threshold: Mapped[int] = mapped_column(Integer)
    alert_spacing_minutes: Mapped[int] = mapped_column(Integer)
    poll_interval_minutes: Mapped[int] = mapped_column(Integer, default=30)
    notify_urls: Mapped[list] = mapped_column(JSON, default=list)
    # bumped by every ingest: the dashboard cache key includes it
    data_version: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    tweets: Mapped[list[CampaignTweet]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", passive_deletes=True,
        order_by="CampaignTweet.id")


class CampaignTweet(Base):
    __tablename__ = "campaign_tweet"
    __table_args__ = (
        UniqueConstraint("campaign_id", "tweet_id"),
        CheckConstraint("category IN ('main','influencer','investor')", name="category"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    tweet_id: Mapped[int] = mapped_column(BigInteger)
    url: Mapped[str] = mapped_column(String(500))
    category: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    author_username: Mapped[str | None] = mapped_column(String(64), nullable=True)
    text: Mapped[str] = mapped_column(Text, default="")
    conversation_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    tweet_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # unavailable = X reports it deleted, protected or its author suspended: history kept, polling stops
    unavailable_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    unavailable_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    campaign: Mapped[Campaign] = relationship(back_populates="tweets")
