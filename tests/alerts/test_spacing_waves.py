"""A run still polling after the settle time finds its alerts in waves (a large campaign's run can take
longer than 5 minutes; found by the scenario 3 end-to-end test on worker threads): the later wave must not
send the earlier wave's unsent alerts and its own first ones all at once."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, update

from socap.alerts.models import Alert, AlertDelivery
from socap.alerts.spacing import slot_pending
from socap.monitoring.models import PollJob, Run
from socap.simulator import load_scenario
from tests.monitoring.support import create_campaign


def _alert(session, campaign_id: int, run_id: int, importance: int, now) -> None:
    alert = Alert(campaign_id=campaign_id, kind="engagement", run_id=run_id, importance=importance,
                  message=f"importance {importance}", status="queued", created_at=now)
    session.add(alert)
    session.flush()
    session.add(AlertDelivery(alert_id=alert.id, channel="json://127.0.0.1:9/hook", status="queued",
                              idempotency_key=uuid.uuid4().hex, next_attempt_at=None))


def _slots(rt, campaign_id: int) -> dict[int, object]:
    with rt.db.session() as s:
        return {a.importance: a.scheduled_send_at for a in s.scalars(select(Alert).where(
            Alert.campaign_id == campaign_id, Alert.status == "queued"))}


def test_a_later_wave_of_the_same_run_is_spread_over_the_rest_of_its_window(start_simulator, make_runtime):
    scenario = load_scenario("1")
    rt = make_runtime(start_simulator(scenario))
    campaign_id = create_campaign(rt, scenario)  # spacing 20 minutes
    t0 = scenario.start
    with rt.db.write() as s:
        run = Run(campaign_id=campaign_id, kind="cycle", started_at=t0)
        s.add(run)
        s.flush()
        run_id = run.id
        # one of the run's polls is still going: the campaign is busy
        job = s.scalars(select(PollJob).where(PollJob.campaign_id == campaign_id)).first()
        job.lease_owner, job.lease_expires_at = "worker", t0 + timedelta(hours=1)
        for importance in (30, 20, 10):
            _alert(s, campaign_id, run_id, importance, t0 + timedelta(minutes=4))

    # first wave, slotted once the settle time has passed: from then over the 14 minutes left of the window
    # (no slot already past: those would all go out at once)
    with rt.db.write() as s:
        slot_pending(s, now=t0 + timedelta(minutes=6))
    assert _slots(rt, campaign_id) == {30: t0 + timedelta(minutes=6), 20: t0 + timedelta(minutes=10, seconds=40),
                                       10: t0 + timedelta(minutes=15, seconds=20)}
    # the outbox sent the one that fell due; then the run finds three more
    now = t0 + timedelta(minutes=7)
    with rt.db.write() as s:
        sent = select(Alert.id).where(Alert.campaign_id == campaign_id, Alert.scheduled_send_at <= now)
        s.execute(update(AlertDelivery).where(AlertDelivery.alert_id.in_(sent)).values(status="sent", sent_at=now))
        s.execute(update(Alert).where(Alert.id.in_(sent)).values(status="sent", sent_at=now))
        for importance in (25, 15, 5):
            _alert(s, campaign_id, run_id, importance, now)
    with rt.db.write() as s:
        slot_pending(s, now=now)

    slots = _slots(rt, campaign_id)
    # the five unsent ones, highest first, one at a time over the 13 minutes left of the run's window
    step = timedelta(minutes=13) / 5
    assert slots == {25: now, 20: now + step, 15: now + 2 * step, 10: now + 3 * step, 5: now + 4 * step}
    with rt.db.session() as s:
        due = {d.alert_id: d.next_attempt_at for d in s.scalars(select(AlertDelivery).where(
            AlertDelivery.status == "queued"))}
        by_id = {a.id: a.scheduled_send_at for a in s.scalars(select(Alert).where(Alert.status == "queued"))}
    assert due == by_id, "each delivery follows its alert's slot"
