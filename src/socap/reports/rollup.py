"""The dashboard's roll-ups (socap.reports.models: PostTally, RunTally, CampaignAccount), kept by the ingest.

:func:`record` runs inside the ingest transaction with the engagements that were really inserted (never a
duplicate), so the roll-ups always equal what a count over the engagement table gives; :func:`rebuild`
recomputes a campaign's from its engagements (for rows written any other way, e.g. a bulk load).
Every statement is one multi-row upsert; the ingest has already locked the campaign row (its data-version
bump), so one campaign's transactions update its roll-ups one at a time.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import case, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from socap.campaigns.models import CampaignTweet
from socap.monitoring.models import Engagement
from socap.reports.models import CampaignAccount, PostTally, RunTally

FIRST_COLUMN = {"main": "first_main", "influencer": "first_influencer", "investor": "first_investor"}


def _insert(session: Session, model):
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"roll-ups need PostgreSQL or SQLite, not {dialect}")


def record(session: Session, *, campaign_id: int, campaign_tweet_id: int, category: str, action: str,
           run_id: int | None, account_ids: Sequence[int]) -> None:
    """Count newly inserted engagements of one post and action, found by one run, by these accounts (one
    id per engagement: an account that replied twice is listed twice)."""
    n = len(account_ids)
    accounts = sorted(set(account_ids))  # one lock order for every writer
    if not accounts:
        return
    run = run_id or 0
    tally = _insert(session, PostTally).values(campaign_tweet_id=campaign_tweet_id, action=action,
                                               campaign_id=campaign_id, n=n)
    session.execute(tally.on_conflict_do_update(index_elements=["campaign_tweet_id", "action"],
                                                set_={"n": PostTally.n + tally.excluded.n}))
    per_run = _insert(session, RunTally).values(campaign_tweet_id=campaign_tweet_id, action=action, run_id=run,
                                                campaign_id=campaign_id, n=n)
    session.execute(per_run.on_conflict_do_update(index_elements=["campaign_tweet_id", "action", "run_id"],
                                                  set_={"n": RunTally.n + per_run.excluded.n}))
    column = FIRST_COLUMN[category]
    stored = getattr(CampaignAccount, column)
    upsert = _insert(session, CampaignAccount).values(
        [{"campaign_id": campaign_id, "account_id": a, column: run} for a in accounts])
    new = getattr(upsert.excluded, column)
    # the earliest run per category; runs only grow, so a later ingest keeps the stored value
    session.execute(upsert.on_conflict_do_update(
        index_elements=["campaign_id", "account_id"],
        set_={column: case((stored.is_(None), new), (new < stored, new), else_=stored)}))


def rebuild(session: Session, *, campaign_id: int) -> None:
    """Recompute one campaign's roll-ups from its engagements."""
    for model in (PostTally, RunTally, CampaignAccount):
        session.execute(delete(model).where(model.campaign_id == campaign_id))
    e = Engagement
    session.execute(insert(PostTally).from_select(
        ["campaign_tweet_id", "action", "campaign_id", "n"],
        select(e.campaign_tweet_id, e.action, func.min(e.campaign_id), func.count())
        .where(e.campaign_id == campaign_id).group_by(e.campaign_tweet_id, e.action)))
    run = func.coalesce(e.run_id, 0)
    session.execute(insert(RunTally).from_select(
        ["campaign_tweet_id", "action", "run_id", "campaign_id", "n"],
        select(e.campaign_tweet_id, e.action, run, func.min(e.campaign_id), func.count())
        .where(e.campaign_id == campaign_id).group_by(e.campaign_tweet_id, e.action, run)))
    firsts = [func.min(case((CampaignTweet.category == category, run))) for category in FIRST_COLUMN]
    session.execute(insert(CampaignAccount).from_select(
        ["campaign_id", "account_id", *FIRST_COLUMN.values()],
        select(e.campaign_id, e.account_id, *firsts).join(CampaignTweet, CampaignTweet.id == e.campaign_tweet_id)
        .where(e.campaign_id == campaign_id).group_by(e.campaign_id, e.account_id)))
