"""Accounts that engage, the curated seed list, and who the seeds follow."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
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
    # from the bio and name (a seed's own category overrides it per workspace); refreshed with the profile
    category: Mapped[str] = mapped_column(String(16), default="other")
    category_evidence: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # [{"flag": …, "reason": …}]: shown next to the account, never used to hide data
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
    # a following-list sync in progress: the next page token (its pages wait in follow_staging)
    sync_cursor: Mapped[str | None] = mapped_column(String(512), nullable=True)
    sync_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class AccountImportance(Base):
    """importance(account) in a workspace = Σ weight of the workspace's active seeds that follow it.

    Recomputed for the accounts touched whenever seeds or edges change (never frozen: an alert keeps the
    score it fired at). The evidence is the follow edges themselves.
    """

    __tablename__ = "account_importance"
    __table_args__ = (Index("ix_account_importance_ws_score", "workspace_id", "score"),)

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    score: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FollowStaging(Base):
    """A seed's following list while a sync pages through it; swapped into ``follow`` in one transaction."""

    __tablename__ = "follow_staging"

    seed_id: Mapped[int] = mapped_column(ForeignKey("important_account.id", ondelete="CASCADE"),
                                         primary_key=True)
    account_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class Follow(Base):
    """Edge: seed → an account it follows."""

    __tablename__ = "follow"

    seed_id: Mapped[int] = mapped_column(ForeignKey("important_account.id", ondelete="CASCADE"),
                                         primary_key=True)
    account_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)
