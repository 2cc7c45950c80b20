"""The shapes of campaign statistics: what the dashboard, the JSON API and (later) the final report show.

One set of filters applies to everything a view shows — the engagement list, the totals and the charts —
so a filtered view never mixes filtered and unfiltered numbers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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

    @field_validator("categories", "actions", mode="after")
    @classmethod
    def _canonical_order(cls, value: tuple[str, ...], info) -> tuple[str, ...]:
        # one spelling per selection: ("investor", "main", "main") and ("main", "investor") are the same view
        order = POST_CATEGORIES if info.field_name == "categories" else ACTIONS
        return tuple(v for v in order if v in value)

    @field_validator("since", "until", mode="after")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @model_validator(mode="after")
    def _ordered_range(self) -> Filters:
        if self.since is not None and self.until is not None and self.since > self.until:
            raise ValueError("since must not be after until")
        return self

    def resolve(self, now: datetime) -> Filters:
        """The same filters with ``since``/``until`` made concrete for the preset ranges.

        ``"24h"`` is [now - 24 h, now], ``"today"`` is [00:00 UTC of now's day, now], ``"custom"`` keeps
        ``since``/``until`` as given (either may be open), ``"all"`` has neither. Both ends are inclusive.
        Resolving again with another ``now`` moves a preset range; a custom range never moves.
        """
        now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
        if self.range == "24h":
            since, until = now - timedelta(hours=24), now
        elif self.range == "today":
            since, until = now.replace(hour=0, minute=0, second=0, microsecond=0), now
        elif self.range == "all":
            since = until = None
        else:
            return self
        return self.model_copy(update={"since": since, "until": until})

    def key(self) -> str:
        """A stable string for cache keys and URLs (a query string, e.g.
        ``categories=influencer&actions=retweet&min_importance=21&range=today&since=…&until=…``).

        Equal filters give equal keys whatever order the lists were given in; "all" of everything is ``""``.
        Times are UTC to the microsecond: resolve presets against a minute-truncated ``now`` to share keys
        within a minute (``socap.web.cache`` does).
        """
        parts: list[tuple[str, str]] = []
        if self.categories:
            parts.append(("categories", ",".join(self.categories)))
        if self.actions:
            parts.append(("actions", ",".join(self.actions)))
        if self.min_importance is not None:
            parts.append(("min_importance", str(self.min_importance)))
        if self.range != "all":
            parts.append(("range", self.range))
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None:
                parts.append((name, value.isoformat().replace("+00:00", "Z")))
        return urlencode(parts, safe=",:")


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
    label: str = ""  # "main", "influencer1", …: as EngagementRow.post_label


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
    coverage: Coverage | None = None  # over the selected posts, as PostSummary.coverage


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
