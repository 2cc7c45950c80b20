"""Posts that disappear mid-campaign, paused campaigns and completed ones: who is polled, who is not, and
that nothing already recorded is lost."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from socap.campaigns import service as campaign_service
from socap.campaigns.models import Campaign, CampaignTweet
from socap.monitoring.engine import drive
from socap.monitoring.models import Engagement, MetricSnapshot, PollJob, Run
from socap.simulator import Scenario, hours, load_scenario, minutes
from socap.simulator.builder import ScenarioBuilder

from .calllog import RETWEETS, CallLog
from .support import capturable, create_campaign, latest_metrics, memory_queue, stored_engagements, truth, usage


def _vanishing(b: ScenarioBuilder) -> None:
    b.campaign("Vanishing", start="2025-03-03T12:00:00Z", days=0.5, threshold=10)
    brand = b.account("steadyco", name="Steady Co", bio="Still here.")
    steady = b.post("main", author=brand, text="We stay", created=-hours(3), likes={hours(12): 500})
    doomed = b.post("influencer", author=b.accounts(1, "founder")[0], text="I will delete this",
                    created=-hours(3), likes={hours(2): 80}, deleted=hours(1) + minutes(10))
    hiding = b.post("investor", author=b.accounts(1, "investor")[0], text="I will go private",
                    created=-hours(3), likes={hours(3): 60}, protected=hours(2) + minutes(10))
    for post, until in ((steady, hours(11)), (doomed, hours(1)), (hiding, hours(2))):
        b.retweets(post, 12, between=(-hours(2), until))
        b.replies(post, 6, between=(-hours(2), until))
        b.quotes(post, 3, between=(-hours(2), until))


VANISHING = Scenario.from_function("t_lifecycle_vanishing", _vanishing)


def test_deleted_and_protected_posts_are_marked_unavailable_stop_polling_and_keep_their_history(
        start_simulator, make_runtime):
    world = VANISHING.build_world()
    server = start_simulator(world)
    rt = make_runtime(server)
    campaign_id = create_campaign(rt, VANISHING)
    log = CallLog(server)
    steady, doomed, hiding = (p.id for p in world.campaign_posts())
    # noticed at the first metrics poll after the change: H1:30 (deleted at H1:10), H2:30 (protected at H2:10)
    noticed = {doomed: world.start + minutes(90), hiding: world.start + minutes(150)}
    drive(rt, memory_queue(rt), until=world.start + hours(3), on_tick=log.collect)
    with rt.db.session() as s:
        enabled = {(str(t), e) for t, e in s.execute(select(CampaignTweet.tweet_id, PollJob.enabled).join(
            PollJob, PollJob.campaign_tweet_id == CampaignTweet.id))}
        due = {str(t) for t in s.scalars(select(CampaignTweet.tweet_id).join(
            PollJob, PollJob.campaign_tweet_id == CampaignTweet.id).where(PollJob.next_run_at.is_not(None)))}
    # mid-campaign: the vanished posts' jobs are switched off, the steady post's are not
    assert enabled == {(steady, True), (doomed, False), (hiding, False)} and due == {steady}
    drive(rt, memory_queue(rt), until=world.end + hours(2), on_tick=log.collect)

    with rt.db.session() as s:
        rows = {str(r.tweet_id): r for r in s.scalars(select(CampaignTweet))}
        assert rows[steady].unavailable_reason is None
        assert rows[doomed].unavailable_reason == "deleted or not found"
        assert rows[hiding].unavailable_reason == "protected"
        for post, at in noticed.items():
            assert rows[post].unavailable_since == at
            jobs = s.scalars(select(PollJob).where(PollJob.campaign_tweet_id == rows[post].id)).all()
            assert len(jobs) == 4 and not any(j.enabled or j.next_run_at for j in jobs)
            # its history is kept: a snapshot per poll until it vanished, its engagements
            taken = list(s.scalars(select(MetricSnapshot.taken_at).where(
                MetricSnapshot.campaign_tweet_id == rows[post].id).order_by(MetricSnapshot.taken_at)))
            assert taken == [world.start + k * timedelta(minutes=30) for k in range(len(taken))]
            assert taken[-1] == at - timedelta(minutes=30)
        assert s.get(Campaign, campaign_id).status == "completed"

    # no call names the post once it is known to be gone: its jobs stopped
    for post, at in noticed.items():
        after = [c for c in log.mentioning(post) if c["at"] > at]
        assert not after, [(c["at"], c["endpoint"]) for c in after]
        assert [c for c in log.mentioning(post) if c["at"] == at]  # the poll that found out

    expected = truth(server, at=world.end)
    stored = stored_engagements(rt, campaign_id)
    assert len(stored) == len(set(stored))
    assert set(stored) == capturable(expected)
    per_post = Counter(post for post, _, _ in stored)
    assert per_post[doomed] == per_post[hiding] == 21
    final = latest_metrics(rt, campaign_id)
    assert final[steady] == next(p["public_metrics"] for p in expected["posts"] if p["id"] == steady)


# ---------------------------------------------------------------- paused and completed campaigns

def _set_paused(rt, campaign_id: int, paused: bool) -> None:
    with rt.db.write() as s:
        campaign = s.get(Campaign, campaign_id)
        action = campaign_service.pause if paused else campaign_service.resume
        action(s, campaign=campaign, clock=rt.clock)


def test_a_paused_campaign_is_skipped_then_resumes_without_duplicates_and_fills_the_gap(start_simulator,
                                                                                        make_runtime):
    scenario = load_scenario("1")
    world = scenario.build_world()
    server = start_simulator(world)
    rt = make_runtime(server)
    spec = scenario.campaign_spec()
    # two campaigns on the same world: A tracks the main post, B the two others
    a = create_campaign(rt, scenario, name="A", influencer=[], investor=[])
    b = create_campaign(rt, scenario, name="B", main=[])
    main_post = world.campaign_posts()[0].id
    assert spec["main"] == [world.url(world.campaign_posts()[0])]
    log = CallLog(server)
    paused_at, resumed_at = world.start + hours(6) + minutes(5), world.start + hours(12) + minutes(5)

    drive(rt, memory_queue(rt), until=paused_at, on_tick=log.collect)
    _set_paused(rt, a, True)
    drive(rt, memory_queue(rt), until=resumed_at, on_tick=log.collect)
    gap = log.between(paused_at, resumed_at)
    assert gap, "campaign B should have kept polling"
    assert not [c for c in gap if main_post in c["url"]], "a call for the paused campaign"
    with rt.db.session() as s:
        assert not s.scalars(select(MetricSnapshot).where(MetricSnapshot.campaign_id == a,
                                                          MetricSnapshot.taken_at > paused_at)).all()

    _set_paused(rt, a, False)
    drive(rt, memory_queue(rt), until=world.end + hours(2), on_tick=log.collect)

    # the first run after the resume fetched the gap as a delta (no re-download of the lists)
    gap_truth = ({e for e in capturable(truth(server, at=resumed_at)) if e[0] == main_post}
                 - {e for e in capturable(truth(server, at=paused_at)) if e[0] == main_post})
    assert gap_truth
    with rt.db.session() as s:
        found = s.scalars(select(Engagement).where(Engagement.campaign_id == a,
                                                   Engagement.detected_at == resumed_at)).all()
    assert {(main_post, e.action, str(e.source_tweet_id)) for e in found} == gap_truth
    new_retweets = sum(1 for e in gap_truth if e[1] == "retweet")
    resumed_calls = [c for c in log.between(resumed_at, resumed_at + minutes(1), RETWEETS) if main_post in c["url"]]
    assert 1 <= len(resumed_calls) <= new_retweets // 75 + 1

    expected = truth(server, at=world.end)
    for campaign_id, posts in ((a, {main_post}), (b, {p.id for p in world.campaign_posts()[1:]})):
        stored = stored_engagements(rt, campaign_id)
        assert len(stored) == len(set(stored)), "an engagement was stored twice"
        assert set(stored) == {e for e in capturable(expected) if e[0] in posts}
        final = latest_metrics(rt, campaign_id)
        assert final == {p["id"]: p["public_metrics"] for p in expected["posts"] if p["id"] in posts}


def test_a_completed_campaign_makes_no_more_calls_and_its_jobs_are_disabled(start_simulator, make_runtime):
    scenario = load_scenario("1")
    world = scenario.build_world()
    server = start_simulator(world)
    rt = make_runtime(server)
    campaign_id = create_campaign(rt, scenario)
    log = CallLog(server)
    drive(rt, memory_queue(rt), until=world.end + hours(2), on_tick=log.collect)

    with rt.db.session() as s:
        campaign = s.get(Campaign, campaign_id)
        assert campaign.status == "completed" and campaign.completed_at >= world.end
        jobs = s.scalars(select(PollJob).where(PollJob.campaign_id == campaign_id)).all()
        assert len(jobs) == 12
        assert not any(j.enabled or j.next_run_at or j.lease_owner for j in jobs)
        final = s.scalar(select(Run).where(Run.campaign_id == campaign_id, Run.kind == "final"))
        assert final is not None and final.started_at == world.end and final.finished_at is not None
        last = s.scalars(select(MetricSnapshot.taken_at).where(MetricSnapshot.campaign_id == campaign_id)).all()
        assert max(last) == world.end  # the final metrics poll ran at the window's end
    last_call = max(c["at"] for c in log.calls)
    assert last_call <= world.end + minutes(60)
    calls = usage(server)["total_calls"]

    # a day later, with X still answering, nothing more was asked
    drive(rt, memory_queue(rt), until=world.end + hours(26), on_tick=log.collect)
    assert usage(server)["total_calls"] == calls
    with rt.db.session() as s:
        assert s.get(Campaign, campaign_id).status == "completed"
        runs_after = s.scalars(select(Run).where(Run.started_at > world.end)).all()
    assert runs_after == []
