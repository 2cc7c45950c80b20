"""Campaign creation and state changes against the simulator over real HTTP."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from socap.auth import service as auth_service
from socap.campaigns import service
from socap.campaigns.models import Campaign, CampaignTweet
from socap.campaigns.schemas import CampaignInput
from socap.monitoring.models import PollJob
from socap.simulator import Scenario, hours, load_scenario
from socap.simulator.builder import ScenarioBuilder


def _usage(server) -> dict:
    return httpx.get(server.url + "/_sim/usage").json()


def _lookup_calls(server) -> int:
    return _usage(server)["endpoints"].get("GET /2/tweets", {}).get("calls", 0)


def _create(rt, data: CampaignInput) -> int:
    with rt.x_client() as client:
        return service.create(rt.db, client, rt.clock, data)[0]


def _counts(rt) -> tuple[int, int, int]:
    with rt.db.session() as s:
        return (s.scalar(select(func.count()).select_from(Campaign)),
                s.scalar(select(func.count()).select_from(CampaignTweet)),
                s.scalar(select(func.count()).select_from(PollJob)))


def _scenario1_input(spec: dict, **changes) -> CampaignInput:
    values = dict(name=spec["name"], main=spec["main"], influencer=spec["influencer"],
                  investor=spec["investor"], days=spec["days"], threshold=spec["threshold"],
                  spacing_minutes=spec["spacing_minutes"])
    values.update(changes)
    return CampaignInput(**values)


def test_scenario1_campaign_resolves_three_posts_into_twelve_jobs(start_simulator, make_runtime):
    server = start_simulator("1")
    rt = make_runtime(server)
    spec = load_scenario("1").campaign_spec()
    campaign_id = _create(rt, _scenario1_input(spec))

    assert _counts(rt) == (1, 3, 12)
    with rt.db.session() as s:
        campaign = service.get(s, campaign_id=campaign_id)
        assert campaign.status == "active"
        assert campaign.ends_at - campaign.starts_at == timedelta(days=3)
        assert campaign.starts_at == server.clock.now()
        by_category = {t.category: t for t in campaign.tweets}
        assert set(by_category) == {"main", "influencer", "investor"}
        main = by_category["main"]
        assert main.author_username == "acmehq"
        assert main.text and main.url == f"https://x.com/acmehq/status/{main.tweet_id}"
        assert main.conversation_id == main.tweet_id
        kinds = sorted(j.kind for j in s.scalars(select(PollJob).where(PollJob.campaign_tweet_id == main.id)))
        assert kinds == ["metrics", "quotes", "replies", "retweets"]
    assert _lookup_calls(server) == 1  # three ids, one batched lookup


def _many_posts(n: int):
    def build(b: ScenarioBuilder) -> None:
        b.campaign("Many", start="2025-03-03T12:00:00Z", days=2, threshold=10)
        author = b.account("manyco", name="Many Co", bio="So many posts.")
        for i in range(n):
            b.post("influencer", author=author, text=f"post {i}", created=-hours(3), likes={hours(0): i})
    return Scenario.from_function(f"t_many_{n}", build)


def test_lookups_are_batched_100_ids_per_call(start_simulator, make_runtime):
    server = start_simulator(_many_posts(150))
    rt = make_runtime(server)
    spec = _many_posts(150).campaign_spec()
    _create(rt, CampaignInput(name="Many", influencer=spec["influencer"], days=2))
    assert _counts(rt) == (1, 150, 600)
    assert _lookup_calls(server) == 2


def test_duplicates_collapse_with_a_warning(start_simulator, make_runtime):
    server = start_simulator("1")
    rt = make_runtime(server)
    spec = load_scenario("1").campaign_spec()
    main_id = spec["main"][0].rsplit("/", 1)[1]
    data = _scenario1_input(spec, main=spec["main"] + [spec["main"][0] + "?s=20"],
                            investor=spec["investor"] + [main_id])
    with rt.x_client() as client:
        plan = service.plan_campaign(data, client=client, clock=rt.clock)
    assert len(plan.posts) == 3
    assert len(plan.warnings) == 2
    assert any("main and investor" in w for w in plan.warnings)


def _edge():
    def build(b: ScenarioBuilder) -> None:
        b.campaign("Edge", start="2025-03-03T12:00:00Z", days=3, threshold=5)
        author = b.account("edgeco", name="Edge Co", bio="Edge cases are us.")
        b.post("main", author=author, text="alive", created=-hours(2), likes={hours(0): 3})
        b.post("influencer", author=author, text="gone", created=-hours(3), likes={hours(0): 3},
               deleted=-hours(1))
        b.post("investor", author=author, text="hidden", created=-hours(3), likes={hours(0): 3},
               protected=-hours(1))
    return Scenario.from_function("t_edge_campaign", build)


def test_missing_and_protected_posts_refuse_creation_and_write_nothing(start_simulator, make_runtime):
    scenario = _edge()
    server = start_simulator(scenario)
    rt = make_runtime(server)
    spec = scenario.campaign_spec()
    data = CampaignInput(name="Edge", main=spec["main"], influencer=spec["influencer"],
                         investor=spec["investor"], days=3)
    with rt.x_client() as client, pytest.raises(service.PostsUnavailable) as info:
        service.plan_campaign(data, client=client, clock=rt.clock)
    reasons = {m.category: m.reason for m in info.value.missing}
    assert set(reasons) == {"influencer", "investor"}
    assert "protected" in reasons["investor"]
    assert "not found" in reasons["influencer"] or "deleted" in reasons["influencer"]
    assert spec["influencer"][0] in str(info.value) and "--allow-missing" in str(info.value)
    assert _counts(rt) == (0, 0, 0)

    campaign_id = _create(rt, data.model_copy(update={"allow_missing": True}))
    assert _counts(rt) == (1, 1, 4)
    with rt.db.session() as s:
        assert [t.category for t in service.get(s, campaign_id=campaign_id).tweets] == ["main"]


@pytest.mark.parametrize("changes,field,fragment", [
    ({"main": ["https://x.com/jack"]}, "main", "https://x.com/jack"),
    ({"investor": ["https://evil.com/a/status/1"]}, "investor", "evil.com"),
    ({"days": 0}, "days", "longer than 0"),
    ({"days": -2}, "days", "longer than 0"),
    ({"threshold": -1}, "threshold", "negative"),
    ({"spacing_minutes": 30}, "spacing_minutes", "shorter than the poll interval"),
    ({"spacing_minutes": 45, "poll_interval_minutes": 30}, "spacing_minutes", "shorter"),
    ({"name": "  "}, "name", "name"),
    ({"main": [], "influencer": [], "investor": []}, "main", "at least one post"),
])
def test_invalid_input_is_refused_before_any_call_or_write(start_simulator, make_runtime, changes, field,
                                                           fragment):
    server = start_simulator("1")
    rt = make_runtime(server)
    data = _scenario1_input(load_scenario("1").campaign_spec(), **changes)
    with pytest.raises(service.CampaignValidationError) as info:
        _create(rt, data)
    assert field in info.value.errors
    assert fragment in " ".join(info.value.errors[field])
    assert _counts(rt) == (0, 0, 0)
    assert _usage(server)["total_calls"] == 0


def test_pause_resume_and_add_posts(start_simulator, make_runtime):
    scenario = _many_posts(5)
    server = start_simulator(scenario)
    rt = make_runtime(server)
    urls = scenario.campaign_spec()["influencer"]
    campaign_id = _create(rt, CampaignInput(name="Grow", influencer=urls[:3], days=1))

    with rt.db.write() as s:
        campaign = service.get(s, campaign_id=campaign_id)
        service.pause(s, campaign=campaign, clock=rt.clock)
        assert campaign.status == "paused" and campaign.paused_at == rt.clock.now()
    server.clock.advance(timedelta(hours=2))
    with rt.db.write() as s:
        campaign = service.get(s, campaign_id=campaign_id)
        service.resume(s, campaign=campaign, clock=rt.clock)
        assert campaign.status == "active"
    with rt.db.session() as s:
        next_runs = set(s.scalars(select(PollJob.next_run_at).where(PollJob.campaign_id == campaign_id)))
    assert next_runs == {rt.clock.now()}  # overdue jobs run at the next tick, once

    with rt.x_client() as client:
        data = CampaignInput(name="x", investor=urls[2:], days=1)
        refs, *_ = service.validate_input(data, now=rt.clock.now())
        resolved, missing, _ = service.resolve_posts(client, refs)
    assert not missing
    with rt.db.write() as s:
        campaign = service.get(s, campaign_id=campaign_id)
        warnings = service.add_posts(s, campaign, resolved, clock=rt.clock)
    assert len(warnings) == 1 and urls[2].rsplit("/", 1)[1] in warnings[0]
    assert _counts(rt) == (1, 5, 20)


def test_completed_campaigns_cannot_be_paused_or_resumed(start_simulator, make_runtime):
    scenario = _many_posts(1)
    server = start_simulator(scenario)
    rt = make_runtime(server)
    campaign_id = _create(rt, CampaignInput(name="Done", main=scenario.campaign_spec()["influencer"], days=1))
    with rt.db.write() as s:
        s.get(Campaign, campaign_id).status = "completed"
    with rt.db.write() as s, pytest.raises(service.CampaignError, match="completed"):
        service.pause(s, campaign=service.get(s, campaign_id=campaign_id), clock=rt.clock)
    with rt.db.write() as s, pytest.raises(service.CampaignError, match="completed"):
        service.resume(s, campaign=service.get(s, campaign_id=campaign_id), clock=rt.clock)


def test_campaigns_are_scoped_to_their_workspace(start_simulator, make_runtime):
    scenario = _many_posts(1)
    server = start_simulator(scenario)
    rt = make_runtime(server)
    campaign_id = _create(rt, CampaignInput(name="Mine", main=scenario.campaign_spec()["influencer"], days=1))
    with rt.db.write() as s:
        other = auth_service.get_or_create_workspace(s, name="other", clock=rt.clock)
        with pytest.raises(service.CampaignNotFound):
            service.get(s, campaign_id=campaign_id, workspace_id=other.id)
        assert service.list_campaigns(s, workspace_id=other.id) == []
