"""Delta, not re-download: a burst of 500 retweets between two polls costs a handful of list calls."""

from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from socap.campaigns.models import CampaignTweet
from socap.monitoring.engine import drive
from socap.monitoring.models import Engagement, PollJob
from socap.monitoring.pollers import delta_page_size
from socap.simulator import FaultProfile, Scenario, hours, minutes
from socap.simulator.builder import ScenarioBuilder
from socap.simulator.pagination import largest_cut

from .calllog import RETWEETS, CallLog, asked_for
from .support import capturable, create_campaign, memory_queue, stored_engagements, truth

BEFORE = 250  # retweets already there when the campaign starts (the backfill)
BURST = 500  # retweets arriving between the H1 and the H1.5 polls


def _burst(b: ScenarioBuilder) -> None:
    b.campaign("Burst", start="2025-03-03T12:00:00Z", days=0.5, threshold=10)
    author = b.account("burstco", name="Burst Co", bio="We go viral.")
    post = b.post("main", author=author, text="This one takes off", created=-hours(6), likes={hours(12): 4000})
    quiet = b.post("influencer", author=b.accounts(1, "founder")[0], text="Meanwhile", created=-hours(3),
                   likes={hours(12): 40})
    b.retweets(post, BEFORE, between=(-hours(5), -minutes(5)))
    b.retweets(post, BURST, between=(hours(1) + minutes(2), hours(1) + minutes(28)))
    b.retweets(post, 7, between=(hours(3), hours(5)))
    b.replies(post, 12, between=(-hours(2), hours(4)))
    b.quotes(post, 5, between=(-hours(2), hours(4)))
    b.retweets(quiet, 3, between=(-hours(1), hours(2)))


BURSTY = Scenario.from_function("t_delta_burst", _burst)


@pytest.mark.parametrize("short_page_rate,page_floor", [(0.0, 100), (0.5, 100 - largest_cut(100))],
                         ids=["full-pages", "short-pages"])
def test_a_500_retweet_burst_is_fetched_as_a_delta(start_simulator, make_runtime, short_page_rate, page_floor):
    world = BURSTY.build_world()
    server = start_simulator(world, faults=FaultProfile(short_page_rate=short_page_rate))
    rt = make_runtime(server)
    campaign_id = create_campaign(rt, BURSTY)
    log = CallLog(server)
    post_id = world.campaign_posts()[0].id
    start = world.start

    # the backfill (3+ pages of the 250 earlier retweets) and the H0.5 / H1 polls, before the burst
    drive(rt, memory_queue(rt), until=start + hours(1) + minutes(1), on_tick=log.collect)
    with rt.db.session() as s:
        job = s.scalar(select(PollJob).join(CampaignTweet, CampaignTweet.id == PollJob.campaign_tweet_id)
                       .where(PollJob.kind == "retweets", CampaignTweet.tweet_id == int(post_id)))
        assert job.backfill_done and job.watermark is not None
    backfill_calls = [c for c in log.calls if c["endpoint"] == RETWEETS and post_id in c["url"]]
    assert len(backfill_calls) >= math.ceil(BEFORE / 100)

    drive(rt, memory_queue(rt), until=world.end + timedelta(hours=2), on_tick=log.collect)

    # the cycle that sees the burst: the poll at H1.5 (30-minute grid from the start)
    cycle = log.between(start + minutes(90), start + minutes(120), RETWEETS)
    assert all(post_id in c["url"] for c in cycle)
    assert all(c["status"] == 200 for c in cycle)
    # 500 new retweets in pages of at least `page_floor`, plus the one page that reaches the watermark
    limit = math.ceil(BURST / page_floor) + 1
    assert len(cycle) <= limit, f"{len(cycle)} retweets calls in the burst's cycle (at most {limit})"
    assert len(cycle) >= math.ceil(BURST / 100)  # the burst really was fetched in that cycle
    if short_page_rate == 0:
        assert len(cycle) == 6  # ceil(500/100) + 1

    expected = truth(server, at=world.end)
    stored = stored_engagements(rt, campaign_id)
    duplicates = [k for k, n in Counter(stored).items() if n > 1]
    assert not duplicates, f"stored twice: {duplicates[:5]}"
    assert set(stored) == capturable(expected)
    retweets_of_post = [s for s in stored if s[0] == post_id and s[1] == "retweet"]
    assert len(retweets_of_post) == BEFORE + BURST + 7
    # the burst was stored by that cycle: exactly the 500 retweets that arrived between the two polls
    burst = ({e for e in capturable(truth(server, at=start + minutes(90))) if e[:2] == (post_id, "retweet")}
             - {e for e in capturable(truth(server, at=start + minutes(60))) if e[:2] == (post_id, "retweet")})
    with rt.db.session() as s:
        detected = set(s.scalars(select(Engagement.source_tweet_id).where(
            Engagement.action == "retweet", Engagement.detected_at == start + minutes(90))))
    assert len(burst) == BURST and {e[2] for e in burst} == {str(i) for i in detected}
    # no re-download anywhere else either: after the backfill and the burst, one page per cycle whose count grew
    later = [c for c in log.calls if c["endpoint"] == RETWEETS and post_id in c["url"]
             and c["at"] >= start + minutes(120)]
    assert len(later) <= 7
    log.close()


def test_a_small_delta_asks_for_a_page_the_size_of_the_growth(start_simulator, make_runtime):
    """X bills every item of an answer once per UTC day: after the burst, the 7 later retweets are fetched with
    pages sized to the counter's growth (growth + a quarter + 5), not pages of 100 that would re-bill old
    retweets on a new day; the result still equals the truth."""
    world = BURSTY.build_world()
    server = start_simulator(world)
    rt = make_runtime(server)
    campaign_id = create_campaign(rt, BURSTY)
    log = CallLog(server)
    post_id = world.campaign_posts()[0].id
    drive(rt, memory_queue(rt), until=world.start + hours(2) + minutes(1), on_tick=log.collect)
    seen = len(log.calls)
    drive(rt, memory_queue(rt), until=world.start + hours(6), on_tick=log.collect)
    later = [c for c in log.calls[seen:] if c["endpoint"] == RETWEETS and post_id in c["url"]]
    sizes = [asked_for(c) for c in later]
    assert later and all(size <= 1 + 5 + 7 for size in sizes), sizes  # growth of a few, never a page of 100
    assert sum(c["billed_posts"] for c in later) < 100
    assert delta_page_size("retweets", growth=None) == 100 and delta_page_size("quotes", growth=0) == 10
    assert delta_page_size("retweets", growth=500) == 100 and delta_page_size("retweets", growth=3) == 8
    assert set(stored_engagements(rt, campaign_id)) == capturable(truth(server))
