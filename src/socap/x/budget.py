"""The per-endpoint rate-limit budget that all workers share, kept in the app database.

Before each call a worker reserves one request (a short write transaction); after the response the
``x-rate-limit-*`` headers correct the stored figures. When nothing is left, :class:`BudgetExhausted`
says until when — the caller blocks the job until then instead of spending a call on a certain 429.
Headers are always trusted over the configured table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from socap.clock import Clock
from socap.db import Database, upsert
from socap.x.errors import RateLimited
from socap.x.models import RateBudget
from socap.x.schemas import (
    ENDPOINT_FOLLOWING,
    ENDPOINT_LIKING_USERS,
    ENDPOINT_QUOTE_TWEETS,
    ENDPOINT_RETWEETED_BY,
    ENDPOINT_RETWEETS,
    ENDPOINT_SEARCH_RECENT,
    ENDPOINT_TWEETS,
    ENDPOINT_USAGE,
    ENDPOINT_USERS,
    ENDPOINT_USERS_BY,
    RateLimit,
)

WINDOW = timedelta(minutes=15)

# X's documented per-app limits per 15 minutes (XAPI.md); the headers of the first response replace them.
DEFAULT_LIMITS: dict[str, int] = {
    ENDPOINT_TWEETS: 3500,
    ENDPOINT_RETWEETS: 75,
    ENDPOINT_RETWEETED_BY: 75,
    ENDPOINT_QUOTE_TWEETS: 75,
    ENDPOINT_LIKING_USERS: 75,
    ENDPOINT_SEARCH_RECENT: 450,
    ENDPOINT_USERS: 300,
    ENDPOINT_USERS_BY: 300,
    ENDPOINT_FOLLOWING: 300,
    ENDPOINT_USAGE: 50,
}


class BudgetExhausted(RateLimited):
    """No call left in this window for this endpoint (known before calling X)."""


@dataclass(frozen=True)
class Window:
    """One endpoint's current window as the database knows it (a passed window counts as full again)."""

    endpoint: str
    limit: int
    remaining: int
    reset_at: datetime | None  # None: no window open (never called, or the last one has passed)
    stored: bool = False  # X's headers (or our reservations) are on record for this endpoint


def windows(session: Session, *, now: datetime, limits: Mapping[str, int] | None = None,
            lock: bool = False) -> dict[str, Window]:
    """Every endpoint's window: the stored rows (X's headers), else the configured limit, untouched.

    ``lock`` (PostgreSQL): hold the stored rows until the caller's transaction ends, so that schedulers
    planning against the budget at the same time take turns (workers' reservations wait a moment too).
    """
    configured = {**DEFAULT_LIMITS, **(limits or {})}
    query = select(RateBudget).order_by(RateBudget.endpoint)
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    found = {e: Window(e, limit, limit, None) for e, limit in configured.items()}
    for row in session.scalars(query):
        fresh = row.reset_at <= now
        found[row.endpoint] = Window(row.endpoint, row.limit, row.limit if fresh else row.remaining,
                                     None if fresh else row.reset_at, stored=True)
    return found


class RateBudgetStore:
    def __init__(self, db: Database, clock: Clock, limits: Mapping[str, int] | None = None):
        self.db = db
        self.clock = clock
        self.limits = {**DEFAULT_LIMITS, **(limits or {})}

    def _row(self, session, endpoint: str, now: datetime) -> RateBudget:
        query = select(RateBudget).where(RateBudget.endpoint == endpoint)
        if self.db.dialect == "postgresql":
            query = query.with_for_update()
        row = session.scalar(query)
        if row is None:
            # two workers may meet an endpoint's first call at once: the loser of the insert takes the
            # winner's row (locked) instead of failing on the primary key
            limit = self.limits.get(endpoint, 15)
            upsert(session, RateBudget, [{"endpoint": endpoint, "limit": limit, "remaining": limit,
                                          "reset_at": now + WINDOW, "updated_at": now}],
                   index_elements=["endpoint"], update_columns=[])
            row = session.scalar(query)
        elif row.reset_at <= now:
            # a new window began since we last heard from X
            row.remaining = row.limit
            row.reset_at = now + WINDOW
        return row

    def acquire(self, endpoint: str, calls: int = 1) -> None:
        """Reserve ``calls`` requests or raise BudgetExhausted (a RateLimited with ``reset_at``)."""
        now = self.clock.now()
        with self.db.write() as session:
            row = self._row(session, endpoint, now)
            if row.remaining < calls:
                raise BudgetExhausted(
                    f"{endpoint}: rate-limit budget used up until {row.reset_at:%H:%M:%S} UTC",
                    endpoint=endpoint, status_code=None,
                    rate_limit=RateLimit(limit=row.limit, remaining=row.remaining, reset_at=row.reset_at))
            row.remaining -= calls
            row.updated_at = now

    def observe(self, endpoint: str, rate_limit: RateLimit | None, *, exhausted: bool = False) -> None:
        """Fold a response's headers in. ``exhausted``: X answered 429, nothing is left until reset."""
        if rate_limit is None and not exhausted:
            return
        now = self.clock.now()
        with self.db.write() as session:
            row = self._row(session, endpoint, now)
            if rate_limit is not None:
                row.limit = rate_limit.limit
                if rate_limit.reset_at > row.reset_at + timedelta(seconds=1):
                    row.remaining = rate_limit.remaining  # X moved to a later window than ours
                else:
                    # calls other workers reserved may not be in this header yet: keep the lower figure
                    row.remaining = min(row.remaining, rate_limit.remaining)
                row.reset_at = rate_limit.reset_at
            if exhausted:
                row.remaining = 0
            row.updated_at = now

    def snapshot(self) -> list[dict]:
        """Per endpoint: limit, remaining (a passed window counts as full again), reset time."""
        now = self.clock.now()
        with self.db.session() as session:
            rows = session.scalars(select(RateBudget).order_by(RateBudget.endpoint)).all()
            return [{"endpoint": r.endpoint, "limit": r.limit,
                     "remaining": r.limit if r.reset_at <= now else r.remaining,
                     "reset_at": r.reset_at} for r in rows]
