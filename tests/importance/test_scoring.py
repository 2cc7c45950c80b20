"""Importance = Σ weight of the active seeds that follow an account: `socap importance check`, and the
materialised scores recomputed for exactly the accounts a seed change touches."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from socap.console import set_runtime
from socap.importance.models import Account, Follow, ImportantAccount
from socap.monitoring.engine import drive
from socap.simulator import load_scenario
from socap.simulator.world import DEFAULT_AVATAR

from ..monitoring.support import create_campaign, memory_queue
from .support import edges, import_csv, importance_rows, seeds_by_name, socap, socap_json, world_edges

SCENARIO = load_scenario("1")


@pytest.fixture
def synced(start_simulator, make_runtime, tmp_path):
    """Scenario 1 served, its seed list imported and every following list synced."""
    server = start_simulator(SCENARIO)
    rt = make_runtime(server)
    set_runtime(rt)
    import_csv(tmp_path, SCENARIO.seeds_csv())
    socap("importance", "sync")
    yield server, rt, SCENARIO.build_world()
    set_runtime(None)


def _followers(world, username: str) -> set[str]:
    """The seeds following ``username`` in the world."""
    account = world.account_by_username(username)
    return {s.username for s in world.seeds() if account.id in world.following(s.id)}


@pytest.mark.parametrize("username,score,category", [
    ("johnvc", 15, "investor"),
    ("techfounder", 22, "founder"),
    ("venturecapital1", 18, "vc"),
    ("venturecapital2", 15, "vc"),
    ("venturecapital3", 12, "vc"),
    ("devwirenews", 8, "media"),
])
def test_check_gives_the_spec_scores_with_their_seeds(synced, username, score, category):
    _, _, world = synced
    body = socap_json("importance", "check", "@" + username)
    assert body["username"] == username
    assert body["account_id"] == int(world.account_by_username(username).id)
    assert body["importance"] == score
    assert body["category"] == category and body["category_reason"]
    assert len(body["seeds"]) == score
    assert {e["username"] for e in body["seeds"]} == _followers(world, username)
    seed_categories = {s.username: s.seed_category for s in world.seeds()}
    assert all(e["weight"] == 1 and e["category"] == seed_categories[e["username"]] for e in body["seeds"])
    assert not {f["flag"] for f in body["suspicion"]} & {"new_account", "default_avatar", "few_followers"}


def test_check_text_output_and_suspicion_and_seed_category(synced):
    _, _, world = synced
    text = socap("importance", "check", "johnvc").stdout
    assert text.startswith("@johnvc: importance 15, category investor")
    assert text.count("followed by @") == 15
    # an engager with X's default avatar: the flag is shown with its reason
    assert world.account_by_username("victor_ali").profile_image_url == DEFAULT_AVATAR
    flagged = socap_json("importance", "check", "victor_ali")
    assert flagged["importance"] == world.importance(world.account_by_username("victor_ali").id)
    assert {"flag": "default_avatar", "reason": "default profile image"} in flagged["suspicion"]
    # a seed's own category (from the seed list) wins over its bio
    seed = next(s for s in world.seeds() if s.seed_category == "vc")
    body = socap_json("importance", "check", seed.username)
    assert (body["category"], body["category_reason"], body["importance"]) == ("vc", "seed list", 0)


def test_check_refuses_unknown_and_invalid_handles(synced):
    assert "not known to SOCAP nor found on X" in socap("importance", "check", "nosuchperson", code=2).stderr
    assert "not an X handle" in socap("importance", "check", "not a handle", code=2).stderr


def test_check_follows_a_weight_change_immediately(synced):
    _, _, world = synced
    follower = sorted(_followers(world, "johnvc"))[0]
    socap("importance", "seeds", "set-weight", follower, "6")
    body = socap_json("importance", "check", "johnvc")
    assert body["importance"] == 15 + 5
    assert body["seeds"][0] == {"username": follower, "category": body["seeds"][0]["category"], "weight": 6}
    socap("importance", "seeds", "deactivate", follower)
    body = socap_json("importance", "check", "johnvc")
    assert body["importance"] == 14 and follower not in {e["username"] for e in body["seeds"]}


# --- materialised scores: exactly the touched accounts change --------------------------------------------
def _known(rt) -> set[int]:
    with rt.db.session() as s:
        return set(s.scalars(select(Account.id)))


def _step(rt, *args) -> tuple[dict, dict, str]:
    """Advance the clock a minute, run the command; returns the score rows before, after, and its output."""
    before = importance_rows(rt)
    rt.clock.advance(timedelta(minutes=1))
    out = socap(*args).stdout
    return before, importance_rows(rt), out


def _assert_only(before: dict, after: dict, now, touched: set[int], expected: dict[int, int]) -> None:
    changed = {a for a in after if after[a] != before.get(a)}
    assert changed == touched
    for account_id in touched:
        assert after[account_id] == (expected[account_id], now), account_id


def test_seed_changes_rescore_exactly_the_touched_accounts(synced, tmp_path):
    server, rt, world = synced
    campaign_id = create_campaign(rt, SCENARIO)
    drive(rt, memory_queue(rt), until=SCENARIO.start + timedelta(minutes=1))  # run 1: 31 engagers scored
    rows = importance_rows(rt)
    assert len(rows) == 31 and campaign_id
    base = {int(a.id): world.importance(a.id) for a in world.accounts.values()}
    assert {a: score for a, (score, _) in rows.items()} == {a: base[a] for a in rows}

    # the seed that follows the most of the scored engagers (but not all of them)
    seed = max(world.seeds(), key=lambda s: (len(rows.keys() & {int(a) for a in world.following(s.id)}),
                                             s.username))
    followed = {int(a) for a in world.following(seed.id)}
    touched = _known(rt) & followed
    assert 2 <= len(touched & rows.keys()) < len(rows)

    before, after, out = _step(rt, "importance", "seeds", "set-weight", seed.username, "4")
    assert f"{len(touched)} account score(s) recomputed" in out
    _assert_only(before, after, rt.clock.now(), touched, {a: base[a] + 3 for a in touched})

    before, after, _ = _step(rt, "importance", "seeds", "deactivate", seed.username)
    _assert_only(before, after, rt.clock.now(), touched, {a: base[a] - 1 for a in touched})

    before, after, _ = _step(rt, "importance", "seeds", "activate", seed.username)
    _assert_only(before, after, rt.clock.now(), touched, {a: base[a] + 3 for a in touched})

    # re-importing the list with the seed's original weight is a change too
    (tmp_path / "again.csv").write_text(SCENARIO.seeds_csv(), encoding="utf-8")
    before, after, out = _step(rt, "importance", "seeds", "import", str(tmp_path / "again.csv"))
    assert "0 added, 1 updated" in out
    _assert_only(before, after, rt.clock.now(), touched, {a: base[a] for a in touched})

    before, after, _ = _step(rt, "importance", "seeds", "remove", seed.username)
    _assert_only(before, after, rt.clock.now(), touched, {a: base[a] - 1 for a in touched})
    assert edges(rt) == world_edges(world) - world_edges(world, [seed])
    with rt.db.session() as s:
        assert s.scalar(select(func.count()).select_from(ImportantAccount)) == 59
        assert s.scalar(select(func.count()).select_from(Follow)) == 2107 - len(followed)

    # back on the list: no edges until its following list is synced again
    before, after, _ = _step(rt, "importance", "seeds", "add", seed.username, "--category", seed.seed_category)
    assert after == before
    before, after, out = _step(rt, "importance", "sync", "--seed", seed.username)
    assert f"{len(followed)} followed (+{len(followed)} −0), {len(touched)} score(s) recomputed" in out
    _assert_only(before, after, rt.clock.now(), touched, {a: base[a] for a in touched})
    assert seeds_by_name(rt)[seed.username.lower()].weight == 1
