"""Accounts as X describes them: profile rows for upserts, with their bio category and suspicion flags."""

from __future__ import annotations

import operator
from collections.abc import Iterable
from datetime import datetime
from functools import cache, lru_cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from socap.db import upsert
from socap.importance.categories import CATEGORIES, Categorization, CategoryRules, default_rules
from socap.importance.models import Account
from socap.importance.suspicion import suspicion_flags
from socap.x import User

# refreshed on every sighting; the score lives in account_importance (per workspace)
PROFILE_COLUMNS = ("username", "name", "bio", "followers_count", "following_count", "tweet_count",
                   "verified_type", "protected", "created_at", "profile_image_url", "refreshed_at", "category",
                   "category_evidence", "suspicion")


# X's profile strings go into sized columns: PostgreSQL refuses a longer value (and with it the whole page of
# engagements), so a profile too long for its column is cut to fit
_SIZES = {c.name: c.type.length for c in Account.__table__.columns if getattr(c.type, "length", None)}
# (column, size) for the ones a row's value can be too long for: every sized column but the category, which is
# one of CATEGORIES (checked on every row, so a tuple)
_SIZED = tuple((c, n) for c, n in _SIZES.items() if c != "category" or n < max(map(len, CATEGORIES)))


def _fit(row: dict) -> dict:
    for column, size in _SIZED:
        value = row.get(column)
        if isinstance(value, str) and len(value) > size:
            row[column] = value[:size]
    return row


@cache
def _rules() -> CategoryRules:
    """The built-in rules plus the user's SOCAP_CATEGORY_RULES_FILE, if any (read once per process)."""
    from socap.config import get_settings

    path = get_settings().category_rules_file
    return CategoryRules.from_config(path=path) if path else default_rules()


@lru_cache(maxsize=8192)
def _categorize(rules: CategoryRules, bio: str, name: str) -> Categorization:
    """rules.categorize, remembered per (rules, bio, name): the same accounts are seen again and again (on every
    post they engaged with, on every poll that pages over them), and reading a bio is the costliest part of
    building an account row. The result depends on nothing else; it is immutable, so it can be shared."""
    return rules.categorize(bio, name)


def account_row(user: User, now: datetime) -> dict:
    metrics = user.public_metrics
    bio, name = user.description or "", user.name or ""
    found = _categorize(_rules(), bio, name)
    created_at, image = user.created_at, user.profile_image_url
    if metrics is not None:
        followers, following, tweets = metrics.followers_count, metrics.following_count, metrics.tweet_count
        suspicion = suspicion_flags(created_at=created_at, profile_image_url=image, followers_count=followers,
                                    following_count=following, bio=bio, now=now)
    else:
        followers = following = tweets = 0
        suspicion = []
    return _fit({
        "id": int(user.id), "username": user.username or f"id{user.id}", "name": name, "bio": bio,
        "followers_count": followers, "following_count": following, "tweet_count": tweets,
        "verified_type": user.verified_type, "protected": bool(user.protected),
        "created_at": created_at, "profile_image_url": image, "refreshed_at": now,
        "category": found.category,
        "category_evidence": found.evidence if found.matched else None,
        "suspicion": suspicion,
    })


def placeholder_account(user_id: str, now: datetime) -> dict:
    """X did not expand the author (e.g. suspended since): keep the engagement, name the account by id."""
    return {"id": int(user_id), "username": f"id{user_id}", "name": "", "bio": "", "followers_count": 0,
            "following_count": 0, "tweet_count": 0, "verified_type": None, "protected": False,
            "created_at": None, "profile_image_url": None, "refreshed_at": now, "category": "other",
            "category_evidence": None, "suspicion": []}


def upsert_accounts(session: Session, profiles: Iterable[dict], placeholders: Iterable[dict] = ()) -> None:
    """Profiles refreshed, placeholders inserted if absent. Each statement takes its rows in id order: on
    PostgreSQL two transactions upserting common accounts (two campaigns' pages with common engagers, which
    no campaign lock queues) then lock them in one order, and one waits for the other instead of each
    holding a row the other wants (a deadlock: PostgreSQL aborts one, its page waits for the next tick). A
    transaction ingesting several pages (a reply search spanning posts) upserts all their accounts first, in
    one call (socap.monitoring.ingest.store_accounts). Placeholders go in a second statement, after the
    profiles: the order holds within each."""
    profiles = sorted(profiles, key=_ID)
    if profiles:
        upsert(session, Account, profiles, index_elements=["id"], update_columns=PROFILE_COLUMNS)
    placeholders = sorted(placeholders, key=_ID)
    if placeholders:
        # never overwrite a real profile with a placeholder
        upsert(session, Account, placeholders, index_elements=["id"])


_ID = operator.itemgetter("id")


def lookup_account(session: Session, username: str) -> int | None:
    """The account id for a handle, from SOCAP's own table (callers ask X outside any transaction)."""
    name = username.strip().lstrip("@")
    return session.scalar(select(Account.id).where(func.lower(Account.username) == name.lower()))
