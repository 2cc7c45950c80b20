"""Scenario 6 of the spec: alert spacing and batching (5 posts, threshold 10, spacing 20 minutes).

Run 1 (10:00) finds 50 new high-importance engagements — they happened in the hour before the campaign
started and the first run's backfill finds them. Run 2 (10:30) finds 30 more, made between 10:00 and
10:30. Every one of the 80 engaging accounts has an importance of 10 or more (distinct accounts, so each
engagement is one alert); ordinary accounts engage too and raise no alert.

Interpretations
---------------
- "Alerts continue arriving every 2-3 minutes" cannot hold with 50 alerts in 20 minutes: the spec's other
  promises (start at 10:00, last one by 10:20, all 50 sent before the next run) win, so run 1's alerts are
  24 s apart (20 min / 50) and run 2's 40 s apart (20 min / 30).
"""

from __future__ import annotations

from socap.simulator.builder import ScenarioBuilder
from socap.simulator.scenario import hours, minutes

NAME = "Alert spacing and batching (5 posts, 50 + 30 important engagements)"
DESCRIPTION = """
5 posts (1 main, 2 influencer, 2 investor), threshold 10, spacing 20 minutes. 50 important accounts
(importance 10-49) engage in the hour before the 10:00 start; 30 more between 10:00 and 10:30.
"""

FIRST_BATCH = 50
SECOND_BATCH = 30


def build(b: ScenarioBuilder) -> None:
    b.campaign("Alert spacing demo", start="2025-02-03T10:00:00Z", days=1, threshold=10, spacing_minutes=20)
    b.seeds({"investor": 20, "vc": 10, "founder": 10, "media": 5, "developer": 5})  # 50 seeds of weight 1
    brand = b.account("spacingco", name="Spacing Co", bio="We space things out.", followers=20_000)
    posts = [
        b.post("main", author=brand, text="Spacing Co is live", created=-hours(3), likes={hours(0): 120}),
        b.post("influencer", author=b.account("infl_one", name="Ines", bio="Tech creator."), text="Try it",
               created=-hours(3), likes={hours(0): 80}),
        b.post("influencer", author=b.account("infl_two", name="Theo", bio="Tech creator."), text="Neat",
               created=-hours(3), likes={hours(0): 60}),
        b.post("investor", author=b.account("inv_one", name="Iris", bio="Angel investor."), text="Backed it",
               created=-hours(3), likes={hours(0): 40}),
        b.post("investor", author=b.account("inv_two", name="Otto", bio="Angel investor."), text="Proud",
               created=-hours(3), likes={hours(0): 30}),
    ]
    actions = ("retweet", "reply", "quote")
    for i in range(FIRST_BATCH + SECOND_BATCH):
        # importance 10..49, spread so the ordering by importance is visible
        who = b.account(f"important{i:02d}", name=f"Important {i}", bio="Angel investor backing founders.",
                        category="investor", importance=10 + (i * 37) % 40)
        post = posts[i % len(posts)]
        if i < FIRST_BATCH:
            when = -minutes(59) + minutes(i)  # 09:01 … 09:50
        else:
            when = minutes(1) + minutes(i - FIRST_BATCH) * 27 / SECOND_BATCH  # 10:01 … 10:27
        action = actions[i % 3]
        if action == "retweet":
            b.retweet(post, by=who, at=when)
        elif action == "reply":
            b.reply(post, by=who, at=when, text=f"Congrats from important {i}!")
        else:
            b.quote(post, by=who, at=when, text=f"Worth a look, says important {i}")
    # ordinary engagement: no alerts
    for post in posts:
        b.retweets(post, 6, between=(-hours(2), minutes(25)))
