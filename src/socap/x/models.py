"""Tables of the X domain: the shared per-endpoint rate-limit budget and the billing ledger."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from socap.db import Base, UTCDateTime


class RateBudget(Base):
    """What X's x-rate-limit-* headers last said for one endpoint, minus calls reserved since.

    Every worker reserves a call here before making it, so together they never knowingly exceed the limit.
    """

    __tablename__ = "rate_budget"

    endpoint: Mapped[str] = mapped_column(String(64), primary_key=True)
    limit: Mapped[int] = mapped_column(Integer)
    remaining: Mapped[int] = mapped_column(Integer)
    reset_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BilledItem(Base):
    """X bills each post or user at most once per UTC day: one row per item and day seen."""

    __tablename__ = "billed_item"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # post | user
    item_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
