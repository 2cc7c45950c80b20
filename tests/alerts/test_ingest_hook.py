"""The ingest's production hook: new engagers scored, then alerts queued from those very scores, with one
look-up of the stored scores per page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from socap.alerts.models import Alert
from socap.campaigns.models import Campaign, CampaignTweet
from socap.importance.models import AccountImportance, Follow, ImportantAccount
from socap.monitoring.ingest import ingest_engagements
from socap.monitoring.models import Engagement
from socap.runtime import set_current
from socap.x import Tweet, User

from ..monitoring.support import one_post_campaign, selects

START = datetime(2025, 3, 3, 12, tzinfo=UTC)
NOW = START + timedelta(hours=2)


@pytest.fixture
def hooked(database, make_runtime):
    """A one-post campaign (alert threshold 10) with two seeds of weight 6 that follow account 500; the
    production hooks installed (a Runtime installs them) and that Runtime current."""
    runtime = make_runtime()
    set_current(runtime)
    campaign_id, tweet_id = one_post_campaign(database, start=START, post_id=1_900_000_000_000_000_001)
    with database.write() as s:
        workspace_id = s.get(Campaign, campaign_id).workspace_id
        seeds = [ImportantAccount(workspace_id=workspace_id, username=f"seed{i}", x_user_id=90 + i, weight=6,
                                  active=True, category="vc") for i in range(2)]
        s.add_all(seeds)
        s.flush()
        s.add_all([Follow(seed_id=seed.id, account_id=500) for seed in seeds])
    yield campaign_id, tweet_id, workspace_id
    set_current(None)


def _replies(database, target, authors: list[int], first: int) -> None:
    campaign_id, tweet_id, _ = target
    posts = [Tweet.model_validate({"id": str(1_950_000_000_000_000_000 + first + i), "author_id": str(a),
                                   "text": f"congrats {i}", "created_at": "2025-03-03T13:00:00.000Z"})
             for i, a in enumerate(authors)]
    users = {str(a): User.model_validate({"id": str(a), "username": f"user{a}", "name": f"User {a}"})
             for a in authors}
    with database.write() as s:
        ingest_engagements(s, campaign=s.get(Campaign, campaign_id), tweet=s.get(CampaignTweet, tweet_id),
                           action="reply", posts=posts, users=users, run_id=None, now=NOW)


def test_a_page_reads_stored_scores_once_and_alerts_from_fresh_and_stored_ones(database, hooked):
    campaign_id, _, workspace_id = hooked
    with selects(database, lambda sql: "account_importance" in sql) as reads:
        _replies(database, hooked, [501, 502], first=0)  # both new to the workspace, nobody follows them
    assert len(reads) == 1, reads  # was 2: scoring's "unscored" and detection's "scores_of"
    with database.write() as s:
        assert {r.account_id: r.score for r in s.scalars(select(AccountImportance))} == {501: 0, 502: 0}
        s.get(AccountImportance, (workspace_id, 501)).score = 11  # a later seed sync made 501 important

    with selects(database, lambda sql: "account_importance" in sql) as reads:
        _replies(database, hooked, [500, 501, 502, 503], first=10)
    # the stored scores once; then the firing accounts' profiles (their score among them)
    assert len(reads) == 2, reads
    with database.session() as s:
        stored = {r.account_id: r.score for r in s.scalars(select(AccountImportance))}
        alerts = dict(s.execute(select(Engagement.account_id, Alert.importance)
                                .join(Engagement, Engagement.id == Alert.engagement_id)
                                .where(Alert.campaign_id == campaign_id)).all())
    assert stored == {500: 12, 501: 11, 502: 0, 503: 0}  # 500 and 503 scored at this page's ingest
    assert alerts == {500: 12, 501: 11}  # a fresh score and a stored one, both at or over the threshold
