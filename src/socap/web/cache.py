"""The dashboard's query cache (DESIGN §8): report results kept for ``SOCAP_CACHE_TTL_SECONDS`` (60 s) under a
key that includes the campaign's data version, which every ingest bumps — so new data shows at once and
repeated loads (every open dashboard refreshes each minute) cost one lookup.

- ``SOCAP_CACHE_URL=memory:`` (default): in this process, thread-safe, at most ``max_entries`` results (least
  recently used go first). A hit returns the very object that was stored: treat results as read-only.
- ``SOCAP_CACHE_URL=redis://host:port/db``: shared by every web process; values are the pydantic models as
  JSON, validated back into the model on a hit. Redis being down or slow never breaks a page: the result is
  computed, the error logged, and Redis left alone for a few seconds.
- ``SOCAP_CACHE_TTL_SECONDS=0`` turns caching off.

The reports functions stay pure; a view wraps them::

    summary = cached(cache, campaign=campaign, view="summary", filters=filters, now=now, model=Summary,
                     compute=lambda: reports.summary(session, campaign=campaign, filters=filters, now=now))
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Protocol, TypeVar

from pydantic import BaseModel

from socap.campaigns.models import Campaign
from socap.clock import ensure_utc
from socap.config import Settings
from socap.reports.schemas import Filters

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
DEFAULT_PREFIX = "socap:cache:"
MEMORY_MAX_ENTRIES = 512
REDIS_TIMEOUT_SECONDS = 0.5
REDIS_BACKOFF_SECONDS = 5.0


class Cache(Protocol):
    ttl_seconds: int

    def get(self, key: str, model: type[M]) -> M | None:
        """The cached result for ``key`` if there is a fresh one of type ``model``, else None."""

    def set(self, key: str, value: BaseModel) -> None:
        """Keep ``value`` for ``ttl_seconds``."""

    def clear(self) -> None:
        """Drop every entry this cache owns."""


class NullCache:
    """Caching turned off (a TTL of 0): every lookup misses."""

    ttl_seconds = 0

    def get(self, key: str, model: type[M]) -> M | None:
        return None

    def set(self, key: str, value: BaseModel) -> None:
        pass

    def clear(self) -> None:
        pass


class MemoryCache:
    """An in-process TTL cache with a size bound (least recently used evicted first); thread-safe."""

    def __init__(self, *, ttl_seconds: int, max_entries: int = MEMORY_MAX_ENTRIES,
                 timer: Callable[[], float] = time.monotonic):
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._timer = timer
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[float, BaseModel]] = OrderedDict()

    def get(self, key: str, model: type[M]) -> M | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            expires, value = found
            if expires <= self._timer() or not isinstance(value, model):
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    def set(self, key: str, value: BaseModel) -> None:
        if self.ttl_seconds <= 0:
            return
        with self._lock:
            now = self._timer()
            self._entries[key] = (now + self.ttl_seconds, value)
            self._entries.move_to_end(key)
            if len(self._entries) > self.max_entries:
                # expired entries go first, then the least recently used
                for stale in [k for k, (expires, _) in self._entries.items() if expires <= now]:
                    del self._entries[stale]
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


class RedisCache:
    """Redis, shared by every web process: JSON of the pydantic model, expiring after ``ttl_seconds``."""

    def __init__(self, url: str, *, ttl_seconds: int, prefix: str = DEFAULT_PREFIX, client=None,
                 timer: Callable[[], float] = time.monotonic):
        import redis

        self.ttl_seconds = ttl_seconds
        self.prefix = prefix
        self._errors = (redis.RedisError, OSError)
        self.client = client or redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT_SECONDS,
                                                     socket_connect_timeout=REDIS_TIMEOUT_SECONDS)
        self._timer = timer
        self._down_until = 0.0

    def _available(self) -> bool:
        return self._timer() >= self._down_until

    def _failed(self, action: str, error: Exception) -> None:
        self._down_until = self._timer() + REDIS_BACKOFF_SECONDS
        log.warning("dashboard cache: Redis %s failed (%s); computing without the cache for %.0f s",
                    action, error, REDIS_BACKOFF_SECONDS)

    def get(self, key: str, model: type[M]) -> M | None:
        if not self._available():
            return None
        try:
            raw = self.client.get(self.prefix + key)
        except self._errors as error:
            self._failed("read", error)
            return None
        if raw is None:
            return None
        try:
            return model.model_validate_json(raw)
        except ValueError:  # written by another version of the model: recompute and overwrite
            return None

    def set(self, key: str, value: BaseModel) -> None:
        if self.ttl_seconds <= 0 or not self._available():
            return
        try:
            self.client.set(self.prefix + key, value.model_dump_json(), ex=self.ttl_seconds)
        except self._errors as error:
            self._failed("write", error)

    def clear(self) -> None:
        """Delete the keys under this cache's prefix (SCAN, never KEYS)."""
        keys = list(self.client.scan_iter(match=self.prefix + "*", count=500))
        for start in range(0, len(keys), 500):
            self.client.delete(*keys[start:start + 500])

    def close(self) -> None:
        self.client.close()


def make_cache(settings: Settings, *, prefix: str = DEFAULT_PREFIX) -> Cache:
    """The cache ``settings.cache_url`` names (``memory:`` or ``redis://…``/``rediss://…``/``unix://…``) with
    ``settings.cache_ttl_seconds``; a TTL of 0 turns caching off."""
    url = (settings.cache_url or "memory:").strip()
    ttl = settings.cache_ttl_seconds
    if ttl <= 0:
        return NullCache()
    if url.startswith("memory:"):
        return MemoryCache(ttl_seconds=ttl)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisCache(url, ttl_seconds=ttl, prefix=prefix)
    raise ValueError(f"SOCAP_CACHE_URL must be memory: or redis://…, not {url!r}")


def cache_key(*, campaign: Campaign, view: str, filters: Filters, now: datetime, extra: str = "") -> str:
    """``w<workspace>:c<campaign id>.<created>:v<data version>:<view>:<filters>:<extra>``.

    The workspace and the creation instant make the key unique to this campaign even where a database
    reuses a deleted campaign's id (SQLite can): another campaign never reads its cached results.

    The filters are resolved against ``now`` truncated to the minute, so a "24h" or "today" view shares
    its entry for the rest of the minute (the result itself was computed at the first request's instant);
    a custom range keys on its own bounds.
    """
    minute = ensure_utc(now).replace(second=0, microsecond=0)
    created = int(ensure_utc(campaign.created_at).timestamp() * 1e6) if campaign.created_at else 0
    return (f"w{campaign.workspace_id}:c{campaign.id}.{created}:v{campaign.data_version or 0}:{view}:"
            f"{filters.resolve(minute).key()}:{extra}")


def cached(cache: Cache | None, *, campaign: Campaign, view: str, filters: Filters, now: datetime,
           model: type[M], compute: Callable[[], M], extra: str = "") -> M:
    """``compute()``'s result through ``cache`` (see :func:`cache_key`); with no cache, just ``compute()``.

    ``view`` names the report ("summary", "charts", "engagements", …), ``extra`` whatever else tells two
    results of that view apart (page, post or account id). ``campaign.data_version`` should be fresh (the
    campaign loaded in this request). Exceptions from ``compute`` propagate and nothing is stored.
    """
    if cache is None:
        return compute()
    key = cache_key(campaign=campaign, view=view, filters=filters, now=now, extra=extra)
    hit = cache.get(key, model)
    if hit is not None:
        return hit
    value = compute()
    cache.set(key, value)
    return value
