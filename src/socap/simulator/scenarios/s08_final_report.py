"""Scenario 8 of the spec: a 7-day campaign runs to completion and its final report is frozen.

"Atlas 3.0 Launch": Atlas's announcement and its follow-up (main), four creators' posts (influencer) and two
angels' posts (investor), 8 posts watched for 7 days from Monday 2025-09-01 15:00 UTC, threshold 10,
alerts spread over 20 minutes. Engagement is highest on day 1 and decays every day after: 4 % of it
happens in the 3 hours before the start (found by the first run's backfill: 50 engagements), then 32 %,
20 %, 15 %, 11 %, 8 %, 6 % and 4 % on days 1-7.

What the final report shows (the campaign completes at D7 H24, 2025-09-08 15:00 UTC):

- Total engagements **1,250** (retweets 800, replies 330, quotes 120: what SOCAP captured)
- Unique accounts **950** (245 accounts engage two posts, 20 engage three, @northstar_vc and four other top
  accounts four)
- High-importance accounts **45** (importance 11-66, threshold 10; the 20 highest all differ, so the
  "Top 20 engagers" list has one order: @northstar_vc 66, @harborpeak 63, @quillfounder 61, @maplecap 58,
  @ledgerdaily 56, then 53, 51, 49, …, 25)
- Total likes **25,000**, total retweets **1,800**, total quotes **120**, total replies **330**
  (X's counters, the eight posts summed, as of the final metrics poll at D7 H24)
- Account categories (unique accounts): other 675 (71.1 %), developer 180 (18.9 %), founder 30 (3.2 %),
  investor 28 (2.9 %), media 25 (2.6 %), vc 12 (1.3 %) — the spec's "investors" are investor + vc = 40
- Alerts: 60, one per engagement by a high-importance account (the five top accounts engage four posts
  each), all sent before the end; none in the last two hours of the window, so none is cancelled.

At D7 H24 + 20 min @latecomer_vc (importance 31) retweets the announcement: after the window, so it is not
counted, raises no alert, and no poll happens any more (the campaign is completed, its jobs stop).

Interpretations:

- The spec's "Total retweets 1,800, quotes 120, replies 330" add up to 2,250, not its "Total engagements
  1,250". They are read as X's public counters (like "Total likes", which SOCAP can only take from X), and
  the 1,250 as what SOCAP captured: X counts 1,000 retweets by protected accounts that it never lists to
  an app, so SOCAP stores 800 of the 1,800 retweets (coverage 44 % for retweets) and all 330 replies and
  120 quotes. "Unique accounts" and "high-importance accounts" are over the captured engagements.
- "High-importance accounts: 45" uses the campaign's threshold of 10 (importance ≥ 10); no engager scores
  exactly 10, so "> 10" gives the same 45.
- "Category breakdown with percentages" gives no numbers: the mix above is this scenario's.
- The spec gives no posts or threshold for this scenario: 8 posts (2 main, 4 influencer, 2 investor) and a
  threshold of 10 (scenario 1's) are this scenario's.
"""

from __future__ import annotations

from socap.simulator.builder import ScenarioBuilder
from socap.simulator.scenario import at, days, hours, minutes

NAME = "Completion and final report (8 posts, 7 days)"
DESCRIPTION = """
"Atlas 3.0 Launch": 2 main, 4 influencer and 2 investor posts for 7 days, threshold 10. The final report:
1,250 engagements by 950 accounts, 45 high-importance; X's counters 25,000 likes, 1,800 retweets (1,000 of
them by protected accounts X never lists), 120 quotes, 330 replies. A retweet after the end is not counted.
"""

START = at("D1 H0")
END = at("D7 H24")

# Captured engagements per post: (retweets, replies, quotes); 800 + 330 + 120 = 1,250
CAPTURED = {
    "main1": (200, 80, 30),
    "main2": (90, 40, 15),
    "influencer1": (160, 60, 25),
    "influencer2": (110, 45, 15),
    "influencer3": (80, 35, 12),
    "influencer4": (60, 30, 10),
    "investor1": (60, 25, 8),
    "investor2": (40, 15, 5),
}
# Retweets X counts but never lists (by protected accounts); 1,000 in all
UNLISTED = {"main1": 250, "main2": 110, "influencer1": 200, "influencer2": 140, "influencer3": 100,
            "influencer4": 75, "investor1": 75, "investor2": 50}
LIKES = {"main1": 7_000, "main2": 3_000, "influencer1": 5_500, "influencer2": 3_500, "influencer3": 2_200,
         "influencer4": 1_600, "investor1": 1_400, "investor2": 800}  # 25,000 at the end
# Share of the engagement that happens before the start (found by run 1) and on each of the 7 days
PERIOD_SHARE = (0.04, 0.32, 0.20, 0.15, 0.11, 0.08, 0.06, 0.04)
# Share of the final likes reached at the start and at the end of each day
LIKE_CURVE = (0.08, 0.40, 0.60, 0.72, 0.81, 0.88, 0.94, 1.0)

# The 45 high-importance accounts: the top 20 have distinct scores, the next 25 score 11-24
TOP_SCORES = [66, 63, 61, 58, 56, 53, 51, 49, 47, 45, 43, 41, 39, 37, 35, 33, 31, 29, 27, 25]
OTHER_SCORES = [24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 24, 22, 20, 18, 16, 14, 12, 11, 13, 15, 17]
# Their categories (in the order of the scores after the five named accounts): 12 VCs, 18 investors,
# 8 founders, 4 media, 3 developers in all
IMPORTANT_MIX = {"vc": 10, "investor": 17, "founder": 7, "media": 3, "developer": 3}  # + the five named
# Everyone else who engages (905 accounts): importance 0-9
ORDINARY_MIX = {"investor": 10, "founder": 22, "media": 21, "developer": 177, "other": 675}
TWICE, THRICE = 245, 20  # ordinary accounts engaging two / three different posts


def split(total: int, shares: tuple[float, ...]) -> list[int]:
    """``total`` cut into whole parts proportional to ``shares`` (largest remainders), summing to ``total``."""
    raw = [total * s / sum(shares) for s in shares]
    parts = [int(r) for r in raw]
    for i in sorted(range(len(raw)), key=lambda i: parts[i] - raw[i])[: total - sum(parts)]:
        parts[i] += 1
    return parts


def build(b: ScenarioBuilder) -> None:
    b.campaign("Atlas 3.0 Launch", start="2025-09-01T15:00:00Z", days=7, threshold=10, spacing_minutes=20)

    # --- curated important accounts (the seed list) and people who never engage ----------------------
    b.seeds({"investor": 20, "vc": 15, "founder": 15, "media": 10, "developer": 10})  # 70 seeds of weight 1
    b.bystanders(200)

    # --- the campaign's posts ------------------------------------------------------------------------
    atlas = b.account("atlasdb", name="Atlas", bio="Atlas: the database that scales with you.",
                      followers=92_000, verified_type="business")
    authors = {
        "main1": atlas,
        "main2": atlas,
        "influencer1": b.account("kiracodes", name="Kira Okafor", bio="I explain databases on YouTube.",
                                 followers=240_000, verified_type="blue"),
        "influencer2": b.account("dataduncan", name="Duncan Reyes", bio="Data engineering newsletter.",
                                 followers=88_000),
        "influencer3": b.account("ops_olivia", name="Olivia Byrne", bio="SRE stories, weekly.",
                                 followers=51_000),
        "influencer4": b.account("benchmarkben", name="Ben Larsen", bio="I benchmark things so you don't.",
                                 followers=33_000),
        "investor1": b.account("helena_angel", name="Helena Costa", category="investor", followers=27_000,
                               bio="Angel investor. Early backer of Atlas."),
        "investor2": b.account("rajinvests", name="Raj Patel", category="investor", followers=14_000,
                               bio="Seed investor in infrastructure startups."),
    }
    texts = {
        "main1": "Atlas 3.0 is here: serverless branches, 4x faster writes, same price.",
        "main2": "Atlas 3.0 deep dive: how we made writes 4x faster (thread).",
        "influencer1": "I moved my side project to Atlas 3.0. Here's the 10-minute migration.",
        "influencer2": "Atlas 3.0's branching is the feature I didn't know I needed.",
        "influencer3": "Ran Atlas 3.0 under a week of prod traffic. Notes inside.",
        "influencer4": "Benchmarks: Atlas 3.0 vs the usual suspects.",
        "investor1": "Proud to have backed Atlas since the first commit. 3.0 is a milestone.",
        "investor2": "Atlas 3.0 ships. Great team, great execution.",
    }
    day_ends = [START] + [START + days(d) for d in range(1, 8)]
    posts = {}
    for n, (label, author) in enumerate(authors.items()):
        final = LIKES[label]
        posts[label] = b.post(
            label.rstrip("0123456789"), author=author, text=texts[label],
            created=START - hours(5) + minutes(15 * n),
            likes={t: round(final * share) for t, share in zip(day_ends, LIKE_CURVE, strict=True)},
        )

    # --- when engagement happens: before the start, then day by day, fading -----------------------------
    periods = [(START - hours(3), START - minutes(1))]
    periods += [(START + days(d), START + days(d + 1) - (minutes(10) if d == 6 else minutes(0)))
                for d in range(7)]

    def moments(n: int) -> list:
        """``n`` instants spread over the periods in PERIOD_SHARE proportions."""
        out = []
        for count, window in zip(split(n, PERIOD_SHARE), periods, strict=True):
            out += b.spread(count, window) if count else []
        return out

    # every captured engagement as (post, action, instant), the 1,250 of them
    slots = []
    for label, counts in CAPTURED.items():
        for action, n in zip(("retweet", "reply", "quote"), counts, strict=True):
            slots += [(label, action, t) for t in moments(n)]
    b.rng.shuffle(slots)

    # --- who engages ----------------------------------------------------------------------------------
    named = [
        b.account("northstar_vc", name="Northstar Ventures", category="vc", importance=66, verified_type="blue",
                  bio="General Partner at Northstar Ventures. Infra and databases."),
        b.account("harborpeak", name="Mara Quinn", category="investor", importance=63,
                  bio="Angel investor in developer infrastructure."),
        b.account("quillfounder", name="Sam Quill", category="founder", importance=61,
                  bio="Founder & CEO of Quillstack."),
        b.account("maplecap", name="Maple Capital", category="vc", importance=58,
                  bio="Partner at Maple Capital. Seed to Series B."),
        b.account("ledgerdaily", name="Ledger Daily", category="media", importance=56, verified_type="business",
                  bio="Editor at Ledger Daily, covering startups and infrastructure."),
    ]
    scores = TOP_SCORES[5:] + OTHER_SCORES
    b.rng.shuffle(scores)
    important = list(named)
    for category, n in IMPORTANT_MIX.items():
        important += b.accounts(n, category, importance=[scores.pop() for _ in range(n)])
    ordinary = []
    for category, n in ORDINARY_MIX.items():
        ordinary += b.accounts(n, category)
    b.rng.shuffle(ordinary)

    # each person's number of engagements (different posts each time): the five named top accounts 4,
    # the other 40 important ones 1; 20 ordinary accounts 3, 245 ordinary accounts 2, the rest 1
    plan = [(a, 4) for a in named] + [(a, 1) for a in important[5:]]
    plan += [(a, 3) for a in ordinary[:THRICE]] + [(a, 2) for a in ordinary[THRICE:THRICE + TWICE]]
    plan += [(a, 1) for a in ordinary[THRICE + TWICE:]]
    quiet_end = b.when(END - hours(2))  # no important engagement in the last two hours: every alert is sent
    important_ids = {a.id for a in important}
    verbs = {"retweet": b.retweet, "reply": b.reply, "quote": b.quote}
    for person, count in plan:
        chosen, posts_taken = [], set()
        for i, (label, _action, t) in enumerate(slots):
            if label in posts_taken or (person.id in important_ids and t >= quiet_end):
                continue
            chosen.append(i)
            posts_taken.add(label)
            if len(chosen) == count:
                break
        for i in reversed(chosen):
            label, action, t = slots.pop(i)
            verbs[action](posts[label], by=person, at=t)
    assert not slots, "every captured engagement has its account"

    # --- retweets X counts but never lists: 1,000 by protected accounts -----------------------------------
    for label, n in UNLISTED.items():
        for t, person in zip(moments(n), b.accounts(n, state="protected"), strict=True):
            b.retweet(posts[label], by=person, at=t)

    # --- after the window: not counted, no alert, no poll -------------------------------------------------
    late = b.account("latecomer_vc", name="Lena Berg", category="vc", importance=31,
                     bio="Partner at Granite Ventures.")
    b.retweet(posts["main1"], by=late, at=END + minutes(20))
