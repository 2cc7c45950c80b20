"""What other domains ask the importance domain: scores with their evidence, categories, suggestions,
and the ingest hook that scores new engagers in the ingest transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from socap.campaigns.models import Campaign
from socap.db import one_of
from socap.importance import scoring
from socap.importance.models import Account, Follow, ImportantAccount


@dataclass(frozen=True)
class Evidence:
    username: str
    category: str
    weight: int


@dataclass
class Importance:
    account_id: int
    username: str | None
    score: int
    category: str
    category_reason: str | None
    seeds: list[Evidence] = field(default_factory=list)
    suspicion: list[dict] = field(default_factory=list)


def evidence(session: Session, *, workspace_id: int, account_ids: Iterable[int]) -> dict[int, list[Evidence]]:
    """Which active seeds follow each account (heaviest first)."""
    ids = sorted(set(account_ids))
    found: dict[int, list[Evidence]] = defaultdict(list)
    for chunk in scoring.chunks(ids):
        rows = session.execute(
            select(Follow.account_id, ImportantAccount.username, ImportantAccount.category, ImportantAccount.weight)
            .join(ImportantAccount, ImportantAccount.id == Follow.seed_id)
            .where(ImportantAccount.workspace_id == workspace_id, ImportantAccount.active.is_(True),
                   one_of(session, Follow.account_id, chunk)))
        for account_id, username, category, weight in rows:
            found[int(account_id)].append(Evidence(username, category, weight))
    for items in found.values():
        items.sort(key=lambda e: (-e.weight, e.username.lower()))
    return found


def seed_categories(session: Session, *, workspace_id: int, account_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(account_ids))
    out: dict[int, str] = {}
    for chunk in scoring.chunks(ids):
        out.update(session.execute(select(ImportantAccount.x_user_id, ImportantAccount.category).where(
            ImportantAccount.workspace_id == workspace_id,
            one_of(session, ImportantAccount.x_user_id, chunk))).all())
    return out


def profiles(session: Session, *, workspace_id: int, account_ids: Iterable[int]) -> dict[int, Importance]:
    """Score, effective category (a seed's own wins) and evidence for each account."""
    ids = sorted(set(account_ids))
    scores = scoring.scores_of(session, workspace_id=workspace_id, account_ids=ids)
    proof = evidence(session, workspace_id=workspace_id, account_ids=ids)
    seeds = seed_categories(session, workspace_id=workspace_id, account_ids=ids)
    accounts: dict[int, Account] = {}
    for chunk in scoring.chunks(ids):
        accounts.update({a.id: a for a in session.scalars(select(Account).where(
            one_of(session, Account.id, chunk)))})
    out: dict[int, Importance] = {}
    for account_id in ids:
        account = accounts.get(account_id)
        if account_id in seeds:
            category, reason = seeds[account_id], "seed list"
        elif account is not None:
            category, reason = account.category, account.category_evidence
        else:
            category, reason = "other", None
        out[account_id] = Importance(
            account_id=account_id, username=account.username if account else None, score=scores[account_id],
            category=category, category_reason=reason, seeds=proof.get(account_id, []),
            suspicion=list(account.suspicion or []) if account else [])
    return out


def suggestions(session: Session, *, workspace_id: int, min_seeds: int = 3, limit: int = 50) -> list[dict]:
    """Accounts followed by at least ``min_seeds`` active seeds that are not seeds, by total weight."""
    seed_ids = select(ImportantAccount.x_user_id).where(ImportantAccount.workspace_id == workspace_id,
                                                        ImportantAccount.x_user_id.is_not(None))
    rows = session.execute(
        select(Follow.account_id, func.count(), func.sum(ImportantAccount.weight))
        .join(ImportantAccount, ImportantAccount.id == Follow.seed_id)
        .where(ImportantAccount.workspace_id == workspace_id, ImportantAccount.active.is_(True),
               Follow.account_id.not_in(seed_ids))
        .group_by(Follow.account_id)
        .having(func.count() >= min_seeds)
        .order_by(func.sum(ImportantAccount.weight).desc(), func.count().desc(), Follow.account_id)
        .limit(limit)).all()
    names = dict(session.execute(select(Account.id, Account.username).where(
        Account.id.in_([r[0] for r in rows]))).all()) if rows else {}
    return [{"account_id": int(a), "username": names.get(a), "seeds": int(n), "weight": int(w)} for a, n, w in rows]


def score_engagers(session: Session, campaign: Campaign, engagements: Sequence, now: datetime) -> dict[int, int]:
    """For the ingest hook (socap.wiring): every engager's score in the campaign's workspace, account id →
    score. Accounts seen for the first time in the workspace get theirs computed and stored now, in the same
    transaction, and alert detection is handed them (one look-up of the stored scores, then the new ones)."""
    engagers = {e.account_id for e in engagements}
    scores = scoring.stored_scores(session, workspace_id=campaign.workspace_id, account_ids=engagers)
    fresh = sorted(engagers - scores.keys())
    if fresh:
        scores.update(scoring.store_scores(session, workspace_id=campaign.workspace_id, account_ids=fresh, now=now))
    return scores
