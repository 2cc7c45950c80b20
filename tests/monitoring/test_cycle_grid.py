"""Metrics polls stay on the campaign's 30-minute grid, even after a run was retried late."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from socap.monitoring.jobs import next_cycle
from socap.monitoring.models import PollJob

START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
EVERY = timedelta(minutes=30)


def test_a_late_retry_goes_back_on_the_grid():
    # the 14:00 poll failed (two 503s) and was retried at 14:02: the next one is 14:30, not 14:32
    job = PollJob(next_run_at=START + timedelta(hours=5, minutes=2))
    now = START + timedelta(hours=5, minutes=2, seconds=10)
    assert next_cycle(job, now=now, interval=EVERY, origin=START) == START + timedelta(hours=5, minutes=30)


def test_on_time_and_overdue_runs():
    job = PollJob(next_run_at=START + timedelta(hours=1))
    assert next_cycle(job, now=START + timedelta(hours=1, seconds=3), interval=EVERY, origin=START) == \
        START + timedelta(hours=1, minutes=30)
    # a campaign paused for 2 h 10 min and resumed: the next cycle is the next grid point
    job = PollJob(next_run_at=START + timedelta(hours=3, minutes=10))
    assert next_cycle(job, now=START + timedelta(hours=3, minutes=10), interval=EVERY, origin=START) == \
        START + timedelta(hours=3, minutes=30)


def test_a_job_already_scheduled_later_keeps_its_time():
    job = PollJob(next_run_at=START + timedelta(hours=2))
    assert next_cycle(job, now=START + timedelta(hours=1, minutes=40), interval=EVERY, origin=START) == \
        START + timedelta(hours=2)
