"""Scenario 1 (spec: "Small product launch"): 3 posts, 3 days, threshold 10 — see
src/socap/simulator/scenarios/s01_small_launch.py for what happens when."""

from __future__ import annotations


def test_first_run_finds_27_retweeters_12_repliers_3_quoters(system):
    s = system("1")
    s.run_until(s.at("D1 M1"))
    totals = s.get("summary")["totals"]
    figures = {a: totals[a]["value"] for a in ("retweets", "replies", "quotes", "engagements")}
    s.headline("first_run", **figures)
    assert figures == {"retweets": 27, "replies": 12, "quotes": 3, "engagements": 42}
