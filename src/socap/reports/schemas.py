"""The shapes of campaign statistics: what the dashboard, the JSON API and (later) the final report show.

One set of filters applies to everything a view shows — the engagement list, the totals and the charts —
so a filtered view never mixes filtered and unfiltered numbers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

PostCategory = Literal["main", "influencer", "investor"]
Action = Literal["retweet", "reply", "quote"]
RangePreset = Literal["all", "24h", "today", "custom"]

POST_CATEGORIES: tuple[str, ...] = ("main", "influencer", "investor")
ACTIONS: tuple[str, ...] = ("retweet", "reply", "quote")
PAGE_SIZE = 50


class Filters(BaseModel):
    """What the user narrowed the view to. Empty lists mean "all".

    ``min_importance`` is inclusive (importance >= value). The time range applies to when the engagement
    happened (``engaged_at``); ``range="24h"`` and ``"today"`` (UTC day) are resolved against the clock
    by :meth:`resolve`, ``"custom"`` uses ``since`` / ``until`` as given.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    categories: tuple[PostCategory, ...] = ()
    actions: tuple[Action, ...] = ()
    min_importance: int | None = Field(default=None, ge=0)
    range: RangePreset = "all"
    since: datetime | None = None
    until: datetime | None = None

    def resolve(self, now: datetime) -> Filters:
        """The same filters with ``since``/``until`` made concrete for the preset ranges."""
        ...  # implemented in socap.reports.filters (kept here so the contract reads in one place)

    def key(self) -> str:
        """A stable string for cache keys and URLs."""
        ...


class Delta(BaseModel):
    """A number and its change since the previous run (None when there is no previous run)."""

    value: int
    change: int | None = None


class Totals(BaseModel):
    engagements: Delta
    unique_accounts: Delta
    high_importance_accounts: Delta  # distinct engagers with importance >= campaign threshold
    retweets: Delta  # captured retweet engagements
    replies: Delta
    quotes: Delta
    # X's counters from each post's latest metrics snapshot (post-category filter applies; the
    # action/importance filters cannot apply to counters and are ignored for these four)
    likes: Delta
    retweet_count: Delta
    reply_count: Delta
    quote_count: Delta
    impressions: Delta


class CategoryCard(BaseModel):
    category: PostCategory
    posts: int
    engagements: int
    unique_accounts: int
    retweets: int
    replies: int
    quotes: int
    likes: int  # X counter, latest snapshot summed over the category's posts
    share_of_engagements: float  # 0..1 of the filtered total


class Coverage(BaseModel):
    """Engagements captured vs what X's counters say, per action (counters from the latest snapshot)."""

    retweets_captured: int
    retweet_count: int
    replies_captured: int
    reply_count: int
    quotes_captured: int
    quote_count: int
    ratio: float | None  # captured / counted over the three, None when X reports 0


class PostSummary(BaseModel):
    id: int  # campaign_tweet id
    tweet_id: str
    url: str
    category: PostCategory
    author_username: str | None
    text: str
    likes: int
    retweet_count: int
    reply_count: int
    quote_count: int
    impressions: int
    metrics_at: datetime | None
    engagements: int  # captured, filtered
    coverage: Coverage
    unavailable_reason: str | None
    blocked_until: datetime | None  # latest blocked_until among its poll jobs, if in the future
    last_error: str | None


class CostSummary(BaseModel):
    runs: int
    calls: int
    calls_by_endpoint: dict[str, int]
    billable_posts: int
    billable_users: int
    cost_usd: float
    last_run_at: datetime | None
    next_run_at: datetime | None


class Summary(BaseModel):
    """The dashboard's headline block (one query round, cached by data version)."""

    campaign_id: int
    data_version: int
    filters: Filters
    generated_at: datetime
    totals: Totals
    categories: list[CategoryCard]
    posts: list[PostSummary]
    cost: CostSummary


class SeriesPoint(BaseModel):
    at: datetime
    likes: int
    retweets: int
    replies: int
    quotes: int
    impressions: int


class TimelineBucket(BaseModel):
    hour: datetime  # start of the UTC hour
    retweets: int
    replies: int
    quotes: int


class Charts(BaseModel):
    # cumulative X counters over time, summed over the filtered posts (one point per metrics poll)
    metrics: list[SeriesPoint]
    # captured engagements per hour (filtered)
    timeline: list[TimelineBucket]
    # engaging accounts by their bio category (filtered), e.g. {"investor": 12, "founder": 3, "other": 40}
    account_categories: dict[str, int]


class SeedRef(BaseModel):
    username: str
    category: str
    weight: int


class EngagementRow(BaseModel):
    engagement_id: int
    account_id: str
    username: str
    name: str
    account_category: str  # bio category of the engaging account
    importance: int
    seeds: list[SeedRef]  # the important accounts that follow it (heaviest first)
    action: Action
    post_id: int  # campaign_tweet id
    post_category: PostCategory
    post_label: str  # "main", "influencer1", "investor2": category + ordinal within the campaign
    text: str
    engaged_at: datetime
    source_tweet_id: str
    # every engagement of this account in the campaign (unfiltered), e.g.
    # [("main", "retweet"), ("influencer1", "reply")]; len > 1 means "engaged with N posts"
    other_posts: list[tuple[str, Action]]
    posts_engaged: int


class EngagementPage(BaseModel):
    page: int
    per_page: int = PAGE_SIZE
    total: int
    pages: int
    rows: list[EngagementRow]


class AccountEngagement(BaseModel):
    engagement_id: int
    action: Action
    post_id: int
    post_label: str
    post_category: PostCategory
    text: str
    engaged_at: datetime


class AccountDetail(BaseModel):
    account_id: str
    username: str
    name: str
    bio: str
    followers_count: int
    following_count: int
    account_category: str
    category_evidence: str | None
    suspicion: list[dict]
    importance: int
    seeds: list[SeedRef]
    engagements: list[AccountEngagement]  # every engagement in this campaign, oldest first


class PostDetail(BaseModel):
    post: PostSummary
    metrics: list[SeriesPoint]  # this post's snapshots over time
    timeline: list[TimelineBucket]
    engagers: EngagementPage  # filtered to this post


class CategoryComparison(BaseModel):
    """main vs influencer vs investor side by side (same filters)."""

    cards: list[CategoryCard]
    timelines: dict[str, list[TimelineBucket]]
