"""ingest_engagements on its own: what it stores, what it reports as new, and what it leaves alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from socap.campaigns.models import Campaign, CampaignTweet
from socap.importance.models import Account
from socap.monitoring import ingest
from socap.monitoring.ingest import ingest_engagements
from socap.monitoring.models import Engagement
from socap.reports import rollup
from socap.reports.models import AccountTally, CampaignAccount, PostTally, RunTally
from socap.x import Tweet, User

from .support import one_post_campaign

START = datetime(2025, 3, 3, 12, tzinfo=UTC)
NOW = START + timedelta(hours=5)
POST_ID = 1_900_000_000_000_000_000


def _post(i: int, author: int, *, at: datetime | None = None, text: str | None = None) -> Tweet:
    at = at or START + timedelta(minutes=i)
    return Tweet.model_validate({"id": str(1_950_000_000_000_000_000 + i), "author_id": str(author),
                                 "text": text or f"reply {i}", "created_at": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")})


def _user(author: int, *, bio: str = "Angel investor", followers: int = 500) -> User:
    return User.model_validate({"id": str(author), "username": f"user{author}", "name": f"User {author}",
                                "description": bio, "created_at": "2019-05-01T10:00:00.000Z",
                                "profile_image_url": "https://pbs.twimg.com/profile_images/1/a_normal.jpg",
                                "public_metrics": {"followers_count": followers, "following_count": 3,
                                                   "tweet_count": 9, "listed_count": 0}})


@pytest.fixture
def target(database):
    return one_post_campaign(database, start=START, post_id=POST_ID)


def _ingest(database, target, posts, users, action="reply", run_id=None, authors=None):
    campaign_id, tweet_id = target
    with database.write() as s:
        campaign, tweet = s.get(Campaign, campaign_id), s.get(CampaignTweet, tweet_id)
        new = ingest_engagements(s, campaign=campaign, tweet=tweet, action=action, posts=posts, users=users,
                                 run_id=run_id, now=NOW, authors=authors)
        return new, campaign.data_version


def _version(database, target) -> int:
    with database.session() as s:
        return s.get(Campaign, target[0]).data_version


def test_new_engagements_are_reported_once_and_match_what_is_stored(database, target):
    posts = [_post(i, 100 + i) for i in range(5)]
    users = {str(100 + i): _user(100 + i) for i in range(5)}
    new, version_seen = _ingest(database, target, posts, users)
    assert [e.source_tweet_id for e in new] == sorted(int(p.id) for p in posts)
    assert version_seen == 1 == _version(database, target)  # the session's campaign learns the bump too
    with database.session() as s:
        stored = {e.id: e for e in s.scalars(select(Engagement))}
    assert {e.id for e in new} == set(stored)
    for e in new:
        row = stored[e.id]
        assert (e.campaign_id, e.campaign_tweet_id, e.account_id, e.action, e.source_tweet_id, e.text, e.run_id) \
            == (row.campaign_id, row.campaign_tweet_id, row.account_id, row.action, row.source_tweet_id, row.text,
                row.run_id)
        assert e.engaged_at == row.engaged_at and e.engaged_at.utcoffset() == timedelta(0)

    again, _ = _ingest(database, target, posts, users)
    assert again == []
    assert _version(database, target) == 1  # nothing new: no bump
    more, _ = _ingest(database, target, posts + [_post(9, 109)], users | {"109": _user(109)})
    assert [e.source_tweet_id for e in more] == [int(_post(9, 109).id)]
    assert _version(database, target) == 2


def test_duplicates_within_a_page_collapse_to_one_row(database, target):
    first, second = _post(1, 100, text="first"), _post(1, 100, text="second")
    new, _ = _ingest(database, target, [first, second], {"100": _user(100)})
    assert len(new) == 1 and new[0].text == "second"
    with database.session() as s:
        assert s.scalars(select(Engagement.text)).all() == ["second"]


def test_retweets_store_no_text_and_late_posts_are_left_out(database, target):
    late = _post(2, 101, at=START + timedelta(days=2))
    new, _ = _ingest(database, target, [_post(1, 100, text="RT @a: launch"), late],
                     {"100": _user(100), "101": _user(101)}, action="retweet")
    assert [(e.account_id, e.text) for e in new] == [(100, "")]
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Engagement)) == 1
        assert s.get(Account, 101) is None  # the late post's author is not stored either


def test_account_rows_built_ahead_are_the_ones_stored(database, target):
    """The pollers build a page's account rows before their write transaction (author_rows); the ingest
    stores exactly those, still leaving out a late post's author."""
    posts = [_post(1, 100), _post(2, 101), _post(3, 102, at=START + timedelta(days=2)), _post(4, 200)]
    users = {str(a): _user(a, bio=f"Founder of thing {a}") for a in (100, 101, 102)}
    ahead = ingest.author_rows(posts, users, NOW)
    assert (sorted(ahead.profiles), sorted(ahead.placeholders)) == ([100, 101, 102], [200])
    ahead.profiles[101] = dict(ahead.profiles[101], bio="built ahead")  # the ingest takes this row as given
    users["101"] = _user(101, bio="Angel investor")  # and does not build its own from the profile
    new, _ = _ingest(database, target, posts, users, authors=ahead)
    assert sorted(e.account_id for e in new) == [100, 101, 200]
    with database.session() as s:
        stored = {a.id: a for a in s.scalars(select(Account))}
    assert sorted(stored) == [100, 101, 200]  # not 102: its post is after the window
    assert (stored[100].bio, stored[100].category, stored[101].bio, stored[200].username) == \
        ("Founder of thing 100", "founder", "built ahead", "id200")


def test_profiles_are_refreshed_and_placeholders_never_overwrite_them(database, target):
    _ingest(database, target, [_post(1, 100)], {"100": _user(100, bio="Angel investor", followers=500)})
    _ingest(database, target, [_post(2, 100)], {"100": _user(100, bio="Founder @acme", followers=3)})
    with database.session() as s:
        account = s.get(Account, 100)
        assert (account.bio, account.followers_count, account.category) == ("Founder @acme", 3, "founder")
        assert [f["flag"] for f in account.suspicion] == ["few_followers"]
        assert account.refreshed_at == NOW
    # X did not expand the author this time (e.g. suspended since): the engagement is kept, the profile too
    new, _ = _ingest(database, target, [_post(3, 100), _post(4, 200)], {})
    assert sorted(e.account_id for e in new) == [100, 200]
    with database.session() as s:
        assert s.get(Account, 100).username == "user100"
        assert (s.get(Account, 200).username, s.get(Account, 200).suspicion) == ("id200", [])


def test_hooks_see_the_new_rows_inside_the_same_transaction(database, target, monkeypatch):
    seen = []

    def hook(session, campaign, new, now):
        ids = [e.id for e in new]
        stored = session.scalars(select(Engagement.id).where(Engagement.id.in_(ids))).all()
        seen.append((campaign.id, sorted(stored) == sorted(ids), now))

    monkeypatch.setattr(ingest, "NEW_ENGAGEMENT_HOOKS", [hook])
    _ingest(database, target, [_post(1, 100)], {"100": _user(100)})
    _ingest(database, target, [_post(1, 100)], {"100": _user(100)})  # nothing new: hooks are not called
    assert seen == [(target[0], True, NOW)]


def test_a_pending_change_to_the_campaign_is_not_lost_by_the_bump(database, target):
    with database.write() as s:
        campaign, tweet = s.get(Campaign, target[0]), s.get(CampaignTweet, target[1])
        campaign.data_version += 1  # e.g. an edit earlier in the same transaction
        campaign.name = "renamed"
        ingest_engagements(s, campaign=campaign, tweet=tweet, action="reply", posts=[_post(1, 100)],
                           users={"100": _user(100)}, run_id=None, now=NOW)
        assert campaign.data_version == 2
    with database.session() as s:
        assert (s.get(Campaign, target[0]).data_version, s.get(Campaign, target[0]).name) == (2, "renamed")


def _tallies(database, campaign_id):
    with database.session() as s:
        return (s.execute(select(PostTally.campaign_tweet_id, PostTally.action, PostTally.n)
                          .where(PostTally.campaign_id == campaign_id)).all(),
                sorted(s.execute(select(RunTally.run_id, RunTally.n).where(RunTally.campaign_id == campaign_id))
                       .all()),
                sorted(s.execute(select(CampaignAccount.account_id, CampaignAccount.first_main,
                                        CampaignAccount.first_influencer, CampaignAccount.first_investor)
                                 .where(CampaignAccount.campaign_id == campaign_id)).all()))


def test_rollups_count_each_new_engagement_once(database, target):
    campaign_id, tweet_id = target
    posts = [_post(1, 100), _post(2, 101), _post(3, 100)]  # account 100 replied twice
    users = {"100": _user(100), "101": _user(101)}
    _ingest(database, target, posts, users)
    _ingest(database, target, posts, users)  # the same page again: nothing new, nothing counted
    assert _tallies(database, campaign_id) == ([(tweet_id, "reply", 3)], [(0, 3)],
                                               [(100, 0, None, None), (101, 0, None, None)])


def test_rollup_record_adds_counts_and_keeps_the_earliest_run_per_category(database, target):
    # on PostgreSQL one statement does what three upserts do on SQLite: both must say the same
    campaign_id, tweet_id = target
    calls = [("main", 7, [5, 3, 5]), ("main", 2, [3, 9]), ("investor", 4, [3]), ("main", None, [9])]
    for category, run_id, account_ids in calls:
        with database.write() as s:
            rollup.record(s, campaign_id=campaign_id, campaign_tweet_id=tweet_id, category=category,
                          action="quote", run_id=run_id, account_ids=account_ids)
    assert _tallies(database, campaign_id) == ([(tweet_id, "quote", 7)], [(0, 1), (2, 2), (4, 1), (7, 3)],
                                               [(3, 2, None, 4), (5, 7, None, None), (9, 0, None, None)])
    # accounts counted per scope and first run: run 2 arriving after run 7 moved accounts 3's count, run 0
    # (no run) account 9's; what the campaign_account rows above say
    assert _account_tally(database, campaign_id) == [("any", 0, 1), ("any", 2, 1), ("any", 7, 1),
                                                     ("investor", 4, 1), ("main", 0, 1), ("main", 2, 1),
                                                     ("main", 7, 1)]
    assert _account_tally(database, campaign_id) == _account_tally_from_rows(database, campaign_id)


def _account_tally(database, campaign_id):
    with database.session() as s:
        return sorted((scope, run, n) for scope, run, n in s.execute(
            select(AccountTally.scope, AccountTally.run_id, AccountTally.n)
            .where(AccountTally.campaign_id == campaign_id)) if n)


def _account_tally_from_rows(database, campaign_id):
    """account_tally as it should be: counted from campaign_account in Python."""
    counts: dict[tuple[str, int], int] = {}
    with database.session() as s:
        for firsts in s.execute(select(CampaignAccount.first_main, CampaignAccount.first_influencer,
                                       CampaignAccount.first_investor)
                                .where(CampaignAccount.campaign_id == campaign_id)):
            known = [f for f in firsts if f is not None]
            keys = [("any", min(known))] + [(c, f) for c, f in zip(("main", "influencer", "investor"), firsts,
                                                                     strict=True) if f is not None]
            for key in keys:
                counts[key] = counts.get(key, 0) + 1
    return sorted((scope, run, n) for (scope, run), n in counts.items())


def test_account_tally_follows_random_pages_in_any_run_order(database, target):
    """Pages of random accounts, categories and runs, runs committing out of order and again: after every
    page account_tally equals the count of campaign_account's rows (only non-zero counts compared: a moved
    count may leave a zero behind). tests/reports/test_rollups.py compares it with a rebuild."""
    import random

    campaign_id, tweet_id = target
    rng = random.Random(20261129)
    for page in range(40):
        category = rng.choice(["main", "influencer", "investor"])
        run = rng.choice([None, 1, 2, 3, 5, 8, 13])
        accounts = [rng.randint(1, 60) for _ in range(rng.randint(1, 12))]
        with database.write() as s:
            rollup.record(s, campaign_id=campaign_id, campaign_tweet_id=tweet_id, category=category,
                          action="reply", run_id=run, account_ids=accounts)
        assert _account_tally(database, campaign_id) == _account_tally_from_rows(database, campaign_id), page
    kept = _account_tally(database, campaign_id)
    assert {scope for scope, _, _ in kept} == {"any", "main", "influencer", "investor"}
    assert any(n > 1 for _, _, n in kept)
