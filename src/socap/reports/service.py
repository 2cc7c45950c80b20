"""Campaign statistics for the dashboard, the JSON API and the final report.

Every function takes a session and keyword-only arguments, reads, and returns one of the pydantic shapes
of :mod:`socap.reports.schemas`; none of them caches (``socap.web.cache`` wraps them) or writes.

What the filters mean, in one place:

- **categories** narrow the posts (campaign_tweet.category): the engagements, the accounts and X's counters
  all come from the selected posts only. ``post_detail`` ignores them (the post is the selection).
- **actions** and **min_importance** narrow the engagements (and through them the accounts, the timeline
  and the category pie). Importance is the account's current score in the campaign's workspace
  (``account_importance``; no row is 0); ``min_importance`` is inclusive.
- **range** (``Filters.resolve``) narrows engagements by ``engaged_at``, both ends inclusive.
- **X's counters** (likes, retweet_count, …) cannot be narrowed by action or importance: they take the post
  categories, and a range's ``until`` picks each post's latest snapshot at or before it (two index probes per
  post). A range's ``since`` does not subtract anything from them: they stay X's totals as of ``until``.
- **Coverage** compares what SOCAP captured with X's counters under the same restrictions as the counters —
  the post categories and ``until`` — not the action/importance filters or ``since``.

"Change since the previous run": engagements and accounts compare the whole set with the set minus what the
latest finished run (``run.finished_at`` set; a run's finished_at moves with its last task) and any later run
found — run ids grow with time, so that is ``run_id >= latest.id``. X's counters compare each post's latest
snapshot with the one before it (a post with one snapshot changes by 0). ``change`` is None when there is no
finished run, or no post with two snapshots.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

from pydantic import TypeAdapter
from sqlalchemy import and_, case, exists, func, literal, select
from sqlalchemy.orm import Session

from socap.campaigns.models import Campaign
from socap.clock import ensure_utc
from socap.importance import service as importance_service
from socap.importance.models import Account, AccountImportance, ImportantAccount
from socap.monitoring.models import Engagement, PollJob, Run
from socap.reports import queries
from socap.reports.queries import COUNTERS, AccountCounts, PostActionCount, Scope, Snapshot
from socap.reports.schemas import (
    ACTIONS,
    PAGE_SIZE,
    POST_CATEGORIES,
    AccountDetail,
    AccountEngagement,
    CategoryCard,
    CategoryComparison,
    Charts,
    CostSummary,
    Coverage,
    Delta,
    EngagementPage,
    EngagementRow,
    Filters,
    PostDetail,
    PostSummary,
    SeedRef,
    SeriesPoint,
    Summary,
    TimelineBucket,
    Totals,
)

T = TypeVar("T")
MAX_PER_PAGE = 500
MAX_PAGE = 1_000_000  # pages of up to MAX_PER_PAGE rows: offsets stay far inside a BIGINT
MAX_X_ID = 2**63 - 1
ACTION_FIELD = {"retweet": "retweets", "reply": "replies", "quote": "quotes"}
COUNTER_OF_ACTION = {"retweet": "retweet_count", "reply": "reply_count", "quote": "quote_count"}


def _analytic(function: Callable[..., T]) -> Callable[..., T]:
    """Run a report under :func:`queries.analytic_settings` (PostgreSQL planner settings for analytics)."""
    @functools.wraps(function)
    def wrapper(session: Session, **kwargs):
        with queries.analytic_settings(session):
            return function(session, **kwargs)
    return wrapper


def post_labels(session: Session, *, campaign_id: int) -> dict[int, str]:
    """campaign_tweet id → "main" (the only main post) or "main1", "main2"…, "influencer1", "investor1"…"""
    return {p.id: p.label for p in queries.load_posts(session, campaign_id=campaign_id)}


def _scope(session: Session, campaign: Campaign, filters: Filters, now: datetime, *,
           post_id: int | None = None, account_id: int | None = None) -> Scope:
    now = ensure_utc(now)
    return Scope(campaign=campaign, filters=filters.resolve(now), now=now,
                 posts=queries.load_posts(session, campaign_id=campaign.id),
                 dialect=session.get_bind().dialect.name, post_id=post_id, account_id=account_id)


# ---------------------------------------------------------------- summary

@_analytic
def summary(session: Session, *, campaign: Campaign, filters: Filters, now: datetime,
            concurrent: bool = False) -> Summary:
    """Totals (with change since the previous run), per-category cards, every selected post with its
    latest metrics, coverage, blocked/unavailable state, and the API calls and cost so far.

    ``concurrent`` (the web views, whose sessions only read): on PostgreSQL the account counts run on a
    second connection meanwhile (see :func:`queries.accounts_and_high_later`)."""
    scope = _scope(session, campaign, filters, now)
    run = queries.latest_finished_run(session, campaign_id=campaign.id)
    run_id = run.id if run is not None else None
    accounts_and_high = queries.accounts_and_high_later(session, scope, threshold=campaign.alert_threshold,
                                                        run_id=run_id, concurrent=concurrent)
    counts = queries.per_post_action(session, scope, run_id=run_id)
    snapshots = queries.latest_snapshots(session, post_ids=[p.id for p in scope.selected],
                                         until=scope.filters.until)
    captured = _captured(session, scope, counts)
    posts = _post_summaries(session, scope, counts, captured, snapshots)
    cost = _cost(session, campaign, scope.now)
    accounts, high = accounts_and_high()
    totals = _totals(counts, accounts, high, snapshots, has_run=run is not None)
    return Summary(
        campaign_id=campaign.id, data_version=campaign.data_version or 0, filters=scope.filters,
        generated_at=scope.now, totals=totals, categories=_cards(scope, counts, accounts, snapshots),
        posts=posts, cost=cost, coverage=_coverage(captured, snapshots, [p.id for p in scope.selected]))


def _captured(session: Session, scope: Scope, counts: list[PostActionCount]) -> dict[int, dict[str, int]]:
    """Captured engagements per post and action as coverage counts them (post categories and ``until``)."""
    f = scope.filters
    if f.actions or f.min_importance or f.since is not None:
        # a preset range ends now: nothing captured is later, so only a custom ``until`` is a condition
        counts = queries.per_post_action(session, scope, run_id=None, actions=False, since=False,
                                         until=f.range == "custom", importance=False)
    out: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(ACTIONS, 0))
    for c in counts:
        out[c.post_id][c.action] += c.count
    return out


def _coverage(captured: dict[int, dict[str, int]], snapshots: dict[int, tuple[Snapshot, Snapshot | None]],
              post_ids: Iterable[int]) -> Coverage:
    got = dict.fromkeys(ACTIONS, 0)
    counted = dict.fromkeys(COUNTER_OF_ACTION.values(), 0)
    for post_id in post_ids:
        mine = captured.get(post_id)
        snapshot = snapshots.get(post_id)
        for action, counter in COUNTER_OF_ACTION.items():
            if mine is not None:
                got[action] += mine[action]
            if snapshot is not None:
                counted[counter] += snapshot[0].values[counter]
    return Coverage(**_coverage_fields(got, counted))


def _coverage_fields(got: dict[str, int] | None, counters: dict[str, int] | None) -> dict:
    """Coverage's fields: captured engagements per action (``got``) against X's counters (``counters``, by
    counter name), one post's (each PostSummary) or summed over the selected posts (:func:`_coverage`)."""
    got = got or _NOTHING_CAPTURED
    retweets, replies, quotes = got["retweet"], got["reply"], got["quote"]
    if counters is None:
        retweet_count = reply_count = quote_count = 0
    else:
        retweet_count, reply_count = counters["retweet_count"], counters["reply_count"]
        quote_count = counters["quote_count"]
    total = retweet_count + reply_count + quote_count
    return {"retweets_captured": retweets, "retweet_count": retweet_count, "replies_captured": replies,
            "reply_count": reply_count, "quotes_captured": quotes, "quote_count": quote_count,
            "ratio": round((retweets + replies + quotes) / total, 4) if total else None}


_NOTHING_CAPTURED = dict.fromkeys(ACTIONS, 0)


def _totals(counts: list[PostActionCount], accounts: AccountCounts, high: tuple[int, int] | None,
            snapshots: dict[int, tuple[Snapshot, Snapshot | None]], *, has_run: bool) -> Totals:
    def delta(value: int, before: int) -> Delta:
        return Delta(value=value, change=value - before if has_run else None)

    value = dict.fromkeys(ACTIONS, 0)
    new = dict.fromkeys(ACTIONS, 0)
    for c in counts:
        value[c.action] += c.count
        new[c.action] += c.new
    hi_value, hi_before = high if high is not None else (accounts.accounts, accounts.before_latest_run)
    latest = dict.fromkeys(COUNTERS, 0)
    change = dict.fromkeys(COUNTERS, 0)
    compared = False
    for snap, prev in snapshots.values():
        for c in COUNTERS:
            latest[c] += snap.values[c]
            if prev is not None:
                change[c] += snap.values[c] - prev.values[c]
        compared = compared or prev is not None

    def counter(name: str) -> Delta:
        return Delta(value=latest[name], change=change[name] if compared else None)

    return Totals(
        engagements=delta(sum(value.values()), sum(value.values()) - sum(new.values())),
        unique_accounts=delta(accounts.accounts, accounts.before_latest_run),
        high_importance_accounts=delta(hi_value, hi_before),
        retweets=delta(value["retweet"], value["retweet"] - new["retweet"]),
        replies=delta(value["reply"], value["reply"] - new["reply"]),
        quotes=delta(value["quote"], value["quote"] - new["quote"]),
        likes=counter("like_count"), retweet_count=counter("retweet_count"), reply_count=counter("reply_count"),
        quote_count=counter("quote_count"), impressions=counter("impression_count"))


def _cards(scope: Scope, counts: list[PostActionCount], accounts: AccountCounts,
           snapshots: dict[int, tuple[Snapshot, Snapshot | None]]) -> list[CategoryCard]:
    """One card per post category the selection has posts in (main, influencer, investor order)."""
    category_of = {p.id: p.category for p in scope.selected}
    per: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(ACTIONS, 0))
    for c in counts:
        per[category_of[c.post_id]][c.action] += c.count
    total = sum(c.count for c in counts)
    cards = []
    for category in POST_CATEGORIES:
        ids = [p.id for p in scope.selected if p.category == category]
        if not ids:
            continue
        n = sum(per[category].values())
        cards.append(CategoryCard(
            category=category, posts=len(ids), engagements=n, unique_accounts=accounts.by_category.get(category, 0),
            retweets=per[category]["retweet"], replies=per[category]["reply"], quotes=per[category]["quote"],
            likes=sum(snapshots[i][0].values["like_count"] for i in ids if i in snapshots),
            share_of_engagements=round(n / total, 4) if total else 0.0))
    return cards


def _job_state(session: Session, campaign_id: int, now: datetime,
               post_ids: list[int] | None = None) -> tuple[dict[int, datetime], dict[int, str]]:
    """Per post: the latest blocked_until still in the future, and its jobs' last errors ("kind: error")."""
    query = (select(PollJob.campaign_tweet_id, PollJob.kind, PollJob.blocked_until, PollJob.last_error)
             .where(PollJob.campaign_id == campaign_id,
                    (PollJob.blocked_until > now) | PollJob.last_error.is_not(None))
             .order_by(PollJob.campaign_tweet_id, PollJob.id))
    if post_ids is not None:
        query = query.where(PollJob.campaign_tweet_id.in_(post_ids))
    blocked: dict[int, datetime] = {}
    errors: dict[int, list[str]] = defaultdict(list)
    for post_id, kind, until, error in session.execute(query):
        if until is not None and until > now:
            blocked[post_id] = max(until, blocked.get(post_id, until))
        if error:
            errors[post_id].append(f"{kind}: {error}")
    return blocked, {k: "; ".join(v) for k, v in errors.items()}


def _post_summaries(session: Session, scope: Scope, counts: list[PostActionCount],
                    captured: dict[int, dict[str, int]],
                    snapshots: dict[int, tuple[Snapshot, Snapshot | None]]) -> list[PostSummary]:
    engaged: dict[int, int] = defaultdict(int)
    for c in counts:
        engaged[c.post_id] += c.count
    blocked, errors = _job_state(session, scope.campaign.id, scope.now,
                                 [scope.post_id] if scope.post_id is not None else None)
    out = []
    for post in scope.selected:
        snap = snapshots.get(post.id)
        values = snap[0].values if snap else _NO_COUNTERS
        out.append({
            "id": post.id, "tweet_id": str(post.tweet_id), "url": post.url, "category": post.category,
            "label": post.label, "author_username": post.author_username, "text": post.text,
            "likes": values["like_count"], "retweet_count": values["retweet_count"],
            "reply_count": values["reply_count"], "quote_count": values["quote_count"],
            "impressions": values["impression_count"], "metrics_at": snap[0].taken_at if snap else None,
            "engagements": engaged.get(post.id, 0),
            "coverage": _coverage_fields(captured.get(post.id), values if snap else None),
            "unavailable_reason": post.unavailable_reason, "blocked_until": blocked.get(post.id),
            "last_error": errors.get(post.id)})
    return _POST_SUMMARIES.validate_python(out)  # one validation for the list: 500 models one by one cost more


_NO_COUNTERS = dict.fromkeys(COUNTERS, 0)
_POST_SUMMARIES = TypeAdapter(list[PostSummary])


def _cost(session: Session, campaign: Campaign, now: datetime) -> CostSummary:
    row = session.execute(select(func.count(Run.id), func.coalesce(func.sum(Run.calls), 0),
                                 func.coalesce(func.sum(Run.billable_posts), 0),
                                 func.coalesce(func.sum(Run.billable_users), 0),
                                 func.coalesce(func.sum(Run.cost_usd), 0), func.max(Run.started_at))
                          .where(Run.campaign_id == campaign.id)).one()
    by_endpoint: dict[str, int] = defaultdict(int)
    for (calls,) in session.execute(select(Run.calls_by_endpoint).where(Run.campaign_id == campaign.id)):
        for endpoint, n in (calls or {}).items():
            by_endpoint[endpoint] += int(n)
    return CostSummary(runs=int(row[0]), calls=int(row[1]), calls_by_endpoint=dict(sorted(by_endpoint.items())),
                       billable_posts=int(row[2]), billable_users=int(row[3]),
                       cost_usd=float(round(Decimal(row[4]), 4)), last_run_at=row[5],
                       next_run_at=_next_run(session, campaign, now))


def _next_run(session: Session, campaign: Campaign, now: datetime) -> datetime | None:
    """When polling next happens: the start of a scheduled campaign; for an active one the earliest due
    job (a blocked job counts from its blocked_until); None for paused and completed campaigns."""
    if campaign.status == "scheduled":
        return campaign.starts_at
    if campaign.status != "active":
        return None
    due = case((PollJob.blocked_until > PollJob.next_run_at, PollJob.blocked_until), else_=PollJob.next_run_at)
    return session.scalar(select(func.min(due)).where(PollJob.campaign_id == campaign.id,
                                                      PollJob.enabled.is_(True), PollJob.next_run_at.is_not(None)))


# ---------------------------------------------------------------- charts

@_analytic
def charts(session: Session, *, campaign: Campaign, filters: Filters, now: datetime) -> Charts:
    """Cumulative X counters per metrics poll over the selected posts (each post's last value carried
    forward; points inside the range), captured engagements per UTC hour by action (filtered, non-empty
    hours only), and the filtered engagers by bio category (a seed's own category wins; "vc" is its own
    category, as in the category rules)."""
    scope = _scope(session, campaign, filters, now)
    return Charts(metrics=_series(session, scope), timeline=_buckets(queries.hourly(session, scope)),
                  account_categories=_account_categories(session, scope))


def _series(session: Session, scope: Scope) -> list[SeriesPoint]:
    return [SeriesPoint(at=at, likes=v["like_count"], retweets=v["retweet_count"], replies=v["reply_count"],
                        quotes=v["quote_count"], impressions=v["impression_count"])
            for at, v in queries.counter_series(session, scope)]


def _buckets(rows: Iterable[tuple[str | None, datetime, str, int]]) -> list[TimelineBucket]:
    hours: dict[datetime, dict[str, int]] = defaultdict(lambda: dict.fromkeys(ACTIONS, 0))
    for _, hour, action, n in rows:
        hours[hour][action] += n
    return [TimelineBucket(hour=h, retweets=v["retweet"], replies=v["reply"], quotes=v["quote"])
            for h, v in sorted(hours.items())]


def _effective_category(scope: Scope):
    """A seed's own category (per workspace) wins over the account's bio category."""
    seeds = (select(ImportantAccount.x_user_id.label("x_user_id"),
                    func.max(ImportantAccount.category).label("category"))
             .where(ImportantAccount.workspace_id == scope.workspace_id, ImportantAccount.x_user_id.is_not(None))
             .group_by(ImportantAccount.x_user_id).subquery())
    return seeds, func.coalesce(seeds.c.category, Account.category)


def _account_categories(session: Session, scope: Scope) -> dict[str, int]:
    engaged = queries.engaged_accounts(scope).subquery()
    seeds, category = _effective_category(scope)
    rows = session.execute(select(category, func.count()).select_from(engaged)
                           .join(Account, Account.id == engaged.c.account_id)
                           .outerjoin(seeds, seeds.c.x_user_id == engaged.c.account_id)
                           .group_by(category)).all()
    return {c or "other": int(n) for c, n in sorted(rows, key=lambda r: (-r[1], r[0] or ""))}


# ---------------------------------------------------------------- engagement list

@_analytic
def engagements(session: Session, *, campaign: Campaign, filters: Filters, now: datetime, page: int = 1,
                per_page: int = PAGE_SIZE, post_id: int | None = None,
                account_id: int | None = None) -> EngagementPage:
    """The filtered engagements, most important account first, then newest (engaged_at desc, id desc).

    ``post_id`` / ``account_id`` narrow to one post or one account (on top of the filters). Each row carries
    the seeds behind its importance, its post's label and every engagement of that account in the campaign
    (unfiltered; see :class:`EngagementRow`). ``per_page`` is capped at 500.
    """
    scope = _scope(session, campaign, filters, now, post_id=post_id, account_id=account_id)
    return _engagement_page(session, scope, page=page, per_page=per_page)


def _engagement_page(session: Session, scope: Scope, *, page: int, per_page: int) -> EngagementPage:
    page = min(max(1, int(page)), MAX_PAGE)  # far past the end is empty; beyond MAX_PAGE the OFFSET overflows
    per_page = min(max(1, int(per_page)), MAX_PER_PAGE)
    total = _count(session, scope)
    rows = _page_rows(session, scope, offset=(page - 1) * per_page, limit=per_page) if total else []
    return EngagementPage(page=page, per_page=per_page, total=total, pages=max(1, math.ceil(total / per_page)),
                          rows=_engagement_rows(session, scope, rows))


def _count(session: Session, scope: Scope) -> int:
    if scope.tallied():  # whole posts, no action/time/importance filter: post_tally's sum, not a count of rows
        return queries.tallied_engagements(session, scope)
    query = queries.with_importance(select(func.count()).select_from(Engagement)
                                    .where(*queries.engagement_conditions(scope)), scope)
    return int(session.scalar(query) or 0)


PAGE_COLUMNS = (Engagement.id, Engagement.account_id, Engagement.campaign_tweet_id, Engagement.action,
                Engagement.text, Engagement.engaged_at, Engagement.source_tweet_id)


def _page_rows(session: Session, scope: Scope, *, offset: int, limit: int) -> list:
    """One page in importance order without sorting the whole set.

    Engagements of accounts scoring above 0 come first: walked from the (workspace_id, score) index down,
    each account's engagements by the (campaign_id, account_id, …) index, sorted within equal scores — a
    page costs about its own size. The rest (score 0 or no row) follow newest first along the
    (campaign_id, engaged_at) index. Where the page straddles the two parts, the number of important
    engagements is either implied by a short first part or counted.
    """
    conds = queries.engagement_conditions(scope)
    ai = AccountImportance
    important = (select(*PAGE_COLUMNS, ai.score.label("importance"))
                 .join(ai, and_(ai.workspace_id == scope.workspace_id, ai.account_id == Engagement.account_id,
                                ai.score >= max(1, scope.min_importance)))
                 .where(*conds))
    rows = list(session.execute(important.order_by(ai.score.desc(), Engagement.engaged_at.desc(),
                                                   Engagement.id.desc()).limit(limit).offset(offset)))
    if len(rows) == limit or scope.min_importance > 0:
        return rows
    if rows or offset == 0:
        n_important = offset + len(rows)
    else:
        n_important = int(session.scalar(select(func.count()).select_from(important.subquery())) or 0)
    scored = exists().where(ai.workspace_id == scope.workspace_id, ai.account_id == Engagement.account_id,
                            ai.score > 0)
    rest = (select(*PAGE_COLUMNS, literal(0).label("importance")).where(*conds, ~scored)
            .order_by(Engagement.engaged_at.desc(), Engagement.id.desc())
            .limit(limit - len(rows)).offset(max(0, offset - n_important)))
    return rows + list(session.execute(rest))


def _engagement_rows(session: Session, scope: Scope, rows: list) -> list[EngagementRow]:
    if not rows:
        return []
    account_ids = sorted({r.account_id for r in rows})
    profiles = {a.id: a for a in session.execute(select(Account.id, Account.username, Account.name, Account.category)
                                                 .where(Account.id.in_(account_ids)))}
    seed_category = importance_service.seed_categories(session, workspace_id=scope.workspace_id,
                                                       account_ids=account_ids)
    evidence = importance_service.evidence(session, workspace_id=scope.workspace_id, account_ids=account_ids)
    posts = {p.id: p for p in scope.posts}
    engaged: dict[int, list[tuple[str, str]]] = defaultdict(list)
    engaged_posts: dict[int, set[int]] = defaultdict(set)
    for account_id, post_id, action in session.execute(
            select(Engagement.account_id, Engagement.campaign_tweet_id, Engagement.action)
            .where(Engagement.campaign_id == scope.campaign.id, Engagement.account_id.in_(account_ids))
            .order_by(Engagement.engaged_at, Engagement.id)):
        pair = (posts[post_id].label, action)
        if pair not in engaged[account_id]:
            engaged[account_id].append(pair)
        engaged_posts[account_id].add(post_id)
    out = []
    for r in rows:
        profile = profiles.get(r.account_id)
        post = posts[r.campaign_tweet_id]
        out.append(EngagementRow(
            engagement_id=r.id, account_id=str(r.account_id), username=profile.username if profile else "",
            name=profile.name if profile else "",
            account_category=seed_category.get(r.account_id) or (profile.category if profile else "other"),
            importance=int(r.importance or 0),
            seeds=[SeedRef(username=e.username, category=e.category, weight=e.weight)
                   for e in evidence.get(r.account_id, [])],
            action=r.action, post_id=post.id, post_category=post.category, post_label=post.label,
            text=r.text or "", engaged_at=r.engaged_at, source_tweet_id=str(r.source_tweet_id),
            other_posts=engaged[r.account_id], posts_engaged=len(engaged_posts[r.account_id])))
    return out


# ---------------------------------------------------------------- drill-downs

def account_detail(session: Session, *, campaign: Campaign, account_id: int) -> AccountDetail:
    """An engaging account: profile, importance with its seeds, category with its evidence, suspicion
    flags, and every engagement in this campaign (oldest first). LookupError if it never engaged here."""
    account_id = int(account_id)
    if not 0 < account_id <= MAX_X_ID:  # no X id is larger (the query itself would fail on it)
        raise LookupError(f"account {account_id} has not engaged in campaign {campaign.id}")
    rows = session.execute(select(Engagement.id, Engagement.action, Engagement.campaign_tweet_id, Engagement.text,
                                  Engagement.engaged_at)
                           .where(Engagement.campaign_id == campaign.id, Engagement.account_id == account_id)
                           .order_by(Engagement.engaged_at, Engagement.id)).all()
    account = session.get(Account, account_id) if rows else None
    if account is None:
        raise LookupError(f"account {account_id} has not engaged in campaign {campaign.id}")
    profile = importance_service.profiles(session, workspace_id=campaign.workspace_id,
                                          account_ids=[account_id])[account_id]
    posts = {p.id: p for p in queries.load_posts(session, campaign_id=campaign.id)}
    return AccountDetail(
        account_id=str(account.id), username=account.username, name=account.name or "", bio=account.bio or "",
        followers_count=account.followers_count or 0, following_count=account.following_count or 0,
        account_category=profile.category, category_evidence=profile.category_reason,
        suspicion=list(account.suspicion or []), importance=profile.score,
        seeds=[SeedRef(username=e.username, category=e.category, weight=e.weight) for e in profile.seeds],
        engagements=[AccountEngagement(engagement_id=r.id, action=r.action, post_id=r.campaign_tweet_id,
                                       post_label=posts[r.campaign_tweet_id].label,
                                       post_category=posts[r.campaign_tweet_id].category, text=r.text or "",
                                       engaged_at=r.engaged_at) for r in rows])


@_analytic
def post_detail(session: Session, *, campaign: Campaign, post_id: int, filters: Filters, now: datetime,
                page: int = 1) -> PostDetail:
    """One post: its summary, its snapshots over time, its hourly timeline and its engagers (filtered; the
    post-category filter does not apply). LookupError if the post is not in the campaign."""
    filters = filters.model_copy(update={"categories": ()})
    scope = _scope(session, campaign, filters, now, post_id=int(post_id))
    if not scope.selected:
        raise LookupError(f"post {post_id} is not in campaign {campaign.id}")
    counts = queries.per_post_action(session, scope, run_id=None)
    snapshots = queries.latest_snapshots(session, post_ids=[scope.post_id], until=scope.filters.until)
    post = _post_summaries(session, scope, counts, _captured(session, scope, counts), snapshots)[0]
    return PostDetail(post=post, metrics=_series(session, scope),
                      timeline=_buckets(queries.hourly(session, scope)),
                      engagers=_engagement_page(session, scope, page=page, per_page=PAGE_SIZE))


@_analytic
def category_comparison(session: Session, *, campaign: Campaign, filters: Filters,
                        now: datetime) -> CategoryComparison:
    """main vs influencer vs investor under the same filters: the summary's cards, and each category's
    hourly timeline."""
    scope = _scope(session, campaign, filters, now)
    counts = queries.per_post_action(session, scope, run_id=None)
    accounts = queries.per_account(session, scope, run_id=None)
    snapshots = queries.latest_snapshots(session, post_ids=[p.id for p in scope.selected],
                                         until=scope.filters.until)
    cards = _cards(scope, counts, accounts, snapshots)
    per: dict[str, list] = defaultdict(list)
    for row in queries.hourly(session, scope, by_category=True):
        per[row[0]].append(row)
    return CategoryComparison(cards=cards, timelines={card.category: _buckets(per.get(card.category, []))
                                                      for card in cards})
