from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from socap.clock import ManualClock
from socap.simulator import FaultProfile, SimulatorServer, World, create_app, load_scenario

AUTH = {"Authorization": "Bearer test-token"}


class Api:
    """A thin httpx wrapper for tests: real HTTP against a running simulator."""

    def __init__(self, server: SimulatorServer, clock: ManualClock):
        self.server, self.clock = server, clock
        self.http = httpx.Client(base_url=server.url, headers=AUTH, timeout=10.0)

    @property
    def sim(self):
        return self.server.sim

    def get(self, path: str, **params) -> httpx.Response:
        return self.http.get(path, params={k: v for k, v in params.items() if v is not None})

    def ok(self, path: str, **params) -> dict:
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def pages(self, path: str, *, token_param: str = "pagination_token", **params) -> list[dict]:
        """Every page of a list endpoint, following next_token until it is absent."""
        out, token = [], None
        for _ in range(1000):
            body = self.ok(path, **params, **{token_param: token})
            out.append(body)
            token = body.get("meta", {}).get("next_token")
            if not token:
                return out
        raise AssertionError("pagination did not end")

    def all_items(self, path: str, **params) -> list[dict]:
        return [item for page in self.pages(path, **params) for item in page.get("data", [])]

    def truth(self, **params) -> dict:
        return self.ok("/_sim/truth", **params)

    def close(self) -> None:
        self.http.close()


@pytest.fixture(scope="session")
def world1() -> World:
    return load_scenario("1").build_world()


@pytest.fixture
def serve() -> Iterator[Callable[..., Api]]:
    """``serve(world, at=None, faults=None)`` → an Api on a fresh server with a ManualClock."""
    started: list[Api] = []

    def start(world: World, *, at=None, faults: FaultProfile | None = None) -> Api:
        clock = ManualClock(at or world.start)
        server = SimulatorServer(create_app(world, clock, faults=faults)).start()
        api = Api(server, clock)
        started.append(api)
        return api

    yield start
    for api in started:
        api.close()
        api.server.stop()


@pytest.fixture
def api1(serve, world1) -> Api:
    """Scenario 1 at its start, with short pages switched on (the default)."""
    return serve(world1)
