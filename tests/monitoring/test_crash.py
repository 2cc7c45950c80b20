"""A worker process killed with SIGKILL in the middle of a backfill loses nothing and duplicates nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from socap.clock import VirtualClock
from socap.monitoring.engine import build_queue, run_tick
from socap.monitoring.models import PollJob
from socap.simulator import Scenario, hours
from socap.simulator.builder import ScenarioBuilder

from .support import capturable, create_campaign, stored_engagements, truth

pytestmark = pytest.mark.serial  # a worker process on a virtual clock with a real-time deadline

RETWEETS = 4000  # 40 pages of 100


def _popular(b: ScenarioBuilder) -> None:
    b.campaign("Crash test", start="2025-03-03T12:00:00Z", days=1, threshold=10)
    author = b.account("popular", name="Popular", bio="Very popular.")
    post = b.post("main", author=author, text="Everyone retweets this", created=-hours(20), likes={hours(0): 5000})
    b.retweets(post, RETWEETS, between=(-hours(19), -hours(1)))
    b.replies(post, 30, between=(-hours(19), -hours(1)))


POPULAR = Scenario.from_function("t_crash_popular", _popular)


def _worker(env: dict, log: Path) -> subprocess.Popen:
    exe = Path(sys.executable).with_name("socap")
    # the log goes to a file: a pipe nobody reads fills up (64 KB of INFO lines) and blocks the worker
    with log.open("a") as stderr:
        return subprocess.Popen([str(exe), "worker", "--threads", "1"], env=env, stdout=subprocess.DEVNULL,
                                stderr=stderr)


def _job(rt, kind: str) -> PollJob:
    with rt.db.session() as s:
        return s.scalar(select(PollJob).where(PollJob.kind == kind))


def test_sigkill_mid_backfill_then_restart_ends_equal_to_truth(start_simulator, make_runtime, tmp_path):
    world = POPULAR.build_world()
    clock = VirtualClock(world.start, speed=60)  # one real second = one virtual minute
    server = start_simulator(world, clock=clock)
    queue_url = f"sqlite:///{tmp_path}/queue.db"
    rt = make_runtime(server, clock=clock, queue_url=queue_url, job_lease_minutes=1)
    campaign_id = create_campaign(rt, POPULAR)
    queue = build_queue(rt)
    env = {**os.environ, "SOCAP_DATABASE_URL": rt.settings.database_url, "SOCAP_QUEUE_URL": queue_url,
           "SOCAP_CLOCK": clock.spec(), "SOCAP_X_API_BASE_URL": server.api_base, "SOCAP_JOB_LEASE_MINUTES": "1",
           "SOCAP_X_BEARER_TOKEN": "test-token"}

    # the post's first metrics poll, then (once it has told the counters) its lists
    kinds = [{m.kind for m in run_tick(rt, queue).messages}]
    first = _worker(env, tmp_path / "worker.log")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job = _job(rt, "retweets")
            if job.backfill_cursor and not job.backfill_done:
                break
            if job.lease_owner is None:
                kinds.append({m.kind for m in run_tick(rt, queue).messages})
            time.sleep(0.005)
        else:
            raise AssertionError("the worker never saved a backfill cursor")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    assert kinds[0] == {"metrics"} and {"retweets", "replies", "quotes"} <= set().union(*kinds[1:])
    stalled = _job(rt, "retweets")
    assert not stalled.backfill_done and stalled.backfill_cursor, "killed before it finished"
    partial = len([e for e in stored_engagements(rt, campaign_id) if e[1] == "retweet"])
    assert 0 < partial < RETWEETS

    second = _worker(env, tmp_path / "worker.log")
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            run_tick(rt, queue)  # reclaims the dead worker's lease once it expires
            if _job(rt, "retweets").backfill_done and _job(rt, "replies").backfill_done:
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the backfill never finished after the restart")
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(15)
        except subprocess.TimeoutExpired:
            second.kill()

    stored = stored_engagements(rt, campaign_id)
    assert len(stored) == len(set(stored))
    assert set(stored) == capturable(truth(server, at=clock.now() - timedelta(seconds=1)))
    assert len([e for e in stored if e[1] == "retweet"]) == RETWEETS
