"""The end-to-end harness: one spec scenario played through the whole system, read back like a user would.

``system(key, *, workers=1, notify=True, speed=…)`` (the fixture in tests/e2e/conftest.py) starts, for the
simulator scenario ``key`` ("1" … "10"):

- the X simulator over real HTTP (``.sim``, a SimulatorServer sharing the clock);
- a SOCAP runtime on the test database (``.rt``; SQLite, or PostgreSQL with SOCAP_TEST_DATABASE_URL);
- a json:// receiver for alerts (``.receiver``, tests/alerts/conftest.py ``Receiver``: body, headers, virtual
  arrival time ``at``);
- the scenario's seed list imported and synced through X, as a user would;
- the dashboard/API app (``.web``, real uvicorn) with a user of that workspace and an API token; ``.api`` is an
  httpx.Client with ``Authorization: Bearer …`` already set;
- the scenario's campaign created with ``POST /api/v1/campaigns`` (its campaign spec, ``starts_at`` = the
  world's start, ``notify_urls=[receiver.url]`` unless ``notify=False``): ``.campaign_id``, ``.created`` (the
  201 body);
- ``.calllog`` (tests/monitoring/calllog.py ``CallLog``) over the simulator's call log, collected as time runs.

Two ways time runs:

- ``workers=1`` (default): a ManualClock at the world's start; ``run_until(instant)`` steps dispatcher, queue
  (one in-memory Huey queue, ``.queue``) and alert outbox with ``socap.monitoring.engine.drive`` —
  deterministic; after it returns everything due by ``instant`` has run.
- ``workers=N > 1``: the real threaded ``Engine(rt, workers=N)`` (scheduler, outbox and N worker threads) on a
  ``VirtualClock`` running ``speed`` times real time. Set-up happens at 1× a few virtual minutes before the
  start, then the clock is re-based to ``speed``× and the engine started; ``set_speed(x)`` changes gear at the
  current instant (``GearedClock``: time never jumps). ``run_until(instant)`` waits (real time) until the
  clock passes ``instant``; ``finish()`` waits for the campaign to complete and its summary to be
  delivered, then stops the engine. Nothing is stepped: a run's work takes real time, hence virtual time
  (speed × real seconds), so a busy run ends later than on a ManualClock; read exact figures after
  ``finish()`` or through time filters, not at a checkpoint.

Reading:

- ``at("D2 H14 M30")`` → the scenario instant (days from 1, as in the scenario files); ``.start``, ``.end``.
- ``get(path, **params)`` → JSON of ``GET /api/v1/…``: a path without a leading "/" is relative to the
  campaign (``get("summary", category="main")`` → ``/api/v1/campaigns/{id}/summary?category=main``); with a
  leading "/" relative to ``/api/v1`` (``get("/campaigns")``). Asserts a 200.
- ``finish()`` → runs (or waits) to the campaign's completion (+ the summary's delivery) and returns the
  campaign's JSON.
- ``truth(at=None)`` → the simulator's ``/_sim/truth`` (as of ``at``, default now); ``capturable(at)`` → the
  set of (post_id, action, source_tweet_id) a perfect poller sees; ``stored()`` → the same triples as SOCAP
  stored them (a list, so duplicates show).
- ``alerts()`` → receiver messages (dicts with ``body``, ``headers``, ``at``) except the completion summary;
  ``alert_texts()``; ``summary_message()`` → the completion summary's message (None before completion).
  The summary is told apart by its idempotency key (the API's alert of kind "summary").
- ``headline(name, **figures)`` prints one JSON line ``{"scenario": …, "test": name, …}`` (shown by
  ``pytest -s``) and returns the figures.
"""

from __future__ import annotations

import json
import math
import time
from datetime import datetime, timedelta
from typing import Any

import httpx

from socap.campaigns.models import Campaign
from socap.campaigns.schemas import CampaignInput
from socap.clock import ManualClock, VirtualClock, format_instant
from socap.monitoring.engine import Engine, build_queue, drive
from socap.simulator import load_scenario
from socap.simulator.scenario import at as scenario_offset
from tests.alerts.conftest import Receiver, import_and_sync_seeds
from tests.monitoring.calllog import CallLog
from tests.monitoring.support import capturable, stored_engagements, truth
from tests.web.support import api_token, make_user, serve

EMAIL = "growth@acme.test"
LEAD = timedelta(minutes=5)  # threaded mode: set-up happens this long before the campaign starts
SETTLE = timedelta(hours=2)  # after the window's end: the final run, completion and the summary
MAX_SPEED = 8640.0  # threaded mode: the fastest clock (3 days in 30 s); leases are sized for it


class GearedClock(VirtualClock):
    """A VirtualClock whose speed can change while it runs: ``set_speed`` re-bases it at the current instant,
    so time never jumps or goes back. The state is one tuple swapped at once, so a thread reading the clock
    while another changes its speed sees either the old or the new gear, never a mix."""

    def __init__(self, virtual_origin: datetime, *, speed: float = 1.0):
        self._state = (virtual_origin, time.time(), float(speed))

    virtual_origin = property(lambda self: self._state[0])
    real_origin = property(lambda self: self._state[1])
    speed = property(lambda self: self._state[2])

    def now(self) -> datetime:
        origin, real_origin, speed = self._state
        return origin + timedelta(seconds=(time.time() - real_origin) * speed)

    def set_speed(self, speed: float) -> None:
        assert speed > 0
        origin, real_origin, old = self._state
        real_now = time.time()
        self._state = (origin + timedelta(seconds=(real_now - real_origin) * old), real_now, float(speed))


class System:
    def __init__(self, *, scenario_key: str, start_simulator, make_runtime, workers: int = 1, notify: bool = True,
                 speed: float = 4000.0):
        self.scenario = load_scenario(scenario_key)
        self.world = self.scenario.build_world()
        self.start, self.end = self.world.start, self.world.end
        self.workers = workers
        self.threaded = workers > 1
        self.speed = speed
        self.engine: Engine | None = None
        if self.threaded:
            self.clock = GearedClock(self.start - LEAD, speed=1.0)
        else:
            self.clock = ManualClock(self.start)
        self.sim = start_simulator(self.scenario, clock=self.clock)
        self.receiver = Receiver(self.clock)
        overrides: dict[str, Any] = {}
        if self.threaded:
            # a lease must outlast a task in real seconds (≥ 10 real seconds at any speed up to MAX_SPEED),
            # as in socap.demo
            assert speed <= MAX_SPEED
            overrides["job_lease_minutes"] = MAX_SPEED * 10 / 60
        self.rt = make_runtime(self.sim, clock=self.clock, **overrides)
        self.queue = build_queue(self.rt, url="memory:")
        self.workspace_id = import_and_sync_seeds(self.rt, self.scenario)
        make_user(self.rt, EMAIL)
        self.web = serve(self.rt)
        self.api = httpx.Client(base_url=self.web.url + "/api/v1", timeout=60,
                                headers={"Authorization": f"Bearer {api_token(self.rt, EMAIL)}"})
        data = CampaignInput.from_spec(self.scenario.campaign_spec(), starts_at=self.start,
                                       notify_urls=[self.receiver.url] if notify else [])
        response = self.api.post("/campaigns", json=data.model_dump(mode="json", exclude_none=True))
        assert response.status_code == 201, response.text
        self.created = response.json()
        self.campaign_id: int = self.created["id"]
        self.calllog = CallLog(self.sim)
        if self.threaded:
            self.clock.set_speed(speed)
            self.engine = Engine(self.rt, workers=workers, queue=self.queue).start()

    # ------------------------------------------------------------------ time

    def at(self, spec: str) -> datetime:
        return self.start + scenario_offset(spec)

    def now(self) -> datetime:
        return self.clock.now()

    def set_speed(self, speed: float) -> None:
        """Threaded mode: from now on the virtual clock runs ``speed`` times real time (``.speed``)."""
        assert self.threaded, "set_speed needs workers > 1 (a VirtualClock)"
        assert 0 < speed <= MAX_SPEED, speed
        self.clock.set_speed(speed)
        self.speed = float(speed)

    def run_until(self, instant: datetime) -> None:
        """Run the system up to ``instant``. Stepped (one worker): returns after the first engine step at
        ``instant``, so list jobs that this step's metrics poll made due run at the next step — look a minute
        past a run to see all of it. Threaded: waits until the virtual clock passes ``instant``."""
        if not self.threaded:
            drive(self.rt, self.queue, until=instant, on_tick=self.calllog.collect)
            return
        while self.clock.now() < instant:
            time.sleep(min(0.5, max(0.01, self.clock.real_seconds_until(instant))))
            self.calllog.collect()

    def status(self) -> str:
        with self.rt.db.session() as s:
            return s.get(Campaign, self.campaign_id).status

    def finish(self, *, timeout: float = 120.0) -> dict:
        """Run to completion: the campaign completed and its summary delivered (if it has channels)."""
        if not self.threaded:
            self.run_until(self.end + SETTLE)
        else:
            deadline = time.monotonic() + timeout
            while not (self.status() == "completed" and self._summary_delivered()):
                assert time.monotonic() < deadline, f"not completed after {timeout} s (now {self.now()})"
                time.sleep(0.2)
                self.calllog.collect()
            self.stop_engine()
        self.calllog.collect()
        campaign = self.get("")
        assert campaign["status"] == "completed", campaign["status"]
        return campaign

    def _summary_delivered(self) -> bool:
        if not self.created["notify_urls"]:
            return True
        return self.summary_message() is not None

    def stop_engine(self) -> None:
        if self.engine is not None:
            self.engine.stop()
            self.engine = None

    # ------------------------------------------------------------------ reading

    def get(self, path: str, **params) -> Any:
        url = path if path.startswith("/") else f"/campaigns/{self.campaign_id}" + (f"/{path}" if path else "")
        response = self.api.get(url, params={k: v for k, v in params.items() if v is not None})
        assert response.status_code == 200, f"GET {url} {params}: {response.status_code} {response.text}"
        return response.json()

    def truth(self, at: datetime | None = None) -> dict:
        return truth(self.sim, at)

    def capturable(self, at: datetime | None = None) -> set[tuple[str, str, str]]:
        return capturable(self.truth(at))

    def stored(self) -> list[tuple[str, str, str]]:
        return stored_engagements(self.rt, self.campaign_id)

    def _summary_keys(self) -> set[str]:
        return {d["idempotency_key"] for a in self.get("alerts") if a["kind"] == "summary" for d in a["deliveries"]}

    def alerts(self) -> list[dict]:
        keys = self._summary_keys()
        return [m for m in self.receiver.messages if m["headers"].get("X-Idempotency-Key") not in keys]

    def alert_texts(self) -> list[str]:
        return [m["body"].get("message", "") for m in self.alerts()]

    def summary_message(self) -> str | None:
        keys = self._summary_keys()
        found = [m["body"].get("message", "") for m in self.receiver.messages
                 if m["headers"].get("X-Idempotency-Key") in keys]
        assert len(found) <= 1, "the completion summary went out more than once"
        return found[0] if found else None

    def headline(self, name: str, **figures) -> dict:
        line = {"scenario": self.scenario.key, "test": name, "db": self.rt.db.engine.dialect.name,
                "workers": self.workers, **figures}
        print(json.dumps(line, default=_json_default, sort_keys=False))
        return figures

    # ------------------------------------------------------------------ teardown

    def close(self) -> None:
        self.stop_engine()
        self.api.close()
        self.calllog.close()
        self.web.stop()
        self.receiver.close()


def _json_default(value):
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    return str(value)


def pages(total: int, size: int = 100) -> int:
    """Calls a delta needs for ``total`` new items: the full pages plus the one that reaches the watermark."""
    return math.ceil(total / size) + 1
