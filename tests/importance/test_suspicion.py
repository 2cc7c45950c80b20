"""Suspicion flags: each flag on and off at its threshold, readable reasons, a fixed order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from socap.importance.suspicion import (
    FEW_FOLLOWERS,
    FLAGS,
    FOLLOW_RATIO,
    FOLLOWS_MANY_MIN_FOLLOWING,
    NEW_ACCOUNT_DAYS,
    suspicion_flags,
)

NOW = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
AVATAR = "https://pbs.twimg.com/profile_images/1234567890/abc_normal.jpg"
DEFAULT_AVATAR = "https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png"


def flags(**overrides) -> list[dict[str, str]]:
    """Flags of an unremarkable account, with some fields overridden."""
    account = {
        "created_at": NOW - timedelta(days=3 * 365),
        "profile_image_url": AVATAR,
        "followers_count": 500,
        "following_count": 300,
        "bio": "Runner, reader, amateur chef.",
        "now": NOW,
    }
    return suspicion_flags(**(account | overrides))


def names(result: list[dict[str, str]]) -> list[str]:
    return [entry["flag"] for entry in result]


def test_an_ordinary_account_has_no_flags():
    assert flags() == []


def test_thresholds_are_the_documented_ones():
    assert (NEW_ACCOUNT_DAYS, FEW_FOLLOWERS, FOLLOW_RATIO, FOLLOWS_MANY_MIN_FOLLOWING) == (30, 10, 10, 200)


# --- new_account -----------------------------------------------------------------------------------------------


def test_new_account_below_thirty_days():
    five_days = [{"flag": "new_account", "reason": "account created 5 days ago"}]
    assert flags(created_at=NOW - timedelta(days=5)) == five_days
    assert flags(created_at=NOW - timedelta(days=1, hours=2))[0]["reason"] == "account created 1 day ago"
    assert flags(created_at=NOW - timedelta(hours=3))[0]["reason"] == "account created today"


def test_new_account_threshold():
    just_under = NOW - timedelta(days=NEW_ACCOUNT_DAYS) + timedelta(seconds=1)
    assert flags(created_at=just_under) == [{"flag": "new_account", "reason": "account created 29 days ago"}]
    assert flags(created_at=NOW - timedelta(days=NEW_ACCOUNT_DAYS)) == []


def test_new_account_unknown_creation_date_or_clock_skew():
    assert flags(created_at=None) == []
    assert flags(created_at=NOW + timedelta(minutes=5))[0]["reason"] == "account created today"


def test_new_account_naive_datetimes_are_utc():
    naive = (NOW - timedelta(days=2)).replace(tzinfo=None)
    assert names(flags(created_at=naive)) == ["new_account"]
    assert names(flags(created_at=naive, now=NOW.replace(tzinfo=None))) == ["new_account"]


# --- default_avatar --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (DEFAULT_AVATAR, "default profile image"),
        (None, "no profile image"),
        ("", "no profile image"),
        ("  ", "no profile image"),
    ],
)
def test_default_avatar(url, reason):
    assert flags(profile_image_url=url) == [{"flag": "default_avatar", "reason": reason}]


def test_custom_avatar_is_fine():
    assert flags(profile_image_url=AVATAR) == []


# --- few_followers ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("followers", "reason"), [(0, "no followers"), (1, "only 1 follower"), (FEW_FOLLOWERS - 1, "only 9 followers")]
)
def test_few_followers(followers, reason):
    assert flags(followers_count=followers, following_count=5) == [{"flag": "few_followers", "reason": reason}]


def test_few_followers_threshold():
    assert flags(followers_count=FEW_FOLLOWERS, following_count=5) == []


# --- follows_many ----------------------------------------------------------------------------------------------


def test_follows_many_at_the_ratio():
    assert flags(followers_count=200, following_count=2000) == [
        {"flag": "follows_many", "reason": "follows 2,000 accounts but has only 200 followers"}
    ]
    assert flags(followers_count=200, following_count=1999) == []


def test_follows_many_needs_a_minimum_following():
    assert flags(followers_count=20, following_count=FOLLOWS_MANY_MIN_FOLLOWING) == [
        {"flag": "follows_many", "reason": "follows 200 accounts but has only 20 followers"}
    ]
    assert flags(followers_count=19, following_count=FOLLOWS_MANY_MIN_FOLLOWING - 1) == []
    # a brand-new user following a handful of accounts is normal: few followers, but not "follows many"
    assert names(flags(followers_count=2, following_count=40)) == ["few_followers"]


def test_follows_many_with_no_followers():
    assert flags(followers_count=0, following_count=4999)[-1] == {
        "flag": "follows_many",
        "reason": "follows 4,999 accounts but has no followers",
    }


# --- empty_bio -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bio", ["", "   ", "\n\t", None])
def test_empty_bio(bio):
    assert flags(bio=bio) == [{"flag": "empty_bio", "reason": "empty bio"}]


def test_a_one_character_bio_is_not_empty():
    assert flags(bio="🦄") == []


# --- together --------------------------------------------------------------------------------------------------


def test_all_flags_in_a_fixed_order():
    result = flags(
        created_at=NOW - timedelta(days=2),
        profile_image_url=DEFAULT_AVATAR,
        followers_count=3,
        following_count=1500,
        bio=" ",
    )
    assert names(result) == list(FLAGS)
    assert [entry["reason"] for entry in result] == [
        "account created 2 days ago",
        "default profile image",
        "only 3 followers",
        "follows 1,500 accounts but has only 3 followers",
        "empty bio",
    ]


def test_order_is_independent_of_which_flags_fire():
    result = flags(bio="", followers_count=1, following_count=0, created_at=NOW - timedelta(days=1))
    assert names(result) == ["new_account", "few_followers", "empty_bio"]


def test_every_entry_is_a_flag_and_a_reason():
    result = flags(created_at=NOW, profile_image_url=None, followers_count=0, following_count=900, bio="")
    assert all(set(entry) == {"flag", "reason"} and entry["reason"] for entry in result)
    assert [entry["flag"] for entry in result] == list(FLAGS)


def test_negative_counts_are_treated_as_zero():
    assert names(flags(followers_count=-5, following_count=-1)) == ["few_followers"]
