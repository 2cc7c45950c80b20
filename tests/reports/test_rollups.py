"""The dashboard's roll-ups (post_tally, run_tally, campaign_account, account_tally) say what counting the
engagement table says: at every checkpoint of a played campaign, after a rebuild, and when the same page is
ingested twice."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from socap.monitoring.models import Engagement
from socap.reports import rollup
from socap.reports.models import AccountTally, CampaignAccount, PostTally, RunTally
from socap.reports.queries import Scope, load_posts
from socap.reports.schemas import Filters
from tests.reports.conftest import TALLIED_FILTERS


@pytest.mark.parametrize("checkpoint", ["first", "h2", "end"])
def test_summary_from_rollups_equals_the_count_over_engagements(played, checkpoint):
    checks = played.rollup_checks[checkpoint]
    assert [f for f, _, _ in checks] == TALLIED_FILTERS
    for filters, tallied, counted in checks:
        assert tallied == counted, filters
    unfiltered = checks[0][1]
    assert sum(unfiltered["account_categories"].values()) == unfiltered["totals"]["unique_accounts"]["value"]
    assert unfiltered["totals"]["engagements"]["value"] > 0
    assert unfiltered["totals"]["unique_accounts"]["value"] > 0
    if checkpoint == "h2":  # the run at D1 H2 found one more retweet of the main post: a change to show
        assert unfiltered["totals"]["engagements"]["change"] >= 1


def _rollup_rows(session, campaign_id):
    return (sorted(session.execute(select(PostTally.campaign_tweet_id, PostTally.action, PostTally.n)
                                   .where(PostTally.campaign_id == campaign_id)).all()),
            sorted(session.execute(select(RunTally.campaign_tweet_id, RunTally.action, RunTally.run_id, RunTally.n)
                                   .where(RunTally.campaign_id == campaign_id)).all()),
            sorted(session.execute(select(CampaignAccount.account_id, CampaignAccount.first_main,
                                          CampaignAccount.first_influencer, CampaignAccount.first_investor)
                                   .where(CampaignAccount.campaign_id == campaign_id)).all()),
            sorted(row for row in session.execute(select(AccountTally.scope, AccountTally.run_id, AccountTally.n)
                                                  .where(AccountTally.campaign_id == campaign_id)).all() if row[2]))


def test_rebuild_from_the_engagements_gives_what_the_ingest_kept(played):
    with played.rt.db.session() as s:
        kept = _rollup_rows(s, played.campaign_id)
        engagements = s.scalar(select(func.count()).select_from(Engagement)
                               .where(Engagement.campaign_id == played.campaign_id))
        accounts = s.scalar(select(func.count(func.distinct(Engagement.account_id)))
                            .where(Engagement.campaign_id == played.campaign_id))
    assert sum(n for _, _, n in kept[0]) == engagements == sum(n for *_, n in kept[1])
    assert len(kept[2]) == accounts == sum(n for scope, _, n in kept[3] if scope == "any")
    with played.rt.db.write() as s:
        rollup.rebuild(s, campaign_id=played.campaign_id)
    with played.rt.db.session() as s:
        assert _rollup_rows(s, played.campaign_id) == kept


def test_only_whole_post_views_without_action_time_or_importance_filters_use_the_rollups(played):
    with played.rt.db.session() as s:
        campaign = played.campaign(s)
        posts = load_posts(s, campaign_id=campaign.id)
    now = played.rt.clock.now()

    def scope(filters, **kw):
        return Scope(campaign=campaign, filters=filters.resolve(now), now=now, posts=posts, dialect="sqlite", **kw)

    assert scope(Filters()).tallied()
    assert scope(Filters(categories=["influencer"])).tallied()
    assert scope(Filters(actions=["retweet", "reply", "quote"])).tallied()
    assert not scope(Filters(actions=["retweet"])).tallied()
    assert scope(Filters(actions=["retweet"])).tallied(actions=False)
    assert not scope(Filters(min_importance=1)).tallied()
    assert not scope(Filters(range="24h")).tallied()
    assert not scope(Filters(), post_id=posts[0].id).tallied()
    assert not scope(Filters(), account_id=1).tallied()


def test_accounts_and_high_in_one_pass_equal_the_two_statements(played):
    """The summary's one-pass unique/high-importance accounts (the roll-up's rows or the filtered engagements'
    per-account groups, LEFT JOIN importance) say what per_account and high_importance_accounts say, filtered
    or not, at any threshold, with or without a run."""
    from socap.reports import queries

    with played.rt.db.session() as s:
        campaign = played.campaign(s)
        posts = load_posts(s, campaign_id=campaign.id)
        run = queries.latest_finished_run(s, campaign_id=campaign.id)
        now = played.rt.clock.now()
        seen_high = False
        for filters in [*TALLIED_FILTERS, Filters(actions=["retweet"]), Filters(min_importance=1),
                        Filters(categories=["influencer"], actions=["reply", "quote"]), Filters(range="24h"),
                        Filters(categories=["main"], range="all", min_importance=2)]:
            scope = Scope(campaign=campaign, filters=filters.resolve(now), now=now, posts=posts,
                          dialect=s.get_bind().dialect.name)
            for threshold in (0, 1, campaign.alert_threshold, 10_000):
                for run_id in (run.id, None):
                    both = queries.accounts_and_high(s, scope, threshold=threshold, run_id=run_id)
                    assert both == (queries.per_account(s, scope, run_id=run_id),
                                    queries.high_importance_accounts(s, scope, threshold=threshold,
                                                                     run_id=run_id)), (filters, threshold, run_id)
                    seen_high = seen_high or bool(both[1] and both[1][0])
    assert seen_high  # some engager scores above a threshold: the join is exercised, not only its zeros


def test_latest_snapshots_are_each_posts_last_two_at_or_before_until(played):
    from socap.monitoring.models import MetricSnapshot
    from socap.reports import queries

    with played.rt.db.session() as s:
        posts = [p.id for p in load_posts(s, campaign_id=played.campaign_id)]
        rows = s.execute(select(MetricSnapshot).where(MetricSnapshot.campaign_id == played.campaign_id)
                         .order_by(MetricSnapshot.taken_at, MetricSnapshot.id)).scalars().all()
        instants = sorted({r.taken_at for r in rows})
        assert len(instants) > 2
        for until in (None, instants[0], instants[1], instants[len(instants) // 2], instants[-1],
                      instants[0] - (instants[1] - instants[0])):
            expected = {}
            for post in posts:
                mine = [r for r in rows if r.campaign_tweet_id == post and (until is None or r.taken_at <= until)]
                if mine:
                    def snap(r):
                        return queries.Snapshot(r.taken_at, {c: int(getattr(r, c) or 0) for c in queries.COUNTERS})
                    expected[post] = (snap(mine[-1]), snap(mine[-2]) if len(mine) > 1 else None)
            assert queries.latest_snapshots(s, post_ids=posts, until=until) == expected, until
            assert queries.latest_snapshots(s, post_ids=posts[:1], until=until) == \
                {k: v for k, v in expected.items() if k == posts[0]}


def test_engagement_list_total_from_the_rollups_equals_the_count(played):
    """The engagement list's total comes from post_tally where the roll-ups answer; every page says what it
    says when counted over the engagement table."""
    from socap.reports import queries
    from socap.reports import service as reports

    now = played.rt.clock.now()
    with played.rt.db.session() as s:
        campaign = played.campaign(s)
        for filters in [*TALLIED_FILTERS, Filters(actions=["reply"]), Filters(min_importance=1),
                        Filters(categories=["investor"], range="24h")]:
            for page in (1, 2):
                tallied = reports.engagements(s, campaign=campaign, filters=filters, now=now, page=page, per_page=3)
                queries.USE_ROLLUPS = False
                try:
                    counted = reports.engagements(s, campaign=campaign, filters=filters, now=now, page=page,
                                                  per_page=3)
                finally:
                    queries.USE_ROLLUPS = True
                assert tallied.model_dump() == counted.model_dump(), (filters, page)
        everything = reports.engagements(s, campaign=campaign, filters=Filters(), now=now)
        assert everything.total == s.scalar(select(func.count()).select_from(Engagement)
                                            .where(Engagement.campaign_id == played.campaign_id)) > 0


def test_category_comparison_of_one_category_with_an_importance_filter(played):
    """One post category and an importance filter: the per-account pass's mask names no column (a constant
    category, no run), and it still counts (it used to fail to build its importance join)."""
    from socap.campaigns.models import CampaignTweet
    from socap.importance.models import AccountImportance
    from socap.reports import service as reports

    now = played.rt.clock.now()
    with played.rt.db.session() as s:
        campaign = played.campaign(s)
        comparison = reports.category_comparison(s, campaign=campaign, now=now,
                                                 filters=Filters(categories=["main"], min_importance=1))
        expected = s.scalar(
            select(func.count(func.distinct(Engagement.account_id)))
            .join(CampaignTweet, CampaignTweet.id == Engagement.campaign_tweet_id)
            .join(AccountImportance, (AccountImportance.account_id == Engagement.account_id)
                  & (AccountImportance.workspace_id == campaign.workspace_id) & (AccountImportance.score >= 1))
            .where(Engagement.campaign_id == campaign.id, CampaignTweet.category == "main"))
    assert [c.category for c in comparison.cards] == ["main"]
    assert comparison.cards[0].unique_accounts == expected > 0


def test_summary_with_account_counts_on_a_second_connection_says_the_same(played):
    """The web views' concurrent summary (on PostgreSQL the account counts run on another connection meanwhile)
    equals the one-connection summary, unfiltered, by category and filtered."""
    import functools

    from socap.reports import queries, service

    with played.rt.db.session() as s:
        if s.get_bind().dialect.name != "postgresql":
            pytest.skip("PostgreSQL only: on SQLite the summary always runs on one connection")
        campaign = played.campaign(s)
        scope = Scope(campaign=campaign, filters=Filters().resolve(played.rt.clock.now()),
                      now=played.rt.clock.now(), posts=load_posts(s, campaign_id=campaign.id), dialect="postgresql")
        later = queries.accounts_and_high_later(s, scope, threshold=campaign.alert_threshold, run_id=None,
                                                concurrent=True)
        assert not isinstance(later, functools.partial)  # handed to the pool, not run here
        assert later() == queries.accounts_and_high(s, scope, threshold=campaign.alert_threshold, run_id=None)
    now = played.rt.clock.now()
    for filters in (Filters(), Filters(categories=["influencer"]), Filters(actions=["retweet"], min_importance=1)):
        with played.rt.db.session() as s:
            campaign = played.campaign(s)
            alone = service.summary(s, campaign=campaign, filters=filters, now=now)
            together = service.summary(s, campaign=campaign, filters=filters, now=now, concurrent=True)
        assert together == alone, filters
        assert together.totals.unique_accounts.value > 0
