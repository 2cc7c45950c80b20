"""Idempotent ingestion: accounts upserted, engagements inserted ON CONFLICT DO NOTHING … RETURNING.

Only the rows actually inserted count as new; they go on — in the same transaction — to the hooks that
later issues hang here (importance scoring, alert detection). Running the same page twice inserts nothing.

The authors' account rows (bio category, suspicion flags: about a third of a page's ingest) are pure work on
what X sent: the pollers build them with :func:`author_rows` before they open the write transaction, so the
write lock (SQLite's is one per database) is not held while bios are read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, update
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from socap.campaigns.models import Campaign, CampaignTweet
from socap.clock import ensure_utc
from socap.db import driver_execute, upsert
from socap.importance.accounts import account_row, placeholder_account, upsert_accounts
from socap.monitoring.models import Engagement
from socap.reports import rollup
from socap.x import Tweet, User


class NewEngagement(NamedTuple):
    """One engagement really inserted by this ingest (a named tuple: a page builds up to 100 of them, and a
    frozen dataclass's ``__init__`` cost 2.5 times as much)."""

    id: int
    campaign_id: int
    campaign_tweet_id: int
    account_id: int
    action: str
    source_tweet_id: int
    text: str
    engaged_at: datetime
    run_id: int | None


class AuthorRows(NamedTuple):
    """Account rows for the authors of some posts, by account id: profiles X expanded, and placeholders for
    authors it did not (see :func:`author_rows`)."""

    profiles: dict[int, dict]
    placeholders: dict[int, dict]


def author_rows(posts: Sequence[Tweet], users: dict[str, User], now: datetime) -> AuthorRows:
    """The account rows of ``posts``' authors, for :func:`ingest_engagements` and :func:`store_accounts`: the
    pollers build them before the write transaction, so no lock waits on them. Every author is included (the
    ingest takes the ones whose posts it keeps); one X did not expand (e.g. suspended since) gets a
    placeholder: the engagement is kept, the account named by id."""
    profiles: dict[int, dict] = {}
    placeholders: dict[int, dict] = {}
    for author_id in {post.author_id for post in posts if post.author_id}:
        user = users.get(author_id)
        if user is not None:
            profiles[int(author_id)] = account_row(user, now)
        else:
            placeholders[int(author_id)] = placeholder_account(author_id, now)
    return AuthorRows(profiles, placeholders)


# hooks(session, campaign, new engagements, now) run inside the ingest transaction
NewEngagementHook = Callable[[Session, Campaign, Sequence[NewEngagement], datetime], None]
NEW_ENGAGEMENT_HOOKS: list[NewEngagementHook] = []


def ingest_engagements(
    session: Session,
    *,
    campaign: Campaign,
    tweet: CampaignTweet,
    action: str,
    posts: Sequence[Tweet],
    users: dict[str, User],
    run_id: int | None,
    now: datetime,
    authors: AuthorRows | None = None,
    accounts_stored: bool = False,
) -> list[NewEngagement]:
    """Store the engagements carried by ``posts`` (retweet, reply or quote posts); return the new ones.

    Posts after the campaign's window are left out: the window is what the report covers. The authors'
    accounts are upserted first, from ``authors`` (:func:`author_rows` of these posts or more; built here if
    not given), unless ``accounts_stored`` says :func:`store_accounts` did it already in this transaction.
    """
    if authors is None and not accounts_stored:
        authors = author_rows(posts, users, now)
    kept: set[int] = set()  # the authors of the posts kept
    rows: list[dict] = []
    campaign_id, tweet_id, ends_at = campaign.id, tweet.id, campaign.ends_at  # ORM attributes: read once
    keep_text = action != "retweet"
    for post in posts:
        author_id = post.author_id
        if not author_id:
            continue
        engaged_at = post.created_at or post.created_at_from_id
        if engaged_at > ends_at:
            continue
        account_id = int(author_id)
        kept.add(account_id)
        rows.append({"campaign_id": campaign_id, "campaign_tweet_id": tweet_id, "account_id": account_id,
                     "action": action, "source_tweet_id": int(post.id),
                     "text": post.text if keep_text else "", "engaged_at": engaged_at,
                     "detected_at": now, "run_id": run_id})
    if not rows:
        return []
    if not accounts_stored:
        _upsert_authors(session, authors, kept)
    # RETURNING names the really new rows; what they hold is what was just sent (the last row per key wins,
    # as in the upsert's own deduplication), so only their ids need to come back
    by_source = {row["source_tweet_id"]: row for row in rows}
    inserted = upsert(session, Engagement, rows, index_elements=["campaign_tweet_id", "action", "source_tweet_id"],
                      returning=[Engagement.id, Engagement.source_tweet_id])
    if not inserted:
        return []
    _bump_data_version(session, campaign)  # locks the campaign row: its roll-ups are updated one writer at a time
    new = []
    for r in inserted:
        row = by_source[r.source_tweet_id]
        new.append(NewEngagement(r.id, campaign_id, tweet_id, row["account_id"], action, r.source_tweet_id,
                                 row["text"], ensure_utc(row["engaged_at"]), run_id))
    new.sort(key=lambda e: e.source_tweet_id)
    rollup.record(session, campaign_id=campaign_id, campaign_tweet_id=tweet_id, category=tweet.category,
                  action=action, run_id=run_id, account_ids=[e.account_id for e in new])
    for hook in NEW_ENGAGEMENT_HOOKS:
        hook(session, campaign, new, now)
    return new


def store_accounts(session: Session, *, posts: Sequence[Tweet], ends_at: datetime, authors: AuthorRows) -> None:
    """The accounts :func:`ingest_engagements` would upsert for ``posts`` (``authors``: their
    :func:`author_rows`), in one go: for a transaction that ingests several pages (a reply search spanning
    posts), so it locks all their accounts in id order at once (see
    :func:`~socap.importance.accounts.upsert_accounts`); its ingests then pass ``accounts_stored``."""
    _upsert_authors(session, authors, {int(post.author_id) for post in posts if post.author_id
                                       and (post.created_at or post.created_at_from_id) <= ends_at})


def _upsert_authors(session: Session, authors: AuthorRows, ids: set[int]) -> None:
    """Upsert these authors' rows (every id must be in ``authors``: a KeyError says a caller built too few)."""
    profiles, placeholders = authors
    upsert_accounts(session, [profiles[i] for i in ids if i in profiles],
                    [placeholders[i] for i in ids if i not in profiles])


_BUMP = (update(Campaign.__table__).where(Campaign.__table__.c.id == bindparam("campaign_id"))
         .values(data_version=Campaign.__table__.c.data_version + 1).returning(Campaign.__table__.c.data_version))
_BUMP_SQLITE = "UPDATE campaign SET data_version = data_version + 1 WHERE id = ? RETURNING data_version"


def _bump_data_version(session: Session, campaign: Campaign) -> None:
    """data_version + 1 in the database; a campaign object of this session learns the new value (as an ORM
    UPDATE would tell it), without an ORM UPDATE's autoflush and identity-map evaluation on every page."""
    in_session = campaign in session
    if in_session and session.is_modified(campaign):
        session.flush()  # a pending change to the campaign goes first, as the ORM UPDATE's autoflush did
    connection = session.connection()
    if connection.dialect.name == "sqlite":  # the driver directly: see socap.db.driver_execute
        returned = driver_execute(connection, _BUMP_SQLITE, (campaign.id,))
        if not returned:  # as scalar_one() says it below
            raise NoResultFound(f"campaign {campaign.id} is gone: its data version cannot be bumped")
        version = returned[0][0]
    else:
        version = connection.execute(_BUMP, {"campaign_id": campaign.id}).scalar_one()
    if in_session:
        set_committed_value(campaign, "data_version", version)
