"""ScenarioBuilder: the verbs scenario files use to describe who engages when.

Every call draws from one ``random.Random`` seeded with (scenario key, seed), in call order, so the same
scenario file and seed always give the same world: same ids, names, times and follow graph.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from socap.clock import ensure_utc, parse_instant
from socap.simulator import names
from socap.simulator.follows import FILLER_IMPORTANCE, SEED_APPETITES, build_follow_graph
from socap.simulator.world import (
    DEFAULT_AVATAR,
    Account,
    Keyframes,
    ScheduledFault,
    Tweet,
    World,
    snowflake,
)

When = timedelta | datetime
_FOLLOWERS = {
    "investor": (2_000, 80_000),
    "vc": (5_000, 200_000),
    "founder": (1_000, 50_000),
    "media": (3_000, 300_000),
    "developer": (100, 20_000),
    "other": (5, 3_000),
}


@dataclass
class _Pending:
    tweet: Tweet
    target: Tweet
    order: int


class ScenarioBuilder:
    def __init__(self, *, key: str, title: str = "", description: str = "", seed: int = 0):
        self.key, self.title, self.description, self.rng_seed = key, title, description, seed
        self.rng = random.Random(f"socap-simulator:{key}:{seed}")
        self.start = parse_instant("2025-01-06T09:00:00Z")
        self.days: float = 3
        self.threshold = 10
        self.spacing_minutes = 20
        self.campaign_name = title or key
        self.rate_limits: dict[str, int] = {}
        self.filler_importance = dict(FILLER_IMPORTANCE)
        self._accounts: dict[str, Account] = {}
        self._taken: set[str] = set()
        self._posts: list[Tweet] = []
        self._pending: list[_Pending] = []
        self._bystanders: list[Account] = []
        self._seed_appetite: dict[str, float] = {}
        self._used_ids: set[int] = set()
        self._faults: list[ScheduledFault] = []

    # --- campaign settings ------------------------------------------------------------------------
    def campaign(
        self, name: str, *, start: str | datetime, days: float, threshold: int, spacing_minutes: int = 20
    ) -> None:
        self.campaign_name = name
        self.start = parse_instant(start) if isinstance(start, str) else ensure_utc(start)
        self.days, self.threshold, self.spacing_minutes = days, threshold, spacing_minutes

    def rate_limit(self, endpoint: str, limit: int) -> None:
        """Override X's per-15-minute limit for one endpoint key, e.g. ``"GET /2/tweets/:id/retweets"``."""
        self.rate_limits[endpoint] = limit

    def fault(
        self,
        endpoint: str,
        *,
        at: When,
        until: When | None = None,
        contains: str | Tweet | None = None,
        status: int = 503,
        times: int = 1,
        kind: str = "status",
        body: dict | None = None,
        delay_seconds: float | None = None,
        note: str = "",
    ) -> ScheduledFault:
        """X misbehaves from ``at``: the next ``times`` calls to ``endpoint`` (whose URL contains ``contains``,
        a string or a post's id) fail with ``status`` (or ``kind`` ``timeout`` / ``malformed``), until ``until``.

        ``endpoint="*"`` matches every endpoint: ``fault("*", at=…, until=…, status=402, times=10**9)`` is an
        app-wide episode (X refuses every call for a while)."""
        if kind not in ("status", "timeout", "malformed"):
            raise ValueError(f"unknown fault kind {kind!r}")
        if isinstance(contains, Tweet) and not contains.id:
            raise ValueError("a fault can name a campaign post, not an engagement (its id comes later)")
        fault = ScheduledFault(
            at=self.when(at),
            endpoint=endpoint,
            contains=contains.id if isinstance(contains, Tweet) else contains,
            until=self.when(until) if until is not None else None,
            status=status,
            times=times,
            kind=kind,
            body=body,
            delay_seconds=delay_seconds,
            note=note,
        )
        self._faults.append(fault)
        return fault

    def when(self, value: When) -> datetime:
        return self.start + value if isinstance(value, timedelta) else ensure_utc(value)

    # --- accounts ---------------------------------------------------------------------------------
    def _new_id(self, at: datetime) -> str:
        while True:
            value = snowflake(at, self.rng.randrange(1 << 22))
            if value not in self._used_ids:
                self._used_ids.add(value)
                return str(value)

    def account(
        self,
        username: str,
        *,
        name: str,
        bio: str = "",
        category: str = "other",
        importance: int | None = None,
        followers: int | None = None,
        following: int | None = None,
        state: str = "active",
        verified_type: str = "none",
        default_avatar: bool = False,
        created: str | datetime | None = None,
        location: str = "",
    ) -> Account:
        """A named account. ``importance`` is the number (Σ weight) of seeds that will follow it."""
        if username.lower() in self._taken:
            raise ValueError(f"username {username!r} is used twice in scenario {self.key}")
        if len(username) > 15 or not username.replace("_", "").isalnum():
            raise ValueError(f"{username!r} is not a valid X username")
        self._taken.add(username.lower())
        rng = self.rng
        if created is None:
            created_at = self.start - timedelta(days=rng.uniform(60, 4500), seconds=rng.uniform(0, 86400))
        else:
            created_at = parse_instant(created) if isinstance(created, str) else ensure_utc(created)
        low, high = _FOLLOWERS.get(category, _FOLLOWERS["other"])
        followers_count = (
            followers if followers is not None else int(math.exp(rng.uniform(*map(math.log, (low, high)))))
        )
        account_id = self._new_id(created_at)
        image = (
            DEFAULT_AVATAR
            if default_avatar
            else (f"https://pbs.twimg.com/profile_images/{account_id}/{rng.getrandbits(32):08x}_normal.jpg")
        )
        account = Account(
            id=account_id,
            username=username,
            name=name,
            description=bio,
            created_at=created_at,
            category=category,
            followers_count=followers_count,
            following_count=following if following is not None else rng.randint(40, 2500),
            tweet_count=rng.randint(30, 40_000),
            listed_count=followers_count // rng.randint(40, 200),
            like_count=rng.randint(10, 60_000),
            profile_image_url=image,
            verified_type=verified_type,
            state=state,
            location=location,
            declared_importance=importance,
        )
        self._accounts[account.id] = account
        return account

    def accounts(
        self,
        n: int,
        category: str = "other",
        *,
        state: str = "active",
        importance: int | Sequence[int] | None = None,
    ) -> list[Account]:
        """``n`` freshly generated accounts whose bios make ``category`` obvious.

        ``importance`` (one score for all, or one per account) is met exactly by the seed graph; without it
        they get an ordinary score drawn from ``filler_importance``."""
        if importance is None or isinstance(importance, int):
            scores: list[int | None] = [importance] * n
        else:
            scores = list(importance)
            if len(scores) != n:
                raise ValueError(f"{len(scores)} importance scores for {n} accounts")
        rng, made = self.rng, []
        for score in scores:
            first, last = names.person_name(rng)
            username = names.username_for(first, last, rng, self._taken)
            self._taken.discard(username.lower())  # account() re-adds it
            new_account = category == "other" and rng.random() < 0.05
            created = self.start - timedelta(days=rng.uniform(2, 25)) if new_account else None
            if rng.random() < 0.15:
                verified = "business" if category == "media" else "blue"
            else:
                verified = "none"
            made.append(
                self.account(
                    username,
                    name=f"{first} {last}",
                    bio=names.bio_for(category, rng),
                    category=category,
                    state=state,
                    verified_type=verified,
                    created=created,
                    default_avatar=rng.random() < (0.12 if category == "other" else 0.02),
                    followers=rng.randint(0, 40) if new_account else None,
                    importance=score,
                )
            )
        return made

    def bystanders(self, n: int) -> list[Account]:
        """Accounts that never engage; seeds follow some of them (so follow lists are not only engagers)."""
        made = []
        for _ in range(n):
            made += self.accounts(1, self.rng.choice(("other", "other", "developer", "founder", "media")))
        self._bystanders += made
        return made

    def seed(self, account: Account, category: str, weight: int = 1) -> Account:
        account.is_seed, account.seed_category, account.seed_weight = True, category, weight
        # Some seeds follow many accounts, most a moderate number: uneven following-list sizes.
        self._seed_appetite[account.id] = self.rng.choice(SEED_APPETITES)
        return account

    def seeds(self, counts: dict[str, int]) -> list[Account]:
        """Generated curated important accounts, e.g. ``{"investor": 15, "vc": 12, ...}``."""
        made = []
        for category, n in counts.items():
            for account in self.accounts(n, category):
                account.followers_count = max(account.followers_count, self.rng.randint(8_000, 400_000))
                made.append(self.seed(account, category))
        return made

    # --- posts --------------------------------------------------------------------------------------
    def post(
        self,
        category: str,
        *,
        author: Account,
        text: str,
        created: When,
        likes: dict[When, int],
        impressions: dict[When, int] | None = None,
        bookmarks: dict[When, int] | None = None,
        deleted: When | None = None,
        protected: When | None = None,
    ) -> Tweet:
        """A campaign post. ``likes`` are keyframes (0 at creation unless given), interpolated linearly."""
        created_at = self.when(created)

        def frames(values: dict[When, int] | None) -> Keyframes | None:
            if values is None:
                return None
            points = sorted((self.when(k), v) for k, v in values.items())
            if points[0][0] > created_at:
                points.insert(0, (created_at, 0))
            return Keyframes(points)

        tweet = Tweet(
            id=self._new_id(created_at),
            author_id=author.id,
            text=text,
            created_at=created_at,
            kind="post",
            category=category,
            likes=frames(likes),
            impressions=frames(impressions),
            bookmarks=frames(bookmarks),
            deleted_at=self.when(deleted) if deleted is not None else None,
            protected_from=self.when(protected) if protected is not None else None,
        )
        tweet.conversation_id = tweet.id
        self._posts.append(tweet)
        return tweet

    # --- single engagements -----------------------------------------------------------------------
    def _event(self, kind: str, target: Tweet, by: Account, at: When, text: str, hidden: bool) -> Tweet:
        created_at = self.when(at)
        if created_at < target.created_at:
            raise ValueError(f"@{by.username} cannot {kind} a post before it exists ({created_at})")
        tweet = Tweet(
            id="",
            author_id=by.id,
            text=text,
            created_at=created_at,
            kind=kind,
            visible=not hidden and by.state == "active",
        )
        self._pending.append(_Pending(tweet, target, len(self._pending)))
        return tweet

    def retweet(self, target: Tweet, *, by: Account, at: When, hidden: bool = False) -> Tweet:
        author = self._accounts[target.author_id].username
        text = f"RT @{author}: {target.text}"
        return self._event("retweet", target, by, at, text[:137] + "…" if len(text) > 140 else text, hidden)

    def reply(
        self, target: Tweet, *, by: Account, at: When, text: str | None = None, hidden: bool = False
    ) -> Tweet:
        """A reply to a campaign post (direct) or to another reply (a thread reply, not counted)."""
        author = self._accounts[target.author_id].username
        body = text if text is not None else names.text_for("reply", self.rng)
        return self._event("reply", target, by, at, f"@{author} {body}", hidden)

    def quote(
        self, target: Tweet, *, by: Account, at: When, text: str | None = None, hidden: bool = False
    ) -> Tweet:
        body = text if text is not None else names.text_for("quote", self.rng)
        return self._event(
            "quote", target, by, at, f"{body} https://t.co/{self.rng.getrandbits(40):010x}", hidden
        )

    # --- bulk engagements -------------------------------------------------------------------------
    def spread(self, n: int, between: tuple[When, When]) -> list[datetime]:
        """``n`` sorted instants spread over ``between`` (each in its own slice, jittered)."""
        t0, t1 = (self.when(x) for x in between)
        span = (t1 - t0).total_seconds()
        return [t0 + timedelta(seconds=span * (i + self.rng.uniform(0.1, 0.9)) / n) for i in range(n)]

    def _bulk(
        self,
        kind: str,
        target: Tweet,
        n: int | None,
        by: list[Account] | None,
        category: str,
        between: tuple[When, When],
        hidden: int,
    ) -> list[Tweet]:
        if by is None:
            if n is None:
                raise ValueError("give n or by=")
            by = self.accounts(n, category)
        elif n is not None and n != len(by):
            raise ValueError(f"n={n} but {len(by)} accounts given")
        hidden_idx = set(self.rng.sample(range(len(by)), hidden)) if hidden else set()
        verb = {"retweet": self.retweet, "reply": self.reply, "quote": self.quote}[kind]
        return [
            verb(target, by=account, at=moment, hidden=i in hidden_idx)
            for i, (account, moment) in enumerate(zip(by, self.spread(len(by), between), strict=True))
        ]

    def retweets(
        self,
        target: Tweet,
        n: int | None = None,
        *,
        by: list[Account] | None = None,
        category: str = "other",
        between: tuple[When, When],
        hidden: int = 0,
    ) -> list[Tweet]:
        """Retweets by ``by`` (each once), or by ``n`` fresh ``category`` accounts, spread over ``between``.

        ``hidden`` of them are hidden from lists (still counted in ``retweet_count``)."""
        return self._bulk("retweet", target, n, by, category, between, hidden)

    def replies(
        self,
        target: Tweet,
        n: int | None = None,
        *,
        by: list[Account] | None = None,
        category: str = "other",
        between: tuple[When, When],
        hidden: int = 0,
    ) -> list[Tweet]:
        return self._bulk("reply", target, n, by, category, between, hidden)

    def quotes(
        self,
        target: Tweet,
        n: int | None = None,
        *,
        by: list[Account] | None = None,
        category: str = "other",
        between: tuple[When, When],
        hidden: int = 0,
    ) -> list[Tweet]:
        return self._bulk("quote", target, n, by, category, between, hidden)

    # --- finishing --------------------------------------------------------------------------------
    def _assign_event_ids(self) -> dict[str, Tweet]:
        tweets = {p.id: p for p in self._posts}
        for pending in sorted(self._pending, key=lambda p: (p.tweet.created_at, p.order)):
            pending.tweet.id = self._new_id(pending.tweet.created_at)
        for pending in self._pending:  # targets now have ids (a target is created before its events)
            tweet, target = pending.tweet, pending.target
            if not target.id:
                raise ValueError("an engagement targets a post that is not part of this scenario")
            tweet.target_id = target.id
            if tweet.kind == "reply":
                tweet.conversation_id = target.conversation_id or target.id
                tweet.root_id = tweet.conversation_id if tweets_root(target) else None
                tweet.in_reply_to_user_id = target.author_id
            else:
                tweet.conversation_id = tweet.id
                tweet.root_id = target.id if target.is_campaign_post else None
            tweets[tweet.id] = tweet
        return tweets

    def finish(self) -> World:
        tweets = self._assign_event_ids()
        follows = build_follow_graph(
            self._accounts.values(),
            bystander_ids={a.id for a in self._bystanders},
            appetite=self._seed_appetite,
            filler_importance=self.filler_importance,
            rng=self.rng,
        )
        for tweet in tweets.values():
            author = self._accounts[tweet.author_id]
            author.tweet_count = max(author.tweet_count, 1)
        return World(
            key=self.key,
            title=self.title,
            description=self.description,
            seed=self.rng_seed,
            start=self.start,
            days=self.days,
            threshold=self.threshold,
            spacing_minutes=self.spacing_minutes,
            campaign_name=self.campaign_name,
            accounts=dict(self._accounts),
            tweets=tweets,
            campaign_post_ids=[p.id for p in self._posts if p.is_campaign_post],
            seed_follows=follows,
            rate_limits=dict(self.rate_limits),
            faults=sorted(self._faults, key=lambda f: f.at),
        )


def tweets_root(target: Tweet) -> bool:
    """A reply belongs to a campaign conversation when its target is a campaign post or a reply in one."""
    return target.is_campaign_post or (target.kind == "reply" and target.root_id is not None)
