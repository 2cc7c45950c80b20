"""Test harness: an XClient wired to an httpx.MockTransport (a fake X), a ManualClock and a call log."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from socap.clock import ManualClock
from socap.x import CallRecord, XClient

TOKEN = "test-token-abc"
BASE_URL = "https://api.x.com/2"
START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
RESET = 1736154900  # 2025-01-06T09:15:00Z, one window after START

Item = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def rate_headers(limit: int = 75, remaining: int = 74, reset: int = RESET) -> dict[str, str]:
    return {
        "x-rate-limit-limit": str(limit),
        "x-rate-limit-remaining": str(remaining),
        "x-rate-limit-reset": str(reset),
    }


def reply(
    status: int = 200,
    body: Any = None,
    *,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
    rate: bool = True,
) -> httpx.Response:
    all_headers = rate_headers() if rate else {}
    all_headers.update(headers or {})
    if content is not None:
        return httpx.Response(status, content=content, headers=all_headers)
    return httpx.Response(status, json=body if body is not None else {}, headers=all_headers)


class RecordingClock(ManualClock):
    """A ManualClock that also remembers each sleep, to check the backoff schedule."""

    def __init__(self, start: datetime = START):
        super().__init__(start)
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        super().sleep(seconds)


class Harness:
    """Serves ``items`` in order (the last one repeats); exceptions are raised as transport faults."""

    def __init__(
        self,
        items: Item | Sequence[Item] | Callable[[httpx.Request], httpx.Response],
        *,
        token: str = TOKEN,
        max_retries: int = 3,
        seed: int = 1234,
        **client_kwargs: Any,
    ):
        if isinstance(items, httpx.Response | Exception) or callable(items):
            items = [items]
        self.items = list(items)
        self.requests: list[httpx.Request] = []
        self.calls: list[CallRecord] = []
        self.clock = RecordingClock()
        self.client = XClient(
            BASE_URL,
            token,
            transport=httpx.MockTransport(self._serve),
            clock=self.clock,
            on_call=self.calls.append,
            rng=random.Random(seed),
            max_retries=max_retries,
            **client_kwargs,
        )

    def _serve(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        item = self.items[min(len(self.requests), len(self.items)) - 1]
        if isinstance(item, Exception):
            raise item
        if isinstance(item, httpx.Response):
            return item
        return item(request)

    @property
    def slept(self) -> float:
        return sum(self.clock.sleeps)

    def params(self, index: int = -1) -> dict[str, str]:
        return dict(self.requests[index].url.params)
