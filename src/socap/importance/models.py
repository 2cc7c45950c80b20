"""Accounts that engage, the curated seed list, and who the seeds follow."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from socap.db import Base, UTCDateTime

SEED_CATEGORIES = ("investor", "vc", "founder", "developer", "media", "other")


class Account(Base):
    __tablename__ = "account"

    # the X user id itself: ingest upserts by it
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    username: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    bio: Mapped[str] = mapped_column(Text, default="")
    followers_count: Mapped[int] = mapped_column(Integer, default=0)
    following_count: Mapped[int] = mapped_column(Integer, default=0)
    tweet_count: Mapped[int] = mapped_column(Integer, default=0)
    verified_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    protected: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    profile_image_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # recomputed from seeds and edges, never frozen (an alert keeps the score it fired at)
    importance: Mapped[int] = mapped_column(Integer, default=0)
    category: Mapped[str] = mapped_column(String(16), default="other")
    suspicion: Mapped[list] = mapped_column(JSON, default=list)


class ImportantAccount(Base):
    """A curated seed: an account whose following marks someone as important."""

    __tablename__ = "important_account"
    __table_args__ = (UniqueConstraint("workspace_id", "username"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"), index=True)
    username: Mapped[str] = mapped_column(String(64))
    x_user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    category: Mapped[str] = mapped_column(String(16), default="other")
    weight: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sync_cursor: Mapped[str | None] = mapped_column(String(512), nullable=True)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class Follow(Base):
    """Edge: seed → an account it follows."""

    __tablename__ = "follow"

    seed_id: Mapped[int] = mapped_column(ForeignKey("important_account.id", ondelete="CASCADE"),
                                         primary_key=True)
    account_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)
