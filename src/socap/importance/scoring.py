"""importance(account) = Σ weight of the workspace's active seeds that follow the account.

Scores are materialised per workspace in ``account_importance`` for the accounts SOCAP has seen engage,
and recomputed only for the accounts a change touches: new engagers (at ingest, in the same transaction,
so alert detection can read the score), or the followed accounts of a seed that was added, re-weighted,
deactivated, removed or re-synced. The evidence — which seeds follow an account — is the follow edges.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from socap.campaigns.models import Campaign
from socap.db import one_of, upsert
from socap.importance.models import Account, AccountImportance, Follow, ImportantAccount

CHUNK = 900  # stay under SQLite's bound-parameter limit


def chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def compute_scores(session: Session, *, workspace_id: int, account_ids: Iterable[int]) -> dict[int, int]:
    """Scores straight from the edges (no materialised row needed); accounts nobody follows score 0."""
    ids = sorted(set(account_ids))
    scores = dict.fromkeys(ids, 0)
    for chunk in chunks(ids):
        rows = session.execute(
            select(Follow.account_id, func.sum(ImportantAccount.weight))
            .join(ImportantAccount, ImportantAccount.id == Follow.seed_id)
            .where(ImportantAccount.workspace_id == workspace_id, ImportantAccount.active.is_(True),
                   one_of(session, Follow.account_id, chunk))
            .group_by(Follow.account_id))
        for account_id, total in rows:
            scores[int(account_id)] = int(total or 0)
    return scores


def store_scores(session: Session, *, workspace_id: int, account_ids: Iterable[int], now: datetime) -> dict[int, int]:
    """Recompute and store the scores of ``account_ids`` in the workspace; returns them."""
    scores = compute_scores(session, workspace_id=workspace_id, account_ids=account_ids)
    if scores:
        upsert(session, AccountImportance,
               [{"workspace_id": workspace_id, "account_id": a, "score": s, "updated_at": now}
                for a, s in scores.items()],
               index_elements=["workspace_id", "account_id"], update_columns=["score", "updated_at"])
    return scores


def rescore_known(session: Session, *, workspace_id: int, account_ids: Iterable[int], now: datetime) -> int:
    """Rescore the touched accounts SOCAP has seen (engagers); returns how many were rescored.

    The workspace's campaigns get a new data version first (their cached views show the old scores), taking
    their row locks before the score rows' — the order ingestion takes them in, so the two never deadlock."""
    ids = sorted(set(account_ids))
    known: list[int] = []
    for chunk in chunks(ids):
        known += session.scalars(select(Account.id).where(one_of(session, Account.id, chunk))).all()
    if known:
        for campaign_id in session.scalars(select(Campaign.id).where(Campaign.workspace_id == workspace_id)
                                           .order_by(Campaign.id)):
            session.execute(update(Campaign).where(Campaign.id == campaign_id)
                            .values(data_version=Campaign.data_version + 1))
    store_scores(session, workspace_id=workspace_id, account_ids=known, now=now)
    return len(known)


def seed_followed(session: Session, seed_id: int) -> list[int]:
    return list(session.scalars(select(Follow.account_id).where(Follow.seed_id == seed_id)))


def stored_scores(session: Session, *, workspace_id: int, account_ids: Iterable[int]) -> dict[int, int]:
    """The materialised scores of the accounts that have one (no entry: never scored in this workspace)."""
    found: dict[int, int] = {}
    for chunk in chunks(sorted(set(account_ids))):
        found.update(session.execute(select(AccountImportance.account_id, AccountImportance.score).where(
            AccountImportance.workspace_id == workspace_id,
            one_of(session, AccountImportance.account_id, chunk))).all())
    return found


def scores_of(session: Session, *, workspace_id: int, account_ids: Iterable[int]) -> dict[int, int]:
    """Materialised scores (0 for accounts without a row)."""
    ids = sorted(set(account_ids))
    stored = stored_scores(session, workspace_id=workspace_id, account_ids=ids)
    return {i: stored.get(i, 0) for i in ids}


def unscored(session: Session, *, workspace_id: int, account_ids: Iterable[int]) -> list[int]:
    ids = sorted(set(account_ids))
    stored = stored_scores(session, workspace_id=workspace_id, account_ids=ids)
    return [i for i in ids if i not in stored]
