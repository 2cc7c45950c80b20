"""Accounts as X describes them: profile rows for upserts, with their bio category and suspicion flags."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import cache, lru_cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from socap.db import upsert
from socap.importance.categories import Categorization, CategoryRules, default_rules
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


def _fit(row: dict) -> dict:
    for column, size in _SIZES.items():
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
    followers = metrics.followers_count if metrics else 0
    following = metrics.following_count if metrics else 0
    return _fit({
        "id": int(user.id), "username": user.username or f"id{user.id}", "name": name, "bio": bio,
        "followers_count": followers, "following_count": following,
        "tweet_count": metrics.tweet_count if metrics else 0,
        "verified_type": user.verified_type, "protected": bool(user.protected),
        "created_at": user.created_at, "profile_image_url": user.profile_image_url, "refreshed_at": now,
        "category": found.category,
        "category_evidence": found.evidence if found.matched else None,
        "suspicion": suspicion_flags(created_at=user.created_at, profile_image_url=user.profile_image_url,
                                     followers_count=followers, following_count=following, bio=bio, now=now)
        if metrics is not None else [],
    })


def placeholder_account(user_id: str, now: datetime) -> dict:
    """X did not expand the author (e.g. suspended since): keep the engagement, name the account by id."""
    return {"id": int(user_id), "username": f"id{user_id}", "name": "", "bio": "", "followers_count": 0,
            "following_count": 0, "tweet_count": 0, "verified_type": None, "protected": False,
            "created_at": None, "profile_image_url": None, "refreshed_at": now, "category": "other",
            "category_evidence": None, "suspicion": []}


def upsert_accounts(session: Session, profiles: Iterable[dict], placeholders: Iterable[dict] = ()) -> None:
    profiles = list(profiles)
    if profiles:
        upsert(session, Account, profiles, index_elements=["id"], update_columns=PROFILE_COLUMNS)
    placeholders = list(placeholders)
    if placeholders:
        # never overwrite a real profile with a placeholder
        upsert(session, Account, placeholders, index_elements=["id"])


def lookup_account(session: Session, username: str) -> int | None:
    """The account id for a handle, from SOCAP's own table (callers ask X outside any transaction)."""
    name = username.strip().lstrip("@")
    return session.scalar(select(Account.id).where(func.lower(Account.username) == name.lower()))
