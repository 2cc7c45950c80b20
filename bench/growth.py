#!/usr/bin/env python
"""Growth: how X calls, wall time and peak memory grow with the work, from 5 to 50 to 500 posts and from 1
to 20 campaigns.

Every point is the ``active`` regime of bench/poll_cycle.py (each 30-minute cycle ~10% of the posts get a
few retweets, replies and quotes; every post has a pre-start history to backfill), monitored from the start
for ``--span-hours`` (6) of virtual time on a ManualClock stepped by ``socap.monitoring.engine.drive``, against
the simulator over real HTTP, on a fresh SQLite database. Each point runs in its own process, so its peak
resident memory (VmHWM) is its own.

Series:

- ``posts``: one campaign of 5, 50 and 500 posts;
- ``campaigns``: 1, 5 and 20 campaigns of 25 posts each (the 20 share one 500-post world).

Per point: calls (all, backfill phase, per cycle once every backfill is done), wall seconds (driving the
engine; the world build apart), peak RSS and RSS before the engine ran (world, simulator, runtime), and
engagements stored against the simulator's truth. ``growth`` gives, per series, the exponent k in
``figure ~ work^k`` between the smallest and largest point (1 = linear).

    .venv/bin/python bench/growth.py              # span 6 h
    .venv/bin/python bench/growth.py --quick      # 5/50/100 posts, 1/5/10 campaigns of 5 posts, span 2 h
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import poll_cycle as pc
from report import emit, opened
from sqlalchemy import func, select

from socap import migrations
from socap.clock import ManualClock
from socap.config import Settings
from socap.monitoring.engine import build_queue, drive
from socap.monitoring.models import Engagement
from socap.runtime import Runtime
from socap.simulator import Scenario, SimulatorServer, create_app

POSTS_SERIES = ((1, 5), (1, 50), (1, 500))            # (campaigns, posts per campaign)
CAMPAIGNS_SERIES = ((1, 25), (5, 25), (20, 25))
QUICK_POSTS_SERIES = ((1, 5), (1, 50), (1, 100))
QUICK_CAMPAIGNS_SERIES = ((1, 5), (5, 5), (10, 5))
REGIME = pc.REGIMES["active"]


def memory_kb() -> dict[str, int]:
    """Current and peak resident memory of this process (kB), from /proc (getrusage's peak elsewhere)."""
    try:
        fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
        return {"rss": int(fields["VmRSS"].split()[0]), "peak": int(fields["VmHWM"].split()[0])}
    except (OSError, KeyError, ValueError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return {"rss": peak, "peak": peak}


def reset_peak() -> bool:
    """Start the peak (VmHWM) afresh, so it covers what follows only (Linux >= 4.0); False if not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def point(campaigns: int, per_campaign: int, span: timedelta, workdir: Path) -> dict:
    """One point, in this process: build, create the campaigns, drive ``span``, count."""
    n_posts = campaigns * per_campaign
    slots = math.ceil((span + timedelta(hours=1)) / pc.POLL)
    wall0 = time.perf_counter()
    scenario = Scenario.from_function(f"bench_growth_{n_posts}", pc.regime_builder(REGIME, n_posts, slots),
                                      name=f"growth {campaigns}x{per_campaign}")
    world = scenario.build_world()
    build_seconds = time.perf_counter() - wall0
    url = f"sqlite:///{workdir / f'growth_{campaigns}x{per_campaign}.db'}"
    migrations.upgrade(url)
    clock = ManualClock(world.start)
    server = SimulatorServer(create_app(world, clock)).start()
    try:
        sim = server.sim
        rt = Runtime(Settings(_env_file=None, database_url=url, x_api_base_url=server.api_base), clock=clock,
                     auto_migrate=False)
        spec = pc.campaign_spec(world)
        for k in range(campaigns):
            urls = spec["main"][k * per_campaign:(k + 1) * per_campaign]
            pc.create_campaign(rt, world, {**spec, "name": f"{spec['name']} {k + 1}", "main": urls,
                                           "influencer": [], "investor": []})
        queue = build_queue(rt, url="memory:")
        before = memory_kb()
        peak_is_engine_only = reset_peak()  # the migrations' and the world build's peaks are not the engine's

        def calls_now() -> Counter:
            with sim.lock:
                return Counter(sim.usage.calls)

        calls0 = calls_now()
        drive0 = time.perf_counter()
        end = world.start + span
        t, backfill_done_at, at_backfill_end = world.start, None, None
        while t < end:
            t += pc.POLL
            drive(rt, queue, until=t)
            if backfill_done_at is None and pc.backfill_finished(rt):
                backfill_done_at, at_backfill_end = t, calls_now()
        # the last cycle's follow-up work (list jobs its metrics poll made due)
        drive(rt, queue, until=end + timedelta(minutes=20))
        drive_seconds = time.perf_counter() - drive0
        calls = calls_now()
        with rt.db.session() as s:
            stored = s.scalar(select(func.count()).select_from(Engagement))
        rt.db.dispose()
    finally:
        server.stop()
    truth = sum(len(world.visible_events(pid, kind, end)) for pid in world.campaign_post_ids for kind in pc.KINDS)
    total = sum((calls - calls0).values())
    result = {
        "campaigns": campaigns, "posts_per_campaign": per_campaign, "posts": n_posts,
        "span_hours": span.total_seconds() / 3600,
        "calls": total,
        "calls_by_endpoint": {f"{e} {st}": n for (e, st), n in sorted((calls - calls0).items())},
        "engagements": {"truth": truth, "stored": stored, "missing": truth - stored},
        "wall_seconds": round(drive_seconds, 2), "world_build_seconds": round(build_seconds, 2),
        "rss_before_engine_mb": round(before["rss"] / 1024, 1),
        "peak_rss_mb": round(memory_kb()["peak"] / 1024, 1),
        "peak_rss_covers": "the engine's run only" if peak_is_engine_only else "the whole process",
    }
    if backfill_done_at is not None:
        steady_cycles = (end - backfill_done_at) / pc.POLL
        result["backfill_virtual_minutes"] = (backfill_done_at - world.start).total_seconds() / 60
        result["backfill_calls"] = sum((at_backfill_end - calls0).values())
        if steady_cycles >= 1:
            result["steady_calls_per_cycle"] = round(sum((calls - at_backfill_end).values()) / steady_cycles, 2)
    result["peak_rss_over_before_engine_mb"] = round(result["peak_rss_mb"] - result["rss_before_engine_mb"], 1)
    return result


def run_point_process(campaigns: int, per_campaign: int, span_hours: float) -> dict:
    """The point in a child process (its own peak memory); its stderr passes through."""
    command = [sys.executable, str(Path(__file__).resolve()), "--point", f"{campaigns}x{per_campaign}",
               "--span-hours", str(span_hours)]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        return {"campaigns": campaigns, "posts_per_campaign": per_campaign,
                "error": f"exit status {done.returncode}"}
    return json.loads(done.stdout)


def exponent(points: list[dict], work_key: str, figure: str) -> float | None:
    """k in figure ~ work^k between the first and last point (None when a figure is missing or zero)."""
    first, last = points[0], points[-1]
    a, b = first.get(figure), last.get(figure)
    if not a or not b or first[work_key] == last[work_key]:
        return None
    return round(math.log(b / a) / math.log(last[work_key] / first[work_key]), 3)


def growth(points: list[dict], work_key: str) -> dict:
    ok = [p for p in points if "error" not in p]
    if len(ok) < 2:
        return {}
    return {figure: exponent(ok, work_key, figure)
            for figure in ("calls", "steady_calls_per_cycle", "backfill_calls", "wall_seconds", "peak_rss_mb",
                           "peak_rss_over_before_engine_mb")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="5/50/100 posts, 1/5/10 campaigns of 5 posts, a 2 h span")
    parser.add_argument("--span-hours", type=float, help="virtual hours monitored from the start (default 6)")
    parser.add_argument("--point", help="run one point CxP (C campaigns of P posts) in this process")
    args = parser.parse_args(argv)
    span_hours = args.span_hours or (2.0 if args.quick else 6.0)
    span = timedelta(hours=span_hours)
    if args.point:
        campaigns, per_campaign = (int(x) for x in args.point.lower().split("x"))
        with pc.stdout_to_stderr(), tempfile.TemporaryDirectory(prefix="socap-bench-growth-") as tmp:
            result = point(campaigns, per_campaign, span, Path(tmp))
        print(json.dumps(result, default=str))
        return 0
    report = opened("socap growth with work", mode="quick" if args.quick else "full",
                    regime=REGIME.description, span_hours=span_hours)
    posts_series, campaigns_series = ((QUICK_POSTS_SERIES, QUICK_CAMPAIGNS_SERIES) if args.quick
                                      else (POSTS_SERIES, CAMPAIGNS_SERIES))
    for name, series, work_key in (("posts", posts_series, "posts"), ("campaigns", campaigns_series, "campaigns")):
        points = []
        for campaigns, per_campaign in series:
            pc.progress(f"growth: {campaigns} campaign(s) x {per_campaign} posts, {span_hours:g} h")
            points.append(run_point_process(campaigns, per_campaign, span_hours))
            pc.progress(f"growth: {json.dumps(points[-1])[:300]}")
        report[name] = {"points": points, "growth_exponent": growth(points, work_key)}
    return emit(report)


if __name__ == "__main__":
    sys.exit(main())
