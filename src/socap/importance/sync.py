"""`socap importance sync`: fetch each seed's following list into the follow graph.

Pages of 1,000 accounts go to ``follow_staging`` together with the next page token, one transaction a
page, so a sync stopped by a crash or by the rate limit resumes where it stopped. When the last page is
in, the seed's edges are replaced by the staged ones in one transaction and the accounts whose score
changed are rescored. Calls go through the shared rate-limit budget like the pollers'.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from socap.clock import Clock
from socap.db import Database, upsert
from socap.importance import scoring
from socap.importance.models import Follow, FollowStaging, ImportantAccount
from socap.x import RateLimited, XAPIError, XClient

PAGE_SIZE = 1000
ANALYZE_AFTER = 10_000


@dataclass
class SeedSync:
    username: str
    pages: int = 0
    edges: int | None = None  # the new list's size once the sync finished
    added: int = 0
    removed: int = 0
    rescored: int = 0
    error: str | None = None


@dataclass
class SyncReport:
    seeds: list[SeedSync] = field(default_factory=list)
    blocked_until: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.blocked_until is None and all(s.error is None and s.edges is not None for s in self.seeds)


def _swap(session: Session, seed: ImportantAccount, *, now: datetime, result: SeedSync) -> None:
    """Replace the seed's edges with the staged list, atomically, and rescore what changed."""
    old = set(scoring.seed_followed(session, seed.id))
    new = set(session.scalars(select(FollowStaging.account_id).where(FollowStaging.seed_id == seed.id)))
    gone, arrived = old - new, new - old
    if gone:
        for chunk in scoring.chunks(sorted(gone)):
            session.execute(delete(Follow).where(Follow.seed_id == seed.id, Follow.account_id.in_(chunk)))
    if arrived:
        upsert(session, Follow, [{"seed_id": seed.id, "account_id": a} for a in arrived],
               index_elements=["seed_id", "account_id"], batch_size=1000)
    session.execute(delete(FollowStaging).where(FollowStaging.seed_id == seed.id))
    if len(gone) + len(arrived) > ANALYZE_AFTER and session.get_bind().dialect.name == "postgresql":
        # fresh planner statistics after a bulk change, or scoring lookups may fall back to scanning `follow`
        session.execute(text("ANALYZE follow"))
    seed.sync_cursor = None
    seed.sync_started_at = None
    seed.synced_at = now
    result.edges, result.added, result.removed = len(new), len(arrived), len(gone)
    if seed.active:
        result.rescored = scoring.rescore_known(session, workspace_id=seed.workspace_id,
                                                account_ids=gone | arrived, now=now)


def sync_seed(db: Database, client: XClient, clock: Clock, seed_id: int, *,
              on_page: Callable[[SeedSync], None] | None = None) -> SeedSync:
    with db.session() as session:
        seed = session.get(ImportantAccount, seed_id)
        result = SeedSync(username=seed.username)
        user_id, cursor = seed.x_user_id, seed.sync_cursor
    if user_id is None:
        result.error = "no X user id (re-import the seed so its handle is resolved)"
        return result
    if cursor is None:
        with db.write() as session:  # a fresh sync starts from an empty staging area
            session.execute(delete(FollowStaging).where(FollowStaging.seed_id == seed_id))
            session.get(ImportantAccount, seed_id).sync_started_at = clock.now()
    while True:
        page = client.get_following(str(user_id), max_results=PAGE_SIZE, pagination_token=cursor)
        if not page.data and page.errors:
            # X will not list it (seed protected, suspended or deleted): keep the last known edges
            result.error = f"X did not list whom it follows ({page.errors[0].reason}); its last known list is kept"
            return result
        token = page.meta.next_token
        now = clock.now()
        with db.write() as session:
            seed = session.get(ImportantAccount, seed_id)
            if page.data:
                upsert(session, FollowStaging, [{"seed_id": seed_id, "account_id": int(u.id)} for u in page.data],
                       index_elements=["seed_id", "account_id"], batch_size=1000)
            result.pages += 1
            if token:
                seed.sync_cursor = token
            else:
                _swap(session, seed, now=now, result=result)
        if on_page:
            on_page(result)
        if not token:
            return result
        cursor = token


def sync_workspace(db: Database, client: XClient, clock: Clock, *, workspace_id: int,
                   usernames: list[str] | None = None,
                   on_page: Callable[[SeedSync], None] | None = None) -> SyncReport:
    """Sync every active seed (or the named ones); stops at the first rate limit, resumable later."""
    report = SyncReport()
    with db.session() as session:
        query = select(ImportantAccount.id, ImportantAccount.username).where(
            ImportantAccount.workspace_id == workspace_id, ImportantAccount.active.is_(True))
        # a sync stopped by the rate limit resumes with the seeds it did not reach: in progress first, then
        # never synced, then the stalest
        seeds = session.execute(query.order_by(ImportantAccount.sync_cursor.is_(None),
                                               ImportantAccount.synced_at.is_not(None),
                                               ImportantAccount.synced_at, ImportantAccount.username)).all()
    wanted = {u.lstrip("@").lower() for u in usernames} if usernames else None
    for seed_id, username in seeds:
        if wanted is not None and username.lower() not in wanted:
            continue
        try:
            report.seeds.append(sync_seed(db, client, clock, seed_id, on_page=on_page))
        except RateLimited as exc:
            report.seeds.append(SeedSync(username=username, error=f"rate limited: {exc}"))
            report.blocked_until = exc.reset_at
            break
        except XAPIError as exc:
            report.seeds.append(SeedSync(username=username, error=str(exc)))
    return report
