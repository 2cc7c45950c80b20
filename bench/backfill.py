#!/usr/bin/env python
"""Backfill benchmark: how long a large campaign's backfill takes, against the time X's rate limits force.

A campaign whose posts already have a history when it starts needs more list calls than one 15-minute window
of ``GET /2/tweets/:id/retweets`` or ``…/quote_tweets`` (75 each) allows. Nothing happens in the world after
the start, so the backfill is the only list work. The engine runs against the simulator (real HTTP, its
per-endpoint limits, X-like short pages) on a virtual clock, two ways: ``stepped`` (a ManualClock that
``socap.monitoring.engine.drive`` jumps to every due instant: the scheduling decisions alone) and
``threaded`` (the embedded Engine, dispatcher tick every minute and worker threads, on a VirtualClock at
``--speed``: the tick interval and the real time the work takes count too).

Bound: per list endpoint, the calls the history forces (every list walked from the top with the simulator's
own pagination, 100 a page; replies by poll_cycle.replies_bound), divided by the endpoint's limit per window
and rounded up: the windows that endpoint needs. The last of them opens ``(windows - 1) x 15 min`` after the
first call at the start, so no backfill can finish earlier. Figure: (instant the last list job finished its
backfill - start) / that bound. Goal <= 1.1. See bench/README.md.

    .venv/bin/python bench/backfill.py            # 500 posts (7 windows), threaded at 30x
    .venv/bin/python bench/backfill.py --quick    # 160 posts (3 windows), threaded at 60x
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import poll_cycle as pc
from report import emit, opened
from sqlalchemy import func, select

from socap import migrations
from socap.campaigns.models import CampaignTweet
from socap.clock import ManualClock, VirtualClock
from socap.config import Settings
from socap.monitoring.engine import Engine, build_queue, drive
from socap.monitoring.models import Engagement, PollJob
from socap.runtime import Runtime
from socap.simulator import Scenario, SimulatorServer, World, create_app, hours
from socap.simulator import endpoints as sim_endpoints
from socap.simulator.builder import ScenarioBuilder

WINDOW = timedelta(minutes=15)        # X's rate-limit window
STEP = timedelta(minutes=15)          # how far each drive() call moves the clock (drive stops at every due job)
GIVE_UP = timedelta(hours=24)
SETUP_LEAD = timedelta(hours=2)       # threaded: the clock starts this long before the start (posts are >= 3 h old)
START_MARGIN = timedelta(seconds=60)  # threaded: where the clock is re-based once the campaign exists
CATEGORY_SHARES = (("main", 0.05), ("influencer", 0.60), ("investor", 0.35))  # as bench/dashboard.py
LIST_ENDPOINTS = {"retweets": "GET /2/tweets/:id/retweets", "quotes": "GET /2/tweets/:id/quote_tweets",
                  "replies": "GET /2/tweets/search/recent"}


def backfill_builder(n_posts: int, retweets: tuple[int, int], quotes: tuple[int, int], replies: tuple[int, int]):
    """``n_posts`` campaign posts (5% main, 60% influencer, 35% investor), each with a history of retweets,
    quotes and direct replies (at least one of each, so every list has something to fetch) by distinct
    accounts in the 3-72 hours before the start; nothing after the start."""

    def build(b: ScenarioBuilder) -> None:
        rng = random.Random(f"socap-bench:backfill:{n_posts}:{retweets}:{quotes}:{replies}")
        b.campaign("Bench backfill", start=pc.START, days=pc.CAMPAIGN_DAYS, threshold=10)
        b.seeds({"investor": 2, "vc": 1})
        author = {c: b.account(f"bench{c}", name=f"Bench {c}", bio="We ship things.") for c, _ in CATEGORY_SHARES}
        counts = [max(1, round(n_posts * share)) for _, share in CATEGORY_SHARES]
        counts[1] = n_posts - counts[0] - counts[2]
        categories = [c for (c, _), n in zip(CATEGORY_SHARES, counts, strict=True) for _ in range(n)]
        margin = timedelta(minutes=1)
        for i, category in enumerate(categories):
            post = b.post(category, author=author[category], text=f"Backfill post {i}",
                          created=-hours(rng.uniform(3, 72)), likes={hours(0): rng.randint(5, 500)})
            between = (post.created_at + margin, b.start - margin)
            b.retweets(post, rng.randint(*retweets), between=between)
            b.quotes(post, rng.randint(*quotes), between=between)
            b.replies(post, rng.randint(*replies), between=between)

    return build


def pages_walked(world: World, handler, tweet_id: str, at: datetime, short_rate: float, **query: str) -> int:
    """Calls needed to walk one list from the top, 100 a page, with the simulator's own pagination (X-like
    short pages included): what any client must spend on it."""
    calls, token = 0, None
    while True:
        params = {"max_results": "100", **query, **({"pagination_token": token} if token else {})}
        page = handler(sim_endpoints.Call(world=world, now=at, query=params, path={"id": tweet_id},
                                          short_rate=short_rate))
        calls += 1
        token = page["meta"].get("next_token")
        if not token:
            return calls


def forced_calls(world: World, at: datetime, short_rate: float, post_ids: list[str]) -> dict[str, int]:
    """Per list endpoint, the calls ``post_ids``' histories force at ``at`` (a lower bound for any client)."""
    retweets = sum(pages_walked(world, sim_endpoints.retweets, pid, at, short_rate)
                   for pid in post_ids if world.visible_events(pid, "retweet", at))
    quotes = sum(pages_walked(world, sim_endpoints.quote_tweets, pid, at, short_rate, exclude="retweets")
                 for pid in post_ids if world.visible_events(pid, "quote", at))
    replies = pc.replies_bound([len(world.visible_events(pid, "reply", at)) for pid in post_ids])
    return {LIST_ENDPOINTS["retweets"]: retweets, LIST_ENDPOINTS["quotes"]: quotes,
            LIST_ENDPOINTS["replies"]: replies}


def window_bound(calls: dict[str, int], limits: dict[str, int]) -> dict:
    windows = {e: math.ceil(n / limits[e]) for e, n in calls.items()}
    binding = max(windows, key=windows.get)
    return {"calls": calls, "limits_per_window": limits, "windows": windows, "binding_endpoint": binding,
            "minutes": (max(windows[binding], 1) - 1) * WINDOW.total_seconds() / 60}


class Finish:
    """When every list job's backfill was done, in all posts and in the main posts: checked after each step
    (stepped) or every few real tenths of a second (threaded). A job's ``last_success_at`` does not say it:
    a delta may run after the backfill (the metrics poll after it saw a count the pass had not)."""

    def __init__(self, rt: Runtime):
        self.rt = rt
        self.all: datetime | None = None
        self.main: datetime | None = None

    def check(self, *_ignored) -> bool:
        now = self.rt.clock.now()
        with self.rt.db.session() as s:
            rows = s.execute(select(CampaignTweet.category, PollJob.backfill_done, PollJob.last_success_at)
                             .join(CampaignTweet, CampaignTweet.id == PollJob.campaign_tweet_id)
                             .where(PollJob.kind != "metrics", PollJob.enabled.is_(True))).all()
        pending = {category for category, done, last in rows if not (done and last)}
        if self.main is None and "main" not in pending:
            self.main = now
        if self.all is None and not pending:
            self.all = now
        return self.all is not None


def drive_stepped(rt: Runtime, start: datetime, sim, finish: Finish) -> dict:
    """ManualClock: ``drive`` jumps to every instant something is due (a reset included) and runs it at once.
    Every task is metered (poll_cycle.MeteredQueue): the tasks that made no call at all show work handed to
    the queue that the budget could not pay for (each costs transactions, and real time outside a ManualClock)."""
    meter = pc.Meter(sim, rt)
    queue = pc.MeteredQueue(build_queue(rt, url="memory:"), meter)
    t = start
    while finish.all is None:
        if t - start > GIVE_UP:
            raise RuntimeError(f"backfill not finished after {GIVE_UP}")
        t += STEP
        drive(rt, queue, until=t, on_tick=finish.check)
    tasks = [task for cycle in meter.cycles for task in cycle.tasks]
    idle = Counter(task.kind for task in tasks if not sum(task.calls.values()))
    return {"tasks": len(tasks), "tasks_without_a_call": sum(idle.values()), "tasks_without_a_call_by_kind": dict(idle),
            "note": "tasks the queue ran that made no X call (refused by the rate-limit budget before calling)"}


def drive_threaded(rt: Runtime, clock: VirtualClock, start: datetime, workers: int, finish: Finish) -> None:
    """The embedded engine (scheduler tick every minute, outbox, worker threads) on a VirtualClock: the
    dispatcher's tick interval and the time the work itself takes count, as in production."""
    engine = Engine(rt, workers=workers, queue=build_queue(rt, url="memory:")).start()
    try:
        while not finish.check():
            if clock.now() - start > GIVE_UP:
                raise RuntimeError(f"backfill not finished after {GIVE_UP}")
            time.sleep(0.1)
    finally:
        engine.stop()


def run(*, n_posts: int, retweets: tuple[int, int], quotes: tuple[int, int], replies: tuple[int, int],
        workdir: Path, mode: str, speed: float, workers: int) -> dict:
    wall0 = time.perf_counter()
    scenario = Scenario.from_function("bench_backfill", backfill_builder(n_posts, retweets, quotes, replies),
                                      name="bench backfill")
    world = scenario.build_world()
    start = world.start
    url = f"sqlite:///{workdir / f'backfill_{mode}.db'}"
    migrations.upgrade(url)
    overrides: dict = {}
    if mode == "threaded":
        # set-up (creating the campaign) happens before the start (re-based below); the lease is production's
        # 10 real minutes, so a task waiting in a long queue is not taken for lost
        clock = VirtualClock(start - SETUP_LEAD, speed=speed)
        overrides["job_lease_minutes"] = 10 * speed
    else:
        clock = ManualClock(start)
    server = SimulatorServer(create_app(world, clock)).start()
    try:
        sim = server.sim
        short_rate = sim.faults.short_page_rate
        limits = {e: sim.limiter.limit(e) for e in LIST_ENDPOINTS.values()}
        posts = list(world.campaign_post_ids)
        main = [p for p in posts if world.tweets[p].category == "main"]
        bound = window_bound(forced_calls(world, start, short_rate, posts), limits)
        main_bound = window_bound(forced_calls(world, start, short_rate, main), limits)
        history = {k: sum(len(world.visible_events(p, k, start)) for p in posts) for k in ("retweet", "quote", "reply")}
        pc.progress(f"backfill ({mode}): {n_posts} posts, {sum(history.values()):,} engagements; bound "
                    f"{bound['windows']} windows = {bound['minutes']:.0f} min")
        rt = Runtime(Settings(_env_file=None, database_url=url, x_api_base_url=server.api_base, **overrides),
                     clock=clock, auto_migrate=False)
        campaign_id = pc.create_campaign(rt, world)
        late = clock.now() > start - START_MARGIN
        if mode == "threaded" and not late:
            # however long the set-up took, the engine meets the start a real second or two after it begins
            clock.virtual_origin, clock.real_origin = start - START_MARGIN, time.time()
        with sim.lock:
            calls0 = Counter(sim.usage.calls)
        drive0 = time.perf_counter()
        tasks, finish = None, Finish(rt)
        if mode == "threaded":
            drive_threaded(rt, clock, start, workers, finish)
        else:
            tasks = drive_stepped(rt, start, sim, finish)
        drive_seconds = time.perf_counter() - drive0
        with sim.lock:
            calls = Counter(sim.usage.calls)
        calls.subtract(calls0)
        done_all, done_main = finish.all, finish.main
        with rt.db.session() as s:
            stored = s.scalar(select(func.count()).select_from(Engagement).where(Engagement.campaign_id == campaign_id))
        rt.db.dispose()
    finally:
        server.stop()
    minutes = (done_all - start).total_seconds() / 60
    ratio = minutes / bound["minutes"] if bound["minutes"] else None
    by_endpoint: Counter = Counter()
    for (endpoint, status), n in (+calls).items():
        by_endpoint[f"{endpoint} {status}"] += n
    list_calls = {e: sum(n for (ep, st), n in calls.items() if ep == e and st == 200) for e in LIST_ENDPOINTS.values()}
    result = {
        "mode": mode, "posts": n_posts, "main_posts": len(main), "history": history,
        "bound": bound,
        "backfill_minutes": round(minutes, 2),
        "ratio_to_bound": {"value": round(ratio, 3) if ratio is not None else None, "goal": "<= 1.1",
                           "met": ratio is not None and ratio <= 1.1},
        "list_calls_made": list_calls,
        "list_calls_over_forced": {e: list_calls[e] - bound["calls"][e] for e in LIST_ENDPOINTS.values()},
        "calls_by_endpoint_and_status": dict(sorted(by_endpoint.items())),
        "main_posts_backfill": {
            "minutes": round((done_main - start).total_seconds() / 60, 2),
            "bound_minutes_alone": main_bound["minutes"], "windows_alone": main_bound["windows"],
            "note": "the main posts' own backfill: with main posts first it ends within the windows their own "
                    "calls need"},
        "engagements": {"truth": sum(history.values()), "stored": stored, "missing": sum(history.values()) - stored},
        "wall_seconds": {"total": round(time.perf_counter() - wall0, 1), "engine": round(drive_seconds, 1)},
    }
    if mode == "threaded":
        result["engine"] = {"clock_speed": speed, "worker_threads": workers, "setup_finished_after_start": late}
    else:
        result["tasks"] = tasks
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="160 posts (3 windows), threaded at 60x")
    parser.add_argument("--posts", type=int, help="campaign posts (default 500: 7 windows; 160 with --quick)")
    # short lists: one page each, so a window's work is small next to its 15 minutes even at 60x (the pages,
    # not the items, are what the rate limits count)
    parser.add_argument("--retweets", default="1,30", help="retweets per post before the start: min,max")
    parser.add_argument("--quotes", default="1,5", help="quotes per post: min,max")
    parser.add_argument("--replies", default="1,10", help="direct replies per post: min,max")
    parser.add_argument("--modes", default="stepped,threaded", help="stepped (ManualClock) and/or threaded")
    parser.add_argument("--speed", type=float, help="threaded: virtual seconds per real second (30; 60 quick)")
    parser.add_argument("--workers", type=int, default=4, help="threaded: worker threads")
    args = parser.parse_args(argv)

    def pair(text: str) -> tuple[int, int]:
        low, high = (int(x) for x in text.split(","))
        return low, high

    n_posts = args.posts or (160 if args.quick else 500)
    speed = args.speed or (60.0 if args.quick else 30.0)
    report = opened("socap backfill vs rate-limit bound", mode="quick" if args.quick else "full")
    with pc.stdout_to_stderr(), tempfile.TemporaryDirectory(prefix="socap-bench-backfill-") as tmp:
        for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
            report[mode] = run(n_posts=n_posts, retweets=pair(args.retweets), quotes=pair(args.quotes),
                               replies=pair(args.replies), workdir=Path(tmp), mode=mode, speed=speed,
                               workers=args.workers)
            pc.progress(f"backfill ({mode}): {report[mode]['backfill_minutes']} min against a bound of "
                        f"{report[mode]['bound']['minutes']:.0f} min")
    return emit(report)


if __name__ == "__main__":
    sys.exit(main())
