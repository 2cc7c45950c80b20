"""Scenario 10 of the spec: real-time updates (3 posts, 1 day, threshold 10).

"Launch Week Live": Orbitly's launch post (main), a creator's post (influencer) and an angel's post
(investor), watched for one day from Tuesday 2025-05-06 13:00 UTC with the dashboard open. Runs every 30
minutes: D1 H0, H0 M30, H1, H1 M30, …

The moment the scenario is about:

- at **D1 H1 M07** @mayareports (media, importance 12) retweets the main post, and at D1 H1 M12 an ordinary
  developer replies to the influencer post. Nothing else happens between the runs
  at D1 H1 and D1 H1 M30.
- the run at **D1 H1 M30** finds both: 23 minutes after the retweet, inside the promised "one poll interval
  plus 60 s" (30 min + 60 s = visible by D1 H1 M38 at the latest). The campaign's data version changes, so the
  dashboard's next refresh (every 60 s) shows the two new engagers, and the alert
  "Media @mayareports (importance: 12) retweeted your main tweet" goes out at D1 H1 M30 (the only alert of
  that run, so the first slot).
- total likes (the three posts summed) are **1,000** from D1 H0 M50 to D1 H1 M10 and **1,050** from
  D1 H1 M20 to D1 H1 M40: the run at H1 records 1,000 and the run at H1 M30 records 1,050 ("Total likes:
  1,000 → 1,050 (new 50 likes)") even if a run starts a few minutes late.

Engagements: 20 before the start (found by run 1), 26 by the D1 H1 run, 28 by the D1 H1 M30 run, 60 by the
end, each by a different account. @mayareports is the only account at or above the threshold, so the only
alert.

Interpretations:

- "You see updates within 1-2 minutes of engagement happening" cannot hold for a poller that asks X every 30
  minutes; the issue's measurable promise is used instead: an engagement is visible through the API within
  one poll interval plus 60 s of happening (here 23 minutes), and the data version changes with it.
- "Total likes: 1,000 → 1,050" is the campaign total across the three posts between two consecutive runs
  (D1 H1 and D1 H1 M30), held flat around each run so the numbers do not depend on the exact second a run
  starts.
"""

from __future__ import annotations

from socap.simulator.builder import ScenarioBuilder
from socap.simulator.scenario import at, hours, minutes

NAME = "Real-time updates (3 posts, 1 day)"
DESCRIPTION = """
"Launch Week Live": 1 main, 1 influencer and 1 investor post, threshold 10. @mayareports (media, importance 12)
retweets the main post at D1 H1 M07; the run at D1 H1 M30 shows it (23 minutes later) with its alert. Total
likes 1,000 at the D1 H1 run, 1,050 at the D1 H1 M30 run. 60 engagements by the end.
"""

START = at("D1 H0")
END = at("D1 H24")
RETWEET_AT = at("D1 H1 M07")  # @mayareports retweets the main post
SEEN_BY = at("D1 H1 M30")  # the run that finds it


def build(b: ScenarioBuilder) -> None:
    b.campaign("Launch Week Live", start="2025-05-06T13:00:00Z", days=1, threshold=10, spacing_minutes=20)

    # --- curated important accounts (the seed list) and people who never engage ----------------------
    b.seeds({"investor": 8, "vc": 6, "founder": 8, "media": 6, "developer": 6})  # 34 seeds of weight 1
    b.bystanders(100)

    # --- the campaign's posts: likes 1,000 in total around the D1 H1 run, 1,050 around the H1 M30 run -----
    orbitly = b.account("orbitlyhq", name="Orbitly", bio="Orbitly: status pages your users actually read.",
                        followers=26_000, verified_type="business")
    tomas = b.account("tomasships", name="Tomas Ruiz", bio="I build in public and review dev tools.",
                      followers=64_000, verified_type="blue")
    june = b.account("juneangel", name="June Park", category="investor", followers=9_800,
                     bio="Angel investor. Backed Orbitly at pre-seed.")
    # plateaus around the two runs (H0 M50-H1 M10 and H1 M20-H1 M40), linear growth elsewhere
    main = b.post("main", author=orbitly, created=START - hours(3),
                  text="Orbitly is live: status pages your users actually read.",
                  likes={START: 480, at("D1 H0 M50"): 600, at("D1 H1 M10"): 600, at("D1 H1 M20"): 630,
                         at("D1 H1 M40"): 630, END: 1_400})
    influencer = b.post("influencer", author=tomas, created=START - hours(2),
                        text="Switched our status page to Orbitly this morning. Two-minute setup.",
                        likes={START: 230, at("D1 H0 M50"): 300, at("D1 H1 M10"): 300, at("D1 H1 M20"): 315,
                               at("D1 H1 M40"): 315, END: 700})
    investor = b.post("investor", author=june, created=START - hours(2),
                      text="Proud to be an early Orbitly backer. Go team!",
                      likes={START: 80, at("D1 H0 M50"): 100, at("D1 H1 M10"): 100, at("D1 H1 M20"): 105,
                             at("D1 H1 M40"): 105, END: 240})

    # --- before the start: 20 engagements (run 1) -------------------------------------------------------
    before = (START - hours(2), START - minutes(5))
    b.retweets(main, 8, between=before)
    b.replies(main, 3, between=before)
    b.retweets(influencer, 5, category="developer", between=before)
    b.quotes(influencer, 1, between=before)
    b.retweets(investor, 3, between=before)

    # --- D1 H0 .. H1: 6 more --------------------------------------------------------------------------
    first_hour = (START + minutes(2), at("D1 H0 M58"))
    b.retweets(main, 3, between=first_hour)
    b.replies(influencer, 2, between=first_hour)
    b.retweets(investor, 1, between=first_hour)

    # --- between the D1 H1 and D1 H1 M30 runs: the retweet the scenario is about, and one reply ---------
    maya = b.account("mayareports", name="Maya Lind", category="media", importance=12,
                     verified_type="blue", bio="Tech reporter at StartupBeat covering developer tools.")
    b.retweet(main, by=maya, at=RETWEET_AT)
    b.reply(influencer, by=b.accounts(1, "developer")[0], at=at("D1 H1 M12"),
            text="Setting this up for our team today.")

    # --- the rest of the day: 32 more ------------------------------------------------------------------
    rest = (SEEN_BY + minutes(2), END - minutes(30))
    b.retweets(main, 12, between=rest)
    b.quotes(main, 2, between=rest)
    b.replies(main, 3, between=rest)
    b.retweets(influencer, 8, category="developer", between=rest)
    b.replies(influencer, 2, between=rest)
    b.retweets(investor, 4, between=rest)
    b.quotes(investor, 1, between=rest)
