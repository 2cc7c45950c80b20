"""Distributed mode delivers alerts: `socap scheduler` runs the outbox (it used to only tick the dispatcher,
so with `socap web` + `socap scheduler` + `socap worker` no alert ever left), and several schedulers' outboxes
deliver each message once: with a lease that outlasts a send, and without deadlocking each other."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event, select

from socap.alerts import outbox
from socap.alerts.detection import CONSOLE, idempotency_key, queue_summary
from socap.alerts.models import Alert, AlertDelivery
from socap.campaigns.models import Campaign
from socap.clock import ManualClock, VirtualClock
from socap.monitoring.engine import next_wake
from socap.monitoring.models import Run
from socap.simulator import load_scenario

from .conftest import import_and_sync_seeds


def _queue_message(rt, campaign_id: int, text: str) -> int:
    with rt.db.write() as session:
        return queue_summary(session, session.get(Campaign, campaign_id), text, rt.clock.now())


def _deliveries(rt, alert_id: int) -> list[AlertDelivery]:
    with rt.db.session() as session:
        return session.scalars(select(AlertDelivery).where(AlertDelivery.alert_id == alert_id)).all()


def test_socap_scheduler_process_delivers_due_alerts_with_their_idempotency_key(launch, receiver, tmp_path):
    rt, campaign_id = launch(load_scenario("1"))
    alert_id = _queue_message(rt, campaign_id, "Campaign test: delivered by the scheduler process")
    clock = VirtualClock(rt.clock.now(), speed=1)
    env = {**os.environ, "SOCAP_DATABASE_URL": rt.settings.database_url, "SOCAP_CLOCK": clock.spec(),
           "SOCAP_QUEUE_URL": f"sqlite:///{tmp_path}/queue.db", "SOCAP_X_API_BASE_URL": rt.settings.x_api_base_url,
           "SOCAP_ALERT_TICK_SECONDS": "0.2"}
    scheduler = subprocess.Popen([str(Path(sys.executable).with_name("socap")), "scheduler"], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not receiver.messages and time.monotonic() < deadline and scheduler.poll() is None:
            time.sleep(0.1)
    finally:
        scheduler.send_signal(signal.SIGTERM)
        try:
            _, errors = scheduler.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            scheduler.kill()
            _, errors = scheduler.communicate()
    assert [m["body"]["message"] for m in receiver.messages] == [
        "Campaign test: delivered by the scheduler process"], errors[-2000:]
    delivery = next(d for d in _deliveries(rt, alert_id) if d.channel == receiver.url)
    assert receiver.messages[0]["headers"]["X-Idempotency-Key"] == delivery.idempotency_key
    assert delivery.status == "sent"
    with rt.db.session() as session:
        assert session.get(Alert, alert_id).status == "sent"


def test_two_outboxes_with_a_lease_longer_than_a_send_deliver_once(start_simulator, make_runtime, receiver):
    scenario = load_scenario("1")
    server = start_simulator(scenario)
    clock = VirtualClock(scenario.start - timedelta(hours=1), speed=600)  # a send of 0.5 s lasts 5 virtual minutes
    rt = make_runtime(server, clock=clock)
    from tests.monitoring.support import create_campaign

    import_and_sync_seeds(rt, scenario)
    campaign_id = create_campaign(rt, scenario, notify_urls=[receiver.url])
    alert_id = _queue_message(rt, campaign_id, "Campaign test: one message, two outboxes")

    def slow_send(url, **kwargs):
        time.sleep(0.5)
        outbox.channels.send(url, **kwargs)

    def tick():
        outbox.deliver_due(rt.db, clock, send=slow_send, lease=timedelta(minutes=30))

    first = threading.Thread(target=tick)
    first.start()
    time.sleep(0.3)  # past the default lease of 2 virtual minutes, while the first send is under way
    tick()
    first.join()
    assert len(receiver.messages) == 1
    assert {d.status for d in _deliveries(rt, alert_id)} == {"sent"}


def test_an_outbox_slotting_a_wave_waits_for_another_marking_the_same_alert_sent(launch, receiver):
    """Two schedulers' outboxes: A marks alert 1's last delivery sent (delivery row, then alert row) while B,
    whose tick began a little earlier, spreads a new wave of the same run (found meanwhile) together with alert 1
    (alert row, then its deliveries). On PostgreSQL these used to deadlock; the loser's transaction died, and
    when it was A's the message went out again once the lease expired. Now B waits for A."""
    scenario = load_scenario("1")
    rt, campaign_id = launch(scenario)
    t0 = rt.clock.now()
    with rt.db.write() as session:
        run = Run(campaign_id=campaign_id, kind="cycle", started_at=t0)
        session.add(run)
        session.flush()
        run_id = run.id

    def add_alert(importance: int, slot) -> int:
        with rt.db.write() as session:
            alert = Alert(campaign_id=campaign_id, kind="engagement", run_id=run_id, importance=importance,
                          message=f"Investor @wave{importance} (importance: {importance}) retweeted your main tweet",
                          scheduled_send_at=slot, status="queued", created_at=t0)
            session.add(alert)
            session.flush()
            session.add_all([AlertDelivery(alert_id=alert.id, channel=c, idempotency_key=idempotency_key(alert.id, c),
                                           status="queued", attempts=0, next_attempt_at=slot)
                             for c in (receiver.url, CONSOLE)])
            return alert.id

    first = add_alert(20, t0 + timedelta(minutes=8))
    marking, slotted = threading.Event(), threading.Event()

    def before(conn, cursor, statement, *args):
        if threading.current_thread().name == "outbox-a" and statement.startswith("UPDATE alert SET status") \
                and not marking.is_set():
            marking.set()  # A holds alert 1's last delivery and is about to settle the alert
            slotted.wait(3)  # B takes the alert row first, if it can

    def after(conn, cursor, statement, *args):
        if threading.current_thread().name == "outbox-b" and statement.startswith("UPDATE alert SET scheduled_send_at"):
            slotted.set()

    errors: list[BaseException] = []

    def tick(clock):
        try:
            outbox.deliver_due(rt.db, clock)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    event.listen(rt.db.engine, "before_cursor_execute", before)
    event.listen(rt.db.engine, "after_cursor_execute", after)
    try:
        a = threading.Thread(target=tick, args=(ManualClock(t0 + timedelta(minutes=9)),), name="outbox-a")
        a.start()
        assert marking.wait(30), "outbox A never settled alert 1"
        add_alert(10, None)  # a worker finds a second wave of the run (unslotted)
        b = threading.Thread(target=tick, args=(ManualClock(t0 + timedelta(minutes=6)),), name="outbox-b")
        b.start()
        a.join(60)
        b.join(60)
    finally:
        event.remove(rt.db.engine, "before_cursor_execute", before)
        event.remove(rt.db.engine, "after_cursor_execute", after)
    assert not errors, errors
    assert slotted.is_set(), "outbox B spread the second wave"
    assert len([m for m in receiver.messages if "@wave20" in m["body"]["message"]]) == 1
    with rt.db.session() as session:
        assert session.get(Alert, first).status == "sent"
    assert {d.status for d in _deliveries(rt, first)} == {"sent"}


def test_the_outbox_wakes_at_a_slot_before_its_next_tick_and_never_for_one_already_due(launch, receiver):
    """outbox_loop sleeps until ``next_wake``: the regular tick, or a queued delivery's slot if it comes
    first, so an alert leaves at its slot (bench/alert_slots.py); a delivery due but unsent (another outbox
    holds it) waits for the regular tick instead of making the loop spin."""
    rt, campaign_id = launch(load_scenario("1"))
    alert_id = _queue_message(rt, campaign_id, "Campaign test: slotted")
    now = rt.clock.now()
    regular = now + timedelta(seconds=15)

    def slot_at(when) -> None:
        with rt.db.write() as session:
            for delivery in session.scalars(select(AlertDelivery).where(AlertDelivery.alert_id == alert_id)):
                delivery.next_attempt_at = when

    slot_at(now + timedelta(seconds=4))
    assert next_wake(rt, regular=regular) == now + timedelta(seconds=4)
    slot_at(now + timedelta(seconds=40))  # after the tick: the tick comes first
    assert next_wake(rt, regular=regular) == regular
    slot_at(now - timedelta(seconds=1))  # due, not sent by this tick: no busy loop
    assert next_wake(rt, regular=regular) == regular
    slot_at(now + timedelta(seconds=4))
    with rt.db.write() as session:
        for delivery in session.scalars(select(AlertDelivery).where(AlertDelivery.alert_id == alert_id)):
            delivery.status = "sent"
    assert next_wake(rt, regular=regular) == regular  # only queued deliveries count
