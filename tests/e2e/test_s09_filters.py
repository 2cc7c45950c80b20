"""Scenario 9 end to end: filtering and dashboard views (20 posts, 3 days) — see
src/socap/simulator/scenarios/s09_filters.py (the user looks at D3 H8, 2025-03-12 17:00 UTC; "importance > 15"
and "> 20" are min_importance 16 and 21; "today" is the UTC day, "last 24 hours" the 24 hours before).

Through the API, as the dashboard asks for them: each filter's engagement list, totals and charts are
recomputed for the filtered view and equal the simulator's truth; the post drill-down (metrics, engagers,
timeline) and the account drill-down (every post engaged, the type, the time).
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

from socap.clock import parse_instant
from socap.simulator.scenarios.s09_filters import LOOK_AT

FILTERS = {
    "main_only": {"category": "main"},
    "retweets_only": {"action": "retweet"},
    "importance_over_15": {"min_importance": 16},
    "last_24_hours": {"range": "24h"},
    "today": {"range": "today"},
    "combined": {"category": "influencer", "action": "retweet", "min_importance": 21, "range": "today"},
}


def truth_rows(s, now) -> list[dict]:
    """Captured engagements as of ``now``, with the post's label (main1, influencer3 …) and category and the
    account's importance, from the simulator's truth."""
    truth = s.truth(now)
    labels = {}
    for category in ("main", "influencer", "investor"):
        for n, post in enumerate((p for p in truth["posts"] if p["category"] == category), 1):
            labels[post["id"]] = (category, f"{category}{n}")
    importance = {a["id"]: (a["importance"], a["category"]) for a in truth["accounts"]}
    rows = []
    for e in truth["engagements"]:
        if e["direct"] and e["visible"]:
            category, label = labels[e["post_id"]]
            rows.append({**e, "category": category, "label": label, "at": parse_instant(e["engaged_at"]),
                         "importance": importance[e["account_id"]][0]})
    return rows


def select(rows, now, *, category=None, action=None, min_importance=0, range="all"):
    since = {"all": None, "24h": now - timedelta(hours=24),
             "today": now.replace(hour=0, minute=0, second=0, microsecond=0)}[range]
    return [r for r in rows if (category is None or r["category"] == category)
            and (action is None or r["action"] == action) and r["importance"] >= min_importance
            and (since is None or since <= r["at"] <= now)]


def all_rows(s, **params) -> list[dict]:
    """Every row of the filtered engagement list, page by page (50 a page), checking the order."""
    first = s.get("engagements", **params)
    rows = list(first["rows"])
    for page in range(2, first["pages"] + 1):
        rows += s.get("engagements", page=page, **params)["rows"]
    assert len(rows) == first["total"]
    scores = [r["importance"] for r in rows]
    assert scores == sorted(scores, reverse=True), "the list is sorted by importance"
    return rows


def key(row) -> tuple[str, str, str]:
    return (row["username"], row.get("post_label") or row["label"], row["action"])


def test_s09_filters_drill_downs_and_category_comparison_through_the_api(system):
    began = time.monotonic()
    s = system("9")
    look = s.start + LOOK_AT
    assert look == parse_instant("2025-03-12T17:00:00Z")
    # the 17:00 run: metrics at 17:00, the engagement jobs its counters call for at the next tick (17:01)
    s.run_until(look + timedelta(minutes=1))
    now = s.now()  # the API resolves "today" and "last 24 hours" against this instant
    truth = truth_rows(s, look)  # what the 17:00 run can have found
    x = {p["id"]: p["public_metrics"] for p in s.truth(look)["posts"]}
    posts = {p["tweet_id"]: p for p in s.get("summary")["posts"]}
    post_category = {t: p["category"] for t, p in posts.items()}

    measured = {}
    for name, params in {"all": {}, **FILTERS}.items():
        want = select(truth, now, **params)
        rows = all_rows(s, **params)
        got_c, want_c = Counter(key(r) for r in rows), Counter(key(r) for r in want)
        assert got_c == want_c, (name, got_c - want_c, want_c - got_c, len(rows), len(want))
        summary = s.get("summary", **params)
        totals = summary["totals"]
        # totals recomputed for the filtered view
        assert totals["engagements"]["value"] == len(want), name
        assert totals["unique_accounts"]["value"] == len({r["account_id"] for r in want}), name
        by_action = Counter(r["action"] for r in want)
        assert (totals["retweets"]["value"], totals["replies"]["value"], totals["quotes"]["value"]) == (
            by_action["retweet"], by_action["reply"], by_action["quote"]), name
        assert totals["high_importance_accounts"]["value"] == len(
            {r["account_id"] for r in want if r["importance"] >= 10}), name
        # X's counters follow the post-category filter only
        selected = [t for t in x if "category" not in params or post_category[t] == params["category"]]
        assert totals["likes"]["value"] == sum(x[t]["like_count"] for t in selected), name
        # charts recomputed for the filtered view
        charts = s.get("charts", **params)
        assert sum(b["retweets"] + b["replies"] + b["quotes"] for b in charts["timeline"]) == len(want), name
        assert sum(b["retweets"] for b in charts["timeline"]) == by_action["retweet"], name
        assert sum(charts["account_categories"].values()) == len({r["account_id"] for r in want}), name
        if "range" not in params:
            assert charts["metrics"][-1]["likes"] == sum(x[t]["like_count"] for t in selected), name
        if params.get("range"):
            hours = [parse_instant(b["hour"]) for b in charts["timeline"]]
            assert min(hours) >= (now - timedelta(hours=24) if params["range"] == "24h"
                                  else now.replace(hour=0)).replace(minute=0), name
        measured[name] = len(rows)

    # the scenario's figures for seed 0
    assert measured == {"all": 327, "main_only": 65, "retweets_only": 240, "importance_over_15": 11,
                        "last_24_hours": 136, "today": 99, "combined": 3}
    combined = all_rows(s, **FILTERS["combined"])
    assert sorted((r["username"], r["post_label"]) for r in combined) == [
        ("gracevc", "influencer3"), ("harborangel", "influencer7"), ("pressmaxine", "influencer1")]
    assert [r["importance"] for r in combined] == [34, 27, 21]
    above15 = Counter(r["username"] for r in all_rows(s, **FILTERS["importance_over_15"]))
    assert above15 == {"gracevc": 3, "harborangel": 3, "bigfund": 2, "pressmaxine": 1, "edgefounder": 1,
                       "sixteendev": 1}
    combined_charts = s.get("charts", **FILTERS["combined"])
    assert combined_charts["account_categories"] == {"media": 1, "vc": 1, "investor": 1}
    # the filters live in the URL: the canonical query string comes back in the summary
    assert s.get("summary", **FILTERS["combined"])["filters"]["min_importance"] == 21

    # ---- compare categories: influencer posts drive the most engagement
    cards = {c["category"]: c for c in s.get("categories")["cards"]}
    assert {k: c["engagements"] for k, c in cards.items()} == {"main": 65, "influencer": 165, "investor": 97}
    assert max(cards, key=lambda k: cards[k]["engagements"]) == "influencer"
    assert {k: c["posts"] for k, c in cards.items()} == {"main": 4, "influencer": 10, "investor": 6}

    # ---- post drill-down: influencer3's metrics, engagers and timeline
    label_of = {}
    for category in ("main", "influencer", "investor"):
        for n, p in enumerate((p for p in posts.values() if p["category"] == category), 1):
            label_of[f"{category}{n}"] = p
    post = label_of["influencer3"]
    detail = s.get(f"posts/{post['id']}")
    want = [r for r in truth if r["label"] == "influencer3"]
    engagers = detail["engagers"]["rows"]
    assert detail["engagers"]["total"] == len(want) == len(engagers)
    assert Counter(key(r) for r in engagers) == Counter(key(r) for r in want)
    assert {("gracevc", "retweet"), ("harborangel", "reply")} <= {(r["username"], r["action"]) for r in engagers}
    assert sum(b["retweets"] + b["replies"] + b["quotes"] for b in detail["timeline"]) == len(want)
    last = detail["metrics"][-1]
    assert parse_instant(last["at"]) == look
    assert last["likes"] == x[post["tweet_id"]]["like_count"] == detail["post"]["likes"]
    assert len(detail["metrics"]) == 2 * 48 + 16 + 1, "one point per metrics poll since the start"
    # the same drill-down filtered: only its retweets
    retweets = s.get(f"posts/{post['id']}", action="retweet")["engagers"]
    assert retweets["total"] == sum(1 for r in want if r["action"] == "retweet")

    # ---- account drill-down: @harborangel's three engagements, with type and time
    ids = {a["username"]: a["id"] for a in s.truth(look)["accounts"]}
    harbor = s.get(f"accounts/{ids['harborangel']}")
    assert harbor["importance"] == 27
    assert [(e["post_label"], e["action"], parse_instant(e["engaged_at"])) for e in harbor["engagements"]] == [
        ("influencer4", "retweet", s.at("D2 H14 M50")), ("influencer3", "reply", s.at("D3 H1")),
        ("influencer7", "retweet", s.at("D3 H5 M20"))]
    grace = s.get(f"accounts/{ids['gracevc']}")
    assert [(e["post_label"], e["action"]) for e in grace["engagements"]] == [
        ("main1", "retweet"), ("influencer3", "retweet"), ("influencer5", "quote")]
    # the list marks multi-post engagers ("engaged with N posts")
    row = next(r for r in combined if r["username"] == "harborangel")
    assert row["posts_engaged"] == 3 and sorted(row["other_posts"]) == [
        ["influencer3", "reply"], ["influencer4", "retweet"], ["influencer7", "retweet"]]

    # ---- a later look: @gracevc's retweet of influencer8 at 17:20 shows after the 17:30 run
    s.run_until(look + timedelta(minutes=31))
    grace = s.get(f"accounts/{ids['gracevc']}")
    assert [e["post_label"] for e in grace["engagements"]][-1] == "influencer8"
    s.headline("filters", **measured, combined_accounts=[r["username"] for r in combined],
               above15_accounts=dict(above15), category_engagements={k: c["engagements"] for k, c in cards.items()},
               harborangel_posts=[e["post_label"] for e in harbor["engagements"]],
               wall_seconds=round(time.monotonic() - began, 1))
