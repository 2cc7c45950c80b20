"""Workers writing at once on PostgreSQL (found by the scenario 3 end-to-end test on four worker threads):
an endpoint's first rate-budget reservation by two workers, and the lock order of worker transactions
(the campaign row first; shared account rows in id order); and what the pollers keep out of their write
transactions."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select, update

from socap.campaigns.models import Campaign, CampaignTweet
from socap.importance import accounts
from socap.monitoring import jobs
from socap.monitoring.engine import drive
from socap.monitoring.ingest import ingest_engagements
from socap.monitoring.models import Engagement, PollJob, Run
from socap.simulator import load_scenario
from socap.x import Tweet, User
from socap.x.budget import RateBudgetStore
from socap.x.models import RateBudget

from .support import create_campaign, memory_queue, one_post_campaign


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


def _scenario1_on_postgresql(start_simulator, make_runtime):
    """(runtime, campaign id) of scenario 1's campaign; skips on SQLite, which serialises write transactions
    (BEGIN IMMEDIATE)."""
    rt = make_runtime(start_simulator("1"))
    if rt.db.dialect != "postgresql":
        pytest.skip("SQLite serialises write transactions (BEGIN IMMEDIATE)")
    return rt, create_campaign(rt, load_scenario("1"))


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
    rt, campaign_id = _scenario1_on_postgresql(start_simulator, make_runtime)
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


def test_a_tick_starting_a_run_while_a_worker_writes_the_campaign_does_not_deadlock(start_simulator, make_runtime):
    """Found by tests/distributed (two `socap scheduler` and three `socap worker` processes): a tick holds the
    jobs it claimed and then inserts the cycle's run, whose foreign key takes a KEY SHARE lock on the campaign
    row; a worker holding that row (extend_lease) then updated one of those jobs (count gating makes a post's
    list jobs due). Each waited for the other until PostgreSQL aborted one. The worker's lock on the campaign
    is FOR NO KEY UPDATE now: it still queues the campaign's workers, but no longer blocks foreign keys."""
    rt, campaign_id = _scenario1_on_postgresql(start_simulator, make_runtime)
    with rt.db.write() as session:
        metrics, retweets = (session.scalar(select(PollJob.id).where(PollJob.campaign_id == campaign_id,
                                                                     PollJob.kind == kind).limit(1))
                             for kind in ("metrics", "retweets"))
        session.execute(update(PollJob).where(PollJob.id == metrics).values(lease_owner="w"))
    now = rt.clock.now()
    with rt.db.write() as worker:
        jobs.extend_lease(worker, [metrics], owner="w", until=now)

        def tick():
            with rt.db.write() as session:
                session.execute(select(PollJob.id).where(PollJob.id == retweets).with_for_update())  # claimed
                session.add(Run(campaign_id=campaign_id, kind="cycle", started_at=now))
                session.flush()

        thread, outcome = _in_thread(tick)
        time.sleep(0.5)
        # the worker's count gating makes the post's retweets job due: it waits for the tick to commit
        worker.execute(update(PollJob).where(PollJob.id == retweets).values(next_run_at=now))
    thread.join(10)
    assert "error" not in outcome, outcome.get("error")
    with rt.db.session() as session:
        assert session.scalar(select(Run.id).where(Run.campaign_id == campaign_id)) is not None


def _retweets_by(session, target: tuple[int, int], authors: list[int]) -> None:
    """One page of retweets of the target's post by ``authors``, in that (X's) order."""
    campaign, tweet = session.get(Campaign, target[0]), session.get(CampaignTweet, target[1])
    at = campaign.starts_at + timedelta(minutes=5)
    posts = [Tweet.model_validate({"id": str(1_950_000_000_000_000_000 + 1000 * target[1] + a), "author_id": str(a),
                                   "text": "RT", "created_at": at.strftime("%Y-%m-%dT%H:%M:%S.000Z")})
             for a in authors]
    users = {str(a): User.model_validate({"id": str(a), "username": f"user{a}", "name": f"User {a}"})
             for a in authors}
    ingest_engagements(session, campaign=campaign, tweet=tweet, action="retweet", posts=posts, users=users,
                       run_id=None, now=at)


def test_campaigns_sharing_engagers_take_the_account_rows_in_id_order(database):
    """Two campaigns' workers do not queue on one campaign row: each page's account upsert locked the
    accounts in X's order, so one transaction holding account 5 and then wanting 9 (a second page: a reply
    search spans several posts) and another holding 9 and wanting 5 deadlocked, and PostgreSQL aborted one.
    In id order the second waits at 5 holding nothing, and both commit."""
    if database.dialect != "postgresql":
        pytest.skip("SQLite serialises write transactions (BEGIN IMMEDIATE)")
    start = datetime(2025, 3, 3, 12, tzinfo=UTC)
    first, second = (one_post_campaign(database, start=start, post_id=1_900_000_000_000_000_000 + i, name=name)
                     for i, name in enumerate(("first", "second")))
    with database.write() as session:
        _retweets_by(session, first, [5])

        def other():
            with database.write() as s:
                _retweets_by(s, second, [9, 5])

        thread, outcome = _in_thread(other)
        time.sleep(0.5)
        assert "done" not in outcome, "the other transaction did not wait for account 5"
        _retweets_by(session, first, [9])  # waited for the other transaction, which held 9: a deadlock
    thread.join(10)
    assert "error" not in outcome, outcome.get("error")
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Engagement)) == 4


@contextmanager
def _transactions(db, probe: Callable[[], object] = lambda: None) -> Iterator[list[list[tuple[str, object]]]]:
    """The statements the database's connections run meanwhile, one list per transaction (COMMIT or ROLLBACK
    ends one), each with what ``probe`` said as it ran: on PostgreSQL from SQLAlchemy's cursor and commit
    events, on SQLite from the driver's trace callback (the SQLite ingest runs its statements on the driver,
    below SQLAlchemy's events)."""
    transactions: list[list[tuple[str, object]]] = [[]]

    def statement(sql: str) -> None:
        if sql.strip().upper() in ("COMMIT", "ROLLBACK"):
            if transactions[-1]:
                transactions.append([])
        else:
            transactions[-1].append((sql, probe()))

    def checkout(dbapi_connection, *args) -> None:
        dbapi_connection.set_trace_callback(statement)

    listeners = [(db.engine, "checkout", checkout)] if db.dialect == "sqlite" else [
        (db.engine, "before_cursor_execute", lambda conn, cursor, sql, *args: statement(sql)),
        (db.engine, "commit", lambda conn: statement("COMMIT")),
        (db.engine, "rollback", lambda conn: statement("ROLLBACK"))]
    for target, name, fn in listeners:
        event.listen(target, name, fn)
    try:
        yield transactions
    finally:
        for target, name, fn in listeners:
            event.remove(target, name, fn)


_ACCOUNT_INSERT = re.compile(r"\s*INSERT INTO account\b", re.IGNORECASE)
_ENGAGEMENT_INSERT = re.compile(r"\s*INSERT INTO engagement\b", re.IGNORECASE)


def test_a_reply_search_spanning_posts_writes_all_its_accounts_before_any_engagement(start_simulator, make_runtime):
    """A reply search covers several posts of a campaign; its transaction ingests one page per post. Each
    page's own account upsert would lock that page's accounts only (in id order), so two such transactions
    could still take common accounts in opposite orders; all the search's accounts go first, at once."""
    scenario = load_scenario("1")
    server = start_simulator(scenario)
    rt = make_runtime(server)
    create_campaign(rt, scenario)
    with _transactions(rt.db) as transactions:
        drive(rt, memory_queue(rt), until=server.clock.now() + timedelta(minutes=30))  # the first run
    spanning = [[sql for sql, _ in t] for t in transactions
                if sum(1 for sql, _ in t if _ENGAGEMENT_INSERT.match(sql)) > 1]
    assert spanning, "no transaction ingested several posts' replies"
    for statements in spanning:
        written = [i for i, sql in enumerate(statements) if _ACCOUNT_INSERT.match(sql)]
        first_engagement = next(i for i, sql in enumerate(statements) if _ENGAGEMENT_INSERT.match(sql))
        assert written and max(written) < first_engagement, statements


def test_pollers_build_account_rows_before_they_take_the_write_lock(start_simulator, make_runtime):
    """An account row (its bio category and suspicion flags) needs nothing from the database and is about a
    third of a page's ingest: the pollers build their pages' rows before the write transaction, so the lock
    (SQLite's is one for the whole database) is not held while bios are read. Probe: how many times bios
    were categorized so far (cached or not), at every statement of every transaction storing engagements."""
    scenario = load_scenario("1")
    server = start_simulator(scenario)
    rt = make_runtime(server)
    create_campaign(rt, scenario)
    info = accounts._categorize.cache_info

    def categorized() -> int:
        return info().hits + info().misses

    before = categorized()
    with _transactions(rt.db, probe=categorized) as transactions:
        drive(rt, memory_queue(rt), until=server.clock.now() + timedelta(minutes=30))  # the first run
    storing = [t for t in transactions if any(_ENGAGEMENT_INSERT.match(sql) for sql, _ in t)]
    assert len(storing) >= 3, "the first run stored no retweets, replies and quotes"
    assert categorized() - before >= 27 + 12 + 3  # every engager's bio was read
    for statements in storing:
        assert statements[0][1] == statements[-1][1], [f"{n}: {sql[:60]}" for sql, n in statements]
