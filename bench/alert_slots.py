#!/usr/bin/env python
"""Alert slot error: how far from its scheduled slot each alert actually reached the receiver.

Plays spec scenario 6 (alert spacing: 50 important engagements found by the 10:00 run, 30 by the 10:30
run, spacing 20 minutes) through the whole system with the end-to-end harness (tests/e2e/harness.py:
simulator, SOCAP runtime, API, a json:// receiver stamping arrivals with the virtual clock), then compares,
per alert, the receiver's arrival time with

- ``scheduled_send_at`` as the API lists it (the slot the spacing gave it): the *slot error*;
- the ideal slot ``run start + i x spacing / N`` (i-th of the run's N alerts by importance): the *spacing
  error*, which also catches slots given late or moved.

Two ways time runs (virtual seconds in both):

- ``stepped``: a ManualClock stepped by ``socap.monitoring.engine.drive``, which jumps to each due instant:
  the scheduling logic alone, deterministic;
- ``threaded``: the embedded engine (dispatcher tick every minute, outbox tick every 15 s, worker threads) on
  a virtual clock running ``--speed`` times real time: the outbox's tick and the real time each delivery
  takes (multiplied by the speed) count, as they do in production at 1x.

Each real millisecond the outbox spends (its transactions, a delivery, the thread waking up, the machine
busy elsewhere) costs ``speed`` virtual milliseconds, all of it on top of the tick: at 60x the 15 s tick
measured 15.19 s apart, a delivery landed 0.3 s into its tick, and one tick stalled 1.25 s real on the
loaded machine (75 virtual seconds, an alert 58 s late). So the default speed is 10x (a 6-minute run): the
real time of one delivery, measured before the run (``delivery``: real ms, and virtual seconds at this
speed), then costs well under a second of the tick. The report also gives, per batch, when its first alert
was found and its first slot (``found_after_run_start_seconds``, ``first_slot_after_run_start_seconds``):
a run's engagement polls start at the dispatcher's next tick, a minute after its metrics poll, at any speed.

Goal: max slot error <= 15 s, one outbox tick (SOCAP_ALERT_TICK_SECONDS).

    .venv/bin/python bench/alert_slots.py [--speed 10] [--modes stepped,threaded]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the end-to-end harness lives in tests/

import poll_cycle as pc  # noqa: E402
from report import emit, opened  # noqa: E402
from sqlalchemy import select  # noqa: E402
from tests.alerts.conftest import Receiver  # noqa: E402
from tests.e2e.harness import System  # noqa: E402

from socap import migrations  # noqa: E402
from socap.alerts import channels  # noqa: E402
from socap.clock import parse_instant  # noqa: E402
from socap.config import Settings  # noqa: E402
from socap.monitoring.models import Run  # noqa: E402
from socap.runtime import Runtime  # noqa: E402
from socap.simulator import SimulatorServer, create_app  # noqa: E402

SCENARIO = "6"
LOOK_AT = timedelta(minutes=56)  # both runs' batches are out by 10:50; a minute's slack for the threaded ticks
CALIBRATION_SENDS = 20


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def spread(values: list[float]) -> dict:
    return {"max": round(max(values), 3), "p95": round(percentile(values, 95), 3),
            "mean": round(sum(values) / len(values), 3), "min": round(min(values), 3)}


def measure(s: System) -> dict:
    """Per alert: arrival - scheduled slot, and arrival - ideal slot; figures over all alerts."""
    listed = [a for a in s.get("alerts") if a["kind"] == "engagement"]
    arrived = {m["headers"].get("X-Idempotency-Key"): m["at"] for m in s.alerts()}
    with s.rt.db.session() as session:
        run_start = dict(session.execute(select(Run.id, Run.started_at).where(Run.campaign_id == s.campaign_id)).all())
    spacing = timedelta(minutes=s.created["alert_spacing_minutes"])
    by_run: dict[int, list[dict]] = defaultdict(list)
    for alert in listed:
        by_run[alert["run_id"]].append(alert)
    slot_errors, spacing_errors, missing = [], [], 0
    for run_id, alerts in by_run.items():
        alerts.sort(key=lambda a: (-a["importance"], a["id"]))
        for i, alert in enumerate(alerts):
            key = alert["deliveries"][0]["idempotency_key"] if alert["deliveries"] else None
            at = arrived.get(key)
            if at is None:
                missing += 1
                continue
            slot_errors.append((at - parse_instant(alert["scheduled_send_at"])).total_seconds())
            ideal = run_start[run_id] + i * spacing / len(alerts)
            spacing_errors.append((at - ideal).total_seconds())
    tick = s.rt.settings.alert_tick_seconds
    worst = max(slot_errors) if slot_errors else None

    def after_start(run_id: int, instants) -> float:
        return round((min(instants) - run_start[run_id]).total_seconds(), 3)

    return {
        "alerts": len(listed), "arrived": len(arrived), "not_arrived": missing,
        "batches": {str(run_start[r].isoformat()): len(a) for r, a in sorted(by_run.items())},
        "found_after_run_start_seconds": [after_start(r, [parse_instant(x["created_at"]) for x in a])
                                          for r, a in sorted(by_run.items())],
        "first_slot_after_run_start_seconds": [after_start(r, [parse_instant(x["scheduled_send_at"]) for x in a])
                                               for r, a in sorted(by_run.items())],
        "slot_error_seconds": spread(slot_errors) if slot_errors else None,
        "spacing_error_seconds": spread(spacing_errors) if spacing_errors else None,
        "goal": {"value": worst, "goal": f"max <= {tick:g} s (one outbox tick)",
                 "met": worst is not None and missing == 0 and worst <= tick},
    }


def delivery_time(speed: float) -> dict:
    """The real time one delivery takes (Apprise json:// to a local receiver, as in the run), and what it costs
    in virtual seconds at ``speed``."""
    receiver = Receiver()
    try:
        took = []
        for i in range(CALIBRATION_SENDS):
            t0 = time.perf_counter()
            channels.send(receiver.url, title="calibration", body=f"calibration {i}",
                          idempotency_key=f"calibration-{i}")
            took.append(time.perf_counter() - t0)
    finally:
        receiver.close()
    median = statistics.median(took)
    return {"sends": len(took), "real_ms": {"median": round(median * 1000, 2), "max": round(max(took) * 1000, 2)},
            "virtual_seconds_at_speed": {"median": round(median * speed, 3), "max": round(max(took) * speed, 3)}}


def run(mode: str, *, speed: float, workdir: Path) -> dict:
    url = f"sqlite:///{workdir / f'alerts_{mode}.db'}"
    migrations.upgrade(url)
    servers: list[SimulatorServer] = []
    runtimes: list[Runtime] = []

    def start_simulator(scenario, *, clock):
        servers.append(SimulatorServer(create_app(scenario.build_world(), clock)).start())
        return servers[-1]

    def make_runtime(server, *, clock, **overrides):
        runtimes.append(Runtime(Settings(_env_file=None, database_url=url, x_api_base_url=server.api_base,
                                         **overrides), clock=clock, auto_migrate=False))
        return runtimes[-1]

    wall0 = time.perf_counter()
    delivery = delivery_time(speed) if mode == "threaded" else None
    s = System(scenario_key=SCENARIO, start_simulator=start_simulator, make_runtime=make_runtime,
               workers=1 if mode == "stepped" else 2, speed=speed)
    try:
        s.run_until(s.start + LOOK_AT)
        s.stop_engine()
        result = {"mode": mode, **measure(s)}
    finally:
        s.close()
        for rt in runtimes:
            rt.db.dispose()
        for server in servers:
            server.stop()
    if mode == "threaded":
        result["clock_speed"] = speed
        result["delivery"] = delivery
    result["wall_seconds"] = round(time.perf_counter() - wall0, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modes", default="stepped,threaded", help="stepped (ManualClock) and/or threaded")
    parser.add_argument("--speed", type=float, default=10.0, help="threaded: virtual seconds per real second")
    args = parser.parse_args(argv)
    report = opened("socap alert slot error (scenario 6)")
    with pc.stdout_to_stderr(), tempfile.TemporaryDirectory(prefix="socap-bench-alerts-") as tmp:
        for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
            pc.progress(f"alert slots ({mode})")
            report[mode] = run(mode, speed=args.speed, workdir=Path(tmp))
            pc.progress(f"alert slots ({mode}): slot error {report[mode]['slot_error_seconds']}")
    return emit(report)


if __name__ == "__main__":
    sys.exit(main())
