"""Prometheus figures, read from the database at scrape time (``GET /metrics``).

Any number of schedulers, workers and web processes share one database, so nothing is counted in a
process's memory: a :class:`SocapCollector` runs a handful of aggregate queries on every scrape. Counters
(``*_total``) are sums of what the engine stores as it goes — per-job run and failure totals, per-run calls
by endpoint and status, billable items and cost — and so only grow (a deleted campaign takes its own away,
which Prometheus reads as a counter reset). ``campaign_ids`` limits the per-campaign series to one
workspace's campaigns; the app-wide series (X's rate-limit windows, the polling pause) are always there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from socap.alerts.models import Alert, AlertDelivery
from socap.campaigns.models import Campaign
from socap.monitoring import budgeting, jobs
from socap.monitoring.models import PollJob, Run
from socap.x.budget import windows


def _scoped(query, column, campaign_ids: set[int] | None):
    return query if campaign_ids is None else query.where(column.in_(campaign_ids))


def _gauge(name: str, doc: str, labels: list[str], rows) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=labels)
    for *values, value in rows:
        family.add_metric([str(v) for v in values], float(value or 0))
    return family


def _counter(name: str, doc: str, labels: list[str], rows) -> CounterMetricFamily:
    family = CounterMetricFamily(name, doc, labels=labels)
    for *values, value in rows:
        family.add_metric([str(v) for v in values], float(value or 0))
    return family


def _calls_by_status(session: Session, campaign_ids: set[int] | None) -> list[tuple]:
    """(campaign, endpoint, status, calls); runs from before migration 0007 count as status "unknown"."""
    totals: dict[tuple, int] = defaultdict(int)
    query = _scoped(select(Run.campaign_id, Run.calls_by_endpoint, Run.calls_by_status), Run.campaign_id,
                    campaign_ids)
    for campaign_id, by_endpoint, by_status in session.execute(query):
        known: dict[str, int] = defaultdict(int)
        for key, n in (by_status or {}).items():
            endpoint, _, status = key.rpartition(" ")
            totals[(campaign_id, endpoint, status)] += n
            known[endpoint] += n
        for endpoint, n in (by_endpoint or {}).items():
            if n > known[endpoint]:
                totals[(campaign_id, endpoint, "unknown")] += n - known[endpoint]
    return [(*key, n) for key, n in sorted(totals.items())]


def collect(session: Session, *, now: datetime, limits: Mapping[str, int] | None = None,
            cycle: timedelta = timedelta(minutes=30), campaign_ids: set[int] | None = None) -> Iterator[Metric]:
    """Every SOCAP metric family, as of ``now``."""
    campaigns = session.execute(_scoped(select(Campaign.id, Campaign.name, Campaign.status), Campaign.id,
                                        campaign_ids).order_by(Campaign.id)).all()
    yield _gauge("socap_campaign_info", "Campaigns (value 1) with their name and status",
                 ["campaign_id", "name", "status"], [(c, n, s, 1) for c, n, s in campaigns])

    # -- the engine: jobs run, failures, queue lag, blocked jobs
    job_rows = select(PollJob.campaign_id, PollJob.kind)
    yield _counter("socap_poll_job_runs", "Poll-job passes finished (one per metrics poll, list pass or backfill)",
                   ["campaign_id", "kind"], session.execute(_scoped(
                       job_rows.add_columns(func.sum(PollJob.run_count)), PollJob.campaign_id, campaign_ids)
                       .group_by(PollJob.campaign_id, PollJob.kind)).all())
    yield _counter("socap_poll_job_failures", "Poll-job failures recorded (rate limits, X errors, network)",
                   ["campaign_id", "kind"], session.execute(_scoped(
                       job_rows.add_columns(func.sum(PollJob.failure_count)), PollJob.campaign_id, campaign_ids)
                       .group_by(PollJob.campaign_id, PollJob.kind)).all())
    waiting = (select(PollJob.kind, func.count(), func.min(PollJob.next_run_at))
               .join(Campaign, Campaign.id == PollJob.campaign_id)
               .where(PollJob.enabled.is_(True), PollJob.next_run_at <= now, Campaign.status == "active",
                      or_(PollJob.blocked_until.is_(None), PollJob.blocked_until <= now),
                      or_(PollJob.lease_expires_at.is_(None), PollJob.lease_expires_at <= now))
               .group_by(PollJob.kind))
    due = session.execute(_scoped(waiting, PollJob.campaign_id, campaign_ids)).all()
    yield _gauge("socap_jobs_due", "Poll jobs due and not yet claimed (waiting for a tick or for rate-limit budget)",
                 ["kind"], [(kind, n) for kind, n, _ in due])
    yield _gauge("socap_queue_lag_seconds", "How long the oldest due, unclaimed poll job has been waiting",
                 ["kind"], [(kind, max((now - oldest).total_seconds(), 0.0)) for kind, _, oldest in due])
    yield _gauge("socap_jobs_in_flight", "Poll jobs claimed by a worker (lease not expired)", ["kind"],
                 session.execute(_scoped(select(PollJob.kind, func.count()).where(
                     PollJob.lease_owner.is_not(None), PollJob.lease_expires_at > now), PollJob.campaign_id,
                     campaign_ids).group_by(PollJob.kind)).all())
    yield _gauge("socap_blocked_jobs", "Poll jobs blocked until X's rate-limit reset", ["campaign_id", "kind"],
                 session.execute(_scoped(job_rows.add_columns(func.count()).where(PollJob.blocked_until > now),
                                         PollJob.campaign_id, campaign_ids)
                                 .group_by(PollJob.campaign_id, PollJob.kind)).all())
    yield _gauge("socap_polling_paused", "1 while X's usage cap, credits or credentials pause all polling", [],
                 [(1 if jobs.polling_pause(session) else 0,)])

    # -- X: calls, rate limits, cost
    yield _counter("socap_x_api_calls", "Calls to X by endpoint and HTTP status ('network': no answer)",
                   ["campaign_id", "endpoint", "status"], _calls_by_status(session, campaign_ids))
    window_rows = [w for w in windows(session, now=now, limits=limits).values() if w.stored]
    yield _gauge("socap_x_rate_limit_remaining", "Calls left in the endpoint's current 15-minute window "
                 "(endpoints SOCAP has called)", ["endpoint"], [(w.endpoint, w.remaining) for w in window_rows])
    yield _gauge("socap_x_rate_limit_limit", "The endpoint's limit per 15-minute window (X's headers)", ["endpoint"],
                 [(w.endpoint, w.limit) for w in window_rows])
    yield _gauge("socap_x_rate_limit_reset_timestamp_seconds", "When the endpoint's open window resets (Unix time)",
                 ["endpoint"], [(w.endpoint, w.reset_at.timestamp()) for w in window_rows if w.reset_at])
    money = session.execute(_scoped(select(Run.campaign_id, func.sum(Run.cost_usd), func.sum(Run.billable_posts),
                                           func.sum(Run.billable_users), func.sum(Run.new_engagements)),
                                    Run.campaign_id, campaign_ids).group_by(Run.campaign_id)).all()
    yield _counter("socap_cost_usd", "X pay-per-use cost so far (billable posts and users)", ["campaign_id"],
                   [(c, cost) for c, cost, *_ in money])
    billed = [(c, "post", posts) for c, _, posts, _, _ in money] + [(c, "user", users) for c, _, _, users, _ in money]
    yield _counter("socap_billable_items", "Posts and users X billed (each once per UTC day)", ["campaign_id", "kind"],
                   billed)
    yield _counter("socap_new_engagements", "Engagements found (retweets, replies, quotes)", ["campaign_id"],
                   [(c, n) for c, _, _, _, n in money])

    # -- budget-aware scheduling: what each campaign needs per cycle vs what the rate limits give it
    plan = {c: p for c, p in budgeting.cycle_plan(session, now=now, limits=limits, cycle=cycle).items()
            if campaign_ids is None or c in campaign_ids}
    per_endpoint = [(c, e, v) for c, p in plan.items() for e, v in p["endpoints"].items()]
    yield _gauge("socap_campaign_calls_needed", "Calls the campaign's pending work needs this cycle (estimate)",
                 ["campaign_id", "endpoint"], [(c, e, v["needed"]) for c, e, v in per_endpoint])
    yield _gauge("socap_campaign_calls_budget", "Calls per cycle the rate limits give the campaign, most valuable "
                 "work first", ["campaign_id", "endpoint"], [(c, e, v["budget"]) for c, e, v in per_endpoint])
    yield _gauge("socap_campaign_cycles_to_clear", "Cycles until the campaign's pending work is done at its budget "
                 "(-1: no budget left for it)", ["campaign_id"],
                 [(c, -1 if p["cycles_to_clear"] is None else p["cycles_to_clear"]) for c, p in plan.items()])
    yield _gauge("socap_backfill_jobs", "Engagement jobs by backfill state", ["campaign_id", "state"],
                 [(c, "done" if done else "pending", n) for c, done, n in session.execute(_scoped(
                     select(PollJob.campaign_id, PollJob.backfill_done, func.count()).where(
                         PollJob.kind != "metrics", PollJob.enabled.is_(True)), PollJob.campaign_id, campaign_ids)
                     .group_by(PollJob.campaign_id, PollJob.backfill_done))])

    # -- alerts
    yield _gauge("socap_alerts", "Alerts by status (queued = pending)", ["campaign_id", "status"],
                 session.execute(_scoped(select(Alert.campaign_id, Alert.status, func.count()), Alert.campaign_id,
                                         campaign_ids).group_by(Alert.campaign_id, Alert.status)).all())
    yield _gauge("socap_alert_deliveries", "Alert deliveries per channel by status (queued = pending)",
                 ["campaign_id", "status"], session.execute(_scoped(
                     select(Alert.campaign_id, AlertDelivery.status, func.count())
                     .join(Alert, Alert.id == AlertDelivery.alert_id), Alert.campaign_id, campaign_ids)
                     .group_by(Alert.campaign_id, AlertDelivery.status)).all())


class SocapCollector:
    """A prometheus_client collector over a database; one scrape = one read session."""

    def __init__(self, db, clock, *, limits: Mapping[str, int] | None = None, cycle: timedelta = timedelta(minutes=30),
                 workspace_id: int | None = None):
        self.db, self.clock, self.limits, self.cycle, self.workspace_id = db, clock, limits, cycle, workspace_id

    def collect(self) -> Iterator[Metric]:
        with self.db.session() as session:
            ids = None
            if self.workspace_id is not None:
                ids = set(session.scalars(select(Campaign.id).where(Campaign.workspace_id == self.workspace_id)))
            # materialised inside the session: the families hold plain numbers
            found = list(collect(session, now=self.clock.now(), limits=self.limits, cycle=self.cycle,
                                 campaign_ids=ids))
        yield from found


def registry(db, clock, **options) -> CollectorRegistry:
    """A registry holding one :class:`SocapCollector` (``options``: limits, cycle, workspace_id)."""
    found = CollectorRegistry(auto_describe=False)
    found.register(SocapCollector(db, clock, **options))
    return found
