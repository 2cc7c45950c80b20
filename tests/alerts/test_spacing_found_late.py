"""A run's batch is found after the run started: the embedded engine's dispatcher claims the engagement polls
that the run's metrics poll made due at its next tick, a minute later (bench/alert_slots.py, threaded mode,
measured first alerts 60-240 s past their slots). Slots given from the run's start were already past when the
batch was slotted, so its first alerts went out at once, together and late. The batch must be spread from the
instant it is slotted over what is left of its window: every alert within one outbox tick of its slot, one at
a time, all out by the window's end.

The engine's cadence is played on the shared ManualClock (dispatcher every 60 s, outbox every 15 s, the queue
drained after each dispatcher tick); the simulator and the json:// receiver are real HTTP."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from socap.alerts.models import Alert
from socap.alerts.outbox import deliver_due
from socap.monitoring.engine import run_tick
from socap.runtime import set_current
from socap.simulator import load_scenario
from tests.monitoring.support import memory_queue

DISPATCH = timedelta(seconds=60)  # SOCAP_DISPATCH_INTERVAL_SECONDS
TICK = timedelta(seconds=15)  # SOCAP_ALERT_TICK_SECONDS
SPACING = timedelta(minutes=20)  # scenario 6


def test_a_batch_found_after_its_run_started_is_spread_from_then_within_a_tick_of_each_slot(launch, receiver):
    scenario = load_scenario("6")
    rt, campaign_id = launch(scenario)
    clock, queue, start = rt.clock, memory_queue(rt), scenario.start
    assert clock.now() == start
    set_current(rt)  # the queue's tasks run on it, as in Engine.start

    found_at = None
    while clock.now() < start + SPACING + TICK:
        now = clock.now()
        if (now - start) % DISPATCH == timedelta(0):
            run_tick(rt, queue)
            while queue.run_one():
                pass
        deliver_due(rt.db, clock)
        with rt.db.session() as s:
            if found_at is None and s.scalar(select(Alert.id).where(Alert.scheduled_send_at.is_not(None)).limit(1)):
                found_at = now
        clock.advance(TICK)

    with rt.db.session() as s:
        alerts = s.scalars(select(Alert).where(Alert.campaign_id == campaign_id, Alert.kind == "engagement")
                           .order_by(Alert.scheduled_send_at)).all()
        slots = {a.message: a.scheduled_send_at for a in alerts}
    arrived = {m["body"]["message"]: m["at"] for m in receiver.messages}
    # 50 engaged before 10:00; the polls, a minute later, may find one of the next batch's too
    assert len(alerts) >= 50 and set(arrived) == set(slots)
    assert found_at is not None and found_at >= start + DISPATCH, "the engagement polls run at the next tick"

    # each alert within one outbox tick of its slot (it was 60 s and more for the first ones)
    errors = {text: (arrived[text] - slot).total_seconds() for text, slot in slots.items()}
    assert all(0 <= e <= TICK.total_seconds() for e in errors.values()), sorted(errors.values())[-5:]
    # one at a time: no two alerts of the batch in the same outbox tick
    assert len(set(arrived.values())) == len(alerts), "several alerts went out together"
    # no slot was already past when the batch was slotted; the batch still ends within the run's window
    assert min(slots.values()) == found_at
    assert max(arrived.values()) <= start + SPACING
