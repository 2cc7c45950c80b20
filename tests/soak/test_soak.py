"""The soak: three virtual days of a 12-post launch on real processes while X and the infrastructure fail.

Two `socap scheduler` and two `socap worker` processes share a private PostgreSQL (app database) and a
private Redis (Huey queue, nothing kept on disk) with the X simulator, a process of its own, on one
accelerated virtual clock (SOCAP_CLOCK=shared:…, a socap.clock.SharedClock). X answers 10% of calls with
429, 5% with 503, times out 2% (the client gives up before the answer), garbles 1%, and on day 2 refuses
two calls in a row with 402 (credits depleted: polling pauses app-wide). Meanwhile the test SIGKILLs a worker
three times (a supervisor starts a new one at once), restarts Redis (its queued messages are gone) and
restarts PostgreSQL (every open connection is cut).

At the end: the engagements equal the simulator's truth (none missing, none twice), every post's final
metrics equal X's, every alert (and the completion summary) reached the webhook receiver, and a message
arrived twice only under the same idempotency key, at most once per crash. The figures are printed
(``pytest -s``) as one ``SOAK {...}`` JSON line.

The test gears the clock down while work piles up and up again when the workers keep up (support.Gearbox):
virtual time must not outrun the machine, or deadlines kept on it (a lease, how long the final run may wait
for work) pass before the work could be done. On a loaded machine the soak thus takes longer, and the engine
still merges busy cycles (one campaign's worker transactions queue on its row): the figures say how many
30-minute cycles it polled and how long the clock ran in low gear.

Runs in CI's PostgreSQL pass only (SOCAP_TEST_DATABASE_URL set), so once per CI run; it needs Debian's
postgresql-common (pg_createcluster, as root the first time) and redis-server.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from socap import migrations
from socap.alerts.models import Alert, AlertDelivery
from socap.campaigns.models import Campaign
from socap.clock import ManualClock, SharedClock, format_instant
from socap.config import Settings
from socap.monitoring.models import Engagement, MetricSnapshot, PollJob
from socap.queue import make_huey
from socap.runtime import Runtime
from socap.simulator import at, hours
from tests.alerts.conftest import Receiver, import_and_sync_seeds
from tests.conftest import PG_URL, REPO_ROOT
from tests.monitoring.support import capturable, create_campaign, latest_metrics, stored_engagements, truth
from tests.soak.services import PrivatePostgres, PrivateRedis, missing_binaries
from tests.soak.support import Gearbox, Processes, free_port, offset
from tests.soak.world import CLIENT_TIMEOUT_SECONDS, SOAK

pytestmark = [
    pytest.mark.serial,  # processes on a shared virtual clock and private servers: it wants the machine
    pytest.mark.slow,
    pytest.mark.timeout(480),
    pytest.mark.skipif(not PG_URL, reason="the soak runs once per CI run, in the PostgreSQL pass "
                                          "(set SOCAP_TEST_DATABASE_URL)"),
]

# The virtual clock (a SharedClock all processes read) stands almost still (1x) while the processes start and the
# set-up runs, then runs TOP_SPEED times real time (3 days in 54 s) while the workers keep up and LOW_SPEED while
# work piles up: virtual time must not outrun the machine, or deadlines measured on it (a lease, the hours the
# final run may take) pass before the work could be done. How long the soak takes thus depends on the machine.
TOP_SPEED, LOW_SPEED = 4800.0, 600.0
LEASE_REAL_SECONDS = 8.0  # a job lease at top speed (64 s at low speed, where the work is)
SETUP_LEAD = hours(10)  # the set-up's own clock: this long before the campaign starts
WORKERS, WORKER_THREADS, SCHEDULERS = 2, 1, 2  # one campaign's writes queue on its row anyway
OUTAGE_REAL_SECONDS = 1.0  # how long PostgreSQL and Redis stay down
CHAOS = [  # (virtual instant, what happens)
    (at("D1 H0 M30"), "kill worker"),  # in the launch burst
    (at("D1 H10"), "restart redis"),
    (at("D1 H20"), "kill worker"),
    (at("D2 H8 M30"), "restart postgresql"),  # in the second wave
    (at("D2 H16"), "kill worker"),
]
SOCAP = str(Path(sys.executable).with_name("socap"))


@pytest.fixture
def services():
    reason = missing_binaries()
    if reason:
        pytest.skip(reason)
    postgres, redis = PrivatePostgres(), PrivateRedis()
    reason = postgres.ensure()
    if reason:
        pytest.skip(reason)
    redis.start()
    try:
        yield postgres, redis
    finally:
        redis.stop()
        postgres.stop()


def _set_up(database_url: str, start_simulator, receiver: Receiver) -> tuple[Runtime, int]:
    """Seeds imported and synced, the campaign created, as a user would, against a well-behaved simulator
    (in-process, its clock stopped ten hours before the campaign), while the soak's processes start up."""
    world = SOAK.build_world()
    server = start_simulator(world, clock=ManualClock(world.start - SETUP_LEAD))
    settings = Settings(_env_file=None, database_url=database_url, x_api_base_url=server.api_base)
    rt = Runtime(settings, clock=server.clock, auto_migrate=False)
    import_and_sync_seeds(rt, SOAK)
    campaign_id = create_campaign(rt, SOAK, notify_urls=[receiver.url])
    server.stop()
    return rt, campaign_id


def _finished(rt: Runtime, campaign_id: int) -> bool:
    """Completed, and nothing of its alerts (the summary included) left to send."""
    try:
        with rt.db.session() as s:
            if s.get(Campaign, campaign_id).status != "completed":
                return False
            return s.scalar(select(func.count()).select_from(AlertDelivery)
                            .join(Alert, Alert.id == AlertDelivery.alert_id)
                            .where(Alert.campaign_id == campaign_id, AlertDelivery.status == "queued")) == 0
    except OperationalError:  # PostgreSQL is restarting
        return False


def _busy(rt: Runtime, queue_size, lease: timedelta):
    """Tasks waiting or under way: queued ones, and those whose jobs' lease was taken or extended in the last
    virtual hour (a dead worker's stop counting after that hour, long before their lease runs out). One task
    polls the metrics of all posts and one searches the replies of all: those count once."""
    def busy() -> int:
        with rt.db.session() as s:
            kinds = s.scalars(select(PollJob.kind).where(
                PollJob.lease_owner.is_not(None), PollJob.lease_expires_at > rt.clock.now() + lease - hours(1))).all()
        return queue_size() + sum(1 for k in kinds if k in ("retweets", "quotes")) + len(
            {"metrics", "replies"} & set(kinds))
    return busy


def test_soak_three_days_of_faults_and_crashes_end_equal_to_the_truth(services, start_simulator, tmp_path):
    postgres, redis = services
    started = time.monotonic()
    world = SOAK.build_world()
    database_url = postgres.recreate_database("soak")
    migrations.upgrade(database_url)
    clock = SharedClock.create(tmp_path / "clock.json", world.start - timedelta(minutes=30), speed=1.0)
    lease = timedelta(seconds=LEASE_REAL_SECONDS * TOP_SPEED)
    port = free_port()
    env = {**os.environ, "SOCAP_DATABASE_URL": database_url, "SOCAP_QUEUE_URL": redis.url,
           "SOCAP_CLOCK": clock.spec(), "SOCAP_X_API_BASE_URL": f"http://127.0.0.1:{port}/2",
           "SOCAP_X_BEARER_TOKEN": "soak-token", "SOCAP_X_TIMEOUT_SECONDS": str(CLIENT_TIMEOUT_SECONDS),
           "SOCAP_JOB_LEASE_MINUTES": str(lease / timedelta(minutes=1)),
           "SOCAP_DISPATCH_INTERVAL_SECONDS": "600", "SOCAP_ALERT_TICK_SECONDS": "900",
           "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "src"), str(REPO_ROOT)]), "PYTHONUNBUFFERED": "1"}
    logs = Path(os.environ.get("SOCAP_SOAK_LOGS") or tmp_path / "logs")  # keep them somewhere: SOCAP_SOAK_LOGS
    logs.mkdir(parents=True, exist_ok=True)
    procs = Processes(logs, env)
    sim_url = f"http://127.0.0.1:{port}"
    sim = httpx.Client(base_url=sim_url, timeout=30)
    receiver = Receiver(clock)
    try:
        procs.start("simulator", [sys.executable, "-m", "tests.soak.simulator", "--port", str(port),
                                  "--clock", clock.spec()])
        for _ in range(SCHEDULERS):
            procs.start("scheduler", [SOCAP, "scheduler"])
        workers = [procs.start("worker", [SOCAP, "worker", "--threads", str(WORKER_THREADS)])
                   for _ in range(WORKERS)]
        rt, campaign_id = _set_up(database_url, start_simulator, receiver)
        rt = Runtime(rt.settings, clock=clock, auto_migrate=False)
        _wait_ready(procs, sim)
        setup_seconds = time.monotonic() - started
        gears = Gearbox(clock, _busy(rt, make_huey(redis.url).storage.queue_size, lease), top=TOP_SPEED,
                        low=LOW_SPEED)
        gears.start()
        figures = _soak(procs, rt, campaign_id, world, gears, workers, postgres, redis)
        figures["expected_truth"] = truth(SimpleNamespace(url=sim_url), at=world.end)
        figures["usage"] = sim.get("/_sim/usage").json()
    finally:
        procs.stop_all()
        receiver.close()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    figures.update(wall_seconds=round(time.monotonic() - started, 1), setup_seconds=round(setup_seconds, 1),
                   gears=gears.figures(), children_cpu_seconds=round(children.ru_utime + children.ru_stime, 1))
    _check(rt, campaign_id, world, receiver, figures)


def _wait_ready(procs: Processes, sim: httpx.Client, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            up = sim.get("/_sim/health").status_code == 200
        except httpx.HTTPError:
            up = False
        if up and procs.all_ready():
            return
        assert time.monotonic() < deadline and not procs.dead(), "processes did not start\n" + procs.tails()
        time.sleep(0.2)


def _soak(procs: Processes, rt: Runtime, campaign_id: int, world, gears: Gearbox, workers: list[str],
          postgres: PrivatePostgres, redis: PrivateRedis) -> dict:
    """Let the processes run the campaign to its end while the chaos plan unfolds; returns what was done."""
    clock = gears.clock
    plan = [(world.start + when, action) for when, action in CHAOS]
    done: dict = {"kills": 0, "restarts": Counter(), "queue_messages_lost_in_redis_restart": 0, "chaos": []}
    queue_size = make_huey(redis.url).storage.queue_size
    deadline = time.monotonic() + 400
    while not _finished(rt, campaign_id):
        assert time.monotonic() < deadline, f"not finished at {format_instant(clock.now())}\n" + procs.tails()
        died = procs.dead()
        assert not died, f"a process died by itself: {died}\n" + procs.tails()
        # the next blow falls when it is due and every process is up (a worker started after a kill that
        # meets a database restart while it connects exits, as any fail-fast service would)
        while plan and clock.now() >= plan[0][0] and procs.all_ready():
            _, action = plan.pop(0)
            done["chaos"].append(f"{offset(clock.now(), world.start)} {action}")
            if action == "kill worker":
                procs.kill(workers.pop(0))
                done["kills"] += 1
                workers.append(procs.start("worker", [SOCAP, "worker", "--threads", str(WORKER_THREADS)]))
            elif action == "restart redis":
                done["queue_messages_lost_in_redis_restart"] += queue_size()
                redis.restart(OUTAGE_REAL_SECONDS)
                done["restarts"]["redis"] += 1
            else:
                postgres.restart(OUTAGE_REAL_SECONDS)
                done["restarts"]["postgresql"] += 1
        gears.step()
        time.sleep(0.25)
    assert not plan, f"the campaign completed before the chaos plan was through: {plan}"
    done["completed"] = offset(clock.now(), world.start)
    done["restarts"] = dict(done["restarts"])
    return done


def _check(rt: Runtime, campaign_id: int, world, receiver: Receiver, figures: dict) -> None:
    expected_truth = figures.pop("expected_truth")
    usage = figures.pop("usage")

    # ---------------------------------------------------------------- engagements
    expected = capturable(expected_truth)
    stored = stored_engagements(rt, campaign_id)
    missing = expected - set(stored)
    duplicated = sum(n - 1 for n in Counter(stored).values())
    unexpected = set(stored) - expected

    # ---------------------------------------------------------------- final metrics
    final = latest_metrics(rt, campaign_id)
    mismatches = {p["id"]: (p["public_metrics"], final.get(p["id"])) for p in expected_truth["posts"]
                  if final.get(p["id"]) != p["public_metrics"]}
    with rt.db.session() as s:
        ends_at = s.get(Campaign, campaign_id).ends_at
        final_polls = s.scalar(select(func.count(func.distinct(MetricSnapshot.campaign_tweet_id))).where(
            MetricSnapshot.campaign_id == campaign_id, MetricSnapshot.taken_at >= ends_at))
        polled_cycles = s.scalar(select(func.count(func.distinct(MetricSnapshot.taken_at))).where(
            MetricSnapshot.campaign_id == campaign_id))
    alerts, problems = _alert_figures(rt, campaign_id, world, receiver, expected_truth)
    crashes = figures["kills"] + sum(figures["restarts"].values())
    faults = dict(usage["faults"])
    faults["credits_depleted_402"] = faults.pop("scripted", 0)
    figures.update({
        "engagements": {"truth": len(expected), "stored": len(stored), "missing": len(missing),
                        "duplicated": duplicated, "not_in_truth": len(unexpected)},
        "metrics": {"posts": len(expected_truth["posts"]), "mismatches": len(mismatches),
                    "final_polls": final_polls, "cycles_polled": polled_cycles},
        "alerts": alerts,
        "x_calls": usage["total_calls"], "faults_injected": faults,
    })
    print("\nSOAK " + json.dumps(figures))

    assert not missing and not duplicated and not unexpected, figures
    assert not mismatches, mismatches
    assert not problems, problems
    assert alerts["statuses"] == {"sent": alerts["expected"] + 1}, figures  # + the summary; none failed, cancelled
    assert alerts["duplicates"] <= crashes, figures
    assert figures["kills"] == 3 and figures["restarts"] == {"redis": 1, "postgresql": 1}
    for kind in ("rate_limited", "error", "timeout", "malformed", "credits_depleted_402"):
        assert faults.get(kind, 0) > 0, f"no {kind} fault was injected: {faults}"


def _alert_figures(rt: Runtime, campaign_id: int, world, receiver: Receiver, expected_truth: dict
                   ) -> tuple[dict, list[str]]:
    """What the webhook receiver got against what should have come: one alert per engagement of an account at
    or above the threshold, plus the summary; each delivered, duplicates only under the same key."""
    important = {e["source_tweet_id"] for e in expected_truth["engagements"]
                 if e["direct"] and e["visible"] and world.importance(e["account_id"]) >= world.threshold}
    with rt.db.session() as s:
        alerts = s.execute(select(Alert.id, Alert.kind, Alert.status, Engagement.source_tweet_id)
                           .outerjoin(Engagement, Engagement.id == Alert.engagement_id)
                           .where(Alert.campaign_id == campaign_id)).all()
        hook = dict(s.execute(select(AlertDelivery.idempotency_key, AlertDelivery.alert_id)
                              .join(Alert, Alert.id == AlertDelivery.alert_id)
                              .where(Alert.campaign_id == campaign_id, AlertDelivery.channel == receiver.url)).all())
    created = {str(a.source_tweet_id) for a in alerts if a.kind == "engagement"}
    summary_ids = {a.id for a in alerts if a.kind == "summary"}
    keys = [m["headers"].get("X-Idempotency-Key") for m in receiver.messages]
    received = Counter(keys)
    bodies: dict[str, set[str]] = {}
    for message, key in zip(receiver.messages, keys, strict=True):
        bodies.setdefault(key, set()).add(json.dumps(message["body"], sort_keys=True))
    problems = []
    if created != important:
        problems.append(f"alerts for {sorted(important - created)} missing, {sorted(created - important)} unexpected")
    if set(hook) - set(received):
        problems.append(f"{len(set(hook) - set(received))} deliveries never reached the receiver")
    if set(received) - set(hook):
        problems.append(f"the receiver got keys SOCAP never gave out: {sorted(set(received) - set(hook))}")
    if any(len(b) > 1 for b in bodies.values()):
        problems.append("one idempotency key carried different messages")
    return {"expected": len(important), "created": len(created), "statuses": dict(Counter(a.status for a in alerts)),
            "delivered": len(set(received) & set(hook)), "receiver_messages": len(keys),
            "duplicates": sum(n - 1 for n in received.values()),
            "summary_delivered": any(hook[k] in summary_ids for k in received if k in hook)}, problems
