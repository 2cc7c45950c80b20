"""The dashboard's roll-ups (socap.reports.models: PostTally, RunTally, CampaignAccount), kept by the ingest.

:func:`record` runs inside the ingest transaction with the engagements that were really inserted (never a
duplicate), so the roll-ups always equal what a count over the engagement table gives; :func:`rebuild`
recomputes a campaign's from its engagements (for rows written any other way, e.g. a bulk load).
Every statement is one multi-row upsert (on PostgreSQL the three of :func:`record` go as one statement, one
round trip); the ingest has already locked the campaign row (its data-version bump), so one campaign's
transactions update its roll-ups one at a time.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import case, delete, func, insert, select
from sqlalchemy.orm import Session

from socap.campaigns.models import CampaignTweet
from socap.db import upsert
from socap.monitoring.models import Engagement
from socap.reports.models import CampaignAccount, PostTally, RunTally

FIRST_COLUMN = {"main": "first_main", "influencer": "first_influencer", "investor": "first_investor"}


# the stored count plus the new rows'; per category, the earliest run (runs only grow, so usually the stored one)
_ADD = "{table}.n + excluded.n"
_EARLIEST = ("CASE WHEN campaign_account.{c} IS NULL OR excluded.{c} < campaign_account.{c} THEN excluded.{c}"
             " ELSE campaign_account.{c} END")


def record(session: Session, *, campaign_id: int, campaign_tweet_id: int, category: str, action: str,
           run_id: int | None, account_ids: Sequence[int]) -> None:
    """Count newly inserted engagements of one post and action, found by one run, by these accounts (one
    id per engagement: an account that replied twice is listed twice)."""
    if not account_ids:
        return
    run, n = run_id or 0, len(account_ids)
    column = FIRST_COLUMN[category]
    accounts = sorted(set(account_ids))  # one row per account, in key order (as the upsert would send them)
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(_RECORD_PG[column], (campaign_tweet_id, action, campaign_id, n,
                                                        campaign_tweet_id, action, run, campaign_id, n,
                                                        campaign_id, run, accounts))
        return
    upsert(session, PostTally, [{"campaign_tweet_id": campaign_tweet_id, "action": action,
                                 "campaign_id": campaign_id, "n": n}],
           index_elements=["campaign_tweet_id", "action"], update_columns=[("n", _ADD.format(table="post_tally"))])
    upsert(session, RunTally, [{"campaign_tweet_id": campaign_tweet_id, "action": action, "run_id": run,
                                "campaign_id": campaign_id, "n": n}],
           index_elements=["campaign_tweet_id", "action", "run_id"],
           update_columns=[("n", _ADD.format(table="run_tally"))])
    upsert(session, CampaignAccount,
           [{"campaign_id": campaign_id, "account_id": a, column: run} for a in accounts],
           index_elements=["campaign_id", "account_id"], update_columns=[(column, _EARLIEST.format(c=column))])


# PostgreSQL: the same three upserts as one statement (data-modifying CTEs), so one round trip per page;
# the tables are distinct, so no part needs to see another's effect
_RECORD_PG = {column: (
    "WITH post AS (INSERT INTO post_tally (campaign_tweet_id, action, campaign_id, n) VALUES (%s, %s, %s, %s)"
    f" ON CONFLICT (campaign_tweet_id, action) DO UPDATE SET n = {_ADD.format(table='post_tally')}),"
    " run AS (INSERT INTO run_tally (campaign_tweet_id, action, run_id, campaign_id, n) VALUES (%s, %s, %s, %s, %s)"
    f" ON CONFLICT (campaign_tweet_id, action, run_id) DO UPDATE SET n = {_ADD.format(table='run_tally')})"
    f" INSERT INTO campaign_account (campaign_id, account_id, {column})"
    " SELECT %s, a, %s FROM unnest(%b::bigint[]) AS a ORDER BY a"
    f" ON CONFLICT (campaign_id, account_id) DO UPDATE SET {column} = {_EARLIEST.format(c=column)}"
) for column in FIRST_COLUMN.values()}


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
