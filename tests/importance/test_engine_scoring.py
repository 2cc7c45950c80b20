"""The engine scores engagers as it ingests them: scenario 1 end to end with the seed list imported and
synced first, checked against the simulator's truth and the spec's category mix."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from socap.console import set_runtime
from socap.importance import service
from socap.importance.models import AccountImportance
from socap.monitoring.engine import drive
from socap.monitoring.models import Engagement
from socap.simulator import load_scenario

from ..monitoring.support import create_campaign, memory_queue, truth
from .support import import_csv, socap

SCENARIO = load_scenario("1")


def test_engagers_are_scored_at_ingest_and_categorised_as_the_spec_says(start_simulator, make_runtime, tmp_path):
    server = start_simulator(SCENARIO)
    rt = make_runtime(server)
    set_runtime(rt)
    import_csv(tmp_path, SCENARIO.seeds_csv())
    socap("importance", "sync")
    set_runtime(None)
    campaign_id = create_campaign(rt, SCENARIO)
    world = SCENARIO.build_world()
    drive(rt, memory_queue(rt), until=world.end + timedelta(hours=2))

    expected = truth(server, at=world.end)
    engagers = {int(a["id"]): a for a in expected["accounts"] if a["engagements"] > 0}
    assert len(engagers) == expected["summary"]["unique_accounts"] == 95
    with rt.db.session() as s:
        first_seen = dict(s.execute(select(Engagement.account_id, func.min(Engagement.detected_at))
                                    .where(Engagement.campaign_id == campaign_id)
                                    .group_by(Engagement.account_id)).all())
        rows = {r.account_id: r for r in s.scalars(select(AccountImportance))}
    assert set(first_seen) == set(engagers)
    for account_id, account in engagers.items():
        row = rows[account_id]
        assert row.score == account["importance"], account["username"]
        # written by the ingest hook in the transaction that stored the account's first engagement
        assert row.updated_at == first_seen[account_id], account["username"]
    important = {a["username"]: a["importance"] for a in engagers.values() if a["importance"] >= 10}
    assert important == {"johnvc": 15, "techfounder": 22, "venturecapital1": 18, "venturecapital2": 15,
                         "venturecapital3": 12}
    assert rows[int(world.account_by_username("devwirenews").id)].score == 8

    # the category mix of the 95 engagers (VCs count as investors), as the spec's final report gives it
    with rt.db.session() as s:
        workspace_id = s.scalar(select(AccountImportance.workspace_id).limit(1))
        found = service.profiles(s, workspace_id=workspace_id, account_ids=first_seen)
    assert len(found) == 95
    mix = Counter("investor" if p.category == "vc" else p.category for p in found.values())
    assert mix == {"investor": 8, "founder": 3, "developer": 15, "media": 5, "other": 64}
    assert mix == expected["summary"]["category_mix"]
    # each profile carries its evidence: as many seeds as the score (all weights are 1 here)
    assert all(len(p.seeds) == p.score for p in found.values())
