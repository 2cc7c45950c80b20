"""Scenario 7 end to end: rate limits and errors (100 posts, 1 day) — see
src/socap/simulator/scenarios/s07_rate_limits.py for what goes wrong when.

The faults are the ones the scenario declares (the simulator arms them at their instant): at D1 H2 X refuses
with a 429 every metrics request naming post 58; at D1 H6 one retweets request for post 4 fails with a 503;
at D1 H9 one metrics answer is garbled. What the user sees, through the API (and `socap status`):

- at D1 H2 the dashboard shows D1 H2 metrics for 99 posts and post 58 still at its D1 H1 M30 metrics, marked
  blocked until X's reset (D1 H2 M15); only that job is blocked, every other job keeps running;
- at the reset post 58 is polled again (from its stored baseline) and the engagement that waited for it shows;
- the 503 and the garbled answer are retried: nothing missing, nothing written twice;
- at the end: exactly the 526 engagements, X's final counters for every post, and post 58's change over the
  window equals X's (no double counting).
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

from socap.campaigns.models import Campaign
from socap.clock import parse_instant
from socap.monitoring import service as monitoring_service
from socap.simulator.scenarios.s07_rate_limits import STUMBLE, VICTIM
from tests.monitoring.calllog import LOOKUP, RETWEETS

COUNTERS = {"likes": "like_count", "retweet_count": "retweet_count", "reply_count": "reply_count",
            "quote_count": "quote_count", "impressions": "impression_count"}
MINUTE = timedelta(minutes=1)


def shown(post: dict) -> dict:
    """A post's counters as the dashboard shows them, named as X names them."""
    return {x: post[ours] for ours, x in COUNTERS.items()}


def x_counters(truth: dict) -> dict[str, dict]:
    return {p["id"]: {k: p["public_metrics"][k] for k in COUNTERS.values()} for p in truth["posts"]}


def status_of(s) -> dict:
    """What `socap status --json` prints for the campaign."""
    with s.rt.db.session() as session:
        return monitoring_service.campaign_status(session, session.get(Campaign, s.campaign_id), now=s.now())


def test_s07_a_429_blocks_only_one_posts_metrics_errors_are_retried_and_totals_are_exact(system):
    began = time.monotonic()
    s = system("7")
    ids = [p.id for p in s.world.campaign_posts()]
    victim, stumble = ids[VICTIM], ids[STUMBLE]
    refused_at, reset, previous = s.at("D1 H2"), s.at("D1 H2 M15"), s.at("D1 H1 M30")

    # ---- D1 H2: X refuses post 58's metrics; the other 99 posts get theirs, only post 58's job is blocked
    s.run_until(refused_at + MINUTE)
    posts = {p["tweet_id"]: p for p in s.get("summary")["posts"]}
    assert len(posts) == 100
    now_x, before_x = x_counters(s.truth(refused_at)), x_counters(s.truth(previous))
    fresh = {t for t, p in posts.items() if parse_instant(p["metrics_at"]) == refused_at}
    assert fresh == set(ids) - {victim}, "99 posts show this run's metrics"
    assert all(shown(posts[t]) == now_x[t] for t in fresh)
    assert parse_instant(posts[victim]["metrics_at"]) == previous
    assert shown(posts[victim]) == before_x[victim], "post 58 keeps its last snapshot"
    assert parse_instant(posts[victim]["blocked_until"]) == reset
    assert [t for t, p in posts.items() if p["blocked_until"]] == [victim]
    status = status_of(s)
    assert [(b["kind"], b["post"], b["until"]) for b in status["blocked_jobs"]] == [
        ("metrics", posts[victim]["url"], reset)]
    refusals = [c for c in s.calllog.between(refused_at, refused_at + MINUTE) if c["status"] == 429]
    assert refusals and all(victim in c["url"] for c in refusals)
    others_ran = Counter(c["endpoint"] for c in s.calllog.between(refused_at, refused_at + MINUTE)
                         if c["status"] == 200 and victim not in c["url"])
    assert others_ran[LOOKUP] >= 1 and sum(others_ran.values()) > others_ran[LOOKUP], \
        "the other posts' metrics and engagement jobs ran"
    # the engagement that reached post 58 between H1 M35 and H1 M55 waits for its metrics poll
    late = {e for e in s.capturable(refused_at) if e[0] == victim} - s.capturable(previous)
    assert Counter(action for _, action, _ in late) == {"retweet": 5, "reply": 3}
    assert not late & set(s.stored())
    victim_id = posts[victim]["id"]
    assert s.get(f"posts/{victim_id}")["engagers"]["total"] == len(
        {e for e in s.capturable(previous) if e[0] == victim})
    assert set(s.stored()) == s.capturable(refused_at) - late, "everything else is there"

    # ---- D1 H2 M15: X's reset; post 58 polled again, its engagement caught up
    s.run_until(reset - MINUTE)
    assert not [c for c in s.calllog.between(refused_at + MINUTE, reset) if victim in c["url"]], \
        "no call for post 58 before the reset"
    s.run_until(reset + MINUTE)
    detail = s.get(f"posts/{victim_id}")
    assert parse_instant(detail["post"]["metrics_at"]) == reset and detail["post"]["blocked_until"] is None
    assert shown(detail["post"]) == x_counters(s.truth(reset))[victim]
    assert detail["engagers"]["total"] == len({e for e in s.capturable(reset) if e[0] == victim})
    assert late <= set(s.stored())
    assert status_of(s)["blocked_jobs"] == []
    caught_up = min(parse_instant(p["at"]) for p in detail["metrics"] if parse_instant(p["at"]) > refused_at)

    # ---- D1 H6: a 503 on post 4's retweets list, retried in the same run
    stumbled_at = s.at("D1 H6")
    s.run_until(stumbled_at + 5 * MINUTE)
    calls = [c for c in s.calllog.between(stumbled_at, stumbled_at + 5 * MINUTE, RETWEETS) if stumble in c["url"]]
    assert [c["status"] for c in calls][:2] == [503, 200]
    new_rts = {e for e in s.capturable(stumbled_at) if e[0] == stumble and e[1] == "retweet"}
    assert len(new_rts - s.capturable(s.at("D1 H5 M30"))) == 4
    assert new_rts <= set(s.stored()), "post 4's four new retweets are stored in the same run"

    # ---- D1 H9: a garbled metrics answer, retried; no snapshot from it
    garbled_at = s.at("D1 H9")
    s.run_until(garbled_at + 5 * MINUTE)
    garbled = [c for c in s.calllog.between(garbled_at, garbled_at + 5 * MINUTE, LOOKUP) if c.get("fault")]
    assert len(garbled) == 1 and garbled[0]["status"] == 200
    posts = {p["tweet_id"]: p for p in s.get("summary")["posts"]}
    taken = {parse_instant(p["metrics_at"]) for p in posts.values()}
    assert len(taken) == 1 and garbled_at <= min(taken) < garbled_at + MINUTE, "one retried call, all 100 posts"
    retried_at = taken.pop()  # the client's backoff (on the virtual clock) before the retry
    at_retry = x_counters(s.truth(retried_at))
    assert all(shown(p) == at_retry[t] for t, p in posts.items())
    points = [parse_instant(p["at"]) for p in s.get(f"posts/{victim_id}")["metrics"]]
    assert [p for p in points if garbled_at <= p < garbled_at + MINUTE] == [retried_at], "no snapshot from it"

    # ---- the end: exact totals, no double counting
    s.finish()
    final_x = x_counters(s.truth(s.end))
    summary = s.get("summary")
    posts = {p["tweet_id"]: p for p in summary["posts"]}
    assert {t: shown(p) for t, p in posts.items()} == final_x, "X's final counters for every post"
    stored = s.stored()
    assert len(stored) == len(set(stored)) == 526, "no engagement stored twice, none missing"
    assert set(stored) == s.capturable(s.end)
    totals = summary["totals"]
    assert totals["engagements"]["value"] == 526
    for ours, x in COUNTERS.items():
        assert totals[ours]["value"] == sum(c[x] for c in final_x.values()), ours
    # post 58's change over the window, from its stored baseline, equals X's
    series = s.get(f"posts/{victim_id}")["metrics"]
    baseline, last = series[0], series[-1]
    start_x = x_counters(s.truth(parse_instant(baseline["at"])))[victim]
    assert parse_instant(baseline["at"]) == s.start
    assert (baseline["likes"], baseline["retweets"], baseline["replies"], baseline["quotes"]) == (
        start_x["like_count"], start_x["retweet_count"], start_x["reply_count"], start_x["quote_count"])
    change = {"likes": last["likes"] - baseline["likes"], "retweets": last["retweets"] - baseline["retweets"],
              "replies": last["replies"] - baseline["replies"], "quotes": last["quotes"] - baseline["quotes"]}
    assert change == {"likes": final_x[victim]["like_count"] - start_x["like_count"],
                      "retweets": final_x[victim]["retweet_count"] - start_x["retweet_count"],
                      "replies": final_x[victim]["reply_count"] - start_x["reply_count"],
                      "quotes": final_x[victim]["quote_count"] - start_x["quote_count"]}
    statuses = Counter((c["status"], c.get("fault")) for c in s.calllog.calls)
    assert {k for k in statuses if k[0] != 200 or k[1]} == {(429, "scripted"), (503, "scripted"), (200, "scripted")}
    final_status = status_of(s)
    assert final_status["blocked_jobs"] == [] and final_status["errors"] == []
    s.headline("rate_limits", refused_calls=len(refusals), blocked_until=reset, posts_fresh_at_h2=len(fresh),
               victim_caught_up=caught_up, late_engagements_found_at=caught_up, retried_503=1, garbled=1,
               engagements=totals["engagements"]["value"], likes=totals["likes"]["value"],
               victim_change=change, x_calls=sum(statuses.values()),
               wall_seconds=round(time.monotonic() - began, 1))
