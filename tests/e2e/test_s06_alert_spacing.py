"""Scenario 6 end to end: alert spacing and batching (5 posts, threshold 10, spacing 20 minutes).

Run 1 (10:00) finds 50 important engagements, run 2 (10:30) 30 more. What the user sees, at the receiver
(arrival times on the virtual clock): every alert's exact text, highest importance first within a batch, the
batch spread evenly over the 20-minute spacing window from its run's start, all of batch 1 delivered before
run 2, none overlapping.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from datetime import timedelta

from socap.clock import parse_instant

SPACING = timedelta(minutes=20)
TRAILING_LINK = re.compile(r"(?:\s*https?://t\.co/\S+)+\s*$")
WORD = {"vc": "VC", "investor": "Investor", "founder": "Founder", "media": "Media", "developer": "Developer"}
VERB = {"retweet": "retweeted", "reply": "replied to", "quote": "quote-tweeted"}


def expected_alerts(truth: dict, threshold: int, since=None) -> list[tuple[int, str]]:
    """(importance, text) for every engagement by an account at or above the threshold, in the spec's form."""
    accounts = {a["id"]: a for a in truth["accounts"]}
    posts = {p["id"]: p for p in truth["posts"]}
    out = []
    for e in truth["engagements"]:
        if not (e["direct"] and e["visible"]) or (since and parse_instant(e["engaged_at"]) <= since):
            continue
        who = accounts[e["account_id"]]
        if who["importance"] < threshold:
            continue
        text = (f"{WORD[who['category']]} @{who['username']} (importance: {who['importance']}) "
                f"{VERB[e['action']]} your {posts[e['post_id']]['category']} tweet")
        if e["action"] != "retweet":
            text += f': "{TRAILING_LINK.sub("", e["text"])}"'
        out.append((who["importance"], text))
    return out


def by_importance(pairs) -> dict[int, set[str]]:
    out: dict[int, set[str]] = defaultdict(set)
    for importance, text in pairs:
        out[importance].add(text)
    return dict(out)


def test_s06_two_batches_spread_over_20_minutes_highest_first_without_overlap(system):
    began = time.monotonic()
    s = system("6")
    start = s.start
    run2 = start + timedelta(minutes=30)
    s.run_until(start + timedelta(minutes=59))

    arrived = s.alerts()
    batch1 = [m for m in arrived if m["at"] < run2]
    batch2 = [m for m in arrived if m["at"] >= run2]
    assert (len(batch1), len(batch2)) == (50, 30)

    # exact texts: batch 1 is everything important before 10:00, batch 2 what came between 10:00 and 10:30
    truth1, truth2 = s.truth(at=start), s.truth(at=run2)
    want1 = expected_alerts(truth1, 10)
    want2 = expected_alerts(truth2, 10, since=start)
    assert (len(want1), len(want2)) == (50, 30)
    for batch, want in ((batch1, want1), (batch2, want2)):
        got = [m["body"]["message"] for m in batch]
        scores = [int(t.split("(importance: ")[1].split(")")[0]) for t in got]
        assert scores == sorted(scores, reverse=True), "highest importance first"
        assert by_importance(zip(scores, got, strict=True)) == by_importance(want)
        assert scores[0] == max(i for i, _ in want) and scores[-1] == min(i for i, _ in want)

    # times: slot i of N at run start + i × 20 min / N (the outbox ticks every 15 s)
    spreads = {}
    for batch, run_start in ((batch1, start), (batch2, run2)):
        n = len(batch)
        lags = [(m["at"] - (run_start + i * SPACING / n)).total_seconds() for i, m in enumerate(batch)]
        assert all(0 <= lag <= 15 for lag in lags), lags
        assert batch[0]["at"] - run_start <= timedelta(seconds=15)
        assert batch[-1]["at"] <= run_start + SPACING
        gaps = [(b["at"] - a["at"]).total_seconds() for a, b in zip(batch, batch[1:], strict=False)]
        spreads[n] = (min(gaps), max(gaps))
    assert batch1[-1]["at"] < batch2[0]["at"], "batch 1 is out before run 2's first alert"
    assert batch1[-1]["at"] < run2, "all of batch 1 before the next run"

    # each alert once (idempotency keys), and the API lists all 80 as sent at their slot
    keys = [m["headers"].get("X-Idempotency-Key") for m in arrived]
    assert all(keys) and len(set(keys)) == 80
    listed = [a for a in s.get("alerts") if a["kind"] == "engagement"]
    assert len(listed) == 80 and {a["status"] for a in listed} == {"sent"}
    assert sorted(a["message"] for a in listed) == sorted(m["body"]["message"] for m in arrived)
    arrival = {m["body"]["message"]: m["at"] for m in arrived}
    assert all(parse_instant(a["scheduled_send_at"]) == arrival[a["message"]] for a in listed), \
        "each alert arrived at its slot"
    s.headline(
        "alert_spacing", batch1=len(batch1), batch2=len(batch2),
        batch1_first=batch1[0]["at"], batch1_last=batch1[-1]["at"], batch2_first=batch2[0]["at"],
        batch2_last=batch2[-1]["at"], gap_seconds_batch1=spreads[50], gap_seconds_batch2=spreads[30],
        first_alert=batch1[0]["body"]["message"], wall_seconds=round(time.monotonic() - began, 1))
