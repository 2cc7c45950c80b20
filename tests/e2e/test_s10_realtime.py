"""Scenario 10 end to end, measured: real-time updates (3 posts, 1 day) — see
src/socap/simulator/scenarios/s10_realtime.py (its "Interpretations": the spec's "within 1-2 minutes" is read
as the issue's measurable promise, visible through the API within one poll interval plus 60 s).

A dashboard is open the whole day: after every engine step (dispatcher tick, queue, outbox — nothing in SOCAP
changes between steps) it asks the API for the summary and the engagement list, as the page's refresh does.
For every engagement the simulator's truth knows, the test records when it first showed through the API and
measures the latency on the virtual clock (from when it happened, or from the campaign's start for the 20
made before it). Every engagement must show within 30 min + 60 s, and the campaign's data version must
change whenever the list does. Scenario 10's moment: @mayareports' retweet at D1 H1 M07 shows after the
D1 H1 M30 run with its alert, and total likes go 1,000 → 1,050.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from socap.clock import parse_instant
from socap.monitoring.engine import drive
from socap.simulator.scenarios.s10_realtime import RETWEET_AT, SEEN_BY

PROMISE = timedelta(minutes=30, seconds=60)  # one poll interval plus 60 s


class OpenDashboard:
    """What an open dashboard sees through the API after each engine step (``drive``'s on_tick hook)."""

    def __init__(self, s):
        self.s = s
        self.first_seen: dict[str, object] = {}  # source tweet id → instant it first showed
        self.versions: list[tuple[object, int]] = []  # (instant, data_version) whenever it changed
        self.likes: list[tuple[object, int, int | None]] = []  # (instant, total likes, change) when it changed
        self.rows = frozenset()

    def __call__(self, *_ignored) -> None:
        s = self.s
        s.calllog.collect()
        now = s.now()
        summary = s.get("summary")
        first = s.get("engagements")
        rows = list(first["rows"])
        for page in range(2, first["pages"] + 1):
            rows += s.get("engagements", page=page)["rows"]
        seen = frozenset(r["source_tweet_id"] for r in rows)
        version = summary["data_version"]
        if not self.versions or self.versions[-1][1] != version:
            self.versions.append((now, version))
        if seen != self.rows:
            assert self.versions[-1][0] == now, f"the list changed at {now} without a new data version"
            assert summary["totals"]["engagements"]["value"] == len(seen)
            for source in seen - self.rows:
                self.first_seen[source] = now
            self.rows = seen
        likes = summary["totals"]["likes"]
        if not self.likes or self.likes[-1][1] != likes["value"]:
            self.likes.append((now, likes["value"], likes["change"]))


def test_s10_every_engagement_shows_within_one_poll_interval_plus_60s_and_the_data_version_changes(system):
    began = time.monotonic()
    s = system("10")
    dashboard = OpenDashboard(s)
    dashboard()
    drive(s.rt, s.queue, until=s.end - timedelta(minutes=1), on_tick=dashboard)
    assert s.get("")["status"] == "active"

    truth = [e for e in s.truth(s.end)["engagements"] if e["direct"] and e["visible"]]
    assert len(truth) == 60
    latencies = {}
    for e in truth:
        happened = parse_instant(e["engaged_at"])
        if happened >= s.end - timedelta(minutes=1):
            continue
        assert e["source_tweet_id"] in dashboard.first_seen, f"{e['username']}'s {e['action']} never showed"
        shown = dashboard.first_seen[e["source_tweet_id"]]
        latencies[e["source_tweet_id"]] = (e["username"], e["action"], happened, shown, shown - max(happened, s.start))
    assert len(latencies) == 60
    late = [v for v in latencies.values() if v[4] > PROMISE]
    assert not late, late
    for username, action, happened, shown, latency in sorted(latencies.values(), key=lambda v: v[2]):
        print(f"s10 latency {latency.total_seconds():7.1f} s  @{username} {action} at {happened:%H:%M:%S}, "
              f"shown at {shown:%H:%M:%S}")
    during = [v[4] for v in latencies.values() if v[2] >= s.start]
    before = [v[4] for v in latencies.values() if v[2] < s.start]

    # ---- the moment: @mayareports' retweet (D1 H1 M07) shows after the D1 H1 M30 run, with a new data version
    maya = next(v for v in latencies.values() if v[0] == "mayareports")
    assert maya[2] == s.start + RETWEET_AT
    assert s.start + SEEN_BY <= maya[3] <= s.start + SEEN_BY + timedelta(minutes=1)
    version_before = [v for t, v in dashboard.versions if t < maya[3]][-1]
    version_after = next(v for t, v in dashboard.versions if t == maya[3])
    assert version_after != version_before
    # the alert went out with it, the run's only one
    alerts = s.alerts()
    assert [m["body"]["message"] for m in alerts] == ["Media @mayareports (importance: 12) retweeted your main tweet"]
    assert maya[3] <= alerts[0]["at"] <= maya[3] + timedelta(seconds=15)
    # total likes 1,000 after the D1 H1 run, 1,050 (+50) after the D1 H1 M30 run
    likes = {t: (value, change) for t, value, change in dashboard.likes}
    at_h1 = [v for t, v in likes.items() if s.at("D1 H1") <= t < s.at("D1 H1 M30")]
    at_h1m30 = [v for t, v in likes.items() if s.at("D1 H1 M30") <= t < s.at("D1 H2")]
    assert [v[0] for v in at_h1] == [1000] and at_h1m30 == [(1050, 50)]
    # the charts have the new point
    points = [(parse_instant(p["at"]), p["likes"]) for p in s.get("charts")["metrics"]]
    assert (s.at("D1 H1"), 1000) in points and (s.at("D1 H1 M30"), 1050) in points

    s.finish()
    assert len(s.stored()) == 60 and set(s.stored()) == s.capturable(s.end)
    worst = max(during)
    s.headline("realtime", engagements_checked=len(latencies), during_the_campaign=len(during),
               max_latency_seconds=worst.total_seconds(),
               mean_latency_seconds=round(sum(d.total_seconds() for d in during) / len(during), 1),
               before_start_shown_after_seconds=max(before).total_seconds(),
               promise_seconds=PROMISE.total_seconds(), mayareports_latency_seconds=maya[4].total_seconds(),
               data_versions=len(dashboard.versions), likes_h1_to_h1m30=[at_h1[0][0], at_h1m30[0][0]],
               wall_seconds=round(time.monotonic() - began, 1))


@pytest.mark.serial  # the threaded engine on a virtual clock: it wants the machine to itself
def test_s10_on_the_threaded_engine_the_retweet_shows_within_the_promise(system):
    """The same moment on the real engine (scheduler, outbox and 2 worker threads on a VirtualClock): the API,
    asked every 30 virtual seconds, shows @mayareports' retweet with a new data version within one poll
    interval plus 60 s. The clock runs at 4,000× to D1 H0 M50, then at 300× through the runs that matter (a
    real second is then 5 virtual minutes: a much faster clock would measure the machine's load, not SOCAP)."""
    began = time.monotonic()
    s = system("10", workers=2, speed=4000)
    s.run_until(s.at("D1 H0 M50"))
    s.set_speed(300)
    happened = s.start + RETWEET_AT
    s.run_until(happened - timedelta(minutes=1))
    before = s.get("summary")["data_version"]
    assert "mayareports" not in {r["username"] for r in s.get("engagements")["rows"]}
    shown = version = None
    while s.now() < happened + PROMISE + timedelta(minutes=5):
        looked_at = s.now()
        summary = s.get("summary")
        if "mayareports" in {r["username"] for r in s.get("engagements")["rows"]}:
            shown, version = looked_at, summary["data_version"]
            break
        s.run_until(looked_at + timedelta(seconds=30))
    assert shown is not None, "the retweet never showed"
    latency = shown - happened
    assert latency <= PROMISE, latency
    assert version != before
    s.headline("realtime_threaded", mayareports_latency_seconds=round(latency.total_seconds(), 1),
               promise_seconds=PROMISE.total_seconds(), data_version_before=before, data_version_after=version,
               wall_seconds=round(time.monotonic() - began, 1))
