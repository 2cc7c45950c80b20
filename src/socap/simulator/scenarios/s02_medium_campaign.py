"""Scenario 2 of the spec: a medium campaign (10 posts, 7 days, threshold 15).

"Series A Announcement": Relay announces its Series A and follows up (2 main posts), five creators post
about it (5 influencer posts) and three of its investors do too (3 investor posts). Watched for 7 days from
Monday 2025-02-10 09:00 UTC; runs every 30 minutes (337 runs with the final one); alerts spread over 20
minutes. Only importance > 15 alerts.

Day 1, first run (D1 H0, the backfill) — 150 engagements by 150 accounts, all from the 6 hours before
the start, 8 of them by accounts of importance > 15. Eight alerts, slotted 2.5 minutes apart from D1 H0
(09:00, 09:02:30, … 09:17:30), highest importance first:

  1. Investor @priyaangel (importance: 41) retweeted your main tweet
  2. VC @northwind_gp (importance: 37) replied to your investor tweet: "…"
  3. Investor @marcusinvests (importance: 33) retweeted your main tweet
  4. Founder @devtoolsdan (importance: 29) quote-tweeted your influencer tweet: "…"
  5. Investor @elenaseeds (importance: 26) retweeted your main tweet
  6. VC @summitpartner (importance: 24) replied to your investor tweet: "…"
  7. Founder @shipfastsara (importance: 22) quote-tweeted your influencer tweet: "…"
  8. VC @lakeside_gp (importance: 18) replied to your investor tweet: "…"

Nothing new until D1 H6, so after the first 6 hours the engagement list still holds those 150 engagers.
D1 H6 → D2 H0: 40 more, a trickle.

Days 2-3 — the busy hours D2 H13 → H16 and D3 H13 → H16 (12 runs) bring 20-30 new engagements each
(22, 25, 28, 24, 30, 21 on day 2; 26, 23, 27, 29, 20, 25 on day 3): 300 in all. Four of those runs also bring
3, 5, 4 and 4 new high-importance engagers (D2 H14, D2 H15 M30, D3 H14, D3 H15 M30), so four alert batches;
the other runs of days 2-3 bring nothing. Total likes (10 posts summed): 500 at D2 H0, 1,200 at D3 H0,
2,500 at D4 H0.

Days 4-5 — the peak. Between D4 H14 M30 and D4 H15 influencer post 2 (@maxbuilds) goes viral: 200 new
retweeters, 15 of them of importance > 15, found by the run at D4 H15 as a delta (only the 200 new ones, in
3 list pages): 15 alerts over 20 minutes (80 s apart). Its likes jump by 1,500 in that hour.
@bigvc (an investor, importance 45) engages three posts, one run each: retweets main post 1 (D4 H2 M10), replies to
influencer post 1 (D4 H20 M10), quote-tweets investor post 1 (D5 H9 M10) — "Investor @bigvc engaged with 3
tweets". Three more important accounts engage once (D4 H8, D5 H3, D5 H16); 95 ordinary engagements.

Days 6-7 — decay: 35 ordinary engagements on day 6 and 22 on day 7, plus two important ones (D6 H11,
D7 H4).

Final report: 850 engagements by 848 unique accounts; 45 high-importance accounts (importance > 15, i.e.
at least 16: nobody scores exactly 15); 47 alerts (@bigvc's three engagements are three alerts).
Accounts by category: 12 investors (7 investors + 5 VCs), 8 founders, 25 developers, 8 media, 795 others.
The peak hour is the viral one (D4 H14).

Interpretations:

- "Steady growth: 20-30 new engagements per 30-minute run" on days 2-3 cannot hold for every run (96 runs
  would bring 1,900-2,900, against a final total of 850): it holds for the runs of the busy hours (12 runs,
  300 engagements); the other runs of days 2-3 find nothing.
- "Day 1 - First 6 Hours ... 150 total" is read as: the first run finds 150, and nothing more arrives
  before D1 H6.
- The final "Breakdown by category: 12 investors, 8 founders, 25 developers, 8 media, 797 others" adds up
  to 850, i.e. it assumes every engagement is by a different account, but @bigvc engages 3 tweets. The total
  of 850 engagements wins: 848 unique accounts, so 795 others (the other four figures hold). VCs count as
  investors, as in scenario 1 (SOCAP shows them as "vc": 5 and "investor": 7).
- "45 unique high-importance accounts (importance > 15)" with a threshold of 15: no engager scores exactly
  15, so "> 15" and SOCAP's "≥ threshold" select the same 45 accounts.
- "Likes growing from 500 → 1,200 → 2,500" (days 2-3) are the campaign's total likes at D2 H0, D3 H0 and
  the end of day 3.
"""

from __future__ import annotations

from socap.simulator.builder import ScenarioBuilder
from socap.simulator.scenario import at, days, hours, minutes
from socap.simulator.world import Keyframes

NAME = "Medium campaign (10 posts, 7 days)"
DESCRIPTION = """
"Series A Announcement": 2 main, 5 influencer and 3 investor posts for 7 days, threshold 15. Run 1 finds 150
engagements and 8 alerts; days 2-3 have busy hours of 20-30 engagements a run; on day 4 influencer post 2
gets 200 retweeters in one run (15 alerts); @bigvc engages 3 posts. 850 engagements, 45 important accounts.
"""

START = at("D1 H0")
END = at("D7 H24")
VIRAL_WINDOW = (at("D4 H14 M30"), at("D4 H15"))

LABELS = ["main1", "main2"] + [f"influencer{i}" for i in range(1, 6)] + [f"investor{i}" for i in range(1, 4)]
# Each post's share of the ordinary engagement and of the likes
WEIGHT = {"main1": 20, "main2": 9, "influencer1": 14, "influencer2": 12, "influencer3": 10, "influencer4": 8,
          "influencer5": 7, "investor1": 8, "investor2": 7, "investor3": 5}
ACTIONS = {"retweet": 65, "reply": 22, "quote": 13}  # the ordinary engagement's mix of actions
# Total likes over the 10 posts at D1 H0, D2 H0, … D7 H24 (without the viral post's extra)
LIKES = [300, 500, 1_200, 2_500, 3_000, 3_400, 3_700, 3_900]
VIRAL_EXTRA_LIKES = {at("D4 H14 M30"): 0, at("D4 H15 M30"): 1_500, at("D5 H0"): 1_700, END: 2_000}

BUSY_RUNS = [22, 25, 28, 24, 30, 21, 26, 23, 27, 29, 20, 25]  # new engagements per busy run (days 2-3)
# the high-importance accounts among them, per busy run: (category, importance) — none in the others
BUSY_IMPORTANT = {
    1: [("investor", 31), ("founder", 23), ("developer", 17)],
    4: [("vc", 48), ("founder", 36), ("media", 27), ("developer", 21), ("developer", 16)],
    7: [("investor", 39), ("founder", 28), ("developer", 20), ("other", 19)],
    10: [("media", 44), ("developer", 32), ("developer", 25), ("other", 18)],
}
VIRAL_IMPORTANT = [("investor", 49), ("founder", 47), ("founder", 43), ("media", 40), ("media", 38),
                   ("developer", 35), ("developer", 34), ("developer", 30), ("developer", 29), ("developer", 26),
                   ("developer", 24), ("developer", 22), ("other", 21), ("other", 19), ("other", 17)]
# (when, category, importance, action, post): single important engagements on days 4-7
LATER_IMPORTANT = [
    (at("D4 H8 M05"), "vc", 46, "retweet", "main2"),
    (at("D5 H3 M15"), "founder", 27, "quote", "influencer4"),
    (at("D5 H16 M40"), "media", 33, "reply", "main1"),
    (at("D6 H11 M20"), "developer", 20, "retweet", "influencer5"),
    (at("D7 H4 M45"), "developer", 16, "reply", "investor2"),
]


def split(total: int, weights: list[float]) -> list[int]:
    """``total`` cut into whole parts proportional to ``weights`` (largest remainders), summing to ``total``."""
    raw = [total * w / sum(weights) for w in weights]
    parts = [int(r) for r in raw]
    for i in sorted(range(len(raw)), key=lambda i: parts[i] - raw[i])[: total - sum(parts)]:
        parts[i] += 1
    return parts


def build(b: ScenarioBuilder) -> None:
    b.campaign("Series A Announcement", start="2025-02-10T09:00:00Z", days=7, threshold=15, spacing_minutes=20)

    # --- curated important accounts (the seed list) and people who never engage ----------------------
    b.seeds({"investor": 20, "vc": 15, "founder": 15, "media": 8, "developer": 12})  # 70 seeds of weight 1
    b.bystanders(200)

    # --- the campaign's posts (likes: each post's share of LIKES, plus the viral post's jump) ----------
    relay = b.account("relayhq", name="Relay", bio="Relay: realtime sync for mobile apps.", followers=41_000,
                      verified_type="business")
    creators = [("ninadev", "Nina Alvarez"), ("maxbuilds", "Max Turner"), ("appsbyomar", "Omar Haddad"),
                ("codewithlea", "Lea Novak"), ("shipitkai", "Kai Jensen")]
    backers = [("anna_angel", "Anna Weiss"), ("tomfundsit", "Tom Becker"), ("gracecapital", "Grace Lin")]
    authors = {"main1": relay, "main2": relay}
    for i, (username, name) in enumerate(creators, 1):
        authors[f"influencer{i}"] = b.account(username, name=name, bio="Mobile dev creator. Tutorials weekly.",
                                              followers=20_000 + 15_000 * i)
    for i, (username, name) in enumerate(backers, 1):
        authors[f"investor{i}"] = b.account(username, name=name, category="investor", followers=9_000 * i,
                                            bio="Angel investor. Backed Relay at seed.")
    texts = {"main1": "We raised a $15M Series A to make realtime sync boring. Here's what's next for Relay.",
             "main2": "Series A follow-up: we're hiring 12 engineers. Come build realtime with us."}
    texts |= {f"influencer{i}": f"Relay just raised. Why I use it in every app I build (part {i})."
              for i in range(1, 6)}
    texts |= {f"investor{i}": "Thrilled to back Relay again in their Series A." for i in range(1, 4)}
    day_marks = [START + days(d) for d in range(8)]  # D1 H0, D2 H0, … D7 H24
    per_post = [split(total, [WEIGHT[k] for k in LABELS]) for total in LIKES]
    posts = {}
    viral_extra = Keyframes([(b.when(t), v) for t, v in VIRAL_EXTRA_LIKES.items()])  # 0 before D4 H14 M30
    for n, label in enumerate(LABELS):
        likes = {t: per_post[d][n] for d, t in enumerate(day_marks)}
        if label == "influencer2":  # the viral post: its share of LIKES plus the jump of day 4
            share = Keyframes([(b.when(t), v) for t, v in likes.items()])
            likes = {t: share.at(b.when(t)) + viral_extra.at(b.when(t)) for t in [*likes, *VIRAL_EXTRA_LIKES]}
        posts[label] = b.post(label.rstrip("0123456789"), author=authors[label], text=texts[label],
                              created=START - hours(8) + minutes(10 * n), likes=likes)

    verbs = {"retweet": b.retweet, "reply": b.reply, "quote": b.quote}
    # everyone ordinary who engages, each once: 803 accounts (3 media, 10 developers, 790 others)
    pool = b.accounts(3, "media") + b.accounts(10, "developer") + b.accounts(790)
    b.rng.shuffle(pool)

    def ordinary(n: int, between: tuple, *, exclude: tuple | None = None) -> None:
        """``n`` ordinary engagements (fresh accounts, importance < 10) on random posts and actions."""
        people = pool[:n]
        del pool[:n]
        targets = b.rng.choices(LABELS, weights=[WEIGHT[k] for k in LABELS], k=n)
        actions = b.rng.choices(list(ACTIONS), weights=list(ACTIONS.values()), k=n)
        if exclude is None:
            moments = b.spread(n, between)
        else:  # two stretches around ``exclude``, in proportion to their lengths
            first = (between[0], exclude[0])
            second = (exclude[1], between[1])
            lengths = [(w[1] - w[0]).total_seconds() for w in (first, second)]
            k1, k2 = split(n, lengths)
            moments = b.spread(k1, first) + b.spread(k2, second)
        for person, label, action, moment in zip(people, targets, actions, moments, strict=True):
            verbs[action](posts[label], by=person, at=moment)

    # --- run 1: 150 engagements from before the start, 8 of them important ------------------------------
    first_eight = [
        ("priyaangel", "Priya Shah", "investor", 41, "Angel investor in mobile and devtools.", "retweet", "main1"),
        ("northwind_gp", "Ola Berg", "vc", 37, "General Partner at Northwind Ventures.", "reply", "investor1"),
        ("marcusinvests", "Marcus Hale", "investor", 33, "Seed investor. Backing technical founders.",
         "retweet", "main1"),
        ("devtoolsdan", "Dan Moreau", "founder", 29, "Founder & CEO of Buildkite-for-mobile.", "quote",
         "influencer1"),
        ("elenaseeds", "Elena Rossi", "investor", 26, "Angel investor in B2B SaaS.", "retweet", "main2"),
        ("summitpartner", "Jon Park", "vc", 24, "Partner at Summit Capital.", "reply", "investor2"),
        ("shipfastsara", "Sara Lind", "founder", 22, "Co-founder at Shipfast.", "quote", "influencer3"),
        ("lakeside_gp", "Ravi Menon", "vc", 18, "Managing Partner, Lakeside VC.", "reply", "investor3"),
    ]
    early = (START - hours(6), START - minutes(5))
    for (username, name, category, score, bio, action, label), moment in zip(
            first_eight, b.spread(len(first_eight), early), strict=True):
        person = b.account(username, name=name, category=category, importance=score, bio=bio,
                           verified_type="blue")
        verbs[action](posts[label], by=person, at=moment)
    ordinary(142, early)

    # --- D1 H6 → D2 H0: a trickle of 40 ---------------------------------------------------------------
    ordinary(40, (at("D1 H6"), at("D2 H0")))

    # --- days 2-3: busy hours H13 → H16, 20-30 new engagements a run, four alert batches -----------------
    busy_windows = [(at(f"D{d} H13") + minutes(30 * k), at(f"D{d} H13") + minutes(30 * (k + 1)))
                    for d in (2, 3) for k in range(6)]
    for k, (size, window) in enumerate(zip(BUSY_RUNS, busy_windows, strict=True)):
        inside = (window[0] + minutes(1), window[1] - minutes(1))
        for (category, score), moment in zip(BUSY_IMPORTANT.get(k, []),
                                             b.spread(len(BUSY_IMPORTANT.get(k, [])), inside), strict=True):
            person = b.accounts(1, category, importance=score)[0]
            action = b.rng.choice(list(ACTIONS))
            verbs[action](posts[b.rng.choice(LABELS)], by=person, at=moment)
        ordinary(size - len(BUSY_IMPORTANT.get(k, [])), inside)

    # --- days 4-5: @bigvc on three posts, the viral run, the peak ---------------------------------------
    bigvc = b.account("bigvc", name="Victor Grant", category="investor", importance=45, verified_type="blue",
                      bio="Investor at Granite Fund. Mobile infrastructure, seed to Series B.")
    b.retweet(posts["main1"], by=bigvc, at=at("D4 H2 M10"))
    b.reply(posts["influencer1"], by=bigvc, at=at("D4 H20 M10"), text="The sync engine is the real moat here.")
    b.quote(posts["investor1"], by=bigvc, at=at("D5 H9 M10"), text="Glad to be in this round.")

    viral = (VIRAL_WINDOW[0] + minutes(1), VIRAL_WINDOW[1] - minutes(1))
    fans = [b.accounts(1, category, importance=score)[0] for category, score in VIRAL_IMPORTANT] + pool[:185]
    del pool[:185]
    b.rng.shuffle(fans)
    b.retweets(posts["influencer2"], by=fans, between=viral)

    for moment, category, score, action, label in LATER_IMPORTANT:
        verbs[action](posts[label], by=b.accounts(1, category, importance=score)[0], at=moment)
    ordinary(95, (at("D4 H0"), at("D6 H0")), exclude=VIRAL_WINDOW)

    # --- days 6-7: decay ------------------------------------------------------------------------------
    ordinary(35, (at("D6 H0"), at("D7 H0")))
    ordinary(22, (at("D7 H0"), END - minutes(30)))
    assert not pool, f"{len(pool)} ordinary accounts left over"
