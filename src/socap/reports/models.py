"""The frozen final report of a completed campaign."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from socap.db import Base, UTCDateTime


class CampaignReport(Base):
    """Written once, in the transaction that completes the campaign; never updated afterwards."""

    __tablename__ = "campaign_report"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # the campaign's data version the report was computed at
    data_version: Mapped[int] = mapped_column(BigInteger, default=0)
    # socap.reports.final.Report, as JSON
    data: Mapped[dict] = mapped_column(JSON)


# ---------------------------------------------------------------- roll-ups kept by the ingest (socap.reports.rollup)
#
# The dashboard's default view counts a whole campaign: engagements per post and action, and distinct engaging
# accounts overall and per post category. Over a million engagements those exact counts cost hundreds of
# milliseconds however they are indexed, so the ingest keeps them, in its own transaction, from the rows it
# really inserted. Views with an action, time or importance filter still count the engagement table.


class PostTally(Base):
    """Engagements stored per post and action."""

    __tablename__ = "post_tally"

    campaign_tweet_id: Mapped[int] = mapped_column(ForeignKey("campaign_tweet.id", ondelete="CASCADE"),
                                                   primary_key=True)
    action: Mapped[str] = mapped_column(String(8), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class RunTally(Base):
    """Engagements stored per post, action and the run that found them (0: no run), for "new since the
    latest run" figures: only the latest runs' rows are read."""

    __tablename__ = "run_tally"
    __table_args__ = (Index("ix_run_tally_campaign_run", "campaign_id", "run_id"),)

    campaign_tweet_id: Mapped[int] = mapped_column(ForeignKey("campaign_tweet.id", ondelete="CASCADE"),
                                                   primary_key=True)
    action: Mapped[str] = mapped_column(String(8), primary_key=True)
    run_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    n: Mapped[int] = mapped_column(Integer, default=0)


class CampaignAccount(Base):
    """One row per account that engaged with the campaign: per post category, the first run that found one
    of its engagements there (0: no run; NULL: none in that category)."""

    __tablename__ = "campaign_account"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    first_main: Mapped[int | None] = mapped_column(Integer, nullable=True)
    first_influencer: Mapped[int | None] = mapped_column(Integer, nullable=True)
    first_investor: Mapped[int | None] = mapped_column(Integer, nullable=True)


class AccountTally(Base):
    """campaign_account counted: per scope ("any" post category, or "main" / "influencer" / "investor") and
    run, the accounts whose first run there is that run. The summary's unique-account figures are sums over
    these few rows instead of a count over every account of the campaign (280,000 rows on
    bench/dashboard.py's campaign: 45-110 ms a summary). Kept by :func:`socap.reports.rollup.record` from
    the rows' values before and after each upsert (an earlier run arriving later moves an account's count)."""

    __tablename__ = "account_tally"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(12), primary_key=True)
    run_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
