"""Account rows built from X users: the remembered categorization says what reading the profile says."""

from __future__ import annotations

from datetime import UTC, datetime

from socap.importance import accounts
from socap.importance.accounts import account_row
from socap.importance.categories import CategoryRules, default_rules
from socap.x import User

NOW = datetime(2025, 3, 4, 12, tzinfo=UTC)


def _user(i: int, bio: str, name: str) -> User:
    return User.model_validate({"id": str(i), "username": f"u{i}", "name": name, "description": bio,
                                "created_at": "2019-05-01T10:00:00.000Z",
                                "public_metrics": {"followers_count": 5, "following_count": 300, "tweet_count": 1,
                                                   "listed_count": 0}})


def test_rows_seen_again_get_the_same_category_as_a_fresh_reading():
    profiles = [("Mom of two. Dogs. Hiking.", "Jane Doe | VC"), ("Mom of two. Dogs. Hiking.", "Jane Doe"),
                ("", "Dev Patel"), ("Angel investor", "Dev Patel"), ("Angel investor", ""), ("", "")]
    rules = default_rules()
    for _ in range(2):  # the second pass is answered from what the first remembered
        for i, (bio, name) in enumerate(profiles):
            row = account_row(_user(i + 1, bio, name), NOW)
            found = rules.categorize(bio, name)
            assert (row["category"], row["category_evidence"]) == \
                (found.category, found.evidence if found.matched else None), (bio, name)
    assert accounts._categorize.cache_info().hits >= len(profiles)


def test_what_is_remembered_belongs_to_one_rule_table():
    extended = CategoryRules.from_config({"developer": ["kernel hacker"]})
    assert accounts._categorize(default_rules(), "Linux kernel hacker", "").category == "other"
    assert accounts._categorize(extended, "Linux kernel hacker", "").category == "developer"
    assert accounts._categorize(default_rules(), "Linux kernel hacker", "").category == "other"
