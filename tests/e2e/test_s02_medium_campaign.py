"""Scenario 2 (spec: "Medium campaign"): 10 posts, 7 days, threshold 15 — see
src/socap/simulator/scenarios/s02_medium_campaign.py (the busy runs of days 2-3, the viral run at D4 H15,
848 unique accounts rather than 850)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

from socap.clock import parse_instant
from tests.e2e.harness import pages

FIRST_RUN_ALERTS = [
    "Investor @priyaangel (importance: 41) retweeted your main tweet",
    "VC @northwind_gp (importance: 37) replied to your investor tweet",
    "Investor @marcusinvests (importance: 33) retweeted your main tweet",
    "Founder @devtoolsdan (importance: 29) quote-tweeted your influencer tweet",
    "Investor @elenaseeds (importance: 26) retweeted your main tweet",
    "VC @summitpartner (importance: 24) replied to your investor tweet",
    "Founder @shipfastsara (importance: 22) quote-tweeted your influencer tweet",
    "VC @lakeside_gp (importance: 18) replied to your investor tweet",
]
BUSY = ["D2 H13 M30", "D2 H14", "D2 H14 M30", "D2 H15", "D2 H15 M30", "D2 H16",
        "D3 H13 M30", "D3 H14", "D3 H14 M30", "D3 H15", "D3 H15 M30", "D3 H16"]
BUSY_NEW = [22, 25, 28, 24, 30, 21, 26, 23, 27, 29, 20, 25]
BATCHES = {"D2 H14": 3, "D2 H15 M30": 5, "D3 H14": 4, "D3 H15 M30": 4}
IMPORTANCE = re.compile(r"\(importance: (\d+)\)")


def value(summary: dict, name: str) -> int:
    return summary["totals"][name]["value"]


def importance(message: dict) -> int:
    return int(IMPORTANCE.search(message["body"]["message"]).group(1))


def test_medium_campaign_as_the_user_sees_it(system):
    s = system("2")
    assert s.created["job_count"] == 40
    assert Counter(p["category"] for p in s.created["posts"]) == {"main": 2, "influencer": 5, "investor": 3}

    # D1 H0: 150 engagements, 8 alerts over 20 minutes (150 s apart), highest importance first
    s.run_until(s.at("D1 H0 M20"))
    first = s.get("summary")
    assert value(first, "engagements") == len(s.capturable(s.start)) == 150
    sent = s.alerts()
    assert [m["body"]["message"].split(': "')[0] for m in sent] == FIRST_RUN_ALERTS
    texts = {e["username"]: " ".join(e["text"].split()) for e in s.truth(s.start)["engagements"]}
    for m in sent:
        head, _, quoted = m["body"]["message"].partition(': "')
        if quoted:  # replies and quotes carry the engaging post's text
            assert texts[head.split("@")[1].split(" ")[0]].startswith(quoted.rstrip('"').rstrip("…"))
    assert [m["at"] for m in sent] == [s.start + i * timedelta(seconds=150) for i in range(8)]

    # D1 H6: nothing new; the list holds the 150 engagers by importance, 3 pages of 50
    s.run_until(s.at("D1 H6 M1"))
    assert value(s.get("summary"), "engagements") == 150
    listed = [s.get("engagements", page=p) for p in (1, 2, 3)]
    assert listed[0]["total"] == 150 and listed[0]["pages"] == 3
    scores = [r["importance"] for page in listed for r in page["rows"]]
    assert len(scores) == 150 and scores == sorted(scores, reverse=True)
    assert [c["category"] for c in s.get("summary")["categories"]] == ["main", "influencer", "investor"]

    # days 2-3: likes 500 → 1,200 → 2,500; the busy runs bring 20-30 each; four alert batches of 3, 5, 4, 4
    likes, new_per_run = {}, []
    for when in ["D2 H0", *BUSY[:6], "D3 H0", *BUSY[6:], "D4 H0"]:
        s.run_until(s.at(when) + timedelta(minutes=1))
        summary = s.get("summary")
        if when.endswith("H0"):
            likes[when] = value(summary, "likes")
            continue
        delta = summary["totals"]["engagements"]
        assert delta["value"] == len(s.capturable(s.at(when)))
        new_per_run.append(delta["change"])
    assert likes == {"D2 H0": 500, "D3 H0": 1200, "D4 H0": 2500}
    assert new_per_run == BUSY_NEW
    for run, n in BATCHES.items():
        batch = [m for m in s.alerts() if s.at(run) <= m["at"] < s.at(run) + timedelta(minutes=30)]
        assert len(batch) == n, run
        assert batch[-1]["at"] - batch[0]["at"] < timedelta(minutes=20)
        assert [importance(m) for m in batch] == sorted((importance(m) for m in batch), reverse=True)
    assert len(s.alerts()) == 8 + 16

    # filters apply to the list and the totals, as the truth says
    truth = s.truth(s.at("D4 H0"))
    scores = {a["username"]: a["importance"] for a in truth["accounts"]}
    visible = [e for e in truth["engagements"] if e["direct"] and e["visible"]]
    category = {p["id"]: p["category"] for p in truth["posts"]}
    for params, expected in (
        ({"category": "influencer"}, [e for e in visible if category[e["post_id"]] == "influencer"]),
        ({"action": "quote"}, [e for e in visible if e["action"] == "quote"]),
        ({"min_importance": 16}, [e for e in visible if scores[e["username"]] >= 16]),
        ({"category": "main", "action": "retweet"},
         [e for e in visible if category[e["post_id"]] == "main" and e["action"] == "retweet"]),
        ({"since": "2025-02-11T22:00:00Z", "until": "2025-02-12T01:00:00Z"},
         [e for e in visible if "2025-02-11T22:00:00" <= e["engaged_at"][:19] <= "2025-02-12T01:00:00"]),
    ):
        assert s.get("engagements", **params)["total"] == len(expected), params
        assert value(s.get("summary", **params), "engagements") == len(expected), params

    # D4 H15: influencer post 2 goes viral, 200 new retweeters fetched as a delta; 15 alerts, 80 s apart
    viral = next(p for p in s.get("summary")["posts"] if p["label"] == "influencer2")
    s.run_until(s.at("D4 H15 M29"))
    cycle = [c for c in s.calllog.between(s.at("D4 H15"), s.at("D4 H15 M30"), "GET /2/tweets/:id/retweets")
             if viral["tweet_id"] in c["url"]]
    assert 1 <= len(cycle) <= pages(200), len(cycle)
    burst = [m for m in s.alerts() if s.at("D4 H15") <= m["at"] < s.at("D4 H15 M30")]
    assert len(burst) == 15
    assert [m["at"] - s.at("D4 H15") for m in burst] == [i * timedelta(seconds=80) for i in range(15)]
    assert [importance(m) for m in burst] == sorted((importance(m) for m in burst), reverse=True)

    # the end: 850 engagements by 848 accounts, 45 important, 47 alerts; @bigvc engaged with 3 tweets
    s.finish()
    # the viral post's likes jumped by 1,500 in the viral hour (its drill-down's metrics)
    metrics = s.get(f"posts/{viral['id']}")["metrics"]
    by_time = {parse_instant(p["at"]): p["likes"] for p in metrics}
    jump = by_time[s.at("D4 H15 M30")] - by_time[s.at("D4 H14 M30")]
    assert jump >= 1500, jump
    report = s.get("report")
    truth = s.truth(s.end)
    stored = s.stored()
    assert len(stored) == len(set(stored)) and set(stored) == s.capturable(s.end)
    t = report["totals"]
    assert (t["engagements"]["value"], t["unique_accounts"]["value"], report["high_importance_accounts"]) == (
        850, 848, 45)
    assert report["high_importance_accounts"] == len(truth["summary"]["important_accounts"])
    assert len(s.alerts()) == 47 and report["alerts"]["sent"] == 47
    mix = Counter()
    for share in report["account_categories"]:
        mix["investor" if share["name"] == "vc" else share["name"]] += share["count"]
    assert mix == {"investor": 12, "founder": 8, "developer": 25, "media": 8, "other": 795}
    bigvc = next(r for r in s.get("engagements", min_importance=45)["rows"] if r["username"] == "bigvc")
    assert bigvc["posts_engaged"] == 3
    assert sorted(map(tuple, bigvc["other_posts"])) == [("influencer1", "reply"), ("investor1", "quote"),
                                                        ("main1", "retweet")]
    detail = s.get(f"accounts/{bigvc['account_id']}")
    assert [(e["post_label"], e["action"]) for e in detail["engagements"]] == [
        ("main1", "retweet"), ("influencer1", "reply"), ("investor1", "quote")]
    assert parse_instant(report["peak_hour"]["hour"]) == s.at("D4 H14")
    per_day = Counter()
    for bucket in report["charts"]["timeline"]:
        day = (parse_instant(bucket["hour"]) - s.start).days + 1
        per_day[day] += bucket["retweets"] + bucket["replies"] + bucket["quotes"]
    assert max(per_day, key=per_day.get) in (4, 5) and per_day[6] > per_day[7]
    s.headline("final", first_run=150, first_run_alerts=len(sent), busy_runs=new_per_run, likes=likes,
               viral_retweet_calls=len(cycle), viral_alerts=len(burst), viral_likes_jump=jump,
               engagements=t["engagements"]["value"], unique_accounts=t["unique_accounts"]["value"],
               high_importance=report["high_importance_accounts"], alerts=len(s.alerts()),
               categories=dict(mix), peak_hour=report["peak_hour"]["hour"], per_day=dict(sorted(per_day.items())))
