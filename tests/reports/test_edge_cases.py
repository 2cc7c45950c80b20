"""Reports on a small hand-made campaign: labels, runs and snapshots in awkward orders, blocked and unavailable
posts, accounts without an importance row, a seed's own category, custom ranges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from socap.auth.models import Workspace
from socap.campaigns.models import Campaign, CampaignTweet
from socap.importance.models import Account, AccountImportance, Follow, ImportantAccount
from socap.monitoring.models import Engagement, MetricSnapshot, PollJob, Run
from socap.reports import queries, rollup
from socap.reports import service as reports
from socap.reports.schemas import Filters

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=2)
M = timedelta(minutes=1)


@dataclass
class World:
    campaign_id: int
    posts: dict[str, int]   # label → campaign_tweet id
    accounts: dict[str, int]
    runs: list[int]
    other_campaign_post: int


def _snapshot(campaign_id, post_id, run_id, at, likes, rts=0, replies=0, quotes=0, impressions=0):
    return MetricSnapshot(campaign_id=campaign_id, campaign_tweet_id=post_id, run_id=run_id, taken_at=at,
                          like_count=likes, retweet_count=rts, reply_count=replies, quote_count=quotes,
                          impression_count=impressions, bookmark_count=0)


@pytest.fixture
def world(database) -> World:
    with database.write() as s:
        s.add(Workspace(id=1, name="ws", created_at=T0))
        s.flush()
        campaign = Campaign(workspace_id=1, name="Edge", status="active", starts_at=T0, ends_at=T0 + timedelta(days=3),
                            alert_threshold=10, alert_spacing_minutes=20, poll_interval_minutes=30, notify_urls=[],
                            data_version=7, created_at=T0)
        other = Campaign(workspace_id=1, name="Other", status="active", starts_at=T0, ends_at=T0 + timedelta(days=1),
                         alert_threshold=10, alert_spacing_minutes=20, poll_interval_minutes=30, notify_urls=[],
                         data_version=0, created_at=T0)
        s.add_all([campaign, other])
        s.flush()
        order = ["influencer", "main", "investor", "main", "influencer"]
        posts = []
        for n, category in enumerate(order, 1):
            post = CampaignTweet(campaign_id=campaign.id, tweet_id=1000 + n, url=f"https://x.com/a/status/{1000 + n}",
                                 category=category, author_username=f"author{n}", text=f"post {n}", added_at=T0)
            s.add(post)
            posts.append(post)
        foreign = CampaignTweet(campaign_id=other.id, tweet_id=9999, url="https://x.com/o/status/9999",
                                category="main", text="", added_at=T0)
        s.add(foreign)
        s.flush()
        posts[4].unavailable_reason = "deleted"
        labels = {"influencer1": posts[0].id, "main1": posts[1].id, "investor1": posts[2].id,
                  "main2": posts[3].id, "influencer2": posts[4].id}
        people = {"ann": ("investor", 30), "bob": ("developer", 5), "cat": ("other", 0), "dan": ("media", None),
                  "eve": ("other", None)}
        accounts = {}
        for n, (name, (category, score)) in enumerate(people.items(), 1):
            flags = [{"flag": "new", "reason": "created yesterday"}] if name == "bob" else []
            s.add(Account(id=500 + n, username=name, name=name.title(), bio=f"{name}'s bio", category=category,
                          refreshed_at=T0, suspicion=flags))
            accounts[name] = 500 + n
            if score is not None:
                s.add(AccountImportance(workspace_id=1, account_id=500 + n, score=score, updated_at=T0))
        # eve is a seed herself: her seed category (vc) wins over her bio's
        seed = ImportantAccount(workspace_id=1, username="eve", x_user_id=accounts["eve"], category="vc", weight=2)
        big = ImportantAccount(workspace_id=1, username="bigfund", x_user_id=77, category="investor", weight=20)
        small = ImportantAccount(workspace_id=1, username="angel", x_user_id=78, category="investor", weight=10)
        s.add_all([seed, big, small])
        s.flush()
        s.add_all([Follow(seed_id=big.id, account_id=accounts["ann"]),
                   Follow(seed_id=small.id, account_id=accounts["ann"])])
        runs = [Run(campaign_id=campaign.id, kind="cycle", started_at=T0 + k * 30 * M,
                    finished_at=None if k == 2 else T0 + k * 30 * M + 2 * M, calls=3 + k,
                    calls_by_endpoint={"GET /2/tweets": 1, "GET /2/tweets/:id/retweeted_by": 2 + k},
                    billable_posts=5, billable_users=k, cost_usd=Decimal("0.025") + Decimal("0.01") * k)
                for k in range(3)]
        s.add_all(runs)
        s.flush()
        r1, r2, r3 = (r.id for r in runs)
        p = labels

        def engage(name, label, action, at, run, source):
            s.add(Engagement(campaign_id=campaign.id, campaign_tweet_id=p[label], account_id=accounts[name],
                             action=action, source_tweet_id=source, text="" if action == "retweet" else "hi",
                             engaged_at=at, detected_at=at, run_id=run))

        engage("ann", "main1", "retweet", T0 - 30 * M, r1, 1)
        engage("ann", "influencer1", "reply", T0 + 10 * M, r2, 2)
        engage("ann", "main1", "quote", T0 + 40 * M, r3, 3)      # found by the unfinished run: still "new"
        engage("bob", "main2", "retweet", T0 - 20 * M, r1, 4)
        engage("bob", "main2", "reply", T0 + 35 * M, r3, 5)
        engage("bob", "main2", "reply", T0 + 36 * M, r3, 6)      # a second reply to the same post
        engage("cat", "investor1", "retweet", T0 + 5 * M, None, 7)  # its run was deleted
        engage("dan", "influencer1", "retweet", T0 + 20 * M, r2, 8)
        engage("eve", "influencer2", "quote", T0 - 60 * M, r1, 9)
        s.add(Engagement(campaign_id=other.id, campaign_tweet_id=foreign.id, account_id=accounts["dan"],
                         action="retweet", source_tweet_id=10, text="", engaged_at=T0, detected_at=T0, run_id=None))
        # influencer1 every poll; main1 misses the second poll (blocked): its value carries forward
        s.add_all([_snapshot(campaign.id, p["influencer1"], r1, T0, 10, 1, 0, 0, 100),
                   _snapshot(campaign.id, p["influencer1"], r2, T0 + 30 * M, 15, 2, 1, 0, 150),
                   _snapshot(campaign.id, p["influencer1"], r3, T0 + 60 * M, 30, 2, 1, 0, 300),
                   _snapshot(campaign.id, p["main1"], r1, T0, 100, 1, 0, 0, 1000),
                   _snapshot(campaign.id, p["main1"], r3, T0 + 60 * M, 130, 1, 0, 1, 1300),
                   _snapshot(campaign.id, p["main2"], None, T0 + 45 * M, 7, 1, 2, 0, 70)])
        s.add_all([PollJob(campaign_id=campaign.id, campaign_tweet_id=p["main1"], kind="retweets",
                           next_run_at=NOW + 5 * M, blocked_until=NOW + 15 * M, last_error="HTTP 429 rate limited"),
                   PollJob(campaign_id=campaign.id, campaign_tweet_id=p["main1"], kind="metrics",
                           next_run_at=NOW + 10 * M, blocked_until=NOW - 5 * M),
                   PollJob(campaign_id=campaign.id, campaign_tweet_id=p["influencer2"], kind="metrics",
                           next_run_at=None, enabled=False, last_error="post deleted")])
        s.flush()
        for campaign_id in (campaign.id, other.id):  # the engagements were written here, not by the ingest
            rollup.rebuild(s, campaign_id=campaign_id)
        return World(campaign.id, labels, accounts, [r1, r2, r3], foreign.id)


def _campaign(s, world: World) -> Campaign:
    return s.get(Campaign, world.campaign_id)


def test_labels_number_each_category_by_post_id(database, world):
    with database.session() as s:
        assert reports.post_labels(s, campaign_id=world.campaign_id) == {v: k for k, v in world.posts.items()}
        summary = reports.summary(s, campaign=_campaign(s, world), filters=Filters(), now=NOW)
    assert [p.label for p in summary.posts] == ["influencer1", "main1", "investor1", "main2", "influencer2"]


def test_totals_and_change_since_the_latest_finished_run(database, world):
    with database.session() as s:
        t = reports.summary(s, campaign=_campaign(s, world), filters=Filters(), now=NOW).totals
    # the latest finished run is the second: engagements of it and of the unfinished third are new
    assert (t.engagements.value, t.engagements.change) == (9, 5)
    assert (t.retweets.value, t.retweets.change) == (4, 1)
    assert (t.replies.value, t.replies.change) == (3, 3)
    assert (t.quotes.value, t.quotes.change) == (2, 1)
    assert (t.unique_accounts.value, t.unique_accounts.change) == (5, 1)  # only dan is new
    assert (t.high_importance_accounts.value, t.high_importance_accounts.change) == (1, 0)  # ann (30)
    # counters: each post's latest snapshot against the one before (main2 has a single snapshot)
    assert (t.likes.value, t.likes.change) == (30 + 130 + 7, 15 + 30)
    assert (t.quote_count.value, t.quote_count.change) == (1, 1)


def test_no_runs_and_no_snapshots_mean_no_change(database, world):
    with database.write() as s:
        s.query(Engagement).update({Engagement.run_id: None})
        s.query(MetricSnapshot).delete()
        s.query(Run).delete()
    with database.session() as s:
        summary = reports.summary(s, campaign=_campaign(s, world), filters=Filters(), now=NOW)
    t = summary.totals
    assert t.engagements.value == 9 and t.engagements.change is None and t.unique_accounts.change is None
    assert t.likes.value == 0 and t.likes.change is None
    assert all(p.metrics_at is None and p.coverage.ratio is None for p in summary.posts)
    assert summary.cost.runs == 0 and summary.cost.last_run_at is None and summary.cost.cost_usd == 0


def test_posts_show_blocked_unavailable_and_errors(database, world):
    with database.session() as s:
        summary = reports.summary(s, campaign=_campaign(s, world), filters=Filters(), now=NOW)
    posts = {p.label: p for p in summary.posts}
    assert posts["main1"].blocked_until == NOW + 15 * M
    assert posts["main1"].last_error == "retweets: HTTP 429 rate limited"
    assert posts["influencer2"].unavailable_reason == "deleted"
    assert posts["influencer2"].last_error == "metrics: post deleted" and posts["influencer2"].blocked_until is None
    assert posts["main1"].likes == 130 and posts["main1"].metrics_at == T0 + 60 * M
    assert posts["main1"].coverage.retweets_captured == 1 and posts["main1"].coverage.quotes_captured == 1
    assert posts["main1"].coverage.ratio == 1.0
    assert posts["investor1"].likes == 0 and posts["investor1"].engagements == 1
    cost = summary.cost
    assert (cost.runs, cost.calls, cost.billable_posts, cost.billable_users) == (3, 12, 15, 3)
    assert cost.calls_by_endpoint == {"GET /2/tweets": 3, "GET /2/tweets/:id/retweeted_by": 9}
    assert cost.cost_usd == pytest.approx(0.105) and cost.last_run_at == T0 + 60 * M
    # the blocked job counts from its blocked_until; the metrics job's block is over
    assert cost.next_run_at == NOW + 10 * M


def test_next_run_follows_the_campaign_status(database, world):
    with database.write() as s:
        campaign = _campaign(s, world)
        campaign.status = "paused"
    with database.session() as s:
        assert reports.summary(s, campaign=_campaign(s, world), filters=Filters(), now=NOW).cost.next_run_at is None
    with database.write() as s:
        _campaign(s, world).status = "scheduled"
    with database.session() as s:
        assert reports.summary(s, campaign=_campaign(s, world), filters=Filters(), now=NOW).cost.next_run_at == T0


def test_custom_range_takes_counters_at_or_before_until(database, world):
    filters = Filters(range="custom", until=T0 + 30 * M)
    with database.session() as s:
        summary = reports.summary(s, campaign=_campaign(s, world), filters=filters, now=NOW)
        charts = reports.charts(s, campaign=_campaign(s, world), filters=filters, now=NOW)
    posts = {p.label: p for p in summary.posts}
    assert posts["influencer1"].likes == 15 and posts["main1"].likes == 100 and posts["main2"].likes == 0
    assert summary.totals.likes.value == 115 and summary.totals.likes.change == 5
    assert summary.totals.engagements.value == 6  # not the replies at +35/+36 min nor the quote at +40
    assert [p.at for p in charts.metrics] == [T0, T0 + 30 * M]
    # coverage under a custom until: what had been captured by then, against the counters then
    main1 = posts["main1"].coverage
    assert (main1.retweets_captured, main1.retweet_count, main1.quotes_captured, main1.quote_count) == (1, 1, 0, 0)


def test_metrics_chart_carries_each_posts_last_value_forward(database, world):
    with database.session() as s:
        charts = reports.charts(s, campaign=_campaign(s, world), filters=Filters(), now=NOW)
        main_only = reports.charts(s, campaign=_campaign(s, world), filters=Filters(categories=("main",)), now=NOW)
    assert [(p.at, p.likes) for p in charts.metrics] == [
        (T0, 110),                 # influencer1 10 + main1 100
        (T0 + 30 * M, 115),        # influencer1 15 + main1 still 100
        (T0 + 45 * M, 122),        # main2's only snapshot (no run): 7 more
        (T0 + 60 * M, 167)]        # influencer1 30 + main1 130 + main2 7
    assert [(p.at, p.likes, p.impressions) for p in main_only.metrics] == [
        (T0, 100, 1000), (T0 + 45 * M, 107, 1070), (T0 + 60 * M, 137, 1370)]


def test_importance_filter_drops_accounts_without_a_row(database, world):
    with database.session() as s:
        campaign = _campaign(s, world)
        everyone = reports.engagements(s, campaign=campaign, filters=Filters(min_importance=0), now=NOW)
        scored = reports.engagements(s, campaign=campaign, filters=Filters(min_importance=1), now=NOW)
        summary = reports.summary(s, campaign=campaign, filters=Filters(min_importance=5), now=NOW)
    assert everyone.total == 9 and scored.total == 6
    assert {r.username for r in scored.rows} == {"ann", "bob"}
    assert summary.totals.unique_accounts.value == 2 and summary.totals.high_importance_accounts.value == 1


def test_engagement_rows(database, world):
    with database.session() as s:
        page = reports.engagements(s, campaign=_campaign(s, world), filters=Filters(), now=NOW)
    rows = page.rows
    assert [(r.username, r.importance) for r in rows][:6] == [("ann", 30)] * 3 + [("bob", 5)] * 3
    assert [r.engaged_at for r in rows[:3]] == [T0 + 40 * M, T0 + 10 * M, T0 - 30 * M]
    # score 0 with or without a row: newest first
    assert [r.username for r in rows[6:]] == ["dan", "cat", "eve"]
    ann = rows[0]
    assert [(e.username, e.weight) for e in ann.seeds] == [("bigfund", 20), ("angel", 10)]
    assert ann.other_posts == [("main1", "retweet"), ("influencer1", "reply"), ("main1", "quote")]
    assert ann.posts_engaged == 2
    bob = rows[3]
    assert bob.other_posts == [("main2", "retweet"), ("main2", "reply")] and bob.posts_engaged == 1
    eve = rows[-1]
    assert eve.account_category == "vc" and eve.post_label == "influencer2"
    # dan's engagement in the other campaign is not listed
    assert rows[6].other_posts == [("influencer1", "retweet")]
    assert page.total == 9 and page.pages == 1


def test_pages_past_the_important_part(database, world):
    """Page 3 of 3-row pages starts after the 6 engagements of scored accounts: it is counted, not guessed."""
    with database.session() as s:
        campaign = _campaign(s, world)
        pages = [reports.engagements(s, campaign=campaign, filters=Filters(), now=NOW, page=n, per_page=3)
                 for n in (1, 2, 3, 4)]
        narrow = reports.engagements(s, campaign=campaign, filters=Filters(), now=NOW, account_id=world.accounts["bob"])
        one_post = reports.engagements(s, campaign=campaign, filters=Filters(), now=NOW, post_id=world.posts["main1"])
    assert [[r.username for r in p.rows] for p in pages] == [["ann"] * 3, ["bob"] * 3, ["dan", "cat", "eve"], []]
    assert pages[0].pages == 3
    assert narrow.total == 3 and one_post.total == 2


def test_hourly_timeline_in_utc(database, world):
    with database.session() as s:
        charts = reports.charts(s, campaign=_campaign(s, world), filters=Filters(), now=NOW)
    assert [(b.hour, b.retweets, b.replies, b.quotes) for b in charts.timeline] == [
        (T0 - timedelta(hours=1), 2, 0, 1), (T0, 2, 3, 1)]
    assert charts.account_categories == {"developer": 1, "investor": 1, "media": 1, "other": 1, "vc": 1}


@pytest.mark.parametrize("max_ranges", [16, 1], ids=["id ranges", "IN lists"])
def test_category_comparison(database, world, monkeypatch, max_ranges):
    """Posts map to categories by id ranges (the five posts here alternate: five runs) or, with more runs
    than MAX_RANGES, by IN lists — the same numbers either way."""
    monkeypatch.setattr(queries, "MAX_RANGES", max_ranges)
    with database.session() as s:
        comparison = reports.category_comparison(s, campaign=_campaign(s, world), filters=Filters(), now=NOW)
    cards = {c.category: c for c in comparison.cards}
    assert (cards["main"].posts, cards["main"].engagements, cards["main"].unique_accounts) == (2, 5, 2)
    assert (cards["influencer"].engagements, cards["influencer"].unique_accounts) == (3, 3)
    assert cards["influencer"].posts == 2 and cards["investor"].unique_accounts == 1
    assert sum(c.share_of_engagements for c in comparison.cards) == pytest.approx(1.0, abs=1e-3)
    assert sum(b.replies for b in comparison.timelines["main"]) == 2
    for category, card in cards.items():
        assert sum(b.retweets + b.replies + b.quotes for b in comparison.timelines[category]) == card.engagements


@pytest.mark.parametrize("max_ranges", [16, 1], ids=["id ranges", "IN lists"])
@pytest.mark.parametrize(("categories", "engagements", "accounts", "likes"), [
    (("main",), 5, 2, 137),                       # posts 2 and 4: two runs
    (("main", "investor"), 6, 3, 137),            # posts 2-4: one run
    (("influencer",), 3, 3, 30),                  # posts 1 and 5, at both ends
])
def test_post_category_filter(database, world, monkeypatch, max_ranges, categories, engagements, accounts, likes):
    monkeypatch.setattr(queries, "MAX_RANGES", max_ranges)
    filters = Filters(categories=categories)
    with database.session() as s:
        campaign = _campaign(s, world)
        summary = reports.summary(s, campaign=campaign, filters=filters, now=NOW)
        page = reports.engagements(s, campaign=campaign, filters=filters, now=NOW)
        charts = reports.charts(s, campaign=campaign, filters=filters, now=NOW)
    assert summary.totals.engagements.value == engagements == page.total
    assert summary.totals.unique_accounts.value == accounts == sum(charts.account_categories.values())
    assert summary.totals.likes.value == likes == (charts.metrics[-1].likes if charts.metrics else 0)
    assert {r.post_category for r in page.rows} == set(categories)


def test_account_detail(database, world):
    with database.session() as s:
        campaign = _campaign(s, world)
        bob = reports.account_detail(s, campaign=campaign, account_id=world.accounts["bob"])
        eve = reports.account_detail(s, campaign=campaign, account_id=world.accounts["eve"])
        with pytest.raises(LookupError):
            reports.account_detail(s, campaign=campaign, account_id=999)
    assert bob.importance == 5 and bob.seeds == [] and bob.suspicion == [{"flag": "new", "reason": "created yesterday"}]
    assert [(e.post_label, e.action) for e in bob.engagements] == [("main2", "retweet"), ("main2", "reply"),
                                                                   ("main2", "reply")]
    assert eve.account_category == "vc" and eve.category_evidence == "seed list" and eve.importance == 0


def test_account_and_post_of_another_campaign_are_not_found(database, world):
    with database.session() as s:
        other = s.scalar(select(Campaign).where(Campaign.name == "Other"))
        with pytest.raises(LookupError):
            reports.account_detail(s, campaign=other, account_id=world.accounts["ann"])
        with pytest.raises(LookupError):
            reports.post_detail(s, campaign=_campaign(s, world), post_id=world.other_campaign_post,
                                filters=Filters(), now=NOW)


def test_post_detail(database, world):
    with database.session() as s:
        detail = reports.post_detail(s, campaign=_campaign(s, world), post_id=world.posts["main1"],
                                     filters=Filters(actions=("retweet", "quote")), now=NOW)
    assert detail.post.label == "main1" and detail.post.engagements == 2
    assert [(p.at, p.likes) for p in detail.metrics] == [(T0, 100), (T0 + 60 * M, 130)]
    assert detail.engagers.total == 2 and {r.action for r in detail.engagers.rows} == {"retweet", "quote"}
    assert sum(b.retweets + b.quotes for b in detail.timeline) == 2


def test_empty_category_selection(database, world):
    with database.write() as s:
        s.query(CampaignTweet).filter(CampaignTweet.category == "investor").delete()
    with database.session() as s:
        campaign = _campaign(s, world)
        summary = reports.summary(s, campaign=campaign, filters=Filters(categories=("investor",)), now=NOW)
        page = reports.engagements(s, campaign=campaign, filters=Filters(categories=("investor",)), now=NOW)
        charts = reports.charts(s, campaign=campaign, filters=Filters(categories=("investor",)), now=NOW)
    assert summary.posts == [] and summary.categories == [] and summary.totals.engagements.value == 0
    assert page.total == 0 and page.rows == [] and page.pages == 1
    assert charts.metrics == [] and charts.timeline == [] and charts.account_categories == {}


def test_reports_leave_the_sessions_settings_as_they_were(database, world):
    """On PostgreSQL the reports change planner settings for their own queries only."""
    probe = text("SELECT current_setting('random_page_cost'), current_setting('jit')")
    with database.session() as s:
        before = s.execute(probe).one() if database.dialect == "postgresql" else None
        reports.summary(s, campaign=_campaign(s, world), filters=Filters(), now=NOW)
        reports.engagements(s, campaign=_campaign(s, world), filters=Filters(), now=NOW)
        if before is not None:
            assert s.execute(probe).one() == before

