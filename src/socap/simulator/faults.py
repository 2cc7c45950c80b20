"""Injectable faults: random 429s / 5xx / timeouts / malformed bodies, account-level switches, scripted
one-shots.

Random faults are decided by ``random.Random(f"{seed}:{n}")`` for the n-th API call, so a given profile and
call sequence always fault the same calls. A scripted fault for endpoint ``"*"`` (:data:`ANY_ENDPOINT`)
matches every endpoint: with ``times`` large and a world's ``until`` it is an app-wide episode (a 402 for
an hour, say).
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from socap.simulator.render import PROBLEMS, problem

RATE_LIMITED = {
    "title": "Too Many Requests",
    "detail": "Too Many Requests",
    "type": "about:blank",
    "status": 429,
}
CREDITS_DEPLETED = {
    "account_id": 1712345678,
    "title": "CreditsDepleted",
    "detail": "Your enrolled account [1712345678] does not have any credits to fulfill this request.",
    "type": PROBLEMS + "credits",
    "status": 402,
}
USAGE_CAPPED = {
    "title": "UsageCapExceeded",
    "detail": "Usage cap exceeded: Monthly product cap",
    "type": PROBLEMS + "usage-capped",
    "period": "Monthly",
    "scope": "Product",
    "status": 429,
}
_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
MALFORMED_BODIES = (
    ("application/json; charset=utf-8", '{"data":[{"id":"1876543210987654321","text":"Introducing Acme'),
    (
        "text/html; charset=utf-8",
        "<!DOCTYPE html><html><head><title>X / Over capacity</title></head>"
        "<body><h1>Something is technically wrong.</h1></body></html>",
    ),
)

ANY_ENDPOINT = "*"


def body_for_status(status: int) -> dict:
    if status == 429:
        return dict(RATE_LIMITED)
    if status == 402:
        return dict(CREDITS_DEPLETED)
    return problem(status, _TITLES.get(status, "Error"))


@dataclass
class ScriptedFault:
    """A one-shot (or ``times``-shot) fault for calls to ``endpoint`` (``"*"``: any) whose URL contains
    ``contains``.

    ``kind``: ``status`` (answer ``status`` with ``body`` or X's body for it), ``timeout`` (wait
    ``delay_seconds`` real seconds, then 503) or ``malformed``."""

    endpoint: str
    contains: str | None = None
    status: int = 503
    times: int = 1
    kind: str = "status"
    body: dict | None = None
    delay_seconds: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("status", "timeout", "malformed"):
            raise ValueError(f"unknown scripted fault kind {self.kind!r}")


@dataclass
class FaultProfile:
    seed: int = 0
    rate_limited_rate: float = 0.0  # 429 Too Many Requests, headers showing the window used up (X's own limit
    # is untouched: the next call may well succeed)
    error_rate: float = 0.0  # 503 with an X-ish body
    timeout_rate: float = 0.0  # delay timeout_delay_seconds (real), then 503
    timeout_delay_seconds: float = 2.0
    malformed_rate: float = 0.0  # truncated JSON or an HTML page, status 200
    credits_depleted: bool = False  # every call: 402 CreditsDepleted
    usage_cap: bool = False  # every call: 429 UsageCapExceeded
    endpoints: list[str] | None = None  # random faults only for these endpoint keys (None = all)
    rate_limits: dict[str, int] = field(default_factory=dict)  # per-15-minute overrides by endpoint key
    short_page_rate: float = 0.5  # share of full list pages cut short (still with next_token)
    scripted: list[ScriptedFault] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> FaultProfile:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault profile fields: {sorted(unknown)}; known: {sorted(known)}")
        data = dict(data)
        data["scripted"] = [
            s if isinstance(s, ScriptedFault) else ScriptedFault(**s) for s in data.get("scripted") or []
        ]
        return cls(**data)


@dataclass
class Fault:
    kind: str  # status | timeout | malformed
    status: int
    body: dict | str
    content_type: str = "application/json; charset=utf-8"
    delay_seconds: float = 0.0
    reason: str = ""


class FaultInjector:
    def __init__(self, profile: FaultProfile | None = None):
        self.profile = profile or FaultProfile()
        self.calls = 0

    def add_scripted(self, fault: ScriptedFault) -> None:
        self.profile.scripted.append(fault)

    def decide(self, endpoint: str, url: str) -> Fault | None:
        profile = self.profile
        self.calls += 1
        for scripted in profile.scripted:
            if (
                scripted.times > 0
                and scripted.endpoint in (endpoint, ANY_ENDPOINT)
                and (scripted.contains is None or scripted.contains in url)
            ):
                scripted.times -= 1
                if scripted.times <= 0:
                    profile.scripted.remove(scripted)
                return self._scripted(scripted)
        if profile.credits_depleted:
            return Fault("status", 402, dict(CREDITS_DEPLETED), reason="credits_depleted")
        if profile.usage_cap:
            return Fault("status", 429, dict(USAGE_CAPPED), reason="usage_cap")
        if profile.endpoints is not None and endpoint not in profile.endpoints:
            return None
        rng = random.Random(f"{profile.seed}:{self.calls}")
        roll = rng.random()
        if roll < profile.rate_limited_rate:
            return Fault("status", 429, dict(RATE_LIMITED), reason="rate_limited")
        roll -= profile.rate_limited_rate
        if roll < profile.error_rate:
            return Fault("status", 503, body_for_status(503), reason="error")
        roll -= profile.error_rate
        if roll < profile.timeout_rate:
            return Fault(
                "timeout",
                503,
                body_for_status(503),
                delay_seconds=profile.timeout_delay_seconds,
                reason="timeout",
            )
        roll -= profile.timeout_rate
        if roll < profile.malformed_rate:
            content_type, body = rng.choice(MALFORMED_BODIES)
            return Fault("malformed", 200, body, content_type=content_type, reason="malformed")
        return None

    def _scripted(self, scripted: ScriptedFault) -> Fault:
        if scripted.kind == "timeout":
            delay = (
                scripted.delay_seconds
                if scripted.delay_seconds is not None
                else (self.profile.timeout_delay_seconds)
            )
            return Fault("timeout", 503, body_for_status(503), delay_seconds=delay, reason="scripted")
        if scripted.kind == "malformed":
            content_type, body = MALFORMED_BODIES[0]
            return Fault("malformed", 200, body, content_type=content_type, reason="scripted")
        return Fault(
            "status", scripted.status, scripted.body or body_for_status(scripted.status), reason="scripted"
        )


# ---------------------------------------------------------------- mutation hook (fuzzing)

@dataclass(frozen=True)
class RawBody:
    """A mutated answer sent as it is: any text or bytes (truncated JSON, an HTML page) with any status."""

    content: str | bytes
    status: int = 200
    content_type: str = "application/json; charset=utf-8"


# mutator(endpoint key, url, payload) -> what to answer instead: any JSON value (sent with the real status) or
# a RawBody; None leaves the answer as the world made it. It sees every successful /2/ answer, after billing
# (the world's items are what X would have billed), and may keep state of its own (which call to mutate).
Mutator = Callable[[str, str, dict], Any]


def mutate(mutator: Mutator | None, endpoint: str, url: str, payload: dict) -> Any:
    """The mutator's answer for one call, or None (no mutator, or it left this answer alone). The payload it
    gets is a copy: a mutator may change it in place without touching the world's own objects."""
    if mutator is None:
        return None
    return mutator(endpoint, url, copy.deepcopy(payload))
