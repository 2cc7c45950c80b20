"""Suspicion flags on accounts (DESIGN §6): hints that an account may be a bot or a throwaway.

Each flag comes with a readable reason and is *shown* next to the account. None of them is ever used to
hide, drop, filter or down-weight data: a flagged account's engagements count like any other, and the
flags are recomputed from the profile whenever it is refreshed.

Flags, always in this order (:data:`FLAGS`):

* ``new_account``: created less than :data:`NEW_ACCOUNT_DAYS` days ago (unknown creation date: no flag);
* ``default_avatar``: no profile image, or X's default one (its URL contains :data:`DEFAULT_AVATAR_MARKER`);
* ``few_followers``: fewer than :data:`FEW_FOLLOWERS` followers;
* ``follows_many``: following at least :data:`FOLLOW_RATIO` × its followers *and* at least
  :data:`FOLLOWS_MANY_MIN_FOLLOWING` accounts (a new user following 40 accounts with 2 followers is normal);
* ``empty_bio``: the bio is empty or only whitespace.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from socap.clock import ensure_utc

NEW_ACCOUNT_DAYS = 30
DEFAULT_AVATAR_MARKER = "default_profile_images"
FEW_FOLLOWERS = 10
FOLLOW_RATIO = 10
FOLLOWS_MANY_MIN_FOLLOWING = 200

FLAGS = ("new_account", "default_avatar", "few_followers", "follows_many", "empty_bio")

_NEW_ACCOUNT_AGE = timedelta(days=NEW_ACCOUNT_DAYS)


def suspicion_flags(
    *,
    created_at: datetime | None,
    profile_image_url: str | None,
    followers_count: int,
    following_count: int,
    bio: str | None,
    now: datetime,
) -> list[dict[str, str]]:
    """The flags that apply, each ``{"flag": name, "reason": text}``, in :data:`FLAGS` order.

    For display only: never use them to hide data. Naive datetimes are taken as UTC.
    """
    flags: list[dict[str, str]] = []
    # counts are nearly always plain non-negative ints (X's own): no conversion needed then
    followers = followers_count if type(followers_count) is int and followers_count > 0 else (
        max(0, int(followers_count or 0)))
    following = following_count if type(following_count) is int and following_count > 0 else (
        max(0, int(following_count or 0)))

    if created_at is not None:
        # both UTC already (X's times, SOCAP's clock): ensure_utc would hand both back unchanged
        utc = created_at.tzinfo is UTC and now.tzinfo is UTC
        age = now - created_at if utc else ensure_utc(now) - ensure_utc(created_at)
        if age < _NEW_ACCOUNT_AGE:
            days = max(0, age.days)
            when = "today" if days == 0 else f"{_count(days, 'day')} ago"
            flags.append({"flag": "new_account", "reason": f"account created {when}"})

    image = (profile_image_url or "").strip()
    if not image:
        flags.append({"flag": "default_avatar", "reason": "no profile image"})
    elif DEFAULT_AVATAR_MARKER in image:
        flags.append({"flag": "default_avatar", "reason": "default profile image"})

    if followers < FEW_FOLLOWERS:
        has = "no followers" if followers == 0 else f"only {_count(followers, 'follower')}"
        flags.append({"flag": "few_followers", "reason": has})

    if following >= FOLLOWS_MANY_MIN_FOLLOWING and following >= FOLLOW_RATIO * followers:
        has = "no followers" if followers == 0 else f"only {_count(followers, 'follower')}"
        flags.append({"flag": "follows_many", "reason": f"follows {_count(following, 'account')} but has {has}"})

    if not (bio or "").strip():
        flags.append({"flag": "empty_bio", "reason": "empty bio"})

    return flags


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
