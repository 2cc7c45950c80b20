"""The frozen final report of a completed campaign."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey
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
