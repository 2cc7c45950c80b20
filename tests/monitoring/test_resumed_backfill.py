"""A backfill that X interrupts (a 429 on its second page, again and again) resumes from its cursor hours later.
It covers the list as it stood when it began; what came meanwhile must still be fetched. It used to finish by
recording X's current counter as seen, so count gating never ran the delta and those engagements were lost."""

from __future__ import annotations

import json

from sqlalchemy import select

from socap.monitoring.engine import drive
from socap.monitoring.models import PollJob
from socap.simulator import Scenario, ScriptedFault, hours, minutes
from socap.simulator.builder import ScenarioBuilder

from .support import capturable, create_campaign, memory_queue, stored_engagements, truth

EARLY, LATER = 250, 30


def _world(b: ScenarioBuilder):
    b.campaign("Resumed backfill", start="2025-03-03T12:00:00Z", days=1, threshold=10)
    author = b.account("resumeco", name="Resume Co", bio="Pages get interrupted.")
    post = b.post("main", author=author, text="Interrupted", created=-hours(6), likes={hours(0): 500})
    b.retweets(post, EARLY, between=(-hours(5), -minutes(1)))
    b.retweets(post, LATER, between=(hours(1), hours(1) + minutes(30)))
    return post


RESUMED = Scenario.from_function("t_resumed_backfill", _world)


def test_a_backfill_resumed_after_new_engagements_arrived_still_fetches_them(start_simulator, make_runtime):
    world = RESUMED.build_world()
    server = start_simulator(world)
    rt = make_runtime(server)
    campaign_id = create_campaign(rt, RESUMED)
    # every request for a later page is refused for two hours: the backfill stops after its first page
    server.sim.add_fault(ScriptedFault(endpoint="GET /2/tweets/:id/retweets", contains="pagination_token",
                                       status=429, times=8))
    drive(rt, memory_queue(rt), until=world.start + hours(1) + minutes(45))
    stored = [e for e in stored_engagements(rt, campaign_id) if e[1] == "retweet"]
    assert len(stored) < EARLY, "the backfill is still interrupted when the later retweets arrive"
    drive(rt, memory_queue(rt), until=world.start + hours(6))
    expected = {e for e in capturable(truth(server)) if e[1] == "retweet"}
    assert len(expected) == EARLY + LATER
    assert set(stored_engagements(rt, campaign_id)) >= expected


def _refused_world(b: ScenarioBuilder) -> None:
    b.replies(_world(b), 150, between=(-hours(5), -minutes(1)))  # more than a page: the search backfill pages


REFUSED = Scenario.from_function("t_refused_cursor", _refused_world)


def test_a_saved_cursor_that_x_refuses_starts_the_backfill_over_and_loses_nothing(start_simulator, make_runtime):
    """X answers 400 to a pagination token it no longer accepts (they expire). A backfill resumed from such a
    saved cursor used to fail at every run and never finish; it now forgets the cursor and starts over."""
    world = REFUSED.build_world()
    server = start_simulator(world)
    rt = make_runtime(server)
    campaign_id = create_campaign(rt, REFUSED)
    # the second page of each backfill is refused once (429): both stop with a cursor saved
    for endpoint, token in (("GET /2/tweets/:id/retweets", "pagination_token"),
                            ("GET /2/tweets/search/recent", "next_token")):
        server.sim.add_fault(ScriptedFault(endpoint=endpoint, contains=token, status=429, times=1))
    drive(rt, memory_queue(rt), until=world.start + minutes(10))
    with rt.db.write() as session:  # ... and by the time they resume, X has expired those cursors
        interrupted = session.scalars(select(PollJob).where(PollJob.kind.in_(("retweets", "replies")))).all()
        assert sorted(j.kind for j in interrupted if j.backfill_cursor and not j.backfill_done) == [
            "replies", "retweets"]
        for job in interrupted:
            job.backfill_cursor = ("expired-token" if job.kind == "retweets" else
                                   json.dumps({**json.loads(job.backfill_cursor), "token": "expired-token"}))
    drive(rt, memory_queue(rt), until=world.start + hours(6))
    refused = [c for c in server.sim.usage.log if "expired-token" in c["url"]]
    assert [c["status"] for c in refused] == [400, 400]  # asked once each, then started over
    assert set(stored_engagements(rt, campaign_id)) == capturable(truth(server))
    with rt.db.session() as session:
        for job in session.scalars(select(PollJob).where(PollJob.kind.in_(("retweets", "replies")))):
            assert job.backfill_done and job.backfill_cursor is None, job.kind
