"""The things every entry point (CLI, web, workers) needs, built once from Settings."""

from __future__ import annotations

from functools import cached_property

from socap.clock import Clock
from socap.config import Settings, get_settings
from socap.db import Database
from socap.x import XClient


class MissingCredentials(RuntimeError):
    pass


class Runtime:
    def __init__(self, settings: Settings | None = None, *, clock: Clock | None = None,
                 auto_migrate: bool = True):
        self.settings = settings or get_settings()
        self._clock = clock
        self.auto_migrate = auto_migrate
        from socap import wiring

        wiring.install()

    @cached_property
    def clock(self) -> Clock:
        return self._clock or self.settings.make_clock()

    @cached_property
    def db(self) -> Database:
        if self.auto_migrate:
            from socap.migrations import upgrade

            upgrade(self.settings.database_url)
        return Database(self.settings.database_url)

    def x_client(self, **hooks) -> XClient:
        """A client on the configured API; ``hooks`` are XClient's before_call / on_call."""
        token = self.settings.x_bearer_token
        if token is None or not token.get_secret_value():
            if "api.x.com" in self.settings.x_api_base_url or "api.twitter.com" in self.settings.x_api_base_url:
                raise MissingCredentials(
                    "SOCAP_X_BEARER_TOKEN is not set: put your X API bearer token in the environment or .env, "
                    "or point SOCAP_X_API_BASE_URL at the simulator (socap simulator serve)")
            token = "simulator"
        return XClient(self.settings.x_api_base_url, token, timeout=self.settings.x_timeout_seconds,
                       max_retries=self.settings.x_max_retries, clock=self.clock, **hooks)


_current: Runtime | None = None


def set_current(runtime: Runtime | None) -> None:
    """The runtime queue tasks use in this process (a worker sets it at start)."""
    global _current
    _current = runtime


def current() -> Runtime:
    global _current
    if _current is None:
        _current = Runtime()
    return _current


def settle_heap() -> None:
    """For a long-running process, once it has started: collect garbage, then move every object alive now
    (modules, the app, SQLAlchemy's metadata and compiled-statement cache, pydantic's schemas) out of the
    cyclic garbage collector's sight (``gc.freeze``). Those objects live as long as the process anyway;
    collections then scan only what requests and polls allocate. Measured on bench/dashboard.py's unfiltered
    summary (a few thousand short-lived objects per request on a heap of hundreds of thousands): about a
    quarter of the Python time was the collector walking the startup heap."""
    import gc

    gc.collect()
    gc.freeze()
