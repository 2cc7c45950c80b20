"""The SQL behind the campaign statistics: the filtered engagement set and the aggregates over it.

Everything here is set-based: one GROUP BY per figure family, never a query per row, never the
engagements themselves in Python. Two passes over the filtered engagements carry the summary — one grouped
by (post, action), one grouped by account (which accounts engaged, in which post categories, and whether
before the latest run) — and both are index-only scans on PostgreSQL (see migration 0005).

Where a campaign's posts narrow or classify engagements, the post ids go into the SQL as constants — id
ranges when the posts form a few runs in id order (the usual case: posts are added category by category),
else literal ``IN`` lists that PostgreSQL hashes — rather than a join to campaign_tweet per row. The ids
come from the database, never from user input.

Measured on 1,000,000 engagements (bench/dashboard.py): the per-account pass is the floor of the unfiltered
summary — on a 2-vCPU machine PostgreSQL spends ~75 ms just grouping a million index tuples by account and
about as much again on the one aggregate per row and the counts over the 280,000 groups. Exact distinct
counts per post category cannot be had for much less without maintaining them at ingest.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import NamedTuple

from sqlalchemy import Integer, and_, any_, bindparam, case, false, func, literal, or_, select, text, true
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from socap.campaigns.models import Campaign, CampaignTweet
from socap.importance.models import AccountImportance
from socap.monitoring.models import Engagement, MetricSnapshot, Run
from socap.reports.models import AccountTally, CampaignAccount, PostTally, RunTally
from socap.reports.rollup import FIRST_COLUMN
from socap.reports.schemas import POST_CATEGORIES, Filters

CATEGORY_BIT = {"main": 1, "influencer": 2, "investor": 4}
# False: every view counts the engagement table, never the roll-ups (tests compare the two ways)
USE_ROLLUPS = True


class Post(NamedTuple):  # a NamedTuple: the summary makes one per post of the campaign on every load
    id: int
    tweet_id: int
    url: str
    category: str
    author_username: str | None
    text: str
    unavailable_reason: str | None
    label: str


@dataclass
class Scope:
    """One view's question: a campaign, resolved filters, and optionally one post or one account."""

    campaign: Campaign
    filters: Filters  # resolved
    now: datetime
    posts: list[Post]  # every post of the campaign, by id
    dialect: str
    post_id: int | None = None
    account_id: int | None = None
    rollups: bool = field(default_factory=lambda: USE_ROLLUPS)
    selected: list[Post] = field(init=False)

    def __post_init__(self) -> None:
        if self.post_id is not None:
            self.selected = [p for p in self.posts if p.id == self.post_id]
        elif self.filters.categories:
            self.selected = [p for p in self.posts if p.category in self.filters.categories]
        else:
            self.selected = list(self.posts)

    @property
    def pg(self) -> bool:
        return self.dialect == "postgresql"

    @property
    def workspace_id(self) -> int:
        return self.campaign.workspace_id

    @property
    def narrows_all_posts(self) -> bool:
        return len(self.selected) < len(self.posts)

    @property
    def min_importance(self) -> int:
        return self.filters.min_importance or 0

    def tallied(self, *, actions: bool = True, since: bool = True, until: bool = True,
                importance: bool = True) -> bool:
        """Whether the roll-ups answer this question: whole posts of the campaign (any post categories), with
        no action, time or importance filter among those that apply."""
        f = self.filters
        return (self.rollups and self.post_id is None and self.account_id is None
                and not (actions and f.actions and len(f.actions) < 3)
                and not (since and f.since is not None) and not (until and f.until is not None)
                and not (importance and self.min_importance > 0))


# ---------------------------------------------------------------- session settings

# PostgreSQL planner settings for the duration of one report (transaction-local, restored afterwards):
#
# - random_page_cost 1.0 (= seq_page_cost): the dashboard's tables and indexes are hot (or on SSD). With the
#   default 4.0 the planner reads a whole campaign's engagements from the heap (a 100+ MB sequential scan
#   through a small ring buffer, then hashing) rather than from the small covering index in order — measured
#   2x slower. At 1.1 it hashed the campaign's 282,720 accounts (a full scan, 55 ms) to count the 6,561
#   important ones among them, where probing them by key takes 31 ms; at 1.0 it probes when the important
#   accounts are few and still hashes when most are (threshold 0, 150,000: probing 214 ms, hashing 131).
# - jit off: once a big campaign's aggregates cross jit_above_cost, compiling them costs tens of milliseconds
#   more than it saves on these sub-second queries.
# - plan_cache_mode force_custom_plan: psycopg prepares a statement run five times; a generic plan knows
#   neither the campaign nor the time range, and a range's selectivity decides the plan.
#
# work_mem is deliberately left alone: with more of it the planner hashes 300,000 accounts instead of reading
# them in order from the (campaign_id, account_id, …) index, which measured 3x slower.
ANALYTIC_SETTINGS = {"random_page_cost": "1.0", "jit": "off", "plan_cache_mode": "force_custom_plan"}


@contextmanager
def analytic_settings(session: Session) -> Iterator[None]:
    """Apply ANALYTIC_SETTINGS on PostgreSQL for the block (nothing on SQLite)."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    names = list(ANALYTIC_SETTINGS)
    current = ", ".join(f"current_setting(:n{i})" for i in range(len(names)))
    params = {f"n{i}": name for i, name in enumerate(names)}
    previous = session.execute(text(f"SELECT {current}"), params).one()
    setter = "SELECT " + ", ".join(f"set_config(:n{i}, :v{i}, true)" for i in range(len(names)))
    session.execute(text(setter), {**params, **{f"v{i}": ANALYTIC_SETTINGS[n] for i, n in enumerate(names)}})
    yield  # on an error the caller rolls back, which undoes set_config(…, true) too
    session.execute(text(setter), {**params, **{f"v{i}": value for i, value in enumerate(previous)}})


# ---------------------------------------------------------------- posts

def _core(session: Session):
    """The session's connection, for column queries that need none of the ORM's result handling; pending ORM
    changes are flushed first, as the session's own execute would (autoflush)."""
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()
    return session.connection()


_POSTS = (select(CampaignTweet.id, CampaignTweet.tweet_id, CampaignTweet.url, CampaignTweet.category,
                 CampaignTweet.author_username, CampaignTweet.text, CampaignTweet.unavailable_reason)
          .where(CampaignTweet.campaign_id == bindparam("campaign_id")).order_by(CampaignTweet.id))


def load_posts(session: Session, *, campaign_id: int) -> list[Post]:
    # Core execution (column rows need none of the ORM's result handling), plain tuples
    rows = _core(session).execute(_POSTS, {"campaign_id": campaign_id}).all()
    labels = labels_for((r[0], r[3]) for r in rows)
    return [Post(i, tweet_id, url, category, author, text or "", unavailable, labels[i])
            for i, tweet_id, url, category, author, text, unavailable in rows]


def labels_for(posts: Iterable[tuple[int, str]]) -> dict[int, str]:
    """"main" for a campaign's only main post, else "main1", "main2"…; "influencer1", "investor1"… always
    numbered; the ordinal follows the campaign_tweet id within the category."""
    by_category: dict[str, list[int]] = {}
    for post_id, category in sorted(posts):
        by_category.setdefault(category, []).append(post_id)
    labels: dict[int, str] = {}
    for category, ids in by_category.items():
        for n, post_id in enumerate(ids, 1):
            labels[post_id] = category if category == "main" and len(ids) == 1 else f"{category}{n}"
    return labels


def literal_ids(column, ids: Sequence[int], *, tag: str = "") -> ColumnElement[bool]:
    """``column IN (ids…)`` with the ids written into the SQL. The parameter's name is the same on every call
    (the column's, plus ``tag`` where one statement holds several lists for one column), so SQLAlchemy's
    compiled-statement cache serves the statement instead of compiling it anew each time."""
    if not ids:
        return false()
    name = f"ids_{column.table.name}_{column.name}{'_' + tag if tag else ''}"
    return column.in_(bindparam(name, list(ids), expanding=True, literal_execute=True))


# ---------------------------------------------------------------- the filtered engagement set

MAX_RANGES = 16


def selected_posts(scope: Scope, column) -> ColumnElement[bool]:
    """``column`` (a campaign_tweet id of this campaign) is one of the selected posts.

    The selected posts usually form a few runs in the campaign's id order (posts are added category by
    category): ``BETWEEN`` the ends of each run is exact for ids of this campaign's posts and lets the
    index scan only those ranges (measured a third faster than a hashed IN list of 300 ids); with more
    than MAX_RANGES runs, an IN list.
    """
    chosen = {p.id for p in scope.selected}
    runs: list[list[int]] = []
    previous_chosen = False
    for post in sorted(scope.posts, key=lambda p: p.id):
        if post.id in chosen:
            if previous_chosen:
                runs[-1][1] = post.id
            else:
                runs.append([post.id, post.id])
        previous_chosen = post.id in chosen
    if not runs:
        return false()
    if len(runs) > MAX_RANGES:
        return literal_ids(column, sorted(chosen))
    parts = [column == first if first == last else column.between(first, last) for first, last in runs]
    return parts[0] if len(parts) == 1 else or_(*parts)


def engagement_conditions(scope: Scope, *, actions: bool = True, since: bool = True,
                          until: bool = True) -> list[ColumnElement[bool]]:
    """WHERE clauses of the filtered engagements (the importance filter is a join: :func:`with_importance`).

    ``actions=False`` / ``since=False`` / ``until=False`` leave those filters out (coverage compares with
    X's counters, which neither the action nor the start of the range can narrow).
    """
    f = scope.filters
    conds: list[ColumnElement[bool]] = [Engagement.campaign_id == scope.campaign.id]
    if scope.post_id is not None:
        conds.append(Engagement.campaign_tweet_id == scope.post_id)
    elif scope.narrows_all_posts:
        conds.append(selected_posts(scope, Engagement.campaign_tweet_id))
    if scope.account_id is not None:
        conds.append(Engagement.account_id == scope.account_id)
    if actions and f.actions and len(f.actions) < 3:
        conds.append(Engagement.action.in_(f.actions) if len(f.actions) > 1 else Engagement.action == f.actions[0])
    if since and f.since is not None:
        conds.append(Engagement.engaged_at >= f.since)
    if until and f.until is not None:
        conds.append(Engagement.engaged_at <= f.until)
    return conds


def with_importance(query: Select, scope: Scope, *, at_least: int | None = None) -> Select:
    """Keep the engagements whose account scores at least ``at_least`` (default: the filter's minimum).

    A minimum of 0 keeps everything (no row means 0), so no join; above 0 an inner join on the primary key
    (workspace_id, account_id) — an account without a row scores 0 and drops out.
    """
    minimum = scope.min_importance if at_least is None else max(at_least, scope.min_importance)
    if minimum <= 0:
        return query
    return query.join(AccountImportance, and_(AccountImportance.workspace_id == scope.workspace_id,
                                              AccountImportance.account_id == Engagement.account_id,
                                              AccountImportance.score >= minimum))


def latest_finished_run(session: Session, *, campaign_id: int) -> Run | None:
    return session.scalar(select(Run).where(Run.campaign_id == campaign_id, Run.finished_at.is_not(None))
                          .order_by(Run.started_at.desc(), Run.id.desc()).limit(1))


def is_new(run_id: int | None) -> ColumnElement[int]:
    """1 for an engagement found by the latest finished run or later (run ids grow with time), else 0."""
    if run_id is None:
        return literal(0, Integer)
    return case((Engagement.run_id >= run_id, 1), else_=0)


class PostActionCount(NamedTuple):
    post_id: int
    action: str
    count: int
    new: int


def per_post_action(session: Session, scope: Scope, *, run_id: int | None, actions: bool = True,
                    since: bool = True, until: bool = True, importance: bool = True) -> list[PostActionCount]:
    """Pass 1: filtered engagements per (post, action), and how many of them the latest run found."""
    if scope.tallied(actions=actions, since=since, until=until, importance=importance):
        return _tallied_per_post_action(session, scope, run_id=run_id)
    new = func.sum(is_new(run_id)) if run_id is not None else literal(0, Integer)
    query = (select(Engagement.campaign_tweet_id, Engagement.action, func.count(), new)
             .where(*engagement_conditions(scope, actions=actions, since=since, until=until))
             .group_by(Engagement.campaign_tweet_id, Engagement.action))
    if importance:
        query = with_importance(query, scope)
    return [PostActionCount(p, a, int(n), int(new or 0)) for p, a, n, new in session.execute(query)]


def _tallied_per_post_action(session: Session, scope: Scope, *, run_id: int | None) -> list[PostActionCount]:
    """:func:`per_post_action` from the roll-ups: post_tally's totals joined to the sums of the latest runs'
    run_tally rows (what is new), one row per post and action."""
    if not scope.selected:
        return []
    narrow = scope.narrows_all_posts
    if run_id is None:
        new = literal(0, Integer)
    else:
        recent = (select(RunTally.campaign_tweet_id, RunTally.action, func.sum(RunTally.n).label("n"))
                  .where(RunTally.campaign_id == scope.campaign.id, RunTally.run_id >= run_id,
                         *([selected_posts(scope, RunTally.campaign_tweet_id)] if narrow else []))
                  .group_by(RunTally.campaign_tweet_id, RunTally.action).subquery("recent"))
        new = func.coalesce(recent.c.n, 0)
    query = (select(PostTally.campaign_tweet_id, PostTally.action, PostTally.n, new)
             .where(PostTally.campaign_id == scope.campaign.id, PostTally.n != 0,
                    *([selected_posts(scope, PostTally.campaign_tweet_id)] if narrow else [])))
    if run_id is not None:
        query = query.outerjoin(recent, and_(recent.c.campaign_tweet_id == PostTally.campaign_tweet_id,
                                             recent.c.action == PostTally.action))
    return [PostActionCount(*row) for row in _core(session).execute(query).all()]


def tallied_engagements(session: Session, scope: Scope) -> int:
    """The selected posts' engagements from post_tally, for a scope the roll-ups answer (:meth:`Scope.tallied`):
    the engagement list's total without counting a million index entries."""
    if not scope.selected:
        return 0
    where = [PostTally.campaign_id == scope.campaign.id]
    if scope.narrows_all_posts:
        where.append(selected_posts(scope, PostTally.campaign_tweet_id))
    return int(session.scalar(select(func.coalesce(func.sum(PostTally.n), 0)).where(*where)) or 0)


OLD_BIT = 8  # in the account mask: had an engagement the latest finished run did not find


def category_of_post(scope: Scope, values: dict[str, int | str]) -> ColumnElement:
    """An expression mapping an engagement's post to ``values[its category]``, exact for the selected posts
    (the only ones the WHERE clause lets through).

    A campaign's posts are usually added category by category, so their ids form a few runs of one
    category: then a chain of ``campaign_tweet_id <= last id of the run`` comparisons does it (measured
    ~30 ms cheaper per million rows than hashed IN lists); otherwise an IN list per category, the biggest as
    ELSE.
    """
    posts = sorted(scope.selected, key=lambda p: p.id)
    if not posts:
        return literal(next(iter(values.values())))
    runs: list[tuple[str, int]] = []  # (category, last id of the run)
    for post in posts:
        if runs and runs[-1][0] == post.category:
            runs[-1] = (post.category, post.id)
        else:
            runs.append((post.category, post.id))
    if len(runs) == 1:
        return literal(values[runs[0][0]])
    if len(runs) <= MAX_RANGES:
        return case(*[(Engagement.campaign_tweet_id <= last, values[c]) for c, last in runs[:-1]],
                    else_=values[runs[-1][0]])
    ids: dict[str, list[int]] = {}
    for post in posts:
        ids.setdefault(post.category, []).append(post.id)
    largest = max(ids, key=lambda c: len(ids[c]))
    return case(*[(literal_ids(Engagement.campaign_tweet_id, ids[c], tag=c), values[c]) for c in ids if c != largest],
                else_=values[largest])


def _account_mask(scope: Scope, run_id: int | None) -> ColumnElement[int]:
    """Per account, as few aggregates as possible: a bit per post category it engaged in (main 1, influencer
    2, investor 4) and OLD_BIT when one of its engagements predates the latest finished run (or has none)."""
    category = category_of_post(scope, CATEGORY_BIT)
    old = case((Engagement.run_id >= run_id, 0), else_=OLD_BIT) if run_id is not None else literal(OLD_BIT)
    if scope.pg:
        return func.bit_or(category.op("|")(old))
    # SQLite has no bit_or; the category bits are distinct powers of two, so a sum of the distinct ones is
    # their OR
    return func.sum(category.distinct()) + func.max(old)


@dataclass
class AccountCounts:
    accounts: int = 0
    before_latest_run: int = 0  # accounts that had engaged before the latest finished run
    by_category: dict[str, int] = field(default_factory=dict)


def per_account(session: Session, scope: Scope, *, run_id: int | None) -> AccountCounts:
    """Pass 2: distinct engaging accounts — overall, per post category, and as of the previous run.

    Grouped in account order straight from the (campaign_id, account_id, …) index, with one aggregate per row
    (a bit mask): PostgreSQL's per-row aggregate cost is what this pass spends its time on. Without action,
    time or importance filters, one row per account of the roll-up answers instead.
    """
    if scope.tallied():
        return _tallied_per_account(session, scope, run_id=run_id)
    # select_from: with one post category and no run the mask names no column, and the importance join
    # needs its left side
    inner = (select(_account_mask(scope, run_id).label("mask")).select_from(Engagement)
             .where(*engagement_conditions(scope)).group_by(Engagement.account_id))
    inner = with_importance(inner, scope).subquery()

    def accounts_with(bit: int):
        return func.sum(case((inner.c.mask.op("&")(bit) != 0, 1), else_=0))

    row = session.execute(select(func.count(), accounts_with(OLD_BIT),
                                 *[accounts_with(CATEGORY_BIT[c]) for c in POST_CATEGORIES]).select_from(inner)).one()
    return AccountCounts(int(row[0] or 0), int(row[1] or 0),
                         {c: int(row[2 + i] or 0) for i, c in enumerate(POST_CATEGORIES)})


def _first_runs(scope: Scope) -> dict[str, ColumnElement]:
    """The roll-up's first-run column of each selected post category."""
    categories = {p.category for p in scope.selected}
    return {c: getattr(CampaignAccount, FIRST_COLUMN[c]) for c in POST_CATEGORIES if c in categories}


def _tallied_accounts(scope: Scope, run_id: int | None) -> tuple[list[ColumnElement[bool]], ColumnElement[bool]]:
    """(WHERE clauses: the campaign's accounts with an engagement in a selected category, and "it had one
    before the latest finished run")."""
    firsts = _first_runs(scope)
    where = [CampaignAccount.campaign_id == scope.campaign.id, or_(*[c.is_not(None) for c in firsts.values()])]
    old = or_(*[c < run_id for c in firsts.values()]) if run_id is not None else literal(True)
    return where, old


def engaged_accounts(scope: Scope) -> Select:
    """The ids of the accounts with a filtered engagement, one row each: from campaign_account where the
    roll-ups answer (282,720 rows on the bench campaign instead of grouping 1,000,000 engagements)."""
    if scope.tallied():
        if not _first_runs(scope):
            return select(CampaignAccount.account_id).where(false())
        where, _ = _tallied_accounts(scope, None)
        return select(CampaignAccount.account_id).where(*where)
    return with_importance(select(Engagement.account_id).where(*engagement_conditions(scope))
                           .group_by(Engagement.account_id), scope)


def _every_category(scope: Scope) -> bool:
    """The selected posts cover every post category the campaign has: an account engaged with the selection
    iff it engaged with the campaign, so account_tally's "any" rows count the selection's accounts."""
    return {p.category for p in scope.selected} == {p.category for p in scope.posts}


def _counted_accounts(session: Session, scope: Scope, *, run_id: int | None) -> AccountCounts:
    """:func:`_tallied_per_account` from account_tally's few rows, for a selection of every post category."""
    firsts = _first_runs(scope)
    before = func.sum(case((AccountTally.run_id < run_id, AccountTally.n), else_=0)) if run_id is not None \
        else func.sum(AccountTally.n)
    totals = {tally_scope: (int(n or 0), int(old or 0)) for tally_scope, n, old in session.execute(
        select(AccountTally.scope, func.sum(AccountTally.n), before)
        .where(AccountTally.campaign_id == scope.campaign.id).group_by(AccountTally.scope))}
    accounts, old = totals.get("any", (0, 0))
    by_category = dict.fromkeys(POST_CATEGORIES, 0)
    by_category.update({c: totals.get(c, (0, 0))[0] for c in firsts})
    return AccountCounts(accounts, old, by_category)


def _tallied_per_account(session: Session, scope: Scope, *, run_id: int | None) -> AccountCounts:
    firsts = _first_runs(scope)
    if not firsts:
        return AccountCounts(0, 0, dict.fromkeys(POST_CATEGORIES, 0))
    if _every_category(scope):
        return _counted_accounts(session, scope, run_id=run_id)
    where, old = _tallied_accounts(scope, run_id)
    row = session.execute(select(func.count(), func.sum(case((old, 1), else_=0)),
                                 *[func.count(c) for c in firsts.values()]).where(*where)).one()
    by_category = dict.fromkeys(POST_CATEGORIES, 0)
    by_category.update({c: int(row[2 + i] or 0) for i, c in enumerate(firsts)})
    return AccountCounts(int(row[0] or 0), int(row[1] or 0), by_category)


def high_importance_accounts(session: Session, scope: Scope, *, threshold: int,
                             run_id: int | None) -> tuple[int, int] | None:
    """Distinct filtered engagers scoring ≥ threshold, and how many of them had engaged before the latest
    run; None when every filtered engager qualifies (a threshold of 0, or an importance filter at least as
    high): the caller uses the unique-account figures.

    Driven from the importance side (the (workspace_id, score) index, then each account's engagements by
    the (campaign_id, account_id, …) index): few accounts are important.
    """
    if threshold <= scope.min_importance:
        return None
    if scope.tallied():
        if not _first_runs(scope):
            return 0, 0
        where, old = _tallied_accounts(scope, run_id)
        row = session.execute(
            select(func.count(), func.sum(case((old, 1), else_=0))).select_from(CampaignAccount)
            .join(AccountImportance, and_(AccountImportance.workspace_id == scope.workspace_id,
                                          AccountImportance.account_id == CampaignAccount.account_id,
                                          AccountImportance.score >= threshold)).where(*where)).one()
        return int(row[0] or 0), int(row[1] or 0)
    first_run = func.min(func.coalesce(Engagement.run_id, 0))
    inner = with_importance(select(Engagement.account_id, first_run.label("first_run"))
                            .where(*engagement_conditions(scope)).group_by(Engagement.account_id),
                            scope, at_least=threshold).subquery()
    old = (inner.c.first_run < run_id) if run_id is not None else literal(True)
    row = session.execute(select(func.count(), func.sum(case((old, 1), else_=0))).select_from(inner)).one()
    return int(row[0] or 0), int(row[1] or 0)


# made once (see _SNAPSHOT_ALIAS): the important accounts joined to a subquery that may join importance itself
_IMPORTANT_ALIAS = AccountImportance.__table__.alias("important")


def accounts_and_high(session: Session, scope: Scope, *, threshold: int,
                      run_id: int | None) -> tuple[AccountCounts, tuple[int, int] | None]:
    """:func:`per_account` and :func:`high_importance_accounts` together, in one pass over the accounts.

    A LEFT JOIN to the accounts scoring at least ``threshold`` (a hash of the few important ones) adds their
    two counts to the unique accounts' — from the roll-up's rows, or from the per-account groups of the
    filtered engagements (an account's OLD_BIT is what "engaged before the latest run" means for both).
    Measured on bench/dashboard.py's 1,000,000 engagements (a loaded machine, medians): no filter 61 -> 47 ms;
    min_importance 1: 101 -> 61 ms; today: 154 -> 128 ms; a 24-hour range 249 -> 237 ms (EXPLAIN ANALYZE).
    """
    if threshold <= scope.min_importance:
        return per_account(session, scope, run_id=run_id), None
    ai = _IMPORTANT_ALIAS
    if scope.tallied():
        firsts = _first_runs(scope)
        if not firsts:
            return AccountCounts(0, 0, dict.fromkeys(POST_CATEGORIES, 0)), (0, 0)
        if _every_category(scope):  # account_tally's rows, and the few important accounts' rows
            return (_counted_accounts(session, scope, run_id=run_id),
                    high_importance_accounts(session, scope, threshold=threshold, run_id=run_id))
        where, old = _tallied_accounts(scope, run_id)
        important = ai.c.account_id.is_not(None)
        row = session.execute(
            select(func.count(), func.sum(case((old, 1), else_=0)), func.count(ai.c.account_id),
                   func.sum(case((and_(important, old), 1), else_=0)), *[func.count(c) for c in firsts.values()])
            .select_from(CampaignAccount)
            .outerjoin(ai, and_(ai.c.workspace_id == scope.workspace_id,
                                ai.c.account_id == CampaignAccount.account_id, ai.c.score >= threshold))
            .where(*where)).one()
        by_category = dict.fromkeys(POST_CATEGORIES, 0)
        by_category.update({c: int(row[4 + i] or 0) for i, c in enumerate(firsts)})
        return AccountCounts(int(row[0] or 0), int(row[1] or 0), by_category), (int(row[2] or 0), int(row[3] or 0))
    inner = (select(Engagement.account_id.label("account_id"), _account_mask(scope, run_id).label("mask"))
             .select_from(Engagement).where(*engagement_conditions(scope)).group_by(Engagement.account_id))
    inner = with_importance(inner, scope).subquery()

    def has(bit: int):
        return inner.c.mask.op("&")(bit) != 0

    row = session.execute(
        select(func.count(), func.sum(case((has(OLD_BIT), 1), else_=0)),
               *[func.sum(case((has(CATEGORY_BIT[c]), 1), else_=0)) for c in POST_CATEGORIES],
               func.count(ai.c.account_id),
               func.sum(case((and_(ai.c.account_id.is_not(None), has(OLD_BIT)), 1), else_=0)))
        .select_from(inner)
        .outerjoin(ai, and_(ai.c.workspace_id == scope.workspace_id, ai.c.account_id == inner.c.account_id,
                            ai.c.score >= threshold))).one()
    n = len(POST_CATEGORIES)
    return (AccountCounts(int(row[0] or 0), int(row[1] or 0),
                          {c: int(row[2 + i] or 0) for i, c in enumerate(POST_CATEGORIES)}),
            (int(row[2 + n] or 0), int(row[3 + n] or 0)))


_BACKGROUND = ThreadPoolExecutor(max_workers=4, thread_name_prefix="socap-report")


def accounts_and_high_later(session: Session, scope: Scope, *, threshold: int, run_id: int | None,
                            concurrent: bool = False) -> Callable[[], tuple[AccountCounts, tuple[int, int] | None]]:
    """:func:`accounts_and_high`, as a call that returns its result. With ``concurrent`` on PostgreSQL it runs
    at once on a connection of its own, in a thread of a small pool, while the caller assembles the rest of the
    report: it is a report's heaviest statement (the important accounts joined to the campaign's, or every
    filtered engagement grouped by account), and the caller's Python work is about as long. Only for a session
    that has written nothing: the other connection sees committed rows only (each statement of a READ
    COMMITTED report sees its own snapshot anyway)."""
    if not (concurrent and scope.pg):
        return functools.partial(accounts_and_high, session, scope, threshold=threshold, run_id=run_id)
    engine = session.get_bind()

    def job():
        with Session(engine) as other, analytic_settings(other):
            return accounts_and_high(other, scope, threshold=threshold, run_id=run_id)

    return _BACKGROUND.submit(job).result


# ---------------------------------------------------------------- X's counters

COUNTERS = ("like_count", "retweet_count", "reply_count", "quote_count", "impression_count")


@dataclass
class Snapshot:
    taken_at: datetime
    values: dict[str, int]


# made once: aliasing a table copies its columns and foreign keys, which costs SQLAlchemy tens of milliseconds
_SNAPSHOT_ALIAS = MetricSnapshot.__table__.alias("m")
_LATEST_ALIAS = MetricSnapshot.__table__.alias("latest")
_PREVIOUS_ALIAS = MetricSnapshot.__table__.alias("previous")


def latest_snapshots(session: Session, *, post_ids: Sequence[int],
                     until: datetime | None) -> dict[int, tuple[Snapshot, Snapshot | None]]:
    """Each post's latest snapshot at or before ``until`` (or at all) and the one before it.

    Index probes per post on (campaign_tweet_id, taken_at) — cheap whatever the campaign's length — in one
    statement. On PostgreSQL one LATERAL probe per post returns its last two rows (500 posts: 3.4 ms in the
    database against 10.6 for the portable form: two scalar-subquery probes per post, then both rows fetched
    again by primary key, one row per post). The statements are built once (building cost more than running).
    """
    if not post_ids:
        return {}
    if session.get_bind().dialect.name == "postgresql":
        return _latest_two_per_post(session, post_ids, until)
    statement = _snapshot_statement(until is not None)
    params = {"until": until, "ids_campaign_tweet_id": list(post_ids)}
    n = len(COUNTERS)
    out: dict[int, tuple[Snapshot, Snapshot | None]] = {}
    for row in _core(session).execute(statement, params).all():
        current = Snapshot(row[1], dict(zip(COUNTERS, [v or 0 for v in row[2:2 + n]], strict=True)))
        before = None
        if row[2 + n] is not None:
            before = Snapshot(row[3 + n], dict(zip(COUNTERS, [v or 0 for v in row[4 + n:]], strict=True)))
        out[row[0]] = (current, before)
    return out


def _latest_two_per_post(session: Session, post_ids: Sequence[int],
                         until: datetime | None) -> dict[int, tuple[Snapshot, Snapshot | None]]:
    """latest_snapshots on PostgreSQL: up to two rows per post (post id, snapshot id, taken_at, counters)."""
    rows: dict[int, list] = {}
    for row in _core(session).execute(_lateral_snapshot_statement(until is not None),
                                      {"until": until, "post_ids": list(post_ids)}).all():
        rows.setdefault(row[0], []).append(row)
    out: dict[int, tuple[Snapshot, Snapshot | None]] = {}
    for post_id, two in rows.items():
        two.sort(key=lambda r: (r[2], r[1]), reverse=True)  # latest first: taken_at, then id
        current, *before = [Snapshot(r[2], dict(zip(COUNTERS, [v or 0 for v in r[3:]], strict=True))) for r in two]
        out[post_id] = (current, before[0] if before else None)
    return out


@cache
def _lateral_snapshot_statement(bounded: bool) -> Select:
    m = _SNAPSHOT_ALIAS
    probe = select(m.c.id, m.c.taken_at, *[m.c[c] for c in COUNTERS]).where(m.c.campaign_tweet_id == CampaignTweet.id)
    if bounded:
        probe = probe.where(m.c.taken_at <= bindparam("until"))
    last_two = probe.order_by(m.c.taken_at.desc(), m.c.id.desc()).limit(2).lateral("last_two")
    ids = bindparam("post_ids", type_=postgresql.ARRAY(Integer))
    return (select(CampaignTweet.id, *last_two.c).select_from(CampaignTweet).join(last_two, true())
            .where(CampaignTweet.id == any_(ids)))


@cache
def _snapshot_statement(bounded: bool) -> Select:
    """latest_snapshots' statement, with or without the ``until`` bound."""
    m, latest, previous = _SNAPSHOT_ALIAS, _LATEST_ALIAS, _PREVIOUS_ALIAS
    probe = select(m.c.id).where(m.c.campaign_tweet_id == CampaignTweet.id)
    if bounded:
        probe = probe.where(m.c.taken_at <= bindparam("until"))
    probe = probe.order_by(m.c.taken_at.desc(), m.c.id.desc())
    # the ids as literals (see literal_ids)
    which = CampaignTweet.id.in_(bindparam("ids_campaign_tweet_id", expanding=True, literal_execute=True))
    pairs = (select(CampaignTweet.id.label("post_id"), probe.limit(1).scalar_subquery().label("latest_id"),
                    probe.limit(1).offset(1).scalar_subquery().label("previous_id"))
             .where(which)
             .offset(0)  # keeps PostgreSQL from pulling the probes up into hash joins over every snapshot
             .subquery("pairs"))
    return (select(pairs.c.post_id, latest.c.taken_at, *[latest.c[c] for c in COUNTERS],
                   previous.c.id, previous.c.taken_at, *[previous.c[c] for c in COUNTERS])
            .select_from(pairs).join(latest, latest.c.id == pairs.c.latest_id)
            .outerjoin(previous, previous.c.id == pairs.c.previous_id))


def counter_series(session: Session, scope: Scope) -> list[tuple[datetime, dict[str, int]]]:
    """Cumulative counters summed over the selected posts, one point per metrics poll (run).

    Each snapshot contributes its increase over the post's previous snapshot (the first one its whole
    value), so the running sum at a poll is Σ over posts of each post's latest value by then — a post
    missing from a poll (blocked, unavailable) carries its last value forward. Snapshots are grouped by
    run (by instant when they have none).
    """
    ids = [p.id for p in scope.selected]
    if not ids:
        return []
    ms = MetricSnapshot
    window = {"partition_by": ms.campaign_tweet_id, "order_by": (ms.taken_at, ms.id)}
    deltas = [(getattr(ms, c) - func.coalesce(func.lag(getattr(ms, c)).over(**window), 0)).label(c)
              for c in COUNTERS]
    inner = select(ms.run_id, ms.taken_at, *deltas).where(ms.campaign_id == scope.campaign.id)
    if scope.narrows_all_posts:
        inner = inner.where(selected_posts(scope, ms.campaign_tweet_id))
    if scope.filters.until is not None:
        inner = inner.where(ms.taken_at <= scope.filters.until)
    inner = inner.subquery()
    no_run_instant = case((inner.c.run_id.is_(None), inner.c.taken_at))
    rows = session.execute(
        select(func.max(inner.c.taken_at).label("at"), *[func.sum(inner.c[c]) for c in COUNTERS])
        .group_by(inner.c.run_id, no_run_instant).order_by(func.max(inner.c.taken_at))).all()
    out: list[tuple[datetime, dict[str, int]]] = []
    running = dict.fromkeys(COUNTERS, 0)
    for row in rows:
        for i, c in enumerate(COUNTERS):
            running[c] += int(row[1 + i] or 0)
        at = _as_utc(row[0])
        if scope.filters.since is None or at >= scope.filters.since:
            out.append((at, dict(running)))
    return out


# ---------------------------------------------------------------- time buckets and categories

def hour_bucket(dialect: str):
    if dialect == "postgresql":
        # the UTC hour whatever the session's TimeZone
        return func.date_trunc("hour", func.timezone("UTC", Engagement.engaged_at))
    return func.strftime("%Y-%m-%d %H:00:00", Engagement.engaged_at)


def _as_utc(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def hourly(session: Session, scope: Scope, *, by_category: bool = False) -> list[tuple[str | None, datetime, str, int]]:
    """Filtered engagements per UTC hour and action (and post category): (category, hour, action, n)."""
    hour = hour_bucket(scope.dialect).label("hour")
    columns = [hour, Engagement.action]
    if by_category:
        category = category_of_post(scope, {c: c for c in POST_CATEGORIES})
        columns.insert(0, category.label("category"))
    query = with_importance(select(*columns, func.count()).where(*engagement_conditions(scope))
                            .group_by(*columns), scope)
    rows = session.execute(query).all()
    if by_category:
        return [(c, _as_utc(h), a, int(n)) for c, h, a, n in rows]
    return [(None, _as_utc(h), a, int(n)) for h, a, n in rows]
