"""Reading the simulator's call log over HTTP while a campaign is driven.

The simulator keeps only its last 5,000 calls, so long runs collect the log as they go: ``CallLog.collect``
(pass it as ``drive(..., on_tick=log.collect)``) fetches the calls made since its previous visit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx

from socap.clock import parse_instant

LOG_SIZE = 5000
RETWEETS = "GET /2/tweets/:id/retweets"
QUOTES = "GET /2/tweets/:id/quote_tweets"
SEARCH = "GET /2/tweets/search/recent"
LOOKUP = "GET /2/tweets"


class CallLog:
    def __init__(self, server):
        self.url = server.url
        self.http = httpx.Client(base_url=server.url, timeout=30)
        self.calls: list[dict] = []
        self.seen = self._total()

    def _total(self) -> int:
        return self.http.get("/_sim/usage").json()["total_calls"]

    def collect(self, *_ignored) -> list[dict]:
        """Fetch the calls made since the last visit (also usable as a ``drive`` on_tick hook)."""
        total = self._total()
        fresh = total - self.seen
        if fresh <= 0:
            return []
        assert fresh <= LOG_SIZE, f"{fresh} calls between two visits: the simulator's log lost some"
        calls = self.http.get("/_sim/calls", params={"limit": fresh}).json()["calls"]
        assert len(calls) == fresh
        for call in calls:
            call["at"] = parse_instant(call["at"])
        self.calls += calls
        self.seen = total
        return calls

    def between(self, start: datetime, end: datetime, endpoint: str | None = None) -> list[dict]:
        return [c for c in self.calls if start <= c["at"] < end and (endpoint is None or c["endpoint"] == endpoint)]

    def mentioning(self, tweet_id: str) -> list[dict]:
        return [c for c in self.calls if tweet_id in c["url"]]

    def statuses(self) -> Counter:
        return Counter(c["status"] for c in self.calls)

    def close(self) -> None:
        self.http.close()


def asked_for(call: dict) -> int:
    """The max_results a call asked for."""
    return int(parse_qs(urlsplit(call["url"]).query)["max_results"][0])


def cycles(calls: Iterable[dict], start: datetime, interval: timedelta = timedelta(minutes=30)) -> Counter:
    """Calls per poll cycle: cycle k covers [start + k·interval, start + (k+1)·interval)."""
    return Counter(int((c["at"] - start) / interval) for c in calls)
