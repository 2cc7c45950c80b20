"""Scenario 5 (spec: "High-value account engages multiple tweets"): @topinvestor (importance 50) retweets the
main post, replies to the influencer post and quote-tweets the investor post, one per run, 30 minutes apart —
see src/socap/simulator/scenarios/s05_high_value_account.py (a one-day window; ordinary engagement around it)."""

from __future__ import annotations

from datetime import timedelta

RUNS = ["D1 H0", "D1 H0 M30", "D1 H1"]
HEADS = [
    "Investor @topinvestor (importance: 50) retweeted your main tweet",
    "Investor @topinvestor (importance: 50) replied to your influencer tweet",
    "Investor @topinvestor (importance: 50) quote-tweeted your investor tweet",
]
SEEN = [[("main", "retweet")], [("main", "retweet"), ("influencer1", "reply")],
        [("main", "retweet"), ("influencer1", "reply"), ("investor1", "quote")]]


def test_one_account_three_posts_three_runs(system):
    s = system("5")
    truth = s.truth(s.end)
    texts = {e["action"]: e["text"] for e in truth["engagements"] if e["username"] == "topinvestor"}
    for n, run in enumerate(RUNS):
        s.run_until(s.at(run) + timedelta(minutes=1))
        sent = s.alerts()
        # one alert per run, sent as the run's batch starts
        assert [m["body"]["message"].split(': "')[0] for m in sent] == HEADS[:n + 1]
        assert sent[-1]["at"] == s.at(run)
        # the engagement list: @topinvestor at the top, once per engagement so far
        rows = s.get("engagements")["rows"]
        mine = [r for r in rows if r["username"] == "topinvestor"]
        assert rows[:len(mine)] == mine and len(mine) == n + 1
        assert sorted(map(tuple, mine[0]["other_posts"])) == sorted(SEEN[n]) and mine[0]["posts_engaged"] == n + 1
    for m, action in zip(sent[1:], ("reply", "quote"), strict=True):
        quoted = m["body"]["message"].split(': "', 1)[1].rstrip('"')
        assert " ".join(texts[action].split()).startswith(quoted.rstrip("…")), (quoted, texts[action])

    # the dashboard: the account's drill-down shows the three engagements; the summary names the top engager
    account = s.get(f"accounts/{mine[0]['account_id']}")
    assert (account["importance"], account["account_category"]) == (50, "investor")
    assert [(e["post_label"], e["action"]) for e in account["engagements"]] == SEEN[2]
    interim = s.get("report")
    assert interim["kind"] == "interim"
    assert interim["top_engager_line"] == "Top engager: @topinvestor engaged with all 3 posts"

    s.finish()
    report = s.get("report")
    assert report["kind"] == "final"
    assert report["top_engager_line"] == "Top engager: @topinvestor engaged with all 3 posts"
    top = report["top_engagers"][0]
    assert (top["username"], top["importance"], top["posts_engaged"]) == ("topinvestor", 50, 3)
    assert [(e["post_label"], e["action"]) for e in top["engagements"]] == SEEN[2]
    assert len(s.alerts()) == 3, "nobody else reaches the threshold"
    stored = s.stored()
    assert len(stored) == len(set(stored)) and set(stored) == s.capturable(s.end)
    totals = report["totals"]
    s.headline("final", alerts=[m["body"]["message"] for m in s.alerts()],
               alert_times=[m["at"] for m in s.alerts()], top_engager_line=report["top_engager_line"],
               engagements=totals["engagements"]["value"], unique_accounts=totals["unique_accounts"]["value"],
               high_importance=report["high_importance_accounts"])
