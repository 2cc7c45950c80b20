"""Scenario 1 (spec: "Small product launch"): 3 posts, 3 days, threshold 10 — see
src/socap/simulator/scenarios/s01_small_launch.py for what happens when, and where the spec's numbers were
reconciled (42 engagements in the first run, not 40; 474 likes at D1 H6, not 225)."""

from __future__ import annotations

from collections import Counter

from socap.clock import parse_instant


def totals(summary: dict) -> dict[str, int]:
    return {name: delta["value"] for name, delta in summary["totals"].items()}


def metric_sum(truth: dict, field: str) -> int:
    return sum(p["public_metrics"][field] for p in truth["posts"])


def category_mix(summary_or_charts: dict) -> Counter:
    """The account categories the dashboard shows, VCs counted as investors (as the spec does)."""
    mix = Counter()
    for name, count in summary_or_charts.items():
        mix["investor" if name == "vc" else name] += count
    return mix


def test_first_run_finds_27_retweeters_12_repliers_3_quoters(system):
    s = system("1")
    s.run_until(s.at("D1 M1"))
    figures = {a: v for a, v in totals(s.get("summary")).items()
               if a in ("retweets", "replies", "quotes", "engagements")}
    s.headline("first_run", **figures)
    assert figures == {"retweets": 27, "replies": 12, "quotes": 3, "engagements": 42}


def test_small_launch_as_the_user_sees_it(system):
    s = system("1")
    assert s.created["job_count"] == 12 and len(s.created["posts"]) == 3
    before = s.get("summary")
    assert before["totals"]["engagements"]["value"] == 0 and s.get("alerts") == []

    # D1 H0: the first run backfills 42 engagements (27 / 12 / 3), no alert; the posts show X's metrics
    s.run_until(s.at("D1 M1"))
    first = s.get("summary")
    t = totals(first)
    assert (t["engagements"], t["retweets"], t["replies"], t["quotes"]) == (42, 27, 12, 3)
    assert t["engagements"] == len(s.capturable(s.start))
    assert {p["label"]: p["likes"] for p in first["posts"]} == {"main": 50, "influencer1": 200, "investor1": 30}
    assert s.get("alerts") == [] and s.receiver.messages == []
    listed = s.get("engagements")
    assert listed["total"] == 42
    assert Counter(r["action"] for r in listed["rows"]) == {"retweet": 27, "reply": 12, "quote": 3}

    # D1 H2: @johnvc's retweet alerts, he tops the list; main has 7 retweeters and 75 likes (+25)
    s.run_until(s.at("D1 H2 M1"))
    assert s.alert_texts() == ["Investor @johnvc (importance: 15) retweeted your main tweet"]
    assert s.alerts()[0]["at"] <= s.at("D1 H2")
    top = s.get("engagements")["rows"][0]
    assert (top["username"], top["importance"], top["action"], top["post_label"]) == ("johnvc", 15, "retweet", "main")
    main = next(p for p in s.get("summary")["posts"] if p["label"] == "main")
    drill = s.get(f"posts/{main['id']}", action="retweet")
    assert drill["engagers"]["total"] == 7
    likes = [p["likes"] for p in drill["metrics"]]
    assert likes[0] == 50 and likes[-1] == 75, likes

    # D1 H6: @techfounder's quote alerts; 35 retweets, 4 quotes; 2 investors, 1 founder, 5 developers, 30 others
    s.run_until(s.at("D1 H6 M1"))
    assert s.alert_texts()[1] == ('Founder @techfounder (importance: 22) quote-tweeted your influencer tweet: '
                                  '"This product is game-changing for developers!"')
    h6 = s.get("summary")
    t6 = totals(h6)
    truth6 = s.truth(s.at("D1 H6"))
    assert (t6["retweets"], t6["quotes"]) == (35, 4)
    assert (t6["retweet_count"], t6["quote_count"]) == (35, 4)
    assert t6["likes"] == metric_sum(truth6, "like_count") == 474  # the spec's 225 matches no reading
    assert category_mix(s.get("charts")["account_categories"]) == {"investor": 2, "founder": 1, "developer": 5,
                                                                    "other": 30}

    # D2 H12: three VC alerts about 7 minutes apart, highest first; the media reply (8) does not alert; 65 in all
    s.run_until(s.at("D2 H12 M30"))
    vc = [m for m in s.alerts() if "@venturecapital" in m["body"]["message"]]
    assert [m["body"]["message"] for m in vc] == [
        "VC @venturecapital1 (importance: 18) retweeted your investor tweet",
        "VC @venturecapital2 (importance: 15) retweeted your investor tweet",
        "VC @venturecapital3 (importance: 12) retweeted your investor tweet",
    ]
    gaps = [(b["at"] - a["at"]).total_seconds() / 60 for a, b in zip(vc, vc[1:], strict=False)]
    assert all(5 <= g <= 7 for g in gaps), gaps
    assert len(s.alerts()) == 5 and not any("devwirenews" in text for text in s.alert_texts())
    media = s.get("engagements", min_importance=8)["rows"]
    assert "devwirenews" in [r["username"] for r in media]
    d2 = totals(s.get("summary"))
    assert d2["engagements"] == len(s.capturable(s.at("D2 H12"))) == 65
    mix = category_mix(s.get("charts")["account_categories"])
    assert (mix["investor"], mix["founder"], mix["developer"]) == (5, 1, 8)

    # D3 end: completed, the final report, the completion summary once
    campaign = s.finish()
    assert parse_instant(campaign["ends_at"]) == s.end
    report = s.get("report")
    truth = s.truth(s.end)
    rt = report["totals"]
    final = {k: rt[k]["value"] for k in ("engagements", "likes", "retweets", "quotes", "replies", "unique_accounts")}
    assert report["kind"] == "final"
    assert final == {"engagements": 120, "likes": 1500, "retweets": 85, "quotes": 12, "replies": 23,
                     "unique_accounts": 95}
    assert final["likes"] == metric_sum(truth, "like_count")
    stored = s.stored()
    assert len(stored) == len(set(stored)) and set(stored) == s.capturable(s.end)
    mix = category_mix({c["name"]: c["count"] for c in report["account_categories"]})
    assert mix == {"investor": 8, "founder": 3, "developer": 15, "media": 5, "other": 64}
    importance = sorted((a["importance"] for a in truth["accounts"] if a["engagements"]), reverse=True)
    assert [e["importance"] for e in report["top_engagers"][:10]] == importance[:10]
    assert [e["username"] for e in report["top_engagers"][:5]] == ["techfounder", "venturecapital1", "johnvc",
                                                                   "venturecapital2", "venturecapital3"]
    likes = [p["likes"] for p in report["charts"]["metrics"]]
    assert likes == sorted(likes) and likes[0] == 280 and likes[-1] == 1500
    assert report["alerts"] == {"sent": 5, "failed": 0, "cancelled": 0, "queued": 0}
    summary = s.summary_message()
    assert summary.startswith('Campaign "Product Launch Q1 2025" completed.')
    assert "120 engagements by 95 accounts (5 high-importance); 1,500 likes" in summary
    assert len(s.alerts()) == 5, "nothing after completion"
    s.headline("final", engagements=final["engagements"], unique_accounts=final["unique_accounts"],
               likes=final["likes"], retweets=final["retweets"], quotes=final["quotes"], replies=final["replies"],
               h6_likes=t6["likes"], d2h12_engagements=d2["engagements"], alerts=len(s.alerts()),
               vc_alert_gaps_min=[round(g, 2) for g in gaps], categories=dict(mix))
