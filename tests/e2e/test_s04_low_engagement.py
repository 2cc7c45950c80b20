"""Scenario 4 (spec: "Low engagement campaign"): 4 posts, 3 days, threshold 5, 15 engagements in five runs,
two alerts — see src/socap/simulator/scenarios/s04_low_engagement.py."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from socap.clock import parse_instant
from tests.monitoring.calllog import LOOKUP, cycles

NEW = {"D1 H0": 3, "D1 H3": 4, "D1 H7": 2, "D2 H4": 3, "D2 H20 M30": 3}


def test_quiet_campaign_costs_one_call_a_quiet_run(system):
    s = system("4")
    found = {}
    for run in NEW:
        s.run_until(s.at(run) + timedelta(minutes=1))
        delta = s.get("summary")["totals"]["engagements"]
        assert delta["value"] == len(s.capturable(s.at(run)))
        found[run] = delta["change"]
    assert found == NEW
    s.finish()

    report = s.get("report")
    t = {k: v["value"] for k, v in report["totals"].items()}
    assert (t["engagements"], t["unique_accounts"], t["retweets"], t["replies"], t["quotes"]) == (15, 15, 9, 3, 3)
    assert s.get("engagements")["total"] == 15
    assert report["high_importance_accounts"] == 2
    stored = s.stored()
    assert len(stored) == len(set(stored)) and set(stored) == s.capturable(s.end)
    # likes (the four posts summed) 50 → 75 → 100: the cumulative chart at the start, halfway and the end
    series = {parse_instant(p["at"]): p["likes"] for p in report["charts"]["metrics"]}
    first_likes, mid_likes = series[s.start], series[s.at("D2 H12")]
    assert (first_likes, mid_likes, t["likes"]) == (50, 75, 100)

    # two alerts, each as its run's batch starts
    assert s.alert_texts() == [
        "VC @knitcapital (importance: 9) retweeted your investor tweet",
        'Media @craftwire (importance: 6) quote-tweeted your influencer tweet: '
        '"A pattern tool built by knitters, for knitters."',
    ]
    assert [m["at"] for m in s.alerts()] == [s.at("D1 H7"), s.at("D2 H20 M30")]
    assert report["alerts"]["sent"] == 2

    # efficiency: 145 runs; the 140 that find nothing cost one metrics call each and fetch no list
    per_cycle = cycles(s.calllog.calls, s.start)
    busy = {k for k, n in per_cycle.items() if n > 1}
    assert busy == {int((s.at(run) - s.start) / timedelta(minutes=30)) for run in NEW}
    quiet = [k for k in per_cycle if k not in busy]
    assert len(quiet) == 140
    lookups_only = Counter(c["endpoint"] for c in s.calllog.calls
                           if int((c["at"] - s.start) / timedelta(minutes=30)) in quiet)
    assert lookups_only == {LOOKUP: 140}
    cost = report["cost"]
    assert cost["runs"] == 145
    s.headline("final", new_per_run=found, engagements=t["engagements"], alerts=s.alert_texts(),
               likes=[first_likes, mid_likes, t["likes"]], runs=cost["runs"], calls=cost["calls"],
               calls_by_endpoint=cost["calls_by_endpoint"], quiet_runs_one_call=len(quiet),
               cost_usd=cost["cost_usd"])
