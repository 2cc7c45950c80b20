"""Executing one task message: build a budget-aware X client, run the poller, record any failure.

Never raises: a failure of X, of the network or of our own code is recorded on the jobs (and the run)
and the worker goes on with the next task.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from datetime import timedelta

from sqlalchemy.orm import Session

from socap.campaigns.models import Campaign, CampaignTweet
from socap.monitoring import jobs, pollers
from socap.monitoring.accounting import CallStats
from socap.monitoring.dispatcher import TaskMessage
from socap.runtime import MissingCredentials, Runtime
from socap.x import CallRecord, RateLimited
from socap.x.budget import RateBudgetStore

log = logging.getLogger("socap.worker")


def _interval(session: Session, job) -> timedelta:
    tweet = session.get(CampaignTweet, job.campaign_tweet_id)
    return timedelta(minutes=session.get(Campaign, tweet.campaign_id).poll_interval_minutes)


class TaskTrace:
    """One structured log line per task, written when it ends (``task-end {json}``): which process and
    thread ran which jobs under which lease, when its first X call went out and its last answer came back
    (wall-clock Unix seconds, comparable across the processes of one host), and how it ended. The first
    call follows the dispatcher's claim and the last answer precedes the write that releases the jobs, so
    two tasks of one job whose call spans overlap really ran at once (tests/distributed proves none do).
    A ``task-start`` line marks a task still running (a killed worker leaves one without its end)."""

    def __init__(self, message: TaskMessage):
        self.fields = {"pid": os.getpid(), "thread": threading.current_thread().name, "owner": message.owner,
                       "kind": message.kind, "jobs": list(message.job_ids), "run": message.run_id,
                       "started": time.time(), "first_call": None, "last_call": None, "calls": 0}
        log.info("task-start %s", json.dumps(self.fields))

    def before_call(self) -> None:
        if self.fields["first_call"] is None:
            self.fields["first_call"] = time.time()

    def answered(self) -> None:
        self.fields["last_call"] = time.time()
        self.fields["calls"] += 1

    def end(self, outcome: str) -> None:
        log.info("task-end %s", json.dumps({**self.fields, "finished": time.time(), "outcome": outcome}))


def execute(rt: Runtime, message: TaskMessage) -> None:
    trace = TaskTrace(message)
    outcome = "crashed"  # only if recording the failure itself failed (the database is gone, say)
    try:
        outcome = _execute(rt, message, trace)
    finally:
        trace.end(outcome)


def _execute(rt: Runtime, message: TaskMessage, trace: TaskTrace) -> str:
    with rt.db.write() as session:
        if jobs.polling_pause(session):
            # X refused us app-wide after this task was queued: do not spend a call on a certain refusal
            for job in jobs.owned_jobs(session, list(message.job_ids), owner=message.owner):
                jobs.release(job)
            return "paused"
    stats = CallStats()
    budget = RateBudgetStore(rt.db, rt.clock, rt.settings.x_rate_limits)

    def before_call(endpoint: str) -> None:
        trace.before_call()
        budget.acquire(endpoint)

    def on_call(record: CallRecord) -> None:
        trace.answered()
        stats.on_call(record)
        # a 429 whose headers still show requests left refuses this request only (poll_metrics splits the
        # batch and retries): only a 429 without budget left in its headers spends the endpoint's window
        spent = record.status_code == 429 and (record.rate_limit is None or record.rate_limit.remaining == 0)
        budget.observe(record.endpoint, record.rate_limit, exhausted=spent)

    try:
        client = rt.x_client(before_call=before_call, on_call=on_call)
    except MissingCredentials as exc:
        now = rt.clock.now()
        with rt.db.write() as session:
            for job in jobs.owned_jobs(session, list(message.job_ids), owner=message.owner):
                jobs.release(job)
            jobs.set_polling_pause(session, reason=str(exc), now=now, retry_at=now + jobs.AUTH_RETRY)
        return "no credentials"
    work = pollers.Work(db=rt.db, clock=rt.clock, client=client, stats=stats, owner=message.owner,
                        run_id=message.run_id, lease=timedelta(minutes=rt.settings.job_lease_minutes),
                        reconcile_interval=timedelta(hours=rt.settings.reconcile_interval_hours))
    job_ids = list(message.job_ids)
    outcome = "ok"
    try:
        if message.kind == "metrics":
            pollers.poll_metrics(work, job_ids)
        elif message.kind == "replies":
            pollers.poll_replies(work, job_ids)
        else:
            pollers.poll_list(work, job_ids[0])
    except jobs.LeaseLost as exc:
        outcome = "lease lost"
        log.warning("task %s %s: %s; another worker has taken over", message.kind, job_ids, exc)
    except Exception as exc:  # noqa: BLE001 - recorded on the jobs, never crashes the worker
        outcome = f"failed: {type(exc).__name__}"
        if not isinstance(exc, RateLimited):
            log.warning("task %s %s failed: %s", message.kind, job_ids, exc)
        now = rt.clock.now()
        with rt.db.write() as session:
            owned = jobs.owned_jobs(session, job_ids, owner=message.owner)
            if owned:
                stats.errors.append(jobs.fail(session, owned, exc, now=now, interval=_interval(session, owned[0])))
            stats.flush(session, run_id=message.run_id, now=now)
    finally:
        client.close()
    return outcome
