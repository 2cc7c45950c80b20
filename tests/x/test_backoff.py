"""Retries back off with full jitter on the injected clock: bounded, deterministic, never real sleeping."""

from __future__ import annotations

import random
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socap.x import TransientError, XAPIError
from tests.x.support import START, Harness, reply


def _bound(base: float, cap: float, retries: int) -> list[float]:
    return [min(cap, base * 2**attempt) for attempt in range(retries)]


def _exhaust(harness: Harness) -> None:
    try:
        harness.client.get_users(["1"])
    except TransientError:
        return
    raise AssertionError("expected TransientError")


def test_total_sleep_is_bounded_and_on_the_clock() -> None:
    started = time.monotonic()
    harness = Harness(reply(503, {}), max_retries=5, backoff_base=0.5, backoff_cap=2.0)
    _exhaust(harness)
    caps = _bound(0.5, 2.0, 5)  # 0.5, 1, 2, 2, 2
    assert len(harness.clock.sleeps) == 5
    assert all(0 <= slept <= cap for slept, cap in zip(harness.clock.sleeps, caps, strict=True))
    assert 0 < harness.slept <= sum(caps)
    assert (harness.clock.now() - START).total_seconds() == pytest.approx(harness.slept, abs=1e-5)
    assert time.monotonic() - started < 1.0  # the ManualClock advanced; nothing really slept


def test_delays_match_full_jitter_formula() -> None:
    harness = Harness(reply(503, {}), max_retries=3, seed=99, backoff_base=1.0, backoff_cap=8.0)
    _exhaust(harness)
    rng = random.Random(99)
    assert harness.clock.sleeps == [rng.uniform(0, min(8.0, 1.0 * 2**a)) for a in range(3)]


def test_same_seed_same_schedule() -> None:
    first, second = Harness(reply(500, {}), seed=5), Harness(reply(500, {}), seed=5)
    _exhaust(first)
    _exhaust(second)
    assert first.clock.sleeps == second.clock.sleeps


def test_non_transient_errors_never_sleep() -> None:
    for status in (400, 401, 402, 403, 404, 429):
        harness = Harness(reply(status, {"title": "x"}))
        with pytest.raises(XAPIError):
            harness.client.get_users(["1"])
        assert harness.slept == 0 and len(harness.requests) == 1, status


@settings(max_examples=50, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    retries=st.integers(0, 6),
    base=st.floats(0.01, 5.0),
    cap=st.floats(0.01, 30.0),
)
def test_backoff_never_exceeds_caps(seed: int, retries: int, base: float, cap: float) -> None:
    harness = Harness(reply(503, {}), seed=seed, max_retries=retries, backoff_base=base, backoff_cap=cap)
    _exhaust(harness)
    caps = _bound(base, cap, retries)
    assert len(harness.requests) == retries + 1
    assert len(harness.clock.sleeps) == retries
    assert all(0 <= slept <= limit for slept, limit in zip(harness.clock.sleeps, caps, strict=True))
    assert harness.slept <= cap * retries + 1e-9
