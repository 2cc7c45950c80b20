"""Scenario 8 end to end: a 7-day campaign runs to completion and its final report is frozen — see
src/socap/simulator/scenarios/s08_final_report.py (and its "Interpretations": the spec's 1,250 engagements are
what SOCAP captured; its retweets / quotes / replies / likes are X's counters).

What the user sees: status "completed"; the final report (GET /api/v1/campaigns/{id}/report) with 1,250
engagements by 950 accounts, 45 high-importance, 25,000 likes, 1,800 retweets, 120 quotes, 330 replies, the
breakdowns with percentages, the top 20 engagers; 60 alerts, all before completion, none after, and the
completion summary once; no X call after the final poll; the report unchanged when data changes afterwards;
the dashboard and the API still answering.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

from socap.clock import parse_instant
from socap.importance import scoring
from socap.importance import seeds as seed_service
from socap.simulator.scenarios.s08_final_report import CAPTURED
from tests.e2e.harness import EMAIL
from tests.web.support import sign_in

TOP20 = [66, 63, 61, 58, 56, 53, 51, 49, 47, 45, 43, 41, 39, 37, 35, 33, 31, 29, 27, 25]


def test_s08_completion_freezes_the_final_report_with_the_specs_figures(system):
    began = time.monotonic()
    s = system("8")
    s.run_until(s.at("D7 H12"))
    assert s.get("")["status"] == "active"
    interim = s.get("report")
    assert interim["kind"] == "interim"

    campaign = s.finish()
    wall_to_completion = time.monotonic() - began
    assert campaign["status"] == "completed"
    report = s.get("report")
    assert report["kind"] == "final" and report["campaign"]["status"] == "completed"
    completed_at = parse_instant(report["campaign"]["completed_at"])
    assert s.end <= completed_at < s.end + timedelta(minutes=30)

    # ---- the spec's figures (captured engagements; X's counters for likes, retweets, quotes, replies)
    t = report["totals"]
    figures = {
        "engagements": t["engagements"]["value"], "unique_accounts": t["unique_accounts"]["value"],
        "high_importance_accounts": report["high_importance_accounts"], "likes": t["likes"]["value"],
        "retweets": t["retweet_count"]["value"], "quotes": t["quote_count"]["value"],
        "replies": t["reply_count"]["value"],
    }
    assert figures == {"engagements": 1250, "unique_accounts": 950, "high_importance_accounts": 45,
                       "likes": 25000, "retweets": 1800, "quotes": 120, "replies": 330}
    assert (t["retweets"]["value"], t["replies"]["value"], t["quotes"]["value"]) == (800, 330, 120)
    # … and they are the simulator's truth at the end of the window
    truth = s.truth(s.end)
    rows = [e for e in truth["engagements"] if e["direct"] and e["visible"]]
    importance = {a["id"]: a["importance"] for a in truth["accounts"]}
    x = Counter()
    for p in truth["posts"]:
        x.update(p["public_metrics"])
    assert (len(rows), len({r["account_id"] for r in rows})) == (1250, 950)
    assert sum(1 for a in {r["account_id"] for r in rows} if importance[a] >= 10) == 45
    assert (x["like_count"], x["retweet_count"], x["quote_count"], x["reply_count"]) == (25000, 1800, 120, 330)
    assert set(s.stored()) == s.capturable(s.end) and len(s.stored()) == 1250

    # ---- category breakdowns with percentages
    by_post_category = {c["category"]: c for c in report["post_categories"]}
    expected = Counter()
    for label, counts in CAPTURED.items():
        expected[label.rstrip("0123456789")] += sum(counts)
    assert {k: c["engagements"] for k, c in by_post_category.items()} == dict(expected)
    for c in by_post_category.values():
        assert c["share_of_engagements"] == round(c["engagements"] / 1250, 4)
    accounts = {share["name"]: (share["count"], share["percent"]) for share in report["account_categories"]}
    assert accounts == {"other": (675, 71.1), "developer": (180, 18.9), "founder": (30, 3.2),
                        "investor": (28, 2.9), "media": (25, 2.6), "vc": (12, 1.3)}
    assert [share["name"] for share in report["account_categories"]] == [
        "other", "developer", "founder", "investor", "media", "vc"]

    # ---- top 20 engagers, most important first, each with all their engagements
    top = report["top_engagers"]
    assert [e["importance"] for e in top] == TOP20
    assert [e["username"] for e in top[:5]] == ["northstar_vc", "harborpeak", "quillfounder", "maplecap",
                                                "ledgerdaily"]
    per_account = Counter(r["account_id"] for r in rows)
    assert all(len(e["engagements"]) == per_account[e["account_id"]] for e in top)
    assert [e["posts_engaged"] for e in top[:5]] == [4] * 5
    assert report["top_engager_line"] == "Top engager: @northstar_vc engaged with 4 posts"
    # the whole window's charts and timeline
    timeline = report["charts"]["timeline"]
    assert sum(b["retweets"] + b["replies"] + b["quotes"] for b in timeline) == 1250
    metrics = report["charts"]["metrics"]
    assert (parse_instant(metrics[0]["at"]), parse_instant(metrics[-1]["at"])) == (s.start, s.end)
    assert metrics[-1]["likes"] == 25000
    peak = parse_instant(report["peak_hour"]["hour"])
    assert s.start <= peak < s.at("D2 H0"), "engagement peaks on day 1 and decays after"

    # ---- alerts: 60, all delivered before completion; the summary once, at completion
    alerts = s.alerts()
    assert len(alerts) == 60 and all(m["at"] <= completed_at for m in alerts)
    assert len({m["headers"]["X-Idempotency-Key"] for m in alerts}) == 60
    assert report["alerts"] == {"sent": 60, "failed": 0, "cancelled": 0, "queued": 0}
    summary_text = s.summary_message()
    assert summary_text is not None and "1,250 engagements by 950 accounts (45 high-importance)" in summary_text
    assert "25,000 likes, 1,800 retweets, 120 quotes, 330 replies" in summary_text
    # @latecomer_vc retweeted 20 minutes after the end: not counted, no alert
    assert not any("latecomer_vc" in m["body"]["message"] for m in s.receiver.messages)
    assert "latecomer_vc" not in {e["username"] for e in s.get("engagements", min_importance=31)["rows"]}

    # ---- jobs stopped: no X call after the final poll, however long we wait
    final_poll = max(c["at"] for c in s.calllog.calls)
    assert final_poll <= completed_at
    received = len(s.receiver.messages)
    s.run_until(s.end + timedelta(days=1))
    s.calllog.collect()
    assert max(c["at"] for c in s.calllog.calls) == final_poll, "an X call after completion"
    assert len(s.receiver.messages) == received, "nothing sent after completion"

    # ---- the report is frozen: a seed re-weighted afterwards re-scores accounts, the report stays
    frozen = s.get("report")
    with s.rt.db.write() as session:
        # the seed that follows the most accounts: weighted 40, many ordinary engagers become "important"
        seed = max(seed_service.list_seeds(session, workspace_id=s.workspace_id),
                   key=lambda seed: (len(scoring.seed_followed(session, seed.id)), seed.username))
        rescored = seed_service.set_weight(session, workspace_id=s.workspace_id, username=seed.username, weight=40,
                                           now=s.now())
    assert rescored > 0
    live = s.get("summary")["totals"]["high_importance_accounts"]["value"]
    assert live != 45, "the live view follows the new scores"
    assert s.get("report") == frozen == report
    assert len(s.receiver.messages) == received, "re-scoring after completion alerts nobody"

    # ---- the dashboard and the API still answer
    assert s.get("summary")["totals"]["engagements"]["value"] == 1250
    assert s.get("engagements")["total"] == 1250
    assert s.get("charts")["timeline"]
    assert s.get("categories")["cards"]
    assert s.api.get(f"/campaigns/{s.campaign_id}/report.csv").status_code == 200
    browser = sign_in(s.web, EMAIL)
    try:
        page = browser.get(f"/campaigns/{s.campaign_id}")
        assert page.status_code == 200 and "completed" in page.text.lower()
        assert browser.get(f"/campaigns/{s.campaign_id}/report").status_code == 200
    finally:
        browser.close()
    s.headline("final_report", **figures, post_categories={k: c["engagements"] for k, c in by_post_category.items()},
               account_categories=accounts, top5=[(e["username"], e["importance"]) for e in top[:5]],
               alerts=len(alerts), peak_hour=peak, completed_at=completed_at, last_x_call=final_poll,
               high_importance_after_rescoring_live=live, wall_seconds_to_completion=round(wall_to_completion, 1),
               wall_seconds=round(time.monotonic() - began, 1))
