"""Scenario 5 of the spec: @topinvestor (importance exactly 50) engages with all three posts, one per run."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from socap.campaigns.models import CampaignTweet
from socap.console import set_runtime
from socap.importance.models import AccountImportance
from socap.monitoring.engine import drive
from socap.monitoring.models import Engagement, Run
from socap.simulator import load_scenario
from socap.simulator.truth import truth as world_truth

from ..monitoring.support import capturable, create_campaign, memory_queue, stored_engagements, truth
from .support import import_csv, socap, socap_json

SCENARIO = load_scenario("5")


def test_the_scenario_file_describes_the_spec():
    world = SCENARIO.build_world()
    spec = SCENARIO.campaign_spec()
    assert (spec["threshold"], len(spec["main"]), len(spec["influencer"]), len(spec["investor"])) == (10, 1, 1, 1)
    top = world.account_by_username("topinvestor")
    assert world.importance(top.id) == 50 and top.category == "investor"
    assert sorted({s.seed_weight for s in world.seeds()}) == [1, 5]
    summary = world_truth(world, world.end)["summary"]
    assert summary["important_accounts"] == [{"username": "topinvestor", "importance": 50}]


def test_topinvestor_scores_50_and_engages_three_posts_in_three_runs(start_simulator, make_runtime, tmp_path):
    server = start_simulator(SCENARIO)
    rt = make_runtime(server)
    set_runtime(rt)
    try:
        import_csv(tmp_path, SCENARIO.seeds_csv())
        socap("importance", "sync")
        body = socap_json("importance", "check", "@topinvestor")
    finally:
        set_runtime(None)
    assert (body["importance"], body["category"]) == (50, "investor")
    assert sum(e["weight"] for e in body["seeds"]) == 50
    assert [e["weight"] for e in body["seeds"][:2]] == [5, 5] and len(body["seeds"]) == 42
    top_id = body["account_id"]

    start = SCENARIO.start
    campaign_id = create_campaign(rt, SCENARIO)
    drive(rt, memory_queue(rt), until=start + timedelta(minutes=61))
    with rt.db.session() as s:
        runs = s.scalars(select(Run).where(Run.campaign_id == campaign_id).order_by(Run.started_at)).all()
        assert [r.started_at for r in runs] == [start, start + timedelta(minutes=30), start + timedelta(minutes=60)]
        run_number = {r.id: n for n, r in enumerate(runs, 1)}
        rows = s.execute(select(CampaignTweet.category, Engagement.action, Engagement.run_id)
                         .join(CampaignTweet, CampaignTweet.id == Engagement.campaign_tweet_id)
                         .where(Engagement.campaign_id == campaign_id, Engagement.account_id == top_id)
                         .order_by(Engagement.engaged_at)).all()
        score = s.scalar(select(AccountImportance).where(AccountImportance.account_id == top_id))
    assert [(category, action, run_number[run_id]) for category, action, run_id in rows] == [
        ("main", "retweet", 1), ("influencer", "reply", 2), ("investor", "quote", 3)]
    assert (score.score, score.updated_at) == (50, start)  # scored when run 1 ingested the retweet

    # to the end of the window: everything captured, and still exactly those three engagements
    world = SCENARIO.build_world()
    drive(rt, memory_queue(rt), until=world.end + timedelta(hours=1))
    assert set(stored_engagements(rt, campaign_id)) == capturable(truth(server, at=world.end))
    with rt.db.session() as s:
        mine = s.scalars(select(Engagement.campaign_tweet_id).where(Engagement.campaign_id == campaign_id,
                                                                    Engagement.account_id == top_id)).all()
    assert len(mine) == 3 and len(set(mine)) == 3
