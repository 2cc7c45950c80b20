"""The simulated world: accounts, campaign posts, engagement posts and the seed follow graph.

A :class:`World` is immutable once built (by :mod:`socap.simulator.scenario`). Every question asked of it
takes ``now`` and only sees posts whose time is ``<= now``, so what the fake API serves is a pure function
of (scenario, seed, now).

Vocabulary: a *campaign post* is one of the posts a campaign tracks; an *event* is any post created by an
engagement (a retweet, a reply or a quote). Every event has a ``target_id`` (the post it retweets, replies to
or quotes) and a ``root_id`` (the campaign post whose conversation or engagement list it belongs to, or
``None`` for, say, a retweet of a quote).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

TWITTER_EPOCH_MS = 1288834974657
ACTIONS = ("retweet", "reply", "quote")
CATEGORIES = ("investor", "vc", "founder", "media", "developer", "other")
DEFAULT_AVATAR = "https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png"


def snowflake(at: datetime, seq: int = 0) -> int:
    ms = int(round(at.timestamp() * 1000))
    return ((ms - TWITTER_EPOCH_MS) << 22) | (seq & ((1 << 22) - 1))


def snowflake_time(id_: int | str) -> datetime:
    ms = (int(id_) >> 22) + TWITTER_EPOCH_MS
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def x_time(value: datetime) -> str:
    """X's timestamp format: ``2025-01-06T09:00:00.000Z``."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


@dataclass
class Account:
    id: str
    username: str
    name: str
    description: str
    created_at: datetime
    category: str = "other"
    followers_count: int = 0
    following_count: int = 0
    tweet_count: int = 0
    listed_count: int = 0
    like_count: int = 0
    profile_image_url: str = DEFAULT_AVATAR
    verified_type: str = "none"
    state: str = "active"  # active | protected | suspended
    location: str = ""
    url: str = ""
    declared_importance: int | None = None
    is_seed: bool = False
    seed_category: str | None = None
    seed_weight: int = 1

    @property
    def default_avatar(self) -> bool:
        return self.profile_image_url == DEFAULT_AVATAR


@dataclass
class Keyframes:
    """A counter known at some instants, linear in between, flat before the first and after the last."""

    points: list[tuple[datetime, int]]

    def __post_init__(self) -> None:
        self.points = sorted(self.points)
        self._times = [t for t, _ in self.points]

    def at(self, now: datetime) -> int:
        pts = self.points
        if not pts or now < pts[0][0]:
            return 0
        i = bisect.bisect_right(self._times, now) - 1
        if i >= len(pts) - 1:
            return pts[-1][1]
        (t0, v0), (t1, v1) = pts[i], pts[i + 1]
        span = (t1 - t0).total_seconds()
        frac = 0.0 if span <= 0 else (now - t0).total_seconds() / span
        return int(v0 + (v1 - v0) * frac)


@dataclass
class Tweet:
    id: str
    author_id: str
    text: str
    created_at: datetime
    kind: str  # post | retweet | reply | quote
    target_id: str | None = None
    root_id: str | None = None
    conversation_id: str = ""
    in_reply_to_user_id: str | None = None
    visible: bool = True
    category: str | None = None  # campaign posts: main | influencer | investor
    likes: Keyframes | None = None
    impressions: Keyframes | None = None
    bookmarks: Keyframes | None = None
    deleted_at: datetime | None = None
    protected_from: datetime | None = None

    @property
    def id_int(self) -> int:
        return int(self.id)

    @property
    def is_campaign_post(self) -> bool:
        return self.kind == "post" and self.category is not None

    @property
    def direct(self) -> bool:
        """True when the event engages the campaign post itself (not a reply to a reply)."""
        return self.root_id is not None and self.target_id == self.root_id

    def referenced_tweets(self) -> list[dict[str, str]]:
        kind = {"retweet": "retweeted", "reply": "replied_to", "quote": "quoted"}.get(self.kind)
        return [{"type": kind, "id": self.target_id}] if kind and self.target_id else []


@dataclass(frozen=True)
class ScheduledFault:
    """A fault the scenario declares at a virtual instant (scenario 7's refused metrics request, say).

    From ``at`` (and until ``until``, when given) the next ``times`` calls to ``endpoint`` whose URL
    contains ``contains`` fail as a :class:`socap.simulator.faults.ScriptedFault` with the same fields."""

    at: datetime
    endpoint: str
    contains: str | None = None
    until: datetime | None = None
    status: int = 503
    times: int = 1
    kind: str = "status"
    body: dict | None = None
    delay_seconds: float | None = None
    note: str = ""

    def active(self, now: datetime) -> bool:
        return self.at <= now and (self.until is None or now < self.until)


class _Timeline:
    """Events sorted by id (= by time), with a parallel list of times for ``bisect``."""

    def __init__(self) -> None:
        self.items: list[Tweet] = []
        self._times: list[datetime] = []

    def add(self, tweet: Tweet) -> None:
        self.items.append(tweet)

    def freeze(self) -> None:
        self.items.sort(key=lambda t: t.id_int)
        self._times = [t.created_at for t in self.items]

    def upto(self, now: datetime) -> list[Tweet]:
        return self.items[: bisect.bisect_right(self._times, now)]

    def count(self, now: datetime) -> int:
        return bisect.bisect_right(self._times, now)


@dataclass
class World:
    key: str
    title: str
    description: str
    seed: int
    start: datetime
    days: float
    threshold: int
    spacing_minutes: int
    campaign_name: str
    accounts: dict[str, Account]
    tweets: dict[str, Tweet]
    campaign_post_ids: list[str]
    seed_follows: dict[str, list[str]]  # seed account id -> followed ids, newest follow first
    rate_limits: dict[str, int] = field(default_factory=dict)
    faults: list[ScheduledFault] = field(default_factory=list)  # armed by the simulator at their instant
    _by_username: dict[str, Account] = field(default_factory=dict, repr=False)
    _timelines: dict[tuple[str, str], _Timeline] = field(default_factory=dict, repr=False)
    _conversations: dict[str, _Timeline] = field(default_factory=dict, repr=False)
    _events: _Timeline = field(default_factory=_Timeline, repr=False)
    _importance: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_username = {a.username.lower(): a for a in self.accounts.values()}
        for tweet in self.tweets.values():
            if tweet.kind == "post":
                continue
            self._events.add(tweet)
            self._timelines.setdefault((tweet.target_id or "", tweet.kind), _Timeline()).add(tweet)
            if tweet.kind == "reply":
                self._conversations.setdefault(tweet.conversation_id, _Timeline()).add(tweet)
        for timeline in [self._events, *self._timelines.values(), *self._conversations.values()]:
            timeline.freeze()
        for seed_id, followed in self.seed_follows.items():
            weight = self.accounts[seed_id].seed_weight
            for account_id in followed:
                self._importance[account_id] = self._importance.get(account_id, 0) + weight

    # --- time ---------------------------------------------------------------------------------
    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)

    # --- accounts -----------------------------------------------------------------------------
    def account(self, account_id: str) -> Account | None:
        return self.accounts.get(account_id)

    def account_by_username(self, username: str) -> Account | None:
        return self._by_username.get(username.lower())

    def importance(self, account_id: str) -> int:
        """Σ weight of the seeds following the account: what SOCAP should compute."""
        return self._importance.get(account_id, 0)

    def seeds(self) -> list[Account]:
        return [a for a in self.accounts.values() if a.is_seed]

    def following(self, account_id: str) -> list[str]:
        return self.seed_follows.get(account_id, [])

    # --- posts --------------------------------------------------------------------------------
    def campaign_posts(self) -> list[Tweet]:
        return [self.tweets[i] for i in self.campaign_post_ids]

    def tweet(self, tweet_id: str, now: datetime) -> Tweet | None:
        """The post if it has been created by ``now`` (whatever its state)."""
        tweet = self.tweets.get(tweet_id)
        if tweet is None or tweet.created_at > now:
            return None
        return tweet

    def tweet_state(self, tweet: Tweet, now: datetime) -> str:
        """``active``, ``deleted`` or ``protected`` as seen by an app-only token at ``now``."""
        if tweet.deleted_at is not None and tweet.deleted_at <= now:
            return "deleted"
        author = self.accounts[tweet.author_id]
        if author.state == "suspended":
            return "deleted"
        if author.state == "protected" or (tweet.protected_from is not None and tweet.protected_from <= now):
            return "protected"
        return "active"

    def url(self, tweet: Tweet) -> str:
        return f"https://x.com/{self.accounts[tweet.author_id].username}/status/{tweet.id}"

    def events(self, target_id: str, kind: str, now: datetime) -> list[Tweet]:
        """All events of ``kind`` on ``target_id`` up to ``now``, oldest first, hidden ones included."""
        timeline = self._timelines.get((target_id, kind))
        return timeline.upto(now) if timeline else []

    def visible_events(self, target_id: str, kind: str, now: datetime) -> list[Tweet]:
        return [t for t in self.events(target_id, kind, now) if t.visible]

    def conversation(self, conversation_id: str, now: datetime) -> list[Tweet]:
        timeline = self._conversations.get(conversation_id)
        return timeline.upto(now) if timeline else []

    def all_events(self, now: datetime) -> list[Tweet]:
        return self._events.upto(now)

    def public_metrics(self, tweet: Tweet, now: datetime) -> dict[str, int]:
        def count(kind: str) -> int:
            timeline = self._timelines.get((tweet.id, kind))
            return timeline.count(now) if timeline else 0

        likes = tweet.likes.at(now) if tweet.likes else 0
        impressions = tweet.impressions.at(now) if tweet.impressions else likes * 31 + 7
        bookmarks = tweet.bookmarks.at(now) if tweet.bookmarks else likes // 14
        return {
            "retweet_count": count("retweet"),
            "reply_count": count("reply"),
            "like_count": likes,
            "quote_count": count("quote"),
            "bookmark_count": bookmarks,
            "impression_count": impressions,
        }
