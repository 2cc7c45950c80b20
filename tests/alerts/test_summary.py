"""The completion summary: headline numbers, top engagers and the report link, sent once through the
campaign's channels to a local receiver (real HTTP through Apprise)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from socap.alerts.models import Alert, AlertDelivery
from socap.campaigns.models import Campaign
from socap.monitoring.engine import drive
from socap.simulator import load_scenario
from tests.monitoring.support import memory_queue


def test_scenario5_summary_names_the_top_engager_of_all_three_posts(launch, receiver):
    scenario = load_scenario("5")
    rt, campaign_id = launch(scenario)
    world = scenario.build_world()
    drive(rt, memory_queue(rt), until=world.end + timedelta(hours=1))
    with rt.db.session() as s:
        campaign = s.get(Campaign, campaign_id)
        assert campaign.status == "completed"
        summary = s.scalars(select(Alert).where(Alert.campaign_id == campaign_id, Alert.kind == "summary")).one()
        channels = s.scalars(select(AlertDelivery.channel).where(AlertDelivery.alert_id == summary.id)).all()
    assert summary.status == "sent" and summary.sent_at == campaign.completed_at
    assert set(channels) == {receiver.url, "console://"}
    sent = [m for m in receiver.messages if m["body"].get("message", "").startswith("Campaign ")]
    assert len(sent) == 1
    text = sent[0]["body"]["message"]
    lines = text.splitlines()
    assert lines[0] == f'Campaign "{campaign.name}" completed. Final report:'
    assert "Top engager: @topinvestor engaged with all 3 posts" in lines
    top = next(line for line in lines if line.startswith("Top engagers: "))
    assert top.startswith("Top engagers: @topinvestor (50)") and top.count("@") == 5
    assert lines[-1] == f"Report: http://127.0.0.1:8000/campaigns/{campaign_id}/report"
    assert sent[0]["headers"]["X-Idempotency-Key"]
