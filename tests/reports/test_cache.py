"""The dashboard cache (socap.web.cache) on both backends: in-process memory and Redis."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from socap.campaigns.models import Campaign
from socap.config import Settings
from socap.reports.schemas import CostSummary, Filters
from socap.web.cache import MemoryCache, NullCache, RedisCache, cache_key, cached, make_cache

NOW = datetime(2025, 1, 6, 12, 0, 5, tzinfo=UTC)
REDIS_URL = "redis://127.0.0.1:6379/0"


def _settings(url: str, ttl: int = 60) -> Settings:
    return Settings(_env_file=None, cache_url=url, cache_ttl_seconds=ttl)


CREATED = datetime(2025, 1, 1, tzinfo=UTC)


def _campaign(version: int = 3, *, workspace_id: int = 2, created_at: datetime = CREATED) -> Campaign:
    return Campaign(id=7, workspace_id=workspace_id, data_version=version, created_at=created_at)


class Counter:
    """A compute function that returns a fresh model each call and counts the calls."""

    def __init__(self):
        self.calls = 0

    def __call__(self) -> CostSummary:
        self.calls += 1
        return CostSummary(runs=self.calls, calls=0, calls_by_endpoint={"GET /2/tweets": 1}, billable_posts=0,
                           billable_users=0, cost_usd=0.5, last_run_at=NOW, next_run_at=None)


def _get(cache, compute, *, campaign=None, view="summary", filters=Filters(), now=NOW, extra=""):
    return cached(cache, campaign=campaign or _campaign(), view=view, filters=filters, now=now, extra=extra,
                  model=CostSummary, compute=compute)


class FakeTimer:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _redis_cache() -> RedisCache:
    if not _redis_up():
        pytest.fail("Redis is not running on 127.0.0.1:6379 (.ci/run starts it)")
    return make_cache(_settings(REDIS_URL), prefix=f"socap:test:{uuid.uuid4().hex}:")


@pytest.fixture
def redis_cache():
    """A Redis cache under a key prefix of its own, removed afterwards."""
    made = _redis_cache()
    yield made
    made.clear()
    made.close()


@pytest.fixture(params=["memory", "redis"])
def cache(request):
    if request.param == "memory":
        yield make_cache(_settings("memory:"))
        return
    made = _redis_cache()
    yield made
    made.clear()
    made.close()


def test_make_cache_picks_the_backend():
    assert isinstance(make_cache(_settings("memory:")), MemoryCache)
    assert isinstance(make_cache(_settings(REDIS_URL)), RedisCache)
    assert isinstance(make_cache(_settings("memory:", ttl=0)), NullCache)
    with pytest.raises(ValueError, match="SOCAP_CACHE_URL"):
        make_cache(_settings("memcached://x"))


def test_a_hit_returns_the_cached_result(cache):
    compute = Counter()
    first = _get(cache, compute)
    again = _get(cache, compute)
    assert compute.calls == 1 and again == first
    if isinstance(cache, MemoryCache):
        assert again is first  # the very object
    else:
        assert again is not first and again.calls_by_endpoint == {"GET /2/tweets": 1}


def test_the_key_parts_each_miss(cache):
    compute = Counter()
    _get(cache, compute)
    _get(cache, compute, campaign=_campaign(version=4))  # new data: an ingest bumped the version
    _get(cache, compute, view="charts")
    _get(cache, compute, filters=Filters(actions=("quote",)))
    _get(cache, compute, extra="page=2")
    assert compute.calls == 5
    for _ in range(2):  # and each of them is now cached
        _get(cache, compute, campaign=_campaign(version=4))
        _get(cache, compute, extra="page=2")
    assert compute.calls == 5


def test_a_24h_view_shares_its_entry_within_the_minute(cache):
    compute = Counter()
    day = Filters(range="24h")
    _get(cache, compute, filters=day, now=NOW)
    _get(cache, compute, filters=day, now=NOW + timedelta(seconds=50))
    assert compute.calls == 1
    _get(cache, compute, filters=day, now=NOW + timedelta(seconds=60))
    assert compute.calls == 2
    # a custom range keys on its own bounds, whatever the clock says
    custom = Filters(range="custom", since=NOW - timedelta(days=1), until=NOW)
    _get(cache, compute, filters=custom, now=NOW)
    _get(cache, compute, filters=custom, now=NOW + timedelta(hours=5))
    assert compute.calls == 3


def test_cache_key_shape():
    key = cache_key(campaign=_campaign(), view="summary", now=NOW, extra="page=1",
                    filters=Filters(categories=("influencer", "main"), min_importance=21, range="today"))
    assert key == ("w2:c7.1735689600000000:v3:summary:categories=main,influencer&min_importance=21&range=today"
                   "&since=2025-01-06T00:00:00Z&until=2025-01-06T12:00:00Z:page=1")


def test_a_reused_campaign_id_never_reads_another_campaigns_entry():
    """SQLite can give a new campaign a deleted one's id: workspace and creation time keep them apart."""
    base = cache_key(campaign=_campaign(), view="summary", filters=Filters(), now=NOW)
    assert cache_key(campaign=_campaign(workspace_id=3), view="summary", filters=Filters(), now=NOW) != base
    later = _campaign(created_at=CREATED + timedelta(seconds=1))
    assert cache_key(campaign=later, view="summary", filters=Filters(), now=NOW) != base


def test_errors_are_not_cached(cache):
    def boom():
        raise LookupError("no such post")

    with pytest.raises(LookupError):
        _get(cache, boom)
    compute = Counter()
    _get(cache, compute)
    assert compute.calls == 1


def test_memory_entries_expire_and_the_size_is_bounded():
    timer = FakeTimer()
    cache = MemoryCache(ttl_seconds=60, max_entries=3, timer=timer)
    compute = Counter()
    for page in range(3):
        _get(cache, compute, extra=f"page={page}")
    _get(cache, compute, extra="page=0")  # page 0 is now the most recently used
    _get(cache, compute, extra="page=3")  # evicts page 1
    assert len(cache) == 3 and compute.calls == 4
    _get(cache, compute, extra="page=0")
    _get(cache, compute, extra="page=1")
    assert compute.calls == 5
    timer.now += 61
    _get(cache, compute, extra="page=0")
    assert compute.calls == 6


def test_memory_cache_under_threads():
    cache = MemoryCache(ttl_seconds=60, max_entries=50)
    compute = Counter()
    errors: list[Exception] = []

    def work(n: int) -> None:
        try:
            for i in range(300):
                _get(cache, compute, extra=f"{(n * 7 + i) % 80}")
        except Exception as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(cache) <= 50


def test_ttl_zero_turns_caching_off():
    compute = Counter()
    cache = make_cache(_settings("memory:", ttl=0))
    _get(cache, compute)
    _get(cache, compute)
    assert compute.calls == 2
    _get(None, compute)  # no cache at all
    assert compute.calls == 3


def test_redis_entries_carry_the_ttl(redis_cache):
    cache = redis_cache
    _get(cache, Counter())
    keys = list(cache.client.scan_iter(match=cache.prefix + "*"))
    assert len(keys) == 1 and 0 < cache.client.ttl(keys[0]) <= 60
    assert keys[0].decode().startswith(cache.prefix + "w2:c7.1735689600000000:v3:summary:")


def test_redis_down_computes_without_the_cache(caplog):
    cache = RedisCache("redis://127.0.0.1:1/0", ttl_seconds=60, prefix="socap:test:down:")
    compute = Counter()
    assert _get(cache, compute).runs == 1
    assert _get(cache, compute).runs == 2  # backing off: no second wait for the dead server
    assert compute.calls == 2 and "Redis read failed" in caplog.text


def test_redis_value_of_another_shape_is_recomputed(redis_cache):
    cache = redis_cache
    key = cache_key(campaign=_campaign(), view="summary", filters=Filters(), now=NOW)
    cache.client.set(cache.prefix + key, b'{"not": "a cost summary"}', ex=60)
    compute = Counter()
    assert _get(cache, compute).runs == 1 and compute.calls == 1
