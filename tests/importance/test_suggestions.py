"""`socap importance suggest`: accounts followed by at least 3 active seeds that are not seeds themselves,
ranked by the total weight of those seeds."""

from __future__ import annotations

import pytest

from socap.console import set_runtime
from socap.simulator import load_scenario

from .support import import_csv, socap, socap_json

SCENARIO = load_scenario("1")


@pytest.fixture
def synced(start_simulator, make_runtime, tmp_path):
    server = start_simulator(SCENARIO)
    rt = make_runtime(server)
    set_runtime(rt)
    import_csv(tmp_path, SCENARIO.seeds_csv())
    socap("importance", "sync")
    yield server, rt, SCENARIO.build_world()
    set_runtime(None)


def _expected(world, weights: dict[str, int], inactive: set[str], min_seeds: int = 3) -> list[tuple[int, int, int]]:
    """(account id, seeds, total weight) from the world's graph, in the documented order."""
    seeds = {int(s.id) for s in world.seeds()}
    tally: dict[int, list[int]] = {}
    for seed in world.seeds():
        if seed.username in inactive:
            continue
        for account_id in world.following(seed.id):
            entry = tally.setdefault(int(account_id), [0, 0])
            entry[0] += 1
            entry[1] += weights.get(seed.username, 1)
    rows = [(a, n, w) for a, (n, w) in tally.items() if n >= min_seeds and a not in seeds]
    return sorted(rows, key=lambda r: (-r[2], -r[1], r[0]))


def _rows(*args) -> list[tuple[int, int, int]]:
    return [(r["account_id"], r["seeds"], r["weight"]) for r in socap_json("importance", "suggest", *args)]


def test_suggestions_are_ranked_by_total_weight_and_exclude_seeds(synced):
    _, _, world = synced
    by_count = _expected(world, {}, set())
    assert len(by_count) > 60  # scenario 1 has plenty of candidates
    assert _rows("--limit", "1000") == by_count
    assert _rows() == by_count[:50]  # the default limit

    # weights change the order: three seeds weigh 5, one seed stops counting
    seeds = sorted(s.username for s in world.seeds())
    weights = {name: 5 for name in seeds[:3]}
    for name in weights:
        socap("importance", "seeds", "set-weight", name, "5")
    socap("importance", "seeds", "deactivate", seeds[3])
    expected = _expected(world, weights, {seeds[3]})
    assert expected != by_count and [r[0] for r in expected] != [r[0] for r in by_count]
    assert [r[2] for r in expected] == sorted((r[2] for r in expected), reverse=True)
    assert _rows("--limit", "1000") == expected
    assert _rows("--limit", "1000", "--min-seeds", "10") == [r for r in expected if r[1] >= 10]
    assert _rows("--limit", "5") == expected[:5]

    # the best candidate becomes a seed: it is no longer suggested (and names appear once known)
    top = world.accounts[str(expected[0][0])]
    socap("importance", "seeds", "add", top.username)
    after = socap_json("importance", "suggest", "--limit", "1000")
    assert top.id not in {str(r["account_id"]) for r in after}
    assert [(r["account_id"], r["seeds"], r["weight"]) for r in after] == expected[1:]
    second = world.accounts[str(expected[1][0])]
    socap("importance", "check", second.username)
    assert after[0]["username"] is None
    assert socap_json("importance", "suggest", "--limit", "1")[0]["username"] == second.username
    table = socap("importance", "suggest", "--limit", "3").stdout
    assert f"@{second.username}" in table and "id " in table
