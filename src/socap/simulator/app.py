"""The fake X API v2 as an ASGI app, plus ``/_sim/*`` control and inspection routes.

Every ``/2/`` call goes: auth → faults → rate limit → endpoint → billing, and every answer (errors included)
carries ``x-rate-limit-limit/-remaining/-reset``. ``app.state.sim`` (a :class:`Simulator`) gives tests the
same controls in-process.
"""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from socap.clock import Clock, format_instant, parse_instant
from socap.simulator.endpoints import ROUTES, Call
from socap.simulator.faults import RATE_LIMITED, FaultInjector, FaultProfile, Mutator, RawBody, ScriptedFault, mutate
from socap.simulator.render import ApiError, problem
from socap.simulator.scenario import Scenario, campaign_spec, load_scenario, seeds_csv
from socap.simulator.truth import truth
from socap.simulator.usage import RateLimiter, Usage
from socap.simulator.world import ScheduledFault, World

JSON = "application/json; charset=utf-8"


def _json(payload: dict | list, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status_code=status, media_type=JSON, headers=headers)


def _billable(payload: dict, data_kind: str) -> tuple[list[str], list[str]]:
    data = payload.get("data")
    items = [data] if isinstance(data, dict) else list(data or [])
    posts = [i["id"] for i in items] if data_kind == "post" else []
    users = [i["id"] for i in items] if data_kind == "user" else []
    includes = payload.get("includes") or {}
    posts += [t["id"] for t in includes.get("tweets", [])]
    users += [u["id"] for u in includes.get("users", [])]
    return posts, users


class Simulator:
    """The mutable side of the fake API: clock, faults, rate-limit windows, usage. The world is immutable."""

    def __init__(
        self, world: World, clock: Clock, faults: FaultProfile | None = None, *, scheduled_faults: bool = True
    ):
        self.world, self.clock = world, clock
        self.injector = FaultInjector(faults)
        # the scenario's own faults (World.faults), armed at their instant; False leaves X well-behaved
        self.scheduled_faults = scheduled_faults
        self._armed: dict[int, ScriptedFault | None] = {}
        self.usage = Usage()
        self.limiter = RateLimiter(lambda: {**self.world.rate_limits, **self.injector.profile.rate_limits})
        self.lock = threading.Lock()
        self.mutator: Mutator | None = None  # rewrites successful answers (fuzz tests); see faults.mutate

    @property
    def faults(self) -> FaultProfile:
        return self.injector.profile

    def set_faults(self, profile: FaultProfile | dict) -> FaultProfile:
        if isinstance(profile, dict):
            profile = FaultProfile.from_dict(profile)
        with self.lock:
            self.injector = FaultInjector(profile)
        return profile

    def set_mutator(self, mutator: Mutator | None) -> None:
        """Rewrite every successful /2/ answer through ``mutator`` from now on (None: answer as the world says)."""
        with self.lock:
            self.mutator = mutator

    def add_fault(self, fault: ScriptedFault | dict) -> None:
        with self.lock:
            self.injector.add_scripted(fault if isinstance(fault, ScriptedFault) else ScriptedFault(**fault))

    def _arm_scheduled(self, now: datetime) -> None:
        """Arm the world's declared faults whose instant has come; disarm those whose window has passed.
        (Called under the lock. ``set_faults`` replaces the injector, and with it any armed fault.)"""
        for index, declared in enumerate(self.world.faults):
            armed = self._armed.get(index, False)
            if armed is False and declared.at <= now:
                self._armed[index] = self._scripted(declared) if declared.active(now) else None
                if self._armed[index] is not None:
                    self.injector.add_scripted(self._armed[index])
            elif armed and declared.until is not None and now >= declared.until:
                armed.times = 0

    @staticmethod
    def _scripted(declared: ScheduledFault) -> ScriptedFault:
        return ScriptedFault(endpoint=declared.endpoint, contains=declared.contains, status=declared.status,
                             times=declared.times, kind=declared.kind,
                             body=dict(declared.body) if declared.body is not None else None,
                             delay_seconds=declared.delay_seconds)

    def usage_summary(self) -> dict:
        with self.lock:
            return self.usage.summary()

    def reset_usage(self) -> None:
        with self.lock:
            self.usage.reset()

    def truth(self, at: datetime | None = None) -> dict:
        return truth(self.world, at or self.clock.now())

    def rate_headers(self, limits: tuple[int, int, int]) -> dict[str, str]:
        limit, remaining, reset = limits
        return {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(reset),
        }

    async def handle(self, request: Request, key: str, handler, data_kind: str) -> Response:
        now = self.clock.now()
        url = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        auth = request.headers.get("authorization", "")
        with self.lock:
            if not auth.startswith("Bearer ") or not auth[7:].strip():
                headers = self.rate_headers(self.limiter.peek(key, now))
                self.usage.record(endpoint=key, status=401, url=url, now=now)
                return _json(problem(401, "Unauthorized"), 401, headers)
            if self.scheduled_faults and self.world.faults:
                self._arm_scheduled(now)
            fault = self.injector.decide(key, url)
            if fault is not None:
                limits = self.limiter.peek(key, now)
                body = fault.body if isinstance(fault.body, dict) else {}
                if fault.status == 429 and body.get("type") == "about:blank":
                    # Looks exhausted, but a one-shot fault leaves the real window alone.
                    limits = (limits[0], 0, limits[2])
                self.usage.record(endpoint=key, status=fault.status, url=url, now=now, fault=fault.reason)
            else:
                allowed, limits = self.limiter.hit(key, now)
        headers = self.rate_headers(limits)
        if fault is not None:
            if fault.delay_seconds > 0:
                await asyncio.sleep(fault.delay_seconds)
            if isinstance(fault.body, str):
                return Response(
                    fault.body, status_code=fault.status, media_type=fault.content_type, headers=headers
                )
            return _json(fault.body, fault.status, headers)
        if not allowed:
            with self.lock:
                self.usage.record(endpoint=key, status=429, url=url, now=now, fault=None)
            return _json(dict(RATE_LIMITED), 429, headers)
        call = Call(
            world=self.world,
            now=now,
            query=request.query_params,
            path=dict(request.path_params),
            short_rate=self.faults.short_page_rate,
        )
        try:
            payload, status = handler(call), 200
        except ApiError as exc:
            payload, status = exc.body, exc.status
        mutated = mutate(self.mutator, key, url, payload) if status == 200 else None
        with self.lock:
            posts, users = _billable(payload, data_kind) if status == 200 else ([], [])
            billed = self.usage.bill(key, now, posts, users)
            self.usage.record(endpoint=key, status=status, url=url, now=now, posts=billed[0], users=billed[1],
                              fault="mutated" if mutated is not None else None)
        if isinstance(mutated, RawBody):
            return Response(mutated.content, status_code=mutated.status, media_type=mutated.content_type,
                            headers=headers)
        return _json(payload if mutated is None else mutated, status, headers)


def create_app(
    world_or_scenario: World | Scenario | str,
    clock: Clock,
    *,
    faults: FaultProfile | None = None,
    seed: int | None = None,
    scheduled_faults: bool = True,
) -> Starlette:
    """The ASGI app. ``world_or_scenario`` may be a World, a Scenario or a scenario name ("1", "s01"…).

    ``scheduled_faults=False`` ignores the faults the scenario declares (``World.faults``)."""
    if isinstance(world_or_scenario, str):
        world_or_scenario = load_scenario(world_or_scenario)
    world = (
        world_or_scenario.build_world(seed) if isinstance(world_or_scenario, Scenario) else world_or_scenario
    )
    sim = Simulator(world, clock, faults, scheduled_faults=scheduled_faults)

    def api_route(key: str, path: str, handler, data_kind: str) -> Route:
        async def endpoint(request: Request) -> Response:
            return await sim.handle(request, key, handler, data_kind)

        return Route(path, endpoint, methods=["GET"], name=key)

    async def unknown(request: Request) -> Response:
        body = problem(
            404, "Not Found Error", f"The requested resource {request.url.path} could not be found"
        )
        return _json(body, 404)

    async def get_usage(request: Request) -> Response:
        return _json(sim.usage_summary())

    async def reset_usage(request: Request) -> Response:
        sim.reset_usage()
        return _json(sim.usage_summary())

    async def get_calls(request: Request) -> Response:
        limit = int(request.query_params.get("limit", "100"))
        with sim.lock:
            calls = list(sim.usage.log)[-limit:]
        return _json({"calls": calls})

    async def reset_rate_limits(request: Request) -> Response:
        with sim.lock:
            sim.limiter.reset()
        return _json({"ok": True})

    async def get_faults(request: Request) -> Response:
        return _json(sim.faults.to_dict())

    async def post_faults(request: Request) -> Response:
        try:
            body = await request.json()
            if request.query_params.get("merge") in ("1", "true"):  # change some fields, keep the rest
                body = {**sim.faults.to_dict(), **body}
            profile = sim.set_faults(body)
        except (ValueError, TypeError) as exc:
            return _json(problem(400, "Bad fault profile", str(exc)), 400)
        return _json(profile.to_dict())

    async def post_scripted(request: Request) -> Response:
        body = await request.json()
        try:
            for item in body if isinstance(body, list) else [body]:
                sim.add_fault(item)
        except (ValueError, TypeError) as exc:
            return _json(problem(400, "Bad scripted fault", str(exc)), 400)
        return _json(sim.faults.to_dict())

    async def get_truth(request: Request) -> Response:
        at = request.query_params.get("at")
        return _json(sim.truth(parse_instant(at) if at else None))

    async def get_clock(request: Request) -> Response:
        return _json({"now": format_instant(sim.clock.now()), "spec": sim.clock.spec()})

    async def get_scenario(request: Request) -> Response:
        return _json(
            {
                "key": world.key,
                "title": world.title,
                "description": world.description,
                "seed": world.seed,
                "campaign": campaign_spec(world),
                "seeds_csv": seeds_csv(world),
                "faults": [
                    {
                        "at": format_instant(f.at),
                        "until": format_instant(f.until) if f.until else None,
                        "endpoint": f.endpoint,
                        "contains": f.contains,
                        "status": f.status,
                        "times": f.times,
                        "kind": f.kind,
                        "note": f.note,
                    }
                    for f in world.faults
                ],
            }
        )

    async def health(request: Request) -> Response:
        return _json({"ok": True})

    routes = [api_route(*route) for route in ROUTES]
    routes += [
        Route("/2/{rest:path}", unknown),
        Route("/_sim/health", health),
        Route("/_sim/usage", get_usage),
        Route("/_sim/usage/reset", reset_usage, methods=["POST"]),
        Route("/_sim/calls", get_calls),
        Route("/_sim/ratelimits/reset", reset_rate_limits, methods=["POST"]),
        Route("/_sim/faults", get_faults),
        Route("/_sim/faults", post_faults, methods=["POST"]),
        Route("/_sim/faults/scripted", post_scripted, methods=["POST"]),
        Route("/_sim/truth", get_truth),
        Route("/_sim/clock", get_clock),
        Route("/_sim/scenario", get_scenario),
    ]
    app = Starlette(routes=routes)
    app.state.sim = sim
    return app
