"""Distributed mode on real processes: 1 `socap web`, 2 `socap scheduler`, 3 `socap worker` and the X simulator,
each its own OS process, sharing PostgreSQL (SOCAP_DATABASE_URL), a Redis queue (SOCAP_QUEUE_URL) and one
virtual clock (SOCAP_CLOCK=shared:PATH, whose speed the test sets: see FAST and SLOW below).

The campaign is the 500-post world of tests/distributed/world.py, watched for 2 hours of virtual time. The
user and the API token come from `socap user create` / `socap user token`; the campaign is created through
the web process's API once the processes are up, and starts with the world (or, if booting outlasted the
clock's lead, a minute after creation: the world's earlier engagements are then part of its backfill); one
worker is SIGKILLed in the middle of a task while the backfill runs. At the end:

- the database equals the simulator's truth: every engagement of the window once, the final metrics of all
  500 posts (as X showed them at the final poll), every high-importance engagement alerted once (by the
  schedulers' outboxes) and the completion summary;
- the processes shared one rate-limit budget: X never answered 429;
- no poll job ran twice at once: in the workers' task log (socap.monitoring.worker.TaskTrace) the X-call
  spans of one job's tasks never overlap and no task message ran twice; the jobs the killed worker held
  were taken over by other workers only after their lease had expired;
- the web process serves that same database: /healthz, and the API's totals equal the truth.

Redis rather than PostgresHuey for the queue: it is what deploy/compose.yaml runs; Huey's Redis storage
blocks on an empty queue instead of polling a table, and the queue's traffic stays off the database that the
claims, the budget and the ingest already contend for (tests/monitoring/test_queue.py covers PostgresHuey).

PostgreSQL only (SQLite is the single-host embedded mode): skipped on SQLite with that reason.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sys
import time
from collections import Counter
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from socap.alerts.masking import mask_url
from socap.campaigns.models import Campaign, CampaignTweet
from socap.campaigns.schemas import CampaignInput
from socap.clock import SharedClock
from socap.monitoring.models import MetricSnapshot, PollJob, Run
from socap.queue import make_huey
from tests.alerts.conftest import Receiver, import_and_sync_seeds
from tests.conftest import PG_URL
from tests.monitoring.calllog import LOOKUP, CallLog
from tests.monitoring.support import capturable, stored_engagements, truth, usage

from .cluster import SOCAP, Cluster, Pacer, overlapping_runs, task_log
from .world import FLEET, LIST_LIMIT, POSTS

pytestmark = [pytest.mark.serial,
              pytest.mark.skipif(not PG_URL, reason="distributed mode runs on PostgreSQL: set "
                                 "SOCAP_TEST_DATABASE_URL (CI's PostgreSQL pass does)")]

QUEUE_URL = os.environ.get("SOCAP_TEST_QUEUE_URL", "redis://127.0.0.1:6379/7")
# The processes share a SharedClock the test drives (cluster.Pacer): real time while they boot, then FAST times
# real time while the workers keep up and SLOW while tasks queue up, so a loaded machine makes the test
# longer, not wrong.
FAST, SLOW = 150.0, 5.0
BACKLOG_HIGH, BACKLOG_LOW = 36, 6  # queued tasks (6 worker threads)
LEAD = timedelta(minutes=10)  # the clock starts this long before the world's start, at real time
WINDOW = timedelta(hours=2)
LEASE_MINUTES = 60  # a job lease: 24 real seconds at FAST, 12 minutes at SLOW
KILL_AFTER = timedelta(minutes=25)  # into the window: the backfill (about an hour) is running
EMAIL = "ops@fleet.test"
PASSWORD = "distributed-test-password"
WORKERS = ("worker-1", "worker-2", "worker-3")


class Simulator:
    """What tests.monitoring.support's truth() and usage() need: the simulator process's base URL."""

    def __init__(self, url: str):
        self.url = url


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _status(rt, campaign_id: int) -> str:
    with rt.db.session() as s:
        return s.get(Campaign, campaign_id).status


def _kill_mid_task(cluster: Cluster, rt, name: str) -> tuple[float, dict[int, tuple[str, datetime]]]:
    """Freeze worker ``name`` (SIGSTOP) while a task it is running holds leased jobs, then SIGKILL it.

    Returns the kill's wall time and, per job its running tasks held then, (lease owner, lease expiry).
    The leases are read half a second after the freeze: a COMMIT the worker sent just before it (releasing
    its jobs) has landed by then, and what it had not committed dies with it. A frozen worker holding nothing
    (between two tasks) is let go (SIGCONT) and tried again."""
    worker = cluster.processes[name]
    for _ in range(300):
        worker.signal(signal.SIGSTOP)
        time.sleep(0.5)
        running = [t for t in task_log(worker.log) if t.finished is None]
        with rt.db.session() as s:
            rows = s.execute(select(PollJob.id, PollJob.lease_owner, PollJob.lease_expires_at)
                             .where(PollJob.lease_owner.in_({t.owner for t in running}))).all()
        held = {job: (owner, expires) for job, owner, expires in rows
                if any(job in t.jobs and owner == t.owner for t in running)}
        if held:
            worker.signal(signal.SIGKILL)
            killed_at = time.time()
            worker.popen.wait(10)
            return killed_at, held
        worker.signal(signal.SIGCONT)
        time.sleep(0.05)
    raise AssertionError(f"{name} never held a job while running a task")


def _wait_healthy(cluster: Cluster, web: httpx.Client, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        cluster.assert_running()
        try:
            if web.get("/healthz").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"socap web not healthy: {cluster.processes['web'].output()[-2000:]}"
        time.sleep(0.2)


@pytest.mark.timeout(1200)  # about 3 minutes on an idle machine; the pacer makes a loaded one take longer
def test_web_two_schedulers_three_workers_500_posts_equal_the_truth_through_a_worker_kill(
        database_url, make_runtime, tmp_path):
    wall = time.perf_counter()
    world = FLEET.build_world()
    queue = make_huey(QUEUE_URL)
    queue.flush()  # what an earlier, aborted run may have left in our Redis database
    web_port = _free_port()
    env = {**os.environ, "SOCAP_DATABASE_URL": database_url, "SOCAP_QUEUE_URL": QUEUE_URL,
           "SOCAP_X_BEARER_TOKEN": "distributed-test", "SOCAP_JOB_LEASE_MINUTES": str(LEASE_MINUTES),
           "SOCAP_WORKER_THREADS": "2", "SOCAP_WEB_HOST": "127.0.0.1", "SOCAP_WEB_PORT": str(web_port),
           # on a clock up to 150× real time, ticks every 2 (virtual) minutes and outbox passes every minute keep
           # the schedulers' load per real second near what the defaults cost in production
           "SOCAP_DISPATCH_INTERVAL_SECONDS": "120", "SOCAP_ALERT_TICK_SECONDS": "60",
           "SOCAP_SECRET_KEY": "distributed-test-secret-key-0123456789", "PYTHONUNBUFFERED": "1"}
    # the world's list limits (a higher tier than X's 75): what an operator would configure for theirs
    env["SOCAP_X_RATE_LIMITS"] = json.dumps({"GET /2/tweets/:id/retweets": LIST_LIMIT,
                                             "GET /2/tweets/:id/quote_tweets": LIST_LIMIT})
    for name in ("SOCAP_CLOCK", "SOCAP_CACHE_URL", "SOCAP_LOG_FORMAT"):
        env.pop(name, None)
    cluster = Cluster(env, tmp_path)
    receiver = Receiver()
    try:
        # the deployment's one-shot steps (compose's "migrate" service, then the operator's commands)
        assert "database at revision" in cluster.socap("db", "upgrade")
        cluster.socap("user", "create", EMAIL, "--password-stdin", stdin=PASSWORD + "\n")
        token = cluster.socap("user", "token", EMAIL, "--name", "distributed-test").strip().splitlines()[-1]

        # the long-running processes, on one clock (real time while they boot)
        clock = SharedClock.create(tmp_path / "clock.json", world.start - LEAD, speed=1.0)
        pacer = Pacer(clock, queue, fast=FAST, slow=SLOW, high=BACKLOG_HIGH, low=BACKLOG_LOW)
        env["SOCAP_CLOCK"] = clock.spec()
        receiver.clock = clock
        cluster.start("simulator", sys.executable, "-m", "tests.distributed.world", "--clock", clock.spec())
        sim = Simulator(cluster.wait_for_line("simulator", "simulator http://").split()[1])
        calllog = CallLog(sim)
        env["SOCAP_X_API_BASE_URL"] = sim.url + "/2"
        cluster.start("web", SOCAP, "web")
        for name in ("scheduler-1", "scheduler-2"):
            cluster.start(name, SOCAP, "scheduler")
        for name in WORKERS:
            # SIGINT stops a Huey consumer gracefully (SIGTERM abandons its running tasks)
            cluster.start(name, SOCAP, "worker", "--threads", "2", stop_signal=signal.SIGINT)
        rt = make_runtime(clock=clock, x_api_base_url=sim.url + "/2", queue_url=QUEUE_URL,
                          job_lease_minutes=LEASE_MINUTES)
        import_and_sync_seeds(rt, FLEET)
        web = httpx.Client(base_url=f"http://127.0.0.1:{web_port}", timeout=60,
                           headers={"Authorization": f"Bearer {token}"})
        _wait_healthy(cluster, web)
        for name in WORKERS:
            cluster.wait_for_line(name, "", contains="Huey consumer started", timeout=120)

        # the campaign starts with the world (later if booting took longer than the lead: the world's
        # earlier engagements are its backfill then); the clock jumps there and runs fast
        starts = max(world.start, clock.now() + timedelta(minutes=1))
        ends = starts + WINDOW
        data = CampaignInput.from_spec(FLEET.campaign_spec(), starts_at=starts, days=None, ends_at=ends,
                                       notify_urls=[receiver.url])
        created = web.post("/api/v1/campaigns", json=data.model_dump(mode="json", exclude_none=True))
        assert created.status_code == 201, created.text
        campaign_id = created.json()["id"]
        late = starts - world.start
        pacer.gear(FAST, at=max(clock.now(), starts - timedelta(seconds=30)))

        while clock.now() < starts + KILL_AFTER:
            cluster.assert_running()
            pacer.step()
            time.sleep(0.2)
        killed_at, held = _kill_mid_task(cluster, rt, "worker-1")
        dead_pid = cluster.processes["worker-1"].pid

        deadline = time.monotonic() + 900
        while _status(rt, campaign_id) != "completed" or not _all_sent(web, campaign_id):
            assert time.monotonic() < deadline, f"not done at {clock.now()} ({_status(rt, campaign_id)})"
            cluster.assert_running()
            pacer.step()
            time.sleep(0.2)
        calllog.collect()  # once, now that X is quiet (its log keeps 5,000 calls; collect() says if it lost any)
        completed_after = clock.now() - ends
        expected = truth(sim, at=ends)
        polled = _last_lookups(calllog)
        shown = {at: truth(sim, at=at) for at in set(polled.values())}
        calls = usage(sim)
        health = web.get("/healthz")
        summary = web.get(f"/api/v1/campaigns/{campaign_id}/summary")
        alerts = web.get(f"/api/v1/campaigns/{campaign_id}/alerts").json()
    finally:
        cluster.stop()
        receiver.close()

    # the database equals the simulator's truth
    stored = stored_engagements(rt, campaign_id)
    assert len(stored) == len(set(stored)), "an engagement was stored twice"
    assert set(stored) == capturable(expected)
    final = _final_metrics(rt, campaign_id)
    assert len(final) == POSTS
    for post_id, (taken_at, metrics) in final.items():  # as X showed them when the final poll asked
        assert polled[post_id] <= taken_at
        assert metrics == next(p for p in shown[polled[post_id]]["posts"] if p["id"] == post_id)["public_metrics"]
    scores = {a["id"]: a["importance"] for a in expected["accounts"]}
    important = sorted(scores[e["account_id"]] for e in expected["engagements"]
                       if e["direct"] and e["visible"] and scores[e["account_id"]] >= world.threshold)
    engagement_alerts = [a for a in alerts if a["kind"] == "engagement"]
    assert sorted(a["importance"] for a in engagement_alerts) == important
    assert [a["kind"] for a in alerts].count("summary") == 1
    keys = [d["idempotency_key"] for a in alerts for d in a["deliveries"] if d["channel"] == mask_url(receiver.url)]
    received = Counter(m["headers"]["X-Idempotency-Key"] for m in receiver.messages)
    assert received == Counter(keys), "a message was lost or delivered twice"

    # one rate-limit budget for every process: X never had to refuse a call
    statuses: Counter = Counter()
    for entry in calls["endpoints"].values():
        statuses.update({int(status): n for status, n in entry["by_status"].items()})
    assert set(statuses) == {200}, statuses

    # no job ran twice at once; the killed worker's jobs waited for their lease to expire, then moved
    tasks = [t for name in WORKERS for t in task_log(tmp_path / f"{name}.log")]
    assert not overlapping_runs(tasks, killed={dead_pid: killed_at})
    outcomes = Counter(t.outcome for t in tasks)
    # (a task that reached X after its lease had run out — a message that waited too long in the queue — ends
    # "lease lost" and writes nothing; that is the lease working, and the overlap check above still holds)
    assert outcomes["crashed"] == 0, outcomes
    assert max(Counter((t.owner, job) for t in tasks for job in t.jobs).values()) == 1, "a message ran twice"
    takeovers = []
    for job, (owner, expires) in held.items():
        after = [t for t in tasks if job in t.jobs and t.pid != dead_pid and t.first_call and t.started > killed_at]
        assert after, f"nobody took job {job} over from the killed worker"
        first = min(after, key=lambda t: t.first_call)
        assert first.owner != owner and pacer.virtual(first.first_call) >= expires
        takeovers.append(pacer.virtual(first.first_call) - pacer.virtual(killed_at))
    with rt.db.session() as s:
        runs = s.scalars(select(Run).where(Run.campaign_id == campaign_id)).all()
        assert s.scalar(select(PollJob.id).where(PollJob.campaign_id == campaign_id,
                                                 PollJob.lease_owner.is_not(None)).limit(1)) is None

    # the web process serves the same database
    assert health.status_code == 200
    assert summary.status_code == 200, summary.text
    totals = {k: v["value"] for k, v in summary.json()["totals"].items()}
    by_action = Counter(action for _, action, _ in stored)
    assert (totals["engagements"], totals["retweets"], totals["replies"], totals["quotes"]) == \
        (len(stored), by_action["retweet"], by_action["reply"], by_action["quote"])
    assert totals["likes"] == sum(p["public_metrics"]["like_count"] for p in expected["posts"])
    assert totals["high_importance_accounts"] == len(important)

    print("\n" + json.dumps({
        "test": "distributed", "database": "postgresql", "queue": "redis", "wall_seconds":
        round(time.perf_counter() - wall, 1), "speeds": [FAST, SLOW], "slow_seconds": round(pacer.slow_seconds, 1),
        "gear_changes": len(pacer.gears), "posts": POSTS, "engagements": len(stored),
        "engagements_by_action": dict(by_action), "alerts": len(engagement_alerts),
        "messages_received": sum(received.values()), "runs": len(runs), "x_calls": calls["total_calls"],
        "x_statuses": dict(statuses), "tasks": len(tasks), "tasks_with_x_calls": sum(1 for t in tasks if t.calls),
        "task_outcomes": dict(outcomes), "jobs_compared": len({j for t in tasks if t.calls for j in t.jobs}),
        "campaign_started_late_by": str(late), "killed_at": str(pacer.virtual(killed_at) - starts),
        "killed_worker_held_jobs": len(held),
        "takeover_after": {"first": str(min(takeovers)), "last": str(max(takeovers))},
        "completed_after_end": str(completed_after),
    }))


def _final_metrics(rt, campaign_id: int) -> dict[str, tuple[datetime, dict]]:
    """Per post: when its last snapshot (the final poll's) was taken, and its figures."""
    fields = ("like_count", "retweet_count", "reply_count", "quote_count", "impression_count", "bookmark_count")
    with rt.db.session() as s:
        rows = s.execute(select(CampaignTweet.tweet_id, MetricSnapshot)
                         .join(CampaignTweet, CampaignTweet.id == MetricSnapshot.campaign_tweet_id)
                         .where(MetricSnapshot.campaign_id == campaign_id)
                         .order_by(MetricSnapshot.taken_at, MetricSnapshot.id)).all()
    return {str(tweet_id): (snap.taken_at, {f: getattr(snap, f) for f in fields}) for tweet_id, snap in rows}


def _last_lookups(calllog: CallLog) -> dict[str, datetime]:
    """Per post id: when X (the simulator) last answered a metrics lookup naming it."""
    last: dict[str, datetime] = {}
    for call in calllog.calls:
        if call["endpoint"] == LOOKUP and call["status"] == 200:
            for post_id in re.findall(r"\d{15,20}", call["url"]):
                last[post_id] = max(last.get(post_id, call["at"]), call["at"])
    return last


def _all_sent(web: httpx.Client, campaign_id: int) -> bool:
    """Every alert (and the completion summary) delivered."""
    alerts = web.get(f"/api/v1/campaigns/{campaign_id}/alerts").json()
    return any(a["kind"] == "summary" for a in alerts) and all(a["status"] == "sent" for a in alerts)
