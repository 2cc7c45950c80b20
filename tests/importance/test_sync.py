"""`socap importance sync`: every seed's following list, 1,000 a page, resumable from a saved cursor,
swapped in atomically, inside the shared rate-limit budget. The simulator over real HTTP."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import delete, select

from socap.console import set_runtime
from socap.importance.models import Follow, FollowStaging
from socap.simulator import FaultProfile, Scenario, load_scenario

from .support import (
    FOLLOWING,
    call_log,
    calls_to,
    edges,
    import_csv,
    importance_rows,
    seeds_by_name,
    socap,
    socap_json,
    staged,
    statuses,
    world_edges,
)


def _whale(b) -> None:
    """One seed that follows 2,300 accounts (three pages of 1,000)."""
    b.campaign("Whale", start="2025-03-03T12:00:00Z", days=1, threshold=10)
    b.filler_importance = {1: 1}  # every generated account is followed by exactly one seed: the whale
    b.seeds({"vc": 1})
    b.accounts(2300)


def _limited(b) -> None:
    """Five seeds with short following lists, and X allowing only 2 following calls per 15 minutes."""
    b.campaign("Limited", start="2025-03-03T12:00:00Z", days=1, threshold=10)
    b.rate_limit("GET /2/users/:id/following", 2)
    b.seeds({"investor": 3, "founder": 2})
    b.accounts(60)


WHALE = Scenario.from_function("t_whale", _whale)
LIMITED = Scenario.from_function("t_limited", _limited)


@pytest.fixture
def cli(start_simulator, make_runtime, tmp_path):
    """``cli(scenario, faults=None)`` → (server, runtime, world) with the scenario's seeds imported."""

    def start(scenario, *, faults=None):
        server = start_simulator(scenario, faults=faults)
        rt = make_runtime(server)
        set_runtime(rt)
        import_csv(tmp_path, scenario.seeds_csv())
        return server, rt, scenario.build_world()

    yield start
    set_runtime(None)


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_every_seed_following_list_is_stored(cli):
    server, rt, world = cli(load_scenario("1"))
    names = sorted(seeds_by_name(rt))
    out = socap("importance", "sync", "--seed", names[0], "--seed", "@" + names[1].upper()).stdout
    assert f"@{seeds_by_name(rt)[names[0]].username}:" in out
    chosen = [s for s in world.seeds() if s.username.lower() in names[:2]]
    assert edges(rt) == world_edges(world, chosen)

    out = socap("importance", "sync").stdout
    expected = world_edges(world)
    assert len(expected) == 2107
    assert edges(rt) == expected
    assert staged(rt) == set()
    for seed in seeds_by_name(rt).values():
        assert seed.sync_cursor is None and seed.synced_at == rt.clock.now()
    # every list is shorter than a page: one call per seed, each asking for 1,000
    assert calls_to(server, FOLLOWING) == 2 + 60
    assert {_query(c["url"])["max_results"] for c in call_log(server, FOLLOWING)} == {"1000"}
    assert statuses(server, FOLLOWING) == {"200": 62}
    listed = socap_json("importance", "seeds", "list")
    assert all(r["synced_at"] is not None and not r["sync_in_progress"] for r in listed)


def test_pages_of_1000_for_a_seed_following_2300(cli):
    server, rt, world = cli(WHALE, faults=FaultProfile(short_page_rate=0))
    whale = world.seeds()[0]
    assert len(world.following(whale.id)) == 2300
    socap("importance", "sync")
    assert edges(rt) == world_edges(world)
    log = call_log(server, FOLLOWING)
    assert len(log) == 3
    assert [_query(c["url"])["max_results"] for c in log] == ["1000"] * 3
    assert ["pagination_token" in _query(c["url"]) for c in log] == [False, True, True]


def test_short_pages_lose_nothing(cli):
    """X cuts some pages short (still with next_token): the sync follows the tokens to the end."""
    server, rt, world = cli(WHALE)
    socap("importance", "sync")
    assert edges(rt) == world_edges(world)
    assert calls_to(server, FOLLOWING) >= 3


def _doctor(rt, world, seed) -> tuple[set[str], set[str]]:
    """Make the stored list differ from X's: drop 100 real edges, add 50 unknown ones. Returns both."""
    seed_id = seeds_by_name(rt)[seed.username.lower()].id
    following = world.following(seed.id)
    dropped = set(following[1500:1600])
    bogus = {str(n) for n in range(1, 51)}
    with rt.db.write() as s:
        s.execute(delete(Follow).where(Follow.seed_id == seed_id, Follow.account_id.in_([int(a) for a in dropped])))
        s.add_all(Follow(seed_id=seed_id, account_id=int(a)) for a in bogus)
    return dropped, bogus


def test_resync_replaces_the_list_exactly(cli):
    _, rt, world = cli(WHALE)
    whale = world.seeds()[0]
    socap("importance", "sync")
    dropped, bogus = _doctor(rt, world, whale)
    old = edges(rt)
    assert len(old) == 2300 - 100 + 50
    out = socap("importance", "sync").stdout
    assert f"@{whale.username}: 2300 followed (+100 −50)" in out
    assert edges(rt) == world_edges(world)


def test_interrupted_sync_keeps_cursor_and_staging_and_resumes_without_touching_live_edges(cli):
    server, rt, world = cli(WHALE)
    whale = world.seeds()[0]
    key = whale.username.lower()
    socap("importance", "sync")
    dropped, _ = _doctor(rt, world, whale)
    old = edges(rt)
    watched = sorted(dropped)[0]
    handle = world.accounts[watched].username
    assert socap_json("importance", "check", "@" + handle)["importance"] == 0  # the doctored list says so
    before_scores = importance_rows(rt)

    # X answers 429 to the second page of the re-sync
    server.sim.add_fault({"endpoint": FOLLOWING, "contains": "pagination_token", "status": 429})
    first = len(call_log(server, FOLLOWING))
    result = socap("importance", "sync", code=1)
    assert "rate limit reached" in result.stdout and "resumes where it stopped" in result.stdout
    assert "rate limited" in result.stdout

    seed = seeds_by_name(rt)[key]
    log = call_log(server, FOLLOWING)[first:]
    assert [c["status"] for c in log] == [200, 429]
    assert seed.sync_cursor is not None
    assert _query(log[1]["url"])["pagination_token"] == seed.sync_cursor
    page = staged(rt)
    assert 750 <= len(page) <= 1000
    assert page == {(key, a) for a in world.following(whale.id)[:len(page)]}  # the first page, in X's order
    assert edges(rt) == old  # live edges: still the whole old list, not half of each
    assert importance_rows(rt) == before_scores
    assert socap_json("importance", "seeds", "list")[0]["sync_in_progress"] is True

    # the 429 emptied the shared budget: asking again before the reset spends no call
    blocked = socap("importance", "sync", code=1)
    assert "rate limit reached" in blocked.stdout
    assert len(call_log(server, FOLLOWING)) == first + 2
    assert seeds_by_name(rt)[key].sync_cursor == seed.sync_cursor

    rt.clock.advance(timedelta(minutes=15, seconds=1))
    socap("importance", "sync")
    resumed = call_log(server, FOLLOWING)[first + 2:]
    assert _query(resumed[0]["url"]).get("pagination_token") == seed.sync_cursor  # not from the start
    assert all("pagination_token" in _query(c["url"]) for c in resumed)
    assert [c["status"] for c in resumed] == [200] * len(resumed)
    assert edges(rt) == world_edges(world)
    assert staged(rt) == set()
    seed = seeds_by_name(rt)[key]
    assert seed.sync_cursor is None and seed.synced_at == rt.clock.now()
    # the swap rescored the account whose edge came back
    assert importance_rows(rt)[int(watched)] == (1, rt.clock.now())


def test_a_crash_between_pages_resumes_from_the_saved_page(cli):
    """A sync killed after its first page (here: X failing hard on page 2) keeps page 1 and its cursor."""
    server, rt, world = cli(WHALE)
    whale = world.seeds()[0]
    server.sim.add_fault({"endpoint": FOLLOWING, "contains": "pagination_token", "status": 503, "times": 2})
    out = socap("importance", "sync").stdout  # x_max_retries=1: two 503s and the seed reports an error
    assert "@" + whale.username in out and "503" in out
    assert edges(rt) == set()  # nothing live until the whole list is in
    first_page = staged(rt)
    assert first_page and seeds_by_name(rt)[whale.username.lower()].sync_cursor is not None
    socap("importance", "sync")
    assert edges(rt) == world_edges(world)
    assert sum("pagination_token" not in _query(c["url"]) for c in call_log(server, FOLLOWING)) == 1


def test_sync_stays_inside_the_shared_rate_limit_budget(cli):
    server, rt, world = cli(LIMITED)
    start = rt.clock.now()
    result = socap("importance", "sync", code=1)
    reset = start + timedelta(minutes=15)
    assert f"again after {reset:%H:%M} UTC" in result.stdout
    assert calls_to(server, FOLLOWING) == 2
    synced = {u for u, _ in edges(rt)}
    assert len(synced) == 2

    again = socap("importance", "sync", code=1)  # still inside the window: no call at all
    assert "rate limit reached" in again.stdout
    assert calls_to(server, FOLLOWING) == 2

    rt.clock.advance(timedelta(minutes=15, seconds=1))
    socap("importance", "sync", code=1)
    assert calls_to(server, FOLLOWING) == 4
    assert len({u for u, _ in edges(rt)}) == 4  # the next run went on with the seeds it had not reached
    rt.clock.advance(timedelta(minutes=15, seconds=1))
    socap("importance", "sync", code=1)  # the fifth, then (a full pass wants more than 2 calls) the stalest
    assert calls_to(server, FOLLOWING) == 6
    seed_ids = [c["url"].split("/")[3] for c in call_log(server, FOLLOWING)]
    assert len(set(seed_ids[:5])) == 5 and seed_ids[5] == seed_ids[0]  # each seed once before any twice
    assert statuses(server, FOLLOWING) == {"200": 6}  # never a 429: the budget stopped us first
    assert edges(rt) == world_edges(world)
    with rt.db.session() as s:
        assert s.scalars(select(FollowStaging)).all() == []


def _gone_private(b) -> None:
    """Two seeds; one of them has protected its account, so X will not list whom it follows."""
    b.campaign("Private", start="2025-03-03T12:00:00Z", days=1, threshold=10)
    b.seeds({"investor": 1})
    b.seed(b.account("quietvc", name="Quiet VC", bio="Partner at Quiet Ventures.", state="protected"), "vc")
    b.accounts(40)


GONE_PRIVATE = Scenario.from_function("t_gone_private", _gone_private)


def test_a_seed_x_will_not_list_keeps_its_last_known_edges(cli):
    server, rt, world = cli(GONE_PRIVATE)
    quiet = world.account_by_username("quietvc")
    assert world.following(quiet.id)
    # its edges as synced while it was public (stored directly: the simulator's seed is protected throughout)
    seed_id = seeds_by_name(rt)["quietvc"].id
    with rt.db.write() as s:
        s.add_all(Follow(seed_id=seed_id, account_id=int(a)) for a in world.following(quiet.id))
    out = socap("importance", "sync").stdout
    assert "@quietvc:" in out and "protected" in out
    assert edges(rt) == world_edges(world)  # the other seed synced; @quietvc's list kept, not emptied
