"""Scenario 1 end to end on the engine: dispatcher, queue, pollers, simulator over real HTTP."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from socap.campaigns.models import Campaign
from socap.monitoring.engine import drive
from socap.monitoring.models import Run
from socap.simulator import load_scenario

from .support import capturable, create_campaign, latest_metrics, memory_queue, stored_engagements, truth


def test_first_run_finds_27_retweeters_12_repliers_3_quoters(start_simulator, make_runtime):
    scenario = load_scenario("1")
    server = start_simulator(scenario)
    rt = make_runtime(server)
    campaign_id = create_campaign(rt, scenario)
    drive(rt, memory_queue(rt), until=scenario.start + timedelta(minutes=1))
    counts = Counter(action for _, action, _ in stored_engagements(rt, campaign_id))
    assert counts == {"retweet": 27, "reply": 12, "quote": 3}
    with rt.db.session() as s:
        runs = s.scalars(select(Run).where(Run.campaign_id == campaign_id)).all()
    assert len(runs) == 1 and runs[0].new_engagements == 42


def test_whole_campaign_equals_the_simulator_truth(start_simulator, make_runtime):
    scenario = load_scenario("1")
    server = start_simulator(scenario)
    rt = make_runtime(server)
    campaign_id = create_campaign(rt, scenario)
    world = scenario.build_world()
    drive(rt, memory_queue(rt), until=world.end + timedelta(hours=2))

    with rt.db.session() as s:
        campaign = s.get(Campaign, campaign_id)
        assert campaign.status == "completed"
    expected = truth(server, at=world.end)
    stored = stored_engagements(rt, campaign_id)
    assert len(stored) == len(set(stored)), "an engagement was stored twice"
    assert set(stored) == capturable(expected)
    assert len(stored) == 120
    final = latest_metrics(rt, campaign_id)
    for post in expected["posts"]:
        assert final[post["id"]] == post["public_metrics"], post["category"]
