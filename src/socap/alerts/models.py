"""Alerts and their delivery outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from socap.db import Base, UTCDateTime

ALERT_STATUSES = ("queued", "sent", "failed", "cancelled")
DELIVERY_STATUSES = ("queued", "sent", "failed", "cancelled")


class Alert(Base):
    __tablename__ = "alert"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    # "engagement": an important account engaged; "summary": the campaign's completion summary
    kind: Mapped[str] = mapped_column(String(16), default="engagement", server_default="engagement")
    # NULL for a summary (unique: one alert per engagement)
    engagement_id: Mapped[int | None] = mapped_column(ForeignKey("engagement.id", ondelete="CASCADE"), unique=True,
                                                      nullable=True)
    # the run that found the engagement: its alerts are spaced out together
    run_id: Mapped[int | None] = mapped_column(ForeignKey("run.id", ondelete="SET NULL"), nullable=True, index=True)
    # the score it fired at (scores move on; the alert keeps its own)
    importance: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)
    # NULL until the run's alerts are slotted: run_start + i × spacing / N, highest importance first
    scheduled_send_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AlertDelivery(Base):
    __tablename__ = "alert_delivery"
    __table_args__ = (
        UniqueConstraint("alert_id", "channel"),
        Index("ix_alert_delivery_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(1000))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
