"""Budget-aware scheduling: which due poll jobs X's per-endpoint rate limits let run now, most valuable first.

X allows e.g. 75 requests per 15 minutes on the retweets and quotes lists. When the due work needs more than
an endpoint has left, the dispatcher claims jobs in this order and leaves the rest due for a later tick (an
unclaimed job keeps its next_run_at, cursor, watermark and counts, so nothing is lost or run twice):

1. metrics polls (they decide everything else, and cost one call per 100 posts);
2. delta runs, largest counter growth since the job's last success first (fresh engagements, fresh alerts);
3. unfinished first backfills: main posts, then influencers', then investors' (bigger lists first);
4. reconcile passes (a re-check of a list that is probably complete).

A job's cost is an estimate in calls: pages of up to 100 for the items X counts that we have not fetched (a
replies search is shared by up to 13 conversations). The estimate only decides how much is claimed at once;
the shared budget (socap.x.budget) still reserves every real call, and a job whose pages outrun it is blocked
until X's reset and resumes from its cursor.

The same order over one cycle's capacity says, per campaign, how many calls its pending work needs and how
many the budget gives it (`socap status`, the dashboard, /metrics).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from socap.campaigns.models import Campaign, CampaignTweet
from socap.monitoring.gating import ACTION
from socap.monitoring.models import Engagement, PollJob
from socap.x import (
    ENDPOINT_QUOTE_TWEETS,
    ENDPOINT_RETWEETS,
    ENDPOINT_SEARCH_RECENT,
    ENDPOINT_TWEETS,
    MAX_IDS,
    MAX_QUERY_CHARS,
)
from socap.x.budget import DEFAULT_LIMITS, WINDOW, windows

KIND_ENDPOINT = {"metrics": ENDPOINT_TWEETS, "retweets": ENDPOINT_RETWEETS, "quotes": ENDPOINT_QUOTE_TWEETS,
                 "replies": ENDPOINT_SEARCH_RECENT}
CATEGORY_RANK = {"main": 0, "influencer": 1, "investor": 2}
PAGE_SIZE = 100
CONVERSATIONS_PER_QUERY = MAX_QUERY_CHARS // len(" OR conversation_id:" + "9" * 19)
LATEST = datetime.max.replace(tzinfo=UTC)
EPSILON = 1e-9


@dataclass(frozen=True)
class Demand:
    """One job's claim on its endpoint's budget."""

    job_id: int
    campaign_id: int
    kind: str
    endpoint: str
    calls: float
    rank: tuple
    unit: str | None = None  # demands of one unit are claimed together (a resumed replies group)


def growth(job: PollJob) -> int:
    """How much the post's counter grew since the job's last success (as the latest metrics poll saw it)."""
    if job.observed_count is None:
        return 0
    return max(job.observed_count - (job.last_count or 0), 0)


def estimated_calls(job: PollJob, *, stored: int = 0) -> float:
    """Calls the job's next pass needs; ``stored``: engagements already held (resumes a first backfill)."""
    if job.kind == "metrics":
        return 1 / MAX_IDS
    if job.backfill_done:
        items = growth(job)
    elif job.last_count is None:  # the first backfill: what X counts minus what earlier pages stored
        items = max((job.observed_count or 0) - stored, 0)
    else:  # a reconcile pass downloads the whole list again
        items = job.observed_count or 0
    if job.kind == "replies":
        return items / PAGE_SIZE + 1 / CONVERSATIONS_PER_QUERY
    return float(items // PAGE_SIZE + 1)


def rank(job: PollJob, category: str) -> tuple:
    """Sort key: the most valuable job first (see the module's docstring)."""
    category_rank = CATEGORY_RANK.get(category, len(CATEGORY_RANK))
    waited = (job.next_run_at or LATEST).timestamp()  # among equals, the job due longest first
    if job.kind == "metrics":
        return (0, 0, 0, waited, job.id)
    if job.backfill_done:
        return (1, -growth(job), category_rank, waited, job.id)
    if job.last_count is None:
        return (2, category_rank, -(job.observed_count or 0), waited, job.id)
    return (3, -growth(job), category_rank, waited, job.id)


def _stored_counts(session: Session, jobs: Sequence[PollJob]) -> dict[tuple[int, str], int]:
    tweet_ids = sorted({j.campaign_tweet_id for j in jobs})
    counts: dict[tuple[int, str], int] = {}
    for start in range(0, len(tweet_ids), 500):
        chunk = tweet_ids[start:start + 500]
        counts.update({(t, a): n for t, a, n in session.execute(
            select(Engagement.campaign_tweet_id, Engagement.action, func.count())
            .where(Engagement.campaign_tweet_id.in_(chunk))
            .group_by(Engagement.campaign_tweet_id, Engagement.action))})
    return counts


def demands(session: Session, rows: Iterable[tuple[PollJob, str]]) -> list[Demand]:
    """(job, its post's category) → the jobs' demands, most valuable first."""
    rows = list(rows)
    # only a resumed first backfill has stored anything yet (its first page saved its cursor with its rows)
    resumed = [j for j, _ in rows if j.kind != "metrics" and not j.backfill_done and j.last_count is None
               and j.backfill_cursor]
    stored = _stored_counts(session, resumed) if resumed else {}
    found = []
    for job, category in rows:
        held = stored.get((job.campaign_tweet_id, ACTION.get(job.kind, "")), 0)
        unit = f"replies {job.backfill_cursor}" if job.kind == "replies" and job.backfill_cursor else None
        found.append(Demand(job.id, job.campaign_id, job.kind, KIND_ENDPOINT[job.kind],
                            estimated_calls(job, stored=held), rank(job, category), unit))
    return sorted(found, key=lambda d: d.rank)


def allocate(found: Sequence[Demand], available: Mapping[str, float]) -> list[tuple[Demand, float]]:
    """Walk the demands most valuable first; each one that finds budget left on its endpoint is granted
    (the last one may overdraw: it runs until the real budget stops it). Returns (demand, calls granted)."""
    left = {e: float(v) for e, v in available.items()}
    units: dict[str, list[Demand]] = {}
    for demand in sorted(found, key=lambda d: d.rank):
        units.setdefault(demand.unit or f"job {demand.job_id} {demand.campaign_id} {demand.kind}", []).append(demand)
    granted: list[tuple[Demand, float]] = []
    for members in units.values():  # in order of each unit's most valuable member
        endpoint = members[0].endpoint
        budget = left.get(endpoint, math.inf)
        if budget <= EPSILON:
            continue
        for demand in members:
            granted.append((demand, min(demand.calls, max(budget, 0.0))))
            budget -= demand.calls
        left[endpoint] = budget
    return granted


def available_now(session: Session, *, now: datetime, limits: Mapping[str, int] | None) -> dict[str, float]:
    """Calls left in each endpoint's current window, less what claimed jobs still in flight will spend."""
    left = {e: float(w.remaining) for e, w in windows(session, now=now, limits=limits, lock=True).items()}
    in_flight = session.execute(
        select(PollJob, CampaignTweet.category).join(CampaignTweet, CampaignTweet.id == PollJob.campaign_tweet_id)
        .where(PollJob.enabled.is_(True), PollJob.lease_owner.is_not(None), PollJob.lease_expires_at > now)).all()
    for demand in demands(session, in_flight):
        left[demand.endpoint] = left.get(demand.endpoint, math.inf) - demand.calls
    return left


def exhausted_until(session: Session, *, now: datetime) -> dict[str, datetime]:
    """Endpoints with nothing left in the current window, and when it resets."""
    return {e: w.reset_at for e, w in windows(session, now=now).items()
            if w.remaining <= 0 and w.reset_at is not None}


# ---------------------------------------------------------------- reporting: needs vs budget per cycle

def _ceil(value: float) -> int:
    return math.ceil(value - 1e-6) if value > 0 else 0


def cycle_plan(session: Session, *, now: datetime, limits: Mapping[str, int] | None,
               cycle: timedelta) -> dict[int, dict]:
    """Per active campaign: the calls its pending work needs this cycle (the next metrics polls, and every
    engagement job that is due, blocked or mid-backfill, by estimate) and the calls one cycle of the
    budget gives it when every campaign's work is served in the scheduler's order."""
    live = (select(PollJob, CampaignTweet.category)
            .join(Campaign, Campaign.id == PollJob.campaign_id)
            .join(CampaignTweet, CampaignTweet.id == PollJob.campaign_tweet_id)
            .where(PollJob.enabled.is_(True), Campaign.status == "active", CampaignTweet.unavailable_reason.is_(None)))
    # engagement jobs with work pending are loaded; metrics jobs (every post, every cycle) are only counted
    found = demands(session, session.execute(live.where(PollJob.kind != "metrics",
                                                        PollJob.next_run_at.is_not(None))).all())
    metrics_posts = session.execute(live.with_only_columns(PollJob.campaign_id, func.count())
                                    .where(PollJob.kind == "metrics").group_by(PollJob.campaign_id)).all()
    found += [Demand(0, campaign_id, "metrics", ENDPOINT_TWEETS, float(math.ceil(n / MAX_IDS)), (0, campaign_id))
              for campaign_id, n in metrics_posts]
    capacity = {e: w.limit * (cycle / WINDOW) for e, w in windows(session, now=now, limits=limits).items()}
    needed: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    given: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for demand in found:
        needed[demand.campaign_id][demand.endpoint] += demand.calls
    for demand, calls in allocate(sorted(found, key=lambda d: d.rank), capacity):
        given[demand.campaign_id][demand.endpoint] += calls
    plan: dict[int, dict] = {}
    active = session.scalars(select(Campaign.id).where(Campaign.status == "active")).all()
    for campaign_id in active:
        endpoints = {e: {"needed": _ceil(n), "budget": min(_ceil(given[campaign_id][e]), _ceil(n)),
                         "capacity": int(capacity.get(e, 0))}
                     for e, n in sorted(needed[campaign_id].items())}
        total_needed = sum(v["needed"] for v in endpoints.values())
        total_budget = sum(v["budget"] for v in endpoints.values())
        # cycles to clear the pending work at this share: the slowest endpoint decides
        cycles = max((math.ceil(v["needed"] / v["budget"]) if v["budget"] else None
                      for v in endpoints.values() if v["needed"]), default=0, key=lambda c: math.inf if c is None
                     else c)
        plan[campaign_id] = {"needed": total_needed, "budget": total_budget, "over_budget": total_needed > total_budget,
                             "cycles_to_clear": cycles, "cycle_minutes": cycle / timedelta(minutes=1),
                             "endpoints": endpoints}
    return plan


def windows_needed(calls: Mapping[str, int], *, limits: Mapping[str, int] | None = None) -> int:
    """The rate limits' lower bound on a piece of work: ceil(calls / limit per window), for the slowest
    endpoint (``calls``: endpoint → calls the work made or needs; ``limits``: endpoint → limit per window)."""
    table = {**DEFAULT_LIMITS, **(limits or {})}
    return max((math.ceil(n / table[e]) for e, n in calls.items() if n), default=0)
