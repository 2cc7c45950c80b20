"""A backfill that X interrupts (a 429 on its second page, again and again) resumes from its cursor hours later.
It covers the list as it stood when it began; what came meanwhile must still be fetched. It used to finish by
recording X's current counter as seen, so count gating never ran the delta and those engagements were lost."""

from __future__ import annotations

from socap.monitoring.engine import drive
from socap.simulator import Scenario, ScriptedFault, hours, minutes
from socap.simulator.builder import ScenarioBuilder

from .support import capturable, create_campaign, memory_queue, stored_engagements, truth

EARLY, LATER = 250, 30


def _world(b: ScenarioBuilder) -> None:
    b.campaign("Resumed backfill", start="2025-03-03T12:00:00Z", days=1, threshold=10)
    author = b.account("resumeco", name="Resume Co", bio="Pages get interrupted.")
    post = b.post("main", author=author, text="Interrupted", created=-hours(6), likes={hours(0): 500})
    b.retweets(post, EARLY, between=(-hours(5), -minutes(1)))
    b.retweets(post, LATER, between=(hours(1), hours(1) + minutes(30)))


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
