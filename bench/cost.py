"""The fewest billable items any poller of a campaign is charged for over some poll cycles.

X bills each post and each user an answer contains, once per item per UTC day (the simulator's ledger does
the same). Over the cycles measured, a poller must at least:

- read every campaign post's metrics on each UTC day it polls (``GET /2/tweets``: the posts themselves);
- fetch every new listable engagement (a retweet, reply or quote post) by the first cycle after it was
  made, and its author (SOCAP stores who engaged) — with the default ``retweets`` endpoint a retweet comes
  as a post plus its user;

minus what was already billed earlier on the same UTC day (the ledger's state when the measurement began):
those items cost nothing more that day, whoever fetches them. The campaign posts' authors, which the metrics
call expands, are not needed and are not in the minimum.
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Iterable
from datetime import datetime

from socap.simulator.usage import POST_PRICE_USD, USER_PRICE_USD
from socap.simulator.world import World

KINDS = ("retweet", "reply", "quote")


def cost_usd(posts: int, users: int) -> float:
    return posts * POST_PRICE_USD + users * USER_PRICE_USD


def minimum_billable(world: World, *, post_ids: Iterable[str], cycles: list[datetime], since: datetime,
                     billed_before: Collection[tuple[str, str, str]]) -> dict:
    """Items (``(utc day, "post" | "user", id)`` as the simulator's ledger keys them) a perfect poller is
    newly billed for in ``cycles`` (sorted instants), counting engagements made after ``since``."""
    post_ids = list(post_ids)
    needed: set[tuple[str, str, str]] = set()
    for at in cycles:
        day = at.date().isoformat()
        needed.update((day, "post", pid) for pid in post_ids)
    for pid in post_ids:
        for kind in KINDS:
            for event in world.visible_events(pid, kind, cycles[-1]):
                if event.created_at <= since:
                    continue
                day = cycles[bisect.bisect_left(cycles, event.created_at)].date().isoformat()
                needed.add((day, "post", event.id))
                needed.add((day, "user", event.author_id))
    new = needed.difference(billed_before)
    posts = sum(1 for _, kind, _ in new if kind == "post")
    users = len(new) - posts
    return {"posts": posts, "users": users, "cost_usd": round(cost_usd(posts, users), 4)}
