"""A 500-post campaign for the distributed test, and ``python -m tests.distributed.world`` to serve it as a
process of its own.

"Fleet launch": 50 main, 300 influencer and 150 investor posts from Monday 2025-03-10 12:00 UTC, threshold 10.
The test's campaign watches a 2-hour window that starts whenever its processes are up; the world stays busy
for 5 hours so that window always holds new engagement, however late it starts.

- Before the start (the backfill): @fleet's post 0 has 250 retweets (three pages, so a SIGKILL can land
  between two of its pages), every 5th post 1 retweet, every 7th 1 reply, every 11th 1 quote.
- Likes grow for the first half hour, then stay (the final metrics poll is compared with the truth at the
  instant of its call; a like count between two whole numbers would depend on the millisecond).
- Then 24 retweets, 5 replies and 5 quotes in each half hour, on posts drawn at random, so the metrics
  polls keep finding counters that grew and deltas run on top of the backfill.
- 8 high-importance accounts (importance 12-30) engage once each, from 2 hours before to 1 hour after the
  start: 8 alerts, all due long before any window's end.
- Retweets and quotes allow 300 calls per 15 minutes (X's 75, four times): the backfill's 1,000 list calls
  still need four windows of the one budget all processes share, in about an hour instead of two (X's real
  figures are what tests/monitoring/test_scale.py and bench/ measure).
"""

from __future__ import annotations

import argparse
import signal
import threading

from socap.simulator import Scenario, hours, minutes
from socap.simulator.builder import ScenarioBuilder

POSTS = 500
ACTIVE_HOURS = 5
PER_HALF_HOUR = {"retweet": 24, "reply": 5, "quote": 5}
LIST_LIMIT = 300  # per 15 minutes, for retweets and quotes
IMPORTANT = [(12, "retweet", -hours(2)), (15, "reply", -hours(1)), (18, "quote", -minutes(40)),
             (21, "retweet", -minutes(10)), (24, "retweet", minutes(10)), (27, "quote", minutes(25)),
             (30, "reply", minutes(40)), (14, "retweet", minutes(55))]


def _category(index: int) -> str:
    return "main" if index % 10 == 0 else "investor" if index % 10 in (1, 2, 3) else "influencer"


def build(b: ScenarioBuilder) -> None:
    b.campaign("Fleet launch (500 posts)", start="2025-03-10T12:00:00Z", days=ACTIVE_HOURS / 24, threshold=10)
    for endpoint in ("GET /2/tweets/:id/retweets", "GET /2/tweets/:id/quote_tweets"):
        b.rate_limit(endpoint, LIST_LIMIT)
    b.seeds({"investor": 12, "vc": 10, "founder": 10})
    b.bystanders(20)
    fleet = b.account("fleet", name="Fleet", bio="Fleet: ship software to every edge.", followers=90_000)
    creators = b.accounts(30, "developer")
    backers = b.accounts(15, "investor")
    posts = []
    for i in range(POSTS):
        category = _category(i)
        author = fleet if category == "main" else creators[i % 30] if category == "influencer" else backers[i % 15]
        posts.append(b.post(category, author=author, text=f"Fleet is live: deploy in one command (post {i}).",
                            created=-hours(8) + minutes(i % 60), likes={hours(0): 10 + i % 90,
                                                                        minutes(30): 40 + i % 300}))
    crowd = b.accounts(700)
    engaged: set[tuple[int, str]] = set()  # one engagement per post and account (X allows one retweet)
    verbs = {"retweet": b.retweet, "reply": b.reply, "quote": b.quote}

    def engage(action: str, index: int, when) -> None:
        while True:
            person = b.rng.choice(crowd)
            if (index, person.id) not in engaged:
                engaged.add((index, person.id))
                verbs[action](posts[index], by=person, at=when)
                return

    b.retweets(posts[0], 250, between=(-hours(6), -hours(1)))
    for i in range(POSTS):
        for every, action in ((5, "retweet"), (7, "reply"), (11, "quote")):
            if i % every == 0 and i:
                engage(action, i, -hours(3) + minutes(i % 120))
    for half in range(2 * ACTIVE_HOURS):
        window = (minutes(30 * half + 1), minutes(30 * half + 29))
        for action, n in PER_HALF_HOUR.items():
            for when in b.spread(n, window):
                engage(action, b.rng.randrange(POSTS), when)
    for score, action, when in IMPORTANT:
        person = b.accounts(1, "investor", importance=score)[0]
        verbs[action](posts[b.rng.randrange(POSTS)], by=person, at=when)


FLEET = Scenario.from_function("t_distributed_fleet_500", build, name="Fleet launch (500 posts)")


def main() -> None:
    """Serve the fleet world on HOST:PORT with a shared clock spec, until SIGTERM (prints its URL first)."""
    from socap.clock import parse_clock
    from socap.simulator import SimulatorServer, create_app

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--clock", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with SimulatorServer(create_app(FLEET.build_world(), parse_clock(args.clock)), args.host, args.port) as server:
        print(f"simulator {server.url}", flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
