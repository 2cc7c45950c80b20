"""The dashboard's roll-ups (socap.reports.models: PostTally, RunTally, CampaignAccount, AccountTally), kept by
the ingest.

:func:`record` runs inside the ingest transaction with the engagements that were really inserted (never a
duplicate), so the roll-ups always equal what a count over the engagement table gives; :func:`rebuild`
recomputes a campaign's from its engagements (for rows written any other way, e.g. a bulk load).
Every statement is one multi-row upsert (on PostgreSQL the four of :func:`record` go as one statement, one
round trip); the ingest has already locked the campaign row (its data-version bump), so one campaign's
transactions update its roll-ups one at a time.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

from sqlalchemy import case, delete, func, insert, select, text
from sqlalchemy.orm import Session

from socap.campaigns.models import CampaignTweet
from socap.db import driver_execute
from socap.monitoring.models import Engagement
from socap.reports.models import AccountTally, CampaignAccount, PostTally, RunTally

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
    accounts = sorted(set(account_ids))  # one row per account, in key order (as the upsert would send them)
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(_RECORD_PG[category], (campaign_tweet_id, action, campaign_id, n,
                                                          campaign_tweet_id, action, run, campaign_id, n,
                                                          campaign_id, run, accounts))
        return
    # SQLite: the same upserts as fixed statements on the driver (the generic upsert's row handling and
    # SQLAlchemy's execution context cost more than these small statements' own work; measured)
    driver_execute(connection, _POST_SQLITE, (campaign_tweet_id, action, campaign_id, n))
    driver_execute(connection, _RUN_SQLITE, (campaign_tweet_id, action, run, campaign_id, n))
    before = driver_execute(connection, _before_sql(len(accounts)), (campaign_id, *accounts))
    driver_execute(connection, _accounts_sql(category, len(accounts)),
                   tuple(itertools.chain.from_iterable((campaign_id, a, run) for a in accounts)))
    moves = _account_moves(category, run, accounts, {row[0]: row[1:] for row in before})
    if moves:
        changes = sorted(moves.items())
        driver_execute(connection, _tally_sql(len(changes)), tuple(itertools.chain.from_iterable(
            (campaign_id, scope, r, n) for (scope, r), n in changes)))


_POST_SQLITE = ("INSERT INTO post_tally (campaign_tweet_id, action, campaign_id, n) VALUES (?, ?, ?, ?)"
                f" ON CONFLICT (campaign_tweet_id, action) DO UPDATE SET n = {_ADD.format(table='post_tally')}")
_RUN_SQLITE = ("INSERT INTO run_tally (campaign_tweet_id, action, run_id, campaign_id, n) VALUES (?, ?, ?, ?, ?)"
               f" ON CONFLICT (campaign_tweet_id, action, run_id) DO UPDATE SET n = {_ADD.format(table='run_tally')}")


@lru_cache(maxsize=128)
def _before_sql(n: int) -> str:
    """SQLite: the campaign_account firsts of ``n`` accounts (a page has up to 100)."""
    return (f"SELECT account_id, {', '.join(FIRST_COLUMN.values())} FROM campaign_account"
            f" WHERE campaign_id = ? AND account_id IN ({', '.join(['?'] * n)})")


@lru_cache(maxsize=384)
def _accounts_sql(category: str, n: int) -> str:
    """SQLite: ``n`` accounts' campaign_account rows, keeping each category's earliest run."""
    column = FIRST_COLUMN[category]
    return (f"INSERT INTO campaign_account (campaign_id, account_id, {column}) VALUES {', '.join(['(?, ?, ?)'] * n)}"
            f" ON CONFLICT (campaign_id, account_id) DO UPDATE SET {column} = {_EARLIEST.format(c=column)}")


@lru_cache(maxsize=32)
def _tally_sql(n: int) -> str:
    """SQLite: ``n`` account_tally changes (at most 2 per account and page, usually 2 in all)."""
    return (f"INSERT INTO account_tally (campaign_id, scope, run_id, n) VALUES {', '.join(['(?, ?, ?, ?)'] * n)}"
            f" ON CONFLICT (campaign_id, scope, run_id) DO UPDATE SET n = {_ADD.format(table='account_tally')}")


_CATEGORY_INDEX = {category: i for i, category in enumerate(FIRST_COLUMN)}


def _account_moves(category: str, run: int, accounts: Sequence[int],
                   before: dict[int, tuple[int | None, int | None, int | None]]) -> Counter:
    """account_tally's changes, (scope, run) -> +n / -n, when ``accounts`` get an engagement of ``category``
    found by ``run``, given their campaign_account firsts (main, influencer, investor) before it."""
    moves: Counter = Counter()
    index = _CATEGORY_INDEX[category]
    for account in accounts:
        firsts = before.get(account)
        if firsts is None:  # a new account of the campaign
            moves["any", run] += 1
            moves[category, run] += 1
            continue
        current = firsts[index]
        if current is None:
            moves[category, run] += 1
        elif run < current:  # an earlier run's transaction committed after a later one's
            moves[category, current] -= 1
            moves[category, run] += 1
        first_any = min(f for f in firsts if f is not None)
        if run < first_any:
            moves["any", first_any] -= 1
            moves["any", run] += 1
    return Counter({key: n for key, n in moves.items() if n})


# PostgreSQL: the same four upserts as one statement (data-modifying CTEs), so one round trip per page. The
# tables are distinct, so no part needs to see another's effect; "old" reads campaign_account as it was before
# this statement (every part sees the same snapshot), which is what account_tally's changes are computed from.
_RECORD_PG = {category: (
    "WITH post AS (INSERT INTO post_tally (campaign_tweet_id, action, campaign_id, n) VALUES (%s, %s, %s, %s)"
    f" ON CONFLICT (campaign_tweet_id, action) DO UPDATE SET n = {_ADD.format(table='post_tally')}),"
    " run AS (INSERT INTO run_tally (campaign_tweet_id, action, run_id, campaign_id, n) VALUES (%s, %s, %s, %s, %s)"
    f" ON CONFLICT (campaign_tweet_id, action, run_id) DO UPDATE SET n = {_ADD.format(table='run_tally')}),"
    " p AS (SELECT %s::integer AS c, %s::integer AS r),"
    " ids AS (SELECT unnest(%b::bigint[]) AS a),"
    f" old AS (SELECT ca.account_id, ca.{column} AS c,"
    "  least(ca.first_main, ca.first_influencer, ca.first_investor) AS a FROM campaign_account ca, p"
    "  WHERE ca.campaign_id = p.c AND ca.account_id IN (SELECT a FROM ids)),"
    f" acc AS (INSERT INTO campaign_account (campaign_id, account_id, {column})"
    "  SELECT p.c, ids.a, p.r FROM ids, p ORDER BY ids.a"
    f"  ON CONFLICT (campaign_id, account_id) DO UPDATE SET {column} = {_EARLIEST.format(c=column)}),"
    " moves AS ("
    "  SELECT 'any' AS scope, p.r AS run_id, 1 AS n FROM ids CROSS JOIN p"
    "   LEFT JOIN old ON old.account_id = ids.a WHERE old.a IS NULL OR p.r < old.a"
    "  UNION ALL SELECT 'any', old.a, -1 FROM old, p WHERE p.r < old.a"
    f"  UNION ALL SELECT '{category}', p.r, 1 FROM ids CROSS JOIN p"
    "   LEFT JOIN old ON old.account_id = ids.a WHERE old.c IS NULL OR p.r < old.c"
    f"  UNION ALL SELECT '{category}', old.c, -1 FROM old, p WHERE p.r < old.c)"
    " INSERT INTO account_tally (campaign_id, scope, run_id, n)"
    " SELECT p.c, moves.scope, moves.run_id, sum(moves.n) FROM moves, p GROUP BY p.c, moves.scope, moves.run_id"
    " HAVING sum(moves.n) <> 0 ORDER BY 2, 3"
    f" ON CONFLICT (campaign_id, scope, run_id) DO UPDATE SET n = {_ADD.format(table='account_tally')}"
) for category, column in FIRST_COLUMN.items()}


def rebuild(session: Session, *, campaign_id: int) -> None:
    """Recompute one campaign's roll-ups from its engagements."""
    for model in (PostTally, RunTally, CampaignAccount, AccountTally):
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
    least = "least" if session.get_bind().dialect.name == "postgresql" else "min"
    session.execute(text(_ACCOUNT_TALLY_SQL.format(least=least)), {"campaign_id": campaign_id})


# account_tally from campaign_account: per category its first runs; "any": the earliest of the three
_NEVER = 2147483647
_ACCOUNT_TALLY_SQL = "INSERT INTO account_tally (campaign_id, scope, run_id, n) " + " UNION ALL ".join(
    [f"SELECT campaign_id, '{category}', {column}, count(*) FROM campaign_account"
     f" WHERE campaign_id = :campaign_id AND {column} IS NOT NULL GROUP BY 1, 3"
     for category, column in FIRST_COLUMN.items()]
    + ["SELECT campaign_id, 'any', {least}(" + ", ".join(f"coalesce({c}, {_NEVER})" for c in FIRST_COLUMN.values())
       + "), count(*) FROM campaign_account WHERE campaign_id = :campaign_id AND ("
       + " OR ".join(f"{c} IS NOT NULL" for c in FIRST_COLUMN.values()) + ") GROUP BY 1, 3"])
