"""X misbehaving: random 5xx, timeouts and malformed bodies cost retries, never data; a usage cap or a 402 pauses
polling for the whole app, visibly, until `socap polling resume` or the retry time."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from socap.campaigns.models import Campaign, CampaignTweet
from socap.cli import app
from socap.console import set_runtime
from socap.importance.models import Account
from socap.monitoring.engine import drive
from socap.monitoring.models import Engagement, MetricSnapshot, PollJob, Run
from socap.simulator import FaultProfile, hours, load_scenario, minutes
from socap.simulator.faults import MALFORMED_BODIES

from .calllog import CallLog
from .support import capturable, create_campaign, latest_metrics, memory_queue, stored_engagements, truth, usage

runner = CliRunner()


def _assert_equal_to_truth(rt, server, world, campaign_id) -> None:
    with rt.db.session() as s:
        assert s.get(Campaign, campaign_id).status == "completed"
    expected = truth(server, at=world.end)
    stored = stored_engagements(rt, campaign_id)
    duplicates = [k for k, n in Counter(stored).items() if n > 1]
    assert not duplicates, f"stored twice: {duplicates}"
    assert set(stored) == capturable(expected)
    final = latest_metrics(rt, campaign_id)
    assert {p["id"]: p["public_metrics"] for p in expected["posts"]} == final


def test_random_5xx_timeouts_and_malformed_bodies_still_end_exactly_equal_to_the_truth(start_simulator,
                                                                                      make_runtime):
    scenario = load_scenario("1")
    world = scenario.build_world()
    faults = FaultProfile(seed=11, error_rate=0.1, timeout_rate=0.04, timeout_delay_seconds=1.0,
                          malformed_rate=0.08)
    server = start_simulator(world)
    rt = make_runtime(server, x_timeout_seconds=0.3)  # the simulator's timeouts answer after 1 s
    campaign_id = create_campaign(rt, scenario)
    server.sim.set_faults(faults)  # from the first poll on (the campaign itself was created cleanly)
    log = CallLog(server)
    drive(rt, memory_queue(rt), until=world.end + hours(2), on_tick=log.collect)

    injected = usage(server)["faults"]
    assert injected.get("error", 0) >= 5 and injected.get("timeout", 0) >= 2 and injected.get("malformed", 0) >= 5
    malformed = [c for c in log.calls if c["fault"] == "malformed"]
    assert {c["endpoint"] for c in malformed} >= {"GET /2/tweets"}  # metrics answers were garbled too
    _assert_equal_to_truth(rt, server, world, campaign_id)

    # nothing from a malformed page was stored: every snapshot is what X said at its instant, every
    # engagement and account exists in the world, and the truncated body's post id is nowhere
    posts = {p.id: p for p in world.campaign_posts()}
    fake_id = json.loads(MALFORMED_BODIES[0][1] + '"}]}')["data"][0]["id"]
    with rt.db.session() as s:
        snapshots = s.execute(select(CampaignTweet.tweet_id, MetricSnapshot)
                              .join(CampaignTweet, CampaignTweet.id == MetricSnapshot.campaign_tweet_id)).all()
        for tweet_id, snap in snapshots:
            expected = world.public_metrics(posts[str(tweet_id)], snap.taken_at)
            assert expected == {"like_count": snap.like_count, "retweet_count": snap.retweet_count,
                                "reply_count": snap.reply_count, "quote_count": snap.quote_count,
                                "impression_count": snap.impression_count, "bookmark_count": snap.bookmark_count}
        sources = set(s.scalars(select(Engagement.source_tweet_id)))
        accounts = set(s.scalars(select(Account.id)))
        runs = s.scalars(select(Run).where(Run.campaign_id == campaign_id)).all()
        failing = s.scalars(select(PollJob).where(PollJob.consecutive_failures > 0)).all()
    assert {str(i) for i in sources} <= set(world.tweets)
    assert {str(i) for i in accounts} <= set(world.accounts)
    assert int(fake_id) not in sources and int(fake_id) not in accounts
    # cycles kept going: a snapshot in (almost) every cycle despite the faults; errors were recorded on runs
    taken = {snap.taken_at for _, snap in snapshots}
    assert len(taken) >= 0.8 * (world.end - world.start) / timedelta(minutes=30)
    assert sum(r.errors for r in runs) > 0
    assert sum(r.calls for r in runs) == usage(server)["total_calls"] - 1  # all but the campaign's lookup
    assert not failing


# ---------------------------------------------------------------- app-wide pause

def _status(rt) -> dict:
    set_runtime(rt)
    try:
        result = runner.invoke(app, ["status", "--json"])
    finally:
        set_runtime(None)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("switch,reason", [("usage_cap", "usage cap"), ("credits_depleted", "credits depleted")])
def test_usage_cap_and_402_pause_polling_app_wide_until_resumed(start_simulator, make_runtime, switch, reason):
    scenario = load_scenario("1")
    world = scenario.build_world()
    server = start_simulator(world)
    rt = make_runtime(server)
    campaign_id = create_campaign(rt, scenario)
    log = CallLog(server)
    refused_at = world.start + hours(6)
    drive(rt, memory_queue(rt), until=refused_at - minutes(1), on_tick=log.collect)
    assert _status(rt)["polling_paused"] is None

    server.sim.set_faults(FaultProfile(**{switch: True}))
    drive(rt, memory_queue(rt), until=refused_at + minutes(1), on_tick=log.collect)
    refused = log.between(refused_at, refused_at + minutes(1))
    assert [c["status"] for c in refused] == [429 if switch == "usage_cap" else 402]
    pause = _status(rt)["polling_paused"]
    assert pause is not None and reason in pause["reason"]
    assert pause["since"].startswith(refused_at.isoformat()[:19])

    # paused: not a single call, whatever falls due meanwhile (X would refuse it anyway)
    quiet_until = refused_at + minutes(50)
    drive(rt, memory_queue(rt), until=quiet_until, on_tick=log.collect)
    assert log.between(refused_at + minutes(1), quiet_until) == []
    assert reason in _status(rt)["polling_paused"]["reason"]

    server.sim.set_faults(FaultProfile())  # credits bought / the cap raised
    if switch == "usage_cap":
        # the cap only resets next month: an operator resumes by hand
        set_runtime(rt)
        try:
            result = runner.invoke(app, ["polling", "resume"])
        finally:
            set_runtime(None)
        assert result.exit_code == 0 and "polling resumed" in result.stdout
        assert _status(rt)["polling_paused"] is None
        resumed_at = quiet_until
    else:
        # a 402 is retried by itself an hour later
        resumed_at = refused_at + hours(1)
        assert pause["retry_at"].startswith(resumed_at.isoformat()[:19])
    drive(rt, memory_queue(rt), until=resumed_at + minutes(1), on_tick=log.collect)
    assert log.between(quiet_until, resumed_at) == []
    again = log.between(resumed_at, resumed_at + minutes(1))
    assert again and all(c["status"] == 200 for c in again)
    assert _status(rt)["polling_paused"] is None

    drive(rt, memory_queue(rt), until=world.end + hours(2), on_tick=log.collect)
    _assert_equal_to_truth(rt, server, world, campaign_id)
    assert {c["status"] for c in log.calls if c["at"] > resumed_at} == {200}


def test_a_402_that_persists_pauses_again_at_each_retry(start_simulator, make_runtime):
    scenario = load_scenario("1")
    world = scenario.build_world()
    server = start_simulator(world)
    rt = make_runtime(server)
    campaign_id = create_campaign(rt, scenario)
    log = CallLog(server)
    refused_at = world.start + hours(6)
    drive(rt, memory_queue(rt), until=refused_at - minutes(1), on_tick=log.collect)
    server.sim.set_faults(FaultProfile(credits_depleted=True))
    drive(rt, memory_queue(rt), until=refused_at + hours(2) + minutes(1), on_tick=log.collect)
    # one probe per retry time (H6, H7, H8), each refused, nothing in between
    probes = log.between(refused_at, refused_at + hours(2) + minutes(1))
    assert [(c["at"] - refused_at, c["status"]) for c in probes] == [(timedelta(hours=h), 402) for h in range(3)]
    assert "credits depleted" in _status(rt)["polling_paused"]["reason"]
    server.sim.set_faults(FaultProfile())
    drive(rt, memory_queue(rt), until=world.end + hours(2), on_tick=log.collect)
    _assert_equal_to_truth(rt, server, world, campaign_id)


def test_tasks_queued_before_an_app_wide_pause_make_no_call(start_simulator, make_runtime):
    """A 402 or usage cap pauses polling; tasks the same tick had already queued must not call X again."""
    from sqlalchemy import select

    from socap.monitoring import jobs as job_state
    from socap.monitoring.engine import run_tick
    from socap.monitoring.models import PollJob
    from socap.runtime import set_current
    from socap.simulator import load_scenario

    from .support import create_campaign, memory_queue, usage

    scenario = load_scenario("1")
    server = start_simulator(scenario)
    rt = make_runtime(server)
    create_campaign(rt, scenario)
    queue = memory_queue(rt)
    set_current(rt)
    report = run_tick(rt, queue)
    assert report.messages
    calls_before = usage(server)["total_calls"]
    with rt.db.write() as s:
        job_state.set_polling_pause(s, reason="X credits depleted", now=rt.clock.now(),
                                    retry_at=rt.clock.now() + job_state.CREDITS_RETRY)
    while queue.run_one():
        pass
    assert usage(server)["total_calls"] == calls_before
    with rt.db.session() as s:
        assert all(j.lease_owner is None for j in s.scalars(select(PollJob)))
