"""Editing campaigns: settings, adding posts by URL, deleting everything of a campaign — on real scenario data
over real HTTP against the simulator."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from socap.alerts.models import Alert, AlertDelivery
from socap.auth import service as auth_service
from socap.campaigns import service
from socap.campaigns.models import Campaign
from socap.campaigns.schemas import CampaignInput, PostsInput
from socap.campaigns.service import campaign_tables
from socap.importance.models import Account
from socap.models import Base
from socap.monitoring.engine import drive, run_tick
from socap.monitoring.models import PollJob
from socap.simulator import Scenario, hours, load_scenario
from socap.simulator.builder import ScenarioBuilder
from tests.alerts.conftest import Receiver, import_and_sync_seeds
from tests.monitoring.support import create_campaign, memory_queue


def _calls(server) -> int:
    return httpx.get(server.url + "/_sim/usage").json()["total_calls"]


def _rows(rt, campaign_id: int) -> dict[str, int]:
    """Rows of every table with a campaign_id (found in the metadata), deliveries through their alerts."""
    with rt.db.session() as s:
        counts = {t.name: s.scalar(select(func.count()).select_from(t).where(t.c.campaign_id == campaign_id))
                  for t in campaign_tables(Base.metadata)}
        counts["alert_delivery"] = s.scalar(select(func.count()).select_from(AlertDelivery).join(
            Alert, Alert.id == AlertDelivery.alert_id).where(Alert.campaign_id == campaign_id))
        counts["campaign"] = s.scalar(select(func.count()).select_from(Campaign).where(Campaign.id == campaign_id))
    return counts


def _many_posts(n: int):
    def build(b: ScenarioBuilder) -> None:
        b.campaign("Many", start="2025-03-03T12:00:00Z", days=2, threshold=10)
        author = b.account("manyco", name="Many Co", bio="So many posts.")
        for i in range(n):
            b.post("influencer", author=author, text=f"post {i}", created=-hours(3), likes={hours(0): i})
    return Scenario.from_function(f"t_edit_many_{n}", build)


@pytest.fixture
def small(start_simulator, make_runtime):
    scenario = _many_posts(4)
    server = start_simulator(scenario)
    rt = make_runtime(server)
    urls = scenario.campaign_spec()["influencer"]
    with rt.x_client() as client:
        campaign_id = service.create(rt.db, client, rt.clock, CampaignInput(name="Grow", main=urls[:1], days=1))[0]
    return rt, server, campaign_id, urls


def _campaign(rt, campaign_id):
    with rt.db.session() as s:
        return service.get(s, campaign_id=campaign_id)


# ---------------------------------------------------------------- settings

def test_update_settings_changes_only_what_is_given_and_bumps_the_data_version(small):
    rt, _, campaign_id, _ = small
    before = _campaign(rt, campaign_id)
    with rt.db.write() as s:
        service.update_settings(s, campaign=service.get(s, campaign_id=campaign_id), clock=rt.clock,
                                name="  Grow more ", threshold=25)
    after = _campaign(rt, campaign_id)
    assert (after.name, after.alert_threshold) == ("Grow more", 25)
    assert after.alert_spacing_minutes == before.alert_spacing_minutes and after.notify_urls == before.notify_urls
    assert after.data_version == before.data_version + 1

    with rt.db.write() as s:  # the same values again: nothing changes, the cache stays valid
        service.update_settings(s, campaign=service.get(s, campaign_id=campaign_id), clock=rt.clock,
                                name="Grow more", threshold=25)
    assert _campaign(rt, campaign_id).data_version == after.data_version


def test_update_settings_reports_every_problem_and_changes_nothing(small):
    rt, _, campaign_id, _ = small
    before = _campaign(rt, campaign_id)
    with rt.db.write() as s, pytest.raises(service.CampaignValidationError) as info:
        service.update_settings(s, campaign=service.get(s, campaign_id=campaign_id), clock=rt.clock,
                                name=" ", threshold=-1, spacing_minutes=30,
                                notify_urls=["json://127.0.0.1:9/ok", "not a url"])
    errors = info.value.errors
    assert set(errors) == {"name", "threshold", "spacing_minutes", "notify_urls"}
    assert "shorter than the poll interval" in errors["spacing_minutes"][0]
    assert "not a notification URL" in errors["notify_urls"][0]
    after = _campaign(rt, campaign_id)
    assert (after.name, after.alert_threshold, after.alert_spacing_minutes, after.notify_urls,
            after.data_version) == (before.name, before.alert_threshold, before.alert_spacing_minutes,
                                    before.notify_urls, before.data_version)


def test_notify_urls_sent_back_masked_keep_their_secret(small):
    rt, _, campaign_id, _ = small
    secret = "json://127.0.0.1:9/hooks/s3cr3t-token"
    with rt.db.write() as s:
        service.update_settings(s, campaign=service.get(s, campaign_id=campaign_id), clock=rt.clock,
                                notify_urls=[secret, " ", secret])
    with rt.db.session() as s:
        shown = service.to_out(s, service.get(s, campaign_id=campaign_id)).notify_urls
    assert shown != [secret] and "s3cr3t" not in shown[0]
    with rt.db.write() as s:  # an edit form sends back what it was shown, plus a new channel
        service.update_settings(s, campaign=service.get(s, campaign_id=campaign_id), clock=rt.clock,
                                notify_urls=[shown[0], "json://127.0.0.1:9/other"])
    assert _campaign(rt, campaign_id).notify_urls == [secret, "json://127.0.0.1:9/other"]
    with rt.db.write() as s:
        service.update_settings(s, campaign=service.get(s, campaign_id=campaign_id), clock=rt.clock, notify_urls=[])
    assert _campaign(rt, campaign_id).notify_urls == []


def test_a_new_threshold_decides_alerts_of_future_engagements_only(start_simulator, make_runtime):
    """Scenario 1: @johnvc (15) alerts at D1 H1-H2; raised to 16 then, @techfounder (22) and the first VC (18)
    still alert, the VCs at 15 and 12 no longer do, and @johnvc's alert stays."""
    scenario = load_scenario("1")
    server = start_simulator(scenario)
    rt = make_runtime(server)
    receiver = Receiver(server.clock)
    try:
        import_and_sync_seeds(rt, scenario)
        campaign_id = create_campaign(rt, scenario, notify_urls=[receiver.url])
        queue = memory_queue(rt)
        drive(rt, queue, until=scenario.start + timedelta(hours=2, minutes=30))
        assert receiver.texts() == ["Investor @johnvc (importance: 15) retweeted your main tweet"]
        with rt.db.write() as s:
            service.update_settings(s, campaign=service.get(s, campaign_id=campaign_id), clock=rt.clock,
                                    threshold=16)
        drive(rt, queue, until=scenario.start + timedelta(days=1, hours=13))
        texts = receiver.texts()
    finally:
        receiver.close()
    assert texts[0].startswith("Investor @johnvc (importance: 15)")
    assert any("@techfounder (importance: 22)" in t for t in texts)
    assert any("@venturecapital1 (importance: 18)" in t for t in texts)
    assert not any("(importance: 15)" in t or "(importance: 12)" in t for t in texts[1:])
    with rt.db.session() as s:
        importances = s.scalars(select(Alert.importance).where(Alert.campaign_id == campaign_id)
                                .order_by(Alert.id)).all()
    assert importances[0] == 15 and all(i >= 16 for i in importances[1:])


# ---------------------------------------------------------------- adding posts by URL

def test_add_posts_by_url_skips_tracked_posts_without_looking_them_up(small):
    rt, server, campaign_id, urls = small
    version = _campaign(rt, campaign_id).data_version
    calls = _calls(server)
    with rt.x_client() as client:
        result = service.add_posts_by_url(rt.db, client, rt.clock, campaign_id=campaign_id, data=PostsInput(
            influencer=urls[1:3], investor=[urls[0], urls[3]]))
    assert [p.tweet_id for p in result.added] == [u.rsplit("/", 1)[1] for u in (urls[1], urls[2], urls[3])]
    assert [p.category for p in result.added] == ["influencer", "influencer", "investor"]
    assert result.lookup_calls == 1 and _calls(server) == calls + 1
    assert len(result.warnings) == 1 and "already tracked" in result.warnings[0]
    campaign = _campaign(rt, campaign_id)
    assert len(campaign.tweets) == 4 and campaign.data_version == version + 1
    with rt.db.session() as s:
        assert service.job_count(s, campaign_id=campaign_id) == 16


def test_add_posts_by_url_refuses_bad_input_before_any_call_and_adds_nothing(small):
    rt, server, campaign_id, urls = small
    calls = _calls(server)
    with rt.x_client() as client:
        with pytest.raises(service.CampaignValidationError) as info:
            service.add_posts_by_url(rt.db, client, rt.clock, campaign_id=campaign_id,
                                     data=PostsInput(main=[urls[1], "https://example.com/nope"], investor=["x y"]))
        assert set(info.value.errors) == {"main", "investor"}
        with pytest.raises(service.CampaignValidationError) as info:
            service.add_posts_by_url(rt.db, client, rt.clock, campaign_id=campaign_id, data=PostsInput())
        assert "at least one post" in info.value.errors["main"][0]
        with pytest.raises(service.CampaignNotFound):
            service.add_posts_by_url(rt.db, client, rt.clock, campaign_id=campaign_id, workspace_id=999,
                                     data=PostsInput(main=urls[1:2]))
        assert _calls(server) == calls

        missing = "https://x.com/nobody/status/1234567890123456789"
        with pytest.raises(service.PostsUnavailable) as info:
            service.add_posts_by_url(rt.db, client, rt.clock, campaign_id=campaign_id,
                                     data=PostsInput(main=[urls[1], missing]))
        assert [m.url for m in info.value.missing] == [missing]
        assert len(_campaign(rt, campaign_id).tweets) == 1
        result = service.add_posts_by_url(rt.db, client, rt.clock, campaign_id=campaign_id,
                                          data=PostsInput(main=[urls[1], missing], allow_missing=True))
        assert len(result.added) == 1 and any(missing in w for w in result.warnings)
        assert len(_campaign(rt, campaign_id).tweets) == 2

        with rt.db.write() as s:
            s.get(Campaign, campaign_id).status = "completed"
        calls = _calls(server)
        with pytest.raises(service.CampaignError, match="completed"):
            service.add_posts_by_url(rt.db, client, rt.clock, campaign_id=campaign_id, data=PostsInput(main=urls[2:3]))
        assert _calls(server) == calls and len(_campaign(rt, campaign_id).tweets) == 2


# ---------------------------------------------------------------- deleting

def test_delete_removes_everything_of_the_campaign_and_nothing_else(start_simulator, make_runtime):
    scenario = load_scenario("1")
    server = start_simulator(scenario)
    rt = make_runtime(server)
    import_and_sync_seeds(rt, scenario)
    doomed = create_campaign(rt, scenario)
    kept = create_campaign(rt, scenario, name="Kept")
    drive(rt, memory_queue(rt), until=scenario.build_world().end + timedelta(hours=2))  # completed, report frozen
    doomed_rows, kept_rows = _rows(rt, doomed), _rows(rt, kept)
    assert {"campaign_tweet", "poll_job", "run", "engagement", "metric_snapshot", "alert", "campaign_report",
            "alert_delivery", "campaign"} <= set(doomed_rows)
    assert all(doomed_rows.values()), doomed_rows  # something in every table
    with rt.db.session() as s:
        accounts = s.scalar(select(func.count()).select_from(Account))

    with rt.db.write() as s:
        service.delete(s, campaign=service.get(s, campaign_id=doomed))

    assert _rows(rt, doomed) == dict.fromkeys(doomed_rows, 0)
    assert _rows(rt, kept) == kept_rows
    with rt.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Account)) == accounts  # accounts are shared
        with pytest.raises(service.CampaignNotFound):
            service.get(s, campaign_id=doomed)
    drive(rt, memory_queue(rt), until=scenario.build_world().end + timedelta(hours=3))  # the engine goes on


def test_a_poll_task_queued_for_a_deleted_campaign_does_nothing(start_simulator, make_runtime):
    scenario = load_scenario("1")
    server = start_simulator(scenario)
    rt = make_runtime(server)
    campaign_id = create_campaign(rt, scenario)
    queue = memory_queue(rt)
    report = run_tick(rt, queue)
    assert report.messages and queue.pending() == len(report.messages)
    calls = _calls(server)
    with rt.db.write() as s:
        service.delete(s, campaign=service.get(s, campaign_id=campaign_id))
    from socap.runtime import set_current

    set_current(rt)
    while queue.run_one():
        pass
    assert _calls(server) == calls  # no call spent on a job that is gone
    assert _rows(rt, campaign_id) == dict.fromkeys(_rows(rt, campaign_id), 0)
    with rt.db.session() as s:
        assert s.scalar(select(func.count()).select_from(PollJob)) == 0
    assert run_tick(rt, queue).messages == []


def test_delete_is_scoped_to_the_workspace(small):
    rt, _, campaign_id, _ = small
    with rt.db.write() as s:
        other = auth_service.get_or_create_workspace(s, name="other", clock=rt.clock)
        with pytest.raises(service.CampaignNotFound):
            service.delete(s, campaign=service.get(s, campaign_id=campaign_id, workspace_id=other.id))
    assert _rows(rt, campaign_id)["campaign"] == 1
