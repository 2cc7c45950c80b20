"""Workspaces are walls: a user of workspace A gets 404 — exactly as for an id that does not exist — on every
page and every form of workspace B's campaign, and B's campaign is unchanged afterwards."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from socap.alerts.models import Alert
from socap.campaigns import service as campaign_service
from socap.campaigns.models import Campaign, CampaignTweet
from socap.campaigns.schemas import CampaignInput
from socap.monitoring.engine import drive
from socap.monitoring.models import Engagement, PollJob
from socap.simulator import load_scenario
from tests.monitoring.support import memory_queue
from tests.web.support import make_user, sign_in

MISSING = 987654


def _snapshot(rt, campaign_id: int) -> dict:
    with rt.db.session() as s:
        c = s.get(Campaign, campaign_id)
        return {
            "campaign": (c.name, c.status, c.alert_threshold, c.alert_spacing_minutes, list(c.notify_urls),
                         c.starts_at, c.ends_at),
            "posts": sorted(s.scalars(select(CampaignTweet.tweet_id).where(CampaignTweet.campaign_id == campaign_id))),
            "jobs": s.scalar(select(func.count()).select_from(PollJob).where(PollJob.campaign_id == campaign_id)),
            "engagements": s.scalar(select(func.count()).select_from(Engagement)
                                    .where(Engagement.campaign_id == campaign_id)),
            "alerts": s.scalar(select(func.count()).select_from(Alert).where(Alert.campaign_id == campaign_id)),
        }


def test_a_user_of_another_workspace_gets_404_everywhere_and_changes_nothing(start_simulator, make_runtime,
                                                                             serve_web):
    scenario = load_scenario("1")
    sim = start_simulator(scenario)
    rt = make_runtime(sim)
    make_user(rt, "ana@alpha.example", workspace="alpha")
    beta = make_user(rt, "bo@beta.example", workspace="beta")
    spec = scenario.campaign_spec()
    data = CampaignInput.from_spec(spec, starts_at=scenario.start, notify_urls=["json://127.0.0.1:9/beta-secret"])
    with rt.x_client() as client:
        b_id, _ = campaign_service.create(rt.db, client, rt.clock, data, workspace_id=beta)
    drive(rt, memory_queue(rt), until=scenario.start + timedelta(hours=2))
    with rt.db.session() as s:
        b_post = s.scalar(select(CampaignTweet.id).where(CampaignTweet.campaign_id == b_id))
        b_account = s.scalar(select(Engagement.account_id).where(Engagement.campaign_id == b_id))
    before = _snapshot(rt, b_id)
    assert before["engagements"] > 0

    server = serve_web(rt)
    alpha = sign_in(server, "ana@alpha.example")
    pages = ["", "/edit", "/delete", "/categories", "/alerts", f"/posts/{b_post}", f"/accounts/{b_account}",
             "?category=main&page=2"]
    for suffix in pages:
        theirs = alpha.get(f"/campaigns/{b_id}{suffix}")
        missing = alpha.get(f"/campaigns/{MISSING}{suffix}")
        assert theirs.status_code == missing.status_code == 404, suffix
        assert theirs.text == missing.text, suffix
        assert "Product Launch Q1 2025" not in theirs.text

    forms = {
        "/edit": {"name": "Taken over", "threshold": "0", "spacing_minutes": "0", "notify_urls": "json://evil/x",
                  "remove_channel": "0"},
        "/posts": {"main": spec["main"][0], "influencer": "https://x.com/a/status/42", "allow_missing": "1"},
        "/pause": {},
        "/resume": {},
        "/delete": {"confirm_name": "Product Launch Q1 2025"},
    }
    for suffix, fields in forms.items():
        r = alpha.post(f"/campaigns/{b_id}{suffix}", data={"csrf_token": alpha.csrf, **fields},
                       follow_redirects=False)
        assert r.status_code == 404, suffix
    assert _snapshot(rt, b_id) == before

    # A's own list does not show it; B sees it and can use it
    assert "Product Launch Q1 2025" not in alpha.get("/").text
    bo = sign_in(server, "bo@beta.example")
    assert "Product Launch Q1 2025" in bo.get("/").text
    assert bo.get(f"/campaigns/{b_id}").status_code == 200
    assert "beta-secret" not in bo.get(f"/campaigns/{b_id}/alerts").text  # channels are shown masked
