"""Rate limits per endpoint per 15-minute window, the call log, and pay-per-use billing."""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from socap.simulator.world import x_time

WINDOW_SECONDS = 900
POST_PRICE_USD = 0.005
USER_PRICE_USD = 0.010
ENDPOINTS = (
    "GET /2/tweets",
    "GET /2/tweets/:id",
    "GET /2/tweets/:id/retweets",
    "GET /2/tweets/:id/retweeted_by",
    "GET /2/tweets/:id/quote_tweets",
    "GET /2/tweets/:id/liking_users",
    "GET /2/tweets/search/recent",
    "GET /2/users",
    "GET /2/users/by",
    "GET /2/users/:id/following",
)
DEFAULT_LIMITS = {
    "GET /2/tweets": 3500,
    "GET /2/tweets/:id": 450,
    "GET /2/tweets/:id/retweets": 75,
    "GET /2/tweets/:id/retweeted_by": 75,
    "GET /2/tweets/:id/quote_tweets": 75,
    "GET /2/tweets/:id/liking_users": 75,
    "GET /2/tweets/search/recent": 450,
    "GET /2/users": 300,
    "GET /2/users/by": 300,
    "GET /2/users/:id/following": 300,
}


@dataclass
class Window:
    start: float
    used: int = 0


class RateLimiter:
    """One bucket per endpoint key (per app). A window opens at the first call after the previous one ended,
    as X's do, and lasts 15 minutes of the clock."""

    def __init__(self, limits: Callable[[], dict[str, int]]):
        self._limits = limits
        self._windows: dict[str, Window] = {}

    def limit(self, key: str) -> int:
        return self._limits().get(key, DEFAULT_LIMITS.get(key, 300))

    def _window(self, key: str, now: float) -> Window:
        window = self._windows.get(key)
        if window is None or now >= window.start + WINDOW_SECONDS:
            window = Window(start=now)
            self._windows[key] = window
        return window

    def peek(self, key: str, now: datetime) -> tuple[int, int, int]:
        """(limit, remaining, reset) without using a call."""
        window = self._window(key, now.timestamp())
        limit = self.limit(key)
        return limit, max(0, limit - window.used), math.ceil(window.start + WINDOW_SECONDS)

    def hit(self, key: str, now: datetime) -> tuple[bool, tuple[int, int, int]]:
        window = self._window(key, now.timestamp())
        limit = self.limit(key)
        allowed = window.used < limit
        if allowed:
            window.used += 1
        return allowed, (limit, max(0, limit - window.used), math.ceil(window.start + WINDOW_SECONDS))

    def reset(self) -> None:
        self._windows.clear()


class Usage:
    """Calls per endpoint and status; billable posts and users, each at most once per UTC day."""

    def __init__(self, log_size: int = 5000):
        self.log_size = log_size
        self.reset()

    def reset(self) -> None:
        self.calls: Counter[tuple[str, int]] = Counter()
        self.faults: Counter[str] = Counter()
        self._billed: set[tuple[str, str, str]] = set()  # (utc day, kind, id)
        self.billed: Counter[tuple[str, str]] = Counter()  # (endpoint, kind) -> items billed
        self.log: deque[dict] = deque(maxlen=self.log_size)

    def record(
        self,
        *,
        endpoint: str,
        status: int,
        url: str,
        now: datetime,
        fault: str | None = None,
        posts: int = 0,
        users: int = 0,
    ) -> None:
        self.calls[(endpoint, status)] += 1
        if fault:
            self.faults[fault] += 1
        self.log.append(
            {
                "at": x_time(now),
                "endpoint": endpoint,
                "status": status,
                "url": url,
                "fault": fault,
                "billed_posts": posts,
                "billed_users": users,
            }
        )

    def bill(
        self, endpoint: str, now: datetime, post_ids: Iterable[str], user_ids: Iterable[str]
    ) -> tuple[int, int]:
        day = now.date().isoformat()
        counts = []
        for kind, ids in (("post", post_ids), ("user", user_ids)):
            new = 0
            for item in dict.fromkeys(ids):
                key = (day, kind, item)
                if key not in self._billed:
                    self._billed.add(key)
                    new += 1
            self.billed[(endpoint, kind)] += new
            counts.append(new)
        return counts[0], counts[1]

    def summary(self) -> dict:
        by_endpoint: dict[str, dict] = {}
        for (endpoint, status), n in sorted(self.calls.items()):
            entry = by_endpoint.setdefault(endpoint, {"calls": 0, "by_status": {}, "posts": 0, "users": 0})
            entry["calls"] += n
            entry["by_status"][str(status)] = n
        for (endpoint, kind), n in self.billed.items():
            entry = by_endpoint.setdefault(endpoint, {"calls": 0, "by_status": {}, "posts": 0, "users": 0})
            entry[kind + "s"] += n
        posts = sum(n for (_, kind), n in self.billed.items() if kind == "post")
        users = sum(n for (_, kind), n in self.billed.items() if kind == "user")
        return {
            "total_calls": sum(self.calls.values()),
            "endpoints": by_endpoint,
            "faults": dict(self.faults),
            "billable": {"posts": posts, "users": users},
            "cost_usd": round(posts * POST_PRICE_USD + users * USER_PRICE_USD, 6),
            "prices_usd": {"post": POST_PRICE_USD, "user": USER_PRICE_USD},
        }
