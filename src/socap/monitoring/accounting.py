"""Calls, billable items and cost, per run.

A :class:`CallStats` collects what one task did (every HTTP attempt via the client's ``on_call``, every
page's returned posts and users) and :meth:`CallStats.flush` adds it to the run inside the caller's write
transaction. X bills each post or user at most once per UTC day: the ``billed_item`` ledger decides which
returned items are newly billable today, for every campaign and worker together.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from socap.db import upsert
from socap.monitoring.models import Run
from socap.x import CallRecord, Page
from socap.x.models import BilledItem

POST_PRICE = Decimal("0.005")
USER_PRICE = Decimal("0.010")


def page_item_ids(page: Page) -> tuple[set[int], set[int]]:
    """(post ids, user ids) a page returned, in data and in includes."""
    posts: set[int] = {int(t.id) for t in page.includes.tweets}
    users: set[int] = {int(u.id) for u in page.includes.users}
    for item in page.data:
        (users if hasattr(item, "username") else posts).add(int(item.id))
    return posts, users


def _newly_billed(session: Session, now: datetime, kind: str, ids: set[int]) -> int:
    """How many of ``ids`` X bills now: those not yet returned today (UTC)."""
    if not ids:
        return 0
    rows = [{"day": now.date(), "kind": kind, "item_id": i} for i in ids]
    return len(upsert(session, BilledItem, rows, index_elements=["day", "kind", "item_id"],
                      returning=[BilledItem.item_id]))


@dataclass
class CallStats:
    calls: Counter = field(default_factory=Counter)        # endpoint -> attempts
    statuses: Counter = field(default_factory=Counter)     # "endpoint status" -> attempts
    posts: set[int] = field(default_factory=set)
    users: set[int] = field(default_factory=set)
    new_engagements: int = 0
    errors: list[str] = field(default_factory=list)

    def on_call(self, record: CallRecord) -> None:
        self.calls[record.endpoint] += 1
        self.statuses[f"{record.endpoint} {record.status_code or 'network'}"] += 1

    def bill(self, page: Page) -> None:
        posts, users = page_item_ids(page)
        self.posts |= posts
        self.users |= users

    def empty(self) -> bool:
        return not (self.calls or self.posts or self.users or self.new_engagements or self.errors)

    def flush(self, session: Session, *, run_id: int | None, now: datetime) -> None:
        """Add everything collected so far to the run (and the ledger), then start counting afresh."""
        if self.empty():
            return
        new_posts = _newly_billed(session, now, "post", self.posts)
        new_users = _newly_billed(session, now, "user", self.users)
        if run_id is not None:
            query = select(Run).where(Run.id == run_id)
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update()
            run = session.scalar(query)
            if run is not None:
                run.calls += sum(self.calls.values())
                by_endpoint = dict(run.calls_by_endpoint or {})
                for endpoint, n in self.calls.items():
                    by_endpoint[endpoint] = by_endpoint.get(endpoint, 0) + n
                run.calls_by_endpoint = by_endpoint
                by_status = dict(run.calls_by_status or {})
                for key, n in self.statuses.items():
                    by_status[key] = by_status.get(key, 0) + n
                run.calls_by_status = by_status
                run.billable_posts += new_posts
                run.billable_users += new_users
                run.cost_usd = (run.cost_usd or Decimal(0)) + POST_PRICE * new_posts + USER_PRICE * new_users
                run.new_engagements += self.new_engagements
                if self.errors:
                    run.errors += len(self.errors)
                    run.error_summary = "; ".join(([run.error_summary] if run.error_summary else [])
                                                  + self.errors)[-2000:]
                run.finished_at = now
        self.calls.clear()
        self.statuses.clear()
        self.posts.clear()
        self.users.clear()
        self.new_engagements = 0
        self.errors.clear()
