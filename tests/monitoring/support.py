"""Helpers for engine tests: create a scenario's campaign, read back what SOCAP stored, read the truth."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import httpx
from sqlalchemy import event, select

from socap.auth.models import Workspace
from socap.campaigns import service as campaign_service
from socap.campaigns.models import Campaign, CampaignTweet
from socap.campaigns.schemas import CampaignInput
from socap.clock import format_instant
from socap.monitoring.engine import build_queue
from socap.monitoring.models import Engagement, MetricSnapshot


def create_campaign(rt, scenario, **changes) -> int:
    data = CampaignInput.from_spec(scenario.campaign_spec(), starts_at=scenario.build_world().start, **changes)
    with rt.x_client() as client:
        return campaign_service.create(rt.db, client, rt.clock, data)[0]


def one_post_campaign(database, *, start: datetime, post_id: int, name: str = "c") -> tuple[int, int]:
    """(campaign id, campaign_tweet id) of a new active one-post campaign, a day long, in a new workspace."""
    with database.write() as s:
        workspace = Workspace(name=name, created_at=start)
        s.add(workspace)
        s.flush()
        campaign = Campaign(workspace_id=workspace.id, name=name, status="active", starts_at=start,
                            ends_at=start + timedelta(days=1), alert_threshold=10, alert_spacing_minutes=20,
                            poll_interval_minutes=30, notify_urls=[], data_version=0, created_at=start)
        s.add(campaign)
        s.flush()
        tweet = CampaignTweet(campaign_id=campaign.id, tweet_id=post_id, url=f"https://x.com/a/status/{post_id}",
                              category="main", author_id=1, author_username="a", text="launch",
                              conversation_id=post_id, tweet_created_at=start, added_at=start)
        s.add(tweet)
        s.flush()
        return campaign.id, tweet.id


@contextmanager
def selects(database, keep: Callable[[str], bool] = lambda sql: True) -> Iterator[list[str]]:
    """The SELECTs (those ``keep`` accepts) the database runs through SQLAlchemy meanwhile, observed with its
    own cursor event (SQLite's driver-level ingest statements, socap.db.driver_execute, are not among them)."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        if statement.lstrip().upper().startswith("SELECT") and keep(statement):
            seen.append(statement)

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", record)


def memory_queue(rt):
    return build_queue(rt, url="memory:")


def stored_engagements(rt, campaign_id: int) -> list[tuple[str, str, str]]:
    with rt.db.session() as s:
        rows = s.execute(select(CampaignTweet.tweet_id, Engagement.action, Engagement.source_tweet_id)
                         .join(CampaignTweet, CampaignTweet.id == Engagement.campaign_tweet_id)
                         .where(Engagement.campaign_id == campaign_id)).all()
    return [(str(t), a, str(src)) for t, a, src in rows]


def truth(server, at: datetime | None = None) -> dict:
    params = {"at": format_instant(at)} if at else {}
    return httpx.get(server.url + "/_sim/truth", params=params, timeout=30).json()


def capturable(truth_body: dict) -> set[tuple[str, str, str]]:
    """What a perfect poller can see: direct, visible engagements with the campaign's posts."""
    return {(e["post_id"], e["action"], e["source_tweet_id"]) for e in truth_body["engagements"]
            if e["direct"] and e["visible"]}


def latest_metrics(rt, campaign_id: int) -> dict[str, dict]:
    with rt.db.session() as s:
        rows = s.execute(select(CampaignTweet.tweet_id, MetricSnapshot)
                         .join(CampaignTweet, CampaignTweet.id == MetricSnapshot.campaign_tweet_id)
                         .where(MetricSnapshot.campaign_id == campaign_id)
                         .order_by(MetricSnapshot.taken_at, MetricSnapshot.id)).all()
    out: dict[str, dict] = {}
    for tweet_id, snap in rows:
        out[str(tweet_id)] = {"like_count": snap.like_count, "retweet_count": snap.retweet_count,
                              "reply_count": snap.reply_count, "quote_count": snap.quote_count,
                              "impression_count": snap.impression_count, "bookmark_count": snap.bookmark_count}
    return out


def usage(server) -> dict:
    return httpx.get(server.url + "/_sim/usage", timeout=30).json()
