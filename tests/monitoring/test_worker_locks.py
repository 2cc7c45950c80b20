"""Workers writing at once on PostgreSQL (found by the scenario 3 end-to-end test on four worker threads):
an endpoint's first rate-budget reservation by two workers, and the lock order of worker transactions."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, update

from socap.monitoring import jobs
from socap.monitoring.models import PollJob
from socap.simulator import load_scenario
from socap.x.budget import RateBudgetStore
from socap.x.models import RateBudget

from .support import create_campaign


def _in_thread(fn):
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc
        outcome["done"] = time.monotonic()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def test_two_workers_reserving_an_endpoints_first_call_at_once(database, clock):
    store = RateBudgetStore(database, clock, {"GET /2/example": 10})
    with database.write() as session:
        store._row(session, "GET /2/example", clock.now())  # worker 1 created the row, not committed yet
        thread, outcome = _in_thread(lambda: store.acquire("GET /2/example"))  # worker 2's first call
        time.sleep(0.3)
    thread.join(10)
    assert "error" not in outcome, outcome.get("error")
    with database.session() as session:
        assert session.get(RateBudget, "GET /2/example").remaining == 9


def test_worker_transactions_of_one_campaign_take_its_row_first(start_simulator, make_runtime):
    """Each worker write transaction starts with extend_lease and bumps the campaign's data version later;
    two of them holding jobs, accounts or the run and then both wanting the campaign row deadlocked
    (PostgreSQL aborted one: its page was lost until the next cycle). Now the second waits at the start."""
    server = start_simulator("1")
    rt = make_runtime(server)
    if rt.db.dialect != "postgresql":
        pytest.skip("SQLite serialises write transactions (BEGIN IMMEDIATE)")
    campaign_id = create_campaign(rt, load_scenario("1"))
    with rt.db.write() as session:
        ids = list(session.scalars(select(PollJob.id).where(PollJob.campaign_id == campaign_id)
                                   .order_by(PollJob.id)))[:2]
        session.execute(update(PollJob).where(PollJob.id.in_(ids)).values(lease_owner="w"))
    until = rt.clock.now()
    with rt.db.write() as session:
        jobs.extend_lease(session, [ids[0]], owner="w", until=until)

        def second():
            with rt.db.write() as other:
                jobs.extend_lease(other, [ids[1]], owner="w", until=until)

        thread, outcome = _in_thread(second)
        time.sleep(0.5)
        assert "done" not in outcome, "the second worker did not wait for the campaign row"
        released = time.monotonic()
    thread.join(10)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["done"] >= released
