"""The reports on scenario 1 played on the engine, checked against the simulator's ground truth."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from socap.campaigns.models import CampaignTweet
from socap.importance.models import AccountImportance
from socap.monitoring.models import Engagement, Run
from socap.reports import service as reports
from socap.reports.schemas import PAGE_SIZE, Filters

from .conftest import SCENARIO, captured, expected

WORLD = SCENARIO.build_world()
START, END = WORLD.start, WORLD.end
THRESHOLD = 10


def metrics_sum(body: dict, field: str, categories=()) -> int:
    return sum(p["public_metrics"][field] for p in body["posts"] if not categories or p["category"] in categories)


def test_final_totals_equal_the_truth(played):
    s = played.checkpoints["end"]["summary"]
    body = played.truth(END)
    rows = captured(body)
    t = s.totals
    assert t.engagements.value == len(rows) == 120
    assert (t.retweets.value, t.replies.value, t.quotes.value) == (85, 23, 12)
    assert t.unique_accounts.value == len({r["account_id"] for r in rows}) == 95
    assert t.high_importance_accounts.value == len(body["summary"]["important_accounts"]) == 5
    assert t.likes.value == metrics_sum(body, "like_count") == 1500
    assert t.retweet_count.value == metrics_sum(body, "retweet_count")
    assert t.reply_count.value == metrics_sum(body, "reply_count")
    assert t.quote_count.value == metrics_sum(body, "quote_count")
    assert t.impressions.value == metrics_sum(body, "impression_count")
    assert s.coverage.ratio == 1.0 and s.coverage.retweets_captured == s.coverage.retweet_count == 85
    assert s.data_version > 0 and s.filters == Filters().resolve(played.checkpoints["end"]["now"])


def test_category_cards_and_posts(played):
    s = played.checkpoints["end"]["summary"]
    body = played.truth(END)
    rows = captured(body)
    assert [c.category for c in s.categories] == ["main", "influencer", "investor"]
    for card in s.categories:
        mine = [r for r in rows if r["category"] == card.category]
        by_action = Counter(r["action"] for r in mine)
        assert (card.posts, card.engagements) == (1, len(mine))
        assert (card.retweets, card.replies, card.quotes) == (by_action["retweet"], by_action["reply"],
                                                              by_action["quote"])
        assert card.unique_accounts == len({r["account_id"] for r in mine})
        assert card.likes == metrics_sum(body, "like_count", [card.category])
        assert card.share_of_engagements == round(len(mine) / len(rows), 4)
    posts = {p["id"]: p for p in body["posts"]}
    assert [p.label for p in s.posts] == ["main", "influencer1", "investor1"]
    for post in s.posts:
        truth_post = posts[post.tweet_id]
        assert post.likes == truth_post["public_metrics"]["like_count"] and post.url == truth_post["url"]
        assert post.engagements == len([r for r in rows if r["post_id"] == post.tweet_id])
        assert post.coverage.ratio == 1.0
        assert post.metrics_at is not None and post.blocked_until is None and post.last_error is None
    assert s.cost.runs > 100 and s.cost.calls == sum(s.cost.calls_by_endpoint.values())
    assert s.cost.next_run_at is None  # completed


def test_first_run_is_all_change_and_counters_have_no_previous_snapshot(played):
    t = played.checkpoints["first"]["summary"].totals
    assert (t.engagements.value, t.engagements.change) == (42, 42)
    assert (t.retweets.value, t.replies.value, t.quotes.value) == (27, 12, 3)
    assert t.unique_accounts.change == t.unique_accounts.value == 31
    assert t.likes.value == 280 and t.likes.change is None


def test_change_since_the_previous_run_at_d1_h2(played):
    """The run at H2 against the run at H1M30: engagements from the truth, counters from X's metrics."""
    t = played.checkpoints["h2"]["summary"].totals
    before, after = played.truth(START + timedelta(minutes=90)), played.truth(START + timedelta(hours=2))
    rows_before, rows_after = captured(before), captured(after)
    assert t.engagements.value == len(rows_after)
    assert t.engagements.change == len(rows_after) - len(rows_before) == 1  # the developer's retweet at H1M47
    assert t.retweets.change == 1 and t.replies.change == 0 and t.quotes.change == 0
    assert t.unique_accounts.change == (len({r["account_id"] for r in rows_after})
                                        - len({r["account_id"] for r in rows_before}))
    assert t.high_importance_accounts.value == 1 and t.high_importance_accounts.change == 0  # @johnvc at H1M30
    for name, field in (("likes", "like_count"), ("retweet_count", "retweet_count"),
                        ("impressions", "impression_count")):
        delta = getattr(t, name)
        assert delta.value == metrics_sum(after, field)
        assert delta.change == metrics_sum(after, field) - metrics_sum(before, field)


FILTER_CASES = {
    "influencer retweets": dict(categories=("influencer",), actions=("retweet",)),
    "important": dict(min_importance=10),
    "spec example": dict(categories=("influencer",), actions=("retweet",), min_importance=21, range="today"),
    "influencer quotes by importance >= 21": dict(categories=("influencer",), actions=("quote",),
                                                  min_importance=21),
    "investor posts, important, custom day 2": dict(categories=("investor",), min_importance=12, range="custom",
                                                    since=START + timedelta(days=1),
                                                    until=START + timedelta(hours=36)),
    "replies and quotes today": dict(actions=("reply", "quote"), range="today"),
    "main and investor, last 24h": dict(categories=("main", "investor"), range="24h"),
}


@pytest.mark.parametrize("case", list(FILTER_CASES))
def test_filters_combine_in_totals_list_and_charts(played, case):
    spec = FILTER_CASES[case]
    filters = Filters(**spec)
    with played.rt.db.session() as s:
        campaign = played.campaign(s)
        now = played.rt.clock.now()
        resolved = filters.resolve(now)
        summary = reports.summary(s, campaign=campaign, filters=filters, now=now)
        charts = reports.charts(s, campaign=campaign, filters=filters, now=now)
        page = reports.engagements(s, campaign=campaign, filters=filters, now=now)
    want = expected(captured(played.truth(END)), categories=filters.categories, actions=filters.actions,
                    min_importance=filters.min_importance or 0, since=resolved.since, until=resolved.until)
    by_action = Counter(r["action"] for r in want)
    t = summary.totals
    assert t.engagements.value == len(want) == page.total
    assert (t.retweets.value, t.replies.value, t.quotes.value) == (by_action["retweet"], by_action["reply"],
                                                                   by_action["quote"])
    accounts = {r["account_id"] for r in want}
    assert t.unique_accounts.value == len(accounts) == sum(charts.account_categories.values())
    assert t.high_importance_accounts.value == len({r["account_id"] for r in want if r["importance"] >= THRESHOLD})
    assert sum(b.retweets for b in charts.timeline) == by_action["retweet"]
    assert sum(b.replies + b.quotes for b in charts.timeline) == by_action["reply"] + by_action["quote"]
    assert sorted(r.engagement_id for r in page.rows) == sorted(r.engagement_id for r in page.rows)
    assert {int(r.account_id) for r in page.rows} <= {int(a) for a in accounts}
    assert all(r.importance >= (filters.min_importance or 0) for r in page.rows)
    assert all(resolved.since is None or r.engaged_at >= resolved.since for r in page.rows)
    assert [p.category for p in summary.posts] == [c for c in ("main", "influencer", "investor")
                                                   if not filters.categories or c in filters.categories]
    # X's counters take the post categories and (for a range in the past) the snapshot at or before until
    at = min(resolved.until, END) if resolved.until is not None else END
    assert t.likes.value == metrics_sum(played.truth(at), "like_count", filters.categories)
    if charts.metrics:
        assert charts.metrics[-1].likes == t.likes.value
        assert all(resolved.since is None or p.at >= resolved.since for p in charts.metrics)


def test_the_spec_example_is_not_vacuous_here(played):
    """Scenario 1 has no retweet of the influencer post by an account of importance 21+, so the spec's
    combined filter must come back empty — while its quote by @techfounder (22) is found."""
    with played.rt.db.session() as s:
        campaign = played.campaign(s)
        now = played.rt.clock.now()
        quotes = reports.engagements(s, campaign=campaign, now=now, filters=Filters(
            categories=("influencer",), actions=("quote",), min_importance=21))
    assert [(r.username, r.importance, r.post_label) for r in quotes.rows] == [("techfounder", 22, "influencer1")]


def _all_rows(played, per_page: int, filters: Filters = Filters()):
    with played.rt.db.session() as s:
        campaign = played.campaign(s)
        now = played.rt.clock.now()
        first = reports.engagements(s, campaign=campaign, filters=filters, now=now, per_page=per_page)
        pages = [first] + [reports.engagements(s, campaign=campaign, filters=filters, now=now, per_page=per_page,
                                               page=n) for n in range(2, first.pages + 2)]
    return first, pages


def _expected_order(played) -> list[int]:
    with played.rt.db.session() as s:
        scores = dict(s.execute(select(AccountImportance.account_id, AccountImportance.score)
                                .where(AccountImportance.workspace_id == played.workspace_id)).all())
        rows = s.execute(select(Engagement.id, Engagement.account_id, Engagement.engaged_at)
                         .where(Engagement.campaign_id == played.campaign_id)).all()
    rows.sort(key=lambda r: (-scores.get(r.account_id, 0), -r.engaged_at.timestamp(), -r.id))
    return [r.id for r in rows]


def test_engagement_list_pages_of_50_in_importance_order(played):
    first, pages = _all_rows(played, PAGE_SIZE)
    assert (first.total, first.pages, first.per_page) == (120, 3, 50)
    assert [len(p.rows) for p in pages] == [50, 50, 20, 0]
    assert [r.engagement_id for p in pages for r in p.rows] == _expected_order(played)
    top = [(r.username, r.importance) for r in first.rows[:5]]
    # equal importance: the newer engagement first (the VC's on day 2 before @johnvc's on day 1)
    assert top == [("techfounder", 22), ("venturecapital1", 18), ("venturecapital2", 15), ("johnvc", 15),
                   ("venturecapital3", 12)]


@pytest.mark.parametrize("per_page", [1, 4, 7, 13])
def test_pages_that_straddle_important_and_ordinary_accounts(played, per_page):
    first, pages = _all_rows(played, per_page)
    ids = [r.engagement_id for p in pages for r in p.rows]
    assert ids == _expected_order(played) and first.total == 120


def test_rows_carry_seeds_labels_and_every_post_the_account_engaged(played):
    first, pages = _all_rows(played, PAGE_SIZE)
    rows = [r for p in pages for r in p.rows]
    founder = rows[0]
    assert founder.seeds and sum(s.weight for s in founder.seeds) == founder.importance == 22
    assert [s.weight for s in founder.seeds] == sorted((s.weight for s in founder.seeds), reverse=True)
    assert founder.account_category == "founder" and founder.action == "quote"
    body = played.truth(END)
    per_account: dict[str, list[dict]] = {}
    for r in sorted(captured(body), key=lambda r: r["at"]):
        per_account.setdefault(r["account_id"], []).append(r)
    label = {"main": "main", "influencer": "influencer1", "investor": "investor1"}
    twice = [a for a, rs in per_account.items() if len({r["post_id"] for r in rs}) > 1]
    assert twice, "scenario 1 has accounts engaging with two posts"
    for row in rows:
        mine = per_account[row.account_id]
        assert row.posts_engaged == len({r["post_id"] for r in mine})
        assert row.other_posts == list(dict.fromkeys((label[r["category"]], r["action"]) for r in mine))
    assert any(r.posts_engaged == 2 and len(r.other_posts) == 2 for r in rows)


def test_charts_add_up_to_the_totals(played):
    s, charts = played.checkpoints["end"]["summary"], played.checkpoints["end"]["charts"]
    assert sum(b.retweets for b in charts.timeline) == s.totals.retweets.value
    assert sum(b.replies for b in charts.timeline) == s.totals.replies.value
    assert sum(b.quotes for b in charts.timeline) == s.totals.quotes.value
    assert all(b.hour.minute == 0 and b.hour.second == 0 for b in charts.timeline)
    assert [b.hour for b in charts.timeline] == sorted({b.hour for b in charts.timeline})
    last = charts.metrics[-1]
    assert (last.likes, last.retweets, last.replies, last.quotes, last.impressions) == (
        s.totals.likes.value, s.totals.retweet_count.value, s.totals.reply_count.value, s.totals.quote_count.value,
        s.totals.impressions.value)
    with played.rt.db.session() as db:
        polls = db.scalar(select(Run.id).where(Run.campaign_id == played.campaign_id).order_by(Run.id.desc()))
        runs = db.scalars(select(Run.id).where(Run.campaign_id == played.campaign_id)).all()
    assert polls and len(charts.metrics) <= len(runs)
    assert all(a.at < b.at and a.likes <= b.likes for a, b in zip(charts.metrics, charts.metrics[1:], strict=False))
    # at D2 H12 the likes are the truth's at that poll
    d2h12 = next(p for p in charts.metrics if p.at == START + timedelta(hours=36))
    assert d2h12.likes == metrics_sum(played.truth(START + timedelta(hours=36)), "like_count")
    mix = dict(played.truth(END)["summary"]["category_mix"])
    pie = dict(charts.account_categories)
    pie["investor"] = pie.get("investor", 0) + pie.pop("vc", 0)  # the spec counts VCs as investors
    assert pie == mix == {"developer": 15, "founder": 3, "investor": 8, "media": 5, "other": 64}


def test_account_detail(played):
    body = played.truth(END)
    johnvc = next(a for a in body["accounts"] if a["username"] == "johnvc")
    with played.rt.db.session() as s:
        campaign = played.campaign(s)
        detail = reports.account_detail(s, campaign=campaign, account_id=int(johnvc["id"]))
        with pytest.raises(LookupError):
            reports.account_detail(s, campaign=campaign, account_id=42)
    assert (detail.username, detail.importance, detail.account_category) == ("johnvc", 15, "investor")
    assert sum(e.weight for e in detail.seeds) == 15 and detail.category_evidence
    assert [(e.post_label, e.action) for e in detail.engagements] == [("main", "retweet")]


def test_post_detail_and_category_comparison(played):
    body = played.truth(END)
    rows = captured(body)
    with played.rt.db.session() as s:
        campaign = played.campaign(s)
        now = played.rt.clock.now()
        main = s.scalar(select(CampaignTweet).where(CampaignTweet.campaign_id == campaign.id,
                                                    CampaignTweet.category == "main"))
        # the post-category filter does not hide the post itself
        detail = reports.post_detail(s, campaign=campaign, post_id=main.id, now=now,
                                     filters=Filters(categories=("investor",), actions=("retweet",)))
        with pytest.raises(LookupError):
            reports.post_detail(s, campaign=campaign, post_id=main.id + 1000, filters=Filters(), now=now)
        comparison = reports.category_comparison(s, campaign=campaign, filters=Filters(), now=now)
    main_retweets = [r for r in rows if r["category"] == "main" and r["action"] == "retweet"]
    assert detail.post.label == "main" and detail.post.engagements == len(main_retweets) == detail.engagers.total
    assert {r.post_label for r in detail.engagers.rows} == {"main"}
    assert sum(b.retweets for b in detail.timeline) == len(main_retweets)
    assert detail.metrics[-1].likes == 520 and detail.post.coverage.ratio == 1.0
    assert comparison.cards == played.checkpoints["end"]["summary"].categories
    for card in comparison.cards:
        buckets = comparison.timelines[card.category]
        assert sum(b.retweets + b.replies + b.quotes for b in buckets) == card.engagements
